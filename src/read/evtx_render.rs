//! A template instance (see [`super::evtx_binxml`]) made into an [`Event`] directly, exactly as
//! the crate's JSON rendering of the record mapped by [`super::evtx_json::to_event`] makes it.
//!
//! Why: rendering a record to JSON and parsing that JSON back costs ten times what the hunt
//! needs from the record. This module applies the same rules without the text in between:
//! - the instance is resolved as the crate resolves it: an optional substitution whose value is
//!   empty is left out, an element whose dependency value is NULL is left out, a nested
//!   instance stands where its substitution does, an attribute left without content is none;
//! - each element renders as the crate's JSON does: `null`, a scalar (a bare number for
//!   integers and booleans, a string otherwise), or an object of `#attributes`, `#text` and one
//!   member per child element (`Name`, `Name_1`… for repeats), `EventData` and `UserData`
//!   listing their `Data` children by `Name`, or as one positional `Data` member;
//! - values are written as the crate writes them (by `evtx_text`, which the recipes and the
//!   one-pass keys share): decimal integers, `0x` hex, `{guid}`, `S-1-…` SIDs, upper-case hex
//!   bytes, FILETIMEs with seven fractional digits;
//! - then `to_event`'s mapping: `System`'s fields, `EventData` and `UserData` flattened, unnamed
//!   `Data` as `param1`…, later duplicate keys replacing earlier ones in place (as a JSON object
//!   parsed into an ordered map does).
//!
//! Anything outside those rules (floats, ANSI strings, arrays, CDATA, repeated `Data` names,
//! JSON keys the crate would write unescaped…) gives `None`: the caller renders that record
//! with the crate instead. The proof that both agree is `tests/reading/fast_path.rs`.

use std::sync::Arc;

use jiff::Timestamp;

use super::evtx_binxml::{Instance, Slot, Val, ty};
use super::evtx_template::{Element, Node};
use super::evtx_text::write_value;
use super::times;
use crate::event::{Event, Locator, Origin, UserRef};

/// One resolved content node: an element (in the instance whose template holds it), literal
/// text, or a value.
#[derive(Clone, Copy)]
enum R<'t, 'a> {
    Elem(&'t Instance<'a>, &'t Element),
    Text(&'t str),
    Val(Val<'a>),
}

impl R<'_, '_> {
    /// Whether the node is text content (non-empty text, a value that is not empty).
    fn is_content(&self) -> bool {
        match self {
            R::Elem(..) => false,
            R::Text(t) => !t.is_empty(),
            R::Val(v) => !v.is_empty(),
        }
    }
}

/// Resolve template `nodes` against `inst`'s values. `None` for what the crate would render
/// differently or not at all (an element in an attribute value).
fn resolve<'t, 'a>(
    inst: &'t Instance<'a>,
    nodes: &'t [Node],
    in_attribute: bool,
    out: &mut Vec<R<'t, 'a>>,
) -> Option<()> {
    for node in nodes {
        match node {
            Node::Element(i) => {
                let e = inst.template.elements.get(*i as usize)?;
                // MS-EVEN6 2.2.12: an element whose dependency value is NULL is left out.
                let left_out = e
                    .dependency
                    .and_then(|d| inst.value(d))
                    .is_some_and(|v| v.ty == ty::NULL);
                if !left_out {
                    out.push(R::Elem(inst, e));
                }
            }
            Node::Text(t) => out.push(R::Text(t)),
            Node::Sub { id, optional } => match inst.values.get(usize::from(*id)) {
                None => {}
                Some(Slot::Nested(inner)) if !in_attribute => {
                    out.push(R::Elem(inner, inner.template.elements.first()?))
                }
                Some(Slot::Nested(_)) => return None,
                Some(Slot::Value(v)) if *optional && v.is_empty() => {}
                Some(Slot::Value(v)) => out.push(R::Val(*v)),
            },
        }
    }
    Some(())
}

/// An element with its content and attributes resolved.
struct Resolved<'t, 'a> {
    element: &'t Element,
    children: Vec<R<'t, 'a>>,
    /// The attributes left with content after resolution: (name, nodes).
    attrs: Vec<(&'t str, Vec<R<'t, 'a>>)>,
}

fn resolved<'t, 'a>(inst: &'t Instance<'a>, element: &'t Element) -> Option<Resolved<'t, 'a>> {
    let mut children = Vec::with_capacity(element.children.len());
    resolve(inst, &element.children, false, &mut children)?;
    let mut attrs = Vec::with_capacity(element.attrs.len());
    for a in &element.attrs {
        let mut nodes = Vec::with_capacity(a.value.len());
        resolve(inst, &a.value, true, &mut nodes)?;
        if !nodes.is_empty() {
            attrs.push((&*a.name, nodes));
        }
    }
    Some(Resolved {
        element,
        children,
        attrs,
    })
}

impl<'t, 'a> Resolved<'t, 'a> {
    fn name(&self) -> &'t str {
        &self.element.name
    }

    fn has_element_child(&self) -> bool {
        self.children.iter().any(|c| matches!(c, R::Elem(..)))
    }

    fn has_text(&self) -> bool {
        self.children.iter().any(R::is_content)
    }

    fn attrs_have_text(&self) -> bool {
        self.attrs.iter().any(|(_, v)| v.iter().any(R::is_content))
    }

    /// Whether the crate renders it as a JSON object.
    fn is_object(&self) -> bool {
        self.has_element_child() || self.attrs_have_text()
    }

    /// The text of its content (elements skipped): what every rendering of it reads as.
    fn text(&self) -> Option<String> {
        text_of(&self.children, true)
    }

    /// The text of its attribute `name` (the last one with content, as a JSON object keeps
    /// the last of duplicate keys), and whether it renders as a bare number.
    fn attr(&self, name: &str) -> Option<(String, bool)> {
        let (_, nodes) = self
            .attrs
            .iter()
            .rev()
            .find(|(n, v)| *n == name && v.iter().any(R::is_content))?;
        let bare = matches!(nodes.as_slice(), [R::Val(v)] if is_bare(v));
        Some((text_of(nodes, false)?, bare))
    }

    /// The child elements, resolved, in order.
    fn child_elements(&self) -> Option<Vec<Resolved<'t, 'a>>> {
        self.children
            .iter()
            .filter_map(|c| match c {
                R::Elem(inst, e) => Some(resolved(inst, e)),
                _ => None,
            })
            .collect()
    }
}

/// Integers and booleans render as bare JSON numbers and booleans.
fn is_bare(v: &Val<'_>) -> bool {
    matches!(
        v.ty,
        ty::INT8
            | ty::UINT8
            | ty::INT16
            | ty::UINT16
            | ty::INT32
            | ty::UINT32
            | ty::INT64
            | ty::UINT64
            | ty::BOOL
    )
}

/// The text of `nodes`, elements skipped (or refused, in attribute values).
fn text_of(nodes: &[R<'_, '_>], skip_elements: bool) -> Option<String> {
    let mut s = String::new();
    for n in nodes {
        match n {
            R::Elem(..) if skip_elements => {}
            R::Elem(..) => return None,
            R::Text(t) => s.push_str(t),
            R::Val(v) => write_value(v, &mut s)?,
        }
    }
    Some(s)
}

/// A JSON value as far as `to_event` looks into it.
enum Jv {
    Null,
    /// A number, boolean or string: its text.
    Scalar(String),
    /// An object: its members in order (`#text` among them when it has text).
    Object(Vec<(String, Jv)>),
    Array(Vec<Jv>),
}

impl Jv {
    /// `evtx_json::scalar_text`.
    fn text(&self) -> String {
        match self {
            Jv::Null => String::new(),
            Jv::Scalar(s) => s.clone(),
            Jv::Array(items) => items.iter().map(Jv::text).collect::<Vec<_>>().join(", "),
            Jv::Object(members) => members
                .iter()
                .find(|(k, _)| k == "#text")
                .map(|(_, t)| t.text())
                .unwrap_or_default(),
        }
    }
}

/// Add a member as a JSON object parsed into an ordered map keeps it: a repeated key replaces
/// the earlier value in its place.
fn insert(members: &mut Vec<(String, Jv)>, key: String, value: Jv) {
    match members.iter_mut().find(|(k, _)| *k == key) {
        Some((_, v)) => *v = value,
        None => members.push((key, value)),
    }
}

fn is_container(name: &str) -> bool {
    name == "EventData" || name == "UserData"
}

/// An element's value as a member (`write_element_value`).
fn element_value(r: &Resolved<'_, '_>, container: bool) -> Option<Jv> {
    if r.attrs.is_empty() && !r.has_element_child() && r.children.len() == 1 {
        return leaf(&r.children[0], Jv::Null);
    }
    let (text, elems, attrs) = (r.has_text(), r.has_element_child(), r.attrs_have_text());
    if !elems && !text && !attrs {
        Some(Jv::Null)
    } else if !elems && !attrs {
        Some(Jv::Scalar(r.text()?))
    } else {
        body(r, container, false)
    }
}

/// A single content node as a leaf value: `empty` when it is empty.
fn leaf(node: &R<'_, '_>, empty: Jv) -> Option<Jv> {
    Some(if node.is_content() {
        Jv::Scalar(text_of(std::slice::from_ref(node), true)?)
    } else {
        empty
    })
}

/// A `Data` element's value (`render_data_element_value`): `""` when empty.
fn data_value(r: &Resolved<'_, '_>) -> Option<Jv> {
    if !r.has_element_child() && r.children.len() == 1 {
        return leaf(&r.children[0], Jv::Scalar(String::new()));
    }
    let (text, elems) = (r.has_text(), r.has_element_child());
    if !text && !elems {
        Some(Jv::Scalar(String::new()))
    } else if elems {
        body(r, false, true)
    } else {
        Some(Jv::Scalar(r.text()?))
    }
}

/// An element's object (`write_element_body_json`).
fn body(r: &Resolved<'_, '_>, container: bool, omit_attributes: bool) -> Option<Jv> {
    let mut members: Vec<(String, Jv)> = Vec::new();
    if !omit_attributes && r.attrs_have_text() {
        // `to_event` reads attributes itself (see `Resolved::attr`); flattening skips them.
        members.push(("#attributes".into(), Jv::Null));
    }
    if r.has_text() {
        members.push(("#text".into(), Jv::Scalar(r.text()?)));
    }
    let children = r.child_elements()?;
    // One non-empty `Data[@Name]` lists the container's `Data` by name.
    fn name_of<'r, 't, 'a>(c: &'r Resolved<'t, 'a>) -> Option<&'r Vec<R<'t, 'a>>> {
        c.attrs.iter().find(|(n, _)| *n == "Name").map(|(_, v)| v)
    }
    let named = container
        && children
            .iter()
            .any(|c| c.name() == "Data" && name_of(c).is_some_and(|v| v.iter().any(R::is_content)));
    let mut counts: Vec<(&str, u32)> = Vec::new();
    // Named `Data` by their name's text nodes (the crate compares names by nodes), counted to
    // number repeats.
    let mut data_counts: Vec<(Vec<&str>, u32)> = Vec::new();
    let mut positional_done = false;
    let mut skip = 0usize;
    for (i, c) in children.iter().enumerate() {
        if skip > 0 {
            skip -= 1;
            continue;
        }
        if container && c.name() == "Data" {
            if named {
                let Some(name) = name_of(c).filter(|v| v.iter().any(R::is_content)) else {
                    continue;
                };
                // A name from a substitution: the crate compares those by value type too.
                let nodes = text_nodes(name)?;
                // A run of `Data` of one name makes one member, an array of their values;
                // a name met again later is numbered (`Name_1`).
                let run = 1 + children[i + 1..]
                    .iter()
                    .take_while(|d| {
                        d.name() == "Data"
                            && name_of(d).and_then(|n| text_nodes(n)) == Some(nodes.clone())
                    })
                    .count();
                skip = run - 1;
                let n = match data_counts.iter_mut().find(|(k, _)| *k == nodes) {
                    Some((_, n)) => {
                        *n += 1;
                        *n - 1
                    }
                    None => {
                        data_counts.push((nodes, 1));
                        0
                    }
                };
                let mut key = text_of(name, false)?;
                if n > 0 {
                    key = format!("{key}_{n}");
                }
                let value = if run == 1 {
                    data_value(c)?
                } else {
                    Jv::Array(
                        children[i..i + run]
                            .iter()
                            .map(data_value)
                            .collect::<Option<_>>()?,
                    )
                };
                insert(&mut members, key, value);
            } else if !positional_done {
                positional_done = true;
                let mut items: Vec<Jv> = children
                    .iter()
                    .filter(|d| d.name() == "Data")
                    .map(data_value)
                    .collect::<Option<_>>()?;
                let text = if items.len() == 1 {
                    items.pop()?
                } else {
                    Jv::Array(items)
                };
                insert(
                    &mut members,
                    "Data".into(),
                    Jv::Object(vec![("#text".into(), text)]),
                );
            }
            continue;
        }
        let n = match counts.iter_mut().find(|(k, _)| *k == c.name()) {
            Some((_, n)) => {
                *n += 1;
                *n - 1
            }
            None => {
                counts.push((c.name(), 1));
                0
            }
        };
        let key = if n == 0 {
            c.name().to_string()
        } else {
            format!("{}_{n}", c.name())
        };
        insert(&mut members, key, element_value(c, is_container(c.name()))?);
    }
    Some(Jv::Object(members))
}

/// The texts of a name made of literal text only.
fn text_nodes<'t>(nodes: &[R<'t, '_>]) -> Option<Vec<&'t str>> {
    nodes
        .iter()
        .map(|n| match n {
            R::Text(t) => Some(*t),
            _ => None,
        })
        .collect()
}

/// `evtx_json::flatten_data` over a member's value.
fn flatten(v: &Jv, out: &mut Vec<(String, String)>) {
    let Jv::Object(members) = v else {
        return;
    };
    for (k, v) in members {
        if k == "#attributes" || k.ends_with("_attributes") {
            continue;
        }
        if k == "Data" {
            let texts: Vec<&Jv> = match v {
                Jv::Array(items) => items.iter().collect(),
                Jv::Object(m) => match m.iter().find(|(k, _)| k == "#text").map(|(_, t)| t) {
                    Some(Jv::Array(items)) => items.iter().collect(),
                    Some(t) => vec![t],
                    None => vec![],
                },
                other => vec![other],
            };
            for (i, t) in texts.into_iter().enumerate() {
                out.push((format!("param{}", i + 1), t.text()));
            }
            continue;
        }
        out.push((k.clone(), v.text()));
    }
}

/// The record's [`Event`], or `None` when the crate must render it (see the module docs).
/// `header_time` and `record_id` are the record header's.
pub fn to_event(
    inst: &Instance<'_>,
    file: &Arc<str>,
    record_id: u64,
    header_time: Timestamp,
) -> Option<Event> {
    fresh(file, |out, scratch| {
        to_event_into(inst, file, record_id, header_time, out, scratch)
    })
}

/// The event `decode` writes into a blank one, if it can.
fn fresh(file: &Arc<str>, decode: impl FnOnce(&mut Event, &mut Scratch) -> bool) -> Option<Event> {
    let mut out = blank_event(file);
    decode(&mut out, &mut Scratch::default()).then_some(out)
}

pub use super::evtx_recipe::Scratch;

/// [`to_event`] written into `out`, whose strings' memory is reused where the template's
/// recipe applies (see `evtx_recipe::event_into`); `false` where no event can be
/// made, as `to_event` gives `None`.
pub fn to_event_into(
    inst: &Instance<'_>,
    file: &Arc<str>,
    record_id: u64,
    header_time: Timestamp,
    out: &mut Event,
    scratch: &mut Scratch,
) -> bool {
    // Most records: by their template's recipe, without resolving it node by node.
    if let Some(recipe) = inst.template.recipe()
        && super::evtx_recipe::event_into(inst, recipe, file, record_id, header_time, out, scratch)
    {
        return true;
    }
    match general(inst, file, record_id, header_time) {
        Some(ev) => {
            *out = ev;
            true
        }
        None => false,
    }
}

/// An event with nothing in it yet, for a decoder to write into.
pub(super) fn blank_event(file: &Arc<str>) -> Event {
    Event {
        time: Timestamp::UNIX_EPOCH,
        time_as_logged: None,
        computer: String::new(),
        channel: String::new(),
        provider: String::new(),
        event_id: 0,
        record_id: None,
        user: UserRef::default(),
        data: Vec::new(),
        origin: Origin {
            file: file.clone(),
            locator: Locator::Record(0),
        },
        table: None,
        source_identity: None,
    }
}

/// [`to_event`] by the template's compiled recipe alone: `None` where it cannot say.
pub fn by_recipe(
    inst: &Instance<'_>,
    file: &Arc<str>,
    record_id: u64,
    header_time: Timestamp,
) -> Option<Event> {
    let recipe = inst.template.recipe()?;
    fresh(file, |out, scratch| {
        super::evtx_recipe::event_into(inst, recipe, file, record_id, header_time, out, scratch)
    })
}

/// [`to_event`] by the rules themselves, for any template.
pub fn general(
    inst: &Instance<'_>,
    file: &Arc<str>,
    record_id: u64,
    header_time: Timestamp,
) -> Option<Event> {
    let root = resolved(inst, inst.template.elements.first()?)?;
    if root.name() != "Event" {
        return None;
    }
    let members = root.child_elements()?;
    let first = |name: &str| members.iter().find(|m| m.name() == name);
    let system = first("System").filter(|s| s.is_object())?;
    let fields = system.child_elements()?;
    // `to_event` also looks for `Provider_attributes` and the like: not when such names occur.
    if fields
        .iter()
        .any(|f| f.name().ends_with("_attributes") || f.name().starts_with('#'))
    {
        return None;
    }
    let field = |name: &str| fields.iter().find(|f| f.name() == name);

    let event_id = field("EventID")?.text()?.trim().parse::<u64>().ok()?;
    let event_id = u32::try_from(event_id).ok()?;
    let (time, time_as_logged) = match field("TimeCreated").and_then(|t| t.attr("SystemTime")) {
        Some((_, true)) => return None,
        Some((text, false)) => times::system_time(&text)?,
        None => (header_time, None),
    };
    let record = match field("EventRecordID") {
        Some(r) if r.is_object() => None,
        Some(r) => r.text()?.trim().parse::<u64>().ok(),
        None => None,
    };
    let provider = field("Provider")
        .and_then(|p| p.attr("Name").or_else(|| p.attr("EventSourceName")))
        .map(|(t, _)| t)
        .unwrap_or_default();
    let scalar = |name: &str| -> Option<String> {
        match field(name) {
            Some(f) => f.text(),
            None => Some(String::new()),
        }
    };
    let channel = scalar("Channel")?;
    let computer = scalar("Computer")?;
    let system = SystemHeader {
        time,
        time_as_logged,
        event_id,
        record,
        provider,
        channel,
        computer,
        sid: field("Security")
            .and_then(|s| s.attr("UserID"))
            .map(|(t, _)| t)
            .filter(|s| !s.is_empty()),
    };

    let mut data = Vec::new();
    if let Some(ed) = first("EventData") {
        flatten(&element_value(ed, true)?, &mut data);
    }
    if let Some(ud) = first("UserData")
        && let Jv::Object(wrappers) = element_value(ud, true)?
    {
        for (k, inner) in &wrappers {
            if !k.ends_with("attributes") {
                flatten(inner, &mut data);
            }
        }
    }
    Some(system.into_event(data, file, record_id))
}

/// A record's `<System>` as both lean decoders read it (this general one and the compiled
/// recipes of `evtx_recipe`), to be made into the event `to_event` would give.
pub(super) struct SystemHeader {
    pub time: Timestamp,
    pub time_as_logged: Option<Box<str>>,
    pub event_id: u32,
    pub record: Option<u64>,
    pub provider: String,
    pub channel: String,
    pub computer: String,
    pub sid: Option<String>,
}

impl SystemHeader {
    /// The event of record `record_id` of `file`, with its data fields, its user filled in
    /// from the subject fields as `to_event` does.
    pub fn into_event(self, data: Vec<(String, String)>, file: &Arc<str>, record_id: u64) -> Event {
        let mut ev = Event {
            time: self.time,
            computer: self.computer,
            channel: self.channel,
            provider: self.provider,
            event_id: self.event_id,
            record_id: self.record,
            user: UserRef {
                sid: self.sid,
                name: None,
            },
            data,
            origin: Origin {
                file: file.clone(),
                locator: Locator::Record(record_id),
            },
            time_as_logged: self.time_as_logged,
            table: None,
            source_identity: None,
        };
        ev.fill_user_from_subject();
        ev
    }
}
