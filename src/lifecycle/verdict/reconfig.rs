//! Judging a reconfiguration: an existing service's binary path borrowed and set back.
//!
//! Pointing a service at a command line, or at a binary outside the system and vendor folders,
//! and setting it back minutes later is execution as SYSTEM through the SCM; nothing ordinary
//! does it (an update rewrites the path once, to its new version). From another host (the
//! client's `svcctl` pipe over a network logon) it is remote execution (SCShell,
//! SharpNoPSExec); from this host, or when the borrowed command adds a user or an
//! administrator (PowerUp's Invoke-ServiceAbuse), privilege escalation.

use super::super::evidence::Role;
use super::super::reconfigure::Reconfiguration;
use super::super::{Lifecycle, human_ms};
use super::origin::{is_loopback, origin};
use super::{HostContext, Verdict, dedup, is_command_line, thin};

/// Whether a command adds a local user or a group member (`net user x y /add`, `net localgroup
/// administrators x /add`): the usual payload of a local service abuse.
fn adds_account(command: &str) -> bool {
    let lower = command.to_ascii_lowercase();
    (lower.contains("net user ")
        || lower.contains("net1 user ")
        || lower.contains("net localgroup ")
        || lower.contains("net1 localgroup "))
        && lower.contains("/add")
}

/// Set the verdict of a reconfiguration lifecycle.
pub fn judge(l: &mut Lifecycle, r: &Reconfiguration, ctx: &HostContext<'_>) {
    let mut reasons = vec![format!(
        "existing service {}'s binary path changed to {} and set back to {} {} later (ChangeServiceConfig: no service created)",
        l.service_name,
        r.temporary_image_paths.join(" then "),
        r.original_image_path,
        human_ms(l.lifetime_ms.unwrap_or(0))
    )];
    let commands = r.temporary_image_paths.iter().any(|p| is_command_line(p));
    let foreign = r
        .temporary_image_paths
        .iter()
        .any(|p| !thin::under_vendor_path(p));
    if commands {
        reasons.push("the temporary binary path is a command line".into());
    } else if foreign {
        reasons.push("the temporary binary is outside the system and vendor folders".into());
    }
    if l.evidence.iter().any(|e| e.role == Role::StartTimeout) {
        reasons.push("started meanwhile and timed out (7009): a command, not a service".into());
    } else if l.evidence.iter().any(|e| e.role == Role::Running) {
        reasons.push("started meanwhile (7036 running)".into());
    }
    if !r.start_type_changes.is_empty() {
        reasons.push(format!(
            "start type changed for it: {} (7040)",
            r.start_type_changes.join(", then ")
        ));
    }
    let execution = commands || foreign;
    let o = origin(l, ctx);
    let remote = l
        .logon
        .as_ref()
        .is_some_and(|s| s.logon_type == Some(3) && !s.ip.as_deref().is_some_and(is_loopback));
    let accounts = r.temporary_image_paths.iter().any(|p| adds_account(p));
    l.verdict = if !execution {
        reasons.push("borrowed for an ordinary binary under a vendor folder".into());
        Verdict::Suspicious
    } else if remote {
        if let Some(ip) = l.logon.as_ref().and_then(|s| s.ip.as_deref()) {
            reasons.push(format!(
                "the client opened the svcctl pipe from {ip} just before (5145)"
            ));
        }
        Verdict::RemoteExecution
    } else if accounts || !o.local.is_empty() {
        if accounts {
            reasons.push(
                "the borrowed command adds a user or an administrator: a local service abuse"
                    .into(),
            );
        }
        reasons.extend(o.local);
        Verdict::PrivilegeEscalation
    } else {
        reasons.push("origin unknown: no svcctl pipe, logon or local client in the logs".into());
        Verdict::RemoteExecution
    };
    l.evidence.extend(o.evidence);
    l.evidence.sort_by_key(|a| (a.time, a.role));
    l.verdict_reasons = dedup(reasons);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_payloads() {
        assert!(adds_account("net user john Password123! /add"));
        assert!(adds_account("net localgroup Administrators john /add"));
        assert!(!adds_account("net user john"));
        assert!(!adds_account(r"C:\Windows\System32\svchost.exe -k netsvcs"));
    }
}
