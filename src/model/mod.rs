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

/// `n` and `word` with the plural the count needs: "1 row", "2,037 rows".
pub fn counted(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{} {word}s", thousands(n))
    }
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

    #[test]
    fn counted_uses_the_plural_the_count_needs() {
        assert_eq!(super::counted(1, "row"), "1 row");
        assert_eq!(super::counted(0, "row"), "0 rows");
        assert_eq!(super::counted(2037, "event"), "2,037 events");
    }
}
