//! The behaviour variants svchunt must judge, one generated host each: every tool family in
//! the spellings of its versions, getsystem however it is written, local runs that must not be
//! called remote, services reconfigured rather than created, thin evidence, and the ordinary
//! installs that look odd. Each row names the tool and verdict svchunt should give and the
//! public source the behaviour was derived from (`docs/fingerprints.md` is the same table).

use std::path::Path;

use jiff::{SignedDuration, Timestamp};

mod builders;

use builders::*;

use super::events::{Event, Log};
use super::plans;
use super::reconfigure::{self, Reconfig};
use super::rng::Rng;
use super::tools::{self, Plan, Source, Target, Truth};
use super::{Config, Summary, domain_sid, people, target, write_host};
use crate::error::WriteError;

/// How a variant is made.
#[derive(Clone, Copy)]
pub enum Build {
    /// A tool family of [`tools::TOOLS`] in one of its versions (`None`: the current default).
    Tool(&'static str, Option<&'static str>),
    /// A plan written out here.
    Plan(fn(&Target, &mut Rng) -> Plan),
    /// A reconfiguration of an existing service.
    Reconfig(fn() -> Reconfig),
    /// Several services in a burst (TChopper).
    Burst(fn(&Target, &mut Rng) -> Vec<Plan>),
}

/// One behaviour variant.
#[derive(Clone, Copy)]
pub struct Variant {
    /// Stable id: `family/variant`.
    pub id: &'static str,
    /// The tool id svchunt should name (`unknown` for none).
    pub tool: &'static str,
    /// The verdict svchunt should give.
    pub verdict: &'static str,
    /// The public source it was derived from: repository, file, versions.
    pub source: &'static str,
    /// How it is made.
    pub build: Build,
    /// Whether the host keeps a Sysmon log (off: only the System and Security logs show it).
    pub sysmon: bool,
}

const fn tool(
    id: &'static str,
    family: &'static str,
    version: Option<&'static str>,
    verdict: &'static str,
    source: &'static str,
) -> Variant {
    Variant {
        id,
        tool: family,
        verdict,
        source,
        build: Build::Tool(family, version),
        sysmon: true,
    }
}

const fn custom(
    id: &'static str,
    tool: &'static str,
    verdict: &'static str,
    source: &'static str,
    build: Build,
) -> Variant {
    Variant {
        id,
        tool,
        verdict,
        source,
        build,
        sysmon: true,
    }
}

const REMOTE: &str = "remote-execution";
const LOCAL: &str = "local-execution";
const PRIVESC: &str = "privilege-escalation";
const SUSPICIOUS: &str = "suspicious";
const BENIGN: &str = "benign";

/// Every variant, in the order of the table in `docs/fingerprints.md`.
pub static VARIANTS: &[Variant] = &[
    // Sysinternals PsExec and its kin.
    tool(
        "psexec/default",
        "psexec",
        None,
        REMOTE,
        "Sysinternals PsExec documentation (v1.x–2.x); pipes as the shared corpus shows them",
    ),
    tool(
        "psexec/renamed",
        "psexec",
        Some("renamed (-r)"),
        REMOTE,
        "Sysinternals PsExec `-r` (v2.1+)",
    ),
    tool(
        "paexec/current",
        "paexec",
        None,
        REMOTE,
        "poweradminllc/PAExec Remote.cpp, stdafx.h (v1.27+, 2019–2025)",
    ),
    tool(
        "paexec/old",
        "paexec",
        Some("1.26 and older"),
        REMOTE,
        "poweradminllc/PAExec Remote.cpp @e120223 (2013–2019)",
    ),
    tool(
        "remcom/default",
        "remcom",
        None,
        REMOTE,
        "kavika13/RemCom RemCom.h, RemCom.cpp",
    ),
    tool(
        "csexec/default",
        "csexec",
        None,
        REMOTE,
        "malcomvetter/CSExec csexec/Program.cs, GlobalVars.cs",
    ),
    tool(
        "winexe/default",
        "winexe",
        None,
        REMOTE,
        "winexe 1.x (Andrzej Hajda 2009–2013) winexesvc; pth-toolkit",
    ),
    // Impacket.
    tool(
        "impacket-psexec/default",
        "impacket-psexec",
        None,
        REMOTE,
        "fortra/impacket examples/psexec.py, impacket/examples/serviceinstall.py (2012–2025)",
    ),
    tool(
        "impacket-psexec/remote-binary-name",
        "impacket-psexec",
        Some("-remote-binary-name"),
        REMOTE,
        "fortra/impacket e2fe6938 (2019-12, -remote-binary-name)",
    ),
    tool(
        "impacket-smbexec/2013",
        "impacket-smbexec",
        Some("2013"),
        REMOTE,
        "fortra/impacket examples/smbexec.py @9c6af783 (2013-04)",
    ),
    tool(
        "impacket-smbexec/2016",
        "impacket-smbexec",
        Some("2016"),
        REMOTE,
        "fortra/impacket examples/smbexec.py 375b9972..35cbac53 (2016-05 – 2023-02)",
    ),
    tool(
        "impacket-smbexec/powershell",
        "impacket-smbexec",
        Some("powershell"),
        REMOTE,
        "fortra/impacket 8b0293e1 (2021-03, -shell-type powershell)",
    ),
    tool(
        "impacket-smbexec/2023-admin-share",
        "impacket-smbexec",
        Some("2023-03 -share ADMIN$"),
        REMOTE,
        "fortra/impacket 35cbac53, 8247f347 (2023-02/03: random .bat, %COMPUTERNAME%)",
    ),
    tool(
        "impacket-smbexec/2023-random-name",
        "impacket-smbexec",
        Some("2023-05"),
        REMOTE,
        "fortra/impacket 8b3f9eff (2023-05, PR #1555: 8-letter service)",
    ),
    tool(
        "impacket-smbexec/2025",
        "impacket-smbexec",
        Some("2025"),
        REMOTE,
        "fortra/impacket 80c4dba1 (2025-05, __output_<8 letters>)",
    ),
    tool(
        "impacket-services/create",
        "impacket-services",
        None,
        REMOTE,
        "fortra/impacket examples/services.py; impacket/dcerpc/v5/scmr.py hRCreateServiceW defaults",
    ),
    // Metasploit.
    tool(
        "metasploit-psexec/native",
        "metasploit-psexec",
        None,
        REMOTE,
        "rapid7/metasploit-framework lib/msf/core/exploit/remote/smb/client/psexec.rb native_upload",
    ),
    tool(
        "metasploit-psexec/2011",
        "metasploit-psexec",
        Some("2011 module"),
        REMOTE,
        "rapid7/metasploit-framework modules/exploits/windows/smb/psexec.rb (2011)",
    ),
    tool(
        "metasploit-psexec/command",
        "metasploit-psexec",
        Some("command target"),
        REMOTE,
        "rapid7/metasploit-framework psexec.rb execute_command",
    ),
    tool(
        "metasploit-psexec-psh/current",
        "metasploit-psexec-psh",
        None,
        REMOTE,
        "rapid7/rex-powershell lib/rex/powershell/command.rb cmd_psh_payload (2017–)",
    ),
    tool(
        "metasploit-psexec-psh/encoded",
        "metasploit-psexec-psh",
        Some("encode_final_payload"),
        REMOTE,
        "rapid7/rex-powershell cmd_psh_payload PSH::encode_final_payload",
    ),
    tool(
        "metasploit-psexec-psh/2014",
        "metasploit-psexec-psh",
        Some("2014–2016"),
        REMOTE,
        "rapid7/metasploit-framework lib/msf/core/exploit/powershell.rb (2014–2016, before rex-powershell)",
    ),
    // Cobalt Strike.
    tool(
        "cobaltstrike-psexec/jump",
        "cobaltstrike-psexec",
        None,
        REMOTE,
        "Cobalt Strike manual: jump psexec/psexec64; SigmaHQ win_system_cobaltstrike_service_installs",
    ),
    tool(
        "cobaltstrike-psexec-psh/jump",
        "cobaltstrike-psexec-psh",
        None,
        REMOTE,
        "Cobalt Strike manual: jump psexec_psh; SigmaHQ win_system_cobaltstrike_service_installs",
    ),
    // CrackMapExec / NetExec.
    tool(
        "netexec-smbexec/cme4",
        "netexec-smbexec",
        Some("CrackMapExec 4 (hosted batch, 2016)"),
        REMOTE,
        "byt3bl33d3r/CrackMapExec cme/protocols/smb/smbexec.py @9fefd16 (v4, 2016)",
    ),
    tool(
        "netexec-smbexec/cme5",
        "netexec-smbexec",
        Some("CrackMapExec 5 (2021–2023)"),
        REMOTE,
        "byt3bl33d3r/CrackMapExec smbexec.py @f8bfe83 (2021–2023)",
    ),
    tool(
        "netexec-smbexec/nxc",
        "netexec-smbexec",
        None,
        REMOTE,
        "Pennyw0rth/NetExec nxc/protocols/smb/smbexec.py (2024–)",
    ),
    tool(
        "netexec-smbexec/no-output",
        "netexec-smbexec",
        Some("--no-output"),
        REMOTE,
        "Pennyw0rth/NetExec smbexec.py (retOutput false)",
    ),
    // PowerShell and .NET tooling.
    tool(
        "invoke-smbexec/comspec",
        "invoke-smbexec",
        None,
        REMOTE,
        "Kevin-Robertson/Invoke-TheHash Invoke-SMBExec.ps1 (2017–2018)",
    ),
    tool(
        "invoke-smbexec/no-comspec",
        "invoke-smbexec",
        Some("-CommandCOMSPEC N"),
        REMOTE,
        "Kevin-Robertson/Invoke-TheHash Invoke-SMBExec.ps1 -CommandCOMSPEC N",
    ),
    tool(
        "invoke-psexec/command",
        "invoke-psexec",
        None,
        REMOTE,
        "EmpireProject/Empire data/module_source/lateral_movement/Invoke-PsExec.ps1 (Veil PowerTools)",
    ),
    tool(
        "invoke-psexec/result-file",
        "invoke-psexec",
        Some("-ResultFile"),
        REMOTE,
        "Invoke-PsExec.ps1 -ResultFile",
    ),
    tool(
        "invoke-psexec/service-exe",
        "invoke-psexec",
        Some("-ServiceEXE"),
        REMOTE,
        "Invoke-PsExec.ps1 -ServiceEXE",
    ),
    custom(
        "empire/invoke_psexec",
        "empire",
        REMOTE,
        "BC-SECURITY/Empire modules/powershell/lateral_movement/invoke_psexec.py (launcher)",
        Build::Plan(empire_psexec),
    ),
    custom(
        "empire/invoke_smbexec",
        "empire",
        REMOTE,
        "BC-SECURITY/Empire modules/powershell/lateral_movement/invoke_smbexec.py (launcher)",
        Build::Plan(empire_smbexec),
    ),
    tool(
        "covenant-psexec/psexeccommand",
        "covenant-psexec",
        None,
        REMOTE,
        "cobbr/Covenant Data/Tasks/SharpSploit.LateralMovement.yaml PSExecCommand (2021)",
    ),
    tool(
        "covenant-psexec/sharpsploit",
        "covenant-psexec",
        Some("SharpSploit PSExec"),
        REMOTE,
        "cobbr/SharpSploit SharpSploit/LateralMovement/SCM.cs PSExec",
    ),
    tool(
        "sharpsc/create",
        "sharpsc",
        None,
        REMOTE,
        "djhohnstein/SharpSC Program.cs, PInvokeFunctions.cs (Covenant's SharpSC task)",
    ),
    tool(
        "sharpexec/psexec",
        "sharpexec",
        None,
        REMOTE,
        "anthemtotheego/SharpExec SharpExec/ManageService.cs PSExec",
    ),
    tool(
        "sharpexec/smbexec",
        "sharpexec",
        Some("smbexec"),
        REMOTE,
        "anthemtotheego/SharpExec SharpExec/ManageService.cs smbExec",
    ),
    tool(
        "sliver-psexec/default",
        "sliver-psexec",
        None,
        REMOTE,
        "BishopFox/sliver client/command/exec/psexec.go, implant/sliver/service/service_windows.go (2021–)",
    ),
    custom(
        "tchopper/chop-chop",
        "tchopper",
        REMOTE,
        "lawrenceamer/TChopper chopper.lpr (2021): seg<N> services, display names carry base64",
        Build::Burst(tchopper),
    ),
    // getsystem: named-pipe impersonation however spelt.
    tool(
        "getsystem/metasploit-namedpipe",
        "getsystem",
        None,
        PRIVESC,
        "rapid7/metasploit-payloads c/meterpreter/source/extensions/priv/namedpipe.c (technique 1)",
    ),
    custom(
        "getsystem/metasploit-dropper",
        "getsystem",
        PRIVESC,
        "rapid7/metasploit-payloads priv/namedpipe.c elevate_via_service_namedpipe2 (technique 2)",
        Build::Plan(msf_dropper),
    ),
    custom(
        "getsystem/cobaltstrike",
        "getsystem",
        PRIVESC,
        "Cobalt Strike blog 2014-04-02 'What happens when I type getsystem'; SigmaHQ proc_creation_win_hktl_meterpreter_getsystem",
        Build::Plan(cs_getsystem),
    ),
    custom(
        "getsystem/empire-get-system",
        "getsystem",
        PRIVESC,
        "EmpireProject/Empire data/module_source/privesc/Get-System.ps1 (HarmJ0y); atomic-red-team T1134.001",
        Build::Plan(empire_get_system),
    ),
    custom(
        "getsystem/respelt",
        "getsystem",
        PRIVESC,
        "same mechanism, other spelling: quoted, no spaces, switches reordered",
        Build::Plan(getsystem_respelt),
    ),
    custom(
        "getsystem/powershell",
        "getsystem",
        PRIVESC,
        "same mechanism written by PowerShell (Out-File into the pipe)",
        Build::Plan(getsystem_powershell),
    ),
    custom(
        "getsystem/pipe-mechanism",
        "getsystem",
        PRIVESC,
        "Sysmon 17/18: pipe created by a user process, connected by the new service's SYSTEM process",
        Build::Plan(getsystem_mechanism),
    ),
    Variant {
        sysmon: false,
        ..custom(
            "getsystem/no-sysmon",
            "getsystem",
            PRIVESC,
            "metasploit-payloads priv/namedpipe.c with only the System and Security logs",
            Build::Plan(msf_namedpipe_local),
        )
    },
    custom(
        "cobaltstrike/elevate-svc-exe",
        "cobaltstrike-psexec",
        PRIVESC,
        "Cobalt Strike manual: elevate svc-exe (service binary through \\\\127.0.0.1\\ADMIN$, local)",
        Build::Plan(cs_svc_exe),
    ),
    custom(
        "rdp-hijack/tscon",
        "unknown",
        PRIVESC,
        "atomic-red-team T1563.002 (sc create sesshijack binpath= \"cmd.exe /k tscon 1337 /dest:rdp-tcp#55\")",
        Build::Plan(rdp_hijack),
    ),
    // Local runs: proved local, not presumed remote.
    custom(
        "local/psexec-client",
        "psexec",
        LOCAL,
        "PsExec run on the host itself: Sysmon 1 OriginalFileName psexec.c",
        Build::Plan(local_psexec),
    ),
    custom(
        "local/psexec-renamed-client",
        "psexec",
        LOCAL,
        "a renamed PsExec client: OriginalFileName psexec.c survives the rename",
        Build::Plan(local_psexec_renamed),
    ),
    custom(
        "local/paexec-client",
        "paexec",
        LOCAL,
        "PAExec run on the host itself (OriginalFileName PAExec.exe)",
        Build::Plan(local_paexec),
    ),
    custom(
        "local/sc-create",
        "unknown",
        LOCAL,
        "sc.exe create … binPath= cmd /c … in 4688/Sysmon 1 seconds before",
        Build::Plan(local_sc),
    ),
    custom(
        "local/koadic-createservice",
        "unknown",
        LOCAL,
        "zerosum0x0/koadic data/implant/elevate/system_createservice.js (sc create/start/delete)",
        Build::Plan(koadic_createservice),
    ),
    custom(
        "local/rdp-logon",
        "unknown",
        LOCAL,
        "installing logon is RDP (4624 type 10)",
        Build::Plan(local_rdp_logon),
    ),
    custom(
        "local/sysmon-logon-id",
        "unknown",
        LOCAL,
        "installing logon's processes run in a desktop session (Sysmon LogonId, TerminalSessionId)",
        Build::Plan(local_session_only),
    ),
    Variant {
        sysmon: false,
        ..custom(
            "local/explicit-credentials",
            "psexec",
            LOCAL,
            "4648 by the installing session's PsExec client, 4688, no Sysmon",
            Build::Plan(local_explicit),
        )
    },
    // Reconfiguration of an existing service.
    custom(
        "reconfigure/scshell",
        "scshell",
        REMOTE,
        "Mr-Un1k0d3r/SCShell SCShell.c, scshell.py (ChangeServiceConfigA, XblAuthManager)",
        Build::Reconfig(scshell),
    ),
    custom(
        "reconfigure/sharpnopsexec",
        "sharpnopsexec",
        REMOTE,
        "juliourena/SharpNoPSExec Program.cs (disabled LocalSystem service, start type restored)",
        Build::Reconfig(sharpnopsexec),
    ),
    custom(
        "reconfigure/powerup-serviceabuse",
        "powerup",
        PRIVESC,
        "PowerShellMafia/PowerSploit Privesc/PowerUp.ps1 Invoke-ServiceAbuse (john / Password123!)",
        Build::Reconfig(powerup),
    ),
    // Thin evidence is not "ordinary install".
    custom(
        "thin/bare-file-name",
        "unknown",
        SUSPICIOUS,
        "no installer writes a bare file name",
        Build::Plan(thin_bare),
    ),
    custom(
        "thin/drive-root",
        "unknown",
        SUSPICIOUS,
        "a service binary off the root of a drive",
        Build::Plan(thin_root),
    ),
    custom(
        "thin/tools-folder",
        "unknown",
        SUSPICIOUS,
        "a service binary in a tools folder",
        Build::Plan(thin_tools),
    ),
    custom(
        "thin/network-never-started",
        "unknown",
        SUSPICIOUS,
        "created by a user over a network logon that opened svcctl, never started",
        Build::Plan(thin_network),
    ),
    custom(
        "thin/network-start-timeout",
        "unknown",
        REMOTE,
        "the same, and its start timed out (an execution signal)",
        Build::Plan(thin_network_timeout),
    ),
    custom(
        "thin/mimidrv",
        "unknown",
        SUSPICIOUS,
        "mimikatz's driver (gentilkiwi/mimikatz mimidrv; LOLDrivers malicious)",
        Build::Plan(thin_mimidrv),
    ),
    custom(
        "thin/wceservice",
        "unknown",
        SUSPICIOUS,
        "Windows Credential Editor's service (MITRE S0005)",
        Build::Plan(thin_wce),
    ),
    custom(
        "thin/loldriver-malicious",
        "unknown",
        SUSPICIOUS,
        "magicsword-io/LOLDrivers malicious (POORTRY)",
        Build::Plan(thin_poortry),
    ),
    custom(
        "thin/loldriver-vulnerable",
        "unknown",
        SUSPICIOUS,
        "magicsword-io/LOLDrivers vulnerable (RTCore64) dropped by a user",
        Build::Plan(thin_rtcore),
    ),
    // Ordinary installs that look odd.
    custom(
        "benign/defender-mpksl",
        "unknown",
        BENIGN,
        "Microsoft Defender's MpKsl<8 hex> driver from Definition Updates",
        Build::Plan(benign_mpksl),
    ),
    custom(
        "benign/gpu-driver",
        "unknown",
        BENIGN,
        "a GPU driver from the driver store",
        Build::Plan(benign_gpu),
    ),
    custom(
        "benign/hypervisor-driver",
        "unknown",
        BENIGN,
        "a Hyper-V integration driver",
        Build::Plan(benign_hyperv),
    ),
    custom(
        "benign/vendor-start-timeout",
        "unknown",
        BENIGN,
        "a vendor service whose first start timed out (7009/7000)",
        Build::Plan(benign_vendor_timeout),
    ),
    custom(
        "benign/vulnerable-driver-from-vendor",
        "unknown",
        BENIGN,
        "a LOLDrivers-listed name installed by the system from the driver folder",
        Build::Plan(benign_vbox),
    ),
];

/// The host a variant is written to (one host each).
pub fn host_of(index: usize) -> String {
    format!("VAR-{:03}", index + 1)
}

/// A lateral tool's plan in the version `version` names (`None`: the version whose plan
/// carries no variant label), drawing until that version comes up.
fn tool_plan(tool: &str, version: Option<&str>, t: &Target, src: &Source, rng: &mut Rng) -> Plan {
    for _ in 0..10_000 {
        let p = plans::plan(tool, &t.netbios, src, rng);
        if p.variant.as_deref() == version {
            return p;
        }
    }
    panic!("{tool} never drew version {version:?}")
}

/// Every variant's expected finding(s), as written.
#[derive(Debug, Clone)]
pub struct VariantTruth {
    /// The variant's index in [`VARIANTS`].
    pub index: usize,
    /// What was injected (several for a burst).
    pub truth: Vec<Truth>,
}

/// Write every variant to `out` (one host each, with `events_per_day` benign events around
/// it on 2024-05-06) and return what was injected.
pub fn generate(
    out: &Path,
    events_per_day: usize,
    seed: u64,
) -> Result<(Summary, Vec<VariantTruth>), WriteError> {
    let root = Rng::new(seed);
    let mut setup = root.fork(0x5e70);
    let dsid = domain_sid(&mut setup);
    let (users, sources) = people(&dsid);
    let peers = super::default_peers();
    let cfg = Config {
        hosts: VARIANTS.len(),
        days: 1,
        events_per_host_day: events_per_day,
        executions: 0,
        seed,
        sysmon: true,
        start: "2024-05-06T00:00:00Z".parse().expect("constant"),
    };
    let mut summary = Summary::default();
    let mut truths = Vec::new();
    for (i, v) in VARIANTS.iter().enumerate() {
        let mut t = target(i, &mut setup, &users);
        t.netbios = host_of(i);
        t.events.computer = format!("{}.corp.example", t.netbios);
        let mut rng = root.fork(1_000 + i as u64);
        let t0 = cfg.start + SignedDuration::from_hours(10);
        let mut events: Vec<Event> = Vec::new();
        let src = &sources
            [usize::from(matches!(v.build, Build::Tool(f, _) if super::source_for(f) == 1))];
        let truth = inject(v, &t, src, t0, &mut rng, &mut events);
        if !v.sysmon {
            events.retain(|e| e.log != Log::Sysmon);
        }
        let host_cfg = Config {
            sysmon: v.sysmon,
            ..cfg.clone()
        };
        let dir = out.join(&t.events.computer);
        let s = write_host(
            &host_cfg,
            &dir,
            &t,
            events,
            &users,
            &peers,
            root.fork(i as u64 + 1),
        )?;
        summary.files.extend(s.files);
        summary.records += s.records;
        summary.bytes += s.bytes;
        summary.truth.extend(truth.iter().cloned());
        truths.push(VariantTruth { index: i, truth });
    }
    Ok((summary, truths))
}

/// [`generate`], plus `truth.json` listing each variant's id, expected verdict and tool.
pub fn write(out: &Path, events_per_day: usize, seed: u64) -> Result<Summary, WriteError> {
    #[derive(serde::Serialize)]
    struct Row<'a> {
        variant: &'a str,
        source: &'a str,
        #[serde(flatten)]
        truth: &'a Truth,
    }
    let (summary, truths) = generate(out, events_per_day, seed)?;
    let rows: Vec<Row<'_>> = truths
        .iter()
        .flat_map(|vt| {
            let v = &VARIANTS[vt.index];
            vt.truth.iter().map(move |truth| Row {
                variant: v.id,
                source: v.source,
                truth,
            })
        })
        .collect();
    let mut json = serde_json::to_string_pretty(&serde_json::json!({
        "generator": "svchunt-gen --preset variants",
        "seed": seed,
        "variants": rows,
    }))
    .map_err(|e| WriteError::InvalidValue(e.to_string()))?;
    json.push('\n');
    std::fs::write(out.join("truth.json"), json)?;
    Ok(summary)
}

fn inject(
    v: &Variant,
    t: &Target,
    src: &Source,
    t0: Timestamp,
    rng: &mut Rng,
    out: &mut Vec<Event>,
) -> Vec<Truth> {
    let label = |mut truth: Truth| {
        truth.tool = v.tool.into();
        truth.verdict = v.verdict.into();
        truth
    };
    match v.build {
        Build::Tool(family, version) => {
            let p = tool_plan(family, version, t, src, rng);
            vec![label(tools::inject_plan(family, &p, t, src, t0, rng, out))]
        }
        Build::Plan(make) => {
            let p = make(t, rng);
            vec![label(tools::inject_plan(v.tool, &p, t, src, t0, rng, out))]
        }
        Build::Reconfig(make) => {
            vec![label(reconfigure::inject(&make(), t, src, t0, rng, out))]
        }
        Build::Burst(make) => make(t, rng)
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let at = t0 + SignedDuration::from_millis(1_500 * i as i64);
                label(tools::inject_plan(v.tool, p, t, src, at, rng, out))
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_ids_are_unique_and_name_their_source() {
        let mut ids: Vec<&str> = VARIANTS.iter().map(|v| v.id).collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n);
        assert!(VARIANTS.iter().all(|v| !v.source.is_empty()));
    }
}
