//! `-f parquet`: the library's Arrow tables (`svchunt::arrow`) written as one Parquet file,
//! for a data lake, Spark or pandas. Built with the `parquet` feature; without it the format
//! is refused with how to get it. Parquet is binary, so it is never written to a terminal.
//!
//! This module knows the tables and the destination, nothing of how they were found.

use std::io::{self, IsTerminal};
use std::path::Path;

use anyhow::{Result, bail};
use svchunt::{Answer, Event, Warning};

use crate::output::Output;

/// Refuse, before anything is read, a Parquet report that cannot be written: to a terminal,
/// or by a build without Parquet.
pub fn check_destination(output: Option<&Path>) -> Result<()> {
    if cfg!(not(feature = "parquet")) {
        bail!(
            "this svchunt was built without Parquet output; rebuild it with \
             `cargo build --release --features parquet`"
        );
    }
    if output.is_none() && io::stdout().is_terminal() {
        bail!("-f parquet writes a binary file: give -o FILE, or redirect the output");
    }
    Ok(())
}

/// Rows per row group of an events file: large enough for column compression, small enough
/// that the Arrow copy of one group stays a few tens of MB.
#[cfg(feature = "parquet")]
const EVENTS_PER_GROUP: usize = 65_536;

/// Write the hunt's findings (or the seed query's rows) as Parquet; the warnings name values
/// Arrow cannot hold (written as null).
#[cfg(feature = "parquet")]
pub fn write_answer(out: &mut Output, answer: &Answer) -> Result<Vec<Warning>> {
    use svchunt::arrow;
    let converted = match answer {
        Answer::Lifecycle(report) => arrow::findings_to_batch(&report.findings),
        Answer::Kql(rows) => arrow::kql_rows_to_batch(rows),
    };
    let schema = converted.batch.schema();
    arrow::parquet::write(out, schema, [converted.batch])?;
    Ok(converted.warnings)
}

/// Write `events` as Parquet, one row group per [`EVENTS_PER_GROUP`] events.
#[cfg(feature = "parquet")]
pub fn write_events(out: &mut Output, events: &[Event]) -> Result<Vec<Warning>> {
    use svchunt::arrow;
    let mut warnings = Vec::new();
    let batches = events.chunks(EVENTS_PER_GROUP).map(|chunk| {
        let converted = arrow::events_to_batch(chunk);
        warnings.extend(converted.warnings);
        converted.batch
    });
    arrow::parquet::write(out, arrow::events_schema(), batches)?;
    Ok(warnings)
}

#[cfg(not(feature = "parquet"))]
pub fn write_answer(_: &mut Output, _: &Answer) -> Result<Vec<Warning>> {
    unreachable!("refused by check_destination")
}

#[cfg(not(feature = "parquet"))]
pub fn write_events(_: &mut Output, _: &[Event]) -> Result<Vec<Warning>> {
    unreachable!("refused by check_destination")
}
