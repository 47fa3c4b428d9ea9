//! The `rarity` command line: `main` dispatches to the TUI (default) or a subcommand in `cli/`.

mod tui;

use clap::{Args, Parser, Subcommand, ValueEnum};
use rarity::case::CaseFile;
use rarity::hunt::{Cell, CellKind, ColumnSpec, Engine, HuntId, HuntOutput, HuntParams};
use rarity::ingest::{FileReport, Input, LoadOptions, LoadReport, Progress};
use rarity::model::time::{format_iso, parse_rfc3339, DateOrder, Nanos, Zone};
use rarity::snapshot::{self, CacheOptions, CachedLoad, Origin};
use rarity::Dataset;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

mod cli;
use cli::*;

/// A user-facing failure with the exit status it maps to.
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

pub(crate) fn fail(code: u8, message: impl Into<String>) -> Failure {
    Failure { code, message: message.into() }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        fail(1, format!("{e:#}"))
    }
}

pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        None => run_tui(cli.tui),
        Some(Cmd::Tui(a)) => run_tui(a),
        Some(Cmd::Inspect(a)) => inspect(a),
        Some(Cmd::Run(a)) => run(a),
        Some(Cmd::Hunts(a)) => hunts(a),
        Some(Cmd::Pivot(a)) => pivot(a),
        Some(Cmd::Gen(a)) => gen(a),
        Some(Cmd::Explain(a)) => explain(a),
        Some(Cmd::Sweep(a)) => sweep(a),
        Some(Cmd::Kql(a)) => kql(a),
        Some(Cmd::Case(a)) => case(a),
        Some(Cmd::Cache(a)) => cache(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("rarity: {}", rarity::text::sanitize_lines(&f.message));
            }
            ExitCode::from(f.code)
        }
    }
}

fn run_tui(a: TuiArgs) -> Result<(), Failure> {
    let (inputs, mut ti) = if a.paths.is_empty() { sample_inputs(&a.load) } else { (inputs_of(&a.paths), Vec::new()) };
    ti.extend(inputs_of(&a.load.ti));
    let args = tui::TuiArgs {
        inputs,
        ti,
        geoip: a.load.geoip.clone(),
        now: a.now,
        load: load_options(&a.load),
        cache: cache_options(&a.load),
        config_path: a.config.clone(),
        no_config: a.no_config,
        case_path: a.case.clone(),
    };
    tui::run(args).map_err(|e| fail(1, format!("{e:#}")))
}
