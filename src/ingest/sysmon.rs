//! Sysmon Event ID 3 to a network event, as `docs/hunts.md` maps it. Shared by the Sentinel
//! `Event` (XML), `WindowsEvent` (JSON), flattened-JSON, Syslog (Sysmon for Linux) and EVTX readers.

use super::sink::{FileSink, NetValues};
use crate::model::tables::NetField;

/// One Sysmon event as the readers extract it: `EventData` fields by `Data Name`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SysmonEvent {
    pub event_id: Option<u32>,
    /// `Computer` of the event (or of the enclosing table row).
    pub computer: String,
    /// `TimeGenerated` of the enclosing row (fallback when `UtcTime` is missing).
    pub time_generated: String,
    pub data: Vec<(String, String)>,
}

impl SysmonEvent {
    /// The value of `EventData` field `name` (case-insensitive), or "".
    pub fn field(&self, name: &str) -> &str {
        self.data.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).unwrap_or("")
    }
}

/// Counter key for Sysmon events that are not Event ID 3 (reported as one warning per file).
pub const OTHER_EVENTS: crate::ingest::sink::Counter =
    ("Sysmon event", "other than Event ID 3 (not network events; not loaded)");

/// Add `ev` to `sink` when it is Event ID 3; other event IDs are counted, not loaded.
/// Returns true when a network row was added.
pub fn push(sink: &mut FileSink, ev: &SysmonEvent, line: u64, locator: u64) -> bool {
    if ev.event_id != Some(3) {
        sink.count(OTHER_EVENTS);
        return false;
    }
    let image = ev.field("Image");
    let name = image.rsplit(['\\', '/']).next().unwrap_or(image);
    let initiated = ev.field("Initiated").trim().eq_ignore_ascii_case("true");
    let utc = ev.field("UtcTime");
    let mut v: NetValues = [""; NetField::COUNT];
    v[NetField::Timestamp as usize] = if utc.trim().is_empty() { &ev.time_generated } else { utc };
    v[NetField::DeviceName as usize] = &ev.computer;
    v[NetField::ActionType as usize] = if initiated { "ConnectionSuccess" } else { "InboundConnectionAccepted" };
    v[NetField::RemoteIP as usize] = ev.field("DestinationIp");
    v[NetField::RemotePort as usize] = ev.field("DestinationPort");
    v[NetField::LocalIP as usize] = ev.field("SourceIp");
    v[NetField::LocalPort as usize] = ev.field("SourcePort");
    let host = ev.field("DestinationHostname");
    // Sysmon writes `-` for "no value" in newer schemas.
    v[NetField::RemoteUrl as usize] = if host == "-" { "" } else { host };
    v[NetField::Protocol as usize] = ev.field("Protocol");
    v[NetField::InitiatingProcessFileName as usize] = name;
    v[NetField::InitiatingProcessFolderPath as usize] = image;
    sink.push_net(&v, line, locator)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::SinkOptions;

    fn ev(id: u32, data: &[(&str, &str)]) -> SysmonEvent {
        SysmonEvent {
            event_id: Some(id),
            computer: "WS1.corp".into(),
            time_generated: "2024-01-01T00:00:05Z".into(),
            data: data.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
        }
    }

    #[test]
    fn event_3_maps_as_hunts_md_says() {
        let mut s = FileSink::new(SinkOptions::default());
        let e = ev(
            3,
            &[
                ("UtcTime", "2024-01-01 00:00:01.500"),
                ("Image", r"C:\Tools\PuTTY.exe"),
                ("Initiated", "True"),
                ("Protocol", "tcp"),
                ("SourceIp", "10.0.0.5"),
                ("SourcePort", "50000"),
                ("DestinationIp", "203.0.113.9"),
                ("DestinationPort", "22"),
                ("DestinationHostname", "-"),
            ],
        );
        assert!(push(&mut s, &e, 4, 0));
        let n = &s.net;
        assert_eq!(n.proc_name.get(0), "PuTTY.exe");
        assert_eq!(n.proc_folder.get(0), r"C:\Tools\PuTTY.exe");
        assert_eq!(n.action.get(0), "ConnectionSuccess");
        assert_eq!(n.device.get(0), "ws1.corp");
        assert_eq!(n.device_id.get(0), "");
        assert_eq!(n.remote_port[0], 22);
        assert_eq!(n.local_port[0], 50000);
        assert_eq!(n.remote_url.get(0), "");
        assert_eq!(n.remote_ip_type.get(0), "Reserved");
        assert_eq!(crate::model::time::format_iso(n.ts[0]), "2024-01-01T00:00:01.5000000Z");
    }

    #[test]
    fn inbound_and_other_events() {
        let mut s = FileSink::new(SinkOptions::default());
        assert!(push(&mut s, &ev(3, &[("Initiated", "false"), ("DestinationIp", "10.0.0.4")]), 2, 0));
        assert_eq!(s.net.action.get(0), "InboundConnectionAccepted");
        assert_eq!(crate::model::time::format_iso(s.net.ts[0]), "2024-01-01T00:00:05.0000000Z");
        assert!(!push(&mut s, &ev(1, &[]), 3, 0));
        assert_eq!(s.counters.get(&OTHER_EVENTS), Some(&1));
        assert_eq!(s.rejected, 0);
    }
}
