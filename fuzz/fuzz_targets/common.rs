//! What every target checks of a reader's output for one input.

use std::sync::Arc;

use svchunt::read::{FileOutput, ReadOptions};
use svchunt::select::{Filter, NeedleMap, NeedlesBuilder, Selection};

/// The options a hunt's evidence pass uses: a few wanted ids, needles on some of them (the EVTX
/// fast path's lean walk and raw-byte search only run when the selection is not "all").
pub fn needle_options() -> ReadOptions {
    let mut names = NeedlesBuilder::default();
    names
        .string("PSEXESVC")
        .string("svc")
        .number(0x3e7)
        .sid("S-1-5-18");
    let mut sysmon = NeedlesBuilder::default();
    sysmon.gate("\\imagepath").phrase("\\imagepath");
    let map = NeedleMap::from([(7036, names.build()), (13, sysmon.build())]);
    ReadOptions::default().with_filter(Filter {
        selection: Selection::only([7045, 4697, 7036, 13, 4624]),
        needles: Some(Arc::new(map)),
        fields: None,
    })
}

/// Invariants of one reader call over one input.
pub fn check(out: &FileOutput, opts: &ReadOptions, name: &Arc<str>) {
    assert_eq!(
        out.stats.records_selected,
        out.events.len() as u64,
        "selected count and kept events disagree"
    );
    assert!(
        out.stats.records_selected <= out.stats.records,
        "more records selected than seen: {:?}",
        out.stats
    );
    for e in &out.events {
        assert!(opts.filter().keeps(e), "kept an event the options drop: {e:?}");
    }
    for w in &out.warnings {
        assert!(
            w.file.starts_with(&**name),
            "warning about another input: {w:?}"
        );
    }
    for ids in out.census.values() {
        assert!(ids.iter().all(|id| opts.filter().wants(*id)));
    }
}
