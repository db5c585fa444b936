//! The JSON and CSV export readers, run end to end through `Engine::read_events` over one
//! fixture per format and container shape (tests/fixtures/exports/), and over the real OTRF
//! Security-Datasets archives of the shared corpus when it is present.

use crate::common;

use std::path::{Path, PathBuf};

use common::read_paths;
use jiff::tz::TimeZone;
use svchunt::{Collection, Engine, Event, LifecycleOptions, Locator};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/exports")
        .join(name)
}

fn read(name: &str) -> Collection {
    read_paths(&[fixture(name)], None)
}

/// The one event with this id (panics when there is not exactly one).
fn only(c: &Collection, event_id: u32) -> &Event {
    let found: Vec<&Event> = c.events.iter().filter(|e| e.event_id == event_id).collect();
    assert_eq!(found.len(), 1, "events with id {event_id}: {found:#?}");
    found[0]
}

fn ids(c: &Collection) -> Vec<u32> {
    c.events.iter().map(|e| e.event_id).collect()
}

fn assert_clean(c: &Collection) {
    assert!(
        c.warnings.is_empty(),
        "unexpected warnings: {:#?}",
        c.warnings
    );
    assert_eq!(c.stats.skipped_total(), 0);
    assert_eq!(c.stats.files_skipped, 0);
}

#[test]
fn evtx_dump_json_lines() {
    let c = read("evtx_dump.jsonl");
    assert_clean(&c);
    assert_eq!(ids(&c), [7045, 7036, 7036]);
    let install = only(&c, 7045);
    assert_eq!(install.time.to_string(), "2021-04-21T09:27:56.082Z");
    assert_eq!(install.computer, "jump01.offsec.lan");
    assert_eq!(install.provider, "Service Control Manager");
    assert_eq!(install.record_id, Some(45));
    assert_eq!(
        install.user.sid.as_deref(),
        Some("S-1-5-21-4230534742-2542757381-3142984815-1111")
    );
    assert_eq!(
        install.field("ImagePath"),
        Some("%SystemRoot%\\PSEXESVC.exe")
    );
    assert_eq!(install.origin.locator, Locator::Line(1));
    assert_eq!(c.events[2].field("param2"), Some("stopped"));
    assert_eq!(c.events[2].origin.locator, Locator::Line(3));
}

#[test]
fn evtx_dump_record_headers() {
    let c = read("evtx_dump_records.json");
    assert_clean(&c);
    assert_eq!(ids(&c), [4624, 4697]);
    let logon = only(&c, 4624);
    assert_eq!(logon.field("TargetLogonId"), Some("0x1376020"));
    assert_eq!(logon.field("LogonType"), Some("3"));
    assert_eq!(
        logon.origin.locator,
        Locator::Line(2),
        "the line of the record's opening brace"
    );
    let install = only(&c, 4697);
    assert_eq!(install.time.to_string(), "2021-04-21T09:40:32.363Z");
    assert_eq!(install.channel, "Security");
    assert_eq!(install.record_id, Some(1204));
    assert_eq!(install.user.name.as_deref(), Some("OFFSEC\\admmig"));
    assert!(matches!(install.origin.locator, Locator::Line(n) if n > 30));
}

#[test]
fn nxlog_security_datasets_lines() {
    let c = read("nxlog_security_datasets.jsonl");
    // NXLog times carry no zone: the run says once how it read them.
    assert_eq!(c.warnings.len(), 1);
    assert!(
        c.warnings[0].message.contains("without a zone"),
        "{}",
        c.warnings[0]
    );
    assert_eq!(c.stats.skipped_total(), 0);
    assert_eq!(c.events.len(), 5);

    let install = only(&c, 7045);
    assert_eq!(install.time.to_string(), "2020-09-20T12:16:56Z");
    assert_eq!(install.computer, "WORKSTATION6.theshire.local");
    assert_eq!(install.channel, "System");
    assert_eq!(install.field("ServiceName"), Some("Updater"));
    assert_eq!(install.user.name.as_deref(), Some("THESHIRE\\pgustavo"));
    assert_eq!(
        install.user.sid.as_deref(),
        Some("S-1-5-21-4228717743-1032521047-1810997296-1104")
    );
    assert_eq!(install.origin.locator, Locator::Line(2));
    for envelope in [
        "Message",
        "EventReceivedTime",
        "Hostname",
        "Keywords",
        "SourceModuleType",
        "@timestamp",
        "tags",
    ] {
        assert_eq!(
            install.field(envelope),
            None,
            "{envelope} is NXLog's, not the event's"
        );
    }

    let open = only(&c, 4674);
    assert_eq!(open.channel, "Security");
    assert_eq!(open.field("ObjectName"), Some("Updater"));
    assert!(open.field("AccessMask").unwrap().starts_with("%%1537\r\n"));

    let delete = only(&c, 13);
    assert_eq!(delete.channel, "Microsoft-Windows-Sysmon/Operational");
    assert!(
        delete
            .field("TargetObject")
            .unwrap()
            .ends_with("\\Services\\Updater\\DeleteFlag")
    );
    assert_eq!(delete.time.to_string(), "2020-09-20T12:16:57Z");

    assert_eq!(only(&c, 4624).field("IpAddress"), Some("172.18.39.5"));
    assert_eq!(only(&c, 4697).field("SubjectLogonId"), Some("0x2990d17"));
}

#[test]
fn nxlog_times_follow_the_local_zone_option() {
    let engine = Engine::lifecycle(LifecycleOptions::default())
        .local_time_zone(TimeZone::get("America/New_York").unwrap())
        .build()
        .unwrap();
    let c = engine.read_events(&[fixture("nxlog_security_datasets.jsonl")], None);
    assert_eq!(only(&c, 7045).time.to_string(), "2020-09-20T16:16:56Z");
}

#[test]
fn a_bad_line_in_the_middle_costs_only_that_line() {
    let c = read("nxlog_bad_line.jsonl");
    assert_eq!(ids(&c), [4624, 4674]);
    assert_eq!(c.stats.records_skipped["not JSON"], 1);
    assert_eq!(c.stats.records_skipped["no time"], 1);
    let located: Vec<(&str, &str)> = c
        .warnings
        .iter()
        .filter(|w| w.file.as_ref() != "(run)")
        .map(|w| (w.location.as_str(), w.message.split(':').next().unwrap()))
        .collect();
    assert_eq!(located, [("line 2", "not JSON"), ("line 3", "no time")]);
    assert!(
        c.warnings
            .iter()
            .all(|w| w.file.as_ref() == "(run)" || w.file.ends_with("nxlog_bad_line.jsonl"))
    );
    assert_eq!(only(&c, 4674).origin.locator, Locator::Line(4));
}

#[test]
fn sentinel_api_event_table() {
    let c = read("sentinel_api_event.json");
    assert_clean(&c);
    assert_eq!(ids(&c), [7045, 7036]);
    let install = only(&c, 7045);
    assert_eq!(install.time.to_string(), "2023-10-18T03:00:17.123Z");
    assert_eq!(install.computer, "WIN-FUDU2CKJOE8");
    assert_eq!(install.channel, "System");
    assert_eq!(install.provider, "Service Control Manager");
    assert_eq!(
        install.user.name.as_deref(),
        Some("WIN-FUDU2CKJOE8\\Administrator")
    );
    assert_eq!(
        install.field("ImagePath"),
        Some("%SystemRoot%\\PSEXESVC.exe")
    );
    assert_eq!(install.data.len(), 5);
    assert_eq!(install.origin.locator, Locator::Row(0));
    let state = only(&c, 7036);
    assert_eq!(state.field("param2"), Some("running"));
    assert!(state.user.is_empty(), "N/A is no user");
    assert_eq!(state.origin.locator, Locator::Row(1));
}

#[test]
fn sentinel_api_security_event_table() {
    let c = read("sentinel_api_securityevent.json");
    assert_clean(&c);
    assert_eq!(ids(&c), [5145, 4624, 4697, 4674]);
    let install = only(&c, 4697);
    assert_eq!(install.channel, "Security");
    assert_eq!(install.provider, "Microsoft-Windows-Security-Auditing");
    assert_eq!(install.user.name.as_deref(), Some("OFFSEC\\admmig"));
    assert_eq!(
        install.user.sid.as_deref(),
        Some("S-1-5-21-4230534742-2542757381-3142984815-1104")
    );
    assert_eq!(install.field("ServiceStartType"), Some("3"));
    assert_eq!(
        install.field("ServiceFileName"),
        Some("%SystemRoot%\\PSEXESVC.exe")
    );
    assert_eq!(install.field("Activity"), None);
    assert_eq!(
        install.field("LogonType"),
        None,
        "null columns are not fields"
    );
    assert_eq!(install.origin.locator, Locator::Row(1));
    assert_eq!(only(&c, 4624).field("LogonType"), Some("3"));
    assert_eq!(
        only(&c, 4674).field("AccessMask"),
        Some("%%1537\n\t\t\t\t%%1538\n\t\t\t\t")
    );
    let share = only(&c, 5145);
    assert_eq!(
        share.field("RelativeTargetName"),
        Some("PSEXESVC-WEC01-956-stdin")
    );
    assert_eq!(
        share.field("AccessList"),
        Some("%%1538\n\t\t\t\t%%1541\n\t\t\t\t%%4416\n\t\t\t\t")
    );
}

#[test]
fn az_cli_array_of_event_rows() {
    let c = read("sentinel_cli_event.json");
    assert_clean(&c);
    assert_eq!(ids(&c), [7045, 7036]);
    assert_eq!(only(&c, 7045).field("ServiceName"), Some("PSEXESVC"));
    assert_eq!(only(&c, 7045).field("TableName"), None);
    let stop = only(&c, 7036);
    assert_eq!(stop.time.to_string(), "2023-10-18T03:03:52.5Z");
    assert_eq!(stop.field("param2"), Some("stopped"));
    assert_eq!(stop.origin.locator, Locator::Row(1));
}

#[test]
fn portal_csv_export() {
    let c = read("sentinel_portal_event.csv");
    assert_clean(&c);
    assert_eq!(ids(&c), [7045, 7036]);
    let install = only(&c, 7045);
    assert_eq!(install.time.to_string(), "2023-10-18T03:00:17.123Z");
    assert_eq!(install.channel, "System");
    assert_eq!(
        install.field("ImagePath"),
        Some("%SystemRoot%\\PSEXESVC.exe")
    );
    assert_eq!(install.origin.locator, Locator::Line(2));
    assert_eq!(only(&c, 7036).origin.locator, Locator::Line(3));
}

#[test]
fn csv_row_with_a_missing_column() {
    let c = read("sentinel_missing_column.csv");
    assert_eq!(c.events.len(), 2);
    assert_eq!(c.stats.records_skipped["missing column"], 1);
    assert_eq!(c.warnings.len(), 1);
    assert_eq!(c.warnings[0].location, "line 3");
    assert!(
        c.warnings[0]
            .message
            .contains("6 fields where the header has 11"),
        "{}",
        c.warnings[0]
    );
    let late = &c.events[1];
    assert_eq!(late.field("ServiceName"), Some("BTOBTO"));
    assert_eq!(
        late.time.to_string(),
        "2021-04-21T21:42:10.5Z",
        "PM on a 12-hour clock"
    );
    assert_eq!(late.origin.locator, Locator::Line(4));
}

#[test]
fn windows_event_table() {
    let c = read("windows_event_api.json");
    assert_clean(&c);
    assert_eq!(ids(&c), [7045, 4697]);
    let install = only(&c, 7045);
    assert_eq!(install.channel, "System");
    assert_eq!(install.provider, "Service Control Manager");
    assert_eq!(install.record_id, Some(8841));
    assert_eq!(
        install.user.sid.as_deref(),
        Some("S-1-5-21-4230534742-2542757381-3142984815-1111")
    );
    assert!(
        install
            .field("ImagePath")
            .unwrap()
            .starts_with("%COMSPEC% /Q /c echo cd")
    );
    let audit = only(&c, 4697);
    assert_eq!(audit.record_id, Some(120455));
    assert_eq!(
        audit.user.name.as_deref(),
        Some("OFFSEC\\admmig"),
        "EventData given as a JSON string"
    );
    assert_eq!(audit.field("ServiceName"), Some("BTOBTO"));
}

#[test]
fn winlogbeat_ndjson() {
    let c = read("winlogbeat.ndjson");
    assert_clean(&c);
    assert_eq!(ids(&c), [4624, 7045, 4697]);
    let install = only(&c, 7045);
    assert_eq!(install.time.to_string(), "2021-12-13T12:55:45.112Z");
    assert_eq!(install.computer, "rootdc1.offsec.lan");
    assert_eq!(install.record_id, Some(3112));
    assert_eq!(install.user.name.as_deref(), Some("OFFSEC\\admmig"));
    assert_eq!(install.origin.locator, Locator::Line(1));
    let dotted = only(&c, 4697);
    assert_eq!(dotted.record_id, Some(90214));
    assert_eq!(dotted.field("SubjectLogonId"), Some("0x8e2a1f"));
    assert_eq!(
        dotted.user.sid.as_deref(),
        Some("S-1-5-21-4230534742-2542757381-3142984815-1104")
    );
    assert_eq!(only(&c, 4624).field("IpAddress"), Some("10.23.42.22"));
}

#[test]
fn selection_drops_unwanted_records_but_counts_them() {
    for (name, seen) in [
        ("nxlog_security_datasets.jsonl", 5),
        ("winlogbeat.ndjson", 3),
        ("evtx_dump.jsonl", 3),
        ("sentinel_api_securityevent.json", 4),
        ("sentinel_portal_event.csv", 2),
    ] {
        let c = read_paths(&[fixture(name)], Some(&[7045, 4697]));
        assert!(
            c.events.iter().all(|e| [7045, 4697].contains(&e.event_id)),
            "{name}"
        );
        assert_eq!(c.stats.records, seen, "{name}");
        assert_eq!(c.stats.records_selected as usize, c.events.len(), "{name}");
    }
}

#[test]
fn an_unknown_json_flavour_skips_the_file_with_one_warning() {
    let c = read("not_windows_events.jsonl");
    assert!(c.events.is_empty());
    assert_eq!(c.stats.files_skipped, 1);
    assert_eq!(c.warnings.len(), 1);
    assert_eq!(c.warnings[0].location, "line 1");
    assert!(
        c.warnings[0].message.contains("unrecognised JSON flavour"),
        "{}",
        c.warnings[0]
    );
}

#[test]
fn security_datasets_archives_read_without_loss() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let c = read_paths(&[corpus.join("Security-Datasets")], None);
    assert_eq!(c.stats.files_skipped, 0, "{:#?}", c.warnings);
    assert_eq!(c.stats.skipped_total(), 0, "{:#?}", c.stats.records_skipped);
    assert!(
        c.warnings.iter().all(|w| w.file.as_ref() == "(run)"),
        "{:#?}",
        c.warnings
    );
    // The ten archives hold 71,914 JSON lines, one record each.
    assert_eq!(c.stats.records, 71_914);
}

#[test]
fn empire_psexec_archive_yields_the_install_and_its_traces() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let zip = corpus.join(
        "Security-Datasets/datasets/atomic/windows/lateral_movement/host/empire_psexec_dcerpc_tcp_svcctl.zip",
    );
    let c = read_paths(&[zip], None);
    assert_eq!(c.stats.skipped_total(), 0);
    let install = only(&c, 7045);
    assert_eq!(install.field("ServiceName"), Some("Updater"));
    assert_eq!(install.computer, "WORKSTATION6.theshire.local");
    assert_eq!(install.time.to_string(), "2020-09-20T12:16:56Z");
    assert_eq!(install.user.name.as_deref(), Some("THESHIRE\\pgustavo"));
    assert!(
        install
            .origin
            .file
            .ends_with("empire_psexec_dcerpc_tcp_svcctl_2020-09-20121608.json")
    );
    assert_eq!(only(&c, 4697).field("ServiceName"), Some("Updater"));
    let opens: Vec<&Event> = c
        .events
        .iter()
        .filter(|e| e.event_id == 4674 && e.field("ObjectName") == Some("Updater"))
        .collect();
    assert_eq!(opens.len(), 1);
    assert!(opens[0].field("AccessMask").unwrap().contains("%%1537"));
    let deletes: Vec<&Event> = c
        .events
        .iter()
        .filter(|e| {
            e.event_id == 13
                && e.field("TargetObject")
                    .is_some_and(|t| t.ends_with("\\Updater\\DeleteFlag"))
        })
        .collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].channel, "Microsoft-Windows-Sysmon/Operational");
    // MANIFEST.md: 8 logons, 7 of them network logons.
    let logons: Vec<&Event> = c.events.iter().filter(|e| e.event_id == 4624).collect();
    assert_eq!(logons.len(), 8);
    assert_eq!(
        logons
            .iter()
            .filter(|e| e.field("LogonType") == Some("3"))
            .count(),
        7
    );
}

#[test]
fn records_without_a_record_number_differing_only_in_unkept_fields_stay_two() {
    // The TimeCreated variant of the Security-Datasets exports carries no RecordNumber; these
    // two differ only in Message, which no stage keeps (and the NXLog reader skips unread).
    let line = |msg: &str| {
        format!(
            r#"{{"SourceName":"Service Control Manager","TimeCreated":"2020-10-19 03:30:46.416","Hostname":"WORKSTATION5","Channel":"System","ServiceName":"PSEXESVC","ImagePath":"x.exe","EventID":7045,"Message":"{msg}"}}"#
        )
    };
    let text = format!("{}\n{}\n", line("first"), line("second"));
    let dir = tempfile::tempdir().unwrap();
    for sub in ["a", "copy-of-a"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
        std::fs::write(dir.path().join(sub).join("s.jsonl"), &text).unwrap();
    }
    let one = read_paths(&[dir.path().join("a")], None);
    assert_eq!(one.events.len(), 2, "distinct records are kept");
    assert_eq!(one.stats.duplicates, 0);
    // The same file copied twice is still read once.
    let both = read_paths(&[dir.path().to_path_buf()], None);
    assert_eq!(both.events.len(), 2);
    assert_eq!(both.stats.duplicates, 2);
    // And through a hunt's projection too (it drops Message after the identity is fixed).
    let hunted = read_paths(&[dir.path().to_path_buf()], Some(&[7045]));
    assert_eq!(hunted.events.len(), 2);
}
