//! Saved tuning: each hunt's parameter values and list toggles, kept in a JSON file
//! (`<config dir>/rarity/config.json` unless `--config FILE`) that the TUI writes as values
//! change and `rarity run` reads.
//!
//! The file only holds parameters that differ from their defaults, so improved defaults reach
//! users who never touched them. A file that is not valid JSON is moved aside to
//! `config.json.corrupt-<timestamp>` rather than overwritten; a bad entry inside a valid file
//! is reported and that one parameter falls back to its default.

use crate::hunt::{params::parse_item, HuntId, HuntParams, ListItem, ParamValue};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const VERSION: u64 = 1;

/// Saving the config failed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not saved over a corrupt config that could not be backed up")]
    KeptCorrupt { path: PathBuf },
}

/// The user's saved parameter values, per hunt.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    hunts: BTreeMap<HuntId, HuntParams>,
    /// Set when a corrupt file could not be moved aside: saving would destroy it.
    keep_file: bool,
}

/// `<config dir>/rarity/config.json`, when the platform has a config dir.
pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("rarity").join("config.json"))
}

impl Config {
    /// Read the config at `path`. A missing file is an empty config. Anything wrong is
    /// described in the returned warning (one line, entries separated by `; `).
    pub fn load(path: &Path) -> (Config, Option<String>) {
        let text = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Config::default(), None),
            Err(e) => {
                return (Config::default(), Some(format!("cannot read config {}: {e}; using defaults", path.display())))
            }
        };
        let root: Value = match serde_json::from_slice(&text) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => return corrupt(path, "not a JSON object"),
            Err(e) => return corrupt(path, &e.to_string()),
        };
        let mut warnings = Vec::new();
        let cfg = Config::from_json(&root, &mut warnings);
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

    /// Remember `params` for its hunt (defaults are forgotten, so the file stays small).
    pub fn set_params(&mut self, params: &HuntParams) {
        if params.is_default() {
            self.hunts.remove(&params.hunt);
        } else {
            self.hunts.insert(params.hunt, params.clone());
        }
    }

    /// The JSON document `save` writes.
    pub fn to_json(&self) -> Value {
        let mut hunts = Map::new();
        for (hunt, params) in &self.hunts {
            let defaults = HuntParams::defaults(*hunt);
            let mut values = Map::new();
            for ((spec, v), d) in params.specs().iter().zip(&params.values).zip(&defaults.values) {
                if v != d {
                    values.insert(spec.key.to_string(), value_to_json(v));
                }
            }
            hunts.insert(hunt.key().to_string(), Value::Object(values));
        }
        json!({ "version": VERSION, "hunts": hunts })
    }

    /// Write to `path` atomically: a temp file in the same directory, then rename, so a crash
    /// mid-write never leaves a truncated config.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        if self.keep_file {
            return Err(ConfigError::KeptCorrupt { path: path.to_path_buf() });
        }
        let io = |source| ConfigError::Io { path: path.to_path_buf(), source };
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io)?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "config.json".into());
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let mut text = serde_json::to_string_pretty(&self.to_json()).unwrap_or_default();
        text.push('\n');
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })
    }
}

/// Move a corrupt config aside and say where it went. When it cannot be moved, the returned
/// config refuses to save over it.
fn corrupt(path: &Path, why: &str) -> (Config, Option<String>) {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "config.json".into());
    let backup = path.with_file_name(format!("{name}.corrupt-{stamp}"));
    match std::fs::rename(path, &backup) {
        Ok(()) => (
            Config::default(),
            Some(format!(
                "config {} is corrupt ({why}); moved to {} and using defaults",
                path.display(),
                backup.display()
            )),
        ),
        Err(e) => (
            Config { keep_file: true, ..Config::default() },
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

    #[test]
    fn missing_config_is_empty_without_warning() {
        let dir = tempfile::tempdir().unwrap();
        let (cfg, warning) = Config::load(&dir.path().join("absent.json"));
        assert_eq!(cfg, Config::default());
        assert_eq!(warning, None);
    }
}
