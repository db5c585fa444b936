//! Escaping log-derived text for the two places it can do harm beyond its own bytes: a terminal
//! ([`terminal`], [`terminal_cut`]) and a spreadsheet opening our CSV ([`csv_cell`]).
//!
//! Every string in a log may have been written by the attacker being hunted. Printed raw to a
//! terminal, `ESC [2J` clears the screen and the scrollback, an OSC sequence retitles the window
//! or writes the clipboard, `U+202E` (right-to-left override) shows `gpj.exe` as `exe.jpg`, and
//! a zero-width space makes two service names that differ look the same. Opened in a
//! spreadsheet, a CSV cell starting with `=` is a formula that can run commands.
//!
//! This module knows nothing of findings or formats: it turns one string into one safe string.
//! The table view, every stderr line and the campaign line go through [`terminal`]; every CSV
//! field goes through [`csv_cell`] unless `--csv-raw`; JSON goes through [`JsonFormatter`],
//! which changes only how such characters are spelled, never the values.
//!
//! # Which characters a terminal gets escaped
//!
//! Those whose Unicode properties make them act, or hide, rather than show:
//! - general category **Cc**, the control codes: C0 (`\x00`–`\x1f`: ESC starts every terminal
//!   escape sequence, BEL, BS and CR rewrite what is shown, LF and TAB break the table's rows
//!   and columns), DEL, and C1 (`U+0080`–`U+009F`: `U+009B` is a one-character CSI on terminals
//!   that honour 8-bit controls);
//! - **Cf**, the format characters, which draw nothing but change how the text around them is
//!   drawn: all the bidi controls (embeddings, overrides, isolates, LRM/RLM/ALM, which reorder
//!   what is displayed), zero-width space/joiners, word joiner, BOM, soft hyphen, tags;
//! - **Zl** and **Zp** (`U+2028`, `U+2029`), line and paragraph separators some terminals and
//!   viewers break lines on;
//! - **Default_Ignorable_Code_Point**, what Unicode says renders as nothing when unsupported:
//!   besides the Cf characters above, the Hangul fillers (`U+3164` is a favourite invisible
//!   "letter") and the variation selectors.
//!
//! They are written as `\t`, `\n`, `\r`, `\xHH` for the other ASCII controls, and `\u{HHHH}`
//! for the rest, as Rust writes them. A backslash already in the text is left alone: Windows
//! paths are full of them, and doubling every one would make the table hard to read; the JSON
//! output has every value exactly.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;
use std::sync::LazyLock;

use regex::Regex;

/// The characters [`terminal`] escapes (see the module documentation for why these).
static UNSAFE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]")
        .expect("a valid Unicode class")
});

/// Whether `c` is one [`terminal`] escapes.
pub fn is_unsafe(c: char) -> bool {
    let mut buf = [0u8; 4];
    UNSAFE.is_match(c.encode_utf8(&mut buf))
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        c if c.is_ascii() => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// `s` with every control, format and invisible character written visibly (`\x1b`,
/// `\u{202e}`), so it can be printed to a terminal as text and measured by its characters.
/// Borrowed when there is nothing to escape, which is almost always.
pub fn terminal(s: &str) -> Cow<'_, str> {
    // Printable ASCII is the common case and holds nothing to escape.
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) || !UNSAFE.is_match(s) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut last = 0;
    for m in UNSAFE.find_iter(s) {
        out.push_str(&s[last..m.start()]);
        for c in m.as_str().chars() {
            push_escaped(&mut out, c);
        }
        last = m.end();
    }
    out.push_str(&s[last..]);
    Cow::Owned(out)
}

/// [`terminal`], cut to at most `max` characters with `…` marking the cut; an escape is never
/// split, so what is shown of it still reads as one.
pub fn terminal_cut(s: &str, max: usize) -> String {
    let escaped = terminal(s);
    if escaped.chars().count() <= max {
        return escaped.into_owned();
    }
    let budget = max.saturating_sub(1);
    let mut out = String::new();
    let mut used = 0;
    let mut piece = String::new();
    for c in s.chars() {
        piece.clear();
        if is_unsafe(c) {
            push_escaped(&mut piece, c);
        } else {
            piece.push(c);
        }
        let n = piece.chars().count();
        if used + n > budget {
            break;
        }
        out.push_str(&piece);
        used += n;
    }
    out.push('…');
    out
}

/// The characters that make a spreadsheet read a cell as a formula, as OWASP's *CSV
/// Injection* page lists them (`=`, `+`, `-`, `@`, tab, carriage return, line feed), plus NUL,
/// which OWASP ASVS 5.0 (1.2.10) adds.
const FORMULA_START: &[char] = &['=', '+', '-', '@', '\t', '\r', '\n', '\0'];

/// A plain decimal number such as `-3` or `12.5`: a spreadsheet reads it as that number and
/// nothing else, so it needs no quote (and a quote would turn `lifetime_ms` into text).
fn is_plain_number(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// One CSV field, safe to open in a spreadsheet: a value starting with a formula character is
/// prefixed with `'` (OWASP's advice; spreadsheets then show it as text, without the quote),
/// unless it is a plain number. Field separators and quotes inside a value need nothing here:
/// the CSV writer quotes such fields, so they cannot start a new cell.
pub fn csv_cell(s: &str) -> Cow<'_, str> {
    if s.starts_with(FORMULA_START) && !is_plain_number(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// A `serde_json` formatter that writes the characters [`terminal`] escapes as `\uXXXX` JSON
/// escapes (serde_json escapes only `U+0000`–`U+001F` itself), so JSON printed to a terminal
/// (`svchunt events`, `-f json`) cannot drive it either. The values are unchanged: any JSON
/// reader decodes the same strings, and output without such characters is the same bytes.
pub struct JsonFormatter<F> {
    inner: F,
}

impl JsonFormatter<serde_json::ser::CompactFormatter> {
    /// One JSON value per line.
    pub fn compact() -> Self {
        JsonFormatter {
            inner: serde_json::ser::CompactFormatter,
        }
    }
}

impl JsonFormatter<serde_json::ser::PrettyFormatter<'static>> {
    /// Indented, as `serde_json::to_writer_pretty`.
    pub fn pretty() -> Self {
        JsonFormatter {
            inner: serde_json::ser::PrettyFormatter::new(),
        }
    }
}

// Every method whose default the wrapped formatter overrides is passed on to it; the string
// fragments are the one thing this formatter changes.
impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for JsonFormatter<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // serde_json has already taken out quotes, backslashes and C0 controls, so plain ASCII
        // below DEL is all there is to most fragments.
        if fragment.bytes().all(|b| b < 0x7f) {
            return writer.write_all(fragment.as_bytes());
        }
        let mut last = 0;
        for m in UNSAFE.find_iter(fragment) {
            writer.write_all(&fragment.as_bytes()[last..m.start()])?;
            for c in m.as_str().chars() {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{u:04x}")?;
                }
            }
            last = m.end();
        }
        writer.write_all(&fragment.as_bytes()[last..])
    }
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.inner.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.inner.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.inner.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.inner.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.inner.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.inner.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.inner.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.inner.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.inner.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.inner.end_object_value(w)
    }
}

/// Write `value` as JSON through [`JsonFormatter`].
pub fn write_json<W, F, T>(out: W, formatter: JsonFormatter<F>, value: &T) -> io::Result<()>
where
    W: io::Write,
    F: serde_json::ser::Formatter,
    T: serde::Serialize + ?Sized,
{
    let mut ser = serde_json::Serializer::with_formatter(out, formatter);
    value.serialize(&mut ser).map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        for s in [
            "PSEXESVC",
            r"C:\Windows\PSEXESVC.exe",
            "Dienst für Ärger",
            "服务",
            "",
        ] {
            assert!(matches!(terminal(s), Cow::Borrowed(t) if t == s), "{s}");
        }
    }

    #[test]
    fn controls_and_bidi_are_shown_not_obeyed() {
        assert_eq!(terminal("\x1b[2J\x1b[3J\x1b[H"), r"\x1b[2J\x1b[3J\x1b[H");
        assert_eq!(terminal("a\tb\nc\rd\x07\x7f"), r"a\tb\nc\rd\x07\x7f");
        assert_eq!(terminal("evil\u{202e}gpj.exe"), r"evil\u{202e}gpj.exe");
        // C1: U+009B is CSI on an 8-bit terminal.
        assert_eq!(terminal("\u{9b}31m"), r"\u{9b}31m");
        // Every bidi control, zero-width character and the Hangul filler.
        for c in [
            '\u{200b}',
            '\u{200c}',
            '\u{200d}',
            '\u{200e}',
            '\u{200f}',
            '\u{202a}',
            '\u{202b}',
            '\u{202c}',
            '\u{202d}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{061c}',
            '\u{2060}',
            '\u{feff}',
            '\u{ad}',
            '\u{2028}',
            '\u{2029}',
            '\u{3164}',
            '\u{fe0f}',
            '\u{e0041}',
        ] {
            let shown = terminal(&c.to_string()).into_owned();
            assert_eq!(shown, format!("\\u{{{:x}}}", c as u32));
            assert!(shown.chars().all(|c| c.is_ascii_graphic()), "{shown}");
        }
    }

    #[test]
    fn the_escaped_text_has_nothing_left_to_escape() {
        let hostile: String = (0u32..0x3000)
            .chain(0xe0000..0xe0080)
            .filter_map(char::from_u32)
            .collect();
        let shown = terminal(&hostile);
        assert!(!shown.chars().any(is_unsafe));
        assert!(!shown.chars().any(char::is_control));
    }

    #[test]
    fn cutting_never_splits_an_escape() {
        assert_eq!(terminal_cut("abc", 5), "abc");
        assert_eq!(terminal_cut("abcdef", 4), "abc…");
        // `ab\x1b` is 6 characters: with 5 to show, the escape goes whole, not as `ab\x1`.
        assert_eq!(terminal_cut("ab\x1bcdef", 5), "ab…");
        assert_eq!(terminal_cut("ab\x1bcdef", 7), r"ab\x1b…");
        assert_eq!(terminal_cut("\u{202e}\u{202e}", 8), "…");
        assert_eq!(terminal_cut("\u{202e}\u{202e}", 9), r"\u{202e}…");
    }

    #[test]
    fn formulas_are_quoted_as_owasp_says() {
        for s in [
            "=cmd|' /C calc'!A0",
            "@SUM(1+1)",
            "+1+1",
            "-1+1",
            "-",
            "\tx",
            "\rx",
            "\nx",
            "\0x",
            "-009999-01-02T00:00:00Z",
        ] {
            assert_eq!(csv_cell(s), format!("'{s}"), "{s:?}");
        }
        for s in ["PSEXESVC", "", "-3", "12", "0.5", "-12.25", " =1", "a=1"] {
            assert_eq!(csv_cell(s), s, "{s:?}");
        }
        assert!(!is_plain_number("-"));
        assert!(!is_plain_number("1."));
        assert!(!is_plain_number("-.5"));
        assert!(!is_plain_number("1e5"));
    }

    #[test]
    fn json_spells_terminal_controls_as_escapes_and_keeps_the_values() {
        let value =
            serde_json::json!({"name": "a\u{202e}b\u{9b}c\x1bd\u{e0041}\x7fe", "n": [1, 2]});
        let mut compact = Vec::new();
        write_json(&mut compact, JsonFormatter::compact(), &value).unwrap();
        let text = String::from_utf8(compact).unwrap();
        assert_eq!(
            text,
            r#"{"name":"a\u202eb\u009bc\u001bd\udb40\udc41\u007fe","n":[1,2]}"#
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            value
        );

        let plain = serde_json::json!({"a": ["x", {"b": null}], "c": "C:\\Windows"});
        let mut ours = Vec::new();
        write_json(&mut ours, JsonFormatter::pretty(), &plain).unwrap();
        assert_eq!(ours, serde_json::to_vec_pretty(&plain).unwrap());
    }
}
