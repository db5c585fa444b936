//! What attribution looks at for one finding: its names and image path, and the named pipes and
//! share writes of its client around the creation (5145 on IPC$/ADMIN$, Sysmon 17/18).

use std::collections::HashMap;

use jiff::SignedDuration;

use crate::event::Event;
use crate::event::SaturatingTime;
use crate::lifecycle::{Lifecycle, Role, file_name, host_key, is_command_line};

/// How far before a creation a client's share activity is looked at (upload, then install).
const BEFORE: SignedDuration = SignedDuration::from_secs(60);
/// How far after (PsExec opens its pipes once the service runs).
const AFTER: SignedDuration = SignedDuration::from_secs(120);

/// One pipe or share-object access on a host.
struct ShareAccess<'a> {
    event: &'a Event,
    /// The pipe or file name, without a leading backslash.
    object: String,
    /// True for a named pipe (IPC$ or Sysmon), false for a file on a disk share.
    pipe: bool,
    /// True when the client wrote to it (5145 WriteData, `%%4417`).
    write: bool,
}

/// Every host's pipe and share-object accesses, in time order.
pub struct ShareIndex<'a> {
    by_host: HashMap<String, Vec<ShareAccess<'a>>>,
}

impl<'a> ShareIndex<'a> {
    /// Index the 5145 and Sysmon 17/18 events of a run.
    pub fn build(events: &'a [Event]) -> Self {
        let mut by_host: HashMap<String, Vec<ShareAccess<'a>>> = HashMap::new();
        for e in events {
            let access = match e.event_id {
                5145 => {
                    let share = e.field("ShareName").unwrap_or("");
                    let Some(object) = e.field_nonempty("RelativeTargetName") else {
                        continue;
                    };
                    ShareAccess {
                        event: e,
                        object: object.trim_start_matches('\\').to_string(),
                        pipe: share.to_ascii_uppercase().ends_with("IPC$"),
                        write: e
                            .field("AccessList")
                            .is_some_and(|a| a.split_whitespace().any(|t| t == "%%4417")),
                    }
                }
                17 | 18
                    if crate::event::channel::SYSMON.eq_ignore_ascii_case(&e.channel)
                        || e.provider.eq_ignore_ascii_case("Microsoft-Windows-Sysmon") =>
                {
                    let Some(pipe) = e.field_nonempty("PipeName") else {
                        continue;
                    };
                    ShareAccess {
                        event: e,
                        object: pipe.trim_start_matches('\\').to_string(),
                        pipe: true,
                        write: false,
                    }
                }
                _ => continue,
            };
            by_host
                .entry(host_key(&e.computer))
                .or_default()
                .push(access);
        }
        ShareIndex { by_host }
    }

    fn around(&self, f: &Lifecycle) -> impl Iterator<Item = &ShareAccess<'a>> {
        let (from, to) = (f.created.minus(BEFORE), f.created.plus(AFTER));
        let ip = f.logon.as_ref().and_then(|s| s.ip.clone());
        let sid = f.user.sid.clone();
        let image_file = file_name(&f.image_path).to_ascii_lowercase();
        self.by_host
            .get(&host_key(&f.computer))
            .into_iter()
            .flatten()
            .filter(move |a| a.event.time >= from && a.event.time <= to)
            .filter(move |a| match a.event.event_id {
                // A share access is the client's when it comes from its address or account.
                5145 => {
                    ip.as_deref()
                        .is_some_and(|ip| a.event.field("IpAddress") == Some(ip))
                        || sid
                            .as_deref()
                            .is_some_and(|sid| a.event.field("SubjectUserSid") == Some(sid))
                }
                // Sysmon names the process that made or opened the pipe: the service binary.
                _ => a
                    .event
                    .field("Image")
                    .is_some_and(|i| file_name(i).eq_ignore_ascii_case(&image_file)),
            })
    }
}

/// What the fingerprints test.
pub struct Observed<'a> {
    /// Service key name.
    pub name: &'a str,
    /// Display name ("" when unknown).
    pub display: &'a str,
    /// Image path as logged.
    pub image: &'a str,
    /// The image's file name without extension.
    pub image_stem: &'a str,
    /// Service type as logged.
    pub service_type: &'a str,
    /// Pipes the client opened around the creation.
    pub pipes: Vec<String>,
    /// Files the client wrote over a share before the creation.
    pub files_written: Vec<String>,
    /// What dated the removal.
    pub removed_by: Option<Role>,
    /// Auto-start service.
    pub auto_start: bool,
    /// A network logon is behind it.
    pub network_logon: bool,
    /// The image path is a command line.
    pub command_line: bool,
    /// The installing logon's authentication package, lower case (`ntlm`, `kerberos`, or
    /// empty).
    pub auth: String,
    /// Sysmon showed the new service's process connect to a pipe a user process created.
    pub pipe_impersonation: bool,
    /// What was changed, for a service reconfigured rather than created.
    pub reconfiguration: Option<&'a crate::lifecycle::Reconfiguration>,
}

impl<'a> Observed<'a> {
    /// Observe `f` with the share activity in `index`.
    pub fn of(f: &'a Lifecycle, index: &ShareIndex<'_>) -> Self {
        let image_stem = crate::lifecycle::file_stem(&f.image_path);
        let mut pipes = Vec::new();
        let mut files_written = Vec::new();
        for a in index.around(f) {
            let list = if a.pipe {
                &mut pipes
            } else if a.write && a.event.time <= f.created {
                &mut files_written
            } else {
                continue;
            };
            if !list.contains(&a.object) {
                list.push(a.object.clone());
            }
        }
        let start = f
            .start_type
            .as_deref()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        Observed {
            name: &f.service_name,
            display: f.display_name.as_deref().unwrap_or(""),
            image: &f.image_path,
            image_stem,
            service_type: f.service_type.as_deref().unwrap_or(""),
            pipes,
            files_written,
            removed_by: f.deletion_evidence,
            auto_start: start == "auto start" || start == "2",
            network_logon: f.logon.as_ref().is_some_and(|s| s.logon_type == Some(3)),
            command_line: is_command_line(&f.image_path),
            auth: f
                .logon
                .as_ref()
                .and_then(|s| s.auth.as_deref())
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase(),
            pipe_impersonation: f.evidence.iter().any(|e| e.role == Role::PipeConnected),
            reconfiguration: f.reconfiguration.as_ref(),
        }
    }
}
