//! Row sinks: where every reader puts rows. A `FileSink` normalizes string values into the
//! table columns (timestamps, addresses, ports, device identity, RemoteIPType), records
//! rejects with their line, and settles day-first vs month-first per time column.
//!
//! Readers may build several sinks in parallel (one per chunk) and `merge` them in order.

pub use super::reject::{Position, RejectKind, RowReject};
use crate::model::dict::trim;
use crate::model::ip::{classify, parse_ip};
use crate::model::tables::{DevField, NetField, VmField, NO_PORT};
use crate::model::time::{self, DateOrder, Nanos, Zone};
use crate::model::{DeviceInfo, NetEvents, TableKind, VmConnections};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// A counted observation: a singular noun (`counted` adds the plural) and the rest of the
/// sentence, e.g. ("Sysmon event", "other than Event ID 3 ...").
pub type Counter = (&'static str, &'static str);

/// The warning for `n` observations of `what`: "1 row with …", "2,037 rows with …".
pub fn counter_text(what: Counter, n: u64) -> String {
    format!("{} {}", crate::model::counted(n, what.0), what.1)
}
/// How many reject reasons a file keeps verbatim (all are counted).
pub use crate::source::{Reject, MAX_LISTED_REJECTS};

impl From<Reject> for RowReject {
    fn from(r: Reject) -> RowReject {
        RowReject { pos: Position::line(r.line), kind: RejectKind::Text { reason: r.reason } }
    }
}

/// Options that shape normalization.
#[derive(Clone, Copy, Debug, Default)]
pub struct SinkOptions {
    pub zone: Zone,
    pub date_order: DateOrder,
}

#[derive(Clone, Debug, Default)]
struct TimeState {
    local: bool,
    ambiguous: Vec<u32>,
    month_first: u64,
    day_first: u64,
}

impl TimeState {
    fn merge(&mut self, o: TimeState, offset: u32) {
        self.ambiguous.extend(o.ambiguous.iter().map(|r| r + offset));
        self.month_first += o.month_first;
        self.day_first += o.day_first;
    }
}

/// Rows of one file (or one chunk of it) on their way into the dataset.
#[derive(Debug, Default)]
pub struct FileSink {
    pub net: NetEvents,
    pub dev: DeviceInfo,
    pub vm: VmConnections,
    opts: SinkOptions,
    times: [TimeState; 3],
    pub rejected: u64,
    /// The first `MAX_LISTED_REJECTS` rejects, in file order.
    pub rejects: Vec<RowReject>,
    /// Counted, non-fatal observations turned into warnings at `finish` ("12 rows ...").
    pub counters: BTreeMap<Counter, u64>,
    net_device: DeviceCache,
    staged: StagedIps,
}

/// The addresses of a forked (chunk) sink's network rows, kept as parsed until the chunk is
/// merged. Nearly every remote address of a chunk is new to it, so interning per chunk and
/// again into the file's column did the work twice; staged, each row is interned once, into
/// the file's column, in row order (so codes still follow first appearance).
#[derive(Debug, Default)]
struct StagedIps {
    on: bool,
    remote: Vec<Option<IpAddr>>,
    local: Vec<Option<IpAddr>>,
}

/// `net.device` codes already derived from a `device_id` code (the same string) or from a
/// `device_name` code (its lower-case form), so each distinct value is interned into `device`
/// (and lower-cased) once instead of once per row. Valid only while `net` has exactly `rows`
/// rows and `device` exactly `distinct` values, i.e. nothing but `try_net` has changed them
/// since (a merge or an outside change empties the cache before use).
#[derive(Debug, Default)]
struct DeviceCache {
    rows: usize,
    distinct: usize,
    from_id: Vec<u32>,
    from_name: Vec<u32>,
}

const UNCACHED: u32 = u32::MAX;

impl DeviceCache {
    /// The `device` code for `code` of the source column, interning `value()` on a miss.
    fn get(
        table: &mut Vec<u32>,
        code: u32,
        device: &mut crate::model::dict::Dict,
        value: impl FnOnce() -> String,
    ) -> u32 {
        let i = code as usize;
        if let Some(&d) = table.get(i) {
            if d != UNCACHED && (d as usize) < device.len() {
                return d;
            }
        }
        let d = device.intern(&value());
        if table.len() <= i {
            table.resize(i + 1, UNCACHED);
        }
        table[i] = d;
        d
    }
}

pub type NetValues<'a> = [&'a str; NetField::COUNT];
pub type DevValues<'a> = [&'a str; DevField::COUNT];
pub type VmValues<'a> = [&'a str; VmField::COUNT];

fn tix(t: TableKind) -> usize {
    match t {
        TableKind::DeviceNetworkEvents => 0,
        TableKind::DeviceInfo => 1,
        TableKind::VMConnection => 2,
    }
}

fn port(s: &str, col: &'static str) -> Result<u32, RejectKind> {
    let t = trim(s);
    if t.is_empty() {
        return Ok(NO_PORT);
    }
    let t = t.strip_suffix(".0").unwrap_or(t);
    match t.parse::<u32>() {
        Ok(p) if p <= 65_535 => Ok(p),
        _ => Err(RejectKind::bad_port(s, col)),
    }
}

fn number(s: &str, col: &'static str) -> Result<i64, RejectKind> {
    let t = trim(s);
    if t.is_empty() {
        return Ok(0);
    }
    if let Ok(v) = t.parse::<i64>() {
        return Ok(v);
    }
    match t.parse::<f64>() {
        Ok(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
        _ => Err(RejectKind::bad_number(s, col)),
    }
}

fn ip_opt(s: &str, col: &'static str) -> Result<Option<std::net::IpAddr>, RejectKind> {
    let t = trim(s);
    if t.is_empty() {
        return Ok(None);
    }
    parse_ip(t).map(Some).ok_or_else(|| RejectKind::bad_ip(s, col))
}

/// Shorten untrusted text quoted in a message (kept here for the readers that import it).
pub use crate::model::clip;

fn parse_bool(s: &str) -> u8 {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => 1,
        "false" | "0" | "no" => 0,
        _ => 2,
    }
}

/// Internet-facing fields of DeviceInfo `AdditionalFields` (a JSON object, possibly as a JSON
/// string holding the object, or null).
fn internet_facing(af: &str) -> Result<(u32, String, String), ()> {
    let t = af.trim();
    if t.is_empty() || t == "null" {
        return Ok((NO_PORT, String::new(), String::new()));
    }
    let mut v: serde_json::Value = serde_json::from_str(t).map_err(|_| ())?;
    if let serde_json::Value::String(inner) = &v {
        v = serde_json::from_str(inner).map_err(|_| ())?;
    }
    let obj = match &v {
        serde_json::Value::Object(o) => o,
        serde_json::Value::Null => return Ok((NO_PORT, String::new(), String::new())),
        _ => return Err(()),
    };
    let get = |k: &str| obj.iter().find(|(key, _)| key.eq_ignore_ascii_case(k)).map(|(_, v)| v);
    let text = |k: &str| match get(k) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let port = match get("InternetFacingLocalPort") {
        Some(serde_json::Value::Number(n)) => n.as_u64().filter(|p| *p <= 65_535).map(|p| p as u32).unwrap_or(NO_PORT),
        Some(serde_json::Value::String(s)) => s.trim().parse::<u32>().ok().filter(|p| *p <= 65_535).unwrap_or(NO_PORT),
        _ => NO_PORT,
    };
    Ok((port, text("InternetFacingReason"), text("InternetFacingLocalIp")))
}

impl FileSink {
    pub fn new(opts: SinkOptions) -> Self {
        FileSink { opts, ..Default::default() }
    }

    /// The time column of `table` in this file holds local wall-clock times (`[Local Time]`).
    pub fn set_local_time(&mut self, table: TableKind, local: bool) {
        self.times[tix(table)].local = local;
    }

    pub fn options(&self) -> SinkOptions {
        self.opts
    }

    /// A sibling sink for a parallel chunk of the same file (same options and local flags).
    /// Its addresses are interned when it is merged (`merge`), not before.
    pub fn fork(&self) -> FileSink {
        let mut s = FileSink::new(self.opts);
        for i in 0..3 {
            s.times[i].local = self.times[i].local;
        }
        s.staged.on = true;
        s
    }

    /// Intern the staged addresses into the network columns and stop staging.
    fn unstage(&mut self) {
        let staged = std::mem::take(&mut self.staged);
        self.net.remote_ip.extend(&staged.remote);
        self.net.local_ip.extend(&staged.local);
    }

    pub fn reject(&mut self, pos: impl Into<Position>, kind: RejectKind) {
        self.rejected += 1;
        if self.rejects.len() < MAX_LISTED_REJECTS {
            self.rejects.push(RowReject { pos: pos.into(), kind });
        }
    }

    pub fn count(&mut self, what: Counter) {
        *self.counters.entry(what).or_insert(0) += 1;
    }

    pub fn rows(&self) -> u64 {
        (self.net.len() + self.dev.len() + self.vm.len()) as u64
    }

    fn time(&mut self, table: TableKind, s: &str, col: &'static str) -> Result<Nanos, RejectKind> {
        let st = &self.times[tix(table)];
        if trim(s).is_empty() {
            return Err(RejectKind::Missing { column: col });
        }
        let p = time::parse(s, self.opts.date_order, if st.local { self.opts.zone } else { Zone::Utc }, st.local)
            .map_err(|e| RejectKind::bad_timestamp(e, col))?;
        let st = &mut self.times[tix(table)];
        match p.evidence {
            Some(DateOrder::MonthFirst) => st.month_first += 1,
            Some(DateOrder::DayFirst) => st.day_first += 1,
            None => {}
        }
        Ok(p.nanos)
    }

    fn mark_ambiguous(&mut self, table: TableKind, s: &str, row: usize) {
        // Re-parse cheaply only for the locale forms (ISO never starts `d/`).
        let b = trim(s).as_bytes();
        if b.len() < 5 || b[4] == b'-' || !b[0].is_ascii_digit() {
            return;
        }
        if let Ok(p) = time::parse(s, self.opts.date_order, Zone::Utc, false) {
            if p.ambiguous {
                self.times[tix(table)].ambiguous.push(row as u32);
            }
        }
    }

    /// Add a network event. Returns false (and records the reject) when a value is malformed.
    pub fn push_net(&mut self, v: &NetValues, line: u64, locator: u64) -> bool {
        match self.try_net(v, locator) {
            Ok(()) => true,
            Err(reason) => {
                self.reject(line, reason);
                false
            }
        }
    }

    fn try_net(&mut self, v: &NetValues, locator: u64) -> Result<(), RejectKind> {
        use NetField as F;
        let (tcol, tval) = if !trim(v[F::Timestamp as usize]).is_empty() {
            ("Timestamp", v[F::Timestamp as usize])
        } else {
            ("TimeGenerated", v[F::TimeGenerated as usize])
        };
        let ts = self.time(TableKind::DeviceNetworkEvents, tval, if tval.is_empty() { "Timestamp" } else { tcol })?;
        let rip = ip_opt(v[F::RemoteIP as usize], "RemoteIP")?;
        let lip = ip_opt(v[F::LocalIP as usize], "LocalIP")?;
        let rport = port(v[F::RemotePort as usize], "RemotePort")?;
        let lport = port(v[F::LocalPort as usize], "LocalPort")?;
        let row = self.net.len();
        self.mark_ambiguous(TableKind::DeviceNetworkEvents, tval, row);
        let n = &mut self.net;
        let cache = &mut self.net_device;
        if cache.rows != n.len() || cache.distinct != n.device.dict.len() {
            cache.from_id.clear();
            cache.from_name.clear();
        }
        n.ts.push(ts);
        let id = trim(v[F::DeviceId as usize]);
        let name = trim(v[F::DeviceName as usize]);
        let id_code = n.device_id.dict.intern(id);
        let name_code = n.device_name.dict.intern(name);
        let device = if id.is_empty() {
            DeviceCache::get(&mut cache.from_name, name_code, &mut n.device.dict, || name.to_lowercase())
        } else {
            DeviceCache::get(&mut cache.from_id, id_code, &mut n.device.dict, || id.to_string())
        };
        n.device.codes.push(device);
        n.device_id.codes.push(id_code);
        n.device_name.codes.push(name_code);
        n.action.push(trim(v[F::ActionType as usize]));
        if self.staged.on {
            self.staged.remote.push(rip);
            self.staged.local.push(lip);
        } else {
            n.remote_ip.push(rip);
            n.local_ip.push(lip);
        }
        n.remote_port.push(rport);
        n.remote_url.push(trim(v[F::RemoteUrl as usize]));
        n.local_port.push(lport);
        n.protocol.push(trim(v[F::Protocol as usize]));
        let ty = trim(v[F::RemoteIPType as usize]);
        if ty.is_empty() {
            n.remote_ip_type.push(rip.map(classify).unwrap_or(""));
        } else {
            n.remote_ip_type.push(ty);
        }
        n.proc_name.push(trim(v[F::InitiatingProcessFileName as usize]));
        n.proc_folder.push(v[F::InitiatingProcessFolderPath as usize]);
        n.cmdline.push(v[F::InitiatingProcessCommandLine as usize]);
        n.md5.push(trim(v[F::InitiatingProcessMD5 as usize]));
        n.sha1.push(trim(v[F::InitiatingProcessSHA1 as usize]));
        n.sha256.push(trim(v[F::InitiatingProcessSHA256 as usize]));
        n.company.push(trim(v[F::InitiatingProcessVersionInfoCompanyName as usize]));
        n.prov.locator.push(locator);
        cache.rows = n.len();
        cache.distinct = n.device.dict.len();
        Ok(())
    }

    /// Add a DeviceInfo row.
    pub fn push_dev(&mut self, v: &DevValues, line: u64, locator: u64) -> bool {
        use DevField as F;
        let (tcol, tval) = if !trim(v[F::Timestamp as usize]).is_empty() {
            ("Timestamp", v[F::Timestamp as usize])
        } else {
            ("TimeGenerated", v[F::TimeGenerated as usize])
        };
        let ts = match self.time(TableKind::DeviceInfo, tval, if tval.is_empty() { "Timestamp" } else { tcol }) {
            Ok(t) => t,
            Err(e) => {
                self.reject(line, e);
                return false;
            }
        };
        let (port, reason, lip) = match internet_facing(v[F::AdditionalFields as usize]) {
            Ok(x) => x,
            Err(()) => {
                self.count(("DeviceInfo row", "with AdditionalFields that is not JSON (read as empty)"));
                (NO_PORT, String::new(), String::new())
            }
        };
        let row = self.dev.len();
        self.mark_ambiguous(TableKind::DeviceInfo, tval, row);
        let d = &mut self.dev;
        d.ts.push(ts);
        d.device_id.push(trim(v[F::DeviceId as usize]));
        d.device_name.push(trim(v[F::DeviceName as usize]));
        d.os_platform.push(trim(v[F::OSPlatform as usize]));
        d.device_type.push(trim(v[F::DeviceType as usize]));
        d.is_internet_facing.push(parse_bool(v[F::IsInternetFacing as usize]));
        d.if_local_port.push(port);
        d.if_reason.push(&reason);
        d.if_local_ip.push(&lip);
        d.prov.locator.push(locator);
        true
    }

    /// Add a VMConnection row.
    pub fn push_vm(&mut self, v: &VmValues, line: u64, locator: u64) -> bool {
        match self.try_vm(v, locator) {
            Ok(()) => true,
            Err(reason) => {
                self.reject(line, reason);
                false
            }
        }
    }

    fn try_vm(&mut self, v: &VmValues, locator: u64) -> Result<(), RejectKind> {
        use VmField as F;
        let tval = v[F::TimeGenerated as usize];
        let ts = self.time(TableKind::VMConnection, tval, "TimeGenerated")?;
        for (f, name) in [(F::SourceIp, "SourceIp"), (F::DestinationIp, "DestinationIp")] {
            ip_opt(v[f as usize], name)?;
        }
        let dport = port(v[F::DestinationPort as usize], "DestinationPort")?;
        let sent = number(v[F::BytesSent as usize], "BytesSent")?;
        let recv = number(v[F::BytesReceived as usize], "BytesReceived")?;
        let row = self.vm.len();
        self.mark_ambiguous(TableKind::VMConnection, tval, row);
        let m = &mut self.vm;
        m.ts.push(ts);
        m.computer.push(trim(v[F::Computer as usize]));
        m.direction.push(trim(v[F::Direction as usize]));
        m.process_name.push(trim(v[F::ProcessName as usize]));
        m.source_ip.push(trim(v[F::SourceIp as usize]));
        m.destination_ip.push(trim(v[F::DestinationIp as usize]));
        m.destination_port.push(dport);
        m.protocol.push(trim(v[F::Protocol as usize]));
        m.remote_country.push(trim(v[F::RemoteCountry as usize]));
        m.malicious_ip.push(trim(v[F::MaliciousIp as usize]));
        m.bytes_sent.push(sent);
        m.bytes_received.push(recv);
        m.prov.locator.push(locator);
        Ok(())
    }

    /// Append a later chunk of the same file.
    pub fn merge(&mut self, mut o: FileSink) {
        if self.staged.on {
            self.unstage();
        }
        let staged = std::mem::take(&mut o.staged);
        let offs = [self.net.len() as u32, self.dev.len() as u32, self.vm.len() as u32];
        let [t0, t1, t2] = o.times;
        self.times[0].merge(t0, offs[0]);
        self.times[1].merge(t1, offs[1]);
        self.times[2].merge(t2, offs[2]);
        self.net.append(o.net, 0);
        self.dev.append(o.dev, 0);
        self.vm.append(o.vm, 0);
        self.net.remote_ip.extend(&staged.remote);
        self.net.local_ip.extend(&staged.local);
        self.net.prov.segments.clear();
        self.dev.prov.segments.clear();
        self.vm.prov.segments.clear();
        for r in o.rejects {
            if self.rejects.len() < MAX_LISTED_REJECTS {
                self.rejects.push(r);
            }
        }
        self.rejected += o.rejected;
        for (k, v) in o.counters {
            *self.counters.entry(k).or_insert(0) += v;
        }
    }

    /// Settle the date order of each time column and fix rows parsed under the wrong one.
    /// Returns warnings for the file report.
    pub fn finish(&mut self) -> Vec<String> {
        if self.staged.on {
            self.unstage();
        }
        let mut warnings = Vec::new();
        let zone = self.opts.zone;
        for (i, table) in
            [TableKind::DeviceNetworkEvents, TableKind::DeviceInfo, TableKind::VMConnection].into_iter().enumerate()
        {
            let st = std::mem::take(&mut self.times[i]);
            let settled = match (st.month_first, st.day_first) {
                (0, 0) => None,
                (m, 0) if m > 0 => Some(DateOrder::MonthFirst),
                (0, d) if d > 0 => Some(DateOrder::DayFirst),
                (m, d) => {
                    warnings.push(format!(
                        "{}: timestamps mix month-first ({m} rows) and day-first ({d} rows); each unambiguous value was read as written, ambiguous ones as {}",
                        table.name(),
                        if m >= d { "month-first" } else { "day-first" }
                    ));
                    Some(if m >= d { DateOrder::MonthFirst } else { DateOrder::DayFirst })
                }
            };
            let ts = match table {
                TableKind::DeviceNetworkEvents => &mut self.net.ts,
                TableKind::DeviceInfo => &mut self.dev.ts,
                TableKind::VMConnection => &mut self.vm.ts,
            };
            if !st.ambiguous.is_empty() {
                match settled {
                    None => warnings.push(format!(
                        "{}: {} timestamps are ambiguous between day-first and month-first and nothing in the file settles it; read as {} (use --date-order to change)",
                        table.name(),
                        st.ambiguous.len(),
                        match self.opts.date_order {
                            DateOrder::MonthFirst => "month-first",
                            DateOrder::DayFirst => "day-first",
                        }
                    )),
                    Some(order) if order != self.opts.date_order => {
                        let local = st.local;
                        let z = if local { zone } else { Zone::Utc };
                        for &r in &st.ambiguous {
                            if let Some(t) = ts.get_mut(r as usize) {
                                if let Some(fixed) = time::swap_day_month(*t, z) {
                                    *t = fixed;
                                }
                            }
                        }
                    }
                    Some(_) => {}
                }
            }
            if st.local && !ts.is_empty() {
                warnings.push(format!(
                    "{}: time column is local time; read as {} (use --tz to change)",
                    table.name(),
                    zone
                ));
            }
        }
        for (what, n) in std::mem::take(&mut self.counters) {
            warnings.push(counter_text(what, n));
        }
        warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::format_iso;

    fn net<'a>(pairs: &[(NetField, &'a str)]) -> NetValues<'a> {
        let mut v = [""; NetField::COUNT];
        for (f, s) in pairs {
            v[*f as usize] = s;
        }
        v
    }

    #[test]
    fn device_identity_stays_right_across_repeats_merges_and_outside_changes() {
        let row = |id: &'static str, name: &'static str| {
            net(&[
                (NetField::Timestamp, "2024-01-01T00:00:00Z"),
                (NetField::DeviceId, id),
                (NetField::DeviceName, name),
                (NetField::RemoteIP, "8.8.8.8"),
            ])
        };
        let mut s = FileSink::new(SinkOptions::default());
        for (id, name) in [("ID1", "Host-A"), ("", "Host-A"), ("ID1", "Host-B"), ("", "HOST-a"), ("", "Host-A")] {
            assert!(s.push_net(&row(id, name), 2, 0));
        }
        let mut chunk = s.fork();
        for (id, name) in [("", "Host-C"), ("ID2", "Host-A"), ("", "Host-A")] {
            assert!(chunk.push_net(&row(id, name), 3, 0));
        }
        s.merge(chunk);
        // A row pushed after a merge must not reuse codes cached before it.
        assert!(s.push_net(&row("", "Host-C"), 4, 0));
        let got: Vec<&str> = (0..s.net.len()).map(|r| s.net.device.get(r)).collect();
        assert_eq!(got, ["ID1", "host-a", "ID1", "host-a", "host-a", "host-c", "ID2", "host-a", "host-c"]);
        // Nor after the column was replaced from outside.
        s.net.device = Default::default();
        s.net.device.codes = vec![0; s.net.len()].into();
        assert!(s.push_net(&row("ID2", "x"), 5, 0));
        assert!(s.push_net(&row("", "Host-A"), 6, 0));
        assert_eq!([s.net.device.get(9), s.net.device.get(10)], ["ID2", "host-a"]);
    }

    #[test]
    fn net_row_normalizes_identity_and_ip_type() {
        let mut s = FileSink::new(SinkOptions::default());
        assert!(s.push_net(
            &net(&[
                (NetField::Timestamp, "2024-01-01T00:00:00Z"),
                (NetField::DeviceName, "HOST-A"),
                (NetField::RemoteIP, "8.8.8.8"),
                (NetField::RemotePort, "53"),
            ]),
            2,
            0
        ));
        assert_eq!(s.net.device.get(0), "host-a");
        assert_eq!(s.net.remote_ip_type.get(0), "Public");
        assert_eq!(s.net.remote_port[0], 53);
    }

    #[test]
    fn bad_values_are_rejected_with_line() {
        let mut s = FileSink::new(SinkOptions::default());
        assert!(!s.push_net(
            &net(&[(NetField::Timestamp, "2024-01-01T00:00:00Z"), (NetField::RemoteIP, "999.1.1.1")]),
            7,
            0
        ));
        assert!(!s.push_net(&net(&[(NetField::Timestamp, "soon")]), 8, 0));
        assert!(!s.push_net(
            &net(&[(NetField::Timestamp, "2024-01-01T00:00:00Z"), (NetField::RemotePort, "70000")]),
            9,
            0
        ));
        let got: Vec<String> = s.rejects.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            got,
            [
                "7: bad IP `999.1.1.1` in RemoteIP",
                "8: bad timestamp `soon` in Timestamp",
                "9: bad port `70000` in RemotePort"
            ]
        );
        assert_eq!(s.rejects[0].kind, RejectKind::bad_ip("999.1.1.1", "RemoteIP"));
        assert_eq!(s.net.len(), 0);
    }

    #[test]
    fn late_day_first_evidence_fixes_earlier_rows() {
        let mut s = FileSink::new(SinkOptions::default());
        s.push_net(&net(&[(NetField::Timestamp, "3/4/2024 10:00:00")]), 2, 0);
        let mut chunk = s.fork();
        chunk.push_net(&net(&[(NetField::Timestamp, "13/4/2024 10:00:00")]), 3, 1);
        s.merge(chunk);
        let w = s.finish();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(format_iso(s.net.ts[0]), "2024-04-03T10:00:00.0000000Z");
        assert_eq!(format_iso(s.net.ts[1]), "2024-04-13T10:00:00.0000000Z");
    }

    #[test]
    fn unsettled_ambiguity_warns() {
        let mut s = FileSink::new(SinkOptions::default());
        s.push_net(&net(&[(NetField::Timestamp, "3/4/2024 10:00:00")]), 2, 0);
        let w = s.finish();
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("--date-order"));
    }

    #[test]
    fn device_info_parses_additional_fields_forms() {
        let mut s = FileSink::new(SinkOptions::default());
        let mut v = [""; DevField::COUNT];
        v[DevField::Timestamp as usize] = "2024-01-01T00:00:00Z";
        v[DevField::IsInternetFacing as usize] = "True";
        let obj = r#"{"InternetFacingLocalPort":3389,"InternetFacingReason":"ExternalNetworkConnection"}"#;
        v[DevField::AdditionalFields as usize] = obj;
        assert!(s.push_dev(&v, 2, 0));
        let as_string = serde_json::to_string(obj).unwrap();
        v[DevField::AdditionalFields as usize] = &as_string;
        assert!(s.push_dev(&v, 3, 0));
        v[DevField::AdditionalFields as usize] = "null";
        assert!(s.push_dev(&v, 4, 0));
        assert_eq!(s.dev.if_local_port, vec![3389, 3389, NO_PORT]);
        assert_eq!(s.dev.if_reason.get(1), "ExternalNetworkConnection");
        assert_eq!(s.dev.is_internet_facing, vec![1, 1, 1]);
    }
}
