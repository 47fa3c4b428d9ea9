//! What keys on a row do beyond moving: exclusions into this hunt's lists and pivots.

use super::{App, Prompt};
use crate::tui::msg::{Cmd, DrillRequest, SectionKind};
use crate::tui::table::display_cell;
use rarity::hunt::{Cell, Pivot};

/// Largest text `y`/`Y` copy: terminals drop bigger OSC 52 requests (xterm and tmux cap them).
const COPY_LIMIT: usize = 100_000;

/// The OSC 52 request that puts `text` on the system clipboard: `ESC ] 52 ; c ; <base64> BEL`.
/// The text travels base64-encoded, so nothing in it reaches the terminal as a control.
pub fn osc52(text: &str) -> Vec<u8> {
    crate::tui::clipboard::osc52_copy(text).into_bytes()
}

impl App {
    /// `y` / `Y`: the selected cell or the cursor row to the clipboard.
    pub(super) fn copy(&mut self, row: bool) {
        let Some(t) = self.current_table() else { return };
        let text = if row { t.cursor_row_text() } else { t.cursor_cell_text() };
        let Some(text) = text else { return self.warn("nothing to copy: the table is empty") };
        if text.len() > COPY_LIMIT {
            return self.warn(format!("not copied: {} bytes is more than a terminal takes", text.len()));
        }
        let what = if row { "the row" } else { "the cell" };
        let n = text.chars().count();
        self.cmds.push(Cmd::Terminal(osc52(&text)));
        self.info(format!("copied {what} ({n} {}) to the clipboard (OSC 52)", super::plural(n, "char")));
    }

    /// Every network event with the selected cell's value (an IP, device, process, hash or
    /// domain), as a drill-down level.
    pub(super) fn pivot(&mut self) {
        match self.selected_pivot() {
            Some((pivot, value)) => self.request_drill(DrillRequest::Pivot { pivot, value }),
            None => self.warn("no IP, device, process, hash or domain in this cell"),
        }
    }

    /// The selected cell's value and what it is, when a pivot can start from it: the selected
    /// column when it has a kind, else the first column of the row that has one. A record view
    /// row pivots on its value when its column has a kind in the event columns.
    pub(super) fn selected_pivot(&self) -> Option<(Pivot, String)> {
        let t = self.current_table()?;
        let row = t.rows.get(t.cursor_row()?)?;
        let value_of = |c: &Cell| match c {
            Cell::Text(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Cell::TextSet(v) => v.first().cloned(),
            _ => None,
        };
        if matches!(self.current_section().map(|s| &s.kind), Some(SectionKind::Record)) {
            let name = display_cell(crate::tui::table::cell_at(row, 0));
            let pivot = rarity::hunt::event_columns(rarity::model::tables::TableKind::DeviceNetworkEvents)
                .iter()
                .chain(self.tab().hunt.spec().columns)
                .find(|c| c.name == name)?
                .pivot?;
            return Some((pivot, value_of(crate::tui::table::cell_at(row, 1))?));
        }
        let cols = &t.columns;
        let candidates = std::iter::once(t.col).chain(0..cols.len());
        candidates.filter_map(|c| Some((cols.get(c)?.pivot?, value_of(crate::tui::table::cell_at(row, c))?))).next()
    }

    /// Add the selected row's value of kind `pivot` to this hunt's exclusion list for it. With
    /// `confirm` (a /24, a whitelisted domain: one key that hides more than the row) a y/n
    /// question first shows exactly what will be added.
    pub(super) fn exclude(&mut self, pivot: Pivot, wide: bool, confirm: bool) {
        let what = pivot.name();
        let Some(value) = self.row_pivot_value(pivot) else {
            return self.warn(format!("no {what} in this row"));
        };
        let i = self.active;
        let mut p = self.tabs[i].params.clone();
        if p.hunt.spec().exclusion_param(pivot).is_none() {
            return self.warn(format!("{} has no exclusion list for a {what}", p.hunt.key()));
        }
        let before = p.clone();
        match rarity::hunt::pivot::exclude(&mut p, pivot, &value, wide) {
            Ok((key, item)) if p == before => self.info(format!("{key}: {item} is already in the list")),
            Ok((key, item)) if confirm => {
                let hunt = p.hunt.key();
                self.prompt = Prompt::ConfirmExclude {
                    tab: i,
                    params: Box::new(p),
                    question: format!("{hunt}: {key} += {item}"),
                    desc: format!("{key}: +{item}"),
                };
            }
            Ok((key, item)) => self.change_params(i, p, format!("{key}: +{item}")),
            Err(e) => self.warn(e),
        }
    }

    /// The value of the selected row in the first column of kind `pivot` (the selected column
    /// first).
    pub(super) fn row_pivot_value(&self, pivot: Pivot) -> Option<String> {
        let (p, v) = self.selected_pivot()?;
        if p == pivot {
            return Some(v);
        }
        let t = self.current_table()?;
        let row = t.rows.get(t.cursor_row()?)?;
        t.columns.iter().enumerate().filter(|(_, c)| c.pivot == Some(pivot)).find_map(|(c, _)| {
            match crate::tui::table::cell_at(row, c) {
                Cell::Text(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
                Cell::TextSet(v) => v.first().cloned(),
                _ => None,
            }
        })
    }
}
