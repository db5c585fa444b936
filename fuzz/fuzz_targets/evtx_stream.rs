//! Bytes → `read_evtx_stream` (an EVTX inside an archive, read chunk batch by chunk batch), with
//! every event and with a hunt's selection and needles. The flag byte as in `evtx_file`: bit 0
//! puts a valid file header in front when the input has none.
#![no_main]

mod common;

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use svchunt::read::evtx_stream::read_evtx_stream;
use svchunt::read::{FileOutput, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let Some((flags, body)) = data.split_first() else {
        return;
    };
    let mut bytes = body.to_vec();
    if flags & 1 == 1 && !bytes.starts_with(b"ElfFile\0") {
        let mut header = b"ElfFile\0".to_vec();
        header.resize(4096, 0);
        header.extend_from_slice(&bytes);
        bytes = header;
    }
    let name: Arc<str> = "fuzz.evtx".into();
    for opts in [ReadOptions::default(), common::needle_options()] {
        let mut out = FileOutput::default();
        read_evtx_stream(&name, &mut &bytes[..], &opts, &mut out);
        common::check(&out, &opts, &name);
        assert!(out.stats.files + out.stats.files_skipped == 1, "one input: {:?}", out.stats);
        assert!(out.stats.incomplete_total() <= 1, "lost at most once: {:?}", out.stats);
    }
});
