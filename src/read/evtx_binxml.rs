//! BinXML as svchunt reads it without the `evtx` crate: a chunk's template definitions (parsed
//! once per chunk, and shared across chunks when their bytes and names agree) and a record's
//! template instance (the substitution values, nested instances included).
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
//!
//! This module knows chunk bytes and nothing of events, filters or the crate.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Tokens.
const TOK_EOF: u8 = 0x00;
const TOK_OPEN_START: u8 = 0x01;
const TOK_CLOSE_START: u8 = 0x02;
const TOK_CLOSE_EMPTY: u8 = 0x03;
const TOK_END_ELEMENT: u8 = 0x04;
const TOK_VALUE: u8 = 0x05;
const TOK_ATTRIBUTE: u8 = 0x06;
const TOK_TEMPLATE_INSTANCE: u8 = 0x0c;
const TOK_NORMAL_SUB: u8 = 0x0d;
const TOK_OPTIONAL_SUB: u8 = 0x0e;
const TOK_FRAGMENT_HEADER: u8 = 0x0f;
const TOK_MORE: u8 = 0x40;

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
}

/// Every value type the crate knows (a template's substitution token must name one).
fn known_type(t: u8) -> bool {
    matches!(t, 0x00..=0x15 | 0x20 | 0x21 | 0x23 | 0x81..=0x95)
}

/// Deepest element nesting accepted in a template (the crate accepts far more, renders it
/// recursively, and JSON parsers stop at 128 levels; Windows writes four or five).
const MAX_DEPTH: usize = 32;
/// Deepest nesting of instances in values accepted (Windows nests one: the event data).
const MAX_NESTING: u8 = 4;
/// Most elements a template may have here (Windows' largest have about a hundred).
const MAX_ELEMENTS: usize = 2048;
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

/// A node of a template's element or attribute content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A child element (index into [`Template::elements`]).
    Element(u32),
    /// Literal text.
    Text(Box<str>),
    /// A substitution.
    Sub {
        /// Index into the instance's values.
        id: u16,
        /// Optional: left out when its value is empty.
        optional: bool,
    },
}

/// An attribute of a template element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    /// Its name.
    pub name: Arc<str>,
    /// Its value's nodes (never elements).
    pub value: Vec<Node>,
}

/// An element of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Its name.
    pub name: Arc<str>,
    /// The value whose NULL leaves this element out.
    pub dependency: Option<u16>,
    /// Its attributes, in order.
    pub attrs: Vec<Attr>,
    /// Its content, in order.
    pub children: Vec<Node>,
}

/// A parsed template definition; element 0 is the root.
#[derive(Debug, Clone)]
pub struct Template {
    /// The elements.
    pub elements: Vec<Element>,
    /// How many nodes an instance of it builds (elements, attributes, content): the crate
    /// budgets records by this.
    pub nodes: usize,
    /// Bytes of names and literal text an instance of it renders.
    pub text: usize,
    /// Where the EventID comes from when it is plainly one substitution.
    pub event_id_slot: Option<u16>,
    /// The substitutions whose values an event's data can hold: those inside an `EventData`
    /// or `UserData` element (or in a template that is one).
    pub data_slots: SlotSet,
    /// The substitutions of a `Security` element's `UserID`: the event's account.
    pub sid_slots: SlotSet,
    /// Its recipe, compiled on first use.
    recipe: std::sync::OnceLock<Option<super::evtx_recipe::Recipe>>,
}

impl Template {
    /// How an instance of it becomes an event, when it has the common shape.
    pub fn recipe(&self) -> Option<&super::evtx_recipe::Recipe> {
        self.recipe
            .get_or_init(|| super::evtx_recipe::Recipe::of(self))
            .as_ref()
    }
}

/// A set of substitution indexes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlotSet(Vec<u64>);

impl SlotSet {
    fn insert(&mut self, i: u16) {
        let (word, bit) = (usize::from(i) / 64, i % 64);
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << bit;
    }

    /// Whether substitution `i` is in the set.
    pub fn contains(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// The first 64 substitutions, as bits.
    pub fn first_word(&self) -> u64 {
        self.0.first().copied().unwrap_or(0)
    }
}

/// Which substitutions sit in data elements, and which are the account's SID.
fn slot_sets(elements: &[Element]) -> (SlotSet, SlotSet) {
    let (mut data, mut sid) = (SlotSet::default(), SlotSet::default());
    // (element, inside a data element); elements only refer to later ones, so no cycles.
    let mut stack = vec![(0u32, false)];
    while let Some((i, inside)) = stack.pop() {
        let Some(e) = elements.get(i as usize) else {
            continue;
        };
        let inside = inside || matches!(&*e.name, "EventData" | "UserData");
        for a in &e.attrs {
            for n in &a.value {
                if let Node::Sub { id, .. } = n {
                    if inside {
                        data.insert(*id);
                    }
                    if &*e.name == "Security" && &*a.name == "UserID" {
                        sid.insert(*id);
                    }
                }
            }
        }
        for n in &e.children {
            match n {
                Node::Element(c) => stack.push((*c, inside)),
                Node::Sub { id, .. } if inside => data.insert(*id),
                _ => {}
            }
        }
    }
    (data, sid)
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
    scratch: Vec<u8>,
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

    fn name(&mut self, offset: u32) -> Option<Arc<str>> {
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

/// What the crate spends building and rendering a record: nodes, and bytes of text.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    /// Nodes built.
    pub nodes: usize,
    /// Bytes of names, literal text and values rendered.
    pub text: usize,
}

/// Parse a template body (the bytes after its 24-byte header) into its element tree.
fn parse_template(ctx: &mut ChunkCtx<'_>, body: std::ops::Range<usize>) -> Option<Template> {
    let data = ctx.data.get(..body.end)?;
    let mut elements: Vec<Element> = Vec::new();
    let mut stack: Vec<u32> = Vec::new();
    // The element whose start tag is open (attributes being read).
    let mut open: Option<Element> = None;
    let mut root: Option<u32> = None;
    let mut nodes = 0usize;
    let mut p = body.start;
    while p < body.end {
        let token = data[p];
        p += 1;
        match token {
            TOK_EOF => break,
            TOK_FRAGMENT_HEADER => p += 3,
            t if t & !TOK_MORE == TOK_OPEN_START => {
                if open.is_some() {
                    return None;
                }
                let dep = u16_at(data, p)?;
                let name_offset = u32_at(data, p + 6)?;
                p += 10;
                p = skip_inline_name(data, p, name_offset)?;
                if t & TOK_MORE != 0 {
                    u32_at(data, p)?;
                    p += 4;
                }
                open = Some(Element {
                    name: ctx.name(name_offset)?,
                    dependency: (dep != 0xffff).then_some(dep),
                    attrs: Vec::new(),
                    children: Vec::new(),
                });
            }
            TOK_ATTRIBUTE | 0x46 => {
                let name_offset = u32_at(data, p)?;
                p = skip_inline_name(data, p + 4, name_offset)?;
                let name = ctx.name(name_offset)?;
                let element = open.as_mut()?;
                element.attrs.push(Attr {
                    name,
                    value: Vec::new(),
                });
            }
            TOK_CLOSE_START | TOK_CLOSE_EMPTY => {
                let mut element = open.take()?;
                // An attribute without content is no attribute (as the crate builds it).
                element.attrs.retain(|a| !a.value.is_empty());
                nodes += 1 + element.attrs.len();
                if elements.len() >= MAX_ELEMENTS {
                    return None;
                }
                let id = elements.len() as u32;
                elements.push(element);
                if token == TOK_CLOSE_START {
                    if stack.len() >= MAX_DEPTH {
                        return None;
                    }
                    stack.push(id);
                } else {
                    attach(&mut elements, &stack, &mut root, id)?;
                }
            }
            TOK_END_ELEMENT => {
                let id = stack.pop()?;
                attach(&mut elements, &stack, &mut root, id)?;
            }
            TOK_VALUE | 0x45 => {
                if *data.get(p)? != ty::STRING {
                    return None;
                }
                let len = usize::from(u16_at(data, p + 1)?);
                let text = data.get(p + 3..p + 3 + 2 * len)?;
                p += 3 + 2 * len;
                let mut s = String::new();
                push_utf16_lossy(utf16_until_nul(text), &mut s);
                push(&mut elements, &stack, open.as_mut(), Node::Text(s.into()))?;
                nodes += 1;
            }
            TOK_NORMAL_SUB | TOK_OPTIONAL_SUB => {
                let id = u16_at(data, p)?;
                if !known_type(*data.get(p + 2)?) {
                    return None;
                }
                p += 3;
                let optional = token == TOK_OPTIONAL_SUB;
                push(
                    &mut elements,
                    &stack,
                    open.as_mut(),
                    Node::Sub { id, optional },
                )?;
                nodes += 1;
            }
            // CDATA, character and entity references, processing instructions, instances in
            // a definition: Windows does not write them in templates; the crate reads them.
            _ => return None,
        }
    }
    // The root is the first element whose start tag closes: element 0.
    if open.is_some() || !stack.is_empty() || p > body.end || root != Some(0) {
        return None;
    }
    let event_id_slot = event_id_slot(&elements);
    let text = elements
        .iter()
        .map(|e| {
            let attrs: usize = e.attrs.iter().map(|a| a.name.len()).sum();
            let texts: usize = e
                .children
                .iter()
                .chain(e.attrs.iter().flat_map(|a| &a.value))
                .map(|n| match n {
                    Node::Text(t) => t.len(),
                    _ => 0,
                })
                .sum();
            e.name.len() + attrs + texts
        })
        .sum();
    let (data_slots, sid_slots) = slot_sets(&elements);
    Some(Template {
        elements,
        nodes,
        text,
        event_id_slot,
        data_slots,
        sid_slots,
        recipe: std::sync::OnceLock::new(),
    })
}

/// Where an inline name (stored right after its reference) ends; `p` otherwise.
fn skip_inline_name(data: &[u8], p: usize, name_offset: u32) -> Option<usize> {
    if p != name_offset as usize {
        return Some(p);
    }
    let len = usize::from(u16_at(data, p + 6)?);
    Some(p + 10 + 2 * len)
}

fn attach(elements: &mut [Element], stack: &[u32], root: &mut Option<u32>, id: u32) -> Option<()> {
    match stack.last() {
        Some(&parent) => elements[parent as usize].children.push(Node::Element(id)),
        None if root.is_none() => *root = Some(id),
        // A second root: not a template.
        None => return None,
    }
    Some(())
}

/// Content goes to the open start tag's last attribute, or to the innermost open element.
fn push(
    elements: &mut [Element],
    stack: &[u32],
    open: Option<&mut Element>,
    node: Node,
) -> Option<()> {
    match open {
        Some(element) => element.attrs.last_mut()?.value.push(node),
        None => elements[*stack.last()? as usize].children.push(node),
    }
    Some(())
}

/// The substitution that is the `Event/System/EventID` text, when the template says so plainly.
fn event_id_slot(elements: &[Element]) -> Option<u16> {
    let child = |e: &Element, name: &str| {
        e.children.iter().find_map(|n| match n {
            Node::Element(i) if &*elements[*i as usize].name == name => {
                Some(&elements[*i as usize])
            }
            _ => None,
        })
    };
    let root = elements.first()?;
    if &*root.name != "Event" {
        return None;
    }
    let id = child(child(root, "System")?, "EventID")?;
    match id.children.as_slice() {
        [Node::Sub { id, .. }] => Some(*id),
        _ => None,
    }
}

/// Parsed templates shared by the chunks of a run: Windows defines the same few templates
/// again in every chunk, and parsing them is most of what reading a kept record costs.
///
/// A definition refers to names by chunk offset (and stores a name in place at its first use
/// in the chunk), so the same template has different bytes in every chunk. It is looked up by
/// its bytes with each name reference replaced by the name's own bytes, which is what its
/// parse depends on: two definitions equal so parse to the same template. Bounded: past
/// `MAX_STORED` templates, chunks parse their own.
#[derive(Debug, Default)]
pub struct TemplateStore {
    map: Mutex<HashMap<u64, Vec<Stored>>>,
}

/// A normalized definition and its template.
type Stored = (Box<[u8]>, Arc<Template>);

const MAX_STORED: usize = 4096;

impl TemplateStore {
    /// The definition at `def_offset` as its parse sees it, into `out`: `None` when it is not
    /// one this module parses.
    fn normalise(
        data: &[u8],
        def_offset: usize,
        body: std::ops::Range<usize>,
        out: &mut Vec<u8>,
    ) -> Option<()> {
        out.clear();
        out.extend_from_slice(data.get(def_offset + 4..body.start)?);
        let chunk = data;
        let data = data.get(..body.end)?;
        // A name anywhere in the chunk: its length and text, and whether its terminator is there.
        let name = |out: &mut Vec<u8>, offset: u32| -> Option<()> {
            let at = usize::try_from(offset).ok()?.checked_add(6)?;
            let len = usize::from(u16_at(chunk, at)?);
            out.push(0xfe);
            out.extend_from_slice(&(len as u16).to_le_bytes());
            out.extend_from_slice(chunk.get(at + 2..at + 2 + 2 * len)?);
            out.push(u8::from(at + 4 + 2 * len <= chunk.len()));
            Some(())
        };
        let mut p = body.start;
        while p < body.end {
            let token = data[p];
            out.push(token);
            p += 1;
            match token {
                TOK_EOF => break,
                TOK_FRAGMENT_HEADER => {
                    out.extend_from_slice(data.get(p..p + 3)?);
                    p += 3;
                }
                t if t & !TOK_MORE == TOK_OPEN_START => {
                    out.extend_from_slice(data.get(p..p + 6)?);
                    let offset = u32_at(data, p + 6)?;
                    name(out, offset)?;
                    p = skip_inline_name(data, p + 10, offset)?;
                    if t & TOK_MORE != 0 {
                        out.extend_from_slice(data.get(p..p + 4)?);
                        p += 4;
                    }
                }
                TOK_ATTRIBUTE | 0x46 => {
                    let offset = u32_at(data, p)?;
                    name(out, offset)?;
                    p = skip_inline_name(data, p + 4, offset)?;
                }
                TOK_CLOSE_START | TOK_CLOSE_EMPTY | TOK_END_ELEMENT => {}
                TOK_VALUE | 0x45 => {
                    let n = 3 + 2 * usize::from(u16_at(data, p + 1)?);
                    out.extend_from_slice(data.get(p..p + n)?);
                    p += n;
                }
                TOK_NORMAL_SUB | TOK_OPTIONAL_SUB => {
                    out.extend_from_slice(data.get(p..p + 3)?);
                    p += 3;
                }
                _ => return None,
            }
        }
        Some(())
    }

    fn get_or_parse(
        &self,
        ctx: &mut ChunkCtx<'_>,
        def_offset: u32,
        body: std::ops::Range<usize>,
    ) -> Option<Arc<Template>> {
        let mut key = std::mem::take(&mut ctx.scratch);
        Self::normalise(ctx.data, def_offset as usize, body.clone(), &mut key)?;
        let hash = fixed_hasher().hash_one(&key);
        let known = self.map.lock().ok().and_then(|map| {
            map.get(&hash)?
                .iter()
                .find(|(k, _)| **k == *key)
                .map(|(_, t)| t.clone())
        });
        let t = match known {
            Some(t) => t,
            None => {
                let t = Arc::new(parse_template(ctx, body)?);
                if let Ok(mut map) = self.map.lock()
                    && map.len() < MAX_STORED
                {
                    map.entry(hash)
                        .or_default()
                        .push((key.as_slice().into(), t.clone()));
                }
                t
            }
        };
        ctx.scratch = key;
        Some(t)
    }
}

/// A hasher with fixed keys, so that what different threads hash agrees.
pub(crate) fn fixed_hasher() -> ahash::RandomState {
    ahash::RandomState::with_seeds(0x5c4b, 0x1e7a, 0x9d2f, 0x3b61)
}
