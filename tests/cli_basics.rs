//! The CLI end to end: `hunts` and the failure paths of `inspect`.

use assert_cmd::Command;
use predicates::prelude::*;

fn rarity() -> Command {
    Command::cargo_bin("rarity").expect("binary builds")
}

#[test]
fn hunts_lists_every_hunt_and_parameter_with_defaults() {
    let out = rarity().arg("hunts").assert().success().get_output().stdout.clone();
    let text = String::from_utf8(out).unwrap();
    for h in rarity::hunt::HuntId::all() {
        assert!(text.contains(h.key()), "missing {}", h.key());
        for p in h.spec().params {
            assert!(text.contains(p.key), "missing {} of {}", p.key, h.key());
        }
    }
    assert!(text.contains("100.0.0.0/16,200.200.200.0/24"));
}

#[test]
fn hunts_json_is_machine_readable() {
    let out = rarity().args(["hunts", "--format", "json"]).assert().success().get_output().stdout.clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 5);
    assert_eq!(arr[0]["hunt"], "rare-process");
    assert_eq!(arr[0]["parameters"][0]["key"], "lookback");
    assert_eq!(arr[0]["parameters"][0]["default"], "30d");
}

#[test]
fn inspect_with_nothing_usable_exits_2_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("notes.txt");
    std::fs::write(&p, "just some prose here\n").unwrap();
    rarity()
        .arg("inspect")
        .arg(&p)
        .assert()
        .code(2)
        .stdout(predicate::str::contains("skipped: not a recognized export"))
        .stderr(predicate::str::contains("nothing usable was loaded"));
}

#[test]
fn inspect_missing_file_is_reported_not_a_panic() {
    rarity()
        .args(["inspect", "/definitely/not/here.csv", "--format", "json"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("\"skipped\": \"cannot read"));
}

#[test]
fn bad_time_zone_is_a_usage_error() {
    rarity()
        .args(["inspect", "x.csv", "--tz", "Mars/Olympus"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown time zone"));
}
