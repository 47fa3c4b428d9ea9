//! The KQL view (`K`): what it shows, scrolling, dialect switch, copy (OSC 52 through a
//! `Cmd`), and writing the query through the I/O job with the export prompt's rules.

use super::app::{App, ExportTarget, Prompt};
use super::clipboard;
use super::msg::{Cmd, InputKey, Msg};
use super::tests::{fake_answer, keys, new_app, press, ready_app, render, run_io, settle, summary};
use base64::Engine as _;
use rarity::hunt::kql::Dialect;
use rarity::hunt::HuntId;
use ratatui::crossterm::event::{KeyCode, KeyModifiers};

/// 2026-01-02T03:04:05Z: the pinned "written at" of the header.
const WRITTEN: i64 = 1_767_323_045_000_000_000;

fn pin(app: &mut App) {
    app.wall_clock = || WRITTEN;
}

fn key(app: &mut App, ch: char) {
    press(app, KeyCode::Char(ch), KeyModifiers::NONE);
}

fn query(app: &App) -> &str {
    match &app.kql.as_ref().expect("a KQL view").query {
        Ok(q) => q,
        Err(e) => panic!("no query: {e}"),
    }
}

/// The query the engine writes for the active tab, as the view must show it.
fn engine_query(app: &App, dialect: Dialect) -> Result<String, rarity::hunt::kql::KqlError> {
    let tab = app.tab();
    let opts = rarity::hunt::kql::KqlOptions {
        dialect,
        ti_source: rarity::hunt::kql::TiSource::Ipsum,
        now: Some(app.summary.now),
        written: Some(WRITTEN),
        ..Default::default()
    };
    tab.hunt.hunt().kql(&tab.params, &opts, None)
}

#[test]
fn k_shows_the_hunt_as_tuned_now_in_a_scrollable_overlay() {
    let mut app = ready_app();
    pin(&mut app);
    app.tabs[0].params.set("lookback", "7d").unwrap();
    key(&mut app, 'K');
    assert_eq!(app.prompt, Prompt::Kql);
    let view = app.kql.clone().unwrap();
    assert_eq!((view.hunt, view.dialect), (app.tab().hunt, Dialect::Sentinel));
    assert_eq!(query(&app), engine_query(&app, Dialect::Sentinel).unwrap());
    assert!(query(&app).contains("let lookback = 7d;"), "{}", query(&app));
    assert!(query(&app).contains("let RefTime = datetime(2025-11-20T12:00:00.0000000Z);"), "{}", query(&app));
    let screen = render(&app, 120, 30);
    insta::assert_snapshot!("kql_view", screen);

    // Scrolling stops at the last row; Home and End jump; PgDn moves a page.
    let max = super::view::kql_scroll_max(&app);
    let page = super::view::kql_body_height(&app);
    assert!(max > page, "the query is longer than two pages: {max} {page}");
    press(&mut app, KeyCode::PageDown, KeyModifiers::NONE);
    assert_eq!(app.overlay_scroll, page);
    key(&mut app, 'j');
    assert_eq!(app.overlay_scroll, page + 1);
    press(&mut app, KeyCode::End, KeyModifiers::NONE);
    assert_eq!(app.overlay_scroll, max);
    press(&mut app, KeyCode::Down, KeyModifiers::NONE);
    assert_eq!(app.overlay_scroll, max);
    let last = query(&app).lines().count();
    let screen = render(&app, 120, 30);
    assert!(screen.contains(&format!("{last} │ ")), "{screen}");
    assert!(screen.contains(&format!("of {}", max + page)), "{screen}");
    press(&mut app, KeyCode::Up, KeyModifiers::NONE);
    assert_eq!(app.overlay_scroll, max - 1);
    press(&mut app, KeyCode::Home, KeyModifiers::NONE);
    assert_eq!(app.overlay_scroll, 0);
    press(&mut app, KeyCode::PageUp, KeyModifiers::NONE);
    assert_eq!(app.overlay_scroll, 0);

    // Keys that mean nothing here say so and leave the view open; Esc closes it.
    key(&mut app, 'Z');
    assert_eq!(app.prompt, Prompt::Kql);
    assert!(app.status.as_ref().unwrap().text.contains("KQL view"), "{:?}", app.status);
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(app.prompt, Prompt::None);
    assert!(!render(&app, 120, 30).contains(&format!("KQL: {}", app.tab().hunt)));
}

#[test]
fn typed_parameter_values_are_sanitized_on_screen_and_exact_in_the_copy() {
    let mut app = ready_app();
    pin(&mut app);
    app.tabs[0].params.set("browsers", "chrome.exe, evil\u{202E}exe.txt").unwrap();
    key(&mut app, 'K');
    assert!(query(&app).contains("\"evil\u{202E}exe.txt\""), "{}", query(&app));
    let screen = render(&app, 160, 40);
    assert!(screen.contains("evil<U+202E>exe.txt"), "{screen}");
    assert!(!screen.contains('\u{202E}'), "{screen}");
    key(&mut app, 'y');
    let copied: Vec<&Cmd> = app.cmds.iter().filter(|c| matches!(c, Cmd::CopyToClipboard(_))).collect();
    let [Cmd::CopyToClipboard(text)] = copied.as_slice() else { panic!("{:?}", app.cmds) };
    assert_eq!(text, query(&app));
}

#[test]
fn y_asks_the_runner_to_copy_with_an_osc52_escape_of_the_exact_query() {
    let mut app = ready_app();
    pin(&mut app);
    key(&mut app, 'K');
    app.cmds.clear();
    key(&mut app, 'y');
    let Some(Cmd::CopyToClipboard(text)) = app.cmds.pop() else { panic!("{:?}", app.cmds) };
    assert!(app.status.as_ref().unwrap().text.contains("OSC 52"), "{:?}", app.status);
    // What the runner writes to the terminal: ESC ] 52 ; c ; base64 BEL, nothing else.
    let mut out = Vec::new();
    clipboard::write_osc52(&mut out, &text).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(query(&app));
    let mut expected = b"\x1b]52;c;".to_vec();
    expected.extend_from_slice(b64.as_bytes());
    expected.push(0x07);
    assert_eq!(out, expected);
    let body = &out[7..out.len() - 1];
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(body).unwrap(), query(&app).as_bytes());
}

#[test]
fn d_switches_dialect_and_a_hunt_without_a_form_shows_why() {
    let mut app = ready_app();
    pin(&mut app);
    key(&mut app, 'K');
    assert!(query(&app).contains("TimeGenerated"));
    key(&mut app, 'd');
    assert_eq!(app.kql.as_ref().unwrap().dialect, Dialect::Defender);
    assert_eq!(query(&app), engine_query(&app, Dialect::Defender).unwrap());
    assert!(query(&app).contains("DeviceNetworkEvents") && query(&app).contains("Timestamp"));
    assert!(!query(&app).contains("TimeGenerated"));
    assert!(render(&app, 120, 30).contains("Defender XDR advanced hunting"));
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);

    // A hunt with no Defender form (one that reads VMConnection, which Defender XDR
    // lacks): the view says why. K reopens in the dialect chosen last.
    let no_form = |h: HuntId| {
        let opts = rarity::hunt::kql::KqlOptions { dialect: Dialect::Defender, ..Default::default() };
        let e = h.hunt().kql(&rarity::hunt::HuntParams::defaults(h), &opts, None);
        matches!(e, Err(rarity::hunt::kql::KqlError::NoForm { .. }))
    };
    let vm = HuntId::all().position(no_form).expect("a hunt without a Defender form");
    app.update(Msg::SelectHunt(vm));
    key(&mut app, 'K');
    let view = app.kql.clone().unwrap();
    let hunt = app.tab().hunt;
    assert_eq!((view.hunt, view.dialect), (hunt, Dialect::Defender));
    let err = engine_query(&app, Dialect::Defender).unwrap_err().to_string();
    assert_eq!(view.query, Err(err.clone()));
    let screen = render(&app, 120, 30);
    insta::assert_snapshot!("kql_no_form", screen);
    assert!(screen.contains(&format!("{hunt} has no defender form")), "{screen}");
    app.cmds.clear();
    key(&mut app, 'y');
    assert!(app.cmds.is_empty(), "{:?}", app.cmds);
    assert!(app.status.as_ref().unwrap().text.contains("nothing to copy"), "{:?}", app.status);
    key(&mut app, 'w');
    assert_eq!(app.prompt, Prompt::Kql);
    press(&mut app, KeyCode::Tab, KeyModifiers::NONE);
    assert_eq!(app.kql.as_ref().unwrap().dialect, Dialect::Sentinel);
    assert!(query(&app).contains("VMConnection"));
}

#[test]
fn w_writes_the_query_through_the_io_job_and_never_overwrites_without_asking() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = new_app(dir.path().to_path_buf());
    pin(&mut app);
    app.update(Msg::Loaded(Box::new(summary())));
    settle(&mut app, &mut fake_answer);
    let hunt = app.tab().hunt;
    let name = format!("rarity-{hunt}-sentinel.kql");
    key(&mut app, 'K');
    key(&mut app, 'w');
    let Prompt::Export { line, target: ExportTarget::Kql, .. } = &app.prompt else { panic!("{:?}", app.prompt) };
    assert_eq!(line.text, name);
    let screen = render(&app, 120, 30);
    assert!(screen.contains("Write KQL") && screen.contains(&format!("{hunt} as KQL (sentinel)")), "{screen}");
    app.update(Msg::Input(InputKey::Submit));
    // The write is a job for the I/O thread, not done in update().
    assert!(matches!(app.cmds.as_slice(), [Cmd::Io(_)]), "{:?}", app.cmds);
    run_io(&mut app);
    let path = dir.path().join(&name);
    let sentinel = query(&app).to_string();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), sentinel);
    assert_eq!(app.prompt, Prompt::Kql);
    assert!(app.status.as_ref().unwrap().text.contains(&format!("wrote KQL ({} bytes)", sentinel.len())));

    // The Defender form to the same path: asks; "n" keeps the file and the prompt.
    key(&mut app, 'd');
    key(&mut app, 'w');
    app.update(Msg::Input(InputKey::Clear));
    keys(&mut app, &name);
    app.update(Msg::Input(InputKey::Submit));
    run_io(&mut app);
    assert_eq!(app.prompt, Prompt::ConfirmOverwrite { path: path.clone(), target: ExportTarget::Kql });
    let screen = render(&app, 120, 30);
    assert!(screen.contains("already exists. Overwrite it?") && screen.contains(&format!("KQL: {hunt}")), "{screen}");
    key(&mut app, 'n');
    let Prompt::Export { error: Some(e), target: ExportTarget::Kql, .. } = &app.prompt else {
        panic!("{:?}", app.prompt)
    };
    assert!(e.contains("not overwritten"), "{e}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), sentinel);
    // Esc in the prompt goes back to the view, not to the table.
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(app.prompt, Prompt::Kql);
    // Again, and "y" overwrites with the Defender form.
    key(&mut app, 'w');
    app.update(Msg::Input(InputKey::Clear));
    keys(&mut app, &name);
    app.update(Msg::Input(InputKey::Submit));
    run_io(&mut app);
    key(&mut app, 'y');
    run_io(&mut app);
    let defender = std::fs::read_to_string(&path).unwrap();
    assert_eq!(defender, query(&app));
    assert_ne!(defender, sentinel);
    assert_eq!(app.prompt, Prompt::Kql);

    // An unwritable path is an error in the prompt, and the view stays under it.
    key(&mut app, 'w');
    app.update(Msg::Input(InputKey::Clear));
    keys(&mut app, "no-such-dir/q.kql");
    app.update(Msg::Input(InputKey::Submit));
    run_io(&mut app);
    assert!(
        matches!(&app.prompt, Prompt::Export { error: Some(_), target: ExportTarget::Kql, .. }),
        "{:?}",
        app.prompt
    );
}

#[test]
fn the_kql_keys_come_from_the_binding_table() {
    let sections = super::keys::help_sections();
    let (_, rows) = sections.iter().find(|(t, _)| *t == "KQL view").expect("a KQL section in help");
    assert!(rows.iter().any(|(k, what)| k.starts_with('y') && what.contains("OSC 52")), "{rows:?}");
    let anywhere = &sections.iter().find(|(t, _)| *t == "Anywhere").unwrap().1;
    assert!(anywhere.iter().any(|(k, what)| k == "K" && what.contains("KQL")), "{anywhere:?}");
    let mut app = ready_app();
    key(&mut app, 'K');
    let hints: Vec<&str> = super::keys::hints(&app).into_iter().map(|h| h.1).collect();
    for h in ["copy", "write", "dialect", "close"] {
        assert!(hints.contains(&h), "{hints:?}");
    }
}
