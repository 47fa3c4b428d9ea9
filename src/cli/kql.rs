//! `rarity kql`.

use crate::cli::*;
#[allow(unused_imports)]
use crate::*;

/// `rarity kql`: the hunt(s) as KQL with the saved tuning and every `--set` applied.
pub(crate) fn kql(a: KqlArgs) -> Result<(), Failure> {
    use rarity::hunt::kql::{Dialect, KqlOptions, TiSource};
    let hunts = hunts_named(&a.hunt)?;
    let params = a.tuning.params(&hunts)?;
    let case = a.case.as_deref().map(load_case).transpose()?;
    let ti_source = match a.ti_source {
        TiSourceArg::Ipsum => TiSource::Ipsum,
        TiSourceArg::Inline => TiSource::Inline,
        TiSourceArg::Sentinel => TiSource::Sentinel,
    };
    let inline_needed = ti_source == TiSource::Inline && hunts.contains(&rarity::hunt::ti_inbound::ID);
    if !inline_needed && (!a.paths.is_empty() || !a.load.ti.is_empty()) {
        return Err(fail(
            2,
            "PATH and --ti are only read for --ti-source inline with ti-inbound; the query needs no data",
        ));
    }
    let ds = if inline_needed {
        let (ds, _, _) = load_cli(&inputs_of(&a.paths), &a.load)?;
        Some(ds)
    } else {
        None
    };
    // SOURCE_DATE_EPOCH (reproducible builds' convention) fixes the header's time.
    let written = match std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|v| v.trim().parse::<i64>().ok()) {
        Some(secs) => secs.saturating_mul(1_000_000_000),
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)),
    };
    let dialect = match a.dialect {
        DialectArg::Defender => Dialect::Defender,
        DialectArg::Sentinel => Dialect::Sentinel,
    };
    let opts = KqlOptions {
        dialect,
        ti_source,
        now: a.now,
        version: env!("CARGO_PKG_VERSION").to_string(),
        written: Some(written),
    };
    let all = hunts.len() > 1;
    let mut text = String::new();
    for p in &params {
        let h = p.hunt;
        match h.hunt().kql(p, &opts, ds.as_ref().map(|d| &d.ti)) {
            Ok(q) => {
                if all {
                    text.push_str(&format!("// ===== rarity hunt {} ({}) =====\n", h.key(), h.spec().title));
                }
                text.push_str(&q);
                if let Some(case) = &case {
                    if !q.ends_with('\n') {
                        text.push('\n');
                    }
                    text.push_str(&case.kql_columns(h));
                }
                text.push('\n');
            }
            // `all` in a dialect a hunt has no form in: say so in place of the query.
            Err(e @ rarity::hunt::kql::KqlError::NoForm { .. }) if all => {
                text.push_str(&format!(
                    "// ===== rarity hunt {} ({}) =====\n// skipped: {e}\n\n",
                    h.key(),
                    h.spec().title
                ));
            }
            Err(e) => return Err(fail(2, format!("kql {}: {e}", h.key()))),
        }
    }
    let res = match &a.output {
        Some(path) => {
            std::fs::write(path, text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))
        }
        None => std::io::stdout().lock().write_all(text.as_bytes()).map_err(|e| format!("cannot write output: {e}")),
    };
    res.map_err(|m| fail(1, m))
}
