//! CSV exports (the Sentinel / Log Analytics portal's "Export to CSV") of the `Event`,
//! `SecurityEvent` and `WindowsEvent` tables. The header names the columns (`TimeGenerated
//! [UTC]`, …), which say the table; each row is mapped like a JSON row of the same table (see
//! `read::json::sentinel`) and located by the line it starts on (quoted fields may span lines).

use std::io::BufRead;
use std::sync::Arc;

use super::json::problems::{Problems, RecordError};
use super::json::sentinel::{self, Row, TableKind};
use super::{FileOutput, ReadOptions};
use crate::event::Locator;

/// Read one CSV export.
pub fn read_csv(
    name: &Arc<str>,
    reader: &mut dyn BufRead,
    opts: &ReadOptions,
    out: &mut FileOutput,
) {
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
    let Some(kind) = sentinel::table_kind(columns.iter().map(String::as_str)) else {
        out.warn(
            name,
            "line 1",
            format!(
                "CSV columns ({}) are not those of a Sentinel Event, SecurityEvent or WindowsEvent export",
                columns.join(", ")
            ),
        );
        out.stats.files_skipped += 1;
        return;
    };
    let table = CsvTable {
        name,
        opts,
        event_id_column: columns.iter().position(|c| c == "EventID"),
        columns: &columns,
        kind,
    };
    table.read_rows(&mut csv, out);
}

/// What is known about a CSV file once its header is read.
struct CsvTable<'a> {
    name: &'a Arc<str>,
    opts: &'a ReadOptions,
    columns: &'a [String],
    event_id_column: Option<usize>,
    kind: TableKind,
}

impl CsvTable<'_> {
    fn read_rows<R: std::io::Read>(&self, csv: &mut csv::Reader<R>, out: &mut FileOutput) {
        let mut problems = Problems::default();
        let mut record = csv::StringRecord::new();
        loop {
            match csv.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let at = Locator::Line(record.position().map_or(0, |p| p.line()));
                    self.row(&record, at, out, &mut problems);
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    if let csv::ErrorKind::Utf8 { .. } = e.kind() {
                        let err = RecordError::new("not UTF-8", e.to_string());
                        problems.skip(out, self.name, Locator::Line(line), err);
                        continue;
                    }
                    out.warn(
                        self.name,
                        format!("line {line}"),
                        format!("read failed, rest of input lost: {e}"),
                    );
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
        let row = Row::from_texts(self.columns, record.iter());
        match sentinel::to_event(&row, self.kind, self.name, at) {
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
    fn unknown_columns_skip_the_file() {
        let out = read("a,b,c\n1,2,3\n", &ReadOptions::default());
        assert_eq!(out.stats.files_skipped, 1);
        assert_eq!(out.warnings.len(), 1);
        assert!(out.events.is_empty());
    }
}
