//! The generic results table widget (hunt results and every drill-down list): only the shown
//! window of rows is formatted, so 100,000 rows scroll as fast as 10.

use super::{palette, safe_line, text_spans};
use crate::tui::app::{App, Focus, Prompt, VERDICT_COLUMN};
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
                let label = format!(" {} ({}) ", s.name, super::thousands(s.table.rows.len() as u64));
                let style = if i == level.active {
                    super::chosen(
                        app.no_color,
                        Style::default().fg(Color::Black).bg(palette::ACCENT).add_modifier(Modifier::BOLD),
                    )
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
        None => {}
    }
    if let Some(insight) = tab.stack.last().and_then(|l| l.insight.as_ref()) {
        lines.extend(super::cockpit::insight_lines(insight, width));
    }
    match tab.stack.last() {
        Some(_) => {}
        None => {
            if let Some(banner) = tab.output.as_ref().and_then(|o| o.banner.as_ref()) {
                let style = Style::default().fg(Color::White).bg(palette::BANNER_BG).add_modifier(Modifier::BOLD);
                let mut l = safe_line(&format!(" ⚠ {banner} "), width, style);
                l.style = style;
                lines.push(l);
            }
            if super::shows_why(app) {
                lines.push(super::cockpit::why_line(tab.selected_why(), width));
            }
        }
    }
    let editing_filter = match &app.prompt {
        Prompt::Filter(l) => Some(l),
        _ => None,
    };
    if let Some(t) = table {
        if editing_filter.is_some() || !t.filter.is_empty() {
            let mode = if t.fuzzy { " / fuzzy " } else { " / " };
            let mut spans = vec![Span::styled(mode, Style::default().fg(Color::Black).bg(palette::MATCH))];
            spans.push(Span::raw(" "));
            match editing_filter {
                Some(l) => spans.extend(edit_spans(&l.text, l.cursor, width.saturating_sub(30))),
                None => spans.extend(text_spans(&t.filter, &[], width.saturating_sub(30), Style::default())),
            }
            spans.push(Span::styled(
                format!(
                    "   {} of {} {} match{}",
                    t.view.len(),
                    t.rows.len(),
                    crate::tui::app::plural(t.rows.len(), "row"),
                    if editing_filter.is_some() {
                        "  (Ctrl-F: fuzzy on/off, column:value; Enter, then n/N: next/previous match)"
                    } else {
                        "  (n/N: next/previous match)"
                    }
                ),
                Style::default().fg(palette::MUTED),
            ));
            lines.push(Line::from(spans));
        }
    }

    let Some(t) = table else {
        let msg = match &tab.error {
            Some(e) => safe_line(&format!(" {e}"), usize::MAX, Style::default().fg(palette::ERROR)),
            None => Line::from(Span::styled(" computing…", Style::default().fg(palette::MUTED))),
        };
        lines.push(msg);
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    };
    let preview = super::preview_rows(app) as usize;
    let body_rows = (inner.height as usize).saturating_sub(lines.len() + 1 + preview);
    lines.extend(table_lines(t, width, body_rows, focused, app.no_color));
    if preview > 0 {
        let value = t.cursor_row().map(|r| display_cell(cell_at(&t.rows[r], 1))).unwrap_or_default();
        let name = t.cursor_row().map(|r| display_cell(cell_at(&t.rows[r], 0))).unwrap_or_default();
        let top = inner.y + inner.height.saturating_sub(preview as u16);
        let area = Rect::new(inner.x, top, inner.width, preview as u16);
        frame.render_widget(
            Paragraph::new(lines),
            Rect { height: inner.height.saturating_sub(preview as u16), ..inner },
        );
        render_value_preview(frame, area, &name, &value);
        return;
    }
    if t.view.is_empty() {
        let funnel = tab.funnel.as_ref().filter(|_| t.rows.is_empty() && tab.error.is_none() && tab.stack.is_empty());
        if let Some(f) = funnel {
            // Why the tab is empty: the funnel, with the step that removed everything marked.
            let head = " no rows: each step of the hunt with what passes it (▶ removed everything left)";
            lines.push(safe_line(head, width, Style::default().fg(palette::MUTED)));
            lines.extend(super::cockpit::funnel_lines(f, width));
        } else {
            let why = if t.rows.is_empty() {
                match &tab.error {
                    Some(e) => e.clone(),
                    None => "no rows: nothing matches this hunt with these parameters".into(),
                }
            } else {
                "no rows match the filter (Esc clears it)".into()
            };
            lines.push(safe_line(&format!(" {why}"), width, Style::default().fg(palette::MUTED)));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The whole of one value, wrapped, under a rule naming its column.
fn render_value_preview(frame: &mut Frame, area: Rect, name: &str, value: &str) {
    let width = area.width as usize;
    let rule = format!("── {name} ");
    let mut lines = vec![safe_line(
        &format!("{rule}{}", "─".repeat(width.saturating_sub(rule.chars().count()))),
        width,
        Style::default().fg(palette::DIM),
    )];
    // Wrap by display width after sanitizing, so placeholders count as what is drawn.
    let mut cur = String::new();
    let mut cur_w = 0;
    let room = (area.height as usize).saturating_sub(1);
    for piece in rarity::text::pieces(value) {
        if cur_w + piece.width > width.max(1) {
            lines.push(Line::from(std::mem::take(&mut cur)));
            cur_w = 0;
        }
        cur.push_str(&piece.text);
        cur_w += piece.width;
    }
    lines.push(Line::from(cur));
    if lines.len() > room + 1 {
        lines.truncate(room + 1);
        if let Some(last) = lines.last_mut() {
            last.spans.push(Span::styled(" …", Style::default().fg(palette::DIM)));
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn position_line(app: &App, t: &TableState) -> Line<'static> {
    let mut parts =
        vec![if t.view.is_empty() { "0 rows".to_string() } else { format!("row {}/{}", t.cursor + 1, t.view.len()) }];
    if t.group_first && !t.view.is_empty() {
        let groups = t.group_count();
        let name = t.columns.first().map(|c| c.name.as_str()).unwrap_or("group");
        parts.push(format!("{groups} {name}{}", if groups == 1 { "" } else { "s" }));
    }
    if !t.marked.is_empty() {
        parts.push(format!("{} marked", t.marked.len()));
    }
    if let Some((c, desc)) = t.sort {
        parts.push(format!("sort {} {}", t.columns[c].name, if desc { "↓" } else { "↑" }));
    }
    if let Some(note) = app.current_section().and_then(|s| s.note.as_ref()) {
        parts.push(note.clone());
    }
    // Column names come from the input files.
    safe_line(&format!(" {} ", parts.join(" · ")), usize::MAX, Style::default().fg(palette::MUTED))
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

/// Column widths for the rows shown: the widest of header and shown cells (uncapped).
fn column_widths(t: &TableState, shown: &[usize]) -> Vec<usize> {
    t.columns
        .iter()
        .enumerate()
        .map(|(c, col)| {
            let cells = shown
                .iter()
                .map(|&r| rarity::text::width(&rarity::text::sanitize(&display_cell(cell_at(&t.rows[r], c)))));
            // The sort arrow sits after the name.
            let header = col.name.width() + usize::from(t.sort.is_some_and(|(sc, _)| sc == c));
            cells.fold(header, usize::max)
        })
        .collect()
}

/// The columns to draw (index, width): the key column always (it says which row this is,
/// like a frozen spreadsheet column), then from the first scrolled column on so that the
/// selected one fits. The last drawn column gets whatever width is left.
fn visible_columns(widths: &[usize], selected: usize, width: usize) -> Vec<(usize, usize)> {
    let frozen = widths.first().map_or(0, |w| (w + GAP).min(width / 2));
    let rest = width.saturating_sub(frozen);
    let mut first = 1;
    while first < selected {
        let need: usize = widths[first..=selected].iter().map(|w| w + GAP).sum();
        if need <= rest {
            break;
        }
        first += 1;
    }
    let mut cols = Vec::new();
    let mut used = 0;
    for (c, &w) in widths.iter().enumerate().filter(|(c, _)| *c == 0 || *c >= first) {
        if used >= width {
            break;
        }
        let w = if c == 0 { w.min(frozen.saturating_sub(GAP)) } else { w.min(width - used) };
        cols.push((c, w));
        used += w + GAP;
    }
    cols
}

/// The view positions shown when `rows` rows fit.
fn shown_rows(t: &TableState, rows: usize) -> Vec<usize> {
    let end = (t.offset + rows).min(t.view.len());
    t.view[t.offset.min(end)..end].to_vec()
}

/// The columns drawn for `t` in `width` columns: (column, width), left to right after the mark
/// gutter, each followed by `GAP` spaces. Drawing and header clicks share it.
fn drawn_columns(t: &TableState, shown: &[usize], width: usize) -> Vec<(usize, usize)> {
    let widths = column_widths(t, shown);
    let avail = width.saturating_sub(MARK_W);
    let capped: Vec<usize> = widths.iter().map(|w| (*w).min(MAX_COL_WIDTH)).collect();
    let mut cols = visible_columns(&capped, t.col, avail);
    // The last column shown may use the room left over, up to its full width.
    let used: usize = cols.iter().map(|(_, w)| w + GAP).sum();
    if let Some((c, w)) = cols.last_mut() {
        *w += avail.saturating_sub(used).min(widths[*c].saturating_sub(*w));
    }
    cols
}

/// Which column's header a click `x` columns into the table's inner area hits.
pub fn column_at(t: &TableState, width: usize, rows: usize, x: usize) -> Option<usize> {
    let shown = shown_rows(t, rows);
    let mut pos = MARK_W;
    for (c, w) in drawn_columns(t, &shown, width) {
        if x >= pos && x < pos + w {
            return Some(c);
        }
        pos += w + GAP;
    }
    None
}

/// Header and shown rows of `t`, `rows` lines at most.
/// `plain`: `NO_COLOR`, so the selected column and the cursor row are in reverse video.
pub fn table_lines(t: &TableState, width: usize, rows: usize, focused: bool, plain: bool) -> Vec<Line<'static>> {
    let shown = shown_rows(t, rows);
    let cols = drawn_columns(t, &shown, width);
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
            super::chosen(plain, Style::default().fg(Color::Black).bg(palette::ACTIVE_TAB).add_modifier(Modifier::BOLD))
        } else {
            Style::default().fg(palette::ACCENT).add_modifier(Modifier::BOLD)
        };
        let label = format!("{name}{arrow}");
        let right = t.columns[c].kind == CellKind::Int;
        header.push(Span::styled(pad(&label, w, right), style));
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
            base = if focused && plain {
                base.add_modifier(Modifier::BOLD | Modifier::REVERSED)
            } else if focused {
                base.bg(palette::CURSOR_BG).add_modifier(Modifier::BOLD)
            } else {
                base.add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
            };
        }
        let matches = t.match_positions(r);
        let gutter = format!("{}{}", if is_cursor { "▶" } else { " " }, if marked { "●" } else { " " });
        let mut spans = vec![Span::styled(gutter, base.fg(if marked { palette::MARK } else { palette::ACCENT }))];
        let continues = t.continues_group(pos);
        for &(c, w) in &cols {
            // A group's key is drawn once, on its first row.
            let text = if c == 0 && continues { String::new() } else { display_cell(cell_at(&t.rows[r], c)) };
            // Counts line up on their last digit.
            let numeric = t.columns[c].kind == CellKind::Int;
            let style = if t.columns[c].name == VERDICT_COLUMN { verdict_style(&text, base) } else { base };
            let mut cell = text_spans(&text, &matches[c], w, style);
            let cw: usize = cell.iter().map(|s| s.content.width()).sum();
            let padding = Span::styled(" ".repeat(w.saturating_sub(cw)), base);
            if numeric {
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

/// A verdict cell's colour. The cell's word says the same, so nothing is lost under `NO_COLOR`.
fn verdict_style(text: &str, base: Style) -> Style {
    match text {
        "malicious" => base.fg(palette::ERROR).add_modifier(Modifier::BOLD),
        "suspicious" => base.fg(palette::WARN),
        "benign" => base.fg(palette::MARK),
        _ => base.fg(palette::DIM),
    }
}

/// `s` (sanitized, cut) padded to `w` columns, on the left when `right`-aligned.
fn pad(s: &str, w: usize, right: bool) -> String {
    rarity::text::pad(s, w, right)
}

#[cfg(test)]
mod tests {
    use super::visible_columns;

    #[test]
    fn key_column_stays_while_scrolling_right() {
        let widths = [10, 20, 20, 20, 20];
        assert_eq!(visible_columns(&widths, 0, 60), vec![(0, 10), (1, 20), (2, 20), (3, 4)]);
        let cols: Vec<usize> = visible_columns(&widths, 4, 60).iter().map(|c| c.0).collect();
        assert_eq!(cols, vec![0, 3, 4]);
        // A very wide key column takes at most half the width.
        assert_eq!(visible_columns(&[100, 5], 1, 40)[0], (0, 18));
    }
}
