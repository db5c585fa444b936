//! Bounds on what one input may become once unpacked, and the small readers that the
//! container code needs around decompressors.
//!
//! - [`Budget`]: every byte any decompressor inside one input produces is counted against one
//!   limit (its size times `--max-expansion`, at least [`MIN_EXPANSION_BYTES`]); past it the
//!   reader fails with [`ExpansionLimit`], which whoever reads reports once as a located loss.
//!   Memory is bounded separately: nothing is ever inflated whole.
//! - [`Utf16Reader`]: UTF-16 text (PowerShell 5's `>` and `Out-File` write UTF-16LE with a BOM)
//!   transcoded to UTF-8 on the fly, so every text reader sees UTF-8.
//! - [`spool`]: a zip or 7z nested inside a stream needs random access; it is held in memory up
//!   to [`SPOOL_IN_MEMORY`] and beyond that in an anonymous temporary file, which the operating
//!   system deletes when it is closed. This is the compressed nested archive, never an
//!   extracted member: no log is ever written out.

use std::cell::Cell;
use std::io::{self, Read, Seek, Write};
use std::rc::Rc;

use crate::read::{ExpansionLimit, MIN_EXPANSION_BYTES, ReadOptions};

/// The inflated bytes one input may still produce.
#[derive(Debug)]
pub struct Budget {
    limit: u64,
    used: Cell<u64>,
    exhausted: Cell<bool>,
}

impl Budget {
    /// The budget of an input of `size` bytes under `opts`.
    pub fn for_input(size: u64, opts: &ReadOptions) -> Rc<Budget> {
        let limit = match opts.limits.max_expansion {
            0 => u64::MAX,
            ratio => size.saturating_mul(ratio).max(MIN_EXPANSION_BYTES),
        };
        Rc::new(Budget {
            limit,
            used: Cell::new(0),
            exhausted: Cell::new(false),
        })
    }

    /// True once some reader went past the limit: containers stop opening members then.
    pub fn exhausted(&self) -> bool {
        self.exhausted.get()
    }

    fn charge(&self, n: usize) -> io::Result<()> {
        let used = self.used.get().saturating_add(n as u64);
        self.used.set(used);
        if used > self.limit {
            self.exhausted.set(true);
            return Err(io::Error::other(ExpansionLimit { limit: self.limit }));
        }
        Ok(())
    }
}

/// What one read call is charged at least (see [`Inflated`]).
const MIN_CHARGE: usize = 4096;

/// A decompressor's output, charged to the input's [`Budget`].
pub struct Inflated<R> {
    inner: R,
    budget: Rc<Budget>,
}

impl<R: Read> Inflated<R> {
    /// Charge what `inner` produces to `budget`.
    pub fn new(inner: R, budget: Rc<Budget>) -> Self {
        Inflated { inner, budget }
    }
}

impl<R: Read> Read for Inflated<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.budget.exhausted() {
            return Err(io::Error::other(ExpansionLimit {
                limit: self.budget.limit,
            }));
        }
        let n = self.inner.read(buf)?;
        // Every call costs at least a page: a damaged stream whose decoder yields a few bytes
        // per call (or errors it swallows) would otherwise spin through a billion calls before
        // the limit is reached. A healthy decoder fills the caller's buffer (8 KiB or more).
        self.budget.charge(n.max(MIN_CHARGE))?;
        Ok(n)
    }
}

/// How much of a nested archive is held in memory before it goes to a temporary file.
pub const SPOOL_IN_MEMORY: usize = 32 << 20;

/// A seekable copy of a stream (see the module doc); fails as the stream fails.
pub fn spool(reader: &mut dyn Read) -> io::Result<Spool> {
    let mut memory = Vec::new();
    let n = reader
        .take(SPOOL_IN_MEMORY as u64 + 1)
        .read_to_end(&mut memory)?;
    if n <= SPOOL_IN_MEMORY {
        return Ok(Spool::Memory(io::Cursor::new(memory)));
    }
    let mut file = tempfile::tempfile()?;
    file.write_all(&memory)?;
    drop(memory);
    io::copy(reader, &mut file)?;
    file.rewind()?;
    Ok(Spool::File(io::BufReader::new(file)))
}

/// See [`spool`].
pub enum Spool {
    /// Small enough to hold.
    Memory(io::Cursor<Vec<u8>>),
    /// An anonymous temporary file.
    File(io::BufReader<std::fs::File>),
}

impl Read for Spool {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Spool::Memory(c) => c.read(buf),
            Spool::File(f) => f.read(buf),
        }
    }
}

impl Seek for Spool {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        match self {
            Spool::Memory(c) => c.seek(pos),
            Spool::File(f) => f.seek(pos),
        }
    }
}

/// UTF-16 text (the byte-order mark says which end first) as UTF-8. Unpaired surrogates
/// become U+FFFD, as a text reader would show them.
pub struct Utf16Reader<R> {
    inner: R,
    big_endian: bool,
    /// Encoded output not yet handed out.
    pending: Vec<u8>,
    at: usize,
    /// A high surrogate waiting for its pair, or an odd byte waiting for its partner.
    carry_unit: Option<u16>,
    carry_byte: Option<u8>,
    started: bool,
}

impl<R: Read> Utf16Reader<R> {
    /// Transcode `inner`, which starts with a byte-order mark.
    pub fn new(inner: R) -> Self {
        Utf16Reader {
            inner,
            big_endian: false,
            pending: Vec::new(),
            at: 0,
            carry_unit: None,
            carry_byte: None,
            started: false,
        }
    }

    fn refill(&mut self) -> io::Result<bool> {
        let mut raw = [0u8; 16 * 1024 + 1];
        let got = self.inner.read(&mut raw[1..])?;
        let start = match self.carry_byte.take() {
            Some(b) => {
                raw[0] = b;
                0
            }
            None => 1,
        };
        self.pending.clear();
        self.at = 0;
        if got == 0 {
            // The input ended inside a character.
            if self.carry_unit.take().is_some() || start == 0 {
                self.pending.extend_from_slice("\u{fffd}".as_bytes());
                return Ok(true);
            }
            return Ok(false);
        }
        let bytes = &raw[start..=got];
        let mut bytes = bytes;
        if !self.started && bytes.len() >= 2 {
            self.started = true;
            self.big_endian = bytes[..2] == [0xfe, 0xff];
            if bytes[..2] == [0xfe, 0xff] || bytes[..2] == [0xff, 0xfe] {
                bytes = &bytes[2..];
            }
        }
        let whole = bytes.len() / 2 * 2;
        if whole < bytes.len() {
            self.carry_byte = Some(bytes[whole]);
        }
        let big_endian = self.big_endian;
        let units: Vec<u16> = bytes[..whole]
            .chunks_exact(2)
            .map(|c| {
                if big_endian {
                    u16::from_be_bytes([c[0], c[1]])
                } else {
                    u16::from_le_bytes([c[0], c[1]])
                }
            })
            .collect();
        let mut buf = [0u8; 4];
        for unit in units {
            if let Some(high) = self.carry_unit.take() {
                if (0xdc00..0xe000).contains(&unit) {
                    let c = char::decode_utf16([high, unit])
                        .next()
                        .and_then(Result::ok)
                        .unwrap_or('\u{fffd}');
                    self.pending
                        .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    continue;
                }
                self.pending.extend_from_slice("\u{fffd}".as_bytes());
            }
            if (0xd800..0xdc00).contains(&unit) {
                self.carry_unit = Some(unit);
                continue;
            }
            // A lone low surrogate is not a character either.
            let c = char::from_u32(u32::from(unit)).unwrap_or('\u{fffd}');
            self.pending
                .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        Ok(true)
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.pending.len() {
            if !self.refill()? {
                return Ok(0);
            }
        }
        let n = out.len().min(self.pending.len() - self.at);
        out[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str) -> Vec<u8> {
        let mut b = vec![0xff, 0xfe];
        b.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        b
    }

    #[test]
    fn utf16_both_ends_and_surrogates() {
        let text = "<Events>\u{1F600} é\r\n</Events>";
        let mut out = String::new();
        Utf16Reader::new(&utf16le(text)[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, text);
        let mut be = vec![0xfe, 0xff];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        // One byte at a time: pairs and surrogates split across reads.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let Some((first, rest)) = self.0.split_first() else {
                    return Ok(0);
                };
                buf[0] = *first;
                self.0 = rest;
                Ok(1)
            }
        }
        let mut out = String::new();
        Utf16Reader::new(Trickle(&be))
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, text);
    }

    #[test]
    fn the_budget_stops_a_bomb() {
        let opts = ReadOptions::default().with_limits(crate::read::InputLimits {
            max_expansion: 2,
            ..crate::read::InputLimits::default()
        });
        let budget = Budget::for_input(1, &opts);
        assert_eq!(budget.limit, MIN_EXPANSION_BYTES);
        let mut zeros = Inflated::new(io::repeat(0).take(MIN_EXPANSION_BYTES + 10), budget.clone());
        let err = io::copy(&mut zeros, &mut io::sink()).unwrap_err();
        assert!(err.get_ref().unwrap().is::<ExpansionLimit>());
        assert!(budget.exhausted());
        let unlimited = Budget::for_input(
            1,
            &ReadOptions::default().with_limits(crate::read::InputLimits {
                max_expansion: 0,
                ..crate::read::InputLimits::default()
            }),
        );
        assert_eq!(unlimited.limit, u64::MAX);
    }

    #[test]
    fn spools_small_in_memory() {
        let mut s = spool(&mut &b"abc"[..]).unwrap();
        assert!(matches!(s, Spool::Memory(_)));
        s.seek(io::SeekFrom::Start(1)).unwrap();
        let mut rest = String::new();
        s.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "bc");
    }
}
