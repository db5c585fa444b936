//! Account sightings: the SID/name pairs of events read only to name accounts, folded as they
//! are read instead of kept.
//!
//! The seed semantics reads every logon, logoff and share access that names an installer's SID,
//! only to learn which name that SID goes by (the most seen wins). On a busy collection that is
//! most of what it reads: 300,000 events per GiB of Security logs, a kilobyte each when kept as
//! events. Kept here they cost one interned pair per distinct account and 8 bytes per record,
//! and still count exactly as the kept events would: each record once, however many copies of
//! its log were read (the record's identity, the one events are de-duplicated by, goes with it).

use ahash::AHashMap as HashMap;

use super::{AccountDirectory, each_pair, identifies};
use crate::event::Event;

/// No pair in this slot.
const NONE: u32 = u32::MAX;

/// The pairs one record gave, in the order [`AccountDirectory::learn_event`] counts them (a
/// record naming one pair twice counts twice).
type Combo = [u32; 3];

/// SID/name pairs sighted, by the identity of the record that gave each.
///
/// A record is kept as its identity alone, filed under the combination of pairs it gave: copies
/// of one record have one identity and give one combination, so they meet in one list, and
/// a logon costs 8 bytes rather than the 24 of an identity beside its pairs (the seed query
/// reads 5.5 million of them in the 10 GiB bench).
#[derive(Debug, Default, Clone)]
pub struct AccountSightings {
    /// Each distinct (SID, name) pair once.
    pairs: Vec<(Box<str>, Box<str>)>,
    /// Their numbers, by SID then name (looked up by `&str`: a pair seen before, nearly every
    /// one, costs no allocation).
    index: HashMap<Box<str>, HashMap<Box<str>, u32>>,
    /// Each distinct combination of pairs once.
    combos: Vec<Combo>,
    /// Their numbers.
    combo_index: HashMap<Combo, u32>,
    /// By combination, the identities of the records that gave it.
    seen: Vec<Vec<u64>>,
    /// A buffer for the name of the pair being looked up (what it holds means nothing).
    name: String,
}

impl AccountSightings {
    /// Fold in the pairs of `e` (an event as the read plan projects it).
    pub fn add(&mut self, e: &Event) {
        self.add_within(e, None);
    }

    /// Fold in the pairs of `e` as if only its `fields` were kept (`None`: all of them), as
    /// the read plan's projection would leave it.
    pub fn add_within(&mut self, e: &Event, fields: Option<&[&str]>) {
        let mut combo = [NONE; 3];
        // An event gives at most three pairs: its Subject and Target accounts, and its user.
        let mut slot = 0;
        let mut name = std::mem::take(&mut self.name);
        each_pair(e, fields, &mut name, |sid, name| {
            if slot < combo.len() && identifies(sid) {
                combo[slot] = self.intern(sid, name).unwrap_or(NONE);
            }
            slot += 1;
        });
        self.name = name;
        let c = self.combo(combo);
        self.seen[c].push(e.identity().to_bits());
    }

    /// The pair's number; `None` past 2^32 - 1 distinct pairs (memory ends long before: the
    /// pair is then not counted rather than the run stopped).
    fn intern(&mut self, sid: &str, name: &str) -> Option<u32> {
        if let Some(i) = self.index.get(sid).and_then(|names| names.get(name)) {
            return Some(*i);
        }
        let i = u32::try_from(self.pairs.len())
            .ok()
            .filter(|i| *i != NONE)?;
        self.pairs.push((sid.into(), name.into()));
        self.index
            .entry(sid.into())
            .or_default()
            .insert(name.into(), i);
        Some(i)
    }

    /// The combination's place in `seen`.
    fn combo(&mut self, combo: Combo) -> usize {
        if let Some(c) = self.combo_index.get(&combo) {
            return *c as usize;
        }
        // At most as many combinations as records: a u32 is ample for the index.
        let c = self.combos.len();
        self.combos.push(combo);
        self.combo_index.insert(combo, c as u32);
        self.seen.push(Vec::new());
        c
    }

    /// Add another input's sightings to these.
    pub fn absorb(&mut self, other: AccountSightings) {
        if self.seen.is_empty() && self.pairs.is_empty() {
            *self = other;
            return;
        }
        let remap: Vec<u32> = other
            .pairs
            .iter()
            .map(|(sid, name)| self.intern(sid, name).unwrap_or(NONE))
            .collect();
        for (combo, records) in other.combos.into_iter().zip(other.seen) {
            let c = self.combo(combo.map(|p| if p == NONE { NONE } else { remap[p as usize] }));
            if self.seen[c].is_empty() {
                self.seen[c] = records;
            } else {
                self.seen[c].extend(records);
            }
        }
    }

    /// Records sighted (copies included until [`AccountSightings::dedup`]).
    pub fn records(&self) -> u64 {
        self.seen.iter().map(|r| r.len() as u64).sum()
    }

    /// Keep each record's sightings once, as events are kept once; returns how many records
    /// were copies.
    pub fn dedup(&mut self) -> u64 {
        let before = self.records();
        for records in &mut self.seen {
            records.sort_unstable();
            records.dedup();
            records.shrink_to_fit();
        }
        before - self.records()
    }

    /// Count every sighting into `dir` (after [`AccountSightings::dedup`]).
    pub fn learn_into(&self, dir: &mut AccountDirectory) {
        let mut times = vec![0u32; self.pairs.len()];
        for (combo, records) in self.combos.iter().zip(&self.seen) {
            let n = u32::try_from(records.len()).unwrap_or(u32::MAX);
            for p in combo {
                if *p != NONE {
                    let t = &mut times[*p as usize];
                    *t = t.saturating_add(n);
                }
            }
        }
        for ((sid, name), n) in self.pairs.iter().zip(times) {
            if n > 0 {
                dir.add_times(sid, name, n, usize::MAX, usize::MAX);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::test_event;

    fn logon(user: &str, host: &str) -> Event {
        let mut e = test_event(
            4624,
            "Security",
            &[
                ("TargetUserSid", "S-1-5-21-1-2-3-1104"),
                ("TargetUserName", user),
                ("TargetDomainName", "CORP"),
            ],
        );
        e.computer = host.into();
        e
    }

    #[test]
    fn sightings_name_accounts_as_the_events_would_and_count_each_record_once() {
        let events = [logon("alice", "A"), logon("bob", "B")];
        let mut first = AccountSightings::default();
        let mut second = AccountSightings::default();
        first.add(&events[0]);
        first.add(&events[1]);
        // The same record read twice (a log copied into two folders): counted twice, bob
        // would win.
        second.add(&events[1]);
        first.absorb(second);
        assert_eq!(first.records(), 3);
        assert_eq!(first.dedup(), 1);
        let mut dir = AccountDirectory::default();
        first.learn_into(&mut dir);
        assert_eq!(
            dir.name_of("S-1-5-21-1-2-3-1104").as_deref(),
            AccountDirectory::learn(&events)
                .name_of("S-1-5-21-1-2-3-1104")
                .as_deref()
        );
        assert_eq!(
            dir.name_of("s-1-5-21-1-2-3-1104").as_deref(),
            Some("CORP\\alice")
        );
    }
}
