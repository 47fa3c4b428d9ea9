//! The in-memory model: interned columns, timestamps, IP classes and the tables built from them.

pub mod dict;
pub mod ip;
pub mod tables;
pub mod time;

pub use dict::{Dict, DictCol};
pub use ip::IpCol;
pub use tables::{DeviceInfo, NetEvents, TableKind, VmConnections, NO_PORT};
pub use time::Nanos;
