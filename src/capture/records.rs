//! Results kept per frame, read back on later visits: records in one byte arena, found by frame number.
//!
//! Wireshark numbers frames from 1, densely, and its first pass visits them in order, so records laid one after
//! another in frame order, with the position of every 32nd, are found without a hash table's per-entry overhead
//! or a pointer a frame, and variable-length records keep what a frame has in the few bytes it needs. Every dump
//! frame has some, so this is most of smcdump's memory.

use core::cell::Cell;
use core::marker::PhantomData;

use super::hash::FastMap;

/// A kind of record that says where it ends: records carry no length of their own.
pub trait SelfDelimiting {
    /// The length of the record at the start of `bytes`; `None` if it is not one.
    fn len(bytes: &[u8]) -> Option<usize>;
}

/// The byte that stands for "no record" in the arena: no record may start with it.
const NONE: u8 = 0xff;

/// Frames a block of the arena's index covers.
const BLOCK: u32 = 32;

/// Byte records per frame number, one after another in one arena, in frame order: a frame without a record
/// takes one byte ([`NONE`]), and only every 32nd frame's position is indexed, so a frame costs its record and
/// little else. Finding a frame scans from its block's start, skipping records by their length ([`SelfDelimiting`]); the
/// position last found is kept, so visiting frames in order (a second pass, the first pass reading back what it
/// just stored) costs no scan. A frame stored again, or stored after a later one, is kept apart.
#[derive(Debug)]
pub struct FrameRecords<R: SelfDelimiting> {
    bytes: Vec<u8>,
    /// Where in `bytes` each block of [`BLOCK`] frames starts (frames from 0).
    blocks: Vec<u32>,
    /// The frame number the arena's next entry is for.
    next: u32,
    /// Records stored again, or out of order.
    apart: FastMap<u32, Vec<u8>>,
    /// The last frame found in the arena and where its entry starts.
    cursor: Cell<(u32, usize)>,
    kind: PhantomData<R>,
}

impl<R: SelfDelimiting> Default for FrameRecords<R> {
    fn default() -> Self {
        FrameRecords {
            bytes: Vec::new(),
            blocks: Vec::new(),
            next: 0,
            apart: FastMap::default(),
            cursor: Cell::new((0, 0)),
            kind: PhantomData,
        }
    }
}

impl<R: SelfDelimiting> FrameRecords<R> {
    /// The bytes from frame `num`'s record on (the record says where it ends), if one was stored.
    pub fn get(&self, num: u32) -> Option<&[u8]> {
        if !self.apart.is_empty() {
            if let Some(r) = self.apart.get(&num) {
                return Some(r);
            }
        }
        let bytes = self.bytes.get(self.find(num)?..)?;
        (bytes.first() != Some(&NONE)).then_some(bytes)
    }

    /// The same, to change the record in place (its length must stay).
    pub fn get_mut(&mut self, num: u32) -> Option<&mut [u8]> {
        if self.apart.contains_key(&num) {
            return self.apart.get_mut(&num).map(Vec::as_mut_slice);
        }
        let at = self.find(num)?;
        let bytes = self.bytes.get_mut(at..)?;
        (bytes.first() != Some(&NONE)).then_some(bytes)
    }

    /// Whether frame `num` has a record.
    pub fn contains(&self, num: u32) -> bool {
        self.get(num).is_some()
    }

    /// Where frame `num`'s entry starts in the arena, if the arena holds one.
    fn find(&self, num: u32) -> Option<usize> {
        if num >= self.next {
            return None;
        }
        let (last, last_at) = self.cursor.get();
        let (mut frame, mut at) = if last <= num && last / BLOCK == num / BLOCK {
            (last, last_at)
        } else {
            let block = num / BLOCK;
            (block * BLOCK, *self.blocks.get(block as usize)? as usize)
        };
        while frame < num {
            let entry = self.bytes.get(at..)?;
            at += if entry.first() == Some(&NONE) { 1 } else { R::len(entry)? };
            frame += 1;
        }
        self.cursor.set((num, at));
        Some(at)
    }

    /// Appends frame `self.next`'s entry.
    fn push_entry(&mut self, entry: &[u8]) -> Option<()> {
        let at = u32::try_from(self.bytes.len()).ok()?;
        if self.next % BLOCK == 0 {
            self.blocks.push(at);
        }
        self.bytes.extend_from_slice(entry);
        self.next += 1;
        Some(())
    }

    /// Stores `record` (non-empty, exactly as long as [`SelfDelimiting::len`] reads it: the arena is scanned by it) for
    /// frame `num`, replacing any. An empty record is not stored.
    pub fn insert(&mut self, num: u32, record: &[u8]) {
        if record.is_empty() {
            return;
        }
        debug_assert_eq!(R::len(record), Some(record.len()), "a record must say its own length");
        // In order, in the arena; a frame stored again or out of order, or a record the arena cannot hold (one
        // starting like "no record", one past 4 GiB), apart.
        let in_order = num >= self.next && record[0] != NONE;
        if in_order && self.bytes.len() + (num - self.next) as usize + record.len() <= u32::MAX as usize {
            while self.next < num {
                let _ = self.push_entry(&[NONE]);
            }
            let at = self.bytes.len();
            if self.push_entry(record).is_some() {
                self.cursor.set((num, at));
                return;
            }
        }
        self.apart.insert(num, record.to_vec());
    }

    /// Forgets every record.
    pub fn clear(&mut self) {
        *self = FrameRecords::default();
    }
}

/// Appends `v` to `out` as a LEB128 varint: 7 bits a byte, low first, the high bit set on all but the last.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a LEB128 varint from `bytes` at `*pos`, moving `*pos` past it; `None` when the bytes end first or it
/// does not fit 64 bits.
pub fn get_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        v |= u64::from(b & 0x7f).checked_shl(shift)?;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records of a one-byte length, then that many bytes.
    #[derive(Debug)]
    struct Lv;

    impl SelfDelimiting for Lv {
        fn len(bytes: &[u8]) -> Option<usize> {
            let n = 1 + usize::from(*bytes.first()?);
            (n <= bytes.len()).then_some(n)
        }
    }

    #[test]
    fn records_by_frame_number() {
        let mut r = FrameRecords::<Lv>::default();
        assert_eq!(r.get(3), None);
        r.insert(3, &[2, 7, 7]);
        r.insert(5, &[0]);
        // From the record on: [0] after frame 3's, frame 4 has none (one byte).
        assert_eq!(
            (r.get(3), r.get(4), r.get(5), r.get(99)),
            (Some(&[2, 7, 7, NONE, 0][..]), None, Some(&[0][..]), None)
        );
        // Stored again, or before a later frame: kept apart, found the same.
        r.insert(3, &[1, 9]);
        r.insert(1, &[0]);
        assert_eq!((r.get(3), r.get(1)), (Some(&[1, 9][..]), Some(&[0][..])));
        r.get_mut(5).unwrap()[0] = 0;
        r.get_mut(3).unwrap()[1] = 8;
        assert_eq!(r.get(3), Some(&[1, 8][..]));
        // Not stored: empty; kept apart: starting like "no record".
        r.insert(6, &[]);
        r.insert(7, &[NONE; 256]);
        assert!(!r.contains(6) && r.contains(7));
        assert_eq!(r.apart.len(), 3);
        r.clear();
        assert!(!r.contains(5));
    }

    #[test]
    fn frames_are_found_in_any_order_across_blocks() {
        let mut r = FrameRecords::<Lv>::default();
        // Every third frame has a record of (n % 4) bytes after its length.
        let rec = |n: u32| -> Vec<u8> { std::iter::once((n % 4) as u8).chain((0..n % 4).map(|_| n as u8)).collect() };
        for n in (0..1000).filter(|n| n % 3 == 0) {
            r.insert(n, &rec(n));
        }
        let want = |n: u32| (n % 3 == 0).then(|| rec(n));
        for n in (0..1000).rev().chain(0..1000).chain((0..1000).map(|n| n * 7 % 1000)) {
            let got = r.get(n).map(|b| b[..Lv::len(b).unwrap()].to_vec());
            assert_eq!(got, want(n), "frame {n}");
        }
        assert!(r.apart.is_empty());
        assert_eq!(r.blocks.len(), 1000 / BLOCK as usize + 1);
    }

    #[test]
    fn varints_read_back() {
        let values = [0, 1, 127, 128, 300, 16_384, u64::from(u32::MAX), u64::MAX];
        let mut out = Vec::new();
        for v in values {
            put_varint(&mut out, v);
        }
        assert_eq!(out[..5], [0, 1, 127, 0x80, 1]);
        let mut pos = 0;
        let back: Vec<u64> = values.iter().map(|_| get_varint(&out, &mut pos).unwrap()).collect();
        assert_eq!((back.as_slice(), pos), (&values[..], out.len()));
        // Cut short, or longer than 64 bits: nothing.
        assert_eq!(get_varint(&[0x80], &mut 0), None);
        assert_eq!(get_varint(&[0xff; 11], &mut 0), None);
    }
}
