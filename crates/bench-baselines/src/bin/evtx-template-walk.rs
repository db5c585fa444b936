//! Baseline (c): walk every record's template substitution values without rendering.
use bench_baselines::{args, evtx_files, settings};
use evtx::EvtxParser;

fn main() {
    let (paths, threads) = args();
    let (mut records, mut values, mut errors) = (0u64, 0u64, 0u64);
    for file in evtx_files(&paths) {
        let Ok(parser) = EvtxParser::from_path(&file) else {
            errors += 1;
            continue;
        };
        let mut parser = parser.with_configuration(settings(threads));
        let walked = parser.serialized_records(|r| {
            let r = r?;
            let n: usize = r.template_instances()?.iter().map(|t| t.values.len()).sum();
            Ok(n as u64)
        });
        for n in walked {
            match n {
                Ok(n) => {
                    records += 1;
                    values += n;
                }
                Err(_) => errors += 1,
            }
        }
    }
    println!("records={records} values={values} errors={errors}");
}
