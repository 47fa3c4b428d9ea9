//! The loaded dataset: every table, the feeds, the GeoIP handle and where rows came from.

use crate::enrich::{geoip::GeoIp, ti::ThreatIntel};
use crate::ingest::SourceInfo;
use crate::model::{DeviceInfo, Nanos, NetEvents, VmConnections};

/// Everything one load produced. Built once; hunts read it and never change it.
#[derive(Default)]
pub struct Dataset {
    pub net: NetEvents,
    pub devinfo: DeviceInfo,
    pub vm: VmConnections,
    pub ti: ThreatIntel,
    pub geoip: Option<GeoIp>,
    pub sources: Vec<SourceInfo>,
    /// Latest event timestamp over all tables (the default reference `now`).
    pub latest: Option<Nanos>,
    /// Earliest event timestamp over all tables.
    pub earliest: Option<Nanos>,
}

impl Dataset {
    /// Called once after all files are in: compute summary values and release spare capacity.
    pub fn finish_load(&mut self) {
        self.net.shrink();
        let all = self.net.ts.iter().chain(self.devinfo.ts.iter()).chain(self.vm.ts.iter());
        let (mut lo, mut hi) = (None::<Nanos>, None::<Nanos>);
        for &t in all {
            lo = Some(lo.map_or(t, |x| x.min(t)));
            hi = Some(hi.map_or(t, |x| x.max(t)));
        }
        self.earliest = lo;
        self.latest = hi;
    }

    /// The reference time for hunts: `--now` when given, else the latest event.
    pub fn reference_now(&self, now: Option<Nanos>) -> Nanos {
        now.or(self.latest).unwrap_or(0)
    }

    /// Distinct devices across network events, DeviceInfo and VMConnection computers.
    pub fn device_count(&self) -> usize {
        let mut names: std::collections::HashSet<String> = std::collections::HashSet::new();
        for (_, s) in self.net.device.dict.iter().skip(1) {
            names.insert(s.to_lowercase());
        }
        for i in 0..self.devinfo.len() {
            let id = self.devinfo.device_id.get(i);
            let key = if id.is_empty() { self.devinfo.device_name.get(i).to_lowercase() } else { id.to_lowercase() };
            if !key.is_empty() {
                names.insert(key);
            }
        }
        for (_, s) in self.vm.computer.dict.iter().skip(1) {
            names.insert(s.to_lowercase());
        }
        names.len()
    }

    /// Rows over all tables.
    pub fn total_rows(&self) -> usize {
        self.net.len() + self.devinfo.len() + self.vm.len()
    }
}
