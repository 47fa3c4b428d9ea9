//! Triage: verdicts and notes per finding (kept in the case file), the Verdict and Note
//! columns, hiding benign findings, and undo / redo of parameter changes, one-key exclusions
//! and verdicts.

use super::{App, LineEdit, Prompt};
use crate::tui::msg::{CaseSaved, Cmd};
use chrono::{DateTime, Utc};
use rarity::case::{CaseFile, Entry, FindingKey, Verdict};
use rarity::hunt::{Cell, HuntParams};
use std::path::PathBuf;

/// The results table's last two columns (after the hunt's own), as `rarity run --case` writes them.
pub const VERDICT_COLUMN: &str = "Verdict";
pub const NOTE_COLUMN: &str = "Note";

/// Undo steps kept; older ones are forgotten.
const UNDO_LIMIT: usize = 200;

/// One undoable change.
#[derive(Clone, Debug)]
pub(crate) enum Change {
    /// A tab's parameters (edits, toggles, resets, one-key exclusions).
    Params { tab: usize, before: HuntParams, after: HuntParams, desc: String },
    /// Verdicts or notes: each finding's entry before and after.
    Case { desc: String, entries: Vec<(FindingKey, Option<Entry>, Option<Entry>)> },
}

impl Change {
    fn desc(&self) -> String {
        match self {
            Change::Params { before, desc, .. } => format!("{} {desc}", before.hunt.key()),
            Change::Case { desc, .. } => desc.clone(),
        }
    }
}

/// Where verdicts and notes go: the case as this session knows it, and its file.
#[derive(Clone, Debug)]
pub struct CaseStore {
    pub case: CaseFile,
    pub path: PathBuf,
}

impl App {
    /// Put each result row's verdict and note in the table's last two columns, hide benign
    /// findings when asked, and count the unreviewed ones.
    pub(super) fn refresh_verdicts(&mut self, i: usize) {
        let case = self.case.as_ref().map(|c| &c.case);
        let hide = self.hide_benign;
        let tab = &mut self.tabs[i];
        let (Some(output), Some(t)) = (&tab.output, &mut tab.table) else { return };
        let mut hidden = std::collections::HashSet::new();
        let mut unreviewed = 0;
        let rows = output
            .rows
            .iter()
            .enumerate()
            .map(|(r, row)| {
                let finding = output.finding(r);
                let entry = case.and_then(|c| c.entry(output.hunt, &finding));
                let verdict = entry.map_or(Verdict::Unreviewed, |e| e.verdict);
                let note = entry.map_or("", |e| e.note.as_str());
                unreviewed += usize::from(verdict == Verdict::Unreviewed);
                if hide && verdict == Verdict::Benign {
                    hidden.insert(r);
                }
                let mut row = row.clone();
                row.push(Cell::Text(verdict.label().to_string()));
                row.push(if note.is_empty() { Cell::Empty } else { Cell::Text(note.to_string()) });
                row
            })
            .collect();
        t.replace_rows_hiding(rows, hidden);
        tab.unreviewed = Some(unreviewed);
    }

    /// The findings a verdict applies to: the marked result rows, else the selected one.
    pub(super) fn verdict_targets(&self) -> Result<Vec<FindingKey>, String> {
        if self.case.is_none() {
            return Err("no case file: verdicts cannot be kept (start with --case FILE)".into());
        }
        let tab = self.tab();
        if !tab.stack.is_empty() {
            return Err("verdicts are set on result rows: Esc back to the results".into());
        }
        let (Some(output), Some(t)) = (&tab.output, &tab.table) else {
            return Err("no results yet".into());
        };
        let mut rows: Vec<usize> = t.marked.iter().copied().collect();
        rows.sort_unstable();
        if rows.is_empty() {
            rows.extend(t.cursor_row());
        }
        if rows.is_empty() {
            return Err("no finding selected".into());
        }
        Ok(rows.into_iter().map(|r| FindingKey::new(tab.hunt, output.finding(r))).collect())
    }

    pub(super) fn set_verdict(&mut self, verdict: Verdict) {
        match self.verdict_targets() {
            Ok(keys) => {
                let what = match keys.as_slice() {
                    [one] => one.finding.join(" | "),
                    many => format!("{} findings", many.len()),
                };
                self.change_case(keys, Some(verdict), None, format!("{what} → {verdict}"));
            }
            Err(e) => self.warn(e),
        }
    }

    pub(super) fn start_note(&mut self) {
        let keys = match self.verdict_targets() {
            Ok(k) => k,
            Err(e) => return self.warn(e),
        };
        // A note is one finding's: the selected row, even when others are marked.
        let tab = self.tab();
        let selected = match (&tab.output, tab.table.as_ref().and_then(|t| t.cursor_row())) {
            (Some(o), Some(r)) => FindingKey::new(tab.hunt, o.finding(r)),
            _ => keys[0].clone(),
        };
        let note = self
            .case
            .as_ref()
            .and_then(|c| c.case.entries().find(|(k, _)| **k == selected))
            .map(|(_, e)| e.note.clone());
        self.prompt = Prompt::Note { key: selected, line: LineEdit::new(note.as_deref().unwrap_or("")) };
    }

    /// A `set_at` later than any given out before (the clock may not have moved).
    pub(super) fn stamp(&mut self) -> DateTime<Utc> {
        let mut t = rarity::case::now();
        if let Some(last) = self.last_stamp {
            if t <= last {
                t = last + chrono::Duration::microseconds(1);
            }
        }
        self.last_stamp = Some(t);
        t
    }

    /// Set the verdict and/or note of `keys` (undoably), redraw and save.
    pub(super) fn change_case(
        &mut self,
        keys: Vec<FindingKey>,
        verdict: Option<Verdict>,
        note: Option<&str>,
        desc: String,
    ) {
        let at = self.stamp();
        let Some(store) = &mut self.case else { return };
        let mut entries = Vec::with_capacity(keys.len());
        for key in keys {
            let before = store.case.set(key.clone(), verdict, note, at);
            let after = store.case.entries().find(|(k, _)| **k == key).map(|(_, e)| e.clone());
            entries.push((key, before, after));
        }
        let keys: Vec<FindingKey> = entries.iter().map(|(k, _, _)| k.clone()).collect();
        self.record(Change::Case { desc: desc.clone(), entries });
        self.info(desc);
        self.case_changed(&keys);
    }

    /// Redraw the verdicts of the tabs `changed` findings belong to and ask the writer to save.
    pub(super) fn case_changed(&mut self, changed: &[FindingKey]) {
        for i in 0..self.tabs.len() {
            if changed.iter().any(|k| k.hunt == self.tabs[i].hunt.key()) {
                self.refresh_verdicts(i);
            }
        }
        if let Some(store) = &self.case {
            self.cmds.push(Cmd::SaveCase { path: store.path.clone(), case: store.case.clone() });
        }
    }

    pub(super) fn on_case_saved(&mut self, result: Result<CaseSaved, String>) {
        match result {
            Ok(saved) => {
                if let Some(store) = &mut self.case {
                    // Entries another rarity wrote show up; ours are newer where both changed.
                    let before = store.case.clone();
                    store.case.merge(&saved.merged);
                    if store.case != before {
                        for i in 0..self.tabs.len() {
                            self.refresh_verdicts(i);
                        }
                    }
                }
                if let Some(w) = saved.warning {
                    self.warn(w);
                }
            }
            Err(e) => self.error(format!("verdicts not saved: {e}")),
        }
    }

    pub(super) fn record(&mut self, change: Change) {
        self.undo.push(change);
        if self.undo.len() > UNDO_LIMIT {
            self.undo.remove(0);
        }
        self.redo.clear();
    }

    pub(super) fn undo(&mut self) {
        let Some(change) = self.undo.pop() else { return self.info("nothing to undo") };
        self.apply_change(&change, true);
        self.redo.push(change);
    }

    pub(super) fn redo(&mut self) {
        let Some(change) = self.redo.pop() else { return self.info("nothing to redo") };
        self.apply_change(&change, false);
        self.undo.push(change);
    }

    /// Put a change's `before` (undo) or `after` (redo) state back.
    pub(super) fn apply_change(&mut self, change: &Change, undo: bool) {
        let word = if undo { "undone" } else { "redone" };
        match change {
            Change::Params { tab, before, after, desc } => {
                let target = if undo { before } else { after };
                self.apply_params(*tab, target.clone(), format!("{word}: {desc}"));
            }
            Change::Case { entries, .. } => {
                let at = self.stamp();
                if let Some(store) = &mut self.case {
                    for (key, before, after) in entries {
                        store.case.restore(key.clone(), if undo { before } else { after }.clone(), at);
                    }
                }
                let keys: Vec<FindingKey> = entries.iter().map(|(k, _, _)| k.clone()).collect();
                self.case_changed(&keys);
                self.info(format!("{word}: {}", change.desc()));
            }
        }
    }

    /// Enter or Esc in the note prompt.
    pub(super) fn submit_note(&mut self, finding: FindingKey, text: String, cancel: bool) {
        self.prompt = Prompt::None;
        if cancel {
            return self.info("note: not changed");
        }
        let desc = format!("note of {}", finding.finding.join(" | "));
        self.change_case(vec![finding], None, Some(text.trim()), desc);
    }
}
