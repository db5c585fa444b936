//! Execution without a new service: an existing service's binary path is changed
//! (ChangeServiceConfig), the service started, and the path set back, as SCShell, SharpNoPSExec,
//! lsassy's stealth mode and PowerUp's Invoke-ServiceAbuse do. No 7045 or 4697 is logged; what
//! shows is Sysmon 13 on the service's `ImagePath` (set, then set back) and `Start`, 7040 when
//! the start type changes, the command's process, 7009/7000 (a command is no service), and the
//! network logon and `svcctl` pipe behind it.

use jiff::{SignedDuration, Timestamp};

use super::events::{Account, Event, Proc};
use super::rng::Rng;
use super::tools::{Origin, Source, Target, Truth, ms, pguid, rfc3339, us};
use crate::record::Guid;

/// One reconfiguration, as a tool performs it.
#[derive(Debug, Clone)]
pub struct Reconfig {
    /// The existing service's key name.
    pub key: String,
    /// Its display name.
    pub display: String,
    /// Its binary path before (and after).
    pub original: String,
    /// The command lines it is set to, one after the other, each started.
    pub temporary: Vec<String>,
    /// Its start type before (7040 text: `disabled`, `demand start`, `auto start`), when the
    /// tool sets it to demand start first.
    pub start_was: Option<&'static str>,
    /// Whether the tool sets the start type back afterwards (SharpNoPSExec, PowerUp).
    pub restore_start: bool,
    /// Who does it.
    pub origin: Origin,
    /// Tool id and expected verdict, for the truth.
    pub tool: &'static str,
    /// The verdict svchunt should give.
    pub verdict: &'static str,
}

fn account_text(a: &Account) -> String {
    format!("{}\\{}", a.domain, a.name)
}

/// Inject `r` on `target` (from `src` when remote), starting at `t0`.
pub fn inject(
    r: &Reconfig,
    target: &Target,
    src: &Source,
    t0: Timestamp,
    rng: &mut Rng,
    out: &mut Vec<Event>,
) -> Truth {
    let h = &target.events;
    let tid = |rng: &mut Rng| rng.range(300, 9000) as u32;
    let port = rng.range(49152, 65000) as u16;
    let remote = matches!(r.origin, Origin::Network { .. });
    let mut who = if remote {
        src.account.clone()
    } else {
        target.local_user.clone()
    };
    let logon_id = 0x0100_0000 + rng.below(0x0300_0000);
    who.logon_id = logon_id;
    let mut t = t0;
    match r.origin {
        Origin::Network { ntlm } => {
            let auth = if ntlm { "NTLM" } else { "Kerberos" };
            let ws = if ntlm { src.workstation.as_str() } else { "-" };
            let guid = Guid::from_fields(rng.next_u64() as u32, 3, 4, [0; 8]);
            out.push(h.logon(t, &who, 3, auth, ws, &src.ip, port, guid, tid(rng)));
            out.push(h.special_logon(t, &who, tid(rng)));
            t += ms(rng.range(3, 25));
            out.push(h.share_access(t, &who, &src.ip, port, "IPC$", 4));
            t += ms(rng.range(1, 8));
            out.push(h.share_check(t, &who, &src.ip, port, "IPC$", "svcctl", false, 4));
            t += ms(rng.range(5, 60));
        }
        Origin::Interactive { logon_type, .. } => {
            let at = t - SignedDuration::from_mins(rng.range(5, 90));
            let guid = Guid::from_fields(rng.next_u64() as u32, 1, 2, [0; 8]);
            out.push(h.logon(
                at,
                &who,
                logon_type,
                "Negotiate",
                "-",
                "127.0.0.1",
                0,
                guid,
                tid(rng),
            ));
            t += ms(rng.range(50, 500));
        }
        Origin::System => {}
    }
    let services_guid = Guid::from_fields(0xac06_1c88, 0x4701, 0x652f, [0x0b, 0, 0, 0, 0, 0, 2, 0]);
    let key = format!(r"HKLM\System\CurrentControlSet\Services\{}", r.key);
    let first = t;
    if let Some(was) = r.start_was {
        out.push(h.svc_start_changed(
            t,
            &r.display,
            was,
            "demand start",
            &r.key,
            &who.sid,
            tid(rng),
        ));
        out.push(h.sysmon_reg_value(
            t,
            &format!(r"{key}\Start"),
            "DWORD (0x00000003)",
            services_guid,
            tid(rng),
        ));
        t += ms(rng.range(5, 40));
    }
    let mut first_set = None;
    let system = Account::system(&target.netbios, "CORP");
    for temp in &r.temporary {
        out.push(h.sysmon_reg_value(
            t,
            &format!(r"{key}\ImagePath"),
            temp,
            services_guid,
            tid(rng),
        ));
        first_set.get_or_insert(t);
        let started = t + ms(rng.range(20, 200));
        let (exe, cmd) = super::tools::launched(temp);
        let pid = rng.range(1000, 12000) as u64 & !3;
        out.push(h.process(
            started,
            &system,
            pid,
            &exe,
            &cmd,
            u64::from(h.pids.services),
            r"C:\Windows\System32\services.exe",
            tid(rng),
        ));
        out.push(h.sysmon_process_of(
            started,
            &Proc {
                guid: pguid(rng),
                pid: pid as u32,
                image: &exe,
                command_line: &cmd,
                original_file_name: "Cmd.Exe",
                user: r"NT AUTHORITY\SYSTEM",
                logon_id: 0x3e7,
                session: 0,
                integrity: "System",
                parent_guid: services_guid,
                parent_pid: h.pids.services,
                parent_image: r"C:\Windows\System32\services.exe",
            },
            tid(rng),
        ));
        // A command is no service: the SCM gives up after 30 s.
        let timeout = started + ms(30_000 + rng.range(0, 5));
        out.push(h.svc_timeout(timeout, &r.key, tid(rng)));
        out.push(h.svc_failed(timeout + us(rng.range(100, 900)), &r.display, tid(rng)));
        t = timeout + ms(rng.range(5, 80));
    }
    out.push(h.sysmon_reg_value(
        t,
        &format!(r"{key}\ImagePath"),
        &r.original,
        services_guid,
        tid(rng),
    ));
    if let (Some(was), true) = (r.start_was, r.restore_start) {
        t += ms(rng.range(5, 40));
        out.push(h.svc_start_changed(
            t,
            &r.display,
            "demand start",
            was,
            &r.key,
            &who.sid,
            tid(rng),
        ));
        let code = match was {
            "disabled" => 4,
            "auto start" => 2,
            _ => 3,
        };
        out.push(h.sysmon_reg_value(
            t,
            &format!(r"{key}\Start"),
            &format!("DWORD (0x{code:08x})"),
            services_guid,
            tid(rng),
        ));
    }
    if remote {
        out.push(h.logoff(t + ms(rng.range(100, 2000)), &who, 3, tid(rng)));
    }
    let set = first_set.unwrap_or(first);
    Truth {
        host: h.computer.clone(),
        service_name: r.key.clone(),
        display_name: r.display.clone(),
        image_path: r.temporary.first().cloned().unwrap_or_default(),
        tool: r.tool.into(),
        variant: Some("reconfiguration".into()),
        verdict: r.verdict.into(),
        created: rfc3339(set),
        deleted: None,
        delete_flagged: None,
        source_ip: remote.then(|| src.ip.clone()),
        source_workstation: remote.then(|| src.workstation.clone()),
        account: account_text(&who),
        account_sid: who.sid.clone(),
        logon_id: remote.then(|| format!("0x{logon_id:x}")),
    }
}
