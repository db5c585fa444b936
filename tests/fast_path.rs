//! The EVTX fast path (a lean walk that reads EventIDs and substitution values without the
//! `evtx` crate, and skips what cannot matter) gives exactly what rendering every wanted record
//! gives: over the whole shared corpus and a generated scenario, both semantics.

mod common;

use std::path::PathBuf;

use evtx_writer::scenario::{Config, generate};
use svchunt::{Answer, Engine, KqlConfig, LifecycleOptions, Semantics};

fn both_ways(paths: &[PathBuf], semantics: Semantics) -> (String, String) {
    let run = |render_only: bool| {
        let engine = Engine::builder(semantics.clone())
            .evtx_render_only(render_only)
            .build()
            .unwrap();
        let outcome = engine.hunt_paths(paths);
        let answer = match outcome.answer {
            Answer::Lifecycle(r) => serde_json::to_string_pretty(&r).unwrap(),
            Answer::Kql(rows) => serde_json::to_string_pretty(&rows).unwrap(),
        };
        format!("{answer}\n{:?}\n{:?}", outcome.stats, outcome.warnings)
    };
    (run(false), run(true))
}

#[test]
fn fast_path_equals_rendering_over_the_shared_corpus() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    for semantics in [
        Semantics::Lifecycle(LifecycleOptions::default().include_benign(true)),
        Semantics::Kql(KqlConfig::default()),
    ] {
        let name = format!("{semantics:?}");
        let (fast, rendered) = both_ways(std::slice::from_ref(&corpus), semantics);
        assert!(
            fast == rendered,
            "{name}: the fast path differs from rendering"
        );
    }
}

#[test]
fn fast_path_equals_rendering_on_a_generated_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        hosts: 4,
        days: 1,
        events_per_host_day: 4000,
        executions: 20,
        seed: 11,
        sysmon: true,
        start: "2024-05-06T00:00:00Z".parse().unwrap(),
    };
    let logs = dir.path().join("logs");
    generate(&config, &logs).unwrap();
    let (fast, rendered) = both_ways(
        &[logs],
        Semantics::Lifecycle(LifecycleOptions::default().include_benign(true)),
    );
    assert!(fast.contains("remote-execution"));
    assert!(fast == rendered, "the fast path differs from rendering");
}
