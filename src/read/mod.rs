//! Readers: one per input format, all yielding [`Event`](crate::event::Event)s.
//!
//! A reader knows its format and nothing of detection. It is handed a [`ReadOptions`] whose
//! [`Filter`] says which records are wanted (so it can skip the rest before paying for a full
//! decode) and how to read naive local times, and it fills a [`FileOutput`]: the selected events, located warnings
//! for anything it could not read, and counts. A bad record never ends the file; a bad file never
//! ends the run.

pub mod csv_export;
mod distinct;
pub mod evtx;
pub mod evtx_binxml;
pub mod evtx_json;
pub mod evtx_keys;
mod evtx_lean;
pub mod evtx_needles;
pub mod evtx_onepass;
mod evtx_recipe;
pub mod evtx_render;
pub mod evtx_scan;
pub mod evtx_stream;
pub mod evtx_tail;
pub mod evtx_template;
mod evtx_text;
pub mod json;
mod output;
pub(crate) mod times;
pub mod windows_fields;
pub mod xml_events;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use jiff::tz::TimeZone;
use serde::Serialize;

use crate::select::Filter;
pub use distinct::Distinct;
pub use output::FileOutput;
pub(crate) use output::Later;

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
    /// Read plain EVTX files in one pass, keying the evidence per chunk (see
    /// [`evtx_onepass`]); two passes otherwise.
    pub evtx_one_pass: bool,
    /// The filter's needles as they look in binary EVTX records, encoded once per pass on
    /// first use.
    evtx_needles: Arc<OnceLock<evtx_needles::EvtxNeedleMap>>,
    /// EVTX templates parsed so far, shared by the chunks of a run.
    pub(crate) evtx_templates: Arc<evtx_template::TemplateStore>,
    /// Read plain EVTX files in one pass, deferring the evidence (see [`evtx_onepass`]).
    pub(crate) onepass: Option<Arc<evtx_onepass::Spec>>,
    /// The event ids a later pass of the same plan reads (sorted), where this is a first pass:
    /// a plain EVTX file tells which of its chunks hold none of them ([`FileOutput::later`]),
    /// and those are not read again.
    pub(crate) later: Option<Arc<[u32]>>,
    /// Where this is that later pass, for one plain EVTX file: the chunks its first pass found
    /// it need not read again.
    pub(crate) skip: Option<Arc<evtx::SkipChunks>>,
    /// Bounds on what one input may cost (see [`InputLimits`]).
    pub limits: InputLimits,
    /// The host a collection says it was taken from (a Velociraptor collection's
    /// `client_info.json`, a KAPE tree's machine folder): given to the records that name no
    /// computer themselves, and only to those.
    pub collection_host: Option<Arc<str>>,
}

/// Bounds on reading one input, and how much to say about what is not a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputLimits {
    /// The largest one text record (a JSON line or document, an XML event) may be; a larger
    /// one is skipped with a located warning, so that one hostile line cannot take the memory.
    pub max_record: usize,
    /// How many times its own size one input may inflate to, through every archive and
    /// compression layer inside it together (at least [`MIN_EXPANSION_BYTES`] is always
    /// allowed); 0 for no limit. What lies past the limit is not read, with a warning.
    pub max_expansion: u64,
    /// List every file that is not an event log (by default they are only counted by kind).
    pub list_not_logs: bool,
}

impl ReadOptions {
    /// These options with other input limits.
    pub fn with_limits(mut self, limits: InputLimits) -> Self {
        self.limits = limits;
        self
    }
}

impl Default for InputLimits {
    fn default() -> Self {
        InputLimits {
            max_record: DEFAULT_MAX_RECORD,
            max_expansion: DEFAULT_MAX_EXPANSION,
            list_not_logs: false,
        }
    }
}

/// [`InputLimits::max_record`]'s default: 16 MiB, far above any real event (Windows caps an
/// event's data at 64 KiB) and far below the memory a run may use.
pub const DEFAULT_MAX_RECORD: usize = 16 << 20;

/// [`InputLimits::max_expansion`]'s default ratio. Zipped EVTX inflates 5 to 30 times; a log
/// of mostly empty chunks more, which the floor below absorbs.
pub const DEFAULT_MAX_EXPANSION: u64 = 100;

/// Inflated bytes every input may reach whatever its size and the ratio.
pub const MIN_EXPANSION_BYTES: u64 = 1 << 30;

impl ReadOptions {
    /// These options reading with `filter` instead.
    pub fn with_filter(&self, filter: Filter) -> ReadOptions {
        ReadOptions {
            filter: Arc::new(filter),
            evtx_needles: Arc::default(),
            onepass: None,
            later: None,
            skip: None,
            ..self.clone()
        }
    }

    /// These options telling which inputs, or chunks of them, hold no record of `ids`, the
    /// ones a later pass reads (see [`FileOutput::later`]).
    pub(crate) fn with_later(&self, mut ids: Vec<u32>) -> ReadOptions {
        ids.sort_unstable();
        ids.dedup();
        ReadOptions {
            later: Some(ids.into()),
            ..self.clone()
        }
    }

    /// These options, for a later pass over one plain EVTX file, not reading the chunks
    /// `skip` says its first pass found it need not.
    pub(crate) fn with_skip(&self, skip: Arc<evtx::SkipChunks>) -> ReadOptions {
        ReadOptions {
            skip: Some(skip),
            ..self.clone()
        }
    }

    /// These options deferring EVTX evidence as `spec` says (the first pass of a one-pass read).
    pub(crate) fn with_onepass(&self, spec: Arc<evtx_onepass::Spec>) -> ReadOptions {
        ReadOptions {
            onepass: Some(spec),
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
            .get(event_id)
    }
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            filter: Arc::new(Filter::all()),
            naive_time_zone: TimeZone::UTC,
            evtx_render_only: false,
            evtx_one_pass: false,
            evtx_needles: Arc::default(),
            evtx_templates: Arc::default(),
            onepass: None,
            later: None,
            skip: None,
            limits: InputLimits::default(),
            collection_host: None,
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
    /// Inputs read only in part, by reason (a truncated gzip stream or EVTX file, an archive
    /// past the expansion limit, a read error mid-way): the records after the break are lost.
    pub inputs_incomplete: BTreeMap<String, u64>,
    /// Files that are not event logs at all (source code, images, a collector's own
    /// bookkeeping…), by kind: counted, not warned about one by one, and not a loss.
    pub not_logs: BTreeMap<String, u64>,
    /// Their paths, when [`InputLimits::list_not_logs`] asked for them.
    pub not_log_files: Vec<String>,
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
        for (k, v) in &other.inputs_incomplete {
            *self.inputs_incomplete.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.not_logs {
            *self.not_logs.entry(k.clone()).or_default() += v;
        }
        self.not_log_files
            .extend(other.not_log_files.iter().cloned());
    }

    /// Total records that could not be read.
    pub fn skipped_total(&self) -> u64 {
        self.records_skipped.values().sum()
    }

    /// Total inputs read only in part.
    pub fn incomplete_total(&self) -> u64 {
        self.inputs_incomplete.values().sum()
    }

    /// True when something that may hold events was not fully read: an input skipped, an
    /// input read in part, or a record skipped (what `--strict` turns into exit code 2).
    pub fn has_losses(&self) -> bool {
        self.files_skipped > 0 || self.skipped_total() > 0 || self.incomplete_total() > 0
    }
}

/// The one line that says how many files were not event logs, by kind, largest first
/// (`3,206 files are not event logs: 2,900 source files, 300 documents; --verbose lists them`).
pub fn not_logs_line(stats: &ReadStats) -> Option<String> {
    let total: u64 = stats.not_logs.values().sum();
    if total == 0 {
        return None;
    }
    let mut kinds: Vec<(&String, &u64)> = stats.not_logs.iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let parts: Vec<String> = kinds
        .iter()
        .map(|(k, n)| format!("{} {k}", thousands(**n)))
        .collect();
    Some(format!(
        "{} file{} not event log{}: {}{}",
        thousands(total),
        if total == 1 { " is" } else { "s are" },
        if total == 1 { "" } else { "s" },
        parts.join(", "),
        if stats.not_log_files.is_empty() {
            "; --verbose lists them"
        } else {
            ""
        }
    ))
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A short, stable reason for an error that stopped reading an input part-way, to count it by.
pub fn read_error_reason(err: &std::io::Error) -> &'static str {
    if err
        .get_ref()
        .is_some_and(|inner| inner.is::<ExpansionLimit>())
    {
        return "expansion limit reached";
    }
    if err
        .get_ref()
        .is_some_and(|inner| inner.is::<RecordTooLarge>())
    {
        return "record too large";
    }
    match err.kind() {
        std::io::ErrorKind::UnexpectedEof => "truncated",
        std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput => {
            "corrupt compressed data"
        }
        _ => "read error",
    }
}

/// The error an input's reader gets once it inflated past [`InputLimits::max_expansion`].
#[derive(Debug, Clone, Copy)]
pub struct ExpansionLimit {
    /// Bytes allowed.
    pub limit: u64,
}

impl fmt::Display for ExpansionLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "inflated past {} MiB, the expansion limit for this input (--max-expansion): the rest is not read",
            self.limit >> 20
        )
    }
}

impl std::error::Error for ExpansionLimit {}

/// The error a text reader raises for a record past [`InputLimits::max_record`] bytes, where
/// the format cannot skip to the next record (an XML event, a JSON document in an array).
#[derive(Debug)]
pub struct RecordTooLarge(pub usize);

impl fmt::Display for RecordTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a record is larger than --max-record ({} MiB)",
            self.0 >> 20
        )
    }
}

impl std::error::Error for RecordTooLarge {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_logs_in_one_line() {
        let mut stats = ReadStats::default();
        assert_eq!(not_logs_line(&stats), None);
        stats.not_logs.insert("source files".into(), 2900);
        stats.not_logs.insert("documents".into(), 306);
        assert_eq!(
            not_logs_line(&stats).unwrap(),
            "3,206 files are not event logs: 2,900 source files, 306 documents; --verbose lists them"
        );
    }
}
