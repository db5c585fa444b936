//! NXLog `im_msvistalog` JSON lines, as published by OTRF Security-Datasets (Mordor): one flat
//! object per event, with NXLog's own envelope (`EventTime`, `Hostname`, `SourceName`,
//! `RecordNumber`, `UserID`, …) and the event's `EventData` fields side by side at top level.
//!
//! The mapping keeps every EventData field and drops the envelope. Some names are envelope in
//! one record and data in another, so they are decided per record: `EventType` is NXLog's when
//! its value is a severity (`INFO`, `AUDIT_SUCCESS`) and Sysmon's otherwise (`SetValue`);
//! `AccountName`/`Domain`/`UserID` are the resolved header account only when the record has the
//! NXLog envelope (the `TimeCreated` variant of the datasets has none, and there `AccountName` is
//! a 7045's service account); `ProviderName` is the provider only when `SourceName` is absent (in
//! Filtering Platform events it is a data field). Records are decoded straight from the line
//! into borrowed text, skipping the big `Message` field unread.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use jiff::tz::TimeZone;
use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::normalise_channel;
use super::problems::RecordError;
use crate::event::{Event, Locator, Origin, UserRef};
use crate::read::evtx_json::scalar_text;
use crate::read::times::{as_logged, is_naive, parse_naive};

/// Envelope keys that are never an EventData name and never needed: skipped without decoding.
const IGNORED: &[&str] = &[
    "Message",
    "Keywords",
    "SeverityValue",
    "Severity",
    "ProviderGuid",
    "Version",
    "Task",
    "OpcodeValue",
    "Opcode",
    "ThreadID",
    "Category",
    "EventReceivedTime",
    "SourceModuleName",
    "SourceModuleType",
    "@timestamp",
    "@version",
    "host",
    "port",
    "tags",
    "ActivityID",
    "RelatedActivityID",
    "EventTypeOrignal",
    "ERROR_EVT_UNRESOLVED",
];

/// NXLog's `EventType` values (event levels and audit results); anything else is a data field.
const NXLOG_EVENT_TYPES: &[&str] = &[
    "INFO",
    "AUDIT_SUCCESS",
    "AUDIT_FAILURE",
    "ERROR",
    "WARNING",
    "VERBOSE",
    "CRITICAL",
];

/// True when a first record looks like NXLog output.
pub(crate) fn looks_like(map: &Map<String, Value>) -> bool {
    map.contains_key("EventID")
        && !map.contains_key("Event")
        && (map.contains_key("EventTime") || map.contains_key("TimeCreated"))
        && (map.contains_key("Hostname") || map.contains_key("SourceName"))
}

/// One flat record, keys and values as text in source order, borrowed from the line when they
/// contain no escapes.
#[derive(Debug, Default)]
pub(crate) struct FlatRecord<'a> {
    fields: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> FlatRecord<'a> {
    /// The same record from an already parsed object (an element of a JSON array).
    pub(crate) fn from_map(map: &'a Map<String, Value>) -> Self {
        let fields = map
            .iter()
            .filter(|(k, _)| !IGNORED.contains(&k.as_str()))
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => Cow::Borrowed(s.as_str()),
                    other => Cow::Owned(scalar_text(other)),
                };
                (Cow::Borrowed(k.as_str()), text)
            })
            .collect();
        FlatRecord { fields }
    }

    /// Remove and return field `key`.
    fn take(&mut self, key: &str) -> Option<Cow<'a, str>> {
        let at = self.fields.iter().position(|(k, _)| k == key)?;
        Some(self.fields.remove(at).1)
    }

    fn has(&self, key: &str) -> bool {
        self.fields.iter().any(|(k, _)| k == key)
    }
}

impl<'de> Deserialize<'de> for FlatRecord<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(FlatVisitor)
    }
}

struct FlatVisitor;

impl<'de> Visitor<'de> for FlatVisitor {
    type Value = FlatRecord<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a flat JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Vec::with_capacity(48);
        while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
            if IGNORED.contains(&key.as_ref()) {
                map.next_value::<IgnoredAny>()?;
            } else {
                let Text(value) = map.next_value::<Text<'de>>()?;
                fields.push((key, value));
            }
        }
        Ok(FlatRecord { fields })
    }
}

/// Any JSON value as the text Windows would show, borrowed when possible.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(v.to_string())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(v.to_string())))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(v.to_string())))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Text(Cow::Borrowed(if v { "true" } else { "false" })))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Text(Cow::Borrowed("")))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let v = Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Text(Cow::Owned(scalar_text(&v))))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let v = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Text(Cow::Owned(v.to_string())))
    }
}

/// Map one NXLog record. Returns whether its time was zone-less (read in `zone`).
pub(crate) fn to_event(
    mut rec: FlatRecord<'_>,
    file: &Arc<str>,
    locator: Locator,
    zone: &TimeZone,
) -> Result<(Event, bool), RecordError> {
    let event_id = rec
        .take("EventID")
        .and_then(|t| t.trim().parse::<u32>().ok())
        .ok_or_else(|| RecordError::new("no event id", "no numeric EventID"))?;
    let time_text = rec
        .take("EventTime")
        .or_else(|| rec.take("TimeCreated"))
        .ok_or_else(|| RecordError::new("no time", "no EventTime or TimeCreated"))?;
    let time = parse_naive(&time_text, zone)
        .ok_or_else(|| RecordError::new("no time", format!("unreadable time {time_text:?}")))?;
    let naive = is_naive(&time_text);

    // The TimeCreated variant of the datasets has no envelope beyond Hostname and SourceName.
    let has_envelope = has_nxlog_envelope(&rec);
    let computer = rec.take("Hostname").unwrap_or_default().into_owned();
    let channel = normalise_channel(&rec.take("Channel").unwrap_or_default());
    let provider = match rec.take("SourceName") {
        Some(p) => p.into_owned(),
        None => rec.take("ProviderName").unwrap_or_default().into_owned(),
    };
    let record_id = rec.take("RecordNumber").and_then(|t| t.trim().parse().ok());
    let user = if has_envelope {
        take_header_user(&mut rec)
    } else {
        UserRef::default()
    };
    drop_conditional_envelope(&mut rec, has_envelope);

    let data = rec
        .fields
        .into_iter()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut event = Event {
        time,
        time_as_logged: as_logged(&time_text, time),
        computer,
        channel,
        provider,
        event_id,
        record_id,
        user,
        data,
        origin: Origin {
            file: file.clone(),
            locator,
        },
        table: None,
        source_identity: None,
    };
    event.fill_user_from_subject();
    Ok((event, naive))
}

/// NXLog's resolution of `System/Security/@UserID`: the SID and `Domain\AccountName`.
fn take_header_user(rec: &mut FlatRecord<'_>) -> UserRef {
    let sid = rec
        .take("UserID")
        .map(Cow::into_owned)
        .filter(|s| !s.is_empty());
    let domain = rec.take("Domain");
    let account = rec.take("AccountName");
    rec.take("AccountType");
    UserRef {
        sid,
        name: UserRef::join_name(domain.as_deref(), account.as_deref()),
    }
}

/// True when the record carries NXLog's envelope (it always writes `RecordNumber` and
/// `EventTime`), as opposed to the datasets' `TimeCreated` export, which has none.
fn has_nxlog_envelope(rec: &FlatRecord<'_>) -> bool {
    rec.has("RecordNumber") || rec.has("UserID")
}

/// Drop the envelope keys whose meaning depends on their value or on the rest of the record.
fn drop_conditional_envelope(rec: &mut FlatRecord<'_>, has_envelope: bool) {
    // Mordor renames NXLog's ProcessID to ExecutionProcessID so that an EventData ProcessID
    // (5156, 4688) survives; stock NXLog does not, and there ProcessID is the envelope's.
    let renamed_pid = rec.take("ExecutionProcessID").is_some();
    if has_envelope && !renamed_pid {
        rec.take("ProcessID");
    }
    rec.fields
        .retain(|(k, v)| !(k == "EventType" && NXLOG_EVENT_TYPES.contains(&v.as_ref())));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> Arc<str> {
        "n.json".into()
    }

    fn map(line: &str) -> Event {
        let rec: FlatRecord = serde_json::from_str(line).unwrap();
        to_event(rec, &file(), Locator::Line(1), &TimeZone::UTC)
            .unwrap()
            .0
    }

    // Shortened from empire_psexec_dcerpc_tcp_svcctl (OTRF Security-Datasets).
    const SYSTEM_7045: &str = r#"{"Keywords":-9187343239835811840,"SeverityValue":2,"EventReceivedTime":"2020-09-20 12:16:58","EventID":7045,"ProviderGuid":"{555908D1-A6D7-4695-8E1E-26931D2012F4}","ExecutionProcessID":704,"Channel":"System","host":"wec.internal.cloudapp.net","AccountType":"User","UserID":"S-1-5-21-4228717743-1032521047-1810997296-1104","ServiceName":"Updater","ThreadID":10092,"EventType":"INFO","EventTime":"2020-09-20 12:16:56","Message":"A service was installed in the system.\r\n\r\nService Name:  Updater","ServiceType":"user mode service","@timestamp":"2020-09-20T16:16:58.233Z","SourceModuleType":"im_msvistalog","port":64545,"AccountName":"pgustavo","RecordNumber":1075,"Task":0,"Domain":"THESHIRE","@version":"1","OpcodeValue":0,"ImagePath":"%COMSPEC% /C start /b powershell -enc SQBmAA==","StartType":"demand start","SourceModuleName":"eventlog","Severity":"INFO","SourceName":"Service Control Manager","Version":0,"tags":["mordorDataset"],"Hostname":"WORKSTATION6.theshire.local"}"#;

    #[test]
    fn system_7045_keeps_data_and_drops_envelope() {
        let e = map(SYSTEM_7045);
        assert_eq!(e.event_id, 7045);
        assert_eq!(e.time.to_string(), "2020-09-20T12:16:56Z");
        assert_eq!(e.computer, "WORKSTATION6.theshire.local");
        assert_eq!(e.channel, "System");
        assert_eq!(e.provider, "Service Control Manager");
        assert_eq!(e.record_id, Some(1075));
        assert_eq!(
            e.user.sid.as_deref(),
            Some("S-1-5-21-4228717743-1032521047-1810997296-1104")
        );
        assert_eq!(e.user.name.as_deref(), Some("THESHIRE\\pgustavo"));
        let names: Vec<&str> = e.data.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            ["ServiceName", "ServiceType", "ImagePath", "StartType"]
        );
    }

    #[test]
    fn lowercase_security_channel_and_subject_user() {
        let e = map(
            r#"{"SubjectDomainName":"THESHIRE","EventID":4674,"Channel":"security","SubjectUserSid":"S-1-5-21-1-2-3-1104","ObjectType":"SERVICE OBJECT","EventType":"AUDIT_SUCCESS","EventTime":"2020-09-20 12:16:56","ObjectServer":"SC Manager","SubjectLogonId":"0x2990d17","AccessMask":"%%1537\r\n\t\t\t\t%%1538\r\n\t\t\t\t","RecordNumber":717713,"SubjectUserName":"pgustavo","ObjectName":"Updater","SourceName":"Microsoft-Windows-Security-Auditing","Hostname":"WORKSTATION6.theshire.local"}"#,
        );
        assert_eq!(e.channel, "Security");
        assert_eq!(e.user.name.as_deref(), Some("THESHIRE\\pgustavo"));
        assert_eq!(e.user.sid.as_deref(), Some("S-1-5-21-1-2-3-1104"));
        assert_eq!(
            e.field("AccessMask"),
            Some("%%1537\r\n\t\t\t\t%%1538\r\n\t\t\t\t")
        );
        assert_eq!(e.field("EventType"), None);
    }

    #[test]
    fn sysmon_event_type_is_data() {
        let e = map(
            r#"{"EventID":12,"EventType":"DeleteKey","EventTypeOrignal":"INFO","Channel":"Microsoft-Windows-Sysmon/Operational","EventTime":"2020-10-19 03:30:47","TargetObject":"HKLM\\System\\CurrentControlSet\\Services\\PSEXESVC","SourceName":"Microsoft-Windows-Sysmon","Hostname":"WORKSTATION5"}"#,
        );
        assert_eq!(e.field("EventType"), Some("DeleteKey"));
        assert_eq!(e.field("EventTypeOrignal"), None);
    }

    #[test]
    fn time_created_variant_without_envelope_keeps_account_name() {
        let e = map(
            r#"{"SourceName":"Service Control Manager","TimeCreated":"2020-10-19 03:30:46.416","Hostname":"WORKSTATION5","Task":"0","Channel":"System","ServiceName":"PSEXESVC","AccountName":"LocalSystem","EventID":7045}"#,
        );
        assert_eq!(e.time.to_string(), "2020-10-19T03:30:46.416Z");
        assert_eq!(e.record_id, None);
        assert_eq!(e.field("AccountName"), Some("LocalSystem"));
        assert!(e.user.is_empty());
    }

    #[test]
    fn provider_name_is_data_when_source_name_is_given() {
        let e = map(
            r#"{"EventID":5447,"EventTime":"2020-09-04 03:06:08","SourceName":"Microsoft-Windows-Security-Auditing","ProviderName":"Microsoft Corporation","Hostname":"H"}"#,
        );
        assert_eq!(e.provider, "Microsoft-Windows-Security-Auditing");
        assert_eq!(e.field("ProviderName"), Some("Microsoft Corporation"));
    }

    #[test]
    fn local_times_are_read_in_the_given_zone() {
        let rec: FlatRecord = serde_json::from_str(SYSTEM_7045).unwrap();
        let zone = TimeZone::get("America/New_York").unwrap();
        let (e, naive) = to_event(rec, &file(), Locator::Line(1), &zone).unwrap();
        assert!(naive);
        assert_eq!(e.time.to_string(), "2020-09-20T16:16:56Z");
    }

    #[test]
    fn missing_id_or_time_is_an_error() {
        let rec: FlatRecord =
            serde_json::from_str(r#"{"EventTime":"2020-09-20 12:16:56"}"#).unwrap();
        let err = to_event(rec, &file(), Locator::Line(1), &TimeZone::UTC).unwrap_err();
        assert_eq!(err.kind, "no event id");
        let rec: FlatRecord = serde_json::from_str(r#"{"EventID":1,"EventTime":"noon"}"#).unwrap();
        let err = to_event(rec, &file(), Locator::Line(1), &TimeZone::UTC).unwrap_err();
        assert_eq!(err.kind, "no time");
    }

    #[test]
    fn from_map_matches_the_line_decoder() {
        let v: Value = serde_json::from_str(SYSTEM_7045).unwrap();
        let rec = FlatRecord::from_map(v.as_object().unwrap());
        let e = to_event(rec, &file(), Locator::Row(0), &TimeZone::UTC)
            .unwrap()
            .0;
        assert_eq!(e.user.name.as_deref(), Some("THESHIRE\\pgustavo"));
        assert_eq!(e.field("ImagePath"), map(SYSTEM_7045).field("ImagePath"));
    }
}
