//! Line-oriented JSON inputs: NDJSON (one record per line, located by line number) and
//! evtx_dump's default output (a `Record N` line before each pretty-printed record), which is
//! split at its headers so that one broken record never costs the ones after it.

use std::io::BufRead;

use serde_json::Value;

use super::problems::RecordError;
use super::sink::{Sink, not_json};
use super::{Head, Line, finish_line, is_record_header, read_line};
use crate::event::Locator;

/// Read an NDJSON input, starting with the lines already read into `head`.
pub(super) fn read_lines(head: Head, reader: &mut dyn BufRead, sink: &mut Sink<'_>) {
    let mut line_no = head.lines_read;
    let max = sink.max_record();
    let mut lines = head.lines;
    // A long last line of the head is only begun: read the rest of it first.
    let unfinished = if head.partial { lines.pop() } else { None };
    for (n, line) in &lines {
        if line.len() > max {
            too_long(*n, sink);
        } else {
            one_line(line, *n, sink);
        }
    }
    if let Some((n, mut start)) = unfinished {
        match finish_line(reader, &mut start, max) {
            Ok(Line::TooLong) => too_long(n, sink),
            Ok(_) => one_line(&start, n, sink),
            Err(e) => {
                sink.read_failed(&format!("line {n}"), &e);
                return;
            }
        }
    }
    let mut line = Vec::with_capacity(64 * 1024);
    while !sink.abandoned() {
        match read_line(reader, &mut line, max) {
            Ok(Line::Eof) => break,
            Ok(Line::Text) => {
                line_no += 1;
                one_line(&line, line_no, sink);
            }
            Ok(Line::TooLong) => {
                line_no += 1;
                too_long(line_no, sink);
            }
            Err(e) => {
                sink.read_failed(&format!("line {}", line_no + 1), &e);
                break;
            }
        }
    }
}

fn too_long(line_no: u64, sink: &mut Sink<'_>) {
    let detail = format!(
        "longer than --max-record ({} MiB): skipped",
        sink.max_record() >> 20
    );
    sink.bad(
        Locator::Line(line_no),
        RecordError::new("record too large", detail),
    );
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
    // A long last line of the head is only begun: the next read gives the rest of it, which
    // the record's text simply continues.
    for (n, line) in &head.lines {
        record.push_line(line, *n, sink);
    }
    let mut line = Vec::with_capacity(64 * 1024);
    let max = sink.max_record();
    while !sink.abandoned() {
        match read_line(reader, &mut line, max) {
            Ok(Line::Eof) => break,
            Ok(Line::Text) => {
                line_no += 1;
                record.push_line(&line, line_no, sink);
            }
            Ok(Line::TooLong) => {
                line_no += 1;
                record.overflow(line_no);
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
    /// Set when the record grew past the limit: its text is dropped, the record skipped.
    overflowed: bool,
}

impl PendingRecord {
    fn push_line(&mut self, line: &[u8], line_no: u64, sink: &mut Sink<'_>) {
        let trimmed = line.trim_ascii();
        if is_record_header(trimmed) {
            self.flush(sink);
        } else if !trimmed.is_empty() {
            self.first_line.get_or_insert(line_no);
            if self.text.len() + line.len() > sink.max_record() {
                self.overflow(line_no);
            } else if !self.overflowed {
                self.text.extend_from_slice(line);
            }
        }
    }

    fn overflow(&mut self, line_no: u64) {
        self.first_line.get_or_insert(line_no);
        self.overflowed = true;
        self.text = Vec::new();
    }

    fn flush(&mut self, sink: &mut Sink<'_>) {
        if let Some(first_line) = self.first_line.take() {
            let at = Locator::Line(first_line);
            if std::mem::take(&mut self.overflowed) {
                too_long(first_line, sink);
                self.text.clear();
                return;
            }
            match serde_json::from_slice::<Value>(&self.text) {
                Ok(v) => sink.value(&v, at),
                Err(e) => sink.bad(at, not_json(&e)),
            }
        }
        self.text.clear();
    }
}
