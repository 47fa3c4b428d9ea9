//! Clock honesty: when a loaded source's events end before the shortest hunt window starts,
//! every hunt misses them at the reference `now`; say so per source and suggest `--now`.

use super::{registry, HuntParams, ParamValue};
use crate::model::tables::Provenance;
use crate::model::time::{format_duration, format_iso, Nanos};
use crate::store::Dataset;

const DAY: Nanos = 86_400_000_000_000;

/// One source whose events all fall before every hunt's window.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ClockWarning {
    /// The source's display name (as the load report shows it).
    pub source: String,
    pub earliest: Nanos,
    pub latest: Nanos,
    /// A `--now` that puts this source's last event at the end of the windows.
    pub suggest_now: String,
    pub message: String,
}

/// The shortest of the hunts' windows (each hunt's longest duration parameter, at defaults).
pub fn shortest_window() -> Option<Nanos> {
    registry()
        .iter()
        .filter_map(|h| {
            HuntParams::defaults(h.spec().id)
                .values
                .iter()
                .filter_map(|v| match v {
                    ParamValue::Duration(d) => Some(*d),
                    _ => None,
                })
                .max()
        })
        .min()
}

/// Per source: (earliest, latest) event time over every table.
fn source_ranges(ds: &Dataset) -> Vec<Option<(Nanos, Nanos)>> {
    let mut out: Vec<Option<(Nanos, Nanos)>> = vec![None; ds.sources.len()];
    let mut add = |prov: &Provenance, ts: &[Nanos]| {
        for (i, seg) in prov.segments.iter().enumerate() {
            let end = prov.segments.get(i + 1).map_or(ts.len(), |s| s.start as usize);
            let Some(rows) = ts.get(seg.start as usize..end) else { continue };
            let Some(slot) = out.get_mut(seg.source as usize) else { continue };
            for &t in rows {
                *slot = Some(slot.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t))));
            }
        }
    };
    add(&ds.net.prov, &ds.net.ts);
    add(&ds.devinfo.prov, &ds.devinfo.ts);
    add(&ds.vm.prov, &ds.vm.ts);
    out
}

/// Sources whose last event is before `now - shortest_window()`.
pub fn clock_warnings(ds: &Dataset, now: Nanos) -> Vec<ClockWarning> {
    let Some(window) = shortest_window() else { return Vec::new() };
    let from = now.saturating_sub(window);
    source_ranges(ds)
        .into_iter()
        .enumerate()
        .filter_map(|(i, range)| {
            let (earliest, latest) = range?;
            if latest > from {
                return None;
            }
            let source = ds.sources.get(i).map(|s| s.display.clone()).unwrap_or_default();
            let suggest_now = format_iso(latest);
            // Whole days read better than `565d12h3m57s` at this scale.
            let gap = match now.saturating_sub(latest) / DAY {
                0 => format_duration(now.saturating_sub(latest)),
                1 => "1 day".to_string(),
                days => format!("{} days", crate::model::thousands(days as u64)),
            };
            let message = format!(
                "{}: events end {}, {gap} before now {}; every hunt window (the shortest is {}) misses them. Try --now {}",
                crate::text::fit_tail(&source, 90),
                super::funnel::day(latest),
                super::funnel::day(now),
                format_duration(window),
                suggest_now
            );
            Some(ClockWarning { source, earliest, latest, suggest_now, message })
        })
        .collect()
}
