//! An input's bytes, the progress of reading them and why a read failed: what every reader of
//! files shares, the telemetry readers (`ingest`) and the feed and GeoIP readers (`enrich`)
//! alike, so neither depends on the other.

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Rejected lines listed per file (the rest are counted).
pub const MAX_LISTED_REJECTS: usize = 5;

/// One rejected line of a reader that reports its reasons as text (threat-intel feeds);
/// the table readers record typed `RowReject`s.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Reject {
    pub line: u64,
    pub reason: String,
}

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

/// Most bytes `SourceData::read_all` holds (feeds, GeoIP databases, JSON documents).
pub const MAX_READ_ALL: u64 = 2 << 30;

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

    /// Read the whole content (for formats parsed as one document), at most
    /// `MAX_READ_ALL` bytes.
    pub fn read_all(&self) -> std::io::Result<Vec<u8>> {
        self.read_all_limited(MAX_READ_ALL)
    }

    /// Read the whole content, at most `limit` bytes: Err(`InvalidData`) when there is more
    /// (a file's size can say 0 and hold more, a device never ends).
    pub fn read_all_limited(&self, limit: u64) -> std::io::Result<Vec<u8>> {
        let mut v = Vec::new();
        self.open()?.take(limit.saturating_add(1)).read_to_end(&mut v)?;
        if v.len() as u64 > limit {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("longer than the {} MiB limit", limit >> 20),
            ));
        }
        Ok(v)
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

    pub(crate) fn update(&self, f: impl FnOnce(&mut Progress)) {
        if let Ok(mut st) = self.state.lock() {
            f(&mut st.0);
        }
        self.emit(true);
    }
}

/// What a non-regular, non-directory file is, for messages (`a named pipe (FIFO)`, ...).
pub fn kind_name(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
    }
    let _ = meta;
    "not a regular file"
}
