//! Text prompts (filter, parameter value, export path) and y/n questions: the line editor and
//! what a key typed into an open prompt does.

use super::App;
use crate::tui::msg::InputKey;
use std::path::PathBuf;

/// A one-line text editor (filter, parameter values, export path).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineEdit {
    pub text: String,
    /// Cursor position in chars.
    pub cursor: usize,
}

impl LineEdit {
    pub fn new(text: &str) -> Self {
        LineEdit { text: text.to_string(), cursor: text.chars().count() }
    }

    fn byte_at(&self, char_pos: usize) -> usize {
        self.text.char_indices().nth(char_pos).map_or(self.text.len(), |(b, _)| b)
    }

    /// Apply an editing key; returns false for Submit/Cancel (the caller handles those).
    pub fn apply(&mut self, key: InputKey) -> bool {
        let len = self.text.chars().count();
        match key {
            InputKey::Char(c) => {
                let b = self.byte_at(self.cursor);
                self.text.insert(b, c);
                self.cursor += 1;
            }
            InputKey::Backspace if self.cursor > 0 => {
                let b = self.byte_at(self.cursor - 1);
                self.text.remove(b);
                self.cursor -= 1;
            }
            InputKey::Delete if self.cursor < len => {
                let b = self.byte_at(self.cursor);
                self.text.remove(b);
            }
            InputKey::Left => self.cursor = self.cursor.saturating_sub(1),
            InputKey::Right => self.cursor = (self.cursor + 1).min(len),
            InputKey::Home => self.cursor = 0,
            InputKey::End => self.cursor = len,
            InputKey::Clear => *self = LineEdit::default(),
            InputKey::Submit | InputKey::Cancel => return false,
            InputKey::ToggleFuzzy => {}
            InputKey::Backspace | InputKey::Delete => {}
        }
        true
    }
}

/// What a parameter edit prompt changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EditTarget {
    Scalar(usize),
    Item(usize, usize),
    NewItem(usize),
}

/// What an export prompt writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportTarget {
    /// The current table's marked (or shown) rows, as CSV.
    Table,
    /// The query of the KQL view (`App::kql`).
    Kql,
}

/// The modal thing on top, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prompt {
    None,
    Help,
    /// What went wrong while loading (rejected rows, skipped files, warnings).
    LoadReport,
    Filter(LineEdit),
    Edit {
        target: EditTarget,
        line: LineEdit,
        error: Option<String>,
    },
    Export {
        line: LineEdit,
        error: Option<String>,
        target: ExportTarget,
    },
    ConfirmOverwrite {
        path: PathBuf,
        target: ExportTarget,
    },
    ConfirmReset,
    /// After `v`: waiting for b / s / m / u.
    Verdict,
    /// Editing the note of the finding `key`.
    Note {
        key: rarity::case::FindingKey,
        line: LineEdit,
    },
    /// Esc while loading: stop and open the files finished so far (`ingest::load` keeps them
    /// when cancelled), quit, or keep loading.
    ConfirmStopLoading,
    /// A one-key exclusion that hides more than the row (`X`: a /24, `d`: a domain): `question`
    /// says exactly what is added (`<hunt>: excluded_nets += 45.33.32.0/24`); yes applies
    /// `params` to tab `tab`.
    ConfirmExclude {
        tab: usize,
        params: Box<rarity::hunt::HuntParams>,
        question: String,
        desc: String,
    },
    /// The current hunt as KQL (`App::kql` holds the query); scrolls with `overlay_scroll`.
    Kql,
}

impl ExportTarget {
    /// Where Esc in its prompts goes back to: the KQL view stays open under its export.
    pub fn back(self) -> Prompt {
        match self {
            ExportTarget::Table => Prompt::None,
            ExportTarget::Kql => Prompt::Kql,
        }
    }
}

impl App {
    pub(super) fn on_input(&mut self, key: InputKey) {
        match &mut self.prompt {
            Prompt::Filter(line) => {
                if key == InputKey::ToggleFuzzy {
                    if let Some(t) = self.current_table_mut() {
                        t.toggle_fuzzy();
                    }
                } else if line.apply(key) {
                    let text = line.text.clone();
                    if let Some(t) = self.current_table_mut() {
                        t.set_filter(&text);
                    }
                } else {
                    if key == InputKey::Cancel {
                        if let Some(t) = self.current_table_mut() {
                            t.set_filter("");
                        }
                    }
                    self.prompt = Prompt::None;
                }
            }
            Prompt::Edit { target, line, error } => {
                if line.apply(key) {
                    *error = None;
                    return;
                }
                let (target, text) = (*target, line.text.clone());
                if key == InputKey::Cancel {
                    self.prompt = Prompt::None;
                    return;
                }
                match self.submit_edit(target, &text) {
                    Ok(()) => self.prompt = Prompt::None,
                    Err(e) => {
                        if let Prompt::Edit { error, .. } = &mut self.prompt {
                            *error = Some(e);
                        }
                    }
                }
            }
            Prompt::Export { line, error, target } => {
                if line.apply(key) {
                    *error = None;
                    return;
                }
                let target = *target;
                if key == InputKey::Cancel {
                    self.prompt = target.back();
                    return;
                }
                let text = line.text.trim().to_string();
                if text.is_empty() {
                    *error = Some("type a file name".into());
                    return;
                }
                let path = self.cwd.join(super::export::expand_home(&text));
                self.export_to(&path, false, target);
            }
            Prompt::Note { key: finding, line } => {
                if line.apply(key) {
                    return;
                }
                let (finding, text) = (finding.clone(), line.text.clone());
                self.submit_note(finding, text, key == InputKey::Cancel);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_edit_inserts_and_deletes_at_the_cursor() {
        let mut l = LineEdit::new("3d");
        l.apply(InputKey::Left);
        l.apply(InputKey::Char('0'));
        assert_eq!(l.text, "30d");
        l.apply(InputKey::Backspace);
        l.apply(InputKey::Delete);
        assert_eq!(l.text, "3");
        assert_eq!(l.cursor, 1);
    }
}
