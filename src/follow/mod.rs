//! `svchunt hunt --follow`: the hunt kept running over inputs that grow, one JSON line per
//! change on standard output.
//!
//! The loop: look for new files now and then, read what every input has new (a turn each),
//! hand the events to the library's [`Follower`], print the changes it returns, save the state
//! (`--state`), and sleep `--poll` once every input is read to its end. Polling rather than
//! file-system notifications (the `notify` crate): a log on a network share or a collector's
//! volume does not always notify, an EVTX log grows inside a preallocated or wrapping file
//! where a write says nothing of which records are new, and a poll costs one `stat` and a few
//! header reads per input; `--poll 500ms` by default bounds the latency that adds.
//!
//! SIGINT and SIGTERM end the run cleanly: the cycle under way finishes, its lines are printed,
//! the state is saved, and svchunt exits 0; started again with the same `--state`, it resumes
//! where it stopped. The state is written to a temporary file beside it and renamed over it,
//! so an interrupted write leaves the previous state. Progress goes to stderr, on a terminal
//! only; warnings go to stderr unless `--quiet`. This module knows nothing of detection.

mod inputs;

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use svchunt::emit::escape;
use svchunt::{Change, Engine, FollowState, Follower, Warning};

use crate::cli::{FormatArg, HuntArgs};
use crate::output::{is_broken_pipe, say};
use inputs::{Inputs, SavedInput};

/// How long inputs are read, when they have more, before what was read is judged.
const JUDGE_EVERY: Duration = Duration::from_millis(200);
/// How often a host is judged again for new evidence at most: an `updated` line comes within a
/// second of its evidence; openings and closings are judged at once.
const REJUDGE_EVERY: Duration = Duration::from_secs(1);

/// The state file: the inputs' positions and the follower's state.
#[derive(Serialize, Deserialize)]
struct StateFile {
    /// What wrote it (`svchunt <version>`), for a person reading it.
    written_by: String,
    inputs: Vec<SavedInput>,
    follower: FollowState,
}

/// Refuse the flags `--follow` cannot honour, and `--follow`'s own flags without it.
pub fn check_flags(args: &HuntArgs) -> Result<()> {
    let f = &args.follow;
    if !f.follow {
        let given = [
            ("--state", f.state.is_some()),
            ("--poll", f.poll.is_some()),
            ("--idle", f.idle.is_some()),
        ];
        if let Some((flag, _)) = given.iter().find(|(_, g)| *g) {
            bail!("{flag} only applies to --follow");
        }
        if args.input.paths.iter().any(|p| p.as_os_str() == "-") {
            bail!("`-` (standard input) can only be followed: add --follow");
        }
        return Ok(());
    }
    match args.format {
        None | Some(FormatArg::Jsonl) => {}
        Some(FormatArg::Table) => bail!(
            "--follow prints one JSON line per change as findings open, change and close; a \
             table cannot be printed before the hunt ends: drop -f table (--follow writes JSON \
             lines), or hunt without --follow for a table"
        ),
        Some(other) => bail!(
            "--follow writes JSON lines (-f jsonl), one per change; -f {} needs the whole \
             hunt: hunt without --follow for it",
            format!("{other:?}").to_lowercase()
        ),
    }
    if args.output.is_some() {
        bail!(
            "--follow writes to standard output, line by line as findings change; redirect it \
             (>> alerts.jsonl) or pipe it to your collector instead of -o"
        );
    }
    if args.strict {
        bail!(
            "--strict ends a hunt that could not read everything; a follower keeps going past \
             what it cannot read (warnings name it): drop --strict with --follow"
        );
    }
    Ok(())
}

/// Run `svchunt hunt --follow` until stopped (or until standard input, the only input, ends).
pub fn run(args: HuntArgs, engine: Engine) -> Result<ExitCode> {
    let quiet = args.input.quiet;
    let state_path = args.follow.state.clone();
    if let Some(path) = &state_path {
        refuse_state_among_inputs(path, &args.input.paths)?;
    }
    let saved = match &state_path {
        Some(path) if path.exists() => Some(load(path)?),
        _ => None,
    };
    let (follower, positions) = match saved {
        Some(s) => {
            let shown = escape::terminal(&state_path_display(&state_path)).into_owned();
            let follower = engine
                .resume(s.follower)
                .with_context(|| format!("cannot resume from --state {shown}"))?;
            (follower, s.inputs)
        }
        None => (engine.follower()?, Vec::new()),
    };
    let mut follower = follower.with_rejudge_interval(REJUDGE_EVERY);
    let mut inputs = Inputs::new(&args.input.paths, positions);
    let poll = Duration::try_from(
        args.follow
            .poll
            .unwrap_or(jiff::SignedDuration::from_millis(500)),
    )
    .unwrap_or(Duration::from_millis(500));
    let idle = Duration::try_from(
        args.follow
            .idle
            .unwrap_or(jiff::SignedDuration::from_secs(5)),
    )
    .unwrap_or(Duration::from_secs(5));

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone())
            .context("cannot listen for SIGINT/SIGTERM")?;
    }
    let status = Status::for_terminal(quiet);
    let mut warn = |w: &Warning| {
        if !quiet {
            status.clear();
            say(&format!(
                "svchunt: warning: {}",
                escape::terminal(&w.to_string())
            ));
        }
    };

    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut last_data = Instant::now();
    let mut settled = true;
    let mut last_save: Option<Instant> = None;
    let mut save_cost = Duration::ZERO;
    let mut unsaved = false;
    let mut read_unsaved = false;
    let mut last_discovery: Option<Instant> = None;
    let discovery_every = poll.max(Duration::from_secs(2));
    let mut closed_pipe = false;
    loop {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if last_discovery.is_none_or(|t| t.elapsed() >= discovery_every) {
            inputs.discover(&mut warn);
            last_discovery = Some(Instant::now());
        }
        // Read for a while before judging: a busy stream is judged a few times a second, not
        // once per batch read (each judgement goes over the hosts that changed).
        let reading = Instant::now();
        let mut round = inputs.read(&mut follower, &mut warn);
        loop {
            let left = JUDGE_EVERY.saturating_sub(reading.elapsed());
            if left.is_zero() || stop.load(Ordering::Relaxed) {
                break;
            }
            // Caught up with the files: standard input may still be flowing.
            if round.caught_up && !(inputs.has_stdin() && inputs.wait(left, &stop)) {
                break;
            }
            let more = inputs.read(&mut follower, &mut warn);
            round.events += more.events;
            round.caught_up = more.caught_up;
        }
        if round.events > 0 {
            last_data = Instant::now();
            settled = false;
            read_unsaved = true;
        }
        let mut changes = follower.advance();
        let stdin_done = inputs.only_ended_stdin() && round.caught_up;
        if round.caught_up && !settled && (stdin_done || last_data.elapsed() >= idle) {
            changes.extend(follower.settle_now());
            settled = true;
        }
        if !changes.is_empty() {
            unsaved = true;
            status.clear();
            if let Err(e) = print(&mut out, &changes) {
                if is_broken_pipe(&e.into()) {
                    closed_pipe = true;
                    break;
                }
                bail!("cannot write the output");
            }
        }
        // Save after lines were printed (at most every second, or ten times what a save
        // costs), so that a restart does not print them again; and every few seconds while
        // data is read, so that a restart does not read it all again.
        let since = last_save.map(|t| t.elapsed());
        let due = |every: Duration| since.is_none_or(|s| s >= every.max(save_cost * 10));
        if let Some(path) = &state_path
            && ((unsaved && due(Duration::from_secs(1)))
                || (read_unsaved && due(Duration::from_secs(5))))
        {
            let began = Instant::now();
            save(path, &inputs, &follower)?;
            save_cost = began.elapsed();
            last_save = Some(Instant::now());
            unsaved = false;
            read_unsaved = false;
        }
        status.show(&inputs, &follower);
        if stdin_done {
            break;
        }
        if round.caught_up {
            inputs.wait(poll, &stop);
        }
    }
    if let Some(path) = &state_path {
        save(path, &inputs, &follower)?;
    }
    status.clear();
    if !quiet {
        say(&summary(&inputs, &follower));
    }
    if closed_pipe {
        return Ok(ExitCode::SUCCESS);
    }
    Ok(ExitCode::SUCCESS)
}

fn state_path_display(p: &Option<PathBuf>) -> String {
    p.as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// One JSON line per change, escaped as `-f jsonl` escapes, then flushed.
fn print(out: &mut impl Write, changes: &[Change]) -> io::Result<()> {
    for c in changes {
        escape::write_json(&mut *out, escape::JsonFormatter::compact(), c)?;
        writeln!(out)?;
    }
    out.flush()
}

/// The state file inside a watched folder would be read as an input (and rewritten while
/// read); as one of the inputs, it would destroy evidence.
fn refuse_state_among_inputs(state: &Path, inputs: &[PathBuf]) -> Result<()> {
    let shown = escape::terminal(&state.display().to_string()).into_owned();
    let parent = match state.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let dir = std::fs::canonicalize(&parent)
        .with_context(|| format!("--state {shown}: no such folder"))?;
    let target = dir.join(state.file_name().unwrap_or_default());
    for input in inputs.iter().filter(|p| p.as_os_str() != "-") {
        let Ok(input) = std::fs::canonicalize(input) else {
            continue;
        };
        if target == input || (input.is_dir() && target.starts_with(&input)) {
            bail!(
                "--state {shown} is {} {}; keep the state outside the watched inputs",
                if target == input {
                    "the input"
                } else {
                    "inside the watched folder"
                },
                escape::terminal(&input.display().to_string())
            );
        }
    }
    if std::fs::metadata(&target).is_ok_and(|m| !m.is_file()) {
        bail!("--state {shown} is not a regular file");
    }
    Ok(())
}

fn load(path: &Path) -> Result<StateFile> {
    let shown = escape::terminal(&path.display().to_string()).into_owned();
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read --state {shown}"))?;
    serde_json::from_str(&text).with_context(|| {
        format!("--state {shown} is not a state svchunt wrote; move it away to start over")
    })
}

/// Write the state beside `path` and rename it over `path` once complete and on disk.
fn save(path: &Path, inputs: &Inputs, follower: &Follower) -> Result<()> {
    let shown = escape::terminal(&path.display().to_string()).into_owned();
    let state = StateFile {
        written_by: format!("svchunt {}", env!("CARGO_PKG_VERSION")),
        inputs: inputs.positions(),
        follower: follower.save(),
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".svchunt-tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write --state {shown}"))?;
    let mut w = io::BufWriter::new(temp);
    serde_json::to_writer(&mut w, &state)
        .with_context(|| format!("cannot write --state {shown}"))?;
    let temp = w
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("cannot write --state {shown}"))?;
    temp.as_file()
        .sync_all()
        .with_context(|| format!("cannot write --state {shown}"))?;
    temp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write --state {shown}"))?;
    Ok(())
}

fn summary(inputs: &Inputs, follower: &Follower) -> String {
    let s = follower.stats();
    let mut line = format!(
        "svchunt: followed {} input(s): {} events; findings {} opened, {} updated, {} closed, \
         {} withdrawn, {} open",
        inputs.len(),
        s.events,
        s.opened,
        s.updated,
        s.closed,
        s.withdrawn,
        follower.open()
    );
    let [installs, naming, waiting, logons] = follower.held_by_kind();
    line.push_str(&format!(
        "; holding {installs} install(s), {naming} event(s) naming one, {waiting} naming none yet, \
         {logons} logon(s)"
    ));
    if s.late > 0 {
        line.push_str(&format!("; {} event(s) late", s.late));
    }
    if s.dropped() > 0 {
        line.push_str(&format!(
            "; dropped early to bound memory: {} event(s), {} logon(s), {} install(s), {} account name(s)",
            s.dropped_events, s.dropped_logons, s.dropped_installs, s.dropped_accounts
        ));
    }
    if inputs.unshown > 0 {
        line.push_str(&format!(
            "; {} further warning(s) not shown",
            inputs.unshown
        ));
    }
    line
}

/// A one-line status on stderr, redrawn every second, on a terminal only.
struct Status {
    on: bool,
    last: std::cell::Cell<Option<Instant>>,
}

impl Status {
    fn for_terminal(quiet: bool) -> Status {
        Status {
            on: !quiet && io::stderr().is_terminal(),
            last: std::cell::Cell::new(None),
        }
    }

    fn show(&self, inputs: &Inputs, follower: &Follower) {
        if !self.on
            || self
                .last
                .get()
                .is_some_and(|t| t.elapsed() < Duration::from_secs(1))
        {
            return;
        }
        self.last.set(Some(Instant::now()));
        let s = follower.stats();
        let mut err = io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2Ksvchunt: following {} input(s): {} events, {} open, {} held",
            inputs.len(),
            s.events,
            follower.open(),
            follower.held()
        );
        let _ = err.flush();
    }

    fn clear(&self) {
        if self.on && self.last.get().is_some() {
            let _ = write!(io::stderr().lock(), "\r\x1b[2K");
        }
    }
}
