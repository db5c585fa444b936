//! Security-Auditing events: 4624/4634/4672 logons, 4648 explicit-credential logons, 4688
//! processes, 4697 service installs, 4674 privileged SCM operations, 5140/5145 share access,
//! with the field types Windows uses.

use jiff::Timestamp;

use super::{Account, Event, HostEvents, Log, ServiceSpec, audit, fields, s, share_path, sid};
use crate::record::{DataValue, Guid};

impl HostEvents {
    /// 4624 logon (version 2 fields).
    #[allow(clippy::too_many_arguments)]
    pub fn logon(
        &self,
        t: Timestamp,
        target: &Account,
        logon_type: u32,
        auth: &str,
        workstation: &str,
        ip: &str,
        port: u16,
        logon_guid: Guid,
        tid: u32,
    ) -> Event {
        let network = logon_type == 3;
        let (process_id, process) = if network {
            (0, "-".to_string())
        } else {
            (
                u64::from(self.pids.lsass) + 0x10,
                r"C:\Windows\System32\svchost.exe".to_string(),
            )
        };
        let subject_sid = if network { "S-1-0-0" } else { "S-1-5-18" };
        let (sub_name, sub_dom, sub_logon) = if network {
            ("-".to_string(), "-".to_string(), 0)
        } else {
            (self.netbios_machine(), self.domain(), 0x3e7)
        };
        let ntlm = auth == "NTLM";
        Event {
            log: Log::Security,
            time: t,
            system: audit(&self.computer, 4624, 2, 12544, self.pids.lsass, tid),
            data: fields(vec![
                ("SubjectUserSid", sid(subject_sid)),
                ("SubjectUserName", s(sub_name)),
                ("SubjectDomainName", s(sub_dom)),
                ("SubjectLogonId", DataValue::HexInt64(sub_logon)),
                ("TargetUserSid", sid(&target.sid)),
                ("TargetUserName", s(&target.name)),
                ("TargetDomainName", s(&target.domain)),
                ("TargetLogonId", DataValue::HexInt64(target.logon_id)),
                ("LogonType", DataValue::UInt32(logon_type)),
                (
                    "LogonProcessName",
                    s(if ntlm {
                        "NtLmSsp "
                    } else if network {
                        "Kerberos"
                    } else {
                        "Advapi  "
                    }),
                ),
                (
                    "AuthenticationPackageName",
                    s(if ntlm {
                        "NTLM"
                    } else if network {
                        "Kerberos"
                    } else {
                        "Negotiate"
                    }),
                ),
                ("WorkstationName", s(workstation)),
                ("LogonGuid", DataValue::Guid(logon_guid)),
                ("TransmittedServices", s("-")),
                ("LmPackageName", s(if ntlm { "NTLM V2" } else { "-" })),
                ("KeyLength", DataValue::UInt32(if ntlm { 128 } else { 0 })),
                ("ProcessId", DataValue::SizeT(process_id)),
                ("ProcessName", s(process)),
                ("IpAddress", s(ip)),
                (
                    "IpPort",
                    s(if ip == "-" {
                        "-".to_string()
                    } else {
                        port.to_string()
                    }),
                ),
                ("ImpersonationLevel", s("%%1833")),
                ("RestrictedAdminMode", s("-")),
                ("TargetOutboundUserName", s("-")),
                ("TargetOutboundDomainName", s("-")),
                ("VirtualAccount", s("%%1843")),
                ("TargetLinkedLogonId", DataValue::HexInt64(0)),
                (
                    "ElevatedToken",
                    s(if network { "%%1842" } else { "%%1843" }),
                ),
            ]),
        }
    }

    /// 4634 logoff.
    pub fn logoff(&self, t: Timestamp, target: &Account, logon_type: u32, tid: u32) -> Event {
        Event {
            log: Log::Security,
            time: t,
            system: audit(&self.computer, 4634, 0, 12545, self.pids.lsass, tid),
            data: fields(vec![
                ("TargetUserSid", sid(&target.sid)),
                ("TargetUserName", s(&target.name)),
                ("TargetDomainName", s(&target.domain)),
                ("TargetLogonId", DataValue::HexInt64(target.logon_id)),
                ("LogonType", DataValue::UInt32(logon_type)),
            ]),
        }
    }

    /// 4648 "A logon was attempted using explicit credentials": logged on the host where a
    /// process of `who`'s session (`process`) used `target`'s credentials towards `server`.
    #[allow(clippy::too_many_arguments)]
    pub fn explicit_logon(
        &self,
        t: Timestamp,
        who: &Account,
        target: &Account,
        server: &str,
        process_id: u64,
        process: &str,
        tid: u32,
    ) -> Event {
        Event {
            log: Log::Security,
            time: t,
            system: audit(&self.computer, 4648, 0, 12544, self.pids.lsass, tid),
            data: fields_with_subject(
                who,
                vec![
                    ("LogonGuid", DataValue::Guid(Guid([0; 16]))),
                    ("TargetUserName", s(&target.name)),
                    ("TargetDomainName", s(&target.domain)),
                    ("TargetLogonGuid", DataValue::Guid(Guid([0; 16]))),
                    ("TargetServerName", s(server)),
                    ("TargetInfo", s(server)),
                    ("ProcessId", DataValue::SizeT(process_id)),
                    ("ProcessName", s(process)),
                    ("IpAddress", s("-")),
                    ("IpPort", s("-")),
                ],
            ),
        }
    }

    /// 4672 special privileges assigned to a new logon.
    pub fn special_logon(&self, t: Timestamp, who: &Account, tid: u32) -> Event {
        Event {
            log: Log::Security,
            time: t,
            system: audit(&self.computer, 4672, 0, 12548, self.pids.lsass, tid),
            data: fields_with_subject(
                who,
                vec![(
                    "PrivilegeList",
                    s(
                        "SeSecurityPrivilege\r\n\t\t\tSeBackupPrivilege\r\n\t\t\tSeRestorePrivilege\r\n\t\t\tSeTakeOwnershipPrivilege\r\n\t\t\tSeDebugPrivilege\r\n\t\t\tSeSystemEnvironmentPrivilege\r\n\t\t\tSeLoadDriverPrivilege\r\n\t\t\tSeImpersonatePrivilege\r\n\t\t\tSeDelegateSessionUserImpersonatePrivilege",
                    ),
                )],
            ),
        }
    }

    /// 4688 process creation (version 2).
    #[allow(clippy::too_many_arguments)]
    pub fn process(
        &self,
        t: Timestamp,
        who: &Account,
        new_pid: u64,
        image: &str,
        command_line: &str,
        parent_pid: u64,
        parent_image: &str,
        tid: u32,
    ) -> Event {
        Event {
            log: Log::Security,
            time: t,
            system: audit(&self.computer, 4688, 2, 13312, self.pids.lsass, tid),
            data: fields_with_subject(
                who,
                vec![
                    ("NewProcessId", DataValue::SizeT(new_pid)),
                    ("NewProcessName", s(image)),
                    ("TokenElevationType", s("%%1936")),
                    ("ProcessId", DataValue::SizeT(parent_pid)),
                    ("CommandLine", s(command_line)),
                    ("TargetUserSid", sid("S-1-0-0")),
                    ("TargetUserName", s("-")),
                    ("TargetDomainName", s("-")),
                    ("TargetLogonId", DataValue::HexInt64(0)),
                    ("ParentProcessName", s(parent_image)),
                    ("MandatoryLabel", sid("S-1-16-16384")),
                ],
            ),
        }
    }

    /// 4697 "A service was installed in the system" (Security; numeric type and start).
    pub fn svc_installed_audit(
        &self,
        t: Timestamp,
        svc: &ServiceSpec,
        who: &Account,
        tid: u32,
    ) -> Event {
        Event {
            log: Log::Security,
            time: t,
            system: audit(&self.computer, 4697, 0, 12289, self.pids.lsass, tid),
            data: fields_with_subject(
                who,
                vec![
                    ("ServiceName", s(&svc.name)),
                    ("ServiceFileName", s(&svc.image)),
                    ("ServiceType", DataValue::HexInt32(svc.service_type)),
                    ("ServiceStartType", DataValue::UInt32(svc.start_type)),
                    ("ServiceAccount", s(&svc.account)),
                ],
            ),
        }
    }

    /// 4674 from services.exe: an operation on a privileged SCM object. `mask` is the
    /// `%%`-code list (each code followed by `\r\n\t\t\t\t`, the list by `\r\n\t\t`).
    #[allow(clippy::too_many_arguments)]
    pub fn scm_privileged_op(
        &self,
        t: Timestamp,
        who: &Account,
        object_type: &str,
        object_name: &str,
        mask: &[u32],
        handle: u64,
        tid: u32,
    ) -> Event {
        let mut access = String::new();
        for (i, code) in mask.iter().enumerate() {
            if i > 0 {
                access.push_str("\r\n\t\t\t\t");
            }
            access.push_str(&format!("%%{code}"));
        }
        access.push_str("\r\n\t\t");
        Event {
            log: Log::Security,
            time: t,
            system: audit(&self.computer, 4674, 0, 13056, self.pids.lsass, tid),
            data: fields_with_subject(
                who,
                vec![
                    ("ObjectServer", s("SC Manager")),
                    ("ObjectType", s(object_type)),
                    ("ObjectName", s(object_name)),
                    ("HandleId", DataValue::SizeT(handle)),
                    ("AccessMask", s(access)),
                    ("PrivilegeList", s("SeTakeOwnershipPrivilege")),
                    ("ProcessId", DataValue::SizeT(u64::from(self.pids.services))),
                    ("ProcessName", s(r"C:\Windows\System32\services.exe")),
                ],
            ),
        }
    }

    /// 5140 a network share object was accessed.
    pub fn share_access(
        &self,
        t: Timestamp,
        who: &Account,
        ip: &str,
        port: u16,
        share: &str,
        tid: u32,
    ) -> Event {
        Event {
            log: Log::Security,
            time: t,
            system: audit(&self.computer, 5140, 1, 12808, self.pids.system, tid),
            data: fields_with_subject(
                who,
                vec![
                    ("ObjectType", s("File")),
                    ("IpAddress", s(ip)),
                    ("IpPort", s(port.to_string())),
                    ("ShareName", s(format!(r"\\*\{share}"))),
                    ("ShareLocalPath", s(share_path(share))),
                    ("AccessMask", DataValue::HexInt32(1)),
                    ("AccessList", s("%%4416\r\n\t\t\t\t")),
                ],
            ),
        }
    }

    /// 5145 a network share object was checked (a file or pipe on the share).
    #[allow(clippy::too_many_arguments)]
    pub fn share_check(
        &self,
        t: Timestamp,
        who: &Account,
        ip: &str,
        port: u16,
        share: &str,
        target: &str,
        write: bool,
        tid: u32,
    ) -> Event {
        let (mask, list) = if write {
            (
                0x0013_0197,
                "%%1538\r\n\t\t\t\t%%1541\r\n\t\t\t\t%%4416\r\n\t\t\t\t%%4417\r\n\t\t\t\t%%4418\r\n\t\t\t\t%%4419\r\n\t\t\t\t%%4420\r\n\t\t\t\t%%4423\r\n\t\t\t\t%%4424\r\n\t\t\t\t",
            )
        } else {
            (
                0x0012_019f,
                "%%1538\r\n\t\t\t\t%%1541\r\n\t\t\t\t%%4416\r\n\t\t\t\t%%4417\r\n\t\t\t\t%%4418\r\n\t\t\t\t%%4419\r\n\t\t\t\t%%4420\r\n\t\t\t\t%%4423\r\n\t\t\t\t",
            )
        };
        Event {
            log: Log::Security,
            time: t,
            system: audit(&self.computer, 5145, 0, 12811, self.pids.system, tid),
            data: fields_with_subject(
                who,
                vec![
                    ("ObjectType", s("File")),
                    ("IpAddress", s(ip)),
                    ("IpPort", s(port.to_string())),
                    ("ShareName", s(format!(r"\\*\{share}"))),
                    ("ShareLocalPath", s(share_path(share))),
                    ("RelativeTargetName", s(target)),
                    ("AccessMask", DataValue::HexInt32(mask)),
                    ("AccessList", s(list)),
                    ("AccessReason", s("-")),
                ],
            ),
        }
    }
}

/// The subject block every Security event opens with, then its own fields.
fn fields_with_subject(who: &Account, rest: Vec<(&str, DataValue)>) -> Vec<(String, DataValue)> {
    let mut pairs = vec![
        ("SubjectUserSid", sid(&who.sid)),
        ("SubjectUserName", s(&who.name)),
        ("SubjectDomainName", s(&who.domain)),
        ("SubjectLogonId", DataValue::HexInt64(who.logon_id)),
    ];
    pairs.extend(rest);
    fields(pairs)
}
