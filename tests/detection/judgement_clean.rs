//! `suspicious` stays rare on clean systems, and no ordinary install is ever called execution:
//! counted over the shared corpus's clean hosts, every install of the corpus that EXPECTED.md
//! does not list as an execution, and generated noise hosts (Defender's random-named drivers,
//! GPU and Hyper-V drivers, vendor services whose first start times out, per-user services).

use crate::common;

use std::path::PathBuf;

use evtx_writer::scenario::{Config, generate};
use svchunt::{Answer, Engine, Finding, LifecycleOptions, Verdict};

/// Most installs on a clean host may be called `suspicious` or worse.
const MAX_SHARE: f64 = 0.02;

fn hunt_all(paths: &[PathBuf]) -> Vec<Finding> {
    let engine = Engine::lifecycle(LifecycleOptions::default().include_benign(true))
        .build()
        .unwrap();
    match engine.hunt_paths(paths).answer {
        Answer::Lifecycle(r) => r.findings,
        Answer::Kql(_) => unreachable!(),
    }
}

fn is_execution(v: Verdict) -> bool {
    matches!(
        v,
        Verdict::RemoteExecution | Verdict::LocalExecution | Verdict::PrivilegeEscalation
    )
}

/// (installs, suspicious or worse, execution verdicts), with the odd ones listed.
fn count(findings: &[Finding]) -> (usize, usize, Vec<String>) {
    let mut flagged = 0;
    let mut executions = Vec::new();
    for f in findings {
        if f.verdict != Verdict::Benign {
            flagged += 1;
        }
        if is_execution(f.verdict) {
            executions.push(format!(
                "{} {} {} {:?}",
                f.computer, f.service_name, f.image_path, f.verdict_reasons
            ));
        }
    }
    (findings.len(), flagged, executions)
}

#[test]
fn clean_corpus_hosts_rarely_look_suspicious() {
    let Some(dir) = common::corpus() else { return };
    // EXPECTED.md's clean systems.
    let files: Vec<PathBuf> = [
        "DFIRArtifactMuseum/Windows/EventLogs/Win10/RathbunVM/RathbunVM_W10EventLogs/System.evtx",
        "evtx-rs/samples/system.evtx",
        "plaso/test_data/evtx/System.evtx",
    ]
    .iter()
    .map(|p| dir.join(p))
    .collect();
    let findings = hunt_all(&files);
    let (installs, flagged, executions) = count(&findings);
    eprintln!("clean corpus hosts: {installs} installs, {flagged} suspicious or worse");
    assert!(installs >= 100, "{installs}");
    assert!(executions.is_empty(), "{executions:#?}");
    assert!(
        (flagged as f64) < MAX_SHARE * installs as f64,
        "{flagged} of {installs}"
    );
}

/// EXPECTED.md's executions: PsExec everywhere it ran, smbexec's BTOBTO, TChopper's segments,
/// Empire's two services.
fn expected_execution(f: &Finding) -> bool {
    let image = f.image_path.to_ascii_lowercase();
    image.contains("psexesvc")
        || f.service_name == "BTOBTO"
        || image.contains("get-service \"seg")
        || image.contains("-nop -sta -w 1 -enc")
}

#[test]
fn no_ordinary_corpus_install_is_called_execution() {
    let Some(dir) = common::corpus() else { return };
    let findings = hunt_all(&[dir]);
    let ordinary: Vec<Finding> = findings
        .into_iter()
        .filter(|f| !expected_execution(f))
        .collect();
    let (installs, flagged, executions) = count(&ordinary);
    eprintln!(
        "corpus installs not listed as executions: {installs}, {flagged} suspicious (none execution)"
    );
    assert!(installs >= 150, "{installs}");
    assert!(executions.is_empty(), "{executions:#?}");
}

#[test]
fn generated_noise_hosts_stay_ordinary() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        hosts: 8,
        days: 4,
        events_per_host_day: 2000,
        executions: 0,
        seed: 5,
        sysmon: true,
        start: "2024-05-06T00:00:00Z".parse().unwrap(),
    };
    generate(&config, dir.path()).unwrap();
    let findings = hunt_all(&[dir.path().to_path_buf()]);
    let (installs, flagged, executions) = count(&findings);
    eprintln!("noise hosts: {installs} installs, {flagged} suspicious or worse");
    assert!(installs >= 150, "{installs}");
    // Each kind of odd-looking ordinary install is among them.
    for kind in [
        "MpKsl",
        "nvlddmkm",
        "vmgencounter",
        "LenovoVantageService",
        "Dell",
        "HPApp",
    ] {
        assert!(
            findings.iter().any(|f| f.service_name.starts_with(kind)),
            "no {kind} install generated"
        );
    }
    assert!(executions.is_empty(), "{executions:#?}");
    assert!(
        (flagged as f64) < MAX_SHARE * installs as f64,
        "{flagged} of {installs}"
    );
}
