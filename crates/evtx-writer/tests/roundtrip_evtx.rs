//! Written files read back with the `evtx` crate (the reference reader), checksums validated:
//! zero errors, every System and EventData field as written, and the template fast path
//! (`template_instances()[0].values[3]`) giving the UInt16 EventID.

mod common;

use std::io::Cursor;

use evtx::binxml::value_variant::BinXmlValue;
use evtx::{EvtxParser, ParserSettings};
use evtx_writer::{EvtxWriter, Record};
use serde_json::{Value, json};

fn write(records: &[Record]) -> Vec<u8> {
    let mut w = EvtxWriter::new(Cursor::new(Vec::new())).unwrap();
    for r in records {
        w.write_record(r).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn parser(bytes: Vec<u8>) -> EvtxParser<Cursor<Vec<u8>>> {
    EvtxParser::from_buffer(bytes).unwrap().with_configuration(
        ParserSettings::new()
            .validate_checksums(true)
            .num_threads(1),
    )
}

fn check_record(json: &Value, r: &Record) {
    let sys = &json["Event"]["System"];
    let s = &r.system;
    let id = match s.qualifiers {
        Some(q) => json!({"#attributes": {"Qualifiers": q}, "#text": s.event_id}),
        None => json!(s.event_id),
    };
    assert_eq!(sys["EventID"], id, "record {}", r.record_id);
    assert_eq!(sys["EventRecordID"], json!(r.record_id));
    assert_eq!(sys["Provider"]["#attributes"]["Name"], json!(s.provider));
    if let Some(g) = s.provider_guid {
        assert_eq!(sys["Provider"]["#attributes"]["Guid"], json!(g.to_string()));
    }
    if let Some(src) = &s.event_source_name {
        assert_eq!(
            sys["Provider"]["#attributes"]["EventSourceName"],
            json!(src)
        );
    }
    assert_eq!(sys["Version"], json!(s.version));
    assert_eq!(sys["Level"], json!(s.level));
    assert_eq!(sys["Task"], json!(s.task));
    assert_eq!(sys["Opcode"], json!(s.opcode));
    assert_eq!(sys["Keywords"], json!(format!("0x{:x}", s.keywords)));
    assert_eq!(
        sys["TimeCreated"]["#attributes"]["SystemTime"],
        json!(common::rfc3339_7(r.time))
    );
    assert_eq!(
        sys["Execution"]["#attributes"]["ProcessID"],
        json!(s.process_id)
    );
    assert_eq!(
        sys["Execution"]["#attributes"]["ThreadID"],
        json!(s.thread_id)
    );
    assert_eq!(sys["Channel"], json!(s.channel));
    assert_eq!(sys["Computer"], json!(s.computer));
    match &s.user_sid {
        Some(sid) => assert_eq!(
            sys["Security"]["#attributes"]["UserID"],
            json!(sid.to_string())
        ),
        None => assert_eq!(sys["Security"], Value::Null),
    }
    let data = &json["Event"]["EventData"];
    let obj = data.as_object().expect("EventData object");
    assert_eq!(
        obj.len(),
        r.event_data.len(),
        "record {}: {data}",
        r.record_id
    );
    for (name, v) in &r.event_data {
        assert_eq!(
            data[name],
            common::expected_json(v),
            "record {} field {name}",
            r.record_id
        );
    }
}

#[test]
fn every_event_type_round_trips_through_the_evtx_crate() {
    let records = common::sample_records(400);
    let bytes = write(&records);
    // Enough records to span several chunks.
    let chunks = (bytes.len() - 4096) / 65536;
    assert!(chunks >= 5, "only {chunks} chunks");

    let header = evtx::EvtxFileHeader::from_bytes(&bytes[..4096]).unwrap();
    assert!(header.validate_checksum());
    assert_eq!(usize::from(header.chunk_count), chunks);
    assert_eq!(header.next_record_id, records.last().unwrap().record_id + 1);
    assert_eq!(header.last_chunk_number, chunks as u64 - 1);

    let mut p = parser(bytes.clone());
    let mut n = 0;
    for (got, want) in p.records_json_value().zip(&records) {
        let got = got.unwrap_or_else(|e| panic!("record error: {e}"));
        assert_eq!(got.event_record_id, want.record_id);
        assert_eq!(
            got.timestamp,
            jiff::Timestamp::from_nanosecond(want.time.as_nanosecond() / 100 * 100).unwrap()
        );
        check_record(&got.data, want);
        n += 1;
    }
    assert_eq!(n, records.len());

    // Checksums, chunk by chunk, and the template fast path.
    let mut p = parser(bytes);
    let settings = std::sync::Arc::new(ParserSettings::new().validate_checksums(true));
    let mut seen = 0;
    for chunk in p.chunks() {
        let mut chunk = chunk.expect("chunk with valid checksums");
        assert!(chunk.validate_checksum());
        assert!(chunk.validate_header_checksum() && chunk.validate_data_checksum());
        let mut parsed = chunk.parse(settings.clone()).unwrap();
        for rec in parsed.iter() {
            let rec = rec.unwrap();
            let want = &records[seen];
            let inst = rec.template_instances().unwrap();
            assert_eq!(
                inst[0].values[3],
                BinXmlValue::UInt16Type(want.system.event_id)
            );
            assert_eq!(inst[0].values[10], BinXmlValue::UInt64Type(want.record_id));
            assert!(matches!(inst[0].values[6], BinXmlValue::FileTimeType(_)));
            match &want.system.user_sid {
                Some(_) => assert!(matches!(inst[0].values[12], BinXmlValue::SidType(_))),
                None => assert_eq!(inst[0].values[12], BinXmlValue::NullType),
            }
            seen += 1;
        }
    }
    assert_eq!(seen, records.len());
}

#[test]
fn xml_rendering_has_no_errors() {
    let records = common::sample_records(20);
    let mut p = parser(write(&records));
    let mut n = 0;
    for r in p.records() {
        let r = r.unwrap();
        assert!(r.data.contains("<EventData>"), "{}", r.data);
        n += 1;
    }
    assert_eq!(n, records.len());
}

#[test]
fn an_empty_file_is_a_valid_header() {
    let bytes = write(&[]);
    assert_eq!(bytes.len(), 4096);
    let header = evtx::EvtxFileHeader::from_bytes(&bytes).unwrap();
    assert!(header.validate_checksum());
    assert_eq!(header.chunk_count, 0);
    assert_eq!(header.next_record_id, 1);
}

#[test]
fn ids_must_increase_and_oversized_records_are_refused() {
    let records = common::sample_records(1);
    let mut w = EvtxWriter::new(Cursor::new(Vec::new())).unwrap();
    w.write_record(&records[1]).unwrap();
    assert!(w.write_record(&records[0]).is_err());
    let mut big = records[2].clone();
    big.record_id = 5000;
    // Over 65535 bytes of event data: more than a substitution holds.
    big.event_data = (0..3)
        .map(|i| {
            (
                format!("F{i}"),
                evtx_writer::DataValue::str("x".repeat(30000)),
            )
        })
        .collect();
    assert!(matches!(
        w.write_record(&big),
        Err(evtx_writer::WriteError::InvalidValue(_))
    ));
    // Within a substitution, but with the template definitions more than a chunk holds.
    big.event_data = vec![("F".into(), evtx_writer::DataValue::str("x".repeat(32000)))];
    assert!(matches!(
        w.write_record(&big),
        Err(evtx_writer::WriteError::RecordTooLarge { .. })
    ));
    // The writer is still usable, and what it wrote still reads.
    let mut next = records[3].clone();
    next.record_id = 6000;
    w.write_record(&next).unwrap();
    let bytes = w.finish().unwrap().into_inner();
    let mut p = parser(bytes);
    assert_eq!(p.records_json_value().filter(Result::is_ok).count(), 2);
}

/// A string array is read back as the crate expands it: its element repeated once per string
/// (JSON: an array of two or more, one string alone, an empty text for none), and the values
/// after it from where it ends.
#[test]
fn string_arrays_read_back_one_element_per_string() {
    use evtx_writer::DataValue;
    let mut records = common::sample_records(1);
    records.truncate(1);
    records[0].event_data = vec![
        (
            "Items".into(),
            DataValue::StringArray(vec!["a".into(), "b,c".into(), "".into()]),
        ),
        ("After".into(), DataValue::UInt32(7)),
        ("Empty".into(), DataValue::StringArray(vec![])),
        ("One".into(), DataValue::StringArray(vec!["x".into()])),
        ("Last".into(), DataValue::str("end")),
    ];
    let mut p = parser(write(&records));
    let got: Vec<Value> = p.records_json_value().map(|r| r.unwrap().data).collect();
    assert_eq!(got.len(), 1);
    check_record(&got[0], &records[0]);
    assert_eq!(
        got[0]["Event"]["EventData"]["Items"],
        json!(["a", "b,c", ""])
    );
}
