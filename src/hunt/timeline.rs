//! When a finding's (or a pivot's) events happened: a histogram over the hunt's window with a
//! bucket size that fits a width (hours or days), the first and last time, and the rhythm of
//! the inter-arrival times, flagging a regular one as a possible beacon.

use super::{Engine, HuntParams, ParamValue};
use crate::model::tables::TableKind;
use crate::model::time::{format_duration, Nanos};

const SEC: Nanos = 1_000_000_000;
const HOUR: Nanos = 3_600 * SEC;
const DAY: Nanos = 24 * HOUR;

/// Intervals needed before a rhythm is judged.
pub const MIN_INTERVALS: usize = 5;
/// A rhythm is regular (a possible beacon) when the median distance of the intervals from
/// their median is at most this fraction of the median.
pub const BEACON_SPREAD: f64 = 0.1;

/// The inter-arrival times of a set of events.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Rhythm {
    /// Gaps between consecutive distinct timestamps.
    pub intervals: usize,
    pub median: Nanos,
    /// Median absolute deviation of the intervals from `median`.
    pub spread: Nanos,
    /// Regular enough to be a beacon (`spread <= BEACON_SPREAD * median`).
    pub beacon: bool,
}

impl Rhythm {
    /// "every 1h ± 0s (possible beacon)".
    pub fn describe(&self) -> String {
        let beacon = if self.beacon { " (regular: possible beacon)" } else { "" };
        format!("every {} ± {} over {} intervals{beacon}", human(self.median), human(self.spread), self.intervals)
    }
}

/// A histogram of event times.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Timeline {
    /// Start of the first bucket.
    pub start: Nanos,
    /// Width of each bucket (a whole number of hours or days).
    pub bucket: Nanos,
    pub counts: Vec<usize>,
    pub events: usize,
    pub first: Option<Nanos>,
    pub last: Option<Nanos>,
    /// None with fewer than `MIN_INTERVALS` intervals.
    pub rhythm: Option<Rhythm>,
}

impl Timeline {
    /// "1h" or "2d": the bucket width.
    pub fn bucket_label(&self) -> String {
        format_duration(self.bucket)
    }
}

/// `90m` -> "1h30m"; sub-second spans as "0s".
fn human(d: Nanos) -> String {
    format_duration(d)
}

/// The smallest round bucket (hours, then days) that fits `span` into `width` buckets.
fn bucket_for(span: Nanos, width: usize) -> Nanos {
    let width = width.max(1) as Nanos;
    let need = span.saturating_add(width - 1) / width;
    for b in [HOUR, 2 * HOUR, 3 * HOUR, 4 * HOUR, 6 * HOUR, 8 * HOUR, 12 * HOUR] {
        if b >= need {
            return b;
        }
    }
    let days = need.saturating_add(DAY - 1) / DAY;
    days.max(1).saturating_mul(DAY)
}

/// The rhythm of sorted times: gaps between distinct consecutive times.
pub fn rhythm(sorted: &[Nanos]) -> Option<Rhythm> {
    let mut gaps: Vec<Nanos> = sorted.windows(2).map(|w| w[1].saturating_sub(w[0])).filter(|&g| g > 0).collect();
    if gaps.len() < MIN_INTERVALS {
        return None;
    }
    gaps.sort_unstable();
    let median = gaps[gaps.len() / 2];
    let mut dev: Vec<Nanos> = gaps.iter().map(|g| (g - median).abs()).collect();
    dev.sort_unstable();
    let spread = dev[dev.len() / 2];
    let beacon = median >= SEC && (spread as f64) <= BEACON_SPREAD * median as f64;
    Some(Rhythm { intervals: gaps.len(), median, spread, beacon })
}

/// The timeline of event times `ts` (any order) over `window` (widened to cover every event),
/// in at most `width` buckets.
pub fn timeline(ts: &[Nanos], window: Option<(Nanos, Nanos)>, width: usize) -> Timeline {
    let mut sorted = ts.to_vec();
    sorted.sort_unstable();
    let first = sorted.first().copied();
    let last = sorted.last().copied();
    let (mut lo, mut hi) = window.unwrap_or((first.unwrap_or(0), last.unwrap_or(0)));
    if let (Some(f), Some(l)) = (first, last) {
        lo = lo.min(f);
        hi = hi.max(l);
    }
    // The bucket must fit the span after aligning its start down to a bucket boundary.
    // Saturating: timestamps span at most 1677..2262, which overflows an i64 difference.
    let mut bucket = bucket_for(hi.saturating_sub(lo).max(1), width);
    let mut start = lo.saturating_sub(lo.rem_euclid(bucket));
    while (hi.saturating_sub(start) / bucket + 1) as usize > width.max(1) && bucket < i64::MAX / 4 {
        bucket = bucket_for(hi.saturating_sub(start).max(1).saturating_add(bucket), width);
        start = lo.saturating_sub(lo.rem_euclid(bucket));
    }
    let n = (hi.saturating_sub(start) / bucket + 1) as usize;
    let mut counts = vec![0usize; n];
    for &t in &sorted {
        let i = (t.saturating_sub(start) / bucket) as usize;
        counts[i.min(n - 1)] += 1;
    }
    Timeline { start, bucket, counts, events: sorted.len(), first, last, rhythm: rhythm(&sorted) }
}

impl Engine {
    /// The hunt's window at `now`: its longest duration parameter back from `now` (a hunt
    /// without a window: None).
    pub fn hunt_window(&self, params: &HuntParams, now: Nanos) -> Option<(Nanos, Nanos)> {
        let longest = params
            .values
            .iter()
            .filter_map(|v| match v {
                ParamValue::Duration(d) => Some(*d),
                _ => None,
            })
            .max()?;
        Some((now.saturating_sub(longest), now))
    }

    /// The timeline of `rows` of `table` (a drill-down's or a pivot's events).
    pub fn timeline(&self, table: TableKind, rows: &[usize], window: Option<(Nanos, Nanos)>, width: usize) -> Timeline {
        let ts: Vec<Nanos> = rows.iter().map(|&r| self.event_ts(table, r)).collect();
        timeline(&ts, window, width)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_round_and_fit_the_width() {
        let t = timeline(&[0, HOUR, 29 * DAY], Some((0, 30 * DAY)), 61);
        assert_eq!(t.bucket, 12 * HOUR);
        assert!(t.counts.len() <= 61);
        let t = timeline(&[0, HOUR, 29 * DAY], Some((0, 30 * DAY)), 60);
        assert_eq!(t.bucket, DAY);
        assert_eq!(t.counts.iter().sum::<usize>(), 3);
        let t = timeline(&[5 * HOUR], Some((0, DAY)), 30);
        assert_eq!(t.bucket, HOUR);
        assert_eq!(t.counts[5], 1);
        let t = timeline(&[], None, 10);
        assert_eq!(t.events, 0);
        assert_eq!(t.rhythm, None);
    }

    #[test]
    fn the_widest_time_span_does_not_overflow() {
        let t = timeline(&[i64::MIN + 1, i64::MAX - 1, 0], None, 50);
        assert_eq!(t.counts.iter().sum::<usize>(), 3);
        assert!(t.counts.len() <= 50);
        assert!(rhythm(&[i64::MIN + 1, 0, 1, 2, 3, 4, i64::MAX]).is_some());
    }

    #[test]
    fn events_outside_the_window_widen_it() {
        let t = timeline(&[-3 * DAY, 2 * DAY], Some((0, DAY)), 10);
        assert_eq!(t.counts.iter().sum::<usize>(), 2);
        assert!(t.start <= -3 * DAY);
    }

    #[test]
    fn hourly_rhythm_is_a_beacon_and_bursts_are_not() {
        let hourly: Vec<Nanos> = (0..24).map(|i| i * HOUR + (i % 3) * SEC).collect();
        let r = rhythm(&hourly).unwrap();
        assert!(r.beacon, "{r:?}");
        assert!((r.median - HOUR).abs() <= 2 * SEC, "{r:?}");
        assert!(r.describe().contains("every 1h"), "{}", r.describe());
        let bursty: Vec<Nanos> = [0, 1, 2, 50, 51, 300, 900, 901, 2000, 5000].iter().map(|m| m * 60 * SEC).collect();
        assert!(!rhythm(&bursty).unwrap().beacon);
        assert_eq!(rhythm(&[0, HOUR, 2 * HOUR]), None);
    }
}
