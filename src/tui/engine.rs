//! The worker's backend over the real engine: runs hunts and turns the engine's drill-downs
//! (a finding's events and summaries, a summary value's events, a pivot, one full record) into
//! the lists the TUI shows. Every list carries the engine's typed handles for its rows.

use super::msg::{DrillRequest, Insight, Level, Section, SectionKind};
use super::table::{display_cell, Column, TableState};
use super::worker::HuntBackend;
use rarity::hunt::{
    event_cells, event_columns, Cell, CellKind, DrillOutput, Engine, FacetKind, Funnel, HuntOutput, HuntParams,
    ParamValue,
};
use rarity::model::tables::TableKind;
use rarity::model::Nanos;
use rarity::Dataset;
use std::sync::Arc;

/// Buckets a drill-down timeline is cut into (the view squeezes it to its width).
pub const TIMELINE_BUCKETS: usize = 96;

pub struct EngineBackend {
    engine: Arc<Engine>,
    now: Nanos,
}

impl EngineBackend {
    /// The shared indexes now; every hunt's own index in the background, so the first tab's
    /// rows come as soon as its index alone is built (its run builds it if the background has
    /// not got there yet) while the other tabs' indexes are built alongside.
    pub fn new(ds: Arc<Dataset>, now: Nanos) -> Self {
        let engine = Arc::new(Engine::lazy(ds));
        let background = Arc::clone(&engine);
        let spawned =
            std::thread::Builder::new().name("rarity-indexes".into()).spawn(move || background.build_in_order());
        // Without the thread, each hunt builds its index on its first run instead.
        drop(spawned);
        EngineBackend { engine, now }
    }
}

impl HuntBackend for EngineBackend {
    fn run(&self, params: &HuntParams) -> Result<HuntOutput, String> {
        self.engine.run(params, Some(self.now)).map_err(|e| e.to_string())
    }

    fn funnel(&self, params: &HuntParams) -> Option<Funnel> {
        self.engine.funnel(params, Some(self.now)).ok()
    }

    fn sweep(&self, params: &HuntParams, key: &str, values: &[ParamValue]) -> Result<Vec<usize>, String> {
        self.engine.sweep(params, Some(self.now), key, values).map_err(|e| e.to_string())
    }

    fn why(&self, output: &HuntOutput, row: usize) -> String {
        self.engine.why(output, row)
    }

    fn drill(&self, req: &DrillRequest) -> Result<Level, String> {
        let e = &self.engine;
        match req {
            DrillRequest::Finding { output, row } => {
                let drill = Arc::new(e.drill(output, *row));
                let title = output.finding(*row).into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" · ");
                let window = e.hunt_window(&output.params, output.now);
                let timeline = e.timeline(drill.table, &drill.rows, window, TIMELINE_BUCKETS);
                let why = Some(e.why(output, *row));
                let mut level = finding_level(e, title, drill);
                level.insight = Some(Insight { timeline, why });
                Ok(level)
            }
            DrillRequest::Facet { drill, facet, value } => {
                let rows = e.drill_events(drill, *facet, value);
                let title = format!("{} {}", facet.column(), display_cell(&value.to_cell()));
                Ok(events_level(e, title, drill.table, rows))
            }
            DrillRequest::Pivot { pivot, value } => {
                let rows = e.pivot(*pivot, value).map_err(|err| err.to_string())?;
                let title = format!("every event with {} {value}", pivot.name());
                let timeline = e.timeline(TableKind::DeviceNetworkEvents, &rows, None, TIMELINE_BUCKETS);
                let mut level = events_level(e, title, TableKind::DeviceNetworkEvents, rows);
                level.insight = Some(Insight { timeline, why: None });
                Ok(level)
            }
            DrillRequest::Record { table, row } => Ok(record_level(e, *table, *row)),
        }
    }
}

fn text(s: &str) -> Cell {
    if s.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(s.to_string())
    }
}

/// The events of `rows` as one list with the engine's normalized columns (every row: lists of
/// any length scroll; only the visible part is drawn).
fn events_section(engine: &Engine, table: TableKind, rows: Vec<usize>) -> Section {
    let ds = engine.dataset();
    let cells: Vec<Vec<Cell>> = rows.iter().map(|&r| event_cells(ds, table, r)).collect();
    let t = TableState::new(Column::from_specs(event_columns(table)), cells, 1);
    Section { name: "Events".into(), table: t, kind: SectionKind::Events { table, rows }, note: None }
}

fn events_level(engine: &Engine, title: String, table: TableKind, rows: Vec<usize>) -> Level {
    Level { title, sections: vec![events_section(engine, table, rows)], active: 0, insight: None }
}

fn finding_level(engine: &Engine, title: String, d: Arc<DrillOutput>) -> Level {
    let mut sections = Vec::new();
    for facet in &d.facets {
        let values: Vec<_> = facet.items.iter().map(|(v, _)| v.clone()).collect();
        let (columns, rows): (Vec<Column>, Vec<Vec<Cell>>) = if facet.kind == FacetKind::RemoteIps {
            let columns = vec![
                Column::with_pivot("RemoteIP", CellKind::Text, facet.kind.pivot()),
                Column::new("Events", CellKind::Int),
                Column::new("Country", CellKind::Text),
                Column::new("TiCount", CellKind::Int),
            ];
            let rows = d
                .remote_ips
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
                .collect();
            (columns, rows)
        } else {
            let kind = if facet.kind == FacetKind::Ports { CellKind::Int } else { CellKind::Text };
            let columns = vec![
                Column::with_pivot(facet.kind.column(), kind, facet.kind.pivot()),
                Column::new("Events", CellKind::Int),
            ];
            (columns, facet.items.iter().map(|(v, n)| vec![v.to_cell(), Cell::Int(*n as i64)]).collect())
        };
        let table = TableState::new(columns, rows, 1);
        let kind = SectionKind::Facet { drill: d.clone(), facet: facet.kind, values };
        sections.push(Section { name: facet.kind.title().into(), table, kind, note: None });
    }
    sections.push(events_section(engine, d.table, d.rows.clone()));
    Level { title, sections, active: 0, insight: None }
}

/// One event with every original column, re-read from its source; the engine's normalized
/// columns when the source cannot be re-read (stdin, a changed file).
fn record_level(engine: &Engine, table: TableKind, row: usize) -> Level {
    let ds = engine.dataset();
    // The original columns verbatim (the evidence); the engine's columns, times in the TUI's one
    // short format, when the source cannot be re-read.
    let rows = match rarity::ingest::raw_records(ds, table, &[row]).into_iter().next().and_then(Result::ok) {
        Some(fields) => fields.into_iter().map(|(k, v)| vec![Cell::Text(k), text(&v)]).collect(),
        None => event_columns(table)
            .iter()
            .zip(event_cells(ds, table, row))
            .map(|(c, v)| vec![Cell::Text(c.name.to_string()), v])
            .collect(),
    };
    let t = TableState::new(vec![Column::new("Column", CellKind::Text), Column::new("Value", CellKind::Text)], rows, 1);
    Level {
        title: format!("event {}", rarity::model::time::format_short(engine.event_ts(table, row))),
        sections: vec![Section { name: super::msg::RECORD.into(), table: t, kind: SectionKind::Record, note: None }],
        active: 0,
        insight: None,
    }
}
