//! Command-line flags (clap derive). Every flag's `///` doc is its `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes:
  0  the hunt ran and reported at least one finding (or row)
  1  the hunt ran and found nothing to report
  2  an error stopped the run (bad arguments, output not writable), or --strict
     was given and some input could not be fully read
Inputs that cannot be read (a corrupt chunk, a bad JSON line, a text file named .evtx) are
reported as located warnings on stderr and counted in the summary; the rest is still read.";

/// svchunt: find remote service execution (PsExec, PAExec, RemCom, Impacket psexec/smbexec,
/// Metasploit, Cobalt Strike, NetExec, winexe…) in Windows event logs, offline.
///
/// It reads folders of EVTX files, Windows' own exports (Event Viewer / wevtutil XML,
/// PowerShell Get-WinEvent JSON) and SIEM exports (evtx_dump JSON, NXLog/OTRF JSON lines,
/// Sentinel/Log Analytics JSON and CSV, Winlogbeat 6/7/ECS, Elastic _search, Splunk JSON and
/// CSV), inside zip, 7z, tar, gzip, bzip2 and xz too, and Velociraptor and KAPE collections,
/// recognising each file by its content, and tells the story of every service created:
/// when, by whom, from where, how long it lived, when it was removed, on what evidence.
#[derive(Debug, Parser)]
#[command(name = "svchunt", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Hunt service executions in the given files and folders.
    ///
    /// Examples:
    ///   svchunt hunt ./triage/                      every host's logs under a folder
    ///   svchunt hunt --all -f json -o out.json logs/  every service creation, as JSON
    ///   svchunt hunt --semantics kql export.zip      the seed Sentinel query's answer
    ///   svchunt hunt --follow --state s.json Logs/   watch live logs, one JSON line per change
    // Verbatim: the examples are one per line.
    #[command(after_help = EXIT_CODES, verbatim_doc_comment)]
    Hunt(HuntArgs),
    /// Print the normalised events svchunt reads from the inputs, one JSON object per line.
    ///
    /// Useful to check how a SIEM export was understood, or to load a collection's events
    /// into a lake (-f parquet).
    ///
    /// Examples:
    ///   svchunt events --id 7045,4697 logs/           installs, one JSON object per line
    ///   svchunt events -f csv -o events.csv logs/     a spreadsheet (formula-safe)
    ///   svchunt events -f parquet -o events.parquet logs/   for Spark, DuckDB, pandas
    #[command(verbatim_doc_comment)]
    Events(EventsArgs),
    /// Write the detection as a SIEM query: KQL (Sentinel), Sigma, Splunk SPL or Elastic EQL.
    ///
    /// Examples:
    ///   svchunt export --to kql                   Sentinel, legacy agent tables
    ///   svchunt export --to kql --schema ama      Sentinel, WindowsEvent (AMA)
    ///   svchunt export --to sigma -o svchunt.yml  Sigma rules with a correlation rule
    #[command(verbatim_doc_comment)]
    Export(ExportArgs),
}

/// How findings are judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SemanticsArg {
    /// One finding per service creation with its whole life: creation, account, source,
    /// evidence labelled for what it is, removal, lifetime, verdict.
    Lifecycle,
    /// Exactly what the seed Sentinel query returns (7045 joined to 4674 with DELETE on user
    /// and computer, 0s..24h after flooring to the second, newest row per service name).
    Kql,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Aligned table (default on a terminal).
    Table,
    /// CSV with a header line (formula-safe for spreadsheets; see --csv-raw).
    Csv,
    /// One JSON document (default when output is not a terminal).
    Json,
    /// One JSON object per line.
    Jsonl,
    /// The lateral-movement graph (source → target edges with accounts, tools, times) as JSON.
    Graph,
    /// The same graph for Graphviz (`svchunt hunt -f dot logs/ | dot -Tsvg > movement.svg`).
    Dot,
    /// A self-contained HTML report to open in a browser (timeline, movement graph, table).
    Html,
    /// JSON lines for Timesketch: one event per source logon, creation and removal, each with
    /// the finding's id and verdict (`timesketch_importer --file out.jsonl …`).
    Timesketch,
    /// The findings as one Parquet file (Snappy), nested columns as in the JSON, for a data
    /// lake, Spark or pandas (needs -o FILE or a redirect: it is binary).
    Parquet,
}

/// `svchunt events` output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventsFormatArg {
    /// One JSON object per line (the default).
    Jsonl,
    /// One JSON array.
    Json,
    /// CSV with a header line; `data` as a JSON array of [name, value] pairs (formula-safe
    /// for spreadsheets; see --csv-raw).
    Csv,
    /// One Parquet file (Snappy): the events table a lake or Spark ingests, with `data` a
    /// list of {name, value} and times to the nanosecond (needs -o FILE or a redirect).
    Parquet,
}

/// Flags shared by every command that reads inputs.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Files or folders to read (folders recursively; format found by content).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Time zone of timestamps that carry none (NXLog `EventTime`): an IANA name such as
    /// `Europe/Berlin`, or `UTC`.
    #[arg(
        long,
        value_name = "ZONE",
        default_value = "UTC",
        help_heading = "Input"
    )]
    pub local_tz: String,

    /// Worker threads (default: all cores; at most 4 per core).
    #[arg(short = 'j', long, value_name = "N", help_heading = "Input")]
    pub threads: Option<usize>,

    /// No warnings or summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,

    /// Also list every file that is not an event log (by default they are counted by kind in
    /// one line: source files, documents, a collector's bookkeeping…).
    #[arg(short, long, help_heading = "Input")]
    pub verbose: bool,

    /// The largest one text record (a JSON line or document, an XML event) may be, e.g. `16M`,
    /// `512K`; a larger one is skipped with a warning. Real events are far smaller (Windows
    /// caps an event's data at 64 KiB).
    #[arg(long, value_name = "SIZE", default_value = "16M", value_parser = parse_size, help_heading = "Input")]
    pub max_record: usize,

    /// How many times its own size one input may inflate to, through all the archives and
    /// compression inside it (at least 1 GiB is always allowed); past that the rest of it is
    /// not read, with a warning. Guards against archive bombs; raise it for a legitimately
    /// huge collection, 0 for no limit.
    #[arg(long, value_name = "RATIO", default_value_t = svchunt::read::DEFAULT_MAX_EXPANSION, help_heading = "Input")]
    pub max_expansion: u64,
}

/// `svchunt hunt`.
#[derive(Debug, Args)]
pub struct HuntArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Which question to answer.
    #[arg(long, value_enum, default_value_t = SemanticsArg::Lifecycle, help_heading = "Detection")]
    pub semantics: SemanticsArg,

    /// Also print benign service creations (drivers, updaters…), each with its verdict.
    #[arg(long, help_heading = "Detection")]
    pub all: bool,

    /// How long after a creation its removal may come (e.g. `24h`, `90m`; 0 to 100 years) [default: 24h].
    /// Lifecycle semantics only: the seed query has its own fixed window.
    #[arg(long, value_name = "DURATION", value_parser = crate::limits::parse_span, help_heading = "Detection")]
    pub window: Option<jiff::SignedDuration>,

    /// How long before a creation its evidence may be logged (clocks of the System, Security
    /// and Sysmon logs do not order events exactly) [default: 2s]. Lifecycle semantics only.
    #[arg(long, value_name = "DURATION", value_parser = crate::limits::parse_span, help_heading = "Detection")]
    pub tolerance: Option<jiff::SignedDuration>,

    /// Output format (default: table on a terminal, json otherwise).
    #[arg(short, long, value_enum, help_heading = "Output")]
    pub format: Option<FormatArg>,

    /// Write the output to FILE instead of stdout. FILE is replaced only when the report is
    /// complete (a failed run leaves the old one), and may not be one of the inputs.
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// CSV fields exactly as logged. By default a field that a spreadsheet would run as a
    /// formula (starting with `=`, `+`, `-`, `@`, tab, CR, LF or NUL, and not a plain number
    /// such as `-3`) is written with a leading `'`, as OWASP advises against CSV injection:
    /// log text is the attacker's. Use this when a program, not a person, reads the CSV.
    #[arg(long, help_heading = "Output")]
    pub csv_raw: bool,

    /// Silence your own admin tooling: a file of rules, one per line, each one or more
    /// `field=glob` conditions separated by `;` (fields: service_name, display_name, image_path,
    /// computer, user, source_ip, tool; `*` and `?` wildcards, case-insensitive; `#` comments).
    /// Matching findings become benign, citing the rule's line. FILE must be a regular text
    /// file of at most 16 MiB.
    #[arg(long, value_name = "FILE", help_heading = "Detection")]
    pub allow: Option<PathBuf>,

    /// Exit with 2 when any input could not be fully read.
    #[arg(long, help_heading = "Output")]
    pub strict: bool,

    #[command(flatten)]
    pub follow: FollowArgs,
}

/// `svchunt hunt --follow`: watch inputs as they grow.
#[derive(Debug, Args)]
#[command(next_help_heading = "Follow")]
pub struct FollowArgs {
    /// Keep reading the inputs as they grow and print one JSON line per change, for as long
    /// as svchunt runs (stop it with Ctrl-C or SIGTERM): `{"event":"opened",…}` when a service
    /// creation is judged, `updated` when its removal, source, verdict or evidence changes,
    /// `closed` when its --window has passed (final), `withdrawn` when it is no longer
    /// reported; each line carries the finding's stable `id` and its fields, as -f jsonl
    /// prints them. EVTX files are followed as Windows writes them (records in the open
    /// chunk, new chunks, a log that wraps, is cleared or replaced); JSON lines from growing
    /// files, or from standard input given as `-`; a new file in a watched folder is read
    /// from its start. Findings are judged once --tolerance of event time has passed, or
    /// when every input has been quiet for --idle.
    ///
    ///   svchunt hunt --follow --state s.json ForwardedEvents.evtx   a WEF collector's log
    ///   winlogbeat … | svchunt hunt --follow -                     JSON lines on a pipe
    #[arg(long, verbatim_doc_comment)]
    pub follow: bool,

    /// How often to look for new data when every input has been read to its end (--follow;
    /// 10ms to 1h) [default: 500ms].
    #[arg(long, value_name = "DURATION", value_parser = crate::limits::parse_poll)]
    pub poll: Option<jiff::SignedDuration>,

    /// Judge what was read without waiting for later events once every input has been quiet
    /// this long (--follow): a host whose logs stop after an install is still told
    /// [default: 5s].
    #[arg(long, value_name = "DURATION", value_parser = crate::limits::parse_span)]
    pub idle: Option<jiff::SignedDuration>,

    /// Keep the follower's state in FILE (--follow): how far each input was read and the
    /// findings still open, written atomically (a temporary file renamed over FILE) within a
    /// second of lines being printed, every few seconds while input is read, and on exit. Started again with the same FILE, svchunt resumes where it stopped and
    /// prints nothing twice (after a crash, the last second's lines may come again, with the
    /// same ids). Keep FILE outside the watched folders.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
}

/// `svchunt export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The query language to write.
    #[arg(long, value_enum)]
    pub to: ExportTargetArg,

    /// How long after a creation its removal may come.
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = crate::limits::parse_span)]
    pub window: jiff::SignedDuration,

    /// How long before a creation its evidence may be logged.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = crate::limits::parse_span)]
    pub tolerance: jiff::SignedDuration,

    /// The seed query's `bin()` size (kql-seed only; at least 1s).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = crate::limits::parse_rounding)]
    pub rounding: jiff::SignedDuration,

    /// Which Log Analytics tables the KQL reads (kql only).
    #[arg(long, value_enum, default_value_t = SchemaArg::Legacy)]
    pub schema: SchemaArg,

    /// Write to FILE instead of stdout (replaced only when complete).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `svchunt export --to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportTargetArg {
    /// The seed Sentinel query, generated.
    KqlSeed,
    /// Sentinel / Azure Data Explorer, lifecycle semantics.
    Kql,
    /// Sigma rules plus a temporal_ordered correlation rule.
    Sigma,
    /// Splunk SPL.
    Spl,
    /// Elastic EQL over Winlogbeat/ECS fields.
    Eql,
}

/// `svchunt export --schema`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaArg {
    /// Event + SecurityEvent (Log Analytics agent).
    Legacy,
    /// WindowsEvent (Azure Monitor Agent).
    Ama,
}

/// `svchunt events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Only these event ids (repeatable, or comma-separated).
    #[arg(long = "id", value_delimiter = ',', value_name = "ID")]
    pub ids: Vec<u32>,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = EventsFormatArg::Jsonl, help_heading = "Output")]
    pub format: EventsFormatArg,

    /// Write the events to FILE instead of stdout. FILE is replaced only when complete (a
    /// failed run leaves the old one), and may not be one of the inputs.
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// CSV fields exactly as logged, without the `'` that stops a spreadsheet from running a
    /// field as a formula (see `svchunt hunt --help`).
    #[arg(long, help_heading = "Output")]
    pub csv_raw: bool,
}

/// Parse a size: bytes, or with a `K`, `M` or `G` suffix (powers of 1024).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let shift = match unit
        .trim()
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        _ => return Err(format!("not a size like 16M, 512K or 1048576: {s:?}")),
    };
    let n: usize = digits
        .parse()
        .map_err(|_| format!("not a size like 16M, 512K or 1048576: {s:?}"))?;
    n.checked_shl(shift)
        .filter(|v| *v >> shift == n && *v > 0)
        .ok_or_else(|| format!("size out of range: {s:?}"))
}

/// Parse `24h`, `2s`, `90m`, `1h30m`, `500ms` (jiff's friendly format).
pub fn parse_duration(s: &str) -> Result<jiff::SignedDuration, String> {
    s.parse::<jiff::SignedDuration>()
        .map_err(|e| format!("not a duration like 24h, 2s or 90m: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("16M").unwrap(), 16 << 20);
        assert_eq!(parse_size("512KiB").unwrap(), 512 << 10);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert!(parse_size("0").is_err());
        assert!(parse_size("big").is_err());
    }

    #[test]
    fn durations_parse() {
        assert_eq!(
            parse_duration("24h").unwrap(),
            jiff::SignedDuration::from_hours(24)
        );
        assert_eq!(
            parse_duration("2s").unwrap(),
            jiff::SignedDuration::from_secs(2)
        );
        assert!(parse_duration("soon").is_err());
    }
}
