//! Shared by the round-trip tests: one record of every event type the generator writes, and
//! the JSON the `evtx` crate renders for each value type.

#![allow(dead_code)]

use evtx_writer::scenario::events::{Account, Event, HostEvents, Pids, ServiceSpec};
use evtx_writer::{DataValue, Guid, Record};
use jiff::Timestamp;
use serde_json::{Value, json};

/// Every event type, on two hosts (so two System templates per chunk), `n` times over with
/// varying values, as records with increasing ids.
pub fn sample_records(n: usize) -> Vec<Record> {
    let hosts = [
        HostEvents {
            computer: "WKS01.corp.example".into(),
            pids: Pids {
                services: 668,
                lsass: 680,
                system: 4,
                sysmon: 2412,
            },
        },
        HostEvents {
            computer: "srv-file02.corp.example".into(),
            pids: Pids {
                services: 612,
                lsass: 624,
                system: 4,
                sysmon: 1980,
            },
        },
    ];
    let mut events: Vec<Event> = Vec::new();
    let base: Timestamp = "2024-05-01T08:00:00.1234567Z".parse().unwrap();
    for i in 0..n {
        let h = &hosts[i % 2];
        let t = |ms: i64| base + jiff::SignedDuration::from_millis(i as i64 * 1000 + ms);
        let admin = Account {
            sid: "S-1-5-21-1004336348-1177238915-682003330-1104".into(),
            name: format!("admin{i}"),
            domain: "CORP".into(),
            logon_id: 0x1375fbd + i as u64,
        };
        let svc = ServiceSpec {
            name: format!("SVC{i}ÄÖ"),
            display: format!("Service number {i}"),
            image: format!(r"%SystemRoot%\svc{i}.exe"),
            service_type: 0x10,
            start_type: 3,
            account: if i % 3 == 0 {
                String::new()
            } else {
                "LocalSystem".into()
            },
        };
        let g = Guid::parse("{ac061c88-4864-652f-9200-000000000200}").unwrap();
        events.push(h.logon(
            t(0),
            &admin,
            3,
            "NTLM",
            "ATTACKER",
            "10.0.0.5",
            50123,
            g,
            900,
        ));
        events.push(h.share_access(t(1), &admin, "10.0.0.5", 50123, "ADMIN$", 4));
        events.push(h.share_check(
            t(2),
            &admin,
            "10.0.0.5",
            50123,
            "IPC$",
            "svcctl",
            i % 2 == 0,
            4,
        ));
        events.push(h.svc_installed_audit(t(3), &svc, &admin, 700));
        events.push(h.svc_installed(t(3), &svc, &admin.sid, 1712));
        events.push(h.scm_privileged_op(
            t(4),
            &admin,
            "SERVICE OBJECT",
            &svc.name,
            &[1537, 1538, 1539, 7184],
            0xffff8000ef4fe9f8,
            700,
        ));
        events.push(h.svc_state(t(5), &svc.display, "running", 1712));
        events.push(h.svc_timeout(t(6), &svc.name, 1712));
        events.push(h.svc_failed(t(6), &svc.display, 1712));
        events.push(h.svc_start_changed(
            t(7),
            "Background Intelligent Transfer Service",
            "auto start",
            "demand start",
            "BITS",
            "S-1-5-18",
            1712,
        ));
        events.push(h.process(
            t(8),
            &admin,
            0xc24,
            r"C:\Windows\svc.exe",
            r"C:\Windows\svc.exe -x",
            0x238,
            r"C:\Windows\System32\services.exe",
            800,
        ));
        events.push(h.special_logon(t(9), &admin, 800));
        events.push(h.logoff(t(10), &admin, 3, 800));
        events.push(h.sysmon_process(
            t(11),
            g,
            3108,
            r"C:\Windows\svc.exe",
            "svc.exe",
            r"NT AUTHORITY\SYSTEM",
            g,
            668,
            r"C:\Windows\System32\services.exe",
            3000,
        ));
        events.push(h.sysmon_reg_value(
            t(12),
            &format!(
                r"HKLM\System\CurrentControlSet\Services\{}\DeleteFlag",
                svc.name
            ),
            "DWORD (0x00000001)",
            g,
            3000,
        ));
        events.push(h.sysmon_reg_key(
            t(13),
            "DeleteKey",
            &format!(r"HKLM\System\CurrentControlSet\Services\{}", svc.name),
            g,
            3000,
        ));
    }
    let mut extra = events[0].clone();
    extra.data = vec![
        ("Flag".into(), DataValue::Bool(true)),
        (
            "Blob".into(),
            DataValue::Binary(vec![0xde, 0xad, 0xbe, 0xef]),
        ),
        ("Big".into(), DataValue::UInt64(u64::MAX)),
        ("Small".into(), DataValue::UInt8(7)),
        ("Word".into(), DataValue::UInt16(65535)),
        (
            "When".into(),
            DataValue::FileTime("2023-01-02T03:04:05.5Z".parse().unwrap()),
        ),
        ("Empty".into(), DataValue::str("")),
    ];
    events.push(extra);
    events
        .into_iter()
        .enumerate()
        .map(|(i, e)| Record {
            record_id: 1000 + i as u64,
            time: e.time,
            system: e.system,
            event_data: e.data,
        })
        .collect()
}

/// The JSON value the `evtx` crate renders for `v`.
pub fn expected_json(v: &DataValue) -> Value {
    match v {
        DataValue::String(s) | DataValue::AnsiString(s) => json!(s),
        DataValue::UInt8(x) => json!(x),
        DataValue::UInt16(x) => json!(x),
        DataValue::UInt32(x) => json!(x),
        DataValue::UInt64(x) => json!(x),
        DataValue::Bool(b) => json!(b),
        DataValue::Binary(b) => json!(b.iter().map(|x| format!("{x:02X}")).collect::<String>()),
        DataValue::Guid(g) => json!(g.to_string()),
        DataValue::SizeT(x) | DataValue::HexInt64(x) => json!(format!("0x{x:x}")),
        DataValue::HexInt32(x) => json!(format!("0x{x:x}")),
        DataValue::FileTime(t) => json!(rfc3339_7(*t)),
        DataValue::Sid(s) => json!(s.to_string()),
        // Its element repeated once per string; the crate gathers the copies' values.
        DataValue::StringArray(items) => match items.as_slice() {
            [] => json!(""),
            [one] => json!(one),
            _ => json!(items),
        },
    }
}

/// `2024-05-01T08:00:00.1234567Z`: the evtx crate's 7-digit time format.
pub fn rfc3339_7(t: Timestamp) -> String {
    let ticks = t.as_nanosecond().div_euclid(100);
    let secs = ticks.div_euclid(10_000_000);
    let frac = ticks.rem_euclid(10_000_000);
    let whole = Timestamp::from_second(secs as i64).unwrap();
    format!("{}.{frac:07}Z", whole.strftime("%Y-%m-%dT%H:%M:%S"))
}
