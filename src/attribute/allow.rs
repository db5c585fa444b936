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
#[error("{file}:{line}: {message}")]
pub struct AllowError {
    /// The file.
    pub file: String,
    /// The 1-based line.
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
    /// Read an allow-list file.
    pub fn load(path: &Path) -> Result<Self, AllowError> {
        let text = std::fs::read_to_string(path).map_err(|e| AllowError {
            file: path.display().to_string(),
            line: 0,
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(&path.display().to_string(), &text)
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
    fn globs_match_whole_values_case_insensitively() {
        assert!(glob("Acme Agent*").is_match("acme agent 7"));
        assert!(!glob("Acme").is_match("Acme Agent"));
        assert!(glob(r"*\ccmsetup.exe").is_match(r"C:\Windows\ccmsetup\ccmsetup.exe"));
        assert!(glob("PAExec-?-*").is_match("PAExec-1-HOST"));
    }
}
