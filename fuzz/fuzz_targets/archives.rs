//! Bytes written to a file → `discover::read_file`: tar, 7z, bzip2, xz (and zip, gzip, UTF-16
//! text) opened by their magic, members read as inputs of their own. The flag byte steers the
//! fuzzer past the magic it would take long to find: 1 7z, 2 tar (a ustar header around the
//! bytes), 3 bzip2, 4 xz, 5 UTF-16LE text; anything else leaves the bytes as they are. A small
//! expansion ratio and record limit keep every path reachable in a short input.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use svchunt::discover::read_file;
use svchunt::read::ReadOptions;

fuzz_target!(|data: &[u8]| {
    let Some((flags, body)) = data.split_first() else {
        return;
    };
    let bytes = match flags % 8 {
        1 => [&b"7z\xbc\xaf\x27\x1c"[..], body].concat(),
        2 => {
            let mut h = vec![0u8; 512];
            h[..8].copy_from_slice(b"fuzz.bin");
            h[100..107].copy_from_slice(b"0000644");
            h[124..135].copy_from_slice(format!("{:011o}", body.len()).as_bytes());
            h[156] = b'0';
            h[257..263].copy_from_slice(b"ustar\0");
            h[263..265].copy_from_slice(b"00");
            h[148..156].copy_from_slice(b"        ");
            let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
            h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
            [h, body.to_vec()].concat()
        }
        3 => [&b"BZh91AY&SY"[..], body].concat(),
        4 => [&b"\xfd7zXZ\0"[..], body].concat(),
        5 => [&b"\xff\xfe"[..], body].concat(),
        _ => body.to_vec(),
    };
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&bytes).unwrap();
    file.flush().unwrap();
    let opts = ReadOptions::default().with_limits(svchunt::read::InputLimits {
            max_record: 4096,
            max_expansion: 64,
            ..svchunt::read::InputLimits::default()
        });
    let out = read_file(file.path(), &opts);
    assert_eq!(out.stats.records_selected, out.events.len() as u64);
    assert!(out.stats.records_selected <= out.stats.records);
});
