//! Learning the dump header's layout from the frames of a capture.
//!
//! The header length and the two type codes are inferred ([`super::layout`]); the frames themselves can say which
//! values are right. Two kinds of frame identify themselves through what is confirmed about their payload (spec
//! 4.2–4.4): an SMC-R CDC is exactly 48 bytes starting `FE 2C` (type 0xFE, length 44), and an SMC-D CDC the host
//! sent is 32 bytes starting `FE`; the header's length field covers header and payload. One such frame fixes the
//! header length and the CDC type code; the other type code seen in the capture is then raw data.
//!
//! The first self-identifying frame wins: later evidence that implies another layout is a conflict to report,
//! never a reason to switch (a layout that changed half way through would make frames depend on each other's
//! order). Frames are observed once each, in capture order, on Wireshark's first pass: an observation of a frame
//! number not above the highest one seen is ignored, so later passes and re-dissections learn nothing new.

use super::cdc::{CDC_MSG_TYPE, SMCD_DUMP_SIZE, SMCR_CDC_LEN, SMCR_DUMP_SIZE};
use super::layout::{header_field, MAX_HEADER_LEN, MIN_HEADER_LEN};
use super::{ByteOrder, Layout, Record, MAGIC};

/// The layout one frame implies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// Header length: the datagram minus the CDC record.
    pub header_len: usize,
    /// The header's type code: that of a CDC message.
    pub type_cdc: u8,
}

/// The layout a self-identifying CDC frame implies, or `None` when `payload` (a whole UDP payload, `reported`
/// bytes on the wire) is not one: not wholly captured, no magic, a length field other than the datagram's, no
/// CDC record of its mode's size and first bytes at the end, a header length out of range, or non-zero reserved
/// header bytes.
pub fn identify(payload: &[u8], reported: usize) -> Option<Evidence> {
    if payload.len() != reported || payload.get(header_field::MAGIC)? != MAGIC.to_be_bytes() {
        return None;
    }
    let header = Record::new(payload, 0);
    if usize::from(header.u16(&header_field::LEN, ByteOrder::Big)?.value) != reported {
        return None;
    }
    let (record, first): (usize, &[u8]) = match header.u8(&header_field::MODE)?.value {
        1 => (SMCR_DUMP_SIZE, &[CDC_MSG_TYPE, SMCR_CDC_LEN]),
        2 => (SMCD_DUMP_SIZE, &[CDC_MSG_TYPE]),
        _ => return None,
    };
    let header_len = reported.checked_sub(record)?;
    if !(MIN_HEADER_LEN..=MAX_HEADER_LEN).contains(&header_len)
        || payload.get(header_len..header_len + first.len())? != first
        || header.any_nonzero(&(header_field::RESERVED..header_len))
    {
        return None;
    }
    Some(Evidence { header_len, type_cdc: header.u8(&header_field::TYPE)?.value })
}

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
    use crate::wire::emit::{dump_frame, smcd_cdc, smcr_cdc, HeaderSpec, SmcdCdcSpec, SmcrCdcSpec};

    fn layout(header_len: usize, type_raw: u8, type_cdc: u8) -> Layout {
        Layout { header_len, type_raw, type_cdc, ..Layout::default() }
    }

    fn smcr(l: &Layout) -> Vec<u8> {
        dump_frame(l, &HeaderSpec::new(1, 1, l.type_cdc), &smcr_cdc(&SmcrCdcSpec::new(1, 2, (0, 3), (0, 4))))
    }

    fn smcd(l: &Layout) -> Vec<u8> {
        let spec = SmcdCdcSpec::sent(ByteOrder::Little, (0, 3), (0, 4));
        dump_frame(l, &HeaderSpec::new(1, 2, l.type_cdc), &smcd_cdc(&spec))
    }

    fn raw(l: &Layout, n: usize) -> Vec<u8> {
        dump_frame(l, &HeaderSpec::new(1, 1, l.type_raw), &vec![0xFE; n])
    }

    #[test]
    fn cdc_frames_identify_their_layout() {
        for l in [layout(16, 1, 2), layout(12, 0, 1), layout(20, 2, 1), layout(10, 5, 9), layout(64, 1, 2)] {
            let want = Some(Evidence { header_len: l.header_len, type_cdc: l.type_cdc });
            let f = smcr(&l);
            assert_eq!(identify(&f, f.len()), want, "{l:?}");
            let f = smcd(&l);
            assert_eq!(identify(&f, f.len()), want, "{l:?}");
        }
    }

    #[test]
    fn other_frames_say_nothing() {
        let l = Layout::default();
        let f = smcr(&l);
        assert_eq!(identify(&f[..f.len() - 1], f.len()), None, "not wholly captured");
        assert_eq!(identify(&f, f.len() + 1), None, "length field is not the datagram's");
        let mut bad = f.clone();
        bad[16] = 0xFD;
        assert_eq!(identify(&bad, bad.len()), None, "no FE");
        let mut bad = f.clone();
        bad[12] = 1;
        assert_eq!(identify(&bad, bad.len()), None, "reserved header byte set");
        let mut bad = f.clone();
        bad[6] = 2;
        assert_eq!(identify(&bad, bad.len()), None, "SMC-D mode, but no 32-byte record starting FE");
        let r = raw(&l, 100);
        assert_eq!(identify(&r, r.len()), None, "raw data of another size");
        // SMC-D received: uninitialised type byte.
        let mut d = smcd(&l);
        d[16] = 0x13;
        assert_eq!(identify(&d, d.len()), None);
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
