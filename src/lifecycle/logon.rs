//! From where: the installing logon, joined to its 4624 and to the share access around it.
//!
//! 4697 (and services.exe's 4674 at creation) carry the installer's `SubjectLogonId`; on the same
//! host, the 4624 whose `TargetLogonId` is that id says how the installer logged on: type 3
//! (network) with an IP and workstation for a remote tool, type 2/10/11 for someone at the
//! machine. 5140/5145 from the same address and account around the creation show the shares,
//! files and pipes the tool used.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};

use super::evidence::{Evidence, Role};
use super::names::{is_scm_service_object, same_name};
use crate::event::Event;
use crate::event::SaturatingTime;

/// The logon session that installed a service, from its 4624.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Logon {
    /// The installing logon session (`0x2990d17`), when the install names it.
    pub logon_id: Option<String>,
    /// 4624 `LogonType` (3 = network).
    pub logon_type: Option<u32>,
    /// The client address of the logon.
    pub ip: Option<String>,
    /// The client's workstation name, as the logon gives it.
    pub workstation: Option<String>,
    /// Authentication package (`Kerberos`, `NTLM`…).
    pub auth: Option<String>,
    /// When the logon happened.
    pub logon_time: Option<Timestamp>,
}

/// How close share access must be to a creation to be shown with it.
const SHARE_ACCESS_SPAN: SignedDuration = SignedDuration::from_secs(60);

/// Normalise a logon id (`0x1376020`, `0X01376020`, decimal) to lower-case hex.
pub fn normalise_logon_id(id: &str) -> Option<String> {
    let id = id.trim();
    let n = match id.strip_prefix("0x").or_else(|| id.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok()?,
        None => id.parse().ok()?,
    };
    Some(format!("{n:#x}"))
}

/// A host's 4624 logons by their `TargetLogonId`.
pub struct LogonIndex<'a> {
    logons: HashMap<String, Vec<&'a Event>>,
    shares: Vec<&'a Event>,
    scm_opens: Vec<&'a Event>,
}

impl<'a> LogonIndex<'a> {
    /// Index `host_events`.
    pub fn build(host_events: &[&'a Event]) -> Self {
        let mut logons: HashMap<String, Vec<&Event>> = HashMap::new();
        let mut shares = Vec::new();
        let mut scm_opens = Vec::new();
        for e in host_events {
            match e.event_id {
                4624 => {
                    if let Some(id) = e.field("TargetLogonId").and_then(normalise_logon_id) {
                        logons.entry(id).or_default().push(e);
                    }
                }
                5140 | 5145 => shares.push(*e),
                4674 if is_scm_service_object(e) => scm_opens.push(*e),
                _ => {}
            }
        }
        LogonIndex {
            logons,
            shares,
            scm_opens,
        }
    }

    /// The installing logon id: 4697's `SubjectLogonId`, else that of services.exe's 4674 on the
    /// service at creation.
    pub fn installing_logon_id(
        &self,
        security: Option<&Event>,
        names: &[&str],
        created: Timestamp,
        tolerance: SignedDuration,
    ) -> Option<String> {
        if let Some(id) = security.and_then(|e| e.field("SubjectLogonId")) {
            return normalise_logon_id(id);
        }
        self.scm_opens
            .iter()
            .filter(|e| e.time.duration_since(created).abs() <= tolerance)
            .find(|e| {
                e.field("ObjectName")
                    .is_some_and(|o| names.iter().any(|n| same_name(n, o)))
            })
            .and_then(|e| e.field("SubjectLogonId"))
            .and_then(normalise_logon_id)
    }

    /// The 4624 of `logon_id` logged last before `created` (or within `tolerance` after it:
    /// the Security log's clock does not order it exactly against the System log's).
    fn logon(
        &self,
        logon_id: &str,
        created: Timestamp,
        tolerance: SignedDuration,
    ) -> Option<&'a Event> {
        let logons = self.logons.get(logon_id)?;
        logons
            .iter()
            .filter(|e| e.time <= created.plus(tolerance))
            .max_by_key(|e| e.time)
            .or_else(|| logons.first())
            .copied()
    }

    /// The installing logon `logon_id`, with what its 4624 says when it is in the log.
    pub fn logon_of(&self, logon_id: &str, created: Timestamp, tolerance: SignedDuration) -> Logon {
        let logon = self.logon(logon_id, created, tolerance);
        let get = |name: &str| {
            logon
                .and_then(|e| e.field_nonempty(name))
                .map(str::to_string)
        };
        Logon {
            logon_id: Some(logon_id.to_string()),
            logon_type: get("LogonType").and_then(|t| t.parse().ok()),
            ip: get("IpAddress"),
            workstation: get("WorkstationName"),
            auth: get("AuthenticationPackageName"),
            logon_time: logon.map(|e| e.time),
        }
    }

    /// Evidence of the logon and of the share access from the same client and account around
    /// the creation.
    pub fn evidence(
        &self,
        source: &Logon,
        user_sid: Option<&str>,
        created: Timestamp,
        tolerance: SignedDuration,
    ) -> Vec<Evidence> {
        let mut out = Vec::new();
        let logon_id = source.logon_id.as_deref().unwrap_or("");
        if let Some(logon) = self.logon(logon_id, created, tolerance) {
            out.push(Evidence::of(
                logon,
                Role::Logon,
                format!(
                    "4624: logon type {} from {} ({})",
                    logon.field("LogonType").unwrap_or("?"),
                    logon.field("IpAddress").unwrap_or("-"),
                    logon.field("AuthenticationPackageName").unwrap_or("?")
                ),
            ));
        }
        // Shares are in time order: look only at those around the creation.
        let from = self
            .shares
            .partition_point(|e| e.time < created.minus(SHARE_ACCESS_SPAN));
        for e in self.shares[from..]
            .iter()
            .take_while(|e| e.time <= created.plus(SHARE_ACCESS_SPAN))
        {
            let same_logon = e
                .field("SubjectLogonId")
                .and_then(normalise_logon_id)
                .is_some_and(|id| id == logon_id);
            let same_client = source.ip.is_some()
                && e.field("IpAddress") == source.ip.as_deref()
                && user_sid.is_some()
                && e.field("SubjectUserSid") == user_sid;
            if !(same_logon || same_client) {
                continue;
            }
            let share = e.field("ShareName").unwrap_or("?");
            let (role, detail) = match e.event_id {
                5140 => (Role::ShareConnected, format!("5140: {share} connected")),
                _ => {
                    // %%4417 is WriteData/AddFile: the client wrote to the object.
                    let write = e
                        .field("AccessList")
                        .is_some_and(|a| a.split_whitespace().any(|t| t == "%%4417"));
                    let target = e.field("RelativeTargetName").unwrap_or("?");
                    let how = if write { " (write)" } else { "" };
                    (
                        Role::ShareObjectAccessed,
                        format!("5145: {share}\\{target}{how}"),
                    )
                }
            };
            out.push(Evidence::of(e, role, detail));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logon_ids_normalise() {
        assert_eq!(
            normalise_logon_id("0x1376020").as_deref(),
            Some("0x1376020")
        );
        assert_eq!(
            normalise_logon_id("0X01376020").as_deref(),
            Some("0x1376020")
        );
        assert_eq!(normalise_logon_id("999").as_deref(), Some("0x3e7"));
        assert_eq!(normalise_logon_id("-"), None);
    }
}
