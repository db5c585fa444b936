//! Export the detection to SIEM query languages, so a SIEM watching thousands of hosts computes
//! what svchunt computes over one incident's logs.
//!
//! One module per target, each rendering text from [`ExportOptions`]:
//!
//! - [`kql_seed`]: the seed Sentinel query, generated with its window and rounding as options;
//! - [`kql_lifecycle`]: Sentinel / Azure Data Explorer, the lifecycle semantics as far as KQL goes, over the
//!   legacy agent's `Event`/`SecurityEvent` tables or the AMA's `WindowsEvent` table;
//! - [`sigma`]: base rules plus a `temporal_ordered` correlation rule (Sigma correlation spec v2);
//! - [`spl`]: Splunk, with `streamstats` over Windows event log fields;
//! - [`eql`]: Elastic EQL, a `sequence` over Winlogbeat/ECS fields.
//!
//! Every output opens with a comment saying what it finds, what auditing it needs and what it
//! cannot express compared with the local engine. The windows and the vocabulary (providers,
//! object types, the DELETE access code) come from [`crate::lifecycle`] and [`crate::kql`], so an
//! export cannot silently drift from the engine it mirrors.

pub mod eql;
pub mod kql_lifecycle;
pub mod kql_seed;
pub mod sigma;
pub mod spl;

use jiff::SignedDuration;

use crate::kql::KqlConfig;
use crate::lifecycle::LifecycleConfig;

/// The query languages svchunt exports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The seed Sentinel query, regenerated.
    KqlSeed,
    /// Sentinel / Azure Data Explorer, lifecycle semantics.
    Kql,
    /// A Sigma rule set with a correlation rule.
    Sigma,
    /// Splunk SPL.
    Spl,
    /// Elastic EQL.
    Eql,
}

impl Target {
    /// Every target, in the order the documentation lists them.
    pub const ALL: [Target; 5] = [
        Target::KqlSeed,
        Target::Kql,
        Target::Sigma,
        Target::Spl,
        Target::Eql,
    ];

    /// The name used on the command line and in file names (`kql-seed`, `kql`…).
    pub fn name(self) -> &'static str {
        match self {
            Target::KqlSeed => "kql-seed",
            Target::Kql => "kql",
            Target::Sigma => "sigma",
            Target::Spl => "spl",
            Target::Eql => "eql",
        }
    }

    /// The usual file extension of the target's text.
    pub fn extension(self) -> &'static str {
        match self {
            Target::KqlSeed | Target::Kql => "kql",
            Target::Sigma => "yml",
            Target::Spl => "spl",
            Target::Eql => "eql",
        }
    }
}

/// Which Log Analytics tables the KQL export reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Schema {
    /// The legacy Log Analytics agent: `Event` (System, Sysmon; EventData as an XML string) and
    /// `SecurityEvent` (Security, one column per field).
    #[default]
    Legacy,
    /// The Azure Monitor Agent's `WindowsEvent` table (EventData as a dynamic object), every
    /// channel in one table.
    Ama,
}

/// What every export is parameterised by. Defaults are the local engine's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportOptions {
    /// How long after a creation its removal may come ([`LifecycleConfig::window`]; the seed's
    /// `between (0s .. window)`).
    pub window: SignedDuration,
    /// How long before a creation its evidence may be logged ([`LifecycleConfig::tolerance`]).
    pub tolerance: SignedDuration,
    /// How far apart a 7045 and a 4697 may be and be one installation.
    pub merge_window: SignedDuration,
    /// The seed's `bin()` size ([`KqlConfig::rounding`]).
    pub rounding: SignedDuration,
    /// Which tables the KQL export reads.
    pub schema: Schema,
}

impl Default for ExportOptions {
    fn default() -> Self {
        let lifecycle = LifecycleConfig::default();
        let seed = KqlConfig::default();
        ExportOptions {
            window: lifecycle.window,
            tolerance: lifecycle.tolerance,
            merge_window: lifecycle.merge_window,
            rounding: seed.rounding,
            schema: Schema::default(),
        }
    }
}

/// Render `target`'s text.
pub fn render(target: Target, options: &ExportOptions) -> String {
    match target {
        Target::KqlSeed => kql_seed::render(options),
        Target::Kql => kql_lifecycle::render(options),
        Target::Sigma => sigma::render(options),
        Target::Spl => spl::render(options),
        Target::Eql => eql::render(options),
    }
}

/// A duration in the largest whole unit among `h`, `m`, `s`, `ms` (`24h`, `90m`, `1500ms`): the
/// literal spelling KQL, EQL and Sigma share (hours, not days, so the seed's `24h` reads as such).
pub fn duration_literal(d: SignedDuration) -> String {
    let ms = d.as_millis();
    let units: [(i128, &str); 3] = [(3_600_000, "h"), (60_000, "m"), (1_000, "s")];
    if ms == 0 {
        return "0s".to_string();
    }
    for (size, unit) in units {
        if ms % size == 0 {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// A duration in whole seconds, rounded up (Sigma and SPL's `span` count seconds at best).
pub fn whole_seconds_up(d: SignedDuration) -> i64 {
    let ms = d.as_millis();
    ((ms + 999).div_euclid(1000)) as i64
}

/// Prefix every line of `text` with `prefix` (an empty line gets the prefix trimmed).
fn comment_block(prefix: &str, text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.is_empty() {
            out.push_str(prefix.trim_end());
        } else {
            out.push_str(prefix);
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// The auditing every target relies on, said the same way in every header.
const AUDITING: &str = "\
Needs: System 7045 (always logged);
Security 4697: Advanced Audit Policy, System > Audit Security System Extension (Success);
Security 4674: Privilege Use > Audit Sensitive Privilege Use (Success);
Security 4624: Logon/Logoff > Audit Logon, for the source address;
optionally Sysmon 12/13 on HKLM\\System\\CurrentControlSet\\Services for the removal itself.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_literals() {
        assert_eq!(duration_literal(SignedDuration::from_hours(24)), "24h");
        assert_eq!(duration_literal(SignedDuration::from_mins(90)), "90m");
        assert_eq!(duration_literal(SignedDuration::from_secs(2)), "2s");
        assert_eq!(
            duration_literal(SignedDuration::from_millis(1500)),
            "1500ms"
        );
        assert_eq!(duration_literal(SignedDuration::ZERO), "0s");
    }

    #[test]
    fn seconds_round_up() {
        assert_eq!(whole_seconds_up(SignedDuration::from_millis(1500)), 2);
        assert_eq!(whole_seconds_up(SignedDuration::from_secs(2)), 2);
    }

    #[test]
    fn defaults_are_the_engines() {
        let o = ExportOptions::default();
        assert_eq!(o.window, LifecycleConfig::default().window);
        assert_eq!(o.tolerance, LifecycleConfig::default().tolerance);
        assert_eq!(o.rounding, KqlConfig::default().rounding);
    }
}
