//! `rarity run`.

use crate::cli::*;
#[allow(unused_imports)]
use crate::*;

pub(crate) fn run(a: RunArgs) -> Result<(), Failure> {
    let hunts = hunts_named(&a.hunt)?;
    let params = a.tuning.params(&hunts)?;
    let case = a.case.as_deref().map(load_case).transpose()?;
    let engine = load_engine(&a.paths, &a.load)?;
    let mut out = output_sink(a.output.as_deref(), a.format)?;
    let mut missing = Vec::new();
    let mut json_all = serde_json::Map::new();
    let many = hunts.len() > 1;
    for (i, p) in params.iter().enumerate() {
        let key = p.hunt.key();
        let output = match engine.run(p, a.now) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("rarity: {}", rarity::text::sanitize(&e.to_string()));
                missing.push(key);
                continue;
            }
        };
        let (cols, rows) = with_verdicts(&output, case.as_ref());
        if let Some(b) = &output.banner {
            if a.format == RunFormat::Table {
                let _ = writeln!(out, "!! {b}");
            } else {
                eprintln!("rarity: {key}: {}", rarity::text::sanitize(b));
            }
        }
        let res = match a.format {
            RunFormat::Table => (|| {
                if many {
                    if i > 0 {
                        writeln!(out)?;
                    }
                    let rows = rarity::model::counted(output.rows.len() as u64, "row");
                    writeln!(out, "== {key}: {} ({rows})", p.hunt.spec().summary)?;
                }
                if rows.is_empty() {
                    writeln!(out, "(no rows)")
                } else {
                    write_table(&mut out, &cols, &rows)
                }
            })()
            .map_err(|e| e.to_string()),
            RunFormat::Csv => {
                if many {
                    let _ = writeln!(out, "{}# hunt: {key}", if i > 0 { "\n" } else { "" });
                }
                let names: Vec<&str> = cols.iter().map(|c| c.name).collect();
                rarity::export::write_csv(&mut out, &names, rows.iter().map(|r| r.as_slice()), a.csv_raw)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            RunFormat::Json => {
                let rows = json_rows(&cols, &rows);
                if many {
                    json_all.insert(key.to_string(), serde_json::Value::Array(rows));
                    Ok(())
                } else {
                    writeln!(out, "{}", serde_json::to_string_pretty(&rows).unwrap_or_default())
                        .map_err(|e| e.to_string())
                }
            }
        };
        res.map_err(|e| fail(1, format!("cannot write output: {e}")))?;
    }
    if many && a.format == RunFormat::Json {
        writeln!(out, "{}", serde_json::to_string_pretty(&json_all).unwrap_or_default())
            .map_err(|e| fail(1, format!("cannot write output: {e}")))?;
    }
    out.flush().map_err(|e| fail(1, format!("cannot write output: {e}")))?;
    if missing.is_empty() {
        Ok(())
    } else {
        Err(fail(2, ""))
    }
}
