//! Results kept per frame, read back on later visits: a table indexed by frame number.
//!
//! Wireshark numbers frames from 1, densely, and its first pass visits them in order, so a vector indexed by the
//! number holds them without a hash table's per-entry overhead and without its doubling as it grows.

/// A value per frame number.
#[derive(Clone, Debug)]
pub struct FrameTable<T> {
    slots: Vec<Option<T>>,
}

impl<T> Default for FrameTable<T> {
    fn default() -> Self {
        FrameTable { slots: Vec::new() }
    }
}

impl<T> FrameTable<T> {
    /// The value of frame `num`, if one was stored.
    pub fn get(&self, num: u32) -> Option<&T> {
        self.slots.get(num as usize)?.as_ref()
    }

    /// The value of frame `num`, to change it.
    pub fn get_mut(&mut self, num: u32) -> Option<&mut T> {
        self.slots.get_mut(num as usize)?.as_mut()
    }

    /// Whether frame `num` has a value.
    pub fn contains(&self, num: u32) -> bool {
        self.get(num).is_some()
    }

    /// Stores `value` for frame `num`, replacing any; returns it.
    pub fn insert(&mut self, num: u32, value: T) -> &mut T {
        let i = num as usize;
        if self.slots.len() <= i {
            self.slots.resize_with(i + 1, || None);
        }
        self.slots[i].insert(value)
    }

    /// Forgets every value.
    pub fn clear(&mut self) {
        self.slots = Vec::new();
    }
}

/// Short byte records per frame number, kept one after another in one arena with the start of each frame's:
/// for values mostly absent or small, a few bytes a frame instead of a fixed struct. A frame recorded again
/// gets a new record (the old one's bytes stay, unreferenced).
#[derive(Clone, Debug, Default)]
pub struct FrameRecords {
    /// One past the start of each frame's record in `bytes` (0: none).
    starts: Vec<u32>,
    /// Each record: its length (one byte), then its bytes.
    bytes: Vec<u8>,
}

/// The longest record [`FrameRecords`] keeps.
pub const MAX_RECORD: usize = u8::MAX as usize;

impl FrameRecords {
    /// The record of frame `num`, if one was stored.
    pub fn get(&self, num: u32) -> Option<&[u8]> {
        let start = (*self.starts.get(num as usize)? as usize).checked_sub(1)?;
        let len = usize::from(*self.bytes.get(start)?);
        self.bytes.get(start + 1..start + 1 + len)
    }

    /// Whether frame `num` has a record.
    pub fn contains(&self, num: u32) -> bool {
        self.get(num).is_some()
    }

    /// Stores `record` for frame `num`, replacing any. A record longer than [`MAX_RECORD`] bytes, or one that would
    /// take the arena past 4 GiB, is not stored (callers' records are bounded well below both).
    pub fn insert(&mut self, num: u32, record: &[u8]) {
        let (Ok(len), Ok(start)) = (u8::try_from(record.len()), u32::try_from(self.bytes.len() + 1)) else {
            return;
        };
        let i = num as usize;
        if self.starts.len() <= i {
            self.starts.resize(i + 1, 0);
        }
        self.starts[i] = start;
        self.bytes.push(len);
        self.bytes.extend_from_slice(record);
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

    #[test]
    fn records_by_frame_number() {
        let mut r = FrameRecords::default();
        assert_eq!(r.get(3), None);
        r.insert(3, &[1, 2, 3]);
        r.insert(1, &[]);
        assert_eq!((r.get(1), r.get(2), r.get(3), r.get(99)), (Some(&[][..]), None, Some(&[1, 2, 3][..]), None));
        r.insert(3, &[9]);
        assert_eq!(r.get(3), Some(&[9][..]));
        r.insert(4, &[0; MAX_RECORD + 1]);
        assert!(!r.contains(4) && r.contains(1));
        r.clear();
        assert!(!r.contains(1));
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

    #[test]
    fn values_by_frame_number() {
        let mut t = FrameTable::default();
        assert_eq!(t.get(3), None);
        t.insert(3, "c");
        t.insert(1, "a");
        assert_eq!((t.get(1), t.get(2), t.get(3), t.get(99)), (Some(&"a"), None, Some(&"c"), None));
        *t.get_mut(3).unwrap() = "C";
        assert!(t.contains(3) && !t.contains(2));
        t.clear();
        assert!(!t.contains(1));
    }
}
