//! Hunt parameters as data: each hunt declares `ParamSpec`s; the user's values are `HuntParams`.
//! The CLI (`--set`), the TUI parameter panel and the config file all go through this module.

use super::HuntId;
use crate::model::time::{format_duration, parse_duration, Nanos};

/// The kind of a parameter, which decides how its text is parsed and edited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParamKind {
    /// `30d`, `1h`, `90m`.
    Duration,
    /// A whole number >= 0.
    Integer,
    /// `true` / `false`.
    Bool,
    /// List of IPv4/IPv6 networks in CIDR form (a bare address means /32 or /128).
    Cidrs,
    /// List of names (process names, device names), compared case-insensitively.
    Names,
    /// List of port numbers 0-65535.
    Ports,
    /// List of domain names (known-good domains).
    Domains,
}

impl ParamKind {
    pub fn is_list(self) -> bool {
        matches!(self, ParamKind::Cidrs | ParamKind::Names | ParamKind::Ports | ParamKind::Domains)
    }

    /// What the user may type, for error messages and help.
    pub fn accepted_form(self) -> &'static str {
        match self {
            ParamKind::Duration => "a duration like 30d, 12h, 90m or 45s",
            ParamKind::Integer => "a whole number like 4",
            ParamKind::Bool => "true or false",
            ParamKind::Cidrs => "comma-separated networks like 10.0.0.0/8,192.0.2.7",
            ParamKind::Names => "comma-separated names like msedge.exe,chrome.exe",
            ParamKind::Ports => "comma-separated ports like 80,443",
            ParamKind::Domains => "comma-separated domains like login.live.com,.microsoft.com",
        }
    }
}

/// Static description of one parameter.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct ParamSpec {
    pub key: &'static str,
    pub kind: ParamKind,
    /// Default in the same text form `--set` takes.
    pub default: &'static str,
    pub help: &'static str,
}

/// One item of a list parameter; disabled items are kept but not applied.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ListItem {
    pub text: String,
    pub enabled: bool,
}

/// The current value of one parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamValue {
    Duration(Nanos),
    Integer(i64),
    Bool(bool),
    List(Vec<ListItem>),
}

impl ParamValue {
    /// The value in `--set` text form (lists: enabled items only).
    pub fn to_text(&self) -> String {
        match self {
            ParamValue::Duration(d) => format_duration(*d),
            ParamValue::Integer(i) => i.to_string(),
            ParamValue::Bool(b) => b.to_string(),
            ParamValue::List(items) => {
                items.iter().filter(|i| i.enabled).map(|i| i.text.as_str()).collect::<Vec<_>>().join(",")
            }
        }
    }
}

/// A parameter could not be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("unknown parameter `{key}` for hunt {hunt}; its parameters are: {known}")]
    UnknownKey { hunt: &'static str, key: String, known: String },
    #[error("bad value `{value}` for `{key}`: expected {expected}")]
    BadValue { key: String, value: String, expected: &'static str },
}

/// Validate and canonicalize one list item of `kind`.
pub fn parse_item(kind: ParamKind, text: &str) -> Result<String, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty item".into());
    }
    match kind {
        ParamKind::Cidrs => {
            if let Ok(net) = t.parse::<ipnet::IpNet>() {
                Ok(net.to_string())
            } else if let Some(ip) = crate::model::ip::parse_ip(t) {
                Ok(ipnet::IpNet::from(ip).to_string())
            } else {
                Err(format!("`{t}` is not a network (e.g. 10.0.0.0/8)"))
            }
        }
        ParamKind::Ports => match t.parse::<u32>() {
            Ok(p) if p <= 65_535 => Ok(p.to_string()),
            _ => Err(format!("`{t}` is not a port (0-65535)")),
        },
        ParamKind::Names => Ok(t.to_string()),
        ParamKind::Domains => {
            let d = t.trim_start_matches('.');
            if d.is_empty() || d.contains(char::is_whitespace) || d.contains('/') {
                Err(format!("`{t}` is not a domain (e.g. login.live.com)"))
            } else {
                Ok(t.to_ascii_lowercase())
            }
        }
        _ => Err("not a list".into()),
    }
}

/// Parse `text` as a value of `kind`.
pub fn parse_value(kind: ParamKind, text: &str) -> Result<ParamValue, String> {
    let t = text.trim();
    match kind {
        ParamKind::Duration => parse_duration(t).map(ParamValue::Duration),
        ParamKind::Integer => t
            .parse::<i64>()
            .ok()
            .filter(|v| *v >= 0)
            .map(ParamValue::Integer)
            .ok_or_else(|| format!("`{t}` is not a whole number >= 0")),
        ParamKind::Bool => match t.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(ParamValue::Bool(true)),
            "false" | "no" | "off" | "0" => Ok(ParamValue::Bool(false)),
            _ => Err(format!("`{t}` is not true or false")),
        },
        _ => {
            let mut items = Vec::new();
            for part in t.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                items.push(ListItem { text: parse_item(kind, part)?, enabled: true });
            }
            Ok(ParamValue::List(items))
        }
    }
}

/// A hunt's current parameter values, in the order of its spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HuntParams {
    pub hunt: HuntId,
    pub values: Vec<ParamValue>,
}

impl HuntParams {
    /// Every parameter at its default.
    pub fn defaults(hunt: HuntId) -> Self {
        let values = hunt
            .spec()
            .params
            .iter()
            .map(|p| parse_value(p.kind, p.default).unwrap_or_else(|e| panic!("default of {} is invalid: {e}", p.key)))
            .collect();
        HuntParams { hunt, values }
    }

    pub fn specs(&self) -> &'static [ParamSpec] {
        self.hunt.spec().params
    }

    pub fn index_of(&self, key: &str) -> Option<usize> {
        self.specs().iter().position(|p| p.key.eq_ignore_ascii_case(key))
    }

    fn unknown(&self, key: &str) -> ParamError {
        ParamError::UnknownKey {
            hunt: self.hunt.key(),
            key: key.to_string(),
            known: self.specs().iter().map(|p| p.key).collect::<Vec<_>>().join(", "),
        }
    }

    /// Set from text (`--set key=value`): lists are replaced by the given items, all enabled.
    pub fn set(&mut self, key: &str, text: &str) -> Result<(), ParamError> {
        let i = self.index_of(key).ok_or_else(|| self.unknown(key))?;
        let spec = self.specs()[i];
        let v = parse_value(spec.kind, text).map_err(|_| ParamError::BadValue {
            key: spec.key.to_string(),
            value: text.to_string(),
            expected: spec.kind.accepted_form(),
        })?;
        self.values[i] = v;
        Ok(())
    }

    pub fn get(&self, key: &str) -> &ParamValue {
        let i = self.index_of(key).unwrap_or_else(|| panic!("hunt {} has no parameter {key}", self.hunt.key()));
        &self.values[i]
    }

    pub fn duration(&self, key: &str) -> Nanos {
        match self.get(key) {
            ParamValue::Duration(d) => *d,
            other => panic!("{key} is not a duration: {other:?}"),
        }
    }

    pub fn integer(&self, key: &str) -> i64 {
        match self.get(key) {
            ParamValue::Integer(v) => *v,
            other => panic!("{key} is not an integer: {other:?}"),
        }
    }

    pub fn boolean(&self, key: &str) -> bool {
        match self.get(key) {
            ParamValue::Bool(v) => *v,
            other => panic!("{key} is not a bool: {other:?}"),
        }
    }

    /// Enabled items of a list parameter.
    pub fn enabled(&self, key: &str) -> Vec<&str> {
        match self.get(key) {
            ParamValue::List(items) => items.iter().filter(|i| i.enabled).map(|i| i.text.as_str()).collect(),
            other => panic!("{key} is not a list: {other:?}"),
        }
    }

    pub fn items_mut(&mut self, key: &str) -> Option<&mut Vec<ListItem>> {
        let i = self.index_of(key)?;
        match &mut self.values[i] {
            ParamValue::List(items) => Some(items),
            _ => None,
        }
    }

    /// Add an item to a list (validated); an existing equal item is enabled instead.
    pub fn add_item(&mut self, key: &str, text: &str) -> Result<(), ParamError> {
        let i = self.index_of(key).ok_or_else(|| self.unknown(key))?;
        let spec = self.specs()[i];
        let item = parse_item(spec.kind, text).map_err(|_| ParamError::BadValue {
            key: spec.key.to_string(),
            value: text.to_string(),
            expected: spec.kind.accepted_form(),
        })?;
        let ParamValue::List(items) = &mut self.values[i] else {
            return Err(ParamError::BadValue {
                key: spec.key.into(),
                value: text.into(),
                expected: spec.kind.accepted_form(),
            });
        };
        if let Some(existing) = items.iter_mut().find(|x| x.text.eq_ignore_ascii_case(&item)) {
            existing.enabled = true;
        } else {
            items.push(ListItem { text: item, enabled: true });
        }
        Ok(())
    }

    /// Whether every value equals the default.
    pub fn is_default(&self) -> bool {
        *self == HuntParams::defaults(self.hunt)
    }

    /// `key=value` for each parameter that differs from the default.
    pub fn changed(&self) -> Vec<(String, String)> {
        let d = HuntParams::defaults(self.hunt);
        self.specs()
            .iter()
            .zip(self.values.iter().zip(d.values.iter()))
            .filter(|(_, (a, b))| a != b)
            .map(|(s, (a, _))| (s.key.to_string(), a.to_text()))
            .collect()
    }
}

/// A `--set` that could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetError {
    #[error("--set `{0}`: expected key=value (e.g. --set lookback=7d)")]
    NotKeyValue(String),
    #[error("--set {set}: {error}")]
    Param { set: String, error: ParamError },
    #[error("--set {set}: no selected hunt has a parameter `{key}` (see `rarity hunts`)")]
    NoSuchKey { set: String, key: String },
}

/// Apply `--set` items to the parameters of the selected hunts, in order. `hunt.key=value` sets
/// one hunt; a bare `key=value` sets the only hunt, or with several hunts every one that has
/// the key (an error when none has it, or when one that has it rejects the value).
pub fn apply_sets(params: &mut [HuntParams], sets: &[String]) -> Result<(), SetError> {
    let many = params.len() > 1;
    for s in sets {
        let (key, value) = s.split_once('=').ok_or_else(|| SetError::NotKeyValue(s.clone()))?;
        let (target, key) = match key.split_once('.') {
            Some((h, k)) if HuntId::from_key(h).is_some() => (HuntId::from_key(h), k.trim()),
            _ => (None, key.trim()),
        };
        let mut applied = false;
        let mut last_err = None;
        for p in params.iter_mut() {
            if target.is_some_and(|t| t != p.hunt) || (many && target.is_none() && p.index_of(key).is_none()) {
                continue;
            }
            match p.set(key, value) {
                Ok(()) => applied = true,
                Err(e) => last_err = Some(e),
            }
        }
        if let Some(error) = last_err {
            return Err(SetError::Param { set: s.clone(), error });
        }
        if !applied {
            return Err(SetError::NoSuchKey { set: s.clone(), key: key.to_string() });
        }
    }
    Ok(())
}

#[cfg(test)]
mod set_tests {
    use super::*;
    use crate::hunt::{rare_process, server_anomaly, ti_inbound};

    fn all() -> Vec<HuntParams> {
        HuntId::all().map(HuntParams::defaults).collect()
    }

    #[test]
    fn a_bare_key_sets_every_selected_hunt_that_has_it() {
        let mut ps = all();
        apply_sets(&mut ps, &["lookback=7d".into()]).unwrap();
        for p in &ps {
            if p.index_of("lookback").is_some() {
                assert_eq!(p.get("lookback").to_text(), "7d", "{:?}", p.hunt);
            }
        }
        assert_eq!(ps.iter().find(|p| p.hunt == ti_inbound::ID).unwrap(), &HuntParams::defaults(ti_inbound::ID));
    }

    #[test]
    fn a_hunt_prefix_sets_one_hunt_only() {
        let mut ps = all();
        apply_sets(&mut ps, &["server-anomaly.lookback=2d".into()]).unwrap();
        let changed: Vec<HuntId> = ps.iter().filter(|p| !p.is_default()).map(|p| p.hunt).collect();
        assert_eq!(changed, vec![server_anomaly::ID]);
    }

    #[test]
    fn unknown_keys_bad_values_and_missing_equals_are_errors() {
        let mut one = vec![HuntParams::defaults(rare_process::ID)];
        assert!(matches!(apply_sets(&mut one, &["nope=1".into()]), Err(SetError::Param { .. })));
        assert!(matches!(apply_sets(&mut one, &["lookback".into()]), Err(SetError::NotKeyValue(_))));
        assert!(matches!(apply_sets(&mut one, &["max_devices=x".into()]), Err(SetError::Param { .. })));
        let mut ps = all();
        let e = apply_sets(&mut ps, &["nope=1".into()]).unwrap_err();
        assert!(e.to_string().contains("no selected hunt has a parameter `nope`"), "{e}");
        // A later item wins.
        apply_sets(&mut one, &["max_devices=9".into(), "max_devices=3".into()]).unwrap();
        assert_eq!(one[0].integer("max_devices"), 3);
    }
}
