//! SID ↔ `DOMAIN\name` resolution from the logs themselves.
//!
//! A System-log 7045 names its installer only by SID (`Security/@UserID`); Sentinel shows a name
//! because its agent resolves it. Offline, the Security log carries the same pairs in its
//! `Subject*` and `Target*` fields (4624, 4674, 4697, 5140, …), so a directory built from them
//! resolves most SIDs without touching a domain controller. Well-known SIDs resolve by table.

use std::collections::BTreeMap;

use crate::event::{Event, UserRef};
use crate::select::Anchor;

mod sightings;
pub use sightings::AccountSightings;

/// A SID → name map learnt from events.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct AccountDirectory {
    /// SID (upper-case) → name → times seen; the most seen name wins, ties by name order.
    /// Ordered, so that a follower's saved state (which holds it) is the same bytes each run.
    names: BTreeMap<String, BTreeMap<String, u32>>,
}

/// Call `f` with each SID/name pair `e` carries, in order: its Subject and Target accounts,
/// then its user; of its data, only `kept` fields when given (as a projection that kept only
/// those would leave it). A name made of a domain and a user is written in `name`, the
/// caller's buffer: an event's pairs cost no allocation.
fn each_pair<E: Anchor + ?Sized>(
    e: &E,
    kept: Option<&[&str]>,
    name: &mut String,
    mut f: impl FnMut(&str, &str),
) {
    const PAIRS: [[&str; 3]; 2] = [
        ["SubjectUserSid", "SubjectDomainName", "SubjectUserName"],
        ["TargetUserSid", "TargetDomainName", "TargetUserName"],
    ];
    let field = |field: &str| {
        kept.is_none_or(|k| k.contains(&field))
            .then(|| e.field(field))
            .flatten()
    };
    for [sid, domain, user] in PAIRS {
        let Some(sid) = field(sid)
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "-")
        else {
            continue;
        };
        if UserRef::join_name_into(field(domain), field(user), name) {
            f(sid, name);
        }
    }
    if let (Some(sid), Some(user)) = (e.user_sid(), e.user_name()) {
        f(sid, user);
    }
}

/// Whether a pair of `sid` is learnt: `S-1-0-0` (NULL SID) and `-` carry no identity; a
/// well-known SID is named by the table (SYSTEM is `<host>$` in every host's logs: as many names
/// as hosts, none used).
fn identifies(sid: &str) -> bool {
    sid != "S-1-0-0" && sid.starts_with("S-") && well_known(sid).is_none()
}

/// Whether `sid` is one [`AccountDirectory::name_of`] names by table, without the logs.
pub(crate) fn is_well_known(sid: &str) -> bool {
    well_known(sid).is_some()
}

/// Names Windows gives well-known SIDs regardless of domain.
fn well_known(sid: &str) -> Option<&'static str> {
    Some(match sid {
        "S-1-5-18" => "NT AUTHORITY\\SYSTEM",
        "S-1-5-19" => "NT AUTHORITY\\LOCAL SERVICE",
        "S-1-5-20" => "NT AUTHORITY\\NETWORK SERVICE",
        "S-1-5-7" => "NT AUTHORITY\\ANONYMOUS LOGON",
        _ => return None,
    })
}

impl AccountDirectory {
    /// Learn every SID/name pair that `events` carry.
    pub fn learn(events: &[Event]) -> Self {
        let mut dir = AccountDirectory::default();
        for e in events {
            dir.learn_event(e);
        }
        dir
    }

    /// Learn the SID/name pairs one event carries (a follower learns as events arrive).
    pub fn learn_event(&mut self, e: &Event) {
        self.learn_event_within(e, usize::MAX, usize::MAX);
    }

    /// [`AccountDirectory::learn_event`] for an event however it is held.
    pub(crate) fn learn_anchor(&mut self, e: &dyn Anchor) {
        each_pair(e, None, &mut String::new(), |sid, name| {
            self.add(sid, name, usize::MAX, usize::MAX);
        });
    }

    /// [`AccountDirectory::learn_event`], learning no new SID once `max_sids` are known and no
    /// new name of a SID that has `max_names` (a SID has one or two spellings, `CORP` and
    /// `corp.local`; a log that gives it thousands must not grow a follower's memory); returns
    /// how many pairs were not learnt.
    pub fn learn_event_within(&mut self, e: &Event, max_sids: usize, max_names: usize) -> u64 {
        let mut refused = 0;
        each_pair(e, None, &mut String::new(), |sid, name| {
            refused += u64::from(!self.add(sid, name, max_sids, max_names));
        });
        refused
    }

    /// The directory `events` and the folded `sightings` give together.
    pub fn learn_with(events: &[Event], sightings: &AccountSightings) -> Self {
        let mut dir = AccountDirectory::learn(events);
        sightings.learn_into(&mut dir);
        dir
    }

    /// Count one sighting of `name` for `sid`; false when a bound refused it.
    fn add(&mut self, sid: &str, name: &str, max_sids: usize, max_names: usize) -> bool {
        self.add_times(sid, name, 1, max_sids, max_names)
    }

    /// Count `times` sightings of `name` for `sid`; false when a bound refused them.
    fn add_times(
        &mut self,
        sid: &str,
        name: &str,
        times: u32,
        max_sids: usize,
        max_names: usize,
    ) -> bool {
        if !identifies(sid) {
            return true;
        }
        let key = sid.to_ascii_uppercase();
        if self.names.len() >= max_sids && !self.names.contains_key(&key) {
            return false;
        }
        let names = self.names.entry(key).or_default();
        if names.len() >= max_names && !names.contains_key(name) {
            return false;
        }
        *names.entry(name.to_string()).or_default() += times;
        true
    }

    /// The name for `sid`, if the logs or the well-known table give one.
    pub fn name_of(&self, sid: &str) -> Option<String> {
        if let Some(n) = well_known(sid) {
            return Some(n.to_string());
        }
        let names = self.names.get(&sid.to_ascii_uppercase())?;
        names
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(n, _)| n.clone())
    }

    /// `user` with its name filled in from its SID where the event gave none.
    pub fn resolve(&self, user: &UserRef) -> UserRef {
        let mut u = user.clone();
        if u.name.is_none() {
            u.name = u.sid.as_deref().and_then(|s| self.name_of(s));
        }
        u
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(data: &[(&str, &str)]) -> Event {
        crate::event::test_event(4624, "Security", data)
    }

    /// A follower's saved state holds the directory: the same accounts, learnt in any order,
    /// are the same bytes.
    #[test]
    fn a_directory_serialises_alike_whatever_order_it_learnt_in() {
        let pairs: Vec<(String, String)> = (0..40)
            .map(|i| (format!("S-1-5-21-1-2-3-{i}"), format!("CORP\\user{i}")))
            .collect();
        let json = |order: &mut dyn Iterator<Item = &(String, String)>| {
            let mut dir = AccountDirectory::default();
            for (sid, name) in order {
                dir.add_times(sid, name, 1, usize::MAX, usize::MAX);
            }
            serde_json::to_string(&dir).unwrap()
        };
        assert_eq!(json(&mut pairs.iter()), json(&mut pairs.iter().rev()));
    }

    #[test]
    fn learns_target_and_subject_pairs() {
        let dir = AccountDirectory::learn(&[
            ev(&[
                ("SubjectUserSid", "S-1-0-0"),
                ("SubjectUserName", "-"),
                ("TargetUserSid", "S-1-5-21-1-2-3-1104"),
                ("TargetUserName", "pgustavo"),
                ("TargetDomainName", "THESHIRE"),
            ]),
            ev(&[
                ("SubjectUserSid", "S-1-5-21-1-2-3-1104"),
                ("SubjectUserName", "pgustavo"),
                ("SubjectDomainName", "THESHIRE"),
            ]),
        ]);
        assert_eq!(
            dir.name_of("s-1-5-21-1-2-3-1104").as_deref(),
            Some("THESHIRE\\pgustavo")
        );
        assert_eq!(dir.name_of("S-1-0-0"), None);
        assert_eq!(
            dir.name_of("S-1-5-18").as_deref(),
            Some("NT AUTHORITY\\SYSTEM")
        );
    }

    #[test]
    fn most_frequent_name_wins() {
        let pair = |d: &str| {
            ev(&[
                ("SubjectUserSid", "S-1-5-21-9"),
                ("SubjectUserName", "admmig"),
                ("SubjectDomainName", d),
            ])
        };
        let dir = AccountDirectory::learn(&[pair("OFFSEC.LAN"), pair("OFFSEC"), pair("OFFSEC")]);
        assert_eq!(dir.name_of("S-1-5-21-9").as_deref(), Some("OFFSEC\\admmig"));
    }
}
