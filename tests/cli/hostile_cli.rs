//! The command line under abuse: `-o` aimed at the evidence, runs that fail half-way, closed
//! pipes, absurd thread counts and durations, and allow-lists that are devices or FIFOs. Each
//! test runs the `svchunt` binary and checks its exit code, messages and the files it leaves.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use assert_cmd::Command;

fn svchunt() -> Command {
    Command::cargo_bin("svchunt").expect("the svchunt binary")
}

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/lab")
}

/// One System log of the examples (it holds service installs), copied into `dir/logs/` (the
/// examples stay untouched).
fn evidence(dir: &Path) -> (PathBuf, PathBuf) {
    let logs = dir.join("logs");
    std::fs::create_dir(&logs).unwrap();
    let source = walkdir::WalkDir::new(examples())
        .sort_by_file_name()
        .into_iter()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name() == "System.evtx")
        .expect("a System log in the examples")
        .into_path();
    let file = logs.join("System.evtx");
    std::fs::copy(source, &file).unwrap();
    (logs, file)
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[cfg(unix)] // symlinks, /dev/zero, FIFOs
#[test]
fn output_onto_an_input_is_refused_before_anything_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let (logs, file) = evidence(dir.path());
    let before = std::fs::read(&file).unwrap();
    let hard = dir.path().join("hard-link.evtx");
    std::fs::hard_link(&file, &hard).unwrap();
    let soft = dir.path().join("sym-link.evtx");
    std::os::unix::fs::symlink(&file, &soft).unwrap();

    for (target, inputs) in [
        (&file, &logs),
        (&file, &file),
        (&hard, &logs),
        (&soft, &logs),
        (&soft, &file),
    ] {
        let out = svchunt()
            .args(["hunt", "-f", "json", "-o"])
            .arg(target)
            .arg(inputs)
            .output()
            .unwrap();
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", target.display());
        assert!(stderr.contains("is one of the inputs"), "{stderr}");
        assert!(
            !stderr.contains("svchunt: read"),
            "refused before reading: {stderr}"
        );
        assert_eq!(
            std::fs::read(&file).unwrap(),
            before,
            "the evidence is intact"
        );
        assert!(std::fs::symlink_metadata(&soft).unwrap().is_symlink());
    }

    // A new report inside the evidence folder is fine: it is not one of the files read, and
    // nothing of it is there while they are read (`--strict` would count it).
    let report = logs.join("report.json");
    let hunt_into_logs = || {
        svchunt()
            .args(["hunt", "--all", "--strict", "-f", "json", "-o"])
            .arg(&report)
            .arg(&logs)
            .output()
            .unwrap()
    };
    let out = hunt_into_logs();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(!stderr_of(&out).contains("warning"), "{}", stderr_of(&out));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert!(json["findings"].is_array());
    assert_eq!(std::fs::read(&file).unwrap(), before);
    // The next run would read that report as an input, so it is not overwritten either.
    let out = hunt_into_logs();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("is one of the inputs"));
}

#[test]
fn a_failed_run_leaves_the_previous_report_and_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let (logs, _) = evidence(dir.path());
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let report = reports.join("movement.dot");
    std::fs::write(&report, b"the previous report").unwrap();
    // The seed query has no source hosts, so it cannot draw a graph: the run fails at output
    // time, after the report file was opened.
    let out = svchunt()
        .args(["hunt", "-q", "--semantics", "kql", "-f", "dot", "-o"])
        .arg(&report)
        .arg(&logs)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("formats need the lifecycle semantics"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(std::fs::read(&report).unwrap(), b"the previous report");
    let left: Vec<_> = std::fs::read_dir(&reports).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file left: {left:?}");

    // And a run that succeeds replaces it whole.
    svchunt()
        .args(["hunt", "-q", "--all", "-f", "dot", "-o"])
        .arg(&report)
        .arg(&logs)
        .assert()
        .code(0);
    assert!(
        std::fs::read_to_string(&report)
            .unwrap()
            .starts_with("digraph")
    );
    assert_eq!(std::fs::read_dir(&reports).unwrap().count(), 1);
}

#[test]
fn an_unwritable_output_is_reported_before_the_hunt() {
    let dir = tempfile::tempdir().unwrap();
    let (logs, _) = evidence(dir.path());
    let a_file = dir.path().join("a-file");
    std::fs::write(&a_file, b"x").unwrap();
    for target in [
        dir.path().join("no/such/folder/out.json"),
        a_file.join("out.json"),
        dir.path().to_path_buf(),
    ] {
        let out = svchunt()
            .args(["hunt", "-f", "json", "-o"])
            .arg(&target)
            .arg(&logs)
            .output()
            .unwrap();
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("cannot write") || stderr.contains("is a folder"),
            "{stderr}"
        );
        assert!(
            !stderr.contains("svchunt: read"),
            "before the hunt: {stderr}"
        );
    }
    let out = svchunt()
        .args(["export", "--to", "kql", "-o"])
        .arg(dir.path().join("missing/x.kql"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let kql = dir.path().join("x.kql");
    svchunt()
        .args(["export", "--to", "kql", "-o"])
        .arg(&kql)
        .assert()
        .code(0);
    assert!(std::fs::read_to_string(&kql).unwrap().contains("7045"));
}

/// Many events, so the output is far larger than a pipe's buffer.
fn many_events(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("many.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for i in 0..n {
        let line = serde_json::json!({"Event": {
            "System": {
                "Provider": {"#attributes": {"Name": "Service Control Manager"}},
                "EventID": 7045,
                "TimeCreated": {"#attributes": {"SystemTime": format!("2024-05-01T10:{:02}:{:02}Z", i / 60 % 60, i % 60)}},
                "EventRecordID": i,
                "Channel": "System",
                "Computer": format!("HOST{}", i % 7),
            },
            "EventData": {"ServiceName": format!("svc{i}"),
                "ImagePath": format!("C:\\Windows\\Temp\\{}.exe", "x".repeat(200))},
        }});
        writeln!(f, "{line}").unwrap();
    }
    f.flush().unwrap();
    path
}

/// Run svchunt with stdout into a pipe, read one line, close the pipe: the run must end
/// quietly with success.
fn closed_pipe_ends_quietly(args: &[&str], input: &Path) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("svchunt"))
        .args(args)
        .arg(input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(!first.is_empty());
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    assert!(!stderr.to_lowercase().contains("broken pipe"), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}

#[test]
fn a_closed_pipe_ends_the_run_quietly_with_success() {
    let dir = tempfile::tempdir().unwrap();
    let input = many_events(dir.path(), 3000);
    closed_pipe_ends_quietly(&["events", "-q"], &input);
    for format in ["json", "jsonl", "csv", "table"] {
        closed_pipe_ends_quietly(&["hunt", "-q", "--all", "-f", format], &input);
    }
    // With the summary still to come on stderr.
    closed_pipe_ends_quietly(&["events"], &input);
}

#[test]
fn a_closed_stderr_does_not_crash_the_run() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("svchunt"))
        .args(["hunt", "-f", "json", "-j", "100000"])
        .arg(examples())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
}

#[test]
fn absurd_thread_counts_are_capped_and_said_once() {
    let out = svchunt()
        .args(["events", "-j", "20000"])
        .arg(examples())
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stderr.matches("-j 20000 is more than").count(),
        1,
        "{stderr}"
    );
    let quiet = svchunt()
        .args(["events", "-q", "-j", "20000"])
        .arg(examples())
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(quiet.stderr.is_empty());
    assert_eq!(
        quiet.stdout, out.stdout,
        "same events whatever the thread count"
    );
    svchunt()
        .args(["events", "-j", "0"])
        .arg(examples())
        .assert()
        .code(2);
}

#[test]
fn absurd_durations_are_refused_with_a_message() {
    let refused = |args: &[&str], says: &str| {
        let out = svchunt()
            .args(args)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    };
    let lab = examples();
    let lab = lab.to_str().unwrap();
    for rounding in ["500ms", "0s", "-1s"] {
        refused(
            &[
                "export",
                "--to",
                "kql-seed",
                &format!("--rounding={rounding}"),
            ],
            "at least 1s",
        );
    }
    refused(
        &["export", "--to", "kql", "--window", "99999999h"],
        "100 years",
    );
    refused(
        &["export", "--to", "kql", "--tolerance", "99999999h"],
        "100 years",
    );
    refused(&["export", "--to", "kql", "--window=-1h"], "negative");
    refused(&["hunt", "--window", "99999999h", lab], "100 years");
    refused(&["hunt", "--tolerance", "99999999h", lab], "100 years");
    refused(&["hunt", "--window=-24h", lab], "negative");
    svchunt()
        .args([
            "export",
            "--to",
            "kql-seed",
            "--rounding",
            "1m",
            "--window",
            "876600h",
        ])
        .assert()
        .code(0);
}

#[cfg(unix)] // symlinks, /dev/zero, FIFOs
#[test]
fn allow_lists_must_be_small_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("allow.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    let mut targets = vec![PathBuf::from("/dev/zero"), dir.path().to_path_buf()];
    match made {
        Ok(s) if s.success() => targets.push(fifo),
        _ => svchunt_testkit::skip("the FIFO case needs mkfifo"),
    }
    for allow in targets {
        let out = svchunt()
            .args(["hunt", "-f", "json", "--allow"])
            .arg(&allow)
            .arg(examples())
            .timeout(Duration::from_secs(30))
            .output()
            .unwrap();
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", allow.display());
        assert!(stderr.contains("not a regular file"), "{stderr}");
    }
}

/// A 7045 as an evtx_dump JSON line, dated `time` on `host`.
fn install_line(record: u64, time: &str, host: &str) -> String {
    serde_json::json!({"Event": {
        "System": {
            "Provider": {"#attributes": {"Name": "Service Control Manager"}},
            "EventID": 7045,
            "TimeCreated": {"#attributes": {"SystemTime": time}},
            "EventRecordID": record,
            "Channel": "System",
            "Computer": host,
            "Security": {"#attributes": {"UserID": "S-1-5-21-1-2-3-500"}},
        },
        "EventData": {
            "ServiceName": "PSEXESVC",
            "ImagePath": "%SystemRoot%\\PSEXESVC.exe",
            "ServiceType": "user mode service",
            "StartType": "demand start",
            "AccountName": "LocalSystem",
        },
    }})
    .to_string()
}

/// Clocks set to the ends of time: the last and first instants jiff holds, and Windows' own
/// limit (year 30827), which lies beyond them. No panic in any window arithmetic, every record
/// kept, the one beyond range dated at the end with a located warning that says so.
#[test]
fn events_at_the_ends_of_time_are_kept_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("clocks.jsonl");
    let lines = [
        install_line(1, "9999-12-30T21:59:59Z", "H1"),
        install_line(2, "-009999-01-02T01:59:59Z", "H2"),
        install_line(3, "30827-12-31T23:59:59.999Z", "H3"),
    ];
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    for semantics in ["lifecycle", "kql"] {
        let out = svchunt()
            .args(["hunt", "--semantics", semantics, "-f", "json"])
            .arg(&file)
            .output()
            .unwrap();
        let stderr = stderr_of(&out);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{semantics}: {stderr}"
        );
        assert!(
            stderr.contains("line 3") && stderr.contains("30827-12-31T23:59:59.999Z"),
            "{semantics}: the record beyond range is located: {stderr}"
        );
        assert!(
            stderr.contains("0 record(s) unreadable"),
            "{semantics}: {stderr}"
        );
    }
    let out = svchunt()
        .args(["hunt", "-q", "-f", "json"])
        .arg(&file)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let created: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["created"].as_str().unwrap())
        .collect();
    assert_eq!(created.len(), 3, "every install kept: {created:?}");
    assert_eq!(created[0], "-009999-01-02T01:59:59Z");
    assert_eq!(
        created[2], "9999-12-30T22:00:00.999999999Z",
        "the end of jiff's range"
    );

    assert_carries_time_as_logged(&file, "30827-12-31T23:59:59.999Z");
}

/// `svchunt events` of `file` prints an event whose `time_as_logged` is `logged`.
fn assert_carries_time_as_logged(file: &Path, logged: &str) {
    let events = svchunt().args(["events", "-q"]).arg(file).output().unwrap();
    let text = String::from_utf8(events.stdout).unwrap();
    assert!(
        text.contains(&format!(r#""time_as_logged":"{logged}""#)),
        "the event carries its time as logged: {text}"
    );
}

/// An EVTX record stamped past year 9999 (a tampered clock; Windows' FILETIME goes on to year
/// 30828): kept, dated at the end of time with a located warning, its time as logged carried.
/// (The evtx crate fails such a record and writes its year modulo 10000.)
#[test]
fn an_evtx_record_stamped_past_year_9999_is_kept_and_said() {
    use evtx_writer::{DataValue, EvtxWriter, Record, SystemFields, to_filetime};
    let time: jiff::Timestamp = "2024-05-06T10:00:00.1234567Z".parse().unwrap();
    let record = |id: u64, time, name: &str| Record {
        record_id: id,
        time,
        system: SystemFields {
            provider: "Service Control Manager".into(),
            provider_guid: None,
            event_source_name: Some("Service Control Manager".into()),
            event_id: 7045,
            qualifiers: Some(16384),
            version: 0,
            level: 4,
            task: 0,
            opcode: 0,
            keywords: 0x8080_0000_0000_0000,
            activity_id: None,
            computer: "WKS-0001.corp.example".into(),
            channel: "System".into(),
            user_sid: None,
            process_id: 640,
            thread_id: 700,
        },
        event_data: [
            ("ServiceName", name),
            ("ImagePath", "%SystemRoot%\\PSEXESVC.exe"),
            ("ServiceType", "user mode service"),
            ("StartType", "demand start"),
            ("AccountName", "LocalSystem"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), DataValue::str(*v)))
        .collect(),
    };
    let mut w = EvtxWriter::new(std::io::Cursor::new(Vec::new())).unwrap();
    let earlier = time - jiff::SignedDuration::from_hours(1);
    w.write_record(&record(1, earlier, "PSEXESVC")).unwrap();
    w.write_record(&record(2, time, "TAMPERED")).unwrap();
    let mut bytes = w.finish().unwrap().into_inner();
    // The second record's header time and its SystemTime both become i64::MAX ticks.
    let (from, to) = (
        to_filetime(time).to_le_bytes(),
        (i64::MAX as u64).to_le_bytes(),
    );
    let mut replaced = 0;
    for at in 0..bytes.len() - 8 {
        if bytes[at..at + 8] == from {
            bytes[at..at + 8].copy_from_slice(&to);
            replaced += 1;
        }
    }
    assert_eq!(replaced, 2, "the header's time and SystemTime");
    // The chunk's CRCs over its records and its header, as Windows writes them.
    let chunk = &mut bytes[4096..4096 + 65536];
    let free = u32::from_le_bytes(chunk[48..52].try_into().unwrap()) as usize;
    let records_crc = crc32fast::hash(&chunk[512..free]);
    chunk[52..56].copy_from_slice(&records_crc.to_le_bytes());
    let mut h = crc32fast::Hasher::new();
    h.update(&chunk[..120]);
    h.update(&chunk[128..512]);
    let header_crc = h.finalize();
    chunk[124..128].copy_from_slice(&header_crc.to_le_bytes());

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("System.evtx");
    std::fs::write(&file, &bytes).unwrap();
    let out = svchunt()
        .args(["hunt", "-f", "json"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("record 2") && stderr.contains("30828-09-14T02:48:05.4775807Z"),
        "the record beyond range is located: {stderr}"
    );
    assert!(stderr.contains("0 record(s) unreadable"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let created: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["service_name"].as_str().unwrap(),
                f["created"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        created,
        [
            ("PSEXESVC", "2024-05-06T09:00:00.1234567Z"),
            ("TAMPERED", "9999-12-30T22:00:00.999999999Z")
        ]
    );
    assert_carries_time_as_logged(&file, "30828-09-14T02:48:05.4775807Z");
}
