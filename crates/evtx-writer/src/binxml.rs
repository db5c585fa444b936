//! BinXML: the token stream of one record, with its templates, as Windows writes it.
//!
//! Each record is a fragment holding one `TemplateInstance` of the *System template*: the
//! `<Event>` element tree with `<System>` fields as (optional) substitutions, the computer name
//! as literal text, and the event data as a nested BinXML value (substitution 17). That nested
//! value is again a fragment with a `TemplateInstance`, of an *EventData template*
//! (`<EventData><Data Name="…">%n</Data>…`). This is the layout Windows' event log service
//! uses for manifest providers (studied in real Security.evtx / System.evtx chunks), so a
//! reader's template fast path sees what it sees on real logs: substitution 3 is the UInt16
//! EventID, 6 a FILETIME, 10 the UInt64 record id, 12 the SID.
//!
//! A template is defined in place, right after the `TemplateInstance` header of the first
//! record in the chunk that uses it; later records in the chunk give only its offset. Element
//! and attribute names are references into the chunk string table; a name's first use in the
//! chunk stores the string right after its reference.
//!
//! System template substitutions (index: element, type):
//! 0 Level u8, 1 Opcode u8, 2 Task u16, 3 EventID u16, 4 Qualifiers u16, 5 Keywords hex64,
//! 6 TimeCreated filetime, 7 ActivityID guid, 8 ProcessID u32, 9 ThreadID u32,
//! 10 EventRecordID u64, 11 Version u8, 12 UserID sid, 13 RelatedActivityID guid,
//! 14 Provider Name string, 15 Provider Guid guid, 16 Channel string, 17 EventData binxml,
//! 18 Provider EventSourceName string. All are optional: a NULL value drops the attribute
//! (e.g. `<Security/>` without UserID, `<EventID>` without Qualifiers).

use crate::error::WriteError;
use crate::record::{DataValue, Record};
use crate::tables::{Tables, TemplateKey};
use crate::value::{self, ty};

/// BinXML tokens (MS-EVEN6 2.2.3.1).
mod token {
    pub const EOF: u8 = 0x00;
    pub const OPEN_START: u8 = 0x01;
    pub const HAS_MORE: u8 = 0x40;
    pub const CLOSE_START: u8 = 0x02;
    pub const CLOSE_EMPTY: u8 = 0x03;
    pub const END_ELEMENT: u8 = 0x04;
    pub const VALUE: u8 = 0x05;
    pub const ATTRIBUTE: u8 = 0x06;
    pub const TEMPLATE_INSTANCE: u8 = 0x0c;
    pub const NORMAL_SUB: u8 = 0x0d;
    pub const OPTIONAL_SUB: u8 = 0x0e;
    pub const FRAGMENT_HEADER: [u8; 4] = [0x0f, 0x01, 0x01, 0x00];
}

const EVENT_NS: &str = "http://schemas.microsoft.com/win/2004/08/events/event";

/// Content of a template element or attribute.
enum Node {
    Element(Element),
    Text(String),
    Sub { index: u16, ty: u8, optional: bool },
}

struct Element {
    name: String,
    dependency: Option<u16>,
    attrs: Vec<(String, Node)>,
    children: Vec<Node>,
}

fn el(name: &str, dependency: Option<u16>, attrs: Vec<(&str, Node)>, children: Vec<Node>) -> Node {
    Node::Element(Element {
        name: name.to_string(),
        dependency,
        attrs: attrs.into_iter().map(|(n, v)| (n.to_string(), v)).collect(),
        children,
    })
}

fn opt(index: u16, ty: u8) -> Node {
    Node::Sub {
        index,
        ty,
        optional: true,
    }
}

/// The System template's element tree for one computer.
fn system_template(computer: &str) -> Node {
    let leaf = |name: &str, index: u16, t: u8| el(name, Some(index), vec![], vec![opt(index, t)]);
    let system = el(
        "System",
        None,
        vec![],
        vec![
            el(
                "Provider",
                None,
                vec![
                    ("Name", opt(14, ty::STRING)),
                    ("Guid", opt(15, ty::GUID)),
                    ("EventSourceName", opt(18, ty::STRING)),
                ],
                vec![],
            ),
            el(
                "EventID",
                Some(3),
                vec![("Qualifiers", opt(4, ty::UINT16))],
                vec![opt(3, ty::UINT16)],
            ),
            leaf("Version", 11, ty::UINT8),
            leaf("Level", 0, ty::UINT8),
            leaf("Task", 2, ty::UINT16),
            leaf("Opcode", 1, ty::UINT8),
            leaf("Keywords", 5, ty::HEX_INT64),
            el(
                "TimeCreated",
                None,
                vec![("SystemTime", opt(6, ty::FILETIME))],
                vec![],
            ),
            leaf("EventRecordID", 10, ty::UINT64),
            el(
                "Correlation",
                None,
                vec![
                    ("ActivityID", opt(7, ty::GUID)),
                    ("RelatedActivityID", opt(13, ty::GUID)),
                ],
                vec![],
            ),
            el(
                "Execution",
                None,
                vec![
                    ("ProcessID", opt(8, ty::UINT32)),
                    ("ThreadID", opt(9, ty::UINT32)),
                ],
                vec![],
            ),
            el("Channel", None, vec![], vec![opt(16, ty::STRING)]),
            el(
                "Computer",
                None,
                vec![],
                vec![Node::Text(computer.to_string())],
            ),
            el("Security", None, vec![("UserID", opt(12, ty::SID))], vec![]),
        ],
    );
    el(
        "Event",
        None,
        vec![("xmlns", Node::Text(EVENT_NS.to_string()))],
        vec![system, opt(17, ty::BIN_XML)],
    )
}

/// The EventData template for a list of (name, value type).
fn event_data_template(fields: &[(String, u8)]) -> Node {
    let data = fields
        .iter()
        .enumerate()
        .map(|(i, (name, t))| {
            el(
                "Data",
                None,
                vec![("Name", Node::Text(name.clone()))],
                vec![Node::Sub {
                    index: i as u16,
                    ty: *t,
                    optional: false,
                }],
            )
        })
        .collect();
    el("EventData", None, vec![], data)
}

/// One substitution value of an instance.
enum Sub<'a> {
    Null,
    Val(DataValue),
    Str(&'a str),
    Data(&'a DataValue),
    EventData(&'a [(String, DataValue)]),
}

/// Appends BinXML to `out`, whose first byte sits at chunk offset `base`.
pub(crate) struct Emitter<'a> {
    out: &'a mut Vec<u8>,
    base: u32,
    tables: &'a mut Tables,
}

impl<'a> Emitter<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>, base: u32, tables: &'a mut Tables) -> Self {
        Emitter { out, base, tables }
    }

    /// Chunk offset of the next byte.
    fn pos(&self) -> u32 {
        self.base + self.out.len() as u32
    }

    fn u16(&mut self, v: u16) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }

    fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }

    fn patch_u32(&mut self, at: usize, v: u32) {
        self.out[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    /// A name reference; on the name's first use in the chunk, the string-table entry
    /// (next-offset, hash, length, UTF-16, NUL) follows the reference.
    fn name(&mut self, name: &str) {
        if let Some(offset) = self.tables.name_offset(name) {
            self.u32(offset);
            return;
        }
        let offset = self.pos() + 4;
        self.u32(offset);
        self.u32(0); // next string in the bucket: linked when the record is committed
        let hash = value::name_hash(name);
        self.u16(hash);
        let len_at = self.out.len();
        self.u16(0);
        let n = value::push_utf16(self.out, name);
        self.out[len_at..len_at + 2].copy_from_slice(&(n as u16).to_le_bytes());
        self.u16(0);
        self.tables.add_name(name, offset, hash);
    }

    fn node(&mut self, node: &Node) {
        match node {
            Node::Element(e) => self.element(e),
            Node::Text(s) => {
                self.out.push(token::VALUE);
                self.out.push(ty::STRING);
                let len_at = self.out.len();
                self.u16(0);
                let n = value::push_utf16(self.out, s);
                self.out[len_at..len_at + 2].copy_from_slice(&(n as u16).to_le_bytes());
            }
            Node::Sub {
                index,
                ty,
                optional,
            } => {
                self.out.push(if *optional {
                    token::OPTIONAL_SUB
                } else {
                    token::NORMAL_SUB
                });
                self.u16(*index);
                self.out.push(*ty);
            }
        }
    }

    /// An element of a template definition (so with a dependency id), with its sizes.
    fn element(&mut self, e: &Element) {
        let flag = if e.attrs.is_empty() {
            0
        } else {
            token::HAS_MORE
        };
        self.out.push(token::OPEN_START | flag);
        self.u16(e.dependency.unwrap_or(0xffff));
        let size_at = self.out.len();
        self.u32(0);
        self.name(&e.name);
        if !e.attrs.is_empty() {
            let attrs_at = self.out.len();
            self.u32(0);
            for (i, (name, value)) in e.attrs.iter().enumerate() {
                let more = if i + 1 < e.attrs.len() {
                    token::HAS_MORE
                } else {
                    0
                };
                self.out.push(token::ATTRIBUTE | more);
                self.name(name);
                self.node(value);
            }
            let n = (self.out.len() - attrs_at - 4) as u32;
            self.patch_u32(attrs_at, n);
        }
        if e.children.is_empty() {
            self.out.push(token::CLOSE_EMPTY);
        } else {
            self.out.push(token::CLOSE_START);
            for child in &e.children {
                self.node(child);
            }
            self.out.push(token::END_ELEMENT);
        }
        let n = (self.out.len() - size_at - 4) as u32;
        self.patch_u32(size_at, n);
    }

    /// A `TemplateInstance`: header, the definition if this is the template's first use in
    /// the chunk, then the substitution array (descriptors, then values).
    fn instance(
        &mut self,
        key: TemplateKey,
        shape: impl FnOnce() -> Node,
        subs: &[Sub<'_>],
    ) -> Result<(), WriteError> {
        self.out.push(token::TEMPLATE_INSTANCE);
        self.out.push(0x01);
        match self.tables.template(&key) {
            Some((id, offset)) => {
                self.u32(id);
                self.u32(offset);
            }
            None => {
                let guid = key.guid();
                let id = u32::from_le_bytes([guid[0], guid[1], guid[2], guid[3]]);
                let offset = self.pos() + 8;
                self.u32(id);
                self.u32(offset);
                self.u32(0); // next template in the bucket: linked at commit
                self.out.extend_from_slice(&guid);
                let size_at = self.out.len();
                self.u32(0);
                self.out.extend_from_slice(&token::FRAGMENT_HEADER);
                self.node(&shape());
                self.out.push(token::EOF);
                let n = (self.out.len() - size_at - 4) as u32;
                self.patch_u32(size_at, n);
                self.tables.add_template(key, offset, id);
            }
        }
        self.u32(subs.len() as u32);
        let desc_at = self.out.len();
        self.out.resize(desc_at + 4 * subs.len(), 0);
        for (i, sub) in subs.iter().enumerate() {
            let start = self.out.len();
            let t = match sub {
                Sub::Null => ty::NULL,
                Sub::Val(v) => {
                    value::encode(self.out, v)?;
                    value::type_of(v)
                }
                Sub::Data(v) => {
                    value::encode(self.out, v)?;
                    value::type_of(v)
                }
                Sub::Str(s) => {
                    value::push_utf16(self.out, s);
                    ty::STRING
                }
                Sub::EventData(fields) => {
                    self.event_data(fields)?;
                    ty::BIN_XML
                }
            };
            let size = self.out.len() - start;
            let size = u16::try_from(size).map_err(|_| {
                WriteError::InvalidValue(format!("substitution {i} is {size} bytes, over 65535"))
            })?;
            let d = desc_at + 4 * i;
            self.out[d..d + 2].copy_from_slice(&size.to_le_bytes());
            self.out[d + 2] = t;
            self.out[d + 3] = 0;
        }
        Ok(())
    }

    /// The nested EventData fragment (no end-of-stream token, as in Windows' records).
    fn event_data(&mut self, fields: &[(String, DataValue)]) -> Result<(), WriteError> {
        self.out.extend_from_slice(&token::FRAGMENT_HEADER);
        let shape: Vec<(String, u8)> = fields
            .iter()
            .map(|(n, v)| (n.clone(), value::type_of(v)))
            .collect();
        let subs: Vec<Sub<'_>> = fields.iter().map(|(_, v)| Sub::Data(v)).collect();
        let key = TemplateKey::EventData(shape);
        let tree_key = key.clone();
        self.instance(
            key,
            move || match tree_key {
                TemplateKey::EventData(f) => event_data_template(&f),
                TemplateKey::System { .. } => unreachable!(),
            },
            &subs,
        )
    }

    /// The whole BinXML of `record`: fragment header, System template instance, EOF.
    pub(crate) fn record(&mut self, r: &Record) -> Result<(), WriteError> {
        let s = &r.system;
        let opt_u16 = |v: Option<u16>| v.map_or(Sub::Null, |x| Sub::Val(DataValue::UInt16(x)));
        let opt_guid =
            |v: Option<crate::record::Guid>| v.map_or(Sub::Null, |g| Sub::Val(DataValue::Guid(g)));
        let subs = [
            Sub::Val(DataValue::UInt8(s.level)),
            Sub::Val(DataValue::UInt8(s.opcode)),
            Sub::Val(DataValue::UInt16(s.task)),
            Sub::Val(DataValue::UInt16(s.event_id)),
            opt_u16(s.qualifiers),
            Sub::Val(DataValue::HexInt64(s.keywords)),
            Sub::Val(DataValue::FileTime(r.time)),
            opt_guid(s.activity_id),
            Sub::Val(DataValue::UInt32(s.process_id)),
            Sub::Val(DataValue::UInt32(s.thread_id)),
            Sub::Val(DataValue::UInt64(r.record_id)),
            Sub::Val(DataValue::UInt8(s.version)),
            s.user_sid
                .as_ref()
                .map_or(Sub::Null, |sid| Sub::Val(DataValue::Sid(sid.clone()))),
            Sub::Null,
            Sub::Str(&s.provider),
            opt_guid(s.provider_guid),
            Sub::Str(&s.channel),
            Sub::EventData(&r.event_data),
            s.event_source_name.as_deref().map_or(Sub::Null, Sub::Str),
        ];
        self.out.extend_from_slice(&token::FRAGMENT_HEADER);
        let computer = s.computer.clone();
        self.instance(
            TemplateKey::System {
                computer: computer.clone(),
            },
            move || system_template(&computer),
            &subs,
        )?;
        self.out.push(token::EOF);
        Ok(())
    }
}
