//! Value encoding: BinXML value-type codes and the little-endian bytes of each value, as they
//! appear in a template instance's substitution array.

use crate::error::WriteError;
use crate::record::{DataValue, to_filetime};

/// BinXML value types (MS-EVEN6 2.2.4.1; libyal's "value type" table).
pub(crate) mod ty {
    pub const NULL: u8 = 0x00;
    pub const STRING: u8 = 0x01;
    pub const ANSI_STRING: u8 = 0x02;
    pub const UINT8: u8 = 0x04;
    pub const UINT16: u8 = 0x06;
    pub const UINT32: u8 = 0x08;
    pub const UINT64: u8 = 0x0a;
    pub const BOOL: u8 = 0x0d;
    pub const BINARY: u8 = 0x0e;
    pub const GUID: u8 = 0x0f;
    pub const SIZE_T: u8 = 0x10;
    pub const FILETIME: u8 = 0x11;
    pub const SID: u8 = 0x13;
    pub const HEX_INT32: u8 = 0x14;
    pub const HEX_INT64: u8 = 0x15;
    pub const BIN_XML: u8 = 0x21;
    pub const STRING_ARRAY: u8 = 0x81;
}

/// The value type a `DataValue` is declared with in a template.
pub(crate) fn type_of(v: &DataValue) -> u8 {
    match v {
        DataValue::String(_) => ty::STRING,
        DataValue::AnsiString(_) => ty::ANSI_STRING,
        DataValue::UInt8(_) => ty::UINT8,
        DataValue::UInt16(_) => ty::UINT16,
        DataValue::UInt32(_) => ty::UINT32,
        DataValue::UInt64(_) => ty::UINT64,
        DataValue::Bool(_) => ty::BOOL,
        DataValue::Binary(_) => ty::BINARY,
        DataValue::Guid(_) => ty::GUID,
        DataValue::SizeT(_) => ty::SIZE_T,
        DataValue::FileTime(_) => ty::FILETIME,
        DataValue::Sid(_) => ty::SID,
        DataValue::HexInt32(_) => ty::HEX_INT32,
        DataValue::HexInt64(_) => ty::HEX_INT64,
        DataValue::StringArray(_) => ty::STRING_ARRAY,
    }
}

/// Append `s` as UTF-16LE without a terminator; returns the number of UTF-16 units.
pub(crate) fn push_utf16(out: &mut Vec<u8>, s: &str) -> usize {
    let mut n = 0;
    for u in s.encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
        n += 1;
    }
    n
}

/// Append the bytes of `v` (no type or size: those go in the descriptor).
pub(crate) fn encode(out: &mut Vec<u8>, v: &DataValue) -> Result<(), WriteError> {
    match v {
        DataValue::String(s) => {
            let start = out.len();
            push_utf16(out, s);
            if out.len() - start > usize::from(u16::MAX) {
                return Err(WriteError::InvalidValue(format!(
                    "string of {} bytes is longer than a substitution holds",
                    out.len() - start
                )));
            }
        }
        DataValue::UInt8(x) => out.push(*x),
        DataValue::UInt16(x) => out.extend_from_slice(&x.to_le_bytes()),
        DataValue::UInt32(x) | DataValue::HexInt32(x) => out.extend_from_slice(&x.to_le_bytes()),
        DataValue::UInt64(x) | DataValue::SizeT(x) | DataValue::HexInt64(x) => {
            out.extend_from_slice(&x.to_le_bytes())
        }
        DataValue::Bool(b) => out.extend_from_slice(&u32::from(*b).to_le_bytes()),
        DataValue::Binary(b) => {
            if b.len() > usize::from(u16::MAX) {
                return Err(WriteError::InvalidValue(
                    "binary value over 65535 bytes".into(),
                ));
            }
            out.extend_from_slice(b)
        }
        DataValue::AnsiString(s) => {
            if s.len() > usize::from(u16::MAX) {
                return Err(WriteError::InvalidValue(
                    "code-page string over 65535 bytes".into(),
                ));
            }
            out.extend_from_slice(s.as_bytes())
        }
        DataValue::Guid(g) => out.extend_from_slice(&g.0),
        DataValue::FileTime(t) => out.extend_from_slice(&to_filetime(*t).to_le_bytes()),
        DataValue::Sid(s) => out.extend_from_slice(&s.to_bytes()),
        DataValue::StringArray(items) => {
            let start = out.len();
            for item in items {
                push_utf16(out, item);
                out.extend_from_slice(&[0, 0]);
            }
            if out.len() - start > usize::from(u16::MAX) {
                return Err(WriteError::InvalidValue(format!(
                    "string array of {} bytes is longer than a substitution holds",
                    out.len() - start
                )));
            }
        }
    }
    Ok(())
}

/// The 16-bit name hash of the chunk string table: `h = h * 65599 + unit` over the UTF-16
/// units, low 16 bits (checked against names in real Windows chunks).
pub(crate) fn name_hash(name: &str) -> u16 {
    let mut h: u32 = 0;
    for u in name.encode_utf16() {
        h = h.wrapping_mul(65599).wrapping_add(u32::from(u));
    }
    h as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_hashes_match_windows_chunks() {
        // Values read from the string table of a real System.evtx chunk.
        assert_eq!(name_hash("Event"), 0x0cba);
        assert_eq!(name_hash("xmlns"), 0x0fbc);
        assert_eq!(name_hash("Provider"), 0x7bf1);
        assert_eq!(name_hash("Name"), 0x954b);
    }
}
