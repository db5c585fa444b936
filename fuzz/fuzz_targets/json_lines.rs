//! Bytes → `read_json` (evtx_dump JSON, NXLog, Sentinel tables and arrays, Winlogbeat), with
//! every event and with a hunt's selection and needles.
#![no_main]

mod common;

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use svchunt::read::json::read_json;
use svchunt::read::{FileOutput, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let name: Arc<str> = "fuzz.json".into();
    for opts in [ReadOptions::default(), common::needle_options()] {
        let mut out = FileOutput::default();
        read_json(&name, &mut &data[..], &opts, &mut out);
        common::check(&out, &opts, &name);
        assert!(
            out.stats.bytes <= data.len() as u64,
            "read more than the input"
        );
    }
});
