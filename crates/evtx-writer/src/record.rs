//! The public model of one event: what a caller fills in, before any bytes are written.
//!
//! A [`Record`] is the `<System>` block ([`SystemFields`]) plus an ordered list of
//! `<EventData>` fields, each a typed [`DataValue`]. Types matter: Windows stores a logon id
//! as a 64-bit hex integer, a SID as a binary SID, a port as a string, and readers render each
//! type differently, so the generator picks the type Windows uses for each field.

use std::fmt;

use jiff::Timestamp;

use crate::error::WriteError;

/// One event record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// `EventRecordID`; must increase strictly within one file.
    pub record_id: u64,
    /// `TimeCreated/@SystemTime`, also the record header's timestamp.
    pub time: Timestamp,
    /// The `<System>` block.
    pub system: SystemFields,
    /// `<EventData><Data Name=…>` fields, in order.
    pub event_data: Vec<(String, DataValue)>,
}

/// The `<System>` block of an event.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemFields {
    /// `Provider/@Name`, e.g. `Service Control Manager`.
    pub provider: String,
    /// `Provider/@Guid`.
    pub provider_guid: Option<Guid>,
    /// `Provider/@EventSourceName` (classic providers such as the Service Control Manager).
    pub event_source_name: Option<String>,
    /// `EventID`, stored as UInt16 at substitution index 3 like Windows' System template.
    pub event_id: u16,
    /// `EventID/@Qualifiers` (16384 for the SCM's 70xx events; none for manifest providers).
    pub qualifiers: Option<u16>,
    /// `Version`.
    pub version: u8,
    /// `Level` (4 = information).
    pub level: u8,
    /// `Task`.
    pub task: u16,
    /// `Opcode`.
    pub opcode: u8,
    /// `Keywords`, rendered as hex (`0x8020000000000000` for audit success).
    pub keywords: u64,
    /// `Correlation/@ActivityID`.
    pub activity_id: Option<Guid>,
    /// `Computer`: the host's FQDN as Windows logs it.
    pub computer: String,
    /// `Channel`, e.g. `System`, `Security`, `Microsoft-Windows-Sysmon/Operational`.
    pub channel: String,
    /// `Security/@UserID`; none gives `<Security/>` as in the Security log.
    pub user_sid: Option<Sid>,
    /// `Execution/@ProcessID`.
    pub process_id: u32,
    /// `Execution/@ThreadID`.
    pub thread_id: u32,
}

/// A typed `<Data>` value, encoded with the BinXML value type Windows uses for it.
#[derive(Debug, Clone, PartialEq)]
pub enum DataValue {
    /// UTF-16 string (type 0x01), at most 32767 UTF-16 units.
    String(String),
    /// Code-page string (type 0x02): the text's bytes as they are, at most 65535 (Windows
    /// writes these rarely; a reader must still find what they hold).
    AnsiString(String),
    /// Unsigned 8-bit integer (0x04).
    UInt8(u8),
    /// Unsigned 16-bit integer (0x06).
    UInt16(u16),
    /// Unsigned 32-bit integer (0x08), e.g. `LogonType`, `ServiceStartType`.
    UInt32(u32),
    /// Unsigned 64-bit integer (0x0a).
    UInt64(u64),
    /// Boolean (0x0d), stored as a 32-bit integer.
    Bool(bool),
    /// Binary blob (0x0e), rendered as upper-case hex.
    Binary(Vec<u8>),
    /// GUID (0x0f), e.g. `LogonGuid`, Sysmon's `ProcessGuid`.
    Guid(Guid),
    /// Pointer-sized integer (0x10, 64-bit), rendered as hex: `ProcessId`, `HandleId` in
    /// Security events.
    SizeT(u64),
    /// FILETIME (0x11).
    FileTime(Timestamp),
    /// Binary SID (0x13), e.g. `SubjectUserSid`.
    Sid(Sid),
    /// 32-bit hex integer (0x14), e.g. 4697 `ServiceType` (`0x10`), 5140 `AccessMask`.
    HexInt32(u32),
    /// 64-bit hex integer (0x15), e.g. `SubjectLogonId`, `TargetLogonId`.
    HexInt64(u64),
    /// Array of UTF-16 strings (0x81), each written with its NUL, at most 65535 bytes in
    /// all. A reader repeats the element holding it once per string.
    StringArray(Vec<String>),
}

impl DataValue {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Self {
        DataValue::String(s.into())
    }
}

/// A GUID in its on-disk byte order (Data1..Data3 little-endian, Data4 as bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    /// Build from the textual fields `{d1-d2-d3-d4[0..2]-d4[2..8]}`.
    pub fn from_fields(d1: u32, d2: u16, d3: u16, d4: [u8; 8]) -> Self {
        let mut b = [0u8; 16];
        b[..4].copy_from_slice(&d1.to_le_bytes());
        b[4..6].copy_from_slice(&d2.to_le_bytes());
        b[6..8].copy_from_slice(&d3.to_le_bytes());
        b[8..].copy_from_slice(&d4);
        Guid(b)
    }

    /// Parse `{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}` (braces optional, any case).
    pub fn parse(s: &str) -> Result<Self, WriteError> {
        let bad = || WriteError::InvalidValue(format!("not a GUID: {s:?}"));
        let t = s.trim().trim_start_matches('{').trim_end_matches('}');
        let parts: Vec<&str> = t.split('-').collect();
        if parts.len() != 5
            || [8, 4, 4, 4, 12] != parts.iter().map(|p| p.len()).collect::<Vec<_>>()[..]
        {
            return Err(bad());
        }
        let d1 = u32::from_str_radix(parts[0], 16).map_err(|_| bad())?;
        let d2 = u16::from_str_radix(parts[1], 16).map_err(|_| bad())?;
        let d3 = u16::from_str_radix(parts[2], 16).map_err(|_| bad())?;
        let rest = format!("{}{}", parts[3], parts[4]);
        let mut d4 = [0u8; 8];
        for (i, b) in d4.iter_mut().enumerate() {
            *b = u8::from_str_radix(&rest[i * 2..i * 2 + 2], 16).map_err(|_| bad())?;
        }
        Ok(Guid::from_fields(d1, d2, d3, d4))
    }
}

impl fmt::Display for Guid {
    /// Lower-case in braces, as the `evtx` crate renders GUIDs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        let d1 = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let d2 = u16::from_le_bytes([b[4], b[5]]);
        let d3 = u16::from_le_bytes([b[6], b[7]]);
        write!(f, "{{{d1:08x}-{d2:04x}-{d3:04x}-{:02x}{:02x}-", b[8], b[9])?;
        for x in &b[10..] {
            write!(f, "{x:02x}")?;
        }
        write!(f, "}}")
    }
}

/// A security identifier, kept as text and encoded as a binary SID when written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sid {
    authority: u64,
    revision: u8,
    sub_authorities: Vec<u32>,
}

impl Sid {
    /// Parse `S-1-5-21-…`.
    pub fn parse(s: &str) -> Result<Self, WriteError> {
        let bad = || WriteError::InvalidValue(format!("not a SID: {s:?}"));
        let mut parts = s.split('-');
        if parts.next() != Some("S") {
            return Err(bad());
        }
        let revision = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let authority: u64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        if authority >= 1 << 48 {
            return Err(bad());
        }
        let sub_authorities = parts
            .map(|p| p.parse::<u32>().map_err(|_| bad()))
            .collect::<Result<Vec<_>, _>>()?;
        if sub_authorities.len() > 15 {
            return Err(bad());
        }
        Ok(Sid {
            authority,
            revision,
            sub_authorities,
        })
    }

    /// The binary form: revision, count, 48-bit big-endian authority, little-endian
    /// sub-authorities.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(8 + 4 * self.sub_authorities.len());
        b.push(self.revision);
        b.push(self.sub_authorities.len() as u8);
        b.extend_from_slice(&self.authority.to_be_bytes()[2..]);
        for s in &self.sub_authorities {
            b.extend_from_slice(&s.to_le_bytes());
        }
        b
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S-{}-{}", self.revision, self.authority)?;
        for s in &self.sub_authorities {
            write!(f, "-{s}")?;
        }
        Ok(())
    }
}

/// 100 ns intervals between 1601-01-01 and 1970-01-01.
const FILETIME_UNIX_EPOCH: i128 = 116_444_736_000_000_000;

/// A timestamp as a Windows FILETIME (100 ns ticks since 1601), truncating below 100 ns.
pub fn to_filetime(t: Timestamp) -> u64 {
    let ticks = t.as_nanosecond().div_euclid(100) + FILETIME_UNIX_EPOCH;
    ticks.clamp(0, i128::from(u64::MAX)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_round_trips_through_text() {
        let text = "{555908d1-a6d7-4695-8e1e-26931d2012f4}";
        let g = Guid::parse(text).unwrap();
        assert_eq!(&g.0[..4], &[0xd1, 0x08, 0x59, 0x55]);
        assert_eq!(g.to_string(), text);
    }

    #[test]
    fn sid_encodes_like_windows() {
        let sid = Sid::parse("S-1-5-18").unwrap();
        assert_eq!(sid.to_bytes(), [1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0]);
        assert_eq!(sid.to_string(), "S-1-5-18");
        assert!(Sid::parse("S-1-x").is_err());
    }

    #[test]
    fn filetime_of_unix_epoch() {
        assert_eq!(to_filetime(Timestamp::UNIX_EPOCH), 116_444_736_000_000_000);
    }
}
