//! Writers of every form svchunt reads, from events it read: the lab scenario's EVTX, read
//! once, written again as Windows' own exports (Event Viewer XML, `wevtutil` XML in UTF-16,
//! PowerShell `ConvertTo-Json`), SIEM exports (Winlogbeat 6 and 7, an Elastic `_search`
//! response, Splunk JSON and CSV with `XmlWinEventLog` `_raw`, Sentinel `WindowsEvent`), and
//! its EVTX files packed in every archive and collection layout (tar, tar.gz, tar.bz2, tar.xz,
//! 7z, lone .bz2 and .xz, a Velociraptor collection zip, a KAPE tree).
//!
//! Each shape follows the format's public documentation (field names and layouts are cited
//! in each writer); the values are the events' own, so a hunt over any form must find what the
//! hunt over the EVTX found.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use svchunt::Event;
use svchunt::read::windows_fields::{self, FieldType};

/// Events of one log of one host, in time order.
pub type Logs = BTreeMap<(String, String), Vec<Event>>;

/// Group events by (computer, channel).
pub fn by_log(events: Vec<Event>) -> Logs {
    let mut logs = Logs::new();
    for e in events {
        logs.entry((e.computer.clone(), e.channel.clone()))
            .or_default()
            .push(e);
    }
    logs
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Whitespace that XML would normalise in an attribute, kept exact in text.
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

fn short_host(computer: &str) -> &str {
    computer.split('.').next().unwrap_or(computer)
}

/// One event as Windows renders its XML (`EvtRender`, the `Event` schema).
pub fn event_xml(e: &Event) -> String {
    let mut x = String::from(
        "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System>",
    );
    x.push_str(&format!("<Provider Name=\"{}\"/>", xml_escape(&e.provider)));
    x.push_str(&format!("<EventID>{}</EventID>", e.event_id));
    x.push_str(&format!("<TimeCreated SystemTime=\"{}\"/>", e.time));
    if let Some(r) = e.record_id {
        x.push_str(&format!("<EventRecordID>{r}</EventRecordID>"));
    }
    x.push_str(&format!(
        "<Channel>{}</Channel><Computer>{}</Computer>",
        xml_escape(&e.channel),
        xml_escape(&e.computer)
    ));
    // The Security log's header names no user; its events carry the subject in their data.
    match (&e.user.sid, e.channel.as_str()) {
        (Some(sid), c) if c != "Security" => {
            x.push_str(&format!("<Security UserID=\"{}\"/>", xml_escape(sid)))
        }
        _ => x.push_str("<Security/>"),
    }
    x.push_str("</System><EventData>");
    for (k, v) in &e.data {
        x.push_str(&format!(
            "<Data Name=\"{}\">{}</Data>",
            xml_escape(k),
            xml_escape(v)
        ));
    }
    x.push_str("</EventData></Event>");
    x
}

/// Event Viewer's "Save All Events As…" XML: an `<Events>` root, UTF-8.
pub fn event_viewer_xml(events: &[Event]) -> Vec<u8> {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<Events>\r\n");
    for e in events {
        s.push_str(&event_xml(e));
        s.push_str("\r\n");
    }
    s.push_str("</Events>\r\n");
    s.into_bytes()
}

/// `wevtutil qe <log> /f:xml > file` from Windows PowerShell 5: a bare sequence of `<Event>`
/// elements, in UTF-16LE with a byte-order mark (what its `>` writes).
pub fn wevtutil_xml_utf16(events: &[Event]) -> Vec<u8> {
    let text: String = events.iter().map(event_xml).collect();
    let mut out = vec![0xff, 0xfe];
    out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

/// A `Properties` value as `ConvertTo-Json` (default `-Depth 2`) writes it: numbers as numbers
/// (logon ids and pointers were UInt64/IntPtr), SIDs as the `SecurityIdentifier` object.
fn property(value: &str, ty: FieldType) -> Value {
    match ty {
        FieldType::Hex => value
            .strip_prefix("0x")
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .map_or_else(|| json!(value), |n| json!(n)),
        FieldType::Decimal => value
            .parse::<u64>()
            .map_or_else(|_| json!(value), |n| json!(n)),
        FieldType::Sid => json!({"BinaryLength": 28, "AccountDomainSid": null, "Value": value}),
        FieldType::Text => json!(value),
    }
}

/// `Get-WinEvent -LogName <log> | ConvertTo-Json` (Windows PowerShell 5.1): an array of
/// `EventLogRecord`s, `TimeCreated` as `\/Date(ms)\/`, data as positional `Properties` in the
/// event's documented order.
pub fn powershell_json(events: &[Event]) -> Vec<u8> {
    let records: Vec<Value> = events
        .iter()
        .map(|e| {
            let props: Vec<Value> = match windows_fields::fields(&e.provider, e.event_id) {
                Some(table) => {
                    // Up to the last field the event has: later versions only append.
                    let last = table
                        .iter()
                        .rposition(|(n, _)| e.field(n).is_some())
                        .map_or(0, |i| i + 1);
                    table[..last]
                        .iter()
                        .map(|(n, ty)| json!({"Value": property(e.field(n).unwrap_or(""), *ty)}))
                        .collect()
                }
                None => e.data.iter().map(|(_, v)| json!({"Value": v})).collect(),
            };
            let user = match (&e.user.sid, e.channel.as_str()) {
                (Some(sid), c) if c != "Security" => {
                    json!({"BinaryLength": 12, "AccountDomainSid": null, "Value": sid})
                }
                _ => Value::Null,
            };
            json!({
                "Message": format!("(event {} message)", e.event_id),
                "Id": e.event_id,
                "Version": 0,
                "Qualifiers": null,
                "Level": 4,
                "RecordId": e.record_id,
                "ProviderName": e.provider,
                "LogName": e.channel,
                "MachineName": e.computer,
                "UserId": user,
                "TimeCreated": format!("/Date({})/", e.time.as_millisecond()),
                "LevelDisplayName": "Information",
                "Properties": props,
            })
        })
        .collect();
    // PowerShell 5 escapes `/` in the date as `\/`, which serde_json would not write.
    String::from_utf8(serde_json::to_vec_pretty(&records).unwrap())
        .unwrap()
        .replace("\"/Date(", "\"\\/Date(")
        .replace(")/\"", ")\\/\"")
        .into_bytes()
}

fn data_object(e: &Event) -> Value {
    Value::Object(e.data.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

fn iso_ms(e: &Event) -> String {
    // Elasticsearch dates are milliseconds.
    jiff::Timestamp::from_millisecond(e.time.as_millisecond())
        .unwrap()
        .to_string()
}

/// Winlogbeat 7's document (`winlog.*`, ECS `event.code`, `host.name`).
pub fn winlogbeat7_doc(e: &Event) -> Value {
    let mut winlog = json!({
        "event_id": e.event_id.to_string(),
        "channel": e.channel,
        "provider_name": e.provider,
        "computer_name": e.computer,
        "record_id": e.record_id,
        "api": "wineventlog",
        "event_data": data_object(e),
    });
    if let (Some(sid), false) = (&e.user.sid, e.channel == "Security") {
        winlog["user"] = json!({"identifier": sid});
    }
    json!({
        "@timestamp": iso_ms(e),
        "agent": {"type": "winlogbeat", "version": "7.17.0"},
        "event": {"code": e.event_id.to_string(), "provider": e.provider, "kind": "event"},
        "host": {"name": short_host(&e.computer).to_ascii_lowercase()},
        "log": {"level": "information"},
        "winlog": winlog,
    })
}

/// Winlogbeat 7 NDJSON (its file output, or an Elasticsearch export).
pub fn winlogbeat7_ndjson(events: &[Event]) -> Vec<u8> {
    ndjson(events.iter().map(winlogbeat7_doc))
}

/// Winlogbeat 6: the Windows fields at the top level (`computer_name`, `event_id`,
/// `log_name`, `source_name`, `record_number`, `event_data`, `user.identifier`).
pub fn winlogbeat6_ndjson(events: &[Event]) -> Vec<u8> {
    ndjson(events.iter().map(|e| {
        let mut doc = json!({
            "@timestamp": iso_ms(e),
            "beat": {"hostname": short_host(&e.computer), "name": "winlogbeat", "version": "6.8.0"},
            "computer_name": e.computer,
            "event_id": e.event_id,
            "log_name": e.channel,
            "source_name": e.provider,
            "record_number": e.record_id.map(|r| r.to_string()),
            "level": "Information",
            "type": "wineventlog",
            "event_data": data_object(e),
        });
        if let (Some(sid), false) = (&e.user.sid, e.channel == "Security") {
            doc["user"] = json!({"identifier": sid, "type": "Well Known Group"});
        }
        doc
    }))
}

/// An Elasticsearch `_search` response over Winlogbeat 7 documents.
pub fn elastic_search(events: &[Event]) -> Vec<u8> {
    let hits: Vec<Value> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            json!({"_index": "winlogbeat-7.17.0", "_id": format!("doc{i}"), "_score": 1.0,
                   "_source": winlogbeat7_doc(e)})
        })
        .collect();
    serde_json::to_vec(&json!({
        "took": 12, "timed_out": false,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": hits.len(), "relation": "eq"}, "max_score": 1.0, "hits": hits},
    }))
    .unwrap()
}

fn splunk_result(e: &Event) -> Value {
    json!({
        "_raw": event_xml(e),
        "_time": e.time.to_string(),
        "host": short_host(&e.computer),
        "index": "wineventlog",
        "source": format!("XmlWinEventLog:{}", e.channel),
        "sourcetype": "XmlWinEventLog",
    })
}

/// Splunk's "Export results… JSON": one `{"preview":false,"result":{…}}` per line.
pub fn splunk_json(events: &[Event]) -> Vec<u8> {
    ndjson(
        events
            .iter()
            .map(|e| json!({"preview": false, "result": splunk_result(e)})),
    )
}

/// Splunk's "Export results… CSV" of `_raw`, `_time` and `host`.
pub fn splunk_csv(events: &[Event]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["_raw", "_time", "host", "source", "sourcetype"])
        .unwrap();
    for e in events {
        let r = splunk_result(e);
        let f = |k: &str| r[k].as_str().unwrap_or_default().to_string();
        w.write_record([
            f("_raw"),
            f("_time"),
            f("host"),
            f("source"),
            f("sourcetype"),
        ])
        .unwrap();
    }
    w.into_inner().unwrap()
}

/// A Log Analytics query API response over the Azure Monitor Agent's `WindowsEvent` table
/// (`EventData` as a dynamic object).
pub fn sentinel_windows_event(events: &[Event]) -> Vec<u8> {
    let columns = [
        ("TimeGenerated", "datetime"),
        ("Computer", "string"),
        ("EventID", "int"),
        ("Channel", "string"),
        ("Provider", "string"),
        ("EventRecordId", "string"),
        ("SystemUserId", "string"),
        ("TimeCreated", "datetime"),
        ("EventData", "dynamic"),
        ("Type", "string"),
    ];
    let rows: Vec<Value> = events
        .iter()
        .map(|e| {
            let sid = if e.channel == "Security" {
                None
            } else {
                e.user.sid.clone()
            };
            json!([
                e.time.to_string(),
                e.computer,
                e.event_id,
                e.channel,
                e.provider,
                e.record_id.map(|r| r.to_string()),
                sid,
                e.time.to_string(),
                data_object(e),
                "WindowsEvent"
            ])
        })
        .collect();
    let cols: Vec<Value> = columns
        .iter()
        .map(|(n, t)| json!({"name": n, "type": t}))
        .collect();
    serde_json::to_vec(
        &json!({"tables": [{"name": "PrimaryResult", "columns": cols, "rows": rows}]}),
    )
    .unwrap()
}

fn ndjson(docs: impl Iterator<Item = Value>) -> Vec<u8> {
    let mut out = Vec::new();
    for d in docs {
        serde_json::to_writer(&mut out, &d).unwrap();
        out.push(b'\n');
    }
    out
}

/// The text forms: (folder name, file extension, writer), one file per host and log.
pub type Writer = fn(&[Event]) -> Vec<u8>;

/// Every text form.
pub const TEXT_FORMS: &[(&str, &str, Writer)] = &[
    ("event-viewer-xml", "xml", event_viewer_xml),
    ("wevtutil-xml-utf16", "xml", wevtutil_xml_utf16),
    ("powershell-json", "json", powershell_json),
    ("winlogbeat6", "ndjson", winlogbeat6_ndjson),
    ("winlogbeat7", "ndjson", winlogbeat7_ndjson),
    ("elastic-search", "json", elastic_search),
    ("splunk-json", "json", splunk_json),
    ("splunk-csv", "csv", splunk_csv),
    ("sentinel-windowsevent", "json", sentinel_windows_event),
];

fn log_file_name(channel: &str) -> String {
    channel.replace('/', "%4")
}

/// Write every text form of `logs` under `root/<form>/<host>/<log>.<ext>`.
pub fn write_text_forms(logs: &Logs, root: &Path) -> Vec<(String, PathBuf)> {
    TEXT_FORMS
        .iter()
        .map(|(form, ext, write)| {
            let dir = root.join(form);
            for ((host, channel), events) in logs {
                let d = dir.join(host);
                fs::create_dir_all(&d).unwrap();
                fs::write(
                    d.join(format!("{}.{ext}", log_file_name(channel))),
                    write(events),
                )
                .unwrap();
            }
            (form.to_string(), dir)
        })
        .collect()
}

/// The EVTX files of a lab folder: (host folder, file name, bytes).
pub fn evtx_files(lab: &Path) -> Vec<(String, String, Vec<u8>)> {
    let mut out = Vec::new();
    for host in fs::read_dir(lab).unwrap().flatten() {
        if !host.file_type().unwrap().is_dir() {
            continue;
        }
        for f in fs::read_dir(host.path()).unwrap().flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            if name.ends_with(".evtx") {
                out.push((
                    host.file_name().to_string_lossy().into_owned(),
                    name,
                    fs::read(f.path()).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

fn tar_of(files: &[(String, String, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (host, name, bytes) in files {
        let mut h = tar::Header::new_ustar();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_715_000_000);
        h.set_cksum();
        b.append_data(&mut h, format!("{host}/{name}"), &bytes[..])
            .unwrap();
    }
    b.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    w.write_all(bytes).unwrap();
    w.finish().unwrap()
}

pub fn bzip2(bytes: &[u8]) -> Vec<u8> {
    let mut w = ::bzip2::write::BzEncoder::new(Vec::new(), ::bzip2::Compression::fast());
    w.write_all(bytes).unwrap();
    w.finish().unwrap()
}

pub fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut w =
        lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(1)).unwrap();
    w.write_all(bytes).unwrap();
    w.finish().unwrap()
}

/// Velociraptor's offline collection zip: `uploads/auto/C%3A/Windows/System32/winevt/Logs/…`
/// beside its bookkeeping (`client_info.json`, `collection_context.json`, `log.json`,
/// `uploads.json`), as its collector writes them. `client_info.json` names the host.
pub fn velociraptor_zip(host: &str, files: &[(String, String, Vec<u8>)]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut add = |name: &str, data: &[u8]| {
        z.start_file(name, opts).unwrap();
        z.write_all(data).unwrap();
    };
    add(
        "client_info.json",
        json!({"Hostname": short_host(host), "Fqdn": host, "Name": "velociraptor"})
            .to_string()
            .as_bytes(),
    );
    add(
        "collection_context.json",
        json!({"session_id": "F.LAB", "request": {"artifacts": ["Windows.KapeFiles.Targets"]}, "state": 2})
            .to_string()
            .as_bytes(),
    );
    add(
        "log.json",
        b"{\"_ts\":1715000000,\"level\":\"DEFAULT\",\"message\":\"Starting collection\\n\"}\n",
    );
    let mut uploads = Vec::new();
    for (_, name, bytes) in files {
        let member = format!("uploads/auto/C%3A/Windows/System32/winevt/Logs/{name}");
        uploads.extend_from_slice(
            json!({"vfs_path": format!("C:/Windows/System32/winevt/Logs/{name}"), "file_size": bytes.len()})
                .to_string()
                .as_bytes(),
        );
        uploads.push(b'\n');
        add(&member, bytes);
    }
    add("uploads.json", &uploads);
    add(
        "results/Windows.KapeFiles.Targets%2FUploads.json",
        b"{\"Type\":\"auto\"}\n",
    );
    z.finish().unwrap().into_inner()
}

/// Every archive and collection form of a lab folder, written under `root/<form>/`.
pub fn write_archive_forms(lab: &Path, root: &Path) -> Vec<(String, PathBuf)> {
    let files = evtx_files(lab);
    let tar = tar_of(&files);
    let mut forms = Vec::new();
    let mut single = |form: &str, file: &str, bytes: Vec<u8>| {
        let dir = root.join(form);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(file), bytes).unwrap();
        forms.push((form.to_string(), dir));
    };
    single("tar", "lab.tar", tar.clone());
    single("tar-gz", "lab.tar.gz", gzip(&tar));
    single("tgz", "lab.tgz", gzip(&tar));
    single("tar-bz2", "lab.tar.bz2", bzip2(&tar));
    single("tar-xz", "lab.tar.xz", xz(&tar));
    // 7z, written by the same crate that reads it.
    let staging = root.join("7z-staging");
    for (host, name, bytes) in &files {
        fs::create_dir_all(staging.join(host)).unwrap();
        fs::write(staging.join(host).join(name), bytes).unwrap();
    }
    let dir = root.join("7z");
    fs::create_dir_all(&dir).unwrap();
    sevenz_rust2::compress_to_path(&staging, dir.join("lab.7z")).unwrap();
    fs::remove_dir_all(&staging).unwrap();
    forms.push(("7z".into(), dir));
    // Each log compressed on its own.
    for (form, ext, pack) in [
        ("bz2", "bz2", bzip2 as fn(&[u8]) -> Vec<u8>),
        ("xz", "xz", xz),
    ] {
        let dir = root.join(form);
        for (host, name, bytes) in &files {
            fs::create_dir_all(dir.join(host)).unwrap();
            fs::write(dir.join(host).join(format!("{name}.{ext}")), pack(bytes)).unwrap();
        }
        forms.push((form.into(), dir));
    }
    // One Velociraptor collection per host.
    let dir = root.join("velociraptor");
    fs::create_dir_all(&dir).unwrap();
    let mut hosts: Vec<&String> = files.iter().map(|(h, _, _)| h).collect();
    hosts.dedup();
    for host in hosts {
        let mine: Vec<_> = files
            .iter()
            .filter(|(h, _, _)| h == host)
            .cloned()
            .collect();
        let stamp = "2024-05-06T12-00-00Z";
        fs::write(
            dir.join(format!("Collection-{}-{stamp}.zip", short_host(host))),
            velociraptor_zip(host, &mine),
        )
        .unwrap();
    }
    forms.push(("velociraptor".into(), dir));
    // A KAPE target tree per host, with KAPE's own copy log beside it.
    let dir = root.join("kape");
    for (host, name, bytes) in &files {
        let logs = dir
            .join(format!("2024-05-06T120000_{}", short_host(host)))
            .join("C/Windows/System32/winevt/Logs");
        fs::create_dir_all(&logs).unwrap();
        fs::write(logs.join(name), bytes).unwrap();
        let copy_log = dir
            .join(format!("2024-05-06T120000_{}", short_host(host)))
            .join("2024-05-06T12_00_00_1234567_CopyLog.csv");
        fs::write(
            copy_log,
            "CopiedTimestamp,SourceFile,DestinationFile,FileSize\n",
        )
        .unwrap();
    }
    forms.push(("kape".into(), dir));
    forms
}
