//! The header (dataset summary), the hunt tabs, the status line and the key hints.

use super::{key_style, palette, safe_line, tab_labels, thousands};
use crate::tui::app::{plural, App, Prompt, StatusLevel};
use rarity::model::time::format_short;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// The dataset summary. The full line when it fits; otherwise GeoIP and TI stay (abbreviated,
/// `Geo✓ TI✓ 1.5k`) right after the event count and the rest is dropped from the end, so a
/// narrow terminal still says whether enrichment is loaded.
pub fn render_header(app: &App, frame: &mut Frame, area: Rect) {
    let s = &app.summary;
    let ok = Style::default().fg(Color::Green);
    let missing = Style::default().fg(palette::WARN);
    let range = match (s.earliest, s.latest) {
        (Some(a), Some(b)) => format!("{} → {}", day(a), day(b)),
        _ => "no timestamps".into(),
    };
    let brand = vec![
        Span::styled(" rarity ", Style::default().fg(Color::Black).bg(palette::ACCENT).add_modifier(Modifier::BOLD)),
        Span::raw(" "),
        Span::raw(format!("{} events", thousands(s.net_events as u64))),
    ];
    let vm = (s.vm_rows > 0)
        .then(|| Span::styled(format!(" +{} VM", thousands(s.vm_rows as u64)), Style::default().fg(palette::MUTED)));
    let devices = Span::raw(format!("{} devices", thousands(s.devices as u64)));
    let now = Span::styled(format!("now {}", format_short(s.now)), Style::default().fg(palette::ACCENT));
    let rejected = (s.rejected > 0).then(|| Span::styled(format!("{} rejected", thousands(s.rejected)), missing));
    // Sources every hunt window misses at this `now` (the load report lists them with a --now).
    let clock_n = s.clock.len();
    let clock = (clock_n > 0).then(|| {
        let what = if clock_n == 1 { "1 source ends".to_string() } else { format!("{clock_n} sources end") };
        Span::styled(format!("⚠ {what} before every window: try --now (L)"), missing)
    });
    let clock_short = (clock_n > 0).then(|| Span::styled("⚠ clock (L)", missing));
    // Esc stopped the load: the hunts see only part of the inputs; never let that be forgotten.
    let partial = s.stopped.is_some().then(|| Span::styled("⚠ partial load (L)", missing));
    let (geo, ti) = if s.ti_entries > 0 {
        (thousands(s.ti_entries as u64), abbreviated(s.ti_entries as u64))
    } else {
        (String::new(), String::new())
    };
    let full_enrich = vec![
        match &s.geoip {
            Some(_) => Span::styled("GeoIP ✓", ok),
            None => Span::styled("GeoIP ✗", missing),
        },
        sep(),
        if s.ti_entries > 0 { Span::styled(format!("TI ✓ {geo}"), ok) } else { Span::styled("TI ✗", missing) },
    ];
    let mut full = brand.clone();
    full.extend(vm.clone());
    for part in [vec![devices.clone()], vec![Span::raw(range.clone())], vec![now.clone()], full_enrich] {
        full.push(sep());
        full.extend(part);
    }
    for c in [partial.clone(), clock.clone()].into_iter().flatten() {
        full.push(sep());
        full.push(c);
    }
    if let Some(r) = rejected.clone() {
        full.push(sep());
        full.push(r);
    }
    let width = area.width as usize;
    let spans = if spans_width(&full) <= width {
        full
    } else {
        let enrich = vec![
            match &s.geoip {
                Some(_) => Span::styled("Geo✓", ok),
                None => Span::styled("Geo✗", missing),
            },
            Span::raw(" "),
            if s.ti_entries > 0 { Span::styled(format!("TI✓ {ti}"), ok) } else { Span::styled("TI✗", missing) },
        ];
        let mut line = brand;
        // In order of importance; each is added only if it still fits.
        let optional: Vec<Vec<Span<'static>>> = [
            partial.map(|c| vec![c]),
            Some(enrich),
            clock_short.map(|c| vec![c]),
            rejected.map(|r| vec![r]),
            Some(vec![Span::raw(range)]),
            Some(vec![now]),
            Some(vec![devices]),
        ]
        .into_iter()
        .flatten()
        .collect();
        for part in optional {
            let mut next = line.clone();
            next.push(sep());
            next.extend(part);
            if spans_width(&next) <= width {
                line = next;
            }
        }
        line
    };
    // Names of files and GeoIP descriptions come from input data: sanitize the whole line.
    let line = Line::from(
        spans
            .into_iter()
            .map(|sp| Span::styled(rarity::text::sanitize(&sp.content).into_owned(), sp.style))
            .collect::<Vec<_>>(),
    );
    frame.render_widget(Paragraph::new(line), area);
}

fn sep() -> Span<'static> {
    Span::styled(" │ ", Style::default().fg(palette::DIM))
}

fn spans_width(spans: &[Span]) -> usize {
    spans.iter().map(|s| rarity::text::width(&s.content)).sum()
}

/// The date part of a timestamp in the TUI's one format.
fn day(t: rarity::model::Nanos) -> String {
    format_short(t).chars().take(10).collect()
}

/// A count in at most four characters: 950, 1.5k, 120k, 3.2M.
fn abbreviated(n: u64) -> String {
    match n {
        0..=999 => n.to_string(),
        1_000..=9_999 => format!("{:.1}k", (n / 100) as f64 / 10.0),
        10_000..=999_999 => format!("{}k", n / 1_000),
        _ => format!("{:.1}M", (n / 100_000) as f64 / 10.0),
    }
}

pub fn render_tabs(app: &App, frame: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    for (i, label) in tab_labels(app).into_iter().enumerate() {
        let tab = &app.tabs[i];
        let style = if i == app.active {
            super::chosen(
                app.no_color,
                Style::default().fg(Color::Black).bg(palette::ACTIVE_TAB).add_modifier(Modifier::BOLD),
            )
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

#[cfg(test)]
mod tests {
    #[test]
    fn counts_abbreviate_to_four_characters() {
        let got: Vec<String> = [950, 1_500, 120_430, 3_250_000].into_iter().map(super::abbreviated).collect();
        assert_eq!(got, ["950", "1.5k", "120k", "3.2M"]);
    }
}
