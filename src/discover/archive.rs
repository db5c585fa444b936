//! Archive members read one after another as streams: zip (through its central directory),
//! tar (header by header), 7z (block by block, one decoder per block). Each member is an input
//! of its own, sniffed like a file; what it inflates to is charged to the enclosing input's
//! [`Budget`](super::inflate::Budget). Encrypted members are reported and counted, never
//! guessed at: svchunt tries no password. Directory entries and macOS resource forks are
//! skipped; links inside an archive are reported, not followed, as on disk.

use std::io::{self, BufReader, Read, Seek};

use super::inflate::Inflated;
use super::{Ctx, Input, collection, kinds, read_stream};
use crate::read::FileOutput;

/// What a reader who meets an encrypted member is told.
const ENCRYPTED: &str =
    "encrypted: not read (svchunt tries no password; decrypt the archive and read its files)";

/// Read one member's bytes as an input of its own, then drain what the member's reader left
/// (a solid 7z block decodes its members in sequence).
fn member(parent: &Input, path: &str, reader: &mut dyn Read, ctx: &Ctx<'_>, out: &mut FileOutput) {
    let file_name = path.rsplit(['/', '\\']).next().unwrap_or(path).to_string();
    let input = parent.inner(path, file_name);
    let mut charged = Inflated::new(reader, ctx.budget.clone());
    read_stream(
        &input,
        Box::new(BufReader::with_capacity(1 << 16, &mut charged)),
        ctx,
        out,
    );
    // Errors here were met, and reported, by the member's reader already.
    let _ = io::copy(&mut charged, &mut io::sink());
}

/// Count a member that cannot be read at all.
fn skipped_member(parent: &Input, path: &str, message: &str, out: &mut FileOutput) {
    let name = format!("{}!{path}", parent.name).into();
    out.warn(&name, "", message);
    out.stats.files_skipped += 1;
}

/// Read every member of a zip archive.
pub(super) fn read_zip<R: Read + Seek>(
    input: &Input,
    source: R,
    ctx: &Ctx<'_>,
    out: &mut FileOutput,
) {
    let mut archive = match zip::ZipArchive::new(source) {
        Ok(a) => a,
        Err(e) => {
            out.warn(&input.name, "", format!("unreadable zip archive: {e}"));
            out.stats.files_skipped += 1;
            return;
        }
    };
    let names: Vec<String> = (0..archive.len())
        .map(|i| {
            archive
                .by_index_raw(i)
                .map(|m| m.name().to_string())
                .unwrap_or_default()
        })
        .collect();
    let velociraptor = collection::is_velociraptor(&names);
    let host = velociraptor
        .then(|| archive.by_name("client_info.json").ok())
        .flatten()
        .and_then(|mut f| collection::host_from_client_info(&mut f));
    let with_host;
    let ctx = match host {
        Some(h) => {
            with_host = {
                let mut o = ctx.opts.clone();
                o.collection_host = Some(h.into());
                o
            };
            &Ctx {
                opts: &with_host,
                budget: ctx.budget.clone(),
            }
        }
        None => ctx,
    };
    for (i, path) in names.iter().enumerate() {
        if ctx.budget.exhausted() {
            break;
        }
        let (is_dir, encrypted, symlink) = match archive.by_index_raw(i) {
            Ok(m) => (m.is_dir(), m.encrypted(), m.is_symlink()),
            Err(e) => {
                skipped_member(
                    input,
                    &format!("member {i}"),
                    &format!("unreadable: {e}"),
                    out,
                );
                continue;
            }
        };
        // macOS archivers add resource forks beside every file; they are never logs.
        if is_dir || path.starts_with("__MACOSX/") {
            continue;
        }
        if velociraptor && collection::velociraptor_bookkeeping(path) {
            let name = format!("{}!{path}", input.name).into();
            kinds::not_a_log(&name, "collector bookkeeping files", ctx.opts, out);
            continue;
        }
        if encrypted {
            skipped_member(input, path, ENCRYPTED, out);
            continue;
        }
        if symlink {
            let name = format!("{}!{path}", input.name).into();
            out.warn(&name, "", "symbolic link not followed");
            continue;
        }
        match archive.by_index(i) {
            Ok(mut m) => member(input, path, &mut m, ctx, out),
            Err(e) => skipped_member(input, path, &format!("unreadable member: {e}"), out),
        }
    }
}

/// Read every member of a tar archive, in order.
pub(super) fn read_tar(
    input: &Input,
    reader: Box<dyn io::BufRead + '_>,
    ctx: &Ctx<'_>,
    out: &mut FileOutput,
) {
    let mut archive = tar::Archive::new(reader);
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => {
            out.lost_rest(&input.name, "", &e);
            out.stats.files_skipped += 1;
            return;
        }
    };
    for (members, entry) in entries.enumerate() {
        if ctx.budget.exhausted() {
            break;
        }
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                // A damaged or truncated header: nothing after it can be found.
                out.lost_rest(&input.name, format!("after member {members}"), &e);
                break;
            }
        };
        let path = entry.path().map_or_else(
            |_| String::from_utf8_lossy(&entry.path_bytes()).into_owned(),
            |p| p.to_string_lossy().into_owned(),
        );
        match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                member(input, &path, &mut entry, ctx, out);
            }
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let name = format!("{}!{path}", input.name).into();
                out.warn(&name, "", "link not followed");
            }
            // Folders, and the devices and pipes a tar of a live system may hold.
            _ => {}
        }
    }
}

/// Read every member of a 7z archive, block by block.
pub(super) fn read_7z<R: Read + Seek>(
    input: &Input,
    mut source: R,
    ctx: &Ctx<'_>,
    out: &mut FileOutput,
) {
    use sevenz_rust2::{Archive, BlockDecoder, EncoderMethod, Error, Password};
    let password = Password::empty();
    let archive = match Archive::read(&mut source, &password) {
        Ok(a) => a,
        Err(Error::PasswordRequired | Error::MaybeBadPassword(_)) => {
            out.warn(
                &input.name,
                "",
                format!("7z archive with its file list {ENCRYPTED}"),
            );
            out.stats.files_skipped += 1;
            return;
        }
        Err(e) => {
            out.warn(&input.name, "", format!("unreadable 7z archive: {e}"));
            out.stats.files_skipped += 1;
            return;
        }
    };
    for (block_index, block) in archive.blocks.iter().enumerate() {
        if ctx.budget.exhausted() {
            break;
        }
        let decoder = BlockDecoder::new(1, block_index, &archive, &password, &mut source);
        let encrypted = block
            .coders
            .iter()
            .any(|c| c.encoder_method_id() == EncoderMethod::ID_AES256_SHA256);
        if encrypted {
            for entry in decoder.entries().iter().filter(|e| !e.is_directory()) {
                skipped_member(input, entry.name(), ENCRYPTED, out);
            }
            continue;
        }
        let names: Vec<String> = decoder
            .entries()
            .iter()
            .map(|e| e.name().to_string())
            .collect();
        let losses = |out: &FileOutput| out.stats.files_skipped + out.stats.incomplete_total();
        let mut done = 0usize;
        let mut last_reported = false;
        let result = decoder.for_each_entries(&mut |entry, reader| {
            done += 1;
            let before = losses(out);
            if !entry.is_directory() {
                member(input, entry.name(), reader, ctx, out);
            }
            last_reported = losses(out) > before;
            Ok(!ctx.budget.exhausted())
        });
        if let Err(e) = result {
            // The member being decoded when the block failed said so itself if it was reading;
            // the ones after it were never reached: each an input not read.
            let unreached = names.len().saturating_sub(done);
            let in_progress = names
                .get(done.saturating_sub(1))
                .map_or("?", String::as_str);
            if !last_reported && done > 0 {
                *out.stats
                    .inputs_incomplete
                    .entry("corrupt compressed data".into())
                    .or_default() += 1;
                let name = format!("{}!{in_progress}", input.name).into();
                out.warn(
                    &name,
                    "",
                    format!("corrupt compressed data, the rest of the input is lost: {e}"),
                );
            }
            if unreached > 0 {
                out.stats.files_skipped += unreached as u64;
                out.warn(
                    &input.name,
                    format!("block {block_index}"),
                    format!("unreadable 7z block ({e}): its {unreached} member(s) after {in_progress} are not read"),
                );
            }
        }
    }
    // Empty files belong to no block.
    for (i, entry) in archive.files.iter().enumerate() {
        let in_block = archive
            .stream_map
            .file_block_index
            .get(i)
            .copied()
            .flatten();
        if in_block.is_none() && !entry.is_directory() {
            member(input, entry.name(), &mut io::empty(), ctx, out);
        }
    }
}
