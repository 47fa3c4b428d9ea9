//! `rarity hunts`, and which hunts and parameters a command runs with.

use crate::cli::*;
#[allow(unused_imports)]
use crate::*;

pub(crate) fn hunts(a: HuntsArgs) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    let res = if a.format == InspectFormat::Json {
        let v: Vec<serde_json::Value> = HuntId::all()
            .map(|h| {
                let s = h.spec();
                serde_json::json!({
                    "hunt": s.key, "title": s.title, "summary": s.summary, "needs": s.needs,
                    "parameters": s.params, "columns": s.columns.iter().map(|c| c.name).collect::<Vec<_>>(),
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&v).unwrap_or_default())
    } else {
        (|| {
            for h in HuntId::all() {
                let s = h.spec();
                writeln!(out, "{}  ({})\n  {}", s.key, s.title, s.summary)?;
                let needs: Vec<&str> = s
                    .needs
                    .iter()
                    .map(|n| match n {
                        rarity::hunt::Need::NetworkEvents => "network events (DeviceNetworkEvents or Sysmon EID 3)",
                        rarity::hunt::Need::DeviceInfo => "DeviceInfo",
                        rarity::hunt::Need::VmConnection => "VMConnection",
                        rarity::hunt::Need::ThreatIntel => "a threat-intel feed (--ti)",
                        rarity::hunt::Need::GeoIpOptional => "GeoIP database (--geoip, optional)",
                    })
                    .collect();
                writeln!(out, "  needs: {}", needs.join(", "))?;
                writeln!(out, "  columns: {}", s.columns.iter().map(|c| c.name).collect::<Vec<_>>().join(", "))?;
                writeln!(out, "  parameters:")?;
                let w = s.params.iter().map(|p| p.key.len()).max().unwrap_or(0);
                for p in s.params {
                    let kind = format!("{:?}", p.kind).to_lowercase();
                    let default = if p.default.is_empty() { "(empty)" } else { p.default };
                    writeln!(
                        out,
                        "    {:w$}  {:8}  {}\n    {:w$}  {:8}  default: {}",
                        p.key, kind, p.help, "", "", default
                    )?;
                }
                writeln!(out)?;
            }
            writeln!(out, "Set a parameter with `rarity run HUNT --set key=value`; lists take comma-separated items.")
        })()
    };
    res.map_err(|e| fail(1, format!("cannot write output: {e}")))
}

/// Which hunts `rarity run` was asked for.
pub(crate) fn hunts_named(name: &str) -> Result<Vec<HuntId>, Failure> {
    if name.eq_ignore_ascii_case("all") {
        return Ok(HuntId::all().collect());
    }
    HuntId::from_key(name).map(|h| vec![h]).ok_or_else(|| {
        let known: Vec<&str> = HuntId::all().map(|h| h.key()).collect();
        fail(2, format!("unknown hunt `{name}`; the hunts are: {}, or all", known.join(", ")))
    })
}

impl TuningArgs {
    /// Starting parameters (saved tuning unless --no-config) with every `--set` applied.
    /// With several hunts, `hunt.key=value` sets one hunt and a bare `key=value` every hunt that has it.
    pub(crate) fn params(&self, hunts: &[HuntId]) -> Result<Vec<HuntParams>, Failure> {
        tuned_params(hunts, &self.set, self.config.as_ref(), self.no_config)
    }
}

/// `TuningArgs::params` from its parts: the saved tuning (unless `no_config`) with `set` applied.
pub(crate) fn tuned_params(
    hunts: &[HuntId],
    set: &[String],
    config: Option<&PathBuf>,
    no_config: bool,
) -> Result<Vec<HuntParams>, Failure> {
    let config = if no_config { None } else { config.cloned().or_else(rarity::config::default_path) };
    let cfg = match &config {
        Some(path) => {
            let (cfg, warning) = rarity::config::Config::load(path);
            if let Some(w) = warning {
                eprintln!("rarity: {}", rarity::text::sanitize(&w));
            }
            cfg
        }
        None => rarity::config::Config::default(),
    };
    let saved: Vec<HuntParams> = hunts.iter().map(|h| cfg.params_for(*h)).collect();
    let mut params = saved.clone();
    rarity::hunt::params::apply_sets(&mut params, set).map_err(|e| fail(2, e.to_string()))?;
    // Tuning is never silent: say which parameters differ from the defaults, and from where.
    for (p, s) in params.iter().zip(&saved) {
        let from_saved: Vec<(String, String)> = s.changed();
        let parts: Vec<String> = p
            .changed()
            .into_iter()
            .map(|(k, v)| {
                let origin = if from_saved.iter().any(|(sk, sv)| *sk == k && *sv == v) {
                    match &config {
                        Some(path) => format!("saved tuning {}", path.display()),
                        None => "saved tuning".into(),
                    }
                } else {
                    "--set".into()
                };
                format!("{k}={v} ({origin})")
            })
            .collect();
        if !parts.is_empty() {
            eprintln!("rarity: {} tuned: {}", p.hunt.key(), rarity::text::sanitize(&parts.join("; ")));
        }
    }
    Ok(params)
}
