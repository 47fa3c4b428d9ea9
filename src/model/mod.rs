//! The in-memory model: interned columns, timestamps, IP classes and the tables built from them.

pub mod dict;
pub mod ip;
pub mod tables;
pub mod time;

pub use dict::{Dict, DictCol};
pub use ip::IpCol;
pub use tables::{DeviceInfo, NetEvents, TableKind, VmConnections, NO_PORT};
pub use time::Nanos;

/// `1234567` as `1,234,567`: counts in reports, the CLI and the TUI.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Shorten untrusted text quoted in a message: the first 60 characters, then `…`.
pub fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if s.chars().count() > 60 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod thousands_tests {
    #[test]
    fn thousands_groups_digits() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(1234567), "1,234,567");
        assert_eq!(super::thousands(100), "100");
    }
}
