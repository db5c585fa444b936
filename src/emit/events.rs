//! The normalised events (`svchunt events`) as JSON lines, one JSON array, or CSV.
//!
//! Events are the logs' own words, so they get the same treatment as findings: JSON spells
//! control and invisible characters as `\uXXXX` escapes, and a CSV field a spreadsheet would
//! run as a formula gets a leading `'` unless `csv_raw`. Knows the [`Event`] type only.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;

use super::{cell, escape, write_csv, write_jsonl};
use crate::event::Event;

/// How `svchunt events` writes events (Parquet is the command's own, through `crate::arrow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventsFormat {
    /// One JSON object per line (the shape of [`Event`]'s serialisation).
    Jsonl,
    /// One JSON array of the same objects.
    Json,
    /// One row per event: `time, computer, channel, provider, event_id, record_id, user_sid,
    /// user_name, file, locator, data`, where `locator` reads `record 12`, `line 3` or
    /// `row 0` and `data` is the event data as a JSON array of `[name, value]` pairs.
    Csv,
}

/// Write `events` in `format`; `csv_raw` turns off the formula guard of CSV fields.
pub fn write_events(
    out: &mut dyn Write,
    format: EventsFormat,
    events: &[Event],
    csv_raw: bool,
) -> io::Result<()> {
    match format {
        EventsFormat::Jsonl => write_jsonl(out, events),
        EventsFormat::Json => {
            escape::write_json(&mut *out, escape::JsonFormatter::pretty(), events)?;
            writeln!(out)
        }
        EventsFormat::Csv => write_csv(out, events.iter().map(|e| EventCsv::new(e, csv_raw))),
    }
}

#[derive(Serialize)]
struct EventCsv<'a> {
    time: Cow<'a, str>,
    computer: Cow<'a, str>,
    channel: Cow<'a, str>,
    provider: Cow<'a, str>,
    event_id: u32,
    record_id: Option<u64>,
    user_sid: Cow<'a, str>,
    user_name: Cow<'a, str>,
    file: Cow<'a, str>,
    locator: String,
    data: Cow<'a, str>,
}

impl<'a> EventCsv<'a> {
    fn new(e: &'a Event, raw: bool) -> Self {
        let mut data = Vec::new();
        escape::write_json(&mut data, escape::JsonFormatter::compact(), &e.data)
            .expect("writing to memory");
        let data = String::from_utf8(data).expect("JSON is UTF-8");
        EventCsv {
            time: cell(e.time.to_string(), raw),
            computer: cell(e.computer.as_str(), raw),
            channel: cell(e.channel.as_str(), raw),
            provider: cell(e.provider.as_str(), raw),
            event_id: e.event_id,
            record_id: e.record_id,
            user_sid: cell(e.user.sid.as_deref().unwrap_or(""), raw),
            user_name: cell(e.user.name.as_deref().unwrap_or(""), raw),
            file: cell(&*e.origin.file, raw),
            locator: e.origin.locator.to_string(),
            data: cell(data, raw),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{channel, test_event};

    #[test]
    fn csv_events_are_formula_safe_and_data_is_json() {
        let mut e = test_event(
            7045,
            channel::SYSTEM,
            &[("ImagePath", "=cmd|' /C calc'!A0")],
        );
        e.computer = "@HOST".into();
        let mut out = Vec::new();
        write_events(&mut out, EventsFormat::Csv, &[e.clone()], false).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "time,computer,channel,provider,event_id,record_id,user_sid,user_name,file,locator,data"
        );
        let row = lines.next().unwrap();
        assert!(row.contains(",'@HOST,"), "{row}");
        assert!(
            row.contains(r#""[[""ImagePath"",""=cmd|' /C calc'!A0""]]""#),
            "{row}"
        );
        let mut raw = Vec::new();
        write_events(&mut raw, EventsFormat::Csv, &[e], true).unwrap();
        assert!(String::from_utf8(raw).unwrap().contains(",@HOST,"));
    }

    #[test]
    fn json_events_escape_terminal_controls() {
        let e = test_event(7045, channel::SYSTEM, &[("ServiceName", "a\u{1b}[2Jb")]);
        let mut out = Vec::new();
        write_events(&mut out, EventsFormat::Json, &[e], false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("a\\u001b[2Jb"), "{text}");
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed[0]["data"][0][1], "a\u{1b}[2Jb");
    }
}
