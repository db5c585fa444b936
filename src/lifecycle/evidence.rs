//! Evidence: which later events speak of which creation, what each one means, and when the
//! service was removed.
//!
//! An event naming a service belongs to the latest creation of that name on the host that was
//! logged no later than [`LifecycleConfig::tolerance`] after it, and no earlier than
//! [`LifecycleConfig::window`] before it. A service re-created under the same name (PsExec run
//! four times) thus gets its own evidence each time.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;

use super::creation::Creation;
use super::names::{
    access_includes_delete, is_scm, is_scm_service_object, is_sysmon, service_key_in,
};
use super::{Lifecycle, LifecycleConfig};
use crate::event::SaturatingTime;
use crate::event::{Event, Locator};

/// What a piece of evidence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// 7045 or 4697: the installation itself.
    Installed,
    /// 4674 by services.exe with DELETE in the access list, logged with the creation: the new
    /// service opened with all access. Not a removal.
    DeleteCapableOpenAtCreation,
    /// 4674 with DELETE in the access list, logged later: a client opened the service able to
    /// delete it (Impacket does this when its shell exits).
    DeleteCapableOpenLater,
    /// 7036: the service entered the running state.
    Running,
    /// 7036: the service entered the stopped state.
    Stopped,
    /// 7036: another state (paused, or a localised state text).
    StateChanged,
    /// 7009: the SCM timed out waiting for it to start (its binary is a command, not a service).
    StartTimeout,
    /// 7000: it failed to start.
    StartFailed,
    /// Sysmon 13: `DeleteFlag` set on its key: the SCM marked it for deletion.
    DeleteFlagSet,
    /// Sysmon 12: its key was deleted: the service is gone.
    KeyDeleted,
    /// 4624: the logon that installed it.
    Logon,
    /// 5140: a share connected by the installing account from the source.
    ShareConnected,
    /// 5145: a file or pipe on a share opened by the installing account from the source.
    ShareObjectAccessed,
    /// Sysmon 1, 4688 or Sysmon 13 (PsExec's EULA key): a client program or service-creating
    /// command started on this host just before the install.
    ClientStarted,
    /// 4648: a program of the installing session used explicit credentials on this host.
    ExplicitCredentials,
    /// Sysmon 17: a user-context process created the pipe the new service connected to.
    PipeCreated,
    /// Sysmon 18: the new service's SYSTEM process connected to that pipe.
    PipeConnected,
    /// Sysmon 13: an existing service's `ImagePath` set to a temporary command (a
    /// reconfiguration).
    ImagePathChanged,
    /// Sysmon 13: its `ImagePath` set back (the reconfiguration undone).
    ImagePathRestored,
    /// 7040: its start type changed.
    StartTypeChanged,
}

impl Role {
    /// Short human label for tables.
    pub fn label(self) -> &'static str {
        match self {
            Role::Installed => "installed",
            Role::DeleteCapableOpenAtCreation => "delete-capable open at creation",
            Role::DeleteCapableOpenLater => "delete-capable open later (removal inferred)",
            Role::Running => "running",
            Role::Stopped => "stopped",
            Role::StateChanged => "state changed",
            Role::StartTimeout => "start time-out",
            Role::StartFailed => "start failed",
            Role::DeleteFlagSet => "marked for deletion (Sysmon 13 DeleteFlag)",
            Role::KeyDeleted => "service key deleted (Sysmon 12)",
            Role::Logon => "logon",
            Role::ShareConnected => "share connected",
            Role::ShareObjectAccessed => "share object accessed",
            Role::ClientStarted => "client started on this host",
            Role::ExplicitCredentials => "explicit credentials used on this host",
            Role::PipeCreated => "pipe created by a user process",
            Role::PipeConnected => "pipe connected by the service",
            Role::ImagePathChanged => "binary path changed (Sysmon 13)",
            Role::ImagePathRestored => "binary path set back (Sysmon 13)",
            Role::StartTypeChanged => "start type changed",
        }
    }
}

/// One event that speaks of a finding, and what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The event id.
    pub event_id: u32,
    /// When it was logged.
    pub time: Timestamp,
    /// The input it was read from.
    pub file: Arc<str>,
    /// Its EventRecordID, when the source has one.
    pub record_id: Option<u64>,
    /// Its position in the input (record, line or row).
    pub locator: Locator,
    /// What it means.
    pub role: Role,
    /// A short description (state text, access list, registry path…).
    pub detail: String,
}

impl Evidence {
    /// Evidence from `event`.
    pub fn of(event: &Event, role: Role, detail: impl Into<String>) -> Evidence {
        Evidence {
            event_id: event.event_id,
            time: event.time,
            file: event.origin.file.clone(),
            record_id: event.record_id,
            locator: event.origin.locator,
            role,
            detail: detail.into(),
        }
    }
}

/// A service-naming event and the role it would play.
struct Mention<'a> {
    event: &'a Event,
    name: &'a str,
    role: Role,
    detail: String,
}

/// What `event` says about which service, if anything.
fn mention(event: &Event) -> Option<Mention<'_>> {
    let (name, role, detail) = match event.event_id {
        4674 if is_scm_service_object(event) => {
            let mask = event.field("AccessMask").unwrap_or("");
            if !access_includes_delete(mask) {
                return None;
            }
            let process = event.field("ProcessName").unwrap_or("?");
            (
                event.field("ObjectName")?,
                Role::DeleteCapableOpenLater,
                format!("4674: opened with DELETE by {process}"),
            )
        }
        7036 if is_scm(event) => {
            let state = event.field("param2").unwrap_or("").trim();
            let role = match state.to_ascii_lowercase().as_str() {
                "running" => Role::Running,
                "stopped" => Role::Stopped,
                _ => Role::StateChanged,
            };
            (
                event.field("param1")?,
                role,
                format!("7036: entered the {state} state"),
            )
        }
        7009 if is_scm(event) => (
            event.field("param2")?,
            Role::StartTimeout,
            format!(
                "7009: start timed out after {} ms",
                event.field("param1").unwrap_or("?")
            ),
        ),
        7000 if is_scm(event) => (
            event.field("param1")?,
            Role::StartFailed,
            format!(
                "7000: failed to start: {}",
                event.field("param2").unwrap_or("?")
            ),
        ),
        13 if is_sysmon(event) => {
            let path = event.field("TargetObject")?;
            let (key, value) = service_key_in(path)?;
            if !value.eq_ignore_ascii_case("DeleteFlag") {
                return None;
            }
            (key, Role::DeleteFlagSet, format!("13: {path} set"))
        }
        12 if is_sysmon(event) => {
            if !event
                .field("EventType")
                .is_some_and(|t| t.eq_ignore_ascii_case("DeleteKey"))
            {
                return None;
            }
            let path = event.field("TargetObject")?;
            let (key, rest) = service_key_in(path)?;
            if !rest.is_empty() {
                return None;
            }
            (key, Role::KeyDeleted, format!("12: {path} deleted"))
        }
        _ => return None,
    };
    Some(Mention {
        event,
        name: name.trim(),
        role,
        detail,
    })
}

/// The evidence of each creation (same order as `creations`), creation events included.
pub fn assign(
    creations: &[Creation<'_>],
    host_events: &[&Event],
    config: &LifecycleConfig,
) -> Vec<Vec<Evidence>> {
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, c) in creations.iter().enumerate() {
        for n in c.names() {
            by_name.entry(n.to_ascii_lowercase()).or_default().push(i);
        }
    }
    let mut out: Vec<Vec<Evidence>> = creations.iter().map(Creation::own_evidence).collect();
    for m in host_events.iter().filter_map(|e| mention(e)) {
        let Some(candidates) = by_name.get(&m.name.to_ascii_lowercase()) else {
            continue;
        };
        // `creations` is in time order, so the last fitting candidate is the latest creation.
        let owner = candidates.iter().rev().copied().find(|&i| {
            let c = &creations[i];
            let created = c.time();
            // One log orders its own events: a System-log event cannot precede the 7045 it
            // follows. Only events of another log get the clock tolerance.
            let earliest = match c.system {
                Some(sys) if sys.channel.eq_ignore_ascii_case(&m.event.channel) => sys.time,
                _ => created.minus(config.tolerance),
            };
            m.event.time >= earliest && m.event.time <= created.plus(config.window)
        });
        let Some(owner) = owner else { continue };
        let mut role = m.role;
        if role == Role::DeleteCapableOpenLater
            && m.event.time.duration_since(creations[owner].time()).abs() <= config.tolerance
        {
            role = Role::DeleteCapableOpenAtCreation;
        }
        out[owner].push(Evidence::of(m.event, role, m.detail));
    }
    for ev in &mut out {
        ev.sort_by_key(|a| (a.time, a.role));
    }
    out
}

/// Date the removal from the best evidence and set `deleted`, `deletion_evidence`, `lifetime_ms`.
///
/// Best first: Sysmon's registry evidence (the key deleted, else DeleteFlag set); then a DELETE-capable open
/// after the creation with nothing about the service after it (a client opening it to delete it
/// and the service never heard of again); then the first stop (the service ended; its removal
/// is not logged, but PsExec-family tools remove it right after).
pub fn date_removal(finding: &mut Lifecycle) {
    let ev = &finding.evidence;
    // The key gone is the removal itself; DeleteFlag only marks the service for deletion
    // (it goes once the last handle to it closes).
    let registry = ev
        .iter()
        .find(|e| e.role == Role::KeyDeleted)
        .or_else(|| ev.iter().find(|e| e.role == Role::DeleteFlagSet));
    let service_events: Vec<&Evidence> = ev
        .iter()
        .filter(|e| {
            !matches!(
                e.role,
                Role::Logon
                    | Role::ShareConnected
                    | Role::ShareObjectAccessed
                    | Role::ClientStarted
                    | Role::ExplicitCredentials
                    | Role::PipeCreated
                    | Role::PipeConnected
                    | Role::StartTypeChanged
            )
        })
        .collect();
    let last_open = service_events
        .last()
        .filter(|e| e.role == Role::DeleteCapableOpenLater)
        .copied();
    let first_stop = ev.iter().find(|e| e.role == Role::Stopped);
    if let Some(best) = registry.or(last_open).or(first_stop) {
        finding.deleted = Some(best.time);
        finding.deletion_evidence = Some(best.role);
        finding.lifetime_ms = Some(best.time.duration_since(finding.created).as_millis() as i64);
    }
}
