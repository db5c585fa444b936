//! Builders for synthetic events, and the shared-corpus locator, used by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use jiff::Timestamp;
use svchunt::event::{Event, Locator, Origin, UserRef, channel};
use svchunt::{Answer, Collection, Engine, KqlConfig, KqlRow, LifecycleOptions, Report};

/// The normalised events under `paths` (only `ids` when given), as `svchunt events` reads them.
pub fn read_paths(paths: &[PathBuf], ids: Option<&[u32]>) -> Collection {
    Engine::default().read_events(paths, ids)
}

/// The lifecycle report the engine gives for `events` (benign findings included, so tests see
/// every creation).
pub fn hunt(events: Vec<Event>) -> Report {
    hunt_with(LifecycleOptions::default().include_benign(true), events)
}

/// [`hunt`] with other options.
pub fn hunt_with(options: LifecycleOptions, events: Vec<Event>) -> Report {
    let engine = Engine::lifecycle(options).build().expect("valid options");
    match engine.hunt_events(events).answer {
        Answer::Lifecycle(report) => report,
        Answer::Kql(_) => unreachable!("a lifecycle engine"),
    }
}

/// The seed query's rows the engine gives for `events`.
pub fn hunt_kql(config: KqlConfig, events: Vec<Event>) -> Vec<KqlRow> {
    let engine = Engine::kql(config).build().expect("valid config");
    match engine.hunt_events(events).answer {
        Answer::Kql(rows) => rows,
        Answer::Lifecycle(_) => unreachable!("a kql engine"),
    }
}

/// The shared real-log corpus, if this machine has it (`SVCHUNT_CORPUS`, else
/// `../shared/corpus` beside the repository); a skip otherwise, a failure under CI.
#[track_caller]
pub fn corpus() -> Option<PathBuf> {
    svchunt_testkit::corpus(env!("CARGO_MANIFEST_DIR"))
}

/// A time from an RFC 3339 string.
pub fn t(s: &str) -> Timestamp {
    s.parse().expect("test timestamp")
}

static NEXT_RECORD: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn base(id: u32, time: &str, computer: &str, channel: &str, provider: &str) -> Event {
    let rec = NEXT_RECORD.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Event {
        time: t(time),
        computer: computer.into(),
        channel: channel.into(),
        provider: provider.into(),
        event_id: id,
        record_id: Some(rec),
        user: UserRef::default(),
        data: Vec::new(),
        origin: Origin {
            file: "synthetic.evtx".into(),
            locator: Locator::Record(rec),
        },
        table: None,
        time_as_logged: None,
        source_identity: None,
    }
}

fn with(mut e: Event, data: &[(&str, &str)]) -> Event {
    e.data = data
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    e.fill_user_from_subject();
    e
}

/// A System 7045 by `sid`.
pub fn s7045(time: &str, computer: &str, sid: &str, name: &str, image: &str) -> Event {
    let mut e = with(
        base(
            7045,
            time,
            computer,
            channel::SYSTEM,
            "Service Control Manager",
        ),
        &[
            ("ServiceName", name),
            ("ImagePath", image),
            ("ServiceType", "user mode service"),
            ("StartType", "demand start"),
            ("AccountName", "LocalSystem"),
        ],
    );
    e.user.sid = Some(sid.into());
    e
}

/// Subject fields for `DOMAIN\user` with `sid` and logon id.
fn subject<'a>(sid: &'a str, account: &'a str, logon: &'a str) -> Vec<(&'a str, &'a str)> {
    let (domain, user) = account.split_once('\\').unwrap_or(("", account));
    vec![
        ("SubjectUserSid", sid),
        ("SubjectUserName", user),
        ("SubjectDomainName", domain),
        ("SubjectLogonId", logon),
    ]
}

/// A Security 4697.
pub fn s4697(
    time: &str,
    computer: &str,
    sid: &str,
    account: &str,
    logon: &str,
    name: &str,
    image: &str,
) -> Event {
    let mut d = subject(sid, account, logon);
    d.extend([
        ("ServiceName", name),
        ("ServiceFileName", image),
        ("ServiceType", "0x10"),
        ("ServiceStartType", "3"),
        ("ServiceAccount", "LocalSystem"),
    ]);
    with(
        base(
            4697,
            time,
            computer,
            channel::SECURITY,
            "Microsoft-Windows-Security-Auditing",
        ),
        &d,
    )
}

/// A Security 4674 on a service object with the given access list.
pub fn s4674(
    time: &str,
    computer: &str,
    sid: &str,
    account: &str,
    logon: &str,
    object: &str,
    mask: &str,
) -> Event {
    let mut d = subject(sid, account, logon);
    d.extend([
        ("ObjectServer", "SC Manager"),
        ("ObjectType", "SERVICE OBJECT"),
        ("ObjectName", object),
        ("AccessMask", mask),
        ("PrivilegeList", "SeTakeOwnershipPrivilege"),
        ("ProcessName", "C:\\Windows\\System32\\services.exe"),
    ]);
    with(
        base(
            4674,
            time,
            computer,
            channel::SECURITY,
            "Microsoft-Windows-Security-Auditing",
        ),
        &d,
    )
}

/// A 4624 logon.
pub fn s4624(
    time: &str,
    computer: &str,
    sid: &str,
    account: &str,
    logon: &str,
    logon_type: &str,
    ip: &str,
) -> Event {
    let (domain, user) = account.split_once('\\').unwrap_or(("", account));
    with(
        base(
            4624,
            time,
            computer,
            channel::SECURITY,
            "Microsoft-Windows-Security-Auditing",
        ),
        &[
            ("SubjectUserSid", "S-1-0-0"),
            ("SubjectUserName", "-"),
            ("SubjectDomainName", "-"),
            ("SubjectLogonId", "0x0"),
            ("TargetUserSid", sid),
            ("TargetUserName", user),
            ("TargetDomainName", domain),
            ("TargetLogonId", logon),
            ("LogonType", logon_type),
            ("AuthenticationPackageName", "NTLM"),
            ("WorkstationName", "ATTACKER"),
            ("IpAddress", ip),
        ],
    )
}

/// A 7036 state change (by display name).
pub fn s7036(time: &str, computer: &str, display: &str, state: &str) -> Event {
    with(
        base(
            7036,
            time,
            computer,
            channel::SYSTEM,
            "Service Control Manager",
        ),
        &[("param1", display), ("param2", state)],
    )
}

/// A 7009 start time-out.
pub fn s7009(time: &str, computer: &str, display: &str) -> Event {
    with(
        base(
            7009,
            time,
            computer,
            channel::SYSTEM,
            "Service Control Manager",
        ),
        &[("param1", "30000"), ("param2", display)],
    )
}

/// A Sysmon 13 (SetValue) or 12 (DeleteKey) on a registry path.
pub fn sysmon_registry(id: u32, time: &str, computer: &str, event_type: &str, path: &str) -> Event {
    with(
        base(
            id,
            time,
            computer,
            channel::SYSMON,
            "Microsoft-Windows-Sysmon",
        ),
        &[
            ("EventType", event_type),
            ("TargetObject", path),
            ("Details", "DWORD (0x00000001)"),
        ],
    )
}

/// Events in time order, as the reading stage hands them on.
pub fn sorted(mut events: Vec<Event>) -> Vec<Event> {
    events.sort_by_key(|e| e.time);
    events
}
