//! JSON and JSON-lines exports (evtx_dump, NXLog/OTRF, Sentinel, Winlogbeat/ECS).
//!
//! Reading is split in two independent decisions, both made from the content:
//!
//! - the **shape** of the file (`Shape`): one record per line (NDJSON), evtx_dump's
//!   `Record N` headers each followed by a pretty-printed record, or a stream of JSON documents
//!   (a top-level array, the Log Analytics API's `{"tables": …}`, concatenated objects);
//! - the **flavour** of its records (`sink::Flavour`), from the first record: evtx-crate JSON,
//!   NXLog, Winlogbeat/ECS, or rows of a Sentinel table.
//!
//! Every shape feeds records to one `sink::Sink`, which maps them with the flavour's module and
//! turns whatever it cannot read into located, capped warnings.

mod ecs;
mod lines;
mod nxlog;
mod prefilter;
pub(crate) mod problems;
pub(crate) mod sentinel;
mod sentinel_xml;
mod sink;
mod stream;
mod table_row;
pub mod tail;
mod times;

use std::io::{self, BufRead, Read};
use std::sync::Arc;

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::{FileOutput, ReadOptions};
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
                let replay = io::Cursor::new(head.into_bytes());
                stream::read_documents(replay.chain(&mut counted), &mut sink);
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
}

impl Head {
    fn read(reader: &mut dyn BufRead) -> io::Result<Head> {
        let mut head = Head {
            lines: Vec::new(),
            lines_read: 0,
        };
        let mut non_blank = 0;
        // Bounded also in blank lines, so that a file of newlines is not held in memory.
        while non_blank < HEAD_LINES && head.lines_read < 100 * HEAD_LINES as u64 {
            let mut line = Vec::new();
            if reader.read_until(b'\n', &mut line)? == 0 {
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
