//! A small MaxMind DB (format v2) writer for the country databases the generator ships:
//! an IPv6 search tree (IPv4 lives under `::/96`, as in MaxMind's own databases), 32-bit
//! records, a deduplicated data section and the metadata map.

use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;

/// A value in the data section (the types these databases need).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    U16(u16),
    U32(u32),
    U64(u64),
    Map(Vec<(String, Value)>),
    Array(Vec<Value>),
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(s.to_string())
    }

    pub fn map<const N: usize>(entries: [(&str, Value); N]) -> Value {
        Value::Map(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }
}

/// Which record shape to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// MaxMind / DB-IP: `{"country":{"iso_code":"GB","names":{"en":"United Kingdom"}}}`.
    MaxMind,
    /// ip-location-db: `{"country_code":"GB"}`.
    IpLocationDb,
}

/// The country record for `iso` / `name` in `layout`.
pub fn country_record(layout: Layout, iso: &str, name: &str) -> Value {
    match layout {
        Layout::MaxMind => Value::map([(
            "country",
            Value::map([("iso_code", Value::str(iso)), ("names", Value::map([("en", Value::str(name))]))]),
        )]),
        Layout::IpLocationDb => Value::map([("country_code", Value::str(iso))]),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rec {
    Empty,
    Node(u32),
    Data(u32),
}

/// Builds a database in memory; `to_bytes` serializes it.
pub struct Writer {
    database_type: String,
    description: String,
    build_epoch: u64,
    nodes: Vec<[Rec; 2]>,
    data: Vec<u8>,
    offsets: HashMap<Vec<u8>, u32>,
}

fn put_control(out: &mut Vec<u8>, ty: u8, size: usize) {
    let (first, extra): (u8, Vec<u8>) = if size < 29 {
        (size as u8, vec![])
    } else if size < 29 + 256 {
        (29, vec![(size - 29) as u8])
    } else if size < 285 + 65_536 {
        let s = size - 285;
        (30, vec![(s >> 8) as u8, s as u8])
    } else {
        let s = size - 65_821;
        (31, vec![(s >> 16) as u8, (s >> 8) as u8, s as u8])
    };
    if ty <= 7 {
        out.push((ty << 5) | first);
    } else {
        out.push(first);
        out.push(ty - 7);
    }
    out.extend(extra);
}

fn put_uint(out: &mut Vec<u8>, ty: u8, v: u64) {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    put_control(out, ty, 8 - skip);
    out.extend_from_slice(&bytes[skip..]);
}

fn encode(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Str(s) => {
            put_control(out, 2, s.len());
            out.extend_from_slice(s.as_bytes());
        }
        Value::U16(n) => put_uint(out, 5, u64::from(*n)),
        Value::U32(n) => put_uint(out, 6, u64::from(*n)),
        Value::U64(n) => put_uint(out, 9, *n),
        Value::Map(entries) => {
            put_control(out, 7, entries.len());
            for (k, v) in entries {
                encode(out, &Value::Str(k.clone()));
                encode(out, v);
            }
        }
        Value::Array(items) => {
            put_control(out, 11, items.len());
            for v in items {
                encode(out, v);
            }
        }
    }
}

/// The 128-bit tree key of `ip` (IPv4 under `::/96`) and its prefix length in that tree.
fn key(net: &IpNet) -> (u128, u8) {
    match net.trunc() {
        IpNet::V4(n) => (u128::from(u32::from(n.addr())), 96 + n.prefix_len()),
        IpNet::V6(n) => (u128::from(n.addr()), n.prefix_len()),
    }
}

impl Writer {
    pub fn new(database_type: &str, description: &str, build_epoch: u64) -> Writer {
        Writer {
            database_type: database_type.into(),
            description: description.into(),
            build_epoch,
            nodes: vec![[Rec::Empty; 2]],
            data: Vec::new(),
            offsets: HashMap::new(),
        }
    }

    fn data_offset(&mut self, v: &Value) -> u32 {
        let mut buf = Vec::new();
        encode(&mut buf, v);
        if let Some(&o) = self.offsets.get(&buf) {
            return o;
        }
        let o = self.data.len() as u32;
        self.data.extend_from_slice(&buf);
        self.offsets.insert(buf, o);
        o
    }

    /// Map `net` to `value`. A more specific network inserted later overrides part of a wider one.
    pub fn insert(&mut self, net: IpNet, value: &Value) {
        let off = self.data_offset(value);
        let (bits, plen) = key(&net);
        let mut node = 0usize;
        for depth in 0..plen {
            let bit = ((bits >> (127 - depth)) & 1) as usize;
            if depth + 1 == plen {
                self.nodes[node][bit] = Rec::Data(off);
                return;
            }
            node = match self.nodes[node][bit] {
                Rec::Node(n) => n as usize,
                other => {
                    // Empty, or a wider network's data that this one splits: the new node
                    // starts with that data on both sides.
                    let n = self.nodes.len();
                    self.nodes.push([other, other]);
                    self.nodes[node][bit] = Rec::Node(n as u32);
                    n
                }
            };
        }
        // plen == 0: the whole address space.
        self.nodes[0] = [Rec::Data(off); 2];
    }

    /// Map one address (a host network).
    pub fn insert_ip(&mut self, ip: IpAddr, value: &Value) {
        self.insert(IpNet::from(ip), value);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let n = self.nodes.len() as u32;
        let mut out = Vec::with_capacity(self.nodes.len() * 8 + 16 + self.data.len() + 512);
        for pair in &self.nodes {
            for r in pair {
                let v = match *r {
                    Rec::Empty => n,
                    Rec::Node(i) => i,
                    Rec::Data(o) => n + 16 + o,
                };
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
        out.extend_from_slice(&[0u8; 16]);
        out.extend_from_slice(&self.data);
        out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
        let meta = Value::map([
            ("binary_format_major_version", Value::U16(2)),
            ("binary_format_minor_version", Value::U16(0)),
            ("build_epoch", Value::U64(self.build_epoch)),
            ("database_type", Value::str(&self.database_type)),
            ("description", Value::map([("en", Value::str(&self.description))])),
            ("ip_version", Value::U16(6)),
            ("languages", Value::Array(vec![Value::str("en")])),
            ("node_count", Value::U32(n)),
            ("record_size", Value::U16(32)),
        ]);
        encode(&mut out, &meta);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_maxminddb() {
        let mut w = Writer::new("Test-Country", "test", 1_700_000_000);
        let gb = country_record(Layout::MaxMind, "GB", "United Kingdom");
        w.insert("81.2.69.0/24".parse().unwrap(), &gb);
        w.insert("81.2.69.142/32".parse().unwrap(), &country_record(Layout::MaxMind, "SE", "Sweden"));
        w.insert("2001:db8::/32".parse().unwrap(), &gb);
        let bytes = w.to_bytes();
        let r = maxminddb::Reader::from_source(bytes).unwrap();
        r.verify().unwrap();
        let iso = |ip: &str| -> Option<String> {
            r.lookup(ip.parse().unwrap()).unwrap().decode_path(&maxminddb::path!["country", "iso_code"]).unwrap()
        };
        assert_eq!(iso("81.2.69.1").as_deref(), Some("GB"));
        assert_eq!(iso("81.2.69.142").as_deref(), Some("SE"));
        assert_eq!(iso("81.2.69.143").as_deref(), Some("GB"));
        assert_eq!(iso("2001:db8::5").as_deref(), Some("GB"));
        assert_eq!(iso("81.2.70.1"), None);
        assert_eq!(r.metadata().database_type, "Test-Country");
    }

    #[test]
    fn long_strings_use_extended_sizes() {
        let mut w = Writer::new("T", "t", 0);
        let long = "x".repeat(300);
        w.insert("1.0.0.0/8".parse().unwrap(), &Value::map([("country_code", Value::str(&long))]));
        let r = maxminddb::Reader::from_source(w.to_bytes()).unwrap();
        let got: Option<String> =
            r.lookup("1.2.3.4".parse().unwrap()).unwrap().decode_path(&maxminddb::path!["country_code"]).unwrap();
        assert_eq!(got.as_deref(), Some(long.as_str()));
    }
}
