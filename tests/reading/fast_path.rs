//! The EVTX fast path (a lean walk that reads EventIDs and substitution values without the
//! `evtx` crate, and skips what cannot matter) gives exactly what rendering every wanted record
//! gives: over the whole shared corpus and a generated scenario, both semantics.

use crate::common;

use std::path::PathBuf;

use evtx_writer::DataValue;
use evtx_writer::scenario::{Config, generate};
use svchunt::event::Locator;
use svchunt::read::evtx_binxml::ChunkCtx;
use svchunt::read::evtx_template::TemplateStore;
use svchunt::read::{evtx_json, evtx_render};
use svchunt::{Answer, Engine, KqlConfig, LifecycleOptions, Semantics};

/// The answer read (two passes, lean decoder; one pass, lean decoder) and rendered; the
/// one-pass answer must be the two-pass one, or the first is returned in its place.
fn both_ways(paths: &[PathBuf], semantics: Semantics) -> (String, String) {
    let run = |render_only: bool, one_pass: bool| {
        let engine = Engine::builder(semantics.clone())
            .evtx_render_only(render_only)
            .evtx_one_pass(one_pass)
            .build()
            .unwrap();
        let outcome = engine.hunt_paths(paths);
        let answer = match outcome.answer {
            Answer::Lifecycle(r) => serde_json::to_string_pretty(&r).unwrap(),
            Answer::Kql(rows) => serde_json::to_string_pretty(&rows).unwrap(),
        };
        format!("{answer}\n{:?}\n{:?}", outcome.stats, outcome.warnings)
    };
    let (two, one) = (run(false, false), run(false, true));
    if one != two {
        return (one, two);
    }
    (two, run(true, false))
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
        std::slice::from_ref(&logs),
        Semantics::Lifecycle(LifecycleOptions::default().include_benign(true)),
    );
    assert!(fast.contains("remote-execution"));
    assert!(fast == rendered, "the fast path differs from rendering");
    // To the seed query the Sysmon logs hold nothing: the lean read does not read them again
    // for its second pass (rendering does), and must come to the same.
    let (fast, rendered) = both_ways(&[logs], Semantics::Kql(KqlConfig::default()));
    assert!(fast.contains("InstalledService"));
    assert!(
        fast == rendered,
        "the seed query: the fast path differs from rendering"
    );
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
    /// Records decoded again into the event that held the records before them (as the seed
    /// query's account events are), equal to their own decoding.
    reused: u64,
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
        // Written over by every record of the chunk in turn.
        let mut reused: Option<svchunt::event::Event> = None;
        let mut scratch = evtx_render::Scratch::default();
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
            if let (Some(inst), Some(lean)) = (&inst, &lean) {
                let into = reused.get_or_insert_with(|| lean.clone());
                if !evtx_render::to_event_into(inst, &name, id, ts, into, &mut scratch) {
                    out.differ.push(format!(
                        "{name} record {id}: decoded, but not into an event"
                    ));
                } else if into != lean {
                    out.differ.push(format!(
                        "{name} record {id}:\n reused {into:?}\n fresh  {lean:?}"
                    ));
                } else {
                    out.reused += 1;
                }
            }
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

/// A generated scenario of `hosts` hosts (a day of 3,000 events each, `executions` remote
/// executions) in a folder kept while the first value lives, then the shared corpus if this
/// machine has it: the roots to check.
fn scenario_and_corpus(
    hosts: usize,
    executions: usize,
    seed: u64,
) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        hosts,
        days: 1,
        events_per_host_day: 3000,
        executions,
        seed,
        sysmon: true,
        start: "2024-05-06T00:00:00Z".parse().unwrap(),
    };
    generate(&config, dir.path()).unwrap();
    let mut roots = vec![dir.path().to_path_buf()];
    roots.extend(common::corpus());
    (dir, roots)
}

#[test]
fn lean_decoder_equals_rendering_record_by_record() {
    let (_dir, roots) = scenario_and_corpus(2, 14, 5);
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
            seen.reused >= seen.equal,
            "every record decoded also into a reused event"
        );
        assert!(
            seen.by_recipe * 4 > seen.equal * 3,
            "most records take the recipe"
        );
    }
}

/// Chunks whose records are damaged but whose CRC32s say they are intact (a log written
/// wrong, or forged): the fast path gives the answer rendering every record gives, falling
/// back to the crate wherever the lean decoder declines. It reads only the records the hunt
/// needs, so it can miss a damaged record rendering meets: its warnings are some of
/// rendering's, and every record is counted, read or skipped.
#[test]
fn fast_path_equals_rendering_on_damaged_records_in_intact_chunks() {
    // More with SVCHUNT_DAMAGE_SEEDS=n (each another pattern of damage).
    let more: u64 = std::env::var("SVCHUNT_DAMAGE_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let seeds = [
        0x9e37_79b9_7f4a_7c15u64,
        0x2545_f491_4f6c_dd1d,
        0x1405_7b7e_f767_814f,
    ];
    for seed in seeds
        .into_iter()
        .chain((1..=more).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1))
    {
        damaged_records_in_intact_chunks(seed);
    }
}

fn damaged_records_in_intact_chunks(seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        hosts: 2,
        days: 1,
        events_per_host_day: 2500,
        executions: 14,
        seed: 23,
        sysmon: true,
        start: "2024-05-06T00:00:00Z".parse().unwrap(),
    };
    generate(&config, dir.path()).unwrap();
    // A fixed xorshift stream: the same damage every run.
    let mut state = seed;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for file in evtx_files(dir.path()) {
        if file.extension().is_none_or(|e| e != "evtx") {
            continue;
        }
        let mut bytes = std::fs::read(&file).unwrap();
        let chunks = (bytes.len() - 4096) / 65536;
        for n in 0..chunks {
            let chunk = &mut bytes[4096 + n * 65536..4096 + (n + 1) * 65536];
            let free = u32::from_le_bytes(chunk[48..52].try_into().unwrap()) as usize;
            // Damage a few bytes of the records of one chunk in two, then make the CRC32s
            // agree again.
            if next() % 2 == 0 || free <= 512 {
                continue;
            }
            for _ in 0..1 + next() % 6 {
                let at = 512 + (next() as usize % (free - 512));
                chunk[at] ^= 1 << (next() % 8);
            }
            let crc = crc32fast::hash(&chunk[512..free]);
            chunk[52..56].copy_from_slice(&crc.to_le_bytes());
            let mut h = crc32fast::Hasher::new();
            h.update(&chunk[..120]);
            h.update(&chunk[128..512]);
            let crc = h.finalize();
            chunk[124..128].copy_from_slice(&crc.to_le_bytes());
        }
        std::fs::write(&file, bytes).unwrap();
    }
    for semantics in [
        Semantics::Lifecycle(LifecycleOptions::default().include_benign(true)),
        Semantics::Kql(KqlConfig::default()),
    ] {
        let name = format!("{semantics:?}, damage {seed:#x}");
        let run = |render_only: bool, one_pass: bool| {
            Engine::builder(semantics.clone())
                .evtx_render_only(render_only)
                .evtx_one_pass(one_pass)
                .build()
                .unwrap()
                .hunt_paths(&[dir.path().to_path_buf()])
        };
        let (fast, rendered) = (run(false, false), run(true, false));
        let answer = |h: &svchunt::Hunt| match &h.answer {
            Answer::Lifecycle(r) => serde_json::to_string_pretty(r).unwrap(),
            Answer::Kql(rows) => serde_json::to_string_pretty(rows).unwrap(),
        };
        assert!(answer(&fast) == answer(&rendered), "{name}: answers differ");
        assert!(
            answer(&run(false, true)) == answer(&fast),
            "{name}: one pass and two differ"
        );
        assert_eq!(
            fast.stats.records_selected, rendered.stats.records_selected,
            "{name}"
        );
        // Rendering counts a chunk it cannot parse as one loss; the fast path reads its
        // records' ids without the crate and needs nothing else of them.
        assert!(
            fast.stats.records + fast.stats.skipped_total()
                >= rendered.stats.records + rendered.stats.skipped_total(),
            "{name}: every record counted"
        );
        assert!(
            fast.stats.skipped_total() <= rendered.stats.skipped_total(),
            "{name}"
        );
        for w in &fast.warnings {
            assert!(
                rendered.warnings.contains(w),
                "{name}: {w} only in the fast path"
            );
        }
        assert!(rendered.stats.skipped_total() > 0, "the damage shows");
    }
}

/// A hunt of paths holds its events compactly and judges them a host at a time; a hunt of
/// events in memory judges them all at once. Over the shared corpus and a generated scenario of
/// several hosts, both give the same findings and campaigns. (Not the same coverage: a reader
/// credits each log file to its host, which events in memory no longer say.)
#[test]
fn hosts_judged_one_at_a_time_give_the_report_of_all_at_once() {
    let (_dir, roots) = scenario_and_corpus(5, 20, 17);
    for root in roots {
        let engine = Engine::lifecycle(LifecycleOptions::default().include_benign(true))
            .build()
            .unwrap();
        let report = |answer: Answer| match answer {
            Answer::Lifecycle(r) => {
                serde_json::to_string_pretty(&(&r.findings, &r.campaigns)).unwrap()
            }
            Answer::Kql(_) => unreachable!("a lifecycle engine"),
        };
        let by_host = report(engine.hunt_paths(std::slice::from_ref(&root)).answer);
        let events = engine.read_events(std::slice::from_ref(&root), None).events;
        let at_once = report(engine.hunt_events(events).answer);
        assert!(
            by_host.contains("\"verdict\""),
            "{}: findings",
            root.display()
        );
        assert!(
            by_host == at_once,
            "{}: host by host differs from all at once",
            root.display()
        );
    }
}

/// A hunt of paths holds the seed query's events compactly and makes events of them one at a
/// time; a hunt of events in memory reads them as they are. Both give the same rows (origins
/// included), and the notes of the events hunt are among the paths hunt's warnings.
#[test]
fn the_seed_query_over_events_held_compactly_gives_the_rows_of_events_in_memory() {
    let (_dir, roots) = scenario_and_corpus(5, 20, 23);
    for root in roots {
        let engine = Engine::kql(KqlConfig::default()).build().unwrap();
        let rows = |answer: Answer| match answer {
            Answer::Kql(rows) => rows,
            Answer::Lifecycle(_) => unreachable!("a kql engine"),
        };
        let paths = engine.hunt_paths(std::slice::from_ref(&root));
        let events = engine.read_events(std::slice::from_ref(&root), None).events;
        let in_memory = engine.hunt_events(events);
        for w in &in_memory.warnings {
            assert!(
                paths.warnings.iter().any(|p| p.message == w.message),
                "{}: {w:?} only in memory",
                root.display()
            );
        }
        let (held, at_once) = (rows(paths.answer), rows(in_memory.answer));
        assert!(!held.is_empty(), "{}: rows", root.display());
        assert_eq!(
            held,
            at_once,
            "{}: held differs from in memory",
            root.display()
        );
    }
}

/// Which of `records` (of id `id` in `channel`, each its fields' values and whether `filter`
/// keeps it) the lean walk keeps and which rendering keeps, each beside what is expected. The
/// records follow 600 of `filler`: the file's first chunk is decoded whole, the walk decides
/// from the second.
fn kept_both_ways(
    id: u16,
    channel: &str,
    fields: &[&str],
    filler: &[DataValue],
    records: &[(Vec<DataValue>, bool)],
    filter: svchunt::select::Filter,
) {
    use crate::forms_samples::{evtx_of_records, record_of};
    use svchunt::discover::read_file;
    use svchunt::read::ReadOptions;
    let records: Vec<(Vec<DataValue>, bool)> = std::iter::repeat_n((filler.to_vec(), false), 600)
        .chain(records.iter().cloned())
        .collect();
    // Each record's header from an event's, its data typed.
    let mut header = common::sysmon_registry(
        13,
        "2024-05-06T08:23:00Z",
        "WKS-0002.corp.example",
        "SetValue",
        "x",
    );
    header.event_id = u32::from(id);
    header.channel = channel.into();
    let start = header.time;
    let bytes = evtx_of_records(records.iter().enumerate().map(|(i, (values, _))| {
        let mut e = header.clone();
        e.record_id = Some(100 + i as u64);
        e.time = start + jiff::SignedDuration::from_secs(i as i64);
        let mut r = record_of(&e);
        r.event_data = fields
            .iter()
            .map(|f| f.to_string())
            .zip(values.iter().cloned())
            .collect();
        r
    }));
    assert!(
        bytes.len() > 4096 + 65536,
        "the records fill more than one chunk"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("log.evtx");
    std::fs::write(&file, bytes).unwrap();
    let options = |render_only: bool| {
        let mut opts = ReadOptions::default().with_filter(filter.clone());
        opts.evtx_render_only = render_only;
        opts
    };
    if filter.tallies(u32::from(id)) {
        // Folded into the account sightings, not kept: how many were selected tells.
        let selected = |render_only| {
            read_file(&file, &options(render_only))
                .stats
                .records_selected
        };
        let expected = records.iter().filter(|(_, keep)| *keep).count() as u64;
        assert_eq!(selected(false), expected, "the lean walk");
        assert_eq!(selected(true), expected, "rendering");
        return;
    }
    let kept = |render_only: bool| {
        let opts = options(render_only);
        let mut ids: Vec<u64> = read_file(&file, &opts)
            .events
            .iter()
            .filter_map(|e| e.record_id)
            .collect();
        ids.sort_unstable();
        ids
    };
    let expected: Vec<u64> = records
        .iter()
        .enumerate()
        .filter(|(_, (_, keep))| *keep)
        .map(|(i, _)| 100 + i as u64)
        .collect();
    assert_eq!(kept(false), expected, "the lean walk");
    assert_eq!(kept(true), expected, "rendering");
}

/// String values.
fn text(values: &[&str]) -> Vec<DataValue> {
    values.iter().map(|v| DataValue::str(*v)).collect()
}

/// The lean walk searches a record's values for phrases all at once (the verdict's client
/// names, on every process creation): a phrase in any one value keeps the record, as the
/// decoded event's own test does, and one only spelt across two values does not.
#[test]
fn phrases_are_found_in_any_value_of_a_record_and_only_within_one() {
    const HOST: &str = "WKS-0002.corp.example";
    let sid = "S-1-5-21-1-2-3-1104";
    let install = [
        common::s7045(
            "2024-05-06T08:22:00.680Z",
            HOST,
            sid,
            "PSEXESVC",
            "%SystemRoot%\\PSEXESVC.exe",
        ),
        common::s4697(
            "2024-05-06T08:22:00.680Z",
            HOST,
            sid,
            "CORP\\alice",
            "0x3340dfa",
            "PSEXESVC",
            "%SystemRoot%\\PSEXESVC.exe",
        ),
    ];
    let creations = [
        (
            text(&["C:\\Tools\\PsExec64.exe", "psexec.c", "x", "0x3e7", "y"]),
            true,
        ),
        (
            text(&[
                "C:\\a.exe",
                "a.exe",
                "a.exe",
                "0x3e7",
                "C:\\Tools\\PAEXEC.EXE",
            ]),
            true,
        ),
        (
            text(&["C:\\Windows\\System32\\SC.exe", "", "", "0x3e7", ""]),
            true,
        ),
        (
            text(&["C:\\b.exe", "b.exe", "b  sc.exe  create", "0x3e7", "b"]),
            true,
        ),
        // The installing session's logon id, as Sysmon writes it, and behind characters the
        // decoded test trims (a vertical tab, a no-break space).
        (text(&["C:\\c.exe", "c.exe", "c", "0x3340dfa", "c"]), true),
        (
            text(&["C:\\c.exe", "c.exe", "c", "\u{b}0x3340dfa", "c"]),
            true,
        ),
        (
            text(&["C:\\c.exe", "c.exe", "c", "\u{a0}0x3340dfa", "c"]),
            true,
        ),
        (text(&["C:\\c.exe", "c.exe", "c", "x0x3340dfa", "c"]), false),
        // "psexec" only across the end of one value and the start of the next.
        (text(&["C:\\d\\ps", "exec", "d", "0x3e7", "d"]), false),
        (text(&["C:\\e.exe", "e.exe", "e", "0x3e7", "e"]), false),
    ];
    kept_both_ways(
        1,
        "Microsoft-Windows-Sysmon/Operational",
        &[
            "Image",
            "OriginalFileName",
            "CommandLine",
            "LogonId",
            "ParentImage",
        ],
        &text(&["C:\\f.exe", "f.exe", "f", "0x3e7", "f"]),
        &creations,
        svchunt::lifecycle::plan().full_filter(&install),
    );
}

/// Needles of SIDs (and numbers) alone are looked for only in values that can start as one; a
/// SID written as text is still found however the decoded test would find it (any case, behind
/// spaces `str::trim` trims), and a binary one by its bytes.
#[test]
fn sids_are_found_in_text_behind_what_a_trim_trims() {
    use svchunt::select::{NeedleMap, NeedlesBuilder, ReadPlan};
    fn needles(_: &dyn svchunt::select::Anchors) -> NeedleMap {
        let mut b = NeedlesBuilder::default();
        b.sid("S-1-5-21-1-2-3-1104").number(0x3340dfa);
        NeedleMap::from([(4624, b.build())])
    }
    let plan = ReadPlan::new(&[7045], &[4624], Default::default(), needles);
    let sid = "S-1-5-21-1-2-3-1104";
    let typed = |sid: &str, logon: u64| {
        vec![
            DataValue::Sid(evtx_writer::Sid::parse(sid).unwrap()),
            DataValue::str("alice"),
            DataValue::HexInt64(logon),
        ]
    };
    let logons = [
        (text(&[sid, "alice", "0x1"]), true),
        (text(&[" s-1-5-21-1-2-3-1104", "alice", "0x1"]), true),
        (text(&["\u{a0}S-1-5-21-1-2-3-1104", "alice", "0x1"]), true),
        (text(&["\u{b}S-1-5-21-1-2-3-1104", "alice", "0x1"]), true),
        (text(&["XS-1-5-21-1-2-3-1104", "alice", "0x1"]), false),
        (text(&["S-1-5-21-1-2-3-1105", "alice", "0x1"]), false),
        (text(&["S-1-5-18", "SYSTEM", " 0x3340dfa"]), true),
        // As Windows writes them: a binary SID and a 64-bit hex logon id.
        (typed(sid, 0x1), true),
        (typed("S-1-5-21-1-2-3-1105", 0x1), false),
        (typed("S-1-5-21-1-2-3", 0x1), false),
        (typed("S-1-5-18", 0x3340dfa), true),
    ];
    kept_both_ways(
        4624,
        "Security",
        &["TargetUserSid", "TargetUserName", "TargetLogonId"],
        &text(&["S-1-5-18", "SYSTEM", "0x3e7"]),
        &logons,
        plan.full_filter(&[]),
    );
}

/// Needles of SIDs alone (the seed query's account events) are first looked for in a record's
/// bytes, by each SID's end: every form a value can hold one in must still be found (binary,
/// UTF-16 text in either case, code-page text), and a value that only ends like one must
/// still be told apart by its walk.
///
/// A record the pass folds (the seed query's logons) is decoded on the search's word alone and
/// tested whole: those that only end like a needle are still not counted.
#[test]
fn sid_needles_alone_are_found_in_every_form_a_value_holds() {
    use svchunt::select::{NeedleMap, NeedlesBuilder, ReadPlan};
    fn needles(_: &dyn svchunt::select::Anchors) -> NeedleMap {
        let mut b = NeedlesBuilder::default();
        b.sid("S-1-5-21-1-2-3-1104").sid("S-1-5-21-7-8-9-500");
        NeedleMap::from([(4624, b.build())])
    }
    for plan in [
        ReadPlan::new(&[7045], &[4624], Default::default(), needles),
        ReadPlan::new(&[7045], &[4624], Default::default(), needles).tallied(&[4624]),
    ] {
        sid_logons_kept_both_ways(plan.full_filter(&[]));
    }
}

/// [`kept_both_ways`] over logons whose values hold the needles of
/// `sid_needles_alone_are_found_in_every_form_a_value_holds` in every form, or end like one.
fn sid_logons_kept_both_ways(filter: svchunt::select::Filter) {
    let binary = |sid: &str| DataValue::Sid(evtx_writer::Sid::parse(sid).unwrap());
    let ansi = |sid: &str| DataValue::AnsiString(sid.into());
    let with = |sid: DataValue| vec![binary("S-1-5-18"), sid, DataValue::str("alice")];
    let logons = [
        (with(binary("S-1-5-21-1-2-3-1104")), true),
        (with(binary("S-1-5-21-7-8-9-500")), true),
        (with(DataValue::str("s-1-5-21-1-2-3-1104")), true),
        (with(DataValue::str(" S-1-5-21-7-8-9-500")), true),
        (with(ansi("S-1-5-21-1-2-3-1104")), true),
        (with(ansi("s-1-5-21-7-8-9-500 ")), true),
        // Ends as a needle does, is none.
        (with(DataValue::str("S-1-5-21-9-1-2-3-1104")), false),
        (with(ansi("S-1-5-21-1-2-3-11104")), false),
        (with(binary("S-1-5-21-9-1-2-3-1104")), false),
        (with(binary("S-1-5-21-1-2-3-1105")), false),
        (with(DataValue::str("S-1-5-21-1-2-3-1105")), false),
    ];
    kept_both_ways(
        4624,
        "Security",
        &["SubjectUserSid", "TargetUserSid", "TargetUserName"],
        &with(binary("S-1-5-21-1-2-3-1105")),
        &logons,
        filter,
    );
}

/// Records of an id no pass reads may hold arrays of strings (real System and Application
/// logs have them). The crate builds every record up to the last one a chunk needs, so the
/// lean walk must vouch for those too: it does for an array the crate reads to its end,
/// and its chunk is then not the crate's to read. One whose last string has no NUL (the crate
/// would read on into the next value) and a needed record holding an array are the crate's.
/// Either way the events, counts and warnings are rendering's.
#[test]
fn records_holding_string_arrays_are_vouched_for_when_the_crate_reads_them_to_their_end() {
    use crate::forms_samples::{evtx_of_records, record_of};
    use svchunt::discover::read_file;
    use svchunt::read::{ReadOptions, evtx_scan};
    // 2,000 records: every tenth a wanted 7045, the rest 6009s holding string arrays. The
    // 1,234th holds the one string array patched below to lose its last NUL; the 1,900th is a
    // 7045 with an array of its own.
    let header = common::s7045(
        "2024-05-06T08:00:00Z",
        "SRV-01.corp.example",
        "S-1-5-18",
        "x",
        "x.exe",
    );
    let records = (0..2000u64).map(|i| {
        let mut e = header.clone();
        e.record_id = Some(1 + i);
        e.time = header.time + jiff::SignedDuration::from_secs(i as i64);
        let mut r = record_of(&e);
        let items = |last: &str| {
            DataValue::StringArray(vec![format!("item {i}"), String::new(), last.into()])
        };
        r.event_data = if i % 10 == 9 {
            let mut data = vec![
                ("ServiceName".into(), DataValue::str(format!("svc{i}"))),
                ("ImagePath".into(), DataValue::str(format!("C:\\s{i}.exe"))),
            ];
            if i == 1899 {
                data.push(("Names".into(), items("needed")));
            }
            data
        } else {
            r.system.event_id = 6009;
            vec![
                (
                    "Items".into(),
                    items(if i == 1233 { "OMEGA" } else { "end" }),
                ),
                ("Empty".into(), DataValue::StringArray(Vec::new())),
                ("After".into(), DataValue::UInt32(7)),
            ]
        };
        r
    });
    let mut bytes = evtx_of_records(records);
    // "OMEGA" and its NUL become "OMEGA!": an array whose last string runs on.
    let omega: Vec<u8> = "OMEGA\0"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let at = bytes
        .windows(omega.len())
        .position(|w| w == omega)
        .expect("the marked array");
    bytes[at + 10] = b'!';
    let chunk_of = |at: usize| (at - 4096) / 65536;
    let patched = chunk_of(at);
    let chunk = &mut bytes[4096 + patched * 65536..4096 + (patched + 1) * 65536];
    let free = u32::from_le_bytes(chunk[48..52].try_into().unwrap()) as usize;
    let crc = crc32fast::hash(&chunk[512..free]);
    chunk[52..56].copy_from_slice(&crc.to_le_bytes());
    let chunks = (bytes.len() - 4096) / 65536;
    assert!(chunks >= 4, "{chunks} chunks");

    // Record by record: the walk vouches for every array but the patched one, and decodes
    // none (a needed record holding one is the crate's to render).
    let store = TemplateStore::default();
    let (mut vouched, mut refused) = (0, 0);
    for n in 1..chunks {
        let data = &bytes[4096 + n * 65536..4096 + (n + 1) * 65536];
        let free = u32::from_le_bytes(data[48..52].try_into().unwrap()) as usize;
        let mut ctx = ChunkCtx::new(data, Some(&store));
        for r in evtx_scan::records(data, free).unwrap() {
            let runs_on = r.record_id == 1234;
            let arrays = r.event_id == Some(6009) || r.record_id == 1900;
            assert_eq!(
                ctx.vouch(r.offset, r.size).is_some(),
                !runs_on,
                "record {}",
                r.record_id
            );
            assert_eq!(
                ctx.record(r.offset, r.size).is_some(),
                !arrays,
                "record {}",
                r.record_id
            );
            vouched += usize::from(arrays && !runs_on);
            refused += usize::from(runs_on);
        }
    }
    assert!(
        vouched > 1000 && refused == 1,
        "{vouched} vouched, {refused} refused"
    );

    // The whole file, read lean and rendered.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("System.evtx");
    std::fs::write(&file, &bytes).unwrap();
    let read = |render_only: bool| {
        let mut opts = ReadOptions::default().with_filter(svchunt::select::Filter::ids([7045]));
        opts.evtx_render_only = render_only;
        let out = read_file(&file, &opts);
        (out.events, out.stats, out.warnings)
    };
    let (lean, rendered) = (read(false), read(true));
    assert_eq!(lean.0.len(), 200, "every 7045");
    assert!(
        lean.0
            .iter()
            .any(|e| e.record_id == Some(1900)
                && e.field("Names").is_some_and(|v| v.contains("needed"))),
        "the needed record's array is read"
    );
    assert!(lean == rendered, "the lean walk reads as rendering does");
}
