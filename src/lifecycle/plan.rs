//! What a hunt reads in its two passes: the rare creation events first (with Sysmon's writes
//! of services' `ImagePath`, which name the keys a reconfiguration borrows), then only the
//! evidence that names what they created or reconfigured.
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
use super::names::service_key_in;
use crate::select::{Anchors, FieldMap, NeedleKinds, NeedleMap, NeedlesBuilder, ReadPlan};

/// Event ids of the first pass: the installs themselves, and the start-type changes (7040)
/// that name a service reconfigured rather than created (`reconfigure`). The second pass keeps
/// only the 7040s naming a key whose `ImagePath` was written (see [`IMAGE_PATH_WRITES`]).
const CREATION_EVENT_IDS: &[u32] = &[7045, 4697, 7040];

/// Evidence the first pass also reads: Sysmon's writes of a service's `ImagePath` (rare:
/// installs, updates, and the reconfigurations `reconfigure` finds) name the service keys. Only
/// the 7040s and state events naming those keys can matter, which keeps the busy hosts'
/// start-type churn (thousands of 7040s, each naming a service with hundreds of 7036s) out.
const IMAGE_PATH_WRITES: &[(u32, &str)] = &[(13, "\\imagepath")];

/// Event ids of the second pass, each kept only when it names something the first pass found.
/// The last three are the verdict's (`verdict::reads`).
pub(super) const EVIDENCE_EVENT_IDS: &[u32] = &[
    4674, 7036, 7009, 7000, 4624, 5140, 5145, 12, 13, 17, 18, 1, 4688, 4648,
];

/// How the lifecycle semantics reads: the installs, then the evidence naming them.
pub fn plan() -> ReadPlan {
    const NAMES: NeedleKinds = NeedleKinds::STRINGS;
    const PATHS: NeedleKinds = NeedleKinds {
        phrases: true,
        ..NeedleKinds::STRINGS
    };
    ReadPlan::new(
        CREATION_EVENT_IDS,
        EVIDENCE_EVENT_IDS,
        fields(),
        evidence_needles,
    )
    .first_pass_evidence(IMAGE_PATH_WRITES)
    // The needles read a 7040's names only (`found`); the second pass reads the 7040s they keep.
    .first_pass_distinct(&[(7040, &["param1", "param4"])])
    // What `evidence_needles` gives each id (a one-pass read keeps only values of these kinds).
    .needle_kinds(&[
        (4674, NAMES),
        (7036, NAMES),
        (7009, NAMES),
        (7000, NAMES),
        (4624, NeedleKinds::NUMBERS),
        (5140, NeedleKinds::NUMBERS),
        (5145, NAMES.and(NeedleKinds::NUMBERS)),
        (17, NAMES),
        (18, NAMES),
        (13, PATHS),
        (12, PATHS),
    ])
}

/// The event-data fields the lifecycle, attribution, the seed query and the report read, by
/// event id; readers drop the rest of a kept event. (A Security event's subject account is
/// already in [`Event::user`]; only its logon session is needed from its data.)
pub(crate) fn fields() -> Arc<FieldMap> {
    const F4697: &[&str] = &[
        "SubjectLogonId",
        "ServiceName",
        "ServiceFileName",
        "ServiceType",
        "ServiceStartType",
        "ServiceAccount",
    ];
    const F4674: &[&str] = &[
        "SubjectLogonId",
        "ObjectServer",
        "ObjectType",
        "ObjectName",
        "AccessMask",
        "ProcessName",
    ];
    const F4624: &[&str] = &[
        "TargetUserSid",
        "TargetUserName",
        "TargetDomainName",
        "TargetLogonId",
        "LogonType",
        "IpAddress",
        "WorkstationName",
        "AuthenticationPackageName",
    ];
    const FSHARE: &[&str] = &[
        "SubjectUserSid",
        "SubjectLogonId",
        "IpAddress",
        "ShareName",
        "RelativeTargetName",
        "AccessList",
    ];
    const FPARAMS: &[&str] = &["param1", "param2"];
    const FREGISTRY: &[&str] = &["EventType", "TargetObject", "Details"];
    const FPIPE: &[&str] = &["PipeName", "Image"];
    let mut map = FieldMap::from([
        (4697, F4697),
        (4674, F4674),
        (4624, F4624),
        (5140, FSHARE),
        (5145, FSHARE),
        (7036, FPARAMS),
        (7009, FPARAMS),
        (7000, FPARAMS),
        (12, FREGISTRY),
        (13, FREGISTRY),
        (17, FPIPE),
        (18, FPIPE),
    ]);
    super::verdict::reads::add_fields(&mut map);
    Arc::new(map)
}

/// Logon sessions every machine has: they would match half the log.
pub(super) const WELL_KNOWN_LOGONS: &[u64] = &[0, 0x3e3, 0x3e4, 0x3e5, 0x3e6, 0x3e7];

/// Registry paths PsExec-family clients write on their first run (a local run).
const CLIENT_EULA: &[&str] = &["\\sysinternals\\psexec\\eulaaccepted"];

/// What the first pass found, as the values evidence can name it by.
#[derive(Default)]
struct Found {
    names: HashSet<String>,
    binaries: HashSet<String>,
    logons: HashSet<u64>,
    /// Image paths of 7045s no 4697 names: Sysmon's write of their `ImagePath` tells their key.
    keyless_images: HashSet<String>,
    /// Service keys whose `ImagePath` was written (Sysmon 13): a creation's key learnt from the
    /// write, or a reconfigured service's.
    keys: HashSet<String>,
    /// Display names the 7040s give those keys (their state events may use either).
    displays: HashSet<String>,
}

/// Second-pass needles from the first pass's events.
fn evidence_needles(creations: &dyn Anchors) -> NeedleMap {
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
    // The start-type changes a reconfiguration may have made: by key or display name.
    let mut changes = NeedlesBuilder::default();
    found.keys.iter().chain(&found.displays).for_each(|n| {
        changes.string(n);
    });
    map.insert(7040, changes.build());
    // One set for the four (its clones share it: on a large collection, tens of thousands of
    // names).
    let named = names().build();
    for id in [4674, 7036, 7009, 7000] {
        map.insert(id, named.clone());
    }
    map.insert(4624, with_logons(NeedlesBuilder::default()).build());
    map.insert(5140, with_logons(NeedlesBuilder::default()).build());
    // 5145: the session's share access, the uploaded binary, and pipes named after the service.
    let mut share = with_logons(names());
    found.binaries.iter().for_each(|b| {
        share.string(b);
    });
    // Every opening of the SCM's pipe: a reconfiguration's client shows only there.
    share.string("svcctl");
    map.insert(5145, share.build());
    // Sysmon pipes: named after the service, or made by its binary.
    let mut pipes = names();
    found.binaries.iter().for_each(|b| {
        pipes.string(b);
    });
    super::verdict::reads::add_pipe_needles(&mut pipes, creations);
    let pipes = pipes.build();
    map.insert(17, pipes.clone());
    map.insert(18, pipes);
    // Sysmon registry: the key marked for deletion or deleted, a client's first run, and the
    // ImagePath write that names a key no 4697 gave (a 7045 names the display name). Where the
    // key is unknown, the binary's stem stands in for it (PsExec's key is its binary's name).
    let mut flags = NeedlesBuilder::default();
    flags.gate("\\deleteflag").gate("\\imagepath");
    CLIENT_EULA.iter().for_each(|p| {
        flags.gate(p);
    });
    let mut deletes = NeedlesBuilder::default();
    deletes.gate("\\services\\");
    for n in found.names.iter().chain(&found.binaries) {
        flags.phrase(&format!("\\services\\{n}\\deleteflag"));
        deletes.phrase(&format!("\\services\\{n}"));
    }
    found.keyless_images.iter().for_each(|image| {
        flags.string(image);
    });
    CLIENT_EULA.iter().for_each(|p| {
        flags.phrase(p);
    });
    // Every ImagePath write: they are rare (installs, updates), and a service reconfigured
    // rather than created shows only there.
    flags.phrase("\\imagepath");
    map.insert(13, flags.build());
    map.insert(12, deletes.build());
    super::verdict::reads::add_needles(&mut map, creations);
    map
}

fn found(creations: &dyn Anchors) -> Found {
    let mut f = Found::default();
    let mut described: HashSet<String> = HashSet::new();
    // The keys Sysmon saw an ImagePath written to, and the display names their 7040s give them
    // (a 7040 names its service by display name and, since Windows 8, key).
    creations.each(&mut |e| match e.event_id() {
        4697 => {
            if let Some(image) = e.field_nonempty("ServiceFileName") {
                described.insert(image.to_lowercase());
            }
        }
        13 => {
            if let Some((key, value)) = e.field("TargetObject").and_then(service_key_in)
                && value.eq_ignore_ascii_case("ImagePath")
                && !key.trim().is_empty()
            {
                f.keys.insert(key.trim().to_lowercase());
            }
        }
        _ => {}
    });
    creations.each(&mut |e| {
        if e.event_id() == 7040
            && let Some(key) = e.field_nonempty("param4")
            && f.keys.contains(&key.trim().to_lowercase())
            && let Some(display) = e.field_nonempty("param1")
        {
            f.displays.insert(display.trim().to_lowercase());
        }
    });
    f.names.extend(f.keys.iter().chain(&f.displays).cloned());
    creations.each(&mut |e| {
        if !matches!(e.event_id(), 7045 | 4697) {
            return;
        }
        if let Some(name) = e.field_nonempty("ServiceName") {
            f.names.insert(name.to_lowercase());
        }
        for field in ["ImagePath", "ServiceFileName"] {
            if let Some(image) = e.field_nonempty(field) {
                add_binary_names(&mut f, image);
            }
        }
        if e.event_id() == 7045
            && let Some(image) = e.field_nonempty("ImagePath")
            && !described.contains(&image.to_lowercase())
        {
            f.keyless_images.insert(image.to_string());
        }
        if let Some(id) = e
            .field("SubjectLogonId")
            .and_then(normalise_logon_id)
            .and_then(|id| u64::from_str_radix(id.trim_start_matches("0x"), 16).ok())
            .filter(|id| !WELL_KNOWN_LOGONS.contains(id))
        {
            f.logons.insert(id);
        }
    });
    f
}

/// The binary's file name and stem: Sysmon 17/18 name pipes' processes by image, 5145 names
/// the file uploaded to ADMIN$.
fn add_binary_names(f: &mut Found, image: &str) {
    let file = super::names::file_name(image);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::test_event;

    #[test]
    fn start_type_churn_is_read_only_for_keys_whose_image_path_was_written() {
        let key = "HKLM\\System\\CurrentControlSet\\Services\\UmRdpService\\ImagePath";
        let picked = plan().select([
            test_event(
                7040,
                "System",
                &[
                    ("param1", "Remote Desktop Services UserMode Port Redirector"),
                    ("param4", "UmRdpService"),
                ],
            ),
            test_event(
                7040,
                "System",
                &[
                    ("param1", "Background Intelligent Transfer Service"),
                    ("param4", "BITS"),
                ],
            ),
            test_event(
                13,
                "Microsoft-Windows-Sysmon/Operational",
                &[("TargetObject", key), ("Details", "cmd.exe /c whoami")],
            ),
            test_event(
                13,
                "Microsoft-Windows-Sysmon/Operational",
                &[("TargetObject", key), ("Details", "svchost.exe -k x")],
            ),
            test_event(
                7036,
                "System",
                &[
                    ("param1", "Remote Desktop Services UserMode Port Redirector"),
                    ("param2", "running"),
                ],
            ),
            test_event(
                7036,
                "System",
                &[("param1", "UmRdpService"), ("param2", "stopped")],
            ),
            test_event(
                7036,
                "System",
                &[
                    ("param1", "Background Intelligent Transfer Service"),
                    ("param2", "running"),
                ],
            ),
        ]);
        let kept: Vec<(u32, Option<&str>)> = picked
            .events
            .iter()
            .map(|e| (e.event_id, e.field("param1")))
            .collect();
        assert_eq!(
            kept,
            [
                (
                    7040,
                    Some("Remote Desktop Services UserMode Port Redirector")
                ),
                (13, None),
                (13, None),
                (
                    7036,
                    Some("Remote Desktop Services UserMode Port Redirector")
                ),
                (7036, Some("UmRdpService")),
            ],
            "the BITS change and its state event name no written key"
        );
    }
}
