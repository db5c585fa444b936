//! The evtx crate's JSON shape (also what `evtx_dump -o json/jsonl` writes) mapped to [`Event`].
//!
//! Shared by the binary EVTX reader, which renders only the records it wants, and by the JSON
//! reader for evtx_dump exports. All knowledge of that JSON layout (`#attributes`,
//! `*_attributes` with `separate_json_attributes`, `EventID` as a number or as
//! `{"#text": …}`, `UserData` wrappers) lives here.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::times;
use crate::event::{Event, Locator, Origin, UserRef};

/// Why a JSON record could not become an [`Event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapError {
    /// No `Event.System` object.
    NoSystem,
    /// No usable `EventID`.
    NoEventId,
    /// No or unparseable `TimeCreated/@SystemTime`.
    BadTime(String),
}

impl std::fmt::Display for MapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MapError::NoSystem => write!(f, "no Event.System object"),
            MapError::NoEventId => write!(f, "no usable EventID"),
            MapError::BadTime(t) => write!(f, "unreadable TimeCreated {t:?}"),
        }
    }
}

/// True when `value` looks like an evtx-crate record (`{"Event": {"System": …}}`).
pub fn looks_like(value: &Value) -> bool {
    value
        .get("Event")
        .and_then(|e| e.get("System"))
        .is_some_and(Value::is_object)
}

/// Map one evtx-crate JSON record to an [`Event`].
///
/// `fallback_record_id` and `fallback_time` are the record header's values, used when the
/// rendered `System` block lacks them (binary EVTX always has the header).
pub fn to_event(
    value: &Value,
    file: &Arc<str>,
    locator: Option<Locator>,
    fallback_time: Option<Timestamp>,
) -> Result<Event, MapError> {
    let event = value.get("Event").unwrap_or(value);
    let system = event
        .get("System")
        .and_then(Value::as_object)
        .ok_or(MapError::NoSystem)?;

    let event_id = event_id(system).ok_or(MapError::NoEventId)?;
    let (time, time_as_logged) = match attribute(system, "TimeCreated", "SystemTime") {
        Some(Value::String(s)) => {
            times::system_time(s).ok_or_else(|| MapError::BadTime(s.clone()))?
        }
        Some(other) => return Err(MapError::BadTime(other.to_string())),
        None => (
            fallback_time.ok_or_else(|| MapError::BadTime("missing".into()))?,
            None,
        ),
    };
    let record_id = system.get("EventRecordID").and_then(as_u64);
    let provider = attribute(system, "Provider", "Name")
        .or_else(|| attribute(system, "Provider", "EventSourceName"))
        .map(scalar_text)
        .unwrap_or_default();
    let channel = system.get("Channel").map(scalar_text).unwrap_or_default();
    let computer = system.get("Computer").map(scalar_text).unwrap_or_default();
    let sid = attribute(system, "Security", "UserID")
        .map(scalar_text)
        .filter(|s| !s.is_empty());

    let mut data = Vec::new();
    if let Some(ed) = event.get("EventData") {
        flatten_data(ed, &mut data);
    }
    if let Some(Value::Object(ud)) = event.get("UserData") {
        // UserData wraps the fields in one provider-specific element.
        for (_, inner) in ud.iter().filter(|(k, _)| !k.ends_with("attributes")) {
            flatten_data(inner, &mut data);
        }
    }

    let locator = locator.unwrap_or(Locator::Record(record_id.unwrap_or(0)));
    let mut ev = Event {
        time,
        time_as_logged,
        computer,
        channel,
        provider,
        event_id,
        record_id,
        user: UserRef { sid, name: None },
        data,
        origin: Origin {
            file: file.clone(),
            locator,
        },
        table: None,
        source_identity: None,
    };
    ev.fill_user_from_subject();
    Ok(ev)
}

/// `EventID` as `7045`, `"7045"`, `{"#text": 7045, …}`.
fn event_id(system: &Map<String, Value>) -> Option<u32> {
    let v = system.get("EventID")?;
    let v = match v {
        Value::Object(o) => o.get("#text")?,
        v => v,
    };
    as_u64(v).and_then(|n| u32::try_from(n).ok())
}

/// The attribute `attr` of element `elem`, in either attribute layout.
fn attribute<'a>(system: &'a Map<String, Value>, elem: &str, attr: &str) -> Option<&'a Value> {
    if let Some(v) = system
        .get(elem)
        .and_then(|e| e.get("#attributes"))
        .and_then(|a| a.get(attr))
    {
        return Some(v);
    }
    system
        .get(&format!("{elem}_attributes"))
        .and_then(|a| a.get(attr))
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A JSON value as the text Windows would show.
pub fn scalar_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => items.iter().map(scalar_text).collect::<Vec<_>>().join(", "),
        Value::Object(o) => o.get("#text").map(scalar_text).unwrap_or_default(),
    }
}

/// Flatten an `EventData` object into (name, value) pairs. Unnamed `<Data>` elements (rendered
/// as `"Data": […]` or `"Data": {"#text": …}`) become `param1`, `param2`, … as Windows numbers
/// them for message strings.
fn flatten_data(ed: &Value, out: &mut Vec<(String, String)>) {
    let Value::Object(map) = ed else {
        return;
    };
    for (k, v) in map {
        if k == "#attributes" || k.ends_with("_attributes") {
            continue;
        }
        if k == "Data" {
            let texts: Vec<&Value> = match v {
                Value::Array(items) => items.iter().collect(),
                Value::Object(o) => match o.get("#text") {
                    Some(Value::Array(items)) => items.iter().collect(),
                    Some(t) => vec![t],
                    None => vec![],
                },
                other => vec![other],
            };
            for (i, t) in texts.into_iter().enumerate() {
                out.push((format!("param{}", i + 1), scalar_text(t)));
            }
            continue;
        }
        out.push((k.clone(), scalar_text(v)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file() -> Arc<str> {
        "t.json".into()
    }

    #[test]
    fn system_7045_with_qualifiers() {
        let v = json!({"Event":{"#attributes":{"xmlns":"x"},
            "System":{"Provider":{"#attributes":{"Name":"Service Control Manager"}},
                "EventID":{"#attributes":{"Qualifiers":16384},"#text":7045},
                "TimeCreated":{"#attributes":{"SystemTime":"2021-04-21T09:27:56.0820000Z"}},
                "EventRecordID":45,"Channel":"System","Computer":"jump01.offsec.lan",
                "Security":{"#attributes":{"UserID":"S-1-5-21-1-2-3-1111"}}},
            "EventData":{"ServiceName":"PSEXESVC","ImagePath":"%SystemRoot%\\PSEXESVC.exe",
                "ServiceType":"user mode service","StartType":"demand start","AccountName":"LocalSystem"}}});
        let e = to_event(&v, &file(), None, None).unwrap();
        assert_eq!(e.event_id, 7045);
        assert_eq!(e.record_id, Some(45));
        assert_eq!(e.provider, "Service Control Manager");
        assert_eq!(e.user.sid.as_deref(), Some("S-1-5-21-1-2-3-1111"));
        assert_eq!(e.field("ServiceName"), Some("PSEXESVC"));
        assert_eq!(e.time.to_string(), "2021-04-21T09:27:56.082Z");
        assert_eq!(e.origin.locator, Locator::Record(45));
    }

    #[test]
    fn security_separate_attributes_and_subject() {
        let v = json!({"Event":{"System":{"Provider_attributes":{"Name":"Microsoft-Windows-Security-Auditing"},
            "EventID":4697,"TimeCreated_attributes":{"SystemTime":"2021-12-13T12:55:45.1Z"},
            "EventRecordID":"7","Channel":"Security","Computer":"rootdc1","Security":null},
            "EventData":{"SubjectUserSid":"S-1-5-21-9","SubjectUserName":"admmig","SubjectDomainName":"OFFSEC",
            "ServiceName":"BTOBTO"}}});
        let e = to_event(&v, &file(), Some(Locator::Line(3)), None).unwrap();
        assert_eq!(e.event_id, 4697);
        assert_eq!(e.record_id, Some(7));
        assert_eq!(e.user.name.as_deref(), Some("OFFSEC\\admmig"));
        assert_eq!(e.origin.locator, Locator::Line(3));
    }

    #[test]
    fn unnamed_data_becomes_params() {
        let v = json!({"Event":{"System":{"EventID":7036,"TimeCreated":{"#attributes":{"SystemTime":"2012-04-05T17:03:51Z"}}},
            "EventData":{"Data":{"#text":["PsExec","running"]}}}});
        let e = to_event(&v, &file(), None, None).unwrap();
        assert_eq!(e.field("param1"), Some("PsExec"));
        assert_eq!(e.field("param2"), Some("running"));
    }

    #[test]
    fn missing_pieces_are_errors() {
        assert_eq!(
            to_event(&json!({"x":1}), &file(), None, None).unwrap_err(),
            MapError::NoSystem
        );
        let v = json!({"Event":{"System":{"EventID":"abc"}}});
        assert_eq!(
            to_event(&v, &file(), None, None).unwrap_err(),
            MapError::NoEventId
        );
        let v = json!({"Event":{"System":{"EventID":1,"TimeCreated":{"#attributes":{"SystemTime":"yesterday"}}}}});
        assert!(matches!(
            to_event(&v, &file(), None, None),
            Err(MapError::BadTime(_))
        ));
    }
}
