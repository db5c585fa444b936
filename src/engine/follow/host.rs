//! One host's share of a follower: the events it holds, the findings it has said, and how a
//! host is judged again (the batch hunt's own tail over what it holds) and trimmed.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use super::{Change, ChangeKind, InputSet, NETWORK_LOGON_KEEP, REACH, Timing, plus};
use crate::accounts::AccountDirectory;
use crate::attribute::campaign;
use crate::engine::compact::{Compact, Interner};
use crate::engine::{LifecycleOptions, campaigns, judged, reported};
use crate::event::{Event, Locator, order_and_dedup};
use crate::lifecycle::Role;
use crate::report::Finding;
use crate::select::Filter;

/// What judging a host needs from its follower.
pub(super) struct Context<'a> {
    pub options: &'a LifecycleOptions,
    pub timing: &'a Timing,
    /// The needles of every install held (a batch hunt's second pass).
    pub filter: &'a Filter,
    pub generation: u32,
    pub accounts: &'a AccountDirectory,
}

/// An install record, as a finding's evidence names it: which finding a new judgement is
/// the same as.
pub(super) type Key = (Arc<str>, Locator, u32, Timestamp);

/// A finding judged and followed.
#[derive(Debug, Clone)]
pub(super) struct Tracked {
    pub id: String,
    /// Its install records.
    pub keys: Vec<Key>,
    /// Every record it stands on: held while it is open, whatever their own time to go (the
    /// logon behind it, a reconfiguration's 7040s).
    pub pins: Vec<Key>,
    pub created: Timestamp,
    /// The finding as last judged: a digest of its JSON (to tell a change without holding it).
    pub last: u64,
    /// Whether the last judgement was reported (opened and not withdrawn).
    pub reported: bool,
}

/// A logon an install may name.
#[derive(Debug, Clone)]
pub(super) struct Session {
    pub logon: Compact,
    /// A network logon (type 3), held [`NETWORK_LOGON_KEEP`] rather than the window.
    pub network: bool,
}

impl Session {
    pub fn new(e: Event, interner: &mut Interner) -> Session {
        let network = e.field("LogonType").is_some_and(|t| t.trim() == "3");
        Session {
            logon: Compact::new(e, interner),
            network,
        }
    }
}

/// A closed, reported finding, held while a campaign may still count it.
#[derive(Debug, Clone)]
pub(super) struct Retired {
    pub finding: Finding,
}

/// One host's held events and followed findings.
#[derive(Debug, Default)]
pub(super) struct Host {
    /// The inputs its events came from.
    pub inputs: InputSet,
    /// Its latest event time.
    pub latest: Option<Timestamp>,
    /// Installs (7045, 4697) of lifecycles not yet closed.
    pub anchors: Vec<Compact>,
    /// Other events of the hunt's ids, in arrival order.
    pub evidence: VecDeque<Compact>,
    /// 4624 logons by the session they open.
    pub logons: BTreeMap<u64, Vec<Session>>,
    pub logon_count: usize,
    pub tracked: Vec<Tracked>,
    pub retired: Vec<Retired>,
    /// Campaigns of each computer (as spelt) already dropped: later ones number after them.
    pub campaigns_before: BTreeMap<String, usize>,
    /// Something arrived that may change a judgement.
    pub dirty: bool,
    /// The watermark at which something falls due (a judgement, a close, a drop).
    pub wake: Option<Timestamp>,
    /// When it was last judged (wall time: only to space judgements out, see
    /// [`super::Follower::with_rejudge_interval`]).
    pub judged: Option<std::time::Instant>,
}

/// The logon session a 4624 opens, unless a well-known one (every LUID up to 0x3e7 is the
/// system's own: SYSTEM, LOCAL and NETWORK SERVICE; no install through them names a source).
fn logon_session(value: Option<&str>) -> Option<u64> {
    let v = value?.trim();
    let n = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok()?,
        None => v.parse().ok()?,
    };
    (n > 0x3e7).then_some(n)
}

/// The records a finding stands on, which tell a new judgement of it from another finding:
/// its installs, or for a reconfiguration its temporary binary paths.
fn install_keys(f: &Finding) -> Vec<Key> {
    f.evidence
        .iter()
        .filter(|e| matches!(e.role, Role::Installed | Role::ImagePathChanged))
        .map(|e| (e.file.clone(), e.locator, e.event_id, e.time))
        .collect()
}

/// The first 8 bytes of the SHA-256 of `f`'s JSON, streamed (no copy of the JSON is made): two
/// judgements of a finding differ when their digests do. SHA-256 rather than the standard
/// hasher, whose output may change between Rust versions, because a saved state holds it.
fn digest(f: &Finding) -> u64 {
    struct Hashing(Sha256);
    impl std::io::Write for Hashing {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.update(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut h = Hashing(Sha256::new());
    let _ = serde_json::to_writer(&mut h, f);
    u64::from_le_bytes(h.0.finalize()[..8].try_into().expect("8 bytes"))
}

fn earliest(wake: &mut Option<Timestamp>, at: Timestamp) {
    *wake = Some(wake.map_or(at, |w| w.min(at)));
}

fn change(
    event: ChangeKind,
    t: &Tracked,
    finding: Option<Finding>,
    reason: Option<String>,
) -> Change {
    Change {
        event,
        id: t.id.clone(),
        reason,
        finding,
    }
}

impl Host {
    pub fn open(&self) -> usize {
        self.tracked.iter().filter(|t| t.reported).count()
    }

    pub fn held(&self) -> usize {
        self.anchors.len() + self.evidence.len() + self.logon_count
    }

    pub fn is_empty(&self) -> bool {
        self.held() == 0 && self.tracked.is_empty() && self.retired.is_empty()
    }

    /// Whether the host should be judged at watermark `wm`: something fell due, or something
    /// arrived that may change a judgement and the last judgement is at least `rejudge` old.
    pub fn wakes_at(&self, wm: Timestamp, rejudge: std::time::Duration) -> bool {
        self.wake.is_some_and(|w| w <= wm)
            || (self.dirty && self.judged.is_none_or(|t| t.elapsed() >= rejudge))
    }

    /// Hold `e`; true when it came later than anything still open could use.
    pub fn take(
        &mut self,
        e: Event,
        anchor: bool,
        filter: Option<(&Filter, u32)>,
        interner: &mut Interner,
        timing: &Timing,
    ) -> bool {
        let late = self
            .latest
            .is_some_and(|l| plus(e.time, timing.close_after + REACH) < l);
        self.latest = self.latest.max(Some(e.time));
        if anchor {
            // Judged when it falls due, however recently the host was judged: what it stands on
            // (its logon) is held for a while only until then.
            earliest(&mut self.wake, plus(e.time, timing.settle));
            self.anchors.push(Compact::new(e, interner));
            self.dirty = true;
            return late;
        }
        let logon = (e.event_id == 4624).then(|| logon_session(e.field("TargetLogonId")));
        if logon == Some(None) {
            return late; // a logon no install can name
        }
        // Only what a judgement could use makes the host worth judging again: the events of a
        // host with nothing to judge wait, unless they may begin a reconfiguration (Sysmon 13).
        let worth = !self.anchors.is_empty() || !self.tracked.is_empty() || e.event_id == 13;
        let (mut c, session) = match logon {
            Some(Some(id)) => {
                let s = Session::new(e, interner);
                (s.logon.clone(), Some((id, s.network)))
            }
            _ => (Compact::new(e, interner), None),
        };
        match filter {
            Some((f, generation)) => {
                let keep =
                    f.wants(c.event_id) && f.needles_for(c.event_id).is_none_or(|n| c.matches(n));
                c.matched = Some((generation, keep));
                self.dirty |= keep && worth;
            }
            None => self.dirty |= worth,
        }
        match session {
            Some((id, network)) => {
                self.logons
                    .entry(id)
                    .or_default()
                    .push(Session { logon: c, network });
                self.logon_count += 1;
            }
            None => self.evidence.push_back(c),
        }
        late
    }

    /// Whether `c` holds a needle of the current filter (remembered per generation).
    ///
    /// A match is for good: needles only come from installs, and a batch hunt keeps what names
    /// any install it read, not only those still open; only a miss is tried again against a
    /// newer filter.
    fn keeps(c: &mut Compact, filter: &Filter, generation: u32) -> bool {
        match c.matched {
            Some((_, true)) => true,
            Some((g, keep)) if g == generation => keep,
            _ => {
                let keep = filter.wants(c.event_id)
                    && filter.needles_for(c.event_id).is_none_or(|n| c.matches(n));
                c.matched = Some((generation, keep));
                keep
            }
        }
    }

    /// What a batch hunt would keep of what the host holds, in time order, each once.
    fn selected(&mut self, ctx: &Context<'_>) -> Vec<Event> {
        // Anchors as the batch's second pass keeps them: those the needles choose among (a
        // start-type change) only when they hold one.
        let mut events: Vec<Event> = self
            .anchors
            .iter()
            .filter(|c| {
                ctx.filter
                    .needles_for(c.event_id)
                    .is_none_or(|n| c.matches(n))
            })
            .map(Compact::event)
            .collect();
        for c in &mut self.evidence {
            if Self::keeps(c, ctx.filter, ctx.generation) {
                events.push(c.event());
            }
        }
        if let Some(sessions) = ctx.filter.needles_for(4624).map(|n| n.numbers()) {
            for session in sessions {
                for s in self.logons.get_mut(session).into_iter().flatten() {
                    if Self::keeps(&mut s.logon, ctx.filter, ctx.generation) {
                        events.push(s.logon.event());
                    }
                }
            }
        }
        order_and_dedup(&mut events);
        events
    }

    /// Judge the host again and say what changed. `settle_all`: judge every creation held,
    /// due or not.
    pub fn judge(&mut self, ctx: &Context<'_>, wm: Timestamp, settle_all: bool) -> Vec<Change> {
        self.dirty = false;
        self.judged = Some(std::time::Instant::now());
        let t = ctx.timing;
        let events = self.selected(ctx);
        let (mut shown, silent): (Vec<Finding>, Vec<Finding>) =
            judged(&events, ctx.accounts, ctx.options)
                .into_iter()
                .partition(|f| reported(f, ctx.options));
        // Campaigns over what is reported, closed members still held included.
        let held = self.retired.len();
        let mut all: Vec<Finding> = self.retired.iter().map(|r| r.finding.clone()).collect();
        all.append(&mut shown);
        let before = &self.campaigns_before;
        campaigns(&mut all, |c| before.get(c).copied().unwrap_or(0));
        let mut findings: Vec<(Finding, bool)> = all
            .split_off(held)
            .into_iter()
            .map(|f| (f, true))
            .chain(silent.into_iter().map(|f| (f, false)))
            .collect();
        findings.sort_by(|(a, _), (b, _)| {
            (a.created, &a.computer, &a.service_name).cmp(&(
                b.created,
                &b.computer,
                &b.service_name,
            ))
        });

        let mut out = Vec::new();
        let mut wake: Option<Timestamp> = None;
        let mut seen = vec![false; self.tracked.len()];
        let mut closed = Vec::new();
        let mut merged: Vec<(usize, String)> = Vec::new();
        for (f, shown) in findings {
            let keys = install_keys(&f);
            let matching: Vec<usize> = (0..self.tracked.len())
                .filter(|&i| !seen[i] && self.tracked[i].keys.iter().any(|k| keys.contains(k)))
                .collect();
            let due = settle_all || plus(f.created, t.settle) <= wm;
            let i = match matching.first() {
                Some(&i) => i,
                None if !due => {
                    earliest(&mut wake, plus(f.created, t.settle));
                    continue;
                }
                None => {
                    self.tracked.push(Tracked {
                        id: f.id(),
                        keys: Vec::new(),
                        pins: Vec::new(),
                        created: f.created,
                        last: 0,
                        reported: false,
                    });
                    seen.push(false);
                    self.tracked.len() - 1
                }
            };
            for &j in matching.iter().skip(1) {
                seen[j] = true;
                merged.push((j, self.tracked[i].id.clone()));
            }
            seen[i] = true;
            let closing = plus(f.created, t.close_after) <= wm;
            let json = digest(&f);
            let tr = &mut self.tracked[i];
            for k in keys {
                if !tr.keys.contains(&k) {
                    tr.keys.push(k);
                }
            }
            tr.created = f.created;
            tr.pins = f
                .evidence
                .iter()
                .filter(|e| matches!(e.event_id, 4624 | 7040))
                .map(|e| (e.file.clone(), e.locator, e.event_id, e.time))
                .collect();
            let changed = tr.last != json;
            let kind = match (shown, tr.reported) {
                (true, false) => Some(ChangeKind::Opened),
                (true, true) if changed && !closing => Some(ChangeKind::Updated),
                (false, true) => Some(ChangeKind::Withdrawn),
                _ => None,
            };
            tr.last = json;
            tr.reported = shown;
            if let Some(kind) = kind {
                let reason = (kind == ChangeKind::Withdrawn)
                    .then(|| format!("no longer reported: judged {}", f.verdict.as_str()));
                out.push(change(kind, tr, Some(f.clone()), reason));
            }
            if closing {
                if shown {
                    out.push(change(ChangeKind::Closed, tr, Some(f.clone()), None));
                    self.retired.push(Retired { finding: f });
                }
                closed.push(i);
            } else {
                earliest(&mut wake, plus(tr.created, t.close_after));
            }
        }
        for (j, into) in &merged {
            let tr = &self.tracked[*j];
            if tr.reported {
                out.push(change(
                    ChangeKind::Withdrawn,
                    tr,
                    None,
                    Some(format!("merged into {into}")),
                ));
            }
        }
        for (j, tr) in self.tracked.iter().enumerate() {
            if !seen[j] && tr.reported {
                out.push(change(
                    ChangeKind::Withdrawn,
                    tr,
                    None,
                    Some("its install is no longer held".into()),
                ));
            }
        }
        // Closed findings' installs go; merged and vanished ones are forgotten.
        let mut gone: Vec<Key> = Vec::new();
        let mut keep = Vec::with_capacity(self.tracked.len());
        for (j, tr) in std::mem::take(&mut self.tracked).into_iter().enumerate() {
            if closed.contains(&j) {
                gone.extend(tr.keys);
            } else if seen[j] && !merged.iter().any(|(m, _)| *m == j) {
                keep.push(tr);
            }
        }
        self.tracked = keep;
        if !gone.is_empty() {
            self.anchors.retain(|c| !gone.contains(&c.key()));
        }
        if let Some(first) = self.retired.iter().map(|r| r.finding.created).min() {
            earliest(&mut wake, plus(first, t.close_after + REACH));
        }
        self.wake = wake;
        out
    }

    /// Drop what no judgement can use any more at watermark `wm`; true when installs went.
    pub fn trim(&mut self, ctx: &Context<'_>, wm: Timestamp) -> bool {
        let t = ctx.timing;
        let before = self.anchors.len();
        // An install closes with its lifecycle (in `judge`); one that never made a lifecycle
        // (a 7045 not from the service control manager) goes when it would have closed. A
        // start-type change (7040) is no install: it is held as long as a reconfiguration may
        // still claim it, or while the one that did is open.
        let pinned: HashSet<Key> = self.tracked.iter().flat_map(|t| t.pins.clone()).collect();
        let pins = |c: &Compact| pinned.contains(&c.key());
        self.anchors.retain(|c| match c.event_id {
            7045 | 4697 => plus(c.time, t.close_after) >= wm,
            _ => plus(c.time, REACH + t.settle) >= wm || pins(c),
        });
        let (filter, generation) = (ctx.filter, ctx.generation);
        self.evidence.retain_mut(|c| {
            plus(c.time, REACH + t.close_after) >= wm
                && (plus(c.time, REACH + t.settle) >= wm || Self::keeps(c, filter, generation))
        });
        if self.evidence.capacity() > 64 && self.evidence.len() < self.evidence.capacity() / 4 {
            self.evidence.shrink_to(self.evidence.len() * 2);
        }
        let mut count = 0;
        self.logons.retain(|_, v| {
            v.retain(|s| {
                let keep = if s.network {
                    t.logon_keep.min(NETWORK_LOGON_KEEP)
                } else {
                    t.logon_keep
                };
                plus(s.logon.time, keep) >= wm || pins(&s.logon)
            });
            count += v.len();
            !v.is_empty()
        });
        self.logon_count = count;
        self.prune_retired(t, wm);
        self.anchors.len() != before
    }

    /// Drop closed findings no campaign can grow from any more, whole campaigns at a time and
    /// in order, counting the campaigns dropped so that later ones keep their numbers.
    fn prune_retired(&mut self, t: &Timing, wm: Timestamp) {
        if self.retired.is_empty() {
            return;
        }
        let prunable = |f: &Finding| plus(f.created, t.close_after + REACH) < wm;
        let findings: Vec<Finding> = self.retired.iter().map(|r| r.finding.clone()).collect();
        let groups = campaign::group(&findings);
        let mut drop = vec![false; findings.len()];
        let mut grouped = vec![false; findings.len()];
        let mut blocked: Vec<String> = Vec::new();
        for (c, members) in &groups {
            members.iter().for_each(|&i| grouped[i] = true);
            if blocked.contains(&c.computer) || !members.iter().all(|&i| prunable(&findings[i])) {
                blocked.push(c.computer.clone());
                continue;
            }
            members.iter().for_each(|&i| drop[i] = true);
            *self.campaigns_before.entry(c.computer.clone()).or_default() += 1;
        }
        for (i, f) in findings.iter().enumerate() {
            if !grouped[i] && prunable(f) {
                drop[i] = true;
            }
        }
        let mut i = 0;
        self.retired.retain(|_| {
            i += 1;
            !drop[i - 1]
        });
    }

    pub fn evidence_len(&self) -> usize {
        self.evidence.len()
    }

    pub fn logons_len(&self) -> usize {
        self.logon_count
    }

    pub fn anchors_len(&self) -> usize {
        self.anchors.len()
    }

    /// Drop the `n` oldest evidence events (by arrival); returns how many went.
    pub fn drop_oldest_evidence(&mut self, n: usize) -> usize {
        let n = n.min(self.evidence.len());
        self.evidence.drain(..n);
        self.dirty |= n > 0;
        n
    }

    /// Drop the logon sessions of the `n` oldest logons; returns how many logons went.
    pub fn drop_oldest_logons(&mut self, n: usize) -> usize {
        let mut times: Vec<(Timestamp, u64)> = self
            .logons
            .iter()
            .map(|(id, v)| {
                (
                    v.iter()
                        .map(|s| s.logon.time)
                        .max()
                        .unwrap_or(Timestamp::MIN),
                    *id,
                )
            })
            .collect();
        times.sort_unstable();
        let mut dropped = 0;
        for (_, id) in times {
            if dropped >= n {
                break;
            }
            dropped += self.logons.remove(&id).map_or(0, |v| v.len());
        }
        self.logon_count -= dropped;
        dropped
    }

    /// Drop the `n` oldest installs (their findings are withdrawn at the next judgement).
    pub fn drop_oldest_anchors(&mut self, n: usize) -> usize {
        self.anchors.sort_by_key(|e| e.time);
        let n = n.min(self.anchors.len());
        self.anchors.drain(..n);
        self.dirty |= n > 0;
        n
    }
}
