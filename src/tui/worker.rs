//! The background thread that runs hunts and drill-downs off the UI thread. Jobs are
//! latest-wins: when several are queued for the same hunt only the newest runs, and every
//! result carries the generation it was asked for so `App` drops stale ones.

use super::msg::{Cmd, DrillDone, DrillRequest, HuntDone, Level, Msg, SweepDone};
use rarity::hunt::{Funnel, HuntId, HuntOutput, HuntParams, ParamValue};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::Instant;

/// What the worker runs jobs against (the engine over the loaded dataset).
pub trait HuntBackend: 'static {
    fn run(&self, params: &HuntParams) -> Result<HuntOutput, String>;
    fn drill(&self, req: &DrillRequest) -> Result<Level, String>;
    /// The funnel of a run with `params` (None: this backend has none).
    fn funnel(&self, _params: &HuntParams) -> Option<Funnel> {
        None
    }
    /// Result counts with `key` at each of `values`.
    fn sweep(&self, _params: &HuntParams, _key: &str, _values: &[ParamValue]) -> Result<Vec<usize>, String> {
        Err("no sweeps here".into())
    }
    /// Why `output.rows[row]` is a result: one line (empty: this backend cannot say).
    fn why(&self, _output: &HuntOutput, _row: usize) -> String {
        String::new()
    }
}

#[derive(Debug)]
enum Job {
    Run { hunt: HuntId, gen: u64, params: HuntParams },
    Drill { hunt: HuntId, gen: u64, req: DrillRequest },
    Sweep { hunt: HuntId, params: HuntParams, key: &'static str, values: Vec<ParamValue> },
    Why { hunt: HuntId, gen: u64, output: std::sync::Arc<HuntOutput>, row: usize },
}

impl Job {
    /// Jobs with the same slot replace each other.
    fn slot(&self) -> (u8, HuntId) {
        match self {
            Job::Run { hunt, .. } => (0, *hunt),
            Job::Drill { hunt, .. } => (1, *hunt),
            Job::Sweep { hunt, .. } => (2, *hunt),
            Job::Why { hunt, .. } => (3, *hunt),
        }
    }
}

/// Handle to the worker thread; dropping it ends the thread after its current job.
pub struct Worker {
    tx: Sender<Job>,
}

impl Worker {
    /// Start the thread, which first builds its backend with `make` (building the engine's
    /// indexes takes a while on big inputs, so not on the UI thread); results go to `out` as
    /// `Msg`s wrapped by `wrap`. Jobs queue up meanwhile.
    pub fn spawn<B, F, T>(make: F, out: Sender<T>, wrap: fn(Msg) -> T) -> Worker
    where
        B: HuntBackend,
        F: FnOnce() -> B + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = channel();
        std::thread::Builder::new()
            .name("rarity-hunts".into())
            .spawn(move || work(make(), rx, |m| out.send(wrap(m)).is_ok()))
            .map(|_| ())
            .unwrap_or_else(|e| eprintln!("cannot start the hunt worker: {e}"));
        Worker { tx }
    }

    /// Queue a hunt or drill-down command; other commands are not the worker's.
    pub fn submit(&self, cmd: Cmd) {
        let job = match cmd {
            Cmd::Run { hunt, gen, params } => Job::Run { hunt, gen, params },
            Cmd::Drill { hunt, gen, req } => Job::Drill { hunt, gen, req },
            Cmd::Sweep { hunt, params, key, values } => Job::Sweep { hunt, params, key, values },
            Cmd::Why { hunt, gen, output, row } => Job::Why { hunt, gen, output, row },
            Cmd::Io(_) | Cmd::CancelLoad | Cmd::SaveCase { .. } | Cmd::Terminal(_) | Cmd::CopyToClipboard(_) => return,
        };
        // A closed channel means the worker died; the tab then keeps showing "computing".
        let _ = self.tx.send(job);
    }
}

/// Keep only the newest job per slot, in arrival order.
fn latest_wins(jobs: Vec<Job>) -> Vec<Job> {
    let mut seen = std::collections::HashSet::new();
    let mut keep: Vec<Job> = jobs.into_iter().rev().filter(|j| seen.insert(j.slot())).collect();
    keep.reverse();
    keep
}

fn work<B: HuntBackend>(backend: B, rx: Receiver<Job>, send: impl Fn(Msg) -> bool) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        batch.extend(rx.try_iter());
        for job in latest_wins(batch) {
            // The funnel follows its run's rows, so the table never waits for it.
            let funnel = match &job {
                Job::Run { hunt, gen, params } => Some((*hunt, *gen, params.clone())),
                _ => None,
            };
            let msg = run_job(&backend, job);
            let ok = matches!(&msg, Msg::HuntDone(HuntDone { result: Ok(_), .. }));
            if !send(msg) {
                return;
            }
            if let (true, Some((hunt, gen, params))) = (ok, funnel) {
                let f = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| backend.funnel(&params)));
                if let Ok(Some(funnel)) = f {
                    if !send(Msg::FunnelDone { hunt, gen, funnel }) {
                        return;
                    }
                }
            }
        }
    }
}

/// Run one job, turning a panic in the engine into an error message rather than a dead worker.
fn run_job<B: HuntBackend>(backend: &B, job: Job) -> Msg {
    let guarded = |f: &dyn Fn() -> Msg, fail: &dyn Fn(String) -> Msg| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| {
            let why = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            fail(format!("internal error: {why}"))
        })
    };
    match job {
        Job::Run { hunt, gen, params } => {
            let start = Instant::now();
            guarded(
                &|| Msg::HuntDone(HuntDone { hunt, gen, result: backend.run(&params), elapsed: start.elapsed() }),
                &|e| Msg::HuntDone(HuntDone { hunt, gen, result: Err(e), elapsed: start.elapsed() }),
            )
        }
        Job::Drill { hunt, gen, req } => {
            guarded(&|| Msg::DrillDone(DrillDone { hunt, gen, result: backend.drill(&req) }), &|e| {
                Msg::DrillDone(DrillDone { hunt, gen, result: Err(e) })
            })
        }
        Job::Sweep { hunt, params, key, values } => {
            let done = |result| {
                Msg::SweepDone(SweepDone { hunt, key, params: params.clone(), values: values.clone(), result })
            };
            guarded(&|| done(backend.sweep(&params, key, &values)), &|e| done(Err(e)))
        }
        Job::Why { hunt, gen, output, row } => {
            let done = |line| Msg::WhyDone { hunt, gen, row, line };
            guarded(&|| done(backend.why(&output, row)), &|e| done(e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(hunt: HuntId, gen: u64) -> Job {
        Job::Run { hunt, gen, params: HuntParams::defaults(hunt) }
    }

    #[test]
    fn only_the_newest_job_per_hunt_survives() {
        let hunts: Vec<HuntId> = HuntId::all().collect();
        let (a, b) = (hunts[0], hunts[hunts.len() - 1]);
        let jobs = vec![run(a, 1), run(b, 1), run(a, 2), run(a, 3)];
        let kept: Vec<(HuntId, u64)> = latest_wins(jobs)
            .into_iter()
            .map(|j| match j {
                Job::Run { hunt, gen, .. } => (hunt, gen),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(kept, vec![(b, 1), (a, 3)]);
    }
}
