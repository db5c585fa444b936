//! Readers: one per input format, all yielding [`Event`]s.
//!
//! A reader knows its format and nothing of detection. It is handed a [`ReadOptions`] whose
//! [`Filter`] says which records are wanted (so it can skip the rest before paying for a full
//! decode) and how to read naive local times, and it fills a [`FileOutput`]: the selected events, located warnings
//! for anything it could not read, and counts. A bad record never ends the file; a bad file never
//! ends the run.

pub mod csv_export;
pub mod evtx;
pub mod evtx_json;
pub mod evtx_needles;
pub mod evtx_scan;
pub mod evtx_tail;
pub mod json;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use jiff::tz::TimeZone;
use serde::Serialize;

use crate::event::{Census, Event};
use crate::select::Filter;

/// How readers should behave: which records to keep (the pass's [`Filter`], set by the engine
/// from its read plan) and how to read what the formats leave open.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Which records to keep.
    filter: Arc<Filter>,
    /// The zone to read timestamps that carry none (NXLog `EventTime`); UTC by default.
    pub naive_time_zone: TimeZone,
    /// Parse every selected EVTX record by full rendering instead of the lean walk's decision
    /// (the oracle the fast path is checked against).
    pub evtx_render_only: bool,
    /// The filter's needles as they look in binary EVTX records, encoded once per pass on
    /// first use.
    evtx_needles: Arc<OnceLock<evtx_needles::EvtxNeedleMap>>,
}

impl ReadOptions {
    /// These options reading with `filter` instead.
    pub fn with_filter(&self, filter: Filter) -> ReadOptions {
        ReadOptions {
            filter: Arc::new(filter),
            evtx_needles: Arc::default(),
            ..self.clone()
        }
    }

    /// Which records to keep.
    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    /// The filter's needles for EVTX records of `event_id`, if any.
    pub(crate) fn evtx_needles_for(&self, event_id: u32) -> Option<&evtx_needles::EvtxNeedles> {
        let needles = self.filter.needles.as_deref()?;
        self.evtx_needles
            .get_or_init(|| evtx_needles::encode(needles))
            .get(&event_id)
    }
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            filter: Arc::new(Filter::all()),
            naive_time_zone: TimeZone::UTC,
            evtx_render_only: false,
            evtx_needles: Arc::default(),
        }
    }
}

/// A problem found while reading, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Warning {
    /// The input's display path.
    pub file: Arc<str>,
    /// Where inside it, e.g. `line 12`, `chunk 3 (file offset 0x31000)`; empty for the whole file.
    pub location: String,
    /// What went wrong, in words.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.location, self.message)
        }
    }
}

/// Counts of what a reader saw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReadStats {
    /// Inputs read (an archive member counts as one input).
    pub files: u64,
    /// Inputs that could not be read at all (wrong format, unreadable).
    pub files_skipped: u64,
    /// Bytes of input read (uncompressed).
    pub bytes: u64,
    /// Records seen (wanted or not).
    pub records: u64,
    /// Records kept because their event id is wanted (and, in a hunt's evidence pass, because
    /// they name something the hunt found).
    pub records_selected: u64,
    /// Records that could not be read, by reason.
    pub records_skipped: BTreeMap<String, u64>,
    /// Records dropped because an identical record had been read from another input.
    pub duplicates: u64,
}

impl ReadStats {
    /// Add another input's counts to these.
    pub fn merge(&mut self, other: &ReadStats) {
        self.files += other.files;
        self.files_skipped += other.files_skipped;
        self.bytes += other.bytes;
        self.records += other.records;
        self.records_selected += other.records_selected;
        self.duplicates += other.duplicates;
        for (k, v) in &other.records_skipped {
            *self.records_skipped.entry(k.clone()).or_default() += v;
        }
    }

    /// Total records that could not be read.
    pub fn skipped_total(&self) -> u64 {
        self.records_skipped.values().sum()
    }
}

/// What one input gave: its selected events, its warnings and its counts.
#[derive(Debug, Default)]
pub struct FileOutput {
    /// Events the [`Filter`] keeps, in file order.
    pub events: Vec<Event>,
    /// Located problems.
    pub warnings: Vec<Warning>,
    /// Counts.
    pub stats: ReadStats,
    /// Set by readers that met naive local timestamps, so the run can say once how it read them.
    pub used_naive_times: bool,
    /// Which wanted event ids each (computer, channel) holds, kept or not: what each host's logs
    /// could show.
    pub census: Census,
}

impl FileOutput {
    /// Record a warning.
    pub fn warn(
        &mut self,
        file: &Arc<str>,
        location: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.warnings.push(Warning {
            file: file.clone(),
            location: location.into(),
            message: message.into(),
        });
    }

    /// Count a record that could not be read, under a short reason.
    pub fn skip(&mut self, reason: &str) {
        *self
            .stats
            .records_skipped
            .entry(reason.to_string())
            .or_default() += 1;
    }

    /// Count a record seen, note it in the census, and keep it if `opts` keeps it.
    pub fn offer(&mut self, event: Event, opts: &ReadOptions) {
        self.stats.records += 1;
        let filter = opts.filter();
        if !filter.wants(event.event_id) {
            return;
        }
        self.census
            .entry((event.computer.clone(), event.channel.clone()))
            .or_default()
            .insert(event.event_id);
        if filter.keeps(&event) {
            self.stats.records_selected += 1;
            self.events.push(filter.project(event));
        }
    }

    /// Add another output (of the same input) to this one.
    pub fn absorb(&mut self, other: FileOutput) {
        self.events.extend(other.events);
        self.warnings.extend(other.warnings);
        self.stats.merge(&other.stats);
        self.used_naive_times |= other.used_naive_times;
        for (k, ids) in other.census {
            self.census.entry(k).or_default().extend(ids);
        }
    }
}
