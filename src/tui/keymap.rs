//! The one place keys and mouse events become `Msg`s. Which message a key means depends on
//! what has the focus (a prompt, the help overlay, the parameter panel, the table); this
//! module only reads the app to find that out.

use super::app::{App, Focus, Phase, Prompt};
use super::msg::{InputKey, Msg};
use rarity::case::Verdict;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind};

/// Translate a terminal event, or None when it means nothing here.
pub fn map_event(app: &App, ev: &Event) -> Option<Msg> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => map_key(app, k),
        Event::Resize(w, h) => Some(Msg::Resize(*w, *h)),
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollDown => Some(Msg::Scroll(3)),
            MouseEventKind::ScrollUp => Some(Msg::Scroll(-3)),
            MouseEventKind::Down(_) => Some(Msg::Click { x: m.column, y: m.row }),
            _ => None,
        },
        _ => None,
    }
}

/// Terminals send Esc and the next key, typed quickly, as one Alt+key; nothing here is bound
/// to Alt, so split it back into the two keys the user pressed.
pub fn split_alt(ev: &Event) -> Option<(Event, Event)> {
    let Event::Key(k) = ev else { return None };
    if !k.modifiers.contains(KeyModifiers::ALT) || !matches!(k.code, KeyCode::Char(_)) {
        return None;
    }
    let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
    let key = KeyEvent::new(k.code, k.modifiers - KeyModifiers::ALT);
    Some((Event::Key(esc), Event::Key(key)))
}

fn input_key(k: &KeyEvent) -> Option<InputKey> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    Some(match k.code {
        KeyCode::Char('u') if ctrl => InputKey::Clear,
        KeyCode::Char('a') if ctrl => InputKey::Home,
        KeyCode::Char('e') if ctrl => InputKey::End,
        KeyCode::Char(_) if ctrl => return None,
        KeyCode::Char(c) => InputKey::Char(c),
        KeyCode::Backspace => InputKey::Backspace,
        KeyCode::Delete => InputKey::Delete,
        KeyCode::Left => InputKey::Left,
        KeyCode::Right => InputKey::Right,
        KeyCode::Home => InputKey::Home,
        KeyCode::End => InputKey::End,
        KeyCode::Enter => InputKey::Submit,
        KeyCode::Esc => InputKey::Cancel,
        _ => return None,
    })
}

pub fn map_key(app: &App, k: &KeyEvent) -> Option<Msg> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && k.code == KeyCode::Char('c') {
        return Some(Msg::Quit);
    }
    match app.phase {
        Phase::Loading(_) => {
            return match k.code {
                KeyCode::Esc => Some(Msg::Back),
                KeyCode::Char('q') => Some(Msg::Quit),
                _ => None,
            }
        }
        Phase::Failed(_) => {
            return matches!(k.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q')).then_some(Msg::Quit)
        }
        Phase::Ready => {}
    }
    match &app.prompt {
        Prompt::Filter(_) | Prompt::Edit { .. } | Prompt::Export { .. } | Prompt::Note { .. } => {
            return input_key(k).map(Msg::Input)
        }
        Prompt::Verdict => {
            return Some(match k.code {
                KeyCode::Char('b') => Msg::SetVerdict(Verdict::Benign),
                KeyCode::Char('s') => Msg::SetVerdict(Verdict::Suspicious),
                KeyCode::Char('m') => Msg::SetVerdict(Verdict::Malicious),
                KeyCode::Char('u') => Msg::SetVerdict(Verdict::Unreviewed),
                // Any other key cancels.
                _ => Msg::Back,
            });
        }
        Prompt::ConfirmOverwrite { .. } | Prompt::ConfirmReset => {
            return match k.code {
                KeyCode::Char('y' | 'Y') => Some(Msg::Answer(true)),
                KeyCode::Char('n' | 'N') | KeyCode::Esc => Some(Msg::Answer(false)),
                _ => None,
            }
        }
        Prompt::Help | Prompt::LoadReport => {
            return match k.code {
                KeyCode::Char('q') => Some(Msg::Quit),
                _ => Some(Msg::ToggleHelp),
            }
        }
        Prompt::None => {}
    }
    if ctrl {
        return match k.code {
            KeyCode::Char('z') => Some(Msg::Undo),
            KeyCode::Char('y') => Some(Msg::Redo),
            _ => None,
        };
    }
    // Keys that mean the same everywhere once loaded.
    let common = match k.code {
        KeyCode::Char('q') => Some(Msg::Quit),
        KeyCode::Char(c @ '1'..='5') => Some(Msg::SelectHunt(c as usize - '1' as usize)),
        KeyCode::Tab => Some(Msg::NextHunt),
        KeyCode::BackTab => Some(Msg::PrevHunt),
        KeyCode::Char('?') => Some(Msg::ToggleHelp),
        KeyCode::Char('L') => Some(Msg::ShowLoadReport),
        KeyCode::Char('p') => Some(Msg::FocusParams),
        KeyCode::Char('r') => Some(Msg::AskReset),
        KeyCode::Esc => Some(Msg::Back),
        KeyCode::Up | KeyCode::Char('k') => Some(Msg::Up),
        KeyCode::Down | KeyCode::Char('j') => Some(Msg::Down),
        KeyCode::PageUp => Some(Msg::PageUp),
        KeyCode::PageDown => Some(Msg::PageDown),
        KeyCode::Home | KeyCode::Char('g') => Some(Msg::Home),
        KeyCode::End | KeyCode::Char('G') => Some(Msg::End),
        KeyCode::Enter => Some(Msg::Enter),
        _ => None,
    };
    if common.is_some() {
        return common;
    }
    match app.focus {
        Focus::Params => match k.code {
            KeyCode::Left | KeyCode::Char('-' | 'h') => Some(Msg::ParamStep(-1)),
            KeyCode::Right | KeyCode::Char('+' | '=' | 'l') => Some(Msg::ParamStep(1)),
            KeyCode::Char(' ') => Some(Msg::ParamToggle),
            KeyCode::Char('a' | 'i') | KeyCode::Insert => Some(Msg::ParamAdd),
            KeyCode::Char('d' | 'x') | KeyCode::Delete => Some(Msg::ParamDelete),
            KeyCode::Char('e') => Some(Msg::Enter),
            _ => None,
        },
        Focus::Table => match k.code {
            KeyCode::Left | KeyCode::Char('h') => Some(Msg::Left),
            KeyCode::Right | KeyCode::Char('l') => Some(Msg::Right),
            KeyCode::Char(' ') => Some(Msg::ToggleMark),
            KeyCode::Char('a') => Some(Msg::MarkAll),
            KeyCode::Char('A' | 'u') => Some(Msg::MarkNone),
            KeyCode::Char('/') => Some(Msg::StartFilter),
            KeyCode::Char('e') => Some(Msg::StartExport),
            KeyCode::Char('s') => Some(Msg::SortAsc),
            KeyCode::Char('S') => Some(Msg::SortDesc),
            KeyCode::Char('x') => Some(Msg::ExcludeIp),
            KeyCode::Char('X') => Some(Msg::ExcludeNet),
            KeyCode::Char('b') => Some(Msg::AddBrowser),
            KeyCode::Char('d') => Some(Msg::AddDomain),
            KeyCode::Char('o') => Some(Msg::Pivot),
            KeyCode::Char('v') => Some(Msg::StartVerdict),
            KeyCode::Char('n') => Some(Msg::StartNote),
            KeyCode::Char('B') => Some(Msg::ToggleHideBenign),
            KeyCode::Char(']') => Some(Msg::NextSection),
            KeyCode::Char('[') => Some(Msg::PrevSection),
            _ => None,
        },
    }
}

/// Every key, for the help overlay: (keys, what they do).
pub const HELP: &[(&str, &[(&str, &str)])] = &[
    (
        "Anywhere",
        &[
            ("1-5  Tab  Shift-Tab", "switch hunt"),
            ("↑ ↓  j k", "move"),
            ("mouse", "wheel scrolls; click a tab or a row"),
            ("PgUp PgDn  Home End  g G", "page / first / last"),
            ("p", "focus the parameter panel / back to the table"),
            ("r", "reset this hunt's parameters to defaults (asks)"),
            ("Ctrl-Z  Ctrl-Y", "undo / redo a parameter change, exclusion, verdict or note"),
            ("?", "this help"),
            ("L", "load report: rejected rows, skipped files, warnings"),
            ("Esc", "back: close, clear the filter, leave a drill-down level"),
            ("q  Ctrl-C", "quit"),
        ],
    ),
    (
        "Table",
        &[
            ("Enter", "drill down: result → details; IP/hash/device → its events; event → full record"),
            ("← →  h l", "choose the column"),
            ("s  S", "sort by the column ascending / descending (again: engine order)"),
            ("/", "fuzzy filter as you type (Enter keeps it, Esc clears it)"),
            ("Space  a  A u", "mark row / mark all shown / unmark all"),
            ("e", "export marked (or all shown) rows to CSV"),
            ("[  ]", "previous / next list in a drill-down"),
            ("o", "pivot: every network event with the cell's IP, device, process, hash or domain"),
            ("x  X", "exclude the row's remote IP / its /24 from this hunt (excluded_nets)"),
            ("b", "add the row's process to this hunt's browsers (where it has them)"),
            ("d", "add the row's domain to this hunt's known_domains (where it has them)"),
            ("v b/s/m/u", "verdict of the row (or the marked rows): benign / suspicious / malicious / unreviewed"),
            ("n", "edit the row's note (Enter saves, Esc cancels)"),
            ("B", "hide / show the findings judged benign"),
        ],
    ),
    (
        "Parameter panel",
        &[
            ("← →  - +", "step a number or duration, flip a true/false"),
            ("Enter  e", "type a value / edit a list item / add to a list"),
            ("Space", "turn a list item on or off"),
            ("a  Insert", "add an item to the list"),
            ("d  Delete", "delete the list item"),
        ],
    ),
    ("Prompts", &[("Enter  Esc", "accept / cancel"), ("Ctrl-U", "clear the line"), ("y  n", "answer a question")]),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alt_key_splits_into_esc_and_the_key() {
        let alt1 = Event::Key(KeyEvent::new(KeyCode::Char('1'), KeyModifiers::ALT));
        let (a, b) = split_alt(&alt1).unwrap();
        assert_eq!(a, Event::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
        assert_eq!(b, Event::Key(KeyEvent::new(KeyCode::Char('1'), KeyModifiers::NONE)));
        assert!(split_alt(&Event::Key(KeyEvent::new(KeyCode::Char('1'), KeyModifiers::NONE))).is_none());
    }
}
