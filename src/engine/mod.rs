//! The engine: one hunt, whatever the front end.
//!
//! An [`Engine`] is built once from its semantics' options ([`Engine::lifecycle`] or
//! [`Engine::kql`]), which cannot contradict each other: a lifecycle window is not an option of
//! the seed query, nor the seed's rounding one of the lifecycle. It then hunts paths
//! ([`Engine::hunt_paths`]: discover, read by the semantics' read plan, EVTX files once) or events
//! already in memory ([`Engine::hunt_events`]: the same plan applied to them), and both end in
//! one shared tail: order and de-duplicate, correlate, attribute, apply the allow-list, drop
//! benign findings unless asked, group campaigns, and report each host's audit coverage.
//!
//! The engine prints nothing and decides no exit code: its [`Hunt`] says what was found, what
//! could not be read and why, and the front end (the `svchunt` command, a follower, a Python
//! binding) decides what to show.

mod collect;
mod compact;
mod follow;

use std::path::PathBuf;

use jiff::SignedDuration;
use jiff::tz::TimeZone;

use rayon::prelude::*;

use crate::accounts::{AccountDirectory, AccountSightings};
use crate::attribute::{self, AllowList, campaign};
use crate::event::{Census, Event, order_and_dedup};
use crate::kql::{self, KqlConfig, KqlRow};
use crate::lifecycle::{self, LifecycleConfig, Verdict};
use crate::read::{ReadOptions, ReadStats, Warning};
use crate::report::{Campaign, Finding, Report};
use crate::select::{Filter, ReadPlan};

pub use collect::Collection;
pub use follow::{
    Change, ChangeKind, FollowError, FollowLimits, FollowState, FollowStats, Follower, REACH,
    StateError,
};

/// The longest window or tolerance accepted: event times span at most a few decades, and a
/// window beyond that is a typing error, not a hunt.
pub const MAX_WINDOW: SignedDuration = SignedDuration::from_hours(100 * 366 * 24);

/// Options of the default semantics: one finding per service creation, with its whole life.
#[derive(Debug, Clone, Default)]
pub struct LifecycleOptions {
    /// The correlation's time windows.
    pub windows: LifecycleConfig,
    /// Keep benign findings (drivers, updaters…) in the report too.
    pub include_benign: bool,
    /// The analyst's allow-list: matching findings become benign.
    pub allow: Option<AllowList>,
}

impl LifecycleOptions {
    /// How long after a creation its evidence (up to its removal) may come (default 24 h).
    pub fn window(mut self, window: SignedDuration) -> Self {
        self.windows.window = window;
        self
    }

    /// How long before a creation its evidence may be logged (default 2 s).
    pub fn tolerance(mut self, tolerance: SignedDuration) -> Self {
        self.windows.tolerance = tolerance;
        self
    }

    /// Keep benign findings too.
    pub fn include_benign(mut self, yes: bool) -> Self {
        self.include_benign = yes;
        self
    }

    /// Silence what `allow` lists.
    pub fn allow(mut self, allow: AllowList) -> Self {
        self.allow = Some(allow);
        self
    }
}

/// Which question a hunt answers, with that question's options.
#[derive(Debug, Clone)]
pub enum Semantics {
    /// One finding per service creation with its whole life (the default).
    Lifecycle(LifecycleOptions),
    /// The seed Sentinel query's answer, exactly.
    Kql(KqlConfig),
}

impl Default for Semantics {
    fn default() -> Self {
        Semantics::Lifecycle(LifecycleOptions::default())
    }
}

/// A setting an [`Engine`] cannot be built with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A window or tolerance below zero.
    #[error("{what} must not be negative (got {value:#})")]
    Negative {
        /// Which setting.
        what: &'static str,
        /// Its value.
        value: SignedDuration,
    },
    /// A window or tolerance beyond [`MAX_WINDOW`].
    #[error("{what} of {value:#} is longer than any log spans (at most {max:#})")]
    TooLong {
        /// Which setting.
        what: &'static str,
        /// Its value.
        value: SignedDuration,
        /// The limit.
        max: SignedDuration,
    },
    /// The seed query's rounding is not positive.
    #[error("the rounding must be positive (got {0:#})")]
    Rounding(SignedDuration),
    /// Zero worker threads.
    #[error("at least one worker thread is needed")]
    NoThreads,
    /// The worker threads could not be started.
    #[error("cannot start the worker threads: {0}")]
    Threads(String),
}

/// Builds an [`Engine`]; see [`Engine::lifecycle`] and [`Engine::kql`].
#[derive(Debug, Clone)]
#[must_use]
pub struct EngineBuilder {
    semantics: Semantics,
    local_time_zone: TimeZone,
    threads: Option<usize>,
    render_only: bool,
    one_pass: bool,
    input_limits: crate::read::InputLimits,
}

impl EngineBuilder {
    /// The zone of timestamps that carry none (NXLog's `EventTime`); UTC by default.
    pub fn local_time_zone(mut self, zone: TimeZone) -> Self {
        self.local_time_zone = zone;
        self
    }

    /// Bounds on one input (record size, expansion through archives) and whether to list the
    /// files that are not event logs.
    pub fn input_limits(mut self, limits: crate::read::InputLimits) -> Self {
        self.input_limits = limits;
        self
    }

    /// Read with `n` worker threads instead of rayon's global pool (all cores).
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = Some(n);
        self
    }

    /// Render every selected EVTX record with the `evtx` crate instead of deciding on the lean
    /// chunk walk: the oracle the fast path is tested against.
    #[doc(hidden)]
    pub fn evtx_render_only(mut self, yes: bool) -> Self {
        self.render_only = yes;
        self
    }

    /// Read plain EVTX files in one pass (the installs and per-chunk keys of the evidence
    /// first, then only the chunks whose keys meet a needle) instead of two (the installs, then
    /// every chunk with the needles known). Off by default: on the benchmark corpora the keys
    /// meet a needle in 99 % of chunks, so the one pass reads nearly everything twice anyway
    /// and pays for the keys too (1.3–1.5× slower; see README "Speed"). Both give the same
    /// answer (`tests/reading/fast_path.rs`). A plan whose first pass reads evidence too (the
    /// lifecycle's: service `ImagePath` writes) is read in two passes whatever this says.
    pub fn evtx_one_pass(mut self, yes: bool) -> Self {
        self.one_pass = yes;
        self
    }

    /// Check the settings and build the engine.
    pub fn build(self) -> Result<Engine, ConfigError> {
        match &self.semantics {
            Semantics::Lifecycle(o) => {
                check_window("the window", o.windows.window)?;
                check_window("the tolerance", o.windows.tolerance)?;
                check_window("the merge window", o.windows.merge_window)?;
            }
            Semantics::Kql(k) => {
                if k.rounding <= SignedDuration::ZERO {
                    return Err(ConfigError::Rounding(k.rounding));
                }
                check_window("the seed's upper bound", k.max_delta)?;
                if k.min_delta.abs() > MAX_WINDOW {
                    check_window("the seed's lower bound", k.min_delta.abs())?;
                }
            }
        }
        let pool = match self.threads {
            Some(0) => return Err(ConfigError::NoThreads),
            Some(n) => Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build()
                    .map_err(|e| ConfigError::Threads(e.to_string()))?,
            ),
            None => None,
        };
        Ok(Engine {
            read: {
                let mut read = ReadOptions::default();
                read.naive_time_zone = self.local_time_zone;
                read.evtx_render_only = self.render_only;
                read.evtx_one_pass = self.one_pass;
                read.limits = self.input_limits;
                read
            },
            semantics: self.semantics,
            pool,
        })
    }
}

fn check_window(what: &'static str, value: SignedDuration) -> Result<(), ConfigError> {
    if value < SignedDuration::ZERO {
        Err(ConfigError::Negative { what, value })
    } else if value > MAX_WINDOW {
        Err(ConfigError::TooLong {
            what,
            value,
            max: MAX_WINDOW,
        })
    } else {
        Ok(())
    }
}

/// Hears how reading advances, for a progress display.
pub trait Progress: Send + Sync {
    /// A pass over `files` inputs holding `bytes` bytes begins.
    fn begin(&self, pass: &str, files: usize, bytes: u64);
    /// One input of `bytes` bytes was read.
    fn advance(&self, bytes: u64);
}

/// What a hunt found.
#[derive(Debug)]
pub enum Answer {
    /// Lifecycle findings, campaigns and coverage.
    Lifecycle(Report),
    /// Seed-query rows.
    Kql(Vec<KqlRow>),
}

/// A hunt's answer, with what reading cost: located warnings and counts.
#[derive(Debug)]
pub struct Hunt {
    /// What was found.
    pub answer: Answer,
    /// Located warnings from reading, in input order.
    pub warnings: Vec<Warning>,
    /// Counts of what was read, kept, skipped and why.
    pub stats: ReadStats,
}

/// The hunt, configured once.
///
/// Built from its semantics' options ([`Engine::lifecycle`], [`Engine::kql`]), it hunts paths
/// ([`Engine::hunt_paths`]) or events in memory ([`Engine::hunt_events`]); both run the same read
/// plan and the same tail (order and de-duplicate, correlate, attribute, allow-list, filter,
/// campaigns, coverage), so the same events give the same report either way.
#[derive(Debug)]
pub struct Engine {
    semantics: Semantics,
    read: ReadOptions,
    pool: Option<rayon::ThreadPool>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::lifecycle(LifecycleOptions::default())
            .build()
            .expect("the default options are valid")
    }
}

impl Engine {
    /// An engine for the default semantics: one finding per service creation.
    pub fn lifecycle(options: LifecycleOptions) -> EngineBuilder {
        Engine::builder(Semantics::Lifecycle(options))
    }

    /// An engine answering the seed Sentinel query, exactly (see [`crate::kql`]).
    pub fn kql(config: KqlConfig) -> EngineBuilder {
        Engine::builder(Semantics::Kql(config))
    }

    /// An engine for `semantics`.
    pub fn builder(semantics: Semantics) -> EngineBuilder {
        EngineBuilder {
            semantics,
            local_time_zone: TimeZone::UTC,
            threads: None,
            render_only: false,
            one_pass: false,
            input_limits: crate::read::InputLimits::default(),
        }
    }

    /// The semantics and its options.
    pub fn semantics(&self) -> &Semantics {
        &self.semantics
    }

    /// Hunt every input under `paths` (files and folders, recursively; formats found by
    /// content).
    pub fn hunt_paths(&self, paths: &[PathBuf]) -> Hunt {
        self.hunt_paths_with(paths, None)
    }

    /// [`Engine::hunt_paths`], telling `progress` as inputs are read.
    pub fn hunt_paths_with(&self, paths: &[PathBuf], progress: Option<&dyn Progress>) -> Hunt {
        // Both semantics hold what they keep compactly until all inputs are read: the
        // lifecycle then makes events of them a host at a time, the seed query one at a time
        // (its 4674s are most of what it keeps: a hundred thousand in the 10 GiB bench).
        let collection =
            self.in_pool(|| collect::collect_by_plan(paths, &self.plan(), &self.read, progress));
        let mut warnings = collection.warnings;
        let held = &collection.held;
        let answer = match &self.semantics {
            Semantics::Lifecycle(options) => {
                let judge = |parallel| {
                    report_held(
                        held,
                        &collection.census,
                        &collection.accounts,
                        options,
                        parallel,
                    )
                };
                // One thread judges on this one, a host at a time, as before hosts were judged
                // in parallel: that way the 10 GiB bench peaked 20 MiB lower at one thread.
                Answer::Lifecycle(match &self.pool {
                    Some(pool) if pool.current_num_threads() == 1 => judge(false),
                    _ => self.in_pool(|| judge(true)),
                })
            }
            Semantics::Kql(config) => {
                let accounts = directory_of_held(held, &collection.accounts);
                // Each held event is made again once: its unread table counted as it is joined.
                let mut unread = kql::UnreadRows::default();
                let events = held
                    .iter()
                    .map(compact::Compact::event)
                    .inspect(|e| unread.add(e));
                let rows = kql::run_with(events, &accounts, config);
                warnings.extend(run_notes(unread.notes()));
                Answer::Kql(rows)
            }
        };
        Hunt {
            answer,
            warnings,
            stats: collection.stats,
        }
    }

    /// Hunt events already in memory (read by another front end, or built by a test): the
    /// same read plan and the same tail as [`Engine::hunt_paths`], so the same events give the
    /// same answer either way. Nothing is read, so no reading warnings (only what the semantics
    /// says of the events, as [`Engine::hunt_paths`] does); the counts say how many events
    /// were given, kept and found twice.
    pub fn hunt_events(&self, events: impl IntoIterator<Item = Event>) -> Hunt {
        let selected = self.plan().select(events);
        let mut kept = selected.events;
        let mut accounts = selected.accounts;
        let duplicates = order_and_dedup(&mut kept) + accounts.dedup();
        Hunt {
            answer: self.answer(&kept, &selected.census, &accounts),
            warnings: self.notes(&kept),
            stats: ReadStats {
                records: selected.records,
                records_selected: selected.selected,
                duplicates,
                ..ReadStats::default()
            },
        }
    }

    /// The normalised events under `paths`, only those of `ids` when given, in time order and
    /// each once: what a hunt reads, before any semantics.
    pub fn read_events(&self, paths: &[PathBuf], ids: Option<&[u32]>) -> Collection {
        let filter = match ids {
            Some(ids) => Filter::ids(ids.iter().copied()),
            None => Filter::all(),
        };
        let opts = self.read.with_filter(filter);
        self.in_pool(|| collect::collect(paths, &opts, None))
    }

    fn in_pool<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        match &self.pool {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }

    fn plan(&self) -> ReadPlan {
        match &self.semantics {
            Semantics::Lifecycle(_) => lifecycle::plan(),
            Semantics::Kql(_) => kql::plan(),
        }
    }

    /// What the semantics says of the events it was given, once per run: the seed query names
    /// the tables it reads, and the rows of other tables it leaves out are counted.
    fn notes(&self, events: &[Event]) -> Vec<Warning> {
        match &self.semantics {
            Semantics::Lifecycle(_) => Vec::new(),
            Semantics::Kql(_) => run_notes(kql::unread_notes(events)),
        }
    }

    /// The shared tail, over time-ordered, de-duplicated events and the account sightings
    /// read with them.
    fn answer(&self, events: &[Event], census: &Census, sightings: &AccountSightings) -> Answer {
        let accounts = AccountDirectory::learn_with(events, sightings);
        match &self.semantics {
            Semantics::Lifecycle(options) => {
                Answer::Lifecycle(report(events, census, &accounts, options))
            }
            Semantics::Kql(config) => Answer::Kql(kql::run_with(events, &accounts, config)),
        }
    }
}

/// Notes on the whole run, as warnings.
fn run_notes(notes: Vec<String>) -> Vec<Warning> {
    notes
        .into_iter()
        .map(|message| Warning {
            file: "(run)".into(),
            location: String::new(),
            message,
        })
        .collect()
}

/// The directory [`AccountDirectory::learn_with`] would learn from the same events, held
/// compactly.
fn directory_of_held(held: &[compact::Compact], sightings: &AccountSightings) -> AccountDirectory {
    let mut accounts = AccountDirectory::default();
    for c in held {
        accounts.learn_anchor(c);
    }
    sightings.learn_into(&mut accounts);
    accounts
}

/// Correlate, attribute, apply the allow-list, filter, group campaigns, add coverage.
fn report(
    events: &[Event],
    census: &Census,
    accounts: &AccountDirectory,
    options: &LifecycleOptions,
) -> Report {
    // Filtered as they are judged, a host at a time: the benign ones (most installs) are never
    // held together.
    let findings = judged_each(events, accounts, options)
        .filter(|f| reported(f, options))
        .collect();
    report_of(findings, census)
}

/// The report of the findings reported: in creation order, grouped into campaigns, with each
/// host's coverage.
fn report_of(mut findings: Vec<Finding>, census: &Census) -> Report {
    in_creation_order(&mut findings);
    let campaigns = campaigns(&mut findings, |_| 0);
    Report {
        findings,
        coverage: lifecycle::coverage(census),
        campaigns,
    }
}

/// Every lifecycle in `events` (time-ordered, each once) as a finding: correlated (names from
/// `accounts`), attributed, with the allow-list applied; benign ones too, in no campaign yet.
fn judged(
    events: &[Event],
    accounts: &AccountDirectory,
    options: &LifecycleOptions,
) -> Vec<Finding> {
    let mut findings: Vec<Finding> = judged_each(events, accounts, options).collect();
    in_creation_order(&mut findings);
    findings
}

/// [`judged`], one host at a time and in no order yet (see [`in_creation_order`]).
fn judged_each<'a>(
    events: &'a [Event],
    accounts: &'a AccountDirectory,
    options: &'a LifecycleOptions,
) -> impl Iterator<Item = Finding> + 'a {
    let attributor = attribute::Attributor::new(events);
    lifecycle::by_host(events)
        .into_values()
        .flat_map(move |host| judged_host(&host, &attributor, accounts, options))
}

/// [`report`] over events held compactly: each host's are made events again, judged and
/// dropped, so only the findings reported outlive their host; `parallel`, as many hosts at once
/// as the pool has threads (the caller runs it in the pool), else one after the other.
fn report_held(
    held: &[compact::Compact],
    census: &Census,
    sightings: &AccountSightings,
    options: &LifecycleOptions,
    parallel: bool,
) -> Report {
    let accounts = directory_of_held(held, sightings);
    let by_host = lifecycle::by_host_of(held, compact::Compact::computer);
    let judge = |host: &[&compact::Compact]| -> Vec<Finding> {
        let events: Vec<Event> = host.iter().map(|c| c.event()).collect();
        let refs: Vec<&Event> = events.iter().collect();
        // A host's share accesses are all the attribution reads of it.
        let attributor = attribute::Attributor::new(&events);
        judged_host(&refs, &attributor, &accounts, options)
            .into_iter()
            .filter(|f| reported(f, options))
            .collect()
    };
    let mut findings = Vec::new();
    if parallel {
        // As many hosts at once as there are threads, their findings put back in host order.
        let hosts: Vec<Vec<&compact::Compact>> = by_host.into_values().collect();
        let per_host: Vec<Vec<Finding>> = hosts.par_iter().map(|h| judge(h)).collect();
        drop(hosts);
        findings.reserve_exact(per_host.iter().map(Vec::len).sum());
        for host in per_host {
            findings.extend(host);
        }
    } else {
        for host in by_host.into_values() {
            findings.extend(judge(&host));
        }
    }
    report_of(findings, census)
}

/// One host's events (time-ordered, each once) as findings: correlated, attributed, with the
/// allow-list applied; in the order found.
fn judged_host(
    host_events: &[&Event],
    attributor: &attribute::Attributor<'_>,
    accounts: &AccountDirectory,
    options: &LifecycleOptions,
) -> Vec<Finding> {
    let lifecycles = lifecycle::correlate_host(host_events, &options.windows, accounts);
    let attributions = attributor.attribute(&lifecycles);
    lifecycles
        .into_iter()
        .zip(attributions)
        .map(|(l, a)| {
            let finding = Finding::assemble(l, a);
            match options.allow.as_ref().and_then(|a| a.rule_for(&finding)) {
                Some(rule) => Finding {
                    verdict: Verdict::Benign,
                    verdict_reasons: vec![format!("allow-listed by {rule}")],
                    ..finding
                },
                None => finding,
            }
        })
        .collect()
}

/// Findings in the order of their creation (then computer, then service name), as
/// [`lifecycle::correlate`] orders lifecycles: a stable sort, so those alike stay in the order
/// they were found.
fn in_creation_order(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.created, &a.computer, &a.service_name).cmp(&(b.created, &b.computer, &b.service_name))
    });
}

/// Whether a hunt with `options` reports `finding` (benign ones only when asked).
fn reported(finding: &Finding, options: &LifecycleOptions) -> bool {
    options.include_benign || finding.verdict != Verdict::Benign
}

/// Group the reported `findings` into campaigns and name each member's; the campaigns of a
/// computer are numbered from `before(computer) + 1` (a follower has dropped earlier ones).
fn campaigns(findings: &mut [Finding], before: impl Fn(&str) -> usize) -> Vec<Campaign> {
    let grouped = campaign::group(findings);
    let mut out = Vec::with_capacity(grouped.len());
    for (mut campaign, members) in grouped {
        let earlier = before(&campaign.computer);
        if earlier > 0 {
            // `group` numbers a computer's campaigns from 1, as `<computer>#<n>`.
            let n = campaign
                .id
                .rsplit_once('#')
                .and_then(|(_, n)| n.parse::<usize>().ok())
                .unwrap_or(1);
            campaign.id = format!("{}#{}", campaign.computer, n + earlier);
        }
        for &i in &members {
            findings[i].campaign = Some(campaign.id.clone());
        }
        out.push(campaign);
    }
    out
}
