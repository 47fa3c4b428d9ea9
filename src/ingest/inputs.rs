//! What the user named, turned into what to read: directories walked (regular files only,
//! each directory once however many links lead to it), every file read once however often
//! it is named, and streams (standard input, pipes, FIFOs, devices) read once into memory
//! with a bound, deciding on the first 64 KiB whether they are worth reading on.

use super::sniff::{self, Kind};
use super::{Input, LoadError, SourceData, Tracker};
use std::collections::HashMap;
use std::fs::Metadata;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Largest stream read: streams are held in memory (they cannot be read twice).
pub const MAX_STREAM_BYTES: u64 = 2 << 30;
/// How long a FIFO given as a path may take to get a writer.
pub const FIFO_WAIT: Duration = Duration::from_secs(2);
/// What a stream is sniffed from before the rest is read.
const STREAM_HEAD: usize = 64 << 10;

/// One input to read, or an entry that is reported and not read.
#[derive(Debug)]
pub enum Planned {
    Load {
        input: Input,
        /// Named with `--ti`: read as a feed whatever it looks like.
        ti: bool,
        /// A FIFO, device or other non-regular file named as a path: read once as a stream.
        stream: bool,
        /// Other names the same file was given by (read once; the report says so).
        also: Vec<String>,
    },
    Skip {
        path: String,
        reason: String,
    },
}

/// The identity of a file, so two names of one file are read once.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum FileKey {
    #[cfg(unix)]
    Inode(u64, u64),
    #[cfg(not(unix))]
    Path(PathBuf),
    Stdin,
}

#[cfg(unix)]
fn key_of(meta: &Metadata, _path: &Path) -> FileKey {
    use std::os::unix::fs::MetadataExt;
    FileKey::Inode(meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn key_of(_meta: &Metadata, path: &Path) -> FileKey {
    FileKey::Path(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
}

use crate::source::kind_name;

#[derive(Default)]
struct PlanState {
    /// Directories walked, with the name they were first read under.
    dirs: HashMap<FileKey, String>,
    /// Files planned, by the index of their `Planned::Load`.
    files: HashMap<FileKey, usize>,
    /// The `--geoip` database: opened on its own, so a directory holding it does not list it.
    geoip: Option<FileKey>,
}

impl PlanState {
    fn add(&mut self, out: &mut Vec<Planned>, key: Option<FileKey>, input: Input, ti: bool, stream: bool) {
        if key.is_some() && key == self.geoip {
            return;
        }
        if let Some(k) = &key {
            if let Some(&i) = self.files.get(k) {
                if let Some(Planned::Load { also, ti: first_ti, .. }) = out.get_mut(i) {
                    also.push(input.display());
                    // Named with `--ti` under any name: read as a feed.
                    *first_ti |= ti;
                }
                return;
            }
        }
        if let Some(k) = key {
            self.files.insert(k, out.len());
        }
        out.push(Planned::Load { input, ti, stream, also: Vec::new() });
    }
}

/// Expand directories and drop repeated names: telemetry inputs first, then `--ti` feeds. The
/// `--geoip` database, opened on its own, is left out wherever it is named again.
pub fn plan(inputs: &[Input], ti: &[Input], geoip: Option<&Path>) -> Vec<Planned> {
    let geoip = geoip.and_then(|g| std::fs::metadata(g).ok().map(|m| key_of(&m, g)));
    let mut st = PlanState { geoip, ..PlanState::default() };
    let mut out = Vec::new();
    for (input, is_ti) in inputs.iter().map(|i| (i, false)).chain(ti.iter().map(|i| (i, true))) {
        match input {
            Input::Path(p) => plan_path(p, is_ti, &mut st, &mut out),
            Input::Stdin => st.add(&mut out, Some(FileKey::Stdin), Input::Stdin, is_ti, true),
            other => st.add(&mut out, None, other.clone(), is_ti, false),
        }
    }
    out
}

fn plan_path(p: &Path, ti: bool, st: &mut PlanState, out: &mut Vec<Planned>) {
    let display = p.display().to_string();
    let meta = match std::fs::metadata(p) {
        Ok(m) => m,
        Err(e) => return out.push(Planned::Skip { path: display, reason: format!("cannot read: {e}") }),
    };
    let key = key_of(&meta, p);
    if meta.is_dir() {
        if let Some(first) = st.dirs.get(&key) {
            let reason = format!("directory already read as {first}");
            return out.push(Planned::Skip { path: display, reason });
        }
        st.dirs.insert(key, display);
        walk(p, ti, st, out);
    } else {
        st.add(out, Some(key), Input::Path(p.to_path_buf()), ti, !meta.is_file());
    }
}

/// Every regular file under `root` (hidden entries skipped), sorted by path; other entries
/// are listed as skipped in their place.
fn walk(root: &Path, ti: bool, st: &mut PlanState, out: &mut Vec<Planned>) {
    enum Entry {
        File(FileKey),
        Skip(String),
    }
    let mut entries: Vec<(PathBuf, Entry)> = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) => {
                entries.push((dir, Entry::Skip(format!("cannot list directory: {e}"))));
                continue;
            }
        };
        for e in rd {
            let e = match e {
                Ok(e) => e,
                Err(err) => {
                    entries.push((dir.clone(), Entry::Skip(format!("cannot list directory: {err}"))));
                    break;
                }
            };
            let path = e.path();
            if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.')) {
                continue;
            }
            let link = e.file_type().is_ok_and(|t| t.is_symlink());
            // Links are followed (to files and directories alike), but a directory is walked
            // once: `dir/self -> .` or two links to a parent end the walk, not loop it.
            let meta = match std::fs::metadata(&path) {
                Ok(m) => m,
                Err(err) if link => {
                    entries.push((path, Entry::Skip(format!("broken link: {err}"))));
                    continue;
                }
                Err(err) => {
                    entries.push((path, Entry::Skip(format!("cannot read: {err}"))));
                    continue;
                }
            };
            let key = key_of(&meta, &path);
            if meta.is_dir() {
                match st.dirs.get(&key) {
                    Some(first) => {
                        let reason = format!("directory already read as {first}");
                        entries.push((path, Entry::Skip(reason)));
                    }
                    None => {
                        st.dirs.insert(key, path.display().to_string());
                        stack.push(path);
                    }
                }
            } else if meta.is_file() {
                entries.push((path, Entry::File(key)));
            } else {
                let reason = format!("{}; only regular files are read from a directory", kind_name(&meta));
                entries.push((path, Entry::Skip(reason)));
            }
        }
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, entry) in entries {
        match entry {
            Entry::File(key) => st.add(out, Some(key), Input::Path(path), ti, false),
            Entry::Skip(reason) => out.push(Planned::Skip { path: path.display().to_string(), reason }),
        }
    }
}

/// A stream read into memory.
#[derive(Debug)]
pub enum StreamRead {
    /// The bytes, and a warning when the stream went past `MAX_STREAM_BYTES`.
    Data { bytes: Vec<u8>, warning: Option<String> },
    /// Not worth reading on (the head is not a format rarity reads): why.
    Unrecognized(String),
}

/// Open a non-regular file named as a path without blocking on it: a FIFO with no writer
/// would block `open` (and then `read`) forever. Gives the stream and whatever it already
/// said; Err(reason) when it cannot be read.
#[cfg(unix)]
fn open_stream(path: &Path, tracker: &Tracker) -> Result<(std::fs::File, Vec<u8>), LoadError> {
    use rustix::fs::{fcntl_getfl, fcntl_setfl, Mode, OFlags};
    use std::os::unix::fs::FileTypeExt;
    let unreadable = |reason: String| LoadError::Unreadable { path: path.display().to_string(), reason };
    let io = |e: std::io::Error| unreadable(format!("cannot read: {e}"));
    let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| io(e.into()))?;
    let mut file = std::fs::File::from(fd);
    let fifo = file.metadata().map_err(io)?.file_type().is_fifo();
    let mut first = Vec::new();
    if fifo {
        // With no writer a read says end of input at once; a writer may still be starting
        // (`cat f > fifo &`), so give it a moment. A connected writer with nothing written
        // yet says "would block".
        let deadline = Instant::now() + FIFO_WAIT;
        let mut buf = [0u8; 4096];
        loop {
            match file.read(&mut buf) {
                Ok(0) if Instant::now() >= deadline => {
                    return Err(unreadable(format!(
                        "a named pipe (FIFO) with no writer (waited {} s); start the writer first",
                        FIFO_WAIT.as_secs()
                    )))
                }
                Ok(0) => {
                    tracker.check()?;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(n) => {
                    first.extend_from_slice(&buf[..n]);
                    break;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(io(e)),
            }
        }
    }
    // From here on reads wait for data like any stream.
    let flags = fcntl_getfl(&file).map_err(|e| io(e.into()))?;
    fcntl_setfl(&file, flags - OFlags::NONBLOCK).map_err(|e| io(e.into()))?;
    Ok((file, first))
}

#[cfg(not(unix))]
fn open_stream(path: &Path, _tracker: &Tracker) -> Result<(std::fs::File, Vec<u8>), LoadError> {
    std::fs::File::open(path)
        .map(|f| (f, Vec::new()))
        .map_err(|e| LoadError::Unreadable { path: path.display().to_string(), reason: format!("cannot read: {e}") })
}

/// Read a non-regular file named as a path (FIFO, `<(…)`, a device) once, like `-`.
pub fn read_path_stream(path: &Path, tracker: &Tracker) -> Result<StreamRead, LoadError> {
    let (file, first) = open_stream(path, tracker)?;
    let display = path.display().to_string();
    read_stream(std::io::Cursor::new(first).chain(file), &display, MAX_STREAM_BYTES, tracker)
}

/// Read standard input once.
pub fn read_stdin(tracker: &Tracker) -> Result<StreamRead, LoadError> {
    read_stream(std::io::stdin().lock(), "-", MAX_STREAM_BYTES, tracker)
}

/// Read `r` to its end, at most `limit` bytes. The first 64 KiB decide whether to go on:
/// text that is no format rarity reads, or nothing but zero bytes, stops there (`yes`,
/// `/dev/zero`); anything else is read to the end or the limit, and a stream cut at the
/// limit keeps its whole lines and says where it stopped.
pub fn read_stream(mut r: impl Read, display: &str, limit: u64, tracker: &Tracker) -> Result<StreamRead, LoadError> {
    let io = |e: std::io::Error| LoadError::Io { path: display.to_string(), source: e };
    let mut bytes = Vec::with_capacity(STREAM_HEAD);
    (&mut r).take(STREAM_HEAD.min(limit as usize) as u64).read_to_end(&mut bytes).map_err(io)?;
    if let Kind::Unrecognized(reason) = sniff::sniff(&SourceData::Memory(bytes.clone().into())).unwrap_or(Kind::Csv) {
        // Binary of no known kind may still be a MaxMind DB (recognized by its end); text,
        // archives and zeros never are.
        let binary = bytes.contains(&0);
        let archive = bytes.starts_with(&[0x1f, 0x8b]) || bytes.starts_with(b"PK\x03\x04");
        if !binary || archive || bytes.iter().all(|&b| b == 0) {
            return Ok(StreamRead::Unrecognized(reason));
        }
    }
    let mut chunk = vec![0u8; 1 << 20];
    let mut cut = false;
    loop {
        tracker.check()?;
        let room = limit.saturating_sub(bytes.len() as u64);
        if room == 0 {
            // At the limit: anything more is not read.
            let mut probe = [0u8; 1];
            cut = loop {
                match r.read(&mut probe) {
                    Ok(n) => break n > 0,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(io(e)),
                }
            };
            break;
        }
        let want = (chunk.len() as u64).min(room) as usize;
        let n = match r.read(&mut chunk[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        bytes.extend_from_slice(&chunk[..n]);
    }
    let warning = if cut {
        // Keep whole lines: a row cut in half would only be a reject.
        if let Some(i) = memchr::memrchr(b'\n', &bytes) {
            bytes.truncate(i + 1);
        }
        let lines = memchr::memchr_iter(b'\n', &bytes).count();
        Some(format!(
            "{display}:{}: input longer than the {} MiB limit for a stream: read up to here, the rest was not read (save it to a file to load it all)",
            lines + 1,
            limit >> 20
        ))
    } else {
        None
    };
    Ok(StreamRead::Data { bytes, warning })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    fn read(data: &[u8], limit: u64) -> StreamRead {
        let cancel = AtomicBool::new(false);
        let cb = |_: &super::super::Progress| {};
        let tracker = Tracker::new(&cb, &cancel);
        read_stream(data, "-", limit, &tracker).unwrap()
    }

    #[test]
    fn text_of_no_known_format_stops_after_the_head() {
        // An endless `yes` would never end: the head decides.
        let yes = std::io::repeat(b'y').take(u64::MAX);
        let cancel = AtomicBool::new(false);
        let cb = |_: &super::super::Progress| {};
        let tracker = Tracker::new(&cb, &cancel);
        assert!(matches!(read_stream(yes, "-", MAX_STREAM_BYTES, &tracker).unwrap(), StreamRead::Unrecognized(_)));
        let zeros = std::io::repeat(0).take(u64::MAX);
        assert!(matches!(read_stream(zeros, "-", MAX_STREAM_BYTES, &tracker).unwrap(), StreamRead::Unrecognized(_)));
    }

    #[test]
    fn a_stream_over_the_limit_keeps_whole_lines_and_says_where_it_stopped() {
        let mut data = b"Timestamp,DeviceName,ActionType,RemoteIP\n".to_vec();
        for i in 0..10_000 {
            data.extend_from_slice(format!("2024-01-01T00:00:00Z,h{i},ConnectionSuccess,1.2.3.4\n").as_bytes());
        }
        let StreamRead::Data { bytes, warning } = read(&data, 100_000) else { panic!("not read") };
        assert!(bytes.len() <= 100_000 && bytes.ends_with(b"\n"));
        let line = memchr::memchr_iter(b'\n', &bytes).count() + 1;
        let w = warning.unwrap();
        assert!(w.starts_with(&format!("-:{line}: input longer than the 0 MiB limit for a stream")), "{w}");
        let StreamRead::Data { bytes, warning } = read(&data, data.len() as u64) else { panic!("not read") };
        assert_eq!((bytes.len(), warning), (data.len(), None));
    }

    #[test]
    fn binary_streams_are_read_for_a_possible_maxmind_db() {
        let mut data = vec![1u8, 0, 2];
        data.extend(std::iter::repeat_n(7u8, 200_000));
        let StreamRead::Data { bytes, .. } = read(&data, MAX_STREAM_BYTES) else { panic!("not read") };
        assert_eq!(bytes.len(), data.len());
    }
}
