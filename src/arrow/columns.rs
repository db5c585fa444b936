//! Column building and reading shared by the event and report tables: plain arrays built
//! from iterators, structs and lists assembled from them, and typed views over the columns of
//! a batch handed back (strings of any offset width, lists of either, times of any unit).
//!
//! Arrays are built whole from values rather than through arrow's per-type builders: every
//! table here is a few flat loops over Rust values, and building the children first keeps the
//! nested types (and so the schema) derived from one place, the code that fills them.

use std::ops::Range;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Int8Type, Int16Type, Int32Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Int64Array, LargeListArray, LargeStringArray, ListArray,
    RecordBatch, RecordBatchOptions, StringArray, StringViewArray, StructArray,
    TimestampNanosecondArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema, TimeUnit};
use jiff::Timestamp;

/// Named columns being assembled into a batch or a struct.
#[derive(Default)]
pub(super) struct Columns {
    fields: Vec<Field>,
    arrays: Vec<ArrayRef>,
}

impl Columns {
    /// Add a column; `nullable` says whether it can hold nulls, and is part of the schema
    /// (the same whatever the rows, so that batches of one table always share it).
    pub fn add(&mut self, name: &str, array: ArrayRef, nullable: bool) -> &mut Self {
        self.fields
            .push(Field::new(name, array.data_type().clone(), nullable));
        self.arrays.push(array);
        self
    }

    /// The columns as a batch of `rows` rows.
    pub fn batch(self, rows: usize) -> RecordBatch {
        RecordBatch::try_new_with_options(
            Arc::new(Schema::new(self.fields)),
            self.arrays,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )
        .expect("columns built to one length and their own types")
    }

    /// The columns as a struct array, null where `valid` is false.
    pub fn into_struct(self, valid: Option<Vec<bool>>) -> ArrayRef {
        let nulls = valid.map(NullBuffer::from);
        Arc::new(
            StructArray::try_new(self.fields.into(), self.arrays, nulls)
                .expect("children built to one length"),
        )
    }
}

/// A utf8 column.
pub(super) fn utf8<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(StringArray::from_iter(values))
}

/// An int64 column.
pub(super) fn int64(values: impl IntoIterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(Int64Array::from_iter(values))
}

/// A boolean column.
pub(super) fn boolean(values: impl IntoIterator<Item = bool>) -> ArrayRef {
    Arc::new(BooleanArray::from_iter(values.into_iter().map(Some)))
}

/// A `timestamp[ns, UTC]` column.
pub(super) fn timestamps(values: impl IntoIterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(TimestampNanosecondArray::from_iter(values).with_timezone("UTC"))
}

/// A list column: row `i` holds the next `lengths[i]` values of `child`.
pub(super) fn list(child: ArrayRef, lengths: &[usize]) -> ArrayRef {
    let field = Arc::new(Field::new("item", child.data_type().clone(), true));
    Arc::new(
        ListArray::try_new(
            field,
            OffsetBuffer::from_lengths(lengths.iter().copied()),
            child,
            None,
        )
        .expect("lengths add up to the child's length"),
    )
}

/// A `list<utf8>` column.
pub(super) fn utf8_lists<'a>(rows: impl IntoIterator<Item = &'a [String]>) -> ArrayRef {
    let mut lengths = Vec::new();
    let mut values = Vec::new();
    for row in rows {
        lengths.push(row.len());
        values.extend(row.iter().map(|s| Some(s.as_str())));
    }
    list(utf8(values), &lengths)
}

/// `t` in nanoseconds since 1970, if 64 bits hold it.
pub(super) fn nanos(t: Timestamp) -> Option<i64> {
    i64::try_from(t.as_nanosecond()).ok()
}

/// The JSON spelling of a unit enum (`Role::DeleteFlagSet` → `delete-flag-set`).
pub(super) fn serde_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

fn type_error(column: &str, wanted: &str, got: &DataType) -> ArrowError {
    ArrowError::SchemaError(format!(
        "column `{column}` must be {wanted}, but it is {got}"
    ))
}

/// A string column of any offset width.
pub(super) enum Strings<'a> {
    Small(&'a StringArray),
    Large(&'a LargeStringArray),
    View(&'a StringViewArray),
}

impl<'a> Strings<'a> {
    pub fn of(column: &str, array: &'a dyn Array) -> Result<Self, ArrowError> {
        if let Some(a) = array.as_string_opt::<i32>() {
            Ok(Strings::Small(a))
        } else if let Some(a) = array.as_string_opt::<i64>() {
            Ok(Strings::Large(a))
        } else if let Some(a) = array.as_string_view_opt() {
            Ok(Strings::View(a))
        } else {
            Err(type_error(column, "a string", array.data_type()))
        }
    }

    /// Row `i`, `None` when null.
    pub fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Strings::Small(a) => a.is_valid(i).then(|| a.value(i)),
            Strings::Large(a) => a.is_valid(i).then(|| a.value(i)),
            Strings::View(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
}

/// An integer column of any width and sign, read as i128 so that no value is cut.
pub(super) struct Integers<'a>(Box<dyn Fn(usize) -> Option<i128> + 'a>);

impl<'a> Integers<'a> {
    pub fn of(column: &str, array: &'a dyn Array) -> Result<Self, ArrowError> {
        macro_rules! try_type {
            ($($t:ty),*) => {$(
                if let Some(a) = array.as_primitive_opt::<$t>() {
                    return Ok(Integers(Box::new(move |i| a.is_valid(i).then(|| i128::from(a.value(i))))));
                }
            )*};
        }
        try_type!(
            Int64Type, Int32Type, Int16Type, Int8Type, UInt64Type, UInt32Type, UInt16Type,
            UInt8Type
        );
        Err(type_error(column, "an integer", array.data_type()))
    }

    pub fn get(&self, i: usize) -> Option<i128> {
        (self.0)(i)
    }
}

/// A time column of any unit (a bare int64 is read as nanoseconds since 1970, as Spark jobs
/// carry times they must not round to Spark's microseconds).
pub(super) struct Times<'a>(Box<dyn Fn(usize) -> Option<i128> + 'a>);

impl<'a> Times<'a> {
    pub fn of(column: &str, array: &'a dyn Array) -> Result<Self, ArrowError> {
        let scale: i128 = match array.data_type() {
            DataType::Timestamp(TimeUnit::Second, _) => 1_000_000_000,
            DataType::Timestamp(TimeUnit::Millisecond, _) => 1_000_000,
            DataType::Timestamp(TimeUnit::Microsecond, _) => 1_000,
            DataType::Timestamp(TimeUnit::Nanosecond, _) | DataType::Int64 => 1,
            other => return Err(type_error(column, "a timestamp", other)),
        };
        macro_rules! try_type {
            ($($t:ty),*) => {$(
                if let Some(a) = array.as_primitive_opt::<$t>() {
                    return Ok(Times(Box::new(move |i| {
                        a.is_valid(i).then(|| i128::from(a.value(i)) * scale)
                    })));
                }
            )*};
        }
        try_type!(
            TimestampNanosecondType,
            TimestampMicrosecondType,
            TimestampMillisecondType,
            TimestampSecondType,
            Int64Type
        );
        Err(type_error(column, "a timestamp", array.data_type()))
    }

    /// Row `i` as a time, `None` when null or beyond what a time can be.
    pub fn get(&self, i: usize) -> Option<Result<Timestamp, String>> {
        let ns = (self.0)(i)?;
        Some(Timestamp::from_nanosecond(ns).map_err(|e| e.to_string()))
    }
}

/// A list column of either offset width.
pub(super) enum Lists<'a> {
    Small(&'a ListArray),
    Large(&'a LargeListArray),
}

impl<'a> Lists<'a> {
    pub fn of(column: &str, array: &'a dyn Array) -> Result<Self, ArrowError> {
        if let Some(a) = array.as_list_opt::<i32>() {
            Ok(Lists::Small(a))
        } else if let Some(a) = array.as_list_opt::<i64>() {
            Ok(Lists::Large(a))
        } else {
            Err(type_error(column, "a list", array.data_type()))
        }
    }

    /// The child values.
    pub fn values(&self) -> &'a ArrayRef {
        match self {
            Lists::Small(a) => a.values(),
            Lists::Large(a) => a.values(),
        }
    }

    /// Which child values row `i` holds (none when null).
    pub fn range(&self, i: usize) -> Range<usize> {
        match self {
            Lists::Small(a) if a.is_valid(i) => {
                let o = a.value_offsets();
                o[i] as usize..o[i + 1] as usize
            }
            Lists::Large(a) if a.is_valid(i) => {
                let o = a.value_offsets();
                o[i] as usize..o[i + 1] as usize
            }
            _ => 0..0,
        }
    }
}

/// The struct column `name` of `array`'s children, or an error naming `path`.
pub(super) fn struct_of<'a>(
    path: &str,
    array: &'a dyn Array,
) -> Result<&'a StructArray, ArrowError> {
    array
        .as_struct_opt()
        .ok_or_else(|| type_error(path, "a struct", array.data_type()))
}

/// Child `name` of a struct, if present.
pub(super) fn child<'a>(s: &'a StructArray, name: &str) -> Option<&'a ArrayRef> {
    s.column_by_name(name)
}
