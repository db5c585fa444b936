//! Running the pipeline: discover, read in parallel, merge, deduplicate, then correlate.
//!
//! Files are read on rayon's pool (chunks of each EVTX file too), and their outputs merged in
//! path order, so the result is the same bytes whatever the thread count. Events are then put in
//! time order (ties broken by computer, input and position) and records seen twice, such as the
//! same log copied into two folders of a collection, are kept once.

use std::collections::HashSet;
use std::path::PathBuf;

use rayon::prelude::*;

use crate::attribute::{self, AllowList};
use crate::discover;
use crate::event::Event;
use crate::kql::{self, KqlConfig, KqlRow};
use crate::lifecycle::{self, LifecycleConfig, LifecycleReport, Verdict};
use crate::read::{ReadOptions, ReadStats, Selection, Warning};

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
pub fn hunt(paths: &[PathBuf], config: &HuntConfig) -> HuntOutcome {
    let mut read = config.read.clone();
    read.selection = match config.semantics {
        Semantics::Lifecycle => Selection::only(lifecycle::WANTED_EVENT_IDS.iter().copied()),
        Semantics::Kql => Selection::only(kql::WANTED_EVENT_IDS.iter().copied()),
    };
    let collection = collect(paths, &read);
    let answer = match config.semantics {
        Semantics::Lifecycle => {
            let mut report = lifecycle::correlate(&collection.events, &config.lifecycle);
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
        Semantics::Kql => Answer::Kql(kql::run(&collection.events, &config.kql)),
    };
    HuntOutcome {
        answer,
        warnings: collection.warnings,
        stats: collection.stats,
    }
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
}

/// Discover and read every input under `paths`.
pub fn collect(paths: &[PathBuf], opts: &ReadOptions) -> Collection {
    let found = discover::discover(paths);
    let outputs: Vec<_> = found
        .files
        .par_iter()
        .map(|p| discover::read_file(p, opts))
        .collect();

    let mut c = Collection {
        warnings: found.warnings,
        ..Collection::default()
    };
    let mut naive = false;
    for out in outputs {
        c.events.extend(out.events);
        c.warnings.extend(out.warnings);
        c.stats.merge(&out.stats);
        naive |= out.used_naive_times;
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
    order_and_dedup(&mut c);
    c
}

fn order_and_dedup(c: &mut Collection) {
    c.events
        .sort_by(|a, b| (a.time, &a.computer, &a.origin).cmp(&(b.time, &b.computer, &b.origin)));
    let mut seen = HashSet::with_capacity(c.events.len());
    let before = c.events.len();
    c.events.retain(|e| seen.insert(e.identity()));
    c.stats.duplicates += (before - c.events.len()) as u64;
}
