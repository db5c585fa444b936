//! Events held compactly while a follower waits to know whether they matter.
//!
//! A follower keeps every event that may still name a creation (evidence can be logged before
//! its install) and every logon session an install may still name: on a busy collector, tens of
//! thousands at once. An [`Event`] costs about a kilobyte in small allocations (each field name
//! and value its own `String`); a [`Compact`] shares the names of hosts, logs, providers and
//! fields through an [`Interner`] and holds its values in one string, for about a third of that.
//! An event becomes an [`Event`] again only when a correlation reads it. Nothing is lost: the
//! round trip gives the same event.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::event::{Event, Locator, Origin, UserRef};
use crate::select::Needles;

/// Most distinct names shared: past this, names are held by each event (an attacker who
/// spells the computer differently in every record costs memory per record, as any record
/// does, but does not grow the table).
const MAX_INTERNED: usize = 1 << 16;

/// Shares the names events repeat.
#[derive(Debug, Default)]
pub(super) struct Interner {
    names: HashSet<Arc<str>>,
    /// The field names each event id was last seen with.
    keys: HashMap<u32, Arc<[Arc<str>]>>,
}

impl Interner {
    fn name(&mut self, s: &str) -> Arc<str> {
        if let Some(n) = self.names.get(s) {
            return n.clone();
        }
        let n: Arc<str> = s.into();
        if self.names.len() < MAX_INTERNED {
            self.names.insert(n.clone());
        }
        n
    }

    fn keys(&mut self, event_id: u32, data: &[(String, String)]) -> Arc<[Arc<str>]> {
        if let Some(k) = self.keys.get(&event_id)
            && k.len() == data.len()
            && k.iter().zip(data).all(|(a, (b, _))| **a == **b)
        {
            return k.clone();
        }
        let k: Arc<[Arc<str>]> = data.iter().map(|(k, _)| self.name(k)).collect();
        self.keys.insert(event_id, k.clone());
        k
    }
}

/// One event, held compactly (see the module documentation).
#[derive(Debug, Clone)]
pub(super) struct Compact {
    pub time: Timestamp,
    pub event_id: u32,
    pub record_id: Option<u64>,
    pub locator: Locator,
    pub file: Arc<str>,
    pub computer: Arc<str>,
    channel: Arc<str>,
    provider: Arc<str>,
    keys: Arc<[Arc<str>]>,
    /// The account's SID and name (when present, see `account`), then the field values.
    text: Box<str>,
    /// Where each piece of `text` ends.
    ends: Box<[u32]>,
    /// Bit 0: a SID is in `text`; bit 1: a name is.
    account: u8,
    /// The filter generation this event was last matched against, and the answer.
    pub matched: Option<(u64, bool)>,
}

impl Compact {
    pub fn new(e: Event, interner: &mut Interner) -> Compact {
        let mut text = String::new();
        let mut ends = Vec::with_capacity(e.data.len() + 2);
        let mut account = 0;
        for (bit, part) in [(1, &e.user.sid), (2, &e.user.name)] {
            if let Some(p) = part {
                text.push_str(p);
                ends.push(text.len() as u32);
                account |= bit;
            }
        }
        for (_, v) in &e.data {
            text.push_str(v);
            ends.push(text.len() as u32);
        }
        Compact {
            time: e.time,
            event_id: e.event_id,
            record_id: e.record_id,
            locator: e.origin.locator,
            keys: interner.keys(e.event_id, &e.data),
            computer: interner.name(&e.computer),
            channel: interner.name(&e.channel),
            provider: interner.name(&e.provider),
            file: e.origin.file,
            text: text.into_boxed_str(),
            ends: ends.into_boxed_slice(),
            account,
            matched: None,
        }
    }

    fn pieces(&self) -> impl Iterator<Item = &str> + Clone {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|&e| e as usize));
        starts
            .zip(self.ends.iter())
            .map(|(s, &e)| &self.text[s..e as usize])
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
            computer: self.computer.to_string(),
            channel: self.channel.to_string(),
            provider: self.provider.to_string(),
            event_id: self.event_id,
            record_id: self.record_id,
            user: UserRef { sid, name },
            data: self
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
