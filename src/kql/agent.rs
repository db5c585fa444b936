//! The columns the legacy Log Analytics agent would have written for an event read from any
//! other format (EVTX, evtx_dump JSON, NXLog, Winlogbeat…), so that the seed query reads such
//! an event as it would read the agent's row.
//!
//! | column | `Event` (every log but Security) | `SecurityEvent` (Security log) |
//! |---|---|---|
//! | `TimeGenerated` | the event's `TimeCreated` | the same |
//! | `Computer` | the event's `Computer` | the same |
//! | `Source` | the provider's name | — |
//! | `UserName` | the name of `Security/@UserID` (see below) | — |
//! | `EventData` | the XML string below | — |
//! | `Account` | — | `SubjectDomainName\SubjectUserName`, both as logged |
//! | `AccessMask`, `ObjectName` | — | the event-data fields, as logged |
//!
//! `EventData` is the agent's `DataItem` wrapper around the event's own `EventData` element, on
//! one line, attributes in double quotes, as the agent's rows show it (a real agent row:
//! `<DataItem type="System.XmlData" time="2019-08-08T14:20:58.0130787+00:00"
//! sourceHealthServiceId="7896DB24-…"><EventData xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><Data
//! Name="SubjectUserSid">S-1-5-18</Data>…</EventData></DataItem>`):
//!
//! - `time` is the event's time with seven fractional digits and `+00:00`;
//!   `sourceHealthServiceId` (the agent's own id, unknown offline) is all zeros;
//! - each field is `<Data Name="…">value</Data>`, an empty value `<Data Name="…"></Data>`;
//! - text escapes `&`, `<` and `>` as Windows renders event XML (`"` stays as is), the `Name`
//!   attribute `&`, `<` and `"`;
//! - fields are in the order the event holds them, except that a 7045's five fields come first
//!   in the order Windows writes them (`ServiceName`, `ImagePath`, `ServiceType`, `StartType`,
//!   `AccountName`): key-value formats (NXLog, Winlogbeat) do not keep the XML order, and the
//!   EVTX order of a real 7045 is that one.
//!
//! `UserName` is the account the agent resolves `Security/@UserID` to: offline, the name the
//! Security log pairs with that SID (see [`crate::accounts`]), else the SID itself; an event
//! with no `UserID` at all gets `N/A`, the agent's placeholder.

use std::fmt::Write;

use crate::accounts::AccountDirectory;
use crate::event::Event;

/// The order Windows writes a 7045's fields in.
const SERVICE_INSTALL_FIELDS: &[&str] = &[
    "ServiceName",
    "ImagePath",
    "ServiceType",
    "StartType",
    "AccountName",
];

/// The `EventData` column of the agent's `Event` row for `e`.
pub(crate) fn event_data(e: &Event) -> String {
    let time = e.time.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    let mut xml = format!(
        "<DataItem type=\"System.XmlData\" time=\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}+00:00\" \
         sourceHealthServiceId=\"00000000-0000-0000-0000-000000000000\">\
         <EventData xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">",
        time.year(),
        time.month(),
        time.day(),
        time.hour(),
        time.minute(),
        time.second(),
        time.subsec_nanosecond() / 100,
    );
    let first: &[&str] = if e.event_id == 7045 {
        SERVICE_INSTALL_FIELDS
    } else {
        &[]
    };
    let leading = first
        .iter()
        .filter_map(|name| e.data.iter().find(|(k, _)| k == name));
    let rest = e.data.iter().filter(|(k, _)| !first.contains(&k.as_str()));
    for (name, value) in leading.chain(rest) {
        let _ = write!(
            xml,
            "<Data Name=\"{}\">{}</Data>",
            escape_attribute(name),
            escape_text(value)
        );
    }
    xml.push_str("</EventData></DataItem>");
    xml
}

/// The `UserName` column of the agent's `Event` row for `e`.
pub(crate) fn user_name(e: &Event, accounts: &AccountDirectory) -> String {
    let user = accounts.resolve(&e.user);
    user.name.or(user.sid).unwrap_or_else(|| "N/A".to_string())
}

/// The `Account` column of the agent's `SecurityEvent` row for `e`: the subject's
/// `DOMAIN\name` exactly as the two fields hold it (empty when the event has neither).
pub(crate) fn account(e: &Event) -> String {
    match (e.field("SubjectDomainName"), e.field("SubjectUserName")) {
        (None, None) => String::new(),
        (domain, user) => format!("{}\\{}", domain.unwrap_or(""), user.unwrap_or("")),
    }
}

fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn escape_attribute(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::test_event;

    #[test]
    fn a_7045_as_the_agent_writes_it() {
        let mut e = test_event(
            7045,
            "System",
            &[
                ("StartType", "demand start"),
                ("ImagePath", "cmd /c a & b > \"c\""),
                ("ServiceName", "Svc"),
                ("Extra", ""),
            ],
        );
        e.time = "2024-01-02T03:04:05.123456789Z".parse().unwrap();
        assert_eq!(
            event_data(&e),
            "<DataItem type=\"System.XmlData\" time=\"2024-01-02T03:04:05.1234567+00:00\" \
             sourceHealthServiceId=\"00000000-0000-0000-0000-000000000000\"><EventData \
             xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">\
             <Data Name=\"ServiceName\">Svc</Data>\
             <Data Name=\"ImagePath\">cmd /c a &amp; b &gt; \"c\"</Data>\
             <Data Name=\"StartType\">demand start</Data>\
             <Data Name=\"Extra\"></Data></EventData></DataItem>"
        );
    }

    #[test]
    fn account_and_user_name() {
        let e = test_event(
            4674,
            "Security",
            &[("SubjectUserName", "bob "), ("SubjectDomainName", "-")],
        );
        assert_eq!(account(&e), "-\\bob ");
        assert_eq!(account(&test_event(4674, "Security", &[])), "");
        let dir = AccountDirectory::default();
        let mut e = test_event(7045, "System", &[]);
        assert_eq!(user_name(&e, &dir), "N/A");
        e.user.sid = Some("S-1-5-18".into());
        assert_eq!(user_name(&e, &dir), "NT AUTHORITY\\SYSTEM");
        e.user.sid = Some("S-1-5-21-9".into());
        assert_eq!(user_name(&e, &dir), "S-1-5-21-9");
    }
}
