//! The inputs `svchunt hunt --follow` watches: files and folders given on the command line,
//! looked at again every few polls for new files, and standard input (`-`).
//!
//! An input is known by its file identity (device and inode), not its path: a log renamed
//! (archived) inside a watched folder is the same input and is not read twice, while a file
//! replaced by a new one at the same path is a new input read from its start, after the rest
//! of the old one is read through the handle still open. Within one identity, the readers tell
//! a log that was cleared and started over ([`EvtxTail`], [`LinesTail`]). Only EVTX and JSON
//! lines are followed; any other file is named once and left alone. A file still blank (a log
//! created before its first record) is looked at again every poll until its format shows, so
//! that it is read from its first records on, not only at the next look for new files. This module knows nothing
//! of detection: it hands each batch of events to the follower.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};

use serde::{Deserialize, Serialize};
use svchunt::Follower;
use svchunt::Warning;
use svchunt::read::evtx_tail::{EvtxPosition, EvtxTail, TailOutput};
use svchunt::read::json::tail::{LinesPosition, LinesTail};

/// Chunks of one EVTX input read before the others get their turn (4 MiB).
const EVTX_CHUNKS_PER_TURN: usize = 64;
/// Bytes of one JSON-lines input read before the others get their turn.
const LINE_BYTES_PER_TURN: usize = 4 << 20;
/// Lines taken from standard input before the others get their turn.
const STDIN_LINES_PER_TURN: usize = 2048;
/// Lines read from standard input ahead of the follower: a small queue, so that a line waits
/// little before it is read (and the writer is held back, not buffered for).
const STDIN_QUEUE: usize = 1024;

/// A file's identity: the same file whatever its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    #[cfg(unix)]
    fn of(meta: &std::fs::Metadata) -> FileId {
        use std::os::unix::fs::MetadataExt;
        FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }

    /// Without inodes, a file is known by its creation time (a file replaced at the same path
    /// is a new one) and its path's hash (XXH3, a specified hash: a saved state holds it).
    #[cfg(not(unix))]
    fn of_path(path: &Path, meta: &std::fs::Metadata) -> FileId {
        let path_hash = twox_hash::XxHash3_64::oneshot(path.as_os_str().as_encoded_bytes());
        let created = meta
            .created()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64);
        FileId {
            dev: created,
            ino: path_hash,
        }
    }

    fn identify(path: &Path) -> std::io::Result<FileId> {
        let meta = std::fs::metadata(path)?;
        #[cfg(unix)]
        return Ok(FileId::of(&meta));
        #[cfg(not(unix))]
        return Ok(FileId::of_path(path, &meta));
    }

    /// The input's name for the follower's clocks.
    fn key(self) -> String {
        format!("{}:{}", self.dev, self.ino)
    }
}

/// How far one input was read, as the state file keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "format", rename_all = "lowercase")]
pub enum Position {
    /// An EVTX file.
    Evtx(EvtxPosition),
    /// A JSON-lines file.
    Lines(LinesPosition),
}

/// One input in the state file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedInput {
    /// Its identity.
    pub id: FileId,
    /// Its path when saved (shown, not used to find it).
    pub path: String,
    /// How far it was read.
    pub position: Position,
}

enum Tail {
    Evtx(EvtxTail),
    Lines(LinesTail),
}

struct Source {
    path: PathBuf,
    name: Arc<str>,
    file: File,
    tail: Tail,
    /// No path shows this file any more: read the rest, then let it go.
    gone: bool,
    /// Warnings shown about it (past [`WARNINGS_SHOWN`], only counted).
    warned: u64,
}

/// Warnings shown per input; more are counted in the summary.
const WARNINGS_SHOWN: u64 = 20;

/// Standard input, read by a thread into a bounded queue of numbered lines.
struct Stdin {
    lines: Receiver<(u64, Vec<u8>)>,
    /// A line taken while waiting for one ([`Inputs::wait`]).
    early: Option<(u64, Vec<u8>)>,
    tail: LinesTail,
    ended: bool,
    name: Arc<str>,
    warned: u64,
}

/// What one round of reading did.
#[derive(Debug, Default)]
pub struct Round {
    /// Events handed to the follower.
    pub events: u64,
    /// Every input was read to its end.
    pub caught_up: bool,
}

/// Every input being followed.
pub struct Inputs {
    roots: Vec<PathBuf>,
    sources: BTreeMap<FileId, Source>,
    stdin: Option<Stdin>,
    /// Positions from the state file, for inputs not opened yet.
    saved: HashMap<FileId, Position>,
    /// Files seen that are not followed (other formats), named once.
    ignored: BTreeSet<FileId>,
    /// Files seen still blank (a log created before its first record): looked at again every
    /// poll, not only at the next discovery, so that they are read as soon as they are written
    /// (a log found late loses what its host's other logs let go meanwhile: see
    /// [`svchunt::Follower`]).
    blank: BTreeMap<FileId, PathBuf>,
    /// Discovery warnings already shown.
    said: BTreeSet<String>,
    /// Warnings not shown (past the per-input cap).
    pub unshown: u64,
}

impl Inputs {
    /// Follow `paths` (`-` is standard input), resuming the `saved` positions.
    pub fn new(paths: &[PathBuf], saved: Vec<SavedInput>) -> Inputs {
        let stdin = paths.iter().any(|p| p.as_os_str() == "-").then(|| {
            let (tx, rx) = sync_channel(STDIN_QUEUE);
            std::thread::spawn(move || {
                let mut input = std::io::stdin().lock();
                let mut number = 0u64;
                loop {
                    let mut line = Vec::new();
                    match input.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            number += 1;
                            if line.ends_with(b"\n") {
                                line.pop();
                            }
                            if tx.send((number, line)).is_err() {
                                break;
                            }
                        }
                    }
                }
            });
            Stdin {
                lines: rx,
                early: None,
                tail: LinesTail::default(),
                ended: false,
                name: "-".into(),
                warned: 0,
            }
        });
        Inputs {
            roots: paths
                .iter()
                .filter(|p| p.as_os_str() != "-")
                .cloned()
                .collect(),
            sources: BTreeMap::new(),
            stdin,
            saved: saved.into_iter().map(|s| (s.id, s.position)).collect(),
            ignored: BTreeSet::new(),
            blank: BTreeMap::new(),
            said: BTreeSet::new(),
            unshown: 0,
        }
    }

    /// How many inputs are being read.
    pub fn len(&self) -> usize {
        self.sources.len() + usize::from(self.stdin.is_some())
    }

    /// True when standard input is the only input and it has ended, read to its end.
    pub fn only_ended_stdin(&self) -> bool {
        self.roots.is_empty() && self.stdin.as_ref().is_some_and(|s| s.ended)
    }

    /// Where each file input stands, for the state file (inputs no longer seen included, so a
    /// file that comes back later resumes).
    pub fn positions(&self) -> Vec<SavedInput> {
        let mut out: Vec<SavedInput> = self
            .sources
            .iter()
            .map(|(id, s)| SavedInput {
                id: *id,
                path: s.path.display().to_string(),
                position: match &s.tail {
                    Tail::Evtx(t) => Position::Evtx(t.position.clone()),
                    Tail::Lines(t) => Position::Lines(t.position.clone()),
                },
            })
            .collect();
        out.extend(self.saved.iter().map(|(id, p)| SavedInput {
            id: *id,
            path: String::new(),
            position: p.clone(),
        }));
        out.sort_by_key(|s| s.id);
        out
    }

    /// Wait up to `poll` for new data: standard input wakes the wait as soon as a line comes;
    /// files are looked at again after `poll` (or when `stop` is set). True when a line came.
    pub fn wait(
        &mut self,
        poll: std::time::Duration,
        stop: &std::sync::atomic::AtomicBool,
    ) -> bool {
        use std::sync::mpsc::RecvTimeoutError;
        use std::time::{Duration, Instant};
        let until = Instant::now() + poll;
        let step = poll.min(Duration::from_millis(50));
        loop {
            let now = Instant::now();
            if now >= until || stop.load(std::sync::atomic::Ordering::Relaxed) {
                return false;
            }
            match &mut self.stdin {
                Some(stdin) if stdin.early.is_some() => return true,
                Some(stdin) if !stdin.ended => {
                    match stdin.lines.recv_timeout(step.min(until - now)) {
                        Ok(line) => {
                            stdin.early = Some(line);
                            return true;
                        }
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => {
                            stdin.ended = true;
                            return false;
                        }
                    }
                }
                _ => std::thread::sleep(step.min(until - now)),
            }
        }
    }

    /// True when standard input is read.
    pub fn has_stdin(&self) -> bool {
        self.stdin.is_some()
    }

    /// Look for new files, files replaced and files gone under the paths given.
    pub fn discover(&mut self, warn: &mut dyn FnMut(&Warning)) {
        if self.roots.is_empty() {
            return;
        }
        let found = svchunt::discover::discover(&self.roots);
        for w in found.warnings {
            if self.said.insert(w.to_string()) {
                warn(&w);
            }
        }
        let mut present = BTreeSet::new();
        self.blank.clear();
        for path in found.files {
            let Ok(id) = FileId::identify(&path) else {
                continue;
            };
            present.insert(id);
            if let Some(s) = self.sources.get_mut(&id) {
                s.path = path; // renamed: the same input
                continue;
            }
            if self.ignored.contains(&id) {
                continue;
            }
            self.try_open(path, id, warn);
        }
        for (id, s) in &mut self.sources {
            s.gone = !present.contains(id);
        }
    }

    /// Open the files found blank before that have something to tell their format by now.
    fn open_blank(&mut self, warn: &mut dyn FnMut(&Warning)) {
        for (id, path) in std::mem::take(&mut self.blank) {
            // The same identity again (not replaced meanwhile), or left for the next discovery.
            if FileId::identify(&path).is_ok_and(|now| now == id) {
                self.try_open(path, id, warn);
            }
        }
    }

    /// Follow `path` if it is a followed format, remember it while blank, or name it once.
    fn try_open(&mut self, path: PathBuf, id: FileId, warn: &mut dyn FnMut(&Warning)) {
        match self.open(&path, id) {
            Ok(Some(source)) => {
                self.sources.insert(id, source);
            }
            Ok(None) => {
                self.blank.insert(id, path); // nothing to tell its format by yet
            }
            Err(message) => {
                self.ignored.insert(id);
                warn(&Warning {
                    file: path.display().to_string().into(),
                    location: String::new(),
                    message,
                });
            }
        }
    }

    /// Open a new input, resuming its saved position; `Ok(None)` when it is still too short or
    /// blank to tell what it is, `Err` when it is not followed.
    fn open(&mut self, path: &Path, id: FileId) -> Result<Option<Source>, String> {
        let mut file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
        let mut head = [0u8; 64];
        let mut n = 0;
        while n < head.len() {
            match file.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) => return Err(format!("cannot read: {e}")),
            }
        }
        let head = &head[..n];
        // A log being created is blank at first (EVTX reserves its header as zeroes).
        if head.len() < 8 || head.iter().all(|b| *b == 0) {
            return Ok(None);
        }
        let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
        let first = text.iter().find(|b| !b.is_ascii_whitespace());
        let saved = self.saved.remove(&id);
        let tail = if head.starts_with(b"ElfFile\0") {
            Tail::Evtx(EvtxTail::new(match saved {
                Some(Position::Evtx(p)) => p,
                _ => EvtxPosition::default(),
            }))
        } else if first == Some(&b'{') {
            Tail::Lines(LinesTail::new(match saved {
                Some(Position::Lines(p)) => p,
                _ => LinesPosition::default(),
            }))
        } else if first.is_none() {
            return Ok(None);
        } else {
            return Err(
                "not followed: only EVTX and JSON lines are (hunt it without --follow)".into(),
            );
        };
        Ok(Some(Source {
            name: path.display().to_string().into(),
            path: path.to_path_buf(),
            file,
            tail,
            gone: false,
            warned: 0,
        }))
    }

    /// Read what every input has new, a turn each, into `follower`.
    pub fn read(&mut self, follower: &mut Follower, warn: &mut dyn FnMut(&Warning)) -> Round {
        let mut round = Round {
            caught_up: true,
            ..Round::default()
        };
        self.open_blank(warn);
        let opts = follower.read_options().clone();
        let mut finished = Vec::new();
        // In path order, so that a run reads its inputs in the same order every time.
        let mut order: Vec<(PathBuf, FileId)> = self
            .sources
            .iter()
            .map(|(id, s)| (s.path.clone(), *id))
            .collect();
        order.sort();
        for (_, id) in order {
            let s = self.sources.get_mut(&id).expect("listed above");
            let read: TailOutput = match &mut s.tail {
                Tail::Evtx(t) => t.read(&s.name, &s.file, &opts, EVTX_CHUNKS_PER_TURN),
                Tail::Lines(t) => t.read_file(&s.name, &s.file, &opts, LINE_BYTES_PER_TURN),
            };
            if read.restarted {
                warn(&Warning {
                    file: s.name.clone(),
                    location: String::new(),
                    message: "cleared, truncated or rewritten: read again from its start".into(),
                });
            }
            for w in &read.out.warnings {
                s.warned += 1;
                if s.warned <= WARNINGS_SHOWN {
                    warn(w);
                } else {
                    self.unshown += 1;
                }
            }
            round.events += read.out.events.len() as u64;
            round.caught_up &= read.at_end;
            follower.push(&id.key(), read.out.events, read.at_end);
            if s.gone && read.at_end {
                finished.push(id);
            }
        }
        for id in finished {
            if let Some(s) = self.sources.remove(&id) {
                follower.forget_input(&id.key());
                // Its position is kept: the file may come back (a folder remounted).
                self.saved.insert(
                    id,
                    match s.tail {
                        Tail::Evtx(t) => Position::Evtx(t.position),
                        Tail::Lines(t) => Position::Lines(t.position),
                    },
                );
            }
        }
        if let Some(stdin) = &mut self.stdin {
            let mut lines: Vec<(u64, Vec<u8>)> = stdin.early.take().into_iter().collect();
            while lines.len() < STDIN_LINES_PER_TURN {
                match stdin.lines.try_recv() {
                    Ok(line) => lines.push(line),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        stdin.ended = true;
                        break;
                    }
                }
            }
            let more = lines.len() == STDIN_LINES_PER_TURN;
            let out = stdin.tail.read_lines(&stdin.name, &lines, &opts);
            for w in &out.warnings {
                stdin.warned += 1;
                if stdin.warned <= WARNINGS_SHOWN {
                    warn(w);
                } else {
                    self.unshown += 1;
                }
            }
            round.events += out.events.len() as u64;
            round.caught_up &= !more;
            follower.push("-", out.events, !more);
        }
        round
    }
}
