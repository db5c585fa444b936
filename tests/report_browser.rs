//! The HTML report in a real browser: headless Chromium opens it from disk (no network), and the
//! tests read the DOM it built. They check that every part is drawn with the expected number of
//! bars, edges and rows, that nothing was logged to the console (the report logs only errors,
//! and Chromium logs CSP refusals and uncaught exceptions there too), that markup in service
//! names stayed text, and that 10,000 findings are ready in under 2 s. Screenshots are kept in
//! `target/report-artefacts/`.
//!
//! Without Chromium (`/usr/bin/chromium`, or `SVCHUNT_CHROMIUM`) every test prints why it skips
//! and passes, so `cargo test` works anywhere; `.ci/report-browser.sh` installs it for CI.

mod common;
mod report_scenario;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use report_scenario::*;
use svchunt::emit::graph;
use svchunt::{Answer, Engine, Report as LifecycleReport};

/// Longest a browser run may take before the test gives up on it.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);
/// The load-time promise for 10,000 findings.
const OPEN_BUDGET_MS: u64 = 2_000;
/// Rows on one page of the findings table (the script's `PAGE`).
const PAGE: usize = 200;

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("SVCHUNT_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if path.is_file() {
        Some(path)
    } else {
        eprintln!(
            "skipping: no Chromium at {} (install the Debian `chromium` package, run \
             .ci/report-browser.sh, or set SVCHUNT_CHROMIUM)",
            path.display()
        );
        None
    }
}

/// Where screenshots are kept: `target/report-artefacts/`.
fn artefacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("report-artefacts");
    std::fs::create_dir_all(&dir).expect("artefact dir");
    dir
}

/// Run Chromium headless on `page` with `args`; its stdout and stderr.
fn run_browser(chromium: &Path, page: &Path, args: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().expect("profile dir");
    let out_dir = tempfile::tempdir().expect("output dir");
    let (stdout_path, stderr_path) = (out_dir.path().join("out"), out_dir.path().join("err"));
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait on chromium").is_some() {
            break;
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {BROWSER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (
        std::fs::read_to_string(stdout_path).unwrap_or_default(),
        std::fs::read_to_string(stderr_path).unwrap_or_default(),
    )
}

/// What the browser made of a report.
struct Opened {
    dom: String,
    console: Vec<String>,
}

impl Opened {
    fn count(&self, needle: &str) -> usize {
        self.dom.matches(needle).count()
    }

    /// The value of attribute `name` on `<html>`.
    fn root_attr(&self, name: &str) -> Option<&str> {
        let tag_end = self.dom.find("<head")?;
        let root = &self.dom[..tag_end];
        let key = format!(" {name}=\"");
        let start = root.find(&key)? + key.len();
        let end = start + root[start..].find('"')?;
        Some(&root[start..end])
    }

    fn bars(&self) -> usize {
        self.count("class=\"bar ")
    }

    fn rows(&self) -> usize {
        self.count("class=\"frow")
    }

    fn edges(&self) -> usize {
        self.count("class=\"edge\"")
    }
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
fn ten_thousand_findings_open_in_under_two_seconds() {
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

    let ready_ms: u64 = opened
        .root_attr("data-ready-ms")
        .and_then(|v| v.parse().ok())
        .expect("data-ready-ms");
    eprintln!(
        "10,000 findings ready {ready_ms} ms after navigation start ({})",
        opened.root_attr("data-timings").unwrap_or("")
    );
    assert!(
        ready_ms < OPEN_BUDGET_MS,
        "10,000 findings took {ready_ms} ms to open (budget {OPEN_BUDGET_MS} ms)"
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
    if !lab.is_dir() {
        eprintln!("skipping: {} not found", lab.display());
        return;
    }
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
