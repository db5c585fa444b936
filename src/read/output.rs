//! What reading one input gives: its kept events, warnings, counts and census, as each record
//! is offered to the pass's [`Filter`](crate::select::Filter).

use std::sync::Arc;

use super::{Distinct, ReadOptions, ReadStats, Warning, evtx_onepass, read_error_reason};
use crate::accounts::AccountSightings;
use crate::event::{Census, Event};

/// What one input gave: its selected events, its warnings and its counts.
#[derive(Debug, Default)]
pub struct FileOutput {
    /// Events the [`Filter`](crate::select::Filter) keeps, in file order.
    pub events: Vec<Event>,
    /// Located problems.
    pub warnings: Vec<Warning>,
    /// Counts.
    pub stats: ReadStats,
    /// Set by readers that met naive local timestamps, so the run can say once how it read them.
    pub used_naive_times: bool,
    /// Which wanted event ids each (computer, channel) holds, kept or not: what each host's logs
    /// could show.
    pub census: Census,
    /// A one-pass read's state for this input, until its second pass (see [`evtx_onepass`]).
    pub deferred: Option<Box<evtx_onepass::Deferred>>,
    /// Kept events dated beyond the representable years (see [`Event::time_as_logged`]).
    pub times_beyond_range: u64,
    /// The account sightings of kept events the filter tallies (see [`Filter::tallied`](crate::select::Filter::tallied)).
    pub(crate) accounts: AccountSightings,
    /// Kept events read only for a few fields' values, each distinct set once (see
    /// [`Filter::distinct`](crate::select::Filter::distinct)).
    pub distinct: Distinct,
    /// What this first pass found the options' later pass
    /// ([`ReadOptions::later`](super::ReadOptions)) need not read again.
    pub(crate) later: Later,
}

/// What a first pass found a later pass of the same plan need not read again of a plain EVTX
/// file: the chunks that hold no record of an id that pass reads would give it nothing but
/// their count of records.
#[derive(Debug, Default)]
pub(crate) enum Later {
    /// Read it again, whole (or it is no plain EVTX file).
    #[default]
    Whole,
    /// None of it: read whole without a warning, it holds no record of an id the later pass
    /// reads, and that pass would give what this one gave.
    Free,
    /// These chunks of it.
    Chunks(Arc<super::evtx::SkipChunks>),
}

/// How many kept events dated beyond the representable years are warned about one by one, per
/// input; the rest are said in one line.
const TIMES_BEYOND_RANGE_LISTED: u64 = 10;

impl FileOutput {
    /// Record a warning.
    pub fn warn(
        &mut self,
        file: &Arc<str>,
        location: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.warnings.push(Warning {
            file: file.clone(),
            location: location.into(),
            message: message.into(),
        });
    }

    /// An input whose reading stopped part-way: one located warning, counted once by reason.
    pub fn lost_rest(
        &mut self,
        file: &Arc<str>,
        location: impl Into<String>,
        err: &std::io::Error,
    ) {
        let reason = read_error_reason(err);
        *self
            .stats
            .inputs_incomplete
            .entry(reason.to_string())
            .or_default() += 1;
        self.warn(
            file,
            location,
            format!("{reason}, the rest of the input is lost: {err}"),
        );
    }

    /// Count a record that could not be read, under a short reason.
    pub fn skip(&mut self, reason: &str) {
        *self
            .stats
            .records_skipped
            .entry(reason.to_string())
            .or_default() += 1;
    }

    /// Count a record seen, note it in the census, and keep it if `opts` keeps it.
    pub fn offer(&mut self, mut event: Event, opts: &ReadOptions) {
        if !self.admit(&mut event, opts) {
            return;
        }
        let filter = opts.filter();
        if filter.tallies(event.event_id) {
            self.fold(&mut event, opts);
            return;
        }
        // The projection fixes which record this is before it drops any field.
        let mut event = filter.project(event);
        if let Some(fields) = filter.distinct_fields(event.event_id) {
            event.data.retain(|(k, _)| fields.contains(&k.as_str()));
            self.distinct.insert(event);
        } else {
            self.events.push(event);
        }
    }

    /// [`FileOutput::offer`] for an event whose id the filter tallies, by a reader that writes
    /// its next record into the same memory: counted, and folded into the account sightings
    /// if kept, as `offer` would; never kept.
    pub(crate) fn offer_folded(&mut self, event: &mut Event, opts: &ReadOptions) {
        debug_assert!(opts.filter().tallies(event.event_id));
        if self.admit(event, opts) {
            self.fold(event, opts);
        }
    }

    /// Count a record seen and note it in the census; whether `opts` keeps it (then counted
    /// as selected).
    fn admit(&mut self, event: &mut Event, opts: &ReadOptions) -> bool {
        self.stats.records += 1;
        if event.computer.is_empty()
            && let Some(host) = &opts.collection_host
        {
            event.computer = host.to_string();
        }
        let filter = opts.filter();
        if !filter.wants(event.event_id) {
            return false;
        }
        self.note_in_census(event);
        if !filter.keeps(event) {
            return false;
        }
        self.stats.records_selected += 1;
        if let Some(logged) = &event.time_as_logged {
            self.note_time_beyond_range(event, logged);
        }
        true
    }

    /// Note `event`'s id under its (computer, channel).
    fn note_in_census(&mut self, event: &Event) {
        // An input holds a host's log or a few: its keys are found without allocating them.
        let known = self
            .census
            .iter_mut()
            .take(4)
            .find(|((c, ch), _)| *c == event.computer && *ch == event.channel);
        match known {
            Some((_, ids)) => {
                ids.insert(event.event_id);
            }
            None => {
                self.census
                    .entry((event.computer.clone(), event.channel.clone()))
                    .or_default()
                    .insert(event.event_id);
            }
        }
    }

    /// Fold a kept event of a tallied id into the account sightings, by the fields the
    /// projection would keep, without dropping the others (nothing of it is kept).
    fn fold(&mut self, event: &mut Event, opts: &ReadOptions) {
        event.seal_identity();
        self.accounts
            .add_within(event, opts.filter().fields_of(event.event_id));
    }

    /// Warn that a kept event is dated by a clock beyond the representable years (the first
    /// few of an input one by one, located; then once for the rest).
    fn note_time_beyond_range(&mut self, event: &Event, logged: &str) {
        self.times_beyond_range += 1;
        let file = event.origin.file.clone();
        if self.times_beyond_range <= TIMES_BEYOND_RANGE_LISTED {
            self.warn(
                &file,
                event.origin.locator.to_string(),
                format!(
                    "event {} is dated {logged}, beyond the years -9999..9999 svchunt can hold (a \
                     clock set on purpose?): kept, and dated {} in the hunt",
                    event.event_id, event.time
                ),
            );
        } else if self.times_beyond_range == TIMES_BEYOND_RANGE_LISTED + 1 {
            self.warn(
                &file,
                "",
                "more events are dated beyond the years svchunt can hold: kept the same way, \
                 not listed one by one",
            );
        }
    }

    /// Add another output (of the same input) to this one.
    pub fn absorb(&mut self, other: FileOutput) {
        self.events.extend(other.events);
        self.accounts.absorb(other.accounts);
        self.distinct.absorb(other.distinct);
        self.warnings.extend(other.warnings);
        self.stats.merge(&other.stats);
        self.used_naive_times |= other.used_naive_times;
        self.times_beyond_range += other.times_beyond_range;
        for (k, ids) in other.census {
            self.census.entry(k).or_default().extend(ids);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::select::Filter;

    #[test]
    fn distinct_events_are_kept_once_per_value_set_with_their_fields_only() {
        let filter = Filter {
            distinct: &[(7040, &["param1", "param4"])],
            ..Filter::ids([7040, 7045])
        };
        let opts = ReadOptions::default().with_filter(filter);
        let change = |display: &str, key: &str, to: &str| {
            crate::event::test_event(
                7040,
                "System",
                &[
                    ("param1", display),
                    ("param2", "auto start"),
                    ("param3", to),
                    ("param4", key),
                ],
            )
        };
        let mut first = FileOutput::default();
        first.offer(
            change(
                "Background Intelligent Transfer Service",
                "BITS",
                "demand start",
            ),
            &opts,
        );
        first.offer(
            change(
                "Background Intelligent Transfer Service",
                "BITS",
                "disabled",
            ),
            &opts,
        );
        first.offer(
            crate::event::test_event(7045, "System", &[("ServiceName", "x")]),
            &opts,
        );
        let mut second = FileOutput::default();
        second.offer(change("Windows Update", "wuauserv", "demand start"), &opts);
        second.offer(
            change(
                "Background Intelligent Transfer Service",
                "BITS",
                "auto start",
            ),
            &opts,
        );
        first.absorb(second);
        assert_eq!(first.events.len(), 1, "other ids are kept as they are");
        let kept: Vec<Vec<(String, String)>> = first
            .distinct
            .into_events()
            .into_iter()
            .map(|e| e.data)
            .collect();
        let pair = |d: &str, k: &str| {
            vec![
                ("param1".to_string(), d.to_string()),
                ("param4".to_string(), k.to_string()),
            ]
        };
        assert_eq!(
            kept,
            [
                pair("Background Intelligent Transfer Service", "BITS"),
                pair("Windows Update", "wuauserv")
            ]
        );
    }
}
