//! Threat-intel IP feeds: IPsum (`IP<TAB>count`), its `levels/N.txt`, plain IP and CIDR lists.
//! Entries from every feed are merged; an address is listed at a level when some entry for it
//! has no count or a count >= the level.

use crate::ingest::sink::{clip, MAX_LISTED_REJECTS};
use crate::ingest::{LoadError, Reject, SourceData, Tracker};
use crate::model::ip::parse_ip;
use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;

/// What reading one feed file did.
#[derive(Debug, Default)]
pub struct FeedReport {
    pub format: String,
    pub entries: u64,
    pub rejected: u64,
    pub rejects: Vec<Reject>,
    pub warnings: Vec<String>,
}

/// A feed hit for one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TiHit {
    /// Some entry for this address had no count (listed at every level).
    pub uncounted: bool,
    /// The largest count among entries for this address.
    pub max_count: Option<u32>,
}

impl TiHit {
    /// Listed at `min_level`: an entry with no count, or a count >= `min_level`.
    pub fn listed(&self, min_level: u32) -> bool {
        self.uncounted || self.max_count.is_some_and(|c| c >= min_level)
    }

    fn add(&mut self, count: Option<u32>) {
        match count {
            None => self.uncounted = true,
            Some(c) => self.max_count = Some(self.max_count.map_or(c, |m| m.max(c))),
        }
    }

    fn merge(&mut self, o: TiHit) {
        self.uncounted |= o.uncounted;
        if let Some(c) = o.max_count {
            self.add(Some(c));
        }
    }
}

/// Every loaded feed entry, merged.
#[derive(Debug, Default)]
pub struct ThreatIntel {
    /// Display names of the feeds loaded.
    pub sources: Vec<String>,
    exact: HashMap<IpAddr, TiHit>,
    /// Networks wider than one address, by their truncated network.
    nets: HashMap<IpNet, TiHit>,
    /// The prefix lengths present in `nets` (IPv4, IPv6): a lookup probes each once.
    prefixes: (Vec<u8>, Vec<u8>),
    entries: usize,
}

impl ThreatIntel {
    /// Add one entry (readers, tests and the generator). A CIDR lists every address in it.
    pub fn insert(&mut self, net: IpNet, count: Option<u32>) {
        self.entries += 1;
        if net.prefix_len() == net.max_prefix_len() {
            self.exact.entry(net.addr()).or_default().add(count);
        } else {
            let net = net.trunc();
            let lens = match net {
                IpNet::V4(_) => &mut self.prefixes.0,
                IpNet::V6(_) => &mut self.prefixes.1,
            };
            if let Err(i) = lens.binary_search(&net.prefix_len()) {
                lens.insert(i, net.prefix_len());
            }
            self.nets.entry(net).or_default().add(count);
        }
    }

    /// The feed's view of `ip`: exact entries and every listed network containing it, merged.
    pub fn lookup(&self, ip: IpAddr) -> Option<TiHit> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        let mut hit = self.exact.get(&ip).copied();
        let lens = match ip {
            IpAddr::V4(_) => &self.prefixes.0,
            IpAddr::V6(_) => &self.prefixes.1,
        };
        for &len in lens {
            let Ok(net) = IpNet::new(ip, len) else { continue };
            if let Some(h) = self.nets.get(&net.trunc()) {
                hit.get_or_insert_with(TiHit::default).merge(*h);
            }
        }
        hit
    }

    /// Number of entries loaded (lines that named an address or network).
    pub fn len(&self) -> usize {
        self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Everything loaded, as plain lists (load snapshots): `(feeds, entries, exact hits,
    /// network hits)`, in no particular order.
    #[allow(clippy::type_complexity)]
    pub fn to_parts(&self) -> (Vec<String>, usize, Vec<(IpAddr, TiHit)>, Vec<(IpNet, TiHit)>) {
        (
            self.sources.clone(),
            self.entries,
            self.exact.iter().map(|(k, v)| (*k, *v)).collect(),
            self.nets.iter().map(|(k, v)| (*k, *v)).collect(),
        )
    }

    /// The feed `to_parts` described. Networks are truncated and their prefix lengths
    /// collected as `insert` does, so lookups behave the same.
    pub fn from_parts(
        sources: Vec<String>,
        entries: usize,
        exact: Vec<(IpAddr, TiHit)>,
        nets: Vec<(IpNet, TiHit)>,
    ) -> ThreatIntel {
        let mut ti = ThreatIntel { sources, entries, exact: exact.into_iter().collect(), ..Default::default() };
        for (net, hit) in nets {
            let net = net.trunc();
            let lens = match net {
                IpNet::V4(_) => &mut ti.prefixes.0,
                IpNet::V6(_) => &mut ti.prefixes.1,
            };
            if let Err(i) = lens.binary_search(&net.prefix_len()) {
                lens.insert(i, net.prefix_len());
            }
            ti.nets.entry(net).or_default().merge(hit);
        }
        ti
    }

    /// Read one feed file and merge its entries.
    ///
    /// Lines are `IP`, `CIDR` or `IP<whitespace>count`; `#` and `;` start comments anywhere on
    /// a line. A bad line is rejected with its number and the rest still loads.
    pub fn read_list(&mut self, data: &SourceData, display: &str, tracker: &Tracker) -> Result<FeedReport, LoadError> {
        let bytes = data.read_all().map_err(|source| LoadError::Io { path: display.into(), source })?;
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(&bytes);
        let mut report = FeedReport::default();
        let (mut counted, mut cidrs) = (0u64, 0u64);
        let mut reported_bytes = 0usize;
        let mut start = 0usize;
        let mut line_no = 0u64;
        while start < text.len() {
            let end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |i| start + i);
            line_no += 1;
            if line_no % 16_384 == 0 {
                tracker.check()?;
                tracker.advance((end - reported_bytes) as u64, 16_384);
                reported_bytes = end;
            }
            let line = String::from_utf8_lossy(&text[start..end]);
            start = end + 1;
            match parse_line(&line) {
                Ok(None) => {}
                Ok(Some((net, count))) => {
                    counted += u64::from(count.is_some());
                    cidrs += u64::from(net.prefix_len() != net.max_prefix_len());
                    self.insert(net, count);
                    report.entries += 1;
                }
                Err(reason) => {
                    report.rejected += 1;
                    if report.rejects.len() < MAX_LISTED_REJECTS {
                        report.rejects.push(Reject { line: line_no, reason });
                    }
                }
            }
        }
        tracker.advance((text.len().saturating_sub(reported_bytes)) as u64, line_no % 16_384);
        report.format = if counted > 0 {
            "IPsum feed (IP and count)"
        } else if cidrs > 0 {
            "IP and CIDR list"
        } else {
            "IP list"
        }
        .into();
        if report.entries == 0 {
            report.warnings.push("no addresses or networks in this feed".into());
        }
        self.sources.push(display.into());
        Ok(report)
    }
}

/// One feed line: `Ok(None)` for blank and comment lines, the entry, or why it is not one.
fn parse_line(line: &str) -> Result<Option<(IpNet, Option<u32>)>, String> {
    let body = match line.find(['#', ';']) {
        Some(i) => &line[..i],
        None => line,
    };
    let mut parts = body.split_whitespace();
    let Some(addr) = parts.next() else { return Ok(None) };
    let net = match parse_ip(addr) {
        Some(ip) => IpNet::from(ip),
        None => addr.parse::<IpNet>().map_err(|_| format!("not an IP or CIDR: `{}`", clip(addr)))?,
    };
    let count = match parts.next() {
        None => None,
        Some(c) => Some(c.parse::<u32>().map_err(|_| format!("bad count `{}` after {addr}", clip(c)))?),
    };
    if let Some(extra) = parts.next() {
        return Err(format!("unexpected `{}` after {addr}", clip(extra)));
    }
    Ok(Some((net, count)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_merges_exact_and_cidr_entries() {
        let mut ti = ThreatIntel::default();
        ti.insert("198.51.100.7/32".parse().unwrap(), Some(3));
        ti.insert("198.51.100.0/24".parse().unwrap(), None);
        ti.insert("203.0.113.5/32".parse().unwrap(), Some(5));
        let a = ti.lookup("198.51.100.7".parse().unwrap()).unwrap();
        assert_eq!(a, TiHit { uncounted: true, max_count: Some(3) });
        assert!(a.listed(8));
        let b = ti.lookup("203.0.113.5".parse().unwrap()).unwrap();
        assert!(b.listed(5) && !b.listed(6));
        assert!(ti.lookup("::ffff:203.0.113.5".parse().unwrap()).is_some());
        assert_eq!(ti.lookup("192.0.2.1".parse().unwrap()), None);
        assert_eq!(ti.len(), 3);
    }
}

#[cfg(test)]
mod read_tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    fn read(text: &'static str) -> (ThreatIntel, FeedReport) {
        let cancel = AtomicBool::new(false);
        let cb = |_: &crate::ingest::Progress| {};
        let tracker = Tracker::new(&cb, &cancel);
        let mut ti = ThreatIntel::default();
        let r = ti.read_list(&SourceData::Static(text.as_bytes()), "feed.txt", &tracker).unwrap();
        (ti, r)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn reads_ipsum_counts_and_skips_comments() {
        let (ti, r) = read(
            "# IPsum\n# IP\tnumber of (black)lists\n\n198.51.100.7\t10\n203.0.113.9   2\n192.0.2.1\t4 # trailing\n",
        );
        assert_eq!(r.format, "IPsum feed (IP and count)");
        assert_eq!((r.entries, r.rejected), (3, 0));
        assert_eq!(ti.lookup(ip("198.51.100.7")).unwrap().max_count, Some(10));
        assert_eq!(ti.lookup(ip("192.0.2.1")).unwrap().max_count, Some(4));
        assert_eq!(ti.sources, vec!["feed.txt".to_string()]);
    }

    #[test]
    fn min_level_cuts_counted_entries_only() {
        let (ti, _) = read("198.51.100.7\t10\n203.0.113.9\t2\n192.0.2.1\n");
        assert!(ti.lookup(ip("198.51.100.7")).unwrap().listed(4));
        assert!(!ti.lookup(ip("203.0.113.9")).unwrap().listed(4));
        assert!(ti.lookup(ip("203.0.113.9")).unwrap().listed(2));
        // No count: listed at every level.
        assert!(ti.lookup(ip("192.0.2.1")).unwrap().listed(u32::MAX));
    }

    #[test]
    fn cidr_lines_list_every_address_and_semicolon_comments() {
        let (ti, r) = read("; DROP list\r\n10.20.0.0/16 ; SBL1\r\n2001:db8::/32\r\n8.8.8.8\r\n");
        assert_eq!(r.format, "IP and CIDR list");
        assert_eq!(r.entries, 3);
        assert!(ti.lookup(ip("10.20.255.1")).is_some());
        assert!(ti.lookup(ip("2001:db8::1")).is_some());
        assert!(ti.lookup(ip("10.21.0.1")).is_none());
        assert!(ti.lookup(ip("8.8.8.8")).is_some());
    }

    #[test]
    fn plain_ip_list_format_name() {
        let (_, r) = read("\u{feff}1.2.3.4\n5.6.7.8\n");
        assert_eq!(r.format, "IP list");
        assert_eq!(r.entries, 2);
    }

    #[test]
    fn bad_lines_are_rejected_with_line_and_reason_rest_loads() {
        let (ti, r) = read("1.2.3.4\nnot-an-ip\n5.6.7.8\tmany\n9.9.9.9 3 extra\n300.1.1.1\n10.0.0.1\n");
        assert_eq!(r.entries, 2);
        assert_eq!(r.rejected, 4);
        assert_eq!(
            r.rejects,
            vec![
                Reject { line: 2, reason: "not an IP or CIDR: `not-an-ip`".into() },
                Reject { line: 3, reason: "bad count `many` after 5.6.7.8".into() },
                Reject { line: 4, reason: "unexpected `extra` after 9.9.9.9".into() },
                Reject { line: 5, reason: "not an IP or CIDR: `300.1.1.1`".into() },
            ]
        );
        assert!(ti.lookup(ip("10.0.0.1")).is_some());
    }

    #[test]
    fn invalid_utf8_is_read_lossily() {
        let cancel = AtomicBool::new(false);
        let cb = |_: &crate::ingest::Progress| {};
        let tracker = Tracker::new(&cb, &cancel);
        let mut ti = ThreatIntel::default();
        let data = SourceData::Static(b"# caf\xe9 list\n1.2.3.4\n\xff\xfe\n");
        let r = ti.read_list(&data, "x", &tracker).unwrap();
        assert_eq!((r.entries, r.rejected), (1, 1));
        assert_eq!(r.rejects[0].line, 3);
    }

    #[test]
    fn many_networks_of_mixed_prefixes_are_all_found() {
        let mut ti = ThreatIntel::default();
        for i in 0..5_000u32 {
            let [a, b, _, _] = (0x0A00_0000u32 + (i << 16)).to_be_bytes();
            ti.insert(format!("{a}.{b}.0.0/16").parse().unwrap(), Some(i % 7));
        }
        ti.insert("10.1.2.0/24".parse().unwrap(), Some(9));
        ti.insert("10.1.2.0/24".parse().unwrap(), None);
        ti.insert("0.0.0.0/0".parse().unwrap(), Some(1));
        ti.insert("2001:db8::/48".parse().unwrap(), Some(2));
        let hit = ti.lookup(ip("10.1.2.3")).unwrap();
        assert_eq!(hit, TiHit { uncounted: true, max_count: Some(9) });
        assert_eq!(ti.lookup(ip("10.6.200.1")).unwrap().max_count, Some(6));
        assert_eq!(ti.lookup(ip("203.0.113.1")).unwrap().max_count, Some(1));
        assert_eq!(ti.lookup(ip("2001:db8:1::1")), None);
        assert_eq!(ti.lookup(ip("2001:db8::1")).unwrap().max_count, Some(2));
        assert_eq!(ti.len(), 5_004);
    }

    #[test]
    fn empty_feed_warns() {
        let (ti, r) = read("# nothing here\n\n");
        assert!(ti.is_empty());
        assert_eq!(r.warnings.len(), 1);
    }
}
