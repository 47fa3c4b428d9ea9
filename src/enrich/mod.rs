//! Enrichment sources: GeoIP country lookups and threat-intel IP feeds.

pub mod geoip;
pub mod ti;
