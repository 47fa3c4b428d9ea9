//! A mutation fuzzer for the loaders, on the stable toolchain: mutate the project's fixtures
//! of every format (see `tests/fuzz/mutate.rs`), load each mutant in process under
//! `catch_unwind`, and save every input that panics or hangs.
//!
//! ```text
//! cargo run --release --example fuzz -- --execs 100000
//! cargo run --release --example fuzz -- --seconds 300 [--seed N] [--out DIR] [--corpus DIR]...
//! cargo run --release --example fuzz -- --replay FILE [--kind telemetry|feed|mmdb]
//! ```
//! Prints executions run and panics found; each finding is written to `--out`
//! (default `target/fuzz-findings`) as `<id>.bin` plus `<id>.txt` (seed, mutations, panic).

#[path = "../tests/fuzz/mutate.rs"]
mod mutate;

use mutate::{capture_panics, exercise, mutate, seeds, Limits, Rng, Seed, SeedKind, LAST_PANIC};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An execution running longer than this is a hang: its input is saved and the run stops.
const HANG: Duration = Duration::from_secs(20);

/// The execution in progress (when it started, what it is, its input), for the watchdog.
type Watched = Arc<Mutex<Option<(Instant, String, Vec<u8>)>>>;

struct Args {
    execs: Option<u64>,
    seconds: Option<u64>,
    seed: u64,
    out: PathBuf,
    corpus: Vec<PathBuf>,
    replay: Option<PathBuf>,
    kind: SeedKind,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        execs: None,
        seconds: None,
        seed: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64)?,
        out: PathBuf::from("target/fuzz-findings"),
        corpus: Vec::new(),
        replay: None,
        kind: SeedKind::Telemetry,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| anyhow::anyhow!("{flag} needs a value"));
        match flag.as_str() {
            "--execs" => a.execs = Some(value()?.parse()?),
            "--seconds" => a.seconds = Some(value()?.parse()?),
            "--seed" => a.seed = value()?.parse()?,
            "--out" => a.out = value()?.into(),
            "--corpus" => a.corpus.push(value()?.into()),
            "--replay" => a.replay = Some(value()?.into()),
            "--kind" => {
                a.kind = match value()?.as_str() {
                    "feed" => SeedKind::Feed,
                    "mmdb" => SeedKind::Mmdb,
                    _ => SeedKind::Telemetry,
                }
            }
            other => anyhow::bail!(
                "unknown argument `{other}` (use --execs N | --seconds T, --seed N, --out DIR, --corpus DIR, --replay FILE)"
            ),
        }
    }
    if a.execs.is_none() && a.seconds.is_none() && a.replay.is_none() {
        a.seconds = Some(60);
    }
    Ok(a)
}

fn save(out: &std::path::Path, id: &str, bytes: &[u8], about: &str) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(out)?;
    let bin = out.join(format!("{id}.bin"));
    std::fs::write(&bin, bytes)?;
    std::fs::write(out.join(format!("{id}.txt")), about)?;
    Ok(bin)
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    capture_panics();
    if let Some(path) = &args.replay {
        let bytes = std::fs::read(path)?;
        let seed = Seed { name: path.display().to_string(), kind: args.kind, bytes: bytes.clone() };
        for variant in 0..8 {
            let r = std::panic::catch_unwind(|| exercise(&seed, &bytes, variant));
            let msg = LAST_PANIC.lock().map(|mut p| p.take()).unwrap_or_default();
            println!("variant {variant}: {}", if r.is_ok() { "ok".to_string() } else { format!("PANIC {msg:?}") });
        }
        return Ok(());
    }

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let corpus = seeds(&root, &args.corpus, 64 << 10);
    let limits = Limits { huge_field: 2 << 20, max_len: 16 << 20 };
    println!("fuzz: {} seeds, seed {}, findings to {}", corpus.len(), args.seed, args.out.display());

    // A watchdog: an execution that does not finish is a hang; save its input and stop.
    let current: Watched = Arc::new(Mutex::new(None));
    {
        let (current, out) = (current.clone(), args.out.clone());
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_secs(1));
            let Ok(cur) = current.lock() else { return };
            if let Some((started, about, bytes)) = cur.as_ref() {
                if started.elapsed() > HANG {
                    let id = format!("hang-{:016x}", started.elapsed().as_nanos() as u64 ^ bytes.len() as u64);
                    let saved = save(&out, &id, bytes, about).map(|p| p.display().to_string());
                    eprintln!("fuzz: HANG (> {} s) on {about}; input saved: {saved:?}", HANG.as_secs());
                    std::process::exit(3);
                }
            }
        });
    }

    let start = Instant::now();
    let deadline = args.seconds.map(|s| start + Duration::from_secs(s));
    let mut panics: BTreeMap<String, (u64, PathBuf)> = BTreeMap::new();
    let mut by_mutation: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut execs = 0u64;
    let mut last_report = Instant::now();
    loop {
        if args.execs.is_some_and(|n| execs >= n) || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let mut rng = Rng::new(args.seed ^ execs.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let seed = &corpus[rng.below(corpus.len())];
        let (bytes, names) = mutate(&mut rng, seed, &corpus, limits);
        for n in &names {
            *by_mutation.entry(n).or_insert(0) += 1;
        }
        let variant = rng.next();
        let about = format!(
            "seed file: {}\nkind: {:?}\nmutations: {}\nrun seed: {} exec {}\nvariant: {}\n",
            seed.name,
            seed.kind,
            names.join(", "),
            args.seed,
            execs,
            variant & 7
        );
        if let Ok(mut cur) = current.lock() {
            *cur = Some((Instant::now(), about.clone(), bytes.clone()));
        }
        if let Ok(mut p) = LAST_PANIC.lock() {
            *p = None;
        }
        let result = std::panic::catch_unwind(|| exercise(seed, &bytes, variant));
        if let Ok(mut cur) = current.lock() {
            *cur = None;
        }
        execs += 1;
        if result.is_err() {
            let msg = LAST_PANIC.lock().ok().and_then(|mut p| p.take()).unwrap_or_else(|| "(no message)".into());
            // One finding per panic location; later hits are counted.
            let site = msg.split(": ").next().unwrap_or("").to_string();
            match panics.get_mut(&site) {
                Some((n, _)) => *n += 1,
                None => {
                    let id = format!("panic-{:04}", panics.len() + 1);
                    let saved = save(&args.out, &id, &bytes, &format!("{about}panic: {msg}\n"))?;
                    eprintln!("fuzz: PANIC {msg} ({}); input saved to {}", names.join(", "), saved.display());
                    panics.insert(site, (1, saved));
                }
            }
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            last_report = Instant::now();
            let secs = start.elapsed().as_secs_f64();
            eprintln!(
                "fuzz: {execs} executions in {secs:.0} s ({:.0}/s), {} panic sites",
                execs as f64 / secs,
                panics.len()
            );
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!("executions: {execs} in {secs:.1} s ({:.0}/s)", execs as f64 / secs.max(1e-9));
    println!(
        "mutations applied: {}",
        by_mutation.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
    );
    println!("panics found: {} distinct sites, {} executions", panics.len(), panics.values().map(|v| v.0).sum::<u64>());
    for (site, (n, path)) in &panics {
        println!("  {site}: {n} times; first input {}", path.display());
    }
    if !panics.is_empty() {
        std::process::exit(1);
    }
    Ok(())
}
