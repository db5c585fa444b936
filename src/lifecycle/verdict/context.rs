//! What a host's logs say around its installs, beyond the install's own evidence, gathered once
//! per host: client programs started on the host (Sysmon 1, 4688, PsExec's EULA key), the logon
//! sessions that ran programs on the host (Sysmon 1 `LogonId` in a desktop session, 4648), and
//! named pipes created and connected to (Sysmon 17/18).

use std::collections::HashMap;

use jiff::Timestamp;

use super::super::logon::normalise_logon_id;
use super::super::names::{file_name, is_sysmon};
use crate::event::Event;

/// A remote-execution client or service-creating command run on this host.
#[derive(Debug, Clone)]
pub struct ClientRun<'a> {
    /// The event that shows it.
    pub event: &'a Event,
    /// When it started.
    pub time: Timestamp,
    /// What it is, for a reason (`PsExec (OriginalFileName psexec.c)`).
    pub what: String,
    /// Its logon session, when logged.
    pub logon_id: Option<String>,
    /// Its account (SID or `DOMAIN\name`), when logged.
    pub account: Option<String>,
    /// The host it targets (`\\host` in its command line), when it names one.
    pub target: Option<String>,
}

/// A named pipe event (Sysmon 17 or 18).
#[derive(Debug, Clone)]
pub struct PipeEvent<'a> {
    /// The event.
    pub event: &'a Event,
    /// When.
    pub time: Timestamp,
    /// True for 18 (connected), false for 17 (created).
    pub connect: bool,
    /// The pipe's name, without a leading backslash, lower-cased.
    pub pipe: String,
    /// The process's file name, lower-cased.
    pub image: String,
    /// The process's account, as Sysmon writes it (`NT AUTHORITY\SYSTEM`), when logged.
    pub user: Option<String>,
}

/// A host's context for judging its installs.
#[derive(Debug, Default)]
pub struct HostContext<'a> {
    /// Client programs, in time order.
    pub clients: Vec<ClientRun<'a>>,
    /// Logon sessions seen running programs in a desktop session (Sysmon 1 with
    /// `TerminalSessionId` ≥ 1), with that session's number.
    pub desktop_sessions: HashMap<String, u32>,
    /// Logon sessions whose programs used explicit credentials (4648), with the event.
    pub explicit_logons: HashMap<String, &'a Event>,
    /// Pipe events, in time order.
    pub pipes: Vec<PipeEvent<'a>>,
}

/// Known clients by `OriginalFileName` (survives a rename) or file name: (name, what).
const CLIENTS: &[(&str, &str)] = &[
    ("psexec.c", "Sysinternals PsExec"),
    ("psexec.exe", "Sysinternals PsExec"),
    ("psexec64.exe", "Sysinternals PsExec"),
    ("paexec.exe", "PAExec"),
    ("remcom.exe", "RemCom"),
    ("csexec.exe", "CSExec"),
];

fn lower(e: &Event, field: &str) -> Option<String> {
    e.field_nonempty(field).map(str::to_ascii_lowercase)
}

/// `sc [\\host] create …` or `New-Service`: a service created from this host's command line.
fn creates_service(cmd: &str) -> Option<Option<String>> {
    let tokens: Vec<&str> = cmd
        .split(|c: char| c.is_whitespace() || c == '"')
        .filter(|t| !t.is_empty())
        .collect();
    let sc = tokens.iter().position(|t| {
        let f = t.rsplit('\\').next().unwrap_or(t);
        f == "sc" || f == "sc.exe"
    });
    if let Some(i) = sc {
        let mut rest = tokens[i + 1..].iter();
        let mut target = None;
        let mut verb = rest.next()?;
        if let Some(host) = verb.strip_prefix("\\\\") {
            target = Some(host.to_string());
            verb = rest.next()?;
        }
        return (*verb == "create" || *verb == "config").then_some(target);
    }
    (cmd.contains("new-service") || cmd.contains("installutil")).then_some(None)
}

impl<'a> HostContext<'a> {
    /// Gather the context from one host's events (time-ordered).
    pub fn build(host_events: &[&'a Event]) -> Self {
        let mut ctx = HostContext::default();
        for e in host_events {
            match e.event_id {
                1 if is_sysmon(e) => {
                    let image = lower(e, "Image").unwrap_or_default();
                    let original = lower(e, "OriginalFileName").unwrap_or_default();
                    let cmd = lower(e, "CommandLine").unwrap_or_default();
                    let logon = e.field("LogonId").and_then(normalise_logon_id);
                    if let Some(id) = &logon {
                        let session = e
                            .field("TerminalSessionId")
                            .and_then(|s| s.trim().parse::<u32>().ok())
                            .unwrap_or(0);
                        if session >= 1 && id != "0x3e7" {
                            ctx.desktop_sessions.entry(id.clone()).or_insert(session);
                        }
                    }
                    let account = e.field_nonempty("User").map(str::to_string);
                    ctx.add_client(e, &image, &original, &cmd, logon, account);
                }
                4688 => {
                    let image = lower(e, "NewProcessName").unwrap_or_default();
                    let cmd = lower(e, "CommandLine").unwrap_or_default();
                    let logon = e.field("SubjectLogonId").and_then(normalise_logon_id);
                    let account = e
                        .field_nonempty("SubjectUserSid")
                        .map(str::to_string)
                        .or_else(|| e.user.sid.clone());
                    ctx.add_client(e, &image, "", &cmd, logon, account);
                }
                4648 => {
                    if let Some(id) = e.field("SubjectLogonId").and_then(normalise_logon_id) {
                        ctx.explicit_logons.entry(id).or_insert(*e);
                    }
                }
                13 if is_sysmon(e) => {
                    let path = lower(e, "TargetObject").unwrap_or_default();
                    if path.contains("\\software\\sysinternals\\psexec")
                        && path.ends_with("\\eulaaccepted")
                    {
                        ctx.clients.push(ClientRun {
                            event: e,
                            time: e.time,
                            what:
                                "a PsExec client's first run as this user (Sysmon 13: EulaAccepted)"
                                    .into(),
                            logon_id: None,
                            account: None,
                            target: None,
                        });
                    }
                }
                17 | 18 if is_sysmon(e) => {
                    let Some(pipe) = lower(e, "PipeName") else {
                        continue;
                    };
                    ctx.pipes.push(PipeEvent {
                        event: e,
                        time: e.time,
                        connect: e.event_id == 18,
                        pipe: pipe.trim_start_matches('\\').to_string(),
                        image: file_name(e.field("Image").unwrap_or("")).to_ascii_lowercase(),
                        user: e.field_nonempty("User").map(str::to_string),
                    });
                }
                _ => {}
            }
        }
        ctx.clients.sort_by_key(|c| c.time);
        ctx
    }

    fn add_client(
        &mut self,
        e: &'a Event,
        image: &str,
        original: &str,
        cmd: &str,
        logon_id: Option<String>,
        account: Option<String>,
    ) {
        let time = e.time;
        let file = image.rsplit(['\\', '/']).next().unwrap_or(image);
        let known = CLIENTS
            .iter()
            .find(|(n, _)| *n == original)
            .map(|c| (c, true))
            .or_else(|| CLIENTS.iter().find(|(n, _)| *n == file).map(|c| (c, false)));
        let target = cmd
            .split_whitespace()
            .find_map(|t| t.trim_matches('"').strip_prefix("\\\\"))
            .map(|h| h.trim_end_matches('\\').to_string());
        if let Some(((_, what), by_original)) = known {
            let how = if by_original {
                format!("{what} (OriginalFileName {original}, run as {file})")
            } else {
                format!("{what} ({file})")
            };
            self.clients.push(ClientRun {
                event: e,
                time,
                what: how,
                logon_id,
                account,
                target,
            });
        } else if let Some(target) = creates_service(cmd) {
            self.clients.push(ClientRun {
                event: e,
                time,
                what: format!("a service created from this host's command line ({file})"),
                logon_id,
                account,
                target,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_creating_commands() {
        assert_eq!(
            creates_service(r#"sc.exe create upd binpath= "cmd.exe /c x""#),
            Some(None)
        );
        assert_eq!(
            creates_service(r"c:\windows\system32\sc.exe \\wks01 create x binpath= y"),
            Some(Some("wks01".into()))
        );
        assert_eq!(creates_service("sc.exe query"), None);
        assert_eq!(
            creates_service("powershell new-service -name x -binarypathname y"),
            Some(None)
        );
        assert_eq!(creates_service("scp file host:"), None);
    }
}
