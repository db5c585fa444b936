//! The EVTX fast path (a lean walk that reads EventIDs and substitution values without the
//! `evtx` crate, and skips what cannot matter) gives exactly what rendering every wanted record
//! gives: over the whole shared corpus and a generated scenario, both semantics.

mod common;

use std::path::PathBuf;

use evtx_writer::scenario::{Config, generate};
use svchunt::event::Locator;
use svchunt::read::evtx_binxml::{ChunkCtx, TemplateStore};
use svchunt::read::{evtx_json, evtx_render};
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
    generate(&config, dir.path()).unwrap();
    let (fast, rendered) = both_ways(
        &[dir.path().to_path_buf()],
        Semantics::Lifecycle(LifecycleOptions::default().include_benign(true)),
    );
    assert!(fast.contains("remote-execution"));
    assert!(fast == rendered, "the fast path differs from rendering");
}

/// How the lean decoder fared over some files.
#[derive(Default, Debug)]
struct Decoded {
    /// Records both read, with equal events.
    equal: u64,
    /// Records the lean decoder left to the crate.
    declined: u64,
    /// Records the compiled recipe read (and the general renderer too, alike).
    by_recipe: u64,
    /// Records the crate could not render (or map) at all.
    crate_failed: u64,
    /// Disagreements, described.
    differ: Vec<String>,
}

/// Every record of every intact chunk of `file`: the lean decoder's event (where it gives one)
/// equals the crate's rendering mapped by `evtx_json::to_event`.
fn decode_both_ways(file: &std::path::Path, store: &TemplateStore, out: &mut Decoded) {
    use evtx::{EvtxChunkData, ParserSettings};
    use std::sync::Arc;
    let bytes = std::fs::read(file).unwrap();
    if !bytes.starts_with(b"ElfFile\0") || bytes.len() < 4096 {
        return;
    }
    let name: Arc<str> = file.display().to_string().into();
    let settings = Arc::new(
        ParserSettings::new()
            .num_threads(1)
            .indent(false)
            .separate_json_attributes(false),
    );
    for data in bytes[4096..].chunks(65536).filter(|c| c.len() == 65536) {
        let Ok(mut chunk) = EvtxChunkData::new(data.to_vec(), false) else {
            continue;
        };
        if !chunk.validate_header_checksum() || !chunk.validate_data_checksum() {
            continue;
        }
        let Ok(mut parsed) = chunk.parse(settings.clone()) else {
            continue;
        };
        let mut ctx = ChunkCtx::new(data, Some(store));
        for record in parsed.iter() {
            let Ok(record) = record else { continue };
            let id = record.event_record_id;
            let ts = record.timestamp;
            let offset = record.binxml_offset as usize - 24;
            let size = record.binxml_size as usize + 28;
            let inst = ctx.record(offset, size).map(|(inst, _)| inst);
            let lean = inst
                .as_ref()
                .and_then(|inst| evtx_render::to_event(inst, &name, id, ts));
            // The general renderer and the compiled recipe, each on its own too.
            let general = inst
                .as_ref()
                .and_then(|inst| evtx_render::general(inst, &name, id, ts));
            let recipe = inst
                .as_ref()
                .and_then(|inst| evtx_render::by_recipe(inst, &name, id, ts));
            if let (Some(r), Some(g)) = (&recipe, &general) {
                out.by_recipe += 1;
                if r != g {
                    out.differ.push(format!(
                        "{name} record {id}:\n recipe  {r:?}\n general {g:?}"
                    ));
                }
            }
            let rendered = record
                .into_json()
                .ok()
                .and_then(|r| serde_json::from_str::<serde_json::Value>(&r.data).ok())
                .and_then(|v| {
                    evtx_json::to_event(&v, &name, Some(Locator::Record(id)), Some(ts)).ok()
                });
            match (lean, rendered) {
                (Some(a), Some(b)) if a == b => out.equal += 1,
                (Some(a), b) => out
                    .differ
                    .push(format!("{} record {id}:\n lean  {a:?}\n crate {b:?}", name)),
                (None, Some(_)) => out.declined += 1,
                (None, None) => out.crate_failed += 1,
            }
        }
    }
}

fn evtx_files(root: &std::path::Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

#[test]
fn lean_decoder_equals_rendering_record_by_record() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        hosts: 2,
        days: 1,
        events_per_host_day: 3000,
        executions: 14,
        seed: 5,
        sysmon: true,
        start: "2024-05-06T00:00:00Z".parse().unwrap(),
    };
    generate(&config, dir.path()).unwrap();
    let mut roots = vec![dir.path().to_path_buf()];
    roots.extend(common::corpus());
    for root in roots {
        let store = TemplateStore::default();
        let mut seen = Decoded::default();
        for file in evtx_files(&root) {
            decode_both_ways(&file, &store, &mut seen);
        }
        eprintln!("{}: {seen:?}", root.display());
        assert!(
            seen.differ.is_empty(),
            "{} records differ, first: {}",
            seen.differ.len(),
            seen.differ[0]
        );
        assert!(seen.equal > 0);
        assert!(
            seen.by_recipe * 4 > seen.equal * 3,
            "most records take the recipe"
        );
    }
}
