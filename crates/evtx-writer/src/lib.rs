//! Writes binary EVTX (Windows XML Event Log) files that Windows' own reader, the `evtx` crate
//! and python-evtx accept: test fixtures, examples and benchmark corpora for svchunt.
//!
//! The layout follows libyal's "Windows XML Event Log (EVTX)" format document and what real
//! Windows logs hold (see [`binxml`] for the record layout):
//! a 4 KiB file header with its CRC32 and chunk count; 64 KiB chunks, each with a header CRC32,
//! an event-records CRC32, a string table and a template table; records as BinXML template
//! instances with typed substitution arrays.
//!
//! ```
//! use evtx_writer::{DataValue, EvtxWriter, Record, Sid, SystemFields};
//! let record = Record {
//!     record_id: 1,
//!     time: "2024-05-01T10:00:00Z".parse().unwrap(),
//!     system: SystemFields {
//!         provider: "Service Control Manager".into(),
//!         provider_guid: None,
//!         event_source_name: Some("Service Control Manager".into()),
//!         event_id: 7045,
//!         qualifiers: Some(16384),
//!         version: 0,
//!         level: 4,
//!         task: 0,
//!         opcode: 0,
//!         keywords: 0x8080_0000_0000_0000,
//!         activity_id: None,
//!         computer: "host1.corp.local".into(),
//!         channel: "System".into(),
//!         user_sid: Some(Sid::parse("S-1-5-18").unwrap()),
//!         process_id: 640,
//!         thread_id: 1712,
//!     },
//!     event_data: vec![("ServiceName".into(), DataValue::str("PSEXESVC"))],
//! };
//! let mut w = EvtxWriter::new(std::io::Cursor::new(Vec::new())).unwrap();
//! w.write_record(&record).unwrap();
//! let bytes = w.finish().unwrap().into_inner();
//! assert_eq!(bytes.len(), 4096 + 65536);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod binxml;
mod chunk;
mod error;
mod file_header;
mod record;
pub mod scenario;
mod tables;
mod value;
mod writer;

pub use chunk::{CHUNK_HEADER_SIZE, CHUNK_SIZE};
pub use error::WriteError;
pub use file_header::FILE_HEADER_SIZE;
pub use record::{DataValue, Guid, Record, Sid, SystemFields, to_filetime};
pub use writer::EvtxWriter;
