//! Hunt 5, ti-inbound: inbound connections from threat-intel-listed IPs to internet-facing
//! ports (`docs/hunts.md` section 5).
//!
//! Everything but `min_level` and `excluded_local_ports` is fixed per dataset, so the index
//! holds the joined candidate events (with their feed hit) in time order.

use super::funnel::enabled_list;
use super::index::{excluded_ips, Common, Engine};
use super::kql::{ti_feed, KqlError, KqlOptions, Query};
use super::params::{ParamKind, ParamSpec};
use super::{
    Cell, CellKind, ColumnSpec, Funnel, FunnelUnit, Hunt, HuntId, HuntIndex, HuntParams, HuntSpec, Need, ParamValue,
    Pivot, RowKey,
};
use crate::enrich::ti::ThreatIntel;
use crate::enrich::ti::TiHit;
use crate::model::ip::ip_text;
use crate::model::tables::TableKind;
use crate::model::{Nanos, NO_PORT};
use crate::store::Dataset;
use std::collections::HashMap;

pub const ID: HuntId = HuntId::new("ti-inbound");

/// Hunt 5 in the registry.
pub struct TiInbound;

static SPEC: HuntSpec = HuntSpec {
    id: ID,
    key: "ti-inbound",
    title: "TI inbound",
    summary: "Inbound connections from threat-intel-listed IPs to internet-facing ports",
    needs: &[Need::NetworkEvents, Need::DeviceInfo, Need::ThreatIntel],
    params: &[
        ParamSpec {
            key: "min_level",
            kind: ParamKind::Integer,
            default: "4",
            help: "feed entries with a count need at least this many lists",
        },
        ParamSpec {
            key: "excluded_local_ports",
            kind: ParamKind::Ports,
            default: "",
            help: "local ports ignored (the seed suggests 25)",
        },
        ParamSpec {
            key: "excluded_nets",
            kind: ParamKind::Cidrs,
            default: "",
            help: "drop events to these remote networks before anything is counted",
        },
    ],
    columns: &[
        ColumnSpec::new("Timestamp", CellKind::Time),
        ColumnSpec::pivot("DeviceName", CellKind::Text, Pivot::Device),
        ColumnSpec::pivot("ThreatIntelligenceIP", CellKind::Text, Pivot::Ip),
        ColumnSpec::new("LocalPort", CellKind::Int),
        ColumnSpec::pivot("InitiatingProcessFileName", CellKind::Text, Pivot::Process),
        ColumnSpec::pivot("DeviceId", CellKind::Text, Pivot::Device),
        ColumnSpec::new("InternetFacingReason", CellKind::Text),
        ColumnSpec::new("TiCount", CellKind::Int),
    ],
    key_columns: &["DeviceId", "ThreatIntelligenceIP", "LocalPort"],
    group_by: None,
    table: TableKind::DeviceNetworkEvents,
    exclusions: &[(Pivot::Ip, "excluded_nets")],
};

impl Hunt for TiInbound {
    fn spec(&self) -> &'static HuntSpec {
        &SPEC
    }

    fn build(&self, ds: &Dataset, common: &Common) -> Box<dyn HuntIndex> {
        Box::new(Index::build(ds, common))
    }

    fn kql(&self, params: &HuntParams, opts: &KqlOptions, feed: Option<&ThreatIntel>) -> Result<String, KqlError> {
        let mut q = Query::new(params, opts)?;
        let ti = ti_feed(&q, feed)?;
        q.push(&ti);
        q.net_events();
        let t = q.t();
        q.push(&format!(
            "// Internet-facing ports: per device and port the latest DeviceInfo row, kept when it is internet facing.
let InternetFacing = DeviceInfo
| extend Facing = todynamic(AdditionalFields)
| extend InternetFacingLocalPort = toint(Facing.InternetFacingLocalPort), InternetFacingReason = tostring(Facing.InternetFacingReason),
    InternetFacingLocalIp = tostring(Facing.InternetFacingLocalIp)
| summarize arg_max({t}, IsInternetFacing, InternetFacingReason, InternetFacingLocalIp) by DeviceId, InternetFacingLocalPort
| where IsInternetFacing == true and isnotnull(InternetFacingLocalPort)
| project DeviceId, InternetFacingLocalPort, InternetFacingReason;
let Inbound = NetEvents
| where not(in_nets(RemoteIP, excluded_nets)) // (differs: excluded_nets drops events first; the seed has no such list)
| where ActionType =~ \"InboundConnectionAccepted\"
| where isnull(LocalPort) or LocalPort !in (excluded_local_ports) // the seed suggests LocalPort != 25
| join kind=inner InternetFacing on DeviceId
| where LocalPort == InternetFacingLocalPort;
// Feed entries are addresses or networks: IPv4 and IPv6 lookups; an address matched by several entries is one row
// with the highest count, as rarity merges feeds.
union
    (Inbound | where isnotnull(parse_ipv4(RemoteIP)) | evaluate ipv4_lookup(TiFeed, RemoteIP, TiNet)),
    (Inbound | where isnull(parse_ipv4(RemoteIP)) | evaluate ipv6_lookup(TiFeed, RemoteIP, TiNet))
| summarize TiCount = max(TiCount) by {t}, DeviceName, RemoteIP, LocalPort, InitiatingProcessFileName, DeviceId, InternetFacingReason, ReportId
| project Timestamp = {t}, DeviceName, ThreatIntelligenceIP = RemoteIP, LocalPort, InitiatingProcessFileName, DeviceId,
    InternetFacingReason, TiCount
| sort by Timestamp asc"
        ));
        Ok(q.finish())
    }
}

#[derive(Clone, Copy, Debug)]
struct Cand {
    ts: Nanos,
    row: u32,
    /// RemoteIP code.
    ip: u32,
    /// The DeviceInfo row that makes the port internet-facing.
    dev_row: u32,
    hit: Option<TiHit>,
    local_port: u32,
}

#[derive(Debug, Default)]
pub(crate) struct Index {
    cands: Vec<Cand>,
    /// InboundConnectionAccepted events (the funnel's first step).
    inbound: usize,
}

/// Per (DeviceId, InternetFacingLocalPort): the DeviceInfo row with the latest Timestamp (ties:
/// the later-loaded row), kept only when that row says IsInternetFacing true.
pub(crate) fn internet_facing(ds: &Dataset) -> HashMap<(String, u32), u32> {
    let d = &ds.devinfo;
    let mut latest: HashMap<(u32, u32), (Nanos, u32)> = HashMap::new();
    for r in 0..d.len() {
        let (id, port) = (d.device_id.codes.get(r), d.if_local_port[r]);
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
    pub fn build(ds: &Dataset, c: &Common) -> Index {
        let n = &ds.net;
        let facing: HashMap<(u32, u32), u32> = internet_facing(ds)
            .into_iter()
            .filter_map(|((id, port), r)| Some(((n.device_id.dict.lookup(&id)?, port), r)))
            .collect();
        let inbound = super::index::mask_any(&n.action.dict, &["inboundconnectionaccepted"]);
        let order = super::index::filter_order(&c.net_order, |r| {
            inbound[n.action.codes.get(r) as usize]
                && n.device_id.codes.get(r) != 0
                && facing.contains_key(&(n.device_id.codes.get(r), n.local_port[r]))
        });
        let mut hits: HashMap<u32, Option<TiHit>> = HashMap::new();
        let cands = order
            .iter()
            .filter_map(|&r| {
                let ri = r as usize;
                let dev_row = *facing.get(&(n.device_id.codes.get(ri), n.local_port[ri]))?;
                let ip = n.remote_ip.codes[ri];
                let hit = *hits.entry(ip).or_insert_with(|| n.remote_ip.addr(ip).and_then(|a| ds.ti.lookup(a)));
                Some(Cand { ts: n.ts[ri], row: r, ip, dev_row, hit, local_port: n.local_port[ri] })
            })
            .collect();
        let inbound = (0..n.len()).filter(|&r| inbound[n.action.codes.get(r) as usize]).count();
        Index { cands, inbound }
    }

    fn qualifying(&self, eng: &Engine, p: &HuntParams) -> Vec<Cand> {
        let level = super::index::clamp_u32(p.integer("min_level"));
        let excluded: Vec<u32> = p.enabled("excluded_local_ports").iter().filter_map(|s| s.parse().ok()).collect();
        let excluded_ip = excluded_ips(eng, p);
        self.cands
            .iter()
            .filter(|c| {
                !excluded_ip.contains(c.ip)
                    && c.hit.is_some_and(|h| h.listed(level))
                    && !excluded.contains(&c.local_port)
            })
            .copied()
            .collect()
    }
}

impl HuntIndex for Index {
    fn heap_bytes(&self) -> usize {
        self.cands.capacity() * std::mem::size_of::<Cand>()
    }

    fn run(&self, eng: &Engine, p: &HuntParams, _now: Nanos) -> Vec<(RowKey, Vec<Cell>)> {
        let ds: &Dataset = &eng.ds;
        let n = &ds.net;
        let d = &ds.devinfo;
        self.qualifying(eng, p)
            .into_iter()
            .map(|c| {
                let r = c.row as usize;
                let cells = vec![
                    Cell::Time(c.ts),
                    super::text(n.device_name.get(r)),
                    super::text(&n.remote_ip.get(r).map(ip_text).unwrap_or_default()),
                    if n.local_port[r] == NO_PORT { Cell::Empty } else { Cell::Int(n.local_port[r] as i64) },
                    super::text(n.proc_name.get(r)),
                    super::text(n.device_id.get(r)),
                    super::text(d.if_reason.get(c.dev_row as usize)),
                    c.hit.and_then(|h| h.max_count).map_or(Cell::Empty, |v| Cell::Int(v as i64)),
                ];
                (RowKey(vec![c.row]), cells)
            })
            .collect()
    }

    /// Network-event rows behind a result row: its single event, while it still qualifies.
    fn events(&self, eng: &Engine, p: &HuntParams, _now: Nanos, key: &RowKey) -> Vec<usize> {
        let Some(&row) = key.0.first() else { return Vec::new() };
        self.qualifying(eng, p).iter().filter(|c| c.row == row).map(|c| c.row as usize).collect()
    }

    fn funnel(&self, eng: &Engine, p: &HuntParams, _now: Nanos) -> Funnel {
        let level = super::index::clamp_u32(p.integer("min_level"));
        let excluded_ports: Vec<u32> =
            p.enabled("excluded_local_ports").iter().filter_map(|s| s.parse().ok()).collect();
        let excluded_ip = excluded_ips(eng, p);
        let (mut not_excluded, mut listed, mut kept) = (0usize, 0usize, 0usize);
        for c in self.cands.iter().filter(|c| !excluded_ip.contains(c.ip)) {
            not_excluded += 1;
            if c.hit.is_some_and(|h| h.listed(level)) {
                listed += 1;
                kept += usize::from(!excluded_ports.contains(&c.local_port));
            }
        }
        let ev = FunnelUnit::Events;
        let mut out = Funnel::default();
        out.push("1", "ActionType InboundConnectionAccepted", self.inbound, ev);
        out.push("2", "joined on DeviceId and an internet-facing LocalPort (latest DeviceInfo)", self.cands.len(), ev);
        out.push("3", format!("RemoteIP not in excluded_nets {}", enabled_list(p, "excluded_nets")), not_excluded, ev);
        out.push("4", format!("RemoteIP listed in the feed (no count, or count >= min_level {level})"), listed, ev);
        let ports = format!("LocalPort not in excluded_local_ports {}", enabled_list(p, "excluded_local_ports"));
        out.push("5", ports, kept, FunnelUnit::Rows);
        out
    }

    /// `min_level` from one pass: each event's feed count is the largest level that lists it
    /// (an entry without a count lists it at every level).
    fn sweep(&self, eng: &Engine, p: &HuntParams, now: Nanos, param: &str, values: &[ParamValue]) -> Vec<usize> {
        if param != "min_level" {
            return values.iter().map(|v| self.run(eng, &super::funnel::with_value(p, param, v), now).len()).collect();
        }
        let excluded_ports: Vec<u32> =
            p.enabled("excluded_local_ports").iter().filter_map(|s| s.parse().ok()).collect();
        let excluded_ip = excluded_ips(eng, p);
        let keys = self
            .cands
            .iter()
            .filter(|c| !excluded_ip.contains(c.ip) && !excluded_ports.contains(&c.local_port))
            .map(|c| c.hit.and_then(|h| if h.uncounted { Some(i64::MAX) } else { h.max_count.map(i64::from) }));
        super::funnel::sweep_at_most(keys, values)
    }

    fn why(&self, eng: &Engine, p: &HuntParams, _now: Nanos, key: &RowKey, cells: &[Cell]) -> String {
        let Some(&row) = key.0.first() else { return String::new() };
        let Some(c) = self.cands.iter().find(|c| c.row == row) else { return String::new() };
        let ip = cells.get(2).map(Cell::to_csv).unwrap_or_default();
        let level = p.integer("min_level");
        let feed = match c.hit {
            Some(h) if h.uncounted => "listed in the feed without a count (every level)".to_string(),
            Some(TiHit { max_count: Some(n), .. }) => format!("feed count {n} >= min_level {level}"),
            _ => "not in the feed".to_string(),
        };
        let reason = eng.ds.devinfo.if_reason.get(c.dev_row as usize);
        let reason = if reason.is_empty() { String::new() } else { format!(" ({reason})") };
        format!("{ip}: {feed}; inbound to internet-facing LocalPort {}{reason}", c.local_port)
    }
}
