//! The remote-service-execution tool families and the events one execution of each leaves on
//! its target, in order and with each tool's real timings (see `plans.rs` for what each tool
//! does, with its public source, and `/work/shared/corpus/EXPECTED.md`):
//!
//! 4624 (type 3) + 4672 → 5140 IPC$ (and ADMIN$/C$) → 5145 uploads and pipes → 4697 + 7045
//! (System `UserID` = the caller) → 4674 from services.exe on the SERVICE OBJECT with DELETE
//! in the mask, logged at *creation* → 7036 running (or, for a command line that is no
//! service, 7009 time-out + 7000) → removal: Sysmon 13 `DeleteFlag` and 12 `DeleteKey` on
//! `HKLM\System\CurrentControlSet\Services\<name>`, 7036 stopped, 4634.
//!
//! A plan can also be local: the installer logged on at the machine (4624 type 2/10/11, or only
//! Sysmon's `LogonId` of its processes), its client program seen starting seconds before (Sysmon
//! 1 with `OriginalFileName`, 4688, 4648), and named-pipe impersonation shown by Sysmon 17/18.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::events::{Account, Event, HostEvents, Proc, ServiceSpec};
use super::plans;
use super::rng::Rng;
use crate::record::Guid;

/// Tool family ids, in the order `--executions` cycles through them.
pub const TOOLS: [&str; 20] = [
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
    "invoke-smbexec",
    "invoke-psexec",
    "covenant-psexec",
    "sharpsc",
    "sharpexec",
    "sliver-psexec",
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
    /// Tool family id (one of [`TOOLS`], or a behaviour variant's tool).
    pub tool: String,
    /// Variant within the family (`renamed (-r)` for PsExec with `-r`), if any.
    pub variant: Option<String>,
    /// The verdict svchunt should give: `remote-execution`, `local-execution`,
    /// `privilege-escalation`, `suspicious` or `benign`.
    pub verdict: String,
    /// 7045 time, RFC 3339 UTC (the 4697 is logged up to 0.6 ms earlier).
    pub created: String,
    /// When the service's key was removed (Sysmon 12 `DeleteKey`), or none if it stays.
    pub deleted: Option<String>,
    /// When its deletion was requested (Sysmon 13 `DeleteFlag`), or none.
    pub delete_flagged: Option<String>,
    /// Source IP of the network logon; none for a local install.
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
    /// A local administrator logged on interactively (for local runs).
    pub local_user: Account,
}

pub(super) fn ms(n: i64) -> SignedDuration {
    SignedDuration::from_millis(n)
}

pub(super) fn us(n: i64) -> SignedDuration {
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
#[derive(Debug, Clone, Copy)]
pub enum Removal {
    /// The client stops and deletes it when its session ends, after this long.
    OnExit(SignedDuration),
    /// Deleted right after StartService returns (this long after the start).
    Immediate(SignedDuration),
    /// Left installed.
    Never,
}

/// What happens when the service is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// A real service binary: 7036 running.
    Service,
    /// A command line or a binary that is no service: 7009 time-out after 30 s, then 7000.
    Command,
    /// Never started (created and left, or deleted unstarted).
    Never,
}

/// Who installs the service, and how they logged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Over the network from [`Source`]: 4624 type 3, NTLM (a Linux tool) or Kerberos.
    Network {
        /// NTLM rather than Kerberos.
        ntlm: bool,
    },
    /// The target's local user, in a session of this logon type (2 console, 10 RDP, 11
    /// cached): its 4624 is logged when `logon_logged`, else only Sysmon's `LogonId` shows it.
    Interactive {
        /// 4624 `LogonType`.
        logon_type: u32,
        /// Whether the session's 4624 is in the Security log.
        logon_logged: bool,
    },
    /// An installer running as SYSTEM (7045 `UserID` S-1-5-18, no logon to join).
    System,
}

/// A program the installer ran on the target just before the install (a local client).
#[derive(Debug, Clone)]
pub struct Client {
    /// Its image path.
    pub image: String,
    /// Its command line.
    pub command_line: String,
    /// `OriginalFileName` (Sysmon 1 only; 4688 has none).
    pub original_file_name: String,
    /// Also a 4648: the client used explicit credentials towards this server name.
    pub explicit_to: Option<String>,
}

/// Named-pipe impersonation as Sysmon shows it: a user-context process creates the pipe
/// (17), the new service's SYSTEM process connects to it (18).
#[derive(Debug, Clone)]
pub struct PipeImpersonation {
    /// The pipe, without `\\.\pipe\`.
    pub pipe: String,
    /// The process that creates it (the implant).
    pub creator_image: String,
}

/// What a tool does, drawn for one execution.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The service.
    pub svc: ServiceSpec,
    /// Variant within the family.
    pub variant: Option<String>,
    /// What starting it does.
    pub start: Start,
    /// Files written to a share before the install: (share, file).
    pub uploads: Vec<(&'static str, String)>,
    /// Pipes opened on IPC$ after the start (the first, `svcctl`, before the install).
    pub pipes: Vec<String>,
    /// Files read back from a share after the start (smbexec output).
    pub reads: Vec<(&'static str, String)>,
    /// How it ends.
    pub removal: Removal,
    /// 4674 logged this long before the 7045 (PsExec) rather than just after the 4697.
    pub delete_open_before: Option<SignedDuration>,
    /// Who installs it.
    pub origin: Origin,
    /// A local client program seen before the install.
    pub client: Option<Client>,
    /// Named-pipe impersonation shown by Sysmon 17/18.
    pub impersonation: Option<PipeImpersonation>,
    /// The verdict svchunt should give.
    pub verdict: &'static str,
    /// How long after the install it is started, in ms (`(lo, hi)`).
    pub start_after: (i64, i64),
}

impl Plan {
    /// An empty remote plan (Kerberos, the svcctl pipe, a real service left installed).
    pub fn new() -> Self {
        Plan {
            svc: own("", "", String::new(), 3),
            variant: None,
            start: Start::Service,
            uploads: vec![],
            pipes: vec!["svcctl".into()],
            reads: vec![],
            removal: Removal::Never,
            delete_open_before: None,
            origin: Origin::Network { ntlm: false },
            client: None,
            impersonation: None,
            verdict: "remote-execution",
            start_after: (20, 250),
        }
    }

    fn remote(&self) -> bool {
        matches!(self.origin, Origin::Network { .. })
    }
}

impl Default for Plan {
    fn default() -> Self {
        Plan::new()
    }
}

/// An own-process LocalSystem service.
pub fn own(name: &str, display: &str, image: String, start: u32) -> ServiceSpec {
    ServiceSpec {
        name: name.into(),
        display: display.into(),
        image,
        service_type: 0x10,
        start_type: start,
        account: "LocalSystem".into(),
    }
}

/// The process a service start creates: (image, command line).
pub fn launched(image_path: &str) -> (String, String) {
    let mut expanded = image_path.trim().to_string();
    for (from, to) in [
        ("%SystemRoot%", r"C:\Windows"),
        ("%systemroot%", r"C:\Windows"),
        ("%SYSTEMROOT%", r"C:\Windows"),
        (r"\\127.0.0.1\ADMIN$", r"C:\Windows"),
        ("%COMSPEC%", r"C:\Windows\system32\cmd.exe"),
    ] {
        expanded = expanded.replace(from, to);
    }
    let program = match expanded.strip_prefix('"') {
        Some(rest) => rest.split('"').next().unwrap_or(rest).to_string(),
        None => expanded.split(' ').next().unwrap_or("").to_string(),
    };
    let lower = program.to_ascii_lowercase();
    let exe = if !lower.contains('\\') {
        // A bare name runs from the system folder (the SCM's search path).
        let file = if lower.ends_with(".exe") {
            program.clone()
        } else {
            format!("{program}.exe")
        };
        format!(r"C:\Windows\System32\{file}")
    } else if lower.ends_with(r"\cmd.exe") {
        r"C:\Windows\System32\cmd.exe".to_string()
    } else {
        program
    };
    (exe, expanded)
}

fn account_text(a: &Account) -> String {
    format!("{}\\{}", a.domain, a.name)
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
    let p = plans::plan(tool, &target.netbios, src, rng);
    inject_plan(tool, &p, target, src, t0, rng, out)
}

/// Inject one execution planned by `p` (see [`inject`]).
pub fn inject_plan(
    tool: &str,
    p: &Plan,
    target: &Target,
    src: &Source,
    t0: Timestamp,
    rng: &mut Rng,
    out: &mut Vec<Event>,
) -> Truth {
    let h = &target.events;
    let tid = |rng: &mut Rng| rng.range(300, 9000) as u32;
    let port = rng.range(49152, 65000) as u16;
    let mut who = match p.origin {
        Origin::Network { .. } => src.account.clone(),
        Origin::Interactive { .. } => target.local_user.clone(),
        Origin::System => {
            let mut s = Account::system(&target.netbios, "CORP");
            s.name = "SYSTEM".into();
            s.domain = "NT AUTHORITY".into();
            s
        }
    };
    let logon_id = 0x0100_0000 + rng.below(0x0300_0000);
    if p.origin != Origin::System {
        who.logon_id = logon_id;
    }
    let mut t = t0;
    match p.origin {
        Origin::Network { ntlm } => {
            let guid = if ntlm {
                Guid([0; 16])
            } else {
                Guid::from_fields(
                    rng.next_u64() as u32,
                    rng.below(65536) as u16,
                    rng.below(65536) as u16,
                    rng.next_u64().to_le_bytes(),
                )
            };
            let ws = if ntlm { src.workstation.as_str() } else { "-" };
            let auth = if ntlm { "NTLM" } else { "Kerberos" };
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
        }
        Origin::Interactive {
            logon_type,
            logon_logged,
        } => {
            // The session began a while ago; the install comes from a program run in it.
            if logon_logged {
                let at = t - SignedDuration::from_mins(rng.range(5, 90));
                let guid = Guid::from_fields(rng.next_u64() as u32, 1, 2, [0; 8]);
                let ip = if logon_type == 10 {
                    "10.0.5.77"
                } else {
                    "127.0.0.1"
                };
                out.push(h.logon(
                    at,
                    &who,
                    logon_type,
                    "Negotiate",
                    "-",
                    ip,
                    0,
                    guid,
                    tid(rng),
                ));
            }
            t += ms(rng.range(50, 500));
            // Something the user runs in the desktop session, whatever else is logged.
            let shell = Proc {
                guid: pguid(rng),
                pid: rng.range(1000, 12000) as u32 & !3,
                image: r"C:\Windows\System32\cmd.exe",
                command_line: r#""C:\Windows\system32\cmd.exe" "#,
                original_file_name: "Cmd.Exe",
                user: &account_text(&who),
                logon_id: who.logon_id,
                session: if logon_type == 10 { 2 } else { 1 },
                integrity: "High",
                parent_guid: pguid(rng),
                parent_pid: rng.range(1000, 12000) as u32 & !3,
                parent_image: r"C:\Windows\explorer.exe",
            };
            out.push(h.sysmon_process_of(t - ms(rng.range(4000, 9000)), &shell, tid(rng)));
        }
        Origin::System => {
            t += ms(rng.range(50, 500));
        }
    }

    // A local client program, seconds before the install.
    if let Some(c) = &p.client {
        let at = t - ms(rng.range(600, 2500));
        let pid = rng.range(1000, 12000) as u64 & !3;
        let session = match p.origin {
            Origin::Interactive { logon_type: 10, .. } => 2,
            _ => 1,
        };
        let proc = Proc {
            guid: pguid(rng),
            pid: pid as u32,
            image: &c.image,
            command_line: &c.command_line,
            original_file_name: &c.original_file_name,
            user: &account_text(&who),
            logon_id: who.logon_id,
            session,
            integrity: "High",
            parent_guid: pguid(rng),
            parent_pid: 4000,
            parent_image: r"C:\Windows\System32\cmd.exe",
        };
        out.push(h.sysmon_process_of(at, &proc, tid(rng)));
        out.push(h.process(
            at,
            &who,
            pid,
            &c.image,
            &c.command_line,
            4000,
            r"C:\Windows\System32\cmd.exe",
            tid(rng),
        ));
        if let Some(server) = &c.explicit_to {
            out.push(h.explicit_logon(
                at + ms(rng.range(20, 200)),
                &who,
                &who,
                server,
                pid,
                &c.image,
                tid(rng),
            ));
        }
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

    // The implant's pipe, waiting for the service to connect.
    let mut creator_pid = 0;
    if let Some(imp) = &p.impersonation {
        creator_pid = rng.range(1000, 12000) as u32 & !3;
        out.push(h.sysmon_pipe(
            created - ms(rng.range(100, 900)),
            false,
            &format!(r"\{}", imp.pipe),
            pguid(rng),
            creator_pid,
            &imp.creator_image,
            &account_text(&who),
            tid(rng),
        ));
    }

    // Start.
    let started = created + ms(rng.range(p.start_after.0, p.start_after.1));
    let mut end = started;
    let mut tp = started + ms(rng.range(80, 300));
    if p.start != Start::Never {
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
        let service_proc = pguid(rng);
        out.push(h.sysmon_process(
            started,
            service_proc,
            new_pid as u32,
            &exe,
            &cmdline,
            r"NT AUTHORITY\SYSTEM",
            services_guid,
            h.pids.services,
            r"C:\Windows\System32\services.exe",
            tid(rng),
        ));
        if let Some(imp) = &p.impersonation {
            out.push(h.sysmon_pipe(
                started + ms(rng.range(5, 60)),
                true,
                &format!(r"\{}", imp.pipe),
                service_proc,
                new_pid as u32,
                &exe,
                r"NT AUTHORITY\SYSTEM",
                tid(rng),
            ));
            let _ = creator_pid;
        }
        if p.start == Start::Service {
            out.push(h.svc_state_of(
                started + ms(rng.range(5, 60)),
                &svc.display,
                Some(&svc.name),
                "running",
                tid(rng),
            ));
        } else {
            let timeout = started + ms(30_000 + rng.range(0, 5));
            out.push(h.svc_timeout(timeout, &svc.name, tid(rng)));
            out.push(h.svc_failed(timeout + us(rng.range(100, 900)), &svc.display, tid(rng)));
            end = timeout;
        }
        if p.remote() {
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
    }

    // Removal.
    let running = p.start == Start::Service;
    let deleted = match p.removal {
        Removal::Never => None,
        Removal::OnExit(after) => {
            let stop = started + after;
            if running {
                out.push(h.svc_state_of(stop, &svc.display, Some(&svc.name), "stopped", tid(rng)));
            }
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
            if running {
                out.push(h.svc_state_of(gone, &svc.display, Some(&svc.name), "stopped", tid(rng)));
            }
            let gone = gone + ms(rng.range(1, 10));
            out.push(h.sysmon_reg_key(gone, "DeleteKey", &key, services_guid, tid(rng)));
            Some((del, gone))
        }
    };
    if p.remote() {
        let logoff = deleted.map_or(tp, |(_, gone)| gone).max(tp) + ms(rng.range(100, 3000));
        out.push(h.logoff(logoff, &who, 3, tid(rng)));
    }
    let remote = p.remote();
    Truth {
        host: h.computer.clone(),
        service_name: svc.name.clone(),
        display_name: svc.display.clone(),
        image_path: svc.image.clone(),
        tool: tool.to_string(),
        variant: p.variant.clone(),
        verdict: p.verdict.to_string(),
        created: rfc3339(installed),
        deleted: deleted.map(|(_, gone)| rfc3339(gone)),
        delete_flagged: deleted.map(|(flag, _)| rfc3339(flag)),
        source_ip: remote.then(|| src.ip.clone()),
        source_workstation: remote.then(|| src.workstation.clone()),
        account: account_text(&who),
        account_sid: who.sid.clone(),
        logon_id: remote.then(|| format!("0x{logon_id:x}")),
    }
}

/// A Sysmon `ProcessGuid`.
pub(super) fn pguid(rng: &mut Rng) -> Guid {
    Guid::from_fields(
        0xac06_1c88,
        rng.below(65536) as u16,
        0x652f,
        rng.next_u64().to_le_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_launch_the_program_their_image_names() {
        assert_eq!(
            launched(r"%COMSPEC% /Q /c echo x").0,
            r"C:\Windows\System32\cmd.exe"
        );
        assert_eq!(
            launched("winexesvc.exe").0,
            r"C:\Windows\System32\winexesvc.exe"
        );
        assert_eq!(
            launched(r#""C:\Program Files\A\b.exe" /svc"#).0,
            r"C:\Program Files\A\b.exe"
        );
        assert_eq!(
            launched(r"\\127.0.0.1\ADMIN$\abc.exe").0,
            r"C:\Windows\abc.exe"
        );
    }
}
