//! `rarity run --case` (Verdict and Note as the last columns in every format) and `rarity case`
//! (counts per hunt and verdict, judged findings a retuning hides), on the built-in sample.

use assert_cmd::Command;
use std::path::Path;

fn rarity() -> Command {
    Command::cargo_bin("rarity").expect("binary builds")
}

/// A case file judging two rare-process findings of the sample.
fn write_case(path: &Path) {
    std::fs::write(
        path,
        r#"{
  "version": 1,
  "findings": [
    { "hunt": "rare-process", "finding": ["ncat.exe"], "verdict": "malicious", "note": "=reverse shell, escalated", "set_at": "2026-01-02T03:04:05Z" },
    { "hunt": "rare-process", "finding": ["rclone.exe"], "verdict": "benign", "note": "", "set_at": "2026-01-02T03:04:06Z" }
  ]
}
"#,
    )
    .unwrap();
}

fn stdout(cmd: &mut Command) -> String {
    String::from_utf8(cmd.assert().success().get_output().stdout.clone()).unwrap()
}

#[test]
fn run_with_a_case_adds_verdict_and_note_as_the_last_csv_columns() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case.json");
    write_case(&case);
    let plain = stdout(rarity().args(["run", "rare-process", "--no-config", "--format", "csv"]));
    let got = stdout(rarity().args(["run", "rare-process", "--no-config", "--format", "csv", "--case"]).arg(&case));
    let mut lines = got.lines();
    let plain_header = plain.lines().next().unwrap();
    assert_eq!(lines.next().unwrap(), format!("{plain_header},Verdict,Note"));
    let ncat = got.lines().find(|l| l.starts_with("ncat.exe,")).unwrap();
    // The note starts with `=`: the formula guard applies to it like any text cell.
    assert!(ncat.ends_with(",malicious,\"'=reverse shell, escalated\""), "{ncat}");
    let rclone = got.lines().find(|l| l.starts_with("rclone.exe,")).unwrap();
    assert!(rclone.ends_with(",benign,"), "{rclone}");
    // Every other row is unreviewed, with an empty note; the cells before are unchanged.
    for (p, g) in plain.lines().skip(1).zip(got.lines().skip(1)) {
        assert!(g.starts_with(p), "{g}");
        if !g.starts_with("ncat.exe,") && !g.starts_with("rclone.exe,") {
            assert_eq!(&g[p.len()..], ",unreviewed,");
        }
    }
    assert_eq!(plain.lines().count(), got.lines().count());
}

#[test]
fn run_with_a_case_adds_verdict_and_note_last_in_json_and_table() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case.json");
    write_case(&case);
    let json = stdout(rarity().args(["run", "rare-process", "--no-config", "--format", "json", "--case"]).arg(&case));
    let rows: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(&json).unwrap();
    for row in &rows {
        let keys: Vec<&String> = row.keys().collect();
        assert_eq!(keys[keys.len() - 2..], ["Verdict", "Note"]);
    }
    let ncat = rows.iter().find(|r| r["InitiatingProcessFileName"] == "ncat.exe").unwrap();
    assert_eq!(ncat["Verdict"], "malicious");
    assert_eq!(ncat["Note"], "=reverse shell, escalated");
    let other = rows.iter().find(|r| r["InitiatingProcessFileName"] != "ncat.exe" && r["Verdict"] != "benign").unwrap();
    assert_eq!(other["Verdict"], "unreviewed");
    assert_eq!(other["Note"], "");

    let table = stdout(rarity().args(["run", "rare-process", "--no-config", "--case"]).arg(&case));
    let header = table.lines().next().unwrap();
    assert!(header.ends_with("Verdict     Note"), "{header}");
    let ncat = table.lines().find(|l| l.starts_with("ncat.exe ")).unwrap();
    assert!(ncat.ends_with("malicious   =reverse shell, escalated"), "{ncat}");
}

#[test]
fn run_all_with_a_case_adds_the_columns_to_every_hunt() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("none-yet.json");
    let json = stdout(rarity().args(["run", "all", "--no-config", "--format", "json", "--case"]).arg(&case));
    let all: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&json).unwrap();
    assert_eq!(all.len(), 5);
    for (hunt, rows) in &all {
        for row in rows.as_array().unwrap() {
            let row = row.as_object().unwrap();
            assert_eq!(row.keys().next_back().map(String::as_str), Some("Note"), "{hunt}");
            assert_eq!(row["Verdict"], "unreviewed", "{hunt}");
        }
    }
    // Reading never creates the case file.
    assert!(!case.exists());
}

#[test]
fn case_counts_verdicts_and_lists_findings_a_retuning_hides() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case.json");
    write_case(&case);
    // Tuned so that ncat.exe counts as a browser: its row disappears, its verdict stays.
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        r#"{"version":1,"hunts":{"rare-process":{"browsers":[{"text":"ncat.exe","enabled":true}]}}}"#,
    )
    .unwrap();
    let json = stdout(rarity().args(["case", "--format", "json", "--config"]).arg(&config).arg("--case").arg(&case));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["counts"]["rare-process"]["malicious"], 1);
    assert_eq!(v["counts"]["rare-process"]["benign"], 1);
    assert_eq!(v["counts"]["rare-process"]["total"], 2);
    let absent = v["absent"].as_array().unwrap();
    assert_eq!(absent.len(), 1, "{json}");
    assert_eq!(absent[0]["finding"], serde_json::json!(["ncat.exe"]));
    assert_eq!(absent[0]["verdict"], "malicious");
    assert_eq!(absent[0]["set_at"], "2026-01-02T03:04:05.000000Z");

    let table = stdout(rarity().args(["case", "--config"]).arg(&config).arg("--case").arg(&case));
    assert!(table.contains("rare-process           0       1           0          1      2"), "{table}");
    assert!(table.contains("Judged findings not in the current results (1):"), "{table}");
    assert!(table.lines().any(|l| l.starts_with("rare-process  ncat.exe  malicious")), "{table}");

    // With the default tuning the row is back, and so is its verdict.
    let json = stdout(rarity().args(["case", "--no-config", "--format", "json", "--case"]).arg(&case));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["absent"].as_array().unwrap().len(), 0, "{json}");
    let csv = stdout(rarity().args(["run", "rare-process", "--no-config", "--format", "csv", "--case"]).arg(&case));
    assert!(csv.lines().any(|l| l.starts_with("ncat.exe,") && l.contains(",malicious,")), "{csv}");
}

#[test]
fn case_on_an_empty_case_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case.json");
    let table = stdout(rarity().args(["case", "--no-config", "--case"]).arg(&case));
    assert!(table.contains("(no findings judged yet)"), "{table}");
}

#[test]
fn a_corrupt_case_file_is_reported_and_kept_aside() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case.json");
    std::fs::write(&case, "{ not json").unwrap();
    let out = rarity()
        .args(["run", "rare-process", "--no-config", "--format", "csv", "--case"])
        .arg(&case)
        .assert()
        .success()
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("case.json is corrupt") && err.contains("moved aside"), "{err}");
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("case.json.corrupt-"))
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(std::fs::read_to_string(kept[0].path()).unwrap(), "{ not json");
}

#[test]
fn an_unreadable_case_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    // A directory in place of the file cannot be read.
    let case = dir.path().join("case.json");
    std::fs::create_dir(&case).unwrap();
    let out = rarity().args(["case", "--no-config", "--case"]).arg(&case).assert().failure().get_output().clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("case file") && err.contains("case.json"), "{err}");
}

#[test]
fn kql_with_a_case_ends_each_query_with_verdict_and_note_columns() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case.json");
    write_case(&case);
    let plain = stdout(rarity().env("SOURCE_DATE_EPOCH", "0").args(["kql", "rare-process", "--no-config"]));
    let got = stdout(
        rarity().env("SOURCE_DATE_EPOCH", "0").args(["kql", "rare-process", "--no-config", "--case"]).arg(&case),
    );
    // The query is unchanged; the columns come after it.
    let query = plain.trim_end();
    assert!(got.starts_with(query), "{got}");
    let tail = &got[query.len()..];
    assert!(tail.contains("| extend Verdict = case("), "{tail}");
    assert!(tail.contains(r#"tostring(InitiatingProcessFileName) == "ncat.exe", "malicious""#), "{tail}");
    assert!(tail.contains(r#"tostring(InitiatingProcessFileName) == "rclone.exe", "benign""#), "{tail}");
    assert!(tail.contains(r#""=reverse shell, escalated""#), "{tail}");
    assert!(tail.contains(r#""unreviewed")"#), "{tail}");
    // Every hunt of `all` gets the columns, judged or not.
    let all = stdout(rarity().env("SOURCE_DATE_EPOCH", "0").args(["kql", "all", "--no-config", "--case"]).arg(&case));
    assert_eq!(all.matches("| extend Verdict = ").count(), 5, "{all}");
}

#[test]
fn explain_with_a_case_counts_the_verdicts_of_the_rows_that_come_out() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case.json");
    write_case(&case);
    let table = stdout(rarity().args(["explain", "rare-process", "--no-config", "--case"]).arg(&case));
    // The sample's rare-process rows: ncat.exe (malicious), rclone.exe (benign) and two unjudged.
    assert!(table.contains("Verdicts of these rows: 1 benign, 1 malicious, 2 unreviewed"), "{table}");
    let json =
        stdout(rarity().args(["explain", "rare-process", "--no-config", "--format", "json", "--case"]).arg(&case));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["verdicts"], serde_json::json!({"benign": 1, "malicious": 1, "unreviewed": 2}));
    // Without --case, nothing about verdicts.
    let plain = stdout(rarity().args(["explain", "rare-process", "--no-config"]));
    assert!(!plain.contains("Verdicts"), "{plain}");
}
