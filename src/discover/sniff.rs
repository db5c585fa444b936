//! Telling a format from an input's first bytes: magic numbers for the binary formats and
//! containers, the first structure of a text for JSON, XML and CSV. File names are never
//! consulted here (a `.evtx` holding text is text); they only help, elsewhere, to say what a
//! file that is no event log at all is.

use crate::read::csv_export;
use crate::read::evtx;

/// What a file's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A binary EVTX log.
    Evtx,
    /// JSON or JSON lines.
    Json,
    /// XML events (Event Viewer's "Save as XML", `wevtutil qe /f:xml`).
    Xml,
    /// Comma-separated values whose header is that of a known event export.
    Csv,
    /// Text in UTF-16 (a byte-order mark first): transcoded, then sniffed again.
    Utf16,
    /// A zip archive.
    Zip,
    /// A 7-Zip archive.
    SevenZip,
    /// A tar archive (POSIX or GNU).
    Tar,
    /// A gzip stream.
    Gzip,
    /// A bzip2 stream.
    Bzip2,
    /// An xz stream.
    Xz,
}

impl Format {
    /// True for the formats that wrap other inputs.
    pub fn is_container(self) -> bool {
        matches!(
            self,
            Format::Zip
                | Format::SevenZip
                | Format::Tar
                | Format::Gzip
                | Format::Bzip2
                | Format::Xz
        )
    }
}

/// How many leading bytes [`sniff`] wants to see (a tar header's magic is at 257).
pub const SNIFF_LEN: usize = 4096;

/// Recognise a format from the first bytes of an input (up to [`SNIFF_LEN`] when available).
pub fn sniff(head: &[u8]) -> Option<Format> {
    if head.starts_with(evtx::MAGIC) {
        return Some(Format::Evtx);
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Some(Format::Zip);
    }
    if head.starts_with(&[0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]) {
        return Some(Format::SevenZip);
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        return Some(Format::Gzip);
    }
    if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        return Some(Format::Xz);
    }
    if is_bzip2(head) {
        return Some(Format::Bzip2);
    }
    if head.get(257..262) == Some(b"ustar") {
        return Some(Format::Tar);
    }
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        return Some(Format::Utf16);
    }
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = text.trim_ascii_start();
    let first = start.first()?;
    // evtx_dump's default JSON output starts with a `Record 1` line before the first object.
    if *first == b'{' || start.starts_with(b"Record ") || is_json_array(start) {
        return Some(Format::Json);
    }
    if *first == b'<' {
        return is_event_xml(start).then_some(Format::Xml);
    }
    csv_export::known_header(text).then_some(Format::Csv)
}

/// `[` followed by what a JSON value starts with (`[package]` and `[Section]` are TOML and INI).
fn is_json_array(text: &[u8]) -> bool {
    let Some(rest) = text.strip_prefix(b"[") else {
        return false;
    };
    match rest.trim_ascii_start().first() {
        None => true,
        Some(b) => matches!(
            b,
            b'{' | b'[' | b']' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n'
        ),
    }
}

/// `BZh`, a block size digit, then the magic of a first block or of the end of the stream.
fn is_bzip2(head: &[u8]) -> bool {
    head.len() >= 10
        && head.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&head[3])
        && (head[4..10] == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]
            || head[4..10] == [0x17, 0x72, 0x45, 0x38, 0x50, 0x90])
}

/// XML whose first element is `<Events>` or `<Event>` (after a declaration, comments and
/// processing instructions).
fn is_event_xml(text: &[u8]) -> bool {
    let mut rest = text;
    loop {
        rest = rest.trim_ascii_start();
        if rest.starts_with(b"<?") {
            match memchr::memmem::find(rest, b"?>") {
                Some(end) => rest = &rest[end + 2..],
                None => return false,
            }
        } else if rest.starts_with(b"<!--") {
            match memchr::memmem::find(rest, b"-->") {
                Some(end) => rest = &rest[end + 3..],
                None => return false,
            }
        } else {
            break;
        }
    }
    let name_end = rest
        .iter()
        .skip(1)
        .position(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/')
        .map(|p| p + 1);
    let Some(end) = name_end else { return false };
    let name = &rest[1..end];
    // A namespace prefix is allowed (`<evt:Event>`), though Windows writes none.
    let local = name.rsplit(|b| *b == b':').next().unwrap_or(name);
    local == b"Events" || local == b"Event"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"ElfFile\0rest"), Some(Format::Evtx));
        assert_eq!(sniff(b"PK\x03\x04"), Some(Format::Zip));
        assert_eq!(sniff(&[0x1f, 0x8b, 8]), Some(Format::Gzip));
        assert_eq!(sniff(b"7z\xbc\xaf\x27\x1c\0\x04"), Some(Format::SevenZip));
        assert_eq!(sniff(b"\xfd7zXZ\0\0\x04"), Some(Format::Xz));
        assert_eq!(sniff(b"BZh91AY&SYxx"), Some(Format::Bzip2));
        assert_eq!(sniff(b"BZh9not bzip"), None);
        let mut tar = vec![0u8; 512];
        tar[257..263].copy_from_slice(b"ustar\0");
        assert_eq!(sniff(&tar), Some(Format::Tar));
        assert_eq!(sniff(b"\xff\xfe<\0"), Some(Format::Utf16));
        assert_eq!(sniff(b"\xef\xbb\xbf  {\"a\":1}"), Some(Format::Json));
        assert_eq!(sniff(b"\n[{}]"), Some(Format::Json));
        assert_eq!(sniff(b"[\r\n  {\"Id\": 7045"), Some(Format::Json));
        assert_eq!(sniff(b"[package]\nname = \"x\""), None, "TOML");
        assert_eq!(
            sniff(b"TimeGenerated [UTC],Computer,EventID,Activity\n1,2"),
            Some(Format::Csv)
        );
        assert_eq!(sniff(b"evtx/System.evtx"), None);
        assert_eq!(
            sniff(b"use std::{fmt, io};\n"),
            None,
            "a comma is not a CSV"
        );
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn event_xml_by_its_first_element() {
        assert_eq!(
            sniff(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<Events><Event xmlns=\"x\">"),
            Some(Format::Xml)
        );
        assert_eq!(sniff(b"<Event xmlns='x'><System>"), Some(Format::Xml));
        assert_eq!(sniff(b"<!-- c --><Events/>"), Some(Format::Xml));
        assert_eq!(sniff(b"<?xml version=\"1.0\"?><project>"), None);
        assert_eq!(sniff(b"<EventsXYZ>"), None);
    }
}
