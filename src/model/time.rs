//! Timestamps: parsing every form exports carry (ISO 8601, Sysmon, portal locale forms) into
//! UTC nanoseconds, and formatting them back as ISO 8601 `Z`.
//!
//! Locale forms like `3/4/2024, 1:02:03 PM` are ambiguous between month-first and day-first.
//! The parser reports whether a value settled the order (a field > 12) so the loader can decide
//! per column and fix up the rows it parsed under the default assumption (`swap_day_month`).

use super::clip;
use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// UTC nanoseconds since the Unix epoch.
pub type Nanos = i64;

pub const NANOS_PER_SEC: i64 = 1_000_000_000;

/// Day-first or month-first, for numeric locale dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum DateOrder {
    #[default]
    MonthFirst,
    DayFirst,
}

impl std::str::FromStr for DateOrder {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "mdy" | "month-first" | "us" => Ok(DateOrder::MonthFirst),
            "dmy" | "day-first" | "eu" => Ok(DateOrder::DayFirst),
            _ => Err(format!("unknown date order `{s}` (use mdy or dmy)")),
        }
    }
}

/// Time zone for timestamps that carry none and are marked local (`[Local Time]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Zone {
    #[default]
    Utc,
    Fixed(chrono::FixedOffset),
    Named(Tz),
}

impl std::str::FromStr for Zone {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("utc") || t == "Z" {
            return Ok(Zone::Utc);
        }
        if let Some(off) = parse_offset(t.as_bytes()) {
            return chrono::FixedOffset::east_opt(off)
                .map(Zone::Fixed)
                .ok_or_else(|| format!("offset out of range: `{s}`"));
        }
        t.parse::<Tz>().map(Zone::Named).map_err(|_| {
            format!("unknown time zone `{s}` (use UTC, an offset like +05:30, or an IANA name like Europe/Berlin)")
        })
    }
}

impl std::fmt::Display for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Zone::Utc => write!(f, "UTC"),
            Zone::Fixed(o) => write!(f, "{o}"),
            Zone::Named(tz) => write!(f, "{}", tz.name()),
        }
    }
}

impl Zone {
    /// Local wall-clock time in this zone to UTC nanoseconds (earliest reading in a DST fold).
    pub fn local_to_utc(&self, naive: NaiveDateTime) -> Option<Nanos> {
        let utc = match self {
            Zone::Utc => naive.and_utc(),
            Zone::Fixed(o) => pick(o.from_local_datetime(&naive))?.with_timezone(&Utc),
            Zone::Named(tz) => pick(tz.from_local_datetime(&naive))?.with_timezone(&Utc),
        };
        utc.timestamp_nanos_opt()
    }

    pub fn utc_to_local(&self, t: Nanos) -> NaiveDateTime {
        let utc = DateTime::from_timestamp_nanos(t);
        match self {
            Zone::Utc => utc.naive_utc(),
            Zone::Fixed(o) => utc.with_timezone(o).naive_local(),
            Zone::Named(tz) => utc.with_timezone(tz).naive_local(),
        }
    }
}

fn pick<T: TimeZone>(r: LocalResult<DateTime<T>>) -> Option<DateTime<T>> {
    match r {
        LocalResult::Single(t) => Some(t),
        LocalResult::Ambiguous(a, _) => Some(a),
        // A wall-clock time skipped by a DST jump: no such local time exists.
        LocalResult::None => None,
    }
}

/// What parsing one value told us.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub nanos: Nanos,
    /// A numeric locale date whose day and month are both <= 12 (and differ).
    pub ambiguous: bool,
    /// A numeric locale date that settles the order (one field > 12).
    pub evidence: Option<DateOrder>,
    /// The value carried an explicit zone or is ISO/Sysmon (always UTC); `zone` was not applied.
    pub explicit_utc: bool,
}

/// Parse a timestamp. `zone` applies to values that carry no zone of their own and are not
/// ISO/Sysmon forms (those are UTC by definition of the exports) unless `zone_for_iso` is set.
pub fn parse(s: &str, order: DateOrder, zone: Zone, zone_for_iso: bool) -> Result<Parsed, String> {
    let t = super::dict::trim(s);
    let b = t.as_bytes();
    if b.len() >= 10 && b[4] == b'-' && b[0].is_ascii_digit() {
        return parse_iso(b, if zone_for_iso { zone } else { Zone::Utc }).ok_or_else(|| bad_timestamp(s));
    }
    if b.first().is_some_and(|c| c.is_ascii_digit()) {
        return parse_numeric_locale(t, order, zone).ok_or_else(|| bad_timestamp(s));
    }
    if b.first().is_some_and(|c| c.is_ascii_alphabetic()) {
        return parse_month_name(t, zone).ok_or_else(|| bad_timestamp(s));
    }
    Err(bad_timestamp(s))
}

/// The instants a `Nanos` holds (i64 nanoseconds around 1970).
pub const SUPPORTED_RANGE: &str = "1677-09-21T00:12:44Z .. 2262-04-11T23:47:16Z";

/// Why `s` is not a timestamp; says so when its year (its first four-digit number) lies
/// outside `SUPPORTED_RANGE`, so a date in year 1500 or 3000 is not called malformed.
fn bad_timestamp(s: &str) -> String {
    let year = s.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 4).and_then(|w| w.parse::<u32>().ok());
    match year {
        Some(y) if !(1677..=2262).contains(&y) => {
            format!("timestamp `{}` is outside the supported range ({SUPPORTED_RANGE})", clip(s))
        }
        _ => format!("bad timestamp `{}`", clip(s)),
    }
}

fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    let mut v: u32 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// Fractional seconds digits to nanoseconds (extra digits beyond 9 are truncated).
fn frac_nanos(b: &[u8]) -> Option<u32> {
    if b.is_empty() {
        return None;
    }
    let mut v: u32 = 0;
    let mut n = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        if n < 9 {
            v = v * 10 + (c - b'0') as u32;
            n += 1;
        }
    }
    while n < 9 {
        v *= 10;
        n += 1;
    }
    Some(v)
}

/// `+05:30`, `-0800`, `+05`, `Z` to seconds east.
fn parse_offset(b: &[u8]) -> Option<i32> {
    if b == b"Z" || b == b"z" {
        return Some(0);
    }
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest = &b[1..];
    let (h, m) = match rest.len() {
        2 => (num(rest)?, 0),
        4 => (num(&rest[..2])?, num(&rest[2..])?),
        5 if rest[2] == b':' => (num(&rest[..2])?, num(&rest[3..])?),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h as i32 * 3600 + m as i32 * 60))
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    // Howard Hinnant's algorithm: proleptic Gregorian days since 1970-01-01.
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn valid_date(y: i64, m: u32, d: u32) -> bool {
    // Plain arithmetic for the four-digit years ISO text carries (chrono's range is wider);
    // a test pins it to chrono's answer.
    if !(0..=9999).contains(&y) {
        return NaiveDate::from_ymd_opt(y as i32, m, d).is_some();
    }
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// ISO 8601 / RFC 3339 and the space-separated Sysmon and pandas forms, fast path.
fn parse_iso(b: &[u8], zone: Zone) -> Option<Parsed> {
    let y = num(&b[0..4])? as i64;
    if b[7] != b'-' {
        return None;
    }
    let mo = num(&b[5..7])?;
    let d = num(&b[8..10])?;
    if !valid_date(y, mo, d) {
        return None;
    }
    let mut i = 10;
    let (mut hh, mut mi, mut ss, mut ns) = (0u32, 0u32, 0u32, 0u32);
    if i < b.len() && (b[i] == b'T' || b[i] == b't' || b[i] == b' ') {
        i += 1;
        if b.len() < i + 5 || b[i + 2] != b':' {
            return None;
        }
        hh = num(&b[i..i + 2])?;
        mi = num(&b[i + 3..i + 5])?;
        i += 5;
        if i < b.len() && b[i] == b':' {
            if b.len() < i + 3 {
                return None;
            }
            ss = num(&b[i + 1..i + 3])?;
            i += 3;
            if i < b.len() && (b[i] == b'.' || b[i] == b',') {
                let st = i + 1;
                let mut e = st;
                while e < b.len() && b[e].is_ascii_digit() {
                    e += 1;
                }
                ns = frac_nanos(&b[st..e])?;
                i = e;
            }
        }
    }
    if hh > 23 || mi > 59 || ss > 60 {
        return None;
    }
    let rest = &b[i..];
    let rest = if rest.first() == Some(&b' ') { &rest[1..] } else { rest };
    let secs_local = days_from_civil(y, mo, d) * 86_400 + (hh * 3600 + mi * 60 + ss.min(59)) as i64;
    let (nanos, explicit) = if rest.is_empty() {
        match zone {
            Zone::Utc => (secs_local.checked_mul(NANOS_PER_SEC)?.checked_add(ns as i64)?, true),
            z => {
                let naive = NaiveDate::from_ymd_opt(y as i32, mo, d)?.and_hms_nano_opt(hh, mi, ss.min(59), ns)?;
                (z.local_to_utc(naive)?, false)
            }
        }
    } else {
        let off = parse_offset(rest)? as i64;
        ((secs_local - off).checked_mul(NANOS_PER_SEC)?.checked_add(ns as i64)?, true)
    };
    Some(Parsed { nanos, ambiguous: false, evidence: None, explicit_utc: explicit })
}

/// `H:MM[:SS[.fff]] [AM|PM]` after the date part.
fn parse_clock(s: &str) -> Option<(u32, u32, u32, u32)> {
    let s = s.trim();
    let (clock, ampm) = match s.rsplit_once(' ') {
        Some((c, ap)) if ap.eq_ignore_ascii_case("am") || ap.eq_ignore_ascii_case("pm") => {
            (c.trim(), Some(ap.eq_ignore_ascii_case("pm")))
        }
        _ => {
            let lower = s.to_ascii_lowercase();
            if lower.ends_with("am") || lower.ends_with("pm") {
                let pm = lower.ends_with("pm");
                (s[..s.len() - 2].trim(), Some(pm))
            } else {
                (s, None)
            }
        }
    };
    let mut parts = clock.split(':');
    let h = num(parts.next()?.as_bytes())?;
    let m = num(parts.next()?.as_bytes())?;
    let (sec, ns) = match parts.next() {
        None => (0, 0),
        Some(sp) => match sp.split_once('.') {
            Some((a, f)) => (num(a.as_bytes())?, frac_nanos(f.as_bytes())?),
            None => (num(sp.as_bytes())?, 0),
        },
    };
    if parts.next().is_some() || m > 59 || sec > 59 {
        return None;
    }
    let h = match ampm {
        Some(pm) => {
            if !(1..=12).contains(&h) {
                return None;
            }
            (h % 12) + if pm { 12 } else { 0 }
        }
        None => h,
    };
    if h > 23 {
        return None;
    }
    Some((h, m, sec, ns))
}

/// `2/25/2025, 9:19:25.391 AM`, `13/03/2024, 3:40:13.988 pm`, `16/07/2026 20:26:12.030`.
fn parse_numeric_locale(t: &str, order: DateOrder, zone: Zone) -> Option<Parsed> {
    let (date, clock) = match t.find([',', ' ']) {
        Some(i) => (&t[..i], t[i + 1..].trim_start_matches([',', ' '])),
        None => (t, ""),
    };
    let sep = if date.contains('/') {
        '/'
    } else if date.contains('.') {
        '.'
    } else {
        return None;
    };
    let mut it = date.split(sep);
    let a = num(it.next()?.as_bytes())?;
    let b = num(it.next()?.as_bytes())?;
    let ytxt = it.next()?;
    if it.next().is_some() || ytxt.len() != 4 {
        return None;
    }
    let y = num(ytxt.as_bytes())? as i64;
    let (evidence, ambiguous) = if a > 12 && b <= 12 {
        (Some(DateOrder::DayFirst), false)
    } else if b > 12 && a <= 12 {
        (Some(DateOrder::MonthFirst), false)
    } else {
        (None, a != b)
    };
    let use_order = evidence.unwrap_or(order);
    let (m, d) = match use_order {
        DateOrder::MonthFirst => (a, b),
        DateOrder::DayFirst => (b, a),
    };
    let (hh, mi, ss, ns) = if clock.is_empty() { (0, 0, 0, 0) } else { parse_clock(clock)? };
    let naive = NaiveDate::from_ymd_opt(y as i32, m, d)?.and_hms_nano_opt(hh, mi, ss, ns)?;
    Some(Parsed { nanos: zone.local_to_utc(naive)?, ambiguous, evidence, explicit_utc: false })
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/// `Apr 15, 2024 11:09:27 AM`.
fn parse_month_name(t: &str, zone: Zone) -> Option<Parsed> {
    let mut words = t.splitn(4, ' ').filter(|w| !w.is_empty());
    let mon = words.next()?;
    // `get` rather than `[..3]`: the third byte may fall inside a multi-byte character.
    let abbr = mon.get(..3)?;
    let m = MONTHS.iter().position(|x| abbr.eq_ignore_ascii_case(x))? as u32 + 1;
    let d = num(words.next()?.trim_end_matches(',').as_bytes())?;
    let y = num(words.next()?.trim_end_matches(',').as_bytes())?;
    let clock = words.next().unwrap_or("");
    let (hh, mi, ss, ns) = if clock.is_empty() { (0, 0, 0, 0) } else { parse_clock(clock)? };
    let naive = NaiveDate::from_ymd_opt(y as i32, m, d)?.and_hms_nano_opt(hh, mi, ss, ns)?;
    Some(Parsed { nanos: zone.local_to_utc(naive)?, ambiguous: false, evidence: None, explicit_utc: false })
}

/// Re-read an ambiguous value under the other day/month order (used when a column settles late).
pub fn swap_day_month(t: Nanos, zone: Zone) -> Option<Nanos> {
    let local = zone.utc_to_local(t);
    let date = NaiveDate::from_ymd_opt(local.year(), local.day(), local.month())?;
    let naive = date.and_hms_nano_opt(local.hour(), local.minute(), local.second(), local.nanosecond())?;
    zone.local_to_utc(naive)
}

/// ISO 8601 UTC with 7 fractional digits and `Z`, as Kusto writes datetimes.
pub fn format_iso(t: Nanos) -> String {
    let dt = DateTime::from_timestamp_nanos(t);
    format!("{}T{:02}:{:02}:{:02}.{:07}Z", format_day(t), dt.hour(), dt.minute(), dt.second(), dt.nanosecond() / 100)
}

/// Short human form for the TUI: `2026-11-20 13:04:05`.
pub fn format_short(t: Nanos) -> String {
    let dt = DateTime::from_timestamp_nanos(t);
    format!("{} {:02}:{:02}:{:02}", format_day(t), dt.hour(), dt.minute(), dt.second())
}

/// The UTC day of `t`: `2026-11-20` (from the date's fields: no format string to parse).
pub fn format_day(t: Nanos) -> String {
    let d = DateTime::from_timestamp_nanos(t).date_naive();
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// RFC 3339 (`--now`) to nanoseconds.
pub fn parse_rfc3339(s: &str) -> Result<Nanos, String> {
    let d = DateTime::parse_from_rfc3339(s.trim())
        .map_err(|_| format!("`{s}` is not an RFC 3339 timestamp (e.g. 2026-11-20T12:00:00Z)"))?;
    d.with_timezone(&Utc)
        .timestamp_nanos_opt()
        .ok_or_else(|| format!("`{s}` is outside the supported range ({SUPPORTED_RANGE})"))
}

/// Durations like `30d`, `1h`, `90m`, `45s`, `2w`, and combinations like `1d12h`.
pub fn parse_duration(s: &str) -> Result<Nanos, String> {
    let t = s.trim();
    let err = || format!("`{s}` is not a duration (use a number and a unit: 30d, 12h, 90m, 45s, 2w)");
    if t.is_empty() {
        return Err(err());
    }
    let mut total: i64 = 0;
    let mut n: i64 = 0;
    let mut have_digit = false;
    for c in t.chars() {
        if let Some(d) = c.to_digit(10) {
            n = n.checked_mul(10).and_then(|v| v.checked_add(d as i64)).ok_or_else(err)?;
            have_digit = true;
            continue;
        }
        if !have_digit {
            return Err(err());
        }
        let unit = match c {
            'w' => 7 * 86_400,
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return Err(err()),
        };
        total = n.checked_mul(unit * NANOS_PER_SEC).and_then(|v| total.checked_add(v)).ok_or_else(err)?;
        n = 0;
        have_digit = false;
    }
    if have_digit {
        return Err(err());
    }
    Ok(total)
}

/// Inverse of `parse_duration`, using the largest whole unit: `30d`, `90m`, `1d12h`.
pub fn format_duration(t: Nanos) -> String {
    if t <= 0 {
        return "0s".into();
    }
    let mut secs = t / NANOS_PER_SEC;
    let mut out = String::new();
    for (unit, name) in [(86_400, 'd'), (3_600, 'h'), (60, 'm'), (1, 's')] {
        if secs >= unit {
            out.push_str(&format!("{}{}", secs / unit, name));
            secs %= unit;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_short_and_iso_forms_equal_chrono_strftime_over_the_whole_range() {
        let step = i64::MAX / 997;
        let mut ts: Vec<Nanos> = (-997..=997).map(|k| k * step).collect();
        ts.extend([i64::MIN, i64::MAX, -1, 0, 1, 999_999_999, 86_399_999_999_999]);
        for t in ts {
            let dt = DateTime::from_timestamp_nanos(t);
            assert_eq!(format_day(t), dt.format("%Y-%m-%d").to_string(), "{t}");
            assert_eq!(format_short(t), dt.format("%Y-%m-%d %H:%M:%S").to_string(), "{t}");
            let want = format!("{}.{:07}Z", dt.format("%Y-%m-%dT%H:%M:%S"), dt.nanosecond() / 100);
            assert_eq!(format_iso(t), want, "{t}");
        }
    }

    fn iso(s: &str) -> Nanos {
        parse(s, DateOrder::MonthFirst, Zone::Utc, false).unwrap().nanos
    }

    #[test]
    fn valid_date_agrees_with_chrono() {
        for y in [0i64, 1, 4, 100, 400, 1900, 1999, 2000, 2023, 2024, 2100, 9999] {
            for m in 0..=13 {
                for d in 0..=32 {
                    assert_eq!(valid_date(y, m, d), NaiveDate::from_ymd_opt(y as i32, m, d).is_some(), "{y}-{m}-{d}");
                }
            }
        }
    }

    #[test]
    fn iso_forms_agree() {
        let a = iso("2023-10-18T15:43:47.1549452Z");
        assert_eq!(format_iso(a), "2023-10-18T15:43:47.1549452Z");
        assert_eq!(iso("2023-10-18 15:43:47.1549452"), a);
        assert_eq!(iso("2023-10-18T21:13:47.1549452+05:30"), a);
        assert_eq!(format_iso(iso("2019-05-21 15:32:59.389278+00:00")), "2019-05-21T15:32:59.3892780Z");
        assert_eq!(format_iso(iso("2023-07-19T18:03:28.18835Z")), "2023-07-19T18:03:28.1883500Z");
        assert_eq!(format_iso(iso("2023-11-17 06:10:08.901")), "2023-11-17T06:10:08.9010000Z");
        assert_eq!(format_iso(iso("2024-01-02")), "2024-01-02T00:00:00.0000000Z");
    }

    #[test]
    fn timestamps_outside_the_supported_range_say_so() {
        for s in ["1500-01-01T00:00:00Z", "3000-06-01 12:00:00", "2/25/1066, 9:00:00 AM", "Apr 15, 2300 11:09:27 AM"] {
            let err = parse(s, DateOrder::MonthFirst, Zone::Utc, false).unwrap_err();
            assert_eq!(err, format!("timestamp `{s}` is outside the supported range ({SUPPORTED_RANGE})"));
        }
        assert_eq!(
            parse("2023-13-01T00:00:00Z", DateOrder::MonthFirst, Zone::Utc, false).unwrap_err(),
            "bad timestamp `2023-13-01T00:00:00Z`"
        );
        assert!(parse_rfc3339("3000-01-01T00:00:00Z").unwrap_err().contains("outside the supported range"));
        assert!(parse_rfc3339("soon").unwrap_err().contains("not an RFC 3339 timestamp"));
        // The range's ends are what Nanos holds.
        assert!(parse_rfc3339("1677-09-21T00:12:43Z").unwrap_err().contains("outside the supported range"));
        assert!(parse_rfc3339("1677-09-21T00:12:44Z").is_ok() && parse_rfc3339("2262-04-11T23:47:16Z").is_ok());
    }

    #[test]
    fn locale_forms_parse() {
        let p = parse("2/25/2025, 9:19:25.391 AM", DateOrder::MonthFirst, Zone::Utc, false).unwrap();
        assert_eq!(format_iso(p.nanos), "2025-02-25T09:19:25.3910000Z");
        assert_eq!(p.evidence, Some(DateOrder::MonthFirst));
        let p = parse("13/03/2024, 3:40:13.988 pm", DateOrder::MonthFirst, Zone::Utc, false).unwrap();
        assert_eq!(format_iso(p.nanos), "2024-03-13T15:40:13.9880000Z");
        assert_eq!(p.evidence, Some(DateOrder::DayFirst));
        let p = parse("16/07/2026 20:26:12.030", DateOrder::MonthFirst, Zone::Utc, false).unwrap();
        assert_eq!(format_iso(p.nanos), "2026-07-16T20:26:12.0300000Z");
        let p = parse("Apr 15, 2024 11:09:27 AM", DateOrder::MonthFirst, Zone::Utc, false).unwrap();
        assert_eq!(format_iso(p.nanos), "2024-04-15T11:09:27.0000000Z");
        let p = parse("12/1/2024, 12:00:00 AM", DateOrder::MonthFirst, Zone::Utc, false).unwrap();
        assert_eq!(format_iso(p.nanos), "2024-12-01T00:00:00.0000000Z");
        assert!(p.ambiguous);
    }

    #[test]
    fn local_time_applies_zone_and_swap_fixes_order() {
        let z: Zone = "+05:30".parse().unwrap();
        let p = parse("11/17/2023, 11:32:04.819 AM", DateOrder::MonthFirst, z, false).unwrap();
        assert_eq!(format_iso(p.nanos), "2023-11-17T06:02:04.8190000Z");
        let p = parse("3/4/2024, 1:00:00 PM", DateOrder::MonthFirst, z, false).unwrap();
        assert!(p.ambiguous);
        let fixed = swap_day_month(p.nanos, z).unwrap();
        assert_eq!(format_iso(fixed), "2024-04-03T07:30:00.0000000Z");
        let berlin: Zone = "Europe/Berlin".parse().unwrap();
        let p = parse("7/16/2026, 8:00:00 PM", DateOrder::MonthFirst, berlin, false).unwrap();
        assert_eq!(format_iso(p.nanos), "2026-07-16T18:00:00.0000000Z");
    }

    #[test]
    fn bad_timestamps_are_errors() {
        for s in ["", "yesterday", "2023-13-01T00:00:00Z", "2023-02-30", "31/31/2024", "2024-01-01T25:00:00Z", "1/2/24"]
        {
            assert!(parse(s, DateOrder::MonthFirst, Zone::Utc, false).is_err(), "{s}");
        }
    }

    #[test]
    fn multi_byte_characters_anywhere_are_errors_not_panics() {
        for s in [
            "a\u{20ac}",
            "Ma\u{1f600}",
            "M\u{e9}r 1, 2024",
            "\u{20ac}",
            "1/2/2024, 1:0\u{20ac}",
            "2024-01-01T1\u{e9}:00Z",
        ] {
            assert!(parse(s, DateOrder::MonthFirst, Zone::Utc, false).is_err(), "{s}");
        }
        // A month name followed by other text still reads its three letters.
        let p = parse("March 5, 2024", DateOrder::MonthFirst, Zone::Utc, false).unwrap();
        assert_eq!(format_iso(p.nanos), "2024-03-05T00:00:00.0000000Z");
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_errs_without_panicking(s in "\\PC{0,40}", day_first in proptest::bool::ANY) {
            let order = if day_first { DateOrder::DayFirst } else { DateOrder::MonthFirst };
            let _ = parse(&s, order, Zone::Utc, false);
            let _ = parse(&s, order, "Europe/Berlin".parse().unwrap(), true);
        }

        #[test]
        fn timestamp_shaped_text_with_any_characters_never_panics(
            s in "[0-9A-Za-z/:., T+\\-]{0,6}[^\\x00-\\x7f]{0,3}[0-9A-Za-z/:., T+\\-]{0,20}",
        ) {
            let _ = parse(&s, DateOrder::MonthFirst, Zone::Utc, false);
        }
    }

    #[test]
    fn durations_round_trip() {
        assert_eq!(parse_duration("30d").unwrap(), 30 * 86_400 * NANOS_PER_SEC);
        assert_eq!(parse_duration("90m").unwrap(), 90 * 60 * NANOS_PER_SEC);
        assert_eq!(parse_duration("1d12h").unwrap(), 36 * 3600 * NANOS_PER_SEC);
        assert_eq!(format_duration(parse_duration("90m").unwrap()), "1h30m");
        assert_eq!(format_duration(parse_duration("14d").unwrap()), "14d");
        for bad in ["", "30x", "d", "30", "-1d", "1.5d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
