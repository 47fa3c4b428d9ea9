//! Shared helpers for the hunt tests: a fixed `now`, nanosecond timestamps, running a hunt.
#![allow(dead_code)]

use rarity::hunt::{Cell, Engine, HuntId, HuntOutput, HuntParams};
use rarity::model::time::parse_rfc3339;
use rarity::model::Nanos;
use rarity::Dataset;
use std::sync::Arc;

pub const S: Nanos = 1_000_000_000;
pub const M: Nanos = 60 * S;
pub const H: Nanos = 60 * M;
pub const D: Nanos = 24 * H;

pub fn now() -> Nanos {
    parse_rfc3339("2026-11-20T12:00:00Z").unwrap()
}

/// `now + offset` as an RFC 3339 string with nanoseconds.
pub fn at(offset: Nanos) -> String {
    chrono::DateTime::from_timestamp_nanos(now() + offset).to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

pub fn params(hunt: HuntId, sets: &[(&str, &str)]) -> HuntParams {
    let mut p = HuntParams::defaults(hunt);
    for (k, v) in sets {
        p.set(k, v).unwrap();
    }
    p
}

/// Run `hunt` at the fixed `now` with `sets` applied to the defaults.
pub fn run(ds: Dataset, hunt: HuntId, sets: &[(&str, &str)]) -> (Engine, HuntParams, HuntOutput) {
    let eng = Engine::new(Arc::new(ds));
    let p = params(hunt, sets);
    let out = eng.run(&p, Some(now())).unwrap();
    (eng, p, out)
}

pub fn t(s: &str) -> Cell {
    if s.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(s.into())
    }
}

pub fn i(v: i64) -> Cell {
    Cell::Int(v)
}

pub fn tm(offset: Nanos) -> Cell {
    Cell::Time(now() + offset)
}

pub fn set(v: &[&str]) -> Cell {
    Cell::TextSet(v.iter().map(|s| s.to_string()).collect())
}

pub fn iset(v: &[i64]) -> Cell {
    Cell::IntSet(v.to_vec())
}

/// First column of every row as text.
pub fn keys(out: &HuntOutput) -> Vec<String> {
    out.rows.iter().map(|r| r[0].to_csv()).collect()
}
