//! `svchunt hunt --follow` end to end: logs written while it runs (EVTX appended record by
//! record and chunk by chunk, one log cleared and started over, a JSON-lines file shared by the
//! hosts, new files appearing in the watched folder) are told line by line, and the last line
//! of each finding is what a batch `svchunt hunt` of the same logs reports, with nothing
//! missed, nothing said twice, and nothing said before the events it rests on were written.
//! Stopped and started again with the same `--state`, it goes on without repeats.
#![cfg(unix)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use evtx_writer::scenario::events::{Account, Event as GenEvent, HostEvents, Log, Pids};
use evtx_writer::scenario::noise::{Peer, day_noise};
use evtx_writer::scenario::nxlog;
use evtx_writer::scenario::reconfigure::{self, Reconfig};
use evtx_writer::scenario::rng::Rng;
use evtx_writer::scenario::tools::{Origin, Source, Target, inject};
use evtx_writer::{DataValue, EvtxWriter, Record};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_svchunt");
const DAY: &str = "2024-05-06T00:00:00Z";
const START: &str = "2024-05-06T09:00:00Z";
/// How long the scenario's activity lasts, in event time.
const SPAN_MINUTES: i64 = 40;
/// How long the follower is given to catch up, on a loaded machine.
const PATIENCE: Duration = Duration::from_secs(180);

fn account(dsid: &str, rid: u32, name: &str) -> Account {
    Account {
        sid: format!("{dsid}-{rid}"),
        name: name.into(),
        domain: "CORP".into(),
        logon_id: 0,
    }
}

/// Two hosts' System, Security and Sysmon events over 40 minutes: background noise, eight
/// remote executions of different tools, a getsystem and an SCShell reconfiguration (no
/// service created), in time order, each with its host's index.
fn scenario() -> Vec<(usize, GenEvent)> {
    let dsid = "S-1-5-21-1111111111-2222222222-3333333333";
    let users: Vec<Account> = ["alice", "bob", "carol", "dave"]
        .iter()
        .enumerate()
        .map(|(i, n)| account(dsid, 1104 + i as u32, n))
        .collect();
    let sources = [
        Source {
            ip: "10.0.5.77".into(),
            workstation: "WKS-0913".into(),
            account: account(dsid, 1207, "adm-helpdesk"),
        },
        Source {
            ip: "10.66.6.6".into(),
            workstation: "KALI".into(),
            account: account(dsid, 1311, "svc-backup"),
        },
    ];
    let targets: Vec<Target> = ["WKS-0001", "SRV-001"]
        .iter()
        .enumerate()
        .map(|(i, n)| Target {
            events: HostEvents {
                computer: format!("{n}.corp.example"),
                pids: Pids {
                    services: 640 + 8 * i as u32,
                    lsass: 652 + 8 * i as u32,
                    system: 4,
                    sysmon: 2100 + 4 * i as u32,
                },
            },
            netbios: n.to_string(),
            local_user: users[i].clone(),
        })
        .collect();
    let peers = [Peer {
        ip: "10.0.0.10".into(),
        name: "DC01".into(),
    }];
    let start: Timestamp = START.parse().unwrap();
    let end = start + SignedDuration::from_mins(SPAN_MINUTES);
    let mut rng = Rng::new(11);
    let mut out = Vec::new();
    for (h, t) in targets.iter().enumerate() {
        let mut noise = Vec::new();
        let mut r = rng.fork(h as u64 + 1);
        day_noise(
            t,
            &users,
            &peers,
            DAY.parse().unwrap(),
            6000,
            &mut r,
            &mut noise,
        );
        out.extend(
            noise
                .into_iter()
                .filter(|e| e.time >= start && e.time < end)
                .map(|e| (h, e)),
        );
    }
    let tools = [
        ("psexec", 0),
        ("impacket-smbexec", 1),
        ("paexec", 0),
        ("cobaltstrike-psexec-psh", 1),
        ("impacket-psexec", 1),
        ("remcom", 0),
        ("metasploit-psexec", 1),
        ("winexe", 0),
        ("getsystem", 0),
    ];
    for (k, (tool, src)) in tools.iter().enumerate() {
        let h = k % 2;
        let t0 = start + SignedDuration::from_secs(90 + 270 * k as i64);
        let mut events = Vec::new();
        inject(tool, &targets[h], &sources[*src], t0, &mut rng, &mut events);
        out.extend(events.into_iter().map(|e| (h, e)));
    }
    let scshell = Reconfig {
        key: "XblAuthManager".into(),
        display: "Xbox Live Auth Manager".into(),
        original: r"C:\Windows\system32\svchost.exe -k netsvcs -p".into(),
        temporary: vec![r"C:\windows\system32\cmd.exe /c whoami > C:\Windows\Temp\o.txt".into()],
        start_was: Some("disabled"),
        restore_start: false,
        origin: Origin::Network { ntlm: true },
        tool: "scshell",
        verdict: "remote-execution",
    };
    let mut events = Vec::new();
    let t0 = start + SignedDuration::from_secs(90 + 270 * tools.len() as i64);
    reconfigure::inject(
        &scshell,
        &targets[1],
        &sources[1],
        t0,
        &mut rng,
        &mut events,
    );
    out.extend(events.into_iter().map(|e| (1, e)));
    out.sort_by_key(|(h, e)| (e.time, *h));
    out
}

/// Where the writer puts what, and what it wrote when.
struct Logs {
    watched: PathBuf,
    /// Copies of logs taken just before they were cleared (a batch hunt reads them too).
    saved: PathBuf,
    evtx: BTreeMap<(usize, Log), (EvtxWriter<File>, u64, PathBuf)>,
    sysmon: Option<(File, u64)>,
    /// (file, locator, event time) of each record → when it was written.
    written: BTreeMap<(String, String, String), Instant>,
    /// The latest event time written, and when.
    progress: Vec<(Instant, Timestamp)>,
}

impl Logs {
    fn new(root: &Path) -> Logs {
        let watched = root.join("logs");
        let saved = root.join("saved");
        fs::create_dir_all(&watched).unwrap();
        fs::create_dir_all(&saved).unwrap();
        Logs {
            watched,
            saved,
            evtx: BTreeMap::new(),
            sysmon: None,
            written: BTreeMap::new(),
            progress: Vec::new(),
        }
    }

    fn write(&mut self, host: usize, computer: &str, e: &GenEvent) {
        let (file, locator) = if e.log == Log::Sysmon {
            let path = self.watched.join("sysmon.jsonl");
            let (f, n) = self.sysmon.get_or_insert_with(|| {
                (
                    OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&path)
                        .unwrap(),
                    0,
                )
            });
            *n += 1;
            f.write_all(nxlog::line(e, 5000 + *n).as_bytes()).unwrap();
            (path, format!("line {n}"))
        } else {
            let dir = self.watched.join(computer);
            let (w, next, path) = self.evtx.entry((host, e.log)).or_insert_with(|| {
                fs::create_dir_all(&dir).unwrap();
                let path = dir.join(e.log.file_name());
                let w = EvtxWriter::new(File::create(&path).unwrap()).unwrap();
                (w, 1000, path)
            });
            let id = *next;
            *next += 1;
            w.write_record(&Record {
                record_id: id,
                time: e.time,
                system: e.system.clone(),
                event_data: e.data.clone(),
            })
            .unwrap();
            w.sync().unwrap();
            (path.clone(), format!("record {id}"))
        };
        let now = Instant::now();
        self.written.insert(
            (file.display().to_string(), locator, e.time.to_string()),
            now,
        );
        self.progress.push((now, e.time));
    }

    /// Clear a log as the Event Viewer's "Save and clear" does: a copy is kept, and the log
    /// starts over, empty, its record ids from 1. A log cleared before a follower read it to
    /// its end loses those records for the follower (as it does on Windows): the clear waits
    /// until the follower's saved state shows it read the last record.
    fn clear(&mut self, host: usize, log: Log, state: &Path) {
        let (_, next, path) = &self.evtx[&(host, log)];
        wait_until_read(state, path, next - 1);
        let (w, next, path) = self
            .evtx
            .remove(&(host, log))
            .expect("a log written before");
        let file = w.finish().unwrap();
        let relative = path.strip_prefix(&self.watched).unwrap();
        let copy = self.saved.join(relative);
        fs::create_dir_all(copy.parent().unwrap()).unwrap();
        fs::copy(&path, &copy).unwrap();
        file.set_len(0).unwrap();
        let mut file = file;
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(0)).unwrap();
        let w = EvtxWriter::new(file).unwrap();
        assert!(next > 1);
        self.evtx.insert((host, log), (w, 1, path));
    }

    fn finish(self) -> Written {
        for (_, (w, _, _)) in self.evtx {
            w.finish().unwrap();
        }
        Written {
            watched: self.watched,
            saved: self.saved,
            written: self.written,
            progress: self.progress,
        }
    }
}

/// Wait until the follower's state says it read `path` up to record `last`.
fn wait_until_read(state: &Path, path: &Path, last: u64) {
    let began = Instant::now();
    let name = path.display().to_string();
    loop {
        let read = fs::read_to_string(state)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| {
                v["inputs"]
                    .as_array()?
                    .iter()
                    .find(|i| i["path"] == name.as_str())
                    .and_then(|i| i["position"]["last_record_id"].as_u64())
            });
        if read.is_some_and(|r| r >= last) {
            return;
        }
        assert!(
            began.elapsed() < PATIENCE,
            "{name} not read to record {last}: {read:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

struct Written {
    watched: PathBuf,
    saved: PathBuf,
    written: BTreeMap<(String, String, String), Instant>,
    progress: Vec<(Instant, Timestamp)>,
}

/// Write `events` as a live system would, a little at a time; `at(i)` is called before event
/// `i` (to clear a log, stop a follower…). Ends with a heartbeat a day later on each host, so
/// that every finding's window passes.
fn write_stream(
    root: &Path,
    events: &[(usize, GenEvent)],
    mut at: impl FnMut(usize, &mut Logs),
) -> Written {
    let mut logs = Logs::new(root);
    for (i, (h, e)) in events.iter().enumerate() {
        at(i, &mut logs);
        logs.write(*h, &e.system.computer.clone(), e);
        if i % 8 == 0 {
            std::thread::sleep(Duration::from_millis(3));
        }
    }
    let last = events.last().unwrap().1.time;
    for h in 0..2 {
        let (_, e) = events
            .iter()
            .find(|(x, e)| *x == h && e.log == Log::System)
            .unwrap();
        let mut beat = e.clone();
        beat.time = last + SignedDuration::from_hours(25) + SignedDuration::from_secs(h as i64);
        beat.system.event_id = 7036;
        beat.data = vec![
            ("param1".into(), DataValue::str("Print Spooler")),
            ("param2".into(), DataValue::str("running")),
            ("Binary".into(), DataValue::Binary(b"S\0p\0".to_vec())),
        ];
        logs.write(h, &beat.system.computer.clone(), &beat);
    }
    logs.finish()
}

/// A follower process and the lines it printed, each with when it was read.
struct Follower {
    child: Child,
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Follower {
    /// `--idle` is an hour unless said (so that only event time decides when a finding is
    /// judged); `FOLLOW_DEBUG=1` shows the follower's stderr.
    fn start(watched: &Path, state: &Path, idle: &str) -> Follower {
        let debug = std::env::var_os("FOLLOW_DEBUG").is_some();
        let mut child = Command::new(BIN)
            .args([
                "hunt", "--follow", "--poll", "50ms", "--idle", idle, "--state",
            ])
            .arg(state)
            .args(if debug { None } else { Some("-q") })
            .arg(watched)
            .stdout(Stdio::piped())
            .stderr(if debug {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let line = line.unwrap();
                sink.lock().unwrap().push((Instant::now(), line));
            }
        });
        Follower {
            child,
            lines,
            reader: Some(reader),
        }
    }

    /// What it printed so far; it must still be running.
    fn said(&mut self) -> Vec<(Instant, String)> {
        if let Some(exit) = self.child.try_wait().unwrap() {
            panic!("the follower ended early: {exit:?} (FOLLOW_DEBUG=1 shows why)");
        }
        self.lines.lock().unwrap().clone()
    }

    /// Stop it with `signal` and return everything it printed.
    fn stop(mut self, signal: &str) -> Vec<(Instant, String)> {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        if signal == "-TERM" {
            assert!(
                exit.success(),
                "a follower stopped by SIGTERM exits 0: {exit:?}"
            );
        }
        self.reader.take().unwrap().join().unwrap();
        self.lines.lock().unwrap().clone()
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Wait until every finding said is closed or withdrawn and the heartbeats were read.
fn wait_until_all_closed(f: &mut Follower, before: &[(Instant, String)]) {
    let began = Instant::now();
    loop {
        let mut state: BTreeMap<String, String> = BTreeMap::new();
        for (_, l) in before.iter().chain(f.said().iter()) {
            let v: Value = serde_json::from_str(l).unwrap();
            state.insert(
                v["id"].as_str().unwrap().into(),
                v["event"].as_str().unwrap().into(),
            );
        }
        let open = state
            .values()
            .filter(|e| *e == "opened" || *e == "updated")
            .count();
        if state.len() >= 10 && open == 0 {
            return;
        }
        assert!(
            began.elapsed() < PATIENCE,
            "findings still open after {PATIENCE:?}: {state:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

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
    let written = write_stream(dir.path(), &events, |i, logs| {
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
    let written = write_stream(dir.path(), &events, |i, logs| {
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
    let written = write_stream(dir.path(), &events, |i, _| {
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
