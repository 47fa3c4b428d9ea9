//! Hunt 3, supply-chain: new connections from servers that run rarely deployed third-party
//! software (`docs/hunts.md` section 3).
//!
//! The index keeps the events that pass the parameter-free filters (not
//! ListeningConnectionCreated, not Private/Loopback, not an IPv4-mapped FourToSixMapping) in
//! time order, plus every network event bucketed by RemoteIP for the prevalence lookup.

use super::index::{excluded_ips, first_after, text_set, Common, Engine};
use super::kql::{KqlError, KqlOptions, Query};
use super::params::{ParamKind, ParamSpec};
use super::{Cell, CellKind, ColumnSpec, Hunt, HuntId, HuntIndex, HuntParams, HuntSpec, Need, Pivot, RowKey};
use crate::enrich::ti::ThreatIntel;
use crate::model::ip::ip_text;
use crate::model::tables::TableKind;
use crate::model::{Nanos, NO_PORT};
use crate::store::Dataset;
use rayon::prelude::*;
use std::collections::HashMap;
use std::net::IpAddr;

pub const ID: HuntId = HuntId::new("supply-chain");

/// Hunt 3 in the registry.
pub struct SupplyChain;

static SPEC: HuntSpec = HuntSpec {
    id: ID,
    key: "supply-chain",
    title: "Supply chain",
    summary: "New connections from servers that run rarely deployed third-party software",
    needs: &[Need::NetworkEvents, Need::DeviceInfo],
    params: &[
        ParamSpec {
            key: "lookback",
            kind: ParamKind::Duration,
            default: "14d",
            help: "window for servers, companies and the baseline",
        },
        ParamSpec {
            key: "company_max_servers",
            kind: ParamKind::Integer,
            default: "10",
            help: "a company is rare on fewer servers than this",
        },
        ParamSpec {
            key: "new_within",
            kind: ParamKind::Duration,
            default: "1d",
            help: "a connection is new when first seen within this",
        },
        ParamSpec {
            key: "prevalence_window",
            kind: ParamKind::Duration,
            default: "5d",
            help: "window for remote IP prevalence",
        },
        ParamSpec {
            key: "max_prevalence",
            kind: ParamKind::Integer,
            default: "6",
            help: "keep remote IPs seen on fewer devices than this",
        },
        ParamSpec {
            key: "excluded_nets",
            kind: ParamKind::Cidrs,
            default: "",
            help: "drop events to these remote networks before anything is counted",
        },
    ],
    columns: &[
        ColumnSpec::pivot("DeviceName", CellKind::Text, Pivot::Device),
        ColumnSpec::pivot("RemoteIP", CellKind::Text, Pivot::Ip),
        ColumnSpec::new("RemotePort", CellKind::Int),
        ColumnSpec::new("Count", CellKind::Int),
        ColumnSpec::new("starttime", CellKind::Time),
        ColumnSpec::new("endtime", CellKind::Time),
        ColumnSpec::new("Prevalence", CellKind::Int),
        ColumnSpec::pivot("URLs", CellKind::TextSet, Pivot::Domain),
    ],
    key_columns: &["DeviceName", "RemoteIP", "RemotePort"],
    group_by: Some("DeviceName"),
    table: TableKind::DeviceNetworkEvents,
    exclusions: &[(Pivot::Ip, "excluded_nets")],
};

impl Hunt for SupplyChain {
    fn spec(&self) -> &'static HuntSpec {
        &SPEC
    }

    fn build(&self, ds: &Dataset, common: &Common) -> Box<dyn HuntIndex> {
        Box::new(Index::build(ds, common))
    }

    fn kql(&self, params: &HuntParams, opts: &KqlOptions, _feed: Option<&ThreatIntel>) -> Result<String, KqlError> {
        let mut q = Query::new(params, opts)?;
        q.net_events();
        let t = q.t();
        let servers = q.servers_rule("lookback");
        q.push(&format!(
            "// (differs: excluded_nets drops events before anything is counted; the seed has no such list)
let Net = NetEvents
| where not(in_nets(RemoteIP, excluded_nets));
let Servers = {servers};
let E = Net
| where {t} > RefTime - lookback
| where tolower(DeviceName) in (Servers)
| where ActionType !~ \"ListeningConnectionCreated\"
| where RemoteIPType !in~ (\"Private\", \"Loopback\")
| where not(RemoteIPType =~ \"FourToSixMapping\" and RemoteIP startswith \"::ffff:\");
let RareCompanies = E
| where isnotempty(InitiatingProcessVersionInfoCompanyName) // (differs: an empty company name is not a company)
| summarize ServerCount = count_distinct(tolower(DeviceName)) by InitiatingProcessVersionInfoCompanyName
| where ServerCount < company_max_servers
| project InitiatingProcessVersionInfoCompanyName;
let ThirdPartyServers = E
| where InitiatingProcessVersionInfoCompanyName in (RareCompanies)
| project DeviceName = tolower(DeviceName);
let PrevalenceByIP = Net
| where {t} > RefTime - prevalence_window
| summarize Prevalence = count_distinct(DeviceKeyOf(DeviceId, DeviceName)), // exact distinct count (dcount is an estimate)
    URLs = make_set_if(RemoteUrl, isnotempty(RemoteUrl)) by RemoteIP;
E
| where tolower(DeviceName) in (ThirdPartyServers)
| summarize Count = count(), starttime = min({t}), endtime = max({t}) by DeviceName, RemoteIP, RemotePort
| where starttime > RefTime - new_within
| join kind=leftouter PrevalenceByIP on RemoteIP
| where isnull(Prevalence) or Prevalence < max_prevalence
| extend URLs = array_sort_asc(coalesce(URLs, dynamic([])))
// (differs: one row per DeviceName, RemoteIP, RemotePort; the seed packs these into one row per DeviceName)
| project DeviceName, RemoteIP, RemotePort, Count, starttime, endtime, Prevalence, URLs
| sort by DeviceName asc, RemoteIP asc, RemotePort asc"
        ));
        Ok(q.finish())
    }
}

#[derive(Clone, Copy, Debug)]
struct Ev {
    ts: Nanos,
    row: u32,
    /// Folded DeviceName.
    name: u32,
    company: u32,
    ip: u32,
    port: u32,
}

/// Every network event by RemoteIP code, each bucket in time order. Rows only (4 bytes per
/// event): the bucket's timestamps are read from the table in the binary search.
#[derive(Debug, Default)]
pub(crate) struct ByIp {
    offsets: Vec<usize>,
    rows: Vec<u32>,
}

impl ByIp {
    pub fn build(ds: &Dataset, order: &[u32]) -> ByIp {
        let n = &ds.net;
        let codes = n.remote_ip.distinct();
        let mut offsets = vec![0usize; codes + 1];
        for &r in order {
            offsets[n.remote_ip.codes[r as usize] as usize + 1] += 1;
        }
        for i in 0..codes {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut rows = vec![0u32; order.len()];
        for &r in order {
            let c = n.remote_ip.codes[r as usize] as usize;
            rows[fill[c]] = r;
            fill[c] += 1;
        }
        ByIp { offsets, rows }
    }

    /// Rows of events to `ip` with `Timestamp > since`, in time order.
    pub fn since<'a>(&'a self, ds: &Dataset, ip: u32, since: Nanos) -> &'a [u32] {
        let Some(&lo) = self.offsets.get(ip as usize) else { return &[] };
        let hi = self.offsets[ip as usize + 1];
        let b = &self.rows[lo..hi];
        &b[first_after(b, since, |&r| ds.net.ts[r as usize])..]
    }
}

#[derive(Debug, Default)]
pub(crate) struct Index {
    cand: Vec<Ev>,
    by_ip: ByIp,
}

#[derive(Clone, Copy, Debug)]
struct Agg {
    count: i64,
    start: Nanos,
    end: Nanos,
}

/// Whether `ip` is an IPv4-mapped IPv6 address, i.e. its text starts with `::ffff:`.
pub(crate) fn is_v4_mapped(ip: Option<IpAddr>) -> bool {
    matches!(ip, Some(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_some())
}

impl Index {
    pub fn build(ds: &Dataset, c: &Common) -> Index {
        let n = &ds.net;
        let listening = super::index::mask_any(&n.action.dict, &["listeningconnectioncreated"]);
        let private = super::index::mask_any(&n.remote_ip_type.dict, &["private", "loopback"]);
        let four_six = super::index::mask_any(&n.remote_ip_type.dict, &["fourtosixmapping"]);
        // Only names some DeviceInfo row makes a server can be servers in any window.
        let mut ever_server = vec![false; c.devnames.len()];
        for &(_, id) in &c.server_rows {
            ever_server[id as usize] = true;
        }
        let order = super::index::filter_order(&c.net_order, |r| {
            if !ever_server[c.net_name[n.device_name.codes[r] as usize] as usize] {
                return false;
            }
            let ty = n.remote_ip_type.codes[r] as usize;
            let dropped = listening[n.action.codes[r] as usize]
                || private[ty]
                || (four_six[ty] && is_v4_mapped(n.remote_ip.get(r)));
            !dropped
        });
        let cand = order
            .par_iter()
            .map(|&r| {
                let ri = r as usize;
                Ev {
                    ts: n.ts[ri],
                    row: r,
                    name: c.net_name[n.device_name.codes[ri] as usize],
                    company: n.company.codes[ri],
                    ip: n.remote_ip.codes[ri],
                    port: n.remote_port[ri],
                }
            })
            .collect();
        Index { cand, by_ip: ByIp::build(ds, &c.net_order) }
    }

    /// The baseline events: E on third-party servers, in time order.
    fn baseline_events(&self, eng: &Engine, p: &HuntParams, now: Nanos) -> Vec<Ev> {
        let ds = &eng.ds;
        let lookback_from = now.saturating_sub(p.duration("lookback"));
        let servers = eng.common.servers_since(lookback_from);
        let excluded = excluded_ips(ds, p);
        let e: Vec<Ev> = self.cand[first_after(&self.cand, lookback_from, |e| e.ts)..]
            .par_iter()
            .filter(|e| servers[e.name as usize] && !excluded[e.ip as usize])
            .copied()
            .collect();
        let mut pairs: Vec<(u32, u32)> = e.iter().filter(|e| e.company != 0).map(|e| (e.company, e.name)).collect();
        pairs.par_sort_unstable();
        pairs.dedup();
        let max_servers = p.integer("company_max_servers");
        let mut rare = vec![false; ds.net.company.dict.len()];
        for chunk in pairs.chunk_by(|a, b| a.0 == b.0) {
            rare[chunk[0].0 as usize] = (chunk.len() as i64) < max_servers;
        }
        let mut third_party = vec![false; eng.common.devnames.len()];
        for ev in &e {
            if rare[ev.company as usize] {
                third_party[ev.name as usize] = true;
            }
        }
        e.into_iter().filter(|ev| third_party[ev.name as usize]).collect()
    }

    /// (Prevalence, URLs) of a RemoteIP over every network event with `Timestamp > since`.
    fn prevalence(&self, ds: &Dataset, ip: u32, since: Nanos) -> Option<(i64, Vec<String>)> {
        let evs = self.by_ip.since(ds, ip, since);
        if evs.is_empty() {
            return None;
        }
        let mut devs: Vec<u32> = evs.iter().map(|e| ds.net.device.codes[*e as usize]).collect();
        devs.sort_unstable();
        devs.dedup();
        let urls = text_set(evs.iter().map(|e| ds.net.remote_url.get(*e as usize)));
        Some((devs.len() as i64, urls))
    }
}

impl HuntIndex for Index {
    fn heap_bytes(&self) -> usize {
        self.cand.capacity() * std::mem::size_of::<Ev>()
            + self.by_ip.offsets.capacity() * 8
            + self.by_ip.rows.capacity() * 4
    }

    fn run(&self, eng: &Engine, p: &HuntParams, now: Nanos) -> Vec<(RowKey, Vec<Cell>)> {
        let ds = &eng.ds;
        let mut baseline: HashMap<(u32, u32, u32), Agg> = HashMap::new();
        for e in self.baseline_events(eng, p, now) {
            let a = baseline.entry((e.name, e.ip, e.port)).or_insert(Agg { count: 0, start: e.ts, end: e.ts });
            a.count += 1;
            a.start = a.start.min(e.ts);
            a.end = a.end.max(e.ts);
        }
        let new_from = now.saturating_sub(p.duration("new_within"));
        let prev_from = now.saturating_sub(p.duration("prevalence_window"));
        let max_prev = p.integer("max_prevalence");
        let mut prev_cache: HashMap<u32, Option<(i64, Vec<String>)>> = HashMap::new();
        let ip_str = |code: u32| ds.net.remote_ip.addr(code).map(ip_text).unwrap_or_default();
        let mut rows: Vec<(String, String, u32, RowKey, Vec<Cell>)> = Vec::new();
        for ((name, ip, port), a) in baseline {
            if a.start <= new_from {
                continue;
            }
            let prev = prev_cache.entry(ip).or_insert_with(|| self.prevalence(ds, ip, prev_from));
            if prev.as_ref().is_some_and(|(count, _)| *count >= max_prev) {
                continue;
            }
            let name_s = eng.common.devnames.names[name as usize].clone();
            let ip_s = ip_str(ip);
            let cells = vec![
                super::text(&name_s),
                super::text(&ip_s),
                if port == NO_PORT { Cell::Empty } else { Cell::Int(port as i64) },
                Cell::Int(a.count),
                Cell::Time(a.start),
                Cell::Time(a.end),
                prev.as_ref().map_or(Cell::Empty, |(c, _)| Cell::Int(*c)),
                prev.as_ref().map_or(Cell::Empty, |(_, u)| Cell::TextSet(u.clone())),
            ];
            rows.push((name_s, ip_s, port, RowKey(vec![name, ip, port]), cells));
        }
        rows.sort_by(|a, b| (&a.0, &a.1, a.2).cmp(&(&b.0, &b.1, b.2)));
        rows.into_iter().map(|r| (r.3, r.4)).collect()
    }

    /// Network-event rows behind a result row: the baseline events of its
    /// (DeviceName, RemoteIP, RemotePort).
    fn events(&self, eng: &Engine, p: &HuntParams, now: Nanos, key: &RowKey) -> Vec<usize> {
        let &[name, ip, port] = &key.0[..] else { return Vec::new() };
        self.baseline_events(eng, p, now)
            .into_iter()
            .filter(|e| e.name == name && e.ip == ip && e.port == port)
            .map(|e| e.row as usize)
            .collect()
    }
}
