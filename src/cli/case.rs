//! `rarity case`.

use crate::cli::*;
#[allow(unused_imports)]
use crate::*;

/// `rarity case`: verdict counts per hunt, and the judged findings the current tuning no
/// longer shows (each hunt with judged findings runs with the saved tuning).
pub(crate) fn case(a: CaseArgs) -> Result<(), Failure> {
    let path = a
        .case
        .clone()
        .or_else(rarity::case::default_path)
        .ok_or_else(|| fail(2, "no data directory on this system: name the case file with --case FILE"))?;
    let case = load_case(&path)?;
    let judged_hunts: Vec<HuntId> = HuntId::all().filter(|h| case.judged().any(|(k, _)| k.hunt == h.key())).collect();
    let mut absent = Vec::new();
    let mut not_run = Vec::new();
    if !judged_hunts.is_empty() {
        let params = tuned_params(&judged_hunts, &[], a.config.as_ref(), a.no_config)?;
        let engine = load_engine(&a.paths, &a.load)?;
        for p in &params {
            match engine.run(p, a.now) {
                Ok(o) => absent.extend(case.absent_from(&o)),
                Err(e) => not_run.push((p.hunt.key(), rarity::text::sanitize(&e.to_string()).into_owned())),
            }
        }
    }
    let counts = case.counts();
    let mut out = std::io::stdout().lock();
    let res = match a.format {
        InspectFormat::Json => {
            let counts: serde_json::Map<String, serde_json::Value> = counts
                .iter()
                .map(|(h, c)| {
                    let mut v = serde_json::to_value(c).unwrap_or_default();
                    if let Some(m) = v.as_object_mut() {
                        m.insert("total".into(), c.total().into());
                    }
                    (h.clone(), v)
                })
                .collect();
            let absent: Vec<serde_json::Value> = absent
                .iter()
                .map(|(k, e)| {
                    serde_json::json!({
                        "hunt": k.hunt, "finding": k.finding, "verdict": e.verdict, "note": e.note,
                        "set_at": rarity::case::format_set_at(e.set_at),
                    })
                })
                .collect();
            let not_run: Vec<serde_json::Value> =
                not_run.iter().map(|(h, e)| serde_json::json!({ "hunt": h, "error": e })).collect();
            let v = serde_json::json!({
                "case_file": path.display().to_string(), "counts": counts, "absent": absent, "not_run": not_run,
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&v).unwrap_or_default())
        }
        InspectFormat::Table => (|| {
            writeln!(out, "Case file: {}", sanitize_cell(&path.display().to_string(), 200))?;
            if counts.is_empty() {
                writeln!(out, "(no findings judged yet)")?;
            } else {
                let mut cols = vec![ColumnSpec::new("hunt", CellKind::Text)];
                cols.extend(rarity::case::Verdict::ALL.iter().map(|v| ColumnSpec::new(v.label(), CellKind::Int)));
                cols.push(ColumnSpec::new("total", CellKind::Int));
                let rows: Vec<Vec<Cell>> = counts
                    .iter()
                    .map(|(h, c)| {
                        let mut r = vec![Cell::Text(h.clone())];
                        r.extend(rarity::case::Verdict::ALL.iter().map(|v| Cell::Int(c.get(*v) as i64)));
                        r.push(Cell::Int(c.total() as i64));
                        r
                    })
                    .collect();
                writeln!(out)?;
                write_table(&mut out, &cols, &rows)?;
            }
            for (h, e) in &not_run {
                writeln!(out, "\n{h}: not run ({e}); its judged findings cannot be checked")?;
            }
            if !counts.is_empty() {
                writeln!(out, "\nJudged findings not in the current results ({}):", absent.len())?;
                if absent.is_empty() {
                    writeln!(out, "(none: every judged finding still appears)")?;
                } else {
                    let cols =
                        ["hunt", "finding", "verdict", "set_at", "note"].map(|n| ColumnSpec::new(n, CellKind::Text));
                    let rows: Vec<Vec<Cell>> = absent
                        .iter()
                        .map(|(k, e)| {
                            vec![
                                Cell::Text(k.hunt.clone()),
                                Cell::Text(k.finding.join(" | ")),
                                Cell::Text(e.verdict.label().into()),
                                Cell::Text(rarity::case::format_set_at(e.set_at)),
                                Cell::Text(e.note.clone()),
                            ]
                        })
                        .collect();
                    write_table(&mut out, &cols, &rows)?;
                }
            }
            Ok(())
        })(),
    };
    res.map_err(|e| fail(1, format!("cannot write output: {e}")))
}
