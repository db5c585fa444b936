//! A lean walk over an EVTX chunk: each record's id, EventID and raw bytes, without building it.
//!
//! Why this exists: the `evtx` crate builds every record's content when it iterates a chunk,
//! which is most of the cost of a pass over a log, even when nothing in the chunk is wanted.
//! Reading only the record headers and the EventID out of the substitution array (value 3 of the
//! System template, as Windows writes it) tells svchunt, per chunk, whether any record needs
//! the crate at all; chunks that hold nothing of interest are counted and never parsed. The
//! crate stays the reader of every record svchunt keeps, and a test compares both paths over
//! the whole shared corpus. Anything this walk does not understand makes the chunk go to the
//! crate, so it can only skip work, never records.

/// Size of a record header (magic, size, record id, timestamp).
const RECORD_HEADER: usize = 24;
/// Where records start in a chunk.
const FIRST_RECORD: usize = 512;
const RECORD_MAGIC: &[u8; 4] = b"\x2a\x2a\x00\x00";
/// BinXML tokens.
const FRAGMENT_HEADER: u8 = 0x0f;
const TEMPLATE_INSTANCE: u8 = 0x0c;
/// BinXML value type of an unsigned 16-bit integer.
const UINT16: u8 = 0x06;

/// BinXML value types the lean walk reads.
const STRING: u8 = 0x01;
const UINT64: u8 = 0x0a;
const HEX_INT64: u8 = 0x15;
const SID: u8 = 0x13;
const BINXML: u8 = 0x21;

/// A substitution value the lean walk can compare without rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawValue<'a> {
    /// UTF-16LE text.
    Utf16(&'a [u8]),
    /// A 64-bit number (logon ids are HexInt64).
    Number(u64),
    /// A binary SID.
    Sid(&'a [u8]),
}

/// One record as the lean walk sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeanRecord {
    /// EventRecordID from the record header.
    pub record_id: u64,
    /// Offset of the record in the chunk.
    pub offset: usize,
    /// Size of the record.
    pub size: usize,
    /// The EventID when the System template says it plainly.
    pub event_id: Option<u16>,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Walk the records of a chunk (its 64 KiB) up to `free_space_offset`, and as the crate does,
/// no further than the record the chunk header names its last. `None` when the walk meets
/// something it does not expect (the caller then lets the crate read the chunk).
pub fn records(chunk: &[u8], free_space_offset: usize) -> Option<Vec<LeanRecord>> {
    let end = free_space_offset.min(chunk.len());
    let last_id = u64_at(chunk, 32)?;
    let mut out = Vec::with_capacity(128);
    let mut at = FIRST_RECORD;
    while at + RECORD_HEADER <= end {
        if chunk.get(at..at + 4)? != RECORD_MAGIC {
            return None;
        }
        let size = u32_at(chunk, at + 4)? as usize;
        if size < RECORD_HEADER + 4 || at + size > end {
            return None;
        }
        // The size is repeated at the end of the record.
        if u32_at(chunk, at + size - 4)? as usize != size {
            return None;
        }
        let record_id = u64_at(chunk, at + 8)?;
        out.push(LeanRecord {
            record_id,
            offset: at,
            size,
            event_id: event_id(chunk, at + RECORD_HEADER, at + size - 4),
        });
        if record_id == last_id {
            break;
        }
        at += size;
    }
    Some(out)
}

/// Where a template instance's substitution array starts: past the fragment header, the
/// template instance token and an inline template definition.
fn substitutions(b: &[u8], start: usize) -> Option<usize> {
    let mut at = start;
    if *b.get(at)? == FRAGMENT_HEADER {
        at += 4;
    }
    if *b.get(at)? & 0x1f != TEMPLATE_INSTANCE {
        return None;
    }
    // token, unknown byte, template id, definition offset
    let def_offset = u32_at(b, at + 6)? as usize;
    at += 10;
    if def_offset == at {
        // Defined here: next-definition offset, GUID, size of the body, then the body.
        let body = u32_at(b, at + 20)? as usize;
        at += 24 + body;
    }
    Some(at)
}

/// The EventID of the BinXML at `start..end`: value 3 of the substitution array, when it is a
/// UInt16.
fn event_id(chunk: &[u8], start: usize, end: usize) -> Option<u16> {
    let b = chunk.get(..end)?;
    let at = substitutions(b, start)?;
    let count = u32_at(b, at)? as usize;
    if !(4..=4096).contains(&count) {
        return None;
    }
    let descriptors = at + 4;
    let mut value_at = descriptors + count * 4;
    for i in 0..3 {
        // Where the crate reads value 3: past values it reads at their descriptors' sizes
        // only when those are their types' (a shorter one, and it reads on from elsewhere).
        let size = u16_at(b, descriptors + i * 4)? as usize;
        let kind = *b.get(descriptors + i * 4 + 2)?;
        if !super::evtx_binxml::scalar_ok(kind, b.get(value_at..value_at + size)?) {
            return None;
        }
        value_at += size;
    }
    let (size, kind) = (u16_at(b, descriptors + 12)?, *b.get(descriptors + 14)?);
    if kind != UINT16 || size != 2 {
        return None;
    }
    u16_at(b, value_at)
}

/// The comparable substitution values of the record at `offset..offset + size` (strings,
/// 64-bit numbers, SIDs), nested EventData templates included; `None` when the walk cannot
/// read them (the caller then decides on the rendered record).
pub fn values(chunk: &[u8], offset: usize, size: usize) -> Option<Vec<RawValue<'_>>> {
    let b = chunk.get(..offset + size - 4)?;
    let mut out = Vec::with_capacity(32);
    collect_values(b, offset + RECORD_HEADER, &mut out, 0)?;
    Some(out)
}

fn collect_values<'a>(
    b: &'a [u8],
    start: usize,
    out: &mut Vec<RawValue<'a>>,
    depth: u8,
) -> Option<()> {
    if depth > 4 {
        return None;
    }
    let at = substitutions(b, start)?;
    let count = u32_at(b, at)? as usize;
    if count > 4096 {
        return None;
    }
    let descriptors = at + 4;
    let mut value_at = descriptors + count * 4;
    for i in 0..count {
        let size = u16_at(b, descriptors + i * 4)? as usize;
        let kind = *b.get(descriptors + i * 4 + 2)?;
        let value = b.get(value_at..value_at + size)?;
        // A value the crate reads otherwise than its descriptor says (a SID longer than its
        // size, say: it reads the whole SID, then the next values from the wrong place), or of a
        // type not compared here: the caller decides on the raw bytes instead.
        if kind != BINXML && !super::evtx_binxml::scalar_ok(kind, value) {
            return None;
        }
        match kind {
            STRING if size >= 2 => out.push(RawValue::Utf16(value)),
            UINT64 | HEX_INT64 if size == 8 => {
                out.push(RawValue::Number(u64::from_le_bytes(value.try_into().ok()?)))
            }
            SID => out.push(RawValue::Sid(value)),
            BINXML if size > 0 => collect_values(b, value_at, out, depth + 1)?,
            _ => {}
        }
        value_at += size;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_not_walked() {
        let mut chunk = vec![0u8; 65536];
        chunk[512..516].copy_from_slice(b"\x2a\x2a\x00\x00");
        chunk[516..520].copy_from_slice(&7u32.to_le_bytes()); // impossible size
        assert_eq!(records(&chunk, 4096), None);
        assert_eq!(
            records(&chunk, 512),
            Some(vec![]),
            "an empty chunk has no records"
        );
    }
}
