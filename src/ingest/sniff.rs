//! Format recognition by content: magic bytes, JSON shape, CSV header, feed lines.

use super::SourceData;
use std::io::Read;

/// What a file holds, as far as routing to a reader goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Delimited text with a header row (Defender portal, Sentinel / Log Analytics CSV).
    Csv,
    /// One JSON document: API envelopes (`Schema`/`Results`, `schema`/`results`,
    /// `tables`) or an array of flat objects.
    JsonDocument,
    /// One JSON object per line (streaming API NDJSON, JSON Lines).
    JsonLines,
    /// Windows event log file.
    Evtx,
    /// Threat-intel list (IPs / CIDRs, optional counts).
    ThreatIntel,
    /// MaxMind DB.
    Mmdb,
    /// Not something rarity reads; the reason says what it looked like.
    Unrecognized(String),
}

const HEAD: usize = 64 * 1024;

fn head(data: &SourceData) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(HEAD);
    data.open()?.take(HEAD as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

fn tail_has_mmdb_marker(data: &SourceData) -> bool {
    const MARKER: &[u8] = b"\xAB\xCD\xEFMaxMind.com";
    match data {
        SourceData::File(p) => {
            use std::io::{Seek, SeekFrom};
            let Ok(mut f) = std::fs::File::open(p) else { return false };
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            let start = len.saturating_sub(128 * 1024);
            if f.seek(SeekFrom::Start(start)).is_err() {
                return false;
            }
            let mut buf = Vec::new();
            if f.read_to_end(&mut buf).is_err() {
                return false;
            }
            memchr::memmem::find(&buf, MARKER).is_some()
        }
        SourceData::Memory(b) => memchr::memmem::find(&b[b.len().saturating_sub(128 * 1024)..], MARKER).is_some(),
        SourceData::Static(b) => memchr::memmem::find(&b[b.len().saturating_sub(128 * 1024)..], MARKER).is_some(),
    }
}

/// Decide how to read `data`. Err is an I/O problem (the file is then skipped with it).
pub fn sniff(data: &SourceData) -> Result<Kind, String> {
    let h = head(data).map_err(|e| format!("cannot read: {e}"))?;
    if h.is_empty() {
        return Ok(Kind::Unrecognized("empty file".into()));
    }
    if h.starts_with(b"ElfFile\0") {
        return Ok(Kind::Evtx);
    }
    if h.starts_with(&[0x1f, 0x8b]) {
        return Ok(Kind::Unrecognized("gzip-compressed; decompress it first (gunzip)".into()));
    }
    if h.starts_with(b"PK\x03\x04") {
        return Ok(Kind::Unrecognized("zip archive; extract it first".into()));
    }
    if tail_has_mmdb_marker(data) {
        return Ok(Kind::Mmdb);
    }
    let text = h.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&h);
    let binary = text.iter().take(4096).filter(|&&b| b == 0).count() > 0;
    if binary {
        return Ok(Kind::Unrecognized("binary file of unknown format".into()));
    }
    let trimmed: &[u8] = {
        let i = text.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(text.len());
        &text[i..]
    };
    match trimmed.first() {
        Some(b'[') => return Ok(Kind::JsonDocument),
        Some(b'{') => {
            // A JSON Lines file has a second object starting on a later line; a document
            // (API envelope) is one object, usually spread over many lines or all on one.
            return Ok(if looks_like_json_lines(trimmed) { Kind::JsonLines } else { Kind::JsonDocument });
        }
        _ => {}
    }
    let s = String::from_utf8_lossy(trimmed);
    let mut lines = s.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next().unwrap_or("");
    if looks_like_feed(&s) {
        return Ok(Kind::ThreatIntel);
    }
    if looks_like_csv_header(first) {
        return Ok(Kind::Csv);
    }
    Ok(Kind::Unrecognized("not a recognized export (no CSV header, JSON, EVTX, feed or MMDB)".into()))
}

/// A header row: at least three delimited fields, each a column name (letters, digits and a
/// few punctuation marks like `_ [ ] . $ -`), not prose such as a Markdown title.
fn looks_like_csv_header(line: &str) -> bool {
    if line.starts_with('#') {
        return false;
    }
    let delim = [',', '\t', ';'].into_iter().max_by_key(|d| line.matches(*d).count()).unwrap_or(',');
    let fields: Vec<&str> = line.split(delim).collect();
    if fields.len() < 3 {
        return false;
    }
    let name_like = |f: &&str| {
        let f = f.trim().trim_matches('"');
        f.len() <= 80
            && f.chars().all(|c| c.is_alphanumeric() || " _[].$-@:/".contains(c))
            && f.split_whitespace().count() <= 4
    };
    fields.iter().filter(|f| !f.trim().is_empty()).all(name_like)
}

fn looks_like_json_lines(t: &[u8]) -> bool {
    // Find the end of the first line; JSON Lines when that line is a complete object on its own
    // and another line starts with `{`.
    let s = String::from_utf8_lossy(t);
    let mut it = s.lines().map(str::trim).filter(|l| !l.is_empty());
    let Some(first) = it.next() else { return false };
    if !(first.starts_with('{') && first.ends_with('}')) {
        return false;
    }
    if serde_json::from_str::<serde_json::Value>(first).is_err() {
        // The first line may be cut by the sniff window only if it is huge; treat as lines
        // when it at least looks like one object per line.
        return first.len() >= HEAD - 16;
    }
    match it.next() {
        Some(second) => second.starts_with('{'),
        None => true,
    }
}

/// A feed: entry lines (IP or CIDR, optionally whitespace and a count) with at most a few bad
/// ones, or only comments. The rule lives with the feed reader, so what is recognized here is
/// what `--ti` reads.
fn looks_like_feed(s: &str) -> bool {
    crate::enrich::ti::looks_like_feed(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &'static str) -> Kind {
        sniff(&SourceData::Static(s.as_bytes())).unwrap()
    }

    #[test]
    fn recognizes_by_content() {
        assert_eq!(k("Timestamp,DeviceId,RemoteIP\n2024-01-01,a,1.2.3.4\n"), Kind::Csv);
        assert_eq!(k("\u{feff}Timestamp,DeviceId,RemoteIP\r\n"), Kind::Csv);
        assert_eq!(k("{\"a\":1}\n{\"a\":2}\n"), Kind::JsonLines);
        assert_eq!(k("{\n \"Schema\": [],\n \"Results\": []\n}"), Kind::JsonDocument);
        assert_eq!(k("[{\"a\":1}]"), Kind::JsonDocument);
        assert_eq!(k("# comment\n1.2.3.4\t5\n10.0.0.0/8\n"), Kind::ThreatIntel);
        assert_eq!(k("1.2.3.4\n5.6.7.8\n"), Kind::ThreatIntel);
        assert!(matches!(k("hello world\n"), Kind::Unrecognized(_)));
        assert!(matches!(k("# Title, with commas, and more\nprose\n"), Kind::Unrecognized(_)));
        assert_eq!(k(",TenantId,TimeGenerated,FlowStartTime\n1,a,b,c\n"), Kind::Csv);
        assert_eq!(k("TenantId,\"TimeGenerated [Local Time]\",Computer\n"), Kind::Csv);
        assert!(matches!(k(""), Kind::Unrecognized(_)));
    }
}
