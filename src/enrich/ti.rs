//! Threat-intel IP feeds: IPsum (`IP<TAB>count`), its `levels/N.txt`, plain IP and CIDR lists.
//!
//! Every loaded feed is merged into one set of entries: an address or network listed by several
//! feeds is one entry that keeps the highest count seen (and whether some feed listed it with
//! no count, which lists it at every level). A file named `N.txt` (N a whole number) is an
//! IPsum level file: its bare addresses carry count N. IPv4-mapped IPv6 entries
//! (`::ffff:a.b.c.d`) are the IPv4 address they map, so they match IPv4 events.

use crate::model::clip;
use crate::model::ip::parse_ip;
use crate::source::{LoadError, Reject, SourceData, Tracker, MAX_LISTED_REJECTS};
use ipnet::{IpNet, Ipv4Net};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::IpAddr;

/// The longest feed line read as an entry (an address, a count and a comment fit many times
/// over); a longer line is rejected.
pub const MAX_LINE_BYTES: usize = 4 * 1024;

/// A line that runs this long without a line break is not a feed line at all (binary data,
/// `/dev/zero`): the rest of the file is not read.
pub const MAX_UNBROKEN_BYTES: usize = 1024 * 1024;

/// Distinct entries kept over all feeds (about 40 bytes each); entries past it are not loaded
/// and the feed says so.
pub const MAX_ENTRIES: usize = 20_000_000;

/// What reading one feed file did.
#[derive(Debug, Default)]
pub struct FeedReport {
    pub format: String,
    /// Entry lines read from this file (an entry also listed elsewhere counts here too).
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
#[derive(Clone, Debug, Default)]
pub struct ThreatIntel {
    /// Display names of the feeds loaded.
    pub sources: Vec<String>,
    exact: HashMap<IpAddr, TiHit>,
    /// Networks wider than one address, by their truncated network.
    nets: HashMap<IpNet, TiHit>,
    /// The prefix lengths present in `nets` (IPv4, IPv6): a lookup probes each once.
    prefixes: (Vec<u8>, Vec<u8>),
    /// `MAX_ENTRIES` unless a test sets a smaller one.
    cap: Option<usize>,
}

/// `net` with IPv4-mapped IPv6 (`::ffff:a.b.c.d`, `::ffff:a.b.c.0/120`) as the IPv4 it maps,
/// and host bits cleared.
fn canonical(net: IpNet) -> IpNet {
    if let IpNet::V6(n) = net {
        if n.prefix_len() >= 96 {
            if let Some(v4) = n.addr().to_ipv4_mapped() {
                if let Ok(v4net) = Ipv4Net::new(v4, n.prefix_len() - 96) {
                    return IpNet::V4(v4net).trunc();
                }
            }
        }
    }
    net.trunc()
}

impl ThreatIntel {
    /// Add one entry (readers, tests and the generator). A CIDR lists every address in it; an
    /// entry already present keeps the highest count.
    pub fn insert(&mut self, net: IpNet, count: Option<u32>) {
        let net = canonical(net);
        if net.prefix_len() == net.max_prefix_len() {
            self.exact.entry(net.addr()).or_default().add(count);
        } else {
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

    /// Whether `net` is already an entry (adding it again does not grow the set).
    fn contains(&self, net: IpNet) -> bool {
        let net = canonical(net);
        if net.prefix_len() == net.max_prefix_len() {
            self.exact.contains_key(&net.addr())
        } else {
            self.nets.contains_key(&net)
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

    /// Every merged entry: single addresses (as host networks) and wider networks, with their
    /// hits, sorted by network (the KQL export embeds them).
    pub fn entries(&self) -> impl Iterator<Item = (IpNet, TiHit)> {
        let mut all: Vec<(IpNet, TiHit)> = self
            .exact
            .iter()
            .map(|(ip, h)| (IpNet::from(*ip), *h))
            .chain(self.nets.iter().map(|(n, h)| (*n, *h)))
            .collect();
        all.sort_by_key(|e| e.0);
        all.into_iter()
    }

    /// Number of distinct entries (addresses and networks) over every feed loaded.
    pub fn len(&self) -> usize {
        self.exact.len() + self.nets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Everything loaded, as plain lists (load snapshots): `(feeds, entries, exact hits,
    /// network hits)`, in no particular order.
    #[allow(clippy::type_complexity)]
    pub fn to_parts(&self) -> (Vec<String>, usize, Vec<(IpAddr, TiHit)>, Vec<(IpNet, TiHit)>) {
        (
            self.sources.clone(),
            self.len(),
            self.exact.iter().map(|(k, v)| (*k, *v)).collect(),
            self.nets.iter().map(|(k, v)| (*k, *v)).collect(),
        )
    }

    /// The feed `to_parts` described. Networks are truncated and their prefix lengths
    /// collected as `insert` does, so lookups behave the same.
    pub fn from_parts(
        sources: Vec<String>,
        _entries: usize,
        exact: Vec<(IpAddr, TiHit)>,
        nets: Vec<(IpNet, TiHit)>,
    ) -> ThreatIntel {
        let mut ti = ThreatIntel { sources, exact: exact.into_iter().collect(), ..Default::default() };
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
    /// a line. A bad line is rejected with its number and the rest still loads. In a level
    /// file (`N.txt`) an entry without a count has count N.
    pub fn read_list(&mut self, data: &SourceData, display: &str, tracker: &Tracker) -> Result<FeedReport, LoadError> {
        let io = |source| LoadError::Io { path: display.into(), source };
        let mut reader = BufReader::with_capacity(64 * 1024, data.open().map_err(io)?);
        let level = level_of(display);
        let mut report = FeedReport::default();
        let (mut counted, mut cidrs, mut comments) = (0u64, 0u64, 0u64);
        let mut line_no = 0u64;
        let mut unreported = 0u64;
        let mut line = Vec::with_capacity(256);
        let mut full = false;
        loop {
            // One line, at most MAX_LINE_BYTES of it kept.
            line.clear();
            let (mut len, mut ended, mut eof) = (0usize, false, false);
            while !ended {
                let buf = reader.fill_buf().map_err(io)?;
                if buf.is_empty() {
                    eof = true;
                    break;
                }
                let (take, found) = match memchr::memchr(b'\n', buf) {
                    Some(i) => (i, true),
                    None => (buf.len(), false),
                };
                let room = (MAX_LINE_BYTES + 1).saturating_sub(line.len());
                line.extend_from_slice(&buf[..take.min(room)]);
                len += take;
                reader.consume(take + usize::from(found));
                ended = found;
                if len > MAX_UNBROKEN_BYTES {
                    return Err(LoadError::Unreadable {
                        path: display.into(),
                        reason: format!(
                            "line {} runs over {} MiB without a line break: not a feed",
                            line_no + 1,
                            MAX_UNBROKEN_BYTES >> 20
                        ),
                    });
                }
            }
            if eof && len == 0 {
                break;
            }
            line_no += 1;
            unreported += len as u64 + u64::from(ended);
            if line_no % 16_384 == 0 {
                tracker.check()?;
                tracker.advance(std::mem::take(&mut unreported), 16_384);
            }
            if line_no == 1 && line.starts_with(b"\xEF\xBB\xBF") {
                line.drain(..3);
            }
            let parsed = if line.len() > MAX_LINE_BYTES {
                Err(format!("line longer than {} KiB", MAX_LINE_BYTES >> 10))
            } else {
                parse_line(&String::from_utf8_lossy(&line))
            };
            match parsed {
                Ok(None) => comments += u64::from(line.iter().any(|b| !b.is_ascii_whitespace())),
                Ok(Some((net, count))) => {
                    let cap = self.cap.unwrap_or(MAX_ENTRIES);
                    if full || (self.len() >= cap && !self.contains(net)) {
                        if !full {
                            report.warnings.push(format!(
                                "line {line_no}: more than {cap} distinct entries over all feeds; \
                                 the rest of this feed is not loaded"
                            ));
                        }
                        full = true;
                        continue;
                    }
                    let count = count.or(level);
                    counted += u64::from(count.is_some());
                    cidrs += u64::from(net.prefix_len() != net.max_prefix_len());
                    if let Some(w) = broad_network_warning(net, line_no) {
                        report.warnings.push(w);
                    }
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
            if eof {
                break;
            }
        }
        tracker.advance(unreported, line_no % 16_384);
        report.format = match level {
            Some(n) if counted > 0 => format!("IPsum level file (count {n})"),
            _ if counted > 0 => "IPsum feed (IP and count)".into(),
            _ if cidrs > 0 => "IP and CIDR list".into(),
            _ => "IP list".into(),
        };
        if report.entries == 0 && report.rejected == 0 {
            let what = if comments > 0 { "only comments" } else { "no lines" };
            report.warnings.push(format!("no addresses or networks in this feed ({what})"));
        }
        self.sources.push(display.into());
        Ok(report)
    }
}

/// The count an IPsum level file gives its bare addresses: N for a file named `N.txt`.
fn level_of(display: &str) -> Option<u32> {
    let name = std::path::Path::new(display).file_name()?.to_str()?;
    let n = name.strip_suffix(".txt")?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// A network so wide that listing it makes nearly every connection "threat intel": the feed
/// is probably wrong, and the user must hear it.
fn broad_network_warning(net: IpNet, line_no: u64) -> Option<String> {
    let net = canonical(net);
    let (family, limit) = match net {
        IpNet::V4(_) => ("IPv4", 8),
        IpNet::V6(_) => ("IPv6", 16),
    };
    if net.prefix_len() >= limit {
        return None;
    }
    Some(if net.prefix_len() == 0 {
        format!("line {line_no}: `{net}` lists EVERY {family} address: every inbound connection will match this feed")
    } else {
        format!(
            "line {line_no}: `{net}` lists 1/{} of all {family} addresses: nearly every connection will match this feed",
            1u64 << net.prefix_len()
        )
    })
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
        Some(c) => Some(c.parse::<u32>().map_err(|_| format!("bad count `{}` after {}", clip(c), clip(addr)))?),
    };
    if let Some(extra) = parts.next() {
        return Err(format!("unexpected `{}` after {}", clip(extra), clip(addr)));
    }
    Ok(Some((net, count)))
}

/// Whether the start of a file (`head`, as text) is a feed, for recognizing feeds found in a
/// directory by content. A feed may have a few bad lines (they are rejected when it is read,
/// as with `--ti`): it needs one entry line, and at most one bad line plus one per ten entries.
/// A file of nothing but `#` / `;` comments is an (empty) feed, so its warning names it.
pub fn looks_like_feed(head: &str) -> bool {
    let head = head.strip_prefix('\u{feff}').unwrap_or(head);
    let (mut good, mut bad, mut comments) = (0usize, 0usize, 0usize);
    for line in head.lines().take(2_000) {
        match parse_line(line) {
            Ok(Some(_)) => good += 1,
            Ok(None) => comments += usize::from(!line.trim().is_empty()),
            Err(_) => bad += 1,
        }
    }
    if good == 0 {
        return bad == 0 && comments > 0;
    }
    bad <= 1 + good / 10
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
        let mut ti = ThreatIntel::default();
        let r = read_into(&mut ti, text.as_bytes(), "feed.txt").unwrap();
        (ti, r)
    }

    fn read_into(ti: &mut ThreatIntel, bytes: &[u8], display: &str) -> Result<FeedReport, LoadError> {
        let cancel = AtomicBool::new(false);
        let cb = |_: &crate::source::Progress| {};
        let tracker = Tracker::new(&cb, &cancel);
        ti.read_list(&SourceData::Memory(bytes.to_vec().into()), display, &tracker)
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
        let cb = |_: &crate::source::Progress| {};
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
        // 10.1.2.0/24 was listed twice: one entry.
        assert_eq!(ti.len(), 5_003);
    }

    #[test]
    fn empty_feed_warns() {
        let (ti, r) = read("# nothing here\n\n");
        assert!(ti.is_empty());
        assert_eq!(r.warnings, vec!["no addresses or networks in this feed (only comments)".to_string()]);
        let (_, r) = read("");
        assert_eq!(r.warnings, vec!["no addresses or networks in this feed (no lines)".to_string()]);
    }

    #[test]
    fn level_files_give_bare_addresses_their_level_as_count() {
        let mut ti = ThreatIntel::default();
        let r = read_into(&mut ti, b"198.51.100.7\n203.0.113.9\t9\n", "/feeds/levels/4.txt").unwrap();
        assert_eq!(r.format, "IPsum level file (count 4)");
        assert_eq!(ti.lookup(ip("198.51.100.7")).unwrap(), TiHit { uncounted: false, max_count: Some(4) });
        // A count on the line wins over the file's level.
        assert_eq!(ti.lookup(ip("203.0.113.9")).unwrap().max_count, Some(9));
        assert!(!ti.lookup(ip("198.51.100.7")).unwrap().listed(5));
        for name in ["ipsum.txt", "4a.txt", ".txt", "4.csv", "-", "levels/99999999999.txt"] {
            let mut other = ThreatIntel::default();
            read_into(&mut other, b"192.0.2.1\n", name).unwrap();
            assert_eq!(other.lookup(ip("192.0.2.1")).unwrap().max_count, None, "{name}");
        }
        assert_eq!(level_of("8.txt"), Some(8));
    }

    #[test]
    fn an_entry_listed_by_several_feeds_is_one_entry_with_the_highest_count() {
        let mut ti = ThreatIntel::default();
        read_into(&mut ti, b"198.51.100.7\t3\n10.0.0.0/8\t2\n", "ipsum.txt").unwrap();
        read_into(&mut ti, b"198.51.100.7\n203.0.113.1\n", "levels/6.txt").unwrap();
        read_into(&mut ti, b"198.51.100.7\t5\n10.1.0.0/8\t7\n", "other.txt").unwrap();
        assert_eq!(ti.len(), 3);
        assert_eq!(ti.lookup(ip("198.51.100.7")).unwrap().max_count, Some(6));
        // 10.1.0.0/8 is 10.0.0.0/8 written with host bits: the same entry.
        assert_eq!(ti.lookup(ip("10.200.0.1")).unwrap().max_count, Some(7));
        assert_eq!(ti.sources.len(), 3);
    }

    #[test]
    fn ipv4_mapped_entries_match_ipv4_events() {
        let (ti, r) = read("::ffff:198.51.100.7\t5\n::ffff:10.20.0.0/112\n::ffff:c633:6409\n");
        assert_eq!((r.entries, r.rejected), (3, 0));
        assert_eq!(ti.lookup(ip("198.51.100.7")).unwrap().max_count, Some(5));
        assert_eq!(ti.lookup(ip("::ffff:198.51.100.7")).unwrap().max_count, Some(5));
        assert!(ti.lookup(ip("10.20.3.4")).is_some());
        assert!(ti.lookup(ip("10.21.3.4")).is_none());
        assert!(ti.lookup(ip("198.51.100.9")).is_some());
        assert_eq!(ti.len(), 3);
        assert_eq!(r.format, "IPsum feed (IP and count)");
    }

    #[test]
    fn networks_covering_everything_warn_loudly() {
        let (ti, r) = read("0.0.0.0/0\n::/0\n::ffff:0.0.0.0/96\n4.0.0.0/6\n10.0.0.0/8\n2001::/16\n");
        assert_eq!(r.entries, 6);
        assert_eq!(r.warnings.len(), 4, "{:?}", r.warnings);
        assert!(r.warnings[0].contains("line 1") && r.warnings[0].contains("EVERY IPv4 address"), "{:?}", r.warnings);
        assert!(r.warnings[1].contains("line 2") && r.warnings[1].contains("EVERY IPv6 address"));
        assert!(r.warnings[2].contains("line 3") && r.warnings[2].contains("`0.0.0.0/0`"));
        assert!(r.warnings[3].contains("`4.0.0.0/6` lists 1/64 of all IPv4 addresses"));
        // It is still loaded: the user asked for it.
        assert!(ti.lookup(ip("8.8.8.8")).is_some());
    }

    #[test]
    fn overlong_and_unbroken_lines_are_bounded() {
        let mut text = b"1.2.3.4\n".to_vec();
        text.extend(std::iter::repeat_n(b'9', MAX_LINE_BYTES + 10));
        text.extend_from_slice(b"\n5.6.7.8\n");
        let mut ti = ThreatIntel::default();
        let r = read_into(&mut ti, &text, "f").unwrap();
        assert_eq!((r.entries, r.rejected), (2, 1));
        assert_eq!(r.rejects[0], Reject { line: 2, reason: "line longer than 4 KiB".into() });
        let zeros = vec![0u8; MAX_UNBROKEN_BYTES + 1];
        let err = read_into(&mut ThreatIntel::default(), &zeros, "/dev/zero").unwrap_err().to_string();
        assert_eq!(err, "/dev/zero: line 1 runs over 1 MiB without a line break: not a feed");
    }

    #[test]
    fn entries_past_the_cap_are_not_loaded_and_the_feed_says_so() {
        let mut ti = ThreatIntel { cap: Some(2), ..Default::default() };
        let r = read_into(&mut ti, b"1.1.1.1\n2.2.2.2\n1.1.1.1\t9\n3.3.3.3\n4.4.4.4\n", "big.txt").unwrap();
        assert_eq!(ti.len(), 2);
        assert_eq!(ti.lookup(ip("1.1.1.1")).unwrap().max_count, Some(9));
        assert!(ti.lookup(ip("3.3.3.3")).is_none());
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].starts_with("line 4: more than 2 distinct entries"), "{:?}", r.warnings);
    }

    #[test]
    fn feeds_with_a_few_bad_lines_are_recognized_by_content() {
        assert!(looks_like_feed("1.2.3.4\nnot an address\n5.6.7.8\n"));
        assert!(looks_like_feed("\u{feff}# IPsum\n1.2.3.4\t3\n"));
        assert!(looks_like_feed("# only\n; comments\n\n"));
        assert!(looks_like_feed("ip\n1.2.3.4\n"));
        let many: String = (0..30).map(|i| format!("10.0.0.{i}\n")).collect::<String>() + "x\ny\nz\n";
        assert!(looks_like_feed(&many));
        assert!(!looks_like_feed(&(many + "p\nq\n")));
        assert!(!looks_like_feed("# Title\n\nSome prose about 1.2.3.4\n"));
        assert!(!looks_like_feed("Timestamp,DeviceName,RemoteIP\n2024-01-01,a,1.2.3.4\n"));
        assert!(!looks_like_feed("10.0.0.1,443,tcp\n10.0.0.2,80,tcp\n"));
        assert!(!looks_like_feed("1.2.3.4 - - [10/Oct/2000:13:55:36] \"GET /\"\n"));
        assert!(!looks_like_feed(""));
    }
}
