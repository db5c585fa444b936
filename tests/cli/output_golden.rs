//! Every output format of `svchunt hunt examples/lab`, pinned byte for byte: table, CSV, JSON,
//! JSON lines, graph JSON, DOT, the HTML report's embedded data, and the seed query's JSON.
//!
//! A deliberate change to an output is reviewed by regenerating the golden files with
//! `SVCHUNT_BLESS=1 cargo test --test cli output_golden::` and reading the diff.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn golden_dir() -> PathBuf {
    root().join("tests/golden/output")
}

/// `svchunt hunt --quiet <args> examples/lab` run from the repository root (so evidence names
/// files as `examples/lab/…` on every machine), its stdout.
fn hunt(args: &[&str]) -> Vec<u8> {
    let out = Command::cargo_bin("svchunt")
        .unwrap()
        .current_dir(root())
        .args(["hunt", "--quiet"])
        .args(args)
        .arg("examples/lab")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The JSON the HTML report carries in its data element, pretty-printed for a readable diff
/// (the page around it is pinned by the report's own tests).
fn html_data(html: &[u8]) -> Vec<u8> {
    let html = std::str::from_utf8(html).unwrap();
    let open = "<script type=\"application/json\" id=\"svchunt-data\">";
    let start = html.find(open).expect("data element") + open.len();
    let end = start + html[start..].find("</script>").expect("data element end");
    let value: serde_json::Value = serde_json::from_str(&html[start..end]).unwrap();
    let mut text = serde_json::to_vec_pretty(&value).unwrap();
    text.push(b'\n');
    text
}

#[test]
fn every_format_matches_its_golden_file() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("lab.table", hunt(&["-f", "table"])),
        ("lab.csv", hunt(&["-f", "csv"])),
        ("lab.json", hunt(&["-f", "json"])),
        ("lab.jsonl", hunt(&["-f", "jsonl"])),
        ("lab.graph.json", hunt(&["-f", "graph"])),
        ("lab.dot", hunt(&["-f", "dot"])),
        ("lab.html-data.json", html_data(&hunt(&["-f", "html"]))),
        ("lab-kql.json", hunt(&["--semantics", "kql", "-f", "json"])),
    ];
    let bless = std::env::var_os("SVCHUNT_BLESS").is_some();
    let mut stale = Vec::new();
    for (name, bytes) in cases {
        let path = golden_dir().join(name);
        if bless {
            std::fs::create_dir_all(golden_dir()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
            continue;
        }
        let golden = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run with SVCHUNT_BLESS=1)", path.display()));
        if golden != bytes {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "outputs differ from their golden files: {stale:?}; review, then SVCHUNT_BLESS=1"
    );
}
