//! The engine's tail on a million events in memory (`Engine::hunt_events`: the read plan's
//! selection, ordering and de-duplication, correlation, attribution, report): 100,000 service
//! creations (7045 + 4697) on 200 hosts, each with services.exe's 4674 at creation, a 7036
//! running/stopped pair and a Sysmon DeleteFlag, plus the logons behind them.

use svchunt::event::{Event, Locator, Origin, UserRef, channel};
use svchunt::{Answer, Engine};

fn main() {
    divan::main();
}

fn event(
    id: u32,
    t: i64,
    host: &str,
    chan: &str,
    provider: &str,
    data: Vec<(&str, String)>,
) -> Event {
    Event {
        time: jiff::Timestamp::from_millisecond(t).expect("time"),
        computer: host.to_string(),
        channel: chan.to_string(),
        provider: provider.to_string(),
        event_id: id,
        record_id: None,
        user: UserRef {
            sid: Some("S-1-5-21-1-2-3-1104".into()),
            name: Some("CORP\\admin".into()),
        },
        data: data.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        origin: Origin {
            file: "bench".into(),
            locator: Locator::Record(0),
        },
        table: None,
        time_as_logged: None,
        source_identity: None,
    }
}

fn million() -> Vec<Event> {
    let hosts: Vec<String> = (0..200).map(|h| format!("HOST{h:03}")).collect();
    let mut events = Vec::with_capacity(1_000_000);
    let security = "Microsoft-Windows-Security-Auditing";
    let scm = "Service Control Manager";
    let sysmon = "Microsoft-Windows-Sysmon";
    for i in 0..100_000i64 {
        let host = &hosts[(i % 200) as usize];
        let t = 1_700_000_000_000 + i * 5_000;
        let name = format!("svc{i:06}");
        let image = format!("%SystemRoot%\\{name}.exe");
        let logon = format!("{:#x}", 0x10000 + i);
        events.push(event(
            4624,
            t - 500,
            host,
            channel::SECURITY,
            security,
            vec![
                ("TargetLogonId", logon.clone()),
                ("LogonType", "3".into()),
                ("IpAddress", "10.0.0.9".into()),
            ],
        ));
        events.push(event(
            4697,
            t,
            host,
            channel::SECURITY,
            security,
            vec![
                ("SubjectLogonId", logon.clone()),
                ("ServiceName", name.clone()),
                ("ServiceFileName", image.clone()),
                ("ServiceStartType", "3".into()),
            ],
        ));
        events.push(event(
            7045,
            t + 1,
            host,
            channel::SYSTEM,
            scm,
            vec![
                ("ServiceName", name.clone()),
                ("ImagePath", image.clone()),
                ("StartType", "demand start".into()),
            ],
        ));
        events.push(event(
            4674,
            t + 1,
            host,
            channel::SECURITY,
            security,
            vec![
                ("ObjectServer", "SC Manager".into()),
                ("ObjectType", "SERVICE OBJECT".into()),
                ("ObjectName", name.clone()),
                ("AccessMask", "%%1537 %%1538".into()),
                ("SubjectLogonId", logon),
            ],
        ));
        events.push(event(
            7036,
            t + 50,
            host,
            channel::SYSTEM,
            scm,
            vec![("param1", name.clone()), ("param2", "running".into())],
        ));
        events.push(event(
            7036,
            t + 900,
            host,
            channel::SYSTEM,
            scm,
            vec![("param1", name.clone()), ("param2", "stopped".into())],
        ));
        events.push(event(
            13,
            t + 950,
            host,
            channel::SYSMON,
            sysmon,
            vec![
                ("EventType", "SetValue".into()),
                (
                    "TargetObject",
                    format!("HKLM\\System\\CurrentControlSet\\Services\\{name}\\DeleteFlag"),
                ),
            ],
        ));
        for k in 0..3 {
            events.push(event(
                4624,
                t + 2_000 + k,
                host,
                channel::SECURITY,
                security,
                vec![
                    ("TargetLogonId", format!("{:#x}", 0x900000 + i * 3 + k)),
                    ("LogonType", "2".into()),
                ],
            ));
        }
    }
    events.sort_by_key(|e| e.time);
    events
}

#[divan::bench(sample_count = 3)]
fn hunt_a_million_events(bencher: divan::Bencher) {
    let events = million();
    let engine = Engine::default();
    bencher
        .with_inputs(|| events.clone())
        .bench_local_values(|events| match engine.hunt_events(events).answer {
            Answer::Lifecycle(report) => report.findings.len(),
            Answer::Kql(rows) => rows.len(),
        });
}
