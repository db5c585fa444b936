//! `--semantics kql`: the seed Sentinel query's answer, operator by operator.
//!
//! ```text
//! Event | where EventID == 7045 | where Source == "Service Control Manager"
//! | parse EventData with * '<Data Name="ServiceName">' InstalledService '</Data>'
//!                          '<Data Name="ImagePath">' Exe '</Data>' *
//! | extend SourceTimeRounded = bin(TimeGenerated, 1s) | project …
//! | join kind=inner (SecurityEvent | where EventID == 4674 | where AccessMask has "%%1537"
//!                    | extend TargetTimeRounded = bin(TimeGenerated, 1s)
//!                    | project …, UserName = Account, InstalledService = ObjectName, …)
//!   on UserName, Computer
//! | where (TargetTimeRounded - SourceTimeRounded) between (0s .. 24h)
//! | summarize arg_max(SourceTime, *) by InstalledService
//! | project SourceTime, SourceEventID, TargetTime, TargetEventID, Computer, UserName,
//!           InstalledService, Exe
//! | sort by SourceTime
//! ```
//!
//! # What "exact" means
//!
//! [`run`] returns the rows Kusto returns for the seed over the same table rows, and where
//! Kusto leaves a choice open (which of several rows `arg_max` keeps, the order of rows `sort`
//! ranks equal) it returns one of the answers Kusto may give, chosen by the rules below. The
//! rows are the table rows as exported: a Sentinel row is read from its own columns' text
//! ([`crate::event::TableRow`]); an event from any other format is read as the row the legacy
//! agent would have written for it (the mapping is in `src/kql/agent.rs`).
//!
//! Operator by operator (Kusto documentation, learn.microsoft.com/kusto/query):
//!
//! - **Tables.** The 7045s come from `Event` only and the 4674s from `SecurityEvent` only: a
//!   row of `WindowsEvent` (the Azure Monitor Agent's table), a 4674 in `Event` or a 7045 in
//!   `SecurityEvent` is not read ([`unread_notes`] says how many). EVTX and other formats count
//!   as the legacy agent's tables: the Security log in `SecurityEvent`, every other log in
//!   `Event`.
//! - **`==`** on strings is case-sensitive and byte for byte (`Source`, and the join keys).
//! - **`parse`** (simple mode) is text matching on the raw `EventData` string, translated to a
//!   regex as the documentation says (`*` and a string column are `.*?`); see
//!   `src/kql/text.rs` for the two measured points (end anchor, `.` not crossing a
//!   newline). No XML decoding: `&amp;`, `&#x41;`, CDATA stay as written; other elements or
//!   whitespace between the two `Data` elements make the match run on or fail exactly as the
//!   regex does; `<Data Name="ImagePath" />` is not `</Data>`. A row that does not match is
//!   kept with both columns empty (Kusto's null string), like every other row.
//! - **`bin(t, 1s)`** floors to the second, counted from the Unix epoch (before it too).
//! - **`has`**: the needle as a whole term, case-insensitively, where terms are maximal runs of
//!   Unicode letters and digits; a needle with other characters (`%%1537`) is a phrase on term
//!   boundaries (see [`has`]).
//! - **`join kind=inner`**: every 7045 row with every 4674 row of the same (`UserName`,
//!   `Computer`), compared byte for byte: `UserName` is the `Event` row's column (`N/A`, `-`,
//!   padding and all), `Account` the `SecurityEvent` row's, never a Subject column instead.
//!   The service name is not a key.
//! - **`between (0s .. 24h)`** is inclusive at both ends, on the floored times.
//! - **`summarize arg_max(SourceTime, *) by InstalledService`**: one row per distinct
//!   `InstalledService` (the empty string of unparsed rows included), across all hosts, with the
//!   greatest `SourceTime`.
//! - **`sort by SourceTime`** is descending.
//!
//! # Where Kusto leaves a choice open
//!
//! `arg_max` keeps one of the rows with the greatest `SourceTime` and the documentation does
//! not say which: svchunt keeps the row whose 4674 `ObjectName` names the installed service
//! (equal, ignoring case, to `InstalledService` once `&`, `<`, `>` in the name are written as
//! the EventData text writes them), then the earliest `TargetTime`, then the smallest
//! `Computer`, then the smallest `ObjectName`, then the first in input order (the 7045's, then
//! the 4674's). So a 7045 joined to its own service's DELETE-capable open and to an unrelated
//! one reports its own, the most useful of the valid answers. `sort` ties (equal `SourceTime`)
//! go by `InstalledService` ascending.

mod agent;
mod text;

use std::borrow::Borrow;
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

pub use text::has;

use crate::accounts::AccountDirectory;
use crate::event::{AgentTable, Event, Origin, SaturatingTime};
use crate::select::{Anchors, FieldMap, NeedleKinds, NeedleMap, NeedlesBuilder, ReadPlan};

/// The seed query's installs: the only records its needles come from.
const INSTALL_IDS: &[u32] = &[7045];

/// Every other event id the seed query reads: its 4674s (kept on their id alone: they give no
/// needle, so the first pass does not read them), then the account events.
const EVIDENCE_IDS: &[u32] = &[4674, 4624, 4634, 4648, 4672, 4688, 4697, 5140, 5145];

/// Security events whose Subject/Target pairs resolve the 7045s' SIDs to names, as Sentinel's
/// agent does; read only where they hold one of those SIDs.
const ACCOUNT_EVENT_IDS: &[u32] = &[4624, 4634, 4648, 4672, 4688, 4697, 5140, 5145];

/// How the seed semantics reads: its 7045s, then its 4674s and the account events that name
/// the 7045s' installers.
pub fn plan() -> ReadPlan {
    // The 7045 is read whole (the agent's EventData holds every field, and `parse` runs over
    // all of it); a 4674 needs its access list, its object and the two Subject fields the
    // agent's `Account` is built from; account events only their Target account (the Subject
    // account is the event's user already).
    const F4674: &[&str] = &[
        "AccessMask",
        "ObjectName",
        "SubjectUserName",
        "SubjectDomainName",
    ];
    const TARGET: &[&str] = &["TargetUserSid", "TargetUserName", "TargetDomainName"];
    let mut fields = FieldMap::from([(4674, F4674)]);
    fields.extend(ACCOUNT_EVENT_IDS.iter().map(|id| (*id, TARGET)));
    let sids: Vec<(u32, NeedleKinds)> = ACCOUNT_EVENT_IDS
        .iter()
        .map(|id| (*id, NeedleKinds::SIDS))
        .collect();
    ReadPlan::new(
        INSTALL_IDS,
        EVIDENCE_IDS,
        std::sync::Arc::new(fields),
        account_needles,
    )
    // What `account_needles` gives (a one-pass read keeps only SIDs of account events).
    .needle_kinds(&sids)
    // Only their names are needed: counted as read, not kept.
    .tallied(ACCOUNT_EVENT_IDS)
}

/// The SIDs of the 7045s: the only accounts the seed query needs names for. Well-known SIDs
/// (`S-1-5-18`…) are named by table, whatever the logs say: the events naming them are not
/// needed, and there are millions (every service logon is SYSTEM's).
fn account_needles(seed_events: &dyn Anchors) -> NeedleMap {
    let mut b = NeedlesBuilder::default();
    seed_events.each(&mut |e| {
        if e.event_id() == 7045
            && let Some(sid) = e.user_sid()
            && !crate::accounts::is_well_known(sid)
        {
            b.sid(sid);
        }
    });
    let needles = b.build();
    ACCOUNT_EVENT_IDS
        .iter()
        .map(|id| (*id, needles.clone()))
        .collect()
}

/// One output row, with the seed's column names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KqlRow {
    /// The 7045's TimeGenerated.
    pub source_time: Timestamp,
    /// Always 7045.
    #[serde(rename = "SourceEventID")]
    pub source_event_id: u32,
    /// The joined 4674's TimeGenerated.
    pub target_time: Timestamp,
    /// Always 4674.
    #[serde(rename = "TargetEventID")]
    pub target_event_id: u32,
    /// The host.
    pub computer: String,
    /// The join's user key.
    pub user_name: String,
    /// The 7045's service name, as `parse` extracts it.
    pub installed_service: String,
    /// The 7045's image path, as `parse` extracts it.
    pub exe: String,
    /// Where the 7045 was read (not a seed column; kept for tracing, not serialised).
    #[serde(skip)]
    pub source_origin: Origin,
    /// Where the 4674 was read.
    #[serde(skip)]
    pub target_origin: Origin,
}

/// The seed's window: `between (0s .. 24h)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KqlConfig {
    /// Lower bound of `TargetTimeRounded - SourceTimeRounded`.
    pub min_delta: SignedDuration,
    /// Upper bound.
    pub max_delta: SignedDuration,
    /// The `bin()` size.
    pub rounding: SignedDuration,
}

impl Default for KqlConfig {
    fn default() -> Self {
        KqlConfig {
            min_delta: SignedDuration::ZERO,
            max_delta: SignedDuration::from_hours(24),
            rounding: SignedDuration::from_secs(1),
        }
    }
}

/// `bin(t, size)`: round down to a multiple of `size` counted from the Unix epoch.
pub fn bin(t: Timestamp, size: SignedDuration) -> Timestamp {
    let ns = t.as_nanosecond();
    let step = size.as_nanos();
    if step <= 0 {
        return t;
    }
    let floored = ns - ns.rem_euclid(step);
    Timestamp::from_nanosecond(floored).unwrap_or(t)
}

/// The columns the seed reads from a row of `table` with `event_id`, which readers of Sentinel
/// exports keep as exported (see [`crate::event::TableRow`]); none for rows it does not read.
pub fn seed_columns(table: AgentTable, event_id: u32) -> &'static [&'static str] {
    match (table, event_id) {
        (AgentTable::Event, 7045) => &["Computer", "Source", "UserName", "EventData"],
        (AgentTable::SecurityEvent, 4674) => &["Computer", "Account", "AccessMask", "ObjectName"],
        _ => &[],
    }
}

/// The text of `column` of a Sentinel row (empty when the export lacks the column), or the
/// agent's value for an event from another format.
fn column<'a>(
    e: &'a Event,
    column: &str,
    agent: impl FnOnce() -> String,
) -> std::borrow::Cow<'a, str> {
    match &e.table {
        Some(row) => row.column(column).unwrap_or("").into(),
        None => agent().into(),
    }
}

/// A 7045 row of `Event` after `parse` and `project`.
struct Left {
    time: Timestamp,
    origin: Origin,
    rounded: Timestamp,
    computer: String,
    user: String,
    service: String,
    exe: String,
}

/// A 4674 row of `SecurityEvent` after `project`. Rows own what they keep of their event, so
/// that events held otherwise (compactly, by a hunt of paths) are made into events one at a
/// time, each dropped once its row is taken.
struct Right {
    time: Timestamp,
    origin: Origin,
    rounded: Timestamp,
    object_name: String,
}

/// The seed's left side: `Event | where EventID == 7045 | where Source == "…" | parse …`.
fn left(e: &Event, accounts: &AccountDirectory, config: &KqlConfig) -> Option<Left> {
    if e.event_id != 7045 || e.agent_table() != AgentTable::Event {
        return None;
    }
    if column(e, "Source", || e.provider.clone()) != crate::lifecycle::SCM_PROVIDER {
        return None;
    }
    let event_data = column(e, "EventData", || agent::event_data(e));
    let (service, exe) = text::parse_seed(&event_data);
    Some(Left {
        time: e.time,
        origin: e.origin.clone(),
        rounded: bin(e.time, config.rounding),
        computer: column(e, "Computer", || e.computer.clone()).into_owned(),
        user: column(e, "UserName", || agent::user_name(e, accounts)).into_owned(),
        service,
        exe,
    })
}

/// The seed's right side: `SecurityEvent | where EventID == 4674 | where AccessMask has …`,
/// keyed by (`UserName = Account`, `Computer`).
fn right(e: &Event, config: &KqlConfig) -> Option<((String, String), Right)> {
    if e.event_id != 4674 || e.agent_table() != AgentTable::SecurityEvent {
        return None;
    }
    let mask = column(e, "AccessMask", || {
        e.field("AccessMask").unwrap_or("").to_string()
    });
    if !has(&mask, crate::lifecycle::DELETE_ACCESS_CODE) {
        return None;
    }
    let key = (
        column(e, "Account", || agent::account(e)).into_owned(),
        column(e, "Computer", || e.computer.clone()).into_owned(),
    );
    let object_name = column(e, "ObjectName", || {
        e.field("ObjectName").unwrap_or("").to_string()
    })
    .into_owned();
    Some((
        key,
        Right {
            time: e.time,
            origin: e.origin.clone(),
            rounded: bin(e.time, config.rounding),
            object_name,
        },
    ))
}

/// Run the seed query over `events`.
pub fn run(events: &[Event], config: &KqlConfig) -> Vec<KqlRow> {
    run_with(events, &AccountDirectory::learn(events), config)
}

/// [`run`], naming the 7045s' SIDs from `accounts` (learnt from `events` and the account
/// events the read folded; see [`plan`]), over `events` in time order however they are
/// held (each read once, in turn).
pub(crate) fn run_with<E: Borrow<Event>>(
    events: impl IntoIterator<Item = E>,
    accounts: &AccountDirectory,
    config: &KqlConfig,
) -> Vec<KqlRow> {
    // The left side in input order; the right side grouped by the join key, then ordered by
    // (rounded, time, input order) so the rows inside a window are a contiguous run.
    let mut lefts: Vec<Left> = Vec::new();
    let mut rights: HashMap<(String, String), Vec<Right>> = HashMap::new();
    for e in events {
        let e = e.borrow();
        if let Some(l) = left(e, accounts, config) {
            lefts.push(l);
        } else if let Some((key, r)) = right(e, config) {
            rights.entry(key).or_default().push(r);
        }
    }
    for v in rights.values_mut() {
        v.sort_by_key(|a| (a.rounded, a.time));
    }

    // summarize arg_max(SourceTime, *) by InstalledService, with the documented tie rule: the
    // smallest [`choice`] key wins, over every joined (left, right) pair of a service.
    let mut best: HashMap<&str, (&Left, &Right)> = HashMap::new();
    for left in &lefts {
        let Some(candidates) = rights.get(&(left.user.clone(), left.computer.clone())) else {
            continue;
        };
        let lo = left.rounded.plus(config.min_delta);
        let hi = left.rounded.plus(config.max_delta);
        let start = candidates.partition_point(|r| r.rounded < lo);
        let in_window = candidates[start..].iter().take_while(|r| r.rounded <= hi);
        let Some(right) = in_window.min_by(|a, b| choice(left, a).cmp(&choice(left, b))) else {
            continue;
        };
        best.entry(left.service.as_str())
            .and_modify(|cur| {
                if choice(left, right) < choice(cur.0, cur.1) {
                    *cur = (left, right);
                }
            })
            .or_insert((left, right));
    }

    let mut rows: Vec<KqlRow> = best
        .into_values()
        .map(|(l, r)| KqlRow {
            source_time: l.time,
            source_event_id: 7045,
            target_time: r.time,
            target_event_id: 4674,
            computer: l.computer.clone(),
            user_name: l.user.clone(),
            installed_service: l.service.clone(),
            exe: l.exe.clone(),
            source_origin: l.origin.clone(),
            target_origin: r.origin.clone(),
        })
        .collect();
    rows.sort_by(|a, b| {
        b.source_time
            .cmp(&a.source_time)
            .then_with(|| a.installed_service.cmp(&b.installed_service))
    });
    rows
}

/// The order in which `arg_max` prefers joined rows (smallest first): the greatest
/// `SourceTime`, then the 4674 that names the installed service, then the earliest
/// `TargetTime`, then the smallest `Computer` and `ObjectName`, then input order.
#[allow(clippy::type_complexity)]
fn choice<'a>(
    l: &'a Left,
    r: &'a Right,
) -> (
    Reverse<Timestamp>,
    bool,
    Timestamp,
    &'a str,
    &'a str,
    &'a Origin,
    &'a Origin,
) {
    (
        Reverse(l.time),
        !names_service(&r.object_name, &l.service),
        r.time,
        l.computer.as_str(),
        r.object_name.as_str(),
        &l.origin,
        &r.origin,
    )
}

/// Whether a 4674's `ObjectName` names the service `parse` extracted (as EventData text, so
/// with `&`, `<`, `>` escaped): Windows service names compare without case.
fn names_service(object_name: &str, installed_service: &str) -> bool {
    let escaped = object_name
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    escaped.to_lowercase() == installed_service.to_lowercase()
}

/// One line per table whose 7045 or 4674 rows the seed does not read (it reads 7045 from
/// `Event` and 4674 from `SecurityEvent`), saying how many there are, for stderr.
pub fn unread_notes<E: Borrow<Event>>(events: impl IntoIterator<Item = E>) -> Vec<String> {
    let mut unread = UnreadRows::default();
    for e in events {
        unread.add(e.borrow());
    }
    unread.notes()
}

/// The rows of each table the seed does not read, counted as events pass (see
/// [`unread_notes`]): a hunt that makes its events one at a time counts them as it joins them.
#[derive(Debug, Default)]
pub(crate) struct UnreadRows(BTreeMap<&'static str, u64>);

impl UnreadRows {
    /// Count `e` if the seed does not read it.
    pub(crate) fn add(&mut self, e: &Event) {
        let table = e.agent_table();
        let read = match e.event_id {
            7045 => table == AgentTable::Event,
            4674 => table == AgentTable::SecurityEvent,
            _ => true,
        };
        if !read {
            *self.0.entry(table.name()).or_default() += 1;
        }
    }

    /// One line per table counted.
    pub(crate) fn notes(self) -> Vec<String> {
        self.0
            .into_iter()
            .map(|(table, n)| {
                format!(
                    "{n} {table} rows are not read by the seed query (it reads 7045 from Event and \
                     4674 from SecurityEvent); the default semantics read them"
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan reads the 4674s and the account events as evidence, and folds only the latter.
    #[test]
    fn the_evidence_is_the_4674s_then_the_account_events() {
        assert_eq!(EVIDENCE_IDS[0], 4674);
        assert_eq!(&EVIDENCE_IDS[1..], ACCOUNT_EVENT_IDS);
        let plan = plan();
        assert_eq!(plan.anchors(), &[7045]);
        assert!(plan.full_filter_with(NeedleMap::default()).tallies(4624));
        assert!(!plan.full_filter_with(NeedleMap::default()).tallies(4674));
    }
}
