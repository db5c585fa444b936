//! The `svchunt` command as a user runs it: the README's main command, exit codes, and the same
//! bytes out whatever the thread count.

use std::path::PathBuf;

use assert_cmd::Command;

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/lab")
}

fn svchunt() -> Command {
    Command::cargo_bin("svchunt").expect("the svchunt binary")
}

#[test]
fn the_readme_main_command_finds_every_tool_family_in_the_examples() {
    let out = svchunt()
        .args(["hunt", "-f", "jsonl"])
        .arg(examples())
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(examples().with_extension("truth.json")).unwrap())
            .unwrap();
    let executions = truth["executions"].as_array().unwrap();
    assert_eq!(text.lines().count(), executions.len());
    for e in executions {
        let tool = e["tool"].as_str().unwrap();
        assert!(
            text.contains(&format!("\"tool\":\"{tool}\"")),
            "{tool} not found"
        );
    }
}

#[test]
fn output_is_the_same_bytes_at_one_and_two_threads() {
    let run = |threads: &str| {
        svchunt()
            .args(["hunt", "--all", "-f", "json", "-j", threads])
            .arg(examples())
            .output()
            .unwrap()
            .stdout
    };
    let one = run("1");
    assert!(!one.is_empty());
    assert_eq!(one, run("2"));
}

#[test]
fn exit_codes_say_found_nothing_found_and_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.jsonl"), b"").unwrap();
    svchunt()
        .args(["hunt", "-q"])
        .arg(dir.path())
        .assert()
        .code(1);
    svchunt()
        .args(["hunt", "-q", "--strict"])
        .arg(dir.path())
        .assert()
        .code(2);
    svchunt()
        .args(["hunt", "--window", "soon"])
        .arg(dir.path())
        .assert()
        .code(2);
    svchunt()
        .args(["hunt", "-q", "-o", "/nonexistent/dir/out.json"])
        .arg(examples())
        .assert()
        .code(2);
}

#[test]
fn warnings_and_the_summary_go_to_stderr() {
    let out = svchunt()
        .args(["hunt", "-f", "json"])
        .arg(examples())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("svchunt: read "), "{stderr}");
    assert!(
        !stderr.contains("warning"),
        "a first run over the examples warns of nothing: {stderr}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["findings"].as_array().is_some_and(|f| !f.is_empty()));
}

/// Each subcommand's examples keep one line each in `--help` (clap joins a doc comment's lines
/// into one paragraph unless told otherwise).
#[test]
fn help_examples_keep_one_line_each() {
    for (command, example) in [
        ("hunt", "  svchunt hunt ./triage/ "),
        ("events", "  svchunt events --id 7045,4697 logs/ "),
        ("export", "  svchunt export --to kql "),
    ] {
        let out = svchunt().args([command, "--help"]).output().unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(
            help.lines().any(|l| l.starts_with(example)),
            "{command}: {help}"
        );
    }
}
