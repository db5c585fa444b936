//! Line-oriented JSON inputs: NDJSON (one record per line, located by line number) and
//! evtx_dump's default output (a `Record N` line before each pretty-printed record), which is
//! split at its headers so that one broken record never costs the ones after it.

use std::io::BufRead;

use serde_json::Value;

use super::Head;
use super::is_record_header;
use super::sink::{Sink, not_json};
use crate::event::Locator;

/// Read an NDJSON input, starting with the lines already read into `head`.
pub(super) fn read_lines(head: Head, reader: &mut dyn BufRead, sink: &mut Sink<'_>) {
    let mut line_no = head.lines_read;
    for (n, line) in &head.lines {
        one_line(line, *n, sink);
    }
    let mut line = Vec::with_capacity(64 * 1024);
    while !sink.abandoned() {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {
                line_no += 1;
                one_line(&line, line_no, sink);
            }
            Err(e) => {
                sink.read_failed(&format!("line {}", line_no + 1), &e);
                break;
            }
        }
    }
}

fn one_line(line: &[u8], line_no: u64, sink: &mut Sink<'_>) {
    let line = line.trim_ascii();
    if !line.is_empty() && !sink.abandoned() {
        sink.line(line, Locator::Line(line_no));
    }
}

/// Read evtx_dump's `Record N`-separated output; each record is located by the line of its
/// opening brace.
pub(super) fn read_record_headers(head: Head, reader: &mut dyn BufRead, sink: &mut Sink<'_>) {
    let mut record = PendingRecord::default();
    let mut line_no = head.lines_read;
    for (n, line) in &head.lines {
        record.push_line(line, *n, sink);
    }
    let mut line = Vec::with_capacity(64 * 1024);
    while !sink.abandoned() {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {
                line_no += 1;
                record.push_line(&line, line_no, sink);
            }
            Err(e) => {
                sink.read_failed(&format!("line {}", line_no + 1), &e);
                break;
            }
        }
    }
    record.flush(sink);
}

/// The lines of the record being collected.
#[derive(Default)]
struct PendingRecord {
    text: Vec<u8>,
    /// Line of its first non-blank line.
    first_line: Option<u64>,
}

impl PendingRecord {
    fn push_line(&mut self, line: &[u8], line_no: u64, sink: &mut Sink<'_>) {
        let trimmed = line.trim_ascii();
        if is_record_header(trimmed) {
            self.flush(sink);
        } else if !trimmed.is_empty() {
            self.first_line.get_or_insert(line_no);
            self.text.extend_from_slice(line);
        }
    }

    fn flush(&mut self, sink: &mut Sink<'_>) {
        if let Some(first_line) = self.first_line.take() {
            let at = Locator::Line(first_line);
            match serde_json::from_slice::<Value>(&self.text) {
                Ok(v) => sink.value(&v, at),
                Err(e) => sink.bad(at, not_json(&e)),
            }
        }
        self.text.clear();
    }
}
