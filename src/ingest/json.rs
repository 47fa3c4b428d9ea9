//! JSON exports: hunting API (`Schema`/`Results`), Graph (`schema`/`results`), Log Analytics
//! (`tables`), streaming NDJSON (`category` + `properties`), Azure storage `records`, JSON Lines
//! and arrays of flat objects. Each row is parsed into text values and handed to the row
//! router (`route`) with the `ColumnMap` of its keys.
//!
//! JSON Lines are streamed in batches parsed on every core; a document is held in memory
//! (up to 2 GiB) and walked structurally, so a damaged document keeps every row before the damage.

mod scan;
pub(crate) mod value;

use super::columns::{ColumnMap, Target};
use super::route::{self, seen, RouteStats, Routed};
use super::sink::RejectKind;
use super::sniff::Kind;
use super::{FileSink, LoadError, ReadCtx, SourceData, SourceInfo};
use crate::model::TableKind;
use rayon::prelude::*;
use scan::{Job, RowKind, Shape, TableCols, Walker};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::io::Read;
use std::sync::Arc;
use value::Row;

/// Longest JSON line read; longer lines are rejected without being held in memory.
pub const MAX_LINE: usize = 64 << 20;
/// Largest JSON document read (documents are parsed in memory).
pub const MAX_DOCUMENT: u64 = 2 << 30;
/// Rows the hunting API returns at most; a result of exactly this many was cut off.
const API_ROW_LIMIT: u64 = 100_000;
const BATCH_BYTES: usize = 4 << 20;
const BATCH_ROWS: usize = 8192;
/// Distinct streaming categories of other tables named in the report (the rest are counted).
const LISTED_CATEGORIES: usize = 20;

pub use super::route::{NOT_SYSMON, SYSLOG_NOT_SYSMON, UNKNOWN_EVENTS};

/// What the rows of a file turned out to be, in the order the format name lists them.
const LABELS: [(u16, &str); 7] = [
    (seen::NET, "DeviceNetworkEvents"),
    (seen::DEV, "DeviceInfo"),
    (seen::VM, "VMConnection"),
    (seen::WINDOWS_EVENT, "WindowsEvent, Sysmon"),
    (seen::EVENT_XML, "Event, Sysmon XML"),
    (seen::FLAT, "flattened Sysmon"),
    (seen::SYSLOG, "Syslog, Sysmon for Linux"),
];

/// Per-chunk observations, merged in file order.
#[derive(Debug, Default)]
struct Stats {
    route: RouteStats,
    /// Rows came as streaming events (`category` + `properties`).
    streaming: bool,
    other_categories: BTreeMap<String, u64>,
    /// Events of other categories beyond the `LISTED_CATEGORIES` named ones.
    other_unlisted: u64,
    unknown_rows: u64,
    unknown_columns: Option<Vec<String>>,
    first_columns: Option<Vec<String>>,
}

impl Stats {
    fn merge(&mut self, o: Stats) {
        self.route.merge(&o.route);
        self.streaming |= o.streaming;
        for (k, v) in o.other_categories {
            self.count_category(k, v);
        }
        self.other_unlisted += o.other_unlisted;
        self.unknown_rows += o.unknown_rows;
        if self.unknown_columns.is_none() {
            self.unknown_columns = o.unknown_columns;
        }
        if self.first_columns.is_none() {
            self.first_columns = o.first_columns;
        }
    }

    /// Count events of a streaming table rarity does not read; only the first few distinct
    /// names are kept (a file may name any number of them).
    fn count_category(&mut self, category: String, n: u64) {
        if let Some(c) = self.other_categories.get_mut(&category) {
            *c += n;
        } else if self.other_categories.len() < LISTED_CATEGORIES {
            self.other_categories.insert(category, n);
        } else {
            self.other_unlisted += n;
        }
    }
}

/// Column maps of the key lists seen, bucketed by a hash of the keys.
type MapCache = HashMap<u64, Vec<(Vec<String>, Arc<ColumnMap>)>>;

/// Parses JSON rows into values and hands them to the row router, caching one `ColumnMap`
/// per distinct key list.
#[derive(Default)]
struct RowReader {
    maps: MapCache,
    hasher: std::collections::hash_map::RandomState,
    stats: Stats,
}

/// Text of a span, lossily when it is not UTF-8 (counted as the CSV reader counts it).
fn span_text<'b>(bytes: &'b [u8], sink: &mut FileSink) -> Cow<'b, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => {
            sink.count(route::INVALID_UTF8_ROWS);
            String::from_utf8_lossy(bytes)
        }
    }
}

fn find(keys: &[Cow<str>], name: &str) -> Option<usize> {
    keys.iter().position(|k| k.eq_ignore_ascii_case(name))
}

/// The reject for a row that does not parse.
fn json_error(e: &serde_json::Error, column: Option<usize>) -> RejectKind {
    RejectKind::Json { truncated: e.is_eof(), message: value::error_message(e), column }
}

impl RowReader {
    fn map_for(&mut self, keys: &[Cow<str>]) -> Arc<ColumnMap> {
        let mut h = self.hasher.build_hasher();
        for k in keys {
            h.write(k.as_bytes());
            h.write_u8(0xff);
        }
        let slot = self.maps.entry(h.finish()).or_default();
        if let Some((_, m)) =
            slot.iter().find(|(ks, _)| ks.len() == keys.len() && ks.iter().zip(keys).all(|(a, b)| a == b))
        {
            return m.clone();
        }
        let owned: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        let map = Arc::new(ColumnMap::new(&owned));
        slot.push((owned, map.clone()));
        map
    }

    /// Parse and route one row.
    fn handle(&mut self, sink: &mut FileSink, buf: &[u8], job: &Job, tables: &[TableCols], lines: bool) {
        let listed = sink.rejects.len();
        self.handle_row(sink, buf, job, tables, lines);
        if !lines {
            // Many rows may share a line in a document: name the row too.
            for r in &mut sink.rejects[listed..] {
                r.pos.record = Some(job.index + 1);
            }
        }
    }

    fn handle_row(&mut self, sink: &mut FileSink, buf: &[u8], job: &Job, tables: &[TableCols], lines: bool) {
        if job.kind == RowKind::Overlong {
            sink.reject(job.line, RejectKind::LineTooLong { mib: MAX_LINE >> 20 });
            return;
        }
        let text = span_text(&buf[job.start..job.end], sink);
        if job.kind == RowKind::Object && self.try_streaming(sink, &text, job, lines) {
            return;
        }
        let row = match Row::parse(&text) {
            Ok(r) => r,
            Err(e) => {
                if lines {
                    sink.reject(job.line, json_error(&e, Some(e.column())));
                } else {
                    sink.reject(job.line + e.line().saturating_sub(1) as u64, json_error(&e, None));
                }
                return;
            }
        };
        match (job.kind, row) {
            (RowKind::Object, Row::Object { keys, vals }) => {
                self.route_object(sink, &keys, &vals, job.line, job.index);
            }
            (RowKind::Positional(t), Row::Array(vals)) => {
                let Some(table) = tables.get(t as usize) else { return };
                let vals: Vec<&str> = vals.iter().map(|v| v.as_ref()).collect();
                self.stats.first_columns.get_or_insert_with(|| table.columns.clone());
                self.route_mapped(sink, &table.map, &table.columns, &vals, job.line, job.index, None);
            }
            (RowKind::Positional(_), _) => sink.reject(job.line, RejectKind::NotJsonArray),
            (RowKind::Object | RowKind::Overlong, _) => sink.reject(job.line, RejectKind::NotJsonObject),
        }
    }

    /// A streaming event (`category` + `properties` object) read without building the whole
    /// row: only `properties` is parsed. False when `text` is not one (it is then parsed whole).
    fn try_streaming(&mut self, sink: &mut FileSink, text: &str, job: &Job, lines: bool) -> bool {
        if memchr::memmem::find(text.as_bytes(), b"roperties\"").is_none() {
            return false;
        }
        let Some(members) = scan::object_members(text.as_bytes()) else { return false };
        let member = |name: &str| members.iter().find(|(k, _, _)| k.eq_ignore_ascii_case(name));
        let (Some(&(_, cs, ce)), Some(&(_, ps, pe))) = (member("category"), member("properties")) else { return false };
        let (Some(props), Some(cat)) = (text.get(ps..pe), text.get(cs..ce)) else { return false };
        if !props.starts_with('{') {
            return false;
        }
        let Ok(category) = serde_json::from_str::<String>(cat) else { return false };
        match Row::parse(props) {
            Ok(Row::Object { keys, vals }) => self.route_streaming(sink, &category, &keys, &vals, job.line, job.index),
            Ok(_) => return false,
            Err(e) => {
                if lines {
                    // Columns count from the start of the line.
                    let col = if e.line() == 1 { e.column() + ps } else { e.column() };
                    sink.reject(job.line, json_error(&e, Some(col)));
                } else {
                    let line = job.line + memchr::memchr_iter(b'\n', &text.as_bytes()[..ps]).count() as u64;
                    sink.reject(line + e.line().saturating_sub(1) as u64, json_error(&e, None));
                }
            }
        }
        true
    }

    /// Route the `properties` of a streaming event by its `category` (`AdvancedHunting-<Table>`).
    fn route_streaming(
        &mut self,
        sink: &mut FileSink,
        category: &str,
        keys: &[Cow<str>],
        vals: &[Cow<str>],
        line: u64,
        loc: u64,
    ) {
        self.stats.streaming = true;
        let table = category
            .get(..16)
            .filter(|p| p.eq_ignore_ascii_case("AdvancedHunting-"))
            .and_then(|_| category.get(16..))
            .unwrap_or(category);
        let forced = if table.eq_ignore_ascii_case("DeviceNetworkEvents") {
            Target::Net
        } else if table.eq_ignore_ascii_case("DeviceInfo") {
            Target::DeviceInfo
        } else {
            self.stats.count_category(crate::model::clip(category), 1);
            return;
        };
        let map = self.map_for(keys);
        let vals: Vec<&str> = vals.iter().map(|v| v.as_ref()).collect();
        self.stats.first_columns.get_or_insert_with(|| keys.iter().map(|k| k.to_string()).collect());
        self.route_mapped(sink, &map, keys, &vals, line, loc, Some(forced));
    }

    fn route_object(&mut self, sink: &mut FileSink, keys: &[Cow<str>], vals: &[Cow<str>], line: u64, loc: u64) {
        if let (Some(c), Some(p)) = (find(keys, "category"), find(keys, "properties")) {
            if vals[p].trim_start().starts_with('{') {
                match Row::parse(&vals[p]) {
                    Ok(Row::Object { keys: pk, vals: pv }) => self.route_streaming(sink, &vals[c], &pk, &pv, line, loc),
                    _ => sink.reject(line, RejectKind::PropertiesNotObject),
                }
                return;
            }
        }
        let map = self.map_for(keys);
        let vals: Vec<&str> = vals.iter().map(|v| v.as_ref()).collect();
        self.stats.first_columns.get_or_insert_with(|| keys.iter().map(|k| k.to_string()).collect());
        self.route_mapped(sink, &map, keys, &vals, line, loc, None);
    }

    #[allow(clippy::too_many_arguments)]
    fn route_mapped<K: AsRef<str>>(
        &mut self,
        sink: &mut FileSink,
        map: &ColumnMap,
        keys: &[K],
        vals: &[&str],
        line: u64,
        loc: u64,
        forced: Option<Target>,
    ) {
        if route::route(vals, map, forced, line, loc, sink, &mut self.stats.route) == Routed::Unknown {
            self.stats.unknown_rows += 1;
            if self.stats.unknown_columns.is_none() {
                self.stats.unknown_columns = Some(keys.iter().map(|k| k.as_ref().to_string()).collect());
            }
        }
    }
}

/// Parse a batch of rows on every core, one forked sink per part, in order.
fn run_jobs(buf: &[u8], jobs: &[Job], tables: &[TableCols], proto: &FileSink, lines: bool) -> Vec<(FileSink, Stats)> {
    let parts = if jobs.len() < 512 { 1 } else { rayon::current_num_threads().max(1) * 2 };
    let size = jobs.len().div_ceil(parts).max(1);
    jobs.par_chunks(size)
        .map(|chunk| {
            let mut sink = proto.fork();
            let mut reader = RowReader::default();
            for job in chunk {
                reader.handle(&mut sink, buf, job, tables, lines);
            }
            (sink, reader.stats)
        })
        .collect()
}

fn absorb(sink: &mut FileSink, stats: &mut Stats, parts: Vec<(FileSink, Stats)>) {
    for (part, st) in parts {
        for (i, t) in
            [TableKind::DeviceNetworkEvents, TableKind::DeviceInfo, TableKind::VMConnection].into_iter().enumerate()
        {
            if st.route.local[i] && !stats.route.local[i] {
                sink.set_local_time(t, true);
            }
        }
        sink.merge(part);
        stats.merge(st);
    }
}

fn io_err(source: &SourceInfo, e: std::io::Error) -> LoadError {
    LoadError::Io { path: source.display.clone(), source: e }
}

/// A JSON Lines file whose first line is an API envelope is read as (concatenated) documents.
fn is_document(source: &SourceInfo) -> bool {
    match source.kind {
        Kind::JsonDocument => true,
        Kind::JsonLines => {
            let mut head = Vec::new();
            let ok = source.data.open().and_then(|r| r.take(1 << 20).read_to_end(&mut head)).is_ok();
            ok && scan::starts_with_envelope(&head)
        }
        _ => false,
    }
}

/// Read one JSON source into a sink.
pub fn read(ctx: &mut ReadCtx) -> Result<FileSink, LoadError> {
    let mut sink = FileSink::new(ctx.opts.sink());
    let mut stats = Stats::default();
    let document = is_document(ctx.source);
    let mut shape = None;
    let mut rows_seen = 0;
    let (base, schema) = if document {
        let (doc_shape, schema, rows) = read_document(ctx, &mut sink, &mut stats)?;
        shape = doc_shape;
        rows_seen = rows;
        let base = match shape {
            Some(Shape::DefenderApi) => "Defender hunting API JSON",
            Some(Shape::GraphApi) => "Graph runHuntingQuery JSON",
            Some(Shape::LogAnalytics) => "Log Analytics API JSON",
            Some(Shape::Records) if stats.streaming => "Defender streaming JSON records",
            Some(Shape::Records) => "JSON records",
            Some(Shape::Array) => "JSON array",
            _ if stats.streaming => "Defender streaming JSON",
            _ => "JSON",
        };
        (base, schema)
    } else {
        read_lines(ctx, &mut sink, &mut stats)?;
        (if stats.streaming { "Defender streaming NDJSON" } else { "JSON Lines" }, Vec::new())
    };
    if matches!(shape, Some(Shape::DefenderApi | Shape::GraphApi)) && rows_seen == API_ROW_LIMIT {
        ctx.warnings.push(format!(
            "exactly {API_ROW_LIMIT} rows: the hunting API returns at most that many, so this result was probably cut off"
        ));
    }
    let labels: Vec<&str> = LABELS.iter().filter(|(b, _)| stats.route.seen & b != 0).map(|(_, n)| *n).collect();
    ctx.format = if labels.is_empty() { base.to_string() } else { format!("{base} ({})", labels.join(", ")) };
    ctx.source.columns =
        if schema.is_empty() { stats.first_columns.clone().unwrap_or_default() } else { schema.clone() };

    let recognized = stats.route.seen != 0 || sink.rejected > 0 || !sink.counters.is_empty();
    if !recognized {
        let reason = if !stats.other_categories.is_empty() {
            let mut names: Vec<&str> = stats.other_categories.keys().map(|k| k.as_str()).collect();
            if stats.other_unlisted > 0 {
                names.push("…");
            }
            format!("JSON holds no table rarity reads (streaming tables: {})", names.join(", "))
        } else if let Some(cols) = stats.unknown_columns.as_ref().or((!schema.is_empty()).then_some(&schema)) {
            format!("JSON holds no table rarity reads (columns: {})", column_list(cols))
        } else {
            "JSON holds no rows".to_string()
        };
        return Err(LoadError::Unreadable { path: ctx.source.display.clone(), reason });
    }
    if stats.unknown_rows > 0 {
        ctx.warnings.push(format!(
            "{} rows whose columns match no table rarity reads skipped (columns: {})",
            stats.unknown_rows,
            column_list(stats.unknown_columns.as_deref().unwrap_or(&[]))
        ));
    }
    if !stats.other_categories.is_empty() {
        let n: u64 = stats.other_categories.values().sum::<u64>() + stats.other_unlisted;
        let mut list: Vec<String> = stats.other_categories.iter().map(|(k, v)| format!("{k} ({v})")).collect();
        if stats.other_unlisted > 0 {
            list.push(format!("other tables ({})", stats.other_unlisted));
        }
        ctx.warnings.push(format!("{n} streaming events of other tables not loaded: {}", list.join(", ")));
    }
    Ok(sink)
}

fn column_list(cols: &[String]) -> String {
    const SHOWN: usize = 12;
    let mut s = cols.iter().take(SHOWN).map(|c| c.as_str()).collect::<Vec<_>>().join(", ");
    if cols.len() > SHOWN {
        s.push_str(&format!(", … {} more", cols.len() - SHOWN));
    }
    s
}

fn check_document_size(source: &SourceInfo) -> Result<(), LoadError> {
    let len = source.data.len();
    if len > MAX_DOCUMENT {
        return Err(LoadError::Unreadable {
            path: source.display.clone(),
            reason: format!(
                "JSON document of {:.1} GiB is over the 2 GiB limit for one document; export it as JSON Lines",
                len as f64 / (1u64 << 30) as f64
            ),
        });
    }
    Ok(())
}

/// Walk a whole document; returns its envelope and schema columns.
fn read_document(
    ctx: &mut ReadCtx,
    sink: &mut FileSink,
    stats: &mut Stats,
) -> Result<(Option<Shape>, Vec<String>, u64), LoadError> {
    check_document_size(ctx.source)?;
    let bytes = ctx.source.data.read_all_limited(MAX_DOCUMENT).map_err(|e| io_err(ctx.source, e))?;
    let tracker = ctx.tracker;
    let mut walker = Walker::new(&bytes);
    let mut batch: Vec<Job> = Vec::new();
    let mut batch_bytes = 0usize;
    let mut done_to = 0usize;
    let mut cancelled = false;
    let mut flush = |batch: &mut Vec<Job>, tables: &[TableCols], sink: &mut FileSink, stats: &mut Stats| {
        let before = sink.rows();
        let parts = run_jobs(&bytes, batch, tables, sink, false);
        absorb(sink, stats, parts);
        let end = batch.last().map(|j| j.end).unwrap_or(done_to);
        tracker.advance(end.saturating_sub(done_to) as u64, sink.rows() - before);
        done_to = end;
        batch.clear();
    };
    let result = walker.walk(&mut |job, tables| {
        batch_bytes += job.end - job.start;
        batch.push(job);
        if batch.len() >= BATCH_ROWS || batch_bytes >= BATCH_BYTES {
            flush(&mut batch, tables, sink, stats);
            batch_bytes = 0;
            if tracker.cancelled() {
                cancelled = true;
                return false;
            }
        }
        true
    });
    flush(&mut batch, &walker.tables, sink, stats);
    if cancelled {
        return Err(LoadError::Cancelled);
    }
    if let Err(e) = result {
        sink.reject(e.line, RejectKind::JsonDocument { message: e.reason });
    }
    tracker.advance((bytes.len().saturating_sub(done_to)) as u64, 0);
    Ok((walker.shape, std::mem::take(&mut walker.schema), walker.rows()))
}

/// Split a batch of complete lines into row jobs (blank lines skipped, CR and BOM removed).
fn line_jobs(buf: &[u8], base_line: u64, base_offset: u64) -> Vec<Job> {
    let mut jobs = Vec::new();
    let mut start = 0usize;
    let mut line = base_line;
    let mut push = |s: usize, e: usize, line: u64| {
        let mut ts = s;
        if base_offset == 0 && s == 0 && buf.starts_with(b"\xEF\xBB\xBF") {
            ts = 3;
        }
        let mut te = e;
        if te > ts && buf[te - 1] == b'\r' {
            te -= 1;
        }
        if buf[ts..te].iter().all(|c| c.is_ascii_whitespace()) {
            return;
        }
        let kind = if te - ts > MAX_LINE { RowKind::Overlong } else { RowKind::Object };
        jobs.push(Job { start: ts, end: te, line, index: base_offset + s as u64, kind });
    };
    for nl in memchr::memchr_iter(b'\n', buf) {
        push(start, nl, line);
        start = nl + 1;
        line += 1;
    }
    if start < buf.len() {
        push(start, buf.len(), line);
    }
    jobs
}

/// Stream JSON Lines in batches; each batch is parsed on every core.
fn read_lines(ctx: &mut ReadCtx, sink: &mut FileSink, stats: &mut Stats) -> Result<(), LoadError> {
    let mut reader = ctx.source.data.open().map_err(|e| io_err(ctx.source, e))?;
    let mut buf: Vec<u8> = Vec::with_capacity(BATCH_BYTES * 2);
    let mut base_offset = 0u64;
    let mut base_line = 1u64;
    let mut eof = false;
    loop {
        if !eof {
            let n = (&mut reader).take(BATCH_BYTES as u64).read_to_end(&mut buf).map_err(|e| io_err(ctx.source, e))?;
            eof = n == 0;
        }
        let cut = if eof { buf.len() } else { memchr::memrchr(b'\n', &buf).map(|i| i + 1).unwrap_or(0) };
        if cut == 0 {
            if eof {
                return Ok(());
            }
            if buf.len() > MAX_LINE {
                // Skip the rest of an over-long line without holding it.
                sink.reject(base_line, RejectKind::LineTooLong { mib: MAX_LINE >> 20 });
                let mut skipped = buf.len() as u64;
                buf.clear();
                let mut chunk = vec![0u8; 1 << 20];
                loop {
                    let n = reader.read(&mut chunk).map_err(|e| io_err(ctx.source, e))?;
                    if n == 0 {
                        eof = true;
                        break;
                    }
                    if let Some(i) = memchr::memchr(b'\n', &chunk[..n]) {
                        skipped += i as u64 + 1;
                        buf.extend_from_slice(&chunk[i + 1..n]);
                        break;
                    }
                    skipped += n as u64;
                }
                base_offset += skipped;
                base_line += 1;
                ctx.tracker.advance(skipped, 0);
            }
            continue;
        }
        let before = sink.rows();
        let jobs = line_jobs(&buf[..cut], base_line, base_offset);
        let parts = run_jobs(&buf[..cut], &jobs, &[], sink, true);
        absorb(sink, stats, parts);
        base_line += memchr::memchr_iter(b'\n', &buf[..cut]).count() as u64;
        base_offset += cut as u64;
        buf.drain(..cut);
        ctx.tracker.advance(cut as u64, sink.rows() - before);
        ctx.tracker.check()?;
    }
}

/// Re-read rows by locator (every original column).
pub fn reread(source: &SourceInfo, locators: &[u64]) -> Vec<Result<Vec<(String, String)>, String>> {
    if is_document(source) {
        reread_document(source, locators)
    } else {
        locators.iter().map(|&off| read_line_at(&source.data, off).and_then(|t| row_pairs(&t, None))).collect()
    }
}

/// The line starting at byte `offset`, without its line end (and BOM on the first line).
fn read_line_at(data: &SourceData, offset: u64) -> Result<String, String> {
    let io = |e: std::io::Error| format!("cannot read: {e}");
    let mut line = Vec::new();
    match data {
        SourceData::File(p) => {
            use std::io::{BufRead, Seek, SeekFrom};
            let mut f = std::fs::File::open(p).map_err(io)?;
            f.seek(SeekFrom::Start(offset)).map_err(io)?;
            std::io::BufReader::new(f.take(MAX_LINE as u64 + 1)).read_until(b'\n', &mut line).map_err(io)?;
        }
        SourceData::Memory(b) => line.extend_from_slice(line_slice(b, offset)),
        SourceData::Static(b) => line.extend_from_slice(line_slice(b, offset)),
    }
    if line.len() > MAX_LINE {
        return Err("line longer than 64 MiB".into());
    }
    let text = String::from_utf8_lossy(&line);
    let text = if offset == 0 { text.trim_start_matches('\u{feff}') } else { &text };
    Ok(text.trim_end_matches(['\r', '\n']).to_string())
}

fn line_slice(b: &[u8], offset: u64) -> &[u8] {
    let rest = usize::try_from(offset).ok().and_then(|o| b.get(o..)).unwrap_or(&[]);
    let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
    &rest[..end.min(MAX_LINE + 1)]
}

fn reread_document(source: &SourceInfo, locators: &[u64]) -> Vec<Result<Vec<(String, String)>, String>> {
    let mut out: Vec<Result<Vec<(String, String)>, String>> = vec![Err("no such row".into()); locators.len()];
    if let Err(e) = check_document_size(source) {
        return locators.iter().map(|_| Err(e.to_string())).collect();
    }
    let bytes = match source.data.read_all_limited(MAX_DOCUMENT) {
        Ok(b) => b,
        Err(e) => return locators.iter().map(|_| Err(format!("cannot read: {e}"))).collect(),
    };
    let mut wanted: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, &l) in locators.iter().enumerate() {
        wanted.entry(l).or_default().push(i);
    }
    let mut left = wanted.len();
    let mut walker = Walker::new(&bytes);
    let _ = walker.walk(&mut |job, tables| {
        if let Some(slots) = wanted.get(&job.index) {
            let text = String::from_utf8_lossy(&bytes[job.start..job.end]);
            let cols = match job.kind {
                RowKind::Positional(t) => tables.get(t as usize).map(|t| t.columns.as_slice()),
                RowKind::Object | RowKind::Overlong => None,
            };
            let rec = row_pairs(&text, cols);
            for &s in slots {
                out[s] = rec.clone();
            }
            left -= 1;
        }
        left > 0
    });
    out
}

/// Every key/value of a row's text; streaming rows give their `properties` first; Sysmon
/// EventData (JSON or XML, also inside `SyslogMessage`) is expanded as `EventData.X` pairs.
fn row_pairs(text: &str, columns: Option<&[String]>) -> Result<Vec<(String, String)>, String> {
    let row = Row::parse(text).map_err(|e| format!("bad JSON: {}", value::error_message(&e)))?;
    let mut pairs: Vec<(String, String)> = match row {
        Row::Array(vals) => {
            let cols = columns.unwrap_or(&[]);
            vals.into_iter()
                .enumerate()
                .map(|(i, v)| (cols.get(i).cloned().unwrap_or_else(|| format!("column{}", i + 1)), v.into_owned()))
                .collect()
        }
        Row::Object { keys, vals } => {
            let props = match (find(&keys, "category"), find(&keys, "properties")) {
                (Some(_), Some(p)) => route::object_pairs(&vals[p]).ok().map(|pp| (p, pp)),
                _ => None,
            };
            match props {
                Some((p, mut pp)) => {
                    for (i, (k, v)) in keys.iter().zip(&vals).enumerate() {
                        if i != p {
                            pp.push((k.to_string(), v.to_string()));
                        }
                    }
                    pp
                }
                None => keys.into_iter().zip(vals).map(|(k, v)| (k.into_owned(), v.into_owned())).collect(),
            }
        }
        Row::Scalar => return Err("row is not a JSON object".into()),
    };
    let mut extra = Vec::new();
    for (k, v) in &pairs {
        extra.extend(route::embedded_fields(k, v));
    }
    pairs.extend(extra);
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reread_of_in_memory_json_lines_finds_the_line_at_its_offset() {
        let text: &'static [u8] = b"\xEF\xBB\xBF{\"a\":1}\r\n{\"b\":\"x\"}";
        let source = SourceInfo {
            display: "-".into(),
            data: SourceData::Static(text),
            kind: Kind::JsonLines,
            columns: Vec::new(),
        };
        let got = reread(&source, &[12, 0, 99]);
        assert_eq!(got[0], Ok(vec![("b".to_string(), "x".to_string())]));
        assert_eq!(got[1], Ok(vec![("a".to_string(), "1".to_string())]));
        assert!(got[2].is_err());
    }

    #[test]
    fn line_jobs_mark_overlong_lines_in_place_and_skip_blank_ones() {
        let mut buf = b"{\"a\":1}\r\n\r\n".to_vec();
        buf.extend(std::iter::repeat_n(b'x', MAX_LINE + 1));
        buf.extend_from_slice(b"\n{\"b\":2}");
        let jobs = line_jobs(&buf, 10, 1000);
        let got: Vec<(RowKind, u64, u64)> = jobs.iter().map(|j| (j.kind, j.line, j.index)).collect();
        let third = 1000 + 11 + MAX_LINE as u64 + 2;
        assert_eq!(got, vec![(RowKind::Object, 10, 1000), (RowKind::Overlong, 12, 1011), (RowKind::Object, 13, third)]);
        assert_eq!(&buf[jobs[0].start..jobs[0].end], b"{\"a\":1}");
        let mut sink = FileSink::default();
        RowReader::default().handle(&mut sink, &buf, &jobs[1], &[], true);
        assert_eq!(sink.rejects[0].kind.to_string(), "line longer than 64 MiB skipped");
    }

    #[test]
    fn row_pairs_expand_json_event_data_and_streaming_properties() {
        let p = row_pairs(r#"{"EventID":3,"EventData":"{\"Image\":\"a.exe\",\"DestinationPort\":\"443\"}"}"#, None)
            .unwrap();
        assert_eq!(p[0], ("EventID".into(), "3".into()));
        assert_eq!(
            &p[2..],
            &[("EventData.Image".into(), "a.exe".into()), ("EventData.DestinationPort".into(), "443".into())]
        );
        let p = row_pairs(
            r#"{"category":"AdvancedHunting-DeviceInfo","properties":{"DeviceName":"h","X":null},"time":"t"}"#,
            None,
        )
        .unwrap();
        let keys: Vec<&str> = p.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, vec!["DeviceName", "X", "category", "time"]);
        let p = row_pairs("[1,\"a\"]", Some(&["A".to_string(), "B".to_string()])).unwrap();
        assert_eq!(p, vec![("A".into(), "1".into()), ("B".into(), "a".into())]);
    }
}
