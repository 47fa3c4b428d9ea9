//! Hunt 5, ti-inbound: inbound connections from threat-intel-listed IPs to internet-facing
//! ports (`hunts.md` section 5).
//!
//! Everything but `min_level` and `excluded_local_ports` is fixed per dataset, so the index
//! holds the joined candidate events (with their feed hit) in time order.

use super::{Cell, HuntParams};
use crate::enrich::ti::TiHit;
use crate::model::ip::ip_text;
use crate::model::{Nanos, NO_PORT};
use crate::store::Dataset;
use std::collections::HashMap;

#[derive(Clone, Copy, Debug)]
struct Cand {
    ts: Nanos,
    row: u32,
    /// The DeviceInfo row that makes the port internet-facing.
    dev_row: u32,
    hit: Option<TiHit>,
    local_port: u32,
}

#[derive(Debug, Default)]
pub(crate) struct Index {
    cands: Vec<Cand>,
}

/// Per (DeviceId, InternetFacingLocalPort): the DeviceInfo row with the latest Timestamp (ties:
/// the later-loaded row), kept only when that row says IsInternetFacing true.
pub(crate) fn internet_facing(ds: &Dataset) -> HashMap<(String, u32), u32> {
    let d = &ds.devinfo;
    let mut latest: HashMap<(u32, u32), (Nanos, u32)> = HashMap::new();
    for r in 0..d.len() {
        let (id, port) = (d.device_id.codes[r], d.if_local_port[r]);
        if id == 0 || port == NO_PORT {
            continue;
        }
        let e = latest.entry((id, port)).or_insert((d.ts[r], r as u32));
        if d.ts[r] >= e.0 {
            *e = (d.ts[r], r as u32);
        }
    }
    latest
        .into_iter()
        .filter(|(_, (_, r))| d.is_internet_facing[*r as usize] == 1)
        .map(|((id, port), (_, r))| ((d.device_id.dict.get(id).to_string(), port), r))
        .collect()
}

impl Index {
    pub fn build(ds: &Dataset, c: &super::index::Common) -> Index {
        let n = &ds.net;
        let facing: HashMap<(u32, u32), u32> = internet_facing(ds)
            .into_iter()
            .filter_map(|((id, port), r)| Some(((n.device_id.dict.lookup(&id)?, port), r)))
            .collect();
        let inbound = super::index::mask_any(&n.action.dict, &["inboundconnectionaccepted"]);
        let order = super::index::filter_order(&c.net_order, |r| {
            inbound[n.action.codes[r] as usize]
                && n.device_id.codes[r] != 0
                && facing.contains_key(&(n.device_id.codes[r], n.local_port[r]))
        });
        let mut hits: HashMap<u32, Option<TiHit>> = HashMap::new();
        let cands = order
            .iter()
            .filter_map(|&r| {
                let ri = r as usize;
                let dev_row = *facing.get(&(n.device_id.codes[ri], n.local_port[ri]))?;
                let ip = n.remote_ip.codes[ri];
                let hit = *hits.entry(ip).or_insert_with(|| n.remote_ip.addr(ip).and_then(|a| ds.ti.lookup(a)));
                Some(Cand { ts: n.ts[ri], row: r, dev_row, hit, local_port: n.local_port[ri] })
            })
            .collect();
        Index { cands }
    }

    pub fn heap_bytes(&self) -> usize {
        self.cands.capacity() * std::mem::size_of::<Cand>()
    }

    fn qualifying(&self, p: &HuntParams) -> Vec<Cand> {
        let level = super::index::clamp_u32(p.integer("min_level"));
        let excluded: Vec<u32> = p.enabled("excluded_local_ports").iter().filter_map(|s| s.parse().ok()).collect();
        self.cands
            .iter()
            .filter(|c| c.hit.is_some_and(|h| h.listed(level)) && !excluded.contains(&c.local_port))
            .copied()
            .collect()
    }

    pub fn run(&self, ds: &Dataset, p: &HuntParams) -> Vec<Vec<Cell>> {
        let n = &ds.net;
        let d = &ds.devinfo;
        self.qualifying(p)
            .into_iter()
            .map(|c| {
                let r = c.row as usize;
                vec![
                    Cell::Time(c.ts),
                    super::text(n.device_name.get(r)),
                    super::text(&n.remote_ip.get(r).map(ip_text).unwrap_or_default()),
                    if n.local_port[r] == NO_PORT { Cell::Empty } else { Cell::Int(n.local_port[r] as i64) },
                    super::text(n.proc_name.get(r)),
                    super::text(n.device_id.get(r)),
                    super::text(d.if_reason.get(c.dev_row as usize)),
                    c.hit.and_then(|h| h.max_count).map_or(Cell::Empty, |v| Cell::Int(v as i64)),
                ]
            })
            .collect()
    }

    /// Network-event rows behind result row `row`: its single event.
    pub fn events(&self, p: &HuntParams, row: usize) -> Vec<usize> {
        self.qualifying(p).get(row).map(|c| vec![c.row as usize]).unwrap_or_default()
    }
}
