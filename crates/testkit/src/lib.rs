//! What svchunt's test suites share across the workspace's crates: where the shared real-log
//! corpus is, and how a test that needs something this machine lacks (the corpus, a checker
//! such as python-evtx, Chromium, the Kusto language service) steps aside.
//!
//! On a developer's machine such a test *skips*: it says why on stderr and, when
//! `SVCHUNT_SKIP_LOG` names a file, appends its reason there, so that a whole run can count and
//! list its skips at the end (`.ci/run` does). Under CI (`CI` set, as every CI service sets it)
//! a skip is a failure: CI installs everything, so a missing piece means a check would pass
//! without having run.
#![forbid(unsafe_code)]

use std::fmt::Display;
use std::io::Write;
use std::path::PathBuf;

/// True when running under CI (`CI` set to anything but empty, `0` or `false`).
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// Step aside because `why`: a failure under CI, a logged skip elsewhere. The caller returns
/// right after.
#[track_caller]
pub fn skip(why: impl Display) {
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    if under_ci() {
        panic!("{test} cannot run under CI: {why} (CI must install everything the tests need)");
    }
    eprintln!("SKIP {test}: {why}");
    if let Some(log) = std::env::var_os("SVCHUNT_SKIP_LOG") {
        // One short line per write: appends from parallel test processes do not interleave.
        let line = format!("{test}: {why}\n");
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = appended {
            eprintln!(
                "cannot note the skip in {}: {e}",
                PathBuf::from(log).display()
            );
        }
    }
}

/// The folder beside the workspace's root that holds the shared material (`../shared`).
fn shared(workspace_root: &str) -> PathBuf {
    PathBuf::from(workspace_root).join("../shared")
}

/// The shared real-log corpus (`SVCHUNT_CORPUS`, else `../shared/corpus` beside the workspace
/// whose root is `workspace_root`), or a skip.
#[track_caller]
pub fn corpus(workspace_root: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("SVCHUNT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| shared(workspace_root).join("corpus"));
    if dir.join("MANIFEST.md").is_file() {
        Some(dir)
    } else {
        skip(format!(
            "the shared corpus is not at {} (set SVCHUNT_CORPUS)",
            dir.display()
        ));
        None
    }
}

/// A file of the shared reference folder (`../shared/reference/<name>`), or a skip.
#[track_caller]
pub fn reference(workspace_root: &str, name: &str) -> Option<PathBuf> {
    let path = shared(workspace_root).join("reference").join(name);
    if path.is_file() {
        Some(path)
    } else {
        skip(format!(
            "{} not found (../shared is not beside this checkout)",
            path.display()
        ));
        None
    }
}

/// Whether `python3` can import every module of `modules` (comma-separated, as in an
/// `import` statement).
pub fn python_has(modules: &str) -> bool {
    std::process::Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success())
}
