//! The HTML report without a browser: same bytes each time, untrusted strings only ever inside
//! the escaped JSON, nothing fetched from anywhere, and the CLI writes it. What the page draws
//! from it is checked in `report_browser.rs`.

use crate::report_scenario;

use assert_cmd::Command;
use report_scenario::*;
use svchunt::emit::graph;

/// The JSON document embedded in a report.
fn embedded(html: &str) -> serde_json::Value {
    let open = "<script type=\"application/json\" id=\"svchunt-data\">";
    let start = html.find(open).expect("data element") + open.len();
    let end = start + html[start..].find("</script>").expect("data element end");
    serde_json::from_str(&html[start..end]).expect("embedded JSON parses")
}

#[test]
fn same_findings_give_the_same_bytes() {
    // (The small scenario's record ids come from a global counter, so it is rendered twice from
    // one correlation; the generated set is the same each time it is built.)
    let small = small();
    assert!(
        render(&small) == render(&small.clone()),
        "small scenario differs"
    );
    assert!(
        render(&big(300)) == render(&big(300)),
        "generated set differs"
    );
}

#[test]
fn untrusted_strings_never_appear_as_markup() {
    let html = render(&small());
    for raw in [IMG_NAME, SCRIPT_PATH, MARKUP_ACCOUNT, "<img", "<svg onload"] {
        assert!(!html.contains(raw), "{raw:?} appears unescaped");
    }
    // The page has exactly the elements of its template: one data block and one script.
    assert_eq!(html.matches("<script").count(), 2);
    assert_eq!(html.matches("</script>").count(), 2);
    // …and the strings are all there, as data.
    let data = embedded(&html);
    let names: Vec<&str> = data["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["service"].as_str().unwrap())
        .collect();
    assert!(names.contains(&IMG_NAME));
    let paths: Vec<&str> = data["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["image"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&SCRIPT_PATH));
}

#[test]
fn the_page_can_fetch_nothing() {
    let html = render(&small());
    let csp_start = html
        .find("http-equiv=\"Content-Security-Policy\" content=\"")
        .expect("CSP meta");
    let csp = &html[csp_start..csp_start + 400];
    assert!(csp.contains("default-src 'none'"));
    assert!(csp.contains("script-src 'sha256-"));
    assert!(!csp.contains("unsafe-inline"));
    for attr in [" src=\"", " href=\"", "url(http", "@import"] {
        assert!(!html.contains(attr), "{attr} in the report");
    }
}

#[test]
fn embedded_data_has_every_finding_and_graph_edge() {
    let report = small();
    let data = embedded(&render(&report));
    let findings = data["findings"].as_array().unwrap();
    assert_eq!(findings.len(), report.findings.len());
    assert_eq!(
        data["hosts"].as_array().unwrap().len(),
        report.coverage.len()
    );
    for (f, j) in report.findings.iter().zip(findings) {
        assert_eq!(j["computer"], f.computer.as_str());
        assert_eq!(j["evidence"].as_array().unwrap().len(), f.evidence.len());
        assert_eq!(j["lifetime_ms"].as_i64(), f.lifetime_ms);
    }
    // The removal logged 80 ms before its creation survives as a negative lifetime.
    assert!(findings.iter().any(|f| f["lifetime_ms"] == -80));
    // Movement sources are --format graph's, finding by finding.
    let mut pairs: Vec<(String, String)> = findings
        .iter()
        .filter(|f| !f["movement"].is_null())
        .map(|f| {
            (
                f["movement"]["source"].as_str().unwrap().to_string(),
                f["computer"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    pairs.sort();
    pairs.dedup();
    let edges: Vec<(String, String)> = graph::edges(&report.findings)
        .into_iter()
        .map(|e| (e.source, e.target))
        .collect();
    assert_eq!(pairs, edges);
}

#[test]
fn the_cli_writes_the_report_for_the_examples() {
    let lab = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lab");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");
    Command::cargo_bin("svchunt")
        .unwrap()
        .args(["hunt", "--quiet", "--format", "html", "-o"])
        .arg(&out)
        .arg(&lab)
        .assert()
        .success();
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!embedded(&html)["findings"].as_array().unwrap().is_empty());
}

#[test]
fn the_seed_query_has_no_html_report() {
    let lab = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lab");
    Command::cargo_bin("svchunt")
        .unwrap()
        .args(["hunt", "--quiet", "--semantics", "kql", "--format", "html"])
        .arg(&lab)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--semantics lifecycle"));
}
