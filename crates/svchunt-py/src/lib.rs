//! `svchunt._svchunt`: the native half of the `svchunt` Python package.
//!
//! It hands Python the library's [`Engine`] and its Arrow tables (`svchunt::arrow`) and nothing
//! more: options are parsed as the command parses them, every hunt and read runs with the GIL
//! released, and reading problems come back as `(file, location, message)` tuples for the
//! Python half (`python/svchunt/__init__.py`) to raise as `warnings.warn`, never as exceptions.
//! Only bad options and tables that are not events tables raise.

use std::path::PathBuf;

use arrow_array::RecordBatch;
use arrow_pyarrow::{PyArrowType, Table};
use arrow_schema::SchemaRef;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use svchunt::arrow::{self as sarrow, Converted};
use svchunt::emit::{self, Format, escape};
use svchunt::select::Filter;
use svchunt::{
    AllowList, Answer, Engine, EngineBuilder, KqlConfig, LifecycleOptions, ReadStats, Warning,
};

/// `(file, location, message)`, as the Python half raises it.
type PyWarning = (String, String, String);

fn warning_tuples(warnings: &[Warning]) -> Vec<PyWarning> {
    warnings
        .iter()
        .map(|w| (w.file.to_string(), w.location.clone(), w.message.clone()))
        .collect()
}

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn table(converted: Converted, warnings: &mut Vec<Warning>) -> PyResult<PyArrowType<Table>> {
    warnings.extend(converted.warnings);
    let schema = converted.batch.schema();
    table_of(vec![converted.batch], schema)
}

fn table_of(batches: Vec<RecordBatch>, schema: SchemaRef) -> PyResult<PyArrowType<Table>> {
    Ok(PyArrowType(
        Table::try_new(batches, schema).map_err(value_error)?,
    ))
}

fn stats_json(stats: &ReadStats) -> String {
    serde_json::to_string(stats).expect("counts serialise")
}

/// An IANA zone name, a fixed offset or a POSIX TZ string, as the command reads `--local-tz`.
fn zone(name: Option<&str>) -> PyResult<jiff::tz::TimeZone> {
    static PARSER: jiff::fmt::temporal::DateTimeParser = jiff::fmt::temporal::DateTimeParser::new();
    match name {
        None => Ok(jiff::tz::TimeZone::UTC),
        Some(name) => PARSER.parse_time_zone(name).map_err(|_| {
            value_error(format!(
                "local_tz {name:?} is neither an IANA zone name (Europe/Berlin) nor an offset (+02:00)"
            ))
        }),
    }
}

fn duration(what: &str, s: Option<&str>) -> PyResult<Option<jiff::SignedDuration>> {
    s.map(|s| {
        s.parse::<jiff::SignedDuration>().map_err(|e| {
            value_error(format!(
                "{what} {s:?} is not a duration like 24h, 2s or 90m: {e}"
            ))
        })
    })
    .transpose()
}

/// The hunt's options, as the Python half passes them (durations already as strings).
#[derive(FromPyObject, Default)]
#[pyo3(from_item_all)]
struct Options {
    semantics: Option<String>,
    window: Option<String>,
    tolerance: Option<String>,
    include_benign: Option<bool>,
    allow: Option<PathBuf>,
    threads: Option<usize>,
    local_tz: Option<String>,
}

fn engine(o: &Options) -> PyResult<Engine> {
    let builder: EngineBuilder = match o.semantics.as_deref().unwrap_or("lifecycle") {
        "lifecycle" => {
            let mut options =
                LifecycleOptions::default().include_benign(o.include_benign.unwrap_or(false));
            if let Some(w) = duration("window", o.window.as_deref())? {
                options = options.window(w);
            }
            if let Some(t) = duration("tolerance", o.tolerance.as_deref())? {
                options = options.tolerance(t);
            }
            if let Some(path) = &o.allow {
                options = options.allow(AllowList::load(path).map_err(value_error)?);
            }
            Engine::lifecycle(options)
        }
        "kql" => {
            let lifecycle_only = [
                ("window", o.window.is_some()),
                ("tolerance", o.tolerance.is_some()),
                ("include_benign", o.include_benign == Some(true)),
                ("allow", o.allow.is_some()),
            ];
            if let Some((name, _)) = lifecycle_only.iter().find(|(_, given)| *given) {
                return Err(value_error(format!(
                    "{name} does not apply to semantics='kql': the seed query has its own fixed \
                     windows (0s..24h after flooring both times to 1s) and returns every row it joins"
                )));
            }
            Engine::kql(KqlConfig::default())
        }
        other => {
            return Err(value_error(format!(
                "semantics must be 'lifecycle' or 'kql', not {other:?}"
            )));
        }
    };
    let mut builder = builder.local_time_zone(zone(o.local_tz.as_deref())?);
    if let Some(n) = o.threads {
        builder = builder.threads(n);
    }
    builder.build().map_err(value_error)
}

/// The read plan of `semantics`.
fn plan_of(semantics: &str) -> PyResult<svchunt::select::ReadPlan> {
    match semantics {
        "lifecycle" => Ok(svchunt::lifecycle::plan()),
        "kql" => Ok(svchunt::kql::plan()),
        other => Err(value_error(format!(
            "semantics must be 'lifecycle' or 'kql', not {other:?}"
        ))),
    }
}

/// The filter of what a hunt of `semantics` looks at in any input: its event ids, without the
/// second pass's needles (those come from every input's installs, which one input alone cannot
/// know) and with every field kept, because the hunt matches those needles against every field
/// before it drops the ones it does not read (as the command's reader does).
fn hunt_filter(semantics: &str) -> PyResult<Filter> {
    let plan = plan_of(semantics)?;
    // Every event whole: not even folded into account sightings, as the command's second pass
    // folds the seed query's account events (the hunt of the table's events does that itself).
    Ok(Filter::ids(
        plan.anchors().iter().chain(plan.evidence()).copied(),
    ))
}

/// Read every input under `paths`: (events table, warnings, stats as JSON).
#[pyfunction]
#[pyo3(signature = (paths, ids=None, local_tz=None, threads=None))]
fn read_events(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    ids: Option<Vec<u32>>,
    local_tz: Option<String>,
    threads: Option<usize>,
) -> PyResult<(PyArrowType<Table>, Vec<PyWarning>, String)> {
    let engine = engine(&Options {
        threads,
        local_tz,
        ..Options::default()
    })?;
    let collection = py.detach(|| engine.read_events(&paths, ids.as_deref()));
    let mut warnings = collection.warnings;
    let converted = py.detach(|| sarrow::events_to_batch(&collection.events));
    let t = table(converted, &mut warnings)?;
    Ok((t, warning_tuples(&warnings), stats_json(&collection.stats)))
}

/// Read one input's bytes: (events table, warnings, stats as JSON).
#[pyfunction]
#[pyo3(signature = (name, data, ids=None, select=None, local_tz=None, first_pass=None))]
fn read_events_from_bytes(
    py: Python<'_>,
    name: &str,
    data: &[u8],
    ids: Option<Vec<u32>>,
    select: Option<String>,
    local_tz: Option<String>,
    first_pass: Option<String>,
) -> PyResult<(PyArrowType<Table>, Vec<PyWarning>, String)> {
    let filter = match (select.as_deref(), ids, first_pass.as_deref()) {
        (Some(semantics), None, None) => hunt_filter(semantics)?,
        (None, Some(ids), None) => Filter::ids(ids),
        (None, None, Some(semantics)) => plan_of(semantics)?.anchor_filter(),
        (None, None, None) => Filter::all(),
        _ => return Err(value_error("give one of ids, select and first_pass")),
    };
    let mut opts = svchunt::read::ReadOptions::default();
    opts.naive_time_zone = zone(local_tz.as_deref())?;
    let opts = opts.with_filter(filter);
    let (mut out, converted) = py.detach(|| {
        let mut out = svchunt::discover::read_bytes(name, data, &opts);
        out.stats.duplicates += svchunt::event::order_and_dedup(&mut out.events);
        let converted = sarrow::events_to_batch(&out.events);
        (out, converted)
    });
    if out.used_naive_times {
        out.warn(
            &name.into(),
            "",
            format!(
                "local times without a zone (NXLog EventTime) were read as {} (set local_tz to the hosts' zone if that is wrong)",
                opts.naive_time_zone.iana_name().unwrap_or("the given zone")
            ),
        );
    }
    let mut warnings = out.warnings;
    let t = table(converted, &mut warnings)?;
    Ok((t, warning_tuples(&warnings), stats_json(&out.stats)))
}

/// A hunt's answer, kept in Rust; the Python half turns it into tables and text on demand.
#[pyclass(frozen, module = "svchunt._svchunt")]
struct NativeHunt {
    hunt: svchunt::Hunt,
    /// Warnings from reading, and from turning the events table back into events.
    warnings: Vec<Warning>,
}

#[pymethods]
impl NativeHunt {
    /// `lifecycle` or `kql`.
    #[getter]
    fn semantics(&self) -> &'static str {
        match self.hunt.answer {
            Answer::Lifecycle(_) => "lifecycle",
            Answer::Kql(_) => "kql",
        }
    }

    /// Located reading warnings.
    #[getter]
    fn warnings(&self) -> Vec<PyWarning> {
        warning_tuples(&self.warnings)
    }

    /// The read counts, as JSON.
    #[getter]
    fn stats(&self) -> String {
        stats_json(&self.hunt.stats)
    }

    /// One of `findings`, `campaigns`, `coverage`, `edges` as a table, with the warnings
    /// for values Arrow cannot hold. Under the seed query, `findings` are its rows and the
    /// others are empty.
    fn table(&self, py: Python<'_>, what: &str) -> PyResult<(PyArrowType<Table>, Vec<PyWarning>)> {
        let converted = py.detach(|| match (&self.hunt.answer, what) {
            (Answer::Lifecycle(r), "findings") => Ok(sarrow::findings_to_batch(&r.findings)),
            (Answer::Lifecycle(r), "campaigns") => Ok(sarrow::campaigns_to_batch(&r.campaigns)),
            (Answer::Lifecycle(r), "coverage") => Ok(sarrow::coverage_to_batch(&r.coverage)),
            (Answer::Lifecycle(r), "edges") => {
                Ok(sarrow::edges_to_batch(&emit::graph::edges(&r.findings)))
            }
            (Answer::Kql(rows), "findings") => Ok(sarrow::kql_rows_to_batch(rows)),
            (Answer::Kql(_), "campaigns") => Ok(sarrow::campaigns_to_batch(&[])),
            (Answer::Kql(_), "coverage") => Ok(sarrow::coverage_to_batch(&[])),
            (Answer::Kql(_), "edges") => Ok(sarrow::edges_to_batch(&[])),
            _ => Err(format!(
                "no table {what:?}: findings, campaigns, coverage or edges"
            )),
        });
        let mut warnings = Vec::new();
        let t = table(converted.map_err(value_error)?, &mut warnings)?;
        Ok((t, warning_tuples(&warnings)))
    }

    /// The answer as the command writes it with `-f <format>`: `json`, `jsonl`, `csv`,
    /// `table`, `graph`, `dot` or `html`.
    #[pyo3(signature = (format, csv_raw=false))]
    fn render(&self, py: Python<'_>, format: &str, csv_raw: bool) -> PyResult<String> {
        let format = match format {
            "json" => Format::Json,
            "jsonl" => Format::Jsonl,
            "csv" => Format::Csv,
            "table" => Format::Table,
            "graph" => Format::Graph,
            "dot" => Format::Dot,
            "html" => Format::Html,
            other => {
                return Err(value_error(format!(
                    "format must be json, jsonl, csv, table, graph, dot or html, not {other:?}"
                )));
            }
        };
        let options = emit::Options { csv_raw };
        let bytes = py.detach(|| {
            let mut out = Vec::new();
            match &self.hunt.answer {
                Answer::Lifecycle(r) => emit::write_findings_with(&mut out, format, r, options),
                Answer::Kql(rows) => emit::write_kql_rows_with(&mut out, format, rows, options),
            }
            .map(|()| out)
        });
        let bytes = bytes.map_err(value_error)?;
        String::from_utf8(bytes).map_err(value_error)
    }

    /// Each campaign, coverage line or movement edge as one JSON line, as `-f json` writes
    /// the values (for a front end that merges hosts' answers).
    fn json_lines(&self, what: &str) -> PyResult<Vec<String>> {
        fn lines<T: serde::Serialize>(items: &[T]) -> Vec<String> {
            items
                .iter()
                .map(|item| {
                    let mut out = Vec::new();
                    escape::write_json(&mut out, escape::JsonFormatter::compact(), item)
                        .expect("writing to memory");
                    String::from_utf8(out).expect("JSON is UTF-8")
                })
                .collect()
        }
        Ok(match (&self.hunt.answer, what) {
            (Answer::Lifecycle(r), "findings") => lines(&r.findings),
            (Answer::Lifecycle(r), "campaigns") => lines(&r.campaigns),
            (Answer::Lifecycle(r), "coverage") => lines(&r.coverage),
            (Answer::Lifecycle(r), "edges") => lines(&emit::graph::edges(&r.findings)),
            (Answer::Kql(rows), "findings") => lines(rows),
            (Answer::Kql(_), "campaigns" | "coverage" | "edges") => Vec::new(),
            _ => {
                return Err(value_error(format!(
                    "no list {what:?}: findings, campaigns, coverage or edges"
                )));
            }
        })
    }
}

/// Hunt `paths` or the events in `events` (a table of the events schema).
#[pyfunction]
#[pyo3(signature = (paths=None, events=None, options=None))]
fn hunt(
    py: Python<'_>,
    paths: Option<Vec<PathBuf>>,
    events: Option<PyArrowType<Table>>,
    options: Option<Options>,
) -> PyResult<NativeHunt> {
    let engine = engine(&options.unwrap_or_default())?;
    match (paths, events) {
        (Some(paths), None) => {
            let hunt = py.detach(|| engine.hunt_paths(&paths));
            let warnings = hunt.warnings.clone();
            Ok(NativeHunt { hunt, warnings })
        }
        (None, Some(PyArrowType(table))) => {
            let (batches, _) = table.into_inner();
            let (hunt, warnings) = py.detach(|| -> PyResult<_> {
                let mut events = Vec::new();
                let mut warnings = Vec::new();
                let mut skipped = 0;
                let mut row = 0u64;
                for batch in &batches {
                    let back = sarrow::events_from_batch(batch, "events table", row)
                        .map_err(value_error)?;
                    row += batch.num_rows() as u64;
                    events.extend(back.events);
                    warnings.extend(back.warnings);
                    skipped += back.skipped;
                }
                let mut hunt = engine.hunt_events(events);
                if skipped > 0 {
                    hunt.stats
                        .records_skipped
                        .insert("events table row that is not an event".into(), skipped);
                }
                Ok((hunt, warnings))
            })?;
            Ok(NativeHunt { hunt, warnings })
        }
        _ => Err(value_error("give paths or events (one of them)")),
    }
}

/// The event ids a hunt of `semantics` reads first, to learn what to look for in the rest
/// (the installs, for the lifecycle): a front end that hunts each host alone hands every host
/// the others' too, so that each looks for what the whole hunt looks for.
#[pyfunction]
#[pyo3(signature = (semantics="lifecycle"))]
fn anchor_ids(semantics: &str) -> PyResult<Vec<u32>> {
    let anchors = plan_of(semantics)?.anchor_filter();
    Ok((0..65536).filter(|id| anchors.wants(*id)).collect())
}

/// The key svchunt puts one host's events together by: the first label of the computer
/// name, ASCII lower-cased (`WKS01.corp.local` and `wks01` are one host).
#[pyfunction]
fn host_key(computer: &str) -> String {
    svchunt::lifecycle::host_key(computer)
}

/// The events table's schema (pyarrow).
#[pyfunction]
fn events_schema() -> PyArrowType<arrow_schema::Schema> {
    PyArrowType(sarrow::events_schema().as_ref().clone())
}

/// The findings table's schema (pyarrow).
#[pyfunction]
fn findings_schema() -> PyArrowType<arrow_schema::Schema> {
    PyArrowType(sarrow::findings_schema().as_ref().clone())
}

#[pymodule]
fn _svchunt(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(read_events, m)?)?;
    m.add_function(wrap_pyfunction!(read_events_from_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(hunt, m)?)?;
    m.add_function(wrap_pyfunction!(host_key, m)?)?;
    m.add_function(wrap_pyfunction!(anchor_ids, m)?)?;
    m.add_function(wrap_pyfunction!(events_schema, m)?)?;
    m.add_function(wrap_pyfunction!(findings_schema, m)?)?;
    m.add_class::<NativeHunt>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
