//! `rarity gen`: a reproducible synthetic fleet (Defender, Sentinel, Sysmon exports, an IPsum
//! feed and a GeoIP database) with planted findings for every hunt of `docs/hunts.md`.
//!
//! Background traffic is drawn from a seeded PRNG in time order and streamed to disk; the
//! planted events (and the deterministic baselines some hunts need to stay quiet) are a small
//! sorted list merged into that stream, so memory stays constant for any event count.

pub mod fleet;
mod headers;
pub mod mmdb;
mod plant;
mod reference;
mod render;
mod traffic;
pub mod write;

use crate::model::time::Nanos;
use fleet::{Device, Rng, P};
use headers::{NET_HEADER, SYSMON_HEADER, VM_HEADER};
pub use reference::country_db;
use reference::{write_devinfo, write_feed};
use render::{format_batch, Chunk, Ctx, BATCH};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use traffic::Background;
pub use write::GenFormat;
use write::RowWriter;

pub const SEC: Nanos = 1_000_000_000;
pub const MINUTE: Nanos = 60 * SEC;
pub const HOUR: Nanos = 60 * MINUTE;
pub const DAY: Nanos = 24 * HOUR;

/// The default reference time (the last event): fixed so output is reproducible.
/// 2026-11-20T09:30:00Z.
pub const DEFAULT_END: Nanos = 1_795_167_000 * SEC;

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenOptions {
    /// Devices in the fleet (at least 20: 12 named servers and 8 workstations).
    pub devices: usize,
    /// Days of history (at least 14).
    pub days: u32,
    /// Network events over DeviceNetworkEvents, VMConnection and Sysmon, planted ones included.
    pub events: u64,
    pub seed: u64,
    pub format: GenFormat,
    /// Timestamp of the last event (hunts' default `now`).
    pub end: Nanos,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions { devices: 200, days: 30, events: 1_000_000, seed: 1, format: GenFormat::Csv, end: DEFAULT_END }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{0}")]
    Options(String),
}

/// One written file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenFile {
    pub path: PathBuf,
    /// Data rows (feed entries, database networks).
    pub rows: u64,
}

/// What `generate` wrote.
#[derive(Clone, Debug, Default)]
pub struct GenSummary {
    pub files: Vec<GenFile>,
    pub net_events: u64,
    pub vm_rows: u64,
    pub sysmon_rows: u64,
    pub devinfo_rows: u64,
    pub ti_entries: u64,
    pub planted_events: u64,
    /// The planted findings, one line per hunt finding.
    pub findings: Vec<String>,
}

/// A Defender network event.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NetEv {
    pub dev: u32,
    pub action: &'static str,
    pub remote: Option<IpAddr>,
    pub rport: Option<u16>,
    pub url: &'static str,
    pub lport: u16,
    pub proto: &'static str,
    pub proc_: P,
}

/// A VMConnection row.
#[derive(Clone, Copy, Debug)]
pub(crate) struct VmEv {
    pub dev: u32,
    pub outbound: bool,
    pub process: &'static str,
    pub remote: IpAddr,
    pub port: u16,
    pub proto: &'static str,
    /// ISO code, "" for private peers.
    pub country: &'static str,
    pub malicious: bool,
    pub sent: u64,
    pub received: u64,
}

/// A Sysmon event (Event ID 3, or 1 for a process start).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SysEv {
    pub dev: u32,
    pub eid: u8,
    pub proc_: P,
    pub initiated: bool,
    pub remote: IpAddr,
    pub rport: u16,
    pub lport: u16,
    pub host: &'static str,
    pub proto: &'static str,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Ev {
    Net(NetEv),
    Vm(VmEv),
    Sys(SysEv),
}

pub(crate) const TCP: &str = "Tcp";
pub(crate) const OK: &str = "ConnectionSuccess";
pub(crate) const INBOUND: &str = "InboundConnectionAccepted";
/// Open `dir/name` for streaming output.
fn create(dir: &Path, name: &str) -> Result<(PathBuf, BufWriter<File>), GenError> {
    let path = dir.join(name);
    let f = File::create(&path).map_err(|source| GenError::Io { path: path.display().to_string(), source })?;
    // Row writers hand over 256 KiB blocks, which bypass this buffer; the feed uses it.
    Ok((path, BufWriter::with_capacity(1 << 16, f)))
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> GenError + '_ {
    move |source| GenError::Io { path: path.display().to_string(), source }
}

/// Generate the fleet into `out_dir` (created if missing). `progress` receives the number of
/// network events written so far, now and then.
pub fn generate(opts: &GenOptions, out_dir: &Path, progress: &dyn Fn(u64)) -> Result<GenSummary, GenError> {
    if opts.devices < 20 {
        return Err(GenError::Options(format!("devices must be at least 20 (got {})", opts.devices)));
    }
    if opts.devices > 100_000 {
        return Err(GenError::Options(format!("devices must be at most 100000 (got {})", opts.devices)));
    }
    if !(14..=365).contains(&opts.days) {
        return Err(GenError::Options(format!("days must be between 14 and 365 (got {})", opts.days)));
    }
    std::fs::create_dir_all(out_dir).map_err(io(out_dir))?;
    let devices = fleet::devices(opts.devices);
    let start = opts.end - i64::from(opts.days) * DAY;
    let mut planted = plant::plan(&devices, opts.end, opts.days);
    planted.sort_by_key(|p| p.0);
    let planted_events = planted.len() as u64;
    if opts.events < planted_events + 500 {
        return Err(GenError::Options(format!(
            "events must be at least {} for {} devices over {} days (the planted findings and baselines alone are {planted_events})",
            planted_events + 500,
            opts.devices,
            opts.days
        )));
    }
    let ext = match opts.format {
        GenFormat::Csv => "csv",
        GenFormat::Jsonl => "jsonl",
    };
    let mut summary = GenSummary { planted_events, findings: plant::findings(), ..Default::default() };

    let idx = |f: &dyn Fn(&Device) -> bool| -> Vec<u32> {
        devices.iter().enumerate().filter(|(_, d)| f(d)).map(|(i, _)| i as u32).collect()
    };
    let mut bg = Background {
        rng: Rng::new(opts.seed),
        servers: idx(&|d| d.is_server()),
        workstations: idx(&|d| !d.is_server()),
        sysmon: idx(&|d| d.sysmon),
        vms: idx(&|d| matches!(d.short.as_str(), "srv-lnx01" | "srv-app01" | "srv-app02" | "srv-app03")),
        dcs: devices.iter().filter(|d| d.role == Some(fleet::Role::Dc)).map(|d| d.ip).collect(),
        end: opts.end,
    };
    debug_assert!(!bg.servers.is_empty());

    let (net_path, f) = create(out_dir, &format!("DeviceNetworkEvents.{ext}"))?;
    let mut net_w = RowWriter::new(f, opts.format, NET_HEADER).map_err(io(&net_path))?;
    let (vm_path, f) = create(out_dir, &format!("VMConnection.{ext}"))?;
    let mut vm_w = RowWriter::new(f, opts.format, VM_HEADER).map_err(io(&vm_path))?;
    let (sys_path, f) = create(out_dir, &format!("SysmonEvent.{ext}"))?;
    let mut sys_w = RowWriter::new(f, opts.format, SYSMON_HEADER).map_err(io(&sys_path))?;
    let ctx = Ctx::new(devices, opts.format);

    let background = opts.events - planted_events;
    // Background spans [start, end - 1 min): the last event is a planted one at `end`.
    let span = (opts.end - MINUTE - start) as u128;
    let mut next_planted = 0usize;
    let mut written = 0u64;
    let mut report_id = 1000u64;
    let mut batch: Vec<(Nanos, Ev)> = Vec::with_capacity(BATCH + 64);
    // A writer thread takes rendered batches, so disk writes overlap the next batch's work.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Chunk>>(2);
    let paths = [net_path.clone(), vm_path.clone(), sys_path.clone()];
    let (generated, writers) = std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> Result<_, GenError> {
            for chunks in rx {
                for c in chunks {
                    net_w.append(&c.net, c.net_rows).map_err(io(&paths[0]))?;
                    vm_w.append(&c.vm, c.vm_rows).map_err(io(&paths[1]))?;
                    sys_w.append(&c.sys, c.sys_rows).map_err(io(&paths[2]))?;
                }
            }
            Ok((net_w, vm_w, sys_w))
        });
        let mut flush = |batch: &mut Vec<(Nanos, Ev)>| -> Result<bool, GenError> {
            let chunks = format_batch(&ctx, batch, &mut report_id, opts.format).map_err(io(out_dir))?;
            batch.clear();
            // A closed channel means the writer failed; its error is reported below.
            Ok(tx.send(chunks).is_ok())
        };
        let mut run = || -> Result<(), GenError> {
            for i in 0..background {
                let base = start + (u128::from(i) * span / u128::from(background)) as Nanos;
                let step = (span / u128::from(background)).max(1) as u64;
                let t = base + bg.rng.below(step) as Nanos;
                while next_planted < planted.len() && planted[next_planted].0 <= t {
                    batch.push(planted[next_planted]);
                    next_planted += 1;
                }
                batch.push((t, bg.event(&ctx.devices, t)));
                if batch.len() >= BATCH {
                    written += batch.len() as u64;
                    if !flush(&mut batch)? {
                        return Ok(());
                    }
                    progress(written);
                }
            }
            batch.extend_from_slice(&planted[next_planted..]);
            written += batch.len() as u64;
            flush(&mut batch)?;
            progress(written);
            Ok(())
        };
        let generated = run();
        drop(tx);
        let writers = writer.join().unwrap_or_else(|_| Err(GenError::Options("the output writer stopped".into())));
        (generated, writers)
    });
    let (net_w, vm_w, sys_w) = writers?;
    generated?;
    summary.net_events = net_w.rows;
    summary.vm_rows = vm_w.rows;
    summary.sysmon_rows = sys_w.rows;
    for (path, rows, w) in [(net_path, net_w.rows, net_w), (vm_path, vm_w.rows, vm_w), (sys_path, sys_w.rows, sys_w)] {
        w.finish().map_err(io(&path))?;
        summary.files.push(GenFile { path, rows });
    }

    let (dev_path, f) = create(out_dir, &format!("DeviceInfo.{ext}"))?;
    let rows = write_devinfo(&ctx.devices, f, opts, start).map_err(io(&dev_path))?;
    summary.devinfo_rows = rows;
    summary.files.push(GenFile { path: dev_path, rows });

    let (ti_path, mut f) = create(out_dir, "ipsum.txt")?;
    let entries = plant::feed(opts);
    write_feed(&mut f, &entries, opts.end).map_err(io(&ti_path))?;
    summary.ti_entries = entries.len() as u64;
    summary.files.push(GenFile { path: ti_path, rows: entries.len() as u64 });

    let (db_path, mut f) = create(out_dir, "GeoLite2-Country-rarity.mmdb")?;
    let (bytes, nets) = country_db(opts.end);
    f.write_all(&bytes).and_then(|_| f.flush()).map_err(io(&db_path))?;
    summary.files.push(GenFile { path: db_path, rows: nets });
    Ok(summary)
}
