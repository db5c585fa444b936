//! The judgement table: one generated scenario per behaviour variant (every tool family in the
//! spellings of its versions, getsystem however written, proved-local runs, reconfigured
//! services, thin evidence, odd-looking ordinary installs; see `docs/fingerprints.md`), each
//! hunted and checked for the right verdict and the right tool.

use evtx_writer::scenario::variants::{self, VARIANTS};
use svchunt::{Answer, Engine, Finding, LifecycleOptions};

fn same_time(f: &Finding, created: &str) -> bool {
    let want: jiff::Timestamp = created.parse().unwrap();
    (f.created.as_millisecond() - want.as_millisecond()).abs() <= 2
}

#[test]
fn every_behaviour_variant_gets_its_verdict_and_tool() {
    let dir = tempfile::tempdir().unwrap();
    let (_, truths) = variants::generate(dir.path(), 300, 11).unwrap();
    let engine = Engine::lifecycle(LifecycleOptions::default().include_benign(true))
        .build()
        .unwrap();
    let outcome = engine.hunt_paths(&[dir.path().to_path_buf()]);
    let Answer::Lifecycle(report) = outcome.answer else {
        unreachable!()
    };
    assert_eq!(outcome.stats.skipped_total(), 0);
    let mut wrong = Vec::new();
    let mut checked = 0;
    for vt in &truths {
        let v = &VARIANTS[vt.index];
        for t in &vt.truth {
            checked += 1;
            let found = report.findings.iter().find(|f| {
                f.computer == t.host
                    && f.service_name.eq_ignore_ascii_case(&t.service_name)
                    && same_time(f, &t.created)
            });
            let Some(f) = found else {
                wrong.push(format!("{:<40} not found ({})", v.id, t.service_name));
                continue;
            };
            let tool = f.tool.as_str();
            if f.verdict.as_str() != v.verdict || tool != v.tool {
                wrong.push(format!(
                    "{:<40} got {} / {tool}, want {} / {}\n    verdict: {:?}\n    tool: {:?}",
                    v.id,
                    f.verdict.as_str(),
                    v.verdict,
                    v.tool,
                    f.verdict_reasons,
                    f.tool_reasons
                ));
            }
        }
    }
    assert!(checked >= VARIANTS.len());
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn the_documented_table_lists_every_variant() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/fingerprints.md"),
    )
    .unwrap();
    let missing: Vec<&str> = VARIANTS
        .iter()
        .map(|v| v.id)
        .filter(|id| !doc.contains(&format!("| `{id}` |")))
        .collect();
    assert!(
        missing.is_empty(),
        "not in docs/fingerprints.md: {missing:?}"
    );
}
