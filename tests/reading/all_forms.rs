//! The check of issue "read every form a responder is handed": `svchunt hunt` over the lab
//! scenario (examples/lab) written in every form svchunt reads besides EVTX finds exactly the
//! findings the hunt over the EVTX finds, form by form.
//!
//! What is compared: each form's whole JSON report (findings, coverage, campaigns) against the
//! EVTX's, except where each piece of evidence was read: its `file` and `locator` (a line of a
//! JSON file, a row of an API table, a record of an EVTX inside an archive) necessarily name the
//! form's own file. Everything else must be equal: service, host, times (the lab's times are
//! whole milliseconds, so the millisecond forms lose nothing), verdict and its reasons, tool,
//! account, source, each evidence's event id, time, record id, role and detail, and each host's
//! audit coverage. Every form here carries record ids, so those are compared too.
//!
//! Four forms keep times to the millisecond only (PowerShell's `/Date(ms)/`, Winlogbeat's and
//! Elasticsearch's `@timestamp`): for them both reports have every time cut to the millisecond
//! first, each finding's lifetime recomputed from the cut times, and its evidence put in one
//! order (time, event id, record id), since records logged within one millisecond can no
//! longer be told apart by time.

use crate::common;
use crate::forms;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn lab() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lab")
}

/// The lab's host folders (not its truth.json).
fn lab_hosts() -> Vec<PathBuf> {
    let mut hosts: Vec<PathBuf> = std::fs::read_dir(lab())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    hosts.sort();
    hosts
}

/// `svchunt hunt -f json` over `paths`: the report, and the warnings it printed.
fn hunt(paths: &[PathBuf]) -> (Value, Vec<String>) {
    let out = Command::cargo_bin("svchunt")
        .unwrap()
        .arg("hunt")
        .args(["-f", "json"])
        .args(paths)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let warnings = stderr
        .lines()
        .filter(|l| l.starts_with("svchunt: warning:"))
        .map(str::to_string)
        .collect();
    (serde_json::from_slice(&out.stdout).unwrap(), warnings)
}

/// The report without where each piece of evidence was read.
fn comparable(report: &Value) -> Value {
    let mut r = report.clone();
    for f in r["findings"].as_array_mut().unwrap() {
        for ev in f["evidence"].as_array_mut().unwrap() {
            let ev = ev.as_object_mut().unwrap();
            ev.remove("file");
            ev.remove("locator");
        }
    }
    r
}

/// The forms whose times are milliseconds.
const MILLISECOND_FORMS: &[&str] = &[
    "powershell-json",
    "winlogbeat6",
    "winlogbeat7",
    "elastic-search",
];

/// Every time cut to the millisecond, lifetimes recomputed, evidence in one order.
fn to_milliseconds(report: &Value) -> Value {
    fn cut(v: &mut Value) {
        match v {
            Value::String(s) => {
                if let Ok(t) = s.parse::<jiff::Timestamp>() {
                    *s = jiff::Timestamp::from_millisecond(t.as_millisecond())
                        .unwrap()
                        .to_string();
                }
            }
            Value::Array(items) => items.iter_mut().for_each(cut),
            Value::Object(map) => map.values_mut().for_each(cut),
            _ => {}
        }
    }
    let mut r = report.clone();
    cut(&mut r);
    let ms = |v: &Value| {
        v.as_str()
            .and_then(|s| s.parse::<jiff::Timestamp>().ok())
            .map(|t| t.as_millisecond())
    };
    for f in r["findings"].as_array_mut().unwrap() {
        if let (Some(c), Some(d)) = (ms(&f["created"]), ms(&f["deleted"])) {
            f["lifetime_ms"] = (d - c).into();
        }
        f["evidence"].as_array_mut().unwrap().sort_by_key(|e| {
            (
                e["time"].as_str().unwrap_or_default().to_string(),
                e["event_id"].as_u64(),
                e["record_id"].as_u64(),
            )
        });
    }
    r
}

#[test]
fn every_form_of_the_lab_finds_what_the_evtx_finds() {
    let (base, warnings) = hunt(&lab_hosts());
    assert!(warnings.is_empty(), "{warnings:#?}");
    let expected = comparable(&base);
    let findings = expected["findings"].as_array().unwrap().len();
    assert!(
        findings >= 14,
        "the lab has one execution of every tool family"
    );

    let lab_events = common::read_paths(&lab_hosts(), None);
    assert!(lab_events.warnings.is_empty());
    let logs = forms::by_log(lab_events.events);
    let tmp = tempfile::tempdir().unwrap();
    let mut all = forms::write_text_forms(&logs, &tmp.path().join("text"));
    all.extend(forms::write_archive_forms(
        &lab(),
        &tmp.path().join("archives"),
    ));

    let mut counts = Vec::new();
    for (form, dir) in &all {
        let (report, warnings) = hunt(std::slice::from_ref(dir));
        assert!(warnings.is_empty(), "{form}: {warnings:#?}");
        let mut got = comparable(&report);
        let mut expected = expected.clone();
        if MILLISECOND_FORMS.contains(&form.as_str()) {
            got = to_milliseconds(&got);
            expected = to_milliseconds(&expected);
        }
        let n = got["findings"].as_array().map_or(0, Vec::len);
        counts.push(format!("{form}: {n}"));
        for (i, (g, e)) in got["findings"]
            .as_array()
            .unwrap()
            .iter()
            .zip(expected["findings"].as_array().unwrap())
            .enumerate()
        {
            assert_eq!(g, e, "{form}: finding {i} differs");
        }
        assert_eq!(
            n, findings,
            "{form}: {n} findings where the EVTX gives {findings}"
        );
        assert_eq!(got["coverage"], expected["coverage"], "{form}: coverage");
        assert_eq!(got["campaigns"], expected["campaigns"], "{form}: campaigns");
    }
    eprintln!(
        "findings per form (EVTX: {findings}): {}",
        counts.join(", ")
    );
    assert_eq!(counts.len(), forms::TEXT_FORMS.len() + 10);
}
