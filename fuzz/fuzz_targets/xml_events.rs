//! Bytes → `read_xml` (Event Viewer / wevtutil XML events), with every event and with a hunt's
//! selection and needles, and a tiny record limit too (the limit's path must never panic).
#![no_main]

mod common;

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use svchunt::read::xml_events::read_xml;
use svchunt::read::{FileOutput, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let name: Arc<str> = "fuzz.xml".into();
    let small = ReadOptions::default().with_limits(svchunt::read::InputLimits {
            max_record: 256,
            ..svchunt::read::InputLimits::default()
        });
    for opts in [ReadOptions::default(), common::needle_options(), small] {
        let mut out = FileOutput::default();
        read_xml(&name, &mut &data[..], &opts, &mut out);
        common::check(&out, &opts, &name);
        assert!(out.stats.bytes <= data.len() as u64, "read more than the input");
        assert!(out.stats.incomplete_total() <= 1, "one input, lost at most once: {:?}", out.stats);
    }
});
