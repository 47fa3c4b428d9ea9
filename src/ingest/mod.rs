//! Loading: recognize each input by its content, hand it to the reader for its format, and
//! gather rows, rejects and warnings into a `Dataset` and a `LoadReport`.
//!
//! Every reader reports `file:line` for a rejected row and keeps going; a file that cannot be
//! read at all is reported as skipped and the others still load.

pub mod columns;
pub mod csv;
pub mod evtx;
pub mod json;
pub mod sink;
pub mod sniff;
pub mod sysmon;
pub mod sysmon_xml;

use crate::enrich::{geoip::GeoIp, ti::ThreatIntel};
use crate::model::time::{DateOrder, Zone};
use crate::model::TableKind;
use crate::store::Dataset;
pub use sink::{FileSink, Reject, SinkOptions};
use sniff::Kind;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Errors that stop one file (it is then reported as skipped) or the whole load.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("loading cancelled")]
    Cancelled,
}

impl LoadError {
    /// The message without the path (reports already show the path).
    pub fn reason(&self) -> String {
        match self {
            LoadError::Io { source, .. } => format!("cannot read: {source}"),
            LoadError::Unreadable { reason, .. } => reason.clone(),
            LoadError::Cancelled => "loading cancelled".into(),
        }
    }
}

/// One input as the user named it.
#[derive(Clone, Debug)]
pub enum Input {
    Path(PathBuf),
    Stdin,
    /// Bytes compiled into the binary (the built-in sample fleet).
    Embedded {
        name: String,
        bytes: &'static [u8],
    },
}

impl Input {
    pub fn display(&self) -> String {
        match self {
            Input::Path(p) => p.display().to_string(),
            Input::Stdin => "-".into(),
            Input::Embedded { name, .. } => name.clone(),
        }
    }
}

/// The bytes of one file to read: a path streamed from disk, or bytes already in memory.
#[derive(Clone, Debug)]
pub enum SourceData {
    File(PathBuf),
    Memory(Arc<[u8]>),
    Static(&'static [u8]),
}

impl SourceData {
    /// A fresh reader over the whole content.
    pub fn open(&self) -> std::io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            SourceData::File(p) => Box::new(std::fs::File::open(p)?),
            SourceData::Memory(b) => Box::new(std::io::Cursor::new(b.clone())),
            SourceData::Static(b) => Box::new(*b),
        })
    }

    pub fn len(&self) -> u64 {
        match self {
            SourceData::File(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
            SourceData::Memory(b) => b.len() as u64,
            SourceData::Static(b) => b.len() as u64,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Read the whole content (for formats parsed as one document).
    pub fn read_all(&self) -> std::io::Result<Vec<u8>> {
        let mut v = Vec::new();
        self.open()?.read_to_end(&mut v)?;
        Ok(v)
    }
}

/// A loaded source: enough to re-read any of its rows for the raw-event view.
#[derive(Clone, Debug)]
pub struct SourceInfo {
    pub display: String,
    pub data: SourceData,
    pub kind: Kind,
    /// Reader-specific: the CSV header, the JSON column list, ...
    pub columns: Vec<String>,
}

/// Options for a load.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadOptions {
    /// Zone for `[Local Time]` columns.
    pub zone: Zone,
    /// Order for numeric dates a file never settles.
    pub date_order: DateOrder,
}

impl LoadOptions {
    pub fn sink(&self) -> SinkOptions {
        SinkOptions { zone: self.zone, date_order: self.date_order }
    }
}

/// A progress snapshot, sent to the caller's callback.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    pub files_total: usize,
    pub files_done: usize,
    pub bytes_total: u64,
    pub bytes_done: u64,
    pub rows: u64,
    pub current: String,
}

/// Shared progress counters; readers add to them from any thread.
pub struct Tracker<'a> {
    bytes: AtomicU64,
    rows: AtomicU64,
    state: Mutex<(Progress, Instant)>,
    callback: &'a (dyn Fn(&Progress) + Sync),
    cancel: &'a AtomicBool,
}

impl<'a> Tracker<'a> {
    pub fn new(callback: &'a (dyn Fn(&Progress) + Sync), cancel: &'a AtomicBool) -> Self {
        Tracker {
            bytes: AtomicU64::new(0),
            rows: AtomicU64::new(0),
            state: Mutex::new((Progress::default(), Instant::now())),
            callback,
            cancel,
        }
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Err(Cancelled) when the user asked to stop.
    pub fn check(&self) -> Result<(), LoadError> {
        if self.cancelled() {
            Err(LoadError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Readers call this as they go; the callback fires at most every 50 ms.
    pub fn advance(&self, bytes: u64, rows: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.rows.fetch_add(rows, Ordering::Relaxed);
        self.emit(false);
    }

    fn emit(&self, force: bool) {
        let Ok(mut st) = self.state.lock() else { return };
        if !force && st.1.elapsed() < Duration::from_millis(50) {
            return;
        }
        st.1 = Instant::now();
        st.0.bytes_done = self.bytes.load(Ordering::Relaxed);
        st.0.rows = self.rows.load(Ordering::Relaxed);
        (self.callback)(&st.0);
    }

    fn update(&self, f: impl FnOnce(&mut Progress)) {
        if let Ok(mut st) = self.state.lock() {
            f(&mut st.0);
        }
        self.emit(true);
    }
}

/// Per-table row counts of one file.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TableCounts {
    #[serde(rename = "DeviceNetworkEvents")]
    pub net: u64,
    #[serde(rename = "DeviceInfo")]
    pub dev: u64,
    #[serde(rename = "VMConnection")]
    pub vm: u64,
    #[serde(rename = "ThreatIntel")]
    pub ti: u64,
}

/// What happened to one input file.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct FileReport {
    pub path: String,
    /// Human name of the recognized format, e.g. "Defender portal CSV".
    pub format: Option<String>,
    pub rows: TableCounts,
    pub rejected: u64,
    /// The first few rejects, as `file:line: reason`.
    pub rejects: Vec<String>,
    pub warnings: Vec<String>,
    pub skipped: Option<String>,
    /// Columns the hunts read that the file lacks (read as empty).
    pub missing_columns: Vec<String>,
    /// Columns rarity does not interpret (kept in the file for the raw-event view).
    pub unknown_columns: Vec<String>,
}

/// What a whole load did.
#[derive(Clone, Debug, Default)]
pub struct LoadReport {
    pub files: Vec<FileReport>,
}

impl LoadReport {
    pub fn loaded_anything(&self) -> bool {
        self.files.iter().any(|f| {
            f.skipped.is_none()
                && (f.rows.net + f.rows.dev + f.rows.vm + f.rows.ti > 0
                    || f.format.as_deref().is_some_and(|x| x.contains("GeoIP")))
        })
    }
}

/// Context handed to a reader for one file.
pub struct ReadCtx<'a, 'b> {
    pub opts: &'a LoadOptions,
    pub tracker: &'a Tracker<'b>,
    pub source: &'a mut SourceInfo,
    /// Set by the reader: what it recognized, e.g. "Sentinel CSV (Event table, Sysmon XML)".
    pub format: String,
    pub warnings: Vec<String>,
}

/// Expand directories (sorted, non-recursive into hidden entries) into files.
fn expand(inputs: &[Input], reports: &mut Vec<FileReport>) -> Vec<Input> {
    let mut out = Vec::new();
    for input in inputs {
        match input {
            Input::Path(p) if p.is_dir() => {
                let mut stack = vec![p.clone()];
                let mut files = Vec::new();
                while let Some(dir) = stack.pop() {
                    match std::fs::read_dir(&dir) {
                        Ok(rd) => {
                            for e in rd.flatten() {
                                let path = e.path();
                                let hidden =
                                    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
                                if hidden {
                                    continue;
                                }
                                if path.is_dir() {
                                    stack.push(path);
                                } else {
                                    files.push(path);
                                }
                            }
                        }
                        Err(e) => reports.push(FileReport {
                            path: dir.display().to_string(),
                            skipped: Some(format!("cannot list directory: {e}")),
                            ..Default::default()
                        }),
                    }
                }
                files.sort();
                out.extend(files.into_iter().map(Input::Path));
            }
            other => out.push(other.clone()),
        }
    }
    out
}

/// Load telemetry, threat-intel feeds and a GeoIP database into one dataset.
///
/// `inputs` are telemetry files or directories (a directory may also hold feeds and `.mmdb`
/// files, recognized by content); `ti` are feed files given with `--ti`; `geoip` with `--geoip`.
pub fn load(
    inputs: &[Input],
    ti: &[Input],
    geoip: Option<&Path>,
    opts: &LoadOptions,
    progress: &(dyn Fn(&Progress) + Sync),
    cancel: &AtomicBool,
) -> Result<(Dataset, LoadReport), LoadError> {
    let tracker = Tracker::new(progress, cancel);
    let mut report = LoadReport::default();
    let mut files = expand(inputs, &mut report.files);
    let ti_files = expand(ti, &mut report.files);
    let total_bytes: u64 = files
        .iter()
        .chain(ti_files.iter())
        .map(|i| match i {
            Input::Path(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
            Input::Embedded { bytes, .. } => bytes.len() as u64,
            Input::Stdin => 0,
        })
        .sum();
    let n_files = files.len() + ti_files.len() + usize::from(geoip.is_some());
    tracker.update(|p| {
        p.files_total = n_files;
        p.bytes_total = total_bytes;
    });

    let mut ds = Dataset::default();
    let mut feed = ThreatIntel::default();
    let mut geo: Option<GeoIp> = None;
    if let Some(g) = geoip {
        let mut fr = FileReport { path: g.display().to_string(), ..Default::default() };
        match GeoIp::open(g) {
            Ok(db) => {
                fr.format = Some(format!("GeoIP database ({})", db.description()));
                geo = Some(db);
            }
            Err(e) => fr.skipped = Some(e.reason()),
        }
        report.files.push(fr);
        tracker.update(|p| p.files_done += 1);
    }

    let forced_ti: Vec<bool> =
        std::iter::repeat_n(false, files.len()).chain(std::iter::repeat_n(true, ti_files.len())).collect();
    files.extend(ti_files);
    for (input, is_ti) in files.iter().zip(forced_ti) {
        tracker.check()?;
        let display = input.display();
        tracker.update(|p| p.current = display.clone());
        let mut fr = FileReport { path: display.clone(), ..Default::default() };
        let data = match input {
            Input::Path(p) => SourceData::File(p.clone()),
            Input::Embedded { bytes, .. } => SourceData::Static(bytes),
            Input::Stdin => {
                let mut buf = Vec::new();
                if let Err(e) = std::io::stdin().lock().read_to_end(&mut buf) {
                    fr.skipped = Some(format!("cannot read standard input: {e}"));
                    report.files.push(fr);
                    continue;
                }
                tracker.update(|p| p.bytes_total += buf.len() as u64);
                SourceData::Memory(buf.into())
            }
        };
        let sniffed = match sniff::sniff(&data) {
            Ok(k) => k,
            Err(reason) => {
                fr.skipped = Some(reason);
                report.files.push(fr);
                tracker.update(|p| p.files_done += 1);
                continue;
            }
        };
        let kind = if is_ti && !matches!(sniffed, Kind::ThreatIntel) {
            // `--ti` names a feed: read it as one even if it does not look like a list,
            // so its bad lines are reported rather than the file being skipped.
            Kind::ThreatIntel
        } else {
            sniffed
        };
        match kind {
            Kind::ThreatIntel => match feed.read_list(&data, &display, &tracker) {
                Ok(r) => {
                    fr.format = Some(r.format);
                    fr.rows.ti = r.entries;
                    fr.rejected = r.rejected;
                    fr.rejects = r.rejects.iter().map(|x| format!("{display}:{}: {}", x.line, x.reason)).collect();
                    fr.warnings = r.warnings;
                }
                Err(e) => fr.skipped = Some(e.reason()),
            },
            Kind::Mmdb => match GeoIp::from_data(&data, &display) {
                Ok(db) => match &geo {
                    Some(used) => {
                        fr.skipped =
                            Some(format!("not used: the GeoIP database {} is already in use", used.description()))
                    }
                    None => {
                        fr.format = Some(format!("GeoIP database ({})", db.description()));
                        geo = Some(db);
                    }
                },
                Err(e) => fr.skipped = Some(e.reason()),
            },
            Kind::Unrecognized(reason) => fr.skipped = Some(reason),
            kind => {
                let source_id = ds.sources.len() as u32;
                let mut source = SourceInfo { display: display.clone(), data, kind: kind.clone(), columns: Vec::new() };
                let mut ctx = ReadCtx {
                    opts,
                    tracker: &tracker,
                    source: &mut source,
                    format: String::new(),
                    warnings: Vec::new(),
                };
                let result = match &kind {
                    Kind::Csv => csv::read(&mut ctx),
                    Kind::JsonDocument | Kind::JsonLines => json::read(&mut ctx),
                    Kind::Evtx => evtx::read(&mut ctx),
                    _ => unreachable!("handled above"),
                };
                fr.format = Some(std::mem::take(&mut ctx.format));
                fr.warnings = std::mem::take(&mut ctx.warnings);
                match result {
                    Ok(mut sink) => {
                        fr.warnings.extend(sink.finish());
                        fr.rows.net = sink.net.len() as u64;
                        fr.rows.dev = sink.dev.len() as u64;
                        fr.rows.vm = sink.vm.len() as u64;
                        fr.rejected = sink.rejected;
                        fr.rejects =
                            sink.rejects.iter().map(|r| format!("{display}:{}: {}", r.line, r.reason)).collect();
                        if matches!(source.kind, Kind::Csv | Kind::JsonDocument) && !source.columns.is_empty() {
                            let map = columns::ColumnMap::new(&source.columns);
                            fr.missing_columns = map.missing_columns().into_iter().map(String::from).collect();
                            fr.unknown_columns = map.unknown_columns();
                        }
                        if fr.rows.net + fr.rows.dev + fr.rows.vm > 0 {
                            ds.net.append(sink.net, source_id);
                            ds.devinfo.append(sink.dev, source_id);
                            ds.vm.append(sink.vm, source_id);
                            ds.sources.push(source);
                        }
                    }
                    Err(LoadError::Cancelled) => return Err(LoadError::Cancelled),
                    Err(e) => {
                        fr.skipped = Some(e.reason());
                        if fr.format.as_deref() == Some("") {
                            fr.format = None;
                        }
                    }
                }
            }
        }
        report.files.push(fr);
        tracker.update(|p| p.files_done += 1);
    }
    ds.ti = feed;
    ds.geoip = geo;
    ds.finish_load();
    Ok((ds, report))
}

/// Every original column of one row, re-read from its source: `(column, value)` pairs.
pub fn raw_record(ds: &Dataset, table: TableKind, row: usize) -> Result<Vec<(String, String)>, String> {
    raw_records(ds, table, &[row]).pop().unwrap_or_else(|| Err("no such row".into()))
}

/// Batch form of `raw_record`: re-reads each source once for all requested rows.
pub fn raw_records(ds: &Dataset, table: TableKind, rows: &[usize]) -> Vec<Result<Vec<(String, String)>, String>> {
    let prov = match table {
        TableKind::DeviceNetworkEvents => &ds.net.prov,
        TableKind::DeviceInfo => &ds.devinfo.prov,
        TableKind::VMConnection => &ds.vm.prov,
    };
    let mut out: Vec<Result<Vec<(String, String)>, String>> = vec![Err("no such row".into()); rows.len()];
    let mut by_source: std::collections::BTreeMap<u32, Vec<(usize, u64)>> = Default::default();
    for (i, &r) in rows.iter().enumerate() {
        if let Some((src, loc)) = prov.source_of(r) {
            by_source.entry(src).or_default().push((i, loc));
        }
    }
    for (src, wanted) in by_source {
        let Some(source) = ds.sources.get(src as usize) else { continue };
        let locs: Vec<u64> = wanted.iter().map(|w| w.1).collect();
        let got = match source.kind {
            Kind::Csv => csv::reread(source, &locs),
            Kind::JsonDocument | Kind::JsonLines => json::reread(source, &locs),
            Kind::Evtx => evtx::reread(source, &locs),
            _ => locs.iter().map(|_| Err("this source cannot be re-read".to_string())).collect(),
        };
        for ((i, _), rec) in wanted.into_iter().zip(got) {
            out[i] = rec;
        }
    }
    out
}
