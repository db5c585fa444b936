//! Judging a service creation by how it behaved, not by a list of names.
//!
//! Remote service execution leaves a recognisable *behaviour*: the "service" is a command line
//! or a binary just dropped through an admin share, it lives for seconds or minutes, its start
//! times out because cmd.exe is no service, its name is random, and a network logon sits behind
//! it. Privilege escalation leaves its mechanism: a shell writing into a named pipe, Meterpreter's
//! elevator DLL, Sysmon's pipe created by a user process and connected to by the new SYSTEM
//! process, an RDP session taken over with `tscon`. Ordinary installs are drivers, binaries
//! under Program Files, auto-start services that stay; and thin evidence ([`thin`]: a bare file
//! name, a binary off a drive's root, an offensive driver) is `suspicious`, never ordinary.
//!
//! Where it came from is *proved*, not presumed ([`origin`]): an interactive installing logon, a
//! PsExec-family client or `sc create` started on the host seconds before, the installing
//! session seen running desktop programs, make it local; a network logon from another address
//! makes it remote; with neither, the reasons say the origin is unknown.
//!
//! Each signal found is written down as a reason, so the analyst can check the judgement.

mod context;
mod origin;
pub mod reads;
mod reconfig;
mod shell;
mod thin;

use std::sync::LazyLock;

use crate::event::SaturatingTime;
use jiff::SignedDuration;
use regex::Regex;
use serde::Serialize;

pub use context::HostContext;
pub use shell::is_command_line;

use super::Lifecycle;
use super::evidence::{Evidence, Role};
use origin::{is_loopback, origin};

/// The judgement on one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// A service used to run a command on this host from another one.
    RemoteExecution,
    /// The same technique run against the host it was launched on (no remote logon behind it).
    LocalExecution,
    /// A service created to get SYSTEM from an existing foothold (getsystem-style), not movement.
    PrivilegeEscalation,
    /// Something execution-like, or thin evidence no ordinary installer leaves, but not enough
    /// to say.
    Suspicious,
    /// An ordinary install.
    Benign,
}

impl Verdict {
    /// The id used in output (`remote-execution`…).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::RemoteExecution => "remote-execution",
            Verdict::LocalExecution => "local-execution",
            Verdict::PrivilegeEscalation => "privilege-escalation",
            Verdict::Suspicious => "suspicious",
            Verdict::Benign => "benign",
        }
    }
}

static SHARE_PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)(^\s*"?\\\\[^\\.?][^\\]*\\)|(\\(admin|[a-z])\$\\)"#).expect("valid regex")
});
/// A binary directly in the Windows folder (where ADMIN$ copies land), arguments allowed.
static WINDOWS_ROOT_BINARY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)^\s*"?(%systemroot%|%windir%|[a-z]:\\windows)\\[^\\"\s]+\.exe"?(\s|$)"#)
        .expect("valid regex")
});
static KNOWN_TOOL_SERVICE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(psexesvc|psexec|paexec([-_].*)?|remcomsvc|csexecsvc|winexesvc|btobto|sliver|sharpsploit)$",
    )
    .expect("valid regex")
});
static TEMP_FOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(\\temp\\|\\tmp\\|%temp%|%tmp%|\\appdata\\local\\temp\\|\\users\\public\\|\\programdata\\[^\\]+\.exe)")
        .expect("valid regex")
});
static PER_USER_INSTANCE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"_[0-9a-fA-F]{4,8}$").expect("valid regex"));
static USER_WRITABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(\\users\\|\\temp\\|\\tmp\\|\\downloads\\|\\desktop\\|^[d-z]:\\)")
        .expect("valid regex")
});

/// Whether an image path gets SYSTEM the getsystem way: a shell writing into a named pipe
/// (however spelt), or Meterpreter's elevator DLL through rundll32 (`,a /p:`).
pub fn is_getsystem(image: &str) -> bool {
    shell::pipe_write(image).is_some() || shell::rundll32_elevator(image)
}

/// How long a service may live and still count as short-lived.
const SHORT_LIFE: SignedDuration = SignedDuration::from_hours(1);
/// How long after a creation its process may connect to the impersonation pipe.
const PIPE_CONNECT_SPAN: SignedDuration = SignedDuration::from_secs(120);
/// How long before the connection the pipe may have been created.
const PIPE_CREATE_SPAN: SignedDuration = SignedDuration::from_mins(10);

/// Signals found on one finding.
#[derive(Default)]
struct Signals {
    /// Each alone is enough to call it execution.
    strong: Vec<String>,
    /// Two together are, or one with a supporting signal or thin evidence.
    medium: Vec<String>,
    /// Count towards execution only beside a medium or strong signal (common in ordinary
    /// services too, e.g. a demand-start service stopping minutes after install).
    support: Vec<String>,
    /// Thin evidence ([`thin`]): at least `suspicious`.
    thin: Vec<String>,
    /// Signs of an ordinary install.
    benign: Vec<String>,
}

/// Set `verdict` and `verdict_reasons`, and attach the host evidence the judgement used.
pub fn judge(finding: &mut Lifecycle, ctx: &HostContext<'_>) {
    if let Some(r) = finding.reconfiguration.clone() {
        reconfig::judge(finding, &r, ctx);
        return;
    }
    let image = finding.image_path.clone();
    let origin = origin(finding, ctx);
    let (escalation, pipe_evidence) = escalation(finding, ctx);
    finding.evidence.extend(origin.evidence.iter().cloned());
    finding.evidence.extend(pipe_evidence);
    finding.evidence.sort_by_key(|a| (a.time, a.role));

    let mut reasons: Vec<String>;
    if !escalation.is_empty() {
        reasons = escalation;
        reasons.extend(origin.local);
        reasons.extend(origin.remote);
        finding.verdict = Verdict::PrivilegeEscalation;
        finding.verdict_reasons = dedup(reasons);
        return;
    }
    let s = signals(finding);
    let execution = !s.strong.is_empty()
        || s.medium.len() >= 2
        || (s.medium.len() == 1 && (!s.support.is_empty() || !s.thin.is_empty()));
    reasons = s
        .strong
        .iter()
        .chain(&s.medium)
        .chain(&s.support)
        .chain(&s.thin)
        .cloned()
        .collect();
    finding.verdict = if execution {
        if origin.remote_logon && !origin.client_to_self {
            reasons.extend(origin.remote);
            Verdict::RemoteExecution
        } else if !origin.local.is_empty() {
            reasons.extend(origin.local);
            if svc_exe_elevation(&image) {
                reasons.push(
                    "Cobalt Strike's service binary run on its own host: elevate svc-exe".into(),
                );
                Verdict::PrivilegeEscalation
            } else {
                Verdict::LocalExecution
            }
        } else {
            if origin.remote.is_empty() {
                reasons.push(
                    "origin unknown: no installing logon, local client or session in the logs"
                        .into(),
                );
            }
            reasons.extend(origin.remote);
            Verdict::RemoteExecution
        }
    } else if !s.thin.is_empty() {
        reasons.extend(origin.local);
        Verdict::Suspicious
    } else if !s.medium.is_empty() && s.benign.is_empty() {
        Verdict::Suspicious
    } else {
        reasons = s.benign;
        if reasons.is_empty() {
            reasons.push("installed like ordinary software: no execution behaviour".into());
        }
        Verdict::Benign
    };
    finding.verdict_reasons = dedup(reasons);
}

pub(super) fn dedup(mut reasons: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    reasons.retain(|r| seen.insert(r.clone()));
    reasons
}

/// Cobalt Strike's service binary path (`\\127.0.0.1\ADMIN$\<random>.exe`).
fn svc_exe_elevation(image: &str) -> bool {
    let lower = image.trim().to_ascii_lowercase();
    lower.starts_with(r"\\127.0.0.1\admin$\") && lower.ends_with(".exe")
}

/// The privilege-escalation mechanisms the finding shows, each a reason, and the Sysmon pipe
/// events that prove one.
fn escalation(f: &Lifecycle, ctx: &HostContext<'_>) -> (Vec<String>, Vec<Evidence>) {
    let image = f.image_path.as_str();
    let mut out = Vec::new();
    if let Some(pipe) = shell::pipe_write(image) {
        out.push(format!(
            "a shell writes into the named pipe {pipe}: getsystem's bait (whoever serves the pipe takes this SYSTEM process's token)"
        ));
    }
    if shell::rundll32_elevator(image) {
        out.push(
            "rundll32 runs a DLL's `a` entry with a /p: pipe argument: Meterpreter's elevator (getsystem)"
                .into(),
        );
    }
    let mut evidence = Vec::new();
    if let Some((why, created, connected)) = impersonation(f, ctx) {
        out.push(why);
        evidence.push(Evidence::of(
            created.event,
            Role::PipeCreated,
            format!(
                "17: {} ({}) created \\{}",
                created.image,
                created.user.as_deref().unwrap_or("?"),
                created.pipe
            ),
        ));
        evidence.push(Evidence::of(
            connected.event,
            Role::PipeConnected,
            format!("18: {} connected to \\{}", connected.image, connected.pipe),
        ));
    }
    if shell::rdp_hijack(image) {
        out.push(
            "tscon … /dest: run as SYSTEM through a service: an RDP session hijack (another user's session without their password)"
                .into(),
        );
    }
    (out, evidence)
}

fn is_system_account(user: Option<&str>) -> bool {
    user.is_none_or(|u| {
        let u = u.to_ascii_lowercase();
        u.ends_with("\\system")
            || u == "system"
            || u.ends_with("\\local service")
            || u.ends_with("\\network service")
    })
}

/// Sysmon's view of named-pipe impersonation: the new service's process (SYSTEM) connected,
/// right after the install, to a pipe a process of another account had just created.
fn impersonation<'c, 'a>(
    f: &Lifecycle,
    ctx: &'c HostContext<'a>,
) -> Option<(
    String,
    &'c context::PipeEvent<'a>,
    &'c context::PipeEvent<'a>,
)> {
    let program = super::names::file_name(&launched_program(&f.image_path)).to_ascii_lowercase();
    let connected = ctx.pipes.iter().find(|p| {
        p.connect
            && p.image == program
            && p.time >= f.created.minus(SignedDuration::from_secs(2))
            && p.time <= f.created.plus(PIPE_CONNECT_SPAN)
            && is_system_account(p.user.as_deref())
    })?;
    let created = ctx.pipes.iter().rev().find(|p| {
        !p.connect
            && p.pipe == connected.pipe
            && p.time <= connected.time
            && connected.time.duration_since(p.time) <= PIPE_CREATE_SPAN
            && !is_system_account(p.user.as_deref())
    })?;
    let why = format!(
        "named-pipe impersonation (Sysmon 17/18): {} as {} created \\{}, the new service's SYSTEM process {} connected to it",
        created.image,
        created.user.as_deref().unwrap_or("?"),
        created.pipe,
        connected.image
    );
    Some((why, created, connected))
}

/// The program a service start runs: the shell for a command line (`%COMSPEC%` is cmd.exe).
fn launched_program(image: &str) -> String {
    let p = shell::program(image);
    match p.as_str() {
        "%comspec%" | "cmd" => "cmd.exe".into(),
        _ => super::names::file_name(image).to_string(),
    }
}

fn installed_by_system(f: &Lifecycle) -> bool {
    matches!(
        f.user.sid.as_deref(),
        Some("S-1-5-18" | "S-1-5-19" | "S-1-5-20")
    ) || f.user.name.as_deref().is_some_and(|n| n.ends_with('$'))
}

fn signals(f: &Lifecycle) -> Signals {
    let mut s = Signals::default();
    let image = f.image_path.as_str();
    let demand_start = f
        .start_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("demand start") || t.trim() == "3");
    let command = is_command_line(image);
    let vendor = thin::under_vendor_path(image);

    if command {
        s.strong
            .push("image path is a command line, not a service binary".into());
    }
    if SHARE_PATH.is_match(image) {
        s.strong
            .push("image path is on an admin share or UNC path".into());
    }
    if f.evidence.iter().any(|e| e.role == Role::StartTimeout) {
        if command || !vendor {
            s.strong
                .push("start timed out (7009): the binary is not a service".into());
        } else {
            s.benign.push(
                "a vendor service slow to start (7009 time-out, binary under its vendor's folder)"
                    .into(),
            );
        }
    } else if f.evidence.iter().any(|e| e.role == Role::StartFailed) && !vendor {
        s.medium.push("failed to start (7000)".into());
    }
    if demand_start && WINDOWS_ROOT_BINARY.is_match(image) {
        s.medium.push(
            "on-demand service binary in the Windows folder root, where ADMIN$ copies land".into(),
        );
    }
    if let (Some(ms), Some(role)) = (f.lifetime_ms, f.deletion_evidence)
        && ms <= SHORT_LIFE.as_millis() as i64
    {
        let why = format!(
            "short-lived: {} {} after creation",
            role.label(),
            super::human_ms(ms)
        );
        if role == Role::Stopped {
            s.support.push(why);
        } else {
            s.medium.push(why);
        }
    }
    let driver = is_driver(f);
    if !driver && TEMP_FOLDER.is_match(image) && !command {
        s.medium
            .push("service binary in a temporary or world-writable folder".into());
    }
    if let Some(file) = binary_written_over_share(f) {
        s.strong.push(format!(
            "service binary {file} written over an admin share just before (5145)"
        ));
    }
    let image_stem = super::names::file_stem(image);
    if [
        f.service_name.as_str(),
        f.display_name.as_deref().unwrap_or(""),
        image_stem,
    ]
    .iter()
    .any(|n| KNOWN_TOOL_SERVICE.is_match(n))
    {
        s.medium
            .push("service name of a known remote-execution tool".into());
    }
    if let Some(why) = random_name(&f.service_name) {
        s.medium.push(why);
    }
    if let Some(src) = &f.logon
        && src.logon_type == Some(3)
        && !src.ip.as_deref().is_some_and(is_loopback)
    {
        s.support.push(format!(
            "installed over a network logon from {}",
            src.ip.as_deref().unwrap_or("an unknown address")
        ));
        if !installed_by_system(f) {
            let svcctl = f.evidence.iter().any(|e| {
                e.role == Role::ShareObjectAccessed
                    && e.detail.to_ascii_lowercase().ends_with("\\svcctl")
            });
            s.thin.push(format!(
                "created by a user account over a network logon{}",
                if svcctl {
                    " that opened the svcctl pipe"
                } else {
                    ""
                }
            ));
        }
    }
    s.thin.extend(thin::reasons(
        &f.service_name,
        f.display_name.as_deref(),
        image,
        driver,
        installed_by_system(f),
    ));
    if driver && USER_WRITABLE.is_match(image) {
        s.thin
            .push("driver loaded from a user-writable location".into());
    }
    if driver {
        s.benign.push("a driver".into());
    }
    if PER_USER_INSTANCE.is_match(&f.service_name) && f.user.sid.as_deref() == Some("S-1-5-18") {
        s.benign
            .push("per-user service instance created by the system at logon".into());
    }
    s
}

/// The image's file name, when a 5145 in the evidence shows it written (WriteData, `%%4417`)
/// to an admin share.
fn binary_written_over_share(f: &Lifecycle) -> Option<String> {
    let file = super::names::file_name(&f.image_path).to_ascii_lowercase();
    if !file.ends_with(".exe") {
        return None;
    }
    f.evidence
        .iter()
        .filter(|e| e.role == Role::ShareObjectAccessed && e.time <= f.created)
        .find(|e| {
            let d = e.detail.to_ascii_lowercase();
            d.contains("$\\") && d.ends_with(&format!("\\{file} (write)"))
        })
        .map(|_| file)
}

fn is_driver(f: &Lifecycle) -> bool {
    f.service_type.as_deref().is_some_and(|t| {
        let t = t.trim().to_ascii_lowercase();
        t.contains("driver") || t == "0x1" || t == "0x2" || t == "1" || t == "2"
    })
}

/// Why a service name looks machine-generated, if it does: the lengths PsExec-family tools use
/// (4, 8, 10, 16, 20 letters) with a case pattern no person types, or a long base64 chunk.
fn random_name(name: &str) -> Option<String> {
    let len = name.chars().count();
    if len >= 40
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=')
    {
        return Some("service name is a long base64-like string".into());
    }
    if !name.chars().all(|c| c.is_ascii_alphabetic()) || ![4, 7, 8, 10, 16, 20].contains(&len) {
        return None;
    }
    let bytes = name.as_bytes();
    let case_flips = bytes
        .windows(2)
        .filter(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
        .count();
    let vowels = name.chars().filter(|c| "aeiouAEIOU".contains(*c)).count();
    let all_upper = name.chars().all(|c| c.is_ascii_uppercase());
    let random = case_flips >= 2 || (len >= 8 && vowels * 6 < len) || (all_upper && len >= 16);
    random.then(|| format!("service name looks random ({len} letters: {name})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_names() {
        assert!(random_name("kNbC").is_some(), "impacket psexec 4 letters");
        assert!(
            random_name("PGUJLOAKFQFVOMHGFQPX").is_some(),
            "empire 20 upper"
        );
        assert!(random_name("wKpAxLqB").is_some());
        for ordinary in [
            "Xbox",
            "BTOBTO",
            "PSEXESVC",
            "Updater",
            "vm3dmp",
            "WinRM",
            "Sysmon64",
            "BCSWAP",
            "MpKsl1bb57ead",
        ] {
            assert!(random_name(ordinary).is_none(), "{ordinary}");
        }
        assert!(
            random_name("CiMNCiMgQXV0aG9yczogIEphbWllIFdoZWF0b24gLy8gV2lsbGlhbSBEZWxvbmcN")
                .is_some()
        );
    }

    #[test]
    fn image_path_shapes() {
        assert!(SHARE_PATH.is_match(r"\\127.0.0.1\ADMIN$\abcdefg.exe"));
        assert!(SHARE_PATH.is_match(r"%COMSPEC% /Q /c echo x ^> \\127.0.0.1\C$\__output"));
        assert!(!SHARE_PATH.is_match(r"\SystemRoot\System32\drivers\tunnel.sys"));
        assert!(!SHARE_PATH.is_match(r"\??\C:\Windows\x.sys"));
        assert!(WINDOWS_ROOT_BINARY.is_match(r"%SystemRoot%\PSEXESVC.exe"));
        assert!(WINDOWS_ROOT_BINARY.is_match(r"%SYSTEMROOT%\PAExec-4242-ADMINPC.exe -service"));
        assert!(WINDOWS_ROOT_BINARY.is_match(r"C:\Windows\Sysmon64.exe"));
        assert!(!WINDOWS_ROOT_BINARY.is_match(r"%SystemRoot%\system32\vm3dservice.exe"));
        assert!(TEMP_FOLDER.is_match(r"C:\Windows\Temp\wxtabl.exe"));
        assert!(TEMP_FOLDER.is_match(r"C:\Users\Public\svc.exe"));
        assert!(!TEMP_FOLDER.is_match(r"C:\Program Files\Temperature\t.exe"));
        assert!(is_getsystem(r"cmd.exe /c echo eabsuk > \\.\pipe\eabsuk"));
        assert!(is_getsystem(
            r"rundll32.exe C:\Users\x\AppData\Local\Temp\abc.dll,a /p:abc"
        ));
        assert!(!is_getsystem(
            r"%COMSPEC% /Q /c echo cd ^> \\127.0.0.1\C$\__output"
        ));
        assert!(svc_exe_elevation(r"\\127.0.0.1\ADMIN$\a1b2c3d.exe"));
        assert_eq!(launched_program("%COMSPEC% /c echo x"), "cmd.exe");
        assert_eq!(launched_program(r"C:\Windows\Temp\x.exe"), "x.exe");
    }
}
