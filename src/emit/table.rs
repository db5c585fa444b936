//! The terminal table: one row per finding, long fields cut so a row stays readable.
//!
//! Column widths never depend on the terminal, so piped output is the same bytes everywhere.
//! Every cell is escaped for the terminal ([`super::escape`]) before comfy-table measures it, so
//! a control character from a log is shown as `\x1b`, never obeyed, and columns stay aligned.

use comfy_table::{ContentArrangement, Table, presets};

use super::escape::{terminal, terminal_cut};
use crate::kql::KqlRow;
use crate::lifecycle::human_ms;
use crate::report::{Campaign, Finding};

/// Longest image path shown in a table cell; the JSON output has it whole.
const IMAGE_WIDTH: usize = 60;

/// Longest service name (or campaign summary) shown in a table cell.
const SERVICE_WIDTH: usize = 40;

fn new_table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
    t
}

/// The findings table; a campaign's members collapse into one row with their count.
pub(super) fn finding_table(findings: &[Finding], campaigns: &[Campaign]) -> Table {
    let mut t = new_table(&[
        "created (UTC)",
        "computer",
        "service",
        "image path",
        "user",
        "verdict",
        "lifetime",
        "removal evidence",
        "tool",
        "source",
    ]);
    let mut shown_campaigns = std::collections::HashSet::new();
    for f in findings {
        let campaign = f
            .campaign
            .as_deref()
            .and_then(|id| campaigns.iter().find(|c| c.id == id));
        if let Some(c) = campaign
            && !shown_campaigns.insert(c.id.as_str())
        {
            continue;
        }
        let service = match (campaign, &f.display_name) {
            (Some(c), _) => format!(
                "{} services (campaign {}) until {}",
                c.size,
                c.id,
                c.last.strftime("%H:%M:%S")
            ),
            (None, Some(d)) => format!("{} ({d})", f.service_name),
            (None, None) => f.service_name.clone(),
        };
        let user = f
            .user
            .name
            .clone()
            .or_else(|| f.user.sid.clone())
            .unwrap_or_else(|| "?".into());
        let source = f
            .source
            .as_ref()
            .map(|s| {
                let addr = s.ip.clone().unwrap_or_default();
                match &s.client_host {
                    Some(h) if addr.is_empty() => h.clone(),
                    Some(h) => format!("{addr} ({h})"),
                    None => addr,
                }
            })
            .unwrap_or_default();
        t.add_row(vec![
            f.created.strftime("%Y-%m-%d %H:%M:%S%.3f").to_string(),
            terminal(&f.computer).into_owned(),
            terminal_cut(&service, SERVICE_WIDTH),
            terminal_cut(&f.image_path, IMAGE_WIDTH),
            terminal(&user).into_owned(),
            f.verdict.as_str().to_string(),
            f.lifetime_ms.map(human_ms).unwrap_or_else(|| "-".into()),
            f.deletion_evidence
                .map(|r| r.label().to_string())
                .unwrap_or_else(|| "not seen".into()),
            f.tool.to_string(),
            terminal(&source).into_owned(),
        ]);
    }
    t
}

/// The seed query's columns.
pub(super) fn kql_table(rows: &[KqlRow]) -> Table {
    let mut t = new_table(&[
        "SourceTime",
        "SourceEventID",
        "TargetTime",
        "TargetEventID",
        "Computer",
        "UserName",
        "InstalledService",
        "Exe",
    ]);
    for r in rows {
        t.add_row(vec![
            r.source_time.to_string(),
            r.source_event_id.to_string(),
            r.target_time.to_string(),
            r.target_event_id.to_string(),
            terminal(&r.computer).into_owned(),
            terminal(&r.user_name).into_owned(),
            terminal_cut(&r.installed_service, SERVICE_WIDTH),
            terminal_cut(&r.exe, IMAGE_WIDTH),
        ]);
    }
    t
}
