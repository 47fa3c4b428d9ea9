//! `rarity gen`.

use crate::cli::*;
#[allow(unused_imports)]
use crate::*;

pub(crate) fn gen(a: GenArgs) -> Result<(), Failure> {
    use rarity::gen::{GenError, GenFormat, GenOptions};
    use std::io::IsTerminal;
    let opts = GenOptions {
        devices: a.devices as usize,
        days: a.days,
        events: a.events,
        seed: a.seed,
        format: match a.format {
            GenFormatArg::Csv => GenFormat::Csv,
            GenFormatArg::Jsonl => GenFormat::Jsonl,
        },
        ..GenOptions::default()
    };
    let tty = std::io::stderr().is_terminal();
    let progress = |n: u64| {
        if tty {
            eprint!("\rgenerating: {n} events");
        }
    };
    let started = std::time::Instant::now();
    let summary = rarity::gen::generate(&opts, &a.out_dir, &progress).map_err(|e| match e {
        GenError::Options(m) => fail(2, m),
        e => fail(1, e.to_string()),
    })?;
    if tty {
        eprintln!();
    }
    let secs = started.elapsed().as_secs_f64();
    let mut out = String::new();
    for f in &summary.files {
        out.push_str(&format!("{}\t{} rows\n", f.path.display(), f.rows));
    }
    out.push_str(&format!(
        "{} network events ({} planted) in {secs:.1}s; reference time (latest event) {}\nplanted findings:\n",
        opts.events,
        summary.planted_events,
        rarity::model::time::format_iso(opts.end)
    ));
    for f in &summary.findings {
        out.push_str(&format!("  {f}\n"));
    }
    std::io::stdout().write_all(out.as_bytes()).map_err(|e| fail(1, format!("cannot write output: {e}")))
}
