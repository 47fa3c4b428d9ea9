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

fn stdout_of(args: &[&std::ffi::OsStr]) -> String {
    let out = rarity().args(args).assert().success().get_output().stdout.clone();
    String::from_utf8(out).unwrap()
}

fn os(s: &impl AsRef<std::ffi::OsStr>) -> &std::ffi::OsStr {
    s.as_ref()
}

#[test]
fn a_feed_with_one_bad_line_loads_with_a_reject_in_a_directory_and_with_ti() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("blocklist.txt");
    std::fs::write(&feed, "# my list\n198.51.100.7\nnot-an-address\n203.0.113.0/24\n").unwrap();
    let by_dir = stdout_of(&[os(&"inspect"), os(&dir.path())]);
    let by_ti = stdout_of(&[os(&"inspect"), os(&"--ti"), os(&feed)]);
    for text in [&by_dir, &by_ti] {
        for want in [
            "format:   IP and CIDR list",
            "loaded:   2 ThreatIntel entries",
            "rejected: 1 row",
            "blocklist.txt:3: not an IP or CIDR: `not-an-address`",
            "2 threat-intel entries",
        ] {
            assert!(text.contains(want), "missing `{want}` in:\n{text}");
        }
    }
}

#[test]
fn a_comments_only_feed_is_named_with_its_warning() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("empty-feed.txt");
    std::fs::write(&feed, "# Last update: today\n; nothing listed\n").unwrap();
    for args in [vec![os(&"inspect"), os(&dir.path())], vec![os(&"inspect"), os(&"--ti"), os(&feed)]] {
        let out = rarity().args(&args).assert().code(2).get_output().stdout.clone();
        let text = String::from_utf8(out).unwrap();
        let want = format!(
            "{}\n  format:   IP list\n  loaded:   0 rows\n  warning:  no addresses or networks in this feed (only comments)",
            feed.display()
        );
        assert!(text.contains(&want), "missing `{want}` in:\n{text}");
    }
    // `run` names the file on stderr too.
    rarity().args(["run", "ti-inbound", "--no-config", "--ti"]).arg(&feed).assert().stderr(predicate::str::contains(
        format!("rarity: {}: no addresses or networks in this feed (only comments)", feed.display()),
    ));
}

#[test]
fn a_feed_listing_every_address_warns_on_inspect_and_run() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("oops.txt");
    std::fs::write(&feed, "198.51.100.7\n0.0.0.0/0\n").unwrap();
    rarity().args(["inspect", "--ti"]).arg(&feed).assert().success().stdout(predicate::str::contains(
        "warning:  line 2: `0.0.0.0/0` lists EVERY IPv4 address: every inbound connection will match this feed",
    ));
    rarity()
        .args(["run", "ti-inbound", "--no-config", "--format", "csv", "--ti"])
        .arg(&feed)
        .assert()
        .stderr(predicate::str::contains("oops.txt: line 2: `0.0.0.0/0` lists EVERY IPv4 address"));
}

#[test]
fn ipsum_levels_and_feed_count_each_address_once() {
    let Some(shared) = shared() else { return };
    let text = stdout_of(&[os(&"inspect"), os(&shared.join("data/real/stamparm-ipsum"))]);
    assert!(text.contains("format:   IPsum level file (count 8)\n  loaded:   23 ThreatIntel entries"), "{text}");
    assert!(text.contains(", 120,430 threat-intel entries"), "{text}");
    let all = stdout_of(&[os(&"inspect"), os(&shared.join("data/real"))]);
    assert!(all.contains(", 120,430 threat-intel entries"), "{all}");
}

#[test]
fn inspect_checks_just_a_feed_or_just_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("ipsum.txt");
    std::fs::write(&feed, "198.51.100.7\t5\n203.0.113.9\t1\n").unwrap();
    let text = stdout_of(&[os(&"inspect"), os(&"--ti"), os(&feed)]);
    assert!(text.starts_with(&format!("{}\n  format:   IPsum feed (IP and count)\n", feed.display())), "{text}");
    assert!(text.contains("Files:  1 loaded, 0 skipped"), "{text}");

    let mut w = rarity::gen::mmdb::Writer::new("Test-Country", "test", 0);
    let gb = rarity::gen::mmdb::country_record(rarity::gen::mmdb::Layout::MaxMind, "GB", "United Kingdom");
    w.insert("81.2.69.0/24".parse().unwrap(), &gb);
    let db = dir.path().join("countries.mmdb");
    std::fs::write(&db, w.to_bytes()).unwrap();
    let text = stdout_of(&[os(&"inspect"), os(&"--geoip"), os(&db)]);
    assert!(text.starts_with(&format!("{}\n  format:   GeoIP database (Test-Country, IPv6,", db.display())), "{text}");
    assert!(text.contains("Files:  1 loaded, 0 skipped") && text.contains("GeoIP: Test-Country"), "{text}");

    // Nothing to check at all is still a usage error.
    rarity().arg("inspect").assert().code(2).stderr(predicate::str::contains("<PATH>"));
}

#[test]
fn the_geoip_file_is_not_listed_as_skipped_when_its_directory_is_loaded_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = rarity::gen::mmdb::Writer::new("Test-Country", "test", 0);
    w.insert(
        "81.2.69.0/24".parse().unwrap(),
        &rarity::gen::mmdb::country_record(rarity::gen::mmdb::Layout::MaxMind, "GB", "United Kingdom"),
    );
    let db = dir.path().join("countries.mmdb");
    std::fs::write(&db, w.to_bytes()).unwrap();
    std::fs::copy(root().join("tests/fixtures/csv/defender_portal_dne.csv"), dir.path().join("net.csv")).unwrap();
    let text = stdout_of(&[os(&"inspect"), os(&dir.path()), os(&"--geoip"), os(&db)]);
    assert!(!text.contains("skipped:"), "{text}");
    assert!(text.contains("Files:  2 loaded, 0 skipped"), "{text}");
}

#[cfg(unix)]
#[test]
fn a_device_given_as_geoip_is_skipped_after_a_bounded_read() {
    // /dev/zero never ends: the loader reads a bounded head, finds no database, skips it.
    rarity()
        .args(["inspect", "--geoip", "/dev/zero"])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2)
        .stdout(predicate::str::contains("/dev/zero\n  skipped:"));
}

#[cfg(unix)]
#[test]
fn controls_in_file_names_and_contents_are_shown_as_placeholders() {
    let dir = tempfile::tempdir().unwrap();
    // A file name and a rejected cell carrying a title-setting escape, bidi and zero-width.
    let name = "evil\x1b]0;owned\x07\u{202E}txt.csv";
    std::fs::write(
        dir.path().join(name),
        "Timestamp,DeviceName,ActionType,RemoteIP,RemotePort\n\
         2024-03-01T10:00:00Z,d,ConnectionSuccess,1.2.3.4,4444\n\
         2024-03-01T10:00:01Z,d,ConnectionSuccess,1.2.3.\u{200B}4\x1b[2J\u{9b}1m,4444\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("junk\x1b[31m.bin"), [0u8, 1, 2, 0x9b, 0x1b]).unwrap();
    let text = stdout_of(&[os(&"inspect"), os(&dir.path())]);
    for bad in ['\x1b', '\x07', '\u{9b}', '\u{202E}', '\u{200B}'] {
        assert!(!text.contains(bad), "raw U+{:04X} in:\n{text}", bad as u32);
    }
    assert!(text.contains("evil␛]0;owned␇<U+202E>txt.csv"), "{text}");
    assert!(text.contains("1.2.3.<U+200B>4␛[2J<U+009B>1m"), "{text}");
    assert!(text.contains("junk␛[31m.bin\n  skipped:"), "{text}");
    // `run` reports the skipped file on stderr, made safe as well.
    let out = rarity().args(["run", "rare-process", "--no-config"]).arg(dir.path()).assert().get_output().clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("junk␛[31m.bin: ") && !err.contains('\x1b'), "{err}");
}
