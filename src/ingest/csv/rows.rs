//! Turning one block of CSV records into rows of a `FileSink`: field-count and size checks,
//! UTF-8 (lossy when invalid), then the row router shared with the JSON reader.

use super::record::{RawRecord, Records};
use super::split::Block;
use crate::ingest::columns::{ColumnMap, RowValues};
use crate::ingest::route::{self, RouteStats, INVALID_UTF8_ROWS};
use crate::ingest::sink::{FileSink, RejectKind};
use crate::ingest::{LoadError, Tracker};

/// A single record above this size is rejected (the file goes on).
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// What every worker needs to convert a block.
pub struct Conv<'a> {
    pub map: &'a ColumnMap,
    pub header: &'a [String],
    pub delim: u8,
}

/// The rows of one block plus what the file report needs from it.
#[derive(Debug, Default)]
pub struct Chunk {
    pub sink: FileSink,
    pub records: u64,
    pub bytes: u64,
    /// What the router saw (Sysmon XML or JSON EventData names the format).
    pub route: RouteStats,
}

/// Fields of one record as text: borrowed when valid UTF-8, owned (lossy) when not.
enum Fields<'r> {
    /// `text` is the block (or the record) as a str starting at byte `base` of the block.
    Valid {
        text: &'r str,
        base: usize,
        rec: &'r RawRecord,
    },
    Lossy(Vec<String>),
}

impl<'r> Fields<'r> {
    /// `block_text` is the whole block when it is valid UTF-8 (checked once per block).
    fn new(block: &'r [u8], block_text: Option<&'r str>, rec: &'r RawRecord) -> Fields<'r> {
        if let Some(text) = block_text {
            return Fields::Valid { text, base: 0, rec };
        }
        // The raw record still holds its delimiters, so two invalid halves of a field pair
        // cannot pass as one valid character here.
        match std::str::from_utf8(&block[rec.start..rec.end]) {
            Ok(text) => Fields::Valid { text, base: rec.start, rec },
            Err(_) => Fields::Lossy(
                (0..rec.len()).map(|i| String::from_utf8_lossy(rec.bytes(block, i)).into_owned()).collect(),
            ),
        }
    }

    #[inline]
    fn get(&self, i: usize) -> &str {
        match self {
            Fields::Valid { text, base, rec } => match rec.spans.get(i) {
                // Quoted fields were copied from valid text between ASCII quotes.
                Some(s) if s.in_scratch => std::str::from_utf8(&rec.scratch[s.start..s.end]).unwrap_or(""),
                Some(s) => text.get(s.start - base..s.end - base).unwrap_or(""),
                None => "",
            },
            Fields::Lossy(v) => v.get(i).map(String::as_str).unwrap_or(""),
        }
    }
}

impl RowValues for Fields<'_> {
    #[inline]
    fn get(&self, i: usize) -> &str {
        Fields::get(self, i)
    }
}

impl Conv<'_> {
    /// Convert one block into a chunk sink forked from `template`.
    pub fn block(&self, block: &Block, template: &FileSink, tracker: &Tracker) -> Result<Chunk, LoadError> {
        tracker.check()?;
        let mut chunk = Chunk { sink: template.fork(), bytes: block.bytes.len() as u64, ..Default::default() };
        if let Some(kind) = &block.skipped {
            // A record the splitter could not hold: rejected in its place.
            chunk.records = 1;
            chunk.bytes = block.skipped_bytes;
            chunk.sink.reject(block.start_line, kind.clone());
            tracker.advance(chunk.bytes, 1);
            return Ok(chunk);
        }
        let bytes = &block.bytes[..];
        // One pass over the block is far cheaper than validating each field (and SIMD
        // validation several times cheaper than `std::str::from_utf8` on the usual ASCII).
        let block_text = simdutf8::basic::from_utf8(bytes).ok();
        let mut records = Records::new(bytes, self.delim);
        let mut rec = RawRecord::default();
        let ncols = self.header.len();
        while let Some(at) = records.next_into(&mut rec) {
            let line = block.start_line + at.line;
            let locator = block.start_byte + at.byte as u64;
            chunk.records += 1;
            if rec.len() != ncols {
                chunk.sink.reject(line, RejectKind::FieldCount { expected: ncols, found: rec.len() });
                continue;
            }
            if rec.end - rec.start > MAX_RECORD_BYTES {
                chunk.sink.reject(line, RejectKind::RecordTooLong { mib: MAX_RECORD_BYTES >> 20 });
                continue;
            }
            let fields = Fields::new(bytes, block_text, &rec);
            if matches!(fields, Fields::Lossy(_)) {
                chunk.sink.count(INVALID_UTF8_ROWS);
            }
            // Every table reader shares one router: the header's target decides.
            route::route(&fields, self.map, None, line, locator, &mut chunk.sink, &mut chunk.route);
        }
        tracker.advance(chunk.bytes, chunk.records);
        Ok(chunk)
    }
}
