//! The default semantics: every lifecycle rule pinned with synthetic events.

use crate::common;

use common::*;
use svchunt::lifecycle::Role;
use svchunt::{Event, Finding, Verdict};

const SID: &str = "S-1-5-21-1-2-3-1104";
const ACCOUNT: &str = "THESHIRE\\pgustavo";
const ALL_ACCESS: &str = "%%1537\r\n\t%%1538\r\n\t%%1539\r\n\t%%7184\r\n\t%%7188";
const HOST: &str = "WKS6.theshire.local";

fn correlate(events: Vec<Event>) -> Vec<Finding> {
    hunt(events).findings
}

fn only(events: Vec<Event>) -> Finding {
    let mut f = correlate(events);
    assert_eq!(f.len(), 1, "{f:#?}");
    f.remove(0)
}

fn roles(f: &Finding) -> Vec<Role> {
    f.evidence.iter().map(|e| e.role).collect()
}

/// PsExec as it really logs: 7045 names the display name, 4697 the key, services.exe's 4674
/// opens the new service with all access at creation.
fn psexec_creation(at: &str) -> Vec<Event> {
    vec![
        s4624(
            "2024-03-01T10:00:00.000Z",
            HOST,
            SID,
            ACCOUNT,
            "0x2990d17",
            "3",
            "172.18.39.5",
        ),
        s4697(
            at,
            HOST,
            SID,
            ACCOUNT,
            "0x2990d17",
            "PSEXESVC",
            "%SystemRoot%\\PSEXESVC.exe",
        ),
        s7045(at, HOST, SID, "PsExec", "%SystemRoot%\\PSEXESVC.exe"),
        s4674(at, HOST, SID, ACCOUNT, "0x2990d17", "PSEXESVC", ALL_ACCESS),
    ]
}

#[test]
fn a_7045_and_its_4697_are_one_creation_with_both_names() {
    let f = only(psexec_creation("2024-03-01T10:00:01.000Z"));
    assert_eq!(f.service_name, "PSEXESVC");
    assert_eq!(f.display_name.as_deref(), Some("PsExec"));
    assert_eq!(f.user.name.as_deref(), Some(ACCOUNT));
    assert_eq!(f.user.sid.as_deref(), Some(SID));
}

#[test]
fn the_4674_at_creation_is_labelled_and_is_not_a_removal() {
    let f = only(psexec_creation("2024-03-01T10:00:01.000Z"));
    assert!(roles(&f).contains(&Role::DeleteCapableOpenAtCreation));
    assert_eq!(f.deleted, None);
    assert_eq!(f.deletion_evidence, None);
}

#[test]
fn sysmon_delete_flag_dates_the_removal() {
    let mut ev = psexec_creation("2024-03-01T10:00:01.000Z");
    ev.push(s7036("2024-03-01T10:00:01.100Z", HOST, "PsExec", "running"));
    ev.push(s7036("2024-03-01T10:00:01.300Z", HOST, "PsExec", "stopped"));
    ev.push(sysmon_registry(
        13,
        "2024-03-01T10:00:01.330Z",
        HOST,
        "SetValue",
        "HKLM\\System\\CurrentControlSet\\Services\\PSEXESVC\\DeleteFlag",
    ));
    let f = only(ev);
    assert_eq!(
        f.deletion_evidence,
        Some(Role::DeleteFlagSet),
        "registry beats the stop"
    );
    assert_eq!(f.lifetime_ms, Some(330));
    assert_eq!(f.deleted, Some(t("2024-03-01T10:00:01.330Z")));
}

#[test]
fn a_removal_logged_before_the_creation_within_the_tolerance_is_kept() {
    let mut ev = psexec_creation("2024-03-01T10:00:01.000Z");
    ev.push(sysmon_registry(
        12,
        "2024-03-01T10:00:00.920Z",
        HOST,
        "DeleteKey",
        "HKLM\\System\\CurrentControlSet\\Services\\PSEXESVC",
    ));
    let f = only(ev);
    assert_eq!(f.deletion_evidence, Some(Role::KeyDeleted));
    assert_eq!(f.lifetime_ms, Some(-80));
}

#[test]
fn impacket_removal_at_shell_exit_is_a_later_delete_capable_open_then_silence() {
    let at = "2024-03-01T10:00:01.000Z";
    let ev = vec![
        s4624(
            "2024-03-01T10:00:00.5Z",
            HOST,
            SID,
            ACCOUNT,
            "0x77",
            "3",
            "10.0.0.5",
        ),
        s4697(
            at,
            HOST,
            SID,
            ACCOUNT,
            "0x77",
            "kNbC",
            "%systemroot%\\qwErTyui.exe",
        ),
        s7045(at, HOST, SID, "kNbC", "%systemroot%\\qwErTyui.exe"),
        s4674(at, HOST, SID, ACCOUNT, "0x77", "kNbC", ALL_ACCESS),
        s7036("2024-03-01T10:00:01.2Z", HOST, "kNbC", "running"),
        s4674(
            "2024-03-01T13:12:00Z",
            HOST,
            SID,
            ACCOUNT,
            "0x77",
            "kNbC",
            ALL_ACCESS,
        ),
    ];
    let f = only(ev);
    assert_eq!(f.deletion_evidence, Some(Role::DeleteCapableOpenLater));
    assert_eq!(f.deleted, Some(t("2024-03-01T13:12:00Z")));
    assert_eq!(f.verdict, Verdict::RemoteExecution);
    assert!(f.verdict_reasons.iter().any(|r| r.contains("looks random")));
}

#[test]
fn a_service_recreated_under_the_same_name_gets_its_own_evidence() {
    let mut ev = vec![
        s7045(
            "2024-03-01T10:00:00Z",
            HOST,
            SID,
            "PsExec",
            "%SystemRoot%\\PSEXESVC.EXE",
        ),
        s7036("2024-03-01T10:00:00.1Z", HOST, "PsExec", "running"),
        s7036("2024-03-01T10:05:00Z", HOST, "PsExec", "stopped"),
    ];
    ev.extend([
        s7045(
            "2024-03-01T11:00:00Z",
            HOST,
            SID,
            "PsExec",
            "%SystemRoot%\\PSEXESVC.EXE",
        ),
        s7036("2024-03-01T11:00:00.1Z", HOST, "PsExec", "running"),
        s7036("2024-03-01T11:00:02Z", HOST, "PsExec", "stopped"),
    ]);
    let f = correlate(ev);
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].lifetime_ms, Some(300_000));
    assert_eq!(f[1].lifetime_ms, Some(2_000));
    assert!(f.iter().all(|f| f.evidence.len() == 3));
}

#[test]
fn a_system_log_stop_never_belongs_to_a_later_7045() {
    // Two PsExec sessions 270 ms apart: the first one's stop lands between them.
    let ev = vec![
        s7045(
            "2024-03-01T10:00:00.000Z",
            HOST,
            SID,
            "PsExec",
            "%SystemRoot%\\PSEXESVC.EXE",
        ),
        s7036("2024-03-01T10:00:00.100Z", HOST, "PsExec", "running"),
        s7036("2024-03-01T10:00:00.200Z", HOST, "PsExec", "stopped"),
        s7045(
            "2024-03-01T10:00:00.270Z",
            HOST,
            SID,
            "PsExec",
            "%SystemRoot%\\PSEXESVC.EXE",
        ),
    ];
    let f = correlate(ev);
    assert_eq!(f[0].lifetime_ms, Some(200));
    assert_eq!(f[1].deleted, None);
}

#[test]
fn evidence_after_the_window_is_not_attached() {
    let mut ev = psexec_creation("2024-03-01T10:00:01.000Z");
    ev.push(s7036("2024-03-02T10:00:02Z", HOST, "PsExec", "stopped"));
    let f = only(ev);
    assert!(!roles(&f).contains(&Role::Stopped));
}

#[test]
fn the_network_logon_behind_the_install_gives_the_source() {
    let f = only(psexec_creation("2024-03-01T10:00:01.000Z"));
    let src = f.source.clone().expect("source");
    assert_eq!(src.ip.as_deref(), Some("172.18.39.5"));
    assert_eq!(src.logon_type, Some(3));
    assert_eq!(src.logon_id.as_deref(), Some("0x2990d17"));
    assert_eq!(f.verdict, Verdict::RemoteExecution);
    assert!(roles(&f).contains(&Role::Logon));
}

#[test]
fn an_interactive_logon_behind_the_install_is_local_execution() {
    let at = "2024-03-01T10:00:01.000Z";
    let f = only(vec![
        s4624(
            "2024-03-01T09:00:00Z",
            HOST,
            SID,
            ACCOUNT,
            "0xc61d9",
            "2",
            "127.0.0.1",
        ),
        s4697(
            at,
            HOST,
            SID,
            ACCOUNT,
            "0xc61d9",
            "PSEXESVC",
            "%SystemRoot%\\PSEXESVC.exe",
        ),
        sysmon_registry(
            12,
            "2024-03-01T10:00:01.330Z",
            HOST,
            "DeleteKey",
            "HKLM\\System\\CurrentControlSet\\Services\\PSEXESVC",
        ),
    ]);
    assert_eq!(
        f.verdict,
        Verdict::LocalExecution,
        "{:?}",
        f.verdict_reasons
    );
}

#[test]
fn a_smbexec_command_with_a_start_timeout_is_execution() {
    let at = "2024-03-01T10:00:01.000Z";
    let image =
        "%COMSPEC% /Q /c echo whoami ^> \\\\127.0.0.1\\C$\\__output 2^>^&1 > %SYSTEMROOT%\\x.bat";
    let f = only(vec![
        s7045(at, HOST, SID, "WxYzAbCd", image),
        s7009("2024-03-01T10:00:31.000Z", HOST, "WxYzAbCd"),
    ]);
    assert_eq!(f.verdict, Verdict::RemoteExecution);
    assert!(roles(&f).contains(&Role::StartTimeout));
    assert!(f.verdict_reasons.iter().any(|r| r.contains("command line")));
}

#[test]
fn getsystem_is_privilege_escalation() {
    let f = only(vec![s7045(
        "2024-03-01T10:00:00Z",
        HOST,
        "S-1-5-18",
        "abcdef",
        "cmd.exe /c echo abcdef > \\\\.\\pipe\\abcdef",
    )]);
    assert_eq!(f.verdict, Verdict::PrivilegeEscalation);
}

#[test]
fn drivers_updaters_and_per_user_services_are_benign() {
    let mut driver = s7045(
        "2024-03-01T10:00:00Z",
        HOST,
        "S-1-5-18",
        "VMware Pointing Device",
        "\\SystemRoot\\System32\\drivers\\vmmouse.sys",
    );
    driver.data[2].1 = "kernel mode driver".into();
    let mut updater = s7045(
        "2024-03-01T10:00:01Z",
        HOST,
        "S-1-5-18",
        "Google Update Service (gupdate)",
        "\"C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe\" /svc",
    );
    updater.data[3].1 = "auto start".into();
    let per_user = s4697(
        "2024-03-01T10:00:02Z",
        HOST,
        "S-1-5-18",
        "WORKGROUP\\WKS6$",
        "0x3e7",
        "CDPUserSvc_b0b5d",
        "C:\\Windows\\system32\\svchost.exe -k UnistackSvcGroup",
    );
    let f = correlate(vec![driver, updater, per_user]);
    assert_eq!(f.len(), 3);
    for finding in &f {
        assert_eq!(finding.verdict, Verdict::Benign, "{finding:#?}");
        assert!(!finding.verdict_reasons.is_empty());
    }
}

#[test]
fn coverage_says_what_each_host_could_show() {
    let report = hunt(vec![s7045(
        "2024-03-01T10:00:00Z",
        "ONLYSYSTEM",
        SID,
        "x",
        "x.exe",
    )]);
    let c = &report.coverage[0];
    assert!(c.system_log && c.installs_7045);
    assert!(!c.security_log && !c.sysmon && !c.installs_4697);
    assert!(c.gaps().contains(&"no Security log"));
}
