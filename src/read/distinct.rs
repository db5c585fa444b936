//! Events a pass reads only for a few fields' values, kept once per distinct set of them (see
//! [`crate::select::Filter::distinct`]): a busy host's thousands of start-type changes name a
//! few dozen services, and the needles want the names, not the changes.

use std::collections::{HashMap, HashSet};

use crate::event::Event;

/// Events kept once per distinct (event id, fields) value, in the order first met.
#[derive(Debug, Default)]
pub struct Distinct {
    /// The fields seen, by event id.
    seen: HashMap<u32, HashSet<Vec<(String, String)>>>,
    events: Vec<Event>,
}

impl Distinct {
    /// Keep `event` unless an event of its id with the same fields is kept already.
    pub fn insert(&mut self, event: Event) {
        let seen = self.seen.entry(event.event_id).or_default();
        // Looked up before anything is copied: nearly every event repeats one kept already.
        if !seen.contains(&event.data) {
            seen.insert(event.data.clone());
            self.events.push(event);
        }
    }

    /// Add `other`'s events, each distinct one once.
    pub fn absorb(&mut self, other: Distinct) {
        if self.events.is_empty() {
            *self = other;
            return;
        }
        other.events.into_iter().for_each(|e| self.insert(e));
    }

    /// The events kept.
    pub fn into_events(self) -> Vec<Event> {
        self.events
    }
}
