//! Turning one block of CSV records into rows of a `FileSink`: field-count and size checks,
//! UTF-8 (lossy when invalid), and routing by target table (Defender, VMConnection, Sysmon).

use super::record::{RawRecord, Records};
use super::split::Block;
use crate::ingest::columns::{has_network_values, ColumnMap, Target, NON_NETWORK_ROWS};
use crate::ingest::sink::{clip, FileSink, NetValues, SinkOptions};
use crate::ingest::sysmon::{self, SysmonEvent};
use crate::ingest::sysmon_xml::{parse_event_xml, SysmonXml};
use crate::ingest::{LoadError, Tracker};
use crate::model::time;

/// A single record above this size is rejected (the file goes on).
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// Counter key for rows read with replacement characters.
pub const INVALID_UTF8_ROWS: &str = "rows with invalid UTF-8 (bad bytes shown as U+FFFD)";
/// Counter key for Syslog rows that hold no Sysmon XML.
pub const SYSLOG_NOT_SYSMON: &str = "Syslog rows without Sysmon XML (not loaded)";

/// What every worker needs to convert a block.
pub struct Conv<'a> {
    pub map: &'a ColumnMap,
    pub header: &'a [String],
    pub delim: u8,
    /// Position of a `Hostname` column (flattened Sysmon names the computer so).
    pub hostname: Option<usize>,
    /// Zone and date order of the load, for a `[Local Time]` TimeGenerated that stands in for
    /// a missing Sysmon `UtcTime`.
    pub opts: SinkOptions,
}

/// The rows of one block plus what the file report needs from it.
#[derive(Debug, Default)]
pub struct Chunk {
    pub sink: FileSink,
    pub records: u64,
    pub bytes: u64,
    pub xml_rows: u64,
    pub json_rows: u64,
}

/// Fields of one record as text: borrowed when valid UTF-8, owned (lossy) when not.
enum Fields<'r> {
    /// `text` is the block (or the record) as a str starting at byte `base` of the block.
    Valid {
        text: &'r str,
        base: usize,
        rec: &'r RawRecord,
    },
    Lossy(Vec<String>),
}

impl<'r> Fields<'r> {
    /// `block_text` is the whole block when it is valid UTF-8 (checked once per block).
    fn new(block: &'r [u8], block_text: Option<&'r str>, rec: &'r RawRecord) -> Fields<'r> {
        if let Some(text) = block_text {
            return Fields::Valid { text, base: 0, rec };
        }
        // The raw record still holds its delimiters, so two invalid halves of a field pair
        // cannot pass as one valid character here.
        match std::str::from_utf8(&block[rec.start..rec.end]) {
            Ok(text) => Fields::Valid { text, base: rec.start, rec },
            Err(_) => Fields::Lossy(
                (0..rec.len()).map(|i| String::from_utf8_lossy(rec.bytes(block, i)).into_owned()).collect(),
            ),
        }
    }

    #[inline]
    fn get(&self, i: usize) -> &str {
        match self {
            Fields::Valid { text, base, rec } => match rec.spans.get(i) {
                // Quoted fields were copied from valid text between ASCII quotes.
                Some(s) if s.in_scratch => std::str::from_utf8(&rec.scratch[s.start..s.end]).unwrap_or(""),
                Some(s) => text.get(s.start - base..s.end - base).unwrap_or(""),
                None => "",
            },
            Fields::Lossy(v) => v.get(i).map(String::as_str).unwrap_or(""),
        }
    }

    #[inline]
    fn at(&self, col: Option<usize>) -> &str {
        col.map(|i| self.get(i)).unwrap_or("")
    }
}

/// `EventID` as exports write it (`3`, `3.0`); Ok(None) when empty.
fn event_id(s: &str) -> Result<Option<u32>, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let t = t.strip_suffix(".0").unwrap_or(t);
    t.parse::<u32>().map(Some).map_err(|_| format!("bad EventID `{}`", clip(s)))
}

/// `EventData` of the Sentinel `Event` table (XML: a `DataItem`, or a whole `<Event>` that
/// also names the event ID and computer) or the `WindowsEvent` table (JSON object).
/// The bool is true for JSON.
pub fn event_data_fields(s: &str) -> Result<(SysmonXml, bool), String> {
    let t = s.trim();
    if t.starts_with('{') {
        let v: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(t).map_err(|e| format!("bad EventData JSON: {e}"))?;
        let data = v
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                };
                (k, text)
            })
            .collect();
        return Ok((SysmonXml { event_id: None, computer: None, data }, true));
    }
    parse_event_xml(t).map(|x| (x, false)).map_err(|e| format!("bad EventData XML: {e}"))
}

impl Conv<'_> {
    /// Push a Sysmon event. Its time is `UtcTime` (UTC); when that is missing the row's
    /// TimeGenerated stands in, and a `[Local Time]` one is converted here with the load's
    /// zone, since the sink reads these rows as UTC.
    fn push_sysmon(&self, sink: &mut FileSink, mut ev: SysmonEvent, line: u64, locator: u64) {
        if self.map.local_time && ev.event_id == Some(3) && ev.field("UtcTime").trim().is_empty() {
            let o = self.opts;
            if let Ok(p) = time::parse(&ev.time_generated, o.date_order, o.zone, true) {
                ev.time_generated = time::format_iso(p.nanos);
            }
        }
        sysmon::push(sink, &ev, line, locator);
    }

    /// Convert one block into a chunk sink forked from `template`.
    pub fn block(&self, block: &Block, template: &FileSink, tracker: &Tracker) -> Result<Chunk, LoadError> {
        tracker.check()?;
        let mut chunk = Chunk { sink: template.fork(), bytes: block.bytes.len() as u64, ..Default::default() };
        let bytes = &block.bytes[..];
        // One pass over the block is far cheaper than validating each field.
        let block_text = std::str::from_utf8(bytes).ok();
        let mut records = Records::new(bytes, self.delim);
        let mut rec = RawRecord::default();
        let ncols = self.header.len();
        while let Some(at) = records.next_into(&mut rec) {
            let line = block.start_line + at.line;
            let locator = block.start_byte + at.byte as u64;
            chunk.records += 1;
            if rec.len() != ncols {
                chunk.sink.reject(line, format!("expected {ncols} fields, found {}", rec.len()));
                continue;
            }
            if rec.end - rec.start > MAX_RECORD_BYTES {
                chunk.sink.reject(line, "record longer than 16 MiB");
                continue;
            }
            let fields = Fields::new(bytes, block_text, &rec);
            if matches!(fields, Fields::Lossy(_)) {
                chunk.sink.count(INVALID_UTF8_ROWS);
            }
            self.route(&fields, &mut chunk, line, locator);
        }
        tracker.advance(chunk.bytes, chunk.records);
        Ok(chunk)
    }

    fn route(&self, f: &Fields, chunk: &mut Chunk, line: u64, locator: u64) {
        let map = self.map;
        let sink = &mut chunk.sink;
        match map.target {
            Target::Net => {
                let v: NetValues = std::array::from_fn(|k| f.at(map.net[k]));
                if has_network_values(&v) {
                    sink.push_net(&v, line, locator);
                } else {
                    sink.count(NON_NETWORK_ROWS);
                }
            }
            Target::DeviceInfo => {
                let v = std::array::from_fn(|k| f.at(map.dev[k]));
                sink.push_dev(&v, line, locator);
            }
            Target::VmConnection => {
                let v = std::array::from_fn(|k| f.at(map.vm[k]));
                sink.push_vm(&v, line, locator);
            }
            Target::SysmonEventData => {
                let id = match event_id(f.at(map.event_id)) {
                    Ok(id) => id,
                    Err(e) => return sink.reject(line, e),
                };
                let mut ev = SysmonEvent {
                    event_id: id,
                    computer: f.at(map.computer).trim().to_string(),
                    time_generated: f.at(map.time_generated).to_string(),
                    data: Vec::new(),
                };
                if id.is_some_and(|i| i != 3) {
                    // Not a network event: counted by `push` without parsing its EventData.
                    sysmon::push(sink, &ev, line, locator);
                    return;
                }
                match event_data_fields(f.at(map.event_data)) {
                    Ok((x, json)) => {
                        if json {
                            chunk.json_rows += 1;
                        } else {
                            chunk.xml_rows += 1;
                        }
                        // A whole `<Event>` document fills what the row left empty.
                        ev.event_id = ev.event_id.or(x.event_id);
                        if ev.computer.is_empty() {
                            ev.computer = x.computer.unwrap_or_default();
                        }
                        ev.data = x.data;
                    }
                    Err(e) => return sink.reject(line, e),
                }
                self.push_sysmon(sink, ev, line, locator);
            }
            Target::SysmonSyslog => {
                let msg = f.at(map.syslog_message);
                let Some(start) = msg.find("<Event") else {
                    sink.count(SYSLOG_NOT_SYSMON);
                    return;
                };
                match parse_event_xml(&msg[start..]) {
                    Ok(x) => {
                        chunk.xml_rows += 1;
                        let ev = SysmonEvent {
                            event_id: x.event_id,
                            computer: x.computer.unwrap_or_else(|| f.at(map.computer).trim().to_string()),
                            time_generated: f.at(map.time_generated).to_string(),
                            data: x.data,
                        };
                        self.push_sysmon(sink, ev, line, locator);
                    }
                    Err(e) => sink.reject(line, format!("bad Sysmon XML in SyslogMessage: {e}")),
                }
            }
            Target::SysmonFlat => {
                let id = match event_id(f.at(map.event_id)) {
                    Ok(id) => id,
                    Err(e) => return sink.reject(line, e),
                };
                let computer = f.at(map.computer.or(self.hostname)).trim().to_string();
                let mut ev = SysmonEvent {
                    event_id: id,
                    computer,
                    time_generated: f.at(map.time_generated).to_string(),
                    data: Vec::new(),
                };
                if id == Some(3) {
                    ev.data =
                        self.map.names.iter().enumerate().map(|(i, h)| (h.clone(), f.get(i).to_string())).collect();
                }
                self.push_sysmon(sink, ev, line, locator);
            }
            // `read` refuses files with no target before any block is converted.
            Target::Unknown => {}
        }
    }
}
