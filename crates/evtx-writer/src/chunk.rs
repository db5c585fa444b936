//! One 64 KiB chunk: the 512-byte header (record ranges, offsets, string and template
//! tables, CRC32s) followed by the records, each `**\0\0`, size, id, FILETIME, BinXML and
//! a copy of the size.

use crate::binxml::Emitter;
use crate::error::WriteError;
use crate::record::{Record, to_filetime};
use crate::tables::Tables;

/// Size of a chunk.
pub const CHUNK_SIZE: usize = 65536;
/// Size of the chunk header; records start here.
pub const CHUNK_HEADER_SIZE: usize = 512;
const RECORD_HEADER_SIZE: usize = 24;

/// A chunk being filled.
pub(crate) struct Chunk {
    buf: Vec<u8>,
    /// Where the next record goes (the free-space offset).
    pos: usize,
    tables: Tables,
    scratch: Vec<u8>,
    first_number: u64,
    last_number: u64,
    first_id: u64,
    last_id: u64,
    last_record_offset: usize,
    records: u64,
}

impl Chunk {
    pub(crate) fn new() -> Self {
        Chunk {
            buf: vec![0; CHUNK_SIZE],
            pos: CHUNK_HEADER_SIZE,
            tables: Tables::default(),
            scratch: Vec::with_capacity(CHUNK_SIZE),
            first_number: 0,
            last_number: 0,
            first_id: 0,
            last_id: 0,
            last_record_offset: 0,
            records: 0,
        }
    }

    /// Records in the chunk.
    pub(crate) fn records(&self) -> u64 {
        self.records
    }

    /// Append `record` as the file's `number`th record (1-based). `Ok(false)`: it does not
    /// fit in what is left of this chunk, which is unchanged.
    pub(crate) fn try_append(&mut self, record: &Record, number: u64) -> Result<bool, WriteError> {
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        out.extend_from_slice(b"**\0\0");
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&record.record_id.to_le_bytes());
        out.extend_from_slice(&to_filetime(record.time).to_le_bytes());
        debug_assert_eq!(out.len(), RECORD_HEADER_SIZE);
        // `out` starts at the record, so its base is the record's chunk offset.
        let emitted = Emitter::new(&mut out, self.pos as u32, &mut self.tables).record(record);
        if let Err(e) = emitted {
            self.tables.rollback();
            self.scratch = out;
            return Err(e);
        }
        // Windows keeps records 8-byte aligned: zeroes after the end-of-stream token.
        while !(out.len() + 4).is_multiple_of(8) {
            out.push(0);
        }
        let size = (out.len() + 4) as u32;
        out.extend_from_slice(&size.to_le_bytes());
        out[4..8].copy_from_slice(&size.to_le_bytes());

        if self.pos + out.len() > CHUNK_SIZE {
            self.tables.rollback();
            let len = out.len();
            self.scratch = out;
            if self.records == 0 {
                return Err(WriteError::RecordTooLarge {
                    record_id: record.record_id,
                    size: len,
                });
            }
            return Ok(false);
        }
        self.buf[self.pos..self.pos + out.len()].copy_from_slice(&out);
        self.tables.commit(&mut self.buf);
        if self.records == 0 {
            self.first_number = number;
            self.first_id = record.record_id;
        }
        self.last_number = number;
        self.last_id = record.record_id;
        self.last_record_offset = self.pos;
        self.records += 1;
        self.pos += out.len();
        self.scratch = out;
        Ok(true)
    }

    /// Fill in the header and CRC32s; returns the finished chunk bytes.
    pub(crate) fn finish(&mut self) -> &[u8] {
        let b = &mut self.buf;
        b[..8].copy_from_slice(b"ElfChnk\0");
        b[8..16].copy_from_slice(&self.first_number.to_le_bytes());
        b[16..24].copy_from_slice(&self.last_number.to_le_bytes());
        b[24..32].copy_from_slice(&self.first_id.to_le_bytes());
        b[32..40].copy_from_slice(&self.last_id.to_le_bytes());
        b[40..44].copy_from_slice(&128u32.to_le_bytes());
        b[44..48].copy_from_slice(&(self.last_record_offset as u32).to_le_bytes());
        b[48..52].copy_from_slice(&(self.pos as u32).to_le_bytes());
        let events_crc = crc32fast::hash(&b[CHUNK_HEADER_SIZE..self.pos]);
        b[52..56].copy_from_slice(&events_crc.to_le_bytes());
        b[120..124].copy_from_slice(&0u32.to_le_bytes()); // flags: clean
        for (i, off) in self.tables.string_buckets.iter().enumerate() {
            b[128 + 4 * i..132 + 4 * i].copy_from_slice(&off.to_le_bytes());
        }
        for (i, off) in self.tables.template_buckets.iter().enumerate() {
            b[384 + 4 * i..388 + 4 * i].copy_from_slice(&off.to_le_bytes());
        }
        // The header CRC32 covers bytes 0..120 and 128..512 (not the flags and itself).
        let mut h = crc32fast::Hasher::new();
        h.update(&b[..120]);
        h.update(&b[128..CHUNK_HEADER_SIZE]);
        let header_crc = h.finalize();
        b[124..128].copy_from_slice(&header_crc.to_le_bytes());
        &self.buf
    }

    /// Empty the chunk for reuse.
    pub(crate) fn reset(&mut self) {
        self.buf.fill(0);
        self.pos = CHUNK_HEADER_SIZE;
        self.tables.clear();
        self.records = 0;
        self.first_number = 0;
        self.last_number = 0;
        self.first_id = 0;
        self.last_id = 0;
        self.last_record_offset = 0;
    }
}
