//! Which table a header (CSV header, JSON keys, API schema) describes, and where each kept
//! column sits in it. Shared by the CSV and JSON readers so both recognize tables alike.

use super::sink::{DevValues, NetValues, VmValues};
use crate::model::tables::{normalize_column, DevField, NetField, VmField};

/// What rows with these columns are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Defender DeviceNetworkEvents (or a union export holding them).
    Net,
    DeviceInfo,
    VmConnection,
    /// Sentinel `Event` / `WindowsEvent` rows: `EventID` + `EventData` (XML or JSON).
    SysmonEventData,
    /// Flattened Sysmon (OTRF / Mordor): `EventID`, `Image`, `DestinationIp`, ... as columns.
    SysmonFlat,
    /// Sentinel `Syslog` rows holding Sysmon for Linux XML in `SyslogMessage`.
    SysmonSyslog,
    /// None of the tables rarity reads.
    Unknown,
}

/// The values of one row by column position, however the reader holds them (CSV field
/// spans, parsed JSON values). Positions past the row read as "".
pub trait RowValues {
    fn get(&self, i: usize) -> &str;

    /// The value of an optional column ("" when the header lacks it).
    #[inline]
    fn at(&self, col: Option<usize>) -> &str {
        col.map(|i| self.get(i)).unwrap_or("")
    }
}

impl RowValues for [&str] {
    #[inline]
    fn get(&self, i: usize) -> &str {
        <[&str]>::get(self, i).copied().unwrap_or("")
    }
}

/// Positions of the kept columns in a header, plus the detected target.
#[derive(Clone, Debug)]
pub struct ColumnMap {
    pub target: Target,
    /// Normalized names, in header order.
    pub names: Vec<String>,
    pub net: [Option<usize>; NetField::COUNT],
    pub dev: [Option<usize>; DevField::COUNT],
    pub vm: [Option<usize>; VmField::COUNT],
    /// The time column the target uses was marked `[Local Time]`.
    pub local_time: bool,
    pub event_id: Option<usize>,
    pub event_data: Option<usize>,
    pub computer: Option<usize>,
    pub time_generated: Option<usize>,
    pub syslog_message: Option<usize>,
    /// Columns naming the log a Windows event came from (`Provider`, `Source`, `EventLog`,
    /// `Channel`, ...): Sysmon rows say so there.
    pub provider: Vec<usize>,
    /// Where a flattened Sysmon row names its computer, in order of preference.
    pub flat_computer: Vec<usize>,
    /// Where a flattened Sysmon row carries a time besides `UtcTime`, in order of preference.
    pub flat_time: Vec<usize>,
}

/// Names of the columns that say which log an event came from.
const PROVIDER_COLUMNS: [&str; 6] = ["provider", "providername", "source", "sourcename", "eventlog", "channel"];
const FLAT_COMPUTER_COLUMNS: [&str; 3] = ["computer", "hostname", "computername"];
const FLAT_TIME_COLUMNS: [&str; 3] = ["timegenerated", "@timestamp", "timecreated"];

impl ColumnMap {
    /// Map a header. Names may carry `[UTC]`/`[Local Time]` and typed suffixes.
    pub fn new<S: AsRef<str>>(header: &[S]) -> ColumnMap {
        let mut m = ColumnMap {
            target: Target::Unknown,
            names: Vec::with_capacity(header.len()),
            net: [None; NetField::COUNT],
            dev: [None; DevField::COUNT],
            vm: [None; VmField::COUNT],
            local_time: false,
            event_id: None,
            event_data: None,
            computer: None,
            time_generated: None,
            syslog_message: None,
            provider: Vec::new(),
            flat_computer: Vec::new(),
            flat_time: Vec::new(),
        };
        let mut local = Vec::with_capacity(header.len());
        for (i, raw) in header.iter().enumerate() {
            let (name, is_local) = normalize_column(raw.as_ref());
            local.push(is_local);
            // First occurrence wins: duplicate headers keep their first position.
            if let Some(f) = NetField::from_column(&name) {
                m.net[f as usize].get_or_insert(i);
            }
            if let Some(f) = DevField::from_column(&name) {
                m.dev[f as usize].get_or_insert(i);
            }
            if let Some(f) = VmField::from_column(&name) {
                m.vm[f as usize].get_or_insert(i);
            }
            let slot = match name.to_ascii_lowercase().as_str() {
                "eventid" => Some(&mut m.event_id),
                "eventdata" => Some(&mut m.event_data),
                "computer" => Some(&mut m.computer),
                "timegenerated" => Some(&mut m.time_generated),
                "syslogmessage" => Some(&mut m.syslog_message),
                _ => None,
            };
            if let Some(s) = slot {
                s.get_or_insert(i);
            }
            m.names.push(name);
        }
        let has = |v: &[Option<usize>], f: usize| v[f].is_some();
        let lower: Vec<String> = m.names.iter().map(|n| n.to_ascii_lowercase()).collect();
        let has_name = |n: &str| lower.iter().any(|x| x == n);
        let positions =
            |names: &[&str]| -> Vec<usize> { names.iter().filter_map(|n| lower.iter().position(|x| x == n)).collect() };
        m.provider = positions(&PROVIDER_COLUMNS);
        m.flat_computer = positions(&FLAT_COMPUTER_COLUMNS);
        m.flat_time = positions(&FLAT_TIME_COLUMNS);
        m.target = if m.event_id.is_some() && m.event_data.is_some() {
            Target::SysmonEventData
        } else if m.syslog_message.is_some() {
            Target::SysmonSyslog
        } else if m.event_id.is_some() && has_name("image") && has_name("destinationip") {
            Target::SysmonFlat
        } else if has(&m.net, NetField::RemoteIP as usize)
            && (has(&m.net, NetField::ActionType as usize) || has(&m.net, NetField::RemotePort as usize))
        {
            Target::Net
        } else if has(&m.vm, VmField::Direction as usize)
            && has(&m.vm, VmField::DestinationIp as usize)
            && has(&m.vm, VmField::ProcessName as usize)
        {
            Target::VmConnection
        } else if (has(&m.dev, DevField::DeviceId as usize) || has(&m.dev, DevField::DeviceName as usize))
            // Union exports of event tables carry ActionType; DeviceInfo never does.
            && !has_name("actiontype")
            && (has(&m.dev, DevField::OSPlatform as usize)
                || has(&m.dev, DevField::DeviceType as usize)
                || has(&m.dev, DevField::IsInternetFacing as usize))
        {
            Target::DeviceInfo
        } else {
            Target::Unknown
        };
        let time_col = match m.target {
            Target::Net => m.net[NetField::Timestamp as usize].or(m.net[NetField::TimeGenerated as usize]),
            Target::DeviceInfo => m.dev[DevField::Timestamp as usize].or(m.dev[DevField::TimeGenerated as usize]),
            Target::VmConnection => m.vm[VmField::TimeGenerated as usize],
            _ => m.time_generated,
        };
        m.local_time = time_col.is_some_and(|i| local[i]);
        m
    }

    #[inline]
    pub fn net_values<'a, R: RowValues + ?Sized>(&self, row: &'a R) -> NetValues<'a> {
        std::array::from_fn(|i| row.at(self.net[i]))
    }

    #[inline]
    pub fn dev_values<'a, R: RowValues + ?Sized>(&self, row: &'a R) -> DevValues<'a> {
        std::array::from_fn(|i| row.at(self.dev[i]))
    }

    #[inline]
    pub fn vm_values<'a, R: RowValues + ?Sized>(&self, row: &'a R) -> VmValues<'a> {
        std::array::from_fn(|i| row.at(self.vm[i]))
    }

    /// Whether `row` is a network event (see `has_network_values`).
    pub fn is_network_row<R: RowValues + ?Sized>(&self, row: &R) -> bool {
        has_network_values(&self.net_values(row))
    }

    /// Columns that are not among the kept columns of the target table (they stay in the file
    /// for the raw-event view). Empty for Sysmon and unknown targets.
    pub fn unknown_columns(&self) -> Vec<String> {
        let kept = |name: &str| match self.target {
            Target::Net => NetField::from_column(name).is_some(),
            Target::DeviceInfo => DevField::from_column(name).is_some(),
            Target::VmConnection => VmField::from_column(name).is_some(),
            _ => true,
        };
        self.names.iter().filter(|n| !n.is_empty() && !kept(n)).cloned().collect()
    }

    /// Columns the hunts read that this header lacks (their values are read as empty).
    /// `RemoteIPType` is derived from the address when absent, so it is never missing.
    pub fn missing_columns(&self) -> Vec<&'static str> {
        let has_any = |cols: &[Option<usize>]| cols.iter().any(Option::is_some);
        match self.target {
            Target::Net => {
                let mut out: Vec<&'static str> = [
                    NetField::ActionType,
                    NetField::RemoteIP,
                    NetField::RemotePort,
                    NetField::RemoteUrl,
                    NetField::LocalPort,
                    NetField::Protocol,
                    NetField::InitiatingProcessFileName,
                    NetField::InitiatingProcessCommandLine,
                    NetField::InitiatingProcessMD5,
                    NetField::InitiatingProcessVersionInfoCompanyName,
                ]
                .iter()
                .filter(|f| self.net[**f as usize].is_none())
                .map(|f| f.name())
                .collect();
                if !has_any(&[self.net[NetField::DeviceId as usize], self.net[NetField::DeviceName as usize]]) {
                    out.insert(0, "DeviceId/DeviceName");
                }
                out
            }
            Target::DeviceInfo => [
                DevField::DeviceName,
                DevField::OSPlatform,
                DevField::DeviceType,
                DevField::IsInternetFacing,
                DevField::AdditionalFields,
            ]
            .iter()
            .filter(|f| self.dev[**f as usize].is_none())
            .map(|f| f.name())
            .collect(),
            Target::VmConnection => [
                VmField::Computer,
                VmField::Direction,
                VmField::ProcessName,
                VmField::SourceIp,
                VmField::DestinationPort,
                VmField::Protocol,
                VmField::RemoteCountry,
                VmField::MaliciousIp,
                VmField::BytesSent,
                VmField::BytesReceived,
            ]
            .iter()
            .filter(|f| self.vm[**f as usize].is_none())
            .map(|f| f.name())
            .collect(),
            _ => Vec::new(),
        }
    }

    /// Human name of the target for reports.
    pub fn target_name(&self) -> &'static str {
        match self.target {
            Target::Net => "DeviceNetworkEvents",
            Target::DeviceInfo => "DeviceInfo",
            Target::VmConnection => "VMConnection",
            Target::SysmonEventData => "Sysmon Event ID 3 in EventData",
            Target::SysmonFlat => "flattened Sysmon",
            Target::SysmonSyslog => "Sysmon for Linux in Syslog",
            Target::Unknown => "no supported table",
        }
    }
}

/// A union export row with no address or port is not a network event (a RemoteUrl alone,
/// as DeviceEvents' BrowserLaunchedToOpenUrl carries, does not make one).
pub fn has_network_values(v: &NetValues) -> bool {
    [NetField::RemoteIP, NetField::RemotePort, NetField::LocalIP, NetField::LocalPort]
        .iter()
        .any(|f| !v[*f as usize].trim().is_empty())
}

/// Counter key for union-export rows without network columns.
pub const NON_NETWORK_ROWS: crate::ingest::sink::Counter =
    ("row", "without network columns skipped (a union export's non-network events)");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_tables_from_headers() {
        let t = |h: &[&str]| ColumnMap::new(h).target;
        assert_eq!(t(&["Timestamp", "DeviceId", "ActionType", "RemoteIP", "RemotePort"]), Target::Net);
        assert_eq!(t(&["TimeGenerated [UTC]", "DeviceName", "OSPlatform", "DeviceType"]), Target::DeviceInfo);
        assert_eq!(
            t(&["TimeGenerated", "Computer", "Direction", "ProcessName", "SourceIp", "DestinationIp"]),
            Target::VmConnection
        );
        assert_eq!(t(&["TimeGenerated [Local Time]", "Computer", "EventData", "EventID"]), Target::SysmonEventData);
        assert_eq!(t(&["EventID", "Image", "DestinationIp", "Hostname"]), Target::SysmonFlat);
        assert_eq!(t(&["TimeGenerated", "SyslogMessage", "Computer"]), Target::SysmonSyslog);
        assert_eq!(t(&["TimeGenerated", "AlertName"]), Target::Unknown);
    }

    #[test]
    fn reports_unknown_and_missing_columns() {
        let m =
            ColumnMap::new(&["Timestamp", "DeviceId", "ActionType", "RemoteIP", "RemotePort", "TenantId", "FileName"]);
        assert_eq!(m.unknown_columns(), vec!["TenantId".to_string(), "FileName".to_string()]);
        assert_eq!(
            m.missing_columns(),
            vec![
                "RemoteUrl",
                "LocalPort",
                "Protocol",
                "InitiatingProcessFileName",
                "InitiatingProcessCommandLine",
                "InitiatingProcessMD5",
                "InitiatingProcessVersionInfoCompanyName"
            ]
        );
        let v = ColumnMap::new(&["TimeGenerated", "Computer", "Direction", "ProcessName", "SourceIp", "DestinationIp"]);
        assert!(v.missing_columns().contains(&"RemoteCountry"));
    }

    #[test]
    fn maps_positions_and_local_time() {
        let m = ColumnMap::new(&["\u{feff}RemoteIP_s", "Timestamp [Local Time]", "ActionType"]);
        assert_eq!(m.target, Target::Net);
        assert!(m.local_time);
        let v = m.net_values(&["1.2.3.4", "3/4/2024 10:00", "ConnectionSuccess"][..]);
        assert_eq!(v[NetField::RemoteIP as usize], "1.2.3.4");
        assert_eq!(v[NetField::Timestamp as usize], "3/4/2024 10:00");
        assert_eq!(v[NetField::DeviceId as usize], "");
        assert!(m.is_network_row(&["1.2.3.4", "", ""][..]));
        assert!(!m.is_network_row(&["", "x", "y"][..]));
    }
}
