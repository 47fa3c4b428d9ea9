//! Export of the current table as CSV (and of the KQL view, `kql.rs`): the prompt's default
//! name, writing the file on the I/O thread, and what its result does.

use super::{App, ExportTarget, LineEdit, Prompt};
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
        let line = LineEdit::new(&format!("{name}-{stamp}.csv"));
        self.prompt = Prompt::Export { line, error: None, target: ExportTarget::Table };
    }

    /// Ask the I/O thread to write `target`: the current table's marked (or shown) rows, or
    /// the KQL view's query.
    pub(super) fn export_to(&mut self, path: &Path, overwrite: bool, target: ExportTarget) {
        if target == ExportTarget::Kql {
            return self.write_kql(path, overwrite);
        }
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
            Ok(n) if done.target == ExportTarget::Kql => {
                self.info(format!("wrote {} ({n} {}) to {}", done.what, super::plural(n, "byte"), path.display()))
            }
            Ok(n) => {
                let rows = super::plural(n, "row");
                self.info(format!("wrote {} {} {rows} to {}", n, done.what, path.display()))
            }
            Err(ExportFailure::Exists) => self.prompt = Prompt::ConfirmOverwrite { path, target: done.target },
            Err(ExportFailure::Failed(e)) => {
                let line = LineEdit::new(&path.display().to_string());
                self.prompt = Prompt::Export { line, error: Some(e), target: done.target }
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
