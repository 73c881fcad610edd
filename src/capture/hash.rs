//! Hash maps for the state looked up on every frame (connections by endpoints, directions): a multiply-rotate
//! hash over whole words instead of the standard SipHash, whose resistance to crafted keys cost about a thousand
//! instructions a frame here (callgrind) and buys little in a dissector: a capture crafted to collide slows down
//! its own dissection, it cannot make it wrong or crash it.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// The word hash: each word is mixed in by a rotation, an exclusive or and a multiplication by an odd constant
/// with well-spread bits.
#[derive(Clone, Copy, Debug, Default)]
pub struct WordHasher {
    hash: u64,
}

const MULTIPLIER: u64 = 0x517c_c1b7_2722_0a95;

impl WordHasher {
    fn mix(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.mix(i.into());
    }
    fn write_u16(&mut self, i: u16) {
        self.mix(i.into());
    }
    fn write_u32(&mut self, i: u32) {
        self.mix(i.into());
    }
    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A `HashMap` with [`WordHasher`]; make one with `FastMap::default()`.
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<WordHasher>>;
/// A `HashSet` with [`WordHasher`].
pub type FastSet<K> = HashSet<K, BuildHasherDefault<WordHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Endpoint, Flow};

    #[test]
    fn maps_keyed_by_flows_find_what_they_hold() {
        let server = Endpoint::new([10, 1, 0, 1], 80);
        let mut m: FastMap<Flow, u32> = FastMap::default();
        for i in 0..1000u32 {
            let a = Endpoint::new([10, 0, (i >> 8) as u8, i as u8], 40000 + i as u16);
            m.insert(Flow::new(a, server), i);
        }
        assert_eq!(m.len(), 1000);
        assert_eq!(m.get(&Flow::new(Endpoint::new([10, 0, 1, 244], 40500), server)), Some(&500));
        assert_eq!(m.get(&Flow::new(Endpoint::new([10, 0, 1, 244], 40501), server)), None);
        let s: FastSet<u32> = (0..10).collect();
        assert!(s.contains(&9) && !s.contains(&10));
    }

    #[test]
    fn different_words_hash_differently() {
        let h = |words: &[u32]| {
            let mut h = WordHasher::default();
            words.iter().for_each(|&w| h.write_u32(w));
            h.finish()
        };
        assert_ne!(h(&[1, 2]), h(&[2, 1]));
        assert_ne!(h(&[1]), h(&[1, 1]));
    }
}
