//! `rarity cache`.

use crate::cli::*;
#[allow(unused_imports)]
use crate::*;

/// `rarity cache [list|clear]`: the snapshot cache directory.
pub(crate) fn cache(a: CacheArgs) -> Result<(), Failure> {
    let opts = CacheOptions::from_env();
    let Some(dir) = opts.resolved_dir() else {
        return Err(fail(1, "no cache directory on this system"));
    };
    let shown = sanitize_cell(&dir.display().to_string(), 200);
    let mut out = std::io::stdout().lock();
    let size = |b: u64| {
        let mib = b as f64 / (1024.0 * 1024.0);
        if mib >= 1024.0 {
            format!("{:.1} GiB", mib / 1024.0)
        } else {
            format!("{mib:.1} MiB")
        }
    };
    let res = match a.action.unwrap_or(CacheAction::List) {
        CacheAction::Clear => {
            let (n, bytes) = snapshot::clear(&dir).map_err(|e| fail(1, format!("cannot clear {shown}: {e}")))?;
            writeln!(out, "removed {n} snapshot files ({}) from {shown}", size(bytes))
        }
        CacheAction::List => (|| {
            let entries = snapshot::list(&dir);
            let total: u64 = entries.iter().map(|e| e.bytes).sum();
            let limit = snapshot::default_limit(&dir);
            writeln!(
                out,
                "{shown}: {} snapshot{}, {} (limit {} unless --cache-limit)",
                entries.len(),
                if entries.len() == 1 { "" } else { "s" },
                size(total),
                size(limit)
            )?;
            for e in &entries {
                let used = e
                    .last_used
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| format_iso(d.as_secs() as Nanos * 1_000_000_000))
                    .unwrap_or_default()
                    .chars()
                    .take(19)
                    .collect::<String>()
                    .replace('T', " ");
                let what = match &e.summary {
                    Ok(s) => {
                        let rows = s.rows.net + s.rows.dev + s.rows.vm;
                        let inputs = s.inputs.join(", ");
                        format!("{} rows  {}", rarity::model::thousands(rows), sanitize_cell(&inputs, 120))
                    }
                    Err(why) => format!("unusable ({}): replaced on next load", sanitize_cell(why, 80)),
                };
                writeln!(out, "  {used}  {:>10}  {what}", size(e.bytes))?;
            }
            Ok(())
        })(),
    };
    res.map_err(|e| fail(1, format!("cannot write output: {e}")))
}
