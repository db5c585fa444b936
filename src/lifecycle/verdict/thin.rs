//! Thin evidence: installs that match no tool and show no execution, yet no ordinary installer
//! makes them. Each is reason enough for `suspicious`:
//!
//! - an image that is a bare file name (`netsvc32.exe`): installers write full paths;
//! - a service binary off the root of a drive (`C:\agent.exe`) or in a tools folder;
//! - a known offensive service or driver (mimikatz's `mimidrv`, Windows Credential Editor's
//!   `WCESERVICE`, the password dumpers' services), or a driver the LOLDrivers project lists as
//!   malicious or vulnerable (`loldrivers.tsv`, with its source and date) — unless the system
//!   itself installed it from the driver folders or a vendor's folder, as Defender does with
//!   `MpKslDrv.sys` on every definition update.
//!
//! It also knows where vendors put their binaries, which decides whether a start time-out is
//! an execution signal (a command or a dropped binary) or a slow vendor service.

use std::collections::HashMap;
use std::sync::LazyLock;

/// Service and driver names of offensive tools, each with the tool (MITRE ATT&CK software ids
/// where there is one).
const OFFENSIVE_NAMES: &[(&str, &str)] = &[
    ("mimidrv", "mimikatz's driver (S0002)"),
    ("mimikatz", "mimikatz (S0002)"),
    ("wceservice", "Windows Credential Editor (S0005)"),
    ("wce service", "Windows Credential Editor (S0005)"),
    ("pwdump", "PwDump (S0006)"),
    ("gsecdump", "gsecdump (S0008)"),
    ("cachedump", "CacheDump (S0119)"),
    ("dumpsvc", "a password dumper's service"),
];

/// Folders whose names say "tools": where an operator unpacks a kit, not where software
/// installs itself.
const TOOL_FOLDERS: &[&str] = &[
    "\\tools\\",
    "\\tool\\",
    "\\hacktools\\",
    "\\pentest\\",
    "\\security_tool\\",
    "\\sysinternals\\",
    "\\sysinternalssuite\\",
];

/// The LOLDrivers list: lower-case file name → `malicious` or `vulnerable`.
static LOLDRIVERS: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| {
    include_str!("loldrivers.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once('\t'))
        .collect()
});

/// The program part of an image path, lower-cased, with environment variables and NT prefixes
/// resolved to `c:\windows` so folders compare alike.
pub fn program_path(image: &str) -> String {
    let image = image.trim();
    let program = match image.strip_prefix('"') {
        Some(rest) => rest.split('"').next().unwrap_or(rest),
        None => {
            // An unquoted path with spaces runs up to its extension.
            let lower = image.to_ascii_lowercase();
            match [".exe", ".sys", ".dll", ".com", ".bat", ".cmd"]
                .iter()
                .filter_map(|e| lower.find(e).map(|i| i + e.len()))
                .min()
            {
                Some(end) if lower[..end].contains('\\') => &image[..end],
                _ => image.split(' ').next().unwrap_or(image),
            }
        }
    };
    let mut p = program.to_ascii_lowercase().replace('/', "\\");
    for (from, to) in [
        ("\\??\\", ""),
        ("\\systemroot\\", "c:\\windows\\"),
        ("%systemroot%\\", "c:\\windows\\"),
        ("%windir%\\", "c:\\windows\\"),
        ("%programfiles%\\", "c:\\program files\\"),
        ("%programfiles(x86)%\\", "c:\\program files (x86)\\"),
        ("%programdata%\\", "c:\\programdata\\"),
    ] {
        if let Some(rest) = p.strip_prefix(from) {
            p = format!("{to}{rest}");
        }
    }
    // Drivers are often written relative to the Windows folder: `system32\drivers\x.sys`.
    if p.starts_with("system32\\") || p.starts_with("syswow64\\") {
        p = format!("c:\\windows\\{p}");
    }
    p
}

/// Whether the program lives where Windows or a vendor's installer puts binaries: the Windows
/// system folders and driver store, Program Files, Defender's platform and definition folders.
pub fn under_vendor_path(image: &str) -> bool {
    let p = program_path(image);
    let rest = p.get(1..).unwrap_or("");
    rest.starts_with(":\\program files\\")
        || rest.starts_with(":\\program files (x86)\\")
        || rest.starts_with(":\\windows\\system32\\")
        || rest.starts_with(":\\windows\\syswow64\\")
        || rest.starts_with(":\\windows\\microsoft.net\\")
        || rest.starts_with(":\\programdata\\microsoft\\windows defender\\")
}

/// Whether the program is in the system's own driver folders (where the system installs
/// drivers from the driver store).
fn in_system_driver_folder(image: &str) -> bool {
    let p = program_path(image);
    let rest = p.get(1..).unwrap_or("");
    rest.starts_with(":\\windows\\system32\\drivers\\")
        || rest.starts_with(":\\windows\\syswow64\\drivers\\")
        || rest.starts_with(":\\windows\\system32\\driverstore\\")
}

/// Why an install's evidence is thin, each a sentence; empty when it is not.
pub fn reasons(
    name: &str,
    display: Option<&str>,
    image: &str,
    driver: bool,
    installed_by_system: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    let path = program_path(image);
    let file = path.rsplit('\\').next().unwrap_or(&path).to_string();
    let stem = file.rsplit_once('.').map_or(file.as_str(), |(s, _)| s);

    if !image.trim().is_empty() && !path.contains('\\') && !super::shell::is_command_line(image) {
        out.push(format!(
            "image is a bare file name ({file}) with no folder: no installer writes one"
        ));
    }
    let bytes = path.as_bytes();
    let drive_root = bytes.len() > 3
        && bytes[0].is_ascii_alphabetic()
        && path.get(1..3) == Some(":\\")
        && !path[3..].contains('\\');
    if drive_root {
        out.push(format!(
            "{} off the root of a drive ({path})",
            if driver { "driver" } else { "service binary" }
        ));
    }
    if let Some(folder) = TOOL_FOLDERS.iter().find(|f| path.contains(*f)) {
        out.push(format!(
            "{} in a tools folder ({})",
            if driver { "driver" } else { "service binary" },
            folder.trim_matches('\\')
        ));
    }
    let names = [
        name.to_ascii_lowercase(),
        display.unwrap_or("").to_ascii_lowercase(),
        stem.to_string(),
    ];
    if let Some((_, tool)) = OFFENSIVE_NAMES.iter().find(|(n, _)| {
        names
            .iter()
            .any(|x| x == n || x.starts_with(&format!("{n} ")) || (n.len() > 5 && x.starts_with(n)))
    }) {
        out.push(format!(
            "the name of an offensive tool's service or driver: {tool}"
        ));
    }
    if driver || file.ends_with(".sys") {
        let listed = LOLDRIVERS
            .get(file.as_str())
            .or_else(|| LOLDRIVERS.get(format!("{}.sys", name.to_ascii_lowercase()).as_str()));
        if let Some(category) = listed {
            // The log has no hash: a vendor's driver of the same name, installed by the
            // system from the driver folders or the vendor's own folder, is the ordinary case.
            let ordinary =
                installed_by_system && (in_system_driver_folder(image) || under_vendor_path(image));
            if !ordinary {
                out.push(format!(
                    "LOLDrivers lists {file} as a {category} driver (by name: the log has no hash)"
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_paths_resolve_alike() {
        assert_eq!(
            program_path(r"\SystemRoot\System32\drivers\tunnel.sys"),
            r"c:\windows\system32\drivers\tunnel.sys"
        );
        assert_eq!(
            program_path(r"system32\DRIVERS\VBoxGuest.sys"),
            r"c:\windows\system32\drivers\vboxguest.sys"
        );
        assert_eq!(
            program_path(r#""C:\Program Files\A B\x.exe" /svc"#),
            r"c:\program files\a b\x.exe"
        );
        assert_eq!(
            program_path(r"C:\Program Files\A B\x.exe /svc"),
            r"c:\program files\a b\x.exe"
        );
        assert_eq!(program_path(r"\??\C:\Windows\x.sys"), r"c:\windows\x.sys");
    }

    #[test]
    fn vendor_paths() {
        assert!(under_vendor_path(
            r#""C:\Program Files (x86)\Google\Update\GoogleUpdate.exe" /svc"#
        ));
        assert!(under_vendor_path(
            r"%SystemRoot%\system32\svchost.exe -k netsvcs"
        ));
        assert!(under_vendor_path(
            r"C:\ProgramData\Microsoft\Windows Defender\Definition Updates\{X}\MpKslDrv.sys"
        ));
        assert!(!under_vendor_path(r"%SystemRoot%\PSEXESVC.exe"));
        assert!(!under_vendor_path(r"C:\Windows\Temp\x.exe"));
        assert!(!under_vendor_path(r"C:\ProgramData\svc\agent.exe"));
    }

    #[test]
    fn thin_shapes() {
        let r = |name: &str, image: &str, driver: bool, sys: bool| {
            reasons(name, None, image, driver, sys)
        };
        assert_eq!(r("x", "netsvc32.exe", false, true).len(), 1);
        assert_eq!(r("x", r"C:\agent.exe", false, true).len(), 1);
        assert_eq!(r("x", r"C:\Tools\c\c.exe", false, true).len(), 1);
        assert_eq!(
            r(
                "mimidrv",
                r"C:\TOOLS\Security_tool\Mimikatz-fev-2020\mimidrv.sys",
                true,
                false
            )
            .len(),
            3
        );
        assert!(!r("WCESERVICE", r"D:\Service\test.exe", false, false).is_empty());
        assert!(
            !r(
                "RTCore64",
                r"C:\Users\x\AppData\Local\Temp\RTCore64.sys",
                true,
                false
            )
            .is_empty()
        );
        assert!(
            !r(
                "POORTRY",
                r"C:\Windows\System32\drivers\POORTRY.sys",
                true,
                false
            )
            .is_empty()
        );
        // Ordinary: Defender's scanner, the system's VirtualBox driver, a vendor's service.
        assert!(r("MpKsl1bb57ead", r"C:\ProgramData\Microsoft\Windows Defender\Definition Updates\{972CA50B}\MpKslDrv.sys", true, true).is_empty());
        assert!(r("VBoxGuest", r"system32\DRIVERS\VBoxGuest.sys", true, true).is_empty());
        assert!(
            r(
                "gupdate",
                r#""C:\Program Files (x86)\Google\Update\GoogleUpdate.exe" /svc"#,
                false,
                true
            )
            .is_empty()
        );
        assert!(r("x", r"%COMSPEC% /c echo x", false, false).is_empty());
        assert!(r("Svc", r"C:\CmdExecService\cmdexsvc.exe", false, true).is_empty());
        // Hostile text never panics: a multi-byte character where a drive letter's colon goes.
        assert!(r("x", "a€b\\c.exe", false, true).is_empty());
    }

    #[test]
    fn the_list_is_loaded() {
        assert_eq!(LOLDRIVERS.get("mimidrv.sys"), Some(&"malicious"));
        assert_eq!(LOLDRIVERS.get("rtcore64.sys"), Some(&"vulnerable"));
        assert!(LOLDRIVERS.len() > 500);
    }
}
