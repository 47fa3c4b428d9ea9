//! Load snapshots through `rarity::snapshot::load_cached`: a snapshot reads back exactly what a
//! fresh load builds (every table, column, dictionary, index, feed and the load report) for
//! every fixture format; any change to an input forces a fresh load; a damaged snapshot is
//! ignored with one warning and never panics.

use rarity::ingest::{self, Input, LoadOptions, LoadReport};
use rarity::model::tables::Provenance;
use rarity::model::time::DateOrder;
use rarity::model::{DeviceInfo, DictCol, IpCol, NetEvents, VmConnections};
use rarity::snapshot::{load_cached, CacheOptions, CachedLoad, Origin, WriteOutcome};
use rarity::Dataset;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A cache in `dir` that snapshots loads of any size.
fn cache_in(dir: &Path) -> CacheOptions {
    CacheOptions { dir: Some(dir.to_path_buf()), min_input_bytes: 0, ..CacheOptions::default() }
}

struct Load<'a> {
    inputs: Vec<Input>,
    ti: Vec<Input>,
    geoip: Option<PathBuf>,
    opts: LoadOptions,
    cache: &'a CacheOptions,
}

impl Load<'_> {
    fn cached(&self) -> CachedLoad {
        let cancel = AtomicBool::new(false);
        load_cached(&self.inputs, &self.ti, self.geoip.as_deref(), &self.opts, self.cache, &|_| {}, &cancel)
            .expect("load runs")
    }

    fn fresh(&self) -> (Dataset, LoadReport) {
        let cancel = AtomicBool::new(false);
        ingest::load(&self.inputs, &self.ti, self.geoip.as_deref(), &self.opts, &|_| {}, &cancel).expect("load runs")
    }

    /// Load, write the snapshot, load again: the second comes from the snapshot and equals a
    /// fresh load.
    fn round_trip(&self) -> CachedLoad {
        let first = self.cached();
        assert_eq!(first.origin, Origin::Files);
        assert!(first.warnings.is_empty(), "{:?}", first.warnings);
        let pending = first.pending.expect("a snapshot is due");
        match pending.write(&first.dataset, &first.report) {
            WriteOutcome::Written { bytes, .. } => assert!(bytes > 0),
            other => panic!("not written: {other:?}"),
        }
        let second = self.cached();
        assert!(matches!(second.origin, Origin::Snapshot { .. }), "{:?}", second.origin);
        assert!(second.warnings.is_empty(), "{:?}", second.warnings);
        assert!(second.pending.is_none());
        let (ds, report) = self.fresh();
        assert_same(&second.dataset, &ds);
        assert_same_report(&second.report, &report);
        second
    }
}

fn files(paths: &[&str]) -> Vec<Input> {
    paths.iter().map(|p| Input::Path(root().join(p))).collect()
}

fn assert_dict(a: &DictCol, b: &DictCol, what: &str) {
    assert_eq!(a.codes, b.codes, "{what}: codes");
    assert_eq!(a.dict.parts(), b.dict.parts(), "{what}: dictionary");
    for (code, s) in b.dict.iter() {
        assert_eq!(a.dict.lookup(s), Some(code), "{what}: lookup of {s:?}");
    }
    assert_eq!(a.dict.lookup("\u{1}not in any fixture"), None, "{what}");
}

fn assert_ip(a: &IpCol, b: &IpCol, what: &str) {
    assert_eq!(a.codes, b.codes, "{what}: codes");
    assert_eq!(a.ips, b.ips, "{what}: addresses");
    for (code, ip) in b.ips.iter().enumerate().skip(1) {
        assert_eq!(a.lookup(*ip), Some(code as u32), "{what}: lookup of {ip}");
    }
    assert_eq!(a.lookup("192.0.2.254".parse().unwrap()), b.lookup("192.0.2.254".parse().unwrap()), "{what}");
}

fn assert_prov(a: &Provenance, b: &Provenance, what: &str) {
    assert_eq!(a.locator, b.locator, "{what}: locators");
    assert_eq!(a.segments, b.segments, "{what}: segments");
}

/// Every field of every table, named (a new field fails to compile here until it is compared).
fn assert_same(a: &Dataset, b: &Dataset) {
    let Dataset { net, devinfo, vm, ti, geoip, sources, latest, earliest } = a;
    let NetEvents {
        ts,
        device,
        device_id,
        device_name,
        action,
        remote_ip,
        remote_port,
        remote_url,
        local_ip,
        local_port,
        protocol,
        remote_ip_type,
        proc_name,
        proc_folder,
        cmdline,
        md5,
        sha1,
        sha256,
        company,
        prov,
    } = net;
    let n = &b.net;
    assert_eq!(ts, &n.ts);
    for (x, y, w) in [
        (device, &n.device, "device"),
        (device_id, &n.device_id, "device_id"),
        (device_name, &n.device_name, "device_name"),
        (action, &n.action, "action"),
        (remote_url, &n.remote_url, "remote_url"),
        (protocol, &n.protocol, "protocol"),
        (remote_ip_type, &n.remote_ip_type, "remote_ip_type"),
        (proc_name, &n.proc_name, "proc_name"),
        (proc_folder, &n.proc_folder, "proc_folder"),
        (cmdline, &n.cmdline, "cmdline"),
        (md5, &n.md5, "md5"),
        (sha1, &n.sha1, "sha1"),
        (sha256, &n.sha256, "sha256"),
        (company, &n.company, "company"),
    ] {
        assert_dict(x, y, w);
    }
    assert_ip(remote_ip, &n.remote_ip, "remote_ip");
    assert_ip(local_ip, &n.local_ip, "local_ip");
    assert_eq!(remote_port, &n.remote_port);
    assert_eq!(local_port, &n.local_port);
    assert_prov(prov, &n.prov, "net");

    let DeviceInfo {
        ts,
        device_id,
        device_name,
        os_platform,
        device_type,
        is_internet_facing,
        if_local_port,
        if_reason,
        if_local_ip,
        prov,
    } = devinfo;
    let d = &b.devinfo;
    assert_eq!(ts, &d.ts);
    for (x, y, w) in [
        (device_id, &d.device_id, "dev device_id"),
        (device_name, &d.device_name, "dev device_name"),
        (os_platform, &d.os_platform, "os_platform"),
        (device_type, &d.device_type, "device_type"),
        (if_reason, &d.if_reason, "if_reason"),
        (if_local_ip, &d.if_local_ip, "if_local_ip"),
    ] {
        assert_dict(x, y, w);
    }
    assert_eq!(is_internet_facing, &d.is_internet_facing);
    assert_eq!(if_local_port, &d.if_local_port);
    assert_prov(prov, &d.prov, "devinfo");

    let VmConnections {
        ts,
        computer,
        direction,
        process_name,
        source_ip,
        destination_ip,
        destination_port,
        protocol,
        remote_country,
        malicious_ip,
        bytes_sent,
        bytes_received,
        prov,
    } = vm;
    let v = &b.vm;
    assert_eq!(ts, &v.ts);
    for (x, y, w) in [
        (computer, &v.computer, "computer"),
        (direction, &v.direction, "direction"),
        (process_name, &v.process_name, "process_name"),
        (source_ip, &v.source_ip, "source_ip"),
        (destination_ip, &v.destination_ip, "destination_ip"),
        (protocol, &v.protocol, "vm protocol"),
        (remote_country, &v.remote_country, "remote_country"),
        (malicious_ip, &v.malicious_ip, "malicious_ip"),
    ] {
        assert_dict(x, y, w);
    }
    assert_eq!(destination_port, &v.destination_port);
    assert_eq!(bytes_sent, &v.bytes_sent);
    assert_eq!(bytes_received, &v.bytes_received);
    assert_prov(prov, &v.prov, "vm");

    let sorted = |t: &rarity::enrich::ti::ThreatIntel| {
        let (feeds, entries, mut exact, mut nets) = t.to_parts();
        exact.sort_by_key(|e| e.0);
        nets.sort_by_key(|e| e.0);
        format!("{feeds:?} {entries} {exact:?} {nets:?}")
    };
    assert_eq!(sorted(ti), sorted(&b.ti));
    for ip in ["45.155.205.233", "1.2.3.4", "::ffff:45.155.205.233", "10.0.0.1"] {
        let ip = ip.parse().unwrap();
        assert_eq!(ti.lookup(ip), b.ti.lookup(ip), "feed lookup of {ip}");
    }
    assert_eq!(geoip.as_ref().map(|g| g.description()), b.geoip.as_ref().map(|g| g.description()));
    if let (Some(g), Some(h)) = (geoip, &b.geoip) {
        for ip in ["81.2.69.142", "8.8.8.8", "175.45.176.1", "2001:4860::8888"] {
            let ip = ip.parse().unwrap();
            assert_eq!(g.country(ip), h.country(ip), "country of {ip}");
        }
    }
    assert_eq!(sources.len(), b.sources.len());
    for (x, y) in sources.iter().zip(&b.sources) {
        assert_eq!(x.display, y.display);
        assert_eq!(format!("{:?}", x.data), format!("{:?}", y.data));
        assert_eq!(x.kind, y.kind);
        assert_eq!(x.columns, y.columns);
    }
    assert_eq!((latest, earliest), (&b.latest, &b.earliest));
    // The raw-event view still re-reads rows from the sources.
    for table in [
        rarity::model::TableKind::DeviceNetworkEvents,
        rarity::model::TableKind::DeviceInfo,
        rarity::model::TableKind::VMConnection,
    ] {
        assert_eq!(ingest::raw_record(a, table, 0), ingest::raw_record(b, table, 0));
    }
}

fn assert_same_report(a: &LoadReport, b: &LoadReport) {
    let LoadReport { files, stopped } = a;
    assert_eq!(*stopped, b.stopped);
    assert_eq!(serde_json::to_value(files).unwrap(), serde_json::to_value(&b.files).unwrap());
    // Typed rejects too, not only the text they print as.
    for (x, y) in files.iter().zip(&b.files) {
        assert_eq!(x.rejects, y.rejects, "{}", x.path);
    }
}

#[test]
fn every_fixture_format_round_trips_through_a_snapshot() {
    let mut paths: Vec<PathBuf> = Vec::new();
    for dir in ["tests/fixtures/csv", "tests/fixtures/json"] {
        let mut v: Vec<PathBuf> = std::fs::read_dir(root().join(dir)).unwrap().map(|e| e.unwrap().path()).collect();
        v.sort();
        paths.extend(v);
    }
    assert!(paths.len() >= 28);
    for path in paths {
        let cache_dir = tempfile::tempdir().unwrap();
        let cache = cache_in(cache_dir.path());
        let load = Load {
            inputs: vec![Input::Path(path.clone())],
            ti: Vec::new(),
            geoip: None,
            opts: LoadOptions::default(),
            cache: &cache,
        };
        let first = load.cached();
        if !first.report.loaded_anything() {
            // Nothing to snapshot (a file every row of which is rejected).
            let outcome = first.pending.unwrap().write(&first.dataset, &first.report);
            assert!(matches!(outcome, WriteOutcome::Skipped(_)), "{}: {outcome:?}", path.display());
            continue;
        }
        load.round_trip();
    }
}

#[test]
fn the_sample_fleet_round_trips_with_feeds_and_geoip_from_a_directory_and_from_flags() {
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = cache_in(cache_dir.path());
    // The directory: the GeoIP database and the feed are recognized by content.
    let dir = Load {
        inputs: files(&["assets/sample"]),
        ti: Vec::new(),
        geoip: None,
        opts: LoadOptions::default(),
        cache: &cache,
    };
    let back = dir.round_trip();
    assert!(back.dataset.geoip.is_some());
    assert!(!back.dataset.ti.is_empty());
    assert!(back.dataset.net.len() > 1000 && !back.dataset.devinfo.is_empty() && !back.dataset.vm.is_empty());
    assert!(back.origin_note().unwrap().contains("loaded from snapshot"));
    // The same files as flags, with other options: another snapshot.
    let flags = Load {
        inputs: files(&[
            "assets/sample/DeviceNetworkEvents.csv",
            "assets/sample/DeviceInfo.csv",
            "assets/sample/VMConnection.csv",
            "assets/sample/SysmonEvent.csv",
        ]),
        ti: files(&["assets/sample/ipsum.txt", "tests/fixtures/csv/deviceinfo.csv"]),
        geoip: Some(root().join("assets/sample/GeoLite2-Country-rarity.mmdb")),
        opts: LoadOptions { date_order: DateOrder::DayFirst, zone: "Europe/Berlin".parse().unwrap() },
        cache: &cache,
    };
    flags.round_trip();
    assert_eq!(std::fs::read_dir(cache_dir.path()).unwrap().count(), 2);
}

#[test]
fn a_generated_jsonl_fleet_round_trips() {
    let data = tempfile::tempdir().unwrap();
    let opts = rarity::gen::GenOptions {
        devices: 30,
        events: 20_000,
        format: rarity::gen::GenFormat::Jsonl,
        ..rarity::gen::GenOptions::default()
    };
    rarity::gen::generate(&opts, data.path(), &|_| {}).unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = cache_in(cache_dir.path());
    let load = Load {
        inputs: vec![Input::Path(data.path().to_path_buf())],
        ti: Vec::new(),
        geoip: None,
        opts: LoadOptions::default(),
        cache: &cache,
    };
    let back = load.round_trip();
    assert!(back.dataset.net.len() > 15_000);
}

#[test]
fn string_columns_of_every_code_width_round_trip() {
    // 70,000 rows: ActionType has 2 values (1-byte codes), DeviceName 300 (2 bytes) and the
    // command line one per row (4 bytes).
    let data = tempfile::tempdir().unwrap();
    let mut csv = String::from(
        "Timestamp,DeviceName,ActionType,RemoteIP,RemotePort,InitiatingProcessFileName,InitiatingProcessCommandLine\n",
    );
    for i in 0..70_000u32 {
        let action = if i % 2 == 0 { "ConnectionSuccess" } else { "ConnectionFailed" };
        csv.push_str(&format!(
            "2024-01-01T00:00:{:02}Z,dev{},{action},10.{}.{}.{},443,a.exe,a.exe --run {i}\n",
            i % 60,
            i % 300,
            i >> 16,
            (i >> 8) & 255,
            i & 255
        ));
    }
    std::fs::write(data.path().join("DeviceNetworkEvents.csv"), csv).unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = cache_in(cache_dir.path());
    let load = Load {
        inputs: vec![Input::Path(data.path().join("DeviceNetworkEvents.csv"))],
        ti: Vec::new(),
        geoip: None,
        opts: LoadOptions::default(),
        cache: &cache,
    };
    let back = load.round_trip();
    let n = &back.dataset.net;
    assert_eq!(n.len(), 70_000);
    assert_eq!((n.action.codes.width(), n.device_name.codes.width(), n.cmdline.codes.width()), (1, 2, 4));
    assert_eq!(
        (n.action.get(69_999), n.device_name.get(299), n.cmdline.get(69_999)),
        ("ConnectionFailed", "dev299", "a.exe --run 69999")
    );
}

#[test]
fn real_evtx_samples_round_trip_when_present() {
    let dir = std::env::var_os("RARITY_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared"))
        .join("data/real/sbousseaden-evtx-attack-samples");
    if !dir.is_dir() {
        eprintln!("note: shared data not found ({}); skipping", dir.display());
        return;
    }
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = cache_in(cache_dir.path());
    let load = Load {
        inputs: vec![Input::Path(dir.join("DE_sysmon-3-rdp-tun.evtx"))],
        ti: Vec::new(),
        geoip: None,
        opts: LoadOptions::default(),
        cache: &cache,
    };
    let back = load.round_trip();
    assert!(back.dataset.net.len() >= 42);
}

/// A copy of a fixture to change, a cache, and a load of the copy.
struct Scratch {
    _dir: tempfile::TempDir,
    file: PathBuf,
    cache_dir: tempfile::TempDir,
}

impl Scratch {
    /// A copy of `fixture` (relative to the crate).
    fn new(fixture: &str) -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("dne.csv");
        std::fs::copy(root().join(fixture), &file).unwrap();
        Scratch { _dir: dir, file, cache_dir: tempfile::tempdir().unwrap() }
    }

    fn cache(&self) -> CacheOptions {
        cache_in(self.cache_dir.path())
    }

    fn load(&self) -> CachedLoad {
        let cache = self.cache();
        let cancel = AtomicBool::new(false);
        let got = load_cached(
            &[Input::Path(self.file.clone())],
            &[],
            None,
            &LoadOptions::default(),
            &cache,
            &|_| {},
            &cancel,
        )
        .expect("load runs");
        let (ds, report) =
            ingest::load(&[Input::Path(self.file.clone())], &[], None, &LoadOptions::default(), &|_| {}, &cancel)
                .unwrap();
        assert_same(&got.dataset, &ds);
        assert_same_report(&got.report, &report);
        got
    }

    /// Load and write the snapshot when one is due; returns where the tables came from.
    fn load_and_save(&self) -> (Origin, Vec<String>) {
        let got = self.load();
        if let Some(p) = got.pending {
            assert!(matches!(p.write(&got.dataset, &got.report), WriteOutcome::Written { .. }));
        }
        (got.origin, got.warnings)
    }

    fn snapshot_path(&self) -> PathBuf {
        let snaps: Vec<PathBuf> = std::fs::read_dir(self.cache_dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "snap"))
            .collect();
        assert_eq!(snaps.len(), 1, "{snaps:?}");
        snaps[0].clone()
    }

    fn set_mtime(&self, t: std::time::SystemTime) {
        std::fs::File::options().write(true).open(&self.file).unwrap().set_modified(t).unwrap();
    }
}

const SAMPLE_DNE: &str = "assets/sample/DeviceNetworkEvents.csv";

fn from_snapshot(o: &Origin) -> bool {
    matches!(o, Origin::Snapshot { .. })
}

#[test]
fn touching_appending_truncating_or_rewriting_an_input_forces_a_fresh_load() {
    let s = Scratch::new(SAMPLE_DNE);
    assert!(!from_snapshot(&s.load_and_save().0));
    assert!(from_snapshot(&s.load_and_save().0));

    // Touch: only the modification time moves.
    let mtime = std::fs::metadata(&s.file).unwrap().modified().unwrap();
    s.set_mtime(mtime + std::time::Duration::from_secs(5));
    assert!(!from_snapshot(&s.load_and_save().0), "touched");
    assert!(from_snapshot(&s.load_and_save().0));

    // Append a row.
    let mut text = std::fs::read_to_string(&s.file).unwrap();
    let last = text.lines().last().unwrap().to_string();
    text.push_str(&last);
    text.push('\n');
    std::fs::write(&s.file, &text).unwrap();
    let (origin, _) = s.load_and_save();
    assert!(!from_snapshot(&origin), "appended");
    assert!(from_snapshot(&s.load_and_save().0));

    // Truncate to the first half of the rows.
    let half: String = text.lines().take(text.lines().count() / 2).map(|l| format!("{l}\n")).collect();
    std::fs::write(&s.file, &half).unwrap();
    assert!(!from_snapshot(&s.load_and_save().0), "truncated");
    assert!(from_snapshot(&s.load_and_save().0));

    // Same-size rewrite with the modification time put back: a device name changes case.
    let mtime = std::fs::metadata(&s.file).unwrap().modified().unwrap();
    let at = half.find("WS-").or_else(|| half.find("ws-")).expect("a device name");
    let mut bytes = half.into_bytes();
    bytes[at] ^= 0x20;
    std::fs::write(&s.file, &bytes).unwrap();
    s.set_mtime(mtime);
    assert!(!from_snapshot(&s.load_and_save().0), "rewritten");
    assert!(from_snapshot(&s.load_and_save().0));
}

/// Damage the snapshot with `f`, then load: the files are read, with exactly one warning
/// when the damage was detected; the load equals a fresh one either way (`Scratch::load`).
fn damaged(s: &Scratch, f: impl FnOnce(&mut Vec<u8>)) -> (Origin, Vec<String>) {
    let path = s.snapshot_path();
    let mut bytes = std::fs::read(&path).unwrap();
    f(&mut bytes);
    std::fs::write(&path, &bytes).unwrap();
    let got = s.load();
    assert!(got.warnings.len() <= 1, "{:?}", got.warnings);
    if let Some(p) = got.pending {
        assert!(matches!(p.write(&got.dataset, &got.report), WriteOutcome::Written { .. }));
    }
    (got.origin, got.warnings)
}

#[test]
fn a_corrupt_truncated_or_foreign_snapshot_is_ignored_with_a_warning_and_replaced() {
    let s = Scratch::new(SAMPLE_DNE);
    s.load_and_save();
    let len = std::fs::metadata(s.snapshot_path()).unwrap().len() as usize;
    type Damage = Box<dyn FnOnce(&mut Vec<u8>)>;
    let cases: Vec<(&str, Damage)> = vec![
        ("flipped byte in the columns", Box::new(|b| b[100] ^= 0x40)),
        ("flipped byte near the end", Box::new(move |b| b[len - 3] ^= 1)),
        ("truncated", Box::new(move |b| b.truncate(len / 2))),
        ("truncated to the header", Box::new(|b| b.truncate(40))),
        ("empty", Box::new(|b| b.clear())),
        (
            "another format version",
            Box::new(|b| {
                let v = u32::from_ne_bytes(b[8..12].try_into().unwrap());
                b[8..12].copy_from_slice(&(v + 1).to_ne_bytes());
            }),
        ),
        ("another byte order", Box::new(|b| b[12..16].reverse())),
        ("not a snapshot", Box::new(|b| b[..8].copy_from_slice(b"NOTRARIT"))),
    ];
    for (what, damage) in cases {
        let (origin, warnings) = damaged(&s, damage);
        assert!(!from_snapshot(&origin), "{what}");
        assert_eq!(warnings.len(), 1, "{what}");
        assert!(warnings[0].contains("ignored") && warnings[0].contains("loading the files"), "{what}: {warnings:?}");
        if what == "another format version" {
            assert!(warnings[0].contains("format version"), "{warnings:?}");
        }
        if what == "another byte order" {
            assert!(warnings[0].contains("byte order"), "{warnings:?}");
        }
        // Replaced by a good one.
        assert!(from_snapshot(&s.load_and_save().0), "{what}: replaced");
    }
}

#[test]
fn a_flipped_byte_anywhere_is_caught_or_harmless_and_never_panics() {
    let s = Scratch::new("tests/fixtures/csv/defender_portal_dne.csv");
    s.load_and_save();
    let len = std::fs::metadata(s.snapshot_path()).unwrap().len() as usize;
    let mut caught = 0;
    for at in (0..len).step_by(len / 150 + 1).chain([len - 1]) {
        // `damaged` checks the load equals a fresh one whatever happened.
        let (origin, warnings) = damaged(&s, |b| b[at] ^= 0x10);
        // Only the few padding bytes between columns are not checksummed (never read).
        if !from_snapshot(&origin) {
            assert_eq!(warnings.len(), 1, "byte {at}");
            caught += 1;
        }
    }
    assert!(caught > 100, "only {caught} flips were caught");
}

#[test]
fn a_disabled_cache_neither_reads_nor_writes() {
    let s = Scratch::new(SAMPLE_DNE);
    let off = CacheOptions { enabled: false, ..s.cache() };
    let cancel = AtomicBool::new(false);
    let load = |c: &CacheOptions| {
        load_cached(&[Input::Path(s.file.clone())], &[], None, &LoadOptions::default(), c, &|_| {}, &cancel).unwrap()
    };
    let got = load(&off);
    assert!(got.pending.is_none());
    assert_eq!(std::fs::read_dir(s.cache_dir.path()).unwrap().count(), 0);
    // With a snapshot present (and damaged, which a read would report): not read.
    s.load_and_save();
    let path = s.snapshot_path();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[70] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let got = load(&off);
    assert_eq!(got.origin, Origin::Files);
    assert!(got.warnings.is_empty());
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn small_loads_stdin_and_the_sample_are_not_snapshotted() {
    let s = Scratch::new(SAMPLE_DNE);
    let cache = CacheOptions { min_input_bytes: 1 << 30, ..s.cache() };
    let cancel = AtomicBool::new(false);
    let got = load_cached(&[Input::Path(s.file.clone())], &[], None, &LoadOptions::default(), &cache, &|_| {}, &cancel)
        .unwrap();
    assert!(got.pending.is_none());
    let got = load_cached(
        &rarity::sample::all_inputs(),
        &rarity::sample::ti_inputs(),
        None,
        &LoadOptions::default(),
        &s.cache(),
        &|_| {},
        &cancel,
    )
    .unwrap();
    assert!(got.pending.is_none() && got.dataset.net.len() > 1000);
    assert_eq!(std::fs::read_dir(s.cache_dir.path()).unwrap().count(), 0);
}

#[test]
fn the_cache_limit_evicts_the_least_recently_used_snapshot() {
    let s = Scratch::new(SAMPLE_DNE);
    let cache_dir = s.cache_dir.path();
    let load = |file: &Path, limit: Option<u64>| {
        let cache = CacheOptions { limit, ..s.cache() };
        let cancel = AtomicBool::new(false);
        let got = load_cached(
            &[Input::Path(file.to_path_buf())],
            &[],
            None,
            &LoadOptions::default(),
            &cache,
            &|_| {},
            &cancel,
        )
        .unwrap();
        let origin = got.origin.clone();
        let written = got.pending.map(|p| p.write(&got.dataset, &got.report));
        (origin, written)
    };
    let other = s._dir.path().join("vm.csv");
    std::fs::copy(root().join("assets/sample/VMConnection.csv"), &other).unwrap();
    load(&s.file, None);
    let first = s.snapshot_path();
    let first_len = std::fs::metadata(&first).unwrap().len();
    // Room for one of them only: the first goes.
    let (_, written) = load(&other, Some(first_len));
    assert!(matches!(written, Some(WriteOutcome::Written { .. })), "{written:?}");
    let names: Vec<PathBuf> = std::fs::read_dir(cache_dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(names.len(), 1);
    assert_ne!(names[0], first);
    // A snapshot bigger than the whole cap is not written.
    let (_, written) = load(&s.file, Some(1000));
    assert!(matches!(written, Some(WriteOutcome::Skipped(_))), "{written:?}");
    let listed = rarity::snapshot::list(cache_dir);
    assert_eq!(listed.len(), 1);
    assert!(listed[0].summary.as_ref().unwrap().inputs[0].ends_with("vm.csv"));
    assert_eq!(rarity::snapshot::clear(cache_dir).unwrap().0, 1);
    assert!(rarity::snapshot::list(cache_dir).is_empty());
}

#[test]
fn a_stopped_load_is_never_snapshotted() {
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = cache_in(cache_dir.path());
    let inputs = vec![
        Input::Path(root().join("tests/fixtures/csv/defender_portal_dne.csv")),
        Input::Path(root().join("tests/fixtures/json/loganalytics_vm.json")),
        Input::Path(root().join("tests/fixtures/csv/vmconnection.csv")),
    ];
    let cancel = AtomicBool::new(false);
    // Stop when the second input is announced: the first is kept, the load marked stopped (a
    // file this small may still finish; the third is left out either way).
    let on_progress = |p: &ingest::Progress| {
        if p.current.ends_with("loganalytics_vm.json") {
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    };
    let got = load_cached(&inputs, &[], None, &LoadOptions::default(), &cache, &on_progress, &cancel).unwrap();
    assert!(got.report.stopped);
    assert!(!got.dataset.net.is_empty());
    assert!(got.report.files.iter().any(|f| f.skipped.as_deref() == Some(ingest::STOPPED_BEFORE)));
    assert!(got.pending.is_none(), "a partial load must not become the inputs' snapshot");
    // The next full load reads the files, not a snapshot.
    let again = Load { inputs, ti: Vec::new(), geoip: None, opts: LoadOptions::default(), cache: &cache }.cached();
    assert_eq!(again.origin, Origin::Files);
    assert!(!again.report.stopped && !again.dataset.vm.is_empty());
}
