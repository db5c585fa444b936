//! Finding inputs: walk the given paths, recognise each file by its content, unwrap containers.
//!
//! Formats are recognised by their first bytes (`sniff`), never by file name. Archives and
//! compressed streams (zip, 7z, tar, gzip, bzip2, xz, nested up to [`MAX_NESTING`] deep) are
//! read as streams, member by member, never extracted (`archive`); their members are inputs
//! of their own (`archive.zip!member.json`), and all that one input inflates to is bounded
//! (`inflate`). Symlinks are reported and not followed (a collection copied from a live
//! system is full of them, and following them can read outside the evidence); named pipes and
//! devices are reported and never opened (opening a pipe would wait forever); unreadable
//! entries are reported and counted, not fatal. Files that are no event log at all are counted
//! by kind, not warned about one by one (`kinds`).

mod archive;
mod collection;
mod inflate;
mod kinds;
pub mod sniff;

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

pub use sniff::{Format, sniff};

use crate::read::evtx::{self, EvtxBytes};
use crate::read::{FileOutput, ReadOptions, Warning, csv_export, evtx_stream, json, xml_events};
use inflate::{Budget, Inflated, Utf16Reader};

/// The files found under the given paths, in a stable order, plus what could not be walked.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Inputs to read, in walk order (sorted by name within each folder): regular files, and
    /// also the entries that cannot be read (a named pipe, a device, a folder that cannot be
    /// listed, a path that does not exist), which [`read_file`] reports and counts without
    /// opening them.
    pub files: Vec<PathBuf>,
    /// Symlinks skipped (a policy, not a loss).
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
                Ok(e) if e.path_is_symlink() => d.warnings.push(Warning {
                    file: display(e.path()),
                    location: String::new(),
                    message: "symbolic link not followed".into(),
                }),
                Ok(e) if e.file_type().is_dir() => {}
                // Regular files, and pipes, sockets and devices for read_file to report.
                Ok(e) => d.files.push(e.into_path()),
                Err(err) => match err.path() {
                    Some(p) => d.files.push(p.to_path_buf()),
                    None => d.warnings.push(Warning {
                        file: display(root),
                        location: String::new(),
                        message: err.to_string(),
                    }),
                },
            }
        }
    }
    d.files.dedup();
    d
}

fn display(p: &Path) -> Arc<str> {
    p.display().to_string().into()
}

/// How deep archives may nest (a zip inside a zip is common in evidence hand-offs, a tar inside
/// a gzip is one level each; deeper is more likely a zip bomb).
pub const MAX_NESTING: usize = 4;

/// One input being read: its display name, the name of the file it is (the archive member's
/// own name, or the file's, without the compression suffix), and how deep in archives it is.
#[derive(Debug, Clone)]
struct Input {
    name: Arc<str>,
    file_name: String,
    depth: usize,
}

impl Input {
    /// A member or decompressed stream of this input.
    fn inner(&self, suffix: &str, file_name: String) -> Input {
        Input {
            name: format!("{}!{suffix}", self.name).into(),
            file_name,
            depth: self.depth + 1,
        }
    }
}

/// What every input inside one file shares.
struct Ctx<'a> {
    opts: &'a ReadOptions,
    budget: Rc<Budget>,
}

/// Read one discovered path, whatever it holds.
pub fn read_file(path: &Path, opts: &ReadOptions) -> FileOutput {
    let mut out = FileOutput::default();
    let name = display(path);
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) => {
            let message = if e.kind() == std::io::ErrorKind::NotFound {
                "no such file or directory".to_string()
            } else {
                format!("cannot read: {e}")
            };
            out.warn(&name, "", message);
            out.stats.files_skipped += 1;
            return out;
        }
    };
    if meta.is_dir() {
        let why = match fs::read_dir(path) {
            Err(e) => format!("cannot read folder: {e}"),
            Ok(_) => "folder could not be walked".to_string(),
        };
        out.warn(&name, "", format!("{why}: nothing under it was read"));
        out.stats.files_skipped += 1;
        return out;
    }
    if !meta.is_file() {
        out.warn(
            &name,
            "",
            format!(
                "{}: not a regular file, not opened",
                kinds::special_file(&meta)
            ),
        );
        out.stats.files_skipped += 1;
        return out;
    }
    if collection::bookkeeping_file(path) {
        kinds::not_a_log(&name, "collector bookkeeping files", opts, &mut out);
        return out;
    }
    if path
        .file_name()
        .is_some_and(|n| kinds::is_config_name(&n.to_string_lossy()))
    {
        kinds::not_a_log(&name, "configuration and data files", opts, &mut out);
        return out;
    }
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            out.warn(&name, "", format!("cannot open: {e}"));
            out.stats.files_skipped += 1;
            return out;
        }
    };
    let len = meta.len();
    let mut head = Vec::with_capacity(sniff::SNIFF_LEN);
    if let Err(e) = (&file).take(sniff::SNIFF_LEN as u64).read_to_end(&mut head) {
        out.warn(&name, "", format!("cannot read: {e}"));
        out.stats.files_skipped += 1;
        return out;
    }
    let input = Input {
        name: name.clone(),
        file_name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        depth: 0,
    };
    let with_host = with_collection_host(path, opts);
    let opts = &*with_host;
    let ctx = Ctx {
        opts,
        budget: Budget::for_input(len, opts),
    };
    match sniff(&head) {
        Some(Format::Evtx) => evtx::read_evtx(&name, EvtxBytes::File(&file, len), opts, &mut out),
        Some(Format::Zip) => archive::read_zip(&input, BufReader::new(file), &ctx, &mut out),
        Some(Format::SevenZip) => {
            archive::read_7z(&input, BufReader::new(file), &ctx, &mut out);
        }
        Some(_) => {
            // The head was read off the file: put it back in front of the rest.
            let reader = BufReader::with_capacity(1 << 20, Cursor::new(head).chain(file));
            read_stream(&input, Box::new(reader), &ctx, &mut out);
        }
        None => kinds::unrecognised(&input.name, &input.file_name, &head, opts, &mut out),
    }
    out
}

/// Read one input held in memory as [`read_file`] reads a file of that path and content: a
/// file's bytes handed over by another front end (a Spark executor reading object storage has
/// bytes, not a file). `name` is the path shown in warnings and origins, and what the
/// name-based decisions (bookkeeping and configuration files, the host a collection's folder
/// names) are made on.
pub fn read_bytes(name: &str, data: &[u8], opts: &ReadOptions) -> FileOutput {
    let mut out = FileOutput::default();
    let path = Path::new(name);
    let shown: Arc<str> = name.into();
    if collection::bookkeeping_file(path) {
        kinds::not_a_log(&shown, "collector bookkeeping files", opts, &mut out);
        return out;
    }
    if path
        .file_name()
        .is_some_and(|n| kinds::is_config_name(&n.to_string_lossy()))
    {
        kinds::not_a_log(&shown, "configuration and data files", opts, &mut out);
        return out;
    }
    let input = Input {
        name: shown.clone(),
        file_name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        depth: 0,
    };
    let with_host = with_collection_host(path, opts);
    let opts = &*with_host;
    let ctx = Ctx {
        opts,
        budget: Budget::for_input(data.len() as u64, opts),
    };
    let head = &data[..data.len().min(sniff::SNIFF_LEN)];
    match sniff(head) {
        Some(Format::Evtx) => evtx::read_evtx(&shown, EvtxBytes::Memory(data), opts, &mut out),
        Some(Format::Zip) => archive::read_zip(&input, Cursor::new(data), &ctx, &mut out),
        Some(Format::SevenZip) => archive::read_7z(&input, Cursor::new(data), &ctx, &mut out),
        Some(_) => read_stream(&input, Box::new(data), &ctx, &mut out),
        None => kinds::unrecognised(&input.name, &input.file_name, head, opts, &mut out),
    }
    out
}

/// Read a stream whose format is sniffed from its first bytes.
fn read_stream(input: &Input, reader: Box<dyn BufRead + '_>, ctx: &Ctx<'_>, out: &mut FileOutput) {
    let name = &input.name;
    let opts = ctx.opts;
    let mut head = Vec::with_capacity(sniff::SNIFF_LEN);
    let mut reader = reader;
    // On an error, what was read is still sniffed: its reader meets the error and reports it.
    if let Err(e) = (&mut reader)
        .take(sniff::SNIFF_LEN as u64)
        .read_to_end(&mut head)
        && head.is_empty()
    {
        // Nothing of it could be read: a skipped input, counted once as such.
        out.warn(name, "offset 0x0", format!("cannot read: {e}"));
        out.stats.files_skipped += 1;
        return;
    }
    let format = sniff(&head);
    let mut reader: Box<dyn BufRead + '_> = Box::new(BufReader::with_capacity(
        1 << 16,
        Cursor::new(head.clone()).chain(reader),
    ));
    match format {
        Some(Format::Evtx) => evtx_stream::read_evtx_stream(name, &mut reader, opts, out),
        Some(Format::Json) => {
            out.stats.files += 1;
            json::read_json(name, &mut reader, opts, out)
        }
        Some(Format::Csv) => {
            out.stats.files += 1;
            csv_export::read_csv(name, &mut reader, opts, out)
        }
        Some(Format::Xml) => {
            out.stats.files += 1;
            xml_events::read_xml(name, &mut reader, opts, out)
        }
        Some(Format::Utf16) => {
            let text = BufReader::with_capacity(1 << 16, Utf16Reader::new(reader));
            read_stream(input, Box::new(text), ctx, out);
        }
        Some(f) if f.is_container() && input.depth >= MAX_NESTING => {
            out.warn(
                name,
                "",
                format!("archives nested deeper than {MAX_NESTING}: not opened"),
            );
            out.stats.files_skipped += 1;
        }
        Some(Format::Gzip) => {
            let inner = flate2::bufread::MultiGzDecoder::new(reader);
            decompressed(input, "gunzip", &[".gz", ".tgz"], inner, ctx, out);
        }
        Some(Format::Bzip2) => {
            let inner = bzip2::bufread::MultiBzDecoder::new(reader);
            decompressed(
                input,
                "bunzip2",
                &[".bz2", ".tbz2", ".tbz"],
                inner,
                ctx,
                out,
            );
        }
        Some(Format::Xz) => {
            let inner = lzma_rust2::XzReader::new(reader, true);
            decompressed(input, "unxz", &[".xz", ".txz"], inner, ctx, out);
        }
        Some(Format::Tar) => archive::read_tar(input, reader, ctx, out),
        Some(Format::Zip | Format::SevenZip) => {
            // Both need random access: hold the nested archive (not its members) aside.
            match inflate::spool(&mut reader) {
                Ok(spooled) if format == Some(Format::Zip) => {
                    archive::read_zip(input, spooled, ctx, out)
                }
                Ok(spooled) => archive::read_7z(input, spooled, ctx, out),
                Err(e) => {
                    out.lost_rest(name, "", &e);
                    out.stats.files_skipped += 1;
                }
            }
        }
        None => kinds::unrecognised(name, &input.file_name, &head, opts, out),
    }
}

/// Read what a decompressor yields as an input of its own, charged to the budget.
fn decompressed(
    input: &Input,
    step: &str,
    suffixes: &[&str],
    decoder: impl Read,
    ctx: &Ctx<'_>,
    out: &mut FileOutput,
) {
    let lower = input.file_name.to_ascii_lowercase();
    let file_name = suffixes
        .iter()
        .find_map(|s| {
            lower.ends_with(s).then(|| {
                let stem = &input.file_name[..input.file_name.len() - s.len()];
                // `.tgz` is `.tar.gz`.
                if s.starts_with(".t") {
                    format!("{stem}.tar")
                } else {
                    stem.to_string()
                }
            })
        })
        .unwrap_or_else(|| input.file_name.clone());
    let inner = input.inner(step, file_name);
    let reader = BufReader::with_capacity(1 << 16, Inflated::new(decoder, ctx.budget.clone()));
    read_stream(&inner, Box::new(reader), ctx, out);
}

/// `opts` with the host a collection's layout names for `path`, given
/// to the records that name no computer, unless a host is already set.
fn with_collection_host<'a>(
    path: &Path,
    opts: &'a ReadOptions,
) -> std::borrow::Cow<'a, ReadOptions> {
    match collection::host_from_path(path) {
        Some(h) if opts.collection_host.is_none() => {
            let mut o = opts.clone();
            o.collection_host = Some(h.into());
            std::borrow::Cow::Owned(o)
        }
        _ => std::borrow::Cow::Borrowed(opts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn missing_paths_are_reported_and_counted() {
        let d = discover(&[PathBuf::from("/definitely/not/here")]);
        assert_eq!(d.files, [PathBuf::from("/definitely/not/here")]);
        let out = read_file(&d.files[0], &ReadOptions::default());
        assert_eq!(out.stats.files_skipped, 1);
        assert!(out.warnings[0].message.contains("no such file"));
    }
}
