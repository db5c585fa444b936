//! Execution without a new service: an existing service's binary path changed (ChangeServiceConfig),
//! the service started, and the path set back — SCShell, SharpNoPSExec, lsassy's stealth mode,
//! PowerUp's Invoke-ServiceAbuse. No 7045 or 4697 is logged; what shows is Sysmon 13 on the
//! service's `ImagePath` (set, then set back within minutes), 7040 when the start type is
//! changed for it, the service's 7036/7009/7000, and the `svcctl` pipe the client opened over
//! the network (5145).
//!
//! Each such sequence becomes a lifecycle of its own kind, with the original and the temporary
//! image paths, judged like a creation.

use std::collections::BTreeMap;

use crate::event::SaturatingTime;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::creation::Creation;
use super::evidence::{Evidence, Role};
use super::logon::{Logon, normalise_logon_id};
use super::names::{is_scm, is_sysmon, same_name, service_key_in};
use super::{Lifecycle, LifecycleConfig, Verdict};
use crate::accounts::AccountDirectory;
use crate::event::{Event, UserRef};

/// How long a binary path may stay changed and still be one borrowing of the service.
const SPAN: SignedDuration = SignedDuration::from_mins(15);
/// How long before the change the client's `svcctl` pipe may have been opened.
const PIPE_BEFORE: SignedDuration = SignedDuration::from_secs(120);

/// What a reconfiguration changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reconfiguration {
    /// The binary path before the change, and after it was set back.
    pub original_image_path: String,
    /// The binary paths it was set to meanwhile, in order.
    pub temporary_image_paths: Vec<String>,
    /// When it was set back.
    pub restored: Timestamp,
    /// Start-type changes made for it (7040: `disabled → demand start`…), in order.
    pub start_type_changes: Vec<String>,
}

struct Write<'a> {
    event: &'a Event,
    key: &'a str,
    value: &'a str,
}

fn normalised(path: &str) -> String {
    path.trim().trim_matches('"').to_ascii_lowercase()
}

/// The host's reconfigurations: ImagePath writes by key, not part of a creation of that key,
/// set and then set back.
pub fn find(
    host_events: &[&Event],
    creations: &[Creation<'_>],
    accounts: &AccountDirectory,
    config: &LifecycleConfig,
) -> Vec<Lifecycle> {
    let mut by_key: BTreeMap<String, Vec<Write<'_>>> = BTreeMap::new();
    for e in host_events
        .iter()
        .filter(|e| e.event_id == 13 && is_sysmon(e))
    {
        let Some((key, value)) = e.field("TargetObject").and_then(service_key_in) else {
            continue;
        };
        if !value.eq_ignore_ascii_case("ImagePath") {
            continue;
        }
        let Some(details) = e.field_nonempty("Details") else {
            continue;
        };
        by_key
            .entry(key.to_ascii_lowercase())
            .or_default()
            .push(Write {
                event: e,
                key,
                value: details,
            });
    }
    let created_near = |key: &str, t: Timestamp| {
        creations.iter().any(|c| {
            c.names().iter().any(|n| same_name(n, key))
                && c.time().duration_since(t).abs() <= config.merge_window
        })
    };
    let mut out = Vec::new();
    for writes in by_key.values() {
        let mut i = 0;
        while i < writes.len() {
            // A run: writes to the key each within SPAN of the one before.
            let mut j = i + 1;
            while j < writes.len()
                && writes[j]
                    .event
                    .time
                    .duration_since(writes[j - 1].event.time)
                    <= SPAN
            {
                j += 1;
            }
            let run = &writes[i..j];
            i = j;
            if run.len() < 2 || run.iter().any(|w| created_near(w.key, w.event.time)) {
                continue;
            }
            let last = &run[run.len() - 1];
            let temporaries: Vec<&Write<'_>> = run[..run.len() - 1]
                .iter()
                .filter(|w| normalised(w.value) != normalised(last.value))
                .collect();
            if temporaries.is_empty() {
                continue;
            }
            out.push(lifecycle(host_events, &temporaries, last, accounts, config));
        }
    }
    out
}

fn lifecycle(
    host_events: &[&Event],
    temporaries: &[&Write<'_>],
    restore: &Write<'_>,
    accounts: &AccountDirectory,
    config: &LifecycleConfig,
) -> Lifecycle {
    let first = temporaries[0];
    let key = first.key;
    let (from, to) = (
        first.event.time.minus(config.tolerance),
        restore.event.time.plus(SignedDuration::from_secs(60)),
    );
    let mut evidence = Vec::new();
    for w in temporaries {
        evidence.push(Evidence::of(
            w.event,
            Role::ImagePathChanged,
            format!("13: ImagePath set to {}", w.value),
        ));
    }
    evidence.push(Evidence::of(
        restore.event,
        Role::ImagePathRestored,
        format!("13: ImagePath set back to {}", restore.value),
    ));
    // 7040s name the service by display name and (since Windows 8) key; they also carry the
    // caller's SID.
    let mut display: Option<String> = None;
    let mut caller: Option<&Event> = None;
    let mut start_changes = Vec::new();
    let mut start_type = None;
    for e in host_events
        .iter()
        .filter(|e| e.event_id == 7040 && is_scm(e))
        .filter(|e| e.time >= from.minus(SignedDuration::from_secs(60)) && e.time <= to)
    {
        let names_key = e.field("param4").is_some_and(|k| same_name(k, key));
        let names_display = display
            .as_deref()
            .zip(e.field("param1"))
            .is_some_and(|(d, p)| same_name(d, p));
        if !(names_key || names_display) {
            continue;
        }
        display = e.field_nonempty("param1").map(str::to_string);
        caller.get_or_insert(*e);
        let change = format!(
            "{} → {}",
            e.field("param2").unwrap_or("?"),
            e.field("param3").unwrap_or("?")
        );
        start_type.get_or_insert_with(|| e.field("param3").unwrap_or("").to_string());
        evidence.push(Evidence::of(
            e,
            Role::StartTypeChanged,
            format!("7040: start type {change}"),
        ));
        start_changes.push(change);
    }
    // The service's own state events, by key or display name.
    for e in host_events
        .iter()
        .filter(|e| matches!(e.event_id, 7036 | 7009 | 7000) && is_scm(e))
        .filter(|e| e.time >= from && e.time <= to)
    {
        let named = ["param1", "param2"].iter().any(|f| {
            e.field(f).is_some_and(|n| {
                same_name(n, key) || display.as_deref().is_some_and(|d| same_name(n, d))
            })
        });
        if !named {
            continue;
        }
        let (role, detail) = match e.event_id {
            7009 => (Role::StartTimeout, "7009: start timed out".to_string()),
            7000 => (Role::StartFailed, "7000: failed to start".to_string()),
            _ => {
                let state = e.field("param2").unwrap_or("").trim().to_string();
                let role = match state.to_ascii_lowercase().as_str() {
                    "running" => Role::Running,
                    "stopped" => Role::Stopped,
                    _ => Role::StateChanged,
                };
                (role, format!("7036: entered the {state} state"))
            }
        };
        evidence.push(Evidence::of(e, role, detail));
    }
    // The client's svcctl pipe over the network, just before the change.
    let pipe = host_events
        .iter()
        .filter(|e| e.event_id == 5145)
        .filter(|e| {
            e.field("RelativeTargetName")
                .is_some_and(|t| t.trim_start_matches('\\').eq_ignore_ascii_case("svcctl"))
        })
        .filter(|e| {
            e.time <= first.event.time.plus(config.tolerance)
                && first.event.time.duration_since(e.time) <= PIPE_BEFORE
        })
        .max_by_key(|e| e.time);
    let mut logon = None;
    if let Some(p) = pipe {
        evidence.push(Evidence::of(
            p,
            Role::ShareObjectAccessed,
            format!(
                "5145: {}\\svcctl",
                p.field("ShareName").unwrap_or("\\\\*\\IPC$")
            ),
        ));
        logon = Some(Logon {
            logon_id: p.field("SubjectLogonId").and_then(normalise_logon_id),
            logon_type: Some(3),
            ip: p.field_nonempty("IpAddress").map(str::to_string),
            ..Logon::default()
        });
    }
    let user = match (caller, pipe) {
        (Some(e), _) if !e.user.is_empty() => accounts.resolve(&e.user),
        (_, Some(p)) => accounts.resolve(&UserRef {
            sid: p.field_nonempty("SubjectUserSid").map(str::to_string),
            name: p.user.name.clone(),
        }),
        _ => UserRef::default(),
    };
    evidence.sort_by_key(|a| (a.time, a.role));
    let created = first.event.time;
    Lifecycle {
        computer: first.event.computer.clone(),
        service_name: key.to_string(),
        display_name: display.filter(|d| !same_name(d, key)),
        image_path: first.value.to_string(),
        service_type: None,
        start_type,
        service_account: None,
        created,
        deleted: Some(restore.event.time),
        deletion_evidence: Some(Role::ImagePathRestored),
        lifetime_ms: Some(restore.event.time.duration_since(created).as_millis() as i64),
        verdict: Verdict::Benign,
        verdict_reasons: Vec::new(),
        user,
        logon,
        evidence,
        reconfiguration: Some(Reconfiguration {
            original_image_path: restore.value.to_string(),
            temporary_image_paths: temporaries.iter().map(|w| w.value.to_string()).collect(),
            restored: restore.event.time,
            start_type_changes: start_changes,
        }),
    }
}
