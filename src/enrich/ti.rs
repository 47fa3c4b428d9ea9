//! Threat-intel IP feeds: IPsum (`IP<TAB>count`), its `levels/N.txt`, plain IP and CIDR lists.
//! Entries from every feed are merged; an address is listed at a level when some entry for it
//! has no count or a count >= the level.

use crate::ingest::{LoadError, Reject, SourceData, Tracker};
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
    /// Networks wider than one address, sorted by prefix length for the lookup.
    nets: Vec<(IpNet, TiHit)>,
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
            match self.nets.iter_mut().find(|(n, _)| *n == net) {
                Some((_, hit)) => hit.add(count),
                None => {
                    let mut hit = TiHit::default();
                    hit.add(count);
                    self.nets.push((net, hit));
                }
            }
        }
    }

    /// The feed's view of `ip`: exact entries and every listed network containing it, merged.
    pub fn lookup(&self, ip: IpAddr) -> Option<TiHit> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        let mut hit = self.exact.get(&ip).copied();
        for (net, h) in &self.nets {
            if net.contains(&ip) {
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

    /// Read one feed file and merge its entries.
    pub fn read_list(
        &mut self,
        _data: &SourceData,
        display: &str,
        _tracker: &Tracker,
    ) -> Result<FeedReport, LoadError> {
        Err(LoadError::Unreadable { path: display.into(), reason: "feed reader not built yet".into() })
    }
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
