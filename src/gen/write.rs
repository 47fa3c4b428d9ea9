//! Fast row output for the generator: CSV (RFC 4180 quoting) or JSON Lines from one field
//! sequence, and the timestamp forms the exports use, without per-row allocation.

use crate::model::time::Nanos;
use std::io::Write;

const NS_PER_SEC: i64 = 1_000_000_000;
const SEC_PER_DAY: i64 = 86_400;

/// Civil date of a day number since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn push_num(out: &mut Vec<u8>, v: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = 20;
    let mut n = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let digits = 20 - i;
    for _ in digits..width {
        out.push(b'0');
    }
    out.extend_from_slice(&buf[i..]);
}

/// Timestamp forms, with the date part cached per day (events arrive in time order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeForm {
    /// `2026-11-20T09:30:00.1234567Z` (Defender, Kusto ISO with 7 fractional digits).
    Iso7,
    /// `11/20/2026, 9:30:00.123 AM` (Sentinel / Log Analytics portal CSV, US locale).
    UsPortal,
    /// `2026-11-20 09:30:00.123` (Sysmon `UtcTime`).
    Sysmon,
}

/// Append `t` in `form` to `out`.
pub fn push_time(out: &mut Vec<u8>, t: Nanos, form: TimeForm) {
    let secs = t.div_euclid(NS_PER_SEC);
    let ns = t.rem_euclid(NS_PER_SEC) as u64;
    let (y, m, d) = civil(secs.div_euclid(SEC_PER_DAY));
    let sod = secs.rem_euclid(SEC_PER_DAY) as u64;
    let (hh, mm, ss) = (sod / 3600, sod / 60 % 60, sod % 60);
    match form {
        TimeForm::Iso7 | TimeForm::Sysmon => {
            push_num(out, y as u64, 4);
            out.push(b'-');
            push_num(out, u64::from(m), 2);
            out.push(b'-');
            push_num(out, u64::from(d), 2);
            out.push(if form == TimeForm::Iso7 { b'T' } else { b' ' });
            push_num(out, hh, 2);
            out.push(b':');
            push_num(out, mm, 2);
            out.push(b':');
            push_num(out, ss, 2);
            out.push(b'.');
            if form == TimeForm::Iso7 {
                push_num(out, ns / 100, 7);
                out.push(b'Z');
            } else {
                push_num(out, ns / 1_000_000, 3);
            }
        }
        TimeForm::UsPortal => {
            push_num(out, u64::from(m), 1);
            out.push(b'/');
            push_num(out, u64::from(d), 1);
            out.push(b'/');
            push_num(out, y as u64, 4);
            out.extend_from_slice(b", ");
            let h12 = if hh % 12 == 0 { 12 } else { hh % 12 };
            push_num(out, h12, 1);
            out.push(b':');
            push_num(out, mm, 2);
            out.push(b':');
            push_num(out, ss, 2);
            out.push(b'.');
            push_num(out, ns / 1_000_000, 3);
            out.extend_from_slice(if hh < 12 { b" AM" } else { b" PM" });
        }
    }
}

/// Output format of the telemetry files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenFormat {
    /// Defender portal CSV and Sentinel portal CSV.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// Fields `start..start + n` of a row rendered once (with their leading separator), for
/// values that repeat on many rows (a process's version info, an account).
#[derive(Clone, Debug, Default)]
pub struct Block {
    bytes: Vec<u8>,
    start: usize,
    n: usize,
}

impl Block {
    pub fn render(
        format: GenFormat,
        header: &'static [&'static str],
        start: usize,
        f: impl FnOnce(&mut RowWriter<Vec<u8>>),
    ) -> Block {
        let mut w = RowWriter::body(Vec::new(), format, header);
        w.col = start;
        f(&mut w);
        Block { n: w.col - start, bytes: w.buf, start }
    }
}

/// Writes rows of one table. Fields are given in header order.
pub struct RowWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
    format: GenFormat,
    header: &'static [&'static str],
    /// JSON keys: the header names without the `[UTC]` display suffix.
    keys: Vec<String>,
    col: usize,
    pub rows: u64,
}

impl<W: Write> RowWriter<W> {
    /// A writer of rows only, without the CSV header line (chunks, `Block::render`).
    pub fn body(out: W, format: GenFormat, header: &'static [&'static str]) -> Self {
        let keys = header.iter().map(|h| h.trim_end_matches(" [UTC]").to_string()).collect();
        RowWriter { out, buf: Vec::with_capacity(1 << 18), format, header, keys, col: 0, rows: 0 }
    }

    pub fn new(out: W, format: GenFormat, header: &'static [&'static str]) -> std::io::Result<Self> {
        let mut w = Self::body(out, format, header);
        if format == GenFormat::Csv {
            for (i, h) in header.iter().enumerate() {
                if i > 0 {
                    w.buf.push(b',');
                }
                w.text(h);
            }
            w.buf.extend_from_slice(b"\r\n");
        }
        Ok(w)
    }

    #[inline]
    fn sep(&mut self) {
        debug_assert!(self.col < self.header.len(), "more fields than header columns");
        match self.format {
            GenFormat::Csv => {
                if self.col > 0 {
                    self.buf.push(b',');
                }
            }
            GenFormat::Jsonl => {
                self.buf.push(if self.col == 0 { b'{' } else { b',' });
                self.buf.push(b'"');
                let k = &self.keys[self.col];
                self.buf.extend_from_slice(k.as_bytes());
                self.buf.extend_from_slice(b"\":");
            }
        }
        self.col += 1;
    }

    fn text(&mut self, s: &str) {
        match self.format {
            GenFormat::Csv => {
                let b = s.as_bytes();
                if memchr::memchr3(b',', b'"', b'\n', b).is_some() || memchr::memchr(b'\r', b).is_some() {
                    self.buf.push(b'"');
                    for b in s.bytes() {
                        if b == b'"' {
                            self.buf.push(b'"');
                        }
                        self.buf.push(b);
                    }
                    self.buf.push(b'"');
                } else {
                    self.buf.extend_from_slice(s.as_bytes());
                }
            }
            GenFormat::Jsonl => {
                self.buf.push(b'"');
                for c in s.chars() {
                    match c {
                        '"' => self.buf.extend_from_slice(b"\\\""),
                        '\\' => self.buf.extend_from_slice(b"\\\\"),
                        '\n' => self.buf.extend_from_slice(b"\\n"),
                        '\r' => self.buf.extend_from_slice(b"\\r"),
                        '\t' => self.buf.extend_from_slice(b"\\t"),
                        c if (c as u32) < 0x20 => {
                            let _ = write!(self.buf, "\\u{:04x}", c as u32);
                        }
                        c => {
                            let mut tmp = [0u8; 4];
                            self.buf.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
                        }
                    }
                }
                self.buf.push(b'"');
            }
        }
    }

    /// A string field.
    pub fn str(&mut self, s: &str) -> &mut Self {
        self.sep();
        self.text(s);
        self
    }

    /// A number (unquoted in JSON).
    pub fn num(&mut self, v: u64) -> &mut Self {
        self.sep();
        push_num(&mut self.buf, v, 1);
        self
    }

    /// A boolean (`true`/`false`, unquoted in JSON).
    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(if v { b"true" } else { b"false" });
        self
    }

    /// A timestamp: `form` in CSV, ISO 8601 in JSON (as the JSON exports write datetimes).
    pub fn time(&mut self, t: Nanos, form: TimeForm) -> &mut Self {
        self.sep();
        let form = if self.format == GenFormat::Jsonl { TimeForm::Iso7 } else { form };
        // CSV: only the portal form has a comma and needs quotes; JSON strings always do.
        let quote = self.format == GenFormat::Jsonl || form == TimeForm::UsPortal;
        if quote {
            self.buf.push(b'"');
        }
        push_time(&mut self.buf, t, form);
        if quote {
            self.buf.push(b'"');
        }
        self
    }

    /// Pre-rendered fields (see `Block`).
    pub fn block(&mut self, b: &Block) -> &mut Self {
        debug_assert_eq!(self.col, b.start, "block rendered for another position");
        self.buf.extend_from_slice(&b.bytes);
        self.col += b.n;
        self
    }

    /// A field whose text is built by `f` (escaped like `str`).
    pub fn with(&mut self, scratch: &mut String, f: impl FnOnce(&mut String)) -> &mut Self {
        scratch.clear();
        f(scratch);
        self.sep();
        self.text(scratch);
        self
    }

    /// Finish the row; flushes to the underlying writer in large blocks.
    pub fn end(&mut self) -> std::io::Result<()> {
        debug_assert_eq!(self.col, self.header.len(), "row has fewer fields than the header");
        match self.format {
            GenFormat::Csv => self.buf.extend_from_slice(b"\r\n"),
            GenFormat::Jsonl => self.buf.extend_from_slice(b"}\n"),
        }
        self.col = 0;
        self.rows += 1;
        if self.buf.len() >= 1 << 18 {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Rows rendered elsewhere (a `body` writer of the same table and format).
    pub fn append(&mut self, rows_bytes: &[u8], rows: u64) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        self.out.write_all(rows_bytes)?;
        self.rows += rows;
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.write_all(&self.buf)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::{format_iso, parse, DateOrder, Zone};

    fn show(t: Nanos, f: TimeForm) -> String {
        let mut v = Vec::new();
        push_time(&mut v, t, f);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn time_forms_match_the_engine_parser() {
        for t in [0i64, 1_763_631_000_123_456_700, 1_700_000_000_000_000_000, 951_782_400_000_000_000] {
            assert_eq!(show(t, TimeForm::Iso7), format_iso(t));
            for f in [TimeForm::Iso7, TimeForm::Sysmon] {
                let p = parse(&show(t, f), DateOrder::MonthFirst, Zone::Utc, false).unwrap();
                assert_eq!(p.nanos / 1_000_000, t / 1_000_000, "{}", show(t, f));
            }
            let p = parse(&show(t, TimeForm::UsPortal), DateOrder::MonthFirst, Zone::Utc, false).unwrap();
            assert_eq!(p.nanos, t / 1_000_000 * 1_000_000, "{}", show(t, TimeForm::UsPortal));
        }
        assert_eq!(show(1_763_631_000_123_456_700, TimeForm::UsPortal), "11/20/2025, 9:30:00.123 AM");
        assert_eq!(show(1_763_631_000_123_456_700, TimeForm::Sysmon), "2025-11-20 09:30:00.123");
    }

    #[test]
    fn csv_and_json_rows_escape_their_fields() {
        const H: &[&str] = &["TimeGenerated [UTC]", "A", "N", "B"];
        let mut w = RowWriter::new(Vec::new(), GenFormat::Csv, H).unwrap();
        w.time(0, TimeForm::UsPortal).str("say \"hi\", C:\\x").num(7).bool(true);
        w.end().unwrap();
        let csv = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(
            csv,
            "TimeGenerated [UTC],A,N,B\r\n\"1/1/1970, 12:00:00.000 AM\",\"say \"\"hi\"\", C:\\x\",7,true\r\n"
        );
        let mut w = RowWriter::new(Vec::new(), GenFormat::Jsonl, H).unwrap();
        w.time(0, TimeForm::UsPortal).str("say \"hi\", C:\\x").num(7).bool(false);
        w.end().unwrap();
        let line = String::from_utf8(w.finish().unwrap()).unwrap();
        let v: serde_json::Value = serde_json::from_str(line.trim_end()).unwrap();
        assert_eq!(v["TimeGenerated"], "1970-01-01T00:00:00.0000000Z");
        assert_eq!(v["A"], "say \"hi\", C:\\x");
        assert_eq!(v["N"], 7);
        assert_eq!(v["B"], false);
    }
}
