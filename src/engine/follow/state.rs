//! A follower's state as a file holds it, to resume after a restart: every event still held,
//! every finding still followed (its id and what was last said of it), the inputs' clocks, the
//! account names learnt and the counts. Restored, the follower goes on exactly where it was:
//! the same events give the same judgements and nothing said is said again.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::host::{Host, Retired, Session, Tracked};
use super::{Clock, FollowStats, Follower};
use crate::accounts::AccountDirectory;
use crate::attribute::Tool;
use crate::engine::compact::{Compact, Stored};
use crate::event::{Locator, UserRef};
use crate::report::{Finding, Kind, Verdict};

/// The state format's version: a state of another version is refused, not misread. 2: the
/// held events' identities are XXH3 of an explicit encoding (1 held std's SipHash of their
/// `Hash`, which the new records' identities would no longer meet).
const VERSION: u32 = 2;

/// Why a saved state cannot be resumed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// Written by another version of the format.
    #[error("the state was written in format {found}, this svchunt reads format {VERSION}")]
    Version {
        /// The state's version.
        found: u32,
    },
    /// Written with other windows: findings would not be the same ones.
    #[error(
        "the state was written with --window {window:#} and --tolerance {tolerance:#}; resume with \
         the same, or start a new state"
    )]
    Windows {
        /// The state's window.
        window: SignedDuration,
        /// The state's tolerance.
        tolerance: SignedDuration,
    },
}

/// A follower's saved state (see the module documentation); serialise it with serde.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FollowState {
    version: u32,
    window: SignedDuration,
    tolerance: SignedDuration,
    merge_window: SignedDuration,
    inputs: BTreeMap<String, Clock>,
    hosts: BTreeMap<String, HostState>,
    accounts: AccountDirectory,
    stats: FollowStats,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct HostState {
    inputs: Vec<String>,
    latest: Option<Timestamp>,
    anchors: Vec<Stored>,
    evidence: Vec<Stored>,
    logons: Vec<(u64, Stored)>,
    tracked: Vec<TrackedState>,
    retired: Vec<RetiredState>,
    campaigns_before: BTreeMap<String, usize>,
    wake: Option<Timestamp>,
    dirty: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TrackedState {
    id: String,
    keys: Vec<KeyState>,
    #[serde(default)]
    pins: Vec<KeyState>,
    created: Timestamp,
    last: u64,
    reported: bool,
}

/// What a campaign needs of a closed finding.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RetiredState {
    computer: String,
    service_name: String,
    display_name: Option<String>,
    image_path: String,
    created: Timestamp,
    tool: String,
    user: (Option<String>, Option<String>),
    #[serde(default)]
    reconfiguration: bool,
}

/// A finding's record as the state holds it: file, locator, event id, time.
type KeyState = (String, (u8, u64), u32, Timestamp);

fn key_state((file, l, id, time): &super::host::Key) -> KeyState {
    (file.to_string(), at_of(*l), *id, *time)
}

fn locator_of(at: (u8, u64)) -> Locator {
    match at.0 {
        0 => Locator::Record(at.1),
        1 => Locator::Line(at.1),
        _ => Locator::Row(at.1),
    }
}

fn at_of(l: Locator) -> (u8, u64) {
    match l {
        Locator::Record(n) => (0, n),
        Locator::Line(n) => (1, n),
        Locator::Row(n) => (2, n),
    }
}

impl FollowState {
    pub(super) fn of(f: &Follower) -> FollowState {
        let w = &f.options.windows;
        FollowState {
            version: VERSION,
            window: w.window,
            tolerance: w.tolerance,
            merge_window: w.merge_window,
            inputs: f.inputs.clone(),
            hosts: f
                .hosts
                .iter()
                .map(|(k, h)| (k.clone(), HostState::of(h)))
                .collect(),
            accounts: f.accounts.clone(),
            stats: f.stats.clone(),
        }
    }

    pub(super) fn restore(self, f: &mut Follower) -> Result<(), StateError> {
        if self.version != VERSION {
            return Err(StateError::Version {
                found: self.version,
            });
        }
        let w = &f.options.windows;
        if (self.window, self.tolerance, self.merge_window)
            != (w.window, w.tolerance, w.merge_window)
        {
            return Err(StateError::Windows {
                window: self.window,
                tolerance: self.tolerance,
            });
        }
        let mut files: HashMap<String, Arc<str>> = HashMap::new();
        f.inputs = self.inputs;
        f.accounts = self.accounts;
        f.stats = self.stats;
        f.filter = None;
        for (key, h) in self.hosts {
            let mut host = Host {
                inputs: h.inputs.into_iter().collect(),
                latest: h.latest,
                anchors: Vec::new(),
                campaigns_before: h.campaigns_before,
                wake: h.wake,
                dirty: h.dirty,
                ..Host::default()
            };
            for s in h.anchors {
                let c = Compact::new(s.event(&mut files), &mut f.interner);
                host.anchors.push(c);
            }
            for s in h.evidence {
                let c = Compact::new(s.event(&mut files), &mut f.interner);
                host.evidence.push_back(c);
            }
            for (session, s) in h.logons {
                let s = Session::new(s.event(&mut files), &mut f.interner);
                host.logons.entry(session).or_default().push(s);
                host.logon_count += 1;
            }
            let mut record = |(file, at, id, time): KeyState| {
                let file = files
                    .entry(file)
                    .or_insert_with_key(|f| f.as_str().into())
                    .clone();
                (file, locator_of(at), id, time)
            };
            host.tracked = h
                .tracked
                .into_iter()
                .map(|t| Tracked {
                    id: t.id,
                    keys: t.keys.into_iter().map(&mut record).collect(),
                    pins: t.pins.into_iter().map(&mut record).collect(),
                    created: t.created,
                    last: t.last,
                    reported: t.reported,
                })
                .collect();
            host.retired = h
                .retired
                .into_iter()
                .map(|r| Retired {
                    finding: r.finding(),
                })
                .collect();
            f.hosts.insert(key, host);
        }
        Ok(())
    }
}

impl HostState {
    fn of(h: &Host) -> HostState {
        HostState {
            inputs: h.inputs.iter().cloned().collect(),
            latest: h.latest,
            anchors: h.anchors.iter().map(|c| Stored::of(&c.event())).collect(),
            evidence: h.evidence.iter().map(|c| Stored::of(&c.event())).collect(),
            logons: h
                .logons
                .iter()
                .flat_map(|(id, v)| v.iter().map(|s| (*id, Stored::of(&s.logon.event()))))
                .collect(),
            tracked: h
                .tracked
                .iter()
                .map(|t| TrackedState {
                    id: t.id.clone(),
                    keys: t.keys.iter().map(key_state).collect(),
                    pins: t.pins.iter().map(key_state).collect(),
                    created: t.created,
                    last: t.last,
                    reported: t.reported,
                })
                .collect(),
            retired: h
                .retired
                .iter()
                .map(|r| {
                    let f = &r.finding;
                    RetiredState {
                        computer: f.computer.clone(),
                        service_name: f.service_name.clone(),
                        display_name: f.display_name.clone(),
                        image_path: f.image_path.clone(),
                        created: f.created,
                        tool: f.tool.as_str().to_string(),
                        user: (f.user.sid.clone(), f.user.name.clone()),
                        reconfiguration: f.kind == Kind::Reconfiguration,
                    }
                })
                .collect(),
            campaigns_before: h.campaigns_before.clone(),
            wake: h.wake,
            dirty: h.dirty,
        }
    }
}

impl RetiredState {
    /// A finding with what campaign grouping reads (computer, account, tool, image, names,
    /// time); the rest is never read again.
    fn finding(self) -> Finding {
        Finding {
            kind: if self.reconfiguration {
                Kind::Reconfiguration
            } else {
                Kind::Creation
            },
            computer: self.computer,
            service_name: self.service_name,
            display_name: self.display_name,
            image_path: self.image_path,
            service_type: None,
            start_type: None,
            service_account: None,
            created: self.created,
            deleted: None,
            deletion_evidence: None,
            lifetime_ms: None,
            verdict: Verdict::Suspicious,
            verdict_reasons: Vec::new(),
            tool: Tool::ALL
                .iter()
                .copied()
                .find(|t| t.as_str() == self.tool)
                .unwrap_or(Tool::Unknown),
            tool_reasons: Vec::new(),
            tool_confidence: None,
            command: None,
            campaign: None,
            user: UserRef {
                sid: self.user.0,
                name: self.user.1,
            },
            source: None,
            evidence: Vec::new(),
            reconfiguration: None,
        }
    }
}
