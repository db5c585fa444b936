//! Bytes as one 64 KiB chunk → the lean walk (`evtx_scan::records`, then `values` on every
//! record it finds). It reads untrusted chunks before the crate does: it must never panic,
//! loop or hand back a record outside the chunk.
#![no_main]

use libfuzzer_sys::fuzz_target;
use svchunt::read::evtx_scan::{records, values};

fuzz_target!(|data: &[u8]| {
    // The first two bytes choose the free-space offset (the walk's end), the rest is the chunk,
    // zero-padded as the reader pads a truncated one.
    let Some((head, body)) = data.split_first_chunk::<2>() else {
        return;
    };
    let free = u16::from_le_bytes(*head) as usize * 2;
    let mut chunk = body.to_vec();
    chunk.resize(65536, 0);
    for end in [free, chunk.len(), usize::MAX] {
        let Some(found) = records(&chunk, end) else {
            continue;
        };
        let mut last_end = 0;
        for r in &found {
            assert!(r.offset >= last_end, "records overlap: {found:?}");
            assert!(
                r.offset + r.size <= chunk.len().min(end),
                "record past the end"
            );
            last_end = r.offset + r.size;
            let _ = values(&chunk, r.offset, r.size);
        }
    }
});
