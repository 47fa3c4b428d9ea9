//! Hunt 4, server-anomaly: rarely contacted remote IPs of servers (`hunts.md` section 4).
//!
//! The index buckets the events that pass the parameter-free filters (ConnectionSuccess, not
//! Private/Loopback, not 169.254.x) by RemoteIP, each bucket in time order; a run counts each
//! bucket's server events and stops at `max_connections`.

use super::index::{first_after, port_set, text_set, Common, Engine};
use super::{Cell, HuntParams};
use crate::model::ip::ip_text;
use crate::model::Nanos;
use crate::store::Dataset;
use rayon::prelude::*;
use std::net::IpAddr;

/// 16 bytes per candidate event: what the rarity count reads. URL, port and process are read
/// from the table only for the few rare IPs.
#[derive(Clone, Copy, Debug)]
struct Ev {
    ts: Nanos,
    row: u32,
    /// Folded DeviceName.
    name: u32,
}

#[derive(Debug, Default)]
pub(crate) struct Index {
    offsets: Vec<usize>,
    evs: Vec<Ev>,
    /// `url_host` of every RemoteUrl dictionary entry.
    hosts: Vec<String>,
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
fn normalize_domain(domain: &str) -> String {
    domain.trim().trim_start_matches('.').trim_end_matches('.').to_lowercase()
}

/// Whether `host` (from `url_host`) is the normalized domain `d` or a subdomain of it.
fn host_in_domain(host: &str, d: &str) -> bool {
    !d.is_empty()
        && (host == d
            || (host.len() > d.len() && host.ends_with(d) && host.as_bytes()[host.len() - d.len() - 1] == b'.'))
}

/// Whether `url`'s host is `domain` or a subdomain of it (a leading `.` on `domain` is ignored).
pub fn url_in_domain(url: &str, domain: &str) -> bool {
    host_in_domain(&url_host(url), &normalize_domain(domain))
}

/// Whether `ip`'s text starts with `169.254.` (IPv4 link-local).
fn is_link_local_v4(ip: Option<IpAddr>) -> bool {
    matches!(ip, Some(IpAddr::V4(v4)) if v4.octets()[0] == 169 && v4.octets()[1] == 254)
}

struct Filter {
    servers: Vec<bool>,
    lookback_from: Nanos,
    recent_from: Nanos,
    max_connections: i64,
    domains: Vec<String>,
}

impl Index {
    pub fn build(ds: &Dataset, c: &Common) -> Index {
        let n = &ds.net;
        let success = super::index::mask_any(&n.action.dict, &["connectionsuccess"]);
        let private = super::index::mask_any(&n.remote_ip_type.dict, &["private", "loopback"]);
        let order = super::index::filter_order(&c.net_order, |r| {
            success[n.action.codes[r] as usize]
                && !private[n.remote_ip_type.codes[r] as usize]
                && !is_link_local_v4(n.remote_ip.get(r))
        });
        let codes = n.remote_ip.distinct();
        let mut offsets = vec![0usize; codes + 1];
        for &r in &order {
            offsets[n.remote_ip.codes[r as usize] as usize + 1] += 1;
        }
        for i in 0..codes {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut evs = vec![Ev { ts: 0, row: 0, name: 0 }; order.len()];
        for &r in &order {
            let ri = r as usize;
            let ip = n.remote_ip.codes[ri] as usize;
            evs[fill[ip]] = Ev { ts: n.ts[ri], row: r, name: c.net_name[n.device_name.codes[ri] as usize] };
            fill[ip] += 1;
        }
        let urls: Vec<&str> = n.remote_url.dict.iter().map(|(_, s)| s).collect();
        let hosts = urls.par_iter().map(|u| url_host(u)).collect();
        Index { offsets, evs, hosts }
    }

    pub fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * 8
            + self.evs.capacity() * std::mem::size_of::<Ev>()
            + self.hosts.iter().map(|h| h.capacity() + 24).sum::<usize>()
    }

    fn filter(&self, eng: &Engine, p: &HuntParams, now: Nanos) -> Filter {
        let lookback_from = now.saturating_sub(p.duration("lookback"));
        let named = p.enabled("servers");
        let servers =
            if named.is_empty() { eng.common.servers_since(lookback_from) } else { eng.common.servers_named(&named) };
        Filter {
            servers,
            lookback_from,
            recent_from: now.saturating_sub(p.duration("recent")),
            max_connections: p.integer("max_connections"),
            domains: p.enabled("known_domains").iter().map(|d| normalize_domain(d)).collect(),
        }
    }

    fn bucket(&self, ip: usize) -> &[Ev] {
        &self.evs[self.offsets[ip]..self.offsets[ip + 1]]
    }

    /// The recent server events of `ip` when it is a rare, not known-good IP; with its
    /// `count_` and URL set over the lookback.
    fn rare_ip(&self, ds: &Dataset, f: &Filter, ip: usize) -> Option<(i64, Vec<String>, Vec<Ev>)> {
        let b = self.bucket(ip);
        let mut count = 0i64;
        let look = &b[first_after(b, f.lookback_from, |e| e.ts)..];
        for e in look {
            if f.servers[e.name as usize] {
                count += 1;
                if count >= f.max_connections {
                    return None;
                }
            }
        }
        if count == 0 {
            return None;
        }
        let recent: Vec<Ev> = b[first_after(b, f.recent_from, |e| e.ts)..]
            .iter()
            .filter(|e| f.servers[e.name as usize])
            .copied()
            .collect();
        if recent.is_empty() {
            return None;
        }
        let urls = &ds.net.remote_url.codes;
        let mut url_codes: Vec<u32> = look
            .iter()
            .filter(|e| f.servers[e.name as usize])
            .map(|e| urls[e.row as usize])
            .filter(|&u| u != 0)
            .collect();
        url_codes.sort_unstable();
        url_codes.dedup();
        let dict = &ds.net.remote_url.dict;
        if url_codes.iter().any(|&u| f.domains.iter().any(|d| host_in_domain(&self.hosts[u as usize], d))) {
            return None;
        }
        Some((count, text_set(url_codes.iter().map(|&u| dict.get(u))), recent))
    }

    pub fn run(&self, eng: &Engine, p: &HuntParams, now: Nanos) -> Vec<Vec<Cell>> {
        let ds = &eng.ds;
        let f = self.filter(eng, p, now);
        let c = &eng.common;
        let mut rows: Vec<(i64, String, Vec<Cell>)> = (0..self.offsets.len() - 1)
            .into_par_iter()
            .filter_map(|ip| {
                let (count, urls, recent) = self.rare_ip(ds, &f, ip)?;
                let ip_s = ds.net.remote_ip.addr(ip as u32).map(ip_text).unwrap_or_default();
                let first = recent.iter().map(|e| e.ts).min().unwrap_or_default();
                let last = recent.iter().map(|e| e.ts).max().unwrap_or_default();
                let cells = vec![
                    super::text(&ip_s),
                    Cell::Int(count),
                    Cell::TextSet(urls),
                    Cell::Int(recent.len() as i64),
                    Cell::TextSet(text_set(recent.iter().map(|e| c.devnames.names[e.name as usize].as_str()))),
                    Cell::IntSet(port_set(recent.iter().map(|e| ds.net.remote_port[e.row as usize]))),
                    Cell::TextSet(text_set(recent.iter().map(|e| {
                        c.procs.names[c.net_proc[ds.net.proc_name.codes[e.row as usize] as usize] as usize].as_str()
                    }))),
                    Cell::Time(first),
                    Cell::Time(last),
                ];
                Some((count, ip_s, cells))
            })
            .collect();
        rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        rows.into_iter().map(|r| r.2).collect()
    }

    /// Network-event rows behind a result row: the recent server events of its RemoteIP.
    pub fn events(&self, eng: &Engine, p: &HuntParams, now: Nanos, key: &[Cell]) -> Vec<usize> {
        let ds = &eng.ds;
        let Some(ip) = key.first().and_then(|c| super::ip_code(ds, c)) else { return Vec::new() };
        let f = self.filter(eng, p, now);
        match self.rare_ip(ds, &f, ip as usize) {
            Some((_, _, recent)) => recent.iter().map(|e| e.row as usize).collect(),
            None => Vec::new(),
        }
    }
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
    fn domains_match_whole_labels_only() {
        assert!(url_in_domain("x.microsoft.com", ".microsoft.com"));
        assert!(url_in_domain("microsoft.com", ".microsoft.com"));
        assert!(!url_in_domain("notmicrosoft.com", "microsoft.com"));
        assert!(!url_in_domain("login.live.com.evil.example", "login.live.com"));
        assert!(!url_in_domain("anything", "."));
    }
}
