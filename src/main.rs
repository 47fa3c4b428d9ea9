//! The `rarity` command line: the TUI (default), `inspect`, `run`, `hunts`, `gen`, `explain`, `sweep`.

mod tui;

use clap::{Args, Parser, Subcommand, ValueEnum};
use rarity::case::CaseFile;
use rarity::hunt::{Cell, CellKind, ColumnSpec, Engine, HuntId, HuntOutput, HuntParams};
use rarity::ingest::{FileReport, Input, LoadOptions, LoadReport, Progress};
use rarity::model::time::{format_iso, parse_rfc3339, DateOrder, Nanos, Zone};
use rarity::snapshot::{self, CacheOptions, CachedLoad, Origin};
use rarity::Dataset;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(
    name = "rarity",
    version,
    about = "Hunt rare network behaviour in Defender XDR, Sentinel, Sysmon and VMConnection exports",
    long_about = "Hunt rare network behaviour in Defender XDR, Sentinel, Sysmon and VMConnection exports.\n\n\
        With no subcommand, opens the hunting TUI on the given files (or on the built-in sample fleet when none are given).",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    tui: TuiArgs,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Open the hunting TUI (the default when no subcommand is given).
    Tui(TuiArgs),
    /// Load files and report what was recognized, loaded, rejected and skipped.
    Inspect(InspectArgs),
    /// Run one hunt (or `all`) headless and print its rows.
    Run(RunArgs),
    /// List the hunts, what each needs, and every parameter with its default.
    Hunts(HuntsArgs),
    /// Every network event with an IP, device, process, hash or domain, in time order.
    Pivot(PivotArgs),
    /// Write a synthetic fleet with planted findings (for demos and benchmarks).
    Gen(GenArgs),
    /// Show a hunt's funnel: each step with how many events, tuples or groups pass it.
    Explain(ExplainArgs),
    /// Show how a hunt's row count moves with one numeric or duration parameter.
    Sweep(SweepArgs),
    /// Write a hunt (or `all`), with its current tuning, as a KQL query for Sentinel, Defender or ADX.
    Kql(KqlArgs),
    /// Summarize the case file: verdicts per hunt, and judged findings the current tuning hides.
    Case(CaseArgs),
    /// Show or empty the cache of load snapshots (`list` is the default).
    Cache(CacheArgs),
}

/// Inputs shared by every command that loads data.
#[derive(Args, Debug, Clone, Default)]
struct LoadArgs {
    /// Threat-intel feed (IPsum ipsum.txt, levels/N.txt, IP or CIDR list). Repeatable.
    #[arg(long = "ti", value_name = "FILE")]
    ti: Vec<PathBuf>,
    /// GeoIP country database (.mmdb, MaxMind/DB-IP or ip-location-db layout).
    #[arg(long, value_name = "FILE")]
    geoip: Option<PathBuf>,
    /// Time zone of `[Local Time]` columns: UTC, an offset like +05:30, or an IANA name.
    #[arg(long, value_name = "ZONE", default_value = "UTC", value_parser = parse_zone)]
    tz: Zone,
    /// Order of numeric dates a file never settles (a field > 12 settles it): mdy or dmy.
    #[arg(long = "date-order", value_name = "ORDER", default_value = "mdy", value_parser = parse_order)]
    date_order: DateOrder,
    /// Neither read nor write load snapshots (the cache that reopens big inputs in a second).
    #[arg(long)]
    no_cache: bool,
    /// Cap on the snapshot cache (e.g. 5G, 500M). Default: 20 GiB or 25% of free space, whichever is smaller.
    #[arg(long, value_name = "SIZE", value_parser = rarity::snapshot::parse_size)]
    cache_limit: Option<u64>,
}

fn parse_zone(s: &str) -> Result<Zone, String> {
    s.parse()
}

fn parse_order(s: &str) -> Result<DateOrder, String> {
    s.parse()
}

fn parse_now(s: &str) -> Result<Nanos, String> {
    parse_rfc3339(s)
}

#[derive(Args, Debug, Clone, Default)]
struct TuiArgs {
    /// Export files or directories to load; `-` reads standard input. None: the built-in sample fleet.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    load: LoadArgs,
    /// Reference time for every window (RFC 3339). Default: the latest event loaded.
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    now: Option<Nanos>,
    /// Saved tuning file (default: the user's config directory, rarity/config.json).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Do not read or write the saved tuning.
    #[arg(long)]
    no_config: bool,
    /// Case file of verdicts and notes (default: the user's data directory, rarity/case.json).
    #[arg(long, value_name = "FILE")]
    case: Option<PathBuf>,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
enum InspectFormat {
    Table,
    Json,
}

#[derive(Args, Debug)]
struct InspectArgs {
    /// Export files or directories; `-` reads standard input. None with `--ti` or `--geoip`:
    /// check just those feeds or that database.
    #[arg(value_name = "PATH", required_unless_present_any = ["ti", "geoip"])]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    load: LoadArgs,
    /// Reference time to report (RFC 3339). Default: the latest event loaded.
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    now: Option<Nanos>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: InspectFormat,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
enum RunFormat {
    Table,
    Csv,
    Json,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// The hunt to run (see `rarity hunts`), or `all`.
    #[arg(value_name = "HUNT")]
    hunt: String,
    /// Export files or directories; `-` reads standard input. None: the built-in sample fleet.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    load: LoadArgs,
    /// Reference time for every window (RFC 3339). Default: the latest event loaded.
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    now: Option<Nanos>,
    /// Set a parameter: `key=value` (lists comma-separated; durations like 30d, 1h, 90m). Repeatable.
    /// With `all`, a bare key sets every hunt that has it and `hunt.key=value` sets one hunt.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: RunFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// CSV: write cells exactly, without the leading `'` that stops spreadsheets running formulas.
    #[arg(long)]
    csv_raw: bool,
    /// Saved tuning file to start from (default: the user's config directory).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Ignore the saved tuning: start from the defaults.
    #[arg(long)]
    no_config: bool,
    /// Case file: add each finding's `Verdict` and `Note` as the last columns.
    #[arg(long, value_name = "FILE")]
    case: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct CaseArgs {
    /// Export files or directories the hunts run over; `-` reads standard input. None: the built-in sample fleet.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    load: LoadArgs,
    /// Reference time for every window (RFC 3339). Default: the latest event loaded.
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    now: Option<Nanos>,
    /// Case file (default: the user's data directory, rarity/case.json).
    #[arg(long, value_name = "FILE")]
    case: Option<PathBuf>,
    /// Saved tuning the hunts run with (default: the user's config directory).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Ignore the saved tuning: run the hunts with their defaults.
    #[arg(long)]
    no_config: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: InspectFormat,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
enum PivotKind {
    /// RemoteIP or LocalIP equal (an IPv4-mapped address equals its IPv4 form).
    Ip,
    /// DeviceName (case-insensitive) or DeviceId.
    Device,
    /// InitiatingProcessFileName, case-insensitive.
    Process,
    /// InitiatingProcessMD5, SHA1 or SHA256, case-insensitive.
    Hash,
    /// RemoteUrl whose host is the domain or a subdomain of it.
    Domain,
}

#[derive(Args, Debug)]
struct PivotArgs {
    /// What VALUE is.
    #[arg(value_enum, value_name = "KIND")]
    kind: PivotKind,
    /// The IP, device, process, hash or domain.
    #[arg(value_name = "VALUE")]
    value: String,
    /// Export files or directories; `-` reads standard input. None: the built-in sample fleet.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    load: LoadArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: RunFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// CSV: write cells exactly, without the leading `'` that stops spreadsheets running formulas.
    #[arg(long)]
    csv_raw: bool,
}

#[derive(Args, Debug)]
struct CacheArgs {
    #[command(subcommand)]
    action: Option<CacheAction>,
}

#[derive(Subcommand, Debug, Clone, Copy, PartialEq, Eq)]
enum CacheAction {
    /// List the snapshots: when last used, size, rows, inputs.
    List,
    /// Remove every snapshot.
    Clear,
}

#[derive(Args, Debug)]
struct HuntsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: InspectFormat,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
enum GenFormatArg {
    Csv,
    Jsonl,
}

#[derive(Args, Debug)]
struct GenArgs {
    /// Directory to write the fleet into (created if missing).
    #[arg(value_name = "OUT_DIR")]
    out_dir: PathBuf,
    /// Number of devices.
    #[arg(long, default_value_t = 200)]
    devices: u32,
    /// Days of history.
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Number of network events (Defender, Sysmon and VMConnection rows, planted ones included).
    #[arg(long, default_value_t = 100_000)]
    events: u64,
    /// Random seed (same seed, same files).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Telemetry file format.
    #[arg(long, value_enum, default_value = "csv")]
    format: GenFormatArg,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
enum DialectArg {
    Defender,
    Sentinel,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
enum TiSourceArg {
    Ipsum,
    Inline,
    Sentinel,
}

#[derive(Args, Debug)]
struct KqlArgs {
    /// The hunt to write (see `rarity hunts`), or `all`.
    #[arg(value_name = "HUNT")]
    hunt: String,
    /// Threat-intel feeds (files or directories); only needed for `--ti-source inline`.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    load: LoadArgs,
    /// Set a parameter: `key=value`, as for `rarity run`. Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Saved tuning file to start from (default: the user's config directory).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Ignore the saved tuning: start from the defaults.
    #[arg(long)]
    no_config: bool,
    /// Where the query runs: Defender XDR advanced hunting or Sentinel / Log Analytics.
    #[arg(long, value_enum, default_value = "sentinel")]
    dialect: DialectArg,
    /// ti-inbound's threat intel: IPsum levels/N.txt via externaldata, the loaded feed inline, or Sentinel's TI table.
    #[arg(long = "ti-source", value_enum, default_value = "ipsum")]
    ti_source: TiSourceArg,
    /// Fixed reference time (RFC 3339) instead of now().
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    now: Option<Nanos>,
    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Case file: the query ends with `Verdict` and `Note` columns from its verdicts and notes.
    #[arg(long, value_name = "FILE")]
    case: Option<PathBuf>,
}

/// A user-facing failure with the exit status it maps to.
struct Failure {
    code: u8,
    message: String,
}

fn fail(code: u8, message: impl Into<String>) -> Failure {
    Failure { code, message: message.into() }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        fail(1, format!("{e:#}"))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        None => run_tui(cli.tui),
        Some(Cmd::Tui(a)) => run_tui(a),
        Some(Cmd::Inspect(a)) => inspect(a),
        Some(Cmd::Run(a)) => run(a),
        Some(Cmd::Hunts(a)) => hunts(a),
        Some(Cmd::Pivot(a)) => pivot(a),
        Some(Cmd::Gen(a)) => gen(a),
        Some(Cmd::Explain(a)) => explain(a),
        Some(Cmd::Sweep(a)) => sweep(a),
        Some(Cmd::Kql(a)) => kql(a),
        Some(Cmd::Case(a)) => case(a),
        Some(Cmd::Cache(a)) => cache(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("rarity: {}", rarity::text::sanitize_lines(&f.message));
            }
            ExitCode::from(f.code)
        }
    }
}

fn inputs_of(paths: &[PathBuf]) -> Vec<Input> {
    paths.iter().map(|p| if p.as_os_str() == "-" { Input::Stdin } else { Input::Path(p.clone()) }).collect()
}

fn load_options(l: &LoadArgs) -> LoadOptions {
    LoadOptions { zone: l.tz, date_order: l.date_order }
}

fn cache_options(l: &LoadArgs) -> CacheOptions {
    let mut c = CacheOptions::from_env();
    c.enabled = !l.no_cache;
    c.limit = l.cache_limit.or(c.limit);
    c
}

/// Load with a progress line on stderr when it is a terminal, through the snapshot cache.
fn load_cli(inputs: &[Input], l: &LoadArgs) -> Result<(Dataset, LoadReport, Origin), Failure> {
    load_cli_with(inputs, &[], l)
}

/// As `load_cli`, with extra feeds besides `--ti` (the sample fleet's own feed). A load from
/// the files that is worth a snapshot writes one before returning.
fn load_cli_with(inputs: &[Input], extra_ti: &[Input], l: &LoadArgs) -> Result<(Dataset, LoadReport, Origin), Failure> {
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
struct Totals {
    #[serde(rename = "DeviceNetworkEvents")]
    net: u64,
    #[serde(rename = "DeviceInfo")]
    dev: u64,
    #[serde(rename = "VMConnection")]
    vm: u64,
    #[serde(rename = "ThreatIntel")]
    ti: u64,
    devices: u64,
    earliest: Option<String>,
    latest: Option<String>,
    now: Option<String>,
    geoip: Option<String>,
    rejected: u64,
    /// Heap bytes held by the network-event table, and per event.
    net_memory_bytes: u64,
    net_bytes_per_event: Option<u64>,
    files_loaded: u64,
    files_skipped: u64,
}

fn totals(ds: &Dataset, report: &LoadReport, now: Option<Nanos>) -> Totals {
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
fn print_file_table(out: &mut impl Write, files: &[FileReport]) -> std::io::Result<()> {
    let mut text = Vec::new();
    write_file_table(&mut text, files)?;
    out.write_all(rarity::text::sanitize_lines(&String::from_utf8_lossy(&text)).as_bytes())
}

fn write_file_table(out: &mut impl Write, files: &[FileReport]) -> std::io::Result<()> {
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
                    writeln!(out, "  rejected: {} rows", rarity::model::thousands(f.rejected))?;
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
fn print_load_problems(files: &[FileReport]) {
    let safe = rarity::text::sanitize;
    for f in files {
        match &f.skipped {
            Some(r) => eprintln!("rarity: skipped {}: {}", safe(&f.path), safe(r)),
            None if f.rejected > 0 => {
                eprintln!("rarity: {}: {} rows rejected (see `rarity inspect`)", safe(&f.path), f.rejected)
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

fn inspect(a: InspectArgs) -> Result<(), Failure> {
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
                "Files:  {} loaded, {} skipped; {} rows rejected",
                t.files_loaded,
                t.files_skipped,
                rarity::model::thousands(t.rejected)
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

fn hunts(a: HuntsArgs) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    let res = if a.format == InspectFormat::Json {
        let v: Vec<serde_json::Value> = HuntId::all()
            .map(|h| {
                let s = h.spec();
                serde_json::json!({
                    "hunt": s.key, "title": s.title, "summary": s.summary, "needs": s.needs,
                    "parameters": s.params, "columns": s.columns.iter().map(|c| c.name).collect::<Vec<_>>(),
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&v).unwrap_or_default())
    } else {
        (|| {
            for h in HuntId::all() {
                let s = h.spec();
                writeln!(out, "{}  ({})\n  {}", s.key, s.title, s.summary)?;
                let needs: Vec<&str> = s
                    .needs
                    .iter()
                    .map(|n| match n {
                        rarity::hunt::Need::NetworkEvents => "network events (DeviceNetworkEvents or Sysmon EID 3)",
                        rarity::hunt::Need::DeviceInfo => "DeviceInfo",
                        rarity::hunt::Need::VmConnection => "VMConnection",
                        rarity::hunt::Need::ThreatIntel => "a threat-intel feed (--ti)",
                        rarity::hunt::Need::GeoIpOptional => "GeoIP database (--geoip, optional)",
                    })
                    .collect();
                writeln!(out, "  needs: {}", needs.join(", "))?;
                writeln!(out, "  columns: {}", s.columns.iter().map(|c| c.name).collect::<Vec<_>>().join(", "))?;
                writeln!(out, "  parameters:")?;
                let w = s.params.iter().map(|p| p.key.len()).max().unwrap_or(0);
                for p in s.params {
                    let kind = format!("{:?}", p.kind).to_lowercase();
                    let default = if p.default.is_empty() { "(empty)" } else { p.default };
                    writeln!(
                        out,
                        "    {:w$}  {:8}  {}\n    {:w$}  {:8}  default: {}",
                        p.key, kind, p.help, "", "", default
                    )?;
                }
                writeln!(out)?;
            }
            writeln!(out, "Set a parameter with `rarity run HUNT --set key=value`; lists take comma-separated items.")
        })()
    };
    res.map_err(|e| fail(1, format!("cannot write output: {e}")))
}

/// Which hunts `rarity run` was asked for.
fn hunts_named(name: &str) -> Result<Vec<HuntId>, Failure> {
    if name.eq_ignore_ascii_case("all") {
        return Ok(HuntId::all().collect());
    }
    HuntId::from_key(name).map(|h| vec![h]).ok_or_else(|| {
        let known: Vec<&str> = HuntId::all().map(|h| h.key()).collect();
        fail(2, format!("unknown hunt `{name}`; the hunts are: {}, or all", known.join(", ")))
    })
}

/// Starting parameters (saved tuning unless --no-config) with every `--set` applied.
/// With several hunts, `hunt.key=value` sets one hunt and a bare `key=value` every hunt that has it.
fn params_for(hunts: &[HuntId], a: &RunArgs) -> Result<Vec<HuntParams>, Failure> {
    tuned_params(hunts, &a.set, a.config.as_ref(), a.no_config)
}

/// `params_for` from its parts: the saved tuning (unless `no_config`) with `set` applied.
fn tuned_params(
    hunts: &[HuntId],
    set: &[String],
    config: Option<&PathBuf>,
    no_config: bool,
) -> Result<Vec<HuntParams>, Failure> {
    let config = if no_config { None } else { config.cloned().or_else(rarity::config::default_path) };
    let cfg = match &config {
        Some(path) => {
            let (cfg, warning) = rarity::config::Config::load(path);
            if let Some(w) = warning {
                eprintln!("rarity: {}", rarity::text::sanitize(&w));
            }
            cfg
        }
        None => rarity::config::Config::default(),
    };
    let saved: Vec<HuntParams> = hunts.iter().map(|h| cfg.params_for(*h)).collect();
    let mut params = saved.clone();
    rarity::hunt::params::apply_sets(&mut params, set).map_err(|e| fail(2, e.to_string()))?;
    // Tuning is never silent: say which parameters differ from the defaults, and from where.
    for (p, s) in params.iter().zip(&saved) {
        let from_saved: Vec<(String, String)> = s.changed();
        let parts: Vec<String> = p
            .changed()
            .into_iter()
            .map(|(k, v)| {
                let origin = if from_saved.iter().any(|(sk, sv)| *sk == k && *sv == v) {
                    match &config {
                        Some(path) => format!("saved tuning {}", path.display()),
                        None => "saved tuning".into(),
                    }
                } else {
                    "--set".into()
                };
                format!("{k}={v} ({origin})")
            })
            .collect();
        if !parts.is_empty() {
            eprintln!("rarity: {} tuned: {}", p.hunt.key(), rarity::text::sanitize(&parts.join("; ")));
        }
    }
    Ok(params)
}

/// Load `paths` (the built-in sample when empty) for the hunts, reporting rejected rows and
/// skipped files on stderr.
fn load_engine(paths: &[PathBuf], load: &LoadArgs) -> Result<Engine, Failure> {
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
    Ok(Engine::new(Arc::new(ds)))
}

/// Read a case file for the CLI. A corrupt file has been moved aside: say so and go on with
/// an empty case; any other problem is fatal.
fn load_case(path: &std::path::Path) -> Result<CaseFile, Failure> {
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
fn with_verdicts(o: &HuntOutput, case: Option<&CaseFile>) -> (Vec<ColumnSpec>, Vec<Vec<Cell>>) {
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

fn run(a: RunArgs) -> Result<(), Failure> {
    let hunts = hunts_named(&a.hunt)?;
    let params = params_for(&hunts, &a)?;
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
                    writeln!(out, "== {key}: {} ({} rows)", p.hunt.spec().summary, output.rows.len())?;
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
                let rows: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|r| {
                        let mut m = serde_json::Map::new();
                        for (c, v) in cols.iter().zip(r) {
                            m.insert(c.name.to_string(), v.to_json());
                        }
                        serde_json::Value::Object(m)
                    })
                    .collect();
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

/// `rarity case`: verdict counts per hunt, and the judged findings the current tuning no
/// longer shows (each hunt with judged findings runs with the saved tuning).
fn case(a: CaseArgs) -> Result<(), Failure> {
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

/// Where `run` and `pivot` write (`--output FILE` or standard output). The table is for people:
/// always made safe. CSV and JSON are data: exact bytes in files and pipes, made safe only when
/// they land on a terminal.
fn output_sink(path: Option<&std::path::Path>, format: RunFormat) -> Result<Box<dyn Write>, Failure> {
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

/// `rarity pivot`: every network event with the value, sorted by Timestamp, with the event
/// columns. A value that matches nothing prints nothing (exit 0); a malformed IP exits 2.
fn pivot(a: PivotArgs) -> Result<(), Failure> {
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
            let v: Vec<serde_json::Value> = cells
                .iter()
                .map(|r| {
                    let m: serde_json::Map<String, serde_json::Value> =
                        cols.iter().zip(r).map(|(c, v)| (c.name.to_string(), v.to_json())).collect();
                    serde_json::Value::Object(m)
                })
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&v).unwrap_or_default()).map_err(|e| e.to_string())
        }
    };
    res.and_then(|_| out.flush().map_err(|e| e.to_string())).map_err(|e| fail(1, format!("cannot write output: {e}")))
}

/// A cell for a terminal table: made safe (`rarity::text`) and, when wider than `max` columns,
/// cut to `max` columns and `…`.
fn sanitize_cell(s: &str, max: usize) -> String {
    let safe = rarity::text::sanitize(s);
    if rarity::text::width(&safe) <= max {
        return safe.into_owned();
    }
    rarity::text::fit(&safe, max + 1).into_owned()
}

fn write_table(out: &mut dyn Write, cols: &[rarity::hunt::ColumnSpec], rows: &[Vec<Cell>]) -> std::io::Result<()> {
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

fn gen(a: GenArgs) -> Result<(), Failure> {
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

/// The built-in sample fleet: its telemetry, plus its GeoIP database and feed unless the user
/// gave their own. Returns (inputs, extra feeds).
fn sample_inputs(l: &LoadArgs) -> (Vec<Input>, Vec<Input>) {
    let inputs = if l.geoip.is_none() { rarity::sample::all_inputs() } else { rarity::sample::inputs() };
    let ti = if l.ti.is_empty() { rarity::sample::ti_inputs() } else { Vec::new() };
    (inputs, ti)
}

fn run_tui(a: TuiArgs) -> Result<(), Failure> {
    let (inputs, mut ti) = if a.paths.is_empty() { sample_inputs(&a.load) } else { (inputs_of(&a.paths), Vec::new()) };
    ti.extend(inputs_of(&a.load.ti));
    let args = tui::TuiArgs {
        inputs,
        ti,
        geoip: a.load.geoip.clone(),
        now: a.now,
        load: load_options(&a.load),
        cache: cache_options(&a.load),
        config_path: a.config.clone(),
        no_config: a.no_config,
        case_path: a.case.clone(),
    };
    tui::run(args).map_err(|e| fail(1, format!("{e:#}")))
}

/// Arguments of `explain` and `sweep` that pick the data and the parameters, as `run` takes them.
#[derive(Args, Debug)]
struct TuneArgs {
    /// Export files or directories; `-` reads standard input. None: the built-in sample fleet.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    load: LoadArgs,
    /// Reference time for every window (RFC 3339). Default: the latest event loaded.
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    now: Option<Nanos>,
    /// Set a parameter: `key=value` (lists comma-separated; durations like 30d, 1h, 90m). Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: RunFormat,
    /// Saved tuning file to start from (default: the user's config directory).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Ignore the saved tuning: start from the defaults.
    #[arg(long)]
    no_config: bool,
}

#[derive(Args, Debug)]
struct ExplainArgs {
    /// The hunt to explain (see `rarity hunts`).
    #[arg(value_name = "HUNT")]
    hunt: String,
    #[command(flatten)]
    tune: TuneArgs,
    /// Case file: also count the verdicts of the rows that come out (table and JSON).
    #[arg(long, value_name = "FILE")]
    case: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct SweepArgs {
    /// The hunt (see `rarity hunts`).
    #[arg(value_name = "HUNT")]
    hunt: String,
    /// A numeric or duration parameter of the hunt.
    #[arg(value_name = "PARAM")]
    param: String,
    /// Values to try, comma-separated (default: a range around the current value).
    #[arg(long, value_name = "V1,V2,...")]
    values: Option<String>,
    #[command(flatten)]
    tune: TuneArgs,
}

/// One hunt's parameters (saved tuning and `--set`, as `run` applies them) and its engine.
fn tune_setup(hunt: &str, t: &TuneArgs) -> Result<(HuntParams, Engine), Failure> {
    let hunts = hunts_named(hunt)?;
    let [h] = hunts[..] else { return Err(fail(2, "name one hunt, not `all`")) };
    let as_run = RunArgs {
        hunt: h.key().to_string(),
        paths: Vec::new(),
        load: t.load.clone(),
        now: t.now,
        set: t.set.clone(),
        format: t.format,
        output: None,
        csv_raw: false,
        config: t.config.clone(),
        no_config: t.no_config,
        case: None,
    };
    let params = params_for(&[h], &as_run)?.pop().ok_or_else(|| fail(2, "no parameters"))?;
    let (inputs, ti) = if t.paths.is_empty() { sample_inputs(&t.load) } else { (inputs_of(&t.paths), Vec::new()) };
    let (ds, report, _) = load_cli_with(&inputs, &ti, &t.load)?;
    if !report.loaded_anything() {
        let mut err = std::io::stderr().lock();
        let _ = print_file_table(&mut err, &report.files);
        return Err(fail(2, "nothing usable was loaded"));
    }
    let engine = Engine::new(Arc::new(ds));
    let now = engine.resolve_now(t.now);
    for w in rarity::hunt::clock::clock_warnings(engine.dataset(), now) {
        eprintln!("rarity: warning: {}", sanitize_cell(&w.message, 400));
    }
    Ok((params, engine))
}

fn write_out(f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<(), Failure> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    f(&mut out).and_then(|_| out.flush()).map_err(|e| fail(1, format!("cannot write output: {e}")))
}

fn explain(a: ExplainArgs) -> Result<(), Failure> {
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
            writeln!(out, "{key}: {} rows at now {}", funnel.rows(), format_iso(now))?;
            let emptied = funnel.emptied_at();
            let w = funnel.steps.iter().map(|s| rarity::hunt::funnel::thousands(s.count).len()).max().unwrap_or(1);
            for (i, s) in funnel.steps.iter().enumerate() {
                let mark = if emptied == Some(i) { ">>" } else { "  " };
                writeln!(
                    out,
                    "{mark} {:6} {:>w$} {:7} {}",
                    s.step,
                    rarity::hunt::funnel::thousands(s.count),
                    s.unit.label(),
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

fn sweep(a: SweepArgs) -> Result<(), Failure> {
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

/// `rarity kql`: the hunt(s) as KQL with the saved tuning and every `--set` applied.
fn kql(a: KqlArgs) -> Result<(), Failure> {
    use rarity::hunt::kql::{Dialect, KqlOptions, TiSource};
    let hunts = hunts_named(&a.hunt)?;
    let as_run = RunArgs {
        hunt: a.hunt.clone(),
        paths: Vec::new(),
        load: a.load.clone(),
        now: a.now,
        set: a.set.clone(),
        format: RunFormat::Table,
        output: None,
        csv_raw: false,
        config: a.config.clone(),
        no_config: a.no_config,
        case: None,
    };
    let params = params_for(&hunts, &as_run)?;
    let case = a.case.as_deref().map(load_case).transpose()?;
    let ti_source = match a.ti_source {
        TiSourceArg::Ipsum => TiSource::Ipsum,
        TiSourceArg::Inline => TiSource::Inline,
        TiSourceArg::Sentinel => TiSource::Sentinel,
    };
    let inline_needed = ti_source == TiSource::Inline && hunts.contains(&rarity::hunt::ti_inbound::ID);
    if !inline_needed && (!a.paths.is_empty() || !a.load.ti.is_empty()) {
        return Err(fail(
            2,
            "PATH and --ti are only read for --ti-source inline with ti-inbound; the query needs no data",
        ));
    }
    let ds = if inline_needed {
        let (ds, _, _) = load_cli(&inputs_of(&a.paths), &a.load)?;
        Some(ds)
    } else {
        None
    };
    // SOURCE_DATE_EPOCH (reproducible builds' convention) fixes the header's time.
    let written = match std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|v| v.trim().parse::<i64>().ok()) {
        Some(secs) => secs.saturating_mul(1_000_000_000),
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)),
    };
    let dialect = match a.dialect {
        DialectArg::Defender => Dialect::Defender,
        DialectArg::Sentinel => Dialect::Sentinel,
    };
    let opts = KqlOptions {
        dialect,
        ti_source,
        now: a.now,
        version: env!("CARGO_PKG_VERSION").to_string(),
        written: Some(written),
    };
    let all = hunts.len() > 1;
    let mut text = String::new();
    for p in &params {
        let h = p.hunt;
        match h.hunt().kql(p, &opts, ds.as_ref().map(|d| &d.ti)) {
            Ok(q) => {
                if all {
                    text.push_str(&format!("// ===== rarity hunt {} ({}) =====\n", h.key(), h.spec().title));
                }
                text.push_str(&q);
                if let Some(case) = &case {
                    if !q.ends_with('\n') {
                        text.push('\n');
                    }
                    text.push_str(&case.kql_columns(h));
                }
                text.push('\n');
            }
            // `all` in a dialect a hunt has no form in: say so in place of the query.
            Err(e @ rarity::hunt::kql::KqlError::NoForm { .. }) if all => {
                text.push_str(&format!(
                    "// ===== rarity hunt {} ({}) =====\n// skipped: {e}\n\n",
                    h.key(),
                    h.spec().title
                ));
            }
            Err(e) => return Err(fail(2, format!("kql {}: {e}", h.key()))),
        }
    }
    let res = match &a.output {
        Some(path) => {
            std::fs::write(path, text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))
        }
        None => std::io::stdout().lock().write_all(text.as_bytes()).map_err(|e| format!("cannot write output: {e}")),
    };
    res.map_err(|m| fail(1, m))
}

/// `rarity cache [list|clear]`: the snapshot cache directory.
fn cache(a: CacheArgs) -> Result<(), Failure> {
    let opts = CacheOptions::from_env();
    let Some(dir) = opts.resolved_dir() else {
        return Err(fail(1, "no cache directory on this system"));
    };
    let shown = sanitize_cell(&dir.display().to_string(), 200);
    let mut out = std::io::stdout().lock();
    let size = |b: u64| {
        let mib = b as f64 / (1024.0 * 1024.0);
        if mib >= 1024.0 {
            format!("{:.1} GiB", mib / 1024.0)
        } else {
            format!("{mib:.1} MiB")
        }
    };
    let res = match a.action.unwrap_or(CacheAction::List) {
        CacheAction::Clear => {
            let (n, bytes) = snapshot::clear(&dir).map_err(|e| fail(1, format!("cannot clear {shown}: {e}")))?;
            writeln!(out, "removed {n} snapshot files ({}) from {shown}", size(bytes))
        }
        CacheAction::List => (|| {
            let entries = snapshot::list(&dir);
            let total: u64 = entries.iter().map(|e| e.bytes).sum();
            let limit = snapshot::default_limit(&dir);
            writeln!(
                out,
                "{shown}: {} snapshot{}, {} (limit {} unless --cache-limit)",
                entries.len(),
                if entries.len() == 1 { "" } else { "s" },
                size(total),
                size(limit)
            )?;
            for e in &entries {
                let used = e
                    .last_used
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| format_iso(d.as_secs() as Nanos * 1_000_000_000))
                    .unwrap_or_default()
                    .chars()
                    .take(19)
                    .collect::<String>()
                    .replace('T', " ");
                let what = match &e.summary {
                    Ok(s) => {
                        let rows = s.rows.net + s.rows.dev + s.rows.vm;
                        let inputs = s.inputs.join(", ");
                        format!("{} rows  {}", rarity::model::thousands(rows), sanitize_cell(&inputs, 120))
                    }
                    Err(why) => format!("unusable ({}): replaced on next load", sanitize_cell(why, 80)),
                };
                writeln!(out, "  {used}  {:>10}  {what}", size(e.bytes))?;
            }
            Ok(())
        })(),
    };
    res.map_err(|e| fail(1, format!("cannot write output: {e}")))
}
