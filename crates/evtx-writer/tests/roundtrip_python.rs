//! Written files read back with python-evtx, an independent parser: every record's ids,
//! time, computer, channel, provider, UserID and data values as written, and every CRC32 as
//! python-evtx computes it. Skips (passing, with a message) when `import Evtx` fails; install
//! it with `pip install python-evtx`.

mod common;

use std::io::Cursor;
use std::process::Command;

use evtx_writer::{DataValue, EvtxWriter, to_filetime};
use serde_json::{Value, json};

fn python_evtx_available() -> bool {
    svchunt_testkit::python_has("Evtx")
}

fn expected_value(v: &DataValue) -> (&'static str, Value) {
    match v {
        DataValue::String(s) | DataValue::AnsiString(s) => ("str", json!(s)),
        DataValue::UInt8(x) => ("int", json!(x)),
        DataValue::UInt16(x) => ("int", json!(x)),
        DataValue::UInt32(x) | DataValue::HexInt32(x) => ("int", json!(x)),
        DataValue::UInt64(x) | DataValue::SizeT(x) | DataValue::HexInt64(x) => ("int", json!(x)),
        DataValue::Bool(b) => ("bool", json!(b)),
        DataValue::Binary(b) => (
            "bin",
            json!(b.iter().map(|x| format!("{x:02X}")).collect::<String>()),
        ),
        DataValue::Guid(g) => ("guid", json!(g.to_string())),
        DataValue::Sid(s) => ("sid", json!(s.to_string())),
        DataValue::StringArray(items) => ("strs", json!(items)),
        DataValue::FileTime(t) => ("filetime", json!(to_filetime(*t))),
    }
}

#[test]
fn python_evtx_reads_the_same_events() {
    if !python_evtx_available() {
        svchunt_testkit::skip("python-evtx is not installed (`pip install python-evtx`)");
        return;
    }
    let records = common::sample_records(100);
    let mut w = EvtxWriter::new(Cursor::new(Vec::new())).unwrap();
    for r in &records {
        w.write_record(r).unwrap();
    }
    let bytes = w.finish().unwrap().into_inner();
    let expected: Vec<Value> = records
        .iter()
        .map(|r| {
            json!({
                "record_id": r.record_id,
                "event_id": r.system.event_id,
                "filetime": to_filetime(r.time),
                "computer": r.system.computer,
                "channel": r.system.channel,
                "provider": r.system.provider,
                "user_sid": r.system.user_sid.as_ref().map(|s| s.to_string()),
                "data": r.event_data.iter().map(|(n, v)| {
                    let (kind, value) = expected_value(v);
                    json!([n, kind, value])
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sample.evtx");
    let exp = dir.path().join("expected.json");
    std::fs::write(&file, &bytes).unwrap();
    std::fs::write(&exp, serde_json::to_vec(&expected).unwrap()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/check_python_evtx.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(&file)
        .arg(&exp)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "python-evtx disagrees:\n{stdout}");
    assert!(stdout.contains(&format!(
        "python-evtx: {} records, 0 mismatches",
        records.len()
    )));
}
