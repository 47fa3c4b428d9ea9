//! `rarity gen`: reproducible output, the committed sample fleet, formats the readers take,
//! and GeoIP coverage of every public address the fleet uses.

use rarity::enrich::geoip::GeoIp;
use rarity::gen::{generate, GenFormat, GenOptions, GenSummary};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn gen(opts: &GenOptions, dir: &Path) -> GenSummary {
    generate(opts, dir, &|_| {}).unwrap()
}

fn small(seed: u64) -> GenOptions {
    GenOptions { devices: 30, days: 20, events: 3_000, seed, ..Default::default() }
}

fn files(dir: &Path) -> HashMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect()
}

#[test]
fn same_seed_same_bytes_other_seed_other_traffic() {
    let (a, b, c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    gen(&small(5), a.path());
    gen(&small(5), b.path());
    gen(&small(6), c.path());
    let (fa, fb, fc) = (files(a.path()), files(b.path()), files(c.path()));
    assert_eq!(fa.len(), 6);
    assert_eq!(fa, fb);
    assert_ne!(fa["DeviceNetworkEvents.csv"], fc["DeviceNetworkEvents.csv"]);
    // The fleet, its feed's planted entries and its GeoIP database do not depend on the seed.
    assert_eq!(fa["GeoLite2-Country-rarity.mmdb"], fc["GeoLite2-Country-rarity.mmdb"]);
    assert_eq!(fa["DeviceInfo.csv"], fc["DeviceInfo.csv"]);
}

#[test]
fn committed_sample_fleet_is_what_the_generator_writes() {
    let dir = tempfile::tempdir().unwrap();
    let s = gen(&rarity::sample::options(), dir.path());
    let assets = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/sample");
    let want = files(&assets);
    let got = files(dir.path());
    assert_eq!(got.len(), want.len(), "files: {:?}", got.keys().collect::<Vec<_>>());
    for (name, bytes) in &got {
        assert!(want.get(name) == Some(bytes), "assets/sample/{name} differs from a fresh generation; regenerate it");
    }
    assert_eq!(s.net_events + s.vm_rows + s.sysmon_rows, rarity::sample::options().events);
    let embedded: Vec<&str> = rarity::sample::TELEMETRY.iter().map(|t| t.0).collect();
    assert_eq!(embedded.len(), 4);
    let total: usize = want.values().map(Vec::len).sum();
    assert!(total < 2_200_000, "sample fleet is {total} bytes");
}

#[test]
fn sample_geoip_and_inputs_are_usable() {
    let db = rarity::sample::geoip().unwrap();
    assert!(db.description().starts_with("GeoLite2-Country"));
    assert_eq!(db.country("175.45.176.71".parse().unwrap()).as_deref(), Some("North Korea"));
    assert_eq!(rarity::sample::inputs().len(), 4);
    assert_eq!(rarity::sample::ti_inputs()[0].display(), "sample/ipsum.txt");
    assert!(!rarity::sample::geoip_bytes().is_empty());
}

#[test]
fn rejects_fleets_too_small_for_the_planted_findings() {
    let dir = tempfile::tempdir().unwrap();
    let too_few_devices = GenOptions { devices: 10, ..small(1) };
    assert!(generate(&too_few_devices, dir.path(), &|_| {}).unwrap_err().to_string().contains("devices"));
    let too_few_events = GenOptions { events: 100, ..small(1) };
    assert!(generate(&too_few_events, dir.path(), &|_| {}).unwrap_err().to_string().contains("events"));
    let too_short = GenOptions { days: 3, ..small(1) };
    assert!(generate(&too_short, dir.path(), &|_| {}).unwrap_err().to_string().contains("days"));
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    (header, r.records().map(|x| x.unwrap()).collect())
}

#[test]
fn csv_files_are_rectangular_and_every_public_address_has_a_country() {
    let dir = tempfile::tempdir().unwrap();
    let s = gen(&small(9), dir.path());
    let db = GeoIp::open(&dir.path().join("GeoLite2-Country-rarity.mmdb")).unwrap();
    let (h, rows) = read_csv(&dir.path().join("DeviceNetworkEvents.csv"));
    assert_eq!(rows.len() as u64, s.net_events);
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (ip, ty, ts) = (col("RemoteIP"), col("RemoteIPType"), col("Timestamp"));
    let mut last = String::new();
    for r in &rows {
        assert_eq!(r.len(), h.len());
        if &r[ty] == "Public" {
            assert!(db.country(r[ip].parse().unwrap()).is_some(), "no country for {}", &r[ip]);
        }
        assert_eq!(r[ts].len(), 28, "{}", &r[ts]);
        last = last.max(r[ts].to_string());
    }
    assert_eq!(last, "2026-11-20T09:30:00.0000000Z", "the last event sits at the reference time");
    let (h, rows) = read_csv(&dir.path().join("VMConnection.csv"));
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (dst, country, dir_) = (col("DestinationIp"), col("RemoteCountry"), col("Direction"));
    assert!(h.contains(&"TimeGenerated [UTC]".to_string()));
    for r in &rows {
        if &r[dir_] == "outbound" && !r[country].is_empty() {
            assert_eq!(db.country(r[dst].parse().unwrap()).as_deref(), Some(&r[country]));
        }
    }
    let (h, rows) = read_csv(&dir.path().join("SysmonEvent.csv"));
    let ed = h.iter().position(|x| x == "EventData").unwrap();
    assert!(rows.iter().any(|r| r[ed].contains("<Data Name=\"DestinationIp\">194.26.29.113</Data>")));
    let (h, rows) = read_csv(&dir.path().join("DeviceInfo.csv"));
    let af = h.iter().position(|x| x == "AdditionalFields").unwrap();
    for r in rows.iter().filter(|r| !r[af].is_empty()) {
        let v: serde_json::Value = serde_json::from_str(&r[af]).unwrap();
        assert!(v["InternetFacingLocalPort"].is_u64());
    }
}

#[test]
fn json_lines_output_is_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let s = gen(&GenOptions { format: GenFormat::Jsonl, ..small(3) }, dir.path());
    for (name, rows) in [
        ("DeviceNetworkEvents.jsonl", s.net_events),
        ("VMConnection.jsonl", s.vm_rows),
        ("SysmonEvent.jsonl", s.sysmon_rows),
        ("DeviceInfo.jsonl", s.devinfo_rows),
    ] {
        let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
        let mut n = 0;
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(v.is_object());
            n += 1;
        }
        assert_eq!(n, rows, "{name}");
    }
    let first = std::fs::read_to_string(dir.path().join("VMConnection.jsonl")).unwrap();
    let v: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert!(v["TimeGenerated"].as_str().unwrap().ends_with('Z'));
    assert!(v["DestinationPort"].is_u64());
}

#[test]
fn feed_is_ipsum_shaped_and_sorted_by_count() {
    let dir = tempfile::tempdir().unwrap();
    let s = gen(&small(2), dir.path());
    let text = std::fs::read_to_string(dir.path().join("ipsum.txt")).unwrap();
    assert!(text.starts_with("# IPsum Threat Intelligence Feed\n"));
    let counts: Vec<u32> =
        text.lines().filter(|l| !l.starts_with('#')).map(|l| l.split('\t').nth(1).unwrap().parse().unwrap()).collect();
    assert_eq!(counts.len() as u64, s.ti_entries);
    assert!(counts.windows(2).all(|w| w[0] >= w[1]));
    assert!(text.contains("\n185.156.73.54\t4\n") && text.contains("\n87.121.84.10\t2\n"));
}

#[test]
fn scales_to_a_few_hundred_thousand_events_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let done = std::cell::Cell::new(0u64);
    let opts = GenOptions { devices: 500, days: 30, events: 200_000, seed: 11, ..Default::default() };
    let s = generate(&opts, dir.path(), &|n| done.set(n)).unwrap();
    assert_eq!(done.get(), 200_000);
    assert_eq!(s.net_events + s.vm_rows + s.sysmon_rows, 200_000);
    assert_eq!(s.devinfo_rows, 500 * 30);
    let text = std::fs::read_to_string(dir.path().join("DeviceNetworkEvents.csv")).unwrap();
    let stamps: Vec<&str> = text.lines().skip(1).map(|l| &l[..28]).collect();
    assert_eq!(stamps.len() as u64, s.net_events);
    let out_of_order = stamps.windows(2).filter(|w| w[0] > w[1]).count();
    assert_eq!(out_of_order, 0);
}

fn load_dir(dir: &Path) -> (rarity::Dataset, rarity::ingest::LoadReport) {
    let cancel = std::sync::atomic::AtomicBool::new(false);
    rarity::ingest::load(
        &[rarity::ingest::Input::Path(dir.to_path_buf())],
        &[],
        None,
        &rarity::ingest::LoadOptions::default(),
        &|_| {},
        &cancel,
    )
    .unwrap()
}

fn assert_loads_everything(dir: &Path, s: &GenSummary) {
    let (ds, report) = load_dir(dir);
    for f in &report.files {
        assert_eq!(f.skipped, None, "{}", f.path);
        assert_eq!(f.rejected, 0, "{}: {:?}", f.path, f.rejects);
    }
    let sysmon_net = s.sysmon_rows - count_eid1(dir);
    assert_eq!(ds.net.len() as u64, s.net_events + sysmon_net);
    assert_eq!(ds.devinfo.len() as u64, s.devinfo_rows);
    assert_eq!(ds.vm.len() as u64, s.vm_rows);
    assert_eq!(ds.ti.len() as u64, s.ti_entries);
    let geo = ds.geoip.as_ref().expect("the directory's .mmdb is picked up");
    assert_eq!(geo.country("175.45.176.71".parse().unwrap()).as_deref(), Some("North Korea"));
    assert_eq!(ds.latest, Some(rarity::gen::DEFAULT_END));
}

/// Sysmon Event ID 1 rows in the generated Sysmon file (not network events).
fn count_eid1(dir: &Path) -> u64 {
    let csv_path = dir.join("SysmonEvent.csv");
    let text = if csv_path.exists() {
        std::fs::read_to_string(csv_path).unwrap()
    } else {
        std::fs::read_to_string(dir.join("SysmonEvent.jsonl")).unwrap()
    };
    text.matches("<Data Name=\\\"FileVersion\\\">").count() as u64
        + text.matches("<Data Name=\"\"FileVersion\"\">").count() as u64
}

#[test]
fn readers_load_every_generated_csv_row_without_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let s = gen(&small(4), dir.path());
    assert_loads_everything(dir.path(), &s);
}

#[test]
fn readers_load_every_generated_json_lines_row_without_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let s = gen(&GenOptions { format: GenFormat::Jsonl, ..small(4) }, dir.path());
    assert_loads_everything(dir.path(), &s);
}

#[test]
fn embedded_sample_loads_without_rejects() {
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let (ds, report) = rarity::ingest::load(
        &rarity::sample::inputs(),
        &rarity::sample::ti_inputs(),
        None,
        &rarity::ingest::LoadOptions::default(),
        &|_| {},
        &cancel,
    )
    .unwrap();
    for f in &report.files {
        assert_eq!((f.skipped.as_deref(), f.rejected), (None, 0), "{}: {:?}", f.path, f.rejects);
    }
    assert_eq!(ds.devinfo.len(), 40 * 30);
    assert_eq!(ds.reference_now(None), rarity::sample::SAMPLE_NOW);
    assert!(ds.ti.lookup("218.92.0.107".parse().unwrap()).unwrap().listed(4));
}

/// One column of a hunt's output on the sample fleet, as `--format csv` writes it.
fn column(out: &rarity::hunt::HuntOutput, name: &str) -> Vec<String> {
    let i = out.columns.iter().position(|c| c.name == name).unwrap();
    out.rows.iter().map(|r| r[i].to_csv()).collect()
}

#[test]
fn every_hunt_finds_the_planted_rows_on_the_sample_fleet() {
    use rarity::hunt::Engine;
    let (ds, _) = rarity::sample::load().unwrap();
    assert!(ds.geoip.is_some(), "the embedded database is picked up by content");
    assert_planted_findings(&Engine::new(std::sync::Arc::new(ds)));
}

#[test]
fn a_larger_fleet_finds_exactly_the_same_planted_rows() {
    let dir = tempfile::tempdir().unwrap();
    let opts = GenOptions { devices: 300, days: 30, events: 60_000, seed: 99, ..Default::default() };
    gen(&opts, dir.path());
    let (ds, _) = load_dir(dir.path());
    assert!(ds.geoip.is_some());
    let ds = std::sync::Arc::new(ds);
    let eager = rarity::hunt::Engine::new(ds.clone());
    assert_planted_findings(&eager);
    // The CLI's engine builds a hunt's index on its first use: same rows, same funnels, and
    // nothing of a hunt that never ran.
    let lazy = rarity::hunt::Engine::lazy(ds);
    assert!(lazy.heap_bytes() < eager.heap_bytes());
    for h in rarity::hunt::HuntId::all() {
        let p = rarity::hunt::HuntParams::defaults(h);
        let before = lazy.heap_bytes();
        assert_eq!(lazy.funnel(&p, None).unwrap(), eager.funnel(&p, None).unwrap(), "{h:?}");
        assert!(lazy.heap_bytes() > before, "{h:?} builds its index on first use");
        assert_eq!(lazy.run(&p, None).unwrap().rows, eager.run(&p, None).unwrap().rows, "{h:?}");
    }
    assert_eq!(lazy.heap_bytes(), eager.heap_bytes());
    assert_planted_findings(&lazy);
    // The TUI's order: the indexes are built on another thread while the first hunts run.
    let shared = std::sync::Arc::new(rarity::hunt::Engine::lazy(eager.dataset().clone()));
    let background = std::sync::Arc::clone(&shared);
    let builder = std::thread::spawn(move || background.build_in_order());
    let hunts: Vec<_> = rarity::hunt::HuntId::all().collect();
    for &h in hunts.iter().rev() {
        let p = rarity::hunt::HuntParams::defaults(h);
        assert_eq!(shared.run(&p, None).unwrap().rows, eager.run(&p, None).unwrap().rows, "{h:?}");
    }
    builder.join().unwrap();
    assert_eq!(shared.heap_bytes(), eager.heap_bytes(), "each index built once");
}

fn assert_planted_findings(eng: &rarity::hunt::Engine) {
    use rarity::hunt::HuntParams;
    let run = |h| eng.run(&HuntParams::defaults(h), None).unwrap();

    let out = run(rarity::hunt::rare_process::ID);
    assert_eq!(column(&out, "InitiatingProcessFileName"), ["ncat.exe", "rclone.exe", "acmeagent.exe", "putty.exe"]);
    assert_eq!(column(&out, "DeviceCount"), ["1", "1", "2", "2"]);
    assert_eq!(column(&out, "RemoteIP_country"), ["Russia", "United States", "Russia", "United States"]);

    let out = run(rarity::hunt::vm_new_country::ID);
    assert_eq!(column(&out, "RemoteCountry"), ["China", "North Korea", "Russia"]);
    assert_eq!(column(&out, "MaliciousIp"), ["", "", "5.188.206.14"]);
    assert_eq!(out.banner, None);

    let out = run(rarity::hunt::supply_chain::ID);
    assert_eq!(column(&out, "DeviceName"), ["srv-app02.contoso.local", "srv-app03.contoso.local"]);
    assert_eq!(column(&out, "RemoteIP"), ["91.215.85.17", "91.215.85.17"]);
    assert_eq!(column(&out, "Prevalence"), ["2", "2"]);

    let out = run(rarity::hunt::server_anomaly::ID);
    assert_eq!(column(&out, "RemoteIP"), ["185.241.208.77", "194.26.29.113", "185.220.101.45", "91.215.85.17"]);
    assert_eq!(column(&out, "set_RemoteUrl")[0], r#"["login.live.com.evil.example"]"#);

    let out = run(rarity::hunt::ti_inbound::ID);
    assert_eq!(
        column(&out, "ThreatIntelligenceIP"),
        ["80.94.95.115", "45.155.205.233", "45.155.205.233", "218.92.0.107", "185.156.73.54"]
    );
    assert_eq!(column(&out, "LocalPort"), ["3389", "443", "443", "22", "22"]);
    assert_eq!(column(&out, "TiCount"), ["7", "6", "6", "9", "4"]);
}

#[test]
fn cli_gen_writes_the_fleet_and_lists_the_findings() {
    let dir = tempfile::tempdir().unwrap();
    let out = assert_cmd::Command::cargo_bin("rarity")
        .unwrap()
        .args(["gen", "--devices", "20", "--days", "14", "--events", "2000", "--seed", "3"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("DeviceNetworkEvents.csv") && text.contains("ti-inbound:"), "{text}");
    assert_eq!(files(dir.path()).len(), 6);
    let bad = assert_cmd::Command::cargo_bin("rarity")
        .unwrap()
        .args(["gen", "--devices", "3"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("devices must be at least 20"));
}
