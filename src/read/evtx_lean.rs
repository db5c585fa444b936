//! One intact chunk read without the `evtx` crate: the lean walk decides which records a pass
//! needs, the lean decoder ([`super::evtx_template`], [`super::evtx_binxml`],
//! [`super::evtx_render`]) makes their events, and the result is exactly what the crate path
//! ([`super::evtx::read_chunk`]) gives for the chunk: the same events, counts and census, and
//! no warnings.
//!
//! Exactly, because the crate path is what the rest is checked against, and it has rules of its
//! own that the counts show: it builds every record up to the last one a pass needs (a record
//! it cannot build there is a warning and is not counted), renders only the needed ones, reads
//! the chunk's first chunk in full, and names the file after the first record it renders. So a
//! chunk is read here only when every record the crate would build is one the lean parser
//! vouches for (it accepts only what the crate builds without error), the chunk's string table
//! is one the crate loads, and every needed record decodes; anything else answers
//! [`Lean::Fallback`], and the crate reads the chunk as before.
//!
//! The first pass of a one-pass read ([`super::evtx_onepass`]) also takes here, per chunk, the
//! keys of the evidence records it cannot decide on yet ([`super::evtx_keys`]).

use std::sync::Arc;

use jiff::Timestamp;

use super::evtx::ChunkOutput;
use super::evtx_binxml::{ChunkCtx, u16_at, u32_at, u64_at, utf16_until_nul};
use super::evtx_keys::{KeySpec, Outcome, Scratch, record_keys};
use super::evtx_needles::MatchScratch;
use super::{ReadOptions, evtx_render, evtx_scan};
use crate::event::Event;

/// How a chunk was read.
pub(super) enum Lean {
    /// Read here.
    Done(Box<ChunkOutput>),
    /// The crate must read it.
    Fallback,
}

/// What the first pass of a one-pass read keeps of a chunk's evidence records. Reused from
/// chunk to chunk ([`Keys::reset`]).
pub(super) struct Keys<'s> {
    /// Which evidence ids to key, and how.
    pub spec: &'s KeySpec,
    /// The chunk's keys, each once, in the order met.
    pub keys: Vec<u32>,
    /// Some record must be decided on its values later: read the chunk again.
    pub reread: bool,
    /// The keys of the record being keyed.
    record: Vec<u32>,
    /// An open-addressing set of `keys` (0 for an empty slot, so key 0 is stored as 1).
    table: Vec<u32>,
    scratch: Scratch,
}

impl<'s> Keys<'s> {
    pub fn new(spec: &'s KeySpec) -> Self {
        Keys {
            spec,
            keys: Vec::with_capacity(1024),
            reread: false,
            record: Vec::with_capacity(256),
            table: vec![0; 4096],
            scratch: Scratch::default(),
        }
    }

    /// Ready for the next chunk.
    pub fn reset(&mut self) {
        if self.keys.len() * 8 < self.table.len() {
            for k in &self.keys {
                let mut i = slot(*k, self.table.len());
                while self.table[i] != 0 {
                    self.table[i] = 0;
                    i = (i + 1) & (self.table.len() - 1);
                }
            }
        } else {
            self.table.fill(0);
        }
        self.keys.clear();
        self.reread = false;
    }

    /// Add the record's keys to the chunk's.
    fn add_record(&mut self) {
        for i in 0..self.record.len() {
            let k = self.record[i].max(1);
            if self.keys.len() * 2 >= self.table.len() {
                let bigger = self.table.len() * 2;
                self.table = vec![0; bigger];
                for &old in &self.keys {
                    insert(&mut self.table, old);
                }
            }
            if insert(&mut self.table, k) {
                self.keys.push(k);
            }
        }
        self.record.clear();
    }
}

fn slot(k: u32, len: usize) -> usize {
    (k.wrapping_mul(0x9e37_79b1) as usize) & (len - 1)
}

/// Put `k` in the set; whether it was new.
fn insert(table: &mut [u32], k: u32) -> bool {
    let mask = table.len() - 1;
    let mut i = slot(k, table.len());
    loop {
        match table[i] {
            0 => {
                table[i] = k;
                return true;
            }
            x if x == k => return false,
            _ => i = (i + 1) & mask,
        }
    }
}

/// Most nodes the records of a chunk may build and render here: the crate's own chunk budget
/// is four times 2^18, and a crafted chunk of tiny records instantiating a large template can
/// reach it; such a chunk goes to the crate, which reports what it does not render.
const MAX_CHUNK_NODES: usize = 1 << 18;
/// Most bytes of template text and values a chunk's rendered records may hold here (the
/// crate's budget is 64 MiB of output per chunk).
const MAX_CHUNK_TEXT: usize = 8 << 20;

/// The record header's time; past what jiff can hold (year 9999, where Windows goes on to
/// 30828), the last instant it holds. (The crate fails such a record, so that a tampered
/// clock would hide it; its `SystemTime`, which names the same instant, says what was logged.)
fn header_time(chunk: &[u8], offset: usize) -> Option<Timestamp> {
    let ft = u64_at(chunk, offset + 16)?;
    let secs = i64::try_from(ft / 10_000_000).ok()? - 11_644_473_600;
    let nanos = ((ft % 10_000_000) * 100) as i32;
    Some(Timestamp::new(secs, nanos).unwrap_or(Timestamp::MAX))
}

/// Whether the crate loads this chunk's string table (its common-string chains, each name
/// strict UTF-16): when it does not, it cannot parse the chunk at all.
fn string_table_ok(chunk: &[u8]) -> bool {
    // The entries read so far (a chain ends at one already read): a few dozen at most.
    let mut seen: Vec<u32> = Vec::new();
    for i in 0..64 {
        let Some(start) = u32_at(chunk, 128 + 4 * i) else {
            return false;
        };
        if start == 0 {
            continue;
        }
        let mut at = start as usize;
        if at > chunk.len() {
            return false;
        }
        loop {
            let (Some(next), Some(len)) = (u32_at(chunk, at), u16_at(chunk, at + 6)) else {
                return false;
            };
            let len = usize::from(len);
            let Some(text) = chunk.get(at + 8..at + 8 + 2 * len) else {
                return false;
            };
            let units = utf16_until_nul(text)
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]));
            if char::decode_utf16(units).any(|c| c.is_err())
                || u16_at(chunk, at + 8 + 2 * len).is_none()
            {
                return false;
            }
            if seen.len() > 4096 {
                return false;
            }
            seen.push(at as u32);
            if next == 0 || seen.contains(&next) {
                break;
            }
            if next as usize > chunk.len() {
                return false;
            }
            at = next as usize;
        }
    }
    true
}

thread_local! {
    /// The event records read only to be folded are decoded into, with its scratch space, kept
    /// from chunk to chunk: their strings then keep their capacity, and the seed query's
    /// logons are decoded without allocating. (The largest a value can be is a record's
    /// 64 KiB, so what a thread keeps is bounded.)
    static FOLDING: std::cell::Cell<Option<Box<(Event, evtx_render::Scratch)>>> =
        const { std::cell::Cell::new(None) };
}

/// The thread's folding event, given back when dropped (on any return).
struct Folding(Option<Box<(Event, evtx_render::Scratch)>>);

impl Folding {
    fn take(file: &Arc<str>) -> Self {
        let kept = FOLDING.with(std::cell::Cell::take);
        Folding(Some(kept.unwrap_or_else(|| {
            Box::new((evtx_render::blank_event(file), Default::default()))
        })))
    }

    fn parts(&mut self) -> (&mut Event, &mut evtx_render::Scratch) {
        let (event, scratch) = &mut **self.0.as_mut().expect("held until dropped");
        (event, scratch)
    }
}

impl Drop for Folding {
    fn drop(&mut self) {
        FOLDING.with(|f| f.set(self.0.take()));
    }
}

/// Read the intact chunk `number` (`data`, its 64 KiB) as the crate path would for `opts`'s
/// filter, taking the keys of evidence records into `keys` when given.
pub(super) fn read(
    name: &Arc<str>,
    number: u64,
    data: &[u8],
    opts: &ReadOptions,
    mut keys: Option<&mut Keys<'_>>,
) -> Lean {
    let Some(free) = u32_at(data, 48) else {
        return Lean::Fallback;
    };
    let Some(records) = evtx_scan::records(data, free as usize) else {
        return Lean::Fallback;
    };
    // The crate finds needed records by id: repeated ids would be read differently.
    if !records.windows(2).all(|w| w[0].record_id < w[1].record_id) {
        return Lean::Fallback;
    }
    let filter = opts.filter();
    // The file's first chunk is read whole: every wanted record rendered, and the first one,
    // which names the file.
    let whole = number == 0;
    let mut result = ChunkOutput::default();
    let mut needed: Vec<usize> = Vec::new();
    let mut scratch = MatchScratch::default();
    let mut ctx = ChunkCtx::new(data, Some(&opts.evtx_templates));
    // The ids seen, each once (a few per chunk), put in the census at the end.
    let mut seen: Vec<u32> = Vec::with_capacity(16);
    let mut saw = |id: u32| {
        if !seen.contains(&id) {
            seen.push(id);
        }
    };
    for (i, r) in records.iter().enumerate() {
        let Some(id) = r.event_id.map(u32::from) else {
            needed.push(i);
            continue;
        };
        if !filter.wants(id) {
            if whole && i == 0 {
                needed.push(i);
            }
            if let Some(k) = keys.as_deref_mut()
                && let Some(spec) = k.spec.get(id)
            {
                // Counted as the second pass would: it wants this id.
                saw(id);
                match record_keys(
                    spec,
                    &mut ctx,
                    r.offset,
                    r.size,
                    &mut k.record,
                    &mut k.scratch,
                ) {
                    Outcome::Keyed => k.add_record(),
                    Outcome::Never => {}
                    Outcome::Reread => k.reread = true,
                }
            }
            continue;
        }
        saw(id);
        // A record that would be folded is decoded and tested exactly: what may let it through
        // is then only what rules most records out for the least.
        let folded = keys.is_none() && filter.tallies(id);
        let keep = whole
            || opts.evtx_needles_for(id).is_none_or(|n| {
                n.record_may_match(&mut ctx, r.offset, r.size, folded, &mut scratch)
            });
        if keep {
            needed.push(i);
        }
    }
    result.seen_ids.extend(seen);
    // Every record's id is known here (one that is not is needed, and tells nothing), so the
    // chunk says whether a later pass would want any of them.
    result.later_free = opts.later.as_ref().is_some_and(|later| {
        records.iter().all(|r| {
            r.event_id
                .is_some_and(|id| later.binary_search(&u32::from(id)).is_err())
        })
    });
    if let Some(k) = keys.as_deref_mut()
        && whole
    {
        // The second pass reads every evidence record of this chunk.
        k.reread = true;
    }
    if needed.is_empty() {
        result.out.stats.records += records.len() as u64;
        return Lean::Done(Box::new(result));
    }
    if !string_table_ok(data) {
        return Lean::Fallback;
    }
    // The crate builds every record up to the last needed one (all of them in a whole chunk).
    let last = if whole {
        records.len() - 1
    } else {
        *needed.last().expect("not empty")
    };
    let (mut nodes, mut bytes) = (0usize, 0usize);
    let mut events = Vec::with_capacity(needed.len());
    let mut next = needed.iter().peekable();
    // Records read only for the accounts they name (the seed query's logons, most of what it
    // reads) are decoded into this one event, folded at once and written over by the next
    // (kept by the thread from chunk to chunk, see `Folding`):
    // their strings are allocated once a chunk, not once a record.
    let mut folding = Folding::take(name);
    let (folded, scratch) = folding.parts();
    for (i, r) in records.iter().enumerate().take(last + 1) {
        let Some(time) = header_time(data, r.offset) else {
            return Lean::Fallback;
        };
        if next.peek() == Some(&&i) {
            next.next();
            let Some((inst, cost)) = ctx.record(r.offset, r.size) else {
                return Lean::Fallback;
            };
            // Built, then rendered.
            nodes += 2 * cost.nodes;
            bytes += cost.text;
            if keys.is_none() && r.event_id.is_some_and(|id| filter.tallies(u32::from(id))) {
                let decoded =
                    evtx_render::to_event_into(&inst, name, r.record_id, time, folded, scratch);
                ctx.recycle(inst);
                if !decoded {
                    return Lean::Fallback;
                }
                if result.identity.is_none() {
                    result.identity = Some((folded.computer.clone(), folded.channel.clone()));
                }
                // Folded now, before the events decoded earlier are offered: what that
                // changes (counts, the census, the sightings) does not depend on order. One
                // dated beyond the representable years is warned about in its place.
                if filter.tallies(folded.event_id) && folded.time_as_logged.is_none() {
                    if filter.wants(folded.event_id) {
                        result.seen_ids.insert(folded.event_id);
                    }
                    result.out.offer_folded(folded, opts);
                } else {
                    events.push(folded.clone());
                }
                continue;
            }
            let ev = evtx_render::to_event(&inst, name, r.record_id, time);
            ctx.recycle(inst);
            let Some(ev) = ev else {
                return Lean::Fallback;
            };
            if result.identity.is_none() {
                result.identity = Some((ev.computer.clone(), ev.channel.clone()));
            }
            events.push(ev);
        } else {
            let Some(cost) = ctx.vouch(r.offset, r.size) else {
                return Lean::Fallback;
            };
            nodes += cost.nodes;
        }
        if nodes > MAX_CHUNK_NODES || bytes > MAX_CHUNK_TEXT {
            return Lean::Fallback;
        }
    }
    for ev in events {
        if filter.wants(ev.event_id) {
            result.seen_ids.insert(ev.event_id);
        }
        if let Some(k) = keys.as_deref_mut()
            && k.spec.get(ev.event_id).is_some()
        {
            // An evidence record whose id the walk could not read: the second pass decides it.
            result.seen_ids.insert(ev.event_id);
            k.reread = true;
        }
        result.out.offer(ev, opts);
    }
    result.out.stats.records += (records.len() - needed.len()) as u64;
    Lean::Done(Box::new(result))
}
