//! Field splitting of one block of whole records into field spans (no copying except for
//! quoted fields, which are unescaped into a scratch buffer).
//!
//! Same rules as the `csv` crate's reader with its defaults (quotes open only at a field
//! start, `""` is a literal quote, text after a closing quote joins the field, `\r`, `\n` and
//! `\r\n` end a record, empty lines are skipped; a property test pins the equivalence), but it
//! jumps between delimiters with `memchr` instead of stepping a byte-wise state machine, which
//! made `csv_core` half of the load time. It also reports where each record *starts* (after
//! skipped empty lines), which is what rejects and re-reads need.

/// One field: a byte range of the block, or of the record's scratch buffer when it was quoted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub in_scratch: bool,
}

/// The fields of one record.
#[derive(Debug, Default)]
pub struct RawRecord {
    pub spans: Vec<Span>,
    /// Unescaped quoted fields.
    pub scratch: Vec<u8>,
    /// Byte range of the whole record in the block (without its terminator).
    pub start: usize,
    pub end: usize,
}

impl RawRecord {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// The bytes of field `i` (`block` is the buffer the record was read from).
    pub fn bytes<'a>(&'a self, block: &'a [u8], i: usize) -> &'a [u8] {
        match self.spans.get(i) {
            Some(s) if s.in_scratch => &self.scratch[s.start..s.end],
            Some(s) => &block[s.start..s.end],
            None => b"",
        }
    }
}

/// Where a record sits in its block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordPos {
    /// Byte offset of the record's first byte in the block.
    pub byte: usize,
    /// 0-based count of lines before the record in the block.
    pub line: u64,
}

/// A search for any of three bytes, set up once (per block or per file) rather than per call:
/// `memchr3` picks its implementation and builds its needle vectors on every call, which
/// costs more than the search itself on fields of a few dozen bytes.
pub(super) enum Find3 {
    #[cfg(target_arch = "x86_64")]
    Avx2(memchr::arch::x86_64::avx2::memchr::Three),
    Any(u8, u8, u8),
}

impl Find3 {
    pub(super) fn new(a: u8, b: u8, c: u8) -> Self {
        #[cfg(target_arch = "x86_64")]
        if let Some(t) = memchr::arch::x86_64::avx2::memchr::Three::new(a, b, c) {
            return Find3::Avx2(t);
        }
        Find3::Any(a, b, c)
    }

    /// Offset of the first of the three bytes in `h`.
    #[inline]
    pub(super) fn find(&self, h: &[u8]) -> Option<usize> {
        match self {
            #[cfg(target_arch = "x86_64")]
            Find3::Avx2(t) => t.find(h),
            Find3::Any(a, b, c) => memchr::memchr3(*a, *b, *c, h),
        }
    }
}

/// Where the bytes the record parser looks for sit in one 64-byte window of a block, one bit
/// per byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Masks {
    /// Field and record ends: the delimiter, `\n`, `\r`.
    ends: u64,
    quotes: u64,
    /// `\n` alone (lines inside quoted fields are counted from it).
    lf: u64,
}

/// The masks of `bytes` (at most 64 long).
#[inline]
fn masks(bytes: &[u8], delim: u8) -> Masks {
    #[cfg(target_arch = "x86_64")]
    if let Ok(window) = <&[u8; 64]>::try_from(bytes) {
        return sse2_masks(window, delim);
    }
    let mut m = Masks::default();
    for (i, &b) in bytes.iter().enumerate() {
        let bit = 1u64 << i;
        if b == delim || b == b'\n' || b == b'\r' {
            m.ends |= bit;
        }
        if b == b'"' {
            m.quotes |= bit;
        }
        if b == b'\n' {
            m.lf |= bit;
        }
    }
    m
}

/// `masks` of a whole 64-byte window, 16 bytes per compare.
#[cfg(target_arch = "x86_64")]
#[inline]
fn sse2_masks(window: &[u8; 64], delim: u8) -> Masks {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};
    // SAFETY: SSE2 is part of the x86_64 baseline, so every x86_64 CPU has these
    // instructions; each unaligned load reads the 16 bytes at offset 0, 16, 32 or 48 of the
    // 64-byte array `window`, so it never reads outside it.
    unsafe {
        let [d, q, lf, cr] = [delim, b'"', b'\n', b'\r'].map(|b| _mm_set1_epi8(b as i8));
        let mut m = Masks::default();
        for i in 0..4 {
            let v = _mm_loadu_si128(window.as_ptr().add(16 * i).cast::<__m128i>());
            let is_lf = _mm_cmpeq_epi8(v, lf);
            let ends = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, d), _mm_cmpeq_epi8(v, cr)), is_lf);
            let bits = |x: __m128i| u64::from(_mm_movemask_epi8(x) as u16) << (16 * i);
            m.ends |= bits(ends);
            m.quotes |= bits(_mm_cmpeq_epi8(v, q));
            m.lf |= bits(is_lf);
        }
        m
    }
}

/// Cursor over the records of one block.
///
/// Rows are dense with short fields (a Defender export has ~40 fields of ~17 bytes), where a
/// search call per field costs more than the search: instead the bytes that matter (the
/// delimiter, `"`, `\n`, `\r`) are found 64 at a time as bit masks, and fields are cut by
/// walking their bits.
pub struct Records<'a> {
    buf: &'a [u8],
    delim: u8,
    pos: usize,
    line: u64,
    /// Start of the 64-byte window `masks` describes (`usize::MAX`: none yet).
    window: usize,
    masks: Masks,
}

impl<'a> Records<'a> {
    pub fn new(buf: &'a [u8], delim: u8) -> Self {
        Records { buf, delim, pos: 0, line: 0, window: usize::MAX, masks: Masks::default() }
    }

    /// The masks of the window holding `p`, and `p`'s offset in it.
    #[inline]
    fn window_of(&mut self, p: usize) -> (usize, u32) {
        let w = p & !63;
        if w != self.window {
            self.window = w;
            self.masks = masks(&self.buf[w..self.buf.len().min(w + 64)], self.delim);
        }
        (w, (p - w) as u32)
    }

    /// The end of an unquoted field starting at `p`: the next delimiter or line end (a quote
    /// there is literal), or the end of the block.
    #[inline]
    fn field_end(&mut self, mut p: usize) -> usize {
        let n = self.buf.len();
        while p < n {
            let (w, at) = self.window_of(p);
            let m = self.masks.ends & (u64::MAX << at);
            if m != 0 {
                return w + m.trailing_zeros() as usize;
            }
            p = w + 64;
        }
        n
    }

    /// The next quote at or after `p` inside a quoted field, counting the lines it passes.
    #[inline]
    fn next_quote(&mut self, mut p: usize) -> Option<usize> {
        let n = self.buf.len();
        while p < n {
            let (w, at) = self.window_of(p);
            let from = u64::MAX << at;
            let q = self.masks.quotes & from;
            if q != 0 {
                let k = q.trailing_zeros();
                self.line += u64::from((self.masks.lf & from & ((1u64 << k) - 1)).count_ones());
                return Some(w + k as usize);
            }
            self.line += u64::from((self.masks.lf & from).count_ones());
            p = w + 64;
        }
        None
    }

    /// Read the next record into `rec`; None at the end of the block.
    pub fn next_into(&mut self, rec: &mut RawRecord) -> Option<RecordPos> {
        let buf = self.buf;
        let n = buf.len();
        let mut p = self.pos;
        while p < n && (buf[p] == b'\n' || buf[p] == b'\r') {
            self.line += u64::from(buf[p] == b'\n');
            p += 1;
        }
        if p >= n {
            self.pos = n;
            return None;
        }
        let at = RecordPos { byte: p, line: self.line };
        rec.spans.clear();
        rec.scratch.clear();
        rec.start = p;
        loop {
            if p < n && buf[p] == b'"' {
                p += 1;
                let from = rec.scratch.len();
                loop {
                    match self.next_quote(p) {
                        None => {
                            rec.scratch.extend_from_slice(&buf[p..]);
                            p = n;
                            break;
                        }
                        Some(q) => {
                            rec.scratch.extend_from_slice(&buf[p..q]);
                            if q + 1 < n && buf[q + 1] == b'"' {
                                rec.scratch.push(b'"');
                                p = q + 2;
                            } else {
                                p = q + 1;
                                break;
                            }
                        }
                    }
                }
                // Anything between the closing quote and the delimiter belongs to the field.
                let k = self.field_end(p);
                rec.scratch.extend_from_slice(&buf[p..k]);
                p = k;
                rec.spans.push(Span { start: from, end: rec.scratch.len(), in_scratch: true });
            } else {
                let k = self.field_end(p);
                rec.spans.push(Span { start: p, end: k, in_scratch: false });
                p = k;
            }
            rec.end = p;
            if p >= n {
                break;
            }
            let b = buf[p];
            p += 1;
            if b == self.delim {
                continue;
            }
            if b == b'\n' {
                self.line += 1;
            } else if p < n && buf[p] == b'\n' {
                // `\r\n`
                self.line += 1;
                p += 1;
            }
            break;
        }
        self.pos = p;
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ours(data: &[u8], delim: u8) -> Vec<Vec<Vec<u8>>> {
        let mut r = Records::new(data, delim);
        let mut rec = RawRecord::default();
        let mut out = Vec::new();
        while r.next_into(&mut rec).is_some() {
            out.push((0..rec.len()).map(|i| rec.bytes(data, i).to_vec()).collect());
        }
        out
    }

    fn csv_crate(data: &[u8], delim: u8) -> Vec<Vec<Vec<u8>>> {
        let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delim).from_reader(data);
        let mut rec = csv::ByteRecord::new();
        let mut out = Vec::new();
        while rdr.read_byte_record(&mut rec).unwrap() {
            out.push(rec.iter().map(<[u8]>::to_vec).collect());
        }
        out
    }

    #[test]
    fn splits_like_the_csv_crate_on_the_usual_quirks() {
        let cases: [&[u8]; 9] = [
            b"a,b,c\n1,2,3\n",
            b"a,\"b,\"\"c\"\"\nd\",e\r\nf,,\n",
            b"\n\r\n\na\n\n",
            b"\"ab\"cd,x\"y\n",
            b"\"open,never closed\nstill",
            b"a,b,",
            b"x\ry\r\nz",
            b" \"q\",\"\"\n",
            b"",
        ];
        for c in cases {
            assert_eq!(ours(c, b','), csv_crate(c, b','), "{:?}", String::from_utf8_lossy(c));
        }
    }

    #[test]
    fn both_three_byte_searches_agree() {
        let data = b"abc,de\r\nf\nlong field without an end at all, then,a comma";
        for delim in [b',', b';'] {
            for at in 0..data.len() {
                let want = memchr::memchr3(delim, b'\n', b'\r', &data[at..]);
                assert_eq!(Find3::new(delim, b'\n', b'\r').find(&data[at..]), want);
                assert_eq!(Find3::Any(delim, b'\n', b'\r').find(&data[at..]), want);
            }
        }
    }

    #[test]
    fn long_fields_across_many_mask_windows_split_like_the_csv_crate() {
        let long = "x".repeat(150);
        let data = format!("{long},\"{long}\"\"\n{long}\",a\r\n\"{long}\"{long},;\n\n{long}\"{long}\r{long}");
        for delim in [b',', b';'] {
            assert_eq!(ours(data.as_bytes(), delim), csv_crate(data.as_bytes(), delim));
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn sse2_masks_mark_the_same_bytes_as_the_byte_loop() {
        let alphabet = b"a,;\"\n\r\t\xc3";
        let mut w = [0u8; 64];
        for seed in 0..500u32 {
            for (i, b) in w.iter_mut().enumerate() {
                let x = (i as u32 + 1).wrapping_mul(seed.wrapping_mul(2_654_435_761) | 1) >> 7;
                *b = alphabet[x as usize % alphabet.len()];
            }
            for delim in [b',', b'\t', b';'] {
                let bits = |f: &dyn Fn(u8) -> bool| {
                    w.iter().enumerate().fold(0u64, |m, (i, &b)| if f(b) { m | 1 << i } else { m })
                };
                let want = Masks {
                    ends: bits(&|b| b == delim || b == b'\n' || b == b'\r'),
                    quotes: bits(&|b| b == b'"'),
                    lf: bits(&|b| b == b'\n'),
                };
                assert_eq!(sse2_masks(&w, delim), want);
                let short = masks(&w[..63], delim);
                let cut = u64::MAX >> 1;
                assert_eq!(short, Masks { ends: want.ends & cut, quotes: want.quotes & cut, lf: want.lf & cut });
            }
        }
    }

    #[test]
    fn reports_record_start_byte_and_line() {
        let data = b"a,\"x\ny\"\n\n\nb,c\r\nd";
        let mut r = Records::new(data, b',');
        let mut rec = RawRecord::default();
        let mut got = Vec::new();
        while let Some(p) = r.next_into(&mut rec) {
            got.push((p.byte, p.line, rec.start, rec.end));
        }
        assert_eq!(got, vec![(0, 0, 0, 7), (10, 4, 10, 13), (15, 5, 15, 16)]);
    }

    proptest! {
        #[test]
        fn any_input_splits_like_the_csv_crate(
            bytes in proptest::collection::vec(prop::sample::select(b"a,;\"\n\r \t\xc3".to_vec()), 0..400),
            semicolon in any::<bool>(),
        ) {
            let delim = if semicolon { b';' } else { b',' };
            prop_assert_eq!(ours(&bytes, delim), csv_crate(&bytes, delim));
        }
    }
}
