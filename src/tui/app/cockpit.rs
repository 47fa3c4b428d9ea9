//! The cockpit's state changes: the funnel that follows each recompute, and the sensitivity
//! sweep of the parameter under the panel cursor (asked for whenever it or any value changes;
//! only the latest answer is kept).

use super::{panel_lines, App, Focus, PanelLine, Sensitivity};
use crate::tui::msg::{Cmd, SweepDone};
use rarity::hunt::{Funnel, HuntId};

impl App {
    pub(super) fn on_funnel_done(&mut self, hunt: HuntId, gen: u64, funnel: Funnel) {
        let i = self.tab_index(hunt);
        if self.tabs[i].gen == gen {
            self.tabs[i].funnel = Some(funnel);
        }
    }

    /// With the panel focused on a numeric or duration parameter, ask for its sensitivity
    /// chart whenever the parameter or any value changed since the last ask (latest wins).
    pub(super) fn ask_sweep(&mut self) {
        if self.focus != Focus::Params || self.tabs.is_empty() {
            return;
        }
        let tab = &mut self.tabs[self.active];
        let lines = panel_lines(&tab.params);
        let Some(PanelLine::Param(i)) = lines.get(tab.panel_cursor) else { return };
        let spec = tab.params.specs()[*i];
        if !rarity::hunt::funnel::sweepable(spec.kind) {
            return;
        }
        if tab.sweep_asked.as_ref().is_some_and(|(k, p)| *k == spec.key && *p == tab.params) {
            return;
        }
        let values = rarity::hunt::funnel::default_sweep_values(&tab.params.values[*i]);
        tab.sweep_asked = Some((spec.key, tab.params.clone()));
        self.sweep_job = Some(Cmd::Sweep { hunt: tab.hunt, params: tab.params.clone(), key: spec.key, values });
    }

    /// On the results level, ask the engine why the selected row is there whenever the
    /// selection or the result changes (latest wins).
    pub(super) fn ask_why(&mut self) {
        if self.tabs.is_empty() {
            return;
        }
        let tab = &mut self.tabs[self.active];
        if !tab.stack.is_empty() || tab.pending.is_some() {
            return;
        }
        let (Some(output), Some(row)) = (&tab.output, tab.table.as_ref().and_then(|t| t.cursor_row())) else {
            return;
        };
        if tab.why_asked == Some((tab.gen, row)) || row >= output.rows.len() {
            return;
        }
        tab.why_asked = Some((tab.gen, row));
        self.cmds.push(Cmd::Why { hunt: tab.hunt, gen: tab.gen, output: output.clone(), row });
    }

    pub(super) fn on_why_done(&mut self, hunt: HuntId, gen: u64, row: usize, line: String) {
        let i = self.tab_index(hunt);
        if self.tabs[i].gen == gen {
            self.tabs[i].why = Some((gen, row, line));
        }
    }

    pub(super) fn on_sweep_done(&mut self, done: SweepDone) {
        let i = self.tab_index(done.hunt);
        let tab = &mut self.tabs[i];
        // Only the latest ask counts; an older answer would chart other parameters.
        if tab.sweep_asked.as_ref() != Some(&(done.key, done.params.clone())) {
            return;
        }
        match done.result {
            Ok(counts) => {
                let current = done.params.get(done.key).clone();
                tab.sensitivity = Some(Sensitivity { key: done.key, values: done.values, counts, current });
            }
            Err(e) => {
                tab.sensitivity = None;
                self.error(format!("{}: sweep of {}: {e}", done.hunt.key(), done.key));
            }
        }
    }
}
