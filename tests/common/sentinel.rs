//! Sentinel workspaces for the seed-query tests: rows of `Event`, `SecurityEvent` and
//! `WindowsEvent` written the two ways an analyst exports them (the query API's `tables` JSON and
//! the portal's CSV), and `svchunt hunt --semantics kql` run over each.
#![allow(dead_code)]

use std::path::Path;

use jiff::Timestamp;
use serde_json::{Value, json};
use svchunt::{Answer, Engine, KqlConfig, KqlRow};

/// The seed's `Event` row: the columns it reads, the rest as the agent fills them.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub time: &'static str,
    pub computer: &'static str,
    pub source: &'static str,
    pub event_id: u32,
    pub user_name: &'static str,
    pub event_data: String,
}

/// A `SecurityEvent` row.
#[derive(Debug, Clone)]
pub struct SecurityRow {
    pub time: &'static str,
    pub computer: &'static str,
    pub event_id: u32,
    pub account: &'static str,
    pub subject_user: &'static str,
    pub subject_domain: &'static str,
    pub access_mask: &'static str,
    pub object_name: &'static str,
}

/// A `WindowsEvent` row (Azure Monitor Agent) of a service install.
#[derive(Debug, Clone)]
pub struct WindowsRow {
    pub time: &'static str,
    pub computer: &'static str,
    pub event_id: u32,
    pub data: Value,
}

/// One workspace's rows.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    pub event: Vec<EventRow>,
    pub security: Vec<SecurityRow>,
    pub windows: Vec<WindowsRow>,
}

/// The agent's `EventData` for a 7045 with these fields, written as given (no escaping: the
/// caller writes the XML text it wants the export to hold).
pub fn event_data(inner: &str) -> String {
    format!(
        "<DataItem type=\"System.XmlData\" time=\"2024-01-01T12:00:00.0000000+00:00\" \
         sourceHealthServiceId=\"3f1b4b0e-53a4-7c3e-9f7d-2a1c6f4e9b10\"><EventData \
         xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">{inner}</EventData></DataItem>"
    )
}

/// `<Data Name="ServiceName">{svc}</Data><Data Name="ImagePath">{exe}</Data>…` as Windows
/// writes a 7045.
pub fn service_data(svc: &str, exe: &str) -> String {
    event_data(&format!(
        "<Data Name=\"ServiceName\">{svc}</Data><Data Name=\"ImagePath\">{exe}</Data>\
         <Data Name=\"ServiceType\">user mode service</Data><Data Name=\"StartType\">demand start</Data>\
         <Data Name=\"AccountName\">LocalSystem</Data>"
    ))
}

impl EventRow {
    /// A 7045 by the Service Control Manager.
    pub fn install(
        time: &'static str,
        computer: &'static str,
        user: &'static str,
        data: String,
    ) -> Self {
        EventRow {
            time,
            computer,
            source: "Service Control Manager",
            event_id: 7045,
            user_name: user,
            event_data: data,
        }
    }
}

impl SecurityRow {
    /// A 4674 on `object` by `DOMAIN\user` with `mask`.
    pub fn open(
        time: &'static str,
        computer: &'static str,
        account: &'static str,
        object: &'static str,
        mask: &'static str,
    ) -> Self {
        let (domain, user) = account.split_once('\\').unwrap_or(("", account));
        SecurityRow {
            time,
            computer,
            event_id: 4674,
            account,
            subject_user: user,
            subject_domain: domain,
            access_mask: mask,
            object_name: object,
        }
    }
}

const EVENT_COLUMNS: &[&str] = &[
    "TenantId",
    "SourceSystem",
    "TimeGenerated",
    "Source",
    "EventLog",
    "Computer",
    "EventLevel",
    "EventLevelName",
    "ParameterXml",
    "EventData",
    "EventID",
    "RenderedDescription",
    "UserName",
    "Type",
];

const SECURITY_COLUMNS: &[&str] = &[
    "TenantId",
    "TimeGenerated",
    "Computer",
    "EventID",
    "Activity",
    "Account",
    "AccountType",
    "SubjectUserSid",
    "SubjectUserName",
    "SubjectDomainName",
    "SubjectLogonId",
    "ObjectServer",
    "ObjectType",
    "ObjectName",
    "AccessMask",
    "PrivilegeList",
    "ProcessName",
    "Type",
];

const WINDOWS_COLUMNS: &[&str] = &[
    "TimeGenerated",
    "Computer",
    "EventID",
    "Channel",
    "Provider",
    "EventRecordId",
    "EventData",
    "Type",
];

/// A cell: the API's typed value and the portal's text.
enum Cell {
    Time(Timestamp),
    Text(String),
    Int(u32),
    Json(Value),
}

fn event_cells(r: &EventRow) -> Vec<Cell> {
    use Cell::*;
    vec![
        Text("t".into()),
        Text("OpsManager".into()),
        Time(r.time.parse().expect("time")),
        Text(r.source.into()),
        Text("System".into()),
        Text(r.computer.into()),
        Int(4),
        Text("Information".into()),
        Text(String::new()),
        Text(r.event_data.clone()),
        Int(r.event_id),
        Text("A service was installed in the system.".into()),
        Text(r.user_name.into()),
        Text("Event".into()),
    ]
}

fn security_cells(r: &SecurityRow) -> Vec<Cell> {
    use Cell::*;
    vec![
        Text("t".into()),
        Time(r.time.parse().expect("time")),
        Text(r.computer.into()),
        Int(r.event_id),
        Text(format!(
            "{} - An operation was attempted on a privileged object.",
            r.event_id
        )),
        Text(r.account.into()),
        Text("User".into()),
        Text("S-1-5-21-1-2-3-1104".into()),
        Text(r.subject_user.into()),
        Text(r.subject_domain.into()),
        Text("0x3e7".into()),
        Text("SC Manager".into()),
        Text("SERVICE OBJECT".into()),
        Text(r.object_name.into()),
        Text(r.access_mask.into()),
        Text("SeTakeOwnershipPrivilege".into()),
        Text("C:\\Windows\\System32\\services.exe".into()),
        Text("SecurityEvent".into()),
    ]
}

fn windows_cells(r: &WindowsRow) -> Vec<Cell> {
    use Cell::*;
    vec![
        Time(r.time.parse().expect("time")),
        Text(r.computer.into()),
        Int(r.event_id),
        Text("System".into()),
        Text("Service Control Manager".into()),
        Text("1".into()),
        Json(r.data.clone()),
        Text("WindowsEvent".into()),
    ]
}

impl Cell {
    fn json(&self) -> Value {
        match self {
            Cell::Time(t) => json!(t.to_string()),
            Cell::Text(s) => json!(s),
            Cell::Int(n) => json!(n),
            Cell::Json(v) => v.clone(),
        }
    }

    /// The portal's rendering: times as `M/D/YYYY, h:mm:ss.fff AM` (milliseconds only, so the
    /// tests use millisecond times), dynamic columns as JSON text.
    fn text(&self) -> String {
        match self {
            Cell::Time(t) => jiff::fmt::strtime::format(
                "%m/%d/%Y, %-I:%M:%S%.3f %p",
                &t.to_zoned(jiff::tz::TimeZone::UTC),
            )
            .expect("portal time"),
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Json(v) => v.to_string(),
        }
    }
}

fn write_api(path: &Path, columns: &[&str], rows: Vec<Vec<Cell>>) {
    let doc = json!({"tables": [{
        "name": "PrimaryResult",
        "columns": columns.iter().map(|c| json!({"name": c, "type": "string"})).collect::<Vec<_>>(),
        "rows": rows.iter().map(|r| r.iter().map(Cell::json).collect::<Vec<_>>()).collect::<Vec<_>>(),
    }]});
    std::fs::write(path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
}

fn write_portal_csv(path: &Path, columns: &[&str], rows: Vec<Vec<Cell>>) {
    let mut w = csv::Writer::from_path(path).unwrap();
    let header: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let c = if *c == "TimeGenerated" {
                "TimeGenerated [UTC]".to_string()
            } else {
                c.to_string()
            };
            if i == 0 { format!("\u{feff}{c}") } else { c }
        })
        .collect();
    w.write_record(&header).unwrap();
    for r in rows {
        w.write_record(r.iter().map(Cell::text)).unwrap();
    }
    w.flush().unwrap();
}

/// A table's file name, columns and rows.
type Table<'a> = (&'a str, &'a [&'a str], Vec<Vec<Cell>>);

/// How a workspace was exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    /// The query API's JSON, one file per table.
    Api,
    /// The portal's CSV, one file per table.
    PortalCsv,
}

impl Workspace {
    /// Write the workspace into `dir` as `export` says.
    pub fn write(&self, dir: &Path, export: Export) {
        let tables: [Table<'_>; 3] = [
            (
                "event",
                EVENT_COLUMNS,
                self.event.iter().map(event_cells).collect(),
            ),
            (
                "securityevent",
                SECURITY_COLUMNS,
                self.security.iter().map(security_cells).collect(),
            ),
            (
                "windowsevent",
                WINDOWS_COLUMNS,
                self.windows.iter().map(windows_cells).collect(),
            ),
        ];
        for (name, columns, rows) in tables {
            if rows.is_empty() {
                continue;
            }
            match export {
                Export::Api => write_api(&dir.join(format!("{name}.json")), columns, rows),
                Export::PortalCsv => {
                    write_portal_csv(&dir.join(format!("{name}.csv")), columns, rows)
                }
            }
        }
    }

    /// `svchunt hunt --semantics kql` over the workspace exported as `export`: its rows and the
    /// run's warnings.
    pub fn hunt(&self, export: Export) -> (Vec<KqlRow>, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        self.write(dir.path(), export);
        let outcome = Engine::kql(KqlConfig::default())
            .build()
            .unwrap()
            .hunt_paths(&[dir.path().to_path_buf()]);
        let Answer::Kql(rows) = outcome.answer else {
            unreachable!()
        };
        let warnings = outcome.warnings.iter().map(|w| w.message.clone()).collect();
        (rows, warnings)
    }

    /// The seed's answer as (SourceTime, TargetTime, Computer, UserName, InstalledService, Exe)
    /// tuples, the same from both exports (asserted), with the run's warnings.
    pub fn answer(&self) -> (Vec<Answer6>, Vec<String>) {
        let (api, api_warnings) = self.hunt(Export::Api);
        let (csv, csv_warnings) = self.hunt(Export::PortalCsv);
        let api: Vec<Answer6> = api.iter().map(answer6).collect();
        let csv: Vec<Answer6> = csv.iter().map(answer6).collect();
        assert_eq!(
            api, csv,
            "the API JSON and the portal CSV give different rows"
        );
        assert_eq!(api_warnings, csv_warnings);
        (api, api_warnings)
    }
}

/// One seed row without its provenance.
pub type Answer6 = (String, String, String, String, String, String);

fn answer6(r: &KqlRow) -> Answer6 {
    (
        r.source_time.to_string(),
        r.target_time.to_string(),
        r.computer.clone(),
        r.user_name.clone(),
        r.installed_service.clone(),
        r.exe.clone(),
    )
}

/// An expected row, times in RFC 3339.
pub fn row(
    source: &str,
    target: &str,
    computer: &str,
    user: &str,
    service: &str,
    exe: &str,
) -> Answer6 {
    let t = |s: &str| s.parse::<Timestamp>().expect("time").to_string();
    (
        t(source),
        t(target),
        computer.into(),
        user.into(),
        service.into(),
        exe.into(),
    )
}
