//! `App::update(Msg)`: the one mutator, and the navigation it does (tabs, cursor, clicks,
//! drill-down levels).

use super::{key_cols, App, Focus, LineEdit, Phase, Prompt, Recompute};
use crate::tui::msg::{Cmd, DrillDone, DrillRequest, HuntDone, Level, Msg, SectionKind, Summary};
use crate::tui::table::{Column, TableState};
use rarity::hunt::Pivot;
use std::sync::Arc;

/// Two clicks on one row within this long are a double-click (drill down).
const DOUBLE_CLICK: std::time::Duration = std::time::Duration::from_millis(500);

impl App {
    pub fn update(&mut self, msg: Msg) {
        match msg {
            Msg::Resize(w, h) => self.size = (w, h),
            Msg::LoadProgress(p) => {
                if let Phase::Loading(_) = self.phase {
                    self.phase = Phase::Loading(p);
                }
            }
            Msg::Loaded(summary) => {
                self.close_stop_question();
                self.on_loaded(*summary)
            }
            Msg::LoadFailed(e) => {
                self.close_stop_question();
                self.phase = Phase::Failed(e)
            }
            Msg::Warn(w) => self.warn(w),
            Msg::HuntDone(done) => self.on_hunt_done(done),
            Msg::DrillDone(done) => self.on_drill_done(done),
            Msg::FunnelDone { hunt, gen, funnel } => self.on_funnel_done(hunt, gen, funnel),
            Msg::SweepDone(done) => self.on_sweep_done(done),
            Msg::WhyDone { hunt, gen, row, line } => self.on_why_done(hunt, gen, row, line),
            Msg::Exported(done) => self.on_exported(done),
            Msg::CaseSaved(result) => self.on_case_saved(result),
            Msg::ConfigSaved { desc, result } => match result {
                // A failed save stays on screen (and in the load report) until a save works.
                Err(e) => self.save_error = Some(format!("tuning not saved ({desc}): {e}")),
                Ok(note) => {
                    self.save_error = None;
                    if let Some(note) = note {
                        self.config_note = Some(note.clone());
                        self.warn(format!("{note} (L: details)"));
                    }
                }
            },
            Msg::Quit => {
                if matches!(self.phase, Phase::Loading(_)) {
                    self.cmds.push(Cmd::CancelLoad);
                }
                self.quit = true;
            }
            msg => match self.phase {
                Phase::Loading(_) => match msg {
                    Msg::Back if self.prompt == Prompt::None && !self.cancelling => {
                        self.prompt = Prompt::ConfirmStopLoading
                    }
                    Msg::Answer(yes) if self.prompt == Prompt::ConfirmStopLoading => {
                        self.prompt = Prompt::None;
                        if yes {
                            self.cancelling = true;
                            self.cmds.push(Cmd::CancelLoad);
                        }
                    }
                    _ => {}
                },
                Phase::Failed(_) => {
                    if matches!(msg, Msg::Back | Msg::Enter) {
                        self.quit = true;
                    }
                }
                Phase::Ready => self.on_ready_msg(msg),
            },
        }
        let height = self.table_height();
        if let Some(t) = self.current_table_mut() {
            t.scroll_into_view(height);
        }
        if matches!(self.phase, Phase::Ready) {
            self.ask_sweep();
            self.ask_why();
        }
    }

    /// The load ended while the stop question was open: the question no longer applies.
    fn close_stop_question(&mut self) {
        if self.prompt == Prompt::ConfirmStopLoading {
            self.prompt = Prompt::None;
        }
    }

    /// Rows of the current table that fit on screen.
    pub fn table_height(&self) -> usize {
        crate::tui::view::table_body_height(self)
    }

    pub(super) fn on_loaded(&mut self, summary: Summary) {
        if let (Some(first), None) = (summary.problems.first(), &self.status) {
            let mut counts = Vec::new();
            if summary.rejected > 0 {
                counts.push(format!(
                    "{} {} rejected",
                    summary.rejected,
                    super::plural(summary.rejected as usize, "row")
                ));
            }
            if summary.skipped > 0 {
                counts.push(format!("{} skipped", rarity::model::counted(summary.skipped as u64, "input")));
            }
            let counts = if counts.is_empty() { String::new() } else { format!("{}; ", counts.join(", ")) };
            self.warn(format!("load: {counts}{first} (L: load report)"));
        }
        self.summary = summary;
        self.phase = Phase::Ready;
        for i in 0..self.tabs.len() {
            self.recompute(i);
        }
    }

    pub(super) fn recompute(&mut self, i: usize) {
        let tab = &mut self.tabs[i];
        tab.gen += 1;
        self.cmds.push(Cmd::Run { hunt: tab.hunt, gen: tab.gen, params: tab.params.clone() });
    }

    pub(super) fn on_hunt_done(&mut self, done: HuntDone) {
        let i = self.tab_index(done.hunt);
        if done.gen != self.tabs[i].gen {
            return; // a newer recompute is on its way; never show a stale result
        }
        let tab = &mut self.tabs[i];
        let pending = tab.pending.take();
        match done.result {
            Ok(output) => {
                let n = output.rows.len();
                if tab.table.is_none() {
                    let mut columns = Column::from_specs(output.columns);
                    columns.push(Column::new(super::VERDICT_COLUMN, rarity::hunt::CellKind::Text));
                    columns.push(Column::new(super::NOTE_COLUMN, rarity::hunt::CellKind::Text));
                    // Rows (with their verdicts) are filled in by `refresh_verdicts` below.
                    let t = TableState::new(columns, Vec::new(), key_cols(tab.hunt));
                    // Hunts whose rows are one per detail are drawn grouped (docs/hunts.md).
                    tab.table = Some(if tab.hunt.spec().group_by.is_some() { t.grouped() } else { t })
                }
                let output = Arc::new(output);
                tab.output = Some(output.clone());
                tab.funnel = None;
                tab.error = None;
                tab.last = Some(Recompute { elapsed: done.elapsed, rows: n, at: (self.clock)() });
                self.refresh_verdicts(i);
                let closed = Self::follow_drilled_row(&mut self.tabs[i], &output, &mut self.cmds)
                    .map(|t| format!("details of {t} closed: it is no longer in the results"));
                if let Some(p) = pending {
                    let delta = match p.rows_before {
                        Some(b) => {
                            let d = n as i64 - b as i64;
                            format!("{d:+} {}", super::plural(d.unsigned_abs() as usize, "row"))
                        }
                        None => format!("{n} {}", super::plural(n, "row")),
                    };
                    let key = self.tabs[i].hunt.key();
                    let closed = closed.map(|c| format!("; {c}")).unwrap_or_default();
                    self.info(format!("{key} {} - {delta} ({n} total){closed}", p.desc));
                } else if let Some(c) = closed {
                    self.info(c);
                }
            }
            Err(e) => {
                // Old rows under a new error would pass for results of the new parameters.
                tab.table = None;
                tab.output = None;
                tab.stack.clear();
                tab.error = Some(e.clone());
                tab.last = None;
                // Tabs in the background show `!`; toast only what the user is looking at or
                // just changed, so the load report toast is not buried at start.
                if pending.is_some() || i == self.active {
                    let key = tab.hunt.key();
                    self.error(format!("{key}: {e}"));
                }
            }
        }
    }

    pub(super) fn on_drill_done(&mut self, done: DrillDone) {
        let i = self.tab_index(done.hunt);
        let tab = &mut self.tabs[i];
        if done.gen != tab.drill_gen || !tab.drill_pending {
            return;
        }
        tab.drill_pending = false;
        let refresh = std::mem::take(&mut tab.drill_refresh);
        match done.result {
            Ok(level) if refresh => {
                // Same lists, recomputed: keep each list's sort, filter, column and cursor row;
                // deeper levels came from the old lists, so they close.
                let old = tab.stack.drain(..).next();
                tab.stack.push(match old {
                    Some(old) => merge_level(old, level),
                    None => level,
                });
            }
            Ok(level) => {
                tab.stack.push(level);
                if i == self.active {
                    self.status = None;
                }
            }
            Err(e) => self.error(format!("details: {e}")),
        }
    }

    pub(super) fn on_ready_msg(&mut self, msg: Msg) {
        match &self.prompt {
            // Only asked while loading (closed when the load ends).
            Prompt::None | Prompt::ConfirmStopLoading => {}
            Prompt::Help | Prompt::LoadReport => {
                let page = self.size.1.saturating_sub(4).max(1);
                match msg {
                    Msg::ToggleHelp | Msg::Back | Msg::Enter => self.prompt = Prompt::None,
                    Msg::Up => self.overlay_scroll = self.overlay_scroll.saturating_sub(1),
                    Msg::Down => self.overlay_scroll = self.overlay_scroll.saturating_add(1),
                    Msg::PageUp => self.overlay_scroll = self.overlay_scroll.saturating_sub(page),
                    Msg::PageDown => self.overlay_scroll = self.overlay_scroll.saturating_add(page),
                    _ => {}
                }
                return;
            }
            Prompt::ConfirmOverwrite { path, target } => {
                let (path, target) = (path.clone(), *target);
                match msg {
                    Msg::Answer(true) => self.export_to(&path, true, target),
                    Msg::Answer(false) | Msg::Back => {
                        let line = LineEdit::new(&path.display().to_string());
                        let error = Some("not overwritten; choose another path".into());
                        self.prompt = Prompt::Export { line, error, target };
                    }
                    _ => {}
                }
                return;
            }
            Prompt::Kql => {
                self.on_kql_msg(msg);
                return;
            }
            Prompt::ConfirmReset => {
                if let Msg::Answer(yes) = msg {
                    self.prompt = Prompt::None;
                    if yes {
                        let defaults = self.tab().defaults.clone();
                        self.change_params(self.active, defaults, "reset to defaults".into());
                    }
                } else if matches!(msg, Msg::Back) {
                    self.prompt = Prompt::None;
                }
                return;
            }
            Prompt::Verdict => {
                self.prompt = Prompt::None;
                match msg {
                    Msg::SetVerdict(v) => self.set_verdict(v),
                    _ => self.info("verdict: cancelled"),
                }
                return;
            }
            Prompt::ConfirmExclude { tab, params, desc, .. } => {
                let (tab, params, desc) = (*tab, params.clone(), desc.clone());
                match msg {
                    Msg::Answer(true) => {
                        self.prompt = Prompt::None;
                        self.change_params(tab, *params, desc);
                    }
                    Msg::Answer(false) | Msg::Back => {
                        self.prompt = Prompt::None;
                        self.info(format!("not added: {desc}"));
                    }
                    _ => {}
                }
                return;
            }
            Prompt::Filter(_) | Prompt::Edit { .. } | Prompt::Export { .. } | Prompt::Note { .. } => {
                if let Msg::Input(k) = msg {
                    self.on_input(k);
                }
                return;
            }
        }
        let page = self.table_height().max(1) as isize;
        match msg {
            Msg::NextHunt => self.select_tab((self.active + 1) % self.tabs.len()),
            Msg::PrevHunt => self.select_tab((self.active + self.tabs.len() - 1) % self.tabs.len()),
            Msg::SelectHunt(i) if i < self.tabs.len() => self.select_tab(i),
            Msg::Up => self.move_by(-1),
            Msg::Down => self.move_by(1),
            Msg::PageUp => self.move_by(-page),
            Msg::PageDown => self.move_by(page),
            Msg::Home => self.move_by(isize::MIN / 2),
            Msg::End => self.move_by(isize::MAX / 2),
            Msg::Scroll(n) => self.move_by(n),
            Msg::Left => self.move_col(-1),
            Msg::Right => self.move_col(1),
            Msg::Enter => match self.focus {
                Focus::Table => self.enter(),
                Focus::Params => self.panel_enter(),
            },
            Msg::Back => self.back(),
            Msg::ToggleMark => {
                if let Some(t) = self.current_table_mut() {
                    t.toggle_mark();
                    t.move_by(1);
                }
            }
            Msg::MarkAll => {
                if let Some(t) = self.current_table_mut() {
                    t.mark_all();
                }
            }
            Msg::MarkNone => {
                if let Some(t) = self.current_table_mut() {
                    t.mark_none();
                }
            }
            Msg::StartFilter => {
                if let Some(t) = self.current_table() {
                    self.prompt = Prompt::Filter(LineEdit::new(&t.filter));
                    self.focus = Focus::Table;
                }
            }
            Msg::StartExport => self.start_export(),
            Msg::FocusParams => {
                self.focus = if self.focus == Focus::Params { Focus::Table } else { Focus::Params };
            }
            Msg::SortAsc | Msg::SortDesc => {
                let desc = matches!(msg, Msg::SortDesc);
                if let Some(t) = self.current_table_mut() {
                    t.sort_by_selected(desc);
                    self.sort_status();
                }
            }
            Msg::AskReset => self.prompt = Prompt::ConfirmReset,
            Msg::ToggleHelp => {
                self.prompt = Prompt::Help;
                self.overlay_scroll = 0;
            }
            Msg::ShowKql => self.open_kql(),
            Msg::ShowLoadReport => {
                self.prompt = Prompt::LoadReport;
                self.overlay_scroll = 0;
            }
            Msg::ExcludeIp => self.exclude(Pivot::Ip, false, false),
            Msg::ExcludeNet => self.exclude(Pivot::Ip, true, true),
            Msg::AddBrowser => self.exclude(Pivot::Process, false, false),
            Msg::AddDomain => self.exclude(Pivot::Domain, false, true),
            Msg::Pivot => self.pivot(),
            // `n` is the note key until a filter is on; then it jumps between matches.
            Msg::NextMatch if self.current_table().is_some_and(|t| t.filter.is_empty()) => self.start_note(),
            Msg::NextMatch | Msg::PrevMatch => {
                let fwd = matches!(msg, Msg::NextMatch);
                let Some(t) = self.current_table_mut() else { return };
                match t.jump_match(fwd) {
                    Some(true) => self.info(if fwd {
                        "last match: wrapped to the first"
                    } else {
                        "first match: wrapped to the last"
                    }),
                    Some(false) => self.status = None,
                    None if t.filter.is_empty() => self.info("n/N jump between the matches of a filter: / to set one"),
                    None => self.info("nothing matches the filter"),
                }
            }
            Msg::CopyCell => self.copy(false),
            Msg::CopyRow => self.copy(true),
            Msg::NextSection | Msg::PrevSection => {
                let fwd = matches!(msg, Msg::NextSection);
                if let Some(level) = self.tab_mut().stack.last_mut() {
                    let n = level.sections.len();
                    level.active = if fwd { (level.active + 1) % n } else { (level.active + n - 1) % n };
                }
            }
            Msg::ParamStep(d) => self.param_step(d),
            Msg::ParamToggle => self.param_toggle(),
            Msg::ParamAdd => self.param_add(),
            Msg::ParamDelete => self.param_delete(),
            Msg::Click { x, y } => self.click(x, y),
            Msg::Unbound(key) => self.info(format!("{key} does nothing here: ? for help")),
            Msg::StartVerdict => {
                if let Err(e) = self.verdict_targets() {
                    return self.warn(e);
                }
                self.prompt = Prompt::Verdict;
                self.info("verdict: b benign · s suspicious · m malicious · u unreviewed · Esc cancel");
            }
            Msg::ToggleHideBenign => {
                self.hide_benign = !self.hide_benign;
                for i in 0..self.tabs.len() {
                    self.refresh_verdicts(i);
                }
                self.info(if self.hide_benign {
                    "benign findings hidden (B shows them)"
                } else {
                    "benign findings shown"
                });
            }
            Msg::Undo => self.undo(),
            Msg::Redo => self.redo(),
            _ => {}
        }
    }

    pub(super) fn select_tab(&mut self, i: usize) {
        self.active = i;
        let n = super::panel_lines(&self.tabs[i].params).len();
        self.tabs[i].panel_cursor = self.tabs[i].panel_cursor.min(n.saturating_sub(1));
    }

    pub(super) fn move_by(&mut self, delta: isize) {
        match self.focus {
            Focus::Table => {
                if let Some(t) = self.current_table_mut() {
                    t.move_by(delta);
                }
            }
            Focus::Params => {
                let n = super::panel_lines(&self.tab().params).len() as isize;
                let tab = self.tab_mut();
                tab.panel_cursor = (tab.panel_cursor as isize).saturating_add(delta).clamp(0, (n - 1).max(0)) as usize;
            }
        }
    }

    pub(super) fn move_col(&mut self, delta: isize) {
        match self.focus {
            Focus::Table => {
                if let Some(t) = self.current_table_mut() {
                    t.move_col(delta);
                }
            }
            Focus::Params => self.param_step(delta as i64),
        }
    }

    fn sort_status(&mut self) {
        let Some(t) = self.current_table() else { return };
        let text = match t.sort {
            Some((c, d)) => format!("sorted by {} {}", t.columns[c].name, if d { "descending" } else { "ascending" }),
            None => "engine order".to_string(),
        };
        self.info(text);
    }

    /// A click: a tab selects it, a parameter line focuses it, a column header sorts by that
    /// column, a row moves the cursor there; a second click on the same row drills down.
    pub(super) fn click(&mut self, x: u16, y: u16) {
        let now = std::time::Instant::now();
        let last = self.last_click.take();
        if let Some(i) = crate::tui::view::tab_at(self, x, y) {
            self.select_tab(i);
        } else if let Some(c) = crate::tui::view::header_column_at(self, x, y) {
            self.focus = Focus::Table;
            if let Some(t) = self.current_table_mut() {
                t.sort_by_column(c);
            }
            self.sort_status();
        } else if let Some(line) = crate::tui::view::panel_line_at(self, x, y) {
            self.focus = Focus::Params;
            self.tab_mut().panel_cursor = line;
        } else if let Some(pos) = crate::tui::view::table_row_at(self, y) {
            let offset = self.current_table().map_or(0, |t| t.offset);
            self.focus = Focus::Table;
            if let Some(t) = self.current_table_mut() {
                t.move_to(offset + pos);
            }
            let double = last.is_some_and(|(ly, at)| ly == y && now.duration_since(at) <= DOUBLE_CLICK);
            if double {
                self.enter();
            } else {
                self.last_click = Some((y, now));
            }
        }
    }

    pub(super) fn back(&mut self) {
        if self.focus == Focus::Params {
            self.focus = Focus::Table;
            return;
        }
        if self.tab().drill_pending {
            let tab = self.tab_mut();
            tab.drill_pending = false;
            tab.drill_gen += 1;
            self.info("details cancelled");
            return;
        }
        if let Some(t) = self.current_table_mut() {
            if !t.filter.is_empty() {
                t.set_filter("");
                self.info("filter cleared");
                return;
            }
        }
        if self.tab_mut().stack.pop().is_none() {
            self.info("q quits");
        }
    }

    pub(super) fn enter(&mut self) {
        let tab = self.tab();
        let req = if tab.stack.is_empty() {
            let (Some(t), Some(output)) = (tab.table.as_ref(), tab.output.as_ref()) else { return };
            let Some(row) = t.cursor_row() else { return };
            DrillRequest::Finding { output: output.clone(), row }
        } else {
            let Some(section) = self.current_section() else { return };
            let Some(row) = section.table.cursor_row() else { return };
            match &section.kind {
                SectionKind::Facet { drill, facet, values } => {
                    let Some(value) = values.get(row) else { return };
                    DrillRequest::Facet { drill: drill.clone(), facet: *facet, value: value.clone() }
                }
                SectionKind::Events { table, rows } => {
                    let Some(&r) = rows.get(row) else { return };
                    DrillRequest::Record { table: *table, row: r }
                }
                SectionKind::Record => return,
            }
        };
        self.request_drill(req);
    }

    /// After a recompute of `tab` into `output`: the drill-down stack opened from a result row
    /// is refreshed from that row (an excluded IP leaves its lists too), or closed when the row
    /// is gone; returns the closed level's title.
    fn follow_drilled_row(
        tab: &mut super::Tab,
        output: &Arc<rarity::hunt::HuntOutput>,
        cmds: &mut Vec<Cmd>,
    ) -> Option<String> {
        if tab.stack.is_empty() {
            return None;
        }
        let key = tab.drilled_from.clone()?;
        match tab.table.as_ref().and_then(|t| t.row_with_key(&key)) {
            Some(row) => {
                tab.drill_gen += 1;
                tab.drill_pending = true;
                tab.drill_refresh = true;
                let req = DrillRequest::Finding { output: output.clone(), row };
                cmds.push(Cmd::Drill { hunt: tab.hunt, gen: tab.drill_gen, req });
                None
            }
            None => {
                let title = tab.stack[0].title.clone();
                tab.stack.clear();
                tab.drilled_from = None;
                tab.drill_pending = false;
                tab.drill_refresh = false;
                tab.drill_gen += 1;
                Some(title)
            }
        }
    }

    /// Ask the worker for a drill-down level; Esc cancels while it is computed.
    pub(super) fn request_drill(&mut self, req: DrillRequest) {
        let tab = self.tab_mut();
        if tab.stack.is_empty() {
            // A finding's details follow its row through recomputes; a pivot does not depend
            // on the hunt's parameters.
            tab.drilled_from = match &req {
                DrillRequest::Finding { row, .. } => tab.table.as_ref().map(|t| t.key_cells(*row)),
                _ => None,
            };
        }
        tab.drill_refresh = false;
        tab.drill_gen += 1;
        tab.drill_pending = true;
        let (hunt, gen) = (tab.hunt, tab.drill_gen);
        self.cmds.push(Cmd::Drill { hunt, gen, req });
        self.info("loading details… (Esc cancels)");
    }
}

/// `new` (a recomputed level) with the view state of `old`'s lists of the same name: sort,
/// filter, selected column and the cursor on the same row when it still exists.
fn merge_level(old: Level, mut new: Level) -> Level {
    let active = old.sections.get(old.active).map(|s| s.name.clone());
    let mut old_sections = old.sections;
    for s in &mut new.sections {
        if let Some(o) = old_sections.iter_mut().find(|o| o.name == s.name && o.table.columns == s.table.columns) {
            let mut t = std::mem::replace(&mut o.table, TableState::new(Vec::new(), Vec::new(), 1));
            t.replace_rows(std::mem::take(&mut s.table.rows));
            s.table = t;
        }
    }
    new.active = active.and_then(|a| new.sections.iter().position(|s| s.name == a)).unwrap_or(0);
    new
}
