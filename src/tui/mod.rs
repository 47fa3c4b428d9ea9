//! The interactive hunting workbench (`rarity tui`): loads the inputs with a progress view,
//! then shows one tab per hunt with live parameters, drill-downs, filter and export.
//!
//! Threads: the UI thread owns `App` and the terminal; an input thread forwards terminal
//! events; a loader thread runs `ingest::load`; a worker thread runs hunts (latest-wins).

pub mod app;
mod clipboard;
mod engine;
mod jobs;
pub mod keys;
pub mod msg;
pub mod table;
pub mod view;
pub mod worker;

#[cfg(test)]
mod cockpit_tests;
#[cfg(test)]
mod kql_tests;
#[cfg(test)]
mod tests;

use app::{App, CaseStore, ConfigStore};
use jobs::IoWorker;
use msg::{CaseSaved, Cmd, Msg, Summary};
use rarity::config::Config;
use rarity::ingest::{self, Input, LoadError, LoadOptions, LoadReport};
use rarity::model::Nanos;
use rarity::snapshot::{self, CacheOptions};
use rarity::Dataset;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;
use worker::Worker;

/// What `rarity tui` was asked to open.
#[derive(Clone, Debug, Default)]
pub struct TuiArgs {
    /// Telemetry files or directories.
    pub inputs: Vec<Input>,
    /// Threat-intel feeds (`--ti`).
    pub ti: Vec<Input>,
    /// GeoIP database (`--geoip`).
    pub geoip: Option<PathBuf>,
    /// Reference time (`--now`); None = the latest event.
    pub now: Option<Nanos>,
    pub load: LoadOptions,
    /// The load snapshot cache (`--no-cache`, `--cache-limit`).
    pub cache: CacheOptions,
    /// `--config FILE`; None = the default config path.
    pub config_path: Option<PathBuf>,
    /// `--no-config`: neither read nor save tuning.
    pub no_config: bool,
    /// `--case FILE`; None = the default case file (`rarity::case::default_path`).
    pub case_path: Option<PathBuf>,
}

/// Everything the UI thread waits for.
enum Incoming {
    Term(Event),
    App(Msg),
    /// The loader's dataset: the runner starts the hunt worker on it, then tells the app.
    Loaded(Arc<Dataset>, Box<Summary>),
}

/// Run the TUI until the user quits. The terminal is restored on every exit path, including
/// a panic.
pub fn run(args: TuiArgs) -> anyhow::Result<()> {
    run_with(args, engine::EngineBackend::new)
}

/// `run` with another hunt backend.
pub fn run_with<B: worker::HuntBackend>(args: TuiArgs, backend: fn(Arc<Dataset>, Nanos) -> B) -> anyhow::Result<()> {
    let (config, warning) = open_config(&args);
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut app = App::new(config, warning, cwd);
    let (case, case_warning) = open_case(&args);
    app.case = case;
    if let Some(w) = case_warning {
        app.status = Some(app::Status { level: app::StatusLevel::Warn, text: w.clone() });
        app.config_note = Some(match app.config_note.take() {
            Some(c) => format!("{c}; {w}"),
            None => w,
        });
    }

    let original_hook = std::panic::take_hook();
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            ratatui::restore();
            std::panic::set_hook(original_hook);
            return Err(e.into());
        }
    };
    let _ = execute!(std::io::stdout(), EnableMouseCapture);
    // Replaces ratatui's hook: a panic on the UI thread restores the terminal before the
    // message is printed; the worker and loader catch their own panics and report them in the
    // app, so printing those would only scribble over the screen.
    let ui_thread = std::thread::current().id();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == ui_thread {
            let _ = execute!(std::io::stdout(), DisableMouseCapture);
            ratatui::restore();
            original_hook(info);
        }
    }));
    let result = event_loop(&mut terminal, &mut app, args, backend);
    let _ = execute!(std::io::stdout(), DisableMouseCapture);
    ratatui::restore();
    let _ = std::panic::take_hook();
    result?;
    if let app::Phase::Failed(e) = &app.phase {
        anyhow::bail!("{e}");
    }
    Ok(())
}

fn open_config(args: &TuiArgs) -> (Option<ConfigStore>, Option<String>) {
    if args.no_config {
        return (None, None);
    }
    let Some(path) = args.config_path.clone().or_else(rarity::config::default_path) else {
        return (None, Some("no config directory on this system: tuning is not saved".into()));
    };
    let (config, warning) = Config::load(&path);
    (Some(ConfigStore { config, path }), warning)
}

/// The case file (`--case FILE` or the default), read before the terminal is taken. A corrupt
/// file has been moved aside: the session starts an empty case and says so.
fn open_case(args: &TuiArgs) -> (Option<CaseStore>, Option<String>) {
    let Some(path) = args.case_path.clone().or_else(rarity::case::default_path) else {
        return (None, Some("no data directory on this system: verdicts are not kept (use --case FILE)".into()));
    };
    match rarity::case::CaseFile::load(&path) {
        Ok(case) => (Some(CaseStore { case, path }), None),
        Err(e @ rarity::case::CaseError::Corrupt { .. }) => {
            (Some(CaseStore { case: Default::default(), path }), Some(format!("{e}; starting an empty case")))
        }
        // Unreadable, too large or newer: never write over it; verdicts are off this session.
        Err(e) => (None, Some(format!("{e}; verdicts are not kept this session"))),
    }
}

/// Saves the case file on its own thread, newest snapshot first; dropping it waits for the
/// last save, so quitting right after a verdict never loses it.
struct CaseWriter {
    tx: Option<Sender<(PathBuf, rarity::case::CaseFile)>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl CaseWriter {
    fn spawn(out: Sender<Incoming>) -> std::io::Result<CaseWriter> {
        let (tx, rx) = channel::<(PathBuf, rarity::case::CaseFile)>();
        let handle = std::thread::Builder::new().name("rarity-case".into()).spawn(move || {
            while let Ok(mut job) = rx.recv() {
                // Every snapshot holds all of this session's entries: only the newest matters.
                while let Ok(newer) = rx.try_recv() {
                    job = newer;
                }
                let (path, mut case) = job;
                let result = match case.save(&path) {
                    Ok(warning) => Ok(CaseSaved { merged: case, warning: warning.map(|w| w.to_string()) }),
                    Err(e) => Err(e.to_string()),
                };
                let _ = out.send(Incoming::App(Msg::CaseSaved(result)));
            }
        })?;
        Ok(CaseWriter { tx: Some(tx), handle: Some(handle) })
    }

    fn save(&self, path: PathBuf, case: rarity::case::CaseFile) {
        if let Some(tx) = &self.tx {
            let _ = tx.send((path, case));
        }
    }
}

impl Drop for CaseWriter {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn event_loop<B: worker::HuntBackend>(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    args: TuiArgs,
    backend: fn(Arc<Dataset>, Nanos) -> B,
) -> anyhow::Result<()> {
    let size = terminal.size()?;
    app.size = (size.width, size.height);
    let (tx, rx) = channel::<Incoming>();
    let input_tx = tx.clone();
    std::thread::Builder::new().name("rarity-input".into()).spawn(move || {
        while let Ok(ev) = event::read() {
            if input_tx.send(Incoming::Term(ev)).is_err() {
                break;
            }
        }
    })?;
    let cancel = Arc::new(AtomicBool::new(false));
    spawn_loader(args, tx.clone(), cancel.clone())?;
    let mut worker: Option<Worker> = None;
    let io = IoWorker::spawn(tx.clone(), Incoming::App)?;
    let case_writer = CaseWriter::spawn(tx.clone())?;

    terminal.draw(|f| view::render(app, f))?;
    loop {
        let first = match rx.recv_timeout(Duration::from_millis(250)) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        // Handle everything already queued before drawing once, so a burst of progress or
        // key-repeat events never lags the screen behind.
        let mut queue: std::collections::VecDeque<Incoming> = first.into_iter().collect();
        while let Some(incoming) = queue.pop_front().or_else(|| rx.try_recv().ok()) {
            if let Incoming::Term(ev) = &incoming {
                if let Some((esc, key)) = keys::split_alt(ev) {
                    queue.push_front(Incoming::Term(key));
                    queue.push_front(Incoming::Term(esc));
                    continue;
                }
            }
            let msg = match incoming {
                Incoming::Term(ev) => keys::map_event(app, &ev),
                Incoming::App(m) => Some(m),
                Incoming::Loaded(ds, summary) => {
                    let now = summary.now;
                    worker = Some(Worker::spawn(move || backend(ds, now), tx.clone(), Incoming::App));
                    Some(Msg::Loaded(summary))
                }
            };
            let Some(msg) = msg else { continue };
            app.update(msg);
            for cmd in app.cmds.drain(..).chain(app.sweep_job.take()) {
                match cmd {
                    Cmd::CancelLoad => cancel.store(true, Ordering::Relaxed),
                    Cmd::Io(job) => io.submit(job),
                    // Between two draws, so the escape never lands inside ratatui's output.
                    Cmd::CopyToClipboard(text) => {
                        let _ = clipboard::write_osc52(&mut std::io::stdout(), &text);
                    }
                    Cmd::SaveCase { path, case } => case_writer.save(path, case),
                    Cmd::Terminal(bytes) => {
                        use std::io::Write;
                        let mut out = std::io::stdout();
                        // A terminal that ignores OSC 52 ignores it silently; nothing to report.
                        let _ = out.write_all(&bytes).and_then(|_| out.flush());
                    }
                    job => {
                        if let Some(w) = &worker {
                            w.submit(job);
                        }
                    }
                }
            }
            if app.quit {
                return Ok(());
            }
        }
        terminal.draw(|f| view::render(app, f))?;
    }
    Ok(())
}

fn spawn_loader(args: TuiArgs, tx: Sender<Incoming>, cancel: Arc<AtomicBool>) -> std::io::Result<()> {
    std::thread::Builder::new().name("rarity-load".into()).spawn(move || {
        let progress_tx = tx.clone();
        let progress = move |p: &ingest::Progress| {
            let _ = progress_tx.send(Incoming::App(Msg::LoadProgress(p.clone())));
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            snapshot::load_cached(
                &args.inputs,
                &args.ti,
                args.geoip.as_deref(),
                &args.load,
                &args.cache,
                &progress,
                &cancel,
            )
        }));
        let Ok(result) = result else {
            let _ = tx
                .send(Incoming::App(Msg::LoadFailed("internal error while loading (a bug: please report it)".into())));
            return;
        };
        let loaded = match result {
            Ok(l) if l.report.loaded_anything() => l,
            Ok(l) if l.report.stopped => {
                let _ = tx.send(Incoming::App(Msg::LoadFailed(STOPPED_EMPTY.into())));
                return;
            }
            Ok(l) => {
                let _ = tx.send(Incoming::App(Msg::LoadFailed(nothing_loaded(&l.report))));
                return;
            }
            // Stopped while reading a snapshot: nothing is loaded yet.
            Err(LoadError::Cancelled) => {
                let _ = tx.send(Incoming::App(Msg::LoadFailed(STOPPED_EMPTY.into())));
                return;
            }
            Err(e) => {
                let _ = tx.send(Incoming::App(Msg::LoadFailed(e.to_string())));
                return;
            }
        };
        let mut summary = summarize(&loaded.dataset, &loaded.report, args.now);
        summary.snapshot = loaded.origin_note();
        summary.problems.splice(0..0, loaded.warnings.iter().cloned());
        let ds = Arc::new(loaded.dataset);
        let _ = tx.send(Incoming::Loaded(ds.clone(), Box::new(summary)));
        // The first screen is up: now save the snapshot for next time, on this thread.
        if let Some(p) = loaded.pending {
            if let Some(w) = p.write(&ds, &loaded.report).warning() {
                let _ = tx.send(Incoming::App(Msg::Warn(w)));
            }
        }
    })?;
    Ok(())
}

/// Esc → keep what is loaded, before any input finished.
const STOPPED_EMPTY: &str = "loading stopped before any input finished: nothing to show";

fn nothing_loaded(report: &LoadReport) -> String {
    let mut s = String::from("no events were loaded");
    for f in report.files.iter().take(8) {
        let why =
            f.skipped.clone().unwrap_or_else(|| format!("{} rejected", rarity::model::counted(f.rejected, "row")));
        s.push_str(&format!("; {}: {why}", f.path));
    }
    s
}

/// The header's view of a loaded dataset and what went wrong while loading it.
pub fn summarize(ds: &Dataset, report: &LoadReport, now: Option<Nanos>) -> Summary {
    let reference = ds.reference_now(now);
    let stopped = report.stopped.then(|| {
        let read = report.files.iter().filter(|f| f.skipped.is_none()).count();
        let left = report.files.iter().filter(|f| f.skipped.as_deref().is_some_and(ingest::stopped_reason)).count();
        format!("loading stopped: {read} {} loaded, {left} left out", if read == 1 { "input" } else { "inputs" })
    });
    // Sources the hunts cannot see at this `now` explain empty tabs: say so before anything.
    let clock: Vec<String> =
        rarity::hunt::clock::clock_warnings(ds, reference).into_iter().map(|w| w.message).collect();
    let mut problems: Vec<String> = stopped.iter().chain(&clock).cloned().collect();
    // Rejected rows next: they are data the hunts do not see; a skipped README is not.
    for f in report.files.iter().filter(|f| f.rejected > 0) {
        let first = f.rejects.first().map(|r| format!(" (first: {r})")).unwrap_or_default();
        problems.push(format!("{}: {} rejected{first}", f.path, rarity::model::counted(f.rejected, "row")));
    }
    for f in &report.files {
        problems.extend(f.warnings.iter().map(|w| format!("{}: {w}", f.path)));
    }
    for f in &report.files {
        if let Some(why) = &f.skipped {
            problems.push(format!("{} skipped: {why}", f.path));
        }
    }
    Summary {
        net_events: ds.net.len(),
        vm_rows: ds.vm.len(),
        devices: ds.device_count(),
        earliest: ds.earliest,
        latest: ds.latest,
        now: reference,
        geoip: ds.geoip.as_ref().map(|g| g.description().to_string()),
        ti_entries: ds.ti.len(),
        rejected: report.files.iter().map(|f| f.rejected).sum(),
        skipped: report.files.iter().filter(|f| f.skipped.is_some()).count(),
        problems,
        snapshot: None,
        clock,
        stopped,
    }
}
