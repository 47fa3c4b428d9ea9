//! The in-memory tables: normalized network events, DeviceInfo and VMConnection, columnar.
//!
//! Each table stores one vector per column (interned strings as `DictCol`, addresses as
//! `IpCol`, numbers as plain vectors) plus a `locator` per row that lets the reader that loaded
//! the row re-read every original column for the raw-event view (see `ingest::raw_record`).
//! `segments` says which source file each run of rows came from.

use super::dict::DictCol;
use super::ip::IpCol;
use super::time::Nanos;

/// Sentinel for "no port" / "no number" in `u32` port columns.
pub const NO_PORT: u32 = u32::MAX;

/// A run of rows that came from one source: rows `start..` up to the next segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub start: u32,
    pub source: u32,
}

/// Where rows came from, shared by every table.
#[derive(Clone, Default, Debug)]
pub struct Provenance {
    pub locator: Locators,
    pub segments: Vec<Segment>,
}

impl Provenance {
    /// `(source id, locator)` of `row`.
    pub fn source_of(&self, row: usize) -> Option<(u32, u64)> {
        let i = self.segments.partition_point(|s| s.start as usize <= row);
        let seg = self.segments.get(i.checked_sub(1)?)?;
        Some((seg.source, self.locator.get(row)?))
    }

    pub(crate) fn append(&mut self, source: u32, locators: Locators) {
        let start = self.locator.len() as u32;
        if !locators.is_empty() && self.segments.last().map(|s| s.source) != Some(source) {
            self.segments.push(Segment { start, source });
        }
        self.locator.append(locators);
    }
}

/// One locator per row (a byte offset, a row index, ...), stored as its low 32 bits plus the
/// runs of rows that share the high 32 bits: a file's offsets change their high half once per
/// 4 GiB, so this is 4 bytes a row instead of 8 (40 MB less for ten million events).
#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub struct Locators {
    low: Vec<u32>,
    /// `[first row, high half]` of each run whose high half is not that of the run before
    /// (rows before the first run have a high half of 0); first rows strictly increase.
    high: Vec<[u32; 2]>,
}

impl Locators {
    pub fn len(&self) -> usize {
        self.low.len()
    }

    pub fn is_empty(&self) -> bool {
        self.low.is_empty()
    }

    fn last_high(&self) -> u32 {
        self.high.last().map_or(0, |h| h[1])
    }

    pub fn push(&mut self, locator: u64) {
        let hi = (locator >> 32) as u32;
        if hi != self.last_high() {
            self.high.push([self.low.len() as u32, hi]);
        }
        self.low.push(locator as u32);
    }

    /// The locator of `row`.
    pub fn get(&self, row: usize) -> Option<u64> {
        let lo = *self.low.get(row)?;
        let run = self.high.partition_point(|h| h[0] as usize <= row);
        let hi = run.checked_sub(1).map_or(0, |i| self.high[i][1]);
        Some((u64::from(hi) << 32) | u64::from(lo))
    }

    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.len()).filter_map(|r| self.get(r))
    }

    /// Append the rows of `other` after these (taken whole when this is empty).
    pub fn append(&mut self, other: Locators) {
        if self.is_empty() {
            *self = other;
            return;
        }
        let base = self.low.len() as u32;
        let mut cur = self.last_high();
        // `other`'s rows before its first run have a high half of 0.
        if !other.is_empty() && other.high.first().is_none_or(|h| h[0] > 0) && cur != 0 {
            self.high.push([base, 0]);
            cur = 0;
        }
        for [row, hi] in other.high {
            if hi != cur {
                self.high.push([base + row, hi]);
                cur = hi;
            }
        }
        self.low.extend(other.low);
    }

    pub fn shrink_to_fit(&mut self) {
        self.low.shrink_to_fit();
        self.high.shrink_to_fit();
    }

    pub fn heap_bytes(&self) -> usize {
        self.low.capacity() * 4 + self.high.capacity() * 8
    }

    /// The low halves and the runs of high halves (`[first row, high]` flattened): with
    /// `from_parts`, what a load snapshot stores.
    pub fn parts(&self) -> (&[u32], &[[u32; 2]]) {
        (&self.low, &self.high)
    }

    /// Locators from `parts` of another; Err when the runs are out of order or past the rows.
    pub fn from_parts(low: Vec<u32>, high: Vec<[u32; 2]>) -> Result<Locators, String> {
        let ordered = high.windows(2).all(|w| w[0][0] < w[1][0]);
        if !ordered || high.last().is_some_and(|h| h[0] as usize >= low.len()) {
            return Err("row locators out of order".into());
        }
        Ok(Locators { low, high })
    }
}

impl PartialEq<Vec<u64>> for Locators {
    fn eq(&self, other: &Vec<u64>) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter().copied())
    }
}

impl FromIterator<u64> for Locators {
    fn from_iter<I: IntoIterator<Item = u64>>(iter: I) -> Self {
        let mut l = Locators::default();
        for x in iter {
            l.push(x);
        }
        l
    }
}

/// Append `src` to `dst`, taking `src` whole when `dst` is empty (the first chunk or file), so
/// a load's final columns are moved into the dataset rather than copied.
fn extend_or_take<T>(dst: &mut Vec<T>, src: Vec<T>) {
    if dst.is_empty() {
        *dst = src;
    } else {
        dst.extend(src);
    }
}

/// Which table a row belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum TableKind {
    DeviceNetworkEvents,
    DeviceInfo,
    VMConnection,
}

impl TableKind {
    pub fn name(self) -> &'static str {
        match self {
            TableKind::DeviceNetworkEvents => "DeviceNetworkEvents",
            TableKind::DeviceInfo => "DeviceInfo",
            TableKind::VMConnection => "VMConnection",
        }
    }
}

macro_rules! fields {
    ($(#[$m:meta])* $name:ident { $($v:ident),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[allow(non_camel_case_types)]
        pub enum $name { $($v),* }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),*];
            pub const COUNT: usize = [$(stringify!($v)),*].len();
            pub fn name(self) -> &'static str {
                match self { $($name::$v => stringify!($v)),* }
            }
            /// Match a normalized column name (case-insensitive).
            pub fn from_column(col: &str) -> Option<Self> {
                $(if col.eq_ignore_ascii_case(stringify!($v)) { return Some($name::$v); })*
                None
            }
        }
    };
}

fields!(
    /// Columns of DeviceNetworkEvents the engine keeps. `TimeGenerated` is the fallback for a
    /// missing `Timestamp` (Sentinel's copy of the table carries both).
    NetField {
        Timestamp, DeviceId, DeviceName, ActionType, RemoteIP, RemotePort, RemoteUrl, LocalIP,
        LocalPort, Protocol, RemoteIPType, InitiatingProcessFileName, InitiatingProcessFolderPath,
        InitiatingProcessCommandLine, InitiatingProcessMD5, InitiatingProcessSHA1, InitiatingProcessSHA256,
        InitiatingProcessVersionInfoCompanyName,
        TimeGenerated,
    }
);

fields!(
    /// Columns of DeviceInfo the engine keeps (`AdditionalFields` is parsed at load).
    DevField {
        Timestamp, DeviceId, DeviceName, OSPlatform, DeviceType, IsInternetFacing,
        AdditionalFields, TimeGenerated,
    }
);

fields!(
    /// Columns of VMConnection the engine keeps.
    VmField {
        TimeGenerated, Computer, Direction, ProcessName, SourceIp, DestinationIp, DestinationPort,
        Protocol, RemoteCountry, MaliciousIp, BytesSent, BytesReceived,
    }
);

/// Normalized network events (Defender DeviceNetworkEvents and Sysmon Event ID 3).
#[derive(Clone, Default, Debug)]
pub struct NetEvents {
    pub ts: Vec<Nanos>,
    /// Device identity: DeviceId when non-empty, else the lower-cased DeviceName.
    pub device: DictCol,
    pub device_id: DictCol,
    pub device_name: DictCol,
    pub action: DictCol,
    pub remote_ip: IpCol,
    pub remote_port: Vec<u32>,
    pub remote_url: DictCol,
    pub local_ip: IpCol,
    pub local_port: Vec<u32>,
    pub protocol: DictCol,
    /// The column when present and non-empty, else derived from the address (`model::ip::classify`).
    pub remote_ip_type: DictCol,
    pub proc_name: DictCol,
    pub proc_folder: DictCol,
    pub cmdline: DictCol,
    pub md5: DictCol,
    pub sha1: DictCol,
    pub sha256: DictCol,
    pub company: DictCol,
    pub prov: Provenance,
}

impl NetEvents {
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    /// Append rows built elsewhere (another chunk or file).
    pub fn append(&mut self, o: NetEvents, source: u32) {
        extend_or_take(&mut self.ts, o.ts);
        self.device.append(o.device);
        self.device_id.append(o.device_id);
        self.device_name.append(o.device_name);
        self.action.append(o.action);
        self.remote_ip.append(o.remote_ip);
        extend_or_take(&mut self.remote_port, o.remote_port);
        self.remote_url.append(o.remote_url);
        self.local_ip.append(o.local_ip);
        extend_or_take(&mut self.local_port, o.local_port);
        self.protocol.append(o.protocol);
        self.remote_ip_type.append(o.remote_ip_type);
        self.proc_name.append(o.proc_name);
        self.proc_folder.append(o.proc_folder);
        self.cmdline.append(o.cmdline);
        self.md5.append(o.md5);
        self.sha1.append(o.sha1);
        self.sha256.append(o.sha256);
        self.company.append(o.company);
        self.prov.append(source, o.prov.locator);
    }

    /// Approximate resident bytes of the table (for the memory budget test and `inspect`).
    pub fn heap_bytes(&self) -> usize {
        self.ts.capacity() * 8
            + [
                &self.device,
                &self.device_id,
                &self.device_name,
                &self.action,
                &self.remote_url,
                &self.protocol,
                &self.remote_ip_type,
                &self.proc_name,
                &self.proc_folder,
                &self.cmdline,
                &self.md5,
                &self.sha1,
                &self.sha256,
                &self.company,
            ]
            .iter()
            .map(|c| c.heap_bytes())
            .sum::<usize>()
            + self.remote_ip.heap_bytes()
            + self.local_ip.heap_bytes()
            + (self.remote_port.capacity() + self.local_port.capacity()) * 4
            + self.prov.locator.heap_bytes()
    }

    /// Release spare capacity after loading.
    pub fn shrink(&mut self) {
        self.ts.shrink_to_fit();
        self.remote_port.shrink_to_fit();
        self.local_port.shrink_to_fit();
        self.prov.locator.shrink_to_fit();
        for c in [
            &mut self.device,
            &mut self.device_id,
            &mut self.device_name,
            &mut self.action,
            &mut self.remote_url,
            &mut self.protocol,
            &mut self.remote_ip_type,
            &mut self.proc_name,
            &mut self.proc_folder,
            &mut self.cmdline,
            &mut self.md5,
            &mut self.sha1,
            &mut self.sha256,
            &mut self.company,
        ] {
            c.codes.shrink_to_fit();
        }
        self.remote_ip.codes.shrink_to_fit();
        self.local_ip.codes.shrink_to_fit();
    }
}

/// DeviceInfo rows with the internet-facing fields of `AdditionalFields` parsed out.
#[derive(Clone, Default, Debug)]
pub struct DeviceInfo {
    pub ts: Vec<Nanos>,
    pub device_id: DictCol,
    pub device_name: DictCol,
    pub os_platform: DictCol,
    pub device_type: DictCol,
    /// 0 = false, 1 = true, 2 = absent/null.
    pub is_internet_facing: Vec<u8>,
    /// `InternetFacingLocalPort` from AdditionalFields, `NO_PORT` when absent.
    pub if_local_port: Vec<u32>,
    pub if_reason: DictCol,
    pub if_local_ip: DictCol,
    pub prov: Provenance,
}

impl DeviceInfo {
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    pub fn append(&mut self, o: DeviceInfo, source: u32) {
        extend_or_take(&mut self.ts, o.ts);
        self.device_id.append(o.device_id);
        self.device_name.append(o.device_name);
        self.os_platform.append(o.os_platform);
        self.device_type.append(o.device_type);
        extend_or_take(&mut self.is_internet_facing, o.is_internet_facing);
        extend_or_take(&mut self.if_local_port, o.if_local_port);
        self.if_reason.append(o.if_reason);
        self.if_local_ip.append(o.if_local_ip);
        self.prov.append(source, o.prov.locator);
    }
}

/// VMConnection rows (Azure Monitor VM insights).
#[derive(Clone, Default, Debug)]
pub struct VmConnections {
    pub ts: Vec<Nanos>,
    pub computer: DictCol,
    pub direction: DictCol,
    pub process_name: DictCol,
    pub source_ip: DictCol,
    pub destination_ip: DictCol,
    pub destination_port: Vec<u32>,
    pub protocol: DictCol,
    pub remote_country: DictCol,
    pub malicious_ip: DictCol,
    pub bytes_sent: Vec<i64>,
    pub bytes_received: Vec<i64>,
    pub prov: Provenance,
}

impl VmConnections {
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    pub fn append(&mut self, o: VmConnections, source: u32) {
        extend_or_take(&mut self.ts, o.ts);
        self.computer.append(o.computer);
        self.direction.append(o.direction);
        self.process_name.append(o.process_name);
        self.source_ip.append(o.source_ip);
        self.destination_ip.append(o.destination_ip);
        extend_or_take(&mut self.destination_port, o.destination_port);
        self.protocol.append(o.protocol);
        self.remote_country.append(o.remote_country);
        self.malicious_ip.append(o.malicious_ip);
        extend_or_take(&mut self.bytes_sent, o.bytes_sent);
        extend_or_take(&mut self.bytes_received, o.bytes_received);
        self.prov.append(source, o.prov.locator);
    }
}

/// Strip what exports add to column names: a `[UTC]`/`[Local Time]` suffix, surrounding
/// quotes and spaces, a BOM, and Log Analytics typed suffixes (`_s`, `_d`, `_long`, ...).
/// Returns the bare name and whether the column was marked local time.
pub fn normalize_column(raw: &str) -> (String, bool) {
    let mut s = raw.trim_start_matches('\u{feff}').trim().trim_matches('"').trim();
    let mut local = false;
    if let Some(i) = s.rfind(" [") {
        if s.ends_with(']') {
            let tag = &s[i + 2..s.len() - 1];
            local = tag.to_ascii_lowercase().contains("local");
            s = s[..i].trim();
        }
    }
    const SUFFIXES: [&str; 16] = [
        "_s",
        "_d",
        "_b",
        "_t",
        "_g",
        "_l",
        "_long",
        "_int",
        "_real",
        "_bool",
        "_dynamic",
        "_string",
        "_datetime",
        "_guid",
        "_timespan",
        "_decimal",
    ];
    let mut name = s.to_string();
    for suf in SUFFIXES {
        if name.len() > suf.len() && name.to_ascii_lowercase().ends_with(suf) {
            let bare = &name[..name.len() - suf.len()];
            // Only strip when the bare name is one we know, so real columns ending in `_s`
            // (none in these schemas, but custom tables have them) keep their name.
            if NetField::from_column(bare).is_some()
                || DevField::from_column(bare).is_some()
                || VmField::from_column(bare).is_some()
                || is_known_other(bare)
            {
                name = bare.to_string();
                break;
            }
        }
    }
    (name, local)
}

fn is_known_other(col: &str) -> bool {
    const OTHER: [&str; 8] = ["ReportId", "EventID", "EventData", "Computer", "Type", "Image", "UtcTime", "Initiated"];
    OTHER.iter().any(|o| o.eq_ignore_ascii_case(col))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_are_normalized() {
        assert_eq!(normalize_column("TimeGenerated [UTC]"), ("TimeGenerated".into(), false));
        assert_eq!(normalize_column("\"TimeGenerated [Local Time]\""), ("TimeGenerated".into(), true));
        assert_eq!(normalize_column("\u{feff}Timestamp"), ("Timestamp".into(), false));
        assert_eq!(normalize_column("ReportId_long").0, "ReportId");
        assert_eq!(normalize_column("AdditionalFields_dynamic").0, "AdditionalFields");
        assert_eq!(normalize_column("Timestamp_t").0, "Timestamp");
        assert_eq!(normalize_column("RemoteIP_s").0, "RemoteIP");
        assert_eq!(normalize_column("Custom_s").0, "Custom_s");
    }

    #[test]
    fn provenance_finds_source_by_row() {
        let mut p = Provenance::default();
        p.append(3, [10, 20].into_iter().collect());
        p.append(5, [1].into_iter().collect());
        assert_eq!(p.source_of(0), Some((3, 10)));
        assert_eq!(p.source_of(1), Some((3, 20)));
        assert_eq!(p.source_of(2), Some((5, 1)));
        assert_eq!(p.source_of(3), None);
    }

    #[test]
    fn locators_keep_high_halves_across_pushes_and_appends() {
        let big = |gib: u64, off: u64| (gib << 30) + off;
        let first = [1, big(4, 7), big(4, 9), big(9, 1), big(9, 2)];
        let second = [3, big(9, 5), big(20, 0)];
        let third = [big(20, 1), 2];
        let mut all: Locators = first.into_iter().collect();
        all.append(second.into_iter().collect());
        all.append(third.into_iter().collect());
        all.append(Locators::default());
        let want: Vec<u64> = first.iter().chain(&second).chain(&third).copied().collect();
        assert_eq!(all, want);
        assert_eq!(all, want.iter().copied().collect::<Locators>(), "append and push give the same runs");
        assert_eq!(all.get(want.len()), None);
        let (low, high) = all.parts();
        assert_eq!(Locators::from_parts(low.to_vec(), high.to_vec()), Ok(all.clone()));
        assert!(Locators::from_parts(vec![1], vec![[1, 1]]).is_err(), "a run past the rows");
        assert!(Locators::from_parts(vec![1, 2, 3], vec![[1, 1], [1, 2]]).is_err(), "runs out of order");
    }
}
