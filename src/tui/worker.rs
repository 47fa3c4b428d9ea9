//! The background thread that runs hunts and drill-downs off the UI thread. Jobs are
//! latest-wins: when several are queued for the same hunt only the newest runs, and every
//! result carries the generation it was asked for so `App` drops stale ones.

use super::msg::{Cmd, DrillDone, DrillRequest, HuntDone, Level, Msg};
use rarity::hunt::{HuntId, HuntOutput, HuntParams};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::Instant;

/// What the worker runs jobs against (the engine over the loaded dataset).
pub trait HuntBackend: 'static {
    fn run(&self, params: &HuntParams) -> Result<HuntOutput, String>;
    fn drill(&self, req: &DrillRequest) -> Result<Level, String>;
}

#[derive(Debug)]
enum Job {
    Run { hunt: HuntId, gen: u64, params: HuntParams },
    Drill { hunt: HuntId, gen: u64, req: DrillRequest },
}

impl Job {
    /// Jobs with the same slot replace each other.
    fn slot(&self) -> (bool, HuntId) {
        match self {
            Job::Run { hunt, .. } => (false, *hunt),
            Job::Drill { hunt, .. } => (true, *hunt),
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
            Cmd::Io(_) | Cmd::CancelLoad | Cmd::SaveCase { .. } => return,
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
            let msg = run_job(&backend, job);
            if !send(msg) {
                return;
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
                Job::Drill { .. } => unreachable!(),
            })
            .collect();
        assert_eq!(kept, vec![(b, 1), (a, 3)]);
    }
}
