//! Load snapshots: the tables one load built, saved in the cache directory and read back
//! instead of parsing when the same inputs are loaded again with the same options.
//!
//! `load_cached` wraps `ingest::load`: it keys the inputs (`key.rs`), reads a matching snapshot
//! when there is one (`file.rs`), and otherwise loads the files and hands back a
//! `PendingSnapshot` the caller writes when it suits it (the TUI after its first screen).
//! A snapshot that cannot be used is reported in one line and replaced; writing never fails a
//! load. The directory is capped, least recently used snapshots first out (`dir.rs`).

mod codec;
mod dir;
mod file;
mod key;
mod report;

pub use dir::{clear, default_dir, default_limit, list, parse_size, CacheEntry};
pub use file::{SnapshotError, SnapshotSummary};

use crate::ingest::{self, Input, LoadError, LoadOptions, LoadReport, Progress};
use crate::store::Dataset;
use key::Key;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Loads of fewer input bytes than this are not snapshotted: they parse in well under a
/// second, and the cache is kept for the exports worth it.
pub const DEFAULT_MIN_INPUT_BYTES: u64 = 16 << 20;

/// How a load uses the snapshot cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheOptions {
    /// false: neither read nor write snapshots (`--no-cache`).
    pub enabled: bool,
    /// Where snapshots live; None = `default_dir()`.
    pub dir: Option<PathBuf>,
    /// Cap on the directory's total size; None = `default_limit`.
    pub limit: Option<u64>,
    /// Loads of fewer input bytes are not snapshotted.
    pub min_input_bytes: u64,
}

impl Default for CacheOptions {
    fn default() -> Self {
        CacheOptions { enabled: true, dir: None, limit: None, min_input_bytes: DEFAULT_MIN_INPUT_BYTES }
    }
}

impl CacheOptions {
    /// The cache switched off.
    pub fn disabled() -> Self {
        CacheOptions { enabled: false, ..Default::default() }
    }

    /// The defaults, with `RARITY_CACHE_MIN_BYTES` (the smallest load snapshotted) from the
    /// environment when set. (`RARITY_CACHE_DIR` is read by `default_dir`.)
    pub fn from_env() -> Self {
        let mut c = CacheOptions::default();
        if let Some(n) = std::env::var("RARITY_CACHE_MIN_BYTES").ok().and_then(|v| parse_size(&v).ok()) {
            c.min_input_bytes = n;
        }
        c
    }

    /// The directory in use: `dir`, else the platform cache directory's `rarity/`.
    pub fn resolved_dir(&self) -> Option<PathBuf> {
        self.dir.clone().or_else(default_dir)
    }
}

/// Where a load's tables came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Parsed from the input files.
    Files,
    /// Read back from the snapshot at `path` (`bytes` long).
    Snapshot { path: PathBuf, bytes: u64 },
}

/// A load, and what the cache did for it.
pub struct CachedLoad {
    pub dataset: Dataset,
    pub report: LoadReport,
    pub origin: Origin,
    /// One line each, for the user: a snapshot that was ignored and why.
    pub warnings: Vec<String>,
    /// Set after a load from the files that is worth a snapshot: call `write` (off the UI
    /// thread) once the dataset is in use.
    pub pending: Option<PendingSnapshot>,
}

impl CachedLoad {
    /// "loaded from snapshot …" when the tables came from one.
    pub fn origin_note(&self) -> Option<String> {
        match &self.origin {
            Origin::Files => None,
            Origin::Snapshot { path, bytes } => Some(format!(
                "loaded from snapshot {} ({:.1} MiB; --no-cache reads the files)",
                path.display(),
                *bytes as f64 / (1024.0 * 1024.0)
            )),
        }
    }
}

/// A snapshot to write for a load just done from the files.
#[derive(Debug)]
pub struct PendingSnapshot {
    dir: PathBuf,
    path: PathBuf,
    key: Key,
    limit: Option<u64>,
    inputs: Vec<Input>,
    ti: Vec<Input>,
    geoip: Option<PathBuf>,
    opts: LoadOptions,
}

/// What writing a snapshot did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    Written {
        path: PathBuf,
        bytes: u64,
    },
    /// Not written, for a reason that is no problem (inputs changed while loading, over the cap).
    Skipped(String),
    /// Not written because something failed (full disk, no permission): worth a warning.
    Failed(String),
}

impl WriteOutcome {
    /// The one-line warning for the user, when there is one.
    pub fn warning(&self) -> Option<String> {
        match self {
            WriteOutcome::Failed(why) => Some(format!("load snapshot not saved: {why}")),
            _ => None,
        }
    }
}

impl PendingSnapshot {
    /// Where the snapshot will be written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Write the snapshot of `ds` and `report` (the load this was handed back with): make room
    /// under the cap, write a temporary file, and rename it into place.
    pub fn write(self, ds: &Dataset, report: &LoadReport) -> WriteOutcome {
        if !report.loaded_anything() {
            return WriteOutcome::Skipped("nothing was loaded".into());
        }
        if report.files.iter().any(|f| f.skipped.as_deref().is_some_and(|s| s.starts_with("cannot "))) {
            // An input that could not be read now may be readable next time: no snapshot
            // should pin that failure.
            return WriteOutcome::Skipped("an input could not be read".into());
        }
        if !report::storable(report) {
            return WriteOutcome::Skipped("a rejected row names a column snapshots do not know".into());
        }
        // The files must still be the ones the key describes (a file written to while it
        // was loading would otherwise be snapshotted half-read under its final key).
        match key::key_of(&self.inputs, &self.ti, self.geoip.as_deref(), &self.opts) {
            Ok(k) if k == self.key => {}
            _ => return WriteOutcome::Skipped("inputs changed while loading".into()),
        }
        let inputs: Vec<String> = self
            .inputs
            .iter()
            .chain(self.ti.iter())
            .map(Input::display)
            .chain(self.geoip.iter().map(|g| g.display().to_string()))
            .collect();
        dir::write_into(&self.dir, &self.path, self.limit, estimate(ds), |f| {
            file::write(f, &self.key, &inputs, ds, report)
        })
    }
}

/// Bytes a snapshot of `ds` takes, near enough to make room for it first.
fn estimate(ds: &Dataset) -> u64 {
    let rows = ds.total_rows() as u64;
    (ds.net.heap_bytes() + ds.devinfo.len() * 64 + ds.vm.len() * 80) as u64 + rows * 8 + ds.ti.len() as u64 * 24
}

/// `ingest::load`, through the snapshot cache: read a snapshot of the same inputs and
/// options when there is a valid one, else load the files (and return a `PendingSnapshot`).
pub fn load_cached(
    inputs: &[Input],
    ti: &[Input],
    geoip: Option<&Path>,
    opts: &LoadOptions,
    cache: &CacheOptions,
    progress: &(dyn Fn(&Progress) + Sync),
    cancel: &AtomicBool,
) -> Result<CachedLoad, LoadError> {
    let mut warnings = Vec::new();
    let plan = if cache.enabled { plan(inputs, ti, geoip, opts, cache) } else { None };
    if let Some(p) = &plan {
        if p.path.exists() {
            progress(&Progress {
                files_total: 1,
                current: format!("snapshot {}", p.path.display()),
                ..Default::default()
            });
            match file::read(&p.path, &p.key, &|| cancel.load(Ordering::Relaxed)) {
                Ok(r) => {
                    dir::touch(&p.path);
                    progress(&Progress {
                        files_total: 1,
                        files_done: 1,
                        bytes_total: r.bytes,
                        bytes_done: r.bytes,
                        rows: r.dataset.total_rows() as u64,
                        current: String::new(),
                    });
                    return Ok(CachedLoad {
                        dataset: r.dataset,
                        report: r.report,
                        origin: Origin::Snapshot { path: p.path.clone(), bytes: r.bytes },
                        warnings,
                        pending: None,
                    });
                }
                Err(SnapshotError::Cancelled) => return Err(LoadError::Cancelled),
                // Evicted by another process since `exists`: an ordinary miss.
                Err(SnapshotError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    warnings.push(format!("load snapshot {} ignored ({e}); loading the files", p.path.display()));
                    let _ = std::fs::remove_file(&p.path);
                }
            }
        }
    }
    let (dataset, report) = ingest::load(inputs, ti, geoip, opts, progress, cancel)?;
    // A stopped load holds only part of the inputs: never save it as their snapshot.
    let pending = plan.filter(|_| !report.stopped).map(|p| PendingSnapshot {
        dir: p.dir,
        path: p.path,
        key: p.key,
        limit: cache.limit,
        inputs: inputs.to_vec(),
        ti: ti.to_vec(),
        geoip: geoip.map(Path::to_path_buf),
        opts: *opts,
    });
    Ok(CachedLoad { dataset, report, origin: Origin::Files, warnings, pending })
}

struct Plan {
    dir: PathBuf,
    path: PathBuf,
    key: Key,
}

/// The snapshot this load would use, or None when it is not snapshotted.
fn plan(
    inputs: &[Input],
    ti: &[Input],
    geoip: Option<&Path>,
    opts: &LoadOptions,
    cache: &CacheOptions,
) -> Option<Plan> {
    let dir = cache.resolved_dir()?;
    let key = key::key_of(inputs, ti, geoip, opts).ok()?;
    if key.input_bytes < cache.min_input_bytes {
        return None;
    }
    Some(Plan { path: dir.join(key.file_name()), dir, key })
}
