//! No layering cycles (issue 7): the hunts and the enrichment do not reach into the readers
//! (shared reading pieces live in `source`), and the CLI formats
//! counts with the engine's helpers instead of reaching into the TUI's views.
//! Data flows one way: files -> ingest -> Dataset -> hunt -> output (docs/hunts.md).

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

/// Code lines of `path` (line comments dropped) that contain `needle`.
fn code_lines_naming(path: &Path, needle: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let code = l.split("//").next().unwrap_or("");
            code.contains(needle)
        })
        .map(|(i, l)| format!("{}:{}: {}", path.display(), i + 1, l.trim()))
        .collect()
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn hunts_do_not_import_the_readers() {
    let dir = src().join("hunt");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    assert!(files.len() > 5, "found only {} files under {}", files.len(), dir.display());
    // fixture.rs builds test datasets row by row through the same sink the readers feed, on
    // purpose (hunt tests must see exactly what a load produces); it is not hunt logic.
    let offenders: Vec<String> = files
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "fixture.rs"))
        .flat_map(|p| code_lines_naming(p, "ingest"))
        .collect();
    assert!(offenders.is_empty(), "src/hunt imports ingest: {offenders:#?}");
}

#[test]
fn enrichment_does_not_import_the_readers() {
    let dir = src().join("enrich");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    assert!(files.len() >= 3, "found only {} files under {}", files.len(), dir.display());
    let offenders: Vec<String> = files.iter().flat_map(|p| code_lines_naming(p, "ingest")).collect();
    assert!(offenders.is_empty(), "src/enrich imports ingest (use crate::source): {offenders:#?}");
}

#[test]
fn main_does_not_reach_into_the_tui_views() {
    let mut files = vec![src().join("main.rs")];
    rust_files(&src().join("cli"), &mut files);
    assert!(files.len() > 5, "the CLI's files: {files:?}");
    let offenders: Vec<String> = files.iter().flat_map(|p| code_lines_naming(p, "tui::view")).collect();
    assert!(offenders.is_empty(), "src/main.rs uses tui::view (use the engine's helpers): {offenders:#?}");
}

#[test]
fn the_layering_check_sees_an_offending_line() {
    let dir = std::env::temp_dir().join(format!("rarity-layering-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("x.rs");
    std::fs::write(&f, "// tui::view in a comment is fine\nlet n = tui::view::thousands(3);\n").unwrap();
    let hits = code_lines_naming(&f, "tui::view");
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert!(hits[0].contains(":2:"), "{hits:?}");
}
