//! `svchunt hunt --follow` end to end: logs written while it runs (EVTX appended record by
//! record and chunk by chunk, one log cleared and started over, a JSON-lines file shared by the
//! hosts, new files appearing in the watched folder) are told line by line, and the last line
//! of each finding is what a batch `svchunt hunt` of the same logs reports, with nothing
//! missed, nothing said twice, and nothing said before the events it rests on were written.
//! Stopped and started again with the same `--state`, it goes on without repeats.
#![cfg(unix)]

mod follow_support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use evtx_writer::scenario::events::{Event as GenEvent, Log};
use evtx_writer::scenario::nxlog;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use follow_support::{
    BIN, Follower, Logs, PATIENCE, START, Written, scenario, wait_until_all_closed, write_stream,
};

/// What a batch hunt reports of the logs as they ended plus the copies of those cleared,
/// evidence of the copies named as the follower named it (the live log's path).
fn batch(w: &Written) -> Vec<Value> {
    let out = Command::new(BIN)
        .args(["hunt", "-f", "jsonl", "-q"])
        .arg(&w.watched)
        .arg(&w.saved)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let (saved, watched) = (
        w.saved.display().to_string(),
        w.watched.display().to_string(),
    );
    let mut findings: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(&l.replace(&saved, &watched)).unwrap())
        .collect();
    findings.sort_by_key(|f| (f["created"].to_string(), f["computer"].to_string()));
    findings
}

/// The last line said of each finding, unless withdrawn, as a finding.
fn final_states(lines: &[(Instant, String)]) -> Vec<Value> {
    let mut last: BTreeMap<String, Value> = BTreeMap::new();
    for (_, l) in lines {
        let v: Value = serde_json::from_str(l).unwrap();
        last.insert(v["id"].as_str().unwrap().into(), v);
    }
    let mut out: Vec<Value> = last
        .into_values()
        .filter(|v| v["event"] != "withdrawn")
        .map(|mut v| {
            let m = v.as_object_mut().unwrap();
            m.remove("event");
            m.remove("id");
            v
        })
        .collect();
    out.sort_by_key(|f| (f["created"].to_string(), f["computer"].to_string()));
    out
}

/// Nothing said twice, nothing said of a finding after it closed, each opened once.
fn check_no_repeats(lines: &[(Instant, String)]) {
    let mut by_id: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (_, l) in lines {
        let v: Value = serde_json::from_str(l).unwrap();
        by_id
            .entry(v["id"].as_str().unwrap().into())
            .or_default()
            .push(v);
    }
    for (id, said) in by_id {
        let kinds: Vec<&str> = said.iter().map(|v| v["event"].as_str().unwrap()).collect();
        assert_eq!(kinds[0], "opened", "{id}: {kinds:?}");
        assert_eq!(
            kinds.iter().filter(|k| **k == "opened").count(),
            1,
            "{id}: {kinds:?}"
        );
        if let Some(i) = kinds.iter().position(|k| *k == "closed") {
            assert_eq!(i, kinds.len() - 1, "{id}: said after it closed: {kinds:?}");
        }
        let distinct: BTreeSet<String> = said.iter().map(|v| v.to_string()).collect();
        assert_eq!(distinct.len(), said.len(), "{id}: a line said twice");
    }
}

/// Every line rests on records written before it was read, and a finding is opened only once
/// events `--tolerance` (the settling time: 5 s, the merge window) past its creation were
/// written.
fn check_not_early(lines: &[(Instant, String)], w: &Written) {
    for (read, l) in lines {
        let v: Value = serde_json::from_str(l).unwrap();
        let Some(evidence) = v["evidence"].as_array() else {
            continue;
        };
        for e in evidence {
            let locator = match e["locator"]["kind"].as_str().unwrap() {
                "record" => format!("record {}", e["locator"]["at"]),
                kind => format!("{kind} {}", e["locator"]["at"]),
            };
            let time: Timestamp = e["time"].as_str().unwrap().parse().unwrap();
            let key = (
                e["file"].as_str().unwrap().to_string(),
                locator,
                time.to_string(),
            );
            let written = w
                .written
                .get(&key)
                .unwrap_or_else(|| panic!("evidence never written: {key:?}"));
            assert!(written <= read, "said before it was written: {key:?}");
        }
        if v["event"] == "opened" {
            let created: Timestamp = v["created"].as_str().unwrap().parse().unwrap();
            let latest = w
                .progress
                .iter()
                .filter(|(at, _)| at <= read)
                .map(|(_, t)| *t)
                .max()
                .unwrap();
            assert!(
                latest >= created + SignedDuration::from_secs(5),
                "opened at event time {latest}, before the settling time after {created}"
            );
        }
    }
}

fn check(lines: &[(Instant, String)], w: &Written) {
    let want = batch(w);
    assert!(
        want.len() >= 8,
        "the batch hunt finds the eight runs: {}",
        want.len()
    );
    let got = final_states(lines);
    assert_eq!(got.len(), want.len(), "findings followed vs. batch");
    for (g, b) in got.iter().zip(&want) {
        assert_eq!(g, b, "followed (left) vs. batch (right)");
    }
    check_no_repeats(lines);
    check_not_early(lines, w);
}

#[test]
fn a_growing_collection_is_told_as_a_batch_hunt_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let events = scenario();
    let state = dir.path().join("follow.state");
    fs::create_dir_all(dir.path().join("logs")).unwrap();
    let mut follower = Follower::start(&dir.path().join("logs"), &state, "1h");
    let half = events.len() / 2;
    let written = write_stream(dir.path(), &state, &events, |i, logs| {
        if i == half {
            logs.clear(0, Log::System, &state);
        }
    });
    wait_until_all_closed(&mut follower, &[]);
    let lines = follower.stop("-TERM");
    let kinds: BTreeSet<String> = lines
        .iter()
        .map(|(_, l)| serde_json::from_str::<Value>(l).unwrap()["event"].to_string())
        .collect();
    assert!(
        kinds.contains("\"updated\""),
        "findings changed as evidence came: {kinds:?}"
    );
    check(&lines, &written);
    assert!(state.is_file(), "the state was saved");
}

#[test]
fn a_follower_stopped_and_started_again_goes_on_without_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let events = scenario();
    let state = dir.path().join("follow.state");
    fs::create_dir_all(dir.path().join("logs")).unwrap();
    let watched = dir.path().join("logs");
    let mut first = Some(Follower::start(&watched, &state, "1h"));
    let mut before = Vec::new();
    let mut second = None;
    let (stop_at, start_at, clear_at) = (events.len() / 3, events.len() / 2, events.len() * 2 / 3);
    let written = write_stream(dir.path(), &state, &events, |i, logs| {
        if i == stop_at {
            // Let it tell something first, then stop it mid-stream.
            let began = Instant::now();
            while first.as_mut().unwrap().said().is_empty() && began.elapsed() < PATIENCE {
                std::thread::sleep(Duration::from_millis(50));
            }
            before = first.take().unwrap().stop("-TERM");
        }
        if i == start_at {
            second = Some(Follower::start(&watched, &state, "1h"));
        }
        if i == clear_at {
            logs.clear(0, Log::System, &state);
        }
    });
    let mut second = second.unwrap();
    wait_until_all_closed(&mut second, &before);
    let after = second.stop("-TERM");
    assert!(!before.is_empty() && !after.is_empty());
    let mut lines = before;
    lines.extend(after);
    check(&lines, &written);
}

#[test]
fn a_follower_killed_loses_nothing_and_repeats_at_most_its_last_lines() {
    let dir = tempfile::tempdir().unwrap();
    let events = scenario();
    let state = dir.path().join("follow.state");
    let watched = dir.path().join("logs");
    fs::create_dir_all(&watched).unwrap();
    let mut first = Some(Follower::start(&watched, &state, "1h"));
    let mut before = Vec::new();
    let mut second = None;
    let cut = events.len() / 2;
    let written = write_stream(dir.path(), &state, &events, |i, _| {
        if i == cut {
            std::thread::sleep(Duration::from_millis(1500)); // a saved state exists by now
            before = first.take().unwrap().stop("-KILL");
            second = Some(Follower::start(&watched, &state, "1h"));
        }
    });
    let mut second = second.unwrap();
    wait_until_all_closed(&mut second, &before);
    let after = second.stop("-TERM");
    // After a crash, lines of the last second may come again: the same lines, never others.
    let said: BTreeSet<&String> = before.iter().map(|(_, l)| l).collect();
    let mut lines = before.clone();
    lines.extend(after.into_iter().filter(|(_, l)| !said.contains(l)));
    check(&lines, &written);
}

/// The last install of a quiet host is told once every input has been quiet for --idle.
#[test]
fn a_quiet_stream_is_judged_after_idle() {
    let dir = tempfile::tempdir().unwrap();
    let events = scenario();
    // The first run (PsExec), 90 s in on the first host.
    let psexec = START.parse::<Timestamp>().unwrap() + SignedDuration::from_secs(90);
    let first_run = events
        .iter()
        .position(|(h, e)| *h == 0 && e.system.event_id == 7045 && e.time >= psexec)
        .unwrap();
    let logs = dir.path().join("logs");
    fs::create_dir_all(&logs).unwrap();
    let state = dir.path().join("s");
    let mut f = Follower::start(&logs, &state, "1s");
    // Only up to the first install and a moment after, then silence.
    let upto = events[first_run].1.time + SignedDuration::from_secs(2);
    let head: Vec<(usize, GenEvent)> = events
        .iter()
        .filter(|(_, e)| e.time <= upto)
        .cloned()
        .collect();
    let mut w = Logs::new(dir.path());
    for (h, e) in &head {
        w.write(*h, &e.system.computer.clone(), e);
    }
    let began = Instant::now();
    // The run's own 7045 is the last install written: the finding it opens is this run's.
    let created = events[first_run].1.time;
    let told = |f: &mut Follower| {
        f.said().iter().any(|(_, l)| {
            let v: Value = serde_json::from_str(l).unwrap();
            let t = v["created"]
                .as_str()
                .and_then(|t| t.parse::<Timestamp>().ok());
            v["event"] == "opened"
                && t.is_some_and(|t| {
                    t.duration_since(created).abs() < SignedDuration::from_millis(2)
                })
        })
    };
    while !told(&mut f) {
        assert!(
            began.elapsed() < PATIENCE,
            "the last install not told after --idle: {:?}",
            f.said()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    f.stop("-TERM");
}

#[test]
fn what_follow_cannot_do_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    let d = dir.path().to_str().unwrap();
    assert!(run(&["hunt", "--follow", "-f", "table", d]).contains("drop -f table"));
    assert!(run(&["hunt", "--follow", "-f", "csv", d]).contains("JSON lines"));
    assert!(run(&["hunt", "--follow", "--semantics", "kql", d]).contains("cannot follow a stream"));
    assert!(run(&["hunt", "--follow", "-o", "x.jsonl", d]).contains("redirect it"));
    assert!(run(&["hunt", "--state", "s", d]).contains("only applies to --follow"));
    assert!(run(&["hunt", "-"]).contains("add --follow"));
    let inside = dir.path().join("state.json");
    assert!(
        run(&["hunt", "--follow", "--state", inside.to_str().unwrap(), d])
            .contains("inside the watched folder")
    );
    fs::write(&inside, "not a state").unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let bad = elsewhere.path().join("bad.state");
    fs::write(&bad, "not a state").unwrap();
    assert!(
        run(&["hunt", "--follow", "--state", bad.to_str().unwrap(), d]).contains("not a state")
    );
}

/// JSON lines on standard input (Winlogbeat's pipe): told as the lines come, and at the end of
/// the input everything read is judged and svchunt exits 0.
#[test]
fn json_lines_on_standard_input() {
    let events = scenario();
    let mut lines = String::new();
    for (n, (_, e)) in events.iter().enumerate() {
        lines.push_str(&nxlog::line(e, n as u64 + 1));
    }
    let mut child = Command::new(BIN)
        .args(["hunt", "--follow", "-q", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(lines.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success());
    let said: Vec<(Instant, String)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| (Instant::now(), l.to_string()))
        .collect();
    check_no_repeats(&said);
    // The same lines hunted as a file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let mut text = String::new();
    for (n, (_, e)) in events.iter().enumerate() {
        text.push_str(&nxlog::line(e, n as u64 + 1));
    }
    fs::write(&file, text).unwrap();
    let batch = Command::new(BIN)
        .args(["hunt", "-f", "jsonl", "-q"])
        .arg(&file)
        .output()
        .unwrap();
    let file_name = file.display().to_string();
    let mut want: Vec<Value> = String::from_utf8(batch.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(&l.replace(&file_name, "-")).unwrap())
        .collect();
    want.sort_by_key(|f| (f["created"].to_string(), f["computer"].to_string()));
    assert_eq!(final_states(&said), want);
    assert!(want.len() >= 10, "{}", want.len());
}
