//! What a snapshot is valid for: the build that parsed it, the load options, and every input
//! file's canonical path, identity (size, modification and change times in nanoseconds, inode)
//! and a checksum of its first and last 64 KiB. Two loads with equal keys read equal bytes
//! with equal code, so the second may reuse the first's tables.

use super::codec::Enc;
use crate::ingest::{Input, LoadOptions};
use crate::model::time::DateOrder;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::xxh3_64;

/// Bytes hashed at each end of every input file.
const EDGE: u64 = 64 * 1024;
/// A directory with more files than this is not snapshotted (walking it costs too much).
const MAX_FILES: usize = 100_000;

/// The key of one load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    /// Compared byte for byte on reopen; its hash names the snapshot file.
    pub material: Vec<u8>,
    /// Total size of the input files.
    pub input_bytes: u64,
}

impl Key {
    /// 128-bit hash of the material, as the snapshot's file name stem.
    pub fn id(&self) -> [u8; 16] {
        xxhash_rust::xxh3::xxh3_128(&self.material).to_le_bytes()
    }

    pub fn file_name(&self) -> String {
        let hex: String = self.id().iter().map(|b| format!("{b:02x}")).collect();
        format!("{hex}.snap")
    }
}

/// The key of loading `inputs`, `ti` and `geoip` with `opts`, or why such a load is never
/// snapshotted (standard input, a pipe, the built-in sample, an unreadable input).
pub(crate) fn key_of(inputs: &[Input], ti: &[Input], geoip: Option<&Path>, opts: &LoadOptions) -> Result<Key, String> {
    let mut e = Enc::default();
    e.str("rarity load snapshot key");
    e.u32(super::file::FORMAT_VERSION);
    e.str(env!("CARGO_PKG_VERSION"));
    build_identity(&mut e);
    e.str(&opts.zone.to_string());
    e.u8(match opts.date_order {
        DateOrder::MonthFirst => 0,
        DateOrder::DayFirst => 1,
    });
    let geo = geoip.map(|g| Input::Path(g.to_path_buf()));
    let groups: [&[Input]; 3] = [inputs, ti, geo.as_slice()];
    let relative = groups.iter().flat_map(|g| g.iter()).any(|i| matches!(i, Input::Path(p) if p.is_relative()));
    if relative {
        // Sources keep the path as given (the raw-event view re-reads it), so a relative path
        // means a different file from another directory.
        let cwd = std::env::current_dir().map_err(|e| format!("no current directory: {e}"))?;
        e.bytes(path_bytes(&cwd).as_ref());
    }
    let mut input_bytes = 0u64;
    let mut files = 0usize;
    for group in groups {
        e.len(group.len());
        for input in group {
            let path = match input {
                Input::Path(p) => p,
                Input::Stdin => return Err("standard input is never snapshotted".into()),
                Input::Embedded { .. } => return Err("the built-in sample is not snapshotted".into()),
                Input::Memory { .. } => return Err("data already in memory is not snapshotted".into()),
            };
            e.bytes(path_bytes(path).as_ref());
            let mut found = Vec::new();
            collect(path, &mut found, &mut Vec::new())?;
            e.len(found.len());
            for f in &found {
                input_bytes += file_key(&mut e, f)?;
                files += 1;
                if files > MAX_FILES {
                    return Err(format!("more than {MAX_FILES} input files"));
                }
            }
        }
    }
    Ok(Key { material: e.buf, input_bytes })
}

/// The running program's size and modification time: a rebuilt rarity may parse differently
/// even under the same version number, so its snapshots are not reused.
fn build_identity(e: &mut Enc) {
    let meta = std::env::current_exe().and_then(std::fs::metadata);
    match meta {
        Ok(m) => {
            e.u64(m.len());
            e.i64(m.modified().map(nanos_since_epoch).unwrap_or(0));
        }
        Err(_) => e.u64(u64::MAX),
    }
}

fn nanos_since_epoch(t: std::time::SystemTime) -> i64 {
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_nanos().min(i64::MAX as u128) as i64,
        Err(e) => -(e.duration().as_nanos().min(i64::MAX as u128) as i64),
    }
}

#[cfg(unix)]
fn path_bytes(p: &Path) -> std::borrow::Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt;
    std::borrow::Cow::Borrowed(p.as_os_str().as_bytes())
}

#[cfg(not(unix))]
fn path_bytes(p: &Path) -> std::borrow::Cow<'_, [u8]> {
    std::borrow::Cow::Owned(p.to_string_lossy().into_owned().into_bytes())
}

/// Every file under `path` (itself when a file), in name order, hidden ones included (a
/// superset of what the loader reads: any change there changes the key). `seen` holds the
/// canonical directories on the way down, so a symlink loop ends the walk with an error.
fn collect(path: &Path, out: &mut Vec<PathBuf>, seen: &mut Vec<PathBuf>) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    if !meta.is_dir() {
        return Err(format!("{} is not a regular file (a pipe or device is never snapshotted)", path.display()));
    }
    let canon = std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if seen.contains(&canon) {
        return Err(format!("{}: directory loop", path.display()));
    }
    seen.push(canon);
    let rd = std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut entries: Vec<PathBuf> =
        rd.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    entries.sort();
    for p in entries {
        collect(&p, out, seen)?;
        if out.len() > MAX_FILES {
            return Err(format!("more than {MAX_FILES} input files"));
        }
    }
    seen.pop();
    Ok(())
}

/// One file's part of the key; returns its size.
fn file_key(e: &mut Enc, path: &Path) -> Result<u64, String> {
    let fail = |err: std::io::Error| format!("{}: {err}", path.display());
    let canon = std::fs::canonicalize(path).map_err(fail)?;
    let mut f = std::fs::File::open(&canon).map_err(fail)?;
    let meta = f.metadata().map_err(fail)?;
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    e.bytes(path_bytes(&canon).as_ref());
    e.u64(meta.len());
    e.i64(meta.modified().map(nanos_since_epoch).unwrap_or(0));
    identity(e, &meta);
    let mut head = Vec::with_capacity(EDGE as usize);
    (&mut f).take(EDGE).read_to_end(&mut head).map_err(fail)?;
    e.u64(xxh3_64(&head));
    let tail_start = meta.len().saturating_sub(EDGE).max(head.len() as u64);
    let mut tail = Vec::new();
    if tail_start < meta.len() {
        f.seek(SeekFrom::Start(tail_start)).map_err(fail)?;
        f.take(EDGE).read_to_end(&mut tail).map_err(fail)?;
    }
    e.u64(xxh3_64(&tail));
    Ok(meta.len())
}

/// Inode, device and change time: a file replaced by another, or rewritten with its
/// modification time set back, still changes the key.
#[cfg(unix)]
fn identity(e: &mut Enc, meta: &std::fs::Metadata) {
    use std::os::unix::fs::MetadataExt;
    e.u64(meta.ino());
    e.u64(meta.dev());
    e.i64(meta.ctime().saturating_mul(1_000_000_000).saturating_add(meta.ctime_nsec()));
}

#[cfg(not(unix))]
fn identity(e: &mut Enc, meta: &std::fs::Metadata) {
    e.i64(meta.created().map(nanos_since_epoch).unwrap_or(0));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(paths: &[&Path]) -> Result<Key, String> {
        let inputs: Vec<Input> = paths.iter().map(|p| Input::Path(p.to_path_buf())).collect();
        key_of(&inputs, &[], None, &LoadOptions::default())
    }

    #[test]
    fn same_files_same_key_and_a_change_anywhere_changes_it() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.csv");
        std::fs::write(&a, vec![b'x'; 300_000]).unwrap();
        let k1 = key(&[&a]).unwrap();
        assert_eq!(k1, key(&[&a]).unwrap());
        assert_eq!(k1.input_bytes, 300_000);
        // Same size, modification time set back: the first 64 KiB differ.
        let mtime = std::fs::metadata(&a).unwrap().modified().unwrap();
        let mut bytes = vec![b'x'; 300_000];
        bytes[10] = b'y';
        std::fs::write(&a, &bytes).unwrap();
        std::fs::File::options().write(true).open(&a).unwrap().set_modified(mtime).unwrap();
        assert_ne!(k1, key(&[&a]).unwrap());
        // Only the modification time moves.
        let k2 = key(&[&a]).unwrap();
        let later = mtime + std::time::Duration::from_secs(1);
        std::fs::File::options().write(true).open(&a).unwrap().set_modified(later).unwrap();
        assert_ne!(k2, key(&[&a]).unwrap());
    }

    #[test]
    fn directories_key_every_file_and_options_matter() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.csv"), "x").unwrap();
        let k1 = key(&[dir.path()]).unwrap();
        std::fs::write(dir.path().join("b.csv"), "y").unwrap();
        let k2 = key(&[dir.path()]).unwrap();
        assert_ne!(k1, k2);
        let opts = LoadOptions { date_order: DateOrder::DayFirst, ..Default::default() };
        let k3 = key_of(&[Input::Path(dir.path().into())], &[], None, &opts).unwrap();
        assert_ne!(k2, k3);
        // The same file as a feed is another load.
        let k4 = key_of(&[], &[Input::Path(dir.path().into())], None, &LoadOptions::default()).unwrap();
        assert_ne!(k2, k4);
    }

    #[test]
    fn stdin_and_the_sample_are_never_keyed() {
        assert!(key_of(&[Input::Stdin], &[], None, &LoadOptions::default()).is_err());
        let emb = Input::Embedded { name: "x".into(), bytes: b"a" };
        assert!(key_of(&[emb], &[], None, &LoadOptions::default()).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_never_keyed_and_never_opened() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            return; // no mkfifo on this system
        }
        assert!(key(&[&fifo]).unwrap_err().contains("not a regular file"));
        assert!(key(&[dir.path()]).is_err());
    }
}
