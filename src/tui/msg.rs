//! Messages into `App::update` (from keys, the mouse, the terminal and background jobs) and the
//! commands `update` asks the runner to carry out (background jobs).

use super::table::TableState;
use rarity::hunt::{HuntId, HuntOutput, HuntParams};
use rarity::ingest::Progress;
use rarity::model::Nanos;
use std::sync::Arc;
use std::time::Duration;

/// A key of a one-line text prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKey {
    Char(char),
    Backspace,
    Delete,
    Left,
    Right,
    Home,
    End,
    /// Clear the whole line (Ctrl-U).
    Clear,
    Submit,
    Cancel,
}

/// Everything that can change the app's state.
#[derive(Debug)]
pub enum Msg {
    Quit,
    NextHunt,
    PrevHunt,
    SelectHunt(usize),
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    Left,
    Right,
    /// Drill down / open / edit.
    Enter,
    /// Close, clear, go back one level, or cancel loading.
    Back,
    ToggleMark,
    MarkAll,
    MarkNone,
    StartFilter,
    StartExport,
    /// Move focus between the table and the parameter panel.
    FocusParams,
    SortAsc,
    SortDesc,
    AskReset,
    ToggleHelp,
    ShowLoadReport,
    /// Add the remote IP of the current row to rare-process `excluded_nets`.
    ExcludeIp,
    /// Same with its /24 (IPv6: /64).
    ExcludeNet,
    /// Add the process of the current row to rare-process `browsers`.
    AddBrowser,
    /// Add the domain of the current row to server-anomaly `known_domains`.
    AddDomain,
    NextSection,
    PrevSection,
    /// Parameter panel: step a number or duration (+1 / -1), flip a bool.
    ParamStep(i64),
    /// Parameter panel: toggle a list item or bool.
    ParamToggle,
    ParamAdd,
    ParamDelete,
    /// A key for the open text prompt.
    Input(InputKey),
    /// Answer to a y/n question.
    Answer(bool),
    Resize(u16, u16),
    /// Mouse wheel: rows to move.
    Scroll(isize),
    /// Mouse click at a screen cell.
    Click {
        x: u16,
        y: u16,
    },
    LoadProgress(Progress),
    Loaded(Box<Summary>),
    LoadFailed(String),
    /// A problem worth a toast that arrives after loading (a load snapshot not saved).
    Warn(String),
    HuntDone(HuntDone),
    DrillDone(DrillDone),
}

/// A finished recompute.
#[derive(Debug)]
pub struct HuntDone {
    pub hunt: HuntId,
    pub gen: u64,
    pub result: Result<HuntOutput, String>,
    pub elapsed: Duration,
}

/// A finished drill-down.
#[derive(Debug)]
pub struct DrillDone {
    pub hunt: HuntId,
    pub gen: u64,
    pub result: Result<Level, String>,
}

/// One level of a tab's drill-down stack: one or more named lists.
#[derive(Clone, Debug)]
pub struct Level {
    pub title: String,
    pub sections: Vec<Section>,
    pub active: usize,
}

/// Name of the one-event list (Column, Value) that Enter on an event opens.
pub const RECORD: &str = "Record";

/// A named list inside a drill-down level.
#[derive(Clone, Debug)]
pub struct Section {
    pub name: String,
    pub table: TableState,
    /// Rows are raw events: Enter opens the full record of one.
    pub events: bool,
    /// Shown under the list, e.g. "first 2,000 of 9,120 events".
    pub note: Option<String>,
}

/// What the header shows about the loaded data.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub net_events: usize,
    pub vm_rows: usize,
    pub devices: usize,
    pub earliest: Option<Nanos>,
    pub latest: Option<Nanos>,
    pub now: Nanos,
    /// The GeoIP database's description, when one is loaded.
    pub geoip: Option<String>,
    pub ti_entries: usize,
    pub rejected: u64,
    /// Inputs that were not loaded at all.
    pub skipped: usize,
    /// One line per problem worth a toast: skipped files, first rejects, warnings.
    pub problems: Vec<String>,
    /// "loaded from snapshot …" when the tables came from the snapshot cache.
    pub snapshot: Option<String>,
}

/// Work `update` asks for; the runner hands it to the worker threads.
#[derive(Debug)]
pub enum Cmd {
    Run { hunt: HuntId, gen: u64, params: HuntParams },
    Drill { hunt: HuntId, gen: u64, params: HuntParams, output: Arc<HuntOutput>, row: usize },
    CancelLoad,
}
