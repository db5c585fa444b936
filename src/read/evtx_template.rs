//! Template definitions as svchunt reads them without the `evtx` crate: a definition's element
//! tree (elements, attributes, literal text and substitutions), what the readers look up in it
//! once rather than per record (where the EventID is, which substitutions are event data or the
//! account), and the [`TemplateStore`] that shares parsed templates across the chunks of a run.
//!
//! Why apart from [`super::evtx_binxml`]: a definition is parsed once (per chunk, or per run
//! through the store) and read by every record that instantiates it, so nothing here depends
//! on a record. That module reads a record's instance and values against these templates, and
//! keeps the per-chunk state ([`ChunkCtx`]) through which a definition's names are read and its
//! template is looked up; this one parses a definition as strictly as that one reads values:
//! only what Windows writes in templates, `None` for anything else, so that the caller hands
//! the record to the crate.
//!
//! This module knows template definitions' bytes and nothing of records' values, events,
//! filters or the crate (the recipe a template keeps is compiled by `evtx_recipe`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::evtx_binxml::{
    ChunkCtx, TOK_ATTRIBUTE, TOK_CLOSE_EMPTY, TOK_CLOSE_START, TOK_END_ELEMENT, TOK_EOF,
    TOK_FRAGMENT_HEADER, TOK_MORE, TOK_NORMAL_SUB, TOK_OPEN_START, TOK_OPTIONAL_SUB, TOK_VALUE,
    push_utf16_lossy, ty, u16_at, u32_at, utf16_until_nul,
};

/// Every value type the crate knows (a template's substitution token must name one).
fn known_type(t: u8) -> bool {
    matches!(t, 0x00..=0x15 | 0x20 | 0x21 | 0x23 | 0x81..=0x95)
}

/// Deepest element nesting accepted in a template (the crate accepts far more, renders it
/// recursively, and JSON parsers stop at 128 levels; Windows writes four or five).
const MAX_DEPTH: usize = 32;
/// Most elements a template may have here (Windows' largest have about a hundred).
const MAX_ELEMENTS: usize = 2048;

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

/// Parse a template body (the bytes after its 24-byte header) into its element tree.
pub(super) fn parse_template(
    ctx: &mut ChunkCtx<'_>,
    body: std::ops::Range<usize>,
) -> Option<Template> {
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

    pub(super) fn get_or_parse(
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
