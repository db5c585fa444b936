//! Keys: what a one-pass read remembers of the evidence records it cannot decide on yet.
//!
//! A hunt's evidence is kept only when it names something an install gave (see
//! `select::Needles`), and the installs are known only once every input has been read. Rather
//! than reading every input a second time, the EVTX reader remembers, per chunk, a 32-bit hash
//! of each value an evidence record holds that could match a needle of the kinds its plan
//! declares (see [`NeedleKinds`]): the value's lower-case text, its path components and their
//! leading part before a `-` (strings), the number it reads as (numbers), the SID it is (SIDs).
//! Once the needles are known, a chunk whose keys meet none of theirs cannot hold a record the
//! hunt keeps, and is not read again; the others are, and decided exactly. The keys are a
//! superset test by construction: [`Needles::lower_value_matches`] cannot be true for a value
//! none of whose keys is a needle's.
//!
//! Only values an event's data can hold are keyed (those a template places inside `EventData`
//! or `UserData`, and the account's SID), so the System fields every record has cost nothing.
//!
//! Phrases (found anywhere inside a value) are keyed through the plan's gates, which every
//! needle set of their id has (`\deleteflag`): where a value holds a gate phrase, the first 1,
//! 2, 4, 8 and 16 characters after it and before it are keyed, and a needle phrase holding that
//! gate is looked up by the longest of those its text after (or before) the gate has. A phrase
//! without a gate cannot be keyed: chunks holding a gated record of its id are then read again.

use memchr::memmem;

use super::evtx_binxml::{ChunkCtx, Val, scalar_ok, ty, u32_at, utf16_until_nul};
use super::evtx_text::write_value;
use crate::select::{NeedleKinds, NeedleMap, Needles};

const KIND_STRING: u8 = 1;
const KIND_NUMBER: u8 = 2;
const KIND_SID: u8 = 3;
const KIND_WINDOW: u8 = 4;

/// A key: of a value of `kind` in a record of event id `id` (a needle of one id says nothing
/// of another id's records).
fn key(id: u32, kind: u8, bytes: &[u8]) -> u32 {
    hash_bytes(u64::from(id) << 8 | u64::from(kind), bytes) as u32
}

/// A fast hash of short byte strings (eight bytes a step, then the SplitMix64 finaliser):
/// keys are only compared with keys, a collision costs a chunk read again, and millions are
/// made per gigabyte read.
fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = seed ^ 0x243f_6a88_85a3_08d3;
    let mut words = bytes.chunks_exact(8);
    for w in words.by_ref() {
        let w = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        h = (h ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(w))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
    }
    mix(h ^ bytes.len() as u64)
}

/// The SplitMix64 finaliser.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A number's key: most keys are numbers (logon sessions), so a multiply-xorshift mix (the
/// SplitMix64 finaliser) rather than a general hash.
#[inline]
fn number_key(id: u32, n: u64) -> u32 {
    let mut x =
        n ^ (u64::from(id) << 32 | u64::from(KIND_NUMBER)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (x ^ (x >> 31)) as u32
}

/// Values by event id, found without hashing: a lookup is made for every record read.
#[derive(Debug)]
pub struct IdMap<T> {
    /// `index[id]` is 1 + the item's position, 0 for none.
    index: Box<[u8]>,
    items: Vec<(u32, T)>,
}

impl<T> Default for IdMap<T> {
    fn default() -> Self {
        IdMap {
            index: vec![0; 1 << 16].into_boxed_slice(),
            items: Vec::new(),
        }
    }
}

impl<T> FromIterator<(u32, T)> for IdMap<T> {
    fn from_iter<I: IntoIterator<Item = (u32, T)>>(iter: I) -> Self {
        let mut map = IdMap::default();
        for (id, item) in iter {
            // Event ids are 16-bit; a plan names a few dozen at most.
            if let Ok(i) = usize::try_from(id)
                && i < map.index.len()
                && map.items.len() < usize::from(u8::MAX)
            {
                map.items.push((id, item));
                map.index[i] = map.items.len() as u8;
            }
        }
        map
    }
}

impl<T> IdMap<T> {
    /// The value of `id`.
    #[inline]
    pub fn get(&self, id: u32) -> Option<&T> {
        let i = *self.index.get(usize::try_from(id).ok()?)?;
        (i != 0).then(|| &self.items[usize::from(i) - 1].1)
    }
}

/// What the first pass knows of one evidence id before the needles.
#[derive(Debug)]
pub struct IdSpec {
    id: u32,
    kinds: NeedleKinds,
    /// The gate every needle set of this id has, lower-case ASCII: a record none of whose
    /// data values holds one of its phrases can never be kept.
    gates: Vec<memmem::Finder<'static>>,
    /// The same in UTF-16LE, for a first look at the record's bytes.
    raw_gates: RawGates,
    gate_phrases: Vec<String>,
    /// Whether a gate phrase could occur in the text of a number, GUID, SID or time (which is
    /// then looked at too).
    typed_gate: bool,
}

/// The keys to remember per evidence id.
#[derive(Debug, Default)]
pub struct KeySpec {
    ids: IdMap<IdSpec>,
}

impl KeySpec {
    /// For `evidence` ids with their declared kinds, and the gates `static_needles` (the plan's
    /// needles for no anchors) give them. A gate that is not plain ASCII is not used.
    pub fn new(evidence: &[(u32, NeedleKinds)], static_needles: &NeedleMap) -> Self {
        let ids = evidence
            .iter()
            .map(|&(id, kinds)| {
                let mut gate_phrases: Vec<String> = static_needles
                    .get(&id)
                    .map(|n| n.gate_phrases().to_vec())
                    .unwrap_or_default();
                // A gate with a phrase not plain ASCII is not applied at all (a part of it
                // would rule out records the whole lets through).
                if gate_phrases.iter().any(|g| !g.is_ascii() || g.is_empty()) {
                    gate_phrases.clear();
                }
                let typed_chars = |c: char| c.is_ascii_hexdigit() || "x{}-:.tzs".contains(c);
                let spec = IdSpec {
                    id,
                    kinds,
                    gates: gate_phrases
                        .iter()
                        .map(|g| memmem::Finder::new(g.as_bytes()).into_owned())
                        .collect(),
                    raw_gates: RawGates::new(&gate_phrases),
                    typed_gate: gate_phrases.iter().any(|g| g.chars().all(typed_chars)),
                    gate_phrases,
                };
                (id, spec)
            })
            .collect();
        KeySpec { ids }
    }

    /// The spec of evidence id `id`.
    #[inline]
    pub fn get(&self, id: u32) -> Option<&IdSpec> {
        self.ids.get(id)
    }

    /// The ids whose needles in `map` are beyond what this spec kept (a kind not declared, a
    /// gate not applied, a phrase without a gate): their chunks must all be read again.
    pub fn unkept(&self, map: &NeedleMap) -> Vec<u32> {
        let mut out: Vec<u32> = map
            .iter()
            .filter(|(id, n)| match self.ids.get(**id) {
                None => !n.is_empty(),
                Some(spec) => {
                    !spec.kinds.covers(n.kinds())
                        || n.gate_phrases().is_empty() && !spec.gate_phrases.is_empty()
                        || n.gate_phrases()
                            .iter()
                            .any(|g| !spec.gate_phrases.contains(g))
                        || n.phrases().iter().any(|p| phrase_key(spec, p).is_none())
                }
            })
            .map(|(id, _)| *id)
            .collect();
        out.sort_unstable();
        out
    }
}

/// What a record gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Its keys were added.
    Keyed,
    /// It can never be kept (no gate phrase).
    Never,
    /// It must be decided on its values later: its chunk is read again.
    Reread,
}

/// Scratch space reused across records.
#[derive(Debug, Default)]
pub struct Scratch {
    text: String,
    ascii: Vec<u8>,
}

/// Add the keys of the record at `offset` (of `size` bytes) in the chunk `ctx` reads to `out`.
pub fn record_keys(
    spec: &IdSpec,
    ctx: &mut ChunkCtx<'_>,
    offset: usize,
    size: usize,
    out: &mut Vec<u32>,
    scratch: &mut Scratch,
) -> Outcome {
    let Some(limit) = (offset + size).checked_sub(4) else {
        return Outcome::Reread;
    };
    // Behind a gate, most records are ruled out on it alone: look for it first, in the
    // record's bytes, then in its data values.
    if !spec.gates.is_empty() && !spec.typed_gate {
        let raw = &ctx.data[offset..limit];
        if !spec.raw_gates.may_hold(raw, &mut scratch.ascii) {
            return Outcome::Never;
        }
    }
    if !spec.gates.is_empty() {
        let mut passed = false;
        let walked = data_values(ctx, offset + 24, limit, 0, false, &mut |v, sid| {
            passed = passed
                || !sid
                    && ascii_text(&v, spec.typed_gate, &mut scratch.ascii)
                    && spec.gates.iter().any(|g| g.find(&scratch.ascii).is_some());
        });
        if !walked {
            return Outcome::Reread;
        }
        if !passed {
            return Outcome::Never;
        }
    }
    // Numbers alone (logons, most evidence records): straight to their keys.
    if spec.kinds == NeedleKinds::NUMBERS && spec.gates.is_empty() {
        let start = out.len();
        let mut readable = true;
        let walked = data_values(ctx, offset + 24, limit, 0, false, &mut |v, sid| {
            if !sid {
                readable &= value_keys(spec.id, spec.kinds, v, out, scratch).is_some();
            }
        });
        if !walked || !readable {
            out.truncate(start);
            return Outcome::Reread;
        }
        return Outcome::Keyed;
    }
    let mut walk = KeyWalk::new(out);
    let walked = data_values(ctx, offset + 24, limit, 0, false, &mut |v, sid| {
        walk.value(spec, v, sid, out, scratch)
    });
    if !walked {
        out.truncate(walk.start);
        return Outcome::Reread;
    }
    walk.finish(spec, out)
}

/// The keys of `values` (each with whether it is the account's SID).
#[cfg(test)]
fn keys_of(
    spec: &IdSpec,
    values: &[(Val<'_>, bool)],
    out: &mut Vec<u32>,
    scratch: &mut Scratch,
) -> Outcome {
    let mut walk = KeyWalk::new(out);
    for (v, sid) in values {
        walk.value(spec, *v, *sid, out, scratch);
    }
    walk.finish(spec, out)
}

/// One record's keys, value by value: kept only if the record passes its id's gate.
struct KeyWalk {
    start: usize,
    passed: bool,
    unreadable: bool,
}

impl KeyWalk {
    fn new(out: &[u32]) -> Self {
        KeyWalk {
            start: out.len(),
            passed: false,
            unreadable: false,
        }
    }

    fn value(
        &mut self,
        spec: &IdSpec,
        v: Val<'_>,
        sid: bool,
        out: &mut Vec<u32>,
        scratch: &mut Scratch,
    ) {
        if sid {
            if spec.kinds.sids && sid_key(spec.id, &v, out, scratch).is_none() {
                self.unreadable = true;
            }
            return;
        }
        if !spec.gates.is_empty() && ascii_text(&v, spec.typed_gate, &mut scratch.ascii) {
            let a = &scratch.ascii;
            for (j, g) in spec.gates.iter().enumerate() {
                for p in g.find_iter(a) {
                    self.passed = true;
                    if spec.kinds.phrases {
                        window_keys(spec.id, j, a, p, g.needle().len(), out);
                    }
                }
            }
        }
        if value_keys(spec.id, spec.kinds, v, out, scratch).is_none() {
            self.unreadable = true;
        }
    }

    fn finish(self, spec: &IdSpec, out: &mut Vec<u32>) -> Outcome {
        if !spec.gates.is_empty() && !self.passed {
            out.truncate(self.start);
            return Outcome::Never;
        }
        if self.unreadable || spec.gates.is_empty() && spec.kinds.phrases {
            out.truncate(self.start);
            return Outcome::Reread;
        }
        Outcome::Keyed
    }
}

/// Call `f` with every value of the template instance at `start` (whose values end by `limit`)
/// that an event's data can hold (`false`) or that is its account's SID (`true`), nested
/// instances included. `in_data`: the whole instance sits in a data element. False when the
/// walk cannot read the values (the record is then decided later).
pub(super) fn data_values<'a, F: FnMut(Val<'a>, bool)>(
    ctx: &mut ChunkCtx<'a>,
    start: usize,
    limit: usize,
    depth: u8,
    in_data: bool,
    f: &mut F,
) -> bool {
    let b = ctx.data;
    let Some(b) = b.get(..limit) else {
        return false;
    };
    if depth > 4 {
        return false;
    }
    let mut at = start;
    if b.get(at) == Some(&0x0f) {
        at += 4;
    }
    if b.get(at) != Some(&0x0c) {
        return false;
    }
    let Some(def_offset) = u32_at(b, at + 6) else {
        return false;
    };
    at += 10;
    if def_offset as usize == at {
        let Some(size) = u32_at(b, at + 20) else {
            return false;
        };
        at += 24 + size as usize;
    }
    let Some(count) = u32_at(b, at) else {
        return false;
    };
    let count = count as usize;
    if count > super::evtx_binxml::MAX_VALUES {
        return false;
    }
    // A template whose root is the event data holds nothing else: no need to parse it.
    let in_data = in_data || ctx.is_data_template(def_offset);
    // Which values to look at: without its template, every one (a superset). The first 64
    // as bits, so that the loop skips the others without a lookup.
    let template = (!in_data).then(|| ctx.template_index(def_offset));
    let (data_bits, sid_bits) = match template.map(|t| ctx.template_at(t)) {
        None | Some(None) => (u64::MAX, 0),
        Some(Some(t)) => (t.data_slots.first_word(), t.sid_slots.first_word()),
    };
    let descriptors = at + 4;
    let Some(table) = b.get(descriptors..descriptors + 4 * count) else {
        return false;
    };
    let mut value_at = descriptors + 4 * count;
    // The values to look at: event data, the account, nested instances (which can be
    // anywhere); the loop only sums the others' sizes.
    let wanted = if in_data {
        u64::MAX
    } else {
        data_bits | sid_bits
    };
    for (i, d) in table.chunks_exact(4).enumerate() {
        let (size, t) = (usize::from(u16::from_le_bytes([d[0], d[1]])), d[2]);
        let look = t == ty::BINXML || if i < 64 { wanted >> i & 1 != 0 } else { true };
        if look {
            let (data, sid) = if in_data {
                (true, false)
            } else if i < 64 {
                (data_bits >> i & 1 != 0, sid_bits >> i & 1 != 0)
            } else {
                match template.map(|t| ctx.template_at(t)) {
                    None | Some(None) => (true, false),
                    Some(Some(t)) => (t.data_slots.contains(i), t.sid_slots.contains(i)),
                }
            };
            let Some(bytes) = b.get(value_at..value_at + size) else {
                return false;
            };
            if t == ty::BINXML {
                if size > 0 && !data_values(ctx, value_at, value_at + size, depth + 1, data, f) {
                    return false;
                }
            } else if !scalar_ok(t, bytes) {
                // A value the crate reads otherwise than its descriptor says (and the values
                // after it from elsewhere), or of a type not read here: undecidable here.
                return false;
            } else if data {
                f(Val { ty: t, bytes }, false);
            } else if sid {
                f(Val { ty: t, bytes }, true);
            }
        }
        value_at += size;
    }
    value_at <= limit
}

/// A value's text, lower-cased and reduced to bytes (ASCII as is, anything else 0xff), into
/// `out`: what a gate or phrase, plain ASCII, is looked for in. False for values whose text
/// cannot hold one (numbers and the like, unless `typed`).
pub(super) fn ascii_text(v: &Val<'_>, typed: bool, out: &mut Vec<u8>) -> bool {
    out.clear();
    let push = |c: char, out: &mut Vec<u8>| {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase() as u8);
        } else {
            for l in c.to_lowercase() {
                out.push(if l.is_ascii() { l as u8 } else { 0xff });
            }
        }
    };
    match v.ty {
        ty::STRING => {
            let bytes = utf16_until_nul(v.bytes);
            // Most text is ASCII: one byte per unit, no decoding.
            if is_ascii_utf16(bytes) {
                out.extend(bytes.chunks_exact(2).map(|c| ascii_lower(c[0])));
                return true;
            }
            let units = bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]));
            for c in char::decode_utf16(units) {
                push(c.unwrap_or(char::REPLACEMENT_CHARACTER), out);
            }
            true
        }
        ty::ANSI => {
            out.extend(
                v.bytes
                    .iter()
                    .filter(|b| **b != 0)
                    .map(u8::to_ascii_lowercase),
            );
            true
        }
        _ if typed => {
            let mut s = String::new();
            if write_value(v, &mut s).is_none() {
                // Not readable here: as if it held everything.
                return false;
            }
            s.chars().for_each(|c| push(c, out));
            true
        }
        _ => false,
    }
}

/// Whether a UTF-16 unit is ASCII white space as `str::trim` sees it (which, unlike
/// `u8::is_ascii_whitespace`, counts the vertical tab).
pub(super) fn is_ascii_space(u: u16) -> bool {
    matches!(u, 0x09..=0x0d | 0x20)
}

/// Gate phrases (plain ASCII) as they look in a record's UTF-16LE bytes: a record none of
/// whose bytes hold one (ASCII case aside) cannot hold one in a string value either (its
/// text is there as it is, at any alignment).
#[derive(Debug, Default)]
pub(super) struct RawGates {
    /// The phrases, lower-case.
    phrases: Vec<Vec<u8>>,
    /// The bytes a phrase can start with (both cases), when at most three: each place one
    /// occurs is checked (the gates of the plans start with `\`, which few values hold).
    firsts: Option<Vec<u8>>,
}

impl RawGates {
    pub(super) fn new(phrases: &[String]) -> Self {
        let phrases: Vec<Vec<u8>> = phrases
            .iter()
            .filter(|p| p.is_ascii() && !p.is_empty())
            .map(|p| p.to_ascii_lowercase().into_bytes())
            .collect();
        let mut firsts: Vec<u8> = phrases
            .iter()
            .flat_map(|p| [p[0], p[0].to_ascii_uppercase()])
            .collect();
        firsts.sort_unstable();
        firsts.dedup();
        RawGates {
            phrases,
            firsts: (firsts.len() <= 3).then_some(firsts),
        }
    }

    /// Whether `raw` may hold a phrase; `folded` is scratch space.
    pub(super) fn may_hold(&self, raw: &[u8], folded: &mut Vec<u8>) -> bool {
        let at = |p: usize| self.phrases.iter().any(|ph| holds(raw, p, ph));
        match self.firsts.as_deref() {
            Some([a]) => memchr::memchr_iter(*a, raw).any(at),
            Some([a, b]) => memchr::memchr2_iter(*a, *b, raw).any(at),
            Some([a, b, c]) => memchr::memchr3_iter(*a, *b, *c, raw).any(at),
            _ => {
                folded.clear();
                folded.extend(raw.iter().map(|b| ascii_lower(*b)));
                (0..folded.len()).any(|p| self.phrases.iter().any(|ph| holds(folded, p, ph)))
            }
        }
    }
}

/// Whether `raw` holds the UTF-16LE of ASCII `phrase` (lower-case) at `p`, ASCII case aside.
fn holds(raw: &[u8], p: usize, phrase: &[u8]) -> bool {
    raw.get(p..p + 2 * phrase.len()).is_some_and(|r| {
        r.chunks_exact(2)
            .zip(phrase)
            .all(|(c, x)| c[1] == 0 && ascii_lower(c[0]) == *x)
    })
}

/// Whether UTF-16LE `bytes` are all ASCII (written so that it vectorises).
fn is_ascii_utf16(bytes: &[u8]) -> bool {
    bytes
        .chunks_exact(2)
        .fold(0u8, |bad, c| bad | c[1] | (c[0] & 0x80))
        == 0
}

/// ASCII lower case without a branch.
fn ascii_lower(b: u8) -> u8 {
    b | (u8::from(b.wrapping_sub(b'A') < 26) << 5)
}

/// How many characters beside a gate are keyed: a needle phrase is looked up by the longest of
/// these its own text beside the gate has (powers of two: five keys a side, not sixteen).
const WINDOW_LENGTHS: [usize; 5] = [1, 2, 4, 8, 16];

/// The window a needle's `n` characters beside a gate are looked up by.
fn window_len(n: usize) -> usize {
    WINDOW_LENGTHS
        .iter()
        .copied()
        .filter(|l| *l <= n)
        .max()
        .unwrap_or(0)
}

/// Keys of the text around gate `j` found at `p` (of `len` bytes) in `a`: the first 1 to 16
/// bytes after it and the last 1 to 16 before it, and the gate alone.
fn window_keys(id: u32, j: usize, a: &[u8], p: usize, len: usize, out: &mut Vec<u32>) {
    out.push(window_key(id, j, b'=', &[]));
    let after = &a[p + len..];
    for n in WINDOW_LENGTHS.into_iter().filter(|n| *n <= after.len()) {
        out.push(window_key(id, j, b'>', &after[..n]));
    }
    let before = &a[..p];
    for n in WINDOW_LENGTHS.into_iter().filter(|n| *n <= before.len()) {
        out.push(window_key(id, j, b'<', &before[before.len() - n..]));
    }
}

fn window_key(id: u32, j: usize, side: u8, text: &[u8]) -> u32 {
    let seed = u64::from(id) << 24 | (j as u64 & 0xffff) << 8 | u64::from(side);
    hash_bytes(seed ^ u64::from(KIND_WINDOW) << 56, text) as u32
}

/// The key a needle phrase is looked up by: its text beside the first gate of `spec` it holds.
/// `None` when it holds none (or is not plain ASCII).
fn phrase_key(spec: &IdSpec, phrase: &str) -> Option<u32> {
    if !phrase.is_ascii() {
        return None;
    }
    let p = phrase.as_bytes();
    spec.gates.iter().enumerate().find_map(|(j, g)| {
        let q = g.find(p)?;
        let after = &p[q + g.needle().len()..];
        let before = &p[..q];
        Some(if !after.is_empty() {
            window_key(spec.id, j, b'>', &after[..window_len(after.len())])
        } else if !before.is_empty() {
            window_key(
                spec.id,
                j,
                b'<',
                &before[before.len() - window_len(before.len())..],
            )
        } else {
            window_key(spec.id, j, b'=', &[])
        })
    })
}

/// The key of the account's SID.
fn sid_key(id: u32, v: &Val<'_>, out: &mut Vec<u32>, scratch: &mut Scratch) -> Option<()> {
    if v.is_empty() {
        return Some(());
    }
    let t = trimmed_lower(v, scratch)?;
    if t.starts_with(b"s-") {
        out.push(key(id, KIND_SID, &t.to_ascii_uppercase()));
    }
    Some(())
}

/// Lower-case `v`'s text into `buf` as [`Needles::lower_value_matches`] sees it.
pub(super) fn lower_text(v: &Val<'_>, buf: &mut String) -> Option<()> {
    buf.clear();
    match v.ty {
        ty::STRING => {
            let bytes = utf16_until_nul(v.bytes);
            // Most text is ASCII: one byte per unit, no decoding.
            if is_ascii_utf16(bytes) {
                let mut v = std::mem::take(buf).into_bytes();
                v.extend(bytes.chunks_exact(2).map(|c| ascii_lower(c[0])));
                *buf = String::from_utf8(v).ok()?;
                return Some(());
            }
            let units = bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]));
            for c in char::decode_utf16(units) {
                match c {
                    Ok(c) if c.is_ascii() => buf.push(c.to_ascii_lowercase()),
                    Ok(c) => buf.extend(c.to_lowercase()),
                    Err(_) => buf.push(char::REPLACEMENT_CHARACTER),
                }
            }
        }
        _ => {
            write_value(v, buf)?;
            // Numbers, GUIDs, SIDs, times, hex bytes: ASCII; code-page text too (else refused).
            if buf.is_ascii() {
                buf.make_ascii_lowercase();
            } else {
                let lower = buf.to_lowercase();
                *buf = lower;
            }
        }
    }
    Some(())
}

/// [`lower_text`], as UTF-8 bytes appended to `out` (`scratch` holds a typed value's text):
/// bytes, so that a record's values joined are never validated as a string.
pub(super) fn push_lower_bytes(v: &Val<'_>, out: &mut Vec<u8>, scratch: &mut String) -> Option<()> {
    if v.ty == ty::STRING {
        let bytes = utf16_until_nul(v.bytes);
        // Most text is ASCII: one byte per unit, no decoding.
        if is_ascii_utf16(bytes) {
            out.extend(bytes.chunks_exact(2).map(|c| ascii_lower(c[0])));
            return Some(());
        }
    }
    lower_text(v, scratch)?;
    out.extend_from_slice(scratch.as_bytes());
    Some(())
}

/// The integer a typed value holds, as its text would read.
#[inline]
pub(super) fn typed_number(v: &Val<'_>) -> Option<u64> {
    let b = v.bytes;
    let n = match v.ty {
        ty::UINT8 => u64::from(*b.first()?),
        ty::UINT16 => u64::from(u16::from_le_bytes(b.try_into().ok()?)),
        ty::UINT32 | ty::HEX_INT32 => u64::from(u32::from_le_bytes(b.try_into().ok()?)),
        ty::UINT64 | ty::HEX_INT64 => u64::from_le_bytes(b.try_into().ok()?),
        ty::SIZE_T if b.len() == 4 => u64::from(u32::from_le_bytes(b.try_into().ok()?)),
        ty::SIZE_T => u64::from_le_bytes(b.try_into().ok()?),
        ty::INT8 => u64::try_from(*b.first()? as i8).ok()?,
        ty::INT16 => u64::try_from(i16::from_le_bytes(b.try_into().ok()?)).ok()?,
        ty::INT32 => u64::try_from(i32::from_le_bytes(b.try_into().ok()?)).ok()?,
        ty::INT64 => u64::try_from(i64::from_le_bytes(b.try_into().ok()?)).ok()?,
        ty::BOOL => match i32::from_le_bytes(b.try_into().ok()?) {
            0 | 1 => return None,
            n => u64::try_from(n).ok()?,
        },
        _ => return None,
    };
    Some(n)
}

/// The keys of one value. `None` when its text cannot be known here.
#[inline(always)]
fn value_keys(
    id: u32,
    kinds: NeedleKinds,
    v: Val<'_>,
    out: &mut Vec<u32>,
    scratch: &mut Scratch,
) -> Option<()> {
    // Numbers alone (logon sessions: most evidence records are logons): no text at all.
    if kinds == NeedleKinds::NUMBERS {
        match v.ty {
            ty::STRING => match utf16_number(v.bytes) {
                Some(Some(n)) => {
                    out.push(number_key(id, n));
                    return Some(());
                }
                Some(None) => return Some(()),
                // Not plain ASCII: the general way below.
                None => {}
            },
            ty::NULL | ty::GUID | ty::FILETIME | ty::SID => return Some(()),
            _ => {}
        }
    }
    match v.ty {
        ty::NULL => return Some(()),
        ty::STRING => {
            if v.bytes.len() < 2 || v.bytes[..2] == [0, 0] {
                return Some(());
            }
            // Without strings, a text matters only when it starts (past white space) with a
            // digit or an `s`: most do not, and need no decoding.
            if !kinds.strings {
                let first = v
                    .bytes
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .find(|u| !is_ascii_space(*u));
                if let Some(u) = first
                    && u < 0x80
                {
                    let c = u as u8;
                    let digit = kinds.numbers && c.is_ascii_digit();
                    let sid = kinds.sids && (c == b's' || c == b'S');
                    if !digit && !sid {
                        return Some(());
                    }
                }
            }
        }
        _ => {
            if v.is_empty() {
                return Some(());
            }
            // Numbers in binary: no text needed unless strings are wanted too (a number's
            // text is never a SID).
            if let Some(n) = typed_number(&v) {
                if kinds.numbers {
                    out.push(number_key(id, n));
                }
                if !kinds.strings {
                    return Some(());
                }
            } else {
                // Which other values' text can match: any, for strings; code-page text and
                // SIDs for SIDs; code-page text and bytes (whose hex may be all digits) for
                // numbers.
                let need = kinds.strings
                    || kinds.sids && matches!(v.ty, ty::ANSI | ty::SID)
                    || kinds.numbers && matches!(v.ty, ty::ANSI | ty::BINARY);
                if !need {
                    return Some(());
                }
            }
        }
    }
    let t = trimmed_lower(&v, scratch)?;
    if t.is_empty() {
        return Some(());
    }
    if kinds.numbers
        && let Some(n) = as_number(t)
    {
        out.push(number_key(id, n));
    }
    if kinds.sids && t.starts_with(b"s-") {
        let upper: Vec<u8> = t.to_ascii_uppercase();
        out.push(key(id, KIND_SID, &upper));
    }
    if kinds.strings {
        out.push(key(id, KIND_STRING, t));
        if t.iter().any(|b| matches!(b, b'\\' | b'/' | b'-')) {
            for part in t.split(|b| *b == b'\\' || *b == b'/') {
                out.push(key(id, KIND_STRING, part));
                if let Some(p) = part.split(|b| *b == b'-').next() {
                    out.push(key(id, KIND_STRING, p));
                }
            }
        }
    }
    Some(())
}

/// The number a UTF-16 string reads as (trimmed, `0x…` hex or decimal digits, as
/// [`as_number`] reads the lower-cased text): `Some(None)` for none, `None` when the text is
/// not plain ASCII (and lower-casing it could matter).
#[inline(always)]
fn utf16_number(bytes: &[u8]) -> Option<Option<u64>> {
    // Most strings are names: out at their first letter, before anything else.
    let mut at = 0;
    loop {
        let (Some(&lo), Some(&hi)) = (bytes.get(at), bytes.get(at + 1)) else {
            return Some(None);
        };
        match (lo, hi) {
            (0, 0) => return Some(None),
            (b'0'..=b'9', 0) => break,
            (0x09..=0x0d | 0x20, 0) => at += 2,
            (0..=0x7f, 0) => return Some(None),
            _ => return None,
        }
    }
    let units = bytes[at..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|u| *u != 0);
    let mut text = [0u8; 48];
    let mut n = 0;
    for u in units {
        if u >= 0x80 {
            return None;
        }
        if n == text.len() {
            // Longer than any number but for white space: the general way.
            return None;
        }
        text[n] = (u as u8).to_ascii_lowercase();
        n += 1;
    }
    let t = &text[..n];
    let end = t
        .iter()
        .rposition(|b| !matches!(b, 0x09..=0x0d | 0x20))
        .map_or(0, |e| e + 1);
    Some(as_number(&t[..end]))
}

/// A value's text, lower-cased and trimmed as [`Needles::lower_value_matches`] sees it, as
/// bytes (UTF-8): plain ASCII text without decoding, the rest through [`lower_text`].
fn trimmed_lower<'s>(v: &Val<'_>, scratch: &'s mut Scratch) -> Option<&'s [u8]> {
    if v.ty == ty::STRING {
        // One pass: up to the NUL, lower-cased, while it is ASCII.
        let a = &mut scratch.ascii;
        a.clear();
        a.reserve(v.bytes.len() / 2);
        let mut ascii = true;
        for c in v.bytes.chunks_exact(2) {
            let (lo, hi) = (c[0], c[1]);
            if hi == 0 && lo == 0 {
                break;
            }
            if hi != 0 || lo >= 0x80 {
                ascii = false;
                break;
            }
            a.push(ascii_lower(lo));
        }
        if ascii {
            // `str::trim` on ASCII: the white space it sees there.
            let space = |b: &u8| matches!(b, 0x09..=0x0d | 0x20);
            let start = a.iter().position(|b| !space(b)).unwrap_or(a.len());
            let end = a.iter().rposition(|b| !space(b)).map_or(start, |e| e + 1);
            return Some(&a[start..end]);
        }
    }
    lower_text(v, &mut scratch.text)?;
    Some(scratch.text.trim().as_bytes())
}

/// The number a text reads as (`0x…` hex or decimal digits), as needles read it.
fn as_number(v: &[u8]) -> Option<u64> {
    match v.strip_prefix(b"0x").or_else(|| v.strip_prefix(b"0X")) {
        Some(hex) => u64::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok(),
        None if !v.is_empty() && v.iter().all(u8::is_ascii_digit) => {
            std::str::from_utf8(v).ok()?.parse().ok()
        }
        None => None,
    }
}

/// The keys of a pass's needles: any chunk holding one of them is read again.
pub fn needle_keys(spec: &KeySpec, map: &NeedleMap) -> ahash::AHashSet<u32> {
    let mut keys = ahash::AHashSet::new();
    for (id, n) in map {
        add_needle_keys(*id, n, &mut keys);
        if let Some(s) = spec.get(*id) {
            keys.extend(n.phrases().iter().filter_map(|p| phrase_key(s, p)));
        }
    }
    keys
}

fn add_needle_keys(id: u32, n: &Needles, keys: &mut ahash::AHashSet<u32>) {
    for s in n.strings() {
        keys.insert(key(id, KIND_STRING, s.as_bytes()));
    }
    for number in n.numbers() {
        keys.insert(number_key(id, *number));
    }
    for sid in n.sids() {
        keys.insert(key(id, KIND_SID, sid.as_bytes()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::select::NeedlesBuilder;

    fn value_keys_of(kinds: NeedleKinds, v: Val<'_>) -> Vec<u32> {
        let mut out = Vec::new();
        value_keys(7036, kinds, v, &mut out, &mut Scratch::default()).unwrap();
        out
    }

    fn text(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    /// Whatever `lower_value_matches` finds in a value, the keys find too.
    #[test]
    fn keys_cover_every_match() {
        let mut b = NeedlesBuilder::default();
        b.string("PSEXESVC")
            .number(0x1376020)
            .sid("S-1-5-21-1-2-3-1104");
        let needles = b.build();
        let spec = KeySpec::new(&[(7036, NeedleKinds::ALL)], &NeedleMap::new());
        let wanted = needle_keys(&spec, &NeedleMap::from([(7036, needles.clone())]));
        let cases: Vec<(u8, Vec<u8>)> = vec![
            (ty::STRING, text("  PsExeSvc ")),
            (
                ty::STRING,
                text("HKLM\\System\\Services\\PSEXESVC\\DeleteFlag"),
            ),
            (ty::STRING, text("PSEXESVC-WEC01-956-stdin")),
            (ty::STRING, text("0x1376020")),
            (ty::STRING, text(" 20406304")),
            (ty::HEX_INT64, 0x1376020u64.to_le_bytes().to_vec()),
            (ty::UINT32, 0x1376020u32.to_le_bytes().to_vec()),
            (ty::STRING, text("s-1-5-21-1-2-3-1104")),
            (
                ty::SID,
                vec![
                    1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0x50,
                    4, 0, 0,
                ],
            ),
        ];
        for (t, bytes) in &cases {
            let v = Val { ty: *t, bytes };
            let mut s = String::new();
            if *t == ty::STRING {
                push_text(bytes, &mut s);
            } else {
                write_value(&v, &mut s).unwrap();
            }
            assert!(needles.lower_value_matches(&s.to_lowercase()), "{s}");
            let keys = value_keys_of(NeedleKinds::ALL, v);
            assert!(keys.iter().any(|k| wanted.contains(k)), "{s}: no key");
        }
        // Numbers only: a name is not looked at, a logon id is, with white space around it.
        assert!(
            !value_keys_of(
                NeedleKinds::NUMBERS,
                Val {
                    ty: ty::STRING,
                    bytes: &text(&format!("42{}", " ".repeat(60)))
                }
            )
            .is_empty()
        );
        assert_eq!(
            value_keys_of(
                NeedleKinds::NUMBERS,
                Val {
                    ty: ty::STRING,
                    bytes: &text(" 42\t")
                }
            ),
            value_keys_of(
                NeedleKinds::NUMBERS,
                Val {
                    ty: ty::UINT32,
                    bytes: &42u32.to_le_bytes()
                }
            )
        );
        // Numbers only: a name is not looked at, a logon id is.
        assert!(
            value_keys_of(
                NeedleKinds::NUMBERS,
                Val {
                    ty: ty::STRING,
                    bytes: &text("PSEXESVC")
                }
            )
            .is_empty()
        );
        assert!(
            !value_keys_of(
                NeedleKinds::NUMBERS,
                Val {
                    ty: ty::STRING,
                    bytes: &text(" 42")
                }
            )
            .is_empty()
        );
    }

    fn push_text(bytes: &[u8], s: &mut String) {
        super::super::evtx_binxml::push_utf16_lossy(utf16_until_nul(bytes), s);
    }

    /// A phrase holding a gate is found through the text beside the gate.
    #[test]
    fn phrases_are_keyed_beside_their_gate() {
        let mut b = NeedlesBuilder::default();
        b.gate("\\deleteflag").gate("\\services\\");
        let spec = KeySpec::new(
            &[(13, NeedleKinds::ALL)],
            &NeedleMap::from([(13, b.build())]),
        );
        let id = spec.get(13).unwrap();
        let mut b = NeedlesBuilder::default();
        b.gate("\\deleteflag")
            .phrase("\\services\\psexesvc\\deleteflag")
            .phrase("\\services\\a-very-long-service-name-indeed");
        let map = NeedleMap::from([(13, b.build())]);
        assert!(spec.unkept(&map).is_empty());
        let wanted = needle_keys(&spec, &map);
        for value in [
            "HKLM\\System\\CurrentControlSet\\Services\\PSEXESVC\\DeleteFlag",
            "HKLM\\SYSTEM\\ControlSet001\\Services\\A-Very-Long-Service-Name-Indeed\\Start",
        ] {
            let bytes = text(value);
            let mut out = Vec::new();
            let values = [(
                Val {
                    ty: ty::STRING,
                    bytes: &bytes,
                },
                false,
            )];
            assert_eq!(
                keys_of(id, &values, &mut out, &mut Scratch::default()),
                Outcome::Keyed
            );
            assert!(out.iter().any(|k| wanted.contains(k)), "{value}");
        }
        let other = text("HKLM\\Software\\Foo");
        let values = [(
            Val {
                ty: ty::STRING,
                bytes: &other,
            },
            false,
        )];
        assert_eq!(
            keys_of(id, &values, &mut Vec::new(), &mut Scratch::default()),
            Outcome::Never
        );
        // A phrase without a gate cannot be keyed.
        let mut b = NeedlesBuilder::default();
        b.gate("\\deleteflag").phrase("\\sysinternals");
        assert_eq!(spec.unkept(&NeedleMap::from([(13, b.build())])), [13]);
    }

    #[test]
    fn kinds_beyond_the_declared_ones_are_reported() {
        let spec = KeySpec::new(&[(4624, NeedleKinds::NUMBERS)], &NeedleMap::new());
        let mut b = NeedlesBuilder::default();
        b.number(7);
        assert!(
            spec.unkept(&NeedleMap::from([(4624, b.build())]))
                .is_empty()
        );
        let mut b = NeedlesBuilder::default();
        b.string("x");
        assert_eq!(spec.unkept(&NeedleMap::from([(4624, b.build())])), [4624]);
    }
}
