//! Headless Chromium for the report's browser tests and its load benchmark: where it is, and
//! one run of it on a page from disk (no network), with its output.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a browser run may take before it is given up on.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);

/// Chromium (`SVCHUNT_CHROMIUM`, else `/usr/bin/chromium`), or a skip (a failure under CI).
pub fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("SVCHUNT_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if path.is_file() {
        Some(path)
    } else {
        svchunt_testkit::skip(format!(
            "no Chromium at {} (install the Debian `chromium` package, run \
             .ci/report-browser.sh, or set SVCHUNT_CHROMIUM)",
            path.display()
        ));
        None
    }
}

/// Run Chromium headless on `page` with `args`; its stdout and stderr.
pub fn run_browser(chromium: &Path, page: &Path, args: &[&str]) -> (String, String) {
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
pub struct Opened {
    /// The DOM Chromium dumped.
    pub dom: String,
    /// Console and uncaught-error lines it logged.
    pub console: Vec<String>,
}

impl Opened {
    /// How often `needle` occurs in the DOM.
    pub fn count(&self, needle: &str) -> usize {
        self.dom.matches(needle).count()
    }

    /// The value of attribute `name` on `<html>`.
    pub fn root_attr(&self, name: &str) -> Option<&str> {
        let tag_end = self.dom.find("<head")?;
        let root = &self.dom[..tag_end];
        let key = format!(" {name}=\"");
        let start = root.find(&key)? + key.len();
        let end = start + root[start..].find('"')?;
        Some(&root[start..end])
    }

    /// Timeline bars.
    pub fn bars(&self) -> usize {
        self.count("class=\"bar ")
    }

    /// Findings-table rows.
    pub fn rows(&self) -> usize {
        self.count("class=\"frow")
    }

    /// Movement-graph edges.
    pub fn edges(&self) -> usize {
        self.count("class=\"edge\"")
    }
}
