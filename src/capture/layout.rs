//! Learning the dump header's layout from the frames of a capture (what each frame implies is
//! [`crate::wire::learn::identify`]'s to say).
//!
//! The first self-identifying frame wins: later evidence that implies another layout is a conflict to report,
//! never a reason to switch (a layout that changed half way through would make frames depend on each other's
//! order). Frames are observed once each, in capture order, on Wireshark's first pass: an observation of a frame
//! number not above the highest one seen is ignored, so later passes and re-dissections learn nothing new.

use crate::wire::layout::header_field;
use crate::wire::learn::{identify, Evidence};
use crate::wire::{Layout, MAGIC};

/// A layout learned from a capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Learned {
    pub evidence: Evidence,
    /// The frame it was learned from.
    pub frame: u32,
    /// The raw data type code: the earliest other code seen, with its frame; `None` while none was.
    pub type_raw: Option<(u8, u32)>,
}

/// What one capture file has taught so far.
#[derive(Clone, Debug)]
pub struct Learner {
    /// The highest frame number observed.
    last: u32,
    learned: Option<Learned>,
    /// For each type code, the first frame (numbers start at 1) whose dump header carried it; 0 for none yet.
    first_seen: [u32; 256],
}

impl Default for Learner {
    fn default() -> Self {
        Learner { last: 0, learned: None, first_seen: [0; 256] }
    }
}

impl Learner {
    /// Observes frame `num`'s UDP payload (captured bytes, `reported` on the wire). Returns whether this frame
    /// taught the header length and CDC type code (the first self-identifying frame does; nothing later changes
    /// them).
    pub fn observe(&mut self, num: u32, payload: &[u8], reported: usize) -> bool {
        if num <= self.last {
            return false;
        }
        self.last = num;
        if payload.get(header_field::MAGIC) != Some(&MAGIC.to_be_bytes()[..]) {
            return false;
        }
        if let Some(&code) = payload.get(header_field::TYPE.start) {
            let seen = &mut self.first_seen[usize::from(code)];
            if *seen == 0 {
                *seen = num;
            }
        }
        match self.learned {
            Some(l) => {
                if l.type_raw.is_none() {
                    let type_raw = self.earliest_other(l.evidence.type_cdc);
                    self.learned = Some(Learned { type_raw, ..l });
                }
                false
            }
            None => match identify(payload, reported) {
                Some(evidence) => {
                    let type_raw = self.earliest_other(evidence.type_cdc);
                    self.learned = Some(Learned { evidence, frame: num, type_raw });
                    true
                }
                None => false,
            },
        }
    }

    /// The type code other than `type_cdc` that was seen first.
    fn earliest_other(&self, type_cdc: u8) -> Option<(u8, u32)> {
        (0..=u8::MAX)
            .filter(|&c| c != type_cdc)
            .filter_map(|c| Some((c, self.first_seen[usize::from(c)])).filter(|&(_, f)| f != 0))
            .min_by_key(|&(_, f)| f)
    }

    /// What was learned, if anything.
    pub fn learned(&self) -> Option<Learned> {
        self.learned
    }

    /// `base` with what was learned put in: the header length and CDC code of the first self-identifying frame,
    /// the raw code seen besides it. While no raw code was seen, the base's stays, unless it is the learned CDC
    /// code: then raw data gets the base's CDC code, the one code left over from the swap.
    pub fn layout(&self, base: &Layout) -> Layout {
        let Some(l) = self.learned else { return *base };
        let type_cdc = l.evidence.type_cdc;
        let type_raw = match l.type_raw {
            Some((code, _)) => code,
            None if base.type_raw != type_cdc => base.type_raw,
            None => base.type_cdc,
        };
        Layout { header_len: l.evidence.header_len, type_raw, type_cdc, ..*base }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::cdc::{SmcdCdcRepr, SmcrCdcRepr};
    use crate::wire::emit::{data_frame, smcd_cdc_frame, smcr_cdc_frame};
    use crate::wire::ByteOrder;

    fn layout(header_len: usize, type_raw: u8, type_cdc: u8) -> Layout {
        Layout { header_len, type_raw, type_cdc, ..Layout::default() }
    }

    fn smcr(l: &Layout) -> Vec<u8> {
        smcr_cdc_frame(l, 1, &SmcrCdcRepr::new(1, 2, (0, 3), (0, 4)))
    }

    fn smcd(l: &Layout) -> Vec<u8> {
        smcd_cdc_frame(l, 1, &SmcdCdcRepr::sent((0, 3), (0, 4)), ByteOrder::Little)
    }

    fn raw(l: &Layout, n: usize) -> Vec<u8> {
        data_frame(l, 1, 1, &vec![0xFE; n])
    }

    #[test]
    fn learns_once_then_keeps_it() {
        let base = Layout::default();
        let real = layout(12, 0, 1);
        let mut learner = Learner::default();
        assert!(!learner.observe(1, &raw(&real, 40), 52));
        assert_eq!(learner.layout(&base), base, "nothing to learn from raw data");
        assert!(learner.observe(2, &smcr(&real), 60));
        assert_eq!(learner.layout(&base), real);
        let got = learner.learned().unwrap();
        assert_eq!((got.frame, got.type_raw), (2, Some((0, 1))));
        // Conflicting evidence changes nothing; neither does a second pass over the same frames.
        assert!(!learner.observe(3, &smcr(&Layout::default()), 64));
        assert!(!learner.observe(2, &smcr(&Layout::default()), 64));
        assert_eq!(learner.layout(&base), real);
    }

    #[test]
    fn raw_code_comes_later_or_from_the_base() {
        let base = Layout::default();
        let real = layout(16, 2, 1);
        let mut learner = Learner::default();
        learner.observe(1, &smcd(&real), 48);
        // The CDC code is the base's raw code: until raw data shows its code, raw is the code left over.
        assert_eq!(learner.layout(&base), layout(16, 2, 1));
        learner.observe(2, &raw(&layout(16, 7, 1), 5), 21);
        assert_eq!(learner.layout(&base), layout(16, 7, 1));
        assert_eq!(learner.learned().unwrap().type_raw, Some((7, 2)));
        // The default layout, confirmed: no change at all.
        let mut learner = Learner::default();
        learner.observe(1, &smcr(&base), 64);
        assert_eq!(learner.layout(&base), base);
    }
}
