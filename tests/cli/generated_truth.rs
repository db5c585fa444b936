//! End to end over generated EVTX: `svchunt hunt` on the 20-host acceptance scenario finds
//! exactly the executions in its `truth.json`, with the right tool ids, sources and removal
//! times, and nothing else.

use std::collections::BTreeMap;

use evtx_writer::scenario::{Config, generate, tools::TOOLS};
use svchunt::{Answer, Engine, Finding, Verdict};

/// The `--preset acceptance` scenario: 20 hosts, 2 days, every tool family three times.
fn acceptance() -> Config {
    Config {
        hosts: 20,
        days: 2,
        events_per_host_day: 3000,
        executions: 3 * TOOLS.len(),
        seed: 7,
        sysmon: true,
        start: "2024-05-06T00:00:00Z".parse().unwrap(),
    }
}

#[test]
fn the_acceptance_scenario_gives_exactly_its_truth() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let summary = generate(&acceptance(), &logs).unwrap();
    let outcome = Engine::default().hunt_paths(&[logs]);
    let Answer::Lifecycle(report) = outcome.answer else {
        unreachable!()
    };
    assert_eq!(outcome.stats.skipped_total(), 0);

    let key = |host: &str, created: &str| (host.to_string(), created.to_string());
    let found: BTreeMap<(String, String), &Finding> = report
        .findings
        .iter()
        .map(|f| (key(&f.computer, &f.created.to_string()), f))
        .collect();
    let mut missed = Vec::new();
    for t in &summary.truth {
        // truth.json dates the 7045; the 4697 may be logged a fraction of a millisecond earlier.
        let Some(f) = report.findings.iter().find(|f| {
            f.computer == t.host
                && f.service_name.eq_ignore_ascii_case(&t.service_name)
                && (f.created.as_millisecond()
                    - t.created
                        .parse::<jiff::Timestamp>()
                        .unwrap()
                        .as_millisecond())
                .abs()
                    <= 2
        }) else {
            missed.push(format!("{} {} {}", t.tool, t.host, t.service_name));
            continue;
        };
        assert_eq!(f.tool.as_str(), t.tool, "{t:?}\n{:?}", f.tool_reasons);
        let want = match t.verdict.as_str() {
            "privilege-escalation" => Verdict::PrivilegeEscalation,
            "local-execution" => Verdict::LocalExecution,
            _ => Verdict::RemoteExecution,
        };
        assert_eq!(f.verdict, want, "{t:?}: {:?}", f.verdict_reasons);
        let source = f.source.as_ref();
        if t.source_ip.is_some() {
            let ip = source.and_then(|s| s.ip.clone());
            assert_eq!(ip, t.source_ip, "{t:?}");
        } else {
            // A local install: its logon, when logged, is an interactive one.
            assert_ne!(source.and_then(|s| s.logon_type), Some(3), "{t:?}");
        }
        let deleted = t
            .deleted
            .as_deref()
            .map(|d| d.parse::<jiff::Timestamp>().unwrap());
        assert_eq!(f.deleted, deleted, "{t:?}");
    }
    assert!(missed.is_empty(), "missed: {missed:#?}");
    assert_eq!(
        report.findings.len(),
        summary.truth.len(),
        "nothing else is reported: {:#?}",
        found.keys().collect::<Vec<_>>()
    );
}
