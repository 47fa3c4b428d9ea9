//! `rarity gen`: a reproducible synthetic fleet (Defender, Sentinel, Sysmon exports, a feed
//! and a GeoIP database) with planted findings for every hunt.

pub mod mmdb;
