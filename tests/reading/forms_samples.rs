//! One small committed sample of every form svchunt reads besides EVTX and the exports it read
//! before (tests/fixtures/forms/), each read back here: the events of one lab execution (the
//! Metasploit psexec on WKS-0002: its logon, share accesses, install, DELETE-capable open and
//! Sysmon registry traces), written by the writers in tests/support/forms.rs.
//!
//! The samples are regenerated only on request: `SVCHUNT_BLESS=1 cargo test --test
//! forms_samples`. Otherwise the text samples are checked to be exactly what the writers write
//! now, so a sample can never drift from the code that documents its shape.

use crate::common;
use crate::forms;

use std::collections::BTreeSet;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use evtx_writer::{DataValue, EvtxWriter, Record, Sid, SystemFields};
use svchunt::{Collection, Event};

const HOST: &str = "WKS-0002.corp.example";

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/forms")
}

/// One PsExec execution on one host, as its logs tell it: the network logon, the install in
/// both logs, services.exe's DELETE-capable open, the service running and stopping, and Sysmon's
/// delete flag and key deletion. Built with the test builders, numbered here (the builders'
/// record numbers depend on which test ran first), so that the samples never change unless
/// their writers do.
fn sample_events() -> Vec<Event> {
    use common::{s4624, s4674, s4697, s7036, s7045, sysmon_registry};
    let sid = "S-1-5-21-1313477461-1818945594-2381834998-1311";
    let account = "CORP\\svc-backup";
    let logon = "0x3340dfa";
    let image = "%SystemRoot%\\PSEXESVC.exe";
    let key = "HKLM\\System\\CurrentControlSet\\Services\\PSEXESVC";
    let mut events = vec![
        s4624(
            "2024-05-06T08:22:00.391Z",
            HOST,
            sid,
            account,
            logon,
            "3",
            "10.66.6.6",
        ),
        s7045("2024-05-06T08:22:00.680Z", HOST, sid, "PSEXESVC", image),
        s4697(
            "2024-05-06T08:22:00.680Z",
            HOST,
            sid,
            account,
            logon,
            "PSEXESVC",
            image,
        ),
        s4674(
            "2024-05-06T08:22:00.681Z",
            HOST,
            sid,
            account,
            logon,
            "PSEXESVC",
            "%%1537\r\n\t\t\t\t%%1538\r\n\t\t\t\t",
        ),
        s7036("2024-05-06T08:22:00.702Z", HOST, "PSEXESVC", "running"),
        sysmon_registry(
            13,
            "2024-05-06T08:22:01.524Z",
            HOST,
            "SetValue",
            &format!("{key}\\DeleteFlag"),
        ),
        s7036("2024-05-06T08:22:01.610Z", HOST, "PSEXESVC", "stopped"),
        sysmon_registry(12, "2024-05-06T08:22:01.999Z", HOST, "DeleteKey", key),
    ];
    // Sysmon's 12 has no Details (the builder gives every registry event one).
    events[7].data.retain(|(k, _)| k != "Details");
    for (i, e) in events.iter_mut().enumerate() {
        let record = 1000 + i as u64;
        e.record_id = Some(record);
        e.origin.locator = svchunt::Locator::Record(record);
    }
    events
}

/// A small EVTX of `events` (one log), written by the project's EVTX writer.
pub(crate) fn evtx_of(events: &[Event]) -> Vec<u8> {
    let mut events = events.to_vec();
    events.sort_by_key(|e| e.record_id);
    evtx_of_records(events.iter().map(record_of))
}

/// A small EVTX of `records` (one log, in record id order).
pub(crate) fn evtx_of_records(records: impl IntoIterator<Item = Record>) -> Vec<u8> {
    let mut w = EvtxWriter::new(Cursor::new(Vec::new())).unwrap();
    for r in records {
        w.write_record(&r).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// The EVTX record of `e`, its data as strings.
pub(crate) fn record_of(e: &Event) -> Record {
    let header_sid = (e.channel != "Security")
        .then(|| e.user.sid.as_deref().and_then(|s| Sid::parse(s).ok()))
        .flatten();
    Record {
        record_id: e.record_id.unwrap(),
        time: e.time,
        system: SystemFields {
            provider: e.provider.clone(),
            provider_guid: None,
            event_source_name: None,
            event_id: e.event_id as u16,
            qualifiers: None,
            version: 0,
            level: 4,
            task: 0,
            opcode: 0,
            keywords: 0,
            activity_id: None,
            computer: e.computer.clone(),
            channel: e.channel.clone(),
            user_sid: header_sid,
            process_id: 4,
            thread_id: 8,
        },
        event_data: e
            .data
            .iter()
            .map(|(k, v)| (k.clone(), DataValue::str(v.clone())))
            .collect(),
    }
}

/// The sample's EVTX files: (log file name, bytes).
fn evtx_samples(events: &[Event]) -> Vec<(String, String, Vec<u8>)> {
    let logs = forms::by_log(events.to_vec());
    logs.iter()
        .map(|((_, channel), evs)| {
            (
                HOST.to_string(),
                format!("{}.evtx", channel.replace('/', "%4")),
                evtx_of(evs),
            )
        })
        .collect()
}

/// A 7z of `files`, the member data encrypted with AES (and its file list too when
/// `header`), as 7-Zip's `-p` (and `-mhe=on`) write it.
fn encrypted_7z(files: &[(String, String, Vec<u8>)], header: bool) -> Vec<u8> {
    use sevenz_rust2::encoder_options::AesEncoderOptions;
    use sevenz_rust2::{ArchiveEntry, ArchiveWriter, EncoderMethod, Password};
    let mut w = ArchiveWriter::new(Cursor::new(Vec::new())).unwrap();
    w.set_content_methods(vec![
        AesEncoderOptions {
            password: Password::new("infected"),
            iv: [7; 16],
            salt: [9; 16],
            num_cycles_power: 8,
        }
        .into(),
        EncoderMethod::LZMA2.into(),
    ]);
    w.set_encrypt_header(header);
    for (host, name, bytes) in files {
        w.push_archive_entry(
            ArchiveEntry::new_file(&format!("{host}/{name}")),
            Some(&bytes[..]),
        )
        .unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A plain 7z of `files` without times, so that the bytes are always the same.
fn plain_7z(files: &[(String, String, Vec<u8>)]) -> Vec<u8> {
    use sevenz_rust2::{ArchiveEntry, ArchiveWriter};
    let mut w = ArchiveWriter::new(Cursor::new(Vec::new())).unwrap();
    for (host, name, bytes) in files {
        w.push_archive_entry(
            ArchiveEntry::new_file(&format!("{host}/{name}")),
            Some(&bytes[..]),
        )
        .unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Every sample: (file name under tests/fixtures/forms, bytes).
fn samples() -> Vec<(String, Vec<u8>)> {
    let events = sample_events();
    let mut out: Vec<(String, Vec<u8>)> = forms::TEXT_FORMS
        .iter()
        .map(|(form, ext, write)| (format!("{form}.{ext}"), write(&events)))
        .collect();
    let files = evtx_samples(&events);
    let mut tar = tar::Builder::new(Vec::new());
    for (host, name, bytes) in &files {
        let mut h = tar::Header::new_ustar();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_715_000_000);
        h.set_cksum();
        tar.append_data(&mut h, format!("{host}/{name}"), &bytes[..])
            .unwrap();
    }
    let tar = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&tar).unwrap();
    out.push(("sample.tar.gz".into(), gz.finish().unwrap()));
    out.push(("sample.tar.bz2".into(), forms::bzip2(&tar)));
    out.push(("sample.tar.xz".into(), forms::xz(&tar)));
    out.push(("sample.7z".into(), plain_7z(&files)));
    out.push(("encrypted-members.7z".into(), encrypted_7z(&files, false)));
    out.push(("encrypted-listing.7z".into(), encrypted_7z(&files, true)));
    let security = &files.iter().find(|f| f.1 == "Security.evtx").unwrap().2;
    out.push(("Security.evtx.bz2".into(), forms::bzip2(security)));
    out.push(("Security.evtx.xz".into(), forms::xz(security)));
    out.push((
        "Collection-WKS-0002-2024-05-06T12-00-00Z.zip".into(),
        forms::velociraptor_zip(HOST, &files),
    ));
    for (_, name, bytes) in &files {
        out.push((
            format!("kape/2024-05-06T120000_WKS-0002/C/Windows/System32/winevt/Logs/{name}"),
            bytes.clone(),
        ));
    }
    out.push((
        "kape/2024-05-06T120000_WKS-0002/2024-05-06T12_00_00_1234567_CopyLog.csv".into(),
        b"CopiedTimestamp,SourceFile,DestinationFile,FileSize\n".to_vec(),
    ));
    out
}

#[test]
fn samples_are_what_the_writers_write() {
    let dir = samples_dir();
    let bless = std::env::var_os("SVCHUNT_BLESS").is_some();
    for (name, bytes) in samples() {
        let path = dir.join(&name);
        if bless {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
            continue;
        }
        let committed = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{name}: {e} (SVCHUNT_BLESS=1 writes the samples)"));
        // Text samples must be byte for byte what the writers write; binary ones are checked
        // by reading them (an archiver's bytes may change with its crate's version).
        if name.ends_with(".json")
            || name.ends_with(".ndjson")
            || name.ends_with(".xml")
            || name.ends_with(".csv")
        {
            assert!(
                committed == bytes,
                "{name} is not what its writer writes now (SVCHUNT_BLESS=1 rewrites it)"
            );
        }
    }
}

fn read(name: &str) -> Collection {
    common::read_paths(&[samples_dir().join(name)], None)
}

/// Record id, event id, computer, channel, non-empty data (sorted), header SID.
type Key = (
    Option<u64>,
    u32,
    String,
    String,
    Vec<(String, String)>,
    Option<String>,
);

/// What must survive every form: which record, of which log and host, with which data.
fn key(e: &Event) -> Key {
    let mut data: Vec<(String, String)> = e
        .data
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .cloned()
        .collect();
    data.sort();
    (
        e.record_id,
        e.event_id,
        e.computer.clone(),
        e.channel.clone(),
        data,
        e.user.sid.clone(),
    )
}

fn expected() -> BTreeSet<Key> {
    sample_events().iter().map(key).collect()
}

fn assert_reads_whole(name: &str) {
    let c = read(name);
    assert!(c.warnings.is_empty(), "{name}: {:#?}", c.warnings);
    assert!(!c.stats.has_losses(), "{name}: {:?}", c.stats);
    let got: BTreeSet<_> = c.events.iter().map(key).collect();
    assert_eq!(got, expected(), "{name}");
    for e in &c.events {
        assert!(
            e.origin.file.contains(name.split('/').next().unwrap()),
            "{e:?}"
        );
    }
}

#[test]
fn windows_own_exports() {
    assert_reads_whole("event-viewer-xml.xml");
    assert_reads_whole("wevtutil-xml-utf16.xml");
    assert_reads_whole("powershell-json.json");
}

#[test]
fn siem_exports() {
    assert_reads_whole("winlogbeat6.ndjson");
    assert_reads_whole("winlogbeat7.ndjson");
    assert_reads_whole("elastic-search.json");
    assert_reads_whole("splunk-json.json");
    assert_reads_whole("splunk-csv.csv");
    assert_reads_whole("sentinel-windowsevent.json");
}

#[test]
fn archives_and_collections() {
    for name in [
        "sample.tar.gz",
        "sample.tar.bz2",
        "sample.tar.xz",
        "sample.7z",
        "Collection-WKS-0002-2024-05-06T12-00-00Z.zip",
        "kape",
    ] {
        assert_reads_whole(name);
    }
    let c = read("Collection-WKS-0002-2024-05-06T12-00-00Z.zip");
    assert_eq!(
        c.stats.not_logs["collector bookkeeping files"], 5,
        "{:?}",
        c.stats.not_logs
    );
    assert!(
        c.events[0]
            .origin
            .file
            .contains("!uploads/auto/C%3A/Windows/System32/winevt/Logs/")
    );
    let c = read("kape");
    assert_eq!(c.stats.not_logs["collector bookkeeping files"], 1);
    // One log compressed alone.
    for name in ["Security.evtx.bz2", "Security.evtx.xz"] {
        let c = read(name);
        assert!(c.warnings.is_empty(), "{name}: {:#?}", c.warnings);
        let security = sample_events()
            .iter()
            .filter(|e| e.channel == "Security")
            .count();
        assert_eq!(c.events.len(), security, "{name}: the Security records");
        assert!(c.events.iter().all(|e| e.channel == "Security"));
    }
}

#[test]
fn encrypted_members_are_reported_and_counted_never_guessed() {
    let c = read("encrypted-members.7z");
    assert!(c.events.is_empty());
    assert_eq!(c.stats.files_skipped, 3, "{:#?}", c.warnings);
    assert_eq!(c.warnings.len(), 3);
    assert!(c.warnings[0].file.ends_with(
        "encrypted-members.7z!WKS-0002.corp.example/Microsoft-Windows-Sysmon%4Operational.evtx"
    ));
    assert!(
        c.warnings[0].message.starts_with("encrypted: not read"),
        "{:?}",
        c.warnings
    );
    let c = read("encrypted-listing.7z");
    assert_eq!(c.stats.files_skipped, 1);
    assert!(
        c.warnings[0].message.contains("file list encrypted"),
        "{:?}",
        c.warnings
    );
}

#[test]
fn a_collection_names_only_hosts_its_records_do_not() {
    // A Velociraptor collection of a log whose records carry no computer name.
    let mut events = sample_events();
    for e in &mut events {
        e.computer.clear();
    }
    let files = vec![(
        HOST.to_string(),
        "Security.evtx".to_string(),
        evtx_of(&events[..8]),
    )];
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("Collection-X.zip");
    std::fs::write(&zip, forms::velociraptor_zip(HOST, &files)).unwrap();
    let c = common::read_paths(&[zip], None);
    assert!(
        c.events.iter().all(|e| e.computer == HOST),
        "{:?}",
        c.events[0].computer
    );
    // Records that name their host keep it.
    let named = common::read_paths(
        &[samples_dir().join("Collection-WKS-0002-2024-05-06T12-00-00Z.zip")],
        None,
    );
    assert!(named.events.iter().all(|e| e.computer == HOST));
}
