//! Where an install came from, *proved* rather than presumed: an interactive installing logon,
//! the installing session seen running desktop programs (Sysmon 1 `LogonId`) or using explicit
//! credentials (4648), a PsExec-family client or `sc create` started on the host seconds
//! before, or SYSTEM itself as the installer make it local; a network logon from another
//! address makes it remote.

use crate::event::SaturatingTime;
use jiff::SignedDuration;

use super::super::Lifecycle;
use super::super::evidence::{Evidence, Role};
use super::HostContext;

/// How long before a creation a local client may have run.
const LOCAL_CLIENT_SPAN: SignedDuration = SignedDuration::from_secs(120);

/// Where an install came from, as far as the logs prove it.
#[derive(Default)]
pub struct Origin {
    /// Proofs that it was run from this host.
    pub local: Vec<String>,
    /// Signs that it came from another host.
    pub remote: Vec<String>,
    /// The installing logon itself is a network logon from another address.
    pub remote_logon: bool,
    /// A client on this host named this host as its target (outweighs a network logon: the
    /// client reached its own host over the network).
    pub client_to_self: bool,
    /// Evidence to attach (client runs, explicit credentials).
    pub evidence: Vec<Evidence>,
}

pub fn is_loopback(ip: &str) -> bool {
    let ip = ip.trim();
    ip.starts_with("127.") || ip == "::1" || ip.eq_ignore_ascii_case("::ffff:127.0.0.1")
}

/// Whether `account` (a SID or `DOMAIN\name`) is the finding's installer.
fn same_account(f: &Lifecycle, account: &str) -> bool {
    let a = account.trim();
    f.user
        .sid
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case(a))
        || f.user.name.as_deref().is_some_and(|n| {
            n.eq_ignore_ascii_case(a)
                || a.rsplit('\\').next().is_some_and(|short| {
                    n.rsplit('\\')
                        .next()
                        .is_some_and(|m| m.eq_ignore_ascii_case(short))
                })
        })
}

/// What the logs prove about where the install came from.
pub fn origin(f: &Lifecycle, ctx: &HostContext<'_>) -> Origin {
    let mut o = Origin::default();
    let host = super::super::host_key(&f.computer);
    let logon_id = f.logon.as_ref().and_then(|s| s.logon_id.clone());
    if let Some(src) = &f.logon {
        match src.logon_type {
            Some(3) if src.ip.as_deref().is_some_and(is_loopback) => {
                o.local
                    .push("installing network logon came from this host (loopback)".into());
            }
            Some(3) => {
                o.remote_logon = true;
                o.remote.push(format!(
                    "installed over a network logon from {}",
                    src.ip.as_deref().unwrap_or("an unknown address")
                ));
            }
            Some(t @ (2 | 7 | 10 | 11)) => {
                let kind = match t {
                    2 => "console",
                    7 => "unlock",
                    10 => "RDP",
                    _ => "cached",
                };
                o.local.push(format!(
                    "installing logon is interactive (type {t}, {kind})"
                ));
            }
            _ => {}
        }
    }
    if let Some(id) = &logon_id {
        if let Some(session) = ctx.desktop_sessions.get(id) {
            o.local.push(format!(
                "the installing logon {id} runs programs in desktop session {session} (Sysmon 1 LogonId)"
            ));
        }
        if let Some(e) = ctx.explicit_logons.get(id) {
            let process = e.field("ProcessName").unwrap_or("?");
            o.local.push(format!(
                "a program of the installing logon ({process}) used explicit credentials on this host (4648)"
            ));
            o.evidence.push(Evidence::of(
                e,
                Role::ExplicitCredentials,
                format!("4648: {process} used explicit credentials"),
            ));
        }
    }
    // The client run closest before the install is the one that made it.
    for c in ctx.clients.iter().rev() {
        if c.time > f.created.plus(SignedDuration::from_secs(2))
            || f.created.duration_since(c.time) > LOCAL_CLIENT_SPAN
        {
            continue;
        }
        // Identity disqualifies only where both sides name it and they differ: Sysmon writes
        // `DOMAIN\name` where a 7045 gives only a SID.
        let session_differs = matches!((&c.logon_id, &logon_id), (Some(a), Some(b)) if a != b);
        let account_known = c.account.as_deref().is_some_and(|a| {
            (a.starts_with("S-1-") && f.user.sid.is_some())
                || (a.contains('\\') && f.user.name.is_some())
        });
        let account_differs =
            account_known && !c.account.as_deref().is_some_and(|a| same_account(f, a));
        let same_session = matches!((&c.logon_id, &logon_id), (Some(a), Some(b)) if a == b);
        if !same_session && (session_differs || account_differs) {
            continue;
        }
        let target = c
            .target
            .as_deref()
            .map(|t| super::super::host_key(t.trim_end_matches('$')));
        let targets_self = match target.as_deref() {
            None => true,
            Some(t) => t == host || t == "localhost" || t == "127" || t == ".",
        };
        if !targets_self {
            continue;
        }
        if c.target.is_some() {
            o.client_to_self = true;
        }
        let secs = f.created.duration_since(c.time).as_secs_f64().max(0.0);
        o.local
            .push(format!("{} ran on this host {secs:.1} s before", c.what));
        o.evidence.push(Evidence::of(
            c.event,
            Role::ClientStarted,
            format!("{}: {}", c.event.event_id, c.what),
        ));
        break;
    }
    if f.logon.is_none() && f.user.sid.as_deref() == Some("S-1-5-18") {
        o.local.push(
            "installed by SYSTEM itself (UserID S-1-5-18): a program on this host, not a remote client"
                .into(),
        );
    }
    o
}
