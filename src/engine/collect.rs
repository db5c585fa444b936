//! Reading many inputs: discover them, read each on rayon's pool, merge in path order.
//!
//! Files are read in parallel (chunks of each EVTX file too), and their outputs merged in the
//! order discovery gives, so the result is the same bytes whatever the thread count. Events are
//! then put in time order and records seen twice, such as the same log copied into two folders
//! of a collection, are kept once.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use super::Progress;
use super::compact::{self, Compact, Interner};
use crate::accounts::AccountSightings;
use crate::discover;
use crate::event::{Census, Event, order_and_dedup};
use crate::read::evtx::SkipChunks;
use crate::read::{FileOutput, Later, ReadOptions, ReadStats, Warning, evtx_onepass};
use crate::select::ReadPlan;

/// Everything the reading stage produced for a run.
#[derive(Debug, Default)]
pub struct Collection {
    /// The kept events, in time order, each once (when held as events).
    pub events: Vec<Event>,
    /// The kept events held compactly instead, in the same order (see [`Holding::Compact`]).
    pub(super) held: Vec<Compact>,
    /// Every located warning, in input order.
    pub warnings: Vec<Warning>,
    /// Counts over all inputs.
    pub stats: ReadStats,
    /// Which event ids each host's logs hold among those looked at (see [`Census`]).
    pub census: Census,
    /// The account sightings of the events read only for the accounts they name, each record
    /// once (see [`ReadPlan::tallied`]).
    pub(crate) accounts: AccountSightings,
}

/// How a collection holds the events it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Holding {
    /// As [`Event`]s, in [`Collection::events`].
    Events,
    /// Compactly (a third of the memory), in [`Collection::held`]: for a hunt, which makes
    /// events of them again as it reads them (a host at a time, or one at a time).
    Compact,
}

/// Discover and read every input under `paths` with `opts`, telling `progress` (with the
/// pass's name) as inputs are read.
pub fn collect(
    paths: &[PathBuf],
    opts: &ReadOptions,
    progress: Option<(&str, &dyn Progress)>,
) -> Collection {
    collect_holding(paths, opts, progress, Holding::Events)
}

/// [`collect`], holding the events as `holding` says.
fn collect_holding(
    paths: &[PathBuf],
    opts: &ReadOptions,
    progress: Option<(&str, &dyn Progress)>,
    holding: Holding,
) -> Collection {
    let found = discover::discover(paths);
    let events = Sink::new(holding);
    let outputs = read_all(&found.files, progress, |_, p| {
        events.take(discover::read_file(p, opts))
    });
    assemble(found.warnings, outputs, events, opts)
}

/// Where every input's kept events (and account sightings) go as soon as it is read, in
/// whatever order inputs end.
///
/// The kept events are most of a hunt's memory; the sightings, of the seed query's. Moved here
/// one input at a time, they are held once, in one block that grows in place, instead of in
/// every input's own vector until all are read and then again in the whole's; compacted, if so
/// asked, before they are. Their order does not matter: [`assemble`] puts them in a total
/// order.
struct Sink {
    holding: Holding,
    held: std::sync::Mutex<Held>,
}

/// What a sink holds: the events, as events or compactly, and the account sightings (which,
/// like the events, count alike whatever order the inputs end in).
#[derive(Default)]
struct Held {
    events: Vec<Event>,
    compact: Vec<Compact>,
    accounts: AccountSightings,
}

impl Sink {
    fn new(holding: Holding) -> Self {
        Sink {
            holding,
            held: std::sync::Mutex::new(Held::default()),
        }
    }

    /// `out` without its events and account sightings, which are now the sink's.
    fn take(&self, mut out: FileOutput) -> FileOutput {
        let mut events = std::mem::take(&mut out.events);
        // Compacted before the lock is taken; the input's events share their shapes.
        let mut compact = match self.holding {
            Holding::Events => Vec::new(),
            Holding::Compact => compact_all(std::mem::take(&mut events)),
        };
        let accounts = std::mem::take(&mut out.accounts);
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        held.events.append(&mut events);
        held.compact.append(&mut compact);
        held.accounts.absorb(accounts);
        out
    }

    fn into_held(self) -> (Holding, Held) {
        let held = self
            .held
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (self.holding, held)
    }
}

/// `events` held compactly, those alike in shape sharing it.
fn compact_all(events: Vec<Event>) -> Vec<Compact> {
    let mut interner = Interner::default();
    events
        .into_iter()
        .map(|e| Compact::new(e, &mut interner))
        .collect()
}

/// Read every file with `read` (given its place and path), in parallel, in order.
fn read_all(
    files: &[PathBuf],
    progress: Option<(&str, &dyn Progress)>,
    read: impl Fn(usize, &PathBuf) -> FileOutput + Sync,
) -> Vec<FileOutput> {
    let size = |p: &PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
    if let Some((pass, progress)) = progress {
        progress.begin(pass, files.len(), files.iter().map(size).sum());
    }
    files
        .par_iter()
        .enumerate()
        .map(|(i, p)| {
            let out = read(i, p);
            if let Some((_, progress)) = progress {
                progress.advance(size(p));
            }
            out
        })
        .collect()
}

/// The warning a run gives when it read naive local times.
fn naive_warning(opts: &ReadOptions) -> Warning {
    Warning {
        file: "(run)".into(),
        location: String::new(),
        message: format!(
            "some inputs carry local times without a zone (NXLog EventTime); they were read as {} \
             (set --local-tz to the hosts' zone if that is wrong)",
            opts.naive_time_zone.iana_name().unwrap_or("the given zone")
        ),
    }
}

/// One collection from every input's output, in input order, and the events they kept.
fn assemble(
    warnings: Vec<Warning>,
    mut outputs: Vec<FileOutput>,
    sink: Sink,
    opts: &ReadOptions,
) -> Collection {
    let (holding, held) = sink.into_held();
    let mut c = Collection {
        warnings,
        events: held.events,
        held: held.compact,
        accounts: held.accounts,
        ..Collection::default()
    };
    let mut naive = false;
    let mut distinct = crate::read::Distinct::default();
    for out in &mut outputs {
        distinct.absorb(std::mem::take(&mut out.distinct));
    }
    // Events an output still holds (a reader that kept its own) join the others.
    let mut rest = distinct.into_events();
    for out in outputs {
        rest.extend(out.events);
        c.accounts.absorb(out.accounts);
        c.warnings.extend(out.warnings);
        c.stats.merge(&out.stats);
        naive |= out.used_naive_times;
        for (k, ids) in out.census {
            c.census.entry(k).or_default().extend(ids);
        }
    }
    if naive {
        c.warnings.push(naive_warning(opts));
    }
    let copies = match holding {
        Holding::Events => {
            c.events.extend(rest);
            order_and_dedup(&mut c.events)
        }
        Holding::Compact => {
            c.held.extend(compact_all(rest));
            compact::order_and_dedup(&mut c.held)
        }
    };
    c.stats.duplicates += copies + c.accounts.dedup();
    c
}

/// Read `paths` by `plan`: the anchors first, to learn what to look for, then the whole
/// selection, whose collection (events held compactly, counts, census) is the hunt's.
///
/// Every input is read twice, unless `evtx_one_pass` asks that plain EVTX files be read once:
/// then the first pass keeps, per chunk, keys of the evidence it cannot decide on yet, and the
/// second reads again only the chunks whose keys meet the needles (see `read::evtx_onepass`).
/// Either way the collection is the one two full passes give.
pub(crate) fn collect_by_plan(
    paths: &[PathBuf],
    plan: &ReadPlan,
    base: &ReadOptions,
    progress: Option<&dyn Progress>,
) -> Collection {
    let spec = (base.evtx_one_pass && !base.evtx_render_only)
        .then(|| evtx_onepass::spec(plan))
        .flatten();
    let Some(spec) = spec else {
        return two_passes(paths, plan, base, progress);
    };
    let found = discover::discover(paths);
    let first_opts = base
        .with_filter(plan.anchor_filter())
        .with_onepass(spec.clone());
    let mut firsts = read_all(&found.files, progress.map(|p| ("installs", p)), |_, p| {
        discover::read_file(p, &first_opts)
    });

    // The installs: those of deferred files are moved out for the needles and back.
    let counts: Vec<Vec<usize>> = firsts
        .iter()
        .filter_map(|out| out.deferred.as_ref().map(|d| d.event_counts()))
        .collect();
    let deferred_anchors: usize = counts.iter().flatten().sum();
    let others: usize = firsts
        .iter()
        .filter(|out| out.deferred.is_none())
        .map(|out| out.events.len())
        .sum();
    // Reserved exactly, and freed before the second pass: a deferred file's installs are held
    // once, here or in their chunks.
    let mut anchors = Vec::with_capacity(deferred_anchors + others);
    for out in &mut firsts {
        if let Some(d) = &mut out.deferred {
            d.take_events(&mut anchors);
        }
    }
    for out in &firsts {
        if out.deferred.is_none() {
            anchors.extend(out.events.iter().cloned());
        }
    }
    let needles = plan.needles(&anchors);
    anchors.truncate(deferred_anchors);
    let mut back = anchors.drain(..);
    let mut counts = counts.iter();
    for out in &mut firsts {
        if let Some(d) = &mut out.deferred {
            d.put_events(&mut back, counts.next().expect("one per deferred file"));
        }
    }
    drop(back);
    drop(anchors);

    let resolution = evtx_onepass::Resolution::new(&spec, &needles, plan.anchors());
    let full_opts = base.with_filter(plan.full_filter_with(needles));
    // The first pass's warnings (and the run's, once), as a first full pass would give them.
    let mut warnings = found.warnings.clone();
    let mut naive = false;
    let mut deferred: Vec<Option<Box<evtx_onepass::Deferred>>> = Vec::with_capacity(firsts.len());
    for out in firsts {
        warnings.extend(out.warnings);
        naive |= out.used_naive_times;
        deferred.push(out.deferred);
    }
    if naive {
        warnings.push(naive_warning(base));
    }
    let jobs: Vec<_> = found.files.iter().zip(deferred).collect();
    let size = |p: &PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
    if let Some(progress) = progress {
        progress.begin("evidence", jobs.len(), found.files.iter().map(size).sum());
    }
    let events = Sink::new(Holding::Compact);
    let seconds: Vec<FileOutput> = jobs
        .into_par_iter()
        .map(|(p, d)| {
            let out = match d {
                Some(d) => evtx_onepass::second_pass(p, *d, &spec, &resolution, &full_opts),
                None => discover::read_file(p, &full_opts),
            };
            if let Some(progress) = progress {
                progress.advance(size(p));
            }
            events.take(out)
        })
        .collect();
    let mut full = assemble(found.warnings, seconds, events, &full_opts);
    merge_warnings(warnings, &mut full);
    full
}

/// The first pass's warnings, then the second's, each said once, in the order first met.
fn merge_warnings(mut first: Vec<Warning>, full: &mut Collection) {
    first.append(&mut full.warnings);
    let mut seen = std::collections::HashSet::new();
    first.retain(|w| seen.insert(w.clone()));
    full.warnings = first;
}

/// What the second of two passes does with an input.
#[derive(Default)]
enum Again {
    /// Reads it whole.
    #[default]
    Read,
    /// Reads it but for these chunks.
    Skip(Arc<SkipChunks>),
    /// Takes the first pass's output for its own.
    Stands(Box<FileOutput>),
}

/// Two passes: every input read for the anchors, then again for everything, but for what of
/// plain EVTX files holds no record of an id the second pass reads (to the seed query, a
/// Sysmon log; to either, a log's unused chunk slots): the second pass would give what the
/// first gave, which stands for it, and the chunks of such records it does not read again
/// (see [`SkipChunks`]). The oracle the one-pass read is checked against, and the way when a
/// plan cannot be read in one pass.
fn two_passes(
    paths: &[PathBuf],
    plan: &ReadPlan,
    base: &ReadOptions,
    progress: Option<&dyn Progress>,
) -> Collection {
    let found = discover::discover(paths);
    let first_opts = base
        .with_filter(plan.anchor_filter())
        .with_later(plan.ids().collect());
    // The first pass's events serve the needles only: held compactly, and freed before the
    // second pass holds its own.
    let sink = Sink::new(Holding::Compact);
    let mut firsts = read_all(&found.files, progress.map(|p| ("installs", p)), |_, p| {
        sink.take(discover::read_file(p, &first_opts))
    });
    // What each input's first pass found its second need not read. A free file's output
    // holds no event, sighting or warning: only counts and its census.
    let again: Vec<Mutex<Again>> = firsts
        .iter_mut()
        .map(|out| {
            Mutex::new(match std::mem::take(&mut out.later) {
                Later::Free => Again::Stands(Box::new(std::mem::take(out))),
                Later::Chunks(skip) => Again::Skip(skip),
                Later::Whole => Again::Read,
            })
        })
        .collect();
    let anchors = assemble(found.warnings.clone(), firsts, sink, &first_opts);
    let filter = plan.full_filter_with(plan.needles_from(&compact::HeldAnchors(&anchors.held)));
    let Collection { held, warnings, .. } = anchors;
    drop(held);
    let full_opts = base.with_filter(filter);
    let sink = Sink::new(Holding::Compact);
    let outputs = read_all(&found.files, progress.map(|p| ("evidence", p)), |i, p| {
        let first = std::mem::take(
            &mut *again[i]
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        sink.take(match first {
            Again::Stands(out) => *out,
            Again::Skip(skip) => discover::read_file(p, &full_opts.with_skip(skip)),
            Again::Read => discover::read_file(p, &full_opts),
        })
    });
    let mut full = assemble(found.warnings, outputs, sink, &full_opts);
    merge_warnings(warnings, &mut full);
    full
}
