//! Loading for the commands, and what they print about it and about their tables.

use crate::cli::*;
#[allow(unused_imports)]
use crate::*;

pub(crate) fn inputs_of(paths: &[PathBuf]) -> Vec<Input> {
    paths.iter().map(|p| if p.as_os_str() == "-" { Input::Stdin } else { Input::Path(p.clone()) }).collect()
}

pub(crate) fn load_options(l: &LoadArgs) -> LoadOptions {
    LoadOptions { zone: l.tz, date_order: l.date_order }
}

pub(crate) fn cache_options(l: &LoadArgs) -> CacheOptions {
    let mut c = CacheOptions::from_env();
    c.enabled = !l.no_cache;
    c.limit = l.cache_limit.or(c.limit);
    c
}

/// Load with a progress line on stderr when it is a terminal, through the snapshot cache.
pub(crate) fn load_cli(inputs: &[Input], l: &LoadArgs) -> Result<(Dataset, LoadReport, Origin), Failure> {
    load_cli_with(inputs, &[], l)
}

/// As `load_cli`, with extra feeds besides `--ti` (the sample fleet's own feed). A load from
/// the files that is worth a snapshot writes one before returning.
pub(crate) fn load_cli_with(
    inputs: &[Input],
    extra_ti: &[Input],
    l: &LoadArgs,
) -> Result<(Dataset, LoadReport, Origin), Failure> {
    let mut ti = inputs_of(&l.ti);
    ti.extend_from_slice(extra_ti);
    let show = std::io::stderr().is_terminal();
    let progress = |p: &Progress| {
        if show {
            let pct = (p.bytes_done * 100).checked_div(p.bytes_total).unwrap_or(0);
            eprint!(
                "\r\x1b[2Kloading {}/{} files  {:>3}%  {} rows  {}",
                p.files_done.min(p.files_total),
                p.files_total,
                pct.min(100),
                p.rows,
                rarity::text::fit_tail(&p.current, 50)
            );
        }
    };
    let cancel = AtomicBool::new(false);
    let result =
        snapshot::load_cached(inputs, &ti, l.geoip.as_deref(), &load_options(l), &cache_options(l), &progress, &cancel);
    if show {
        eprint!("\r\x1b[2K");
    }
    let loaded = result.map_err(|e| fail(1, e.to_string()))?;
    for w in &loaded.warnings {
        eprintln!("rarity: {w}");
    }
    let CachedLoad { dataset, report, origin, pending, .. } = loaded;
    if let Some(p) = pending {
        if show {
            eprint!("saving a load snapshot for next time ({})", sanitize_cell(&p.path().display().to_string(), 120));
        }
        let outcome = p.write(&dataset, &report);
        if show {
            eprint!("\r\x1b[2K");
        }
        if let Some(w) = outcome.warning() {
            eprintln!("rarity: {w}");
        }
    }
    Ok((dataset, report, origin))
}

#[derive(serde::Serialize)]
pub(crate) struct Totals {
    #[serde(rename = "DeviceNetworkEvents")]
    pub(crate) net: u64,
    #[serde(rename = "DeviceInfo")]
    pub(crate) dev: u64,
    #[serde(rename = "VMConnection")]
    pub(crate) vm: u64,
    #[serde(rename = "ThreatIntel")]
    pub(crate) ti: u64,
    pub(crate) devices: u64,
    pub(crate) earliest: Option<String>,
    pub(crate) latest: Option<String>,
    pub(crate) now: Option<String>,
    pub(crate) geoip: Option<String>,
    pub(crate) rejected: u64,
    /// Heap bytes held by the network-event table, and per event.
    pub(crate) net_memory_bytes: u64,
    pub(crate) net_bytes_per_event: Option<u64>,
    pub(crate) files_loaded: u64,
    pub(crate) files_skipped: u64,
}

pub(crate) fn totals(ds: &Dataset, report: &LoadReport, now: Option<Nanos>) -> Totals {
    let loaded = ds.total_rows() > 0 || !ds.ti.is_empty();
    Totals {
        net: ds.net.len() as u64,
        dev: ds.devinfo.len() as u64,
        vm: ds.vm.len() as u64,
        ti: ds.ti.len() as u64,
        devices: ds.device_count() as u64,
        earliest: ds.earliest.map(format_iso),
        latest: ds.latest.map(format_iso),
        now: if loaded && (now.is_some() || ds.latest.is_some()) {
            Some(format_iso(ds.reference_now(now)))
        } else {
            None
        },
        geoip: ds.geoip.as_ref().map(|g| g.description().to_string()),
        rejected: report.files.iter().map(|f| f.rejected).sum(),
        net_memory_bytes: ds.net.heap_bytes() as u64,
        net_bytes_per_event: (ds.net.heap_bytes() as u64).checked_div(ds.net.len() as u64),
        files_loaded: report.files.iter().filter(|f| f.skipped.is_none()).count() as u64,
        files_skipped: report.files.iter().filter(|f| f.skipped.is_some()).count() as u64,
    }
}

/// The per-file report. Paths, formats, reasons, column names and rejects come from the input,
/// so the whole text is sanitized on its way out.
pub(crate) fn print_file_table(out: &mut impl Write, files: &[FileReport]) -> std::io::Result<()> {
    let mut text = Vec::new();
    write_file_table(&mut text, files)?;
    out.write_all(rarity::text::sanitize_lines(&String::from_utf8_lossy(&text)).as_bytes())
}

pub(crate) fn write_file_table(out: &mut impl Write, files: &[FileReport]) -> std::io::Result<()> {
    for f in files {
        match &f.skipped {
            Some(reason) => writeln!(out, "{}\n  skipped: {}", f.path, reason)?,
            None => {
                writeln!(out, "{}\n  format:   {}", f.path, f.format.as_deref().unwrap_or("?"))?;
                let mut parts = Vec::new();
                for (n, name) in [
                    (f.rows.net, "DeviceNetworkEvents"),
                    (f.rows.dev, "DeviceInfo"),
                    (f.rows.vm, "VMConnection"),
                    (f.rows.ti, "ThreatIntel entries"),
                ] {
                    if n > 0 {
                        parts.push(format!("{} {}", rarity::model::thousands(n), name));
                    }
                }
                if parts.is_empty() {
                    let geo = f.format.as_deref().is_some_and(|x| x.starts_with("GeoIP"));
                    parts.push(if geo {
                        "country lookups (used for RemoteIP_country)".into()
                    } else {
                        "0 rows".into()
                    });
                }
                writeln!(out, "  loaded:   {}", parts.join(", "))?;
                if !f.missing_columns.is_empty() {
                    writeln!(
                        out,
                        "  missing:  {} (read as empty; hunts that use them see no value)",
                        f.missing_columns.join(", ")
                    )?;
                }
                if !f.unknown_columns.is_empty() {
                    let shown: Vec<&str> = f.unknown_columns.iter().take(6).map(String::as_str).collect();
                    let more = f.unknown_columns.len().saturating_sub(shown.len());
                    writeln!(
                        out,
                        "  columns:  {} not used by the hunts (kept for the raw-event view): {}{}",
                        f.unknown_columns.len(),
                        shown.join(", "),
                        if more > 0 { format!(", … (+{more})") } else { String::new() }
                    )?;
                }
                if f.rejected > 0 {
                    writeln!(out, "  rejected: {}", rarity::model::counted(f.rejected, "row"))?;
                    for r in &f.rejects {
                        writeln!(out, "    {r}")?;
                    }
                    if f.rejected as usize > f.rejects.len() {
                        writeln!(out, "    ... and {} more", f.rejected as usize - f.rejects.len())?;
                    }
                }
            }
        }
        for w in &f.warnings {
            writeln!(out, "  warning:  {w}")?;
        }
    }
    Ok(())
}

/// `run`'s account of the load on stderr, one line each, made safe (paths and reasons come from
/// the input): skipped files, rejected rows, and the warnings of feeds (a feed listing every
/// address changes every result) and of files that loaded nothing (they say why).
pub(crate) fn print_load_problems(files: &[FileReport]) {
    let safe = rarity::text::sanitize;
    for f in files {
        match &f.skipped {
            Some(r) => eprintln!("rarity: skipped {}: {}", safe(&f.path), safe(r)),
            None if f.rejected > 0 => {
                eprintln!(
                    "rarity: {}: {} rejected (see `rarity inspect`)",
                    safe(&f.path),
                    rarity::model::counted(f.rejected, "row")
                )
            }
            None => {}
        }
        let r = &f.rows;
        if r.ti > 0 || r.net + r.dev + r.vm + r.ti == 0 {
            for w in &f.warnings {
                eprintln!("rarity: {}: {}", safe(&f.path), safe(w));
            }
        }
    }
}

/// Load `paths` (the built-in sample when empty) for the hunts, reporting rejected rows and
/// skipped files on stderr.
pub(crate) fn load_engine(paths: &[PathBuf], load: &LoadArgs) -> Result<Engine, Failure> {
    let (inputs, ti) = if paths.is_empty() { sample_inputs(load) } else { (inputs_of(paths), Vec::new()) };
    let (ds, report, origin) = load_cli_with(&inputs, &ti, load)?;
    if let Origin::Snapshot { path, .. } = &origin {
        if std::io::stderr().is_terminal() {
            eprintln!(
                "rarity: loaded from snapshot {} (--no-cache reads the files)",
                sanitize_cell(&path.display().to_string(), 200)
            );
        }
    }
    if !report.loaded_anything() {
        let mut err = std::io::stderr().lock();
        let _ = print_file_table(&mut err, &report.files);
        return Err(fail(2, "nothing usable was loaded"));
    }
    print_load_problems(&report.files);
    Ok(Engine::lazy(Arc::new(ds)))
}

/// Read a case file for the CLI. A corrupt file has been moved aside: say so and go on with
/// an empty case; any other problem is fatal.
pub(crate) fn load_case(path: &std::path::Path) -> Result<CaseFile, Failure> {
    match CaseFile::load(path) {
        Ok(c) => Ok(c),
        Err(e @ rarity::case::CaseError::Corrupt { .. }) => {
            eprintln!("rarity: {}; starting an empty case", rarity::text::sanitize(&e.to_string()));
            Ok(CaseFile::default())
        }
        Err(e) => Err(fail(1, e.to_string())),
    }
}

/// The output's columns and rows, with `Verdict` and `Note` appended when a case is given.
/// An unreviewed finding's verdict reads `unreviewed`; a finding without a note has an empty Note.
pub(crate) fn with_verdicts(o: &HuntOutput, case: Option<&CaseFile>) -> (Vec<ColumnSpec>, Vec<Vec<Cell>>) {
    let mut cols = o.columns.to_vec();
    let Some(case) = case else { return (cols, o.rows.clone()) };
    cols.push(ColumnSpec::new("Verdict", CellKind::Text));
    cols.push(ColumnSpec::new("Note", CellKind::Text));
    let rows = o
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let finding = o.finding(i);
            let mut r = r.clone();
            r.push(Cell::Text(case.verdict(o.hunt, &finding).label().to_string()));
            let note = case.note(o.hunt, &finding);
            r.push(if note.is_empty() { Cell::Empty } else { Cell::Text(note.to_string()) });
            r
        })
        .collect();
    (cols, rows)
}

/// Where `run` and `pivot` write (`--output FILE` or standard output). The table is for people:
/// always made safe. CSV and JSON are data: exact bytes in files and pipes, made safe only when
/// they land on a terminal.
pub(crate) fn output_sink(path: Option<&std::path::Path>, format: RunFormat) -> Result<Box<dyn Write>, Failure> {
    let (sink, tty): (Box<dyn Write>, bool) = match path {
        Some(p) => {
            let f = std::fs::File::create(p).map_err(|e| fail(1, format!("cannot write {}: {e}", p.display())))?;
            let tty = f.is_terminal();
            (Box::new(f), tty)
        }
        None => (Box::new(std::io::stdout().lock()), std::io::stdout().is_terminal()),
    };
    Ok(if format == RunFormat::Table || tty {
        Box::new(rarity::text::SafeWriter::new(std::io::BufWriter::new(sink)))
    } else {
        Box::new(std::io::BufWriter::new(sink))
    })
}

/// A cell for a terminal table: made safe (`rarity::text`) and, when wider than `max` columns,
/// cut to `max` columns and `…`.
pub(crate) fn sanitize_cell(s: &str, max: usize) -> String {
    let safe = rarity::text::sanitize(s);
    if rarity::text::width(&safe) <= max {
        return safe.into_owned();
    }
    rarity::text::fit(&safe, max + 1).into_owned()
}

/// Rows as JSON objects keyed by column name (`--format json` of `run` and `pivot`).
pub(crate) fn json_rows(cols: &[rarity::hunt::ColumnSpec], rows: &[Vec<Cell>]) -> Vec<serde_json::Value> {
    rows.iter()
        .map(|r| {
            serde_json::Value::Object(cols.iter().zip(r).map(|(c, v)| (c.name.to_string(), v.to_json())).collect())
        })
        .collect()
}

pub(crate) fn write_table(
    out: &mut dyn Write,
    cols: &[rarity::hunt::ColumnSpec],
    rows: &[Vec<Cell>],
) -> std::io::Result<()> {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| sanitize_cell(&c.display(rarity::hunt::TimeStyle::Iso), 48)).collect())
        .collect();
    let widths: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| cells.iter().map(|r| rarity::text::width(&r[i])).max().unwrap_or(0).max(c.name.len()))
        .collect();
    let line = |out: &mut dyn Write, vals: Vec<&str>| -> std::io::Result<()> {
        let mut s = String::new();
        for (i, v) in vals.iter().enumerate() {
            let w = widths[i];
            let right = matches!(cols[i].kind, CellKind::Int);
            let pad = w.saturating_sub(rarity::text::width(v));
            if i > 0 {
                s.push_str("  ");
            }
            if right {
                s.push_str(&" ".repeat(pad));
                s.push_str(v);
            } else {
                s.push_str(v);
                if i + 1 < vals.len() {
                    s.push_str(&" ".repeat(pad));
                }
            }
        }
        writeln!(out, "{}", s.trim_end())
    };
    line(out, cols.iter().map(|c| c.name).collect())?;
    line(out, widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().iter().map(|s| s.as_str()).collect())?;
    for r in &cells {
        line(out, r.iter().map(|s| s.as_str()).collect())?;
    }
    Ok(())
}

/// The built-in sample fleet: its telemetry, plus its GeoIP database and feed unless the user
/// gave their own. Returns (inputs, extra feeds).
pub(crate) fn sample_inputs(l: &LoadArgs) -> (Vec<Input>, Vec<Input>) {
    let inputs = if l.geoip.is_none() { rarity::sample::all_inputs() } else { rarity::sample::inputs() };
    let ti = if l.ti.is_empty() { rarity::sample::ti_inputs() } else { Vec::new() };
    (inputs, ti)
}
