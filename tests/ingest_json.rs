//! The JSON readers end to end through `rarity::ingest::load`: every envelope and row shape,
//! their quirks, malformed twins with exact `path:line: reason` rejects, re-reading rows, and
//! the real samples under the shared data directory.

use rarity::ingest::{self, FileReport, Input, LoadOptions, LoadReport};
use rarity::model::tables::NO_PORT;
use rarity::model::time::format_iso;
use rarity::model::TableKind;
use rarity::Dataset;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// Rejects as the report shows them.
fn shown(rejects: &[rarity::ingest::FileReject]) -> Vec<String> {
    rejects.iter().map(ToString::to_string).collect()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/json").join(name)
}

fn load_paths(paths: &[PathBuf]) -> (Dataset, LoadReport) {
    let inputs: Vec<Input> = paths.iter().cloned().map(Input::Path).collect();
    let cancel = AtomicBool::new(false);
    ingest::load(&inputs, &[], None, &LoadOptions::default(), &|_| {}, &cancel).expect("load runs")
}

fn load_one(path: &Path) -> (Dataset, FileReport) {
    let (ds, mut report) = load_paths(&[path.to_path_buf()]);
    assert_eq!(report.files.len(), 1);
    (ds, report.files.remove(0))
}

fn rejects(path: &Path, lines: &[(u64, &str)]) -> Vec<String> {
    lines.iter().map(|(l, r)| format!("{}:{l}: {r}", path.display())).collect()
}

/// The shared data directory: `RARITY_SHARED`, else `../shared` next to the crate.
fn shared() -> Option<PathBuf> {
    let dir = std::env::var_os("RARITY_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("note: shared data not found ({}); skipping real-data test", dir.display());
        None
    }
}

#[test]
fn defender_api_json_reads_numbers_strings_and_five_digit_fractions() {
    let p = fixture("hunting_api_net.json");
    let (ds, fr) = load_one(&p);
    assert_eq!(fr.format.as_deref(), Some("Defender hunting API JSON (DeviceNetworkEvents)"));
    assert!(fr.rejects.is_empty() && fr.warnings.is_empty(), "{fr:?}");
    let n = &ds.net;
    assert_eq!(n.len(), 3);
    assert_eq!(n.remote_port, vec![8443, 22, 51000]);
    assert_eq!(format_iso(n.ts[1]), "2024-03-01T10:05:28.1883500Z");
    assert_eq!(n.remote_ip.get(1).map(|ip| ip.to_string()).as_deref(), Some("::ffff:198.51.100.20"));
    assert_eq!(n.proc_name.get(0), "putty.exe");
    assert_eq!(n.proc_name.get(2), "", "null reads as empty");
    assert_eq!(n.device.get(2), "bb22");
    // Document rows are located by their index in the file.
    assert_eq!(n.prov.locator, vec![0, 1, 2]);
}

#[test]
fn graph_one_line_document_reads_additional_fields_as_object_string_or_null() {
    let p = fixture("graph_devinfo.json");
    let (ds, fr) = load_one(&p);
    assert_eq!(fr.format.as_deref(), Some("Graph runHuntingQuery JSON (DeviceInfo)"));
    let d = &ds.devinfo;
    assert_eq!(d.len(), 3);
    assert_eq!(d.if_local_port, vec![3389, 22, NO_PORT]);
    assert_eq!(d.if_reason.get(0), "ExternalNetworkConnection");
    assert_eq!(d.if_reason.get(1), "PublicScan");
    assert_eq!(d.if_local_ip.get(0), "10.1.2.5");
    assert_eq!(d.is_internet_facing, vec![1, 1, 0]);
    assert_eq!(ds.sources[0].columns[3], "OSPlatform", "the schema is the column list");
}

#[test]
fn log_analytics_api_reads_every_table_with_positional_rows_and_typed_suffixes() {
    let p = fixture("loganalytics_vm.json");
    let (ds, fr) = load_one(&p);
    assert_eq!(fr.format.as_deref(), Some("Log Analytics API JSON (DeviceInfo, VMConnection)"));
    assert!(fr.rejects.is_empty(), "{:?}", fr.rejects);
    let v = &ds.vm;
    assert_eq!(v.len(), 2);
    assert_eq!(v.destination_port, vec![443, 22]);
    assert_eq!(v.bytes_sent, vec![1200, 10]);
    assert_eq!(v.bytes_received, vec![3400, 0]);
    assert_eq!(v.remote_country.get(0), "United States");
    // The second table lists its rows before its columns; `_t` / `_s` suffixes are stripped.
    assert_eq!(ds.devinfo.len(), 1);
    assert_eq!(ds.devinfo.device_name.get(0), "vm-web");
    assert_eq!(format_iso(ds.devinfo.ts[0]), "2024-03-02T07:00:00.0000000Z");
    assert_eq!(ds.devinfo.prov.locator, vec![2]);
}

#[test]
fn streaming_ndjson_routes_by_category_and_counts_other_tables() {
    let p = fixture("streaming.ndjson");
    let (ds, fr) = load_one(&p);
    assert_eq!(fr.format.as_deref(), Some("Defender streaming NDJSON (DeviceNetworkEvents, DeviceInfo)"));
    assert_eq!(
        fr.warnings,
        vec!["1 streaming events of other tables not loaded: AdvancedHunting-DeviceProcessEvents (1)"]
    );
    assert!(fr.rejects.is_empty(), "{:?}", fr.rejects);
    assert_eq!(ds.net.len(), 2);
    assert_eq!(ds.devinfo.len(), 1);
    assert_eq!(ds.net.remote_port, vec![4444, NO_PORT]);
    assert_eq!(ds.net.md5.get(0), "0123456789abcdef0123456789abcdef");
    assert_eq!(ds.net.remote_ip_type.get(0), "Reserved", "null RemoteIPType is derived");
    assert_eq!(ds.net.action.get(1), "ListeningConnectionCreated");
    // JSON Lines rows are located by the byte offset of their line (CRLF counted).
    let text = std::fs::read_to_string(&p).unwrap();
    let offsets: Vec<u64> = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i as u64 + 1)).collect();
    assert_eq!(ds.net.prov.locator, vec![offsets[0], offsets[4]]);
    assert_eq!(ds.devinfo.prov.locator, vec![offsets[3]]);
}

#[test]
fn storage_records_envelope_reads_streaming_events() {
    let p = fixture("records.json");
    let (ds, fr) = load_one(&p);
    assert_eq!(fr.format.as_deref(), Some("Defender streaming JSON records (DeviceNetworkEvents)"));
    assert_eq!(
        fr.warnings,
        vec!["1 streaming events of other tables not loaded: AdvancedHunting-DeviceFileEvents (1)"]
    );
    assert_eq!(ds.net.len(), 1);
    assert_eq!(ds.net.action.get(0), "ConnectionFailed");
}

#[test]
fn vmconnection_json_lines_take_numbers_as_numbers_or_strings() {
    let p = fixture("vmconnection.jsonl");
    let (ds, fr) = load_one(&p);
    assert_eq!(fr.format.as_deref(), Some("JSON Lines (VMConnection)"));
    assert_eq!(ds.vm.destination_port, vec![1389, 8080]);
    assert_eq!(ds.vm.bytes_sent, vec![129, 12]);
    assert_eq!(ds.vm.remote_country.get(0), "", "absent keys read as empty");
    assert_eq!(format_iso(ds.vm.ts[0]), "2024-03-04T00:00:00.8680000Z");
}

#[test]
fn windows_event_rows_read_event_data_as_json_string_or_object() {
    let p = fixture("windowsevent.jsonl");
    let (ds, fr) = load_one(&p);
    assert_eq!(fr.format.as_deref(), Some("JSON Lines (WindowsEvent, Sysmon)"));
    assert_eq!(
        fr.warnings,
        vec![
            "1 Sysmon event other than Event ID 3 (not network events; not loaded)",
            "1 Windows event from logs other than Sysmon (not network events; not loaded)",
        ]
    );
    let n = &ds.net;
    assert_eq!(n.len(), 2);
    assert_eq!(n.proc_name.get(0), "tomcat9.exe");
    assert_eq!(n.action.get(0), "InboundConnectionAccepted");
    assert_eq!(format_iso(n.ts[0]), "2024-03-05T08:54:05.1230000Z");
    assert_eq!(n.device.get(0), "workstation9");
    assert_eq!(n.remote_url.get(0), "", "`-` is no host name");
    assert_eq!(n.proc_name.get(1), "powershell.exe");
    assert_eq!(n.action.get(1), "ConnectionSuccess");
    assert_eq!(n.remote_port[1], 80, "a number inside an EventData object");
    assert_eq!(n.remote_url.get(1), "metadata");
}

#[test]
fn event_table_array_reads_xml_event_data() {
    let p = fixture("event_xml.json");
    let (ds, fr) = load_one(&p);
    assert_eq!(fr.format.as_deref(), Some("JSON array (Event, Sysmon XML)"));
    assert_eq!(fr.warnings, vec!["1 Sysmon event other than Event ID 3 (not network events; not loaded)"]);
    let n = &ds.net;
    assert_eq!(n.len(), 1);
    assert_eq!(n.proc_name.get(0), "plink.exe");
    assert_eq!(n.remote_url.get(0), "tunnel.example & co");
    assert_eq!(n.device.get(0), "pc01.example.corp");
    assert_eq!(format_iso(n.ts[0]), "2024-03-06T10:00:00.2500000Z");
}

#[test]
fn flattened_sysmon_uses_hostname_and_counts_other_logs() {
    let p = fixture("flat_sysmon.jsonl");
    let (ds, fr) = load_one(&p);
    assert_eq!(fr.format.as_deref(), Some("JSON Lines (flattened Sysmon)"));
    assert_eq!(
        fr.warnings,
        vec![
            "1 Sysmon event other than Event ID 3 (not network events; not loaded)",
            "1 Windows event from logs other than Sysmon (not network events; not loaded)",
        ]
    );
    assert_eq!(ds.net.len(), 1);
    assert_eq!(ds.net.device.get(0), "workstation6.theshire.local");
    assert_eq!(ds.net.proc_name.get(0), "svchost.exe");
    assert_eq!(ds.net.remote_port[0], 443);
    assert_eq!(format_iso(ds.net.ts[0]), "2024-03-07T22:27:50.7470000Z");
}

#[test]
fn syslog_sysmon_for_linux_loads_event_3_and_counts_damaged_others() {
    let p = fixture("syslog_sysmon.jsonl");
    let (ds, fr) = load_one(&p);
    assert_eq!(fr.format.as_deref(), Some("JSON Lines (Syslog, Sysmon for Linux)"));
    assert!(fr.rejects.is_empty(), "a damaged non-network event is not a reject: {:?}", fr.rejects);
    assert_eq!(
        fr.warnings,
        vec![
            "1 Syslog message without a Sysmon event (not loaded)",
            "1 Sysmon event other than Event ID 3 (not network events; not loaded)",
        ]
    );
    assert_eq!(ds.net.len(), 1);
    assert_eq!(ds.net.proc_name.get(0), "wdavdaemon");
    assert_eq!(ds.net.device.get(0), "ubuntu5");
    assert_eq!(ds.net.remote_ip_type.get(0), "Public");
}

#[test]
fn api_result_of_a_table_rarity_does_not_read_is_skipped_naming_its_columns() {
    let p = fixture("process_only.json");
    let (ds, fr) = load_one(&p);
    assert_eq!(fr.skipped.as_deref(), Some("JSON holds no table rarity reads (columns: Timestamp, FileName)"));
    assert_eq!(fr.format.as_deref(), Some("Defender hunting API JSON"));
    assert_eq!(ds.total_rows(), 0);
}

#[test]
fn truncated_document_keeps_rows_before_the_cut_and_reports_its_line() {
    let p = fixture("hunting_api_truncated.json");
    let (ds, fr) = load_one(&p);
    assert_eq!(ds.net.len(), 2);
    assert_eq!(fr.rejected, 1);
    assert_eq!(
        shown(&fr.rejects),
        rejects(&p, &[(38, "truncated JSON: the document ends inside row 3, which starts at line 34")])
    );
}

#[test]
fn bad_lines_in_json_lines_are_rejected_alone() {
    let p = fixture("streaming_bad.ndjson");
    let (ds, fr) = load_one(&p);
    assert_eq!(ds.net.len(), 2);
    assert_eq!(ds.net.device.get(1), "y");
    assert_eq!(
        shown(&fr.rejects),
        rejects(
            &p,
            &[
                (2, "bad JSON: trailing comma (column 123)"),
                (3, "bad IP `300.1.2.3` in RemoteIP"),
                (4, "bad timestamp `yesterday` in Timestamp"),
                (5, "row is not a JSON object"),
                (7, "truncated JSON: EOF while parsing a string (column 123)"),
            ]
        )
    );
}

#[test]
fn bad_rows_in_a_pretty_array_are_rejected_at_their_line() {
    let p = fixture("array_bad_rows.json");
    let (ds, fr) = load_one(&p);
    assert_eq!(fr.format.as_deref(), Some("JSON array (DeviceNetworkEvents)"));
    assert_eq!(ds.net.len(), 1);
    assert_eq!(
        shown(&fr.rejects),
        rejects(
            &p,
            &[
                (9, "bad IP `203.0.113.256` in RemoteIP (row 2)"),
                (16, "bad timestamp `2024-13-01T10:00:02Z` in Timestamp (row 3)"),
                (26, "bad JSON: expected value (row 4)"),
            ]
        )
    );
}

#[test]
fn one_line_document_rejects_name_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("api.json");
    let row = |ip: &str| {
        format!(
            r#"{{"Timestamp":"2024-01-01T00:00:00Z","DeviceName":"h","ActionType":"ConnectionSuccess","RemoteIP":"{ip}"}}"#
        )
    };
    let doc = format!(r#"{{"Schema":[],"Results":[{},{},{}]}}"#, row("203.0.113.1"), row("1.2.3"), row("203.0.113.3"));
    std::fs::write(&p, doc).unwrap();
    let (ds, fr) = load_one(&p);
    assert_eq!(ds.net.len(), 2);
    assert_eq!(shown(&fr.rejects), rejects(&p, &[(1, "bad IP `1.2.3` in RemoteIP (row 2)")]));
}

#[test]
fn api_result_of_exactly_the_row_limit_warns_it_was_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("limit.json");
    let mut doc = String::from("{\"Schema\":[],\"Results\":[\n");
    for i in 0..100_000u32 {
        if i > 0 {
            doc.push_str(",\n");
        }
        doc.push_str(&format!(
            r#"{{"Timestamp":"2024-01-01T00:00:00Z","DeviceId":"d{}","DeviceName":"h","OSPlatform":"Linux"}}"#,
            i % 10
        ));
    }
    doc.push_str("]}\n");
    std::fs::write(&p, doc).unwrap();
    let (ds, fr) = load_one(&p);
    assert_eq!(ds.devinfo.len(), 100_000);
    assert_eq!(
        fr.warnings,
        vec!["exactly 100000 rows: the hunting API returns at most that many, so this result was probably cut off"]
    );
}

#[test]
fn bom_and_crlf_json_lines_load_and_event_3_without_event_data_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bom.jsonl");
    let text = "\u{feff}{\"TimeGenerated\":\"2024-03-04T00:00:00Z\",\"Computer\":\"vm\",\"Direction\":\"outbound\",\"ProcessName\":\"curl\",\"SourceIp\":\"10.0.0.1\",\"DestinationIp\":\"203.0.113.5\",\"DestinationPort\":443}\r\n\r\n";
    std::fs::write(&p, text).unwrap();
    let (ds, fr) = load_one(&p);
    assert_eq!(fr.format.as_deref(), Some("JSON Lines (VMConnection)"));
    assert_eq!(ds.vm.len(), 1);
    assert_eq!(ds.vm.computer.get(0), "vm");
    let rec = ingest::raw_record(&ds, TableKind::VMConnection, 0).unwrap();
    assert_eq!(rec[0], ("TimeGenerated".to_string(), "2024-03-04T00:00:00Z".to_string()));

    let p = dir.path().join("empty_event_data.jsonl");
    std::fs::write(&p, "{\"TimeGenerated\":\"2024-03-05T00:00:00Z\",\"Provider\":\"Microsoft-Windows-Sysmon\",\"Computer\":\"w\",\"EventID\":3,\"EventData\":null}\n").unwrap();
    let (_, fr) = load_one(&p);
    assert_eq!(shown(&fr.rejects), rejects(&p, &[(1, "Sysmon Event ID 3 without EventData")]));
}

#[test]
fn event_rows_naming_no_log_load_only_in_the_flattened_event_3_shape() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("nolog.jsonl");
    std::fs::write(
        &p,
        concat!(
            r#"{"EventID":1,"Computer":"w","Image":"C:\\a.exe","CommandLine":"a"}"#,
            "\n",
            r#"{"EventID":3,"Computer":"w","UtcTime":"2024-01-01 00:00:00.000","Image":"C:\\a.exe","Initiated":"true","DestinationIp":"203.0.113.4","DestinationPort":"22"}"#,
            "\n"
        ),
    )
    .unwrap();
    let (ds, fr) = load_one(&p);
    assert_eq!(fr.format.as_deref(), Some("JSON Lines (flattened Sysmon)"));
    assert_eq!(ds.net.len(), 1);
    assert_eq!(ds.net.proc_name.get(0), "a.exe");
    assert_eq!(fr.warnings, vec!["1 event row naming no log and not a Sysmon network event (not loaded)"]);
}

#[test]
fn invalid_utf8_is_read_lossily_with_one_warning() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("latin1.jsonl");
    let mut f = std::fs::File::create(&p).unwrap();
    for (i, name) in [b"caf\xe9.exe".as_slice(), b"ok.exe", b"na\xefve.exe"].iter().enumerate() {
        f.write_all(format!(r#"{{"Timestamp":"2024-01-01T00:00:0{i}Z","DeviceName":"h","ActionType":"ConnectionSuccess","RemoteIP":"203.0.113.{i}","InitiatingProcessFileName":""#).as_bytes()).unwrap();
        f.write_all(name).unwrap();
        f.write_all(b"\"}\n").unwrap();
    }
    drop(f);
    let (ds, fr) = load_one(&p);
    assert_eq!(ds.net.len(), 3);
    assert_eq!(ds.net.proc_name.get(0), "caf\u{fffd}.exe");
    assert_eq!(fr.warnings, vec![rarity::ingest::sink::counter_text(rarity::ingest::route::INVALID_UTF8_ROWS, 2)]);
}

#[test]
fn line_over_64_mib_is_rejected_and_the_rest_loads() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("huge.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
    let row = |i: u32| {
        format!(
            r#"{{"Timestamp":"2024-01-01T00:00:00Z","DeviceName":"h","ActionType":"ConnectionSuccess","RemoteIP":"203.0.113.1","LocalPort":{i}}}"#
        )
    };
    writeln!(f, "{}", row(1)).unwrap();
    f.write_all(b"{\"pad\":\"").unwrap();
    let block = vec![b'x'; 1 << 20];
    for _ in 0..65 {
        f.write_all(&block).unwrap();
    }
    f.write_all(b"\"}\n").unwrap();
    writeln!(f, "{}", row(3)).unwrap();
    drop(f);
    let (ds, fr) = load_one(&p);
    assert_eq!(ds.net.local_port, vec![1, 3]);
    assert_eq!(shown(&fr.rejects), rejects(&p, &[(2, "line longer than 64 MiB skipped")]));
    // The row after the long line keeps its true offset for re-reading.
    let rec = ingest::raw_record(&ds, TableKind::DeviceNetworkEvents, 1).unwrap();
    assert!(rec.contains(&("LocalPort".to_string(), "3".to_string())));
}

#[test]
fn document_over_2_gib_is_skipped_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("huge.json");
    let mut f = std::fs::File::create(&p).unwrap();
    let row = r#"{"Timestamp":"2024-01-01T00:00:00Z","DeviceName":"h","ActionType":"ConnectionSuccess","RemoteIP":"203.0.113.1"},"#;
    f.write_all(b"[").unwrap();
    for _ in 0..1000 {
        f.write_all(row.as_bytes()).unwrap();
    }
    // Sparse: the file claims 2 GiB + 1 byte without using the disk.
    f.set_len((2u64 << 30) + 1).unwrap();
    drop(f);
    let (ds, fr) = load_one(&p);
    assert_eq!(ds.total_rows(), 0);
    assert_eq!(
        fr.skipped.as_deref(),
        Some("JSON document of 2.0 GiB is over the 2 GiB limit for one document; export it as JSON Lines")
    );
}

#[test]
fn many_lines_parsed_in_parallel_keep_file_order_lines_and_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("many.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
    let mut offsets = Vec::new();
    let mut off = 0u64;
    let mut expect_rejects = Vec::new();
    for i in 0..30_000u32 {
        let line = if i % 7_000 == 6_999 {
            expect_rejects.push((u64::from(i) + 1, "bad IP `nope` in RemoteIP"));
            r#"{"Timestamp":"2024-01-01T00:00:00Z","DeviceName":"h","ActionType":"ConnectionSuccess","RemoteIP":"nope"}"#.to_string()
        } else {
            offsets.push(off);
            format!(
                r#"{{"Timestamp":"2024-01-01T00:00:00Z","DeviceName":"h{}","ActionType":"ConnectionSuccess","RemoteIP":"203.0.113.1","LocalPort":{}}}"#,
                i % 3,
                i % 60_000
            )
        };
        writeln!(f, "{line}").unwrap();
        off += line.len() as u64 + 1;
    }
    drop(f);
    let (ds, fr) = load_one(&p);
    assert_eq!(ds.net.len(), 30_000 - 4);
    assert_eq!(ds.net.prov.locator, offsets);
    let ports: Vec<u32> = (0..30_000u32).filter(|i| i % 7_000 != 6_999).collect();
    assert_eq!(ds.net.local_port, ports);
    assert_eq!(fr.rejected, 4);
    assert_eq!(shown(&fr.rejects), rejects(&p, &expect_rejects));
}

#[test]
fn cancelling_stops_json_lines_and_documents_mid_file() {
    let dir = tempfile::tempdir().unwrap();
    let row = r#"{"Timestamp":"2024-01-01T00:00:00Z","DeviceName":"h","ActionType":"ConnectionSuccess","RemoteIP":"203.0.113.1"}"#;
    let lines = dir.path().join("rows.jsonl");
    std::fs::write(&lines, format!("{row}\n").repeat(60_000)).unwrap();
    let doc = dir.path().join("rows.json");
    std::fs::write(&doc, format!("[{}{row}]", format!("{row},").repeat(20_000))).unwrap();
    for p in [lines, doc] {
        let cancel = AtomicBool::new(false);
        // The load reports progress as soon as it starts the file: cancel right then.
        let on_progress = |pr: &ingest::Progress| {
            if !pr.current.is_empty() {
                cancel.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        };
        let (ds, report) =
            ingest::load(&[Input::Path(p.clone())], &[], None, &LoadOptions::default(), &on_progress, &cancel).unwrap();
        // Stopped inside the only file: it is dropped whole, and the report says so.
        assert!(report.stopped, "{}", p.display());
        assert_eq!(ds.net.len(), 0, "{}", p.display());
        assert_eq!(report.files[0].skipped.as_deref(), Some(ingest::STOPPED_WHILE_READING), "{}", p.display());
    }
}

#[test]
fn reread_returns_every_original_key_of_lines_and_documents() {
    let paths = [
        fixture("streaming.ndjson"),
        fixture("windowsevent.jsonl"),
        fixture("hunting_api_net.json"),
        fixture("loganalytics_vm.json"),
        fixture("event_xml.json"),
    ];
    let (ds, _) = load_paths(&paths);
    let keys = |r: &Vec<(String, String)>| r.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    let get = |r: &Vec<(String, String)>, k: &str| r.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.clone());

    // Streaming: the properties first, then the envelope keys.
    let r = ingest::raw_record(&ds, TableKind::DeviceNetworkEvents, 0).unwrap();
    assert_eq!(keys(&r)[0], "Timestamp");
    assert_eq!(get(&r, "RemotePort").as_deref(), Some("4444"));
    assert_eq!(get(&r, "RemoteUrl").as_deref(), Some(""));
    assert_eq!(get(&r, "category").as_deref(), Some("AdvancedHunting-DeviceNetworkEvents"));
    assert_eq!(get(&r, "AdditionalFields").as_deref(), Some(r#"{"x":1}"#));
    // WindowsEvent: the row's keys plus EventData expanded.
    let r = ingest::raw_record(&ds, TableKind::DeviceNetworkEvents, 2).unwrap();
    assert_eq!(&keys(&r)[..6], &["TimeGenerated", "Provider", "Computer", "EventData", "EventID", "Type"]);
    assert_eq!(get(&r, "EventData.Image").as_deref(), Some(r"C:\Program Files\Tomcat\bin\tomcat9.exe"));
    assert_eq!(get(&r, "EventData.DestinationPort").as_deref(), Some("8080"));
    // Hunting API document row by index.
    let r = ingest::raw_record(&ds, TableKind::DeviceNetworkEvents, 6).unwrap();
    assert_eq!(get(&r, "DeviceName").as_deref(), Some("srv-02"));
    assert_eq!(get(&r, "RemotePort").as_deref(), Some("51000"));
    // Log Analytics positional row: named by its table's columns.
    let r = ingest::raw_record(&ds, TableKind::VMConnection, 1).unwrap();
    assert_eq!(r[0], ("TimeGenerated".to_string(), "2024-03-02T08:01:00Z".to_string()));
    assert_eq!(get(&r, "BytesReceived").as_deref(), Some(""));
    let r = ingest::raw_record(&ds, TableKind::DeviceInfo, 1).unwrap();
    assert_eq!(get(&r, "Timestamp_t").as_deref(), Some("2024-03-02T07:00:00Z"));
    // Event table: XML EventData expanded.
    let r = ingest::raw_record(&ds, TableKind::DeviceNetworkEvents, 7).unwrap();
    assert_eq!(get(&r, "EventData.DestinationHostname").as_deref(), Some("tunnel.example & co"));
}

// ---- Real samples (skipped without the shared data) ----

fn real(shared: &Path, rel: &str) -> (Dataset, FileReport) {
    load_one(&shared.join("data/real").join(rel))
}

#[test]
fn real_microsoft_docs_examples_hold_no_network_table() {
    // Read by hand: the three documentation responses carry only Timestamp, FileName,
    // InitiatingProcessFileName (and DeviceId) of DeviceProcessEvents: no table rarity reads.
    let Some(s) = shared() else { return };
    for (file, format, cols) in [
        (
            "graph_runHuntingQuery_response_example1.json",
            "Graph runHuntingQuery JSON",
            "Timestamp, FileName, InitiatingProcessFileName",
        ),
        (
            "graph_runHuntingQuery_response_example3.json",
            "Graph runHuntingQuery JSON",
            "Timestamp, FileName, InitiatingProcessFileName",
        ),
        (
            "mde_advancedqueries_run_response.json",
            "Defender hunting API JSON",
            "Timestamp, FileName, InitiatingProcessFileName, DeviceId",
        ),
    ] {
        let (_, fr) = real(&s, &format!("microsoft-docs-hunting-api-examples/{file}"));
        assert_eq!(fr.format.as_deref(), Some(format), "{file}");
        assert_eq!(fr.skipped, Some(format!("JSON holds no table rarity reads (columns: {cols})")), "{file}");
    }
}

#[test]
fn real_elastic_streaming_sample_loads_three_network_events_and_one_device() {
    // Counted with python: categories are 3 x AdvancedHunting-DeviceNetworkEvents, 1 x DeviceInfo.
    let Some(s) = shared() else { return };
    let (ds, fr) = real(&s, "elastic-integrations-m365-defender/m365_defender_streaming_sample.ndjson");
    assert_eq!(fr.format.as_deref(), Some("Defender streaming NDJSON (DeviceNetworkEvents, DeviceInfo)"));
    assert_eq!((fr.rows.net, fr.rows.dev, fr.rejected), (3, 1, 0));
    assert!(fr.warnings.is_empty(), "{:?}", fr.warnings);
    assert_eq!(ds.devinfo.is_internet_facing, vec![1]);
    assert_eq!(format_iso(ds.net.ts[0]), "2022-11-09T17:43:28.1883500Z");
}

#[test]
fn real_msticpy_log_analytics_response_is_security_alerts_only() {
    // 3 SecurityAlert rows, 34 columns (read by hand): not a table rarity reads.
    let Some(s) = shared() else { return };
    let (_, fr) = real(&s, "msticpy/az_mon_raw_query.json");
    assert_eq!(fr.format.as_deref(), Some("Log Analytics API JSON"));
    let skipped = fr.skipped.unwrap_or_default();
    assert!(
        skipped
            .starts_with("JSON holds no table rarity reads (columns: TenantId, TimeGenerated, DisplayName, AlertName,"),
        "{skipped}"
    );
    assert!(skipped.ends_with("… 22 more)"), "{skipped}");
}

#[test]
fn real_otrf_files_load_the_counts_verified_by_hand() {
    // Each count was checked with python over the file: EventID histogram of every line,
    // provider of each line (SourceName/Channel/Provider), and the EventID inside each
    // Syslog message's XML.
    let Some(s) = shared() else { return };
    let o = "otrf-security-datasets";
    let (ds, fr) = real(
        &s,
        &format!("{o}/log4shell/vminsights_vmconnection_log4shell_cve2021_44228_jndi_reference_2022-05-11181020.json"),
    );
    assert_eq!(fr.format.as_deref(), Some("JSON Lines (VMConnection)"));
    assert_eq!((fr.rows.vm, fr.rejected), (5, 0));
    assert_eq!(ds.vm.destination_port[1], 1389);

    // 487 WindowsEvent rows, 5 with EventID 3.
    let (ds, fr) =
        real(&s, &format!("{o}/log4shell/sysmon_log4shell_cve2021_44228_java_serialized_object_2022-05-13045800.json"));
    assert_eq!(fr.format.as_deref(), Some("JSON Lines (WindowsEvent, Sysmon)"));
    assert_eq!((fr.rows.net, fr.rejected), (5, 0));
    assert_eq!(fr.warnings, vec!["482 Sysmon events other than Event ID 3 (not network events; not loaded)"]);
    assert_eq!(ds.net.proc_name.get(0), "tomcat9.exe");

    // 93 Syslog rows: EID 5:50, 1:31, 3:6, 11:4, 23:2 (some EID 1/5 messages are cut or hold bare `&lt`).
    let (_, fr) =
        real(&s, &format!("{o}/log4shell/syslog_sysmon_log4shell_cve2021_44228_jndi_reference_2022-05-11181020.json"));
    assert_eq!(fr.format.as_deref(), Some("JSON Lines (Syslog, Sysmon for Linux)"));
    assert_eq!((fr.rows.net, fr.rejected), (6, 0));
    assert_eq!(fr.warnings, vec!["87 Sysmon events other than Event ID 3 (not network events; not loaded)"]);

    // Filtered EID 3 only files.
    let (ds, fr) = real(&s, &format!("{o}/sysmon-eid3/covenant_dcom_iertutil_dll_hijack_sysmon3_only.json"));
    assert_eq!(fr.format.as_deref(), Some("JSON Lines (flattened Sysmon)"));
    assert_eq!((fr.rows.net, fr.rejected), (184, 0));
    assert_eq!(ds.device_count(), 3);
    let (_, fr) = real(&s, &format!("{o}/sysmon-eid3/empire_dcom_shellwindows_stager_sysmon3_only.json"));
    assert_eq!((fr.rows.net, fr.rejected), (80, 0));

    // 424 events: 8 Sysmon EID 3, 328 other Sysmon, 88 Security/other logs.
    let (_, fr) = real(&s, &format!("{o}/sysmon-eid3/cmd_bitsadmin_download_psh_script_2020-10-2302365189.json"));
    assert_eq!((fr.rows.net, fr.rejected), (8, 0));
    assert_eq!(
        fr.warnings,
        vec![
            "328 Sysmon events other than Event ID 3 (not network events; not loaded)",
            "88 Windows events from logs other than Sysmon (not network events; not loaded)",
        ]
    );

    // 9 union-export rows: 5 LdapSearch (empty network columns), 4 of other tables.
    let (ds, fr) = real(&s, &format!("{o}/goldensaml/Microsoft365DefenderEvents.json"));
    assert_eq!(fr.skipped, None);
    assert_eq!(ds.total_rows(), 0);
    assert_eq!(fr.warnings.len(), 2, "{:?}", fr.warnings);
    assert!(fr.warnings[0].starts_with("4 rows whose columns match no table rarity reads skipped"));
    assert_eq!(fr.warnings[1], "5 rows without network columns skipped (a union export's non-network events)");

    // Zeek conn.log in JSON: not a table rarity reads.
    let (_, fr) = real(&s, &format!("{o}/zeek/apt29_day1_NASHUA_conn.log"));
    assert!(fr.skipped.unwrap_or_default().starts_with("JSON holds no table rarity reads (columns: @stream, @system"));
}
