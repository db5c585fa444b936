//! Binary EVTX files, parsed with the `evtx` crate, chunk by chunk, in parallel.
//!
//! Why not `EvtxParser::serialized_records`: it parallelises chunks by blocking the calling
//! thread on a channel while rayon workers parse, which can deadlock when the caller is itself a
//! rayon worker reading one of many files. Driving the crate's public chunk API ourselves lets
//! files *and* chunks share one work-stealing pool, and lets every damaged chunk be reported
//! with its file offset while the rest of the file is still read.
//!
//! The fast path, for a chunk whose CRC32s hold: `evtx_lean` walks its records without
//! the crate (record headers, the EventID from the substitution values), decodes the kept ones
//! itself ([`super::evtx_template`] parses templates, [`super::evtx_binxml`] values,
//! [`super::evtx_render`] makes the `Event` the crate's JSON mapped by [`super::evtx_json`]
//! would give), and declines the chunk where it cannot promise the crate's answer. A declined
//! or damaged chunk is read with the crate as before: for each record, `template_instances()`
//! gives the substitution values without rendering (`values[3]` is the EventID in the standard
//! System template) and only records whose id is wanted are rendered. Plain files read by a
//! plan are read once ([`super::evtx_onepass`]): the first pass keeps keys of the evidence,
//! the second reads again only chunks whose keys meet the needles.
//!
//! The chunk work is shared with [`super::evtx_stream`], which reads an EVTX held in an
//! archive as it streams by.

use std::io;
use std::sync::Arc;

use evtx::binxml::value_variant::BinXmlValue;
use evtx::{EvtxChunkData, EvtxFileHeader, ParserSettings};
use rayon::prelude::*;

use super::output::Later;
use super::{FileOutput, ReadOptions, evtx_json, evtx_scan};

/// Size of the EVTX file header block.
pub const FILE_HEADER_SIZE: u64 = 4096;
/// Size of one EVTX chunk.
pub const CHUNK_SIZE: u64 = 65536;
/// The file magic, `ElfFile\0`.
pub const MAGIC: &[u8; 8] = b"ElfFile\0";

/// Where the bytes of one EVTX input live.
pub enum EvtxBytes<'a> {
    /// A file on disk, read chunk by chunk with positioned reads.
    File(&'a std::fs::File, u64),
    /// A buffer.
    Memory(&'a [u8]),
    /// A run of whole chunks of a streamed input (see [`super::evtx_stream`]): `bytes` starts at
    /// file offset `start`, and the input ends, as far as this window knows, where it does.
    Window {
        /// File offset of `bytes[0]`.
        start: u64,
        /// The chunks.
        bytes: &'a [u8],
    },
}

impl EvtxBytes<'_> {
    fn len(&self) -> u64 {
        match self {
            EvtxBytes::File(_, len) => *len,
            EvtxBytes::Memory(b) => b.len() as u64,
            EvtxBytes::Window { start, bytes } => start + bytes.len() as u64,
        }
    }

    /// Read up to `len` bytes at `offset` (fewer at the end of the input).
    fn read_at(&self, offset: u64, len: u64) -> io::Result<Vec<u8>> {
        let end = (offset + len).min(self.len());
        let n = end.saturating_sub(offset) as usize;
        match self {
            EvtxBytes::Memory(b) => Ok(b[offset as usize..offset as usize + n].to_vec()),
            EvtxBytes::Window { start, bytes } => {
                let from = offset
                    .checked_sub(*start)
                    .ok_or_else(|| io::Error::other("EVTX window read before its start"))?
                    as usize;
                Ok(bytes[from..from + n].to_vec())
            }
            EvtxBytes::File(f, _) => {
                let mut buf = spare_buffer(n);
                read_exact_at(f, &mut buf, offset)?;
                Ok(buf)
            }
        }
    }
}

thread_local! {
    /// The last chunk buffer this thread was done with, for its next chunk: a new one would
    /// be zeroed (64 KiB a chunk, each read twice) only to be overwritten by the read.
    static SPARE: std::cell::RefCell<Option<Vec<u8>>> = const { std::cell::RefCell::new(None) };
}

/// A buffer of `n` bytes to read into (its content is garbage).
fn spare_buffer(n: usize) -> Vec<u8> {
    SPARE
        .with(|s| s.borrow_mut().take())
        .filter(|b| b.len() == n)
        .unwrap_or_else(|| vec![0; n])
}

/// Keep `buf` for this thread's next chunk.
fn recycle(buf: Vec<u8>) {
    if buf.len() as u64 == CHUNK_SIZE {
        SPARE.with(|s| *s.borrow_mut() = Some(buf));
    }
}

#[cfg(unix)]
pub(super) fn read_exact_at(f: &std::fs::File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, offset)
}

#[cfg(windows)]
pub(super) fn read_exact_at(
    f: &std::fs::File,
    mut buf: &mut [u8],
    mut offset: u64,
) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match f.seek_read(buf, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Read one EVTX input into `out`.
pub fn read_evtx(name: &Arc<str>, bytes: EvtxBytes<'_>, opts: &ReadOptions, out: &mut FileOutput) {
    let len = bytes.len();
    let header = match bytes.read_at(0, FILE_HEADER_SIZE) {
        Ok(h) => h,
        Err(e) => {
            out.warn(name, "", format!("cannot read the file header: {e}"));
            out.stats.files_skipped += 1;
            return;
        }
    };
    if !open(name, &header, out) {
        return;
    }
    out.stats.bytes += len;
    if len < FILE_HEADER_SIZE {
        ends_in_header(name, len, out);
        return;
    }

    let body = len - FILE_HEADER_SIZE;
    let chunks = body.div_ceil(CHUNK_SIZE);
    if let (Some(spec), EvtxBytes::File(file, _)) = (&opts.onepass, &bytes) {
        super::evtx_onepass::first_pass(name, file, len, chunks, spec, opts, out);
        return;
    }
    let settings = parser_settings();
    // A later pass's skips are for a file on disk, which its first pass read.
    let skip = opts
        .skip
        .as_deref()
        .filter(|_| matches!(bytes, EvtxBytes::File(..)));
    let per_chunk: Vec<ChunkOutput> = (0..chunks)
        .into_par_iter()
        .map(|n| match skip.and_then(|s| s.records(n)) {
            Some(records) => ChunkOutput::skipped(records),
            None => read_chunk(name, &bytes, n, &settings, opts),
        })
        .collect();
    // A file on disk can be read again; one streamed out of an archive is not asked to be.
    let first_pass = opts.later.is_some() && matches!(bytes, EvtxBytes::File(..));
    let all_free = first_pass && per_chunk.iter().all(|c| c.later_free);
    let skips = first_pass.then(|| SkipChunks::of(&per_chunk)).flatten();
    merge_chunks(per_chunk, out);
    out.later = match skips {
        // The whole file's output stands for the later pass's only where nothing was warned
        // about (a warning is given again by the pass that reads its place).
        _ if all_free && out.warnings.is_empty() => Later::Free,
        Some(skips) => Later::Chunks(Arc::new(skips)),
        None => Later::Whole,
    };
}

/// Check an input's file header: false (and the input counted as skipped) when it is no EVTX.
pub(super) fn open(name: &Arc<str>, header: &[u8], out: &mut FileOutput) -> bool {
    if header.len() < MAGIC.len() || &header[..8] != MAGIC {
        out.warn(name, "offset 0x0", "not an EVTX file (no ElfFile magic)");
        out.stats.files_skipped += 1;
        return false;
    }
    out.stats.files += 1;
    match EvtxFileHeader::from_bytes(header) {
        Ok(h) if h.flags.contains(evtx::HeaderFlags::NO_CRC32) => out.warn(
            name,
            "file header",
            "the header says the file carries no CRC32 checksums: its integrity cannot be verified",
        ),
        Ok(h) if !h.validate_checksum() => out.warn(
            name,
            "file header",
            "header CRC32 mismatch; reading every chunk anyway",
        ),
        Ok(_) => {}
        Err(e) => out.warn(
            name,
            "file header",
            format!("unreadable header ({e}); reading chunks anyway"),
        ),
    }
    true
}

/// An input that ends before its first chunk: read, but nothing in it.
pub(super) fn ends_in_header(name: &Arc<str>, len: u64, out: &mut FileOutput) {
    out.warn(
        name,
        format!("offset {len:#x}"),
        "file ends inside its header: no chunks",
    );
    *out.stats
        .inputs_incomplete
        .entry("truncated".into())
        .or_default() += 1;
}

/// The crate's settings for rendering one chunk at a time.
pub(super) fn parser_settings() -> Arc<ParserSettings> {
    Arc::new(
        ParserSettings::new()
            .num_threads(1)
            .indent(false)
            .separate_json_attributes(false),
    )
}

/// Put the chunks' outputs, in chunk order, into the input's output.
pub(super) fn merge_chunks(per_chunk: Vec<ChunkOutput>, out: &mut FileOutput) {
    // The lean walk sees event ids but not which host or log they belong to (EVTX keeps those
    // in the template, not per record): the file's first record says that, taking one file as
    // one host's log. Both the lean and the rendering path count the census this way, so they
    // agree; a forwarded-events file of many hosts is credited to its first one.
    let identity = per_chunk.iter().find_map(|c| c.identity.clone());
    for mut c in per_chunk {
        if let (Some(id), false) = (&identity, c.seen_ids.is_empty()) {
            out.census
                .entry(id.clone())
                .or_default()
                .extend(&c.seen_ids);
        }
        c.out.census.clear();
        out.absorb(c.out);
    }
}

/// What one chunk gave.
#[derive(Default)]
pub(super) struct ChunkOutput {
    pub out: FileOutput,
    /// Wanted event ids seen in the chunk, rendered or not.
    pub seen_ids: std::collections::BTreeSet<u32>,
    /// (computer, channel) of the first record rendered here.
    pub identity: Option<(String, String)>,
    /// Where the options have a later pass ([`ReadOptions::later`]): an unused slot, or read
    /// by the lean walk with no record of an id that pass reads (see [`SkipChunks`]).
    pub later_free: bool,
}

impl ChunkOutput {
    /// What a chunk a later pass skips gives it: its records, counted.
    fn skipped(records: u64) -> ChunkOutput {
        let mut c = ChunkOutput::default();
        c.out.stats.records = records;
        c
    }
}

/// The chunks of a plain EVTX file that a later pass of the same plan need not read, as its
/// first pass found them: unused slots, and chunks read by the lean walk that hold no record
/// of an id the later pass reads. Each would give that pass nothing but its count of records:
/// no event, no census, no warning. The first chunk is always read again: it names the file.
#[derive(Debug)]
pub(crate) struct SkipChunks {
    /// By chunk number: how many records a chunk to skip holds; [`SkipChunks::READ`] for a
    /// chunk to read.
    records: Vec<u32>,
}

impl SkipChunks {
    const READ: u32 = u32::MAX;

    /// The chunks of a first pass's `per_chunk` outputs to skip, if any.
    fn of(per_chunk: &[ChunkOutput]) -> Option<SkipChunks> {
        let records: Vec<u32> = per_chunk
            .iter()
            .enumerate()
            .map(|(n, c)| match u32::try_from(c.out.stats.records) {
                Ok(records) if n > 0 && c.later_free && records != Self::READ => records,
                _ => Self::READ,
            })
            .collect();
        records
            .iter()
            .any(|r| *r != Self::READ)
            .then_some(SkipChunks { records })
    }

    /// The records of chunk `n`, if it is skipped.
    fn records(&self, n: u64) -> Option<u64> {
        let r = *self.records.get(usize::try_from(n).ok()?)?;
        (r != Self::READ).then_some(u64::from(r))
    }
}

/// Which records of a chunk the crate must read, decided by the lean walk; `None` = all.
type Plan = Option<std::collections::HashSet<u64>>;

/// Decide, without the crate, which records of a clean chunk need reading: those whose id is
/// wanted and whose raw bytes may hold a needle (where needles apply), and any the walk cannot
/// read an id from.
fn plan(
    data: &[u8],
    free_space: usize,
    opts: &ReadOptions,
    seen_ids: &mut std::collections::BTreeSet<u32>,
) -> (Plan, u64) {
    let filter = opts.filter();
    if opts.evtx_render_only || filter.selection.is_all() {
        return (None, 0);
    }
    let Some(records) = evtx_scan::records(data, free_space) else {
        return (None, 0);
    };
    let mut needed = std::collections::HashSet::new();
    let mut text = String::new();
    for r in &records {
        let Some(id) = r.event_id.map(u32::from) else {
            needed.insert(r.record_id);
            continue;
        };
        if !filter.wants(id) {
            continue;
        }
        seen_ids.insert(id);
        let keep = opts.evtx_needles_for(id).is_none_or(|n| {
            if !n.raw_passes_gate(&data[r.offset..r.offset + r.size]) {
                return false;
            }
            // Compare the record's values as the rendered event would show them; when the walk
            // cannot read them, fall back to searching the raw bytes (a superset).
            match evtx_scan::values(data, r.offset, r.size) {
                Some(values) => n.values_match(&values, &mut text),
                None => n.raw_may_match(&data[r.offset..r.offset + r.size]),
            }
        });
        if keep {
            needed.insert(r.record_id);
        }
    }
    (Some(needed), records.len() as u64)
}

pub(super) fn read_chunk(
    name: &Arc<str>,
    bytes: &EvtxBytes<'_>,
    number: u64,
    settings: &Arc<ParserSettings>,
    opts: &ReadOptions,
) -> ChunkOutput {
    let offset = FILE_HEADER_SIZE + number * CHUNK_SIZE;
    chunk_output(
        name,
        number,
        bytes.read_at(offset, CHUNK_SIZE),
        settings,
        opts,
    )
}

/// Where chunk `number` is, for warnings.
pub(super) fn chunk_location(number: u64) -> String {
    let offset = FILE_HEADER_SIZE + number * CHUNK_SIZE;
    format!("chunk {number} (file offset {offset:#x})")
}

/// Whether chunk slot `data` is all zeroes: unused, as are most of a log that is not full
/// (real logs are often mostly such slots).
pub(super) fn is_unused(data: &[u8]) -> bool {
    // A chunk in use starts with its magic: most slots are decided by their first byte. The
    // rest is OR-ed a block at a time, which the compiler vectorises; a byte-by-byte test with
    // an early exit does not vectorise and was a fifth of a hunt of real logs.
    !data.starts_with(b"E")
        && data
            .chunks(4096)
            .all(|block| block.iter().fold(0, |acc, b| acc | b) == 0)
}

/// Whether `data` is a whole chunk whose header and records match their CRC32s (or which says
/// it carries none): the only chunks read without the crate.
pub(super) fn is_clean(data: &[u8]) -> bool {
    if data.len() as u64 != CHUNK_SIZE || !data.starts_with(b"ElfChnk\0") {
        return false;
    }
    let u32_at = |at: usize| u32::from_le_bytes(data[at..at + 4].try_into().expect("4 bytes"));
    if u32_at(120) & 0x4 != 0 {
        return true;
    }
    let mut header = crc32fast::Hasher::new();
    header.update(&data[..120]);
    header.update(&data[128..512]);
    let free = u32_at(48) as usize;
    header.finalize() == u32_at(124)
        && data
            .get(512..free)
            .is_some_and(|records| crc32fast::hash(records) == u32_at(52))
}

/// Read chunk `number` from its bytes (as read, or why they could not be) for `opts`.
pub(super) fn chunk_output(
    name: &Arc<str>,
    number: u64,
    data: io::Result<Vec<u8>>,
    settings: &Arc<ParserSettings>,
    opts: &ReadOptions,
) -> ChunkOutput {
    let mut result = ChunkOutput::default();
    let at = chunk_location(number);
    let mut data = match data {
        Ok(d) => d,
        Err(e) => {
            result.out.warn(name, at, format!("cannot read: {e}"));
            result.out.skip("chunk unreadable");
            return result;
        }
    };
    if is_unused(&data) {
        recycle(data);
        // An unused chunk slot, normal in a log that is not full.
        result.later_free = opts.later.is_some();
        return result;
    }
    if !opts.evtx_render_only
        && is_clean(&data)
        && let super::evtx_lean::Lean::Done(out) =
            super::evtx_lean::read(name, number, &data, opts, None)
    {
        recycle(data);
        return *out;
    }
    let out = &mut result.out;
    let truncated = (data.len() as u64) < CHUNK_SIZE;
    if truncated {
        out.warn(
            name,
            at.clone(),
            format!(
                "file truncated: chunk has {} of {CHUNK_SIZE} bytes; reading the records it still holds",
                data.len()
            ),
        );
        // Only the last chunk can be short: the input counts once as read in part.
        *out.stats
            .inputs_incomplete
            .entry("truncated".into())
            .or_default() += 1;
        data.resize(CHUNK_SIZE as usize, 0);
    }
    let mut chunk = match EvtxChunkData::new(data, false) {
        Ok(c) => c,
        Err(e) => {
            out.warn(name, at, format!("not a valid chunk, skipped: {e}"));
            out.skip("unreadable chunk (all its records lost)");
            return result;
        }
    };
    chunk.number = Some(number);
    let clean = !truncated && chunk.validate_header_checksum() && chunk.validate_data_checksum();
    if !chunk.validate_header_checksum() {
        out.warn(
            name,
            at.clone(),
            "chunk header CRC32 mismatch; records read anyway",
        );
    } else if !chunk.validate_data_checksum() {
        out.warn(
            name,
            at.clone(),
            "event records CRC32 mismatch; records read anyway",
        );
    }
    // Only an intact chunk is planned by the lean walk: a damaged one goes whole to the crate,
    // which resyncs past bad records and reports each.
    let (plan, walked) = if clean && number > 0 {
        let free = chunk.header.free_space_offset as usize;
        plan(&chunk.data, free, opts, &mut result.seen_ids)
    } else {
        (None, 0)
    };
    if plan.as_ref().is_some_and(|needed| needed.is_empty()) {
        out.stats.records += walked;
        return result;
    }
    let mut parsed = match chunk.parse(settings.clone()) {
        Ok(p) => p,
        Err(e) => {
            out.warn(name, at, format!("chunk cannot be parsed, skipped: {e}"));
            out.skip("unparseable chunk (all its records lost)");
            return result;
        }
    };
    // A planned chunk is left as soon as its last needed record is read: the crate builds each
    // record as it iterates, so the records after it would cost for nothing.
    let mut remaining = plan.as_ref().map(|p| p.len());
    for (iterated, record) in parsed.iter().enumerate() {
        if remaining == Some(0) {
            out.stats.records += walked.saturating_sub(iterated as u64);
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                out.warn(name, at.clone(), record_error(&e));
                out.skip("record unreadable");
                continue;
            }
        };
        let record_id = record.event_record_id;
        let needed = match &plan {
            Some(needed) => {
                let hit = needed.contains(&record_id);
                if hit {
                    remaining = remaining.map(|n| n - 1);
                }
                hit
            }
            None => {
                opts.evtx_render_only
                    || opts.filter().selection.is_all()
                    || fast_event_id(&record).is_none_or(|id| opts.filter().wants(id))
            }
        };
        // Every wanted record is rendered or was noted by the lean walk, so the census is complete
        // from here. The first record of the file's first chunk is always rendered: it names the
        // host and log that census belongs to.
        let names_the_file = number == 0 && result.identity.is_none();
        if !needed && !names_the_file {
            out.stats.records += 1;
            continue;
        }
        let ts = record.timestamp;
        let rendered = match record.into_json() {
            Ok(r) => r,
            Err(e) => {
                out.warn(name, format!("{at}, record {record_id}"), record_error(&e));
                out.skip("record unrenderable");
                continue;
            }
        };
        let value: serde_json::Value = match serde_json::from_str(&rendered.data) {
            Ok(v) => v,
            Err(e) => {
                out.warn(
                    name,
                    format!("{at}, record {record_id}"),
                    format!("rendered JSON invalid: {e}"),
                );
                out.skip("record unrenderable");
                continue;
            }
        };
        match evtx_json::to_event(
            &value,
            name,
            Some(crate::event::Locator::Record(record_id)),
            Some(ts),
        ) {
            Ok(ev) => {
                if result.identity.is_none() {
                    result.identity = Some((ev.computer.clone(), ev.channel.clone()));
                }
                if opts.filter().wants(ev.event_id) {
                    result.seen_ids.insert(ev.event_id);
                }
                out.offer(ev, opts);
            }
            Err(e) => {
                out.warn(
                    name,
                    format!("{at}, record {record_id}"),
                    format!("record not an event: {e}"),
                );
                out.skip("record without System data");
            }
        }
    }
    result
}

/// The EventID from the record's template substitutions, without rendering; `None` when the
/// template does not follow the standard System layout.
fn fast_event_id(record: &evtx::EvtxRecord<'_>) -> Option<u32> {
    let instances = record.template_instances().ok()?;
    match instances.first()?.values.get(3)? {
        BinXmlValue::UInt16Type(id) => Some(u32::from(*id)),
        _ => None,
    }
}

/// An evtx error with its whole chain of causes, since the top message alone ("failed to parse
/// record") does not say what was wrong.
fn record_error(e: &evtx::err::EvtxError) -> String {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_slot_of_zeroes_is_unused() {
        let mut slot = vec![0u8; CHUNK_SIZE as usize];
        assert!(is_unused(&slot));
        // Anything anywhere else, in any block, is something to read (or warn about).
        for at in [1, 4095, 4096, 30_000, CHUNK_SIZE as usize - 1] {
            slot[at] = 0x80;
            assert!(!is_unused(&slot), "byte {at}");
            slot[at] = 0;
        }
        slot[0] = b'E';
        assert!(!is_unused(&slot), "a chunk's magic");
        // A short slot (a truncated file's last) is judged the same way.
        assert!(is_unused(&[0; 100]));
        assert!(!is_unused(&[0, 0, 1]));
    }
}
