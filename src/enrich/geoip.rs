//! GeoIP country lookups over a MaxMind-format `.mmdb` (MaxMind / DB-IP layout with
//! `country.names.en` / `country.iso_code`, or the ip-location-db layout with `country_code`).

use crate::ingest::{LoadError, SourceData};
use std::net::IpAddr;
use std::path::Path;

/// An open GeoIP database.
pub struct GeoIp {
    description: String,
}

impl GeoIp {
    pub fn open(path: &Path) -> Result<GeoIp, LoadError> {
        Err(LoadError::Unreadable { path: path.display().to_string(), reason: "GeoIP reader not built yet".into() })
    }

    pub fn from_data(_data: &SourceData, display: &str) -> Result<GeoIp, LoadError> {
        Err(LoadError::Unreadable { path: display.into(), reason: "GeoIP reader not built yet".into() })
    }

    /// e.g. "GeoLite2-Country, 1,234 networks".
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The English country name when the database has names, else the ISO code.
    pub fn country(&self, _ip: IpAddr) -> Option<String> {
        None
    }
}
