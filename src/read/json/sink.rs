//! Where every record of a JSON input goes, whatever the file's shape: the flavour is decided
//! from the first record, each record is mapped by its flavour's module, and failures become
//! located, capped warnings. Lines whose event id the run does not want are counted and dropped
//! after a byte scan, before any decoding.

use std::sync::Arc;

use serde_json::Value;

use super::ecs;
use super::nxlog::{self, FlatRecord};
use super::prefilter::IdScanner;
use super::problems::{Problems, RecordError};
use super::sentinel::{self, Row, TableKind};
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
}

impl Flavour {
    /// Recognise the flavour of a first record.
    pub(crate) fn detect(record: &Value) -> Option<Flavour> {
        let map = record.as_object()?;
        if evtx_json::looks_like(record) {
            Some(Flavour::EvtxJson)
        } else if ecs::looks_like(map) {
            Some(Flavour::Ecs)
        } else if let Some(kind) = sentinel::table_kind(map.keys().map(String::as_str)) {
            Some(Flavour::Sentinel(kind))
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
        }
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

    /// The input could not be read any further (an I/O or decompression error).
    pub(crate) fn read_failed(&mut self, location: &str, err: &std::io::Error) {
        self.out.warn(
            self.name,
            location,
            format!("read failed, rest of input lost: {err}"),
        );
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

    /// Declare the flavour without a first record (the API's tables say what they hold).
    pub(crate) fn set_flavour(&mut self, flavour: Flavour) {
        self.flavour = Some(flavour);
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
        self.accept(mapped, at);
    }

    /// Decide the flavour from a first line; the line is then decoded again like any other, so
    /// that the first record keeps its fields in source order too.
    fn detect_line(&mut self, line: &[u8], at: Locator) -> Option<Flavour> {
        match serde_json::from_slice::<Value>(line) {
            Ok(v) => match Flavour::detect(&v) {
                Some(f) => {
                    self.flavour = Some(f);
                    Some(f)
                }
                None => {
                    self.unrecognised(&v, at);
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
        if self.abandoned {
            return;
        }
        let flavour = match self.flavour {
            Some(f) => f,
            None => match Flavour::detect(record) {
                Some(f) => {
                    self.flavour = Some(f);
                    f
                }
                None => return self.unrecognised(record, at),
            },
        };
        let mapped = self.map(flavour, record, at);
        self.accept(mapped, at);
    }

    /// One row of a Log Analytics API table.
    pub(crate) fn table_row(
        &mut self,
        columns: &[String],
        kind: TableKind,
        values: &[Value],
        at: Locator,
    ) {
        if values.len() != columns.len() {
            let detail = format!("{} values for {} columns", values.len(), columns.len());
            return self.bad(at, RecordError::new("missing column", detail));
        }
        let row = Row::from_values(columns, values);
        let mapped = sentinel::to_event(&row, kind, self.name, at);
        self.accept(mapped, at);
    }

    /// Add the summary of capped warnings.
    pub(crate) fn finish(self) {
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

    fn unrecognised(&mut self, record: &Value, at: Locator) {
        let what = match record.as_object() {
            Some(map) => {
                let keys: Vec<&str> = map.keys().take(12).map(String::as_str).collect();
                format!("an object with keys {}", keys.join(", "))
            }
            None => format!("a JSON {}", json_type(record)),
        };
        self.abandon(
            &at.to_string(),
            format!(
                "unrecognised JSON flavour: the first record is {what} (expected evtx_dump, NXLog, \
                 Winlogbeat/ECS, or a Sentinel Event/SecurityEvent/WindowsEvent export)"
            ),
        );
    }
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
    fn an_unknown_first_record_abandons_the_file() {
        let name: Arc<str> = "f".into();
        let opts = ReadOptions::default();
        let mut out = FileOutput::default();
        let mut sink = Sink::new(&name, &opts, &mut out);
        sink.line(br#"{"hello":"world"}"#, Locator::Line(1));
        assert!(sink.abandoned());
        sink.finish();
        assert_eq!(out.stats.files_skipped, 1);
        assert_eq!(out.warnings.len(), 1);
        assert_eq!(out.warnings[0].location, "line 1");
    }
}
