//! The in-memory model: interned columns, timestamps, IP classes and the tables built from them.

pub mod dict;
pub mod ip;
pub mod tables;
pub mod time;

pub use dict::{Dict, DictCol};
pub use ip::IpCol;
pub use tables::{DeviceInfo, NetEvents, TableKind, VmConnections, NO_PORT};
pub use time::Nanos;

/// Shorten untrusted text quoted in a message: the first 60 characters, then `…`.
pub fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if s.chars().count() > 60 {
        out.push('…');
    }
    out
}
