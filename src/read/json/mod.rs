//! JSON and JSON-lines exports (evtx_dump, NXLog/OTRF, Sentinel, Winlogbeat/ECS, Elastic
//! `_search` responses, Splunk results, PowerShell `ConvertTo-Json`).
//!
//! Reading is split in two independent decisions, both made from the content:
//!
//! - the **shape** of the file (`Shape`): one record per line (NDJSON), evtx_dump's
//!   `Record N` headers each followed by a pretty-printed record, or a stream of JSON documents
//!   (a top-level array, the Log Analytics API's `{"tables": …}`, Elastic's
//!   `{"hits":{"hits":[…]}}`, Splunk's `{"results":[…]}`, concatenated objects);
//! - the **flavour** of its records (`sink::Flavour`), from the first record that is an
//!   event: evtx-crate JSON, NXLog, Winlogbeat/ECS, rows of a Sentinel table, PowerShell
//!   `EventLogRecord`s, Splunk results.
//!
//! No record may take more than `--max-record` bytes: a longer line is skipped with a located
//! warning; a longer document (which a stream cannot skip) ends the input, counted as lost.
//!
//! Every shape feeds records to one `sink::Sink`, which maps them with the flavour's module and
//! turns whatever it cannot read into located, capped warnings.

mod ecs;
mod lines;
mod nxlog;
mod powershell;
mod prefilter;
pub(crate) mod problems;
pub(crate) mod sentinel;
mod sentinel_xml;
mod sink;
pub(crate) mod splunk;
mod stream;
mod table_row;
pub mod tail;

use std::cell::Cell;
use std::io::{self, BufRead, Read};
use std::rc::Rc;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::{FileOutput, ReadOptions, RecordTooLarge};
use crate::event::channel;
use sink::Sink;

/// Read one JSON or JSON-lines input, detecting its flavour from its first records.
pub fn read_json(
    name: &Arc<str>,
    reader: &mut dyn BufRead,
    opts: &ReadOptions,
    out: &mut FileOutput,
) {
    let mut counted = CountingReader {
        inner: reader,
        bytes: 0,
    };
    let mut sink = Sink::new(name, opts, out);
    match Head::read(&mut counted) {
        Ok(head) => match head.shape() {
            Shape::Lines => lines::read_lines(head, &mut counted, &mut sink),
            Shape::RecordHeaders => lines::read_record_headers(head, &mut counted, &mut sink),
            Shape::Documents => {
                let mark = Rc::new(Cell::new(0));
                sink.set_mark(mark.clone());
                let replay = io::Cursor::new(head.into_bytes());
                let capped = Capped {
                    inner: replay.chain(&mut counted),
                    since_mark: mark,
                    cap: opts.limits.max_record as u64,
                };
                stream::read_documents(capped, &mut sink);
            }
        },
        Err(e) => sink.read_failed("line 1", &e),
    }
    sink.finish();
    out.stats.bytes += counted.bytes;
}

/// The layout of a JSON input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// One JSON object per line.
    Lines,
    /// evtx_dump's default: a `Record N` line before each pretty-printed record.
    RecordHeaders,
    /// JSON documents that may span lines: an array, a `tables` object, concatenated objects.
    Documents,
}

/// How many non-empty lines are looked at to decide the shape.
const HEAD_LINES: usize = 8;

/// The first lines of an input, kept so that they can be read again once the shape is known.
struct Head {
    /// (1-based line number, line bytes including its newline).
    lines: Vec<(u64, Vec<u8>)>,
    /// Number of lines read, blank ones included.
    lines_read: u64,
    /// True when the last line is only the first [`HEAD_LINE_CAP`] bytes of a longer one (a
    /// whole export minified on one line, or one huge record): the rest is still unread.
    partial: bool,
}

/// How much of one line the shape decision holds.
const HEAD_LINE_CAP: usize = 1 << 20;

impl Head {
    fn read(reader: &mut dyn BufRead) -> io::Result<Head> {
        let mut head = Head {
            lines: Vec::new(),
            lines_read: 0,
            partial: false,
        };
        let mut non_blank = 0;
        // Bounded also in blank lines, so that a file of newlines is not held in memory.
        while non_blank < HEAD_LINES && head.lines_read < 100 * HEAD_LINES as u64 {
            let mut line = Vec::new();
            let got = read_upto(reader, &mut line, HEAD_LINE_CAP)?;
            if got == Line::Eof {
                break;
            }
            head.lines_read += 1;
            if head.lines_read == 1 && line.starts_with(b"\xef\xbb\xbf") {
                line.drain(..3);
            }
            if !line.trim_ascii().is_empty() {
                non_blank += 1;
            }
            head.lines.push((head.lines_read, line));
            if got == Line::TooLong {
                head.partial = true;
                break;
            }
        }
        Ok(head)
    }

    fn non_blank(&self) -> impl Iterator<Item = &[u8]> {
        self.lines
            .iter()
            .map(|(_, l)| l.trim_ascii())
            .filter(|l| !l.is_empty())
    }

    fn shape(&self) -> Shape {
        let mut lines = self.non_blank().peekable();
        match lines.peek() {
            Some(first) if is_record_header(first) => return Shape::RecordHeaders,
            Some(first) if first.starts_with(b"[") => return Shape::Documents,
            // Only the start of a long first line is known: its first key says what it is.
            Some(first) if self.partial && self.lines.len() == 1 => {
                return if starts_with_container_key(first) {
                    Shape::Documents
                } else {
                    Shape::Lines
                };
            }
            _ => {}
        }
        if lines.any(is_one_line_record) {
            Shape::Lines
        } else {
            Shape::Documents
        }
    }

    fn into_bytes(self) -> Vec<u8> {
        self.lines.into_iter().flat_map(|(_, l)| l).collect()
    }
}

/// What [`read_line`] found.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    /// The input ended before any byte.
    Eof,
    /// A line (with its newline, unless the input ended first).
    Text,
    /// A line longer than the limit: skipped to its end, nothing kept.
    TooLong,
}

/// Keys that open a whole export rather than one record.
fn starts_with_container_key(line: &[u8]) -> bool {
    const KEYS: &[&[u8]] = &[
        b"tables",
        b"took",
        b"timed_out",
        b"_shards",
        b"hits",
        b"_scroll_id",
        b"pit_id",
        b"init_offset",
        b"messages",
        b"fields",
        b"results",
        b"highlighted",
    ];
    let rest = line.trim_ascii_start();
    let Some(rest) = rest.strip_prefix(b"{") else {
        return false;
    };
    let Some(rest) = rest.trim_ascii_start().strip_prefix(b"\"") else {
        return false;
    };
    let key_end = memchr::memchr(b'"', rest).unwrap_or(rest.len());
    KEYS.contains(&&rest[..key_end])
        || (&rest[..key_end] == b"preview" && memchr::memmem::find(rest, b"\"results\"").is_some())
}

/// Read up to a newline or `max` bytes into `buf` (appended): [`Line::TooLong`] when `max`
/// came first, the rest of the line still unread.
fn read_upto(reader: &mut dyn BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<Line> {
    let start = buf.len();
    loop {
        let avail = match reader.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok(if buf.len() == start {
                Line::Eof
            } else {
                Line::Text
            });
        }
        let room = max.saturating_sub(buf.len());
        let (take, done) = match memchr::memchr(b'\n', avail) {
            Some(i) if i < room => (i + 1, true),
            _ => (avail.len().min(room), false),
        };
        buf.extend_from_slice(&avail[..take]);
        reader.consume(take);
        if done {
            return Ok(Line::Text);
        }
        if buf.len() >= max {
            return Ok(Line::TooLong);
        }
    }
}

/// Read one line into `buf` (cleared first) without ever holding more than `max` bytes of it.
fn read_line(reader: &mut dyn BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<Line> {
    buf.clear();
    finish_line(reader, buf, max)
}

/// Read the rest of a line whose start is in `buf`; past `max` bytes in all, the line is
/// skipped to its end and `buf` emptied.
fn finish_line(reader: &mut dyn BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<Line> {
    let mut any = !buf.is_empty();
    let mut too_long = buf.len() > max;
    if too_long {
        buf.clear();
    }
    loop {
        let avail = match reader.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            break;
        }
        any = true;
        let (take, done) = match memchr::memchr(b'\n', avail) {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        if !too_long {
            if buf.len() + take > max {
                too_long = true;
                buf.clear();
                buf.shrink_to(64 * 1024);
            } else {
                buf.extend_from_slice(&avail[..take]);
            }
        }
        reader.consume(take);
        if done {
            break;
        }
    }
    Ok(match (any, too_long) {
        (false, _) => Line::Eof,
        (true, false) => Line::Text,
        (true, true) => Line::TooLong,
    })
}

/// The input of a document stream, stopping any one record from growing past the limit: the
/// sink resets `since_mark` at each record's end.
struct Capped<R> {
    inner: R,
    since_mark: Rc<Cell<u64>>,
    cap: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.since_mark.get() > self.cap {
            return Err(io::Error::other(RecordTooLarge(self.cap as usize)));
        }
        // Small reads, so that the check above runs often (serde_json buffers nothing itself).
        let len = buf.len().min(64 * 1024);
        let n = self.inner.read(&mut buf[..len])?;
        self.since_mark.set(self.since_mark.get() + n as u64);
        Ok(n)
    }
}

/// evtx_dump's `Record 1234` line.
fn is_record_header(line: &[u8]) -> bool {
    line.strip_prefix(b"Record ")
        .is_some_and(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit))
}

/// A whole JSON object on one line that is a record, not a Log Analytics `tables` response.
fn is_one_line_record(line: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Probe {
        tables: Option<IgnoredAny>,
    }
    line.starts_with(b"{")
        && !starts_with_container_key(line)
        && serde_json::from_slice::<Probe>(line).is_ok_and(|p| p.tables.is_none())
}

/// The well-known channel spelling for a name in any case (NXLog writes `security`).
pub(crate) fn normalise_channel(name: &str) -> String {
    [channel::SYSTEM, channel::SECURITY, channel::SYSMON]
        .into_iter()
        .find(|c| c.eq_ignore_ascii_case(name))
        .unwrap_or(name)
        .to_string()
}

/// Counts the bytes consumed from the input, for the run's statistics.
struct CountingReader<'a> {
    inner: &'a mut dyn BufRead,
    bytes: u64,
}

impl Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

impl BufRead for CountingReader<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.bytes += amt as u64;
        self.inner.consume(amt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape_of(text: &str) -> Shape {
        Head::read(&mut text.as_bytes()).unwrap().shape()
    }

    #[test]
    fn shapes() {
        assert_eq!(shape_of("{\"a\":1}\n{\"a\":2}\n"), Shape::Lines);
        assert_eq!(shape_of("not json\n{\"a\":2}\n"), Shape::Lines);
        assert_eq!(
            shape_of("Record 1\n{\n  \"Event\": {}\n}\n"),
            Shape::RecordHeaders
        );
        assert_eq!(shape_of("{\n  \"Event\": {}\n}\n{\n}"), Shape::Documents);
        assert_eq!(shape_of("[{\"a\":1},\n{\"a\":2}]"), Shape::Documents);
        assert_eq!(shape_of("{\"tables\":[]}\n"), Shape::Documents);
        assert_eq!(shape_of(""), Shape::Documents);
    }

    const RECORD: &str = r##"{"Event":{"System":{"EventID":7045,"TimeCreated":{"#attributes":{"SystemTime":"2021-04-21T09:27:56Z"}}}}}"##;

    fn read(text: &str) -> FileOutput {
        let mut out = FileOutput::default();
        read_json(
            &"t.json".into(),
            &mut text.as_bytes(),
            &ReadOptions::default(),
            &mut out,
        );
        out
    }

    #[test]
    fn a_truncated_array_keeps_the_records_before_the_break() {
        let out = read(&format!("[{RECORD},\n{RECORD},\n{{\"Event\": "));
        assert_eq!(out.events.len(), 2);
        assert_eq!(out.events[1].origin.locator, crate::event::Locator::Row(1));
        assert_eq!(out.stats.records_skipped["not JSON"], 1);
        assert!(
            out.warnings[0].location.starts_with("line 3, column"),
            "{:?}",
            out.warnings
        );
    }

    #[test]
    fn a_broken_record_between_headers_costs_only_itself() {
        let text = format!("Record 1\n{RECORD}\nRecord 2\n{{\n  \"Event\":\nRecord 3\n{RECORD}\n");
        let out = read(&text);
        assert_eq!(out.events.len(), 2);
        assert_eq!(out.warnings.len(), 1);
        assert_eq!(out.warnings[0].location, "line 4");
        assert_eq!(out.events[1].origin.locator, crate::event::Locator::Line(7));
        assert_eq!(out.stats.bytes, text.len() as u64);
    }

    #[test]
    fn a_whole_export_on_one_line_is_a_stream() {
        let one_line = format!("[{}]", [RECORD; 3].join(","));
        let head = Head::read(&mut one_line.as_bytes()).unwrap();
        assert_eq!(head.shape(), Shape::Documents);
        assert!(starts_with_container_key(br#"{"tables":[{"name":"#));
        assert!(!starts_with_container_key(br#"{"Event":{"#));
    }

    #[test]
    fn lines_past_the_record_limit_are_skipped_not_held() {
        let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(300));
        let text = format!("{RECORD}\n{big}\n{RECORD}\n");
        let opts = ReadOptions::default().with_limits(crate::read::InputLimits {
            max_record: 200,
            ..crate::read::InputLimits::default()
        });
        let mut out = FileOutput::default();
        read_json(&"t.json".into(), &mut text.as_bytes(), &opts, &mut out);
        assert_eq!(out.events.len(), 2);
        assert_eq!(out.stats.records_skipped["record too large"], 1);
        assert_eq!(out.warnings[0].location, "line 2");
        // A document too large for a stream ends the input, counted as lost.
        let text = format!("[{RECORD},\n{big}]");
        let mut out = FileOutput::default();
        read_json(&"t.json".into(), &mut text.as_bytes(), &opts, &mut out);
        assert_eq!(out.events.len(), 1);
        assert_eq!(
            out.stats.inputs_incomplete["record too large"], 1,
            "{:?}",
            out.warnings
        );
    }

    #[test]
    fn search_engine_envelopes() {
        let hits = format!(
            "{{\"took\":3,\"timed_out\":false,\"_shards\":{{}},\"hits\":{{\"total\":{{\"value\":2}},\"hits\":[{{\"_index\":\"w\",\"_source\":{ecs}}},{{\"_index\":\"w\",\"_source\":{ecs}}}]}}}}",
            ecs = r#"{"@timestamp":"2021-04-21T09:27:56Z","winlog":{"event_id":"7045","computer_name":"H"}}"#
        );
        let out = read(&hits);
        assert_eq!(out.events.len(), 2, "{:?}", out.warnings);
        assert_eq!(out.events[1].origin.locator, crate::event::Locator::Row(1));
        let splunk = format!(
            "{{\"preview\":false,\"init_offset\":0,\"messages\":[],\"results\":[{{\"_raw\":{raw:?},\"host\":\"H\"}}]}}",
            raw = "<Event><System><EventID>7045</EventID><TimeCreated SystemTime='2024-05-06T10:00:00Z'/></System></Event>"
        );
        let out = read(&splunk);
        assert_eq!(out.events.len(), 1, "{:?}", out.warnings);
        assert_eq!(out.events[0].computer, "H");
    }

    #[test]
    fn channel_spellings() {
        assert_eq!(normalise_channel("security"), "Security");
        assert_eq!(
            normalise_channel("microsoft-windows-sysmon/operational"),
            channel::SYSMON
        );
        assert_eq!(
            normalise_channel("Windows PowerShell"),
            "Windows PowerShell"
        );
    }
}
