//! Rows of Log Analytics tables as the containers deliver them (API values, CLI objects, CSV
//! text), looked up by column name, and the table they belong to told apart by their columns.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::read::evtx_json::scalar_text;

/// Which table a row comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TableKind {
    /// `Event`.
    Event,
    /// `SecurityEvent`.
    SecurityEvent,
    /// `WindowsEvent`.
    WindowsEvent,
}

impl TableKind {
    pub(super) fn from_type(name: &str) -> Option<Self> {
        match name.trim() {
            "Event" => Some(TableKind::Event),
            "SecurityEvent" => Some(TableKind::SecurityEvent),
            "WindowsEvent" => Some(TableKind::WindowsEvent),
            _ => None,
        }
    }
}

/// Tell the table apart by its columns (a row's `Type` value, when present, overrides this).
pub(crate) fn table_kind<'a>(columns: impl IntoIterator<Item = &'a str>) -> Option<TableKind> {
    let columns: Vec<&str> = columns.into_iter().collect();
    let has = |c: &str| columns.contains(&c);
    if !has("EventID") || !has("TimeGenerated") {
        return None;
    }
    if has("Provider") && has("Channel") && has("EventData") {
        Some(TableKind::WindowsEvent)
    } else if has("Account") || has("Activity") || has("SubjectUserSid") {
        Some(TableKind::SecurityEvent)
    } else if has("EventData") && has("Source") {
        Some(TableKind::Event)
    } else {
        None
    }
}

/// A column name as exported, without the portal's unit suffix (`TimeGenerated [UTC]`).
pub(crate) fn column_name(header: &str) -> &str {
    let header = header.trim_start_matches('\u{feff}').trim();
    match header.find(" [") {
        Some(at) if header.ends_with(']') => &header[..at],
        _ => header,
    }
}

/// One cell: text from CSV, or a JSON value from the API and the CLI.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    /// A CSV field.
    Text(&'a str),
    /// A JSON value (string, number, null, or a `dynamic` object).
    Json(&'a Value),
}

impl<'a> Cell<'a> {
    pub(super) fn text(self) -> Cow<'a, str> {
        match self {
            Cell::Text(s) => Cow::Borrowed(s),
            Cell::Json(Value::String(s)) => Cow::Borrowed(s),
            Cell::Json(Value::Object(o)) => Cow::Owned(Value::Object(o.clone()).to_string()),
            Cell::Json(v) => Cow::Owned(scalar_text(v)),
        }
    }

    /// The text, or `None` for an empty cell (Log Analytics has no other notion of absent).
    pub(super) fn nonempty(self) -> Option<Cow<'a, str>> {
        Some(self.text()).filter(|t| !t.trim().is_empty())
    }
}

/// One row: its cells by column name, in column order.
#[derive(Debug, Default)]
pub(crate) struct Row<'a> {
    pub(super) cells: Vec<(&'a str, Cell<'a>)>,
}

impl<'a> Row<'a> {
    /// A row of the CLI's array of objects.
    pub(crate) fn from_object(map: &'a Map<String, Value>) -> Self {
        Row {
            cells: map
                .iter()
                .map(|(k, v)| (k.as_str(), Cell::Json(v)))
                .collect(),
        }
    }

    /// A row of an API table: values in the order of `columns`.
    pub(crate) fn from_values(columns: &'a [String], values: &'a [Value]) -> Self {
        Row {
            cells: columns
                .iter()
                .map(String::as_str)
                .zip(values.iter().map(Cell::Json))
                .collect(),
        }
    }

    /// A CSV record under its (already normalised) header.
    pub(crate) fn from_texts(columns: &'a [String], values: impl Iterator<Item = &'a str>) -> Self {
        Row {
            cells: columns
                .iter()
                .map(String::as_str)
                .zip(values.map(Cell::Text))
                .collect(),
        }
    }

    pub(super) fn get(&self, column: &str) -> Option<Cell<'a>> {
        self.cells
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, v)| *v)
    }

    pub(super) fn text(&self, column: &str) -> Option<Cow<'a, str>> {
        self.get(column).and_then(Cell::nonempty)
    }
}
