//! The case file: the analyst's verdict and note per finding, kept across retuning, restarts
//! and colleagues. A finding is its hunt and key-column texts (`HuntOutput::finding`,
//! `docs/hunts.md` "Findings"), so a verdict stays attached while thresholds hide and restore
//! the row.
//!
//! On disk it is pretty JSON in a stable order (by hunt key, then finding), one entry per
//! finding with `verdict`, `note` and `set_at` (RFC 3339 UTC). Every save is atomic (a temp
//! file in the same directory, fsync, rename, fsync of the directory), so the file is never
//! half-written. Two rarity processes may share one case file: a save takes an advisory lock
//! on `<file>.lock`, re-reads the file, merges it with the in-memory entries (per entry, the
//! newest `set_at` wins) and writes the merge, so neither drops the other's verdicts. Clearing
//! a verdict is itself an entry (`unreviewed`, with its time), so a clear also merges.
//!
//! A file that is not a valid case file is moved aside to `<file>.corrupt-<timestamp>` and
//! reported; it is never overwritten. A file that cannot be read, or is larger than
//! `MAX_CASE_BYTES`, is an error and is left alone.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::hunt::{HuntId, HuntOutput};

/// Case files larger than this are refused rather than read (a case file holds one short
/// entry per judged finding; 64 MiB is hundreds of thousands of them).
pub const MAX_CASE_BYTES: u64 = 64 * 1024 * 1024;

/// Notes longer than this many characters are cut when set.
pub const MAX_NOTE_CHARS: usize = 4096;

const VERSION: u64 = 1;

/// The analyst's judgement of a finding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    #[default]
    Unreviewed,
    Benign,
    Suspicious,
    Malicious,
}

impl Verdict {
    pub const ALL: [Verdict; 4] = [Verdict::Unreviewed, Verdict::Benign, Verdict::Suspicious, Verdict::Malicious];

    /// As written in the case file, the `Verdict` column and `rarity case`.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Unreviewed => "unreviewed",
            Verdict::Benign => "benign",
            Verdict::Suspicious => "suspicious",
            Verdict::Malicious => "malicious",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Which finding an entry is about: the hunt's key (kept as text, so entries of hunts this
/// build does not know survive a save) and the key-column texts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FindingKey {
    pub hunt: String,
    pub finding: Vec<String>,
}

impl FindingKey {
    pub fn new(hunt: HuntId, finding: Vec<String>) -> FindingKey {
        FindingKey { hunt: hunt.key().to_string(), finding }
    }
}

/// One finding's verdict, note, and when they were set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub verdict: Verdict,
    pub note: String,
    pub set_at: DateTime<Utc>,
}

impl Entry {
    /// Whether the analyst has said anything about the finding (a verdict or a note).
    pub fn is_judged(&self) -> bool {
        self.verdict != Verdict::Unreviewed || !self.note.is_empty()
    }
}

/// Reading or writing a case file failed.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("case file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "case file {path} is {size} bytes, over the {limit}-byte limit; not read (start another with --case FILE)"
    )]
    TooLarge { path: PathBuf, size: u64, limit: u64 },
    #[error("case file {path} is corrupt ({why}); moved aside to {kept}")]
    Corrupt { path: PathBuf, why: String, kept: PathBuf },
    #[error("case file {path} is corrupt ({why}) and could not be moved aside ({source}); not written")]
    CorruptKept { path: PathBuf, why: String, source: std::io::Error },
    #[error("case file {path} has version {version}, newer than this rarity understands ({VERSION}); not written")]
    NewerVersion { path: PathBuf, version: u64 },
}

/// The user's data directory: `<data dir>/rarity/case.json`, when the platform has one.
pub fn default_path() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("rarity").join("case.json"))
}

/// Verdicts and notes per finding.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaseFile {
    entries: BTreeMap<FindingKey, Entry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    version: u64,
    findings: Vec<FileEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    hunt: String,
    finding: Vec<String>,
    verdict: Verdict,
    #[serde(default)]
    note: String,
    set_at: String,
}

/// Per-hunt counts of judged findings, by verdict (`rarity case`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VerdictCounts {
    pub unreviewed: usize,
    pub benign: usize,
    pub suspicious: usize,
    pub malicious: usize,
}

impl VerdictCounts {
    pub fn add(&mut self, v: Verdict) {
        *self.slot(v) += 1;
    }

    pub fn get(&self, v: Verdict) -> usize {
        match v {
            Verdict::Unreviewed => self.unreviewed,
            Verdict::Benign => self.benign,
            Verdict::Suspicious => self.suspicious,
            Verdict::Malicious => self.malicious,
        }
    }

    fn slot(&mut self, v: Verdict) -> &mut usize {
        match v {
            Verdict::Unreviewed => &mut self.unreviewed,
            Verdict::Benign => &mut self.benign,
            Verdict::Suspicious => &mut self.suspicious,
            Verdict::Malicious => &mut self.malicious,
        }
    }

    pub fn total(&self) -> usize {
        self.unreviewed + self.benign + self.suspicious + self.malicious
    }
}

impl CaseFile {
    /// The entry of a finding, judged or not.
    pub fn entry(&self, hunt: HuntId, finding: &[String]) -> Option<&Entry> {
        // A BTreeMap lookup needs an owned key; findings are a handful of short strings.
        self.entries.get(&FindingKey::new(hunt, finding.to_vec()))
    }

    /// The verdict of a finding (`Unreviewed` when never set).
    pub fn verdict(&self, hunt: HuntId, finding: &[String]) -> Verdict {
        self.entry(hunt, finding).map(|e| e.verdict).unwrap_or_default()
    }

    /// The note of a finding (empty when none).
    pub fn note(&self, hunt: HuntId, finding: &[String]) -> &str {
        self.entry(hunt, finding).map(|e| e.note.as_str()).unwrap_or("")
    }

    /// Every entry, in file order (tombstones of cleared verdicts included).
    pub fn entries(&self) -> impl Iterator<Item = (&FindingKey, &Entry)> {
        self.entries.iter()
    }

    /// Entries the analyst said something about (a verdict other than unreviewed, or a note).
    pub fn judged(&self) -> impl Iterator<Item = (&FindingKey, &Entry)> {
        self.entries.iter().filter(|(_, e)| e.is_judged())
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Set a finding's verdict and/or note at `at` (`None` keeps the current one). Returns the
    /// entry it replaced, for undo. Notes are cut to `MAX_NOTE_CHARS`.
    pub fn set(
        &mut self,
        key: FindingKey,
        verdict: Option<Verdict>,
        note: Option<&str>,
        at: DateTime<Utc>,
    ) -> Option<Entry> {
        let old = self.entries.get(&key).cloned();
        let base = old.clone().unwrap_or(Entry { verdict: Verdict::Unreviewed, note: String::new(), set_at: at });
        let entry = Entry {
            verdict: verdict.unwrap_or(base.verdict),
            note: note.map(|n| n.chars().take(MAX_NOTE_CHARS).collect()).unwrap_or(base.note),
            set_at: at,
        };
        self.entries.insert(key, entry);
        old
    }

    /// Put an entry back as it was (undo), stamped `at` so it wins the next merge. `None`
    /// makes the finding unreviewed with no note.
    pub fn restore(&mut self, key: FindingKey, entry: Option<Entry>, at: DateTime<Utc>) {
        let (verdict, note) = entry.map(|e| (e.verdict, e.note)).unwrap_or_default();
        self.entries.insert(key, Entry { verdict, note, set_at: at });
    }

    /// Merge `other` into `self`: per finding, the entry with the newest `set_at` wins. Ties
    /// are broken on the content so that merging is order-independent.
    pub fn merge(&mut self, other: &CaseFile) {
        for (k, theirs) in &other.entries {
            match self.entries.get(k) {
                Some(ours)
                    if (ours.set_at, ours.verdict, &ours.note) >= (theirs.set_at, theirs.verdict, &theirs.note) => {}
                _ => {
                    self.entries.insert(k.clone(), theirs.clone());
                }
            }
        }
    }

    /// Counts of judged findings per hunt key and verdict, ordered by hunt key.
    pub fn counts(&self) -> BTreeMap<String, VerdictCounts> {
        let mut out: BTreeMap<String, VerdictCounts> = BTreeMap::new();
        for (k, e) in self.judged() {
            out.entry(k.hunt.clone()).or_default().add(e.verdict);
        }
        out
    }

    /// Judged findings of `output`'s hunt that are not among its rows (what a tuning hides).
    pub fn absent_from<'a>(&'a self, output: &HuntOutput) -> Vec<(&'a FindingKey, &'a Entry)> {
        let present: std::collections::HashSet<Vec<String>> =
            (0..output.rows.len()).map(|r| output.finding(r)).collect();
        self.judged().filter(|(k, _)| k.hunt == output.hunt.key() && !present.contains(&k.finding)).collect()
    }

    /// How many rows of `output` have no verdict yet.
    pub fn unreviewed_in(&self, output: &HuntOutput) -> usize {
        (0..output.rows.len()).filter(|&r| self.verdict(output.hunt, &output.finding(r)) == Verdict::Unreviewed).count()
    }

    /// KQL to append to `hunt`'s query (`rarity kql --case`): `Verdict` and `Note` as the last
    /// columns, as `rarity run --case` adds them (`unreviewed` and empty for findings not
    /// judged). Each judged finding is matched on its key columns' text; `extend` keeps the
    /// query's row order.
    pub fn kql_columns(&self, hunt: HuntId) -> String {
        // Literals never hold control characters (they would end the line).
        let lit = |s: &str| crate::hunt::kql::string_lit(&crate::hunt::kql::comment_text(s)).unwrap_or_default();
        let keys = hunt.spec().key_columns;
        let (mut verdicts, mut notes) = (Vec::new(), Vec::new());
        for (k, e) in self.judged().filter(|(k, _)| k.hunt == hunt.key() && k.finding.len() == keys.len()) {
            let cond: Vec<String> =
                keys.iter().zip(&k.finding).map(|(col, v)| format!("tostring({col}) == {}", lit(v))).collect();
            let cond = cond.join(" and ");
            if e.verdict != Verdict::Unreviewed {
                verdicts.push(format!("{cond}, {}", lit(e.verdict.label())));
            }
            if !e.note.is_empty() {
                notes.push(format!("{cond}, {}", lit(&e.note)));
            }
        }
        let expr = |pairs: Vec<String>, default: &str| {
            if pairs.is_empty() {
                lit(default)
            } else {
                format!("case(\n    {},\n    {})", pairs.join(",\n    "), lit(default))
            }
        };
        format!(
            "// Verdict and Note from the rarity case file (findings not judged: unreviewed)\n| extend Verdict = {},\n    Note = {}\n",
            expr(verdicts, Verdict::Unreviewed.label()),
            expr(notes, "")
        )
    }

    /// Read the case file at `path`. A missing file is an empty case. A corrupt file is moved
    /// aside and reported as `CaseError::Corrupt` (the path is then free for a new case).
    pub fn load(path: &Path) -> Result<CaseFile, CaseError> {
        match read_bounded(path)? {
            None => Ok(CaseFile::default()),
            Some(bytes) => parse_or_move_aside(path, &bytes),
        }
    }

    /// Save to `path`: under the lock, re-read the file, merge it into `self` (newest `set_at`
    /// wins per finding), write the result atomically. On success `self` holds the merge.
    /// A corrupt file found on disk is moved aside first and reported in `Ok(Some(..))`.
    pub fn save(&mut self, path: &Path) -> Result<Option<CaseError>, CaseError> {
        let io = |source| CaseError::Io { path: path.to_path_buf(), source };
        let dir = parent_dir(path);
        std::fs::create_dir_all(dir).map_err(io)?;
        let _lock = lock(path)?;
        let mut warning = None;
        if let Some(bytes) = read_bounded(path)? {
            match parse_or_move_aside(path, &bytes) {
                Ok(disk) => self.merge(&disk),
                Err(e @ CaseError::Corrupt { .. }) => warning = Some(e),
                Err(e) => return Err(e),
            }
        }
        let tmp = write_temp(path, self.to_json().as_bytes()).map_err(io)?;
        commit_temp(&tmp, path).map_err(io)?;
        Ok(warning)
    }

    /// The file text: pretty JSON, entries ordered by hunt key then finding, newline-terminated.
    pub fn to_json(&self) -> String {
        let doc = FileDoc {
            version: VERSION,
            findings: self
                .entries
                .iter()
                .map(|(k, e)| FileEntry {
                    hunt: k.hunt.clone(),
                    finding: k.finding.clone(),
                    verdict: e.verdict,
                    note: e.note.clone(),
                    set_at: format_set_at(e.set_at),
                })
                .collect(),
        };
        let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        text.push('\n');
        text
    }

    fn from_json(bytes: &[u8]) -> Result<CaseFile, String> {
        let doc: FileDoc = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if doc.version > VERSION {
            return Err(format!("version {}", doc.version));
        }
        let mut case = CaseFile::default();
        for (i, f) in doc.findings.into_iter().enumerate() {
            let set_at = DateTime::parse_from_rfc3339(&f.set_at)
                .map_err(|e| format!("finding {}: set_at `{}`: {e}", i + 1, f.set_at))?
                .with_timezone(&Utc);
            let entry = Entry { verdict: f.verdict, note: f.note, set_at };
            let key = FindingKey { hunt: f.hunt, finding: f.finding };
            let mut one = CaseFile::default();
            one.entries.insert(key, entry);
            case.merge(&one);
        }
        Ok(case)
    }
}

/// `set_at` as written: RFC 3339 UTC with microseconds and `Z`.
pub fn format_set_at(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The current time at the precision the file keeps (so an in-memory entry equals its reload).
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

fn parent_dir(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "case.json".into())
}

/// The file's bytes, `None` when it does not exist; refuses files over `MAX_CASE_BYTES`.
fn read_bounded(path: &Path) -> Result<Option<Vec<u8>>, CaseError> {
    let io = |source| CaseError::Io { path: path.to_path_buf(), source };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    let size = file.metadata().map_err(io)?.len();
    if size > MAX_CASE_BYTES {
        return Err(CaseError::TooLarge { path: path.to_path_buf(), size, limit: MAX_CASE_BYTES });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // The file may grow after the size check; never read past the limit.
    file.take(MAX_CASE_BYTES + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > MAX_CASE_BYTES {
        return Err(CaseError::TooLarge { path: path.to_path_buf(), size: bytes.len() as u64, limit: MAX_CASE_BYTES });
    }
    Ok(Some(bytes))
}

fn parse_or_move_aside(path: &Path, bytes: &[u8]) -> Result<CaseFile, CaseError> {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
        if let Some(version) = v.get("version").and_then(|x| x.as_u64()).filter(|&x| x > VERSION) {
            return Err(CaseError::NewerVersion { path: path.to_path_buf(), version });
        }
    }
    match CaseFile::from_json(bytes) {
        Ok(c) => Ok(c),
        Err(why) => match move_aside(path) {
            Ok(kept) => Err(CaseError::Corrupt { path: path.to_path_buf(), why, kept }),
            Err(source) => Err(CaseError::CorruptKept { path: path.to_path_buf(), why, source }),
        },
    }
}

/// Rename `path` to a fresh `<name>.corrupt-<timestamp>[-n]` beside it.
fn move_aside(path: &Path) -> std::io::Result<PathBuf> {
    let stamp = Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
    let name = file_name(path);
    for n in 0..1000u32 {
        let suffix = if n == 0 { String::new() } else { format!("-{n}") };
        let backup = path.with_file_name(format!("{name}.corrupt-{stamp}{suffix}"));
        // A hard link fails when the name is taken, so an earlier backup is never replaced.
        match std::fs::hard_link(path, &backup) {
            Ok(()) => {
                std::fs::remove_file(path)?;
                return Ok(backup);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(_) if !backup.exists() => {
                std::fs::rename(path, &backup)?;
                return Ok(backup);
            }
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free .corrupt name"))
}

/// An exclusive advisory lock on `<path>.lock`, held until the returned file is dropped.
fn lock(path: &Path) -> Result<std::fs::File, CaseError> {
    use fs4::fs_std::FileExt;
    let lock_path = path.with_file_name(format!("{}.lock", file_name(path)));
    let io = |source| CaseError::Io { path: lock_path.clone(), source };
    let f = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(io)?;
    FileExt::lock_exclusive(&f).map_err(io)?;
    Ok(f)
}

/// Write `bytes` to a new temp file beside `path` and fsync it. Returns the temp path.
fn write_temp(path: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let tmp = parent_dir(path).join(format!(
        ".{}.tmp-{}-{}",
        file_name(path),
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Rename the temp file over `path` and fsync the directory so the rename is durable.
fn commit_temp(tmp: &Path, path: &Path) -> std::io::Result<()> {
    if let Err(e) = std::fs::rename(tmp, path) {
        let _ = std::fs::remove_file(tmp);
        return Err(e);
    }
    #[cfg(unix)]
    std::fs::File::open(parent_dir(path))?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hunt::rare_process;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn key(name: &str) -> FindingKey {
        FindingKey::new(rare_process::ID, vec![name.to_string()])
    }

    #[test]
    fn a_saved_case_reloads_identically_in_stable_pretty_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("case.json");
        let mut c = CaseFile::default();
        c.set(key("zz.exe"), Some(Verdict::Benign), Some("backup agent"), at("2026-01-02T03:04:05.123456Z"));
        c.set(key("aa.exe"), Some(Verdict::Malicious), None, at("2026-01-02T03:04:06Z"));
        assert_eq!(c.save(&path).unwrap().map(|e| e.to_string()), None);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.find("aa.exe").unwrap() < text.find("zz.exe").unwrap(), "{text}");
        assert!(text.contains("\"set_at\": \"2026-01-02T03:04:05.123456Z\""), "{text}");
        assert!(text.contains("\n    {\n"), "pretty: {text}");
        assert_eq!(CaseFile::load(&path).unwrap(), c);
        assert_eq!(c.verdict(rare_process::ID, &["zz.exe".into()]), Verdict::Benign);
        assert_eq!(c.note(rare_process::ID, &["zz.exe".into()]), "backup agent");
        assert_eq!(c.verdict(rare_process::ID, &["nope.exe".into()]), Verdict::Unreviewed);
        // Saving again without changes writes the same bytes.
        c.save(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }

    #[test]
    fn missing_file_is_an_empty_case() {
        let dir = tempfile::tempdir().unwrap();
        assert!(CaseFile::load(&dir.path().join("none.json")).unwrap().is_empty());
    }

    #[test]
    fn merge_keeps_the_newest_entry_per_finding_in_either_order() {
        let mut a = CaseFile::default();
        a.set(key("x.exe"), Some(Verdict::Benign), None, at("2026-01-01T00:00:00Z"));
        a.set(key("y.exe"), Some(Verdict::Malicious), None, at("2026-01-03T00:00:00Z"));
        let mut b = CaseFile::default();
        b.set(key("x.exe"), Some(Verdict::Suspicious), Some("newer"), at("2026-01-02T00:00:00Z"));
        b.set(key("y.exe"), Some(Verdict::Unreviewed), None, at("2026-01-02T00:00:00Z"));
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, ba);
        assert_eq!(ab.verdict(rare_process::ID, &["x.exe".into()]), Verdict::Suspicious);
        assert_eq!(ab.verdict(rare_process::ID, &["y.exe".into()]), Verdict::Malicious);
    }

    #[test]
    fn a_second_writer_never_drops_the_first_writers_verdicts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("case.json");
        // Two sessions opened the same (empty) case and each judge their own findings.
        let writers: Vec<_> = (0..2)
            .map(|w| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let mut mine = CaseFile::load(&path).unwrap();
                    for i in 0..25 {
                        mine.set(key(&format!("w{w}-{i}.exe")), Some(Verdict::Benign), None, now());
                        mine.save(&path).unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let merged = CaseFile::load(&path).unwrap();
        assert_eq!(merged.judged().count(), 50);
        // A writer with an old in-memory copy does not bring back what it did not change.
        let mut stale = CaseFile::default();
        stale.set(key("late.exe"), Some(Verdict::Malicious), None, now());
        stale.save(&path).unwrap();
        assert_eq!(CaseFile::load(&path).unwrap().judged().count(), 51);
    }

    #[test]
    fn clearing_a_verdict_survives_a_merge_with_the_older_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("case.json");
        let mut c = CaseFile::default();
        c.set(key("x.exe"), Some(Verdict::Malicious), None, at("2026-01-01T00:00:00Z"));
        c.save(&path).unwrap();
        let mut other = CaseFile::load(&path).unwrap();
        other.set(key("x.exe"), Some(Verdict::Unreviewed), None, at("2026-01-02T00:00:00Z"));
        other.save(&path).unwrap();
        c.save(&path).unwrap();
        assert_eq!(CaseFile::load(&path).unwrap().verdict(rare_process::ID, &["x.exe".into()]), Verdict::Unreviewed);
    }

    #[test]
    fn corrupt_file_is_moved_aside_reported_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("case.json");
        std::fs::write(&path, b"{\"version\":1,\"findings\":[{\"hunt\":").unwrap();
        let err = CaseFile::load(&path).unwrap_err();
        let CaseError::Corrupt { kept, .. } = &err else { panic!("{err}") };
        assert!(err.to_string().contains("case.json"), "{err}");
        assert!(!path.exists());
        assert_eq!(std::fs::read(kept).unwrap(), b"{\"version\":1,\"findings\":[{\"hunt\":");
        // A second corrupt file gets its own backup name.
        std::fs::write(&path, b"[1,2]").unwrap();
        let mut c = CaseFile::default();
        c.set(key("x.exe"), Some(Verdict::Benign), None, now());
        let warning = c.save(&path).unwrap();
        assert!(matches!(warning, Some(CaseError::Corrupt { .. })), "{warning:?}");
        let backups: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("case.json.corrupt-"))
            .collect();
        assert_eq!(backups.len(), 2, "{backups:?}");
        assert_eq!(CaseFile::load(&path).unwrap(), c);
    }

    #[test]
    fn a_bad_entry_makes_the_file_corrupt_rather_than_silently_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("case.json");
        std::fs::write(
            &path,
            r#"{"version":1,"findings":[{"hunt":"rare-process","finding":["a"],"verdict":"evil","note":"","set_at":"2026-01-01T00:00:00Z"}]}"#,
        )
        .unwrap();
        assert!(matches!(CaseFile::load(&path), Err(CaseError::Corrupt { .. })));
    }

    #[test]
    fn unreadable_or_oversized_files_are_errors_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be cannot be read.
        let path = dir.path().join("case.json");
        std::fs::create_dir(&path).unwrap();
        assert!(matches!(CaseFile::load(&path), Err(CaseError::Io { .. })));
        assert!(path.is_dir());
        let big = dir.path().join("big.json");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(MAX_CASE_BYTES + 1).unwrap();
        let err = CaseFile::load(&big).unwrap_err();
        assert!(matches!(err, CaseError::TooLarge { .. }), "{err}");
        assert!(err.to_string().contains("big.json"), "{err}");
        let mut c = CaseFile::default();
        c.set(key("x.exe"), Some(Verdict::Benign), None, now());
        assert!(matches!(c.save(&big), Err(CaseError::TooLarge { .. })));
        assert_eq!(std::fs::metadata(&big).unwrap().len(), MAX_CASE_BYTES + 1);
    }

    #[test]
    fn a_crash_between_write_and_rename_leaves_the_previous_file_intact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("case.json");
        let mut c = CaseFile::default();
        c.set(key("x.exe"), Some(Verdict::Benign), None, at("2026-01-01T00:00:00Z"));
        c.save(&path).unwrap();
        let before = std::fs::read(&path).unwrap();
        let mut next = c.clone();
        next.set(key("y.exe"), Some(Verdict::Malicious), None, at("2026-01-02T00:00:00Z"));
        // The temp file is written and synced, then the process "dies" before the rename.
        let tmp = write_temp(&path, next.to_json().as_bytes()).unwrap();
        assert!(tmp.exists());
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert_eq!(CaseFile::load(&path).unwrap(), c);
        // The next save is unaffected by the leftover temp file.
        next.save(&path).unwrap();
        assert_eq!(CaseFile::load(&path).unwrap(), next);
    }

    #[test]
    fn kql_columns_match_each_judged_finding_on_its_key_columns() {
        let mut c = CaseFile::default();
        c.set(key("ncat.exe"), Some(Verdict::Malicious), Some("say \"hi\"\nnow"), now());
        c.set(key("x.exe"), None, Some("only a note"), now());
        let k = c.kql_columns(rare_process::ID);
        assert!(k.contains("tostring(InitiatingProcessFileName) == \"ncat.exe\", \"malicious\""), "{k}");
        assert!(k.contains("\"say \\\"hi\\\" now\""), "{k}");
        assert!(k.contains("tostring(InitiatingProcessFileName) == \"x.exe\", \"only a note\""), "{k}");
        assert!(!k.contains("x.exe\", \"unreviewed\""), "{k}");
        // Nothing judged: constant columns.
        let empty = CaseFile::default().kql_columns(rare_process::ID);
        assert!(empty.contains("| extend Verdict = \"unreviewed\",\n    Note = \"\"\n"), "{empty}");
    }

    #[test]
    fn newer_versions_are_refused_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("case.json");
        std::fs::write(&path, r#"{"version":99,"findings":[]}"#).unwrap();
        assert!(matches!(CaseFile::load(&path), Err(CaseError::NewerVersion { .. })));
        assert!(path.exists());
    }

    #[test]
    fn entries_of_unknown_hunts_survive_a_save() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("case.json");
        std::fs::write(
            &path,
            r#"{"version":1,"findings":[{"hunt":"future-hunt","finding":["a"],"verdict":"benign","note":"n","set_at":"2026-01-01T00:00:00Z"}]}"#,
        )
        .unwrap();
        let mut c = CaseFile::load(&path).unwrap();
        c.set(key("x.exe"), Some(Verdict::Benign), None, now());
        c.save(&path).unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().contains("future-hunt"));
    }

    #[test]
    fn set_returns_the_previous_entry_and_restore_puts_it_back() {
        let mut c = CaseFile::default();
        assert_eq!(c.set(key("x.exe"), Some(Verdict::Benign), None, at("2026-01-01T00:00:00Z")), None);
        let prev = c.set(key("x.exe"), None, Some("note"), at("2026-01-02T00:00:00Z"));
        assert_eq!(prev.as_ref().map(|e| e.verdict), Some(Verdict::Benign));
        assert_eq!(c.verdict(rare_process::ID, &["x.exe".into()]), Verdict::Benign);
        c.restore(key("x.exe"), prev, at("2026-01-03T00:00:00Z"));
        assert_eq!(c.note(rare_process::ID, &["x.exe".into()]), "");
        c.restore(key("x.exe"), None, at("2026-01-04T00:00:00Z"));
        assert_eq!(c.judged().count(), 0);
    }
}
