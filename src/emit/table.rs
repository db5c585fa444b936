//! The terminal table: one row per finding, long fields cut so a row stays readable.
//!
//! Column widths never depend on the terminal, so piped output is the same bytes everywhere.

use comfy_table::{ContentArrangement, Table, presets};

use crate::kql::KqlRow;
use crate::lifecycle::{Finding, human_ms};

/// Longest image path shown in a table cell; the JSON output has it whole.
const IMAGE_WIDTH: usize = 60;

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut c: String = s.chars().take(max - 1).collect();
        c.push('…');
        c
    }
}

fn new_table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
    t
}

/// The findings table.
pub fn finding_table(findings: &[Finding]) -> Table {
    let mut t = new_table(&[
        "created (UTC)",
        "computer",
        "service",
        "image path",
        "user",
        "verdict",
        "lifetime",
        "removal evidence",
        "source",
    ]);
    for f in findings {
        let service = match &f.display_name {
            Some(d) => format!("{} ({d})", f.service_name),
            None => f.service_name.clone(),
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
            .and_then(|s| s.ip.clone().or_else(|| s.workstation.clone()))
            .unwrap_or_default();
        t.add_row(vec![
            f.created.strftime("%Y-%m-%d %H:%M:%S%.3f").to_string(),
            f.computer.clone(),
            cut(&service, 40),
            cut(&f.image_path, IMAGE_WIDTH),
            user,
            f.verdict.as_str().to_string(),
            f.lifetime_ms.map(human_ms).unwrap_or_else(|| "-".into()),
            f.deletion_evidence
                .map(|r| r.label().to_string())
                .unwrap_or_else(|| "not seen".into()),
            source,
        ]);
    }
    t
}

/// The seed query's columns.
pub fn kql_table(rows: &[KqlRow]) -> Table {
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
            r.computer.clone(),
            r.user_name.clone(),
            cut(&r.installed_service, 40),
            cut(&r.exe, IMAGE_WIDTH),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutting_keeps_short_strings() {
        assert_eq!(cut("abc", 5), "abc");
        assert_eq!(cut("abcdef", 4), "abc…");
    }
}
