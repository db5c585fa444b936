//! Bytes written to a file → `hunt::collect`: sniffing, then zip and gzip unwrapping (nested up
//! to the limit) into every reader.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use svchunt::hunt::collect;
use svchunt::read::ReadOptions;

fuzz_target!(|data: &[u8]| {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(data).unwrap();
    file.flush().unwrap();
    let opts = ReadOptions::default();
    let c = collect(&[file.path().to_path_buf()], &opts);
    assert_eq!(
        c.stats.records_selected,
        c.events.len() as u64 + c.stats.duplicates,
        "selected count and kept events disagree: {:?}",
        c.stats
    );
    assert!(c.stats.records_selected <= c.stats.records);
    assert!(
        c.events.windows(2).all(|w| w[0].time <= w[1].time),
        "events out of time order"
    );
});
