//! Attribution: which tool made each service, from where, and what it ran.
//!
//! Runs after the lifecycle stage. For each finding it gathers the client's named pipes and
//! share writes around the creation ([`observe`]), scores every tool fingerprint
//! ([`fingerprints::RULES`]) and keeps the best with its reasons and a confidence, fills the
//! source's client host (leaked by PsExec's pipe names), pipes and uploaded files, decodes the
//! command the image path carries ([`decode`]), and groups bursts into campaigns ([`campaign`]).

pub mod allow;
mod campaign;
mod decode;
mod fingerprints;
mod observe;

use std::collections::BTreeMap;

use crate::event::Event;
use crate::lifecycle::{Finding, LifecycleReport, Source, Verdict};

pub use allow::{AllowError, AllowList};

/// Attribute every finding of `report`, using the run's `events` (time-ordered).
pub fn attribute(report: &mut LifecycleReport, events: &[Event]) {
    let index = observe::ShareIndex::build(events);
    for f in &mut report.findings {
        let observed = observe::Observed::of(f, &index);
        let (tool, confidence, reasons) = identify(f, &observed);
        let client_host = client_host(&observed.pipes);
        let (pipes, files) = (observed.pipes.clone(), observed.files_written.clone());
        drop(observed);
        f.tool = Some(tool);
        f.tool_confidence = confidence;
        f.tool_reasons = reasons;
        f.command = decode::command(&f.image_path);
        if client_host.is_some() || !pipes.is_empty() || !files.is_empty() {
            let source = f.source.get_or_insert_with(empty_source);
            source.client_host = client_host;
            source.pipes = pipes;
            source.files_written = files;
        }
    }
    report.campaigns = campaign::group(&mut report.findings);
}

fn empty_source() -> Source {
    Source {
        logon_id: None,
        logon_type: None,
        ip: None,
        workstation: None,
        auth: None,
        logon_time: None,
        client_host: None,
        pipes: Vec::new(),
        files_written: Vec::new(),
    }
}

/// The best-scoring tool, its confidence and reasons; `unknown` when no fingerprint holds.
fn identify(f: &Finding, o: &observe::Observed<'_>) -> (String, Option<String>, Vec<String>) {
    // Score in table order so ties go to the row listed first (the more specific tool).
    let mut scores: BTreeMap<&str, (usize, u32, Vec<String>)> = BTreeMap::new();
    for (rank, rule) in fingerprints::RULES.iter().enumerate() {
        if let Some(reason) = (rule.test)(o) {
            let entry = scores.entry(rule.tool).or_insert((rank, 0, Vec::new()));
            entry.1 += u32::from(rule.weight);
            entry.2.push(reason);
        }
    }
    let best = scores
        .into_iter()
        .max_by(|a, b| (a.1.1, std::cmp::Reverse(a.1.0)).cmp(&(b.1.1, std::cmp::Reverse(b.1.0))));
    match best {
        // An install that merely shares a shape (an auto-start service over the network) is
        // not a tool's work unless it executed, or the shape alone is decisive.
        Some((tool, (_, score, reasons)))
            if !matches!(f.verdict, Verdict::Benign | Verdict::Suspicious) || score >= 3 =>
        {
            let confidence = match score {
                5.. => "high",
                3..=4 => "medium",
                _ => "low",
            };
            (tool.to_string(), Some(confidence.to_string()), reasons)
        }
        _ => ("unknown".to_string(), None, Vec::new()),
    }
}

/// PsExec's pipes name the client: `PSEXESVC-WEC01-956-stdin` → `WEC01`.
fn client_host(pipes: &[String]) -> Option<String> {
    pipes.iter().find_map(|p| {
        let stripped = p
            .strip_suffix("-stdin")
            .or_else(|| p.strip_suffix("-stdout"))
            .or_else(|| p.strip_suffix("-stderr"))?;
        let (rest, pid) = stripped.rsplit_once('-')?;
        pid.chars().all(|c| c.is_ascii_digit()).then_some(())?;
        let (_, host) = rest.split_once('-')?;
        (!host.is_empty()).then(|| host.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_host_from_psexec_pipes() {
        assert_eq!(
            client_host(&["PSEXESVC".into(), "PSEXESVC-WEC01-956-stdin".into()]).as_deref(),
            Some("WEC01")
        );
        assert_eq!(
            client_host(&["svcupd-ADMIN-PC-4100-stderr".into()]).as_deref(),
            Some("ADMIN-PC")
        );
        assert_eq!(client_host(&["RemCom_stdinAbcd1234".into()]), None);
    }
}
