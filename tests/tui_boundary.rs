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
