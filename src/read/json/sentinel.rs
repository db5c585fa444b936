//! Rows of the Microsoft Sentinel / Log Analytics tables that hold Windows events, whatever
//! container they came in (the query API's `tables`, `az monitor log-analytics query`'s array
//! of objects, the portal's CSV export):
//!
//! - `Event` (legacy agent, System and other logs): `EventLog`, `Source`, `UserName` (already
//!   resolved), and the data as an XML string in `EventData`;
//! - `SecurityEvent` (Security log): the data flattened into columns named like the Windows
//!   fields (`SubjectUserSid`, `ServiceName`, …), leftovers in an XML `EventData`;
//! - `WindowsEvent` (Azure Monitor Agent): `Channel`, `Provider`, `EventRecordId`, and the data
//!   as a JSON object (or a JSON string of one) in `EventData`.
//!
//! Every row also keeps its table and, where the seed query reads the row, the text of the
//! columns it reads exactly as exported ([`TableRow`]): `--semantics kql` works on those, not
//! on the normalised fields.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::{Map, Value};

pub(crate) use super::table_row::{Row, TableKind, column_name, table_kind};

use super::normalise_channel;
use super::problems::RecordError;
use super::sentinel_xml::data_fields;
use super::table_row::Cell;
use crate::event::{AgentTable, Event, Locator, Origin, TableRow, UserRef, channel};
use crate::read::evtx_json::scalar_text;
use crate::read::times::parse_utc;

/// Map one row; `kind` is the table its container's columns say, unless the row's `Type` does.
pub(crate) fn to_event(
    row: &Row<'_>,
    kind: TableKind,
    file: &Arc<str>,
    locator: Locator,
) -> Result<Event, RecordError> {
    let kind = row
        .text("Type")
        .and_then(|t| TableKind::from_type(&t))
        .unwrap_or(kind);
    let event_id = row
        .text("EventID")
        .and_then(|t| t.trim().parse::<u32>().ok())
        .ok_or_else(|| RecordError::new("no event id", "no numeric EventID"))?;
    let (time, time_as_logged) = row_time(row, kind)?;
    let mut event = Event {
        time,
        time_as_logged,
        computer: row.text("Computer").unwrap_or_default().into_owned(),
        channel: String::new(),
        provider: String::new(),
        event_id,
        record_id: None,
        user: UserRef::default(),
        data: Vec::new(),
        origin: Origin {
            file: file.clone(),
            locator,
        },
        table: Some(Box::new(raw_row(row, kind, event_id))),
        source_identity: None,
    };
    match kind {
        TableKind::Event => fill_event(row, &mut event)?,
        TableKind::SecurityEvent => fill_security_event(row, &mut event)?,
        TableKind::WindowsEvent => fill_windows_event(row, &mut event)?,
    }
    event.fill_user_from_subject();
    Ok(event)
}

/// The row's table, and the columns the seed query reads from a row of that table and id, as
/// exported: a cell's text unchanged, an empty cell as the empty string (Log Analytics's null
/// string), a column the export lacks left out.
fn raw_row(row: &Row<'_>, kind: TableKind, event_id: u32) -> TableRow {
    let table = match kind {
        TableKind::Event => AgentTable::Event,
        TableKind::SecurityEvent => AgentTable::SecurityEvent,
        TableKind::WindowsEvent => AgentTable::WindowsEvent,
    };
    TableRow {
        table,
        columns: crate::kql::seed_columns(table, event_id)
            .iter()
            .filter_map(|&c| row.get(c).map(|cell| (c, cell.text().into_owned())))
            .collect(),
    }
}

/// `TimeGenerated` is the event's own time for the agent tables; `WindowsEvent` also has
/// `TimeCreated`, which is preferred where present.
fn row_time(
    row: &Row<'_>,
    kind: TableKind,
) -> Result<(jiff::Timestamp, Option<Box<str>>), RecordError> {
    let created = (kind == TableKind::WindowsEvent)
        .then(|| row.text("TimeCreated"))
        .flatten();
    let text = created
        .or_else(|| row.text("TimeGenerated"))
        .ok_or_else(|| RecordError::new("no time", "no TimeGenerated"))?;
    let time = parse_utc(&text)
        .ok_or_else(|| RecordError::new("no time", format!("unreadable time {text:?}")))?;
    Ok((time, crate::read::times::as_logged(&text, time)))
}

fn fill_event(row: &Row<'_>, event: &mut Event) -> Result<(), RecordError> {
    event.channel = normalise_channel(&row.text("EventLog").unwrap_or_default());
    event.provider = row.text("Source").unwrap_or_default().into_owned();
    event.user.name = row
        .text("UserName")
        .filter(|u| u.as_ref() != "N/A" && u.as_ref() != "-")
        .map(Cow::into_owned);
    if let Some(xml) = row.text("EventData") {
        event.data = xml_fields(&xml)?;
    }
    if event.data.is_empty()
        && let Some(xml) = row.text("ParameterXml")
    {
        event.data = xml_fields(&xml)?;
    }
    Ok(())
}

/// Columns of `SecurityEvent` that describe the record rather than carry one of its fields.
const SECURITY_EVENT_META: &[&str] = &[
    "TimeGenerated",
    "TimeCollected",
    "Computer",
    "EventID",
    "Activity",
    "Account",
    "AccountType",
    "SubjectAccount",
    "TargetAccount",
    "LogonTypeName",
    "Channel",
    "EventSourceName",
    "Task",
    "Level",
    "EventData",
    "EventOriginId",
    "SourceComputerId",
    "SourceSystem",
    "TenantId",
    "ManagementGroupName",
    "MG",
    "AzureDeploymentID",
    "Role",
    "Type",
    "TableName",
];

fn fill_security_event(row: &Row<'_>, event: &mut Event) -> Result<(), RecordError> {
    event.channel = normalise_channel(
        &row.text("Channel")
            .unwrap_or(Cow::Borrowed(channel::SECURITY)),
    );
    event.provider = row
        .text("EventSourceName")
        .map(Cow::into_owned)
        .unwrap_or_else(|| "Microsoft-Windows-Security-Auditing".to_string());
    event.user.name = row.text("Account").map(|a| a.trim().to_string());
    event.user.sid = row.text("SubjectUserSid").map(Cow::into_owned);
    for (column, cell) in &row.cells {
        if SECURITY_EVENT_META.contains(column) || column.starts_with('_') {
            continue;
        }
        if let Some(text) = cell.nonempty() {
            event.data.push((column.to_string(), text.into_owned()));
        }
    }
    // Fields without a column of their own (AccessList, …) survive only in the raw XML.
    if let Some(xml) = row.text("EventData") {
        for (name, value) in xml_fields(&xml)? {
            if event.field(&name).is_none() {
                event.data.push((name, value));
            }
        }
    }
    Ok(())
}

fn fill_windows_event(row: &Row<'_>, event: &mut Event) -> Result<(), RecordError> {
    event.channel = normalise_channel(&row.text("Channel").unwrap_or_default());
    event.provider = row.text("Provider").unwrap_or_default().into_owned();
    event.record_id = row
        .text("EventRecordId")
        .and_then(|t| t.trim().parse().ok());
    event.user.sid = row.text("SystemUserId").map(Cow::into_owned);
    event.data = match row.get("EventData") {
        Some(Cell::Json(Value::Object(map))) => object_fields(map),
        Some(cell) => match cell.nonempty() {
            Some(text) => dynamic_fields(&text)?,
            None => Vec::new(),
        },
        None => Vec::new(),
    };
    Ok(())
}

/// A `dynamic` column exported as text: JSON normally, XML from some older exports.
fn dynamic_fields(text: &str) -> Result<Vec<(String, String)>, RecordError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(object_fields(&map)),
        _ if text.trim_start().starts_with('<') => xml_fields(text),
        _ => Err(RecordError::new(
            "unreadable EventData",
            "EventData is neither a JSON object nor XML",
        )),
    }
}

/// A JSON `EventData` object: named fields as they are, an unnamed `Data` list as `paramN`.
fn object_fields(map: &Map<String, Value>) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for (name, value) in map {
        match (name.as_str(), value) {
            ("Data", Value::Array(items)) => fields.extend(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (format!("param{}", i + 1), scalar_text(v))),
            ),
            _ => fields.push((name.clone(), scalar_text(value))),
        }
    }
    fields
}

fn xml_fields(xml: &str) -> Result<Vec<(String, String)>, RecordError> {
    data_fields(xml)
        .map_err(|e| RecordError::new("unreadable EventData", format!("EventData XML: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file() -> Arc<str> {
        "s.json".into()
    }

    const EVENT_XML: &str = r#"<DataItem type="System.XmlData" time="2023-10-18T03:00:17.1230000+00:00" sourceHealthServiceId="00000000-0000-0000-0000-000000000000"><EventData xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><Data Name="ServiceName">PSEXESVC</Data><Data Name="ImagePath">%SystemRoot%\PSEXESVC.exe</Data><Data Name="ServiceType">user mode service</Data><Data Name="StartType">demand start</Data><Data Name="AccountName">LocalSystem</Data></EventData></DataItem>"#;

    #[test]
    fn event_table_row_from_the_cli() {
        let obj = json!({"TenantId":"t","SourceSystem":"OpsManager","TimeGenerated":"2023-10-18T03:00:17.123Z",
            "Source":"Service Control Manager","EventLog":"System","Computer":"WIN-FUDU2CKJOE8","EventLevel":"4",
            "EventID":"7045","UserName":"WIN-FUDU2CKJOE8\\admin","EventData":EVENT_XML,"Type":"Event"});
        let map = obj.as_object().unwrap();
        let kind = table_kind(map.keys().map(String::as_str)).unwrap();
        assert_eq!(kind, TableKind::Event);
        let e = to_event(&Row::from_object(map), kind, &file(), Locator::Row(3)).unwrap();
        assert_eq!(e.event_id, 7045);
        assert_eq!(e.channel, "System");
        assert_eq!(e.provider, "Service Control Manager");
        assert_eq!(e.user.name.as_deref(), Some("WIN-FUDU2CKJOE8\\admin"));
        assert_eq!(e.field("ServiceName"), Some("PSEXESVC"));
        assert_eq!(e.data.len(), 5);
        assert_eq!(e.time.to_string(), "2023-10-18T03:00:17.123Z");
    }

    #[test]
    fn security_event_columns_become_fields() {
        let columns: Vec<String> = [
            "TimeGenerated",
            "Computer",
            "EventID",
            "Activity",
            "Account",
            "SubjectUserSid",
            "SubjectUserName",
            "SubjectDomainName",
            "SubjectLogonId",
            "ServiceName",
            "ServiceFileName",
            "ServiceStartType",
            "LogonType",
            "IpAddress",
            "EventData",
            "_ResourceId",
        ]
        .map(String::from)
        .to_vec();
        let values = vec![
            json!("2021-04-21T09:40:32.363Z"),
            json!("srvdefender01.offsec.lan"),
            json!(4697),
            json!("4697 - A service was installed in the system."),
            json!("OFFSEC\\admmig"),
            json!("S-1-5-21-9-1104"),
            json!("admmig"),
            json!("OFFSEC"),
            json!("0x1376020"),
            json!("PSEXESVC"),
            json!("%SystemRoot%\\PSEXESVC.exe"),
            json!(3),
            Value::Null,
            json!(""),
            json!(
                "<EventData xmlns=\"x\"><Data Name=\"ServiceAccount\">LocalSystem</Data><Data Name=\"ServiceName\">other</Data></EventData>"
            ),
            json!("/subscriptions/x"),
        ];
        let kind = table_kind(columns.iter().map(String::as_str)).unwrap();
        assert_eq!(kind, TableKind::SecurityEvent);
        let e = to_event(
            &Row::from_values(&columns, &values),
            kind,
            &file(),
            Locator::Row(0),
        )
        .unwrap();
        assert_eq!(e.channel, "Security");
        assert_eq!(e.provider, "Microsoft-Windows-Security-Auditing");
        assert_eq!(e.user.name.as_deref(), Some("OFFSEC\\admmig"));
        assert_eq!(e.user.sid.as_deref(), Some("S-1-5-21-9-1104"));
        assert_eq!(e.field("ServiceStartType"), Some("3"));
        assert_eq!(
            e.field("ServiceName"),
            Some("PSEXESVC"),
            "columns win over the XML"
        );
        assert_eq!(e.field("ServiceAccount"), Some("LocalSystem"));
        for absent in [
            "LogonType",
            "IpAddress",
            "Activity",
            "Account",
            "_ResourceId",
            "EventData",
        ] {
            assert_eq!(e.field(absent), None, "{absent}");
        }
    }

    #[test]
    fn windows_event_with_dynamic_or_string_data() {
        let columns: Vec<String> = [
            "TimeGenerated",
            "Computer",
            "EventID",
            "Channel",
            "Provider",
            "EventRecordId",
            "EventData",
        ]
        .map(String::from)
        .to_vec();
        let object = vec![
            json!("2024-01-02T03:04:05Z"),
            json!("HOST"),
            json!(4697),
            json!("Security"),
            json!("Microsoft-Windows-Security-Auditing"),
            json!("123"),
            json!({"SubjectUserSid":"S-1-5-21-1","SubjectUserName":"bob","SubjectDomainName":"CORP","ServiceName":"evil"}),
        ];
        let kind = table_kind(columns.iter().map(String::as_str)).unwrap();
        assert_eq!(kind, TableKind::WindowsEvent);
        let e = to_event(
            &Row::from_values(&columns, &object),
            kind,
            &file(),
            Locator::Row(0),
        )
        .unwrap();
        assert_eq!(e.record_id, Some(123));
        assert_eq!(e.user.name.as_deref(), Some("CORP\\bob"));
        assert_eq!(e.field("ServiceName"), Some("evil"));
        let mut string = object.clone();
        string[6] = json!(r#"{"ServiceName":"evil","Data":["a","b"]}"#);
        let e = to_event(
            &Row::from_values(&columns, &string),
            kind,
            &file(),
            Locator::Row(0),
        )
        .unwrap();
        assert_eq!(e.field("param2"), Some("b"));
        string[6] = json!("not data");
        let err = to_event(
            &Row::from_values(&columns, &string),
            kind,
            &file(),
            Locator::Row(0),
        )
        .unwrap_err();
        assert_eq!(err.kind, "unreadable EventData");
    }

    #[test]
    fn portal_headers_and_type_override() {
        assert_eq!(column_name("\u{feff}TimeGenerated [UTC]"), "TimeGenerated");
        assert_eq!(column_name("EventID"), "EventID");
        let columns: Vec<String> = [
            "TimeGenerated",
            "Computer",
            "EventID",
            "Type",
            "Account",
            "EventLog",
            "Source",
            "EventData",
        ]
        .map(String::from)
        .to_vec();
        let kind = table_kind(columns.iter().map(String::as_str)).unwrap();
        assert_eq!(kind, TableKind::SecurityEvent);
        let texts = [
            "10/18/2023, 3:00:17.123 AM",
            "H",
            "7045",
            "Event",
            "",
            "System",
            "Service Control Manager",
            EVENT_XML,
        ];
        let e = to_event(
            &Row::from_texts(&columns, texts.into_iter()),
            kind,
            &file(),
            Locator::Line(2),
        )
        .unwrap();
        assert_eq!(e.channel, "System", "the row's Type says Event");
        assert_eq!(e.time.to_string(), "2023-10-18T03:00:17.123Z");
    }

    #[test]
    fn rows_without_id_or_time_are_errors() {
        let obj = json!({"TimeGenerated":"2023-10-18T03:00:17Z","EventID":"","Source":"S","EventData":""});
        let row = Row::from_object(obj.as_object().unwrap());
        assert_eq!(
            to_event(&row, TableKind::Event, &file(), Locator::Row(0))
                .unwrap_err()
                .kind,
            "no event id"
        );
        let obj = json!({"TimeGenerated":"later","EventID":"7045"});
        let row = Row::from_object(obj.as_object().unwrap());
        assert_eq!(
            to_event(&row, TableKind::Event, &file(), Locator::Row(0))
                .unwrap_err()
                .kind,
            "no time"
        );
    }
}
