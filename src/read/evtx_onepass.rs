//! A hunt over a plain EVTX file in one pass (and a glance back): the first pass reads the
//! installs and remembers, per chunk, the keys of the evidence records ([`super::evtx_keys`]);
//! once every input has been read and the needles are known, the second pass reads again only
//! the chunks whose keys meet a needle's (and the few it must: a damaged chunk, the file's
//! first chunk, a chunk holding an evidence record whose values could not be keyed).
//!
//! The outcome is exactly what two full passes give (the first with the plan's anchor filter,
//! the second with its full filter, see `engine::collect`): a chunk the second pass does not
//! read again would have given the second pass what it gave the first, because no evidence
//! record in it holds a needle. A chunk the first pass read with the crate is read with it
//! again, with the full filter.
//!
//! What is held between the passes is small: per chunk a few counts, a census bit mask, its
//! keys (32 bits each, sorted, each once per chunk) and the installs it held.

use std::fs::File;
use std::sync::Arc;

use rayon::prelude::*;

use super::evtx::{
    CHUNK_SIZE, ChunkOutput, FILE_HEADER_SIZE, chunk_output, is_clean, is_unused, merge_chunks,
    parser_settings, read_exact_at,
};
use super::evtx_keys::KeySpec;
use super::evtx_lean::{Keys, Lean, read as lean_read};
use super::{FileOutput, ReadOptions};
use crate::event::Event;
use crate::select::{NeedleKinds, NeedleMap, ReadPlan};

/// What the first pass of a one-pass read needs besides its filter.
#[derive(Debug)]
pub struct Spec {
    /// Which evidence ids to key, and how.
    pub keys: KeySpec,
    /// The ids the second pass wants (anchors and evidence): bit `i` of a chunk's census mask
    /// is `wanted[i]`.
    wanted: Vec<u32>,
}

impl Spec {
    /// For a plan whose second pass wants `wanted` ids; `None` when they are too many for a
    /// census mask (the hunt then reads in two passes).
    pub fn new(keys: KeySpec, wanted: &[u32]) -> Option<Spec> {
        let mut wanted = wanted.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        (wanted.len() <= 64).then_some(Spec { keys, wanted })
    }

    fn bit(&self, id: u32) -> u64 {
        self.wanted.binary_search(&id).map_or(0, |i| 1u64 << i)
    }

    /// The census mask of `ids`.
    pub fn mask(&self, ids: impl IntoIterator<Item = u32>) -> u64 {
        ids.into_iter().fold(0, |m, id| m | self.bit(id))
    }
}

/// The one-pass spec of `plan`: its evidence ids with the kinds of needle they may be given,
/// and the gates their needles always have. `None` when the plan cannot be read in one pass:
/// its first pass reads evidence too, or its needles choose among the anchors (this read keeps
/// the first pass's anchors as they are).
pub fn spec(plan: &ReadPlan) -> Option<Arc<Spec>> {
    let static_needles = plan.needles(&[]);
    if plan.has_first_pass_evidence()
        || plan
            .anchors()
            .iter()
            .any(|id| static_needles.contains_key(id))
    {
        return None;
    }
    let evidence: Vec<(u32, NeedleKinds)> = plan
        .evidence()
        .iter()
        .map(|id| (*id, plan.kinds_for(*id)))
        .collect();
    let keys = KeySpec::new(&evidence, &static_needles);
    let wanted: Vec<u32> = plan.ids().collect();
    Spec::new(keys, &wanted).map(Arc::new)
}

/// A chunk as the first pass left it.
#[derive(Debug)]
enum State {
    /// An unused slot: nothing in either pass.
    Empty,
    /// Read without the crate.
    Lean(Box<LeanChunk>),
    /// Read by the crate; its events (the installs) are kept for the needles only: the
    /// second pass reads it again with the crate.
    Crate(Vec<Event>),
}

#[derive(Debug)]
struct LeanChunk {
    records: u64,
    selected: u64,
    /// Census bits.
    seen: u64,
    /// Where its keys are in [`Deferred::keys`].
    keys: (u32, u32),
    /// Must be read again whatever the keys say.
    reread: bool,
    events: Vec<Event>,
    identity: Option<Box<(String, String)>>,
}

/// The first pass's state for one file, kept until the needles are known.
#[derive(Debug)]
pub struct Deferred {
    name: Arc<str>,
    chunks: Vec<State>,
    keys: Vec<u32>,
    /// The file-level counts (files, bytes), which every pass gives.
    files: u64,
    bytes: u64,
    len: u64,
}

impl Deferred {
    /// Move the installs out (for the needles); [`Deferred::put_events`] puts them back.
    pub fn take_events(&mut self, into: &mut Vec<Event>) {
        // Each chunk's vector is freed as it is emptied: the installs are held once.
        for c in &mut self.chunks {
            match c {
                State::Lean(l) => into.extend(std::mem::take(&mut l.events)),
                State::Crate(e) => into.extend(std::mem::take(e)),
                State::Empty => {}
            }
        }
    }

    /// Put back what [`Deferred::take_events`] took, from the front of `from`, in order.
    pub fn put_events(&mut self, from: &mut std::vec::Drain<'_, Event>, counts: &[usize]) {
        for (c, n) in self.chunks.iter_mut().zip(counts) {
            let events = match c {
                State::Lean(l) => &mut l.events,
                State::Crate(e) => e,
                State::Empty => continue,
            };
            events.reserve_exact(*n);
            events.extend(from.by_ref().take(*n));
        }
    }

    /// How many installs each chunk holds (for [`Deferred::put_events`]).
    pub fn event_counts(&self) -> Vec<usize> {
        self.chunks
            .iter()
            .map(|c| match c {
                State::Lean(l) => l.events.len(),
                State::Crate(e) => e.len(),
                State::Empty => 0,
            })
            .collect()
    }
}

/// Read chunk `number` of `file` into `buf`; fewer bytes at the end of the file.
fn read_chunk_bytes(file: &File, len: u64, number: u64, buf: &mut Vec<u8>) -> std::io::Result<()> {
    let offset = FILE_HEADER_SIZE + number * CHUNK_SIZE;
    let n = (offset + CHUNK_SIZE).min(len).saturating_sub(offset) as usize;
    buf.resize(n, 0);
    read_exact_at(file, buf, offset)
}

/// The first pass over a plain EVTX file of `chunks` chunks: `opts` has the anchor filter.
pub(super) fn first_pass(
    name: &Arc<str>,
    file: &File,
    len: u64,
    chunks: u64,
    spec: &Spec,
    opts: &ReadOptions,
    out: &mut FileOutput,
) {
    let settings = parser_settings();
    // Chunks in runs of a few, so that each run's buffers are set up once.
    let per_chunk: Vec<(State, Vec<u32>, FileOutput)> = (0..chunks as usize)
        .into_par_iter()
        .with_min_len(8)
        .map_init(
            || (Vec::new(), Keys::new(&spec.keys)),
            |(buf, keys), n| {
                let n = n as u64;
                let mut warnings = FileOutput::default();
                if let Err(e) = read_chunk_bytes(file, len, n, buf) {
                    let c = chunk_output(name, n, Err(e), &settings, opts);
                    warnings.warnings = c.out.warnings;
                    return (State::Crate(exact(c.out.events)), Vec::new(), warnings);
                }
                if is_unused(buf) {
                    return (State::Empty, Vec::new(), warnings);
                }
                if is_clean(buf) {
                    keys.reset();
                    if let Lean::Done(c) = lean_read(name, n, buf, opts, Some(keys)) {
                        let k = keys.keys.clone();
                        let lean = LeanChunk {
                            records: c.out.stats.records,
                            selected: c.out.stats.records_selected,
                            seen: spec.mask(c.seen_ids.iter().copied()),
                            keys: (0, 0),
                            reread: keys.reread,
                            events: exact(c.out.events),
                            identity: c.identity.map(Box::new),
                        };
                        return (State::Lean(Box::new(lean)), k, warnings);
                    }
                }
                let c = chunk_output(name, n, Ok(buf.clone()), &settings, opts);
                warnings.warnings = c.out.warnings;
                (State::Crate(exact(c.out.events)), Vec::new(), warnings)
            },
        )
        .collect();
    let mut d = Deferred {
        name: name.clone(),
        chunks: Vec::with_capacity(per_chunk.len()),
        keys: Vec::new(),
        files: out.stats.files,
        bytes: out.stats.bytes,
        len,
    };
    d.keys
        .reserve_exact(per_chunk.iter().map(|(_, k, _)| k.len()).sum());
    for (mut state, keys, warnings) in per_chunk {
        if let State::Lean(l) = &mut state {
            l.keys = (d.keys.len() as u32, keys.len() as u32);
            d.keys.extend(keys);
        }
        d.chunks.push(state);
        out.warnings.extend(warnings.warnings);
    }
    out.deferred = Some(Box::new(d));
}

/// `events` in no more memory than they need: held until the second pass, and a chunk rarely
/// holds more than one install.
fn exact(mut events: Vec<Event>) -> Vec<Event> {
    events.shrink_to_fit();
    events
}

/// What the second pass needs to know of the needles.
#[derive(Debug)]
pub struct Resolution {
    /// The needles' keys.
    keys: ahash::AHashSet<u32>,
    /// Census bits of the ids whose needles the keys do not cover: chunks holding one are read
    /// again.
    reread: u64,
}

impl Resolution {
    /// For `needles`, built from the first pass's installs.
    pub fn new(spec: &Spec, needles: &NeedleMap, anchors: &[u32]) -> Self {
        let mut reread = spec.mask(spec.keys.unkept(needles));
        // Needles for an install id would change what the second pass keeps of the installs.
        reread |= spec.mask(needles.keys().copied().filter(|id| anchors.contains(id)));
        Resolution {
            keys: super::evtx_keys::needle_keys(&spec.keys, needles),
            reread,
        }
    }
}

/// The second pass over a file the first pass deferred: `opts` has the full filter. The
/// output's warnings are the second pass's own (the first pass's are already reported).
pub fn second_pass(
    path: &std::path::Path,
    d: Deferred,
    spec: &Spec,
    resolution: &Resolution,
    opts: &ReadOptions,
) -> FileOutput {
    let name = &d.name.clone();
    let mut out = FileOutput::default();
    out.stats.files = d.files;
    out.stats.bytes = d.bytes;
    let needs_file = d.chunks.iter().any(|c| match c {
        State::Empty => false,
        State::Crate(_) => true,
        State::Lean(l) => needs_reread(l, &d.keys, resolution),
    });
    let file = if needs_file {
        match File::open(path) {
            Ok(f) => Some(f),
            Err(e) => {
                // As a second full pass would find it: the file no longer opens.
                let mut gone = FileOutput::default();
                gone.warn(name, "", format!("cannot open: {e}"));
                gone.stats.files_skipped += 1;
                return gone;
            }
        }
    } else {
        None
    };
    let settings = parser_settings();
    let len = d.len;
    let keys = &d.keys;
    let per_chunk: Vec<ChunkOutput> = d
        .chunks
        .into_par_iter()
        .enumerate()
        .map(|(n, state)| {
            let n = n as u64;
            let again = || match &file {
                Some(f) => {
                    let mut buf = Vec::new();
                    let data = read_chunk_bytes(f, len, n, &mut buf).map(|()| buf);
                    chunk_output(name, n, data, &settings, opts)
                }
                None => ChunkOutput::default(),
            };
            match state {
                State::Empty => ChunkOutput::default(),
                State::Crate(_) => again(),
                State::Lean(l) if needs_reread(&l, keys, resolution) => again(),
                State::Lean(l) => {
                    let mut c = ChunkOutput::default();
                    c.out.stats.records = l.records;
                    c.out.stats.records_selected = l.selected;
                    c.out.events = l.events;
                    c.identity = l.identity.map(|b| *b);
                    c.seen_ids = spec
                        .wanted
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| l.seen & (1 << i) != 0)
                        .map(|(_, id)| *id)
                        .collect();
                    c
                }
            }
        })
        .collect();
    merge_chunks(per_chunk, &mut out);
    out
}

fn needs_reread(l: &LeanChunk, keys: &[u32], r: &Resolution) -> bool {
    let (start, n) = (l.keys.0 as usize, l.keys.1 as usize);
    l.reread || l.seen & r.reread != 0 || keys[start..start + n].iter().any(|k| r.keys.contains(k))
}
