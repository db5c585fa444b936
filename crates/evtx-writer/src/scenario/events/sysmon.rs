//! Sysmon events: 1 process create, 12 registry key create/delete, 13 registry value set
//! (where a service's real removal shows: `DeleteFlag`, `DeleteKey`).

use jiff::Timestamp;

use super::{Event, HostEvents, Log, fields, guid, s, sysmon, utc_time};
use crate::record::{DataValue, Guid};

impl HostEvents {
    /// Sysmon 1 process create.
    #[allow(clippy::too_many_arguments)]
    pub fn sysmon_process(
        &self,
        t: Timestamp,
        pguid: Guid,
        pid: u32,
        image: &str,
        cmd: &str,
        user: &str,
        parent_guid: Guid,
        parent_pid: u32,
        parent_image: &str,
        tid: u32,
    ) -> Event {
        Event {
            log: Log::Sysmon,
            time: t,
            system: sysmon(&self.computer, 1, 5, self.pids.sysmon, tid),
            data: fields(vec![
                ("RuleName", s("-")),
                ("UtcTime", s(utc_time(t))),
                ("ProcessGuid", DataValue::Guid(pguid)),
                ("ProcessId", DataValue::UInt32(pid)),
                ("Image", s(image)),
                ("FileVersion", s("-")),
                ("Description", s("-")),
                ("Product", s("-")),
                ("Company", s("-")),
                ("OriginalFileName", s("-")),
                ("CommandLine", s(cmd)),
                ("CurrentDirectory", s(r"C:\Windows\system32\")),
                ("User", s(user)),
                (
                    "LogonGuid",
                    DataValue::Guid(guid("{00000000-0000-0000-e703-000000000000}")),
                ),
                ("LogonId", DataValue::HexInt64(0x3e7)),
                ("TerminalSessionId", DataValue::UInt32(0)),
                ("IntegrityLevel", s("System")),
                ("Hashes", s("-")),
                ("ParentProcessGuid", DataValue::Guid(parent_guid)),
                ("ParentProcessId", DataValue::UInt32(parent_pid)),
                ("ParentImage", s(parent_image)),
                ("ParentCommandLine", s(parent_image)),
                ("ParentUser", s(r"NT AUTHORITY\SYSTEM")),
            ]),
        }
    }

    /// Sysmon 12 registry key create/delete (`event_type` `CreateKey` / `DeleteKey`).
    pub fn sysmon_reg_key(
        &self,
        t: Timestamp,
        event_type: &str,
        target: &str,
        services_guid: Guid,
        tid: u32,
    ) -> Event {
        Event {
            log: Log::Sysmon,
            time: t,
            system: sysmon(&self.computer, 12, 2, self.pids.sysmon, tid),
            data: fields(vec![
                ("RuleName", s("-")),
                ("EventType", s(event_type)),
                ("UtcTime", s(utc_time(t))),
                ("ProcessGuid", DataValue::Guid(services_guid)),
                ("ProcessId", DataValue::UInt32(self.pids.services)),
                ("Image", s(r"C:\Windows\system32\services.exe")),
                ("TargetObject", s(target)),
                ("User", s(r"NT AUTHORITY\SYSTEM")),
            ]),
        }
    }

    /// Sysmon 13 registry value set.
    pub fn sysmon_reg_value(
        &self,
        t: Timestamp,
        target: &str,
        details: &str,
        services_guid: Guid,
        tid: u32,
    ) -> Event {
        Event {
            log: Log::Sysmon,
            time: t,
            system: sysmon(&self.computer, 13, 2, self.pids.sysmon, tid),
            data: fields(vec![
                ("RuleName", s("-")),
                ("EventType", s("SetValue")),
                ("UtcTime", s(utc_time(t))),
                ("ProcessGuid", DataValue::Guid(services_guid)),
                ("ProcessId", DataValue::UInt32(self.pids.services)),
                ("Image", s(r"C:\Windows\system32\services.exe")),
                ("TargetObject", s(target)),
                ("Details", s(details)),
                ("User", s(r"NT AUTHORITY\SYSTEM")),
            ]),
        }
    }
}
