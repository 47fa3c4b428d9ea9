//! The header (dataset summary), the hunt tabs, the status line and the key hints.

use super::{key_style, palette, safe_line, tab_labels, thousands};
use crate::tui::app::{App, Focus, Prompt, StatusLevel};
use rarity::model::time::format_short;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn render_header(app: &App, frame: &mut Frame, area: Rect) {
    let s = &app.summary;
    let sep = Span::styled(" │ ", Style::default().fg(palette::DIM));
    let range = match (s.earliest, s.latest) {
        (Some(a), Some(b)) => format!("{} → {}", &format_short(a)[..10], &format_short(b)[..10]),
        _ => "no timestamps".into(),
    };
    let geo = match &s.geoip {
        Some(_) => Span::styled("GeoIP ✓", Style::default().fg(Color::Green)),
        None => Span::styled("GeoIP ✗", Style::default().fg(palette::WARN)),
    };
    let ti = if s.ti_entries > 0 {
        Span::styled(format!("TI ✓ {}", thousands(s.ti_entries as u64)), Style::default().fg(Color::Green))
    } else {
        Span::styled("TI ✗", Style::default().fg(palette::WARN))
    };
    let mut spans = vec![
        Span::styled(" rarity ", Style::default().fg(Color::Black).bg(palette::ACCENT).add_modifier(Modifier::BOLD)),
        Span::raw(" "),
        Span::raw(format!("{} events", thousands(s.net_events as u64))),
    ];
    if s.vm_rows > 0 {
        spans.push(Span::styled(format!(" +{} VM", thousands(s.vm_rows as u64)), Style::default().fg(palette::MUTED)));
    }
    spans.extend([
        sep.clone(),
        Span::raw(format!("{} devices", thousands(s.devices as u64))),
        sep.clone(),
        Span::raw(range),
        sep.clone(),
        Span::styled(format!("now {}", format_short(s.now)), Style::default().fg(palette::ACCENT)),
        sep.clone(),
        geo,
        sep,
        ti,
    ]);
    if s.rejected > 0 {
        spans.push(Span::styled(format!(" │ {} rejected", thousands(s.rejected)), Style::default().fg(palette::WARN)));
    }
    // Names of files and GeoIP descriptions come from input data: sanitize the whole line.
    let line = Line::from(
        spans
            .into_iter()
            .map(|sp| Span::styled(rarity::text::sanitize(&sp.content).into_owned(), sp.style))
            .collect::<Vec<_>>(),
    );
    frame.render_widget(Paragraph::new(line), area);
}

pub fn render_tabs(app: &App, frame: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    for (i, label) in tab_labels(app).into_iter().enumerate() {
        let tab = &app.tabs[i];
        let style = if i == app.active {
            Style::default().fg(Color::Black).bg(palette::ACTIVE_TAB).add_modifier(Modifier::BOLD)
        } else if tab.error.is_some() {
            Style::default().fg(palette::ERROR)
        } else {
            Style::default().fg(palette::MUTED)
        };
        spans.push(Span::styled(label, style));
        spans.push(Span::raw(" "));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn render_status(app: &App, frame: &mut Frame, area: Rect) {
    let tab = app.tab();
    let right = if tab.computing() {
        format!("{}: recomputing… ", tab.hunt.key())
    } else if let Some(r) = &tab.last {
        if area.width >= 100 {
            format!("{}: {} rows · recomputed {} in {} ms ", tab.hunt.key(), r.rows, r.at, r.elapsed.as_millis())
        } else {
            format!("{} rows · {} ", r.rows, r.at)
        }
    } else {
        String::new()
    };
    let w = area.width as usize;
    let rw = right.chars().count().min(w);
    let left_w = w.saturating_sub(rw + 1);
    let mut line = match &app.status {
        Some(s) => {
            let style = match s.level {
                StatusLevel::Info => Style::default(),
                StatusLevel::Warn => Style::default().fg(palette::WARN),
                StatusLevel::Error => Style::default().fg(palette::ERROR).add_modifier(Modifier::BOLD),
            };
            safe_line(&format!(" {}", s.text), left_w, style)
        }
        None => Line::default(),
    };
    let used = line.width();
    line.spans.push(Span::raw(" ".repeat(w.saturating_sub(used + rw))));
    line.spans.push(Span::styled(right, Style::default().fg(palette::MUTED)));
    frame.render_widget(Paragraph::new(line).style(Style::default().bg(Color::Rgb(30, 30, 40))), area);
}

fn hints_for(app: &App) -> Vec<(&'static str, &'static str)> {
    match &app.prompt {
        Prompt::Filter(_) => vec![("type", "filter"), ("Enter", "keep"), ("Esc", "clear"), ("Ctrl-U", "erase")],
        Prompt::Edit { .. } => vec![("Enter", "apply"), ("Esc", "cancel"), ("Ctrl-U", "erase")],
        Prompt::Export { .. } => vec![("Enter", "write"), ("Esc", "cancel"), ("Ctrl-U", "erase")],
        Prompt::ConfirmOverwrite { .. } | Prompt::ConfirmReset => vec![("y", "yes"), ("n/Esc", "no")],
        Prompt::Help | Prompt::LoadReport => vec![("any key", "close"), ("q", "quit")],
        Prompt::None => match app.focus {
            Focus::Params => vec![
                ("↑↓", "move"),
                ("←→ -+", "step"),
                ("Enter", "edit"),
                ("Space", "on/off"),
                ("a", "add"),
                ("d", "delete"),
                ("r", "reset"),
                ("p/Esc", "table"),
                ("?", "help"),
            ],
            Focus::Table => {
                let mut v = vec![("1-5", "hunt"), ("↑↓", "move"), ("Enter", "details")];
                if app.tab().stack.is_empty() {
                    v.push(("p", "params"));
                } else {
                    v.extend([("Esc", "back"), ("[ ]", "lists")]);
                }
                v.extend([
                    ("/", "filter"),
                    ("s/S", "sort"),
                    ("Space", "mark"),
                    ("e", "export"),
                    ("x/b/d", "exclude"),
                    ("?", "help"),
                    ("q", "quit"),
                ]);
                v
            }
        },
    }
}

/// The hints that fit, in order; the last two (help, quit) always make it.
pub fn render_hints(app: &App, frame: &mut Frame, area: Rect) {
    let hints = hints_for(app);
    let cost = |(k, what): &(&str, &str)| k.chars().count() + what.chars().count() + 4;
    let keep_last = if matches!(app.prompt, Prompt::None) { 2 } else { 0 };
    let reserved: usize = hints.iter().rev().take(keep_last).map(cost).sum();
    let mut budget = (area.width as usize).saturating_sub(reserved);
    let mut spans = Vec::new();
    for (i, h) in hints.iter().enumerate() {
        let last = i + keep_last >= hints.len();
        if !last {
            if cost(h) > budget {
                continue;
            }
            budget -= cost(h);
        }
        spans.push(Span::styled(format!(" {} ", h.0), key_style()));
        spans.push(Span::styled(format!(" {} ", h.1), Style::default().fg(palette::MUTED)));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
