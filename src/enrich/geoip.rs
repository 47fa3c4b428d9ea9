//! GeoIP country lookups over a MaxMind-format `.mmdb` (MaxMind / DB-IP layout with
//! `country.names.en` / `country.iso_code`, or the ip-location-db layout with `country_code`).

use crate::ingest::{LoadError, SourceData};
use maxminddb::Reader;
use serde::Deserialize;
use std::net::IpAddr;
use std::path::Path;

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
        let bytes = std::fs::read(path).map_err(|source| LoadError::Io { path: path.display().to_string(), source })?;
        Self::build(Bytes::Owned(bytes), &path.display().to_string())
    }

    pub fn from_data(data: &SourceData, display: &str) -> Result<GeoIp, LoadError> {
        match data {
            SourceData::Static(b) => Self::from_static(b, display),
            other => {
                let bytes = other.read_all().map_err(|source| LoadError::Io { path: display.into(), source })?;
                Self::build(Bytes::Owned(bytes), display)
            }
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
        // the user hears about it at load, not as silently empty country columns.
        for probe in ["81.2.69.142", "8.8.8.8", "1.1.1.1", "2001:4860::8888"] {
            let ip: IpAddr = probe.parse().expect("valid probe address");
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

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp").field("description", &self.description).finish()
    }
}
