//! Drill-down: the event rows behind one result row of a hunt (from its typed key and the
//! parameters it was computed with), summaries of them (remote IPs with country and threat
//! intel, processes, hashes, devices, ports, URLs) whose entries match their events exactly,
//! and each event's normalized columns.

use super::{Cell, CellKind, ColumnSpec, Engine, HuntId, HuntOutput, Pivot};
use crate::enrich::ti::TiHit;
use crate::model::ip::{ip_text, parse_ip};
use crate::model::tables::TableKind;
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

/// What a drill-down summarizes its events by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FacetKind {
    RemoteIps,
    Processes,
    Hashes,
    Devices,
    Ports,
    Urls,
}

impl FacetKind {
    pub const ALL: [FacetKind; 6] = [
        FacetKind::RemoteIps,
        FacetKind::Processes,
        FacetKind::Hashes,
        FacetKind::Devices,
        FacetKind::Ports,
        FacetKind::Urls,
    ];

    /// The list's title in a drill-down.
    pub fn title(self) -> &'static str {
        match self {
            FacetKind::RemoteIps => "Remote IPs",
            FacetKind::Processes => "Processes",
            FacetKind::Hashes => "Hashes",
            FacetKind::Devices => "Devices",
            FacetKind::Ports => "Ports",
            FacetKind::Urls => "URLs",
        }
    }

    /// The column the values are shown under.
    pub fn column(self) -> &'static str {
        match self {
            FacetKind::RemoteIps => "RemoteIP",
            FacetKind::Processes => "Process",
            FacetKind::Hashes => "MD5",
            FacetKind::Devices => "Device",
            FacetKind::Ports => "Port",
            FacetKind::Urls => "RemoteUrl",
        }
    }

    /// The pivot a value of this facet starts.
    pub fn pivot(self) -> Option<Pivot> {
        match self {
            FacetKind::RemoteIps => Some(Pivot::Ip),
            FacetKind::Processes => Some(Pivot::Process),
            FacetKind::Hashes => Some(Pivot::Hash),
            FacetKind::Devices => Some(Pivot::Device),
            FacetKind::Urls => Some(Pivot::Domain),
            FacetKind::Ports => None,
        }
    }
}

/// A facet value, typed: events match it exactly, never by text.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FacetValue {
    Ip(IpAddr),
    Port(u32),
    Text(String),
}

impl FacetValue {
    /// As shown in the drill-down list.
    pub fn to_cell(&self) -> Cell {
        match self {
            FacetValue::Ip(ip) => Cell::Text(ip_text(*ip)),
            FacetValue::Port(p) => Cell::Int(i64::from(*p)),
            FacetValue::Text(s) => Cell::Text(s.clone()),
        }
    }
}

/// One summary list of a drill-down: each distinct value with its event count, most frequent
/// first (ties by value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facet {
    pub kind: FacetKind,
    pub items: Vec<(FacetValue, usize)>,
}

/// The events behind a result row and what they have in common.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrillOutput {
    pub hunt: HuntId,
    /// Which table `rows` index into.
    pub table: TableKind,
    /// Row indices into that table, in time order (ties: load order).
    pub rows: Vec<usize>,
    /// The summaries that have at least one value, in `FacetKind::ALL` order.
    pub facets: Vec<Facet>,
    /// Country and threat-intel view of each remote address, in the RemoteIps facet's order.
    pub remote_ips: Vec<IpSummary>,
}

impl DrillOutput {
    /// The summary of kind `kind` (empty when no event has such a value).
    pub fn facet(&self, kind: FacetKind) -> &[(FacetValue, usize)] {
        self.facets.iter().find(|f| f.kind == kind).map(|f| f.items.as_slice()).unwrap_or(&[])
    }
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

impl Engine {
    /// The events behind `output.rows[row]` and their summaries, computed with the parameters
    /// and reference time `output` was computed with. An out-of-range row drills to nothing.
    pub fn drill(&self, output: &HuntOutput, row: usize) -> DrillOutput {
        let table = output.hunt.spec().table;
        let mut rows = match output.keys.get(row) {
            Some(key) => self.index(&output.params).events(self, &output.params, output.now, key),
            None => Vec::new(),
        };
        rows.sort_by_key(|&r| (self.event_ts(table, r), r));
        let facets: Vec<Facet> = FacetKind::ALL
            .iter()
            .map(|&kind| Facet { kind, items: tally(rows.iter().filter_map(|&r| self.facet_value(table, kind, r))) })
            .filter(|f| !f.items.is_empty())
            .collect();
        let ips = facets.iter().find(|f| f.kind == FacetKind::RemoteIps).map(|f| f.items.as_slice()).unwrap_or(&[]);
        let remote_ips = ips
            .iter()
            .filter_map(|(v, count)| match v {
                FacetValue::Ip(ip) => Some(IpSummary {
                    ip: ip_text(*ip),
                    count: *count,
                    country: self.ds.geoip.as_ref().and_then(|g| g.country(*ip)).unwrap_or_default(),
                    ti: self.ds.ti.lookup(*ip),
                }),
                _ => None,
            })
            .collect();
        DrillOutput { hunt: output.hunt, table, rows, facets, remote_ips }
    }

    /// The drilled events whose `kind` value is exactly `value`, in time order.
    pub fn drill_events(&self, drill: &DrillOutput, kind: FacetKind, value: &FacetValue) -> Vec<usize> {
        drill.rows.iter().copied().filter(|&r| self.facet_value(drill.table, kind, r).as_ref() == Some(value)).collect()
    }

    /// The timestamp of a row of `table`.
    pub fn event_ts(&self, table: TableKind, row: usize) -> Nanos {
        let ds = &self.ds;
        let ts = match table {
            TableKind::VMConnection => &ds.vm.ts,
            TableKind::DeviceInfo => &ds.devinfo.ts,
            TableKind::DeviceNetworkEvents => &ds.net.ts,
        };
        ts.get(row).copied().unwrap_or_default()
    }

    /// The value of facet `kind` of one row (None: the row has no such value). Tallies and
    /// exact matches both go through here, so a list entry always finds its own events.
    fn facet_value(&self, table: TableKind, kind: FacetKind, r: usize) -> Option<FacetValue> {
        let ds = &self.ds;
        let text = |s: &str| (!s.is_empty()).then(|| FacetValue::Text(s.to_string()));
        let port = |p: u32| (p != NO_PORT).then_some(FacetValue::Port(p));
        match table {
            TableKind::DeviceNetworkEvents => {
                let n = &ds.net;
                match kind {
                    FacetKind::RemoteIps => n.remote_ip.get(r).map(FacetValue::Ip),
                    FacetKind::Processes => {
                        text(&self.common.procs.names[self.common.net_proc[n.proc_name.codes.get(r) as usize] as usize])
                    }
                    FacetKind::Hashes => text(n.md5.get(r)),
                    FacetKind::Devices => {
                        let name = &self.common.devnames.names
                            [self.common.net_name[n.device_name.codes.get(r) as usize] as usize];
                        if name.is_empty() {
                            text(n.device.get(r))
                        } else {
                            text(name)
                        }
                    }
                    FacetKind::Ports => port(n.remote_port[r]),
                    FacetKind::Urls => text(n.remote_url.get(r)),
                }
            }
            TableKind::VMConnection => {
                let v = &ds.vm;
                match kind {
                    FacetKind::RemoteIps => parse_ip(v.destination_ip.get(r)).map(FacetValue::Ip),
                    FacetKind::Processes => text(v.process_name.get(r)),
                    FacetKind::Devices => text(v.computer.get(r)),
                    FacetKind::Ports => port(v.destination_port[r]),
                    FacetKind::Hashes | FacetKind::Urls => None,
                }
            }
            TableKind::DeviceInfo => match kind {
                FacetKind::Devices => text(ds.devinfo.device_name.get(r)),
                _ => None,
            },
        }
    }
}

const NET_COLUMNS: &[ColumnSpec] = &[
    ColumnSpec::new("Timestamp", CellKind::Time),
    ColumnSpec::pivot("DeviceName", CellKind::Text, Pivot::Device),
    ColumnSpec::new("ActionType", CellKind::Text),
    ColumnSpec::pivot("RemoteIP", CellKind::Text, Pivot::Ip),
    ColumnSpec::new("RemotePort", CellKind::Int),
    ColumnSpec::pivot("RemoteUrl", CellKind::Text, Pivot::Domain),
    ColumnSpec::pivot("InitiatingProcessFileName", CellKind::Text, Pivot::Process),
    ColumnSpec::new("InitiatingProcessCommandLine", CellKind::Text),
    ColumnSpec::pivot("DeviceId", CellKind::Text, Pivot::Device),
    ColumnSpec::pivot("LocalIP", CellKind::Text, Pivot::Ip),
    ColumnSpec::new("LocalPort", CellKind::Int),
    ColumnSpec::new("Protocol", CellKind::Text),
    ColumnSpec::new("RemoteIPType", CellKind::Text),
    ColumnSpec::new("InitiatingProcessFolderPath", CellKind::Text),
    ColumnSpec::pivot("InitiatingProcessMD5", CellKind::Text, Pivot::Hash),
    ColumnSpec::pivot("InitiatingProcessSHA1", CellKind::Text, Pivot::Hash),
    ColumnSpec::pivot("InitiatingProcessSHA256", CellKind::Text, Pivot::Hash),
    ColumnSpec::new("InitiatingProcessVersionInfoCompanyName", CellKind::Text),
];

const DEVINFO_COLUMNS: &[ColumnSpec] = &[
    ColumnSpec::new("Timestamp", CellKind::Time),
    ColumnSpec::pivot("DeviceId", CellKind::Text, Pivot::Device),
    ColumnSpec::pivot("DeviceName", CellKind::Text, Pivot::Device),
    ColumnSpec::new("OSPlatform", CellKind::Text),
    ColumnSpec::new("DeviceType", CellKind::Text),
    ColumnSpec::new("IsInternetFacing", CellKind::Text),
    ColumnSpec::new("InternetFacingLocalPort", CellKind::Int),
    ColumnSpec::new("InternetFacingReason", CellKind::Text),
    ColumnSpec::pivot("InternetFacingLocalIp", CellKind::Text, Pivot::Ip),
];

const VM_COLUMNS: &[ColumnSpec] = &[
    ColumnSpec::new("TimeGenerated", CellKind::Time),
    ColumnSpec::pivot("Computer", CellKind::Text, Pivot::Device),
    ColumnSpec::new("Direction", CellKind::Text),
    ColumnSpec::pivot("ProcessName", CellKind::Text, Pivot::Process),
    ColumnSpec::pivot("SourceIp", CellKind::Text, Pivot::Ip),
    ColumnSpec::pivot("DestinationIp", CellKind::Text, Pivot::Ip),
    ColumnSpec::new("DestinationPort", CellKind::Int),
    ColumnSpec::new("Protocol", CellKind::Text),
    ColumnSpec::new("RemoteCountry", CellKind::Text),
    ColumnSpec::new("MaliciousIp", CellKind::Text),
    ColumnSpec::new("BytesSent", CellKind::Int),
    ColumnSpec::new("BytesReceived", CellKind::Int),
];

/// The normalized columns of an event of `table`, hunt-relevant ones first: what event lists
/// show and what `rarity pivot` writes.
pub fn event_columns(table: TableKind) -> &'static [ColumnSpec] {
    match table {
        TableKind::DeviceNetworkEvents => NET_COLUMNS,
        TableKind::DeviceInfo => DEVINFO_COLUMNS,
        TableKind::VMConnection => VM_COLUMNS,
    }
}

/// The cells of one event, in `event_columns(table)` order. Empty for a row that does not exist.
pub fn event_cells(ds: &Dataset, table: TableKind, row: usize) -> Vec<Cell> {
    let ip = |v: Option<IpAddr>| v.map_or(Cell::Empty, |ip| Cell::Text(ip_text(ip)));
    let port = |p: u32| if p == NO_PORT { Cell::Empty } else { Cell::Int(i64::from(p)) };
    let text = |s: &str| super::text(s);
    match table {
        TableKind::DeviceNetworkEvents => {
            let n = &ds.net;
            if row >= n.len() {
                return Vec::new();
            }
            vec![
                Cell::Time(n.ts[row]),
                text(n.device_name.get(row)),
                text(n.action.get(row)),
                ip(n.remote_ip.get(row)),
                port(n.remote_port[row]),
                text(n.remote_url.get(row)),
                text(n.proc_name.get(row)),
                text(n.cmdline.get(row)),
                text(n.device_id.get(row)),
                ip(n.local_ip.get(row)),
                port(n.local_port[row]),
                text(n.protocol.get(row)),
                text(n.remote_ip_type.get(row)),
                text(n.proc_folder.get(row)),
                text(n.md5.get(row)),
                text(n.sha1.get(row)),
                text(n.sha256.get(row)),
                text(n.company.get(row)),
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
                Cell::Time(d.ts[row]),
                text(d.device_id.get(row)),
                text(d.device_name.get(row)),
                text(d.os_platform.get(row)),
                text(d.device_type.get(row)),
                text(facing),
                port(d.if_local_port[row]),
                text(d.if_reason.get(row)),
                text(d.if_local_ip.get(row)),
            ]
        }
        TableKind::VMConnection => {
            let v = &ds.vm;
            if row >= v.len() {
                return Vec::new();
            }
            vec![
                Cell::Time(v.ts[row]),
                text(v.computer.get(row)),
                text(v.direction.get(row)),
                text(v.process_name.get(row)),
                text(v.source_ip.get(row)),
                text(v.destination_ip.get(row)),
                port(v.destination_port[row]),
                text(v.protocol.get(row)),
                text(v.remote_country.get(row)),
                text(v.malicious_ip.get(row)),
                Cell::Int(v.bytes_sent[row]),
                Cell::Int(v.bytes_received[row]),
            ]
        }
    }
}

/// The normalized columns of one row as `(name, text)`, for the record view of sources that
/// cannot be re-read. Empty for a row that does not exist.
pub fn event_fields(ds: &Dataset, table: TableKind, row: usize) -> Vec<(&'static str, String)> {
    event_columns(table).iter().zip(event_cells(ds, table, row)).map(|(c, v)| (c.name, v.to_csv())).collect()
}
