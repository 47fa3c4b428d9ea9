//! Load snapshots on a 1,000,000-row Defender DeviceNetworkEvents portal CSV (generated once
//! into a temp file): the cold load (parsing, no cache), writing its snapshot, and reopening
//! it from the snapshot (what every later `rarity` on the same export does).

#[path = "common/defender_gen.rs"]
mod defender_gen;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rarity::ingest::{Input, LoadOptions};
use rarity::snapshot::{load_cached, CacheOptions, CachedLoad, Origin, WriteOutcome};
use std::path::Path;
use std::sync::atomic::AtomicBool;

const ROWS: usize = 1_000_000;

fn load(path: &Path, cache: &CacheOptions) -> CachedLoad {
    let cancel = AtomicBool::new(false);
    let got =
        load_cached(&[Input::Path(path.to_path_buf())], &[], None, &LoadOptions::default(), cache, &|_| {}, &cancel)
            .expect("load");
    assert_eq!(got.dataset.net.len(), ROWS);
    got
}

fn snapshot(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("DeviceNetworkEvents_1m.csv");
    {
        let file = std::fs::File::create(&path).expect("create bench file");
        let mut out = std::io::BufWriter::new(file);
        defender_gen::write_defender_csv(&mut out, ROWS).expect("write bench file");
    }
    let cache_dir = tempfile::tempdir().expect("cache dir");
    let cache = CacheOptions { dir: Some(cache_dir.path().to_path_buf()), ..CacheOptions::default() };

    let mut group = c.benchmark_group("snapshot");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ROWS as u64));
    group.bench_function("cold_load_defender_1m_rows", |b| b.iter(|| load(&path, &CacheOptions::disabled())));

    let write_dir = dir.path().join("write");
    let write_cache = CacheOptions { dir: Some(write_dir.clone()), ..CacheOptions::default() };
    group.bench_function("write_defender_1m_rows", |b| {
        b.iter_batched(
            || {
                rarity::snapshot::clear(&write_dir).expect("clear");
                load(&path, &write_cache)
            },
            |got| {
                let pending = got.pending.expect("a snapshot is due");
                assert!(matches!(pending.write(&got.dataset, &got.report), WriteOutcome::Written { .. }));
                (got.dataset, got.report)
            },
            BatchSize::PerIteration,
        )
    });

    let first = load(&path, &cache);
    let pending = first.pending.expect("a snapshot is due");
    assert!(matches!(pending.write(&first.dataset, &first.report), WriteOutcome::Written { .. }));
    drop(first.dataset);
    group.bench_function("reopen_defender_1m_rows", |b| {
        b.iter(|| {
            let got = load(&path, &cache);
            assert!(matches!(got.origin, Origin::Snapshot { .. }));
            got
        })
    });
    group.finish();
}

criterion_group!(benches, snapshot);
criterion_main!(benches);
