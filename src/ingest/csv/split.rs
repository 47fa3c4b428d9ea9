//! Cutting a CSV byte stream into blocks of whole records, so workers can parse blocks in
//! parallel. The scan follows the `csv` crate's quoting rules exactly (a quote opens a quoted
//! field only at a field start, `""` inside quotes is a literal quote), so a block boundary is
//! always a record boundary the sequential parser would also see.
//!
//! The splitter never holds more than about `MAX_RECORD_BYTES` of one record: a line longer
//! than that is dropped as it streams past and handed on as a rejected record, and a record
//! that runs past it over several lines (a quote that never closes) loses its first line and
//! the scan resumes on the next, so the rest of the file still loads.

use super::record::Find3;
use crate::ingest::sink::RejectKind;
use std::io::Read;

/// No record (and so no line) is held beyond this; longer ones are rejected in their place.
pub const MAX_RECORD_BYTES: usize = 64 << 20;

/// Blocks handed to workers are about this big (the last record is completed past it).
pub const BLOCK_BYTES: usize = 4 << 20;

/// A run of whole records.
#[derive(Debug)]
pub struct Block {
    pub seq: usize,
    pub bytes: Vec<u8>,
    /// Absolute byte offset of `bytes[0]` in the source.
    pub start_byte: u64,
    /// 1-based line number of `bytes[0]`.
    pub start_line: u64,
    /// Set for a record dropped for its length (`bytes` is then empty): why, for the reject
    /// at `start_line`.
    pub skipped: Option<RejectKind>,
    /// Bytes the dropped record spanned in the source.
    pub skipped_bytes: u64,
}

/// Why splitting stopped early.
#[derive(Debug)]
pub enum SplitError {
    Io(std::io::Error),
    /// The message for the file report.
    TooLong(String),
}

/// Resumable record-boundary scanner over a growing buffer.
pub struct Splitter<R> {
    src: R,
    delim: u8,
    buf: Vec<u8>,
    /// Bytes of `buf` already scanned.
    scanned: usize,
    in_quotes: bool,
    /// The byte before `buf[scanned]` ends a field (or nothing precedes it).
    field_start: bool,
    /// End (exclusive) of the last complete record found in `buf`.
    last_end: usize,
    eof: bool,
    next_byte: u64,
    next_line: u64,
    seq: usize,
    target: usize,
    /// Stop scanning at the first record end (while cutting the header).
    first_only: bool,
    /// Buffers of converted blocks, handed back for reuse (saves page faults on fresh memory).
    spares: Option<std::sync::mpsc::Receiver<Vec<u8>>>,
    /// What matters outside quotes: a quote or a line end.
    unquoted: Find3,
    /// Line where the last record starts when the input ended inside its quoted field.
    open_quote_line: Option<u64>,
}

impl<R: Read> Splitter<R> {
    /// `start_byte` is the absolute offset of the first byte `src` yields (after a BOM).
    pub fn new(src: R, delim: u8, start_byte: u64, target: usize) -> Self {
        Splitter {
            src,
            delim,
            buf: Vec::with_capacity(target + (64 << 10)),
            scanned: 0,
            in_quotes: false,
            field_start: true,
            last_end: 0,
            eof: false,
            next_byte: start_byte,
            next_line: 1,
            seq: 0,
            target,
            first_only: true,
            spares: None,
            unquoted: Find3::new(b'"', b'\n', b'\r'),
            open_quote_line: None,
        }
    }

    /// Reuse buffers sent back on `rx` for later blocks.
    pub fn recycle_from(&mut self, rx: std::sync::mpsc::Receiver<Vec<u8>>) {
        self.spares = Some(rx);
    }

    /// Advance the scan over newly read bytes.
    fn scan(&mut self) {
        let buf = &self.buf;
        let mut i = self.scanned;
        let n = buf.len();
        while i < n {
            if self.in_quotes {
                match memchr::memchr(b'"', &buf[i..]) {
                    None => {
                        i = n;
                    }
                    Some(k) => {
                        let q = i + k;
                        if q + 1 >= n {
                            if self.eof {
                                self.in_quotes = false;
                                self.field_start = false;
                                i = n;
                            } else {
                                // Cannot tell `""` from a closing quote yet: rescan when more arrives.
                                i = q;
                                break;
                            }
                        } else if buf[q + 1] == b'"' {
                            i = q + 2;
                        } else {
                            self.in_quotes = false;
                            self.field_start = false;
                            i = q + 1;
                        }
                    }
                }
            } else {
                // Only quotes and line ends matter outside quotes; whether a quote opens a
                // quoted field depends on the byte before it (a field start). `\r` ends a
                // record too (as in the csv crate), so files with bare-CR line ends still split;
                // a cut between `\r` and `\n` leaves an empty line the record parser skips.
                let Some(p) = self.unquoted.find(&buf[i..]).map(|k| i + k) else {
                    if n > i {
                        self.field_start = buf[n - 1] == self.delim;
                    }
                    i = n;
                    break;
                };
                if buf[p] == b'\n' || buf[p] == b'\r' {
                    self.last_end = p + 1;
                    self.field_start = true;
                    i = p + 1;
                    if self.first_only {
                        break;
                    }
                } else {
                    let starts_field = if p == i { self.field_start } else { buf[p - 1] == self.delim };
                    self.in_quotes = starts_field;
                    self.field_start = false;
                    i = p + 1;
                }
            }
        }
        self.scanned = i;
        if self.eof && self.in_quotes && self.scanned == n && self.open_quote_line.is_none() {
            // Empty lines before the record are not part of it.
            let lead = self.buf[self.last_end..].iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
            let before = memchr::memchr_iter(b'\n', &self.buf[..self.last_end + lead]).count() as u64;
            self.open_quote_line = Some(self.next_line + before);
        }
    }

    /// The line where the last record starts, when the input ended inside its quoted field
    /// (the record is still read, as the csv crate reads it, up to the end of the input).
    pub fn open_quote_line(&self) -> Option<u64> {
        self.open_quote_line
    }

    fn fill(&mut self) -> Result<(), SplitError> {
        let want = (self.target + (64 << 10)).saturating_sub(self.buf.len()).max(64 << 10);
        // Never read further than one record may reach: a record still open there is too
        // long, whatever ends it later.
        let room = (self.last_end + MAX_RECORD_BYTES + 1).saturating_sub(self.buf.len());
        let want = want.min(room) as u64;
        if want == 0 {
            return Ok(());
        }
        let got = (&mut self.src).take(want).read_to_end(&mut self.buf).map_err(SplitError::Io)?;
        if (got as u64) < want {
            self.eof = true;
        }
        Ok(())
    }

    fn take(&mut self, end: usize) -> Block {
        let spare = self.spares.as_ref().and_then(|rx| rx.try_recv().ok());
        let mut next = spare.unwrap_or_else(|| Vec::with_capacity(self.target + (64 << 10)));
        next.clear();
        next.extend_from_slice(&self.buf[end..]);
        let mut bytes = std::mem::replace(&mut self.buf, next);
        bytes.truncate(end);
        self.scanned -= end;
        self.last_end = 0;
        let lines = memchr::memchr_iter(b'\n', &bytes).count() as u64;
        let block = Block {
            seq: self.seq,
            bytes,
            start_byte: self.next_byte,
            start_line: self.next_line,
            skipped: None,
            skipped_bytes: 0,
        };
        self.seq += 1;
        self.next_byte += end as u64;
        self.next_line += lines;
        block
    }

    /// Drop the record at the start of `buf`, which runs past `MAX_RECORD_BYTES`, and return
    /// it as a skipped block. A first line that is itself over the limit is dropped whole
    /// (read on and discarded up to its end); otherwise the record is several lines long
    /// from a quote that never closes, and only its first line is dropped.
    fn skip_overlong(&mut self) -> Result<Block, SplitError> {
        // Line ends left over from the previous record are empty lines, not this record.
        let lead = self.buf.iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
        self.next_line += memchr::memchr_iter(b'\n', &self.buf[..lead]).count() as u64;
        self.next_byte += lead as u64;
        self.buf.drain(..lead);
        let (start_byte, start_line) = (self.next_byte, self.next_line);
        let line_end =
            |buf: &[u8], k: usize| if buf[k] == b'\r' && buf.get(k + 1) == Some(&b'\n') { k + 2 } else { k + 1 };
        let (kind, dropped, lines) = match memchr::memchr2(b'\n', b'\r', &self.buf) {
            Some(k) => {
                let end = line_end(&self.buf, k);
                let kind = if k > MAX_RECORD_BYTES {
                    RejectKind::LineTooLong { mib: MAX_RECORD_BYTES >> 20 }
                } else {
                    RejectKind::UnclosedQuote { mib: MAX_RECORD_BYTES >> 20 }
                };
                let lines = memchr::memchr_iter(b'\n', &self.buf[..end]).count() as u64;
                self.buf.drain(..end);
                (kind, end as u64, lines)
            }
            None => {
                let mut dropped = self.buf.len() as u64;
                self.buf.clear();
                let mut lines = 0;
                while !self.eof {
                    self.fill()?;
                    if let Some(k) = memchr::memchr2(b'\n', b'\r', &self.buf) {
                        let end = line_end(&self.buf, k);
                        lines = memchr::memchr_iter(b'\n', &self.buf[..end]).count() as u64;
                        dropped += end as u64;
                        self.buf.drain(..end);
                        break;
                    }
                    dropped += self.buf.len() as u64;
                    self.buf.clear();
                }
                (RejectKind::LineTooLong { mib: MAX_RECORD_BYTES >> 20 }, dropped, lines)
            }
        };
        self.scanned = 0;
        self.last_end = 0;
        self.in_quotes = false;
        self.field_start = true;
        self.next_byte += dropped;
        self.next_line += lines;
        let block = Block {
            seq: self.seq,
            bytes: Vec::new(),
            start_byte,
            start_line,
            skipped: Some(kind),
            skipped_bytes: dropped,
        };
        self.seq += 1;
        Ok(block)
    }

    /// The next block of whole records (or of one dropped record), or None at the end.
    pub fn next_block(&mut self) -> Result<Option<Block>, SplitError> {
        loop {
            if self.buf.len() - self.last_end > MAX_RECORD_BYTES {
                // The record after the complete ones is too long: hand those on first.
                if self.last_end > 0 {
                    let end = self.last_end;
                    return Ok(Some(self.take(end)));
                }
                return self.skip_overlong().map(Some);
            }
            if self.last_end > 0 && (self.buf.len() >= self.target || self.eof) {
                if self.eof && self.scanned == self.buf.len() {
                    // Everything left is one block, including a last record without a newline.
                    let end = self.buf.len();
                    return Ok(Some(self.take(end)));
                }
                let end = self.last_end;
                return Ok(Some(self.take(end)));
            }
            if self.eof {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                self.scan();
                let end = self.buf.len();
                return Ok(Some(self.take(end)));
            }
            self.fill()?;
            self.scan();
        }
    }

    /// Cut just the first record (the header) off the stream.
    pub fn header(&mut self) -> Result<Option<Block>, SplitError> {
        loop {
            if self.last_end > 0 || (self.eof && self.scanned == self.buf.len()) {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                let end = if self.last_end > 0 { self.last_end } else { self.buf.len() };
                let b = self.take(end);
                // Blocks number the data records only.
                self.seq = 0;
                // Data records may already sit in the buffer: scan them normally.
                self.first_only = false;
                self.scan();
                return Ok(Some(b));
            }
            if self.buf.len() > MAX_RECORD_BYTES {
                return Err(SplitError::TooLong("header line longer than 64 MiB".into()));
            }
            if !self.eof {
                self.fill()?;
            }
            self.scan();
        }
    }
}
