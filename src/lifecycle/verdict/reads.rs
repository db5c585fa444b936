//! What the verdict needs read in a hunt's second pass, beyond the install's own evidence:
//! process creations of client programs and of the installing sessions (Sysmon 1, 4688), the
//! installing sessions' explicit-credential logons (4648), and the named pipes a getsystem-style
//! service writes into, with the user-context process that created them (Sysmon 17/18).
//!
//! Each is matched on values the first pass found (logon ids, pipe names, installer accounts)
//! or on a client's name, so a hunt still keeps only what speaks of its installs.

use crate::select::{Anchors, FieldMap, NeedleMap, NeedlesBuilder};

use super::super::logon::normalise_logon_id;
use super::super::plan::WELL_KNOWN_LOGONS;

/// Words in a client program's image, original file name or command line: PsExec-family
/// clients, `sc … create`, `New-Service`, `tscon`.
const CLIENT_PHRASES: &[&str] = &[
    "psexec",
    "paexec",
    "remcom",
    "csexec",
    "\\sc.exe",
    "sc.exe ",
    "new-service",
    "tscon",
];

/// Fields the verdict reads, by event id (merged into the hunt's field map).
pub fn add_fields(map: &mut FieldMap) {
    const F1: &[&str] = &[
        "Image",
        "OriginalFileName",
        "CommandLine",
        "User",
        "LogonId",
        "TerminalSessionId",
        "ParentImage",
    ];
    const F4688: &[&str] = &[
        "SubjectUserSid",
        "SubjectLogonId",
        "NewProcessName",
        "CommandLine",
        "ParentProcessName",
    ];
    const F4648: &[&str] = &[
        "SubjectUserSid",
        "SubjectLogonId",
        "TargetUserName",
        "TargetServerName",
        "ProcessName",
    ];
    const FPIPE: &[&str] = &["EventType", "PipeName", "Image", "User"];
    map.insert(1, F1);
    map.insert(4688, F4688);
    map.insert(4648, F4648);
    map.insert(17, FPIPE);
    map.insert(18, FPIPE);
}

/// The installing logon sessions the first pass found (4697's `SubjectLogonId`).
fn logons(creations: &dyn Anchors) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    creations.each(&mut |e| {
        if e.event_id() == 4697
            && let Some(id) = e
                .field("SubjectLogonId")
                .and_then(normalise_logon_id)
                .and_then(|id| u64::from_str_radix(id.trim_start_matches("0x"), 16).ok())
                .filter(|id| !WELL_KNOWN_LOGONS.contains(id))
        {
            out.push(id);
        }
    });
    out.sort_unstable();
    out.dedup();
    out
}

/// Add to a Sysmon 17/18 needle set the pipes the installs' command lines write into, and the
/// installing accounts (the user-context process that creates the pipe runs as one).
pub fn add_pipe_needles(b: &mut NeedlesBuilder, creations: &dyn Anchors) {
    creations.each(&mut |e| {
        for field in ["ImagePath", "ServiceFileName"] {
            if let Some(pipe) = e.field(field).and_then(super::shell::pipe_write) {
                b.string(&pipe);
            }
        }
        if e.event_id() == 4697
            && let Some(name) = e.user_name()
        {
            b.string(name);
        }
    });
}

/// Add the verdict's second-pass needles (process creations, 4648) to `map`.
pub fn add_needles(map: &mut NeedleMap, creations: &dyn Anchors) {
    let ids = logons(creations);
    let clients = || {
        let mut b = NeedlesBuilder::default();
        CLIENT_PHRASES.iter().for_each(|p| {
            b.phrase(p);
        });
        ids.iter().for_each(|id| {
            b.number(*id);
        });
        b
    };
    map.insert(1, clients().build());
    map.insert(4688, clients().build());
    let mut explicit = NeedlesBuilder::default();
    ids.iter().for_each(|id| {
        explicit.number(*id);
    });
    map.insert(4648, explicit.build());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hunt_reads_what_the_verdict_needs() {
        let mut fields = FieldMap::new();
        add_fields(&mut fields);
        for id in fields.keys() {
            assert!(
                super::super::super::plan::EVIDENCE_EVENT_IDS.contains(id),
                "{id} is not read in the second pass"
            );
        }
    }
}
