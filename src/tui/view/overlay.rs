//! Whole-screen and pop-up views: loading progress, load failure, help, the KQL view, the
//! export prompt, y/n questions and the too-small-terminal notice.

use super::table::edit_spans;
use super::{key_style, palette, safe_line};
use crate::tui::app::{App, ExportTarget, KqlView, LineEdit};
use crate::tui::keys::help_sections;
use rarity::ingest::Progress;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Gauge, Paragraph, Wrap};
use ratatui::Frame;

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(h.min(area.height))]).flex(Flex::Center).areas(area);
    let [r] = Layout::horizontal([Constraint::Length(w.min(area.width))]).flex(Flex::Center).areas(v);
    r
}

fn popup(frame: &mut Frame, area: Rect, title: &str) -> Rect {
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(Style::default().fg(palette::ACCENT))
        .title(Span::styled(format!(" {title} "), Style::default().add_modifier(Modifier::BOLD)))
        .padding(ratatui::widgets::Padding::horizontal(1));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

pub fn render_too_small(frame: &mut Frame, area: Rect) {
    let text = vec![
        Line::from(Span::styled("Terminal too small", Style::default().add_modifier(Modifier::BOLD))),
        Line::from(format!("need {}x{}, have {}x{}", super::MIN_WIDTH, super::MIN_HEIGHT, area.width, area.height)),
        Line::from("enlarge the window, or q to quit"),
    ];
    let r = centered(area, area.width, 3);
    frame
        .render_widget(Paragraph::new(text).alignment(ratatui::layout::Alignment::Center).wrap(Wrap { trim: true }), r);
}

fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

pub fn render_progress(frame: &mut Frame, area: Rect, p: &Progress, cancelling: bool) {
    let r = centered(area, 72, 10);
    let inner = popup(frame, r, "Loading");
    let [file, gauge, label, counts, _, hint] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(inner);
    let current = if p.current.is_empty() { "starting…".to_string() } else { p.current.clone() };
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(format!("file {} of {}", (p.files_done + 1).min(p.files_total.max(1)), p.files_total.max(1))),
            safe_line(&current, file.width as usize, Style::default().fg(palette::ACCENT)),
        ]),
        file,
    );
    let ratio = if p.bytes_total > 0 { (p.bytes_done as f64 / p.bytes_total as f64).clamp(0.0, 1.0) } else { 0.0 };
    // The label goes on its own line: drawn over the bar it hid the progress on narrow screens.
    frame.render_widget(
        Gauge::default()
            .gauge_style(Style::default().fg(palette::ACCENT).bg(Color::Rgb(40, 40, 50)))
            .ratio(ratio)
            .label(""),
        gauge,
    );
    let pct = (ratio * 100.0).floor() as u32;
    let text = format!("{pct}% · {} / {}", human_bytes(p.bytes_done), human_bytes(p.bytes_total));
    frame.render_widget(Paragraph::new(safe_line(&text, label.width as usize, Style::default())), label);
    frame.render_widget(
        Paragraph::new(Line::from(format!("{} read", rarity::model::counted(p.rows, "row"))))
            .style(Style::default().fg(palette::MUTED)),
        counts,
    );
    let hint_line = if cancelling {
        Line::from(Span::styled("stopping: opening the files finished so far…", Style::default().fg(palette::WARN)))
    } else {
        Line::from(vec![
            Span::styled(" Esc ", key_style()),
            Span::raw(" stop…  "),
            Span::styled(" q ", key_style()),
            Span::raw(" quit"),
        ])
    };
    frame.render_widget(Paragraph::new(hint_line), hint);
}

/// Esc while loading: keep the files finished so far, quit, or keep loading.
pub fn render_stop_loading(frame: &mut Frame, area: Rect, p: &Progress) {
    let r = centered(area, 66, 6);
    let inner = popup(frame, r, "Stop loading?");
    let done = p.files_done.min(p.files_total);
    let kept = format!(
        "{} of {} {} finished so far can be opened now;",
        super::thousands(done as u64),
        super::thousands(p.files_total as u64),
        if p.files_total == 1 { "file" } else { "files" }
    );
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(kept),
            Line::from("the file being read and the rest are left out (L lists them)."),
            Line::default(),
            Line::from(vec![
                Span::styled(" k ", key_style()),
                Span::raw(" keep what is loaded  "),
                Span::styled(" q ", key_style()),
                Span::raw(" quit  "),
                Span::styled(" Esc ", key_style()),
                Span::raw(" keep loading"),
            ]),
        ])
        .wrap(Wrap { trim: false }),
        inner,
    );
}

pub fn render_failed(frame: &mut Frame, area: Rect, e: &str) {
    let r = centered(area, 80, 8);
    let inner = popup(frame, r, "Nothing loaded");
    frame.render_widget(
        Paragraph::new(vec![
            safe_line(e, usize::MAX, Style::default().fg(palette::ERROR)),
            Line::default(),
            Line::from(vec![Span::styled(" q ", key_style()), Span::raw(" quit")]),
        ])
        .wrap(Wrap { trim: false }),
        inner,
    );
}

fn help_lines(sections: &[(&str, Vec<(String, &str)>)]) -> Vec<Line<'static>> {
    let key_w =
        sections.iter().flat_map(|(_, keys)| keys.iter().map(|(k, _)| k.chars().count())).max().unwrap_or(0) + 2;
    let mut lines = Vec::new();
    for (section, keys) in sections {
        lines.push(Line::from(Span::styled(
            section.to_string(),
            Style::default().fg(palette::ACTIVE_TAB).add_modifier(Modifier::BOLD),
        )));
        for (k, what) in keys.iter() {
            lines.push(Line::from(vec![
                Span::styled(format!("  {k:<key_w$}"), Style::default().fg(palette::ACCENT)),
                Span::raw(what.to_string()),
            ]));
        }
        lines.push(Line::default());
    }
    lines.pop();
    lines
}

/// Every key from the binding table: one column, or two on wide terminals when one does not
/// fit the height; scrolled by `scroll` lines when it still does not fit.
pub fn render_help(frame: &mut Frame, area: Rect, scroll: u16) {
    let sections = help_sections();
    let one = help_lines(&sections);
    let title = "Keys (↑↓ PgUp PgDn scroll, any other key closes)";
    if one.len() as u16 + 2 <= area.height || area.width < 140 {
        let r = centered(area, 110, one.len() as u16 + 2);
        let inner = popup(frame, r, title);
        let scroll = scroll.min((one.len() as u16).saturating_sub(inner.height));
        frame.render_widget(Paragraph::new(one).scroll((scroll, 0)), inner);
        return;
    }
    // Split the sections, in order, where the two columns come out most even.
    let size = |s: &[(&str, Vec<(String, &str)>)]| s.iter().map(|(_, k)| k.len() + 2).sum::<usize>();
    let split = (1..sections.len()).min_by_key(|&k| size(&sections[..k]).max(size(&sections[k..]))).unwrap_or(1);
    let left = help_lines(&sections[..split]);
    let right = help_lines(&sections[split..]);
    let h = left.len().max(right.len()) as u16 + 2;
    let r = centered(area, area.width.min(160), h);
    let inner = popup(frame, r, title);
    let scroll = scroll.min((h - 2).saturating_sub(inner.height));
    let [l, rr] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(inner);
    frame.render_widget(Paragraph::new(left).scroll((scroll, 0)), l);
    frame.render_widget(Paragraph::new(right).scroll((scroll, 0)), rr);
}

/// Everything the load reported, one line each (paths and rejects come from input data).
pub fn render_load_report(app: &App, frame: &mut Frame, area: Rect) {
    let s = &app.summary;
    let w = area.width.saturating_sub(8).min(140);
    let mut lines = vec![Line::from(format!(
        "{} rejected, {} skipped, {}",
        rarity::model::counted(s.rejected, "row"),
        rarity::model::counted(s.skipped as u64, "input"),
        rarity::model::counted(s.problems.len() as u64, "note")
    ))];
    if let Some(note) = &s.snapshot {
        lines.push(safe_line(note, w.saturating_sub(4) as usize, Style::default().fg(palette::MUTED)));
    }
    lines.push(Line::default());
    if let Some(e) = &app.save_error {
        lines.push(safe_line(e, w.saturating_sub(4) as usize, Style::default().fg(palette::ERROR)));
    }
    if let Some(note) = &app.config_note {
        for part in note.split("; ") {
            lines.push(safe_line(part, w.saturating_sub(4) as usize, Style::default().fg(palette::WARN)));
        }
    }
    if s.problems.is_empty() {
        lines.push(Line::from(Span::styled("everything loaded cleanly", Style::default().fg(Color::Green))));
    }
    // Every note whole: wrapped (continuation lines indented), the overlay scrolls.
    let text_w = w.saturating_sub(4) as usize;
    for p in &s.problems {
        for (i, part) in rarity::text::wrap(p, text_w.saturating_sub(2)).into_iter().enumerate() {
            let indent = if i == 0 { "" } else { "  " };
            lines.push(Line::from(Span::styled(format!("{indent}{part}"), Style::default().fg(palette::WARN))));
        }
    }
    let total = lines.len() as u16;
    let h = (total + 2).min(area.height.saturating_sub(2)).max(3);
    let r = centered(area, w, h);
    let title = if total + 2 > h {
        "Load report (↑↓ PgUp PgDn scroll, any other key closes)"
    } else {
        "Load report (any key closes)"
    };
    let inner = popup(frame, r, title);
    let scroll = app.overlay_scroll.min(total.saturating_sub(inner.height));
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}

pub fn render_export(
    app: &App,
    frame: &mut Frame,
    area: Rect,
    line: &LineEdit,
    error: Option<&str>,
    target: ExportTarget,
) {
    let r = centered(area, 90, 7);
    let (title, what) = match (target, app.current_table(), &app.kql) {
        (ExportTarget::Kql, _, Some(v)) => ("Write KQL", format!("{} as KQL ({})", v.hunt, v.dialect.name())),
        (ExportTarget::Kql, _, None) => ("Write KQL", "KQL".to_string()),
        (ExportTarget::Table, Some(t), _) if !t.marked.is_empty() => {
            ("Export CSV", format!("{} marked rows", t.marked.len()))
        }
        (ExportTarget::Table, Some(t), _) => ("Export CSV", format!("{} shown rows", t.view.len())),
        (ExportTarget::Table, None, _) => ("Export CSV", "0 shown rows".to_string()),
    };
    let inner = popup(frame, r, title);
    let w = inner.width as usize;
    let mut path = vec![Span::raw(" path: ")];
    path.extend(edit_spans(&line.text, line.cursor, w.saturating_sub(9)));
    let mut lines = vec![
        safe_line(&format!(" {what}, relative to {}", app.cwd.display()), w, Style::default()),
        Line::from(path),
        Line::default(),
    ];
    match error {
        Some(e) => lines.push(safe_line(&format!(" ✗ {e}"), w, Style::default().fg(palette::ERROR))),
        None => lines.push(Line::from(vec![
            Span::styled(" Enter ", key_style()),
            Span::raw(" write  "),
            Span::styled(" Esc ", key_style()),
            Span::raw(" cancel"),
        ])),
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

pub fn render_confirm(frame: &mut Frame, area: Rect, title: &str, question: &str) {
    let r = centered(area, (question.chars().count() as u16 + 6).clamp(40, 100), 5);
    let inner = popup(frame, r, title);
    frame.render_widget(
        Paragraph::new(vec![
            safe_line(&format!(" {question}"), inner.width as usize, Style::default()),
            Line::default(),
            Line::from(vec![
                Span::styled(" y ", key_style()),
                Span::raw(" yes  "),
                Span::styled(" n ", key_style()),
                Span::raw(" no"),
            ]),
        ])
        .wrap(Wrap { trim: false }),
        inner,
    );
}

/// The KQL view's regions: the frame, the note above the query, the query, the keys line.
pub struct KqlAreas {
    pub frame: Rect,
    pub note: Rect,
    pub body: Rect,
    pub keys: Rect,
}

/// Where the KQL view draws in `area`: all of it but the header and tab rows above and the
/// status and hint rows below (the status line reports copies and writes).
pub fn kql_areas(area: Rect) -> KqlAreas {
    let frame = centered(area, area.width, area.height.saturating_sub(4));
    // Border (1) and padding (1) on each side, as `popup` draws them.
    let inner = Rect::new(
        frame.x.saturating_add(2),
        frame.y.saturating_add(1),
        frame.width.saturating_sub(4),
        frame.height.saturating_sub(2),
    );
    let [note, body, keys] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0), Constraint::Length(1)]).areas(inner);
    KqlAreas { frame, note, body, keys }
}

/// The query as screen rows `width` columns wide: a line-number gutter, each line sanitized
/// (parameter values are user-typed) and wrapped at `width` with the gutter blank on the
/// continuation rows; `//` comment lines muted.
pub fn kql_rows(query: &str, width: usize) -> Vec<Line<'static>> {
    let n = query.lines().count();
    let gutter = n.to_string().len();
    let room = width.saturating_sub(gutter + 3).max(1);
    let mut rows = Vec::new();
    for (i, line) in query.lines().enumerate() {
        let style =
            if line.trim_start().starts_with("//") { Style::default().fg(palette::MUTED) } else { Style::default() };
        let mut chunks: Vec<String> = vec![String::new()];
        let mut used = 0usize;
        for piece in rarity::text::pieces(line) {
            if used + piece.width > room && used > 0 {
                chunks.push(String::new());
                used = 0;
            }
            used += piece.width;
            if let Some(last) = chunks.last_mut() {
                last.push_str(&piece.text);
            }
        }
        for (j, chunk) in chunks.into_iter().enumerate() {
            let number = if j == 0 { format!("{:>gutter$} │ ", i + 1) } else { format!("{:>gutter$} │ ", "") };
            rows.push(Line::from(vec![
                Span::styled(number, Style::default().fg(palette::DIM)),
                Span::styled(chunk, style),
            ]));
        }
    }
    rows
}

/// The current hunt as KQL, scrolled by `scroll` rows; or why the hunt has no form in the
/// dialect.
pub fn render_kql(view: &KqlView, frame: &mut Frame, area: Rect, scroll: u16) {
    let a = kql_areas(area);
    let title = format!("KQL: {} · {}", view.hunt, dialect_title(view.dialect));
    popup(frame, a.frame, &title);
    let muted = Style::default().fg(palette::MUTED);
    let w = a.note.width as usize;
    match &view.query {
        Ok(q) => {
            let note = format!(
                "as tuned now · RefTime = {} (this data's reference time; now() to run it continuously)",
                rarity::model::time::format_iso(view.now)
            );
            frame.render_widget(Paragraph::new(safe_line(&note, w, muted)), a.note);
            let rows = kql_rows(q, a.body.width as usize);
            let total = rows.len();
            let first = (scroll as usize).min(total.saturating_sub(a.body.height as usize));
            let shown: Vec<Line> = rows.into_iter().skip(first).take(a.body.height as usize).collect();
            let last = first + shown.len();
            frame.render_widget(Paragraph::new(shown), a.body);
            let keys = Line::from(vec![
                Span::styled(" y ", key_style()),
                Span::raw(" copy  "),
                Span::styled(" w ", key_style()),
                Span::raw(" write to a file  "),
                Span::styled(" d ", key_style()),
                Span::raw(" other dialect  "),
                Span::styled(" Esc ", key_style()),
                Span::raw(" close  "),
                Span::styled(format!("rows {}-{last} of {total}", (first + 1).min(last)), muted),
            ]);
            frame.render_widget(Paragraph::new(keys), a.keys);
        }
        Err(e) => {
            frame.render_widget(Paragraph::new(safe_line("no query in this dialect", w, muted)), a.note);
            let text = rarity::text::sanitize(e).into_owned();
            frame.render_widget(
                Paragraph::new(Line::from(Span::styled(text, Style::default().fg(palette::ERROR))))
                    .wrap(Wrap { trim: false }),
                a.body,
            );
            let keys = Line::from(vec![
                Span::styled(" d ", key_style()),
                Span::raw(" other dialect  "),
                Span::styled(" Esc ", key_style()),
                Span::raw(" close"),
            ]);
            frame.render_widget(Paragraph::new(keys), a.keys);
        }
    }
}

fn dialect_title(d: rarity::hunt::kql::Dialect) -> &'static str {
    match d {
        rarity::hunt::kql::Dialect::Sentinel => "Sentinel / Log Analytics / ADX",
        rarity::hunt::kql::Dialect::Defender => "Defender XDR advanced hunting",
    }
}
