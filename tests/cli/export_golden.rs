//! `svchunt export`: every target's text against its reviewed golden file, the generated seed
//! query against the reference seed, and the command line against the library.
//!
//! A deliberate change to an export is reviewed by regenerating the golden files with
//! `SVCHUNT_BLESS=1 cargo test --test cli export_golden::` and reading the diff.

use std::path::{Path, PathBuf};

use jiff::SignedDuration;
use svchunt::export::{ExportOptions, Schema, Target, render};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/export")
}

/// Every golden file: name, target, options.
fn cases() -> Vec<(String, Target, ExportOptions)> {
    let mut cases: Vec<(String, Target, ExportOptions)> = Target::ALL
        .iter()
        .map(|t| {
            (
                format!("{}.{}", t.name(), t.extension()),
                *t,
                ExportOptions::default(),
            )
        })
        .collect();
    let ama = ExportOptions {
        schema: Schema::Ama,
        ..ExportOptions::default()
    };
    cases.push(("kql-ama.kql".into(), Target::Kql, ama));
    cases
}

#[test]
fn exports_match_their_golden_files() {
    let bless = std::env::var_os("SVCHUNT_BLESS").is_some();
    let mut stale = Vec::new();
    for (name, target, options) in cases() {
        let path = golden_dir().join(&name);
        let text = render(target, &options);
        if bless {
            std::fs::create_dir_all(golden_dir()).unwrap();
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let golden = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run with SVCHUNT_BLESS=1)", path.display()));
        if golden != text {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "exports differ from their golden files: {stale:?}; review, then SVCHUNT_BLESS=1"
    );
}

/// The query lines (comments dropped) of a KQL text.
fn kql_body(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect()
}

#[test]
fn the_generated_seed_is_the_reference_seed() {
    let Some(reference) = svchunt_testkit::reference(env!("CARGO_MANIFEST_DIR"), "seed-query.kql")
    else {
        return;
    };
    let seed = std::fs::read_to_string(&reference).unwrap();
    let generated = render(Target::KqlSeed, &ExportOptions::default());
    assert_eq!(kql_body(&generated), kql_body(&seed));
}

#[test]
fn seed_options_change_only_window_and_rounding() {
    let default = render(Target::KqlSeed, &ExportOptions::default());
    let custom = render(
        Target::KqlSeed,
        &ExportOptions {
            window: SignedDuration::from_hours(2),
            rounding: SignedDuration::from_mins(1),
            ..ExportOptions::default()
        },
    );
    let changed: Vec<(&str, &str)> = kql_body(&default)
        .into_iter()
        .zip(kql_body(&custom))
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 3, "{changed:#?}");
    assert!(changed[0].1.contains("bin(TimeGenerated, 1m)"));
    assert!(changed[1].1.contains("bin(TimeGenerated, 1m)"));
    assert!(changed[2].1.contains("between (0s .. 2h)"));
}

#[test]
fn windows_reach_every_target() {
    let options = ExportOptions {
        window: SignedDuration::from_mins(90),
        tolerance: SignedDuration::from_secs(7),
        ..ExportOptions::default()
    };
    assert!(render(Target::Kql, &options).contains("let window = 90m;"));
    assert!(render(Target::Kql, &options).contains("let tolerance = 7s;"));
    assert!(render(Target::Sigma, &options).contains("timespan: 90m"));
    assert!(render(Target::Spl, &options).contains("_time-created<=5400"));
    assert!(render(Target::Spl, &options).contains("abs(_time-created)<=7"));
    assert!(render(Target::Eql, &options).contains("with maxspan=90m"));
}

#[test]
fn every_header_says_what_it_needs_and_lacks() {
    for (name, target, options) in cases() {
        let text = render(target, &options);
        assert!(
            text.contains("Audit Security System Extension")
                && text.contains("Audit Sensitive Privilege Use"),
            "{name}: auditing not stated"
        );
        assert!(text.contains("Cannot express"), "{name}: limits not stated");
    }
}

/// No public SPL parser exists to check the search; this at least catches a pipeline stage that
/// is not an SPL command (a typo, a stray line) and unbalanced brackets or quotes.
#[test]
fn spl_stages_are_spl_commands() {
    const COMMANDS: &[&str] = &[
        "eval",
        "rex",
        "where",
        "sort",
        "streamstats",
        "eventstats",
        "stats",
        "join",
        "table",
        "search",
    ];
    let text = render(Target::Spl, &ExportOptions::default());
    let body: String = text
        .split("```")
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(_, s)| s)
        .collect();
    for stage in body.split("\n|").skip(1) {
        let command = stage.split_whitespace().next().unwrap_or("");
        assert!(
            COMMANDS.contains(&command),
            "not an SPL command: {command:?}"
        );
    }
    for (open, close) in [('(', ')'), ('[', ']')] {
        assert_eq!(body.matches(open).count(), body.matches(close).count());
    }
    let unescaped_quotes = body.replace("\\\\", "").replace("\\\"", "");
    assert_eq!(unescaped_quotes.matches('"').count() % 2, 0);
}

#[test]
fn the_command_writes_what_the_library_renders() {
    let out = assert_cmd::Command::cargo_bin("svchunt")
        .unwrap()
        .args(["export", "--to", "kql", "--schema", "ama", "--window", "2h"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let expected = render(
        Target::Kql,
        &ExportOptions {
            schema: Schema::Ama,
            window: SignedDuration::from_hours(2),
            ..ExportOptions::default()
        },
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rules.yml");
    assert_cmd::Command::cargo_bin("svchunt")
        .unwrap()
        .args(["export", "--to", "sigma", "-o"])
        .arg(&file)
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        render(Target::Sigma, &ExportOptions::default())
    );
}

#[test]
fn a_zero_rounding_is_refused() {
    assert_cmd::Command::cargo_bin("svchunt")
        .unwrap()
        .args(["export", "--to", "kql-seed", "--rounding", "0s"])
        .assert()
        .code(2);
}
