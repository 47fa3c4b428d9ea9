//! `rarity run` end to end on the built-in sample fleet: every hunt in every format against
//! golden files, byte-for-byte stability, and the error cases.
//!
//! Regenerate the golden files after a deliberate change with
//! `UPDATE_GOLDEN=1 cargo test --test cli_run` and review the diff.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::PathBuf;

fn rarity() -> Command {
    let mut c = Command::cargo_bin("rarity").expect("binary builds");
    // Never read the developer's own saved tuning.
    c.arg("run");
    c
}

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/run").join(name)
}

fn check_golden(name: &str, got: &[u8]) {
    let path = golden(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    if want != got {
        panic!(
            "{name} differs from its golden file\n--- want\n{}\n--- got\n{}",
            String::from_utf8_lossy(&want),
            String::from_utf8_lossy(got)
        );
    }
}

const HUNTS: [&str; 5] = ["rare-process", "vm-new-country", "supply-chain", "server-anomaly", "ti-inbound"];

#[test]
fn every_hunt_in_every_format_matches_its_golden_file() {
    for hunt in HUNTS {
        for (format, ext) in [("csv", "csv"), ("json", "json"), ("table", "txt")] {
            let out =
                rarity().args([hunt, "--no-config", "--format", format]).assert().success().get_output().stdout.clone();
            assert!(!out.is_empty(), "{hunt} {format} printed nothing");
            check_golden(&format!("{hunt}.{ext}"), &out);
        }
    }
}

#[test]
fn every_hunt_finds_something_on_the_sample() {
    for hunt in HUNTS {
        let out =
            rarity().args([hunt, "--no-config", "--format", "json"]).assert().success().get_output().stdout.clone();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert!(!v.as_array().unwrap().is_empty(), "{hunt} found nothing on the sample");
    }
}

#[test]
fn run_all_prints_every_hunt_and_is_byte_for_byte_stable() {
    let a = rarity().args(["all", "--no-config"]).assert().success().get_output().stdout.clone();
    let b = rarity().args(["all", "--no-config"]).assert().success().get_output().stdout.clone();
    assert_eq!(a, b);
    let text = String::from_utf8(a).unwrap();
    for hunt in HUNTS {
        assert!(text.contains(&format!("== {hunt}:")), "{hunt} missing from run all");
    }
    check_golden("all.txt", text.as_bytes());
}

#[test]
fn csv_columns_come_first_in_the_contract_order() {
    let out = rarity()
        .args(["rare-process", "--no-config", "--format", "csv"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let first = String::from_utf8(out).unwrap().lines().next().unwrap().to_string();
    assert_eq!(
        first,
        "InitiatingProcessFileName,DeviceCount,Hashes,SampleProcess,SampleRemoteIP,Ports,RemoteIP_country,EventCount"
    );
}

#[test]
fn set_changes_the_result_and_output_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rp.csv");
    rarity()
        .args(["rare-process", "--no-config", "--format", "csv", "--set", "max_devices=2", "--output"])
        .arg(&out)
        .assert()
        .success()
        .stdout("");
    let text = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.split(',').nth(1) == Some("1")), "{text}");
}

#[test]
fn unknown_key_is_an_error_naming_the_key_and_the_known_ones() {
    rarity()
        .args(["rare-process", "--no-config", "--set", "lookbak=7d"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("lookbak").and(predicate::str::contains("lookback")));
}

#[test]
fn bad_cidr_is_an_error_naming_the_accepted_form() {
    rarity()
        .args(["rare-process", "--no-config", "--set", "excluded_nets=10.0.0.0/33"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("excluded_nets").and(predicate::str::contains("10.0.0.0/8")));
}

#[test]
fn bad_duration_is_an_error_naming_the_accepted_form() {
    rarity()
        .args(["vm-new-country", "--no-config", "--set", "recent=30x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("recent").and(predicate::str::contains("30d")));
}

#[test]
fn unknown_hunt_lists_the_hunts() {
    rarity().args(["rare-proc", "--no-config"]).assert().code(2).stderr(predicate::str::contains("rare-process"));
}

#[test]
fn missing_table_names_the_table_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net.csv");
    std::fs::write(
        &net,
        "Timestamp,DeviceId,DeviceName,ActionType,RemoteIP,RemotePort,Protocol\n\
         2026-11-20T10:00:00Z,d1,ws1,ConnectionSuccess,8.8.8.8,53,Tcp\n",
    )
    .unwrap();
    rarity()
        .args(["supply-chain", "--no-config"])
        .arg(&net)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("DeviceInfo"));
    rarity()
        .args(["vm-new-country", "--no-config"])
        .arg(&net)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("VMConnection"));
}

#[test]
fn saved_tuning_is_used_unless_no_config() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.json");
    let mut c = rarity::config::Config::default();
    let mut p = rarity::hunt::HuntParams::defaults(rarity::hunt::rare_process::ID);
    p.set("max_devices", "2").unwrap();
    c.set_params(&p);
    c.save(&cfg).unwrap();
    let tuned = rarity()
        .args(["rare-process", "--format", "csv", "--config"])
        .arg(&cfg)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let plain = rarity()
        .args(["rare-process", "--format", "csv", "--no-config"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(tuned.len() < plain.len(), "saved max_devices=2 should drop rows");
}

#[test]
fn run_says_on_stderr_which_parameters_are_tuned_and_from_where() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.json");
    let mut c = rarity::config::Config::default();
    let mut p = rarity::hunt::HuntParams::defaults(rarity::hunt::rare_process::ID);
    p.set("max_devices", "2").unwrap();
    c.set_params(&p);
    c.save(&cfg).unwrap();
    let out = rarity()
        .args(["rare-process", "--format", "csv", "--set", "lookback=7d", "--config"])
        .arg(&cfg)
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    let line = err.lines().find(|l| l.contains("rare-process tuned:")).unwrap_or_else(|| panic!("{err}"));
    assert!(line.contains("lookback=7d (--set)"), "{line}");
    assert!(line.contains("max_devices=2 (saved tuning ") && line.contains("config.json"), "{line}");
    // Defaults say nothing.
    let quiet = rarity().args(["rare-process", "--no-config"]).assert().success().get_output().stderr.clone();
    assert!(!String::from_utf8(quiet).unwrap().contains("tuned"));
}

#[test]
fn formula_like_cells_are_guarded_unless_csv_raw() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net.csv");
    std::fs::write(
        &net,
        "Timestamp,DeviceId,DeviceName,ActionType,RemoteIP,RemotePort,Protocol,RemoteIPType,InitiatingProcessFileName,InitiatingProcessCommandLine\n\
         2026-11-20T10:00:00Z,d1,ws1,ConnectionSuccess,8.8.4.4,22,Tcp,Public,evil.exe,=cmd|' /C calc'!A0\n",
    )
    .unwrap();
    let guarded = rarity()
        .args(["rare-process", "--no-config", "--format", "csv"])
        .arg(&net)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(guarded).unwrap().contains("'=cmd|"));
    let raw = rarity()
        .args(["rare-process", "--no-config", "--format", "csv", "--csv-raw"])
        .arg(&net)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let raw = String::from_utf8(raw).unwrap();
    assert!(raw.contains("=cmd|") && !raw.contains("'=cmd|"));
}

#[test]
fn run_all_takes_per_hunt_keys() {
    let base = rarity().args(["all", "--no-config", "--format", "json"]).assert().success().get_output().stdout.clone();
    let tuned = rarity()
        .args(["all", "--no-config", "--format", "json", "--set", "rare-process.max_devices=2"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let base: serde_json::Value = serde_json::from_slice(&base).unwrap();
    let tuned: serde_json::Value = serde_json::from_slice(&tuned).unwrap();
    assert!(tuned["rare-process"].as_array().unwrap().len() < base["rare-process"].as_array().unwrap().len());
    assert_eq!(tuned["server-anomaly"], base["server-anomaly"]);
    // A bare key applies to every hunt that has it; one no hunt has is an error.
    rarity().args(["all", "--no-config", "--set", "lookback=7d"]).assert().success();
    rarity().args(["all", "--no-config", "--set", "nope=1"]).assert().code(2).stderr(predicate::str::contains("nope"));
}
