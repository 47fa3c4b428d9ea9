//! Hunt 3, supply-chain: new connections from servers that run rarely deployed third-party
//! software (`docs/hunts.md` section 3).
//!
//! The index keeps the events that pass the parameter-free filters (not
//! ListeningConnectionCreated, not Private/Loopback, not an IPv4-mapped FourToSixMapping) in
//! time order (the prevalence lookup reads every network event by RemoteIP from `Common`). The
//! same events as (DeviceName, RemoteIP, RemotePort) tuples and (server, company) pairs,
//! ordered newest first, give the funnel and the `lookback` sweep steps 1-4 at any lookback
//! by visiting only what has an event inside it.

use super::funnel::{enabled_list, named_window, sweep_at_least, window_note};
use super::index::{excluded_ips, first_after, text_set, Buckets, Common, Engine};
use super::kql::{KqlError, KqlOptions, Query};
use super::params::{ParamKind, ParamSpec};
use super::rare_process::DistinctUpTo;
use super::{
    Cell, CellKind, ColumnSpec, Funnel, FunnelUnit, Hunt, HuntId, HuntIndex, HuntParams, HuntSpec, Need, ParamValue,
    Pivot, RowKey,
};
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

#[derive(Debug, Default)]
pub(crate) struct Index {
    cand: Vec<Ev>,
    /// The (DeviceName, RemoteIP, RemotePort) tuples of `cand`, ordered by their latest event,
    /// newest first, so the tuples with an event after any instant are a prefix.
    tuples: Vec<(u32, u32, u32)>,
    /// Per tuple: the time of its latest event (descending, as `tuples`).
    tuple_last: Vec<Nanos>,
    /// Per tuple: the time of its first event, and the times of all its events ascending.
    tuple_first: Vec<Nanos>,
    tuple_ts: Buckets<Nanos>,
    /// (tuple, company, latest time) of every tuple's events with a non-empty company, newest
    /// first: which company runs on which server, inside any lookback.
    companies: Vec<(u32, u32, Nanos)>,
    /// (folded DeviceName, company, latest time) of the same events, newest first: the same
    /// question when no address is excluded.
    name_companies: Vec<(u32, u32, Nanos)>,
    /// Per folded DeviceName that some DeviceInfo row makes a server: the times of its network
    /// events, ascending: [all, not ListeningConnectionCreated, + RemoteIPType filter] (`cand`).
    name_ts: [Buckets<Nanos>; 3],
}

/// What E and steps 1-4 come to at one lookback (`stages`).
struct Stages {
    rare: usize,
    third_party: usize,
    baseline: usize,
    /// E events dropped by `excluded_nets` (E4 minus E5).
    excluded_events: usize,
    /// The new tuples (ids).
    new: Vec<u32>,
    /// Earliest and latest starttime of the baseline tuples.
    starts: Option<(Nanos, Nanos)>,
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
            if !ever_server[c.net_name[n.device_name.codes.get(r) as usize] as usize] {
                return false;
            }
            let ty = n.remote_ip_type.codes.get(r) as usize;
            let dropped = listening[n.action.codes.get(r) as usize]
                || private[ty]
                || (four_six[ty] && is_v4_mapped(n.remote_ip.get(r)));
            !dropped
        });
        let cand: Vec<Ev> = order
            .par_iter()
            .map(|&r| {
                let ri = r as usize;
                Ev {
                    ts: n.ts[ri],
                    row: r,
                    name: c.net_name[n.device_name.codes.get(ri) as usize],
                    company: n.company.codes.get(ri),
                    ip: n.remote_ip.codes[ri],
                    port: n.remote_port[ri],
                }
            })
            .collect();
        let mut ids: HashMap<(u32, u32, u32), u32> = HashMap::new();
        let tuple_of: Vec<u32> = cand
            .iter()
            .map(|e| {
                let next = ids.len() as u32;
                *ids.entry((e.name, e.ip, e.port)).or_insert(next)
            })
            .collect();
        let mut last = vec![Nanos::MIN; ids.len()];
        let mut keys = vec![(0u32, 0u32, 0u32); ids.len()];
        for (k, &t) in ids.iter() {
            keys[t as usize] = *k;
        }
        // `cand` is in time order: the last event seen is the latest.
        for (e, &t) in cand.iter().zip(&tuple_of) {
            last[t as usize] = e.ts;
        }
        let mut by_last: Vec<u32> = (0..ids.len() as u32).collect();
        by_last.sort_by_key(|&t| (std::cmp::Reverse(last[t as usize]), t));
        let mut rank = vec![0u32; ids.len()];
        for (i, &t) in by_last.iter().enumerate() {
            rank[t as usize] = i as u32;
        }
        let tuples = by_last.iter().map(|&t| keys[t as usize]).collect();
        let tuple_last = by_last.iter().map(|&t| last[t as usize]).collect();
        let tuple_ts = Buckets::build(ids.len(), cand.iter().zip(&tuple_of).map(|(e, &t)| (rank[t as usize], e.ts)));
        let mut latest: HashMap<(u32, u32), Nanos> = HashMap::new();
        for (e, &t) in cand.iter().zip(&tuple_of) {
            if e.company != 0 {
                latest.insert((rank[t as usize], e.company), e.ts);
            }
        }
        let mut companies: Vec<(u32, u32, Nanos)> = latest.into_iter().map(|((t, co), ts)| (t, co, ts)).collect();
        companies.sort_unstable_by_key(|&(t, co, ts)| (std::cmp::Reverse(ts), t, co));
        let mut by_name: HashMap<(u32, u32), Nanos> = HashMap::new();
        for e in cand.iter().filter(|e| e.company != 0) {
            by_name.insert((e.name, e.company), e.ts);
        }
        let mut name_companies: Vec<(u32, u32, Nanos)> = by_name.into_iter().map(|((n, co), ts)| (n, co, ts)).collect();
        name_companies.sort_unstable_by_key(|&(name, co, ts)| (std::cmp::Reverse(ts), name, co));
        let tuple_first: Vec<Nanos> =
            (0..ids.len()).map(|t| tuple_ts.get(t).first().copied().unwrap_or(Nanos::MIN)).collect();
        let names = c.devnames.len();
        let on_server = |r: usize| ever_server[c.net_name[n.device_name.codes.get(r) as usize] as usize];
        let server_rows: Vec<u32> = c.net_order.iter().copied().filter(|&r| on_server(r as usize)).collect();
        let name_of = |r: u32| c.net_name[n.device_name.codes.get(r as usize) as usize];
        let name_ts = [
            Buckets::build(names, server_rows.iter().map(|&r| (name_of(r), n.ts[r as usize]))),
            Buckets::build(
                names,
                server_rows
                    .iter()
                    .filter(|&&r| !listening[n.action.codes.get(r as usize) as usize])
                    .map(|&r| (name_of(r), n.ts[r as usize])),
            ),
            Buckets::build(names, cand.iter().map(|e| (e.name, e.ts))),
        ];
        Index { cand, tuples, tuple_last, tuple_first, tuple_ts, companies, name_companies, name_ts }
    }

    /// E (counted by how many events `excluded_nets` drops from it) and steps 1-4 at the
    /// lookback start `from`, from the tuple and company lists: only tuples and companies with
    /// an event after `from` are visited.
    fn stages(&self, eng: &Engine, p: &HuntParams, from: Nanos, new_from: Nanos) -> Stages {
        let servers = eng.common.servers_since(from);
        let excluded = excluded_ips(eng, p);
        let max_servers = p.integer("company_max_servers");
        // Per company code: the distinct servers it runs on in E.
        let mut on_servers = vec![0i64; eng.ds.net.company.dict.len()];
        let mut pairs: Vec<(u32, u32)> = match excluded.is_empty() {
            // (name, company) pairs are distinct already.
            true => self.name_companies[..self.name_companies.partition_point(|c| c.2 > from)]
                .iter()
                .filter(|c| servers[c.0 as usize])
                .map(|&(name, co, _)| (co, name))
                .collect(),
            false => {
                let mut pairs: Vec<(u32, u32)> = self.companies[..self.companies.partition_point(|c| c.2 > from)]
                    .iter()
                    .filter(|c| {
                        let (name, ip, _) = self.tuples[c.0 as usize];
                        servers[name as usize] && !excluded.contains(ip)
                    })
                    .map(|&(t, co, _)| (co, self.tuples[t as usize].0))
                    .collect();
                pairs.sort_unstable();
                pairs.dedup();
                pairs
            }
        };
        for &(co, _) in &pairs {
            on_servers[co as usize] += 1;
        }
        pairs.retain(|&(co, _)| on_servers[co as usize] < max_servers);
        let mut third_party = vec![false; servers.len()];
        for &(_, name) in &pairs {
            third_party[name as usize] = true;
        }
        let mut st = Stages {
            rare: on_servers.iter().filter(|&&n| n > 0 && n < max_servers).count(),
            third_party: third_party.iter().filter(|&&x| x).count(),
            baseline: 0,
            excluded_events: 0,
            new: Vec::new(),
            starts: None,
        };
        for t in 0..self.tuple_last.partition_point(|&l| l > from) {
            let (name, ip, _) = self.tuples[t];
            if !servers[name as usize] {
                continue;
            }
            if excluded.contains(ip) {
                let ts = self.tuple_ts.get(t);
                st.excluded_events += ts.len() - first_after(ts, from, |t| *t);
                continue;
            }
            if !third_party[name as usize] {
                continue;
            }
            st.baseline += 1;
            // The first event after `from`: most tuples start after it.
            let start = match self.tuple_first[t] {
                first if first > from => first,
                _ => {
                    let ts = self.tuple_ts.get(t);
                    ts[first_after(ts, from, |t| *t)]
                }
            };
            st.starts = Some(st.starts.map_or((start, start), |(lo, hi)| (lo.min(start), hi.max(start))));
            if start > new_from {
                st.new.push(t as u32);
            }
        }
        st
    }

    /// Whether `ip` has a Prevalence (distinct devices over every network event with
    /// `Timestamp > since`) of at least `max_prev`; no events = no prevalence = false.
    fn prevalent(&self, eng: &Engine, ip: u32, since: Nanos, max_prev: i64) -> bool {
        let ds = &eng.ds;
        let evs = eng.common.by_ip.since(ds, ip, since);
        if evs.is_empty() {
            return false;
        }
        let Ok(limit) = usize::try_from(max_prev) else { return true };
        if limit == 0 {
            return true;
        }
        let mut devices = DistinctUpTo::new(limit);
        evs.iter().any(|&r| devices.insert(ds.net.device.codes.get(r as usize)) >= limit)
    }

    /// The latest window start at which `ip` stops being prevalent: the Prevalence over
    /// `Timestamp > since` is below `max_prev` (or there is none) exactly when `since >=` it.
    /// `Nanos::MIN` = at every start.
    fn prevalence_limit(&self, eng: &Engine, ip: u32, max_prev: i64) -> Nanos {
        let ds = &eng.ds;
        let evs = eng.common.by_ip.since(ds, ip, Nanos::MIN);
        // With a threshold of 1 or less, any event at all makes it prevalent.
        let limit = usize::try_from(max_prev).unwrap_or(0).max(1);
        let mut devices = DistinctUpTo::new(limit);
        for &r in evs.iter().rev() {
            if devices.insert(ds.net.device.codes.get(r as usize)) >= limit {
                return ds.net.ts[r as usize];
            }
        }
        Nanos::MIN
    }

    /// E: events inside the lookback on servers, minus excluded networks, in time order.
    fn e_events(&self, eng: &Engine, p: &HuntParams, now: Nanos) -> Vec<Ev> {
        let lookback_from = now.saturating_sub(p.duration("lookback"));
        let servers = eng.common.servers_since(lookback_from);
        let excluded = excluded_ips(eng, p);
        self.cand[first_after(&self.cand, lookback_from, |e| e.ts)..]
            .par_iter()
            .filter(|e| servers[e.name as usize] && !excluded.contains(e.ip))
            .copied()
            .collect()
    }

    /// Per company code of E: the number of distinct servers it runs on (0 = not in E).
    fn company_servers(&self, ds: &Dataset, e: &[Ev]) -> Vec<i64> {
        let mut pairs: Vec<(u32, u32)> = e.iter().filter(|e| e.company != 0).map(|e| (e.company, e.name)).collect();
        pairs.par_sort_unstable();
        pairs.dedup();
        let mut count = vec![0i64; ds.net.company.dict.len()];
        for chunk in pairs.chunk_by(|a, b| a.0 == b.0) {
            count[chunk[0].0 as usize] = chunk.len() as i64;
        }
        count
    }

    /// Rare companies (by code) and third-party servers (by folded name) of E.
    fn third_party(&self, eng: &Engine, p: &HuntParams, e: &[Ev]) -> (Vec<bool>, Vec<bool>) {
        let max_servers = p.integer("company_max_servers");
        let rare: Vec<bool> = self.company_servers(&eng.ds, e).iter().map(|&n| n > 0 && n < max_servers).collect();
        let mut third_party = vec![false; eng.common.devnames.len()];
        for ev in e {
            if rare[ev.company as usize] {
                third_party[ev.name as usize] = true;
            }
        }
        (rare, third_party)
    }

    /// The baseline events: E on third-party servers, in time order.
    fn baseline_events(&self, eng: &Engine, p: &HuntParams, now: Nanos) -> Vec<Ev> {
        let e = self.e_events(eng, p, now);
        let (_, third_party) = self.third_party(eng, p, &e);
        e.into_iter().filter(|ev| third_party[ev.name as usize]).collect()
    }

    /// Events aggregated per (DeviceName, RemoteIP, RemotePort).
    fn aggregate(evs: impl IntoIterator<Item = Ev>) -> HashMap<(u32, u32, u32), Agg> {
        let mut baseline: HashMap<(u32, u32, u32), Agg> = HashMap::new();
        for e in evs {
            let a = baseline.entry((e.name, e.ip, e.port)).or_insert(Agg { count: 0, start: e.ts, end: e.ts });
            a.count += 1;
            a.start = a.start.min(e.ts);
            a.end = a.end.max(e.ts);
        }
        baseline
    }

    /// (Prevalence, URLs) of a RemoteIP over every network event with `Timestamp > since`.
    fn prevalence(&self, eng: &Engine, ip: u32, since: Nanos) -> Option<(i64, Vec<String>)> {
        let ds = &eng.ds;
        let evs = eng.common.by_ip.since(ds, ip, since);
        if evs.is_empty() {
            return None;
        }
        let mut devs: Vec<u32> = evs.iter().map(|e| ds.net.device.codes.get(*e as usize)).collect();
        devs.sort_unstable();
        devs.dedup();
        let urls = text_set(evs.iter().map(|e| ds.net.remote_url.get(*e as usize)));
        Some((devs.len() as i64, urls))
    }
}

impl HuntIndex for Index {
    fn heap_bytes(&self) -> usize {
        self.cand.capacity() * std::mem::size_of::<Ev>()
            + self.tuples.capacity() * 12
            + (self.tuple_last.capacity() + self.tuple_first.capacity()) * 8
            + self.tuple_ts.heap_bytes()
            + (self.companies.capacity() + self.name_companies.capacity()) * 16
            + self.name_ts.iter().map(Buckets::heap_bytes).sum::<usize>()
    }

    fn run(&self, eng: &Engine, p: &HuntParams, now: Nanos) -> Vec<(RowKey, Vec<Cell>)> {
        let ds = &eng.ds;
        let baseline = Index::aggregate(self.baseline_events(eng, p, now));
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
            let prev = prev_cache.entry(ip).or_insert_with(|| self.prevalence(eng, ip, prev_from));
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

    /// From the per-server time lists (E1-E4, binary searches), the tuple and company lists
    /// (E5, steps 1-4); 5-6 are the rows of the run these parameters just had, else a bounded
    /// prevalence count per new tuple.
    fn funnel(&self, eng: &Engine, p: &HuntParams, now: Nanos) -> Funnel {
        let ds = &eng.ds;
        let n = &ds.net;
        let c = &eng.common;
        let lookback_from = now.saturating_sub(p.duration("lookback"));
        let new_from = now.saturating_sub(p.duration("new_within"));
        let prev_from = now.saturating_sub(p.duration("prevalence_window"));
        let max_prev = p.integer("max_prevalence");
        let servers = c.servers_since(lookback_from);
        let after = |b: &Buckets<Nanos>| -> usize {
            let on = servers.iter().enumerate().filter(|(_, &s)| s);
            on.map(|(name, _)| b.get(name).len() - first_after(b.get(name), lookback_from, |t| *t)).sum()
        };
        let order = &c.net_order;
        let e4 = after(&self.name_ts[2]);
        let st = self.stages(eng, p, lookback_from, new_from);
        let counts = [
            order.len() - first_after(order, lookback_from, |&r| n.ts[r as usize]),
            after(&self.name_ts[0]),
            after(&self.name_ts[1]),
            e4,
            e4 - st.excluded_events,
        ];
        let kept = eng.rows_of_run(p, now).unwrap_or_else(|| {
            let mut memo: HashMap<u32, bool> = HashMap::new();
            let mut kept = |t: &&u32| {
                let ip = self.tuples[**t as usize].1;
                !*memo.entry(ip).or_insert_with(|| self.prevalent(eng, ip, prev_from, max_prev))
            };
            st.new.iter().filter(|t| kept(t)).count()
        });
        let (rare_n, third_n, baseline_n, new_n, starts) =
            (st.rare, st.third_party, st.baseline, st.new.len(), st.starts);
        let ev = FunnelUnit::Events;
        let mut out = Funnel::default();
        let lookback = named_window(p, "lookback");
        out.push("E1", format!("Timestamp > now - {lookback}"), counts[0], ev);
        let range = order.first().zip(order.last()).map(|(&a, &b)| (n.ts[a as usize], n.ts[b as usize]));
        out.note(window_note(counts[0], n.len(), ev, range, lookback_from, now, &lookback));
        out.push("E2", format!("on servers (DeviceInfo inside {lookback})"), counts[1], ev);
        out.push("E3", "ActionType != ListeningConnectionCreated", counts[2], ev);
        out.push("E4", "RemoteIPType not Private/Loopback, not an IPv4-mapped FourToSixMapping", counts[3], ev);
        out.push("E5", format!("RemoteIP not in excluded_nets {}", enabled_list(p, "excluded_nets")), counts[4], ev);
        let max_servers = p.integer("company_max_servers");
        out.push(
            "1",
            format!("rare companies: on < company_max_servers {max_servers} servers"),
            rare_n,
            FunnelUnit::Groups,
        );
        out.push("2", "third-party servers: an E event with a rare company", third_n, FunnelUnit::Groups);
        out.push(
            "3",
            "baseline: (DeviceName, RemoteIP, RemotePort) on third-party servers",
            baseline_n,
            FunnelUnit::Tuples,
        );
        let new_within = named_window(p, "new_within");
        out.push("4", format!("new: starttime > now - {new_within}"), new_n, FunnelUnit::Tuples);
        out.note(window_note(new_n, baseline_n, FunnelUnit::Tuples, starts, new_from, now, &new_within));
        out.push(
            "5-6",
            format!(
                "Prevalence (devices to RemoteIP over {}) < max_prevalence {}, or none",
                named_window(p, "prevalence_window"),
                p.integer("max_prevalence")
            ),
            kept,
            FunnelUnit::Rows,
        );
        out
    }

    /// `max_prevalence` and `company_max_servers` from one pass each: a new tuple's prevalence
    /// decides the least `max_prevalence` that keeps it; a server's rarest company decides the
    /// least `company_max_servers` that makes it third-party (and so keeps its tuples).
    fn sweep(&self, eng: &Engine, p: &HuntParams, now: Nanos, param: &str, values: &[ParamValue]) -> Vec<usize> {
        let ds = &eng.ds;
        let new_from = now.saturating_sub(p.duration("new_within"));
        let prev_from = now.saturating_sub(p.duration("prevalence_window"));
        match param {
            "max_prevalence" => {
                let baseline = Index::aggregate(self.baseline_events(eng, p, now));
                let keys: Vec<Option<i64>> = baseline
                    .iter()
                    .filter(|(_, a)| a.start > new_from)
                    .map(|((_, ip, _), _)| Some(self.prevalence(eng, *ip, prev_from).map_or(i64::MIN, |(c, _)| c + 1)))
                    .collect();
                sweep_at_least(keys, values)
            }
            "new_within" => {
                // A kept tuple's starttime decides the least new_within that makes it new.
                let max_prev = p.integer("max_prevalence");
                let keys: Vec<Option<i64>> = Index::aggregate(self.baseline_events(eng, p, now))
                    .iter()
                    .filter(|((_, ip, _), _)| self.prevalence(eng, *ip, prev_from).is_none_or(|(c, _)| c < max_prev))
                    .map(|(_, a)| Some(now.saturating_sub(a.start).saturating_add(1)))
                    .collect();
                sweep_at_least(keys, values)
            }
            "company_max_servers" => {
                let e = self.e_events(eng, p, now);
                let company = self.company_servers(ds, &e);
                // The least threshold at which each server is third-party.
                let mut server_key: Vec<Option<i64>> = vec![None; eng.common.devnames.len()];
                for ev in e.iter().filter(|ev| ev.company != 0) {
                    let k = company[ev.company as usize] + 1;
                    let s = &mut server_key[ev.name as usize];
                    *s = Some(s.map_or(k, |x| x.min(k)));
                }
                let max_prev = p.integer("max_prevalence");
                let keys: Vec<Option<i64>> = Index::aggregate(e)
                    .iter()
                    .filter(|(_, a)| a.start > new_from)
                    .filter(|((_, ip, _), _)| self.prevalence(eng, *ip, prev_from).is_none_or(|(c, _)| c < max_prev))
                    .map(|((name, _, _), _)| server_key[*name as usize])
                    .collect();
                sweep_at_least(keys, values)
            }
            "lookback" => {
                // Steps 1-4 from the tuple and company lists at each lookback; the
                // prevalence of an address does not depend on the lookback.
                let max_prev = p.integer("max_prevalence");
                let news: Vec<Vec<u32>> = values
                    .par_iter()
                    .map(|v| match v {
                        ParamValue::Duration(d) => self.stages(eng, p, now.saturating_sub(*d), new_from).new,
                        _ => Vec::new(),
                    })
                    .collect();
                let mut memo: HashMap<u32, bool> = HashMap::new();
                news.iter()
                    .map(|new| {
                        let mut kept = |t: &&u32| {
                            let ip = self.tuples[**t as usize].1;
                            !*memo.entry(ip).or_insert_with(|| self.prevalent(eng, ip, prev_from, max_prev))
                        };
                        new.iter().filter(|t| kept(t)).count()
                    })
                    .collect()
            }
            "prevalence_window" => {
                // The new tuples do not depend on the window; each address stops being
                // prevalent once the window starts at or after one instant.
                let lookback_from = now.saturating_sub(p.duration("lookback"));
                let max_prev = p.integer("max_prevalence");
                let new = self.stages(eng, p, lookback_from, new_from).new;
                let mut memo: HashMap<u32, Nanos> = HashMap::new();
                let limits: Vec<Nanos> = new
                    .iter()
                    .map(|&t| {
                        let ip = self.tuples[t as usize].1;
                        *memo.entry(ip).or_insert_with(|| self.prevalence_limit(eng, ip, max_prev))
                    })
                    .collect();
                super::funnel::sweep_window_from(limits, now, values)
            }
            _ => values.par_iter().map(|v| self.run(eng, &super::funnel::with_value(p, param, v), now).len()).collect(),
        }
    }

    fn why(&self, eng: &Engine, p: &HuntParams, now: Nanos, key: &RowKey, cells: &[Cell]) -> String {
        let &[name, _, _] = &key.0[..] else { return String::new() };
        let e = self.e_events(eng, p, now);
        let company = self.company_servers(&eng.ds, &e);
        let max_servers = p.integer("company_max_servers");
        let mut rare: Vec<(String, i64)> = e
            .iter()
            .filter(|ev| ev.name == name && ev.company != 0)
            .map(|ev| ev.company)
            .collect::<std::collections::BTreeSet<u32>>()
            .into_iter()
            .map(|co| (eng.ds.net.company.dict.get(co).to_string(), company[co as usize]))
            .filter(|(_, n)| *n < max_servers)
            .collect();
        rare.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        let companies: Vec<String> = rare.iter().take(3).map(|(c, n)| format!("{c} on {n} servers")).collect();
        let start = cells.get(4).map(Cell::to_csv).unwrap_or_default();
        let prevalence = match cells.get(6) {
            Some(Cell::Int(v)) => format!("Prevalence {v} < max_prevalence {}", p.integer("max_prevalence")),
            _ => format!("no prevalence inside {}", named_window(p, "prevalence_window")),
        };
        format!(
            "rare company {} (< company_max_servers {max_servers}); first seen {start} inside new_within {}; {prevalence}",
            if companies.is_empty() { "(none)".to_string() } else { companies.join(", ") },
            crate::model::time::format_duration(p.duration("new_within")),
        )
    }
}
