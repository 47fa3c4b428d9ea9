//! The planted findings (a handful of meaningful rows per hunt, plus decoys each hunt must
//! drop) and the deterministic baselines that keep everything else quiet at any scale.

use super::fleet::{self, Device, Rng, P};
use super::{Ev, GenOptions, NetEv, SysEv, VmEv, DAY, HOUR, INBOUND, MINUTE, OK, TCP};
use crate::model::time::Nanos;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

/// Feed entries the planted events rely on: (address, number of lists).
const FEED: &[(&str, u32)] = &[
    ("218.92.0.107", 9),
    ("80.94.95.115", 7),
    ("45.155.205.233", 6),
    ("194.26.29.40", 5),
    ("185.156.73.54", 4),
    ("185.220.101.45", 3),
    ("87.121.84.10", 2),
];

/// First octets for the feed's filler entries: none of them is used by the fleet.
const FILLER_OCTETS: &[u8] = &[
    2, 31, 36, 37, 39, 42, 46, 49, 58, 59, 60, 101, 103, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121,
    122, 123, 124, 125, 171, 180, 182, 183, 186, 187, 189, 190, 191, 200, 201, 210, 211, 212, 213, 217, 220, 221, 222,
    223,
];

/// What each hunt should report on the generated fleet with default parameters.
pub(crate) fn findings() -> Vec<String> {
    [
        "rare-process: putty.exe (PuTTY.exe/putty.exe, 2 devices, port 22), rclone.exe (8443), ncat.exe (4444 beacon), acmeagent.exe (8443); python.exe on 5 devices, browsers, IPv6 ssh.exe and port 443 traffic stay out",
        "vm-new-country: srv-lnx01 curl -> North Korea, srv-app01 python3 -> Russia (MaliciousIp), srv-lnx01 wget -> China in the last hour; a recent Brazil row stays out (Brazil is common)",
        "supply-chain: acmeagent.exe (Acme Monitoring Ltd, 2 servers): new connections from srv-app02 and srv-app03 to 91.215.85.17:8443; a new srv-app03 connection to a high-prevalence Teams address stays out",
        "server-anomaly: 185.220.101.45 (srv-web01 w3wp.exe), 194.26.29.113 (Sysmon on srv-sql01, powershell.exe), 185.241.208.77 (login.live.com.evil.example), 91.215.85.17 (acmeagent.exe); login.live.com, 169.254.169.254 and an old certutil.exe address stay out",
        "ti-inbound: srv-web01:443 from 45.155.205.233 (x2), srv-jump01:3389 from 80.94.95.115, srv-sftp01:22 from 218.92.0.107 and 185.156.73.54; a count-2 address, a non-facing port and srv-mail01 (no longer internet-facing) stay out",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn ip(s: &str) -> IpAddr {
    fleet::ip(s)
}

/// The feed: planted entries, then seeded filler, sorted by count descending like IPsum.
pub(crate) fn feed(opts: &GenOptions) -> Vec<(Ipv4Addr, u32)> {
    let mut out: Vec<(Ipv4Addr, u32)> = FEED.iter().filter_map(|(a, c)| a.parse().ok().map(|ip| (ip, *c))).collect();
    let mut seen: HashSet<Ipv4Addr> = out.iter().map(|e| e.0).collect();
    let mut rng = Rng::new(opts.seed ^ 0xFEED);
    let filler = (opts.events / 1000).clamp(150, 20_000) as usize;
    while out.len() < FEED.len() + filler {
        let a = *rng.pick(FILLER_OCTETS);
        let ipv4 = Ipv4Addr::new(a, rng.below(256) as u8, rng.below(256) as u8, 1 + rng.below(254) as u8);
        if !seen.insert(ipv4) {
            continue;
        }
        let count = match rng.below(100) {
            0..=59 => 1,
            60..=79 => 2,
            80..=89 => 3,
            90..=96 => 4 + rng.below(2) as u32,
            _ => 6 + rng.below(3) as u32,
        };
        out.push((ipv4, count));
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.1));
    out
}

struct Plan<'a> {
    devices: &'a [Device],
    out: Vec<(Nanos, Ev)>,
}

impl Plan<'_> {
    fn dev(&self, short: &str) -> u32 {
        self.devices.iter().position(|d| d.short == short).unwrap_or(0) as u32
    }

    #[allow(clippy::too_many_arguments)]
    fn net(
        &mut self,
        t: Nanos,
        dev: u32,
        action: &'static str,
        remote: &str,
        rport: u16,
        url: &'static str,
        lport: u16,
        proc_: P,
    ) {
        self.out.push((
            t,
            Ev::Net(NetEv { dev, action, remote: Some(ip(remote)), rport: Some(rport), url, lport, proto: TCP, proc_ }),
        ));
    }

    fn outbound(&mut self, t: Nanos, dev: &str, remote: &str, port: u16, url: &'static str, proc_: P) {
        let d = self.dev(dev);
        let lport = 50_000 + (self.out.len() % 15_000) as u16;
        self.net(t, d, OK, remote, port, url, lport, proc_);
    }

    fn inbound(&mut self, t: Nanos, dev: &str, remote: &str, lport: u16, proc_: P) {
        let d = self.dev(dev);
        let rport = 40_000 + (self.out.len() % 20_000) as u16;
        self.net(t, d, INBOUND, remote, rport, "", lport, proc_);
    }

    #[allow(clippy::too_many_arguments)]
    fn vm(
        &mut self,
        t: Nanos,
        dev: &str,
        process: &'static str,
        remote: &str,
        port: u16,
        country: &'static str,
        malicious: bool,
    ) {
        let d = self.dev(dev);
        let n = self.out.len() as u64;
        self.out.push((
            t,
            Ev::Vm(VmEv {
                dev: d,
                outbound: true,
                process,
                remote: ip(remote),
                port,
                proto: "tcp",
                country,
                malicious,
                sent: 1_200 + n * 37 % 90_000,
                received: 4_000 + n * 101 % 400_000,
            }),
        ));
    }

    fn sysmon(&mut self, t: Nanos, dev: &str, proc_: P, remote: &str, port: u16) {
        let d = self.dev(dev);
        let lport = 50_000 + (self.out.len() % 15_000) as u16;
        self.out.push((
            t,
            Ev::Sys(SysEv {
                dev: d,
                eid: 3,
                proc_,
                initiated: true,
                remote: ip(remote),
                rport: port,
                lport,
                host: "-",
                proto: "tcp",
            }),
        ));
    }
}

/// Every planted event with its time (unsorted).
pub(crate) fn plan(devices: &[Device], end: Nanos, days: u32) -> Vec<(Nanos, Ev)> {
    let mut p = Plan { devices, out: Vec::new() };
    let start = end - i64::from(days) * DAY;
    let ws: Vec<String> = devices.iter().filter(|d| !d.is_server()).map(|d| d.short.clone()).collect();

    // Baselines. Every server contacts each of its usual destinations early on, so no
    // ordinary (server, address, port) is "new" to supply-chain whatever the seed.
    let t0 = end - 13 * DAY;
    let servers: Vec<&Device> = devices.iter().filter(|d| d.is_server()).collect();
    for (k, s) in servers.iter().enumerate() {
        let dests = if s.linux() { fleet::LINUX_DESTS } else { fleet::SERVER_DESTS };
        for (j, dest) in dests.iter().enumerate() {
            p.outbound(t0 + (k as i64 * 12 + j as i64) * MINUTE, &s.short, dest.ip, dest.port, dest.url, dest.proc_);
        }
    }
    // The Acme agent checks for updates twice a day (>= 50 times in any 14+ day history, so
    // its update server is not "rare" to server-anomaly).
    let mut t = start + HOUR;
    while t < end - 2 * HOUR {
        p.outbound(t, "srv-app02", "104.16.88.20", 443, "updates.acme-monitoring.example", P::Acme);
        p.outbound(t + 7 * MINUTE, "srv-app03", "104.16.88.20", 443, "updates.acme-monitoring.example", P::Acme);
        t += 12 * HOUR;
    }
    // Every VM country of the background is common (> 5 rows) at any scale.
    for (ci, (iso, ips)) in fleet::VM_DESTS.iter().enumerate() {
        for k in 0..8i64 {
            let t = end - 6 * HOUR - k * DAY - ci as i64 * 10 * MINUTE;
            p.vm(t, "srv-app01", "omsagent", ips[k as usize % ips.len()], 443, iso, false);
        }
    }
    // A busy agent with no URL: >= 50 connections, so not rare to server-anomaly.
    let spread = i64::from(days.min(29)) * DAY / 55;
    for k in 0..55i64 {
        p.outbound(end - 4 * HOUR - k * spread, "srv-mail01", "13.69.106.10", 443, "", P::MonHost);
    }

    // rare-process.
    p.outbound(end - 6 * DAY, &ws[3], "45.77.18.207", 22, "", P::PuttyUpper);
    p.outbound(end - 6 * DAY + 40 * MINUTE, &ws[3], "45.77.18.207", 22, "", P::PuttyUpper);
    p.outbound(end - 2 * DAY, &ws[5], "45.77.18.207", 22, "", P::Putty);
    p.outbound(end - 2 * DAY + 3 * MINUTE, &ws[5], "45.77.18.207", 443, "", P::Putty);
    for k in 0..6 {
        p.outbound(end - 26 * HOUR + k * 7 * MINUTE, &ws[6], "45.77.93.12", 8443, "", P::Rclone);
    }
    for k in 0..24 {
        p.outbound(end - 30 * HOUR + k * HOUR + 17 * crate::gen::SEC, &ws[2], "194.26.29.40", 4444, "", P::Ncat);
    }
    for (k, w) in ws.iter().take(5).enumerate() {
        p.outbound(end - 3 * DAY + k as i64 * HOUR, w, "151.101.64.223", 8000, "", P::Python);
    }
    p.outbound(end - 5 * DAY, &ws[1], "45.77.18.207", 8080, "", P::Chrome);
    let d = p.dev(&ws[4]);
    p.net(end - 4 * DAY, d, OK, "2a01:4f8:c17:3a1b::1", 22, "", 50_022, P::Ssh);

    // vm-new-country.
    for m in [50, 30, 10] {
        p.vm(end - m * MINUTE, "srv-lnx01", "curl", "175.45.176.71", 443, "KP", false);
    }
    for m in [40, 20] {
        p.vm(end - m * MINUTE, "srv-app01", "python3", "5.188.206.14", 8080, "RU", true);
    }
    p.vm(end - 15 * MINUTE, "srv-lnx01", "wget", "61.160.224.33", 80, "CN", false);
    p.vm(end - 12 * DAY, "srv-app02", "apt", "5.188.206.20", 80, "RU", false);
    p.vm(end - 11 * DAY, "srv-app02", "apt", "5.188.206.20", 80, "RU", false);
    for k in 0..7i64 {
        p.vm(end - (2 + k) * DAY, "srv-app03", "dotnet", "177.0.33.10", 443, "BR", false);
    }
    p.vm(end - 25 * MINUTE, "srv-app03", "dotnet", "177.0.33.10", 443, "BR", false);

    // supply-chain.
    for h in [20, 14, 8, 2] {
        p.outbound(end - h * HOUR, "srv-app03", "91.215.85.17", 8443, "", P::Acme);
    }
    for h in [18, 6] {
        p.outbound(end - h * HOUR, "srv-app02", "91.215.85.17", 8443, "", P::Acme);
    }
    p.outbound(end - 5 * HOUR, "srv-app03", "52.112.120.14", 443, "teams.microsoft.com", P::Svchost);
    for (k, w) in ws.iter().take(8).enumerate() {
        p.outbound(end - 4 * DAY + k as i64 * 3 * HOUR, w, "52.112.120.14", 443, "teams.microsoft.com", P::Teams);
    }

    // server-anomaly.
    for t in [end - 4 * DAY, end - 2 * DAY, end - HOUR] {
        p.outbound(t, "srv-web01", "185.220.101.45", 443, "", P::W3wp);
    }
    p.sysmon(end - 30 * HOUR, "srv-sql01", P::Powershell, "194.26.29.113", 443);
    p.sysmon(end - 30 * HOUR + 10 * MINUTE, "srv-sql01", P::Powershell, "194.26.29.113", 443);
    for m in [0, 5] {
        p.outbound(
            end - 3 * DAY + m * MINUTE,
            "srv-app01",
            "185.241.208.77",
            443,
            "login.live.com.evil.example",
            P::Powershell,
        );
    }
    for h in [50, 49, 48] {
        p.outbound(end - h * HOUR, "srv-dc01", "40.126.32.134", 443, "login.live.com", P::Svchost);
    }
    p.sysmon(end - DAY, "srv-sql01", P::Svchost, "169.254.169.254", 80);
    p.sysmon(end - DAY + MINUTE, "srv-sql01", P::Svchost, "169.254.169.254", 80);
    let old = (end - 20 * DAY).max(start + HOUR);
    p.outbound(old, "srv-dc02", "151.101.2.133", 80, "", P::Certutil);
    p.outbound(old + 2 * MINUTE, "srv-dc02", "151.101.2.133", 80, "", P::Certutil);

    // ti-inbound.
    p.inbound(end - 20 * HOUR, "srv-web01", "45.155.205.233", 443, P::System);
    p.inbound(end - 20 * HOUR + 5 * MINUTE, "srv-web01", "45.155.205.233", 443, P::System);
    p.inbound(end - 2 * DAY, "srv-jump01", "80.94.95.115", 3389, P::Svchost);
    p.inbound(end - 6 * HOUR, "srv-sftp01", "218.92.0.107", 22, P::Sshd);
    p.inbound(end - 3 * HOUR, "srv-sftp01", "185.156.73.54", 22, P::Sshd);
    p.inbound(end - 9 * HOUR, "srv-web01", "87.121.84.10", 443, P::System);
    p.inbound(end - 10 * HOUR, "srv-web01", "45.155.205.233", 8080, P::W3wp);
    p.inbound(end - DAY, "srv-mail01", "80.94.95.115", 25, P::Exchange);

    // The last event of the fleet: the hunts' default `now`.
    p.outbound(end, &ws[0], "20.189.173.21", 443, "eu-v20.events.data.microsoft.com", P::Sense);
    p.out
}
