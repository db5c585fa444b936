//! Needles: the values a pass is interested in, so readers can drop uninteresting records early.
//!
//! A hunt's second pass hands readers a [`Needles`] set per event id (service names, logon ids,
//! SIDs, file names); a record of such an id is kept only if one of its values is a needle.
//! That keeps memory proportional to what was found, not to the corpus.
//! [`Needles::event_matches`] decides on a decoded event; readers of binary formats may first
//! rule records out on their raw bytes, from the needles this set exposes (see
//! `read::evtx_needles`), as long as they never drop a record the decoded test would keep.

use std::collections::HashMap;
use std::sync::Arc;

use ahash::AHashSet as HashSet;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder};

use crate::event::Event;

/// Needles by event id.
pub type NeedleMap = HashMap<u32, Needles>;

/// Which kinds of needle an event id may be given by a read plan: a reader that must decide
/// before the needles are known (the EVTX reader remembers, per chunk, only the values that
/// could match one) keeps only those kinds. A plan that gives an id a kind it did not declare
/// is still read right, only slower.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeedleKinds {
    /// Whole strings and their path components ([`NeedlesBuilder::string`]).
    pub strings: bool,
    /// Numbers ([`NeedlesBuilder::number`]).
    pub numbers: bool,
    /// SIDs ([`NeedlesBuilder::sid`]).
    pub sids: bool,
    /// Phrases found anywhere in a value ([`NeedlesBuilder::phrase`]).
    pub phrases: bool,
}

impl NeedleKinds {
    /// Any kind.
    pub const ALL: NeedleKinds = NeedleKinds {
        strings: true,
        numbers: true,
        sids: true,
        phrases: true,
    };
    /// Numbers only (logon sessions).
    pub const NUMBERS: NeedleKinds = NeedleKinds {
        strings: false,
        numbers: true,
        sids: false,
        phrases: false,
    };
    /// Strings only (names).
    pub const STRINGS: NeedleKinds = NeedleKinds {
        strings: true,
        numbers: false,
        sids: false,
        phrases: false,
    };
    /// SIDs only (accounts).
    pub const SIDS: NeedleKinds = NeedleKinds {
        strings: false,
        numbers: false,
        sids: true,
        phrases: false,
    };

    /// These kinds and `other`'s.
    pub const fn and(self, other: NeedleKinds) -> NeedleKinds {
        NeedleKinds {
            strings: self.strings || other.strings,
            numbers: self.numbers || other.numbers,
            sids: self.sids || other.sids,
            phrases: self.phrases || other.phrases,
        }
    }

    /// Whether every kind of `other` is one of these.
    pub fn covers(self, other: NeedleKinds) -> bool {
        (self.strings || !other.strings)
            && (self.numbers || !other.numbers)
            && (self.sids || !other.sids)
            && (self.phrases || !other.phrases)
    }
}

/// Values worth keeping a record for.
///
/// Cheap to clone: a hunt gives several event ids the same names (tens of thousands of them
/// on a large collection), and each id's copy shares them.
///
/// Its sets hash with aHash rather than std's SipHash: every value of every candidate record is
/// looked up (1.3 M records per GiB), and nothing is ever read from them in their order.
#[derive(Debug, Clone)]
pub struct Needles {
    /// Lower-case strings matched against whole field values (and registry path components).
    strings: Arc<HashSet<String>>,
    /// The phrases, lower-case, as given.
    phrase_list: Arc<[String]>,
    /// Phrases matched case-insensitively anywhere inside a field value (one automaton: a run
    /// may carry thousands, one per service found).
    phrases: Option<AhoCorasick>,
    /// Numbers (logon ids) matched against hex or decimal field values.
    numbers: Arc<HashSet<u64>>,
    /// Upper-case SIDs matched against whole field values.
    sids: Arc<HashSet<String>>,
    /// Phrases of which at least one must occur in a record for it to match at all (a few
    /// short patterns: fast to rule a record out before looking at any needle).
    gate_list: Arc<[String]>,
    /// The gate phrases as one searcher.
    gate: Option<AhoCorasick>,
}

/// Builds a [`Needles`] set.
#[derive(Debug, Default)]
pub struct NeedlesBuilder {
    gate: Vec<String>,
    strings: HashSet<String>,
    phrases: Vec<String>,
    phrase_set: HashSet<String>,
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
        // A set beside the list: a run may give hundreds of thousands of phrases (one per
        // service found), and a search of the list for each was quadratic.
        if !s.is_empty() && self.phrase_set.insert(s.clone()) {
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
        let searcher = |patterns: &[String], any_case: bool| {
            (!patterns.is_empty()).then(|| {
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(any_case)
                    // Only whether one occurs is asked; leftmost semantics let the searcher use
                    // its SIMD prefilter (Teddy) for a few dozen patterns.
                    .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                    .build(patterns)
                    .expect("text patterns always build")
            })
        };
        Needles {
            // The gate is searched for in values as they are.
            gate: searcher(&self.gate, true),
            gate_list: self.gate.into(),
            // Phrases only in lower-case text, so they are searched for as they are: a searcher
            // that folds case cannot use its fastest prefilter.
            phrases: searcher(&self.phrases, false),
            phrase_list: self.phrases.into(),
            strings: Arc::new(self.strings),
            numbers: Arc::new(self.numbers),
            sids: Arc::new(self.sids),
        }
    }
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
        self.strings.is_empty()
            && self.phrase_list.is_empty()
            && self.numbers.is_empty()
            && self.sids.is_empty()
    }

    /// The whole-value strings, lower-case.
    pub fn strings(&self) -> impl Iterator<Item = &str> {
        self.strings.iter().map(String::as_str)
    }

    /// The phrases, lower-case.
    pub fn phrases(&self) -> &[String] {
        &self.phrase_list
    }

    /// The numbers.
    pub fn numbers(&self) -> &HashSet<u64> {
        &self.numbers
    }

    /// The SIDs, upper-case.
    pub fn sids(&self) -> impl Iterator<Item = &str> {
        self.sids.iter().map(String::as_str)
    }

    /// The gate phrases, lower-case (empty when there is no gate).
    pub fn gate_phrases(&self) -> &[String] {
        &self.gate_list
    }

    /// The kinds of needle this set holds.
    pub fn kinds(&self) -> NeedleKinds {
        NeedleKinds {
            strings: !self.strings.is_empty(),
            numbers: !self.numbers.is_empty(),
            sids: !self.sids.is_empty(),
            phrases: !self.phrase_list.is_empty(),
        }
    }

    /// True when some needle is text (a string, phrase or SID), not only numbers: a record of
    /// an id matched on numbers alone need not have its text decoded.
    pub fn has_text(&self) -> bool {
        !self.strings.is_empty() || !self.phrase_list.is_empty() || !self.sids.is_empty()
    }

    /// Whether `event` holds a needle: one of its field values is a whole string (or a component
    /// of a registry or file path, or a pipe name's leading part), a number, a SID or holds a
    /// phrase, or its account's SID is one; and, where there is a gate, one of its values holds
    /// a gate phrase.
    pub fn event_matches(&self, event: &Event) -> bool {
        self.values_match(
            event.data.iter().map(|(_, v)| v.as_str()),
            event.user.sid.as_deref(),
        )
    }

    /// [`Needles::event_matches`] on an event's field values and account SID, however they are
    /// held (a follower keeps events compact).
    pub fn values_match<'a>(
        &self,
        values: impl Iterator<Item = &'a str> + Clone,
        account_sid: Option<&str>,
    ) -> bool {
        if let Some(gate) = &self.gate
            && !values.clone().any(|v| gate.is_match(v))
        {
            return false;
        }
        if account_sid.is_some_and(|s| self.has_sid(s)) {
            return true;
        }
        // Called on every field of every candidate record: ASCII values (nearly all) are
        // lower-cased into one buffer rather than each into a new string; where SIDs are the
        // only needles (the seed query's, on every logon naming an installer), not at all:
        // `has_sid` compares without case, and an ASCII value trims alike in either case.
        let sids_only =
            self.strings.is_empty() && self.numbers.is_empty() && self.phrases.is_none();
        let mut lower = String::new();
        let mut values = values;
        values.any(|v| {
            if sids_only && v.is_ascii() {
                let v = v.trim();
                v.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("s-")) && self.has_sid(v)
            } else if v.is_ascii() {
                lower.clear();
                lower.push_str(v);
                lower.make_ascii_lowercase();
                self.lower_value_matches(&lower)
            } else {
                self.lower_value_matches(&v.to_lowercase())
            }
        })
    }

    /// Whether `sid` (any case) is a needle, without allocating for a SID's length.
    fn has_sid(&self, sid: &str) -> bool {
        // A SID has at most 184 characters (15 sub-authorities); longer text is looked up the
        // slow way, exactly the same.
        let mut buf = [0u8; 192];
        match buf.get_mut(..sid.len()) {
            Some(upper) => {
                upper.copy_from_slice(sid.as_bytes());
                upper.make_ascii_uppercase();
                // An ASCII case change keeps UTF-8 valid.
                std::str::from_utf8(upper).is_ok_and(|u| self.sids.contains(u))
            }
            None => self.sids.contains(&sid.to_ascii_uppercase()),
        }
    }

    /// Whether one field value, already lower-cased, is a needle (see [`Needles::event_matches`]).
    pub fn lower_value_matches(&self, lower: &str) -> bool {
        self.lower_value_matches_but_phrases(lower) || self.phrase_in(lower.trim())
    }

    /// Whether `lower` (lower-case text) holds a phrase.
    pub fn phrase_in(&self, lower: impl AsRef<[u8]>) -> bool {
        let lower = lower.as_ref();
        self.phrases.as_ref().is_some_and(|p| p.is_match(lower))
    }

    /// [`Needles::lower_value_matches`] without the phrases (for a reader that searches for them
    /// in all of a record's values at once, see [`Needles::phrase_in`]).
    pub fn lower_value_matches_but_phrases(&self, lower: &str) -> bool {
        let v = lower.trim();
        if v.is_empty() {
            return false;
        }
        if !self.numbers.is_empty() && as_number(v).is_some_and(|n| self.numbers.contains(&n)) {
            return true;
        }
        if v.starts_with("s-") && self.has_sid(v) {
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

    /// With SIDs the only needles, a value is not lower-cased first: each still matches
    /// exactly when its lower-case form does.
    #[test]
    fn sids_alone_match_as_lower_case_values_do() {
        let mut b = NeedlesBuilder::default();
        b.sid("S-1-5-21-1-2-3-1104").sid("S-1-K");
        let n = b.build();
        let values = [
            "S-1-5-21-1-2-3-1104",
            " s-1-5-21-1-2-3-1104\t",
            "s-1-5-21-1-2-3-1104",
            "S-1-5-21-1-2-3-11040",
            "S-1-5-21-1-2-3-110",
            "x-1-5-21-1-2-3-1104",
            "S-1-k",
            // A Kelvin sign lower-cases to an ASCII `k`.
            "S-1-\u{212A}",
            "S-1-5-21-1-2-3-1104\u{e9}",
            "",
            " ",
            "S",
            "s-",
        ];
        for v in values {
            let expected = n.lower_value_matches(&v.to_lowercase());
            assert_eq!(n.values_match([v].into_iter(), None), expected, "{v:?}");
        }
        assert!(n.values_match([" s-1-5-21-1-2-3-1104\t"].into_iter(), None));
        assert!(n.values_match(["S-1-\u{212A}"].into_iter(), None));
        assert!(!n.values_match(["S-1-5-21-1-2-3-110"].into_iter(), None));
    }

    #[test]
    fn a_gate_rules_records_out() {
        let mut b = NeedlesBuilder::default();
        b.gate("\\deleteflag").phrase("\\services\\psexesvc");
        let n = b.build();
        let path = |p: &str| event(&[("TargetObject", p)]);
        assert!(n.event_matches(&path(
            "HKLM\\System\\CurrentControlSet\\Services\\PSEXESVC\\DeleteFlag"
        )));
        assert!(!n.event_matches(&path(
            "HKLM\\System\\CurrentControlSet\\Services\\PSEXESVC\\Start"
        )));
    }
}
