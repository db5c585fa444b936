//! Benign background activity for one host and day: what a real System, Security and Sysmon
//! log is mostly made of, including the things a naive detector confuses with remote
//! execution (local driver/updater installs, per-user services installed by the machine
//! account at logon, 4674 DELETE-capable opens of the SC manager object, share access without
//! any install), and the installs that look odd but are ordinary Windows: Defender's
//! `MpKsl<8 hex>` driver loaded from each definition update (a new random name every time), GPU
//! drivers from the driver store, Hyper-V integration drivers, and vendor updaters whose first
//! start times out (7009 + 7000) because they are slow to report to the SCM.

use jiff::{SignedDuration, Timestamp};

use super::events::{Account, Event, ServiceSpec};
use super::rng::Rng;
use super::tools::Target;
use crate::record::Guid;

const CHURN: [&str; 14] = [
    "Windows Update",
    "Background Intelligent Transfer Service",
    "Windows Modules Installer",
    "WinHTTP Web Proxy Auto-Discovery Service",
    "Microsoft Store Install Service",
    "Windows Error Reporting Service",
    "Software Protection",
    "Delivery Optimization",
    "Network Setup Service",
    "Update Orchestrator Service",
    "Microsoft Edge Update Service (edgeupdate)",
    "Device Setup Manager",
    "Windows Defender Antivirus Network Inspection Service",
    "Application Information",
];

const PROCESSES: [(&str, &str); 8] = [
    (
        r"C:\Windows\System32\svchost.exe",
        r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule",
    ),
    (r"C:\Windows\System32\taskhostw.exe", "taskhostw.exe"),
    (
        r"C:\Windows\System32\conhost.exe",
        r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1",
    ),
    (
        r"C:\Windows\System32\wbem\WmiPrvSE.exe",
        r"C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding",
    ),
    (
        r"C:\Windows\System32\backgroundTaskHost.exe",
        r#""C:\Windows\system32\backgroundTaskHost.exe" -ServerName:CortanaUI.AppX8z9r6jm96hw4bsbneegw0kyxx296wr9t.mca"#,
    ),
    (
        r"C:\Program Files\Windows Defender\MpCmdRun.exe",
        r#""C:\Program Files\Windows Defender\MpCmdRun.exe" SignatureUpdate -ScheduleJob"#,
    ),
    (
        r"C:\Windows\System32\SearchProtocolHost.exe",
        r#""C:\Windows\system32\SearchProtocolHost.exe" Global\UsGthrFltPipeMssGthrPipe1_"#,
    ),
    (
        r"C:\Windows\System32\gpupdate.exe",
        "gpupdate.exe /target:computer",
    ),
];

/// Benign installs: (name, display, image, type, start, account).
const INSTALLS: [(&str, &str, &str, u32, u32, &str); 12] = [
    (
        "gupdate",
        "Google Update Service (gupdate)",
        r#""C:\Program Files (x86)\Google\Update\GoogleUpdate.exe" /svc"#,
        0x10,
        2,
        "LocalSystem",
    ),
    (
        "MicrosoftEdgeElevationService",
        "Microsoft Edge Elevation Service (MicrosoftEdgeElevationService)",
        r#""C:\Program Files (x86)\Microsoft\Edge\Application\125.0.2535.51\elevation_service.exe""#,
        0x10,
        3,
        "LocalSystem",
    ),
    (
        "VBoxSF",
        "VirtualBox Shared Folders",
        r"\SystemRoot\System32\drivers\VBoxSF.sys",
        0x2,
        1,
        "",
    ),
    (
        "AdobeARMservice",
        "Adobe Acrobat Update Service",
        r#""C:\Program Files (x86)\Common Files\Adobe\ARM\1.0\armsvc.exe""#,
        0x10,
        2,
        "LocalSystem",
    ),
    (
        "MozillaMaintenance",
        "Mozilla Maintenance Service",
        r#""C:\Program Files (x86)\Mozilla Maintenance Service\maintenanceservice.exe""#,
        0x10,
        3,
        "LocalSystem",
    ),
    (
        "rtport",
        "rtport",
        r"C:\Windows\SysWOW64\drivers\rtport.sys",
        0x1,
        3,
        "",
    ),
    (
        "edgeupdatem",
        "Microsoft Edge Update Service (edgeupdatem)",
        r#""C:\Program Files (x86)\Microsoft\EdgeUpdate\MicrosoftEdgeUpdate.exe" /medsvc"#,
        0x10,
        3,
        "LocalSystem",
    ),
    (
        "nvlddmkm",
        "nvlddmkm",
        r"\SystemRoot\System32\DriverStore\FileRepository\nv_dispig.inf_amd64_5e3b2f0c7a1d9e64\nvlddmkm.sys",
        0x1,
        3,
        "",
    ),
    (
        "igfxn",
        "igfxn",
        r"\SystemRoot\System32\DriverStore\FileRepository\iigd_dch.inf_amd64_0c6c2b4e1f3a8d17\igdkmdn64.sys",
        0x1,
        3,
        "",
    ),
    (
        "vmgencounter",
        "Hyper-V Generation Counter",
        r"\SystemRoot\System32\drivers\vmgencounter.sys",
        0x1,
        3,
        "",
    ),
    (
        "hvservice",
        "Hypervisor/Virtual Machine Support Driver",
        r"\SystemRoot\System32\drivers\hvservice.sys",
        0x1,
        3,
        "",
    ),
    (
        "NahimicService",
        "Nahimic service",
        r"C:\Windows\System32\NahimicService.exe",
        0x10,
        2,
        "LocalSystem",
    ),
];

/// Vendor services that time out on their first start (7009, then 7000): ordinary.
const SLOW_STARTERS: [(&str, &str, &str); 3] = [
    (
        "DellClientManagementService",
        "Dell Client Management Service",
        r#""C:\Program Files (x86)\Dell\UpdateService\ServiceShell.exe""#,
    ),
    (
        "LenovoVantageService",
        "Lenovo Vantage Service",
        r#""C:\Program Files (x86)\Lenovo\VantageService\4.1.12.0\LenovoVantageService.exe""#,
    ),
    (
        "HPAppHelperCap",
        "HP App Helper HSA Service",
        r#""C:\Windows\System32\DriverStore\FileRepository\hpcustomcapcomp.inf_amd64_2a5c0d4f7e9b1c36\x64\AppHelperCap.exe""#,
    ),
];

const PER_USER: [(&str, &str); 5] = [
    ("CDPUserSvc", "Connected Devices Platform User Service"),
    ("OneSyncSvc", "Sync Host"),
    ("WpnUserService", "Windows Push Notifications User Service"),
    ("PimIndexMaintenanceSvc", "Contact Data"),
    ("UnistoreSvc", "User Data Storage"),
];

/// Peers that log on over the network all day (file servers, DCs, management).
pub struct Peer {
    /// IP.
    pub ip: String,
    /// Host name.
    pub name: String,
}

/// Append about `n` benign events for `target` on the day starting at `day`.
pub fn day_noise(
    target: &Target,
    users: &[Account],
    peers: &[Peer],
    day: Timestamp,
    n: usize,
    rng: &mut Rng,
    out: &mut Vec<Event>,
) {
    let h = &target.events;
    let system = Account::system(&target.netbios, "CORP");
    let services_guid = Guid::from_fields(0xac06_1c88, 0x4701, 0x652f, [0x0b, 0, 0, 0, 0, 0, 2, 0]);
    let start = out.len();
    let day_ms = 86_400_000;
    let at = |rng: &mut Rng| day + SignedDuration::from_millis(rng.range(0, day_ms - 1));
    let tid = |rng: &mut Rng| rng.range(300, 9000) as u32;
    // Installs are rare: about one per 400 events, at least one a day on each host.
    let mut installs = 1 + n / 400;
    while out.len() - start < n {
        let t = at(rng);
        let roll = rng.below(100);
        if installs > 0 && roll < 2 {
            installs -= 1;
            benign_install(target, &system, users, t, rng, services_guid, out);
            continue;
        }
        match roll {
            0..=21 => {
                let name = *rng.pick(&CHURN);
                out.push(h.svc_state(t, name, "running", tid(rng)));
                let later = t + SignedDuration::from_millis(rng.range(2_000, 600_000));
                out.push(h.svc_state(later, name, "stopped", tid(rng)));
            }
            22..=23 => out.push(h.svc_start_changed(
                t,
                "Background Intelligent Transfer Service",
                "auto start",
                "demand start",
                "BITS",
                "S-1-5-18",
                tid(rng),
            )),
            24..=47 => {
                // A network logon from a peer (Kerberos), sometimes with share access.
                let peer = rng.pick(peers);
                let mut user = rng.pick(users).clone();
                user.logon_id = 0x0010_0000 + rng.below(0x0f00_0000);
                let guid =
                    Guid::from_fields(rng.next_u64() as u32, 1, 2, rng.next_u64().to_le_bytes());
                let port = rng.range(49152, 65000) as u16;
                out.push(h.logon(t, &user, 3, "Kerberos", "-", &peer.ip, port, guid, tid(rng)));
                if rng.chance(0.3) {
                    let share = *rng.pick(&["IPC$", "SYSVOL", "NETLOGON", "Users"]);
                    out.push(h.share_access(
                        t + SignedDuration::from_millis(3),
                        &user,
                        &peer.ip,
                        port,
                        share,
                        4,
                    ));
                    if share == "IPC$" {
                        let pipe = *rng.pick(&["lsarpc", "srvsvc", "wkssvc", "samr"]);
                        out.push(h.share_check(
                            t + SignedDuration::from_millis(5),
                            &user,
                            &peer.ip,
                            port,
                            share,
                            pipe,
                            false,
                            4,
                        ));
                    }
                }
                let off = t + SignedDuration::from_millis(rng.range(50, 30_000));
                out.push(h.logoff(off, &user, 3, tid(rng)));
            }
            48..=59 => {
                let mut svc_logon = system.clone();
                svc_logon.name = "SYSTEM".into();
                svc_logon.domain = "NT AUTHORITY".into();
                out.push(h.logon(
                    t,
                    &svc_logon,
                    5,
                    "Negotiate",
                    "-",
                    "-",
                    0,
                    Guid([0; 16]),
                    tid(rng),
                ));
                out.push(h.special_logon(t, &svc_logon, tid(rng)));
            }
            60..=74 => {
                let (img, cmd) = *rng.pick(&PROCESSES);
                let pid = rng.range(1000, 15000) as u64 & !3;
                out.push(h.process(
                    t,
                    &system,
                    pid,
                    img,
                    cmd,
                    u64::from(h.pids.services),
                    r"C:\Windows\System32\services.exe",
                    tid(rng),
                ));
            }
            75 => {
                // services.exe opening the SC manager with DELETE in the mask: no install.
                let mask = [1537, 1538, 1539, 7168, 7169, 7170];
                let handle = 0xffff_8000_0000_0000 | (rng.next_u64() & 0xffff_ffff_fff8);
                out.push(h.scm_privileged_op(
                    t,
                    &system,
                    "SC_MANAGER OBJECT",
                    "ServicesActive",
                    &mask,
                    handle,
                    tid(rng),
                ));
            }
            76..=89 => {
                let (img, cmd) = *rng.pick(&PROCESSES);
                let pid = rng.range(1000, 15000) as u32 & !3;
                let g = Guid::from_fields(
                    0xac06_1c88,
                    rng.below(65536) as u16,
                    0x652f,
                    rng.next_u64().to_le_bytes(),
                );
                out.push(h.sysmon_process(
                    t,
                    g,
                    pid,
                    img,
                    cmd,
                    r"NT AUTHORITY\SYSTEM",
                    services_guid,
                    h.pids.services,
                    r"C:\Windows\System32\services.exe",
                    tid(rng),
                ));
            }
            _ => {
                let user = rng.pick(users);
                let target_obj = format!(
                    r"HKLM\System\CurrentControlSet\Services\bam\State\UserSettings\{}\\Device\HarddiskVolume3\Windows\System32\{}",
                    user.sid,
                    rng.pick(&["notepad.exe", "cmd.exe", "mmc.exe", "explorer.exe"])
                );
                out.push(h.sysmon_reg_value(
                    t,
                    &target_obj,
                    "Binary Data",
                    services_guid,
                    tid(rng),
                ));
            }
        }
    }
}

/// A local install: 4697 and 7045 by SYSTEM (or a per-user service by the machine account at
/// a user's logon), with Sysmon's registry writes, and a 7036 if it starts.
fn benign_install(
    target: &Target,
    system: &Account,
    users: &[Account],
    t: Timestamp,
    rng: &mut Rng,
    services_guid: Guid,
    out: &mut Vec<Event>,
) {
    let h = &target.events;
    let tid = |rng: &mut Rng| rng.range(300, 9000) as u32;
    let roll = rng.below(100);
    let mut slow = false;
    let svc = if roll < 35 {
        let (base, display) = *rng.pick(&PER_USER);
        let suffix = rng.hex(5);
        let _ = users;
        ServiceSpec {
            name: format!("{base}_{suffix}"),
            display: format!("{display}_{suffix}"),
            image: r"C:\Windows\system32\svchost.exe -k UnistackSvcGroup".into(),
            service_type: 0xe0,
            start_type: 2,
            account: String::new(),
        }
    } else if roll < 55 {
        // Defender loads its kernel scanner under a new random name from each definition
        // update's folder.
        let name = format!("MpKsl{}", rng.hex(8));
        let folder = format!(
            "{}-{}-{}-{}-{}",
            rng.hex(8),
            rng.hex(4),
            rng.hex(4),
            rng.hex(4),
            rng.hex(12)
        )
        .to_uppercase();
        ServiceSpec {
            display: name.clone(),
            name,
            image: format!(
                r"C:\ProgramData\Microsoft\Windows Defender\Definition Updates\{{{folder}}}\MpKslDrv.sys"
            ),
            service_type: 0x1,
            start_type: 1,
            account: String::new(),
        }
    } else if roll < 62 {
        slow = true;
        let (name, display, image) = *rng.pick(&SLOW_STARTERS);
        ServiceSpec {
            name: name.into(),
            display: display.into(),
            image: image.into(),
            service_type: 0x10,
            start_type: 2,
            account: "LocalSystem".into(),
        }
    } else {
        let (name, display, image, ty, start, account) = *rng.pick(&INSTALLS);
        ServiceSpec {
            name: name.into(),
            display: display.into(),
            image: image.into(),
            service_type: ty,
            start_type: start,
            account: account.into(),
        }
    };
    out.push(h.svc_installed_audit(t, &svc, system, tid(rng)));
    out.push(h.svc_installed(
        t + SignedDuration::from_micros(300),
        &svc,
        "S-1-5-18",
        tid(rng),
    ));
    let key = format!(r"HKLM\System\CurrentControlSet\Services\{}", svc.name);
    out.push(h.sysmon_reg_key(t, "CreateKey", &key, services_guid, tid(rng)));
    out.push(h.sysmon_reg_value(
        t,
        &format!(r"{key}\ImagePath"),
        &svc.image,
        services_guid,
        tid(rng),
    ));
    if slow {
        let at = t + SignedDuration::from_millis(rng.range(100, 3000) + 30_000);
        out.push(h.svc_timeout(at, &svc.name, tid(rng)));
        out.push(h.svc_failed(
            at + SignedDuration::from_micros(400),
            &svc.display,
            tid(rng),
        ));
    } else if svc.service_type == 0x10 || svc.service_type == 0xe0 {
        out.push(h.svc_state(
            t + SignedDuration::from_millis(rng.range(100, 3000)),
            &svc.display,
            "running",
            tid(rng),
        ));
    }
}
