//! Hunt 1, rare-process: rare outbound IPv4 connections from non-browser processes, grouped by
//! lower-cased process name (`docs/hunts.md` section 1).
//!
//! The index keeps, per folded process name, the events that pass every parameter-free filter
//! (RemoteUrl empty, Tcp, ConnectionSuccess, Public) in time order; a run only applies the
//! parameter filters and stops counting a process once it reaches `max_devices` devices.

use super::index::{first_after, port_set, text_set, Common, Engine};
use super::kql::{KqlError, KqlOptions, Query};
use super::params::{ParamKind, ParamSpec};
use super::{Cell, CellKind, ColumnSpec, Hunt, HuntId, HuntIndex, HuntParams, HuntSpec, Need, Pivot, RowKey};
use crate::enrich::ti::ThreatIntel;
use crate::model::ip::ip_text;
use crate::model::tables::TableKind;
use crate::model::{Nanos, NO_PORT};
use crate::store::Dataset;
use rayon::prelude::*;

pub const ID: HuntId = HuntId::new("rare-process");

/// Hunt 1 in the registry.
pub struct RareProcess;

static SPEC: HuntSpec = HuntSpec {
    id: ID,
    key: "rare-process",
    title: "Rare process",
    summary: "Rare outbound IPv4 connections from non-browser processes",
    needs: &[Need::NetworkEvents, Need::GeoIpOptional],
    params: &[
        ParamSpec {
            key: "lookback",
            kind: ParamKind::Duration,
            default: "30d",
            help: "only events with Timestamp > now - lookback",
        },
        ParamSpec {
            key: "excluded_nets",
            kind: ParamKind::Cidrs,
            default: "100.0.0.0/16,200.200.200.0/24",
            help: "drop connections to these networks",
        },
        ParamSpec {
            key: "browsers",
            kind: ParamKind::Names,
            default: "msedge.exe,chrome.exe,firefox.exe",
            help: "process names ignored as browsers (exact, case-insensitive)",
        },
        ParamSpec { key: "excluded_ports", kind: ParamKind::Ports, default: "80,443", help: "remote ports ignored" },
        ParamSpec { key: "ipv4_only", kind: ParamKind::Bool, default: "true", help: "keep IPv4 remote addresses only" },
        ParamSpec {
            key: "require_exe",
            kind: ParamKind::Bool,
            default: "true",
            help: "process name must end with .exe",
        },
        ParamSpec {
            key: "max_devices",
            kind: ParamKind::Integer,
            default: "4",
            help: "keep processes seen on fewer devices than this",
        },
    ],
    columns: &[
        ColumnSpec::pivot("InitiatingProcessFileName", CellKind::Text, Pivot::Process),
        ColumnSpec::new("DeviceCount", CellKind::Int),
        ColumnSpec::pivot("Hashes", CellKind::TextSet, Pivot::Hash),
        ColumnSpec::new("SampleProcess", CellKind::Text),
        ColumnSpec::pivot("SampleRemoteIP", CellKind::Text, Pivot::Ip),
        ColumnSpec::new("Ports", CellKind::IntSet),
        ColumnSpec::new("RemoteIP_country", CellKind::Text),
        ColumnSpec::new("EventCount", CellKind::Int),
    ],
    key_columns: &["InitiatingProcessFileName"],
    group_by: None,
    table: TableKind::DeviceNetworkEvents,
    exclusions: &[(Pivot::Ip, "excluded_nets"), (Pivot::Process, "browsers")],
};

impl Hunt for RareProcess {
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
        q.push(&format!(
            "NetEvents
| where {t} > RefTime - lookback // 1
| where isempty(RemoteUrl) // 2
| where not(ipv4_only) or isnotnull(parse_ipv4(RemoteIP)) // 3 (differs: the seed's title promises IPv4 but its ipv4_lookup(..., return_unmatched=true) lets IPv6 through)
| where not(in_nets(RemoteIP, excluded_nets)) // 4
| where not(InitiatingProcessFileName in~ (browsers)) // 5: exact names, case-insensitive, as the seed's (?i)^(msedge|chrome|firefox)\\.exe$
| where Protocol =~ \"Tcp\" and ActionType =~ \"ConnectionSuccess\" and RemoteIPType =~ \"Public\" // 6 (differs: case-insensitive; Sysmon writes tcp)
| where not(require_exe) or InitiatingProcessFileName endswith \".exe\" // 7 (endswith is case-insensitive)
| where isnull(RemotePort) or RemotePort !in (excluded_ports) // 8
| extend InitiatingProcessFileName = tolower(InitiatingProcessFileName), DeviceKey = DeviceKeyOf(DeviceId, DeviceName)
| summarize DeviceCount = count_distinct(DeviceKey), // exact distinct count (dcount is an estimate)
    Hashes = make_set_if(InitiatingProcessMD5, isnotempty(InitiatingProcessMD5)),
    Ports = make_set_if(RemotePort, isnotnull(RemotePort)),
    EventCount = count(),
    arg_min({t}, SampleProcess = InitiatingProcessCommandLine, SampleRemoteIP = RemoteIP) // (differs: the earliest event, not any(): reproducible)
    by InitiatingProcessFileName
| where DeviceCount < max_devices
| extend Hashes = array_sort_asc(Hashes), Ports = array_sort_asc(Ports)
| extend RemoteIP_country = tostring(geo_info_from_ip_address(SampleRemoteIP).country)
| project InitiatingProcessFileName, DeviceCount, Hashes, SampleProcess, SampleRemoteIP, Ports, RemoteIP_country, EventCount
| sort by DeviceCount asc, InitiatingProcessFileName asc"
        ));
        Ok(q.finish())
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Ev {
    pub ts: Nanos,
    pub row: u32,
    pub ip: u32,
    pub port: u32,
    pub dev: u32,
}

/// Candidate events bucketed by folded process name (CSR: `evs[offsets[g]..offsets[g + 1]]`).
#[derive(Debug, Default)]
pub(crate) struct Index {
    offsets: Vec<usize>,
    evs: Vec<Ev>,
}

/// The parameter filters of one run.
struct Filter {
    cutoff: Nanos,
    ip_ok: Vec<bool>,
    group_ok: Vec<bool>,
    port_excluded: Vec<bool>,
    max_devices: usize,
}

impl Filter {
    fn keeps(&self, e: &Ev) -> bool {
        self.ip_ok[e.ip as usize] && (e.port == NO_PORT || !self.port_excluded[e.port as usize])
    }
}

/// Distinct ids, counted only up to a limit (the caller stops there).
pub(crate) struct DistinctUpTo {
    small: Vec<u32>,
    big: Option<hashbrown::HashSet<u32>>,
}

impl DistinctUpTo {
    pub fn new(limit: usize) -> Self {
        if limit <= 32 {
            DistinctUpTo { small: Vec::with_capacity(limit), big: None }
        } else {
            DistinctUpTo { small: Vec::new(), big: Some(hashbrown::HashSet::new()) }
        }
    }

    /// Add `id`; returns the distinct count so far.
    pub fn insert(&mut self, id: u32) -> usize {
        match &mut self.big {
            Some(set) => {
                set.insert(id);
                set.len()
            }
            None => {
                if !self.small.contains(&id) {
                    self.small.push(id);
                }
                self.small.len()
            }
        }
    }
}

impl Index {
    pub fn build(ds: &Dataset, c: &Common) -> Index {
        let n = &ds.net;
        let tcp = super::index::mask_any(&n.protocol.dict, &["tcp"]);
        let success = super::index::mask_any(&n.action.dict, &["connectionsuccess"]);
        let public = super::index::mask_any(&n.remote_ip_type.dict, &["public"]);
        let order = super::index::filter_order(&c.net_order, |r| {
            n.remote_url.codes[r] == 0
                && tcp[n.protocol.codes[r] as usize]
                && success[n.action.codes[r] as usize]
                && public[n.remote_ip_type.codes[r] as usize]
        });
        let groups = c.procs.len();
        let mut offsets = vec![0usize; groups + 1];
        for &r in &order {
            offsets[c.net_proc[n.proc_name.codes[r as usize] as usize] as usize + 1] += 1;
        }
        for g in 0..groups {
            offsets[g + 1] += offsets[g];
        }
        let mut fill = offsets.clone();
        let mut evs = vec![Ev { ts: 0, row: 0, ip: 0, port: 0, dev: 0 }; order.len()];
        for &r in &order {
            let ri = r as usize;
            let g = c.net_proc[n.proc_name.codes[ri] as usize] as usize;
            evs[fill[g]] = Ev {
                ts: n.ts[ri],
                row: r,
                ip: n.remote_ip.codes[ri],
                port: n.remote_port[ri],
                dev: n.device.codes[ri],
            };
            fill[g] += 1;
        }
        Index { offsets, evs }
    }

    fn filter(&self, eng: &Engine, p: &HuntParams, now: Nanos) -> Filter {
        let ds = &eng.ds;
        let nets: Vec<ipnet::IpNet> = p.enabled("excluded_nets").iter().filter_map(|s| s.parse().ok()).collect();
        let ipv4_only = p.boolean("ipv4_only");
        let ips = &ds.net.remote_ip.ips;
        let ip_ok: Vec<bool> = (0..ds.net.remote_ip.distinct())
            .into_par_iter()
            .map(|code| match (code, ips.get(code)) {
                (0, _) | (_, None) => !ipv4_only,
                (_, Some(ip)) => (!ipv4_only || ip.is_ipv4()) && !nets.iter().any(|n| n.contains(ip)),
            })
            .collect();
        let browsers: Vec<String> = p.enabled("browsers").iter().map(|b| b.trim().to_lowercase()).collect();
        let require_exe = p.boolean("require_exe");
        let group_ok = eng
            .common
            .procs
            .names
            .iter()
            .map(|name| !browsers.iter().any(|b| b == name) && (!require_exe || name.ends_with(".exe")))
            .collect();
        let mut port_excluded = vec![false; 65_536];
        for s in p.enabled("excluded_ports") {
            if let Ok(port) = s.parse::<usize>() {
                if port < port_excluded.len() {
                    port_excluded[port] = true;
                }
            }
        }
        let max_devices = usize::try_from(p.integer("max_devices")).unwrap_or(0);
        Filter { cutoff: now.saturating_sub(p.duration("lookback")), ip_ok, group_ok, port_excluded, max_devices }
    }

    fn group(&self, g: usize, f: &Filter) -> &[Ev] {
        let evs = &self.evs[self.offsets[g]..self.offsets[g + 1]];
        &evs[first_after(evs, f.cutoff, |e| e.ts)..]
    }

    /// (group, device count, event count, earliest event) of every process that stays rare.
    fn rare_groups(&self, f: &Filter) -> Vec<(usize, usize, usize, Ev)> {
        if f.max_devices == 0 {
            return Vec::new();
        }
        (0..self.offsets.len() - 1)
            .into_par_iter()
            .filter(|&g| f.group_ok[g])
            .filter_map(|g| {
                let mut devices = DistinctUpTo::new(f.max_devices);
                let mut first = None;
                let mut count = 0usize;
                let mut dcount = 0usize;
                for e in self.group(g, f).iter().filter(|e| f.keeps(e)) {
                    first.get_or_insert(*e);
                    count += 1;
                    dcount = devices.insert(e.dev);
                    if dcount >= f.max_devices {
                        return None;
                    }
                }
                first.map(|e| (g, dcount, count, e))
            })
            .collect()
    }
}

impl HuntIndex for Index {
    fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * 8 + self.evs.capacity() * std::mem::size_of::<Ev>()
    }

    fn run(&self, eng: &Engine, p: &HuntParams, now: Nanos) -> Vec<(RowKey, Vec<Cell>)> {
        let f = self.filter(eng, p, now);
        let ds = &eng.ds;
        let n = &ds.net;
        let mut groups = self.rare_groups(&f);
        groups
            .sort_by(|a, b| a.1.cmp(&b.1).then_with(|| eng.common.procs.names[a.0].cmp(&eng.common.procs.names[b.0])));
        groups
            .into_iter()
            .map(|(g, dcount, count, first)| {
                let evs: Vec<&Ev> = self.group(g, &f).iter().filter(|e| f.keeps(e)).collect();
                let hashes = text_set(evs.iter().map(|e| n.md5.get(e.row as usize)));
                let ports = port_set(evs.iter().map(|e| e.port));
                let row = first.row as usize;
                let ip = n.remote_ip.get(row);
                let country = ip.and_then(|ip| ds.geoip.as_ref().and_then(|g| g.country(ip))).unwrap_or_default();
                let cells = vec![
                    super::text(&eng.common.procs.names[g]),
                    Cell::Int(dcount as i64),
                    Cell::TextSet(hashes),
                    super::text(n.cmdline.get(row)),
                    super::text(&ip.map(ip_text).unwrap_or_default()),
                    Cell::IntSet(ports),
                    super::text(&country),
                    Cell::Int(count as i64),
                ];
                (RowKey(vec![g as u32]), cells)
            })
            .collect()
    }

    /// Network-event rows behind a result row: the qualifying events of its process.
    fn events(&self, eng: &Engine, p: &HuntParams, now: Nanos, key: &RowKey) -> Vec<usize> {
        let Some(&g) = key.0.first() else { return Vec::new() };
        let f = self.filter(eng, p, now);
        if (g as usize) >= self.offsets.len() - 1 || !f.group_ok[g as usize] {
            return Vec::new();
        }
        self.group(g as usize, &f).iter().filter(|e| f.keeps(e)).map(|e| e.row as usize).collect()
    }
}
