//! Why a hunt returns what it returns: the funnel (each contract step with the rows that pass it
//! and every step before it, `hunts.md` "Funnel"), the sensitivity sweep of one numeric or
//! duration parameter (`hunts.md` "Sweep") and the range of values a sweep shows by default.

use super::params::{ParamKind, ParamSpec, ParamValue};
use super::{Engine, HuntError, HuntOutput, HuntParams};
use crate::model::time::{format_duration, Nanos};

/// What a funnel step counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FunnelUnit {
    Events,
    Tuples,
    Groups,
    Rows,
}

impl FunnelUnit {
    pub fn label(self) -> &'static str {
        match self {
            FunnelUnit::Events => "events",
            FunnelUnit::Tuples => "tuples",
            FunnelUnit::Groups => "groups",
            FunnelUnit::Rows => "rows",
        }
    }

    /// The label for a count of `n`: "1 event", "2 events".
    pub fn label_for(self, n: usize) -> &'static str {
        match (self, n) {
            (FunnelUnit::Events, 1) => "event",
            (FunnelUnit::Tuples, 1) => "tuple",
            (FunnelUnit::Groups, 1) => "group",
            (FunnelUnit::Rows, 1) => "row",
            _ => self.label(),
        }
    }
}

/// One step of a funnel: how many events, tuples or groups pass it and every step before it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FunnelStep {
    /// Short name: the contract's step number (`1`, `2`, ...) or a word (`groups`, `kept`).
    pub step: String,
    /// The condition with the parameter values it used.
    pub condition: String,
    pub count: usize,
    pub unit: FunnelUnit,
    /// For a time window: the data's time range against the window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A hunt's funnel: its steps in contract order; the last count is the number of result rows.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Funnel {
    pub steps: Vec<FunnelStep>,
}

impl Funnel {
    pub(crate) fn push(&mut self, step: &str, condition: impl Into<String>, count: usize, unit: FunnelUnit) {
        self.steps.push(FunnelStep { step: step.to_string(), condition: condition.into(), count, unit, note: None });
    }

    /// Attach a note to the last step pushed.
    pub(crate) fn note(&mut self, note: Option<String>) {
        if let Some(s) = self.steps.last_mut() {
            s.note = note;
        }
    }

    /// The number of result rows (the last step's count).
    pub fn rows(&self) -> usize {
        self.steps.last().map_or(0, |s| s.count)
    }

    /// The step that removed everything: the first with a count of 0.
    pub fn emptied_at(&self) -> Option<usize> {
        self.steps.iter().position(|s| s.count == 0)
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: usize) -> String {
    crate::model::thousands(n as u64)
}

/// `2023-11-28`.
pub fn day(t: Nanos) -> String {
    crate::model::time::format_day(t)
}

/// The data's time range against a window, for a window step that dropped something:
/// "0 of 2,037 events inside lookback 30d: now 2023-11-28, these events end 2022-05-13".
/// `range` is (earliest, latest) of the `before` items; `from` the window's first excluded
/// instant side (`now - span`); `window` names it ("lookback 30d").
pub(crate) fn window_note(
    inside: usize,
    before: usize,
    unit: FunnelUnit,
    range: Option<(Nanos, Nanos)>,
    from: Nanos,
    now: Nanos,
    window: &str,
) -> Option<String> {
    let (lo, hi) = range?;
    if inside == before || before == 0 {
        return None;
    }
    let span = if hi <= from {
        format!("these {} end {}, before the window starts {}", unit.label(), day(hi), day(from))
    } else if lo > now {
        format!("these {} start {}, after now", unit.label(), day(lo))
    } else {
        format!("these {} run {} .. {}; the window starts {}", unit.label(), day(lo), day(hi), day(from))
    };
    Some(format!(
        "{} of {} {} inside {window}: now {}, {span}",
        thousands(inside),
        thousands(before),
        unit.label_for(before),
        day(now)
    ))
}

/// `lookback 30d` for a duration parameter.
pub(crate) fn named_window(p: &HuntParams, key: &str) -> String {
    format!("{key} {}", format_duration(p.duration(key)))
}

/// The enabled items of list parameter `key` for a step's condition: "a,b" or "(none)".
pub(crate) fn enabled_list(p: &HuntParams, key: &str) -> String {
    let v = p.enabled(key);
    if v.is_empty() {
        "(none)".to_string()
    } else {
        v.join(",")
    }
}

/// `params` with `key` set to `value` (unchanged when the hunt has no such parameter).
pub fn with_value(params: &HuntParams, key: &str, value: &ParamValue) -> HuntParams {
    let mut p = params.clone();
    if let Some(i) = p.index_of(key) {
        p.values[i] = value.clone();
    }
    p
}

/// Whether `kind` can be swept (numbers and durations).
pub fn sweepable(kind: ParamKind) -> bool {
    matches!(kind, ParamKind::Integer | ParamKind::Duration)
}

/// Nice durations a default duration sweep picks from.
const LADDER: [i64; 27] = [
    60,
    5 * 60,
    15 * 60,
    30 * 60,
    3_600,
    2 * 3_600,
    3 * 3_600,
    6 * 3_600,
    12 * 3_600,
    86_400,
    2 * 86_400,
    3 * 86_400,
    4 * 86_400,
    5 * 86_400,
    6 * 86_400,
    7 * 86_400,
    10 * 86_400,
    14 * 86_400,
    21 * 86_400,
    30 * 86_400,
    45 * 86_400,
    60 * 86_400,
    90 * 86_400,
    180 * 86_400,
    365 * 86_400,
    730 * 86_400,
    1825 * 86_400,
];

/// Points in a default sweep.
pub const SWEEP_POINTS: usize = 21;

/// The values a sweep of `current` shows by default (the CLI without `--values`, the TUI chart):
/// `SWEEP_POINTS` values around the current one, the current one included. Integers step by
/// about a tenth of the current value (at least 1) from 0 up; durations walk a ladder of round
/// durations. Empty for kinds that cannot be swept.
pub fn default_sweep_values(current: &ParamValue) -> Vec<ParamValue> {
    match current {
        ParamValue::Integer(c) => {
            let c = *c;
            let step = (c / 10 + i64::from(c % 10 != 0)).max(1);
            let half = (SWEEP_POINTS / 2) as i64;
            let start = c.saturating_sub(half.saturating_mul(step)).max(0);
            let start = start - start % step;
            let mut v: Vec<i64> =
                (0..SWEEP_POINTS as i64).map(|i| start.saturating_add(i.saturating_mul(step))).collect();
            v.dedup();
            if !v.contains(&c) {
                v.push(c);
                v.sort_unstable();
                v.remove(0);
            }
            v.into_iter().map(ParamValue::Integer).collect()
        }
        ParamValue::Duration(c) => {
            let secs = 1_000_000_000i64;
            let mut v: Vec<Nanos> = LADDER.iter().map(|s| s * secs).collect();
            if !v.contains(c) {
                v.push(*c);
                v.sort_unstable();
            }
            let at = v.iter().position(|x| x == c).unwrap_or(0);
            let lo = at.saturating_sub(SWEEP_POINTS / 2).min(v.len().saturating_sub(SWEEP_POINTS));
            v[lo..(lo + SWEEP_POINTS).min(v.len())].iter().map(|d| ParamValue::Duration(*d)).collect()
        }
        _ => Vec::new(),
    }
}

/// Result counts of `values` from a per-item threshold: `keys[i]` is the least parameter value
/// at which item `i` is kept (items are kept for every value >= it), `None` = never kept.
/// One cumulative histogram, then one lookup per value.
pub(crate) fn sweep_at_least(keys: impl IntoIterator<Item = Option<i64>>, values: &[ParamValue]) -> Vec<usize> {
    let mut ks: Vec<i64> = keys.into_iter().flatten().collect();
    ks.sort_unstable();
    values
        .iter()
        .map(|v| match v {
            ParamValue::Integer(x) | ParamValue::Duration(x) => ks.partition_point(|k| k <= x),
            _ => 0,
        })
        .collect()
}

/// Result counts of `values` from per-item intervals: item `i` is kept for values `v` with
/// `lo <= v < hi` (`hi >= lo`; `i64::MAX` = no upper end).
pub(crate) fn sweep_between(spans: impl IntoIterator<Item = (i64, i64)>, values: &[ParamValue]) -> Vec<usize> {
    let (mut lo, mut hi): (Vec<i64>, Vec<i64>) = spans.into_iter().unzip();
    lo.sort_unstable();
    hi.sort_unstable();
    values
        .iter()
        .map(|v| match v {
            ParamValue::Integer(x) | ParamValue::Duration(x) => {
                lo.partition_point(|k| k <= x) - hi.partition_point(|k| k <= x)
            }
            _ => 0,
        })
        .collect()
}

/// Result counts of `values` from per-item limits: item `i` is kept for values <= `keys[i]`
/// (`i64::MAX` = always), `None` = never kept.
pub(crate) fn sweep_at_most(keys: impl IntoIterator<Item = Option<i64>>, values: &[ParamValue]) -> Vec<usize> {
    let mut ks: Vec<i64> = keys.into_iter().flatten().collect();
    ks.sort_unstable();
    values
        .iter()
        .map(|v| match v {
            ParamValue::Integer(x) => ks.len() - ks.partition_point(|k| k < x),
            _ => 0,
        })
        .collect()
}

/// Result counts of duration `values` that set where a window starts (`now - value`): item `i`
/// is kept while the window starts at or before `limits[i]` (None = never kept).
pub(crate) fn sweep_window_start(
    limits: impl IntoIterator<Item = Option<Nanos>>,
    now: Nanos,
    values: &[ParamValue],
) -> Vec<usize> {
    let mut ls: Vec<Nanos> = limits.into_iter().flatten().collect();
    ls.sort_unstable();
    values
        .iter()
        .map(|v| match v {
            ParamValue::Duration(d) => {
                let start = now.saturating_sub(*d);
                ls.len() - ls.partition_point(|&l| l < start)
            }
            _ => 0,
        })
        .collect()
}

/// Result counts of duration `values` that set where a window starts (`now - value`): item `i`
/// is kept while the window starts at or after `lows[i]`.
pub(crate) fn sweep_window_from(
    lows: impl IntoIterator<Item = Nanos>,
    now: Nanos,
    values: &[ParamValue],
) -> Vec<usize> {
    let mut ls: Vec<Nanos> = lows.into_iter().collect();
    ls.sort_unstable();
    values
        .iter()
        .map(|v| match v {
            ParamValue::Duration(d) => ls.partition_point(|&l| l <= now.saturating_sub(*d)),
            _ => 0,
        })
        .collect()
}

/// Result counts of duration `values` that set where a window starts (`now - value`): item `i`
/// is kept while the window starts at or after `lo` and before `hi` (`spans[i] = (lo, hi)`).
pub(crate) fn sweep_window_between(
    spans: impl IntoIterator<Item = (Nanos, Nanos)>,
    now: Nanos,
    values: &[ParamValue],
) -> Vec<usize> {
    let (mut lo, mut hi): (Vec<Nanos>, Vec<Nanos>) = spans.into_iter().filter(|(l, h)| l < h).unzip();
    lo.sort_unstable();
    hi.sort_unstable();
    values
        .iter()
        .map(|v| match v {
            ParamValue::Duration(d) => {
                let start = now.saturating_sub(*d);
                // Every span with hi <= start also has lo <= start.
                lo.partition_point(|&l| l <= start) - hi.partition_point(|&h| h <= start)
            }
            _ => 0,
        })
        .collect()
}

/// A sweep could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Hunt(#[from] HuntError),
    #[error("`{key}` is not a numeric or duration parameter of {hunt}; these sweep: {sweepable}")]
    NotSweepable { hunt: &'static str, key: String, sweepable: String },
    #[error("bad sweep value `{value}` for `{key}`: expected {expected}")]
    BadValue { key: String, value: String, expected: &'static str },
}

/// The spec of `key` in `params`' hunt, when it is a parameter that sweeps.
fn sweep_spec(params: &HuntParams, key: &str) -> Result<(usize, &'static ParamSpec), SweepError> {
    let specs = params.specs();
    match params.index_of(key) {
        Some(i) if sweepable(specs[i].kind) => Ok((i, &specs[i])),
        _ => Err(SweepError::NotSweepable {
            hunt: params.hunt.key(),
            key: key.to_string(),
            sweepable: specs.iter().filter(|s| sweepable(s.kind)).map(|s| s.key).collect::<Vec<_>>().join(", "),
        }),
    }
}

/// Parse `--values v1,v2,...` for `key`; None = the default range around the current value.
pub fn sweep_values(params: &HuntParams, key: &str, text: Option<&str>) -> Result<Vec<ParamValue>, SweepError> {
    let (i, spec) = sweep_spec(params, key)?;
    let Some(text) = text else { return Ok(default_sweep_values(&params.values[i])) };
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            super::params::parse_value(spec.kind, t).map_err(|_| SweepError::BadValue {
                key: spec.key.to_string(),
                value: t.to_string(),
                expected: spec.kind.accepted_form(),
            })
        })
        .collect()
}

impl Engine {
    /// The funnel of `params.hunt` at `now` (None = the latest event).
    pub fn funnel(&self, params: &HuntParams, now: Option<Nanos>) -> Result<Funnel, HuntError> {
        self.check_tables(params)?;
        let now = self.resolve_now(now);
        Ok(self.index(params).funnel(self, params, now))
    }

    /// Result counts with the numeric or duration parameter `key` set to each of `values`.
    pub fn sweep(
        &self,
        params: &HuntParams,
        now: Option<Nanos>,
        key: &str,
        values: &[ParamValue],
    ) -> Result<Vec<usize>, SweepError> {
        let (_, spec) = sweep_spec(params, key)?;
        self.check_tables(params)?;
        if let Some(bad) = values.iter().find(|v| {
            !matches!(
                (spec.kind, v),
                (ParamKind::Integer, ParamValue::Integer(_)) | (ParamKind::Duration, ParamValue::Duration(_))
            )
        }) {
            return Err(SweepError::BadValue {
                key: spec.key.to_string(),
                value: bad.to_text(),
                expected: spec.kind.accepted_form(),
            });
        }
        let now = self.resolve_now(now);
        Ok(self.index(params).sweep(self, params, now, spec.key, values))
    }

    /// Why `output.rows[row]` is there: one line naming its qualifying values and parameters.
    pub fn why(&self, output: &HuntOutput, row: usize) -> String {
        match (output.keys.get(row), output.rows.get(row)) {
            (Some(key), Some(cells)) => self.index(&output.params).why(self, &output.params, output.now, key, cells),
            _ => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_integer_sweep_surrounds_the_current_value() {
        let v = default_sweep_values(&ParamValue::Integer(4));
        assert_eq!(v.len(), SWEEP_POINTS);
        assert_eq!(v[0], ParamValue::Integer(0));
        assert!(v.contains(&ParamValue::Integer(4)));
        let v = default_sweep_values(&ParamValue::Integer(50));
        assert_eq!(v.len(), SWEEP_POINTS);
        assert!(v.contains(&ParamValue::Integer(50)));
        assert_eq!(v[1], ParamValue::Integer(5));
        let v = default_sweep_values(&ParamValue::Integer(i64::MAX));
        assert!(v.contains(&ParamValue::Integer(i64::MAX)));
        let v = default_sweep_values(&ParamValue::Integer(1000));
        assert!(v.contains(&ParamValue::Integer(1000)));
        assert!(v.windows(2).all(|w| w[0] != w[1]));
    }

    #[test]
    fn default_duration_sweep_includes_odd_current_values() {
        let odd = 25 * 3_600 * 1_000_000_000i64;
        let v = default_sweep_values(&ParamValue::Duration(odd));
        assert_eq!(v.len(), SWEEP_POINTS);
        assert!(v.contains(&ParamValue::Duration(odd)));
        assert!(default_sweep_values(&ParamValue::Bool(true)).is_empty());
    }

    #[test]
    fn histogram_sweeps_count_thresholds() {
        let vals: Vec<ParamValue> = (0..5).map(ParamValue::Integer).collect();
        // Kept for values >= key: keys 1, 3, 3.
        assert_eq!(sweep_at_least([Some(1), Some(3), Some(3), None], &vals), vec![0, 1, 1, 3, 3]);
        // Kept for values <= key.
        assert_eq!(sweep_at_most([Some(1), Some(3), None, Some(i64::MAX)], &vals), vec![3, 3, 2, 2, 1]);
        // Kept for lo <= value < hi.
        assert_eq!(sweep_between([(1, 3), (2, 2), (0, i64::MAX)], &vals), vec![1, 2, 2, 1, 1]);
        // Windows starting at now - value: kept while the start is <= the limit (ties kept).
        let durs: Vec<ParamValue> = (0..5).map(ParamValue::Duration).collect();
        assert_eq!(sweep_window_start([Some(8), Some(7), None, Some(i64::MAX)], 10, &durs), vec![1, 1, 2, 3, 3]);
        assert_eq!(sweep_window_from([8, 7, i64::MIN], 10, &durs), vec![3, 3, 3, 2, 1]);
        // ... and while lo <= start < hi; an empty span is never kept.
        assert_eq!(sweep_window_between([(7, 9), (8, 8), (i64::MIN, 10)], 10, &durs), vec![0, 1, 2, 2, 1]);
    }

    #[test]
    fn window_note_says_where_the_data_ends() {
        let d = 86_400_000_000_000i64;
        let n = window_note(0, 2037, FunnelUnit::Events, Some((d, 10 * d)), 100 * d, 130 * d, "lookback 30d");
        let n = n.unwrap();
        assert!(n.starts_with("0 of 2,037 events inside lookback 30d: now 1970-05-11"), "{n}");
        assert!(n.contains("end 1970-01-11"), "{n}");
        assert_eq!(window_note(5, 5, FunnelUnit::Events, Some((d, d)), 0, d, "x"), None);
        let one = window_note(0, 1, FunnelUnit::Events, Some((d, d)), 100 * d, 130 * d, "lookback 30d").unwrap();
        assert!(one.starts_with("0 of 1 event inside"), "{one}");
    }

    #[test]
    fn unit_labels_take_the_plural_their_count_needs() {
        assert_eq!(FunnelUnit::Events.label_for(1), "event");
        assert_eq!(FunnelUnit::Groups.label_for(1), "group");
        assert_eq!(FunnelUnit::Tuples.label_for(0), "tuples");
        assert_eq!(FunnelUnit::Rows.label_for(2), "rows");
    }
}
