//! The one key-binding table. Dispatch (`map_key`), the help overlay (`help_sections`) and the
//! hint bar (`hints`) are all read from `BINDINGS`, so a key cannot do one thing and be
//! documented as another (gitui's key list). The number keys follow the hunt registry.

use super::app::{App, Focus, Phase, Prompt};
use super::msg::{InputKey, Msg};
use rarity::case::Verdict;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind};

/// Where a binding applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ctx {
    /// While loading.
    Loading,
    /// After a failed load.
    Failed,
    /// Once loaded with nothing modal open, whatever has the focus.
    Anywhere,
    /// The results table or a drill-down list has the focus.
    Table,
    /// The parameter panel has the focus.
    Params,
    /// A one-line text prompt (filter, value, export path); unbound characters are typed.
    Input,
    /// A y/n question.
    Confirm,
    /// Esc while loading: keep what is loaded, quit, or keep loading.
    StopLoading,
    /// The help overlay or the load report; any other key closes it.
    Overlay,
    /// The KQL view.
    Kql,
    /// After `v`: the verdict to set; any other key cancels.
    Verdict,
}

impl Ctx {
    /// The heading of this context in the help overlay.
    pub fn title(self) -> &'static str {
        match self {
            Ctx::Loading => "Loading",
            Ctx::Failed => "Nothing loaded",
            Ctx::Anywhere => "Anywhere",
            Ctx::Table => "Table",
            Ctx::Params => "Parameter panel",
            Ctx::Input => "Prompts",
            Ctx::Confirm => "Questions",
            Ctx::StopLoading => "Stop loading?",
            Ctx::Overlay => "Help",
            Ctx::Kql => "KQL view",
            Ctx::Verdict => "Verdict (after v)",
        }
    }
}

/// One key of a binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum K {
    /// A key without Ctrl (Shift is part of the character).
    Key(KeyCode),
    /// Ctrl + a character.
    Ctrl(char),
    /// The number keys 1..=N, N the number of hunts in the registry.
    HuntNumber,
}

const fn c(ch: char) -> K {
    K::Key(KeyCode::Char(ch))
}

const fn k(code: KeyCode) -> K {
    K::Key(code)
}

/// When a hint is shown in the hint bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    Always,
    /// On the results table (no drill-down level open).
    Results,
    /// Inside a drill-down level.
    Drilled,
}

/// A binding's entry in the hint bar.
#[derive(Clone, Copy, Debug)]
pub struct Hint {
    /// Key text for the bar; None = the binding's keys.
    pub keys: Option<&'static str>,
    pub text: &'static str,
    pub when: When,
    /// Kept when the bar is too narrow for everything (help and quit).
    pub keep: bool,
}

/// One row of the table.
#[derive(Clone, Copy)]
pub struct Binding {
    pub ctx: Ctx,
    pub keys: &'static [K],
    /// The message; `HuntNumber` keys pass the hunt index, other keys 0.
    pub msg: fn(usize) -> Msg,
    /// What help says; empty = shown on the line above (the pair of a key, like `S` of `s`).
    pub help: &'static str,
    pub hint: Option<Hint>,
}

const fn hint(text: &'static str) -> Option<Hint> {
    Some(Hint { keys: None, text, when: When::Always, keep: false })
}

const fn hint_k(keys: &'static str, text: &'static str) -> Option<Hint> {
    Some(Hint { keys: Some(keys), text, when: When::Always, keep: false })
}

const fn hint_when(keys: Option<&'static str>, text: &'static str, when: When) -> Option<Hint> {
    Some(Hint { keys, text, when, keep: false })
}

const fn hint_keep(text: &'static str) -> Option<Hint> {
    Some(Hint { keys: None, text, when: When::Always, keep: true })
}

macro_rules! bind {
    ($ctx:ident, [$($key:expr),+], $msg:expr, $help:expr, $hint:expr) => {
        Binding { ctx: Ctx::$ctx, keys: &[$($key),+], msg: $msg, help: $help, hint: $hint }
    };
}

use KeyCode::{
    BackTab, Backspace, Delete, Down, End, Enter, Esc, Home, Insert, Left, PageDown, PageUp, Right, Tab, Up,
};

/// Every key the TUI knows, in the order help and hints list them.
pub static BINDINGS: &[Binding] = &[
    // ---- loading / failed ----
    bind!(Loading, [k(Esc)], |_| Msg::Back, "stop loading (asks: keep what is loaded, or quit)", hint("stop")),
    bind!(Loading, [c('q')], |_| Msg::Quit, "quit", hint("quit")),
    bind!(Failed, [c('q'), k(Esc), k(Enter)], |_| Msg::Quit, "quit", hint("quit")),
    // ---- anywhere once loaded ----
    bind!(Anywhere, [K::HuntNumber], Msg::SelectHunt, "switch to that hunt", hint("hunt")),
    bind!(Anywhere, [k(Tab)], |_| Msg::NextHunt, "next / previous hunt", None),
    bind!(Anywhere, [k(BackTab)], |_| Msg::PrevHunt, "", None),
    bind!(Anywhere, [k(Up), c('k')], |_| Msg::Up, "move", hint_k("↑↓", "move")),
    bind!(Anywhere, [k(Down), c('j')], |_| Msg::Down, "", None),
    bind!(Anywhere, [k(PageUp)], |_| Msg::PageUp, "page up / down", None),
    bind!(Anywhere, [k(PageDown)], |_| Msg::PageDown, "", None),
    bind!(Anywhere, [k(Home), c('g')], |_| Msg::Home, "first / last row", None),
    bind!(Anywhere, [k(End), c('G')], |_| Msg::End, "", None),
    bind!(
        Anywhere,
        [k(Enter)],
        |_| Msg::Enter,
        "drill down: result → details; IP/hash/device → its events; event → full record",
        hint("details")
    ),
    bind!(
        Anywhere,
        [k(Esc)],
        |_| Msg::Back,
        "back: close, clear the filter, leave a drill-down level",
        hint_when(None, "back", When::Drilled)
    ),
    bind!(
        Anywhere,
        [c('p')],
        |_| Msg::FocusParams,
        "focus the parameter panel / back to the table",
        hint_when(None, "params", When::Results)
    ),
    bind!(Anywhere, [c('r')], |_| Msg::AskReset, "reset this hunt's parameters to defaults (asks)", None),
    bind!(Anywhere, [c('L')], |_| Msg::ShowLoadReport, "load report: rejected rows, skipped files, warnings", None),
    bind!(Anywhere, [c('K')], |_| Msg::ShowKql, "this hunt as KQL, as tuned now: copy it, write it to a file", None),
    bind!(Anywhere, [K::Ctrl('z')], |_| Msg::Undo, "undo a parameter change, one-key exclusion, verdict or note", None),
    bind!(Anywhere, [K::Ctrl('y')], |_| Msg::Redo, "redo what was undone", None),
    bind!(Anywhere, [c('?')], |_| Msg::ToggleHelp, "this help", hint_keep("help")),
    bind!(Anywhere, [c('q'), K::Ctrl('c')], |_| Msg::Quit, "quit", hint_keep("quit")),
    // ---- table ----
    bind!(Table, [k(Left), c('h')], |_| Msg::Left, "choose the column", None),
    bind!(Table, [k(Right), c('l')], |_| Msg::Right, "", None),
    bind!(
        Table,
        [c(']')],
        |_| Msg::NextSection,
        "next / previous list in a drill-down",
        hint_when(Some("[ ]"), "lists", When::Drilled)
    ),
    bind!(Table, [c('[')], |_| Msg::PrevSection, "", None),
    bind!(
        Table,
        [c('/')],
        |_| Msg::StartFilter,
        "filter: substring, any case; `column:value` for one column; Ctrl-F fuzzy",
        hint("filter")
    ),
    bind!(Table, [c('n')], |_| Msg::NextMatch, "filter on: next / previous match (wraps); else: edit the note", None),
    bind!(Table, [c('N')], |_| Msg::PrevMatch, "", None),
    bind!(
        Table,
        [c('s')],
        |_| Msg::SortAsc,
        "sort by the column ascending / descending (again: engine order)",
        hint_k("s/S", "sort")
    ),
    bind!(Table, [c('S')], |_| Msg::SortDesc, "", None),
    bind!(Table, [c(' ')], |_| Msg::ToggleMark, "mark the row", hint("mark")),
    bind!(
        Table,
        [c('y')],
        |_| Msg::CopyCell,
        "copy the cell / the row (tab-separated) to the clipboard (OSC 52)",
        None
    ),
    bind!(Table, [c('Y')], |_| Msg::CopyRow, "", None),
    bind!(Table, [c('a')], |_| Msg::MarkAll, "mark every shown row", None),
    bind!(Table, [c('A'), c('u')], |_| Msg::MarkNone, "unmark every row", None),
    bind!(Table, [c('e')], |_| Msg::StartExport, "export marked (or all shown) rows to CSV", hint("export")),
    bind!(
        Table,
        [c('o')],
        |_| Msg::Pivot,
        "pivot: every network event with the cell's IP, device, process, hash or domain",
        None
    ),
    bind!(
        Table,
        [c('x')],
        |_| Msg::ExcludeIp,
        "exclude the row's remote IP from this hunt (excluded_nets)",
        hint_k("x/b/d", "exclude")
    ),
    bind!(Table, [c('X')], |_| Msg::ExcludeNet, "exclude the row's /24 (IPv6 /64) from this hunt (asks)", None),
    bind!(
        Table,
        [c('b')],
        |_| Msg::AddBrowser,
        "add the row's process to this hunt's browsers (where it has them)",
        None
    ),
    bind!(
        Table,
        [c('d')],
        |_| Msg::AddDomain,
        "add the row's domain to this hunt's known_domains (where it has them; asks)",
        None
    ),
    bind!(
        Table,
        [c('v')],
        |_| Msg::StartVerdict,
        "verdict of the row, or of the marked rows (then b / s / m / u)",
        hint_when(Some("v/n"), "verdict/note", When::Results)
    ),
    bind!(Table, [c('B')], |_| Msg::ToggleHideBenign, "hide / show the findings judged benign", None),
    // ---- parameter panel ----
    bind!(
        Params,
        [k(Left), c('-'), c('h')],
        |_| Msg::ParamStep(-1),
        "step a number or duration, flip a true/false",
        hint_k("←→ -+", "step")
    ),
    bind!(Params, [k(Right), c('+'), c('='), c('l')], |_| Msg::ParamStep(1), "", None),
    bind!(Params, [c('e')], |_| Msg::Enter, "type a value / edit a list item / add to a list", hint_k("Enter", "edit")),
    bind!(Params, [c(' ')], |_| Msg::ParamToggle, "turn a list item on or off", hint("on/off")),
    bind!(
        Params,
        [c('a'), c('i'), k(Insert)],
        |_| Msg::ParamAdd,
        "add items to the list (comma-separated)",
        hint("add")
    ),
    bind!(Params, [c('d'), c('x'), k(Delete)], |_| Msg::ParamDelete, "delete the list item", hint("delete")),
    // ---- prompts ----
    bind!(Input, [k(Enter)], |_| Msg::Input(InputKey::Submit), "accept", hint("accept")),
    bind!(Input, [k(Esc)], |_| Msg::Input(InputKey::Cancel), "cancel", hint("cancel")),
    bind!(Input, [K::Ctrl('u')], |_| Msg::Input(InputKey::Clear), "clear the line", hint("erase")),
    bind!(Input, [K::Ctrl('f')], |_| Msg::Input(InputKey::ToggleFuzzy), "filter: fuzzy matching on / off", None),
    bind!(Input, [k(Home), K::Ctrl('a')], |_| Msg::Input(InputKey::Home), "start / end of the line", None),
    bind!(Input, [k(End), K::Ctrl('e')], |_| Msg::Input(InputKey::End), "", None),
    bind!(Input, [k(Left)], |_| Msg::Input(InputKey::Left), "move the cursor", None),
    bind!(Input, [k(Right)], |_| Msg::Input(InputKey::Right), "", None),
    bind!(Input, [k(Backspace)], |_| Msg::Input(InputKey::Backspace), "delete before / at the cursor", None),
    bind!(Input, [k(Delete)], |_| Msg::Input(InputKey::Delete), "", None),
    bind!(Confirm, [c('y'), c('Y')], |_| Msg::Answer(true), "answer a question yes / no", hint("yes")),
    bind!(Confirm, [c('n'), c('N'), k(Esc)], |_| Msg::Answer(false), "", hint("no")),
    bind!(
        StopLoading,
        [c('k'), c('K'), c('y'), c('Y'), k(Enter)],
        |_| Msg::Answer(true),
        "stop loading and open the files finished so far",
        hint("keep what is loaded")
    ),
    bind!(StopLoading, [c('q'), c('Q')], |_| Msg::Quit, "stop loading and quit", hint("quit")),
    bind!(StopLoading, [c('n'), c('N'), k(Esc)], |_| Msg::Answer(false), "keep loading", hint("keep loading")),
    bind!(Verdict, [c('b')], |_| Msg::SetVerdict(Verdict::Benign), "benign", hint("benign")),
    bind!(Verdict, [c('s')], |_| Msg::SetVerdict(Verdict::Suspicious), "suspicious", hint("suspicious")),
    bind!(Verdict, [c('m')], |_| Msg::SetVerdict(Verdict::Malicious), "malicious", hint("malicious")),
    bind!(
        Verdict,
        [c('u')],
        |_| Msg::SetVerdict(Verdict::Unreviewed),
        "unreviewed (clears the verdict)",
        hint("unreviewed")
    ),
    bind!(Verdict, [k(Esc)], |_| Msg::Back, "cancel (so does any other key)", hint("cancel")),
    bind!(Overlay, [k(Up), c('k')], |_| Msg::Up, "scroll", hint_k("↑↓", "scroll")),
    bind!(Overlay, [k(Down), c('j')], |_| Msg::Down, "", None),
    bind!(Overlay, [k(PageUp)], |_| Msg::PageUp, "scroll a page", None),
    bind!(Overlay, [k(PageDown), c(' ')], |_| Msg::PageDown, "", None),
    bind!(Overlay, [c('q')], |_| Msg::Quit, "quit", hint_keep("quit")),
    // ---- KQL view ----
    bind!(Kql, [k(Up), c('k')], |_| Msg::Up, "scroll", hint_k("↑↓", "scroll")),
    bind!(Kql, [k(Down), c('j')], |_| Msg::Down, "", None),
    bind!(Kql, [k(PageUp)], |_| Msg::PageUp, "scroll a page", None),
    bind!(Kql, [k(PageDown), c(' ')], |_| Msg::PageDown, "", None),
    bind!(Kql, [k(Home), c('g')], |_| Msg::Home, "first / last line", None),
    bind!(Kql, [k(End), c('G')], |_| Msg::End, "", None),
    bind!(
        Kql,
        [c('y'), c('c')],
        |_| Msg::CopyKql,
        "copy the query to the clipboard (OSC 52; tmux: set-clipboard on)",
        hint("copy")
    ),
    bind!(
        Kql,
        [c('w'), c('e')],
        |_| Msg::StartExport,
        "write the query to a file (asks before overwriting)",
        hint("write")
    ),
    bind!(Kql, [c('d'), k(Tab)], |_| Msg::SwitchDialect, "switch dialect: Sentinel / Defender XDR", hint("dialect")),
    bind!(Kql, [k(Esc), c('K')], |_| Msg::Back, "close the KQL view", hint_keep("close")),
    bind!(Kql, [c('q')], |_| Msg::Quit, "quit", hint_keep("quit")),
];

/// How many hunts the number keys select.
fn hunt_count() -> usize {
    rarity::hunt::registry().len()
}

/// The text of one key, as help and hints show it.
pub fn key_label(key: K) -> String {
    match key {
        K::HuntNumber => format!("1-{}", hunt_count()),
        K::Ctrl(ch) => format!("Ctrl-{}", ch.to_ascii_uppercase()),
        K::Key(code) => match code {
            KeyCode::Char(' ') => "Space".into(),
            KeyCode::Char(ch) => ch.to_string(),
            Up => "↑".into(),
            Down => "↓".into(),
            Left => "←".into(),
            Right => "→".into(),
            PageUp => "PgUp".into(),
            PageDown => "PgDn".into(),
            BackTab => "Shift-Tab".into(),
            Backspace => "Backspace".into(),
            other => format!("{other}"),
        },
    }
}

/// All of a binding's keys, as help shows them.
pub fn keys_label(b: &Binding) -> String {
    b.keys.iter().map(|&k| key_label(k)).collect::<Vec<_>>().join("  ")
}

/// Which binding context the app is in, for dispatch and hints.
fn contexts(app: &App) -> &'static [Ctx] {
    match app.phase {
        Phase::Loading(_) if app.prompt == Prompt::ConfirmStopLoading => &[Ctx::StopLoading],
        Phase::Loading(_) => &[Ctx::Loading],
        Phase::Failed(_) => &[Ctx::Failed],
        Phase::Ready => match &app.prompt {
            Prompt::Filter { .. } | Prompt::Edit { .. } | Prompt::Export { .. } | Prompt::Note { .. } => &[Ctx::Input],
            Prompt::Verdict => &[Ctx::Verdict],
            Prompt::ConfirmOverwrite { .. } | Prompt::ConfirmReset | Prompt::ConfirmExclude { .. } => &[Ctx::Confirm],
            Prompt::ConfirmStopLoading => &[Ctx::StopLoading],
            Prompt::Help | Prompt::LoadReport => &[Ctx::Overlay],
            Prompt::Kql => &[Ctx::Kql],
            Prompt::None => match app.focus {
                // Panel keys first: `h`/`l` step a value there, `e` edits.
                Focus::Params => &[Ctx::Params, Ctx::Anywhere],
                Focus::Table => &[Ctx::Table, Ctx::Anywhere],
            },
        },
    }
}

fn matches(key: K, ev: &KeyEvent) -> Option<usize> {
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    match key {
        K::Ctrl(ch) => (ctrl && ev.code == KeyCode::Char(ch)).then_some(0),
        K::Key(code) => (!ctrl && ev.code == code).then_some(0),
        K::HuntNumber => match ev.code {
            KeyCode::Char(d) if !ctrl => {
                let n = d.to_digit(10)? as usize;
                (1..=hunt_count()).contains(&n).then(|| n - 1)
            }
            _ => None,
        },
    }
}

/// Translate a terminal event, or None when it means nothing here.
pub fn map_event(app: &App, ev: &Event) -> Option<Msg> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => map_key(app, k),
        Event::Resize(w, h) => Some(Msg::Resize(*w, *h)),
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollDown => Some(Msg::Scroll(3)),
            MouseEventKind::ScrollUp => Some(Msg::Scroll(-3)),
            MouseEventKind::Down(MouseButton::Left) => Some(Msg::Click { x: m.column, y: m.row }),
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

/// The message for a key in the app's current context.
pub fn map_key(app: &App, ev: &KeyEvent) -> Option<Msg> {
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && ev.code == KeyCode::Char('c') {
        return Some(Msg::Quit);
    }
    let ctxs = contexts(app);
    for &ctx in ctxs {
        for b in BINDINGS.iter().filter(|b| b.ctx == ctx) {
            if let Some(arg) = b.keys.iter().find_map(|&k| matches(k, ev)) {
                return Some((b.msg)(arg));
            }
        }
    }
    match ctxs.first() {
        Some(Ctx::Input) => match ev.code {
            KeyCode::Char(ch) if !ctrl => Some(Msg::Input(InputKey::Char(ch))),
            _ => None,
        },
        // Any other key closes help and the load report.
        Some(Ctx::Overlay) => Some(Msg::ToggleHelp),
        Some(Ctx::Verdict) => Some(Msg::Back),
        Some(Ctx::Table | Ctx::Params | Ctx::Kql) => match ev.code {
            KeyCode::Char(ch) => Some(Msg::Unbound(if ctrl { format!("Ctrl-{ch}") } else { ch.to_string() })),
            _ => None,
        },
        _ => None,
    }
}

/// The help overlay's sections: (heading, [(keys, what they do)]).
pub fn help_sections() -> Vec<(&'static str, Vec<(String, &'static str)>)> {
    let order = [Ctx::Anywhere, Ctx::Table, Ctx::Verdict, Ctx::Params, Ctx::Kql, Ctx::Input, Ctx::Confirm];
    order
        .iter()
        .map(|&ctx| {
            let mut rows: Vec<(String, &'static str)> = Vec::new();
            for b in BINDINGS.iter().filter(|b| b.ctx == ctx) {
                match rows.last_mut() {
                    Some(last) if b.help.is_empty() => {
                        last.0.push_str("  ");
                        last.0.push_str(&keys_label(b));
                    }
                    _ => rows.push((keys_label(b), b.help)),
                }
            }
            (ctx.title(), rows)
        })
        .collect()
}

/// The hint bar for the app's state: (keys, text, keep when narrow), in table order.
pub fn hints(app: &App) -> Vec<(String, &'static str, bool)> {
    let drilled = !app.tab().stack.is_empty();
    let mut out: Vec<(String, &'static str, bool)> = Vec::new();
    // Keys that work anywhere lead the bar; dispatch tries the focused context first.
    let mut ctxs = contexts(app).to_vec();
    ctxs.sort_by_key(|c| *c != Ctx::Anywhere);
    for ctx in ctxs {
        for b in BINDINGS.iter().filter(|b| b.ctx == ctx) {
            let Some(h) = b.hint else { continue };
            let shown = match h.when {
                When::Always => true,
                When::Results => !drilled,
                When::Drilled => drilled,
            };
            if shown {
                let keys = h.keys.map_or_else(|| key_label(b.keys[0]), str::to_string);
                out.push((keys, h.text, h.keep));
            }
        }
    }
    // Hints that must survive a narrow bar go last, so dropping from the middle keeps them.
    out.sort_by_key(|h| h.2);
    out
}

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

    #[test]
    fn no_key_is_bound_twice_in_one_context() {
        let mut seen = std::collections::HashSet::new();
        for b in BINDINGS {
            for key in b.keys {
                assert!(seen.insert((b.ctx, *key)), "{key:?} bound twice in {:?}", b.ctx);
            }
        }
    }

    #[test]
    fn number_label_follows_the_registry() {
        assert_eq!(key_label(K::HuntNumber), format!("1-{}", rarity::hunt::registry().len()));
    }
}
