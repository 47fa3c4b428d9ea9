//! `rarity pivot` end to end on the built-in sample fleet: every network event with a value,
//! in time order, in every format; malformed IPs are errors, values that match nothing print
//! nothing.

use assert_cmd::Command;

fn pivot(args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("rarity").unwrap().arg("pivot").args(args).assert()
}

fn csv_rows(out: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(out);
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r.records().map(|x| x.unwrap().iter().map(str::to_string).collect()).collect();
    (header, rows)
}

#[test]
fn process_pivot_lists_every_event_of_the_process_in_time_order() {
    let out = pivot(&["process", "NCAT.EXE", "--format", "csv"]).success().get_output().stdout.clone();
    let (header, rows) = csv_rows(&out);
    assert_eq!(&header[..4], ["Timestamp", "DeviceName", "ActionType", "RemoteIP"]);
    let proc_col = header.iter().position(|h| h == "InitiatingProcessFileName").unwrap();
    assert!(rows.len() > 10, "{}", rows.len());
    assert!(rows.iter().all(|r| r[proc_col].eq_ignore_ascii_case("ncat.exe")));
    let times: Vec<&String> = rows.iter().map(|r| &r[0]).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "rows come sorted by Timestamp");
}

#[test]
fn ip_pivot_matches_remote_or_local_address_exactly() {
    let out = pivot(&["process", "ncat.exe", "--format", "csv"]).success().get_output().stdout.clone();
    let (header, rows) = csv_rows(&out);
    let remote = header.iter().position(|h| h == "RemoteIP").unwrap();
    let local = header.iter().position(|h| h == "LocalIP").unwrap();
    let ip = rows[0][remote].clone();
    let out = pivot(&["ip", &ip, "--format", "csv"]).success().get_output().stdout.clone();
    let (_, rows) = csv_rows(&out);
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r[remote] == ip || r[local] == ip), "{ip}");
    // A prefix of the address matches nothing of it.
    let prefix = &ip[..ip.len() - 1];
    let out = pivot(&["ip", prefix, "--format", "csv"]).success().get_output().stdout.clone();
    let (_, rows) = csv_rows(&out);
    assert!(rows.iter().all(|r| r[remote] == prefix || r[local] == prefix));
    // The IPv4-mapped form is the same address.
    let mapped = format!("::ffff:{ip}");
    let a = pivot(&["ip", &ip, "--format", "json"]).success().get_output().stdout.clone();
    let b = pivot(&["ip", &mapped, "--format", "json"]).success().get_output().stdout.clone();
    assert_eq!(a, b);
    let v: serde_json::Value = serde_json::from_slice(&a).unwrap();
    assert!(v.as_array().is_some_and(|a| !a.is_empty() && a[0].get("RemoteIP").is_some()));
}

#[test]
fn malformed_ip_is_an_error_and_no_match_prints_nothing() {
    pivot(&["ip", "10.0.0.300"]).code(2).stderr(predicates::str::contains("not an IP address"));
    pivot(&["domain", "nothing-here.invalid"]).success().stdout("");
    pivot(&["hash", "0000"]).success().stdout("");
    pivot(&["nope", "x"]).code(2);
}

#[test]
fn output_goes_to_a_file_and_table_is_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.csv");
    pivot(&["device", "ws-0003.contoso.local", "--format", "csv", "-o", path.to_str().unwrap()]).success().stdout("");
    let (_, rows) = csv_rows(&std::fs::read(&path).unwrap());
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r[1].eq_ignore_ascii_case("ws-0003.contoso.local")));
    let table = pivot(&["device", "WS-0003.contoso.local"]).success().get_output().stdout.clone();
    let text = String::from_utf8(table).unwrap();
    assert!(text.lines().next().unwrap().starts_with("Timestamp"), "{text}");
    assert_eq!(text.lines().count(), rows.len() + 2, "header, rule, one line per event");
}

#[test]
fn hash_pivot_matches_md5_or_sha1_in_any_case() {
    let out = pivot(&["process", "ncat.exe", "--format", "json"]).success().get_output().stdout.clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let first = &v.as_array().unwrap()[0];
    for col in ["InitiatingProcessMD5", "InitiatingProcessSHA1"] {
        let hash = first[col].as_str().unwrap().to_uppercase();
        assert!(!hash.is_empty(), "{col}");
        let out = pivot(&["hash", &hash, "--format", "json"]).success().get_output().stdout.clone();
        let rows: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let rows = rows.as_array().unwrap();
        assert!(!rows.is_empty(), "{col}");
        assert!(rows.iter().all(|r| r[col].as_str().unwrap().eq_ignore_ascii_case(&hash)), "{col}");
    }
}

#[test]
fn a_pivot_says_on_stderr_when_its_events_happened_and_flags_a_beacon() {
    // The sample's ncat.exe connects hourly to one address; stdout stays the data alone.
    let a = pivot(&["ip", "194.26.29.40", "--format", "csv"]).success();
    let out = a.get_output();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rarity: 24 events from 2026-11-19T03:30:17"), "{err}");
    assert!(err.contains("every 1h ± 0s over 23 intervals (regular: possible beacon)"), "{err}");
    assert_eq!(csv_rows(&out.stdout).1.len(), 24);
    // Too few events to judge a rhythm: the span alone.
    let a = pivot(&["process", "powershell.exe"]).success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains(" events from ") && !err.contains("every "), "{err}");
}
