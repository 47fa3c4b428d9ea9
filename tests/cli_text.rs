//! Terminal text safety in the CLI: human-readable output shows controls, bidi and invisible
//! characters as placeholders wherever it goes and pads by display width; data outputs (CSV,
//! JSON) keep the exact bytes in pipes and files.

use assert_cmd::Command;
use std::path::Path;
use unicode_width::UnicodeWidthChar;

fn rarity() -> Command {
    Command::cargo_bin("rarity").expect("binary builds")
}

/// Four rare processes whose names and command lines carry escapes, bidi, zero-width
/// characters, wide characters, a ZWJ sequence and a combining mark.
fn hostile_export(dir: &Path) -> std::path::PathBuf {
    let rows = [
        ("evil\x1b]0;pwned\x07\u{202E}exe.exe", "\x1b[2J\u{200B}whoami"),
        ("東京.exe", "a"),
        ("pow\u{200B}ershell.exe", "👨\u{200D}👩\u{200D}👧 e\u{301}"),
        ("plain.exe", "\u{301}x\u{E0041}"),
    ];
    let mut csv = String::from(
        "Timestamp,DeviceId,DeviceName,ActionType,RemoteIP,RemotePort,RemoteUrl,Protocol,\
         InitiatingProcessFileName,InitiatingProcessCommandLine,InitiatingProcessMD5\n",
    );
    for (i, (name, cmd)) in rows.iter().enumerate() {
        csv.push_str(&format!(
            "2026-11-20T10:00:0{i}Z,d{i},ws-{i},ConnectionSuccess,8.8.4.{i},4444,,Tcp,\"{name}\",\"{cmd}\",\n"
        ));
    }
    let path = dir.join("net.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

fn run(path: &Path, format: &str) -> Vec<u8> {
    rarity()
        .args(["run", "rare-process", "--no-config", "--format", format])
        .arg(path)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone()
}

/// Columns a plain wcwidth terminal gives `s`.
fn columns(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

#[test]
fn run_table_shows_placeholders_and_pads_by_display_width() {
    let dir = tempfile::tempdir().unwrap();
    let text = String::from_utf8(run(&hostile_export(dir.path()), "table")).unwrap();
    for bad in ['\x1b', '\x07', '\u{202E}', '\u{200B}', '\u{200D}', '\u{E0041}'] {
        assert!(!text.contains(bad), "raw U+{:04X} in:\n{text}", bad as u32);
    }
    assert!(text.contains("evil␛]0;pwned␇<U+202E>exe.exe"), "{text}");
    assert!(text.contains("pow<U+200B>ershell.exe") && !text.contains("powershell.exe"), "{text}");
    assert!(text.contains("👨<U+200D>👩<U+200D>👧 e\u{301}"), "{text}");
    // A mark with nothing before it in its cell is shown, not drawn on the column gap.
    assert!(text.contains("<U+0301>x<U+E0041>"), "{text}");
    // The last column (EventCount) is right-aligned: every line ends in the same column.
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    let width = columns(lines[1]);
    for l in &lines {
        assert_eq!(columns(l), width, "misaligned line {l:?} in:\n{text}");
    }
}

#[test]
fn csv_and_json_in_pipes_and_files_keep_the_exact_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let export = hostile_export(dir.path());
    let csv = run(&export, "csv");
    let csv_text = String::from_utf8(csv.clone()).unwrap();
    assert!(csv_text.contains("evil\x1b]0;pwned\x07\u{202E}exe.exe"), "{csv_text:?}");
    assert!(csv_text.contains("pow\u{200B}ershell.exe"));
    let json = String::from_utf8(run(&export, "json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let names: Vec<&str> =
        v.as_array().unwrap().iter().map(|r| r["InitiatingProcessFileName"].as_str().unwrap()).collect();
    assert!(names.contains(&"evil\x1b]0;pwned\x07\u{202E}exe.exe"), "{names:?}");
    assert!(json.contains('\u{202E}'));
    // --output FILE writes the same bytes as the pipe.
    let out = dir.path().join("out.csv");
    rarity()
        .args(["run", "rare-process", "--no-config", "--format", "csv", "--output"])
        .arg(&out)
        .arg(&export)
        .assert()
        .success();
    assert_eq!(std::fs::read(&out).unwrap(), csv);
}
