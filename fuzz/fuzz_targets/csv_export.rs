//! Bytes → `read_csv` (Sentinel portal exports), with every event and with a hunt's selection.
#![no_main]

mod common;

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use svchunt::read::csv_export::read_csv;
use svchunt::read::{FileOutput, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let name: Arc<str> = "fuzz.csv".into();
    for opts in [ReadOptions::default(), common::needle_options()] {
        let mut out = FileOutput::default();
        read_csv(&name, &mut &data[..], &opts, &mut out);
        common::check(&out, &opts, &name);
        assert!(
            out.stats.bytes <= data.len() as u64,
            "read more than the input"
        );
    }
});
