//! Delimited-text exports: Defender portal CSV, Sentinel / Log Analytics CSV, and the
//! Sentinel `Event` / `WindowsEvent` / `Syslog` tables carrying Sysmon in `EventData`.
//!
//! One thread cuts the stream into blocks of whole records (`split`), workers parse and
//! convert blocks into forked sinks (`rows`), and the caller's thread merges them in order.

mod record;
mod rows;
mod split;

pub use super::route::{INVALID_UTF8_ROWS, SYSLOG_NOT_SYSMON};
pub use rows::MAX_RECORD_BYTES;

use super::columns::{ColumnMap, Target};
use super::route::{self, seen};
use super::sink::clip;
use super::{FileSink, LoadError, ReadCtx, SourceData, SourceInfo};
use crate::model::TableKind;
use rows::{Chunk, Conv};
use split::{Block, SplitError, Splitter, BLOCK_BYTES};
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Row counts at which an export was cut off by the service, and which limit that is.
const EXPORT_LIMITS: [(u64, &str); 2] = [(30_000, "the portal export limit"), (100_000, "the API limit")];

/// The delimiter of the header line: the most frequent of comma, tab and semicolon outside quotes.
fn detect_delimiter(head: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in head {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            b',' if !quoted => counts[0] += 1,
            b'\t' if !quoted => counts[1] += 1,
            b';' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], std::cmp::Reverse(i))).unwrap_or(0);
    [b',', b'\t', b';'][best]
}

/// The first 64 KiB (for BOM and delimiter) and the stream that continues after them.
fn open_with_head(data: &SourceData) -> std::io::Result<(Vec<u8>, Box<dyn Read + Send>)> {
    let mut src = data.open()?;
    let mut head = Vec::with_capacity(64 << 10);
    (&mut src).take(64 << 10).read_to_end(&mut head)?;
    Ok((head, src))
}

fn parse_fields(bytes: &[u8], delim: u8) -> Vec<String> {
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delim).from_reader(bytes);
    let mut rec = csv::ByteRecord::new();
    match rdr.read_byte_record(&mut rec) {
        Ok(true) => rec.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect(),
        _ => Vec::new(),
    }
}

/// Sentinel / Log Analytics exports mark datetime headers with a zone suffix and add
/// housekeeping columns the Defender portal never writes.
fn is_sentinel(header: &[String], map: &ColumnMap) -> bool {
    header.iter().any(|h| {
        let h = h.trim();
        h.ends_with("[UTC]") || h.to_ascii_lowercase().ends_with("[local time]")
    }) || map.names.iter().any(|n| ["TenantId", "_ResourceId", "Type"].iter().any(|k| n.eq_ignore_ascii_case(k)))
}

/// The format name for the report; `seen` is what the router found the rows to be.
fn format_name(map: &ColumnMap, sentinel: bool, seen: u16) -> String {
    let (xml, json) = (seen & seen::EVENT_XML != 0, seen & seen::WINDOWS_EVENT != 0);
    let origin = if sentinel { "Sentinel CSV" } else { "Defender portal CSV" };
    match map.target {
        Target::Net | Target::DeviceInfo => format!("{origin} ({})", map.target_name()),
        Target::VmConnection => format!("{} (VMConnection)", if sentinel { "Sentinel CSV" } else { "CSV" }),
        Target::SysmonEventData if json && !xml => "Sentinel CSV (WindowsEvent table, Sysmon JSON)".into(),
        Target::SysmonEventData => "Sentinel CSV (Event table, Sysmon XML)".into(),
        Target::SysmonSyslog => "Sentinel CSV (Syslog table, Sysmon for Linux XML)".into(),
        Target::SysmonFlat => "CSV (flattened Sysmon)".into(),
        Target::Unknown => "CSV".into(),
    }
}

fn split_error(path: &str, e: SplitError) -> LoadError {
    match e {
        SplitError::Io(source) => LoadError::Io { path: path.to_string(), source },
        SplitError::TooLong(reason) => LoadError::Unreadable { path: path.to_string(), reason },
    }
}

/// Read one CSV source into a sink.
pub fn read(ctx: &mut ReadCtx) -> Result<FileSink, LoadError> {
    let path = ctx.source.display.clone();
    let (mut head, rest) =
        open_with_head(&ctx.source.data).map_err(|e| LoadError::Io { path: path.clone(), source: e })?;
    let bom = if head.starts_with(BOM) { BOM.len() } else { 0 };
    head.drain(..bom);
    let delim = detect_delimiter(&head);
    let mut splitter = Splitter::new(std::io::Cursor::new(head).chain(rest), delim, bom as u64, BLOCK_BYTES);
    let Some(header_block) = splitter.header().map_err(|e| split_error(&path, e))? else {
        return Err(LoadError::Unreadable { path, reason: "empty CSV file".into() });
    };
    let header = parse_fields(&header_block.bytes, delim);
    let map = ColumnMap::new(&header);
    if map.target == Target::Unknown {
        let mut starts = header
            .iter()
            .take(6)
            .map(|h| if h.trim().is_empty() { "(unnamed)".to_string() } else { h.trim().to_string() })
            .collect::<Vec<_>>()
            .join(", ");
        if header.len() > 6 {
            starts.push_str(", …");
        }
        return Err(LoadError::Unreadable {
            path,
            reason: format!(
                "CSV columns match no table rarity reads (need DeviceNetworkEvents, DeviceInfo, VMConnection or Sysmon columns); header starts: {}",
                clip(&starts)
            ),
        });
    }
    ctx.source.columns = header.clone();
    let sentinel = is_sentinel(&header, &map);
    ctx.format = format_name(&map, sentinel, 0);

    let mut sink = FileSink::new(ctx.opts.sink());
    let table = match map.target {
        Target::DeviceInfo => Some(TableKind::DeviceInfo),
        Target::VmConnection => Some(TableKind::VMConnection),
        Target::Net => Some(TableKind::DeviceNetworkEvents),
        // Sysmon rows take their time from `UtcTime` (UTC by definition), so a `[Local Time]`
        // TimeGenerated must not make the sink read them as local.
        _ => None,
    };
    if let Some(t) = table {
        sink.set_local_time(t, map.local_time);
    }
    let conv = Conv { map: &map, header: &header, delim };
    let (records, seen) = run_blocks(ctx, &path, &mut splitter, &conv, &mut sink)?;
    ctx.format = format_name(&map, sentinel, seen);
    if let Some(line) = splitter.open_quote_line() {
        ctx.warnings.push(format!("{path}:{line}: ends inside a quoted field: truncated export?"));
    }
    for (limit, what) in EXPORT_LIMITS {
        if records == limit {
            ctx.warnings.push(format!("exactly {limit} rows: {what}; this export is probably truncated"));
        }
    }
    Ok(sink)
}

/// Split on one thread, convert on workers, merge in order here. Returns the data records
/// and what the router saw (`route::seen` bits).
fn run_blocks<R: Read + Send>(
    ctx: &ReadCtx,
    path: &str,
    splitter: &mut Splitter<R>,
    conv: &Conv,
    sink: &mut FileSink,
) -> Result<(u64, u16), LoadError> {
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 8);
    let tracker = ctx.tracker;
    let template = sink.fork();
    let stop = AtomicBool::new(false);
    let mut totals = (0u64, 0u16);
    let mut failure: Option<LoadError> = None;
    let (block_tx, block_rx) = mpsc::sync_channel::<Block>(workers);
    let block_rx = Mutex::new(block_rx);
    let (chunk_tx, chunk_rx) = mpsc::channel::<(usize, Result<Chunk, LoadError>)>();
    let (spare_tx, spare_rx) = mpsc::channel::<Vec<u8>>();
    splitter.recycle_from(spare_rx);
    std::thread::scope(|s| {
        let stop = &stop;
        let splitting = s.spawn(move || -> Result<(), SplitError> {
            while !stop.load(Ordering::Relaxed) && !tracker.cancelled() {
                match splitter.next_block()? {
                    Some(b) => {
                        if block_tx.send(b).is_err() {
                            break;
                        }
                    }
                    None => break,
                }
            }
            Ok(())
        });
        for _ in 0..workers {
            let chunk_tx = chunk_tx.clone();
            let spare_tx = spare_tx.clone();
            let (block_rx, template) = (&block_rx, &template);
            s.spawn(move || loop {
                let next = match block_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => break,
                };
                let Ok(block) = next else { break };
                if stop.load(Ordering::Relaxed) {
                    continue;
                }
                let chunk = conv.block(&block, template, tracker);
                let _ = spare_tx.send(block.bytes);
                if chunk_tx.send((block.seq, chunk)).is_err() {
                    break;
                }
            });
        }
        drop(chunk_tx);
        drop(spare_tx);
        let mut pending: BTreeMap<usize, Chunk> = BTreeMap::new();
        let mut next = 0usize;
        for (seq, chunk) in chunk_rx {
            match chunk {
                Ok(c) => {
                    pending.insert(seq, c);
                }
                Err(e) => {
                    stop.store(true, Ordering::Relaxed);
                    failure.get_or_insert(e);
                    continue;
                }
            }
            while let Some(c) = pending.remove(&next) {
                totals.0 += c.records;
                totals.1 |= c.route.seen;
                sink.merge(c.sink);
                next += 1;
            }
        }
        if !pending.is_empty() && failure.is_none() {
            failure = Some(LoadError::Unreadable {
                path: path.to_string(),
                reason: "a block of rows was lost (worker stopped)".into(),
            });
        }
        match splitting.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                failure.get_or_insert(split_error(path, e));
            }
            Err(p) => std::panic::resume_unwind(p),
        }
    });
    tracker.check()?;
    match failure {
        Some(e) => Err(e),
        None => Ok(totals),
    }
}

fn one_record(rdr: impl Read, delim: u8) -> Result<Vec<String>, String> {
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delim).from_reader(rdr);
    let mut rec = csv::ByteRecord::new();
    match rdr.read_byte_record(&mut rec) {
        Ok(true) => Ok(rec.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect()),
        Ok(false) => Err("no row at this offset".into()),
        Err(e) => Err(format!("cannot re-read row: {e}")),
    }
}

/// One record starting at `offset` of `data`, as raw fields.
fn read_at(data: &SourceData, file: &mut Option<std::fs::File>, offset: u64, delim: u8) -> Result<Vec<String>, String> {
    let slice = |bytes: &[u8]| -> Result<Vec<String>, String> {
        let start = usize::try_from(offset)
            .ok()
            .filter(|&o| o <= bytes.len())
            .ok_or("row offset past the end of the source")?;
        one_record(&bytes[start..], delim)
    };
    match data {
        SourceData::Memory(b) => slice(b),
        SourceData::Static(b) => slice(b),
        SourceData::File(p) => {
            if file.is_none() {
                *file = Some(std::fs::File::open(p).map_err(|e| format!("cannot re-open {}: {e}", p.display()))?);
            }
            let Some(f) = file.as_mut() else { return Err("cannot re-open the source".into()) };
            f.seek(SeekFrom::Start(offset)).map_err(|e| format!("cannot seek: {e}"))?;
            // The splitter caps a record at 64 MiB; never read further than that.
            one_record(f.take(split::MAX_RECORD_BYTES as u64 + 1), delim)
        }
    }
}

/// Re-read rows by locator (every original column). Sysmon rows also get their `EventData`
/// fields expanded as `EventData.<Name>`.
pub fn reread(source: &SourceInfo, locators: &[u64]) -> Vec<Result<Vec<(String, String)>, String>> {
    let delim = match open_with_head(&source.data) {
        Ok((head, _)) => detect_delimiter(head.strip_prefix(BOM).unwrap_or(&head)),
        Err(e) => return locators.iter().map(|_| Err(format!("cannot re-open the source: {e}"))).collect(),
    };
    let map = ColumnMap::new(&source.columns);
    let mut file = None;
    locators
        .iter()
        .map(|&loc| {
            let fields = read_at(&source.data, &mut file, loc, delim)?;
            let mut out: Vec<(String, String)> = fields
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let name = source.columns.get(i).cloned().unwrap_or_else(|| format!("column {}", i + 1));
                    (name.trim_start_matches('\u{feff}').to_string(), v.clone())
                })
                .collect();
            let embedded = match map.target {
                Target::SysmonEventData => map.event_data,
                Target::SysmonSyslog => map.syslog_message,
                _ => None,
            };
            if let Some(i) = embedded {
                let name = map.names.get(i).map(String::as_str).unwrap_or("");
                out.extend(route::embedded_fields(name, fields.get(i).map(String::as_str).unwrap_or("")));
            }
            Ok(out)
        })
        .collect()
}

#[cfg(test)]
mod tests;
