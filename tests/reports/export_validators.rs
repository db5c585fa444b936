//! The exports checked by their engines' own tooling:
//!
//! - KQL: Microsoft's Kusto language service (npm `@kusto/language-service-next`, driven by
//!   `tools/kusto-check/check.js`) against the Event, SecurityEvent and WindowsEvent schemas;
//! - Sigma: loaded by pySigma and converted by pySigma-backend-sqlite, whose SQL is then run
//!   over a few events (`tools/siem-check/sigma_check.py`);
//! - EQL: executed by the `eql` package over Winlogbeat/ECS events of four scenarios, and its
//!   sequences compared with what `svchunt hunt` finds in the same events.
//!
//! `.ci/export-validators.sh` installs the tools. Where one is missing, its test skips and says
//! why on a developer's machine, and fails under CI (see `svchunt-testkit`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use svchunt::export::{ExportOptions, Schema, Target, render};
use svchunt::lifecycle::host_key;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// True when `python3 -c "import <modules>"` works.
use svchunt_testkit::python_has;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("the validator starts");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

// ---------------------------------------------------------------------------------------------
// KQL

fn kusto_checker() -> Option<PathBuf> {
    let dir = root().join("tools/kusto-check");
    let package = dir.join("node_modules/@kusto/language-service-next/package.json");
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        svchunt_testkit::skip("node is not installed (run .ci/export-validators.sh)");
        return None;
    }
    if !package.exists() {
        svchunt_testkit::skip(format!(
            "@kusto/language-service-next is not installed in {} (run .ci/export-validators.sh)",
            dir.display()
        ));
        return None;
    }
    Some(dir.join("check.js"))
}

#[test]
fn kql_parses_with_no_error_and_no_unresolved_name() {
    let Some(checker) = kusto_checker() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let odd = ExportOptions {
        window: jiff::SignedDuration::from_mins(90),
        tolerance: jiff::SignedDuration::from_millis(1500),
        rounding: jiff::SignedDuration::from_millis(100),
        ..ExportOptions::default()
    };
    let ama = ExportOptions {
        schema: Schema::Ama,
        ..ExportOptions::default()
    };
    let files = [
        write(
            dir.path(),
            "seed.kql",
            &render(Target::KqlSeed, &ExportOptions::default()),
        ),
        write(dir.path(), "seed-odd.kql", &render(Target::KqlSeed, &odd)),
        write(
            dir.path(),
            "legacy.kql",
            &render(Target::Kql, &ExportOptions::default()),
        ),
        write(dir.path(), "legacy-odd.kql", &render(Target::Kql, &odd)),
        write(dir.path(), "ama.kql", &render(Target::Kql, &ama)),
    ];
    let (ok, out) = run(Command::new("node").arg(&checker).args(&files));
    println!("{out}");
    assert!(ok, "the Kusto language service reports errors:\n{out}");
    assert!(
        out.contains("5 file(s), 0 error(s), 0 other diagnostic(s)"),
        "{out}"
    );
}

/// The checker must be able to fail: a column the schema does not have, and a broken pipe.
#[test]
fn kql_checker_catches_unknown_names_and_bad_syntax() {
    let Some(checker) = kusto_checker() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let good = render(Target::Kql, &ExportOptions::default());
    let unknown = write(
        dir.path(),
        "unknown.kql",
        &good.replace("ObjectServer", "ObjectSrv"),
    );
    let broken = write(dir.path(), "broken.kql", &format!("{good}| where"));
    for file in [unknown, broken] {
        let (ok, out) = run(Command::new("node").arg(&checker).arg(&file));
        assert!(!ok, "{} passed:\n{out}", file.display());
    }
}

// ---------------------------------------------------------------------------------------------
// Sigma

#[test]
fn sigma_loads_and_its_correlations_convert_and_run() {
    if !python_has("sigma.collection, sigma.backends.sqlite") {
        svchunt_testkit::skip(
            "pySigma or pySigma-backend-sqlite is not installed (run .ci/export-validators.sh)",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let rules = write(
        dir.path(),
        "rules.yml",
        &render(Target::Sigma, &ExportOptions::default()),
    );
    let script = root().join("tools/siem-check/sigma_check.py");
    let (ok, out) = run(Command::new("python3").arg(script).arg(rules));
    println!("{out}");
    assert!(ok, "{out}");
    assert!(
        out.contains("5 rule(s) loaded, 2 correlation(s), 0 error(s)"),
        "{out}"
    );
}

// ---------------------------------------------------------------------------------------------
// EQL, compared with svchunt hunt

const SID: &str = "S-1-5-21-1004336348-1177238915-682003330-1104";

/// One Winlogbeat 8 document, shaped as Winlogbeat ships it.
fn doc(at: &str, host: &str, id: u32, data: Value) -> Value {
    let (channel, provider) = match id {
        7045 | 7036 => ("System", "Service Control Manager"),
        12 | 13 => (
            "Microsoft-Windows-Sysmon/Operational",
            "Microsoft-Windows-Sysmon",
        ),
        _ => ("Security", "Microsoft-Windows-Security-Auditing"),
    };
    let mut winlog = json!({
        "channel": channel,
        "provider_name": provider,
        "computer_name": format!("{host}.corp.local"),
        "event_id": id.to_string(),
        "event_data": data,
    });
    if channel == "System" {
        winlog["user"] = json!({"identifier": SID, "name": "admin", "domain": "CORP"});
    }
    json!({
        "@timestamp": at,
        "event": {"code": id.to_string(), "kind": "event"},
        "host": {"name": host},
        "winlog": winlog,
    })
}

/// A remote installation: the logon, 7045 + 4697, services.exe's DELETE-capable open at
/// creation, and the service running.
fn install(host: &str, t: &str, logon_at: &str, name: &str, image: &str) -> Vec<Value> {
    let logon_id = format!("0x{:x}", 0x3e7000 + host.len() * 17 + name.len());
    let subject = json!({"SubjectUserSid": SID, "SubjectUserName": "admin",
        "SubjectDomainName": "CORP", "SubjectLogonId": logon_id});
    let sec = |extra: Value| {
        let mut v = subject.clone();
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };
    vec![
        doc(
            logon_at,
            host,
            4624,
            json!({"TargetUserSid": SID, "TargetUserName": "admin", "TargetDomainName": "CORP",
                "TargetLogonId": logon_id, "LogonType": "3", "IpAddress": "10.1.2.3",
                "WorkstationName": "ATTACKER", "AuthenticationPackageName": "NTLM",
                "SubjectUserSid": "S-1-0-0", "SubjectUserName": "-", "SubjectDomainName": "-"}),
        ),
        doc(
            &format!("{t}.100Z"),
            host,
            7045,
            json!({"ServiceName": name, "ImagePath": image, "ServiceType": "user mode service",
                "StartType": "demand start", "AccountName": "LocalSystem"}),
        ),
        doc(
            &format!("{t}.101Z"),
            host,
            4697,
            sec(
                json!({"ServiceName": name, "ServiceFileName": image, "ServiceType": "0x10",
                "ServiceStartType": "3", "ServiceAccount": "LocalSystem"}),
            ),
        ),
        doc(
            &format!("{t}.101Z"),
            host,
            4674,
            sec(
                json!({"ObjectServer": "SC Manager", "ObjectType": "SERVICE OBJECT", "ObjectName": name,
                "AccessMask": "%%1537\n\t\t\t\t%%1538\n\t\t\t\t%%1539", "ProcessName": "C:\\Windows\\System32\\services.exe"}),
            ),
        ),
        doc(
            &format!("{t}.300Z"),
            host,
            7036,
            json!({"param1": name, "param2": "running"}),
        ),
    ]
}

fn stop(host: &str, at: &str, name: &str) -> Value {
    doc(at, host, 7036, json!({"param1": name, "param2": "stopped"}))
}

/// The scenarios, each on its own host(s): (name, events, creations with a removal).
fn scenarios() -> Vec<(&'static str, Vec<Value>, usize)> {
    let mut psexec = install(
        "wks01",
        "2024-03-01T10:00:00",
        "2024-03-01T09:59:59.500Z",
        "PSEXESVC",
        "%SystemRoot%\\PSEXESVC.exe",
    );
    psexec.push(stop("wks01", "2024-03-01T10:00:02.400Z", "PSEXESVC"));

    // Impacket psexec.py: the service stays while the shell is open, and at exit it is stopped,
    // then opened with DELETE and deleted.
    let mut impacket = install(
        "srv02",
        "2024-03-01T11:00:00",
        "2024-03-01T10:59:58.000Z",
        "kXfB",
        "%systemroot%\\qWeRtYuI.exe",
    );
    impacket.push(stop("srv02", "2024-03-01T12:01:00.000Z", "kXfB"));
    impacket.push(doc(
        "2024-03-01T12:01:00.050Z",
        "srv02",
        4674,
        json!({"SubjectUserSid": SID, "SubjectUserName": "admin", "SubjectDomainName": "CORP",
            "SubjectLogonId": "0x3e7063", "ObjectServer": "SC Manager", "ObjectType": "SERVICE OBJECT",
            "ObjectName": "kXfB", "AccessMask": "%%1537\n\t\t\t\t%%1538",
            "ProcessName": "C:\\Windows\\System32\\services.exe"}),
    ));

    // The same tool on two hosts at the same second: two creations (the seed keeps one).
    let mut two_hosts = Vec::new();
    for host in ["wks03", "wks04"] {
        two_hosts.extend(install(
            host,
            "2024-03-01T13:00:00",
            "2024-03-01T12:59:59.000Z",
            "PSEXESVC",
            "%SystemRoot%\\PSEXESVC.exe",
        ));
        two_hosts.push(stop(host, "2024-03-01T13:00:05.000Z", "PSEXESVC"));
    }

    // Installed, running, never stopped nor removed within the logs.
    let no_deletion = install(
        "wks05",
        "2024-03-01T14:00:00",
        "2024-03-01T13:59:59.000Z",
        "RemComSvc",
        "%SystemRoot%\\RemComSvc.exe",
    );

    vec![
        ("PsExec, removed at once", psexec, 1),
        ("Impacket, removed after an hour", impacket, 1),
        ("two hosts", two_hosts, 2),
        ("no deletion", no_deletion, 0),
    ]
}

/// (host, service name, creation time) as both sides spell it.
type Key = (String, String, String);

fn eql_sequences(query: &Path, events: &Path) -> BTreeSet<Key> {
    let script = root().join("tools/siem-check/eql_check.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(query)
        .arg(events)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "eql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                host_key(v["host"].as_str().unwrap()),
                v["service"].as_str().unwrap().to_ascii_lowercase(),
                v["start"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// svchunt hunt's findings that have a removal (EQL finds sequences, not absences), and all of
/// its findings.
fn svchunt_findings(events: &Path) -> (BTreeSet<Key>, usize) {
    let out = Command::new(env!("CARGO_BIN_EXE_svchunt"))
        .args(["hunt", "--all", "-q", "-f", "jsonl"])
        .arg(events)
        .output()
        .unwrap();
    let findings: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let removed = findings
        .iter()
        .filter(|f| !f["deleted"].is_null())
        .map(|f| {
            // EQL keys on 7045's ServiceName, the display name.
            let name = f["display_name"]
                .as_str()
                .or(f["service_name"].as_str())
                .unwrap();
            let created: jiff::Timestamp = f["created"].as_str().unwrap().parse().unwrap();
            (
                host_key(f["computer"].as_str().unwrap()),
                name.to_ascii_lowercase(),
                format!("{}", created.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")),
            )
        })
        .collect();
    (removed, findings.len())
}

#[test]
fn eql_finds_the_creations_svchunt_finds() {
    if !python_has("eql") {
        svchunt_testkit::skip(
            "the eql Python package is not installed (run .ci/export-validators.sh)",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let query = write(
        dir.path(),
        "query.eql",
        &render(Target::Eql, &ExportOptions::default()),
    );
    for (name, events, with_removal) in scenarios() {
        let ndjson: String = events.iter().map(|e| format!("{e}\n")).collect();
        let file = write(dir.path(), "events.ndjson", &ndjson);
        let eql = eql_sequences(&query, &file);
        let (svchunt, all) = svchunt_findings(&file);
        println!("{name}: eql {eql:?}; svchunt {svchunt:?} of {all} finding(s)");
        // Against the scenario's design, so neither side can agree by finding nothing.
        assert_eq!(eql.len(), with_removal, "{name}: EQL sequences");
        assert_eq!(
            all,
            events
                .iter()
                .filter(|e| e["event"]["code"] == "7045")
                .count(),
            "{name}: svchunt creations"
        );
        assert_eq!(eql, svchunt, "{name}: EQL and svchunt disagree");
    }
}

/// Beyond the window the sequence must not complete: the maxspan is the window.
#[test]
fn eql_respects_the_window() {
    if !python_has("eql") {
        svchunt_testkit::skip(
            "the eql Python package is not installed (run .ci/export-validators.sh)",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let options = ExportOptions {
        window: jiff::SignedDuration::from_mins(30),
        ..ExportOptions::default()
    };
    let query = write(dir.path(), "query.eql", &render(Target::Eql, &options));
    let (_, impacket, _) = scenarios().swap_remove(1);
    let ndjson: String = impacket.iter().map(|e| format!("{e}\n")).collect();
    let file = write(dir.path(), "events.ndjson", &ndjson);
    assert!(eql_sequences(&query, &file).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Timesketch

/// `--format timesketch` as Timesketch's own importer library takes it: every line an event
/// with the required fields as written, and a `datetime` the importer reads as `timestamp`.
#[test]
fn timesketch_events_pass_the_importer() {
    if !python_has("timesketch_import_client.importer") {
        svchunt_testkit::skip(
            "timesketch-import-client is not installed (run .ci/export-validators.sh)",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("timeline.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_svchunt"))
        .args(["hunt", "--quiet", "-f", "timesketch", "-o"])
        .arg(&jsonl)
        .arg(root().join("examples/lab"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = std::fs::read_to_string(&jsonl).unwrap().lines().count();
    let check = Command::new("python3")
        .arg(root().join("tools/siem-check/timesketch_check.py"))
        .arg(&jsonl)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&check.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&check.stderr)));
    assert!(check.status.success(), "{report}");
    // Fourteen executions: each a creation, most a logon and a removal too.
    assert_eq!(report["events"].as_u64(), Some(lines as u64));
    assert!(lines >= 14 * 2, "{lines} events");
}
