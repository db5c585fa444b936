//! The one error type of the writer.

use std::fmt;
use std::io;

/// Why a record or file could not be written.
#[derive(Debug)]
pub enum WriteError {
    /// The underlying writer failed.
    Io(io::Error),
    /// A value cannot be encoded (bad SID/GUID text, string over 32767 UTF-16 units, …).
    InvalidValue(String),
    /// The record's BinXML does not fit in an empty 64 KiB chunk.
    RecordTooLarge {
        /// The record id.
        record_id: u64,
        /// Its encoded size in bytes.
        size: usize,
    },
    /// Record ids must increase strictly within a file.
    RecordIdNotIncreasing {
        /// The id last written.
        previous: u64,
        /// The id offered.
        offered: u64,
    },
    /// The file header counts chunks in 16 bits: at most 65535 chunks (4 GiB) per file.
    TooManyChunks,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Io(e) => write!(f, "I/O error: {e}"),
            WriteError::InvalidValue(m) => write!(f, "invalid value: {m}"),
            WriteError::RecordTooLarge { record_id, size } => write!(
                f,
                "record {record_id} needs {size} bytes, more than a 64 KiB chunk holds"
            ),
            WriteError::RecordIdNotIncreasing { previous, offered } => write!(
                f,
                "record id {offered} does not follow {previous}: ids must increase"
            ),
            WriteError::TooManyChunks => write!(f, "more than 65535 chunks in one file"),
        }
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WriteError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for WriteError {
    fn from(e: io::Error) -> Self {
        WriteError::Io(e)
    }
}
