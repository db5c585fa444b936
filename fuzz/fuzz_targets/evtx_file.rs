//! Bytes → `read_evtx` over an in-memory EVTX, on the render path and on the fast path.
//!
//! The first input byte steers the harness so that mutations reach chunk parsing rather than
//! dying at the file magic or a CRC the fuzzer cannot forge:
//! bit 0: put a valid file header in front when the input has no `ElfFile` magic;
//! bit 1: recompute every chunk's header and records CRC32 (only a clean chunk is planned by
//!        the lean walk);
//! bit 2: insert an unused chunk 0 first (the lean walk only plans chunks after the first).
#![no_main]

mod common;

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use svchunt::read::evtx::{CHUNK_SIZE, EvtxBytes, FILE_HEADER_SIZE, MAGIC, read_evtx};
use svchunt::read::{FileOutput, ReadOptions};

const HEADER: usize = FILE_HEADER_SIZE as usize;
const CHUNK: usize = CHUNK_SIZE as usize;

fn file_header(chunks: u16) -> Vec<u8> {
    let mut h = vec![0u8; HEADER];
    h[..8].copy_from_slice(MAGIC);
    h[24..32].copy_from_slice(&1u64.to_le_bytes()); // next record number
    h[32..36].copy_from_slice(&128u32.to_le_bytes()); // header size
    h[36..38].copy_from_slice(&1u16.to_le_bytes()); // minor version
    h[38..40].copy_from_slice(&3u16.to_le_bytes()); // major version
    h[40..42].copy_from_slice(&(HEADER as u16).to_le_bytes());
    h[42..44].copy_from_slice(&chunks.to_le_bytes());
    let crc = crc32fast::hash(&h[..120]);
    h[124..128].copy_from_slice(&crc.to_le_bytes());
    h
}

fn fix_chunk_crcs(body: &mut [u8]) {
    for chunk in body.chunks_mut(CHUNK) {
        if chunk.len() < 512 {
            continue;
        }
        let free = u32::from_le_bytes(chunk[48..52].try_into().unwrap()) as usize;
        if (512..=chunk.len()).contains(&free) {
            let crc = crc32fast::hash(&chunk[512..free]);
            chunk[52..56].copy_from_slice(&crc.to_le_bytes());
        }
        let mut h = crc32fast::Hasher::new();
        h.update(&chunk[..120]);
        h.update(&chunk[128..512]);
        let crc = h.finalize();
        chunk[124..128].copy_from_slice(&crc.to_le_bytes());
    }
}

fn read(bytes: &[u8], opts: &ReadOptions) {
    let name: Arc<str> = "fuzz.evtx".into();
    let mut out = FileOutput::default();
    read_evtx(&name, EvtxBytes::Memory(bytes), opts, &mut out);
    common::check(&out, opts, &name);
    assert_eq!(out.stats.files + out.stats.files_skipped, 1);
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, data)) = data.split_first() else {
        return;
    };
    let (mut file, body) = if data.starts_with(MAGIC) || flags & 1 == 0 {
        let split = data.len().min(HEADER);
        (data[..split].to_vec(), &data[split..])
    } else {
        (file_header(1 + (data.len() / CHUNK) as u16), data)
    };
    let at = file.len();
    if flags & 4 != 0 && file.len() == HEADER {
        file.resize(HEADER + CHUNK, 0);
    }
    let body_at = file.len();
    file.extend_from_slice(body);
    if flags & 2 != 0 && at == HEADER {
        fix_chunk_crcs(&mut file[body_at..]);
    }
    read(&file, &ReadOptions::default());
    read(&file, &common::needle_options());
});
