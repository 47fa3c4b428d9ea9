//! The EVTX reader end to end through `rarity::ingest::load`: Sysmon Event ID 3 records of the
//! real attack samples, a damaged record, a file that is not an event log, and re-reading.

use rarity::ingest::{self, FileReport, Input, LoadOptions};
use rarity::model::time::format_iso;
use rarity::model::TableKind;
use rarity::Dataset;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

fn load_one(path: &Path) -> (Dataset, FileReport) {
    let cancel = AtomicBool::new(false);
    let (ds, mut report) =
        ingest::load(&[Input::Path(path.to_path_buf())], &[], None, &LoadOptions::default(), &|_| {}, &cancel)
            .expect("load runs");
    (ds, report.files.remove(0))
}

/// The attack samples folder: under `RARITY_SHARED`, else `../shared` next to the crate.
fn samples() -> Option<PathBuf> {
    let dir = std::env::var_os("RARITY_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"))
        .join("data/real/sbousseaden-evtx-attack-samples");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("note: shared data not found ({}); skipping real-data test", dir.display());
        None
    }
}

const OTHER: &str = "other than Event ID 3 (not network events; not loaded)";

/// The warning for `n` Sysmon events that are not Event ID 3.
fn others(n: u64) -> String {
    format!("{} {OTHER}", rarity::model::counted(n, "Sysmon event"))
}

#[test]
fn real_evtx_samples_load_their_event_3_records() {
    // Counts from PROVENANCE.md, confirmed by dumping each file's records with the evtx crate:
    // mshta 1:4 3:3 11:1; Mimikatz 3:1 10:1; RDP tunnel 3:42 1:13 5:12 6:6.
    let Some(dir) = samples() else { return };
    for (file, net, other) in [
        ("exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx", 3, 5),
        ("sysmon_3_10_Invoke-Mimikatz_hosted_Github.evtx", 1, 1),
        ("DE_sysmon-3-rdp-tun.evtx", 42, 31),
    ] {
        let (_, fr) = load_one(&dir.join(file));
        assert_eq!(fr.format.as_deref(), Some("Windows event log (EVTX, Sysmon)"), "{file}");
        assert_eq!((fr.rows.net, fr.rejected), (net, 0), "{file}");
        assert_eq!(fr.warnings, vec![others(other)], "{file}");
    }
}

#[test]
fn real_evtx_event_3_maps_fields_as_hunts_md_says() {
    let Some(dir) = samples() else { return };
    let (ds, _) = load_one(&dir.join("exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx"));
    let n = &ds.net;
    assert_eq!(n.proc_name.get(0), "mshta.exe");
    assert_eq!(n.proc_folder.get(0), r"C:\Windows\System32\mshta.exe");
    assert_eq!(n.device.get(0), "iewin7");
    assert_eq!(n.remote_ip.get(0).map(|i| i.to_string()).as_deref(), Some("108.179.232.58"));
    assert_eq!(n.remote_port[0], 443);
    assert_eq!(n.local_port[0], 49703);
    assert_eq!(n.remote_url.get(0), "gator4243.hostgator.com");
    assert_eq!(n.action.get(0), "ConnectionSuccess", "Initiated is a boolean `true` in the record");
    // UtcTime, not the record's write time (the VM clock drifted by hours).
    assert_eq!(format_iso(n.ts[0]), "2019-05-21T06:58:39.8880000Z");

    let rec = ingest::raw_record(&ds, TableKind::DeviceNetworkEvents, 0).unwrap();
    let get = |k: &str| rec.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.as_str());
    assert_eq!(get("EventID"), Some("3"));
    assert_eq!(get("Computer"), Some("IEWIN7"));
    assert_eq!(get("Provider.Name"), Some("Microsoft-Windows-Sysmon"));
    assert_eq!(get("EventData.DestinationPortName"), Some("https"));
    assert_eq!(get("EventData.Initiated"), Some("true"));
}

#[test]
fn damaged_record_is_rejected_with_its_record_number_and_the_rest_loads() {
    let Some(dir) = samples() else { return };
    let mut bytes = std::fs::read(dir.join("exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx")).unwrap();
    // Overwrite part of the body of record 2 (an EID 1 record): records start with `**\0\0`.
    let starts: Vec<usize> =
        bytes.windows(4).enumerate().filter(|(_, w)| w == b"\x2a\x2a\x00\x00").map(|(i, _)| i).collect();
    let second = starts[1];
    assert_eq!(u64::from_le_bytes(bytes[second + 8..second + 16].try_into().unwrap()), 2);
    bytes[second + 34..second + 84].fill(0xff);
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("damaged.evtx");
    std::fs::write(&p, &bytes).unwrap();
    let (ds, fr) = load_one(&p);
    assert_eq!(ds.net.len(), 3);
    assert_eq!(fr.rejected, 1);
    let expected = format!("{}:2: corrupted EVTX record: Failed to parse record number 2", p.display());
    assert!(fr.rejects[0].to_string().starts_with(&expected), "{:?}", fr.rejects);
    assert_eq!(fr.warnings, vec![others(4)]);
}

#[test]
fn file_with_the_evtx_magic_but_no_event_log_is_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("fake.evtx");
    std::fs::write(&p, b"ElfFile\0this is not an event log").unwrap();
    let (ds, fr) = load_one(&p);
    assert_eq!(ds.total_rows(), 0);
    let skipped = fr.skipped.unwrap_or_default();
    assert!(skipped.starts_with("not a valid EVTX file: "), "{skipped}");
}
