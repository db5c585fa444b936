//! Where a report goes, written so that no run can destroy evidence or a previous report.
//!
//! `-o FILE` is checked before anything is read: a FILE that is one of the inputs (the same
//! file, also through a hard link or a symlink, or a file inside an input folder) is refused,
//! and a FILE that cannot be written (no such folder, no permission) is reported at once, not
//! after an hour's hunt. The report is written to a temporary file beside FILE and renamed over
//! it only when complete, so a failed or interrupted run leaves the previous FILE as it was.
//! A FILE that is not a regular file (`/dev/stdout`, a FIFO, `>(gzip > x)`) is written in
//! place: renaming over a device would replace it.
//!
//! Also here: telling a closed pipe (`svchunt events | head`) from a real write error, and
//! printing to stderr without failing when stderr is gone. This module knows nothing of formats.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use svchunt::emit::escape;

/// An open destination for the report.
pub struct Output {
    sink: Sink,
}

enum Sink {
    Stdout(BufWriter<io::Stdout>),
    /// A device, FIFO or other non-regular file, written in place.
    InPlace(BufWriter<File>),
    /// A regular file, replaced whole by [`Output::commit`].
    Atomic(Atomic),
}

/// A temporary file beside `target`, renamed over it when complete. It is created at the first
/// write, after the hunt, not when the output is prepared: a report written into an input
/// folder must not leave a file there for the hunt to read (and warn about, and count as
/// unreadable under `--strict`).
struct Atomic {
    target: PathBuf,
    dir: PathBuf,
    prefix: String,
    #[cfg(unix)]
    permissions: fs::Permissions,
    temp: Option<BufWriter<tempfile::NamedTempFile>>,
}

impl Atomic {
    fn create(&self) -> io::Result<tempfile::NamedTempFile> {
        let mut builder = tempfile::Builder::new();
        builder.prefix(&self.prefix).suffix(".svchunt-tmp");
        #[cfg(unix)]
        builder.permissions(self.permissions.clone());
        builder.tempfile_in(&self.dir)
    }

    fn writer(&mut self) -> io::Result<&mut BufWriter<tempfile::NamedTempFile>> {
        if self.temp.is_none() {
            self.temp = Some(BufWriter::new(self.create()?));
        }
        Ok(self.temp.as_mut().expect("just created"))
    }
}

impl Output {
    /// Standard output.
    pub fn stdout() -> Output {
        Output {
            sink: Sink::Stdout(BufWriter::new(io::stdout())),
        }
    }

    /// Standard output, or `path` when given: refused if it is one of `inputs`, and tried now
    /// (a temporary file is created beside it and removed), so that an unwritable path fails
    /// before the work starts.
    pub fn prepare(path: Option<&Path>, inputs: &[PathBuf]) -> Result<Output> {
        let Some(path) = path else {
            return Ok(Output::stdout());
        };
        let shown = escape::terminal(&path.display().to_string()).into_owned();
        if let Some(input) = input_with_same_identity(path, inputs) {
            bail!(
                "-o {shown} is one of the inputs ({}); refusing to overwrite evidence: \
                 write the report somewhere else",
                escape::terminal(&input.display().to_string())
            );
        }
        // Write where a symlink points, so the link stays a link.
        let target = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let existing = fs::metadata(&target).ok();
        match &existing {
            Some(m) if m.is_dir() => bail!("-o {shown} is a folder; name a file to write"),
            Some(m) if !m.is_file() => {
                let file = fs::OpenOptions::new()
                    .write(true)
                    .open(&target)
                    .with_context(|| format!("cannot write {shown}"))?;
                return Ok(Output {
                    sink: Sink::InPlace(BufWriter::new(file)),
                });
            }
            _ => {}
        }
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let atomic = Atomic {
            prefix: format!(".{name}."),
            // A new report gets the usual permissions (0666 less the umask), not tempfile's
            // 0600; a replaced one keeps its own.
            #[cfg(unix)]
            permissions: existing.map(|m| m.permissions()).unwrap_or_else(|| {
                use std::os::unix::fs::PermissionsExt;
                fs::Permissions::from_mode(0o666)
            }),
            target,
            dir,
            temp: None,
        };
        drop(atomic.create().with_context(|| {
            format!(
                "cannot write {shown}: cannot create a file in {}",
                escape::terminal(&atomic.dir.display().to_string())
            )
        })?);
        Ok(Output {
            sink: Sink::Atomic(atomic),
        })
    }

    /// Finish the report: flush it and, for a file, put it in place of the old one.
    pub fn commit(self) -> Result<()> {
        match self.sink {
            Sink::Stdout(mut w) => w.flush().context("cannot write the output"),
            Sink::InPlace(mut w) => w.flush().context("cannot write the output"),
            Sink::Atomic(mut atomic) => {
                let shown = escape::terminal(&atomic.target.display().to_string()).into_owned();
                atomic
                    .writer()
                    .with_context(|| format!("cannot write {shown}"))?;
                let temp = atomic
                    .temp
                    .take()
                    .expect("created by writer()")
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(|| format!("cannot write {shown}"))?;
                // On disk before the rename, so a crash cannot leave an empty report in its
                // place.
                temp.as_file()
                    .sync_all()
                    .with_context(|| format!("cannot write {shown}"))?;
                temp.persist(&atomic.target)
                    .map_err(|e| e.error)
                    .with_context(|| format!("cannot replace {shown}"))?;
                Ok(())
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.sink {
            Sink::Stdout(w) => w.write(buf),
            Sink::InPlace(w) => w.write(buf),
            Sink::Atomic(a) => a.writer()?.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.sink {
            Sink::Stdout(w) => w.write_all(buf),
            Sink::InPlace(w) => w.write_all(buf),
            Sink::Atomic(a) => a.writer()?.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::Stdout(w) => w.flush(),
            Sink::InPlace(w) => w.flush(),
            Sink::Atomic(a) => match &mut a.temp {
                Some(w) => w.flush(),
                None => Ok(()),
            },
        }
    }
}

/// The input that is the same file as `path`, if any: `path` itself, or a regular file under
/// an input folder, compared by identity (device and inode on Unix), so hard links and
/// symlinks are seen through. Folders are walked as the reader walks them (links inside not
/// followed); only names are read, never contents. Nothing to do when `path` does not exist.
fn input_with_same_identity(path: &Path, inputs: &[PathBuf]) -> Option<PathBuf> {
    let target = Identity::of(path)?;
    for root in inputs {
        let walker = walkdir::WalkDir::new(root).follow_links(false);
        for entry in walker.into_iter().filter_map(|e| e.ok()) {
            if !entry.file_type().is_file() {
                continue;
            }
            if target.matches_entry(&entry) {
                return Some(entry.into_path());
            }
        }
    }
    None
}

/// A file's identity.
#[cfg(unix)]
struct Identity {
    dev: u64,
    ino: u64,
}

#[cfg(unix)]
impl Identity {
    fn of(path: &Path) -> Option<Identity> {
        use std::os::unix::fs::MetadataExt;
        let m = fs::metadata(path).ok()?;
        Some(Identity {
            dev: m.dev(),
            ino: m.ino(),
        })
    }

    fn matches_entry(&self, entry: &walkdir::DirEntry) -> bool {
        use walkdir::DirEntryExt;
        // The inode comes with the folder listing; only a match costs a stat.
        if entry.depth() > 0 && entry.ino() != self.ino {
            return false;
        }
        Identity::of(entry.path()).is_some_and(|i| i.dev == self.dev && i.ino == self.ino)
    }
}

/// A file's identity, where only paths are known: its canonical path.
#[cfg(not(unix))]
struct Identity {
    path: PathBuf,
}

#[cfg(not(unix))]
impl Identity {
    fn of(path: &Path) -> Option<Identity> {
        Some(Identity {
            path: fs::canonicalize(path).ok()?,
        })
    }

    fn matches_entry(&self, entry: &walkdir::DirEntry) -> bool {
        fs::canonicalize(entry.path()).is_ok_and(|p| p == self.path)
    }
}

/// Whether `err` is, at bottom, a write to a closed pipe: the reader went away (`| head`), so
/// the run ends quietly with success, as Unix tools do. Looks through the wrappers that hide
/// the I/O error (serde_json's and csv's errors do not expose it as their source).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        if let Some(e) = c.downcast_ref::<io::Error>() {
            return e.kind() == io::ErrorKind::BrokenPipe
                || e.get_ref().is_some_and(|inner| {
                    inner
                        .downcast_ref::<csv::Error>()
                        .is_some_and(csv_is_broken_pipe)
                });
        }
        if let Some(e) = c.downcast_ref::<serde_json::Error>() {
            return e.io_error_kind() == Some(io::ErrorKind::BrokenPipe);
        }
        c.downcast_ref::<csv::Error>()
            .is_some_and(csv_is_broken_pipe)
    })
}

fn csv_is_broken_pipe(e: &csv::Error) -> bool {
    matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == io::ErrorKind::BrokenPipe)
}

/// Print one line to stderr with its log-derived text escaped for the terminal; a closed or
/// full stderr is not a reason to stop (nor to panic, as `eprintln!` would).
pub fn say(line: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{}", escape::terminal(line));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_is_found_by_identity_through_links() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        fs::create_dir(&logs).unwrap();
        let evidence = logs.join("Security.evtx");
        fs::write(&evidence, b"ElfFile\0").unwrap();
        let inputs = [logs.clone()];

        assert_eq!(
            input_with_same_identity(&evidence, &inputs),
            Some(evidence.clone())
        );
        let hard = dir.path().join("hard.evtx");
        fs::hard_link(&evidence, &hard).unwrap();
        assert!(input_with_same_identity(&hard, &inputs).is_some());
        #[cfg(unix)]
        {
            let soft = dir.path().join("soft.evtx");
            std::os::unix::fs::symlink(&evidence, &soft).unwrap();
            assert!(input_with_same_identity(&soft, &inputs).is_some());
            // The input named as a file, the output through a link to it.
            assert!(input_with_same_identity(&soft, std::slice::from_ref(&evidence)).is_some());
        }
        // A new report inside the input folder, or any other file, is fine.
        assert_eq!(
            input_with_same_identity(&logs.join("report.json"), &inputs),
            None
        );
        let other = dir.path().join("other.json");
        fs::write(&other, b"{}").unwrap();
        assert_eq!(input_with_same_identity(&other, &inputs), None);
    }

    #[test]
    fn the_old_file_stays_until_the_new_one_is_complete() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("report.json");
        fs::write(&target, b"previous").unwrap();

        let mut out = Output::prepare(Some(&target), &[]).unwrap();
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no file made in the folder while the hunt reads it"
        );
        out.write_all(b"half").unwrap();
        out.flush().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"previous");
        drop(out); // a failed run: nothing committed
        assert_eq!(fs::read(&target).unwrap(), b"previous");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );

        let mut out = Output::prepare(Some(&target), &[]).unwrap();
        out.write_all(b"new").unwrap();
        out.commit().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_new_report_gets_ordinary_permissions_and_a_replaced_one_keeps_its_own() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("fresh.json");
        let out = Output::prepare(Some(&fresh), &[]).unwrap();
        out.commit().unwrap();
        let mode = fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o600, 0o600);
        assert_ne!(
            mode, 0o600,
            "not tempfile's private mode (umask permitting)"
        );

        let kept = dir.path().join("kept.json");
        fs::write(&kept, b"x").unwrap();
        fs::set_permissions(&kept, fs::Permissions::from_mode(0o640)).unwrap();
        Output::prepare(Some(&kept), &[]).unwrap().commit().unwrap();
        assert_eq!(
            fs::metadata(&kept).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }

    #[test]
    fn unwritable_places_fail_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no/such/folder/out.json");
        let e = Output::prepare(Some(&missing), &[]).err().unwrap();
        assert!(format!("{e:#}").contains("cannot write"), "{e:#}");
        let e = Output::prepare(Some(dir.path()), &[]).err().unwrap();
        assert!(e.to_string().contains("is a folder"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_written_in_place_not_replaced() {
        let out = Output::prepare(Some(Path::new("/dev/null")), &[]).unwrap();
        assert!(matches!(out.sink, Sink::InPlace(_)));
        out.commit().unwrap();
        assert!(!fs::metadata("/dev/null").unwrap().is_file());
    }

    #[test]
    fn closed_pipes_are_seen_through_wrappers() {
        let pipe = || io::Error::from(io::ErrorKind::BrokenPipe);
        assert!(is_broken_pipe(&anyhow::Error::from(pipe())));
        assert!(is_broken_pipe(
            &anyhow::Error::from(pipe()).context("cannot write the output")
        ));
        assert!(is_broken_pipe(&anyhow::Error::from(serde_json::Error::io(
            pipe()
        ))));
        assert!(is_broken_pipe(&anyhow::Error::from(csv::Error::from(
            pipe()
        ))));
        assert!(is_broken_pipe(&anyhow::Error::from(io::Error::other(
            csv::Error::from(pipe())
        ))));
        assert!(!is_broken_pipe(&anyhow::Error::from(io::Error::from(
            io::ErrorKind::PermissionDenied
        ))));
        assert!(!is_broken_pipe(&anyhow::anyhow!("broken pipe")));
    }
}
