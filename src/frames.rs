//! Results kept per frame, read back on later visits: records in one byte arena, found by frame number.
//!
//! Wireshark numbers frames from 1, densely, and its first pass visits them in order, so a vector indexed by the
//! number finds them without a hash table's per-entry overhead, and variable-length records keep what a frame
//! has in the few bytes it needs. Every dump frame has some, so this is most of smcdump's memory.

/// Byte records per frame number, kept one after another in one arena with where each frame's starts: for values
/// mostly absent or small, a few bytes a frame instead of a fixed struct. Records carry no length: each must be
/// non-empty and say itself where it ends (a presence byte, then varints), so [`FrameRecords::get`] gives the
/// arena from the record's start on. A frame recorded again gets a new record (the old bytes stay, unreferenced).
#[derive(Clone, Debug, Default)]
pub struct FrameRecords {
    /// One past the start of each frame's record in `bytes` (0: none).
    starts: Vec<u32>,
    bytes: Vec<u8>,
}

impl FrameRecords {
    /// The bytes from frame `num`'s record on, if one was stored.
    pub fn get(&self, num: u32) -> Option<&[u8]> {
        let start = (*self.starts.get(num as usize)? as usize).checked_sub(1)?;
        self.bytes.get(start..)
    }

    /// The same, to change the record in place (its length must stay).
    pub fn get_mut(&mut self, num: u32) -> Option<&mut [u8]> {
        let start = (*self.starts.get(num as usize)? as usize).checked_sub(1)?;
        self.bytes.get_mut(start..)
    }

    /// Whether frame `num` has a record.
    pub fn contains(&self, num: u32) -> bool {
        self.get(num).is_some()
    }

    /// Stores `record` (non-empty, self-delimiting) for frame `num`, replacing any. An empty record, or one that
    /// would take the arena past 4 GiB, is not stored.
    pub fn insert(&mut self, num: u32, record: &[u8]) {
        let Ok(start) = u32::try_from(self.bytes.len() + 1) else {
            return;
        };
        if record.is_empty() {
            return;
        }
        let i = num as usize;
        if self.starts.len() <= i {
            self.starts.resize(i + 1, 0);
        }
        self.starts[i] = start;
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
        r.insert(1, &[4]);
        assert_eq!((r.get(1), r.get(2), r.get(3), r.get(99)), (Some(&[4][..]), None, Some(&[1, 2, 3, 4][..]), None));
        r.insert(3, &[9]);
        assert_eq!(r.get(3), Some(&[9][..]));
        r.get_mut(3).unwrap()[0] = 8;
        assert_eq!(r.get(3), Some(&[8][..]));
        r.insert(4, &[]);
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
}
