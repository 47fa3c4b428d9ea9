//! The cache directory: where it is, its cap (least recently used snapshots go first), listing
//! and clearing it, and writing a snapshot into it atomically (temporary file, then rename).

use super::file::{self, SnapshotError, SnapshotSummary};
use super::WriteOutcome;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const GIB: u64 = 1 << 30;
/// The cap when none is given: this, or a quarter of the free space if that is smaller.
const DEFAULT_CAP: u64 = 20 * GIB;
/// A temporary file untouched this long belongs to a writer that died (or hung).
const STALE_TEMP: Duration = Duration::from_secs(3600);
/// Temporary files are named `.rarity-<pid>-<random>.tmp`.
const TEMP_PREFIX: &str = ".rarity-";

/// `RARITY_CACHE_DIR` when set, else the platform cache directory's `rarity/`
/// (`$XDG_CACHE_HOME/rarity` or `~/.cache/rarity` on Linux).
pub fn default_dir() -> Option<PathBuf> {
    match std::env::var_os("RARITY_CACHE_DIR").filter(|d| !d.is_empty()) {
        Some(d) => Some(PathBuf::from(d)),
        None => dirs::cache_dir().map(|d| d.join("rarity")),
    }
}

/// 20 GiB, or a quarter of the space free on `dir`'s disk (counting what the cache itself
/// holds as free) when that is smaller.
pub fn default_limit(dir: &Path) -> u64 {
    let used: u64 = snapshots(dir).iter().map(|s| s.1).sum();
    match free_space(dir) {
        Some(free) => DEFAULT_CAP.min(free.saturating_add(used) / 4),
        None => DEFAULT_CAP,
    }
}

#[cfg(unix)]
fn free_space(dir: &Path) -> Option<u64> {
    // The directory may not exist yet: ask about its nearest existing ancestor.
    let existing = dir.ancestors().find(|a| a.exists())?;
    let st = rustix::fs::statvfs(existing).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

#[cfg(not(unix))]
fn free_space(_dir: &Path) -> Option<u64> {
    None
}

/// `20G`, `512M`, `1.5GiB`, `100000` (bytes), `0`: sizes as `--cache-limit` takes them.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("bad size `{s}` (e.g. 20G, 512M)"))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1u64,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return Err(format!("bad size unit in `{s}` (use K, M, G or T)")),
    };
    let bytes = n * mult as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("size `{s}` too large"));
    }
    Ok(bytes as u64)
}

/// Snapshot files in `dir`: (path, size, last used).
fn snapshots(dir: &Path) -> Vec<(PathBuf, u64, SystemTime)> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    rd.flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "snap"))
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            m.is_file().then(|| (e.path(), m.len(), m.modified().unwrap_or(SystemTime::UNIX_EPOCH)))
        })
        .collect()
}

/// Mark a snapshot as just used (the cap evicts by last use).
pub(crate) fn touch(path: &Path) {
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// One snapshot in the cache directory.
#[derive(Clone, Debug)]
pub struct CacheEntry {
    pub path: PathBuf,
    pub bytes: u64,
    pub last_used: SystemTime,
    /// What it holds, or why it cannot be read (it is then replaced on the next load).
    pub summary: Result<SnapshotSummary, String>,
}

/// The snapshots in `dir`, most recently used first.
pub fn list(dir: &Path) -> Vec<CacheEntry> {
    let mut out: Vec<CacheEntry> = snapshots(dir)
        .into_iter()
        .map(|(path, bytes, last_used)| {
            let summary = file::read_summary(&path).map_err(|e| e.to_string());
            CacheEntry { path, bytes, last_used, summary }
        })
        .collect();
    out.sort_by(|a, b| b.last_used.cmp(&a.last_used).then_with(|| a.path.cmp(&b.path)));
    out
}

/// Remove every snapshot (and leftover temporary file) in `dir`: (files removed, bytes freed).
pub fn clear(dir: &Path) -> std::io::Result<(usize, u64)> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(e) => return Err(e),
    };
    let (mut n, mut bytes) = (0, 0);
    for e in rd.flatten() {
        let p = e.path();
        if !is_ours(&p) {
            continue;
        }
        let len = e.metadata().map(|m| m.len()).unwrap_or(0);
        match std::fs::remove_file(&p) {
            Ok(()) => {
                n += 1;
                bytes += len;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok((n, bytes))
}

/// A snapshot or one of our temporary files (nothing else in the directory is touched).
fn is_ours(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".snap") || (name.starts_with(TEMP_PREFIX) && name.ends_with(".tmp"))
}

/// Remove temporary files of writers that died: their process is gone (Linux), or they have
/// not been written to for an hour. A process that quits while writing (the TUI writes after
/// its first screen) leaves one behind.
fn remove_stale_temps(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let Some(rest) = name.strip_prefix(TEMP_PREFIX).filter(|_| name.ends_with(".tmp")) else { continue };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let dead = pid.is_some_and(|pid| pid != std::process::id() && !process_alive(pid));
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMP);
        if dead || old {
            let _ = std::fs::remove_file(&p);
        }
    }
}

/// Whether process `pid` still runs; true when that cannot be told.
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// Evict least recently used snapshots (never `keep`) until `incoming` more bytes fit under
/// `limit`. Another process may evict the same files at the same time: a file already gone
/// counts as evicted.
fn make_room(dir: &Path, limit: u64, incoming: u64, keep: &Path) {
    let mut all = snapshots(dir);
    all.sort_by_key(|s| s.2);
    let mut used: u64 = all.iter().filter(|s| s.0 != keep).map(|s| s.1).sum();
    for (path, len, _) in all {
        if used.saturating_add(incoming) <= limit {
            break;
        }
        if path == keep {
            continue;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => used = used.saturating_sub(len),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => used = used.saturating_sub(len),
            Err(_) => {}
        }
    }
}

fn create_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        // Snapshots hold the telemetry itself: readable by the user only.
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Write a snapshot to `path` in `dir` through `write` (given a fresh temporary file; returns
/// the bytes written): room is made under the cap first, and the file is renamed into place
/// only when complete, so a reader sees the old snapshot, the new one, or none.
pub(crate) fn write_into(
    dir: &Path,
    path: &Path,
    limit: Option<u64>,
    estimate: u64,
    write: impl FnOnce(&mut std::fs::File) -> Result<u64, SnapshotError>,
) -> WriteOutcome {
    if let Err(e) = create_dir(dir) {
        return WriteOutcome::Failed(format!("cannot create {}: {e}", dir.display()));
    }
    remove_stale_temps(dir);
    let limit = limit.unwrap_or_else(|| default_limit(dir));
    if estimate > limit {
        return WriteOutcome::Skipped(format!(
            "a snapshot of this load (about {} MiB) is larger than the cache limit ({} MiB)",
            estimate >> 20,
            limit >> 20
        ));
    }
    make_room(dir, limit, estimate, path);
    let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
    let mut tmp = match tempfile::Builder::new().prefix(&prefix).suffix(".tmp").tempfile_in(dir) {
        Ok(t) => t,
        Err(e) => return WriteOutcome::Failed(format!("cannot write in {}: {e}", dir.display())),
    };
    let bytes = match write(tmp.as_file_mut()) {
        Ok(n) => n,
        // The temporary file is removed when `tmp` drops.
        Err(e) => return WriteOutcome::Failed(format!("cannot write {}: {e}", path.display())),
    };
    match tmp.persist(path) {
        Ok(_) => {
            // The estimate may have been low: settle the cap with the real size.
            make_room(dir, limit, 0, path);
            WriteOutcome::Written { path: path.to_path_buf(), bytes }
        }
        Err(e) => WriteOutcome::Failed(format!("cannot rename into {}: {}", path.display(), e.error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("20G").unwrap(), 20 << 30);
        assert_eq!(parse_size("512m").unwrap(), 512 << 20);
        assert_eq!(parse_size("1.5GiB").unwrap(), 3 << 29);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert_eq!(parse_size("0").unwrap(), 0);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5X").is_err());
        assert!(parse_size("1e30T").is_err());
    }

    #[test]
    fn eviction_removes_least_recently_used_first_and_keeps_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        for (i, name) in ["a.snap", "b.snap", "c.snap"].iter().enumerate() {
            let p = dir.path().join(name);
            std::fs::write(&p, vec![0u8; 100]).unwrap();
            let f = std::fs::File::options().write(true).open(&p).unwrap();
            f.set_modified(now - Duration::from_secs(100 - i as u64 * 10)).unwrap();
        }
        std::fs::write(dir.path().join("notes.txt"), "not ours").unwrap();
        // c is the newest; a (oldest) goes first, then b.
        make_room(dir.path(), 200, 50, &dir.path().join("c.snap"));
        let left: Vec<String> =
            snapshots(dir.path()).iter().map(|s| s.0.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(left.len(), 2);
        assert!(!left.contains(&"a.snap".to_string()));
        make_room(dir.path(), 100, 100, &dir.path().join("b.snap"));
        let left: Vec<PathBuf> = snapshots(dir.path()).into_iter().map(|s| s.0).collect();
        assert_eq!(left, vec![dir.path().join("b.snap")]);
        assert!(dir.path().join("notes.txt").exists());
        assert_eq!(clear(dir.path()).unwrap(), (1, 100));
        assert!(dir.path().join("notes.txt").exists());
    }

    #[test]
    fn temporary_files_of_dead_writers_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let ours = dir.path().join(format!("{TEMP_PREFIX}{}-abc.tmp", std::process::id()));
        std::fs::write(&ours, "being written").unwrap();
        remove_stale_temps(dir.path());
        assert!(ours.exists());
        if cfg!(target_os = "linux") {
            // No process has the largest pid Linux can hand out (4194304 is past it).
            let dead = dir.path().join(format!("{TEMP_PREFIX}4194304-abc.tmp"));
            std::fs::write(&dead, "left behind").unwrap();
            remove_stale_temps(dir.path());
            assert!(!dead.exists());
            assert!(ours.exists());
        }
    }
}
