//! Raw Windows event log files (`.evtx`): Sysmon Event ID 3 records become network events;
//! other records are counted. A record's locator is its `EventRecordID`.

use super::route::NOT_SYSMON;
use super::sink::RejectKind;
use super::sysmon::{self, SysmonEvent};
use super::{FileSink, LoadError, ReadCtx, SourceData, SourceInfo};
use evtx::EvtxParser;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::sync::Arc;

/// Format name in reports (plain "Windows event log (EVTX)" when no record is from Sysmon).
pub const FORMAT: &str = "Windows event log (EVTX, Sysmon)";

/// Any of the sources as one `Read + Seek` type, so the parser streams files from disk.
enum Src {
    File(std::fs::File),
    Memory(Cursor<Arc<[u8]>>),
    Static(Cursor<&'static [u8]>),
}

impl Read for Src {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Src::File(f) => f.read(buf),
            Src::Memory(c) => c.read(buf),
            Src::Static(c) => c.read(buf),
        }
    }
}

impl Seek for Src {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        match self {
            Src::File(f) => f.seek(pos),
            Src::Memory(c) => c.seek(pos),
            Src::Static(c) => c.seek(pos),
        }
    }
}

fn open(data: &SourceData) -> Result<EvtxParser<Src>, String> {
    let src = match data {
        SourceData::File(p) => Src::File(std::fs::File::open(p).map_err(|e| format!("cannot read: {e}"))?),
        SourceData::Memory(b) => Src::Memory(Cursor::new(b.clone())),
        SourceData::Static(b) => Src::Static(Cursor::new(*b)),
    };
    EvtxParser::from_read_seek(src).map_err(|e| format!("not a valid EVTX file: {}", error_chain(&e)))
}

/// An error with its causes, for a reject reason.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Object(o) => match o.get("#text") {
            Some(t) => text(t),
            None => v.to_string(),
        },
        Value::Array(_) => v.to_string(),
    }
}

/// What one record says, as far as loading goes.
struct Record<'a> {
    event_id: Option<u32>,
    computer: String,
    provider: String,
    channel: String,
    data: Option<&'a serde_json::Map<String, Value>>,
}

fn record(v: &Value) -> Record<'_> {
    let ev = &v["Event"];
    let sys = &ev["System"];
    Record {
        event_id: text(&sys["EventID"]).trim().parse().ok(),
        computer: text(&sys["Computer"]),
        provider: text(&sys["Provider"]["#attributes"]["Name"]),
        channel: text(&sys["Channel"]),
        data: ev["EventData"].as_object(),
    }
}

fn event_data_pairs(data: Option<&serde_json::Map<String, Value>>) -> Vec<(String, String)> {
    data.map(|m| m.iter().filter(|(k, _)| !k.starts_with('#')).map(|(k, v)| (k.clone(), text(v))).collect())
        .unwrap_or_default()
}

/// Read one EVTX source into a sink.
pub fn read(ctx: &mut ReadCtx) -> Result<FileSink, LoadError> {
    let mut parser =
        open(&ctx.source.data).map_err(|reason| LoadError::Unreadable { path: ctx.source.display.clone(), reason })?;
    ctx.format = "Windows event log (EVTX)".to_string();
    let mut sysmon_seen = false;
    let mut sink = FileSink::new(ctx.opts.sink());
    let total = ctx.source.data.len();
    let mut last_id = 0u64;
    let mut records = 0u64;
    let mut reported_rows = 0u64;
    for rec in parser.records_json_value() {
        records += 1;
        match rec {
            Ok(r) => {
                last_id = r.event_record_id;
                let line = r.event_record_id;
                let rec = record(&r.data);
                let sysmon_log =
                    [&rec.provider, &rec.channel].iter().any(|s| s.to_ascii_lowercase().contains("sysmon"));
                sysmon_seen |= sysmon_log;
                if !sysmon_log {
                    sink.count(NOT_SYSMON);
                } else if rec.event_id != Some(3) {
                    sysmon::push(&mut sink, &SysmonEvent { event_id: rec.event_id, ..Default::default() }, line, line);
                } else {
                    let ev = SysmonEvent {
                        event_id: rec.event_id,
                        computer: rec.computer.trim().to_string(),
                        time_generated: String::new(),
                        data: event_data_pairs(rec.data),
                    };
                    sysmon::push(&mut sink, &ev, line, line);
                }
            }
            Err(e) => {
                let line = match &e {
                    evtx::err::EvtxError::FailedToParseRecord { record_id, .. } => *record_id,
                    _ => last_id + 1,
                };
                sink.reject(line, RejectKind::CorruptEvtx { message: error_chain(&e) });
            }
        }
        if records % 2048 == 0 {
            ctx.tracker.advance(0, sink.rows() - reported_rows);
            reported_rows = sink.rows();
            ctx.tracker.check()?;
        }
    }
    ctx.tracker.advance(total, sink.rows() - reported_rows);
    if sysmon_seen {
        ctx.format = FORMAT.to_string();
    }
    if records == 0 {
        ctx.warnings.push("the event log holds no records".into());
    }
    Ok(sink)
}

/// Re-read rows by locator (`EventRecordID`): the System fields, then `EventData.X` pairs.
pub fn reread(source: &SourceInfo, locators: &[u64]) -> Vec<Result<Vec<(String, String)>, String>> {
    let mut out: Vec<Result<Vec<(String, String)>, String>> = vec![Err("no such record".into()); locators.len()];
    let mut parser = match open(&source.data) {
        Ok(p) => p,
        Err(e) => return locators.iter().map(|_| Err(e.clone())).collect(),
    };
    let mut wanted: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, &l) in locators.iter().enumerate() {
        wanted.entry(l).or_default().push(i);
    }
    let mut left = wanted.len();
    for rec in parser.records_json_value() {
        let Ok(r) = rec else { continue };
        let Some(slots) = wanted.get(&r.event_record_id) else { continue };
        let mut pairs = Vec::new();
        if let Some(sys) = r.data["Event"]["System"].as_object() {
            for (k, v) in sys {
                flatten(k, v, &mut pairs);
            }
        }
        for (k, v) in event_data_pairs(r.data["Event"]["EventData"].as_object()) {
            pairs.push((format!("EventData.{k}"), v));
        }
        for &s in slots {
            out[s] = Ok(pairs.clone());
        }
        left -= 1;
        if left == 0 {
            break;
        }
    }
    out
}

/// `Provider.Name`, `TimeCreated.SystemTime`, ... from the rendered System block.
fn flatten(key: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(o) => {
            for (k, inner) in o {
                if k == "#attributes" {
                    if let Some(attrs) = inner.as_object() {
                        for (a, av) in attrs {
                            out.push((format!("{key}.{a}"), text(av)));
                        }
                    }
                } else if k == "#text" {
                    out.push((key.to_string(), text(inner)));
                } else {
                    flatten(&format!("{key}.{k}"), inner, out);
                }
            }
        }
        other => out.push((key.to_string(), text(other))),
    }
}
