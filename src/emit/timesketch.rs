//! `--format timesketch`: the findings as events for a Timesketch case timeline.
//!
//! Timesketch imports JSON lines whose every object has `message`, `datetime` (ISO 8601) and
//! `timestamp_desc`, plus any attributes (its documentation: "Importing data from JSON/CSV").
//! Each finding becomes one event per moment of its life the logs date: the source logon (when
//! its 4624 is in the log), the service's creation, its removal. Every event carries the
//! finding's stable id and verdict, so a finding lands on the case timeline beside the rest of
//! the evidence and can be filtered as one.

use std::io::{self, Write};

use jiff::Timestamp;
use serde::Serialize;

use super::escape;
use crate::report::Finding;

/// One Timesketch event.
#[derive(Serialize)]
struct Moment<'a> {
    message: String,
    /// ISO 8601 with microseconds and an explicit UTC offset, as Timesketch's examples write it.
    datetime: String,
    /// Microseconds since the Unix epoch (Timesketch uses it when present).
    timestamp: i64,
    timestamp_desc: &'static str,
    finding_id: &'a str,
    verdict: &'static str,
    tool: &'static str,
    computer: &'a str,
    service_name: &'a str,
    image_path: &'a str,
    user: Option<&'a str>,
    source_ip: Option<&'a str>,
    campaign: Option<&'a str>,
    data_type: &'static str,
}

fn iso(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
}

/// Write `findings` as Timesketch JSON lines, in time order within each finding.
pub fn write(out: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
    for f in findings {
        let id = f.id();
        let user = f.user.name.as_deref().or(f.user.sid.as_deref());
        let source = f.source.as_ref();
        let ip = source.and_then(|s| s.ip.as_deref());
        let moment = |time: Timestamp, desc: &'static str, message: String| Moment {
            message,
            datetime: iso(time),
            timestamp: time.as_microsecond(),
            timestamp_desc: desc,
            finding_id: &id,
            verdict: f.verdict.as_str(),
            tool: f.tool.as_str(),
            computer: &f.computer,
            service_name: &f.service_name,
            image_path: &f.image_path,
            user,
            source_ip: ip,
            campaign: f.campaign.as_deref(),
            data_type: "svchunt:service:lifecycle",
        };
        let mut moments = Vec::with_capacity(3);
        if let Some(logon_time) = source.and_then(|s| s.logon_time) {
            moments.push(moment(
                logon_time,
                "Source logon",
                format!(
                    "Logon {} (type {}) from {} on {}, which installed service {}",
                    source.and_then(|s| s.logon_id.as_deref()).unwrap_or("?"),
                    source
                        .and_then(|s| s.logon_type)
                        .map_or("?".into(), |t| t.to_string()),
                    ip.unwrap_or("an unknown address"),
                    f.computer,
                    f.service_name
                ),
            ));
        }
        moments.push(moment(
            f.created,
            "Service created",
            format!(
                "Service {} installed on {} by {}: {} [{}, {}]",
                f.service_name,
                f.computer,
                user.unwrap_or("an unknown account"),
                f.image_path,
                f.verdict.as_str(),
                f.tool.as_str()
            ),
        ));
        if let (Some(deleted), Some(evidence)) = (f.deleted, f.deletion_evidence) {
            moments.push(moment(
                deleted,
                "Service removed",
                format!(
                    "Service {} on {} removed: {}",
                    f.service_name,
                    f.computer,
                    evidence.label()
                ),
            ));
        }
        for m in &moments {
            escape::write_json(&mut *out, escape::JsonFormatter::compact(), m)?;
            writeln!(out)?;
        }
    }
    Ok(())
}
