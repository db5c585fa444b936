//! Reading service names and states out of the events that mention a service.
//!
//! Each event type names the service differently: 4674 by key name in `ObjectName`, 7036 and
//! 7009 by display name in `param1`/`param2`, Sysmon by registry path. This module is the one
//! place that knows those spellings.

use crate::event::Event;

/// Provider name of Sysmon (its events are the only 12/13 we read as registry events).
pub const SYSMON_PROVIDER: &str = "Microsoft-Windows-Sysmon";

/// Provider (and `Source`) of the System log's service events (7045, 7036, 7009, 7000).
pub const SCM_PROVIDER: &str = "Service Control Manager";

/// 4674 `ObjectServer` of the service control manager.
pub const SCM_OBJECT_SERVER: &str = "SC Manager";

/// 4674 `ObjectType` of one service (as opposed to `SC_MANAGER OBJECT`, the database).
pub const SERVICE_OBJECT_TYPE: &str = "SERVICE OBJECT";

/// The message-table code of the DELETE right in an access list (msobjs.dll).
pub const DELETE_ACCESS_CODE: &str = "%%1537";

/// The DELETE bit of an access mask written in hex.
pub const DELETE_ACCESS_BIT: u64 = 0x10000;

/// True for Sysmon's own events (by provider, or by channel when a SIEM dropped the provider).
pub fn is_sysmon(e: &Event) -> bool {
    e.provider.eq_ignore_ascii_case(SYSMON_PROVIDER)
        || e.channel
            .eq_ignore_ascii_case(crate::event::channel::SYSMON)
}

/// True for the Service Control Manager's System-log events.
pub fn is_scm(e: &Event) -> bool {
    e.provider.eq_ignore_ascii_case(SCM_PROVIDER)
}

/// The service key name in a registry path under `…\Services\`, and what follows it.
///
/// `HKLM\System\CurrentControlSet\Services\PSEXESVC\DeleteFlag` → `("PSEXESVC", "DeleteFlag")`.
pub fn service_key_in(path: &str) -> Option<(&str, &str)> {
    let lower = path.to_ascii_lowercase();
    let at = lower.find("\\services\\")?;
    // Only the machine's service database (…\CurrentControlSet\ or …\ControlSet00N\).
    let before = &lower[..at];
    if !(before.ends_with("\\currentcontrolset") || before.contains("\\controlset0")) {
        return None;
    }
    let rest = &path[at + "\\services\\".len()..];
    Some(match rest.find('\\') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    })
}

/// True when a 4674 is about a service object in the SC Manager.
pub fn is_scm_service_object(e: &Event) -> bool {
    e.event_id == 4674
        && e.field("ObjectServer")
            .is_some_and(|s| s.trim().eq_ignore_ascii_case(SCM_OBJECT_SERVER))
        && e.field("ObjectType")
            .is_some_and(|s| s.trim().eq_ignore_ascii_case(SERVICE_OBJECT_TYPE))
}

/// True when an access list (`%%1537 %%1538 …`, or a hex mask) includes DELETE.
pub fn access_includes_delete(mask: &str) -> bool {
    let mask = mask.trim();
    if let Some(hex) = mask.strip_prefix("0x").or_else(|| mask.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).is_ok_and(|m| m & DELETE_ACCESS_BIT != 0);
    }
    mask.split(|c: char| c.is_whitespace() || c == ',')
        .any(|t| t == DELETE_ACCESS_CODE || t.eq_ignore_ascii_case("DELETE"))
}

/// The file name of a command line's program (quotes and arguments dropped):
/// `"C:\Program Files\X\x.exe" /svc` → `x.exe`.
pub fn file_name(image: &str) -> &str {
    let image = image.trim();
    let program = match image.strip_prefix('"') {
        Some(rest) => rest.split('"').next().unwrap_or(rest),
        None => image.split(' ').next().unwrap_or(image),
    };
    program.rsplit(['\\', '/']).next().unwrap_or(program)
}

/// [`file_name`] without its extension: `%SystemRoot%\PSEXESVC.exe` → `PSEXESVC`.
pub fn file_stem(image: &str) -> &str {
    let file = file_name(image);
    file.rsplit_once('.').map_or(file, |(stem, _)| stem)
}

/// Names compare case-insensitively, as the SCM compares them.
pub fn same_name(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_keys_from_registry_paths() {
        assert_eq!(
            service_key_in("HKLM\\System\\CurrentControlSet\\Services\\PSEXESVC\\DeleteFlag"),
            Some(("PSEXESVC", "DeleteFlag"))
        );
        assert_eq!(
            service_key_in("HKLM\\SYSTEM\\ControlSet001\\Services\\Updater"),
            Some(("Updater", ""))
        );
        assert_eq!(
            service_key_in("HKU\\S-1-5-21\\Software\\Services\\X\\Y"),
            None,
            "only the machine's service database"
        );
    }

    #[test]
    fn delete_in_access_lists() {
        assert!(access_includes_delete("%%1537\r\n\t\t\t\t%%1538\r\n"));
        assert!(!access_includes_delete("%%15370 %%1538"));
        assert!(access_includes_delete("0x10000"));
        assert!(access_includes_delete("0xF01FF"));
        assert!(!access_includes_delete("0x20000"));
    }
}
