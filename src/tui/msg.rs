//! Messages into `App::update` (from keys, the mouse, the terminal and background jobs) and the
//! commands `update` asks the runner to carry out (background jobs, clipboard writes).

use super::table::TableState;
use rarity::case::{CaseFile, Verdict};
use rarity::hunt::{
    DrillOutput, FacetKind, FacetValue, Funnel, HuntId, HuntOutput, HuntParams, ParamValue, Pivot, Timeline,
};
use rarity::ingest::Progress;
use rarity::model::tables::TableKind;
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
    /// Filter prompt: switch substring / fuzzy matching (Ctrl-F).
    ToggleFuzzy,
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
    /// Add the remote IP of the current row to this hunt's IP exclusion list.
    ExcludeIp,
    /// Same with its /24 (IPv6: /64).
    ExcludeNet,
    /// Add the process of the current row to this hunt's process list, where it has one.
    AddBrowser,
    /// Add the domain of the current row to this hunt's domain list, where it has one.
    AddDomain,
    /// Every network event with the selected cell's value.
    Pivot,
    /// Next / previous cell matching the filter (`n` / `N`).
    NextMatch,
    PrevMatch,
    /// Copy the selected cell (`y`) to the clipboard.
    CopyCell,
    /// Copy the cursor row (`Y`), tab-separated.
    CopyRow,
    /// Open the current hunt as KQL.
    ShowKql,
    /// KQL view: copy the query to the clipboard.
    CopyKql,
    /// KQL view: switch between the Sentinel and Defender XDR forms.
    SwitchDialect,
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
    /// A CSV export finished.
    Exported(super::jobs::ExportDone),
    /// Saving the tuning finished.
    ConfigSaved {
        desc: String,
        /// `Ok(Some(note))`: saved, and the note says what the save had to do first (a file
        /// that had gone corrupt was backed up).
        result: Result<Option<String>, String>,
    },
    /// A key that means nothing where it was pressed.
    Unbound(String),
    /// `v`: the next key sets the verdict of the selected (or marked) findings.
    StartVerdict,
    SetVerdict(Verdict),
    /// Hide / show the findings judged benign.
    ToggleHideBenign,
    Undo,
    Redo,
    /// The case writer saved: the merged case (this session's and any other writer's
    /// entries), or why it could not.
    CaseSaved(Result<CaseSaved, String>),
    /// The funnel of recompute `gen` (follows its `HuntDone`).
    FunnelDone {
        hunt: HuntId,
        gen: u64,
        funnel: Funnel,
    },
    SweepDone(SweepDone),
    /// Why row `row` of recompute `gen` is a result (`Engine::why`).
    WhyDone {
        hunt: HuntId,
        gen: u64,
        row: usize,
        line: String,
    },
}

/// A finished case-file save.
#[derive(Debug)]
pub struct CaseSaved {
    pub merged: CaseFile,
    /// Something to tell the user although the save succeeded (a corrupt file moved aside).
    pub warning: Option<String>,
}

/// A finished sensitivity sweep of one parameter.
#[derive(Debug)]
pub struct SweepDone {
    pub hunt: HuntId,
    pub key: &'static str,
    /// The parameters it was computed with (the app drops it when they are no longer current).
    pub params: HuntParams,
    pub values: Vec<ParamValue>,
    pub result: Result<Vec<usize>, String>,
}

/// What a drill-down shows above its lists: when its events happened and, for a finding, why
/// the row is there.
#[derive(Clone, Debug)]
pub struct Insight {
    pub timeline: Timeline,
    pub why: Option<String>,
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
    pub insight: Option<Insight>,
}

/// Name of the one-event list (Column, Value) that Enter on an event opens.
pub const RECORD: &str = "Record";

/// A named list inside a drill-down level.
#[derive(Clone, Debug)]
pub struct Section {
    pub name: String,
    pub table: TableState,
    /// What the rows are, and what Enter on one opens.
    pub kind: SectionKind,
    /// Shown under the list.
    pub note: Option<String>,
}

#[cfg(test)]
impl Section {
    pub fn is_events(&self) -> bool {
        matches!(self.kind, SectionKind::Events { .. })
    }
}

/// What a drill-down list holds; the engine's typed handles for each row, so Enter asks the
/// engine for exact matches (never a text filter over the shown cells).
#[derive(Clone, Debug)]
pub enum SectionKind {
    /// Summary values of a drill-down: `values[i]` is table row i's value; Enter lists the
    /// drilled events holding it.
    Facet { drill: Arc<DrillOutput>, facet: FacetKind, values: Vec<FacetValue> },
    /// Events: `rows[i]` is the dataset row of table row i; Enter opens its full record.
    Events { table: TableKind, rows: Vec<usize> },
    /// One event's columns (Column, Value).
    Record,
}

/// A drill-down the worker computes.
#[derive(Clone, Debug)]
pub enum DrillRequest {
    /// A result row: its events and their summaries.
    Finding { output: Arc<HuntOutput>, row: usize },
    /// A summary value: the drilled events holding it.
    Facet { drill: Arc<DrillOutput>, facet: FacetKind, value: FacetValue },
    /// Every network event with this value.
    Pivot { pivot: Pivot, value: String },
    /// One event with every original column.
    Record { table: TableKind, row: usize },
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
    /// One line per source whose events all end before every hunt's window at `now`
    /// (`hunt::clock`), with the `--now` to try; also among `problems`.
    pub clock: Vec<String>,
    /// "loading stopped: …" when Esc stopped the load and the files finished so far opened.
    pub stopped: Option<String>,
}

/// Work `update` asks for; the runner hands it to the worker threads.
#[derive(Debug)]
pub enum Cmd {
    Run {
        hunt: HuntId,
        gen: u64,
        params: HuntParams,
    },
    Drill {
        hunt: HuntId,
        gen: u64,
        req: DrillRequest,
    },
    /// File-system work for the I/O thread.
    Io(super::jobs::IoJob),
    /// Put text on the clipboard: the runner writes the OSC 52 escape to the terminal.
    CopyToClipboard(String),
    /// Result counts with `key` at each of `values` (the sensitivity chart).
    Sweep {
        hunt: HuntId,
        params: HuntParams,
        key: &'static str,
        values: Vec<ParamValue>,
    },
    /// Merge `case` into the case file at `path` (on the case writer thread).
    SaveCase {
        path: std::path::PathBuf,
        case: CaseFile,
    },
    CancelLoad,
    /// The why-this-row line of result `row` of recompute `gen` (the selected result).
    Why {
        hunt: HuntId,
        gen: u64,
        output: Arc<HuntOutput>,
        row: usize,
    },
    /// Bytes for the terminal itself: an OSC 52 clipboard request (`app::osc52`).
    Terminal(Vec<u8>),
}
