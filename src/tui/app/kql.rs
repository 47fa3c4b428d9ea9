//! The KQL view (`K`): the current hunt with its live tuning as one Kusto query, written by
//! the engine (`Hunt::kql`) when the view opens and when the dialect changes, never per frame.
//! From it the query goes to the clipboard (OSC 52, written by the runner) or to a file (the
//! CSV export's path prompt and overwrite rules, on the I/O thread).

use super::{App, ExportTarget, LineEdit, Prompt};
use crate::tui::jobs::IoJob;
use crate::tui::msg::{Cmd, Msg};
use rarity::hunt::kql::{Dialect, KqlOptions, TiSource};
use rarity::hunt::HuntId;
use std::path::Path;

/// The dialect the view opens in first: Sentinel, the one every hunt has a form in (Defender
/// XDR has no `VMConnection`).
pub const FIRST_DIALECT: Dialect = Dialect::Sentinel;

/// What the KQL view shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KqlView {
    pub hunt: HuntId,
    pub dialect: Dialect,
    /// The query, or why the hunt has no form in this dialect.
    pub query: Result<String, String>,
    /// The reference time `RefTime` is pinned to (the dataset's).
    pub now: rarity::model::Nanos,
}

impl KqlView {
    /// The file name the write prompt proposes: `rarity-<hunt>-<dialect>.kql`.
    pub fn file_name(&self) -> String {
        format!("rarity-{}-{}.kql", self.hunt.key(), self.dialect.name())
    }
}

fn other(d: Dialect) -> Dialect {
    match d {
        Dialect::Sentinel => Dialect::Defender,
        Dialect::Defender => Dialect::Sentinel,
    }
}

impl App {
    /// Ask the engine for the current tab's query: its live parameters, the dataset's
    /// reference time, IPsum for threat intel (the query then needs no loaded feed).
    fn kql_view(&self, dialect: Dialect) -> KqlView {
        let tab = self.tab();
        let now = self.summary.now;
        let opts = KqlOptions {
            dialect,
            ti_source: TiSource::Ipsum,
            now: Some(now),
            written: Some((self.wall_clock)()),
            ..KqlOptions::default()
        };
        let query = tab.hunt.hunt().kql(&tab.params, &opts, None).map_err(|e| e.to_string());
        KqlView { hunt: tab.hunt, dialect, query, now }
    }

    /// `K`: open the view in the dialect used last.
    pub(super) fn open_kql(&mut self) {
        let dialect = self.kql.as_ref().map_or(FIRST_DIALECT, |v| v.dialect);
        self.kql = Some(self.kql_view(dialect));
        self.overlay_scroll = 0;
        self.prompt = Prompt::Kql;
    }

    /// A message while the view is open.
    pub(super) fn on_kql_msg(&mut self, msg: Msg) {
        let Some(view) = &self.kql else {
            self.prompt = Prompt::None;
            return;
        };
        let page = crate::tui::view::kql_body_height(self).max(1);
        let max = crate::tui::view::kql_scroll_max(self);
        let scroll = |s: u16, d: i32| (i32::from(s) + d).clamp(0, i32::from(max)) as u16;
        match msg {
            Msg::Back | Msg::ShowKql => self.prompt = Prompt::None,
            Msg::Up => self.overlay_scroll = scroll(self.overlay_scroll, -1),
            Msg::Down => self.overlay_scroll = scroll(self.overlay_scroll, 1),
            Msg::PageUp => self.overlay_scroll = scroll(self.overlay_scroll, -i32::from(page)),
            Msg::PageDown => self.overlay_scroll = scroll(self.overlay_scroll, i32::from(page)),
            Msg::Scroll(n) => {
                self.overlay_scroll = scroll(self.overlay_scroll, n.clamp(-1000, 1000) as i32);
            }
            Msg::Home => self.overlay_scroll = 0,
            Msg::End => self.overlay_scroll = max,
            Msg::SwitchDialect => {
                let dialect = other(view.dialect);
                self.kql = Some(self.kql_view(dialect));
                self.overlay_scroll = 0;
                self.info(format!("KQL dialect: {}", dialect.name()));
            }
            Msg::CopyKql => match &view.query {
                Ok(q) => {
                    let n = q.len();
                    self.cmds.push(Cmd::CopyToClipboard(q.clone()));
                    // The terminal never says whether it took it: name what it needs.
                    let bytes = super::plural(n, "byte");
                    self.info(format!("copied {n} {bytes} of KQL with OSC 52 (tmux: set-clipboard on)"));
                }
                Err(_) => self.warn(format!("nothing to copy: {} has no {} form", view.hunt, view.dialect.name())),
            },
            Msg::StartExport => match &view.query {
                Ok(_) => {
                    let line = LineEdit::new(&view.file_name());
                    self.prompt = Prompt::Export { line, error: None, target: ExportTarget::Kql };
                }
                Err(_) => self.warn(format!("nothing to write: {} has no {} form", view.hunt, view.dialect.name())),
            },
            Msg::Unbound(key) => self.info(format!("{key} does nothing in the KQL view (Esc closes it)")),
            _ => {}
        }
    }

    /// Ask the I/O thread to write the view's query to `path`; the view stays open.
    pub(super) fn write_kql(&mut self, path: &Path, overwrite: bool) {
        self.prompt = Prompt::Kql;
        let Some(Ok(text)) = self.kql.as_ref().map(|v| &v.query) else { return };
        let (path, text) = (path.to_path_buf(), text.clone());
        self.info(format!("writing {}…", path.display()));
        self.cmds.push(Cmd::Io(IoJob::WriteKql { path, text, overwrite }));
    }
}
