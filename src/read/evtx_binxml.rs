//! BinXML as svchunt reads it without the `evtx` crate: a record's template instance (the
//! substitution values, nested instances included), read against its chunk's template
//! definitions, which [`super::evtx_template`] parses (once per chunk, and shared across chunks
//! when their bytes and names agree).
//!
//! Why by hand: the crate builds and renders a tree for every record it is asked for, which is
//! most of the cost of reading a log; a hunt needs a few fields of a few records. This parser
//! is strict: it accepts only the shapes Windows writes (one template instance per record,
//! templates of elements, attributes, text and substitutions, scalar values) and answers `None`
//! for anything else, so that the caller hands that record to the crate, which then renders or
//! reports it as it always did. Everything it accepts the crate reads without error (see
//! `read::evtx_render` for how the values become an `Event`, and `tests/reading/fast_path.rs` for the
//! proof over the shared corpus).
//!
//! Layout from MS-EVEN6 and the libyal EVTX format notes: a name is referred to by its chunk
//! offset (stored in place at first use: link, hash, length, UTF-16 text, NUL); an element
//! start in a template carries a dependency id (the element is left out when that value is
//! NULL); substitution values are `count`, `count` descriptors (size, type) and the values.
//! The tokens, value types and a chunk's names are kept here, for both modules; what a
//! template definition is, and how it is parsed, is [`super::evtx_template`]'s.
//!
//! This module knows chunk bytes and nothing of events, filters or the crate.

use std::collections::HashMap;
use std::sync::Arc;

use super::evtx_template::{Template, TemplateStore, parse_template};

/// Tokens.
pub(super) const TOK_EOF: u8 = 0x00;
pub(super) const TOK_OPEN_START: u8 = 0x01;
pub(super) const TOK_CLOSE_START: u8 = 0x02;
pub(super) const TOK_CLOSE_EMPTY: u8 = 0x03;
pub(super) const TOK_END_ELEMENT: u8 = 0x04;
pub(super) const TOK_VALUE: u8 = 0x05;
pub(super) const TOK_ATTRIBUTE: u8 = 0x06;
const TOK_TEMPLATE_INSTANCE: u8 = 0x0c;
pub(super) const TOK_NORMAL_SUB: u8 = 0x0d;
pub(super) const TOK_OPTIONAL_SUB: u8 = 0x0e;
pub(super) const TOK_FRAGMENT_HEADER: u8 = 0x0f;
pub(super) const TOK_MORE: u8 = 0x40;

/// Value types (MS-EVEN6 2.2.3.2).
pub mod ty {
    /// NULL.
    pub const NULL: u8 = 0x00;
    /// UTF-16LE string.
    pub const STRING: u8 = 0x01;
    /// Code-page string.
    pub const ANSI: u8 = 0x02;
    /// Signed 8-bit.
    pub const INT8: u8 = 0x03;
    /// Unsigned 8-bit.
    pub const UINT8: u8 = 0x04;
    /// Signed 16-bit.
    pub const INT16: u8 = 0x05;
    /// Unsigned 16-bit.
    pub const UINT16: u8 = 0x06;
    /// Signed 32-bit.
    pub const INT32: u8 = 0x07;
    /// Unsigned 32-bit.
    pub const UINT32: u8 = 0x08;
    /// Signed 64-bit.
    pub const INT64: u8 = 0x09;
    /// Unsigned 64-bit.
    pub const UINT64: u8 = 0x0a;
    /// 32-bit boolean.
    pub const BOOL: u8 = 0x0d;
    /// Bytes.
    pub const BINARY: u8 = 0x0e;
    /// GUID.
    pub const GUID: u8 = 0x0f;
    /// Pointer-sized hex number.
    pub const SIZE_T: u8 = 0x10;
    /// FILETIME.
    pub const FILETIME: u8 = 0x11;
    /// SID.
    pub const SID: u8 = 0x13;
    /// 32-bit hex number.
    pub const HEX_INT32: u8 = 0x14;
    /// 64-bit hex number.
    pub const HEX_INT64: u8 = 0x15;
    /// Nested BinXML.
    pub const BINXML: u8 = 0x21;
    /// Array of UTF-16LE strings, each ended by a NUL.
    pub const STRING_ARRAY: u8 = 0x81;
}

/// Deepest nesting of instances in values accepted (Windows nests one: the event data).
const MAX_NESTING: u8 = 4;
/// Most substitution values an instance may have (the crate's own limit for tracking them).
pub const MAX_VALUES: usize = 4096;

pub(crate) fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

pub(crate) fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

pub(crate) fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// One substitution value: its type and bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Val<'a> {
    /// The value type.
    pub ty: u8,
    /// Its bytes, exactly the descriptor's size.
    pub bytes: &'a [u8],
}

impl Val<'_> {
    /// NULL, the empty string, empty bytes: what an optional substitution leaves out.
    pub fn is_empty(&self) -> bool {
        match self.ty {
            ty::NULL => true,
            ty::STRING => self.bytes.len() < 2 || self.bytes[..2] == [0, 0],
            ty::ANSI => self.bytes.iter().all(|b| *b == 0),
            ty::BINARY => self.bytes.is_empty(),
            _ => false,
        }
    }
}

/// A substitution: a scalar, or a nested template instance (the event data, usually).
#[derive(Debug, Clone)]
pub enum Slot<'a> {
    /// A scalar value.
    Value(Val<'a>),
    /// A nested instance, rendered where the substitution stands.
    Nested(Instance<'a>),
}

/// A template instance with its values.
#[derive(Debug, Clone)]
pub struct Instance<'a> {
    /// The template.
    pub template: Arc<Template>,
    /// Its substitution values.
    pub values: Vec<Slot<'a>>,
}

impl<'a> Instance<'a> {
    /// The value of substitution `i`, if it is a scalar.
    pub fn value(&self, i: u16) -> Option<Val<'a>> {
        match self.values.get(usize::from(i))? {
            Slot::Value(v) => Some(*v),
            Slot::Nested(_) => None,
        }
    }
}

/// The UTF-16LE units of `bytes` before the first NUL.
pub(crate) fn utf16_until_nul(bytes: &[u8]) -> &[u8] {
    let units = bytes.len() / 2;
    let n = (0..units)
        .find(|i| bytes[2 * i] == 0 && bytes[2 * i + 1] == 0)
        .unwrap_or(units);
    &bytes[..2 * n]
}

/// UTF-16LE text as the crate renders it: lone surrogates become U+FFFD.
pub(crate) fn push_utf16_lossy(bytes: &[u8], out: &mut String) {
    // Most text is ASCII: a byte per unit, no decoding.
    if bytes
        .chunks_exact(2)
        .fold(0u8, |bad, c| bad | c[1] | (c[0] & 0x80))
        == 0
    {
        out.reserve(bytes.len() / 2);
        out.extend(bytes.chunks_exact(2).map(|c| char::from(c[0])));
        return;
    }
    let units = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]));
    for c in char::decode_utf16(units) {
        out.push(c.unwrap_or(char::REPLACEMENT_CHARACTER));
    }
}

/// A name's text (from the chunk string table entry at `offset`), as the crate reads it:
/// strict UTF-16, up to a NUL, and the entry's terminator present.
fn read_name(chunk: &[u8], offset: u32) -> Option<Arc<str>> {
    let at = usize::try_from(offset).ok()?.checked_add(6)?;
    let len = usize::from(u16_at(chunk, at)?);
    let text = chunk.get(at + 2..at + 2 + 2 * len)?;
    u16_at(chunk, at + 2 + 2 * len)?; // the NUL
    let units = utf16_until_nul(text)
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]));
    let name: String = char::decode_utf16(units).collect::<Result<_, _>>().ok()?;
    // Element names go into JSON keys unescaped: the crate's output would not parse.
    if name.chars().any(|c| c < ' ' || c == '"' || c == '\\') {
        return None;
    }
    Some(name.into())
}

/// Per-chunk state: the chunk bytes, names and templates met so far.
pub struct ChunkCtx<'a> {
    /// The chunk's 64 KiB.
    pub data: &'a [u8],
    names: HashMap<u32, Option<Arc<str>>>,
    templates: Vec<(u32, Option<Arc<Template>>)>,
    /// The last template looked up, and where it is.
    last_template: Option<(u32, usize)>,
    /// Which templates are event data through and through ([`ChunkCtx::is_data_template`]).
    data_templates: Vec<(u32, bool)>,
    shared: Option<&'a TemplateStore>,
    pub(super) scratch: Vec<u8>,
    /// Value vectors of instances given back ([`ChunkCtx::recycle`]): a record decoded, used
    /// and given back costs no allocation (the seed query decodes most of a busy log's
    /// logons).
    spare_values: Vec<Vec<Slot<'a>>>,
}

impl<'a> ChunkCtx<'a> {
    /// A chunk, sharing parsed templates through `shared` when given.
    pub fn new(data: &'a [u8], shared: Option<&'a TemplateStore>) -> Self {
        ChunkCtx {
            data,
            names: HashMap::new(),
            templates: Vec::new(),
            last_template: None,
            data_templates: Vec::new(),
            shared,
            scratch: Vec::new(),
            spare_values: Vec::new(),
        }
    }

    pub(super) fn name(&mut self, offset: u32) -> Option<Arc<str>> {
        let data = self.data;
        self.names
            .entry(offset)
            .or_insert_with(|| read_name(data, offset))
            .clone()
    }

    /// The template defined at `def_offset`, parsed once per chunk.
    pub fn template(&mut self, def_offset: u32) -> Option<Arc<Template>> {
        let i = self.template_index(def_offset);
        self.templates[i].1.clone()
    }

    /// Where the template defined at `def_offset` is kept ([`ChunkCtx::template_at`]).
    pub fn template_index(&mut self, def_offset: u32) -> usize {
        // A chunk uses a handful of templates, most records the one the last did: a scan
        // beats hashing.
        if let Some((o, i)) = self.last_template
            && o == def_offset
        {
            return i;
        }
        if let Some(i) = self.templates.iter().position(|(o, _)| *o == def_offset) {
            self.last_template = Some((def_offset, i));
            return i;
        }
        let t = self.load_template(def_offset);
        self.templates.push((def_offset, t));
        self.templates.len() - 1
    }

    /// The template [`ChunkCtx::template_index`] gave `i` for, if it parsed.
    pub fn template_at(&self, i: usize) -> Option<&Template> {
        self.templates.get(i)?.1.as_deref()
    }

    /// Whether the template defined at `def_offset` has a root element named `EventData` or
    /// `UserData` (so that every value of an instance of it is event data), read off its first
    /// element start without parsing it; `false` when that is not plain.
    pub fn is_data_template(&mut self, def_offset: u32) -> bool {
        if let Some((_, yes)) = self.data_templates.iter().find(|(o, _)| *o == def_offset) {
            return *yes;
        }
        let yes = self.read_is_data_template(def_offset);
        self.data_templates.push((def_offset, yes));
        yes
    }

    fn read_is_data_template(&self, def_offset: u32) -> bool {
        let b = self.data;
        let mut p = def_offset as usize + 24;
        if b.get(p) == Some(&TOK_FRAGMENT_HEADER) {
            p += 4;
        }
        if b.get(p).is_none_or(|t| t & !TOK_MORE != TOK_OPEN_START) {
            return false;
        }
        let Some(offset) = u32_at(b, p + 7) else {
            return false;
        };
        let at = offset as usize + 6;
        let name = |n: &str| {
            u16_at(b, at) == Some(n.len() as u16)
                && b.get(at + 2..at + 2 + 2 * n.len())
                    .is_some_and(|t| t.chunks_exact(2).zip(n.bytes()).all(|(c, x)| c == [x, 0]))
        };
        name("EventData") || name("UserData")
    }

    fn load_template(&mut self, def_offset: u32) -> Option<Arc<Template>> {
        let start = usize::try_from(def_offset).ok()?;
        let size = u32_at(self.data, start + 20)? as usize;
        let body = start + 24..(start + 24).checked_add(size)?;
        self.data.get(body.clone())?;
        match self.shared {
            Some(store) => store.get_or_parse(self, def_offset, body),
            None => parse_template(self, body).map(Arc::new),
        }
    }

    /// The template instance of the record at `offset` (of `size` bytes): its BinXML must be
    /// one instance, in a fragment or not, then EOF or nothing.
    pub fn record(&mut self, offset: usize, size: usize) -> Option<(Instance<'a>, Cost)> {
        let mut cost = Cost::default();
        let inst = self.record_with(offset, size, true, &mut cost)?;
        Some((inst?, cost))
    }

    /// Give back an instance [`ChunkCtx::record`] made, once done with it: its value vectors
    /// (its nested instances' too) serve the next records.
    pub fn recycle(&mut self, inst: Instance<'a>) {
        let mut values = inst.values;
        for slot in values.drain(..) {
            if let Slot::Nested(inner) = slot {
                self.recycle(inner);
            }
        }
        // A record holds a few instances (nesting is bounded): a few dozen spares are ample.
        if self.spare_values.len() < 32 {
            self.spare_values.push(values);
        }
    }

    /// Whether the record at `offset` (of `size` bytes) is one [`ChunkCtx::record`] reads,
    /// and what the crate would spend building it, without building anything.
    pub fn vouch(&mut self, offset: usize, size: usize) -> Option<Cost> {
        let mut cost = Cost::default();
        self.record_with(offset, size, false, &mut cost)?;
        Some(cost)
    }

    fn record_with(
        &mut self,
        offset: usize,
        size: usize,
        build: bool,
        cost: &mut Cost,
    ) -> Option<Option<Instance<'a>>> {
        let start = offset.checked_add(24)?;
        let end = (offset + size).checked_sub(4)?;
        let token = match self.data.get(start..end)? {
            [TOK_FRAGMENT_HEADER, _, _, _, TOK_TEMPLATE_INSTANCE, _, ..] => start + 4,
            [TOK_TEMPLATE_INSTANCE, ..] => start,
            _ => return None,
        };
        let (inst, stop) = self.instance(token, end, 0, build, cost)?;
        if stop < end && self.data[stop] != TOK_EOF {
            return None;
        }
        Some(inst)
    }

    /// The template instance whose token is at `at`, its values read from within `limit`
    /// (built when `build`); with where it ends. Adds what it costs to `cost`.
    fn instance(
        &mut self,
        at: usize,
        limit: usize,
        depth: u8,
        build: bool,
        cost: &mut Cost,
    ) -> Option<(Option<Instance<'a>>, usize)> {
        let b = self.data.get(..limit)?;
        if *b.get(at)? != TOK_TEMPLATE_INSTANCE || depth > MAX_NESTING {
            return None;
        }
        let def_offset = u32_at(b, at + 6)?;
        let mut p = at + 10;
        if p == def_offset as usize {
            let size = u32_at(b, p + 20)? as usize;
            p = p.checked_add(24 + size)?;
        }
        let count = u32_at(b, p)? as usize;
        if count > MAX_VALUES {
            return None;
        }
        let descriptors = p + 4;
        let mut value_at = descriptors.checked_add(4 * count)?;
        if value_at > limit {
            return None;
        }
        let mut values = Vec::new();
        if build {
            values = self.spare_values.pop().unwrap_or_default();
            values.reserve(count);
        }
        for d in b.get(descriptors..descriptors + 4 * count)?.chunks_exact(4) {
            let (size, t) = (usize::from(u16::from_le_bytes([d[0], d[1]])), d[2]);
            let bytes = b.get(value_at..value_at + size)?;
            // Scalars (nearly every value) without the call: [`ChunkCtx::slot`]'s first case.
            if scalar_ok(t, bytes) {
                cost.text += size;
                if build {
                    values.push(Slot::Value(Val { ty: t, bytes }));
                }
            } else if let Some(slot) = self.slot(t, bytes, value_at, depth, build, cost)? {
                values.push(slot);
            }
            value_at += size;
        }
        // Borrowed: a record only checked (most of them) costs no reference count.
        let t = self.template_index(def_offset);
        let template = self.templates[t].1.as_ref()?;
        cost.nodes += template.nodes + count;
        cost.text += template.text;
        let inst = build.then(|| Instance {
            template: template.clone(),
            values,
        });
        Some((inst, value_at))
    }

    #[allow(clippy::too_many_arguments)]
    fn slot(
        &mut self,
        t: u8,
        bytes: &'a [u8],
        at: usize,
        depth: u8,
        build: bool,
        cost: &mut Cost,
    ) -> Option<Option<Slot<'a>>> {
        match t {
            _ if scalar_ok(t, bytes) => {}
            // An empty BinXML value reads as NULL.
            ty::BINXML if bytes.is_empty() => {
                return Some(build.then_some(Slot::Value(Val {
                    ty: ty::NULL,
                    bytes,
                })));
            }
            ty::BINXML => {
                // Only a stream of one template instance (fragment header optional).
                let token = match bytes {
                    [TOK_FRAGMENT_HEADER, _, _, _, TOK_TEMPLATE_INSTANCE, _, ..] => at + 4,
                    [TOK_TEMPLATE_INSTANCE, ..] => at,
                    _ => return None,
                };
                let end = at + bytes.len();
                let (inner, stop) = self.instance(token, end, depth + 1, build, cost)?;
                if stop < end && self.data[stop] != TOK_EOF {
                    return None;
                }
                return Some(inner.map(Slot::Nested));
            }
            // A record only checked may hold an array of strings: the crate reads its
            // strings and expands the array only to render the record. Decoded, it is the
            // crate's to render (the element holding it is repeated once per string).
            ty::STRING_ARRAY if !build && string_array_ok(bytes) => {}
            _ => return None,
        }
        cost.text += bytes.len();
        Some(build.then_some(Slot::Value(Val { ty: t, bytes })))
    }
}

/// Whether `bytes` are a value of scalar type `t` as the crate reads it, exactly: its size is
/// the type's (the crate reads a type's own size whatever the descriptor says, and the values
/// after it then from the wrong place), and its text is one written here.
pub fn scalar_ok(t: u8, bytes: &[u8]) -> bool {
    let n = bytes.len();
    match t {
        ty::NULL | ty::BINARY => true,
        ty::STRING => n.is_multiple_of(2),
        // The crate decodes code-page text as Windows-1252 without its NULs: plain ASCII
        // reads the same in any code page.
        ty::ANSI => bytes.is_ascii(),
        ty::INT8 | ty::UINT8 => n == 1,
        ty::INT16 | ty::UINT16 => n == 2,
        ty::INT32 | ty::UINT32 | ty::BOOL | ty::HEX_INT32 => n == 4,
        ty::INT64 | ty::UINT64 | ty::FILETIME | ty::HEX_INT64 => n == 8,
        ty::SIZE_T => matches!(n, 4 | 8),
        ty::GUID => n == 16,
        ty::SID => bytes.get(1).is_some_and(|c| n == 8 + 4 * usize::from(*c)),
        _ => false,
    }
}

/// Whether `bytes` are an array of strings the crate reads to exactly their end: each string
/// ends with a NUL, the last one too. (The crate reads a string past the value until it meets
/// a NUL, and the values after it then from the wrong place.)
fn string_array_ok(bytes: &[u8]) -> bool {
    bytes.is_empty() || (bytes.len().is_multiple_of(2) && bytes.ends_with(&[0, 0]))
}

/// What the crate spends building and rendering a record: nodes, and bytes of text.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    /// Nodes built.
    pub nodes: usize,
    /// Bytes of names, literal text and values rendered.
    pub text: usize,
}
