//! `--semantics kql`: every operator edge of the seed query, pinned with synthetic events.

mod common;

use common::*;
use svchunt::kql::{KqlConfig, KqlRow, bin, has};

const SID: &str = "S-1-5-21-1-2-3-1104";
const ACCOUNT: &str = "THESHIRE\\pgustavo";
const DELETE_MASK: &str = "%%1537\r\n\t\t\t\t%%1538\r\n\t\t\t\t";

fn run(events: Vec<svchunt::Event>) -> Vec<KqlRow> {
    hunt_kql(KqlConfig::default(), events)
}

/// A 7045 and a 4674 by the same account on `host`; the 4674 also teaches the SID's name.
fn pair(
    host: &str,
    created: &str,
    opened: &str,
    service: &str,
    object: &str,
) -> Vec<svchunt::Event> {
    vec![
        s7045(created, host, SID, service, "%SystemRoot%\\x.exe"),
        s4674(opened, host, SID, ACCOUNT, "0x1", object, DELETE_MASK),
    ]
}

#[test]
fn deletion_logged_3ms_before_creation_in_the_same_second_is_kept() {
    let rows = run(pair(
        "H",
        "2024-01-01T12:00:00.500Z",
        "2024-01-01T12:00:00.497Z",
        "Svc",
        "Svc",
    ));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].target_time, t("2024-01-01T12:00:00.497Z"));
}

#[test]
fn deletion_logged_1_2s_before_across_a_second_boundary_is_dropped() {
    let rows = run(pair(
        "H",
        "2024-01-01T12:00:01.100Z",
        "2024-01-01T11:59:59.900Z",
        "Svc",
        "Svc",
    ));
    assert!(rows.is_empty());
}

#[test]
fn exactly_24h_is_kept_and_a_second_more_is_not() {
    let kept = run(pair(
        "H",
        "2024-01-01T12:00:00.900Z",
        "2024-01-02T12:00:00.100Z",
        "Svc",
        "Svc",
    ));
    assert_eq!(
        kept.len(),
        1,
        "floored delta is exactly 24h: between is inclusive"
    );
    let dropped = run(pair(
        "H",
        "2024-01-01T12:00:00.900Z",
        "2024-01-02T12:00:01.000Z",
        "Svc",
        "Svc",
    ));
    assert!(dropped.is_empty());
}

#[test]
fn two_hosts_with_the_same_service_name_give_one_row_the_newest() {
    let mut events = pair(
        "HOST-A",
        "2024-01-01T10:00:00Z",
        "2024-01-01T10:00:01Z",
        "PSEXESVC",
        "PSEXESVC",
    );
    events.extend(pair(
        "HOST-B",
        "2024-01-01T11:00:00Z",
        "2024-01-01T11:00:01Z",
        "PSEXESVC",
        "PSEXESVC",
    ));
    let rows = run(events);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].computer, "HOST-B");
}

#[test]
fn a_4674_on_a_different_service_by_the_same_user_is_joined() {
    let rows = run(pair(
        "H",
        "2024-01-01T12:00:00Z",
        "2024-01-01T12:30:00Z",
        "NewSvc",
        "RemoteRegistry",
    ));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].installed_service, "NewSvc");
}

#[test]
fn the_user_key_is_the_resolved_name_of_the_7045_sid() {
    let rows = run(pair(
        "H",
        "2024-01-01T12:00:00Z",
        "2024-01-01T12:00:00Z",
        "Svc",
        "Svc",
    ));
    assert_eq!(rows[0].user_name, ACCOUNT);
    // Without any Security event naming the SID, the 7045 keeps its SID and joins nothing.
    let lone = run(vec![
        s7045(
            "2024-01-01T12:00:00Z",
            "H",
            "S-1-5-21-9-9-9-500",
            "Svc",
            "x.exe",
        ),
        s4674(
            "2024-01-01T12:00:00Z",
            "H",
            SID,
            ACCOUNT,
            "0x1",
            "Svc",
            DELETE_MASK,
        ),
    ]);
    assert!(lone.is_empty());
}

#[test]
fn computer_and_source_compare_case_sensitively() {
    let mut events = pair(
        "HOST",
        "2024-01-01T12:00:00Z",
        "2024-01-01T12:00:00Z",
        "Svc",
        "Svc",
    );
    events[1].computer = "host".into();
    assert!(run(events).is_empty(), "join keys are case-sensitive");
    let mut events = pair(
        "HOST",
        "2024-01-01T12:00:00Z",
        "2024-01-01T12:00:00Z",
        "Svc",
        "Svc",
    );
    events[0].provider = "service control manager".into();
    assert!(run(events).is_empty(), "Source == is case-sensitive");
}

#[test]
fn access_mask_must_hold_the_delete_term() {
    let mut events = pair(
        "H",
        "2024-01-01T12:00:00Z",
        "2024-01-01T12:00:00Z",
        "Svc",
        "Svc",
    );
    events[1].data.retain(|(k, _)| k != "AccessMask");
    events[1]
        .data
        .push(("AccessMask".into(), "%%15370 %%1538".into()));
    assert!(run(events).is_empty());
}

#[test]
fn arg_max_ties_go_to_the_earliest_target_time() {
    let mut events = pair(
        "H",
        "2024-01-01T12:00:00Z",
        "2024-01-01T13:00:00Z",
        "Svc",
        "Svc",
    );
    events.push(s4674(
        "2024-01-01T12:00:00.2Z",
        "H",
        SID,
        ACCOUNT,
        "0x1",
        "Svc",
        DELETE_MASK,
    ));
    let rows = run(events);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].target_time, t("2024-01-01T12:00:00.2Z"));
}

#[test]
fn rows_sort_newest_first_like_kusto_sort_by() {
    let mut events = pair(
        "H",
        "2024-01-01T10:00:00Z",
        "2024-01-01T10:00:00Z",
        "Old",
        "Old",
    );
    events.extend(pair(
        "H",
        "2024-01-01T11:00:00Z",
        "2024-01-01T11:00:00Z",
        "New",
        "New",
    ));
    let rows = run(events);
    let names: Vec<&str> = rows.iter().map(|r| r.installed_service.as_str()).collect();
    assert_eq!(names, ["New", "Old"]);
}

#[test]
fn parse_reads_the_xml_text_so_ampersands_come_out_escaped() {
    let image = "%COMSPEC% /Q /c echo cd ^> \\\\127.0.0.1\\C$\\__output 2^>^&1 & del x.bat";
    let rows = run(vec![
        s7045("2024-01-01T12:00:00Z", "H", SID, "BTOBTO", image),
        s4674(
            "2024-01-01T12:00:00Z",
            "H",
            SID,
            ACCOUNT,
            "0x1",
            "BTOBTO",
            DELETE_MASK,
        ),
    ]);
    assert_eq!(
        rows[0].exe,
        "%COMSPEC% /Q /c echo cd ^&gt; \\\\127.0.0.1\\C$\\__output 2^&gt;^&amp;1 &amp; del x.bat"
    );
}

#[test]
fn bin_floors_from_the_epoch_even_before_it() {
    let s = jiff::SignedDuration::from_secs(1);
    assert_eq!(
        bin(t("2024-01-01T12:00:00.999Z"), s),
        t("2024-01-01T12:00:00Z")
    );
    assert_eq!(
        bin(t("1969-12-31T23:59:59.5Z"), s),
        t("1969-12-31T23:59:59Z")
    );
}

#[test]
fn has_matches_whole_terms_case_insensitively() {
    assert!(has("North America", "america"));
    assert!(!has("North America", "amer"));
    assert!(has("%%1537\r\n%%1538", "%%1537"));
    assert!(!has("%%15370", "%%1537"));
    assert!(has("x ADMIN$ y", "admin$"));
}
