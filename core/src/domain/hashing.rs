//! A small, fast, deterministic hasher (FNV-1a, 64 bit) for the hot maps of selection and
//! review (ids and short contact keys). Not DoS-resistant; inputs are the practice's own data.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

#[derive(Clone, Copy, Debug)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;
pub type FastSet<K> = HashSet<K, BuildHasherDefault<Fnv>>;

/// An empty map with room for `n` entries.
pub fn fast_map<K, V>(n: usize) -> FastMap<K, V> {
    FastMap::with_capacity_and_hasher(n, BuildHasherDefault::default())
}

/// An empty set with room for `n` entries.
pub fn fast_set<K>(n: usize) -> FastSet<K> {
    FastSet::with_capacity_and_hasher(n, BuildHasherDefault::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_known_value_and_maps() {
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c.
        let mut h = Fnv::default();
        h.write(b"a");
        assert_eq!(h.finish(), 0xaf63_dc4c_8601_ec8c);
        let mut m: FastMap<&str, u32> = fast_map(4);
        m.insert("x", 1);
        m.insert("y", 2);
        assert_eq!(m.get("y"), Some(&2));
        let mut s: FastSet<u32> = fast_set(2);
        assert!(s.insert(3));
        assert!(!s.insert(3));
    }
}
