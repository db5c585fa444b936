//! Needles: the values a run is interested in, so readers can drop uninteresting records early.
//!
//! A hunt reads twice: first the rare creation events, then the evidence about *those*
//! services only. The second pass hands readers a [`Needles`] set (service names, logon ids,
//! SIDs, file names) and the event ids it applies to; a record of such an id is kept only if
//! one of its values is a needle. That keeps memory proportional to what was found, not to the
//! corpus, and lets the EVTX reader skip rendering: [`Needles::raw_may_match`] searches a
//! record's raw BinXML bytes for the UTF-16LE, little-endian and binary-SID encodings of every
//! needle (a superset test: no false negatives), and [`Needles::event_matches`] then decides
//! exactly on the decoded event.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::event::Event;

/// Values worth keeping a record for.
#[derive(Debug, Clone)]
pub struct Needles {
    /// Lower-case strings matched against whole field values (and registry path components).
    strings: HashSet<String>,
    /// Phrases matched case-insensitively anywhere inside a field value (one automaton: a run
    /// may carry thousands, one per service found).
    phrases: Option<AhoCorasick>,
    /// Numbers (logon ids) matched against hex or decimal field values.
    numbers: HashSet<u64>,
    /// Upper-case SIDs matched against whole field values.
    sids: HashSet<String>,
    /// The same SIDs in binary form, for raw values.
    sid_bins: HashSet<Vec<u8>>,
    /// Every needle's binary encodings, for the raw-bytes searcher.
    raw_patterns: Arc<Vec<Vec<u8>>>,
    /// That searcher, built on first use: the EVTX reader needs it only for records whose
    /// values its lean walk cannot read, so most hunts never build it.
    raw: OnceLock<AhoCorasick>,
    /// Phrases of which at least one must occur in a record for it to match at all, as a
    /// decoded-text searcher and as a raw UTF-16LE one (a few short patterns: fast to rule a
    /// record out before decoding any of it).
    gate: Option<(AhoCorasick, AhoCorasick)>,
}

/// Builds a [`Needles`] set.
#[derive(Debug, Default)]
pub struct NeedlesBuilder {
    gate: Vec<String>,
    strings: HashSet<String>,
    phrases: Vec<String>,
    numbers: HashSet<u64>,
    sids: HashSet<String>,
}

impl NeedlesBuilder {
    /// Add a string (compared case-insensitively; empty strings are ignored).
    pub fn string(&mut self, s: &str) -> &mut Self {
        let s = s.trim();
        if !s.is_empty() {
            self.strings.insert(s.to_lowercase());
        }
        self
    }

    /// Add a phrase, matched case-insensitively anywhere inside a value (such as
    /// `\services\psexesvc\deleteflag` inside a registry path).
    pub fn phrase(&mut self, s: &str) -> &mut Self {
        let s = s.to_lowercase();
        if !s.is_empty() && !self.phrases.contains(&s) {
            self.phrases.push(s);
        }
        self
    }

    /// Require, besides a needle, one of the gate phrases somewhere in the record (such as
    /// `\deleteflag` for Sysmon registry writes): most records are then ruled out at once.
    pub fn gate(&mut self, phrase: &str) -> &mut Self {
        self.gate.push(phrase.to_lowercase());
        self
    }

    /// Add a number such as a logon id.
    pub fn number(&mut self, n: u64) -> &mut Self {
        self.numbers.insert(n);
        self
    }

    /// Add a SID in its `S-1-…` form.
    pub fn sid(&mut self, sid: &str) -> &mut Self {
        if sid.starts_with("S-") || sid.starts_with("s-") {
            self.sids.insert(sid.to_ascii_uppercase());
        }
        self
    }

    /// Finish the set.
    pub fn build(self) -> Needles {
        // The raw search runs over BinXML, where strings are UTF-16LE (ASCII case folding in the
        // searcher covers case), logon ids are little-endian 64-bit (HexInt64), SIDs binary.
        // Text formats are decided on the decoded event alone.
        let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        patterns.extend(self.strings.iter().map(|s| utf16(s)));
        patterns.extend(self.phrases.iter().map(|s| utf16(s)));
        for n in &self.numbers {
            patterns.push(n.to_le_bytes().to_vec());
            patterns.push(utf16(&format!("{n:x}")));
        }
        for sid in &self.sids {
            patterns.extend(sid_to_binary(sid));
            patterns.push(utf16(sid));
        }
        patterns.sort();
        patterns.dedup();
        let gate = (!self.gate.is_empty()).then(|| {
            let text = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .build(&self.gate)
                .expect("text patterns always build");
            let raw = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .build(self.gate.iter().map(|g| utf16(g)))
                .expect("byte patterns always build");
            (text, raw)
        });
        let phrases = (!self.phrases.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .build(&self.phrases)
                .expect("text patterns always build")
        });
        Needles {
            gate,
            sid_bins: self.sids.iter().filter_map(|s| sid_to_binary(s)).collect(),
            strings: self.strings,
            phrases,
            numbers: self.numbers,
            sids: self.sids,
            raw_patterns: Arc::new(patterns),
            raw: OnceLock::new(),
        }
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

/// A field value read as a number: `0x1a2b` hex, or decimal.
fn as_number(v: &str) -> Option<u64> {
    let v = v.trim();
    match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => v.parse().ok(),
        None => None,
    }
}

impl Needles {
    /// True when nothing is wanted.
    pub fn is_empty(&self) -> bool {
        self.raw_patterns.is_empty()
    }

    /// Whether raw record bytes may hold a needle (never false when the decoded record would
    /// match; may be true when it does not).
    pub fn raw_may_match(&self, bytes: &[u8]) -> bool {
        if self.raw_patterns.is_empty() || !self.raw_passes_gate(bytes) {
            return false;
        }
        let ac = self.raw.get_or_init(|| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostFirst)
                .build(self.raw_patterns.iter())
                .expect("byte patterns always build")
        });
        ac.is_match(bytes)
    }

    /// Whether raw record bytes hold a gate phrase (always, when there is no gate).
    pub fn raw_passes_gate(&self, bytes: &[u8]) -> bool {
        self.gate
            .as_ref()
            .is_none_or(|(_, raw)| raw.is_match(bytes))
    }

    /// Whether one of a record's raw substitution values is a needle: the same test as
    /// [`Needles::event_matches`] on the values the record renders from.
    ///
    /// `buf` is scratch space reused across calls: this runs on every wanted record of a corpus.
    pub fn values_match(
        &self,
        values: &[super::evtx_scan::RawValue<'_>],
        buf: &mut String,
    ) -> bool {
        use super::evtx_scan::RawValue;
        // Most records are of ids matched on numbers alone (4624 by logon id): of their text,
        // only what could be a number written out needs decoding.
        let text_needles =
            !self.strings.is_empty() || self.phrases.is_some() || !self.sids.is_empty();
        let starts_with_digit =
            |b: &[u8]| b.first().is_some_and(u8::is_ascii_digit) && b.get(1) == Some(&0);
        values.iter().any(|v| match v {
            RawValue::Number(n) => self.numbers.contains(n),
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
                self.lower_value_matches(buf)
            }
        })
    }

    /// Whether one of `event`'s field values is a needle: a whole string (or a component of a
    /// registry or file path, or a pipe name's leading part), a number, or a SID.
    pub fn event_matches(&self, event: &Event) -> bool {
        if let Some((gate, _)) = &self.gate
            && !event.data.iter().any(|(_, v)| gate.is_match(v))
        {
            return false;
        }
        let sid = event.user.sid.as_deref().map(str::to_ascii_uppercase);
        if sid.is_some_and(|s| self.sids.contains(&s)) {
            return true;
        }
        event.data.iter().any(|(_, v)| self.value_matches(v))
    }

    fn value_matches(&self, v: &str) -> bool {
        self.lower_value_matches(&v.to_lowercase())
    }

    /// [`Needles::value_matches`] on an already lower-cased value.
    fn lower_value_matches(&self, lower: &str) -> bool {
        let v = lower.trim();
        if v.is_empty() {
            return false;
        }
        if !self.numbers.is_empty() && as_number(v).is_some_and(|n| self.numbers.contains(&n)) {
            return true;
        }
        if v.starts_with("s-") && self.sids.contains(&v.to_ascii_uppercase()) {
            return true;
        }
        if self.phrases.as_ref().is_some_and(|p| p.is_match(v)) {
            return true;
        }
        if self.strings.is_empty() {
            return false;
        }
        if self.strings.contains(v) {
            return true;
        }
        // Registry paths (`…\Services\<name>\DeleteFlag`), file paths and pipe names
        // (`PSEXESVC-WEC01-956-stdin`) carry the needle as one component.
        if !v.contains(['\\', '/', '-']) {
            return false;
        }
        v.split(['\\', '/']).any(|part| {
            self.strings.contains(part)
                || part
                    .split('-')
                    .next()
                    .is_some_and(|p| self.strings.contains(p))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needles() -> Needles {
        let mut b = NeedlesBuilder::default();
        b.string("PSEXESVC")
            .number(0x1376020)
            .sid("S-1-5-21-1-2-3-1104")
            .phrase("\\sysinternals\\psexec\\eulaaccepted");
        b.build()
    }

    fn event(data: &[(&str, &str)]) -> Event {
        crate::event::test_event(7036, "System", data)
    }

    #[test]
    fn raw_bytes_are_searched_in_every_encoding() {
        let n = needles();
        let utf16: Vec<u8> = "xx psexesvc yy"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert!(n.raw_may_match(&utf16), "UTF-16LE, any case");
        assert!(
            n.raw_may_match(&0x1376020u64.to_le_bytes()),
            "little-endian logon id"
        );
        assert!(n.raw_may_match(&sid_to_binary("S-1-5-21-1-2-3-1104").unwrap()));
        assert!(!n.raw_may_match(b"nothing to see"));
    }

    #[test]
    fn decoded_events_match_whole_values_and_path_parts() {
        let n = needles();
        assert!(n.event_matches(&event(&[("param1", "psexesvc")])));
        assert!(n.event_matches(&event(&[("TargetLogonId", "0x1376020")])));
        assert!(n.event_matches(&event(&[(
            "TargetObject",
            "HKLM\\System\\CurrentControlSet\\Services\\PSEXESVC\\DeleteFlag"
        )])));
        assert!(n.event_matches(&event(&[(
            "RelativeTargetName",
            "PSEXESVC-WEC01-956-stdin"
        )])));
        assert!(!n.event_matches(&event(&[("param1", "PSEXESVC2")])));
        assert!(n.event_matches(&event(&[(
            "TargetObject",
            "HKU\\S-1-5-21-9\\Software\\Sysinternals\\PsExec\\EulaAccepted"
        )])));
        assert!(!n.event_matches(&event(&[("TargetLogonId", "0x1376021")])));
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
