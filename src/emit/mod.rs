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
//! {"computer": "WORKSTATION6.theshire.local", "service_name": "Updater", "display_name": null,
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
//! Under `--semantics kql` every format writes the seed's columns: SourceTime, SourceEventID,
//! TargetTime, TargetEventID, Computer, UserName, InstalledService, Exe.

pub mod graph;
pub mod html;
mod table;

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
}

/// Write lifecycle findings.
pub fn write_findings(out: &mut dyn Write, format: Format, report: &Report) -> io::Result<()> {
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
                    c.id,
                    c.size,
                    payload.chars().count(),
                    first_line.trim()
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
                writeln!(out, "coverage {}: {what}", c.computer)?;
            }
            Ok(())
        }
        Format::Csv => write_csv(out, findings.iter().map(FindingCsv::from)),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)
        }
        Format::Jsonl => write_jsonl(out, findings),
        Format::Graph => graph::write_json(out, findings),
        Format::Dot => graph::write_dot(out, findings),
        Format::Html => html::write_report(out, report),
    }
}

/// Write seed-query rows.
pub fn write_kql_rows(out: &mut dyn Write, format: Format, rows: &[KqlRow]) -> io::Result<()> {
    match format {
        Format::Table => writeln!(out, "{}", kql_table(rows)),
        Format::Csv => write_csv(out, rows.iter()),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, rows)?;
            writeln!(out)
        }
        Format::Jsonl => write_jsonl(out, rows),
        Format::Graph | Format::Dot => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the graph formats need the lifecycle semantics (the seed query has no source)",
        )),
        Format::Html => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the HTML report draws service lifecycles; use --semantics lifecycle with --format html",
        )),
    }
}

fn write_jsonl<T: Serialize>(out: &mut dyn Write, items: &[T]) -> io::Result<()> {
    for item in items {
        serde_json::to_writer(&mut *out, item)?;
        writeln!(out)?;
    }
    Ok(())
}

fn write_csv<T: Serialize>(out: &mut dyn Write, rows: impl Iterator<Item = T>) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    for row in rows {
        w.serialize(row).map_err(io::Error::other)?;
    }
    w.flush()
}

/// The flat CSV shape of a finding (evidence summarised as `event_id@time role; …`).
#[derive(Serialize)]
struct FindingCsv<'a> {
    created: String,
    computer: &'a str,
    service_name: &'a str,
    display_name: &'a str,
    image_path: &'a str,
    verdict: &'a str,
    tool: &'a str,
    user_sid: &'a str,
    user_name: &'a str,
    source_ip: &'a str,
    source_workstation: &'a str,
    logon_id: &'a str,
    deleted: String,
    deletion_evidence: &'a str,
    lifetime_ms: String,
    verdict_reasons: String,
    evidence: String,
}

impl<'a> From<&'a Finding> for FindingCsv<'a> {
    fn from(f: &'a Finding) -> Self {
        let src = f.source.as_ref();
        FindingCsv {
            created: f.created.to_string(),
            computer: &f.computer,
            service_name: &f.service_name,
            display_name: f.display_name.as_deref().unwrap_or(""),
            image_path: &f.image_path,
            verdict: f.verdict.as_str(),
            tool: f.tool.as_str(),
            user_sid: f.user.sid.as_deref().unwrap_or(""),
            user_name: f.user.name.as_deref().unwrap_or(""),
            source_ip: src.and_then(|s| s.ip.as_deref()).unwrap_or(""),
            source_workstation: src.and_then(|s| s.workstation.as_deref()).unwrap_or(""),
            logon_id: src.and_then(|s| s.logon_id.as_deref()).unwrap_or(""),
            deleted: f.deleted.map(|t| t.to_string()).unwrap_or_default(),
            deletion_evidence: f.deletion_evidence.map(|r| r.label()).unwrap_or(""),
            lifetime_ms: f.lifetime_ms.map(|m| m.to_string()).unwrap_or_default(),
            verdict_reasons: f.verdict_reasons.join("; "),
            evidence: f
                .evidence
                .iter()
                .map(|e| format!("{}@{} {}", e.event_id, e.time, e.role.label()))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}
