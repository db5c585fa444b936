//! The seed query's string operators as Kusto defines them: `parse` in simple mode and `has`.
//!
//! Both work on the text of a column as the table holds it; nothing here knows Windows events.

use std::sync::LazyLock;

use regex::Regex;

/// One element of a simple-mode `parse` pattern.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Piece<'a> {
    /// `*`: skip text.
    Skip,
    /// A string constant, matched as text.
    Literal(&'a str),
    /// An extended column of type `string`.
    Column,
}

/// The regular expression a simple-mode `parse` pattern stands for.
///
/// Kusto's documentation translates a pattern to a regex piece by piece, `*` to `.*?` and a
/// string column to `.*?` (lazy, captured), and says simple mode matches *strictly*, the
/// constants as plain text. Two points it leaves to measurement, both taken from duckdb-kql's
/// measurements on the Kusto emulator (PyPI `duckdb-kql`, `_parse_pattern`): the pattern is
/// anchored at the end of the text (RE2's `$`: `"a" v "c"` over `aXcYc` gives `XcY`), and `.`
/// does not cross a newline (no `s` flag; `"a" v "c"` over `aXc\n` does not match). The start
/// is not anchored. The `regex` crate has RE2's leftmost-first semantics and the same `.` and
/// `$`, so the translation runs as is.
pub(crate) fn simple_pattern(pieces: &[Piece<'_>]) -> String {
    let mut re = String::new();
    for piece in pieces {
        match piece {
            Piece::Skip => re.push_str(".*?"),
            Piece::Literal(text) => re.push_str(&regex::escape(text)),
            Piece::Column => re.push_str("(.*?)"),
        }
    }
    re.push('$');
    re
}

/// `* '<Data Name="ServiceName">' InstalledService '</Data>' '<Data Name="ImagePath">' Exe
/// '</Data>' *`, the seed's pattern.
static SEED_PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    let pattern = simple_pattern(&[
        Piece::Skip,
        Piece::Literal(r#"<Data Name="ServiceName">"#),
        Piece::Column,
        Piece::Literal("</Data>"),
        Piece::Literal(r#"<Data Name="ImagePath">"#),
        Piece::Column,
        Piece::Literal("</Data>"),
        Piece::Skip,
    ]);
    Regex::new(&pattern).expect("the seed's parse pattern is a valid regex")
});

/// `parse EventData with …` over one row: (InstalledService, Exe). A row the pattern does not
/// match keeps its place with both columns empty (Kusto's null string), as `parse` (unlike
/// `parse-where`) keeps every row.
pub(crate) fn parse_seed(event_data: &str) -> (String, String) {
    match SEED_PATTERN.captures(event_data) {
        Some(c) => (c[1].to_string(), c[2].to_string()),
        None => (String::new(), String::new()),
    }
}

/// Whether `c` belongs to a term: Kusto breaks a string into "maximal sequences of alphanumeric
/// characters", which covers letters and digits of every script, not ASCII alone. Read here as
/// Unicode letters (`L*`) and decimal digits (`Nd`), .NET's `char.IsLetterOrDigit`.
fn is_term_char(c: char) -> bool {
    static TERM: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^[\p{L}\p{Nd}]$").expect("valid class"));
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    let mut buf = [0u8; 4];
    TERM.is_match(c.encode_utf8(&mut buf))
}

/// Two characters equal when case is ignored: the same, or the same once lower-cased (or
/// upper-cased, for the few whose lower case is not one character back).
fn same_ignoring_case(a: char, b: char) -> bool {
    a == b || a.to_lowercase().eq(b.to_lowercase()) || a.to_uppercase().eq(b.to_uppercase())
}

/// Kusto `lhs has rhs`: `rhs` is a whole term of `lhs`, case-insensitively. When `rhs` holds
/// characters that are not term characters (`%%1537`, `ADMIN$`) it is matched as a phrase:
/// its text must occur in `lhs`, and where it starts (or ends) with a term character that end
/// must fall on a term boundary of `lhs`. An empty `rhs` is true.
pub fn has(lhs: &str, rhs: &str) -> bool {
    let needle: Vec<char> = rhs.chars().collect();
    let (Some(&first), Some(&last)) = (needle.first(), needle.last()) else {
        return true;
    };
    let hay: Vec<char> = lhs.chars().collect();
    if needle.len() > hay.len() {
        return false;
    }
    (0..=hay.len() - needle.len()).any(|start| {
        let end = start + needle.len();
        hay[start..end]
            .iter()
            .zip(&needle)
            .all(|(&h, &n)| same_ignoring_case(h, n))
            && (!is_term_char(first) || start == 0 || !is_term_char(hay[start - 1]))
            && (!is_term_char(last) || end == hay.len() || !is_term_char(hay[end]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pieces: &[Piece<'_>], text: &str) -> Option<Vec<String>> {
        let re = Regex::new(&simple_pattern(pieces)).unwrap();
        re.captures(text).map(|c| {
            c.iter()
                .skip(1)
                .map(|m| m.map_or(String::new(), |m| m.as_str().to_string()))
                .collect()
        })
    }

    #[test]
    fn a_trailing_literal_is_anchored_at_the_end() {
        use Piece::*;
        let p = [Literal("a"), Column, Literal("c")];
        assert_eq!(parse(&p, "aXcYc").unwrap(), ["XcY"]);
        assert_eq!(parse(&[Literal("a"), Column, Literal("b")], "abcbd"), None);
        assert_eq!(parse(&p, "aXc\n"), None);
        let skip = [Skip, Literal("x="), Column, Literal(","), Skip];
        assert_eq!(parse(&skip, "y=1,x=2,x=9,").unwrap(), ["2"]);
    }

    #[test]
    fn the_seed_pattern_runs_on_across_other_elements() {
        let (svc, exe) = parse_seed(
            r#"<Data Name="ServiceName">S</Data><Data Name="X">y</Data><Data Name="ImagePath">p</Data><Data Name="Z">z</Data>"#,
        );
        assert_eq!(svc, r#"S</Data><Data Name="X">y"#);
        assert_eq!(exe, "p");
    }

    #[test]
    fn has_is_unicode_and_case_insensitive() {
        assert!(has("North America", "america"));
        assert!(!has("North America", "amer"));
        assert!(has("%%1537\r\n%%1538", "%%1537"));
        assert!(!has("%%15370", "%%1537"));
        assert!(
            has("é%%1537", "%%1537"),
            "the needle starts with no term character"
        );
        assert!(!has("%%1537é", "%%1537"), "é is a letter: no term boundary");
        assert!(
            !has("%%1537٣", "%%1537"),
            "Arabic-Indic digit three is a digit"
        );
        assert!(
            has("%%1537·", "%%1537"),
            "a middle dot is not a term character"
        );
        assert!(has("ÉCOLE normale", "école"));
        assert!(has("x ADMIN$ y", "admin$"));
        assert!(has("anything", ""));
    }
}
