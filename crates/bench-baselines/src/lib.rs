//! Shared plumbing of the baseline programs that `bench/run.sh` times beside `svchunt hunt`:
//! `evtx-render-json` renders every record to JSON with the `evtx` crate (what most EVTX hunting
//! tools do), `evtx-template-walk` walks every record's template substitution values without
//! rendering (the cheapest full pass the crate offers), `evtx-header-walk` reads every chunk and
//! walks its record headers without the crate or any BinXML (the floor any reader pays). All
//! read the same files with the same thread count as svchunt, so the ratios compare like with
//! like.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use evtx::ParserSettings;

/// `PATH... [--threads N]` from the command line.
pub fn args() -> (Vec<PathBuf>, usize) {
    let mut paths = Vec::new();
    let mut threads = 0;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        if a == "--threads" || a == "-j" {
            threads = it.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        } else {
            paths.push(PathBuf::from(a));
        }
    }
    if threads == 0 {
        threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    }
    (paths, threads)
}

/// Every file under `paths` that starts with the EVTX magic, sorted.
pub fn evtx_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = paths
        .iter()
        .flat_map(|p| walkdir::WalkDir::new(p).sort_by_file_name())
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| {
            let mut magic = [0u8; 8];
            std::fs::File::open(p)
                .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
                .is_ok()
                && &magic == b"ElfFile\0"
        })
        .collect();
    files.sort();
    files
}

/// Parser settings for `threads` chunk workers, no indentation.
pub fn settings(threads: usize) -> ParserSettings {
    ParserSettings::new().num_threads(threads).indent(false)
}
