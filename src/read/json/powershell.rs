//! PowerShell's `Get-WinEvent … | ConvertTo-Json` (an array of `EventLogRecord` objects, or one
//! object): `Id`, `TimeCreated` (Windows PowerShell 5 writes `"\/Date(1715000000123)\/"`,
//! milliseconds since 1970 in UTC; PowerShell 7 an ISO 8601 time with offset), `MachineName`,
//! `LogName`, `ProviderName`, `RecordId`, `UserId` (a SID object, or its text when
//! `-Depth` cut it), and the data as `Properties`: values without names, named here by each
//! event's documented field order ([`crate::read::windows_fields`]). Numbers come as plain
//! numbers and are rendered as Windows renders them (logon ids in hex).

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::normalise_channel;
use super::problems::RecordError;
use crate::event::{Event, Locator, Origin, UserRef};
use crate::read::evtx_json::scalar_text;
use crate::read::times::parse_utc;
use crate::read::windows_fields::{FieldType, name_values, render_number};

/// True when a first record looks like a serialised `EventLogRecord`.
pub(crate) fn looks_like(map: &Map<String, Value>) -> bool {
    map.contains_key("Id")
        && map.contains_key("TimeCreated")
        && (map.contains_key("Properties") || map.contains_key("MachineName"))
        && (map.contains_key("ProviderName") || map.contains_key("LogName"))
}

/// Map one `EventLogRecord` object.
pub(crate) fn to_event(
    map: &Map<String, Value>,
    file: &Arc<str>,
    locator: Locator,
) -> Result<Event, RecordError> {
    let event_id = map
        .get("Id")
        .and_then(as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| RecordError::new("no event id", "no numeric Id"))?;
    let time_value = map
        .get("TimeCreated")
        .ok_or_else(|| RecordError::new("no time", "no TimeCreated"))?;
    let time = time_created(time_value).ok_or_else(|| {
        RecordError::new("no time", format!("unreadable TimeCreated {time_value}"))
    })?;
    let text = |k: &str| map.get(k).map(scalar_text).unwrap_or_default();
    let provider = text("ProviderName");
    let values = match map.get("Properties") {
        Some(Value::Array(items)) => items.as_slice(),
        _ => &[],
    };
    let data = name_values(&provider, event_id, values, |v, ty| {
        // Each property is `{"Value": …}`; a bare value is taken as it is.
        let v = match v {
            Value::Object(o) if o.contains_key("Value") => &o["Value"],
            other => other,
        };
        render(v, ty)
    });
    let sid = match map.get("UserId") {
        Some(Value::Object(o)) => o.get("Value").map(scalar_text),
        Some(v) => Some(scalar_text(v)),
        None => None,
    }
    .filter(|s| !s.is_empty());
    let mut event = Event {
        time,
        time_as_logged: time_value
            .as_str()
            .and_then(|text| crate::read::times::as_logged(text, time)),
        computer: text("MachineName"),
        channel: normalise_channel(&text("LogName")),
        provider,
        event_id,
        record_id: map.get("RecordId").and_then(as_u64),
        user: UserRef { sid, name: None },
        data,
        origin: Origin {
            file: file.clone(),
            locator,
        },
        table: None,
        source_identity: None,
    };
    event.fill_user_from_subject();
    Ok(event)
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// One property value as Windows would render it.
fn render(v: &Value, ty: FieldType) -> String {
    match v {
        Value::Number(n) => match n.as_u64() {
            Some(u) => render_number(u, ty),
            None => n.to_string(),
        },
        // A SID or GUID object cut to its fields, or kept whole.
        Value::Object(o) => o
            .get("Value")
            .map(scalar_text)
            .unwrap_or_else(|| v.to_string()),
        // A byte array: the upper-case hex Windows shows for binary data.
        Value::Array(items) if items.iter().all(|i| i.as_u64().is_some_and(|b| b < 256)) => items
            .iter()
            .filter_map(Value::as_u64)
            .map(|b| format!("{b:02X}"))
            .collect(),
        other => scalar_text(other),
    }
}

/// `"/Date(1715000000123)/"` (optionally with an offset after the milliseconds, which does not
/// change them: they are UTC) or an ISO 8601 time.
fn time_created(v: &Value) -> Option<Timestamp> {
    let text = v.as_str()?.trim();
    if let Some(inner) = text
        .strip_prefix("/Date(")
        .and_then(|t| t.strip_suffix(")/"))
    {
        let digits_end = inner
            .char_indices()
            .skip(1)
            .find(|(_, c)| !c.is_ascii_digit())
            .map_or(inner.len(), |(i, _)| i);
        let ms: i64 = inner[..digits_end].parse().ok()?;
        return Timestamp::from_millisecond(ms).ok();
    }
    parse_utc(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn windows_powershell_5_object() {
        let v = json!({"Message":"A service was installed in the system.","Id":4697,"Version":0,
            "RecordId":4242,"ProviderName":"Microsoft-Windows-Security-Auditing","LogName":"Security",
            "MachineName":"WKS-0001.corp.example","UserId":null,"TimeCreated":"/Date(1714989600123)/",
            "Properties":[{"Value":{"BinaryLength":28,"AccountDomainSid":null,"Value":"S-1-5-21-1-2-3-1104"}},
              {"Value":"admin"},{"Value":"CORP"},{"Value":20406304},{"Value":"PSEXESVC"},
              {"Value":"%SystemRoot%\\PSEXESVC.exe"},{"Value":16},{"Value":3},{"Value":"LocalSystem"}]});
        let map = v.as_object().unwrap();
        assert!(looks_like(map));
        let e = to_event(map, &"p.json".into(), Locator::Row(0)).unwrap();
        assert_eq!(e.time.to_string(), "2024-05-06T10:00:00.123Z");
        assert_eq!(e.record_id, Some(4242));
        assert_eq!(e.field("SubjectLogonId"), Some("0x1376020"));
        assert_eq!(e.field("ServiceType"), Some("0x10"));
        assert_eq!(e.field("ServiceStartType"), Some("3"));
        assert_eq!(e.user.sid.as_deref(), Some("S-1-5-21-1-2-3-1104"));
        assert_eq!(e.user.name.as_deref(), Some("CORP\\admin"));
    }

    #[test]
    fn powershell_7_times_and_sid_text() {
        let v = json!({"Id":7045,"ProviderName":"Service Control Manager","LogName":"System",
            "MachineName":"H","UserId":"S-1-5-18","TimeCreated":"2024-05-06T12:00:00.1234567+02:00",
            "Properties":[{"Value":"X"},{"Value":"x.exe"},{"Value":"user mode service"},{"Value":"demand start"},{"Value":"LocalSystem"},{"Value":"extra"}]});
        let e = to_event(v.as_object().unwrap(), &"p.json".into(), Locator::Row(1)).unwrap();
        assert_eq!(e.time.to_string(), "2024-05-06T10:00:00.1234567Z");
        assert_eq!(e.user.sid.as_deref(), Some("S-1-5-18"));
        assert_eq!(e.field("AccountName"), Some("LocalSystem"));
        assert_eq!(e.field("param6"), Some("extra"));
        assert_eq!(
            time_created(&json!("/Date(1714989600123+0200)/"))
                .unwrap()
                .to_string(),
            "2024-05-06T10:00:00.123Z"
        );
    }
}
