//! A log written while it is read: after every [`EvtxWriter::sync`] the file on disk is a valid
//! EVTX holding every record written so far (checksums included), the open chunk too, and the
//! records written after a sync go on into the same chunk.

mod common;

use std::fs::File;

use evtx::{EvtxParser, ParserSettings};
use evtx_writer::{CHUNK_SIZE, EvtxWriter, FILE_HEADER_SIZE};

fn record_ids(path: &std::path::Path) -> Vec<u64> {
    let settings = ParserSettings::new()
        .validate_checksums(true)
        .num_threads(1);
    let mut parser = EvtxParser::from_path(path)
        .unwrap()
        .with_configuration(settings);
    parser
        .records_json()
        .map(|r| {
            r.expect("every record reads back, checksums valid")
                .event_record_id
        })
        .collect()
}

#[test]
fn every_sync_leaves_a_readable_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("System.evtx");
    let records = common::sample_records(40);
    let mut w = EvtxWriter::new(File::create(&path).unwrap()).unwrap();
    let mut synced_in_a_later_chunk = false;
    for (i, r) in records.iter().enumerate() {
        w.write_record(r).unwrap();
        if i % 7 == 3 && i + 1 < records.len() {
            w.sync().unwrap();
            let synced = i + 1;
            let ids = record_ids(&path);
            let want: Vec<u64> = records[..synced].iter().map(|r| r.record_id).collect();
            assert_eq!(ids, want, "after {synced} records");
            let len = std::fs::metadata(&path).unwrap().len() as usize;
            synced_in_a_later_chunk |= len > FILE_HEADER_SIZE + CHUNK_SIZE;
        }
    }
    assert!(
        synced_in_a_later_chunk,
        "the open chunk was not the first one at some sync"
    );
    let file = w.finish().unwrap();
    drop(file);
    let want: Vec<u64> = records.iter().map(|r| r.record_id).collect();
    assert_eq!(record_ids(&path), want);
    let len = std::fs::metadata(&path).unwrap().len() as usize;
    assert_eq!(
        (len - FILE_HEADER_SIZE) % CHUNK_SIZE,
        0,
        "whole chunks only"
    );
    assert!(len > FILE_HEADER_SIZE + CHUNK_SIZE, "the log spans chunks");
}
