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

#[cfg(test)]
mod tests {
    use super::*;

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
