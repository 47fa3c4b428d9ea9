//! `rarity inspect`.

use crate::cli::*;
#[allow(unused_imports)]
use crate::*;

pub(crate) fn inspect(a: InspectArgs) -> Result<(), Failure> {
    let inputs = inputs_of(&a.paths);
    let (ds, report, origin) = load_cli(&inputs, &a.load)?;
    let t = totals(&ds, &report, a.now);
    let snapshot = match &origin {
        Origin::Snapshot { path, .. } => Some(path.display().to_string()),
        Origin::Files => None,
    };
    let clock = if ds.latest.is_some() {
        rarity::hunt::clock::clock_warnings(&ds, ds.reference_now(a.now))
    } else {
        Vec::new()
    };
    let stdout = std::io::stdout();
    let tty = stdout.is_terminal();
    let mut out = stdout.lock();
    let res = match a.format {
        InspectFormat::Json => {
            let v = serde_json::json!({ "files": report.files, "totals": t, "snapshot": snapshot, "clock_warnings": clock });
            let text = serde_json::to_string_pretty(&v).unwrap_or_default();
            // Data output: exact in files and pipes, made safe only for a terminal.
            let text = if tty { rarity::text::sanitize_lines(&text) } else { text.into() };
            writeln!(out, "{text}")
        }
        InspectFormat::Table => (|| {
            print_file_table(&mut out, &report.files)?;
            writeln!(out)?;
            writeln!(
                out,
                "Totals: {} DeviceNetworkEvents, {} DeviceInfo, {} VMConnection, {} threat-intel entries",
                rarity::model::thousands(t.net),
                rarity::model::thousands(t.dev),
                rarity::model::thousands(t.vm),
                rarity::model::thousands(t.ti)
            )?;
            writeln!(
                out,
                "Files:  {} loaded, {} skipped; {} rejected",
                t.files_loaded,
                t.files_skipped,
                rarity::model::counted(t.rejected, "row")
            )?;
            writeln!(out, "Devices: {}", rarity::model::thousands(t.devices))?;
            if let Some(per) = t.net_bytes_per_event {
                // Per-event cost only means something once fixed overheads are amortized.
                let per = if t.net >= 100_000 { format!(" ({per} bytes per event)") } else { String::new() };
                writeln!(
                    out,
                    "Network events in memory: {:.1} MiB{per}",
                    t.net_memory_bytes as f64 / (1024.0 * 1024.0)
                )?;
            }
            match (&t.earliest, &t.latest) {
                (Some(a), Some(b)) => writeln!(out, "Time range: {a} .. {b}")?,
                _ => writeln!(out, "Time range: (no events)")?,
            }
            writeln!(out, "Reference now: {}", t.now.as_deref().unwrap_or("(none)"))?;
            for w in &clock {
                writeln!(out, "Clock:  {}", rarity::text::sanitize(&w.message))?;
            }
            // The description carries the database's own metadata.
            let geoip = t.geoip.as_deref().map_or("none (use --geoip FILE)".into(), rarity::text::sanitize);
            writeln!(out, "GeoIP: {geoip}")?;
            if let Some(path) = &snapshot {
                writeln!(out, "Loaded from snapshot: {} (--no-cache reads the files)", sanitize_cell(path, 200))?;
            }
            Ok(())
        })(),
    };
    res.map_err(|e| fail(1, format!("cannot write output: {e}")))?;
    if report.loaded_anything() {
        Ok(())
    } else {
        Err(fail(2, "nothing usable was loaded (see the report above)"))
    }
}
