//! `rarity kql`: golden queries per hunt × dialect (defaults and one tuned set), what a
//! disabled list item and a `--set` value turn into, escaping, inline threat intel, the
//! errors, and every golden query through the official Kusto language service
//! (`@kusto/language-service-next` under node; `.ci/run` fetches it into target/kusto).
//!
//! Regenerate the golden files after a deliberate change with
//! `UPDATE_GOLDEN=1 cargo test --test cli_kql` and review the diff.

use assert_cmd::Command;
use predicates::prelude::*;
use rarity::hunt::kql::{Dialect, KqlOptions, TiSource};
use rarity::hunt::{HuntId, HuntParams};
use std::path::{Path, PathBuf};

const NOW: &str = "2024-06-01T12:00:00Z";

fn rarity() -> Command {
    let mut c = Command::cargo_bin("rarity").expect("binary builds");
    c.env("SOURCE_DATE_EPOCH", "1717243200");
    c.arg("kql");
    c
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/kql")
}

fn check_golden(name: &str, got: &[u8]) {
    let path = golden_dir().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden_dir()).unwrap();
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

/// One tuned set per hunt: a window, a threshold and a list changed.
fn tuned(hunt: &str) -> &'static [&'static str] {
    match hunt {
        "rare-process" => {
            &["lookback=7d", "max_devices=2", "excluded_ports=80,443,8080", "browsers=chrome.exe,brave.exe"]
        }
        "vm-new-country" => &["recent=90m", "country_common_above=10", "tuple_seen_above=3"],
        "supply-chain" => &["lookback=21d", "max_prevalence=3", "excluded_nets=192.0.2.0/24,2001:db8::/32"],
        "server-anomaly" => &["servers=web01,DB02", "max_connections=20", "known_domains=.microsoft.com,contoso.com"],
        _ => &["min_level=6", "excluded_local_ports=25", "excluded_nets=198.51.100.0/24"],
    }
}

const HUNTS: [&str; 5] = ["rare-process", "vm-new-country", "supply-chain", "server-anomaly", "ti-inbound"];

fn dialects(hunt: &str) -> Vec<&'static str> {
    if hunt == "vm-new-country" {
        vec!["sentinel"]
    } else {
        vec!["defender", "sentinel"]
    }
}

#[test]
fn every_hunt_and_dialect_matches_its_golden_query() {
    for hunt in HUNTS {
        for d in dialects(hunt) {
            let out =
                rarity().args([hunt, "--no-config", "--dialect", d]).assert().success().get_output().stdout.clone();
            check_golden(&format!("{hunt}.{d}.kql"), &out);
            let mut cmd = rarity();
            cmd.args([hunt, "--no-config", "--dialect", d, "--now", NOW]);
            for s in tuned(hunt) {
                cmd.args(["--set", s]);
            }
            let out = cmd.assert().success().get_output().stdout.clone();
            check_golden(&format!("{hunt}.{d}.tuned.kql"), &out);
        }
    }
    for ts in ["sentinel"] {
        for d in ["defender", "sentinel"] {
            let out = rarity()
                .args(["ti-inbound", "--no-config", "--dialect", d, "--ti-source", ts])
                .assert()
                .success()
                .get_output()
                .stdout
                .clone();
            check_golden(&format!("ti-inbound.{d}.ti-{ts}.kql"), &out);
        }
    }
}

#[test]
fn tuned_values_carry_into_the_lets_and_the_header() {
    let out = rarity()
        .args(["server-anomaly", "--no-config", "--set", "max_connections=77", "--set", "servers=web01,DB02"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("\nlet max_connections = 77; // "), "{text}");
    assert!(text.contains("\nlet servers = dynamic([\"web01\", \"DB02\"]); // "), "{text}");
    assert!(text.contains("// Non-default parameters: servers=web01,DB02; max_connections=77\n"), "{text}");
    assert!(!text.contains("let max_connections = 50;"), "{text}");
    assert!(text.contains("let RefTime = now();"), "{text}");
}

#[test]
fn a_disabled_list_item_is_left_out_and_listed_in_a_comment() {
    let hunt = rarity::hunt::server_anomaly::ID;
    let mut p = HuntParams::defaults(hunt);
    for item in p.items_mut("known_domains").unwrap() {
        if item.text == "login.live.com" {
            item.enabled = false;
        }
    }
    let q = hunt.hunt().kql(&p, &KqlOptions::default(), None).unwrap();
    let line = q.lines().find(|l| l.starts_with("let known_domains = ")).unwrap();
    assert!(!line.contains("login.live.com"), "{line}");
    assert!(line.contains("\"login.microsoftonline.com\""), "{line}");
    assert!(q.contains("\n// known_domains disabled (not applied): login.live.com\n"), "{q}");
    assert_eq!(q.matches("login.live.com\"").count(), 0, "{q}");
    assert!(q.contains("// Non-default parameters: known_domains="), "{q}");
    // With every item enabled there is no such comment.
    let d = hunt.hunt().kql(&HuntParams::defaults(hunt), &KqlOptions::default(), None).unwrap();
    assert!(!d.contains("disabled (not applied)"), "{d}");
    assert!(d.contains("\"login.live.com\""), "{d}");
}

#[test]
fn a_value_cannot_break_out_of_its_string() {
    let out = rarity()
        .args(["server-anomaly", "--no-config", "--set", r#"servers=a"b\c); print x=1 //"#])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains(r#"let servers = dynamic(["a\"b\\c); print x=1 //"]);"#), "{text}");
    // A control character cannot be written in a KQL string: refused, naming the parameter.
    rarity()
        .args(["rare-process", "--no-config", "--set", "browsers=a\u{1b}b"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("browsers").and(predicate::str::contains("control character")));
}

#[test]
fn vm_new_country_has_no_defender_form() {
    rarity()
        .args(["vm-new-country", "--no-config", "--dialect", "defender"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--dialect sentinel"));
    let out =
        rarity().args(["all", "--no-config", "--dialect", "defender"]).assert().success().get_output().stdout.clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("// ===== rarity hunt vm-new-country (VM new country) =====\n// skipped: "), "{text}");
    assert_eq!(text.matches("// ===== rarity hunt ").count(), 5, "{text}");
    assert!(text.contains("// ===== rarity hunt ti-inbound (TI inbound) =====\n// rarity hunt ti-inbound: "), "{text}");
}

#[test]
fn errors_exit_2() {
    rarity().args(["nope", "--no-config"]).assert().code(2).stderr(predicate::str::contains("unknown hunt"));
    rarity().args(["rare-process", "--no-config", "--set", "nope=1"]).assert().code(2);
    rarity()
        .args(["ti-inbound", "--no-config", "--ti-source", "inline"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("needs a loaded threat-intel feed"));
    rarity()
        .args(["rare-process", "--no-config", "some/path"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no data"));
}

#[test]
fn inline_ti_embeds_the_listed_entries_and_refuses_too_many() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.txt");
    std::fs::write(&feed, "# test feed\n203.0.113.5\t7\n203.0.113.6\t2\n198.51.100.0/24\n2001:db8::1\t5\n").unwrap();
    let out = rarity()
        .args(["ti-inbound", "--no-config", "--ti-source", "inline", "--set", "min_level=5"])
        .arg(&feed)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    check_golden("ti-inbound.sentinel.ti-inline.kql", text.as_bytes());
    assert!(text.contains("    \"203.0.113.5\", 7,\n"), "{text}");
    assert!(text.contains("    \"198.51.100.0/24\", int(null),\n"), "{text}");
    assert!(text.contains("    \"2001:db8::1\", 5,\n"), "{text}");
    assert!(!text.contains("203.0.113.6"), "below min_level: {text}");

    let big = dir.path().join("big.txt");
    let lines: String = (0..10_001u32).map(|i| format!("10.{}.{}.{}\n", i >> 16, (i >> 8) & 255, i & 255)).collect();
    std::fs::write(&big, lines).unwrap();
    rarity()
        .args(["ti-inbound", "--no-config", "--ti-source", "inline"])
        .arg(&big)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("10001").and(predicate::str::contains("--ti-source ipsum")));
}

#[test]
fn library_options_pick_the_dialect_columns() {
    let p = HuntParams::defaults(rarity::hunt::rare_process::ID);
    let opts = KqlOptions { dialect: Dialect::Defender, ti_source: TiSource::Ipsum, ..KqlOptions::default() };
    let q = HuntId::from_key("rare-process").unwrap().hunt().kql(&p, &opts, None).unwrap();
    assert!(q.contains("| where Timestamp > RefTime - lookback"), "{q}");
    assert!(!q.contains("TimeGenerated"), "{q}");
    assert!(!q.contains("\nEvent\n") && !q.contains("(Event\n"), "defender has no Event table: {q}");
}

/// Where `.ci/run` unpacks `@kusto/language-service-next`.
fn language_service() -> Option<PathBuf> {
    let dir = std::env::var_os("RARITY_KUSTO_LS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/kusto/package"));
    dir.join("Kusto.Language.Bridge.js").is_file().then_some(dir)
}

fn node_works() -> bool {
    std::process::Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success())
}

#[test]
fn every_golden_query_analyzes_with_zero_errors_in_the_kusto_language_service() {
    let Some(pkg) = language_service() else {
        eprintln!("SKIP kusto language-service check: @kusto/language-service-next not found in target/kusto/package (run .ci/run, or set RARITY_KUSTO_LS)");
        return;
    };
    if !node_works() {
        eprintln!("SKIP kusto language-service check: node is not installed");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kql/check.mjs");
    let mut checked = 0;
    for d in ["defender", "sentinel"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.contains(&format!(".{d}."))))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no golden {d} queries");
        checked += files.len();
        let out = std::process::Command::new("node").arg(&script).arg(&pkg).arg(d).args(&files).output().unwrap();
        let log = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "language service found errors ({d}):\n{log}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(log.matches(": 0 error(s)").count(), files.len(), "{log}");
    }
    // And the checker does fail on a broken query (it is not a test that cannot fail).
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.kql");
    std::fs::write(&bad, "DeviceNetworkEvents | where NoSuchColumn == 1").unwrap();
    let out = std::process::Command::new("node").arg(&script).arg(&pkg).arg("defender").arg(&bad).output().unwrap();
    assert!(!out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("kusto language service: {checked} queries, 0 errors");
}
