//! Scenario generation for `svchunt-gen`: a domain of hosts, each with a System, a Security
//! and optionally a Sysmon log full of benign activity ([`noise`]), remote service executions
//! of every tool family injected into them ([`tools`]), and `truth.json` listing exactly what
//! was injected.
//!
//! Deterministic: every host draws from its own stream of a seeded [`rng::Rng`], and the
//! executions from another, so the same configuration gives the same bytes, whatever the
//! number of threads.

pub mod events;
pub mod noise;
pub mod nxlog;
pub mod plans;
pub mod reconfigure;
pub mod rng;
pub mod tools;
pub mod variants;

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::error::WriteError;
use crate::record::Record;
use crate::writer::EvtxWriter;
use events::{Account, Event, HostEvents, Log, Pids};
use noise::Peer;
use rng::Rng;
use tools::{Source, TOOLS, Target, Truth};

/// What to generate.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// Number of target hosts.
    pub hosts: usize,
    /// Days of activity.
    pub days: u32,
    /// Benign events per host per day (all logs together).
    pub events_per_host_day: usize,
    /// Injected executions (cycling through every tool family).
    pub executions: usize,
    /// PRNG seed.
    pub seed: u64,
    /// Also write Sysmon logs (the deletion evidence lives there).
    pub sysmon: bool,
    /// Midnight UTC of the first day.
    pub start: Timestamp,
}

/// What was written.
#[derive(Debug, Default)]
pub struct Summary {
    /// EVTX files written.
    pub files: Vec<PathBuf>,
    /// Records in them.
    pub records: u64,
    /// Bytes in them.
    pub bytes: u64,
    /// The injected executions.
    pub truth: Vec<Truth>,
}

const DOMAIN: &str = "CORP";
const DNS_DOMAIN: &str = "corp.example";

/// `truth.json`.
#[derive(Serialize)]
struct TruthFile<'a> {
    generator: &'static str,
    config: &'a Config,
    hosts: Vec<String>,
    executions: &'a [Truth],
}

fn domain_sid(rng: &mut Rng) -> String {
    format!(
        "S-1-5-21-{}-{}-{}",
        1_000_000_000 + rng.below(3_000_000_000),
        1_000_000_000 + rng.below(3_000_000_000),
        1_000_000_000 + rng.below(3_000_000_000)
    )
}

fn account(domain_sid: &str, rid: u32, name: &str) -> Account {
    Account {
        sid: format!("{domain_sid}-{rid}"),
        name: name.into(),
        domain: DOMAIN.into(),
        logon_id: 0,
    }
}

fn host_name(i: usize) -> String {
    if i % 4 == 3 {
        format!("SRV-{:03}", i / 4 + 1)
    } else {
        format!("WKS-{:04}", i + 1)
    }
}

fn target(i: usize, rng: &mut Rng, users: &[Account]) -> Target {
    let netbios = host_name(i);
    let services = 600 + 4 * rng.below(40) as u32;
    Target {
        events: HostEvents {
            computer: format!("{netbios}.{DNS_DOMAIN}"),
            pids: Pids {
                services,
                lsass: services + 12,
                system: 4,
                sysmon: 2000 + 4 * rng.below(500) as u32,
            },
        },
        netbios,
        local_user: users[i % users.len()].clone(),
    }
}

/// Domain users (benign logons) and the accounts attackers use.
fn people(dsid: &str) -> (Vec<Account>, Vec<Source>) {
    let users: Vec<Account> = [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
    ]
    .iter()
    .enumerate()
    .map(|(i, n)| account(dsid, 1104 + i as u32, n))
    .collect();
    let sources = vec![
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
    (users, sources)
}

/// Windows tools come from a compromised workstation (Kerberos); Linux tools from the
/// attacker's box (NTLM).
fn source_for(tool: &str) -> usize {
    match tool {
        "psexec"
        | "paexec"
        | "remcom"
        | "csexec"
        | "cobaltstrike-psexec"
        | "cobaltstrike-psexec-psh"
        | "invoke-smbexec"
        | "invoke-psexec"
        | "covenant-psexec"
        | "sharpsc"
        | "sharpexec"
        | "sliver-psexec" => 0,
        _ => 1,
    }
}

/// Overlaps an execution already on this host with the same service name.
fn conflicts(truth: &[Truth], new: &Truth) -> bool {
    truth.iter().any(|t| {
        t.host == new.host
            && t.service_name.eq_ignore_ascii_case(&new.service_name)
            && t.deleted
                .as_deref()
                .is_none_or(|d| d >= new.created.as_str())
            && new
                .deleted
                .as_deref()
                .is_none_or(|d| d >= t.created.as_str())
    })
}

/// Plan every injected execution: per host, its events; and the truth, by creation time.
fn executions(
    cfg: &Config,
    targets: &[Target],
    sources: &[Source],
    root: &Rng,
) -> (Vec<Vec<Event>>, Vec<Truth>) {
    let mut rng = root.fork(u64::MAX);
    let mut order: Vec<usize> = (0..TOOLS.len()).collect();
    for i in (1..order.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    let mut per_host: Vec<Vec<Event>> = vec![Vec::new(); targets.len()];
    let mut truth: Vec<Truth> = Vec::new();
    for k in 0..cfg.executions {
        let tool = TOOLS[order[k % TOOLS.len()]];
        for _attempt in 0..100 {
            let host = rng.below(targets.len() as u64) as usize;
            let day = rng.below(u64::from(cfg.days.max(1))) as i64;
            let offset = rng.range(8 * 3_600_000, 18 * 3_600_000);
            let t0 = cfg.start + SignedDuration::from_millis(day * 86_400_000 + offset);
            let mut events = Vec::new();
            let mut trial = rng.clone();
            let src = &sources[source_for(tool)];
            let t = tools::inject(tool, &targets[host], src, t0, &mut trial, &mut events);
            rng = trial;
            if conflicts(&truth, &t) {
                continue;
            }
            per_host[host].extend(events);
            truth.push(t);
            break;
        }
    }
    truth.sort_by(|a, b| (&a.created, &a.host).cmp(&(&b.created, &b.host)));
    (per_host, truth)
}

/// The open logs of one host.
struct HostLogs {
    writers: Vec<(Log, EvtxWriter<BufWriter<File>>, u64)>,
}

impl HostLogs {
    fn write(&mut self, e: Event) -> Result<(), WriteError> {
        let Some((_, w, next)) = self.writers.iter_mut().find(|(l, _, _)| *l == e.log) else {
            return Ok(()); // a log not written (Sysmon off)
        };
        let record = Record {
            record_id: *next,
            time: e.time,
            system: e.system,
            event_data: e.data,
        };
        *next += 1;
        w.write_record(&record)
    }
}

/// Write one host's logs: noise day by day, merged in time order with its executions.
#[allow(clippy::too_many_arguments)]
fn write_host(
    cfg: &Config,
    mix: noise::Mix,
    dir: &Path,
    t: &Target,
    mut pending: Vec<Event>,
    users: &[Account],
    peers: &[Peer],
    mut rng: Rng,
) -> Result<Summary, WriteError> {
    fs::create_dir_all(dir)?;
    let mut logs = vec![Log::System, Log::Security];
    if cfg.sysmon {
        logs.push(Log::Sysmon);
    }
    let mut files = Vec::new();
    let mut host = HostLogs {
        writers: Vec::new(),
    };
    for log in logs {
        let path = dir.join(log.file_name());
        let w = EvtxWriter::new(BufWriter::with_capacity(1 << 20, File::create(&path)?))?;
        // Real logs have been running for a while: ids don't start at 1.
        let first = 1000 + rng.below(90_000);
        host.writers.push((log, w, first));
        files.push(path);
    }
    if !cfg.sysmon {
        pending.retain(|e| e.log != Log::Sysmon);
    }
    for day in 0..cfg.days {
        let start = cfg.start + SignedDuration::from_hours(24 * i64::from(day));
        let end = start + SignedDuration::from_hours(24);
        let mut day_rng = rng.fork(u64::from(day));
        noise::day_noise_mix(
            t,
            users,
            peers,
            start,
            cfg.events_per_host_day,
            mix,
            &mut day_rng,
            &mut pending,
        );
        if !cfg.sysmon {
            pending.retain(|e| e.log != Log::Sysmon);
        }
        pending.sort_by_key(|e| e.time);
        let later = pending.partition_point(|e| e.time < end);
        let rest = pending.split_off(later);
        for e in pending.drain(..) {
            host.write(e)?;
        }
        pending = rest;
    }
    pending.sort_by_key(|e| e.time);
    for e in pending {
        host.write(e)?;
    }
    let mut summary = Summary::default();
    for (_, w, _) in host.writers {
        summary.records += w.records();
        w.finish()?;
    }
    for f in &files {
        summary.bytes += fs::metadata(f)?.len();
    }
    summary.files = files;
    Ok(summary)
}

/// Peers that log on to every host all day (a DC, a management server, a file server).
fn default_peers() -> Vec<Peer> {
    [
        ("10.0.0.10", "DC01"),
        ("10.0.0.20", "SRV-MGMT01"),
        ("10.0.0.30", "FS01"),
    ]
    .iter()
    .map(|(ip, name)| Peer {
        ip: (*ip).into(),
        name: (*name).into(),
    })
    .collect()
}

/// Where the truth of a scenario written to `out` goes: beside the logs, not among them, so
/// that hunting `out` reads logs only (`examples/lab` → `examples/lab.truth.json`).
pub fn truth_path(out: &Path) -> std::path::PathBuf {
    let mut name = out.file_name().map_or_else(
        || std::ffi::OsString::from("scenario"),
        |n| n.to_os_string(),
    );
    name.push(".truth.json");
    match out.parent() {
        Some(parent) => parent.join(name),
        None => std::path::PathBuf::from(name),
    }
}

/// Generate the scenario into `out` (`out/<host fqdn>/*.evtx`) and its truth into
/// [`truth_path`]`(out)`.
pub fn generate(cfg: &Config, out: &Path) -> Result<Summary, WriteError> {
    generate_mix(cfg, noise::Mix::Mixed, out)
}

/// [`generate`] with benign activity of a given [`noise::Mix`].
pub fn generate_mix(cfg: &Config, mix: noise::Mix, out: &Path) -> Result<Summary, WriteError> {
    let root = Rng::new(cfg.seed);
    let mut setup = root.fork(0x5e70);
    let dsid = domain_sid(&mut setup);
    let (users, sources) = people(&dsid);
    let targets: Vec<Target> = (0..cfg.hosts)
        .map(|i| target(i, &mut setup, &users))
        .collect();
    let peers = default_peers();
    let (mut per_host, truth) = if targets.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        executions(cfg, &targets, &sources, &root)
    };
    fs::create_dir_all(out)?;

    // Hosts are independent: write them on all cores; each draws from its own stream.
    let jobs: Vec<(usize, Vec<Event>)> = per_host.drain(..).enumerate().collect();
    let jobs = Mutex::new(jobs.into_iter().map(Some).collect::<Vec<_>>());
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Result<Summary, WriteError>)>> = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(cfg.hosts.max(1));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= targets.len() {
                        break;
                    }
                    let (_, events) = jobs.lock().expect("no panics")[i].take().expect("once");
                    let t = &targets[i];
                    let dir = out.join(&t.events.computer);
                    let r = write_host(
                        cfg,
                        mix,
                        &dir,
                        t,
                        events,
                        &users,
                        &peers,
                        root.fork(i as u64 + 1),
                    );
                    results.lock().expect("no panics").push((i, r));
                }
            });
        }
    });
    let mut results = results.into_inner().expect("no panics");
    results.sort_by_key(|(i, _)| *i);
    let mut summary = Summary::default();
    for (_, r) in results {
        let r = r?;
        summary.files.extend(r.files);
        summary.records += r.records;
        summary.bytes += r.bytes;
    }
    let file = TruthFile {
        generator: "svchunt-gen",
        config: cfg,
        hosts: targets.iter().map(|t| t.events.computer.clone()).collect(),
        executions: &truth,
    };
    let mut json =
        serde_json::to_string_pretty(&file).map_err(|e| WriteError::InvalidValue(e.to_string()))?;
    json.push('\n');
    fs::write(truth_path(out), json)?;
    summary.truth = truth;
    Ok(summary)
}
