//! Attribution: which tool made each service, from where, and what it ran.
//!
//! Runs after the lifecycle stage and builds on its output without changing it: for each
//! lifecycle it gathers the client's named pipes and share writes around the creation
//! (`observe`), scores every tool fingerprint (`fingerprints::RULES`) and keeps the best
//! with its reasons and a confidence, reads the client's host name out of PsExec's pipe names,
//! and decodes the command the image path carries (`decode`), giving one [`Attribution`] per
//! lifecycle. Bursts of findings are grouped into campaigns by [`campaign`], once the report's
//! findings are final; the analyst's allow-list is [`allow`].

pub mod allow;
pub mod campaign;
mod decode;
mod fingerprints;
mod observe;
mod tool;

use std::collections::BTreeMap;

use crate::event::Event;
use crate::lifecycle::{Lifecycle, Verdict};

pub use allow::{AllowError, AllowList};
pub use tool::{Confidence, Tool};

/// What attribution says of one lifecycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    /// The tool, [`Tool::Unknown`] when no fingerprint holds.
    pub tool: Tool,
    /// How sure; `None` for an unknown tool.
    pub confidence: Option<Confidence>,
    /// Why that tool, in short sentences.
    pub reasons: Vec<String>,
    /// What it ran, decoded from the image path (base64 PowerShell, smbexec's echoed command).
    pub command: Option<String>,
    /// The client's trail on the host.
    pub client: ClientTrace,
}

/// What the client left on the target around the install.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientTrace {
    /// The client's host name as a tool leaked it (PsExec's `PSEXESVC-<host>-<pid>-stdin`).
    pub host: Option<String>,
    /// Named pipes the client opened on the host around the install (5145 on IPC$, Sysmon
    /// 17/18).
    pub pipes: Vec<String>,
    /// Files the client wrote over an admin share just before the install (5145).
    pub files_written: Vec<String>,
}

impl ClientTrace {
    /// True when the client left nothing seen.
    pub fn is_empty(&self) -> bool {
        self.host.is_none() && self.pipes.is_empty() && self.files_written.is_empty()
    }
}

/// Attribute every lifecycle (same order as `lifecycles`), using the run's `events`
/// (time-ordered).
pub fn attribute(lifecycles: &[Lifecycle], events: &[Event]) -> Vec<Attribution> {
    Attributor::new(events).attribute(lifecycles)
}

/// [`attribute`] for lifecycles given a few at a time (a host's), over one index of the run's
/// share and pipe accesses.
pub struct Attributor<'a> {
    index: observe::ShareIndex<'a>,
}

impl<'a> Attributor<'a> {
    /// Index the share and pipe accesses among `events`.
    pub fn new(events: &'a [Event]) -> Self {
        Attributor {
            index: observe::ShareIndex::build(events),
        }
    }

    /// Each lifecycle's tool, confidence, reasons and client trace.
    pub fn attribute(&self, lifecycles: &[Lifecycle]) -> Vec<Attribution> {
        lifecycles
            .iter()
            .map(|l| {
                let observed = observe::Observed::of(l, &self.index);
                let (tool, confidence, reasons) = identify(l, &observed);
                Attribution {
                    tool,
                    confidence,
                    reasons,
                    command: decode::command(&l.image_path),
                    client: ClientTrace {
                        host: client_host(&observed.pipes),
                        pipes: observed.pipes,
                        files_written: observed.files_written,
                    },
                }
            })
            .collect()
    }
}

/// The best-scoring tool, its confidence and reasons; unknown when no fingerprint holds.
fn identify(l: &Lifecycle, o: &observe::Observed<'_>) -> (Tool, Option<Confidence>, Vec<String>) {
    // Score in table order so ties go to the row listed first (the more specific tool).
    let mut scores: BTreeMap<Tool, (usize, u32, Vec<String>)> = BTreeMap::new();
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
            if !matches!(l.verdict, Verdict::Benign | Verdict::Suspicious) || score >= 3 =>
        {
            (tool, Some(Confidence::of_score(score)), reasons)
        }
        _ => (Tool::Unknown, None, Vec::new()),
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
