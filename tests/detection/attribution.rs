//! Attribution: each tool fingerprint pinned with a faithful synthetic install (the shared
//! corpus covers PsExec, Impacket smbexec and Empire; the rest follow the tools' source).

use crate::common;

use common::*;
use svchunt::{AllowList, Event, Finding, LifecycleOptions, Report, Verdict};

const SID: &str = "S-1-5-21-1-2-3-500";
const ACCOUNT: &str = "CORP\\admin";
const HOST: &str = "TARGET01.corp.local";
const AT: &str = "2024-05-01T08:00:00.000Z";

fn report(events: Vec<Event>) -> Report {
    hunt(events)
}

fn one(events: Vec<Event>) -> Finding {
    let mut r = report(events);
    assert_eq!(r.findings.len(), 1, "{:#?}", r.findings);
    r.findings.remove(0)
}

/// A 7045 + 4697 pair with a display name, as the SCM logs them.
fn install(name: &str, display: &str, image: &str) -> Vec<Event> {
    vec![
        s4624(
            "2024-05-01T07:59:59.000Z",
            HOST,
            SID,
            ACCOUNT,
            "0xabc",
            "3",
            "10.1.1.9",
        ),
        s4697(AT, HOST, SID, ACCOUNT, "0xabc", name, image),
        s7045(AT, HOST, SID, display, image),
    ]
}

/// A 5145 on IPC$ for a pipe, from the client.
fn pipe(time: &str, name: &str) -> Event {
    let mut e = s4624(time, HOST, SID, ACCOUNT, "0xabc", "3", "10.1.1.9");
    e.event_id = 5145;
    e.data = vec![
        ("SubjectUserSid".into(), SID.into()),
        ("SubjectLogonId".into(), "0xabc".into()),
        ("IpAddress".into(), "10.1.1.9".into()),
        ("ShareName".into(), "\\\\*\\IPC$".into()),
        ("RelativeTargetName".into(), name.into()),
        ("AccessList".into(), "%%1538 %%4416".into()),
    ];
    e
}

fn tool(f: &Finding) -> &str {
    f.tool.as_str()
}

#[test]
fn sysinternals_psexec_and_its_client_host() {
    let mut ev = install("PSEXESVC", "PSEXESVC", "%SystemRoot%\\PSEXESVC.exe");
    ev.push(pipe(
        "2024-05-01T08:00:00.200Z",
        "PSEXESVC-ADMINPC-4242-stdin",
    ));
    let f = one(ev);
    assert_eq!(tool(&f), "psexec");
    assert_eq!(f.tool_confidence, Some(svchunt::Confidence::High));
    let src = f.source.unwrap();
    assert_eq!(src.client_host.as_deref(), Some("ADMINPC"));
    assert_eq!(src.ip.as_deref(), Some("10.1.1.9"));
}

#[test]
fn renamed_psexec_is_still_psexec() {
    let mut ev = install("svcupd", "svcupd", "%SystemRoot%\\svcupd.exe");
    ev.push(pipe(
        "2024-05-01T08:00:00.200Z",
        "svcupd-ADMINPC-4242-stdin",
    ));
    ev.push(pipe(
        "2024-05-01T08:00:00.210Z",
        "svcupd-ADMINPC-4242-stdout",
    ));
    let f = one(ev);
    assert_eq!(tool(&f), "psexec", "{:?}", f.tool_reasons);
    assert!(f.tool_reasons.iter().any(|r| r.contains("renamed with -r")));
}

#[test]
fn impacket_psexec_with_remcom_pipes_and_removal_at_exit() {
    let image = "%systemroot%\\XzQwErTy.exe";
    let mut ev = install("kNbC", "kNbC", image);
    ev.push(pipe("2024-05-01T08:00:01Z", "RemCom_communicaton"));
    ev.push(s4674(
        "2024-05-01T09:30:00Z",
        HOST,
        SID,
        ACCOUNT,
        "0xabc",
        "kNbC",
        "%%1537 %%1538",
    ));
    let f = one(ev);
    assert_eq!(tool(&f), "impacket-psexec", "{:?}", f.tool_reasons);
    assert_eq!(f.tool_confidence, Some(svchunt::Confidence::High));
}

#[test]
fn smbexec_flavours_are_told_apart() {
    let old = "%COMSPEC% /Q /c echo cd  ^> \\\\127.0.0.1\\C$\\__output 2^>^&1 > %TEMP%\\execute.bat & %COMSPEC% /Q /c %TEMP%\\execute.bat & del %TEMP%\\execute.bat";
    let new = "%COMSPEC% /Q /c echo whoami ^> \\\\%COMPUTERNAME%\\C$\\__output 2^>^&1 > %SYSTEMROOT%\\TQtkUbvS.bat & %COMSPEC% /Q /c %SYSTEMROOT%\\TQtkUbvS.bat & del %SYSTEMROOT%\\TQtkUbvS.bat";
    let nxc = "%COMSPEC% /Q /c echo whoami ^> \\\\%COMPUTERNAME%\\C$\\aBcDeF 2^>^&1 > %TEMP%\\gHiJkL.bat & %COMSPEC% /Q /c %TEMP%\\gHiJkL.bat & %COMSPEC% /Q /c del %TEMP%\\gHiJkL.bat";
    let f = one(install("BTOBTO", "BTOBTO", old));
    assert_eq!(tool(&f), "impacket-smbexec");
    assert_eq!(f.command.as_deref(), Some("echoed command: cd"));
    let f = one(install("QmWnEbRv", "QmWnEbRv", new));
    assert_eq!(tool(&f), "impacket-smbexec");
    assert_eq!(f.command.as_deref(), Some("echoed command: whoami"));
    let f = one(install("aBcDeFgHiJ", "aBcDeFgHiJ", nxc));
    assert_eq!(tool(&f), "netexec-smbexec", "{:?}", f.tool_reasons);
}

#[test]
fn metasploit_and_cobalt_strike() {
    let f = one(install(
        "wKpAxLqB",
        "AbCdEfGhIjKlMnOp",
        "%SYSTEMROOT%\\ZxCvBnMa.exe",
    ));
    assert_eq!(tool(&f), "metasploit-psexec", "{:?}", f.tool_reasons);
    let f = one(install(
        "a1b2c3d",
        "a1b2c3d",
        "\\\\127.0.0.1\\ADMIN$\\a1b2c3d.exe",
    ));
    assert_eq!(tool(&f), "cobaltstrike-psexec");
    let cs_psh =
        "%COMSPEC% /b /c start /b /min powershell -nop -w hidden -encodedcommand dwBoAG8AYQBtAGkA";
    let f = one(install("x1y2z3w", "x1y2z3w", cs_psh));
    assert_eq!(tool(&f), "cobaltstrike-psexec-psh");
    assert_eq!(
        f.command.as_deref(),
        Some("powershell -enc (decoded): whoami")
    );
    let msf_psh = "%COMSPEC% /b /c start /b /min powershell.exe -nop -w hidden -noni -c \"if([IntPtr]::Size -eq 4){$b='powershell.exe'}\"";
    let f = one(install("QwErTyUi", "QwErTyUi", msf_psh));
    assert_eq!(tool(&f), "metasploit-psexec-psh");
}

#[test]
fn fixed_name_tools() {
    for (name, image, want) in [
        (
            "PAExec-4242-ADMINPC",
            "C:\\WINDOWS\\PAExec-4242-ADMINPC.exe",
            "paexec",
        ),
        ("RemComSvc", "%SystemRoot%\\RemComSvc.exe", "remcom"),
        ("csexecsvc", "%SystemRoot%\\csexecsvc.exe", "csexec"),
        ("winexesvc", "winexesvc.exe", "winexe"),
    ] {
        let f = one(install(name, name, image));
        assert_eq!(tool(&f), want, "{name}: {:?}", f.tool_reasons);
        assert!(!f.tool_reasons.is_empty());
    }
}

#[test]
fn getsystem_is_its_own_tool() {
    let f = one(vec![s7045(
        AT,
        HOST,
        "S-1-5-18",
        "abcdefg",
        "cmd.exe /c echo abcdefg > \\\\.\\pipe\\abcdefg",
    )]);
    assert_eq!(f.verdict, Verdict::PrivilegeEscalation);
    assert_eq!(tool(&f), "getsystem");
}

#[test]
fn a_burst_is_one_campaign_and_its_names_carry_the_payload() {
    // "hello world, this is a smuggled script" split into base64 chunks across services.
    let b64 = "aGVsbG8gd29ybGQsIHRoaXMgaXMgYSBzbXVnZ2xlZCBzY3JpcHQ=";
    let chunks: Vec<&str> = b64
        .as_bytes()
        .chunks(12)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let mut ev = Vec::new();
    // Created out of order: the segment number in the command says where each chunk goes.
    for (i, chunk) in chunks.iter().enumerate().rev() {
        let time = format!("2024-05-01T08:00:{:02}.000Z", 10 + (chunks.len() - i));
        let image = format!(
            "cmd.exe /c powershell -command \"Get-Service \"seg{}\" | select -Expand DisplayName\"",
            i + 1
        );
        ev.push(s7045(&time, HOST, SID, chunk, &image));
    }
    let r = report(ev);
    assert_eq!(r.campaigns.len(), 1);
    let c = &r.campaigns[0];
    assert_eq!(c.size, chunks.len());
    assert_eq!(
        c.payload.as_deref(),
        Some("hello world, this is a smuggled script")
    );
    assert!(
        r.findings
            .iter()
            .all(|f| f.campaign.as_deref() == Some(c.id.as_str()))
    );
}

#[test]
fn the_allow_list_silences_matching_findings_with_its_reason() {
    let allow = AllowList::parse(
        "site.allow",
        "# admin jump host\nsource_ip=10.1.1.*; tool=psexec\n",
    )
    .unwrap();
    let options = LifecycleOptions::default()
        .include_benign(true)
        .allow(allow.clone());
    let r = hunt_with(
        options,
        install("PSEXESVC", "PSEXESVC", "%SystemRoot%\\PSEXESVC.exe"),
    );
    assert_eq!(r.findings[0].verdict, Verdict::Benign);
    assert_eq!(
        r.findings[0].verdict_reasons,
        ["allow-listed by site.allow:2"]
    );
}

#[test]
fn benign_installs_get_no_tool() {
    let mut e = s7045(
        AT,
        HOST,
        "S-1-5-18",
        "VMware Tools",
        "\"C:\\Program Files\\VMware\\VMware Tools\\vmtoolsd.exe\"",
    );
    e.data[3].1 = "auto start".into();
    let f = one(vec![e]);
    assert_eq!(f.verdict, Verdict::Benign);
    assert_eq!(tool(&f), "unknown");
}

/// Seven tchopper-style services in one burst, two of them allow-listed: the campaign counts
/// the five reported (before the engine assembled the report from values, the allow-list ran
/// after grouping and the table said 7).
#[test]
fn a_campaign_counts_only_the_findings_reported() {
    let ev: Vec<Event> = (0..7)
        .map(|i| {
            let time = format!("2024-05-01T08:00:{:02}.000Z", 10 + i);
            let image = format!(
                "cmd.exe /c powershell -command \"Get-Service \"seg{i}\" | select -Expand DisplayName\""
            );
            s7045(&time, HOST, SID, &format!("Q2h1bmt{i}"), &image)
        })
        .collect();
    let allow = AllowList::parse(
        "site.allow",
        "service_name=Q2h1bmt5\nservice_name=Q2h1bmt6\n",
    )
    .unwrap();
    let r = hunt_with(LifecycleOptions::default().allow(allow.clone()), ev.clone());
    assert_eq!(
        r.findings.len(),
        5,
        "allow-listed findings are benign, not reported"
    );
    assert_eq!(r.campaigns.len(), 1);
    assert_eq!(r.campaigns[0].size, 5);
    assert!(r.findings.iter().all(|f| f.campaign.is_some()));

    let everything = hunt_with(
        LifecycleOptions::default()
            .include_benign(true)
            .allow(allow),
        ev,
    );
    assert_eq!(everything.findings.len(), 7);
    let benign = everything
        .findings
        .iter()
        .filter(|f| f.verdict == Verdict::Benign)
        .count();
    assert_eq!(benign, 2);
}
