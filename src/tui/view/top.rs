//! The header (dataset summary), the hunt tabs, the status line and the key hints.

use super::{key_style, palette, safe_line, tab_labels, thousands};
use crate::tui::app::{plural, App, Prompt, StatusLevel};
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
    let hidden = if app.hide_benign { "benign hidden (B) · " } else { "" };
    let right = if tab.computing() {
        format!("{}: recomputing… ", tab.hunt.key())
    } else if let Some(r) = &tab.last {
        if area.width >= 100 {
            format!(
                "{}: {} {} · recomputed {} in {} ms ",
                tab.hunt.key(),
                r.rows,
                plural(r.rows, "row"),
                r.at,
                r.elapsed.as_millis()
            )
        } else {
            format!("{} {} · {} ", r.rows, plural(r.rows, "row"), r.at)
        }
    } else {
        String::new()
    };
    let right = format!("{hidden}{right}");
    let w = area.width as usize;
    let rw = right.chars().count().min(w);
    let left_w = w.saturating_sub(rw + 1);
    let error_style = Style::default().fg(palette::ERROR).add_modifier(Modifier::BOLD);
    if let Prompt::Note { key, line: edit } = &app.prompt {
        // The note being typed takes the status line.
        let label = format!(" note for {}: ", key.finding.join(" | "));
        let mut line = safe_line(&label, left_w / 2, Style::default().fg(palette::ACCENT));
        let used = line.width();
        line.spans.extend(super::table::edit_spans(&edit.text, edit.cursor, left_w.saturating_sub(used + 1)));
        let used = line.width();
        line.spans.push(Span::raw(" ".repeat(w.saturating_sub(used + rw))));
        line.spans.push(Span::styled(right, Style::default().fg(palette::MUTED)));
        frame.render_widget(Paragraph::new(line).style(Style::default().bg(Color::Rgb(30, 30, 40))), area);
        return;
    }
    let mut line = match (&app.save_error, &app.status) {
        (Some(e), Some(s)) => safe_line(&format!(" {e} (L) · {}", s.text), left_w, error_style),
        (Some(e), None) => safe_line(&format!(" {e} (L: details)"), left_w, error_style),
        (None, Some(s)) => {
            let style = match s.level {
                StatusLevel::Info => Style::default(),
                StatusLevel::Warn => Style::default().fg(palette::WARN),
                StatusLevel::Error => error_style,
            };
            safe_line(&format!(" {}", s.text), left_w, style)
        }
        (None, None) => Line::default(),
    };
    let used = line.width();
    line.spans.push(Span::raw(" ".repeat(w.saturating_sub(used + rw))));
    line.spans.push(Span::styled(right, Style::default().fg(palette::MUTED)));
    frame.render_widget(Paragraph::new(line).style(Style::default().bg(Color::Rgb(30, 30, 40))), area);
}

/// The hints that fit, in order; the last two (help, quit) always make it.
pub fn render_hints(app: &App, frame: &mut Frame, area: Rect) {
    let hints = crate::tui::keys::hints(app);
    let cost = |(k, what, _): &(String, &str, bool)| k.chars().count() + what.chars().count() + 4;
    let reserved: usize = hints.iter().filter(|h| h.2).map(cost).sum();
    let mut budget = (area.width as usize).saturating_sub(reserved);
    let mut spans = Vec::new();
    for h in &hints {
        if !h.2 {
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
