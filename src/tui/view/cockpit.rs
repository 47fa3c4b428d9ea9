//! The tuning cockpit's pictures: a hunt's funnel (in place of a bare "no rows"), the
//! sensitivity chart of the focused parameter, and a drill-down's timeline with its rhythm and
//! why-this-row line. The engine computes them all; these functions only draw.

use super::{palette, safe_line};
use crate::tui::app::Sensitivity;
use crate::tui::msg::Insight;
use rarity::hunt::funnel::thousands;
use rarity::hunt::{Funnel, Timeline};
use rarity::model::time::format_short;
use ratatui::layout::{Direction, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Borders};
use ratatui::Frame;

/// The funnel as lines: each step's count, unit and condition; the step that removed
/// everything highlighted, window notes under their step.
pub fn funnel_lines(f: &Funnel, width: usize) -> Vec<Line<'static>> {
    let emptied = f.emptied_at();
    let w = f.steps.iter().map(|s| thousands(s.count).len()).max().unwrap_or(1);
    let mut out = Vec::new();
    for (i, s) in f.steps.iter().enumerate() {
        let hit = emptied == Some(i);
        let style = if hit {
            Style::default().fg(palette::ERROR).add_modifier(Modifier::BOLD)
        } else if emptied.is_some_and(|e| i > e) {
            Style::default().fg(palette::DIM)
        } else {
            Style::default()
        };
        let mark = if hit { "▶" } else { " " };
        let text =
            format!("{mark}{:>6} {:>w$} {:6} {}", s.step, thousands(s.count), s.unit.label_for(s.count), s.condition);
        out.push(safe_line(&text, width, style));
        if let Some(note) = &s.note {
            let note_style = if hit { Style::default().fg(palette::WARN) } else { Style::default().fg(palette::MUTED) };
            for part in rarity::text::wrap(note, width.saturating_sub(9)) {
                out.push(safe_line(&format!("        {part}"), width, note_style));
            }
        }
    }
    out
}

/// Sum adjacent buckets so at most `width` remain.
pub fn squeeze(counts: &[usize], width: usize) -> Vec<usize> {
    let width = width.max(1);
    if counts.len() <= width {
        return counts.to_vec();
    }
    let per = counts.len().div_ceil(width);
    counts.chunks(per).map(|c| c.iter().sum()).collect()
}

const BLOCKS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// One line of block characters, one per bucket, scaled to the largest (any event shows).
fn spark(counts: &[usize]) -> String {
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    counts.iter().map(|&c| if c == 0 { '·' } else { BLOCKS[(c * 8).div_ceil(max).clamp(1, 8)] }).collect()
}

/// Lines `insight_lines` draws.
pub fn insight_rows(i: &Insight) -> u16 {
    2 + u16::from(i.why.is_some())
}

/// The timeline and why-this-row lines of a drill-down.
pub fn insight_lines(i: &Insight, width: usize) -> Vec<Line<'static>> {
    let t: &Timeline = &i.timeline;
    let mut out = Vec::new();
    let buckets = squeeze(&t.counts, width.saturating_sub(8));
    let per = t.counts.len().div_ceil(buckets.len().max(1)).max(1) as i64;
    let bucket = rarity::model::time::format_duration(t.bucket * per);
    out.push(Line::from(vec![
        Span::styled(" when ", Style::default().fg(palette::MUTED)),
        Span::styled(spark(&buckets), Style::default().fg(palette::ACCENT)),
    ]));
    let span = match (t.first, t.last) {
        (Some(a), Some(b)) => format!("first {} · last {}", format_short(a), format_short(b)),
        _ => "no events".to_string(),
    };
    let rhythm = t.rhythm.as_ref().map(|r| format!("{} · ", r.describe())).unwrap_or_default();
    let info = format!("      {rhythm}{} events · {span} · {bucket} per bar", thousands(t.events));
    let beacon = t.rhythm.as_ref().is_some_and(|r| r.beacon);
    let style = if beacon {
        Style::default().fg(palette::WARN).add_modifier(Modifier::BOLD)
    } else {
        Style::default().fg(palette::MUTED)
    };
    out.push(safe_line(&info, width, style));
    if let Some(why) = &i.why {
        out.push(safe_line(&format!(" why  {why}"), width, Style::default().fg(palette::MARK)));
    }
    out
}

/// The why-this-row line above the results table for the selected row (`…` until the engine
/// has answered).
pub fn why_line(why: Option<&str>, width: usize) -> Line<'static> {
    match why {
        Some(why) => safe_line(&format!(" why  {why}"), width, Style::default().fg(palette::MARK)),
        None => Line::from(Span::styled(" why  …", Style::default().fg(palette::MUTED))),
    }
}

/// The sensitivity chart: one horizontal bar per value with its row count, the current value
/// marked; as many values around the current one as fit.
pub fn render_sensitivity(s: &Sensitivity, frame: &mut Frame, area: Rect) {
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(Style::default().fg(palette::DIM))
        .title(Span::styled(format!(" rows by {} ", s.key), Style::default().fg(palette::MUTED)));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let fit = (inner.height as usize).max(1);
    let at = s.values.iter().position(|v| *v == s.current).unwrap_or(0);
    let lo = at.saturating_sub(fit / 2).min(s.values.len().saturating_sub(fit));
    let hi = (lo + fit).min(s.values.len());
    let label_w = s.values[lo..hi].iter().map(|v| v.to_text().len()).max().unwrap_or(1);
    let bars: Vec<Bar> = (lo..hi)
        .map(|i| {
            let cur = s.values[i] == s.current;
            let style =
                if cur { Style::default().fg(palette::ACTIVE_TAB) } else { Style::default().fg(palette::ACCENT) };
            let mark = if cur { "▶" } else { " " };
            Bar::default()
                .value(s.counts.get(i).copied().unwrap_or(0) as u64)
                .label(Line::from(format!("{mark}{:>label_w$}", s.values[i].to_text())))
                .text_value(thousands(s.counts.get(i).copied().unwrap_or(0)))
                .style(style)
                .value_style(style.add_modifier(Modifier::REVERSED))
        })
        .collect();
    let chart = BarChart::default()
        .direction(Direction::Horizontal)
        .bar_width(1)
        .bar_gap(0)
        .data(BarGroup::default().bars(&bars));
    frame.render_widget(chart, inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squeeze_keeps_every_event() {
        let c: Vec<usize> = (0..97).collect();
        let s = squeeze(&c, 10);
        assert!(s.len() <= 10);
        assert_eq!(s.iter().sum::<usize>(), c.iter().sum::<usize>());
        assert_eq!(spark(&[0, 1, 8]), "·▁█");
    }
}
