//! Hunt 2, vm-new-country: new outbound VM connections to rarely contacted countries
//! (`docs/hunts.md` section 2).
//!
//! The index keeps the outbound rows with a country in time order, each with its country code
//! and well-known-tuple id; a run counts the two history windows with binary-searched ranges.
//! Each country's and tuple's row times and each result key's latest time let the funnel and
//! the `recent` sweep judge a country or tuple by binary searches instead of counting windows.

use super::funnel::{named_window, window_note};
use super::index::{first_at_or_after, Buckets, Common, Engine, Folded};
use super::kql::{Dialect, KqlError, KqlOptions, Query};
use super::params::{ParamKind, ParamSpec};
use super::{
    Cell, CellKind, ColumnSpec, Funnel, FunnelUnit, Hunt, HuntId, HuntIndex, HuntParams, HuntSpec, Need, ParamValue,
    Pivot, RowKey,
};
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
    /// The result key (`Key`) of the row, as a dense id.
    key: u32,
}

#[derive(Debug, Default)]
pub(crate) struct Index {
    rows: Vec<Row>,
    tuples: usize,
    countries: usize,
    /// Per country code and per tuple id: the times of its rows, ascending.
    country_ts: Buckets<Nanos>,
    tuple_ts: Buckets<Nanos>,
    /// Per key id: (country code, tuple id, latest time).
    keys: Vec<(u32, u32, Nanos)>,
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
        v.computer.codes.get(r),
        v.direction.codes.get(r),
        v.process_name.codes.get(r),
        v.source_ip.codes.get(r),
        v.destination_ip.codes.get(r),
        v.destination_port[r],
        v.protocol.codes.get(r),
        v.remote_country.codes.get(r),
        v.malicious_ip.codes.get(r),
    ]
}

impl Index {
    pub fn build(ds: &Dataset) -> Index {
        let v = &ds.vm;
        let outbound = super::index::mask_any(&v.direction.dict, &["outbound"]);
        let order = super::index::time_order(&v.ts, |r| {
            outbound[v.direction.codes.get(r) as usize] && v.remote_country.codes.get(r) != 0
        });
        // Process names compare case-insensitively in the well-known-tuple key.
        let mut procs = Folded::default();
        let proc_fold = procs.fold_dict(&v.process_name.dict);
        let mut tuple_ids: HashMap<[u32; 4], u32> = HashMap::new();
        let mut key_ids: HashMap<Key, u32> = HashMap::new();
        let mut keys: Vec<(u32, u32, Nanos)> = Vec::new();
        let rows: Vec<Row> = order
            .iter()
            .map(|&r| {
                let ri = r as usize;
                let k = [
                    proc_fold[v.process_name.codes.get(ri) as usize],
                    v.source_ip.codes.get(ri),
                    v.destination_ip.codes.get(ri),
                    v.remote_country.codes.get(ri),
                ];
                let next = tuple_ids.len() as u32;
                let tuple = *tuple_ids.entry(k).or_insert(next);
                let country = v.remote_country.codes.get(ri);
                let next = key_ids.len() as u32;
                let key = *key_ids.entry(key_of(ds, ri)).or_insert(next);
                if key as usize == keys.len() {
                    keys.push((country, tuple, v.ts[ri]));
                }
                // Rows come in time order: the last one seen is the latest.
                keys[key as usize].2 = v.ts[ri];
                Row { ts: v.ts[ri], row: r, country, tuple, key }
            })
            .collect();
        let countries = v.remote_country.dict.len();
        let country_ts = Buckets::build(countries, rows.iter().map(|r| (r.country, r.ts)));
        let tuple_ts = Buckets::build(tuple_ids.len(), rows.iter().map(|r| (r.tuple, r.ts)));
        Index { rows, tuples: tuple_ids.len(), countries, country_ts, tuple_ts, keys }
    }

    /// How far a history window `[from, end)` over `times` (ascending) may reach and still
    /// hold at most `above` of them: it does exactly when `end <=` the returned instant
    /// (`Nanos::MAX` = whatever its end; None = never, `above < 0`).
    fn history_limit(times: &[Nanos], from: Nanos, above: i64) -> Option<Nanos> {
        let above = usize::try_from(above).ok()?;
        let lo = first_at_or_after(times, from, |t| *t);
        Some(lo.checked_add(above).and_then(|i| times.get(i)).copied().unwrap_or(Nanos::MAX))
    }

    /// Where the recent rows start, and the per-country and per-tuple counts of the history
    /// windows.
    fn history(&self, p: &HuntParams, now: Nanos) -> (usize, Vec<i64>, Vec<i64>) {
        let recent_from = now.saturating_sub(p.duration("recent"));
        let lookback_from = now.saturating_sub(p.duration("lookback"));
        let baseline_from = now.saturating_sub(p.duration("baseline"));
        let rows = &self.rows[..];
        let at = |t: Nanos| first_at_or_after(rows, t, |r| r.ts);
        let recent_start = at(recent_from);
        let mut country_count = vec![0i64; self.countries];
        for r in rows.get(at(lookback_from)..recent_start).unwrap_or(&[]) {
            country_count[r.country as usize] += 1;
        }
        let mut tuple_count = vec![0i64; self.tuples];
        for r in rows.get(at(baseline_from)..recent_start).unwrap_or(&[]) {
            tuple_count[r.tuple as usize] += 1;
        }
        (recent_start, country_count, tuple_count)
    }

    /// Recent rows of new tuples to uncommon countries, in time order.
    fn qualifying(&self, p: &HuntParams, now: Nanos) -> Vec<Row> {
        let (recent_start, country_count, tuple_count) = self.history(p, now);
        let common_above = p.integer("country_common_above");
        let seen_above = p.integer("tuple_seen_above");
        self.rows[recent_start..]
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
            + self.country_ts.heap_bytes()
            + self.tuple_ts.heap_bytes()
            + self.keys.capacity() * 16
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

    /// From the per-country and per-tuple time lists: each country or tuple met in the recent
    /// rows is judged by two binary searches, not by counting the history windows.
    fn funnel(&self, _eng: &Engine, p: &HuntParams, now: Nanos) -> Funnel {
        let recent_from = now.saturating_sub(p.duration("recent"));
        let lookback_from = now.saturating_sub(p.duration("lookback"));
        let baseline_from = now.saturating_sub(p.duration("baseline"));
        let recent = &self.rows[first_at_or_after(&self.rows, recent_from, |r| r.ts)..];
        let common_above = p.integer("country_common_above");
        let seen_above = p.integer("tuple_seen_above");
        // 0 = not judged yet, 1 = passes, 2 = fails.
        let mut country_ok = vec![0u8; self.countries];
        let mut tuple_ok = vec![0u8; self.tuples];
        let judge = |memo: &mut Vec<u8>, i: u32, times: &Buckets<Nanos>, from: Nanos, above: i64| -> bool {
            let m = &mut memo[i as usize];
            if *m == 0 {
                let ok = Self::history_limit(times.get(i as usize), from, above).is_some_and(|l| l >= recent_from);
                *m = if ok { 1 } else { 2 };
            }
            *m == 1
        };
        let mut uncommon = 0usize;
        let mut new_keys: Vec<u32> = Vec::new();
        for r in recent {
            if !judge(&mut country_ok, r.country, &self.country_ts, lookback_from, common_above) {
                continue;
            }
            uncommon += 1;
            if judge(&mut tuple_ok, r.tuple, &self.tuple_ts, baseline_from, seen_above) {
                new_keys.push(r.key);
            }
        }
        let new = new_keys.len();
        new_keys.sort_unstable();
        new_keys.dedup();
        let ev = FunnelUnit::Events;
        let mut out = Funnel::default();
        out.push("rows", "VMConnection rows with Direction outbound and RemoteCountry non-empty", self.rows.len(), ev);
        out.push("recent", format!("TimeGenerated >= now - {}", named_window(p, "recent")), recent.len(), ev);
        let range = self.rows.first().zip(self.rows.last()).map(|(a, b)| (a.ts, b.ts));
        out.note(window_note(recent.len(), self.rows.len(), ev, range, recent_from, now, &named_window(p, "recent")));
        out.push(
            "country",
            format!(
                "RemoteCountry not common: <= country_common_above {common_above} rows in {} before recent",
                named_window(p, "lookback")
            ),
            uncommon,
            ev,
        );
        out.push(
            "tuple",
            format!(
                "tuple (process, SourceIp, DestinationIp, country) not well known: <= tuple_seen_above {seen_above} rows in {} before recent",
                named_window(p, "baseline")
            ),
            new,
            ev,
        );
        out.push("summarized", "summarized by the nine output keys", new_keys.len(), FunnelUnit::Rows);
        out
    }

    /// The two count thresholds from one pass: every result key has one country count and one
    /// tuple count, so each threshold is one histogram. `recent` from the time lists: a key
    /// is shown while the recent window reaches its latest row and both history windows (which
    /// end where the recent one starts) stay under their thresholds, i.e. while the recent
    /// window starts at or before the least of three times. `alert_above` never changes the rows.
    fn sweep(&self, eng: &Engine, p: &HuntParams, now: Nanos, param: &str, values: &[ParamValue]) -> Vec<usize> {
        let common_above = p.integer("country_common_above");
        let seen_above = p.integer("tuple_seen_above");
        let per_key = || {
            let (recent_start, countries, tuples) = self.history(p, now);
            let mut keys: HashMap<u32, (i64, i64)> = HashMap::new();
            for r in &self.rows[recent_start..] {
                keys.insert(r.key, (countries[r.country as usize], tuples[r.tuple as usize]));
            }
            keys
        };
        match param {
            "country_common_above" => super::funnel::sweep_at_least(
                per_key().into_values().map(|(c, t)| (t <= seen_above).then_some(c)),
                values,
            ),
            "tuple_seen_above" => super::funnel::sweep_at_least(
                per_key().into_values().map(|(c, t)| (c <= common_above).then_some(t)),
                values,
            ),
            "recent" => {
                let lookback_from = now.saturating_sub(p.duration("lookback"));
                let baseline_from = now.saturating_sub(p.duration("baseline"));
                let country: Vec<Option<Nanos>> = (0..self.countries)
                    .map(|c| Self::history_limit(self.country_ts.get(c), lookback_from, common_above))
                    .collect();
                let tuple: Vec<Option<Nanos>> = (0..self.tuples)
                    .map(|t| Self::history_limit(self.tuple_ts.get(t), baseline_from, seen_above))
                    .collect();
                let limits =
                    self.keys.iter().map(|&(c, t, last)| Some(last.min(country[c as usize]?).min(tuple[t as usize]?)));
                super::funnel::sweep_window_start(limits, now, values)
            }
            "alert_above" => vec![self.run(eng, p, now).len(); values.len()],
            _ => {
                use rayon::prelude::*;
                values.par_iter().map(|v| self.run(eng, &super::funnel::with_value(p, param, v), now).len()).collect()
            }
        }
    }

    fn why(&self, eng: &Engine, p: &HuntParams, now: Nanos, key: &RowKey, _cells: &[Cell]) -> String {
        let ds: &Dataset = &eng.ds;
        let (recent_start, countries, tuples) = self.history(p, now);
        let Some(r) = self.rows[recent_start..].iter().find(|r| key_of(ds, r.row as usize)[..] == key.0[..]) else {
            return "not a result of these parameters".to_string();
        };
        let country = ds.vm.remote_country.dict.get(r.country);
        format!(
            "RemoteCountry {country}: {} earlier rows <= country_common_above {} ({}); tuple seen {} times <= tuple_seen_above {} ({}); inside recent {}",
            countries[r.country as usize],
            p.integer("country_common_above"),
            named_window(p, "lookback"),
            tuples[r.tuple as usize],
            p.integer("tuple_seen_above"),
            named_window(p, "baseline"),
            crate::model::time::format_duration(p.duration("recent")),
        )
    }
}
