//! What the `--follow` end-to-end tests share: a two-host scenario of the generator's events,
//! a writer that appends them to live logs (EVTX synced record by record, a JSON-lines file)
//! and remembers when it wrote each, and a follower process whose lines are read as they come.
#![allow(dead_code)]

use std::collections::BTreeMap;
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

pub const BIN: &str = env!("CARGO_BIN_EXE_svchunt");
pub const DAY: &str = "2024-05-06T00:00:00Z";
pub const START: &str = "2024-05-06T09:00:00Z";
/// How long the scenario's activity lasts, in event time.
pub const SPAN_MINUTES: i64 = 40;
/// How long the follower is given to catch up, on a loaded machine.
pub const PATIENCE: Duration = Duration::from_secs(30);

pub fn account(dsid: &str, rid: u32, name: &str) -> Account {
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
pub fn scenario() -> Vec<(usize, GenEvent)> {
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
pub struct Logs {
    pub watched: PathBuf,
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
    pub fn new(root: &Path) -> Logs {
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

    /// Create `host`'s `log` (empty) unless it exists: Windows keeps its System and Security
    /// logs from the start, so a follower knows them before their first event. (A log that
    /// appears only after its host's other logs have run past its first events is found by the
    /// follower's next discovery, by when the findings it would have fed may have closed.)
    pub fn open(&mut self, host: usize, computer: &str, log: Log) {
        if log == Log::Sysmon {
            let path = self.watched.join("sysmon.jsonl");
            self.sysmon.get_or_insert_with(|| {
                let f = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .unwrap();
                (f, 0)
            });
            return;
        }
        let dir = self.watched.join(computer);
        self.evtx.entry((host, log)).or_insert_with(|| {
            fs::create_dir_all(&dir).unwrap();
            let path = dir.join(log.file_name());
            let mut w = EvtxWriter::new(File::create(&path).unwrap()).unwrap();
            w.sync().unwrap();
            (w, 1000, path)
        });
    }

    /// Wait until the follower saving `state` has read every log written so far to its end.
    pub fn wait_all_read(&self, state: &Path) {
        for (_, next, path) in self.evtx.values() {
            wait_until_read(state, path, next - 1);
        }
        if let Some((_, lines)) = &self.sysmon {
            wait_until_read(state, &self.watched.join("sysmon.jsonl"), *lines);
        }
    }

    pub fn write(&mut self, host: usize, computer: &str, e: &GenEvent) {
        let (file, locator) = if e.log == Log::Sysmon {
            self.open(host, computer, Log::Sysmon);
            let path = self.watched.join("sysmon.jsonl");
            let (f, n) = self.sysmon.as_mut().expect("opened");
            *n += 1;
            f.write_all(nxlog::line(e, 5000 + *n).as_bytes()).unwrap();
            (path, format!("line {n}"))
        } else {
            self.open(host, computer, e.log);
            let (w, next, path) = self.evtx.get_mut(&(host, e.log)).expect("opened");
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
    pub fn clear(&mut self, host: usize, log: Log, state: &Path) {
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

    pub fn finish(self) -> Written {
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

/// Wait until the follower's state says it read `path` up to `last`: an EVTX log's record id,
/// a JSON-lines log's line.
pub fn wait_until_read(state: &Path, path: &Path, last: u64) {
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
                    .and_then(|i| {
                        let p = &i["position"];
                        p["last_record_id"].as_u64().or_else(|| p["line"].as_u64())
                    })
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

pub struct Written {
    pub watched: PathBuf,
    pub saved: PathBuf,
    /// (file, locator, event time) of each record → when it was written.
    pub written: BTreeMap<(String, String, String), Instant>,
    /// The latest event time written, and when.
    pub progress: Vec<(Instant, Timestamp)>,
}

/// Write `events` as a live system would, a little at a time; `at(i)` is called before event
/// `i` (to clear a log, stop a follower…). Ends with a heartbeat a day later on each host, so
/// that every finding's window passes.
pub fn write_stream(
    root: &Path,
    state: &Path,
    events: &[(usize, GenEvent)],
    mut at: impl FnMut(usize, &mut Logs),
) -> Written {
    let mut logs = Logs::new(root);
    for (h, e) in events {
        logs.open(*h, &e.system.computer, e.log);
    }
    for (i, (h, e)) in events.iter().enumerate() {
        at(i, &mut logs);
        logs.write(*h, &e.system.computer.clone(), e);
        if i % 8 == 0 {
            std::thread::sleep(Duration::from_millis(3));
        }
    }
    // The heartbeats stand for a day of logs: a follower reads every log to its end first, as
    // it would over that day (written at once, they could be read before the last evidence
    // of another log, which would then come a day late).
    logs.wait_all_read(state);
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
pub struct Follower {
    child: Child,
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Follower {
    /// `--idle` is an hour unless said (so that only event time decides when a finding is
    /// judged); `FOLLOW_DEBUG=1` shows the follower's stderr.
    pub fn start(watched: &Path, state: &Path, idle: &str) -> Follower {
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
    pub fn said(&mut self) -> Vec<(Instant, String)> {
        if let Some(exit) = self.child.try_wait().unwrap() {
            panic!("the follower ended early: {exit:?} (FOLLOW_DEBUG=1 shows why)");
        }
        self.lines.lock().unwrap().clone()
    }

    /// Stop it with `signal` and return everything it printed.
    pub fn stop(mut self, signal: &str) -> Vec<(Instant, String)> {
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
pub fn wait_until_all_closed(f: &mut Follower, before: &[(Instant, String)]) {
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
