//! The default semantics: one finding per service creation, telling its whole life.
//!
//! For every service installed on a host (7045 in the System log and/or 4697 in the Security log,
//! merged when they are the same installation), this stage gathers what the logs say happened to
//! it next, and labels each piece of evidence for what it really is: the 4674 with DELETE that
//! services.exe logs *at creation*, 7036 running/stopped, 7009/7000 start time-outs (a command,
//! not a service), Sysmon 12/13 on the service key (the real removal), a later DELETE-capable
//! open with nothing after it (Impacket's removal at shell exit). It then dates the removal from
//! the best evidence, joins the installing logon to its 4624, and judges the finding by behaviour.
//!
//! It sees only [`Event`]s: nothing here knows which format they were read from.
//!
//! Hosts are matched by the first label of their name, case-insensitively (`WKS01` and
//! `wks01.corp.local` are one host), because System and Security logs of one machine, or a SIEM and
//! an EVTX copy, do not always spell it the same way.

mod coverage;
mod creation;
mod evidence;
mod logon;
mod names;
mod plan;
mod reconfigure;
mod verdict;

use std::collections::BTreeMap;

use crate::accounts::AccountDirectory;
use crate::event::{Event, UserRef};
use jiff::{SignedDuration, Timestamp};

pub use coverage::{Coverage, from_census as coverage};
pub use evidence::{Evidence, Role};
pub use logon::Logon;
pub use names::{
    DELETE_ACCESS_BIT, DELETE_ACCESS_CODE, SCM_OBJECT_SERVER, SCM_PROVIDER, SERVICE_OBJECT_TYPE,
    SYSMON_PROVIDER,
};
pub use names::{file_name, file_stem};
pub use plan::plan;
pub use reconfigure::Reconfiguration;
pub use verdict::Verdict;
pub use verdict::{is_command_line, is_getsystem};

/// Time windows of the lifecycle correlation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifecycleConfig {
    /// How long after a creation its evidence (up to its removal) may come.
    pub window: SignedDuration,
    /// How long *before* a creation its evidence may be logged: clocks and buffers of the System
    /// log, the Security log and Sysmon do not order events exactly (PsExec's removal can be
    /// logged before its creation).
    pub tolerance: SignedDuration,
    /// How far apart a 7045 and a 4697 may be and still be one installation.
    pub merge_window: SignedDuration,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        LifecycleConfig {
            window: SignedDuration::from_hours(24),
            tolerance: SignedDuration::from_secs(2),
            merge_window: SignedDuration::from_secs(5),
        }
    }
}

/// One service creation and everything the logs say about its life: what the lifecycle stage
/// hands on, before attribution names its tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifecycle {
    /// The host the service was installed on, as its log spells it.
    pub computer: String,
    /// The service's key name (`HKLM\System\CurrentControlSet\Services\<name>`), where known;
    /// otherwise the name the 7045 gives.
    pub service_name: String,
    /// The display name (7045's `ServiceName` is the display name), when it is known.
    pub display_name: Option<String>,
    /// The command line the service runs.
    pub image_path: String,
    /// Service type as logged (`user mode service`, `0x10`, `kernel mode driver`…).
    pub service_type: Option<String>,
    /// Start type as logged (`demand start`, `3`, `auto start`…).
    pub start_type: Option<String>,
    /// The account the service runs as (`LocalSystem`…).
    pub service_account: Option<String>,
    /// When it was installed (the earlier of its 7045 and 4697).
    pub created: Timestamp,
    /// When it was removed or stopped, by the best evidence (see `deletion_evidence`).
    pub deleted: Option<Timestamp>,
    /// Which evidence dates `deleted`; `None` when no removal was seen.
    pub deletion_evidence: Option<Role>,
    /// `deleted - created` in milliseconds (negative when the removal was logged first).
    pub lifetime_ms: Option<i64>,
    /// The judgement.
    pub verdict: Verdict,
    /// Why, in short sentences.
    pub verdict_reasons: Vec<String>,
    /// The installing account.
    pub user: UserRef,
    /// The installing logon, when the install names it.
    pub logon: Option<Logon>,
    /// Every event that speaks of this service, in time order, labelled.
    pub evidence: Vec<Evidence>,
    /// For a service reconfigured rather than created (its binary path changed, started, set
    /// back), what was changed; `None` for a creation.
    pub reconfiguration: Option<Reconfiguration>,
}

/// Find every service lifecycle in `events` (time-ordered), ordered by creation time, then
/// computer, then service name.
pub fn correlate(events: &[Event], config: &LifecycleConfig) -> Vec<Lifecycle> {
    correlate_with(events, config, &AccountDirectory::learn(events))
}

/// [`correlate`], naming accounts from `accounts` rather than from `events` alone: a follower
/// holds a few hosts' recent events but has learnt names from everything it read.
pub(crate) fn correlate_with(
    events: &[Event],
    config: &LifecycleConfig,
    accounts: &AccountDirectory,
) -> Vec<Lifecycle> {
    let mut lifecycles: Vec<Lifecycle> = by_host(events)
        .values()
        .flat_map(|host_events| correlate_host(host_events, config, accounts))
        .collect();
    // Stable: each host's in the order found, hosts in key order.
    lifecycles.sort_by(|a, b| {
        (a.created, &a.computer, &a.service_name).cmp(&(b.created, &b.computer, &b.service_name))
    });
    lifecycles
}

/// `events` by host (see [`host_key`]), hosts in key order, each host's in their order.
pub(crate) fn by_host(events: &[Event]) -> BTreeMap<String, Vec<&Event>> {
    by_host_of(events, |e| &e.computer)
}

/// `items` by the host `computer` names (see [`host_key`]), as [`by_host`] groups events.
pub(crate) fn by_host_of<T>(
    items: &[T],
    computer: impl Fn(&T) -> &str,
) -> BTreeMap<String, Vec<&T>> {
    let mut by_host: BTreeMap<String, Vec<&T>> = BTreeMap::new();
    for item in items {
        by_host
            .entry(host_key(computer(item)))
            .or_default()
            .push(item);
    }
    by_host
}

/// Every lifecycle of one host's events (time-ordered, each once), in the order found.
pub(crate) fn correlate_host(
    host_events: &[&Event],
    config: &LifecycleConfig,
    accounts: &AccountDirectory,
) -> Vec<Lifecycle> {
    let mut lifecycles = Vec::new();
    let creations = creation::merge(host_events, config);
    let logons = logon::LogonIndex::build(host_events);
    let assigned = evidence::assign(&creations, host_events, config);
    let context = verdict::HostContext::build(host_events);
    for mut lifecycle in reconfigure::find(host_events, &creations, accounts, config) {
        verdict::judge(&mut lifecycle, &context);
        lifecycles.push(lifecycle);
    }
    for (creation, evidence) in creations.into_iter().zip(assigned) {
        let names: Vec<String> = creation.names().iter().map(|n| n.to_string()).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let logon_id = logons.installing_logon_id(
            creation.security,
            &names,
            creation.time(),
            config.tolerance,
        );
        let mut lifecycle = creation.into_lifecycle(accounts, evidence);
        if let Some(id) = logon_id {
            let logon = logons.logon_of(&id, lifecycle.created, config.tolerance);
            let extra = logons.evidence(
                &logon,
                lifecycle.user.sid.as_deref(),
                lifecycle.created,
                config.tolerance,
            );
            lifecycle.evidence.extend(extra);
            lifecycle.evidence.sort_by_key(|a| (a.time, a.role));
            lifecycle.logon = Some(logon);
        }
        evidence::date_removal(&mut lifecycle);
        verdict::judge(&mut lifecycle, &context);
        lifecycles.push(lifecycle);
    }
    lifecycles
}

/// The host identity used to put a host's System, Security and Sysmon events together.
pub fn host_key(computer: &str) -> String {
    computer
        .split('.')
        .next()
        .unwrap_or(computer)
        .to_ascii_lowercase()
}

/// A duration in milliseconds in a few characters: `170 ms`, `2.3 s`, `4.0 min`, `3.2 h`.
pub fn human_ms(ms: i64) -> String {
    let a = ms.abs();
    if a < 1_000 {
        format!("{ms} ms")
    } else if a < 120_000 {
        format!("{:.1} s", ms as f64 / 1e3)
    } else if a < 7_200_000 {
        format!("{:.1} min", ms as f64 / 6e4)
    } else {
        format!("{:.1} h", ms as f64 / 3.6e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(human_ms(170), "170 ms");
        assert_eq!(human_ms(-3), "-3 ms");
        assert_eq!(human_ms(2_345), "2.3 s");
        assert_eq!(human_ms(240_000), "4.0 min");
        assert_eq!(human_ms(3 * 3_600_000), "3.0 h");
    }

    #[test]
    fn hosts_match_by_first_label() {
        assert_eq!(host_key("WKS01.corp.local"), host_key("wks01"));
        assert_ne!(host_key("WKS01"), host_key("WKS02"));
    }
}
