//! Reading many inputs: discover them, read each on rayon's pool, merge in path order.
//!
//! Files are read in parallel (chunks of each EVTX file too), and their outputs merged in the
//! order discovery gives, so the result is the same bytes whatever the thread count. Events are
//! then put in time order and records seen twice, such as the same log copied into two folders
//! of a collection, are kept once.

use std::path::PathBuf;

use rayon::prelude::*;

use super::Progress;
use crate::discover;
use crate::event::{Census, Event, order_and_dedup};
use crate::read::{ReadOptions, ReadStats, Warning};
use crate::select::ReadPlan;

/// Everything the reading stage produced for a run.
#[derive(Debug, Default)]
pub struct Collection {
    /// The kept events, in time order, each once.
    pub events: Vec<Event>,
    /// Every located warning, in input order.
    pub warnings: Vec<Warning>,
    /// Counts over all inputs.
    pub stats: ReadStats,
    /// Which event ids each host's logs hold among those looked at (see [`Census`]).
    pub census: Census,
}

/// Discover and read every input under `paths` with `opts`, telling `progress` (with the
/// pass's name) as inputs are read.
pub fn collect(
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

/// Read `paths` by `plan`: the anchors first, to learn what to look for, then the whole
/// selection, whose collection (events, counts, census) is the hunt's.
pub fn collect_by_plan(
    paths: &[PathBuf],
    plan: &ReadPlan,
    base: &ReadOptions,
    progress: Option<&dyn Progress>,
) -> Collection {
    let anchors = collect(
        paths,
        &base.with_filter(plan.anchor_filter()),
        progress.map(|p| ("installs", p)),
    );
    let mut full = collect(
        paths,
        &base.with_filter(plan.full_filter(&anchors.events)),
        progress.map(|p| ("evidence", p)),
    );
    // Both passes read every input: each warning is said once, in the order first met.
    let mut warnings = anchors.warnings;
    warnings.append(&mut full.warnings);
    let mut seen = std::collections::HashSet::new();
    warnings.retain(|w| seen.insert(w.clone()));
    full.warnings = warnings;
    full
}
