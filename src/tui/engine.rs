//! The worker's backend over the real engine: runs hunts and turns a `DrillOutput` into the
//! drill-down lists the TUI shows (summaries, then the raw events with every original column).

use super::app::key_cols;
use super::msg::{Level, Section};
use super::table::{display_cell, Column, TableState};
use super::worker::HuntBackend;
use rarity::hunt::{event_fields, Cell, CellKind, DrillOutput, Engine, HuntOutput, HuntParams};
use rarity::model::Nanos;
use rarity::Dataset;
use std::sync::Arc;

/// Raw events re-read for one drill-down; more would make Enter slow on huge groups.
pub const MAX_RAW_EVENTS: usize = 2_000;

pub struct EngineBackend {
    engine: Engine,
    now: Nanos,
}

impl EngineBackend {
    pub fn new(ds: Arc<Dataset>, now: Nanos) -> Self {
        EngineBackend { engine: Engine::new(ds), now }
    }
}

impl HuntBackend for EngineBackend {
    fn run(&self, params: &HuntParams) -> Result<HuntOutput, String> {
        self.engine.run(params, Some(self.now)).map_err(|e| e.to_string())
    }

    fn drill(&self, params: &HuntParams, output: &HuntOutput, row: usize) -> Result<Level, String> {
        let drill = self.engine.drill(params, Some(self.now), output, row);
        let title = output
            .rows
            .get(row)
            .map(|r| {
                r.iter().take(key_cols(output.hunt)).map(display_cell).filter(|s| !s.is_empty()).collect::<Vec<_>>()
            })
            .map(|v| v.join(" · "))
            .unwrap_or_default();
        Ok(level_of(&self.engine, title, &drill))
    }
}

fn counted(name: &str, kind: CellKind, values: Vec<(Cell, usize)>) -> TableState {
    TableState::new(
        vec![Column::new(name, kind), Column::new("Events", CellKind::Int)],
        values.into_iter().map(|(v, n)| vec![v, Cell::Int(n as i64)]).collect(),
        1,
    )
}

fn text(s: &str) -> Cell {
    if s.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(s.to_string())
    }
}

/// A raw value as a cell: whole numbers become `Int` so they sort as numbers (only when
/// printing them back gives the same text, so nothing is lost).
fn raw_cell(s: &str) -> Cell {
    match s.parse::<i64>() {
        Ok(i) if i.to_string() == s => Cell::Int(i),
        _ => text(s),
    }
}

fn level_of(engine: &Engine, title: String, d: &DrillOutput) -> Level {
    let mut sections = Vec::new();
    let ips = TableState::new(
        vec![
            Column::new("RemoteIP", CellKind::Text),
            Column::new("Events", CellKind::Int),
            Column::new("Country", CellKind::Text),
            Column::new("TiCount", CellKind::Int),
        ],
        d.remote_ips
            .iter()
            .map(|ip| {
                let ti = match ip.ti {
                    Some(hit) => match hit.max_count {
                        Some(c) => Cell::Int(c as i64),
                        None => Cell::Text("listed".into()),
                    },
                    None => Cell::Empty,
                };
                vec![text(&ip.ip), Cell::Int(ip.count as i64), text(&ip.country), ti]
            })
            .collect(),
        1,
    );
    let summaries = [
        ("Remote IPs", ips),
        ("Processes", counted("Process", CellKind::Text, d.processes.iter().map(|(v, n)| (text(v), *n)).collect())),
        ("Hashes", counted("MD5", CellKind::Text, d.hashes.iter().map(|(v, n)| (text(v), *n)).collect())),
        ("Devices", counted("Device", CellKind::Text, d.devices.iter().map(|(v, n)| (text(v), *n)).collect())),
        ("Ports", counted("Port", CellKind::Int, d.ports.iter().map(|(p, n)| (Cell::Int(*p as i64), *n)).collect())),
        ("URLs", counted("RemoteUrl", CellKind::Text, d.urls.iter().map(|(v, n)| (text(v), *n)).collect())),
    ];
    for (name, table) in summaries {
        if !table.rows.is_empty() {
            sections.push(Section { name: name.into(), table, events: false, note: None });
        }
    }
    let shown = &d.rows[..d.rows.len().min(MAX_RAW_EVENTS)];
    let limited = DrillOutput { rows: shown.to_vec(), ..d.clone() };
    let raw = engine.drill_raw(&limited);
    let ds = engine.dataset();
    // Columns in order of first appearance, so mixed sources still line up by name.
    let mut columns: Vec<String> = Vec::new();
    let records: Vec<Vec<(String, String)>> = raw
        .into_iter()
        .zip(shown)
        .map(|(r, &row)| {
            r.unwrap_or_else(|_| event_fields(ds, d.table, row).into_iter().map(|(k, v)| (k.to_string(), v)).collect())
        })
        .collect();
    for rec in &records {
        for (k, _) in rec {
            if !columns.iter().any(|c| c == k) {
                columns.push(k.clone());
            }
        }
    }
    let rows: Vec<Vec<Cell>> = records
        .iter()
        .map(|rec| {
            columns.iter().map(|c| rec.iter().find(|(k, _)| k == c).map_or(Cell::Empty, |(_, v)| raw_cell(v))).collect()
        })
        .collect();
    let note = (d.rows.len() > shown.len()).then(|| {
        let n = |x: usize| super::view::thousands(x as u64);
        format!("first {} of {} events", n(shown.len()), n(d.rows.len()))
    });
    let events = TableState::new(columns.into_iter().map(|c| Column::new(c, CellKind::Text)).collect(), rows, 1);
    sections.push(Section { name: "Events".into(), table: events, events: true, note });
    Level { title, sections, active: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_numbers_sort_as_numbers_without_changing_their_text() {
        assert_eq!(raw_cell("443"), Cell::Int(443));
        assert_eq!(raw_cell("0443"), Cell::Text("0443".into()));
        assert_eq!(raw_cell("+1"), Cell::Text("+1".into()));
        assert_eq!(raw_cell(""), Cell::Empty);
    }
}
