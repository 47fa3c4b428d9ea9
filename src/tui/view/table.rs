//! The generic results table widget (hunt results and every drill-down list): only the shown
//! window of rows is formatted, so 100,000 rows scroll as fast as 10.

use super::{palette, safe_line, text_spans};
use crate::tui::app::{App, Focus, Prompt};
use crate::tui::table::{cell_at, display_cell, TableState};
use rarity::hunt::CellKind;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

const MAX_COL_WIDTH: usize = 48;
const GAP: usize = 2;
/// Room for the mark column at the left of each row.
const MARK_W: usize = 2;

pub fn render_table_pane(app: &App, frame: &mut Frame, area: Rect) {
    let tab = app.tab();
    let focused = app.focus == Focus::Table;
    let mut crumbs = vec![format!("{} · {}", tab.hunt.key(), tab.hunt.spec().summary)];
    crumbs.extend(tab.stack.iter().map(|l| l.title.clone()));
    if !tab.stack.is_empty() {
        crumbs[0] = tab.hunt.key().to_string();
    }
    let title = Line::from(vec![Span::raw(" "), Span::raw(crumbs.join(" › ")), Span::raw(" ")]);
    let border = if focused { palette::ACCENT } else { palette::DIM };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(Style::default().fg(border))
        .title(safe_line(
            &title.to_string(),
            area.width.saturating_sub(4) as usize,
            Style::default().add_modifier(Modifier::BOLD),
        ));
    let table = app.current_table();
    if let Some(t) = table {
        block = block.title_bottom(position_line(app, t));
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let mut lines: Vec<Line> = Vec::new();
    let width = inner.width as usize;
    match tab.stack.last() {
        Some(level) if level.sections.len() > 1 => {
            let mut spans = vec![];
            for (i, s) in level.sections.iter().enumerate() {
                let label = format!(" {} ({}) ", s.name, s.table.rows.len());
                let style = if i == level.active {
                    Style::default().fg(Color::Black).bg(palette::ACCENT).add_modifier(Modifier::BOLD)
                } else {
                    Style::default().fg(palette::MUTED)
                };
                spans.push(Span::styled(label, style));
                spans.push(Span::raw(" "));
            }
            spans.push(Span::styled("[ ] switch", Style::default().fg(palette::DIM)));
            lines.push(Line::from(spans));
        }
        Some(_) => {}
        None => {
            if let Some(banner) = tab.output.as_ref().and_then(|o| o.banner.as_ref()) {
                let style = Style::default().fg(Color::White).bg(palette::BANNER_BG).add_modifier(Modifier::BOLD);
                let mut l = safe_line(&format!(" ⚠ {banner} "), width, style);
                l.style = style;
                lines.push(l);
            }
        }
    }
    let editing_filter = match &app.prompt {
        Prompt::Filter(l) => Some(l),
        _ => None,
    };
    if let Some(t) = table {
        if editing_filter.is_some() || !t.filter.is_empty() {
            let mut spans = vec![Span::styled(" / ", Style::default().fg(Color::Black).bg(palette::MATCH))];
            spans.push(Span::raw(" "));
            match editing_filter {
                Some(l) => spans.extend(edit_spans(&l.text, l.cursor, width.saturating_sub(30))),
                None => spans.extend(text_spans(&t.filter, &[], width.saturating_sub(30), Style::default())),
            }
            spans.push(Span::styled(
                format!("   {} of {} rows match", t.view.len(), t.rows.len()),
                Style::default().fg(palette::MUTED),
            ));
            lines.push(Line::from(spans));
        }
    }

    let Some(t) = table else {
        let msg = match &tab.error {
            Some(e) => Line::from(Span::styled(format!(" {e}"), Style::default().fg(palette::ERROR))),
            None => Line::from(Span::styled(" computing…", Style::default().fg(palette::MUTED))),
        };
        lines.push(msg);
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    };
    let body_rows = (inner.height as usize).saturating_sub(lines.len() + 1);
    lines.extend(table_lines(t, width, body_rows, focused));
    if t.view.is_empty() {
        let why = if t.rows.is_empty() {
            match &tab.error {
                Some(e) => e.clone(),
                None => "no rows: nothing matches this hunt with these parameters".into(),
            }
        } else {
            "no rows match the filter (Esc clears it)".into()
        };
        lines.push(Line::from(Span::styled(format!(" {why}"), Style::default().fg(palette::MUTED))));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn position_line(app: &App, t: &TableState) -> Line<'static> {
    let mut parts =
        vec![if t.view.is_empty() { "0 rows".to_string() } else { format!("row {}/{}", t.cursor + 1, t.view.len()) }];
    if !t.marked.is_empty() {
        parts.push(format!("{} marked", t.marked.len()));
    }
    if let Some((c, desc)) = t.sort {
        parts.push(format!("sort {} {}", t.columns[c].name, if desc { "↓" } else { "↑" }));
    }
    if let Some(note) = app.current_section().and_then(|s| s.note.as_ref()) {
        parts.push(note.clone());
    }
    Line::from(Span::styled(format!(" {} ", parts.join(" · ")), Style::default().fg(palette::MUTED)))
}

/// The text of a line being edited with a block cursor.
pub fn edit_spans(text: &str, cursor: usize, width: usize) -> Vec<Span<'static>> {
    let before: String = text.chars().take(cursor).collect();
    let at: String = text.chars().skip(cursor).take(1).collect();
    let after: String = text.chars().skip(cursor + 1).collect();
    let mut spans = text_spans(&before, &[], width, Style::default());
    let cur_style = Style::default().add_modifier(Modifier::REVERSED);
    spans.push(Span::styled(if at.is_empty() { " ".to_string() } else { at }, cur_style));
    spans.extend(text_spans(&after, &[], width.saturating_sub(before.width() + 1), Style::default()));
    spans
}

/// Column widths for the rows shown: the widest of header and shown cells, capped.
fn column_widths(t: &TableState, shown: &[usize]) -> Vec<usize> {
    t.columns
        .iter()
        .enumerate()
        .map(|(c, col)| {
            let cells =
                shown.iter().map(|&r| crate::tui::sanitize::sanitize(&display_cell(cell_at(&t.rows[r], c))).width());
            cells.fold(col.name.width(), usize::max).min(MAX_COL_WIDTH)
        })
        .collect()
}

/// The first column to draw so the selected column fits in `width`.
fn first_column(widths: &[usize], selected: usize, width: usize) -> usize {
    let mut first = 0;
    while first < selected {
        let need: usize = widths[first..=selected].iter().map(|w| w + GAP).sum();
        if need <= width {
            break;
        }
        first += 1;
    }
    first
}

/// Header and shown rows of `t`, `rows` lines at most.
pub fn table_lines(t: &TableState, width: usize, rows: usize, focused: bool) -> Vec<Line<'static>> {
    let end = (t.offset + rows).min(t.view.len());
    let shown: Vec<usize> = t.view[t.offset.min(end)..end].to_vec();
    let widths = column_widths(t, &shown);
    let avail = width.saturating_sub(MARK_W);
    let first = first_column(&widths, t.col, avail);
    // Columns that fit from `first`; the last one gets whatever width is left.
    let mut cols = Vec::new();
    let mut used = 0;
    for (c, &w) in widths.iter().enumerate().skip(first) {
        if used >= avail {
            break;
        }
        let w = w.min(avail - used);
        cols.push((c, w));
        used += w + GAP;
    }
    let mut out = Vec::with_capacity(shown.len() + 1);
    let mut header = vec![Span::raw(" ".repeat(MARK_W))];
    for &(c, w) in &cols {
        let name = &t.columns[c].name;
        let arrow = match t.sort {
            Some((sc, desc)) if sc == c => {
                if desc {
                    "↓"
                } else {
                    "↑"
                }
            }
            _ => "",
        };
        let style = if c == t.col {
            Style::default().fg(Color::Black).bg(palette::ACTIVE_TAB).add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(palette::ACCENT).add_modifier(Modifier::BOLD)
        };
        let label = format!("{name}{arrow}");
        header.push(Span::styled(pad(&label, w, false), style));
        header.push(Span::raw(" ".repeat(GAP)));
    }
    out.push(Line::from(header));
    for (i, &r) in shown.iter().enumerate() {
        let pos = t.offset + i;
        let is_cursor = pos == t.cursor;
        let marked = t.marked.contains(&r);
        let mut base = Style::default();
        if marked {
            base = base.fg(palette::MARK);
        }
        if is_cursor {
            base = if focused {
                base.bg(palette::CURSOR_BG).add_modifier(Modifier::BOLD)
            } else {
                base.add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
            };
        }
        let matches = t.match_positions(r);
        let gutter = format!("{}{}", if is_cursor { "▶" } else { " " }, if marked { "●" } else { " " });
        let mut spans = vec![Span::styled(gutter, base.fg(if marked { palette::MARK } else { palette::ACCENT }))];
        for &(c, w) in &cols {
            let text = display_cell(cell_at(&t.rows[r], c));
            let numeric = matches!(t.columns[c].kind, CellKind::Int | CellKind::Time);
            let mut cell = text_spans(&text, &matches[c], w, base);
            let cw: usize = cell.iter().map(|s| s.content.width()).sum();
            let padding = Span::styled(" ".repeat(w.saturating_sub(cw)), base);
            if numeric && matches!(t.columns[c].kind, CellKind::Int) {
                cell.insert(0, padding);
            } else {
                cell.push(padding);
            }
            spans.extend(cell);
            spans.push(Span::styled(" ".repeat(GAP), base));
        }
        let mut line = Line::from(spans);
        if is_cursor && focused {
            line.style = Style::default().bg(palette::CURSOR_BG);
        }
        out.push(line);
    }
    out
}

fn pad(s: &str, w: usize, right: bool) -> String {
    let cut: String = text_spans(s, &[], w, Style::default()).iter().map(|s| s.content.as_ref()).collect();
    let fill = " ".repeat(w.saturating_sub(cut.width()));
    if right {
        format!("{fill}{cut}")
    } else {
        format!("{cut}{fill}")
    }
}
