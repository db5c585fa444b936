//! Bad input never crashes and never silently drops data: every damaged real file of the shared
//! corpus, and damage made here (truncation, empty files, garbage, text named .evtx), gives
//! located warnings, keeps every record that can still be read, and counts what was lost.

use crate::common;

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
        "garbage.evtx",
        &[0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3],
    );
    let stranger = write(dir.path(), "garbage.bin", &[0xde, 0xad, 0xbe, 0xef]);
    let header_only = write(dir.path(), "header.evtx", b"ElfFile\0only the magic");
    let mut bad_chunk = b"ElfFile\0".to_vec();
    bad_chunk.resize(4096 + 65536, 0x41);
    let bad_chunk = write(dir.path(), "bad-chunk.evtx", &bad_chunk);
    let bad_json = write(dir.path(), "bad.jsonl", b"{\"not\": \"an event\"\n");
    let c = read(&[empty, garbage, header_only, bad_chunk, bad_json, stranger]);
    // A file that does not look like a log at all is counted, not warned about.
    assert!(warnings_for(&c, "garbage.bin").is_empty());
    assert_eq!(c.stats.not_logs["programs and libraries"], 1);
    for name in [
        "empty.evtx",
        "garbage.evtx",
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

// ---- Every loss is counted once, by reason, and makes --strict exit 2 (issue 12). ----

fn lab_file(host: &str, log: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/lab")
        .join(host)
        .join(log)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    w.write_all(bytes).unwrap();
    w.finish().unwrap()
}

/// `svchunt hunt --strict` over `paths`: exit code and stderr.
fn strict_hunt(paths: &[PathBuf], extra: &[&str]) -> (Option<i32>, String) {
    let out = assert_cmd::Command::cargo_bin("svchunt")
        .unwrap()
        .args(["hunt", "--strict", "-f", "json"])
        .args(extra)
        .args(paths)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_truncated_gzip_is_a_counted_loss() {
    let dir = tempfile::tempdir().unwrap();
    let evtx = std::fs::read(lab_file("WKS-0001.corp.example", "Security.evtx")).unwrap();
    let gz = gzip(&evtx);
    let cut = write(dir.path(), "Security.evtx.gz", &gz[..gz.len() * 4 / 5]);
    let c = read(std::slice::from_ref(&cut));
    assert_eq!(
        c.stats.inputs_incomplete["truncated"], 1,
        "{:#?}",
        c.warnings
    );
    assert_eq!(c.stats.incomplete_total(), 1, "counted once: {:?}", c.stats);
    assert!(c.stats.records > 0, "the chunks before the cut are read");
    let w = warnings_for(&c, "Security.evtx.gz!gunzip");
    assert!(
        w[0].message
            .starts_with("truncated, the rest of the input is lost"),
        "{w:#?}"
    );
    assert!(w[0].location.starts_with("chunk "), "{w:#?}");
    // Text too.
    let lines: Vec<u8> = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/exports/winlogbeat.ndjson"),
    )
    .unwrap();
    let gz = gzip(&lines.repeat(50));
    let cut_json = write(dir.path(), "w.ndjson.gz", &gz[..gz.len() - 12]);
    let c = read(std::slice::from_ref(&cut_json));
    assert_eq!(c.stats.incomplete_total(), 1, "{:#?}", c.warnings);
    let (code, stderr) = strict_hunt(&[cut, cut_json], &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("2 read in part"), "{stderr}");
}

#[test]
fn a_truncated_evtx_is_a_counted_loss() {
    let dir = tempfile::tempdir().unwrap();
    let evtx = std::fs::read(lab_file("WKS-0001.corp.example", "Security.evtx")).unwrap();
    let cut = write(dir.path(), "Security.evtx", &evtx[..evtx.len() - 1000]);
    let c = read(std::slice::from_ref(&cut));
    assert_eq!(c.stats.inputs_incomplete["truncated"], 1);
    let header_only = write(dir.path(), "header.evtx", &evtx[..2000]);
    let c = read(std::slice::from_ref(&header_only));
    assert_eq!(
        c.stats.inputs_incomplete["truncated"], 1,
        "{:#?}",
        c.warnings
    );
    assert_eq!(strict_hunt(&[cut], &[]).0, Some(2));
}

#[test]
fn an_unreadable_folder_is_a_counted_loss() {
    // A path longer than the system allows cannot be listed, even by root.
    let dir = tempfile::tempdir().unwrap();
    let long = vec!["d".repeat(200); 22].join("/");
    let status = std::process::Command::new("mkdir")
        .arg("-p")
        .arg(dir.path().join(&long))
        .status()
        .unwrap();
    assert!(status.success());
    let c = read(&[dir.path().to_path_buf()]);
    assert_eq!(c.stats.files_skipped, 1, "{:#?}", c.warnings);
    assert!(
        c.warnings[0].message.starts_with("cannot read"),
        "{:#?}",
        c.warnings
    );
    assert!(
        c.warnings[0].message.contains("too long"),
        "{:#?}",
        c.warnings
    );
    assert_eq!(strict_hunt(&[dir.path().to_path_buf()], &[]).0, Some(2));
}

#[test]
fn pipes_and_devices_are_reported_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("Security.evtx");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    // Opening the pipe would block this test forever.
    let c = read(&[dir.path().to_path_buf()]);
    assert_eq!(c.stats.files_skipped, 1);
    assert!(
        c.warnings[0]
            .message
            .starts_with("named pipe: not a regular file"),
        "{:#?}",
        c.warnings
    );
    let dev = svchunt::discover::read_file(
        Path::new("/dev/null"),
        &svchunt::read::ReadOptions::default(),
    );
    assert_eq!(dev.stats.files_skipped, 1);
    assert!(
        dev.warnings[0].message.starts_with("character device"),
        "{:?}",
        dev.warnings
    );
    assert_eq!(strict_hunt(&[fifo], &[]).0, Some(2));
}

#[test]
fn a_json_file_opening_with_a_heartbeat_is_read_from_its_first_event() {
    let dir = tempfile::tempdir().unwrap();
    let events = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/exports/winlogbeat.ndjson"),
    )
    .unwrap();
    let heartbeat = r#"{"@timestamp":"2021-04-21T09:00:00Z","beat":{"name":"wlb"},"monitoring":{"metrics":{"beat":{"memstats":{"rss":1}}}}}"#;
    let text = format!("{heartbeat}\n{events}{heartbeat}\n");
    let p = write(dir.path(), "winlogbeat.json", text.as_bytes());
    let c = read(std::slice::from_ref(&p));
    let whole = read(&[
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/exports/winlogbeat.ndjson")
    ]);
    assert_eq!(c.events.len(), whole.events.len());
    assert_eq!(c.stats.files_skipped, 0);
    let lines: Vec<&str> = c.warnings.iter().map(|w| w.location.as_str()).collect();
    let last = format!("line {}", events.lines().count() + 2);
    assert_eq!(lines, ["line 1", last.as_str()], "{:#?}", c.warnings);
    assert_eq!(c.stats.skipped_total(), 2);
}

#[test]
fn one_huge_json_line_is_skipped_by_size() {
    let dir = tempfile::tempdir().unwrap();
    let events = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/exports/winlogbeat.ndjson"),
    )
    .unwrap();
    let huge = format!("{{\"message\":\"{}\"}}\n", "A".repeat(3 << 20));
    let p = write(
        dir.path(),
        "big.ndjson.gz",
        &gzip(format!("{huge}{events}").as_bytes()),
    );
    let (code, stderr) = strict_hunt(std::slice::from_ref(&p), &["--max-record", "1M"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("big.ndjson.gz!gunzip: line 1: record too large: longer than --max-record (1 MiB): skipped"),
        "{stderr}"
    );
    let engine = svchunt::Engine::lifecycle(svchunt::LifecycleOptions::default())
        .input_limits(svchunt::read::InputLimits {
            max_record: 1 << 20,
            ..svchunt::read::InputLimits::default()
        })
        .build()
        .unwrap();
    let c = engine.read_events(std::slice::from_ref(&p), None);
    assert_eq!(c.stats.records_skipped["record too large"], 1);
    assert!(!c.events.is_empty(), "the lines after it are read");
}

#[test]
fn an_archive_bomb_stops_at_the_expansion_limit() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    // 1.1 GiB of zeros behind an EVTX header, gzipped to about a megabyte.
    let evtx = std::fs::read(lab_file("WKS-0001.corp.example", "System.evtx")).unwrap();
    let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    w.write_all(&evtx[..4096 + 65536]).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1100 {
        w.write_all(&zeros).unwrap();
    }
    let bomb = write(dir.path(), "bomb.evtx.gz", &w.finish().unwrap());
    let (code, stderr) = strict_hunt(std::slice::from_ref(&bomb), &["--max-expansion", "2"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("expansion limit reached, the rest of the input is lost"),
        "{stderr}"
    );
    assert!(stderr.contains("1 read in part"), "{stderr}");
    // Raised, the same input is read whole.
    let (code, stderr) = strict_hunt(&[bomb], &["--max-expansion", "0"]);
    assert_ne!(code, Some(2), "{stderr}");
}

#[test]
fn a_crafted_7z_block_is_a_counted_loss_not_a_hang() {
    // Found by the archives fuzz target: with sevenz-rust2 0.20 (lzma-rust2 0.16) the LZMA2
    // decoder spun forever on it; each of its three members is now one skipped input.
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/forms/crafted-lzma2.7z");
    let c = read(&[p]);
    assert_eq!(c.stats.files_skipped, 3, "{:#?}", c.warnings);
    assert_eq!(c.stats.incomplete_total(), 0, "each loss counted once");
    assert_eq!(c.warnings.len(), 3);
}

/// Losses that only the first read pass meets (an install without a time, an install row with a
/// bad time): the hunt's final pass re-reads the installs, so they are counted and make
/// `--strict` exit 2, as the same losses in evidence records do.
#[test]
fn losses_among_the_installs_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let install = |record: u32, time: Option<&str>| {
        let mut system = serde_json::json!({
            "Provider": {"#attributes": {"Name": "Service Control Manager"}},
            "EventID": 7045,
            "EventRecordID": record,
            "Channel": "System",
            "Computer": "H1",
        });
        if let Some(t) = time {
            system["TimeCreated"] = serde_json::json!({"#attributes": {"SystemTime": t}});
        }
        serde_json::json!({"Event": {"System": system, "EventData": {
            "ServiceName": "PSEXESVC", "ImagePath": "%SystemRoot%\\PSEXESVC.exe"}}})
        .to_string()
    };
    let json = write(
        dir.path(),
        "installs.jsonl",
        format!(
            "{}\n{}\n",
            install(1, Some("2024-05-06T08:00:00Z")),
            install(2, None)
        )
        .as_bytes(),
    );
    let csv = write(
        dir.path(),
        "event.csv",
        b"TimeGenerated [UTC],Computer,EventID,Source,EventData\n\
          not a time,H2,7045,Service Control Manager,<DataItem/>\n",
    );
    for path in [json, csv] {
        let (code, stderr) = strict_hunt(std::slice::from_ref(&path), &[]);
        assert_eq!(code, Some(2), "{}: {stderr}", path.display());
        assert!(
            stderr.contains("1 record(s) unreadable"),
            "{}: {stderr}",
            path.display()
        );
    }
}
