//! Loading 500,000 Defender DeviceNetworkEvents rows through `ingest::load` in two JSON shapes
//! (generated once into temp files): streaming API NDJSON (`category` + `properties` per line,
//! parsed in parallel batches) and one hunting API document (`Schema`/`Results`).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rarity::ingest::{load, Input, LoadOptions};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicBool;

const ROWS: usize = 500_000;

fn properties(i: usize) -> String {
    format!(
        concat!(
            r#"{{"Timestamp":"2024-03-{:02}T{:02}:{:02}:{:02}.{:07}Z","DeviceId":"{:040x}","DeviceName":"host-{}.corp.example","#,
            r#""ActionType":"{}","RemoteIP":"{}.{}.{}.{}","RemotePort":{},"RemoteUrl":"","LocalIP":"10.0.{}.{}","LocalPort":{},"#,
            r#""Protocol":"Tcp","RemoteIPType":"Public","InitiatingProcessFileName":"proc{}.exe","#,
            r#""InitiatingProcessFolderPath":"c:\\program files\\vendor\\proc{}.exe","#,
            r#""InitiatingProcessCommandLine":"proc{}.exe --mode {}","InitiatingProcessMD5":"{:032x}","#,
            r#""AdditionalFields":null,"ReportId":{}}}"#
        ),
        1 + i % 28,
        i / 3600 % 24,
        i / 60 % 60,
        i % 60,
        i % 10_000_000,
        i % 2000,
        i % 2000,
        if i % 5 == 0 { "ConnectionFailed" } else { "ConnectionSuccess" },
        20 + i % 200,
        i % 256,
        i / 256 % 256,
        1 + i % 250,
        [443, 80, 22, 3389, 8443][i % 5],
        i % 4,
        i % 250,
        49152 + i % 16000,
        i % 60,
        i % 60,
        i % 60,
        i % 7,
        i % 60,
        i
    )
}

fn write_ndjson(path: &Path) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for i in 0..ROWS {
        writeln!(
            out,
            r#"{{"Tenant":"DefaultTenant","category":"AdvancedHunting-DeviceNetworkEvents","operationName":"Publish","properties":{},"tenantId":"t","time":"2024-03-28T00:00:00Z"}}"#,
            properties(i)
        )?;
    }
    out.flush()
}

fn write_api_document(path: &Path) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    write!(out, r#"{{"Schema":[{{"Name":"Timestamp","Type":"DateTime"}}],"Results":["#)?;
    for i in 0..ROWS {
        if i > 0 {
            writeln!(out, ",")?;
        }
        write!(out, "{}", properties(i))?;
    }
    writeln!(out, "]}}")?;
    out.flush()
}

fn bench_file(c: &mut Criterion, name: &str, path: &Path) {
    let mut group = c.benchmark_group("load_json");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ROWS as u64));
    group.bench_function(name, |b| {
        b.iter(|| {
            let cancel = AtomicBool::new(false);
            let (ds, _) =
                load(&[Input::Path(path.to_path_buf())], &[], None, &LoadOptions::default(), &|_| {}, &cancel)
                    .expect("load");
            assert_eq!(ds.net.len(), ROWS);
            ds
        })
    });
    group.finish();
}

fn load_json(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let ndjson = dir.path().join("streaming.ndjson");
    write_ndjson(&ndjson).expect("write bench file");
    bench_file(c, "streaming_ndjson_500k_rows", &ndjson);
    let api = dir.path().join("api.json");
    write_api_document(&api).expect("write bench file");
    bench_file(c, "hunting_api_document_500k_rows", &api);
}

criterion_group!(benches, load_json);
criterion_main!(benches);
