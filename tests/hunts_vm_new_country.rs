//! vm-new-country (docs/hunts.md section 2): windows, thresholds, summarizing, banner.

mod support;

use rarity::hunt::fixture::DatasetBuilder;
use rarity::hunt::{Cell, HuntOutput};
use rarity::model::tables::VmField as F;
use support::*;

#[derive(Clone)]
struct Row {
    at: i64,
    computer: &'static str,
    dir: &'static str,
    proc_: &'static str,
    src: &'static str,
    dst: &'static str,
    port: &'static str,
    country: &'static str,
    sent: &'static str,
}

fn row(at: i64, country: &'static str) -> Row {
    Row {
        at,
        computer: "vm1",
        dir: "outbound",
        proc_: "curl",
        src: "10.0.0.1",
        dst: "203.0.113.9",
        port: "443",
        country,
        sent: "10",
    }
}

fn hunt(rows: &[Row], sets: &[(&str, &str)]) -> HuntOutput {
    let mut b = DatasetBuilder::new();
    for r in rows {
        let ts = support::at(r.at);
        assert!(b.vm(&[
            (F::TimeGenerated, &ts),
            (F::Computer, r.computer),
            (F::Direction, r.dir),
            (F::ProcessName, r.proc_),
            (F::SourceIp, r.src),
            (F::DestinationIp, r.dst),
            (F::DestinationPort, r.port),
            (F::Protocol, "tcp"),
            (F::RemoteCountry, r.country),
            (F::BytesSent, r.sent),
            (F::BytesReceived, "5"),
        ]));
    }
    run(b.build(), rarity::hunt::vm_new_country::ID, sets).2
}

/// `n` earlier rows to `country` (distinct destinations, so no tuple becomes well known).
fn history(country: &'static str, n: usize) -> Vec<Row> {
    const DSTS: [&str; 8] = ["1.0.0.1", "1.0.0.2", "1.0.0.3", "1.0.0.4", "1.0.0.5", "1.0.0.6", "1.0.0.7", "1.0.0.8"];
    (0..n)
        .map(|k| {
            let mut r = row(-2 * D, country);
            r.dst = DSTS[k];
            r
        })
        .collect()
}

fn countries(out: &HuntOutput) -> Vec<String> {
    out.rows.iter().map(|r| r[7].to_csv()).collect()
}

#[test]
fn vm_country_with_five_earlier_connections_is_new_and_six_is_common() {
    let mut rows = history("Fiveland", 5);
    rows.extend(history("Sixland", 6));
    rows.push(row(-10 * M, "Fiveland"));
    rows.push(row(-10 * M, "Sixland"));
    let out = hunt(&rows, &[]);
    assert_eq!(countries(&out), ["Fiveland"]);
    assert_eq!(
        out.rows[0],
        vec![
            t("vm1"),
            t("outbound"),
            t("curl"),
            t("10.0.0.1"),
            t("203.0.113.9"),
            i(443),
            t("tcp"),
            t("Fiveland"),
            Cell::Empty,
            tm(-10 * M),
            tm(-10 * M),
            i(10),
            i(5),
            i(1)
        ]
    );
}

#[test]
fn vm_tuple_seen_seven_times_is_new_and_eight_is_well_known() {
    let mk = |n: usize| {
        let mut rows: Vec<Row> = (0..n).map(|_| row(-D, "Tupleland")).collect();
        rows.push(row(-5 * M, "Tupleland"));
        rows
    };
    let sets = [("country_common_above", "100")];
    assert_eq!(countries(&hunt(&mk(7), &sets)), ["Tupleland"]);
    assert!(hunt(&mk(8), &sets).rows.is_empty());
    // Process names compare case-insensitively in the tuple.
    let mut rows: Vec<Row> = (0..8).map(|_| row(-D, "Tupleland")).collect();
    let mut recent = row(-5 * M, "Tupleland");
    recent.proc_ = "CURL";
    rows.push(recent);
    assert!(hunt(&rows, &sets).rows.is_empty());
}

#[test]
fn vm_window_boundaries() {
    // Exactly now-1h is recent (>=), so it is not history either.
    let mut rows = history("Edge", 6);
    for r in rows.iter_mut() {
        r.at = -H;
    }
    let out = hunt(&rows, &[]);
    assert_eq!(out.rows.len(), 6);
    // now-30d counts for the country (<=), 1ns earlier does not.
    let mut rows = history("Old", 6);
    for r in rows.iter_mut() {
        r.at = -30 * D;
    }
    rows.push(row(-M, "Old"));
    assert!(hunt(&rows, &[]).rows.is_empty());
    for r in rows.iter_mut().take(6) {
        r.at = -30 * D - 1;
    }
    assert_eq!(countries(&hunt(&rows, &[])), ["Old"]);
    // now-7d counts for the tuple (<=), 1ns earlier does not.
    let sets = [("country_common_above", "100")];
    let mut rows: Vec<Row> = (0..8).map(|_| row(-7 * D, "T")).collect();
    rows.push(row(-M, "T"));
    assert!(hunt(&rows, &sets).rows.is_empty());
    for r in rows.iter_mut().take(8) {
        r.at = -7 * D - 1;
    }
    assert_eq!(countries(&hunt(&rows, &sets)), ["T"]);
}

#[test]
fn vm_direction_is_case_insensitive_and_empty_country_is_dropped() {
    let mut a = row(-M, "A");
    a.dir = "OutBound";
    let mut b = row(-M, "B");
    b.dir = "inbound";
    let c = row(-M, "");
    let out = hunt(&[a, b, c], &[]);
    assert_eq!(countries(&out), ["A"]);
    assert_eq!(out.rows[0][1], t("OutBound"));
}

#[test]
fn vm_summarizes_rows_of_one_tuple_and_sorts() {
    let mut rows = vec![row(-30 * M, "Zed"), row(-20 * M, "Zed"), row(-10 * M, "Ay")];
    rows[1].sent = "32";
    let mut other = row(-40 * M, "Zed");
    other.computer = "avm";
    rows.push(other);
    let out = hunt(&rows, &[]);
    assert_eq!(countries(&out), ["Ay", "Zed", "Zed"]);
    assert_eq!(out.rows[1][0], t("avm"));
    let zed = &out.rows[2];
    assert_eq!((&zed[9], &zed[10], &zed[11], &zed[13]), (&tm(-30 * M), &tm(-20 * M), &i(42), &i(2)));
}

#[test]
fn vm_banner_above_alert_threshold() {
    let five: Vec<Row> = ["A", "B", "C", "D", "E"].iter().map(|c| row(-M, c)).collect();
    let out = hunt(&five, &[]);
    assert_eq!(out.rows.len(), 5);
    assert!(out.banner.is_none());
    let mut six = five.clone();
    six.push(row(-M, "F"));
    let out = hunt(&six, &[]);
    assert!(out.banner.as_deref().unwrap_or("").contains('6'), "{:?}", out.banner);
    assert!(hunt(&six, &[("alert_above", "6")]).banner.is_none());
}
