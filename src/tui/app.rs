//! The TUI's state and its one mutator, `App::update(Msg)`. Rendering reads this state; keys
//! become `Msg`s in `keymap`; background work is requested by pushing `Cmd`s.

use super::msg::{
    Cmd, DrillDone, DrillRequest, HuntDone, InputKey, Level, Msg, Section, SectionKind, Summary, SweepDone,
};
use super::table::{display_cell, Column, TableState};
use rarity::config::Config;
use rarity::export::{write_csv_file, ExportError};
use rarity::hunt::params::{parse_item, parse_value};
use rarity::hunt::{Cell, HuntId, HuntOutput, HuntParams, ParamValue, Pivot};
use rarity::ingest::Progress;
use rarity::model::time::Nanos;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where keys go when no prompt is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    Table,
    Params,
}

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
    },
    ConfirmOverwrite {
        path: PathBuf,
    },
    ConfirmReset,
}

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

#[derive(Clone, Debug)]
pub enum Phase {
    Loading(Progress),
    Ready,
    Failed(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusLevel {
    Info,
    Warn,
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub level: StatusLevel,
    pub text: String,
}

/// The last recompute of a tab.
#[derive(Clone, Debug)]
pub struct Recompute {
    pub elapsed: Duration,
    pub rows: usize,
    /// Wall-clock time the result arrived, `HH:MM:SS`.
    pub at: String,
}

/// A parameter change waiting for its recompute, to report its effect.
#[derive(Clone, Debug)]
struct Pending {
    desc: String,
    rows_before: Option<usize>,
}

/// One hunt tab.
#[derive(Clone, Debug)]
pub struct Tab {
    pub hunt: HuntId,
    pub params: HuntParams,
    /// Generation of the latest recompute asked for; results of older ones are dropped.
    pub gen: u64,
    pub table: Option<TableState>,
    pub output: Option<Arc<HuntOutput>>,
    pub error: Option<String>,
    pub last: Option<Recompute>,
    pending: Option<Pending>,
    /// Drill-down levels above the results table; Esc pops one.
    pub stack: Vec<Level>,
    pub drill_gen: u64,
    pub drill_pending: bool,
    pub panel_cursor: usize,
    /// The funnel of the shown result (arrives just after it).
    pub funnel: Option<rarity::hunt::Funnel>,
    /// The sensitivity chart of the parameter under the panel cursor.
    pub sensitivity: Option<Sensitivity>,
    /// The sweep last asked for: (parameter, the parameters it runs with).
    sweep_asked: Option<(&'static str, HuntParams)>,
}

/// Result counts of one parameter over a range of values around its current one.
#[derive(Clone, Debug)]
pub struct Sensitivity {
    pub key: &'static str,
    pub values: Vec<rarity::hunt::ParamValue>,
    pub counts: Vec<usize>,
    /// The value the parameters hold now.
    pub current: rarity::hunt::ParamValue,
}

impl Tab {
    fn new(hunt: HuntId, params: HuntParams) -> Self {
        Tab {
            hunt,
            params,
            gen: 0,
            table: None,
            output: None,
            error: None,
            last: None,
            pending: None,
            stack: Vec::new(),
            drill_gen: 0,
            drill_pending: false,
            panel_cursor: 0,
            funnel: None,
            sensitivity: None,
            sweep_asked: None,
        }
    }

    pub fn computing(&self) -> bool {
        (self.last.is_none() && self.error.is_none()) || self.pending.is_some()
    }

    /// Rows of the current result, when there is one.
    pub fn count(&self) -> Option<usize> {
        self.table.as_ref().map(|t| t.rows.len())
    }
}

/// Leading columns that cover a hunt's key columns, so a result row keeps its selection and
/// mark across recomputes.
pub fn key_cols(hunt: HuntId) -> usize {
    hunt.spec().key_indices().into_iter().max().map_or(1, |m| m + 1)
}

/// Where saved tuning goes.
#[derive(Clone, Debug)]
pub struct ConfigStore {
    pub config: Config,
    pub path: PathBuf,
}

pub struct App {
    pub phase: Phase,
    pub summary: Summary,
    pub tabs: Vec<Tab>,
    pub active: usize,
    pub focus: Focus,
    pub prompt: Prompt,
    pub status: Option<Status>,
    /// Terminal size (columns, rows).
    pub size: (u16, u16),
    pub config: Option<ConfigStore>,
    /// Export paths are relative to this.
    pub cwd: PathBuf,
    pub quit: bool,
    pub cancelling: bool,
    /// Commands for the runner, drained after each update.
    pub cmds: Vec<Cmd>,
    /// The newest sensitivity sweep asked for, taken by the runner (a newer ask replaces it).
    pub sweep_job: Option<Cmd>,
    /// The wall clock as `HH:MM:SS` (tests pin it).
    pub clock: fn() -> String,
    /// What loading the saved tuning reported, kept for the load report.
    pub config_note: Option<String>,
}

fn local_clock() -> String {
    chrono::Local::now().format("%H:%M:%S").to_string()
}

impl App {
    /// A fresh app, loading. `config` is where tuning is read from and saved to (None with
    /// `--no-config`); `warning` is what loading it reported.
    pub fn new(config: Option<ConfigStore>, warning: Option<String>, cwd: PathBuf) -> Self {
        let tabs = HuntId::all()
            .map(|h| {
                let params = config.as_ref().map_or_else(|| HuntParams::defaults(h), |c| c.config.params_for(h));
                Tab::new(h, params)
            })
            .collect();
        App {
            phase: Phase::Loading(Progress::default()),
            summary: Summary::default(),
            tabs,
            active: 0,
            focus: Focus::Table,
            prompt: Prompt::None,
            status: warning.as_ref().map(|w| Status { level: StatusLevel::Warn, text: format!("{w} (L: details)") }),
            config_note: warning,
            size: (120, 40),
            config,
            cwd,
            quit: false,
            cancelling: false,
            cmds: Vec::new(),
            sweep_job: None,
            clock: local_clock,
        }
    }

    pub fn tab(&self) -> &Tab {
        &self.tabs[self.active]
    }

    fn tab_mut(&mut self) -> &mut Tab {
        &mut self.tabs[self.active]
    }

    fn tab_index(&self, hunt: HuntId) -> usize {
        self.tabs.iter().position(|t| t.hunt == hunt).unwrap_or(0)
    }

    /// The table the cursor keys act on: the top drill-down list, else the results.
    pub fn current_table(&self) -> Option<&TableState> {
        let tab = self.tab();
        match tab.stack.last() {
            Some(level) => level.sections.get(level.active).map(|s| &s.table),
            None => tab.table.as_ref(),
        }
    }

    fn current_table_mut(&mut self) -> Option<&mut TableState> {
        let tab = self.tab_mut();
        match tab.stack.last_mut() {
            Some(level) => level.sections.get_mut(level.active).map(|s| &mut s.table),
            None => tab.table.as_mut(),
        }
    }

    pub fn current_section(&self) -> Option<&Section> {
        self.tab().stack.last().and_then(|l| l.sections.get(l.active))
    }

    fn info(&mut self, text: impl Into<String>) {
        self.status = Some(Status { level: StatusLevel::Info, text: text.into() });
    }

    fn warn(&mut self, text: impl Into<String>) {
        self.status = Some(Status { level: StatusLevel::Warn, text: text.into() });
    }

    fn error(&mut self, text: impl Into<String>) {
        self.status = Some(Status { level: StatusLevel::Error, text: text.into() });
    }

    pub fn update(&mut self, msg: Msg) {
        match msg {
            Msg::Resize(w, h) => self.size = (w, h),
            Msg::LoadProgress(p) => {
                if let Phase::Loading(_) = self.phase {
                    self.phase = Phase::Loading(p);
                }
            }
            Msg::Loaded(summary) => self.on_loaded(*summary),
            Msg::LoadFailed(e) => self.phase = Phase::Failed(e),
            Msg::HuntDone(done) => self.on_hunt_done(done),
            Msg::DrillDone(done) => self.on_drill_done(done),
            Msg::FunnelDone { hunt, gen, funnel } => {
                let i = self.tab_index(hunt);
                if self.tabs[i].gen == gen {
                    self.tabs[i].funnel = Some(funnel);
                }
            }
            Msg::SweepDone(done) => self.on_sweep_done(done),
            Msg::Quit => {
                if matches!(self.phase, Phase::Loading(_)) {
                    if self.cancelling {
                        // The loader stopped after Esc: leave with a message rather than silently.
                        self.phase = Phase::Failed("loading cancelled".into());
                    } else {
                        self.cmds.push(Cmd::CancelLoad);
                    }
                }
                self.quit = true;
            }
            msg => match self.phase {
                Phase::Loading(_) => {
                    if matches!(msg, Msg::Back) && !self.cancelling {
                        self.cancelling = true;
                        self.cmds.push(Cmd::CancelLoad);
                    }
                }
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
        }
    }

    /// With the panel focused on a numeric or duration parameter, ask for its sensitivity
    /// chart whenever the parameter or any value changed since the last ask (latest wins).
    fn ask_sweep(&mut self) {
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

    fn on_sweep_done(&mut self, done: SweepDone) {
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

    /// Rows of the current table that fit on screen.
    pub fn table_height(&self) -> usize {
        super::view::table_body_height(self)
    }

    fn on_loaded(&mut self, summary: Summary) {
        if let (Some(first), None) = (summary.problems.first(), &self.status) {
            let mut counts = Vec::new();
            if summary.rejected > 0 {
                counts.push(format!("{} rows rejected", summary.rejected));
            }
            if summary.skipped > 0 {
                counts.push(format!("{} inputs skipped", summary.skipped));
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

    fn recompute(&mut self, i: usize) {
        let tab = &mut self.tabs[i];
        tab.gen += 1;
        self.cmds.push(Cmd::Run { hunt: tab.hunt, gen: tab.gen, params: tab.params.clone() });
    }

    fn on_hunt_done(&mut self, done: HuntDone) {
        let i = self.tab_index(done.hunt);
        if done.gen != self.tabs[i].gen {
            return; // a newer recompute is on its way; never show a stale result
        }
        let tab = &mut self.tabs[i];
        let pending = tab.pending.take();
        match done.result {
            Ok(output) => {
                let rows = output.rows.clone();
                let n = rows.len();
                match &mut tab.table {
                    Some(t) => t.replace_rows(rows),
                    None => {
                        let t = TableState::new(Column::from_specs(output.columns), rows, key_cols(tab.hunt));
                        // Hunts whose rows are one per detail are drawn grouped (docs/hunts.md).
                        tab.table = Some(if tab.hunt.spec().group_by.is_some() { t.grouped() } else { t })
                    }
                }
                tab.output = Some(Arc::new(output));
                tab.funnel = None;
                tab.error = None;
                tab.last = Some(Recompute { elapsed: done.elapsed, rows: n, at: (self.clock)() });
                if let Some(p) = pending {
                    let delta = match p.rows_before {
                        Some(b) => format!("{:+} rows", n as i64 - b as i64),
                        None => format!("{n} rows"),
                    };
                    let key = tab.hunt.key();
                    self.info(format!("{key} {} - {delta} ({n} total)", p.desc));
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

    fn on_drill_done(&mut self, done: DrillDone) {
        let i = self.tab_index(done.hunt);
        let tab = &mut self.tabs[i];
        if done.gen != tab.drill_gen || !tab.drill_pending {
            return;
        }
        tab.drill_pending = false;
        match done.result {
            Ok(level) => {
                tab.stack.push(level);
                if i == self.active {
                    self.status = None;
                }
            }
            Err(e) => self.error(format!("details: {e}")),
        }
    }

    fn on_ready_msg(&mut self, msg: Msg) {
        match &self.prompt {
            Prompt::None => {}
            Prompt::Help | Prompt::LoadReport => {
                if matches!(msg, Msg::ToggleHelp | Msg::Back | Msg::Enter) {
                    self.prompt = Prompt::None;
                }
                return;
            }
            Prompt::ConfirmOverwrite { path } => {
                let path = path.clone();
                match msg {
                    Msg::Answer(true) => self.export_to(&path, true),
                    Msg::Answer(false) | Msg::Back => {
                        let line = LineEdit::new(&path.display().to_string());
                        self.prompt =
                            Prompt::Export { line, error: Some("not overwritten; choose another path".into()) };
                    }
                    _ => {}
                }
                return;
            }
            Prompt::ConfirmReset => {
                if let Msg::Answer(yes) = msg {
                    self.prompt = Prompt::None;
                    if yes {
                        let hunt = self.tab().hunt;
                        self.change_params(self.active, HuntParams::defaults(hunt), "reset to defaults".into());
                    }
                } else if matches!(msg, Msg::Back) {
                    self.prompt = Prompt::None;
                }
                return;
            }
            Prompt::Filter(_) | Prompt::Edit { .. } | Prompt::Export { .. } => {
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
                    let text = match t.sort {
                        Some((c, d)) => {
                            format!("sorted by {} {}", t.columns[c].name, if d { "descending" } else { "ascending" })
                        }
                        None => "engine order".to_string(),
                    };
                    self.info(text);
                }
            }
            Msg::AskReset => self.prompt = Prompt::ConfirmReset,
            Msg::ToggleHelp => self.prompt = Prompt::Help,
            Msg::ShowLoadReport => self.prompt = Prompt::LoadReport,
            Msg::ExcludeIp => self.exclude(Pivot::Ip, false),
            Msg::ExcludeNet => self.exclude(Pivot::Ip, true),
            Msg::AddBrowser => self.exclude(Pivot::Process, false),
            Msg::AddDomain => self.exclude(Pivot::Domain, false),
            Msg::Pivot => self.pivot(),
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
            _ => {}
        }
    }

    fn select_tab(&mut self, i: usize) {
        self.active = i;
        let n = panel_lines(&self.tabs[i].params).len();
        self.tabs[i].panel_cursor = self.tabs[i].panel_cursor.min(n.saturating_sub(1));
    }

    fn move_by(&mut self, delta: isize) {
        match self.focus {
            Focus::Table => {
                if let Some(t) = self.current_table_mut() {
                    t.move_by(delta);
                }
            }
            Focus::Params => {
                let n = panel_lines(&self.tab().params).len() as isize;
                let tab = self.tab_mut();
                tab.panel_cursor = (tab.panel_cursor as isize).saturating_add(delta).clamp(0, (n - 1).max(0)) as usize;
            }
        }
    }

    fn move_col(&mut self, delta: isize) {
        match self.focus {
            Focus::Table => {
                if let Some(t) = self.current_table_mut() {
                    t.move_col(delta);
                }
            }
            Focus::Params => self.param_step(delta as i64),
        }
    }

    fn click(&mut self, x: u16, y: u16) {
        if let Some(i) = super::view::tab_at(self, x, y) {
            self.select_tab(i);
        } else if let Some(line) = super::view::panel_line_at(self, x, y) {
            self.focus = Focus::Params;
            self.tab_mut().panel_cursor = line;
        } else if let Some(pos) = super::view::table_row_at(self, y) {
            let offset = self.current_table().map_or(0, |t| t.offset);
            self.focus = Focus::Table;
            if let Some(t) = self.current_table_mut() {
                t.move_to(offset + pos);
            }
        }
    }

    fn back(&mut self) {
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

    fn enter(&mut self) {
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

    /// Ask the worker for a drill-down level; Esc cancels while it is computed.
    fn request_drill(&mut self, req: DrillRequest) {
        let tab = self.tab_mut();
        tab.drill_gen += 1;
        tab.drill_pending = true;
        let (hunt, gen) = (tab.hunt, tab.drill_gen);
        self.cmds.push(Cmd::Drill { hunt, gen, req });
        self.info("loading details… (Esc cancels)");
    }

    /// Every network event with the selected cell's value (an IP, device, process, hash or
    /// domain), as a drill-down level.
    fn pivot(&mut self) {
        match self.selected_pivot() {
            Some((pivot, value)) => self.request_drill(DrillRequest::Pivot { pivot, value }),
            None => self.warn("no IP, device, process, hash or domain in this cell"),
        }
    }

    /// The selected cell's value and what it is, when a pivot can start from it: the selected
    /// column when it has a kind, else the first column of the row that has one. A record view
    /// row pivots on its value when its column has a kind in the event columns.
    fn selected_pivot(&self) -> Option<(Pivot, String)> {
        let t = self.current_table()?;
        let row = t.rows.get(t.cursor_row()?)?;
        let value_of = |c: &Cell| match c {
            Cell::Text(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Cell::TextSet(v) => v.first().cloned(),
            _ => None,
        };
        if matches!(self.current_section().map(|s| &s.kind), Some(SectionKind::Record)) {
            let name = display_cell(super::table::cell_at(row, 0));
            let pivot = rarity::hunt::event_columns(rarity::model::tables::TableKind::DeviceNetworkEvents)
                .iter()
                .chain(self.tab().hunt.spec().columns)
                .find(|c| c.name == name)?
                .pivot?;
            return Some((pivot, value_of(super::table::cell_at(row, 1))?));
        }
        let cols = &t.columns;
        let candidates = std::iter::once(t.col).chain(0..cols.len());
        candidates.filter_map(|c| Some((cols.get(c)?.pivot?, value_of(super::table::cell_at(row, c))?))).next()
    }

    // ---- parameter panel -------------------------------------------------------------

    fn panel_line(&self) -> Option<PanelLine> {
        panel_lines(&self.tab().params).get(self.tab().panel_cursor).copied()
    }

    fn panel_enter(&mut self) {
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

    fn param_step(&mut self, d: i64) {
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

    fn param_toggle(&mut self) {
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

    fn param_add(&mut self) {
        let i = match self.panel_line() {
            Some(PanelLine::Param(i) | PanelLine::Item(i, _) | PanelLine::Add(i)) => i,
            None => return,
        };
        if self.tab().params.specs()[i].kind.is_list() {
            self.prompt = Prompt::Edit { target: EditTarget::NewItem(i), line: LineEdit::default(), error: None };
        }
    }

    fn param_delete(&mut self) {
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
    fn submit_edit(&mut self, target: EditTarget, text: &str) -> Result<(), String> {
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
                let spec = p.specs()[i];
                let new = parse_item(spec.kind, text)?;
                p.add_item(spec.key, &new).map_err(|e| e.to_string())?;
                if let ParamValue::List(items) = &p.values[i] {
                    new_item = items.iter().position(|x| x.text.eq_ignore_ascii_case(&new)).map(|j| (i, j));
                }
                format!("{}: +{new}", spec.key)
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

    /// Replace a tab's parameters: save the tuning and recompute.
    fn change_params(&mut self, i: usize, params: HuntParams, desc: String) {
        let tab = &mut self.tabs[i];
        if tab.params == params {
            let key = tab.hunt.key();
            self.info(format!("{key}: unchanged"));
            return;
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
            if let Err(e) = store.config.save(&store.path) {
                self.warn(format!("{hunt_key} {desc} - tuning not saved: {e}"));
            }
        }
        self.recompute(i);
    }

    // ---- text prompts --------------------------------------------------------------

    fn on_input(&mut self, key: InputKey) {
        match &mut self.prompt {
            Prompt::Filter(line) => {
                if line.apply(key) {
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
            Prompt::Export { line, error } => {
                if line.apply(key) {
                    *error = None;
                    return;
                }
                if key == InputKey::Cancel {
                    self.prompt = Prompt::None;
                    return;
                }
                let text = line.text.trim().to_string();
                if text.is_empty() {
                    *error = Some("type a file name".into());
                    return;
                }
                let path = self.cwd.join(expand_home(&text));
                self.export_to(&path, false);
            }
            _ => {}
        }
    }

    // ---- export --------------------------------------------------------------------

    fn start_export(&mut self) {
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

    fn export_to(&mut self, path: &Path, overwrite: bool) {
        let Some(t) = self.current_table() else { return };
        let columns: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        let rows = t.export_rows();
        let n_marked = t.marked.len();
        match write_csv_file(path, &columns, rows, false, overwrite) {
            Ok(n) => {
                self.prompt = Prompt::None;
                let what = if n_marked > 0 { "marked" } else { "shown" };
                self.info(format!("wrote {n} {what} rows to {}", path.display()));
            }
            Err(ExportError::Exists { .. }) => self.prompt = Prompt::ConfirmOverwrite { path: path.to_path_buf() },
            Err(e) => {
                self.prompt =
                    Prompt::Export { line: LineEdit::new(&path.display().to_string()), error: Some(e.to_string()) }
            }
        }
    }

    // ---- actions from a row --------------------------------------------------------

    /// Add the selected row's value of kind `pivot` to this hunt's exclusion list for it.
    fn exclude(&mut self, pivot: Pivot, wide: bool) {
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
    fn row_pivot_value(&self, pivot: Pivot) -> Option<String> {
        let (p, v) = self.selected_pivot()?;
        if p == pivot {
            return Some(v);
        }
        let t = self.current_table()?;
        let row = t.rows.get(t.cursor_row()?)?;
        t.columns.iter().enumerate().filter(|(_, c)| c.pivot == Some(pivot)).find_map(|(c, _)| {
            match super::table::cell_at(row, c) {
                Cell::Text(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
                Cell::TextSet(v) => v.first().cloned(),
                _ => None,
            }
        })
    }

    /// Whether the parameter panel is drawn (it always is on wide terminals).
    pub fn panel_visible(&self) -> bool {
        self.focus == Focus::Params || self.size.0 >= super::view::PANEL_ALWAYS_WIDTH
    }
}

/// Step a duration by its own unit (30d -> 31d, 1h -> 59m going down), never below 1s.
pub fn step_duration(d: Nanos, dir: i64) -> Nanos {
    const S: Nanos = 1_000_000_000;
    let units = [86_400 * S, 3_600 * S, 60 * S, S];
    let i = units.iter().position(|&u| d >= u && d % u == 0).unwrap_or(units.len() - 1);
    let unit = units[i];
    if dir > 0 {
        d.saturating_add(unit * dir)
    } else if d > unit {
        d - unit
    } else {
        match units.get(i + 1) {
            Some(smaller) => d - smaller,
            None => d.max(S),
        }
    }
}

/// `~/x` to the home directory.
fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), dirs::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_step_by_their_own_unit() {
        const S: Nanos = 1_000_000_000;
        assert_eq!(step_duration(30 * 86_400 * S, 1), 31 * 86_400 * S);
        assert_eq!(step_duration(86_400 * S, -1), 23 * 3_600 * S);
        assert_eq!(step_duration(3_600 * S, -1), 59 * 60 * S);
        assert_eq!(step_duration(90 * 60 * S, 1), 91 * 60 * S);
        assert_eq!(step_duration(S, -1), S);
    }

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
