//! The parameter panel: its lines, stepping, toggling, adding and deleting list items, typed
//! edits, and applying a change (save the tuning, recompute).

use super::{App, EditTarget, LineEdit, Pending, Prompt};
use crate::tui::jobs::IoJob;
use crate::tui::msg::Cmd;
use rarity::hunt::params::{parse_item, parse_value};
use rarity::hunt::{HuntParams, ParamValue};
use rarity::model::time::Nanos;

/// One line of the parameter panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PanelLine {
    Param(usize),
    Item(usize, usize),
    /// The "+ add" line under a list.
    Add(usize),
}

/// The panel's lines for `params`: each parameter, and under a list its items and an add line.
pub fn panel_lines(params: &HuntParams) -> Vec<PanelLine> {
    let mut out = Vec::new();
    for (i, v) in params.values.iter().enumerate() {
        out.push(PanelLine::Param(i));
        if let ParamValue::List(items) = v {
            out.extend((0..items.len()).map(|j| PanelLine::Item(i, j)));
            out.push(PanelLine::Add(i));
        }
    }
    out
}

impl App {
    pub(super) fn panel_line(&self) -> Option<PanelLine> {
        panel_lines(&self.tab().params).get(self.tab().panel_cursor).copied()
    }

    pub(super) fn panel_enter(&mut self) {
        let Some(line) = self.panel_line() else { return };
        let params = &self.tab().params;
        let target = match line {
            PanelLine::Param(i) => match &params.values[i] {
                ParamValue::Bool(_) => return self.param_toggle(),
                ParamValue::List(_) => EditTarget::NewItem(i),
                _ => EditTarget::Scalar(i),
            },
            PanelLine::Item(i, j) => EditTarget::Item(i, j),
            PanelLine::Add(i) => EditTarget::NewItem(i),
        };
        let text = match target {
            EditTarget::Scalar(i) => params.values[i].to_text(),
            EditTarget::Item(i, j) => match &params.values[i] {
                ParamValue::List(items) => items[j].text.clone(),
                _ => String::new(),
            },
            EditTarget::NewItem(_) => String::new(),
        };
        self.prompt = Prompt::Edit { target, line: LineEdit::new(&text), error: None };
    }

    pub(super) fn param_step(&mut self, d: i64) {
        let Some(PanelLine::Param(i)) = self.panel_line() else { return };
        let mut p = self.tab().params.clone();
        let key = p.specs()[i].key;
        let old = p.values[i].to_text();
        p.values[i] = match &p.values[i] {
            ParamValue::Integer(v) => ParamValue::Integer((v + d).max(0)),
            ParamValue::Duration(v) => ParamValue::Duration(step_duration(*v, d)),
            ParamValue::Bool(b) => ParamValue::Bool(!b),
            ParamValue::List(_) => return,
        };
        let desc = format!("{key}: {old} → {}", p.values[i].to_text());
        self.change_params(self.active, p, desc);
    }

    pub(super) fn param_toggle(&mut self) {
        let mut p = self.tab().params.clone();
        match self.panel_line() {
            Some(PanelLine::Item(i, j)) => {
                let key = p.specs()[i].key;
                if let ParamValue::List(items) = &mut p.values[i] {
                    items[j].enabled = !items[j].enabled;
                    let desc = format!("{key}: {} {}", items[j].text, if items[j].enabled { "on" } else { "off" });
                    self.change_params(self.active, p, desc);
                }
            }
            Some(PanelLine::Param(i)) if matches!(p.values[i], ParamValue::Bool(_)) => self.param_step(1),
            _ => {}
        }
    }

    pub(super) fn param_add(&mut self) {
        let i = match self.panel_line() {
            Some(PanelLine::Param(i) | PanelLine::Item(i, _) | PanelLine::Add(i)) => i,
            None => return,
        };
        if self.tab().params.specs()[i].kind.is_list() {
            self.prompt = Prompt::Edit { target: EditTarget::NewItem(i), line: LineEdit::default(), error: None };
        }
    }

    pub(super) fn param_delete(&mut self) {
        let Some(PanelLine::Item(i, j)) = self.panel_line() else { return };
        let mut p = self.tab().params.clone();
        let key = p.specs()[i].key;
        if let ParamValue::List(items) = &mut p.values[i] {
            let gone = items.remove(j);
            self.change_params(self.active, p, format!("{key}: -{}", gone.text));
        }
    }

    /// Validate and apply an edit prompt; on error the prompt stays open with the message and
    /// the previous value is kept.
    pub(super) fn submit_edit(&mut self, target: EditTarget, text: &str) -> Result<(), String> {
        let mut p = self.tab().params.clone();
        let mut new_item = None;
        let desc = match target {
            EditTarget::Scalar(i) => {
                let spec = p.specs()[i];
                let v =
                    parse_value(spec.kind, text).map_err(|e| format!("{e}; expected {}", spec.kind.accepted_form()))?;
                let old = p.values[i].to_text();
                p.values[i] = v;
                format!("{}: {old} → {}", spec.key, p.values[i].to_text())
            }
            EditTarget::Item(i, j) => {
                let spec = p.specs()[i];
                let new = parse_item(spec.kind, text)?;
                let ParamValue::List(items) = &mut p.values[i] else { return Err("not a list".into()) };
                let old = std::mem::replace(&mut items[j].text, new.clone());
                format!("{}: {old} → {new}", spec.key)
            }
            EditTarget::NewItem(i) => {
                // A pasted comma-separated list adds every item; one bad item adds none.
                let spec = p.specs()[i];
                let parts: Vec<&str> = text.split(',').map(str::trim).filter(|t| !t.is_empty()).collect();
                if parts.is_empty() {
                    return Err(format!("type an item; expected {}", spec.kind.accepted_form()));
                }
                let mut added = Vec::new();
                for part in parts {
                    let new = parse_item(spec.kind, part).map_err(|e| format!("{part}: {e}"))?;
                    p.add_item(spec.key, &new).map_err(|e| e.to_string())?;
                    added.push(new);
                }
                if let (ParamValue::List(items), Some(last)) = (&p.values[i], added.last()) {
                    new_item = items.iter().position(|x| x.text.eq_ignore_ascii_case(last)).map(|j| (i, j));
                }
                format!("{}: +{}", spec.key, added.join(", +"))
            }
        };
        if let Some((i, j)) = new_item {
            // Put the cursor on the new item so it can be toggled right away.
            if let Some(pos) = panel_lines(&p).iter().position(|l| *l == PanelLine::Item(i, j)) {
                self.tab_mut().panel_cursor = pos;
            }
        }
        self.change_params(self.active, p, desc);
        Ok(())
    }

    /// Replace a tab's parameters (undoably): save the tuning and recompute.
    pub(super) fn change_params(&mut self, i: usize, params: HuntParams, desc: String) {
        let before = self.tabs[i].params.clone();
        if self.apply_params(i, params, desc.clone()) {
            let after = self.tabs[i].params.clone();
            self.record(super::triage::Change::Params { tab: i, before, after, desc });
        }
    }

    /// Replace a tab's parameters: save the tuning and recompute. False when nothing changed.
    pub(super) fn apply_params(&mut self, i: usize, params: HuntParams, desc: String) -> bool {
        let tab = &mut self.tabs[i];
        if tab.params == params {
            let key = tab.hunt.key();
            self.info(format!("{key}: unchanged"));
            return false;
        }
        let rows_before = match &tab.pending {
            Some(p) => p.rows_before,
            None => tab.count(),
        };
        tab.params = params;
        tab.pending = Some(Pending { desc: desc.clone(), rows_before });
        let n = panel_lines(&tab.params).len();
        tab.panel_cursor = tab.panel_cursor.min(n.saturating_sub(1));
        let hunt_key = tab.hunt.key();
        self.info(format!("{hunt_key} {desc} - recomputing…"));
        if let Some(store) = &mut self.config {
            store.config.set_params(&self.tabs[i].params);
            let job = IoJob::SaveConfig {
                config: Box::new(store.config.clone()),
                path: store.path.clone(),
                desc: format!("{hunt_key} {desc}"),
            };
            self.cmds.push(Cmd::Io(job));
        }
        self.recompute(i);
        true
    }
}

/// Step a duration: by a day above a day, by an hour below it, by a minute below an hour, by a
/// second below a minute; never below 1s.
pub fn step_duration(d: Nanos, dir: i64) -> Nanos {
    const S: Nanos = 1_000_000_000;
    let units = [86_400 * S, 3_600 * S, 60 * S, S];
    // Going down from exactly 1d steps by hours (1d -> 23h), going up by days (1d -> 2d).
    let unit = units.iter().copied().find(|&u| d > u || (d == u && dir > 0)).unwrap_or(S);
    if dir > 0 {
        d.saturating_add(unit.saturating_mul(dir))
    } else {
        d.saturating_sub(unit.saturating_mul(-dir)).max(S)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_step_by_an_hour_below_a_day_and_a_day_above() {
        const S: Nanos = 1_000_000_000;
        assert_eq!(step_duration(30 * 86_400 * S, 1), 31 * 86_400 * S);
        assert_eq!(step_duration(86_400 * S, -1), 23 * 3_600 * S);
        assert_eq!(step_duration(3_600 * S, -1), 59 * 60 * S);
        assert_eq!(step_duration(90 * 60 * S, 1), 150 * 60 * S, "1h steps below a day");
        assert_eq!(step_duration(12 * 3_600 * S, -1), 11 * 3_600 * S);
        assert_eq!(step_duration(36 * 3_600 * S, 1), 60 * 3_600 * S, "1d steps above a day");
        assert_eq!(step_duration(S, -1), S);
    }
}
