//! The tuning cockpit end to end: `rarity explain` and `rarity sweep` agree with `rarity run`;
//! on the sample fleet the hourly ncat.exe beacon is flagged from its drill-down, timelines
//! account for every event, why-this-row names the values and parameters; sources far apart in
//! time get a clock warning with a `--now` suggestion.

use assert_cmd::Command;
use predicates::prelude::*;
use rarity::hunt::timeline::{rhythm, timeline};
use rarity::hunt::{Engine, HuntId, HuntParams};
use std::sync::Arc;

const HUNTS: [&str; 5] = ["rare-process", "vm-new-country", "supply-chain", "server-anomaly", "ti-inbound"];

fn rarity(args: &[&str]) -> Command {
    let mut c = Command::cargo_bin("rarity").expect("binary builds");
    c.args(args).arg("--no-config");
    c
}

fn stdout(args: &[&str]) -> String {
    let out = rarity(args).assert().success().get_output().stdout.clone();
    String::from_utf8(out).unwrap()
}

/// Data rows of a CSV with a header.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    r.records().map(|x| x.unwrap().iter().map(str::to_string).collect()).collect()
}

#[test]
fn explain_ends_at_the_row_count_of_run_for_every_hunt() {
    for hunt in HUNTS {
        let explain = stdout(&["explain", hunt, "--format", "csv"]);
        assert!(explain.starts_with("step,condition,count\n"), "{explain}");
        let steps = csv_rows(&explain);
        let last: usize = steps.last().unwrap()[2].parse().unwrap();
        let run = csv_rows(&stdout(&["run", hunt, "--format", "csv"]));
        assert_eq!(last, run.len(), "{hunt}: {explain}");
        // Counts never grow down the funnel within one unit of counting.
        let json: serde_json::Value = serde_json::from_str(&stdout(&["explain", hunt, "--format", "json"])).unwrap();
        assert_eq!(json["rows"].as_u64().unwrap() as usize, run.len());
        assert_eq!(json["steps"].as_array().unwrap().len(), steps.len());
    }
}

#[test]
fn explain_marks_the_step_that_emptied_the_result() {
    rarity(&["explain", "rare-process", "--set", "excluded_ports=4444,22,8443,3389,80,443", "--set", "max_devices=1"])
        .assert()
        .success()
        .stdout(predicate::str::contains(">> kept"))
        .stdout(predicate::str::contains("removed everything"));
    rarity(&["explain", "rare-process", "--now", "2030-01-01T00:00:00Z"])
        .assert()
        .success()
        .stdout(predicate::str::contains(">> 1 "))
        .stdout(predicate::str::contains("0 of "))
        .stdout(predicate::str::contains("before the window starts"));
}

#[test]
fn sweep_points_equal_runs_with_that_value() {
    let out = stdout(&["sweep", "rare-process", "max_devices", "--values", "1,2,3,6", "--format", "csv"]);
    assert!(out.starts_with("value,rows\n"), "{out}");
    for row in csv_rows(&out) {
        let run =
            csv_rows(&stdout(&["run", "rare-process", "--format", "csv", "--set", &format!("max_devices={}", row[0])]));
        assert_eq!(row[1].parse::<usize>().unwrap(), run.len(), "max_devices={}", row[0]);
    }
    let out = stdout(&["sweep", "server-anomaly", "recent", "--values", "1h,1d,5d", "--format", "csv"]);
    for row in csv_rows(&out) {
        let run =
            csv_rows(&stdout(&["run", "server-anomaly", "--format", "csv", "--set", &format!("recent={}", row[0])]));
        assert_eq!(row[1].parse::<usize>().unwrap(), run.len(), "recent={}", row[0]);
    }
}

#[test]
fn sweep_without_values_shows_the_default_range_around_the_current_value() {
    let out = stdout(&["sweep", "supply-chain", "max_prevalence", "--format", "csv"]);
    let rows = csv_rows(&out);
    assert_eq!(rows.len(), rarity::hunt::funnel::SWEEP_POINTS);
    assert!(rows.iter().any(|r| r[0] == "6"));
    rarity(&["sweep", "rare-process", "max_devices"]).assert().success().stdout(predicate::str::contains("<- current"));
}

#[test]
fn sweep_refuses_lists_and_bad_values() {
    rarity(&["sweep", "rare-process", "browsers"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("these sweep: lookback, max_devices"));
    rarity(&["sweep", "rare-process", "lookback", "--values", "1d,x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad sweep value `x`"));
    rarity(&["explain", "all"]).assert().code(2);
}

fn inspect(args: &[&str]) -> String {
    let out =
        Command::cargo_bin("rarity").unwrap().arg("inspect").args(args).assert().success().get_output().stdout.clone();
    String::from_utf8(out).unwrap()
}

fn sample_engine() -> Engine {
    Engine::new(Arc::new(rarity::sample::load().unwrap().0))
}

#[test]
fn ncat_beacon_is_flagged_and_why_names_its_values() {
    let eng = sample_engine();
    let p = HuntParams::defaults(rarity::hunt::rare_process::ID);
    let out = eng.run(&p, None).unwrap();
    let row = out.rows.iter().position(|r| r[0].to_csv() == "ncat.exe").expect("ncat.exe is planted");
    let d = eng.drill(&out, row);
    let t = eng.timeline(d.table, &d.rows, eng.hunt_window(&out.params, out.now), 60);
    assert_eq!(t.counts.iter().sum::<usize>(), d.rows.len());
    let r = t.rhythm.clone().expect("enough events for a rhythm");
    assert!(r.beacon, "{r:?}");
    let why = eng.why(&out, row);
    assert!(why.contains("< max_devices 4"), "{why}");
    assert!(why.contains("[4444]"), "{why}");
}

#[test]
fn every_finding_timeline_accounts_for_every_event() {
    let eng = sample_engine();
    for h in HuntId::all() {
        let p = HuntParams::defaults(h);
        let Ok(out) = eng.run(&p, None) else { continue };
        for row in 0..out.rows.len() {
            let d = eng.drill(&out, row);
            for width in [1, 7, 60, 200] {
                let t = eng.timeline(d.table, &d.rows, eng.hunt_window(&out.params, out.now), width);
                assert_eq!(t.counts.iter().sum::<usize>(), d.rows.len(), "{h:?} row {row}");
                assert!(t.counts.len() <= width.max(1), "{h:?} width {width}: {}", t.counts.len());
            }
            assert!(!eng.why(&out, row).is_empty(), "{h:?} row {row}");
        }
    }
}

/// xorshift64*, for reproducible random times.
fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed | 1;
    move || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        s.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn a_planted_hourly_beacon_is_flagged_and_random_times_are_not() {
    const H: i64 = 3_600_000_000_000;
    for seed in 1..50u64 {
        let mut next = rng(seed);
        // Hourly with up to 2 minutes of jitter, 24-72 beats.
        let beats = 24 + (next() % 48) as i64;
        let beacon: Vec<i64> = (0..beats).map(|i| i * H + (next() % 120_000_000_000) as i64 - 60_000_000_000).collect();
        let r = rhythm(&{
            let mut b = beacon.clone();
            b.sort_unstable();
            b
        })
        .unwrap();
        assert!(r.beacon, "seed {seed}: {r:?}");
        // The same number of events at uniformly random times over the same span.
        let mut random: Vec<i64> = (0..beats).map(|_| (next() % (beats as u64 * H as u64)) as i64).collect();
        random.sort_unstable();
        let r = rhythm(&random).unwrap();
        assert!(!r.beacon, "seed {seed}: {r:?}");
        let t = timeline(&random, None, 40);
        assert_eq!(t.counts.iter().sum::<usize>(), random.len());
    }
}

#[test]
fn inspect_warns_per_source_when_sources_are_far_apart_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let header = "Timestamp,DeviceId,DeviceName,ActionType,RemoteIP,RemotePort,RemoteUrl,LocalIP,LocalPort,Protocol,RemoteIPType,InitiatingProcessFileName\n";
    let row = |ts: &str| format!("{ts},id1,ws1,ConnectionSuccess,8.8.8.8,22,,10.0.0.1,5000,Tcp,Public,putty.exe\n");
    std::fs::write(dir.path().join("old.csv"), format!("{header}{}", row("2022-05-13T08:00:00Z"))).unwrap();
    std::fs::write(dir.path().join("new.csv"), format!("{header}{}", row("2023-11-28T06:00:00Z"))).unwrap();
    let out = inspect(&[dir.path().to_str().unwrap()]);
    let clock: Vec<&str> = out.lines().filter(|l| l.starts_with("Clock:")).collect();
    assert_eq!(clock.len(), 1, "{out}");
    assert!(clock[0].contains("old.csv"), "{out}");
    assert!(clock[0].contains("Try --now 2022-05-13T08:00:00"), "{out}");
    let json: serde_json::Value =
        serde_json::from_str(&inspect(&[dir.path().to_str().unwrap(), "--format", "json"])).unwrap();
    assert_eq!(json["clock_warnings"].as_array().unwrap().len(), 1);
    // The same --now the warning suggests silences it.
    let out = inspect(&[dir.path().to_str().unwrap(), "--now", "2022-05-13T09:00:00Z"]);
    assert_eq!(out.lines().filter(|l| l.starts_with("Clock:")).count(), 0, "{out}");
}
