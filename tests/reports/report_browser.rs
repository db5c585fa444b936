//! The HTML report in a real browser: headless Chromium opens it from disk (no network), and the
//! tests read the DOM it built. They check that every part is drawn with the expected number of
//! bars, edges and rows, that nothing was logged to the console (the report logs only errors,
//! and Chromium logs CSP refusals and uncaught exceptions there too), that markup in service
//! names stayed text, and that 10,000 findings are all there and paged. How fast they open is
//! a benchmark, not a test (`cargo bench --bench report_load`). Screenshots are kept in
//! `target/report-artefacts/`.
//!
//! Without Chromium (`/usr/bin/chromium`, or `SVCHUNT_CHROMIUM`) every test skips and says why
//! on a developer's machine, and fails under CI; `.ci/report-browser.sh` installs it.

use crate::common;
use crate::report_scenario;

use std::path::{Path, PathBuf};

use report_scenario::browser::{Opened, chromium, run_browser};
use report_scenario::*;
use svchunt::emit::graph;
use svchunt::{Answer, Engine, Report as LifecycleReport};

/// Rows on one page of the findings table (the script's `PAGE`).
const PAGE: usize = 200;

/// Where screenshots are kept: `target/report-artefacts/`.
fn artefacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("report-artefacts");
    std::fs::create_dir_all(&dir).expect("artefact dir");
    dir
}

/// Write `html` to a temporary file, open it, screenshot it as `artefact` (a PNG name), and
/// check what every report must satisfy: drawn, no errors, no console output, nothing injected.
fn open_report(chromium: &Path, html: &str, artefact: &str) -> Opened {
    let dir = tempfile::tempdir().expect("page dir");
    let page = dir.path().join("report.html");
    std::fs::write(&page, html).expect("write report");

    let (dom, stderr) = run_browser(chromium, &page, &["--dump-dom"]);
    let console: Vec<String> = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .map(str::to_string)
        .collect();
    let opened = Opened { dom, console };
    assert_eq!(
        opened.root_attr("data-ready"),
        Some("true"),
        "the report did not finish drawing; console: {:#?}",
        opened.console
    );
    assert_eq!(opened.root_attr("data-errors"), None, "report errors");
    assert!(
        opened.console.is_empty(),
        "console output (the report logs only errors): {:#?}",
        opened.console
    );
    assert!(
        !opened.dom.contains("data-pwned=\""),
        "injected script ran (or its markup was parsed)"
    );
    assert!(
        !opened.dom.contains("<img"),
        "an <img> element exists: markup from the data was parsed"
    );
    for part in [
        "id=\"summary\"",
        "id=\"timeline-svg\"",
        "id=\"graph\"",
        "id=\"findings-table\"",
    ] {
        assert!(opened.dom.contains(part), "{part} missing");
    }

    let png = artefacts().join(artefact);
    let _ = std::fs::remove_file(&png);
    run_browser(
        chromium,
        &page,
        &[
            "--window-size=1400,2400",
            &format!("--screenshot={}", png.display()),
        ],
    );
    assert!(png.is_file(), "no screenshot at {}", png.display());
    eprintln!("screenshot: {}", png.display());
    opened
}

/// The checks that depend on the findings: a bar per finding, a row per finding on the first
/// page, and exactly `--format graph`'s edges.
fn assert_counts(opened: &Opened, report: &LifecycleReport) {
    let n = report.findings.len();
    assert_eq!(opened.bars(), n, "timeline bars");
    assert_eq!(opened.rows(), n.min(PAGE), "table rows");
    assert_eq!(
        opened.edges(),
        graph::edges(&report.findings).len(),
        "graph edges"
    );
    assert_eq!(
        opened.count("<tr data-host="),
        report.coverage.len(),
        "coverage rows"
    );
}

#[test]
fn small_scenario_shows_every_part_and_keeps_markup_as_text() {
    let Some(chromium) = chromium() else { return };
    let report = small();
    let opened = open_report(&chromium, &render(&report), "report-small.png");
    assert_counts(&opened, &report);
    assert_eq!(opened.edges(), 5);

    // The service named `<img onerror>` is on the page, as text.
    assert!(
        opened
            .dom
            .contains("&lt;img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\"&gt;"),
        "the injected service name is not shown as text"
    );
    assert!(opened.dom.contains("CORP\\&lt;svg onload=alert(1)&gt;"));
    // The removal logged before its creation is drawn as such.
    assert_eq!(opened.count("class=\"bar v-remote-execution early"), 1);
    // Evidence ticks are drawn, removals among them.
    assert!(opened.count("class=\"tick removal\"") >= 3);
}

#[test]
fn ten_thousand_findings_are_all_drawn_and_paged() {
    let Some(chromium) = chromium() else { return };
    let report = big(10_000);
    let html = render(&report);
    eprintln!(
        "report for 10,000 findings: {:.1} MB",
        html.len() as f64 / 1e6
    );
    let opened = open_report(&chromium, &html, "report-10000.png");
    assert_counts(&opened, &report);
    assert!(opened.dom.contains("1–200 of 10,000"));
    // Ticks for 60,000 evidence events are left for the zoomed-in view.
    assert_eq!(
        opened.count("class=\"tick\"") + opened.count("class=\"tick removal\""),
        0
    );
}

fn hunt_dir(dir: &Path) -> LifecycleReport {
    let outcome = Engine::default().hunt_paths(&[dir.to_path_buf()]);
    match outcome.answer {
        Answer::Lifecycle(r) => r,
        Answer::Kql(_) => unreachable!("lifecycle semantics asked"),
    }
}

#[test]
fn examples_lab_report_opens() {
    let Some(chromium) = chromium() else { return };
    let lab = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lab");
    let report = hunt_dir(&lab);
    assert!(!report.findings.is_empty(), "the lab has executions");
    let opened = open_report(&chromium, &render(&report), "report-examples-lab.png");
    assert_counts(&opened, &report);
}

#[test]
fn shared_corpus_report_opens() {
    let Some(chromium) = chromium() else { return };
    let Some(corpus) = common::corpus() else {
        return;
    };
    let report = hunt_dir(&corpus);
    assert!(!report.findings.is_empty(), "the corpus has executions");
    let opened = open_report(&chromium, &render(&report), "report-corpus.png");
    assert_counts(&opened, &report);
}
