//! CSV export of the current table: the prompt's default name and writing the file.

use super::{App, LineEdit, Prompt};
use crate::tui::jobs::{ExportDone, ExportFailure, IoJob};
use crate::tui::msg::Cmd;
use std::path::{Path, PathBuf};

impl App {
    pub(super) fn start_export(&mut self) {
        let Some(t) = self.current_table() else { return };
        if t.view.is_empty() && t.marked.is_empty() {
            self.warn("nothing to export: the table is empty");
            return;
        }
        let mut name = format!("rarity-{}", self.tab().hunt.key());
        if let Some(s) = self.current_section() {
            name.push('-');
            name.push_str(&s.name.to_ascii_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "-"));
        }
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        self.prompt = Prompt::Export { line: LineEdit::new(&format!("{name}-{stamp}.csv")), error: None };
    }

    /// Ask the I/O thread to write the current table's marked (or shown) rows.
    pub(super) fn export_to(&mut self, path: &Path, overwrite: bool) {
        let Some(t) = self.current_table() else { return };
        let columns = t.columns.iter().map(|c| c.name.clone()).collect();
        let rows = t.export_rows().into_iter().map(<[_]>::to_vec).collect();
        let what = if t.marked.is_empty() { "shown" } else { "marked" };
        let path = path.to_path_buf();
        self.prompt = Prompt::None;
        self.info(format!("writing {}…", path.display()));
        self.cmds.push(Cmd::Io(IoJob::Export { path, columns, rows, overwrite, what }));
    }

    pub(super) fn on_exported(&mut self, done: ExportDone) {
        let path = done.path;
        match done.result {
            Ok(n) => {
                let rows = super::plural(n, "row");
                self.info(format!("wrote {} {} {rows} to {}", n, done.what, path.display()))
            }
            Err(ExportFailure::Exists) => self.prompt = Prompt::ConfirmOverwrite { path },
            Err(ExportFailure::Failed(e)) => {
                self.prompt = Prompt::Export { line: LineEdit::new(&path.display().to_string()), error: Some(e) }
            }
        }
    }
}

/// `~/x` to the home directory.
pub(super) fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), dirs::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(p),
    }
}
