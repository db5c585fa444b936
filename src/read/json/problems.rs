//! Located warnings for records that could not be read, capped per kind so that a file with
//! a million bad lines gives twenty readable warnings and one summary, while every skipped
//! record is still counted in the run's statistics.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::event::Locator;
use crate::read::FileOutput;

/// How many warnings of one kind a file may give before the rest are summarised.
pub(crate) const WARNINGS_PER_KIND: u64 = 20;

/// Why one record could not become an [`Event`](crate::event::Event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecordError {
    /// A short, stable reason: the key under which the skip is counted.
    pub kind: &'static str,
    /// What exactly was wrong with this record.
    pub detail: String,
}

impl RecordError {
    pub(crate) fn new(kind: &'static str, detail: impl Into<String>) -> Self {
        RecordError {
            kind,
            detail: detail.into(),
        }
    }
}

/// Counts warnings per kind for one input and writes them, capped, into its [`FileOutput`].
#[derive(Debug, Default)]
pub(crate) struct Problems {
    per_kind: BTreeMap<&'static str, u64>,
}

impl Problems {
    /// Count a skipped record and warn about it unless this kind already warned enough.
    pub(crate) fn skip(
        &mut self,
        out: &mut FileOutput,
        file: &Arc<str>,
        at: Locator,
        err: RecordError,
    ) {
        self.skip_at(out, file, at.to_string(), err);
    }

    /// Like [`Problems::skip`], for a position that is not a record (`line 3, column 7`).
    pub(crate) fn skip_at(
        &mut self,
        out: &mut FileOutput,
        file: &Arc<str>,
        at: String,
        err: RecordError,
    ) {
        out.skip(err.kind);
        let seen = self.per_kind.entry(err.kind).or_default();
        *seen += 1;
        if *seen <= WARNINGS_PER_KIND {
            out.warn(file, at, format!("{}: {}", err.kind, err.detail));
        }
    }

    /// Add one summary warning per kind whose warnings were capped.
    pub(crate) fn finish(self, out: &mut FileOutput, file: &Arc<str>) {
        for (kind, seen) in self.per_kind {
            if seen > WARNINGS_PER_KIND {
                out.warn(
                    file,
                    "",
                    format!(
                        "{kind}: … and {} more records like this",
                        seen - WARNINGS_PER_KIND
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_capped_but_every_skip_is_counted() {
        let file: Arc<str> = "f.json".into();
        let mut out = FileOutput::default();
        let mut p = Problems::default();
        for n in 1..=25 {
            p.skip(
                &mut out,
                &file,
                Locator::Line(n),
                RecordError::new("not JSON", "x"),
            );
        }
        p.skip(
            &mut out,
            &file,
            Locator::Line(26),
            RecordError::new("no event id", "y"),
        );
        p.finish(&mut out, &file);
        assert_eq!(out.stats.records_skipped["not JSON"], 25);
        assert_eq!(out.stats.skipped_total(), 26);
        // 20 capped + 1 other kind + 1 summary.
        assert_eq!(out.warnings.len(), 22);
        assert_eq!(out.warnings[19].location, "line 20");
        assert_eq!(out.warnings[20].location, "line 26");
        assert_eq!(
            out.warnings[21].message,
            "not JSON: … and 5 more records like this"
        );
    }
}
