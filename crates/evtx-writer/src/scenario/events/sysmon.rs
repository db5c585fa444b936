//! Sysmon events: 1 process create, 12 registry key create/delete, 13 registry value set
//! (where a service's real removal shows: `DeleteFlag`, `DeleteKey`), 17/18 pipe created and
//! connected (where named-pipe impersonation shows).

use jiff::Timestamp;

use super::{Event, HostEvents, Log, fields, s, sysmon, utc_time};
use crate::record::{DataValue, Guid};

impl HostEvents {
    /// Sysmon 1 process create, of a SYSTEM process in session 0 (a service's).
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
        self.sysmon_process_of(
            t,
            &Proc {
                guid: pguid,
                pid,
                image,
                command_line: cmd,
                original_file_name: "-",
                user,
                logon_id: 0x3e7,
                session: 0,
                integrity: "System",
                parent_guid,
                parent_pid,
                parent_image,
            },
            tid,
        )
    }

    /// Sysmon 1 process create of any process (a user's client program too: its
    /// `OriginalFileName` survives a rename, its `LogonId` and `TerminalSessionId` tell an
    /// interactive session from a network one).
    pub fn sysmon_process_of(&self, t: Timestamp, p: &Proc<'_>, tid: u32) -> Event {
        // Sysmon's LogonGuid ends with the logon id (SYSTEM's is …-e703-000000000000).
        let logon_guid = Guid::from_fields(0, 0, 0, p.logon_id.to_le_bytes());
        Event {
            log: Log::Sysmon,
            time: t,
            system: sysmon(&self.computer, 1, 5, self.pids.sysmon, tid),
            data: fields(vec![
                ("RuleName", s("-")),
                ("UtcTime", s(utc_time(t))),
                ("ProcessGuid", DataValue::Guid(p.guid)),
                ("ProcessId", DataValue::UInt32(p.pid)),
                ("Image", s(p.image)),
                ("FileVersion", s("-")),
                ("Description", s("-")),
                ("Product", s("-")),
                ("Company", s("-")),
                ("OriginalFileName", s(p.original_file_name)),
                ("CommandLine", s(p.command_line)),
                ("CurrentDirectory", s(r"C:\Windows\system32\")),
                ("User", s(p.user)),
                ("LogonGuid", DataValue::Guid(logon_guid)),
                ("LogonId", DataValue::HexInt64(p.logon_id)),
                ("TerminalSessionId", DataValue::UInt32(p.session)),
                ("IntegrityLevel", s(p.integrity)),
                ("Hashes", s("-")),
                ("ParentProcessGuid", DataValue::Guid(p.parent_guid)),
                ("ParentProcessId", DataValue::UInt32(p.parent_pid)),
                ("ParentImage", s(p.parent_image)),
                ("ParentCommandLine", s(p.parent_image)),
                ("ParentUser", s(r"NT AUTHORITY\SYSTEM")),
            ]),
        }
    }

    /// Sysmon 17 (`CreatePipe`) or 18 (`ConnectPipe`): `pipe` as Sysmon writes it, with its
    /// leading backslash.
    #[allow(clippy::too_many_arguments)]
    pub fn sysmon_pipe(
        &self,
        t: Timestamp,
        connect: bool,
        pipe: &str,
        pguid: Guid,
        pid: u32,
        image: &str,
        user: &str,
        tid: u32,
    ) -> Event {
        let id = if connect { 18 } else { 17 };
        Event {
            log: Log::Sysmon,
            time: t,
            system: sysmon(&self.computer, id, 1, self.pids.sysmon, tid),
            data: fields(vec![
                ("RuleName", s("-")),
                (
                    "EventType",
                    s(if connect { "ConnectPipe" } else { "CreatePipe" }),
                ),
                ("UtcTime", s(utc_time(t))),
                ("ProcessGuid", DataValue::Guid(pguid)),
                ("ProcessId", DataValue::UInt32(pid)),
                ("PipeName", s(pipe)),
                ("Image", s(image)),
                ("User", s(user)),
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

    /// Sysmon 13 registry value set (by services.exe, as every write to a service's key is).
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

/// A process as Sysmon 1 describes it.
#[derive(Debug, Clone)]
pub struct Proc<'a> {
    /// `ProcessGuid`.
    pub guid: Guid,
    /// `ProcessId`.
    pub pid: u32,
    /// `Image`.
    pub image: &'a str,
    /// `CommandLine`.
    pub command_line: &'a str,
    /// `OriginalFileName` from the binary's version resource (`psexec.c` for PsExec, whatever
    /// the file is called).
    pub original_file_name: &'a str,
    /// `DOMAIN\user`.
    pub user: &'a str,
    /// `LogonId` of the session the process runs in.
    pub logon_id: u64,
    /// `TerminalSessionId`: 0 for services and network logons, 1+ for desktop sessions.
    pub session: u32,
    /// `IntegrityLevel` (`System`, `High`, `Medium`).
    pub integrity: &'a str,
    /// `ParentProcessGuid`.
    pub parent_guid: Guid,
    /// `ParentProcessId`.
    pub parent_pid: u32,
    /// `ParentImage`.
    pub parent_image: &'a str,
}
