//! Audit coverage: what each host's logs could show, so a missing removal can be read right.
//!
//! "No deletion seen" means little when the host has no Sysmon and 4674 is not audited. For each
//! host this records which kinds of evidence appear at all in what was read: from the census of
//! every record the hunt looked at, kept or not (a logon that names no install still proves
//! that the host audits logons).

use serde::Serialize;

use std::collections::BTreeMap;

use crate::event::{Census, channel};

/// Which evidence a host's logs hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// The host, as its first event spells it.
    pub computer: String,
    /// Any System-log event (7045/7036/7009…) was read.
    pub system_log: bool,
    /// Any Security-log event was read.
    pub security_log: bool,
    /// 7045 seen (service installs in the System log).
    pub installs_7045: bool,
    /// 4697 seen ("Audit Security System Extension" on).
    pub installs_4697: bool,
    /// 4674 on SC Manager seen ("Audit Sensitive Privilege Use" on).
    pub privileged_ops_4674: bool,
    /// 7036 service state changes seen.
    pub state_changes_7036: bool,
    /// 4624 logons seen.
    pub logons_4624: bool,
    /// 5140/5145 share access seen ("Audit File Share" / "Detailed File Share" on).
    pub share_access_5140_5145: bool,
    /// Sysmon events seen.
    pub sysmon: bool,
}

impl Coverage {
    /// The evidence kinds missing, in words, for the summary line.
    pub fn gaps(&self) -> Vec<&'static str> {
        let mut gaps = Vec::new();
        let checks = [
            (self.system_log, "no System log"),
            (self.security_log, "no Security log"),
            (self.installs_4697, "no 4697"),
            (self.privileged_ops_4674, "no 4674"),
            (self.state_changes_7036, "no 7036"),
            (self.logons_4624, "no 4624"),
            (self.share_access_5140_5145, "no 5140/5145"),
            (self.sysmon, "no Sysmon"),
        ];
        for (present, gap) in checks {
            if !present {
                gaps.push(gap);
            }
        }
        gaps
    }
}

/// Coverage of every host in a census (hosts matched as the lifecycle matches them).
pub fn from_census(census: &Census) -> Vec<Coverage> {
    let mut by_host: BTreeMap<String, Coverage> = BTreeMap::new();
    for ((computer, chan), ids) in census {
        let c = by_host
            .entry(super::host_key(computer))
            .or_insert_with(|| Coverage {
                computer: computer.clone(),
                system_log: false,
                security_log: false,
                installs_7045: false,
                installs_4697: false,
                privileged_ops_4674: false,
                state_changes_7036: false,
                logons_4624: false,
                share_access_5140_5145: false,
                sysmon: false,
            });
        let has = |id: u32| ids.contains(&id);
        c.system_log |= chan.eq_ignore_ascii_case(channel::SYSTEM);
        c.security_log |= chan.eq_ignore_ascii_case(channel::SECURITY);
        c.sysmon |= chan.eq_ignore_ascii_case(channel::SYSMON);
        c.installs_7045 |= has(7045);
        c.installs_4697 |= has(4697);
        c.privileged_ops_4674 |= has(4674);
        c.state_changes_7036 |= has(7036);
        c.logons_4624 |= has(4624);
        c.share_access_5140_5145 |= has(5140) || has(5145);
    }
    by_host.into_values().collect()
}
