//! The built-in sample fleet (`assets/sample/`), compiled into the binary so `rarity` can be
//! tried without any export at hand.
//!
//! The files are exactly what `rarity::gen::generate` writes with [`options`]:
//! 40 devices, 30 days, 2,400 network events, seed 1, CSV, ending at 2026-11-20T09:30:00Z
//! (`rarity gen --devices 40 --days 30 --events 2400 --seed 1 assets/sample`).
//! A test regenerates them and compares byte for byte, so the assets never drift from the
//! generator.

use crate::enrich::geoip::GeoIp;
use crate::gen::{GenFormat, GenOptions, DEFAULT_END};
use crate::ingest::{Input, LoadError};
use crate::model::time::Nanos;

/// The sample's last event: the hunts' default `now` on it.
pub const SAMPLE_NOW: Nanos = DEFAULT_END;

/// The generator options that produce `assets/sample/`.
pub fn options() -> GenOptions {
    GenOptions { devices: 40, days: 30, events: 2_400, seed: 1, format: GenFormat::Csv, end: SAMPLE_NOW }
}

/// The telemetry files: (embedded name, bytes).
pub const TELEMETRY: &[(&str, &[u8])] = &[
    ("sample/DeviceNetworkEvents.csv", include_bytes!("../assets/sample/DeviceNetworkEvents.csv")),
    ("sample/DeviceInfo.csv", include_bytes!("../assets/sample/DeviceInfo.csv")),
    ("sample/VMConnection.csv", include_bytes!("../assets/sample/VMConnection.csv")),
    ("sample/SysmonEvent.csv", include_bytes!("../assets/sample/SysmonEvent.csv")),
];

/// The threat-intel feed (IPsum layout).
pub const FEED: (&str, &[u8]) = ("sample/ipsum.txt", include_bytes!("../assets/sample/ipsum.txt"));

/// The GeoIP database name and bytes.
pub const GEOIP: (&str, &[u8]) =
    ("sample/GeoLite2-Country-rarity.mmdb", include_bytes!("../assets/sample/GeoLite2-Country-rarity.mmdb"));

/// The telemetry inputs of the sample fleet.
pub fn inputs() -> Vec<Input> {
    TELEMETRY.iter().map(|(name, bytes)| Input::Embedded { name: name.to_string(), bytes }).collect()
}

/// The telemetry inputs plus the GeoIP database: `ingest::load(&all_inputs(), &ti_inputs(),
/// None, ..)` loads the whole sample (the loader recognizes the database by its content).
pub fn all_inputs() -> Vec<Input> {
    let mut v = inputs();
    v.push(Input::Embedded { name: GEOIP.0.to_string(), bytes: GEOIP.1 });
    v
}

/// The sample's threat-intel feed, as a `--ti` input.
pub fn ti_inputs() -> Vec<Input> {
    vec![Input::Embedded { name: FEED.0.to_string(), bytes: FEED.1 }]
}

/// The whole sample (telemetry, GeoIP database and feed) loaded with the default options.
pub fn load() -> Result<(crate::Dataset, crate::ingest::LoadReport), LoadError> {
    let cancel = std::sync::atomic::AtomicBool::new(false);
    crate::ingest::load(&all_inputs(), &ti_inputs(), None, &crate::ingest::LoadOptions::default(), &|_| {}, &cancel)
}

/// The sample's GeoIP database bytes.
pub fn geoip_bytes() -> &'static [u8] {
    GEOIP.1
}

/// The sample's GeoIP database, opened.
pub fn geoip() -> Result<GeoIp, LoadError> {
    GeoIp::from_static(GEOIP.1, GEOIP.0)
}
