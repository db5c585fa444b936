//! The lateral-movement view: who moved to which host, with what, how often.
//!
//! One edge per (source, target host): the source is the client address of the installing
//! logon, else the client host name a tool leaked, else `unknown source`. Only remote
//! executions are movement; local runs and privilege escalation are not edges.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use jiff::Timestamp;
use serde::Serialize;

use crate::report::{Finding, Verdict};

/// One movement edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    /// The source: IP, else leaked client host, else `unknown source`.
    pub source: String,
    /// Client host names seen for this source (from PsExec pipe names, logon workstation).
    pub source_hosts: Vec<String>,
    /// The target host.
    pub target: String,
    /// Accounts used.
    pub accounts: Vec<String>,
    /// Tools used.
    pub tools: Vec<String>,
    /// First execution.
    pub first: Timestamp,
    /// Last execution.
    pub last: Timestamp,
    /// How many executions.
    pub count: usize,
}

/// The edges of `findings`, sorted by source then target.
pub fn edges(findings: &[Finding]) -> Vec<Edge> {
    #[derive(Default)]
    struct Acc {
        hosts: BTreeSet<String>,
        accounts: BTreeSet<String>,
        tools: BTreeSet<String>,
        first: Option<Timestamp>,
        last: Option<Timestamp>,
        count: usize,
    }
    let mut acc: BTreeMap<(String, String), Acc> = BTreeMap::new();
    for f in findings
        .iter()
        .filter(|f| f.verdict == Verdict::RemoteExecution)
    {
        let src = f.source.as_ref();
        let client = src.and_then(|s| s.client_host.clone()).or_else(|| {
            src.and_then(|s| s.workstation.clone())
                .filter(|w| w != "-" && !w.is_empty())
        });
        let source = src
            .and_then(|s| s.ip.clone())
            .filter(|ip| ip != "-" && !ip.is_empty())
            .or_else(|| client.clone())
            .unwrap_or_else(|| "unknown source".into());
        let a = acc.entry((source, f.computer.clone())).or_default();
        a.hosts.extend(client);
        a.accounts
            .extend(f.user.name.clone().or_else(|| f.user.sid.clone()));
        a.tools.insert(f.tool.to_string());
        a.first = Some(a.first.map_or(f.created, |t| t.min(f.created)));
        a.last = Some(a.last.map_or(f.created, |t| t.max(f.created)));
        a.count += 1;
    }
    acc.into_iter()
        .map(|((source, target), a)| Edge {
            source,
            source_hosts: a.hosts.into_iter().collect(),
            target,
            accounts: a.accounts.into_iter().collect(),
            tools: a.tools.into_iter().collect(),
            first: a.first.expect("an edge has an execution"),
            last: a.last.expect("an edge has an execution"),
            count: a.count,
        })
        .collect()
}

/// Edges as one JSON document: `{"edges": [...]}`.
pub fn write_json(out: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
    #[derive(Serialize)]
    struct Doc {
        edges: Vec<Edge>,
    }
    super::escape::write_json(
        &mut *out,
        super::escape::JsonFormatter::pretty(),
        &Doc {
            edges: edges(findings),
        },
    )?;
    writeln!(out)
}

/// A DOT string literal (quotes and backslashes escaped). Each line is first escaped for the
/// terminal, as `dot` output is often read there: a log's control characters are shown as
/// `\x1b`, and the label's own line breaks stay line breaks.
fn dot_str(s: &str) -> String {
    let lines: Vec<String> = s
        .split('\n')
        .map(|line| {
            super::escape::terminal(line)
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
        })
        .collect();
    format!("\"{}\"", lines.join("\\n"))
}

/// Edges as a Graphviz digraph.
pub fn write_dot(out: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
    writeln!(out, "digraph lateral_movement {{")?;
    writeln!(out, "  rankdir=LR;")?;
    writeln!(out, "  node [shape=box, fontname=\"Helvetica\"];")?;
    for e in edges(findings) {
        let source_label = if e.source_hosts.is_empty() {
            e.source.clone()
        } else {
            format!("{}\n({})", e.source, e.source_hosts.join(", "))
        };
        let label = format!(
            "{} × {}\n{}\n{} … {}",
            e.count,
            e.tools.join(", "),
            e.accounts.join(", "),
            e.first,
            e.last
        );
        writeln!(
            out,
            "  {} -> {} [label={}];",
            dot_str(&source_label),
            dot_str(&e.target),
            dot_str(&label)
        )?;
    }
    writeln!(out, "}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_strings_are_escaped() {
        assert_eq!(dot_str(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(dot_str("a\nb"), r#""a\nb""#);
        assert_eq!(dot_str("a\x1b[2Jb"), r#""a\\x1b[2Jb""#);
    }
}
