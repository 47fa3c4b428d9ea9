//! GeoIP country lookups over a MaxMind-format `.mmdb` (MaxMind / DB-IP layout with
//! `country.names.en` / `country.iso_code`, or the ip-location-db layout with `country_code`).

use crate::source::{LoadError, SourceData};
use maxminddb::Reader;
use serde::Deserialize;
use std::io::Read;
use std::net::IpAddr;
use std::path::Path;

/// The largest database read (the biggest commercial City databases are a few hundred MiB).
/// The whole file is held in memory, so a larger file, or an endless stream such as
/// `/dev/zero`, is refused rather than read.
pub const MAX_DB_BYTES: u64 = 1 << 30;

/// The database bytes: read from a file or compiled into the binary (the sample fleet's).
enum Bytes {
    Owned(Vec<u8>),
    Static(&'static [u8]),
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Static(b) => b,
        }
    }
}

/// The parts of a record the country lookup reads; every other key is skipped.
#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    country: Option<CountryPart<'a>>,
    #[serde(borrow)]
    country_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct CountryPart<'a> {
    #[serde(borrow)]
    iso_code: Option<&'a str>,
    #[serde(borrow)]
    names: Option<Names<'a>>,
}

#[derive(Deserialize)]
struct Names<'a> {
    #[serde(borrow)]
    en: Option<&'a str>,
}

/// An open GeoIP database.
pub struct GeoIp {
    reader: Reader<Bytes>,
    description: String,
}

impl GeoIp {
    pub fn open(path: &Path) -> Result<GeoIp, LoadError> {
        Self::from_data(&SourceData::File(path.to_path_buf()), &path.display().to_string())
    }

    pub fn from_data(data: &SourceData, display: &str) -> Result<GeoIp, LoadError> {
        match data {
            SourceData::Static(b) => Self::from_static(b, display),
            other => Self::build(Bytes::Owned(read_bounded(other, display)?), display),
        }
    }

    /// A database compiled into the binary (no copy is made).
    pub fn from_static(bytes: &'static [u8], display: &str) -> Result<GeoIp, LoadError> {
        Self::build(Bytes::Static(bytes), display)
    }

    fn build(bytes: Bytes, display: &str) -> Result<GeoIp, LoadError> {
        let reader = Reader::from_source(bytes).map_err(|e| LoadError::Unreadable {
            path: display.into(),
            reason: format!("not a usable MaxMind DB (.mmdb) file: {e}"),
        })?;
        let m = reader.metadata();
        let description = format!("{}, IPv{}, {} nodes", m.database_type, m.ip_version, m.node_count);
        if m.database_type.to_ascii_lowercase().contains("asn") {
            return Err(LoadError::Unreadable {
                path: display.into(),
                reason: format!("{} has no country data; use a Country or City database", m.database_type),
            });
        }
        // A damaged data section opens fine and fails on lookups: probe a few addresses now so
        // the user hears about it at load, not as silently empty country columns. An IPv4-only
        // database (ip_version 4) refuses IPv6 lookups by design: it gets IPv4 probes only.
        let probes: &[IpAddr] = &[
            IpAddr::V4([81, 2, 69, 142].into()),
            IpAddr::V4([8, 8, 8, 8].into()),
            IpAddr::V4([1, 1, 1, 1].into()),
            IpAddr::V6([0x2001, 0x4860, 0, 0, 0, 0, 0, 0x8888].into()),
        ];
        for &ip in probes.iter().filter(|ip| m.ip_version == 6 || ip.is_ipv4()) {
            let res = reader.lookup(ip).and_then(|found| found.decode::<serde_json::Value>().map(|_| ()));
            if let Err(e) = res {
                return Err(LoadError::Unreadable {
                    path: display.into(),
                    reason: format!("damaged MaxMind DB ({}): {e}", m.database_type),
                });
            }
        }
        Ok(GeoIp { reader, description })
    }

    /// e.g. "GeoLite2-Country, IPv6, 1234 nodes".
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The English country name when the database has names, else the ISO code. `None` when
    /// the address is not covered, or its record cannot be decoded (a damaged database).
    pub fn country(&self, ip: IpAddr) -> Option<String> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        let found = self.reader.lookup(ip).ok()?;
        let rec: Record = found.decode().ok()??;
        let pick = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let (name, iso) = match &rec.country {
            Some(c) => (c.names.as_ref().and_then(|n| n.en), c.iso_code),
            None => (None, None),
        };
        pick(name).or_else(|| pick(iso)).or_else(|| pick(rec.country_code))
    }
}

/// The whole database, refusing anything over `MAX_DB_BYTES` before reading it when its size
/// is known, and after `MAX_DB_BYTES` bytes when it is not (a pipe, a device).
fn read_bounded(data: &SourceData, display: &str) -> Result<Vec<u8>, LoadError> {
    let too_big = || LoadError::Unreadable {
        path: display.into(),
        reason: format!("larger than {} MiB: not read as a GeoIP database", MAX_DB_BYTES >> 20),
    };
    if let SourceData::File(p) = data {
        let meta = std::fs::metadata(p).map_err(|source| LoadError::Io { path: display.into(), source })?;
        if meta.is_file() && meta.len() > MAX_DB_BYTES {
            return Err(too_big());
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            let t = meta.file_type();
            if t.is_char_device() || t.is_block_device() {
                return Err(LoadError::Unreadable {
                    path: display.into(),
                    reason: "a device, not a GeoIP database file".into(),
                });
            }
        }
    }
    let mut bytes = Vec::new();
    data.open()
        .and_then(|r| r.take(MAX_DB_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|source| LoadError::Io { path: display.into(), source })?;
    if bytes.len() as u64 > MAX_DB_BYTES {
        return Err(too_big());
    }
    Ok(bytes)
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp").field("description", &self.description).finish()
    }
}
