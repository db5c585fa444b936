//! Baseline (d), the floor: read every chunk of every EVTX file and walk its record headers
//! (magic, size, record id, time), reading no BinXML. What any reader of the files pays at
//! least; `bench/run.sh` shows how far `svchunt hunt` is above it.
use bench_baselines::{args, evtx_files};
use rayon::prelude::*;

const FILE_HEADER: u64 = 4096;
const CHUNK: usize = 65536;

/// Records and the sum of their ids (so the walk is not optimised away) in one file.
fn walk(path: &std::path::Path) -> std::io::Result<(u64, u64)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let mut buf = vec![0u8; CHUNK];
    let (mut records, mut ids) = (0u64, 0u64);
    file.read_exact(&mut buf[..FILE_HEADER as usize])?;
    let mut offset = FILE_HEADER;
    while offset + CHUNK as u64 <= len {
        file.read_exact(&mut buf)?;
        offset += CHUNK as u64;
        if &buf[..8] != b"ElfChnk\0" {
            continue;
        }
        let u32_at = |at: usize| u32::from_le_bytes(buf[at..at + 4].try_into().expect("4"));
        let free = (u32_at(48) as usize).min(CHUNK);
        let mut at = 512;
        while at + 24 <= free && &buf[at..at + 4] == b"\x2a\x2a\x00\x00" {
            let size = u32_at(at + 4) as usize;
            if size < 28 || at + size > free {
                break;
            }
            ids = ids.wrapping_add(u64::from_le_bytes(
                buf[at + 8..at + 16].try_into().expect("8"),
            ));
            records += 1;
            at += size;
        }
    }
    Ok((records, ids))
}

fn main() {
    let (paths, threads) = args();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("threads");
    let files = evtx_files(&paths);
    let results: Vec<_> = pool.install(|| files.par_iter().map(|f| walk(f)).collect());
    let (mut records, mut ids, mut errors) = (0u64, 0u64, 0u64);
    for r in results {
        match r {
            Ok((n, s)) => {
                records += n;
                ids = ids.wrapping_add(s);
            }
            Err(_) => errors += 1,
        }
    }
    println!("records={records} id_sum={ids} errors={errors}");
}
