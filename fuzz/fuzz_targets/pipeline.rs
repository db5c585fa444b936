//! Arbitrary event sequences → the whole engine (both semantics) → every printer.
//!
//! The readers have their own targets; this one starts after them, from `Event`s shaped like
//! the ones a hunt reads (the event ids, channels, providers and field names the stages look
//! at, with any values: empty, huge, hostile, any time from the first to the last instant jiff
//! can hold), so that correlation, attribution, campaigns, the seed query and every output
//! format meet what an attacker could write into a log. Checks: no panic, findings in creation
//! order, JSON output that parses back.
#![no_main]

use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};
use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use svchunt::emit::{self, Format};
use svchunt::{Answer, Engine, Event, KqlConfig, LifecycleOptions, Locator, Origin, UserRef};

const IDS: &[u32] = &[
    7045, 4697, 4674, 7036, 7009, 7000, 4624, 5140, 5145, 12, 13, 17, 18, 4634, 4648, 4672, 4688,
];
const CHANNELS: &[&str] = &["System", "Security", "Microsoft-Windows-Sysmon/Operational"];
const PROVIDERS: &[&str] = &[
    "Service Control Manager",
    "Microsoft-Windows-Security-Auditing",
    "Microsoft-Windows-Sysmon",
];
const HOSTS: &[&str] = &["WKS01", "wks01.corp.local", "SRV-02.corp.local", ""];
const FIELDS: &[&str] = &[
    "ServiceName", "ImagePath", "ServiceType", "StartType", "AccountName", "ServiceFileName",
    "ServiceStartType", "ServiceAccount", "SubjectLogonId", "SubjectUserSid", "SubjectUserName",
    "SubjectDomainName", "ObjectServer", "ObjectType", "ObjectName", "AccessMask", "ProcessName",
    "TargetUserSid", "TargetUserName", "TargetDomainName", "TargetLogonId", "LogonType",
    "IpAddress", "WorkstationName", "AuthenticationPackageName", "ShareName",
    "RelativeTargetName", "AccessList", "param1", "param2", "EventType", "TargetObject",
    "Details", "PipeName", "Image",
];
/// Values the stages compare against, so that the fuzzer reaches the interesting branches.
const VALUES: &[&str] = &[
    "PSEXESVC", "%SystemRoot%\\PSEXESVC.exe", "SC Manager", "SERVICE OBJECT", "%%1537 %%1538",
    "0x3e7", "0x1376020", "3", "2", "10.0.0.9", "127.0.0.1", "running", "stopped",
    "DeleteKey", "HKLM\\System\\CurrentControlSet\\Services\\PSEXESVC\\DeleteFlag",
    "HKLM\\System\\CurrentControlSet\\Services\\PSEXESVC", "PSEXESVC-ATTACKER-42-stdin",
    "\\\\*\\IPC$", "%%4417", "S-1-5-18", "S-1-5-21-1-2-3-500", "demand start", "kernel mode driver",
    "%COMSPEC% /Q /c echo cd ^> \\\\127.0.0.1\\C$\\__output 2^>^&1 > %TEMP%\\execute.bat",
    "cmd.exe /c echo x > \\\\.\\pipe\\x", "powershell -noP -sta -w 1 -enc SQBmACgA", "-",
    "\u{1b}[2J\u{202e}<script>", "",
];

#[derive(Debug, Arbitrary)]
struct Spec {
    id: u8,
    raw_id: Option<u32>,
    seconds: i64,
    nanos: u32,
    extreme: u8,
    host: u8,
    channel: u8,
    provider: u8,
    sid: Option<u8>,
    fields: Vec<(u8, Value)>,
}

#[derive(Debug, Arbitrary)]
enum Value {
    Known(u8),
    Any(String),
    Huge(u16, char),
}

fn pick<'a>(list: &[&'a str], i: u8) -> &'a str {
    list[usize::from(i) % list.len()]
}

fn time(spec: &Spec) -> Timestamp {
    match spec.extreme % 8 {
        0 => Timestamp::MIN,
        1 => Timestamp::MAX,
        _ => {
            // Anywhere in jiff's range, most often near 2024 so that events meet each other.
            let (lo, hi) = (Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
            let secs = if spec.extreme % 8 == 2 {
                lo + spec.seconds.rem_euclid(hi - lo)
            } else {
                1_714_000_000 + spec.seconds.rem_euclid(100_000)
            };
            Timestamp::new(secs, (spec.nanos % 1_000_000_000) as i32).unwrap_or(Timestamp::MAX)
        }
    }
}

fn event(spec: &Spec, n: u64, file: &Arc<str>) -> Event {
    Event {
        time: time(spec),
        computer: pick(HOSTS, spec.host).to_string(),
        channel: pick(CHANNELS, spec.channel).to_string(),
        provider: pick(PROVIDERS, spec.provider).to_string(),
        event_id: spec.raw_id.unwrap_or(IDS[usize::from(spec.id) % IDS.len()]),
        record_id: Some(n),
        user: UserRef {
            sid: spec.sid.map(|i| pick(VALUES, i).to_string()),
            name: None,
        },
        data: spec
            .fields
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::Known(i) => pick(VALUES, *i).to_string(),
                    Value::Any(s) => s.clone(),
                    Value::Huge(n, c) => c.to_string().repeat(usize::from(*n)),
                };
                (pick(FIELDS, *k).to_string(), value)
            })
            .collect(),
        origin: Origin {
            file: file.clone(),
            locator: Locator::Record(n),
        },
        table: None,
        source_identity: None,
        time_as_logged: None,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(specs) = Vec::<Spec>::arbitrary(&mut u) else {
        return;
    };
    let file: Arc<str> = "fuzz.evtx".into();
    let events: Vec<Event> = specs
        .iter()
        .enumerate()
        .map(|(n, s)| event(s, n as u64, &file))
        .collect();

    let lifecycle = Engine::lifecycle(LifecycleOptions::default().include_benign(true))
        .build()
        .unwrap();
    let Answer::Lifecycle(report) = lifecycle.hunt_events(events.clone()).answer else {
        unreachable!()
    };
    assert!(
        report.findings.windows(2).all(|w| w[0].created <= w[1].created),
        "findings out of creation order"
    );
    for format in [
        Format::Table,
        Format::Csv,
        Format::Json,
        Format::Jsonl,
        Format::Graph,
        Format::Dot,
        Format::Html,
    ] {
        let mut out = Vec::new();
        emit::write_findings(&mut out, format, &report).unwrap();
        if format == Format::Json {
            serde_json::from_slice::<serde_json::Value>(&out).expect("JSON output parses");
        }
    }

    let kql = Engine::kql(KqlConfig::default()).build().unwrap();
    let Answer::Kql(rows) = kql.hunt_events(events).answer else {
        unreachable!()
    };
    for format in [Format::Table, Format::Csv, Format::Json, Format::Jsonl] {
        let mut out = Vec::new();
        emit::write_kql_rows(&mut out, format, &rows).unwrap();
    }
});
