//! `svchunt hunt --follow` over a generated live stream, measured from outside (a benchmark,
//! not a timed test): events per second, the latency from an install's record being written
//! to its `opened` line being read, and the follower's resident memory as the stream goes on.
//!
//! The stream: `--hosts` hosts (default 100), each with `--per-host-day` events of ordinary
//! activity a day (default 20,000: logons, service state changes, process creations, share
//! access, Sysmon; 2 M events a day in all, a busy Windows Event Forwarding collector), and a
//! remote execution of a random tool family every `--install-every` events (default 50,000),
//! day after day until `--events` (default 10 M) have been written.
//!
//! - `--input stdin` (default): NXLog JSON lines piped to `svchunt hunt --follow -` as fast as it
//!   reads them (the pipe holds the writer back: the fastest rate the reader takes). Making the
//!   stream costs about as much as reading it, so on a small machine the generator would set
//!   the pace: `--dump FILE` writes the lines once, `--from FILE` replays them.
//! - `--input evtx`: one growing `ForwardedEvents.evtx` (records appended, the open chunk synced
//!   every 64 records), written `--rate` events a second (0: as fast as the writer goes); at the
//!   end one last install and, a day later, a heartbeat, whose `opened` line says the follower
//!   read everything.
//!
//! ```text
//! cargo bench --bench follow -- --events 10000000
//! cargo bench --bench follow -- --events 1000000 --dump stream.jsonl
//! cargo bench --bench follow -- --from stream.jsonl   # the same lines, replayed
//! cargo bench --bench follow -- --input evtx --events 1000000 --rate 20000
//! ```
//!
//! Resident memory (`VmRSS`, and its peak `VmHWM`) is read from `/proc` every million events,
//! so this runs on Linux. The machine's load average is printed with the timings.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use evtx_writer::scenario::events::{Account, Event as GenEvent, HostEvents, Pids};
use evtx_writer::scenario::noise::{Peer, day_noise};
use evtx_writer::scenario::nxlog;
use evtx_writer::scenario::rng::Rng;
use evtx_writer::scenario::tools::{Source, TOOLS, Target, inject};
use evtx_writer::{DataValue, EvtxWriter, Record};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

struct Args {
    events: u64,
    hosts: usize,
    per_host_day: usize,
    install_every: usize,
    evtx: bool,
    rate: u64,
    dump: Option<PathBuf>,
    from: Option<PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        events: 10_000_000,
        hosts: 100,
        per_host_day: 20_000,
        install_every: 50_000,
        evtx: false,
        rate: 0,
        dump: None,
        from: None,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let value = || argv.get(i + 1).cloned().unwrap_or_default();
        let number = || value().replace('_', "").parse::<u64>().expect("a number");
        match argv[i].as_str() {
            "--events" => a.events = number(),
            "--hosts" => a.hosts = number() as usize,
            "--per-host-day" => a.per_host_day = number() as usize,
            "--install-every" => a.install_every = number() as usize,
            "--rate" => a.rate = number(),
            "--input" => a.evtx = value() == "evtx",
            "--dump" => a.dump = Some(PathBuf::from(value())),
            "--from" => a.from = Some(PathBuf::from(value())),
            _ => {
                i += 1; // cargo bench's own flags (--bench)
                continue;
            }
        }
        i += 2;
    }
    a
}

/// The stream, a day at a time, in time order.
struct Stream {
    targets: Vec<Target>,
    users: Vec<Account>,
    peers: Vec<Peer>,
    sources: Vec<Source>,
    rng: Rng,
    day: i64,
    per_host_day: usize,
    install_every: usize,
    /// Each host's next record number.
    records: Vec<u64>,
}

impl Stream {
    fn new(a: &Args) -> Stream {
        let dsid = "S-1-5-21-1111111111-2222222222-3333333333";
        let account = |rid: u32, name: &str| Account {
            sid: format!("{dsid}-{rid}"),
            name: name.into(),
            domain: "CORP".into(),
            logon_id: 0,
        };
        let users: Vec<Account> = (0..40)
            .map(|i| account(1104 + i, &format!("user{i}")))
            .collect();
        let targets = (0..a.hosts)
            .map(|i| {
                let n = format!("WKS-{:04}", i + 1);
                Target {
                    events: HostEvents {
                        computer: format!("{n}.corp.example"),
                        pids: Pids {
                            services: 640 + 4 * (i as u32 % 50),
                            lsass: 652 + 4 * (i as u32 % 50),
                            system: 4,
                            sysmon: 2100 + 4 * (i as u32 % 200),
                        },
                    },
                    netbios: n,
                    local_user: users[i % users.len()].clone(),
                }
            })
            .collect();
        Stream {
            targets,
            peers: vec![
                Peer {
                    ip: "10.0.0.10".into(),
                    name: "DC01".into(),
                },
                Peer {
                    ip: "10.0.0.30".into(),
                    name: "FS01".into(),
                },
            ],
            sources: vec![
                Source {
                    ip: "10.0.5.77".into(),
                    workstation: "WKS-0913".into(),
                    account: account(1207, "adm-helpdesk"),
                },
                Source {
                    ip: "10.66.6.6".into(),
                    workstation: "KALI".into(),
                    account: account(1311, "svc-backup"),
                },
            ],
            users,
            rng: Rng::new(20240506),
            day: 0,
            records: vec![1000; a.hosts],
            per_host_day: a.per_host_day,
            install_every: a.install_every.max(1),
        }
    }

    /// The next day's events, in time order, each made into a `T` by `make` as soon as it is
    /// generated (with its host's record number): a day of a busy collector is millions of
    /// events, too many to hold as the generator's own records.
    fn next_day<T>(&mut self, make: impl Fn(&GenEvent, u64) -> T) -> Vec<(Timestamp, bool, T)> {
        let start: Timestamp = "2024-05-06T00:00:00Z".parse::<Timestamp>().unwrap()
            + SignedDuration::from_hours(24 * self.day);
        self.day += 1;
        let mut runs: Vec<Vec<GenEvent>> = vec![Vec::new(); self.targets.len()];
        let total = self.targets.len() * self.per_host_day;
        for _ in 0..(total / self.install_every).max(1) {
            let h = self.rng.below(self.targets.len() as u64) as usize;
            let at = start + SignedDuration::from_millis(self.rng.range(0, 86_000_000));
            let tool = TOOLS[self.rng.below(TOOLS.len() as u64) as usize];
            let src = &self.sources[self.rng.below(2) as usize];
            inject(tool, &self.targets[h], src, at, &mut self.rng, &mut runs[h]);
        }
        let mut out = Vec::with_capacity(total + runs.iter().map(Vec::len).sum::<usize>());
        for (h, t) in self.targets.iter().enumerate() {
            let mut r = self.rng.fork(self.day as u64 * 100_000 + h as u64);
            let mut events = std::mem::take(&mut runs[h]);
            day_noise(
                t,
                &self.users,
                &self.peers,
                start,
                self.per_host_day,
                &mut r,
                &mut events,
            );
            events.sort_by_key(|e| e.time);
            let first = self.records[h];
            self.records[h] += events.len() as u64;
            out.extend(
                events
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (e.time, is_install(e), make(e, first + i as u64))),
            );
        }
        out.sort_by_key(|(t, _, _)| *t);
        out
    }
}

/// The follower's resident memory now and at its peak, in MiB.
fn memory(child: &Child) -> (f64, f64) {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (kib("VmRSS:") / 1024.0, kib("VmHWM:") / 1024.0)
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// What the follower said so far.
#[derive(Default)]
struct Said {
    kinds: BTreeMap<String, u64>,
    latencies: Vec<Duration>,
    /// When the last install's `opened` line came (`--input evtx`).
    sentinel: Option<Instant>,
}

type Written = Arc<Mutex<HashMap<u64, Instant>>>;

/// Read the follower's lines: count them by kind, and time each `opened` line from the write
/// of the install it rests on (its evidence's record or line number).
fn read_lines(
    child: &mut Child,
    written: Written,
    said: Arc<Mutex<Said>>,
    evtx: bool,
) -> std::thread::JoinHandle<()> {
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            let now = Instant::now();
            let v: Value = serde_json::from_str(&line).unwrap();
            let kind = v["event"].as_str().unwrap_or("?").to_string();
            let mut said = said.lock().unwrap();
            if kind == "opened" {
                if v["service_name"] == "SENTINEL" {
                    said.sentinel = Some(now);
                }
                let at = v["evidence"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|e| e["role"] == "installed")
                    .filter(|e| (e["locator"]["kind"] == "record") == evtx)
                    .filter_map(|e| e["locator"]["at"].as_u64())
                    .filter_map(|n| written.lock().unwrap().get(&n).copied())
                    .max();
                if let Some(at) = at {
                    said.latencies.push(now.duration_since(at));
                }
            }
            *said.kinds.entry(kind).or_default() += 1;
        }
    })
}

fn is_install(e: &GenEvent) -> bool {
    matches!(e.system.event_id, 7045 | 4697)
}

/// One generated event, as it is written.
enum Item {
    /// An NXLog line (`--input stdin`).
    Line(String),
    /// A record for the EVTX log (`--input evtx`).
    Event(Box<GenEvent>),
}

/// Generate the stream on its own thread, a day at a time (at most one day ahead).
fn produce(a: &Args) -> std::sync::mpsc::Receiver<Vec<(bool, Item)>> {
    let mut stream = Stream::new(a);
    let (tx, days) = sync_channel(1);
    let (limit, evtx) = (a.events, a.evtx);
    std::thread::spawn(move || {
        let mut made = 0u64;
        while made < limit {
            let day = stream.next_day(|e, record| {
                if evtx {
                    Item::Event(Box::new(e.clone()))
                } else {
                    Item::Line(nxlog::line(e, record))
                }
            });
            made += day.len() as u64;
            let day = day
                .into_iter()
                .map(|(_, install, item)| (install, item))
                .collect();
            if tx.send(day).is_err() {
                break;
            }
        }
    });
    days
}

/// `--dump FILE`: write the stream's NXLog lines to FILE and stop.
fn dump(a: &Args, path: &PathBuf) {
    let mut out = BufWriter::new(File::create(path).unwrap());
    let mut n = 0;
    'days: for day in produce(a) {
        for (_, item) in day {
            if let Item::Line(line) = item {
                out.write_all(line.as_bytes()).unwrap();
            }
            n += 1;
            if n == a.events {
                break 'days;
            }
        }
    }
    out.flush().unwrap();
}

fn main() {
    let a = args();
    if let Some(path) = &a.dump {
        return dump(&a, path);
    }
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_svchunt"));
    let dir = tempfile::tempdir().unwrap();
    let load_before = load();
    let mut cmd = Command::new(&bin);
    cmd.args(["hunt", "--follow", "-q", "--idle", "2s", "--poll", "100ms"]);
    if a.evtx {
        cmd.arg(dir.path());
    } else {
        cmd.arg("-").stdin(Stdio::piped());
    }
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let written: Written = Arc::default();
    let said: Arc<Mutex<Said>> = Arc::default();
    let reader = read_lines(&mut child, written.clone(), said.clone(), a.evtx);
    if let Some(path) = &a.from {
        return replay(&a, path, child, &written, said, reader, &load_before);
    }

    // The clock starts with the first day made: making it is the generator's cost, not the
    // follower's.
    let mut days = produce(&a).into_iter().peekable();
    days.peek();
    let began = Instant::now();
    let mut n = 0u64;
    let mut samples: Vec<(u64, f64, f64)> = Vec::new();
    let mut pipe =
        (!a.evtx).then(|| BufWriter::with_capacity(1 << 16, child.stdin.take().unwrap()));
    let mut log = a.evtx.then(|| {
        EvtxWriter::new(File::create(dir.path().join("ForwardedEvents.evtx")).unwrap()).unwrap()
    });
    let mut last: Option<Box<GenEvent>> = None;
    'days: for day in days {
        for (install, item) in day {
            n += 1;
            if a.rate > 0 {
                let due = began + Duration::from_secs_f64(n as f64 / a.rate as f64);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            match item {
                Item::Line(line) => {
                    let p = pipe.as_mut().expect("stdin mode");
                    p.write_all(line.as_bytes()).unwrap();
                    if install {
                        p.flush().unwrap();
                        written.lock().unwrap().insert(n, Instant::now());
                    }
                }
                Item::Event(e) => {
                    append(log.as_mut().expect("evtx mode"), &e, n, install, &written);
                    last = Some(e);
                }
            }
            if n.is_multiple_of(1_000_000) {
                let (rss, hwm) = memory(&child);
                samples.push((n, rss, hwm));
            }
            if n >= a.events {
                break 'days;
            }
        }
    }
    let (rss, hwm) = memory(&child);
    if samples.last().is_none_or(|s| s.0 != n) {
        samples.push((n, rss, hwm));
    }
    if let Some(mut w) = log.take() {
        // One last install, then a heartbeat a day later: its `opened` line says that the
        // follower has read everything.
        let mut e = *last.expect("events written");
        e.system.event_id = 7045;
        e.system.provider = "Service Control Manager".into();
        e.system.channel = "System".into();
        e.data = vec![
            ("ServiceName".into(), DataValue::str("SENTINEL")),
            ("ImagePath".into(), DataValue::str("%COMSPEC% /c echo done")),
        ];
        e.time += SignedDuration::from_secs(1);
        let mut beat = e.clone();
        beat.time += SignedDuration::from_hours(25);
        for e in [e, beat] {
            n += 1;
            append(&mut w, &e, n, true, &written);
        }
        let wait = Instant::now();
        while said.lock().unwrap().sentinel.is_none() && wait.elapsed() < Duration::from_secs(3600)
        {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        w.finish().unwrap();
    } else {
        drop(pipe.take()); // end of input: the follower judges what it read and exits
    }
    child.wait().unwrap();
    reader.join().unwrap();
    let said = std::mem::take(&mut *said.lock().unwrap());
    report(&a, began, n, said, &samples, &load_before);
}

/// `--from FILE`: pipe FILE's lines to the follower as fast as it reads them.
fn replay(
    a: &Args,
    path: &PathBuf,
    mut child: Child,
    written: &Written,
    said: Arc<Mutex<Said>>,
    reader: std::thread::JoinHandle<()>,
    load_before: &str,
) {
    let mut lines = BufReader::with_capacity(1 << 20, File::open(path).unwrap());
    let mut pipe = BufWriter::with_capacity(1 << 16, child.stdin.take().unwrap());
    let began = Instant::now();
    let mut samples: Vec<(u64, f64, f64)> = Vec::new();
    let mut n = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).unwrap() == 0 {
            break;
        }
        n += 1;
        pipe.write_all(&line).unwrap();
        if line.starts_with(b"{\"EventID\":7045,") || line.starts_with(b"{\"EventID\":4697,") {
            pipe.flush().unwrap();
            written.lock().unwrap().insert(n, Instant::now());
        }
        if n.is_multiple_of(1_000_000) {
            let (rss, hwm) = memory(&child);
            samples.push((n, rss, hwm));
        }
        if n >= a.events {
            break;
        }
    }
    let (rss, hwm) = memory(&child);
    if samples.last().is_none_or(|s| s.0 != n) {
        samples.push((n, rss, hwm));
    }
    drop(pipe);
    child.wait().unwrap();
    reader.join().unwrap();
    let said = std::mem::take(&mut *said.lock().unwrap());
    report(a, began, n, said, &samples, load_before);
}

/// Append one record to the growing log; the open chunk is synced every 64 records, and at
/// once after an install (whose write time is the latency's start).
fn append(w: &mut EvtxWriter<File>, e: &GenEvent, n: u64, install: bool, written: &Written) {
    w.write_record(&Record {
        record_id: n,
        time: e.time,
        system: e.system.clone(),
        event_data: e.data.clone(),
    })
    .unwrap();
    if install || n.is_multiple_of(64) {
        w.sync().unwrap();
    }
    if install {
        written.lock().unwrap().insert(n, Instant::now());
    }
}

fn report(
    a: &Args,
    began: Instant,
    n: u64,
    Said {
        kinds,
        mut latencies,
        sentinel,
    }: Said,
    samples: &[(u64, f64, f64)],
    load_before: &str,
) {
    let end = sentinel.unwrap_or_else(Instant::now);
    let secs = end.duration_since(began).as_secs_f64();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p).round() as usize)
            .map_or("-".to_string(), |d| {
                format!("{:.1} ms", d.as_secs_f64() * 1e3)
            })
    };
    println!(
        "input: {}{}; {} hosts, {} events/host/day, an install every {} events",
        if a.evtx {
            "growing EVTX file"
        } else {
            "NXLog JSON lines on stdin"
        },
        if a.rate > 0 {
            format!(" at {} events/s", a.rate)
        } else {
            String::new()
        },
        a.hosts,
        a.per_host_day,
        a.install_every
    );
    println!(
        "events: {n} in {secs:.1} s = {:.0} events/s",
        n as f64 / secs
    );
    println!("lines: {kinds:?}");
    println!(
        "latency install written -> opened read ({} installs): p50 {}, p99 {}, max {}",
        latencies.len(),
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    for (at, rss, hwm) in samples {
        println!("after {at:>10} events: RSS {rss:6.1} MiB, peak {hwm:6.1} MiB");
    }
    println!("load average: {load_before} (start), {} (end)", load());
}
