//! `svchunt-gen`'s scenarios: the same seed gives the same bytes; every file parses with the
//! `evtx` crate (checksums validated) and python-evtx with zero errors; `truth.json` lists
//! every tool family, each with its 7045 and 4697 in the logs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use evtx::{EvtxParser, ParserSettings};
use evtx_writer::scenario::{Config, generate, tools::TOOLS};
use serde_json::Value;

fn config(seed: u64) -> Config {
    Config {
        hosts: 3,
        days: 2,
        events_per_host_day: 400,
        executions: TOOLS.len() + 2,
        seed,
        sysmon: true,
        start: "2024-05-06T00:00:00Z".parse().unwrap(),
    }
}

fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                out.insert(p.strip_prefix(root).unwrap().to_path_buf(), bytes);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Every record of `path` as JSON, with checksum validation on; panics on any error.
fn read_all(path: &Path) -> Vec<Value> {
    let mut p = EvtxParser::from_path(path)
        .unwrap()
        .with_configuration(ParserSettings::new().validate_checksums(true));
    p.records_json_value()
        .map(|r| r.unwrap_or_else(|e| panic!("{}: {e}", path.display())).data)
        .collect()
}

#[test]
fn same_seed_same_bytes_and_other_seed_other_bytes() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    // Each scenario in a folder of its own, its truth beside it.
    for (dir, seed) in [(&a, 11), (&b, 11), (&c, 12)] {
        generate(&config(seed), &dir.path().join("logs")).unwrap();
    }
    let (fa, fb) = (files(a.path()), files(b.path()));
    assert_eq!(fa.len(), 3 * 3 + 1);
    assert!(
        fa.contains_key(Path::new("logs.truth.json")),
        "the truth beside the logs"
    );
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(
            bytes == &fb[name],
            "{} differs between two runs",
            name.display()
        );
    }
    assert_ne!(
        fa[Path::new("logs.truth.json")],
        files(c.path())[Path::new("logs.truth.json")]
    );
}

#[test]
fn generated_files_parse_with_zero_errors_and_hold_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let summary = generate(&config(5), &logs).unwrap();
    let truth: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("logs.truth.json")).unwrap())
            .unwrap();
    let execs = truth["executions"].as_array().unwrap();
    assert_eq!(execs.len(), TOOLS.len() + 2);
    let tools: BTreeSet<&str> = execs.iter().map(|e| e["tool"].as_str().unwrap()).collect();
    assert_eq!(tools, TOOLS.iter().copied().collect());

    let mut records = 0;
    let mut installs: BTreeSet<(String, u64, String)> = BTreeSet::new();
    for f in &summary.files {
        for r in read_all(f) {
            records += 1;
            let sys = &r["Event"]["System"];
            let id = sys["EventID"]
                .as_u64()
                .or(sys["EventID"]["#text"].as_u64())
                .unwrap();
            if id == 7045 || id == 4697 {
                let name = r["Event"]["EventData"]["ServiceName"]
                    .as_str()
                    .unwrap()
                    .to_string();
                installs.insert((sys["Computer"].as_str().unwrap().to_string(), id, name));
            }
        }
    }
    assert_eq!(records, summary.records);
    for e in execs {
        let host = e["host"].as_str().unwrap().to_string();
        let name = e["service_name"].as_str().unwrap().to_string();
        for id in [7045, 4697] {
            assert!(
                installs.contains(&(host.clone(), id, name.clone())),
                "no {id} for {e}"
            );
        }
    }

    // python-evtx, if installed, reads the same number of records with no errors.
    if !svchunt_testkit::python_has("Evtx") {
        svchunt_testkit::skip("python-evtx is not installed (`pip install python-evtx`)");
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/count_python_evtx.py");
    let out = Command::new("python3")
        .arg(script)
        .args(&summary.files)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.trim(),
        format!("{records} 0"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
