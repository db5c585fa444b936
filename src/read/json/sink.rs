//! Where every record of a JSON input goes, whatever the file's shape: the flavour is decided
//! from the first record that is an event (records of no known kind before it, such as a
//! Winlogbeat heartbeat, are each warned about by line once the flavour is known; an input
//! whose first [`PROBE_RECORDS`] records are of no known kind is given up whole), each record
//! is mapped by its flavour's module, and failures become located, capped warnings. Lines
//! whose event id the run does not want are counted and dropped after a byte scan, before any
//! decoding. Search-engine envelopes (Elastic's `{"_source": …}` hits, Splunk's
//! `{"result": …}`) are opened first.

use std::sync::Arc;

use serde_json::Value;

use super::ecs;
use super::nxlog::{self, FlatRecord};
use super::powershell;
use super::prefilter::IdScanner;
use super::problems::{Problems, RecordError};
use super::sentinel::{self, Row, TableKind};
use super::splunk;
use crate::event::{Event, Locator};
use crate::read::evtx_json::{self, MapError};
use crate::read::{FileOutput, ReadOptions};

/// The kind of records a JSON input holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavour {
    /// evtx-crate / evtx_dump JSON (`{"Event":{"System":…}}`).
    EvtxJson,
    /// NXLog flat objects (OTRF Security-Datasets).
    Nxlog,
    /// Winlogbeat / ECS documents.
    Ecs,
    /// Rows of a Sentinel table, as objects (the `az` CLI's output).
    Sentinel(TableKind),
    /// PowerShell `Get-WinEvent | ConvertTo-Json` objects.
    PowerShell,
    /// Splunk results whose `_raw` holds the event.
    Splunk,
}

/// How many records of no known kind may open an input before it is given up as no export.
pub(crate) const PROBE_RECORDS: usize = 100;

/// The record inside a search engine's envelope: an Elastic hit's `_source`, a Splunk export
/// line's `result`.
pub(crate) fn unwrap_envelope(record: &Value) -> &Value {
    match record {
        Value::Object(map) => match (map.get("_source"), map.get("result")) {
            (Some(inner @ Value::Object(_)), _) => inner,
            (None, Some(inner @ Value::Object(_))) if map.contains_key("preview") => inner,
            _ => record,
        },
        _ => record,
    }
}

impl Flavour {
    /// Recognise the flavour of a first record.
    pub(crate) fn detect(record: &Value) -> Option<Flavour> {
        let record = unwrap_envelope(record);
        let map = record.as_object()?;
        if evtx_json::looks_like(record) {
            Some(Flavour::EvtxJson)
        } else if ecs::looks_like(map) {
            Some(Flavour::Ecs)
        } else if let Some(kind) = sentinel::table_kind(map.keys().map(String::as_str)) {
            Some(Flavour::Sentinel(kind))
        } else if powershell::looks_like(map) {
            Some(Flavour::PowerShell)
        } else if map.get("_raw").is_some_and(Value::is_string) {
            Some(Flavour::Splunk)
        } else if nxlog::looks_like(map) {
            Some(Flavour::Nxlog)
        } else {
            None
        }
    }

    /// The keys under which this flavour's lines carry their event id.
    fn event_id_keys(self) -> &'static [&'static str] {
        match self {
            Flavour::Ecs => ecs::EVENT_ID_KEYS,
            Flavour::PowerShell => &["Id"],
            // The id is inside `_raw`'s XML: every line is decoded.
            Flavour::Splunk => &[],
            _ => &["EventID"],
        }
    }
}

/// Collects one input's events, warnings and counts.
pub(crate) struct Sink<'a> {
    name: &'a Arc<str>,
    opts: &'a ReadOptions,
    out: &'a mut FileOutput,
    problems: Problems,
    flavour: Option<Flavour>,
    scanner: Option<IdScanner>,
    abandoned: bool,
    /// Records of no known kind seen before the flavour was: warned about once it is known.
    strangers: Vec<(Locator, String)>,
    /// Bytes read since the last record ended, when a capped reader counts them.
    mark: Option<std::rc::Rc<std::cell::Cell<u64>>>,
}

impl<'a> Sink<'a> {
    pub(crate) fn new(name: &'a Arc<str>, opts: &'a ReadOptions, out: &'a mut FileOutput) -> Self {
        Sink {
            name,
            opts,
            out,
            problems: Problems::default(),
            flavour: None,
            scanner: None,
            abandoned: false,
            strangers: Vec::new(),
            mark: None,
        }
    }

    /// Have `mark` reset at every record's end (see [`super::capped`]).
    pub(crate) fn set_mark(&mut self, mark: std::rc::Rc<std::cell::Cell<u64>>) {
        self.mark = Some(mark);
    }

    fn record_done(&self) {
        if let Some(m) = &self.mark {
            m.set(0);
        }
    }

    /// The limit on one record's size.
    pub(crate) fn max_record(&self) -> usize {
        self.opts.limits.max_record
    }

    /// True once the input was found unreadable as a whole; readers stop feeding it then.
    pub(crate) fn abandoned(&self) -> bool {
        self.abandoned
    }

    /// Give up on the whole input: one warning, and the file counts as skipped.
    pub(crate) fn abandon(&mut self, location: &str, message: String) {
        if !self.abandoned {
            self.out.warn(self.name, location, message);
            self.out.stats.files_skipped += 1;
            self.abandoned = true;
        }
    }

    /// The input could not be read any further (an I/O or decompression error, the expansion
    /// limit, a record past the size limit where the shape cannot skip it).
    pub(crate) fn read_failed(&mut self, location: &str, err: &std::io::Error) {
        self.out.lost_rest(self.name, location, err);
    }

    /// A record that could not be read.
    pub(crate) fn bad(&mut self, at: Locator, err: RecordError) {
        self.problems.skip(self.out, self.name, at, err);
    }

    /// Something unreadable at a text position rather than at a record.
    pub(crate) fn bad_at(&mut self, at: &str, err: RecordError) {
        self.problems
            .skip_at(self.out, self.name, at.to_string(), err);
    }

    /// Declare the flavour (the API's tables say what they hold; else the first event does):
    /// the records of no known kind before it are now warned about, each.
    pub(crate) fn set_flavour(&mut self, flavour: Flavour) {
        self.flavour = Some(flavour);
        for (at, what) in std::mem::take(&mut self.strangers) {
            self.bad(
                at,
                RecordError::new("not an event", format!("{what}, unlike the rest")),
            );
        }
    }

    /// The flavour decided so far (a follower carries it from one batch of lines to the next).
    pub(crate) fn flavour(&self) -> Option<Flavour> {
        self.flavour
    }

    /// One NDJSON line (without its newline).
    pub(crate) fn line(&mut self, line: &[u8], at: Locator) {
        let flavour = match self.flavour {
            Some(f) => f,
            None => match self.detect_line(line, at) {
                Some(f) => f,
                None => return,
            },
        };
        self.record_done();
        if self.unwanted(line) {
            self.out.stats.records += 1;
            return;
        }
        let mapped = match flavour {
            // NXLog lines are decoded straight into borrowed text, skipping Message unread.
            Flavour::Nxlog => serde_json::from_slice::<FlatRecord>(line)
                .map_err(|e| not_json(&e))
                .and_then(|rec| self.nxlog_event(rec, at)),
            _ => serde_json::from_slice::<Value>(line)
                .map_err(|e| not_json(&e))
                .and_then(|v| self.map(flavour, &v, at)),
        };
        self.accept(with_identity(mapped, || line.to_vec()), at);
    }

    /// Decide the flavour from a first line; the line is then decoded again like any other, so
    /// that the first record keeps its fields in source order too.
    fn detect_line(&mut self, line: &[u8], at: Locator) -> Option<Flavour> {
        match serde_json::from_slice::<Value>(line) {
            Ok(v) => match Flavour::detect(&v) {
                Some(f) => {
                    self.set_flavour(f);
                    Some(f)
                }
                None => {
                    self.stranger(&v, at);
                    None
                }
            },
            Err(e) => {
                self.bad(at, not_json(&e));
                None
            }
        }
    }

    /// One record already parsed (an array element, a pretty-printed document).
    pub(crate) fn value(&mut self, record: &Value, at: Locator) {
        self.record_done();
        if self.abandoned {
            return;
        }
        let flavour = match self.flavour {
            Some(f) => f,
            None => match Flavour::detect(record) {
                Some(f) => {
                    self.set_flavour(f);
                    f
                }
                None => return self.stranger(record, at),
            },
        };
        let mapped = self.map(flavour, record, at);
        self.accept(
            with_identity(mapped, || serde_json::to_vec(record).unwrap_or_default()),
            at,
        );
    }

    /// One row of a Log Analytics API table.
    pub(crate) fn table_row(
        &mut self,
        columns: &[String],
        kind: TableKind,
        values: &[Value],
        at: Locator,
    ) {
        self.record_done();
        if values.len() != columns.len() {
            let detail = format!("{} values for {} columns", values.len(), columns.len());
            return self.bad(at, RecordError::new("missing column", detail));
        }
        let row = Row::from_values(columns, values);
        let mapped = sentinel::to_event(&row, kind, self.name, at);
        self.accept(mapped, at);
    }

    /// Add the summary of capped warnings; give the input up if no record was an event.
    pub(crate) fn finish(mut self) {
        if self.flavour.is_none() && !self.strangers.is_empty() {
            self.give_up();
        }
        self.problems.finish(self.out, self.name);
    }

    /// True when the line's id is known from a byte scan and the run does not want it.
    fn unwanted(&mut self, line: &[u8]) -> bool {
        if self.opts.filter().selection.is_all() {
            return false;
        }
        let flavour = self.flavour;
        let scanner = self.scanner.get_or_insert_with(|| {
            IdScanner::new(flavour.map_or(&["EventID"], Flavour::event_id_keys))
        });
        scanner
            .event_id(line)
            .is_some_and(|id| !self.opts.filter().wants(id))
    }

    fn map(&mut self, flavour: Flavour, record: &Value, at: Locator) -> Result<Event, RecordError> {
        let record = unwrap_envelope(record);
        match flavour {
            Flavour::EvtxJson => {
                evtx_json::to_event(record, self.name, Some(at), None).map_err(evtx_error)
            }
            Flavour::Nxlog => match record.as_object() {
                Some(map) => self.nxlog_event(FlatRecord::from_map(map), at),
                None => Err(RecordError::new("unrecognised record", "not a JSON object")),
            },
            Flavour::Ecs => ecs::to_event(record, self.name, at),
            Flavour::Sentinel(kind) => match record.as_object() {
                Some(map) => sentinel::to_event(&Row::from_object(map), kind, self.name, at),
                None => Err(RecordError::new("unrecognised record", "not a JSON object")),
            },
            Flavour::PowerShell => match record.as_object() {
                Some(map) => powershell::to_event(map, self.name, at),
                None => Err(RecordError::new("unrecognised record", "not a JSON object")),
            },
            Flavour::Splunk => match record.get("_raw").and_then(Value::as_str) {
                Some(raw) => {
                    let host = record.get("host").and_then(Value::as_str);
                    splunk::to_event(raw, host, self.name, at)
                }
                None => Err(RecordError::new("unrecognised record", "no _raw text")),
            },
        }
    }

    fn nxlog_event(&mut self, rec: FlatRecord<'_>, at: Locator) -> Result<Event, RecordError> {
        let (event, naive) = nxlog::to_event(rec, self.name, at, &self.opts.naive_time_zone)?;
        self.out.used_naive_times |= naive;
        Ok(event)
    }

    fn accept(&mut self, mapped: Result<Event, RecordError>, at: Locator) {
        match mapped {
            Ok(event) => self.out.offer(event, self.opts),
            Err(err) => self.bad(at, err),
        }
    }

    /// A record of no known kind before any event: remembered (a few words, not the record),
    /// and the input given up once too many came without one event.
    fn stranger(&mut self, record: &Value, at: Locator) {
        let what = match record.as_object() {
            Some(map) => {
                let keys: Vec<&str> = map.keys().take(12).map(String::as_str).collect();
                format!("an object with keys {}", keys.join(", "))
            }
            None => format!("a JSON {}", json_type(record)),
        };
        self.strangers.push((at, what));
        if self.strangers.len() >= PROBE_RECORDS {
            self.give_up();
        }
    }

    fn give_up(&mut self) {
        let Some((at, what)) = self.strangers.first().cloned() else {
            return;
        };
        let seen = self.strangers.len();
        self.strangers.clear();
        self.abandon(
            &at.to_string(),
            format!(
                "unrecognised JSON flavour: the first record is {what}, and {} (expected \
                 evtx_dump, NXLog, Winlogbeat/ECS, Elastic, Splunk, PowerShell, or a Sentinel \
                 Event/SecurityEvent/WindowsEvent export)",
                if seen >= PROBE_RECORDS {
                    format!("so are the {} after it", seen - 1)
                } else if seen == 1 {
                    "no record is an event".to_string()
                } else {
                    format!("none of the {seen} records is an event")
                }
            ),
        );
    }
}

/// A record without a record number is known by everything in it, the fields no stage keeps
/// and those its reader skipped unread included (NXLog's `Message`): two records are one only
/// if they are the same record.
fn with_identity(
    mapped: Result<Event, RecordError>,
    raw: impl FnOnce() -> Vec<u8>,
) -> Result<Event, RecordError> {
    mapped.map(|mut event| {
        if event.record_id.is_none() {
            event.seal_identity_raw(&raw());
        }
        event
    })
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

pub(crate) fn not_json(err: &serde_json::Error) -> RecordError {
    RecordError::new("not JSON", err.to_string())
}

fn evtx_error(err: MapError) -> RecordError {
    let kind = match err {
        MapError::NoSystem => "unrecognised record",
        MapError::NoEventId => "no event id",
        MapError::BadTime(_) => "no time",
    };
    RecordError::new(kind, err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::select::Filter;
    use serde_json::json;

    #[test]
    fn flavours_are_told_apart() {
        let evtx = json!({"Event":{"System":{"EventID":7045}}});
        let nx = json!({"EventID":7045,"EventTime":"2020-09-20 12:16:56","Hostname":"H","SourceName":"S"});
        let ecs = json!({"@timestamp":"x","winlog":{"event_id":"7045"}});
        let cli = json!({"TimeGenerated":"x","EventID":"7045","Computer":"H","Source":"S","EventLog":"System","EventData":""});
        assert_eq!(Flavour::detect(&evtx), Some(Flavour::EvtxJson));
        assert_eq!(Flavour::detect(&nx), Some(Flavour::Nxlog));
        assert_eq!(Flavour::detect(&ecs), Some(Flavour::Ecs));
        assert_eq!(
            Flavour::detect(&cli),
            Some(Flavour::Sentinel(TableKind::Event))
        );
        assert_eq!(Flavour::detect(&json!({"hello":"world"})), None);
        assert_eq!(Flavour::detect(&json!([1])), None);
    }

    #[test]
    fn unwanted_lines_are_counted_not_decoded() {
        let name: Arc<str> = "f".into();
        let opts = ReadOptions::default().with_filter(Filter::ids([7045]));
        let mut out = FileOutput::default();
        let mut sink = Sink::new(&name, &opts, &mut out);
        sink.set_flavour(Flavour::Nxlog);
        // Not valid JSON after the id: a decode would warn, the scan drops it first.
        sink.line(br#"{"EventID":4624,"EventTime":"#, Locator::Line(1));
        sink.line(br#"{"EventID":7045,"EventTime":"2020-09-20 12:16:56","Hostname":"H","SourceName":"S","RecordNumber":1}"#, Locator::Line(2));
        sink.finish();
        assert_eq!(out.stats.records, 2);
        assert_eq!(out.stats.records_selected, 1);
        assert!(out.warnings.is_empty());
        assert!(out.used_naive_times);
    }

    #[test]
    fn strangers_before_the_first_event_are_warned_by_line() {
        let name: Arc<str> = "f".into();
        let opts = ReadOptions::default();
        let mut out = FileOutput::default();
        let mut sink = Sink::new(&name, &opts, &mut out);
        sink.line(
            br#"{"@timestamp":"x","beat":{"name":"b"},"monitoring":{}}"#,
            Locator::Line(1),
        );
        sink.line(
            br#"{"@timestamp":"2021-04-21T09:27:56Z","winlog":{"event_id":"7045"}}"#,
            Locator::Line(2),
        );
        sink.line(br#"{"hello":"world"}"#, Locator::Line(3));
        sink.finish();
        assert_eq!(out.events.len(), 1);
        assert_eq!(out.stats.files_skipped, 0);
        assert_eq!(out.stats.records_skipped["not an event"], 1);
        assert_eq!(out.warnings[0].location, "line 1");
        assert_eq!(
            out.stats.records_skipped["no event id"], 1,
            "line 3, read as Winlogbeat"
        );
    }

    #[test]
    fn an_input_of_no_events_is_given_up_once() {
        let name: Arc<str> = "f".into();
        let opts = ReadOptions::default();
        let mut out = FileOutput::default();
        let mut sink = Sink::new(&name, &opts, &mut out);
        sink.line(br#"{"hello":"world"}"#, Locator::Line(1));
        sink.finish();
        assert_eq!(out.stats.files_skipped, 1);
        assert_eq!(out.warnings.len(), 1);
        assert_eq!(out.warnings[0].location, "line 1");
    }
}
