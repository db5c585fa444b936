//! Elastic Winlogbeat / ECS documents (NDJSON from an Elasticsearch export or Winlogbeat's file
//! output, the `_source` of a `_search` response): the event under `winlog.*` and `@timestamp`
//! (Winlogbeat 7 and later), or at the top level (`event_id`, `computer_name`, `log_name`,
//! `source_name`, `record_number`, `event_data`, `user.identifier`: Winlogbeat 6), with fields
//! either as nested objects (`{"winlog":{"event_id":"7045"}}`) or as dotted keys
//! (`{"winlog.event_id":"7045"}`), as different exporters write them.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::normalise_channel;
use super::problems::RecordError;
use crate::event::{Event, Locator, Origin, UserRef};
use crate::read::evtx_json::scalar_text;
use crate::read::times::{as_logged, parse_utc};

/// Keys the event-id prefilter looks for in Winlogbeat lines.
pub(crate) const EVENT_ID_KEYS: &[&str] = &["event_id", "winlog.event_id"];

/// True when a first record looks like a Winlogbeat/ECS document.
pub(crate) fn looks_like(map: &Map<String, Value>) -> bool {
    map.contains_key("winlog")
        || map.keys().any(|k| k.starts_with("winlog."))
        // Winlogbeat 6: the Windows fields at the top level.
        || (map.contains_key("event_id")
            && map.contains_key("computer_name")
            && (map.contains_key("log_name") || map.contains_key("source_name")))
}

/// The value at a dotted `path`, whether the document nests it, spells it as one dotted key, or
/// mixes the two (`{"winlog": {"event_data.ServiceName": …}}`).
pub(crate) fn get_path<'a>(map: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = map.get(path) {
        return Some(v);
    }
    path.match_indices('.').find_map(|(dot, _)| {
        let inner = map.get(&path[..dot])?.as_object()?;
        get_path(inner, &path[dot + 1..])
    })
}

fn text_at(map: &Map<String, Value>, path: &str) -> Option<String> {
    get_path(map, path)
        .map(scalar_text)
        .filter(|s| !s.is_empty())
}

/// The first of `paths` that holds text (Winlogbeat 7+'s name first, then 6's).
fn first_text(map: &Map<String, Value>, paths: &[&str]) -> Option<String> {
    paths.iter().find_map(|p| text_at(map, p))
}

fn number_at(map: &Map<String, Value>, path: &str) -> Option<u64> {
    match get_path(map, path)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Map one Winlogbeat document.
pub(crate) fn to_event(
    doc: &Value,
    file: &Arc<str>,
    locator: Locator,
) -> Result<Event, RecordError> {
    let map = doc
        .as_object()
        .ok_or_else(|| RecordError::new("unrecognised record", "not a JSON object"))?;
    let event_id = number_at(map, "winlog.event_id")
        .or_else(|| number_at(map, "event.code"))
        .or_else(|| number_at(map, "event_id"))
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            RecordError::new("no event id", "no numeric winlog.event_id or event.code")
        })?;
    let time_text =
        text_at(map, "@timestamp").ok_or_else(|| RecordError::new("no time", "no @timestamp"))?;
    let time = parse_utc(&time_text).ok_or_else(|| {
        RecordError::new("no time", format!("unreadable @timestamp {time_text:?}"))
    })?;

    // Winlogbeat 6 has `user.*` at the top level; in ECS `user.*` is another thing.
    let user_at = |field: &str| {
        text_at(map, &format!("winlog.user.{field}")).or_else(|| {
            (!map.contains_key("winlog"))
                .then(|| text_at(map, &format!("user.{field}")))
                .flatten()
        })
    };
    let user = UserRef {
        sid: user_at("identifier"),
        name: UserRef::join_name(user_at("domain").as_deref(), user_at("name").as_deref()),
    };
    let mut event = Event {
        time,
        time_as_logged: as_logged(&time_text, time),
        computer: first_text(
            map,
            &[
                "winlog.computer_name",
                "computer_name",
                "host.name",
                "beat.hostname",
            ],
        )
        .unwrap_or_default(),
        channel: normalise_channel(
            &first_text(map, &["winlog.channel", "log_name"]).unwrap_or_default(),
        ),
        provider: first_text(map, &["winlog.provider_name", "source_name"]).unwrap_or_default(),
        event_id,
        record_id: number_at(map, "winlog.record_id").or_else(|| number_at(map, "record_number")),
        user,
        data: event_data(map),
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

/// `winlog.event_data.*` (and `winlog.user_data.*`), nested or dotted, in source order.
fn event_data(map: &Map<String, Value>) -> Vec<(String, String)> {
    let mut data = Vec::new();
    let sections = [
        "winlog.event_data",
        "winlog.user_data",
        "event_data",
        "user_data",
    ];
    for nested in sections {
        let section = nested.trim_start_matches("winlog.");
        if let Some(Value::Object(fields)) = get_path(map, nested) {
            data.extend(fields.iter().map(|(k, v)| (k.clone(), scalar_text(v))));
        }
        let dotted_prefix = format!("{nested}.");
        for (k, v) in map {
            if let Some(name) = k.strip_prefix(&dotted_prefix) {
                data.push((name.to_string(), scalar_text(v)));
            }
        }
        if let (true, Some(Value::Object(winlog))) =
            (nested.starts_with("winlog."), map.get("winlog"))
        {
            let prefix = format!("{section}.");
            for (k, v) in winlog {
                if let Some(name) = k.strip_prefix(&prefix) {
                    data.push((name.to_string(), scalar_text(v)));
                }
            }
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file() -> Arc<str> {
        "w.ndjson".into()
    }

    #[test]
    fn nested_winlogbeat_8_document() {
        let doc = json!({"@timestamp":"2021-04-21T09:27:56.082Z","event":{"code":"7045","provider":"Service Control Manager"},
            "host":{"name":"jump01"},
            "winlog":{"event_id":"7045","channel":"System","provider_name":"Service Control Manager",
              "computer_name":"jump01.offsec.lan","record_id":45,
              "user":{"identifier":"S-1-5-21-1-2-3-1111","name":"admmig","domain":"OFFSEC"},
              "event_data":{"ServiceName":"PSEXESVC","ImagePath":"%SystemRoot%\\PSEXESVC.exe","AccountName":"LocalSystem"}}});
        let e = to_event(&doc, &file(), Locator::Line(1)).unwrap();
        assert_eq!(e.event_id, 7045);
        assert_eq!(e.time.to_string(), "2021-04-21T09:27:56.082Z");
        assert_eq!(e.computer, "jump01.offsec.lan");
        assert_eq!(e.channel, "System");
        assert_eq!(e.record_id, Some(45));
        assert_eq!(e.user.sid.as_deref(), Some("S-1-5-21-1-2-3-1111"));
        assert_eq!(e.user.name.as_deref(), Some("OFFSEC\\admmig"));
        assert_eq!(e.field("ImagePath"), Some("%SystemRoot%\\PSEXESVC.exe"));
    }

    #[test]
    fn dotted_keys_and_event_code() {
        let doc = json!({"@timestamp":"2021-12-13T12:55:45.1+00:00","event.code":4697,
            "winlog.channel":"Security","winlog.computer_name":"rootdc1.offsec.lan",
            "winlog.event_data.SubjectUserSid":"S-1-5-21-9","winlog.event_data.SubjectUserName":"admmig",
            "winlog.event_data.SubjectDomainName":"OFFSEC","winlog.event_data.ServiceName":"BTOBTO"});
        let e = to_event(&doc, &file(), Locator::Line(2)).unwrap();
        assert_eq!(e.event_id, 4697);
        assert_eq!(e.field("ServiceName"), Some("BTOBTO"));
        assert_eq!(e.user.name.as_deref(), Some("OFFSEC\\admmig"));
        assert_eq!(e.user.sid.as_deref(), Some("S-1-5-21-9"));
    }

    #[test]
    fn winlogbeat_6_fields_at_the_top_level() {
        let doc = json!({"@timestamp":"2019-03-04T10:00:00.123Z","beat":{"hostname":"collector"},
            "computer_name":"WKS-0001.corp.example","event_id":4697,"log_name":"Security",
            "source_name":"Microsoft-Windows-Security-Auditing","record_number":"1234","type":"wineventlog",
            "event_data":{"SubjectUserSid":"S-1-5-21-9","SubjectUserName":"admin","SubjectDomainName":"CORP",
              "SubjectLogonId":"0x3e7","ServiceName":"PSEXESVC"},"user":{"identifier":"S-1-5-18"}});
        assert!(looks_like(doc.as_object().unwrap()));
        let e = to_event(&doc, &file(), Locator::Line(1)).unwrap();
        assert_eq!(e.event_id, 4697);
        assert_eq!(e.computer, "WKS-0001.corp.example");
        assert_eq!(e.channel, "Security");
        assert_eq!(e.provider, "Microsoft-Windows-Security-Auditing");
        assert_eq!(e.record_id, Some(1234));
        assert_eq!(e.user.sid.as_deref(), Some("S-1-5-18"));
        assert_eq!(e.field("ServiceName"), Some("PSEXESVC"));
        assert_eq!(e.data.len(), 5);
    }

    #[test]
    fn mixed_nesting_is_found() {
        let doc = json!({"winlog":{"event_data.ServiceName":"X","event_id":7045}});
        let map = doc.as_object().unwrap();
        assert_eq!(number_at(map, "winlog.event_id"), Some(7045));
        assert_eq!(
            event_data(map),
            [("ServiceName".to_string(), "X".to_string())]
        );
    }

    #[test]
    fn missing_pieces_are_errors() {
        let no_time = json!({"winlog":{"event_id":"7045"}});
        assert_eq!(
            to_event(&no_time, &file(), Locator::Line(1))
                .unwrap_err()
                .kind,
            "no time"
        );
        let no_id = json!({"@timestamp":"2021-04-21T09:27:56Z","winlog":{"channel":"System"}});
        assert_eq!(
            to_event(&no_id, &file(), Locator::Line(1))
                .unwrap_err()
                .kind,
            "no event id"
        );
    }
}
