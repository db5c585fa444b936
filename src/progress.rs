//! The progress bar: files done, MB/s and time left, on a terminal, for runs over a few
//! seconds. Hidden until then (a quick run prints nothing), and never drawn when stderr is not
//! a terminal or with `--quiet`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use svchunt::Progress;

/// How long a run goes before the bar appears.
const SHOW_AFTER: Duration = Duration::from_secs(2);

/// An indicatif bar behind the library's [`Progress`].
pub struct Bar {
    bar: ProgressBar,
    started: Instant,
    shown: AtomicBool,
    files: AtomicUsize,
    done: AtomicUsize,
    pass: Mutex<String>,
}

impl Bar {
    /// A bar for this run, or `None` when none should be drawn.
    pub fn for_terminal(quiet: bool) -> Option<Arc<Bar>> {
        if quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            return None;
        }
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(
                "{msg:28} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        Some(Arc::new(Bar {
            bar,
            started: Instant::now(),
            shown: AtomicBool::new(false),
            files: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            pass: Mutex::new(String::new()),
        }))
    }

    /// Remove the bar before the results are printed.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn message(&self) {
        let pass = self.pass.lock().map(|p| p.clone()).unwrap_or_default();
        self.bar.set_message(format!(
            "{pass}: {}/{} files",
            self.done.load(Ordering::Relaxed),
            self.files.load(Ordering::Relaxed)
        ));
    }
}

impl Progress for Bar {
    fn begin(&self, pass: &str, files: usize, bytes: u64) {
        if let Ok(mut p) = self.pass.lock() {
            *p = pass.to_string();
        }
        self.files.store(files, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
        self.bar.set_length(bytes);
        self.bar.set_position(0);
        self.bar.reset_eta();
        self.message();
    }

    fn advance(&self, bytes: u64) {
        self.done.fetch_add(1, Ordering::Relaxed);
        self.bar.inc(bytes);
        self.message();
        if self.started.elapsed() >= SHOW_AFTER && !self.shown.swap(true, Ordering::Relaxed) {
            self.bar
                .set_draw_target(ProgressDrawTarget::stderr_with_hz(4));
        }
    }
}
