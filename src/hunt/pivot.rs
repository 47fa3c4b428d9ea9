//! Pivots: every network event in the whole dataset with a given IP, device, process, hash or
//! domain (`rarity pivot`, and the TUI's pivot key), and the engine's reading of such values
//! (URL hosts, domains, the network a one-key exclusion adds).

use super::{Engine, HuntParams, ParamError};
use crate::model::ip::parse_ip;
use std::net::IpAddr;

/// What a value is, for a pivot or a one-key exclusion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Pivot {
    /// RemoteIP or LocalIP equal (an IPv4-mapped IPv6 address equals its IPv4 form).
    Ip,
    /// DeviceName (case-insensitive) or DeviceId.
    Device,
    /// InitiatingProcessFileName, case-insensitive.
    Process,
    /// InitiatingProcessMD5, SHA1 or SHA256, case-insensitive.
    Hash,
    /// RemoteUrl whose host is the domain or a subdomain of it.
    Domain,
}

impl Pivot {
    pub const ALL: [Pivot; 5] = [Pivot::Ip, Pivot::Device, Pivot::Process, Pivot::Hash, Pivot::Domain];

    pub fn name(self) -> &'static str {
        match self {
            Pivot::Ip => "ip",
            Pivot::Device => "device",
            Pivot::Process => "process",
            Pivot::Hash => "hash",
            Pivot::Domain => "domain",
        }
    }

    pub fn from_name(s: &str) -> Option<Pivot> {
        Pivot::ALL.into_iter().find(|p| p.name().eq_ignore_ascii_case(s.trim()))
    }
}

/// A pivot value that cannot be matched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PivotError {
    #[error("`{0}` is not an IP address (e.g. 203.0.113.7 or 2001:db8::1)")]
    BadIp(String),
    #[error("empty {0} value")]
    Empty(&'static str),
}

/// An address as pivots compare it: IPv4-mapped IPv6 as its IPv4 form.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// The host of a RemoteUrl, lower-cased: scheme, user info, port, path, query and a trailing
/// dot removed (`https://Login.Live.com:443/x` -> `login.live.com`).
pub fn url_host(url: &str) -> String {
    let mut s = url.trim();
    if let Some(i) = s.find("://") {
        s = &s[i + 3..];
    }
    if let Some(i) = s.find(['/', '?', '#']) {
        s = &s[..i];
    }
    if let Some(i) = s.rfind('@') {
        s = &s[i + 1..];
    }
    if let Some(rest) = s.strip_prefix('[') {
        s = rest.split(']').next().unwrap_or(rest);
    } else if s.matches(':').count() == 1 {
        s = s.split(':').next().unwrap_or(s);
    }
    s.trim_end_matches('.').to_lowercase()
}

/// A known-domains entry as compared: lower-cased, leading and trailing dots removed.
pub(crate) fn normalize_domain(domain: &str) -> String {
    domain.trim().trim_start_matches('.').trim_end_matches('.').to_lowercase()
}

/// Whether `host` (from `url_host`) is the normalized domain `d` or a subdomain of it.
pub(crate) fn host_in_domain(host: &str, d: &str) -> bool {
    !d.is_empty()
        && (host == d
            || (host.len() > d.len() && host.ends_with(d) && host.as_bytes()[host.len() - d.len() - 1] == b'.'))
}

/// Whether `url`'s host is `domain` or a subdomain of it (a leading `.` on `domain` is ignored).
pub fn url_in_domain(url: &str, domain: &str) -> bool {
    host_in_domain(&url_host(url), &normalize_domain(domain))
}

impl Engine {
    /// Rows of every network event with `value` as a `pivot`, in time order (ties: load order).
    /// A value that matches nothing gives no rows; a malformed IP is an error.
    pub fn pivot(&self, pivot: Pivot, value: &str) -> Result<Vec<usize>, PivotError> {
        let n = &self.ds.net;
        let v = value.trim();
        if v.is_empty() {
            return Err(PivotError::Empty(pivot.name()));
        }
        let keep: Box<dyn Fn(usize) -> bool + Sync> = match pivot {
            Pivot::Ip => {
                let ip = canonical(parse_ip(v).ok_or_else(|| PivotError::BadIp(v.to_string()))?);
                let mask = |col: &crate::model::ip::IpCol| -> Vec<bool> {
                    (0..col.distinct() as u32).map(|c| col.addr(c).is_some_and(|a| canonical(a) == ip)).collect()
                };
                let (remote, local) = (mask(&n.remote_ip), mask(&n.local_ip));
                Box::new(move |r| remote[n.remote_ip.codes[r] as usize] || local[n.local_ip.codes[r] as usize])
            }
            Pivot::Device => {
                let name = n.device_name.dict.mask(|s| s.eq_ignore_ascii_case(v));
                let id = n.device_id.dict.mask(|s| s.eq_ignore_ascii_case(v));
                Box::new(move |r| name[n.device_name.codes.get(r) as usize] || id[n.device_id.codes.get(r) as usize])
            }
            Pivot::Process => {
                let m = n.proc_name.dict.mask(|s| s.eq_ignore_ascii_case(v));
                Box::new(move |r| m[n.proc_name.codes.get(r) as usize])
            }
            Pivot::Hash => {
                let eq = |s: &str| s.eq_ignore_ascii_case(v);
                let (md5, sha1, sha256) = (n.md5.dict.mask(eq), n.sha1.dict.mask(eq), n.sha256.dict.mask(eq));
                Box::new(move |r| {
                    md5[n.md5.codes.get(r) as usize]
                        || sha1[n.sha1.codes.get(r) as usize]
                        || sha256[n.sha256.codes.get(r) as usize]
                })
            }
            Pivot::Domain => {
                let d = normalize_domain(v);
                let m = n.remote_url.dict.mask(|s| !s.is_empty() && host_in_domain(&url_host(s), &d));
                Box::new(move |r| m[n.remote_url.codes.get(r) as usize])
            }
        };
        Ok(super::index::filter_order(&self.common.net_order, keep).into_iter().map(|r| r as usize).collect())
    }
}

/// The list item a one-key exclusion adds for a cell `value` of kind `pivot`: an IP becomes its
/// /32 (/128), or with `wide` its /24 (/64); a URL its host; a process its lower-cased name.
pub fn exclusion_item(pivot: Pivot, value: &str, wide: bool) -> Result<String, String> {
    let v = value.trim();
    match pivot {
        Pivot::Ip => {
            let ip = parse_ip(v).map(canonical).ok_or_else(|| format!("`{v}` is not an IP address"))?;
            let prefix = match (ip, wide) {
                (IpAddr::V4(_), false) => 32,
                (IpAddr::V4(_), true) => 24,
                (IpAddr::V6(_), false) => 128,
                (IpAddr::V6(_), true) => 64,
            };
            ipnet::IpNet::new(ip, prefix).map(|n| n.trunc().to_string()).map_err(|e| e.to_string())
        }
        Pivot::Domain => {
            let h = url_host(v);
            if h.is_empty() {
                Err(format!("`{v}` has no host"))
            } else {
                Ok(h)
            }
        }
        Pivot::Process | Pivot::Device | Pivot::Hash => {
            if v.is_empty() {
                Err("empty value".into())
            } else {
                Ok(v.to_lowercase())
            }
        }
    }
}

/// Add `value` (a cell of kind `pivot`) to the hunt's exclusion list for that kind; returns the
/// parameter key and the item added. Errors when the hunt has no such list or the value is not
/// of that kind.
pub fn exclude(
    params: &mut HuntParams,
    pivot: Pivot,
    value: &str,
    wide: bool,
) -> Result<(&'static str, String), String> {
    let key = params
        .hunt
        .spec()
        .exclusion_param(pivot)
        .ok_or_else(|| format!("{} has no exclusion list for a {}", params.hunt.key(), pivot.name()))?;
    let item = exclusion_item(pivot, value, wide)?;
    params.add_item(key, &item).map_err(|e: ParamError| e.to_string())?;
    Ok((key, item))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_host_drops_scheme_user_port_path_and_final_dot() {
        assert_eq!(url_host("https://user@Login.Live.com.:443/a?b#c"), "login.live.com");
        assert_eq!(url_host("[2001:db8::1]:443"), "2001:db8::1");
        assert_eq!(url_host("x.microsoft.com"), "x.microsoft.com");
    }

    #[test]
    fn exclusion_items_are_networks_hosts_and_names() {
        assert_eq!(exclusion_item(Pivot::Ip, "86.128.13.25", false).unwrap(), "86.128.13.25/32");
        assert_eq!(exclusion_item(Pivot::Ip, "86.128.13.25", true).unwrap(), "86.128.13.0/24");
        assert_eq!(exclusion_item(Pivot::Ip, "::ffff:1.2.3.4", false).unwrap(), "1.2.3.4/32");
        assert_eq!(exclusion_item(Pivot::Ip, "2001:db8::1", true).unwrap(), "2001:db8::/64");
        assert!(exclusion_item(Pivot::Ip, "nope", false).is_err());
        assert_eq!(
            exclusion_item(Pivot::Domain, "https://Login.Live.com.evil.example/x", false).unwrap(),
            "login.live.com.evil.example"
        );
        assert_eq!(exclusion_item(Pivot::Process, "PuTTY.exe", false).unwrap(), "putty.exe");
    }

    #[test]
    fn domains_match_whole_labels_only() {
        assert!(url_in_domain("x.microsoft.com", ".microsoft.com"));
        assert!(url_in_domain("microsoft.com", ".microsoft.com"));
        assert!(!url_in_domain("notmicrosoft.com", "microsoft.com"));
        assert!(!url_in_domain("login.live.com.evil.example", "login.live.com"));
        assert!(!url_in_domain("anything", "."));
    }
}
