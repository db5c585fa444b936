//! Running the reading stage over many inputs: discover, read in parallel, merge, deduplicate.
//!
//! Files are read on rayon's pool (chunks of each EVTX file too), and their outputs merged in
//! path order, so the result is the same bytes whatever the thread count. Events are then put in
//! time order (ties broken by computer, input and position) and records seen twice, such as the
//! same log copied into two folders of a collection, are kept once.

use std::collections::HashSet;
use std::path::PathBuf;

use rayon::prelude::*;

use crate::discover;
use crate::event::Event;
use crate::read::{ReadOptions, ReadStats, Warning};

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
    c.events.sort_by(|a, b| {
        (a.time, &a.computer, &a.origin).cmp(&(b.time, &b.computer, &b.origin))
    });
    let mut seen = HashSet::with_capacity(c.events.len());
    let before = c.events.len();
    c.events.retain(|e| seen.insert(e.identity()));
    c.stats.duplicates += (before - c.events.len()) as u64;
}
