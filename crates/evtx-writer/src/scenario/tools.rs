//! The remote-service-execution tool families and the events one execution of each leaves on
//! its target, in order and with each tool's real timings (see
//! `/work/shared/reference/fingerprints.md` and `/work/shared/corpus/EXPECTED.md`):
//!
//! 4624 (type 3) + 4672 → 5140 IPC$ (and ADMIN$/C$) → 5145 uploads and pipes → 4697 + 7045
//! (System `UserID` = the caller) → 4674 from services.exe on the SERVICE OBJECT with DELETE
//! in the mask, logged at *creation* → 7036 running (or, for a command line that is no
//! service, 7009 time-out + 7000) → removal: Sysmon 13 `DeleteFlag` and 12 `DeleteKey` on
//! `HKLM\System\CurrentControlSet\Services\<name>`, 7036 stopped, 4634.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::events::{Account, Event, HostEvents, ServiceSpec};
use super::rng::Rng;
use crate::record::Guid;

/// Tool family ids, in the order `--executions` cycles through them.
pub const TOOLS: [&str; 14] = [
    "psexec",
    "paexec",
    "remcom",
    "csexec",
    "impacket-psexec",
    "impacket-smbexec",
    "impacket-services",
    "metasploit-psexec",
    "metasploit-psexec-psh",
    "cobaltstrike-psexec",
    "cobaltstrike-psexec-psh",
    "netexec-smbexec",
    "winexe",
    "getsystem",
];

/// One injected execution, as `truth.json` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Truth {
    /// `Computer` of the target (FQDN).
    pub host: String,
    /// Service key name.
    pub service_name: String,
    /// Display name (what 7036 shows).
    pub display_name: String,
    /// ImagePath / ServiceFileName.
    pub image_path: String,
    /// Tool family id (one of [`TOOLS`]).
    pub tool: String,
    /// Variant within the family (`renamed (-r)` for PsExec with `-r`), if any.
    pub variant: Option<String>,
    /// 7045 time, RFC 3339 UTC (the 4697 is logged up to 0.6 ms earlier).
    pub created: String,
    /// When the service's key was removed (Sysmon 12 `DeleteKey`), or none if it stays.
    pub deleted: Option<String>,
    /// When its deletion was requested (Sysmon 13 `DeleteFlag`), or none.
    pub delete_flagged: Option<String>,
    /// Source IP of the network logon; none for a local `getsystem`.
    pub source_ip: Option<String>,
    /// The source host, even where the logs show it only in pipe names.
    pub source_workstation: Option<String>,
    /// `DOMAIN\user` of the caller.
    pub account: String,
    /// The caller's SID (7045 `UserID`).
    pub account_sid: String,
    /// The 4624 `TargetLogonId` the Security events share (hex), if a network logon.
    pub logon_id: Option<String>,
}

/// Where an execution comes from.
#[derive(Debug, Clone)]
pub struct Source {
    /// IP address.
    pub ip: String,
    /// Host name.
    pub workstation: String,
    /// The account used (its `logon_id` is replaced per execution).
    pub account: Account,
}

/// The target host.
#[derive(Debug, Clone)]
pub struct Target {
    /// Event builders (computer, pids).
    pub events: HostEvents,
    /// Host name (first FQDN label, upper case).
    pub netbios: String,
    /// A local administrator logged on interactively (for `getsystem`).
    pub local_user: Account,
}

fn ms(n: i64) -> SignedDuration {
    SignedDuration::from_millis(n)
}

fn us(n: i64) -> SignedDuration {
    SignedDuration::from_micros(n)
}

/// RFC 3339 UTC with 7 fractional digits, as svchunt prints times.
pub fn rfc3339(t: Timestamp) -> String {
    let ticks = t.as_nanosecond().div_euclid(100);
    let secs = ticks.div_euclid(10_000_000) as i64;
    let frac = ticks.rem_euclid(10_000_000);
    let whole = Timestamp::from_second(secs).expect("in range");
    format!("{}.{frac:07}Z", whole.strftime("%Y-%m-%dT%H:%M:%S"))
}

/// How the service ends.
enum Removal {
    /// The client stops and deletes it when its session ends, after this long.
    OnExit(SignedDuration),
    /// Deleted right after StartService returns (this long after the start).
    Immediate(SignedDuration),
    /// Left installed.
    Never,
}

/// What a tool does, drawn for one execution.
struct Plan {
    svc: ServiceSpec,
    variant: Option<String>,
    /// A real service binary (7036 running) rather than a command line (7009 time-out).
    is_service: bool,
    /// Files written to a share before the install: (share, file).
    uploads: Vec<(&'static str, String)>,
    /// Pipes opened on IPC$ after the start.
    pipes: Vec<String>,
    /// Files read back from a share after the start (smbexec output).
    reads: Vec<(&'static str, String)>,
    removal: Removal,
    /// 4674 logged this long before the 7045 (PsExec) rather than just after the 4697.
    delete_open_before: Option<SignedDuration>,
    /// Network logon (false: `getsystem`, run from a local session).
    remote: bool,
    /// NTLM from a Linux tool rather than Kerberos from Windows.
    ntlm: bool,
}

fn own(name: &str, display: &str, image: String, start: u32) -> ServiceSpec {
    ServiceSpec {
        name: name.into(),
        display: display.into(),
        image,
        service_type: 0x10,
        start_type: start,
        account: "LocalSystem".into(),
    }
}

fn plan(tool: &str, t: &Target, src: &Source, rng: &mut Rng) -> Plan {
    let pid = rng.range(1200, 9800);
    let srch = src.workstation.to_uppercase();
    let minutes = |rng: &mut Rng, lo: i64, hi: i64| ms(rng.range(lo * 60_000, hi * 60_000));
    let mut p = Plan {
        svc: own("", "", String::new(), 3),
        variant: None,
        is_service: true,
        uploads: vec![],
        pipes: vec!["svcctl".into()],
        reads: vec![],
        removal: Removal::Never,
        delete_open_before: None,
        remote: true,
        ntlm: false,
    };
    match tool {
        "psexec" => {
            let name = if rng.chance(0.3) {
                p.variant = Some("renamed (-r)".into());
                rng.pick(&["svcmgmt", "WinSysHelper", "updsvc", "MSDTCHelper"])
                    .to_string()
            } else {
                "PSEXESVC".to_string()
            };
            p.svc = own(&name, &name, format!(r"%SystemRoot%\{name}.exe"), 3);
            p.uploads.push(("ADMIN$", format!("{name}.exe")));
            p.pipes.push(name.clone());
            for s in ["stdin", "stdout", "stderr"] {
                p.pipes.push(format!("{name}-{srch}-{pid}-{s}"));
            }
            p.removal = Removal::OnExit(minutes(rng, 1, 25));
            p.delete_open_before = Some(us(rng.range(1500, 4500)));
        }
        "paexec" => {
            let name = format!("PAExec-{pid}-{srch}");
            p.svc = own(&name, &name, format!(r"C:\WINDOWS\{name}.exe"), 3);
            p.uploads.push(("ADMIN$", format!("{name}.exe")));
            for s in ["In", "Out", "Err"] {
                p.pipes.push(format!("PAExec{s}-{srch}-{pid}"));
            }
            p.removal = Removal::OnExit(minutes(rng, 1, 30));
        }
        "remcom" => {
            p.svc = own(
                "RemComSvc",
                "Remote Command Executor",
                r"%SystemRoot%\RemComSvc.exe".into(),
                3,
            );
            p.uploads.push(("ADMIN$", "RemComSvc.exe".into()));
            p.pipes.push("RemCom_communicaton".into());
            for s in ["stdin", "stdout", "stderr"] {
                p.pipes.push(format!("RemCom_{s}{srch}{pid}"));
            }
            p.removal = Removal::OnExit(minutes(rng, 1, 20));
        }
        "csexec" => {
            p.svc = own(
                "csexecsvc",
                "csexecsvc",
                r"%SystemRoot%\csexecsvc.exe".into(),
                3,
            );
            p.uploads.push(("ADMIN$", "csexecsvc.exe".into()));
            p.pipes.push("csexecsvc".into());
            p.removal = Removal::OnExit(minutes(rng, 1, 15));
        }
        "impacket-psexec" => {
            let name = rng.letters(4);
            let file = rng.letters(8);
            p.svc = own(&name, &name, format!(r"%systemroot%\{file}.exe"), 3);
            p.uploads.push(("ADMIN$", format!("{file}.exe")));
            p.pipes.push("RemCom_communicaton".into());
            for s in ["stdin", "stdout", "stderr"] {
                p.pipes.push(format!("RemCom_{s}{}{pid}", rng.letters(4)));
            }
            // The shell stays open; the service goes when the operator exits, hours later.
            p.removal = Removal::OnExit(minutes(rng, 60, 7 * 60));
            p.ntlm = true;
        }
        "impacket-smbexec" => {
            let name = rng.letters(8);
            let out = rng.letters(8);
            let bat = rng.letters(8);
            let cmd = rng.pick(&[
                "whoami",
                "ipconfig /all",
                "net localgroup administrators",
                "tasklist",
                "cd",
            ]);
            let image = format!(
                r"%COMSPEC% /Q /c echo {cmd} ^> \\%COMPUTERNAME%\C$\__output_{out} 2^>^&1 > %SYSTEMROOT%\{bat}.bat & %COMSPEC% /Q /c %SYSTEMROOT%\{bat}.bat & del %SYSTEMROOT%\{bat}.bat"
            );
            p.svc = own(&name, &name, image, 3);
            p.is_service = false;
            p.reads.push(("C$", format!("__output_{out}")));
            p.removal = Removal::Immediate(ms(rng.range(30_005, 30_060)));
            p.ntlm = true;
        }
        "impacket-services" => {
            let name = rng
                .pick(&[
                    "WinUpdateHelper",
                    "AdobeFlashSvc",
                    "SysMaint",
                    "EdgeUpdater",
                ])
                .to_string();
            let image = format!(r"C:\Windows\Temp\{}.exe", rng.letters(6).to_lowercase());
            p.svc = own(&name, &name, image, 2);
            p.ntlm = true;
        }
        "metasploit-psexec" => {
            let name = rng.letters(8);
            let display = rng.letters(16);
            let file = rng.letters(8);
            p.svc = own(&name, &display, format!(r"%SYSTEMROOT%\{file}.exe"), 3);
            p.uploads.push(("ADMIN$", format!("{file}.exe")));
            p.removal = Removal::Immediate(ms(rng.range(300, 1200)));
            p.ntlm = true;
        }
        "metasploit-psexec-psh" => {
            let name = rng.letters(8);
            let display = rng.letters(16);
            let b64 = base64ish(rng, 240);
            let image = format!(
                "%COMSPEC% /b /c start /b /min powershell.exe -nop -w hidden -noni -c \"if([IntPtr]::Size -eq 4){{$b='powershell.exe'}}else{{$b=$env:windir+'\\syswow64\\WindowsPowerShell\\v1.0\\powershell.exe'}};$s=New-Object System.Diagnostics.ProcessStartInfo;$s.FileName=$b;$s.Arguments='-noni -nop -w hidden -c &([scriptblock]::create((New-Object System.IO.StreamReader(New-Object System.IO.Compression.GzipStream((New-Object System.IO.MemoryStream(,[System.Convert]::FromBase64String(''{b64}''))),[System.IO.Compression.CompressionMode]::Decompress))).ReadToEnd()))';$s.UseShellExecute=$false;$s.RedirectStandardOutput=$true;$s.WindowStyle='Hidden';$s.CreateNoWindow=$true;$p=[System.Diagnostics.Process]::Start($s);\""
            );
            p.svc = own(&name, &display, image, 3);
            p.is_service = false;
            p.removal = Removal::Immediate(ms(rng.range(30_005, 30_080)));
            p.ntlm = true;
        }
        "cobaltstrike-psexec" => {
            let name = rng.alnum(7);
            p.svc = own(&name, &name, format!(r"\\127.0.0.1\ADMIN$\{name}.exe"), 3);
            p.uploads.push(("ADMIN$", format!("{name}.exe")));
            p.removal = Removal::Immediate(ms(rng.range(400, 1500)));
        }
        "cobaltstrike-psexec-psh" => {
            let name = rng.alnum(7);
            let image = format!(
                "%COMSPEC% /b /c start /b /min powershell -nop -w hidden -encodedcommand {}",
                base64ish(rng, 320)
            );
            p.svc = own(&name, &name, image, 3);
            p.is_service = false;
            p.removal = Removal::Immediate(ms(rng.range(30_005, 30_080)));
        }
        "netexec-smbexec" => {
            let name = rng.letters(10);
            let out = rng.letters(8);
            let bat = rng.letters(8);
            let cmd = rng.pick(&["whoami /all", "hostname", "net user", "systeminfo"]);
            let image = format!(
                r"%COMSPEC% /Q /c echo {cmd} ^> \\127.0.0.1\C$\{out} 2^>^&1 > %TEMP%\{bat}.bat & %COMSPEC% /Q /c %TEMP%\{bat}.bat & del %TEMP%\{bat}.bat"
            );
            p.svc = own(&name, &name, image, 3);
            p.is_service = false;
            p.reads.push(("C$", out));
            p.removal = Removal::Immediate(ms(rng.range(30_005, 30_060)));
            p.ntlm = true;
        }
        "winexe" => {
            p.svc = own(
                "winexesvc",
                "winexesvc",
                r"%SystemRoot%\winexesvc.exe".into(),
                3,
            );
            p.uploads.push(("ADMIN$", "winexesvc.exe".into()));
            p.pipes.push("ahexec".into());
            p.ntlm = true;
        }
        "getsystem" => {
            let name = rng.letters(7);
            let pipe = rng.hex(6);
            let image = format!(r"cmd.exe /c echo {pipe} > \\.\pipe\{pipe}");
            p.svc = own(&name, &name, image, 3);
            p.is_service = false;
            p.pipes.clear();
            p.removal = Removal::Immediate(ms(rng.range(30_005, 30_040)));
            p.remote = false;
        }
        other => panic!("unknown tool {other}"),
    }
    let _ = t;
    p
}

/// Base64-looking text of `n` characters (stands in for an encoded payload).
fn base64ish(rng: &mut Rng, n: usize) -> String {
    const L: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s: String = (0..n).map(|_| char::from(*rng.pick(L))).collect();
    s.push('=');
    s
}

/// The process a service start creates: (image, command line).
fn launched(image_path: &str) -> (String, String) {
    let expanded = image_path
        .replace("%SystemRoot%", r"C:\Windows")
        .replace("%systemroot%", r"C:\Windows")
        .replace("%SYSTEMROOT%", r"C:\Windows")
        .replace(r"\\127.0.0.1\ADMIN$", r"C:\Windows")
        .replace("%COMSPEC%", r"C:\Windows\system32\cmd.exe");
    let exe = if expanded.to_lowercase().starts_with("cmd.exe")
        || expanded
            .to_lowercase()
            .starts_with(r"c:\windows\system32\cmd.exe")
    {
        r"C:\Windows\System32\cmd.exe".to_string()
    } else {
        expanded.split(' ').next().unwrap_or("").to_string()
    };
    (exe, expanded)
}

/// Inject one execution of `tool` on `target` from `src`, starting at `t0` (the logon).
/// Events go to `out`; the return value is its `truth.json` entry.
pub fn inject(
    tool: &str,
    target: &Target,
    src: &Source,
    t0: Timestamp,
    rng: &mut Rng,
    out: &mut Vec<Event>,
) -> Truth {
    let p = plan(tool, target, src, rng);
    let h = &target.events;
    let tid = |rng: &mut Rng| rng.range(300, 9000) as u32;
    let port = rng.range(49152, 65000) as u16;
    let mut who = if p.remote {
        src.account.clone()
    } else {
        target.local_user.clone()
    };
    let logon_id = 0x0100_0000 + rng.below(0x0300_0000);
    if p.remote {
        who.logon_id = logon_id;
    }
    let mut t = t0;
    if p.remote {
        let guid = if p.ntlm {
            Guid([0; 16])
        } else {
            Guid::from_fields(
                rng.next_u64() as u32,
                rng.below(65536) as u16,
                rng.below(65536) as u16,
                rng.next_u64().to_le_bytes(),
            )
        };
        let ws = if p.ntlm {
            src.workstation.as_str()
        } else {
            "-"
        };
        let auth = if p.ntlm { "NTLM" } else { "Kerberos" };
        out.push(h.logon(t, &who, 3, auth, ws, &src.ip, port, guid, tid(rng)));
        out.push(h.special_logon(t, &who, tid(rng)));
        t += ms(rng.range(3, 25));
        let mut shares: Vec<&str> = vec!["IPC$"];
        for (share, _) in p.uploads.iter().chain(&p.reads) {
            if !shares.contains(share) {
                shares.push(share);
            }
        }
        for share in &shares {
            out.push(h.share_access(t, &who, &src.ip, port, share, 4));
            t += ms(rng.range(1, 8));
        }
        for (share, file) in &p.uploads {
            out.push(h.share_check(t, &who, &src.ip, port, share, file, true, 4));
            t += ms(rng.range(40, 400));
        }
        out.push(h.share_check(t, &who, &src.ip, port, "IPC$", "svcctl", false, 4));
        t += ms(rng.range(5, 60));
    } else {
        t += ms(rng.range(50, 500));
    }

    // Creation: 4697 and 7045 together, services.exe's DELETE-capable open of the new
    // service logged with them (before the 7045 for PsExec).
    let created = t;
    let svc = &p.svc;
    let services_guid = Guid::from_fields(0xac06_1c88, 0x4701, 0x652f, [0x0b, 0, 0, 0, 0, 0, 2, 0]);
    out.push(h.svc_installed_audit(created, svc, &who, tid(rng)));
    let handle = 0xffff_8000_0000_0000 | (rng.next_u64() & 0xffff_ffff_fff8);
    let mask = [
        1537, 1538, 1539, 1540, 7184, 7185, 7186, 7187, 7188, 7189, 7190, 7191, 7192,
    ];
    let open_at = match p.delete_open_before {
        Some(d) => created - d,
        None => created + us(rng.range(100, 900)),
    };
    out.push(h.scm_privileged_op(
        open_at,
        &who,
        "SERVICE OBJECT",
        &svc.name,
        &mask,
        handle,
        tid(rng),
    ));
    let installed = created + us(rng.range(50, 600));
    out.push(h.svc_installed(installed, svc, &who.sid, tid(rng)));
    let key = format!(r"HKLM\System\CurrentControlSet\Services\{}", svc.name);
    out.push(h.sysmon_reg_key(created, "CreateKey", &key, services_guid, tid(rng)));
    out.push(h.sysmon_reg_value(
        created,
        &format!(r"{key}\ImagePath"),
        &svc.image,
        services_guid,
        tid(rng),
    ));

    // Start.
    let started = created
        + if tool == "impacket-services" {
            ms(rng.range(4000, 40_000))
        } else {
            ms(rng.range(20, 250))
        };
    let (exe, cmdline) = launched(&svc.image);
    let new_pid = rng.range(1000, 12000) as u64 & !3;
    let system = Account::system(&target.netbios, "CORP");
    out.push(h.process(
        started,
        &system,
        new_pid,
        &exe,
        &cmdline,
        u64::from(h.pids.services),
        r"C:\Windows\System32\services.exe",
        tid(rng),
    ));
    let pguid = Guid::from_fields(
        0xac06_1c88,
        rng.below(65536) as u16,
        0x652f,
        rng.next_u64().to_le_bytes(),
    );
    out.push(h.sysmon_process(
        started,
        pguid,
        new_pid as u32,
        &exe,
        &cmdline,
        r"NT AUTHORITY\SYSTEM",
        services_guid,
        h.pids.services,
        r"C:\Windows\System32\services.exe",
        tid(rng),
    ));
    let mut end = started;
    if p.is_service {
        out.push(h.svc_state(
            started + ms(rng.range(5, 60)),
            &svc.display,
            "running",
            tid(rng),
        ));
    } else {
        let timeout = started + ms(30_000 + rng.range(0, 5));
        out.push(h.svc_timeout(timeout, &svc.name, tid(rng)));
        out.push(h.svc_failed(timeout + us(rng.range(100, 900)), &svc.display, tid(rng)));
        end = timeout;
    }
    let mut tp = started + ms(rng.range(80, 300));
    if p.remote {
        for pipe in p.pipes.iter().skip(1) {
            out.push(h.share_check(tp, &who, &src.ip, port, "IPC$", pipe, false, 4));
            tp += ms(rng.range(2, 30));
        }
        for (share, file) in &p.reads {
            let at = end + ms(rng.range(20, 200));
            out.push(h.share_check(at, &who, &src.ip, port, share, file, false, 4));
            tp = tp.max(at);
        }
    }

    // Removal.
    let deleted = match p.removal {
        Removal::Never => None,
        Removal::OnExit(after) => {
            let stop = started + after;
            out.push(h.svc_state(stop, &svc.display, "stopped", tid(rng)));
            let del = stop + ms(rng.range(5, 60));
            out.push(h.sysmon_reg_value(
                del,
                &format!(r"{key}\DeleteFlag"),
                "DWORD (0x00000001)",
                services_guid,
                tid(rng),
            ));
            let gone = del + ms(rng.range(1, 20));
            out.push(h.sysmon_reg_key(gone, "DeleteKey", &key, services_guid, tid(rng)));
            Some((del, gone))
        }
        Removal::Immediate(after) => {
            let del = started + after;
            out.push(h.sysmon_reg_value(
                del,
                &format!(r"{key}\DeleteFlag"),
                "DWORD (0x00000001)",
                services_guid,
                tid(rng),
            ));
            let gone = del + ms(rng.range(50, 900));
            if p.is_service {
                out.push(h.svc_state(gone, &svc.display, "stopped", tid(rng)));
            }
            let gone = gone + ms(rng.range(1, 10));
            out.push(h.sysmon_reg_key(gone, "DeleteKey", &key, services_guid, tid(rng)));
            Some((del, gone))
        }
    };
    if p.remote {
        let logoff = deleted.map_or(tp, |(_, gone)| gone).max(tp) + ms(rng.range(100, 3000));
        out.push(h.logoff(logoff, &who, 3, tid(rng)));
    }
    Truth {
        host: h.computer.clone(),
        service_name: svc.name.clone(),
        display_name: svc.display.clone(),
        image_path: svc.image.clone(),
        tool: tool.to_string(),
        variant: p.variant,
        created: rfc3339(installed),
        deleted: deleted.map(|(_, gone)| rfc3339(gone)),
        delete_flagged: deleted.map(|(flag, _)| rfc3339(flag)),
        source_ip: p.remote.then(|| src.ip.clone()),
        source_workstation: p.remote.then(|| src.workstation.clone()),
        account: format!("{}\\{}", who.domain, who.name),
        account_sid: who.sid.clone(),
        logon_id: p.remote.then(|| format!("0x{logon_id:x}")),
    }
}
