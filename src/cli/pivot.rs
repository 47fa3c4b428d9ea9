//! `rarity pivot`.

use crate::cli::*;
#[allow(unused_imports)]
use crate::*;

/// `rarity pivot`: every network event with the value, sorted by Timestamp, with the event
/// columns. A value that matches nothing prints nothing (exit 0); a malformed IP exits 2.
pub(crate) fn pivot(a: PivotArgs) -> Result<(), Failure> {
    use rarity::hunt::{event_cells, event_columns, Pivot};
    use rarity::model::tables::TableKind;
    let kind = match a.kind {
        PivotKind::Ip => Pivot::Ip,
        PivotKind::Device => Pivot::Device,
        PivotKind::Process => Pivot::Process,
        PivotKind::Hash => Pivot::Hash,
        PivotKind::Domain => Pivot::Domain,
    };
    if kind == Pivot::Ip && rarity::model::ip::parse_ip(a.value.trim()).is_none() {
        return Err(fail(2, format!("`{}` is not an IP address (e.g. 203.0.113.7 or 2001:db8::1)", a.value)));
    }
    let engine = load_engine(&a.paths, &a.load)?;
    let rows = engine.pivot(kind, &a.value).map_err(|e| fail(2, e.to_string()))?;
    let table = TableKind::DeviceNetworkEvents;
    let cols = event_columns(table);
    let cells: Vec<Vec<Cell>> = rows.iter().map(|&r| event_cells(engine.dataset(), table, r)).collect();
    if cells.is_empty() {
        return Ok(());
    }
    let mut out = output_sink(a.output.as_deref(), a.format)?;
    let res = match a.format {
        RunFormat::Table => write_table(&mut out, cols, &cells).map_err(|e| e.to_string()),
        RunFormat::Csv => {
            let names: Vec<&str> = cols.iter().map(|c| c.name).collect();
            rarity::export::write_csv(&mut out, &names, cells.iter().map(|r| r.as_slice()), a.csv_raw)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        RunFormat::Json => {
            let v = json_rows(cols, &cells);
            writeln!(out, "{}", serde_json::to_string_pretty(&v).unwrap_or_default()).map_err(|e| e.to_string())
        }
    };
    res.and_then(|_| out.flush().map_err(|e| e.to_string()))
        .map_err(|e| fail(1, format!("cannot write output: {e}")))?;
    eprintln!("rarity: {}", when(&engine.timeline(table, &rows, None, 1)));
    Ok(())
}

/// When the pivot's events happened, for stderr: "24 events from … to …; every 1h ± 0s over
/// 23 intervals (regular: possible beacon)".
fn when(t: &rarity::hunt::timeline::Timeline) -> String {
    let mut s = rarity::model::counted(t.events as u64, "event");
    if let (Some(first), Some(last)) = (t.first, t.last) {
        s.push_str(&format!(" from {} to {}", format_iso(first), format_iso(last)));
    }
    if let Some(r) = &t.rhythm {
        s.push_str(&format!("; {}", r.describe()));
    }
    s
}
