//! The one-file HTML report: summary, timeline, lateral-movement graph and findings table.
//!
//! The file is self-contained so it can be opened on an air-gapped analysis machine or attached
//! to a ticket: the style and script are compiled in (`html/report.css`, `html/report.js`), and
//! the findings travel as one JSON document in a `<script type="application/json">` element that
//! the script renders with `textContent` and `createElementNS` only. Nothing from the logs is ever
//! written as markup, here or in the script, so a service named `<script>…` shows as text; a
//! Content-Security-Policy naming the script and style by hash backs that up (see `csp.rs`).
//!
//! The same findings give the same bytes: nothing here reads the clock, and every list is in
//! the findings' order or sorted.

mod csp;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Write};

use jiff::Timestamp;
use serde::Serialize;

use super::graph;
use crate::event::Locator;
use crate::lifecycle::{Role, host_key};
use crate::report::{Campaign, Coverage, Finding, Report, Source, Verdict};

const TEMPLATE: &str = include_str!("html/report.html");
const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");

/// Version of the embedded JSON's shape, for anyone scraping it out of a report.
const DATA_FORMAT: u32 = 1;

/// Write the HTML report for a hunt's findings, coverage and campaigns.
pub fn write_report(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let data = ReportData::new(report);
    let json = script_safe(&serde_json::to_string(&data)?);
    let policy = csp::policy(STYLE, SCRIPT);
    fill(
        out,
        TEMPLATE,
        &[
            ("CSP", &policy),
            ("STYLE", STYLE),
            ("DATA", &json),
            ("SCRIPT", SCRIPT),
        ],
    )
}

/// JSON made safe to sit inside a `<script>` element: `</script>` or `<!--` in a service name
/// must not end or change the element, so `<`, `>` and `&` are written as `\u` escapes (legal
/// anywhere in JSON strings, which is the only place they can occur). U+2028/9 likewise, which
/// older JavaScript engines read as line ends.
fn script_safe(json: &str) -> String {
    let mut s = String::with_capacity(json.len() + json.len() / 64);
    for c in json.chars() {
        match c {
            '<' => s.push_str("\\u003c"),
            '>' => s.push_str("\\u003e"),
            '&' => s.push_str("\\u0026"),
            '\u{2028}' => s.push_str("\\u2028"),
            '\u{2029}' => s.push_str("\\u2029"),
            c => s.push(c),
        }
    }
    s
}

/// Write `template` with each `{{NAME}}` replaced by its value. Only the template is scanned for
/// markers, never a value, so data cannot smuggle in a marker.
fn fill(out: &mut dyn Write, template: &str, values: &[(&str, &str)]) -> io::Result<()> {
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.write_all(&rest.as_bytes()[..start])?;
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| io::Error::other("report template: unclosed marker"))?;
        let name = &after[..end];
        let value = values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| io::Error::other(format!("report template: unknown marker {name}")))?;
        out.write_all(value.as_bytes())?;
        rest = &after[end + 2..];
    }
    out.write_all(rest.as_bytes())
}

/// Milliseconds since the epoch, with the sub-millisecond part as a fraction: the timeline
/// zooms to milliseconds, and EVTX times have 100 ns precision.
fn epoch_ms(t: Timestamp) -> f64 {
    t.as_nanosecond() as f64 / 1e6
}

/// Everything the script draws, as one JSON document.
///
/// Sized for tens of thousands of findings: evidence items are arrays rather than objects, and
/// the sentences that repeat across findings (verdict reasons, evidence details) are stored once
/// in `texts`, so the file stays small enough to open quickly.
#[derive(Serialize)]
struct ReportData<'a> {
    format: u32,
    /// Hosts by host key; a finding's `host` indexes this.
    hosts: Vec<HostData<'a>>,
    /// Evidence files; an evidence item's file index points here.
    files: Vec<&'a str>,
    /// Evidence roles as `[id, label]`; an evidence item's role index points here.
    roles: Vec<(String, &'static str)>,
    /// Repeated sentences; reasons and evidence details index this.
    texts: Vec<&'a str>,
    /// Verdict ids, most serious first, for the summary and filters.
    verdicts: Vec<&'static str>,
    /// Bursts of findings, as attribution grouped them; a finding's `campaign` names one.
    campaigns: &'a [Campaign],
    findings: Vec<FindingData<'a>>,
}

#[derive(Serialize)]
struct HostData<'a> {
    name: &'a str,
    key: String,
    /// `None` for a host known only from findings passed without coverage.
    coverage: Option<&'a Coverage>,
    gaps: Vec<&'static str>,
}

#[derive(Serialize)]
struct FindingData<'a> {
    host: usize,
    computer: &'a str,
    service: &'a str,
    display: Option<&'a str>,
    image: &'a str,
    /// What ran, decoded from `image` by attribution.
    command: Option<&'a str>,
    service_type: Option<&'a str>,
    start_type: Option<&'a str>,
    service_account: Option<&'a str>,
    created: String,
    created_ms: f64,
    deleted: Option<String>,
    deleted_ms: Option<f64>,
    /// Role index of the evidence that dates the removal.
    removal: Option<usize>,
    lifetime_ms: Option<i64>,
    verdict: &'static str,
    /// Indexes into `texts`.
    reasons: Vec<usize>,
    tool: Option<&'a str>,
    tool_confidence: Option<&'a str>,
    /// Indexes into `texts`.
    tool_reasons: Vec<usize>,
    campaign: Option<&'a str>,
    user: Option<&'a str>,
    user_sid: Option<&'a str>,
    source: Option<&'a Source>,
    /// Its lateral-movement edge's source, exactly as `--format graph` names it; `None` when
    /// the finding is not movement.
    movement: Option<MovementData>,
    evidence: Vec<EvidenceData>,
}

/// The source end of a finding's movement edge.
#[derive(Serialize)]
struct MovementData {
    source: String,
    /// Client host names seen for the source: the script draws a source that is also a target
    /// host as that host's node, so A → B → C reads as a path.
    hosts: Vec<String>,
}

/// The movement edge `finding` belongs to, by the graph printer's own rule (one finding gives at
/// most one edge), so the report and `--format graph` can never disagree.
fn movement(finding: &Finding) -> Option<MovementData> {
    graph::edges(std::slice::from_ref(finding))
        .into_iter()
        .next()
        .map(|e| MovementData {
            source: e.source,
            hosts: e.source_hosts,
        })
}

/// `[event id, time, epoch ms, file, record id, position, role, detail]`: the position only
/// when it says more than the record id (a line or row of an export).
#[derive(Serialize)]
struct EvidenceData(
    u32,
    String,
    f64,
    usize,
    Option<u64>,
    Option<String>,
    usize,
    usize,
);

/// The kebab-case id serde gives a role (`key-deleted`), as the JSON output spells it.
fn role_id(role: Role) -> String {
    serde_json::to_value(role)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Strings numbered in order of first use: the same findings always give the same numbers.
struct Interner<'a, K> {
    index: HashMap<K, usize>,
    values: Vec<&'a str>,
}

impl<'a, K: std::hash::Hash + Eq> Interner<'a, K> {
    fn new() -> Self {
        Interner {
            index: HashMap::new(),
            values: Vec::new(),
        }
    }

    fn get(&mut self, key: K, value: &'a str) -> usize {
        let next = self.values.len();
        let i = *self.index.entry(key).or_insert(next);
        if i == next {
            self.values.push(value);
        }
        i
    }
}

impl<'a> ReportData<'a> {
    fn new(report: &'a Report) -> Self {
        let (findings, coverage) = (&report.findings, &report.coverage);
        let mut hosts: BTreeMap<String, HostData<'a>> = BTreeMap::new();
        for c in coverage {
            hosts.entry(host_key(&c.computer)).or_insert(HostData {
                name: &c.computer,
                key: host_key(&c.computer),
                coverage: Some(c),
                gaps: c.gaps(),
            });
        }
        for f in findings {
            hosts.entry(host_key(&f.computer)).or_insert(HostData {
                name: &f.computer,
                key: host_key(&f.computer),
                coverage: None,
                gaps: Vec::new(),
            });
        }
        let host_index: HashMap<String, usize> = hosts
            .keys()
            .enumerate()
            .map(|(i, k)| (k.clone(), i))
            .collect();

        let files: Vec<&str> = findings
            .iter()
            .flat_map(|f| f.evidence.iter().map(|e| &*e.file))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let file_index: HashMap<&str, usize> =
            files.iter().enumerate().map(|(i, f)| (*f, i)).collect();

        // Every role, in the enum's order, so role indexes do not depend on the findings.
        let all_roles: BTreeSet<Role> = findings
            .iter()
            .flat_map(|f| f.evidence.iter().map(|e| e.role).chain(f.deletion_evidence))
            .collect();
        let roles: Vec<(String, &'static str)> =
            all_roles.iter().map(|r| (role_id(*r), r.label())).collect();
        let role_index: HashMap<Role, usize> =
            all_roles.iter().enumerate().map(|(i, r)| (*r, i)).collect();

        let mut texts: Interner<'a, &'a str> = Interner::new();
        let findings = findings
            .iter()
            .map(|f| FindingData {
                host: host_index[&host_key(&f.computer)],
                computer: &f.computer,
                service: &f.service_name,
                display: f.display_name.as_deref(),
                image: &f.image_path,
                command: f.command.as_deref(),
                service_type: f.service_type.as_deref(),
                start_type: f.start_type.as_deref(),
                service_account: f.service_account.as_deref(),
                created: f.created.to_string(),
                created_ms: epoch_ms(f.created),
                deleted: f.deleted.map(|t| t.to_string()),
                deleted_ms: f.deleted.map(epoch_ms),
                removal: f.deletion_evidence.map(|r| role_index[&r]),
                lifetime_ms: f.lifetime_ms,
                verdict: f.verdict.as_str(),
                reasons: f.verdict_reasons.iter().map(|r| texts.get(r, r)).collect(),
                tool: Some(f.tool.as_str()),
                tool_confidence: f.tool_confidence.map(|c| c.as_str()),
                tool_reasons: f.tool_reasons.iter().map(|r| texts.get(r, r)).collect(),
                campaign: f.campaign.as_deref(),
                user: f.user.name.as_deref().or(f.user.sid.as_deref()),
                user_sid: f.user.sid.as_deref(),
                source: f.source.as_ref(),
                movement: movement(f),
                evidence: f
                    .evidence
                    .iter()
                    .map(|e| {
                        let redundant = matches!(
                            (e.locator, e.record_id),
                            (Locator::Record(n), Some(r)) if n == r
                        );
                        EvidenceData(
                            e.event_id,
                            e.time.to_string(),
                            epoch_ms(e.time),
                            file_index[&*e.file],
                            e.record_id,
                            (!redundant).then(|| e.locator.to_string()),
                            role_index[&e.role],
                            texts.get(&e.detail, &e.detail),
                        )
                    })
                    .collect(),
            })
            .collect();

        ReportData {
            format: DATA_FORMAT,
            hosts: hosts.into_values().collect(),
            files,
            roles,
            texts: texts.values,
            verdicts: [
                Verdict::RemoteExecution,
                Verdict::LocalExecution,
                Verdict::PrivilegeEscalation,
                Verdict::Suspicious,
                Verdict::Benign,
            ]
            .map(Verdict::as_str)
            .to_vec(),
            campaigns: &report.campaigns,
            findings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_and_style_cannot_end_their_elements_early() {
        assert!(!SCRIPT.to_ascii_lowercase().contains("</script"));
        assert!(!STYLE.to_ascii_lowercase().contains("</style"));
    }

    #[test]
    fn template_has_each_marker_once() {
        for m in ["{{CSP}}", "{{STYLE}}", "{{DATA}}", "{{SCRIPT}}"] {
            assert_eq!(TEMPLATE.matches(m).count(), 1, "{m}");
        }
    }

    #[test]
    fn json_cannot_break_out_of_its_script_element() {
        let s = script_safe(r#"{"a":"</script><!-- & \u2028"}"#);
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'));
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["a"], "</script><!-- & \u{2028}");
    }

    #[test]
    fn markers_in_values_are_left_alone() {
        let mut out = Vec::new();
        fill(&mut out, "a{{X}}b{{Y}}c", &[("X", "{{Y}}"), ("Y", "2")]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a{{Y}}b2c");
        assert!(fill(&mut Vec::new(), "{{Z}}", &[]).is_err());
    }
}
