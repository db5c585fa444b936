//! Record batches written as one Parquet file (feature `parquet`): Snappy-compressed, as Spark
//! writes by default, one row group per batch given, the schema stored so that readers get
//! the nested types back exactly.

use std::io::Write;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;

/// Write `batches` (all of `schema`) to `out` as one Parquet file.
pub fn write<W: Write + Send>(
    out: W,
    schema: SchemaRef,
    batches: impl IntoIterator<Item = RecordBatch>,
) -> Result<(), ParquetError> {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut writer = ArrowWriter::try_new(out, schema, Some(props))?;
    for batch in batches {
        writer.write(&batch)?;
        // One row group per batch: a reader (Spark, DuckDB) can split the file there.
        writer.flush()?;
    }
    writer.close()?;
    Ok(())
}
