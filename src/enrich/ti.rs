//! Threat-intel IP feeds: IPsum (`IP<TAB>count`), its `levels/N.txt`, plain IP and CIDR lists.

use crate::ingest::{LoadError, Reject, SourceData, Tracker};
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
}

/// Every loaded feed entry, merged.
#[derive(Debug, Default)]
pub struct ThreatIntel {
    pub sources: Vec<String>,
}

impl ThreatIntel {
    /// Read one feed file and merge its entries.
    pub fn read_list(
        &mut self,
        _data: &SourceData,
        display: &str,
        _tracker: &Tracker,
    ) -> Result<FeedReport, LoadError> {
        Err(LoadError::Unreadable { path: display.into(), reason: "feed reader not built yet".into() })
    }

    /// Add one entry (also used by tests and the generator). A CIDR lists every address in it.
    pub fn insert(&mut self, _net: ipnet::IpNet, _count: Option<u32>) {}

    /// The feed's view of `ip` (exact entries and every CIDR containing it).
    pub fn lookup(&self, _ip: IpAddr) -> Option<TiHit> {
        None
    }

    /// Number of entries loaded.
    pub fn len(&self) -> usize {
        0
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
