//! Drill-down: the event rows behind one result row of a hunt, with summaries (hashes, remote
//! IPs with country and threat-intel hits, devices, ports, processes, URLs) and each event's
//! normalized columns.

use super::{Engine, HuntId, HuntOutput, HuntParams};
use crate::enrich::ti::TiHit;
use crate::model::ip::{ip_text, parse_ip};
use crate::model::tables::TableKind;
use crate::model::time::format_iso;
use crate::model::{Nanos, NO_PORT};
use crate::store::Dataset;
use std::collections::HashMap;
use std::net::IpAddr;

/// One remote address in a drill-down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpSummary {
    pub ip: String,
    pub count: usize,
    /// GeoIP country (empty without a database or a match).
    pub country: String,
    /// The threat-intel feed's view of the address.
    pub ti: Option<TiHit>,
}

/// The events behind a result row and what they have in common.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrillOutput {
    pub hunt: HuntId,
    /// Which table `rows` index into.
    pub table: TableKind,
    /// Row indices into that table, in time order (ties: load order).
    pub rows: Vec<usize>,
    /// Value -> event count, most frequent first (ties by value).
    pub hashes: Vec<(String, usize)>,
    pub remote_ips: Vec<IpSummary>,
    pub devices: Vec<(String, usize)>,
    pub ports: Vec<(u32, usize)>,
    pub processes: Vec<(String, usize)>,
    pub urls: Vec<(String, usize)>,
}

fn tally<K: std::hash::Hash + Eq + Ord + Clone>(it: impl IntoIterator<Item = K>) -> Vec<(K, usize)> {
    let mut m: HashMap<K, usize> = HashMap::new();
    for k in it {
        *m.entry(k).or_insert(0) += 1;
    }
    let mut v: Vec<(K, usize)> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

impl Engine {
    /// The events behind `output.rows[row]` and their summaries. `params` must be the ones
    /// `output` was computed with; `now` None uses the output's reference time.
    pub fn drill(&self, params: &HuntParams, now: Option<Nanos>, output: &HuntOutput, row: usize) -> DrillOutput {
        let now = now.unwrap_or(output.now);
        let key = output.rows.get(row).map(Vec::as_slice).unwrap_or(&[]);
        let (table, mut rows) = if key.is_empty() || params.hunt != output.hunt {
            (table_of(output.hunt), Vec::new())
        } else {
            match output.hunt {
                HuntId::RareProcess => (TableKind::DeviceNetworkEvents, self.rare.events(self, params, now, key)),
                HuntId::VmNewCountry => (TableKind::VMConnection, self.vm.events(&self.ds, params, now, key)),
                HuntId::SupplyChain => (TableKind::DeviceNetworkEvents, self.supply.events(self, params, now, key)),
                HuntId::ServerAnomaly => (TableKind::DeviceNetworkEvents, self.anomaly.events(self, params, now, key)),
                HuntId::TiInbound => (TableKind::DeviceNetworkEvents, self.ti.events(params, row)),
            }
        };
        let ts = |r: usize| match table {
            TableKind::VMConnection => self.ds.vm.ts[r],
            TableKind::DeviceInfo => self.ds.devinfo.ts[r],
            TableKind::DeviceNetworkEvents => self.ds.net.ts[r],
        };
        rows.sort_by_key(|&r| (ts(r), r));
        self.summarize(output.hunt, table, rows)
    }

    /// Every original column of the drilled events, re-read from their sources.
    pub fn drill_raw(&self, drill: &DrillOutput) -> Vec<Result<Vec<(String, String)>, String>> {
        crate::ingest::raw_records(&self.ds, drill.table, &drill.rows)
    }

    fn ip_summaries(&self, ips: Vec<(IpAddr, usize)>) -> Vec<IpSummary> {
        ips.into_iter()
            .map(|(ip, count)| IpSummary {
                ip: ip_text(ip),
                count,
                country: self.ds.geoip.as_ref().and_then(|g| g.country(ip)).unwrap_or_default(),
                ti: self.ds.ti.lookup(ip),
            })
            .collect()
    }

    fn summarize(&self, hunt: HuntId, table: TableKind, rows: Vec<usize>) -> DrillOutput {
        let ds = &self.ds;
        let mut out = DrillOutput {
            hunt,
            table,
            rows: Vec::new(),
            hashes: Vec::new(),
            remote_ips: Vec::new(),
            devices: Vec::new(),
            ports: Vec::new(),
            processes: Vec::new(),
            urls: Vec::new(),
        };
        match table {
            TableKind::DeviceNetworkEvents => {
                let n = &ds.net;
                out.hashes = tally(rows.iter().filter_map(|&r| non_empty(n.md5.get(r))));
                out.remote_ips = self.ip_summaries(tally(rows.iter().filter_map(|&r| n.remote_ip.get(r))));
                out.devices = tally(rows.iter().map(|&r| {
                    let name = n.device_name.get(r);
                    if name.is_empty() {
                        n.device.get(r).to_string()
                    } else {
                        name.to_lowercase()
                    }
                }));
                out.ports = tally(rows.iter().map(|&r| n.remote_port[r]).filter(|&p| p != NO_PORT));
                out.processes = tally(rows.iter().filter_map(|&r| non_empty(&n.proc_name.get(r).to_lowercase())));
                out.urls = tally(rows.iter().filter_map(|&r| non_empty(n.remote_url.get(r))));
            }
            TableKind::VMConnection => {
                let v = &ds.vm;
                out.remote_ips =
                    self.ip_summaries(tally(rows.iter().filter_map(|&r| parse_ip(v.destination_ip.get(r)))));
                out.devices = tally(rows.iter().filter_map(|&r| non_empty(v.computer.get(r))));
                out.ports = tally(rows.iter().map(|&r| v.destination_port[r]).filter(|&p| p != NO_PORT));
                out.processes = tally(rows.iter().filter_map(|&r| non_empty(v.process_name.get(r))));
            }
            TableKind::DeviceInfo => {
                out.devices = tally(rows.iter().filter_map(|&r| non_empty(ds.devinfo.device_name.get(r))));
            }
        }
        out.rows = rows;
        out
    }
}

fn table_of(h: HuntId) -> TableKind {
    match h {
        HuntId::VmNewCountry => TableKind::VMConnection,
        _ => TableKind::DeviceNetworkEvents,
    }
}

fn port_text(p: u32) -> String {
    if p == NO_PORT {
        String::new()
    } else {
        p.to_string()
    }
}

/// The normalized columns the engine keeps for one row, for the drill view of sources that
/// cannot be re-read. Empty for a row that does not exist.
pub fn event_fields(ds: &Dataset, table: TableKind, row: usize) -> Vec<(&'static str, String)> {
    let ip = |v: Option<IpAddr>| v.map(ip_text).unwrap_or_default();
    match table {
        TableKind::DeviceNetworkEvents => {
            let n = &ds.net;
            if row >= n.len() {
                return Vec::new();
            }
            vec![
                ("Timestamp", format_iso(n.ts[row])),
                ("DeviceId", n.device_id.get(row).to_string()),
                ("DeviceName", n.device_name.get(row).to_string()),
                ("ActionType", n.action.get(row).to_string()),
                ("RemoteIP", ip(n.remote_ip.get(row))),
                ("RemotePort", port_text(n.remote_port[row])),
                ("RemoteUrl", n.remote_url.get(row).to_string()),
                ("LocalIP", ip(n.local_ip.get(row))),
                ("LocalPort", port_text(n.local_port[row])),
                ("Protocol", n.protocol.get(row).to_string()),
                ("RemoteIPType", n.remote_ip_type.get(row).to_string()),
                ("InitiatingProcessFileName", n.proc_name.get(row).to_string()),
                ("InitiatingProcessFolderPath", n.proc_folder.get(row).to_string()),
                ("InitiatingProcessCommandLine", n.cmdline.get(row).to_string()),
                ("InitiatingProcessMD5", n.md5.get(row).to_string()),
                ("InitiatingProcessVersionInfoCompanyName", n.company.get(row).to_string()),
            ]
        }
        TableKind::DeviceInfo => {
            let d = &ds.devinfo;
            if row >= d.len() {
                return Vec::new();
            }
            let facing = match d.is_internet_facing[row] {
                0 => "false",
                1 => "true",
                _ => "",
            };
            vec![
                ("Timestamp", format_iso(d.ts[row])),
                ("DeviceId", d.device_id.get(row).to_string()),
                ("DeviceName", d.device_name.get(row).to_string()),
                ("OSPlatform", d.os_platform.get(row).to_string()),
                ("DeviceType", d.device_type.get(row).to_string()),
                ("IsInternetFacing", facing.to_string()),
                ("InternetFacingLocalPort", port_text(d.if_local_port[row])),
                ("InternetFacingReason", d.if_reason.get(row).to_string()),
                ("InternetFacingLocalIp", d.if_local_ip.get(row).to_string()),
            ]
        }
        TableKind::VMConnection => {
            let v = &ds.vm;
            if row >= v.len() {
                return Vec::new();
            }
            vec![
                ("TimeGenerated", format_iso(v.ts[row])),
                ("Computer", v.computer.get(row).to_string()),
                ("Direction", v.direction.get(row).to_string()),
                ("ProcessName", v.process_name.get(row).to_string()),
                ("SourceIp", v.source_ip.get(row).to_string()),
                ("DestinationIp", v.destination_ip.get(row).to_string()),
                ("DestinationPort", port_text(v.destination_port[row])),
                ("Protocol", v.protocol.get(row).to_string()),
                ("RemoteCountry", v.remote_country.get(row).to_string()),
                ("MaliciousIp", v.malicious_ip.get(row).to_string()),
                ("BytesSent", v.bytes_sent[row].to_string()),
                ("BytesReceived", v.bytes_received[row].to_string()),
            ]
        }
    }
}
