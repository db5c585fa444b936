//! `svchunt-gen`: write a scenario of real binary EVTX files with remote service executions
//! injected into benign background activity, and the `truth.json` that lists them.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use evtx_writer::scenario::{Config, generate_mix, noise::Mix, tools::TOOLS, variants};

/// Ready-made sizes.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Preset {
    /// The committed `examples/lab` scenario: 4 hosts, 1 day, every tool family once, Sysmon.
    Examples,
    /// The 20-host acceptance scenario: 20 hosts, 2 days, every tool family three times, Sysmon.
    Acceptance,
    /// About 1 GiB: 20 hosts, 7 days, 11500 events per host per day, 200 executions.
    Bench1g,
    /// About 10 GiB: 100 hosts, 14 days, 11500 events per host per day, 2000 executions.
    Bench10g,
    /// About 1 GiB of busy servers' Security logs (chunks full of logons, as production
    /// Security logs are; an install every 5,000 events): 20 hosts, 7 days, 13000 events per
    /// host per day, 200 executions, no Sysmon.
    Dense,
    /// The judgement table: one host per behaviour variant (every tool version, getsystem
    /// spellings, local runs, reconfigured services, thin evidence, odd ordinary installs),
    /// 300 benign events each; truth.json lists what each should be judged.
    Variants,
}

/// Generate EVTX scenarios for testing and benchmarking svchunt.
///
/// Writes OUT/HOST/System.evtx, OUT/HOST/Security.evtx (HOST: each host's FQDN), with --sysmon
/// also OUT/HOST/Microsoft-Windows-Sysmon%4Operational.evtx, and OUT.truth.json beside OUT
/// (not among the logs, so hunting OUT reads logs only), which lists
/// every injected execution: host, service_name, display_name, image_path, tool, created,
/// deleted (or null), source_ip, source_workstation, account.
///
/// Tool families (cycled through by --executions, each once before any repeats):
/// psexec (incl. renamed with -r), paexec, remcom, csexec, impacket-psexec (deleted at shell
/// exit, hours later), impacket-smbexec (7009 time-out, deleted at once), impacket-services
/// (auto start, never deleted), metasploit-psexec, metasploit-psexec-psh,
/// cobaltstrike-psexec, cobaltstrike-psexec-psh, netexec-smbexec, winexe (left installed),
/// getsystem (local, not lateral), invoke-smbexec, invoke-psexec, covenant-psexec, sharpsc,
/// sharpexec, sliver-psexec. Each execution draws one of the spellings its tool's versions used.
///
/// --preset variants writes the judgement table instead: one host per behaviour variant, with
/// the verdict and tool svchunt should give and the public source each was derived from.
///
/// Same options and seed, same bytes. Examples:
///
///   svchunt-gen --preset examples --out examples/lab
///
///   svchunt-gen --out /tmp/scn --hosts 20 --days 2 --events-per-host-day 3000 --executions 42 --seed 7 --sysmon
#[derive(Debug, Parser)]
#[command(name = "svchunt-gen", version, verbatim_doc_comment)]
struct Args {
    /// Output directory (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Start from a preset; explicit options override it.
    #[arg(long, value_enum)]
    preset: Option<Preset>,
    /// Number of target hosts [default: 3].
    #[arg(long)]
    hosts: Option<usize>,
    /// Days of activity [default: 1].
    #[arg(long)]
    days: Option<u32>,
    /// Benign events per host per day, all logs together [default: 1000].
    #[arg(long)]
    events_per_host_day: Option<usize>,
    /// Remote service executions to inject [default: every family once].
    #[arg(long)]
    executions: Option<usize>,
    /// PRNG seed [default: 1].
    #[arg(long)]
    seed: Option<u64>,
    /// Also write Sysmon logs (registry DeleteFlag/DeleteKey: the real deletion evidence).
    #[arg(long)]
    sysmon: bool,
    /// First day, midnight UTC [default: 2024-05-06].
    #[arg(long)]
    start: Option<jiff::civil::Date>,
}

fn main() -> ExitCode {
    let a = Args::parse();
    if matches!(a.preset, Some(Preset::Variants)) {
        return match variants::write(&a.out, 300, a.seed.unwrap_or(11)) {
            Ok(s) => {
                println!(
                    "wrote {} files, {} records, {} variants; truth in {}",
                    s.files.len(),
                    s.records,
                    variants::VARIANTS.len(),
                    a.out.join("truth.json").display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("svchunt-gen: {e}");
                ExitCode::FAILURE
            }
        };
    }
    // (hosts, days, events per host-day, executions, seed, sysmon)
    let base = match a.preset {
        Some(Preset::Examples) => (4, 1, 600, TOOLS.len(), 20240506, true),
        Some(Preset::Acceptance) => (20, 2, 3000, 3 * TOOLS.len(), 7, true),
        Some(Preset::Bench1g) => (20, 7, 11500, 200, 1, true),
        Some(Preset::Bench10g) => (100, 14, 11500, 2000, 1, true),
        Some(Preset::Dense) => (20, 7, 13000, 200, 1, false),
        Some(Preset::Variants) => unreachable!("handled above"),
        None => (3, 1, 1000, TOOLS.len(), 1, false),
    };
    let start = a.start.unwrap_or(jiff::civil::date(2024, 5, 6));
    let cfg = Config {
        hosts: a.hosts.unwrap_or(base.0),
        days: a.days.unwrap_or(base.1),
        events_per_host_day: a.events_per_host_day.unwrap_or(base.2),
        executions: a.executions.unwrap_or(base.3),
        seed: a.seed.unwrap_or(base.4),
        sysmon: a.sysmon || base.5,
        start: start
            .to_zoned(jiff::tz::TimeZone::UTC)
            .expect("a date in range")
            .timestamp(),
    };
    if cfg.hosts == 0 && cfg.executions > 0 {
        eprintln!("svchunt-gen: --executions needs at least one host");
        return ExitCode::from(2);
    }
    let mix = if matches!(a.preset, Some(Preset::Dense)) {
        Mix::SecurityDense
    } else {
        Mix::Mixed
    };
    match generate_mix(&cfg, mix, &a.out) {
        Ok(s) => {
            println!(
                "wrote {} files, {} records, {:.1} MiB, {} executions; truth in {}",
                s.files.len(),
                s.records,
                s.bytes as f64 / (1024.0 * 1024.0),
                s.truth.len(),
                evtx_writer::scenario::truth_path(&a.out).display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("svchunt-gen: {e}");
            ExitCode::FAILURE
        }
    }
}
