//! KQL export: each hunt writes itself, with its current tuning, as one Kusto query for
//! Defender XDR advanced hunting, Sentinel or ADX (`docs/hunts.md` is the contract; every
//! deliberate difference from the seed query is marked in the query with a `//` comment).
//! This module holds what the hunts share: options, errors, the header, `let` lines, literal
//! escaping (no parameter value can leave its string literal), timespans, and the normalized
//! network-event source (Defender rows plus, in Sentinel, Sysmon Event ID 3 from `Event`).

use super::params::{ParamKind, ParamValue};
use super::HuntParams;
use crate::enrich::ti::ThreatIntel;
use crate::model::time::{format_iso, Nanos};
use std::fmt::Write as _;

/// Where the query runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Defender XDR advanced hunting: `Timestamp`, `DeviceNetworkEvents`, `DeviceInfo`.
    Defender,
    /// Microsoft Sentinel / Log Analytics (and ADX with the same tables): `TimeGenerated`.
    Sentinel,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Defender => "defender",
            Dialect::Sentinel => "sentinel",
        }
    }

    /// The event time column.
    pub fn time(self) -> &'static str {
        match self {
            Dialect::Defender => "Timestamp",
            Dialect::Sentinel => "TimeGenerated",
        }
    }
}

/// Where ti-inbound's threat intel comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TiSource {
    /// IPsum's `levels/N.txt` for the current `min_level`, read with `externaldata` (as the seed).
    Ipsum,
    /// The loaded feed's entries that pass `min_level`, as a `datatable`.
    Inline,
    /// Sentinel's `ThreatIntelligenceIndicator` table: active network indicators.
    Sentinel,
}

impl TiSource {
    pub fn name(self) -> &'static str {
        match self {
            TiSource::Ipsum => "ipsum",
            TiSource::Inline => "inline",
            TiSource::Sentinel => "sentinel",
        }
    }
}

/// How to write a query.
#[derive(Clone, Debug)]
pub struct KqlOptions {
    pub dialect: Dialect,
    pub ti_source: TiSource,
    /// Fixed reference time (`--now`); `None` writes `now()`.
    pub now: Option<Nanos>,
    /// rarity's version, for the header.
    pub version: String,
    /// When the query was written, for the header (`None`: not stated).
    pub written: Option<Nanos>,
}

impl Default for KqlOptions {
    fn default() -> Self {
        KqlOptions {
            dialect: Dialect::Sentinel,
            ti_source: TiSource::Ipsum,
            now: None,
            version: env!("CARGO_PKG_VERSION").to_string(),
            written: None,
        }
    }
}

/// The most feed entries `--ti-source inline` embeds.
pub const MAX_INLINE_TI: usize = 10_000;

/// A query could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KqlError {
    #[error("{hunt} has no {dialect} form (it reads {table}, which only {instead} has): use --dialect {instead}")]
    NoForm { hunt: &'static str, dialect: &'static str, table: &'static str, instead: &'static str },
    #[error("--ti-source inline needs a loaded threat-intel feed: give the feed as a PATH or with --ti FILE")]
    NoFeed,
    #[error("--ti-source inline: {entries} feed entries pass min_level, more than the {max} a query can carry; use --ti-source ipsum (or sentinel)")]
    TooManyTi { entries: usize, max: usize },
    #[error("parameter `{key}`: item `{item}` has a control character, which a KQL string cannot carry")]
    Unquotable { key: String, item: String },
}

/// A KQL string literal holding exactly `s`: `"..."` with `\` and `"` escaped. Control
/// characters are refused (the caller names the parameter), so nothing can end the literal
/// or the line.
pub fn string_lit(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c.is_control() => return None,
            c => out.push(c),
        }
    }
    out.push('"');
    Some(out)
}

/// Text safe inside a `//` comment: control characters (line ends) become spaces.
pub fn comment_text(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// A duration as a KQL timespan literal: `30d`, `1h`, `90m`, `45s`, `250ms`, else ticks.
pub fn timespan(d: Nanos) -> String {
    const UNITS: [(i64, &str); 5] = [
        (86_400_000_000_000, "d"),
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
    ];
    if d == 0 {
        return "0s".into();
    }
    for (n, u) in UNITS {
        if d % n == 0 {
            return format!("{}{u}", d / n);
        }
    }
    format!("{}tick", d / 100)
}

/// A query being written.
pub struct Query<'a> {
    pub out: String,
    pub opts: &'a KqlOptions,
    params: &'a HuntParams,
}

impl<'a> Query<'a> {
    /// Start with the header comment: hunt, version, dialect, when written, non-default
    /// parameters, then the reference time and every parameter as a `let`.
    pub fn new(params: &'a HuntParams, opts: &'a KqlOptions) -> Result<Query<'a>, KqlError> {
        let spec = params.hunt.spec();
        let mut q = Query { out: String::new(), opts, params };
        let o = &mut q.out;
        let _ = writeln!(o, "// rarity hunt {}: {}", spec.key, comment_text(spec.summary));
        let _ =
            writeln!(o, "// Written by rarity {} for {}.", comment_text(&opts.version), q_dialect_title(opts.dialect));
        if let Some(w) = opts.written {
            let _ = writeln!(o, "// Written at {}.", format_iso(w));
        }
        let changed = params.changed();
        if changed.is_empty() {
            let _ = writeln!(o, "// Parameters: all at their defaults.");
        } else {
            let list: Vec<String> = changed.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let _ = writeln!(o, "// Non-default parameters: {}", comment_text(&list.join("; ")));
        }
        let _ = writeln!(o, "// The contract is rarity's docs/hunts.md; lines marked (differs) say where it departs from the seed query.");
        match opts.now {
            Some(t) => {
                let _ = writeln!(
                    o,
                    "let RefTime = datetime({}); // reference time for every window (--now)",
                    format_iso(t)
                );
            }
            None => {
                let _ = writeln!(o, "let RefTime = now(); // reference time for every window");
            }
        }
        for (spec, value) in spec.params.iter().zip(&params.values) {
            let lit = q_value(spec.key, spec.kind, value)?;
            let _ = writeln!(q.out, "let {} = {lit}; // {}", spec.key, comment_text(spec.help));
            if let ParamValue::List(items) = value {
                let off: Vec<&str> = items.iter().filter(|i| !i.enabled).map(|i| i.text.as_str()).collect();
                if !off.is_empty() {
                    let _ =
                        writeln!(q.out, "// {} disabled (not applied): {}", spec.key, comment_text(&off.join(", ")));
                }
            }
        }
        Ok(q)
    }

    /// The time column of the dialect.
    pub fn t(&self) -> &'static str {
        self.opts.dialect.time()
    }

    /// Append `text` (already KQL) as is.
    pub fn push(&mut self, text: &str) {
        self.out.push_str(text);
        if !text.ends_with('\n') {
            self.out.push('\n');
        }
    }

    /// The helpers every network hunt uses: `in_nets` (v4 and v6 ranges), `DeriveIPType` and
    /// the `NetEvents` source (`docs/hunts.md` "Network events").
    pub fn net_events(&mut self) {
        let t = self.t();
        self.push(IN_NETS);
        self.push(DERIVE_IP_TYPE);
        match self.opts.dialect {
            Dialect::Defender => self.push(
                "// Network events: DeviceNetworkEvents; RemoteIPType derived from the address where the column is empty.\n\
                 let NetEvents = DeviceNetworkEvents\n\
                 | extend RemoteIPType = iff(isempty(RemoteIPType), DeriveIPType(RemoteIP), RemoteIPType);",
            ),
            Dialect::Sentinel => {
                let s = SYSMON_UNION.replace("{t}", t);
                self.push(&s);
            }
        }
        self.push(
            "// A device is its DeviceId, else its lower-cased DeviceName (Sysmon rows have no DeviceId).\n\
             let DeviceKeyOf = (id:string, name:string) { iff(isnotempty(id), id, tolower(name)) };",
        );
    }

    /// The common server rule over `window` (a let name): DeviceInfo rows inside it with a
    /// platform that are neither workstations nor macOS, as lower-cased names.
    pub fn servers_rule(&self, window: &str) -> String {
        let t = self.t();
        format!(
            "DeviceInfo\n    | where {t} > RefTime - {window}\n    | where isnotempty(OSPlatform) and DeviceType !~ \"Workstation\" and OSPlatform !~ \"macOS\" // (differs: case-insensitive, as every name comparison in rarity)\n    | project DeviceName = tolower(DeviceName)"
        )
    }

    pub fn finish(self) -> String {
        self.out
    }

    pub fn params(&self) -> &HuntParams {
        self.params
    }
}

fn q_dialect_title(d: Dialect) -> &'static str {
    match d {
        Dialect::Defender => "Defender XDR advanced hunting (dialect defender)",
        Dialect::Sentinel => "Microsoft Sentinel / Log Analytics (dialect sentinel)",
    }
}

/// A parameter value as a KQL literal: timespans, numbers, bools, `dynamic([...])` lists.
fn q_value(key: &str, kind: ParamKind, v: &ParamValue) -> Result<String, KqlError> {
    Ok(match v {
        ParamValue::Duration(d) => timespan(*d),
        ParamValue::Integer(i) => i.to_string(),
        ParamValue::Bool(b) => b.to_string(),
        ParamValue::List(items) => {
            let mut parts = Vec::new();
            for it in items.iter().filter(|i| i.enabled) {
                if kind == ParamKind::Ports {
                    match it.text.parse::<u32>() {
                        Ok(p) => parts.push(p.to_string()),
                        Err(_) => return Err(KqlError::Unquotable { key: key.into(), item: comment_text(&it.text) }),
                    }
                } else {
                    parts.push(
                        string_lit(&it.text)
                            .ok_or_else(|| KqlError::Unquotable { key: key.into(), item: comment_text(&it.text) })?,
                    );
                }
            }
            format!("dynamic([{}])", parts.join(", "))
        }
    })
}

/// The threat-intel source of ti-inbound as a `let TiFeed = ...;` with columns
/// `TiNet:string` (an address or CIDR) and `TiCount:int` (null when the entry has none).
pub fn ti_feed(q: &Query, feed: Option<&ThreatIntel>) -> Result<String, KqlError> {
    let level = q.params().integer("min_level");
    Ok(match q.opts.ti_source {
        TiSource::Ipsum => format!(
            "// Threat intel: IPsum levels/{level}.txt (addresses on at least {level} lists), as the seed reads it.\n\
             // externaldata needs a literal URL: when you change min_level, change the N in levels/N.txt too.\n\
             // (differs: every line is an address; the seed's ignoreFirstRecord would drop the first one)\n\
             let TiFeed = externaldata(TiNet:string)[@\"https://raw.githubusercontent.com/stamparm/ipsum/master/levels/{level}.txt\"] with (format=\"txt\")\n\
             | where isnotempty(TiNet) and not(TiNet startswith \"#\")\n\
             | distinct TiNet\n\
             | extend TiCount = toint({level}); // an IPsum level file's addresses each have count N"
        ),
        TiSource::Sentinel => "// Threat intel: Sentinel's active, unexpired network indicators (latest version of each). They carry no\n\
             // list count: min_level does not apply and TiCount is empty.\n\
             let TiFeed = ThreatIntelligenceIndicator\n\
             | summarize arg_max(TimeGenerated, *) by IndicatorId\n\
             | where Active == true and ExpirationDateTime > RefTime\n\
             | extend TiNet = coalesce(NetworkIP, NetworkSourceIP, NetworkDestinationIP, NetworkCidrBlock, NetworkSourceCidrBlock, NetworkDestinationCidrBlock, EmailSourceIpAddress)\n\
             | where isnotempty(TiNet)\n\
             | distinct TiNet\n\
             | extend TiCount = toint(int(null));"
            .to_string(),
        TiSource::Inline => {
            let feed = feed.filter(|f| !f.is_empty()).ok_or(KqlError::NoFeed)?;
            let level32 = u32::try_from(level).unwrap_or(u32::MAX);
            let rows: Vec<(String, Option<u32>)> = feed
                .entries()
                .filter(|(_, hit)| hit.listed(level32))
                .map(|(net, hit)| {
                    let text = if net.prefix_len() == net.max_prefix_len() { net.addr().to_string() } else { net.to_string() };
                    (text, hit.max_count)
                })
                .collect();
            if rows.len() > MAX_INLINE_TI {
                return Err(KqlError::TooManyTi { entries: rows.len(), max: MAX_INLINE_TI });
            }
            let mut s = format!(
                "// Threat intel: the {} loaded feed entries listed at min_level {level} (an entry with no count is listed at every level).\n\
                 let TiFeed = datatable(TiNet:string, TiCount:int) [\n",
                rows.len()
            );
            for (net, count) in &rows {
                // An address or network printed by ipnet: digits, dots, colons, hex and `/` only.
                let lit = string_lit(net).unwrap_or_default();
                let c = count.map_or("int(null)".to_string(), |c| c.to_string());
                let _ = writeln!(s, "    {lit}, {c},");
            }
            s.push_str("]\n| where isnull(TiCount) or TiCount >= min_level;");
            s
        }
    })
}

/// `in_nets(ip, nets)`: whether `ip` is in any CIDR of `nets`, IPv4 and IPv6 alike (a null
/// from a function that does not understand the other family counts as false).
const IN_NETS: &str = "// Whether ip is inside any network of nets (IPv4 and IPv6 entries alike).\n\
let in_nets = (ip:string, nets:dynamic) {\n    coalesce(ipv4_is_in_any_range(ip, nets), false) or coalesce(ipv6_is_in_any_range(ip, nets), false)\n};";

/// RemoteIPType from the address (`docs/hunts.md` "RemoteIPType").
const DERIVE_IP_TYPE: &str = "// RemoteIPType from the address, for rows without one (Sysmon): rarity's rule.\n\
let DeriveIPType = (ip:string) {\n    iff(isnotnull(parse_ipv4(ip)),\n        case(ipv4_is_in_range(ip, \"127.0.0.0/8\"), \"Loopback\",\n            ipv4_is_in_any_range(ip, dynamic([\"10.0.0.0/8\", \"172.16.0.0/12\", \"192.168.0.0/16\"])), \"Private\",\n            ip == \"255.255.255.255\", \"Broadcast\",\n            ipv4_is_in_any_range(ip, dynamic([\"0.0.0.0/8\", \"100.64.0.0/10\", \"169.254.0.0/16\", \"192.0.0.0/24\", \"192.0.2.0/24\", \"198.18.0.0/15\", \"198.51.100.0/24\", \"203.0.113.0/24\", \"224.0.0.0/4\", \"240.0.0.0/4\"])), \"Reserved\",\n            \"Public\"),\n        case(ipv6_compare(ip, \"::1\") == 0, \"Loopback\",\n            ipv6_is_in_range(ip, \"fc00::/7\"), \"Private\",\n            ipv6_is_in_range(ip, \"::ffff:0:0/96\"), \"FourToSixMapping\",\n            ipv6_is_in_any_range(ip, dynamic([\"fe80::/10\", \"ff00::/8\", \"2001:db8::/32\"])), \"Reserved\",\n            ipv6_is_in_range(ip, \"2001::/32\"), \"Teredo\",\n            \"Public\"))\n};";

/// Sentinel's network events: DeviceNetworkEvents plus Sysmon Event ID 3 from the `Event`
/// table, its XML `EventData` parsed as the seed's second server-anomaly query does.
const SYSMON_UNION: &str = "// Network events: DeviceNetworkEvents plus Sysmon Event ID 3 from the Event table (EventData XML parsed as in\n\
// the seed's second query), mapped as rarity maps them (docs/hunts.md \"Network events\").\n\
let NetEvents = union\n    (DeviceNetworkEvents\n    | project TimeGenerated, DeviceId, DeviceName, ActionType, RemoteIP, RemotePort, LocalIP, LocalPort, RemoteUrl, Protocol,\n        RemoteIPType, InitiatingProcessFileName, InitiatingProcessFolderPath, InitiatingProcessMD5, InitiatingProcessCommandLine,\n        InitiatingProcessVersionInfoCompanyName, ReportId),\n    (Event\n    | where Source == \"Microsoft-Windows-Sysmon\" and EventID == 3\n    | extend Data = parse_xml(EventData).DataItem.EventData.Data\n    | mv-apply Item = Data on (summarize Fields = make_bag(bag_pack(tostring(Item[\"@Name\"]), tostring(Item[\"#text\"]))))\n    | extend Image = tostring(Fields.Image), UtcTime = todatetime(tostring(Fields.UtcTime))\n    | project TimeGenerated = iff(isnull(UtcTime), TimeGenerated, UtcTime), DeviceId = \"\", DeviceName = Computer,\n        ActionType = iff(tostring(Fields.Initiated) =~ \"true\", \"ConnectionSuccess\", \"InboundConnectionAccepted\"),\n        RemoteIP = tostring(Fields.DestinationIp), RemotePort = toint(Fields.DestinationPort),\n        LocalIP = tostring(Fields.SourceIp), LocalPort = toint(Fields.SourcePort),\n        RemoteUrl = tostring(Fields.DestinationHostname), Protocol = tostring(Fields.Protocol), RemoteIPType = \"\",\n        InitiatingProcessFileName = extract(@\"([^\\\\/]*)$\", 1, Image), InitiatingProcessFolderPath = Image,\n        InitiatingProcessMD5 = \"\", InitiatingProcessCommandLine = \"\", InitiatingProcessVersionInfoCompanyName = \"\",\n        ReportId = long(null))\n| extend RemoteIPType = iff(isempty(RemoteIPType), DeriveIPType(RemoteIP), RemoteIPType);";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_cannot_break_out() {
        assert_eq!(string_lit(r#"a"b\c"#).as_deref(), Some(r#""a\"b\\c""#));
        assert_eq!(string_lit("x\ny"), None);
        assert_eq!(string_lit("x\u{7f}"), None);
        assert_eq!(comment_text("a\nb\rc"), "a b c");
    }

    #[test]
    fn timespans() {
        let s = 1_000_000_000i64;
        assert_eq!(timespan(30 * 86_400 * s), "30d");
        assert_eq!(timespan(3_600 * s), "1h");
        assert_eq!(timespan(90 * 60 * s), "90m");
        assert_eq!(timespan(45 * s), "45s");
        assert_eq!(timespan(1_500_000), "15000tick");
        assert_eq!(timespan(0), "0s");
    }
}
