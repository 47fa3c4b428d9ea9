//! `rarity gen` throughput (events/s written as Defender / Sentinel CSV) and threat-intel feed
//! parsing (an IPsum-sized 120,000-line feed).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rarity::enrich::ti::ThreatIntel;
use rarity::gen::{generate, GenOptions};
use rarity::ingest::{Progress, SourceData, Tracker};
use std::sync::atomic::AtomicBool;

const EVENTS: u64 = 500_000;
const FEED_LINES: u32 = 120_000;

fn gen(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let opts = GenOptions { devices: 1_000, days: 30, events: EVENTS, seed: 1, ..Default::default() };
    let mut group = c.benchmark_group("gen");
    group.sample_size(10);
    group.throughput(Throughput::Elements(EVENTS));
    group.bench_function("fleet_500k_events_csv", |b| {
        b.iter(|| generate(&opts, dir.path(), &|_| {}).expect("generate"))
    });
    group.finish();
}

fn feed(c: &mut Criterion) {
    let mut text = String::from("# IPsum-shaped feed\n# IP\tnumber of (black)lists\n");
    for i in 0..FEED_LINES {
        let [a, b, c, d] = (0x0200_0000u32 + i * 7919).to_be_bytes();
        text.push_str(&format!("{a}.{b}.{c}.{d}\t{}\n", 1 + i % 9));
    }
    let data = SourceData::Memory(text.into_bytes().into());
    let mut group = c.benchmark_group("feed");
    group.throughput(Throughput::Elements(u64::from(FEED_LINES)));
    group.bench_function("ipsum_120k_lines", |b| {
        b.iter(|| {
            let cancel = AtomicBool::new(false);
            let cb = |_: &Progress| {};
            let tracker = Tracker::new(&cb, &cancel);
            let mut ti = ThreatIntel::default();
            let r = ti.read_list(&data, "feed", &tracker).expect("read feed");
            assert_eq!(r.entries, u64::from(FEED_LINES));
            ti
        })
    });
    group.finish();
}

criterion_group!(benches, gen, feed);
criterion_main!(benches);
