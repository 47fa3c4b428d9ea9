//! `rarity explain` and `rarity sweep`.

use crate::cli::*;
#[allow(unused_imports)]
use crate::*;

/// One hunt's parameters (saved tuning and `--set`, as `run` applies them) and its engine.
pub(crate) fn tune_setup(hunt: &str, t: &TuneArgs) -> Result<(HuntParams, Engine), Failure> {
    let hunts = hunts_named(hunt)?;
    let [h] = hunts[..] else { return Err(fail(2, "name one hunt, not `all`")) };
    let params = t.tuning.params(&[h])?.pop().ok_or_else(|| fail(2, "no parameters"))?;
    let engine = load_engine(&t.paths, &t.load)?;
    let now = engine.resolve_now(t.now);
    for w in rarity::hunt::clock::clock_warnings(engine.dataset(), now) {
        eprintln!("rarity: warning: {}", sanitize_cell(&w.message, 400));
    }
    Ok((params, engine))
}

pub(crate) fn write_out(f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<(), Failure> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    f(&mut out).and_then(|_| out.flush()).map_err(|e| fail(1, format!("cannot write output: {e}")))
}

pub(crate) fn explain(a: ExplainArgs) -> Result<(), Failure> {
    let (params, engine) = tune_setup(&a.hunt, &a.tune)?;
    let now = engine.resolve_now(a.tune.now);
    let funnel = engine.funnel(&params, Some(now)).map_err(|e| fail(2, e.to_string()))?;
    let key = params.hunt.key();
    // With a case file: how the rows that come out have been judged, per verdict.
    let verdicts: Option<Vec<(&'static str, usize)>> = match &a.case {
        None => None,
        Some(path) => {
            let case = load_case(path)?;
            let out = engine.run(&params, Some(now)).map_err(|e| fail(2, e.to_string()))?;
            let mut counts: Vec<(&'static str, usize)> = Vec::new();
            for row in 0..out.rows.len() {
                let label = case.verdict(out.hunt, &out.finding(row)).label();
                match counts.iter_mut().find(|(l, _)| *l == label) {
                    Some(c) => c.1 += 1,
                    None => counts.push((label, 1)),
                }
            }
            counts.sort();
            Some(counts)
        }
    };
    match a.tune.format {
        RunFormat::Csv => {
            let rows: Vec<Vec<Cell>> = funnel
                .steps
                .iter()
                .map(|s| vec![Cell::Text(s.step.clone()), Cell::Text(s.condition.clone()), Cell::Int(s.count as i64)])
                .collect();
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            rarity::export::write_csv(
                &mut out,
                &["step", "condition", "count"],
                rows.iter().map(|r| r.as_slice()),
                false,
            )
            .map(|_| ())
            .map_err(|e| fail(1, format!("cannot write output: {e}")))
        }
        RunFormat::Json => {
            let mut v = serde_json::json!({ "hunt": key, "now": format_iso(now), "rows": funnel.rows(), "steps": funnel.steps });
            if let Some(counts) = &verdicts {
                v["verdicts"] = counts.iter().map(|(l, n)| (l.to_string(), serde_json::Value::from(*n))).collect();
            }
            write_out(|out| writeln!(out, "{}", serde_json::to_string_pretty(&v).unwrap_or_default()))
        }
        RunFormat::Table => write_out(|out| {
            writeln!(out, "{key}: {} at now {}", rarity::model::counted(funnel.rows() as u64, "row"), format_iso(now))?;
            let emptied = funnel.emptied_at();
            let w = funnel.steps.iter().map(|s| rarity::hunt::funnel::thousands(s.count).len()).max().unwrap_or(1);
            for (i, s) in funnel.steps.iter().enumerate() {
                let mark = if emptied == Some(i) { ">>" } else { "  " };
                writeln!(
                    out,
                    "{mark} {:6} {:>w$} {:7} {}",
                    s.step,
                    rarity::hunt::funnel::thousands(s.count),
                    s.unit.label_for(s.count),
                    sanitize_cell(&s.condition, 200)
                )?;
                if let Some(n) = &s.note {
                    writeln!(out, "   {:6} {:>w$} {:7} {}", "", "", "", sanitize_cell(n, 300))?;
                }
            }
            if emptied.is_some() {
                writeln!(out, "\nThe step marked >> removed everything that was left.")?;
            }
            if let Some(counts) = &verdicts {
                let parts: Vec<String> = counts.iter().map(|(l, n)| format!("{n} {l}")).collect();
                let judged = if parts.is_empty() { "none".to_string() } else { parts.join(", ") };
                writeln!(out, "Verdicts of these rows: {judged}")?;
            }
            Ok(())
        }),
    }
}

pub(crate) fn sweep(a: SweepArgs) -> Result<(), Failure> {
    let (params, engine) = tune_setup(&a.hunt, &a.tune)?;
    let values = rarity::hunt::funnel::sweep_values(&params, &a.param, a.values.as_deref())
        .map_err(|e| fail(2, e.to_string()))?;
    let now = engine.resolve_now(a.tune.now);
    let counts = engine.sweep(&params, Some(now), &a.param, &values).map_err(|e| fail(2, e.to_string()))?;
    let key = params.index_of(&a.param).map(|i| params.specs()[i].key).unwrap_or_default();
    let current = params.get(key).to_text();
    match a.tune.format {
        RunFormat::Csv => {
            let rows: Vec<Vec<Cell>> =
                values.iter().zip(&counts).map(|(v, n)| vec![Cell::Text(v.to_text()), Cell::Int(*n as i64)]).collect();
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            rarity::export::write_csv(&mut out, &["value", "rows"], rows.iter().map(|r| r.as_slice()), false)
                .map(|_| ())
                .map_err(|e| fail(1, format!("cannot write output: {e}")))
        }
        RunFormat::Json => {
            let points: Vec<serde_json::Value> = values
                .iter()
                .zip(&counts)
                .map(|(v, n)| serde_json::json!({ "value": v.to_text(), "rows": n }))
                .collect();
            let v = serde_json::json!({
                "hunt": params.hunt.key(), "param": key, "current": current, "now": format_iso(now), "points": points,
            });
            write_out(|out| writeln!(out, "{}", serde_json::to_string_pretty(&v).unwrap_or_default()))
        }
        RunFormat::Table => write_out(|out| {
            writeln!(out, "{}: rows by {key} (current {current}) at now {}", params.hunt.key(), format_iso(now))?;
            let max = counts.iter().copied().max().unwrap_or(0).max(1);
            let vw = values.iter().map(|v| v.to_text().len()).max().unwrap_or(1);
            for (v, n) in values.iter().zip(&counts) {
                let t = v.to_text();
                let mark = if t == current { "<- current" } else { "" };
                let bar = "#".repeat((n * 40).div_ceil(max));
                writeln!(out, "{t:>vw$} {n:>8} {bar:40} {mark}")?;
            }
            Ok(())
        }),
    }
}
