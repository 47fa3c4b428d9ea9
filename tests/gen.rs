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
