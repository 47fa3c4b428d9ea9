//! Row rendering: turns planned events into the bytes of each export's rows, with the
//! per-device and per-process text computed once and rendered in parallel chunks.

use super::fleet::{self, Device, Rng};
use super::headers::{NET_HEADER, SYSMON_HEADER, VM_HEADER};
use super::write::{self, Block, GenFormat, RowWriter, TimeForm};
use super::{Ev, NetEv, SysEv, VmEv, MINUTE, SEC};
use crate::model::ip::classify;
use crate::model::time::Nanos;
use std::io::Write;
use std::net::IpAddr;

pub(super) const TENANT: &str = "7f3c2a1e-5b4d-4c6e-9a8b-0d1e2f3a4b5c";
pub(super) const SUBSCRIPTION: &str = "/subscriptions/3b1f9c2e-8d4a-4f6b-a1c3-5e7d9f0b2a4c/resourcegroups/rg-prod/providers/microsoft.compute/virtualmachines/";

/// Events formatted per batch: bounded memory, and the batch's rows are rendered in
/// parallel chunks that are written back in order (output does not depend on thread count).
pub(super) const BATCH: usize = 16_384;

/// The rows of one chunk of a batch, per output file.
pub(super) struct Chunk {
    pub(super) net: Vec<u8>,
    pub(super) vm: Vec<u8>,
    pub(super) sys: Vec<u8>,
    pub(super) net_rows: u64,
    pub(super) vm_rows: u64,
    pub(super) sys_rows: u64,
}

/// Render `batch` (in time order) into per-file row bytes, in parallel chunks.
pub(super) fn format_batch(
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

/// Per-device strings the rows repeat, computed once.
pub(super) struct DevText {
    pub(super) ip: String,
    pub(super) sid: String,
    pub(super) upn: String,
    pub(super) user_guid: String,
    pub(super) agent: String,
    pub(super) machine: String,
    pub(super) resource: String,
    /// Seeds the per-process ids on this device.
    pub(super) pid_seed: u64,
}

/// Everything the row writers need about the fleet, computed once.
pub(super) struct Ctx {
    pub(super) devices: Vec<Device>,
    /// DeviceNetworkEvents fields 1-2 per device.
    pub(super) dev_block: Vec<Block>,
    /// Fields 12-22 (hashes and version info), 24 (command line), 26-27 (folder, parent).
    pub(super) proc_block: Vec<[Block; 3]>,
    /// Fields 30-36 for SYSTEM, and per device for its user.
    pub(super) system_account: Block,
    pub(super) user_account: Vec<Block>,
    pub(super) text: Vec<DevText>,
    /// VMConnection `Process` ids by process name.
    pub(super) vm_procs: Vec<(&'static str, String)>,
    pub(super) md5: Vec<String>,
}

impl Ctx {
    pub(super) fn new(devices: Vec<Device>, format: GenFormat) -> Ctx {
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
    pub(super) fn net<W: Write>(
        &self,
        w: &mut RowWriter<W>,
        t: Nanos,
        e: &NetEv,
        id: u64,
        s: &mut String,
    ) -> std::io::Result<()> {
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

    pub(super) fn vm<W: Write>(
        &self,
        w: &mut RowWriter<W>,
        t: Nanos,
        e: &VmEv,
        id: u64,
        s: &mut String,
    ) -> std::io::Result<()> {
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

    pub(super) fn sysmon<W: Write>(&self, w: &mut RowWriter<W>, t: Nanos, e: &SysEv) -> std::io::Result<()> {
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

pub(super) fn push_ip(s: &mut String, ip: IpAddr) {
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
pub(super) fn guid(s: &str) -> String {
    let h = fleet::hex_id(s, 32);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// Defender folder paths are lower case; Sysmon's `Image` keeps the file name's casing.
pub(super) fn windows_path(folder: &str, name: &str) -> String {
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

pub(super) fn xml_escape(out: &mut String, v: &str) {
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
}
