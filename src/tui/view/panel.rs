//! The parameter panel: every parameter of the current hunt with its value, list items with
//! their on/off state, the line being edited and its inline error.

use super::table::edit_spans;
use super::{palette, safe_line, text_spans};
use crate::tui::app::{panel_lines, App, EditTarget, Focus, PanelLine, Prompt};
use rarity::hunt::ParamValue;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph};
use ratatui::Frame;

pub fn render_panel(app: &App, frame: &mut Frame, area: Rect) {
    let tab = app.tab();
    let focused = app.focus == Focus::Params;
    let changed = tab.tuned();
    let title = if changed > 0 { format!(" Parameters ({changed} changed) ") } else { " Parameters ".to_string() };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(Style::default().fg(if focused { palette::ACCENT } else { palette::DIM }))
        .title(Span::styled(title, Style::default().add_modifier(Modifier::BOLD)))
        .title_bottom(Span::styled(
            if focused { " Esc/p: table " } else { " p: edit " },
            Style::default().fg(palette::MUTED),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let params = &tab.params;
    let defaults = &tab.defaults;
    let editing = match &app.prompt {
        Prompt::Edit { target, line, error } => Some((*target, line, error.as_deref())),
        _ => None,
    };
    let mut lines: Vec<Line> = Vec::new();
    let mut cursor_line = 0;
    let all = panel_lines(params);
    for (n, pl) in all.iter().enumerate() {
        let is_cursor = focused && n == tab.panel_cursor;
        if is_cursor {
            cursor_line = lines.len();
        }
        let sel = if is_cursor {
            Style::default().bg(palette::CURSOR_BG).add_modifier(Modifier::BOLD)
        } else {
            Style::default()
        };
        let edit_here = editing.filter(|(t, _, _)| match (t, pl) {
            (EditTarget::Scalar(i), PanelLine::Param(j)) => i == j,
            (EditTarget::Item(i, a), PanelLine::Item(j, b)) => i == j && a == b,
            (EditTarget::NewItem(i), PanelLine::Add(j)) => i == j,
            _ => false,
        });
        let mut line = match *pl {
            PanelLine::Param(i) => {
                let spec = params.specs()[i];
                let v = &params.values[i];
                let is_default = *v == defaults.values[i];
                let key_style = sel.fg(if is_default { palette::ACCENT } else { palette::ACTIVE_TAB });
                let mut spans =
                    vec![Span::styled(format!("{}{}", if is_cursor { "▶" } else { " " }, spec.key), key_style)];
                match v {
                    ParamValue::List(items) => {
                        let on = items.iter().filter(|x| x.enabled).count();
                        spans.push(Span::styled(format!("  {on}/{} on", items.len()), sel.fg(palette::MUTED)));
                    }
                    _ => {
                        spans.push(Span::styled(" = ", sel.fg(palette::DIM)));
                        if let Some((_, l, _)) = edit_here {
                            spans.extend(edit_spans(&l.text, l.cursor, width.saturating_sub(spec.key.len() + 4)));
                        } else {
                            let hint = if matches!(v, ParamValue::Bool(_)) { "" } else { "  ◂▸" };
                            spans.push(Span::styled(v.to_text(), sel.add_modifier(Modifier::BOLD)));
                            if is_cursor {
                                spans.push(Span::styled(hint, sel.fg(palette::DIM)));
                            }
                        }
                        if !is_default {
                            spans.push(Span::styled(format!("  ({})", spec.default), sel.fg(palette::DIM)));
                        }
                    }
                }
                Line::from(spans)
            }
            PanelLine::Item(i, j) => {
                let ParamValue::List(items) = &params.values[i] else { continue };
                let item = &items[j];
                let (mark, mstyle) =
                    if item.enabled { ("[x] ", sel.fg(palette::MARK)) } else { ("[ ] ", sel.fg(palette::DIM)) };
                let mut spans =
                    vec![Span::styled(if is_cursor { " ▶ " } else { "   " }, sel), Span::styled(mark, mstyle)];
                match edit_here {
                    Some((_, l, _)) => spans.extend(edit_spans(&l.text, l.cursor, width.saturating_sub(8))),
                    None => {
                        let st =
                            if item.enabled { sel } else { sel.fg(palette::DIM).add_modifier(Modifier::CROSSED_OUT) };
                        spans.extend(text_spans(&item.text, &[], width.saturating_sub(8), st));
                    }
                }
                Line::from(spans)
            }
            PanelLine::Add(_) => match edit_here {
                Some((_, l, _)) => {
                    let mut spans = vec![Span::styled("   +   ", sel.fg(palette::MARK))];
                    spans.extend(edit_spans(&l.text, l.cursor, width.saturating_sub(8)));
                    Line::from(spans)
                }
                None => Line::from(Span::styled(
                    if is_cursor { " ▶ + add…" } else { "   + add…" },
                    sel.fg(if is_cursor { Color::Reset } else { palette::DIM }),
                )),
            },
        };
        if is_cursor {
            line.style = Style::default().bg(palette::CURSOR_BG);
        }
        lines.push(line);
        if let Some((_, _, Some(err))) = edit_here {
            // The whole message: it says what the value should look like.
            for (n, part) in rarity::text::wrap(err, width.saturating_sub(6)).iter().enumerate() {
                let lead = if n == 0 { "   ✗ " } else { "     " };
                lines.push(safe_line(&format!("{lead}{part}"), width, Style::default().fg(palette::ERROR)));
            }
        }
    }
    // Help for the parameter under the cursor, below the list.
    if let Some(PanelLine::Param(i) | PanelLine::Item(i, _) | PanelLine::Add(i)) = all.get(tab.panel_cursor) {
        let spec = params.specs()[*i];
        lines.push(Line::default());
        for l in rarity::text::wrap(spec.help, width.saturating_sub(2)) {
            lines.push(Line::from(Span::styled(format!(" {l}"), Style::default().fg(palette::MUTED))));
        }
        for l in rarity::text::wrap(spec.kind.accepted_form(), width.saturating_sub(2)) {
            lines.push(Line::from(Span::styled(format!(" {l}"), Style::default().fg(palette::DIM))));
        }
    }
    // The funnel of the shown result, live with every recompute.
    if let Some(f) = &tab.funnel {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(" funnel", Style::default().fg(palette::MUTED))));
        lines.extend(super::cockpit::funnel_lines(f, width));
    }
    // The sensitivity chart of the parameter under the cursor, at the bottom when it fits.
    let chart = tab.sensitivity.as_ref().filter(|s| {
        focused
            && matches!(all.get(tab.panel_cursor), Some(PanelLine::Param(i)) if params.specs()[*i].key == s.key)
            && inner.height >= 14
    });
    let (text_area, chart_area) = match chart {
        Some(_) => {
            let h = (inner.height / 2).min(12);
            (
                Rect { height: inner.height - h, ..inner },
                Some(Rect { y: inner.y + inner.height - h, height: h, ..inner }),
            )
        }
        None => (inner, None),
    };
    // Scroll so the cursor line stays visible.
    let h = text_area.height as usize;
    let scroll = panel_scroll(cursor_line, h);
    frame.render_widget(Paragraph::new(lines).scroll((scroll as u16, 0)), text_area);
    if let (Some(s), Some(area)) = (chart, chart_area) {
        super::cockpit::render_sensitivity(s, frame, area);
    }
}

/// First panel line shown: enough to keep the cursor line and one below it in view.
pub fn panel_scroll(cursor_line: usize, height: usize) -> usize {
    (cursor_line + 2).saturating_sub(height)
}
