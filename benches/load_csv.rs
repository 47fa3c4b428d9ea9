//! Loading a 1,000,000-row Defender DeviceNetworkEvents portal CSV (generated once into a temp
//! file) through `ingest::load`: the reader's rows/s on real-shaped data.

#[path = "common/defender_gen.rs"]
mod defender_gen;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rarity::ingest::{load, Input, LoadOptions};
use std::sync::atomic::AtomicBool;

const ROWS: usize = 1_000_000;

fn load_csv(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("DeviceNetworkEvents_1m.csv");
    {
        let file = std::fs::File::create(&path).expect("create bench file");
        let mut out = std::io::BufWriter::new(file);
        defender_gen::write_defender_csv(&mut out, ROWS).expect("write bench file");
    }
    let mut group = c.benchmark_group("load_csv");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ROWS as u64));
    group.bench_function("defender_dne_1m_rows", |b| {
        b.iter(|| {
            let cancel = AtomicBool::new(false);
            let (ds, _) =
                load(&[Input::Path(path.clone())], &[], None, &LoadOptions::default(), &|_| {}, &cancel).expect("load");
            assert_eq!(ds.net.len(), ROWS);
            ds
        })
    });
    group.finish();
}

criterion_group!(benches, load_csv);
criterion_main!(benches);
