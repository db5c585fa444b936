//! Following a live stream of events: the same hunt as [`Engine::hunt_events`], told as it
//! happens, in bounded memory.
//!
//! A [`Follower`] is built by [`Engine::follower`] (lifecycle semantics only). The front end
//! reads its inputs as they grow and hands the follower each batch of events with
//! [`Follower::push`], naming the input it came from; [`Follower::advance`] then returns what
//! changed, as [`Change`]s: a finding `opened` (a creation seen, judged), `updated` (a removal,
//! a source, a verdict or any other field changed), `closed` (its window ended: final), or
//! `withdrawn` (no longer reported: it turned benign, or merged into another finding).
//!
//! # Same answer as a batch hunt
//!
//! Each host's findings are computed by the batch hunt's own code (the read plan's needles,
//! correlation, attribution, allow-list, campaigns) over the events the follower still holds
//! for that host, and compared with what was last said: so once a stream has been read, the
//! last line said of each finding is what a batch hunt of the same events reports (see the
//! limits below for the few things a bounded memory cannot know).
//!
//! # When a finding is said
//!
//! Events arrive out of order across logs (the System, Security and Sysmon logs flush at their
//! own pace; forwarders batch). A creation is judged only once its host's *watermark* has
//! passed its time by the settling time, `max(--tolerance, merge window)`: the install's
//! other half (7045 and 4697) and the evidence logged just before it have arrived by then.
//! A host's watermark is the latest event time of the inputs carrying its events, held back
//! to the earliest of those that still have unread data ([`Follower::push`] says whether an
//! input was read to its end). Quiet inputs would hold a last creation back forever, so
//! [`Follower::settle_now`] judges everything read when the front end sees every input idle.
//! A finding closes when the watermark passes its creation by `max(--window, REACH)` plus
//! the settling time: no evidence, removal or campaign member can come after that.
//!
//! # Bounded state
//!
//! Per host the follower holds: the installs of open lifecycles; the evidence that names them
//! (until they close); evidence that names nothing yet, for [`REACH`] plus the settling time
//! (an install logged later may claim it); the logon sessions an install may still name, for
//! `--window`; and closed findings a campaign may still grow from. Older state is dropped, and
//! past the [`FollowLimits`] the oldest is dropped early and counted ([`FollowStats`]), so
//! memory stays flat over any stream length. The account directory (SID → name) is shared by
//! all hosts and bounded too.
//!
//! A host is trimmed only right after a judgement (or when nothing has arrived for it since
//! the last one): what arrives is judged together with what it may stand on before anything
//! goes, whatever watermark it came with. Arrivals can move a watermark far at once (a log read
//! behind the others, a log shared by hosts whose clock another host's events carried hours
//! on), and a host judged less than the rejudge interval ago waits for its next judgement; so
//! within the holds above, the order in which logs are read does not change the last judgement.
//!
//! # Finding ids
//!
//! Each finding carries the id [`Finding::id`] gives it when it is first judged (the same a
//! batch hunt's Timesketch output carries: host key, service name and creation time, hashed),
//! and keeps it when later evidence renames or re-dates the finding (a 4697 naming the key of
//! a 7045's display name, say): later judgements are matched to it by the install records
//! (or, for a reconfiguration, the binary-path writes) it stands on.
//!
//! # Limits of a bounded memory
//!
//! A batch hunt sees the whole log; a follower forgets. A logon session older than `--window`
//! before the install it would name is gone (the finding has no source then), and names learnt
//! for accounts count only what was read so far. Events older than anything still open are
//! counted as late and used only by installs still held.
//!
//! A log whose events come more than the holds above behind its host's other logs (a log found
//! late: created after the others ran on, or blank until its first record and found at the next
//! look; a forwarder's backlog) is judged with what is still held. Installs and the evidence
//! naming them are held for the window, so its installs and their evidence still end as the
//! batch hunt reports them; but what named nothing when it came, a start-type change (7040) no
//! reconfiguration had claimed yet, and a network logon no install had named were dropped
//! meanwhile: a reconfiguration seen only in such a log (its Sysmon `ImagePath` writes) is told
//! without the 7040 (no display name, no start type). A finding whose window passed before
//! such evidence came is closed and stays as it was told. A larger `--tolerance` holds what
//! names nothing longer (and judges later).

mod host;
mod state;

use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::compact::{Compact, Interner};
use super::{Engine, LifecycleOptions, Semantics};
use crate::accounts::AccountDirectory;
use crate::event::Event;
use crate::lifecycle::host_key;
use crate::read::ReadOptions;
use crate::report::Finding;
use crate::select::{Filter, ReadPlan};
use host::Host;

pub use state::{FollowState, StateError};

/// How far before or after a creation any stage looks, besides the window itself: a
/// reconfiguration's binary-path writes, each up to 15 minutes after the one before, with the
/// start-type change (7040) up to a minute before them; a getsystem-style pipe made up to 10
/// minutes before the new service connects to it; share access and pipes (60 s before, 120 s
/// after); a local client (120 s before); the gap between two members of a campaign (60 s).
/// Evidence that names no install yet is held this long (an install logged later may claim it),
/// and a finding stays open at least this long. The stages' own spans must stay within it.
pub const REACH: SignedDuration = SignedDuration::from_secs(16 * 60);

/// How long a network logon (type 3) is held for an install to name it: remote tools install
/// within seconds of their logon; sessions held open longer are rare, and network logons are
/// most of a busy log. Other logons (interactive, remote desktop, batch) are held `--window`.
pub const NETWORK_LOGON_KEEP: SignedDuration = SignedDuration::from_hours(1);

/// The most names an account (SID) keeps in a follower's directory.
const NAMES_PER_ACCOUNT: usize = 16;

/// What changed about a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// First judged (and reported).
    Opened,
    /// Something in it changed: a removal, a source, the verdict, more evidence.
    Updated,
    /// Its window ended: this is its final state.
    Closed,
    /// No longer reported: it turned benign (or was allow-listed), or merged into another.
    Withdrawn,
}

impl ChangeKind {
    /// The name used in output (`opened`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Opened => "opened",
            ChangeKind::Updated => "updated",
            ChangeKind::Closed => "closed",
            ChangeKind::Withdrawn => "withdrawn",
        }
    }
}

/// One change a follower reports: serialised as one JSON line, `{"event": …, "id": …,
/// "reason": … (withdrawn only), …the finding's fields}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// What changed.
    pub event: ChangeKind,
    /// The finding's stable id (see the module documentation).
    pub id: String,
    /// Why a finding was withdrawn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The finding as it stands now (`None` only for a finding withdrawn because it merged
    /// into another, or because its install was dropped).
    #[serde(flatten)]
    pub finding: Option<Finding>,
}

/// Counts of what a follower did, for a status line or a summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowStats {
    /// Events pushed.
    pub events: u64,
    /// Service installs among them.
    pub installs: u64,
    /// Events older than anything still open when they arrived.
    pub late: u64,
    /// Findings opened, updated, closed, withdrawn.
    pub opened: u64,
    /// See `opened`.
    pub updated: u64,
    /// See `opened`.
    pub closed: u64,
    /// See `opened`.
    pub withdrawn: u64,
    /// Evidence dropped before its time to stay within [`FollowLimits::events`].
    pub dropped_events: u64,
    /// Logon sessions dropped before their time to stay within [`FollowLimits::logons`].
    pub dropped_logons: u64,
    /// Installs dropped before their window ended to stay within [`FollowLimits::installs`].
    pub dropped_installs: u64,
    /// Account names not learnt to stay within [`FollowLimits::accounts`].
    pub dropped_accounts: u64,
}

impl FollowStats {
    /// Everything dropped early, summed.
    pub fn dropped(&self) -> u64 {
        self.dropped_events + self.dropped_logons + self.dropped_installs + self.dropped_accounts
    }
}

/// How much a follower holds at most; past these, the oldest is dropped first, and counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowLimits {
    /// Evidence events held (all hosts).
    pub events: usize,
    /// Logon sessions held (all hosts).
    pub logons: usize,
    /// Installs of open lifecycles held (all hosts).
    pub installs: usize,
    /// Accounts (SIDs) named.
    pub accounts: usize,
}

impl Default for FollowLimits {
    /// About 100 MiB in all at their fullest (a held event costs about 300 bytes).
    fn default() -> Self {
        FollowLimits {
            events: 200_000,
            logons: 100_000,
            installs: 20_000,
            accounts: 100_000,
        }
    }
}

/// Why a follower cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FollowError {
    /// The seed query's semantics cannot follow a stream.
    #[error(
        "the seed query (--semantics kql) cannot follow a stream: it keeps the newest row per \
         service name across all hosts and all time, which no stream ever settles; follow with \
         the default semantics, or hunt the files when they are complete"
    )]
    Semantics,
    /// A saved state cannot be resumed.
    #[error(transparent)]
    State(#[from] StateError),
}

/// The time spans a follower works with, from the engine's windows.
#[derive(Debug, Clone, Copy)]
struct Timing {
    /// How long after a creation it is judged (`max(tolerance, merge window)`).
    settle: SignedDuration,
    /// How long after a creation it closes (`max(window, REACH) + settle`).
    close_after: SignedDuration,
    /// How long a logon session is held (`window`).
    logon_keep: SignedDuration,
}

/// `t + d`, saturating at the ends of time (log times are the attacker's).
fn plus(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_add(d).unwrap_or(if d.is_negative() {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// One input's clock.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Clock {
    /// The latest event time it gave.
    latest: Option<Timestamp>,
    /// Whether it was read to its end when it last gave events.
    at_end: bool,
}

/// Follows a stream of events (see the module documentation).
#[derive(Debug)]
pub struct Follower {
    options: LifecycleOptions,
    plan: ReadPlan,
    stream: Filter,
    read: ReadOptions,
    timing: Timing,
    limits: FollowLimits,
    rejudge: std::time::Duration,
    inputs: BTreeMap<String, Clock>,
    hosts: BTreeMap<String, Host>,
    accounts: AccountDirectory,
    interner: Interner,
    /// The needles of every install held, and its generation (bumped at each rebuild).
    filter: Option<(Filter, u32)>,
    generation: u32,
    stats: FollowStats,
}

impl Engine {
    /// A follower hunting a stream with this engine's options (lifecycle semantics only).
    pub fn follower(&self) -> Result<Follower, FollowError> {
        let Semantics::Lifecycle(options) = &self.semantics else {
            return Err(FollowError::Semantics);
        };
        let w = &options.windows;
        let settle = w.tolerance.max(w.merge_window);
        let plan = crate::lifecycle::plan();
        Ok(Follower {
            options: options.clone(),
            stream: plan.stream_filter(),
            read: self.read.with_filter(plan.stream_filter()),
            plan,
            timing: Timing {
                settle,
                close_after: w.window.max(REACH) + settle,
                logon_keep: w.window,
            },
            limits: FollowLimits::default(),
            rejudge: std::time::Duration::ZERO,
            inputs: BTreeMap::new(),
            hosts: BTreeMap::new(),
            accounts: AccountDirectory::default(),
            interner: Interner::default(),
            filter: None,
            generation: 0,
            stats: FollowStats::default(),
        })
    }

    /// A follower resuming from a state [`Follower::save`] wrote, with this engine's options
    /// (which must have the same windows).
    pub fn resume(&self, state: FollowState) -> Result<Follower, FollowError> {
        let mut follower = self.follower()?;
        state.restore(&mut follower)?;
        Ok(follower)
    }
}

impl Follower {
    /// What readers should keep for this follower: every event id the hunt reads, with the
    /// fields it reads, and no needles (evidence may come before the install it names).
    pub fn read_filter(&self) -> Filter {
        self.stream.clone()
    }

    /// The options to read inputs with for this follower: [`Follower::read_filter`] and the
    /// engine's reading options (the zone of naive times).
    pub fn read_options(&self) -> &ReadOptions {
        &self.read
    }

    /// Judge a host again for new evidence at most once per `interval` of wall time (a busy
    /// stream names its installs many times a second); what falls due (a creation to open, a
    /// finding to close) is still judged at once. None by default: every [`Follower::advance`]
    /// judges every host something arrived for.
    pub fn with_rejudge_interval(mut self, interval: std::time::Duration) -> Self {
        self.rejudge = interval;
        self
    }

    /// Hold at most `limits`.
    pub fn with_limits(mut self, limits: FollowLimits) -> Self {
        self.limits = limits;
        self
    }

    /// What was done so far.
    pub fn stats(&self) -> &FollowStats {
        &self.stats
    }

    /// How many findings are open (judged, not yet closed).
    pub fn open(&self) -> usize {
        self.hosts.values().map(Host::open).sum()
    }

    /// Events held (installs, evidence and logon sessions), all hosts.
    pub fn held(&self) -> usize {
        self.hosts.values().map(Host::held).sum()
    }

    /// Events held, by kind: installs, evidence naming one, evidence naming none yet, logons
    /// (all hosts).
    pub fn held_by_kind(&self) -> [usize; 4] {
        self.hosts.values().fold([0; 4], |[a, m, p, l], h| {
            let matched = h
                .evidence
                .iter()
                .filter(|c| c.matched.is_some_and(|(_, k)| k))
                .count();
            [
                a + h.anchors_len(),
                m + matched,
                p + h.evidence_len() - matched,
                l + h.logons_len(),
            ]
        })
    }

    /// Take `events`, read from `input` (any name, the same for every batch of one input); `at_end`
    /// says whether the input was read to its end. Events the read filter would not keep are
    /// ignored. Nothing is judged until [`Follower::advance`].
    pub fn push(&mut self, input: &str, events: Vec<Event>, at_end: bool) {
        let clock = self.inputs.entry(input.to_string()).or_default();
        clock.at_end = at_end;
        for e in events {
            if let Some(t) = clock.latest.filter(|t| *t >= e.time) {
                clock.latest = Some(t);
            } else {
                clock.latest = Some(e.time);
            }
            self.stats.events += 1;
            if !self.stream.wants(e.event_id) {
                continue;
            }
            self.stats.dropped_accounts +=
                self.accounts
                    .learn_event_within(&e, self.limits.accounts, NAMES_PER_ACCOUNT);
            let anchor = self.plan.is_anchor(e.event_id);
            // Evidence the batch's first pass reads (an ImagePath write) changes the needles
            // as an install does.
            if anchor || self.plan.in_first_pass(&e) {
                self.filter = None;
            }
            let host = self.hosts.entry(host_key(&e.computer)).or_default();
            host.inputs.insert(input.to_string());
            if anchor {
                self.stats.installs += 1;
            }
            let filter = self.filter.as_ref().map(|(f, g)| (f, *g));
            if host.take(e, anchor, filter, &mut self.interner, &self.timing) {
                self.stats.late += 1;
            }
        }
    }

    /// Forget an input that is gone (a file deleted): its clock no longer holds hosts back.
    pub fn forget_input(&mut self, input: &str) {
        self.inputs.remove(input);
        for h in self.hosts.values_mut() {
            h.inputs.remove(input);
        }
    }

    /// Judge what is due and close what ended; returns the changes, host by host, each
    /// host's in creation order.
    pub fn advance(&mut self) -> Vec<Change> {
        self.step(false)
    }

    /// Judge every creation read so far without waiting for later events, as if the settling
    /// time had passed (the front end calls this when every input has been read to its end and
    /// stayed quiet a while). Closing still waits for the window to pass in event time.
    pub fn settle_now(&mut self) -> Vec<Change> {
        self.step(true)
    }

    fn step(&mut self, settle_all: bool) -> Vec<Change> {
        if self.filter.is_none() {
            // What the batch's first pass would read of what is held: the anchors, and the
            // evidence its plan reads with them.
            let plan = &self.plan;
            let anchors: Vec<Event> = self
                .hosts
                .values()
                .flat_map(|h| {
                    let evidence = h
                        .evidence
                        .iter()
                        .filter(|c| plan.first_pass_wants(c.event_id))
                        .map(Compact::event)
                        .filter(|e| plan.in_first_pass(e));
                    h.anchors.iter().map(Compact::event).chain(evidence)
                })
                .collect();
            self.generation = self.generation.wrapping_add(1);
            self.filter = Some((self.plan.full_filter(&anchors), self.generation));
        }
        let mut changes = Vec::new();
        let (filter, generation) = self.filter.as_ref().expect("built above");
        let mut anchors_dropped = false;
        for host in self.hosts.values_mut() {
            let Some(wm) = watermark(host, &self.inputs) else {
                continue;
            };
            let ctx = host::Context {
                options: &self.options,
                timing: &self.timing,
                filter,
                generation: *generation,
                accounts: &self.accounts,
            };
            let judging = settle_all || host.wakes_at(wm, self.rejudge);
            if judging {
                changes.extend(host.judge(&ctx, wm, settle_all));
            }
            // Only what a judgement has seen together with everything that arrived may go: a
            // host with arrivals not judged yet (the rejudge interval) keeps all it holds until
            // its next judgement. Trimmed first, the watermark those arrivals carried (a shared
            // log's clock, a log read behind the others) would drop what they stand on before
            // any judgement saw them together: a reconfiguration's 7040, a logon.
            if judging || !host.dirty {
                anchors_dropped |= host.trim(&ctx, wm);
            }
        }
        self.enforce_limits();
        if anchors_dropped {
            self.filter = None;
        }
        for c in &changes {
            match c.event {
                ChangeKind::Opened => self.stats.opened += 1,
                ChangeKind::Updated => self.stats.updated += 1,
                ChangeKind::Closed => self.stats.closed += 1,
                ChangeKind::Withdrawn => self.stats.withdrawn += 1,
            }
        }
        self.hosts.retain(|_, h| !h.is_empty());
        changes
    }

    /// Drop the oldest held state of the fullest hosts while past a limit.
    fn enforce_limits(&mut self) {
        let limits = self.limits;
        let over = |hosts: &BTreeMap<String, Host>, len: fn(&Host) -> usize, limit: usize| {
            hosts.values().map(len).sum::<usize>().saturating_sub(limit)
        };
        let mut dropped = [0u64; 3];
        type Len = fn(&Host) -> usize;
        type Drop = fn(&mut Host, usize) -> usize;
        let kinds: [(usize, Len, Drop); 3] = [
            (
                limits.events,
                Host::evidence_len,
                Host::drop_oldest_evidence,
            ),
            (limits.logons, Host::logons_len, Host::drop_oldest_logons),
            (
                limits.installs,
                Host::anchors_len,
                Host::drop_oldest_anchors,
            ),
        ];
        for (k, (limit, len, drop)) in kinds.into_iter().enumerate() {
            let mut excess = over(&self.hosts, len, limit);
            while excess > 0 {
                let Some(fullest) = self.hosts.values_mut().max_by_key(|h| len(h)) else {
                    break;
                };
                // From the fullest host, at least a tenth of what it holds: one pass frees room
                // for a while instead of one event per batch.
                let n = drop(fullest, excess.max(len(fullest) / 10));
                if n == 0 {
                    break;
                }
                dropped[k] += n as u64;
                excess = excess.saturating_sub(n);
            }
        }
        self.stats.dropped_events += dropped[0];
        self.stats.dropped_logons += dropped[1];
        self.stats.dropped_installs += dropped[2];
        if dropped[2] > 0 {
            self.filter = None;
        }
    }

    /// The follower's state, to resume from after a restart (see [`Engine::resume`]).
    pub fn save(&self) -> FollowState {
        FollowState::of(self)
    }
}

/// A host's watermark: the latest time of the inputs carrying it, held back to the earliest of
/// those with data still unread. `None` before any event with a time.
fn watermark(host: &Host, inputs: &BTreeMap<String, Clock>) -> Option<Timestamp> {
    let clocks = || host.inputs.iter().filter_map(|i| inputs.get(i));
    let lead = clocks().filter_map(|c| c.latest).chain(host.latest).max()?;
    let lag = clocks()
        .filter(|c| !c.at_end)
        .filter_map(|c| c.latest)
        .min();
    Some(lag.map_or(lead, |l| l.min(lead)))
}

/// The names of inputs a host's events came from.
type InputSet = BTreeSet<String>;

#[cfg(test)]
mod tests;
