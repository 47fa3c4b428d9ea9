//! rarity's engine: load security telemetry exports into compact columnar tables, enrich them
//! with GeoIP and threat intel, and run the five network hunts. No terminal code lives here.

pub mod case;
pub mod config;
pub mod enrich;
pub mod export;
pub mod gen;
pub mod hunt;
pub mod ingest;
pub mod model;
pub mod sample;
pub mod snapshot;
pub mod source;
pub mod store;
pub mod text;

pub use store::Dataset;
