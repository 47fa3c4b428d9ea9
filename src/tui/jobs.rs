//! Small jobs that touch the file system (CSV export, saving the tuning). They run on one I/O
//! thread so a slow or hung disk never freezes the screen; each result comes back as a `Msg`.

use super::msg::Msg;
use rarity::config::Config;
use rarity::export::{write_csv_file, ExportError};
use rarity::hunt::Cell;
use std::path::PathBuf;
use std::sync::mpsc::{channel, Sender};

/// A file-system job `update` asks for.
#[derive(Debug)]
pub enum IoJob {
    /// Write rows as CSV; refuses an existing file unless `overwrite`.
    Export { path: PathBuf, columns: Vec<String>, rows: Vec<Vec<Cell>>, overwrite: bool, what: &'static str },
    /// Save the tuning; `desc` names the change that caused it.
    SaveConfig { config: Box<Config>, path: PathBuf, desc: String },
}

/// How an export ended.
#[derive(Debug)]
pub struct ExportDone {
    pub path: PathBuf,
    pub what: &'static str,
    pub result: Result<usize, ExportFailure>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ExportFailure {
    /// The file exists and overwriting was not asked for.
    Exists,
    Failed(String),
}

/// Carry out one job (on the I/O thread; tests call it directly).
pub fn run(job: IoJob) -> Msg {
    match job {
        IoJob::Export { path, columns, rows, overwrite, what } => {
            let names: Vec<&str> = columns.iter().map(String::as_str).collect();
            let result = match write_csv_file(&path, &names, rows.iter().map(Vec::as_slice), false, overwrite) {
                Ok(n) => Ok(n),
                Err(ExportError::Exists { .. }) => Err(ExportFailure::Exists),
                Err(e) => Err(ExportFailure::Failed(e.to_string())),
            };
            Msg::Exported(ExportDone { path, what, result })
        }
        IoJob::SaveConfig { mut config, path, desc } => {
            Msg::ConfigSaved { desc, result: config.save(&path).map_err(|e| e.to_string()) }
        }
    }
}

/// Handle to the I/O thread; jobs run in order.
pub struct IoWorker {
    tx: Sender<IoJob>,
}

impl IoWorker {
    pub fn spawn<T: Send + 'static>(out: Sender<T>, wrap: fn(Msg) -> T) -> std::io::Result<IoWorker> {
        let (tx, rx) = channel::<IoJob>();
        std::thread::Builder::new().name("rarity-io".into()).spawn(move || {
            while let Ok(job) = rx.recv() {
                if out.send(wrap(run(job))).is_err() {
                    return;
                }
            }
        })?;
        Ok(IoWorker { tx })
    }

    pub fn submit(&self, job: IoJob) {
        // A closed channel means the thread is gone; the status then keeps its last message.
        let _ = self.tx.send(job);
    }
}
