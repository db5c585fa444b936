//! Baseline (b): render every record of every EVTX file to JSON with the `evtx` crate.
use bench_baselines::{args, evtx_files, settings};
use evtx::EvtxParser;

fn main() {
    let (paths, threads) = args();
    let (mut records, mut bytes, mut errors) = (0u64, 0u64, 0u64);
    for file in evtx_files(&paths) {
        let Ok(parser) = EvtxParser::from_path(&file) else {
            errors += 1;
            continue;
        };
        let mut parser = parser.with_configuration(settings(threads));
        for r in parser.records_json() {
            match r {
                Ok(r) => {
                    records += 1;
                    bytes += r.data.len() as u64;
                }
                Err(_) => errors += 1,
            }
        }
    }
    println!("records={records} json_bytes={bytes} errors={errors}");
}
