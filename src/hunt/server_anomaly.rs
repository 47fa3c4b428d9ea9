//! Hunt 4, server-anomaly: rarely contacted remote IPs of servers (`docs/hunts.md` section 4).
//!
//! The index buckets the events that pass the parameter-free filters (ConnectionSuccess, not
//! Private/Loopback, not 169.254.x) by RemoteIP, each bucket in time order; a run counts each
//! bucket's server events and stops at `max_connections`. The same events by DeviceName let the
//! funnel and the `lookback` sweep read only the servers' events.

use super::funnel::{enabled_list, named_window, sweep_at_least, window_note};
use super::index::{excluded_ips, first_after, port_set, text_set, Buckets, Common, Engine, ExcludedIps};
use super::kql::{KqlError, KqlOptions, Query};
use super::params::{ParamKind, ParamSpec};
use super::pivot::{host_in_domain, normalize_domain, url_host};
use super::{
    Cell, CellKind, ColumnSpec, Funnel, FunnelUnit, Hunt, HuntError, HuntId, HuntIndex, HuntParams, HuntSpec, Need,
    ParamValue, Pivot, RowKey, DEV_HINT, NET_HINT,
};
use crate::enrich::ti::ThreatIntel;
use crate::model::ip::ip_text;
use crate::model::tables::TableKind;
use crate::model::Nanos;
use crate::store::Dataset;
use rayon::prelude::*;
use std::net::IpAddr;

pub const ID: HuntId = HuntId::new("server-anomaly");

/// Hunt 4 in the registry.
pub struct ServerAnomaly;

static SPEC: HuntSpec = HuntSpec {
    id: ID,
    key: "server-anomaly",
    title: "Server anomaly",
    summary: "Rarely contacted remote IPs of servers",
    needs: &[Need::NetworkEvents, Need::DeviceInfo],
    params: &[
        ParamSpec { key: "servers", kind: ParamKind::Names, default: "", help: "server names to watch; empty = every server in DeviceInfo" },
        ParamSpec { key: "lookback", kind: ParamKind::Duration, default: "30d", help: "window for rarity and the server list" },
        ParamSpec { key: "recent", kind: ParamKind::Duration, default: "5d", help: "window for the recent connections shown" },
        ParamSpec { key: "max_connections", kind: ParamKind::Integer, default: "50", help: "a remote IP is rare with fewer connections than this" },
        ParamSpec {
            key: "known_domains",
            kind: ParamKind::Domains,
            default: ".microsoft.com,.windowsupdate.com,login.microsoftonline.com,login.live.com,autodiscover-s.outlook.com,ocsp.digicert.com,ocsp.verisign.com,login.windows.net,outlook.office365.com,accounts.accesscontrol.windows.net",
            help: "drop rare IPs whose URLs are in these domains",
        },
        ParamSpec { key: "excluded_nets", kind: ParamKind::Cidrs, default: "", help: "drop events to these remote networks before anything is counted" },
    ],
    columns: &[
        ColumnSpec::pivot("RemoteIP", CellKind::Text, Pivot::Ip),
        ColumnSpec::new("count_", CellKind::Int),
        ColumnSpec::pivot("set_RemoteUrl", CellKind::TextSet, Pivot::Domain),
        ColumnSpec::new("RecentCount", CellKind::Int),
        ColumnSpec::pivot("Devices", CellKind::TextSet, Pivot::Device),
        ColumnSpec::new("RemotePorts", CellKind::IntSet),
        ColumnSpec::pivot("Processes", CellKind::TextSet, Pivot::Process),
        ColumnSpec::new("FirstSeen", CellKind::Time),
        ColumnSpec::new("LastSeen", CellKind::Time),
    ],
key_columns: &["RemoteIP"],
group_by: None,
table: TableKind::DeviceNetworkEvents,
exclusions: &[(Pivot::Ip, "excluded_nets"), (Pivot::Domain, "known_domains")],
};

impl Hunt for ServerAnomaly {
    fn spec(&self) -> &'static HuntSpec {
        &SPEC
    }

    /// DeviceInfo is needed only to find the servers when none are named.
    fn check(&self, ds: &Dataset, p: &HuntParams) -> Result<(), HuntError> {
        let missing =
            |table: &'static str, hint: &str| HuntError::MissingTable { hunt: SPEC.key, table, hint: hint.to_string() };
        if ds.net.is_empty() {
            return Err(missing("DeviceNetworkEvents", NET_HINT));
        }
        if p.enabled("servers").is_empty() && ds.devinfo.is_empty() {
            return Err(missing(
                "DeviceInfo",
                &format!("{DEV_HINT} to find the servers, or name them with --set servers=NAME,..."),
            ));
        }
        Ok(())
    }

    fn build(&self, ds: &Dataset, common: &Common) -> Box<dyn HuntIndex> {
        Box::new(Index::build(ds, common))
    }

    fn kql(&self, params: &HuntParams, opts: &KqlOptions, _feed: Option<&ThreatIntel>) -> Result<String, KqlError> {
        let mut q = Query::new(params, opts)?;
        q.net_events();
        let t = q.t();
        let rule = q.servers_rule("lookback");
        q.push(&format!(
            "// Servers: the servers list when set (case-insensitive), else every server in DeviceInfo.
let Servers = union
    (print DeviceName = servers | mv-expand DeviceName to typeof(string) | project DeviceName = tolower(DeviceName)),
    ({rule}
    | where array_length(servers) == 0)
| distinct DeviceName;
// The host of a URL: scheme, user, port and path dropped, lower-cased, trailing dots removed.
let HostOf = (url:string) {{
    trim_end(@\"\\.+\", tolower(extract(@\"^(?:[^:/?#]*://)?(?:[^/?#]*@)?(\\[[^\\]]*\\]|[^/?#:]*)\", 1, trim(@\"\\s+\", url))))
}};
let KnownDomains = print Domain = known_domains
| mv-expand Domain to typeof(string)
| project Domain = trim_end(@\"\\.+\", trim_start(@\"\\.+\", tolower(Domain))), Join = 1;
// (differs: excluded_nets drops events before anything is counted; the seed has no such list)
let E = NetEvents
| where not(in_nets(RemoteIP, excluded_nets))
| where tolower(DeviceName) in (Servers)
| where ActionType =~ \"ConnectionSuccess\"
| where RemoteIPType !in~ (\"Private\", \"Loopback\")
| where not(RemoteIP startswith \"169.254.\")
| where not(coalesce(ipv6_is_in_range(RemoteIP, \"fe80::/10\"), false)); // (differs: the seed knows only the IPv4 link-local prefix; Sysmon reports IPv6 link-local peers)
let Rare = E
| where {t} > RefTime - lookback
| summarize count_ = count(), set_RemoteUrl = make_set_if(RemoteUrl, isnotempty(RemoteUrl)) by RemoteIP
| where count_ < max_connections;
// (differs: has_any matches terms, so login.live.com.evil.example would match login.live.com; here a URL matches an
// entry when its host is the entry or ends with \".\" + entry)
let KnownIPs = Rare
| mv-expand Url = set_RemoteUrl to typeof(string)
| extend Host = HostOf(Url), Join = 1
| join kind=inner KnownDomains on Join
| where isnotempty(Domain) and (Host == Domain or Host endswith strcat(\".\", Domain))
| distinct RemoteIP;
let RareIPs = Rare
| where RemoteIP !in (KnownIPs);
E
| where {t} > RefTime - recent
| where RemoteIP in (RareIPs | project RemoteIP)
| summarize RecentCount = count(), Devices = make_set_if(DeviceName, isnotempty(DeviceName)),
    RemotePorts = make_set_if(RemotePort, isnotnull(RemotePort)),
    Processes = make_set_if(tolower(InitiatingProcessFileName), isnotempty(InitiatingProcessFileName)),
    FirstSeen = min({t}), LastSeen = max({t}) by RemoteIP
| join kind=inner RareIPs on RemoteIP
| project RemoteIP, count_, set_RemoteUrl = array_sort_asc(set_RemoteUrl), RecentCount, Devices = array_sort_asc(Devices),
    RemotePorts = array_sort_asc(RemotePorts), Processes = array_sort_asc(Processes), FirstSeen, LastSeen
| sort by count_ asc, RemoteIP asc"
        ));
        Ok(q.finish())
    }
}

/// 16 bytes per candidate event: what the rarity count reads. URL, port and process are read
/// from the table only for the few rare IPs.
#[derive(Clone, Copy, Debug)]
struct Ev {
    ts: Nanos,
    row: u32,
    /// Folded DeviceName.
    name: u32,
}

#[derive(Debug, Default)]
pub(crate) struct Index {
    offsets: Vec<usize>,
    evs: Vec<Ev>,
    /// `url_host` of every RemoteUrl dictionary entry.
    hosts: Vec<String>,
    /// Per folded DeviceName, network events passing E's parameter-free conditions in turn:
    /// [all, ConnectionSuccess, + not Private/Loopback, + not link-local] (for the funnel).
    name_counts: Vec<[usize; 4]>,
    /// The candidate events again, by folded DeviceName, each bucket in time order: the funnel
    /// and the lookback sweep read only the servers' events.
    by_name: Buckets<NameEv>,
}

/// A candidate event as the funnel and the sweeps read it.
#[derive(Clone, Copy, Debug)]
struct NameEv {
    ts: Nanos,
    ip: u32,
    url: u32,
}

/// Whether `ip` is link-local: its text starts with `169.254.`, or it is in IPv6 `fe80::/10`.
fn is_link_local(ip: Option<IpAddr>) -> bool {
    match ip {
        Some(IpAddr::V4(v4)) => v4.octets()[0] == 169 && v4.octets()[1] == 254,
        Some(IpAddr::V6(v6)) => v6.segments()[0] & 0xffc0 == 0xfe80,
        None => false,
    }
}

struct Filter {
    servers: Vec<bool>,
    /// Per RemoteIP code: in an enabled `excluded_nets` entry.
    excluded: ExcludedIps,
    lookback_from: Nanos,
    recent_from: Nanos,
    max_connections: i64,
    domains: Vec<String>,
}

impl Index {
    pub fn build(ds: &Dataset, c: &Common) -> Index {
        let n = &ds.net;
        let success = super::index::mask_any(&n.action.dict, &["connectionsuccess"]);
        let private = super::index::mask_any(&n.remote_ip_type.dict, &["private", "loopback"]);
        let order = super::index::filter_order(&c.net_order, |r| {
            success[n.action.codes.get(r) as usize]
                && !private[n.remote_ip_type.codes.get(r) as usize]
                && !is_link_local(n.remote_ip.get(r))
        });
        let codes = n.remote_ip.distinct();
        let mut offsets = vec![0usize; codes + 1];
        for &r in &order {
            offsets[n.remote_ip.codes[r as usize] as usize + 1] += 1;
        }
        for i in 0..codes {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut evs = vec![Ev { ts: 0, row: 0, name: 0 }; order.len()];
        for &r in &order {
            let ri = r as usize;
            let ip = n.remote_ip.codes[ri] as usize;
            evs[fill[ip]] = Ev { ts: n.ts[ri], row: r, name: c.net_name[n.device_name.codes.get(ri) as usize] };
            fill[ip] += 1;
        }
        let urls: Vec<&str> = n.remote_url.dict.iter().map(|(_, s)| s).collect();
        let hosts = urls.par_iter().map(|u| url_host(u)).collect();
        let mut name_counts = vec![[0usize; 4]; c.devnames.len()];
        for r in 0..n.len() {
            let k = &mut name_counts[c.net_name[n.device_name.codes.get(r) as usize] as usize];
            k[0] += 1;
            if success[n.action.codes.get(r) as usize] {
                k[1] += 1;
                if !private[n.remote_ip_type.codes.get(r) as usize] {
                    k[2] += 1;
                    if !is_link_local(n.remote_ip.get(r)) {
                        k[3] += 1;
                    }
                }
            }
        }
        let by_name = Buckets::build(
            c.devnames.len(),
            order.iter().map(|&r| {
                let ri = r as usize;
                let ev = NameEv { ts: n.ts[ri], ip: n.remote_ip.codes[ri], url: n.remote_url.codes.get(ri) };
                (c.net_name[n.device_name.codes.get(ri) as usize], ev)
            }),
        );
        Index { offsets, evs, hosts, name_counts, by_name }
    }

    fn filter(&self, eng: &Engine, p: &HuntParams, now: Nanos) -> Filter {
        let lookback_from = now.saturating_sub(p.duration("lookback"));
        let named = p.enabled("servers");
        let servers =
            if named.is_empty() { eng.common.servers_since(lookback_from) } else { eng.common.servers_named(&named) };
        Filter {
            servers,
            excluded: excluded_ips(eng, p),
            lookback_from,
            recent_from: now.saturating_sub(p.duration("recent")),
            max_connections: p.integer("max_connections"),
            domains: p.enabled("known_domains").iter().map(|d| normalize_domain(d)).collect(),
        }
    }

    fn bucket(&self, ip: usize) -> &[Ev] {
        &self.evs[self.offsets[ip]..self.offsets[ip + 1]]
    }

    /// The recent server events of `ip` when it is a rare, not known-good IP; with its
    /// `count_` and URL set over the lookback.
    /// Whether any of the URL codes is inside an enabled known-good domain.
    fn known(&self, f: &Filter, url_codes: &[u32]) -> bool {
        url_codes.iter().any(|&u| f.domains.iter().any(|d| host_in_domain(&self.hosts[u as usize], d)))
    }

    fn rare_ip(&self, ds: &Dataset, f: &Filter, ip: usize) -> Option<(i64, Vec<String>, Vec<Ev>)> {
        if f.excluded.contains(ip as u32) {
            return None;
        }
        let b = self.bucket(ip);
        let mut count = 0i64;
        let look = &b[first_after(b, f.lookback_from, |e| e.ts)..];
        for e in look {
            if f.servers[e.name as usize] {
                count += 1;
                if count >= f.max_connections {
                    return None;
                }
            }
        }
        if count == 0 {
            return None;
        }
        let recent: Vec<Ev> = b[first_after(b, f.recent_from, |e| e.ts)..]
            .iter()
            .filter(|e| f.servers[e.name as usize])
            .copied()
            .collect();
        if recent.is_empty() {
            return None;
        }
        let urls = &ds.net.remote_url.codes;
        let mut url_codes: Vec<u32> = look
            .iter()
            .filter(|e| f.servers[e.name as usize])
            .map(|e| urls.get(e.row as usize))
            .filter(|&u| u != 0)
            .collect();
        url_codes.sort_unstable();
        url_codes.dedup();
        let dict = &ds.net.remote_url.dict;
        if self.known(f, &url_codes) {
            return None;
        }
        Some((count, text_set(url_codes.iter().map(|&u| dict.get(u))), recent))
    }
}

impl Index {
    /// Result counts of `lookback` values from one pass over the events of every name that is
    /// a server at some lookback. The lookback moves two things: the window, and (without a
    /// `servers` list) which names are servers, a name being one while the window reaches its
    /// latest server DeviceInfo row. An event counts at window start `w` when both its time and
    /// its name's latest server row are after `w`; every condition of a remote IP is then one
    /// bound on `w`: it has an event (`w <` the latest), fewer than `max_connections` (`w >=`
    /// the `max_connections`-th latest), no known-good URL (`w >=` the latest with one) and a
    /// recent event on a server (`w <` the latest server row behind its recent events).
    fn sweep_lookback(
        &self,
        eng: &Engine,
        p: &HuntParams,
        f: &Filter,
        now: Nanos,
        values: &[ParamValue],
    ) -> Vec<usize> {
        let Ok(limit) = usize::try_from(f.max_connections) else { return vec![0; values.len()] };
        if limit == 0 {
            return vec![0; values.len()];
        }
        let c = &eng.common;
        let named = p.enabled("servers");
        // Per folded name: the window starts before which it is a server.
        let mut server_until: Vec<Option<Nanos>> = vec![None; c.devnames.len()];
        if named.is_empty() {
            for &(ts, id) in &c.server_rows {
                let s = &mut server_until[id as usize];
                *s = Some(s.map_or(ts, |x| x.max(ts)));
            }
        } else {
            for (id, on) in c.servers_named(&named).into_iter().enumerate() {
                if on {
                    server_until[id] = Some(Nanos::MAX);
                }
            }
        }
        server_until[0] = None;
        let mut url_known = vec![0u8; self.hosts.len()];
        // (ip, latest start at which the event counts, URL known-good, server bound if recent).
        let mut evs: Vec<(u32, Nanos, bool, Option<Nanos>)> = Vec::new();
        for (name, until) in server_until.iter().enumerate() {
            let Some(until) = *until else { continue };
            for e in self.by_name.get(name) {
                if f.excluded.contains(e.ip) {
                    continue;
                }
                let known = e.url != 0 && {
                    let u = &mut url_known[e.url as usize];
                    if *u == 0 {
                        *u = if self.known(f, &[e.url]) { 1 } else { 2 };
                    }
                    *u == 1
                };
                let recent = (e.ts > f.recent_from).then_some(until);
                evs.push((e.ip, e.ts.min(until), known, recent));
            }
        }
        evs.par_sort_unstable_by_key(|e| (e.0, std::cmp::Reverse(e.1)));
        let spans = evs.chunk_by(|a, b| a.0 == b.0).filter_map(|g| {
            let latest = g[0].1;
            let recent = g.iter().filter_map(|e| e.3).max()?;
            let too_many = g.get(limit - 1).map_or(Nanos::MIN, |e| e.1);
            let known = g.iter().filter(|e| e.2).map(|e| e.1).max().unwrap_or(Nanos::MIN);
            Some((too_many.max(known), latest.min(recent)))
        });
        super::funnel::sweep_window_between(spans, now, values)
    }
}

impl HuntIndex for Index {
    fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * 8
            + self.evs.capacity() * std::mem::size_of::<Ev>()
            + self.by_name.heap_bytes()
            + self.hosts.iter().map(|h| h.capacity() + 24).sum::<usize>()
    }

    fn run(&self, eng: &Engine, p: &HuntParams, now: Nanos) -> Vec<(RowKey, Vec<Cell>)> {
        let ds = &eng.ds;
        let f = self.filter(eng, p, now);
        let c = &eng.common;
        let mut rows: Vec<(i64, String, RowKey, Vec<Cell>)> = (0..self.offsets.len() - 1)
            .into_par_iter()
            .filter_map(|ip| {
                let (count, urls, recent) = self.rare_ip(ds, &f, ip)?;
                let ip_s = ds.net.remote_ip.addr(ip as u32).map(ip_text).unwrap_or_default();
                let first = recent.iter().map(|e| e.ts).min().unwrap_or_default();
                let last = recent.iter().map(|e| e.ts).max().unwrap_or_default();
                let cells = vec![
                    super::text(&ip_s),
                    Cell::Int(count),
                    Cell::TextSet(urls),
                    Cell::Int(recent.len() as i64),
                    Cell::TextSet(text_set(recent.iter().map(|e| c.devnames.names[e.name as usize].as_str()))),
                    Cell::IntSet(port_set(recent.iter().map(|e| ds.net.remote_port[e.row as usize]))),
                    Cell::TextSet(text_set(recent.iter().map(|e| {
                        c.procs.names[c.net_proc[ds.net.proc_name.codes.get(e.row as usize) as usize] as usize].as_str()
                    }))),
                    Cell::Time(first),
                    Cell::Time(last),
                ];
                Some((count, ip_s, RowKey(vec![ip as u32]), cells))
            })
            .collect();
        rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        rows.into_iter().map(|r| (r.2, r.3)).collect()
    }

    /// Network-event rows behind a result row: the recent server events of its RemoteIP.
    fn events(&self, eng: &Engine, p: &HuntParams, now: Nanos, key: &RowKey) -> Vec<usize> {
        let Some(&ip) = key.0.first() else { return Vec::new() };
        if ip as usize >= self.offsets.len() - 1 {
            return Vec::new();
        }
        let f = self.filter(eng, p, now);
        match self.rare_ip(&eng.ds, &f, ip as usize) {
            Some((_, _, recent)) => recent.iter().map(|e| e.row as usize).collect(),
            None => Vec::new(),
        }
    }

    fn funnel(&self, eng: &Engine, p: &HuntParams, now: Nanos) -> Funnel {
        let ds = &eng.ds;
        let f = self.filter(eng, p, now);
        let mut e = [0usize; 4];
        for (name, k) in self.name_counts.iter().enumerate() {
            if f.servers.get(name).copied().unwrap_or(false) {
                for i in 0..4 {
                    e[i] += k[i];
                }
            }
        }
        // Over the servers' events only: per RemoteIP the events inside the lookback, whether
        // one of their URLs is known-good and the latest event; then [E events kept by
        // excluded_nets, inside lookback, rare, not known, recent].
        let ips = ds.net.remote_ip.distinct();
        let mut inside = vec![0u32; ips];
        let mut seen = vec![false; ips];
        let mut known = vec![false; ips];
        let mut last = vec![0 as Nanos; ips];
        let mut touched: Vec<u32> = Vec::new();
        // Per URL code: 0 = not judged, 1 = known-good, 2 = not.
        let mut url_known = vec![0u8; self.hosts.len()];
        let mut k = [0usize; 5];
        let mut range: Option<(Nanos, Nanos)> = None;
        for name in (0..self.by_name.len()).filter(|&name| f.servers.get(name).copied().unwrap_or(false)) {
            for e in self.by_name.get(name) {
                let ip = e.ip as usize;
                if f.excluded.contains(ip as u32) {
                    continue;
                }
                k[0] += 1;
                range = Some(range.map_or((e.ts, e.ts), |(lo, hi)| (lo.min(e.ts), hi.max(e.ts))));
                if !seen[ip] {
                    seen[ip] = true;
                    last[ip] = e.ts;
                    touched.push(e.ip);
                }
                last[ip] = last[ip].max(e.ts);
                if e.ts <= f.lookback_from {
                    continue;
                }
                k[1] += 1;
                inside[ip] += 1;
                if e.url != 0 && !known[ip] {
                    let u = &mut url_known[e.url as usize];
                    if *u == 0 {
                        *u = if self.known(&f, &[e.url]) { 1 } else { 2 };
                    }
                    known[ip] = *u == 1;
                }
            }
        }
        for &ip in &touched {
            let ip = ip as usize;
            if inside[ip] == 0 || i64::from(inside[ip]) >= f.max_connections {
                continue;
            }
            k[2] += 1;
            if known[ip] {
                continue;
            }
            k[3] += 1;
            k[4] += usize::from(last[ip] > f.recent_from);
        }
        let ev = FunnelUnit::Events;
        let mut out = Funnel::default();
        let named = p.enabled("servers");
        let servers = if named.is_empty() {
            format!("servers of DeviceInfo inside {}", named_window(p, "lookback"))
        } else {
            format!("servers {}", named.join(","))
        };
        out.push("E1", format!("on {servers}"), e[0], ev);
        out.push("E2", "ActionType ConnectionSuccess", e[1], ev);
        out.push("E3", "RemoteIPType not Private/Loopback", e[2], ev);
        out.push("E4", "RemoteIP not link-local (169.254/16, fe80::/10)", e[3], ev);
        out.push("E5", format!("RemoteIP not in excluded_nets {}", enabled_list(p, "excluded_nets")), k[0], ev);
        let lookback = named_window(p, "lookback");
        out.push("1", format!("Timestamp > now - {lookback}"), k[1], ev);
        out.note(window_note(k[1], k[0], ev, range, f.lookback_from, now, &lookback));
        let rare = format!("rare RemoteIPs: count_ < max_connections {}", f.max_connections);
        out.push("1", rare, k[2], FunnelUnit::Groups);
        out.push("2", "no URL inside known_domains", k[3], FunnelUnit::Groups);
        let recent = format!("a recent event: Timestamp > now - {}", named_window(p, "recent"));
        out.push("3", recent, k[4], FunnelUnit::Rows);
        out
    }

    /// `max_connections` from one pass: every remote IP that passes the other conditions has
    /// one `count_`, which decides the least threshold that keeps it.
    fn sweep(&self, eng: &Engine, p: &HuntParams, now: Nanos, param: &str, values: &[ParamValue]) -> Vec<usize> {
        let mut f = self.filter(eng, p, now);
        let keys: Vec<Option<i64>> = match param {
            "max_connections" => {
                f.max_connections = i64::MAX;
                (0..self.offsets.len() - 1)
                    .into_par_iter()
                    .filter_map(|ip| self.rare_ip(&eng.ds, &f, ip).map(|(count, _, _)| Some(count.saturating_add(1))))
                    .collect()
            }
            "recent" => {
                // A rare IP's latest event decides the least `recent` that shows it.
                f.recent_from = Nanos::MIN;
                (0..self.offsets.len() - 1)
                    .into_par_iter()
                    .filter_map(|ip| {
                        let (_, _, recent) = self.rare_ip(&eng.ds, &f, ip)?;
                        let last = recent.iter().map(|e| e.ts).max()?;
                        Some(Some(now.saturating_sub(last).saturating_add(1)))
                    })
                    .collect()
            }
            "lookback" => return self.sweep_lookback(eng, p, &f, now, values),
            _ => {
                return values
                    .par_iter()
                    .map(|v| self.run(eng, &super::funnel::with_value(p, param, v), now).len())
                    .collect()
            }
        };
        sweep_at_least(keys, values)
    }

    fn why(&self, _eng: &Engine, p: &HuntParams, _now: Nanos, _key: &RowKey, cells: &[Cell]) -> String {
        let int = |i: usize| match cells.get(i) {
            Some(Cell::Int(v)) => *v,
            _ => 0,
        };
        let devices = cells.get(4).map(Cell::to_csv).unwrap_or_default();
        format!(
            "count_ {} < max_connections {} inside {}; no URL in known_domains; {} recent events inside {} from {devices}",
            int(1),
            p.integer("max_connections"),
            named_window(p, "lookback"),
            int(3),
            named_window(p, "recent"),
        )
    }
}
