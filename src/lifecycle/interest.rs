//! What a hunt reads in its two passes: the rare creation events first, then only the
//! evidence that names what they created.
//!
//! This is what keeps a hunt's memory proportional to what it finds rather than to the corpus:
//! a 10 GiB collection holds millions of 4624s, 7036s and Sysmon registry writes, of which only
//! those about the installs found are kept. Each evidence event id is matched on the values it
//! can name a finding by: service and display names (4674, 7036, 7009, 7000), the service key's
//! `DeleteFlag` or deletion (Sysmon 13, 12), the binary's and pipes' names (Sysmon 17/18, 5145),
//! and the installing logon session (4624, 5140, 5145).

use std::collections::HashSet;
use std::sync::Arc;

use super::logon::normalise_logon_id;
use super::names::{is_sysmon, service_key_in};
use crate::event::Event;
use crate::read::{NeedleMap, NeedlesBuilder};

/// Event ids of the first pass: installs, and Sysmon's registry writes that name service keys.
pub const CREATION_EVENT_IDS: &[u32] = &[7045, 4697, 13];

/// Event ids of the second pass, each kept only when it names something the first pass found.
pub const EVIDENCE_EVENT_IDS: &[u32] = &[4674, 7036, 7009, 7000, 4624, 5140, 5145, 12, 13, 17, 18];

/// Logon sessions every machine has: they would match half the log.
const WELL_KNOWN_LOGONS: &[u64] = &[0, 0x3e3, 0x3e4, 0x3e5, 0x3e6, 0x3e7];

/// Registry paths PsExec-family clients write on their first run (a local run).
const CLIENT_EULA: &[&str] = &["\\sysinternals\\psexec\\eulaaccepted"];

/// First-pass needles: of Sysmon 13, only writes of a service's `ImagePath` (they name keys).
pub fn creation_needles() -> Arc<NeedleMap> {
    let mut b = NeedlesBuilder::default();
    b.gate("\\imagepath").phrase("\\imagepath");
    Arc::new(NeedleMap::from([(13, b.build())]))
}

/// What the first pass found, as the values evidence can name it by.
#[derive(Default)]
struct Found {
    names: HashSet<String>,
    binaries: HashSet<String>,
    logons: HashSet<u64>,
}

/// Second-pass needles from the first pass's events.
pub fn evidence_needles(creations: &[Event]) -> Arc<NeedleMap> {
    let found = found(creations);
    let names = || {
        let mut b = NeedlesBuilder::default();
        found.names.iter().for_each(|n| {
            b.string(n);
        });
        b
    };
    let with_logons = |mut b: NeedlesBuilder| {
        found.logons.iter().for_each(|id| {
            b.number(*id);
        });
        b
    };

    let mut map = NeedleMap::new();
    for id in [4674, 7036, 7009, 7000] {
        map.insert(id, names().build());
    }
    map.insert(4624, with_logons(NeedlesBuilder::default()).build());
    map.insert(5140, with_logons(NeedlesBuilder::default()).build());
    // 5145: the session's share access, the uploaded binary, and pipes named after the service.
    let mut share = with_logons(names());
    found.binaries.iter().for_each(|b| {
        share.string(b);
    });
    map.insert(5145, share.build());
    // Sysmon pipes: named after the service, or made by its binary.
    let mut pipes = names();
    found.binaries.iter().for_each(|b| {
        pipes.string(b);
    });
    let pipes = pipes.build();
    map.insert(17, pipes.clone());
    map.insert(18, pipes);
    // Sysmon registry: the key marked for deletion or deleted, and a client's first run.
    let mut flags = NeedlesBuilder::default();
    flags.gate("\\deleteflag");
    CLIENT_EULA.iter().for_each(|p| {
        flags.gate(p);
    });
    let mut deletes = NeedlesBuilder::default();
    deletes.gate("\\services\\");
    for n in &found.names {
        flags.phrase(&format!("\\services\\{n}\\deleteflag"));
        deletes.phrase(&format!("\\services\\{n}"));
    }
    CLIENT_EULA.iter().for_each(|p| {
        flags.phrase(p);
    });
    map.insert(13, flags.build());
    map.insert(12, deletes.build());
    Arc::new(map)
}

fn found(creations: &[Event]) -> Found {
    let mut f = Found::default();
    let mut images = Vec::new();
    for e in creations
        .iter()
        .filter(|e| matches!(e.event_id, 7045 | 4697))
    {
        if let Some(name) = e.field_nonempty("ServiceName") {
            f.names.insert(name.to_lowercase());
        }
        for field in ["ImagePath", "ServiceFileName"] {
            if let Some(image) = e.field_nonempty(field) {
                images.push(image.to_string());
                add_binary_names(&mut f, image);
            }
        }
        if let Some(id) = e
            .field("SubjectLogonId")
            .and_then(normalise_logon_id)
            .and_then(|id| u64::from_str_radix(id.trim_start_matches("0x"), 16).ok())
            .filter(|id| !WELL_KNOWN_LOGONS.contains(id))
        {
            f.logons.insert(id);
        }
    }
    // Sysmon's ImagePath writes of the installed images name their service keys.
    for e in creations
        .iter()
        .filter(|e| e.event_id == 13 && is_sysmon(e))
    {
        let Some((key, _)) = e.field("TargetObject").and_then(service_key_in) else {
            continue;
        };
        if e.field("Details")
            .is_some_and(|d| images.iter().any(|i| i.eq_ignore_ascii_case(d)))
        {
            f.names.insert(key.to_lowercase());
        }
    }
    f
}

/// The binary's file name and stem: Sysmon 17/18 name pipes' processes by image, 5145 names
/// the file uploaded to ADMIN$.
fn add_binary_names(f: &mut Found, image: &str) {
    let file = crate::attribute::file_name(image);
    // Shared system binaries would match every pipe and share access on the host.
    const SHARED: &[&str] = &[
        "%comspec%",
        "cmd.exe",
        "cmd",
        "powershell.exe",
        "powershell",
        "svchost.exe",
        "dllhost.exe",
        "rundll32.exe",
        "lsass.exe",
        "services.exe",
        "msiexec.exe",
    ];
    if file.is_empty() || SHARED.iter().any(|s| s.eq_ignore_ascii_case(file)) {
        return;
    }
    f.binaries.insert(file.to_lowercase());
    if let Some((stem, _)) = file.rsplit_once('.') {
        f.binaries.insert(stem.to_lowercase());
    }
}
