//! CSV exports: the Sentinel / Log Analytics portal's "Export to CSV" of the `Event`,
//! `SecurityEvent` and `WindowsEvent` tables, and Splunk results exported as CSV (a `_raw`
//! column holding the event). The header names the columns (`TimeGenerated [UTC]`, `_raw`, …),
//! which say the kind; each Sentinel row is mapped like a JSON row of the same table (see
//! `read::json::sentinel`), each Splunk row like a Splunk JSON result, and every row is located
//! by the line it starts on (quoted fields may span lines).

use std::io::BufRead;
use std::sync::Arc;

use super::json::problems::{Problems, RecordError};
use super::json::sentinel::{self, Row, TableKind};
use super::json::splunk;
use super::{FileOutput, ReadOptions};
use crate::event::Locator;

/// True when the first line of a text is the header of a CSV export svchunt reads: a
/// Sentinel table's columns. (A comma alone says nothing: most source files have one.)
pub fn known_header(text: &[u8]) -> bool {
    // Windows PowerShell's Export-Csv writes a `#TYPE` line before the header.
    let text = if text.starts_with(b"#TYPE ") {
        let after = memchr::memchr(b'\n', text).map_or(text.len(), |i| i + 1);
        &text[after..]
    } else {
        text
    };
    let line_end = memchr::memchr(b'\n', text).unwrap_or(text.len());
    let line = &text[..line_end];
    if line.contains(&0) || std::str::from_utf8(line).is_err() || !line.contains(&b',') {
        return false;
    }
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line);
    let mut record = csv::StringRecord::new();
    if !csv.read_record(&mut record).unwrap_or(false) {
        return false;
    }
    let columns: Vec<&str> = record.iter().map(sentinel::column_name).collect();
    sentinel::table_kind(columns.iter().copied()).is_some()
        || columns.contains(&"_raw")
        || is_powershell(&columns)
}

/// The columns of `Get-WinEvent | Export-Csv`.
fn is_powershell<S: AsRef<str>>(columns: &[S]) -> bool {
    let has = |c: &str| columns.iter().any(|x| x.as_ref() == c);
    has("Id") && has("TimeCreated") && has("Properties") && (has("MachineName") || has("LogName"))
}

/// What the rows of a CSV export are.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Rows of a Sentinel table.
    Sentinel(TableKind),
    /// Splunk results: the event in column `raw`, its host in `host`.
    Splunk { raw: usize, host: Option<usize> },
    /// PowerShell's `Export-Csv` of `Get-WinEvent`: recognised to say why it cannot be read.
    PowerShell,
}

/// Read one CSV export.
pub fn read_csv(
    name: &Arc<str>,
    reader: &mut dyn BufRead,
    opts: &ReadOptions,
    out: &mut FileOutput,
) {
    // Windows PowerShell's `#TYPE …` line comes before the header.
    let mut type_line = 0;
    if reader.fill_buf().is_ok_and(|b| b.starts_with(b"#TYPE ")) {
        let mut skipped = Vec::new();
        if reader.read_until(b'\n', &mut skipped).is_ok() {
            type_line = 1;
            out.stats.bytes += skipped.len() as u64;
        }
    }
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let columns: Vec<String> = match csv.headers() {
        Ok(h) => h
            .iter()
            .map(|c| sentinel::column_name(c).to_string())
            .collect(),
        Err(e) => {
            out.warn(name, "line 1", format!("unreadable CSV header: {e}"));
            out.stats.files_skipped += 1;
            return;
        }
    };
    let position = |c: &str| columns.iter().position(|x| x == c);
    let kind = match (
        sentinel::table_kind(columns.iter().map(String::as_str)),
        position("_raw"),
    ) {
        (Some(kind), _) => Kind::Sentinel(kind),
        (None, Some(raw)) => Kind::Splunk {
            raw,
            host: position("host"),
        },
        (None, None) if is_powershell(&columns) => Kind::PowerShell,
        (None, None) => {
            out.warn(
                name,
                "line 1",
                format!(
                    "CSV columns ({}) are not those of a Sentinel Event, SecurityEvent or WindowsEvent export, nor Splunk's",
                    columns.join(", ")
                ),
            );
            out.stats.files_skipped += 1;
            return;
        }
    };
    let table = CsvTable {
        name,
        opts,
        event_id_column: columns.iter().position(|c| c == "EventID"),
        columns: &columns,
        kind,
        type_line,
    };
    table.read_rows(&mut csv, out);
}

/// What is known about a CSV file once its header is read.
struct CsvTable<'a> {
    name: &'a Arc<str>,
    opts: &'a ReadOptions,
    columns: &'a [String],
    event_id_column: Option<usize>,
    kind: Kind,
    /// 1 when a `#TYPE` line came before the header (the csv reader counts from the header).
    type_line: u64,
}

impl CsvTable<'_> {
    fn read_rows<R: std::io::Read>(&self, csv: &mut csv::Reader<R>, out: &mut FileOutput) {
        let mut problems = Problems::default();
        let mut record = csv::StringRecord::new();
        loop {
            match csv.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let line = record.position().map_or(0, |p| p.line()) + self.type_line;
                    let at = Locator::Line(line);
                    self.row(&record, at, out, &mut problems);
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    if let csv::ErrorKind::Utf8 { .. } = e.kind() {
                        let err = RecordError::new("not UTF-8", e.to_string());
                        problems.skip(out, self.name, Locator::Line(line), err);
                        continue;
                    }
                    let err = match e.into_kind() {
                        csv::ErrorKind::Io(io) => io,
                        other => std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!("{other:?}"),
                        ),
                    };
                    out.lost_rest(self.name, format!("line {line}"), &err);
                    break;
                }
            }
        }
        out.stats.bytes += csv.position().byte();
        problems.finish(out, self.name);
    }

    fn row(
        &self,
        record: &csv::StringRecord,
        at: Locator,
        out: &mut FileOutput,
        problems: &mut Problems,
    ) {
        if record.len() != self.columns.len() {
            let kind = if record.len() < self.columns.len() {
                "missing column"
            } else {
                "extra column"
            };
            let detail = format!(
                "{} fields where the header has {}",
                record.len(),
                self.columns.len()
            );
            return problems.skip(out, self.name, at, RecordError::new(kind, detail));
        }
        if self.unwanted(record) {
            out.stats.records += 1;
            return;
        }
        let mapped = match self.kind {
            Kind::Sentinel(kind) => {
                let row = Row::from_texts(self.columns, record.iter());
                sentinel::to_event(&row, kind, self.name, at)
            }
            // Export-Csv writes `Properties` as its type's name: the data survives only in the
            // message Windows rendered for a person, in the host's language.
            Kind::PowerShell => Err(RecordError::new(
                "PowerShell Export-Csv row",
                "Export-Csv keeps no event data (Properties is written as a type name); \
                 export with `Get-WinEvent … | ConvertTo-Json` instead",
            )),
            Kind::Splunk { raw, host } => splunk::to_event(
                record.get(raw).unwrap_or_default(),
                host.and_then(|h| record.get(h)).filter(|h| !h.is_empty()),
                self.name,
                at,
            ),
        };
        match mapped {
            Ok(event) => out.offer(event, self.opts),
            Err(err) => problems.skip(out, self.name, at, err),
        }
    }

    /// True when the row's EventID is readable and not wanted: no need to parse its XML.
    fn unwanted(&self, record: &csv::StringRecord) -> bool {
        self.event_id_column
            .and_then(|i| record.get(i))
            .and_then(|id| id.trim().parse::<u32>().ok())
            .is_some_and(|id| !self.opts.filter().wants(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::select::Filter;

    fn read(text: &str, opts: &ReadOptions) -> FileOutput {
        let mut out = FileOutput::default();
        read_csv(&"export.csv".into(), &mut text.as_bytes(), opts, &mut out);
        out
    }

    const HEADER: &str = "TimeGenerated [UTC],Computer,EventID,Activity,Account,SubjectUserSid,SubjectLogonId,ServiceName,ServiceFileName\n";

    #[test]
    fn portal_security_event_export() {
        let text = format!(
            "{HEADER}\"10/18/2023, 3:00:17.123 AM\",DC1,4697,\"4697 - A service was installed in the system.\",\"CORP\\admin\",S-1-5-21-1-500,0x3e7,PSEXESVC,\"%SystemRoot%\\PSEXESVC.exe\"\n\
             2023-10-18T03:00:18Z,DC1,4624,x,CORP\\admin,S-1-5-21-1-500,0x3e7,,\n"
        );
        let out = read(&text, &ReadOptions::default());
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(out.events.len(), 2);
        let e = &out.events[0];
        assert_eq!(e.time.to_string(), "2023-10-18T03:00:17.123Z");
        assert_eq!(e.channel, "Security");
        assert_eq!(e.user.name.as_deref(), Some("CORP\\admin"));
        assert_eq!(
            e.field("ServiceFileName"),
            Some("%SystemRoot%\\PSEXESVC.exe")
        );
        assert_eq!(e.origin.locator, Locator::Line(2));
        assert_eq!(out.events[1].origin.locator, Locator::Line(3));
        assert_eq!(out.events[1].field("ServiceName"), None);
    }

    #[test]
    fn short_rows_and_bad_ids_are_located() {
        let text = format!(
            "{HEADER}2023-10-18T03:00:17Z,DC1,4697\n2023-10-18T03:00:17Z,DC1,abc,,,,,,\n2023-10-18T03:00:17Z,DC1,4697,,,,,X,\n"
        );
        let out = read(&text, &ReadOptions::default());
        assert_eq!(out.events.len(), 1);
        assert_eq!(out.stats.records_skipped["missing column"], 1);
        assert_eq!(out.stats.records_skipped["no event id"], 1);
        assert_eq!(out.warnings[0].location, "line 2");
        assert_eq!(out.warnings[1].location, "line 3");
    }

    #[test]
    fn unwanted_rows_are_counted() {
        let text = format!(
            "{HEADER}2023-10-18T03:00:17Z,DC1,4624,,,,,,\n2023-10-18T03:00:17Z,DC1,4697,,,,,X,\n"
        );
        let opts = ReadOptions::default().with_filter(Filter::ids([4697]));
        let out = read(&text, &opts);
        assert_eq!((out.stats.records, out.stats.records_selected), (2, 1));
    }

    #[test]
    fn splunk_csv_with_xml_raw() {
        let raw = "<Event xmlns='x'><System><Provider Name='Service Control Manager'/><EventID Qualifiers='16384'>7045</EventID><TimeCreated SystemTime='2024-05-06T10:00:00.1234567Z'/><EventRecordID>9</EventRecordID><Channel>System</Channel><Computer>WKS-0001</Computer></System><EventData><Data Name='ServiceName'>PSEXESVC</Data></EventData></Event>";
        let text = format!(
            "\"_time\",host,\"_raw\"\n\"2024-05-06T10:00:00.123+0000\",WKS-0001,\"{}\"\n",
            raw.replace('"', "\"\"")
        );
        assert!(known_header(text.as_bytes()));
        let out = read(&text, &ReadOptions::default());
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(out.events[0].field("ServiceName"), Some("PSEXESVC"));
        assert_eq!(out.events[0].origin.locator, Locator::Line(2));
    }

    #[test]
    fn powershell_export_csv_is_recognised_and_explained() {
        let text = "#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\n\"Message\",\"Id\",\"RecordId\",\"ProviderName\",\"LogName\",\"MachineName\",\"UserId\",\"TimeCreated\",\"Properties\"\n\"A service was installed in the system.\",\"7045\",\"9\",\"Service Control Manager\",\"System\",\"WKS-0001\",\"S-1-5-18\",\"5/6/2024 10:00:00 AM\",\"System.Collections.Generic.List`1[System.Diagnostics.Eventing.Reader.EventProperty]\"\n";
        assert!(known_header(text.as_bytes()));
        let out = read(text, &ReadOptions::default());
        assert!(out.events.is_empty());
        assert_eq!(out.stats.records_skipped["PowerShell Export-Csv row"], 1);
        assert_eq!(out.warnings[0].location, "line 3");
        assert!(out.warnings[0].message.contains("ConvertTo-Json"));
    }

    #[test]
    fn unknown_columns_skip_the_file() {
        let out = read("a,b,c\n1,2,3\n", &ReadOptions::default());
        assert_eq!(out.stats.files_skipped, 1);
        assert_eq!(out.warnings.len(), 1);
        assert!(out.events.is_empty());
    }
}
