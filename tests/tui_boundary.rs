//! The engine stays terminal-free: `ratatui` and `crossterm` may only be named in `src/tui/`
//! and `src/main.rs` (STYLE.md: the TUI never leaks into the library).

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn terminal_crates_appear_only_in_the_tui_and_main() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 10, "found only {} source files under {}", files.len(), src.display());
    let allowed = |p: &Path| p.starts_with(src.join("tui")) || p == src.join("main.rs");
    let offenders: Vec<String> = files
        .iter()
        .filter(|p| !allowed(p))
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            text.contains("ratatui") || text.contains("crossterm")
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(offenders.is_empty(), "terminal crates used outside src/tui and src/main.rs: {offenders:?}");
}

/// The TUI turns keys into messages and draws engine results: it never parses IPs or URLs and
/// never names a hunt (issue 7). Only its tests may name hunts.
#[test]
fn the_tui_neither_parses_addresses_nor_names_a_hunt() {
    let tui = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join("tui");
    let mut files = Vec::new();
    rust_files(&tui, &mut files);
    assert!(files.len() > 10, "found only {} files under {}", files.len(), tui.display());
    let mut banned: Vec<String> =
        ["IpAddr", "Ipv4Addr", "Ipv6Addr", "parse_ip", "url_host", "host_of", "Url::parse", "Ipv4Net", "IpNet"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    for hunt in rarity::hunt::HuntId::all() {
        let key = hunt.key();
        banned.push(key.to_string());
        banned.push(format!("{}::", key.replace('-', "_")));
        banned.push(format!("\"{}\"", key.replace('-', "_")));
    }
    let mut offenders = Vec::new();
    for p in files.iter().filter(|p| p.file_name().is_some_and(|n| n != "tests.rs")) {
        let text = std::fs::read_to_string(p).unwrap();
        for (n, line) in text.lines().enumerate() {
            // `HuntId::all()` and friends are the registry; `HuntId::SOME_VARIANT` would not be.
            let names_variant =
                line.split("HuntId::").skip(1).any(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()));
            if names_variant || banned.iter().any(|b| line.contains(b.as_str())) {
                offenders.push(format!("{}:{}: {}", p.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(offenders.is_empty(), "src/tui does engine work or names a hunt:\n{}", offenders.join("\n"));
}
