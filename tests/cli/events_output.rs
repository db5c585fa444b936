//! `svchunt events` with `-f/--format` and `-o`: the same formats' rules as `hunt` (JSON that
//! is safe to print, formula-safe CSV, `--csv-raw`), the same `-o` (atomic, never onto an
//! input), and Parquet that reads back as the very events the JSON lines show.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn svchunt() -> Command {
    Command::cargo_bin("svchunt").expect("the svchunt binary")
}

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/lab")
}

/// A JSON-lines export whose values a spreadsheet or a terminal would obey.
fn hostile_export(dir: &Path) -> PathBuf {
    let file = dir.join("nxlog.json");
    let line = serde_json::json!({
        "EventID": 7045, "Hostname": "=HYPERLINK(\"http://x\")", "EventTime": "2024-05-06T08:00:00Z",
        "Channel": "System", "SourceName": "Service Control Manager",
        "ServiceName": "evil\u{1b}[2J", "ImagePath": "+cmd /c calc", "ServiceType": "user mode service",
        "StartType": "demand start", "AccountName": "LocalSystem"
    });
    std::fs::write(&file, format!("{line}\n")).unwrap();
    file
}

fn run(args: &[&str], input: &Path) -> std::process::Output {
    svchunt().args(args).arg(input).output().unwrap()
}

#[test]
fn json_is_the_json_lines_as_one_array() {
    let lines = run(&["events", "-q", "--id", "7045,4697"], &examples());
    assert_eq!(lines.status.code(), Some(0));
    let explicit = run(
        &["events", "-q", "--id", "7045,4697", "-f", "jsonl"],
        &examples(),
    );
    assert_eq!(explicit.stdout, lines.stdout, "jsonl is the default");
    let json = run(
        &["events", "-q", "--id", "7045,4697", "-f", "json"],
        &examples(),
    );
    let array: Vec<serde_json::Value> = serde_json::from_slice(&json.stdout).unwrap();
    let each: Vec<serde_json::Value> = String::from_utf8(lines.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(array.len() > 10);
    assert_eq!(array, each);
}

#[test]
fn log_text_is_data_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let export = hostile_export(dir.path());
    let jsonl = run(&["events", "-q", "--local-tz", "UTC"], &export);
    let text = String::from_utf8(jsonl.stdout).unwrap();
    assert!(text.contains("evil\\u001b[2J"), "{text}");
    assert!(!text.contains('\u{1b}'));

    let csv = run(&["events", "-q", "-f", "csv"], &export);
    let text = String::from_utf8(csv.stdout).unwrap();
    let row = text.lines().nth(1).unwrap();
    assert!(row.contains(r#""'=HYPERLINK(""http://x"")""#), "{row}");
    assert!(
        text.contains(r#"""'+cmd"#) || text.contains("+cmd /c calc"),
        "{text}"
    );
    let raw = run(&["events", "-q", "-f", "csv", "--csv-raw"], &export);
    let text = String::from_utf8(raw.stdout).unwrap();
    assert!(text.contains(r#""=HYPERLINK(""http://x"")""#), "{text}");
}

#[test]
fn output_file_is_written_whole_and_never_onto_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let export = hostile_export(dir.path());
    let before = std::fs::read(&export).unwrap();
    let out = svchunt()
        .args(["events", "-q", "-f", "csv", "-o"])
        .arg(&export)
        .arg(&export)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is one of the inputs"));
    assert_eq!(
        std::fs::read(&export).unwrap(),
        before,
        "the evidence is untouched"
    );

    let report = dir.path().join("out").join("events.csv");
    std::fs::create_dir(report.parent().unwrap()).unwrap();
    svchunt()
        .args(["events", "-q", "-f", "csv", "-o"])
        .arg(&report)
        .arg(&export)
        .assert()
        .code(0);
    let written = std::fs::read_to_string(&report).unwrap();
    assert!(written.starts_with("time,computer,channel,provider,event_id,"));
    let left: Vec<_> = std::fs::read_dir(report.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 1, "no temporary file left: {left:?}");
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_reads_back_as_the_events_the_json_lines_show() {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.parquet");
    svchunt()
        .args(["events", "-q", "-f", "parquet", "-o"])
        .arg(&file)
        .arg(examples())
        .assert()
        .code(0);
    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&file).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let mut events = Vec::new();
    let mut row = 0;
    for batch in reader {
        let batch = batch.unwrap();
        let back = svchunt::arrow::events_from_batch(&batch, "events.parquet", row).unwrap();
        assert!(back.warnings.is_empty(), "{:?}", back.warnings);
        row += batch.num_rows() as u64;
        events.extend(back.events);
    }
    let lines = run(&["events", "-q"], &examples());
    let expected: Vec<serde_json::Value> = String::from_utf8(lines.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got: Vec<serde_json::Value> = events
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "Parquet events differ from the JSON lines");

    // Findings too: one row per finding of `-f jsonl`.
    let findings = dir.path().join("findings.parquet");
    svchunt()
        .args(["hunt", "-q", "-f", "parquet", "-o"])
        .arg(&findings)
        .arg(examples())
        .assert()
        .code(0);
    let rows: usize =
        ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&findings).unwrap())
            .unwrap()
            .build()
            .unwrap()
            .map(|b| b.unwrap().num_rows())
            .sum();
    let jsonl = run(&["hunt", "-q", "-f", "jsonl"], &examples());
    assert_eq!(
        rows,
        String::from_utf8(jsonl.stdout).unwrap().lines().count()
    );
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_to_a_pipe_is_binary_parquet() {
    let out = run(
        &["events", "-q", "--id", "7045", "-f", "parquet"],
        &examples(),
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.starts_with(b"PAR1") && out.stdout.ends_with(b"PAR1"));
}
