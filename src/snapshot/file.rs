//! The snapshot file: a header, the column arrays as raw native-endian blobs, and a trailing
//! record (key, load report, sources, feeds, table of blobs).
//!
//! ```text
//! 0   magic "RARITYSN" | format version u32 | byte-order mark u32 | key id [16]
//! 32  meta offset u64 | meta length u64 | meta checksum u64 | header checksum u64
//! 64  blobs, each at an 8-byte boundary, checksummed per 4 MiB piece
//! ..  meta (codec.rs encoding), its checksum in the header
//! ```
//! Blobs are read straight into the vectors the tables own (one copy from the page cache, in
//! parallel), and every blob's checksum is verified before anything is used. A file of another
//! format version or byte order, or one whose checksums do not match, is rejected with a reason.

use super::codec::{ip_bytes, ip_from_bytes, Dec, Enc};
use super::key::Key;
use super::report::{get_counts, get_report, put_counts, put_report};
use crate::enrich::geoip::GeoIp;
use crate::enrich::ti::{ThreatIntel, TiHit};
use crate::ingest::sniff::Kind;
use crate::ingest::{LoadReport, SourceData, SourceInfo, TableCounts};
use crate::model::dict::Codes;
use crate::model::tables::{Locators, Provenance, Segment};
use crate::model::{DeviceInfo, Dict, DictCol, IpCol, NetEvents, VmConnections};
use crate::store::Dataset;
use bytemuck::Pod;
use ipnet::IpNet;
use rayon::prelude::*;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::xxh3_64;

/// Bump whenever the layout or the meaning of any stored value changes.
pub(crate) const FORMAT_VERSION: u32 = 5;
const MAGIC: &[u8; 8] = b"RARITYSN";
const BYTE_ORDER: u32 = 0x0102_0304;
const HEADER: usize = 64;
const ALIGN: u64 = 8;
/// Blobs are checksummed (and read back in parallel) in pieces of this size.
const PIECE: usize = 4 << 20;

/// Why a snapshot cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("cancelled")]
    Cancelled,
}

type Result<T> = std::result::Result<T, SnapshotError>;

fn invalid(why: impl Into<String>) -> SnapshotError {
    SnapshotError::Invalid(why.into())
}

/// What a column array holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Elem {
    U8 = 1,
    U32 = 2,
    U64 = 3,
    I64 = 4,
    /// `[u32; 3]`: an address index slot.
    Slot = 5,
    U16 = 6,
}

impl Elem {
    fn from_u8(v: u8) -> Option<Elem> {
        [Elem::U8, Elem::U16, Elem::U32, Elem::U64, Elem::I64, Elem::Slot].into_iter().find(|e| *e as u8 == v)
    }

    fn size(self) -> u64 {
        match self {
            Elem::U8 => 1,
            Elem::U16 => 2,
            Elem::U32 => 4,
            Elem::U64 | Elem::I64 => 8,
            Elem::Slot => 12,
        }
    }
}

/// Where one blob sits and its checksum.
#[derive(Clone, Copy, Debug)]
struct Entry {
    elem: Elem,
    off: u64,
    len: u64,
    sum: u64,
}

/// The checksum of a blob from the checksums of its pieces.
fn combine(sums: &[u64]) -> u64 {
    xxh3_64(bytemuck::cast_slice(sums))
}

/// Writes blobs one after another, recording where each went.
struct Out<W: Write> {
    w: W,
    pos: u64,
    toc: Vec<Entry>,
}

impl<W: Write> Out<W> {
    fn pad(&mut self) -> std::io::Result<()> {
        let to = self.pos.next_multiple_of(ALIGN);
        let zeros = [0u8; ALIGN as usize];
        self.w.write_all(&zeros[..(to - self.pos) as usize])?;
        self.pos = to;
        Ok(())
    }

    fn blob<T: Pod>(&mut self, elem: Elem, data: &[T]) -> std::io::Result<()> {
        debug_assert_eq!(std::mem::size_of::<T>() as u64, elem.size());
        self.pad()?;
        let bytes: &[u8] = bytemuck::cast_slice(data);
        let mut sums = Vec::with_capacity(bytes.len() / PIECE + 1);
        for piece in bytes.chunks(PIECE) {
            sums.push(xxh3_64(piece));
            self.w.write_all(piece)?;
        }
        self.toc.push(Entry { elem, off: self.pos, len: bytes.len() as u64, sum: combine(&sums) });
        self.pos += bytes.len() as u64;
        Ok(())
    }

    fn dict(&mut self, c: &DictCol) -> std::io::Result<()> {
        match &c.codes {
            Codes::U8(v) => self.blob(Elem::U8, v)?,
            Codes::U16(v) => self.blob(Elem::U16, v)?,
            Codes::U32(v) => self.blob(Elem::U32, v)?,
        }
        let (arena, ends) = c.dict.parts();
        self.blob(Elem::U8, arena.as_bytes())?;
        self.blob(Elem::U64, ends)?;
        self.blob(Elem::U32, &c.dict.index_keys())
    }

    fn ip(&mut self, c: &IpCol) -> std::io::Result<()> {
        self.blob(Elem::U32, &c.codes)?;
        let mut bytes = Vec::with_capacity(c.ips.len() * 17);
        for ip in &c.ips {
            let (tag, octets) = ip_bytes(*ip);
            bytes.push(tag);
            bytes.extend_from_slice(&octets);
        }
        self.blob(Elem::U8, &bytes)?;
        self.blob(Elem::Slot, c.index_slots())
    }

    fn prov(&mut self, p: &Provenance) -> std::io::Result<()> {
        let (low, high) = p.locator.parts();
        self.blob(Elem::U32, low)?;
        self.blob(Elem::U32, bytemuck::cast_slice::<[u32; 2], u32>(high))?;
        let segs: Vec<u32> = p.segments.iter().flat_map(|s| [s.start, s.source]).collect();
        self.blob(Elem::U32, &segs)
    }

    fn net(&mut self, t: &NetEvents) -> std::io::Result<()> {
        // Every field named, so a new column cannot be left out of snapshots unnoticed.
        let NetEvents {
            ts,
            device,
            device_id,
            device_name,
            action,
            remote_ip,
            remote_port,
            remote_url,
            local_ip,
            local_port,
            protocol,
            remote_ip_type,
            proc_name,
            proc_folder,
            cmdline,
            md5,
            sha1,
            sha256,
            company,
            prov,
        } = t;
        self.blob(Elem::I64, ts)?;
        self.ip(remote_ip)?;
        self.ip(local_ip)?;
        self.blob(Elem::U32, remote_port)?;
        self.blob(Elem::U32, local_port)?;
        self.prov(prov)?;
        // The string columns last and together: the reader rebuilds them in parallel.
        for d in [
            device,
            device_id,
            device_name,
            action,
            remote_url,
            protocol,
            remote_ip_type,
            proc_name,
            proc_folder,
            cmdline,
            md5,
            sha1,
            sha256,
            company,
        ] {
            self.dict(d)?;
        }
        Ok(())
    }

    fn devinfo(&mut self, t: &DeviceInfo) -> std::io::Result<()> {
        let DeviceInfo {
            ts,
            device_id,
            device_name,
            os_platform,
            device_type,
            is_internet_facing,
            if_local_port,
            if_reason,
            if_local_ip,
            prov,
        } = t;
        self.blob(Elem::I64, ts)?;
        self.blob(Elem::U8, is_internet_facing)?;
        self.blob(Elem::U32, if_local_port)?;
        self.prov(prov)?;
        for d in [device_id, device_name, os_platform, device_type, if_reason, if_local_ip] {
            self.dict(d)?;
        }
        Ok(())
    }

    fn vm(&mut self, t: &VmConnections) -> std::io::Result<()> {
        let VmConnections {
            ts,
            computer,
            direction,
            process_name,
            source_ip,
            destination_ip,
            destination_port,
            protocol,
            remote_country,
            malicious_ip,
            bytes_sent,
            bytes_received,
            prov,
        } = t;
        self.blob(Elem::I64, ts)?;
        self.blob(Elem::U32, destination_port)?;
        self.blob(Elem::I64, bytes_sent)?;
        self.blob(Elem::I64, bytes_received)?;
        self.prov(prov)?;
        for d in [computer, direction, process_name, source_ip, destination_ip, protocol, remote_country, malicious_ip]
        {
            self.dict(d)?;
        }
        Ok(())
    }
}

/// A blob read back, typed.
enum Blob {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
    I64(Vec<i64>),
    Slot(Vec<[u32; 3]>),
}

/// Hands out the blobs in the order they were written.
struct Blobs(std::vec::IntoIter<Blob>);

macro_rules! take {
    ($name:ident, $variant:ident, $t:ty) => {
        fn $name(&mut self) -> Result<Vec<$t>> {
            match self.0.next() {
                Some(Blob::$variant(v)) => Ok(v),
                _ => Err(invalid("column list does not match this version's tables")),
            }
        }
    };
}

/// The largest code in `codes`, checked against a dictionary of `n` values.
fn check_codes(codes: &Codes, n: usize, what: &str) -> Result<()> {
    if codes.is_empty() || (codes.max() as usize) < n {
        Ok(())
    } else {
        Err(invalid(format!("{what}: code out of range")))
    }
}

impl Blobs {
    take!(u8s, U8, u8);
    take!(u32s, U32, u32);
    take!(u64s, U64, u64);
    take!(i64s, I64, i64);
    take!(slots, Slot, [u32; 3]);

    /// A string column's codes, in whichever width they were written.
    fn codes(&mut self) -> Result<Codes> {
        match self.0.next() {
            Some(Blob::U8(v)) => Ok(Codes::U8(v)),
            Some(Blob::U16(v)) => Ok(Codes::U16(v)),
            Some(Blob::U32(v)) => Ok(Codes::U32(v)),
            _ => Err(invalid("column list does not match this version's tables")),
        }
    }

    /// The next `N` string columns, rebuilt in parallel (each checks its own text, offsets
    /// and codes, and rebuilds its index).
    fn dicts<const N: usize>(&mut self, rows: usize, table: &str) -> Result<[DictCol; N]> {
        let mut parts = Vec::with_capacity(N);
        for _ in 0..N {
            parts.push((self.codes()?, self.u8s()?, self.u64s()?, self.u32s()?));
        }
        let built = parts
            .into_par_iter()
            .map(|(codes, arena, ends, keys)| {
                if codes.len() != rows {
                    return Err(invalid(format!("{table}: columns of different lengths")));
                }
                let arena = String::from_utf8(arena).map_err(|_| invalid("dictionary text is not UTF-8"))?;
                let dict = Dict::from_parts(arena, ends, &keys).map_err(invalid)?;
                check_codes(&codes, dict.len(), table)?;
                Ok(DictCol { codes, dict })
            })
            .collect::<Result<Vec<DictCol>>>()?;
        built.try_into().map_err(|_| invalid("column count"))
    }

    fn ip(&mut self) -> Result<IpCol> {
        let codes = self.u32s()?;
        let bytes = self.u8s()?;
        if bytes.len() % 17 != 0 {
            return Err(invalid("address list has a partial address"));
        }
        let ips = bytes
            .chunks_exact(17)
            .map(|b| ip_from_bytes(b[0], &b[1..]))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(invalid)?;
        IpCol::from_parts(codes, ips, self.slots()?).map_err(invalid)
    }

    fn prov(&mut self, sources: usize) -> Result<Provenance> {
        let low = self.u32s()?;
        let high = self.u32s()?;
        if high.len() % 2 != 0 {
            return Err(invalid("row locators cut short"));
        }
        let high = high.chunks_exact(2).map(|h| [h[0], h[1]]).collect();
        let locator = Locators::from_parts(low, high).map_err(invalid)?;
        let flat = self.u32s()?;
        if flat.len() % 2 != 0 {
            return Err(invalid("row sources cut short"));
        }
        let segments: Vec<Segment> = flat.chunks_exact(2).map(|s| Segment { start: s[0], source: s[1] }).collect();
        let ordered = segments.windows(2).all(|w| w[0].start <= w[1].start);
        if !ordered || segments.iter().any(|s| s.source as usize >= sources || s.start as usize > locator.len()) {
            return Err(invalid("row sources out of range"));
        }
        Ok(Provenance { locator, segments })
    }

    fn net(&mut self, sources: usize) -> Result<NetEvents> {
        let ts = self.i64s()?;
        let remote_ip = self.ip()?;
        let local_ip = self.ip()?;
        let remote_port = self.u32s()?;
        let local_port = self.u32s()?;
        let prov = self.prov(sources)?;
        let n = ts.len();
        let lens =
            [remote_ip.codes.len(), local_ip.codes.len(), remote_port.len(), local_port.len(), prov.locator.len()];
        same_length(lens.into_iter(), n, "DeviceNetworkEvents")?;
        let [device, device_id, device_name, action, remote_url, protocol, remote_ip_type, proc_name, proc_folder, cmdline, md5, sha1, sha256, company] =
            self.dicts(n, "DeviceNetworkEvents")?;
        Ok(NetEvents {
            ts,
            device,
            device_id,
            device_name,
            action,
            remote_ip,
            remote_port,
            remote_url,
            local_ip,
            local_port,
            protocol,
            remote_ip_type,
            proc_name,
            proc_folder,
            cmdline,
            md5,
            sha1,
            sha256,
            company,
            prov,
        })
    }

    fn devinfo(&mut self, sources: usize) -> Result<DeviceInfo> {
        let ts = self.i64s()?;
        let is_internet_facing = self.u8s()?;
        let if_local_port = self.u32s()?;
        let prov = self.prov(sources)?;
        let n = ts.len();
        same_length([is_internet_facing.len(), if_local_port.len(), prov.locator.len()].into_iter(), n, "DeviceInfo")?;
        let [device_id, device_name, os_platform, device_type, if_reason, if_local_ip] = self.dicts(n, "DeviceInfo")?;
        Ok(DeviceInfo {
            ts,
            device_id,
            device_name,
            os_platform,
            device_type,
            is_internet_facing,
            if_local_port,
            if_reason,
            if_local_ip,
            prov,
        })
    }

    fn vm(&mut self, sources: usize) -> Result<VmConnections> {
        let ts = self.i64s()?;
        let destination_port = self.u32s()?;
        let bytes_sent = self.i64s()?;
        let bytes_received = self.i64s()?;
        let prov = self.prov(sources)?;
        let n = ts.len();
        let lens = [destination_port.len(), bytes_sent.len(), bytes_received.len(), prov.locator.len()];
        same_length(lens.into_iter(), n, "VMConnection")?;
        let [computer, direction, process_name, source_ip, destination_ip, protocol, remote_country, malicious_ip] =
            self.dicts(n, "VMConnection")?;
        Ok(VmConnections {
            ts,
            computer,
            direction,
            process_name,
            source_ip,
            destination_ip,
            destination_port,
            protocol,
            remote_country,
            malicious_ip,
            bytes_sent,
            bytes_received,
            prov,
        })
    }
}

fn same_length(mut lens: impl Iterator<Item = usize>, n: usize, table: &str) -> Result<()> {
    if lens.all(|l| l == n) {
        Ok(())
    } else {
        Err(invalid(format!("{table}: columns of different lengths")))
    }
}

/// What `cache list` shows about a snapshot without reading its tables.
#[derive(Clone, Debug, Default)]
pub struct SnapshotSummary {
    /// Seconds since the Unix epoch when it was written.
    pub created: u64,
    pub rarity_version: String,
    /// The inputs as they were named.
    pub inputs: Vec<String>,
    pub rows: TableCounts,
}

/// Everything besides the column arrays, as read back.
struct Meta {
    material: Vec<u8>,
    report: LoadReport,
    sources: Vec<SourceInfo>,
    /// The GeoIP database's path and description (reopened, not stored).
    geoip: Option<(String, String)>,
    ti: ThreatIntel,
    latest: Option<i64>,
    earliest: Option<i64>,
    toc: Vec<Entry>,
}

/// The same, borrowed from a dataset being written.
struct MetaOut<'a> {
    material: &'a [u8],
    summary: SnapshotSummary,
    report: &'a LoadReport,
    sources: &'a [SourceInfo],
    geoip: Option<(String, String)>,
    ti: &'a ThreatIntel,
    latest: Option<i64>,
    earliest: Option<i64>,
    toc: &'a [Entry],
}

fn kind_tag(k: &Kind) -> Option<u8> {
    Some(match k {
        Kind::Csv => 1,
        Kind::JsonDocument => 2,
        Kind::JsonLines => 3,
        Kind::Evtx => 4,
        _ => return None,
    })
}

fn kind_of(tag: u8) -> Result<Kind> {
    Ok(match tag {
        1 => Kind::Csv,
        2 => Kind::JsonDocument,
        3 => Kind::JsonLines,
        4 => Kind::Evtx,
        _ => return Err(invalid("unknown source format")),
    })
}

#[cfg(unix)]
fn path_to_bytes(p: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes().to_vec()
}

#[cfg(unix)]
fn path_from_bytes(b: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(b))
}

#[cfg(not(unix))]
fn path_to_bytes(p: &Path) -> Vec<u8> {
    p.to_string_lossy().into_owned().into_bytes()
}

#[cfg(not(unix))]
fn path_from_bytes(b: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(b).into_owned())
}

fn put_hit(e: &mut Enc, h: &TiHit) {
    e.bool(h.uncounted);
    e.bool(h.max_count.is_some());
    e.u32(h.max_count.unwrap_or(0));
}

fn get_hit(d: &mut Dec) -> std::result::Result<TiHit, String> {
    let uncounted = d.bool()?;
    let some = d.bool()?;
    let count = d.u32()?;
    Ok(TiHit { uncounted, max_count: some.then_some(count) })
}

fn encode_meta(m: &MetaOut) -> Vec<u8> {
    let mut e = Enc::default();
    e.bytes(m.material);
    e.u64(m.summary.created);
    e.str(&m.summary.rarity_version);
    e.strs(&m.summary.inputs);
    put_counts(&mut e, &m.summary.rows);
    put_report(&mut e, m.report);
    e.len(m.sources.len());
    for s in m.sources {
        let SourceInfo { display, data, kind, columns } = s;
        e.str(display);
        let path = match data {
            SourceData::File(p) => p,
            // `key_of` refuses loads with other sources, so none reach here.
            SourceData::Memory(_) | SourceData::Static(_) => Path::new(""),
        };
        e.bytes(&path_to_bytes(path));
        e.u8(kind_tag(kind).unwrap_or(0));
        e.strs(columns);
    }
    e.bool(m.geoip.is_some());
    if let Some((path, desc)) = &m.geoip {
        e.str(path);
        e.str(desc);
    }
    let (feeds, entries, exact, nets) = m.ti.to_parts();
    e.strs(&feeds);
    e.len(entries);
    e.len(exact.len());
    for (ip, hit) in &exact {
        e.ip(*ip);
        put_hit(&mut e, hit);
    }
    e.len(nets.len());
    for (net, hit) in &nets {
        e.ip(net.addr());
        e.u8(net.prefix_len());
        put_hit(&mut e, hit);
    }
    e.opt_i64(m.latest);
    e.opt_i64(m.earliest);
    e.len(m.toc.len());
    for t in m.toc {
        e.u8(t.elem as u8);
        e.u64(t.off);
        e.u64(t.len);
        e.u64(t.sum);
    }
    e.buf
}

/// The summary alone (for `cache list`), then the rest.
fn decode_summary(d: &mut Dec) -> Result<(Vec<u8>, SnapshotSummary)> {
    let mut f = || -> std::result::Result<(Vec<u8>, SnapshotSummary), String> {
        let material = d.bytes()?.to_vec();
        let created = d.u64()?;
        let rarity_version = d.string()?;
        let inputs = d.strings()?;
        Ok((material, SnapshotSummary { created, rarity_version, inputs, rows: TableCounts::default() }))
    };
    let (material, mut summary) = f().map_err(invalid)?;
    summary.rows = get_counts(d).map_err(invalid)?;
    Ok((material, summary))
}

fn decode_meta(buf: &[u8]) -> Result<Meta> {
    let mut d = Dec::new(buf);
    let (material, _) = decode_summary(&mut d)?;
    let report = get_report(&mut d).map_err(invalid)?;
    let mut rest = || -> std::result::Result<Meta, String> {
        let n = d.len(8)?;
        let mut sources = Vec::with_capacity(n);
        for _ in 0..n {
            let display = d.string()?;
            let path = path_from_bytes(d.bytes()?);
            let kind = kind_of(d.u8()?).map_err(|e| e.to_string())?;
            let columns = d.strings()?;
            sources.push(SourceInfo { display, data: SourceData::File(path), kind, columns });
        }
        let geoip = if d.bool()? { Some((d.string()?, d.string()?)) } else { None };
        let feeds = d.strings()?;
        let entries = d.len(0)?;
        let n = d.len(19)?;
        let exact = (0..n).map(|_| Ok((d.ip()?, get_hit(&mut d)?))).collect::<std::result::Result<Vec<_>, String>>()?;
        let n = d.len(20)?;
        let mut nets = Vec::with_capacity(n);
        for _ in 0..n {
            let ip = d.ip()?;
            let net = IpNet::new(ip, d.u8()?).map_err(|_| "bad network".to_string())?;
            nets.push((net, get_hit(&mut d)?));
        }
        let ti = ThreatIntel::from_parts(feeds, entries, exact, nets);
        let latest = d.opt_i64()?;
        let earliest = d.opt_i64()?;
        let n = d.len(25)?;
        let mut toc = Vec::with_capacity(n);
        for _ in 0..n {
            let elem = Elem::from_u8(d.u8()?).ok_or("unknown column type")?;
            toc.push(Entry { elem, off: d.u64()?, len: d.u64()?, sum: d.u64()? });
        }
        if !d.is_empty() {
            return Err("trailing bytes".into());
        }
        Ok(Meta { material: Vec::new(), report: LoadReport::default(), sources, geoip, ti, latest, earliest, toc })
    };
    let mut meta = rest().map_err(invalid)?;
    meta.material = material;
    meta.report = report;
    Ok(meta)
}

fn header_bytes(key_id: &[u8; 16], meta_off: u64, meta_len: u64, meta_sum: u64) -> [u8; HEADER] {
    let mut h = [0u8; HEADER];
    h[0..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&FORMAT_VERSION.to_ne_bytes());
    h[12..16].copy_from_slice(&BYTE_ORDER.to_ne_bytes());
    h[16..32].copy_from_slice(key_id);
    h[32..40].copy_from_slice(&meta_off.to_ne_bytes());
    h[40..48].copy_from_slice(&meta_len.to_ne_bytes());
    h[48..56].copy_from_slice(&meta_sum.to_ne_bytes());
    let sum = xxh3_64(&h[..56]);
    h[56..64].copy_from_slice(&sum.to_ne_bytes());
    h
}

fn ne_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_ne_bytes(a)
}

fn ne_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_ne_bytes(a)
}

/// The validated header: key id, meta offset, length and checksum.
fn parse_header(h: &[u8], file_len: u64) -> Result<([u8; 16], u64, u64, u64)> {
    if h.len() < HEADER || file_len < HEADER as u64 {
        return Err(invalid("truncated"));
    }
    if &h[0..8] != MAGIC {
        return Err(invalid("not a rarity snapshot"));
    }
    let order = ne_u32(&h[12..16]);
    if order == BYTE_ORDER.swap_bytes() {
        return Err(invalid("written on a machine of the other byte order"));
    }
    let version = ne_u32(&h[8..12]);
    if version != FORMAT_VERSION {
        return Err(invalid(format!("snapshot format version {version}, this rarity reads version {FORMAT_VERSION}")));
    }
    if order != BYTE_ORDER || ne_u64(&h[56..64]) != xxh3_64(&h[..56]) {
        return Err(invalid("damaged header"));
    }
    let mut key = [0u8; 16];
    key.copy_from_slice(&h[16..32]);
    let (off, len, sum) = (ne_u64(&h[32..40]), ne_u64(&h[40..48]), ne_u64(&h[48..56]));
    if off < HEADER as u64 || off.checked_add(len).is_none_or(|end| end != file_len) {
        return Err(invalid("truncated"));
    }
    Ok((key, off, len, sum))
}

/// Write a snapshot of `ds` and `report` for `key` into `out` (a fresh file). Returns its size.
pub(crate) fn write(
    out: &mut std::fs::File,
    key: &Key,
    inputs: &[String],
    ds: &Dataset,
    report: &LoadReport,
) -> Result<u64> {
    let Dataset { net, devinfo, vm, ti, geoip, sources, latest, earliest } = ds;
    if sources.iter().any(|s| kind_tag(&s.kind).is_none() || !matches!(s.data, SourceData::File(_))) {
        return Err(invalid("a source that is not a file"));
    }
    if !super::report::storable(report) {
        return Err(invalid("a rejected row names a column snapshots do not know"));
    }
    let geoip = match geoip {
        None => None,
        Some(g) => {
            // The database is reopened from the file the report names (it is one of the keyed inputs).
            let used = report.files.iter().find(|f| {
                f.skipped.is_none() && f.format.as_deref() == Some(&format!("GeoIP database ({})", g.description()))
            });
            match used {
                Some(f) => Some((f.path.clone(), g.description().to_string())),
                None => return Err(invalid("cannot tell which file the GeoIP database came from")),
            }
        }
    };
    out.write_all(&[0u8; HEADER])?;
    let mut o = Out { w: std::io::BufWriter::with_capacity(1 << 20, &mut *out), pos: HEADER as u64, toc: Vec::new() };
    o.net(net)?;
    o.devinfo(devinfo)?;
    o.vm(vm)?;
    o.pad()?;
    let created = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let rows =
        TableCounts { net: net.len() as u64, dev: devinfo.len() as u64, vm: vm.len() as u64, ti: ti.len() as u64 };
    let toc = std::mem::take(&mut o.toc);
    let meta_bytes = encode_meta(&MetaOut {
        material: &key.material,
        summary: SnapshotSummary {
            created,
            rarity_version: env!("CARGO_PKG_VERSION").into(),
            inputs: inputs.to_vec(),
            rows,
        },
        report,
        sources,
        geoip,
        ti,
        latest: *latest,
        earliest: *earliest,
        toc: &toc,
    });
    let meta_off = o.pos;
    o.w.write_all(&meta_bytes)?;
    o.w.flush()?;
    drop(o);
    out.seek(SeekFrom::Start(0))?;
    out.write_all(&header_bytes(&key.id(), meta_off, meta_bytes.len() as u64, xxh3_64(&meta_bytes)))?;
    out.flush()?;
    Ok(meta_off + meta_bytes.len() as u64)
}

#[cfg(unix)]
fn read_at(f: &std::fs::File, buf: &mut [u8], off: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, off)
}

#[cfg(windows)]
fn read_at(f: &std::fs::File, mut buf: &mut [u8], mut off: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_read(f, buf, off)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
        off += n as u64;
    }
    Ok(())
}

/// Read one blob into a fresh vector, verifying its checksum.
fn read_vec<T: Pod>(f: &std::fs::File, e: &Entry) -> Result<Vec<T>> {
    let n = (e.len / e.elem.size()) as usize;
    let mut v = vec![T::zeroed(); n];
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut v);
    let sums = bytes
        .par_chunks_mut(PIECE)
        .enumerate()
        .map(|(i, piece)| {
            read_at(f, piece, e.off + (i * PIECE) as u64)?;
            Ok(xxh3_64(piece))
        })
        .collect::<std::io::Result<Vec<u64>>>()?;
    if combine(&sums) != e.sum {
        return Err(invalid("checksum mismatch"));
    }
    Ok(v)
}

fn read_blob(f: &std::fs::File, e: &Entry) -> Result<Blob> {
    Ok(match e.elem {
        Elem::U8 => Blob::U8(read_vec(f, e)?),
        Elem::U16 => Blob::U16(read_vec(f, e)?),
        Elem::U32 => Blob::U32(read_vec(f, e)?),
        Elem::U64 => Blob::U64(read_vec(f, e)?),
        Elem::I64 => Blob::I64(read_vec(f, e)?),
        Elem::Slot => Blob::Slot(read_vec(f, e)?),
    })
}

/// Header and meta of an open snapshot.
fn read_meta(f: &std::fs::File) -> Result<([u8; 16], Vec<u8>, u64)> {
    let file_len = f.metadata()?.len();
    let mut h = [0u8; HEADER];
    if file_len < HEADER as u64 {
        return Err(invalid("truncated"));
    }
    read_at(f, &mut h, 0)?;
    let (key, off, len, sum) = parse_header(&h, file_len)?;
    let mut meta = vec![0u8; len as usize];
    read_at(f, &mut meta, off)?;
    if xxh3_64(&meta) != sum {
        return Err(invalid("checksum mismatch"));
    }
    Ok((key, meta, off))
}

/// The summary of the snapshot at `path` (for `cache list`).
pub(crate) fn read_summary(path: &Path) -> Result<SnapshotSummary> {
    let f = std::fs::File::open(path)?;
    let (_, meta, _) = read_meta(&f)?;
    Ok(decode_summary(&mut Dec::new(&meta))?.1)
}

/// A dataset and load report read back from a snapshot.
pub(crate) struct Restored {
    pub dataset: Dataset,
    pub report: LoadReport,
    pub bytes: u64,
}

/// Read the snapshot at `path`, which must have been written for `key`.
pub(crate) fn read(path: &Path, key: &Key, cancelled: &dyn Fn() -> bool) -> Result<Restored> {
    let f = std::fs::File::open(path)?;
    let (id, meta_bytes, meta_off) = read_meta(&f)?;
    if id != key.id() {
        return Err(invalid("made for other inputs"));
    }
    let meta = decode_meta(&meta_bytes)?;
    if meta.material != key.material {
        return Err(invalid("made for other inputs"));
    }
    for e in &meta.toc {
        let inside = e.off >= HEADER as u64 && e.off.checked_add(e.len).is_some_and(|end| end <= meta_off);
        if !inside || e.off % ALIGN != 0 || e.len % e.elem.size() != 0 {
            return Err(invalid("column outside the file"));
        }
    }
    if cancelled() {
        return Err(SnapshotError::Cancelled);
    }
    let blobs = meta.toc.par_iter().map(|e| read_blob(&f, e)).collect::<Result<Vec<Blob>>>()?;
    if cancelled() {
        return Err(SnapshotError::Cancelled);
    }
    let n_sources = meta.sources.len();
    let mut b = Blobs(blobs.into_iter());
    let net = b.net(n_sources)?;
    let devinfo = b.devinfo(n_sources)?;
    let vm = b.vm(n_sources)?;
    if b.0.next().is_some() {
        return Err(invalid("column list does not match this version's tables"));
    }
    let geoip = match &meta.geoip {
        None => None,
        Some((path, desc)) => {
            let db = GeoIp::open(Path::new(path)).map_err(|e| invalid(format!("GeoIP database: {e}")))?;
            if db.description() != desc {
                return Err(invalid("the GeoIP database changed"));
            }
            Some(db)
        }
    };
    let dataset = Dataset {
        net,
        devinfo,
        vm,
        ti: meta.ti,
        geoip,
        sources: meta.sources,
        latest: meta.latest,
        earliest: meta.earliest,
    };
    let bytes = f.metadata()?.len();
    Ok(Restored { dataset, report: meta.report, bytes })
}
