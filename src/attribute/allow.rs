//! The allow-list: an analyst's own admin tooling, silenced by rule.
//!
//! # Format
//!
//! One rule per line; `#` starts a comment. A rule is one or more `field=pattern` conditions
//! separated by `;`, all of which must hold. Fields: `service_name`, `display_name`,
//! `image_path`, `computer`, `user` (name or SID), `source_ip`, `tool`. Patterns are globs
//! (`*` any run of characters, `?` one character), compared case-insensitively with the whole
//! value. Example:
//!
//! ```text
//! # SCCM client push from the site server
//! service_name=ccmsetup; image_path=*\ccmsetup\ccmsetup.exe*; source_ip=10.0.0.5
//! # our monitoring agent on every host
//! display_name=Acme Agent*
//! ```
//!
//! A finding matching a rule becomes `benign`, with the rule's file and line as its reason (the
//! engine applies it when it assembles the report).

use std::io::Read;
use std::path::Path;

use regex::Regex;

use crate::report::Finding;

/// The fields a rule may test.
const FIELDS: &[&str] = &[
    "service_name",
    "display_name",
    "image_path",
    "computer",
    "user",
    "source_ip",
    "tool",
];

/// The largest allow-list file read (16 MiB): thousands of rules fit in a few hundred KiB.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// A parsed allow-list.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    origin: String,
    conditions: Vec<(String, Regex)>,
}

/// A line of the allow-list that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", if *line > 0 { format!(":{line}") } else { String::new() })]
pub struct AllowError {
    /// The file.
    pub file: String,
    /// The 1-based line; 0 when the whole file could not be read.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

fn glob(pattern: &str) -> Regex {
    let mut re = String::from("(?is)^");
    for c in pattern.chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    Regex::new(&re).expect("an escaped glob is a valid regex")
}

impl AllowList {
    /// Read an allow-list file: a regular file of at most [`MAX_FILE_BYTES`] of UTF-8 text.
    /// Anything else (`/dev/zero`, a FIFO that would block the run until someone writes to
    /// it, a folder, a file of gigabytes) is refused with a message before it is read.
    pub fn load(path: &Path) -> Result<Self, AllowError> {
        let name = path.display().to_string();
        let fail = |message: String| AllowError {
            file: name.clone(),
            line: 0,
            message,
        };
        // Checked before opening: opening a FIFO for reading blocks until a writer comes.
        let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read: {e}")))?;
        if !meta.is_file() {
            return Err(fail(
                "not a regular file (an allow-list is a text file of rules)".into(),
            ));
        }
        let file = std::fs::File::open(path).map_err(|e| fail(format!("cannot read: {e}")))?;
        // Read one byte past the cap, so a file that grew since `metadata` is still caught.
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| fail(format!("cannot read: {e}")))?;
        if meta.len() > MAX_FILE_BYTES || bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(fail(format!(
                "larger than {} MiB; an allow-list is a short list of rules",
                MAX_FILE_BYTES >> 20
            )));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            fail(format!(
                "not UTF-8 text (byte {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        Self::parse(&name, &text)
    }

    /// Parse allow-list text; `name` is used in reasons and errors.
    pub fn parse(name: &str, text: &str) -> Result<Self, AllowError> {
        let mut rules = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let err = |message: String| AllowError {
                file: name.to_string(),
                line: i + 1,
                message,
            };
            let mut conditions = Vec::new();
            for cond in line.split(';').map(str::trim).filter(|c| !c.is_empty()) {
                let (field, pattern) = cond
                    .split_once('=')
                    .ok_or_else(|| err(format!("expected field=pattern, found {cond:?}")))?;
                let field = field.trim().to_ascii_lowercase();
                if !FIELDS.contains(&field.as_str()) {
                    return Err(err(format!(
                        "unknown field {field:?} (one of: {})",
                        FIELDS.join(", ")
                    )));
                }
                conditions.push((field, glob(pattern.trim())));
            }
            rules.push(Rule {
                origin: format!("{name}:{}", i + 1),
                conditions,
            });
        }
        Ok(AllowList { rules })
    }

    /// Where the first rule matching `finding` stands (`file:line`), if one does.
    pub fn rule_for(&self, finding: &Finding) -> Option<&str> {
        self.rules
            .iter()
            .find(|r| r.matches(finding))
            .map(|r| r.origin.as_str())
    }
}

impl Rule {
    fn matches(&self, f: &Finding) -> bool {
        self.conditions.iter().all(|(field, re)| {
            let values: Vec<&str> = match field.as_str() {
                "service_name" => vec![&f.service_name],
                "display_name" => f.display_name.as_deref().into_iter().collect(),
                "image_path" => vec![&f.image_path],
                "computer" => vec![&f.computer],
                "user" => [f.user.name.as_deref(), f.user.sid.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect(),
                "source_ip" => f
                    .source
                    .as_ref()
                    .and_then(|s| s.ip.as_deref())
                    .into_iter()
                    .collect(),
                "tool" => vec![f.tool.as_str()],
                _ => vec![],
            };
            values.iter().any(|v| re.is_match(v))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_located() {
        let e = AllowList::parse("allow.txt", "# ok\nservice_name=X\nbogus=1\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.to_string().starts_with("allow.txt:3: unknown field"));
        assert!(AllowList::parse("a", "service_name").is_err());
    }

    #[test]
    fn only_bounded_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("site.allow");
        std::fs::write(&ok, "service_name=ccmsetup\n").unwrap();
        assert!(AllowList::load(&ok).is_ok());

        let e = AllowList::load(dir.path()).unwrap_err();
        assert!(e.message.contains("not a regular file"), "{e}");
        assert_eq!(
            e.to_string(),
            format!("{}: {}", dir.path().display(), e.message)
        );
        #[cfg(unix)]
        {
            let e = AllowList::load(Path::new("/dev/zero")).unwrap_err();
            assert!(e.message.contains("not a regular file"), "{e}");
        }

        let big = dir.path().join("big.allow");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(MAX_FILE_BYTES + 1).unwrap(); // sparse: no 16 MiB written
        let e = AllowList::load(&big).unwrap_err();
        assert!(e.message.contains("larger than 16 MiB"), "{e}");

        let binary = dir.path().join("binary.allow");
        std::fs::write(&binary, b"service_name=\xff\n").unwrap();
        assert!(
            AllowList::load(&binary)
                .unwrap_err()
                .message
                .contains("UTF-8")
        );
        let e = AllowList::load(&dir.path().join("missing")).unwrap_err();
        assert!(e.message.starts_with("cannot read"), "{e}");
    }

    #[test]
    fn globs_match_whole_values_case_insensitively() {
        assert!(glob("Acme Agent*").is_match("acme agent 7"));
        assert!(!glob("Acme").is_match("Acme Agent"));
        assert!(glob(r"*\ccmsetup.exe").is_match(r"C:\Windows\ccmsetup\ccmsetup.exe"));
        assert!(glob("PAExec-?-*").is_match("PAExec-1-HOST"));
    }
}
