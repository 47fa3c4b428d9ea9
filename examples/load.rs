//! Load telemetry files and print rows/s and per-table counts (for measuring speed and peak
//! RSS with `/usr/bin/time -v`). `--gen N PATH` writes an N-row Defender CSV first.

#[path = "../benches/common/defender_gen.rs"]
mod defender_gen;

use rarity::ingest::{load, Input, LoadOptions};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--gen") {
        let [_, n, path] = <[String; 3]>::try_from(args.clone()).map_err(|_| anyhow::anyhow!("usage: --gen N PATH"))?;
        let rows: usize = n.parse()?;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
        defender_gen::write_defender_csv(&mut out, rows)?;
        println!("wrote {rows} rows to {path}");
        args.clear();
    }
    for path in args {
        let cancel = AtomicBool::new(false);
        let start = Instant::now();
        let (ds, report) =
            load(&[Input::Path(path.clone().into())], &[], None, &LoadOptions::default(), &|_| {}, &cancel)?;
        let secs = start.elapsed().as_secs_f64();
        let rows: u64 = report.files.iter().map(|f| f.rows.net + f.rows.dev + f.rows.vm + f.rejected).sum();
        println!("{path}: {rows} rows in {secs:.2} s = {:.0} rows/s", rows as f64 / secs);
        println!(
            "  DeviceNetworkEvents {}  DeviceInfo {}  VMConnection {}",
            ds.net.len(),
            ds.devinfo.len(),
            ds.vm.len()
        );
        for f in &report.files {
            println!(
                "  {}: format {:?}, rejected {}, skipped {:?}",
                f.path,
                f.format.as_deref().unwrap_or("-"),
                f.rejected,
                f.skipped
            );
            for r in &f.rejects {
                println!("    reject {r}");
            }
            for w in &f.warnings {
                println!("    warning {w}");
            }
        }
    }
    Ok(())
}
