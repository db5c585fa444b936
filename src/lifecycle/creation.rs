//! Service creations: a 7045 and a 4697 for the same installation become one.
//!
//! The two logs name the service differently (7045's `ServiceName` is the display name: `PsExec`
//! for the key `PSEXESVC`), so a pair is matched on name *or* image path, within
//! [`LifecycleConfig::merge_window`], closest in time first. Where Sysmon logged the service key
//! being written (`…\Services\<key>\ImagePath`), the key name is learnt from it.

use jiff::Timestamp;

use super::names::{is_scm, is_sysmon, same_name, service_key_in};
use super::{Evidence, Lifecycle, LifecycleConfig, Role, Verdict};
use crate::accounts::AccountDirectory;
use crate::event::Event;
use crate::event::SaturatingTime;

/// One installation, from one or both of its creation events.
#[derive(Debug, Clone)]
pub struct Creation<'a> {
    /// The System log's 7045.
    pub system: Option<&'a Event>,
    /// The Security log's 4697.
    pub security: Option<&'a Event>,
    /// The registry key name, when Sysmon showed the key being written.
    pub learnt_key: Option<String>,
}

impl<'a> Creation<'a> {
    /// When the installation was logged (the earlier of its events).
    pub fn time(&self) -> Timestamp {
        match (self.system, self.security) {
            (Some(a), Some(b)) => a.time.min(b.time),
            (Some(a), None) | (None, Some(a)) => a.time,
            (None, None) => unreachable!("a creation has at least one event"),
        }
    }

    /// The key name: 4697's `ServiceName`, else the Sysmon-learnt key, else 7045's name.
    pub fn key_name(&self) -> &str {
        self.security
            .and_then(|e| e.field_nonempty("ServiceName"))
            .or(self.learnt_key.as_deref())
            .or_else(|| self.system.and_then(|e| e.field_nonempty("ServiceName")))
            .unwrap_or("")
    }

    /// The display name (7045's `ServiceName`), when a 7045 exists.
    pub fn display_name(&self) -> Option<&str> {
        self.system.and_then(|e| e.field_nonempty("ServiceName"))
    }

    /// The service's command line.
    pub fn image_path(&self) -> &str {
        self.system
            .and_then(|e| e.field_nonempty("ImagePath"))
            .or_else(|| {
                self.security
                    .and_then(|e| e.field_nonempty("ServiceFileName"))
            })
            .unwrap_or("")
    }

    /// Every name the service is known by (key and display), for matching later evidence.
    pub fn names(&self) -> Vec<&str> {
        let mut names = vec![self.key_name()];
        if let Some(d) = self.display_name()
            && !same_name(d, names[0])
        {
            names.push(d);
        }
        names.retain(|n| !n.is_empty());
        names
    }

    fn field(&self, system_name: &str, security_name: &str) -> Option<String> {
        self.system
            .and_then(|e| e.field_nonempty(system_name))
            .or_else(|| self.security.and_then(|e| e.field_nonempty(security_name)))
            .map(str::to_string)
    }

    /// Build the lifecycle, with the account resolved and the evidence attached (not yet dated
    /// or judged).
    pub fn into_lifecycle(self, accounts: &AccountDirectory, evidence: Vec<Evidence>) -> Lifecycle {
        let user = match (self.security, self.system) {
            (Some(sec), _) if !sec.user.is_empty() => accounts.resolve(&sec.user),
            (_, Some(sys)) => accounts.resolve(&sys.user),
            (Some(sec), None) => accounts.resolve(&sec.user),
            (None, None) => unreachable!("a creation has at least one event"),
        };
        let display_name = self.display_name().map(str::to_string);
        let service_name = self.key_name().to_string();
        Lifecycle {
            computer: self
                .system
                .or(self.security)
                .map(|e| e.computer.clone())
                .unwrap_or_default(),
            display_name: display_name.filter(|d| *d != service_name),
            service_name,
            image_path: self.image_path().to_string(),
            service_type: self.field("ServiceType", "ServiceType"),
            start_type: self.field("StartType", "ServiceStartType"),
            service_account: self.field("AccountName", "ServiceAccount"),
            created: self.time(),
            deleted: None,
            deletion_evidence: None,
            lifetime_ms: None,
            verdict: Verdict::Benign,
            verdict_reasons: Vec::new(),
            user,
            logon: None,
            evidence,
            reconfiguration: None,
        }
    }

    /// The creation events themselves, as evidence.
    pub fn own_evidence(&self) -> Vec<Evidence> {
        let mut v = Vec::new();
        if let Some(e) = self.system {
            v.push(Evidence::of(
                e,
                Role::Installed,
                "7045: service installed (System log)",
            ));
        }
        if let Some(e) = self.security {
            v.push(Evidence::of(
                e,
                Role::Installed,
                "4697: service installed (Security log)",
            ));
        }
        v
    }
}

/// Merge the host's 7045s and 4697s into creations, in time order.
pub fn merge<'a>(host_events: &[&'a Event], config: &LifecycleConfig) -> Vec<Creation<'a>> {
    let systems: Vec<&Event> = host_events
        .iter()
        .copied()
        .filter(|e| e.event_id == 7045 && is_scm(e))
        .collect();
    let securities: Vec<&Event> = host_events
        .iter()
        .copied()
        .filter(|e| e.event_id == 4697)
        .collect();

    let mut used = vec![false; securities.len()];
    let mut creations = Vec::with_capacity(systems.len() + securities.len());
    for sys in systems {
        let name = sys.field("ServiceName").unwrap_or("");
        let image = sys.field("ImagePath").unwrap_or("");
        // Securities are in time order: look only at those within the merge window.
        let from = securities.partition_point(|sec| sec.time < sys.time.minus(config.merge_window));
        let best = securities
            .iter()
            .enumerate()
            .skip(from)
            .take_while(|(_, sec)| sec.time <= sys.time.plus(config.merge_window))
            .filter(|(i, _)| !used[*i])
            .filter(|(_, sec)| sec.time.duration_since(sys.time).abs() <= config.merge_window)
            .filter(|(_, sec)| {
                same_name(sec.field("ServiceName").unwrap_or(""), name)
                    || same_name(sec.field("ServiceFileName").unwrap_or(""), image)
            })
            .min_by_key(|(_, sec)| {
                (
                    !same_name(sec.field("ServiceName").unwrap_or(""), name),
                    sec.time.duration_since(sys.time).abs(),
                )
            })
            .map(|(i, _)| i);
        if let Some(i) = best {
            used[i] = true;
        }
        creations.push(Creation {
            system: Some(sys),
            security: best.map(|i| securities[i]),
            learnt_key: None,
        });
    }
    for (i, sec) in securities.into_iter().enumerate() {
        if !used[i] {
            creations.push(Creation {
                system: None,
                security: Some(sec),
                learnt_key: None,
            });
        }
    }
    creations.sort_by_key(|c| c.time());
    learn_keys_from_sysmon(&mut creations, host_events, config);
    creations
}

/// Sysmon 13 `…\Services\<key>\ImagePath` set to the creation's image path names its key.
fn learn_keys_from_sysmon(
    creations: &mut [Creation<'_>],
    host_events: &[&Event],
    config: &LifecycleConfig,
) {
    let writes: Vec<(&Event, &str)> = host_events
        .iter()
        .filter(|e| e.event_id == 13 && is_sysmon(e))
        .filter_map(|e| {
            let (key, value) = service_key_in(e.field("TargetObject")?)?;
            value.eq_ignore_ascii_case("ImagePath").then_some((*e, key))
        })
        .collect();
    for c in creations.iter_mut().filter(|c| c.security.is_none()) {
        let image = c.image_path().to_string();
        let t = c.time();
        c.learnt_key = writes
            .iter()
            .filter(|(e, _)| e.time.duration_since(t).abs() <= config.merge_window)
            .filter(|(e, _)| e.field("Details").is_some_and(|d| same_name(d, &image)))
            .min_by_key(|(e, _)| e.time.duration_since(t).abs())
            .map(|(_, key)| key.to_string());
    }
}
