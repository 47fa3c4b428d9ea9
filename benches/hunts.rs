//! Hunt engine benchmarks on a generated fleet: 1,000,000 network events (2,000 devices, ~5%
//! servers, ~300 process names, ~200k remote IPs, 30 days), DeviceInfo, 200,000 VMConnection
//! rows and a 10,000-address feed. Measures `Engine::new` and, per hunt, a run with the
//! defaults and a re-run after one parameter change; and the cockpit (funnel, timeline, sweeps)
//! next to a run.

use criterion::{criterion_group, criterion_main, BatchSize::PerIteration, Criterion};
use rarity::hunt::fixture::DatasetBuilder;
use rarity::hunt::{Engine, HuntId, HuntParams};
use rarity::model::tables::{DevField as DF, NetField as F, VmField as VF};
use rarity::model::time::format_iso;
use rarity::Dataset;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

const NET_EVENTS: usize = 1_000_000;
const DEVICES: usize = 2_000;
const PROCS: usize = 300;
const VM_ROWS: usize = 200_000;
const FEED: usize = 10_000;
const NOW: i64 = 1_795_176_000_000_000_000; // 2026-11-20T12:00:00Z
const DAY: i64 = 86_400_000_000_000;

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Skewed pick: small indices much more likely (popular processes, IPs).
    fn skewed(&mut self, n: usize) -> usize {
        let a = self.below(n);
        let b = self.below(n);
        let c = self.below(n);
        a.min(b).min(c)
    }
}

fn public_ip(k: usize) -> String {
    let k = k as u32 + 0x0B00_0000; // from 11.0.0.0 upwards: public space
    format!("{}.{}.{}.{}", k >> 24, (k >> 16) & 255, (k >> 8) & 255, k & 255)
}

fn generate() -> Dataset {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut b = DatasetBuilder::new();
    let names: Vec<String> = (0..DEVICES).map(|d| format!("host-{d:04}")).collect();
    let ids: Vec<String> = (0..DEVICES).map(|d| format!("{:040x}", d * 7919 + 1)).collect();
    let servers = |d: usize| d % 20 == 0;
    for d in 0..DEVICES {
        for k in 0..3 {
            let ts = format_iso(NOW - (k as i64 * 10 + 1) * DAY + d as i64 * 1_000_000);
            let (os, ty) = if servers(d) { ("WindowsServer2019", "Server") } else { ("Windows10", "Workstation") };
            let af = if d % 10 == 0 {
                format!(
                    r#"{{"InternetFacingLocalPort":{},"InternetFacingReason":"ExternalNetworkConnection"}}"#,
                    [3389, 443, 22][d % 3]
                )
            } else {
                String::new()
            };
            let facing = if d % 10 == 0 { "true" } else { "false" };
            b.dev(&[
                (DF::Timestamp, &ts),
                (DF::DeviceId, &ids[d]),
                (DF::DeviceName, &names[d]),
                (DF::OSPlatform, os),
                (DF::DeviceType, ty),
                (DF::IsInternetFacing, facing),
                (DF::AdditionalFields, &af),
            ]);
        }
    }
    let procs: Vec<String> = (0..PROCS)
        .map(|p| match p {
            0 => "chrome.exe".to_string(),
            1 => "msedge.exe".to_string(),
            2 => "svchost.exe".to_string(),
            p if p % 17 == 0 => format!("Tool{p}.EXE"),
            p => format!("proc{p}.exe"),
        })
        .collect();
    // Common vendors on most devices; the long tail of processes has its own (rare) vendor.
    let companies: Vec<String> =
        (0..PROCS).map(|c| if c < 250 { format!("Company {}", c % 40) } else { format!("Vendor {c}") }).collect();
    let company = |p: usize| if p % 5 == 0 { "" } else { companies[p].as_str() };
    let domains: Vec<String> = (0..5_000).map(|k| format!("svc{k}.example{}.com", k % 50)).collect();
    const PORTS: [&str; 9] = ["443", "80", "53", "22", "8443", "3389", "445", "8080", "5555"];
    const ACTIONS: [&str; 6] = [
        "ConnectionSuccess",
        "ConnectionSuccess",
        "ConnectionSuccess",
        "InboundConnectionAccepted",
        "ListeningConnectionCreated",
        "ConnectionFailed",
    ];
    for _ in 0..NET_EVENTS {
        let d = rng.below(DEVICES);
        let p = rng.skewed(PROCS);
        let ts = format_iso(NOW - (rng.next() % (30 * DAY as u64)) as i64);
        let private = rng.below(10) == 0;
        let ip = if private {
            format!("10.0.{}.{}", rng.below(256), rng.below(256))
        } else {
            public_ip(rng.skewed(200_000))
        };
        let url = if rng.below(10) < 4 { domains[rng.skewed(domains.len())].as_str() } else { "" };
        let sysmon = rng.below(20) == 0;
        let port = PORTS[rng.skewed(PORTS.len())];
        let lport = ["3389", "443", "22", "49152"][rng.below(4)];
        b.net(&[
            (F::Timestamp, &ts),
            (F::DeviceId, if sysmon { "" } else { &ids[d] }),
            (F::DeviceName, &names[d]),
            (F::ActionType, ACTIONS[rng.below(ACTIONS.len())]),
            (F::RemoteIP, &ip),
            (F::RemotePort, port),
            (F::RemoteUrl, url),
            (F::LocalPort, lport),
            (F::Protocol, if sysmon { "tcp" } else { "Tcp" }),
            (F::InitiatingProcessFileName, &procs[p]),
            (F::InitiatingProcessCommandLine, &procs[p]),
            (F::InitiatingProcessMD5, &format!("{:032x}", p * 31 + d % 3)),
            (F::InitiatingProcessVersionInfoCompanyName, company(p)),
        ]);
    }
    const COUNTRIES: usize = 50;
    for _ in 0..VM_ROWS {
        let ts = format_iso(NOW - (rng.next() % (30 * DAY as u64)) as i64);
        // Most traffic goes to a few countries; 1 row in 25 to one of 5,000 rarely seen ones.
        let country = if rng.below(25) == 0 {
            format!("Rare{}", rng.below(5000))
        } else {
            format!("Country{}", rng.skewed(COUNTRIES))
        };
        let comp = format!("vm-{:03}", rng.below(200));
        let dst = public_ip(rng.skewed(50_000));
        let sent = rng.below(100_000).to_string();
        b.vm(&[
            (VF::TimeGenerated, &ts),
            (VF::Computer, &comp),
            (VF::Direction, if rng.below(4) == 0 { "inbound" } else { "outbound" }),
            (VF::ProcessName, ["curl", "nginx", "python3", "java", "sshd"][rng.below(5)]),
            (VF::SourceIp, "10.1.0.4"),
            (VF::DestinationIp, &dst),
            (VF::DestinationPort, PORTS[rng.below(PORTS.len())]),
            (VF::Protocol, "tcp"),
            (VF::RemoteCountry, &country),
            (VF::BytesSent, &sent),
            (VF::BytesReceived, "100"),
        ]);
    }
    for k in 0..FEED {
        b.ti(&public_ip(k * 13), Some((k % 10) as u32 + 1));
    }
    b.build()
}

fn params(h: HuntId, sets: &[(&str, &str)]) -> HuntParams {
    let mut p = HuntParams::defaults(h);
    for (k, v) in sets {
        p.set(k, v).expect("valid bench parameter");
    }
    p
}

fn bench(c: &mut Criterion) {
    let t = Instant::now();
    let ds = Arc::new(generate());
    eprintln!(
        "generated {} net, {} devinfo, {} vm rows in {:?}",
        ds.net.len(),
        ds.devinfo.len(),
        ds.vm.len(),
        t.elapsed()
    );
    let mut g = c.benchmark_group("hunts");
    g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(4));
    g.bench_function("engine_new", |b| b.iter(|| black_box(Engine::new(ds.clone()))));
    let t = Instant::now();
    let eng = Engine::new(ds.clone());
    eprintln!(
        "Engine::new {:?}; indexes {} MB over a {} MB network table",
        t.elapsed(),
        eng.heap_bytes() >> 20,
        ds.net.heap_bytes() >> 20
    );
    let cases: [(HuntId, &str, &str, &str); 5] = [
        (rarity::hunt::rare_process::ID, "rare-process", "max_devices", "5"),
        (rarity::hunt::vm_new_country::ID, "vm-new-country", "recent", "2h"),
        (rarity::hunt::supply_chain::ID, "supply-chain", "new_within", "2d"),
        (rarity::hunt::server_anomaly::ID, "server-anomaly", "max_connections", "40"),
        (rarity::hunt::ti_inbound::ID, "ti-inbound", "min_level", "3"),
    ];
    for (h, name, key, value) in cases {
        let defaults = params(h, &[]);
        let changed = params(h, &[(key, value)]);
        let t = Instant::now();
        let rows = eng.run(&defaults, None).map(|o| o.rows.len()).unwrap_or(0);
        eprintln!("{name}: first run after Engine::new {:?}, {rows} rows with defaults", t.elapsed());
        g.bench_function(format!("{name}/first_run"), |b| b.iter(|| black_box(eng.run(&defaults, None))));
        g.bench_function(format!("{name}/recompute_{key}"), |b| b.iter(|| black_box(eng.run(&changed, None))));
    }
    g.finish();
}

/// The cockpit's cost next to a recompute: per hunt the funnel, the timeline of the largest
/// finding's events, and a 20-point sweep of every numeric and duration parameter.
fn cockpit(c: &mut Criterion) {
    let eng = Engine::new(Arc::new(generate()));
    let mut g = c.benchmark_group("cockpit");
    g.sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(2));
    for h in HuntId::all() {
        let p = params(h, &[]);
        let name = h.key();
        g.bench_function(format!("{name}/run"), |b| b.iter(|| black_box(eng.run(&p, None))));
        let now = eng.resolve_now(None);
        // The funnel right after its run (a recompute), and after a run of something else.
        g.bench_function(format!("{name}/funnel_after_run"), |b| {
            b.iter_batched_ref(|| eng.run(&p, Some(now)).ok(), |_| black_box(eng.funnel(&p, Some(now))), PerIteration)
        });
        g.bench_function(format!("{name}/funnel_alone"), |b| {
            b.iter_batched_ref(
                || eng.run(&p, Some(now - 1)).ok(),
                |_| black_box(eng.funnel(&p, Some(now))),
                PerIteration,
            )
        });
        let Ok(out) = eng.run(&p, None) else { continue };
        if let Some(row) = (0..out.rows.len()).max_by_key(|&r| eng.drill(&out, r).rows.len()) {
            let d = eng.drill(&out, row);
            let window = eng.hunt_window(&out.params, out.now);
            g.bench_function(format!("{name}/timeline_{}_events", d.rows.len()), |b| {
                b.iter(|| black_box(eng.timeline(d.table, &d.rows, window, 120)))
            });
        }
        // Best of a few, as a share of the run: the cockpit's budget is 20% of a recompute.
        // In a recompute the funnel follows its run; alone (`rarity explain`) it follows
        // nothing, here a run at another instant.
        let best = |before: &dyn Fn(), f: &dyn Fn()| {
            (0..15)
                .map(|_| {
                    before();
                    let t = Instant::now();
                    f();
                    t.elapsed()
                })
                .min()
                .unwrap_or_default()
        };
        let run = || {
            black_box(eng.run(&p, Some(now)).ok());
        };
        let elsewhere = || {
            black_box(eng.run(&p, Some(now - 1)).ok());
        };
        let funnel = || {
            black_box(eng.funnel(&p, Some(now)).ok());
        };
        let ran = best(&|| {}, &run);
        let after_run = best(&run, &funnel);
        let alone = best(&elsewhere, &funnel);
        let share = |d: Duration| 100.0 * d.as_secs_f64() / ran.as_secs_f64().max(1e-9);
        eprintln!(
            "funnel {name}: run {ran:?}; funnel after its run {after_run:?} ({:.1}% of the run), alone {alone:?} ({:.1}%)",
            share(after_run),
            share(alone)
        );
        for spec in h.spec().params.iter().filter(|s| rarity::hunt::funnel::sweepable(s.kind)) {
            let mut values = rarity::hunt::funnel::sweep_values(&p, spec.key, None).expect("sweepable");
            values.truncate(20);
            let mut best = Duration::MAX;
            for _ in 0..3 {
                let t = Instant::now();
                black_box(eng.sweep(&p, None, spec.key, &values).ok());
                best = best.min(t.elapsed());
            }
            eprintln!("sweep {name} {} x{}: {:?}", spec.key, values.len(), best);
        }
    }
    g.finish();
}

criterion_group!(benches, bench, cockpit);
criterion_main!(benches);
