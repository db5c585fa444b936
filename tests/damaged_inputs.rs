//! Bad input never crashes and never silently drops data: every damaged real file of the shared
//! corpus, and damage made here (truncation, empty files, garbage, text named .evtx), gives
//! located warnings, keeps every record that can still be read, and counts what was lost.

mod common;

use std::path::{Path, PathBuf};

use svchunt::Collection;

fn read(paths: &[PathBuf]) -> Collection {
    common::read_paths(paths, None)
}

fn warnings_for<'a>(c: &'a Collection, file: &str) -> Vec<&'a svchunt::Warning> {
    c.warnings
        .iter()
        .filter(|w| w.file.contains(file))
        .collect()
}

/// (file, records read, records lost) as the shared corpus's MANIFEST.md counts them.
const DAMAGED: &[(&str, u64, u64)] = &[
    ("sample_with_a_bad_chunk_magic.evtx", 301, 3),
    ("sysmon.evtx", 358, 8),
    (
        "2-vss_0-Microsoft-Windows-RemoteDesktopServices-RdpCoreTS%4Operational.evtx",
        1910,
        4,
    ),
    ("security_bad_string_cache.evtx", 2261, 0),
    ("sample-with-zero-data-size-event.evtx", 449, 1),
    ("Application_no_crc32.evtx", 17, 0),
    ("Microsoft-Windows-HelloForBusiness%4Operational.evtx", 6, 0),
    (
        "Microsoft-Windows-LanguagePackSetup%4Operational.evtx",
        17,
        0,
    ),
];

#[test]
fn every_damaged_corpus_file_is_read_with_located_warnings_and_exact_counts() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    for (name, records, lost) in DAMAGED {
        let path = corpus.join("evtx-rs/samples").join(name);
        let c = read(&[path]);
        assert_eq!(c.stats.records, *records, "{name}: records read");
        assert_eq!(c.stats.skipped_total(), *lost, "{name}: records lost");
        let w = warnings_for(&c, name);
        assert!(!w.is_empty(), "{name}: a located warning");
        assert!(
            w.iter().all(|w| !w.location.is_empty()),
            "{name}: every warning says where: {w:#?}"
        );
    }
}

#[test]
fn the_three_7045s_behind_a_zero_size_record_still_come_out() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let path = corpus.join("evtx-rs/samples/sample-with-zero-data-size-event.evtx");
    let c = common::read_paths(&[path], Some(&[7045]));
    assert_eq!(c.events.len(), 3);
    let w = &c.warnings[1];
    assert!(w.location.contains("file offset 0x1000"), "{w}");
    assert!(
        w.message
            .contains("offset 0x820 of chunk 0 (file offset 0x1820)"),
        "{w}"
    );
}

#[test]
fn a_text_file_named_evtx_is_skipped_with_a_warning() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let c = read(&[corpus.join("plaso/test_data/link_to_System.evtx")]);
    assert_eq!(c.stats.files_skipped, 1);
    assert!(c.warnings[0].message.contains("not a recognised format"));
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn a_truncated_file_keeps_the_records_before_the_cut() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let whole = std::fs::read(corpus.join("python-evtx/tests/data/system.evtx")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let full = read(&[write(dir.path(), "full.evtx", &whole)]);
    // Cut in the middle of the third chunk.
    let cut = 4096 + 2 * 65536 + 30_000;
    let truncated = read(&[write(dir.path(), "cut.evtx", &whole[..cut])]);
    let w = warnings_for(&truncated, "cut.evtx");
    assert!(
        w.iter()
            .any(|w| w.message.contains("file truncated") && w.location.contains("chunk 2")),
        "{w:#?}"
    );
    assert!(truncated.stats.records > 0);
    assert!(truncated.stats.records < full.stats.records);
    // Every record of the two whole chunks is still there.
    let first_two: u64 = read(&[write(dir.path(), "two.evtx", &whole[..4096 + 2 * 65536])])
        .stats
        .records;
    assert!(truncated.stats.records > first_two);
}

#[test]
fn empty_garbage_and_headerless_files_are_warnings_not_failures() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.evtx", b"");
    let garbage = write(
        dir.path(),
        "garbage.bin",
        &[0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3],
    );
    let header_only = write(dir.path(), "header.evtx", b"ElfFile\0only the magic");
    let mut bad_chunk = b"ElfFile\0".to_vec();
    bad_chunk.resize(4096 + 65536, 0x41);
    let bad_chunk = write(dir.path(), "bad-chunk.evtx", &bad_chunk);
    let bad_json = write(dir.path(), "bad.jsonl", b"{\"not\": \"an event\"\n");
    let c = read(&[empty, garbage, header_only, bad_chunk, bad_json]);
    for name in [
        "empty.evtx",
        "garbage.bin",
        "header.evtx",
        "bad-chunk.evtx",
        "bad.jsonl",
    ] {
        assert!(
            !warnings_for(&c, name).is_empty(),
            "{name}: {:#?}",
            c.warnings
        );
    }
    assert!(c.events.is_empty());
}

#[test]
fn the_same_log_in_two_folders_is_read_once() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let src = corpus.join("EVTX-to-MITRE-Attack/TA0003-Persistence/T1543.003-Create or Modify System Process-Windows Service/ID7045-7036 PSexec service installation.evtx");
    let dir = tempfile::tempdir().unwrap();
    for sub in ["hostA", "copy-of-hostA"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
        std::fs::copy(&src, dir.path().join(sub).join("System.evtx")).unwrap();
    }
    let c = read(&[dir.path().to_path_buf()]);
    assert_eq!(c.stats.records, 8);
    assert_eq!(c.events.len(), 4);
    assert_eq!(c.stats.duplicates, 4);
}
