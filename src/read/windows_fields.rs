//! The documented order and type of the event-data fields of every event svchunt reads, by
//! provider and event id: the one table the readers of positional exports use.
//!
//! PowerShell's `Get-WinEvent` gives an event's data as `Properties`, a list of values without
//! names; Windows' XML and the EVTX binary give each `<Data Name=…>`. The names and their
//! order are the provider's manifest (Microsoft Learn's "Audit …" pages for the Security
//! events, Sysmon's schema for Sysmon, the Service Control Manager's message table for
//! 7000/7009/7036/7045); later versions of an event only append fields, so one list serves
//! every version. The type says how Windows renders a number: logon ids and pointers as hex
//! (`0x3e7`), counts and enumerations in decimal; PowerShell hands them over as plain numbers.
//!
//! Event ids not listed here keep their values as `param1`, `param2`, … (as Windows numbers
//! unnamed data for its messages).

/// How a field's value is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Text (or anything rendered as it comes).
    Text,
    /// A number Windows renders in hex with `0x` (HexInt32, HexInt64, Pointer).
    Hex,
    /// A number rendered in decimal.
    Decimal,
    /// A SID (PowerShell may give it as an object with a `Value`).
    Sid,
}

use FieldType::{Decimal as D, Hex as H, Sid as S, Text as T};

/// Fields of one event, in order.
pub type Fields = &'static [(&'static str, FieldType)];

const SCM: &str = "Service Control Manager";
const SECURITY: &str = "Microsoft-Windows-Security-Auditing";
const SYSMON: &str = "Microsoft-Windows-Sysmon";

const SUBJECT: [(&str, FieldType); 4] = [
    ("SubjectUserSid", S),
    ("SubjectUserName", T),
    ("SubjectDomainName", T),
    ("SubjectLogonId", H),
];

/// Every (provider, event id) svchunt reads, with its fields in manifest order.
pub const TABLE: &[(&str, u32, Fields)] = &[
    (
        SCM,
        7045,
        &[
            ("ServiceName", T),
            ("ImagePath", T),
            ("ServiceType", T),
            ("StartType", T),
            ("AccountName", T),
        ],
    ),
    (SCM, 7036, &[("param1", T), ("param2", T), ("param3", T)]),
    (SCM, 7009, &[("param1", T), ("param2", T)]),
    (
        SCM,
        7040,
        &[("param1", T), ("param2", T), ("param3", T), ("param4", T)],
    ),
    (SCM, 7000, &[("param1", T), ("param2", T)]),
    (
        SECURITY,
        4697,
        &[
            SUBJECT[0],
            SUBJECT[1],
            SUBJECT[2],
            SUBJECT[3],
            ("ServiceName", T),
            ("ServiceFileName", T),
            ("ServiceType", H),
            ("ServiceStartType", D),
            ("ServiceAccount", T),
            ("ClientProcessStartKey", D),
            ("ClientProcessId", D),
            ("ParentProcessId", D),
        ],
    ),
    (
        SECURITY,
        4674,
        &[
            SUBJECT[0],
            SUBJECT[1],
            SUBJECT[2],
            SUBJECT[3],
            ("ObjectServer", T),
            ("ObjectType", T),
            ("ObjectName", T),
            ("HandleId", H),
            ("AccessMask", T),
            ("PrivilegeList", T),
            ("ProcessId", H),
            ("ProcessName", T),
        ],
    ),
    (
        SECURITY,
        4624,
        &[
            SUBJECT[0],
            SUBJECT[1],
            SUBJECT[2],
            SUBJECT[3],
            ("TargetUserSid", S),
            ("TargetUserName", T),
            ("TargetDomainName", T),
            ("TargetLogonId", H),
            ("LogonType", D),
            ("LogonProcessName", T),
            ("AuthenticationPackageName", T),
            ("WorkstationName", T),
            ("LogonGuid", T),
            ("TransmittedServices", T),
            ("LmPackageName", T),
            ("KeyLength", D),
            ("ProcessId", H),
            ("ProcessName", T),
            ("IpAddress", T),
            ("IpPort", T),
            ("ImpersonationLevel", T),
            ("RestrictedAdminMode", T),
            ("TargetOutboundUserName", T),
            ("TargetOutboundDomainName", T),
            ("VirtualAccount", T),
            ("TargetLinkedLogonId", H),
            ("ElevatedToken", T),
        ],
    ),
    (
        SECURITY,
        4634,
        &[
            ("TargetUserSid", S),
            ("TargetUserName", T),
            ("TargetDomainName", T),
            ("TargetLogonId", H),
            ("LogonType", D),
        ],
    ),
    (
        SECURITY,
        4648,
        &[
            SUBJECT[0],
            SUBJECT[1],
            SUBJECT[2],
            SUBJECT[3],
            ("LogonGuid", T),
            ("TargetUserName", T),
            ("TargetDomainName", T),
            ("TargetLogonGuid", T),
            ("TargetServerName", T),
            ("TargetInfo", T),
            ("ProcessId", H),
            ("ProcessName", T),
            ("IpAddress", T),
            ("IpPort", T),
        ],
    ),
    (
        SECURITY,
        4672,
        &[
            SUBJECT[0],
            SUBJECT[1],
            SUBJECT[2],
            SUBJECT[3],
            ("PrivilegeList", T),
        ],
    ),
    (
        SECURITY,
        4688,
        &[
            SUBJECT[0],
            SUBJECT[1],
            SUBJECT[2],
            SUBJECT[3],
            ("NewProcessId", H),
            ("NewProcessName", T),
            ("TokenElevationType", T),
            ("ProcessId", H),
            ("CommandLine", T),
            ("TargetUserSid", S),
            ("TargetUserName", T),
            ("TargetDomainName", T),
            ("TargetLogonId", H),
            ("ParentProcessName", T),
            ("MandatoryLabel", S),
        ],
    ),
    (
        SECURITY,
        5140,
        &[
            SUBJECT[0],
            SUBJECT[1],
            SUBJECT[2],
            SUBJECT[3],
            ("ObjectType", T),
            ("IpAddress", T),
            ("IpPort", T),
            ("ShareName", T),
            ("ShareLocalPath", T),
            ("AccessMask", H),
            ("AccessList", T),
        ],
    ),
    (
        SECURITY,
        5145,
        &[
            SUBJECT[0],
            SUBJECT[1],
            SUBJECT[2],
            SUBJECT[3],
            ("ObjectType", T),
            ("IpAddress", T),
            ("IpPort", T),
            ("ShareName", T),
            ("ShareLocalPath", T),
            ("RelativeTargetName", T),
            ("AccessMask", H),
            ("AccessList", T),
            ("AccessReason", T),
        ],
    ),
    // Sysmon's process creation as its schema 4.x writes it (Sysmon 10 and later, event
    // version 5): older versions lack the file-version fields in the middle, so their values
    // would be misnamed; read such logs from EVTX or XML, which name every field.
    (
        SYSMON,
        1,
        &[
            ("RuleName", T),
            ("UtcTime", T),
            ("ProcessGuid", T),
            ("ProcessId", D),
            ("Image", T),
            ("FileVersion", T),
            ("Description", T),
            ("Product", T),
            ("Company", T),
            ("OriginalFileName", T),
            ("CommandLine", T),
            ("CurrentDirectory", T),
            ("User", T),
            ("LogonGuid", T),
            ("LogonId", H),
            ("TerminalSessionId", D),
            ("IntegrityLevel", T),
            ("Hashes", T),
            ("ParentProcessGuid", T),
            ("ParentProcessId", D),
            ("ParentImage", T),
            ("ParentCommandLine", T),
            ("ParentUser", T),
        ],
    ),
    (
        SYSMON,
        12,
        &[
            ("RuleName", T),
            ("EventType", T),
            ("UtcTime", T),
            ("ProcessGuid", T),
            ("ProcessId", D),
            ("Image", T),
            ("TargetObject", T),
            ("User", T),
        ],
    ),
    (
        SYSMON,
        13,
        &[
            ("RuleName", T),
            ("EventType", T),
            ("UtcTime", T),
            ("ProcessGuid", T),
            ("ProcessId", D),
            ("Image", T),
            ("TargetObject", T),
            ("Details", T),
            ("User", T),
        ],
    ),
    (
        SYSMON,
        17,
        &[
            ("RuleName", T),
            ("EventType", T),
            ("UtcTime", T),
            ("ProcessGuid", T),
            ("ProcessId", D),
            ("PipeName", T),
            ("Image", T),
            ("User", T),
        ],
    ),
    (
        SYSMON,
        18,
        &[
            ("RuleName", T),
            ("EventType", T),
            ("UtcTime", T),
            ("ProcessGuid", T),
            ("ProcessId", D),
            ("PipeName", T),
            ("Image", T),
            ("User", T),
        ],
    ),
];

/// The fields of an event, when the table knows it. The provider decides where ids collide
/// (Sysmon's 12 and 13 are not the kernel's); an export that names no provider is matched
/// on the id alone when only one provider uses it here.
pub fn fields(provider: &str, event_id: u32) -> Option<Fields> {
    let mut by_id = TABLE.iter().filter(|(_, id, _)| *id == event_id);
    if provider.is_empty() {
        let (_, _, f) = by_id.next()?;
        return by_id.next().is_none().then_some(*f);
    }
    by_id
        .find(|(p, _, _)| p.eq_ignore_ascii_case(provider))
        .map(|(_, _, f)| *f)
}

/// Name positional values: by the table where it knows the event, else `param1`, `param2`, ….
/// `render` turns each value into its text given the field's type. Values past the table's
/// end (a newer version of the event) keep their position as `paramN`.
pub fn name_values<V>(
    provider: &str,
    event_id: u32,
    values: impl IntoIterator<Item = V>,
    mut render: impl FnMut(V, FieldType) -> String,
) -> Vec<(String, String)> {
    let table = fields(provider, event_id).unwrap_or(&[]);
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| match table.get(i) {
            Some((name, ty)) => (name.to_string(), render(v, *ty)),
            None => (format!("param{}", i + 1), render(v, FieldType::Text)),
        })
        .collect()
}

/// A number as Windows renders it for the field's type.
pub fn render_number(n: u64, ty: FieldType) -> String {
    match ty {
        FieldType::Hex => format!("{n:#x}"),
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_svchunt_reads_is_in_the_table() {
        // Every id either semantics' read plan keeps, in either pass.
        let filters = [
            crate::lifecycle::plan().full_filter(&[]),
            crate::kql::plan().full_filter(&[]),
        ];
        let read: Vec<u32> = (0..=u32::from(u16::MAX))
            .filter(|id| filters.iter().any(|f| f.wants(*id)))
            .collect();
        assert!(read.contains(&7045) && read.contains(&4688), "{read:?}");
        for id in read {
            assert!(
                TABLE.iter().any(|(_, i, _)| *i == id),
                "event {id} has no field order"
            );
        }
    }

    #[test]
    fn positional_values_get_their_names() {
        let named = name_values(
            SECURITY,
            4697,
            [
                "S-1-5-18",
                "WKS$",
                "CORP",
                "999",
                "PSEXESVC",
                "x.exe",
                "16",
                "3",
                "LocalSystem",
            ],
            |v, ty| match v.parse::<u64>() {
                Ok(n) => render_number(n, ty),
                Err(_) => v.to_string(),
            },
        );
        assert_eq!(named[3], ("SubjectLogonId".into(), "0x3e7".into()));
        assert_eq!(named[6], ("ServiceType".into(), "0x10".into()));
        assert_eq!(named[7], ("ServiceStartType".into(), "3".into()));
        let unknown = name_values("X", 1, ["a"], |v, _| v.to_string());
        assert_eq!(unknown, [("param1".to_string(), "a".to_string())]);
        assert!(fields("", 12).is_some(), "Sysmon's 12 is the only 12 here");
        assert!(fields("Microsoft-Windows-Kernel-General", 12).is_none());
    }
}
