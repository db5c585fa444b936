//! The tool fingerprints, as data: one row per signal, each naming a tool, a weight and the
//! sentence that explains it. Adding a tool is adding rows (and a test).
//!
//! Sources, checked against the tools' public code where it exists: Impacket `smbexec.py` (old
//! static `BTOBTO` with `\\127.0.0.1\C$\__output` and `%TEMP%\execute.bat`; since 2023 8 random
//! letters, `\\%COMPUTERNAME%\C$\__output` and `%SYSTEMROOT%\<8>.bat`), Impacket
//! `serviceinstall.py` (4-letter service, `%systemroot%\<8 letters>.exe`, RemCom pipes, removed on
//! exit), NetExec `smbexec.py` (10-letter service; 6-character output and `%TEMP%` batch names;
//! `%COMSPEC% /Q /c del`), Metasploit's psexec mixin (`%SYSTEMROOT%\<8 letters>.exe`, 16-letter
//! display name, removed at once), winexe (`winexesvc`, left installed), SigmaHQ's PAExec,
//! RemCom, CSExec and Cobalt Strike service rules. PsExec is closed source: its pipe naming
//! (`PSEXESVC-<client>-<pid>-stdin`) is as seen in real logs (the shared corpus).

use std::sync::LazyLock;

use regex::Regex;

use super::Tool;
use super::observe::Observed;
use crate::lifecycle::Role;

/// One signal: if `test` says so, `tool` gains `weight` and the returned sentence is a reason.
pub struct Rule {
    /// The tool this row speaks for.
    pub tool: Tool,
    /// 3 = decisive alone, 2 = strong, 1 = supporting.
    pub weight: u8,
    /// The check; returns the reason when it holds.
    pub test: fn(&Observed<'_>) -> Option<String>,
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("valid fingerprint regex")
}

static PSEXEC_PIPE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^\\?(.+)-([^-\\]+)-(\d+)-(stdin|stdout|stderr)$"));
static IMPACKET_SMBEXEC: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)echo .*\^> \\\\(%COMPUTERNAME%|127\.0\.0\.1)\\[a-z]\$\\__output.*> (%SYSTEMROOT%\\[a-z]{8}\.bat|%TEMP%\\execute\.bat)",
    )
});
static NETEXEC_SMBEXEC: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)echo .*\^> \\\\%COMPUTERNAME%\\[^\\]+\\[a-z0-9]{6} 2\^>\^&1 > %TEMP%\\[a-z0-9]{6}\.bat & %COMSPEC% /Q /c %TEMP%\\[a-z0-9]{6}\.bat & %COMSPEC% /Q /c del",
    )
});
// Case matters: Impacket writes `%systemroot%`, Metasploit `%SYSTEMROOT%`.
static IMPACKET_BINARY: LazyLock<Regex> = LazyLock::new(|| re(r"^%systemroot%\\[A-Za-z]{8}\.exe$"));
static MSF_BINARY: LazyLock<Regex> = LazyLock::new(|| re(r"^%SYSTEMROOT%\\[A-Za-z]{8}\.exe$"));
static MSF_PSH: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)^%COMSPEC% /b /c start /b /min powershell(\.exe)? -nop -w hidden -noni -c")
});
static CS_BINARY: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^\\\\127\.0\.0\.1\\ADMIN\$\\[a-z0-9]+\.exe$"));
static CS_PSH: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)^%COMSPEC% /b /c start /b /min powershell(\.exe)? -nop -w hidden -encodedcommand ")
});
static EMPIRE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)powershell(\.exe)? -noP -sta -w 1 -enc"));
static LETTERS: LazyLock<Regex> = LazyLock::new(|| re(r"^[A-Za-z]+$"));

fn name_is(o: &Observed<'_>, names: &[&str]) -> bool {
    [o.name, o.display, o.image_stem]
        .iter()
        .any(|n| names.iter().any(|want| n.eq_ignore_ascii_case(want)))
}

fn letters(s: &str, len: usize) -> bool {
    s.len() == len && LETTERS.is_match(s)
}

fn image_match(re: &Regex, o: &Observed<'_>, why: &str) -> Option<String> {
    re.is_match(o.image.trim()).then(|| why.to_string())
}

fn pipe_starting(o: &Observed<'_>, prefix: &str) -> Option<String> {
    o.pipes
        .iter()
        .find(|p| p.to_ascii_lowercase().starts_with(prefix))
        .map(|p| format!("named pipe {p} opened"))
}

/// Every fingerprint row. Order breaks ties: more specific tools first.
pub static RULES: &[Rule] = &[
    // Sysinternals PsExec (also renamed with -r: service, binary and pipes take the new name).
    Rule {
        tool: Tool::Psexec,
        weight: 3,
        test: |o| {
            name_is(o, &["PSEXESVC", "PsExec"])
                .then(|| "service PSEXESVC / PSEXESVC.exe: Sysinternals PsExec's service".into())
        },
    },
    Rule {
        tool: Tool::Psexec,
        weight: 3,
        test: |o| {
            o.pipes.iter().find_map(|p| {
            let c = PSEXEC_PIPE.captures(p)?;
            let prefix = c.get(1)?.as_str().trim_start_matches('\\');
            let renamed = !prefix.eq_ignore_ascii_case("PSEXESVC");
            (!renamed || prefix.eq_ignore_ascii_case(o.name) || prefix.eq_ignore_ascii_case(o.image_stem)).then(|| {
                if renamed {
                    format!("pipe {p}: PsExec's <service>-<client>-<pid>-stdin naming, renamed with -r")
                } else {
                    format!("pipe {p}: PsExec's <service>-<client>-<pid>-stdin naming")
                }
            })
        })
        },
    },
    // PAExec
    Rule {
        tool: Tool::Paexec,
        weight: 3,
        test: |o| {
            o.name
                .to_ascii_lowercase()
                .starts_with("paexec-")
                .then(|| format!("service {}: PAExec's PAExec-<pid>-<host> naming", o.name))
        },
    },
    Rule {
        tool: Tool::Paexec,
        weight: 2,
        test: |o| {
            o.image
                .to_ascii_lowercase()
                .contains("\\paexec-")
                .then(|| "binary PAExec-….exe".into())
        },
    },
    Rule {
        tool: Tool::Paexec,
        weight: 2,
        test: |o| pipe_starting(o, "paexec"),
    },
    // RemCom (standalone)
    Rule {
        tool: Tool::Remcom,
        weight: 3,
        test: |o| name_is(o, &["RemComSvc"]).then(|| "service RemComSvc: RemCom's service".into()),
    },
    // CSExec
    Rule {
        tool: Tool::Csexec,
        weight: 3,
        test: |o| name_is(o, &["csexecsvc"]).then(|| "service csexecsvc: CSExec's service".into()),
    },
    Rule {
        tool: Tool::Csexec,
        weight: 2,
        test: |o| pipe_starting(o, "csexecsvc"),
    },
    // winexe
    Rule {
        tool: Tool::Winexe,
        weight: 3,
        test: |o| name_is(o, &["winexesvc"]).then(|| "service winexesvc: winexe's service".into()),
    },
    Rule {
        tool: Tool::Winexe,
        weight: 2,
        test: |o| pipe_starting(o, "ahexec"),
    },
    // Impacket smbexec
    Rule {
        tool: Tool::ImpacketSmbexec,
        weight: 3,
        test: |o| {
            image_match(
                &IMPACKET_SMBEXEC,
                o,
                "echo … ^> \\\\…\\C$\\__output … .bat & del: Impacket smbexec's command line",
            )
        },
    },
    Rule {
        tool: Tool::ImpacketSmbexec,
        weight: 2,
        test: |o| {
            name_is(o, &["BTOBTO"])
                .then(|| "service BTOBTO: older Impacket smbexec's fixed name".into())
        },
    },
    // NetExec / CrackMapExec smbexec
    Rule {
        tool: Tool::NetexecSmbexec,
        weight: 3,
        test: |o| {
            image_match(
                &NETEXEC_SMBEXEC,
                o,
                "6-character output and %TEMP% batch names, del through %COMSPEC%: NetExec smbexec's command line",
            )
        },
    },
    Rule {
        tool: Tool::NetexecSmbexec,
        weight: 1,
        test: |o| {
            (letters(o.name, 10) && o.image.contains("%COMSPEC% /Q /c"))
                .then(|| "10-letter service running %COMSPEC% /Q /c".into())
        },
    },
    // Impacket psexec.py
    Rule {
        tool: Tool::ImpacketPsexec,
        weight: 2,
        test: |o| {
            (IMPACKET_BINARY.is_match(o.image.trim()) && !o.image_stem.eq_ignore_ascii_case(o.name))
                .then(|| {
                    "binary %systemroot%\\<8 random letters>.exe: Impacket psexec's uploaded RemCom"
                        .into()
                })
        },
    },
    Rule {
        tool: Tool::ImpacketPsexec,
        weight: 1,
        test: |o| {
            letters(o.name, 4).then(|| {
                format!(
                    "4-letter service name {}: Impacket psexec's default",
                    o.name
                )
            })
        },
    },
    Rule {
        tool: Tool::ImpacketPsexec,
        weight: 2,
        test: |o| pipe_starting(o, "remcom_"),
    },
    Rule {
        tool: Tool::ImpacketPsexec,
        weight: 1,
        test: |o| {
            (o.removed_by == Some(Role::DeleteCapableOpenLater))
                .then(|| "removed only when the shell exited (later DELETE-capable open)".into())
        },
    },
    // Impacket services.py
    Rule {
        tool: Tool::ImpacketServices,
        weight: 2,
        test: |o| {
            (o.auto_start && o.network_logon && !o.command_line).then(|| "auto-start service created over a network logon (services.py create defaults to auto start)".into())
        },
    },
    // Metasploit
    Rule {
        tool: Tool::MetasploitPsexec,
        weight: 2,
        test: |o| {
            image_match(
                &MSF_BINARY,
                o,
                "binary %SYSTEMROOT%\\<8 random letters>.exe: Metasploit psexec's upload",
            )
        },
    },
    Rule {
        tool: Tool::MetasploitPsexec,
        weight: 2,
        test: |o| {
            (letters(o.display, 16) && letters(o.name, 8)).then(|| {
                "8-letter service with a 16-letter display name: Metasploit psexec's defaults"
                    .into()
            })
        },
    },
    Rule {
        tool: Tool::MetasploitPsexec,
        weight: 2,
        test: |o| {
            (o.display.len() > 1
                && o.display.starts_with('M')
                && LETTERS.is_match(o.display)
                && o.service_type.contains("0x110"))
            .then(|| {
                "interactive service with an M… display name: the old Metasploit psexec module"
                    .into()
            })
        },
    },
    Rule {
        tool: Tool::MetasploitPsexecPsh,
        weight: 3,
        test: |o| {
            image_match(
                &MSF_PSH,
                o,
                "%COMSPEC% /b /c start /b /min powershell -nop -w hidden -noni -c: Metasploit psexec_psh",
            )
        },
    },
    // Cobalt Strike
    Rule {
        tool: Tool::CobaltstrikePsexec,
        weight: 3,
        test: |o| {
            image_match(
                &CS_BINARY,
                o,
                "binary \\\\127.0.0.1\\ADMIN$\\<random>.exe: Cobalt Strike jump psexec",
            )
        },
    },
    Rule {
        tool: Tool::CobaltstrikePsexecPsh,
        weight: 3,
        test: |o| {
            image_match(
                &CS_PSH,
                o,
                "%COMSPEC% /b /c start /b /min powershell -nop -w hidden -encodedcommand: Cobalt Strike jump psexec_psh",
            )
        },
    },
    // PowerShell Empire
    Rule {
        tool: Tool::Empire,
        weight: 3,
        test: |o| {
            image_match(
                &EMPIRE,
                o,
                "powershell -noP -sta -w 1 -enc: PowerShell Empire's launcher",
            )
        },
    },
    // getsystem (privilege escalation, not movement)
    Rule {
        tool: Tool::Getsystem,
        weight: 3,
        test: |o| {
            crate::lifecycle::is_getsystem(o.image)
                .then(|| "writes to a named pipe / loads a DLL the getsystem way".into())
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_shapes() {
        assert!(IMPACKET_SMBEXEC.is_match(r"%COMSPEC% /Q /c echo cd  ^> \\127.0.0.1\C$\__output 2^>^&1 > %TEMP%\execute.bat & %COMSPEC% /Q /c %TEMP%\execute.bat & del %TEMP%\execute.bat"));
        assert!(IMPACKET_SMBEXEC.is_match(r"%COMSPEC% /Q /c echo whoami ^> \\%COMPUTERNAME%\C$\__output 2^>^&1 > %SYSTEMROOT%\TQtkUbvS.bat & %COMSPEC% /Q /c %SYSTEMROOT%\TQtkUbvS.bat & del %SYSTEMROOT%\TQtkUbvS.bat"));
        let nxc = r"%COMSPEC% /Q /c echo whoami ^> \\%COMPUTERNAME%\C$\aBcDeF 2^>^&1 > %TEMP%\gHiJkL.bat & %COMSPEC% /Q /c %TEMP%\gHiJkL.bat & %COMSPEC% /Q /c del %TEMP%\gHiJkL.bat";
        assert!(NETEXEC_SMBEXEC.is_match(nxc));
        assert!(!IMPACKET_SMBEXEC.is_match(nxc));
        assert!(IMPACKET_BINARY.is_match(r"%systemroot%\qwErTyui.exe"));
        assert!(!IMPACKET_BINARY.is_match(r"%SYSTEMROOT%\qwErTyui.exe"));
        assert!(MSF_BINARY.is_match(r"%SYSTEMROOT%\qwErTyui.exe"));
        assert!(CS_BINARY.is_match(r"\\127.0.0.1\ADMIN$\a1b2c3d.exe"));
        assert!(EMPIRE.is_match(r"%COMSPEC% /C start /b C:\Windows\System32\WindowsPowershell\v1.0\powershell -noP -sta -w 1 -enc  SQBmACgA"));
        assert!(PSEXEC_PIPE.is_match(r"PSEXESVC-WEC01-956-stdin"));
        assert!(PSEXEC_PIPE.is_match(r"\svcupd-WEC01-4100-stderr"));
    }
}
