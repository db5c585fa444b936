/*!
svchunt finds remote service execution (PsExec and its kin) in Windows event logs.

The library is one [`Engine`] that every front end goes through: the `svchunt` command, tests,
benchmarks, and bindings. The engine is the pipeline, one module per stage, each knowing only
what comes before it:

```text
paths ─discover─▶ inputs ─read─▶ Event ─select─▶ kept events ─correlate─▶ lifecycles
      ─attribute─▶ attributions ─report─▶ findings, campaigns, coverage ─emit / export─▶
```

- `discover` walks paths and recognises each file by its content; `read` holds one reader per
  format, all yielding the one [`Event`];
- `select` decides which records to keep, from the semantics' read plan: the rare installs
  first, then only the evidence that names them;
- [`lifecycle`] turns the kept events into one lifecycle per service creation (evidence,
  removal, logon, verdict), or [`kql`] answers the seed Sentinel query instead;
- [`attribute`] names each lifecycle's tool, client trail and command; the [`report`] is
  assembled from those values, with the allow-list applied and campaigns grouped;
- [`emit`] prints a report (table, CSV, JSON, graph, HTML); [`export`] writes the same detection
  for a SIEM.

# Example

Hunt events already in memory (a front end that reads its own formats does this):

```
use svchunt::{Answer, Engine, Event, LifecycleOptions, Locator, Origin, UserRef};

let event = |id: u32, time: &str, data: &[(&str, &str)]| Event {
    time: time.parse().unwrap(),
    computer: "WKS01.corp.local".into(),
    channel: "System".into(),
    provider: "Service Control Manager".into(),
    event_id: id,
    record_id: None,
    user: UserRef { sid: Some("S-1-5-21-1-2-3-1104".into()), name: None },
    data: data.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    origin: Origin { file: "memory".into(), locator: Locator::Row(0) },
    table: None,
    time_as_logged: None,
    source_identity: None,
};
let events = vec![
    event(7045, "2024-05-06T08:00:00Z", &[
        ("ServiceName", "PSEXESVC"),
        ("ImagePath", "%SystemRoot%\\PSEXESVC.exe"),
        ("ServiceType", "user mode service"),
        ("StartType", "demand start"),
    ]),
    event(7036, "2024-05-06T08:00:01Z", &[("param1", "PSEXESVC"), ("param2", "running")]),
    event(7036, "2024-05-06T08:00:03Z", &[("param1", "PSEXESVC"), ("param2", "stopped")]),
];

let engine = Engine::lifecycle(LifecycleOptions::default()).build()?;
let Answer::Lifecycle(report) = engine.hunt_events(events).answer else { unreachable!() };
let finding = &report.findings[0];
assert_eq!(finding.tool.as_str(), "psexec");
assert_eq!(finding.verdict.as_str(), "remote-execution");
assert_eq!(finding.lifetime_ms, Some(3000));
# Ok::<(), svchunt::ConfigError>(())
```
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(unused_must_use)]
#![cfg_attr(not(debug_assertions), deny(clippy::dbg_macro))]

mod accounts;
#[cfg(feature = "arrow")]
pub mod arrow;
pub mod attribute;
#[doc(hidden)]
pub mod discover;
pub mod emit;
mod engine;
pub mod event;
pub mod export;
pub mod kql;
pub mod lifecycle;
#[doc(hidden)]
pub mod read;
pub mod report;
#[doc(hidden)]
pub mod select;

pub use attribute::{AllowError, AllowList, Confidence, Tool};
pub use engine::{
    Answer, Change, ChangeKind, Collection, ConfigError, Engine, EngineBuilder, FollowError,
    FollowLimits, FollowState, FollowStats, Follower, Hunt, LifecycleOptions, MAX_WINDOW, Progress,
    REACH, Semantics, StateError,
};
pub use event::{Event, Locator, Origin, UserRef};
pub use kql::{KqlConfig, KqlRow};
pub use lifecycle::LifecycleConfig;
pub use read::{ReadStats, Warning};
pub use report::{
    Campaign, Coverage, Evidence, Finding, Kind, Reconfiguration, Report, Source, Verdict,
};
