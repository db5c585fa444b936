//! What a lifecycle hunt reports: one [`Finding`] per service creation, the hosts' audit
//! [`Coverage`], and [`Campaign`]s of findings made in one burst.
//!
//! A finding is assembled once, at the end, from the values the stages before it produced: the
//! lifecycle (creation, evidence, removal, logon, verdict), its attribution (tool, command,
//! the client's trail), the allow-list's word on it, and the campaign it falls in. Nothing
//! later changes it. The JSON shape is documented in [`crate::emit`].

use jiff::Timestamp;
use serde::Serialize;

use crate::attribute::{Attribution, Confidence, Tool};
use crate::event::UserRef;
use crate::lifecycle::{Lifecycle, Logon, Role};

pub use crate::lifecycle::{Coverage, Evidence, Reconfiguration, Verdict};

/// One service creation and everything the logs say about its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What happened to the service: `creation` (7045/4697), or `reconfiguration` (an existing
    /// service's binary path changed, started and set back; see `reconfiguration`).
    pub kind: Kind,
    /// The host the service was installed on, as its log spells it.
    pub computer: String,
    /// The service's key name (`HKLM\System\CurrentControlSet\Services\<name>`), where known;
    /// otherwise the name the 7045 gives.
    pub service_name: String,
    /// The display name (7045's `ServiceName` is the display name), when it is known.
    pub display_name: Option<String>,
    /// The command line the service runs.
    pub image_path: String,
    /// Service type as logged (`user mode service`, `0x10`, `kernel mode driver`…).
    pub service_type: Option<String>,
    /// Start type as logged (`demand start`, `3`, `auto start`…).
    pub start_type: Option<String>,
    /// The account the service runs as (`LocalSystem`…).
    pub service_account: Option<String>,
    /// When it was installed (the earlier of its 7045 and 4697).
    pub created: Timestamp,
    /// When it was removed or stopped, by the best evidence (see `deletion_evidence`).
    pub deleted: Option<Timestamp>,
    /// Which evidence dates `deleted`; `None` when no removal was seen.
    pub deletion_evidence: Option<Role>,
    /// `deleted - created` in milliseconds (negative when the removal was logged first).
    pub lifetime_ms: Option<i64>,
    /// The judgement.
    pub verdict: Verdict,
    /// Why, in short sentences.
    pub verdict_reasons: Vec<String>,
    /// The tool that made it (`psexec`, `impacket-smbexec`, …, or `unknown`).
    pub tool: Tool,
    /// Why that tool, in short sentences.
    pub tool_reasons: Vec<String>,
    /// How sure: `high`, `medium` or `low`; `None` for an unknown tool.
    pub tool_confidence: Option<Confidence>,
    /// What it ran, decoded from the image path (base64 PowerShell, smbexec's echoed command).
    pub command: Option<String>,
    /// The burst this finding belongs to (same host, account and kind of command, seconds
    /// apart), as `<host>#<n>`; `None` when it stands alone.
    pub campaign: Option<String>,
    /// The installing account.
    pub user: UserRef,
    /// Where the installation came from, when the logs say.
    pub source: Option<Source>,
    /// Every event that speaks of this service, in time order, labelled.
    pub evidence: Vec<Evidence>,
    /// For a reconfiguration: the original and the temporary binary paths, when it was set back,
    /// the start-type changes made for it. (`image_path` is then the first temporary path.)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reconfiguration: Option<Reconfiguration>,
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A service created (7045, 4697).
    Creation,
    /// An existing service's binary path changed and set back (no service created).
    Reconfiguration,
}

impl Kind {
    /// The id used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Creation => "creation",
            Kind::Reconfiguration => "reconfiguration",
        }
    }
}

/// Where an installation came from: its logon, and the client's trail on the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// The installing logon session (`0x2990d17`), when the install names it.
    pub logon_id: Option<String>,
    /// 4624 `LogonType` (3 = network).
    pub logon_type: Option<u32>,
    /// The client address of the logon.
    pub ip: Option<String>,
    /// The client's workstation name, as the logon gives it.
    pub workstation: Option<String>,
    /// Authentication package (`Kerberos`, `NTLM`…).
    pub auth: Option<String>,
    /// When the logon happened.
    pub logon_time: Option<Timestamp>,
    /// The client's host name as a tool leaked it (PsExec's `PSEXESVC-<host>-<pid>-stdin` pipes).
    pub client_host: Option<String>,
    /// Named pipes the client opened on the host around the install (5145 on IPC$, Sysmon 17/18).
    pub pipes: Vec<String>,
    /// Files the client wrote over an admin share just before the install (5145).
    pub files_written: Vec<String>,
}

/// A burst of creations on one host by one account with the same kind of command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Campaign {
    /// `<computer>#<n>`, as the members' `campaign` field names it.
    pub id: String,
    /// The host.
    pub computer: String,
    /// How many of the reported findings are in it.
    pub size: usize,
    /// The first creation.
    pub first: Timestamp,
    /// The last creation.
    pub last: Timestamp,
    /// The members' tool.
    pub tool: Tool,
    /// The members' account.
    pub user: UserRef,
    /// A script smuggled through the members' names, reassembled and decoded.
    pub payload: Option<String>,
}

/// What a lifecycle hunt found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// One per creation, ordered by creation time, then computer, then service name.
    pub findings: Vec<Finding>,
    /// What each host's logs could show, by host.
    pub coverage: Vec<Coverage>,
    /// Bursts of findings.
    pub campaigns: Vec<Campaign>,
}

impl Finding {
    /// A stable id for this finding: the same creation gives the same id in every run and every
    /// output (Timesketch events, follow-mode updates), so that a SIEM or a case timeline can
    /// update its record. 16 hex digits of the SHA-256 of the host (as hosts are matched: first
    /// label, lower case), the service name (lower case) and the creation time in nanoseconds.
    pub fn id(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(crate::lifecycle::host_key(&self.computer).as_bytes());
        h.update([0]);
        h.update(self.service_name.to_lowercase().as_bytes());
        h.update([0]);
        h.update(self.created.as_nanosecond().to_le_bytes());
        h.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The finding told by a lifecycle and its attribution (in no campaign yet).
    pub fn assemble(lifecycle: Lifecycle, attribution: Attribution) -> Finding {
        let Lifecycle {
            computer,
            service_name,
            display_name,
            image_path,
            service_type,
            start_type,
            service_account,
            created,
            deleted,
            deletion_evidence,
            lifetime_ms,
            verdict,
            verdict_reasons,
            user,
            logon,
            evidence,
            reconfiguration,
        } = lifecycle;
        let Attribution {
            tool,
            confidence,
            reasons,
            command,
            client,
        } = attribution;
        let source = match (logon, client.is_empty()) {
            (None, true) => None,
            (logon, _) => {
                let Logon {
                    logon_id,
                    logon_type,
                    ip,
                    workstation,
                    auth,
                    logon_time,
                } = logon.unwrap_or_default();
                Some(Source {
                    logon_id,
                    logon_type,
                    ip,
                    workstation,
                    auth,
                    logon_time,
                    client_host: client.host,
                    pipes: client.pipes,
                    files_written: client.files_written,
                })
            }
        };
        Finding {
            kind: if reconfiguration.is_some() {
                Kind::Reconfiguration
            } else {
                Kind::Creation
            },
            computer,
            service_name,
            display_name,
            image_path,
            service_type,
            start_type,
            service_account,
            created,
            deleted,
            deletion_evidence,
            lifetime_ms,
            verdict,
            verdict_reasons,
            tool,
            tool_reasons: reasons,
            tool_confidence: confidence,
            command,
            campaign: None,
            user,
            source,
            evidence,
            reconfiguration,
        }
    }
}
