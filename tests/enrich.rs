//! Feed and GeoIP readers against the real samples in the shared data folder (skipped when it
//! is absent) and against databases rarity writes itself.

use rarity::enrich::geoip::GeoIp;
use rarity::enrich::ti::ThreatIntel;
use rarity::gen::mmdb::{country_record, Layout, Writer};
use rarity::ingest::{Progress, SourceData, Tracker};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

fn shared() -> Option<PathBuf> {
    let dir = std::env::var_os("RARITY_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: shared data folder {} absent", dir.display());
        None
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn read_feed(path: PathBuf) -> (ThreatIntel, rarity::enrich::ti::FeedReport) {
    let cancel = AtomicBool::new(false);
    let cb = |_: &Progress| {};
    let tracker = Tracker::new(&cb, &cancel);
    let mut ti = ThreatIntel::default();
    let display = path.display().to_string();
    let r = ti.read_list(&SourceData::File(path), &display, &tracker).unwrap();
    (ti, r)
}

#[test]
fn ipsum_level_8_has_23_entries_of_count_8() {
    let Some(s) = shared() else { return };
    let (ti, r) = read_feed(s.join("data/real/stamparm-ipsum/levels/8.txt"));
    assert_eq!((r.entries, r.rejected), (23, 0));
    assert_eq!(r.format, "IPsum level file (count 8)");
    let hit = ti.lookup(ip("77.90.185.20")).unwrap();
    assert_eq!(hit.max_count, Some(8));
    assert!(hit.listed(8) && !hit.listed(9));
}

#[test]
fn ipsum_levels_and_full_feed_merge_into_one_entry_per_address() {
    let Some(s) = shared() else { return };
    let cancel = AtomicBool::new(false);
    let cb = |_: &Progress| {};
    let tracker = Tracker::new(&cb, &cancel);
    let mut ti = ThreatIntel::default();
    let dir = s.join("data/real/stamparm-ipsum");
    let mut files = vec![dir.join("ipsum.txt")];
    files.extend((1..=8).map(|n| dir.join(format!("levels/{n}.txt"))));
    let mut lines = 0;
    for f in files {
        let r = ti.read_list(&SourceData::File(f.clone()), &f.display().to_string(), &tracker).unwrap();
        lines += r.entries;
    }
    // 293,028 entry lines over nine files, 120,430 distinct addresses (each level is a subset
    // of level 1, which is every address of ipsum.txt).
    assert_eq!(lines, 293_028);
    assert_eq!(ti.len(), 120_430);
    // The highest count seen wins: ipsum.txt's own count is never below the level file's.
    let top = ti.lookup(ip("77.90.185.20")).unwrap();
    assert_eq!(top.max_count, Some(10));
    let level1 = std::fs::read_to_string(dir.join("levels/1.txt")).unwrap();
    let level4 = level1.lines().filter(|l| ti.lookup(ip(l)).unwrap().listed(4)).count();
    assert_eq!(level4, 5_354);
}

/// A MaxMind DB with `ip_version` 4 (a 32-bit search tree), written byte by byte: one node
/// whose left half (0.0.0.0/1) is the United Kingdom and right half is not in the database.
fn ipv4_only_db() -> Vec<u8> {
    fn s(out: &mut Vec<u8>, v: &str) {
        assert!(v.len() < 29);
        out.push(0x40 | v.len() as u8);
        out.extend_from_slice(v.as_bytes());
    }
    fn u16(out: &mut Vec<u8>, v: u8) {
        out.extend_from_slice(&[0xA1, v]);
    }
    let mut db = Vec::new();
    // Search tree: node_count 1, 32-bit records; data pointers are node_count + 16 + offset.
    db.extend_from_slice(&17u32.to_be_bytes());
    db.extend_from_slice(&1u32.to_be_bytes());
    db.extend_from_slice(&[0u8; 16]);
    // {"country": {"iso_code": "GB", "names": {"en": "United Kingdom"}}}
    db.push(0xE1);
    s(&mut db, "country");
    db.push(0xE2);
    s(&mut db, "iso_code");
    s(&mut db, "GB");
    s(&mut db, "names");
    db.push(0xE1);
    s(&mut db, "en");
    s(&mut db, "United Kingdom");
    db.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    db.push(0xE9);
    s(&mut db, "binary_format_major_version");
    u16(&mut db, 2);
    s(&mut db, "binary_format_minor_version");
    db.push(0xA0);
    s(&mut db, "build_epoch");
    db.extend_from_slice(&[0x00, 0x02]);
    s(&mut db, "database_type");
    s(&mut db, "Test-IPv4-Country");
    s(&mut db, "description");
    db.push(0xE1);
    s(&mut db, "en");
    s(&mut db, "IPv4 only");
    s(&mut db, "ip_version");
    u16(&mut db, 4);
    s(&mut db, "languages");
    db.extend_from_slice(&[0x01, 0x04]);
    s(&mut db, "en");
    s(&mut db, "node_count");
    db.extend_from_slice(&[0xC1, 0x01]);
    s(&mut db, "record_size");
    u16(&mut db, 32);
    db
}

#[test]
fn ipv4_only_database_opens_and_answers_ipv4_lookups() {
    let bytes = ipv4_only_db();
    let db = GeoIp::from_data(&SourceData::Memory(bytes.into()), "v4.mmdb").unwrap();
    assert_eq!(db.description(), "Test-IPv4-Country, IPv4, 1 nodes");
    assert_eq!(db.country(ip("81.2.69.142")).as_deref(), Some("United Kingdom"));
    assert_eq!(db.country(ip("::ffff:81.2.69.142")).as_deref(), Some("United Kingdom"));
    assert_eq!(db.country(ip("200.1.1.1")), None);
    // IPv6 addresses are simply not covered.
    assert_eq!(db.country(ip("2001:db8::1")), None);
}

#[cfg(unix)]
#[test]
fn a_device_is_not_read_as_a_database() {
    let err = GeoIp::open(std::path::Path::new("/dev/zero")).unwrap_err().to_string();
    assert_eq!(err, "/dev/zero: a device, not a GeoIP database file");
}

#[test]
fn ipsum_full_feed_loads_every_entry_with_counts() {
    let Some(s) = shared() else { return };
    let (ti, r) = read_feed(s.join("data/real/stamparm-ipsum/ipsum.txt"));
    assert_eq!((r.entries, r.rejected), (120_430, 0));
    assert_eq!(r.format, "IPsum feed (IP and count)");
    let top = ti.lookup(ip("77.90.185.20")).unwrap();
    assert_eq!(top.max_count, Some(10));
    assert!(top.listed(4) && !top.listed(11));
    // levels/4.txt is the same feed cut at 4: the full feed lists exactly those at min_level 4.
    let (l4, _) = read_feed(s.join("data/real/stamparm-ipsum/levels/4.txt"));
    assert_eq!(l4.len(), 5_354);
    let level1 = std::fs::read_to_string(s.join("data/real/stamparm-ipsum/levels/1.txt")).unwrap();
    let listed = level1.lines().filter(|l| ti.lookup(ip(l)).unwrap().listed(4)).count();
    assert_eq!(listed, 5_354);
    let level4 = std::fs::read_to_string(s.join("data/real/stamparm-ipsum/levels/4.txt")).unwrap();
    assert!(level4.lines().all(|l| ti.lookup(ip(l)).unwrap().listed(4)));
}

fn mmdb(name: &str) -> Option<PathBuf> {
    shared().map(|s| s.join("data/real/maxmind-mmdb-test-data/test-data").join(name))
}

#[test]
fn maxmind_country_test_db_gives_english_names() {
    let Some(p) = mmdb("GeoIP2-Country-Test.mmdb") else { return };
    let db = GeoIp::open(&p).unwrap();
    assert!(db.description().starts_with("GeoIP2-Country"), "{}", db.description());
    assert_eq!(db.country(ip("81.2.69.142")).as_deref(), Some("United Kingdom"));
    assert_eq!(db.country(ip("89.160.20.112")).as_deref(), Some("Sweden"));
    assert_eq!(db.country(ip("175.16.199.0")).as_deref(), Some("China"));
    assert_eq!(db.country(ip("::ffff:81.2.69.142")).as_deref(), Some("United Kingdom"));
    assert_eq!(db.country(ip("10.1.2.3")), None);
}

#[test]
fn maxmind_city_db_also_gives_country() {
    let Some(p) = mmdb("GeoLite2-City-Test.mmdb") else { return };
    let db = GeoIp::open(&p).unwrap();
    assert_eq!(db.country(ip("81.2.69.142")).as_deref(), Some("United Kingdom"));
}

#[test]
fn broken_databases_fail_at_open_with_a_reason() {
    let Some(p) = mmdb("GeoIP2-City-Test-Invalid-Node-Count.mmdb") else { return };
    let err = GeoIp::open(&p).unwrap_err().to_string();
    assert!(err.contains("MaxMind DB"), "{err}");
    // Its data section is damaged (a double of size 7 in `location`): opening probes a few
    // lookups, so the damage is reported at load rather than as silently empty countries.
    let p = mmdb("GeoIP2-City-Test-Broken-Double-Format.mmdb").unwrap();
    let err = GeoIp::open(&p).unwrap_err().to_string();
    assert!(err.contains("damaged MaxMind DB"), "{err}");
}

#[test]
fn asn_database_is_refused_as_having_no_countries() {
    let Some(p) = mmdb("GeoLite2-ASN-Test.mmdb") else { return };
    let err = GeoIp::open(&p).unwrap_err().to_string();
    assert!(err.contains("no country data"), "{err}");
}

#[test]
fn not_a_database_fails_with_a_clear_message() {
    let err = GeoIp::from_data(&SourceData::Static(b"hello"), "x.mmdb").unwrap_err().to_string();
    assert!(err.starts_with("x.mmdb: not a usable MaxMind DB"), "{err}");
}

#[test]
fn written_databases_round_trip_in_both_layouts() {
    for (layout, want) in [(Layout::MaxMind, "North Korea"), (Layout::IpLocationDb, "KP")] {
        let mut w = Writer::new("rarity-Country", "test", 0);
        w.insert("175.45.176.0/22".parse().unwrap(), &country_record(layout, "KP", "North Korea"));
        w.insert("2001:db8::/32".parse().unwrap(), &country_record(layout, "DE", "Germany"));
        let bytes: &'static [u8] = Box::leak(w.to_bytes().into_boxed_slice());
        let db = GeoIp::from_static(bytes, "mem.mmdb").unwrap();
        assert_eq!(db.country(ip("175.45.177.9")).as_deref(), Some(want));
        assert_eq!(db.country(ip("::ffff:175.45.177.9")).as_deref(), Some(want));
        assert!(db.country(ip("2001:db8::1")).is_some());
        assert_eq!(db.country(ip("175.45.180.1")), None);
        let db2 = GeoIp::from_data(&SourceData::Memory(bytes.to_vec().into()), "mem2").unwrap();
        assert_eq!(db2.country(ip("175.45.177.9")).as_deref(), Some(want));
    }
}
