//! `--to spl`: the lifecycle semantics in Splunk's SPL, over the Splunk Add-on for Microsoft
//! Windows' fields (`XmlWinEventLog`, with the classic `WinEventLog` names as fallbacks).
//!
//! `streamstats` does what the local engine's creation merge and evidence assignment do: within
//! one host and service name, in time order, each installation opens a creation (a 7045 and a
//! 4697 close together are one) and every later mention of the name belongs to it until the next.

use super::{AUDITING, ExportOptions, whole_seconds_up};
use crate::lifecycle::{DELETE_ACCESS_CODE, SCM_OBJECT_SERVER, SERVICE_OBJECT_TYPE};

/// Render the search.
pub fn render(options: &ExportOptions) -> String {
    let window = whole_seconds_up(options.window);
    let tolerance = whole_seconds_up(options.tolerance);
    let merge = whole_seconds_up(options.merge_window);
    // SPL's block comment is three backticks; the header holds none.
    let header = format!(
        "\
svchunt export --to spl: remote service execution (PsExec and kin) in Splunk.

Finds: one row per service creation (7045 and/or 4697 of the same name, merged within {merge}s),
with the installing logon's source address (4624) and when the service was removed, dated
from the best evidence: Sysmon 12 key deleted, else Sysmon 13 DeleteFlag, else a
DELETE-capable 4674 ({DELETE_ACCESS_CODE}) later than {tolerance}s after the creation with nothing
after it, else the first 7036 stop; evidence counts up to {window}s after the creation.

{AUDITING}
Fields: Splunk Add-on for Microsoft Windows, renderXml=true (XmlWinEventLog:*); the classic
WinEventLog names (Service_Name, Object_Name, Accesses, Logon_ID) are read as fallbacks.

Cannot express, compared with svchunt hunt:
- the verdict and the tool attribution: every creation is listed, drivers too;
- 7045 names the display name, 4697 and 4674 the key name: a service whose two names differ
  gives two creations, and its 4674s join the 4697 one only;
- evidence logged before its creation (clock skew between logs) goes to the previous
  creation of that name, or nowhere;
- the source address is the latest 4624 of the installing logon id, not the last one before
  the creation."
    );
    format!(
        r#"```
{header}
```
(source="XmlWinEventLog:System" OR source="WinEventLog:System" OR source="XmlWinEventLog:Security" OR source="WinEventLog:Security" OR source="XmlWinEventLog:Microsoft-Windows-Sysmon/Operational")
(EventCode=7045 OR EventCode=4697 OR EventCode=4674 OR EventCode=7036 OR EventCode=12 OR EventCode=13)
| eval host_key=lower(mvindex(split(Computer, "."), 0))
| rex field=TargetObject "(?i)\\\\(?:CurrentControlSet|ControlSet0\\d+)\\\\Services\\\\(?<reg_service>[^\\\\]+)(?:\\\\(?<reg_rest>.*))?$"
| eval access=coalesce(AccessMask, Access_Mask, Accesses)
| eval kind=case(
    EventCode=7045 OR EventCode=4697, "install",
    EventCode=4674 AND trim(ObjectServer)="{SCM_OBJECT_SERVER}" AND trim(ObjectType)="{SERVICE_OBJECT_TYPE}" AND match(access, "(^|[^0-9A-Za-z])({DELETE_ACCESS_CODE}|DELETE)($|[^0-9A-Za-z])"), "open",
    EventCode=7036 AND lower(trim(param2))="stopped", "stopped",
    EventCode=7036, "state-changed",
    EventCode=13 AND lower(reg_rest)="deleteflag", "delete-flag-set",
    EventCode=12 AND lower(EventType)="deletekey" AND (isnull(reg_rest) OR reg_rest=""), "key-deleted")
| where isnotnull(kind)
| eval service=case(
    EventCode=7045 OR EventCode=4697, coalesce(ServiceName, Service_Name),
    EventCode=4674, coalesce(ObjectName, Object_Name),
    EventCode=7036, param1,
    true(), reg_service)
| eval service_key=lower(trim(service))
| where isnotnull(service_key) AND service_key!=""
| sort 0 _time
``` a new creation: an install that is not the partner (other id, within the merge window) of the
previous install of the name; other events between the two (the open at creation) do not matter ```
| eval install_time=if(kind="install", _time, null()), install_code=if(kind="install", EventCode, null())
| streamstats current=f last(install_time) AS prev_time last(install_code) AS prev_code by host_key service_key
| eval new_creation=if(kind="install" AND (isnull(prev_time) OR _time-prev_time>{merge} OR prev_code=EventCode), 1, 0)
| streamstats sum(new_creation) AS creation_seq by host_key service_key
| where creation_seq>0
| eventstats min(eval(if(kind="install", _time, null()))) AS created by host_key service_key creation_seq
| where _time-created<={window}
``` services.exe opens every new service with DELETE as it creates it: that open is no removal ```
| eval role=case(kind="open" AND abs(_time-created)<={tolerance}, "delete-capable-open-at-creation", kind="open", "delete-capable-open-later", true(), kind)
| eval image=if(kind="install", coalesce(ImagePath, ServiceFileName, Service_File_Name), null())
| eval display=if(EventCode=7045, service, null())
| eval install_logon=if(EventCode=4697, lower(coalesce(SubjectLogonId, Logon_ID)), null())
| eval open_logon=if(role="delete-capable-open-at-creation", lower(coalesce(SubjectLogonId, Logon_ID)), null())
| stats min(created) AS created values(Computer) AS computer values(service) AS service_name values(display) AS display_name values(image) AS image_path
    values(install_logon) AS install_logon values(open_logon) AS open_logon
    min(eval(if(role="key-deleted", _time, null()))) AS key_deleted
    min(eval(if(role="delete-flag-set", _time, null()))) AS delete_flag_set
    max(eval(if(role="delete-capable-open-later", _time, null()))) AS last_open_later
    max(_time) AS last_service_event
    min(eval(if(role="stopped", _time, null()))) AS first_stop
    by host_key service_key creation_seq
| eval open_removal=if(last_open_later=last_service_event, last_open_later, null())
| eval deleted=coalesce(key_deleted, delete_flag_set, open_removal, first_stop)
| eval deletion_evidence=case(isnotnull(key_deleted), "key-deleted", isnotnull(delete_flag_set), "delete-flag-set", isnotnull(open_removal), "delete-capable-open-later", isnotnull(first_stop), "stopped")
| eval lifetime_ms=round((deleted-created)*1000)
| eval logon_id=mvindex(coalesce(install_logon, open_logon), 0)
| join type=left host_key logon_id
    [ search (source="XmlWinEventLog:Security" OR source="WinEventLog:Security") EventCode=4624
    | eval host_key=lower(mvindex(split(Computer, "."), 0)), logon_id=lower(coalesce(TargetLogonId, Logon_ID))
    | stats latest(IpAddress) AS source_ip latest(WorkstationName) AS source_workstation latest(LogonType) AS logon_type by host_key logon_id ]
| sort 0 created computer service_key
| eval created=strftime(created, "%Y-%m-%dT%H:%M:%S.%3N%z"), deleted=strftime(deleted, "%Y-%m-%dT%H:%M:%S.%3N%z")
| table created computer service_name display_name image_path logon_id logon_type source_ip source_workstation deleted deletion_evidence lifetime_ms
"#,
        header = header.replace("```", "'''"),
    )
}
