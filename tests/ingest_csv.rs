//! The CSV reader end to end through `ingest::load`: every export shape and quirk in
//! `tests/fixtures/csv/`, malformed twins with their exact rejects, and the real samples in
//! the shared data directory (skipped when it is absent).

use rarity::ingest::columns::NON_NETWORK_ROWS;
use rarity::ingest::sysmon::OTHER_EVENTS;
use rarity::ingest::{load, raw_record, FileReport, Input, LoadOptions};
use rarity::model::tables::NO_PORT;
use rarity::model::time::{format_iso, Zone};
use rarity::model::TableKind;
use rarity::store::Dataset;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Rejects as the report shows them.
fn shown(rejects: &[rarity::ingest::FileReject]) -> Vec<String> {
    rejects.iter().map(ToString::to_string).collect()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/csv").join(name)
}

fn load_with(path: &Path, opts: &LoadOptions) -> (Dataset, FileReport) {
    let cancel = AtomicBool::new(false);
    let (ds, mut report) = load(&[Input::Path(path.to_path_buf())], &[], None, opts, &|_| {}, &cancel).unwrap();
    assert_eq!(report.files.len(), 1);
    (ds, report.files.remove(0))
}

fn load_one(path: &Path) -> (Dataset, FileReport) {
    load_with(path, &LoadOptions::default())
}

fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("RARITY_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: shared data directory {} is absent", dir.display());
        None
    }
}

fn warning(n: u64, what: rarity::ingest::sink::Counter) -> String {
    rarity::ingest::sink::counter_text(what, n)
}

fn ts(ds: &Dataset, row: usize) -> String {
    format_iso(ds.net.ts[row])
}

#[test]
fn defender_portal_csv_with_bom_crlf_quotes_and_union_rows_loads() {
    let (ds, f) = load_one(&fixture("defender_portal_dne.csv"));
    assert_eq!(f.format.as_deref(), Some("Defender portal CSV (DeviceNetworkEvents)"));
    assert_eq!(f.skipped, None);
    assert_eq!(f.rows.net, 5);
    assert_eq!(f.rejected, 0, "{:?}", f.rejects);
    // The ProcessCreated row of the union export is counted, not rejected.
    assert_eq!(f.warnings, vec![warning(1, NON_NETWORK_ROWS)]);
    let n = &ds.net;
    assert_eq!(ts(&ds, 0), "2024-03-01T10:00:00.1234567Z");
    assert_eq!(n.device.get(0), "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567");
    assert_eq!(n.device_name.get(0), "ws-01.corp");
    assert_eq!(n.cmdline.get(0), r#""MsSense.exe" -x"#);
    // The embedded newline keeps its CRLF inside the quoted field.
    assert_eq!(n.cmdline.get(1), "powershell.exe -c \"a\"\r\n-nop");
    assert_eq!(n.remote_ip.get(2), Some("fe80::d024:56ce:c156:9dae".parse().unwrap()));
    assert_eq!(n.local_ip.get(2), Some("fe80::1:2:3:4".parse().unwrap()));
    assert_eq!(n.remote_ip_type.get(2), "Reserved");
    assert_eq!(n.remote_ip.get(3), Some("::ffff:1.2.3.4".parse().unwrap()));
    assert_eq!(n.remote_ip_type.get(3), "FourToSixMapping");
    assert_eq!(n.remote_ip.get(4), Some("2606:4700::1111".parse().unwrap()));
    assert_eq!(n.action.get(4), "InboundConnectionAccepted");
    assert_eq!((n.remote_port[4], n.local_port[4]), (51000, 3389));
}

#[test]
fn defender_malformed_twin_rejects_exact_lines_and_keeps_good_rows() {
    let path = fixture("defender_portal_dne_bad.csv");
    let (ds, f) = load_one(&path);
    let p = path.display();
    // Line 3 holds a record whose quoted command line spans lines 3-4, so the bad rows start at 5.
    assert_eq!(
        shown(&f.rejects),
        vec![
            format!("{p}:5: expected 16 fields, found 15"),
            format!("{p}:6: bad IP `10.0.0.300` in RemoteIP"),
            format!("{p}:7: bad timestamp `2024-13-45T99:00:00Z` in Timestamp"),
            format!("{p}:8: bad port `70000` in RemotePort"),
        ]
    );
    assert_eq!(f.rejected, 4);
    assert_eq!(f.rows.net, 3);
    assert_eq!(ds.net.cmdline.get(1), "cmd /c \"echo\nhi\"");
    assert_eq!(ds.net.remote_ip.get(2), Some("8.8.4.4".parse().unwrap()));
}

#[test]
fn raw_record_rereads_every_original_column_of_a_multiline_row() {
    let (ds, _) = load_one(&fixture("defender_portal_dne.csv"));
    let rec = raw_record(&ds, TableKind::DeviceNetworkEvents, 1).unwrap();
    assert_eq!(rec.len(), 16);
    // The BOM is not part of the first column's name.
    assert_eq!(rec[0], ("Timestamp".to_string(), "2024-03-01T10:00:01.0000000Z".to_string()));
    assert_eq!(rec[13], ("InitiatingProcessCommandLine".to_string(), "powershell.exe -c \"a\"\r\n-nop".to_string()));
    let last = raw_record(&ds, TableKind::DeviceNetworkEvents, 4).unwrap();
    assert_eq!(last[4], ("RemoteIP".to_string(), "2606:4700:0:0:0:0:0:1111".to_string()));
}

#[test]
fn sentinel_csv_reads_suffixed_headers_and_us_locale_times() {
    let (ds, f) = load_one(&fixture("sentinel_dne_us.csv"));
    assert_eq!(f.format.as_deref(), Some("Sentinel CSV (DeviceNetworkEvents)"));
    assert_eq!(f.rows.net, 3);
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    // `2/25/2025` settles month-first, so `3/4/2024` is March 4.
    assert_eq!(ts(&ds, 0), "2024-03-04T13:02:03.0000000Z");
    assert_eq!(ts(&ds, 1), "2025-02-25T09:19:25.3910000Z");
    assert_eq!(ts(&ds, 2), "2024-04-15T11:09:27.0000000Z");
    // `LocalPort_long` maps to LocalPort; an empty DeviceId falls back to the lower-cased name.
    assert_eq!(ds.net.local_port[0], 50000);
    assert_eq!(ds.net.device.get(2), "ws-b");
}

#[test]
fn day_first_settled_late_fixes_earlier_rows() {
    let (ds, f) = load_one(&fixture("sentinel_dne_dayfirst.csv"));
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    // Row 1 (`3/4/2024`) was first read month-first; `16/07/2026` later settles day-first.
    assert_eq!(ts(&ds, 0), "2024-04-03T10:00:00.0000000Z");
    assert_eq!(ts(&ds, 1), "2026-07-16T20:26:12.0300000Z");
    assert_eq!(ts(&ds, 2), "2024-03-13T15:40:13.9880000Z");
}

#[test]
fn dates_that_never_settle_warn_and_read_month_first() {
    let (ds, f) = load_one(&fixture("sentinel_dne_unsettled.csv"));
    assert_eq!(
        f.warnings,
        vec!["DeviceNetworkEvents: 2 timestamps are ambiguous between day-first and month-first and nothing in the file settles it; read as month-first (use --date-order to change)".to_string()]
    );
    assert_eq!(ts(&ds, 0), "2024-03-04T10:00:00.0000000Z");
}

#[test]
fn local_time_column_uses_the_given_zone() {
    let opts = LoadOptions { zone: "+05:30".parse::<Zone>().unwrap(), ..Default::default() };
    let (ds, f) = load_with(&fixture("sentinel_dne_local.csv"), &opts);
    assert_eq!(ts(&ds, 0), "2023-11-17T06:02:04.8190000Z");
    assert_eq!(f.warnings, vec!["DeviceNetworkEvents: time column is local time; read as +05:30 (use --tz to change)"]);
}

#[test]
fn device_info_reads_additional_fields_as_object_or_json_string() {
    let (ds, f) = load_one(&fixture("deviceinfo.csv"));
    assert_eq!(f.format.as_deref(), Some("Defender portal CSV (DeviceInfo)"));
    assert_eq!(f.rows.dev, 3);
    let d = &ds.devinfo;
    assert_eq!(d.if_local_port, vec![3389, 8443, NO_PORT]);
    assert_eq!(d.if_reason.get(0), "ExternalNetworkConnection");
    assert_eq!(d.if_reason.get(1), "PublicScan");
    assert_eq!(d.if_local_ip.get(0), "10.0.0.4");
    assert_eq!(d.is_internet_facing, vec![1, 1, 0]);
    assert_eq!(d.os_platform.get(1), "Linux");
}

#[test]
fn vmconnection_csv_loads_and_its_twin_rejects_exactly() {
    let (ds, f) = load_one(&fixture("vmconnection.csv"));
    assert_eq!(f.format.as_deref(), Some("Sentinel CSV (VMConnection)"));
    assert_eq!(f.rows.vm, 2);
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    let v = &ds.vm;
    assert_eq!(format_iso(v.ts[0]), "2024-05-13T10:00:00.0000000Z");
    assert_eq!(v.process_name.get(0), "java");
    assert_eq!(v.destination_port, vec![1389, 443]);
    assert_eq!(v.bytes_sent, vec![4242, 512]);
    assert_eq!(v.remote_country.get(0), "Netherlands");

    let path = fixture("vmconnection_bad.csv");
    let (ds, f) = load_one(&path);
    let p = path.display();
    assert_eq!(
        shown(&f.rejects),
        vec![
            format!("{p}:3: bad port `http` in DestinationPort"),
            format!("{p}:4: bad IP `1.2.3` in DestinationIp"),
            format!("{p}:5: expected 15 fields, found 4"),
            format!("{p}:6: bad timestamp `yesterday` in TimeGenerated"),
        ]
    );
    assert_eq!((f.rejected, f.rows.vm), (4, 2));
    assert_eq!(ds.vm.direction.get(1), "inbound");
}

#[test]
fn sentinel_event_table_maps_sysmon_xml_event_3_both_ways() {
    let (ds, f) = load_one(&fixture("sentinel_event_sysmon.csv"));
    assert_eq!(f.format.as_deref(), Some("Sentinel CSV (Event table, Sysmon XML)"));
    assert_eq!(f.rows.net, 2);
    assert_eq!(f.warnings, vec![warning(1, OTHER_EVENTS)]);
    let n = &ds.net;
    // UtcTime wins over the `[Local Time]` TimeGenerated and is read as UTC.
    assert_eq!(ts(&ds, 0), "2023-11-17T06:10:08.9010000Z");
    assert_eq!(n.action.get(0), "ConnectionSuccess");
    assert_eq!(n.proc_name.get(0), "MpCmdRun.exe");
    assert_eq!(n.remote_ip.get(0), Some("20.83.130.102".parse().unwrap()));
    assert_eq!(n.remote_url.get(0), "x & y.example.com");
    assert_eq!(n.device.get(0), "ws-sys.corp");
    assert_eq!(n.action.get(1), "InboundConnectionAccepted");
    assert_eq!((n.local_port[1], n.remote_port[1]), (61000, 3389));
    assert_eq!(n.remote_ip.get(1), Some("10.0.0.4".parse().unwrap()));
}

#[test]
fn sysmon_malformed_twin_rejects_exactly() {
    let path = fixture("sentinel_event_sysmon_bad.csv");
    let (_, f) = load_one(&path);
    let p = path.display();
    assert_eq!(
        shown(&f.rejects),
        vec![
            format!("{p}:3: bad EventData XML: unknown XML entity `&bogus;`"),
            format!("{p}:4: bad EventID `abc`"),
            format!("{p}:5: bad port `99999` in RemotePort"),
        ]
    );
    assert_eq!((f.rejected, f.rows.net), (3, 2));
}

#[test]
fn windows_event_table_reads_json_event_data() {
    let (ds, f) = load_one(&fixture("sentinel_windowsevent_sysmon.csv"));
    assert_eq!(f.format.as_deref(), Some("Sentinel CSV (WindowsEvent table, Sysmon JSON)"));
    assert_eq!(f.rows.net, 1);
    assert_eq!(ds.net.remote_port[0], 22);
    assert_eq!(ds.net.proc_name.get(0), "PuTTY.exe");
    assert_eq!(ts(&ds, 0), "2024-02-01T09:59:59.5000000Z");
}

#[test]
fn raw_record_of_a_sysmon_row_expands_event_data() {
    let (ds, _) = load_one(&fixture("sentinel_event_sysmon.csv"));
    let rec = raw_record(&ds, TableKind::DeviceNetworkEvents, 1).unwrap();
    assert_eq!(rec[2].0, "TimeGenerated [Local Time]");
    assert_eq!(rec[8], ("EventID".to_string(), "3".to_string()));
    assert!(rec.contains(&("EventData.Image".to_string(), r"C:\Windows\System32\svchost.exe".to_string())));
    assert!(rec.contains(&("EventData.SourceHostname".to_string(), String::new())));
}

fn temp_csv(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::File::create(&p).unwrap().write_all(bytes).unwrap();
    p
}

fn net_rows(n: usize, delim: char) -> Vec<u8> {
    let mut s = format!("Timestamp{d}DeviceName{d}ActionType{d}RemoteIP{d}RemotePort\n", d = delim);
    for i in 0..n {
        s.push_str(&format!(
            "2024-01-01T00:00:{:02}Z{d}h{}{d}ConnectionSuccess{d}10.0.{}.{}{d}443\n",
            i % 60,
            i % 7,
            i / 250 % 256,
            i % 250 + 1,
            d = delim
        ));
    }
    s.into_bytes()
}

#[test]
fn exactly_the_portal_limit_warns_of_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let (_, f) = load_one(&temp_csv(&dir, "cut.csv", &net_rows(30_000, ',')));
    assert_eq!(f.rows.net, 30_000);
    assert_eq!(f.warnings, vec!["exactly 30000 rows: the portal export limit; this export is probably truncated"]);
    let (_, f) = load_one(&temp_csv(&dir, "whole.csv", &net_rows(29_999, ',')));
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
}

#[test]
fn tab_and_semicolon_delimiters_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    for (name, d) in [("t.tsv", '\t'), ("s.csv", ';')] {
        let (ds, f) = load_one(&temp_csv(&dir, name, &net_rows(3, d)));
        assert_eq!((f.rows.net, f.rejected), (3, 0), "{name}: {:?}", f.rejects);
        assert_eq!(ds.net.remote_ip.get(2), Some("10.0.0.3".parse().unwrap()));
    }
}

#[test]
fn invalid_utf8_is_read_lossily_with_one_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = b"Timestamp,DeviceName,ActionType,RemoteIP,RemotePort\n".to_vec();
    data.extend_from_slice(b"2024-01-01T00:00:00Z,h\xff1,ConnectionSuccess,8.8.8.8,53\n");
    data.extend_from_slice(b"2024-01-01T00:00:01Z,ok,ConnectionSuccess,8.8.8.8,53\n");
    // Two invalid halves that would form `é` if the delimiter between them were dropped.
    data.extend_from_slice(b"2024-01-01T00:00:02Z,a\xc3,\xa9b,8.8.8.8,53\n");
    let (ds, f) = load_one(&temp_csv(&dir, "bad_utf8.csv", &data));
    assert_eq!(f.rows.net, 3);
    assert_eq!(f.warnings, vec![warning(2, rarity::ingest::csv::INVALID_UTF8_ROWS)]);
    assert_eq!(ds.net.device_name.get(0), "h\u{fffd}1");
    assert_eq!(ds.net.action.get(2), "\u{fffd}b");
}

#[test]
fn oversized_record_is_rejected_and_the_file_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = b"Timestamp,DeviceName,ActionType,RemoteIP,RemotePort\n".to_vec();
    data.extend_from_slice(b"2024-01-01T00:00:00Z,\"");
    data.extend(std::iter::repeat_n(b'x', rarity::ingest::csv::MAX_RECORD_BYTES));
    data.extend_from_slice(b"\",ConnectionSuccess,8.8.8.8,53\n");
    data.extend_from_slice(b"2024-01-01T00:00:01Z,ok,ConnectionSuccess,8.8.8.8,53\n");
    let path = temp_csv(&dir, "huge.csv", &data);
    let (_, f) = load_one(&path);
    assert_eq!(shown(&f.rejects), vec![format!("{}:2: record longer than 16 MiB", path.display())]);
    assert_eq!(f.rows.net, 1);
}

#[test]
fn csv_of_no_known_table_is_skipped_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_csv(&dir, "alerts.csv", b"TimeGenerated,AlertName,Severity\n2024-01-01T00:00:00Z,x,High\n");
    let (ds, f) = load_one(&path);
    assert_eq!(
        f.skipped.as_deref(),
        Some("CSV columns match no table rarity reads (need DeviceNetworkEvents, DeviceInfo, VMConnection or Sysmon columns); header starts: TimeGenerated, AlertName, Severity")
    );
    assert_eq!(ds.net.len(), 0);
}

#[test]
fn cancelling_stops_the_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_csv(&dir, "many.csv", &net_rows(1000, ','));
    let cancel = AtomicBool::new(false);
    // The loader announces the file before reading it; cancelling then must stop the reader.
    let on_progress = |p: &rarity::ingest::Progress| {
        if p.current.ends_with("many.csv") {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let (ds, report) = load(&[Input::Path(path)], &[], None, &LoadOptions::default(), &on_progress, &cancel).unwrap();
    assert!(report.stopped);
    assert_eq!(ds.net.len(), 0, "the file being read when the load stopped is dropped whole");
    assert_eq!(report.files[0].skipped.as_deref(), Some(rarity::ingest::STOPPED_WHILE_READING));
}

#[test]
fn stopping_keeps_the_files_already_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let first = temp_csv(&dir, "a.csv", &net_rows(300, ','));
    let second = temp_csv(&dir, "b.csv", &net_rows(500, ','));
    let third = temp_csv(&dir, "c.csv", &net_rows(700, ','));
    let feed = dir.path().join("feed.txt");
    std::fs::write(&feed, "203.0.113.9\n").unwrap();
    // A feed long enough that the stop lands inside it: its entries read so far are undone.
    let big_feed = dir.path().join("big.txt");
    let lines: String = (0..40_000u32).map(|i| format!("10.{}.{}.{}\n", i >> 16, (i >> 8) & 255, i & 255)).collect();
    std::fs::write(&big_feed, lines).unwrap();
    for (stop_at, feeds) in [("b.csv", 1), ("big.txt", 1)] {
        let cancel = AtomicBool::new(false);
        // Stop as soon as `stop_at` is announced: the files before it stay loaded.
        let on_progress = |p: &rarity::ingest::Progress| {
            if p.current.ends_with(stop_at) {
                cancel.store(true, Ordering::Relaxed);
            }
        };
        let inputs = if stop_at == "b.csv" {
            [&feed, &first, &second, &third, &big_feed].map(|p| Input::Path(p.clone()))
        } else {
            [&feed, &first, &big_feed, &second, &third].map(|p| Input::Path(p.clone()))
        };
        let (ds, report) = load(&inputs, &[], None, &LoadOptions::default(), &on_progress, &cancel).unwrap();
        assert!(report.stopped);
        assert_eq!(ds.ti.len(), feeds, "stopped at {stop_at}");
        assert_eq!(ds.net.len(), 300, "stopped at {stop_at}");
        let by_name = |n: &str| report.files.iter().find(|f| f.path.ends_with(n)).unwrap();
        assert_eq!(by_name(stop_at).skipped.as_deref(), Some(rarity::ingest::STOPPED_WHILE_READING));
    }
    let cancel = AtomicBool::new(false);
    let on_progress = |p: &rarity::ingest::Progress| {
        if p.current.ends_with("b.csv") {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let inputs = [Input::Path(first.clone()), Input::Path(second), Input::Path(third)];
    let (ds, report) = load(&inputs, &[], None, &LoadOptions::default(), &on_progress, &cancel).unwrap();
    assert!(report.stopped);
    let (_, alone) = load_one(&first);
    assert_eq!(ds.net.len(), alone.rows.net as usize);
    assert_eq!(ds.net.len(), 300);
    let by_name = |n: &str| report.files.iter().find(|f| f.path.ends_with(n)).unwrap();
    assert_eq!(by_name("a.csv").skipped, None);
    assert_eq!(by_name("b.csv").skipped.as_deref(), Some(rarity::ingest::STOPPED_WHILE_READING));
    assert_eq!(by_name("c.csv").skipped.as_deref(), Some(rarity::ingest::STOPPED_BEFORE));
    assert!(report.loaded_anything());
}

#[test]
fn real_defender_union_export_loads_its_network_rows() {
    let Some(shared) = shared_dir() else { return };
    let path = shared.join("data/real/dafneb-defender-hunting/advanced_hunting_test.csv");
    let (ds, f) = load_one(&path);
    // Counted by hand from the file: 26 data rows (PROVENANCE says 25, but the last line has
    // no trailing newline, so `wc -l` shows 26 lines = header + 25 newline-ended rows + 1),
    // one per ActionType. Rows with any of RemoteIP/RemotePort/LocalIP/LocalPort set:
    // ConnectionSuccess, ConnectionFailed, InboundConnectionAccepted, ListeningConnectionCreated,
    // DnsConnectionInspected, HttpConnectionInspected, SslConnectionInspected,
    // IcmpConnectionInspected = 8 network ActionTypes. BrowserLaunchedToOpenUrl has only a
    // RemoteUrl (the opened URL) and is a DeviceEvents row, not a connection; with it, 18 rows
    // have no address or port.
    assert_eq!(f.format.as_deref(), Some("Defender portal CSV (DeviceNetworkEvents)"));
    assert_eq!((f.rows.net, f.rejected), (8, 0), "{:?}", f.rejects);
    assert_eq!(f.warnings, vec![warning(18, NON_NETWORK_ROWS)]);
    let i = (0..ds.net.len()).find(|&i| ds.net.proc_name.get(i) == "MsSense.exe").unwrap();
    assert_eq!(ds.net.remote_ip.get(i), Some("20.50.201.200".parse().unwrap()));
    assert_eq!(ds.net.cmdline.get(i), "\"MsSense.exe\"");
    let rec = raw_record(&ds, TableKind::DeviceNetworkEvents, i).unwrap();
    assert_eq!(rec.len(), 72);
    assert_eq!(rec[0].0, "Timestamp");
    assert!(rec.contains(&("RemoteUrl".to_string(), "eu-v20.events.data.microsoft.com".to_string())));
    assert!(rec.contains(&("ActionType".to_string(), "ConnectionSuccess".to_string())));
}

#[test]
fn real_sentinel_sysmon_sample_loads_all_four_connections() {
    let Some(shared) = shared_dir() else { return };
    let path = shared.join("data/real/azure-sentinel/Microsoft_Sysmon_NetworkSession_IngestedLogs.sample.csv");
    let (ds, f) = load_one(&path);
    // PROVENANCE: header + 4 records, all EventID 3: WinRM out over IPv6 link-local, its
    // inbound `System` twin, MpCmdRun -> 20.83.130.102:443, inbound RDP from 167.220.238.157.
    assert_eq!(f.format.as_deref(), Some("Sentinel CSV (Event table, Sysmon XML)"));
    assert_eq!((f.rows.net, f.rejected), (4, 0), "{:?}", f.rejects);
    let procs: Vec<&str> = (0..4).map(|i| ds.net.proc_name.get(i)).collect();
    assert!(procs.contains(&"MpCmdRun.exe"), "{procs:?}");
    // Sysmon's inbound event keeps the connecting peer in Source*; docs/hunts.md maps
    // Destination* to Remote* regardless, so the RDP row's RemotePort is 3389.
    let rdp = (0..4).find(|&i| ds.net.remote_port[i] == 3389).unwrap();
    assert_eq!(ds.net.action.get(rdp), "InboundConnectionAccepted");
    assert_eq!(ds.net.local_ip.get(rdp), Some("167.220.238.157".parse().unwrap()));
    assert_eq!(format_iso(ds.net.ts[rdp]), "2023-11-28T06:14:23.0120000Z");
    assert_eq!(ds.net.remote_ip.get(0), Some("fe80::d024:56ce:c156:9dae".parse().unwrap()));
    let rec = raw_record(&ds, TableKind::DeviceNetworkEvents, rdp).unwrap();
    assert_eq!(rec[0].0, "TenantId");
    assert!(rec.contains(&("EventData.DestinationPort".to_string(), "3389".to_string())));
}

#[test]
fn real_nsg_flow_csv_is_skipped_as_no_known_table() {
    let Some(shared) = shared_dir() else { return };
    let (_, f) = load_one(&shared.join("data/real/msticpy/az_net_flows.csv"));
    let reason = f.skipped.unwrap_or_default();
    assert!(reason.starts_with("CSV columns match no table rarity reads"), "{reason}");
    assert!(reason.contains("TenantId, TimeGenerated"), "{reason}");
}

#[test]
fn syslog_table_reads_sysmon_for_linux_xml() {
    let (ds, f) = load_one(&fixture("sentinel_syslog_sysmon_linux.csv"));
    assert_eq!(f.format.as_deref(), Some("Sentinel CSV (Syslog table, Sysmon for Linux XML)"));
    assert_eq!(f.rows.net, 1);
    assert_eq!(f.warnings, vec![warning(1, rarity::ingest::csv::SYSLOG_NOT_SYSMON), warning(1, OTHER_EVENTS)]);
    // The computer comes from the XML's System block, not the Syslog row.
    assert_eq!(ds.net.device.get(0), "web-01");
    assert_eq!(ds.net.proc_name.get(0), "curl");
    assert_eq!(ds.net.remote_port[0], 8080);
    assert_eq!(ts(&ds, 0), "2024-02-01T10:00:00.1230000Z");
}

#[test]
fn flattened_sysmon_csv_maps_event_3() {
    let (ds, f) = load_one(&fixture("flattened_sysmon.csv"));
    assert_eq!(f.format.as_deref(), Some("CSV (flattened Sysmon)"));
    assert_eq!(f.rows.net, 1);
    assert_eq!(f.warnings, vec![warning(1, OTHER_EVENTS)]);
    assert_eq!(ds.net.device.get(0), "workstation5.theshire.local");
    assert_eq!(ds.net.remote_url.get(0), "example.com");
    assert_eq!(ds.net.proc_name.get(0), "rundll32.exe");
}

#[test]
fn event_data_holding_a_whole_event_supplies_missing_id_and_computer() {
    let dir = tempfile::tempdir().unwrap();
    let xml = r#"<Event><System><EventID>3</EventID><Computer>ev-host</Computer></System><EventData><Data Name="UtcTime">2024-02-01 10:00:00.000</Data><Data Name="Initiated">true</Data><Data Name="DestinationIp">198.51.100.7</Data><Data Name="DestinationPort">443</Data></EventData></Event>"#;
    let csv =
        format!("TimeGenerated,Computer,EventID,EventData\n2024-02-01T10:00:01Z,,,\"{}\"\n", xml.replace('"', "\"\""));
    let (ds, f) = load_one(&temp_csv(&dir, "event.csv", csv.as_bytes()));
    assert_eq!((f.rows.net, f.rejected), (1, 0), "{:?} {:?}", f.rejects, f.warnings);
    assert_eq!(ds.net.device.get(0), "ev-host");
    assert_eq!(ds.net.remote_port[0], 443);
}

#[test]
fn bare_cr_line_ends_split_records() {
    // Read with the CSV reader directly: recognizing such (classic Mac) files is the sniffer's
    // business; the reader must still not take the whole file for its header.
    let data = net_rows(3, ',').iter().map(|&b| if b == b'\n' { b'\r' } else { b }).collect::<Vec<u8>>();
    let cancel = AtomicBool::new(false);
    let tracker = rarity::ingest::Tracker::new(&|_| {}, &cancel);
    let mut source = rarity::ingest::SourceInfo {
        display: "mac.csv".into(),
        data: rarity::ingest::SourceData::Memory(data.into()),
        kind: rarity::ingest::sniff::Kind::Csv,
        columns: Vec::new(),
    };
    let opts = LoadOptions::default();
    let mut ctx = rarity::ingest::ReadCtx {
        opts: &opts,
        tracker: &tracker,
        source: &mut source,
        format: String::new(),
        warnings: Vec::new(),
    };
    let sink = rarity::ingest::csv::read(&mut ctx).unwrap();
    assert_eq!((sink.net.len(), sink.rejected), (3, 0), "{:?}", sink.rejects);
    assert_eq!(sink.net.remote_ip.get(2), Some("10.0.0.3".parse().unwrap()));
    assert_eq!(source.columns.len(), 5);
}

#[test]
fn sysmon_event_without_utc_time_takes_local_time_generated_in_the_zone() {
    let dir = tempfile::tempdir().unwrap();
    let xml = r#"<DataItem><EventData><Data Name="Initiated">true</Data><Data Name="DestinationIp">198.51.100.7</Data><Data Name="DestinationPort">443</Data></EventData></DataItem>"#;
    let csv = format!(
        "\"TimeGenerated [Local Time]\",Computer,EventID,EventData\n\"11/17/2023, 11:32:04.819 AM\",h,3,\"{}\"\n",
        xml.replace('"', "\"\"")
    );
    let opts = LoadOptions { zone: "+05:30".parse::<Zone>().unwrap(), ..Default::default() };
    let (ds, f) = load_with(&temp_csv(&dir, "event_local.csv", csv.as_bytes()), &opts);
    assert_eq!((f.rows.net, f.rejected), (1, 0), "{:?}", f.rejects);
    assert_eq!(ts(&ds, 0), "2023-11-17T06:02:04.8190000Z");
}
