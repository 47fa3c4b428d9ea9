//! The mutation fuzzer's parts, shared by `examples/fuzz.rs` (runs for N executions or T
//! seconds) and `tests/fuzz_ingest.rs` (a bounded proptest run): the seed corpus (every
//! fixture under `tests/fixtures`, the sample fleet's files cut to their first lines, a
//! generated GeoIP database), the mutations, and one execution: load the input as a user
//! would, show its report, re-read its rows and look addresses up.
//!
//! Nothing here may panic on its own: a panic is a finding in the engine.

#![allow(dead_code)]

use rarity::enrich::geoip::GeoIp;
use rarity::ingest::{self, Input, LoadOptions, SourceData};
use rarity::model::time::{format_iso, DateOrder, Zone};
use rarity::model::TableKind;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// splitmix64: small, fast and good enough to drive mutations reproducibly.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// What a seed is read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedKind {
    /// Telemetry (CSV, JSON, JSON Lines, EVTX): loaded as an input.
    Telemetry,
    /// A threat-intel feed: loaded as an input or with `--ti`.
    Feed,
    /// A MaxMind DB: loaded as an input and opened directly.
    Mmdb,
}

#[derive(Clone, Debug)]
pub struct Seed {
    pub name: String,
    pub kind: SeedKind,
    pub bytes: Vec<u8>,
}

fn kind_of(path: &Path) -> SeedKind {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("mmdb") => SeedKind::Mmdb,
        Some("txt") | Some("list") | Some("netset") => SeedKind::Feed,
        _ => SeedKind::Telemetry,
    }
}

/// The first `max` bytes of `b`, cut after a line end when there is one.
fn head(b: &[u8], max: usize) -> Vec<u8> {
    if b.len() <= max {
        return b.to_vec();
    }
    let cut = b[..max].iter().rposition(|&c| c == b'\n').map(|i| i + 1).unwrap_or(max);
    b[..cut].to_vec()
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let hidden = p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if p.is_dir() {
            files_under(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

/// A small IPv4-and-IPv6 country database written by the engine's own MMDB writer.
pub fn generated_mmdb() -> Vec<u8> {
    use rarity::gen::mmdb::{country_record, Layout, Writer};
    let mut w = Writer::new("GeoLite2-Country", "fuzz seed", 1_700_000_000);
    let nets = [
        ("81.2.69.0/24", "GB", "United Kingdom"),
        ("8.8.8.0/24", "US", "United States"),
        ("2001:db8::/32", "NL", "Netherlands"),
    ];
    for (i, (net, iso, name)) in nets.into_iter().enumerate() {
        let layout = if i % 2 == 0 { Layout::MaxMind } else { Layout::IpLocationDb };
        if let Ok(n) = net.parse() {
            w.insert(n, &country_record(layout, iso, name));
        }
    }
    w.to_bytes()
}

/// The seed corpus: every file under `tests/fixtures`, the sample fleet (telemetry cut to
/// `max_seed` bytes), a generated MMDB, and every file under `extra` (e.g. real exports).
pub fn seeds(root: &Path, extra: &[PathBuf], max_seed: usize) -> Vec<Seed> {
    let mut paths = Vec::new();
    files_under(&root.join("tests/fixtures"), &mut paths);
    files_under(&root.join("assets/sample"), &mut paths);
    for d in extra {
        if d.is_dir() {
            files_under(d, &mut paths);
        } else {
            paths.push(d.clone());
        }
    }
    let mut out = Vec::new();
    for p in paths {
        let Ok(bytes) = std::fs::read(&p) else { continue };
        let kind = kind_of(&p);
        // Binary seeds are kept whole (a cut EVTX or MMDB is only a truncation mutation).
        let bytes = match kind {
            SeedKind::Telemetry if p.extension().is_none_or(|e| e != "evtx") => head(&bytes, max_seed),
            _ if bytes.len() > 4 * max_seed.max(1 << 20) => continue,
            _ => bytes,
        };
        let name = p.strip_prefix(root).unwrap_or(&p).display().to_string();
        out.push(Seed { name, kind, bytes });
    }
    out.push(Seed { name: "generated.mmdb".into(), kind: SeedKind::Mmdb, bytes: generated_mmdb() });
    out
}

/// Limits on what mutations add, so a run stays fast (the proptest run uses small ones).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest run of bytes a "huge field" mutation inserts.
    pub huge_field: usize,
    /// Largest input a mutation may grow to.
    pub max_len: usize,
}

const MULTI_BYTE: [&str; 12] = [
    "\u{20ac}",
    "\u{1f600}",
    "\u{e9}",
    "e\u{301}",
    "\u{202e}",
    "\u{200b}",
    "\u{feff}",
    "\u{10ffff}",
    "\u{3164}",
    "\u{1f1fa}\u{1f1f8}",
    "\u{1f468}\u{200d}\u{1f469}",
    "\u{fffd}",
];
const INVALID_UTF8: [&[u8]; 7] =
    [b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\x80\x80"];
const SPECIAL_BYTES: &[u8] = b",;\t\"'\n\r{}[]:<>/&\\ \x00";
const SPECIAL_VALUES: [&str; 18] = [
    "",
    "null",
    "-1",
    "0",
    "65536",
    "99999999999999999999999",
    "1e308",
    "NaN",
    "3.0",
    "9999-12-31T23:59:59.9999999Z",
    "0000-01-01",
    "2/30/2024, 25:61:61 PM",
    "13/13/2024",
    "::ffff:1.2.3.4",
    "[::1]:443",
    "1.2.3.4/0",
    "<Event><System><EventID>3</EventID></System>",
    "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]",
];

/// Byte offsets of line starts.
fn line_starts(b: &[u8]) -> Vec<usize> {
    std::iter::once(0).chain(memchr::memchr_iter(b'\n', b).map(|i| i + 1)).filter(|&i| i < b.len()).collect()
}

/// The byte range of a random line (without its line end).
fn some_line(rng: &mut Rng, b: &[u8]) -> Option<(usize, usize)> {
    let starts = line_starts(b);
    if starts.is_empty() {
        return None;
    }
    let s = *rng.pick(&starts);
    let e = memchr::memchr(b'\n', &b[s..]).map(|i| s + i).unwrap_or(b.len());
    Some((s, e))
}

/// Positions right after a delimiter or quote in `b[s..e]` (field starts), plus `s`.
fn field_starts(b: &[u8], s: usize, e: usize) -> Vec<usize> {
    std::iter::once(s)
        .chain((s..e).filter(|&i| matches!(b[i], b',' | b';' | b'\t' | b'"' | b':')).map(|i| i + 1))
        .collect()
}

/// Apply one random mutation to `b`; returns its name.
pub fn mutate_once(rng: &mut Rng, b: &mut Vec<u8>, others: &[Seed], limits: Limits) -> &'static str {
    let len = b.len();
    match rng.below(15) {
        0 => {
            b.truncate(rng.below(len + 1));
            "truncate"
        }
        1 => {
            for _ in 0..=rng.below(8) {
                if !b.is_empty() {
                    let i = rng.below(b.len());
                    b[i] ^= 1 << rng.below(8);
                }
            }
            "bit flips"
        }
        2 => {
            for _ in 0..=rng.below(4) {
                if !b.is_empty() {
                    let i = rng.below(b.len());
                    b[i] = *rng.pick(SPECIAL_BYTES);
                }
            }
            "special bytes"
        }
        3 => {
            if let Some((s, e)) = some_line(rng, b) {
                let e = (e + 1).min(b.len());
                b.drain(s..e);
            }
            "line deletion"
        }
        4 => {
            if let Some((s, e)) = some_line(rng, b) {
                let line: Vec<u8> = b[s..(e + 1).min(b.len())].to_vec();
                let times = 1 + rng.below(3);
                for _ in 0..times {
                    b.splice(s..s, line.iter().copied());
                }
            }
            "line duplication"
        }
        5 => {
            let pairs: [(u8, u8); 6] =
                [(b',', b';'), (b',', b'\t'), (b';', b','), (b'"', b'\''), (b'\n', b'\r'), (b':', b',')];
            let (from, to) = *rng.pick(&pairs);
            let all = rng.chance(2);
            for c in b.iter_mut() {
                if *c == from && (all || rng.chance(4)) {
                    *c = to;
                }
            }
            "delimiter swap"
        }
        6 => {
            for _ in 0..=rng.below(4) {
                let at = rng.below(b.len() + 1);
                b.splice(at..at, rng.pick(&INVALID_UTF8).iter().copied());
            }
            "invalid UTF-8"
        }
        7 => {
            // A multi-byte character at the start (and another inside) of every field of a line.
            // (Built in one pass: a line of a million empty fields must not take a million moves.)
            if let Some((s, e)) = some_line(rng, b) {
                let mut at: Vec<usize> = field_starts(b, s, e).into_iter().take(256).collect();
                for p in at.iter_mut() {
                    if rng.chance(2) {
                        *p = (*p + 1 + rng.below(3)).min(e);
                    }
                }
                at.sort_unstable();
                let mut line = Vec::with_capacity(e - s + at.len() * 8);
                let mut from = s;
                for p in at {
                    line.extend_from_slice(&b[from..p]);
                    line.extend_from_slice(rng.pick(&MULTI_BYTE).as_bytes());
                    from = p;
                }
                line.extend_from_slice(&b[from..e]);
                b.splice(s..e, line);
            }
            "multi-byte characters in every field"
        }
        8 => {
            let at = rng.below(b.len() + 1);
            let n = 1 + rng.below(limits.huge_field.max(1));
            let fill = *rng.pick(b"x\",9\\{<");
            b.splice(at..at, std::iter::repeat_n(fill, n));
            "huge field"
        }
        9 => {
            if let Some((s, e)) = some_line(rng, b) {
                let starts = field_starts(b, s, e);
                let p = *rng.pick(&starts);
                let end = (p..e).find(|&i| matches!(b[i], b',' | b';' | b'\t' | b'"')).unwrap_or(e);
                b.splice(p..end, rng.pick(&SPECIAL_VALUES).bytes());
            }
            "special value"
        }
        10 => {
            // A line from another seed (formats mixed).
            if let Some(o) = others.get(rng.below(others.len().max(1))) {
                if let Some((s, e)) = some_line(rng, &o.bytes) {
                    let line = o.bytes[s..(e + 1).min(o.bytes.len())].to_vec();
                    let at = line_starts(b).get(rng.below(line_starts(b).len().max(1))).copied().unwrap_or(0);
                    b.splice(at..at, line);
                }
            }
            "line from another seed"
        }
        11 => {
            let at = rng.below(b.len() + 1);
            let quotes = b"\"\"\"".to_vec();
            b.splice(at..at, quotes[..1 + rng.below(3)].iter().copied());
            "quote"
        }
        12 => {
            if len > 1 {
                let a = rng.below(len);
                let n = 1 + rng.below((len - a).min(256));
                let chunk: Vec<u8> = b[a..a + n].to_vec();
                let at = rng.below(b.len() + 1);
                b.splice(at..at, chunk);
            }
            "copy a run"
        }
        13 => {
            // A numeric field at its limits.
            let digits: Vec<usize> = (0..len).filter(|&i| b[i].is_ascii_digit()).collect();
            if !digits.is_empty() {
                let i = *rng.pick(&digits);
                let v = rng.pick(&["4294967296", "18446744073709551616", "-0", "0x10", "1.5", "00000000000001"]);
                b.splice(i..i + 1, v.bytes());
            }
            "numeric limit"
        }
        _ => {
            b.splice(0..0, b"\xEF\xBB\xBF".iter().copied());
            "BOM"
        }
    }
}

/// A mutated copy of `seed`: one to four mutations; their names for the report.
pub fn mutate(rng: &mut Rng, seed: &Seed, others: &[Seed], limits: Limits) -> (Vec<u8>, Vec<&'static str>) {
    let mut b = seed.bytes.clone();
    let mut names = Vec::new();
    for _ in 0..1 + rng.below(4) {
        names.push(mutate_once(rng, &mut b, others, limits));
        b.truncate(limits.max_len);
    }
    (b, names)
}

const LOOKUPS: [&str; 6] = ["81.2.69.142", "8.8.8.8", "2001:db8::1", "::ffff:81.2.69.142", "10.0.0.1", "0.0.0.0"];

/// One execution: load `bytes` as a user would (with load options from `variant`), show its
/// report, re-read rows, format times, look addresses up; open an MMDB directly too.
pub fn exercise(seed: &Seed, bytes: &[u8], variant: u64) {
    let data: Arc<[u8]> = bytes.into();
    let opts = LoadOptions {
        zone: if variant & 1 == 1 { "Europe/Berlin".parse().unwrap_or_default() } else { Zone::Utc },
        date_order: if variant & 2 == 2 { DateOrder::DayFirst } else { DateOrder::MonthFirst },
    };
    let input = Input::Memory { name: seed.name.clone(), bytes: data.clone() };
    let (inputs, ti) =
        if seed.kind == SeedKind::Feed && variant & 4 == 4 { (vec![], vec![input]) } else { (vec![input], vec![]) };
    let cancel = AtomicBool::new(false);
    if let Ok((ds, report)) = ingest::load(&inputs, &ti, None, &opts, &|_| {}, &cancel) {
        for f in &report.files {
            for r in &f.rejects {
                std::hint::black_box(r.to_string());
            }
            std::hint::black_box(serde_json::to_string(f).ok());
        }
        for (table, n) in [
            (TableKind::DeviceNetworkEvents, ds.net.len()),
            (TableKind::DeviceInfo, ds.devinfo.len()),
            (TableKind::VMConnection, ds.vm.len()),
        ] {
            let rows: Vec<usize> = (0..n).step_by((n / 8).max(1)).take(8).collect();
            std::hint::black_box(ingest::raw_records(&ds, table, &rows));
        }
        for &t in ds.net.ts.iter().take(64) {
            std::hint::black_box(format_iso(t));
        }
        std::hint::black_box(ds.device_count());
        for ip in LOOKUPS.iter().filter_map(|s| s.parse::<IpAddr>().ok()) {
            std::hint::black_box(ds.ti.lookup(ip));
            if let Some(g) = &ds.geoip {
                std::hint::black_box(g.country(ip));
            }
        }
    }
    if seed.kind == SeedKind::Mmdb {
        if let Ok(g) = GeoIp::from_data(&SourceData::Memory(data), &seed.name) {
            for ip in LOOKUPS.iter().filter_map(|s| s.parse::<IpAddr>().ok()) {
                std::hint::black_box(g.country(ip));
            }
        }
    }
}

/// Where a panic happened and what it said, kept by `capture_panics` for the report.
pub static LAST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Keep panic messages (with their location) instead of printing them: a run may find many.
pub fn capture_panics() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        // The first panic is the finding; a scope re-raising it from a worker says less.
        if let Ok(mut last) = LAST_PANIC.lock() {
            last.get_or_insert(format!("{at}: {msg}"));
        }
    }));
}
