//! Events held compactly while a follower waits to know whether they matter.
//!
//! A follower keeps every event that may still name a creation (evidence can be logged before
//! its install) and every logon session an install may still name: on a busy collector, tens of
//! thousands at once. An [`Event`] costs about a kilobyte in a dozen small allocations (each
//! field name and value its own `String`); a [`Compact`] shares the names of its host, log,
//! provider and fields with the events of the same [`Shape`] through an [`Interner`], and holds
//! its values in one allocation, for about a third of that (and less fragmented memory).
//! An event becomes an [`Event`] again only when a correlation reads it. Nothing is lost: the
//! round trip gives the same event.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::event::{Event, Locator, Origin, UserRef};
use crate::select::Needles;

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
    /// of the account's SID and name (when present, see `account`) and of the field values.
    data: Box<[u8]>,
    /// Bit 0: a SID is in `data`; bit 1: a name is.
    account: u8,
}

impl Compact {
    pub fn new(e: Event, interner: &mut Interner) -> Compact {
        let mut account = 0;
        let mut pieces: Vec<&str> = Vec::with_capacity(e.data.len() + 2);
        for (bit, part) in [(1, &e.user.sid), (2, &e.user.name)] {
            if let Some(p) = part {
                pieces.push(p);
                account |= bit;
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
            account,
        }
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

    fn account_parts(&self) -> usize {
        (self.account & 1) as usize + (self.account >> 1 & 1) as usize
    }

    /// The field values, in order.
    pub fn values(&self) -> impl Iterator<Item = &str> + Clone {
        self.pieces().skip(self.account_parts())
    }

    fn sid(&self) -> Option<&str> {
        (self.account & 1 != 0)
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
        let sid = (self.account & 1 != 0).then(|| pieces.next().unwrap_or("").to_string());
        let name = (self.account & 2 != 0).then(|| pieces.next().unwrap_or("").to_string());
        Event {
            time: self.time,
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
            // A Log Analytics row's raw columns serve the seed query alone, which cannot follow.
            table: None,
        }
    }

    /// Which record this is, as a finding's evidence names it.
    pub fn key(&self) -> super::host::Key {
        (self.file.clone(), self.locator, self.event_id, self.time)
    }
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
        for e in [sample(), crate::event::test_event(7036, "System", &[])] {
            let c = Compact::new(e.clone(), &mut interner);
            assert_eq!(c.event(), e);
            let mut files = HashMap::new();
            assert_eq!(Stored::of(&e).event(&mut files), e);
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
