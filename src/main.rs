//! The `rarity` command line: the TUI (default), `inspect`, `run`, `hunts`, `gen`.

mod tui;

use clap::{Args, Parser, Subcommand, ValueEnum};
use rarity::hunt::HuntId;
use rarity::ingest::{self, FileReport, Input, LoadOptions, LoadReport, Progress};
use rarity::model::time::{format_iso, parse_rfc3339, DateOrder, Nanos, Zone};
use rarity::Dataset;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

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
    /// Write a synthetic fleet with planted findings (for demos and benchmarks).
    Gen(GenArgs),
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
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
enum InspectFormat {
    Table,
    Json,
}

#[derive(Args, Debug)]
struct InspectArgs {
    /// Export files or directories; `-` reads standard input.
    #[arg(value_name = "PATH", required = true)]
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
    /// Number of network events (Defender + Sysmon).
    #[arg(long, default_value_t = 100_000)]
    events: u64,
    /// Random seed (same seed, same files).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Telemetry file format.
    #[arg(long, value_enum, default_value = "csv")]
    format: GenFormatArg,
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
        Some(Cmd::Gen(a)) => gen(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("rarity: {}", f.message);
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

/// Load with a progress line on stderr when it is a terminal.
fn load_cli(inputs: &[Input], l: &LoadArgs) -> Result<(Dataset, LoadReport), Failure> {
    let ti = inputs_of(&l.ti);
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
                p.current.chars().rev().take(50).collect::<Vec<_>>().into_iter().rev().collect::<String>()
            );
        }
    };
    let cancel = AtomicBool::new(false);
    let result = ingest::load(inputs, &ti, l.geoip.as_deref(), &load_options(l), &progress, &cancel);
    if show {
        eprint!("\r\x1b[2K");
    }
    result.map_err(|e| fail(1, e.to_string()))
}

fn fmt_count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
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
        files_loaded: report.files.iter().filter(|f| f.skipped.is_none()).count() as u64,
        files_skipped: report.files.iter().filter(|f| f.skipped.is_some()).count() as u64,
    }
}

fn print_file_table(out: &mut impl Write, files: &[FileReport]) -> std::io::Result<()> {
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
                        parts.push(format!("{} {}", fmt_count(n), name));
                    }
                }
                if parts.is_empty() {
                    parts.push("0 rows".into());
                }
                writeln!(out, "  loaded:   {}", parts.join(", "))?;
                if f.rejected > 0 {
                    writeln!(out, "  rejected: {} rows", fmt_count(f.rejected))?;
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

fn inspect(a: InspectArgs) -> Result<(), Failure> {
    let inputs = inputs_of(&a.paths);
    let (ds, report) = load_cli(&inputs, &a.load)?;
    let t = totals(&ds, &report, a.now);
    let mut out = std::io::stdout().lock();
    let res = match a.format {
        InspectFormat::Json => {
            let v = serde_json::json!({ "files": report.files, "totals": t });
            writeln!(out, "{}", serde_json::to_string_pretty(&v).unwrap_or_default())
        }
        InspectFormat::Table => (|| {
            print_file_table(&mut out, &report.files)?;
            writeln!(out)?;
            writeln!(
                out,
                "Totals: {} DeviceNetworkEvents, {} DeviceInfo, {} VMConnection, {} threat-intel entries",
                fmt_count(t.net),
                fmt_count(t.dev),
                fmt_count(t.vm),
                fmt_count(t.ti)
            )?;
            writeln!(
                out,
                "Files:  {} loaded, {} skipped; {} rows rejected",
                t.files_loaded,
                t.files_skipped,
                fmt_count(t.rejected)
            )?;
            writeln!(out, "Devices: {}", fmt_count(t.devices))?;
            match (&t.earliest, &t.latest) {
                (Some(a), Some(b)) => writeln!(out, "Time range: {a} .. {b}")?,
                _ => writeln!(out, "Time range: (no events)")?,
            }
            writeln!(out, "Reference now: {}", t.now.as_deref().unwrap_or("(none)"))?;
            writeln!(out, "GeoIP: {}", t.geoip.as_deref().unwrap_or("none (use --geoip FILE)"))
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
        let v: Vec<serde_json::Value> = HuntId::ALL
            .iter()
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
            for h in HuntId::ALL {
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

fn run(_a: RunArgs) -> Result<(), Failure> {
    Err(fail(1, "run: not wired yet"))
}

fn gen(_a: GenArgs) -> Result<(), Failure> {
    Err(fail(1, "gen: not wired yet"))
}

fn run_tui(a: TuiArgs) -> Result<(), Failure> {
    if a.paths.is_empty() {
        return Err(fail(2, "give export files or directories to open (the built-in sample fleet is not wired yet)"));
    }
    let args = tui::TuiArgs {
        inputs: inputs_of(&a.paths),
        ti: inputs_of(&a.load.ti),
        geoip: a.load.geoip.clone(),
        now: a.now,
        load: load_options(&a.load),
        config_path: a.config.clone(),
        no_config: a.no_config,
    };
    tui::run(args).map_err(|e| fail(1, format!("{e:#}")))
}
