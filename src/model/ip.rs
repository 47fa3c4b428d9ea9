//! IP addresses: an interned IP column and the `RemoteIPType` classes of `hunts.md`.

// hashbrown's default hasher is several times faster than SipHash on addresses.
use hashbrown::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Parse an address as exports write it: dotted IPv4, any IPv6 form (full or compressed,
/// IPv4-mapped), optionally in brackets. Returns `None` for anything else.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    let t = s.trim();
    let t = t.strip_prefix('[').and_then(|x| x.strip_suffix(']')).unwrap_or(t);
    // Zone ids (`fe80::1%12`) are kept out of the address.
    let t = t.split_once('%').map(|(a, _)| a).unwrap_or(t);
    t.parse().ok()
}

/// The class names Defender writes in `RemoteIPType`, derived when the column is empty.
pub fn classify(ip: IpAddr) -> &'static str {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn in_v4(ip: u32, net: [u8; 4], bits: u32) -> bool {
    let n = u32::from_be_bytes(net);
    let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
    ip & mask == n & mask
}

fn classify_v4(ip: Ipv4Addr) -> &'static str {
    let x = u32::from(ip);
    if x == u32::MAX {
        return "Broadcast";
    }
    if in_v4(x, [127, 0, 0, 0], 8) {
        return "Loopback";
    }
    if in_v4(x, [10, 0, 0, 0], 8) || in_v4(x, [172, 16, 0, 0], 12) || in_v4(x, [192, 168, 0, 0], 16) {
        return "Private";
    }
    const RESERVED: [([u8; 4], u32); 10] = [
        ([0, 0, 0, 0], 8),
        ([100, 64, 0, 0], 10),
        ([169, 254, 0, 0], 16),
        ([192, 0, 0, 0], 24),
        ([192, 0, 2, 0], 24),
        ([198, 18, 0, 0], 15),
        ([198, 51, 100, 0], 24),
        ([203, 0, 113, 0], 24),
        ([224, 0, 0, 0], 4),
        ([240, 0, 0, 0], 4),
    ];
    if RESERVED.iter().any(|(n, b)| in_v4(x, *n, *b)) {
        return "Reserved";
    }
    "Public"
}

fn in_v6(ip: u128, net: u128, bits: u32) -> bool {
    let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
    ip & mask == net & mask
}

fn classify_v6(ip: Ipv6Addr) -> &'static str {
    let x = u128::from(ip);
    if ip == Ipv6Addr::LOCALHOST {
        return "Loopback";
    }
    if in_v6(x, 0xffff_0000_0000, 96) {
        return "FourToSixMapping";
    }
    if in_v6(x, 0xfc00 << 112, 7) {
        return "Private";
    }
    // 2001:db8::/32 is checked before 2001::/32 (Teredo): both start 2001.
    if in_v6(x, 0xfe80 << 112, 10) || in_v6(x, 0xff00 << 112, 8) || in_v6(x, 0x2001_0db8 << 96, 32) {
        return "Reserved";
    }
    if in_v6(x, 0x2001 << 112, 32) {
        return "Teredo";
    }
    "Public"
}

/// The canonical text of an address (`::ffff:1.2.3.4` for mapped, compressed IPv6).
pub fn ip_text(ip: IpAddr) -> String {
    ip.to_string()
}

/// An interned IP column: code 0 = no address.
#[derive(Clone, Default, Debug)]
pub struct IpCol {
    pub codes: Vec<u32>,
    pub ips: Vec<IpAddr>,
    index: HashMap<IpAddr, u32>,
}

impl IpCol {
    pub fn new() -> Self {
        IpCol { codes: Vec::new(), ips: vec![IpAddr::V4(Ipv4Addr::UNSPECIFIED)], index: HashMap::new() }
    }

    fn ensure_init(&mut self) {
        if self.ips.is_empty() {
            self.ips.push(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        }
    }

    pub fn intern(&mut self, ip: Option<IpAddr>) -> u32 {
        self.ensure_init();
        let Some(ip) = ip else { return 0 };
        if let Some(&c) = self.index.get(&ip) {
            return c;
        }
        let c = self.ips.len() as u32;
        self.ips.push(ip);
        self.index.insert(ip, c);
        c
    }

    pub fn push(&mut self, ip: Option<IpAddr>) {
        let c = self.intern(ip);
        self.codes.push(c);
    }

    /// The address of `row`, `None` when the row has none.
    pub fn get(&self, row: usize) -> Option<IpAddr> {
        self.addr(self.codes[row])
    }

    pub fn addr(&self, code: u32) -> Option<IpAddr> {
        if code == 0 {
            None
        } else {
            Some(self.ips[code as usize])
        }
    }

    pub fn lookup(&self, ip: IpAddr) -> Option<u32> {
        self.index.get(&ip).copied()
    }

    /// Number of distinct codes including code 0.
    pub fn distinct(&self) -> usize {
        self.ips.len().max(1)
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    pub fn append(&mut self, other: IpCol) {
        if self.codes.is_empty() && self.ips.len() <= 1 {
            // Nothing to remap into: take the other column as is (the first chunk of a load).
            *self = other;
            return;
        }
        self.ensure_init();
        let remap: Vec<u32> = (0..other.ips.len() as u32).map(|c| self.intern(other.addr(c))).collect();
        self.codes.extend(other.codes.iter().map(|&c| remap[c as usize]));
    }

    pub fn heap_bytes(&self) -> usize {
        self.codes.capacity() * 4 + self.ips.capacity() * 17 + self.index.capacity() * 24
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> &'static str {
        classify(parse_ip(s).unwrap())
    }

    #[test]
    fn classes_follow_hunts_md() {
        assert_eq!(c("127.0.0.1"), "Loopback");
        assert_eq!(c("::1"), "Loopback");
        assert_eq!(c("10.1.2.3"), "Private");
        assert_eq!(c("172.31.255.255"), "Private");
        assert_eq!(c("172.32.0.1"), "Public");
        assert_eq!(c("192.168.1.1"), "Private");
        assert_eq!(c("fd00::1"), "Private");
        assert_eq!(c("::ffff:1.2.3.4"), "FourToSixMapping");
        assert_eq!(c("100.64.0.1"), "Reserved");
        assert_eq!(c("169.254.169.254"), "Reserved");
        assert_eq!(c("224.0.0.251"), "Reserved");
        assert_eq!(c("255.255.255.255"), "Broadcast");
        assert_eq!(c("240.0.0.1"), "Reserved");
        assert_eq!(c("fe80:0:0:0:1:2:3:4"), "Reserved");
        assert_eq!(c("ff02::1"), "Reserved");
        assert_eq!(c("2001:db8::1"), "Reserved");
        assert_eq!(c("2001:0:1::1"), "Teredo");
        assert_eq!(c("8.8.8.8"), "Public");
        assert_eq!(c("2606:4700::1111"), "Public");
    }

    #[test]
    fn parse_accepts_export_forms() {
        assert_eq!(parse_ip(" [::1] "), Some("::1".parse().unwrap()));
        assert_eq!(parse_ip("fe80::1%12"), Some("fe80::1".parse().unwrap()));
        assert_eq!(parse_ip("1.2.3"), None);
        assert_eq!(parse_ip("host.example"), None);
    }
}
