//! Inputs that used to crash, hang or inflate a load (issue 8, points 1-6): each is loaded
//! end to end, through `ingest::load` and through the `rarity` binary.

use assert_cmd::Command;
use rarity::ingest::{self, FileReport, Input, LoadOptions, LoadReport};
use rarity::Dataset;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

const HEADER: &str = "Timestamp,DeviceName,ActionType,RemoteIP,RemotePort,InitiatingProcessFileName\n";

fn row(i: usize) -> String {
    format!("2024-01-01T00:00:{:02}Z,h{i},ConnectionSuccess,203.0.113.{},443,a.exe\n", i % 60, i % 250 + 1)
}

fn load(inputs: &[Input]) -> (Dataset, LoadReport) {
    let cancel = AtomicBool::new(false);
    ingest::load(inputs, &[], None, &LoadOptions::default(), &|_| {}, &cancel).expect("load runs")
}

fn load_paths(paths: &[&Path]) -> (Dataset, LoadReport) {
    load(&paths.iter().map(|p| Input::Path(p.to_path_buf())).collect::<Vec<_>>())
}

fn shown(f: &FileReport) -> Vec<String> {
    f.rejects.iter().map(ToString::to_string).collect()
}

fn write(path: &Path, bytes: &[u8]) -> PathBuf {
    std::fs::File::create(path).and_then(|mut f| f.write_all(bytes)).expect("write fixture");
    path.to_path_buf()
}

fn rarity() -> Command {
    Command::cargo_bin("rarity").expect("binary builds")
}

// ---- 1. A timestamp with a multi-byte character across byte 3 ----

#[test]
fn issue_8_repro_rejects_the_row_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("x.csv"), format!("{HEADER}a\u{20ac},d,ConnectionSuccess,1.2.3.4,4444,a.exe\n").as_bytes());
    // Nothing usable loads (exit 2), but the report names the row and nothing panics.
    let out = rarity().current_dir(dir.path()).args(["inspect", "x.csv"]).assert().code(2).get_output().clone();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    assert!(text.contains("rejected: 1 row\n"), "{text}");
    assert!(text.contains("x.csv:2: bad timestamp `a\u{20ac}` in Timestamp"), "{text}");
}

#[test]
fn multi_byte_timestamps_are_rejects_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = HEADER.to_string();
    for ts in ["a\u{20ac}", "Ma\u{1f600}", "\u{1f600}", "Ju\u{301}n 1, 2024"] {
        csv.push_str(&format!("{ts},d,ConnectionSuccess,1.2.3.4,4444,a.exe\n"));
    }
    csv.push_str(&row(1));
    let csv = write(&dir.path().join("t.csv"), csv.as_bytes());
    let line = |ts: &str| {
        format!(r#"{{"Timestamp":"{ts}","DeviceName":"d","ActionType":"ConnectionSuccess","RemoteIP":"1.2.3.4"}}"#)
    };
    let jsonl =
        write(&dir.path().join("t.jsonl"), format!("{}\n{}\n", line("a\u{20ac}"), line("Ma\u{1f600}")).as_bytes());
    let doc =
        write(&dir.path().join("t.json"), format!("[{},\n{}]", line("Ma\u{1f600}"), line("2024-01-01")).as_bytes());
    let (ds, report) = load_paths(&[&csv, &jsonl, &doc]);
    let rejected: Vec<u64> = report.files.iter().map(|f| f.rejected).collect();
    assert_eq!(rejected, vec![4, 2, 1]);
    assert_eq!(ds.net.len(), 2);
    assert!(shown(&report.files[0])[1].ends_with("t.csv:3: bad timestamp `Ma\u{1f600}` in Timestamp"));
    assert!(shown(&report.files[2])[0].ends_with("t.json:1: bad timestamp `Ma\u{1f600}` in Timestamp (row 1)"));
}

// ---- 2 and 3. Directory walks: FIFOs, links, loops and repeated names ----

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo").arg(path).status().map(|s| s.success()).unwrap_or(false);
    assert!(ok, "mkfifo {}", path.display());
}

#[cfg(unix)]
#[test]
fn a_fifo_in_a_directory_is_skipped_with_the_reason_and_the_rest_loads() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("a.csv"), format!("{HEADER}{}", row(1)).as_bytes());
    mkfifo(&dir.path().join("pipe"));
    let (ds, report) = load_paths(&[dir.path()]);
    assert_eq!(ds.net.len(), 1);
    let pipe = report.files.iter().find(|f| f.path.ends_with("pipe")).expect("the FIFO is listed");
    assert_eq!(pipe.skipped.as_deref(), Some("a named pipe (FIFO); only regular files are read from a directory"));
}

#[cfg(unix)]
#[test]
fn a_fifo_named_as_a_path_with_no_writer_is_skipped_not_waited_on_forever() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("lonely.csv");
    mkfifo(&fifo);
    let (_, report) = load_paths(&[&fifo]);
    let reason = report.files[0].skipped.clone().unwrap_or_default();
    assert!(reason.starts_with("a named pipe (FIFO) with no writer"), "{reason}");
}

#[cfg(unix)]
#[test]
fn a_fifo_with_a_writer_loads_once_like_standard_input() {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("feed.csv");
    mkfifo(&fifo);
    let mut data = HEADER.to_string();
    for i in 0..5_000 {
        data.push_str(&row(i));
    }
    // A reader held open lets the writer open at once (the loader then joins as a reader).
    let _held = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(&fifo)
        .unwrap();
    let writer = {
        let (fifo, data) = (fifo.clone(), data.clone());
        std::thread::spawn(move || std::fs::OpenOptions::new().write(true).open(&fifo)?.write_all(data.as_bytes()))
    };
    let (ds, report) = load_paths(&[&fifo]);
    writer.join().unwrap().unwrap();
    let f = &report.files[0];
    assert_eq!((f.skipped.as_deref(), f.rows.net, f.rejected), (None, 5_000, 0), "{f:?}");
    // Held in memory, so the raw-event view re-reads it without touching the FIFO again.
    let rec = ingest::raw_record(&ds, rarity::model::TableKind::DeviceNetworkEvents, 4_999).unwrap();
    assert_eq!(rec[1], ("DeviceName".to_string(), "h4999".to_string()));
}

#[cfg(unix)]
#[test]
fn links_into_loops_and_to_parents_read_every_file_once() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("exports");
    std::fs::create_dir_all(root.join("a")).unwrap();
    std::fs::create_dir_all(root.join("b")).unwrap();
    write(&root.join("top.csv"), format!("{HEADER}{}", row(1)).as_bytes());
    write(&root.join("a/one.csv"), format!("{HEADER}{}{}", row(2), row(3)).as_bytes());
    symlink(".", root.join("self")).unwrap();
    symlink("..", root.join("a/up")).unwrap();
    symlink("..", root.join("b/up")).unwrap();
    symlink("../top.csv", root.join("b/top-link.csv")).unwrap();
    let (ds, report) = load_paths(&[&root]);
    assert_eq!(ds.net.len(), 3, "{:#?}", report.files);
    let loaded: Vec<&str> = report.files.iter().filter(|f| f.skipped.is_none()).map(|f| f.path.as_str()).collect();
    assert_eq!(loaded.len(), 2, "{loaded:?}");
    let top = report.files.iter().find(|f| f.path.ends_with("exports/b/top-link.csv") || f.path.ends_with("top.csv"));
    let top = top.expect("top.csv is loaded");
    assert_eq!(top.warnings.len(), 1, "{:?}", top.warnings);
    assert!(top.warnings[0].starts_with("also named as "), "{:?}", top.warnings);
    for link in ["self", "a/up", "b/up"] {
        let f = report.files.iter().find(|f| f.path.ends_with(link)).expect("the link is listed");
        assert!(f.skipped.as_deref().unwrap_or("").starts_with("directory already read as "), "{f:?}");
    }
}

#[cfg(unix)]
#[test]
fn a_file_named_twice_directly_by_link_and_in_its_directory_loads_once_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir.path().join("net.csv"), format!("{HEADER}{}{}", row(1), row(2)).as_bytes());
    let link = dir.path().join("alias.csv");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    let (ds, report) = load_paths(&[&file, &link, dir.path(), &file]);
    assert_eq!(ds.net.len(), 2);
    assert_eq!(report.files.len(), 1, "{:#?}", report.files);
    let f = &report.files[0];
    assert_eq!(f.rows.net, 2);
    let named: Vec<&str> = f.warnings.iter().map(String::as_str).collect();
    assert_eq!(named.len(), 4, "{named:?}");
    assert!(named.iter().all(|w| w.starts_with("also named as ") && w.ends_with("; read once")), "{named:?}");
}

// ---- 4. Pipes given as paths ----

#[cfg(unix)]
#[test]
fn process_substitution_loads_once_like_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir.path().join("f.csv"), format!("{HEADER}{}{}{}", row(1), row(2), row(3)).as_bytes());
    let bin = assert_cmd::cargo::cargo_bin("rarity");
    let script = format!("'{}' inspect <(cat '{}')", bin.display(), file.display());
    let out = std::process::Command::new("bash").arg("-c").arg(&script).output().expect("bash runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("loaded:   3 DeviceNetworkEvents"), "{text}");
    assert!(text.contains("Files:  1 loaded, 0 skipped; 0 rows rejected"), "{text}");
}

// ---- 5. Endless or huge streams ----

#[test]
fn endless_text_on_standard_input_is_skipped_after_its_head() {
    use std::process::Stdio;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("rarity"))
        .args(["inspect", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // `yes`: writes until rarity stops reading and exits (the pipe then breaks).
    let feeder = std::thread::spawn(move || {
        let chunk = "y\n".repeat(32 << 10);
        let mut sent = 0usize;
        while stdin.write_all(chunk.as_bytes()).is_ok() {
            sent += chunk.len();
        }
        sent
    });
    let out = child.wait_with_output().unwrap();
    let sent = feeder.join().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("-\n  skipped: not a recognized export"), "{text}");
    // Only the head was read (plus what the pipe buffered), not the stream.
    assert!(sent < 64 << 20, "{sent} bytes were accepted");
}

#[cfg(unix)]
#[test]
fn dev_zero_is_skipped_from_its_head() {
    let (_, report) = load_paths(&[Path::new("/dev/zero")]);
    assert_eq!(report.files[0].skipped.as_deref(), Some("binary file of unknown format"));
}

#[cfg(unix)]
#[test]
fn a_geoip_database_that_is_a_device_or_a_lonely_fifo_is_skipped_not_read_forever() {
    let cancel = AtomicBool::new(false);
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("geo.mmdb");
    mkfifo(&fifo);
    for (db, why) in
        [(Path::new("/dev/zero"), "binary file of unknown format"), (&fifo, "a named pipe (FIFO) with no writer")]
    {
        let (_, report) = ingest::load(&[], &[], Some(db), &LoadOptions::default(), &|_| {}, &cancel).unwrap();
        let reason = report.files[0].skipped.clone().unwrap_or_default();
        assert!(reason.starts_with(why), "{reason}");
    }
}

// ---- 6. Over-long lines and files cut inside a quoted field ----

#[test]
fn one_line_over_64_mib_is_rejected_and_the_rest_of_the_file_loads() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = format!("{HEADER}{}", row(1)).into_bytes();
    data.extend_from_slice(b"2024-01-01T00:00:00Z,");
    data.extend(std::iter::repeat_n(b'x', 65 << 20));
    data.extend_from_slice(b",ConnectionSuccess,1.2.3.4,443,a.exe\n");
    for i in 2..5 {
        data.extend_from_slice(row(i).as_bytes());
    }
    let path = write(&dir.path().join("long.csv"), &data);
    let (ds, report) = load_paths(&[&path]);
    let f = &report.files[0];
    assert_eq!(f.skipped, None);
    assert_eq!((f.rows.net, f.rejected), (4, 1));
    assert_eq!(shown(f), vec![format!("{}:3: line longer than 64 MiB skipped", path.display())]);
    assert_eq!(ds.net.device_name.get(3), "h4");
}

#[test]
fn a_file_ending_inside_a_quoted_field_warns_of_a_truncated_export() {
    let dir = tempfile::tempdir().unwrap();
    let data = format!("{HEADER}{}{}2024-01-01T00:00:09Z,h,ConnectionSuccess,1.2.3.4,443,\"a.e", row(1), row(2));
    let path = write(&dir.path().join("cut.csv"), data.as_bytes());
    let (ds, report) = load_paths(&[&path]);
    let f = &report.files[0];
    assert_eq!(f.rows.net, 3, "the last row still loads");
    assert_eq!(ds.net.proc_name.get(2), "a.e");
    assert_eq!(f.warnings, vec![format!("{}:4: ends inside a quoted field: truncated export?", path.display())]);
}
