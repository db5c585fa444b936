//! Finding inputs: walk the given paths, recognise each file by its content, unwrap containers.
//!
//! Formats are recognised by their first bytes, never by file name: `ElfFile\0` is EVTX, `PK`
//! is a zip archive, `1f 8b` is gzip, `{` or `[` is JSON, a header line with commas is CSV.
//! Archive members are read as inputs of their own (`archive.zip!member.json`). Symlinks are
//! reported and not followed (a collection copied from a live system is full of them, and
//! following them can read outside the evidence); unreadable entries are reported, not fatal.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::read::evtx::{self, EvtxBytes};
use crate::read::{FileOutput, ReadOptions, Warning, csv_export, json};

/// What a file's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A binary EVTX log.
    Evtx,
    /// JSON or JSON lines.
    Json,
    /// Comma-separated values with a header line.
    Csv,
    /// A zip archive.
    Zip,
    /// A gzip stream.
    Gzip,
}

/// Recognise a format from the first bytes of an input (at least a few hundred when available).
pub fn sniff(head: &[u8]) -> Option<Format> {
    if head.starts_with(evtx::MAGIC) {
        return Some(Format::Evtx);
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Some(Format::Zip);
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        return Some(Format::Gzip);
    }
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let first = text.iter().find(|b| !b.is_ascii_whitespace())?;
    // evtx_dump's default JSON output starts with a `Record 1` line before the first object.
    if *first == b'{' || *first == b'[' || text.trim_ascii_start().starts_with(b"Record ") {
        return Some(Format::Json);
    }
    let line_end = memchr::memchr(b'\n', text).unwrap_or(text.len());
    let line = &text[..line_end];
    if !line.contains(&0)
        && std::str::from_utf8(line).is_ok()
        && memchr::memchr(b',', line).is_some()
    {
        return Some(Format::Csv);
    }
    None
}

/// The files found under the given paths, in a stable order, plus what could not be walked.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Regular files to read, sorted by path.
    pub files: Vec<PathBuf>,
    /// Symlinks skipped, unreadable directories, paths that do not exist.
    pub warnings: Vec<Warning>,
}

/// Walk `paths` recursively.
pub fn discover(paths: &[PathBuf]) -> Discovery {
    let mut d = Discovery::default();
    for root in paths {
        let walker = walkdir::WalkDir::new(root)
            .follow_links(false)
            .sort_by_file_name();
        for entry in walker {
            match entry {
                Ok(e) if e.file_type().is_file() => d.files.push(e.into_path()),
                Ok(e) if e.path_is_symlink() => d.warnings.push(Warning {
                    file: display(e.path()),
                    location: String::new(),
                    message: "symbolic link not followed".into(),
                }),
                Ok(_) => {}
                Err(err) => d.warnings.push(Warning {
                    file: display(err.path().unwrap_or(root)),
                    location: String::new(),
                    message: match err.io_error() {
                        Some(io) if io.kind() == std::io::ErrorKind::NotFound => {
                            "no such file or directory".into()
                        }
                        Some(io) => format!("cannot read: {io}"),
                        None => err.to_string(),
                    },
                }),
            }
        }
    }
    d.files.dedup();
    d
}

fn display(p: &Path) -> Arc<str> {
    p.display().to_string().into()
}

/// How deep archives may nest (a zip inside a zip is common in evidence hand-offs; deeper is
/// more likely a zip bomb).
const MAX_NESTING: usize = 3;

/// Read one discovered file, whatever it holds.
pub fn read_file(path: &Path, opts: &ReadOptions) -> FileOutput {
    let mut out = FileOutput::default();
    let name = display(path);
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            out.warn(&name, "", format!("cannot open: {e}"));
            out.stats.files_skipped += 1;
            return out;
        }
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut head = vec![0u8; 4096.min(len as usize)];
    if let Err(e) = (&file).read_exact(&mut head) {
        out.warn(&name, "", format!("cannot read: {e}"));
        out.stats.files_skipped += 1;
        return out;
    }
    match sniff(&head) {
        Some(Format::Evtx) => evtx::read_evtx(&name, EvtxBytes::File(&file, len), opts, &mut out),
        Some(_) => {
            // The head was read off the file: put it back in front of the rest.
            let reader = BufReader::with_capacity(1 << 20, Cursor::new(head).chain(file));
            read_stream(&name, Box::new(reader), opts, &mut out, 0);
        }
        None if len == 0 => {
            out.warn(&name, "", "empty file");
            out.stats.files_skipped += 1;
        }
        None => {
            out.warn(
                &name,
                "offset 0x0",
                "not a recognised format (EVTX, JSON, CSV, zip, gzip)",
            );
            out.stats.files_skipped += 1;
        }
    }
    out
}

/// Read one input held in memory, named `name` in warnings and origins: a file's bytes handed
/// over by another front end (a Spark executor reading object storage has bytes, not a path).
pub fn read_bytes(name: &str, data: &[u8], opts: &ReadOptions) -> FileOutput {
    let mut out = FileOutput::default();
    let name: Arc<str> = name.into();
    match sniff(&data[..data.len().min(4096)]) {
        Some(Format::Evtx) => evtx::read_evtx(&name, EvtxBytes::Memory(data), opts, &mut out),
        _ => read_stream(&name, Box::new(data), opts, &mut out, 0),
    }
    out
}

/// Read a stream whose format is sniffed from its first bytes.
fn read_stream(
    name: &Arc<str>,
    mut reader: Box<dyn BufRead + '_>,
    opts: &ReadOptions,
    out: &mut FileOutput,
    depth: usize,
) {
    let head = match reader.fill_buf() {
        Ok(h) => h.to_vec(),
        Err(e) => {
            out.warn(name, "", format!("cannot read: {e}"));
            out.stats.files_skipped += 1;
            return;
        }
    };
    match sniff(&head) {
        Some(Format::Json) => {
            out.stats.files += 1;
            json::read_json(name, &mut reader, opts, out)
        }
        Some(Format::Csv) => {
            out.stats.files += 1;
            csv_export::read_csv(name, &mut reader, opts, out)
        }
        Some(Format::Evtx) => {
            // EVTX needs random access to its chunks: hold this member in memory.
            let mut buf = Vec::new();
            if let Err(e) = reader.read_to_end(&mut buf) {
                out.warn(
                    name,
                    format!("offset {:#x}", buf.len()),
                    format!("read failed: {e}"),
                );
            }
            evtx::read_evtx(name, EvtxBytes::Memory(&buf), opts, out);
        }
        Some(Format::Gzip) if depth < MAX_NESTING => {
            let inner = BufReader::new(flate2::bufread::MultiGzDecoder::new(reader));
            let inner_name: Arc<str> = format!("{name}!gunzip").into();
            read_stream(&inner_name, Box::new(inner), opts, out, depth + 1);
        }
        Some(Format::Zip) if depth < MAX_NESTING => {
            // The zip crate needs Seek; archives are read whole, members streamed from memory.
            let mut buf = Vec::new();
            if let Err(e) = reader.read_to_end(&mut buf) {
                out.warn(name, "", format!("read failed: {e}"));
                out.stats.files_skipped += 1;
                return;
            }
            read_zip(name, buf, opts, out, depth);
        }
        Some(Format::Gzip | Format::Zip) => {
            out.warn(
                name,
                "",
                format!("archives nested deeper than {MAX_NESTING}: not opened"),
            );
            out.stats.files_skipped += 1;
        }
        None if head.is_empty() => {
            out.warn(name, "", "empty input");
            out.stats.files_skipped += 1;
        }
        None => {
            out.warn(
                name,
                "offset 0x0",
                "not a recognised format (EVTX, JSON, CSV, zip, gzip)",
            );
            out.stats.files_skipped += 1;
        }
    }
}

fn read_zip(name: &Arc<str>, buf: Vec<u8>, opts: &ReadOptions, out: &mut FileOutput, depth: usize) {
    let mut archive = match zip::ZipArchive::new(Cursor::new(buf)) {
        Ok(a) => a,
        Err(e) => {
            out.warn(name, "", format!("unreadable zip archive: {e}"));
            out.stats.files_skipped += 1;
            return;
        }
    };
    for i in 0..archive.len() {
        let member = match archive.by_index(i) {
            Ok(m) => m,
            Err(e) => {
                out.warn(name, format!("member {i}"), format!("unreadable: {e}"));
                out.stats.files_skipped += 1;
                continue;
            }
        };
        if member.is_dir() {
            continue;
        }
        let member_name = member.name().to_string();
        // macOS archivers add resource forks beside every file; they are never logs.
        if member_name.starts_with("__MACOSX/") {
            continue;
        }
        let inner_name: Arc<str> = format!("{name}!{member_name}").into();
        let reader = BufReader::with_capacity(1 << 20, member);
        read_stream(&inner_name, Box::new(reader), opts, out, depth + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"ElfFile\0rest"), Some(Format::Evtx));
        assert_eq!(sniff(b"PK\x03\x04"), Some(Format::Zip));
        assert_eq!(sniff(&[0x1f, 0x8b, 8]), Some(Format::Gzip));
        assert_eq!(sniff(b"\xef\xbb\xbf  {\"a\":1}"), Some(Format::Json));
        assert_eq!(sniff(b"\n[{}]"), Some(Format::Json));
        assert_eq!(
            sniff(b"TimeGenerated [UTC],Computer\n1,2"),
            Some(Format::Csv)
        );
        assert_eq!(sniff(b"evtx/System.evtx"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn a_text_file_named_evtx_is_a_located_warning() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("link_to_System.evtx");
        std::fs::write(&p, b"evtx/System.evtx").unwrap();
        let out = read_file(&p, &ReadOptions::default());
        assert_eq!(out.stats.files_skipped, 1);
        assert!(out.warnings[0].message.contains("not a recognised format"));
    }

    #[test]
    fn missing_paths_are_reported() {
        let d = discover(&[PathBuf::from("/definitely/not/here")]);
        assert!(d.files.is_empty());
        assert!(d.warnings[0].message.contains("no such file"));
    }
}
