//! Hunt 2, vm-new-country: new outbound VM connections to rarely contacted countries
//! (`docs/hunts.md` section 2).
//!
//! The index keeps the outbound rows with a country in time order, each with its country code
//! and well-known-tuple id; a run counts the two history windows with binary-searched ranges.

use super::index::{first_at_or_after, Common, Engine, Folded};
use super::kql::{Dialect, KqlError, KqlOptions, Query};
use super::params::{ParamKind, ParamSpec};
use super::{Cell, CellKind, ColumnSpec, Hunt, HuntId, HuntIndex, HuntParams, HuntSpec, Need, Pivot, RowKey};
use crate::enrich::ti::ThreatIntel;
use crate::model::tables::TableKind;
use crate::model::{Nanos, NO_PORT};
use crate::store::Dataset;
use std::collections::HashMap;

pub const ID: HuntId = HuntId::new("vm-new-country");

/// Hunt 2 in the registry.
pub struct VmNewCountry;

static SPEC: HuntSpec = HuntSpec {
    id: ID,
    key: "vm-new-country",
    title: "VM new country",
    summary: "New outbound connections from VMs to rarely contacted countries",
    needs: &[Need::VmConnection],
    params: &[
        ParamSpec {
            key: "lookback",
            kind: ParamKind::Duration,
            default: "30d",
            help: "history window for common countries",
        },
        ParamSpec { key: "recent", kind: ParamKind::Duration, default: "1h", help: "the new-connections window" },
        ParamSpec {
            key: "baseline",
            kind: ParamKind::Duration,
            default: "7d",
            help: "history window for well-known tuples",
        },
        ParamSpec {
            key: "country_common_above",
            kind: ParamKind::Integer,
            default: "5",
            help: "a country is common with more earlier connections than this",
        },
        ParamSpec {
            key: "tuple_seen_above",
            kind: ParamKind::Integer,
            default: "7",
            help: "a tuple is well known with more earlier connections than this",
        },
        ParamSpec {
            key: "alert_above",
            kind: ParamKind::Integer,
            default: "5",
            help: "show the alert banner with more result rows than this",
        },
    ],
    columns: &[
        ColumnSpec::pivot("Computer", CellKind::Text, Pivot::Device),
        ColumnSpec::new("Direction", CellKind::Text),
        ColumnSpec::pivot("ProcessName", CellKind::Text, Pivot::Process),
        ColumnSpec::pivot("SourceIp", CellKind::Text, Pivot::Ip),
        ColumnSpec::pivot("DestinationIp", CellKind::Text, Pivot::Ip),
        ColumnSpec::new("DestinationPort", CellKind::Int),
        ColumnSpec::new("Protocol", CellKind::Text),
        ColumnSpec::new("RemoteCountry", CellKind::Text),
        ColumnSpec::new("MaliciousIp", CellKind::Text),
        ColumnSpec::new("min_TimeGenerated", CellKind::Time),
        ColumnSpec::new("max_TimeGenerated", CellKind::Time),
        ColumnSpec::new("sum_BytesSent", CellKind::Int),
        ColumnSpec::new("sum_BytesReceived", CellKind::Int),
        ColumnSpec::new("Connections", CellKind::Int),
    ],
    key_columns: &[
        "Computer",
        "ProcessName",
        "SourceIp",
        "DestinationIp",
        "DestinationPort",
        "Protocol",
        "RemoteCountry",
    ],
    group_by: None,
    table: TableKind::VMConnection,
    exclusions: &[],
};

impl Hunt for VmNewCountry {
    fn spec(&self) -> &'static HuntSpec {
        &SPEC
    }

    fn build(&self, ds: &Dataset, _common: &Common) -> Box<dyn HuntIndex> {
        Box::new(Index::build(ds))
    }

    /// The seed's `AlertTriggerThreshold`.
    fn banner(&self, p: &HuntParams, rows: usize) -> Option<String> {
        let above = p.integer("alert_above");
        (rows as i64 > above)
            .then(|| format!("ALERT: {rows} new VM connections to rarely contacted countries (alert above {above})"))
    }

    /// VMConnection is a Log Analytics table: Sentinel only.
    fn kql(&self, params: &HuntParams, opts: &KqlOptions, _feed: Option<&ThreatIntel>) -> Result<String, KqlError> {
        if opts.dialect != Dialect::Sentinel {
            return Err(KqlError::NoForm {
                hunt: SPEC.key,
                dialect: opts.dialect.name(),
                table: "VMConnection",
                instead: Dialect::Sentinel.name(),
            });
        }
        let mut q = Query::new(params, opts)?;
        q.push(
            "let Outbound = VMConnection
| where Direction =~ \"outbound\" and isnotempty(RemoteCountry); // (differs: case-insensitive Direction)
let CommonCountries = Outbound
| where TimeGenerated >= RefTime - lookback and TimeGenerated < RefTime - recent
| summarize Count = count() by RemoteCountry
| where Count > country_common_above
| project RemoteCountry;
let KnownTuples = Outbound
| where TimeGenerated >= RefTime - baseline and TimeGenerated < RefTime - recent
| summarize Count = count() by ProcessKey = tolower(ProcessName), SourceIp, DestinationIp, RemoteCountry
| where Count > tuple_seen_above
| project ProcessKey, SourceIp, DestinationIp, RemoteCountry;
Outbound
| where TimeGenerated >= RefTime - recent
| where RemoteCountry !in (CommonCountries)
| extend ProcessKey = tolower(ProcessName)
// (differs: the seed joins the new tuples back to the last hour on RemoteCountry only (innerunique), which drags in
// well-known tuples of the same country when the thresholds are tuned apart; this keeps the rows of new tuples only)
| join kind=leftanti KnownTuples on ProcessKey, SourceIp, DestinationIp, RemoteCountry
| summarize min_TimeGenerated = min(TimeGenerated), max_TimeGenerated = max(TimeGenerated),
    sum_BytesSent = sum(BytesSent), sum_BytesReceived = sum(BytesReceived), Connections = count()
    by Computer, Direction, ProcessName, SourceIp, DestinationIp, DestinationPort, Protocol, RemoteCountry, MaliciousIp
| sort by RemoteCountry asc, Computer asc, ProcessName asc, min_TimeGenerated asc
// The seed alerts when more than AlertTriggerThreshold rows come back: in an analytics rule, alert when the
// number of results is greater than alert_above.",
        );
        Ok(q.finish())
    }
}

#[derive(Clone, Copy, Debug)]
struct Row {
    ts: Nanos,
    row: u32,
    country: u32,
    tuple: u32,
}

#[derive(Debug, Default)]
pub(crate) struct Index {
    rows: Vec<Row>,
    tuples: usize,
    countries: usize,
}

/// The summarize key of the result, as dictionary codes of the VMConnection columns.
type Key = [u32; 9];

#[derive(Clone, Debug)]
struct Agg {
    min: Nanos,
    max: Nanos,
    sent: i64,
    received: i64,
    count: i64,
    first_row: u32,
}

fn key_of(ds: &Dataset, r: usize) -> Key {
    let v = &ds.vm;
    [
        v.computer.codes[r],
        v.direction.codes[r],
        v.process_name.codes[r],
        v.source_ip.codes[r],
        v.destination_ip.codes[r],
        v.destination_port[r],
        v.protocol.codes[r],
        v.remote_country.codes[r],
        v.malicious_ip.codes[r],
    ]
}

impl Index {
    pub fn build(ds: &Dataset) -> Index {
        let v = &ds.vm;
        let outbound = super::index::mask_any(&v.direction.dict, &["outbound"]);
        let order = super::index::time_order(&v.ts, |r| {
            outbound[v.direction.codes[r] as usize] && v.remote_country.codes[r] != 0
        });
        // Process names compare case-insensitively in the well-known-tuple key.
        let mut procs = Folded::default();
        let proc_fold = procs.fold_dict(&v.process_name.dict);
        let mut tuple_ids: HashMap<[u32; 4], u32> = HashMap::new();
        let rows = order
            .iter()
            .map(|&r| {
                let ri = r as usize;
                let k = [
                    proc_fold[v.process_name.codes[ri] as usize],
                    v.source_ip.codes[ri],
                    v.destination_ip.codes[ri],
                    v.remote_country.codes[ri],
                ];
                let next = tuple_ids.len() as u32;
                let tuple = *tuple_ids.entry(k).or_insert(next);
                Row { ts: v.ts[ri], row: r, country: v.remote_country.codes[ri], tuple }
            })
            .collect();
        Index { rows, tuples: tuple_ids.len(), countries: v.remote_country.dict.len() }
    }

    /// Recent rows of new tuples to uncommon countries, in time order.
    fn qualifying(&self, p: &HuntParams, now: Nanos) -> Vec<Row> {
        let recent_from = now.saturating_sub(p.duration("recent"));
        let lookback_from = now.saturating_sub(p.duration("lookback"));
        let baseline_from = now.saturating_sub(p.duration("baseline"));
        let rows = &self.rows[..];
        let at = |t: Nanos| first_at_or_after(rows, t, |r| r.ts);
        let recent_start = at(recent_from);
        let mut country_count = vec![0i64; self.countries];
        let lo = at(lookback_from);
        if lo < recent_start {
            for r in &rows[lo..recent_start] {
                country_count[r.country as usize] += 1;
            }
        }
        let mut tuple_count = vec![0i64; self.tuples];
        let lo = at(baseline_from);
        if lo < recent_start {
            for r in &rows[lo..recent_start] {
                tuple_count[r.tuple as usize] += 1;
            }
        }
        let common_above = p.integer("country_common_above");
        let seen_above = p.integer("tuple_seen_above");
        rows[recent_start..]
            .iter()
            .filter(|r| {
                country_count[r.country as usize] <= common_above && tuple_count[r.tuple as usize] <= seen_above
            })
            .copied()
            .collect()
    }
}

impl HuntIndex for Index {
    fn heap_bytes(&self) -> usize {
        self.rows.capacity() * std::mem::size_of::<Row>()
    }

    fn run(&self, eng: &Engine, p: &HuntParams, now: Nanos) -> Vec<(RowKey, Vec<Cell>)> {
        let ds: &Dataset = &eng.ds;
        let mut groups: HashMap<Key, Agg> = HashMap::new();
        for r in self.qualifying(p, now) {
            let ri = r.row as usize;
            let a = groups.entry(key_of(ds, ri)).or_insert(Agg {
                min: r.ts,
                max: r.ts,
                sent: 0,
                received: 0,
                count: 0,
                first_row: r.row,
            });
            a.min = a.min.min(r.ts);
            a.max = a.max.max(r.ts);
            a.sent = a.sent.saturating_add(ds.vm.bytes_sent[ri]);
            a.received = a.received.saturating_add(ds.vm.bytes_received[ri]);
            a.count += 1;
        }
        let v = &ds.vm;
        let mut out: Vec<(Key, Agg)> = groups.into_iter().collect();
        let s = |k: &Key, i: usize| -> &str {
            match i {
                0 => v.computer.dict.get(k[0]),
                1 => v.direction.dict.get(k[1]),
                2 => v.process_name.dict.get(k[2]),
                3 => v.source_ip.dict.get(k[3]),
                4 => v.destination_ip.dict.get(k[4]),
                6 => v.protocol.dict.get(k[6]),
                7 => v.remote_country.dict.get(k[7]),
                _ => v.malicious_ip.dict.get(k[8]),
            }
        };
        out.sort_by(|(ka, a), (kb, b)| {
            s(ka, 7)
                .cmp(s(kb, 7))
                .then_with(|| s(ka, 0).cmp(s(kb, 0)))
                .then_with(|| s(ka, 2).cmp(s(kb, 2)))
                .then(a.min.cmp(&b.min))
                .then_with(|| s(ka, 1).cmp(s(kb, 1)))
                .then_with(|| s(ka, 3).cmp(s(kb, 3)))
                .then_with(|| s(ka, 4).cmp(s(kb, 4)))
                .then(ka[5].cmp(&kb[5]))
                .then_with(|| s(ka, 6).cmp(s(kb, 6)))
                .then_with(|| s(ka, 8).cmp(s(kb, 8)))
                .then(a.first_row.cmp(&b.first_row))
        });
        out.into_iter()
            .map(|(k, a)| {
                let cells = vec![
                    super::text(s(&k, 0)),
                    super::text(s(&k, 1)),
                    super::text(s(&k, 2)),
                    super::text(s(&k, 3)),
                    super::text(s(&k, 4)),
                    if k[5] == NO_PORT { Cell::Empty } else { Cell::Int(k[5] as i64) },
                    super::text(s(&k, 6)),
                    super::text(s(&k, 7)),
                    super::text(s(&k, 8)),
                    Cell::Time(a.min),
                    Cell::Time(a.max),
                    Cell::Int(a.sent),
                    Cell::Int(a.received),
                    Cell::Int(a.count),
                ];
                (RowKey(k.to_vec()), cells)
            })
            .collect()
    }

    /// VMConnection rows behind a result row: the recent rows of its summarized tuple.
    fn events(&self, eng: &Engine, p: &HuntParams, now: Nanos, key: &RowKey) -> Vec<usize> {
        let ds: &Dataset = &eng.ds;
        self.qualifying(p, now)
            .into_iter()
            .map(|r| r.row as usize)
            .filter(|&r| key_of(ds, r)[..] == key.0[..])
            .collect()
    }
}
