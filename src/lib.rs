/*!
svchunt finds remote service execution (PsExec and its kin) in Windows event logs, offline.

The engine is a pipeline, one module per stage, each knowing only its neighbours:

```text
paths ─discover─▶ inputs ─read─▶ Event stream ─correlate─▶ findings ─emit─▶ table/csv/json
```

- [`discover`] walks the paths, recognises each file by its content (EVTX, JSON, CSV, zip, gzip)
  and hands it to the reader for its format;
- [`read`] holds one reader per format, all yielding the one normalised [`event::Event`];
- [`lifecycle`] turns the events into one finding per service creation, with its evidence;
- [`attribute`] names the tool, the source and the command of each finding;
- [`kql`] answers the seed Sentinel query instead, exactly;
- [`emit`] prints findings as a table, CSV, JSON or JSON lines;
- [`hunt`] runs the whole pipeline over a set of paths;
- [`export`] writes the same detection as KQL, Sigma, SPL and EQL for a SIEM.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(unused_must_use)]
#![cfg_attr(not(debug_assertions), deny(clippy::dbg_macro))]

pub mod accounts;
pub mod attribute;
pub mod discover;
pub mod emit;
pub mod event;
pub mod export;
pub mod hunt;
pub mod kql;
pub mod lifecycle;
pub mod read;

pub use event::{Event, Locator, Origin, UserRef};
