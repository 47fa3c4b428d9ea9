//! Saved tuning: each hunt's parameter values and list toggles, kept in a JSON file
//! (`<config dir>/rarity/config.json` unless `--config FILE`) that the TUI writes as values
//! change and `rarity run` reads.
//!
//! The file only holds parameters that differ from their defaults, so improved defaults reach
//! users who never touched them. Several rarity processes may share one file: a save re-reads
//! it and replaces only the hunts this process changed since its last save, keeping every other
//! hunt (and anything this version does not know) as it is on disk. A file that is not valid
//! JSON is copied aside to a new `config.json.corrupt-<timestamp>[-N]` (never over an earlier
//! backup) rather than overwritten; a bad entry inside a valid file is reported and that one
//! parameter falls back to its default. Reads are bounded (`MAX_CONFIG_BYTES`), and anything
//! that is not a regular file (a directory, a device, a pipe) is neither read nor written.

use crate::hunt::{params::parse_item, HuntId, HuntParams, ListItem, ParamValue};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

const VERSION: u64 = 1;

/// The largest config file read: a config holding every parameter of every hunt with long
/// lists is a few KiB.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Saving the config failed; the message names the file and what to do is up to the caller
/// (the TUI keeps it on screen).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot {action} {path}: {source}")]
    Io { path: PathBuf, action: &'static str, source: std::io::Error },
    #[error("{path} is a directory, not a config file")]
    IsDirectory { path: PathBuf },
    #[error("{path} is {kind}, not a config file")]
    NotAFile { path: PathBuf, kind: &'static str },
    #[error("{path} is larger than {} MiB: not a rarity config, left as it is", MAX_CONFIG_BYTES >> 20)]
    TooLarge { path: PathBuf },
    #[error(
        "{path} was written by a newer rarity (config version {version}; this one knows {VERSION}): left as it is"
    )]
    NewerVersion { path: PathBuf, version: u64 },
    #[error("{path}: not saved over a corrupt config that could not be backed up ({source})")]
    KeptCorrupt { path: PathBuf, source: std::io::Error },
}

/// The user's saved parameter values, per hunt.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    hunts: BTreeMap<HuntId, HuntParams>,
    /// Hunts set by this process since its last save: the only ones a save writes.
    changed: BTreeSet<HuntId>,
}

/// `<config dir>/rarity/config.json`, when the platform has a config dir.
pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("rarity").join("config.json"))
}

use crate::source::kind_name;

/// The file's bytes (`None` when it does not exist), refusing directories, devices, pipes and
/// anything over `MAX_CONFIG_BYTES` without reading them.
fn read_file(path: &Path) -> Result<Option<Vec<u8>>, ConfigError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(ConfigError::Io { path: path.into(), action: "read", source }),
    };
    if meta.is_dir() {
        return Err(ConfigError::IsDirectory { path: path.into() });
    }
    if !meta.is_file() {
        return Err(ConfigError::NotAFile { path: path.into(), kind: kind_name(&meta) });
    }
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(ConfigError::TooLarge { path: path.into() });
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|source| ConfigError::Io { path: path.into(), action: "read", source })?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(ConfigError::TooLarge { path: path.into() });
    }
    Ok(Some(bytes))
}

/// The JSON object in `bytes` (a UTF-8 BOM is allowed), or why it is not one.
fn parse_root(bytes: &[u8]) -> Result<Map<String, Value>, String> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(bytes);
    match serde_json::from_slice(text) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err("not a JSON object".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// The document's `version`: Ok when this rarity reads it (absent means 1), the newer version
/// it cannot safely rewrite, or a warning for a value that is no version at all.
enum Version {
    Known,
    Newer(u64),
    Unknown(String),
}

fn version_of(root: &Map<String, Value>) -> Version {
    match root.get("version") {
        None => Version::Known,
        Some(v) => match v.as_u64() {
            Some(VERSION) => Version::Known,
            Some(n) if n > VERSION => Version::Newer(n),
            _ => Version::Unknown(v.to_string()),
        },
    }
}

/// A config file that is not valid JSON, copied to a new backup name (never an existing one:
/// `config.json.corrupt-<timestamp>`, then `-1`, `-2`, ...). Returns the backup's path.
fn back_up(path: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "config.json".into());
    let mut n = 0u32;
    loop {
        let suffix = if n == 0 { String::new() } else { format!("-{n}") };
        let backup = path.with_file_name(format!("{name}.corrupt-{stamp}{suffix}"));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&backup) {
            Ok(mut f) => {
                let written = f.write_all(bytes).and_then(|()| f.sync_all());
                if let Err(e) = written {
                    let _ = std::fs::remove_file(&backup);
                    return Err(e);
                }
                return Ok(backup);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 10_000 => n += 1,
            Err(e) => return Err(e),
        }
    }
}

/// A temp file name in the config's directory, unique per process and save.
fn temp_name(name: &str) -> String {
    static SAVES: AtomicU64 = AtomicU64::new(0);
    format!(".{name}.tmp-{}-{}", std::process::id(), SAVES.fetch_add(1, Ordering::Relaxed))
}

impl Config {
    /// Read the config at `path`. A missing file is an empty config. Anything wrong is
    /// described in the returned warning (one line, entries separated by `; `).
    pub fn load(path: &Path) -> (Config, Option<String>) {
        let bytes = match read_file(path) {
            Ok(Some(b)) => b,
            Ok(None) => return (Config::default(), None),
            Err(e) => {
                return (Config::default(), Some(format!("config: {e}; using defaults, changes not saved there")))
            }
        };
        let root = match parse_root(&bytes) {
            Ok(o) => o,
            Err(why) => return corrupt(path, &bytes, &why),
        };
        let mut warnings = Vec::new();
        match version_of(&root) {
            Version::Known => {}
            Version::Newer(n) => warnings.push(format!(
                "written by a newer rarity (version {n}; this one knows {VERSION}): reading what this version \
                 understands, changes are not saved there"
            )),
            Version::Unknown(v) => warnings.push(format!("unknown `version` {v}; read as version {VERSION}")),
        }
        let cfg = Config::from_json(&Value::Object(root), &mut warnings);
        let warning = (!warnings.is_empty()).then(|| format!("config {}: {}", path.display(), warnings.join("; ")));
        (cfg, warning)
    }

    fn from_json(root: &Value, warnings: &mut Vec<String>) -> Config {
        let mut cfg = Config::default();
        if let Some(obj) = root.as_object() {
            for key in obj.keys().filter(|k| *k != "version" && *k != "hunts") {
                warnings.push(format!("unknown key `{key}` ignored"));
            }
        }
        let Some(hunts) = root.get("hunts") else { return cfg };
        let Some(hunts) = hunts.as_object() else {
            warnings.push("`hunts` is not an object; using defaults".into());
            return cfg;
        };
        for (hunt_key, values) in hunts {
            let Some(hunt) = HuntId::from_key(hunt_key) else {
                warnings.push(format!("unknown hunt `{hunt_key}` ignored"));
                continue;
            };
            let Some(values) = values.as_object() else {
                warnings.push(format!("{hunt_key}: not an object; using defaults"));
                continue;
            };
            let mut params = HuntParams::defaults(hunt);
            for (key, v) in values {
                let Some(i) = params.index_of(key) else {
                    warnings.push(format!("{hunt_key}: unknown parameter `{key}` ignored"));
                    continue;
                };
                let spec = params.specs()[i];
                match value_from_json(&params.values[i], spec.kind, v) {
                    Ok(value) => params.values[i] = value,
                    Err(why) => warnings.push(format!("{hunt_key}.{key}: {why}; using the default {}", spec.default)),
                }
            }
            if !params.is_default() {
                cfg.hunts.insert(hunt, params);
            }
        }
        cfg
    }

    /// The saved values for `hunt`, defaults where nothing is saved.
    pub fn params_for(&self, hunt: HuntId) -> HuntParams {
        self.hunts.get(&hunt).cloned().unwrap_or_else(|| HuntParams::defaults(hunt))
    }

    /// Remember `params` for its hunt (defaults are forgotten, so the file stays small); the
    /// next save writes this hunt.
    pub fn set_params(&mut self, params: &HuntParams) {
        if params.is_default() {
            self.hunts.remove(&params.hunt);
        } else {
            self.hunts.insert(params.hunt, params.clone());
        }
        self.changed.insert(params.hunt);
    }

    /// The non-default values of `hunt` as the file holds them (None when all are defaults).
    fn hunt_json(&self, hunt: HuntId) -> Option<Map<String, Value>> {
        let params = self.hunts.get(&hunt)?;
        let defaults = HuntParams::defaults(hunt);
        let mut values = Map::new();
        for ((spec, v), d) in params.specs().iter().zip(&params.values).zip(&defaults.values) {
            if v != d {
                values.insert(spec.key.to_string(), value_to_json(v));
            }
        }
        Some(values)
    }

    /// The JSON document of this config alone (what `save` writes to a fresh file).
    pub fn to_json(&self) -> Value {
        let mut hunts = Map::new();
        for hunt in self.hunts.keys() {
            if let Some(values) = self.hunt_json(*hunt) {
                hunts.insert(hunt.key().to_string(), Value::Object(values));
            }
        }
        json!({ "version": VERSION, "hunts": hunts })
    }

    /// Write the hunts changed since the last save into the file at `path`, keeping what the
    /// file holds for every other hunt (another rarity may have saved them) and every key this
    /// version does not know. A symlink is followed and its target replaced. The write is
    /// atomic: a temp file in the same directory, then rename, so a crash mid-write never
    /// leaves a truncated config.
    ///
    /// Returns a note when the file on disk had become corrupt and was backed up first.
    pub fn save(&mut self, path: &Path) -> Result<Option<String>, ConfigError> {
        let target = if path.is_symlink() { std::fs::canonicalize(path).unwrap_or(path.into()) } else { path.into() };
        let mut note = None;
        let mut root = match read_file(&target)? {
            None => Map::new(),
            Some(bytes) => match parse_root(&bytes) {
                Ok(root) => match version_of(&root) {
                    Version::Newer(version) => return Err(ConfigError::NewerVersion { path: target, version }),
                    Version::Known | Version::Unknown(_) => root,
                },
                Err(why) => {
                    let backup = back_up(&target, &bytes)
                        .map_err(|source| ConfigError::KeptCorrupt { path: target.clone(), source })?;
                    note = Some(format!(
                        "config {} had become corrupt ({why}); moved to {}",
                        target.display(),
                        backup.display()
                    ));
                    Map::new()
                }
            },
        };
        let mut hunts = match root.remove("hunts") {
            Some(Value::Object(h)) => h,
            _ => Map::new(),
        };
        for &hunt in &self.changed {
            let mut entry = match hunts.remove(hunt.key()) {
                Some(Value::Object(o)) => o,
                _ => Map::new(),
            };
            // Keys this version knows are ours to write; others (a newer rarity's) stay.
            let defaults = HuntParams::defaults(hunt);
            entry.retain(|k, _| defaults.index_of(k).is_none());
            entry.extend(self.hunt_json(hunt).unwrap_or_default());
            if !entry.is_empty() {
                hunts.insert(hunt.key().to_string(), Value::Object(entry));
            }
        }
        root.insert("version".into(), json!(VERSION));
        root.insert("hunts".into(), Value::Object(hunts));
        let mut text = serde_json::to_string_pretty(&Value::Object(root)).unwrap_or_default();
        text.push('\n');
        write_atomically(&target, text.as_bytes())?;
        // What the file now says is what this process holds: other processes' hunts included.
        let mut ignored = Vec::new();
        let saved: Value = serde_json::from_str(&text).unwrap_or_default();
        self.hunts = Config::from_json(&saved, &mut ignored).hunts;
        self.changed.clear();
        Ok(note)
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ConfigError> {
    let io = |action| move |source| ConfigError::Io { path: path.into(), action, source };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io("create the directory of"))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "config.json".into());
    let tmp = dir.join(temp_name(&name));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io("write")(e)
    })?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io("replace")(e)
    })
}

/// Copy a corrupt config aside and say where it went. When it cannot be backed up, saving
/// refuses to overwrite it (`ConfigError::KeptCorrupt`).
fn corrupt(path: &Path, bytes: &[u8], why: &str) -> (Config, Option<String>) {
    match back_up(path, bytes) {
        Ok(backup) => {
            let _ = std::fs::remove_file(path);
            (
                Config::default(),
                Some(format!(
                    "config {} is corrupt ({why}); moved to {} and using defaults",
                    path.display(),
                    backup.display()
                )),
            )
        }
        Err(e) => (
            Config::default(),
            Some(format!(
                "config {} is corrupt ({why}) and could not be backed up ({e}); using defaults, changes not saved",
                path.display()
            )),
        ),
    }
}

fn value_to_json(v: &ParamValue) -> Value {
    match v {
        ParamValue::List(items) => {
            Value::Array(items.iter().map(|i| json!({ "text": i.text, "enabled": i.enabled })).collect())
        }
        other => Value::String(other.to_text()),
    }
}

/// A saved value: scalars as their `--set` text (numbers and booleans also as JSON values),
/// lists as `[{"text","enabled"}]` or a plain array / comma-separated string (all enabled).
fn value_from_json(current: &ParamValue, kind: crate::hunt::ParamKind, v: &Value) -> Result<ParamValue, String> {
    use crate::hunt::params::parse_value;
    if !kind.is_list() {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err(format!("expected {}", kind.accepted_form())),
        };
        return parse_value(kind, &text);
    }
    debug_assert!(matches!(current, ParamValue::List(_)));
    match v {
        Value::String(s) => parse_value(kind, s),
        Value::Array(arr) => {
            let mut items = Vec::with_capacity(arr.len());
            for entry in arr {
                let (text, enabled) = match entry {
                    Value::String(s) => (s.as_str(), true),
                    Value::Object(o) => {
                        let text = o.get("text").and_then(Value::as_str).ok_or("list item without `text`")?;
                        let enabled = match o.get("enabled") {
                            None => true,
                            Some(Value::Bool(b)) => *b,
                            Some(_) => return Err("`enabled` must be true or false".into()),
                        };
                        (text, enabled)
                    }
                    _ => return Err("list items must be strings or {\"text\", \"enabled\"} objects".into()),
                };
                items.push(ListItem { text: parse_item(kind, text)?, enabled });
            }
            Ok(ParamValue::List(items))
        }
        _ => Err(format!("expected a list: {}", kind.accepted_form())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_round_trips_values_and_list_toggles() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("config.json");
        let mut p = HuntParams::defaults(crate::hunt::rare_process::ID);
        p.set("max_devices", "7").unwrap();
        p.add_item("excluded_nets", "10.0.0.0/8").unwrap();
        p.items_mut("excluded_nets").unwrap()[0].enabled = false;
        let mut cfg = Config::default();
        cfg.set_params(&p);
        cfg.save(&path).unwrap();
        let (back, warning) = Config::load(&path);
        assert_eq!(warning, None);
        assert_eq!(back.params_for(crate::hunt::rare_process::ID), p);
        assert_eq!(back.params_for(crate::hunt::ti_inbound::ID), HuntParams::defaults(crate::hunt::ti_inbound::ID));
        // No temp file left behind.
        let names: Vec<_> =
            std::fs::read_dir(path.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("config.json")]);
    }

    #[test]
    fn resetting_a_hunt_to_defaults_removes_it_from_the_file() {
        let mut cfg = Config::default();
        let mut p = HuntParams::defaults(crate::hunt::supply_chain::ID);
        p.set("max_prevalence", "2").unwrap();
        cfg.set_params(&p);
        assert!(cfg.to_json()["hunts"]["supply-chain"]["max_prevalence"].is_string());
        cfg.set_params(&HuntParams::defaults(crate::hunt::supply_chain::ID));
        assert_eq!(cfg.to_json()["hunts"], json!({}));
    }

    #[test]
    fn corrupt_config_is_backed_up_and_replaced_by_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, "{ not json").unwrap();
        let (cfg, warning) = Config::load(&path);
        assert_eq!(cfg, Config::default());
        let warning = warning.expect("a warning");
        assert!(warning.contains("corrupt"), "{warning}");
        assert!(!path.exists(), "the corrupt file must be moved aside");
        let backups: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("config.json.corrupt-"))
            .collect();
        assert_eq!(backups.len(), 1);
        assert_eq!(std::fs::read_to_string(dir.path().join(&backups[0])).unwrap(), "{ not json");
        assert!(warning.contains(&backups[0]), "{warning}");
    }

    #[test]
    fn unknown_keys_and_bad_values_warn_and_fall_back_per_parameter() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let doc = json!({
            "version": 1,
            "colour": "blue",
            "hunts": {
                "rare-process": { "lookback": "30x", "max_devices": 9, "nope": 1,
                                  "browsers": ["a.exe", {"text": "b.exe", "enabled": false}] },
                "no-such-hunt": {},
                "server-anomaly": { "known_domains": "good.example,bad domain" }
            }
        });
        std::fs::write(&path, doc.to_string()).unwrap();
        let (cfg, warning) = Config::load(&path);
        let warning = warning.unwrap();
        for needle in ["colour", "rare-process.lookback", "nope", "no-such-hunt", "server-anomaly.known_domains"] {
            assert!(warning.contains(needle), "{needle} missing from {warning}");
        }
        let p = cfg.params_for(crate::hunt::rare_process::ID);
        assert_eq!(p.get("lookback"), HuntParams::defaults(crate::hunt::rare_process::ID).get("lookback"));
        assert_eq!(p.integer("max_devices"), 9);
        assert_eq!(p.enabled("browsers"), vec!["a.exe"]);
        assert_eq!(
            cfg.params_for(crate::hunt::server_anomaly::ID),
            HuntParams::defaults(crate::hunt::server_anomaly::ID)
        );
        assert!(path.exists(), "a valid file with bad entries is not moved");
    }

    fn rare_process_with(max_devices: &str) -> HuntParams {
        let mut p = HuntParams::defaults(crate::hunt::rare_process::ID);
        p.set("max_devices", max_devices).unwrap();
        p
    }

    #[test]
    fn two_processes_on_one_file_merge_per_hunt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let (mut a, _) = Config::load(&path);
        let (mut b, _) = Config::load(&path);
        a.set_params(&rare_process_with("7"));
        a.save(&path).unwrap();
        let mut sc = HuntParams::defaults(crate::hunt::supply_chain::ID);
        sc.set("max_prevalence", "2").unwrap();
        b.set_params(&sc);
        b.save(&path).unwrap();
        let (both, warning) = Config::load(&path);
        assert_eq!(warning, None);
        assert_eq!(both.params_for(crate::hunt::rare_process::ID).integer("max_devices"), 7);
        assert_eq!(both.params_for(crate::hunt::supply_chain::ID), sc);
        // A saves again after changing the same hunt: B's hunt stays; A now also holds it.
        a.set_params(&rare_process_with("9"));
        a.save(&path).unwrap();
        let (after, _) = Config::load(&path);
        assert_eq!(after.params_for(crate::hunt::rare_process::ID).integer("max_devices"), 9);
        assert_eq!(after.params_for(crate::hunt::supply_chain::ID), sc);
        assert_eq!(a.params_for(crate::hunt::supply_chain::ID), sc);
        // B resets its hunt to the defaults: only that hunt leaves the file.
        b.set_params(&HuntParams::defaults(crate::hunt::supply_chain::ID));
        b.save(&path).unwrap();
        let (last, _) = Config::load(&path);
        assert_eq!(last.params_for(crate::hunt::rare_process::ID).integer("max_devices"), 9);
        assert_eq!(last.params_for(crate::hunt::supply_chain::ID), HuntParams::defaults(crate::hunt::supply_chain::ID));
    }

    #[test]
    fn saving_keeps_what_this_version_does_not_know() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let doc = json!({"version": 1, "theme": "dark",
            "hunts": {"future-hunt": {"x": 1}, "rare-process": {"max_devices": "3", "future_param": true}}});
        std::fs::write(&path, doc.to_string()).unwrap();
        let (mut cfg, _) = Config::load(&path);
        cfg.set_params(&rare_process_with("5"));
        cfg.save(&path).unwrap();
        let saved: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(saved["theme"], "dark");
        assert_eq!(saved["hunts"]["future-hunt"], json!({"x": 1}));
        assert_eq!(saved["hunts"]["rare-process"], json!({"max_devices": "5", "future_param": true}));
    }

    #[test]
    fn a_failed_save_is_a_typed_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = Config::default();
        cfg.set_params(&rare_process_with("7"));
        // The path is a directory.
        let err = cfg.save(dir.path()).unwrap_err();
        assert!(matches!(err, ConfigError::IsDirectory { .. }), "{err}");
        assert_eq!(err.to_string(), format!("{} is a directory, not a config file", dir.path().display()));
        // Its directory cannot be created (a file stands where it would be).
        std::fs::write(dir.path().join("plain"), "x").unwrap();
        let err = cfg.save(&dir.path().join("plain").join("config.json")).unwrap_err();
        assert!(matches!(err, ConfigError::Io { .. }), "{err}");
        assert!(err.to_string().contains("config.json"), "{err}");
        // A read-only directory (not enforced for root, which may write anywhere).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let ro = dir.path().join("ro");
            std::fs::create_dir(&ro).unwrap();
            std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
            let enforced = std::fs::write(ro.join("probe"), "x").is_err();
            if enforced {
                let err = cfg.save(&ro.join("config.json")).unwrap_err();
                assert!(matches!(err, ConfigError::Io { action: "write", .. }), "{err}");
                assert!(err.to_string().contains("config.json"), "{err}");
                assert_eq!(std::fs::read_dir(&ro).unwrap().count(), 0, "no temp file left");
            }
            std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        // Nothing was lost: the change is still pending and a good path saves it.
        let good = dir.path().join("config.json");
        cfg.save(&good).unwrap();
        assert_eq!(Config::load(&good).0.params_for(crate::hunt::rare_process::ID).integer("max_devices"), 7);
    }

    #[test]
    fn a_utf8_bom_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, "\u{feff}{\"version\": 1, \"hunts\": {\"rare-process\": {\"max_devices\": 6}}}").unwrap();
        let (cfg, warning) = Config::load(&path);
        assert_eq!(warning, None);
        assert_eq!(cfg.params_for(crate::hunt::rare_process::ID).integer("max_devices"), 6);
        assert!(path.exists());
    }

    #[test]
    fn corrupt_backups_never_overwrite_an_earlier_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        for text in ["{ first", "{ second", "{ third"] {
            std::fs::write(&path, text).unwrap();
            let (_, warning) = Config::load(&path);
            assert!(warning.unwrap().contains("moved to"));
        }
        let mut backups: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        backups.sort();
        assert_eq!(backups, vec!["{ first", "{ second", "{ third"]);
        // A file that turned corrupt under a running process is backed up by its next save.
        let (mut cfg, _) = Config::load(&path);
        std::fs::write(&path, "{ fourth").unwrap();
        cfg.set_params(&rare_process_with("7"));
        let note = cfg.save(&path).unwrap().expect("a note about the backup");
        assert!(note.contains("had become corrupt"), "{note}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 5);
    }

    #[test]
    fn unknown_and_newer_versions_are_reported_and_newer_files_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, r#"{"version": "one", "hunts": {"rare-process": {"max_devices": 6}}}"#).unwrap();
        let (cfg, warning) = Config::load(&path);
        assert!(warning.unwrap().contains("unknown `version` \"one\"; read as version 1"));
        assert_eq!(cfg.params_for(crate::hunt::rare_process::ID).integer("max_devices"), 6);

        let newer = r#"{"version": 2, "hunts": {"rare-process": {"max_devices": 6}}}"#;
        std::fs::write(&path, newer).unwrap();
        let (mut cfg, warning) = Config::load(&path);
        let warning = warning.unwrap();
        assert!(warning.contains("newer rarity (version 2"), "{warning}");
        assert_eq!(cfg.params_for(crate::hunt::rare_process::ID).integer("max_devices"), 6);
        cfg.set_params(&rare_process_with("9"));
        let err = cfg.save(&path).unwrap_err();
        assert!(matches!(err, ConfigError::NewerVersion { version: 2, .. }), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), newer);
    }

    #[test]
    fn huge_files_and_devices_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let mut big = b"{\"hunts\": {}, \"pad\": \"".to_vec();
        big.resize(MAX_CONFIG_BYTES as usize + 1, b'x');
        std::fs::write(&path, &big).unwrap();
        let (cfg, warning) = Config::load(&path);
        assert_eq!(cfg, Config::default());
        assert!(warning.unwrap().contains("larger than 1 MiB"));
        let mut cfg = cfg;
        cfg.set_params(&rare_process_with("9"));
        assert!(matches!(cfg.save(&path), Err(ConfigError::TooLarge { .. })));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), MAX_CONFIG_BYTES + 1);
        #[cfg(unix)]
        {
            let zero = Path::new("/dev/zero");
            let (cfg, warning) = Config::load(zero);
            assert_eq!(cfg, Config::default());
            assert!(warning.unwrap().contains("/dev/zero is a character device, not a config file"));
            let mut cfg = cfg;
            cfg.set_params(&rare_process_with("9"));
            assert!(matches!(cfg.save(zero), Err(ConfigError::NotAFile { .. })));
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_config_is_saved_through_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles-config.json");
        std::fs::write(&real, "{}").unwrap();
        let link = dir.path().join("config.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let (mut cfg, _) = Config::load(&link);
        cfg.set_params(&rare_process_with("7"));
        cfg.save(&link).unwrap();
        assert!(link.is_symlink());
        assert_eq!(Config::load(&real).0.params_for(crate::hunt::rare_process::ID).integer("max_devices"), 7);
    }

    #[test]
    fn missing_config_is_empty_without_warning() {
        let dir = tempfile::tempdir().unwrap();
        let (cfg, warning) = Config::load(&dir.path().join("absent.json"));
        assert_eq!(cfg, Config::default());
        assert_eq!(warning, None);
    }
}
