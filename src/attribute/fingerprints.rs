//! The tool fingerprints, as data: one row per signal, each naming a tool, a weight and the
//! sentence that explains it. Adding a tool is adding rows (and a generated scenario and a test:
//! `svchunt-gen`'s `variants.rs` and `tests/detection/judgement.rs`).
//!
//! Every row was derived from the tool's public source *and its history* (the versions each
//! covers are in the comment above it; `docs/fingerprints.md` has the whole table): a row
//! matches what stayed constant across versions — the structure of a command line, a name a tool
//! never changed, the case of an environment variable it writes — and tolerates what varied
//! (file names, shares, `%COMPUTERNAME%` or `127.0.0.1`, the order of PowerShell switches).
//! Command lines are parsed by structure in [`shapes`]. PsExec and Cobalt Strike are closed
//! source: their rows follow their documentation and the shared corpus.

mod shapes;

use std::sync::LazyLock;

use regex::Regex;

use super::Tool;
use super::observe::Observed;
use crate::lifecycle::Role;

/// One signal: if `test` says so, `tool` gains `weight` and the returned sentence is a reason.
pub struct Rule {
    /// The tool this row speaks for.
    pub tool: Tool,
    /// 3 = decisive alone, 2 = strong, 1 = supporting; 5 = names the framework that drove
    /// another tool (Empire's launcher inside Invoke-SMBExec).
    pub weight: u8,
    /// The check; returns the reason when it holds.
    pub test: fn(&Observed<'_>) -> Option<String>,
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("valid fingerprint regex")
}

static PSEXEC_PIPE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^\\?(.+)-([^-\\]+)-(\d+)-(stdin|stdout|stderr)$"));
// Case matters: Impacket writes `%systemroot%`, Metasploit `%SYSTEMROOT%`, PsExec `%SystemRoot%`.
static IMPACKET_BINARY: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(%systemroot%|\\\\[^\\]+\\[^\\]+)\\[^\\]+\.exe$"));
static MSF_BINARY: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(%SYSTEMROOT%|[A-Z]:)\\[A-Za-z]{8}\.exe$"));
static CS_BINARY: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^\\\\127\.0\.0\.1\\ADMIN\$\\[a-z0-9]+\.exe$"));
static LETTERS: LazyLock<Regex> = LazyLock::new(|| re(r"^[A-Za-z]+$"));
static CME_HOSTED_BATCH: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^%COMSPEC% /Q /c \\\\[^\\]+\\[A-Za-z]+\\[A-Za-z]{6}\.bat$"));
static INVOKE_SMBEXEC_NAME: LazyLock<Regex> = LazyLock::new(|| re(r"^[A-Y]{20}$"));
static COVENANT_NAME: LazyLock<Regex> = LazyLock::new(|| re(r"^[A-Z0-9]{8}$"));
static TCHOPPER_SEGMENT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)get-service\s+"?seg\d+"?\s*\|\s*select\s+-expand\s+displayname\s*\|\s*out-file\s+-append\s+tmp_payload\.txt"#,
    )
});
static TCHOPPER_DECODER: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)certutil\s+-decode\s+-f\s+tmp_payload\.txt\s+\S+\.exe"));

fn name_is(o: &Observed<'_>, names: &[&str]) -> bool {
    [o.name, o.display, o.image_stem]
        .iter()
        .any(|n| names.iter().any(|want| n.eq_ignore_ascii_case(want)))
}

fn letters(s: &str, len: usize) -> bool {
    s.len() == len && LETTERS.is_match(s)
}

/// `len` letters, none twice (Python's `random.sample`, as CrackMapExec and NetExec draw).
fn distinct_letters(s: &str, len: usize) -> bool {
    let mut seen = std::collections::HashSet::new();
    letters(s, len) && s.chars().all(|c| seen.insert(c))
}

fn pipe_starting(o: &Observed<'_>, prefix: &str) -> Option<String> {
    o.pipes
        .iter()
        .find(|p| p.to_ascii_lowercase().starts_with(prefix))
        .map(|p| format!("named pipe {p} opened"))
}

fn file_of(path: &str) -> String {
    path.rsplit(['\\', '/'])
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase()
}

/// Every fingerprint row. Order breaks ties: more specific tools first.
pub static RULES: &[Rule] = &[
    // Sysinternals PsExec, v1.x–2.x (closed source; Sysinternals documentation): PSEXESVC,
    // `%SystemRoot%\PSEXESVC.exe`; `-r` renames service, binary and pipes (2.1+); pipes
    // `<service>-<client>-<pid>-stdin/stdout/stderr` (2.x, as the shared corpus shows).
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
            // `<service>-<client>-<pid>-stdin`: the client's name may hold hyphens itself
            // (DESKTOP-AB12CD), so the service's name is matched from the front.
            o.pipes.iter().find_map(|p| {
                let p = p.trim_start_matches('\\');
                if !PSEXEC_PIPE.is_match(p) {
                    return None;
                }
                let lower = p.to_ascii_lowercase();
                let starts = |prefix: &str| {
                    !prefix.is_empty()
                        && lower.starts_with(&format!("{}-", prefix.to_ascii_lowercase()))
                };
                if starts("PSEXESVC") {
                    Some(format!(
                        "pipe {p}: PsExec's <service>-<client>-<pid>-stdin naming"
                    ))
                } else if starts(o.name) || starts(o.image_stem) {
                    Some(format!(
                        "pipe {p}: PsExec's <service>-<client>-<pid>-stdin naming, renamed with -r"
                    ))
                } else {
                    None
                }
            })
        },
    },
    // PAExec 1.0–1.29 (poweradminllc/PAExec Remote.cpp GetRemoteServiceName, ConsoleRedir.cpp):
    // `PAExec-<pid>-<client>` (or `PAExec` with -noname), `<root>\<name>.exe -service`, pipes
    // `PAExecIn/Out/Err<client><pid>` and `<name>.exe`.
    Rule {
        tool: Tool::Paexec,
        weight: 3,
        test: |o| {
            (o.name.to_ascii_lowercase().starts_with("paexec-")
                || o.name.eq_ignore_ascii_case("PAExec"))
            .then(|| format!("service {}: PAExec's PAExec-<pid>-<host> naming", o.name))
        },
    },
    Rule {
        tool: Tool::Paexec,
        weight: 2,
        test: |o| {
            let lower = o.image.to_ascii_lowercase();
            (lower.contains("\\paexec") && lower.trim_end().ends_with(" -service"))
                .then(|| "binary PAExec….exe -service".into())
        },
    },
    Rule {
        tool: Tool::Paexec,
        weight: 2,
        test: |o| pipe_starting(o, "paexec"),
    },
    // RemCom (kavika13/RemCom RemCom.h): RemComSvc, "RemCom Service",
    // `%SystemRoot%\system32\RemComSvc.exe`.
    Rule {
        tool: Tool::Remcom,
        weight: 3,
        test: |o| {
            name_is(o, &["RemComSvc", "RemCom Service"])
                .then(|| "service RemComSvc: RemCom's service".into())
        },
    },
    // CSExec (malcomvetter/CSExec GlobalVars.cs): csexecsvc, "CSExec Service", the bare
    // `csexecsvc.exe`, pipe `csexecsvc`.
    Rule {
        tool: Tool::Csexec,
        weight: 3,
        test: |o| {
            name_is(o, &["csexecsvc", "CSExec Service"])
                .then(|| "service csexecsvc: CSExec's service".into())
        },
    },
    Rule {
        tool: Tool::Csexec,
        weight: 2,
        test: |o| pipe_starting(o, "csexecsvc"),
    },
    // winexe 1.x (2009–2013): winexesvc, pipe `ahexec`.
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
    // SharpExec (anthemtotheego/SharpExec ManageService.cs, 2018–2022): `Legit` / `Totes
    // Legit`; its smbexec mode writes to `\\<target>\C$\__LegitFile`.
    Rule {
        tool: Tool::Sharpexec,
        weight: 3,
        test: |o| {
            (o.name.eq_ignore_ascii_case("Legit")
                || o.display.to_ascii_lowercase().starts_with("totes legit"))
            .then(|| "service Legit / Totes Legit: SharpExec's defaults".into())
        },
    },
    Rule {
        tool: Tool::Sharpexec,
        weight: 3,
        test: |o| {
            o.image
                .contains("\\__LegitFile ")
                .then(|| "output to __LegitFile: SharpExec's smbexec mode".into())
        },
    },
    // Impacket smbexec.py 2013–2025 (fortra/impacket examples/smbexec.py and its history):
    // echo into a batch, run it, plain `del` (output `\Windows\Temp\__output` in 2013, then
    // `\\127.0.0.1\<share>\__output`, `\\%COMPUTERNAME%\…` from 2023-03, `__output_<8>` from
    // 2025-05; batch `%TEMP%\execute.bat`, then `%SYSTEMROOT%\<8>.bat` from 2023-02).
    Rule {
        tool: Tool::ImpacketSmbexec,
        weight: 3,
        test: |o| {
            let e = shapes::echo_batch(o.image)?;
            (!e.del_via_comspec).then(|| {
                format!(
                    "echo … ^> {} > {} & %COMSPEC% /Q /c {} & del: Impacket smbexec's command line",
                    e.output, e.batch, e.batch
                )
            })
        },
    },
    Rule {
        tool: Tool::ImpacketSmbexec,
        weight: 1,
        test: |o| {
            let e = shapes::echo_batch(o.image)?;
            file_of(&e.output)
                .starts_with("__output")
                .then(|| "output file __output…: Impacket smbexec's".into())
        },
    },
    Rule {
        tool: Tool::ImpacketSmbexec,
        weight: 2,
        test: |o| {
            name_is(o, &["BTOBTO"])
                .then(|| "service BTOBTO: Impacket smbexec's fixed name until 2023-05".into())
        },
    },
    // CrackMapExec 4–5 and NetExec (byt3bl33d3r/CrackMapExec, Pennyw0rth/NetExec
    // protocols/smb/smbexec.py, 2016–): the same echo-batch with `%COMSPEC% /Q /c del`, 6-letter
    // output and batch; CME 4's hosted batch `%COMSPEC% /Q /c \\<ip>\<share>\<6>.bat`; services
    // of 10 distinct letters (`random.sample`).
    Rule {
        tool: Tool::NetexecSmbexec,
        weight: 3,
        test: |o| {
            let e = shapes::echo_batch(o.image)?;
            e.del_via_comspec.then(|| {
                "echo-batch deleted through %COMSPEC% /Q /c del: CrackMapExec/NetExec smbexec's command line".into()
            })
        },
    },
    Rule {
        tool: Tool::NetexecSmbexec,
        weight: 3,
        test: |o| {
            CME_HOSTED_BATCH
                .is_match(o.image.trim())
                .then(|| "a batch hosted on the client's own share: CrackMapExec 4 smbexec".into())
        },
    },
    Rule {
        tool: Tool::NetexecSmbexec,
        weight: 2,
        test: |o| {
            (distinct_letters(o.name, 10) && o.image.trim_start().starts_with("%COMSPEC% /Q /c "))
                .then(|| {
                    "10 distinct letters running %COMSPEC% /Q /c: CrackMapExec/NetExec's service"
                        .into()
                })
        },
    },
    // Impacket psexec.py 2012–2025 (fortra/impacket impacket/examples/serviceinstall.py): 4
    // letters, `%systemroot%\<8 letters>.exe` (lower case; any name with -remote-binary-name,
    // 2019+; `\\<server>\<share>\…` for other shares), RemCom's pipes, removed at shell exit.
    Rule {
        tool: Tool::ImpacketPsexec,
        weight: 2,
        test: |o| {
            (IMPACKET_BINARY.is_match(o.image.trim())
                && !o.image_stem.eq_ignore_ascii_case(o.name)
                && !o.image.to_ascii_lowercase().contains("\\admin$\\"))
            .then(|| {
                "binary %systemroot%\\<name>.exe, lower case: Impacket psexec's uploaded RemCom"
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
    // Impacket services.py `create` (2014–): hRCreateServiceW's default start type is auto; a
    // Linux client (NTLM).
    Rule {
        tool: Tool::ImpacketServices,
        weight: 2,
        test: |o| {
            (o.auto_start && o.network_logon && !o.command_line && o.auth == "ntlm").then(|| "auto-start service created over an NTLM network logon (services.py create defaults to auto start)".into())
        },
    },
    // SharpSC (djhohnstein/SharpSC, Covenant's SharpSC task, 2019): CreateService with
    // SERVICE_AUTO_START from a Windows host (Kerberos), started by a later `action=start`.
    Rule {
        tool: Tool::Sharpsc,
        weight: 2,
        test: |o| {
            (o.auto_start && o.network_logon && !o.command_line && o.auth == "kerberos").then(|| "auto-start service created over a Kerberos network logon (SharpSC's create uses SERVICE_AUTO_START)".into())
        },
    },
    // Metasploit psexec (rapid7/metasploit-framework lib/msf/core/exploit/remote/smb/client/
    // psexec.rb, 2011–): 8-letter service, 16-letter display, `%SYSTEMROOT%\<8>.exe` (ADMIN$)
    // or `X:\<8>.exe` (X$); the 2011 module's `M…` display and type 0x110; the command target's
    // echo into `%SYSTEMDRIVE%\Windows\Temp\<8–16>.txt` started through `start`.
    Rule {
        tool: Tool::MetasploitPsexec,
        weight: 2,
        test: |o| {
            MSF_BINARY.is_match(o.image.trim()).then(|| {
                "binary %SYSTEMROOT%\\<8 random letters>.exe: Metasploit psexec's upload".into()
            })
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
        tool: Tool::MetasploitPsexec,
        weight: 3,
        test: |o| {
            let e = shapes::echo_start(o.image)?;
            e.output
                .to_ascii_lowercase()
                .starts_with("%systemdrive%\\windows\\temp\\")
                .then(|| "echo into %SYSTEMDRIVE%\\Windows\\Temp, started through start: Metasploit psexec's command target".into())
        },
    },
    // Metasploit's PowerShell launcher (rapid7/rex-powershell command.rb cmd_psh_payload, and
    // before 2016 lib/msf/core/exploit/powershell.rb): `%COMSPEC% /b /c start /b /min
    // powershell.exe` with `-nop -w hidden` and `-noni -c`/`-c`/`-e` in whatever order, often an
    // `[IntPtr]::Size` check.
    Rule {
        tool: Tool::MetasploitPsexecPsh,
        weight: 3,
        test: |o| {
            let p = shapes::ps_launch(o.image)?;
            (p.hidden_start && p.dot_exe && (p.has("-nop") || p.has("-noprofile")))
                .then(|| "%COMSPEC% /b /c start /b /min powershell.exe -nop …: Metasploit's PowerShell launcher".into())
        },
    },
    Rule {
        tool: Tool::MetasploitPsexecPsh,
        weight: 1,
        test: |o| {
            let p = shapes::ps_launch(o.image)?;
            (p.arch_check || p.has("-noni"))
                .then(|| "[IntPtr]::Size check or -noni: rex-powershell's wrapper".into())
        },
    },
    // Cobalt Strike 3.x–4.x (closed source; its manual and SigmaHQ's service rules): jump
    // psexec/psexec64's `\\127.0.0.1\ADMIN$\<random>.exe`; psexec_psh's `%COMSPEC% /b /c start
    // /b /min powershell -nop -w hidden -encodedcommand` (no `.exe`, the long switch).
    Rule {
        tool: Tool::CobaltstrikePsexec,
        weight: 3,
        test: |o| {
            CS_BINARY
                .is_match(o.image.trim())
                .then(|| "binary \\\\127.0.0.1\\ADMIN$\\<random>.exe: Cobalt Strike's service binary (jump psexec, elevate svc-exe)".into())
        },
    },
    Rule {
        tool: Tool::CobaltstrikePsexecPsh,
        weight: 3,
        test: |o| {
            let p = shapes::ps_launch(o.image)?;
            (p.hidden_start && !p.dot_exe && p.has("-encodedcommand"))
                .then(|| "%COMSPEC% /b /c start /b /min powershell … -encodedcommand: Cobalt Strike jump psexec_psh".into())
        },
    },
    // PowerShell Empire 1.x–5.x (EmpireProject/Empire, BC-SECURITY/Empire listeners'
    // default launcher): `powershell -noP -sta -w 1 -enc`, whichever module carries it
    // (invoke_psexec through Invoke-PsExec, invoke_smbexec through Invoke-SMBExec).
    Rule {
        tool: Tool::Empire,
        weight: 5,
        test: |o| {
            let p = shapes::ps_launch(o.image)?;
            (p.has("-nop")
                && p.has("-sta")
                && p.has("-w")
                && p.has("1")
                && (p.has("-enc") || p.has("-e")))
            .then(|| "powershell -noP -sta -w 1 -enc: PowerShell Empire's launcher".into())
        },
    },
    // Invoke-SMBExec (Kevin-Robertson/Invoke-TheHash Invoke-SMBExec.ps1, 2017–2018): 20 letters
    // A–Y (Get-Random's maximum is exclusive), display = name, `%COMSPEC% /C "<command>"`.
    Rule {
        tool: Tool::InvokeSmbexec,
        weight: 2,
        test: |o| {
            (INVOKE_SMBEXEC_NAME.is_match(o.name) && (o.display.is_empty() || o.display == o.name))
                .then(|| "20 upper-case letters A–Y: Invoke-SMBExec's service name".into())
        },
    },
    Rule {
        tool: Tool::InvokeSmbexec,
        weight: 2,
        test: |o| {
            let i = o.image.trim();
            ((i.starts_with("%COMSPEC% /C \"") || i.starts_with('"'))
                && i.ends_with('"')
                && !i.contains("/b /c start"))
            .then(|| "the command wrapped in quotes after %COMSPEC% /C: Invoke-SMBExec".into())
        },
    },
    // Invoke-PsExec (HarmJ0y's Veil PowerTools, EmpireProject data/module_source/
    // lateral_movement/Invoke-PsExec.ps1, 2015–): `TestSVC` (Empire: `Updater`), -ResultFile's
    // echo into `%systemroot%\Temp\<12>.txt` started through `start`, -ServiceEXE at
    // `\\<target>\Admin$\<exe>`, Empire's `%COMSPEC% /C start /b`.
    Rule {
        tool: Tool::InvokePsexec,
        weight: 1,
        test: |o| {
            name_is(o, &["TestSVC", "Updater", "Updater32"])
                .then(|| format!("service {}: Invoke-PsExec's default names", o.name))
        },
    },
    Rule {
        tool: Tool::InvokePsexec,
        weight: 3,
        test: |o| {
            let e = shapes::echo_start(o.image)?;
            e.output
                .to_ascii_lowercase()
                .starts_with("%systemroot%\\temp\\")
                .then(|| "echo into %systemroot%\\Temp, started through start: Invoke-PsExec's -ResultFile".into())
        },
    },
    Rule {
        tool: Tool::InvokePsexec,
        weight: 2,
        test: |o| {
            let i = o.image.trim();
            (i.starts_with("%COMSPEC% /C start /b ")
                || (i.to_ascii_lowercase().contains("\\admin$\\")
                    && i.starts_with("\\\\")
                    && !CS_BINARY.is_match(i)))
            .then(|| {
                "%COMSPEC% /C start /b, or a binary run from \\\\<target>\\Admin$: Invoke-PsExec"
                    .into()
            })
        },
    },
    // Covenant (cobbr/Covenant PSExecCommand task, 2021; SharpSploit LateralMovement/SCM.cs
    // PSExec): 8 characters A–Z0–9, or SharpSploit / SharpSploit Service; Covenant's PowerShell
    // launcher `powershell -Sta -Nop -Window Hidden -EncodedCommand`.
    Rule {
        tool: Tool::CovenantPsexec,
        weight: 3,
        test: |o| {
            let p = shapes::ps_launch(o.image)?;
            (p.has("-sta") && p.has("-nop") && p.has("-window") && p.has("-encodedcommand")).then(
                || {
                    "powershell -Sta -Nop -Window Hidden -EncodedCommand: Covenant's launcher"
                        .into()
                },
            )
        },
    },
    Rule {
        tool: Tool::CovenantPsexec,
        weight: 3,
        test: |o| {
            name_is(o, &["SharpSploit", "SharpSploit Service"])
                .then(|| "service SharpSploit: SharpSploit's PSExec defaults".into())
        },
    },
    Rule {
        tool: Tool::CovenantPsexec,
        weight: 1,
        test: |o| {
            (COVENANT_NAME.is_match(o.name) && o.name.chars().any(|c| c.is_ascii_digit()))
                .then(|| "8 characters A–Z0–9: Covenant's PSExecCommand name".into())
        },
    },
    // Sliver 1.4– (BishopFox/sliver client/command/exec/psexec.go): service `Sliver`, binary
    // `c:\windows\temp\<random>.exe` uploaded over C$.
    Rule {
        tool: Tool::SliverPsexec,
        weight: 3,
        test: |o| name_is(o, &["Sliver"]).then(|| "service Sliver: Sliver's psexec default".into()),
    },
    Rule {
        tool: Tool::SliverPsexec,
        weight: 1,
        test: |o| {
            o.image.starts_with("c:\\windows\\temp\\").then(|| {
                "binary under c:\\windows\\temp, lower case: Sliver's --binpath default".into()
            })
        },
    },
    // TChopper (lawrenceamer/TChopper chopper.lpr, 2021): base64 chunks smuggled in display
    // names of `seg<N>` services read back by Get-Service into tmp_payload.txt, then decoded by
    // `final_seg` with certutil.
    Rule {
        tool: Tool::Tchopper,
        weight: 3,
        test: |o| {
            TCHOPPER_SEGMENT
                .is_match(o.image)
                .then(|| "Get-Service seg<N> | select -Expand DisplayName | out-file -append tmp_payload.txt: TChopper".into())
        },
    },
    Rule {
        tool: Tool::Tchopper,
        weight: 3,
        test: |o| {
            TCHOPPER_DECODER
                .is_match(o.image)
                .then(|| "certutil -decode tmp_payload.txt: TChopper's final segment".into())
        },
    },
    // Reconfiguration tools (no service created). SCShell (Mr-Un1k0d3r/SCShell SCShell.c,
    // scshell.py, 2019–2023): ChangeServiceConfigA with SERVICE_DEMAND_START for the change and
    // for the revert, so a start type it changed is never changed back; from the network.
    Rule {
        tool: Tool::Scshell,
        weight: 3,
        test: |o| {
            let r = o.reconfiguration?;
            (o.network_logon && r.start_type_changes.len() <= 1).then(|| {
                "binary path borrowed over the network, start type left at demand start: SCShell's ChangeServiceConfigA"
                    .into()
            })
        },
    },
    // SharpNoPSExec (juliourena/SharpNoPSExec Program.cs, 2021): a stopped disabled or
    // manual LocalSystem service, set to demand start and then back to its start type.
    Rule {
        tool: Tool::Sharpnopsexec,
        weight: 3,
        test: |o| {
            let r = o.reconfiguration?;
            (o.network_logon && r.start_type_changes.len() >= 2).then(|| {
                "binary path borrowed over the network, start type set to demand start and restored: SharpNoPSExec"
                    .into()
            })
        },
    },
    // PowerUp Invoke-ServiceAbuse (PowerShellMafia/PowerSploit Privesc/PowerUp.ps1, 2016–2020,
    // also Empire's powerup modules): local, one command after the other (`net user john
    // Password123! /add`, `net localgroup Administrators john /add` by default).
    Rule {
        tool: Tool::Powerup,
        weight: 3,
        test: |o| {
            let r = o.reconfiguration?;
            let adds = r.temporary_image_paths.iter().any(|p| {
                let p = p.to_ascii_lowercase();
                (p.starts_with("net user ") || p.starts_with("net localgroup "))
                    && p.ends_with(" /add")
            });
            (!o.network_logon && adds).then(|| {
                "a local service's binary path borrowed for net user/localgroup … /add: PowerUp's Invoke-ServiceAbuse"
                    .into()
            })
        },
    },
    // getsystem (privilege escalation, not movement): a shell writing into a named pipe however
    // spelt, Meterpreter's rundll32 elevator, or Sysmon showing the pipe connected
    // (rapid7/metasploit-payloads priv/namedpipe.c 2010–; Cobalt Strike getsystem; Empire's
    // Get-System.ps1).
    Rule {
        tool: Tool::Getsystem,
        weight: 3,
        test: |o| {
            (crate::lifecycle::is_getsystem(o.image) || o.pipe_impersonation)
                .then(|| "named-pipe impersonation: a SYSTEM service writes into a pipe a user process serves (getsystem)".into())
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_shapes() {
        assert!(IMPACKET_BINARY.is_match(r"%systemroot%\qwErTyui.exe"));
        assert!(IMPACKET_BINARY.is_match(r"%systemroot%\svchost32.exe"));
        assert!(!IMPACKET_BINARY.is_match(r"%SYSTEMROOT%\qwErTyui.exe"));
        assert!(MSF_BINARY.is_match(r"%SYSTEMROOT%\qwErTyui.exe"));
        assert!(MSF_BINARY.is_match(r"C:\qwErTyui.exe"));
        assert!(CS_BINARY.is_match(r"\\127.0.0.1\ADMIN$\a1b2c3d.exe"));
        assert!(PSEXEC_PIPE.is_match(r"PSEXESVC-WEC01-956-stdin"));
        assert!(PSEXEC_PIPE.is_match(r"\svcupd-WEC01-4100-stderr"));
        assert!(CME_HOSTED_BATCH.is_match(r"%COMSPEC% /Q /c \\10.66.6.6\ABCDEF\xYzAbC.bat"));
        assert!(distinct_letters("aBcDeFgHiJ", 10));
        assert!(!distinct_letters("aaBcDeFgHi", 10));
        assert!(TCHOPPER_SEGMENT.is_match(r#"c:\windows\system32\cmd.exe /c powershell -command "Get-Service "seg12" | select -Expand DisplayName |out-file -append tmp_payload.txt""#));
    }
}
