//! The TUI's state and its one mutator, `App::update(Msg)`. Rendering reads this state; keys
//! become `Msg`s in `keymap`; background work is requested by pushing `Cmd`s.

use super::msg::{
    CaseSaved, Cmd, DrillDone, DrillRequest, HuntDone, InputKey, Level, Msg, Section, SectionKind, Summary,
};
use super::table::{display_cell, Column, TableState};
use chrono::{DateTime, Utc};
use rarity::case::{CaseFile, Entry, FindingKey, Verdict};
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
    /// After `v`: waiting for b / s / m / u.
    Verdict,
    /// Editing the note of the finding `key`.
    Note {
        key: FindingKey,
        line: LineEdit,
    },
}

/// The results table's last two columns (after the hunt's own), as `rarity run --case` writes them.
pub const VERDICT_COLUMN: &str = "Verdict";
pub const NOTE_COLUMN: &str = "Note";

/// Undo steps kept; older ones are forgotten.
const UNDO_LIMIT: usize = 200;

/// One undoable change.
#[derive(Clone, Debug)]
enum Change {
    /// A tab's parameters (edits, toggles, resets, one-key exclusions).
    Params { tab: usize, before: HuntParams, after: HuntParams, desc: String },
    /// Verdicts or notes: each finding's entry before and after.
    Case { desc: String, entries: Vec<(FindingKey, Option<Entry>, Option<Entry>)> },
}

impl Change {
    fn desc(&self) -> String {
        match self {
            Change::Params { tab: _, before, desc, .. } => format!("{} {desc}", before.hunt.key()),
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
    /// Result rows without a verdict.
    pub unreviewed: Option<usize>,
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
            unreviewed: None,
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
    /// The wall clock as `HH:MM:SS` (tests pin it).
    pub clock: fn() -> String,
    /// What loading the saved tuning reported, kept for the load report.
    pub config_note: Option<String>,
    /// Verdicts and notes (None: no case file, verdict keys say so).
    pub case: Option<CaseStore>,
    /// Findings judged benign are left out of the results tables.
    pub hide_benign: bool,
    undo: Vec<Change>,
    redo: Vec<Change>,
    /// The last `set_at` given out: each change gets a later one, so an undo always wins a merge.
    last_stamp: Option<DateTime<Utc>>,
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
            clock: local_clock,
            case: None,
            hide_benign: false,
            undo: Vec::new(),
            redo: Vec::new(),
            last_stamp: None,
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
            Msg::CaseSaved(result) => self.on_case_saved(result),
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
                let n = output.rows.len();
                if tab.table.is_none() {
                    let mut columns = Column::from_specs(output.columns);
                    columns.push(Column::new(VERDICT_COLUMN, rarity::hunt::CellKind::Text));
                    columns.push(Column::new(NOTE_COLUMN, rarity::hunt::CellKind::Text));
                    // Rows (with their verdicts) are filled in by `refresh_verdicts` below.
                    let t = TableState::new(columns, Vec::new(), key_cols(tab.hunt));
                    // Hunts whose rows are one per detail are drawn grouped (docs/hunts.md).
                    tab.table = Some(if tab.hunt.spec().group_by.is_some() { t.grouped() } else { t })
                }
                tab.output = Some(Arc::new(output));
                tab.error = None;
                tab.last = Some(Recompute { elapsed: done.elapsed, rows: n, at: (self.clock)() });
                self.refresh_verdicts(i);
                if let Some(p) = pending {
                    let delta = match p.rows_before {
                        Some(b) => format!("{:+} rows", n as i64 - b as i64),
                        None => format!("{n} rows"),
                    };
                    let key = self.tabs[i].hunt.key();
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
            Prompt::Verdict => {
                self.prompt = Prompt::None;
                match msg {
                    Msg::SetVerdict(v) => self.set_verdict(v),
                    _ => self.info("verdict: cancelled"),
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
            Msg::StartVerdict => {
                if let Err(e) = self.verdict_targets() {
                    return self.warn(e);
                }
                self.prompt = Prompt::Verdict;
                self.info("verdict: b benign · s suspicious · m malicious · u unreviewed · Esc cancel");
            }
            Msg::StartNote => self.start_note(),
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

    /// Replace a tab's parameters (undoably): save the tuning and recompute.
    fn change_params(&mut self, i: usize, params: HuntParams, desc: String) {
        let before = self.tabs[i].params.clone();
        if self.apply_params(i, params, desc.clone()) {
            let after = self.tabs[i].params.clone();
            self.record(Change::Params { tab: i, before, after, desc });
        }
    }

    /// Replace a tab's parameters: save the tuning and recompute. False when nothing changed.
    fn apply_params(&mut self, i: usize, params: HuntParams, desc: String) -> bool {
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
            if let Err(e) = store.config.save(&store.path) {
                self.warn(format!("{hunt_key} {desc} - tuning not saved: {e}"));
            }
        }
        self.recompute(i);
        true
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
            Prompt::Note { key: finding, line } => {
                if line.apply(key) {
                    return;
                }
                let (finding, text) = (finding.clone(), line.text.clone());
                self.prompt = Prompt::None;
                if key == InputKey::Cancel {
                    return self.info("note: not changed");
                }
                let desc = format!("note of {}", finding.finding.join(" | "));
                self.change_case(vec![finding], None, Some(text.trim()), desc);
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

    // ---- triage: verdicts, notes, undo ---------------------------------------------

    /// Put each result row's verdict and note in the table's last two columns, hide benign
    /// findings when asked, and count the unreviewed ones.
    fn refresh_verdicts(&mut self, i: usize) {
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
    fn verdict_targets(&self) -> Result<Vec<FindingKey>, String> {
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

    fn set_verdict(&mut self, verdict: Verdict) {
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

    fn start_note(&mut self) {
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
    fn stamp(&mut self) -> DateTime<Utc> {
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
    fn change_case(&mut self, keys: Vec<FindingKey>, verdict: Option<Verdict>, note: Option<&str>, desc: String) {
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
    fn case_changed(&mut self, changed: &[FindingKey]) {
        for i in 0..self.tabs.len() {
            if changed.iter().any(|k| k.hunt == self.tabs[i].hunt.key()) {
                self.refresh_verdicts(i);
            }
        }
        if let Some(store) = &self.case {
            self.cmds.push(Cmd::SaveCase { path: store.path.clone(), case: store.case.clone() });
        }
    }

    fn on_case_saved(&mut self, result: Result<CaseSaved, String>) {
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

    fn record(&mut self, change: Change) {
        self.undo.push(change);
        if self.undo.len() > UNDO_LIMIT {
            self.undo.remove(0);
        }
        self.redo.clear();
    }

    fn undo(&mut self) {
        let Some(change) = self.undo.pop() else { return self.info("nothing to undo") };
        self.apply_change(&change, true);
        self.redo.push(change);
    }

    fn redo(&mut self) {
        let Some(change) = self.redo.pop() else { return self.info("nothing to redo") };
        self.apply_change(&change, false);
        self.undo.push(change);
    }

    /// Put a change's `before` (undo) or `after` (redo) state back.
    fn apply_change(&mut self, change: &Change, undo: bool) {
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
