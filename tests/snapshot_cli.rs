//! Load snapshots through the `rarity` binary: the second run reads the snapshot and prints
//! the same results, `--no-cache` neither reads nor writes, two processes loading the same
//! inputs at once both succeed and leave one valid snapshot, `rarity cache list|clear`.
//! Every test uses its own cache directory (`RARITY_CACHE_DIR`), never the user's.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `rarity` with its cache in `cache` and every load snapshotted whatever its size.
fn rarity(cache: &Path) -> Command {
    let mut c = Command::cargo_bin("rarity").expect("binary builds");
    c.env("RARITY_CACHE_DIR", cache).env("RARITY_CACHE_MIN_BYTES", "0").current_dir(root());
    c
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

fn stdout(c: &mut Command) -> String {
    String::from_utf8(c.assert().success().get_output().stdout.clone()).unwrap()
}

const SAMPLE: &str = "assets/sample";

#[test]
fn the_second_run_reads_the_snapshot_and_prints_the_same_results() {
    let cache = tempfile::tempdir().unwrap();
    let run = || stdout(rarity(cache.path()).args(["run", "all", SAMPLE, "--format", "json", "--no-config"]));
    let first = run();
    let snaps = entries(cache.path());
    assert_eq!(snaps.len(), 1, "{snaps:?}");
    assert!(snaps[0].extension().is_some_and(|x| x == "snap"));
    let second = run();
    assert_eq!(first, second);
    let report = stdout(rarity(cache.path()).args(["inspect", SAMPLE]));
    assert!(report.contains("Loaded from snapshot: "), "{report}");
    let json = stdout(rarity(cache.path()).args(["inspect", SAMPLE, "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["snapshot"].as_str().map(PathBuf::from), Some(snaps[0].clone()));
    // Without the cache the same report, minus the line.
    let fresh = stdout(rarity(cache.path()).args(["inspect", SAMPLE, "--no-cache"]));
    assert!(!fresh.contains("snapshot"));
    let strip = |s: &str| -> String {
        s.lines()
            .filter(|l| !l.starts_with("Loaded from snapshot") && !l.starts_with("Network events in memory"))
            .collect()
    };
    assert_eq!(strip(&report), strip(&fresh));
}

#[test]
fn no_cache_neither_reads_nor_writes() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().join("rarity");
    stdout(rarity(&dir).args(["inspect", SAMPLE, "--no-cache"]));
    assert!(entries(&dir).is_empty());
    // A damaged snapshot would be reported if it were read.
    stdout(rarity(&dir).args(["inspect", SAMPLE]));
    let snap = entries(&dir).pop().unwrap();
    let mut bytes = std::fs::read(&snap).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&snap, &bytes).unwrap();
    let before = std::fs::metadata(&snap).unwrap().modified().unwrap();
    let out = rarity(&dir).args(["inspect", SAMPLE, "--no-cache"]).assert().success().get_output().clone();
    assert!(String::from_utf8_lossy(&out.stderr).is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("snapshot"));
    assert_eq!(std::fs::read(&snap).unwrap(), bytes);
    assert_eq!(std::fs::metadata(&snap).unwrap().modified().unwrap(), before);
    assert_eq!(entries(&dir), vec![snap]);
}

#[test]
fn a_damaged_snapshot_is_one_warning_and_the_run_still_succeeds() {
    let cache = tempfile::tempdir().unwrap();
    stdout(rarity(cache.path()).args(["inspect", SAMPLE]));
    let snap = entries(cache.path()).pop().unwrap();
    let len = std::fs::metadata(&snap).unwrap().len();
    std::fs::File::options().write(true).open(&snap).unwrap().set_len(len / 3).unwrap();
    let out = rarity(cache.path()).args(["inspect", SAMPLE]).assert().success().get_output().clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("ignored (truncated)"), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Loaded from snapshot"));
    // Replaced: the next run reads it without a word.
    let out = rarity(cache.path()).args(["inspect", SAMPLE]).assert().success().get_output().clone();
    assert!(out.stderr.is_empty());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Loaded from snapshot"));
}

#[test]
fn two_processes_loading_at_once_both_succeed_and_leave_one_valid_snapshot() {
    // A generated fleet big enough that the two loads overlap.
    let data = tempfile::tempdir().unwrap();
    let opts = rarity::gen::GenOptions { devices: 60, events: 60_000, ..rarity::gen::GenOptions::default() };
    rarity::gen::generate(&opts, data.path(), &|_| {}).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let spawn = || {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("rarity"));
        c.env("RARITY_CACHE_DIR", cache.path())
            .env("RARITY_CACHE_MIN_BYTES", "0")
            .args(["run", "all", "--format", "json", "--no-config"])
            .arg(data.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        c.spawn().unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success());
    assert!(a.stderr.is_empty() && b.stderr.is_empty(), "{}", String::from_utf8_lossy(&b.stderr));
    assert_eq!(a.stdout, b.stdout);
    let left = entries(cache.path());
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].extension().is_some_and(|x| x == "snap"));
    // The snapshot left is valid: a third run reads it and prints the same.
    let c = rarity(cache.path())
        .args(["run", "all", "--format", "json", "--no-config"])
        .arg(data.path())
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(c.stderr.is_empty(), "{}", String::from_utf8_lossy(&c.stderr));
    assert_eq!(c.stdout, a.stdout);
    let inspect = stdout(rarity(cache.path()).arg("inspect").arg(data.path()));
    assert!(inspect.contains("Loaded from snapshot"));
}

#[test]
fn cache_list_shows_snapshots_and_clear_empties_the_directory() {
    let cache = tempfile::tempdir().unwrap();
    let listing = stdout(rarity(cache.path()).args(["cache", "list"]));
    assert!(listing.contains(": 0 snapshots"), "{listing}");
    stdout(rarity(cache.path()).args(["inspect", SAMPLE]));
    stdout(rarity(cache.path()).args(["inspect", "tests/fixtures/csv/vmconnection.csv"]));
    let listing = stdout(rarity(cache.path()).arg("cache"));
    assert!(listing.contains("2 snapshots"), "{listing}");
    assert!(listing.contains("assets/sample") && listing.contains("vmconnection.csv"), "{listing}");
    let cleared = stdout(rarity(cache.path()).args(["cache", "clear"]));
    assert!(cleared.contains("removed 2 snapshot files"), "{cleared}");
    assert!(entries(cache.path()).is_empty());
}

#[test]
fn a_tiny_cache_limit_keeps_nothing_and_the_load_still_succeeds() {
    let cache = tempfile::tempdir().unwrap();
    let out =
        rarity(cache.path()).args(["inspect", SAMPLE, "--cache-limit", "1K"]).assert().success().get_output().clone();
    assert!(out.stderr.is_empty());
    assert!(entries(cache.path()).is_empty());
    rarity(cache.path()).args(["inspect", SAMPLE, "--cache-limit", "lots"]).assert().failure();
}

#[cfg(unix)]
#[test]
fn an_unwritable_cache_is_a_warning_never_a_failed_load() {
    use std::os::unix::fs::PermissionsExt;
    let cache = tempfile::tempdir().unwrap();
    // A file where the cache directory should be.
    let blocked = cache.path().join("rarity");
    std::fs::write(&blocked, "not a directory").unwrap();
    let out = rarity(&blocked).args(["inspect", SAMPLE]).assert().success().get_output().clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("load snapshot not saved"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    // A read-only directory (unless running as root, which may write anyway).
    let ro = cache.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o500)).unwrap();
    rarity(&ro).args(["inspect", SAMPLE]).assert().success();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o700)).unwrap();
}
