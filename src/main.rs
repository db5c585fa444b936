//! The `svchunt` command: parses flags, runs the library's pipeline, prints, sets the exit code.

mod cli;
mod progress;

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use jiff::tz::TimeZone;

use cli::{Cli, Command, EventsArgs, FormatArg, HuntArgs, InputArgs, SemanticsArg};
use svchunt::emit::{self, Format};
use svchunt::hunt::{self, Answer, HuntConfig, Semantics};
use svchunt::read::{ReadOptions, ReadStats, Selection, Warning};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Hunt(args) => run_hunt(args),
        Command::Events(args) => run_events(args),
        Command::Export(args) => run_export(args),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("svchunt: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Thread pool and reader options from the shared input flags.
fn prepare(input: &InputArgs) -> Result<ReadOptions> {
    if let Some(n) = input.threads {
        if n == 0 {
            bail!("--threads must be at least 1");
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("cannot start the worker threads")?;
    }
    let zone = parse_zone(&input.local_tz)?;
    Ok(ReadOptions {
        naive_time_zone: zone,
        max_record: input.max_record,
        max_expansion: input.max_expansion,
        verbose: input.verbose,
        ..ReadOptions::default()
    })
}

fn parse_zone(name: &str) -> Result<TimeZone> {
    if name.eq_ignore_ascii_case("utc") {
        return Ok(TimeZone::UTC);
    }
    if let Some(offset) = parse_offset(name) {
        return Ok(TimeZone::fixed(offset));
    }
    TimeZone::get(name).with_context(|| {
        format!("--local-tz {name:?} is neither an IANA zone name (Europe/Berlin) nor an offset (+02:00)")
    })
}

/// `+02:00`, `-0530`, `+2`: a fixed UTC offset.
fn parse_offset(s: &str) -> Option<jiff::tz::Offset> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || digits.len() > 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (h, m) = if digits.len() <= 2 {
        (digits.parse::<i32>().ok()?, 0)
    } else {
        let split = digits.len() - 2;
        (
            digits[..split].parse::<i32>().ok()?,
            digits[split..].parse::<i32>().ok()?,
        )
    };
    if h > 18 || m > 59 {
        return None;
    }
    jiff::tz::Offset::from_seconds(sign * (h * 3600 + m * 60)).ok()
}

fn open_output(path: Option<&std::path::Path>) -> Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(io::stdout().lock())),
    })
}

fn run_hunt(args: HuntArgs) -> Result<ExitCode> {
    let read = prepare(&args.input)?;
    let allow = match &args.allow {
        Some(path) => Some(svchunt::attribute::AllowList::load(path)?),
        None => None,
    };
    let mut config = HuntConfig {
        allow,
        semantics: match args.semantics {
            SemanticsArg::Lifecycle => Semantics::Lifecycle,
            SemanticsArg::Kql => Semantics::Kql,
        },
        read,
        include_benign: args.all,
        ..HuntConfig::default()
    };
    config.lifecycle.window = args.window;
    config.lifecycle.tolerance = args.tolerance;

    let bar = progress::Bar::for_terminal(args.input.quiet);
    config.progress = bar.clone().map(|b| b as std::sync::Arc<dyn hunt::Progress>);
    let outcome = hunt::hunt(&args.input.paths, &config);
    if let Some(bar) = &bar {
        bar.finish();
    }
    report_reading(&outcome.warnings, &outcome.stats, args.input.quiet);

    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let format = match args.format {
        Some(FormatArg::Table) => Format::Table,
        Some(FormatArg::Csv) => Format::Csv,
        Some(FormatArg::Json) => Format::Json,
        Some(FormatArg::Jsonl) => Format::Jsonl,
        Some(FormatArg::Graph) => Format::Graph,
        Some(FormatArg::Dot) => Format::Dot,
        Some(FormatArg::Html) => Format::Html,
        None if to_terminal => Format::Table,
        None => Format::Json,
    };
    let mut out = open_output(args.output.as_deref())?;
    let reported = match &outcome.answer {
        Answer::Lifecycle(report) => {
            emit::write_findings(&mut out, format, report)?;
            if !args.input.quiet {
                eprintln!("{}", verdict_summary(report));
            }
            report.findings.len()
        }
        Answer::Kql(rows) => {
            emit::write_kql_rows(&mut out, format, rows)?;
            if !args.input.quiet {
                eprintln!("svchunt: {} row(s) from the seed query", rows.len());
            }
            rows.len()
        }
    };
    out.flush().context("cannot write the output")?;

    Ok(if args.strict && outcome.stats.has_losses() {
        ExitCode::from(2)
    } else if reported > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn verdict_summary(report: &svchunt::lifecycle::LifecycleReport) -> String {
    let mut counts = std::collections::BTreeMap::new();
    for f in &report.findings {
        *counts.entry(f.verdict.as_str()).or_insert(0usize) += 1;
    }
    let parts: Vec<String> = counts.iter().map(|(v, n)| format!("{n} {v}")).collect();
    format!(
        "svchunt: {} finding(s){}{} on {} host(s)",
        report.findings.len(),
        if parts.is_empty() { "" } else { ": " },
        parts.join(", "),
        report.coverage.len()
    )
}

fn run_events(args: EventsArgs) -> Result<ExitCode> {
    let mut read = prepare(&args.input)?;
    if !args.ids.is_empty() {
        read.selection = Selection::only(args.ids.iter().copied());
    }
    let collection = hunt::collect(&args.input.paths, &read);
    report_reading(&collection.warnings, &collection.stats, args.input.quiet);
    let mut out = open_output(None)?;
    for e in &collection.events {
        serde_json::to_writer(&mut out, e)?;
        writeln!(out)?;
    }
    out.flush()?;
    Ok(if collection.events.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Warnings, then one summary line of what was read and skipped.
fn report_reading(warnings: &[Warning], stats: &ReadStats, quiet: bool) {
    if quiet {
        return;
    }
    let stderr = io::stderr();
    let mut err = stderr.lock();
    for w in warnings {
        let _ = writeln!(err, "svchunt: warning: {w}");
    }
    if let Some(line) = svchunt::read::not_logs_line(stats) {
        let _ = writeln!(err, "svchunt: {line}");
    }
    for f in &stats.not_log_files {
        let _ = writeln!(err, "svchunt: not an event log: {f}");
    }
    let skipped: Vec<String> = stats
        .records_skipped
        .iter()
        .map(|(why, n)| format!("{n} {why}"))
        .collect();
    let _ = writeln!(
        err,
        "svchunt: read {} input(s) ({} skipped, {} read in part), {:.1} MB, {} records ({} selected, {} duplicate(s) dropped); {} record(s) unreadable{}{}",
        stats.files,
        stats.files_skipped,
        stats.incomplete_total(),
        stats.bytes as f64 / 1e6,
        stats.records,
        stats.records_selected,
        stats.duplicates,
        stats.skipped_total(),
        if skipped.is_empty() { "" } else { ": " },
        skipped.join(", ")
    );
}

fn run_export(args: cli::ExportArgs) -> Result<ExitCode> {
    use svchunt::export::{self, ExportOptions, Schema, Target};
    let target = match args.to {
        cli::ExportTargetArg::KqlSeed => Target::KqlSeed,
        cli::ExportTargetArg::Kql => Target::Kql,
        cli::ExportTargetArg::Sigma => Target::Sigma,
        cli::ExportTargetArg::Spl => Target::Spl,
        cli::ExportTargetArg::Eql => Target::Eql,
    };
    let options = ExportOptions {
        window: args.window,
        tolerance: args.tolerance,
        rounding: args.rounding,
        schema: match args.schema {
            cli::SchemaArg::Legacy => Schema::Legacy,
            cli::SchemaArg::Ama => Schema::Ama,
        },
        ..ExportOptions::default()
    };
    if args.rounding <= jiff::SignedDuration::ZERO || args.window < jiff::SignedDuration::ZERO {
        bail!("--rounding must be positive and --window not negative");
    }
    let mut out = open_output(args.output.as_deref())?;
    out.write_all(export::render(target, &options).as_bytes())?;
    out.flush().context("cannot write the output")?;
    Ok(ExitCode::SUCCESS)
}
