//! Loading: recognize each input by its content, hand it to the reader for its format, and
//! gather rows, rejects and warnings into a `Dataset` and a `LoadReport`.
//!
//! Every reader reports `file:line` for a rejected row and keeps going; a file that cannot be
//! read at all is reported as skipped and the others still load. Every reader hands its rows
//! to one router (`route`), so a row reads the same whichever format carried it.

pub mod columns;
pub mod csv;
pub mod evtx;
pub mod inputs;
pub mod json;
pub mod reject;
pub mod route;
pub mod sink;
pub mod sniff;
pub mod sysmon;
pub mod sysmon_xml;

use crate::enrich::{geoip::GeoIp, ti::ThreatIntel};
use crate::model::time::{DateOrder, Zone};
use crate::model::TableKind;
pub use crate::source::{LoadError, Progress, Reject, SourceData, Tracker, MAX_LISTED_REJECTS, MAX_READ_ALL};
use crate::store::Dataset;
use inputs::{Planned, StreamRead};
pub use reject::{FileReject, Position, RejectKind, RowReject};
pub use sink::{FileSink, SinkOptions};
use sniff::Kind;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

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
    /// Bytes already in memory under a name (generated or received data).
    Memory {
        name: String,
        bytes: Arc<[u8]>,
    },
}

impl Input {
    pub fn display(&self) -> String {
        match self {
            Input::Path(p) => p.display().to_string(),
            Input::Stdin => "-".into(),
            Input::Embedded { name, .. } | Input::Memory { name, .. } => name.clone(),
        }
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
    /// The first few rejects (each shows as `file:line: reason`).
    pub rejects: Vec<FileReject>,
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
    /// The load was stopped (Esc while loading) before every file was read: the dataset holds
    /// the files finished before that, and the rest are listed as skipped.
    pub stopped: bool,
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

/// Load telemetry, threat-intel feeds and a GeoIP database into one dataset.
///
/// `inputs` are telemetry files or directories (a directory may also hold feeds and `.mmdb`
/// files, recognized by content); `ti` are feed files given with `--ti`; `geoip` with `--geoip`.
/// A file named more than once (directly, through a link, inside a named directory) is read
/// once; streams (`-`, pipes, FIFOs) are read once, up to `inputs::MAX_STREAM_BYTES`.
///
/// Setting `cancel` stops the load between or inside files: the files finished before then
/// are kept (the one being read is dropped whole) and `LoadReport::stopped` is set.
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
    let planned = inputs::plan(inputs, ti, geoip);
    let total_bytes: u64 = planned
        .iter()
        .map(|p| match p {
            Planned::Load { input: Input::Path(p), stream: false, .. } => {
                std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
            }
            Planned::Load { input: Input::Embedded { bytes, .. }, .. } => bytes.len() as u64,
            Planned::Load { input: Input::Memory { bytes, .. }, .. } => bytes.len() as u64,
            _ => 0,
        })
        .sum();
    let n_files = planned.iter().filter(|p| matches!(p, Planned::Load { .. })).count() + usize::from(geoip.is_some());
    tracker.update(|p| {
        p.files_total = n_files;
        p.bytes_total = total_bytes;
    });

    let mut ds = Dataset::default();
    let mut feed = ThreatIntel::default();
    let mut geo: Option<GeoIp> = None;
    if let Some(g) = geoip {
        let mut fr = FileReport { path: g.display().to_string(), ..Default::default() };
        // A FIFO or device is read once as a stream (a FIFO without a writer must not block).
        let opened = match std::fs::metadata(g) {
            Ok(m) if !m.is_file() => match inputs::read_path_stream(g, &tracker) {
                Ok(StreamRead::Data { bytes, .. }) => GeoIp::from_data(&SourceData::Memory(bytes.into()), &fr.path),
                Ok(StreamRead::Unrecognized(reason)) => Err(LoadError::Unreadable { path: fr.path.clone(), reason }),
                Err(e) => Err(e),
            },
            _ => GeoIp::open(g),
        };
        match opened {
            Err(LoadError::Cancelled) => {
                fr.skipped = Some(STOPPED_WHILE_READING.into());
                report.stopped = true;
            }
            Ok(db) => {
                fr.format = Some(format!("GeoIP database ({})", db.description()));
                geo = Some(db);
            }
            Err(e) => fr.skipped = Some(e.reason()),
        }
        report.files.push(fr);
        tracker.update(|p| p.files_done += 1);
    }

    for plan in planned {
        let (input, is_ti, stream, also) = match plan {
            Planned::Skip { path, reason } => {
                report.files.push(FileReport { path, skipped: Some(reason), ..Default::default() });
                continue;
            }
            Planned::Load { input, ti, stream, also } => (input, ti, stream, also),
        };
        if report.stopped || tracker.cancelled() {
            report.stopped = true;
            report.files.push(FileReport {
                path: input.display(),
                skipped: Some(STOPPED_BEFORE.into()),
                ..Default::default()
            });
            continue;
        }
        let display = input.display();
        tracker.update(|p| p.current = display.clone());
        let mut fr = FileReport { path: display.clone(), ..Default::default() };
        fr.warnings.extend(also.iter().map(|a| format!("also named as {a}; read once")));
        let streamed = match (&input, stream) {
            (Input::Stdin, _) => Some(inputs::read_stdin(&tracker)),
            (Input::Path(p), true) => Some(inputs::read_path_stream(p, &tracker)),
            _ => None,
        };
        let data = match streamed {
            None => match &input {
                Input::Path(p) => SourceData::File(p.clone()),
                Input::Embedded { bytes, .. } => SourceData::Static(bytes),
                Input::Memory { bytes, .. } => SourceData::Memory(bytes.clone()),
                Input::Stdin => unreachable!("standard input is read as a stream above"),
            },
            Some(Err(LoadError::Cancelled)) => {
                fr.skipped = Some(STOPPED_WHILE_READING.into());
                report.stopped = true;
                report.files.push(fr);
                continue;
            }
            Some(Err(e)) => {
                fr.skipped = Some(e.reason());
                report.files.push(fr);
                tracker.update(|p| p.files_done += 1);
                continue;
            }
            Some(Ok(StreamRead::Unrecognized(reason))) => {
                fr.skipped = Some(reason);
                report.files.push(fr);
                tracker.update(|p| p.files_done += 1);
                continue;
            }
            Some(Ok(StreamRead::Data { bytes, warning })) => {
                fr.warnings.extend(warning);
                tracker.update(|p| p.bytes_total += bytes.len() as u64);
                SourceData::Memory(bytes.into())
            }
        };
        if load_one(&mut ds, &mut feed, &mut geo, &mut fr, data, is_ti, opts, &tracker).is_err() {
            // Stopped inside this file: it is dropped whole (load_one appends nothing then).
            fr = FileReport { path: fr.path, skipped: Some(STOPPED_WHILE_READING.into()), ..Default::default() };
            report.stopped = true;
        }
        report.files.push(fr);
        tracker.update(|p| p.files_done += 1);
    }
    ds.ti = feed;
    ds.geoip = geo;
    ds.finish_load();
    Ok((ds, report))
}

/// The report's reason for a file a stopped load did not read.
pub const STOPPED_BEFORE: &str = "loading was stopped before this file";
/// The report's reason for the file a stopped load was reading.
pub const STOPPED_WHILE_READING: &str = "loading was stopped while reading this file";

/// Whether a file report's skip reason is one of the two a stopped load gives.
pub fn stopped_reason(reason: &str) -> bool {
    reason == STOPPED_BEFORE || reason == STOPPED_WHILE_READING
}

/// Recognize and read one input into the dataset (or the feeds, or the GeoIP slot),
/// filling its report. Err only for a cancelled load, and then the dataset, the feeds and
/// the GeoIP slot are as they were before.
#[allow(clippy::too_many_arguments)]
fn load_one(
    ds: &mut Dataset,
    feed: &mut ThreatIntel,
    geo: &mut Option<GeoIp>,
    fr: &mut FileReport,
    data: SourceData,
    is_ti: bool,
    opts: &LoadOptions,
    tracker: &Tracker,
) -> Result<(), LoadError> {
    let display = fr.path.clone();
    let sniffed = match sniff::sniff(&data) {
        Ok(k) => k,
        Err(reason) => {
            fr.skipped = Some(reason);
            return Ok(());
        }
    };
    let kind = if is_ti && !matches!(sniffed, Kind::ThreatIntel) {
        // `--ti` names a feed: read it as one even if it does not look like a list,
        // so its bad lines are reported rather than the file being skipped.
        Kind::ThreatIntel
    } else {
        sniffed
    };
    // A feed merges entries as it reads: keep the feeds as they were, to restore on a stop.
    let mut before_feed = matches!(kind, Kind::ThreatIntel).then(|| feed.clone());
    match kind {
        Kind::ThreatIntel => match feed.read_list(&data, &display, tracker) {
            Err(LoadError::Cancelled) => {
                *feed = before_feed.take().unwrap_or_default();
                return Err(LoadError::Cancelled);
            }
            Ok(r) => {
                fr.format = Some(r.format);
                fr.rows.ti = r.entries;
                fr.rejected = r.rejected;
                fr.rejects = r.rejects.into_iter().map(|x| FileReject::new(&display, x.into())).collect();
                fr.warnings.extend(r.warnings);
            }
            Err(e) => fr.skipped = Some(e.reason()),
        },
        Kind::Mmdb => match GeoIp::from_data(&data, &display) {
            Ok(db) => match geo {
                Some(used) => {
                    fr.skipped = Some(format!("not used: the GeoIP database {} is already in use", used.description()))
                }
                None => {
                    fr.format = Some(format!("GeoIP database ({})", db.description()));
                    *geo = Some(db);
                }
            },
            Err(e) => fr.skipped = Some(e.reason()),
        },
        Kind::Unrecognized(reason) => fr.skipped = Some(reason),
        Kind::Csv | Kind::JsonDocument | Kind::JsonLines | Kind::Evtx => {
            let source_id = ds.sources.len() as u32;
            let mut source = SourceInfo { display: display.clone(), data, kind: kind.clone(), columns: Vec::new() };
            let mut ctx = ReadCtx { opts, tracker, source: &mut source, format: String::new(), warnings: Vec::new() };
            let result = match &kind {
                Kind::Csv => csv::read(&mut ctx),
                Kind::Evtx => evtx::read(&mut ctx),
                _ => json::read(&mut ctx),
            };
            fr.format = Some(std::mem::take(&mut ctx.format));
            fr.warnings.append(&mut ctx.warnings);
            match result {
                Ok(mut sink) => {
                    fr.warnings.extend(sink.finish());
                    fr.rows.net = sink.net.len() as u64;
                    fr.rows.dev = sink.dev.len() as u64;
                    fr.rows.vm = sink.vm.len() as u64;
                    fr.rejected = sink.rejected;
                    fr.rejects = sink.rejects.drain(..).map(|r| FileReject::new(&display, r)).collect();
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
    Ok(())
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
