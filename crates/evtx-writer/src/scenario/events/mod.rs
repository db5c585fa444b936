//! Builders for every event the generator writes, with the System block, field names, value
//! types and value formats Windows uses (checked against real System, Security and Sysmon
//! logs): 7045/7036/7009/7000/7040 from the Service Control Manager; 4624/4634/4648/4672/4688/
//! 4697/4674/5140/5145 from Security-Auditing; Sysmon 1/12/13/17/18.

mod security;
mod sysmon;

pub use sysmon::Proc;

use jiff::Timestamp;

use crate::record::{DataValue, Guid, Sid, SystemFields};

/// Which log file an event goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Log {
    /// `System.evtx`.
    System,
    /// `Security.evtx`.
    Security,
    /// `Microsoft-Windows-Sysmon%4Operational.evtx`.
    Sysmon,
}

impl Log {
    /// The file name Windows gives the log.
    pub fn file_name(self) -> &'static str {
        match self {
            Log::System => "System.evtx",
            Log::Security => "Security.evtx",
            Log::Sysmon => "Microsoft-Windows-Sysmon%4Operational.evtx",
        }
    }
}

/// One event before it gets its record id (ids follow time order within a log).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Target log.
    pub log: Log,
    /// `TimeCreated`.
    pub time: Timestamp,
    /// The System block.
    pub system: SystemFields,
    /// The EventData fields.
    pub data: Vec<(String, DataValue)>,
}

/// An account as the events name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// SID text.
    pub sid: String,
    /// User name (`admin`, `WKS01$`, `SYSTEM`).
    pub name: String,
    /// Domain (`CORP`, `NT AUTHORITY`).
    pub domain: String,
    /// Logon id (`0x3e7` for SYSTEM).
    pub logon_id: u64,
}

impl Account {
    /// `NT AUTHORITY\SYSTEM`, logon 0x3e7.
    pub fn system(host_netbios: &str, domain: &str) -> Self {
        Account {
            sid: "S-1-5-18".into(),
            name: format!("{host_netbios}$"),
            domain: domain.into(),
            logon_id: 0x3e7,
        }
    }
}

pub(super) fn s(v: impl Into<String>) -> DataValue {
    DataValue::String(v.into())
}

pub(super) fn sid(text: &str) -> DataValue {
    DataValue::Sid(Sid::parse(text).expect("generator SIDs are well formed"))
}

pub(super) fn guid(text: &str) -> Guid {
    Guid::parse(text).expect("constant GUID")
}

pub(super) fn fields(pairs: Vec<(&str, DataValue)>) -> Vec<(String, DataValue)> {
    pairs.into_iter().map(|(n, v)| (n.to_string(), v)).collect()
}

/// The System block of a Service Control Manager event (classic provider: qualifiers 16384,
/// EventSourceName, keywords 0x8080000000000000, services.exe as the process).
fn scm(
    computer: &str,
    event_id: u16,
    level: u8,
    user: Option<&str>,
    pid: u32,
    tid: u32,
) -> SystemFields {
    SystemFields {
        provider: "Service Control Manager".into(),
        provider_guid: Some(guid("{555908d1-a6d7-4695-8e1e-26931d2012f4}")),
        event_source_name: Some("Service Control Manager".into()),
        event_id,
        qualifiers: Some(if level == 2 { 49152 } else { 16384 }),
        version: 0,
        level,
        task: 0,
        opcode: 0,
        keywords: 0x8080_0000_0000_0000,
        activity_id: None,
        computer: computer.into(),
        channel: "System".into(),
        user_sid: user.map(|u| Sid::parse(u).expect("generator SIDs are well formed")),
        process_id: pid,
        thread_id: tid,
    }
}

/// The System block of a Security-Auditing event (audit success; `<Security/>` is empty).
pub(super) fn audit(
    computer: &str,
    event_id: u16,
    version: u8,
    task: u16,
    pid: u32,
    tid: u32,
) -> SystemFields {
    SystemFields {
        provider: "Microsoft-Windows-Security-Auditing".into(),
        provider_guid: Some(guid("{54849625-5478-4994-a5ba-3e3b0328c30d}")),
        event_source_name: None,
        event_id,
        qualifiers: None,
        version,
        level: 0,
        task,
        opcode: 0,
        keywords: 0x8020_0000_0000_0000,
        activity_id: None,
        computer: computer.into(),
        channel: "Security".into(),
        user_sid: None,
        process_id: pid,
        thread_id: tid,
    }
}

/// The System block of a Sysmon event (version 2 schema events, run as SYSTEM).
pub(super) fn sysmon(
    computer: &str,
    event_id: u16,
    version: u8,
    pid: u32,
    tid: u32,
) -> SystemFields {
    SystemFields {
        provider: "Microsoft-Windows-Sysmon".into(),
        provider_guid: Some(guid("{5770385f-c22a-43e0-bf4c-06f5698ffbd9}")),
        event_source_name: None,
        event_id,
        qualifiers: None,
        version,
        level: 4,
        task: event_id,
        opcode: 0,
        keywords: 0x8000_0000_0000_0000,
        activity_id: None,
        computer: computer.into(),
        channel: "Microsoft-Windows-Sysmon/Operational".into(),
        user_sid: Some(Sid::parse("S-1-5-18").expect("constant")),
        process_id: pid,
        thread_id: tid,
    }
}

/// Process ids of the host's long-lived system processes.
#[derive(Debug, Clone, Copy)]
pub struct Pids {
    /// services.exe.
    pub services: u32,
    /// lsass.exe (the Security log's writer).
    pub lsass: u32,
    /// System (pid 4): SMB server events.
    pub system: u32,
    /// Sysmon64.exe.
    pub sysmon: u32,
}

/// Builds events for one host.
#[derive(Debug, Clone)]
pub struct HostEvents {
    /// `Computer`: FQDN.
    pub computer: String,
    /// Pids of system processes.
    pub pids: Pids,
}

/// A service's description in a 7045 / 4697 pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpec {
    /// Key name.
    pub name: String,
    /// Display name (7036 uses it).
    pub display: String,
    /// ImagePath / ServiceFileName.
    pub image: String,
    /// Service type code (0x10 own process, 0x1 kernel driver, 0x110 interactive, 0x50/0x60
    /// per-user).
    pub service_type: u32,
    /// Start type code (2 auto, 3 demand, 4 disabled, 0 boot, 1 system).
    pub start_type: u32,
    /// Account (`LocalSystem`; empty for drivers).
    pub account: String,
}

/// 7045's `ServiceType` text for a type code.
pub fn service_type_text(code: u32) -> &'static str {
    match code {
        0x1 => "kernel mode driver",
        0x2 => "file system driver",
        0x10 => "user mode service",
        0x20 => "user mode service",
        0x110 => "user mode service",
        0x50 | 0x60 | 0xd0 | 0xe0 => "user mode service",
        _ => "user mode service",
    }
}

/// 7045's `StartType` text for a start code.
pub fn start_type_text(code: u32) -> &'static str {
    match code {
        0 => "boot start",
        1 => "system start",
        2 => "auto start",
        3 => "demand start",
        _ => "disabled",
    }
}

impl HostEvents {
    /// 7045 "A service was installed in the system"; `UserID` is the caller's SID.
    pub fn svc_installed(
        &self,
        t: Timestamp,
        svc: &ServiceSpec,
        caller_sid: &str,
        tid: u32,
    ) -> Event {
        Event {
            log: Log::System,
            time: t,
            system: scm(
                &self.computer,
                7045,
                4,
                Some(caller_sid),
                self.pids.services,
                tid,
            ),
            data: fields(vec![
                ("ServiceName", s(&svc.name)),
                ("ImagePath", s(&svc.image)),
                ("ServiceType", s(service_type_text(svc.service_type))),
                ("StartType", s(start_type_text(svc.start_type))),
                ("AccountName", s(&svc.account)),
            ]),
        }
    }

    /// 7036 "The X service entered the Y state" (by display name). `Binary` carries the key
    /// name and the state code as UTF-16LE (`W32Time/4` for running, `/1` for stopped), as
    /// Windows writes it.
    pub fn svc_state(&self, t: Timestamp, display: &str, state: &str, tid: u32) -> Event {
        self.svc_state_of(t, display, None, state, tid)
    }

    /// [`HostEvents::svc_state`] with the key name in `Binary` when it is known.
    pub fn svc_state_of(
        &self,
        t: Timestamp,
        display: &str,
        key: Option<&str>,
        state: &str,
        tid: u32,
    ) -> Event {
        let mut data = vec![("param1", s(display)), ("param2", s(state))];
        if let Some(key) = key {
            let code = match state {
                "running" => 4,
                "stopped" => 1,
                _ => 0,
            };
            let text = format!("{key}/{code}\0");
            let bytes = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
            data.push(("Binary", DataValue::Binary(bytes)));
        }
        Event {
            log: Log::System,
            time: t,
            system: scm(&self.computer, 7036, 4, None, self.pids.services, tid),
            data: fields(data),
        }
    }

    /// 7009 "A timeout was reached (30000 milliseconds) while waiting for X to connect".
    pub fn svc_timeout(&self, t: Timestamp, name: &str, tid: u32) -> Event {
        Event {
            log: Log::System,
            time: t,
            system: scm(&self.computer, 7009, 2, None, self.pids.services, tid),
            data: fields(vec![("param1", s("30000")), ("param2", s(name))]),
        }
    }

    /// 7000 "The X service failed to start due to the following error".
    pub fn svc_failed(&self, t: Timestamp, display: &str, tid: u32) -> Event {
        Event {
            log: Log::System,
            time: t,
            system: scm(&self.computer, 7000, 2, None, self.pids.services, tid),
            data: fields(vec![("param1", s(display)), ("param2", s("%%1053"))]),
        }
    }

    /// 7040 "The start type of the X service was changed from A to B".
    #[allow(clippy::too_many_arguments)]
    pub fn svc_start_changed(
        &self,
        t: Timestamp,
        display: &str,
        from: &str,
        to: &str,
        key: &str,
        user: &str,
        tid: u32,
    ) -> Event {
        Event {
            log: Log::System,
            time: t,
            system: scm(&self.computer, 7040, 4, Some(user), self.pids.services, tid),
            data: fields(vec![
                ("param1", s(display)),
                ("param2", s(from)),
                ("param3", s(to)),
                ("param4", s(key)),
            ]),
        }
    }

    /// `HOST$` from the FQDN.
    pub(super) fn netbios_machine(&self) -> String {
        format!(
            "{}$",
            self.computer.split('.').next().unwrap_or("").to_uppercase()
        )
    }

    /// NetBIOS domain from the FQDN's second label.
    pub(super) fn domain(&self) -> String {
        self.computer
            .split('.')
            .nth(1)
            .unwrap_or("WORKGROUP")
            .to_uppercase()
    }
}

/// `ShareLocalPath` for the shares tools use.
pub(super) fn share_path(share: &str) -> &'static str {
    match share {
        "ADMIN$" => r"\??\C:\Windows",
        "C$" => r"\??\C:\",
        _ => "",
    }
}

/// Sysmon's `UtcTime`: `2024-05-01 10:00:00.123`.
pub fn utc_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S%.3f").to_string()
}
