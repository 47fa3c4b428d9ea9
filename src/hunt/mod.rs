//! The hunts: the `Hunt` trait every hunt implements and the registry, the one list of hunts.
//! Each hunt lives in one file (`rare_process.rs`, ...) holding everything about it: its spec
//! (parameters, columns, key columns, needs), its index over a dataset, its run, and the events
//! behind a result row. Nothing outside this module matches on which hunt it is: tabs, number
//! keys, help and the CLI all follow `registry()`. The contract is `docs/hunts.md`.

pub mod drill;
pub mod fixture;
pub mod index;
pub mod kql;
pub mod params;
pub mod pivot;
pub mod rare_process;
pub mod server_anomaly;
pub mod supply_chain;
pub mod ti_inbound;
pub mod vm_new_country;

pub use drill::{event_cells, event_columns, event_fields, DrillOutput, Facet, FacetKind, FacetValue, IpSummary};
pub use index::{Common, Engine};
pub use params::{HuntParams, ListItem, ParamError, ParamKind, ParamSpec, ParamValue};
pub use pivot::{Pivot, PivotError};

use crate::enrich::ti::ThreatIntel;
use crate::model::tables::TableKind;
use crate::model::time::{format_iso, Nanos};
use crate::store::Dataset;

/// The registry: every hunt, in tab order. A new hunt adds its file, its `pub mod` line above
/// and one entry here.
static REGISTRY: [&dyn Hunt; 5] = [
    &rare_process::RareProcess,
    &vm_new_country::VmNewCountry,
    &supply_chain::SupplyChain,
    &server_anomaly::ServerAnomaly,
    &ti_inbound::TiInbound,
];

/// Every hunt, in tab order.
pub fn registry() -> &'static [&'static dyn Hunt] {
    &REGISTRY
}

/// Everything about one hunt. Implemented by one unit struct per hunt file.
pub trait Hunt: Send + Sync {
    /// Static description: key, title, parameters, columns, key columns, needs.
    fn spec(&self) -> &'static HuntSpec;

    /// Whether the dataset has what a run with `params` needs (default: every table in `needs`).
    fn check(&self, ds: &Dataset, _params: &HuntParams) -> Result<(), HuntError> {
        check_needs(self.spec(), ds)
    }

    /// Precompute this hunt's index over a dataset (once per load).
    fn build(&self, ds: &Dataset, common: &Common) -> Box<dyn HuntIndex>;

    /// An alert line to show above the results for `rows` result rows.
    fn banner(&self, _params: &HuntParams, _rows: usize) -> Option<String> {
        None
    }

    /// This hunt with `params` as one KQL query (`docs/hunts.md`, every difference from the
    /// seed marked). `feed` is the loaded threat intel, needed only for inline TI.
    fn kql(
        &self,
        params: &HuntParams,
        opts: &kql::KqlOptions,
        feed: Option<&ThreatIntel>,
    ) -> Result<String, kql::KqlError>;
}

/// A hunt's precomputed index over one dataset: runs, and the events behind a result row.
pub trait HuntIndex: Send + Sync {
    /// The result rows at `now`, each with its typed key, in the contract's sort order.
    fn run(&self, eng: &Engine, params: &HuntParams, now: Nanos) -> Vec<(RowKey, Vec<Cell>)>;

    /// Row indices (into the hunt's `spec().table`) of the events behind the result row `key`,
    /// computed with the same `params` and `now` as the row; any order.
    fn events(&self, eng: &Engine, params: &HuntParams, now: Nanos, key: &RowKey) -> Vec<usize>;

    /// Approximate heap bytes of the index.
    fn heap_bytes(&self) -> usize;
}

/// A result row's typed identity inside one dataset: dictionary codes and folded ids, never
/// display text. Only the hunt that made it reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RowKey(pub(crate) Vec<u32>);

/// A hunt's identity: its CLI key (`rare-process`, ...). Ordered as the registry.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HuntId(&'static str);

impl HuntId {
    /// For a hunt file's `ID` constant; every other `HuntId` comes from the registry.
    pub(crate) const fn new(key: &'static str) -> HuntId {
        HuntId(key)
    }

    /// Every hunt, in tab order.
    pub fn all() -> impl Iterator<Item = HuntId> {
        REGISTRY.iter().map(|h| h.spec().id)
    }

    /// The CLI name: `rare-process`, ...
    pub fn key(self) -> &'static str {
        self.0
    }

    /// The hunt named `s` (case-insensitive, surrounding space ignored).
    pub fn from_key(s: &str) -> Option<HuntId> {
        HuntId::all().find(|h| h.key().eq_ignore_ascii_case(s.trim()))
    }

    /// Position in the registry (the tab index).
    pub fn position(self) -> usize {
        REGISTRY.iter().position(|h| h.spec().id == self).unwrap_or(usize::MAX)
    }

    pub fn hunt(self) -> &'static dyn Hunt {
        REGISTRY.iter().copied().find(|h| h.spec().id == self).unwrap_or(REGISTRY[0])
    }

    pub fn spec(self) -> &'static HuntSpec {
        self.hunt().spec()
    }
}

impl std::fmt::Debug for HuntId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::fmt::Display for HuntId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl PartialOrd for HuntId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for HuntId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.position().cmp(&other.position()).then_with(|| self.0.cmp(other.0))
    }
}

impl serde::Serialize for HuntId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for HuntId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        HuntId::from_key(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown hunt `{s}`")))
    }
}

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

/// One output column: its name, how its cells are typed, and what its values are (an IP, a
/// device, ...) when a pivot or a one-key exclusion can start from them.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub kind: CellKind,
    #[serde(skip)]
    pub pivot: Option<Pivot>,
}

impl ColumnSpec {
    pub const fn new(name: &'static str, kind: CellKind) -> ColumnSpec {
        ColumnSpec { name, kind, pivot: None }
    }

    pub const fn pivot(name: &'static str, kind: CellKind, pivot: Pivot) -> ColumnSpec {
        ColumnSpec { name, kind, pivot: Some(pivot) }
    }
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
    /// The columns that identify a finding across runs, retuning and restarts.
    pub key_columns: &'static [&'static str],
    /// Display grouping: rows with the same value of this column are drawn as one group.
    pub group_by: Option<&'static str>,
    /// The table the events behind a row come from.
    pub table: TableKind,
    /// Which of this hunt's list parameters a value of each kind can be added to (one-key
    /// exclusions): `(Pivot::Ip, "excluded_nets")`, ...
    pub exclusions: &'static [(Pivot, &'static str)],
}

impl HuntSpec {
    /// Index of the column named `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Indices of the key columns.
    pub fn key_indices(&self) -> Vec<usize> {
        self.key_columns.iter().filter_map(|k| self.column(k)).collect()
    }

    /// The list parameter that values of kind `pivot` are excluded with, if this hunt has one.
    pub fn exclusion_param(&self, pivot: Pivot) -> Option<&'static str> {
        self.exclusions.iter().find(|(p, _)| *p == pivot).map(|(_, k)| *k)
    }
}

/// The error for the first table in `spec.needs` that `ds` lacks.
pub fn check_needs(spec: &HuntSpec, ds: &Dataset) -> Result<(), HuntError> {
    for need in spec.needs {
        let (empty, table, hint) = match need {
            Need::NetworkEvents => (ds.net.is_empty(), "DeviceNetworkEvents", NET_HINT),
            Need::DeviceInfo => (ds.devinfo.is_empty(), "DeviceInfo", DEV_HINT),
            Need::VmConnection => {
                (ds.vm.is_empty(), "VMConnection", "load a VMConnection export (Azure Monitor VM insights / Sentinel)")
            }
            Need::ThreatIntel => (
                ds.ti.is_empty(),
                "threat-intel feed",
                "load an IP feed with --ti FILE (IPsum ipsum.txt, levels/N.txt, IP or CIDR lists)",
            ),
            Need::GeoIpOptional => (false, "", ""),
        };
        if empty {
            return Err(HuntError::MissingTable { hunt: spec.key, table, hint: hint.to_string() });
        }
    }
    Ok(())
}

pub(crate) const NET_HINT: &str =
    "load a DeviceNetworkEvents export (Defender / Sentinel) or Sysmon Event ID 3 logs (Event, WindowsEvent, JSON, .evtx)";
pub(crate) const DEV_HINT: &str = "load a DeviceInfo export (Defender advanced hunting or Sentinel)";

/// How `Cell::display` writes a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeStyle {
    /// `2025-11-20T11:00:00.0000000Z`
    Iso,
    /// `2025-11-20 11:00:00` (UTC)
    Short,
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

    /// As people read it: sets as comma-separated values, times ISO 8601 (`Iso`, what
    /// `rarity run --format table` prints) or `YYYY-MM-DD HH:MM:SS` UTC (`Short`, every TUI
    /// view). The one display formatter; `to_csv` and `to_json` are the data forms.
    pub fn display(&self, time: TimeStyle) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Time(t) => match time {
                TimeStyle::Iso => format_iso(*t),
                TimeStyle::Short => crate::model::time::format_short(*t),
            },
            Cell::TextSet(v) => v.join(", "),
            Cell::IntSet(v) => v.iter().map(i64::to_string).collect::<Vec<_>>().join(", "),
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

/// The rows a hunt produced, with what they were computed from.
#[derive(Clone, Debug)]
pub struct HuntOutput {
    pub hunt: HuntId,
    pub columns: &'static [ColumnSpec],
    pub rows: Vec<Vec<Cell>>,
    /// `keys[i]` is the typed identity of `rows[i]` (drill-downs use it, never the cells).
    pub keys: Vec<RowKey>,
    /// The parameters the rows were computed with (drill-downs use these, not the live panel).
    pub params: HuntParams,
    /// An alert line to show above the table (vm-new-country's AlertTriggerThreshold).
    pub banner: Option<String>,
    /// The reference time the hunt ran at.
    pub now: Nanos,
}

impl HuntOutput {
    /// The finding identity of `rows[row]`: the hunt's key columns as text (`docs/hunts.md`
    /// "Findings"). Verdicts attach to it.
    pub fn finding(&self, row: usize) -> Vec<String> {
        let Some(cells) = self.rows.get(row) else { return Vec::new() };
        self.hunt.spec().key_indices().into_iter().map(|i| cells.get(i).map(Cell::to_csv).unwrap_or_default()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_parses_and_specs_line_up() {
        for h in HuntId::all() {
            assert_eq!(h.spec().id, h);
            assert_eq!(HuntId::from_key(h.key()), Some(h));
            let p = HuntParams::defaults(h);
            assert!(p.is_default());
            assert!(p.changed().is_empty());
        }
    }

    #[test]
    fn registry_keys_are_unique_and_key_columns_exist() {
        let keys: std::collections::HashSet<&str> = HuntId::all().map(HuntId::key).collect();
        assert_eq!(keys.len(), registry().len());
        for h in HuntId::all() {
            let s = h.spec();
            assert_eq!(s.key, h.key());
            assert_eq!(s.key_indices().len(), s.key_columns.len(), "{}: a key column is not a column", s.key);
            if let Some(g) = s.group_by {
                assert!(s.column(g).is_some(), "{}: group column {g}", s.key);
            }
            for (_, param) in s.exclusions {
                assert!(s.params.iter().any(|p| p.key == *param && p.kind.is_list()), "{}: {param}", s.key);
            }
            assert_eq!(HuntId::from_key(&s.key.to_uppercase()), Some(h));
        }
        let order: Vec<usize> = HuntId::all().map(HuntId::position).collect();
        assert_eq!(order, (0..registry().len()).collect::<Vec<_>>());
    }

    #[test]
    fn set_rejects_unknown_keys_and_bad_values() {
        let mut p = HuntParams::defaults(rare_process::ID);
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
