//! The way most records become events, compiled once per template: which substitution (or
//! literal) each `System` field and each named `Data` field comes from.
//!
//! [`super::evtx_render`] applies the crate's rendering rules to any template, resolving the
//! instance node by node; that is exact but costs tens of thousands of instructions a record.
//! Windows templates have one shape: an `Event` root holding a `System` element whose fields
//! are leaves (a substitution or literal text, attributes of one node each), then the event
//! data as an `EventData` element of named `Data` leaves (in the template, or as a nested
//! instance whose template is one). For that shape every rule reduces to a lookup: an element
//! whose dependency value is NULL is absent, a leaf's text is its value's (empty when left
//! out), an attribute is written only when it has text. [`Recipe::of`] compiles a template
//! of that shape (and answers `None` for any other, which the general renderer then takes);
//! [`event_into`] applies it. The record-by-record test in `tests/reading/fast_path.rs` holds
//! both to the crate's output.

use std::sync::Arc;

use jiff::Timestamp;

use super::evtx_binxml::{Instance, Slot, Val, ty};
use super::evtx_template::{Element, Node, Template};
use super::evtx_text::{filetime_instant, write_value};
use super::times;
use crate::event::{Event, Locator, Origin};

/// Where a leaf's text (or an attribute's) comes from.
#[derive(Debug, Clone)]
enum Source {
    /// Nothing: empty.
    Empty,
    Text(Box<str>),
    Sub {
        id: u16,
        optional: bool,
    },
}

/// A leaf element: its dependency, its content, its attributes by name.
#[derive(Debug, Clone)]
struct Leaf {
    dependency: Option<u16>,
    content: Source,
    attrs: Vec<(Arc<str>, Source)>,
}

/// The `System` fields `to_event` reads, each as the elements that could be it, in order (the
/// first not left out is).
#[derive(Debug, Clone, Default)]
struct System {
    event_id: Vec<Leaf>,
    time: Vec<Leaf>,
    record_id: Vec<Leaf>,
    provider: Vec<Leaf>,
    channel: Vec<Leaf>,
    computer: Vec<Leaf>,
    security: Vec<Leaf>,
}

/// Where the event data comes from.
#[derive(Debug, Clone)]
enum Data {
    None,
    /// This template's own `EventData`.
    Here(DataFields),
    /// A nested instance in substitution `id`, whose template has its own recipe.
    Nested(u16),
}

/// Named `Data` leaves: (name, leaf).
#[derive(Debug, Clone, Default)]
struct DataFields(Vec<(Box<str>, Leaf)>);

/// A compiled template.
#[derive(Debug, Clone)]
pub struct Recipe(Shape);

#[derive(Debug, Clone)]
enum Shape {
    /// An `Event` root.
    Event(Box<(System, Data)>),
    /// An `EventData` root (a nested instance's template).
    EventData(DataFields),
}

fn leaf(e: &Element) -> Option<Leaf> {
    let source = |nodes: &[Node]| match nodes {
        [] => Some(Source::Empty),
        [Node::Text(t)] => Some(Source::Text(t.clone())),
        [Node::Sub { id, optional }] => Some(Source::Sub {
            id: *id,
            optional: *optional,
        }),
        _ => None,
    };
    Some(Leaf {
        dependency: e.dependency,
        content: source(&e.children)?,
        attrs: e
            .attrs
            .iter()
            .map(|a| Some((a.name.clone(), source(&a.value)?)))
            .collect::<Option<_>>()?,
    })
}

fn children<'t>(t: &'t Template, e: &'t Element) -> impl Iterator<Item = &'t Element> + 't {
    e.children.iter().filter_map(|n| match n {
        Node::Element(i) => t.elements.get(*i as usize),
        _ => None,
    })
}

/// An `EventData` element of named `Data` leaves, each name literal and once.
fn data_fields(t: &Template, e: &Element) -> Option<DataFields> {
    // Text or substitutions beside the `Data` would be members of their own.
    if e.children.iter().any(|n| !matches!(n, Node::Element(_))) {
        return None;
    }
    let mut fields: Vec<(Box<str>, Leaf)> = Vec::new();
    for d in children(t, e) {
        if &*d.name != "Data" {
            return None;
        }
        let name = match d
            .attrs
            .iter()
            .find(|a| &*a.name == "Name")?
            .value
            .as_slice()
        {
            [Node::Text(n)] if !n.is_empty() => n.clone(),
            _ => return None,
        };
        if fields.iter().any(|(n, _)| *n == name) {
            return None;
        }
        fields.push((name, leaf(d)?));
    }
    Some(DataFields(fields))
}

impl Recipe {
    /// The recipe of `t`, if it has the common shape.
    pub fn of(t: &Template) -> Option<Recipe> {
        let root = t.elements.first()?;
        if &*root.name == "EventData" {
            return literal_attrs(root)
                .then(|| data_fields(t, root))?
                .map(|f| Recipe(Shape::EventData(f)));
        }
        if &*root.name != "Event" || !literal_attrs(root) {
            return None;
        }
        let mut system = None;
        let mut data = Data::None;
        for n in &root.children {
            match n {
                Node::Element(i) => {
                    let e = t.elements.get(*i as usize)?;
                    match &*e.name {
                        "System"
                            if system.is_none() && e.dependency.is_none() && literal_attrs(e) =>
                        {
                            system = Some(system_fields(t, e)?)
                        }
                        "EventData"
                            if matches!(data, Data::None)
                                && e.dependency.is_none()
                                && literal_attrs(e) =>
                        {
                            data = Data::Here(data_fields(t, e)?)
                        }
                        // A second `System` or `EventData`, `UserData`, anything else that
                        // `to_event` reads or that could be left out: the general way.
                        _ => return None,
                    }
                }
                Node::Sub { id, .. } if matches!(data, Data::None) => data = Data::Nested(*id),
                _ => return None,
            }
        }
        Some(Recipe(Shape::Event(Box::new((system?, data)))))
    }
}

/// Attributes of literal text only (whose values `to_event` never reads, and which a value
/// cannot turn into an error).
fn literal_attrs(e: &Element) -> bool {
    e.attrs
        .iter()
        .all(|a| a.value.iter().all(|n| matches!(n, Node::Text(_))))
}

fn system_fields(t: &Template, e: &Element) -> Option<System> {
    if e.children.iter().any(|n| !matches!(n, Node::Element(_))) {
        return None;
    }
    let mut s = System::default();
    for f in children(t, e) {
        // `to_event` also looks for `Name_attributes` members.
        if f.name.ends_with("_attributes") || f.name.starts_with('#') {
            return None;
        }
        let list = match &*f.name {
            "EventID" => &mut s.event_id,
            "TimeCreated" => &mut s.time,
            "EventRecordID" => &mut s.record_id,
            "Provider" => &mut s.provider,
            "Channel" => &mut s.channel,
            "Computer" => &mut s.computer,
            "Security" => &mut s.security,
            _ => continue,
        };
        list.push(leaf(f)?);
    }
    Some(s)
}

/// A resolved content node's text: `None` when it has none (absent, or empty), `Err` when
/// the recipe cannot say (a nested instance where a leaf was expected, a value it cannot
/// write).
fn text(inst: &Instance<'_>, s: &Source, out: &mut String) -> Result<bool, ()> {
    match s {
        Source::Empty => Ok(false),
        Source::Text(t) => {
            out.push_str(t);
            Ok(!t.is_empty())
        }
        Source::Sub { id, optional } => match inst.values.get(usize::from(*id)) {
            None => Ok(false),
            Some(Slot::Nested(_)) => Err(()),
            // Left out (optional) or an empty value: no text either way.
            Some(Slot::Value(v)) if v.is_empty() => {
                let _ = optional;
                Ok(false)
            }
            Some(Slot::Value(v)) => {
                write_value(v, out).ok_or(())?;
                Ok(true)
            }
        },
    }
}

/// Whether a source renders as a bare number (a single integer or boolean value).
fn is_bare(inst: &Instance<'_>, s: &Source) -> bool {
    let Source::Sub { id, .. } = s else {
        return false;
    };
    matches!(
        inst.values.get(usize::from(*id)),
        Some(Slot::Value(Val { ty: t, .. })) if matches!(*t,
            ty::INT8 | ty::UINT8 | ty::INT16 | ty::UINT16 | ty::INT32 | ty::UINT32
                | ty::INT64 | ty::UINT64 | ty::BOOL)
    )
}

fn left_out(inst: &Instance<'_>, l: &Leaf) -> bool {
    l.dependency
        .and_then(|d| inst.value(d))
        .is_some_and(|v| v.ty == ty::NULL)
}

/// The first of `leaves` not left out.
fn first<'r>(inst: &Instance<'_>, leaves: &'r [Leaf]) -> Option<&'r Leaf> {
    leaves.iter().find(|l| !left_out(inst, l))
}

/// A leaf's text, left in `scratch`.
fn leaf_into(inst: &Instance<'_>, l: &Leaf, scratch: &mut String) -> Result<(), ()> {
    scratch.clear();
    text(inst, &l.content, scratch).map(|_| ())
}

/// A leaf's attribute `name` (the last one with text), left in `scratch`; whether it is a
/// bare number, `None` when no such attribute has text.
fn attr_into(
    inst: &Instance<'_>,
    l: &Leaf,
    name: &str,
    scratch: &mut String,
) -> Result<Option<bool>, ()> {
    for (n, s) in l.attrs.iter().rev() {
        if &**n != name {
            continue;
        }
        scratch.clear();
        if text(inst, s, scratch)? {
            return Ok(Some(is_bare(inst, s)));
        }
    }
    Ok(None)
}

/// The instant of a leaf's attribute `name` when the last one is a FILETIME value (as every
/// `TimeCreated` Windows writes is), without writing its text and reading it back: what
/// [`attr_into`] then [`times::system_time`] give (see [`filetime_instant`]). `None` for any
/// other attribute, and past the years an instant holds.
fn filetime_attr(inst: &Instance<'_>, l: &Leaf, name: &str) -> Option<Timestamp> {
    let (_, Source::Sub { id, .. }) = l.attrs.iter().rev().find(|(n, _)| &**n == name)? else {
        return None;
    };
    match inst.values.get(usize::from(*id))? {
        Slot::Value(Val {
            ty: ty::FILETIME,
            bytes,
        }) => filetime_instant(u64::from_le_bytes((*bytes).try_into().ok()?)),
        _ => None,
    }
}

/// `target` made `text`, in the memory it has.
fn assign(target: &mut String, text: &str) {
    target.clear();
    target.push_str(text);
}

/// Whether a leaf renders as an object: one of its attributes has text.
fn is_object(inst: &Instance<'_>, l: &Leaf, scratch: &mut String) -> Result<bool, ()> {
    for (_, s) in &l.attrs {
        scratch.clear();
        if text(inst, s, scratch)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// What decoding records one after another into one event reuses.
#[derive(Debug, Default)]
pub struct Scratch {
    /// Where each text is written before it is copied to its place.
    text: String,
    /// Fields a record with more of them left, for a later record's.
    fields: Vec<(String, String)>,
}

/// The named fields into `out`: empty, or a previous record's fields, whose strings are
/// written over (those left over wait in `scratch` for a record with more). Each value is
/// written in `scratch` first, so that a new string is allocated once at its length rather
/// than grown piece by piece.
fn data(
    inst: &Instance<'_>,
    fields: &DataFields,
    out: &mut Vec<(String, String)>,
    scratch: &mut Scratch,
) -> Result<(), ()> {
    if out.is_empty() {
        out.reserve_exact(fields.0.len());
    }
    let text = &mut scratch.text;
    let mut n = 0;
    for (name, l) in &fields.0 {
        if left_out(inst, l) {
            continue;
        }
        // `flatten_data` skips these keys; a name `Data` would be unnamed data.
        if **name == *"#attributes" || name.ends_with("_attributes") || &**name == "Data" {
            return Err(());
        }
        leaf_into(inst, l, text)?;
        match out.get_mut(n) {
            Some((k, v)) => {
                assign(k, name);
                assign(v, text);
            }
            None => out.push(match scratch.fields.pop() {
                Some((mut k, mut v)) => {
                    assign(&mut k, name);
                    assign(&mut v, text);
                    (k, v)
                }
                None => (name.to_string(), text.as_str().to_owned()),
            }),
        }
        n += 1;
    }
    if out.len() > n {
        scratch.fields.extend(out.drain(n..));
    }
    Ok(())
}

/// The record's event by its template's recipe, written into `out`, whose strings are written
/// over: a record decoded only to be folded (see `FileOutput::offer_folded`) then allocates
/// nothing once `out` has held one of its shape. `false` when the recipe cannot say (`out` is
/// then half-written; the general renderer then decides, and tells when the crate must render
/// the record).
pub fn event_into(
    inst: &Instance<'_>,
    recipe: &Recipe,
    file: &Arc<str>,
    record_id: u64,
    header_time: Timestamp,
    out: &mut Event,
    scratch: &mut Scratch,
) -> bool {
    let Recipe(Shape::Event(r)) = recipe else {
        return false;
    };
    let (system, data_source) = &**r;
    let data_ok = match data_source {
        Data::None => {
            scratch.fields.append(&mut out.data);
            Ok(())
        }
        Data::Here(f) => data(inst, f, &mut out.data, scratch),
        Data::Nested(id) => match inst.values.get(usize::from(*id)) {
            Some(Slot::Nested(inner)) => match inner.template.recipe() {
                Some(Recipe(Shape::EventData(f))) => data(inner, f, &mut out.data, scratch),
                _ => return false,
            },
            // Text where the event data would be: the general renderer says what it is.
            Some(Slot::Value(v)) if !v.is_empty() => return false,
            _ => {
                scratch.fields.append(&mut out.data);
                Ok(())
            }
        },
    };
    data_ok.is_ok()
        && system_into(
            inst,
            system,
            file,
            record_id,
            header_time,
            out,
            &mut scratch.text,
        )
        .is_ok()
}

/// The `System` fields into `out`, then its user from the subject fields, as
/// [`super::evtx_render::SystemHeader::into_event`] makes them.
fn system_into(
    inst: &Instance<'_>,
    s: &System,
    file: &Arc<str>,
    record_id: u64,
    header_time: Timestamp,
    out: &mut Event,
    scratch: &mut String,
) -> Result<(), ()> {
    leaf_into(inst, first(inst, &s.event_id).ok_or(())?, scratch)?;
    let event_id = scratch.trim().parse::<u64>().map_err(|_| ())?;
    out.event_id = u32::try_from(event_id).map_err(|_| ())?;
    (out.time, out.time_as_logged) = match first(inst, &s.time) {
        Some(l) => match filetime_attr(inst, l, "SystemTime") {
            Some(t) => (t, None),
            None => match attr_into(inst, l, "SystemTime", scratch)? {
                Some(true) => return Err(()),
                Some(false) => times::system_time(scratch).ok_or(())?,
                None => (header_time, None),
            },
        },
        None => (header_time, None),
    };
    out.record_id = match first(inst, &s.record_id) {
        Some(l) if is_object(inst, l, scratch)? => None,
        Some(l) => {
            leaf_into(inst, l, scratch)?;
            scratch.trim().parse::<u64>().ok()
        }
        None => None,
    };
    let provider = match first(inst, &s.provider) {
        Some(l) => {
            attr_into(inst, l, "Name", scratch)?.is_some()
                || attr_into(inst, l, "EventSourceName", scratch)?.is_some()
        }
        None => false,
    };
    assign(&mut out.provider, if provider { scratch } else { "" });
    for (leaves, target) in [
        (&s.channel, &mut out.channel),
        (&s.computer, &mut out.computer),
    ] {
        match first(inst, leaves) {
            Some(l) => {
                leaf_into(inst, l, scratch)?;
                assign(target, scratch);
            }
            None => target.clear(),
        }
    }
    let sid = match first(inst, &s.security) {
        Some(l) => attr_into(inst, l, "UserID", scratch)?.is_some() && !scratch.is_empty(),
        None => false,
    };
    // The user's strings are written over, not made again: the event is reused record after
    // record (a buffer the header does not take goes to the subject's account).
    let mut spare_sid = out.user.sid.take();
    if sid {
        let mut target = spare_sid.take().unwrap_or_default();
        assign(&mut target, scratch);
        out.user.sid = Some(target);
    }
    let spare_name = out.user.name.take();
    out.origin = Origin {
        file: file.clone(),
        locator: Locator::Record(record_id),
    };
    out.table = None;
    out.source_identity = None;
    out.fill_user_reusing(spare_sid, spare_name);
    Ok(())
}
