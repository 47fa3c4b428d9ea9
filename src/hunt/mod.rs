//! The five hunts of `hunts.md`: their specs (parameters, columns, needs), result cells and
//! outputs, and the entry point that runs one over a dataset.

pub mod drill;
pub mod fixture;
pub mod index;
pub mod params;
pub mod rare_process;
pub mod server_anomaly;
pub mod supply_chain;
pub mod ti_inbound;
pub mod vm_new_country;

pub use drill::{event_fields, DrillOutput, IpSummary};
pub use index::Engine;
pub use params::{HuntParams, ListItem, ParamError, ParamKind, ParamSpec, ParamValue};

use crate::model::time::{format_iso, Nanos};
use crate::model::NO_PORT;
use crate::store::Dataset;

/// A hunt could not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HuntError {
    #[error("{hunt} needs {table}, which is not loaded: {hint}")]
    MissingTable { hunt: &'static str, table: &'static str, hint: String },
}

/// A text cell: `Empty` for the empty string.
pub(crate) fn text(s: &str) -> Cell {
    if s.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(s.to_string())
    }
}

/// The string of a text cell (`Empty` is "").
pub(crate) fn cell_str(c: &Cell) -> Option<&str> {
    match c {
        Cell::Empty => Some(""),
        Cell::Text(s) => Some(s),
        _ => None,
    }
}

/// The RemoteIP code of a network-event table for an address cell (`Empty` = no address).
pub(crate) fn ip_code(ds: &Dataset, c: &Cell) -> Option<u32> {
    let s = cell_str(c)?;
    if s.is_empty() {
        return Some(0);
    }
    ds.net.remote_ip.lookup(crate::model::ip::parse_ip(s)?)
}

/// A port cell as a port value (`Empty` = no port).
pub(crate) fn cell_port(c: &Cell) -> Option<u32> {
    match c {
        Cell::Empty => Some(NO_PORT),
        Cell::Int(p) => u32::try_from(*p).ok(),
        _ => None,
    }
}

/// The hunts, in tab order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HuntId {
    RareProcess,
    VmNewCountry,
    SupplyChain,
    ServerAnomaly,
    TiInbound,
}

impl HuntId {
    pub const ALL: [HuntId; 5] =
        [HuntId::RareProcess, HuntId::VmNewCountry, HuntId::SupplyChain, HuntId::ServerAnomaly, HuntId::TiInbound];

    /// The CLI name: `rare-process`, ...
    pub fn key(self) -> &'static str {
        self.spec().key
    }

    pub fn from_key(s: &str) -> Option<HuntId> {
        HuntId::ALL.into_iter().find(|h| h.key().eq_ignore_ascii_case(s.trim()))
    }

    pub fn spec(self) -> &'static HuntSpec {
        &SPECS[self as usize]
    }
}

/// A table or enrichment a hunt reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Need {
    NetworkEvents,
    DeviceInfo,
    VmConnection,
    ThreatIntel,
    /// Used when present (country columns); the hunt runs without it.
    GeoIpOptional,
}

/// How a column's cells are typed, for sorting and alignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum CellKind {
    Text,
    Int,
    Time,
    TextSet,
    IntSet,
}

#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub kind: CellKind,
}

/// Static description of a hunt.
#[derive(Debug)]
pub struct HuntSpec {
    pub id: HuntId,
    pub key: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    pub needs: &'static [Need],
    pub params: &'static [ParamSpec],
    pub columns: &'static [ColumnSpec],
}

/// One result cell.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    Time(Nanos),
    TextSet(Vec<String>),
    IntSet(Vec<i64>),
}

impl Cell {
    /// As `--format csv` writes it: sets as JSON arrays, times ISO 8601 `Z`.
    pub fn to_csv(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Time(t) => format_iso(*t),
            Cell::TextSet(v) => serde_json::to_string(v).unwrap_or_default(),
            Cell::IntSet(v) => serde_json::to_string(v).unwrap_or_default(),
        }
    }

    /// As a JSON value for `--format json`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Cell::Empty => serde_json::Value::String(String::new()),
            Cell::Text(s) => s.clone().into(),
            Cell::Int(i) => (*i).into(),
            Cell::Time(t) => format_iso(*t).into(),
            Cell::TextSet(v) => v.clone().into(),
            Cell::IntSet(v) => v.clone().into(),
        }
    }
}

/// The rows a hunt produced.
#[derive(Clone, Debug)]
pub struct HuntOutput {
    pub hunt: HuntId,
    pub columns: &'static [ColumnSpec],
    pub rows: Vec<Vec<Cell>>,
    /// An alert line to show above the table (vm-new-country's AlertTriggerThreshold).
    pub banner: Option<String>,
    /// The reference time the hunt ran at.
    pub now: Nanos,
}

static SPECS: [HuntSpec; 5] = [
    HuntSpec {
        id: HuntId::RareProcess,
        key: "rare-process",
        title: "Rare process",
        summary: "Rare outbound IPv4 connections from non-browser processes",
        needs: &[Need::NetworkEvents, Need::GeoIpOptional],
        params: &[
            ParamSpec { key: "lookback", kind: ParamKind::Duration, default: "30d", help: "only events with Timestamp > now - lookback" },
            ParamSpec { key: "excluded_nets", kind: ParamKind::Cidrs, default: "100.0.0.0/16,200.200.200.0/24", help: "drop connections to these networks" },
            ParamSpec { key: "browsers", kind: ParamKind::Names, default: "msedge.exe,chrome.exe,firefox.exe", help: "process names ignored as browsers (exact, case-insensitive)" },
            ParamSpec { key: "excluded_ports", kind: ParamKind::Ports, default: "80,443", help: "remote ports ignored" },
            ParamSpec { key: "ipv4_only", kind: ParamKind::Bool, default: "true", help: "keep IPv4 remote addresses only" },
            ParamSpec { key: "require_exe", kind: ParamKind::Bool, default: "true", help: "process name must end with .exe" },
            ParamSpec { key: "max_devices", kind: ParamKind::Integer, default: "4", help: "keep processes seen on fewer devices than this" },
        ],
        columns: &[
            ColumnSpec { name: "InitiatingProcessFileName", kind: CellKind::Text },
            ColumnSpec { name: "DeviceCount", kind: CellKind::Int },
            ColumnSpec { name: "Hashes", kind: CellKind::TextSet },
            ColumnSpec { name: "SampleProcess", kind: CellKind::Text },
            ColumnSpec { name: "SampleRemoteIP", kind: CellKind::Text },
            ColumnSpec { name: "Ports", kind: CellKind::IntSet },
            ColumnSpec { name: "RemoteIP_country", kind: CellKind::Text },
            ColumnSpec { name: "EventCount", kind: CellKind::Int },
        ],
    },
    HuntSpec {
        id: HuntId::VmNewCountry,
        key: "vm-new-country",
        title: "VM new country",
        summary: "New outbound connections from VMs to rarely contacted countries",
        needs: &[Need::VmConnection],
        params: &[
            ParamSpec { key: "lookback", kind: ParamKind::Duration, default: "30d", help: "history window for common countries" },
            ParamSpec { key: "recent", kind: ParamKind::Duration, default: "1h", help: "the new-connections window" },
            ParamSpec { key: "baseline", kind: ParamKind::Duration, default: "7d", help: "history window for well-known tuples" },
            ParamSpec { key: "country_common_above", kind: ParamKind::Integer, default: "5", help: "a country is common with more earlier connections than this" },
            ParamSpec { key: "tuple_seen_above", kind: ParamKind::Integer, default: "7", help: "a tuple is well known with more earlier connections than this" },
            ParamSpec { key: "alert_above", kind: ParamKind::Integer, default: "5", help: "show the alert banner with more result rows than this" },
        ],
        columns: &[
            ColumnSpec { name: "Computer", kind: CellKind::Text },
            ColumnSpec { name: "Direction", kind: CellKind::Text },
            ColumnSpec { name: "ProcessName", kind: CellKind::Text },
            ColumnSpec { name: "SourceIp", kind: CellKind::Text },
            ColumnSpec { name: "DestinationIp", kind: CellKind::Text },
            ColumnSpec { name: "DestinationPort", kind: CellKind::Int },
            ColumnSpec { name: "Protocol", kind: CellKind::Text },
            ColumnSpec { name: "RemoteCountry", kind: CellKind::Text },
            ColumnSpec { name: "MaliciousIp", kind: CellKind::Text },
            ColumnSpec { name: "min_TimeGenerated", kind: CellKind::Time },
            ColumnSpec { name: "max_TimeGenerated", kind: CellKind::Time },
            ColumnSpec { name: "sum_BytesSent", kind: CellKind::Int },
            ColumnSpec { name: "sum_BytesReceived", kind: CellKind::Int },
            ColumnSpec { name: "Connections", kind: CellKind::Int },
        ],
    },
    HuntSpec {
        id: HuntId::SupplyChain,
        key: "supply-chain",
        title: "Supply chain",
        summary: "New connections from servers that run rarely deployed third-party software",
        needs: &[Need::NetworkEvents, Need::DeviceInfo],
        params: &[
            ParamSpec { key: "lookback", kind: ParamKind::Duration, default: "14d", help: "window for servers, companies and the baseline" },
            ParamSpec { key: "company_max_servers", kind: ParamKind::Integer, default: "10", help: "a company is rare on fewer servers than this" },
            ParamSpec { key: "new_within", kind: ParamKind::Duration, default: "1d", help: "a connection is new when first seen within this" },
            ParamSpec { key: "prevalence_window", kind: ParamKind::Duration, default: "5d", help: "window for remote IP prevalence" },
            ParamSpec { key: "max_prevalence", kind: ParamKind::Integer, default: "6", help: "keep remote IPs seen on fewer devices than this" },
        ],
        columns: &[
            ColumnSpec { name: "DeviceName", kind: CellKind::Text },
            ColumnSpec { name: "RemoteIP", kind: CellKind::Text },
            ColumnSpec { name: "RemotePort", kind: CellKind::Int },
            ColumnSpec { name: "Count", kind: CellKind::Int },
            ColumnSpec { name: "starttime", kind: CellKind::Time },
            ColumnSpec { name: "endtime", kind: CellKind::Time },
            ColumnSpec { name: "Prevalence", kind: CellKind::Int },
            ColumnSpec { name: "URLs", kind: CellKind::TextSet },
        ],
    },
    HuntSpec {
        id: HuntId::ServerAnomaly,
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
        ],
        columns: &[
            ColumnSpec { name: "RemoteIP", kind: CellKind::Text },
            ColumnSpec { name: "count_", kind: CellKind::Int },
            ColumnSpec { name: "set_RemoteUrl", kind: CellKind::TextSet },
            ColumnSpec { name: "RecentCount", kind: CellKind::Int },
            ColumnSpec { name: "Devices", kind: CellKind::TextSet },
            ColumnSpec { name: "RemotePorts", kind: CellKind::IntSet },
            ColumnSpec { name: "Processes", kind: CellKind::TextSet },
            ColumnSpec { name: "FirstSeen", kind: CellKind::Time },
            ColumnSpec { name: "LastSeen", kind: CellKind::Time },
        ],
    },
    HuntSpec {
        id: HuntId::TiInbound,
        key: "ti-inbound",
        title: "TI inbound",
        summary: "Inbound connections from threat-intel-listed IPs to internet-facing ports",
        needs: &[Need::NetworkEvents, Need::DeviceInfo, Need::ThreatIntel],
        params: &[
            ParamSpec { key: "min_level", kind: ParamKind::Integer, default: "4", help: "feed entries with a count need at least this many lists" },
            ParamSpec { key: "excluded_local_ports", kind: ParamKind::Ports, default: "", help: "local ports ignored (the seed suggests 25)" },
        ],
        columns: &[
            ColumnSpec { name: "Timestamp", kind: CellKind::Time },
            ColumnSpec { name: "DeviceName", kind: CellKind::Text },
            ColumnSpec { name: "ThreatIntelligenceIP", kind: CellKind::Text },
            ColumnSpec { name: "LocalPort", kind: CellKind::Int },
            ColumnSpec { name: "InitiatingProcessFileName", kind: CellKind::Text },
            ColumnSpec { name: "DeviceId", kind: CellKind::Text },
            ColumnSpec { name: "InternetFacingReason", kind: CellKind::Text },
            ColumnSpec { name: "TiCount", kind: CellKind::Int },
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_parses_and_specs_line_up() {
        for h in HuntId::ALL {
            assert_eq!(h.spec().id, h);
            assert_eq!(HuntId::from_key(h.key()), Some(h));
            let p = HuntParams::defaults(h);
            assert!(p.is_default());
            assert!(p.changed().is_empty());
        }
    }

    #[test]
    fn set_rejects_unknown_keys_and_bad_values() {
        let mut p = HuntParams::defaults(HuntId::RareProcess);
        assert!(matches!(p.set("nope", "1"), Err(ParamError::UnknownKey { .. })));
        let e = p.set("excluded_nets", "10.0.0.0/33").unwrap_err();
        assert!(e.to_string().contains("excluded_nets"), "{e}");
        assert!(p.set("lookback", "30x").is_err());
        p.set("lookback", "7d").unwrap();
        assert_eq!(p.changed(), vec![("lookback".to_string(), "7d".to_string())]);
        p.set("excluded_nets", "10.0.0.0/8, 192.0.2.7").unwrap();
        assert_eq!(p.enabled("excluded_nets"), vec!["10.0.0.0/8", "192.0.2.7/32"]);
    }
}
