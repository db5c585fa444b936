//! The HTML report without a browser: what it embeds, that data stays data, same bytes each time.

mod common;
mod report_scenario;

use report_scenario::*;
use svchunt::lifecycle::Verdict;

/// The JSON document embedded in a report.
fn embedded(html: &str) -> serde_json::Value {
    let open = "<script type=\"application/json\" id=\"svchunt-data\">";
    let start = html.find(open).expect("data element") + open.len();
    let end = start + html[start..].find("</script>").expect("data element end");
    serde_json::from_str(&html[start..end]).expect("embedded JSON parses")
}

#[test]
fn scenario_is_what_the_report_tests_assume() {
    let r = small();
    let summary: Vec<(String, String, Verdict, Option<String>)> = r
        .findings
        .iter()
        .map(|f| {
            (
                f.computer.clone(),
                f.service_name.clone(),
                f.verdict,
                f.tool.clone(),
            )
        })
        .collect();
    eprintln!("{summary:#?}");
    assert_eq!(r.findings.len(), 7);
    assert_eq!(r.coverage.len(), 6);
}

#[test]
fn dump_small_report() {
    let r = small();
    let html = render(&r);
    std::fs::write("/tmp/small.html", &html).unwrap();
    std::fs::write("/tmp/big.html", render(&big(10_000))).unwrap();
    let _ = embedded(&html);
}
