//! Triage collections: a Velociraptor offline collection (a zip, or its unpacked folder) and a
//! KAPE target tree. Their logs are ordinary EVTX files under
//! `…/C/Windows/System32/winevt/Logs/` (Velociraptor writes the drive as `C%3A`, or
//! `%5C%5C.%5CC%3A` through its raw NTFS accessor), read like any other; what this module adds
//! is what the collection knows besides:
//!
//! - the collector's own bookkeeping (Velociraptor's `client_info.json`,
//!   `collection_context.json`, `log.json`, `uploads.json`, `requests.json`, `*.index`/`*.idx`,
//!   and the `results/` rows its artifacts parsed from those same logs; KAPE's `*_CopyLog.csv`,
//!   `*_SkipLog.csv`, `*_ConsoleLog.txt`) is counted as such, not read as logs and not warned
//!   about;
//! - the host the collection was taken from (Velociraptor's `client_info.json` `Hostname`, or
//!   KAPE's machine-named output folder), which is given only to records that name none: the
//!   records' own `Computer` always wins.

use std::io::Read;
use std::path::Path;

/// Velociraptor's files at the root of a collection.
const VELOCIRAPTOR_ROOT_FILES: &[&str] = &[
    "client_info.json",
    "collection_context.json",
    "log.json",
    "uploads.json",
    "requests.json",
];

/// True when a zip's member names are those of a Velociraptor collection.
pub(super) fn is_velociraptor(member_names: &[String]) -> bool {
    member_names
        .iter()
        .any(|n| n == "collection_context.json" || n == "uploads.json")
        && member_names
            .iter()
            .any(|n| n.starts_with("uploads/") || n.starts_with("results/"))
}

/// True when a member of a Velociraptor collection is the collector's bookkeeping.
pub(super) fn velociraptor_bookkeeping(member: &str) -> bool {
    VELOCIRAPTOR_ROOT_FILES.contains(&member)
        || member.ends_with(".index")
        || member.ends_with(".idx")
        || member.starts_with("results/")
}

/// True when a file on disk is a collector's bookkeeping (KAPE's logs of its own copy, or the
/// root files of an unpacked Velociraptor collection).
pub(super) fn bookkeeping_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let lower = name.to_ascii_lowercase();
    if ["_copylog.csv", "_skiplog.csv", "_consolelog.txt"]
        .iter()
        .any(|s| lower.ends_with(s))
    {
        return true;
    }
    let parent = path.parent().unwrap_or(Path::new(""));
    let velociraptor_root = || {
        parent.join("collection_context.json").is_file() || parent.join("uploads.json").is_file()
    };
    (VELOCIRAPTOR_ROOT_FILES.contains(&name) || name.ends_with(".index")) && velociraptor_root()
}

/// The host named by a collection's own `client_info.json` (`Fqdn`, else `Hostname`).
pub(super) fn host_from_client_info(reader: &mut dyn Read) -> Option<String> {
    let mut text = Vec::new();
    reader.take(1 << 20).read_to_end(&mut text).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&text).ok()?;
    ["Fqdn", "Hostname"]
        .iter()
        .filter_map(|k| v.get(k).and_then(|h| h.as_str()))
        .map(str::trim)
        .find(|h| !h.is_empty())
        .map(str::to_string)
}

/// A drive folder as collectors name it: `C` (KAPE), `C%3A` (Velociraptor), `C:`, or the raw
/// device `\\.\C:` URL-encoded.
fn is_drive_folder(name: &str) -> bool {
    let decoded = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
    let d = decoded.trim_start_matches("\\\\.\\");
    let b = d.as_bytes();
    (b.len() == 1 || (b.len() == 2 && b[1] == b':')) && b[0].is_ascii_alphabetic()
}

/// Folder names that are a collector's structure, never a machine's name.
const NOT_HOSTS: &[&str] = &["auto", "ntfs", "uploads", "vss", "file", "mft", "lazy_ntfs"];

/// The host a file's place in a collection tree names, if any: for an unpacked Velociraptor
/// collection, its `client_info.json`; for a KAPE tree, the folder holding the drive folder
/// when KAPE named it after the machine (`--tdest …\%m`), without a leading `%d` timestamp.
pub(super) fn host_from_path(path: &Path) -> Option<String> {
    let parts: Vec<&str> = path.iter().filter_map(|p| p.to_str()).collect();
    let lower: Vec<String> = parts.iter().map(|p| p.to_ascii_lowercase()).collect();
    let logs_at = lower.windows(5).position(|w| {
        w[1..] == ["windows", "system32", "winevt", "logs"] && is_drive_folder(&w[0])
    })?;
    // Velociraptor unpacked: <root>/uploads/<accessor>/C%3A/…
    if logs_at >= 2 && lower[logs_at - 2] == "uploads" {
        let root: std::path::PathBuf = parts[..logs_at - 2].iter().collect();
        let mut f = std::fs::File::open(root.join("client_info.json")).ok()?;
        return host_from_client_info(&mut f);
    }
    let folder = *parts.get(logs_at.checked_sub(1)?)?;
    if NOT_HOSTS.contains(&folder.to_ascii_lowercase().as_str()) {
        return None;
    }
    Some(strip_kape_timestamp(folder).to_string()).filter(|h| !h.is_empty())
}

/// `2024-05-06T101010_WKS-0001` → `WKS-0001` (KAPE's `%d` is `yyyy-MM-ddTHHmmss`).
fn strip_kape_timestamp(folder: &str) -> &str {
    let b = folder.as_bytes();
    let stamped = b.len() > 18
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[11..17].iter().all(u8::is_ascii_digit)
        && b[17] == b'_';
    if stamped { &folder[18..] } else { folder }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_from_collection_trees() {
        let kape = Path::new(
            "/cases/2024-05-06T101010_WKS-0001/C/Windows/System32/winevt/Logs/System.evtx",
        );
        assert_eq!(host_from_path(kape).as_deref(), Some("WKS-0001"));
        let plain = Path::new("/cases/SRV-001/C/Windows/System32/winevt/logs/Security.evtx");
        assert_eq!(host_from_path(plain).as_deref(), Some("SRV-001"));
        let encoded = Path::new("x/HOST9/C%3A/Windows/System32/winevt/Logs/System.evtx");
        assert_eq!(host_from_path(encoded).as_deref(), Some("HOST9"));
        assert_eq!(host_from_path(Path::new("/logs/System.evtx")), None);
        let no_client_info =
            Path::new("/nowhere/uploads/auto/C%3A/Windows/System32/winevt/Logs/System.evtx");
        assert_eq!(host_from_path(no_client_info), None);
        assert!(is_drive_folder("%5C%5C.%5CC%3A"));
        assert!(!is_drive_folder("CD"));
    }

    #[test]
    fn velociraptor_layout() {
        let names: Vec<String> = [
            "client_info.json",
            "collection_context.json",
            "uploads/auto/C%3A/x.evtx",
        ]
        .map(String::from)
        .to_vec();
        assert!(is_velociraptor(&names));
        assert!(velociraptor_bookkeeping("uploads.json.index"));
        assert!(velociraptor_bookkeeping(
            "results/Windows.EventLogs.Evtx.json"
        ));
        assert!(!velociraptor_bookkeeping("uploads/auto/C%3A/x.evtx"));
        let info = br#"{"Hostname":"FS02","Fqdn":"FS02.corp.example"}"#;
        assert_eq!(
            host_from_client_info(&mut &info[..]).as_deref(),
            Some("FS02.corp.example")
        );
    }
}
