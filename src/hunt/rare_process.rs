//! Hunt 1, rare-process: rare outbound IPv4 connections from non-browser processes, grouped by
//! lower-cased process name (`docs/hunts.md` section 1).
//!
//! The index keeps, per folded process name, the events that pass every parameter-free filter
//! (RemoteUrl empty, Tcp, ConnectionSuccess, Public) in time order; a run only applies the
//! parameter filters and stops counting a process once it reaches `max_devices` devices.
//! For the funnel it also counts the events with an empty RemoteUrl by class (process,
//! IPv4 or not, condition 6, port) from any instant on, so conditions 1-8 cost a few hundred
//! class counts, not a pass over the events.

use super::funnel::{enabled_list, named_window, sweep_at_least, window_note};
use super::index::{excluded_nets, first_after, port_set, text_set, Common, CountsByTime, Engine};
use super::kql::{KqlError, KqlOptions, Query};
use super::params::{ParamKind, ParamSpec};
use super::{
    Cell, CellKind, ColumnSpec, Funnel, FunnelUnit, Hunt, HuntId, HuntIndex, HuntParams, HuntSpec, Need, ParamValue,
    Pivot, RowKey,
};
use crate::enrich::ti::ThreatIntel;
use crate::model::ip::ip_text;
use crate::model::tables::TableKind;
use crate::model::time::format_duration;
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
    /// Per RemoteIP code: whether it is an IPv4 address (code 0, no address, is not).
    v4: Vec<bool>,
    /// The funnel's pre-aggregate: the events with an empty RemoteUrl (condition 2), as rows in
    /// time order, each with its `Class` (what conditions 3, 5, 6 and 7 read) and its class and
    /// RemotePort (what condition 8 reads), counted from any position on.
    url_empty: Vec<u32>,
    classes: Vec<Class>,
    class_counts: CountsByTime,
    /// (class, RemotePort) pairs ordered by port, and their counts.
    ports: Vec<(u32, u32)>,
    port_counts: CountsByTime,
    /// Per code of Protocol, ActionType, RemoteIPType: Tcp, ConnectionSuccess, Public.
    fixed: [Vec<bool>; 3],
}

/// What the parameter conditions 3, 5 and 7 of rare-process read from an event, and whether it
/// passes condition 6 (condition 4 reads its address and is taken away per excluded address;
/// condition 8 its port, taken away per excluded port).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Class {
    group: u32,
    v4: bool,
    /// Condition 6: Tcp, ConnectionSuccess, Public.
    fixed: bool,
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
            n.remote_url.codes.get(r) == 0
                && tcp[n.protocol.codes.get(r) as usize]
                && success[n.action.codes.get(r) as usize]
                && public[n.remote_ip_type.codes.get(r) as usize]
        });
        let groups = c.procs.len();
        let mut offsets = vec![0usize; groups + 1];
        for &r in &order {
            offsets[c.net_proc[n.proc_name.codes.get(r as usize) as usize] as usize + 1] += 1;
        }
        for g in 0..groups {
            offsets[g + 1] += offsets[g];
        }
        let mut fill = offsets.clone();
        let mut evs = vec![Ev { ts: 0, row: 0, ip: 0, port: 0, dev: 0 }; order.len()];
        for &r in &order {
            let ri = r as usize;
            let g = c.net_proc[n.proc_name.codes.get(ri) as usize] as usize;
            evs[fill[g]] = Ev {
                ts: n.ts[ri],
                row: r,
                ip: n.remote_ip.codes[ri],
                port: n.remote_port[ri],
                dev: n.device.codes.get(ri),
            };
            fill[g] += 1;
        }
        let ips = &n.remote_ip;
        let v4: Vec<bool> = (0..ips.distinct() as u32).map(|c| ips.addr(c).is_some_and(|ip| ip.is_ipv4())).collect();
        let fixed_at = |r: usize| {
            tcp[n.protocol.codes.get(r) as usize]
                && success[n.action.codes.get(r) as usize]
                && public[n.remote_ip_type.codes.get(r) as usize]
        };
        let url_empty: Vec<u32> =
            c.net_order.iter().copied().filter(|&r| n.remote_url.codes.get(r as usize) == 0).collect();
        let mut class_ids: std::collections::HashMap<Class, u32> = std::collections::HashMap::new();
        let mut classes = Vec::new();
        let mut port_ids: std::collections::HashMap<(u32, u32), u32> = std::collections::HashMap::new();
        let mut ports = Vec::new();
        let (of_class, of_port): (Vec<u32>, Vec<u32>) = url_empty
            .iter()
            .map(|&r| {
                let ri = r as usize;
                let class = Class {
                    group: c.net_proc[n.proc_name.codes.get(ri) as usize],
                    v4: v4[ips.codes[ri] as usize],
                    fixed: fixed_at(ri),
                };
                let k = *class_ids.entry(class).or_insert_with(|| {
                    classes.push(class);
                    classes.len() as u32 - 1
                });
                let pair = (k, n.remote_port[ri]);
                let kp = *port_ids.entry(pair).or_insert_with(|| {
                    ports.push(pair);
                    ports.len() as u32 - 1
                });
                (k, kp)
            })
            .unzip();
        // Number the pairs in port order, so the pairs of one port are one range.
        let mut by_port: Vec<u32> = (0..ports.len() as u32).collect();
        by_port.sort_unstable_by_key(|&i| (ports[i as usize].1, ports[i as usize].0));
        let mut renumber = vec![0u32; ports.len()];
        for (to, &from) in by_port.iter().enumerate() {
            renumber[from as usize] = to as u32;
        }
        let ports: Vec<(u32, u32)> = by_port.iter().map(|&i| ports[i as usize]).collect();
        let of_port = of_port.into_iter().map(|i| renumber[i as usize]).collect();
        let class_counts = CountsByTime::build(classes.len(), of_class);
        let port_counts = CountsByTime::build(ports.len(), of_port);
        Index { offsets, evs, v4, url_empty, classes, class_counts, ports, port_counts, fixed: [tcp, success, public] }
    }

    fn filter(&self, eng: &Engine, p: &HuntParams, now: Nanos) -> Filter {
        let ds = &eng.ds;
        // Conditions 3 and 4 per RemoteIP code; code 0 (no address) is not IPv4 and never
        // inside a network.
        let mut ip_ok = if p.boolean("ipv4_only") { self.v4.clone() } else { vec![true; self.v4.len()] };
        for code in eng.common.codes_in(ds, &excluded_nets(p)) {
            ip_ok[code as usize] = false;
        }
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
        self.offsets.capacity() * 8
            + self.evs.capacity() * std::mem::size_of::<Ev>()
            + self.v4.capacity()
            + self.url_empty.capacity() * 4
            + self.classes.capacity() * std::mem::size_of::<Class>()
            + self.class_counts.heap_bytes()
            + self.ports.capacity() * 8
            + self.port_counts.heap_bytes()
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

    /// Conditions 1-8 counted from the pre-aggregate: the events of one class after the
    /// lookback start pass conditions 3, 5, 6 and 7 as a whole; condition 8 takes away the
    /// class's events on each excluded port, condition 4 the events of each excluded address.
    /// The groups formed follow from the same counts; the groups kept are the rows of the run
    /// these parameters just had, else the run's own code computes them.
    fn funnel(&self, eng: &Engine, p: &HuntParams, now: Nanos) -> Funnel {
        let ds = &eng.ds;
        let n = &ds.net;
        let c = &eng.common;
        let cutoff = now.saturating_sub(p.duration("lookback"));
        let order = &c.net_order;
        let ipv4_only = p.boolean("ipv4_only");
        let browsers: Vec<String> = p.enabled("browsers").iter().map(|b| b.trim().to_lowercase()).collect();
        let require_exe = p.boolean("require_exe");
        let group_pass: Vec<(bool, bool)> = c
            .procs
            .names
            .iter()
            .map(|name| (!browsers.iter().any(|b| b == name), !require_exe || name.ends_with(".exe")))
            .collect();
        let mut excluded_ports: Vec<u32> =
            p.enabled("excluded_ports").iter().filter_map(|s| s.parse().ok()).filter(|&x: &u32| x < 65_536).collect();
        excluded_ports.sort_unstable();
        excluded_ports.dedup();
        // Conditions 2..=7 over a class: the steps (indices into `counts`) it passes.
        let passes = |class: &Class| -> usize {
            let (not_browser, exe) = group_pass[class.group as usize];
            match ((!ipv4_only || class.v4), not_browser, class.fixed, exe) {
                (false, ..) => 2,
                (true, false, ..) => 4,
                (true, true, false, _) => 5,
                (true, true, true, false) => 6,
                (true, true, true, true) => 7,
            }
        };
        let groups = c.procs.len();
        let mut counts = [0usize; 8];
        counts[0] = order.len() - first_after(order, cutoff, |&r| n.ts[r as usize]);
        let at = first_after(&self.url_empty, cutoff, |&r| n.ts[r as usize]);
        // Events passing conditions 1-8 but 4, per group.
        let mut per_group = vec![0usize; groups];
        for (class, count) in self.classes.iter().zip(self.class_counts.after(at)) {
            let count = count as usize;
            let upto = passes(class);
            for k in &mut counts[1..upto] {
                *k += count;
            }
            if upto == 7 {
                per_group[class.group as usize] += count;
            }
        }
        // Condition 8: the events on excluded ports of classes that pass 1-7.
        counts[7] = counts[6];
        for port in &excluded_ports {
            let lo = self.ports.partition_point(|(_, p)| p < port);
            let hi = self.ports.partition_point(|(_, p)| p <= port);
            for (&(k, _), count) in self.ports[lo..hi].iter().zip(self.port_counts.after_range(at, lo..hi)) {
                let class = &self.classes[k as usize];
                if passes(class) == 7 {
                    counts[7] -= count as usize;
                    per_group[class.group as usize] -= count as usize;
                }
            }
        }
        // Condition 4: the events of excluded addresses, from step 4 on.
        for code in c.codes_in(ds, &excluded_nets(p)) {
            for &r in c.by_ip.since(ds, code, cutoff) {
                let ri = r as usize;
                if n.remote_url.codes.get(ri) != 0 {
                    continue;
                }
                let class = Class {
                    group: c.net_proc[n.proc_name.codes.get(ri) as usize],
                    v4: self.v4[code as usize],
                    fixed: self.fixed[0][n.protocol.codes.get(ri) as usize]
                        && self.fixed[1][n.action.codes.get(ri) as usize]
                        && self.fixed[2][n.remote_ip_type.codes.get(ri) as usize],
                };
                let upto = passes(&class);
                for k in counts.iter_mut().take(upto).skip(3) {
                    *k -= 1;
                }
                let port = n.remote_port[ri];
                if upto == 7 && excluded_ports.binary_search(&port).is_err() {
                    counts[7] -= 1;
                    per_group[class.group as usize] -= 1;
                }
            }
        }
        let formed = per_group.iter().filter(|&&x| x > 0).count();
        let kept = eng.rows_of_run(p, now).unwrap_or_else(|| {
            let mut f = self.filter(eng, p, now);
            for (ok, &passing) in f.group_ok.iter_mut().zip(&per_group) {
                *ok &= passing > 0;
            }
            self.rare_groups(&f).len()
        });
        let mut out = Funnel::default();
        let ev = FunnelUnit::Events;
        out.push("1", format!("Timestamp > now - {}", named_window(p, "lookback")), counts[0], ev);
        let range = order.first().zip(order.last()).map(|(&a, &b)| (n.ts[a as usize], n.ts[b as usize]));
        out.note(window_note(counts[0], n.len(), ev, range, cutoff, now, &named_window(p, "lookback")));
        out.push("2", "RemoteUrl empty", counts[1], ev);
        out.push("3", format!("RemoteIP is IPv4 (ipv4_only {ipv4_only})"), counts[2], ev);
        out.push("4", format!("RemoteIP not in excluded_nets {}", enabled_list(p, "excluded_nets")), counts[3], ev);
        out.push("5", format!("process not in browsers {}", enabled_list(p, "browsers")), counts[4], ev);
        out.push("6", "Protocol Tcp, ActionType ConnectionSuccess, RemoteIPType Public", counts[5], ev);
        out.push("7", format!("process name ends with .exe (require_exe {require_exe})"), counts[6], ev);
        out.push("8", format!("RemotePort not in excluded_ports {}", enabled_list(p, "excluded_ports")), counts[7], ev);
        out.push("groups", "grouped by lower-cased process name", formed, FunnelUnit::Groups);
        out.push("kept", format!("DeviceCount < max_devices {}", p.integer("max_devices")), kept, FunnelUnit::Groups);
        out
    }

    /// `max_devices` from one pass: each group's device count (uncapped) decides the least
    /// threshold that keeps it.
    fn sweep(&self, eng: &Engine, p: &HuntParams, now: Nanos, param: &str, values: &[ParamValue]) -> Vec<usize> {
        match param {
            "max_devices" => {
                let mut f = self.filter(eng, p, now);
                f.max_devices = usize::MAX;
                let groups = self.rare_groups(&f);
                sweep_at_least(groups.iter().map(|&(_, dcount, _, _)| Some(dcount as i64 + 1)), values)
            }
            "lookback" => {
                // Walking a group back in time from its newest event, it is kept from the
                // lookback that reaches that event until the one that reaches its
                // max_devices-th device.
                let mut f = self.filter(eng, p, now);
                f.cutoff = Nanos::MIN;
                let age = |ts: Nanos| now.saturating_sub(ts).saturating_add(1);
                let spans: Vec<(i64, i64)> = (0..self.offsets.len() - 1)
                    .into_par_iter()
                    .filter(|&g| f.group_ok[g] && f.max_devices > 0)
                    .filter_map(|g| {
                        let mut devices = DistinctUpTo::new(f.max_devices);
                        let mut newest = None;
                        for e in self.group(g, &f).iter().rev().filter(|e| f.keeps(e)) {
                            let lo = *newest.get_or_insert(age(e.ts));
                            if devices.insert(e.dev) >= f.max_devices {
                                return Some((lo, age(e.ts)));
                            }
                        }
                        newest.map(|lo| (lo, i64::MAX))
                    })
                    .collect();
                super::funnel::sweep_between(spans, values)
            }
            _ => values.par_iter().map(|v| self.run(eng, &super::funnel::with_value(p, param, v), now).len()).collect(),
        }
    }

    fn why(&self, _eng: &Engine, p: &HuntParams, _now: Nanos, _key: &RowKey, cells: &[Cell]) -> String {
        let int = |i: usize| match cells.get(i) {
            Some(Cell::Int(v)) => *v,
            _ => 0,
        };
        let ports = cells.get(5).map(Cell::to_csv).unwrap_or_default();
        format!(
            "DeviceCount {} < max_devices {}; {} events on ports {ports} inside lookback {}",
            int(1),
            p.integer("max_devices"),
            int(7),
            format_duration(p.duration("lookback"))
        )
    }
}
