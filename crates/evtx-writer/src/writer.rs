//! [`EvtxWriter`]: records in, an EVTX file out, chunk by chunk.

use std::io::{Seek, SeekFrom, Write};

use crate::chunk::{CHUNK_HEADER_SIZE, CHUNK_SIZE, Chunk};
use crate::error::WriteError;
use crate::file_header::{FILE_HEADER_SIZE, file_header};
use crate::record::Record;

/// Writes records to an EVTX file.
///
/// The header block is reserved first and filled in by [`EvtxWriter::finish`], which must be
/// called: it writes the last chunk and the header (chunk count, next record id, CRC32).
///
/// ```no_run
/// # use evtx_writer::*;
/// # fn main() -> Result<(), WriteError> {
/// # let record: Record = todo!();
/// let file = std::fs::File::create("System.evtx")?;
/// let mut w = EvtxWriter::new(std::io::BufWriter::new(file))?;
/// w.write_record(&record)?;
/// w.finish()?;
/// # Ok(()) }
/// ```
///
/// A log that grows while it is read, as Windows' own logs do, is written with
/// [`EvtxWriter::sync`] after each record or batch: the open chunk and the file header are
/// written as they stand, and the writer goes on appending to the same chunk.
pub struct EvtxWriter<W: Write + Seek> {
    out: W,
    chunk: Chunk,
    chunks: u16,
    records: u64,
    last_id: Option<u64>,
}

impl<W: Write + Seek> EvtxWriter<W> {
    /// Start a file at the writer's current position 0.
    pub fn new(mut out: W) -> Result<Self, WriteError> {
        out.write_all(&vec![0u8; FILE_HEADER_SIZE])?;
        Ok(EvtxWriter {
            out,
            chunk: Chunk::new(),
            chunks: 0,
            records: 0,
            last_id: None,
        })
    }

    /// Append one record; ids must increase strictly.
    pub fn write_record(&mut self, record: &Record) -> Result<(), WriteError> {
        if let Some(previous) = self.last_id
            && record.record_id <= previous
        {
            return Err(WriteError::RecordIdNotIncreasing {
                previous,
                offered: record.record_id,
            });
        }
        let number = self.records + 1;
        if !self.chunk.try_append(record, number)? {
            self.flush_chunk()?;
            if !self.chunk.try_append(record, number)? {
                unreachable!("an empty chunk either takes a record or reports it too large");
            }
        }
        self.records = number;
        self.last_id = Some(record.record_id);
        Ok(())
    }

    /// Records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Where the open chunk goes in the file.
    fn chunk_offset(&self) -> u64 {
        (FILE_HEADER_SIZE + usize::from(self.chunks) * CHUNK_SIZE) as u64
    }

    fn flush_chunk(&mut self) -> Result<(), WriteError> {
        if self.chunks == u16::MAX {
            return Err(WriteError::TooManyChunks);
        }
        // A sync may have left the position elsewhere: a chunk always goes to its own slot.
        let at = self.chunk_offset();
        self.out.seek(SeekFrom::Start(at))?;
        self.out.write_all(self.chunk.finish())?;
        self.chunk.reset();
        self.chunks += 1;
        Ok(())
    }

    /// Make every record written so far readable, as a running log is: the open chunk is
    /// written to its slot with its header and checksums (records first, header last, so that
    /// a reader never sees a header promising records not yet written) and the file header
    /// counts it; later records go on into the same chunk, which the next `sync` (or
    /// [`EvtxWriter::finish`]) writes again.
    pub fn sync(&mut self) -> Result<(), WriteError> {
        let open = self.chunk.records() > 0;
        if open {
            let at = self.chunk_offset();
            let bytes = self.chunk.finish();
            self.out
                .seek(SeekFrom::Start(at + CHUNK_HEADER_SIZE as u64))?;
            self.out.write_all(&bytes[CHUNK_HEADER_SIZE..])?;
            self.out.flush()?;
            self.out.seek(SeekFrom::Start(at))?;
            self.out.write_all(&bytes[..CHUNK_HEADER_SIZE])?;
        }
        let next_id = self.last_id.map_or(1, |id| id + 1);
        self.out.seek(SeekFrom::Start(0))?;
        self.out
            .write_all(&file_header(self.chunks + u16::from(open), next_id))?;
        self.out.flush()?;
        Ok(())
    }

    /// Write the last chunk and the file header; returns the inner writer.
    pub fn finish(mut self) -> Result<W, WriteError> {
        if self.chunk.records() > 0 {
            self.flush_chunk()?;
        }
        let next_id = self.last_id.map_or(1, |id| id + 1);
        let end = self.chunk_offset();
        self.out.seek(SeekFrom::Start(0))?;
        self.out.write_all(&file_header(self.chunks, next_id))?;
        self.out.seek(SeekFrom::Start(end))?;
        self.out.flush()?;
        Ok(self.out)
    }
}
