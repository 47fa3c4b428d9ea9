//! The background traffic model: the everyday noise (servers, workstations, VMs, Sysmon
//! hosts) drawn from the seeded PRNG that the planted findings are merged into.

use super::fleet::{self, Device, Rng, P};
use super::{Ev, NetEv, SysEv, VmEv, HOUR, INBOUND, OK, TCP};
use crate::model::time::Nanos;
use std::net::{IpAddr, Ipv4Addr};

/// Background traffic: the everyday noise the hunts must see through.
pub(super) struct Background {
    pub(super) rng: Rng,
    pub(super) servers: Vec<u32>,
    pub(super) workstations: Vec<u32>,
    pub(super) sysmon: Vec<u32>,
    pub(super) vms: Vec<u32>,
    pub(super) dcs: Vec<Ipv4Addr>,
    pub(super) end: Nanos,
}

impl Background {
    pub(super) fn ephemeral(&mut self) -> u16 {
        49_152 + self.rng.below(16_000) as u16
    }

    pub(super) fn client_ip(&mut self) -> IpAddr {
        let w = self.rng.below(self.workstations.len() as u64) as u8;
        IpAddr::V4(Ipv4Addr::new(10, 20, 0, 10 + w % 200))
    }

    pub(super) fn event(&mut self, devices: &[Device], t: Nanos) -> Ev {
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

    pub(super) fn out(&mut self, dev: u32, dest: &fleet::Dest, proc_: P) -> NetEv {
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

    pub(super) fn workstation(&mut self, d: u32, dev: &Device) -> NetEv {
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

    pub(super) fn server(&mut self, d: u32, dev: &Device) -> NetEv {
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

    pub(super) fn vm(&mut self, t: Nanos) -> VmEv {
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

    pub(super) fn sys(&mut self) -> SysEv {
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
