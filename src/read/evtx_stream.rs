//! EVTX held in an archive, read as it streams by: a batch of chunks at a time, each batch
//! parsed in parallel by the same chunk reader as a file on disk (see [`super::evtx`]), so
//! that memory stays at one batch whatever the log's size. EVTX chunks are self-contained
//! (each carries its own string and template tables), so nothing needs the rest of the file.
//!
//! Why not a temporary file: a forensic tool should not write evidence out, and a full disk or
//! a slow one must not decide what is read.

use std::io::Read;
use std::sync::Arc;

use rayon::prelude::*;

use super::evtx::{
    self, CHUNK_SIZE, ChunkOutput, EvtxBytes, FILE_HEADER_SIZE, merge_chunks, read_chunk,
};
use super::{FileOutput, ReadOptions};

/// Chunks held at once: 4 MiB, enough to keep every core busy.
const BATCH_CHUNKS: u64 = 64;

/// Read one EVTX input from a stream.
pub fn read_evtx_stream(
    name: &Arc<str>,
    reader: &mut dyn Read,
    opts: &ReadOptions,
    out: &mut FileOutput,
) {
    let mut header = Vec::with_capacity(FILE_HEADER_SIZE as usize);
    let read = reader.take(FILE_HEADER_SIZE).read_to_end(&mut header);
    if !evtx::open(name, &header, out) {
        return;
    }
    let mut total = header.len() as u64;
    if let Err(e) = read {
        out.lost_rest(name, format!("offset {total:#x}"), &e);
        out.stats.bytes += total;
        return;
    }
    if total < FILE_HEADER_SIZE {
        evtx::ends_in_header(name, total, out);
        out.stats.bytes += total;
        return;
    }
    let settings = evtx::parser_settings();
    let mut per_chunk: Vec<ChunkOutput> = Vec::new();
    let mut next_chunk = 0u64;
    let batch_len = BATCH_CHUNKS * CHUNK_SIZE;
    let mut batch = Vec::with_capacity(batch_len as usize);
    loop {
        batch.clear();
        let read = reader.take(batch_len).read_to_end(&mut batch);
        let start = total;
        total += batch.len() as u64;
        if read.is_err() {
            // A chunk cut by a read error is counted with the error, once, not as a short chunk.
            batch.truncate(batch.len() / CHUNK_SIZE as usize * CHUNK_SIZE as usize);
        }
        let chunks = (batch.len() as u64).div_ceil(CHUNK_SIZE);
        let bytes = EvtxBytes::Window {
            start,
            bytes: &batch,
        };
        let first = next_chunk;
        per_chunk.extend(
            (first..first + chunks)
                .into_par_iter()
                .map(|n| read_chunk(name, &bytes, n, &settings, opts))
                .collect::<Vec<_>>(),
        );
        next_chunk += chunks;
        if let Err(e) = read {
            let at = start + batch.len() as u64;
            out.lost_rest(
                name,
                format!("chunk {next_chunk} (file offset {at:#x})"),
                &e,
            );
            break;
        }
        if (batch.len() as u64) < batch_len {
            break;
        }
    }
    out.stats.bytes += total;
    merge_chunks(per_chunk, out);
}
