//! Interned string columns: a per-column dictionary (one arena, dense codes) and the code vector.
//!
//! Code 0 is always the empty string, so "empty" checks are `code == 0` and a missing value
//! costs nothing. Dictionaries are per column, so codes stay dense and a predicate over a
//! column can be evaluated once per distinct value (`Dict::mask`) instead of once per row.

use hashbrown::hash_table::HashTable;

fn hash_str(s: &str) -> u64 {
    // Word-at-a-time multiply-rotate with a final avalanche: deterministic, and several times
    // faster than byte-wise hashing on the long values (paths, command lines) columns hold.
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let b = s.as_bytes();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ (b.len() as u64).wrapping_mul(K);
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// Distinct strings of one column, stored once in an arena.
#[derive(Clone)]
pub struct Dict {
    arena: String,
    ends: Vec<u64>,
    index: HashTable<u32>,
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

impl Dict {
    pub fn new() -> Self {
        let mut d = Dict { arena: String::new(), ends: Vec::new(), index: HashTable::new() };
        d.ends.push(0);
        d.index.insert_unique(hash_str(""), 0, |_| hash_str(""));
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
        let c = code as usize;
        let start = if c == 0 { 0 } else { self.ends[c - 1] as usize };
        let end = self.ends[c] as usize;
        &self.arena[start..end]
    }

    /// The code of `s`, adding it when new.
    pub fn intern(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        let h = hash_str(s);
        let Dict { arena, ends, index } = self;
        let get = |c: u32| -> &str {
            let c = c as usize;
            let start = if c == 0 { 0 } else { ends[c - 1] as usize };
            &arena[start..ends[c] as usize]
        };
        if let Some(&c) = index.find(h, |&c| get(c) == s) {
            return c;
        }
        let code = ends.len() as u32;
        arena.push_str(s);
        ends.push(arena.len() as u64);
        let (arena_ref, ends_ref) = (&*arena, &*ends);
        let rehash = |&c: &u32| {
            let c = c as usize;
            let start = if c == 0 { 0 } else { ends_ref[c - 1] as usize };
            hash_str(&arena_ref[start..ends_ref[c] as usize])
        };
        index.insert_unique(h, code, rehash);
        code
    }

    /// The code of `s` if present.
    pub fn lookup(&self, s: &str) -> Option<u32> {
        if s.is_empty() {
            return Some(0);
        }
        let h = hash_str(s);
        self.index.find(h, |&c| self.get(c) == s).copied()
    }

    /// Iterate `(code, string)` over every distinct value.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> + '_ {
        (0..self.ends.len() as u32).map(move |c| (c, self.get(c)))
    }

    /// A per-code boolean table: `mask[code]` = `pred(string)`. Cheap for low-cardinality columns.
    pub fn mask(&self, pred: impl Fn(&str) -> bool) -> Vec<bool> {
        self.iter().map(|(_, s)| pred(s)).collect()
    }

    /// Codes whose string equals `s` ignoring ASCII/Unicode case.
    pub fn mask_eq_ignore_case(&self, s: &str) -> Vec<bool> {
        let lower = s.to_lowercase();
        self.mask(|v| v.eq_ignore_ascii_case(s) || v.to_lowercase() == lower)
    }

    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.arena.capacity() + self.ends.capacity() * 8 + self.index.capacity() * 5
    }
}

/// One interned string column: a code per row plus the dictionary.
#[derive(Clone, Default, Debug)]
pub struct DictCol {
    pub codes: Vec<u32>,
    pub dict: Dict,
}

impl DictCol {
    pub fn push(&mut self, s: &str) {
        let c = self.dict.intern(s);
        self.codes.push(c);
    }

    pub fn get(&self, row: usize) -> &str {
        self.dict.get(self.codes[row])
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
        self.codes.reserve(other.codes.len());
        self.codes.extend(other.codes.iter().map(|&c| remap[c as usize]));
    }

    pub fn heap_bytes(&self) -> usize {
        self.codes.capacity() * 4 + self.dict.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
