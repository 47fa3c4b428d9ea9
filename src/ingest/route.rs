//! The one row router every table reader feeds: given a row's values and the `ColumnMap` of
//! its header (CSV header, JSON keys, API schema), decide what the row is and put it into the
//! sink. Table detection, the Sysmon shapes (Sentinel `Event` / `WindowsEvent` with
//! `EventData`, `Syslog` with Sysmon for Linux XML, flattened Sysmon), the provider check,
//! EventID parsing and the local-time rule live here once, so CSV and JSON rows with the same
//! content are read the same way.

use super::columns::{has_network_values, ColumnMap, RowValues, Target, NON_NETWORK_ROWS};
use super::json::value::Row;
use super::sink::{Counter, FileSink, RejectKind};
use super::sysmon::{self, SysmonEvent};
use super::sysmon_xml::{parse_event_xml, peek_event_id};
use crate::model::time;
use crate::model::TableKind;

/// Counter key for Windows events of other logs (named by a provider/channel column).
pub const NOT_SYSMON: Counter = ("Windows event", "from logs other than Sysmon (not network events; not loaded)");
/// Counter key for event rows with an EventID but no provider and not the flattened Sysmon shape.
pub const UNKNOWN_EVENTS: Counter = ("event row", "naming no log and not a Sysmon network event (not loaded)");
/// Counter key for Syslog rows whose message holds no Sysmon `<Event>`.
pub const SYSLOG_NOT_SYSMON: Counter = ("Syslog message", "without a Sysmon event (not loaded)");

/// Counter key for rows read with replacement characters (invalid UTF-8), in any format.
pub const INVALID_UTF8_ROWS: Counter = ("row", "with invalid UTF-8 (bad bytes shown as U+FFFD)");

/// Bits of `RouteStats::seen`: what the rows of a file turned out to be.
pub mod seen {
    pub const NET: u16 = 1;
    pub const DEV: u16 = 2;
    pub const VM: u16 = 4;
    /// `EventData` rows holding JSON (the `WindowsEvent` table).
    pub const WINDOWS_EVENT: u16 = 8;
    /// `EventData` rows holding XML (the `Event` table).
    pub const EVENT_XML: u16 = 16;
    pub const FLAT: u16 = 32;
    pub const SYSLOG: u16 = 64;
}

/// What routing observed over a run of rows (merged across chunks).
#[derive(Clone, Copy, Debug, Default)]
pub struct RouteStats {
    /// `seen::*` bits.
    pub seen: u16,
    /// The sink was told the time column of this table is local (by table index).
    pub local: [bool; 3],
}

impl RouteStats {
    pub fn merge(&mut self, o: &RouteStats) {
        self.seen |= o.seen;
        for i in 0..3 {
            self.local[i] |= o.local[i];
        }
    }
}

/// What became of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Routed {
    /// Loaded, rejected or counted in the sink.
    Done,
    /// Its columns match no table rarity reads (the reader reports such rows).
    Unknown,
}

fn table_index(t: TableKind) -> usize {
    match t {
        TableKind::DeviceNetworkEvents => 0,
        TableKind::DeviceInfo => 1,
        TableKind::VMConnection => 2,
    }
}

/// Route one row. `forced` overrides the header's target (a streaming event names its table
/// in `category`, so its rows are not second-guessed); `line` is where rejects are reported,
/// `locator` how the row is found again.
#[inline]
pub fn route<R: RowValues + ?Sized>(
    row: &R,
    map: &ColumnMap,
    forced: Option<Target>,
    line: u64,
    locator: u64,
    sink: &mut FileSink,
    stats: &mut RouteStats,
) -> Routed {
    let target = forced.unwrap_or(map.target);
    let table = match target {
        Target::Net => Some(TableKind::DeviceNetworkEvents),
        Target::DeviceInfo => Some(TableKind::DeviceInfo),
        Target::VmConnection => Some(TableKind::VMConnection),
        _ => None,
    };
    if let Some(t) = table {
        let i = table_index(t);
        if map.local_time && !stats.local[i] {
            stats.local[i] = true;
            sink.set_local_time(t, true);
        }
    }
    match target {
        Target::Net => {
            stats.seen |= seen::NET;
            let v = map.net_values(row);
            if forced.is_none() && !has_network_values(&v) {
                sink.count(NON_NETWORK_ROWS);
            } else {
                sink.push_net(&v, line, locator);
            }
        }
        Target::DeviceInfo => {
            stats.seen |= seen::DEV;
            sink.push_dev(&map.dev_values(row), line, locator);
        }
        Target::VmConnection => {
            stats.seen |= seen::VM;
            sink.push_vm(&map.vm_values(row), line, locator);
        }
        Target::SysmonEventData => event_data_row(row, map, line, locator, sink, stats),
        Target::SysmonSyslog => syslog_row(row, map, line, locator, sink, stats),
        Target::SysmonFlat => flat_row(row, map, line, locator, sink, stats),
        Target::Unknown if map.event_id.is_some() => flat_row(row, map, line, locator, sink, stats),
        Target::Unknown => return Routed::Unknown,
    }
    Routed::Done
}

/// `EventID` as exports write it (`3`, `3.0`); Ok(None) when empty.
pub fn parse_event_id(s: &str) -> Result<Option<u32>, RejectKind> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.strip_suffix(".0").unwrap_or(t).parse::<u32>().map(Some).map_err(|_| RejectKind::bad_event_id(t))
}

/// Some(true) when a provider/channel column names Sysmon, Some(false) when one names another
/// log, None when the row does not say.
fn names_sysmon<R: RowValues + ?Sized>(row: &R, map: &ColumnMap) -> Option<bool> {
    let mut said = None;
    for &i in &map.provider {
        let v = row.get(i).trim();
        if v.is_empty() {
            continue;
        }
        if v.as_bytes().windows(6).any(|w| w.eq_ignore_ascii_case(b"sysmon")) {
            return Some(true);
        }
        said = Some(false);
    }
    said
}

fn first_value<'r, R: RowValues + ?Sized>(row: &'r R, cols: &[usize]) -> &'r str {
    cols.iter().map(|&i| row.get(i)).find(|v| !v.trim().is_empty()).unwrap_or("")
}

/// `(key, value)` pairs of a JSON object's text (`EventData` of the `WindowsEvent` table).
pub fn object_pairs(text: &str) -> Result<Vec<(String, String)>, String> {
    match Row::parse(text) {
        Ok(Row::Object { keys, vals }) => {
            Ok(keys.into_iter().zip(vals).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        }
        Ok(_) => Err("not a JSON object".into()),
        Err(e) => Err(super::json::value::error_message(&e)),
    }
}

/// Where a Sysmon `<Event>` element starts in a Syslog message (after any prefix the
/// forwarder wrote, such as `Event: `).
pub fn event_xml_start(msg: &str) -> Option<usize> {
    let b = msg.as_bytes();
    memchr::memmem::find_iter(b, b"<Event")
        .find(|&i| matches!(b.get(i + 6), Some(b'>' | b'/' | b' ' | b'\t' | b'\r' | b'\n')))
}

/// The Sysmon fields a raw-event view shows for a column holding an embedded event
/// (`EventData` as JSON or XML, `SyslogMessage` with an `<Event>`), as `EventData.<Name>` pairs.
pub fn embedded_fields(column: &str, value: &str) -> Vec<(String, String)> {
    let t = value.trim();
    let fields = if column.eq_ignore_ascii_case("EventData") && t.starts_with('{') {
        object_pairs(t).ok()
    } else if column.eq_ignore_ascii_case("EventData") && t.starts_with('<') {
        parse_event_xml(t).ok().map(|x| x.data)
    } else if column.eq_ignore_ascii_case("SyslogMessage") {
        event_xml_start(t).and_then(|at| parse_event_xml(&t[at..]).ok()).map(|x| x.data)
    } else {
        None
    };
    fields.unwrap_or_default().into_iter().map(|(k, v)| (format!("EventData.{k}"), v)).collect()
}

/// A non-EID-3 Sysmon event: counted by `sysmon::push` without building its data.
fn count_other(sink: &mut FileSink, id: Option<u32>, line: u64, locator: u64) {
    sysmon::push(sink, &SysmonEvent { event_id: id, ..Default::default() }, line, locator);
}

/// Push a Sysmon event. Its time is `UtcTime` (UTC); when that is missing the row's
/// TimeGenerated stands in, and a `[Local Time]` one is converted here with the load's zone,
/// since the sink reads Sysmon rows as UTC.
fn push_sysmon(sink: &mut FileSink, map: &ColumnMap, mut ev: SysmonEvent, line: u64, locator: u64) {
    if map.local_time && ev.event_id == Some(3) && ev.field("UtcTime").trim().is_empty() {
        let o = sink.options();
        if let Ok(p) = time::parse(&ev.time_generated, o.date_order, o.zone, true) {
            ev.time_generated = time::format_iso(p.nanos);
        }
    }
    sysmon::push(sink, &ev, line, locator);
}

/// Sentinel `Event` (XML `EventData`: a `DataItem`, or a whole `<Event>` that also names the
/// event ID and computer) and `WindowsEvent` (JSON `EventData`) rows.
fn event_data_row<R: RowValues + ?Sized>(
    row: &R,
    map: &ColumnMap,
    line: u64,
    locator: u64,
    sink: &mut FileSink,
    stats: &mut RouteStats,
) {
    let data = row.at(map.event_data).trim();
    let xml = data.starts_with('<');
    stats.seen |= if xml { seen::EVENT_XML } else { seen::WINDOWS_EVENT };
    if names_sysmon(row, map) == Some(false) {
        sink.count(NOT_SYSMON);
        return;
    }
    let id = match parse_event_id(row.at(map.event_id)) {
        Ok(id) => id,
        Err(k) => return sink.reject(line, k),
    };
    // A whole `<Event>` names its ID when the row does not; read it without parsing the rest,
    // so a damaged event that is not a network event is counted, not rejected.
    let id = if id.is_none() && xml { peek_event_id(data) } else { id };
    if id != Some(3) {
        return count_other(sink, id, line, locator);
    }
    let mut ev = SysmonEvent {
        event_id: id,
        computer: row.at(map.computer).trim().to_string(),
        time_generated: row.at(map.time_generated).to_string(),
        data: Vec::new(),
    };
    if data.starts_with('{') {
        match object_pairs(data) {
            Ok(pairs) => ev.data = pairs,
            Err(message) => return sink.reject(line, RejectKind::BadEventDataJson { message }),
        }
    } else if xml {
        match parse_event_xml(data) {
            Ok(x) => {
                if ev.computer.is_empty() {
                    ev.computer = x.computer.unwrap_or_default().trim().to_string();
                }
                ev.data = x.data;
            }
            Err(message) => return sink.reject(line, RejectKind::BadEventDataXml { message }),
        }
    } else if data.is_empty() {
        return sink.reject(line, RejectKind::NoEventData);
    } else {
        return sink.reject(line, RejectKind::EventDataNotJsonOrXml);
    }
    push_sysmon(sink, map, ev, line, locator);
}

/// Sentinel `Syslog` rows carrying Sysmon for Linux XML in `SyslogMessage`.
fn syslog_row<R: RowValues + ?Sized>(
    row: &R,
    map: &ColumnMap,
    line: u64,
    locator: u64,
    sink: &mut FileSink,
    stats: &mut RouteStats,
) {
    let msg = row.at(map.syslog_message);
    let Some(start) = event_xml_start(msg) else {
        sink.count(SYSLOG_NOT_SYSMON);
        return;
    };
    let xml = msg[start..].trim_end();
    stats.seen |= seen::SYSLOG;
    // Syslog cuts long messages and Sysmon for Linux writes bare `&lt` entities: decide on
    // the EventID first so only a damaged Event ID 3 is a reject.
    if let Some(id) = peek_event_id(xml).filter(|&id| id != 3) {
        return count_other(sink, Some(id), line, locator);
    }
    match parse_event_xml(xml) {
        Ok(x) => {
            if x.event_id != Some(3) {
                return count_other(sink, x.event_id, line, locator);
            }
            let computer =
                x.computer.filter(|c| !c.trim().is_empty()).unwrap_or_else(|| row.at(map.computer).to_string());
            let ev = SysmonEvent {
                event_id: x.event_id,
                computer: computer.trim().to_string(),
                time_generated: row.at(map.time_generated).to_string(),
                data: x.data,
            };
            push_sysmon(sink, map, ev, line, locator);
        }
        Err(message) => sink.reject(line, RejectKind::BadSyslogXml { message }),
    }
}

/// Flattened Sysmon (OTRF / Mordor shippers): the `EventData` fields are the row's own columns.
fn flat_row<R: RowValues + ?Sized>(
    row: &R,
    map: &ColumnMap,
    line: u64,
    locator: u64,
    sink: &mut FileSink,
    stats: &mut RouteStats,
) {
    match names_sysmon(row, map) {
        Some(false) => {
            sink.count(NOT_SYSMON);
            return;
        }
        // Without a provider, only the flattened EID 3 shape says it is Sysmon.
        None if map.target != Target::SysmonFlat => {
            sink.count(UNKNOWN_EVENTS);
            return;
        }
        _ => {}
    }
    stats.seen |= seen::FLAT;
    let id = match parse_event_id(row.at(map.event_id)) {
        Ok(id) => id,
        Err(k) => return sink.reject(line, k),
    };
    if id != Some(3) {
        return count_other(sink, id, line, locator);
    }
    let ev = SysmonEvent {
        event_id: id,
        computer: first_value(row, &map.flat_computer).trim().to_string(),
        time_generated: first_value(row, &map.flat_time).to_string(),
        data: map.names.iter().enumerate().map(|(i, k)| (k.clone(), row.get(i).to_string())).collect(),
    };
    push_sysmon(sink, map, ev, line, locator);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::sink::SinkOptions;
    use crate::ingest::sysmon::OTHER_EVENTS;

    fn run(header: &[&str], row: &[&str]) -> (FileSink, RouteStats, Routed) {
        let map = ColumnMap::new(header);
        let mut sink = FileSink::new(SinkOptions::default());
        let mut stats = RouteStats::default();
        let r = route(row, &map, None, 2, 0, &mut sink, &mut stats);
        (sink, stats, r)
    }

    const XML3: &str = r#"<Event><System><EventID>3</EventID><Computer>xml-host</Computer></System><EventData><Data Name="UtcTime">2024-02-01 10:00:00.000</Data><Data Name="Initiated">true</Data><Data Name="DestinationIp">198.51.100.7</Data><Data Name="DestinationPort">443</Data></EventData></Event>"#;

    #[test]
    fn syslog_event_is_found_after_a_prefix_but_not_inside_other_tags() {
        assert_eq!(event_xml_start("Event: <Event><System>"), Some(7));
        assert_eq!(event_xml_start("<Event xmlns=\"x\">"), Some(0));
        assert_eq!(event_xml_start("<EventData><Data/>"), None);
        assert_eq!(event_xml_start("sshd: accepted"), None);
        let h = ["TimeGenerated", "Computer", "SyslogMessage"];
        let (s, st, _) = run(&h, &["2024-02-01T10:00:01Z", "row-host", &format!("Event: {XML3}")]);
        assert_eq!((s.net.len(), st.seen), (1, seen::SYSLOG));
        assert_eq!(s.net.device.get(0), "xml-host");
        let (s, _, _) = run(&h, &["2024-02-01T10:00:01Z", "row-host", "<EventData>nothing</EventData>"]);
        assert_eq!(s.counters.get(&SYSLOG_NOT_SYSMON), Some(&1));
    }

    #[test]
    fn provider_columns_keep_other_logs_out_whatever_the_reader() {
        let h = ["TimeGenerated", "Source", "Computer", "EventID", "EventData"];
        let (s, _, _) = run(&h, &["2024-02-01T10:00:01Z", "Service Control Manager", "h", "3", XML3]);
        assert_eq!((s.net.len(), s.counters.get(&NOT_SYSMON)), (0, Some(&1)));
        let (s, _, _) = run(&h, &["2024-02-01T10:00:01Z", "Microsoft-Windows-SYSMON", "h", "3", XML3]);
        assert_eq!(s.net.len(), 1);
        assert_eq!(s.net.device.get(0), "h", "the row's computer wins over the XML's");
    }

    #[test]
    fn event_id_comes_from_the_xml_when_the_row_has_none() {
        let h = ["TimeGenerated", "Computer", "EventID", "EventData"];
        let (s, st, _) = run(&h, &["2024-02-01T10:00:01Z", "", "", XML3]);
        assert_eq!((s.net.len(), s.rejected, st.seen), (1, 0, seen::EVENT_XML));
        assert_eq!(s.net.device.get(0), "xml-host");
        // A damaged event that is not EID 3 is counted, not rejected.
        let (s, _, _) = run(&h, &["t", "", "", "<Event><System><EventID>5</EventID><Data Name=\"A\">&lt x"]);
        assert_eq!((s.rejected, s.counters.get(&OTHER_EVENTS)), (0, Some(&1)));
        let (s, _, _) = run(&h, &["t", "", "3.5", XML3]);
        assert_eq!(s.rejects[0].kind, RejectKind::bad_event_id("3.5"));
        let (s, _, _) = run(&h, &["t", "", "3", ""]);
        assert_eq!(s.rejects[0].kind, RejectKind::NoEventData);
        let (s, _, _) = run(&h, &["t", "", "3", "plain text"]);
        assert_eq!(s.rejects[0].kind, RejectKind::EventDataNotJsonOrXml);
        let (s, st, _) = run(&h, &["t", "", "3", "{\"Image\":"]);
        assert!(matches!(s.rejects[0].kind, RejectKind::BadEventDataJson { .. }));
        assert_eq!(st.seen, seen::WINDOWS_EVENT);
    }

    #[test]
    fn flattened_rows_take_computer_and_time_from_the_first_column_that_has_them() {
        let h = ["@timestamp", "Hostname", "EventID", "Image", "DestinationIp", "DestinationPort", "Initiated"];
        let (s, _, _) = run(&h, &["2020-09-21T19:00:00Z", "WS5", "3", r"C:\a\b.exe", "93.184.216.34", "443", "true"]);
        assert_eq!(s.net.len(), 1);
        assert_eq!((s.net.device.get(0), s.net.proc_name.get(0)), ("ws5", "b.exe"));
        // An event row of no known shape and no provider is counted, never guessed at.
        let (s, _, r) = run(&["EventID", "Message"], &["3", "x"]);
        assert_eq!((r, s.counters.get(&UNKNOWN_EVENTS)), (Routed::Done, Some(&1)));
        let (_, _, r) = run(&["AlertName", "Severity"], &["x", "High"]);
        assert_eq!(r, Routed::Unknown);
    }
}
