//! Learning the dump header's layout from the frames of a capture (what each frame implies is
//! [`crate::wire::learn::identify`]'s to say), by weight of evidence.
//!
//! Every self-identifying frame counts for the layout it implies; frames implying the built-in layout count for
//! it. The layout the most frames imply wins, the one in use winning ties: one in use is left only for a layout
//! at least [`MARGIN`] frames ahead of it, so a single stray frame (corrupted, or crafted by anyone who can send a
//! UDP datagram to a captured host) changes nothing, and a capture whose frames mostly imply another layout
//! learns it from its second such frame on. The raw data type code is the code most frames other than the CDCs
//! carry (the earliest of equals). A frame that implies another layout than the winner's is flagged (rendering).
//!
//! Frames are observed once each, in capture order, on Wireshark's first pass: an observation of a frame number
//! not above the highest one seen is ignored, so later passes and re-dissections learn nothing new and show the
//! layout the whole capture taught.

use crate::wire::layout::header_field;
use crate::wire::learn::{identify, Evidence};
use crate::wire::{Layout, MAGIC};

/// How many more frames a layout needs than the one in use to replace it.
pub const MARGIN: u32 = 2;

/// A layout learned from a capture, other than the built-in one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Learned {
    pub evidence: Evidence,
    /// The frame it was learned at: the one whose evidence made it win.
    pub frame: u32,
    /// The raw data type code: the code most other frames carried, with the first frame that did; `None` while
    /// none did.
    pub type_raw: Option<(u8, u32)>,
}

/// What one capture file has taught so far.
#[derive(Clone, Debug)]
pub struct Learner {
    /// The highest frame number observed.
    last: u32,
    /// For each type code, how many frames' dump headers carried it, and the first that did.
    codes: [(u32, u32); 256],
    /// Each layout self-identifying frames implied: how many did, and the first that did.
    implied: Vec<(Evidence, u32, u32)>,
    /// The layout in use: an index into `implied`, or `None` for the built-in one.
    chosen: Option<usize>,
    /// The frame the layout in use was chosen at.
    chosen_at: u32,
}

impl Default for Learner {
    fn default() -> Self {
        Learner { last: 0, codes: [(0, 0); 256], implied: Vec::new(), chosen: None, chosen_at: 0 }
    }
}

impl Learner {
    /// Observes frame `num`'s UDP payload (captured bytes, `reported` on the wire), the preferences giving the
    /// built-in layout `base`. Returns whether the layout in use changed.
    pub fn observe(&mut self, num: u32, payload: &[u8], reported: usize, base: &Layout) -> bool {
        if num <= self.last {
            return false;
        }
        self.last = num;
        if payload.get(header_field::MAGIC) != Some(&MAGIC.to_be_bytes()[..]) {
            return false;
        }
        if let Some(&code) = payload.get(header_field::TYPE.start) {
            let c = &mut self.codes[usize::from(code)];
            if c.0 == 0 {
                c.1 = num;
            }
            c.0 = c.0.saturating_add(1);
        }
        let Some(evidence) = identify(payload, reported) else { return false };
        match self.implied.iter().position(|e| e.0 == evidence) {
            Some(i) => self.implied[i].1 = self.implied[i].1.saturating_add(1),
            // A bounded list: a capture of garbage cannot grow it without end.
            None if self.implied.len() < 16 => self.implied.push((evidence, 1, num)),
            None => return false,
        }
        let builtin = Evidence { header_len: base.header_len, type_cdc: base.type_cdc };
        let count = |e: Option<usize>| match e {
            Some(i) => self.implied[i].1,
            None => self.implied.iter().find(|e| e.0 == builtin).map_or(0, |e| e.1),
        };
        let in_use = count(self.chosen);
        // The best other than the built-in one (which counts as `None`), the first implied of equals.
        let best = (0..self.implied.len())
            .filter(|&i| self.implied[i].0 != builtin)
            .max_by_key(|&i| (self.implied[i].1, std::cmp::Reverse(self.implied[i].2)));
        let candidate = match best {
            Some(i) if count(Some(i)) > count(None) => Some(i),
            _ => None,
        };
        if candidate != self.chosen && count(candidate) >= in_use.saturating_add(MARGIN) {
            self.chosen = candidate;
            self.chosen_at = num;
            return true;
        }
        false
    }

    /// The code other than `type_cdc` most frames carried (the earliest of equals).
    fn raw_code(&self, type_cdc: u8) -> Option<(u8, u32)> {
        (0..=u8::MAX)
            .filter(|&c| c != type_cdc && self.codes[usize::from(c)].0 > 0)
            .max_by_key(|&c| (self.codes[usize::from(c)].0, std::cmp::Reverse(self.codes[usize::from(c)].1)))
            .map(|c| (c, self.codes[usize::from(c)].1))
    }

    /// The learned layout, when it is not the built-in one.
    pub fn learned(&self) -> Option<Learned> {
        let (evidence, _, _) = *self.implied.get(self.chosen?)?;
        Some(Learned { evidence, frame: self.chosen_at, type_raw: self.raw_code(evidence.type_cdc) })
    }

    /// The layout in use's evidence: the learned one's, or the built-in `base`'s.
    pub fn winner(&self, base: &Layout) -> Evidence {
        self.learned().map_or(Evidence { header_len: base.header_len, type_cdc: base.type_cdc }, |l| l.evidence)
    }

    /// `base` with what was learned put in: the header length and CDC code of the layout in use, the raw code most
    /// other frames carried. While no raw code was seen, the base's stays, unless it is the learned CDC code: then
    /// raw data gets the base's CDC code, the one code left over from the swap.
    pub fn layout(&self, base: &Layout) -> Layout {
        let Some(l) = self.learned() else { return *base };
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
    use crate::wire::learn::tests::{layout, raw, smcd, smcr};

    #[test]
    fn the_layout_most_frames_imply_wins_from_its_second_frame() {
        let base = Layout::default();
        let real = layout(12, 0, 1);
        let mut learner = Learner::default();
        assert!(!learner.observe(1, &raw(&real, 40), 52, &base));
        assert_eq!(learner.layout(&base), base, "nothing to learn from raw data");
        assert!(!learner.observe(2, &smcr(&real), 60, &base), "one frame is not enough");
        assert_eq!(learner.layout(&base), base);
        assert!(learner.observe(3, &smcr(&real), 60, &base));
        assert_eq!(learner.layout(&base), real);
        let got = learner.learned().unwrap();
        assert_eq!((got.frame, got.type_raw, learner.winner(&base)), (3, Some((0, 1)), got.evidence));
        // A frame of the built-in layout changes nothing; neither does a second pass over the same frames.
        assert!(!learner.observe(4, &smcr(&base), 64, &base));
        assert!(!learner.observe(3, &smcr(&base), 64, &base));
        assert_eq!(learner.layout(&base), real);
        // Two more for the built-in one than for the learned one: back to it, without flip-flopping before.
        assert!(!learner.observe(5, &smcr(&base), 64, &base));
        assert!(!learner.observe(6, &smcr(&base), 64, &base));
        assert!(learner.observe(7, &smcr(&base), 64, &base));
        assert_eq!((learner.layout(&base), learner.learned()), (base, None));
    }

    /// One frame implying another layout, first or anywhere, changes nothing for the others.
    #[test]
    fn a_stray_frame_changes_nothing() {
        let base = Layout::default();
        let stray = layout(16, 1, 7);
        for at in 0..8 {
            let mut learner = Learner::default();
            for num in 1..=8u32 {
                let f = if num == at + 1 { smcr(&stray) } else { smcr(&base) };
                assert!(!learner.observe(num, &f, 64, &base), "stray at {at}, frame {num}");
            }
            assert_eq!((learner.layout(&base), learner.winner(&base).type_cdc), (base, 2));
        }
    }

    #[test]
    fn raw_code_is_the_other_code_most_frames_carry() {
        let base = Layout::default();
        let real = layout(16, 2, 1);
        let mut learner = Learner::default();
        learner.observe(1, &smcd(&real), 48, &base);
        learner.observe(2, &smcd(&real), 48, &base);
        // The CDC code is the base's raw code: until raw data shows its code, raw is the code left over.
        assert_eq!(learner.layout(&base), layout(16, 2, 1));
        learner.observe(3, &raw(&layout(16, 9, 1), 5), 21, &base);
        learner.observe(4, &raw(&layout(16, 7, 1), 5), 21, &base);
        learner.observe(5, &raw(&layout(16, 7, 1), 5), 21, &base);
        assert_eq!(learner.layout(&base), layout(16, 7, 1));
        assert_eq!(learner.learned().unwrap().type_raw, Some((7, 4)));
        // The default layout, confirmed: no change at all.
        let mut learner = Learner::default();
        learner.observe(1, &smcr(&base), 64, &base);
        assert_eq!(learner.layout(&base), base);
    }
}
