//! Reading a service's command line for what it *does*, however it is spelt: which program it
//! runs, whether a shell writes into a named pipe (getsystem's impersonation bait), whether
//! rundll32 runs Meterpreter's elevator DLL, whether it hijacks an RDP session.
//!
//! Tools spell the same mechanism many ways (`cmd.exe /c echo x > \\.\pipe\x`,
//! `%COMSPEC% /C start %COMSPEC% /C "timeout /t 3 >nul&&echo x > \\.\pipe\x"`, `cmd /Q /C
//! "echo 1>"\\.\pipe\x""`, PowerShell's `Out-File \\.\pipe\x`), so the tests here look for the
//! mechanism's parts — a shell, a redirection or writer, a pipe path — not for one sample's bytes.

/// Prefixes of a local named pipe's path (`\\.\pipe\x`, `\\127.0.0.1\pipe\x`, `//./pipe/x`).
const PIPE_PREFIXES: &[&str] = &[
    r"\\.\pipe\",
    r"\\127.0.0.1\pipe\",
    r"\\localhost\pipe\",
    r"\\?\pipe\",
    "//./pipe/",
];

/// PowerShell's ways of writing to a path (cmdlets, their aliases and parameter, .NET).
const PS_WRITERS: &[&str] = &[
    "out-file",
    "set-content",
    "add-content",
    "-filepath",
    "writealltext",
    "writeallbytes",
    "namedpipeclientstream",
    "[io.file]",
    "system.io.file]",
];

/// The shells whose command lines are commands, not service binaries.
const SHELLS: &[&str] = &["cmd", "%comspec%", "powershell", "pwsh"];

/// The program a command line runs, lower-cased, without folder or extension (`cmd`,
/// `%comspec%`, `powershell`, `psexesvc`).
pub fn program(image: &str) -> String {
    let stem = super::super::names::file_stem(image).to_ascii_lowercase();
    stem.trim_matches('"').to_string()
}

/// Whether `image` runs a shell (cmd, `%COMSPEC%`, PowerShell), anywhere in it: a shell started
/// through `start` or `rundll32` still counts.
fn runs_shell(lower: &str) -> bool {
    SHELLS.contains(&program(lower).as_str())
        || lower
            .split(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '&' || c == '|')
            .any(|tok| {
                let tok = tok.trim_matches(|c: char| c == '(' || c == ')');
                let file = tok.rsplit(['\\', '/']).next().unwrap_or(tok);
                let stem = file.strip_suffix(".exe").unwrap_or(file);
                SHELLS.contains(&stem)
            })
}

/// The named pipe a shell command line writes into, if it does: a redirection (`>`, `>>`,
/// `1>`) or a PowerShell writer whose target is a local pipe path. The pipe's name is returned
/// without its prefix.
pub fn pipe_write(image: &str) -> Option<String> {
    let lower = image.to_ascii_lowercase();
    if !runs_shell(&lower) {
        return None;
    }
    let ps_writer = PS_WRITERS.iter().any(|w| lower.contains(w));
    for prefix in PIPE_PREFIXES {
        let mut from = 0;
        while let Some(at) = lower[from..].find(prefix).map(|i| i + from) {
            from = at + prefix.len();
            let before =
                lower[..at].trim_end_matches(|c: char| c.is_whitespace() || c == '"' || c == '\'');
            let redirected = before.ends_with('>');
            if redirected || ps_writer {
                let name: String = image[from..]
                    .chars()
                    .take_while(|c| {
                        !c.is_whitespace()
                            && !matches!(c, '"' | '\'' | '&' | '|' | ')' | ';' | '>' | '<')
                    })
                    .collect();
                if !name.is_empty() {
                    return Some(name);
                }
            }
        }
    }
    None
}

/// Whether `image` runs Meterpreter's elevator DLL through rundll32 (`rundll32.exe
/// C:\…\x.dll,a /p:x`): the `a` entry point and a `/p:` pipe argument, in whatever spacing.
pub fn rundll32_elevator(image: &str) -> bool {
    let lower = image.to_ascii_lowercase();
    let Some(at) = lower.find("rundll32") else {
        return false;
    };
    let rest = &lower[at..];
    let Some(dll) = rest.find(".dll") else {
        return false;
    };
    let after = rest[dll + 4..].trim_start_matches(|c: char| c == '"' || c.is_whitespace());
    let Some(entry) = after.strip_prefix(',') else {
        return false;
    };
    let entry = entry.trim_start();
    (entry.starts_with("a ") || entry.starts_with("a\t") || entry.starts_with("a\""))
        && entry.contains("/p:")
}

/// Whether `image` connects a console session to another (`tscon <id> /dest:…`): run as
/// SYSTEM through a service, it takes over another user's RDP session without their password.
pub fn rdp_hijack(image: &str) -> bool {
    let lower = image.to_ascii_lowercase();
    lower
        .split(|c: char| c.is_whitespace() || c == '"' || c == '&')
        .any(|t| {
            t == "tscon" || t == "tscon.exe" || t.ends_with("\\tscon.exe") || t.ends_with("\\tscon")
        })
        && lower.contains("/dest:")
}

/// Whether an image path is a command line (a shell, a script host, a LOLBin running
/// something), not a service binary.
pub fn is_command_line(image: &str) -> bool {
    const HOSTS: &[&str] = &[
        "cmd",
        "%comspec%",
        "powershell",
        "pwsh",
        "mshta",
        "wscript",
        "cscript",
        "rundll32",
        "regsvr32",
        "msbuild",
        "certutil",
        "bitsadmin",
        "net",
        "net1",
        "sc",
        "reg",
        "wmic",
        "schtasks",
        "bash",
        "wsl",
    ];
    let lower = image.to_ascii_lowercase();
    HOSTS.contains(&program(&lower).as_str()) || runs_shell(&lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipe_writes_however_spelt() {
        for (image, pipe) in [
            (r"cmd.exe /c echo eabsuk > \\.\pipe\eabsuk", "eabsuk"),
            (r"%COMSPEC% /c echo 559891bb017 > \\.\pipe\5e120a", "5e120a"),
            (
                r#"%COMSPEC% /C start %COMSPEC% /C "timeout /t 3 >nul&&echo TestSVC > \\.\pipe\TestSVC""#,
                "TestSVC",
            ),
            (
                r#"C:\Windows\System32\cmd.exe /D /Q /C "echo 1>"\\.\pipe\abcde"""#,
                "abcde",
            ),
            (r"cmd /c echo x>>\\127.0.0.1\pipe\p1", "p1"),
            (
                r#"powershell.exe -NoProfile -Command "'ok' | Out-File -FilePath \\.\pipe\deadbeef""#,
                "deadbeef",
            ),
            (r"pwsh -c Set-Content -Path \\.\pipe\q -Value 1", "q"),
            (
                r#"C:\WINDOWS\system32\cmd.exe /c "echo a > \\.\pipe\z" & exit"#,
                "z",
            ),
        ] {
            assert_eq!(pipe_write(image).as_deref(), Some(pipe), "{image}");
        }
        for image in [
            r"%COMSPEC% /Q /c echo cd ^> \\127.0.0.1\C$\__output 2^>^&1 > %TEMP%\execute.bat",
            r"C:\Program Files\Vendor\svc.exe --pipe \\.\pipe\vendor",
            r#"cmd /c type \\.\pipe\x"#,
        ] {
            assert_eq!(pipe_write(image), None, "{image}");
        }
    }

    #[test]
    fn rundll32_elevator_forms() {
        assert!(rundll32_elevator(
            r"rundll32.exe C:\Users\test\AppData\Local\Temp\tmexsn.dll,a /p:tmexsn"
        ));
        assert!(rundll32_elevator(
            r#"C:\Windows\System32\rundll32.exe "C:\Temp\x y.dll", a /p:abc"#
        ));
        assert!(!rundll32_elevator(
            r"rundll32.exe shell32.dll,Control_RunDLL desk.cpl"
        ));
        assert!(!rundll32_elevator(r"rundll32.exe x.dll,abc /p:1"));
    }

    #[test]
    fn rdp_hijacks() {
        assert!(rdp_hijack("cmd.exe /k tscon 1337 /dest:rdp-tcp#55"));
        assert!(rdp_hijack(
            r#"C:\Windows\System32\tscon.exe 2 /dest:console"#
        ));
        assert!(!rdp_hijack("cmd.exe /c echo tscon"));
    }

    #[test]
    fn command_lines_and_binaries() {
        assert!(is_command_line(
            r"%COMSPEC% /Q /c echo cd  ^> \\127.0.0.1\C$\__output"
        ));
        assert!(is_command_line(
            r#"c:\windows\system32\cmd.exe /c powershell -command "Get-Service""#
        ));
        assert!(is_command_line("net user john Password123! /add"));
        assert!(is_command_line(r#""powershell -noP -sta -w 1 -enc abc""#));
        assert!(!is_command_line(
            r"%SystemRoot%\system32\svchost.exe -k print"
        ));
        assert!(!is_command_line(
            r"C:\Windows\system32\dllhost.exe /Processid:{74600A00-7492-484F-9A3E-C510CC95F515}"
        ));
        assert!(!is_command_line(
            r#""C:\Program Files\Acme\netmon.exe" /service"#
        ));
        assert_eq!(program(r#""C:\Program Files\A\B.EXE" /x"#), "b");
    }
}
