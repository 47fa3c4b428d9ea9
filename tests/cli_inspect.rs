//! `rarity inspect` end to end, in both output formats.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::PathBuf;

fn rarity() -> Command {
    Command::cargo_bin("rarity").expect("binary builds")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shared() -> Option<PathBuf> {
    let dir = std::env::var_os("RARITY_SHARED").map(PathBuf::from).unwrap_or_else(|| root().join("../shared"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: {} not present", dir.display());
        None
    }
}

#[test]
fn table_report_lists_formats_rows_rejects_and_totals() {
    let bad = root().join("tests/fixtures/csv/defender_portal_dne_bad.csv");
    let out = rarity()
        .current_dir(root())
        .args(["inspect", "tests/fixtures/csv/defender_portal_dne_bad.csv", "assets/sample"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(bad.exists());
    for want in [
        "format:   Defender portal CSV (DeviceNetworkEvents)",
        "loaded:   3 DeviceNetworkEvents",
        "rejected: 4 rows",
        "tests/fixtures/csv/defender_portal_dne_bad.csv:6: bad IP `10.0.0.300` in RemoteIP",
        "format:   Sentinel CSV (Event table, Sysmon XML)",
        "warning:  4 Sysmon events other than Event ID 3",
        "format:   IPsum feed (IP and count)",
        "Totals: 2,040 DeviceNetworkEvents, 1,200 DeviceInfo, 359 VMConnection, 157 threat-intel entries",
        "Reference now: 2026-11-20T09:30:00.0000000Z",
    ] {
        assert!(text.contains(want), "missing `{want}` in:\n{text}");
    }
}

#[test]
fn json_report_has_the_documented_shape() {
    let out = rarity()
        .current_dir(root())
        .args([
            "inspect",
            "--format",
            "json",
            "tests/fixtures/csv/defender_portal_dne_bad.csv",
            "tests/fixtures/json/streaming.ndjson",
        ])
        .arg("--now")
        .arg("2026-01-01T00:00:00Z")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    let f = &files[0];
    assert_eq!(f["path"], "tests/fixtures/csv/defender_portal_dne_bad.csv");
    assert_eq!(f["format"], "Defender portal CSV (DeviceNetworkEvents)");
    assert_eq!(
        f["rows"],
        serde_json::json!({"DeviceNetworkEvents": 3, "DeviceInfo": 0, "VMConnection": 0, "ThreatIntel": 0})
    );
    assert_eq!(f["rejected"], 4);
    assert!(f["warnings"].as_array().unwrap().is_empty());
    assert!(f["skipped"].is_null());
    let s = &files[1];
    assert_eq!(s["rows"]["DeviceInfo"], 1);
    assert_eq!(s["warnings"].as_array().unwrap().len(), 1);
    let t = &v["totals"];
    assert_eq!(t["DeviceNetworkEvents"], 5);
    assert_eq!(t["DeviceInfo"], 1);
    assert_eq!(t["now"], "2026-01-01T00:00:00.0000000Z");
    assert!(t["devices"].as_u64().unwrap() >= 1);
}

#[test]
fn stdin_is_read_with_dash() {
    let csv = "Timestamp,DeviceId,DeviceName,ActionType,RemoteIP,RemotePort\n2026-11-20T10:00:00Z,d1,ws1,ConnectionSuccess,8.8.8.8,53\n";
    rarity()
        .args(["inspect", "-"])
        .write_stdin(csv)
        .assert()
        .success()
        .stdout(predicate::str::contains("loaded:   1 DeviceNetworkEvents"))
        .stdout(predicate::str::contains(
            "missing:  RemoteUrl, LocalPort, Protocol, InitiatingProcessFileName, InitiatingProcessCommandLine, \
             InitiatingProcessMD5, InitiatingProcessVersionInfoCompanyName (read as empty",
        ));
}

#[test]
fn columns_rarity_does_not_interpret_are_listed() {
    let csv = "Timestamp,DeviceId,DeviceName,ActionType,RemoteIP,RemotePort,TenantId,ReportId\n\
               2026-11-20T10:00:00Z,d1,ws1,ConnectionSuccess,8.8.8.8,53,t,1\n";
    let out = rarity()
        .args(["inspect", "--format", "json", "-"])
        .write_stdin(csv)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["files"][0]["unknown_columns"], serde_json::json!(["TenantId", "ReportId"]));
    assert_eq!(v["files"][0]["missing_columns"][0], "RemoteUrl");
}

#[test]
fn real_exports_directory_is_reported_file_by_file() {
    let Some(shared) = shared() else { return };
    let out = rarity()
        .args(["inspect", "--format", "json"])
        .arg(shared.join("data/real"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let files = v["files"].as_array().unwrap();
    assert!(files.len() >= 40);
    for f in files {
        let path = f["path"].as_str().unwrap();
        let skipped = f["skipped"].as_str();
        if path.ends_with(".md") {
            assert!(skipped.is_some(), "{path} should be skipped");
            continue;
        }
        // Every file is either read in a named format or skipped with a reason.
        assert!(f["format"].is_string() || skipped.is_some_and(|s| !s.is_empty()), "{path}: {f}");
    }
    let by = |suffix: &str| files.iter().find(|f| f["path"].as_str().unwrap().ends_with(suffix)).unwrap().clone();
    assert_eq!(by("advanced_hunting_test.csv")["rows"]["DeviceNetworkEvents"], 8);
    assert_eq!(by("m365_defender_streaming_sample.ndjson")["rows"]["DeviceNetworkEvents"], 3);
    assert_eq!(by("m365_defender_streaming_sample.ndjson")["rows"]["DeviceInfo"], 1);
    assert_eq!(by("DE_sysmon-3-rdp-tun.evtx")["rows"]["DeviceNetworkEvents"], 42);
    assert_eq!(by("levels/8.txt")["rows"]["ThreatIntel"], 23);
    assert!(by("GeoIP2-City-Test-Invalid-Node-Count.mmdb")["skipped"].is_string());
    assert!(v["totals"]["geoip"].is_string());
}
