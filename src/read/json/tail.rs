//! Following JSON lines as they are written: a growing file, or lines handed over one batch at a
//! time (standard input).
//!
//! Only complete lines are read: a line still being written (no newline yet) is left for the
//! next call. Each line goes to the same sink (`Sink`) as a batch read of the file, with its line
//! number counted from the start of the input, so a followed file gives the same events, at the
//! same locations, as the file read whole. The flavour the first record decided is kept from
//! call to call. A file that became shorter than the position, or whose first bytes changed, was
//! truncated or replaced (copy-truncate rotation, a new export) and is read again from its start.
//! Only JSON lines are followed: a JSON document (an array, a `tables` response) is a whole that
//! a batch hunt reads.

use std::fs::File;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::sink::{Flavour, Sink};
use crate::event::Locator;
use crate::read::evtx_tail::{TailOutput, read_at};
use crate::read::{FileOutput, ReadOptions};

/// The longest line read; a longer one is skipped with a warning (a record is a few KiB).
pub const MAX_LINE: usize = 16 << 20;
/// How many first bytes identify the content of a file (see [`LinesPosition::head`]).
const HEAD: usize = 64;

/// How far a JSON-lines input was read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinesPosition {
    /// Bytes read: the end of the last complete line.
    pub offset: u64,
    /// Lines read (the next line's number is one more).
    pub line: u64,
    /// A hash of the file's first bytes (up to 64) when they were read, and how many there
    /// were: a file rewritten from the start shows other bytes there.
    pub head: Option<(u64, u32)>,
}

/// A JSON-lines input being followed.
#[derive(Debug, Default)]
pub struct LinesTail {
    /// How far it was read (saved and restored by the follower's state).
    pub position: LinesPosition,
    flavour: Option<Flavour>,
    abandoned: bool,
    /// Inside a line longer than [`MAX_LINE`]: skip up to its end.
    skipping: bool,
}

/// Whether the first complete lines of an input are JSON lines (as a batch read decides it:
/// one of the first eight non-blank lines is a record on one line), a JSON document (the
/// first is `[` or evtx_dump's `Record 1`, or eight lines and none a record), or too few yet.
fn shape(lines: &[u8]) -> Option<bool> {
    let lines = lines.strip_prefix(b"\xef\xbb\xbf").unwrap_or(lines);
    let mut non_blank = lines
        .split(|b| *b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty())
        .take(super::HEAD_LINES)
        .peekable();
    match non_blank.peek() {
        Some(first) if first.starts_with(b"[") || super::is_record_header(first) => {
            return Some(false);
        }
        None => return None,
        _ => {}
    }
    let mut seen = 0;
    for line in non_blank {
        if super::is_one_line_record(line) {
            return Some(true);
        }
        seen += 1;
    }
    (seen == super::HEAD_LINES).then_some(false)
}

/// XXH3, a specified hash: a saved state holds it, and std's hasher may change between Rust
/// versions.
fn head_hash(bytes: &[u8]) -> (u64, u32) {
    (twox_hash::XxHash3_64::oneshot(bytes), bytes.len() as u32)
}

impl LinesTail {
    /// Follow from `position` (a saved one, or the default to read from the start).
    pub fn new(position: LinesPosition) -> Self {
        LinesTail {
            position,
            ..LinesTail::default()
        }
    }

    /// True once the input was found not to be JSON lines of a known flavour: a batch read
    /// would have given up on it, and so does the follower.
    pub fn abandoned(&self) -> bool {
        self.abandoned
    }

    /// Read the complete lines written to `file` since the last call, at most about `max_bytes`.
    pub fn read_file(
        &mut self,
        name: &Arc<str>,
        file: &File,
        opts: &ReadOptions,
        max_bytes: usize,
    ) -> TailOutput {
        let mut result = TailOutput {
            at_end: true,
            ..TailOutput::default()
        };
        let len = match file.metadata() {
            Ok(m) => m.len(),
            Err(e) => {
                result.out.warn(name, "", format!("cannot read: {e}"));
                return result;
            }
        };
        let head = match read_at(file, 0, HEAD.min(len as usize)) {
            Ok(h) => h,
            Err(e) => {
                result.out.warn(name, "", format!("cannot read: {e}"));
                return result;
            }
        };
        let replaced = match self.position.head {
            Some((hash, n)) => {
                let n = n as usize;
                head.len() < n || head_hash(&head[..n]) != (hash, n as u32)
            }
            None => false,
        };
        if len < self.position.offset || replaced {
            self.position = LinesPosition::default();
            self.flavour = None;
            self.abandoned = false;
            self.skipping = false;
            result.restarted = true;
        }
        if self
            .position
            .head
            .is_none_or(|(_, n)| (n as usize) < head.len())
        {
            self.position.head = Some(head_hash(&head));
        }
        if self.abandoned || len == self.position.offset {
            return result;
        }
        let want = ((len - self.position.offset) as usize).min(max_bytes.max(1 << 16));
        let bytes = match read_at(file, self.position.offset, want) {
            Ok(b) => b,
            Err(e) => {
                result.out.warn(
                    name,
                    format!("offset {:#x}", self.position.offset),
                    format!("cannot read: {e}"),
                );
                return result;
            }
        };
        let complete = match memchr::memrchr(b'\n', &bytes) {
            Some(i) => i + 1,
            None if bytes.len() >= MAX_LINE || self.skipping => {
                // No end in sight: skip what there is of this line.
                if !self.skipping {
                    result.out.warn(
                        name,
                        format!("line {}", self.position.line + 1),
                        format!("line longer than {} MiB: skipped", MAX_LINE >> 20),
                    );
                    result.out.skip("line too long");
                }
                self.skipping = true;
                self.position.offset += bytes.len() as u64;
                result.out.stats.bytes += bytes.len() as u64;
                result.at_end = self.position.offset == len;
                return result;
            }
            None => 0,
        };
        if self.position.offset == 0 {
            match shape(&bytes[..complete]) {
                Some(true) => result.out.stats.files += 1,
                Some(false) => {
                    result.out.warn(
                        name,
                        "offset 0x0",
                        "a JSON document, not JSON lines: not followed (hunt it without --follow)",
                    );
                    result.out.stats.files += 1;
                    result.out.stats.files_skipped += 1;
                    self.abandoned = true;
                    return result;
                }
                None => return result, // too few lines yet to tell
            }
        }
        let mut lines = Vec::new();
        let mut start = 0;
        let mut number = self.position.line;
        for end in memchr::memchr_iter(b'\n', &bytes[..complete]) {
            number += 1;
            let line = &bytes[start..end];
            start = end + 1;
            if std::mem::take(&mut self.skipping) {
                continue; // the end of an over-long line
            }
            lines.push((number, line));
        }
        self.feed(name, &lines, opts, &mut result.out);
        self.position.line = number;
        self.position.offset += complete as u64;
        result.out.stats.bytes += complete as u64;
        result.at_end = self.position.offset == len;
        result
    }

    /// Read lines handed over by the caller (standard input), each with its 1-based number.
    pub fn read_lines(
        &mut self,
        name: &Arc<str>,
        lines: &[(u64, Vec<u8>)],
        opts: &ReadOptions,
    ) -> FileOutput {
        let mut out = FileOutput::default();
        if self.position.line == 0 && !lines.is_empty() {
            out.stats.files += 1;
        }
        let borrowed: Vec<(u64, &[u8])> = lines.iter().map(|(n, l)| (*n, l.as_slice())).collect();
        if !self.abandoned {
            self.feed(name, &borrowed, opts, &mut out);
        }
        if let Some((n, _)) = lines.last() {
            self.position.line = *n;
        }
        out.stats.bytes += lines.iter().map(|(_, l)| l.len() as u64 + 1).sum::<u64>();
        out
    }

    fn feed(
        &mut self,
        name: &Arc<str>,
        lines: &[(u64, &[u8])],
        opts: &ReadOptions,
        out: &mut FileOutput,
    ) {
        let mut sink = Sink::new(name, opts, out);
        if let Some(f) = self.flavour {
            sink.set_flavour(f);
        }
        for &(number, line) in lines {
            let line = if number == 1 {
                line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line)
            } else {
                line
            };
            let line = line.trim_ascii();
            if sink.abandoned() {
                break;
            }
            if !line.is_empty() {
                sink.line(line, Locator::Line(number));
            }
        }
        self.flavour = sink.flavour();
        self.abandoned |= sink.abandoned();
        sink.finish();
    }
}

#[cfg(test)]
mod tests {
    use std::fs::OpenOptions;
    use std::io::Write;

    use super::*;

    const LINE: &str = r#"{"EventID":7045,"EventTime":"2024-05-06T08:00:00Z","Hostname":"H","SourceName":"Service Control Manager","Channel":"System","ServiceName":"PSEXESVC"}"#;

    #[test]
    fn only_complete_lines_are_read_each_once_numbered_from_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.jsonl");
        let mut w = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        let name: Arc<str> = "e.jsonl".into();
        let opts = ReadOptions::default();
        let mut tail = LinesTail::default();
        let file = File::open(&path).unwrap();
        write!(w, "{LINE}\n\n{}", &LINE[..40]).unwrap();
        let first = tail.read_file(&name, &file, &opts, 1 << 20);
        assert_eq!(first.out.events.len(), 1);
        write!(w, "{}\n{LINE}\n", &LINE[40..]).unwrap();
        let second = tail.read_file(&name, &file, &opts, 1 << 20);
        let lines: Vec<Locator> = second.out.events.iter().map(|e| e.origin.locator).collect();
        assert_eq!(lines, [Locator::Line(3), Locator::Line(4)]);
        assert!(
            tail.read_file(&name, &file, &opts, 1 << 20)
                .out
                .events
                .is_empty()
        );
        // Truncated (copy-truncate rotation) and written again: read from the start.
        std::fs::write(&path, format!("{LINE}\n")).unwrap();
        let again = tail.read_file(&name, &file, &opts, 1 << 20);
        assert!(again.restarted);
        assert_eq!(again.out.events[0].origin.locator, Locator::Line(1));
    }

    #[test]
    fn a_json_document_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("truth.json");
        std::fs::write(
            &path,
            "{\n  \"a\": 1,\n  \"b\": [\n1,\n2,\n3,\n4\n],\n  \"c\": 2\n}\n",
        )
        .unwrap();
        let file = File::open(&path).unwrap();
        let mut tail = LinesTail::default();
        let read = tail.read_file(
            &"truth.json".into(),
            &file,
            &ReadOptions::default(),
            1 << 20,
        );
        assert!(tail.abandoned());
        assert_eq!(read.out.warnings.len(), 1, "{:?}", read.out.warnings);
        assert!(read.out.warnings[0].message.contains("not JSON lines"));
    }
}
