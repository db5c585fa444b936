//! The one normalised event shape that every reader yields and every later stage consumes.
//!
//! Nothing downstream of the readers looks at EVTX, JSON or CSV details: whatever a format calls
//! a field, by the time an [`Event`] leaves its reader it has a UTC time, a computer, a channel,
//! a provider, an event id, the acting user and its event-data fields by their Windows names
//! (`ServiceName`, `SubjectLogonId`, …), plus an [`Origin`] that says where it was read so a
//! finding can always be traced back to its source record.

use std::fmt;
use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;

/// The account an event is attributed to: a SID, a `DOMAIN\name`, or both.
///
/// For System-channel events (7045, 7036) this comes from `System/Security/@UserID`; for Security
/// events from the `Subject*` fields of the event data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct UserRef {
    /// Security identifier, e.g. `S-1-5-21-…-1104`.
    pub sid: Option<String>,
    /// `DOMAIN\name` (or a bare name where the source has no domain).
    pub name: Option<String>,
}

impl UserRef {
    /// True when neither a SID nor a name is known.
    pub fn is_empty(&self) -> bool {
        self.sid.is_none() && self.name.is_none()
    }

    /// Build `DOMAIN\name` from separate domain and user fields, skipping empty or `-` parts.
    pub fn join_name(domain: Option<&str>, user: Option<&str>) -> Option<String> {
        fn clean(s: Option<&str>) -> Option<&str> {
            s.map(str::trim).filter(|s| !s.is_empty() && *s != "-")
        }
        match (clean(domain), clean(user)) {
            (Some(d), Some(u)) => Some(format!("{d}\\{u}")),
            (None, Some(u)) => Some(u.to_string()),
            _ => None,
        }
    }
}

/// Where inside its file a record was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "at", rename_all = "snake_case")]
pub enum Locator {
    /// An EVTX record, by its EventRecordID.
    Record(u64),
    /// A line of a JSON-lines or CSV file (1-based).
    Line(u64),
    /// An element of a JSON array or a row of a JSON table (0-based).
    Row(u64),
}

impl fmt::Display for Locator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Locator::Record(id) => write!(f, "record {id}"),
            Locator::Line(n) => write!(f, "line {n}"),
            Locator::Row(n) => write!(f, "row {n}"),
        }
    }
}

/// The file (and member of a container, as `archive.zip!inner.json`) and position of a record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Origin {
    /// Display path of the input, shared by every event read from it.
    pub file: Arc<str>,
    /// Position of the record inside that input.
    pub locator: Locator,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.file, self.locator)
    }
}

/// One Windows event, as every reader yields it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// When the event was logged, in UTC with the source's full precision.
    pub time: Timestamp,
    /// The computer that logged it (as the log says, e.g. `WORKSTATION6.theshire.local`).
    pub computer: String,
    /// The channel (`System`, `Security`, `Microsoft-Windows-Sysmon/Operational`, …).
    pub channel: String,
    /// The provider (`Service Control Manager`, `Microsoft-Windows-Security-Auditing`, …).
    pub provider: String,
    /// The event id (without qualifiers).
    pub event_id: u32,
    /// The EventRecordID, when the source carries one.
    pub record_id: Option<u64>,
    /// The acting account (see [`UserRef`]).
    pub user: UserRef,
    /// Event-data fields by their Windows names, in source order.
    pub data: Vec<(String, String)>,
    /// Where the event was read.
    pub origin: Origin,
}

impl Event {
    /// The value of event-data field `name` (exact name first, then ASCII case-insensitive).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.data
            .iter()
            .find(|(k, _)| k == name)
            .or_else(|| self.data.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
            .map(|(_, v)| v.as_str())
    }

    /// Like [`Event::field`], but treats empty strings and the Windows placeholder `-` as absent.
    pub fn field_nonempty(&self, name: &str) -> Option<&str> {
        self.field(name)
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "-")
    }

    /// Fill [`Event::user`] from the `Subject*` event-data fields where the source did not give
    /// an account in its header (Security-channel events carry it there).
    pub fn fill_user_from_subject(&mut self) {
        if self.user.sid.is_none() {
            self.user.sid = self.field_nonempty("SubjectUserSid").map(str::to_string);
        }
        if self.user.name.is_none() {
            self.user.name = UserRef::join_name(
                self.field("SubjectDomainName"),
                self.field("SubjectUserName"),
            );
        }
    }

    /// A key that is equal for two copies of the same record (the same log copied into two
    /// folders), used to read each record once. It ignores where the record was read.
    pub fn identity(&self) -> EventIdentity {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.computer.hash(&mut h);
        self.channel.hash(&mut h);
        self.provider.hash(&mut h);
        self.event_id.hash(&mut h);
        self.record_id.hash(&mut h);
        self.time.hash(&mut h);
        self.data.hash(&mut h);
        EventIdentity(h.finish())
    }
}

/// Put events in time order (ties by computer and origin) and keep each record once (see
/// [`Event::identity`]); returns how many copies were dropped.
pub fn order_and_dedup(events: &mut Vec<Event>) -> u64 {
    // Unstable sort: no buffer of half the events; the key (ending with the record's origin) is
    // unique, so the order is still fully determined.
    events.sort_unstable_by(|a, b| {
        (a.time, &a.computer, &a.origin).cmp(&(b.time, &b.computer, &b.origin))
    });
    let mut seen = std::collections::HashSet::with_capacity(events.len());
    let before = events.len();
    events.retain(|e| seen.insert(e.identity()));
    (before - events.len()) as u64
}

/// Which event ids each (computer, channel) was seen to hold: what each host's logs could show,
/// whether or not the records themselves were kept.
pub type Census = std::collections::BTreeMap<(String, String), std::collections::BTreeSet<u32>>;

/// See [`Event::identity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventIdentity(u64);

/// Well-known channel names, so that readers normalise to one spelling.
pub mod channel {
    /// The System log.
    pub const SYSTEM: &str = "System";
    /// The Security log.
    pub const SECURITY: &str = "Security";
    /// Sysmon's operational log.
    pub const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";
}

/// A bare event for unit tests across the crate (host `HOST`, record 1 of `test.evtx`).
#[cfg(test)]
pub(crate) fn test_event(event_id: u32, chan: &str, data: &[(&str, &str)]) -> Event {
    Event {
        time: Timestamp::UNIX_EPOCH,
        computer: "HOST".into(),
        channel: chan.into(),
        provider: String::new(),
        event_id,
        record_id: Some(1),
        user: UserRef::default(),
        data: data
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        origin: Origin {
            file: "test.evtx".into(),
            locator: Locator::Record(1),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(data: &[(&str, &str)]) -> Event {
        test_event(4697, channel::SECURITY, data)
    }

    #[test]
    fn subject_fields_become_the_user() {
        let mut e = event(&[
            ("SubjectUserSid", "S-1-5-21-1-2-3-1104"),
            ("SubjectUserName", "pgustavo"),
            ("SubjectDomainName", "THESHIRE"),
        ]);
        e.fill_user_from_subject();
        assert_eq!(e.user.sid.as_deref(), Some("S-1-5-21-1-2-3-1104"));
        assert_eq!(e.user.name.as_deref(), Some("THESHIRE\\pgustavo"));
    }

    #[test]
    fn placeholder_fields_are_absent() {
        let mut e = event(&[("SubjectUserSid", "-"), ("SubjectUserName", "")]);
        e.fill_user_from_subject();
        assert!(e.user.is_empty());
    }

    #[test]
    fn field_lookup_falls_back_to_case_insensitive() {
        let e = event(&[("ServiceName", "PSEXESVC")]);
        assert_eq!(e.field("servicename"), Some("PSEXESVC"));
        assert_eq!(e.field("Missing"), None);
    }

    #[test]
    fn identity_ignores_origin_but_not_content() {
        let a = event(&[("ServiceName", "X")]);
        let mut b = a.clone();
        b.origin.file = "copy/a.evtx".into();
        assert_eq!(a.identity(), b.identity());
        b.record_id = Some(2);
        assert_ne!(a.identity(), b.identity());
    }
}
