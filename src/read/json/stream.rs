//! JSON documents that span lines, decoded as a stream so that a large export is never held in
//! memory as one value: a top-level array of records (the `az` CLI's output, evtx-crate arrays),
//! the Log Analytics query API's `{"tables":[{"columns":…,"rows":…}]}`, an Elastic `_search`
//! response's `{"hits":{"hits":[…]}}`, Splunk's REST `{"results":[…]}`, or records concatenated
//! one after another (evtx_dump without record headers). Records are located by their index
//! (`row N`, 0-based): in an array or stream by position, in an API table by row.
//!
//! A syntax error ends the input (a stream cannot be resynchronised), with a warning that says
//! where, and the records already read are kept.

use std::fmt;
use std::io::Read;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::problems::RecordError;
use super::sentinel::{self, TableKind};
use super::sink::{Flavour, Sink};
use crate::event::Locator;

/// The message of the error used to stop decoding once the sink gave up on the input.
const ABANDONED: &str = "svchunt: input abandoned";

/// Read every document of `reader`.
pub(super) fn read_documents(reader: impl Read, sink: &mut Sink<'_>) {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut next_row = 0u64;
    // `end` succeeds only at end of input (after whitespace); otherwise another document follows.
    while de.end().is_err() {
        let seed = TopLevel {
            sink: &mut *sink,
            next_row: &mut next_row,
        };
        if let Err(e) = seed.deserialize(&mut de) {
            if e.is_io() {
                // The input failed under the parser (the record limit, a truncated archive…).
                let at = format!("line {}", e.line());
                sink.read_failed(&at, &std::io::Error::from(e));
            } else if !sink.abandoned() {
                let at = format!("line {}, column {}", e.line(), e.column());
                let err =
                    RecordError::new("not JSON", format!("{e}; the rest of the input is lost"));
                sink.bad_at(&at, err);
            }
            break;
        }
    }
}

/// Each element of `seq` a record, numbered as rows from `next_row`.
fn rows<'de, A: SeqAccess<'de>>(
    sink: &mut Sink<'_>,
    next_row: &mut u64,
    mut seq: A,
) -> Result<(), A::Error> {
    while let Some(record) = seq.next_element::<Value>()? {
        sink.value(&record, Locator::Row(*next_row));
        *next_row += 1;
        if sink.abandoned() {
            return Err(de::Error::custom(ABANDONED));
        }
    }
    Ok(())
}

/// One top-level document: an array of records, a `tables` response, or a record.
struct TopLevel<'s, 'a> {
    sink: &'s mut Sink<'a>,
    next_row: &'s mut u64,
}

impl<'de> DeserializeSeed<'de> for TopLevel<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object or array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        rows(self.sink, self.next_row, seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut record = Map::new();
        if let Some(first) = map.next_key::<String>()? {
            if first == "tables" {
                map.next_value_seed(Tables { sink: self.sink })?;
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                return Ok(());
            }
            if SEARCH_RESPONSE_KEYS.contains(&first.as_str()) {
                return self.search_response(first, map);
            }
            record.insert(first, map.next_value()?);
        }
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            record.insert(k, v);
        }
        self.sink
            .value(&Value::Object(record), Locator::Row(*self.next_row));
        *self.next_row += 1;
        if self.sink.abandoned() {
            return Err(de::Error::custom(ABANDONED));
        }
        Ok(())
    }

    // A scalar where a record belongs: let the sink say what it thinks of it.
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.scalar(Value::from(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.scalar(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.scalar(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.scalar(Value::from(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.scalar(Value::Bool(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar(Value::Null)
    }
}

/// Keys that open an Elastic `_search` response or a Splunk REST result set.
const SEARCH_RESPONSE_KEYS: &[&str] = &[
    "took",
    "timed_out",
    "_shards",
    "hits",
    "_scroll_id",
    "pit_id",
    "preview",
    "init_offset",
    "messages",
    "fields",
    "results",
    "highlighted",
];

impl TopLevel<'_, '_> {
    /// A search response: its hits (Elastic) or results (Splunk) streamed as records, the rest
    /// skipped. An object that only looked like one (a Splunk export line, `{"preview":…,
    /// "result":{…}}`) is a record after all.
    fn search_response<'de, A: MapAccess<'de>>(
        self,
        first: String,
        mut map: A,
    ) -> Result<(), A::Error> {
        let mut record = Map::new();
        let mut streamed = false;
        let mut key = Some(first);
        while let Some(k) = key
            .take()
            .map_or_else(|| map.next_key::<String>(), |k| Ok(Some(k)))?
        {
            match k.as_str() {
                "hits" | "results" => {
                    streamed = true;
                    map.next_value_seed(Records {
                        sink: &mut *self.sink,
                        next_row: &mut *self.next_row,
                    })?;
                }
                _ => {
                    record.insert(k, map.next_value()?);
                }
            }
        }
        if !streamed {
            self.sink
                .value(&Value::Object(record), Locator::Row(*self.next_row));
            *self.next_row += 1;
        }
        Ok(())
    }

    fn scalar<E: de::Error>(self, v: Value) -> Result<(), E> {
        self.sink.value(&v, Locator::Row(*self.next_row));
        *self.next_row += 1;
        if self.sink.abandoned() {
            return Err(E::custom(ABANDONED));
        }
        Ok(())
    }
}

/// Elastic's `hits` (an object whose `hits` is the array of hits) or Splunk's `results` (the
/// array itself): each element a record, its `_source` opened by the sink.
struct Records<'s, 'a> {
    sink: &'s mut Sink<'a>,
    next_row: &'s mut u64,
}

impl<'de> DeserializeSeed<'de> for Records<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Records<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("search hits or results")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        rows(self.sink, self.next_row, seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(k) = map.next_key::<String>()? {
            if k == "hits" {
                map.next_value_seed(Records {
                    sink: &mut *self.sink,
                    next_row: &mut *self.next_row,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// The API's `tables` array.
struct Tables<'s, 'a> {
    sink: &'s mut Sink<'a>,
}

impl<'de> DeserializeSeed<'de> for Tables<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Tables<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of tables")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Table {
                sink: &mut *self.sink,
            })?
            .is_some()
        {}
        Ok(())
    }
}

/// One API table: `name`, `columns` (each `{"name","type"}`), then `rows`.
struct Table<'s, 'a> {
    sink: &'s mut Sink<'a>,
}

#[derive(Deserialize)]
struct ColumnDef {
    name: String,
}

impl<'de> DeserializeSeed<'de> for Table<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Table<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a table with columns and rows")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut name = String::from("(unnamed)");
        let mut columns: Option<(Vec<String>, TableKind)> = None;
        // Rows that came before the columns (never seen from the API, but JSON allows it).
        let mut early_rows: Vec<Vec<Value>> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "name" => name = map.next_value()?,
                "columns" => {
                    let defs: Vec<ColumnDef> = map.next_value()?;
                    let names: Vec<String> = defs.into_iter().map(|c| c.name).collect();
                    columns = Some(
                        self.table_columns(&name, names)
                            .map_err(de::Error::custom)?,
                    );
                }
                "rows" => match &columns {
                    Some((names, kind)) => map.next_value_seed(Rows {
                        sink: &mut *self.sink,
                        columns: names,
                        kind: *kind,
                    })?,
                    None => early_rows = map.next_value()?,
                },
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !early_rows.is_empty() {
            let Some((names, kind)) = &columns else {
                self.sink
                    .abandon("", format!("table {name}: rows without columns"));
                return Err(de::Error::custom(ABANDONED));
            };
            for (i, row) in early_rows.iter().enumerate() {
                self.sink
                    .table_row(names, *kind, row, Locator::Row(i as u64));
            }
        }
        Ok(())
    }
}

impl Table<'_, '_> {
    /// The table's columns and kind, or give up on the input when they hold no Windows events.
    fn table_columns(
        &mut self,
        name: &str,
        names: Vec<String>,
    ) -> Result<(Vec<String>, TableKind), &'static str> {
        match sentinel::table_kind(names.iter().map(String::as_str)) {
            Some(kind) => {
                self.sink.set_flavour(Flavour::Sentinel(kind));
                Ok((names, kind))
            }
            None => {
                self.sink.abandon(
                    "",
                    format!(
                        "table {name}: columns ({}) are not those of Event, SecurityEvent or WindowsEvent",
                        names.join(", ")
                    ),
                );
                Err(ABANDONED)
            }
        }
    }
}

/// An API table's `rows`, each an array of values in column order, streamed one at a time.
struct Rows<'s, 'a, 'c> {
    sink: &'s mut Sink<'a>,
    columns: &'c [String],
    kind: TableKind,
}

impl<'de> DeserializeSeed<'de> for Rows<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Rows<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of rows")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut row = 0u64;
        while let Some(values) = seq.next_element::<Vec<Value>>()? {
            self.sink
                .table_row(self.columns, self.kind, &values, Locator::Row(row));
            row += 1;
        }
        Ok(())
    }
}
