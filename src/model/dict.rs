//! Interned string columns: a per-column dictionary (one arena, dense codes) and the code vector.
//!
//! Code 0 is always the empty string, so "empty" checks are `code == 0` and a missing value
//! costs nothing. Dictionaries are per column, so codes stay dense and a predicate over a
//! column can be evaluated once per distinct value (`Dict::mask`) instead of once per row.

use hashbrown::hash_table::HashTable;

/// `str::trim`, with a shortcut for the usual value that starts and ends with a visible ASCII
/// character (no character in 0x21..=0x7F is whitespace, so nothing would be trimmed).
#[inline]
pub fn trim(s: &str) -> &str {
    let visible = |b: &u8| (0x21..0x80).contains(b);
    match s.as_bytes() {
        [] => s,
        [f, .., l] if visible(f) && visible(l) => s,
        [f] if visible(f) => s,
        _ => s.trim(),
    }
}

/// 64-bit multiply folded to 64 bits: the mixing step of wyhash / foldhash.
#[inline]
fn fold(x: u64, k: u64) -> u64 {
    let p = u128::from(x) * u128::from(k);
    (p as u64) ^ ((p >> 64) as u64)
}

#[inline]
fn word(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

#[inline]
fn half(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u64::from(u32::from_le_bytes(w))
}

/// Byte equality compared a word at a time in line: the values a probe confirms are mostly
/// short, where a `memcmp` call costs more than the comparison.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n >= 8 {
        let mut i = 0;
        while i + 8 < n {
            if word(a, i) != word(b, i) {
                return false;
            }
            i += 8;
        }
        word(a, n - 8) == word(b, n - 8)
    } else if n >= 4 {
        half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4)
    } else {
        a == b
    }
}

#[inline]
fn hash_str(s: &str) -> u64 {
    // wyhash-style: up to 16 bytes are read as two (overlapping) words with no loop, longer
    // strings 16 bytes a step, each step one folded multiply. Several times faster than
    // byte-wise hashing on the values columns hold (ids, paths, command lines); deterministic.
    const K0: u64 = 0xa076_1d64_78bd_642f;
    const K1: u64 = 0xe703_7ed1_a0b4_28db;
    const K2: u64 = 0x8ebc_6af0_9c88_c6e3;
    let b = s.as_bytes();
    let n = b.len();
    let mut seed = K0 ^ (n as u64);
    let (a, z) = if n > 16 {
        let mut i = 0;
        while n - i > 16 {
            seed = fold(word(b, i) ^ K1, word(b, i + 8) ^ seed);
            i += 16;
        }
        (word(b, n - 16), word(b, n - 8))
    } else if n >= 8 {
        (word(b, 0), word(b, n - 8))
    } else if n >= 4 {
        (half(b, 0), half(b, n - 4))
    } else if n > 0 {
        ((u64::from(b[0]) << 16) | (u64::from(b[n / 2]) << 8) | u64::from(b[n - 1]), 0)
    } else {
        (0, 0)
    };
    fold(fold(a ^ K1, z ^ seed) ^ K0 ^ (n as u64), K2)
}

/// Distinct strings of one column, stored once in an arena.
#[derive(Clone)]
pub struct Dict {
    arena: String,
    ends: Vec<u64>,
    /// `(code, key)` where `key` is 32 bits of the string's hash: growing the table rehashes
    /// from `key` alone (no walk over the arena), and a probe compares bytes only when the
    /// key matches.
    index: HashTable<(u32, u32)>,
}

impl Default for Dict {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Dict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dict").field("len", &self.len()).finish()
    }
}

/// The index key of a string hash, and the table hash rebuilt from that key alone.
#[inline]
fn key_of(h: u64) -> u32 {
    (h >> 32) as u32
}

#[inline]
fn table_hash(key: u32) -> u64 {
    // hashbrown takes the bucket from the low bits and the tag from the top 7.
    (u64::from(key) << 32) | u64::from(key)
}

#[inline]
fn span(ends: &[u64], c: u32) -> (usize, usize) {
    let c = c as usize;
    let start = if c == 0 { 0 } else { ends[c - 1] as usize };
    (start, ends[c] as usize)
}

impl Dict {
    pub fn new() -> Self {
        let mut d = Dict { arena: String::new(), ends: Vec::new(), index: HashTable::new() };
        d.ends.push(0);
        let key = key_of(hash_str(""));
        d.index.insert_unique(table_hash(key), (0, key), |e| table_hash(e.1));
        d
    }

    /// Number of distinct strings, including the empty string at code 0.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.len() <= 1
    }

    /// The string for `code`. Panics only on a code this dictionary never issued (a bug).
    pub fn get(&self, code: u32) -> &str {
        let (start, end) = span(&self.ends, code);
        &self.arena[start..end]
    }

    /// The code of `s`, adding it when new.
    pub fn intern(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        let key = key_of(hash_str(s));
        let th = table_hash(key);
        let Dict { arena, ends, index } = self;
        let found = {
            let (arena, ends) = (arena.as_bytes(), &*ends);
            index.find(th, |e| {
                e.1 == key && {
                    let (start, end) = span(ends, e.0);
                    same_bytes(&arena[start..end], s.as_bytes())
                }
            })
        };
        if let Some(&(c, _)) = found {
            return c;
        }
        let code = ends.len() as u32;
        arena.push_str(s);
        ends.push(arena.len() as u64);
        index.insert_unique(th, (code, key), |e| table_hash(e.1));
        code
    }

    /// The code of `s` if present.
    pub fn lookup(&self, s: &str) -> Option<u32> {
        if s.is_empty() {
            return Some(0);
        }
        let key = key_of(hash_str(s));
        self.index.find(table_hash(key), |e| e.1 == key && self.get(e.0) == s).map(|e| e.0)
    }

    /// Iterate `(code, string)` over every distinct value.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> + '_ {
        (0..self.ends.len() as u32).map(move |c| (c, self.get(c)))
    }

    /// A per-code boolean table: `mask[code]` = `pred(string)`. Cheap for low-cardinality columns.
    pub fn mask(&self, pred: impl Fn(&str) -> bool) -> Vec<bool> {
        self.iter().map(|(_, s)| pred(s)).collect()
    }

    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.arena.capacity() + self.ends.capacity() * 8 + self.index.capacity() * 9
    }

    /// The arena and the end offset of every code (code 0's end is 0): with `index_keys`,
    /// everything `from_parts` needs to rebuild this dictionary (load snapshots).
    pub fn parts(&self) -> (&str, &[u64]) {
        (&self.arena, &self.ends)
    }

    /// The index key of every code, by code: saved so a reloaded dictionary rebuilds its index
    /// without hashing every string again.
    pub fn index_keys(&self) -> Vec<u32> {
        let mut keys = vec![0u32; self.ends.len()];
        for &(code, key) in self.index.iter() {
            if let Some(k) = keys.get_mut(code as usize) {
                *k = key;
            }
        }
        keys
    }

    /// A dictionary from `parts` and `index_keys` of another. Checks everything `get` relies
    /// on (offsets in order, inside the arena, on character boundaries), so parts read back
    /// from disk can never make a later lookup panic; Err says what is wrong.
    pub fn from_parts(arena: String, ends: Vec<u64>, keys: &[u32]) -> Result<Dict, String> {
        if ends.first() != Some(&0) {
            return Err("dictionary does not start with the empty string".into());
        }
        if keys.len() != ends.len() {
            return Err(format!("dictionary has {} strings but {} index keys", ends.len(), keys.len()));
        }
        if ends.len() > u32::MAX as usize {
            return Err("dictionary has more strings than codes".into());
        }
        if ends.last().copied() != Some(arena.len() as u64) {
            return Err("dictionary offsets do not end at the end of its text".into());
        }
        let mut prev = 0u64;
        for &e in &ends {
            if e < prev || !arena.is_char_boundary(e as usize) {
                return Err("dictionary offsets out of order or inside a character".into());
            }
            prev = e;
        }
        let mut index = HashTable::with_capacity(ends.len());
        for (code, &key) in keys.iter().enumerate() {
            index.insert_unique(table_hash(key), (code as u32, key), |e: &(u32, u32)| table_hash(e.1));
        }
        Ok(Dict { arena, ends, index })
    }
}

/// The code of every row of a string column, stored in the narrowest width that holds every
/// code so far: one byte while the dictionary has at most 256 strings, two up to 65,536, four
/// beyond. Most columns of an export (action, protocol, device, process, company...) have few
/// distinct values, so this is 1-2 bytes a row instead of 4. Pushing a code that does not fit
/// widens the whole column once (at most twice in its life).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Codes {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
}

impl Default for Codes {
    fn default() -> Self {
        Codes::U8(Vec::new())
    }
}

impl From<Vec<u32>> for Codes {
    /// The codes in the narrowest width that holds the largest.
    fn from(v: Vec<u32>) -> Codes {
        let max = v.iter().copied().max().unwrap_or(0);
        if max <= u8::MAX as u32 {
            Codes::U8(v.into_iter().map(|c| c as u8).collect())
        } else if max <= u16::MAX as u32 {
            Codes::U16(v.into_iter().map(|c| c as u16).collect())
        } else {
            Codes::U32(v)
        }
    }
}

impl Codes {
    /// The code of `row`. Panics when `row` is out of range, like slice indexing.
    #[inline]
    pub fn get(&self, row: usize) -> u32 {
        match self {
            Codes::U8(v) => u32::from(v[row]),
            Codes::U16(v) => u32::from(v[row]),
            Codes::U32(v) => v[row],
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Codes::U8(v) => v.len(),
            Codes::U16(v) => v.len(),
            Codes::U32(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every code, in row order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = u32> + '_ {
        (0..self.len()).map(|r| self.get(r))
    }

    /// Bytes per row.
    pub fn width(&self) -> usize {
        match self {
            Codes::U8(_) => 1,
            Codes::U16(_) => 2,
            Codes::U32(_) => 4,
        }
    }

    /// Make room for codes up to `max` (widening every code stored so far when needed).
    fn fit(&mut self, max: u32) {
        let need = if max <= u8::MAX as u32 {
            1
        } else if max <= u16::MAX as u32 {
            2
        } else {
            4
        };
        if need <= self.width() {
            return;
        }
        *self = match (std::mem::take(self), need) {
            (Codes::U8(v), 2) => Codes::U16(v.into_iter().map(u16::from).collect()),
            (Codes::U8(v), _) => Codes::U32(v.into_iter().map(u32::from).collect()),
            (Codes::U16(v), _) => Codes::U32(v.into_iter().map(u32::from).collect()),
            (wide, _) => wide,
        };
    }

    #[inline]
    pub fn push(&mut self, c: u32) {
        match self {
            Codes::U8(v) if c <= u8::MAX as u32 => v.push(c as u8),
            Codes::U16(v) if c <= u16::MAX as u32 => v.push(c as u16),
            Codes::U32(v) => v.push(c),
            _ => {
                self.fit(c);
                self.push(c);
            }
        }
    }

    /// Append `other`'s codes, each mapped through `remap` (one loop per pair of widths, no
    /// width test per row: this runs for every row of every chunk of a load).
    pub fn extend_remapped(&mut self, other: &Codes, remap: &[u32]) {
        self.fit(remap.iter().copied().max().unwrap_or(0));
        match self {
            // `fit` made every remapped code fit the width.
            Codes::U8(v) => extend_mapped(v, other, |c| remap[c as usize] as u8),
            Codes::U16(v) => extend_mapped(v, other, |c| remap[c as usize] as u16),
            Codes::U32(v) => extend_mapped(v, other, |c| remap[c as usize]),
        }
    }

    pub fn shrink_to_fit(&mut self) {
        match self {
            Codes::U8(v) => v.shrink_to_fit(),
            Codes::U16(v) => v.shrink_to_fit(),
            Codes::U32(v) => v.shrink_to_fit(),
        }
    }

    pub fn heap_bytes(&self) -> usize {
        match self {
            Codes::U8(v) => v.capacity(),
            Codes::U16(v) => v.capacity() * 2,
            Codes::U32(v) => v.capacity() * 4,
        }
    }

    /// The largest code (0 when empty).
    pub fn max(&self) -> u32 {
        match self {
            Codes::U8(v) => v.iter().copied().max().map_or(0, u32::from),
            Codes::U16(v) => v.iter().copied().max().map_or(0, u32::from),
            Codes::U32(v) => v.iter().copied().max().unwrap_or(0),
        }
    }
}

/// `dst` extended with `f` of every code of `src`.
fn extend_mapped<T>(dst: &mut Vec<T>, src: &Codes, f: impl Fn(u32) -> T) {
    dst.reserve(src.len());
    match src {
        Codes::U8(s) => dst.extend(s.iter().map(|&c| f(u32::from(c)))),
        Codes::U16(s) => dst.extend(s.iter().map(|&c| f(u32::from(c)))),
        Codes::U32(s) => dst.extend(s.iter().map(|&c| f(c))),
    }
}

/// One interned string column: a code per row plus the dictionary.
#[derive(Clone, Default, Debug)]
pub struct DictCol {
    pub codes: Codes,
    pub dict: Dict,
}

impl DictCol {
    pub fn push(&mut self, s: &str) {
        let c = self.dict.intern(s);
        self.codes.push(c);
    }

    pub fn get(&self, row: usize) -> &str {
        self.dict.get(self.codes.get(row))
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Append another column (built separately, e.g. on another thread), remapping its codes.
    pub fn append(&mut self, other: DictCol) {
        if self.codes.is_empty() && self.dict.is_empty() {
            // Nothing to remap into: take the other column as is (the first chunk of a load).
            *self = other;
            return;
        }
        let remap: Vec<u32> = other.dict.iter().map(|(_, s)| self.dict.intern(s)).collect();
        self.codes.extend_remapped(&other.codes, &remap);
    }

    pub fn heap_bytes(&self) -> usize {
        self.codes.heap_bytes() + self.dict.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_stay_narrow_until_a_code_needs_more_and_keep_every_value() {
        let mut c = Codes::default();
        let want: Vec<u32> = (0..300).chain([70_000, 5, 65_535]).collect();
        for (i, &v) in want.iter().enumerate() {
            c.push(v);
            let width = match v {
                _ if i < 256 => 1,
                _ if i < 300 => 2,
                _ => 4,
            };
            assert_eq!(c.width(), width, "after pushing {v}");
        }
        assert_eq!(c.iter().collect::<Vec<_>>(), want);
        assert_eq!((c.len(), c.max()), (want.len(), 70_000));
        assert_eq!(Codes::from(vec![3, 255]), Codes::U8(vec![3, 255]));
        assert_eq!(Codes::from(vec![3, 256]), Codes::U16(vec![3, 256]));
        assert_eq!(Codes::from(vec![65_536]), Codes::U32(vec![65_536]));
        assert_eq!(Codes::from(Vec::new()).width(), 1);
    }

    #[test]
    fn appending_a_column_widens_to_its_remapped_codes() {
        let mut a = DictCol::default();
        for i in 0..200 {
            a.push(&format!("a{i}"));
        }
        let mut b = DictCol::default();
        for i in 0..100 {
            b.push(&format!("b{i}"));
        }
        b.push("a5");
        a.append(b);
        assert_eq!(a.codes.width(), 2, "301 strings need two bytes");
        assert_eq!(a.len(), 301);
        assert_eq!((a.get(0), a.get(199), a.get(200), a.get(299), a.get(300)), ("a0", "a199", "b0", "b99", "a5"));
    }

    #[test]
    fn intern_is_stable_and_empty_is_zero() {
        let mut d = Dict::new();
        assert_eq!(d.intern(""), 0);
        let a = d.intern("alpha");
        let b = d.intern("beta");
        assert_eq!(d.intern("alpha"), a);
        assert_ne!(a, b);
        assert_eq!(d.get(a), "alpha");
        assert_eq!(d.get(0), "");
        assert_eq!(d.lookup("beta"), Some(b));
        assert_eq!(d.lookup("gamma"), None);
    }

    #[test]
    fn many_strings_survive_rehash() {
        let mut d = Dict::new();
        let codes: Vec<u32> = (0..10_000).map(|i| d.intern(&format!("s{i}"))).collect();
        for (i, c) in codes.iter().enumerate() {
            assert_eq!(d.get(*c), format!("s{i}"));
            assert_eq!(d.lookup(&format!("s{i}")), Some(*c));
        }
    }

    #[test]
    fn strings_of_every_length_differing_in_any_byte_stay_distinct() {
        let mut d = Dict::new();
        let mut seen = Vec::new();
        for len in 1..=40usize {
            let base = "a".repeat(len);
            let code = d.intern(&base);
            seen.push((base.clone(), code));
            for at in 0..len {
                let mut b = base.clone().into_bytes();
                b[at] = b'b';
                let s = String::from_utf8(b).unwrap();
                let code = d.intern(&s);
                seen.push((s, code));
            }
        }
        for (s, code) in &seen {
            assert_eq!(d.get(*code), s);
            assert_eq!(d.intern(s), *code);
        }
        assert_eq!(d.len(), seen.len() + 1);
    }

    proptest::proptest! {
        #[test]
        fn trim_matches_str_trim(s in "[ a\t\r\n\u{a0}\u{3000}\u{85}\u{7f}é]{0,6}") {
            proptest::prop_assert_eq!(trim(&s), s.trim());
        }
    }

    #[test]
    fn parts_rebuild_an_equal_dictionary_and_bad_parts_are_refused() {
        let mut d = Dict::new();
        for s in ["alpha", "béta", "", "gamma", "alpha"] {
            d.intern(s);
        }
        let (arena, ends) = d.parts();
        let mut back = Dict::from_parts(arena.to_string(), ends.to_vec(), &d.index_keys()).unwrap();
        assert_eq!(back.parts(), d.parts());
        for (code, s) in d.iter() {
            assert_eq!(back.lookup(s), Some(code));
        }
        assert_eq!(back.intern("delta"), 4);
        assert_eq!(back.intern("gamma"), 3);
        let keys = d.index_keys();
        let (arena, ends) = d.parts();
        let bad = |arena: &str, ends: Vec<u64>, keys: &[u32]| Dict::from_parts(arena.to_string(), ends, keys).is_err();
        assert!(bad(arena, ends[1..].to_vec(), &keys[1..]), "no empty string first");
        assert!(bad(arena, ends.to_vec(), &keys[1..]), "keys missing");
        assert!(bad(&arena[..arena.len() - 1], ends.to_vec(), &keys), "offsets past the text");
        let mut swapped = ends.to_vec();
        swapped.swap(1, 2);
        assert!(bad(arena, swapped, &keys), "offsets out of order");
        let mut split = ends.to_vec();
        split[1] += 2; // inside `é`
        assert!(bad(arena, split, &keys), "offset inside a character");
    }

    #[test]
    fn append_remaps_codes() {
        let mut a = DictCol::default();
        a.push("x");
        a.push("y");
        let mut b = DictCol::default();
        b.push("y");
        b.push("z");
        b.push("");
        a.append(b);
        let vals: Vec<&str> = (0..a.len()).map(|i| a.get(i)).collect();
        assert_eq!(vals, ["x", "y", "y", "z", ""]);
    }
}
