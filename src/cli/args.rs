//! The command line's arguments (clap): every subcommand and its options.

#[allow(unused_imports)]
use crate::*;

#[derive(Parser, Debug)]
#[command(
    name = "rarity",
    version,
    about = "Hunt rare network behaviour in Defender XDR, Sentinel, Sysmon and VMConnection exports",
    long_about = "Hunt rare network behaviour in Defender XDR, Sentinel, Sysmon and VMConnection exports.\n\n\
        With no subcommand, opens the hunting TUI on the given files (or on the built-in sample fleet when none are given).",
    args_conflicts_with_subcommands = true
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) cmd: Option<Cmd>,
    #[command(flatten)]
    pub(crate) tui: TuiArgs,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Cmd {
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
pub(crate) struct LoadArgs {
    /// Threat-intel feed (IPsum ipsum.txt, levels/N.txt, IP or CIDR list). Repeatable.
    #[arg(long = "ti", value_name = "FILE")]
    pub(crate) ti: Vec<PathBuf>,
    /// GeoIP country database (.mmdb, MaxMind/DB-IP or ip-location-db layout).
    #[arg(long, value_name = "FILE")]
    pub(crate) geoip: Option<PathBuf>,
    /// Time zone of `[Local Time]` columns: UTC, an offset like +05:30, or an IANA name.
    #[arg(long, value_name = "ZONE", default_value = "UTC", value_parser = parse_zone)]
    pub(crate) tz: Zone,
    /// Order of numeric dates a file never settles (a field > 12 settles it): mdy or dmy.
    #[arg(long = "date-order", value_name = "ORDER", default_value = "mdy", value_parser = parse_order)]
    pub(crate) date_order: DateOrder,
    /// Neither read nor write load snapshots (the cache that reopens big inputs in a second).
    #[arg(long)]
    pub(crate) no_cache: bool,
    /// Cap on the snapshot cache (e.g. 5G, 500M). Default: 20 GiB or 25% of free space, whichever is smaller.
    #[arg(long, value_name = "SIZE", value_parser = rarity::snapshot::parse_size)]
    pub(crate) cache_limit: Option<u64>,
}

pub(crate) fn parse_zone(s: &str) -> Result<Zone, String> {
    s.parse()
}

pub(crate) fn parse_order(s: &str) -> Result<DateOrder, String> {
    s.parse()
}

pub(crate) fn parse_now(s: &str) -> Result<Nanos, String> {
    parse_rfc3339(s)
}

#[derive(Args, Debug, Clone, Default)]
pub(crate) struct TuiArgs {
    /// Export files or directories to load; `-` reads standard input. None: the built-in sample fleet.
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) load: LoadArgs,
    /// Reference time for every window (RFC 3339). Default: the latest event loaded.
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub(crate) now: Option<Nanos>,
    /// Saved tuning file (default: the user's config directory, rarity/config.json).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Do not read or write the saved tuning.
    #[arg(long)]
    pub(crate) no_config: bool,
    /// Case file of verdicts and notes (default: the user's data directory, rarity/case.json).
    #[arg(long, value_name = "FILE")]
    pub(crate) case: Option<PathBuf>,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum InspectFormat {
    Table,
    Json,
}

#[derive(Args, Debug)]
pub(crate) struct InspectArgs {
    /// Export files or directories; `-` reads standard input. None with `--ti` or `--geoip`:
    /// check just those feeds or that database.
    #[arg(value_name = "PATH", required_unless_present_any = ["ti", "geoip"])]
    pub(crate) paths: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) load: LoadArgs,
    /// Reference time to report (RFC 3339). Default: the latest event loaded.
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub(crate) now: Option<Nanos>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: InspectFormat,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum RunFormat {
    Table,
    Csv,
    Json,
}

#[derive(Args, Debug)]
pub(crate) struct RunArgs {
    /// The hunt to run (see `rarity hunts`), or `all`.
    #[arg(value_name = "HUNT")]
    pub(crate) hunt: String,
    /// Export files or directories; `-` reads standard input. None: the built-in sample fleet.
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) load: LoadArgs,
    /// Reference time for every window (RFC 3339). Default: the latest event loaded.
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub(crate) now: Option<Nanos>,
    #[command(flatten)]
    pub(crate) tuning: TuningArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: RunFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// CSV: write cells exactly, without the leading `'` that stops spreadsheets running formulas.
    #[arg(long)]
    pub(crate) csv_raw: bool,
    /// Case file: add each finding's `Verdict` and `Note` as the last columns.
    #[arg(long, value_name = "FILE")]
    pub(crate) case: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub(crate) struct CaseArgs {
    /// Export files or directories the hunts run over; `-` reads standard input. None: the built-in sample fleet.
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) load: LoadArgs,
    /// Reference time for every window (RFC 3339). Default: the latest event loaded.
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub(crate) now: Option<Nanos>,
    /// Case file (default: the user's data directory, rarity/case.json).
    #[arg(long, value_name = "FILE")]
    pub(crate) case: Option<PathBuf>,
    /// Saved tuning the hunts run with (default: the user's config directory).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Ignore the saved tuning: run the hunts with their defaults.
    #[arg(long)]
    pub(crate) no_config: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: InspectFormat,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum PivotKind {
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
pub(crate) struct PivotArgs {
    /// What VALUE is.
    #[arg(value_enum, value_name = "KIND")]
    pub(crate) kind: PivotKind,
    /// The IP, device, process, hash or domain.
    #[arg(value_name = "VALUE")]
    pub(crate) value: String,
    /// Export files or directories; `-` reads standard input. None: the built-in sample fleet.
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) load: LoadArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: RunFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// CSV: write cells exactly, without the leading `'` that stops spreadsheets running formulas.
    #[arg(long)]
    pub(crate) csv_raw: bool,
}

#[derive(Args, Debug)]
pub(crate) struct CacheArgs {
    #[command(subcommand)]
    pub(crate) action: Option<CacheAction>,
}

#[derive(Subcommand, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CacheAction {
    /// List the snapshots: when last used, size, rows, inputs.
    List,
    /// Remove every snapshot.
    Clear,
}

#[derive(Args, Debug)]
pub(crate) struct HuntsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: InspectFormat,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum GenFormatArg {
    Csv,
    Jsonl,
}

#[derive(Args, Debug)]
pub(crate) struct GenArgs {
    /// Directory to write the fleet into (created if missing).
    #[arg(value_name = "OUT_DIR")]
    pub(crate) out_dir: PathBuf,
    /// Number of devices.
    #[arg(long, default_value_t = 200)]
    pub(crate) devices: u32,
    /// Days of history.
    #[arg(long, default_value_t = 30)]
    pub(crate) days: u32,
    /// Number of network events (Defender, Sysmon and VMConnection rows, planted ones included).
    #[arg(long, default_value_t = 100_000)]
    pub(crate) events: u64,
    /// Random seed (same seed, same files).
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Telemetry file format.
    #[arg(long, value_enum, default_value = "csv")]
    pub(crate) format: GenFormatArg,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum DialectArg {
    Defender,
    Sentinel,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum TiSourceArg {
    Ipsum,
    Inline,
    Sentinel,
}

#[derive(Args, Debug)]
pub(crate) struct KqlArgs {
    /// The hunt to write (see `rarity hunts`), or `all`.
    #[arg(value_name = "HUNT")]
    pub(crate) hunt: String,
    /// Threat-intel feeds (files or directories); only needed for `--ti-source inline`.
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) load: LoadArgs,
    #[command(flatten)]
    pub(crate) tuning: TuningArgs,
    /// Where the query runs: Defender XDR advanced hunting or Sentinel / Log Analytics.
    #[arg(long, value_enum, default_value = "sentinel")]
    pub(crate) dialect: DialectArg,
    /// ti-inbound's threat intel: IPsum levels/N.txt via externaldata, the loaded feed inline, or Sentinel's TI table.
    #[arg(long = "ti-source", value_enum, default_value = "ipsum")]
    pub(crate) ti_source: TiSourceArg,
    /// Fixed reference time (RFC 3339) instead of now().
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub(crate) now: Option<Nanos>,
    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Case file: the query ends with `Verdict` and `Note` columns from its verdicts and notes.
    #[arg(long, value_name = "FILE")]
    pub(crate) case: Option<PathBuf>,
}

/// Arguments of `explain` and `sweep` that pick the data and the parameters, as `run` takes them.
#[derive(Args, Debug)]
pub(crate) struct TuneArgs {
    /// Export files or directories; `-` reads standard input. None: the built-in sample fleet.
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) load: LoadArgs,
    /// Reference time for every window (RFC 3339). Default: the latest event loaded.
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub(crate) now: Option<Nanos>,
    #[command(flatten)]
    pub(crate) tuning: TuningArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: RunFormat,
}

/// The parameters a command runs hunts with: the saved tuning (or the defaults) and `--set`s.
#[derive(Args, Debug, Clone)]
pub(crate) struct TuningArgs {
    /// Set a parameter: `key=value` (lists comma-separated; durations like 30d, 1h, 90m). Repeatable.
    /// With `all`, a bare key sets every hunt that has it and `hunt.key=value` sets one hunt.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub(crate) set: Vec<String>,
    /// Saved tuning file to start from (default: the user's config directory).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Ignore the saved tuning: start from the defaults.
    #[arg(long)]
    pub(crate) no_config: bool,
}

#[derive(Args, Debug)]
pub(crate) struct ExplainArgs {
    /// The hunt to explain (see `rarity hunts`).
    #[arg(value_name = "HUNT")]
    pub(crate) hunt: String,
    #[command(flatten)]
    pub(crate) tune: TuneArgs,
    /// Case file: also count the verdicts of the rows that come out (table and JSON).
    #[arg(long, value_name = "FILE")]
    pub(crate) case: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub(crate) struct SweepArgs {
    /// The hunt (see `rarity hunts`).
    #[arg(value_name = "HUNT")]
    pub(crate) hunt: String,
    /// A numeric or duration parameter of the hunt.
    #[arg(value_name = "PARAM")]
    pub(crate) param: String,
    /// Values to try, comma-separated (default: a range around the current value).
    #[arg(long, value_name = "V1,V2,...")]
    pub(crate) values: Option<String>,
    #[command(flatten)]
    pub(crate) tune: TuneArgs,
}
