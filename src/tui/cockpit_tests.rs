//! The cockpit in the TUI, on the sample fleet through the real engine: an empty tab shows its
//! funnel with the emptying step marked, the focused parameter's sensitivity chart, and a
//! finding's timeline with its rhythm and why-this-row line (TestBackend snapshots).

use super::engine::EngineBackend;
use super::msg::{Cmd, DrillDone, HuntDone, Msg, SweepDone};
use super::tests::{new_app, render};
use super::worker::HuntBackend;
use super::App;
use rarity::model::Nanos;
use std::sync::Arc;
use std::time::Duration;

const DAY: Nanos = 86_400_000_000_000;

/// The sample fleet in an app of `w` x `h`, hunts run at the fleet's own now plus `shift`.
fn sample_app(shift: Nanos, w: u16, h: u16) -> (App, EngineBackend) {
    let (ds, report) = rarity::sample::load().unwrap();
    let summary = super::summarize(&ds, &report, None);
    let backend = EngineBackend::new(Arc::new(ds), summary.now + shift);
    let mut app = new_app(std::env::temp_dir());
    app.update(Msg::Resize(w, h));
    app.update(Msg::Loaded(Box::new(summary)));
    settle(&mut app, &backend);
    (app, backend)
}

/// Answer every job as the worker does (a run's funnel right after its rows; the newest sweep).
fn settle(app: &mut App, b: &EngineBackend) {
    for _ in 0..100 {
        let cmds: Vec<Cmd> = app.cmds.drain(..).chain(app.sweep_job.take()).collect();
        if cmds.is_empty() {
            return;
        }
        for cmd in cmds {
            match cmd {
                Cmd::Run { hunt, gen, params } => {
                    let result = b.run(&params);
                    let ok = result.is_ok();
                    app.update(Msg::HuntDone(HuntDone { hunt, gen, result, elapsed: Duration::ZERO }));
                    if let (true, Some(funnel)) = (ok, b.funnel(&params)) {
                        app.update(Msg::FunnelDone { hunt, gen, funnel });
                    }
                }
                Cmd::Drill { hunt, gen, req } => {
                    app.update(Msg::DrillDone(DrillDone { hunt, gen, result: b.drill(&req) }))
                }
                Cmd::Sweep { hunt, params, key, values } => {
                    let result = b.sweep(&params, key, &values);
                    app.update(Msg::SweepDone(SweepDone { hunt, key, params, values, result }));
                }
                Cmd::Why { hunt, gen, output, row } => {
                    app.update(Msg::WhyDone { hunt, gen, row, line: b.why(&output, row) })
                }
                Cmd::Io(_) | Cmd::CancelLoad | Cmd::SaveCase { .. } | Cmd::Terminal(_) | Cmd::CopyToClipboard(_) => {}
            }
        }
    }
    panic!("the app kept asking for work");
}

#[test]
fn an_empty_tab_shows_its_funnel_with_the_emptying_step_marked() {
    // A year after the fleet's last event every window is empty.
    let (app, _) = sample_app(365 * DAY, 130, 30);
    assert_eq!(app.tab().count(), Some(0));
    let screen = render(&app, 130, 30);
    assert!(screen.contains("no rows: each step of the hunt"), "{screen}");
    assert!(screen.contains("▶     1"), "{screen}");
    assert!(screen.contains("before the window starts"), "{screen}");
    insta::assert_snapshot!("cockpit_empty_funnel", screen);
}

#[test]
fn the_focused_parameter_shows_its_sensitivity_chart() {
    let (mut app, b) = sample_app(0, 150, 44);
    app.update(Msg::FocusParams);
    let lines = super::app::panel_lines(&app.tab().params);
    let at = lines
        .iter()
        .position(|l| matches!(l, super::app::PanelLine::Param(i) if app.tab().params.specs()[*i].key == "max_devices"))
        .unwrap();
    while app.tab().panel_cursor < at {
        app.update(Msg::Down);
    }
    settle(&mut app, &b);
    let s = app.tab().sensitivity.clone().expect("a sweep for max_devices");
    assert_eq!(s.key, "max_devices");
    let at4 = s.values.iter().position(|v| v.to_text() == "4").unwrap();
    assert_eq!(s.counts[at4], app.tab().count().unwrap());
    // Stepping the value recomputes the chart around the new value (latest wins).
    app.update(Msg::ParamStep(1));
    settle(&mut app, &b);
    assert_eq!(app.tab().sensitivity.as_ref().unwrap().current.to_text(), "5");
    let screen = render(&app, 150, 44);
    assert!(screen.contains("rows by max_devices"), "{screen}");
    assert!(screen.contains("▶ 5"), "{screen}");
    insta::assert_snapshot!("cockpit_sensitivity", screen);
}

#[test]
fn a_finding_drill_down_shows_its_timeline_rhythm_and_why() {
    let (mut app, b) = sample_app(0, 150, 34);
    let t = app.tab().table.as_ref().unwrap();
    let ncat = t.view.iter().position(|&r| super::table::display_cell(&t.rows[r][0]) == "ncat.exe").unwrap();
    for _ in 0..ncat {
        app.update(Msg::Down);
    }
    app.update(Msg::Enter);
    settle(&mut app, &b);
    let level = app.tab().stack.last().expect("a drill-down");
    let insight = level.insight.as_ref().expect("a timeline");
    assert_eq!(insight.timeline.counts.iter().sum::<usize>(), insight.timeline.events);
    let screen = render(&app, 150, 34);
    assert!(screen.contains("possible beacon"), "{screen}");
    assert!(screen.contains("why  DeviceCount"), "{screen}");
    insta::assert_snapshot!("cockpit_timeline", screen);
}

#[test]
fn the_selected_result_row_says_why_it_is_there_and_follows_the_cursor() {
    let (mut app, b) = sample_app(0, 150, 34);
    let screen = render(&app, 150, 34);
    let first = app.tab().selected_why().expect("a why line for the first row").to_string();
    assert!(first.starts_with("DeviceCount 1 < max_devices 4; "), "{first}");
    assert!(screen.contains(&format!("why  {}", &first[..30])), "{screen}");
    // Moving the cursor asks again; the line shown is always the selected row's.
    app.update(Msg::Down);
    assert_eq!(app.tab().selected_why(), None, "the old row's line is not shown for the new row");
    assert!(render(&app, 150, 34).contains("why  …"));
    settle(&mut app, &b);
    let out = app.tab().output.clone().unwrap();
    let row = app.tab().table.as_ref().unwrap().cursor_row().unwrap();
    assert_eq!(app.tab().selected_why(), Some(b.why(&out, row).as_str()));
    // Every hunt with results says why its first row is there against its own parameters.
    let mut said = 0;
    for i in 0..app.tabs.len() {
        app.update(Msg::SelectHunt(i));
        settle(&mut app, &b);
        let tab = app.tab();
        if tab.table.as_ref().is_some_and(|t| t.cursor_row().is_some()) {
            let why = tab.selected_why().unwrap_or_else(|| panic!("{}: no why line", tab.hunt.key()));
            let names_a_param = tab.hunt.spec().params.iter().any(|p| why.contains(p.key));
            assert!(names_a_param, "{}: {why}", tab.hunt.key());
            said += 1;
        }
    }
    assert!(said >= 4, "most hunts have results on the sample fleet: {said}");
}
