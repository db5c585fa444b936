//! Per-chunk cost of the EVTX fast path against the `evtx` crate's own walk, on a generated
//! System/Security log: the lean walk (record headers and EventIDs), the lean walk plus every
//! record's substitution values, the lean decoder making every record an event, the crate's
//! parse + `template_instances()` of every record, and its rendering of every record to JSON.

use std::sync::Arc;

use evtx::{EvtxChunkData, ParserSettings};
use evtx_writer::scenario::{Config, generate};
use svchunt::read::evtx_binxml::ChunkCtx;
use svchunt::read::evtx_template::TemplateStore;
use svchunt::read::{evtx_render, evtx_scan};

fn main() {
    divan::main();
}

/// The chunks of a generated Security log (64 KiB each).
fn chunks() -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        hosts: 1,
        days: 1,
        events_per_host_day: 20_000,
        executions: 2,
        seed: 3,
        sysmon: false,
        start: "2024-05-06T00:00:00Z".parse().expect("time"),
    };
    let summary = generate(&config, &dir.path().join("logs")).expect("generate");
    let file = summary
        .files
        .iter()
        .find(|f| f.ends_with("Security.evtx"))
        .expect("a Security log");
    let bytes = std::fs::read(file).expect("read");
    bytes[4096..]
        .chunks(65536)
        .filter(|c| c.len() == 65536)
        .map(<[u8]>::to_vec)
        .collect()
}

fn free_space(chunk: &[u8]) -> usize {
    u32::from_le_bytes(chunk[48..52].try_into().expect("4 bytes")) as usize
}

#[divan::bench]
fn lean_walk_event_ids(bencher: divan::Bencher) {
    let chunks = chunks();
    bencher.bench_local(|| {
        chunks
            .iter()
            .map(|c| evtx_scan::records(c, free_space(c)).map_or(0, |r| r.len()))
            .sum::<usize>()
    });
}

#[divan::bench]
fn lean_walk_with_values(bencher: divan::Bencher) {
    let chunks = chunks();
    bencher.bench_local(|| {
        let mut n = 0;
        for c in &chunks {
            for r in evtx_scan::records(c, free_space(c)).unwrap_or_default() {
                n += evtx_scan::values(c, r.offset, r.size).map_or(0, |v| v.len());
            }
        }
        n
    });
}

#[divan::bench]
fn crate_parse_and_template_values(bencher: divan::Bencher) {
    let chunks = chunks();
    let settings = Arc::new(ParserSettings::new().num_threads(1));
    bencher.bench_local(|| {
        let mut n = 0;
        for c in &chunks {
            let mut data = EvtxChunkData::new(c.clone(), false).expect("chunk");
            let mut chunk = data.parse(settings.clone()).expect("parse");
            for r in chunk.iter().flatten() {
                n += r.template_instances().map_or(0, |t| t.len());
            }
        }
        n
    });
}

#[divan::bench]
fn lean_decode_every_record(bencher: divan::Bencher) {
    let chunks = chunks();
    let store = TemplateStore::default();
    let name: Arc<str> = "bench".into();
    let time = jiff::Timestamp::UNIX_EPOCH;
    bencher.bench_local(|| {
        let mut n = 0;
        for c in &chunks {
            let mut ctx = ChunkCtx::new(c, Some(&store));
            for r in evtx_scan::records(c, free_space(c)).unwrap_or_default() {
                let event = ctx
                    .record(r.offset, r.size)
                    .and_then(|(inst, _)| evtx_render::to_event(&inst, &name, r.record_id, time));
                n += event.map_or(0, |e| e.data.len());
            }
        }
        n
    });
}

#[divan::bench]
fn crate_render_every_record(bencher: divan::Bencher) {
    let chunks = chunks();
    let settings = Arc::new(ParserSettings::new().num_threads(1).indent(false));
    bencher.bench_local(|| {
        let mut n = 0;
        for c in &chunks {
            let mut data = EvtxChunkData::new(c.clone(), false).expect("chunk");
            let mut chunk = data.parse(settings.clone()).expect("parse");
            for r in chunk.iter().flatten() {
                n += r.into_json().map_or(0, |j| j.data.len());
            }
        }
        n
    });
}
