//! The generator's events as NXLog `im_msvistalog` JSON lines (the shape OTRF's Security-Datasets
//! publish): one flat object per event, NXLog's envelope (`EventID`, `EventTime`, `Hostname`,
//! `SourceName`, `Channel`, `RecordNumber`) beside the EventData fields. What a Winlogbeat or
//! NXLog pipe feeds a follower, for tests and the follow benchmark.

use serde_json::{Map, Value};

use super::events::Event;
use super::tools::rfc3339;
use crate::record::DataValue;

/// One `<Data>` value as NXLog writes it: text, numbers as numbers, hex integers as `0x…`.
pub fn value(v: &DataValue) -> Value {
    match v {
        DataValue::String(s) | DataValue::AnsiString(s) => Value::from(s.as_str()),
        DataValue::UInt8(n) => Value::from(*n),
        DataValue::UInt16(n) => Value::from(*n),
        DataValue::UInt32(n) => Value::from(*n),
        DataValue::UInt64(n) => Value::from(*n),
        DataValue::Bool(b) => Value::from(*b),
        DataValue::Binary(b) => {
            Value::from(b.iter().map(|x| format!("{x:02X}")).collect::<String>())
        }
        DataValue::Guid(g) => Value::from(format!("{{{g}}}")),
        DataValue::SizeT(n) | DataValue::HexInt64(n) => Value::from(format!("{n:#x}")),
        DataValue::HexInt32(n) => Value::from(format!("{n:#x}")),
        DataValue::FileTime(t) => Value::from(rfc3339(*t)),
        DataValue::Sid(s) => Value::from(s.to_string()),
        // The scenarios write no arrays; a JSON array keeps every string apart.
        DataValue::StringArray(items) => Value::from(items.clone()),
    }
}

/// `e` as one NXLog JSON line (with its newline), as the log's `record`th record. The time is
/// written with its zone, so it reads exactly.
pub fn line(e: &Event, record: u64) -> String {
    let s = &e.system;
    let mut m = Map::new();
    m.insert("EventID".into(), Value::from(s.event_id));
    m.insert("EventTime".into(), Value::from(rfc3339(e.time)));
    m.insert("Hostname".into(), Value::from(s.computer.as_str()));
    m.insert("SourceName".into(), Value::from(s.provider.as_str()));
    m.insert("Channel".into(), Value::from(s.channel.as_str()));
    m.insert("RecordNumber".into(), Value::from(record));
    for (k, v) in &e.data {
        m.insert(k.clone(), value(v));
    }
    let mut line = Value::Object(m).to_string();
    line.push('\n');
    line
}
