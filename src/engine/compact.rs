//! Events held compactly: by a follower while it waits to know whether they matter, and by a
//! hunt between reading and correlating a host at a time.
//!
//! A follower keeps every event that may still name a creation (evidence can be logged before
//! its install) and every logon session an install may still name: on a busy collector, tens of
//! thousands at once. A hunt of a large collection holds every install with its evidence until
//! all inputs are read: hundreds of thousands. An [`Event`] costs about a kilobyte in a dozen small allocations (each
//! field name and value its own `String`); a [`Compact`] shares the names of its host, log,
//! provider and fields with the events of the same [`Shape`] through an [`Interner`], and holds
//! its values in one allocation, for about a third of that (and less fragmented memory).
//! An event becomes an [`Event`] again only when a correlation reads it. Nothing is lost: the
//! round trip gives the same event.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::event::{Event, EventIdentity, Locator, Origin, TableRow, UserRef};
use crate::select::{Anchor, Anchors, Needles};

/// Most distinct shapes shared: past this, a shape is held by each event (an attacker who
/// spells the computer differently in every record costs memory per record, as any record
/// does, but does not grow the table).
const MAX_INTERNED: usize = 1 << 16;

/// What many events share: their host, log, provider and field names.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct Shape {
    computer: Box<str>,
    channel: Box<str>,
    provider: Box<str>,
    event_id: u32,
    keys: Box<[Box<str>]>,
}

/// Shares the shapes events repeat.
#[derive(Debug, Default)]
pub(super) struct Interner {
    shapes: HashSet<Arc<Shape>>,
}

impl Interner {
    fn shape(&mut self, e: &Event) -> Arc<Shape> {
        let shape = Shape {
            computer: e.computer.as_str().into(),
            channel: e.channel.as_str().into(),
            provider: e.provider.as_str().into(),
            event_id: e.event_id,
            keys: e.data.iter().map(|(k, _)| k.as_str().into()).collect(),
        };
        if let Some(s) = self.shapes.get(&shape) {
            return s.clone();
        }
        let shape = Arc::new(shape);
        if self.shapes.len() < MAX_INTERNED {
            self.shapes.insert(shape.clone());
        }
        shape
    }
}

/// One event, held compactly (see the module documentation).
#[derive(Debug, Clone)]
pub(super) struct Compact {
    pub time: Timestamp,
    pub event_id: u32,
    /// The filter generation this event was last matched against, and the answer.
    pub matched: Option<(u32, bool)>,
    pub record_id: Option<u64>,
    pub locator: Locator,
    pub file: Arc<str>,
    shape: Arc<Shape>,
    /// One allocation: the number of pieces (u16), where each ends (u32 each), then the text
    /// of the account's SID and name and of the time as logged (when present, see `extra`)
    /// and of the field values.
    data: Box<[u8]>,
    /// Bit 0: a SID is in `data`; bit 1: a name is; bit 2: a time as logged is.
    extra: u8,
    /// The identity its reader fixed (see [`Event::identity`]).
    identity: EventIdentity,
    /// A Log Analytics row's raw columns, as the event had them.
    table: Option<Box<TableRow>>,
}

impl Compact {
    pub fn new(e: Event, interner: &mut Interner) -> Compact {
        let mut extra = 0;
        let identity = e.identity();
        let mut pieces: Vec<&str> = Vec::with_capacity(e.data.len() + 3);
        let logged = e.time_as_logged.as_deref();
        for (bit, part) in [
            (1, e.user.sid.as_deref()),
            (2, e.user.name.as_deref()),
            (4, logged),
        ] {
            if let Some(p) = part {
                pieces.push(p);
                extra |= bit;
            }
        }
        pieces.extend(e.data.iter().map(|(_, v)| v.as_str()));
        let text: usize = pieces.iter().map(|p| p.len()).sum();
        let mut data = Vec::with_capacity(2 + 4 * pieces.len() + text);
        data.extend_from_slice(&(pieces.len() as u16).to_le_bytes());
        let mut end = 0u32;
        for p in &pieces {
            end += p.len() as u32;
            data.extend_from_slice(&end.to_le_bytes());
        }
        for p in &pieces {
            data.extend_from_slice(p.as_bytes());
        }
        Compact {
            time: e.time,
            event_id: e.event_id,
            matched: None,
            record_id: e.record_id,
            locator: e.origin.locator,
            shape: interner.shape(&e),
            file: e.origin.file,
            data: data.into_boxed_slice(),
            extra,
            identity,
            table: e.table,
        }
    }

    /// The computer that logged it.
    pub fn computer(&self) -> &str {
        &self.shape.computer
    }

    fn pieces(&self) -> impl Iterator<Item = &str> + Clone {
        let n = u16::from_le_bytes([self.data[0], self.data[1]]) as usize;
        let text = &self.data[2 + 4 * n..];
        let end = move |i: usize| {
            let at = 2 + 4 * i;
            u32::from_le_bytes(self.data[at..at + 4].try_into().expect("4 bytes")) as usize
        };
        // Every piece was a `str`, cut at its own ends: valid UTF-8 by construction.
        (0..n).map(move |i| {
            let from = if i == 0 { 0 } else { end(i - 1) };
            std::str::from_utf8(&text[from..end(i)]).unwrap_or_default()
        })
    }

    fn extra_parts(&self) -> usize {
        self.extra.count_ones() as usize
    }

    /// The field values, in order.
    pub fn values(&self) -> impl Iterator<Item = &str> + Clone {
        self.pieces().skip(self.extra_parts())
    }

    fn sid(&self) -> Option<&str> {
        (self.extra & 1 != 0)
            .then(|| self.pieces().next())
            .flatten()
    }

    /// Whether the event holds one of `needles` (see [`Needles::event_matches`]).
    pub fn matches(&self, needles: &Needles) -> bool {
        needles.values_match(self.values(), self.sid())
    }

    /// The event again.
    pub fn event(&self) -> Event {
        let mut pieces = self.pieces();
        let mut part = |bit: u8| (self.extra & bit != 0).then(|| pieces.next().unwrap_or(""));
        let sid = part(1).map(str::to_string);
        let name = part(2).map(str::to_string);
        let time_as_logged = part(4).map(Box::from);
        Event {
            time: self.time,
            time_as_logged,
            computer: self.shape.computer.to_string(),
            channel: self.shape.channel.to_string(),
            provider: self.shape.provider.to_string(),
            event_id: self.event_id,
            record_id: self.record_id,
            user: UserRef { sid, name },
            data: self
                .shape
                .keys
                .iter()
                .zip(pieces)
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            origin: Origin {
                file: self.file.clone(),
                locator: self.locator,
            },
            table: self.table.clone(),
            source_identity: Some(self.identity),
        }
    }

    /// Which record this is, as a finding's evidence names it: (input, position, event id,
    /// time).
    pub fn key(&self) -> (Arc<str>, Locator, u32, Timestamp) {
        (self.file.clone(), self.locator, self.event_id, self.time)
    }
}

impl Anchor for Compact {
    fn event_id(&self) -> u32 {
        self.event_id
    }

    fn field(&self, name: &str) -> Option<&str> {
        // As `Event::field`: the first field of that name, else of that name in any case.
        let keys = &self.shape.keys;
        let at = keys
            .iter()
            .position(|k| &**k == name)
            .or_else(|| keys.iter().position(|k| k.eq_ignore_ascii_case(name)))?;
        self.values().nth(at)
    }

    fn user_sid(&self) -> Option<&str> {
        self.sid()
    }

    fn user_name(&self) -> Option<&str> {
        (self.extra & 2 != 0)
            .then(|| self.pieces().nth(usize::from(self.extra & 1 != 0)))
            .flatten()
    }
}

/// Events held compactly, as the anchors a plan's needles are made from.
pub(super) struct HeldAnchors<'a>(pub &'a [Compact]);

impl Anchors for HeldAnchors<'_> {
    fn each(&self, f: &mut dyn FnMut(&dyn Anchor)) {
        for c in self.0 {
            f(c);
        }
    }
}

/// Put held events in the order [`crate::event::order_and_dedup`] puts events in, and keep
/// each record once by the same rule; returns how many copies were dropped.
pub(super) fn order_and_dedup(held: &mut Vec<Compact>) -> u64 {
    held.sort_unstable_by(|a, b| {
        (a.time, a.computer(), &*a.file, a.locator)
            .cmp(&(b.time, b.computer(), &*b.file, b.locator))
            .then_with(|| a.identity.cmp(&b.identity))
    });
    let mut seen = HashSet::with_capacity(held.len());
    let before = held.len();
    held.retain(|c| seen.insert(c.identity));
    (before - held.len()) as u64
}

/// An event as a follower's state file holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Stored {
    time: Timestamp,
    computer: String,
    channel: String,
    provider: String,
    event_id: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    record_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    data: Vec<(String, String)>,
    file: String,
    /// The locator as `[kind, position]`: 0 record, 1 line, 2 row.
    at: (u8, u64),
    /// The identity its reader fixed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    identity: Option<EventIdentity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    time_as_logged: Option<String>,
}

impl Stored {
    pub fn of(e: &Event) -> Stored {
        let at = match e.origin.locator {
            Locator::Record(n) => (0, n),
            Locator::Line(n) => (1, n),
            Locator::Row(n) => (2, n),
        };
        Stored {
            time: e.time,
            computer: e.computer.clone(),
            channel: e.channel.clone(),
            provider: e.provider.clone(),
            event_id: e.event_id,
            record_id: e.record_id,
            sid: e.user.sid.clone(),
            name: e.user.name.clone(),
            data: e.data.clone(),
            file: e.origin.file.to_string(),
            at,
            identity: Some(e.identity()),
            time_as_logged: e.time_as_logged.as_deref().map(str::to_string),
        }
    }

    /// The event; `files` shares the file names of events of one input.
    pub fn event(self, files: &mut HashMap<String, Arc<str>>) -> Event {
        let file = files
            .entry(self.file)
            .or_insert_with_key(|f| f.as_str().into())
            .clone();
        Event {
            time: self.time,
            computer: self.computer,
            channel: self.channel,
            provider: self.provider,
            event_id: self.event_id,
            record_id: self.record_id,
            user: UserRef {
                sid: self.sid,
                name: self.name,
            },
            data: self.data,
            origin: Origin {
                file,
                locator: match self.at.0 {
                    0 => Locator::Record(self.at.1),
                    1 => Locator::Line(self.at.1),
                    _ => Locator::Row(self.at.1),
                },
            },
            table: None,
            time_as_logged: self.time_as_logged.map(Box::from),
            source_identity: self.identity,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::select::NeedlesBuilder;

    fn sample() -> Event {
        let mut e = crate::event::test_event(
            4624,
            "Security",
            &[
                ("TargetLogonId", "0x1376020"),
                ("IpAddress", "10.0.0.5"),
                ("LogonType", "3"),
                ("Empty", ""),
            ],
        );
        e.user.name = Some("CORP\\admin".into());
        e
    }

    #[test]
    fn the_round_trip_gives_the_same_event() {
        let mut interner = Interner::default();
        let mut clock_set_on_purpose = crate::event::test_event(7036, "System", &[]);
        clock_set_on_purpose.time_as_logged = Some("30000-01-01T00:00:00Z".into());
        for mut e in [
            sample(),
            crate::event::test_event(7036, "System", &[]),
            clock_set_on_purpose,
        ] {
            // Readers fix an event's identity before dropping fields; it goes with the event.
            e.seal_identity();
            let c = Compact::new(e.clone(), &mut interner);
            assert_eq!(c.event(), e);
            let mut files = HashMap::new();
            assert_eq!(Stored::of(&e).event(&mut files), e);
        }
    }

    #[test]
    fn compact_anchors_read_as_events_do() {
        let mut interner = Interner::default();
        let mut no_account = crate::event::test_event(7045, "System", &[("ServiceName", "x")]);
        no_account.user = UserRef::default();
        let mut only_name = sample();
        only_name.user.sid = None;
        for e in [sample(), no_account, only_name] {
            let c = Compact::new(e.clone(), &mut interner);
            let view: &dyn Anchor = &c;
            assert_eq!(view.event_id(), e.event_id);
            assert_eq!(view.user_sid(), e.user.sid.as_deref());
            assert_eq!(view.user_name(), e.user.name.as_deref());
            for name in [
                "TargetLogonId",
                "ipaddress",
                "Empty",
                "ServiceName",
                "Missing",
            ] {
                assert_eq!(view.field(name), e.field(name), "{name}");
                assert_eq!(view.field_nonempty(name), e.field_nonempty(name), "{name}");
            }
        }
    }

    #[test]
    fn compact_events_match_as_events_do() {
        let mut interner = Interner::default();
        let mut b = NeedlesBuilder::default();
        b.number(0x1376020);
        let yes = b.build();
        let mut b = NeedlesBuilder::default();
        b.string("psexesvc");
        let no = b.build();
        let e = sample();
        let c = Compact::new(e.clone(), &mut interner);
        assert_eq!(c.matches(&yes), yes.event_matches(&e));
        assert_eq!(c.matches(&no), no.event_matches(&e));
        assert!(c.matches(&yes) && !c.matches(&no));
    }
}
