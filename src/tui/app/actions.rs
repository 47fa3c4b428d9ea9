//! What keys on a row do beyond moving: exclusions into this hunt's lists and pivots.

use super::App;
use crate::tui::msg::{DrillRequest, SectionKind};
use crate::tui::table::display_cell;
use rarity::hunt::{Cell, Pivot};

impl App {
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

    /// Add the selected row's value of kind `pivot` to this hunt's exclusion list for it.
    pub(super) fn exclude(&mut self, pivot: Pivot, wide: bool) {
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
