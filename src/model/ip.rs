//! IP addresses: an interned IP column and the `RemoteIPType` classes of `docs/hunts.md`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Parse an address as exports write it: dotted IPv4, any IPv6 form (full or compressed,
/// IPv4-mapped), optionally in brackets. Returns `None` for anything else.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    // Nearly every address in an export is plain dotted IPv4: read it directly, and leave
    // everything else (spaces, brackets, zones, IPv6, malformed text) to the general path.
    if let Some(v4) = parse_plain_v4(s.as_bytes()) {
        return Some(IpAddr::V4(v4));
    }
    let t = s.trim();
    let t = t.strip_prefix('[').and_then(|x| x.strip_suffix(']')).unwrap_or(t);
    // Zone ids (`fe80::1%12`) are kept out of the address.
    let t = t.split_once('%').map(|(a, _)| a).unwrap_or(t);
    t.parse().ok()
}

/// Exactly the dotted-quad form the standard parser accepts (four decimal octets, 0..=255,
/// no leading zero unless the octet is `0`), or None (the caller then uses the standard
/// parser, so a None here never changes what is accepted).
fn parse_plain_v4(b: &[u8]) -> Option<Ipv4Addr> {
    if b.len() < 7 || b.len() > 15 {
        return None;
    }
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (k, octet) in octets.iter_mut().enumerate() {
        if k > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut v: u32 = 0;
        while i < b.len() && i - start < 3 && b[i].is_ascii_digit() {
            v = v * 10 + u32::from(b[i] - b'0');
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || (digits > 1 && b[start] == b'0') || v > 255 {
            return None;
        }
        *octet = v as u8;
    }
    (i == b.len()).then(|| Ipv4Addr::from(octets))
}

fn fold(x: u64, k: u64) -> u64 {
    let p = u128::from(x) * u128::from(k);
    (p as u64) ^ ((p >> 64) as u64)
}

const K1: u64 = 0x9e37_79b9_7f4a_7c15;
const K2: u64 = 0xd6e8_feb8_6659_fd93;

/// Bit 32 of a key marks an IPv4 key, which is the address itself (so equal keys mean equal
/// addresses); an IPv6 key is a hash of the address with that bit clear (equal keys still need
/// the addresses compared).
const V4_KEY: u64 = 1 << 32;

fn ip_key(ip: &IpAddr) -> u64 {
    match ip {
        IpAddr::V4(a) => V4_KEY | u64::from(u32::from(*a)),
        IpAddr::V6(a) => {
            let x = u128::from(*a);
            fold(fold(x as u64 ^ K1, K2) ^ (x >> 64) as u64, K1) & !V4_KEY
        }
    }
}

/// The index hash of a key (rebuilt from the key alone when the index grows).
#[inline]
fn key_hash(key: u64) -> u64 {
    fold(key ^ K2, K1)
}

/// The index of an `IpCol`: open addressing with linear probing over 12-byte slots
/// `[key low, key high, code]` (code 0 = empty slot; code 0 is never indexed). Kept at most
/// 3/4 full, so a probe always ends at an empty slot.
///
/// Its own table rather than a `HashMap` so `IpCol::append` can touch the slots of a batch of
/// addresses before probing them: with millions of distinct addresses every probe is a cache
/// miss, and touching first lets the misses overlap instead of waiting for each in turn.
#[derive(Clone, Default)]
struct IpIndex {
    slots: Vec<[u32; 3]>,
    len: usize,
}

impl IpIndex {
    /// The code stored for `key` (`same` confirms an IPv6 match), or the empty slot where it
    /// would go. Needs a non-empty table (`reserve` first).
    fn probe(&self, key: u64, same: impl Fn(u32) -> bool) -> Result<u32, usize> {
        let mask = self.slots.len() - 1;
        let (lo, hi) = (key as u32, (key >> 32) as u32);
        let mut i = key_hash(key) as usize & mask;
        loop {
            let [a, b, code] = self.slots[i];
            if code == 0 {
                return Err(i);
            }
            if a == lo && b == hi && same(code) {
                return Ok(code);
            }
            i = (i + 1) & mask;
        }
    }

    fn find(&self, key: u64, same: impl Fn(u32) -> bool) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        self.probe(key, same).ok()
    }

    /// Load the slot `key` hashes to, so a probe shortly after finds it in cache.
    fn touch(&self, key: u64) {
        if let Some(s) = self.slots.get(key_hash(key) as usize & self.slots.len().wrapping_sub(1)) {
            std::hint::black_box(s[2]);
        }
    }

    /// Make room for `additional` more codes without growing in between.
    #[inline]
    fn reserve(&mut self, additional: usize) {
        if self.slots.is_empty() || (self.len + additional) * 4 > self.slots.len() * 3 {
            self.grow(self.len + additional);
        }
    }

    #[cold]
    fn grow(&mut self, need: usize) {
        let mut cap = self.slots.len().max(256);
        while need * 4 > cap * 3 {
            cap *= 2;
        }
        // Filled by writing, not `vec![..; cap]`: a zeroed allocation maps the shared zero
        // page, and the first write to each page then costs a copy-on-write fault plus a TLB
        // shootdown across the loader's threads.
        // (`black_box` keeps the allocation and the zeroing from being fused into `calloc`.)
        let mut slots: Vec<[u32; 3]> = std::hint::black_box(Vec::with_capacity(cap));
        slots.resize(cap, [0; 3]);
        let old = std::mem::replace(&mut self.slots, slots);
        let mask = cap - 1;
        for s in old.into_iter().filter(|s| s[2] != 0) {
            let key = u64::from(s[0]) | (u64::from(s[1]) << 32);
            let mut i = key_hash(key) as usize & mask;
            while self.slots[i][2] != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }

    fn insert_at(&mut self, slot: usize, key: u64, code: u32) {
        self.slots[slot] = [key as u32, (key >> 32) as u32, code];
        self.len += 1;
    }

    fn capacity(&self) -> usize {
        self.slots.capacity()
    }
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
#[derive(Clone, Default)]
pub struct IpCol {
    pub codes: Vec<u32>,
    pub ips: Vec<IpAddr>,
    /// Codes (never 0) by address key: an IPv4 lookup never touches `ips` (millions of
    /// distinct addresses make every access there a cache miss).
    index: IpIndex,
}

impl std::fmt::Debug for IpCol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IpCol").field("codes", &self.codes).field("ips", &self.ips).finish()
    }
}

impl IpCol {
    pub fn new() -> Self {
        IpCol { codes: Vec::new(), ips: vec![IpAddr::V4(Ipv4Addr::UNSPECIFIED)], index: IpIndex::default() }
    }

    fn ensure_init(&mut self) {
        if self.ips.is_empty() {
            self.ips.push(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        }
    }

    pub fn intern(&mut self, ip: Option<IpAddr>) -> u32 {
        self.ensure_init();
        let Some(ip) = ip else { return 0 };
        let key = ip_key(&ip);
        let v4 = key & V4_KEY != 0;
        self.index.reserve(1);
        let ips = &self.ips;
        match self.index.probe(key, |c| v4 || ips.get(c as usize) == Some(&ip)) {
            Ok(c) => c,
            Err(slot) => {
                let c = self.ips.len() as u32;
                self.ips.push(ip);
                self.index.insert_at(slot, key, c);
                c
            }
        }
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
        let key = ip_key(&ip);
        let v4 = key & V4_KEY != 0;
        self.index.find(key, |c| v4 || self.ips.get(c as usize) == Some(&ip))
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
        // Grow once for the worst case (all new) rather than rehashing in steps.
        self.index.reserve(other.ips.len());
        let mut remap: Vec<u32> = Vec::with_capacity(other.ips.len());
        let n = other.ips.len() as u32;
        for start in (0..n).step_by(16) {
            let batch = start..(start + 16).min(n);
            for c in batch.clone() {
                if let Some(ip) = other.addr(c) {
                    self.index.touch(ip_key(&ip));
                }
            }
            remap.extend(batch.map(|c| self.intern(other.addr(c))));
        }
        self.codes.reserve(other.codes.len());
        self.codes.extend(other.codes.iter().map(|&c| remap[c as usize]));
    }

    /// Push one address per row, in order (the codes `push` would give each).
    pub fn extend(&mut self, rows: &[Option<IpAddr>]) {
        self.ensure_init();
        self.codes.reserve(rows.len());
        // As in `append`: touch a batch's slots before probing, so the cache misses overlap.
        for batch in rows.chunks(16) {
            self.index.reserve(batch.len());
            for ip in batch.iter().flatten() {
                self.index.touch(ip_key(ip));
            }
            for &ip in batch {
                let c = self.intern(ip);
                self.codes.push(c);
            }
        }
    }

    pub fn heap_bytes(&self) -> usize {
        self.codes.capacity() * 4 + self.ips.capacity() * 17 + self.index.capacity() * 12
    }

    /// The index's slots `[key low, key high, code]` (code 0 = empty): saved with `ips` so a
    /// reloaded column needs no rebuild (`from_parts`).
    pub fn index_slots(&self) -> &[[u32; 3]] {
        &self.index.slots
    }

    /// A column from its codes, addresses and `index_slots`. Checks what lookups and `get`
    /// rely on (codes and slots in range, a power-of-two table with an empty slot, every
    /// address indexed once), so parts read back from disk can never make them panic or loop.
    pub fn from_parts(codes: Vec<u32>, ips: Vec<IpAddr>, slots: Vec<[u32; 3]>) -> Result<IpCol, String> {
        if ips.is_empty() {
            return if codes.is_empty() && slots.is_empty() {
                Ok(IpCol { codes, ips, index: IpIndex::default() })
            } else {
                Err("address column without its empty address".into())
            };
        }
        if ips.len() > u32::MAX as usize {
            return Err("address column has more addresses than codes".into());
        }
        let n = ips.len() as u32;
        if codes.iter().fold(0, |m, &c| m.max(c)) >= n {
            return Err("address code out of range".into());
        }
        if !slots.is_empty() && !slots.len().is_power_of_two() {
            return Err("address index size is not a power of two".into());
        }
        let mut seen = vec![false; ips.len()];
        let mut len = 0usize;
        for &[_, _, code] in &slots {
            if code == 0 {
                continue;
            }
            match seen.get_mut(code as usize) {
                Some(s) if !*s => *s = true,
                _ => return Err("address index holds a code twice or out of range".into()),
            }
            len += 1;
        }
        if len + 1 != ips.len() || (!slots.is_empty() && len >= slots.len()) {
            return Err("address index does not hold every address exactly once".into());
        }
        Ok(IpCol { codes, ips, index: IpIndex { slots, len } })
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
    fn plain_v4_fast_path_agrees_with_the_standard_parser() {
        let cases = [
            "1.2.3.4",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3.04",
            "1.2.3",
            "1.2.3.4.5",
            "1..2.3",
            "1.2.3.4 ",
            "1234.1.1.1",
            "1.2.3.",
            ".1.2.3",
            "10.0.0.1",
            "100.200.250.199",
            "1.2.3.4a",
        ];
        for s in cases {
            assert_eq!(parse_plain_v4(s.as_bytes()), s.parse::<Ipv4Addr>().ok(), "{s}");
        }
    }

    #[test]
    fn intern_dedups_and_survives_growth() {
        let mut col = IpCol::new();
        for i in 0..5000u32 {
            col.push(Some(IpAddr::V4(Ipv4Addr::from(i * 7))));
            col.push(Some(IpAddr::V6(Ipv6Addr::from(u128::from(i) << 64))));
        }
        col.push(None);
        col.push(Some(IpAddr::V4(Ipv4Addr::from(7))));
        assert_eq!(col.distinct(), 10_001);
        assert_eq!(col.get(10_000), None);
        assert_eq!(col.codes[10_001], col.codes[2]);
        assert_eq!(col.lookup(IpAddr::V6(Ipv6Addr::from(3u128 << 64))), Some(col.codes[7]));
        assert_eq!(col.lookup(IpAddr::V4(Ipv4Addr::from(8))), None);
        let mut other = IpCol::new();
        other.push(Some(IpAddr::V4(Ipv4Addr::from(14))));
        other.push(Some(IpAddr::V4(Ipv4Addr::from(1))));
        col.append(other);
        assert_eq!(col.get(10_002), Some(IpAddr::V4(Ipv4Addr::from(14))));
        assert_eq!(col.get(10_003), Some(IpAddr::V4(Ipv4Addr::from(1))));
        assert_eq!(col.distinct(), 10_002);
        // An IPv4-mapped IPv6 address is a different value from the IPv4 one.
        let mapped = col.intern(parse_ip("::ffff:0.0.0.14"));
        assert_ne!(mapped, col.codes[10_002]);
        assert_eq!(col.addr(mapped), parse_ip("::ffff:0.0.0.14"));
    }

    #[test]
    fn parts_rebuild_an_equal_column_and_bad_parts_are_refused() {
        let mut col = IpCol::new();
        for i in 0..300u32 {
            col.push(Some(IpAddr::V4(Ipv4Addr::from(i * 13))));
            col.push(parse_ip("2001:db8::7"));
            col.push(None);
        }
        let slots = col.index_slots().to_vec();
        let back = IpCol::from_parts(col.codes.clone(), col.ips.clone(), slots.clone()).unwrap();
        assert_eq!(back.codes, col.codes);
        for (code, ip) in col.ips.iter().enumerate().skip(1) {
            assert_eq!(back.lookup(*ip), Some(code as u32));
        }
        assert_eq!(back.lookup(parse_ip("9.9.9.9").unwrap()), None);
        let bad =
            |codes: Vec<u32>, ips: Vec<IpAddr>, slots: Vec<[u32; 3]>| IpCol::from_parts(codes, ips, slots).is_err();
        let n = col.ips.len() as u32;
        assert!(bad(vec![n], col.ips.clone(), slots.clone()), "code out of range");
        assert!(bad(col.codes.clone(), col.ips.clone(), slots[1..].to_vec()), "not a power of two");
        let mut twice = slots.clone();
        let (a, b) = (twice.iter().position(|s| s[2] != 0).unwrap(), twice.iter().position(|s| s[2] == 0).unwrap());
        twice[b] = twice[a];
        assert!(bad(col.codes.clone(), col.ips.clone(), twice), "a code indexed twice");
        let full = vec![[1, 1, 1]; 1];
        assert!(
            bad(vec![], vec![IpAddr::V4(Ipv4Addr::UNSPECIFIED), IpAddr::V4(Ipv4Addr::LOCALHOST)], full),
            "no empty slot"
        );
        assert!(bad(vec![0], vec![], vec![]), "codes without addresses");
        assert!(IpCol::from_parts(vec![], vec![], vec![]).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn plain_v4_matches_std_on_any_digit_dot_text(s in "[0-9.]{0,16}") {
            proptest::prop_assert_eq!(parse_plain_v4(s.as_bytes()), s.parse::<Ipv4Addr>().ok());
        }
    }

    #[test]
    fn parse_accepts_export_forms() {
        assert_eq!(parse_ip(" [::1] "), Some("::1".parse().unwrap()));
        assert_eq!(parse_ip("fe80::1%12"), Some("fe80::1".parse().unwrap()));
        assert_eq!(parse_ip("1.2.3"), None);
        assert_eq!(parse_ip("host.example"), None);
    }
}
