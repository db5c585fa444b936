//! Events as a record batch and back (the table is documented in the module above).

use std::sync::Arc;

use arrow_array::{Array, RecordBatch};
use arrow_schema::{ArrowError, SchemaRef};

use super::columns::{
    Columns, Integers, Lists, Strings, Times, child, int64, list, nanos, struct_of, timestamps,
    utf8,
};
use super::{Converted, ReadBack};
use crate::event::{AgentTable, Event, EventIdentity, Locator, Origin, TableRow, UserRef};
use crate::read::Warning;

/// The events table's schema.
pub fn events_schema() -> SchemaRef {
    events_to_batch(&[]).batch.schema()
}

/// `events` as one batch, in their order.
pub fn events_to_batch(events: &[Event]) -> Converted {
    let mut warnings = Vec::new();
    let time = timestamps(events.iter().map(|e| {
        let ns = nanos(e.time);
        if ns.is_none() {
            warnings.push(located(e, format!("time {} is outside what Arrow's nanosecond timestamps hold (1677-09-21 to 2262-04-11); written as null", e.time)));
        }
        ns
    }));
    let record_id = int64(events.iter().map(|e| {
        let id = e.record_id.map(i64::try_from)?;
        if id.is_err() {
            warnings.push(located(
                e,
                format!(
                    "record id {} is above what Arrow's int64 holds; written as null",
                    e.record_id.unwrap_or_default()
                ),
            ));
        }
        id.ok()
    }));
    let at = int64(events.iter().map(|e| {
        let (Locator::Record(n) | Locator::Line(n) | Locator::Row(n)) = e.origin.locator;
        i64::try_from(n).ok()
    }));

    let mut user = Columns::default();
    user.add(
        "sid",
        utf8(events.iter().map(|e| e.user.sid.as_deref())),
        true,
    )
    .add(
        "name",
        utf8(events.iter().map(|e| e.user.name.as_deref())),
        true,
    );

    let lengths: Vec<usize> = events.iter().map(|e| e.data.len()).collect();
    let pairs = || events.iter().flat_map(|e| e.data.iter());
    let mut data = Columns::default();
    data.add("name", utf8(pairs().map(|(k, _)| Some(k.as_str()))), false)
        .add("value", utf8(pairs().map(|(_, v)| Some(v.as_str()))), false);

    let mut locator = Columns::default();
    locator
        .add(
            "kind",
            utf8(events.iter().map(|e| Some(locator_kind(e.origin.locator)))),
            false,
        )
        .add("at", at, true);
    let mut origin = Columns::default();
    origin
        .add(
            "file",
            utf8(events.iter().map(|e| Some(&*e.origin.file))),
            false,
        )
        .add("locator", locator.into_struct(None), false);

    // A Sentinel row's table and raw columns, for the seed query (null for other formats).
    let rows: Vec<Option<&TableRow>> = events.iter().map(|e| e.table.as_deref()).collect();
    let raw_lengths: Vec<usize> = rows
        .iter()
        .map(|r| r.map_or(0, |r| r.columns.len()))
        .collect();
    let raw = || rows.iter().flatten().flat_map(|r| r.columns.iter());
    let mut raw_columns = Columns::default();
    raw_columns
        .add("name", utf8(raw().map(|(k, _)| Some(*k))), false)
        .add("value", utf8(raw().map(|(_, v)| Some(v.as_str()))), false);
    let mut table = Columns::default();
    table
        .add(
            "table",
            utf8(rows.iter().map(|r| Some(r.map_or("", |r| r.table.name())))),
            false,
        )
        .add(
            "columns",
            list(raw_columns.into_struct(None), &raw_lengths),
            false,
        );
    let table = table.into_struct(Some(rows.iter().map(Option::is_some).collect()));

    let mut c = Columns::default();
    c.add("time", time, true)
        .add(
            "time_as_logged",
            utf8(events.iter().map(|e| e.time_as_logged.as_deref())),
            true,
        )
        .add(
            "computer",
            utf8(events.iter().map(|e| Some(e.computer.as_str()))),
            false,
        )
        .add(
            "channel",
            utf8(events.iter().map(|e| Some(e.channel.as_str()))),
            false,
        )
        .add(
            "provider",
            utf8(events.iter().map(|e| Some(e.provider.as_str()))),
            false,
        )
        .add(
            "event_id",
            int64(events.iter().map(|e| Some(i64::from(e.event_id)))),
            false,
        )
        .add("record_id", record_id, true)
        .add("user", user.into_struct(None), false)
        .add("data", list(data.into_struct(None), &lengths), false)
        .add("origin", origin.into_struct(None), false)
        .add(
            "identity",
            // The bits of a hash, not a number to read: stored as int64 for Spark.
            int64(events.iter().map(|e| Some(e.identity().to_bits() as i64))),
            false,
        )
        .add("table", table, true);
    Converted {
        batch: c.batch(events.len()),
        warnings,
    }
}

fn locator_kind(l: Locator) -> &'static str {
    match l {
        Locator::Record(_) => "record",
        Locator::Line(_) => "line",
        Locator::Row(_) => "row",
    }
}

fn located(e: &Event, message: String) -> Warning {
    Warning {
        file: e.origin.file.clone(),
        location: e.origin.locator.to_string(),
        message,
    }
}

/// Events from a batch with the events table's columns: `time`, `computer` and `event_id` are
/// required, the rest optional (an event without `origin` is located at row `first_row + i`
/// of `source`). A row that cannot be an event is skipped with a warning naming it; a column
/// of the wrong type is an error for the whole batch.
pub fn events_from_batch(
    batch: &RecordBatch,
    source: &str,
    first_row: u64,
) -> Result<ReadBack, ArrowError> {
    let column = |name: &str| batch.column_by_name(name).map(|a| a.as_ref());
    let required = |name: &str| {
        column(name).ok_or_else(|| {
            ArrowError::SchemaError(format!("the events table has no `{name}` column"))
        })
    };
    let time = Times::of("time", required("time")?)?;
    let computer = Strings::of("computer", required("computer")?)?;
    let event_id = Integers::of("event_id", required("event_id")?)?;
    let as_logged = column("time_as_logged")
        .map(|a| Strings::of("time_as_logged", a))
        .transpose()?;
    let channel = column("channel")
        .map(|a| Strings::of("channel", a))
        .transpose()?;
    let provider = column("provider")
        .map(|a| Strings::of("provider", a))
        .transpose()?;
    let record_id = column("record_id")
        .map(|a| Integers::of("record_id", a))
        .transpose()?;
    let user = column("user").map(|a| struct_of("user", a)).transpose()?;
    let user_sid = user
        .and_then(|u| child(u, "sid"))
        .map(|a| Strings::of("user.sid", a.as_ref()))
        .transpose()?;
    let user_name = user
        .and_then(|u| child(u, "name"))
        .map(|a| Strings::of("user.name", a.as_ref()))
        .transpose()?;
    let data = column("data").map(|a| Lists::of("data", a)).transpose()?;
    let data_struct = data
        .as_ref()
        .map(|d| struct_of("data.item", d.values().as_ref()))
        .transpose()?;
    let data_field = |name: &str| -> Result<Option<Strings<'_>>, ArrowError> {
        data_struct
            .map(|s| {
                let a = child(s, name).ok_or_else(|| {
                    ArrowError::SchemaError(format!("`data` items have no `{name}` field"))
                })?;
                Strings::of(&format!("data.{name}"), a.as_ref())
            })
            .transpose()
    };
    let (data_name, data_value) = (data_field("name")?, data_field("value")?);
    let origin = column("origin")
        .map(|a| struct_of("origin", a))
        .transpose()?;
    let origin_file = origin
        .and_then(|o| child(o, "file"))
        .map(|a| Strings::of("origin.file", a.as_ref()))
        .transpose()?;
    let locator = origin
        .and_then(|o| child(o, "locator"))
        .map(|a| struct_of("origin.locator", a.as_ref()))
        .transpose()?;
    let locator_kind = locator
        .and_then(|l| child(l, "kind"))
        .map(|a| Strings::of("origin.locator.kind", a.as_ref()))
        .transpose()?;
    let locator_at = locator
        .and_then(|l| child(l, "at"))
        .map(|a| Integers::of("origin.locator.at", a.as_ref()))
        .transpose()?;

    let identity = column("identity")
        .map(|a| Integers::of("identity", a))
        .transpose()?;
    let table = column("table").map(|a| struct_of("table", a)).transpose()?;
    let table_name = table
        .and_then(|t| child(t, "table"))
        .map(|a| Strings::of("table.table", a.as_ref()))
        .transpose()?;
    let raw = table
        .and_then(|t| child(t, "columns"))
        .map(|a| Lists::of("table.columns", a.as_ref()))
        .transpose()?;
    let raw_struct = raw
        .as_ref()
        .map(|r| struct_of("table.columns.item", r.values().as_ref()))
        .transpose()?;
    let raw_field = |name: &str| -> Result<Option<Strings<'_>>, ArrowError> {
        raw_struct
            .and_then(|s| child(s, name))
            .map(|a| Strings::of(&format!("table.columns.{name}"), a.as_ref()))
            .transpose()
    };
    let (raw_name, raw_value) = (raw_field("name")?, raw_field("value")?);

    let source: Arc<str> = source.into();
    let mut out = ReadBack::default();
    let mut last_file: Option<Arc<str>> = None;
    for i in 0..batch.num_rows() {
        let row = first_row + i as u64;
        let warn = |out: &mut ReadBack, message: String| {
            out.warnings.push(Warning {
                file: source.clone(),
                location: format!("row {row}"),
                message,
            })
        };
        let (Some(computer), Some(id)) = (computer.get(i), event_id.get(i)) else {
            warn(&mut out, "no computer or no event id: row skipped".into());
            out.skipped += 1;
            continue;
        };
        let Ok(event_id) = u32::try_from(id) else {
            warn(&mut out, format!("event id {id} is not one: row skipped"));
            out.skipped += 1;
            continue;
        };
        let logged = as_logged.as_ref().and_then(|l| l.get(i));
        let time = match time.get(i) {
            Some(Ok(t)) => t,
            // A clock beyond the years a time holds is dated at the nearest end (see
            // `Event::time_as_logged`), which Arrow's nanoseconds cannot hold either.
            None if logged.is_some() => {
                if logged.is_some_and(|l| l.starts_with('-')) {
                    jiff::Timestamp::MIN
                } else {
                    jiff::Timestamp::MAX
                }
            }
            Some(Err(e)) => {
                warn(&mut out, format!("time out of range ({e}): row skipped"));
                out.skipped += 1;
                continue;
            }
            None => {
                warn(&mut out, "no time: row skipped".into());
                out.skipped += 1;
                continue;
            }
        };
        let record_id = match record_id.as_ref().and_then(|r| r.get(i)) {
            Some(id) => match u64::try_from(id) {
                Ok(id) => Some(id),
                Err(_) => {
                    warn(
                        &mut out,
                        format!("record id {id} is not one: read as absent"),
                    );
                    None
                }
            },
            None => None,
        };
        let mut pairs = Vec::new();
        if let (Some(d), Some(names), Some(values)) = (&data, &data_name, &data_value) {
            for j in d.range(i) {
                match (names.get(j), values.get(j)) {
                    (Some(k), Some(v)) => pairs.push((k.to_string(), v.to_string())),
                    _ => warn(
                        &mut out,
                        format!("a data item without a name or value (item {j}): dropped"),
                    ),
                }
            }
        }
        let file = match origin_file.as_ref().and_then(|f| f.get(i)) {
            // Consecutive events of one input share its name, as the readers' do.
            Some(f) => match &last_file {
                Some(last) if **last == *f => last.clone(),
                _ => {
                    let f: Arc<str> = f.into();
                    last_file = Some(f.clone());
                    f
                }
            },
            None => source.clone(),
        };
        let at = locator_at
            .as_ref()
            .and_then(|a| a.get(i))
            .and_then(|n| u64::try_from(n).ok());
        let locator = match (locator_kind.as_ref().and_then(|k| k.get(i)), at) {
            (Some("record"), Some(n)) => Locator::Record(n),
            (Some("line"), Some(n)) => Locator::Line(n),
            (Some("row"), Some(n)) => Locator::Row(n),
            _ => Locator::Row(row),
        };
        let mut event = Event {
            time,
            computer: computer.to_string(),
            channel: channel
                .as_ref()
                .and_then(|c| c.get(i))
                .unwrap_or_default()
                .to_string(),
            provider: provider
                .as_ref()
                .and_then(|c| c.get(i))
                .unwrap_or_default()
                .to_string(),
            event_id,
            record_id,
            user: UserRef {
                sid: user_sid.as_ref().and_then(|s| s.get(i)).map(str::to_string),
                name: user_name
                    .as_ref()
                    .and_then(|s| s.get(i))
                    .map(str::to_string),
            },
            data: pairs,
            origin: Origin { file, locator },
            table: None,
            time_as_logged: logged.map(Into::into),
            source_identity: None,
        };
        // A struct column that is null as a whole holds no account.
        if user.is_some_and(|u| u.is_null(i)) {
            event.user = UserRef::default();
        }
        event.source_identity = identity
            .as_ref()
            .and_then(|x| x.get(i))
            .and_then(|bits| i64::try_from(bits).ok())
            .map(|bits| EventIdentity::from_bits(bits as u64));
        if table.is_some_and(|t| t.is_valid(i)) {
            let agent = match table_name.as_ref().and_then(|t| t.get(i)) {
                Some("Event") => Some(AgentTable::Event),
                Some("SecurityEvent") => Some(AgentTable::SecurityEvent),
                Some("WindowsEvent") => Some(AgentTable::WindowsEvent),
                _ => None,
            };
            match agent {
                Some(agent) => {
                    // The seed query reads a fixed set of columns: names are matched to it.
                    let known = crate::kql::seed_columns(agent, event_id);
                    let mut columns = Vec::new();
                    if let (Some(r), Some(names), Some(values)) = (&raw, &raw_name, &raw_value) {
                        for j in r.range(i) {
                            let name = names.get(j).and_then(|n| known.iter().find(|k| **k == n));
                            match (name, values.get(j)) {
                                (Some(k), Some(v)) => columns.push((*k, v.to_string())),
                                _ => warn(
                                    &mut out,
                                    format!(
                                        "a table column the seed query does not read (item {j}): dropped"
                                    ),
                                ),
                            }
                        }
                    }
                    event.table = Some(Box::new(TableRow {
                        table: agent,
                        columns,
                    }));
                }
                None => warn(
                    &mut out,
                    "a table row of no known Log Analytics table: read as a plain event".into(),
                ),
            }
        }
        out.events.push(event);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{channel, test_event};

    fn sample() -> Vec<Event> {
        let mut a = test_event(
            7045,
            channel::SYSTEM,
            &[("ServiceName", "PSEXESVC"), ("ImagePath", "x")],
        );
        a.time = "2024-05-06T08:00:00.1234567Z".parse().unwrap();
        a.user = UserRef {
            sid: Some("S-1-5-21-1".into()),
            name: None,
        };
        let mut b = test_event(
            4624,
            channel::SECURITY,
            &[("LogonType", "3"), ("LogonType", "3")],
        );
        b.record_id = None;
        b.origin = Origin {
            file: "export.json".into(),
            locator: Locator::Line(12),
        };
        let mut c = test_event(7045, channel::SYSTEM, &[]);
        c.origin.locator = Locator::Row(0);
        c.table = Some(Box::new(TableRow {
            table: AgentTable::Event,
            columns: vec![("Computer", "H".into()), ("EventData", "<x/>".into())],
        }));
        let mut events = vec![a, b, c];
        // Readers fix each identity before dropping fields; the table carries it.
        events.iter_mut().for_each(Event::seal_identity);
        events
    }

    #[test]
    fn events_survive_a_round_trip_whole() {
        let events = sample();
        let converted = events_to_batch(&events);
        assert!(converted.warnings.is_empty());
        assert_eq!(converted.batch.schema(), events_schema());
        let back = events_from_batch(&converted.batch, "t", 0).unwrap();
        assert!(back.warnings.is_empty(), "{:?}", back.warnings);
        assert_eq!(
            back.events, events,
            "time to the nanosecond, repeated names, origins"
        );
    }

    #[test]
    fn times_arrow_cannot_hold_are_null_and_said() {
        let mut e = sample();
        e[0].time = "1601-01-01T00:00:00Z".parse().unwrap();
        e[0].record_id = Some(u64::MAX);
        let converted = events_to_batch(&e);
        assert_eq!(converted.warnings.len(), 2);
        assert!(converted.warnings[0].message.contains("1601"));
        assert_eq!(converted.warnings[0].location, "record 1");
        let back = events_from_batch(&converted.batch, "t", 0).unwrap();
        assert_eq!(back.events.len(), 2, "the row without a time is skipped");
        assert_eq!(back.skipped, 1);
        assert_eq!(back.warnings[0].location, "row 0");
    }

    #[test]
    fn a_clock_beyond_the_years_comes_back_dated_as_its_reader_dated_it() {
        let mut e = sample();
        e[1].time = jiff::Timestamp::MAX;
        e[1].time_as_logged = Some("30827-12-31T23:59:59Z".into());
        let converted = events_to_batch(&e);
        assert_eq!(converted.warnings.len(), 1, "the null time is said");
        let back = events_from_batch(&converted.batch, "t", 0).unwrap();
        assert_eq!(back.events, e);
    }

    #[test]
    fn a_batch_without_a_required_column_is_an_error() {
        let batch = events_to_batch(&sample()).batch;
        let idx = batch.schema().index_of("computer").unwrap();
        let mut batch = batch;
        batch.remove_column(idx);
        let err = events_from_batch(&batch, "t", 0).unwrap_err();
        assert!(err.to_string().contains("`computer`"), "{err}");
    }
}
