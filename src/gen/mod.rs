//! `rarity gen`: a reproducible synthetic fleet (Defender, Sentinel, Sysmon exports, an IPsum
//! feed and a GeoIP database) with planted findings for every hunt of `hunts.md`.
//!
//! Background traffic is drawn from a seeded PRNG in time order and streamed to disk; the
//! planted events (and the deterministic baselines some hunts need to stay quiet) are a small
//! sorted list merged into that stream, so memory stays constant for any event count.

pub mod fleet;
pub mod mmdb;
mod plant;
pub mod write;

use crate::model::ip::classify;
use crate::model::time::Nanos;
use fleet::{Device, Rng, P};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
pub use write::GenFormat;
use write::{Block, RowWriter, TimeForm};

pub const SEC: Nanos = 1_000_000_000;
pub const MINUTE: Nanos = 60 * SEC;
pub const HOUR: Nanos = 60 * MINUTE;
pub const DAY: Nanos = 24 * HOUR;

/// The default reference time (the last event): fixed so output is reproducible.
/// 2026-11-20T09:30:00Z.
pub const DEFAULT_END: Nanos = 1_795_167_000 * SEC;

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenOptions {
    /// Devices in the fleet (at least 20: 12 named servers and 8 workstations).
    pub devices: usize,
    /// Days of history (at least 14).
    pub days: u32,
    /// Network events over DeviceNetworkEvents, VMConnection and Sysmon, planted ones included.
    pub events: u64,
    pub seed: u64,
    pub format: GenFormat,
    /// Timestamp of the last event (hunts' default `now`).
    pub end: Nanos,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions { devices: 200, days: 30, events: 1_000_000, seed: 1, format: GenFormat::Csv, end: DEFAULT_END }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{0}")]
    Options(String),
}

/// One written file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenFile {
    pub path: PathBuf,
    /// Data rows (feed entries, database networks).
    pub rows: u64,
}

/// What `generate` wrote.
#[derive(Clone, Debug, Default)]
pub struct GenSummary {
    pub files: Vec<GenFile>,
    pub net_events: u64,
    pub vm_rows: u64,
    pub sysmon_rows: u64,
    pub devinfo_rows: u64,
    pub ti_entries: u64,
    pub planted_events: u64,
    /// The planted findings, one line per hunt finding.
    pub findings: Vec<String>,
}

/// A Defender network event.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NetEv {
    pub dev: u32,
    pub action: &'static str,
    pub remote: Option<IpAddr>,
    pub rport: Option<u16>,
    pub url: &'static str,
    pub lport: u16,
    pub proto: &'static str,
    pub proc_: P,
}

/// A VMConnection row.
#[derive(Clone, Copy, Debug)]
pub(crate) struct VmEv {
    pub dev: u32,
    pub outbound: bool,
    pub process: &'static str,
    pub remote: IpAddr,
    pub port: u16,
    pub proto: &'static str,
    /// ISO code, "" for private peers.
    pub country: &'static str,
    pub malicious: bool,
    pub sent: u64,
    pub received: u64,
}

/// A Sysmon event (Event ID 3, or 1 for a process start).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SysEv {
    pub dev: u32,
    pub eid: u8,
    pub proc_: P,
    pub initiated: bool,
    pub remote: IpAddr,
    pub rport: u16,
    pub lport: u16,
    pub host: &'static str,
    pub proto: &'static str,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Ev {
    Net(NetEv),
    Vm(VmEv),
    Sys(SysEv),
}

pub(crate) const TCP: &str = "Tcp";
pub(crate) const OK: &str = "ConnectionSuccess";
pub(crate) const INBOUND: &str = "InboundConnectionAccepted";

const NET_HEADER: &[&str] = &[
    "Timestamp",
    "DeviceId",
    "DeviceName",
    "ActionType",
    "RemoteIP",
    "RemotePort",
    "RemoteUrl",
    "LocalIP",
    "LocalPort",
    "Protocol",
    "LocalIPType",
    "RemoteIPType",
    "InitiatingProcessSHA1",
    "InitiatingProcessSHA256",
    "InitiatingProcessMD5",
    "InitiatingProcessFileName",
    "InitiatingProcessFileSize",
    "InitiatingProcessVersionInfoCompanyName",
    "InitiatingProcessVersionInfoProductName",
    "InitiatingProcessVersionInfoProductVersion",
    "InitiatingProcessVersionInfoInternalFileName",
    "InitiatingProcessVersionInfoOriginalFileName",
    "InitiatingProcessVersionInfoFileDescription",
    "InitiatingProcessId",
    "InitiatingProcessCommandLine",
    "InitiatingProcessCreationTime",
    "InitiatingProcessFolderPath",
    "InitiatingProcessParentFileName",
    "InitiatingProcessParentId",
    "InitiatingProcessParentCreationTime",
    "InitiatingProcessAccountDomain",
    "InitiatingProcessAccountName",
    "InitiatingProcessAccountSid",
    "InitiatingProcessAccountUpn",
    "InitiatingProcessAccountObjectId",
    "InitiatingProcessIntegrityLevel",
    "InitiatingProcessTokenElevation",
    "ReportId",
    "AppGuardContainerId",
    "AdditionalFields",
];

const DEV_HEADER: &[&str] = &[
    "Timestamp",
    "DeviceId",
    "DeviceName",
    "ClientVersion",
    "PublicIP",
    "OSArchitecture",
    "OSPlatform",
    "OSBuild",
    "IsAzureADJoined",
    "JoinType",
    "LoggedOnUsers",
    "OSVersion",
    "MachineGroup",
    "ReportId",
    "OnboardingStatus",
    "AdditionalFields",
    "DeviceCategory",
    "DeviceType",
    "DeviceSubtype",
    "Model",
    "Vendor",
    "OSDistribution",
    "OSVersionInfo",
    "IsInternetFacing",
    "SensorHealthState",
    "ExposureLevel",
];

const VM_HEADER: &[&str] = &[
    "TenantId",
    "SourceSystem",
    "TimeGenerated [UTC]",
    "Computer",
    "AgentId",
    "Machine",
    "Process",
    "ProcessName",
    "ConnectionId",
    "Direction",
    "SourceIp",
    "DestinationIp",
    "DestinationPort",
    "Protocol",
    "RemoteIp",
    "RemoteCountry",
    "MaliciousIp",
    "IndicatorThreatType",
    "Severity",
    "LinksEstablished",
    "LinksTerminated",
    "LinksLive",
    "BytesSent",
    "BytesReceived",
    "Responses",
    "Type",
    "_ResourceId",
];

const SYSMON_HEADER: &[&str] = &[
    "TenantId",
    "SourceSystem",
    "TimeGenerated [UTC]",
    "Source",
    "EventLog",
    "Computer",
    "EventCategory",
    "EventLevel",
    "EventLevelName",
    "UserName",
    "Message",
    "ParameterXml",
    "EventData",
    "EventID",
    "RenderedDescription",
    "MG",
    "ManagementGroupName",
    "AzureDeploymentID",
    "Role",
    "Type",
    "_ResourceId",
];

const TENANT: &str = "7f3c2a1e-5b4d-4c6e-9a8b-0d1e2f3a4b5c";
const SUBSCRIPTION: &str = "/subscriptions/3b1f9c2e-8d4a-4f6b-a1c3-5e7d9f0b2a4c/resourcegroups/rg-prod/providers/microsoft.compute/virtualmachines/";

/// Events formatted per batch: bounded memory, and the batch's rows are rendered in
/// parallel chunks that are written back in order (output does not depend on thread count).
const BATCH: usize = 16_384;

/// The rows of one chunk of a batch, per output file.
struct Chunk {
    net: Vec<u8>,
    vm: Vec<u8>,
    sys: Vec<u8>,
    net_rows: u64,
    vm_rows: u64,
    sys_rows: u64,
}

/// Render `batch` (in time order) into per-file row bytes, in parallel chunks.
fn format_batch(
    ctx: &Ctx,
    batch: &[(Nanos, Ev)],
    report_id: &mut u64,
    format: GenFormat,
) -> std::io::Result<Vec<Chunk>> {
    use rayon::prelude::*;
    // ReportIds number Defender and VMConnection rows in stream order.
    let ids: Vec<u64> = batch
        .iter()
        .map(|(_, ev)| {
            if !matches!(ev, Ev::Sys(_)) {
                *report_id += 1;
            }
            *report_id
        })
        .collect();
    let per = batch.len().div_ceil(rayon::current_num_threads().max(1)).max(1024);
    batch
        .par_chunks(per)
        .zip(ids.par_chunks(per))
        .map(|(evs, ids)| {
            let mut net = RowWriter::body(Vec::new(), format, NET_HEADER);
            let mut vm = RowWriter::body(Vec::new(), format, VM_HEADER);
            let mut sys = RowWriter::body(Vec::new(), format, SYSMON_HEADER);
            let mut s = String::with_capacity(256);
            for ((t, ev), id) in evs.iter().zip(ids) {
                match ev {
                    Ev::Net(e) => ctx.net(&mut net, *t, e, *id, &mut s)?,
                    Ev::Vm(e) => ctx.vm(&mut vm, *t, e, *id, &mut s)?,
                    Ev::Sys(e) => ctx.sysmon(&mut sys, *t, e)?,
                }
            }
            let (net_rows, vm_rows, sys_rows) = (net.rows, vm.rows, sys.rows);
            Ok(Chunk { net: net.finish()?, vm: vm.finish()?, sys: sys.finish()?, net_rows, vm_rows, sys_rows })
        })
        .collect()
}

/// Open `dir/name` for streaming output.
fn create(dir: &Path, name: &str) -> Result<(PathBuf, BufWriter<File>), GenError> {
    let path = dir.join(name);
    let f = File::create(&path).map_err(|source| GenError::Io { path: path.display().to_string(), source })?;
    // Row writers hand over 256 KiB blocks, which bypass this buffer; the feed uses it.
    Ok((path, BufWriter::with_capacity(1 << 16, f)))
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> GenError + '_ {
    move |source| GenError::Io { path: path.display().to_string(), source }
}

/// Per-device strings the rows repeat, computed once.
struct DevText {
    ip: String,
    sid: String,
    upn: String,
    user_guid: String,
    agent: String,
    machine: String,
    resource: String,
    /// Seeds the per-process ids on this device.
    pid_seed: u64,
}

/// Everything the row writers need about the fleet, computed once.
struct Ctx {
    devices: Vec<Device>,
    /// DeviceNetworkEvents fields 1-2 per device.
    dev_block: Vec<Block>,
    /// Fields 12-22 (hashes and version info), 24 (command line), 26-27 (folder, parent).
    proc_block: Vec<[Block; 3]>,
    /// Fields 30-36 for SYSTEM, and per device for its user.
    system_account: Block,
    user_account: Vec<Block>,
    text: Vec<DevText>,
    /// VMConnection `Process` ids by process name.
    vm_procs: Vec<(&'static str, String)>,
    md5: Vec<String>,
}

impl Ctx {
    fn new(devices: Vec<Device>, format: GenFormat) -> Ctx {
        let procs = fleet::PROCS;
        let md5: Vec<String> = procs.iter().map(|p| fleet::hex_id(&format!("md5:{}", p.folder), 32)).collect();
        let sha1: Vec<String> = procs.iter().map(|p| fleet::hex_id(&format!("sha1:{}", p.folder), 40)).collect();
        let size: Vec<u64> = procs.iter().map(|p| 40_960 + fleet::fnv(p.folder, 7) % 4_000_000).collect();
        let block = |start, f: &dyn Fn(&mut RowWriter<Vec<u8>>)| Block::render(format, NET_HEADER, start, f);
        let proc_block = procs
            .iter()
            .enumerate()
            .map(|(i, p)| {
                if p.folder.is_empty() {
                    // The `System` process has no image, hashes or version info.
                    [
                        block(12, &|w| {
                            w.str("").str("").str("").str(p.name);
                            for _ in 0..7 {
                                w.str("");
                            }
                        }),
                        block(24, &|w| {
                            w.str("");
                        }),
                        block(26, &|w| {
                            w.str("").str("");
                        }),
                    ]
                } else {
                    [
                        block(12, &|w| {
                            w.str(&sha1[i]).str("").str(&md5[i]).str(p.name).num(size[i]);
                            w.str(p.company).str(p.product).str(p.version).str(p.name).str(p.name).str(p.desc);
                        }),
                        block(24, &|w| {
                            w.str(p.cmd);
                        }),
                        block(26, &|w| {
                            w.str(p.folder).str(p.parent);
                        }),
                    ]
                }
            })
            .collect();
        let dev_block = devices
            .iter()
            .map(|d| {
                block(1, &|w| {
                    w.str(&d.id).str(&d.name);
                })
            })
            .collect();
        let system_account = block(30, &|w| {
            w.str("nt authority").str("system").str("S-1-5-18").str("").str("").str("System");
            w.str("TokenElevationTypeDefault");
        });
        let text = devices
            .iter()
            .enumerate()
            .map(|(i, d)| DevText {
                ip: d.ip.to_string(),
                sid: format!("S-1-5-21-1004336348-1177238915-682003330-{}", 1000 + i),
                upn: format!("{}@contoso.com", d.user),
                user_guid: guid(&d.user),
                agent: guid(&d.short),
                machine: format!("m-{}", guid(&d.short)),
                resource: format!("{SUBSCRIPTION}{}", d.short),
                pid_seed: fleet::fnv(&d.short, 0),
            })
            .collect();
        let user_account = devices
            .iter()
            .zip(&text)
            .map(|(d, tx): (&Device, &DevText)| {
                block(30, &|w| {
                    w.str("contoso").str(&d.user).str(&tx.sid).str(&tx.upn).str(&tx.user_guid);
                    w.str("Medium").str("TokenElevationTypeLimited");
                })
            })
            .collect();
        Ctx {
            devices,
            dev_block,
            proc_block,
            system_account,
            user_account,
            text,
            vm_procs: fleet::VM_PROCS
                .iter()
                .chain(&["curl", "wget"])
                .map(|n| (*n, format!("p-{}", fleet::hex_id(n, 40))))
                .collect(),
            md5,
        }
    }

    /// One DeviceNetworkEvents row; `id` is its ReportId, `s` scratch space.
    fn net<W: Write>(&self, w: &mut RowWriter<W>, t: Nanos, e: &NetEv, id: u64, s: &mut String) -> std::io::Result<()> {
        let dev = &self.devices[e.dev as usize];
        let tx = &self.text[e.dev as usize];
        let p = e.proc_.info();
        let pi = e.proc_ as usize;
        w.time(t, TimeForm::Iso7).block(&self.dev_block[e.dev as usize]).str(e.action);
        match e.remote {
            Some(ip) => w.with(s, |s| push_ip(s, ip)),
            None => w.str(""),
        };
        match e.rport {
            Some(port) => w.num(u64::from(port)),
            None => w.str(""),
        };
        w.str(e.url).str(&tx.ip).num(u64::from(e.lport)).str(e.proto).str("Private");
        w.str(e.remote.map_or("", classify));
        let [info, cmd, folder] = &self.proc_block[pi];
        w.block(info);
        if p.folder.is_empty() {
            w.num(4).block(cmd).str("").block(folder).str("").str("");
        } else {
            let pid = 1000 + (Rng::new(tx.pid_seed ^ pi as u64).next_u64() % 15_000) * 4;
            let created = t - (pid as i64 * 7919 % (6 * 3600)) * SEC - SEC;
            w.num(pid).block(cmd).time(created, TimeForm::Iso7).block(folder);
            w.num(pid / 2 + 400).time(created - 5 * MINUTE, TimeForm::Iso7);
        }
        if p.user && !dev.is_server() {
            w.block(&self.user_account[e.dev as usize]);
        } else {
            w.block(&self.system_account);
        }
        w.num(id).str("").str("");
        w.end()
    }

    fn vm<W: Write>(&self, w: &mut RowWriter<W>, t: Nanos, e: &VmEv, id: u64, s: &mut String) -> std::io::Result<()> {
        let dev = &self.devices[e.dev as usize];
        let tx = &self.text[e.dev as usize];
        let local = IpAddr::V4(dev.ip);
        let uncached;
        let proc_id = match self.vm_procs.iter().find(|(n, _)| *n == e.process) {
            Some((_, pid)) => pid,
            None => {
                uncached = format!("p-{}", fleet::hex_id(e.process, 40));
                &uncached
            }
        };
        let (src, dst) = if e.outbound { (local, e.remote) } else { (e.remote, local) };
        w.str(TENANT).str("OpsManager").time(t, TimeForm::UsPortal).str(&dev.short);
        w.str(&tx.agent).str(&tx.machine).str(proc_id).str(e.process);
        w.with(s, |s| {
            use std::fmt::Write as _;
            let _ = write!(s, "C_{:x}", Rng::new(tx.pid_seed ^ id).next_u64());
        });
        w.str(if e.outbound { "outbound" } else { "inbound" });
        w.with(s, |s| push_ip(s, src)).with(s, |s| push_ip(s, dst)).num(u64::from(e.port));
        w.str(e.proto).with(s, |s| push_ip(s, e.remote)).str(fleet::country_name(e.country));
        if e.malicious {
            w.with(s, |s| push_ip(s, e.remote)).str("Botnet").num(3);
        } else {
            w.str("").str("").str("");
        }
        w.num(1).num(1).num(0).num(e.sent).num(e.received).num(1).str("VMConnection").str(&tx.resource);
        w.end()
    }

    fn sysmon<W: Write>(&self, w: &mut RowWriter<W>, t: Nanos, e: &SysEv) -> std::io::Result<()> {
        let dev = &self.devices[e.dev as usize];
        let p = e.proc_.info();
        let pid = 1000 + (fleet::fnv(&dev.short, e.proc_ as u64) % 15_000) * 4;
        let image = if p.folder.is_empty() { "System".to_string() } else { windows_path(p.folder, p.name) };
        let mut utc = Vec::with_capacity(24);
        write::push_time(&mut utc, t, TimeForm::Sysmon);
        let utc = String::from_utf8_lossy(&utc).into_owned();
        let mut iso = Vec::with_capacity(32);
        write::push_time(&mut iso, t + SEC, TimeForm::Iso7);
        let iso = String::from_utf8_lossy(&iso).into_owned();
        let guid_p = format!("{{{}}}", guid(&format!("{}{}", dev.short, p.name)).to_uppercase());
        let user = if p.user { format!("CONTOSO\\{}", dev.user) } else { "NT AUTHORITY\\SYSTEM".to_string() };
        let mut x = String::with_capacity(1400);
        x.push_str("<DataItem type=\"System.XmlData\" time=\"");
        x.push_str(&iso);
        x.push_str("\" sourceHealthServiceId=\"");
        x.push_str(&guid(&dev.name).to_uppercase());
        x.push_str("\"><EventData xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">");
        let mut data = |k: &str, v: &str| {
            x.push_str("<Data Name=\"");
            x.push_str(k);
            x.push_str("\">");
            xml_escape(&mut x, v);
            x.push_str("</Data>");
        };
        if e.eid == 3 {
            let (src, sport, dst, dport) = if e.initiated {
                (IpAddr::V4(dev.ip), e.lport, e.remote, e.rport)
            } else {
                (e.remote, e.rport, IpAddr::V4(dev.ip), e.lport)
            };
            data("RuleName", "-");
            data("UtcTime", &utc);
            data("ProcessGuid", &guid_p);
            data("ProcessId", &pid.to_string());
            data("Image", &image);
            data("User", &user);
            data("Protocol", e.proto);
            data("Initiated", if e.initiated { "true" } else { "false" });
            data("SourceIsIpv6", if src.is_ipv6() { "true" } else { "false" });
            data("SourceIp", &src.to_string());
            data("SourceHostname", if e.initiated { &dev.name } else { "-" });
            data("SourcePort", &sport.to_string());
            data("SourcePortName", "-");
            data("DestinationIsIpv6", if dst.is_ipv6() { "true" } else { "false" });
            data("DestinationIp", &dst.to_string());
            data("DestinationHostname", if e.initiated { e.host } else { &dev.name });
            data("DestinationPort", &dport.to_string());
            data("DestinationPortName", "-");
        } else {
            data("RuleName", "-");
            data("UtcTime", &utc);
            data("ProcessGuid", &guid_p);
            data("ProcessId", &pid.to_string());
            data("Image", &image);
            data("FileVersion", p.version);
            data("Description", p.desc);
            data("Product", p.product);
            data("Company", p.company);
            data("OriginalFileName", p.name);
            data("CommandLine", p.cmd);
            data("CurrentDirectory", "C:\\Windows\\system32\\");
            data("User", &user);
            data("IntegrityLevel", "System");
            data("Hashes", &format!("MD5={}", self.md5[e.proc_ as usize].to_uppercase()));
            data("ParentImage", &format!("C:\\Windows\\System32\\{}", p.parent));
        }
        x.push_str("</EventData></DataItem>");
        w.str(TENANT).str("OpsManager").time(t + SEC, TimeForm::UsPortal).str("Microsoft-Windows-Sysmon");
        w.str("Microsoft-Windows-Sysmon/Operational").str(&dev.name).num(u64::from(e.eid)).num(4).str("Information");
        w.str(&user).str("").str("").str(&x).num(u64::from(e.eid)).str("").str("00000000-0000-0000-0000-000000000001");
        w.str("AOI-7f3c2a1e-5b4d-4c6e-9a8b-0d1e2f3a4b5c").str("").str("").str("Event");
        w.str(&self.text[e.dev as usize].resource);
        w.end()
    }
}

fn push_ip(s: &mut String, ip: IpAddr) {
    use std::fmt::Write as _;
    match ip {
        // The common case, without the formatting machinery (a measurable share of the run).
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    s.push('.');
                }
                if octet >= 100 {
                    s.push(char::from(b'0' + octet / 100));
                }
                if octet >= 10 {
                    s.push(char::from(b'0' + octet / 10 % 10));
                }
                s.push(char::from(b'0' + octet % 10));
            }
        }
        v6 => {
            let _ = write!(s, "{v6}");
        }
    }
}

/// A GUID-shaped id derived from `s`.
fn guid(s: &str) -> String {
    let h = fleet::hex_id(s, 32);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// Defender folder paths are lower case; Sysmon's `Image` keeps the file name's casing.
fn windows_path(folder: &str, name: &str) -> String {
    let dir = folder.rsplit_once('\\').map_or("", |(d, _)| d);
    let mut out = String::with_capacity(folder.len());
    let mut up = true;
    for c in dir.chars() {
        out.push(if up { c.to_ascii_uppercase() } else { c });
        up = c == '\\' || c == ' ';
    }
    out.push('\\');
    out.push_str(name);
    out
}

fn xml_escape(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

/// Background traffic: the everyday noise the hunts must see through.
struct Background {
    rng: Rng,
    servers: Vec<u32>,
    workstations: Vec<u32>,
    sysmon: Vec<u32>,
    vms: Vec<u32>,
    dcs: Vec<Ipv4Addr>,
    end: Nanos,
}

impl Background {
    fn ephemeral(&mut self) -> u16 {
        49_152 + self.rng.below(16_000) as u16
    }

    fn client_ip(&mut self) -> IpAddr {
        let w = self.rng.below(self.workstations.len() as u64) as u8;
        IpAddr::V4(Ipv4Addr::new(10, 20, 0, 10 + w % 200))
    }

    fn event(&mut self, devices: &[Device], t: Nanos) -> Ev {
        let r = self.rng.below(100);
        if r < 15 && !self.vms.is_empty() {
            return Ev::Vm(self.vm(t));
        }
        if r < 19 && !self.sysmon.is_empty() {
            return Ev::Sys(self.sys());
        }
        let d = self.rng.below(devices.len() as u64) as u32;
        let dev = &devices[d as usize];
        if dev.is_server() {
            Ev::Net(self.server(d, dev))
        } else {
            Ev::Net(self.workstation(d, dev))
        }
    }

    fn out(&mut self, dev: u32, dest: &fleet::Dest, proc_: P) -> NetEv {
        NetEv {
            dev,
            action: OK,
            remote: Some(fleet::ip(dest.ip)),
            rport: Some(dest.port),
            url: dest.url,
            lport: self.ephemeral(),
            proto: TCP,
            proc_,
        }
    }

    fn workstation(&mut self, d: u32, dev: &Device) -> NetEv {
        let r = self.rng.below(100);
        match r {
            0..=39 => {
                let dest = *self.rng.pick(fleet::WEB);
                self.out(d, &dest, dev.browser)
            }
            40..=65 => {
                let dest = *self.rng.pick(fleet::WS_APPS);
                self.out(d, &dest, dest.proc_)
            }
            66..=67 => NetEv {
                proto: "Udp",
                rport: Some(123),
                ..self.out(
                    d,
                    &fleet::Dest { url: "time.windows.com", ip: "51.105.208.173", port: 123, proc_: P::Svchost },
                    P::Svchost,
                )
            },
            68..=70 => {
                let net = *self.rng.pick(fleet::PEER_NETS);
                let ip = Ipv4Addr::new(net[0], net[1], self.rng.below(256) as u8, 1 + self.rng.below(254) as u8);
                NetEv {
                    remote: Some(IpAddr::V4(ip)),
                    rport: Some(7680),
                    url: "",
                    ..self.out(d, &fleet::WS_APPS[0], P::Svchost)
                }
            }
            71..=86 => {
                let dc = self.dcs[self.rng.below(self.dcs.len() as u64) as usize];
                let port = *self.rng.pick(&[389u16, 88, 445, 135, 53]);
                let proc_ = if port == 88 || port == 389 { P::Lsass } else { P::Svchost };
                NetEv {
                    remote: Some(IpAddr::V4(dc)),
                    rport: Some(port),
                    url: "",
                    proto: if port == 53 { "Udp" } else { TCP },
                    ..self.out(d, &fleet::WS_APPS[0], proc_)
                }
            }
            87..=90 => {
                let dest = *self.rng.pick(fleet::WEB);
                NetEv { action: "ConnectionFailed", ..self.out(d, &dest, dev.browser) }
            }
            91..=94 => NetEv {
                action: "ListeningConnectionCreated",
                remote: None,
                rport: None,
                url: "",
                lport: *self.rng.pick(&[7680u16, 135, 445, 5040]),
                proto: TCP,
                proc_: P::Svchost,
                dev: d,
            },
            _ => {
                let peer = self.client_ip();
                NetEv {
                    action: INBOUND,
                    remote: Some(peer),
                    rport: Some(self.ephemeral()),
                    url: "",
                    lport: 445,
                    proto: TCP,
                    proc_: P::System,
                    dev: d,
                }
            }
        }
    }

    fn server(&mut self, d: u32, dev: &Device) -> NetEv {
        let r = self.rng.below(100);
        if dev.linux() {
            return if r < 50 {
                let dest = *self.rng.pick(fleet::LINUX_DESTS);
                self.out(d, &dest, dest.proc_)
            } else {
                let peer = self.client_ip();
                NetEv {
                    action: INBOUND,
                    remote: Some(peer),
                    rport: Some(self.ephemeral()),
                    url: "",
                    lport: 22,
                    proto: TCP,
                    proc_: P::LinuxSshd,
                    dev: d,
                }
            };
        }
        let service = |role| match role {
            Some(fleet::Role::Sql) => (1433, P::Sql),
            Some(fleet::Role::Web) => (443, P::System),
            Some(fleet::Role::Dc) => (389, P::Lsass),
            Some(fleet::Role::Jump) => (3389, P::Svchost),
            Some(fleet::Role::Sftp) => (22, P::Sshd),
            Some(fleet::Role::Mail) => (25, P::Exchange),
            _ => (445, P::System),
        };
        match r {
            0..=29 => {
                let dest = *self.rng.pick(fleet::SERVER_DESTS);
                self.out(d, &dest, dest.proc_)
            }
            30..=54 => {
                let dc = self.dcs[self.rng.below(self.dcs.len() as u64) as usize];
                let port = *self.rng.pick(&[389u16, 88, 445, 53, 1433]);
                let proc_ = match port {
                    1433 => P::W3wp,
                    88 | 389 => P::Lsass,
                    _ => P::Svchost,
                };
                NetEv {
                    remote: Some(IpAddr::V4(dc)),
                    rport: Some(port),
                    url: "",
                    proto: if port == 53 { "Udp" } else { TCP },
                    ..self.out(d, &fleet::SERVER_DESTS[0], proc_)
                }
            }
            55..=89 => {
                let (port, proc_) = service(dev.role);
                let peer = match dev.facing {
                    // Internet-facing: a share of inbound comes from internet scanners (not in
                    // the feed), the rest from inside.
                    Some(_) if r >= 75 => {
                        let n = *self.rng.pick(fleet::SCANNER_NETS);
                        IpAddr::V4(Ipv4Addr::new(n[0], n[1], n[2], 1 + self.rng.below(254) as u8))
                    }
                    _ => self.client_ip(),
                };
                NetEv {
                    action: INBOUND,
                    remote: Some(peer),
                    rport: Some(self.ephemeral()),
                    url: "",
                    lport: port,
                    proto: TCP,
                    proc_,
                    dev: d,
                }
            }
            90..=94 => {
                let (port, proc_) = service(dev.role);
                NetEv {
                    action: "ListeningConnectionCreated",
                    remote: None,
                    rport: None,
                    url: "",
                    lport: port,
                    proto: TCP,
                    proc_,
                    dev: d,
                }
            }
            _ => {
                let peer = self.client_ip();
                NetEv {
                    action: "ConnectionFailed",
                    remote: Some(peer),
                    rport: Some(445),
                    url: "",
                    ..self.out(d, &fleet::SERVER_DESTS[0], P::Svchost)
                }
            }
        }
    }

    fn vm(&mut self, t: Nanos) -> VmEv {
        let dev = self.vms[self.rng.below(self.vms.len() as u64) as usize];
        let r = self.rng.below(100);
        let process = *self.rng.pick(fleet::VM_PROCS);
        let sent = 200 + self.rng.below(60_000);
        let received = 500 + self.rng.below(900_000);
        if r < 60 {
            // Only the three biggest countries near the end, so the last hour holds nothing new
            // by accident at any scale.
            let n = if t >= self.end - 3 * HOUR { 3 } else { fleet::VM_DESTS.len() as u64 };
            let weights = [40u64, 15, 15, 12, 10, 8];
            let total: u64 = weights[..n as usize].iter().sum();
            let mut x = self.rng.below(total);
            let mut ci = 0;
            while x >= weights[ci] {
                x -= weights[ci];
                ci += 1;
            }
            let (iso, ips) = fleet::VM_DESTS[ci];
            let remote = fleet::ip(ips[self.rng.below(ips.len() as u64) as usize]);
            return VmEv {
                dev,
                outbound: true,
                process,
                remote,
                port: 443,
                proto: "tcp",
                country: iso,
                malicious: false,
                sent,
                received,
            };
        }
        let remote = if r < 80 { IpAddr::V4(self.dcs[0]) } else { self.client_ip() };
        VmEv {
            dev,
            outbound: r < 80,
            process,
            remote,
            port: if r < 80 { 53 } else { 443 },
            proto: "tcp",
            country: "",
            malicious: false,
            sent,
            received,
        }
    }

    fn sys(&mut self) -> SysEv {
        let dev = self.sysmon[self.rng.below(self.sysmon.len() as u64) as usize];
        let r = self.rng.below(100);
        let lport = self.ephemeral();
        match r {
            0..=44 => {
                let dc = self.dcs[self.rng.below(self.dcs.len() as u64) as usize];
                let port = *self.rng.pick(&[389u16, 88, 445, 135]);
                SysEv {
                    dev,
                    eid: 3,
                    proc_: if port == 445 { P::Svchost } else { P::Lsass },
                    initiated: true,
                    remote: IpAddr::V4(dc),
                    rport: port,
                    lport,
                    host: "-",
                    proto: "tcp",
                }
            }
            45..=69 => {
                let dest = *self.rng.pick(fleet::SERVER_DESTS);
                SysEv {
                    dev,
                    eid: 3,
                    proc_: P::MpEng,
                    initiated: true,
                    remote: fleet::ip(dest.ip),
                    rport: dest.port,
                    lport,
                    host: dest.url,
                    proto: "tcp",
                }
            }
            70..=94 => {
                let peer = self.client_ip();
                SysEv {
                    dev,
                    eid: 3,
                    proc_: P::System,
                    initiated: false,
                    remote: peer,
                    rport: lport,
                    lport: 445,
                    host: "-",
                    proto: "tcp",
                }
            }
            _ => SysEv {
                dev,
                eid: 1,
                proc_: P::Svchost,
                initiated: false,
                remote: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                rport: 0,
                lport: 0,
                host: "-",
                proto: "tcp",
            },
        }
    }
}

/// Generate the fleet into `out_dir` (created if missing). `progress` receives the number of
/// network events written so far, now and then.
pub fn generate(opts: &GenOptions, out_dir: &Path, progress: &dyn Fn(u64)) -> Result<GenSummary, GenError> {
    if opts.devices < 20 {
        return Err(GenError::Options(format!("devices must be at least 20 (got {})", opts.devices)));
    }
    if opts.devices > 100_000 {
        return Err(GenError::Options(format!("devices must be at most 100000 (got {})", opts.devices)));
    }
    if !(14..=365).contains(&opts.days) {
        return Err(GenError::Options(format!("days must be between 14 and 365 (got {})", opts.days)));
    }
    std::fs::create_dir_all(out_dir).map_err(io(out_dir))?;
    let devices = fleet::devices(opts.devices);
    let start = opts.end - i64::from(opts.days) * DAY;
    let mut planted = plant::plan(&devices, opts.end, opts.days);
    planted.sort_by_key(|p| p.0);
    let planted_events = planted.len() as u64;
    if opts.events < planted_events + 500 {
        return Err(GenError::Options(format!(
            "events must be at least {} for {} devices over {} days (the planted findings and baselines alone are {planted_events})",
            planted_events + 500,
            opts.devices,
            opts.days
        )));
    }
    let ext = match opts.format {
        GenFormat::Csv => "csv",
        GenFormat::Jsonl => "jsonl",
    };
    let mut summary = GenSummary { planted_events, findings: plant::findings(), ..Default::default() };

    let idx = |f: &dyn Fn(&Device) -> bool| -> Vec<u32> {
        devices.iter().enumerate().filter(|(_, d)| f(d)).map(|(i, _)| i as u32).collect()
    };
    let mut bg = Background {
        rng: Rng::new(opts.seed),
        servers: idx(&|d| d.is_server()),
        workstations: idx(&|d| !d.is_server()),
        sysmon: idx(&|d| d.sysmon),
        vms: idx(&|d| matches!(d.short.as_str(), "srv-lnx01" | "srv-app01" | "srv-app02" | "srv-app03")),
        dcs: devices.iter().filter(|d| d.role == Some(fleet::Role::Dc)).map(|d| d.ip).collect(),
        end: opts.end,
    };
    debug_assert!(!bg.servers.is_empty());

    let (net_path, f) = create(out_dir, &format!("DeviceNetworkEvents.{ext}"))?;
    let mut net_w = RowWriter::new(f, opts.format, NET_HEADER).map_err(io(&net_path))?;
    let (vm_path, f) = create(out_dir, &format!("VMConnection.{ext}"))?;
    let mut vm_w = RowWriter::new(f, opts.format, VM_HEADER).map_err(io(&vm_path))?;
    let (sys_path, f) = create(out_dir, &format!("SysmonEvent.{ext}"))?;
    let mut sys_w = RowWriter::new(f, opts.format, SYSMON_HEADER).map_err(io(&sys_path))?;
    let ctx = Ctx::new(devices, opts.format);

    let background = opts.events - planted_events;
    // Background spans [start, end - 1 min): the last event is a planted one at `end`.
    let span = (opts.end - MINUTE - start) as u128;
    let mut next_planted = 0usize;
    let mut written = 0u64;
    let mut report_id = 1000u64;
    let mut batch: Vec<(Nanos, Ev)> = Vec::with_capacity(BATCH + 64);
    // A writer thread takes rendered batches, so disk writes overlap the next batch's work.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Chunk>>(2);
    let paths = [net_path.clone(), vm_path.clone(), sys_path.clone()];
    let (generated, writers) = std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> Result<_, GenError> {
            for chunks in rx {
                for c in chunks {
                    net_w.append(&c.net, c.net_rows).map_err(io(&paths[0]))?;
                    vm_w.append(&c.vm, c.vm_rows).map_err(io(&paths[1]))?;
                    sys_w.append(&c.sys, c.sys_rows).map_err(io(&paths[2]))?;
                }
            }
            Ok((net_w, vm_w, sys_w))
        });
        let mut flush = |batch: &mut Vec<(Nanos, Ev)>| -> Result<bool, GenError> {
            let chunks = format_batch(&ctx, batch, &mut report_id, opts.format).map_err(io(out_dir))?;
            batch.clear();
            // A closed channel means the writer failed; its error is reported below.
            Ok(tx.send(chunks).is_ok())
        };
        let mut run = || -> Result<(), GenError> {
            for i in 0..background {
                let base = start + (u128::from(i) * span / u128::from(background)) as Nanos;
                let step = (span / u128::from(background)).max(1) as u64;
                let t = base + bg.rng.below(step) as Nanos;
                while next_planted < planted.len() && planted[next_planted].0 <= t {
                    batch.push(planted[next_planted]);
                    next_planted += 1;
                }
                batch.push((t, bg.event(&ctx.devices, t)));
                if batch.len() >= BATCH {
                    written += batch.len() as u64;
                    if !flush(&mut batch)? {
                        return Ok(());
                    }
                    progress(written);
                }
            }
            batch.extend_from_slice(&planted[next_planted..]);
            written += batch.len() as u64;
            flush(&mut batch)?;
            progress(written);
            Ok(())
        };
        let generated = run();
        drop(tx);
        let writers = writer.join().unwrap_or_else(|_| Err(GenError::Options("the output writer stopped".into())));
        (generated, writers)
    });
    let (net_w, vm_w, sys_w) = writers?;
    generated?;
    summary.net_events = net_w.rows;
    summary.vm_rows = vm_w.rows;
    summary.sysmon_rows = sys_w.rows;
    for (path, rows, w) in [(net_path, net_w.rows, net_w), (vm_path, vm_w.rows, vm_w), (sys_path, sys_w.rows, sys_w)] {
        w.finish().map_err(io(&path))?;
        summary.files.push(GenFile { path, rows });
    }

    let (dev_path, f) = create(out_dir, &format!("DeviceInfo.{ext}"))?;
    let rows = write_devinfo(&ctx.devices, f, opts, start).map_err(io(&dev_path))?;
    summary.devinfo_rows = rows;
    summary.files.push(GenFile { path: dev_path, rows });

    let (ti_path, mut f) = create(out_dir, "ipsum.txt")?;
    let entries = plant::feed(opts);
    write_feed(&mut f, &entries, opts.end).map_err(io(&ti_path))?;
    summary.ti_entries = entries.len() as u64;
    summary.files.push(GenFile { path: ti_path, rows: entries.len() as u64 });

    let (db_path, mut f) = create(out_dir, "GeoLite2-Country-rarity.mmdb")?;
    let (bytes, nets) = country_db(opts.end);
    f.write_all(&bytes).and_then(|_| f.flush()).map_err(io(&db_path))?;
    summary.files.push(GenFile { path: db_path, rows: nets });
    Ok(summary)
}

/// One DeviceInfo row per device per day. srv-mail01 stops being internet-facing 3 days
/// before the end (its port stays in AdditionalFields, as Defender reports it).
fn write_devinfo(devices: &[Device], f: BufWriter<File>, opts: &GenOptions, start: Nanos) -> std::io::Result<u64> {
    let mut w = RowWriter::new(f, opts.format, DEV_HEADER)?;
    let mut scratch = String::new();
    let mut report = 5000u64;
    for day in 0..i64::from(opts.days) {
        for (i, dev) in devices.iter().enumerate() {
            let t = start + day * DAY + 2 * HOUR + i as i64 * 13 * SEC;
            report += 1;
            let (platform, build, dtype, model, vendor, distro, info, group) = match dev.role {
                None => ("Windows11", "22631", "Workstation", "Latitude 7440", "Dell Inc.", "", "23H2", "Workstations"),
                Some(fleet::Role::Linux) => {
                    ("Linux", "", "Server", "Virtual Machine", "Microsoft Corporation", "Ubuntu", "22.04", "Servers")
                }
                Some(_) => (
                    "WindowsServer2022",
                    "20348",
                    "Server",
                    "Virtual Machine",
                    "Microsoft Corporation",
                    "",
                    "21H2",
                    "Servers",
                ),
            };
            let facing = dev.facing.is_some() && !(dev.role == Some(fleet::Role::Mail) && t >= opts.end - 3 * DAY);
            w.time(t, TimeForm::Iso7).str(&dev.id).str(&dev.name).str("10.8760.26100.2454");
            w.with(&mut scratch, |s| s.push_str(&format!("51.140.200.{}", 10 + i % 200)));
            w.str("64-bit").str(platform).str(build).bool(dev.role.is_none()).str(if dev.role.is_none() {
                "AAD joined"
            } else {
                "Domain joined"
            });
            if dev.role.is_none() {
                w.with(&mut scratch, |s| {
                    s.push_str(&format!(
                        "[{{\"UserName\":\"{}\",\"DomainName\":\"CONTOSO\",\"Sid\":\"S-1-5-21-1004336348-1177238915-682003330-{}\"}}]",
                        dev.user,
                        1000 + i
                    ))
                });
            } else {
                w.str("[]");
            }
            w.str(if dev.linux() { "" } else { "10.0" }).str(group).num(report).str("Onboarded");
            match dev.facing {
                Some(port) => w.with(&mut scratch, |s| {
                    let mut seen = Vec::new();
                    write::push_time(&mut seen, t - HOUR, TimeForm::Iso7);
                    s.push_str(&format!(
                        "{{\"InternetFacingReason\":\"ExternalNetworkConnection\",\"InternetFacingLocalPort\":{port},\"InternetFacingScannedPublicPort\":{port},\"InternetFacingScannedPublicIp\":\"51.140.200.{}\",\"InternetFacingLocalIp\":\"{}\",\"InternetFacingTransportProtocol\":\"Tcp\",\"InternetFacingLastSeen\":\"{}\"}}",
                        10 + i % 200,
                        dev.ip,
                        String::from_utf8_lossy(&seen)
                    ))
                }),
                None => w.str(""),
            };
            w.str("Endpoint").str(dtype).str("").str(model).str(vendor).str(distro).str(info).bool(facing);
            w.str("Active").str(if dev.is_server() { "Medium" } else { "Low" });
            w.end()?;
        }
    }
    let rows = w.rows;
    w.finish()?;
    Ok(rows)
}

/// IPsum layout: the comment header, then `IP<TAB>count` sorted by count, descending.
fn write_feed(f: &mut BufWriter<File>, entries: &[(Ipv4Addr, u32)], end: Nanos) -> std::io::Result<()> {
    let date = chrono::DateTime::from_timestamp_nanos(end).format("%a, %d %b %Y %H:%M:%S +0000");
    write!(
        f,
        "# IPsum Threat Intelligence Feed\n# (generated by rarity gen: synthetic, not a real feed)\n#\n# Last update: {date}\n#\n# IP\tnumber of (black)lists\n#\n"
    )?;
    for (ip, count) in entries {
        writeln!(f, "{ip}\t{count}")?;
    }
    f.flush()
}

/// The fleet's country database (MaxMind layout) and how many networks it maps.
pub fn country_db(end: Nanos) -> (Vec<u8>, u64) {
    let mut w = mmdb::Writer::new("GeoLite2-Country", "rarity synthetic country database", (end / SEC) as u64);
    let mut n = 0;
    for c in fleet::COUNTRIES {
        let rec = mmdb::country_record(mmdb::Layout::MaxMind, c.iso, c.name);
        for net in c.nets {
            if let Ok(net) = net.parse() {
                w.insert(net, &rec);
                n += 1;
            }
        }
    }
    (w.to_bytes(), n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_text_matches_display() {
        for a in ["0.0.0.0", "10.0.0.1", "255.255.255.255", "100.64.9.10", "1.20.100.9", "2603:1030:20e:3::23c"] {
            let ip: IpAddr = a.parse().unwrap();
            let mut s = String::new();
            push_ip(&mut s, ip);
            assert_eq!(s, ip.to_string());
        }
    }

    #[test]
    fn every_fleet_address_parses_and_has_a_country() {
        let (bytes, nets) = country_db(DEFAULT_END);
        assert!(nets > 30);
        let db = crate::enrich::geoip::GeoIp::from_data(&crate::ingest::SourceData::Memory(bytes.into()), "t").unwrap();
        let tables = [fleet::SERVER_DESTS, fleet::LINUX_DESTS, fleet::WEB, fleet::WS_APPS];
        for d in tables.iter().flat_map(|t| t.iter()) {
            assert!(crate::model::ip::parse_ip(d.ip).is_some(), "{}", d.ip);
            assert!(db.country(fleet::ip(d.ip)).is_some(), "{}", d.ip);
        }
        for (iso, ips) in fleet::VM_DESTS {
            for a in *ips {
                assert_eq!(db.country(fleet::ip(a)).as_deref(), Some(fleet::country_name(iso)), "{a}");
            }
        }
    }
}
