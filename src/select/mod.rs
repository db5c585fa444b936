//! Select: which records a hunt keeps, decided as early as possible.
//!
//! A hunt needs a tiny share of what a collection holds: a 10 GiB triage folder has millions of
//! logons, service state changes and registry writes, of which only those about the services
//! installed matter. Each semantics therefore declares a [`ReadPlan`]: the rare *anchor* events
//! read first (service installs), the *evidence* event ids read second, each kept only when it
//! names something the anchors gave ([`Needles`]), and the event-data fields later stages read
//! ([`FieldMap`]). A [`Filter`] is one pass of that plan; readers apply it to each record (the
//! EVTX reader before rendering it, see `read::evtx_needles`), and the engine applies the same
//! plan to events handed to it in memory, so a hunt over paths and a hunt over the same events
//! give the same answer.
//!
//! A plan may shape both passes further, each to keep memory proportional to what is found:
//! its first pass may also read a little evidence, gated by a phrase
//! ([`ReadPlan::first_pass_evidence`]: the lifecycle's service `ImagePath` writes, which name
//! the keys whose start-type changes matter), and keep some anchors once per distinct set of
//! the few fields its needles read ([`ReadPlan::first_pass_distinct`]); its second pass may fold
//! events read only for the accounts they name into counts instead of keeping them
//! ([`ReadPlan::tallied`]: the seed query's logons).
//!
//! A plan is two passes in meaning, not necessarily in reading: a reader that can key the
//! evidence it meets before the needles are known ([`ReadPlan::needle_kinds`] says which kinds
//! of value each evidence id's needles compare: strings, numbers, SIDs, phrases) reads each
//! record once and decides the evidence afterwards (see `read::evtx_onepass`). The answer is the
//! one two full passes give.
//!
//! This stage knows the [`Event`] type and nothing of formats: how a needle is encoded in a
//! binary record is the readers' business.

mod anchors;
mod needles;

use std::collections::HashMap;
use std::sync::Arc;

use crate::accounts::AccountSightings;
use crate::event::{Census, Event};
pub use anchors::{Anchor, Anchors};
pub use needles::{NeedleKinds, NeedleMap, Needles, NeedlesBuilder};

/// The set of event ids a pass wants; everything else is counted and dropped in the reader.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Bitmap over u16 event ids (event ids never exceed 65535); `None` wants everything.
    wanted: Option<Box<[u64; 1024]>>,
}

impl Selection {
    /// Every event.
    pub fn all() -> Self {
        Selection { wanted: None }
    }

    /// Only these event ids.
    pub fn only(ids: impl IntoIterator<Item = u32>) -> Self {
        let mut bits = Box::new([0u64; 1024]);
        for id in ids {
            if id < 65536 {
                bits[(id / 64) as usize] |= 1 << (id % 64);
            }
        }
        Selection { wanted: Some(bits) }
    }

    /// Whether events with this id are wanted.
    #[inline]
    pub fn wants(&self, id: u32) -> bool {
        match &self.wanted {
            None => true,
            Some(bits) => id < 65536 && bits[(id / 64) as usize] & (1 << (id % 64)) != 0,
        }
    }

    /// True when every event is wanted.
    pub fn is_all(&self) -> bool {
        self.wanted.is_none()
    }
}

/// Field names to keep, by event id (ids without an entry keep all their fields).
pub type FieldMap = HashMap<u32, &'static [&'static str]>;

/// One pass's decision: which ids, which values they must hold, which fields to keep.
#[derive(Debug, Clone)]
pub struct Filter {
    /// Which event ids to look at.
    pub selection: Selection,
    /// Values a record must hold to be kept, by event id (ids without an entry are kept on
    /// their id alone).
    pub needles: Option<Arc<NeedleMap>>,
    /// The event-data fields to keep, so that a kept event costs no more memory than it must.
    pub fields: Option<Arc<FieldMap>>,
    /// Event ids read only for the accounts they name: a kept one is folded into the read's
    /// account sightings (SID/name counts) instead of kept.
    pub tallied: &'static [u32],
    /// Event ids this pass reads only for the values of a few fields: a kept one holds only
    /// those, and is kept once per distinct set of them (see [`crate::read::Distinct`]).
    pub distinct: &'static [(u32, &'static [&'static str])],
}

impl Default for Filter {
    fn default() -> Self {
        Filter::all()
    }
}

impl Filter {
    /// Keep every record whole.
    pub fn all() -> Self {
        Filter {
            selection: Selection::all(),
            needles: None,
            fields: None,
            tallied: &[],
            distinct: &[],
        }
    }

    /// Keep every record of these ids, whole.
    pub fn ids(ids: impl IntoIterator<Item = u32>) -> Self {
        Filter {
            selection: Selection::only(ids),
            ..Filter::all()
        }
    }

    /// Whether records of this id are looked at (and counted in the census).
    #[inline]
    pub fn wants(&self, id: u32) -> bool {
        self.selection.wants(id)
    }

    /// The fields a kept record of this id is read for, when it is kept once per distinct
    /// value set of them.
    #[inline]
    pub fn distinct_fields(&self, id: u32) -> Option<&'static [&'static str]> {
        self.distinct
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, f)| *f)
    }

    /// Whether kept records of this id are folded into account sightings instead of kept.
    #[inline]
    pub fn tallies(&self, id: u32) -> bool {
        self.tallied.contains(&id)
    }

    /// The needles that decide whether a record of `event_id` is kept, if any.
    pub fn needles_for(&self, event_id: u32) -> Option<&Needles> {
        self.needles.as_deref().and_then(|m| m.get(&event_id))
    }

    /// Whether an event is kept: its id is wanted and, where needles apply, it holds one.
    pub fn keeps(&self, event: &Event) -> bool {
        self.wants(event.event_id)
            && self
                .needles_for(event.event_id)
                .is_none_or(|n| n.event_matches(event))
    }

    /// The event-data fields a kept record of this id keeps (`None`: all of them).
    pub fn fields_of(&self, id: u32) -> Option<&'static [&'static str]> {
        self.fields.as_deref().and_then(|f| f.get(&id)).copied()
    }

    /// `event` with only the fields later stages read.
    pub fn project(&self, mut event: Event) -> Event {
        // Which record this is is fixed before any field it holds is dropped.
        event.seal_identity();
        if let Some(fields) = self.fields_of(event.event_id) {
            event.data.retain(|(k, _)| fields.contains(&k.as_str()));
            event.data.shrink_to_fit();
        }
        event
    }
}

/// How one semantics reads: anchors first, then the evidence that names them.
#[derive(Clone)]
pub struct ReadPlan {
    anchors: &'static [u32],
    evidence: &'static [u32],
    fields: Arc<FieldMap>,
    needles: fn(&dyn Anchors) -> NeedleMap,
    kinds: Arc<HashMap<u32, NeedleKinds>>,
    /// Evidence the first pass also reads, for the needles only: (event id, phrase a value of
    /// it must hold).
    first_pass_evidence: &'static [(u32, &'static str)],
    /// Those phrases as the first pass's needles.
    first_pass_needles: Arc<NeedleMap>,
    /// Evidence ids read only for the accounts they name (see [`Filter::tallied`]).
    tallied: &'static [u32],
    /// Anchor ids the needles read only a few fields of (see [`Filter::distinct`]).
    first_pass_distinct: &'static [(u32, &'static [&'static str])],
}

impl std::fmt::Debug for ReadPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadPlan")
            .field("anchors", &self.anchors)
            .field("evidence", &self.evidence)
            .finish_non_exhaustive()
    }
}

impl ReadPlan {
    /// A plan reading `anchors` whole (but for `fields`), then the `evidence` ids that hold one
    /// of the needles `needles` derives from the anchors. The two id sets are disjoint, so no
    /// record is kept by both passes.
    pub fn new(
        anchors: &'static [u32],
        evidence: &'static [u32],
        fields: Arc<FieldMap>,
        needles: fn(&dyn Anchors) -> NeedleMap,
    ) -> Self {
        assert!(
            anchors.iter().all(|id| !evidence.contains(id)),
            "a read plan's anchor and evidence ids are disjoint"
        );
        ReadPlan {
            anchors,
            evidence,
            fields,
            needles,
            kinds: Arc::default(),
            first_pass_evidence: &[],
            first_pass_needles: Arc::default(),
            tallied: &[],
            first_pass_distinct: &[],
        }
    }

    /// Have the first pass keep anchors of these ids with only the fields given with each, once
    /// per distinct set of their values: the needles read nothing else of them (which services
    /// a busy host's start-type changes name, not when or how often). The second pass reads them
    /// whole, like any anchor.
    pub fn first_pass_distinct(mut self, ids: &'static [(u32, &'static [&'static str])]) -> Self {
        assert!(
            ids.iter().all(|(id, _)| self.anchors.contains(id)),
            "first-pass distinct ids are anchors"
        );
        self.first_pass_distinct = ids;
        self
    }

    /// Fold the kept events of these evidence ids into account sightings instead of keeping
    /// them: they are read only to name the accounts other events give by SID.
    pub fn tallied(mut self, ids: &'static [u32]) -> Self {
        assert!(
            ids.iter().all(|id| self.evidence.contains(id)),
            "tallied ids are evidence"
        );
        self.tallied = ids;
        self
    }

    /// Have the first pass also read the evidence events of these ids whose values hold the
    /// phrase given with each (case-insensitive), for the needles only: the second pass keeps
    /// them by their own needles, like any evidence.
    pub fn first_pass_evidence(mut self, gated: &'static [(u32, &'static str)]) -> Self {
        assert!(
            gated.iter().all(|(id, _)| self.evidence.contains(id)),
            "first-pass evidence is evidence"
        );
        let mut map = NeedleMap::new();
        for (id, phrase) in gated {
            let mut b = NeedlesBuilder::default();
            b.gate(phrase).phrase(phrase);
            map.insert(*id, b.build());
        }
        self.first_pass_evidence = gated;
        self.first_pass_needles = Arc::new(map);
        self
    }

    /// Whether the first pass reads evidence too ([`ReadPlan::first_pass_evidence`]).
    pub fn has_first_pass_evidence(&self) -> bool {
        !self.first_pass_evidence.is_empty()
    }

    /// Whether the first pass reads any events of `event_id` (anchors, and the ids of
    /// [`ReadPlan::first_pass_evidence`]).
    pub fn first_pass_wants(&self, event_id: u32) -> bool {
        self.is_anchor(event_id) || self.first_pass_needles.contains_key(&event_id)
    }

    /// Whether the first pass reads `event`: an anchor, or evidence holding its phrase.
    pub fn in_first_pass(&self, event: &Event) -> bool {
        self.is_anchor(event.event_id)
            || self
                .first_pass_needles
                .get(&event.event_id)
                .is_some_and(|n| n.event_matches(event))
    }

    /// Declare which kinds of needle `needles` may give each evidence id (ids not declared may
    /// be given any): a reader that reads in one pass then keeps only what could match those.
    pub fn needle_kinds(mut self, kinds: &[(u32, NeedleKinds)]) -> Self {
        self.kinds = Arc::new(kinds.iter().copied().collect());
        self
    }

    /// The anchor event ids.
    pub fn anchors(&self) -> &'static [u32] {
        self.anchors
    }

    /// The evidence event ids.
    pub fn evidence(&self) -> &'static [u32] {
        self.evidence
    }

    /// Every event id the second pass reads: the anchors, then the evidence.
    pub fn ids(&self) -> impl Iterator<Item = u32> + Clone {
        self.anchors.iter().chain(self.evidence).copied()
    }

    /// The kinds of needle evidence id `id` may be given.
    pub fn kinds_for(&self, id: u32) -> NeedleKinds {
        self.kinds.get(&id).copied().unwrap_or(NeedleKinds::ALL)
    }

    /// The needles the evidence ids get from `anchors`.
    pub fn needles(&self, anchors: &[Event]) -> NeedleMap {
        (self.needles)(&anchors)
    }

    /// [`ReadPlan::needles`] from anchors however they are held.
    pub fn needles_from(&self, anchors: &dyn Anchors) -> NeedleMap {
        (self.needles)(anchors)
    }

    /// The second pass's filter for needles already built.
    pub fn full_filter_with(&self, needles: NeedleMap) -> Filter {
        Filter {
            selection: Selection::only(self.ids()),
            needles: Some(Arc::new(needles)),
            fields: Some(self.fields.clone()),
            tallied: self.tallied,
            distinct: &[],
        }
    }

    /// The first pass: the anchors (and any [`ReadPlan::first_pass_evidence`]), read only to
    /// learn what to look for.
    pub fn anchor_filter(&self) -> Filter {
        let ids = self.first_pass_evidence.iter().map(|(id, _)| *id);
        Filter {
            selection: Selection::only(self.anchors.iter().copied().chain(ids)),
            needles: (!self.first_pass_evidence.is_empty())
                .then(|| self.first_pass_needles.clone()),
            fields: Some(self.fields.clone()),
            tallied: &[],
            distinct: self.first_pass_distinct,
        }
    }

    /// The second pass, whose output is the hunt's: the anchors again (they are rare, so reading
    /// them twice costs little, and this pass alone then sees every record either pass wanted,
    /// so its counts of what could not be read are complete), and the evidence naming what the
    /// first pass's `anchors` found. An anchor id the needles give an entry is kept only when it
    /// holds one of them.
    pub fn full_filter(&self, anchors: &[Event]) -> Filter {
        self.full_filter_with((self.needles)(&anchors))
    }

    /// For a stream, where evidence may come before the anchors it names: every id either pass
    /// looks at, projected, with no needles (the follower applies them as anchors arrive).
    pub fn stream_filter(&self) -> Filter {
        Filter {
            selection: Selection::only(self.anchors.iter().chain(self.evidence).copied()),
            needles: None,
            fields: Some(self.fields.clone()),
            tallied: &[],
            distinct: &[],
        }
    }

    /// Whether events of `event_id` are anchors (read first, kept whole).
    pub fn is_anchor(&self, event_id: u32) -> bool {
        self.anchors.contains(&event_id)
    }

    /// Both passes over events already in memory: what readers would have kept of them, with
    /// the census of every id either pass looks at.
    pub fn select(&self, events: impl IntoIterator<Item = Event>) -> Selected {
        let first = self.anchor_filter();
        let mut out = Selected::default();
        let mut anchors = Vec::new();
        let mut candidates = Vec::new();
        // What the first pass reads of the evidence, for the needles only.
        let mut first_evidence = Vec::new();
        for e in events {
            out.records += 1;
            let anchor = self.is_anchor(e.event_id);
            if !anchor && !self.evidence.contains(&e.event_id) {
                continue;
            }
            out.census
                .entry((e.computer.clone(), e.channel.clone()))
                .or_default()
                .insert(e.event_id);
            if anchor {
                anchors.push(first.project(e));
            } else {
                if first.keeps(&e) {
                    first_evidence.push(first.project(e.clone()));
                }
                candidates.push(e);
            }
        }
        let n = anchors.len();
        anchors.append(&mut first_evidence);
        let second = self.full_filter(&anchors);
        anchors.truncate(n);
        // Anchors, then evidence, as a reader's second pass keeps them.
        out.events = anchors.into_iter().filter(|e| second.keeps(e)).collect();
        for e in candidates.into_iter().filter(|e| second.keeps(e)) {
            let e = second.project(e);
            if second.tallies(e.event_id) {
                out.accounts.add(&e);
            } else {
                out.events.push(e);
            }
        }
        out.selected = out.events.len() as u64 + out.accounts.records();
        out
    }
}

/// What [`ReadPlan::select`] kept of events in memory.
#[derive(Debug, Default)]
pub struct Selected {
    /// The kept events, anchors first, each projected.
    pub events: Vec<Event>,
    /// Which ids each (computer, channel) holds among those the plan looks at.
    pub census: Census,
    /// Events looked at.
    pub records: u64,
    /// Events kept (in `events`, or folded into `accounts`).
    pub selected: u64,
    /// The account sightings of the tallied ids (see [`ReadPlan::tallied`]).
    pub(crate) accounts: AccountSightings,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_bitmap() {
        let s = Selection::only([7045, 4674, 12, 65535]);
        assert!(s.wants(7045) && s.wants(4674) && s.wants(12) && s.wants(65535));
        assert!(!s.wants(7046) && !s.wants(0) && !s.wants(70000));
        assert!(Selection::all().wants(1));
    }

    fn names(anchors: &dyn Anchors) -> NeedleMap {
        let mut b = NeedlesBuilder::default();
        anchors.each(&mut |e| {
            if let Some(n) = e.field("ServiceName") {
                b.string(n);
            }
        });
        NeedleMap::from([(7036, b.build())])
    }

    #[test]
    fn a_plan_keeps_evidence_naming_its_anchors() {
        let plan = ReadPlan::new(
            &[7045],
            &[7036],
            Arc::new(FieldMap::from([(7045, &["ServiceName"][..])])),
            names,
        );
        let ev = |id, data: &[(&str, &str)]| crate::event::test_event(id, "System", data);
        let picked = plan.select([
            ev(7045, &[("ServiceName", "PSEXESVC"), ("ImagePath", "x")]),
            ev(7036, &[("param1", "PSEXESVC")]),
            ev(7036, &[("param1", "Spooler")]),
            ev(4624, &[]),
        ]);
        assert_eq!(picked.records, 4);
        assert_eq!(picked.selected, 2);
        assert_eq!(picked.events[0].data.len(), 1, "anchor fields projected");
        assert_eq!(picked.events[1].field("param1"), Some("PSEXESVC"));
        let ids = &picked.census[&("HOST".to_string(), "System".to_string())];
        assert_eq!(ids.iter().copied().collect::<Vec<_>>(), [7036, 7045]);
    }
}
