//! JSON and JSON-lines exports (evtx_dump, NXLog/OTRF, Sentinel, Winlogbeat/ECS).

use std::io::BufRead;
use std::sync::Arc;

use super::{FileOutput, ReadOptions};

/// Read one JSON or JSON-lines input, detecting its flavour from its first records.
pub fn read_json(
    name: &Arc<str>,
    reader: &mut dyn BufRead,
    opts: &ReadOptions,
    out: &mut FileOutput,
) {
    let _ = (name, reader, opts, out);
}
