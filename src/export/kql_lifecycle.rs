//! `--to kql`: the lifecycle semantics in KQL, for Microsoft Sentinel and Azure Data Explorer.
//!
//! The query mirrors [`crate::lifecycle::correlate`] step by step, over either the legacy agent's
//! tables (`Event` + `SecurityEvent`) or the AMA's `WindowsEvent`; only the first block, which
//! turns each table's shape into the same few columns, differs between the two:
//!
//! 1. creations: 7045 ⊕ 4697 on the same host (first label of the name, case-insensitively),
//!    merged when within the merge window and sharing the name or the image path;
//! 2. mentions of a service by name: 4674 DELETE-capable opens of a SERVICE OBJECT, 7036 state
//!    changes, Sysmon 13 `DeleteFlag` and Sysmon 12 `DeleteKey` under `…\Services\<key>`;
//! 3. each mention goes to the latest creation of that name on that host logged no later than
//!    the tolerance after it and no earlier than the window before it (one row per creation,
//!    never one per name across hosts);
//! 4. the removal is dated like [`crate::lifecycle`] does: key deleted, else DeleteFlag, else a
//!    later DELETE-capable open with nothing after it, else the first stop;
//! 5. the installing logon (4697's `SubjectLogonId`, else that of services.exe's 4674 at
//!    creation) joins its 4624 for the source address.
//!
//! What KQL does not get (the verdict, the attribution) is said in the header.

use super::{AUDITING, ExportOptions, Schema, comment_block, duration_literal};
use crate::lifecycle::{
    DELETE_ACCESS_CODE, SCM_OBJECT_SERVER, SCM_PROVIDER, SERVICE_OBJECT_TYPE, SYSMON_PROVIDER,
};

/// Render the lifecycle query for `options.schema`.
pub fn render(options: &ExportOptions) -> String {
    let tables = match options.schema {
        Schema::Legacy => "the legacy Log Analytics agent's Event and SecurityEvent tables",
        Schema::Ama => "the Azure Monitor Agent's WindowsEvent table",
    };
    let header = format!(
        "\
svchunt export --to kql: remote service execution (PsExec and kin) in Microsoft Sentinel /
Azure Data Explorer, over {tables}.

Finds: one row per service creation (7045 and/or 4697, merged), with when and by whom it was
installed, the installing logon's source address (4624), and when it was removed, dated from
the best evidence: Sysmon 12 key deleted, else Sysmon 13 DeleteFlag, else a DELETE-capable 4674
opened later than the creation with nothing after it, else the first 7036 stop. Evidence counts
within {window} after the creation and {tolerance} before it (clocks of the logs differ).

{AUDITING}

Cannot express, compared with svchunt hunt:
- the verdict (remote/local execution, privilege escalation, benign): every creation is listed,
  drivers and updaters too; filter on ImagePath, LifetimeMs and SourceIp, or run svchunt hunt;
- attribution of the tool, and the share/pipe evidence (5140/5145) around the creation;
- a 7045 and a 4697 are merged only when adjacent in time on the host (KQL has no
  closest-in-time pairing); a Sysmon-learnt key name for 7045-only hosts is not used;
- logon ids are compared as text (lower case), not as numbers.",
        window = duration_literal(options.window),
        tolerance = duration_literal(options.tolerance),
    );
    let sources = match options.schema {
        Schema::Legacy => LEGACY_SOURCES,
        Schema::Ama => AMA_SOURCES,
    };
    let mut out = comment_block("// ", &header);
    out.push_str(&fill(PARAMETERS, options));
    out.push_str(&fill(sources, options));
    out.push_str(&fill(BODY, options));
    out
}

/// Replace the `$NAME` placeholders of a template (plain replacement: KQL's braces stay as they
/// are, which `format!` would make unreadable).
fn fill(template: &str, options: &ExportOptions) -> String {
    template
        .replace("$WINDOW", &duration_literal(options.window))
        .replace("$TOLERANCE", &duration_literal(options.tolerance))
        .replace("$MERGE_WINDOW", &duration_literal(options.merge_window))
        .replace("$SCM_PROVIDER", SCM_PROVIDER)
        .replace("$SYSMON_PROVIDER", SYSMON_PROVIDER)
        .replace("$SCM_OBJECT_SERVER", SCM_OBJECT_SERVER)
        .replace("$SERVICE_OBJECT_TYPE", SERVICE_OBJECT_TYPE)
        .replace("$DELETE", DELETE_ACCESS_CODE)
}

const PARAMETERS: &str = r#"let window = $WINDOW;
let tolerance = $TOLERANCE;
let merge_window = $MERGE_WINDOW;
// A host is its name's first label, case-insensitively: System, Security and Sysmon events of one
// machine do not always spell it alike.
let host_key = (computer: string) { tolower(tostring(split(computer, ".")[0])) };
// The service key (and what follows it) of a registry path in the machine's service database.
let service_key = (path: string) { extract(@"(?i)\\(?:CurrentControlSet|ControlSet0\d+)\\Services\\([^\\]+)", 1, path) };
let service_rest = (path: string) { extract(@"(?i)\\(?:CurrentControlSet|ControlSet0\d+)\\Services\\[^\\]+\\?(.*)$", 1, path) };
"#;

const LEGACY_SOURCES: &str = r#"// Event.EventData is the event's XML as text: read one <Data> element and undo the XML escapes.
let data_field = (xml: string, name: string) {
    replace_string(replace_string(replace_string(replace_string(replace_string(
        extract(strcat(@"<Data Name=""", name, @""">([^<]*)</Data>"), 1, xml),
        "&lt;", "<"), "&gt;", ">"), "&quot;", @""""), "&apos;", "'"), "&amp;", "&")
};
let Installs = union
    (Event
    | where EventID == 7045 and Source =~ "$SCM_PROVIDER"
    | project TimeGenerated, Computer, EventID,
        Name = data_field(EventData, "ServiceName"), ImagePath = data_field(EventData, "ImagePath"),
        ServiceType = data_field(EventData, "ServiceType"), StartType = data_field(EventData, "StartType"),
        ServiceAccount = data_field(EventData, "AccountName"), InstalledBy = UserName, LogonId = ""),
    (SecurityEvent
    | where EventID == 4697
    | project TimeGenerated, Computer, EventID, Name = ServiceName, ImagePath = ServiceFileName,
        ServiceType, StartType = tostring(ServiceStartType), ServiceAccount,
        InstalledBy = Account, LogonId = SubjectLogonId);
let Mentions = union
    (SecurityEvent
    | where EventID == 4674 and trim(@"\s+", ObjectServer) =~ "$SCM_OBJECT_SERVER" and trim(@"\s+", ObjectType) =~ "$SERVICE_OBJECT_TYPE"
    | where AccessMask has "$DELETE"
    | project TimeGenerated, Computer, Name = ObjectName, Kind = "delete-capable-open", Channel = "Security", LogonId = SubjectLogonId),
    (Event
    | where EventID == 7036 and Source =~ "$SCM_PROVIDER"
    | extend State = tolower(trim(@"\s+", data_field(EventData, "param2")))
    | project TimeGenerated, Computer, Name = data_field(EventData, "param1"),
        Kind = case(State == "running", "running", State == "stopped", "stopped", "state-changed"),
        Channel = "System", LogonId = ""),
    (Event
    | where EventID in (12, 13) and (Source =~ "$SYSMON_PROVIDER" or EventLog =~ "$SYSMON_PROVIDER/Operational")
    | extend Target = data_field(EventData, "TargetObject"), RegistryEvent = data_field(EventData, "EventType")
    | project TimeGenerated, Computer, EventID, RegistryEvent, Name = service_key(Target), Rest = service_rest(Target)
    | extend Kind = case(EventID == 13 and Rest =~ "DeleteFlag", "delete-flag-set",
        EventID == 12 and RegistryEvent =~ "DeleteKey" and isempty(Rest), "key-deleted", "")
    | where isnotempty(Name) and isnotempty(Kind)
    | project TimeGenerated, Computer, Name, Kind, Channel = "Sysmon", LogonId = "");
let Logons = SecurityEvent
    | where EventID == 4624
    | project LogonTime = TimeGenerated, HostKey = host_key(Computer), LogonId = tolower(TargetLogonId),
        IpAddress, WorkstationName, LogonType, AuthenticationPackageName;
"#;

const AMA_SOURCES: &str = r#"// WindowsEvent.EventData is already parsed: one property per <Data> element.
let Installs = union
    (WindowsEvent
    | where EventID == 7045 and Provider =~ "$SCM_PROVIDER"
    | project TimeGenerated, Computer, EventID,
        Name = tostring(EventData.ServiceName), ImagePath = tostring(EventData.ImagePath),
        ServiceType = tostring(EventData.ServiceType), StartType = tostring(EventData.StartType),
        ServiceAccount = tostring(EventData.AccountName), InstalledBy = SystemUserId, LogonId = ""),
    (WindowsEvent
    | where EventID == 4697 and Channel == "Security"
    | project TimeGenerated, Computer, EventID,
        Name = tostring(EventData.ServiceName), ImagePath = tostring(EventData.ServiceFileName),
        ServiceType = tostring(EventData.ServiceType), StartType = tostring(EventData.ServiceStartType),
        ServiceAccount = tostring(EventData.ServiceAccount),
        InstalledBy = strcat(tostring(EventData.SubjectDomainName), @"\", tostring(EventData.SubjectUserName)),
        LogonId = tostring(EventData.SubjectLogonId));
let Mentions = union
    (WindowsEvent
    | where EventID == 4674 and Channel == "Security"
    | where trim(@"\s+", tostring(EventData.ObjectServer)) =~ "$SCM_OBJECT_SERVER" and trim(@"\s+", tostring(EventData.ObjectType)) =~ "$SERVICE_OBJECT_TYPE"
    | where tostring(EventData.AccessMask) has "$DELETE"
    | project TimeGenerated, Computer, Name = tostring(EventData.ObjectName), Kind = "delete-capable-open",
        Channel = "Security", LogonId = tostring(EventData.SubjectLogonId)),
    (WindowsEvent
    | where EventID == 7036 and Provider =~ "$SCM_PROVIDER"
    | extend State = tolower(trim(@"\s+", tostring(EventData.param2)))
    | project TimeGenerated, Computer, Name = tostring(EventData.param1),
        Kind = case(State == "running", "running", State == "stopped", "stopped", "state-changed"),
        Channel = "System", LogonId = ""),
    (WindowsEvent
    | where EventID in (12, 13) and (Provider =~ "$SYSMON_PROVIDER" or Channel =~ "$SYSMON_PROVIDER/Operational")
    | extend Target = tostring(EventData.TargetObject), RegistryEvent = tostring(EventData.EventType)
    | project TimeGenerated, Computer, EventID, RegistryEvent, Name = service_key(Target), Rest = service_rest(Target)
    | extend Kind = case(EventID == 13 and Rest =~ "DeleteFlag", "delete-flag-set",
        EventID == 12 and RegistryEvent =~ "DeleteKey" and isempty(Rest), "key-deleted", "")
    | where isnotempty(Name) and isnotempty(Kind)
    | project TimeGenerated, Computer, Name, Kind, Channel = "Sysmon", LogonId = "");
let Logons = WindowsEvent
    | where EventID == 4624 and Channel == "Security"
    | project LogonTime = TimeGenerated, HostKey = host_key(Computer), LogonId = tolower(tostring(EventData.TargetLogonId)),
        IpAddress = tostring(EventData.IpAddress), WorkstationName = tostring(EventData.WorkstationName),
        LogonType = toint(EventData.LogonType), AuthenticationPackageName = tostring(EventData.AuthenticationPackageName);
"#;

const BODY: &str = r##"// 1. Creations: on each host, in time order, a 4697 next to a 7045 (or the reverse) within the
// merge window and with the same name or image path is the same installation; two events of
// the same id never are.
let Creations = Installs
    | extend HostKey = host_key(Computer), NameKey = tolower(trim(@"\s+", Name)), ImageKey = tolower(trim(@"\s+", ImagePath))
    | sort by HostKey asc, TimeGenerated asc
    | extend NewCreation = HostKey != prev(HostKey) or TimeGenerated - prev(TimeGenerated) > merge_window
        or EventID == prev(EventID) or (NameKey != prev(NameKey) and ImageKey != prev(ImageKey))
    | extend CreationSeq = row_cumsum(iff(NewCreation, 1, 0))
    | summarize Created = min(TimeGenerated), SystemTime = minif(TimeGenerated, EventID == 7045),
        Computer = coalesce(take_anyif(Computer, EventID == 7045), take_any(Computer)),
        // The key name is 4697's; 7045 gives the display name.
        ServiceName = coalesce(take_anyif(Name, EventID == 4697), take_anyif(Name, EventID == 7045)),
        DisplayName = take_anyif(Name, EventID == 7045),
        ImagePath = coalesce(take_anyif(ImagePath, EventID == 7045), take_anyif(ImagePath, EventID == 4697)),
        ServiceType = coalesce(take_anyif(ServiceType, EventID == 7045), take_anyif(ServiceType, EventID == 4697)),
        StartType = coalesce(take_anyif(StartType, EventID == 7045), take_anyif(StartType, EventID == 4697)),
        ServiceAccount = coalesce(take_anyif(ServiceAccount, EventID == 7045), take_anyif(ServiceAccount, EventID == 4697)),
        InstalledBy = coalesce(take_anyif(InstalledBy, EventID == 4697), take_anyif(InstalledBy, EventID == 7045)),
        InstallLogonId = take_anyif(LogonId, EventID == 4697)
        by HostKey, CreationSeq
    | extend CreationKey = strcat(HostKey, "#", tostring(CreationSeq));
let CreationNames = Creations
    | project CreationKey, HostKey, Created, SystemTime, Names = pack_array(tolower(ServiceName), tolower(DisplayName))
    | mv-expand NameKey = Names to typeof(string)
    | where isnotempty(NameKey)
    | distinct CreationKey, HostKey, Created, SystemTime, NameKey;
// 2-3. Each mention of a service goes to the latest creation of that name on the host that it
// may belong to: from the tolerance before it (a System-log event cannot precede its own 7045)
// to the window after it.
let Evidence = Mentions
    | extend HostKey = host_key(Computer), NameKey = tolower(trim(@"\s+", Name))
    | join kind=inner CreationNames on HostKey, NameKey
    | where TimeGenerated <= Created + window
    | where TimeGenerated >= iff(Channel == "System" and isnotnull(SystemTime), SystemTime, Created - tolerance)
    | summarize arg_max(Created, CreationKey) by HostKey, NameKey, TimeGenerated, Kind, Channel, LogonId
    // services.exe opens every new service with all access, DELETE included, as it creates it:
    // that open is no removal.
    | extend Role = iff(Kind == "delete-capable-open",
        iff(abs(TimeGenerated - Created) <= tolerance, "delete-capable-open-at-creation", "delete-capable-open-later"), Kind);
// 4. The removal, from the best evidence.
let Removals = Evidence
    | summarize KeyDeleted = minif(TimeGenerated, Role == "key-deleted"),
        DeleteFlagSet = minif(TimeGenerated, Role == "delete-flag-set"),
        LastOpenLater = maxif(TimeGenerated, Role == "delete-capable-open-later"),
        LastServiceEvent = max(TimeGenerated),
        FirstStop = minif(TimeGenerated, Role == "stopped"),
        OpenLogonId = take_anyif(LogonId, Role == "delete-capable-open-at-creation")
        by CreationKey
    | extend OpenRemoval = iff(LastOpenLater == LastServiceEvent, LastOpenLater, datetime(null))
    | extend Deleted = coalesce(KeyDeleted, DeleteFlagSet, OpenRemoval, FirstStop),
        DeletionEvidence = case(isnotnull(KeyDeleted), "key-deleted", isnotnull(DeleteFlagSet), "delete-flag-set",
            isnotnull(OpenRemoval), "delete-capable-open-later", isnotnull(FirstStop), "stopped", "");
// 5. The installing logon: the last 4624 of that logon id up to 2s after the creation, else the
// first one after it.
let InstallLogons = Creations
    | join kind=leftouter Removals on CreationKey
    | extend LogonId = tolower(coalesce(InstallLogonId, OpenLogonId))
    | where isnotempty(LogonId)
    | join kind=inner Logons on HostKey, LogonId
    | extend Rank = iff(LogonTime <= Created + 2s, LogonTime - datetime(1601-01-01), datetime(1601-01-01) - LogonTime)
    | summarize arg_max(Rank, LogonId, LogonTime, IpAddress, WorkstationName, LogonType, AuthenticationPackageName) by CreationKey;
Creations
| join kind=leftouter Removals on CreationKey
| join kind=leftouter InstallLogons on CreationKey
| extend DisplayName = iff(DisplayName == ServiceName, "", DisplayName),
    LifetimeMs = tolong((Deleted - Created) / 1ms)
| project Created, Computer, ServiceName, DisplayName, ImagePath, ServiceType, StartType, ServiceAccount,
    InstalledBy, LogonId, LogonType, SourceIp = IpAddress, SourceWorkstation = WorkstationName,
    AuthenticationPackageName, Deleted, DeletionEvidence, LifetimeMs
| sort by Created asc, Computer asc, ServiceName asc
"##;

#[cfg(test)]
mod tests {
    use super::*;

    /// `svchunt hunt` matches the providers ignoring case (`lifecycle::names::is_scm`,
    /// `is_sysmon`), so the exported query must too: `=~`, never `==`, wherever a provider or
    /// the Sysmon channel is compared.
    #[test]
    fn providers_compare_without_case_as_the_hunt_does() {
        for schema in [Schema::Legacy, Schema::Ama] {
            let text = render(&ExportOptions {
                schema,
                ..ExportOptions::default()
            });
            for line in text.lines() {
                for name in [SCM_PROVIDER, SYSMON_PROVIDER] {
                    assert!(
                        !line.contains(&format!("== \"{name}")),
                        "{schema:?}: {line}"
                    );
                }
            }
            assert!(text.contains(&format!("=~ \"{SCM_PROVIDER}\"")));
        }
    }
}
