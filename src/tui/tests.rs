//! App-level tests: drive `Msg`s into `App` (no terminal) and render into ratatui's
//! `TestBackend`. Hand-made `HuntOutput`s here exercise the UI alone; `engine_tests` runs the
//! real engine over a small dataset.

use super::app::{App, EditTarget, Focus, PanelLine, Prompt};
use super::msg::{Cmd, DrillDone, DrillRequest, HuntDone, InputKey, Level, Msg, Section, SectionKind, Summary};
use super::table::{Column, TableState};
use super::view;
use rarity::hunt::{Cell, CellKind, HuntId, HuntOutput, HuntParams, ParamValue};
use rarity::ingest::Progress;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::path::PathBuf;
use std::time::Duration;

const T0: i64 = 1_763_640_000_000_000_000; // 2025-11-20T12:00:00Z

pub(crate) fn text(s: &str) -> Cell {
    Cell::Text(s.to_string())
}

pub(crate) fn summary() -> Summary {
    Summary {
        net_events: 123_456,
        vm_rows: 900,
        devices: 37,
        earliest: Some(T0 - 30 * 86_400 * 1_000_000_000),
        latest: Some(T0),
        now: T0,
        geoip: Some("sample-country.mmdb".into()),
        ti_entries: 1_500,
        rejected: 0,
        skipped: 0,
        problems: Vec::new(),
        snapshot: None,
        clock: Vec::new(),
        stopped: None,
    }
}

fn rare_rows() -> Vec<Vec<Cell>> {
    vec![
        vec![
            text("evil.exe"),
            Cell::Int(1),
            Cell::TextSet(vec!["d41d8cd98f00b204e9800998ecf8427e".into()]),
            text("C:\\Users\\bob\\evil.exe -c \x1b]0;pwned\x07"),
            text("203.0.113.9"),
            Cell::IntSet(vec![4444]),
            text("Netherlands"),
            Cell::Int(12),
        ],
        vec![
            text("update\u{202E}txt.exe"),
            Cell::Int(2),
            Cell::TextSet(vec![]),
            text("update.exe /quiet"),
            text("198.51.100.20"),
            Cell::IntSet(vec![8443, 9001]),
            text("Germany"),
            Cell::Int(3),
        ],
        vec![
            text("putty.exe"),
            Cell::Int(3),
            Cell::TextSet(vec!["0cc175b9c0f1b6a831c399e269772661".into()]),
            text("putty.exe -ssh admin@host"),
            text("192.0.2.44"),
            Cell::IntSet(vec![22]),
            Cell::Empty,
            Cell::Int(7),
        ],
    ]
}

/// A plausible row for every column of `hunt`.
fn sample_row(hunt: HuntId, i: i64) -> Vec<Cell> {
    hunt.spec()
        .columns
        .iter()
        .enumerate()
        .map(|(c, col)| match col.kind {
            CellKind::Text => text(&format!("{}-{i}", col.name.to_lowercase())),
            CellKind::Int => Cell::Int(i * 10 + c as i64),
            CellKind::Time => Cell::Time(T0 - i * 3_600_000_000_000),
            CellKind::TextSet => Cell::TextSet(vec![format!("a{i}.example"), format!("b{i}.example")]),
            CellKind::IntSet => Cell::IntSet(vec![22, 443 + i]),
        })
        .collect()
}

pub(crate) fn output(hunt: HuntId, rows: Vec<Vec<Cell>>) -> HuntOutput {
    let banner = (hunt == rarity::hunt::vm_new_country::ID && rows.len() > 5)
        .then(|| format!("{} new outbound connections (alert above 5)", rows.len()));
    let keys = (0..rows.len()).map(|_| Default::default()).collect();
    HuntOutput { hunt, columns: hunt.spec().columns, rows, keys, params: HuntParams::defaults(hunt), banner, now: T0 }
}

fn fake_output(hunt: HuntId) -> HuntOutput {
    match hunt {
        rarity::hunt::rare_process::ID => output(hunt, rare_rows()),
        rarity::hunt::vm_new_country::ID => output(hunt, (0..7).map(|i| sample_row(hunt, i)).collect()),
        _ => output(hunt, (0..4).map(|i| sample_row(hunt, i)).collect()),
    }
}

/// Answer the app's commands with `answer` until it asks for nothing more.
/// What the case writer thread does, done in line.
pub(crate) fn save_case(path: PathBuf, mut case: rarity::case::CaseFile) -> Option<Msg> {
    let result = match case.save(&path) {
        Ok(w) => Ok(super::msg::CaseSaved { merged: case, warning: w.map(|e| e.to_string()) }),
        Err(e) => Err(e.to_string()),
    };
    Some(Msg::CaseSaved(result))
}

pub(crate) fn settle(app: &mut App, answer: &mut dyn FnMut(Cmd) -> Option<Msg>) {
    for _ in 0..100 {
        let cmds: Vec<Cmd> = app.cmds.drain(..).collect();
        if cmds.is_empty() {
            return;
        }
        for c in cmds {
            // File-system jobs run here as the I/O thread would run them.
            let m = match c {
                Cmd::Io(job) => Some(super::jobs::run(job)),
                Cmd::SaveCase { path, case } => save_case(path, case),
                c => answer(c),
            };
            if let Some(m) = m {
                app.update(m);
            }
        }
    }
    panic!("the app kept asking for work");
}

pub(crate) fn fake_answer(cmd: Cmd) -> Option<Msg> {
    match cmd {
        Cmd::Run { hunt, gen, .. } => Some(Msg::HuntDone(HuntDone {
            hunt,
            gen,
            result: Ok(fake_output(hunt)),
            elapsed: Duration::from_millis(12),
        })),
        Cmd::Drill { hunt, gen, req } => {
            Some(Msg::DrillDone(DrillDone { hunt, gen, result: Ok(fake_drill(&req, &|_| {})) }))
        }
        Cmd::Why { hunt, gen, row, .. } => {
            Some(Msg::WhyDone { hunt, gen, row, line: format!("fake why of row {row}") })
        }
        Cmd::Sweep { .. }
        | Cmd::Io(_)
        | Cmd::CancelLoad
        | Cmd::SaveCase { .. }
        | Cmd::Terminal(_)
        | Cmd::CopyToClipboard(_) => None,
    }
}

/// A fake worker's answer to a drill-down request; `edit` changes the finding's level first
/// (events and records are cut from it, as the engine's would be from the same events).
fn fake_drill(req: &DrillRequest, edit: &dyn Fn(&mut Level)) -> Level {
    let mut finding = fake_level(&[text("x")]);
    edit(&mut finding);
    let events = finding.sections[1].clone();
    match req {
        DrillRequest::Finding { output, row } => {
            finding.title = super::table::display_cell(&output.rows[*row][0]);
            finding
        }
        DrillRequest::Facet { value, .. } => {
            let ip = super::table::display_cell(&value.to_cell());
            let keep: Vec<usize> = (0..events.table.rows.len())
                .filter(|&r| super::table::display_cell(&events.table.rows[r][2]) == ip)
                .collect();
            let rows = keep.iter().map(|&r| events.table.rows[r].clone()).collect();
            let table = TableState::new(events.table.columns.clone(), rows, 1);
            let kind = SectionKind::Events { table: rarity::model::tables::TableKind::DeviceNetworkEvents, rows: keep };
            Level {
                title: ip,
                sections: vec![Section { name: "Events".into(), table, kind, note: None }],
                active: 0,
                insight: None,
            }
        }
        DrillRequest::Pivot { value, .. } => {
            Level { title: value.clone(), sections: vec![events], active: 0, insight: None }
        }
        DrillRequest::Record { row, .. } => {
            let t = &events.table;
            let rows =
                t.columns.iter().zip(&t.rows[*row]).map(|(c, v)| vec![Cell::Text(c.name.clone()), v.clone()]).collect();
            let table = TableState::new(
                vec![Column::new("Column", CellKind::Text), Column::new("Value", CellKind::Text)],
                rows,
                1,
            );
            let section = Section { name: super::msg::RECORD.into(), table, kind: SectionKind::Record, note: None };
            Level { title: format!("event {}", row + 1), sections: vec![section], active: 0, insight: None }
        }
    }
}

fn fake_facet(values: Vec<rarity::hunt::FacetValue>) -> SectionKind {
    let drill = rarity::hunt::DrillOutput {
        hunt: rarity::hunt::rare_process::ID,
        table: rarity::model::tables::TableKind::DeviceNetworkEvents,
        rows: Vec::new(),
        facets: Vec::new(),
        remote_ips: Vec::new(),
    };
    SectionKind::Facet { drill: std::sync::Arc::new(drill), facet: rarity::hunt::FacetKind::RemoteIps, values }
}

fn fake_level(row: &[Cell]) -> Level {
    let ips_values =
        ["203.0.113.9", "203.0.113.10"].iter().map(|s| rarity::hunt::FacetValue::Ip(s.parse().unwrap())).collect();
    let ips = TableState::new(
        vec![
            Column::with_pivot("RemoteIP", CellKind::Text, Some(rarity::hunt::Pivot::Ip)),
            Column::new("Events", CellKind::Int),
            Column::new("Country", CellKind::Text),
            Column::new("TiCount", CellKind::Int),
        ],
        vec![
            vec![text("203.0.113.9"), Cell::Int(10), text("Netherlands"), Cell::Int(5)],
            vec![text("203.0.113.10"), Cell::Int(2), text("Netherlands"), Cell::Empty],
        ],
        1,
    );
    let events = TableState::new(
        vec![
            Column::new("Timestamp", CellKind::Text),
            Column::new("DeviceName", CellKind::Text),
            Column::new("RemoteIP", CellKind::Text),
            Column::new("InitiatingProcessCommandLine", CellKind::Text),
        ],
        vec![
            vec![text("2025-11-20T11:00:00Z"), text("ws-01"), text("203.0.113.9"), text("evil.exe -c \x1b[2J")],
            vec![text("2025-11-20T11:05:00Z"), text("ws-01"), text("203.0.113.10"), text("evil.exe -c x")],
        ],
        1,
    );
    Level {
        title: super::table::display_cell(&row[0]),
        sections: vec![
            Section { name: "Remote IPs".into(), table: ips, kind: fake_facet(ips_values), note: None },
            Section {
                name: "Events".into(),
                table: events,
                kind: SectionKind::Events {
                    table: rarity::model::tables::TableKind::DeviceNetworkEvents,
                    rows: vec![0, 1],
                },
                note: None,
            },
        ],
        active: 0,
        insight: None,
    }
}

pub(crate) fn new_app(cwd: PathBuf) -> App {
    let mut app = App::new(None, None, cwd);
    app.clock = || "12:00:00".into();
    app.update(Msg::Resize(120, 30));
    app
}

pub(crate) fn ready_app() -> App {
    let mut app = new_app(std::env::temp_dir());
    app.update(Msg::Loaded(Box::new(summary())));
    settle(&mut app, &mut fake_answer);
    app
}

pub(crate) fn render(app: &App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| view::render(app, f)).unwrap();
    let buf = term.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Run the file-system jobs the app asked for (export, saving the tuning); drop the rest.
pub(crate) fn run_io(app: &mut App) {
    settle(app, &mut |_| None);
}

pub(crate) fn keys(app: &mut App, s: &str) {
    for c in s.chars() {
        app.update(Msg::Input(InputKey::Char(c)));
    }
}

#[test]
fn every_hunt_tab_renders_its_results() {
    let mut app = ready_app();
    for (i, hunt) in HuntId::all().enumerate() {
        app.update(Msg::SelectHunt(i));
        let screen = render(&app, 120, 30);
        assert!(screen.contains(hunt.key()), "{screen}");
        assert!(screen.contains(hunt.spec().columns[0].name), "{screen}");
        insta::assert_snapshot!(format!("tab_{}", hunt.key()), screen);
    }
}

#[test]
fn tabs_show_live_result_counts() {
    let mut app = ready_app();
    app.update(Msg::Resize(200, 30));
    let screen = render(&app, 200, 30);
    assert!(screen.contains("1 Rare process (3 · 3 unreviewed)"), "{screen}");
    assert!(screen.contains("2 VM new country (7 · 7 unreviewed)"), "{screen}");
    // Narrower: short names, rows/unreviewed.
    app.update(Msg::Resize(120, 30));
    let screen = render(&app, 120, 30);
    assert!(screen.contains("1 Rare 3/3?"), "{screen}");
    assert!(screen.contains("2 VM 7/7?"), "{screen}");
}

#[test]
fn event_strings_render_as_visible_placeholders() {
    let app = ready_app();
    let screen = render(&app, 160, 30);
    assert!(screen.contains("update<U+202E>txt.exe"), "{screen}");
    assert!(screen.contains("␛]0;pwned␇"), "{screen}");
    assert!(!screen.contains('\u{1b}') && !screen.contains('\u{202E}') && !screen.contains('\u{7}'));
}

#[test]
fn help_overlay_lists_keys_and_closes_on_any_key() {
    let mut app = ready_app();
    app.update(Msg::ToggleHelp);
    let screen = render(&app, 120, 40);
    assert!(screen.contains("any other key closes"), "{screen}");
    insta::assert_snapshot!("help", screen);
    // A short terminal gets two columns and scrolls, so every section still shows.
    let short = render(&app, 140, 26);
    for needle in ["Anywhere", "Table", "Parameter panel"] {
        assert!(short.contains(needle), "{needle} missing:\n{short}");
    }
    app.update(Msg::Resize(140, 26));
    // Every section is reached by scrolling down a page at a time.
    let mut scrolled = short.clone();
    for _ in 0..4 {
        app.update(Msg::PageDown);
        scrolled.push_str(&render(&app, 140, 26));
    }
    for needle in ["Prompts", "answer a question", "known_domains", "Verdict (after v)"] {
        assert!(scrolled.contains(needle), "{needle} missing after scrolling:\n{scrolled}");
    }
    // Every binding's help text is in the overlay: it is generated from the one key table.
    app.update(Msg::Resize(200, 80));
    let all = render(&app, 200, 80);
    for b in super::keys::BINDINGS.iter().filter(|b| !b.help.is_empty()) {
        if matches!(b.ctx, super::keys::Ctx::Anywhere | super::keys::Ctx::Table | super::keys::Ctx::Params) {
            let start: String = b.help.chars().take(40).collect();
            assert!(all.contains(&start), "{} missing:\n{all}", b.help);
        }
    }
    app.update(Msg::ToggleHelp);
    assert_eq!(app.prompt, Prompt::None);
}

#[test]
fn loading_shows_progress_and_esc_asks_before_stopping() {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut app = new_app(std::env::temp_dir());
    app.update(Msg::LoadProgress(Progress {
        files_total: 4,
        files_done: 1,
        bytes_total: 4 * 1024 * 1024,
        bytes_done: 1024 * 1024,
        rows: 52_000,
        current: "data/DeviceNetworkEvents.csv".into(),
    }));
    let screen = render(&app, 100, 24);
    assert!(screen.contains("file 2 of 4"), "{screen}");
    assert!(screen.contains("1.0 MiB / 4.0 MiB"), "{screen}");
    assert!(screen.contains("52,000 rows read"), "{screen}");
    insta::assert_snapshot!("progress", screen);
    // Esc asks first: keep the files finished so far, quit, or keep loading.
    app.update(Msg::Back);
    assert_eq!(app.prompt, Prompt::ConfirmStopLoading);
    assert!(app.cmds.is_empty());
    let asked = render(&app, 100, 24);
    assert!(asked.contains("Stop loading?") && asked.contains("1 of 4 files finished so far"), "{asked}");
    assert!(asked.contains("keep what is loaded") && asked.contains("quit"), "{asked}");
    assert!(asked.contains("keep loading"), "{asked}");
    let key = |app: &App, code| super::keys::map_key(app, &KeyEvent::new(code, KeyModifiers::NONE)).unwrap();
    // Esc (or n) keeps loading.
    let esc = key(&app, KeyCode::Esc);
    app.update(esc);
    assert_eq!(app.prompt, Prompt::None);
    assert!(app.cmds.is_empty() && !app.cancelling, "Esc keeps loading");
    // k stops the loader, which then opens what it finished.
    app.update(Msg::Back);
    let k = key(&app, KeyCode::Char('k'));
    app.update(k);
    assert!(matches!(app.cmds.as_slice(), [Cmd::CancelLoad]));
    assert!(!app.quit, "keeping what is loaded does not quit");
    assert!(render(&app, 100, 24).contains("opening the files finished so far"));
    // q in the question quits at once.
    let mut app = new_app(std::env::temp_dir());
    app.update(Msg::Back);
    let q = key(&app, KeyCode::Char('q'));
    app.update(q);
    assert!(app.quit && matches!(app.cmds.as_slice(), [Cmd::CancelLoad]));
}

#[test]
fn a_stopped_load_opens_the_finished_files_and_says_it_is_partial() {
    use rarity::ingest::{self, Input, LoadOptions};
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let header = "Timestamp,DeviceName,ActionType,RemoteIP,RemotePort,InitiatingProcessFileName\n";
    let rows = |n: usize| -> String {
        let body: String = (0..n)
            .map(|i| {
                format!("2024-01-01T00:{:02}:00Z,d{i},ConnectionSuccess,203.0.113.{},443,a.exe\n", i % 60, i % 250)
            })
            .collect();
        format!("{header}{body}")
    };
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    std::fs::write(&a, rows(40)).unwrap();
    std::fs::write(&b, rows(70_000)).unwrap();
    let cancel = AtomicBool::new(false);
    let on_progress = |p: &ingest::Progress| {
        if p.current.ends_with("b.csv") {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let inputs = [Input::Path(a), Input::Path(b)];
    let (ds, report) = ingest::load(&inputs, &[], None, &LoadOptions::default(), &on_progress, &cancel).unwrap();
    assert_eq!(ds.net.len(), 40);
    let summary = crate::tui::summarize(&ds, &report, None);
    assert_eq!(summary.stopped.as_deref(), Some("loading stopped: 1 input loaded, 1 left out"));
    assert_eq!(summary.problems.first(), summary.stopped.as_ref());
    let mut app = new_app(std::env::temp_dir());
    app.update(Msg::Loaded(Box::new(summary)));
    assert!(matches!(app.phase, super::app::Phase::Ready));
    let screen = render(&app, 120, 30);
    assert!(screen.contains("⚠ partial load (L)"), "{screen}");
    assert!(screen.contains("loading stopped: 1 input loaded"), "the status says so too: {screen}");
    app.update(Msg::ShowLoadReport);
    let report = render(&app, 120, 30);
    assert!(report.contains("b.csv skipped: loading was stopped while reading"), "{report}");
}

#[test]
fn a_source_that_ends_before_every_window_is_named_in_the_header_and_load_report() {
    use rarity::ingest::{self, Input, LoadOptions};
    use std::sync::atomic::AtomicBool;
    let dir = tempfile::tempdir().unwrap();
    let header = "Timestamp,DeviceName,ActionType,RemoteIP,RemotePort,InitiatingProcessFileName\n";
    let (new, old) = (dir.path().join("new.csv"), dir.path().join("old.csv"));
    std::fs::write(&new, format!("{header}2024-03-01T10:00:00Z,d1,ConnectionSuccess,203.0.113.1,443,a.exe\n")).unwrap();
    std::fs::write(&old, format!("{header}2021-05-13T10:00:00Z,d2,ConnectionSuccess,203.0.113.2,443,b.exe\n")).unwrap();
    let cancel = AtomicBool::new(false);
    let inputs = [Input::Path(new), Input::Path(old)];
    let (ds, report) = ingest::load(&inputs, &[], None, &LoadOptions::default(), &|_| {}, &cancel).unwrap();
    let summary = crate::tui::summarize(&ds, &report, None);
    assert_eq!(summary.clock.len(), 1, "{:?}", summary.clock);
    assert!(
        summary.clock[0].contains("old.csv") && summary.clock[0].contains("Try --now 2021-05-13"),
        "{:?}",
        summary.clock
    );
    assert_eq!(summary.problems.first(), summary.clock.first(), "the clock comes first in the report");
    let mut app = new_app(std::env::temp_dir());
    app.update(Msg::Loaded(Box::new(summary)));
    let wide = render(&app, 200, 30);
    assert!(wide.contains("⚠ 1 source ends before every window: try --now (L)"), "{wide}");
    let narrow = render(&app, 100, 30);
    assert!(narrow.contains("⚠ clock (L)"), "{narrow}");
    app.update(Msg::ShowLoadReport);
    let report = render(&app, 200, 40);
    assert!(report.contains("Try --now 2021-05-13"), "{report}");
}

#[test]
fn the_stop_question_closes_when_loading_ends() {
    let mut app = new_app(std::env::temp_dir());
    app.update(Msg::Back);
    assert_eq!(app.prompt, Prompt::ConfirmStopLoading);
    app.update(Msg::Loaded(Box::new(summary())));
    assert_eq!(app.prompt, Prompt::None);
}

#[test]
fn the_progress_label_never_covers_the_bar_on_a_narrow_terminal() {
    let mut app = new_app(std::env::temp_dir());
    app.update(Msg::Resize(60, 15));
    app.update(Msg::LoadProgress(Progress {
        files_total: 1,
        files_done: 0,
        bytes_total: 4 * 1024 * 1024,
        bytes_done: 2 * 1024 * 1024,
        rows: 10,
        current: "x.csv".into(),
    }));
    let screen = render(&app, 60, 15);
    let lines: Vec<&str> = screen.lines().collect();
    let bar = lines.iter().position(|l| l.contains('█')).unwrap_or_else(|| panic!("no bar:\n{screen}"));
    let label = lines.iter().position(|l| l.contains("2.0 MiB / 4.0 MiB")).unwrap_or_else(|| panic!("{screen}"));
    assert_ne!(bar, label, "{screen}");
    assert!(lines[label].contains("50%"), "{screen}");
    // The bar's line holds nothing but the frame and the bar.
    let inside: String = lines[bar].chars().filter(|c| !matches!(c, '│' | '█' | ' ')).collect();
    assert!(inside.is_empty(), "text over the bar: {:?}\n{screen}", lines[bar]);
}

#[test]
fn tiny_terminal_shows_a_message_instead_of_the_layout() {
    let app = ready_app();
    let screen = render(&app, 40, 10);
    assert!(screen.contains("Terminal too small"), "{screen}");
    assert!(screen.contains("need 60x15, have 40x10"), "{screen}");
    insta::assert_snapshot!("tiny", screen);
}

#[test]
fn stale_results_are_dropped() {
    let mut app = ready_app();
    app.update(Msg::FocusParams);
    // max_devices is the last parameter of rare-process.
    app.update(Msg::End);
    app.update(Msg::ParamStep(1));
    app.update(Msg::ParamStep(1));
    let gens: Vec<u64> = app
        .cmds
        .iter()
        .filter_map(|c| match c {
            Cmd::Run { gen, .. } => Some(*gen),
            _ => None,
        })
        .collect();
    assert_eq!(gens.len(), 2);
    app.cmds.clear();
    // The older job answers last: it must not replace anything.
    app.update(Msg::HuntDone(HuntDone {
        hunt: rarity::hunt::rare_process::ID,
        gen: gens[0],
        result: Ok(output(rarity::hunt::rare_process::ID, vec![])),
        elapsed: Duration::ZERO,
    }));
    assert_eq!(app.tab().count(), Some(3));
    assert!(app.tab().computing());
    app.update(Msg::HuntDone(HuntDone {
        hunt: rarity::hunt::rare_process::ID,
        gen: gens[1],
        result: Ok(output(rarity::hunt::rare_process::ID, rare_rows()[..1].to_vec())),
        elapsed: Duration::ZERO,
    }));
    assert_eq!(app.tab().count(), Some(1));
    let status = app.status.clone().unwrap().text;
    assert!(status.contains("max_devices: 5 → 6 - -2 rows"), "{status}");
}

#[test]
fn invalid_parameter_input_keeps_the_old_value_and_shows_an_error() {
    let mut app = ready_app();
    app.update(Msg::FocusParams);
    // lookback is the first line.
    app.update(Msg::Enter);
    assert!(matches!(app.prompt, Prompt::Edit { target: EditTarget::Scalar(0), .. }));
    app.update(Msg::Input(InputKey::Clear));
    keys(&mut app, "30x");
    app.update(Msg::Input(InputKey::Submit));
    let Prompt::Edit { error: Some(e), .. } = &app.prompt else { panic!("{:?}", app.prompt) };
    assert!(e.contains("30x"), "{e}");
    assert_eq!(app.tab().params, HuntParams::defaults(rarity::hunt::rare_process::ID));
    assert!(app.cmds.is_empty(), "no recompute for a rejected value");
    let screen = render(&app, 120, 30);
    assert!(screen.contains("✗ `30x` is not a duration"), "{screen}");
    app.update(Msg::Input(InputKey::Cancel));
    assert_eq!(app.prompt, Prompt::None);

    // A bad CIDR added to excluded_nets is refused the same way.
    let lines = super::app::panel_lines(&app.tab().params);
    let add = lines.iter().position(|l| *l == PanelLine::Add(1)).unwrap();
    app.update(Msg::Home);
    app.update(Msg::Scroll(add as isize));
    app.update(Msg::Enter);
    keys(&mut app, "10.0.0.0/33");
    app.update(Msg::Input(InputKey::Submit));
    assert!(matches!(&app.prompt, Prompt::Edit { error: Some(_), .. }));
    assert_eq!(app.tab().params, HuntParams::defaults(rarity::hunt::rare_process::ID));
}

#[test]
fn typed_values_and_list_edits_apply_and_recompute() {
    let mut app = ready_app();
    app.update(Msg::FocusParams);
    app.update(Msg::Enter);
    app.update(Msg::Input(InputKey::Clear));
    keys(&mut app, "7d");
    app.update(Msg::Input(InputKey::Submit));
    assert_eq!(app.prompt, Prompt::None);
    assert_eq!(app.tab().params.get("lookback").to_text(), "7d");
    assert!(matches!(app.cmds.as_slice(), [Cmd::Run { hunt: rarity::hunt::rare_process::ID, .. }]));
    settle(&mut app, &mut fake_answer);
    // Toggle the first excluded network off, then delete it.
    app.update(Msg::Down);
    app.update(Msg::Down);
    assert_eq!(super::app::panel_lines(&app.tab().params)[app.tab().panel_cursor], PanelLine::Item(1, 0));
    app.update(Msg::ParamToggle);
    let ParamValue::List(items) = app.tab().params.get("excluded_nets") else { panic!() };
    assert!(!items[0].enabled);
    settle(&mut app, &mut fake_answer);
    assert!(app.status.as_ref().unwrap().text.contains("excluded_nets: 100.0.0.0/16 off"), "{:?}", app.status);
    app.update(Msg::ParamDelete);
    assert_eq!(app.tab().params.enabled("excluded_nets"), vec!["200.200.200.0/24"]);
    // Reset asks first.
    app.update(Msg::AskReset);
    assert_eq!(app.prompt, Prompt::ConfirmReset);
    app.update(Msg::Answer(true));
    assert_eq!(app.tab().params, HuntParams::defaults(rarity::hunt::rare_process::ID));
}

#[test]
fn filter_narrows_the_table_and_esc_clears_it() {
    let mut app = ready_app();
    app.update(Msg::StartFilter);
    keys(&mut app, "ssh admin");
    assert_eq!(app.current_table().unwrap().view.len(), 1);
    let screen = render(&app, 120, 30);
    assert!(screen.contains("1 of 3 rows match"), "{screen}");
    app.update(Msg::Input(InputKey::Submit));
    assert_eq!(app.current_table().unwrap().view.len(), 1, "Enter keeps the filter");
    app.update(Msg::Back);
    assert_eq!(app.current_table().unwrap().view.len(), 3);
}

#[test]
fn drill_down_and_back_keeps_a_stack_per_tab() {
    let mut app = ready_app();
    app.update(Msg::Enter);
    settle(&mut app, &mut fake_answer);
    assert_eq!(app.tab().stack.len(), 1);
    let screen = render(&app, 120, 30);
    assert!(screen.contains("rare-process › evil.exe"), "{screen}");
    assert!(screen.contains("Remote IPs (2)"), "{screen}");
    insta::assert_snapshot!("drill", screen);
    // Enter on a remote IP shows the events with it.
    app.update(Msg::Down);
    app.update(Msg::Enter);
    settle(&mut app, &mut fake_answer);
    let section = app.current_section().unwrap();
    assert!(section.is_events());
    assert_eq!(section.table.rows.len(), 1);
    assert_eq!(super::table::display_cell(&section.table.rows[0][2]), "203.0.113.10");
    app.update(Msg::Back);
    assert_eq!(app.current_table().unwrap().view.len(), 2, "Esc clears the filter first");
    // One event's full record.
    app.update(Msg::NextSection);
    app.update(Msg::Home);
    app.update(Msg::Enter);
    settle(&mut app, &mut fake_answer);
    assert_eq!(app.tab().stack.len(), 2);
    let screen = render(&app, 120, 30);
    assert!(screen.contains("InitiatingProcessCommandLine") && screen.contains("␛[2J"), "{screen}");
    // Another tab has its own (empty) stack.
    app.update(Msg::SelectHunt(3));
    assert!(app.tab().stack.is_empty());
    app.update(Msg::SelectHunt(0));
    app.update(Msg::Back);
    app.update(Msg::Back);
    assert!(app.tab().stack.is_empty());
}

#[test]
fn actions_from_a_drill_down_add_to_the_hunt_lists() {
    let mut app = ready_app();
    app.update(Msg::Enter);
    settle(&mut app, &mut fake_answer);
    app.update(Msg::ExcludeIp);
    assert!(app.tabs[0].params.enabled("excluded_nets").contains(&"203.0.113.9/32"));
    app.update(Msg::ExcludeNet);
    app.update(Msg::Answer(true));
    assert!(app.tabs[0].params.enabled("excluded_nets").contains(&"203.0.113.0/24"));
    app.update(Msg::Back);
    app.update(Msg::AddBrowser);
    assert!(app.tabs[0].params.enabled("browsers").contains(&"evil.exe"));
}

#[test]
fn sort_and_marks_follow_the_keys() {
    let mut app = ready_app();
    for _ in 0..7 {
        app.update(Msg::Right);
    }
    app.update(Msg::SortDesc);
    let t = app.current_table().unwrap();
    assert_eq!(t.columns[t.col].name, "EventCount");
    assert_eq!(t.view, vec![0, 2, 1]);
    app.update(Msg::ToggleMark);
    app.update(Msg::ToggleMark);
    assert_eq!(app.current_table().unwrap().marked.len(), 2);
    app.update(Msg::MarkNone);
    assert!(app.current_table().unwrap().marked.is_empty());
    app.update(Msg::MarkAll);
    assert_eq!(app.current_table().unwrap().marked.len(), 3);
}

#[test]
fn export_writes_marked_rows_and_refuses_to_overwrite_without_asking() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = new_app(dir.path().to_path_buf());
    app.update(Msg::Loaded(Box::new(summary())));
    settle(&mut app, &mut fake_answer);
    app.update(Msg::Down);
    app.update(Msg::ToggleMark);
    app.update(Msg::StartExport);
    let Prompt::Export { line, .. } = &app.prompt else { panic!("{:?}", app.prompt) };
    assert!(line.text.starts_with("rarity-rare-process-") && line.text.ends_with(".csv"), "{}", line.text);
    app.update(Msg::Input(InputKey::Clear));
    keys(&mut app, "out.csv");
    app.update(Msg::Input(InputKey::Submit));
    run_io(&mut app);
    assert_eq!(app.prompt, Prompt::None);
    let path = dir.path().join("out.csv");
    let written = std::fs::read_to_string(&path).unwrap();
    let mut lines = written.lines();
    assert_eq!(
        lines.next(),
        Some("InitiatingProcessFileName,DeviceCount,Hashes,SampleProcess,SampleRemoteIP,Ports,RemoteIP_country,EventCount,Verdict,Note")
    );
    assert_eq!(
        lines.next(),
        Some("update\u{202E}txt.exe,2,[],update.exe /quiet,198.51.100.20,\"[8443,9001]\",Germany,3,unreviewed,")
    );
    assert_eq!(lines.next(), None);
    assert!(app.status.as_ref().unwrap().text.contains(&path.display().to_string()));

    // Same path again: asks, and "n" leaves the file alone.
    app.update(Msg::MarkAll);
    app.update(Msg::StartExport);
    app.update(Msg::Input(InputKey::Clear));
    keys(&mut app, "out.csv");
    app.update(Msg::Input(InputKey::Submit));
    run_io(&mut app);
    assert!(matches!(app.prompt, Prompt::ConfirmOverwrite { .. }));
    assert!(render(&app, 120, 30).contains("already exists. Overwrite it?"));
    app.update(Msg::Answer(false));
    assert!(matches!(app.prompt, Prompt::Export { .. }));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), written);
    app.update(Msg::Input(InputKey::Submit));
    run_io(&mut app);
    app.update(Msg::Answer(true));
    run_io(&mut app);
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 4);
}

#[test]
fn formula_cells_are_guarded_in_exports() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = new_app(dir.path().to_path_buf());
    app.update(Msg::Loaded(Box::new(summary())));
    settle(&mut app, &mut |cmd| match cmd {
        Cmd::Run { hunt, gen, .. } => {
            let mut rows = rare_rows();
            rows[0][0] = text("=HYPERLINK(\"http://x\")");
            Some(Msg::HuntDone(HuntDone { hunt, gen, result: Ok(output(hunt, rows)), elapsed: Duration::ZERO }))
        }
        _ => None,
    });
    app.update(Msg::StartExport);
    app.update(Msg::Input(InputKey::Clear));
    keys(&mut app, "f.csv");
    app.update(Msg::Input(InputKey::Submit));
    run_io(&mut app);
    let written = std::fs::read_to_string(dir.path().join("f.csv")).unwrap();
    assert!(written.lines().nth(1).unwrap().starts_with("\"'=HYPERLINK("), "{written}");
}

#[test]
fn tuning_is_saved_as_it_changes_and_restored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    let store = super::app::ConfigStore { config: Default::default(), path: path.clone() };
    let mut app = App::new(Some(store), None, dir.path().to_path_buf());
    app.update(Msg::Loaded(Box::new(summary())));
    settle(&mut app, &mut fake_answer);
    app.update(Msg::SelectHunt(4));
    app.update(Msg::FocusParams);
    app.update(Msg::ParamStep(1));
    run_io(&mut app);
    let (cfg, warning) = rarity::config::Config::load(&path);
    assert_eq!(warning, None);
    assert_eq!(cfg.params_for(rarity::hunt::ti_inbound::ID).integer("min_level"), 5);
    let restored = App::new(Some(super::app::ConfigStore { config: cfg, path }), None, dir.path().to_path_buf());
    assert_eq!(restored.tabs[4].params.integer("min_level"), 5);
}

#[test]
fn mouse_clicks_on_tabs_and_rows() {
    let mut app = ready_app();
    let labels = view::tab_labels(&app);
    let x = (labels[0].chars().count() + 1 + labels[1].chars().count() + 2) as u16;
    app.update(Msg::Click { x, y: 1 });
    assert_eq!(app.active, 2);
    app.update(Msg::SelectHunt(0));
    // Third shown row: header 0, tabs 1, frame border 2, why line 3, column header 4, rows from 5.
    app.update(Msg::Click { x: 10, y: 7 });
    assert_eq!(app.current_table().unwrap().cursor, 2);
    assert_eq!(app.focus, Focus::Table);
    // The parameter panel (right 42 columns at 120 wide): its third line is excluded_nets' first item.
    app.update(Msg::Click { x: 100, y: 5 });
    assert_eq!(app.focus, Focus::Params);
    assert_eq!(super::app::panel_lines(&app.tab().params)[app.tab().panel_cursor], PanelLine::Item(1, 0));
    // Back in the table, a click on a row moves focus there.
    app.update(Msg::Click { x: 10, y: 4 });
    assert_eq!(app.focus, Focus::Table);
}

#[test]
fn table_scrolls_through_100k_rows() {
    let mut app = new_app(std::env::temp_dir());
    app.update(Msg::Loaded(Box::new(summary())));
    settle(&mut app, &mut |cmd| match cmd {
        Cmd::Run { hunt, gen, .. } => {
            let n = if hunt == rarity::hunt::rare_process::ID { 100_000 } else { 3 };
            let rows = (0..n).map(|i| sample_row(hunt, i)).collect();
            Some(Msg::HuntDone(HuntDone { hunt, gen, result: Ok(output(hunt, rows)), elapsed: Duration::ZERO }))
        }
        _ => None,
    });
    app.update(Msg::End);
    let t = app.current_table().unwrap();
    assert_eq!(t.cursor, 99_999);
    assert!(t.offset > 99_000);
    let screen = render(&app, 120, 30);
    assert!(screen.contains("row 100000/100000"), "{screen}");
    assert!(screen.contains("initiatingprocessfilename-99999"), "{screen}");
    app.update(Msg::PageUp);
    assert_eq!(app.current_table().unwrap().cursor, 99_999 - app.table_height());
}

/// The real engine over a small dataset built row by row, answering the app's commands the
/// way the worker thread does.
mod engine_tests {
    use super::*;
    use crate::tui::engine::EngineBackend;
    use crate::tui::worker::HuntBackend;
    use rarity::hunt::fixture::DatasetBuilder;
    use rarity::model::tables::NetField as F;
    use std::sync::Arc;

    /// Two rare processes (one device each) and a browser-like one, all to public IPv4.
    fn dataset() -> rarity::Dataset {
        let mut b = DatasetBuilder::new();
        let rows = [
            ("2025-11-20T10:00:00Z", "ws-01", "tool.exe", "45.33.32.156", "4444", "aa11"),
            ("2025-11-20T10:05:00Z", "ws-01", "tool.exe", "45.33.32.157", "4444", "aa11"),
            ("2025-11-20T11:00:00Z", "ws-02", "beacon.exe", "93.184.216.34", "8443", "bb22"),
            ("2025-11-20T11:30:00Z", "ws-03", "Beacon.exe", "93.184.216.34", "8443", "bb22"),
        ];
        for (ts, dev, proc_, ip, port, md5) in rows {
            assert!(b.net(&[
                (F::Timestamp, ts),
                (F::DeviceId, dev),
                (F::DeviceName, dev),
                (F::ActionType, "ConnectionSuccess"),
                (F::Protocol, "Tcp"),
                (F::RemoteIP, ip),
                (F::RemotePort, port),
                (F::InitiatingProcessFileName, proc_),
                (F::InitiatingProcessMD5, md5),
                (F::InitiatingProcessCommandLine, "x \u{1b}]0;pwned\u{7} \u{202E}gpj.exe"),
            ]));
        }
        b.build()
    }

    fn engine_app() -> (App, EngineBackend) {
        let ds = Arc::new(dataset());
        let now = ds.reference_now(None);
        let backend = EngineBackend::new(ds, now);
        let mut app = new_app(std::env::temp_dir());
        app.update(Msg::Loaded(Box::new(Summary { now, ..summary() })));
        let mut answer = |c| answer(&backend, c);
        settle(&mut app, &mut answer);
        (app, backend)
    }

    fn answer(b: &EngineBackend, cmd: Cmd) -> Option<Msg> {
        match cmd {
            Cmd::Run { hunt, gen, params } => {
                Some(Msg::HuntDone(HuntDone { hunt, gen, result: b.run(&params), elapsed: Duration::ZERO }))
            }
            Cmd::Drill { hunt, gen, req } => Some(Msg::DrillDone(DrillDone { hunt, gen, result: b.drill(&req) })),
            Cmd::Sweep { hunt, params, key, values } => {
                let result = b.sweep(&params, key, &values);
                Some(Msg::SweepDone(crate::tui::msg::SweepDone { hunt, key, params, values, result }))
            }
            Cmd::Why { hunt, gen, output, row } => Some(Msg::WhyDone { hunt, gen, row, line: b.why(&output, row) }),
            Cmd::Io(_) | Cmd::CancelLoad | Cmd::SaveCase { .. } | Cmd::Terminal(_) | Cmd::CopyToClipboard(_) => None,
        }
    }

    fn names(app: &App) -> Vec<String> {
        let t = app.tabs[0].table.as_ref().unwrap();
        t.view.iter().map(|&r| super::super::table::display_cell(&t.rows[r][0])).collect()
    }

    #[test]
    fn toggling_an_excluded_network_changes_the_result_count() {
        let (mut app, backend) = engine_app();
        assert_eq!(names(&app), ["tool.exe", "beacon.exe"]);
        // tool.exe's sample IP, widened to its /24, excludes both its connections.
        app.update(Msg::ExcludeNet);
        app.update(Msg::Answer(true));
        assert!(app.tabs[0].params.enabled("excluded_nets").contains(&"45.33.32.0/24"));
        settle(&mut app, &mut |c| answer(&backend, c));
        assert_eq!(names(&app), ["beacon.exe"]);
        let status = app.status.clone().unwrap().text;
        assert!(status.contains("excluded_nets: +45.33.32.0/24 - -1 row ("), "{status}");
        // Turn the new item off in the panel: tool.exe comes back.
        app.update(Msg::FocusParams);
        let lines = super::super::app::panel_lines(&app.tabs[0].params);
        let pos = lines.iter().position(|l| *l == PanelLine::Item(1, 2)).unwrap();
        app.update(Msg::Home);
        app.update(Msg::Scroll(pos as isize));
        app.update(Msg::ParamToggle);
        settle(&mut app, &mut |c| answer(&backend, c));
        assert_eq!(app.tabs[0].count(), Some(2));
        let status = app.status.clone().unwrap().text;
        assert!(status.contains("excluded_nets: 45.33.32.0/24 off - +1 row ("), "{status}");
    }

    #[test]
    fn adding_a_browser_removes_that_process() {
        let (mut app, backend) = engine_app();
        app.update(Msg::Down);
        app.update(Msg::AddBrowser);
        assert!(app.tabs[0].params.enabled("browsers").contains(&"beacon.exe"));
        settle(&mut app, &mut |c| answer(&backend, c));
        assert_eq!(names(&app), ["tool.exe"]);
        // The cursor row is gone, so the cursor stays in range.
        assert_eq!(app.current_table().unwrap().cursor, 0);
    }

    #[test]
    fn drill_down_shows_ips_and_events_and_esc_goes_back() {
        let (mut app, backend) = engine_app();
        app.update(Msg::Enter);
        assert!(app.tab().drill_pending);
        settle(&mut app, &mut |c| answer(&backend, c));
        let level = app.tab().stack.last().unwrap();
        assert_eq!(level.title, "tool.exe");
        let lists: Vec<&str> = level.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(lists, ["Remote IPs", "Processes", "Hashes", "Devices", "Ports", "Events"]);
        assert_eq!(level.sections[0].table.rows.len(), 2);
        assert_eq!(level.sections[5].table.rows.len(), 2);
        let screen = render(&app, 120, 30);
        assert!(screen.contains("rare-process › tool.exe"), "{screen}");
        assert!(screen.contains("45.33.32.156"), "{screen}");
        // To the events list, one event's full record, and its command line made safe.
        app.update(Msg::PrevSection);
        app.update(Msg::Enter);
        settle(&mut app, &mut |c| answer(&backend, c));
        assert_eq!(app.tab().stack.len(), 2);
        // One timestamp format in every view: the record's title like the lists' cells.
        let title = &app.tab().stack[1].title;
        assert!(title.starts_with("event 2025-11-20 10:0") && !title.contains('T'), "{title}");
        let screen = render(&app, 120, 30);
        assert!(screen.contains("x ␛]0;pwned␇ <U+202E>gpj.exe"), "{screen}");
        app.update(Msg::Back);
        app.update(Msg::Back);
        assert!(app.tab().stack.is_empty());
        assert_eq!(names(&app), ["tool.exe", "beacon.exe"]);
    }

    /// One rare process on one device talking to `ips` (ip, events), seconds apart.
    fn app_over(ips: &[(&str, usize)]) -> (App, EngineBackend) {
        let mut b = DatasetBuilder::new();
        let mut minute = 0i64;
        for (ip, n) in ips {
            for _ in 0..*n {
                let ts = rarity::model::time::format_iso(T0 - 86_400_000_000_000 + minute * 1_000_000_000);
                minute += 1;
                assert!(b.net(&[
                    (F::Timestamp, ts.as_str()),
                    (F::DeviceId, "ws-01"),
                    (F::DeviceName, "ws-01"),
                    (F::ActionType, "ConnectionSuccess"),
                    (F::Protocol, "Tcp"),
                    (F::RemoteIP, ip),
                    (F::RemotePort, "4444"),
                    (F::InitiatingProcessFileName, "tool.exe"),
                ]));
            }
        }
        let ds = Arc::new(b.build());
        let now = ds.reference_now(None);
        let backend = EngineBackend::new(ds, now);
        let mut app = new_app(std::env::temp_dir());
        app.update(Msg::Loaded(Box::new(Summary { now, ..summary() })));
        settle(&mut app, &mut |c| answer(&backend, c));
        (app, backend)
    }

    fn section<'a>(app: &'a App, name: &str) -> &'a Section {
        let level = app.tab().stack.last().unwrap();
        level.sections.iter().find(|s| s.name == name).unwrap()
    }

    fn column(s: &Section, name: &str) -> Vec<String> {
        let c = s.table.columns.iter().position(|c| c.name == name).unwrap();
        s.table.rows.iter().map(|r| super::super::table::display_cell(&r[c])).collect()
    }

    #[test]
    fn drilling_an_ip_that_prefixes_others_lists_only_its_own_events() {
        let (mut app, backend) =
            app_over(&[("45.33.32.1", 2), ("45.33.32.10", 3), ("45.33.32.100", 4), ("145.33.32.1", 1)]);
        assert_eq!(names(&app), ["tool.exe"]);
        app.update(Msg::Enter);
        settle(&mut app, &mut |c| answer(&backend, c));
        assert_eq!(column(section(&app, "Events"), "RemoteIP").len(), 10);
        // Select 45.33.32.1 in the Remote IPs list, whatever order it is shown in.
        let ips = column(section(&app, "Remote IPs"), "RemoteIP");
        let level = app.tab().stack.last().unwrap();
        let at = level.sections.iter().position(|s| s.name == "Remote IPs").unwrap();
        let t = &level.sections[at].table;
        let pos = t.view.iter().position(|&r| ips[r] == "45.33.32.1").unwrap();
        while app.tab().stack.last().unwrap().active != at {
            app.update(Msg::NextSection);
        }
        app.update(Msg::Home);
        for _ in 0..pos {
            app.update(Msg::Down);
        }
        app.update(Msg::Enter);
        settle(&mut app, &mut |c| answer(&backend, c));
        assert_eq!(app.tab().stack.len(), 2);
        let events = &app.tab().stack[1].sections[0];
        assert_eq!(column(events, "RemoteIP"), ["45.33.32.1", "45.33.32.1"]);
    }

    #[test]
    fn a_50k_event_drill_list_scrolls_to_the_end_and_exports_every_row() {
        const N: usize = 50_000;
        let (mut app, backend) = app_over(&[("45.33.32.156", N)]);
        app.update(Msg::Enter);
        settle(&mut app, &mut |c| answer(&backend, c));
        let at = app.tab().stack[0].sections.iter().position(|s| s.name == "Events").unwrap();
        while app.tab().stack[0].active != at {
            app.update(Msg::NextSection);
        }
        assert_eq!(app.current_table().unwrap().rows.len(), N);
        app.update(Msg::End);
        let t = app.current_table().unwrap();
        assert_eq!(t.cursor, N - 1);
        let screen = render(&app, 120, 30);
        assert!(screen.contains(&format!("row {N}/{N}")), "{screen}");
        let dir = tempfile::tempdir().unwrap();
        app.cwd = dir.path().to_path_buf();
        app.update(Msg::StartExport);
        app.update(Msg::Input(InputKey::Clear));
        keys(&mut app, "all.csv");
        app.update(Msg::Input(InputKey::Submit));
        run_io(&mut app);
        let written = std::fs::read_to_string(dir.path().join("all.csv")).unwrap();
        assert_eq!(written.lines().count(), N + 1, "header + every event");
        assert!(app.status.as_ref().unwrap().text.contains(&format!("wrote {N} shown rows")));
    }

    #[test]
    fn excluding_an_ip_from_a_drill_down_targets_rare_process() {
        let (mut app, backend) = engine_app();
        app.update(Msg::Enter);
        settle(&mut app, &mut |c| answer(&backend, c));
        app.update(Msg::Down);
        app.update(Msg::ExcludeIp);
        assert!(app.tabs[0].params.enabled("excluded_nets").contains(&"45.33.32.157/32"));
        settle(&mut app, &mut |c| answer(&backend, c));
        // tool.exe still has its other connection.
        assert_eq!(names(&app), ["tool.exe", "beacon.exe"]);
        // Its open details were recomputed: the excluded IP left them too.
        assert_eq!(app.tab().stack.len(), 1);
        assert_eq!(column(section(&app, "Remote IPs"), "RemoteIP"), ["45.33.32.156"]);
        assert_eq!(column(section(&app, "Events"), "RemoteIP"), ["45.33.32.156"]);
        assert_eq!(app.tab().stack[0].sections[app.tab().stack[0].active].name, "Remote IPs");
    }

    #[test]
    fn a_wide_exclusion_asks_first_and_closes_the_details_of_the_row_it_removes() {
        let (mut app, backend) = engine_app();
        app.update(Msg::Enter);
        settle(&mut app, &mut |c| answer(&backend, c));
        assert_eq!(app.tab().stack.len(), 1);
        app.update(Msg::ExcludeNet);
        let Prompt::ConfirmExclude { question, .. } = &app.prompt else { panic!("{:?}", app.prompt) };
        assert_eq!(question, "rare-process: excluded_nets += 45.33.32.0/24");
        let screen = render(&app, 120, 30);
        assert!(screen.contains("excluded_nets += 45.33.32.0/24"), "{screen}");
        // No: nothing is added, nothing recomputed.
        app.update(Msg::Answer(false));
        assert_eq!(app.prompt, Prompt::None);
        assert!(!app.tabs[0].params.enabled("excluded_nets").contains(&"45.33.32.0/24"));
        assert!(app.cmds.is_empty());
        app.update(Msg::ExcludeNet);
        app.update(Msg::Answer(true));
        settle(&mut app, &mut |c| answer(&backend, c));
        assert_eq!(names(&app), ["beacon.exe"]);
        assert!(app.tab().stack.is_empty(), "the details of a row that is gone close");
        let status = app.status.clone().unwrap().text;
        assert!(status.contains("details of tool.exe closed: it is no longer in the results"), "{status}");
    }
}

#[test]
fn a_hunt_error_replaces_the_rows_and_marks_the_tab() {
    let mut app = ready_app();
    app.update(Msg::SelectHunt(4));
    app.update(Msg::FocusParams);
    app.update(Msg::ParamStep(1));
    let Some(Cmd::Run { gen, .. }) = app.cmds.pop() else { panic!("no recompute") };
    app.update(Msg::HuntDone(HuntDone {
        hunt: rarity::hunt::ti_inbound::ID,
        gen,
        result: Err("ti-inbound needs ThreatIntel, which is not loaded: pass --ti FILE".into()),
        elapsed: Duration::ZERO,
    }));
    assert!(app.tab().table.is_none());
    let screen = render(&app, 120, 30);
    assert!(screen.contains("5 TI inbound* (!)"), "{screen}");
    assert!(screen.contains("pass --ti FILE"), "{screen}");
}

#[test]
fn smallest_supported_terminal_still_shows_tabs_table_and_hints() {
    let mut app = ready_app();
    app.update(Msg::Resize(60, 15));
    let screen = render(&app, 60, 15);
    assert!(screen.contains(" 1 Rare 3 ") && screen.contains(" 5 TI 4"), "{screen}");
    assert!(screen.contains("evil.exe"), "{screen}");
    assert!(screen.contains("help") && screen.contains("quit"), "{screen}");
    insta::assert_snapshot!("smallest", screen);
    app.update(Msg::FocusParams);
    let screen = render(&app, 60, 15);
    assert!(screen.contains("Parameters"), "{screen}");
}

#[test]
fn load_problems_toast_and_show_in_the_load_report() {
    let mut app = new_app(std::env::temp_dir());
    let mut s = summary();
    s.rejected = 2;
    s.skipped = 1;
    s.problems = vec![
        "net.csv: 2 rows rejected (first: net.csv:7: bad RemoteIP `\u{1b}[31mx`)".into(),
        "README.md skipped: not a recognized export".into(),
    ];
    app.update(Msg::Loaded(Box::new(s)));
    let status = app.status.clone().unwrap().text;
    assert!(status.starts_with("load: 2 rows rejected, 1 input skipped; net.csv: 2 rows rejected"), "{status}");
    app.update(Msg::ShowLoadReport);
    let screen = render(&app, 120, 30);
    assert!(screen.contains("Load report"), "{screen}");
    assert!(screen.contains("net.csv:7: bad RemoteIP `␛[31mx`"), "{screen}");
    assert!(screen.contains("README.md skipped"), "{screen}");
    app.update(Msg::Back);
    assert_eq!(app.prompt, Prompt::None);
}

/// The whole app over the built-in sample fleet, loaded the way `rarity` with no arguments
/// loads it.
mod sample_tests {
    use super::*;
    use crate::tui::engine::EngineBackend;
    use crate::tui::worker::HuntBackend;
    use std::sync::Arc;

    fn sample_app() -> (App, EngineBackend) {
        let (ds, report) = rarity::sample::load().unwrap();
        let summary = crate::tui::summarize(&ds, &report, None);
        let backend = EngineBackend::new(Arc::new(ds), summary.now);
        let mut app = new_app(std::env::temp_dir());
        app.update(Msg::Resize(150, 40));
        app.update(Msg::Loaded(Box::new(summary)));
        settle(&mut app, &mut |c| answer(&backend, c));
        (app, backend)
    }

    fn answer(b: &EngineBackend, cmd: Cmd) -> Option<Msg> {
        match cmd {
            Cmd::Run { hunt, gen, params } => {
                Some(Msg::HuntDone(HuntDone { hunt, gen, result: b.run(&params), elapsed: Duration::ZERO }))
            }
            Cmd::Drill { hunt, gen, req } => Some(Msg::DrillDone(DrillDone { hunt, gen, result: b.drill(&req) })),
            Cmd::Sweep { hunt, params, key, values } => {
                let result = b.sweep(&params, key, &values);
                Some(Msg::SweepDone(crate::tui::msg::SweepDone { hunt, key, params, values, result }))
            }
            Cmd::Why { hunt, gen, output, row } => Some(Msg::WhyDone { hunt, gen, row, line: b.why(&output, row) }),
            Cmd::Io(_) | Cmd::CancelLoad | Cmd::SaveCase { .. } | Cmd::Terminal(_) | Cmd::CopyToClipboard(_) => None,
        }
    }

    #[test]
    fn every_hunt_finds_its_planted_rows_in_the_sample_fleet() {
        let (mut app, _) = sample_app();
        assert!(app.summary.geoip.is_some() && app.summary.ti_entries > 0);
        for i in 0..5 {
            app.update(Msg::SelectHunt(i));
            let tab = app.tab();
            assert!(tab.error.is_none(), "{}: {:?}", tab.hunt.key(), tab.error);
            assert!(tab.count().unwrap_or(0) > 0, "{} found nothing", tab.hunt.key());
            // Structure only: the sample's rows belong to the generator, which may change them.
            let screen = render(&app, 150, 40);
            let first = super::super::table::display_cell(&tab.table.as_ref().unwrap().rows[0][0]);
            assert!(screen.contains(&format!("╭ {} ·", tab.hunt.key())), "{screen}");
            assert!(screen.contains(&format!("▶ {first}")) || first.is_empty(), "{first} not shown:\n{screen}");
        }
    }

    #[test]
    fn sample_drill_down_lists_raw_events_with_every_original_column() {
        let (mut app, backend) = sample_app();
        app.update(Msg::Enter);
        settle(&mut app, &mut |c| answer(&backend, c));
        let level = app.tab().stack.last().expect("a drill-down level");
        let events = level.sections.iter().find(|s| s.is_events()).expect("an Events list");
        assert!(!events.table.rows.is_empty());
        assert_eq!(events.table.columns[0].name, "Timestamp");
        let ips = &level.sections[0];
        assert_eq!(ips.name, "Remote IPs");
        assert!(ips.table.rows.iter().all(|r| !matches!(r[2], Cell::Empty)), "every sample IP has a country");
        let screen = render(&app, 150, 40);
        assert!(screen.contains("Remote IPs (") && screen.contains("Events ("), "{screen}");
        // Enter on an event: its full record, re-read from the CSV (more than the normalized columns).
        let events_at = level.sections.iter().position(|s| s.is_events()).unwrap();
        for _ in 0..events_at {
            app.update(Msg::NextSection);
        }
        app.update(Msg::Enter);
        settle(&mut app, &mut |c| answer(&backend, c));
        let record = app.current_section().unwrap();
        assert!(matches!(record.kind, SectionKind::Record));
        assert!(record.table.rows.len() > 17, "{:?}", record.table.rows);
    }
}

#[test]
fn corrupt_config_is_reported_at_start_and_in_the_load_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, "{ nope").unwrap();
    let (config, warning) = rarity::config::Config::load(&path);
    let store = super::app::ConfigStore { config, path: path.clone() };
    let mut app = App::new(Some(store), warning, dir.path().to_path_buf());
    app.clock = || "12:00:00".into();
    app.update(Msg::Resize(160, 30));
    app.update(Msg::Loaded(Box::new(summary())));
    settle(&mut app, &mut fake_answer);
    let status = app.status.clone().unwrap();
    assert_eq!(status.level, super::app::StatusLevel::Warn);
    assert!(status.text.contains("is corrupt") && status.text.contains("(L: details)"), "{}", status.text);
    app.update(Msg::ShowLoadReport);
    let screen = render(&app, 160, 30);
    assert!(screen.contains("moved to") && screen.contains("config.json.corrupt-"), "{screen}");
    // Tuning now goes to a fresh file; the backup stays.
    app.update(Msg::Back);
    app.update(Msg::FocusParams);
    app.update(Msg::ParamStep(1));
    run_io(&mut app);
    assert!(std::fs::read_to_string(&path).unwrap().contains("31d"));
    let backups = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("config.json.corrupt-"));
    assert_eq!(backups.count(), 1);
}

#[test]
fn a_failed_tuning_save_stays_visible_until_a_save_works() {
    let dir = tempfile::tempdir().unwrap();
    // The config path is a directory: every save fails.
    let store = super::app::ConfigStore { config: rarity::config::Config::default(), path: dir.path().to_path_buf() };
    let mut app = App::new(Some(store), None, dir.path().to_path_buf());
    app.clock = || "12:00:00".into();
    app.update(Msg::Resize(160, 30));
    app.update(Msg::Loaded(Box::new(summary())));
    settle(&mut app, &mut fake_answer);
    app.update(Msg::FocusParams);
    app.update(Msg::ParamStep(1));
    settle(&mut app, &mut fake_answer);
    run_io(&mut app);
    assert!(app.save_error.as_deref().is_some_and(|e| e.contains("tuning not saved")), "{:?}", app.save_error);
    // Later messages do not hide it.
    app.update(Msg::ParamStep(1));
    settle(&mut app, &mut fake_answer);
    let screen = render(&app, 160, 30);
    let status_line = screen.lines().rev().nth(1).unwrap();
    assert!(status_line.contains("tuning not saved"), "{screen}");
    app.update(Msg::ShowLoadReport);
    assert!(render(&app, 160, 30).contains("tuning not saved"));
    app.update(Msg::Back);
    // A working save clears it.
    app.config.as_mut().unwrap().path = dir.path().join("config.json");
    app.update(Msg::ParamStep(1));
    settle(&mut app, &mut fake_answer);
    run_io(&mut app);
    assert_eq!(app.save_error, None);
}

#[test]
fn full_record_view_shows_the_selected_value_whole() {
    let mut app = ready_app();
    app.update(Msg::Resize(100, 40));
    app.update(Msg::Enter);
    settle(&mut app, &mut |cmd| match cmd {
        Cmd::Drill { hunt, gen, req } => {
            let edit = |level: &mut Level| {
                let long = format!("powershell.exe -enc {}\u{1b}[0m", "A".repeat(150));
                level.sections[1].table.rows[0][3] = Cell::Text(long);
            };
            Some(Msg::DrillDone(DrillDone { hunt, gen, result: Ok(fake_drill(&req, &edit)) }))
        }
        other => fake_answer(other),
    });
    app.update(Msg::NextSection);
    app.update(Msg::Enter);
    settle(&mut app, &mut |cmd| match cmd {
        Cmd::Drill { hunt, gen, req } => {
            let edit = |level: &mut Level| {
                let long = format!("powershell.exe -enc {}\u{1b}[0m", "A".repeat(150));
                level.sections[1].table.rows[0][3] = Cell::Text(long);
            };
            Some(Msg::DrillDone(DrillDone { hunt, gen, result: Ok(fake_drill(&req, &edit)) }))
        }
        other => fake_answer(other),
    });
    app.update(Msg::End);
    let screen = render(&app, 100, 40);
    assert!(screen.contains("── InitiatingProcessCommandLine ─"), "{screen}");
    // All 150 As and the escape placeholder, wrapped over the preview lines under the rule.
    let preview: String =
        screen.lines().skip_while(|l| !l.contains("── InitiatingProcessCommandLine")).skip(1).collect();
    assert_eq!(preview.matches('A').count(), 150, "{screen}");
    assert!(preview.contains("␛[0m"), "{screen}");
}

#[test]
fn column_names_from_files_are_sanitized_in_header_and_footer() {
    let mut app = ready_app();
    app.update(Msg::Enter);
    settle(&mut app, &mut |cmd| match cmd {
        Cmd::Drill { hunt, gen, req } => {
            let edit =
                |level: &mut Level| level.sections[1].table.columns[1].name = "Dev\u{1b}]0;x\u{7}\u{202E}".into();
            Some(Msg::DrillDone(DrillDone { hunt, gen, result: Ok(fake_drill(&req, &edit)) }))
        }
        other => fake_answer(other),
    });
    app.update(Msg::NextSection);
    app.update(Msg::Right);
    app.update(Msg::SortAsc);
    let screen = render(&app, 120, 30);
    assert!(screen.contains("Dev␛]0;x␇<U+202E>"), "{screen}");
    assert!(screen.contains("sort Dev␛]0;x␇<U+202E> ↑"), "{screen}");
    assert!(!screen.contains('\u{1b}') && !screen.contains('\u{202E}'));
}

pub(crate) fn press(
    app: &mut App,
    code: ratatui::crossterm::event::KeyCode,
    mods: ratatui::crossterm::event::KeyModifiers,
) {
    let ev = ratatui::crossterm::event::KeyEvent::new(code, mods);
    if let Some(m) = super::keys::map_key(app, &ev) {
        app.update(m);
    }
}

#[test]
fn filter_prompt_toggles_fuzzy_with_ctrl_f_and_says_so() {
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};
    let mut app = ready_app();
    press(&mut app, KeyCode::Char('/'), KeyModifiers::NONE);
    assert!(matches!(app.prompt, Prompt::Filter(_)));
    for c in "ptyexe".chars() {
        press(&mut app, KeyCode::Char(c), KeyModifiers::NONE);
    }
    assert_eq!(app.current_table().unwrap().view.len(), 0, "substring by default");
    let screen = render(&app, 120, 30);
    assert!(screen.contains("0 of 3 rows match") && screen.contains("Ctrl-F: fuzzy"), "{screen}");
    press(&mut app, KeyCode::Char('f'), KeyModifiers::CONTROL);
    assert!(app.current_table().unwrap().fuzzy);
    assert_eq!(app.current_table().unwrap().view.len(), 1, "putty.exe, fuzzily");
    assert!(render(&app, 120, 30).contains(" / fuzzy "));
    // Enter keeps the filter; the status bar is untouched by the toggle's key.
    press(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(app.prompt, Prompt::None);
    assert_eq!(app.current_table().unwrap().filter, "ptyexe");
}

#[test]
fn an_unbound_key_points_to_help() {
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};
    let mut app = ready_app();
    press(&mut app, KeyCode::Char('Z'), KeyModifiers::NONE);
    assert!(app.status.as_ref().unwrap().text.contains("? for help"), "{:?}", app.status);
    // Number keys follow the registry: one past the last hunt does nothing.
    let n = rarity::hunt::registry().len();
    press(&mut app, KeyCode::Char(char::from_digit(n as u32, 10).unwrap()), KeyModifiers::NONE);
    assert_eq!(app.active, n - 1);
    let ev = ratatui::crossterm::event::KeyEvent::new(
        KeyCode::Char(char::from_digit(n as u32 + 1, 10).unwrap()),
        KeyModifiers::NONE,
    );
    assert!(!matches!(super::keys::map_key(&app, &ev), Some(Msg::SelectHunt(_))));
}

#[test]
fn a_pasted_list_adds_every_item_and_a_bad_one_keeps_the_editor_with_its_error() {
    let mut app = ready_app();
    app.update(Msg::FocusParams);
    let at = |app: &App, l: PanelLine| super::app::panel_lines(&app.tab().params).iter().position(|x| *x == l).unwrap();
    let add_line = at(&app, PanelLine::Add(1));
    app.update(Msg::Home);
    for _ in 0..add_line {
        app.update(Msg::Down);
    }
    app.update(Msg::ParamAdd);
    keys(&mut app, "10.1.0.0/16, 10.2.0.0/16,10.3.0.0/16");
    app.update(Msg::Input(InputKey::Submit));
    assert_eq!(app.prompt, Prompt::None);
    let nets = app.tab().params.enabled("excluded_nets");
    for n in ["10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16"] {
        assert!(nets.contains(&n), "{n} missing from {nets:?}");
    }
    settle(&mut app, &mut fake_answer);
    // The tab and the parameter show that the hunt is tuned.
    assert!(view::tab_labels(&app)[0].contains('*'), "{:?}", view::tab_labels(&app));
    assert!(render(&app, 120, 30).contains("changed"));
    // A bad item: nothing is added, the editor stays open with the error, and the next keys
    // edit the line rather than being lost.
    app.update(Msg::ParamAdd);
    keys(&mut app, "10.4.0.0/16,nonsense");
    app.update(Msg::Input(InputKey::Submit));
    let Prompt::Edit { error: Some(e), line, .. } = &app.prompt else { panic!("{:?}", app.prompt) };
    assert!(e.contains("nonsense"), "{e}");
    assert_eq!(line.text, "10.4.0.0/16,nonsense");
    assert!(!app.tab().params.enabled("excluded_nets").contains(&"10.4.0.0/16"));
    app.update(Msg::Input(InputKey::Clear));
    keys(&mut app, "10.5.0.0/16");
    app.update(Msg::Input(InputKey::Submit));
    assert_eq!(app.prompt, Prompt::None);
    assert!(app.tab().params.enabled("excluded_nets").contains(&"10.5.0.0/16"));
}

#[test]
fn counts_of_one_are_singular() {
    let mut app = new_app(std::env::temp_dir());
    app.update(Msg::Loaded(Box::new(summary())));
    settle(&mut app, &mut |cmd| match cmd {
        Cmd::Run { hunt, gen, .. } => Some(Msg::HuntDone(HuntDone {
            hunt,
            gen,
            result: Ok(output(hunt, vec![sample_row(hunt, 0)])),
            elapsed: Duration::ZERO,
        })),
        _ => None,
    });
    let screen = render(&app, 120, 30);
    assert!(screen.contains(": 1 row ·") && !screen.contains("1 rows"), "{screen}");
}

// ---- triage: verdicts, notes, hide-benign, undo/redo ------------------------------------

mod triage_tests {
    use super::*;
    use crate::tui::app::CaseStore;
    use rarity::case::{CaseFile, Verdict};
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    /// A ready app with an empty case file in `dir`.
    fn triage_app(dir: &std::path::Path) -> App {
        let mut app = new_app(dir.to_path_buf());
        let path = dir.join("case.json");
        app.case = Some(CaseStore { case: CaseFile::load(&path).unwrap(), path });
        app.update(Msg::Loaded(Box::new(summary())));
        settle(&mut app, &mut fake_answer);
        app
    }

    fn verdict_cell(app: &App, row: usize) -> String {
        let t = app.tab().table.as_ref().unwrap();
        let c = t.columns.iter().position(|c| c.name == "Verdict").unwrap();
        crate::tui::table::display_cell(&t.rows[row][c])
    }

    fn note_cell(app: &App, row: usize) -> String {
        let t = app.tab().table.as_ref().unwrap();
        let c = t.columns.iter().position(|c| c.name == "Note").unwrap();
        crate::tui::table::display_cell(&t.rows[row][c])
    }

    fn on_disk(dir: &std::path::Path, name: &str) -> Verdict {
        CaseFile::load(&dir.join("case.json")).unwrap().verdict(rarity::hunt::rare_process::ID, &[name.to_string()])
    }

    fn key(app: &App, code: KeyCode, mods: KeyModifiers) -> Option<Msg> {
        crate::tui::keys::map_key(app, &KeyEvent::new(code, mods))
    }

    fn press(app: &mut App, c: char) {
        let msg = key(app, KeyCode::Char(c), KeyModifiers::NONE).unwrap_or_else(|| panic!("`{c}` means nothing"));
        app.update(msg);
    }

    fn status(app: &App) -> String {
        app.status.as_ref().map(|s| s.text.clone()).unwrap_or_default()
    }

    #[test]
    fn v_then_a_letter_sets_the_selected_rows_verdict_and_saves_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = triage_app(dir.path());
        assert_eq!(verdict_cell(&app, 0), "unreviewed");
        assert_eq!(app.tab().unreviewed, Some(3));
        press(&mut app, 'v');
        assert_eq!(app.prompt, Prompt::Verdict);
        assert!(render(&app, 120, 30).contains("malicious"), "the hint bar lists the verdicts");
        press(&mut app, 'm');
        assert_eq!(app.prompt, Prompt::None);
        assert_eq!(verdict_cell(&app, 0), "malicious");
        assert_eq!(app.tab().unreviewed, Some(2));
        assert_eq!(status(&app), "evil.exe → malicious");
        settle(&mut app, &mut fake_answer);
        assert_eq!(on_disk(dir.path(), "evil.exe"), Verdict::Malicious);
        // Any other key after `v` cancels.
        press(&mut app, 'v');
        let msg = key(&app, KeyCode::Char('x'), KeyModifiers::NONE).unwrap();
        app.update(msg);
        assert_eq!(app.prompt, Prompt::None);
        assert_eq!(verdict_cell(&app, 0), "malicious");
    }

    #[test]
    fn a_verdict_applies_to_every_marked_row() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = triage_app(dir.path());
        app.update(Msg::ToggleMark); // marks evil.exe, moves down
        app.update(Msg::Down);
        app.update(Msg::ToggleMark); // putty.exe
        press(&mut app, 'v');
        press(&mut app, 's');
        assert_eq!(status(&app), "2 findings → suspicious");
        assert_eq!(verdict_cell(&app, 0), "suspicious");
        assert_eq!(verdict_cell(&app, 1), "unreviewed");
        assert_eq!(verdict_cell(&app, 2), "suspicious");
        settle(&mut app, &mut fake_answer);
        assert_eq!(on_disk(dir.path(), "putty.exe"), Verdict::Suspicious);
    }

    #[test]
    fn n_edits_the_note_enter_saves_and_esc_cancels() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = triage_app(dir.path());
        press(&mut app, 'n');
        assert!(matches!(app.prompt, Prompt::Note { .. }));
        keys(&mut app, "backup agent");
        assert!(render(&app, 120, 30).contains("note for evil.exe: backup agent"));
        app.update(Msg::Input(InputKey::Submit));
        assert_eq!(note_cell(&app, 0), "backup agent");
        assert_eq!(verdict_cell(&app, 0), "unreviewed", "a note leaves the verdict alone");
        press(&mut app, 'n');
        app.update(Msg::Input(InputKey::Clear));
        keys(&mut app, "changed my mind");
        app.update(Msg::Input(InputKey::Cancel));
        assert_eq!(app.prompt, Prompt::None);
        assert_eq!(note_cell(&app, 0), "backup agent");
        settle(&mut app, &mut fake_answer);
        let case = CaseFile::load(&dir.path().join("case.json")).unwrap();
        assert_eq!(case.note(rarity::hunt::rare_process::ID, &["evil.exe".into()]), "backup agent");
    }

    #[test]
    fn hide_benign_hides_those_rows_says_so_and_is_reversible() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = triage_app(dir.path());
        press(&mut app, 'v');
        press(&mut app, 'b');
        press(&mut app, 'B');
        let t = app.tab().table.as_ref().unwrap();
        assert_eq!(t.view.len(), 2);
        let screen = render(&app, 120, 30);
        assert!(screen.contains("benign hidden"), "{screen}");
        assert!(!screen.contains("evil.exe"), "{screen}");
        press(&mut app, 'B');
        assert_eq!(app.tab().table.as_ref().unwrap().view.len(), 3);
        let screen = render(&app, 120, 30);
        assert!(!screen.contains("benign hidden") && screen.contains("evil.exe"), "{screen}");
    }

    #[test]
    fn verdict_column_is_sortable_filterable_and_exported() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = triage_app(dir.path());
        app.update(Msg::End);
        press(&mut app, 'v');
        press(&mut app, 'm');
        // Filter on the verdict's word.
        app.update(Msg::StartFilter);
        keys(&mut app, "malicious");
        app.update(Msg::Input(InputKey::Submit));
        assert_eq!(app.tab().table.as_ref().unwrap().view, vec![2]);
        app.update(Msg::Back);
        // Sort by the verdict column.
        let t = app.tab().table.as_ref().unwrap();
        let col = t.columns.iter().position(|c| c.name == "Verdict").unwrap();
        for _ in 0..col {
            app.update(Msg::Right);
        }
        app.update(Msg::SortAsc);
        assert_eq!(app.tab().table.as_ref().unwrap().view[0], 2, "malicious sorts before unreviewed");
        app.update(Msg::StartExport);
        app.update(Msg::Input(InputKey::Clear));
        keys(&mut app, "out.csv");
        app.update(Msg::Input(InputKey::Submit));
        settle(&mut app, &mut fake_answer);
        let csv = std::fs::read_to_string(dir.path().join("out.csv")).unwrap();
        assert!(csv.lines().next().unwrap().ends_with(",EventCount,Verdict,Note"), "{csv}");
        assert!(csv.lines().nth(1).unwrap().starts_with("putty.exe,") && csv.contains(",7,malicious,"), "{csv}");
    }

    #[test]
    fn verdicts_survive_a_retuning_that_removes_and_restores_the_row_and_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = triage_app(dir.path());
        press(&mut app, 'v');
        press(&mut app, 'm');
        settle(&mut app, &mut fake_answer);
        let gen = app.tab().gen;
        let hunt = rarity::hunt::rare_process::ID;
        let without: Vec<Vec<Cell>> = rare_rows().into_iter().skip(1).collect();
        let done =
            |rows| Msg::HuntDone(HuntDone { hunt, gen, result: Ok(output(hunt, rows)), elapsed: Duration::ZERO });
        app.update(done(without));
        assert_eq!(verdict_cell(&app, 0), "unreviewed");
        assert_eq!(app.tab().unreviewed, Some(2));
        app.update(done(rare_rows()));
        assert_eq!(verdict_cell(&app, 0), "malicious");
        // A new session on the same case file.
        let again = triage_app(dir.path());
        assert_eq!(verdict_cell(&again, 0), "malicious");
        assert_eq!(again.tab().unreviewed, Some(2));
    }

    #[test]
    fn ctrl_z_and_ctrl_y_undo_and_redo_verdicts_and_say_what() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = triage_app(dir.path());
        press(&mut app, 'v');
        press(&mut app, 'm');
        let undo = key(&app, KeyCode::Char('z'), KeyModifiers::CONTROL).unwrap();
        app.update(undo);
        assert_eq!(verdict_cell(&app, 0), "unreviewed");
        assert_eq!(status(&app), "undone: evil.exe → malicious");
        settle(&mut app, &mut fake_answer);
        assert_eq!(on_disk(dir.path(), "evil.exe"), Verdict::Unreviewed);
        let redo = key(&app, KeyCode::Char('y'), KeyModifiers::CONTROL).unwrap();
        app.update(redo);
        assert_eq!(verdict_cell(&app, 0), "malicious");
        assert_eq!(status(&app), "redone: evil.exe → malicious");
        settle(&mut app, &mut fake_answer);
        assert_eq!(on_disk(dir.path(), "evil.exe"), Verdict::Malicious);
        app.update(Msg::Redo);
        assert_eq!(status(&app), "nothing to redo");
    }

    #[test]
    fn undo_and_redo_parameter_changes_and_one_key_exclusions() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = triage_app(dir.path());
        let before = app.tab().params.clone();
        // A one-key exclusion: the row's remote IP into excluded_nets.
        app.update(Msg::ExcludeIp);
        settle(&mut app, &mut fake_answer);
        let excluded = app.tab().params.clone();
        assert_ne!(excluded, before);
        // A parameter step.
        app.update(Msg::FocusParams);
        app.update(Msg::ParamStep(1));
        settle(&mut app, &mut fake_answer);
        let stepped = app.tab().params.clone();
        assert_ne!(stepped, excluded);
        app.update(Msg::Undo);
        assert_eq!(app.tab().params, excluded);
        assert!(status(&app).contains("undone: lookback: 30d → 31d"), "{}", status(&app));
        settle(&mut app, &mut fake_answer);
        app.update(Msg::Undo);
        assert_eq!(app.tab().params, before);
        assert!(status(&app).contains("undone: excluded_nets: +203.0.113.9"), "{}", status(&app));
        settle(&mut app, &mut fake_answer);
        app.update(Msg::Redo);
        assert_eq!(app.tab().params, excluded);
        app.update(Msg::Redo);
        assert_eq!(app.tab().params, stepped);
        app.update(Msg::Undo);
        app.update(Msg::Undo);
        app.update(Msg::Undo);
        assert_eq!(status(&app), "nothing to undo");
    }

    #[test]
    fn without_a_case_file_verdict_keys_say_why_nothing_happens() {
        let mut app = ready_app();
        press(&mut app, 'v');
        assert_eq!(app.prompt, Prompt::None);
        assert!(status(&app).contains("no case file"), "{}", status(&app));
    }
}

#[test]
fn whitelisting_a_domain_asks_with_the_exact_item_and_y_adds_it() {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut app = ready_app();
    app.update(Msg::SelectHunt(rarity::hunt::server_anomaly::ID.position()));
    app.update(Msg::AddDomain);
    let Prompt::ConfirmExclude { question, .. } = &app.prompt else { panic!("{:?}", app.prompt) };
    assert_eq!(question, "server-anomaly: known_domains += a0.example");
    assert!(!app.tab().params.enabled("known_domains").contains(&"a0.example"));
    let y = super::keys::map_key(&app, &KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE)).unwrap();
    assert!(matches!(y, Msg::Answer(true)));
    app.update(y);
    assert_eq!(app.prompt, Prompt::None);
    assert!(app.tab().params.enabled("known_domains").contains(&"a0.example"));
    // `x` (one IP) adds without asking.
    app.update(Msg::SelectHunt(0));
    app.update(Msg::ExcludeIp);
    assert_eq!(app.prompt, Prompt::None);
    assert!(app.tabs[0].params.enabled("excluded_nets").contains(&"203.0.113.9/32"));
}

#[test]
fn y_and_shift_y_copy_the_cell_and_the_row_with_osc_52() {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut app = ready_app();
    let y = super::keys::map_key(&app, &KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE)).unwrap();
    assert!(matches!(y, Msg::CopyCell));
    app.update(y);
    let Some(Cmd::Terminal(bytes)) = app.cmds.pop() else { panic!("no terminal write: {:?}", app.cmds) };
    assert_eq!(bytes, b"\x1b]52;c;ZXZpbC5leGU=\x07");
    assert!(app.status.as_ref().unwrap().text.contains("copied the cell (8 chars)"));
    app.update(Msg::CopyRow);
    let Some(Cmd::Terminal(bytes)) = app.cmds.pop() else { panic!("no terminal write") };
    let row = "evil.exe\t1\td41d8cd98f00b204e9800998ecf8427e\tC:\\Users\\bob\\evil.exe -c \x1b]0;pwned\x07\t203.0.113.9\t4444\tNetherlands\t12\tunreviewed\t";
    assert_eq!(bytes, super::app::osc52(row));
    // The row's own ESC and BEL travel base64-encoded: the only controls are the request's.
    assert_eq!(bytes.iter().filter(|&&b| b == 0x1b || b == 0x07).count(), 2);
    assert!(bytes.starts_with(b"\x1b]52;c;") && bytes.ends_with(b"\x07"));
}

#[test]
fn clicking_a_header_sorts_by_it_and_a_double_click_drills_down() {
    let mut app = ready_app();
    app.update(Msg::Resize(200, 30));
    let screen = render(&app, 200, 30);
    // Header 0, tabs 1, frame border 2, why line 3, column header 4.
    let header = screen.lines().nth(4).unwrap();
    let byte = header.find("SampleRemoteIP").unwrap_or_else(|| panic!("no SampleRemoteIP header:\n{screen}"));
    let x = header[..byte].chars().count() as u16;
    app.update(Msg::Click { x: x + 1, y: 4 });
    let t = app.current_table().unwrap();
    assert_eq!(t.columns[t.col].name, "SampleRemoteIP");
    assert_eq!(t.sort, Some((t.col, false)));
    assert_eq!(t.view, vec![2, 1, 0], "192.0.2.44 < 198.51.100.20 < 203.0.113.9");
    assert!(app.status.as_ref().unwrap().text.contains("sorted by SampleRemoteIP ascending"));
    app.update(Msg::Click { x: x + 1, y: 4 });
    assert_eq!(app.current_table().unwrap().view, vec![0, 1, 2]);
    // One click on a row selects it; a second on the same row drills down.
    app.update(Msg::Click { x: 10, y: 6 });
    assert_eq!(app.current_table().unwrap().cursor, 1);
    assert!(!app.tab().drill_pending);
    app.update(Msg::Click { x: 10, y: 6 });
    assert!(app.tab().drill_pending);
    settle(&mut app, &mut fake_answer);
    assert_eq!(app.tab().stack.len(), 1);
    assert_eq!(app.tab().stack[0].title, "update\u{202E}txt.exe");
}

fn render_buffer(app: &App, w: u16, h: u16) -> ratatui::buffer::Buffer {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| view::render(app, f)).unwrap();
    term.backend().buffer().clone()
}

#[test]
fn a_narrow_header_keeps_geoip_and_ti_status_abbreviated() {
    let mut app = ready_app();
    let header = |app: &mut App, w: u16| {
        app.update(Msg::Resize(w, 30));
        render(app, w, 30).lines().next().unwrap().to_string()
    };
    assert!(header(&mut app, 160).contains("GeoIP ✓ │ TI ✓ 1,500"));
    for w in [60, 100, 159] {
        let h = header(&mut app, w);
        assert!(h.contains("Geo✓ TI✓ 1.5k") || h.contains("GeoIP ✓ │ TI ✓ 1,500"), "{w}: {h}");
    }
    assert!(header(&mut app, 100).contains("Geo✓ TI✓ 1.5k"));
    app.summary.geoip = None;
    app.summary.ti_entries = 0;
    app.summary.rejected = 3;
    let h = header(&mut app, 60);
    assert!(h.contains("Geo✗ TI✗ │ 3 rejected"), "{h}");
}

#[test]
fn no_color_shows_the_active_tab_column_and_list_in_reverse_video() {
    use ratatui::style::{Color, Modifier};
    let mut app = ready_app();
    let colored = render_buffer(&app, 120, 30);
    assert!(!colored[(1, 1)].modifier.contains(Modifier::REVERSED) && colored[(1, 1)].bg != Color::Reset);
    app.no_color = true;
    let buf = render_buffer(&app, 120, 30);
    assert!(buf.content.iter().all(|c| c.fg == Color::Reset && c.bg == Color::Reset), "a colour under NO_COLOR");
    let reversed = |buf: &ratatui::buffer::Buffer, x: u16, y: u16| buf[(x, y)].modifier.contains(Modifier::REVERSED);
    // The active tab (row 1) and not the next one.
    let next_tab = view::tab_labels(&app)[0].chars().count() as u16 + 2;
    assert!(reversed(&buf, 1, 1) && !reversed(&buf, next_tab, 1));
    // The selected column's header (row 4, after the frame, the why line and the mark gutter),
    // not the next.
    let t = app.current_table().unwrap();
    let next_col = 3 + t.columns[0].name.chars().count() as u16 + 3;
    assert!(reversed(&buf, 3, 4) && !reversed(&buf, next_col, 4));
    // The cursor row.
    assert!(reversed(&buf, 5, 5) && !reversed(&buf, 5, 6));
    // In a drill-down, the active list's label.
    app.update(Msg::Enter);
    settle(&mut app, &mut fake_answer);
    let buf = render_buffer(&app, 120, 30);
    let line: String = (0..120).map(|x| buf[(x, 3)].symbol().to_string()).collect();
    let events = line.find(" Events (").map(|b| line[..b].chars().count() as u16 + 1).unwrap();
    assert!(line.contains(" Remote IPs (2) "), "{line}");
    assert!(reversed(&buf, 2, 3) && !reversed(&buf, events, 3), "{line}");
    app.update(Msg::NextSection);
    let buf = render_buffer(&app, 120, 30);
    assert!(!reversed(&buf, 2, 3) && reversed(&buf, events, 3));
}

#[test]
fn after_a_filter_n_and_shift_n_jump_between_matching_cells() {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut app = ready_app();
    let key = |app: &App, ch: char| super::keys::map_key(app, &KeyEvent::new(KeyCode::Char(ch), KeyModifiers::NONE));
    app.update(Msg::StartFilter);
    keys(&mut app, "exe -");
    // While typing, n is text.
    assert!(matches!(key(&app, 'n'), Some(Msg::Input(InputKey::Char('n')))));
    app.update(Msg::Input(InputKey::Submit));
    let t = app.current_table().unwrap();
    assert_eq!((t.view.len(), t.cursor, t.col), (2, 0, 0), "evil.exe and putty.exe have `exe -`");
    let pos = |app: &App| {
        let t = app.current_table().unwrap();
        (t.cursor_row().unwrap(), t.col)
    };
    // Only the command lines match: n goes to row 0's, then row 2's, then wraps.
    app.update(key(&app, 'n').unwrap());
    assert_eq!(pos(&app), (0, 3));
    app.update(Msg::NextMatch);
    assert_eq!(pos(&app), (2, 3));
    app.update(Msg::NextMatch);
    assert_eq!(pos(&app), (0, 3));
    assert!(app.status.as_ref().unwrap().text.contains("wrapped to the first"));
    app.update(key(&app, 'N').unwrap());
    assert_eq!(pos(&app), (2, 3));
    let screen = render(&app, 120, 30);
    assert!(screen.contains("n/N: next/previous match"), "{screen}");
}

#[test]
fn the_load_report_wraps_long_notes_and_scrolls_to_the_last() {
    let mut s = summary();
    s.problems = (0..40).map(|i| format!("note {i}: {}", "a long explanation of what went wrong ".repeat(4))).collect();
    s.problems.push("the last note".into());
    let mut app = new_app(std::env::temp_dir());
    app.update(Msg::Resize(100, 30));
    app.update(Msg::Loaded(Box::new(s)));
    app.update(Msg::ShowLoadReport);
    let first = render(&app, 100, 30);
    assert!(first.contains("scroll") && first.contains("note 0:"), "{first}");
    // A note is drawn whole: its end is on a continuation line, not cut off.
    assert!(first.contains("│   long explanation of what went wrong a long"), "{first}");
    assert!(!first.contains("the last note"), "{first}");
    for _ in 0..20 {
        app.update(Msg::PageDown);
    }
    let last = render(&app, 100, 30);
    assert!(last.contains("the last note"), "{last}");
    assert_eq!(app.prompt, Prompt::LoadReport);
}
