//! Arrow record batches: events both ways, and a hunt's answer (findings, campaigns, coverage,
//! movement edges, seed-query rows) one way, for the Python package, Spark and a data lake
//! (`svchunt events -f parquet`, `svchunt hunt -f parquet`). Behind the `arrow` feature.
//!
//! Every table mirrors the JSON the command writes for the same values ([`crate::emit`]'s
//! `# Format`): the same column names, objects as Arrow structs, arrays as Arrow lists, so that
//! a finding read from Parquet or a pandas frame is the finding `-f json` shows. Where Arrow,
//! Spark or pandas cannot hold a value exactly, the type is chosen so that they can:
//!
//! - times are `timestamp[ns, UTC]`: EVTX times have 100 ns steps and a finding's times must
//!   survive a round trip whole. A time outside what 64-bit nanoseconds hold (before 1677-09-21
//!   or after 2262-04-11: a zeroed FILETIME says 1601) is written as null, with a [`Warning`]
//!   naming the record or finding;
//! - event ids, record ids, logon types, counts and positions are `int64`: Spark has no
//!   unsigned types. A record id above `i64::MAX` is written as null, with a warning;
//! - an event's data is a list of `{name, value}` structs, not a map: a record may repeat a
//!   name, and the order is the source's.
//!
//! # Events
//!
//! | column | type | |
//! |---|---|---|
//! | `time` | timestamp[ns, UTC] | when it was logged (null only when out of range, see above) |
//! | `time_as_logged` | utf8, nullable | the logged text of a time beyond the years a time holds (`time` is then null; read back, the event is dated at the nearest end, as its reader dated it) |
//! | `computer`, `channel`, `provider` | utf8 | as the log spells them |
//! | `event_id` | int64 | |
//! | `record_id` | int64, nullable | EventRecordID where the source has one |
//! | `user` | struct{`sid`, `name`: utf8} | the acting account |
//! | `data` | list<struct{`name`, `value`: utf8}> | event-data fields, in source order |
//! | `origin` | struct{`file`: utf8, `locator`: struct{`kind`: utf8, `at`: int64}} | where it was read: `kind` is `record`, `line` or `row` |
//! | `identity` | int64 | the bits of the record's identity hash, fixed by its reader (copies of one record share it; see `Event::identity`): not a number to read |
//! | `table` | struct{`table`: utf8, `columns`: list<struct{`name`, `value`: utf8}>}, nullable | a Sentinel row's table and the raw columns the seed query reads |
//!
//! The last two are not in `svchunt events`'s JSON: they make a round trip exact (records
//! that differ only in fields no stage keeps stay two; the seed query reads Sentinel's own
//! columns).
//!
//! [`events_from_batch`] reads the same columns back (extra columns are ignored; strings may
//! also be large or view strings, lists large lists, times any unit), so events can leave and
//! come back: through Spark, a Parquet file, a notebook. A row that cannot be an event (no
//! time, no computer) is a located warning (`row N`), not an error.
//!
//! # Findings
//!
//! One row per finding, columns as in the JSON: `kind` (utf8), `computer`, `service_name`, `display_name`,
//! `image_path`, `service_type`, `start_type`, `service_account` (utf8), `created`, `deleted`
//! (timestamp), `deletion_evidence` (utf8), `lifetime_ms` (int64), `verdict` (utf8),
//! `verdict_reasons` (`list<utf8>`), `tool`, `tool_reasons`, `tool_confidence`, `command`,
//! `campaign`, `user` {sid, name}, `source` {logon_id, logon_type (int64), ip, workstation,
//! auth, logon_time (timestamp), client_host, pipes, files_written (`list<utf8>`)} (null when the
//! logs say nothing of it), `evidence` list<{event_id (int64), time, file, record_id (int64),
//! locator {kind, at}, role, detail}>, `reconfiguration` {original_image_path,
//! temporary_image_paths (`list<utf8>`), restored (timestamp), start_type_changes (`list<utf8>`)}
//! (null for a creation; the JSON leaves it out then).
//!
//! Campaigns (`id`, `computer`, `size`, `first`, `last`, `tool`, `user`, `payload`), coverage
//! (`computer` and one boolean per evidence kind), movement edges (`source`, `source_hosts`,
//! `target`, `accounts`, `tools`, `first`, `last`, `count`) and the seed query's rows
//! (`SourceTime`, `SourceEventID`, `TargetTime`, `TargetEventID`, `Computer`, `UserName`,
//! `InstalledService`, `Exe`) follow the same rule.
//!
//! This module knows the report and event types, and nothing of where they are written.

mod columns;
mod events;
#[cfg(feature = "parquet")]
pub mod parquet;
mod report;

pub use arrow_array::RecordBatch;
pub use arrow_schema::{ArrowError, SchemaRef};
pub use events::{events_from_batch, events_schema, events_to_batch};
pub use report::{
    campaigns_to_batch, coverage_to_batch, edges_to_batch, findings_schema, findings_to_batch,
    kql_rows_to_batch,
};

use crate::read::Warning;

/// A batch, and what could not be written into it exactly (values outside Arrow's range, each
/// written as null and named here).
#[derive(Debug, Clone)]
pub struct Converted {
    /// The rows.
    pub batch: RecordBatch,
    /// One warning per value written as null because Arrow's type cannot hold it.
    pub warnings: Vec<Warning>,
}

/// Events read back from a batch, with a located warning for each row that is not one.
#[derive(Debug, Default)]
pub struct ReadBack {
    /// The events, in row order.
    pub events: Vec<crate::Event>,
    /// One per row skipped or value dropped, located by row.
    pub warnings: Vec<Warning>,
    /// Rows skipped.
    pub skipped: u64,
}
