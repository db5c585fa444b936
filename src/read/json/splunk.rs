//! Splunk search results exported as JSON (the UI's export: one `{"preview":false,"result":{…}}`
//! per line; the REST API's `{"results":[…]}`) or CSV, whose `_raw` holds the event as the
//! Splunk Add-on for Windows indexed it: `XmlWinEventLog` (the event's XML, read like any XML
//! event) or classic `WinEventLog` (`key=value` lines, then the rendered `Message`).
//!
//! Classic `WinEventLog` text carries the event data only inside the message Windows rendered
//! for a person (`Service Name:  PSEXESVC`, translated with the host's language); it is not
//! parsed (that would be guessing), and such records are counted as unreadable, by line. Send
//! `XmlWinEventLog` (`renderXml = true`) to search them.

use std::sync::Arc;

use super::problems::RecordError;
use crate::event::{Event, Locator};
use crate::read::xml_events;

/// Map one result by its `_raw` text and `host` field.
pub(crate) fn to_event(
    raw: &str,
    host: Option<&str>,
    file: &Arc<str>,
    locator: Locator,
) -> Result<Event, RecordError> {
    let raw = raw.trim_start();
    if raw.starts_with('<') {
        let mut event = xml_events::parse_one(raw, file, locator)?;
        if event.computer.is_empty()
            && let Some(h) = host
        {
            event.computer = h.to_string();
        }
        return Ok(event);
    }
    Err(RecordError::new(
        "classic WinEventLog text",
        "the event data is only in the rendered Message (export XmlWinEventLog instead)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_raw_and_classic_text() {
        let raw = r#"<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Service Control Manager'/><EventID Qualifiers='16384'>7045</EventID><TimeCreated SystemTime='2024-05-06T10:00:00.1234567Z'/><EventRecordID>9</EventRecordID><Channel>System</Channel><Computer></Computer></System><EventData><Data Name='ServiceName'>PSEXESVC</Data></EventData></Event>"#;
        let e = to_event(raw, Some("WKS-0001"), &"s.json".into(), Locator::Line(3)).unwrap();
        assert_eq!(e.computer, "WKS-0001");
        assert_eq!(e.field("ServiceName"), Some("PSEXESVC"));
        assert_eq!(e.origin.locator, Locator::Line(3));
        let classic = "05/06/2024 10:00:00 AM\nLogName=System\nEventCode=7045\n";
        assert_eq!(
            to_event(classic, None, &"s.json".into(), Locator::Line(4))
                .unwrap_err()
                .kind,
            "classic WinEventLog text"
        );
    }
}
