//! Hostile text in what the analyst reads: log strings and file names full of terminal controls,
//! bidi overrides and spreadsheet formulas, through the table, stderr, CSV, JSON and DOT.
//! Each test generates its input (evtx_dump JSON lines, a zip with a hostile member name) and
//! checks the bytes the `svchunt` command writes.

use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn svchunt() -> Command {
    Command::cargo_bin("svchunt").expect("the svchunt binary")
}

/// One event as `evtx_dump -o jsonl` writes it.
fn record(
    id: u32,
    time: &str,
    computer: &str,
    provider: &str,
    channel: &str,
    user_sid: &str,
    data: serde_json::Value,
) -> String {
    serde_json::json!({"Event": {
        "System": {
            "Provider": {"#attributes": {"Name": provider}},
            "EventID": id,
            "TimeCreated": {"#attributes": {"SystemTime": time}},
            "EventRecordID": 1,
            "Channel": channel,
            "Computer": computer,
            "Security": {"#attributes": {"UserID": user_sid}},
        },
        "EventData": data,
    }})
    .to_string()
}

const SID: &str = "S-1-5-21-1-2-3-1104";

/// A 7045 installing `service` with `image` on `computer`.
fn install(time: &str, computer: &str, service: &str, image: &str) -> String {
    record(
        7045,
        time,
        computer,
        "Service Control Manager",
        "System",
        SID,
        serde_json::json!({"ServiceName": service, "ImagePath": image,
            "ServiceType": "user mode service", "StartType": "demand start",
            "AccountName": "LocalSystem"}),
    )
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut f = std::fs::File::create(path).unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
}

/// The terminal-hostile service from the issue: it cleared the screen and the scrollback.
const WIPE: &str = "\x1b[2J\x1b[3J\x1b[Hnothing to see";
const WIPE_SHOWN: &str = r"\x1b[2J\x1b[3J\x1b[Hnothing to see";

fn hostile_logs(dir: &Path) -> PathBuf {
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    write_lines(
        &logs.join("system.jsonl"),
        &[
            install(
                "2024-05-01T10:00:00Z",
                "HOST1",
                WIPE,
                r"C:\Windows\wipe.exe",
            ),
            install(
                "2024-05-01T10:01:00Z",
                "HOST\u{202e}2",
                "svc\u{200b}name",
                "C:\\Users\\Public\\evil\u{202e}gpj.exe",
            ),
            install(
                "2024-05-01T10:02:00Z",
                "HOST3",
                "=cmd|' /C calc'!A0",
                "@SUM(1+1)*cmd|' /C calc'!A0",
            ),
            install("2024-05-01T10:03:00Z", "+HOST4", "-2+3", "-enc \u{9b}31m"),
        ],
    );
    logs
}

fn raw_controls(s: &str) -> Vec<char> {
    s.chars()
        .filter(|c| (c.is_control() && *c != '\n') || ('\u{200b}'..='\u{206f}').contains(c))
        .collect()
}

#[test]
fn the_table_shows_controls_and_bidi_as_escapes_and_stays_aligned() {
    let dir = tempfile::tempdir().unwrap();
    let logs = hostile_logs(dir.path());
    let out = svchunt()
        .args(["hunt", "--all", "-f", "table"])
        .arg(&logs)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8(out.stdout).unwrap();
    assert_eq!(raw_controls(&table), Vec::<char>::new(), "{table}");
    assert!(table.contains(WIPE_SHOWN), "{table}");
    assert!(table.contains(r"HOST\u{202e}2"), "{table}");
    assert!(table.contains(r"svc\u{200b}name"), "{table}");
    assert!(table.contains(r"-enc \u{9b}31m"), "{table}");
    // Every line of the grid is as wide as the header line: comfy-table measured the escaped
    // text (every cell is plain ASCII after escaping, so characters are columns).
    let grid: Vec<&str> = table
        .lines()
        .take_while(|l| !l.is_empty())
        .filter(|l| l.starts_with(['┌', '│', '╞', '├', '└']))
        .collect();
    assert!(grid.len() >= 6, "{table}");
    let width = grid[0].chars().count();
    for line in &grid {
        assert_eq!(line.chars().count(), width, "misaligned: {line}");
    }
    // The coverage lines after the table name hosts too.
    assert!(table.contains(r"coverage HOST\u{202e}2:"), "{table}");

    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(raw_controls(&stderr), Vec::<char>::new(), "{stderr}");
}

#[test]
fn json_spells_controls_as_escapes_with_the_same_values() {
    let dir = tempfile::tempdir().unwrap();
    let logs = hostile_logs(dir.path());
    let out = svchunt()
        .args(["hunt", "--all", "-f", "json"])
        .arg(&logs)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(raw_controls(&text), Vec::<char>::new());
    assert!(text.contains(r"HOST\u202e2"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let names: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["service_name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&WIPE),
        "the value itself is unchanged: {names:?}"
    );
    assert!(names.contains(&"svc\u{200b}name"), "{names:?}");

    let jsonl = svchunt()
        .args(["hunt", "--all", "-f", "jsonl"])
        .arg(&logs)
        .output()
        .unwrap();
    assert_eq!(
        raw_controls(&String::from_utf8(jsonl.stdout).unwrap()),
        Vec::<char>::new()
    );
    let events = svchunt()
        .args(["events", "-q"])
        .arg(&logs)
        .output()
        .unwrap();
    let events = String::from_utf8(events.stdout).unwrap();
    assert_eq!(events.lines().count(), 4);
    assert_eq!(raw_controls(&events), Vec::<char>::new(), "{events}");
}

#[test]
fn csv_fields_that_would_be_formulas_are_quoted_unless_raw() {
    let dir = tempfile::tempdir().unwrap();
    let logs = hostile_logs(dir.path());
    let read = |extra: &[&str]| {
        let out = svchunt()
            .args(["hunt", "--all", "-f", "csv"])
            .args(extra)
            .arg(&logs)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let mut rows = csv::Reader::from_reader(out.stdout.as_slice());
        let header = rows.headers().unwrap().clone();
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let (service, image, computer) = (col("service_name"), col("image_path"), col("computer"));
        rows.records()
            .map(|r| {
                let r = r.unwrap();
                (
                    r[computer].to_string(),
                    r[service].to_string(),
                    r[image].to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    let safe = read(&[]);
    let find = |rows: &[(String, String, String)], host: &str| {
        rows.iter()
            .find(|r| r.0.trim_start_matches('\'') == host)
            .cloned()
            .unwrap_or_else(|| panic!("{host} in {rows:?}"))
    };
    let host3 = find(&safe, "HOST3");
    assert_eq!(host3.1, "'=cmd|' /C calc'!A0");
    assert_eq!(host3.2, "'@SUM(1+1)*cmd|' /C calc'!A0");
    let host4 = find(&safe, "+HOST4");
    assert_eq!(host4.0, "'+HOST4");
    assert_eq!(host4.1, "'-2+3");
    assert_eq!(host4.2, "'-enc \u{9b}31m");
    assert_eq!(
        find(&safe, "HOST1").1,
        WIPE,
        "a value starting with ESC is not a formula"
    );
    for (computer, service, image) in &safe {
        for field in [computer, service, image] {
            assert!(
                !field.starts_with(['=', '+', '-', '@', '\t', '\r', '\n']),
                "{field:?}"
            );
        }
    }

    let raw = read(&["--csv-raw"]);
    let host3 = find(&raw, "HOST3");
    assert_eq!(host3.1, "=cmd|' /C calc'!A0");
    assert_eq!(find(&raw, "+HOST4").0, "+HOST4");
}

#[test]
fn help_documents_the_csv_protection_and_its_switch() {
    let out = svchunt().args(["hunt", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("--csv-raw"), "{help}");
    assert!(help.contains("OWASP"), "{help}");
}

#[test]
fn hostile_file_names_are_escaped_in_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    // A file name on disk and a member name inside a zip, each with a terminal title sequence
    // and a bidi override; neither holds a log.
    let on_disk = logs.join("a\x1b]0;pwned\x07\u{202e}txt.evtx");
    std::fs::write(&on_disk, b"not a log at all\n").unwrap();
    let zip_path = logs.join("b.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    zip.start_file(
        "member\x1b[2J\u{202e}.evtx",
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
    )
    .unwrap();
    zip.write_all(b"not a log either\n").unwrap();
    zip.finish().unwrap();

    let out = svchunt()
        .args(["hunt", "-f", "json"])
        .arg(&logs)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(raw_controls(&stderr), Vec::<char>::new(), "{stderr}");
    assert!(
        stderr.contains(r"a\x1b]0;pwned\x07\u{202e}txt.evtx"),
        "{stderr}"
    );
    assert!(stderr.contains(r"member\x1b[2J\u{202e}.evtx"), "{stderr}");
}
