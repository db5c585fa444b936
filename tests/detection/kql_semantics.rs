//! `--semantics kql`: every operator edge of the seed query, pinned with synthetic events.

use crate::common;

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

// ---------------------------------------------------------------------------------------------
// Through the readers: each case is a Sentinel workspace exported as the query API's JSON and
// as the portal's CSV; both must give the rows the Kusto documentation gives.

use crate::sentinel;

use sentinel::{EventRow, SecurityRow, WindowsRow, Workspace, event_data, row, service_data};

const HOST: &str = "WIN-HOST";
const ALICE: &str = "CORP\\alice";
const DEL: &str = "%%1537\r\n\t\t\t\t%%1538\r\n\t\t\t\t";
const T0: &str = "2024-01-01T12:00:00.5Z";
const T1: &str = "2024-01-01T12:00:01.25Z";

/// A workspace of one 7045 (EventData as given) by alice and her DELETE-capable open of `Svc`.
fn one_install(data: String) -> Workspace {
    Workspace {
        event: vec![EventRow::install(T0, HOST, ALICE, data)],
        security: vec![SecurityRow::open(T1, HOST, ALICE, "Svc", DEL)],
        ..Workspace::default()
    }
}

#[test]
fn exports_give_the_plain_row() {
    let (rows, warnings) = one_install(service_data("Svc", "%SystemRoot%\\x.exe")).answer();
    assert_eq!(
        rows,
        [row(T0, T1, HOST, ALICE, "Svc", "%SystemRoot%\\x.exe")]
    );
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn parse_keeps_entities_and_cdata_as_written() {
    let exe = "cmd /c a &amp; b &gt; &quot;c&quot; &#x41; <![CDATA[<x>]]>";
    let (rows, _) = one_install(service_data("Svc", exe)).answer();
    assert_eq!(rows, [row(T0, T1, HOST, ALICE, "Svc", exe)]);
}

#[test]
fn an_unmatched_parse_keeps_the_row_with_empty_columns() {
    // `<Data Name="ImagePath" />` has no `</Data>`; whitespace between the two elements breaks
    // the adjacency the pattern asks for; a newline after the match (RE2's `.` stops at it,
    // and the pattern is anchored at the end) leaves nothing to match.
    for data in [
        event_data(
            r#"<Data Name="ServiceName">Svc</Data><Data Name="ImagePath" /><Data Name="StartType">x</Data>"#,
        ),
        event_data(r#"<Data Name="ServiceName">Svc</Data> <Data Name="ImagePath">p</Data>"#),
        event_data(
            "<Data Name=\"ServiceName\">Svc</Data><Data Name=\"ImagePath\">p</Data><Data Name=\"AccountName\">Local\nSystem</Data>",
        ),
        event_data(""),
    ] {
        let (rows, _) = one_install(data.clone()).answer();
        assert_eq!(rows, [row(T0, T1, HOST, ALICE, "", "")], "{data}");
    }
}

#[test]
fn parse_runs_on_across_other_elements_and_takes_the_first_match() {
    let data = event_data(
        r#"<Data Name="ServiceName">Svc</Data><Data Name="X">y</Data><Data Name="ImagePath">p</Data><Data Name="ServiceName">B</Data><Data Name="ImagePath">b</Data>"#,
    );
    let (rows, _) = one_install(data).answer();
    assert_eq!(
        rows,
        [row(
            T0,
            T1,
            HOST,
            ALICE,
            r#"Svc</Data><Data Name="X">y"#,
            "p"
        )]
    );
}

#[test]
fn join_keys_compare_byte_for_byte() {
    // One host per case, one service per host (arg_max groups by service across hosts).
    let ws = Workspace {
        event: vec![
            EventRow::install(T0, "H1", "N/A", service_data("S1", "a")),
            EventRow::install(T0, "H2", "-", service_data("S2", "b")),
            EventRow::install(T0, "H3", "CORP\\alice ", service_data("S3", "c")),
            EventRow::install(T0, "H4", ALICE, service_data("S4", "d")),
        ],
        security: vec![
            SecurityRow::open(T1, "H1", "N/A", "S1", DEL),
            SecurityRow::open(T1, "H2", "N/A", "S2", DEL),
            SecurityRow::open(T1, "H3", ALICE, "S3", DEL),
            // Account empty, the Subject columns naming alice: no fallback to them.
            SecurityRow {
                account: "",
                ..SecurityRow::open(T1, "H4", ALICE, "S4", DEL)
            },
        ],
        ..Workspace::default()
    };
    let (rows, _) = ws.answer();
    assert_eq!(rows, [row(T0, T1, "H1", "N/A", "S1", "a")]);
}

#[test]
fn rows_of_tables_the_seed_does_not_name_are_left_out_and_counted() {
    let ws = Workspace {
        event: vec![EventRow {
            event_id: 4674,
            ..EventRow::install(
                T1,
                HOST,
                ALICE,
                event_data(r#"<Data Name="AccessMask">%%1537</Data>"#),
            )
        }],
        security: vec![SecurityRow::open(T1, HOST, ALICE, "Svc", DEL)],
        windows: vec![WindowsRow {
            time: T0,
            computer: HOST,
            event_id: 7045,
            data: serde_json::json!({"ServiceName": "Svc", "ImagePath": "x.exe"}),
        }],
    };
    let (rows, warnings) = ws.answer();
    assert!(rows.is_empty(), "{rows:?}");
    assert_eq!(
        warnings,
        [
            "1 Event rows are not read by the seed query (it reads 7045 from Event and 4674 from \
             SecurityEvent); the default semantics read them",
            "1 WindowsEvent rows are not read by the seed query (it reads 7045 from Event and \
             4674 from SecurityEvent); the default semantics read them",
        ]
    );
}

#[test]
fn rows_differing_only_in_user_name_are_two_rows() {
    let data = service_data("Svc", "x.exe");
    let ws = Workspace {
        event: vec![
            EventRow::install(T0, HOST, ALICE, data.clone()),
            EventRow::install(T0, HOST, "CORP\\bob", data),
        ],
        security: vec![SecurityRow::open(T1, HOST, "CORP\\bob", "Svc", DEL)],
        ..Workspace::default()
    };
    let (rows, _) = ws.answer();
    assert_eq!(rows, [row(T0, T1, HOST, "CORP\\bob", "Svc", "x.exe")]);
}

#[test]
fn has_term_boundaries_are_unicode_letters_and_digits() {
    for (mask, joined) in [
        ("%%1537é", false),
        ("%%1537\u{0663}", false),
        ("%%1537\u{00b7}%%1538", true),
        ("x%%1537", true),
    ] {
        let ws = Workspace {
            security: vec![SecurityRow::open(T1, HOST, ALICE, "Svc", mask)],
            ..one_install(service_data("Svc", "x.exe"))
        };
        let (rows, _) = ws.answer();
        assert_eq!(rows.len(), usize::from(joined), "AccessMask {mask:?}");
    }
}

#[test]
fn arg_max_ties_prefer_the_same_service_then_the_earliest_open() {
    let ws = Workspace {
        security: vec![
            SecurityRow::open("2024-01-01T12:00:01Z", HOST, ALICE, "Other", DEL),
            SecurityRow::open("2024-01-01T12:00:05Z", HOST, ALICE, "SVC", DEL),
            SecurityRow::open("2024-01-01T12:00:03Z", HOST, ALICE, "svc", DEL),
        ],
        ..one_install(service_data("Svc", "x.exe"))
    };
    let (rows, _) = ws.answer();
    assert_eq!(
        rows,
        [row(T0, "2024-01-01T12:00:03Z", HOST, ALICE, "Svc", "x.exe")]
    );

    // Two hosts, the same service at the same second: the earliest open, then the smallest
    // Computer.
    let ws = Workspace {
        event: vec![
            EventRow::install(T0, "H2", ALICE, service_data("Svc", "b")),
            EventRow::install(T0, "H1", ALICE, service_data("Svc", "a")),
        ],
        security: vec![
            SecurityRow::open(T1, "H2", ALICE, "Svc", DEL),
            SecurityRow::open(T1, "H1", ALICE, "Svc", DEL),
        ],
        ..Workspace::default()
    };
    let (rows, _) = ws.answer();
    assert_eq!(rows, [row(T0, T1, "H1", ALICE, "Svc", "a")]);
}

#[test]
fn source_and_the_window_as_exported() {
    let ws = Workspace {
        event: vec![EventRow {
            source: "service control manager",
            ..EventRow::install(T0, HOST, ALICE, service_data("Svc", "x.exe"))
        }],
        ..one_install(String::new())
    };
    assert!(ws.answer().0.is_empty(), "Source == is case-sensitive");
    // 3 ms before, in the same second: kept; exactly 24 h after the floored second: kept.
    for target in ["2024-01-01T12:00:00.497Z", "2024-01-02T12:00:00.999Z"] {
        let ws = Workspace {
            security: vec![SecurityRow::open(
                Box::leak(target.to_string().into_boxed_str()),
                HOST,
                ALICE,
                "Svc",
                DEL,
            )],
            ..one_install(service_data("Svc", "x.exe"))
        };
        assert_eq!(ws.answer().0.len(), 1, "{target}");
    }
}
