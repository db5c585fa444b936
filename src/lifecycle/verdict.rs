//! Judging a service creation by how it behaved, not by a list of names.
//!
//! Remote service execution leaves a recognisable *behaviour*: the "service" is a command line
//! or a binary just dropped through an admin share, it lives for seconds or minutes, its start
//! times out because cmd.exe is no service, its name is random, and a network logon sits behind
//! it. Ordinary installs are drivers, binaries under Program Files, auto-start services that stay.
//! Each signal found is written down as a reason, so the analyst can check the judgement.

use std::sync::LazyLock;

use jiff::{SignedDuration, Timestamp};
use regex::Regex;
use serde::Serialize;

use super::Lifecycle;
use super::evidence::Role;
use super::names::is_sysmon;
use crate::event::Event;

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
    /// Something execution-like, but not enough to say.
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

static COMMAND_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(%comspec%|\bcmd(\.exe)?\s+/[a-z]|\bpowershell(\.exe)?\b|\bpwsh(\.exe)?\b|\bmshta(\.exe)?\b|\b[wc]script(\.exe)?\b|\brundll32(\.exe)?\b|\bregsvr32(\.exe)?\b)",
    )
    .expect("valid regex")
});
static GETSYSTEM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)((\bcmd(\.exe)?|%comspec%)\s+/c\s+echo\s+\S+\s*>\s*\\\\\.\\pipe\\)|(\brundll32(\.exe)?\s+\S+\.dll,\s*a\s+/p:)",
    )
    .expect("valid regex")
});
static SHARE_PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)(^\s*"?\\\\[^\\.?][^\\]*\\)|(\\(admin|[a-z])\$\\)"#).expect("valid regex")
});
static WINDOWS_ROOT_BINARY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)^\s*"?(%systemroot%|%windir%|[a-z]:\\windows)\\[^\\"]+\.exe"?\s*$"#)
        .expect("valid regex")
});
static KNOWN_TOOL_SERVICE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(psexesvc|psexec|paexec[-_].*|remcomsvc|csexecsvc|winexesvc|btobto)$")
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

/// Whether an image path is a command line (cmd, PowerShell, script hosts…), not a binary.
pub fn is_command_line(image: &str) -> bool {
    COMMAND_LINE.is_match(image)
}

/// Whether an image path gets SYSTEM the getsystem way (echo into a named pipe, or rundll32
/// with `,a /p:`).
pub fn is_getsystem(image: &str) -> bool {
    GETSYSTEM.is_match(image)
}

/// How long a service may live and still count as short-lived.
const SHORT_LIFE: SignedDuration = SignedDuration::from_hours(1);
/// How long before a creation a local PsExec client may have run.
const LOCAL_CLIENT_SPAN: SignedDuration = SignedDuration::from_secs(120);

/// Signals found on one finding.
#[derive(Default)]
struct Signals {
    /// Each alone is enough to call it execution.
    strong: Vec<String>,
    /// Two together are.
    medium: Vec<String>,
    /// Count towards execution only beside a medium or strong signal (common in ordinary
    /// services too, e.g. a demand-start service stopping minutes after install).
    support: Vec<String>,
    /// Signs of an ordinary install.
    benign: Vec<String>,
    /// Signs that it was run from this host.
    local: Vec<String>,
    /// Signs that it came from another host.
    remote: Vec<String>,
}

/// Set `verdict` and `verdict_reasons`.
pub fn judge(finding: &mut Lifecycle, client_runs: &[Timestamp]) {
    let image = finding.image_path.clone();
    if GETSYSTEM.is_match(&image) {
        finding.verdict = Verdict::PrivilegeEscalation;
        finding.verdict_reasons =
            vec!["image path writes to a named pipe or loads a DLL the getsystem way".into()];
        return;
    }
    let s = signals(finding, client_runs);
    let execution = !s.strong.is_empty()
        || s.medium.len() >= 2
        || (s.medium.len() == 1 && !s.support.is_empty());
    let mut reasons: Vec<String> = s
        .strong
        .iter()
        .chain(&s.medium)
        .chain(&s.support)
        .cloned()
        .collect();
    finding.verdict = if execution {
        if !s.local.is_empty() {
            reasons.extend(s.local);
            Verdict::LocalExecution
        } else {
            if s.remote.is_empty() {
                reasons.push("installing logon not in the logs: remote origin assumed".into());
            }
            reasons.extend(s.remote);
            Verdict::RemoteExecution
        }
    } else if !s.medium.is_empty() && s.benign.is_empty() {
        Verdict::Suspicious
    } else if is_driver(finding) && USER_WRITABLE.is_match(&image) {
        reasons.push("driver loaded from a user-writable location".into());
        Verdict::Suspicious
    } else {
        reasons = s.benign;
        if reasons.is_empty() {
            reasons.push("installed like ordinary software: no execution behaviour".into());
        }
        Verdict::Benign
    };
    let mut seen = std::collections::HashSet::new();
    reasons.retain(|r| seen.insert(r.clone()));
    finding.verdict_reasons = reasons;
}

fn signals(f: &Lifecycle, client_runs: &[Timestamp]) -> Signals {
    let mut s = Signals::default();
    let image = f.image_path.as_str();
    let demand_start = f
        .start_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("demand start") || t.trim() == "3");

    if COMMAND_LINE.is_match(image) {
        s.strong
            .push("image path is a command line, not a service binary".into());
    }
    if SHARE_PATH.is_match(image) {
        s.strong
            .push("image path is on an admin share or UNC path".into());
    }
    if f.evidence.iter().any(|e| e.role == Role::StartTimeout) {
        s.strong
            .push("start timed out (7009): the binary is not a service".into());
    } else if f.evidence.iter().any(|e| e.role == Role::StartFailed) {
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
    if !is_driver(f) && TEMP_FOLDER.is_match(image) && !COMMAND_LINE.is_match(image) {
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
    if let Some(src) = &f.logon {
        match src.logon_type {
            Some(3) if src.ip.as_deref().is_some_and(is_loopback) => {
                s.local
                    .push("installing network logon came from this host (loopback)".into());
            }
            Some(3) => {
                let why = format!(
                    "installed over a network logon from {}",
                    src.ip.as_deref().unwrap_or("an unknown address")
                );
                s.support.push(why.clone());
                s.remote.push(why);
            }
            Some(t @ (2 | 7 | 10 | 11)) => {
                s.local
                    .push(format!("installing logon is interactive (type {t})"));
            }
            _ => {}
        }
    }
    if local_client_ran(f, client_runs) {
        s.local
            .push("a PsExec client ran on this host just before (Sysmon: EulaAccepted)".into());
    }
    if is_driver(f) {
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

fn is_loopback(ip: &str) -> bool {
    let ip = ip.trim();
    ip.starts_with("127.") || ip == "::1" || ip.eq_ignore_ascii_case("::ffff:127.0.0.1")
}

/// Sysmon 13 on `…\Software\Sysinternals\PsExec\EulaAccepted` (PsExec's first run as a user) on
/// this host shortly before the creation: the client ran here.
fn local_client_ran(f: &Lifecycle, client_runs: &[Timestamp]) -> bool {
    client_runs
        .iter()
        .any(|t| *t <= f.created && f.created.duration_since(*t) <= LOCAL_CLIENT_SPAN)
}

/// When a PsExec client ran on the host, from its events (computed once per host).
pub fn client_runs(host_events: &[&Event]) -> Vec<Timestamp> {
    host_events
        .iter()
        .filter(|e| e.event_id == 13 && is_sysmon(e))
        .filter(|e| {
            e.field("TargetObject").is_some_and(|p| {
                let p = p.to_ascii_lowercase();
                p.contains("\\software\\sysinternals\\") && p.ends_with("\\eulaaccepted")
            })
        })
        .map(|e| e.time)
        .collect()
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
            "Xbox", "BTOBTO", "PSEXESVC", "Updater", "vm3dmp", "WinRM", "Sysmon64", "BCSWAP",
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
        assert!(COMMAND_LINE.is_match(r"%COMSPEC% /Q /c echo cd  ^> \\127.0.0.1\C$\__output"));
        assert!(
            COMMAND_LINE
                .is_match(r#"c:\windows\system32\cmd.exe /c powershell -command "Get-Service""#)
        );
        assert!(!COMMAND_LINE.is_match(r"%SystemRoot%\system32\svchost.exe -k print"));
        assert!(!COMMAND_LINE.is_match(
            r"C:\Windows\system32\dllhost.exe /Processid:{74600A00-7492-484F-9A3E-C510CC95F515}"
        ));
        assert!(SHARE_PATH.is_match(r"\\127.0.0.1\ADMIN$\abcdefg.exe"));
        assert!(SHARE_PATH.is_match(r"%COMSPEC% /Q /c echo x ^> \\127.0.0.1\C$\__output"));
        assert!(!SHARE_PATH.is_match(r"\SystemRoot\System32\drivers\tunnel.sys"));
        assert!(!SHARE_PATH.is_match(r"\??\C:\Windows\x.sys"));
        assert!(WINDOWS_ROOT_BINARY.is_match(r"%SystemRoot%\PSEXESVC.exe"));
        assert!(WINDOWS_ROOT_BINARY.is_match(r"C:\Windows\Sysmon64.exe"));
        assert!(!WINDOWS_ROOT_BINARY.is_match(r"%SystemRoot%\system32\vm3dservice.exe"));
        assert!(GETSYSTEM.is_match(r"cmd.exe /c echo eabsuk > \\.\pipe\eabsuk"));
        assert!(TEMP_FOLDER.is_match(r"C:\Windows\Temp\wxtabl.exe"));
        assert!(TEMP_FOLDER.is_match(r"C:\Users\Public\svc.exe"));
        assert!(!TEMP_FOLDER.is_match(r"C:\Program Files\Temperature\t.exe"));
        assert!(GETSYSTEM.is_match(r"rundll32.exe C:\Users\x\AppData\Local\Temp\abc.dll,a /p:abc"));
        assert!(!GETSYSTEM.is_match(r"%COMSPEC% /Q /c echo cd ^> \\127.0.0.1\C$\__output"));
    }
}
