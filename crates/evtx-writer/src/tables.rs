//! The chunk's string and template tables, with a record's additions held as pending until
//! the record is known to fit in the chunk.
//!
//! A chunk header has 64 string buckets and 32 template buckets; each bucket holds the offset
//! of the first entry of a chain, and each entry begins with the offset of the next (0 ends
//! it). Readers walk the chains to preload names and templates. Strings go in bucket
//! `hash % 64` (the hash stored with the name). For templates the bucket function Windows
//! uses is not documented; readers only follow the chains, and this writer uses
//! `template id % 32`.

use std::collections::HashMap;

/// What a template definition is for; equal keys share one definition in a chunk.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum TemplateKey {
    /// The `<Event>`/`<System>` tree, whose `Computer` is literal text.
    System { computer: String },
    /// `<EventData>` with these `Data` names and value types.
    EventData(Vec<(String, u8)>),
}

impl TemplateKey {
    /// A GUID derived from the key (two FNV-1a 64-bit hashes), stable across runs; its first
    /// four bytes are the template id, as in Windows' templates.
    pub(crate) fn guid(&self) -> [u8; 16] {
        let mut text = String::new();
        match self {
            TemplateKey::System { computer } => {
                text.push_str("system\0");
                text.push_str(computer);
            }
            TemplateKey::EventData(fields) => {
                text.push_str("eventdata");
                for (name, t) in fields {
                    text.push('\0');
                    text.push_str(name);
                    text.push(char::from(b'a' + (t & 0x0f)));
                    text.push(char::from(b'a' + (t >> 4)));
                }
            }
        }
        let fnv = |seed: u64| {
            let mut h = 0xcbf2_9ce4_8422_2325_u64 ^ seed;
            for b in text.bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
            h
        };
        let mut g = [0u8; 16];
        g[..8].copy_from_slice(&fnv(0).to_le_bytes());
        g[8..].copy_from_slice(&fnv(0x9e37_79b9_7f4a_7c15).to_le_bytes());
        g
    }
}

/// Names and templates defined in the chunk so far.
#[derive(Debug)]
pub(crate) struct Tables {
    names: HashMap<String, u32>,
    templates: HashMap<TemplateKey, (u32, u32)>,
    pending_names: Vec<(String, u32, u16)>,
    pending_templates: Vec<(TemplateKey, u32, u32)>,
    pub(crate) string_buckets: [u32; 64],
    pub(crate) template_buckets: [u32; 32],
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            names: HashMap::new(),
            templates: HashMap::new(),
            pending_names: Vec::new(),
            pending_templates: Vec::new(),
            string_buckets: [0; 64],
            template_buckets: [0; 32],
        }
    }
}

impl Tables {
    /// Offset of the string-table entry for `name`, if the chunk has one.
    pub(crate) fn name_offset(&self, name: &str) -> Option<u32> {
        self.names.get(name).copied()
    }

    /// A name defined by the record being written, at `offset`.
    pub(crate) fn add_name(&mut self, name: &str, offset: u32, hash: u16) {
        self.names.insert(name.to_string(), offset);
        self.pending_names.push((name.to_string(), offset, hash));
    }

    /// `(id, offset)` of the template for `key`, if defined in the chunk.
    pub(crate) fn template(&self, key: &TemplateKey) -> Option<(u32, u32)> {
        self.templates.get(key).copied()
    }

    /// A template defined by the record being written, at `offset`.
    pub(crate) fn add_template(&mut self, key: TemplateKey, offset: u32, id: u32) {
        self.templates.insert(key.clone(), (id, offset));
        self.pending_templates.push((key, offset, id));
    }

    /// The record did not fit: forget what it defined.
    pub(crate) fn rollback(&mut self) {
        for (name, _, _) in self.pending_names.drain(..) {
            self.names.remove(&name);
        }
        for (key, _, _) in self.pending_templates.drain(..) {
            self.templates.remove(&key);
        }
    }

    /// The record is in the chunk (`chunk` is the whole chunk buffer): link its new names
    /// and templates into their bucket chains.
    pub(crate) fn commit(&mut self, chunk: &mut [u8]) {
        for (_, offset, hash) in self.pending_names.drain(..) {
            let bucket = usize::from(hash) % 64;
            let at = offset as usize;
            chunk[at..at + 4].copy_from_slice(&self.string_buckets[bucket].to_le_bytes());
            self.string_buckets[bucket] = offset;
        }
        for (_, offset, id) in self.pending_templates.drain(..) {
            let bucket = id as usize % 32;
            let at = offset as usize;
            chunk[at..at + 4].copy_from_slice(&self.template_buckets[bucket].to_le_bytes());
            self.template_buckets[bucket] = offset;
        }
    }

    /// Start over for a new chunk.
    pub(crate) fn clear(&mut self) {
        self.names.clear();
        self.templates.clear();
        self.pending_names.clear();
        self.pending_templates.clear();
        self.string_buckets = [0; 64];
        self.template_buckets = [0; 32];
    }
}
