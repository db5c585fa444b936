//! The follower against the batch hunt, in memory: same answer, said at the right time, in
//! bounded memory, and resumed from a saved state without repeats.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::engine::{Answer, Engine, LifecycleOptions};
use crate::event::{Event, Locator, Origin, UserRef};

fn at(base: &str, secs: i64) -> Timestamp {
    base.parse::<Timestamp>().unwrap() + SignedDuration::from_millis(secs)
}

struct Log {
    file: Arc<str>,
    next: u64,
}

impl Log {
    fn new(file: &str) -> Log {
        Log {
            file: file.into(),
            next: 100,
        }
    }

    fn event(&mut self, id: u32, time: Timestamp, host: &str, data: &[(&str, &str)]) -> Event {
        self.next += 1;
        let (channel, provider) = match id {
            7045 | 7040 | 7036 | 7009 | 7000 => ("System", "Service Control Manager"),
            12 | 13 | 17 | 18 => (
                "Microsoft-Windows-Sysmon/Operational",
                "Microsoft-Windows-Sysmon",
            ),
            _ => ("Security", "Microsoft-Windows-Security-Auditing"),
        };
        let mut e = Event {
            time,
            computer: host.into(),
            channel: channel.into(),
            provider: provider.into(),
            event_id: id,
            record_id: Some(self.next),
            user: UserRef::default(),
            data: data
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            origin: Origin {
                file: self.file.clone(),
                locator: Locator::Record(self.next),
            },
            table: None,
            time_as_logged: None,
            source_identity: None,
        };
        if id == 7045 {
            e.user.sid = Some("S-1-5-21-1-2-3-1104".into());
        }
        e.fill_user_from_subject();
        e
    }
}

const ADMIN: &[(&str, &str)] = &[
    ("SubjectUserSid", "S-1-5-21-1-2-3-1104"),
    ("SubjectUserName", "admin"),
    ("SubjectDomainName", "CORP"),
];

/// One PsExec run on `host` at `base` + `ms`, logged to System, Security and Sysmon: the
/// install in both logs, its logon, the service running and stopped, and its key deleted
/// half a minute later (after the finding was first told).
fn psexec(
    logs: &mut [Log; 3],
    host: &str,
    base: &str,
    ms: i64,
    logon: &str,
) -> Vec<(usize, Event)> {
    let [system, security, sysmon] = logs;
    let t = |d: i64| at(base, ms + d);
    let subject: Vec<(&str, &str)> = ADMIN
        .iter()
        .copied()
        .chain([("SubjectLogonId", logon)])
        .collect();
    let mut install: Vec<(&str, &str)> = subject.clone();
    install.extend([
        ("ServiceName", "PSEXESVC"),
        ("ServiceFileName", "%SystemRoot%\\PSEXESVC.exe"),
        ("ServiceType", "0x10"),
        ("ServiceStartType", "3"),
        ("ServiceAccount", "LocalSystem"),
    ]);
    vec![
        (
            1,
            security.event(
                4624,
                t(-800),
                host,
                &[
                    ("TargetUserSid", "S-1-5-21-1-2-3-1104"),
                    ("TargetUserName", "admin"),
                    ("TargetDomainName", "CORP"),
                    ("TargetLogonId", logon),
                    ("LogonType", "3"),
                    ("IpAddress", "10.0.5.77"),
                    ("WorkstationName", "WKS-0913"),
                    ("AuthenticationPackageName", "Kerberos"),
                ],
            ),
        ),
        (
            0,
            system.event(
                7045,
                t(0),
                host,
                &[
                    ("ServiceName", "PSEXESVC"),
                    ("ImagePath", "%SystemRoot%\\PSEXESVC.exe"),
                    ("ServiceType", "user mode service"),
                    ("StartType", "demand start"),
                    ("AccountName", "LocalSystem"),
                ],
            ),
        ),
        (1, security.event(4697, t(-1), host, &install)),
        (
            0,
            system.event(
                7036,
                t(300),
                host,
                &[("param1", "PSEXESVC"), ("param2", "running")],
            ),
        ),
        (
            0,
            system.event(
                7036,
                t(4_000),
                host,
                &[("param1", "PSEXESVC"), ("param2", "stopped")],
            ),
        ),
        (
            2,
            sysmon.event(
                12,
                t(30_000),
                host,
                &[
                    ("EventType", "DeleteKey"),
                    (
                        "TargetObject",
                        "HKLM\\System\\CurrentControlSet\\Services\\PSEXESVC",
                    ),
                ],
            ),
        ),
    ]
}

/// Noise on `host`: a service of no interest changing state every `every` ms, from `from` on.
fn noise(
    log: &mut Log,
    host: &str,
    base: &str,
    from: i64,
    n: i64,
    every: i64,
) -> Vec<(usize, Event)> {
    (0..n)
        .map(|i| {
            let state = if i % 2 == 0 { "running" } else { "stopped" };
            (
                0,
                log.event(
                    7036,
                    at(base, from + i * every),
                    host,
                    &[("param1", "Spooler"), ("param2", state)],
                ),
            )
        })
        .collect()
}

const BASE: &str = "2024-05-06T08:00:00Z";
const INPUTS: [&str; 3] = ["System.evtx", "Security.evtx", "Sysmon.evtx"];

/// A stream over two hosts: PsExec three times (two on one host), noise between and after.
fn stream() -> Vec<(usize, Event)> {
    let mut logs = INPUTS.map(Log::new);
    let mut events = Vec::new();
    events.extend(psexec(
        &mut logs,
        "WKS01.corp.local",
        BASE,
        10_000,
        "0x1376020",
    ));
    events.extend(psexec(
        &mut logs,
        "SRV02.corp.local",
        BASE,
        20_000,
        "0x2990d17",
    ));
    let [system, _, _] = &mut logs;
    events.extend(noise(system, "WKS01.corp.local", BASE, 0, 40, 1_000));
    events.extend(noise(system, "SRV02.corp.local", BASE, 0, 40, 1_000));
    events.extend(psexec(
        &mut logs,
        "WKS01.corp.local",
        BASE,
        3_600_000,
        "0x5550001",
    ));
    let [system, _, _] = &mut logs;
    events.extend(noise(
        system,
        "WKS01.corp.local",
        BASE,
        3_600_000,
        30,
        1_000,
    ));
    events.extend(noise(
        system,
        "SRV02.corp.local",
        BASE,
        3_600_000,
        30,
        1_000,
    ));
    // Each log is written in time order; the logs interleave by time, the Security log late.
    events.sort_by_key(|(log, e)| {
        (
            e.time + SignedDuration::from_millis(*log as i64 * 700),
            *log,
        )
    });
    events
}

fn batch(events: &[(usize, Event)], options: LifecycleOptions) -> Vec<serde_json::Value> {
    let engine = Engine::lifecycle(options).build().unwrap();
    let Answer::Lifecycle(report) = engine
        .hunt_events(events.iter().map(|(_, e)| e.clone()))
        .answer
    else {
        unreachable!()
    };
    report
        .findings
        .iter()
        .map(|f| serde_json::to_value(f).unwrap())
        .collect()
}

/// Feed `events` in batches of `n`, each input read to its end after each batch.
fn follow(f: &mut Follower, events: &[(usize, Event)], n: usize) -> Vec<Change> {
    let mut changes = Vec::new();
    for batch in events.chunks(n) {
        let mut by_input: BTreeMap<usize, Vec<Event>> = BTreeMap::new();
        for (log, e) in batch {
            by_input.entry(*log).or_default().push(e.clone());
        }
        for (log, evs) in by_input {
            f.push(INPUTS[log], evs, true);
        }
        changes.extend(f.advance());
    }
    changes
}

/// The last thing said of each finding that is still reported, as the batch hunt's JSON.
fn final_states(changes: &[Change]) -> Vec<serde_json::Value> {
    let mut last: BTreeMap<String, &Change> = BTreeMap::new();
    for c in changes {
        last.insert(c.id.clone(), c);
    }
    let mut out: Vec<serde_json::Value> = last
        .values()
        .filter(|c| c.event != ChangeKind::Withdrawn)
        .map(|c| serde_json::to_value(c.finding.as_ref().unwrap()).unwrap())
        .collect();
    out.sort_by_key(|v| (v["created"].to_string(), v["computer"].to_string()));
    out
}

fn follower(options: LifecycleOptions) -> Follower {
    Engine::lifecycle(options)
        .build()
        .unwrap()
        .follower()
        .unwrap()
}

#[test]
fn a_followed_stream_ends_as_the_batch_hunt_of_it() {
    let events = stream();
    let want = batch(&events, LifecycleOptions::default());
    assert_eq!(want.len(), 3, "three PsExec runs");
    for n in [1, 7, 1000] {
        let mut f = follower(LifecycleOptions::default());
        let mut changes = follow(&mut f, &events, n);
        changes.extend(f.settle_now());
        assert_eq!(final_states(&changes), want, "batches of {n}");
        // Read a few events at a time, the key deletion came after the findings were first
        // told: each was updated (read at once, each is told once, whole).
        let updated = changes.iter().filter(|c| c.event == ChangeKind::Updated);
        assert_eq!(
            updated.count(),
            if n < 100 { 3 } else { 0 },
            "batches of {n}"
        );
        // Each finding is opened once, and nothing is said of it twice in a row.
        let mut seen: BTreeMap<&str, Vec<&Change>> = BTreeMap::new();
        for c in &changes {
            seen.entry(&c.id).or_default().push(c);
        }
        for (id, said) in seen {
            assert_eq!(said[0].event, ChangeKind::Opened, "{id}");
            assert_eq!(
                said.iter()
                    .filter(|c| c.event == ChangeKind::Opened)
                    .count(),
                1,
                "{id}"
            );
            for w in said.windows(2) {
                assert_ne!(w[0].finding, w[1].finding, "{id} said twice the same");
            }
        }
    }
}

#[test]
fn a_creation_is_judged_only_once_its_tolerance_has_passed() {
    let events = stream();
    let mut f = follower(LifecycleOptions::default());
    let mut said_at = Vec::new();
    for (i, (log, e)) in events.iter().enumerate() {
        f.push(INPUTS[*log], vec![e.clone()], true);
        for c in f.advance() {
            said_at.push((i, c));
        }
    }
    for (i, c) in &said_at {
        let fnd = c.finding.as_ref().unwrap();
        // Every event up to the settling time after the creation had been pushed.
        let latest = events[..=*i].iter().map(|(_, e)| e.time).max().unwrap();
        assert!(
            latest >= fnd.created + SignedDuration::from_secs(5),
            "{c:?}"
        );
        if c.event == ChangeKind::Opened {
            let installs = fnd
                .evidence
                .iter()
                .filter(|e| e.event_id == 4697 || e.event_id == 7045);
            assert_eq!(installs.count(), 2, "opened with both installs: {fnd:?}");
            assert!(fnd.source.is_some(), "and its logon");
        }
    }
    assert_eq!(
        said_at
            .iter()
            .filter(|(_, c)| c.event == ChangeKind::Opened)
            .count(),
        3
    );
}

#[test]
fn findings_close_when_their_window_passes_and_their_state_goes() {
    let options = LifecycleOptions::default().window(SignedDuration::from_mins(10));
    let events = stream();
    let mut f = follower(options.clone());
    let changes = follow(&mut f, &events, 5);
    let closed: Vec<&Change> = changes
        .iter()
        .filter(|c| c.event == ChangeKind::Closed)
        .collect();
    // The first hour's two runs closed (the stream went on an hour); the last is open.
    assert_eq!(closed.len(), 2, "{changes:#?}");
    assert_eq!(f.open(), 1);
    assert_eq!(final_states(&changes)[..2], batch(&events, options)[..2]);
    // Nothing is said of a closed finding again.
    for c in &closed {
        let after = changes
            .iter()
            .skip_while(|d| !std::ptr::eq(*d, *c))
            .skip(1)
            .filter(|d| d.id == c.id)
            .count();
        assert_eq!(after, 0);
    }
}

#[test]
fn a_restart_from_the_saved_state_says_nothing_twice() {
    let events = stream();
    let mut whole = follower(LifecycleOptions::default());
    let mut want = follow(&mut whole, &events, 3);
    want.extend(whole.settle_now());

    for cut in [10, 40, 100] {
        let mut first = follower(LifecycleOptions::default());
        let mut got = follow(&mut first, &events[..cut], 3);
        let json = serde_json::to_string(&first.save()).unwrap();
        drop(first);
        let state: FollowState = serde_json::from_str(&json).unwrap();
        let engine = Engine::lifecycle(LifecycleOptions::default())
            .build()
            .unwrap();
        let mut second = engine.resume(state).unwrap();
        got.extend(follow(&mut second, &events[cut..], 3));
        got.extend(second.settle_now());
        assert_eq!(final_states(&got), final_states(&want), "cut at {cut}");
        let opened = |c: &[Change]| c.iter().filter(|c| c.event == ChangeKind::Opened).count();
        assert_eq!(opened(&got), opened(&want), "cut at {cut}");
    }
    let other =
        Engine::lifecycle(LifecycleOptions::default().window(SignedDuration::from_hours(1)))
            .build()
            .unwrap();
    let state = follower(LifecycleOptions::default()).save();
    assert!(matches!(
        other.resume(state),
        Err(FollowError::State(StateError::Windows { .. }))
    ));
}

#[test]
fn memory_stays_within_the_limits_whatever_the_stream() {
    let limits = FollowLimits {
        events: 500,
        logons: 200,
        installs: 50,
        accounts: 100,
    };
    let mut f = follower(LifecycleOptions::default()).with_limits(limits);
    let mut log = Log::new("Security.evtx");
    let mut peak = 0;
    for i in 0..20_000i64 {
        let host = format!("H{}", i % 7);
        let session = format!("{:#x}", 0x10000 + i);
        let sid = format!("S-1-5-21-9-9-9-{}", i % 3000);
        let e = log.event(
            4624,
            at(BASE, i * 10),
            &host,
            &[
                ("TargetUserSid", &sid),
                ("TargetUserName", "u"),
                ("TargetDomainName", "D"),
                ("TargetLogonId", &session),
                ("LogonType", "3"),
            ],
        );
        let noise = log.event(
            7036,
            at(BASE, i * 10),
            &host,
            &[("param1", "X"), ("param2", "running")],
        );
        f.push("Security.evtx", vec![e, noise], true);
        if i % 100 == 0 {
            f.advance();
            peak = peak.max(f.held());
        }
    }
    assert!(peak <= 500 + 200 + 50 + 100, "held {peak}");
    let s = f.stats();
    assert!(s.dropped_logons > 0 && s.dropped_accounts > 0, "{s:?}");
}

#[test]
fn the_seed_query_cannot_follow() {
    let engine = Engine::kql(crate::KqlConfig::default()).build().unwrap();
    assert!(matches!(engine.follower(), Err(FollowError::Semantics)));
}

#[test]
fn what_an_open_finding_stands_on_is_held_until_it_closes() {
    // A network logon is held an hour for installs to name; the one behind a finding stays
    // as long as the finding is open (a day), or the finding would lose its source when it is
    // judged again at its close.
    let mut logs = INPUTS.map(Log::new);
    let mut events = psexec(&mut logs, "WKS01.corp.local", BASE, 10_000, "0x1376020");
    let [system, _, _] = &mut logs;
    events.extend(noise(
        system,
        "WKS01.corp.local",
        BASE,
        60_000,
        300,
        330_000,
    ));
    events.sort_by_key(|(_, e)| e.time);
    let mut f = follower(LifecycleOptions::default());
    let changes = follow(&mut f, &events, 4);
    assert_eq!(changes.last().unwrap().event, ChangeKind::Closed);
    let last = changes.last().unwrap().finding.as_ref().unwrap();
    assert!(
        last.source.as_ref().is_some_and(|s| s.ip.is_some()),
        "{changes:#?}"
    );
    assert_eq!(
        final_states(&changes),
        batch(&events, LifecycleOptions::default())
    );
}

mod schedules;
