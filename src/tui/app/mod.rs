//! The TUI's state: tabs, focus, the modal prompt, the status line. `update.rs` holds the one
//! mutator `App::update(Msg)`; `prompt.rs` the text prompts and questions; `params.rs` the
//! parameter panel; `export.rs` CSV export; `kql.rs` the KQL view; `actions.rs` what a row's keys do (exclude, pivot).
//! Rendering reads this state; keys become `Msg`s in `keys`; background work is requested by
//! pushing `Cmd`s.

mod actions;
mod cockpit;
mod export;
mod kql;
mod params;
mod prompt;
mod triage;
mod update;

#[cfg(test)]
pub(crate) use actions::osc52;
pub use kql::KqlView;
pub use params::{panel_lines, PanelLine};
pub use prompt::{EditTarget, ExportTarget, LineEdit, Prompt};
pub use triage::{CaseStore, NOTE_COLUMN, VERDICT_COLUMN};

use super::msg::{Cmd, Level, Section, Summary};
use super::table::TableState;
use rarity::config::Config;
use rarity::hunt::{HuntId, HuntOutput, HuntParams};
use rarity::ingest::Progress;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where keys go when no prompt is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    Table,
    Params,
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
pub(super) struct Pending {
    pub(super) desc: String,
    pub(super) rows_before: Option<usize>,
}

/// One hunt tab.
#[derive(Clone, Debug)]
pub struct Tab {
    pub hunt: HuntId,
    pub params: HuntParams,
    /// The hunt's defaults, parsed once (the panel marks what differs from them).
    pub defaults: HuntParams,
    /// Generation of the latest recompute asked for; results of older ones are dropped.
    pub gen: u64,
    pub table: Option<TableState>,
    pub output: Option<Arc<HuntOutput>>,
    pub error: Option<String>,
    pub last: Option<Recompute>,
    pub(super) pending: Option<Pending>,
    /// Drill-down levels above the results table; Esc pops one.
    pub stack: Vec<Level>,
    pub drill_gen: u64,
    pub drill_pending: bool,
    /// Key cells of the result row the drill-down stack was opened from: after a recompute the
    /// stack is refreshed from that row, or closed when the row is gone.
    pub drilled_from: Option<Vec<rarity::hunt::Cell>>,
    /// The pending drill-down refreshes the stack's first level instead of opening a new one.
    pub(super) drill_refresh: bool,
    pub panel_cursor: usize,
    /// Result rows without a verdict.
    pub unreviewed: Option<usize>,
    /// The funnel of the shown result (arrives just after it).
    pub funnel: Option<rarity::hunt::Funnel>,
    /// The sensitivity chart of the parameter under the panel cursor.
    pub sensitivity: Option<Sensitivity>,
    /// The sweep last asked for: (parameter, the parameters it runs with).
    pub(super) sweep_asked: Option<(&'static str, HuntParams)>,
    /// Why the selected result is there: (recompute gen, output row, the engine's line).
    pub why: Option<(u64, usize, String)>,
    /// The why line last asked for: (gen, row).
    pub(super) why_asked: Option<(u64, usize)>,
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
            defaults: HuntParams::defaults(hunt),
            gen: 0,
            table: None,
            output: None,
            error: None,
            last: None,
            pending: None,
            stack: Vec::new(),
            drill_gen: 0,
            drill_pending: false,
            drilled_from: None,
            drill_refresh: false,
            panel_cursor: 0,
            unreviewed: None,
            funnel: None,
            sensitivity: None,
            sweep_asked: None,
            why: None,
            why_asked: None,
        }
    }

    /// The why line of the selected result row, once the engine has said it.
    pub fn selected_why(&self) -> Option<&str> {
        let row = self.table.as_ref()?.cursor_row()?;
        match &self.why {
            Some((gen, r, line)) if *gen == self.gen && *r == row && !line.is_empty() => Some(line),
            _ => None,
        }
    }

    pub fn computing(&self) -> bool {
        (self.last.is_none() && self.error.is_none()) || self.pending.is_some()
    }

    /// How many parameters differ from the defaults.
    pub fn tuned(&self) -> usize {
        self.params.values.iter().zip(&self.defaults.values).filter(|(a, b)| a != b).count()
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
    /// First line shown of the help overlay or load report (they scroll on small terminals).
    pub overlay_scroll: u16,
    /// The last failed tuning save: shown in the status line and the load report until a save
    /// works, whatever other messages come.
    pub save_error: Option<String>,
    /// The KQL view (shown while the prompt is `Prompt::Kql`); kept after it closes so `K`
    /// reopens in the dialect chosen last.
    pub kql: Option<KqlView>,
    /// The wall clock in UTC nanoseconds, for the KQL header's "written at" (tests pin it).
    pub wall_clock: fn() -> rarity::model::Nanos,
    /// Verdicts and notes (None: no case file, verdict keys say so).
    pub case: Option<CaseStore>,
    /// Findings judged benign are left out of the results tables.
    pub hide_benign: bool,
    undo: Vec<triage::Change>,
    redo: Vec<triage::Change>,
    /// The last `set_at` given out: each change gets a later one, so an undo always wins a merge.
    last_stamp: Option<chrono::DateTime<chrono::Utc>>,
    /// Screen row and time of the last click on a table row (a second one there drills down).
    pub(super) last_click: Option<(u16, std::time::Instant)>,
    /// `NO_COLOR` is set (any value): no colours; what colour marked (the active tab, the
    /// selected column, the active list, the cursor row) is shown in reverse video.
    pub no_color: bool,
}

fn local_clock() -> String {
    chrono::Local::now().format("%H:%M:%S").to_string()
}

fn utc_nanos() -> rarity::model::Nanos {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX)
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
            save_error: None,
            size: (120, 40),
            config,
            cwd,
            quit: false,
            cancelling: false,
            cmds: Vec::new(),
            sweep_job: None,
            clock: local_clock,
            overlay_scroll: 0,
            kql: None,
            wall_clock: utc_nanos,
            case: None,
            hide_benign: false,
            undo: Vec::new(),
            redo: Vec::new(),
            last_stamp: None,
            last_click: None,
            no_color: std::env::var_os("NO_COLOR").is_some(),
        }
    }

    pub fn tab(&self) -> &Tab {
        &self.tabs[self.active]
    }

    pub(super) fn tab_mut(&mut self) -> &mut Tab {
        &mut self.tabs[self.active]
    }

    pub(super) fn tab_index(&self, hunt: HuntId) -> usize {
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

    pub(super) fn current_table_mut(&mut self) -> Option<&mut TableState> {
        let tab = self.tab_mut();
        match tab.stack.last_mut() {
            Some(level) => level.sections.get_mut(level.active).map(|s| &mut s.table),
            None => tab.table.as_mut(),
        }
    }

    pub fn current_section(&self) -> Option<&Section> {
        self.tab().stack.last().and_then(|l| l.sections.get(l.active))
    }

    pub(super) fn info(&mut self, text: impl Into<String>) {
        self.status = Some(Status { level: StatusLevel::Info, text: text.into() });
    }

    pub(super) fn warn(&mut self, text: impl Into<String>) {
        self.status = Some(Status { level: StatusLevel::Warn, text: text.into() });
    }

    pub(super) fn error(&mut self, text: impl Into<String>) {
        self.status = Some(Status { level: StatusLevel::Error, text: text.into() });
    }

    /// Whether the parameter panel is drawn (it always is on wide terminals).
    pub fn panel_visible(&self) -> bool {
        self.focus == Focus::Params || self.size.0 >= super::view::PANEL_ALWAYS_WIDTH
    }
}

/// `n word` with the plural the count needs ("1 row", "2 rows").
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}
