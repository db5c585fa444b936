//! Running the pipeline: discover, read in parallel, merge, deduplicate, then correlate.
//!
//! Files are read on rayon's pool (chunks of each EVTX file too), and their outputs merged in
//! path order, so the result is the same bytes whatever the thread count. Events are then put in
//! time order (ties broken by computer, input and position) and records seen twice, such as the
//! same log copied into two folders of a collection, are kept once.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use crate::attribute::{self, AllowList};
use crate::discover;
use crate::event::{Census, Event};
use crate::kql::{self, KqlConfig, KqlRow};
use crate::lifecycle::{self, LifecycleConfig, LifecycleReport, Verdict};
use crate::read::{NeedleMap, ReadOptions, ReadStats, Selection, Warning};

/// Which question a hunt answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Semantics {
    /// One finding per service creation with its whole life (the default).
    #[default]
    Lifecycle,
    /// The seed Sentinel query's answer, exactly.
    Kql,
}

/// Everything a hunt needs besides its paths.
#[derive(Debug, Clone, Default)]
pub struct HuntConfig {
    /// Which semantics.
    pub semantics: Semantics,
    /// Lifecycle windows.
    pub lifecycle: LifecycleConfig,
    /// Seed-query windows.
    pub kql: KqlConfig,
    /// Reader options (the selection is set from the semantics).
    pub read: ReadOptions,
    /// Keep benign findings too.
    pub include_benign: bool,
    /// The analyst's allow-list.
    pub allow: Option<AllowList>,
    /// Told how reading advances (a progress bar).
    pub progress: Option<Arc<dyn Progress>>,
}

/// Hears how reading advances, for a progress display.
pub trait Progress: Send + Sync {
    /// A pass over `files` inputs holding `bytes` bytes begins.
    fn begin(&self, pass: &str, files: usize, bytes: u64);
    /// One input of `bytes` bytes was read.
    fn advance(&self, bytes: u64);
}

impl std::fmt::Debug for dyn Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// What a hunt found.
#[derive(Debug)]
pub enum Answer {
    /// Lifecycle findings and coverage.
    Lifecycle(LifecycleReport),
    /// Seed-query rows.
    Kql(Vec<KqlRow>),
}

/// A hunt's answer plus what reading it cost.
#[derive(Debug)]
pub struct HuntOutcome {
    /// The findings.
    pub answer: Answer,
    /// Located warnings from reading.
    pub warnings: Vec<Warning>,
    /// Reading counts.
    pub stats: ReadStats,
}

/// Run a whole hunt over `paths`.
///
/// Both semantics read in two passes: first the rare events that anchor a finding (service
/// installs; for the seed query its 7045s and 4674s), then only the records that name what the
/// first pass found. See [`lifecycle::interest`].
pub fn hunt(paths: &[PathBuf], config: &HuntConfig) -> HuntOutcome {
    let collection = match config.semantics {
        Semantics::Lifecycle => two_passes(
            paths,
            &config.read,
            config.progress.as_deref(),
            (lifecycle::interest::CREATION_EVENT_IDS, None),
            lifecycle::interest::EVIDENCE_EVENT_IDS,
            lifecycle::interest::evidence_needles,
            lifecycle::interest::fields(),
        ),
        Semantics::Kql => two_passes(
            paths,
            &config.read,
            config.progress.as_deref(),
            (kql::SEED_EVENT_IDS, None),
            kql::ACCOUNT_EVENT_IDS,
            kql::account_needles,
            kql::fields(),
        ),
    };
    let mut warnings = collection.warnings;
    let answer = match config.semantics {
        Semantics::Lifecycle => {
            let mut report = lifecycle::correlate(&collection.events, &config.lifecycle);
            report.coverage = lifecycle::coverage_from_census(&collection.census);
            attribute::attribute(&mut report, &collection.events);
            if let Some(allow) = &config.allow {
                allow.apply(&mut report.findings);
            }
            if !config.include_benign {
                report.findings.retain(|f| f.verdict != Verdict::Benign);
                let kept: HashSet<&str> = report
                    .findings
                    .iter()
                    .filter_map(|f| f.campaign.as_deref())
                    .collect();
                report.campaigns.retain(|c| kept.contains(c.id.as_str()));
            }
            Answer::Lifecycle(report)
        }
        Semantics::Kql => {
            warnings.extend(
                kql::unread_notes(&collection.events)
                    .into_iter()
                    .map(|message| Warning {
                        file: "(run)".into(),
                        location: String::new(),
                        message,
                    }),
            );
            Answer::Kql(kql::run(&collection.events, &config.kql))
        }
    };
    HuntOutcome {
        answer,
        warnings,
        stats: collection.stats,
    }
}

/// The first pass's event ids and its needles.
type FirstPass<'a> = (&'a [u32], Option<Arc<NeedleMap>>);

/// Read `first`, derive needles from what it found, then read `second` filtered by them, and
/// merge both into one collection (stats and warnings counted once per input).
fn two_passes(
    paths: &[PathBuf],
    base: &ReadOptions,
    progress: Option<&dyn Progress>,
    first: FirstPass<'_>,
    second_ids: &[u32],
    needles_from: impl Fn(&[Event]) -> Arc<NeedleMap>,
    fields: Arc<crate::read::FieldMap>,
) -> Collection {
    let (first_ids, first_needles) = first;
    let fields = Some(fields);
    let pass1 = ReadOptions {
        selection: Selection::only(first_ids.iter().copied()),
        needles: first_needles,
        fields: fields.clone(),
        ..base.clone()
    };
    let anchors = collect_with(paths, &pass1, progress.map(|p| ("installs", p)));
    let pass2 = ReadOptions {
        selection: Selection::only(second_ids.iter().copied()),
        needles: Some(needles_from(&anchors.events)),
        fields,
        ..base.clone()
    };
    let evidence = collect_with(paths, &pass2, progress.map(|p| ("evidence", p)));

    // Both passes read every input: count inputs and records once, selections from both.
    let mut stats = evidence.stats;
    stats.records_selected += anchors.stats.records_selected;
    stats.duplicates += anchors.stats.duplicates;
    let mut warnings = anchors.warnings;
    warnings.extend(evidence.warnings);
    let mut seen = HashSet::new();
    warnings.retain(|w| seen.insert(w.clone()));
    let mut census = anchors.census;
    for (k, ids) in evidence.census {
        census.entry(k).or_default().extend(ids);
    }
    let mut events = anchors.events;
    events.reserve_exact(evidence.events.len());
    let mut merged = Collection {
        events,
        warnings,
        stats,
        census,
    };
    merged.events.extend(evidence.events);
    // An event both passes kept (a Sysmon ImagePath write naming a found key) is one event.
    order_and_dedup(&mut merged.events);
    merged
}

/// Everything the reading stage produced for a run.
#[derive(Debug, Default)]
pub struct Collection {
    /// The selected events, in time order, each once.
    pub events: Vec<Event>,
    /// Every located warning, in input order.
    pub warnings: Vec<Warning>,
    /// Counts over all inputs.
    pub stats: ReadStats,
    /// Which event ids each host's logs hold (see [`Census`]).
    pub census: Census,
}

/// Discover and read every input under `paths`.
pub fn collect(paths: &[PathBuf], opts: &ReadOptions) -> Collection {
    collect_with(paths, opts, None)
}

/// [`collect`], telling `progress` (with the pass's name) as inputs are read.
pub fn collect_with(
    paths: &[PathBuf],
    opts: &ReadOptions,
    progress: Option<(&str, &dyn Progress)>,
) -> Collection {
    let found = discover::discover(paths);
    let size = |p: &PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
    if let Some((pass, progress)) = progress {
        progress.begin(pass, found.files.len(), found.files.iter().map(size).sum());
    }
    let outputs: Vec<_> = found
        .files
        .par_iter()
        .map(|p| {
            let out = discover::read_file(p, opts);
            if let Some((_, progress)) = progress {
                progress.advance(size(p));
            }
            out
        })
        .collect();

    let mut c = Collection {
        warnings: found.warnings,
        ..Collection::default()
    };
    let mut naive = false;
    // Reserved exactly: the kept events are most of a hunt's memory, and a doubling vector
    // would hold up to twice them while the per-file outputs are moved in.
    c.events
        .reserve_exact(outputs.iter().map(|o| o.events.len()).sum());
    for out in outputs {
        c.events.extend(out.events);
        c.warnings.extend(out.warnings);
        c.stats.merge(&out.stats);
        naive |= out.used_naive_times;
        for (k, ids) in out.census {
            c.census.entry(k).or_default().extend(ids);
        }
    }
    if naive {
        c.warnings.push(Warning {
            file: "(run)".into(),
            location: String::new(),
            message: format!(
                "some inputs carry local times without a zone (NXLog EventTime); they were read as {} \
                 (set --local-tz to the hosts' zone if that is wrong)",
                opts.naive_time_zone.iana_name().unwrap_or("the given zone")
            ),
        });
    }
    c.stats.duplicates += order_and_dedup(&mut c.events);
    c
}

/// Put events in time order (ties by computer and origin) and keep each record once; returns
/// how many copies were dropped.
fn order_and_dedup(events: &mut Vec<Event>) -> u64 {
    // Unstable sort: no buffer of half the events; the key (ending with the record's origin) is
    // unique, so the order is still fully determined.
    events.sort_unstable_by(|a, b| {
        (a.time, &a.computer, &a.origin).cmp(&(b.time, &b.computer, &b.origin))
    });
    let mut seen = HashSet::with_capacity(events.len());
    let before = events.len();
    events.retain(|e| seen.insert(e.identity()));
    (before - events.len()) as u64
}
