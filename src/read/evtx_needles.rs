//! A pass's needles as they look inside binary EVTX records, so the lean chunk walk
//! ([`super::evtx_scan`]) can decide on a record without rendering it.
//!
//! In BinXML, strings are UTF-16LE, logon ids little-endian 64-bit numbers (HexInt64), SIDs
//! binary. [`EvtxNeedles::values_match`] compares a record's substitution values the way
//! [`Needles::lower_value_matches`] compares the rendered event's fields; where the walk cannot
//! read a record's values, [`EvtxNeedles::raw_may_match`] searches its raw bytes for every
//! needle's encodings (a superset test: never false when the rendered record would match).

use ahash::AHashSet as HashSet;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind, packed};
use memchr::memmem;

use super::evtx_binxml::{ChunkCtx, Val, ty};
use super::evtx_keys::{
    IdMap, RawGates, ascii_text, data_values, is_ascii_space, lower_text, push_lower_bytes,
    typed_number,
};
use super::evtx_scan::RawValue;
use crate::select::{NeedleKinds, NeedleMap, Needles};

/// Scratch space of [`EvtxNeedles::record_may_match`], reused from record to record: it runs
/// on every wanted record of a corpus.
#[derive(Debug, Default)]
pub(super) struct MatchScratch {
    /// One value's text, lower-case.
    text: String,
    /// One value's text as lower-case ASCII, for the gate phrases.
    ascii: Vec<u8>,
    /// Every value's text, lower-case UTF-8, one per line.
    joined: Vec<u8>,
}

/// The EVTX form of every event id's needles in a pass.
pub type EvtxNeedleMap = IdMap<EvtxNeedles>;

/// Build the EVTX form of a pass's needles.
pub fn encode(map: &NeedleMap) -> EvtxNeedleMap {
    map.iter()
        .map(|(id, n)| (*id, EvtxNeedles::new(n)))
        .collect()
}

/// One event id's needles, encoded for raw records.
#[derive(Debug)]
pub struct EvtxNeedles {
    /// The decoded-value needles, for [`EvtxNeedles::values_match`].
    needles: Needles,
    /// The SIDs in binary form, for SID values.
    sid_bins: HashSet<Vec<u8>>,
    /// Every needle's binary encodings as one searcher, built on first use: the reader needs
    /// it only for records whose values its lean walk cannot read, so most hunts never build
    /// it (nor hold the encodings: on a large collection, tens of megabytes an event id).
    raw: OnceLock<Option<AhoCorasick>>,
    /// The gate phrases in UTF-16LE.
    gate: Option<AhoCorasick>,
    /// The gate phrases, lower-case ASCII, for data values; `None` when one is not ASCII.
    gates: Option<Vec<memmem::Finder<'static>>>,
    /// Whether a gate phrase could occur in the text of a number, GUID or time.
    typed_gate: bool,
    /// Which kinds of needle there are (asked of every value).
    kinds: NeedleKinds,
    /// Whether a needle may be found in any text (a string or phrase); numbers and SIDs are
    /// found only in values that start as one.
    loose: bool,
    /// The gate phrases in a record's bytes (see [`RawGates`]).
    raw_gates: RawGates,
    /// Where the needles are SIDs alone and there is no gate: every form a SID needle can take
    /// in a record's bytes, searched before its values are walked (see [`sid_searchers`];
    /// empty: none).
    sids_in_bytes: Vec<packed::Searcher>,
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// The bytes text takes in a record: UTF-16LE (a string), and as it is (a code-page string).
fn text_forms(t: &str) -> [Vec<u8>; 2] {
    [utf16(t), t.as_bytes().to_vec()]
}

/// Every needle's binary encodings: text in UTF-16LE and as its bytes (a code-page string),
/// numbers as little-endian integers and hex text, SIDs in binary and as text.
fn raw_patterns(n: &Needles) -> Vec<Vec<u8>> {
    let mut patterns: Vec<Vec<u8>> = n
        .strings()
        .chain(n.phrases().iter().map(String::as_str))
        .chain(n.sids())
        .flat_map(text_forms)
        .collect();
    for number in n.numbers() {
        patterns.extend(text_forms(&format!("{number:x}")));
    }
    patterns.extend(
        n.numbers()
            .iter()
            .map(|number| number.to_le_bytes().to_vec()),
    );
    patterns.extend(n.sids().filter_map(sid_to_binary));
    patterns.sort();
    patterns.dedup();
    patterns
}

/// Most SIDs [`sid_searchers`] searches for at once: three patterns each, and the SIMD searcher
/// (Teddy) takes at most 64.
const SIDS_PER_SEARCHER: usize = 21;
/// Most searchers a record's bytes go through before its values would be walked anyway: past
/// that many SIDs, the walk alone is cheaper.
const MAX_SID_SEARCHERS: usize = 6;

/// Searchers for every form the SID needles of `n` take in a record's bytes: binary, and text
/// in UTF-16LE or ASCII; empty if a needle is not a SID's `S-` and digits, or there are too
/// many for the searches to be cheaper than a walk of the values.
///
/// Each form is searched for by its end: the last sub-authorities, which tell SIDs apart. Their
/// start (`S-1-5-21-`, binary `01 05 00 00 00 00 00 05 15 00 00 00`) is in most records, and
/// a searcher that looks for it first stops at each one; the text's end has no letter, so no
/// case to fold either. A value that is a needle holds its end: a superset test.
///
/// Why not [`AhoCorasick`]: past 16 patterns it looks for the patterns' rarest bytes first, and
/// in EVTX records (UTF-16 text, binary SIDs) those are everywhere: several times slower than the
/// walk it was to spare.
fn sid_searchers(n: &Needles) -> Vec<packed::Searcher> {
    let mut patterns: Vec<Vec<u8>> = Vec::new();
    for sid in n.sids() {
        let Some(rest) = sid.get(1..).filter(|r| {
            sid.starts_with(['s', 'S']) && r.bytes().all(|b| b.is_ascii_digit() || b == b'-')
        }) else {
            return Vec::new();
        };
        if let Some(bin) = sid_to_binary(sid) {
            patterns.push(bin[bin.len().saturating_sub(8)..].to_vec());
        }
        patterns.extend(text_forms(&rest[rest.len().saturating_sub(12)..]));
    }
    let searchers: Option<Vec<packed::Searcher>> = patterns
        .chunks(3 * SIDS_PER_SEARCHER)
        .take(MAX_SID_SEARCHERS + 1)
        .map(|group| {
            packed::Config::new()
                .match_kind(packed::MatchKind::LeftmostFirst)
                .builder()
                .extend(group)
                .build()
        })
        .collect();
    // `None`: no SIMD here, or an empty pattern (a needle `S`).
    searchers
        .filter(|s| s.len() <= MAX_SID_SEARCHERS)
        .unwrap_or_default()
}

impl EvtxNeedles {
    fn new(n: &Needles) -> Self {
        let sid_bins: HashSet<Vec<u8>> = n.sids().filter_map(sid_to_binary).collect();
        let gate = (!n.gate_phrases().is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .build(n.gate_phrases().iter().map(|g| utf16(g)))
                .expect("byte patterns always build")
        });
        let gates = n
            .gate_phrases()
            .iter()
            .map(|g| {
                g.is_ascii()
                    .then(|| memmem::Finder::new(g.as_bytes()).into_owned())
            })
            .collect();
        let typed_chars = |c: char| c.is_ascii_hexdigit() || "x{}-:.tzs".contains(c);
        let kinds = n.kinds();
        let sids_in_bytes = if kinds == NeedleKinds::SIDS && n.gate_phrases().is_empty() {
            sid_searchers(n)
        } else {
            Vec::new()
        };
        EvtxNeedles {
            sids_in_bytes,
            kinds,
            loose: kinds.strings || kinds.phrases,
            needles: n.clone(),
            sid_bins,
            raw: OnceLock::new(),
            gate,
            gates,
            typed_gate: n.gate_phrases().iter().any(|g| g.chars().all(typed_chars)),
            raw_gates: RawGates::new(n.gate_phrases()),
        }
    }

    /// Whether raw record bytes may hold a needle (never false when the decoded record would
    /// match; may be true when it does not).
    pub fn raw_may_match(&self, bytes: &[u8]) -> bool {
        if self.needles.is_empty() || !self.raw_passes_gate(bytes) {
            return false;
        }
        let raw = self.raw.get_or_init(|| {
            let patterns = raw_patterns(&self.needles);
            // The searcher's ASCII case folding covers case in UTF-16LE text too.
            (!patterns.is_empty()).then(|| {
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(patterns)
                    .expect("byte patterns always build")
            })
        });
        raw.as_ref().is_some_and(|ac| ac.is_match(bytes))
    }

    /// Whether the record at `offset` (of `size` bytes) of the chunk `ctx` reads may hold a
    /// needle: one of the values an event's data takes from it (or its account SID) is one, and
    /// one holds a gate phrase where there is a gate. Never false when the decoded record would
    /// match.
    ///
    /// `decoded`: a record this lets through is decoded and tested exactly (one the pass folds,
    /// see `FileOutput::offer_folded`). Where the needles are SIDs alone, the search of its
    /// bytes then decides, without the walk of its values: on the benchmark corpora and the
    /// shared corpus every record the search let through held a needle (1.1 M of them for the
    /// seed query), so the walk only confirmed what the decoded event's own test confirms
    /// again.
    pub(super) fn record_may_match(
        &self,
        ctx: &mut ChunkCtx<'_>,
        offset: usize,
        size: usize,
        decoded: bool,
        scratch: &mut MatchScratch,
    ) -> bool {
        let raw = &ctx.data[offset..offset + size];
        // Needles of SIDs alone (the seed query's account events, most of what it reads): a
        // value holds one only where the record's bytes hold the end of its binary form, or of
        // its text in UTF-16LE (a string) or ASCII (a code-page string): digits and dashes,
        // which no lower-casing gives from anything else. One search of the bytes rules out
        // most records before their values are walked.
        if !self.sids_in_bytes.is_empty() {
            if !self.sids_in_bytes.iter().any(|s| s.find(raw).is_some()) {
                return false;
            }
            if decoded {
                return true;
            }
        }
        let Some(gates) = &self.gates else {
            return self.raw_passes_gate(raw) && self.raw_may_match(raw);
        };
        let MatchScratch {
            text,
            ascii,
            joined,
        } = scratch;
        if !gates.is_empty() && !self.typed_gate && !self.raw_gates.may_hold(raw, ascii) {
            return false;
        }
        let (mut passed, mut matched) = (gates.is_empty(), false);
        let phrases = self.kinds.phrases;
        joined.clear();
        let walked = data_values(
            ctx,
            offset + 24,
            offset + size - 4,
            0,
            false,
            &mut |v, sid| {
                if !passed
                    && !sid
                    && ascii_text(&v, self.typed_gate, ascii)
                    && gates.iter().any(|g| g.find(ascii).is_some())
                {
                    passed = true;
                }
                if !matched {
                    matched = self.value_matches(&v, text, phrases.then_some(&mut *joined));
                }
            },
        );
        if !walked {
            return self.raw_passes_gate(raw) && self.raw_may_match(raw);
        }
        // The phrases are searched for once in all the record's text rather than in each value:
        // a process creation has a score of values, and a search has a cost of its own. Text
        // joined across two values may hold a phrase neither does; the decoded event's own test
        // then drops the record.
        passed && (matched || (phrases && self.needles.phrase_in(joined)))
    }

    /// Whether one value is a needle, as its text would be in the decoded event; with `joined`,
    /// the phrases are left out, and the value's text is added to `joined` to be searched for
    /// them.
    fn value_matches(&self, v: &Val<'_>, buf: &mut String, joined: Option<&mut Vec<u8>>) -> bool {
        if v.is_empty() {
            return false;
        }
        let NeedleKinds {
            strings,
            numbers,
            sids,
            ..
        } = self.kinds;
        let loose = self.loose;
        let text = loose || sids;
        // Without strings or phrases, only a number written out (it starts with a digit) or a
        // SID (`S-…`) can match: a value that cannot start as one is not decoded at all. (The
        // seed query's account events are matched on SIDs alone, the hunt's process creations
        // on numbers and phrases.)
        if let Some(n) = typed_number(v) {
            if self.needles.numbers().contains(&n) {
                return true;
            }
            // A number's text is no SID.
            if !text || (!loose && !numbers) {
                return false;
            }
        } else if !loose {
            match v.ty {
                ty::STRING => {
                    let first = v
                        .bytes
                        .chunks_exact(2)
                        .map(|c| u16::from_le_bytes([c[0], c[1]]))
                        .find(|u| !is_ascii_space(*u));
                    // Past ASCII (a space `str::trim` trims, or a letter that lower-cases to
                    // one), the long way.
                    let may = first.is_some_and(|u| {
                        u >= 0x80
                            || (numbers && (u as u8).is_ascii_digit())
                            || (sids && (u == u16::from(b's') || u == u16::from(b'S')))
                    });
                    if !may {
                        return false;
                    }
                }
                ty::ANSI | ty::BINARY => {}
                // Its text matches a SID needle exactly when its bytes are that needle's: the
                // walk passes only SIDs whose size fits their count, and their text is
                // `S-rev-authority-sub…` in decimal, which `sid_to_binary` reads back. (A
                // needle written otherwise, `S-1-05-18`, may pass here and not the decoded test.)
                ty::SID if sids => return self.sid_bins.contains(v.bytes),
                _ => return false,
            }
        }
        let Some(joined) = joined else {
            return lower_text(v, buf).is_none() || self.needles.lower_value_matches(buf);
        };
        let start = joined.len();
        if push_lower_bytes(v, joined, buf).is_none() {
            return true;
        }
        let lower = &joined[start..];
        // Besides phrases, numbers alone need a value that starts with a digit once trimmed
        // (past ASCII, a space `str::trim` trims: the long way).
        let first = lower.iter().find(|b| !is_ascii_space(u16::from(**b)));
        let matched =
            (strings || sids || first.is_some_and(|b| b.is_ascii_digit() || !b.is_ascii()))
                && std::str::from_utf8(lower)
                    .map_or(true, |l| self.needles.lower_value_matches_but_phrases(l));
        joined.push(b'\n');
        matched
    }

    /// Whether raw record bytes hold a gate phrase (always, when there is no gate).
    pub fn raw_passes_gate(&self, bytes: &[u8]) -> bool {
        self.gate.as_ref().is_none_or(|g| g.is_match(bytes))
    }

    /// Whether one of a record's raw substitution values is a needle: the same test as
    /// [`Needles::event_matches`] on the values the record renders from (the gate is tested
    /// on the raw bytes by [`EvtxNeedles::raw_passes_gate`]).
    ///
    /// `buf` is scratch space reused across calls: this runs on every wanted record of a corpus.
    pub fn values_match(&self, values: &[RawValue<'_>], buf: &mut String) -> bool {
        // Most records are of ids matched on numbers alone (4624 by logon id): of their text,
        // only what could be a number written out needs decoding.
        let text_needles = self.needles.has_text();
        let starts_with_digit =
            |b: &[u8]| b.first().is_some_and(u8::is_ascii_digit) && b.get(1) == Some(&0);
        values.iter().any(|v| match v {
            RawValue::Number(n) => self.needles.numbers().contains(n),
            RawValue::Sid(bin) => self.sid_bins.contains(*bin),
            RawValue::Utf16(bytes) if !text_needles && !starts_with_digit(bytes) => false,
            RawValue::Utf16(bytes) => {
                buf.clear();
                let units = bytes
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .take_while(|u| *u != 0);
                for c in char::decode_utf16(units) {
                    match c {
                        // Most text is ASCII: fold it without the Unicode tables.
                        Ok(c) if c.is_ascii() => buf.push(c.to_ascii_lowercase()),
                        Ok(c) => buf.extend(c.to_lowercase()),
                        Err(_) => buf.push(char::REPLACEMENT_CHARACTER),
                    }
                }
                self.needles.lower_value_matches(buf)
            }
        })
    }
}

/// A SID's binary form: revision, sub-authority count, 48-bit big-endian authority, then
/// 32-bit little-endian sub-authorities.
fn sid_to_binary(sid: &str) -> Option<Vec<u8>> {
    let mut parts = sid.split('-');
    if !parts.next()?.eq_ignore_ascii_case("S") {
        return None;
    }
    let revision: u8 = parts.next()?.parse().ok()?;
    let authority: u64 = parts.next()?.parse().ok()?;
    let subs: Vec<u32> = parts.map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let mut out = vec![revision, u8::try_from(subs.len()).ok()?];
    out.extend_from_slice(&authority.to_be_bytes()[2..]);
    for s in subs {
        out.extend_from_slice(&s.to_le_bytes());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::select::NeedlesBuilder;

    fn needles() -> EvtxNeedles {
        let mut b = NeedlesBuilder::default();
        b.string("PSEXESVC")
            .number(0x1376020)
            .sid("S-1-5-21-1-2-3-1104")
            .phrase("\\sysinternals\\psexec\\eulaaccepted");
        EvtxNeedles::new(&b.build())
    }

    #[test]
    fn raw_bytes_are_searched_in_every_encoding() {
        let n = needles();
        assert!(
            n.raw_may_match(&utf16("xx psexesvc yy")),
            "UTF-16LE, any case"
        );
        assert!(
            n.raw_may_match(&0x1376020u64.to_le_bytes()),
            "little-endian logon id"
        );
        assert!(n.raw_may_match(&sid_to_binary("S-1-5-21-1-2-3-1104").unwrap()));
        // A code-page string holds text as its bytes.
        assert!(n.raw_may_match(b"xx s-1-5-21-1-2-3-1104"), "code-page SID");
        assert!(n.raw_may_match(b"PsExeSvc"), "code-page string");
        assert!(!n.raw_may_match(b"nothing to see"));
    }

    #[test]
    fn raw_values_match_like_decoded_fields() {
        let n = needles();
        let mut buf = String::new();
        let name = utf16("PsExeSvc");
        assert!(n.values_match(&[RawValue::Utf16(&name)], &mut buf));
        assert!(n.values_match(&[RawValue::Number(0x1376020)], &mut buf));
        let sid = sid_to_binary("S-1-5-21-1-2-3-1104").unwrap();
        assert!(n.values_match(&[RawValue::Sid(&sid)], &mut buf));
        let other = utf16("Spooler");
        assert!(!n.values_match(&[RawValue::Utf16(&other), RawValue::Number(7)], &mut buf));
    }

    #[test]
    fn binary_sids() {
        assert_eq!(
            sid_to_binary("S-1-5-18").unwrap(),
            [1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0]
        );
        assert_eq!(sid_to_binary("not a sid"), None);
    }
}
