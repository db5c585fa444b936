//! Bursts: many services created on one host by one account with the same kind of command,
//! seconds apart, are one campaign (Tchopper's 244 services smuggling a script through their
//! names). The table shows a campaign as one row; the payload is reassembled where the names
//! carry one.
//!
//! Grouping runs on the report's final findings (after the allow-list and the benign filter),
//! so a campaign's size is the number of its members the analyst sees.

use std::sync::LazyLock;

use base64::Engine;
use regex::Regex;

use super::Tool;
use crate::lifecycle::host_key;
use crate::report::{Campaign, Finding};

/// Largest gap between two creations of one burst.
const MAX_GAP_MS: i64 = 60_000;
/// Fewest creations that make a burst.
const MIN_SIZE: usize = 3;
/// Longest reassembled payload kept.
const MAX_PAYLOAD: usize = 4_000;

static DIGITS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d+").expect("valid regex"));

/// The kind of command a finding runs: its tool where known, else its image path with numbers
/// blanked (the segment number changes from service to service, the command does not).
fn shape(f: &Finding) -> String {
    match f.tool {
        Tool::Unknown => DIGITS
            .replace_all(&f.image_path.to_ascii_lowercase(), "#")
            .into_owned(),
        tool => tool.as_str().to_string(),
    }
}

fn account(f: &Finding) -> String {
    f.user
        .sid
        .clone()
        .or_else(|| f.user.name.clone())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Group `findings` (in creation order) into campaigns, each with the indices of its members.
pub fn group(findings: &[Finding]) -> Vec<(Campaign, Vec<usize>)> {
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (&findings[a], &findings[b]);
        (host_key(&fa.computer), account(fa), shape(fa), fa.created).cmp(&(
            host_key(&fb.computer),
            account(fb),
            shape(fb),
            fb.created,
        ))
    });
    let mut runs: Vec<Vec<usize>> = Vec::new();
    for i in order {
        let f = &findings[i];
        let continues = runs.last().and_then(|r| r.last()).is_some_and(|&j| {
            let p = &findings[j];
            host_key(&p.computer) == host_key(&f.computer)
                && account(p) == account(f)
                && shape(p) == shape(f)
                && f.created.duration_since(p.created).as_millis() as i64 <= MAX_GAP_MS
        });
        if continues {
            runs.last_mut().expect("a run exists").push(i);
        } else {
            runs.push(vec![i]);
        }
    }
    runs.retain(|r| r.len() >= MIN_SIZE);
    runs.sort_by_key(|r| (findings[r[0]].created, findings[r[0]].computer.clone()));

    let mut campaigns = Vec::new();
    let mut per_host: std::collections::BTreeMap<String, usize> = Default::default();
    for run in runs {
        let first = &findings[run[0]];
        let n = per_host.entry(first.computer.clone()).or_default();
        *n += 1;
        let id = format!("{}#{}", first.computer, n);
        let members: Vec<&Finding> = run.iter().map(|&i| &findings[i]).collect();
        let campaign = Campaign {
            id,
            computer: first.computer.clone(),
            size: run.len(),
            first: first.created,
            last: members.last().map_or(first.created, |f| f.created),
            tool: first.tool,
            user: first.user.clone(),
            payload: reassemble(&members),
        };
        campaigns.push((campaign, run));
    }
    campaigns
}

/// When every member's name is a base64 chunk, put the chunks in order (by the number in the
/// image path when each has a distinct one, else by time) and decode the whole. Missing
/// segments are marked and decoding resumes after them, assuming the usual chunk length.
fn reassemble(members: &[&Finding]) -> Option<String> {
    // The last chunk of a payload may be short; the rest are long.
    let is_chunk = |s: &str| {
        s.len() >= 2
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=')
    };
    // 7045 names the display name; a Tchopper chunk may be either name.
    let chunk_of = |f: &Finding| -> Option<String> {
        [Some(f.service_name.as_str()), f.display_name.as_deref()]
            .into_iter()
            .flatten()
            .find(|n| is_chunk(n))
            .map(str::to_string)
    };
    let mut keyed: Vec<(Option<u64>, String)> = Vec::with_capacity(members.len());
    for f in members {
        let number = DIGITS
            .find_iter(&f.image_path)
            .last()
            .and_then(|m| m.as_str().parse().ok());
        keyed.push((number, chunk_of(f)?));
    }
    let mut numbers: Vec<u64> = keyed.iter().filter_map(|(n, _)| *n).collect();
    numbers.sort_unstable();
    numbers.dedup();
    let numbered = numbers.len() == keyed.len();
    if numbered {
        keyed.sort_by_key(|(n, _)| *n);
    }
    // Too little to be a smuggled payload rather than a few short names.
    if keyed.iter().map(|(_, c)| c.len()).sum::<usize>() < 32 {
        return None;
    }
    // The usual chunk length stands in for a missing segment's, to keep base64 alignment.
    let usual_len = keyed.first().map_or(0, |(_, c)| c.len());

    let mut text = String::new();
    let mut run = String::new();
    let mut offset = 0usize; // base64 characters before the current run
    let mut expected = keyed.first().and_then(|(n, _)| *n);
    for (n, chunk) in &keyed {
        if let (true, Some(n), Some(want)) = (numbered, *n, expected) {
            if n > want {
                text.push_str(&decode_aligned(&run, offset)?);
                offset += run.len() + (n - want) as usize * usual_len;
                run.clear();
                let missing = (want..n)
                    .map(|m| m.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                text.push_str(&format!("\n[… segment {missing} missing …]\n"));
            }
            expected = Some(n + 1);
        }
        run.push_str(chunk);
    }
    text.push_str(&decode_aligned(&run, offset)?);
    let mut cut: String = text.chars().take(MAX_PAYLOAD).collect();
    if cut.len() < text.len() {
        cut.push_str(" …");
    }
    Some(cut)
}

/// Decode a piece of base64 that starts `offset` characters into the whole stream: skip to the
/// next 4-character boundary, decode, and read the bytes as UTF-8 (or UTF-16LE
/// when every other byte is NUL). `None` when it does not decode to text.
fn decode_aligned(piece: &str, offset: usize) -> Option<String> {
    let skip = (4 - offset % 4) % 4;
    let body = piece.get(skip.min(piece.len())..)?.trim_end_matches('=');
    // A final group of 2 or 3 characters still carries 1 or 2 bytes; a lone one carries none.
    let whole = body.len() - usize::from(body.len() % 4 == 1);
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let bytes = engine.decode(&body[..whole]).ok()?;
    let nuls = bytes.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
    let text = if !bytes.is_empty() && nuls * 2 >= bytes.len() / 2 {
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let printable = text
        .chars()
        .filter(|c| (!c.is_control() || c.is_whitespace()) && *c != char::REPLACEMENT_CHARACTER)
        .count();
    (printable * 10 >= text.chars().count() * 9).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pieces_decode_at_any_alignment() {
        let whole = "aGVsbG8gd29ybGQ="; // "hello world"
        assert_eq!(decode_aligned(whole, 0).as_deref(), Some("hello world"));
        // Starting 2 characters in: skip to the next quad ("bG8g…" = "lo world").
        assert_eq!(decode_aligned(&whole[2..], 2).as_deref(), Some("lo world"));
        assert_eq!(decode_aligned("////////", 0), None, "binary is not text");
    }
}
