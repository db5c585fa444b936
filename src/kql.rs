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
//! Kusto semantics kept exactly (see `events.md`): `==` on strings is case-sensitive; `parse`
//! keeps rows it cannot match (with empty columns) and works on the *XML text* of EventData, so
//! `&`, `<`, `>` come out escaped; `bin(t, 1s)` floors to the second from the epoch; `has` with a
//! non-alphanumeric needle is a case-insensitive phrase match on term boundaries; the inner join
//! pairs every left row with every right row of the same (UserName, Computer), and the service
//! name is *not* a key; `between` is inclusive at both ends; `arg_max` keeps one row per
//! InstalledService across all hosts; `sort by` is descending by default.
//!
//! Where Kusto leaves a choice open, svchunt fixes it: `arg_max` ties (several joined rows with
//! the same SourceTime, e.g. one 7045 joined to several 4674s) go to the earliest TargetTime, then
//! the smallest Computer, then the 4674's ObjectName, then input order; `sort` ties go by
//! InstalledService ascending. The 7045's `UserName` is what Sentinel's agent shows: the name of
//! `Security/@UserID`, resolved offline through the SID/name pairs of the Security log, else the
//! SID itself.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::accounts::AccountDirectory;
use crate::event::{Event, Origin};
use crate::select::{FieldMap, NeedleMap, NeedlesBuilder, ReadPlan};

/// Event ids the seed query reads.
const SEED_EVENT_IDS: &[u32] = &[7045, 4674];

/// Security events whose Subject/Target pairs resolve the 7045s' SIDs to names, as Sentinel's
/// agent does; read only where they hold one of those SIDs.
const ACCOUNT_EVENT_IDS: &[u32] = &[4624, 4634, 4648, 4672, 4688, 4697, 5140, 5145];

/// How the seed semantics reads: its 7045s and 4674s, then the account events that name the
/// 7045s' installers.
pub fn plan() -> ReadPlan {
    // The 7045 is read whole (its ServiceName and ImagePath as `parse` sees them); a 4674 needs
    // its access list and object; account events only their Target account (the Subject
    // account is the event's user already).
    const F4674: &[&str] = &["AccessMask", "ObjectName"];
    const TARGET: &[&str] = &["TargetUserSid", "TargetUserName", "TargetDomainName"];
    let mut fields = FieldMap::from([(4674, F4674)]);
    fields.extend(ACCOUNT_EVENT_IDS.iter().map(|id| (*id, TARGET)));
    ReadPlan::new(
        SEED_EVENT_IDS,
        ACCOUNT_EVENT_IDS,
        std::sync::Arc::new(fields),
        account_needles,
    )
}

/// The SIDs of the 7045s: the only accounts the seed query needs names for.
fn account_needles(seed_events: &[Event]) -> NeedleMap {
    let mut b = NeedlesBuilder::default();
    for e in seed_events.iter().filter(|e| e.event_id == 7045) {
        if let Some(sid) = &e.user.sid {
            b.sid(sid);
        }
    }
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

/// Kusto `lhs has rhs`: `rhs` as a whole term (or, when it holds non-alphanumerics, as a phrase
/// on term boundaries) in `lhs`, ASCII case-insensitively.
pub fn has(lhs: &str, rhs: &str) -> bool {
    if rhs.is_empty() {
        return true;
    }
    let l = lhs.to_ascii_lowercase();
    let r = rhs.to_ascii_lowercase();
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let needs_left = alnum(r.chars().next());
    let needs_right = alnum(r.chars().last());
    let mut from = 0;
    while let Some(pos) = l[from..].find(&r) {
        let start = from + pos;
        let end = start + r.len();
        let left_ok = !needs_left || !alnum(l[..start].chars().last());
        let right_ok = !needs_right || !alnum(l[end..].chars().next());
        if left_ok && right_ok {
            return true;
        }
        from = start + r.chars().next().map_or(1, char::len_utf8);
    }
    false
}

/// XML-escape text as it stands inside Sentinel's EventData string.
fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `parse EventData with * '<Data Name="ServiceName">' InstalledService '</Data>'
/// '<Data Name="ImagePath">' Exe '</Data>' *`: Windows writes 7045's ImagePath element right
/// after its ServiceName element, so the pattern matches every 7045 that has both (readers of
/// key-value formats such as NXLog do not keep the XML order, so adjacency is not tested on
/// them); when either is missing `parse` leaves both columns empty and keeps the row.
fn parse_service_and_exe(e: &Event) -> (String, String) {
    match (e.field("ServiceName"), e.field("ImagePath")) {
        (Some(svc), Some(exe)) => (xml_text(svc), xml_text(exe)),
        _ => (String::new(), String::new()),
    }
}

struct Left<'a> {
    event: &'a Event,
    rounded: Timestamp,
    user: String,
    service: String,
    exe: String,
}

struct Right<'a> {
    event: &'a Event,
    rounded: Timestamp,
    object_name: String,
}

/// Run the seed query over `events`.
pub fn run(events: &[Event], config: &KqlConfig) -> Vec<KqlRow> {
    let accounts = AccountDirectory::learn(events);
    let lefts: Vec<Left<'_>> = events
        .iter()
        .filter(|e| e.event_id == 7045 && e.provider == "Service Control Manager")
        .map(|e| {
            let (service, exe) = parse_service_and_exe(e);
            Left {
                event: e,
                rounded: bin(e.time, config.rounding),
                user: accounts
                    .resolve(&e.user)
                    .name
                    .or_else(|| e.user.sid.clone())
                    .unwrap_or_default(),
                service,
                exe,
            }
        })
        .collect();

    // Right side, grouped by the join key and ordered by (rounded, time, input order) so the
    // rows inside a window are a contiguous run.
    let mut rights: HashMap<(String, String), Vec<Right<'_>>> = HashMap::new();
    for e in events
        .iter()
        .filter(|e| e.event_id == 4674 && is_security(e))
        .filter(|e| has(e.field("AccessMask").unwrap_or(""), "%%1537"))
    {
        let account = e.user.name.clone().unwrap_or_default();
        rights
            .entry((account, e.computer.clone()))
            .or_default()
            .push(Right {
                event: e,
                rounded: bin(e.time, config.rounding),
                object_name: e.field("ObjectName").unwrap_or("").to_string(),
            });
    }
    for v in rights.values_mut() {
        v.sort_by_key(|a| (a.rounded, a.event.time));
    }

    // summarize arg_max(SourceTime, *) by InstalledService
    let mut best: HashMap<&str, (&Left<'_>, &Right<'_>)> = HashMap::new();
    for left in &lefts {
        let Some(candidates) = rights.get(&(left.user.clone(), left.event.computer.clone())) else {
            continue;
        };
        let lo = left.rounded + config.min_delta;
        let hi = left.rounded + config.max_delta;
        let start = candidates.partition_point(|r| r.rounded < lo);
        let in_window = candidates[start..].iter().take_while(|r| r.rounded <= hi);
        let Some(right) = in_window.min_by(|a, b| tie_order(left, a, b)) else {
            continue;
        };
        best.entry(left.service.as_str())
            .and_modify(|cur| {
                if better(left, right, cur.0, cur.1) {
                    *cur = (left, right);
                }
            })
            .or_insert((left, right));
    }

    let mut rows: Vec<KqlRow> = best
        .into_values()
        .map(|(l, r)| KqlRow {
            source_time: l.event.time,
            source_event_id: 7045,
            target_time: r.event.time,
            target_event_id: 4674,
            computer: l.event.computer.clone(),
            user_name: l.user.clone(),
            installed_service: l.service.clone(),
            exe: l.exe.clone(),
            source_origin: l.event.origin.clone(),
            target_origin: r.event.origin.clone(),
        })
        .collect();
    rows.sort_by(|a, b| {
        b.source_time
            .cmp(&a.source_time)
            .then_with(|| a.installed_service.cmp(&b.installed_service))
    });
    rows
}

/// Order of two right rows joined to the same left row, for the arg_max tie rule.
fn tie_order(_left: &Left<'_>, a: &Right<'_>, b: &Right<'_>) -> std::cmp::Ordering {
    (a.event.time, &a.object_name, &a.event.origin).cmp(&(
        b.event.time,
        &b.object_name,
        &b.event.origin,
    ))
}

/// Whether (l, r) beats the current (cl, cr) for `arg_max(SourceTime, *)` with the documented
/// tie rule.
fn better(l: &Left<'_>, r: &Right<'_>, cl: &Left<'_>, cr: &Right<'_>) -> bool {
    use std::cmp::Ordering::*;
    match l.event.time.cmp(&cl.event.time) {
        Greater => true,
        Less => false,
        Equal => {
            (
                r.event.time,
                &l.event.computer,
                &r.object_name,
                &l.event.origin,
            ) < (
                cr.event.time,
                &cl.event.computer,
                &cr.object_name,
                &cl.event.origin,
            )
        }
    }
}

/// `SecurityEvent` holds the Security log only.
fn is_security(e: &Event) -> bool {
    e.channel.eq_ignore_ascii_case("Security")
}
