//! The one normalised event shape that every reader yields and every later stage consumes.
//!
//! Nothing downstream of the readers looks at EVTX, JSON or CSV details: whatever a format calls
//! a field, by the time an [`Event`] leaves its reader it has a UTC time, a computer, a channel,
//! a provider, an event id, the acting user and its event-data fields by their Windows names
//! (`ServiceName`, `SubjectLogonId`, …), plus an [`Origin`] that says where it was read so a
//! finding can always be traced back to its source record.

use std::fmt;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
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
        let mut name = String::new();
        Self::join_name_into(domain, user, &mut name).then_some(name)
    }

    /// [`UserRef::join_name`] written over `out`; false (and `out` cleared) where it gives
    /// none. A reader folding record after record reuses one buffer.
    pub fn join_name_into(domain: Option<&str>, user: Option<&str>, out: &mut String) -> bool {
        fn clean(s: Option<&str>) -> Option<&str> {
            s.map(str::trim).filter(|s| !s.is_empty() && *s != "-")
        }
        out.clear();
        let Some(u) = clean(user) else {
            return false;
        };
        if let Some(d) = clean(domain) {
            out.push_str(d);
            out.push('\\');
        }
        out.push_str(u);
        true
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
    /// The time as the log wrote it, when it lies beyond the years -9999..9999 that `time` can
    /// hold (Windows accepts clocks up to the year 30827): `time` is then the nearest end of
    /// that range, and this text says the event is dated by a clock set on purpose. `None` for
    /// every ordinary event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_as_logged: Option<Box<str>>,
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
    /// For a row of a Sentinel / Log Analytics export: its table and the columns the seed query
    /// reads, as exported. `None` for every other format (EVTX, evtx_dump, NXLog, Winlogbeat…),
    /// whose events count as the legacy agent's tables (see [`AgentTable`]).
    ///
    /// Not serialised: `svchunt events` prints the normalised event, the same whatever the
    /// format; these raw columns exist for `--semantics kql` alone and are the input's own text.
    #[serde(skip)]
    pub table: Option<Box<TableRow>>,
    /// Which record this is, fixed by its reader before any field was dropped (see
    /// [`Event::identity`]); `None` for an event built by hand, whose identity is then
    /// computed from what it holds. Not part of any output.
    #[serde(skip)]
    pub source_identity: Option<EventIdentity>,
}

/// The Log Analytics tables that hold Windows events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgentTable {
    /// `Event`: the legacy agent's table for every log but Security.
    Event,
    /// `SecurityEvent`: the legacy agent's table for the Security log.
    SecurityEvent,
    /// `WindowsEvent`: the Azure Monitor Agent's table.
    WindowsEvent,
}

impl AgentTable {
    /// The table's name, as Log Analytics spells it.
    pub fn name(self) -> &'static str {
        match self {
            AgentTable::Event => "Event",
            AgentTable::SecurityEvent => "SecurityEvent",
            AgentTable::WindowsEvent => "WindowsEvent",
        }
    }
}

/// A row of a Log Analytics table: which table, and the text of some of its columns exactly as
/// the export holds it (no trimming, no `N/A` mapping, no XML decoding).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableRow {
    /// The table the row belongs to.
    pub table: AgentTable,
    /// (column, text) for the columns kept; a column the export lacks is absent.
    pub columns: Vec<(&'static str, String)>,
}

impl TableRow {
    /// The text of `column` as exported, if the export has that column.
    pub fn column(&self, column: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, v)| v.as_str())
    }
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
        self.fill_user_reusing(None, None);
    }

    /// [`Event::fill_user_from_subject`], writing into the buffers of `sid` and `name` where
    /// given rather than new ones (a reader decoding record after record into one event).
    pub(crate) fn fill_user_reusing(&mut self, sid: Option<String>, name: Option<String>) {
        if self.user.sid.is_none()
            && let Some(subject) = self.field_nonempty("SubjectUserSid")
        {
            let mut buf = sid.unwrap_or_default();
            buf.clear();
            buf.push_str(subject);
            self.user.sid = Some(buf);
        }
        if self.user.name.is_none() {
            let mut buf = name.unwrap_or_default();
            if UserRef::join_name_into(
                self.field("SubjectDomainName"),
                self.field("SubjectUserName"),
                &mut buf,
            ) {
                self.user.name = Some(buf);
            }
        }
    }

    /// The table this event is a row of: the export's table for a Sentinel row, else the one
    /// the legacy Log Analytics agent writes it to (the Security log to `SecurityEvent`, every
    /// other log to `Event`).
    pub fn agent_table(&self) -> AgentTable {
        match &self.table {
            Some(row) => row.table,
            None if self.channel.eq_ignore_ascii_case(channel::SECURITY) => {
                AgentTable::SecurityEvent
            }
            None => AgentTable::Event,
        }
    }

    /// A key that is equal for two copies of the same record (the same log copied into two
    /// folders), used to read each record once. It ignores where the record was read, and
    /// covers everything else a reader read: the header, the user, the data fields and a
    /// Sentinel row's raw columns, so that two rows differing in any of them stay two.
    ///
    /// It is fixed by the reader before any field is dropped (see [`Event::seal_identity`]):
    /// two records differing only in a field no stage keeps (`Message`) are still two.
    pub fn identity(&self) -> EventIdentity {
        self.source_identity
            .unwrap_or_else(|| self.content_identity(None))
    }

    /// Fix [`Event::identity`] from what the event holds now: readers call this (through
    /// [`crate::select::Filter::project`]) before dropping the fields no stage reads.
    pub fn seal_identity(&mut self) {
        if self.source_identity.is_none() {
            self.source_identity = Some(self.content_identity(None));
        }
    }

    /// Like [`Event::seal_identity`], for a reader that skipped some of the record unread:
    /// `raw` is the record's whole source text, which then stands for its content.
    pub fn seal_identity_raw(&mut self, raw: &[u8]) {
        if self.source_identity.is_none() {
            self.source_identity = Some(self.content_identity(Some(raw)));
        }
    }

    fn content_identity(&self, raw: Option<&[u8]>) -> EventIdentity {
        // XXH3 over an explicit encoding (each string's length, then its bytes; numbers little
        // endian), not std's `DefaultHasher` and `Hash` impls: their output is unspecified and
        // may change with the Rust version, and identities outlive a run (a follower's saved
        // state, an Arrow table). XXH3 is also several times faster than SipHash on the
        // kilobyte of a record, which the seed query hashes for every logon it reads.
        let mut h = IdentityHasher::new();
        h.text(&self.computer);
        h.text(&self.channel);
        h.number(u64::from(self.event_id));
        h.number(self.time.as_second() as u64);
        h.number(u64::from(self.time.subsec_nanosecond() as u32));
        h.text(&self.provider);
        h.maybe_number(self.record_id);
        h.maybe_text(self.user.sid.as_deref());
        h.maybe_text(self.user.name.as_deref());
        match &self.table {
            None => h.number(0),
            Some(row) => {
                h.number(1 + row.table as u64);
                h.number(row.columns.len() as u64);
                for (column, text) in &row.columns {
                    h.text(column);
                    h.text(text);
                }
            }
        }
        match raw {
            // The record's whole source text stands for the fields its reader skipped unread.
            Some(raw) => {
                h.number(0);
                h.bytes(raw);
            }
            None => {
                h.number(1);
                h.number(self.data.len() as u64);
                for (name, value) in &self.data {
                    h.text(name);
                    h.text(value);
                }
            }
        }
        EventIdentity(h.finish())
    }
}

/// Time arithmetic on event times that never panics.
///
/// Event times come from the logs, that is from whoever set the host's clock: Windows accepts
/// dates up to the year 30827, jiff represents instants between the years -9999 and 9999, and
/// `Timestamp + SignedDuration` panics past either end. Every window computed from an event time
/// goes through these, which stop at the representable ends instead: an event logged at the
/// end of time is still correlated with what lies within its window.
pub trait SaturatingTime {
    /// `self + d`, or the latest (earliest) representable instant past it.
    fn plus(self, d: SignedDuration) -> Timestamp;
    /// `self - d`, likewise.
    fn minus(self, d: SignedDuration) -> Timestamp;
}

impl SaturatingTime for Timestamp {
    fn plus(self, d: SignedDuration) -> Timestamp {
        self.checked_add(d).unwrap_or(if d.is_negative() {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        })
    }

    fn minus(self, d: SignedDuration) -> Timestamp {
        match d.checked_neg() {
            Some(neg) => self.plus(neg),
            None => Timestamp::MAX,
        }
    }
}

/// Put events in time order (ties by computer and origin) and keep each record once (see
/// [`Event::identity`]); returns how many copies were dropped.
pub fn order_and_dedup(events: &mut Vec<Event>) -> u64 {
    // Unstable sort: no buffer of half the events. The key ends with the record's origin,
    // unique but in a damaged or forged log (two records of one id): the record's identity then
    // decides, so the order is fully determined whatever order the events came in (readers
    // hand them over as each input ends).
    events.sort_unstable_by(|a, b| {
        (a.time, &a.computer, &a.origin)
            .cmp(&(b.time, &b.computer, &b.origin))
            .then_with(|| a.identity().cmp(&b.identity()))
    });
    let mut seen = std::collections::HashSet::with_capacity(events.len());
    let before = events.len();
    events.retain(|e| seen.insert(e.identity()));
    (before - events.len()) as u64
}

/// Which event ids each (computer, channel) was seen to hold: what each host's logs could show,
/// whether or not the records themselves were kept.
pub type Census = std::collections::BTreeMap<(String, String), std::collections::BTreeSet<u32>>;

/// [`Event::identity`]'s hash: XXH3 of each string in turn, each seeded with the hash so far
/// (XXH3 covers an input's length, so two values cannot run together), and of the numbers
/// last. One-shot hashes of short inputs rather than a streaming hasher, which copies each of
/// a record's thirty-odd small values into its buffer first.
struct IdentityHasher {
    hash: u64,
    /// The numbers, little endian (eleven at most).
    numbers: [u8; 96],
    len: usize,
}

impl IdentityHasher {
    fn new() -> Self {
        IdentityHasher {
            hash: 0,
            numbers: [0; 96],
            len: 0,
        }
    }

    fn number(&mut self, n: u64) {
        match self.numbers.get_mut(self.len..self.len + 8) {
            Some(slot) => {
                slot.copy_from_slice(&n.to_le_bytes());
                self.len += 8;
            }
            // Not reached (see `content_identity`); hashed in rather than lost if it were.
            None => self.bytes(&n.to_le_bytes()),
        }
    }

    fn bytes(&mut self, b: &[u8]) {
        self.hash = twox_hash::XxHash3_64::oneshot_with_seed(self.hash, b);
    }

    fn text(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    fn maybe_number(&mut self, n: Option<u64>) {
        match n {
            None => self.number(0),
            Some(n) => {
                self.number(1);
                self.number(n);
            }
        }
    }

    fn maybe_text(&mut self, s: Option<&str>) {
        match s {
            None => self.number(0),
            Some(s) => {
                self.number(1);
                self.text(s);
            }
        }
    }

    fn finish(self) -> u64 {
        twox_hash::XxHash3_64::oneshot_with_seed(self.hash, &self.numbers[..self.len])
    }
}

/// See [`Event::identity`]. Serialisable, so that a follower's saved state keeps the identity
/// its reader fixed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct EventIdentity(u64);

impl EventIdentity {
    /// The key's bits, for a front end that carries events through another form (an Arrow
    /// table) and back: they de-duplicate as their reader decided, not by what is left of them.
    pub fn to_bits(self) -> u64 {
        self.0
    }

    /// A key carried as [`EventIdentity::to_bits`].
    pub fn from_bits(bits: u64) -> Self {
        EventIdentity(bits)
    }
}

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
        table: None,
        time_as_logged: None,
        source_identity: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(data: &[(&str, &str)]) -> Event {
        test_event(4697, channel::SECURITY, data)
    }

    #[test]
    fn names_are_joined_over_what_a_buffer_held() {
        let mut buf = String::from("OLD\\previous-name");
        let cases = [
            (Some("CORP"), Some("admin"), Some("CORP\\admin")),
            (Some(" - "), Some(" admin "), Some("admin")),
            (None, Some("svc$"), Some("svc$")),
            (Some("CORP"), Some("-"), None),
            (Some("CORP"), None, None),
            (None, Some("  "), None),
        ];
        for (domain, user, want) in cases {
            assert_eq!(UserRef::join_name(domain, user).as_deref(), want);
            assert_eq!(
                UserRef::join_name_into(domain, user, &mut buf),
                want.is_some()
            );
            assert_eq!(buf, want.unwrap_or(""), "{domain:?} {user:?}");
        }
        // A reused event's old user buffers hold nothing of the record before.
        let mut e = event(&[
            ("SubjectUserSid", "S-1-5-21-9-9-9-500"),
            ("SubjectUserName", "bob"),
        ]);
        e.fill_user_reusing(
            Some("S-1-5-21-1-1-1-1234567".into()),
            Some("LONGER\\name".into()),
        );
        assert_eq!(e.user.sid.as_deref(), Some("S-1-5-21-9-9-9-500"));
        assert_eq!(e.user.name.as_deref(), Some("bob"));
        let mut e = event(&[("SubjectUserName", "-")]);
        e.fill_user_reusing(Some("S-1-5-18".into()), Some("x".into()));
        assert_eq!((e.user.sid, e.user.name), (None, None));
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
    fn time_arithmetic_stops_at_the_ends_of_time() {
        let hour = SignedDuration::from_hours(1);
        assert_eq!(Timestamp::MAX.plus(hour), Timestamp::MAX);
        assert_eq!(Timestamp::MIN.minus(hour), Timestamp::MIN);
        assert_eq!(Timestamp::MAX.minus(-hour), Timestamp::MAX);
        assert_eq!(Timestamp::MIN.plus(SignedDuration::MIN), Timestamp::MIN);
        assert_eq!(
            Timestamp::UNIX_EPOCH.minus(SignedDuration::MIN),
            Timestamp::MAX
        );
        let t = Timestamp::UNIX_EPOCH;
        assert_eq!(t.plus(hour).minus(hour), t);
    }

    #[test]
    fn events_are_ordered_alike_whatever_order_they_come_in() {
        // A forged log: three records of one id, one time and one host, two of them alike.
        let records = [
            event(&[("ServiceName", "A")]),
            event(&[("ServiceName", "B")]),
            event(&[("ServiceName", "A")]),
        ];
        let mut orders = Vec::new();
        for order in [[0, 1, 2], [2, 1, 0], [1, 0, 2], [1, 2, 0]] {
            let mut events: Vec<Event> = order.iter().map(|&i| records[i].clone()).collect();
            assert_eq!(order_and_dedup(&mut events), 1);
            orders.push(events);
        }
        assert!(orders.windows(2).all(|w| w[0] == w[1]), "{orders:?}");
    }

    /// Identities outlive a run (a follower's saved state, an Arrow table read back), so they
    /// must not change with the build. If this value must change, so must the follower's state
    /// format version (`engine::follow::state`).
    #[test]
    fn identity_is_the_same_on_every_build() {
        let mut e = event(&[
            ("ServiceName", "PSEXESVC"),
            ("ImagePath", "%SystemRoot%\\PSEXESVC.exe"),
        ]);
        e.user.sid = Some("S-1-5-21-1-2-3-1104".into());
        assert_eq!(e.identity().to_bits(), 16_187_167_095_342_482_709);
    }

    #[test]
    fn identity_keeps_values_apart() {
        let ids = [
            event(&[("ab", "c")]),
            event(&[("a", "bc")]),
            event(&[("a", "b"), ("c", "")]),
            event(&[]),
        ]
        .map(|e| e.identity());
        for (i, a) in ids.iter().enumerate() {
            assert!(ids[i + 1..].iter().all(|b| a != b), "{ids:?}");
        }
        let named = |sid: Option<&str>, name: Option<&str>| {
            let mut e = event(&[]);
            e.user = UserRef {
                sid: sid.map(Into::into),
                name: name.map(Into::into),
            };
            e.identity()
        };
        assert_ne!(named(Some("x"), None), named(None, Some("x")));
        assert_ne!(named(Some(""), None), named(None, None));
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

    #[test]
    fn records_without_a_record_id_differ_by_every_field_read() {
        let mut a = event(&[("ServiceName", "X"), ("Message", "one")]);
        a.record_id = None;
        let mut b = a.clone();
        b.data[1].1 = "two".into();
        a.seal_identity();
        b.seal_identity();
        // Dropping the field that told them apart does not make them one record.
        a.data.truncate(1);
        b.data.truncate(1);
        assert_ne!(a.identity(), b.identity());
        let mut c = event(&[("ServiceName", "X")]);
        c.record_id = None;
        let mut d = c.clone();
        c.seal_identity_raw(b"{\"line\":1}");
        d.seal_identity_raw(b"{\"line\":2}");
        assert_ne!(c.identity(), d.identity());
    }

    #[test]
    fn identity_sees_the_user_and_raw_columns() {
        let a = event(&[("ServiceName", "X")]);
        let mut b = a.clone();
        b.user.name = Some("CORP\\bob".into());
        assert_ne!(
            a.identity(),
            b.identity(),
            "two rows differing only in UserName"
        );
        let mut c = a.clone();
        c.table = Some(Box::new(TableRow {
            table: AgentTable::Event,
            columns: vec![("UserName", "N/A".into())],
        }));
        let mut d = c.clone();
        d.table.as_mut().unwrap().columns[0].1 = "-".into();
        assert_ne!(c.identity(), d.identity());
        assert_ne!(a.identity(), c.identity());
    }

    #[test]
    fn agent_table_follows_the_channel_unless_the_row_says() {
        let mut e = event(&[]);
        assert_eq!(e.agent_table(), AgentTable::SecurityEvent);
        e.channel = "System".into();
        assert_eq!(e.agent_table(), AgentTable::Event);
        e.table = Some(Box::new(TableRow {
            table: AgentTable::WindowsEvent,
            columns: Vec::new(),
        }));
        assert_eq!(e.agent_table(), AgentTable::WindowsEvent);
    }
}
