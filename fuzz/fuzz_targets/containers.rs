//! Bytes written to a file → `Engine::read_events`: sniffing, then zip and gzip unwrapping
//! (nested up to the limit) into every reader.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use svchunt::Engine;

fuzz_target!(|data: &[u8]| {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(data).unwrap();
    file.flush().unwrap();
    let c = Engine::default().read_events(&[file.path().to_path_buf()], None);
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
