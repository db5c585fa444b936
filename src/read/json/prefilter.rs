//! Finding a JSON line's event id without parsing the line, so that lines whose id the run does
//! not want cost a memchr-speed scan instead of a full decode.
//!
//! The scan looks for `"Key"` followed by `:` and a number or a quoted number. Inside a JSON
//! string every `"` is escaped, so `"Key":` can only match a real key. The answer is given only
//! when it is unambiguous: every occurrence of the key carries the same plain number. Anything
//! else (no key, `{"#text": 7045}`, two different ids) says "unknown" and the caller parses the
//! line in full, so the scan can make reading faster but never different.

use memchr::memmem::Finder;

/// A reusable scanner for one set of key names (`EventID`, or Winlogbeat's `event_id`).
pub(crate) struct IdScanner {
    keys: Vec<Finder<'static>>,
}

impl IdScanner {
    /// A scanner for these key names (without quotes).
    pub(crate) fn new(keys: &[&str]) -> Self {
        IdScanner {
            keys: keys
                .iter()
                .map(|k| Finder::new(format!("\"{k}\"").as_bytes()).into_owned())
                .collect(),
        }
    }

    /// The event id of `line` when the scan is sure of it.
    pub(crate) fn event_id(&self, line: &[u8]) -> Option<u32> {
        let mut found = None;
        for finder in &self.keys {
            for start in finder.find_iter(line) {
                let after_key = &line[start + finder.needle().len()..];
                let Some(value) = after_colon(after_key) else {
                    continue; // A string value that happens to equal the key name.
                };
                let id = leading_number(value)?;
                if found.is_some_and(|f| f != id) {
                    return None;
                }
                found = Some(id);
            }
        }
        found
    }
}

/// The bytes after `\s*:\s*`, or `None` when no colon follows (the match was not a key).
fn after_colon(bytes: &[u8]) -> Option<&[u8]> {
    let rest = skip_ws(bytes);
    let rest = rest.strip_prefix(b":")?;
    Some(skip_ws(rest))
}

fn skip_ws(bytes: &[u8]) -> &[u8] {
    let n = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &bytes[n..]
}

/// `7045` or `"7045"` at the start of `value`, ending where a JSON value may end.
fn leading_number(value: &[u8]) -> Option<u32> {
    let (digits_from, quoted) = match value.first()? {
        b'"' => (1, true),
        _ => (0, false),
    };
    let digits = &value[digits_from..];
    let len = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    if len == 0 || len > 9 {
        return None;
    }
    let terminator = digits.get(len).copied();
    let ends_right = if quoted {
        terminator == Some(b'"')
    } else {
        matches!(
            terminator,
            None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n')
        )
    };
    if !ends_right {
        return None;
    }
    std::str::from_utf8(&digits[..len]).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(line: &str) -> Option<u32> {
        IdScanner::new(&["EventID"]).event_id(line.as_bytes())
    }

    #[test]
    fn plain_and_quoted_numbers() {
        assert_eq!(
            scan(r#"{"Keywords":1,"EventID":7045,"Channel":"System"}"#),
            Some(7045)
        );
        assert_eq!(scan(r#"{"EventID" : "4624" }"#), Some(4624));
        assert_eq!(scan(r#"{"a":1,"EventID":13}"#), Some(13));
    }

    #[test]
    fn unsure_answers_are_none() {
        assert_eq!(scan(r##"{"EventID":{"#text":7045}}"##), None);
        assert_eq!(scan(r#"{"Channel":"System"}"#), None);
        assert_eq!(scan(r#"{"EventID":7045,"x":{"EventID":4624}}"#), None);
        assert_eq!(scan(r#"{"EventID":70.5}"#), None);
        assert_eq!(scan(r#"{"EventID":"7045x"}"#), None);
        assert_eq!(scan(r#"{"EventID":12345678901}"#), None);
    }

    #[test]
    fn keys_inside_strings_and_values_are_ignored() {
        assert_eq!(
            scan(r#"{"Message":"the \"EventID\":99 text","f":"EventID","EventID":4697}"#),
            Some(4697)
        );
        assert_eq!(scan(r#"{"EventID":7045,"y":{"EventID":7045}}"#), Some(7045));
    }

    #[test]
    fn several_keys() {
        let s = IdScanner::new(&["event_id", "winlog.event_id"]);
        assert_eq!(s.event_id(br#"{"winlog":{"event_id":"7045"}}"#), Some(7045));
        assert_eq!(s.event_id(br#"{"winlog.event_id":4697}"#), Some(4697));
    }
}
