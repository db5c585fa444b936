//! The `svchunt` command: parses flags, runs the library's pipeline, prints, sets the exit code.

mod cli;
mod follow;
mod lake;
mod limits;
mod output;
mod progress;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use jiff::tz::TimeZone;

use cli::{
    Cli, Command, EventsArgs, EventsFormatArg, FormatArg, HuntArgs, InputArgs, SemanticsArg,
};
use output::{Output, say};
use svchunt::emit::events::EventsFormat;
use svchunt::emit::{self, Format, escape};
use svchunt::{
    AllowList, Answer, Engine, EngineBuilder, KqlConfig, LifecycleOptions, ReadStats, Report,
    Warning,
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Hunt(args) => run_hunt(args),
        Command::Events(args) => run_events(args),
        Command::Export(args) => run_export(args),
    };
    match result {
        Ok(code) => code,
        Err(err) if output::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            say(&format!("svchunt: error: {err:#}"));
            ExitCode::from(2)
        }
    }
}

/// The engine for `builder` with the shared input flags applied.
fn build_engine(builder: EngineBuilder, input: &InputArgs) -> Result<Engine> {
    let zone = parse_zone(&input.local_tz)?;
    let mut builder = builder
        .local_time_zone(zone)
        .input_limits(svchunt::read::InputLimits {
            max_record: input.max_record,
            max_expansion: input.max_expansion,
            list_not_logs: input.verbose,
        });
    if let Some(requested) = input.threads {
        let (n, capped) = limits::threads(requested).map_err(anyhow::Error::msg)?;
        if let Some(message) = capped.filter(|_| !input.quiet) {
            say(&message);
        }
        builder = builder.threads(n);
    }
    Ok(builder.build()?)
}

/// An IANA zone name (`Europe/Berlin`, `UTC`), a fixed offset (`+02:00`) or a POSIX TZ string,
/// as jiff reads them.
fn parse_zone(name: &str) -> Result<TimeZone> {
    static PARSER: jiff::fmt::temporal::DateTimeParser = jiff::fmt::temporal::DateTimeParser::new();
    PARSER.parse_time_zone(name).with_context(|| {
        format!("--local-tz {name:?} is neither an IANA zone name (Europe/Berlin) nor an offset (+02:00)")
    })
}

/// The engine a hunt's flags ask for; flags of the other semantics are refused, not ignored.
fn hunt_engine(args: &HuntArgs) -> Result<Engine> {
    let builder = match args.semantics {
        SemanticsArg::Lifecycle => {
            let mut options = LifecycleOptions::default().include_benign(args.all);
            if let Some(window) = args.window {
                options = options.window(window);
            }
            if let Some(tolerance) = args.tolerance {
                options = options.tolerance(tolerance);
            }
            if let Some(path) = &args.allow {
                options = options.allow(AllowList::load(path)?);
            }
            Engine::lifecycle(options)
        }
        SemanticsArg::Kql => {
            let lifecycle_only = [
                ("--window", args.window.is_some()),
                ("--tolerance", args.tolerance.is_some()),
                ("--all", args.all),
                ("--allow", args.allow.is_some()),
            ];
            if let Some((flag, _)) = lifecycle_only.iter().find(|(_, given)| *given) {
                bail!(
                    "{flag} does not apply to --semantics kql: the seed query has its own fixed \
                     windows (0s..24h after flooring both times to 1s) and returns every row it \
                     joins; drop {flag}, or hunt with the default semantics"
                );
            }
            Engine::kql(KqlConfig::default())
        }
    };
    build_engine(builder, &args.input)
}

fn run_hunt(args: HuntArgs) -> Result<ExitCode> {
    follow::check_flags(&args)?;
    let engine = hunt_engine(&args)?;
    if args.follow.follow {
        return follow::run(args, engine);
    }
    let parquet = args.format == Some(FormatArg::Parquet);
    if parquet {
        lake::check_destination(args.output.as_deref())?;
    }
    // Before anything is read: refuse to overwrite an input, fail now if unwritable.
    let mut out = Output::prepare(args.output.as_deref(), &args.input.paths)?;
    let bar = progress::Bar::for_terminal(args.input.quiet);
    let outcome = engine.hunt_paths_with(
        &args.input.paths,
        bar.as_deref().map(|b| b as &dyn svchunt::Progress),
    );
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
        Some(FormatArg::Timesketch) => Format::Timesketch,
        // Written below by `lake`; the JSON stands in for the match.
        Some(FormatArg::Parquet) => Format::Json,
        None if to_terminal => Format::Table,
        None => Format::Json,
    };
    let options = emit::Options {
        csv_raw: args.csv_raw,
    };
    if parquet {
        print_warnings(
            &lake::write_answer(&mut out, &outcome.answer)?,
            args.input.quiet,
        );
    }
    let reported = match &outcome.answer {
        Answer::Lifecycle(report) => {
            if !parquet {
                emit::write_findings_with(&mut out, format, report, options)?;
            }
            if !args.input.quiet {
                say(&verdict_summary(report));
            }
            report.findings.len()
        }
        Answer::Kql(rows) => {
            if !parquet {
                emit::write_kql_rows_with(&mut out, format, rows, options)?;
            }
            if !args.input.quiet {
                say(&format!(
                    "svchunt: {} row(s) from the seed query",
                    rows.len()
                ));
            }
            rows.len()
        }
    };
    out.commit()?;

    Ok(if args.strict && outcome.stats.has_losses() {
        ExitCode::from(2)
    } else if reported > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn verdict_summary(report: &Report) -> String {
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
    let engine = build_engine(Engine::lifecycle(LifecycleOptions::default()), &args.input)?;
    let ids = (!args.ids.is_empty()).then_some(args.ids.as_slice());
    if args.format == EventsFormatArg::Parquet {
        lake::check_destination(args.output.as_deref())?;
    }
    // Before anything is read: refuse to overwrite an input, fail now if unwritable.
    let mut out = Output::prepare(args.output.as_deref(), &args.input.paths)?;
    let collection = engine.read_events(&args.input.paths, ids);
    report_reading(&collection.warnings, &collection.stats, args.input.quiet);
    let format = match args.format {
        EventsFormatArg::Jsonl => EventsFormat::Jsonl,
        EventsFormatArg::Json => EventsFormat::Json,
        EventsFormatArg::Csv => EventsFormat::Csv,
        EventsFormatArg::Parquet => {
            let warnings = lake::write_events(&mut out, &collection.events)?;
            print_warnings(&warnings, args.input.quiet);
            out.commit()?;
            return Ok(exit_for_events(&collection.events));
        }
    };
    emit::events::write_events(&mut out, format, &collection.events, args.csv_raw)?;
    out.commit()?;
    Ok(exit_for_events(&collection.events))
}

fn exit_for_events(events: &[svchunt::Event]) -> ExitCode {
    if events.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Located warnings on stderr, escaped.
fn print_warnings(warnings: &[Warning], quiet: bool) {
    if quiet {
        return;
    }
    let stderr = io::stderr();
    let mut err = stderr.lock();
    for w in warnings {
        let _ = writeln!(
            err,
            "svchunt: warning: {}",
            escape::terminal(&w.to_string())
        );
    }
}

/// Warnings, then one summary line of what was read and skipped. File names and messages
/// carry log-derived text (a name inside an archive, a value quoted from a record): escaped.
fn report_reading(warnings: &[Warning], stats: &ReadStats, quiet: bool) {
    if quiet {
        return;
    }
    print_warnings(warnings, quiet);
    let stderr = io::stderr();
    let mut err = stderr.lock();
    // Member names inside archives are the archive maker's text: escaped like the rest.
    for f in &stats.not_log_files {
        let _ = writeln!(err, "svchunt: not an event log: {}", escape::terminal(f));
    }
    if let Some(line) = svchunt::read::not_logs_line(stats) {
        let _ = writeln!(err, "svchunt: {}", escape::terminal(&line));
    }
    let skipped: Vec<String> = stats
        .records_skipped
        .iter()
        .map(|(why, n)| format!("{n} {why}"))
        .collect();
    let summary = format!(
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
    let _ = writeln!(err, "{}", escape::terminal(&summary));
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
    // --window, --tolerance and --rounding are bounded by their parsers (`limits`).
    let mut out = Output::prepare(args.output.as_deref(), &[])?;
    out.write_all(export::render(target, &options).as_bytes())?;
    out.commit()?;
    Ok(ExitCode::SUCCESS)
}
