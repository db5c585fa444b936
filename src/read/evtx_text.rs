//! A substitution value's text as the crate writes it: decimal integers, `0x` hex, `{guid}`,
//! `S-1-…` SIDs, upper-case hex bytes, FILETIMEs with seven fractional digits; and the instant
//! a FILETIME's text reads as, without writing the text.
//!
//! Why apart: every lean reader that needs a value's text needs exactly the text the crate
//! would render for it, or what it decides would differ from the crate path's: the general
//! renderer (`evtx_render`), the compiled recipes (`evtx_recipe`) and the keys a one-pass read
//! remembers (`evtx_keys`) all write values here, so that they agree with the crate and with
//! each other.
//!
//! This module knows a value's type and bytes and nothing of templates, records or events:
//! where a value stands and what it means is its callers' business. A type it cannot write as
//! the crate does (floats, arrays…) gives `None`, and the caller hands the record to the crate.

use std::fmt::Write;

use jiff::Timestamp;

use super::evtx_binxml::{Val, push_utf16_lossy, ty, utf16_until_nul};

/// A value's text as the crate writes it.
pub(crate) fn write_value(v: &Val<'_>, out: &mut String) -> Option<()> {
    let b = v.bytes;
    let mut digits = itoa::Buffer::new();
    match v.ty {
        ty::NULL => {}
        ty::STRING => push_utf16_lossy(utf16_until_nul(b), out),
        ty::ANSI => out.extend(b.iter().filter(|c| **c != 0).map(|c| char::from(*c))),
        ty::INT8 => out.push_str(digits.format(*b.first()? as i8)),
        ty::UINT8 => out.push_str(digits.format(*b.first()?)),
        ty::INT16 => out.push_str(digits.format(i16::from_le_bytes(b.try_into().ok()?))),
        ty::UINT16 => out.push_str(digits.format(u16::from_le_bytes(b.try_into().ok()?))),
        ty::INT32 => out.push_str(digits.format(i32::from_le_bytes(b.try_into().ok()?))),
        ty::UINT32 => out.push_str(digits.format(u32::from_le_bytes(b.try_into().ok()?))),
        ty::INT64 => out.push_str(digits.format(i64::from_le_bytes(b.try_into().ok()?))),
        ty::UINT64 => out.push_str(digits.format(u64::from_le_bytes(b.try_into().ok()?))),
        // Windows writes bit masks into some booleans: those stay numbers.
        ty::BOOL => match i32::from_le_bytes(b.try_into().ok()?) {
            0 => out.push_str("false"),
            1 => out.push_str("true"),
            n => out.push_str(digits.format(n)),
        },
        ty::BINARY => {
            out.reserve(2 * b.len());
            for byte in b {
                out.push(HEX_UPPER[usize::from(byte >> 4)]);
                out.push(HEX_UPPER[usize::from(byte & 0xf)]);
            }
        }
        ty::GUID => {
            let g: &[u8; 16] = b.try_into().ok()?;
            // data1..data3 little-endian, then data4 as it is.
            out.push('{');
            for (i, at) in [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15]
                .into_iter()
                .enumerate()
            {
                if matches!(i, 4 | 6 | 8 | 10) {
                    out.push('-');
                }
                push_hex_byte(g[at], out);
            }
            out.push('}');
        }
        ty::SIZE_T | ty::HEX_INT32 | ty::HEX_INT64 => {
            let mut a = [0u8; 8];
            a[..b.len().min(8)].copy_from_slice(b.get(..b.len().min(8))?);
            push_hex(u64::from_le_bytes(a), out);
        }
        ty::FILETIME => write_filetime(u64::from_le_bytes(b.try_into().ok()?), out),
        ty::SID => {
            let (&rev, &count) = (b.first()?, b.get(1)?);
            let mut auth = [0u8; 8];
            auth[2..].copy_from_slice(b.get(2..8)?);
            out.push_str("S-");
            out.push_str(digits.format(rev));
            out.push('-');
            out.push_str(digits.format(u64::from_be_bytes(auth)));
            for sub in b[8..].chunks_exact(4).take(usize::from(count)) {
                out.push('-');
                out.push_str(digits.format(u32::from_le_bytes(sub.try_into().ok()?)));
            }
        }
        _ => return None,
    }
    Some(())
}

const HEX_UPPER: [char; 16] = [
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'A', 'B', 'C', 'D', 'E', 'F',
];
const HEX_LOWER: [char; 16] = [
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f',
];

fn push_hex_byte(b: u8, out: &mut String) {
    out.push(HEX_LOWER[usize::from(b >> 4)]);
    out.push(HEX_LOWER[usize::from(b & 0xf)]);
}

/// `0x` and the lower-case hex digits of `n`, without leading zeroes.
fn push_hex(n: u64, out: &mut String) {
    out.push_str("0x");
    let digits = (64 - n.leading_zeros()).div_ceil(4).max(1);
    for i in (0..digits).rev() {
        out.push(HEX_LOWER[((n >> (4 * i)) & 0xf) as usize]);
    }
}

/// A FILETIME as `YYYY-MM-DDTHH:MM:SS.fffffffZ`, the way Windows writes it, with its real
/// year however late. (The crate writes the year modulo 10000 and zeroes past `i64::MAX`,
/// which would date a record stamped in year 30827 by a tampered clock in year 827: here it
/// is read as the end of time with its text kept, as every other reader does.)
fn write_filetime(ft: u64, out: &mut String) {
    const TICKS_PER_SEC: u64 = 10_000_000;
    const TICKS_PER_DAY: u64 = 86_400 * TICKS_PER_SEC;
    let (days, ticks) = (ft / TICKS_PER_DAY, ft % TICKS_PER_DAY);
    // Days since 0000-03-01 in the proleptic Gregorian calendar, then its 400-year eras.
    let z = days + 584_694;
    let (era, doe) = (z / 146_097, z % 146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = era * 400 + yoe + u64::from(month <= 2);
    let secs = ticks / TICKS_PER_SEC;
    let _ = write!(
        out,
        "{:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:07}Z",
        year,
        secs / 3_600,
        secs / 60 % 60,
        secs % 60,
        ticks % TICKS_PER_SEC
    );
}

/// The instant a FILETIME's text ([`write_filetime`]) reads as, without the text: `None`
/// past the years a [`Timestamp`] holds (the text then says what was logged, see
/// [`times::system_time`](super::times::system_time)). Every decoded record's time is one:
/// formatting and parsing it back cost more than the rest of its `System` fields.
pub(super) fn filetime_instant(ft: u64) -> Option<Timestamp> {
    const TICKS_PER_SEC: u64 = 10_000_000;
    // Seconds from 1601 to 1970; a u64 of ticks is far within an i64 of seconds.
    let secs = (ft / TICKS_PER_SEC) as i64 - 11_644_473_600;
    let nanos = ((ft % TICKS_PER_SEC) * 100) as i32;
    Timestamp::new(secs, nanos).ok()
}

#[cfg(test)]
mod tests {
    /// A FILETIME's instant is what its text reads as, to the tick, wherever a `Timestamp`
    /// holds it; past that, the text decides.
    #[test]
    fn filetime_instants_are_what_their_text_reads_as() {
        const SEC: u64 = 10_000_000;
        // 9999-12-30T22:00:01Z, just past where a Timestamp ends.
        let end = (253_402_207_201 + 11_644_473_600) * SEC;
        let mut times = vec![
            0,
            1,
            SEC - 1,
            SEC,
            116_444_736_000_000_000,
            u64::MAX,
            u64::MAX - 1,
        ];
        times.extend((0..2_000u64).map(|i| end - 1_000 + i));
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        times.extend((0..20_000).map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % (end + 1_000 * SEC)
        }));
        let (mut fast, mut slow) = (0, 0);
        for ft in times {
            let mut text = String::new();
            super::write_filetime(ft, &mut text);
            let read = crate::read::times::system_time(&text);
            match super::filetime_instant(ft) {
                Some(t) => {
                    assert_eq!(read, Some((t, None)), "{ft} ({text})");
                    fast += 1;
                }
                // Read otherwise, if at all: the text says what was logged.
                None => {
                    assert!(!matches!(read, Some((_, None))), "{ft} ({text})");
                    slow += 1;
                }
            }
        }
        assert!(fast > 20_000 && slow > 500, "{fast} {slow}");
    }

    use super::*;

    #[test]
    fn filetimes_as_windows_writes_them() {
        let mut s = String::new();
        write_filetime(0, &mut s);
        assert_eq!(s, "1601-01-01T00:00:00.0000000Z");
        s.clear();
        // 2024-05-06T10:00:00.1234567Z
        let t: Timestamp = "2024-05-06T10:00:00.1234567Z".parse().unwrap();
        let ft = (t.as_nanosecond() / 100 + 11_644_473_600 * 10_000_000) as u64;
        write_filetime(ft, &mut s);
        assert_eq!(s, "2024-05-06T10:00:00.1234567Z");
        s.clear();
        write_filetime(i64::MAX as u64, &mut s);
        assert_eq!(s, "30828-09-14T02:48:05.4775807Z");
        s.clear();
        write_filetime(u64::MAX, &mut s);
        assert_eq!(s, "60056-05-28T05:36:10.9551615Z");
    }

    #[test]
    fn values_as_the_crate_writes_them() {
        let text = |ty: u8, bytes: &[u8]| {
            let mut s = String::new();
            write_value(&Val { ty, bytes }, &mut s).map(|_| s)
        };
        assert_eq!(
            text(ty::HEX_INT64, &0x3e7u64.to_le_bytes()).unwrap(),
            "0x3e7"
        );
        assert_eq!(text(ty::HEX_INT32, &0u32.to_le_bytes()).unwrap(), "0x0");
        assert_eq!(text(ty::INT16, &(-5i16).to_le_bytes()).unwrap(), "-5");
        assert_eq!(text(ty::BOOL, &1i32.to_le_bytes()).unwrap(), "true");
        assert_eq!(text(ty::BOOL, &7i32.to_le_bytes()).unwrap(), "7");
        assert_eq!(text(ty::BINARY, &[0xab, 0x01]).unwrap(), "AB01");
        let sid = [1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0];
        assert_eq!(text(ty::SID, &sid).unwrap(), "S-1-5-32-544");
        let guid = [
            0x25, 0x96, 0x84, 0x54, 0x78, 0x54, 0x94, 0x49, 0xa5, 0xba, 0x3e, 0x3b, 0x03, 0x28,
            0xc3, 0x0d,
        ];
        assert_eq!(
            text(ty::GUID, &guid).unwrap(),
            "{54849625-5478-4994-a5ba-3e3b0328c30d}"
        );
        let utf16: Vec<u8> = "a\u{1F600}b"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(text(ty::STRING, &utf16).unwrap(), "a\u{1F600}b");
        // A lone surrogate becomes U+FFFD; text stops at a NUL.
        assert_eq!(
            text(ty::STRING, &[0x00, 0xd8, b'x', 0, 0, 0, b'y', 0]).unwrap(),
            "\u{FFFD}x"
        );
        assert_eq!(text(0x0b, &[0; 4]), None, "floats go to the crate");
    }
}
