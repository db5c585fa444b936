//! Output: findings and seed-query rows as a table, CSV, JSON or JSON lines; findings also as a
//! one-file HTML report ([`html`]).
//!
//! Printers know the finding types and nothing of where events came from. Every format writes
//! the same findings in the same order, so the same input gives the same bytes.
//!
//! # Format
//!
//! `json` writes one object: `{"findings": [Finding…], "coverage": [Coverage…], "campaigns":
//! [Campaign…]}`; `jsonl` writes one Finding per line; `graph` writes `{"edges": [Edge…]}` (see
//! [`graph::Edge`]) and `dot` the same edges for Graphviz. A Finding is:
//!
//! ```json
//! {"kind": "creation", "computer": "WORKSTATION6.theshire.local", "service_name": "Updater",
//!  "display_name": null,
//!  "image_path": "%COMSPEC% /C start /b …", "service_type": "user mode service",
//!  "start_type": "demand start", "service_account": "LocalSystem",
//!  "created": "2020-09-20T12:16:56.95Z", "deleted": "2020-09-20T12:16:57.97Z",
//!  "deletion_evidence": "delete-flag-set", "lifetime_ms": 1020,
//!  "verdict": "remote-execution", "verdict_reasons": ["image path is a command line, …"],
//!  "tool": "empire", "tool_reasons": ["powershell -noP -sta -w 1 -enc: …"],
//!  "tool_confidence": "medium", "command": "powershell -enc (decoded): …", "campaign": null,
//!  "user": {"sid": "S-1-5-21-…-1104", "name": "THESHIRE\\pgustavo"},
//!  "source": {"logon_id": "0x2990d17", "logon_type": 3, "ip": "172.18.39.5",
//!             "workstation": "-", "auth": "Kerberos", "logon_time": "…", "client_host": null,
//!             "pipes": [], "files_written": []},
//!  "evidence": [{"event_id": 7045, "time": "…", "file": "…", "record_id": 123,
//!                "locator": {"kind": "record", "at": 123}, "role": "installed",
//!                "detail": "7045: service installed (System log)"}]}
//! ```
//!
//! A finding of `"kind": "reconfiguration"` is an existing service whose binary path was changed,
//! the service started, and the path set back (no 7045/4697): `image_path` is the first
//! temporary path, `deleted` when it was set back, and it carries `"reconfiguration":
//! {"original_image_path": "…", "temporary_image_paths": ["…"], "restored": "…",
//! "start_type_changes": ["disabled → demand start", …]}`.
//!
//! Under `--semantics kql` every format writes the seed's columns: SourceTime, SourceEventID,
//! TargetTime, TargetEventID, Computer, UserName, InstalledService, Exe.
//!
//! # Hostile text
//!
//! Log strings are the attacker's words. The table, and the campaign and coverage lines after
//! it, show control, bidi and invisible characters as escapes (`\x1b`, `\u{202e}`); JSON spells
//! them as `\uXXXX` escapes (same values, see [`escape::JsonFormatter`]); a CSV field that a
//! spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR, LF, NUL first) is prefixed
//! with `'` unless it is a plain number such as `-3`, and [`Options::csv_raw`] turns that off.

pub mod escape;
pub mod events;
pub mod graph;
pub mod html;
mod table;
mod timesketch;

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;

use crate::kql::KqlRow;
use crate::report::{Finding, Report};

use table::{finding_table, kql_table};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned text for a terminal.
    Table,
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// The lateral-movement edges as JSON.
    Graph,
    /// The lateral-movement edges as a Graphviz digraph.
    Dot,
    /// A self-contained HTML report (findings only; see [`html`]).
    Html,
    /// JSON lines for a Timesketch timeline: one event per moment of each finding.
    Timesketch,
}

/// How a format is written, beyond which format it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Write CSV fields as they are, without the `'` that stops a spreadsheet from running a
    /// field as a formula (for pipelines that read the CSV as data).
    pub csv_raw: bool,
}

/// Write lifecycle findings.
pub fn write_findings(out: &mut dyn Write, format: Format, report: &Report) -> io::Result<()> {
    write_findings_with(out, format, report, Options::default())
}

/// Write lifecycle findings, with [`Options`].
pub fn write_findings_with(
    out: &mut dyn Write,
    format: Format,
    report: &Report,
    options: Options,
) -> io::Result<()> {
    let findings = &report.findings;
    match format {
        Format::Table => {
            writeln!(out, "{}", finding_table(findings, &report.campaigns))?;
            for c in report.campaigns.iter().filter(|c| c.payload.is_some()) {
                let payload = c.payload.as_deref().unwrap_or("");
                let first_line = payload.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
                writeln!(
                    out,
                    "campaign {}: {} services carry a payload in their names ({} characters), starting: {}",
                    escape::terminal(&c.id),
                    c.size,
                    payload.chars().count(),
                    escape::terminal(first_line.trim())
                )?;
            }
            writeln!(out)?;
            for c in &report.coverage {
                let gaps = c.gaps();
                let what = if gaps.is_empty() {
                    "every evidence kind present".to_string()
                } else {
                    gaps.join(", ")
                };
                writeln!(out, "coverage {}: {what}", escape::terminal(&c.computer))?;
            }
            Ok(())
        }
        Format::Csv => write_csv(
            out,
            findings.iter().map(|f| FindingCsv::new(f, options.csv_raw)),
        ),
        Format::Json => {
            escape::write_json(&mut *out, escape::JsonFormatter::pretty(), report)?;
            writeln!(out)
        }
        Format::Jsonl => write_jsonl(out, findings),
        Format::Graph => graph::write_json(out, findings),
        Format::Dot => graph::write_dot(out, findings),
        Format::Html => html::write_report(out, report),
        Format::Timesketch => timesketch::write(out, findings),
    }
}

/// Write seed-query rows.
pub fn write_kql_rows(out: &mut dyn Write, format: Format, rows: &[KqlRow]) -> io::Result<()> {
    write_kql_rows_with(out, format, rows, Options::default())
}

/// Write seed-query rows, with [`Options`].
pub fn write_kql_rows_with(
    out: &mut dyn Write,
    format: Format,
    rows: &[KqlRow],
    options: Options,
) -> io::Result<()> {
    match format {
        Format::Table => writeln!(out, "{}", kql_table(rows)),
        Format::Csv => write_csv(out, rows.iter().map(|r| KqlCsv::new(r, options.csv_raw))),
        Format::Json => {
            escape::write_json(&mut *out, escape::JsonFormatter::pretty(), rows)?;
            writeln!(out)
        }
        Format::Jsonl => write_jsonl(out, rows),
        Format::Graph | Format::Dot | Format::Timesketch => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the graph and Timesketch formats need the lifecycle semantics (the seed query's rows \
             are not lifecycles)",
        )),
        Format::Html => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the HTML report draws service lifecycles; use --semantics lifecycle with --format html",
        )),
    }
}

/// One JSON object per line (`-f jsonl`, `svchunt events`), terminal controls spelled as
/// `\uXXXX` escapes.
pub fn write_jsonl<T: Serialize>(out: &mut dyn Write, items: &[T]) -> io::Result<()> {
    for item in items {
        escape::write_json(&mut *out, escape::JsonFormatter::compact(), item)?;
        writeln!(out)?;
    }
    Ok(())
}

fn write_csv<T: Serialize>(out: &mut dyn Write, rows: impl Iterator<Item = T>) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    for row in rows {
        w.serialize(row).map_err(csv_io_error)?;
    }
    w.flush()
}

/// A CSV error as an I/O error of the same kind as the one inside it, so a closed pipe is still
/// seen as one.
fn csv_io_error(e: csv::Error) -> io::Error {
    let kind = match e.kind() {
        csv::ErrorKind::Io(io) => io.kind(),
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e)
}

/// One CSV field: formula-safe ([`escape::csv_cell`]) unless `raw`.
fn cell<'a>(value: impl Into<Cow<'a, str>>, raw: bool) -> Cow<'a, str> {
    let value = value.into();
    if raw {
        return value;
    }
    match value {
        Cow::Borrowed(s) => escape::csv_cell(s),
        Cow::Owned(s) => match escape::csv_cell(&s) {
            Cow::Borrowed(_) => Cow::Owned(s),
            Cow::Owned(quoted) => Cow::Owned(quoted),
        },
    }
}

/// The seed query's columns as CSV fields.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct KqlCsv<'a> {
    source_time: Cow<'a, str>,
    #[serde(rename = "SourceEventID")]
    source_event_id: u32,
    target_time: Cow<'a, str>,
    #[serde(rename = "TargetEventID")]
    target_event_id: u32,
    computer: Cow<'a, str>,
    user_name: Cow<'a, str>,
    installed_service: Cow<'a, str>,
    exe: Cow<'a, str>,
}

impl<'a> KqlCsv<'a> {
    fn new(r: &'a KqlRow, raw: bool) -> Self {
        KqlCsv {
            source_time: cell(r.source_time.to_string(), raw),
            source_event_id: r.source_event_id,
            target_time: cell(r.target_time.to_string(), raw),
            target_event_id: r.target_event_id,
            computer: cell(r.computer.as_str(), raw),
            user_name: cell(r.user_name.as_str(), raw),
            installed_service: cell(r.installed_service.as_str(), raw),
            exe: cell(r.exe.as_str(), raw),
        }
    }
}

/// The flat CSV shape of a finding (evidence summarised as `event_id@time role; …`). Every
/// text field goes through [`cell`]; `lifetime_ms` is a number, written as one.
#[derive(Serialize)]
struct FindingCsv<'a> {
    created: Cow<'a, str>,
    computer: Cow<'a, str>,
    service_name: Cow<'a, str>,
    display_name: Cow<'a, str>,
    image_path: Cow<'a, str>,
    verdict: Cow<'a, str>,
    tool: Cow<'a, str>,
    user_sid: Cow<'a, str>,
    user_name: Cow<'a, str>,
    source_ip: Cow<'a, str>,
    source_workstation: Cow<'a, str>,
    logon_id: Cow<'a, str>,
    deleted: Cow<'a, str>,
    deletion_evidence: Cow<'a, str>,
    lifetime_ms: Option<i64>,
    verdict_reasons: Cow<'a, str>,
    evidence: Cow<'a, str>,
}

impl<'a> FindingCsv<'a> {
    fn new(f: &'a Finding, raw: bool) -> Self {
        let src = f.source.as_ref();
        let text = |s: Option<&'a str>| cell(s.unwrap_or(""), raw);
        FindingCsv {
            created: cell(f.created.to_string(), raw),
            computer: text(Some(&f.computer)),
            service_name: text(Some(&f.service_name)),
            display_name: text(f.display_name.as_deref()),
            image_path: text(Some(&f.image_path)),
            verdict: text(Some(f.verdict.as_str())),
            tool: text(Some(f.tool.as_str())),
            user_sid: text(f.user.sid.as_deref()),
            user_name: text(f.user.name.as_deref()),
            source_ip: text(src.and_then(|s| s.ip.as_deref())),
            source_workstation: text(src.and_then(|s| s.workstation.as_deref())),
            logon_id: text(src.and_then(|s| s.logon_id.as_deref())),
            deleted: cell(f.deleted.map(|t| t.to_string()).unwrap_or_default(), raw),
            deletion_evidence: text(f.deletion_evidence.map(|r| r.label())),
            lifetime_ms: f.lifetime_ms,
            verdict_reasons: cell(f.verdict_reasons.join("; "), raw),
            evidence: cell(
                f.evidence
                    .iter()
                    .map(|e| format!("{}@{} {}", e.event_id, e.time, e.role.label()))
                    .collect::<Vec<_>>()
                    .join("; "),
                raw,
            ),
        }
    }
}
