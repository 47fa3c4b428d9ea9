//! Drawing the app: one `render` entry that reads `App` and changes nothing, plus the pure
//! layout functions `update` shares for mouse hit-testing and page sizes.

mod cockpit;
mod overlay;
mod panel;
pub(crate) mod table;
mod top;

use super::app::{App, Phase, Prompt};
use rarity::text;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

/// Smallest terminal the layout works in.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 15;
/// From this width on, the parameter panel is always shown next to the table.
pub const PANEL_ALWAYS_WIDTH: u16 = 110;
const PANEL_WIDTH: u16 = 42;

/// Header (1) + tabs (1) above the body; status (1) + hints (1) below it.
const TOP_ROWS: u16 = 2;
const BOTTOM_ROWS: u16 = 2;

pub(crate) mod palette {
    use ratatui::style::Color;
    pub const ACCENT: Color = Color::Cyan;
    pub const ACTIVE_TAB: Color = Color::Yellow;
    pub const CURSOR_BG: Color = Color::Rgb(48, 58, 82);
    pub const MUTED: Color = Color::Gray;
    pub const DIM: Color = Color::DarkGray;
    pub const MARK: Color = Color::Green;
    pub const MATCH: Color = Color::LightYellow;
    pub const WARN: Color = Color::Yellow;
    pub const ERROR: Color = Color::LightRed;
    pub const BANNER_BG: Color = Color::Red;
}

/// The screen split into its regions.
pub struct Areas {
    pub header: Rect,
    pub tabs: Rect,
    pub table: Rect,
    pub panel: Option<Rect>,
    pub status: Rect,
    pub hints: Rect,
}

pub fn areas(app: &App, area: Rect) -> Areas {
    let [header, tabs, body, status, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let (table, panel) = if app.panel_visible() {
        let w = PANEL_WIDTH.min(body.width / 2);
        let [t, p] = Layout::horizontal([Constraint::Min(1), Constraint::Length(w)]).areas(body);
        (t, Some(p))
    } else {
        (body, None)
    };
    Areas { header, tabs, table, panel, status, hints }
}

/// The results level with a row selected: a why-this-row line sits above the table.
pub fn shows_why(app: &App) -> bool {
    let tab = app.tab();
    tab.stack.is_empty() && tab.table.as_ref().is_some_and(|t| t.cursor_row().is_some())
}

/// Lines inside the table's frame above the column header (banner, drill lists, filter).
fn table_extra_rows(app: &App) -> u16 {
    let tab = app.tab();
    let mut n = 0;
    match tab.stack.last() {
        Some(level) => {
            n += u16::from(level.sections.len() > 1) + level.insight.as_ref().map_or(0, cockpit::insight_rows)
        }
        None => {
            n += u16::from(tab.output.as_ref().is_some_and(|o| o.banner.is_some()));
            n += u16::from(shows_why(app));
        }
    }
    let filtering =
        matches!(app.prompt, Prompt::Filter(_)) || app.current_table().is_some_and(|t| !t.filter.is_empty());
    n + u16::from(filtering)
}

/// Lines under a full-record view that show the selected value whole (values are often
/// longer than a column: command lines, XML event data).
pub const PREVIEW_ROWS: u16 = 8;

/// Rows taken by the value preview under the current table.
pub fn preview_rows(app: &App) -> u16 {
    let is_record = app.current_section().is_some_and(|s| s.name == super::msg::RECORD);
    if is_record && app.size.1 >= MIN_HEIGHT + PREVIEW_ROWS {
        PREVIEW_ROWS
    } else {
        0
    }
}

/// First screen row of the table body and how many rows it shows.
fn table_body(app: &App) -> (u16, u16) {
    let (_, h) = app.size;
    let body_h = h.saturating_sub(TOP_ROWS + BOTTOM_ROWS);
    let extra = table_extra_rows(app);
    // Frame border (2) + column header (1).
    let rows = body_h.saturating_sub(3 + extra + preview_rows(app));
    (TOP_ROWS + 1 + extra + 1, rows)
}

/// Rows of the current table that fit on screen (page size for PgUp/PgDn).
pub fn table_body_height(app: &App) -> usize {
    table_body(app).1 as usize
}

/// The tab labels as drawn, in order: the first of these that fits: full names with "N
/// unreviewed", full names with `rows/unreviewed?`, short names with `rows/unreviewed?`, short
/// names with the row count only.
pub fn tab_labels(app: &App) -> Vec<String> {
    let tries = [(false, Unreviewed::Long), (false, Unreviewed::Short), (true, Unreviewed::Short)];
    for (short, unreviewed) in tries {
        let l = labels(app, short, unreviewed);
        if l.iter().map(|l| l.width() + 1).sum::<usize>() <= app.size.0 as usize {
            return l;
        }
    }
    labels(app, true, Unreviewed::None)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Unreviewed {
    Long,
    Short,
    None,
}

fn labels(app: &App, short: bool, unreviewed: Unreviewed) -> Vec<String> {
    app.tabs
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let count = match (&t.error, t.count()) {
                (Some(_), _) => "!".to_string(),
                (None, Some(n)) if !t.computing() => n.to_string(),
                (None, Some(n)) => format!("{n}…"),
                (None, None) => "…".to_string(),
            };
            // How many of the findings still wait for a verdict.
            let count = match (t.error.is_none(), t.unreviewed, unreviewed) {
                (true, Some(u), Unreviewed::Long) => format!("{count} · {u} unreviewed"),
                (true, Some(u), Unreviewed::Short) => format!("{count}/{u}?"),
                _ => count,
            };
            let title =
                if short { t.hunt.spec().title.split(' ').next().unwrap_or_default() } else { t.hunt.spec().title };
            // Tuned tabs say so: their results are not the defaults' (issue 8.13).
            let tuned = if t.tuned() > 0 { "*" } else { "" };
            let title = format!("{title}{tuned}");
            if short {
                format!(" {} {title} {count} ", i + 1)
            } else {
                format!(" {} {title} ({count}) ", i + 1)
            }
        })
        .collect()
}

/// Which tab a click at (x, y) hits.
pub fn tab_at(app: &App, x: u16, y: u16) -> Option<usize> {
    if y != 1 || !matches!(app.phase, Phase::Ready) {
        return None;
    }
    let mut pos = 0u16;
    for (i, label) in tab_labels(app).iter().enumerate() {
        let w = label.width() as u16;
        if x >= pos && x < pos + w {
            return Some(i);
        }
        pos += w + 1;
    }
    None
}

/// Which parameter-panel line (index into `panel_lines`) a click at (x, y) hits.
pub fn panel_line_at(app: &App, x: u16, y: u16) -> Option<usize> {
    if !matches!(app.phase, Phase::Ready) {
        return None;
    }
    let panel = areas(app, Rect::new(0, 0, app.size.0, app.size.1)).panel?;
    let inner_top = panel.y + 1;
    let inner_h = panel.height.saturating_sub(2);
    if x <= panel.x || x >= panel.right().saturating_sub(1) || y < inner_top || y >= inner_top + inner_h {
        return None;
    }
    let tab = app.tab();
    // With focus elsewhere the panel is drawn unscrolled (no cursor line to keep in view).
    let cursor = if app.focus == super::app::Focus::Params { tab.panel_cursor } else { 0 };
    let line = panel::panel_scroll(cursor, inner_h as usize) + (y - inner_top) as usize;
    (line < super::app::panel_lines(&tab.params).len()).then_some(line)
}

/// Which column header of the current table a click at (x, y) hits.
pub fn header_column_at(app: &App, x: u16, y: u16) -> Option<usize> {
    if !matches!(app.phase, Phase::Ready) {
        return None;
    }
    let (top, rows) = table_body(app);
    let t = app.current_table()?;
    let area = areas(app, Rect::new(0, 0, app.size.0, app.size.1)).table;
    // Inside the frame: one column of border on each side.
    let inner_x = x.checked_sub(area.x + 1)?;
    let width = area.width.saturating_sub(2);
    if y + 1 != top || inner_x >= width {
        return None;
    }
    table::column_at(t, width as usize, rows as usize, inner_x as usize)
}

/// Which shown row of the table a click on screen row `y` hits (0 = first shown row).
pub fn table_row_at(app: &App, y: u16) -> Option<usize> {
    let (top, rows) = table_body(app);
    let t = app.current_table()?;
    let pos = y.checked_sub(top).filter(|p| *p < rows)? as usize;
    (t.offset + pos < t.view.len()).then_some(pos)
}

/// Draw the whole app.
pub fn render(app: &App, frame: &mut Frame) {
    render_app(app, frame);
    if app.no_color {
        strip_colors(frame);
    }
}

fn render_app(app: &App, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        overlay::render_too_small(frame, area);
        return;
    }
    match &app.phase {
        Phase::Loading(p) => {
            overlay::render_progress(frame, area, p, app.cancelling);
            if app.prompt == Prompt::ConfirmStopLoading {
                overlay::render_stop_loading(frame, area, p);
            }
            return;
        }
        Phase::Failed(e) => return overlay::render_failed(frame, area, e),
        Phase::Ready => {}
    }
    let a = areas(app, area);
    top::render_header(app, frame, a.header);
    top::render_tabs(app, frame, a.tabs);
    table::render_table_pane(app, frame, a.table);
    if let Some(p) = a.panel {
        panel::render_panel(app, frame, p);
    }
    top::render_status(app, frame, a.status);
    top::render_hints(app, frame, a.hints);
    render_prompt(app, frame, area);
}

/// `NO_COLOR`: every cell drawn in the terminal's own colours (modifiers stay).
fn strip_colors(frame: &mut Frame) {
    for cell in frame.buffer_mut().content.iter_mut() {
        cell.set_fg(Color::Reset).set_bg(Color::Reset);
    }
}

/// The style of the one chosen item among several (the active tab, the selected column, the
/// active drill-down list): `colored`, or reverse video under `NO_COLOR`.
pub(crate) fn chosen(plain: bool, colored: Style) -> Style {
    if plain {
        Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    } else {
        colored
    }
}

fn render_prompt(app: &App, frame: &mut Frame, area: Rect) {
    match &app.prompt {
        Prompt::Help => overlay::render_help(frame, area, app.overlay_scroll),
        Prompt::LoadReport => overlay::render_load_report(app, frame, area),
        Prompt::Kql => {
            if let Some(v) = &app.kql {
                overlay::render_kql(v, frame, area, app.overlay_scroll);
            }
        }
        Prompt::Export { line, error, target } => {
            render_kql_under(app, frame, area, *target);
            overlay::render_export(app, frame, area, line, error.as_deref(), *target)
        }
        Prompt::ConfirmOverwrite { path, target } => {
            render_kql_under(app, frame, area, *target);
            overlay::render_confirm(
                frame,
                area,
                "File exists",
                &format!("{} already exists. Overwrite it?", path.display()),
            )
        }
        Prompt::ConfirmReset => overlay::render_confirm(
            frame,
            area,
            "Reset",
            &format!("Reset every {} parameter to its default?", app.tab().hunt.key()),
        ),
        Prompt::ConfirmExclude { question, .. } => {
            overlay::render_confirm(frame, area, "Add to this hunt's list?", &format!("{question} ?"))
        }
        Prompt::None
        | Prompt::Filter(_)
        | Prompt::Edit { .. }
        | Prompt::Verdict
        | Prompt::Note { .. }
        | Prompt::ConfirmStopLoading => {}
    }
}

/// The KQL view stays drawn under the prompts that write its query.
fn render_kql_under(app: &App, frame: &mut Frame, area: Rect, target: super::app::ExportTarget) {
    if let (super::app::ExportTarget::Kql, Some(v)) = (target, &app.kql) {
        overlay::render_kql(v, frame, area, app.overlay_scroll);
    }
}

/// Rows of the KQL view's query that fit on screen (page size for PgUp/PgDn).
pub fn kql_body_height(app: &App) -> u16 {
    overlay::kql_areas(Rect::new(0, 0, app.size.0, app.size.1)).body.height
}

/// The last first row the KQL view can scroll to (0 when the query fits, or there is none).
pub fn kql_scroll_max(app: &App) -> u16 {
    let Some(Ok(q)) = app.kql.as_ref().map(|v| &v.query) else { return 0 };
    let body = overlay::kql_areas(Rect::new(0, 0, app.size.0, app.size.1)).body;
    let rows = overlay::kql_rows(q, body.width as usize).len();
    u16::try_from(rows.saturating_sub(body.height as usize)).unwrap_or(u16::MAX)
}

/// Untrusted text as spans: sanitized, cut to `width` columns with `…`, and the chars at
/// `matches` (char positions in the original text) highlighted.
pub fn text_spans(text: &str, matches: &[usize], width: usize, base: Style) -> Vec<Span<'static>> {
    let hl = base.fg(palette::MATCH).add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut used = 0usize;
    let mut cur = String::new();
    let mut cur_hl = false;
    let total: usize = text::width(&text::sanitize(text));
    let limit = if total > width { width.saturating_sub(1) } else { width };
    for piece in text::pieces(text) {
        if used + piece.width > limit {
            break;
        }
        used += piece.width;
        let is_hl = matches.iter().any(|&i| piece.covers(i));
        if is_hl != cur_hl && !cur.is_empty() {
            spans.push(Span::styled(std::mem::take(&mut cur), if cur_hl { hl } else { base }));
        }
        cur_hl = is_hl;
        cur.push_str(&piece.text);
    }
    if !cur.is_empty() {
        spans.push(Span::styled(cur, if cur_hl { hl } else { base }));
    }
    if total > width && width > 0 {
        spans.push(Span::styled("…", base.fg(palette::DIM)));
    }
    spans
}

/// Sanitized text cut to `width` (no highlights).
pub fn safe_line(text: &str, width: usize, style: Style) -> Line<'static> {
    Line::from(text_spans(text, &[], width, style))
}

/// Counts are formatted by the engine, so the CLI and the TUI agree.
pub use rarity::model::thousands;

fn key_style() -> Style {
    Style::default().fg(Color::Black).bg(palette::ACCENT)
}
