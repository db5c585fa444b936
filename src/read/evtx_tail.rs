//! Following a growing EVTX file: each call reads the records written since the last one.
//!
//! A running log grows in three ways, all handled here from what the file itself says:
//! records are added to its open chunk (the chunk header's last record id grows), new chunks
//! follow it, and a full log wraps around and overwrites its oldest chunk. Every chunk says
//! which record ids it holds, so a [`EvtxPosition`] is just the highest id read and the chunk
//! slot that held it: reading resumes at that slot, takes the records with higher ids, and
//! walks on through the slots (wrapping to slot 0) while they hold newer records. A log that is
//! cleared or replaced starts over with lower ids: its first chunk's first record (id and time)
//! no longer matches the one remembered, or the file became shorter, and it is read again from
//! its start.
//!
//! This module uses the `evtx` crate's chunk API and the lean walk ([`super::evtx_scan`]) to skip
//! records read before (or not wanted) without rendering them; each new record is rendered and
//! mapped exactly as the batch reader maps it ([`super::evtx_json`]), so a followed log gives the
//! same events as the same log read whole. A chunk caught half-written (its checksums do not
//! match yet) is read again at the next call, and read as it is, with a warning, once it has
//! looked the same for [`STALL_LIMIT`] calls. It knows nothing of detection.

use std::fs::File;
use std::io;
use std::sync::Arc;

use evtx::{EvtxChunkData, ParserSettings};
use serde::{Deserialize, Serialize};

use super::evtx::{CHUNK_SIZE, FILE_HEADER_SIZE, MAGIC};
use super::{FileOutput, ReadOptions, evtx_json, evtx_scan};
use crate::event::Locator;

/// How many calls a chunk whose checksums do not match may look unchanged before it is read as
/// it is: a chunk being written matches again within a flush, a damaged one never does.
pub const STALL_LIMIT: u32 = 3;

const CHUNK_MAGIC: &[u8; 8] = b"ElfChnk\0";
/// Size of a chunk header.
const CHUNK_HEADER: usize = 512;

/// The first record of a log, as its first chunk names it: a log cleared and written again
/// starts with another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstRecord {
    /// Its EventRecordID.
    pub id: u64,
    /// Its FILETIME, from the record header.
    pub filetime: u64,
}

/// How far a growing EVTX file was read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvtxPosition {
    /// The highest EventRecordID read; `None` before the first record.
    pub last_record_id: Option<u64>,
    /// The chunk slot that held it, where the next call starts looking.
    pub chunk: u64,
    /// The log's first record when last seen.
    pub first: Option<FirstRecord>,
}

/// What one call read.
#[derive(Debug, Default)]
pub struct TailOutput {
    /// The new records' events (as the options keep them), warnings and counts.
    pub out: FileOutput,
    /// Everything written so far was read (false: the call stopped at its budget).
    pub at_end: bool,
    /// The input started over (cleared, truncated or replaced) and was read from its start.
    pub restarted: bool,
}

/// A growing EVTX file being followed: its position and what the next call must remember.
#[derive(Debug, Default)]
pub struct EvtxTail {
    /// How far it was read (saved and restored by the follower's state).
    pub position: EvtxPosition,
    /// Calls for which the chunk at `stalled_at` failed its checksums unchanged.
    stalled: u32,
    stalled_at: Option<(u64, u64, u32)>,
}

/// The fields of a chunk header this module needs, read without the crate.
#[derive(Debug, Clone, Copy)]
struct Header {
    first_id: u64,
    last_id: u64,
    free_space: u32,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn header_of(b: &[u8]) -> Option<Header> {
    if b.get(..8)? != CHUNK_MAGIC {
        return None;
    }
    let h = Header {
        first_id: u64_at(b, 24)?,
        last_id: u64_at(b, 32)?,
        free_space: u32_at(b, 48)?,
    };
    (h.first_id <= h.last_id && h.free_space as usize >= CHUNK_HEADER).then_some(h)
}

/// Up to `len` bytes of `file` at `offset` (fewer at its end), without moving a file position.
pub(crate) fn read_at(file: &File, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let mut filled = 0;
    while filled < len {
        match read_some_at(file, &mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

#[cfg(unix)]
fn read_some_at(f: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(f, buf, offset)
}

#[cfg(windows)]
fn read_some_at(f: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(f, buf, offset)
}

fn slot_offset(slot: u64) -> u64 {
    FILE_HEADER_SIZE + slot * CHUNK_SIZE
}

impl EvtxTail {
    /// Follow from `position` (a saved one, or the default to read from the start).
    pub fn new(position: EvtxPosition) -> Self {
        EvtxTail {
            position,
            ..EvtxTail::default()
        }
    }

    /// Read what was written to `file` since the last call, at most `max_chunks` chunks.
    pub fn read(
        &mut self,
        name: &Arc<str>,
        file: &File,
        opts: &ReadOptions,
        max_chunks: usize,
    ) -> TailOutput {
        let mut result = TailOutput {
            at_end: true,
            ..TailOutput::default()
        };
        let out = &mut result.out;
        let len = match file.metadata() {
            Ok(m) => m.len(),
            Err(e) => {
                out.warn(name, "", format!("cannot read: {e}"));
                return result;
            }
        };
        let head = match read_at(file, 0, MAGIC.len()) {
            Ok(h) => h,
            Err(e) => {
                out.warn(name, "", format!("cannot read the file header: {e}"));
                return result;
            }
        };
        if head.len() < MAGIC.len() || head != MAGIC {
            // Being created, or cleared down to nothing: nothing to read yet. A log read before
            // is read from its start once it holds records again.
            if self.position.last_record_id.is_some() {
                self.restart(&mut result.restarted);
            }
            return result;
        }
        let slots = len.saturating_sub(FILE_HEADER_SIZE).div_ceil(CHUNK_SIZE);
        let first = match read_at(file, slot_offset(0), CHUNK_HEADER + 24) {
            Ok(b) => header_of(&b).and_then(|h| {
                Some(FirstRecord {
                    id: h.first_id,
                    filetime: u64_at(&b, CHUNK_HEADER + 16)?,
                })
            }),
            Err(_) => None,
        };
        let started_over = match (self.position.first, first) {
            (Some(old), Some(new)) => {
                new.id < old.id || (new.id == old.id && new.filetime != old.filetime)
            }
            (Some(_), None) => true,
            (None, _) => false,
        };
        if started_over || (self.position.last_record_id.is_some() && self.position.chunk >= slots)
        {
            self.restart(&mut result.restarted);
        }
        if first.is_some() {
            self.position.first = first;
        }

        let order: Vec<u64> = match self.position.last_record_id {
            // From the start: the slots in the order of their records (a wrapped log's oldest
            // chunk is not slot 0).
            None => {
                let mut found = Vec::new();
                for slot in 0..slots {
                    if let Ok(b) = read_at(file, slot_offset(slot), 64)
                        && let Some(h) = header_of(&b)
                    {
                        found.push((h.first_id, slot));
                    }
                }
                found.sort_unstable();
                found.into_iter().map(|(_, slot)| slot).collect()
            }
            // Onwards from the current slot, wrapping.
            Some(_) => (0..slots)
                .map(|i| (self.position.chunk + i) % slots)
                .collect(),
        };
        let settings = Arc::new(
            ParserSettings::new()
                .num_threads(1)
                .indent(false)
                .separate_json_attributes(false),
        );
        let mut read_chunks = 0;
        for (i, slot) in order.into_iter().enumerate() {
            let header = match read_at(file, slot_offset(slot), 64) {
                Ok(b) => header_of(&b),
                Err(e) => {
                    out.warn(name, at(slot), format!("cannot read: {e}"));
                    None
                }
            };
            let newer = header.filter(|h| {
                self.position
                    .last_record_id
                    .is_none_or(|last| h.last_id > last)
            });
            let Some(header) = newer else {
                // Past the current slot, a chunk with nothing newer ends what was written.
                if i > 0 && self.position.last_record_id.is_some() {
                    break;
                }
                continue;
            };
            if read_chunks == max_chunks {
                result.at_end = false;
                break;
            }
            read_chunks += 1;
            if !self.read_chunk(name, file, slot, header, opts, &settings, out) {
                break; // half-written: again next call
            }
        }
        result
    }

    fn restart(&mut self, restarted: &mut bool) {
        self.position = EvtxPosition::default();
        self.stalled = 0;
        self.stalled_at = None;
        *restarted = true;
    }

    /// Read the records of the chunk in `slot` newer than the position; false when the chunk
    /// is left for the next call (it looks half-written).
    #[allow(clippy::too_many_arguments)]
    fn read_chunk(
        &mut self,
        name: &Arc<str>,
        file: &File,
        slot: u64,
        header: Header,
        opts: &ReadOptions,
        settings: &Arc<ParserSettings>,
        out: &mut FileOutput,
    ) -> bool {
        let at = at(slot);
        let mut data = match read_at(file, slot_offset(slot), CHUNK_SIZE as usize) {
            Ok(d) => d,
            Err(e) => {
                out.warn(name, at, format!("cannot read: {e}"));
                return false;
            }
        };
        let short = data.len() < CHUNK_SIZE as usize;
        data.resize(CHUNK_SIZE as usize, 0);
        let mut chunk = match EvtxChunkData::new(data, false) {
            Ok(c) => c,
            Err(e) => {
                out.warn(name, at, format!("not a valid chunk, skipped: {e}"));
                out.skip("unreadable chunk (all its records lost)");
                self.position.last_record_id = Some(header.last_id);
                self.position.chunk = slot;
                return true;
            }
        };
        chunk.number = Some(slot);
        let header_ok = chunk.validate_header_checksum();
        let clean = !short && header_ok && chunk.validate_data_checksum();
        if !clean {
            let key = (slot, header.last_id, header.free_space);
            if self.stalled_at == Some(key) {
                self.stalled += 1;
            } else {
                self.stalled_at = Some(key);
                self.stalled = 1;
            }
            if self.stalled < STALL_LIMIT {
                return false;
            }
            let what = if short {
                "file ends inside this chunk"
            } else if !header_ok {
                "chunk header CRC32 mismatch"
            } else {
                "event records CRC32 mismatch"
            };
            out.warn(name, at.clone(), format!("{what}; records read anyway"));
        }
        self.stalled = 0;
        self.stalled_at = None;

        let last = self.position.last_record_id;
        if let Some(last) = last
            && header.first_id > last + 1
        {
            let lost = header.first_id - last - 1;
            out.warn(
                name,
                at.clone(),
                format!(
                    "records {}..{} were overwritten before they were read ({lost} lost)",
                    last + 1,
                    header.first_id - 1
                ),
            );
            *out.stats
                .records_skipped
                .entry("record overwritten before it was read".into())
                .or_default() += lost;
        }
        let is_new = |id: u64| last.is_none_or(|l| id > l);
        let free = chunk.header.free_space_offset as usize;
        // Which new records need rendering, from the lean walk; `None`: every new one.
        let walked = evtx_scan::records(&chunk.data, free);
        let mut newest = last;
        let mut needed: Option<std::collections::HashSet<u64>> = None;
        let mut unrendered = 0u64;
        if let Some(records) = &walked {
            let mut set = std::collections::HashSet::new();
            for r in records.iter().filter(|r| is_new(r.record_id)) {
                newest = newest.max(Some(r.record_id));
                match r.event_id.map(u32::from) {
                    Some(id) if !opts.filter().wants(id) => unrendered += 1,
                    _ => {
                        set.insert(r.record_id);
                    }
                }
            }
            needed = Some(set);
        }
        out.stats.records += unrendered;
        if needed.as_ref().is_none_or(|n| !n.is_empty()) {
            match chunk.parse(settings.clone()) {
                Ok(mut parsed) => {
                    let mut remaining = needed.as_ref().map(|n| n.len());
                    for record in parsed.iter() {
                        if remaining == Some(0) {
                            break;
                        }
                        let record = match record {
                            Ok(r) => r,
                            Err(e) => {
                                out.warn(name, at.clone(), e.to_string());
                                out.skip("record unreadable");
                                continue;
                            }
                        };
                        let id = record.event_record_id;
                        if !is_new(id) || needed.as_ref().is_some_and(|n| !n.contains(&id)) {
                            continue;
                        }
                        remaining = remaining.map(|n| n - 1);
                        newest = newest.max(Some(id));
                        render(name, record, &at, opts, out);
                    }
                }
                Err(e) => {
                    out.warn(name, at, format!("chunk cannot be parsed, skipped: {e}"));
                    out.skip("unparseable chunk (all its records lost)");
                    newest = newest.max(Some(header.last_id));
                }
            }
        }
        if newest.is_none() {
            // A chunk that says it holds newer records but has none readable: move past it.
            newest = Some(header.last_id);
        }
        self.position.last_record_id = newest;
        self.position.chunk = slot;
        true
    }
}

fn at(slot: u64) -> String {
    format!("chunk {slot} (file offset {:#x})", slot_offset(slot))
}

/// Render one record and offer its event, as the batch reader does.
fn render(
    name: &Arc<str>,
    record: evtx::EvtxRecord<'_>,
    at: &str,
    opts: &ReadOptions,
    out: &mut FileOutput,
) {
    let id = record.event_record_id;
    let ts = record.timestamp;
    let located = || format!("{at}, record {id}");
    let rendered = match record.into_json() {
        Ok(r) => r,
        Err(e) => {
            out.warn(name, located(), e.to_string());
            out.skip("record unrenderable");
            return;
        }
    };
    let value: serde_json::Value = match serde_json::from_str(&rendered.data) {
        Ok(v) => v,
        Err(e) => {
            out.warn(name, located(), format!("rendered JSON invalid: {e}"));
            out.skip("record unrenderable");
            return;
        }
    };
    match evtx_json::to_event(&value, name, Some(Locator::Record(id)), Some(ts)) {
        Ok(ev) => out.offer(ev, opts),
        Err(e) => {
            out.warn(name, located(), format!("record not an event: {e}"));
            out.skip("record without System data");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs::{File, OpenOptions};
    use std::io::{Seek, SeekFrom, Write};

    use evtx_writer::{DataValue, EvtxWriter, Record, SystemFields};

    use super::*;

    fn record(id: u64) -> Record {
        Record {
            record_id: id,
            time: jiff::Timestamp::from_second(1_714_982_400 + id as i64).unwrap(),
            system: SystemFields {
                provider: "Service Control Manager".into(),
                provider_guid: None,
                event_source_name: Some("Service Control Manager".into()),
                event_id: 7036,
                qualifiers: Some(16384),
                version: 0,
                level: 4,
                task: 0,
                opcode: 0,
                keywords: 0x8080_0000_0000_0000,
                activity_id: None,
                computer: "WKS01.corp.local".into(),
                channel: "System".into(),
                user_sid: None,
                process_id: 640,
                thread_id: 1712,
            },
            event_data: vec![
                (
                    "param1".into(),
                    DataValue::str(format!("service number {id} ").repeat(20)),
                ),
                ("param2".into(), DataValue::str("running")),
            ],
        }
    }

    fn ids(out: &FileOutput) -> Vec<u64> {
        out.events.iter().filter_map(|e| e.record_id).collect()
    }

    #[test]
    fn a_growing_log_is_read_once_record_by_record_and_chunk_by_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("System.evtx");
        let mut w = EvtxWriter::new(File::create(&path).unwrap()).unwrap();
        let name: Arc<str> = "System.evtx".into();
        let opts = ReadOptions::default();
        let mut tail = EvtxTail::default();
        let mut seen = Vec::new();
        for id in 1..=400u64 {
            w.write_record(&record(id)).unwrap();
            if id % 9 == 0 {
                w.sync().unwrap();
                let file = File::open(&path).unwrap();
                let read = tail.read(&name, &file, &opts, 2);
                assert!(read.out.warnings.is_empty(), "{:?}", read.out.warnings);
                seen.extend(ids(&read.out));
                if !read.at_end {
                    seen.extend(ids(&tail.read(&name, &file, &opts, 100).out));
                }
            }
        }
        w.finish().unwrap();
        let file = File::open(&path).unwrap();
        seen.extend(ids(&tail.read(&name, &file, &opts, 100).out));
        assert_eq!(seen, (1..=400).collect::<Vec<_>>());
        assert!(
            tail.position.chunk > 1,
            "several chunks: {:?}",
            tail.position
        );
        assert!(ids(&tail.read(&name, &file, &opts, 100).out).is_empty());
    }

    #[test]
    fn a_log_cleared_and_written_again_is_read_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("System.evtx");
        let name: Arc<str> = "System.evtx".into();
        let opts = ReadOptions::default();
        let mut w = EvtxWriter::new(File::create(&path).unwrap()).unwrap();
        for id in 500..600 {
            w.write_record(&record(id)).unwrap();
        }
        let mut file = w.finish().unwrap();
        let mut tail = EvtxTail::default();
        let reader = File::open(&path).unwrap();
        assert_eq!(ids(&tail.read(&name, &reader, &opts, 100).out).len(), 100);
        // Cleared: the same file, empty, then new records from id 1.
        file.set_len(0).unwrap();
        file.seek(SeekFrom::Start(0)).unwrap();
        let blank = tail.read(&name, &reader, &opts, 100);
        assert!(blank.restarted && blank.out.events.is_empty());
        let mut w = EvtxWriter::new(file).unwrap();
        for id in 1..=30 {
            w.write_record(&record(id)).unwrap();
        }
        w.sync().unwrap();
        let again = tail.read(&name, &reader, &opts, 100);
        assert_eq!(ids(&again.out), (1..=30).collect::<Vec<_>>());
        // Cleared and refilled past the old position between two reads: still told apart by
        // the first record.
        let mut file = w.finish().unwrap();
        file.set_len(0).unwrap();
        file.seek(SeekFrom::Start(0)).unwrap();
        let mut w = EvtxWriter::new(file).unwrap();
        for id in 1..=60 {
            let mut r = record(id);
            r.time = jiff::Timestamp::from_second(1_800_000_000 + id as i64).unwrap();
            w.write_record(&r).unwrap();
        }
        w.sync().unwrap();
        let refilled = tail.read(&name, &reader, &opts, 100);
        assert!(refilled.restarted);
        assert_eq!(ids(&refilled.out), (1..=60).collect::<Vec<_>>());
    }

    #[test]
    fn a_chunk_caught_half_written_is_read_at_a_later_call() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("System.evtx");
        let name: Arc<str> = "System.evtx".into();
        let opts = ReadOptions::default();
        let mut w = EvtxWriter::new(File::create(&path).unwrap()).unwrap();
        for id in 1..=5 {
            w.write_record(&record(id)).unwrap();
        }
        w.finish().unwrap();
        // A byte of the records changed after the checksum: what a reader sees mid-write.
        let mut f = OpenOptions::new().write(true).open(&path).unwrap();
        f.seek(SeekFrom::Start(FILE_HEADER_SIZE + 600)).unwrap();
        f.write_all(&[0x5a]).unwrap();
        let reader = File::open(&path).unwrap();
        let mut tail = EvtxTail::default();
        for _ in 1..STALL_LIMIT {
            let read = tail.read(&name, &reader, &opts, 100);
            assert!(read.out.events.is_empty() && read.out.warnings.is_empty());
        }
        // Unchanged for STALL_LIMIT calls: damaged, not being written; read as it is.
        let read = tail.read(&name, &reader, &opts, 100);
        assert!(
            read.out.warnings[0].message.contains("CRC32"),
            "{:?}",
            read.out.warnings
        );
        assert_eq!(tail.position.last_record_id, Some(5));
    }
}
