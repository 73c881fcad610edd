//! What one frame says about the dump header's layout.
//!
//! The header length and the two type codes are inferred ([`super::layout`]); the frames themselves can say which
//! values are right. Two kinds of frame identify themselves through what is confirmed about their payload (spec
//! 4.2–4.4): an SMC-R CDC is exactly 48 bytes starting `FE 2C` (type 0xFE, length 44), and an SMC-D CDC the host
//! sent is 32 bytes starting `FE`; the header's length field covers header and payload. One such frame implies
//! the header length and the CDC type code ([`identify`]); weighing what the frames of a capture imply is the
//! capture's business (`crate::capture::layout`).

use super::cdc::{CDC_MSG_TYPE, SMCD_DUMP_SIZE, SMCR_CDC_LEN, SMCR_DUMP_SIZE};
use super::header::length_field;
use super::layout::{header_field, MAX_HEADER_LEN, MIN_HEADER_LEN};
use super::MAGIC;

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
    if usize::from(length_field(payload)?) != reported {
        return None;
    }
    let (record, first): (usize, &[u8]) = match payload.get(header_field::MODE.start)? {
        1 => (SMCR_DUMP_SIZE, &[CDC_MSG_TYPE, SMCR_CDC_LEN]),
        2 => (SMCD_DUMP_SIZE, &[CDC_MSG_TYPE]),
        _ => return None,
    };
    let header_len = reported.checked_sub(record)?;
    if !(MIN_HEADER_LEN..=MAX_HEADER_LEN).contains(&header_len)
        || payload.get(header_len..header_len + first.len())? != first
        || payload.get(MIN_HEADER_LEN..header_len)?.iter().any(|&b| b != 0)
    {
        return None;
    }
    Some(Evidence { header_len, type_cdc: *payload.get(header_field::TYPE.start)? })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::wire::cdc::{SmcdCdcRepr, SmcrCdcRepr};
    use crate::wire::emit::{data_frame, smcd_cdc_frame, smcr_cdc_frame};
    use crate::wire::{ByteOrder, Layout};

    // Frames of a given layout, shared with the tests of `capture::layout`, which learns from them.
    pub(crate) fn layout(header_len: usize, type_raw: u8, type_cdc: u8) -> Layout {
        Layout { header_len, type_raw, type_cdc, ..Layout::default() }
    }

    pub(crate) fn smcr(l: &Layout) -> Vec<u8> {
        smcr_cdc_frame(l, 1, &SmcrCdcRepr::new(1, 2, (0, 3), (0, 4)))
    }

    pub(crate) fn smcd(l: &Layout) -> Vec<u8> {
        smcd_cdc_frame(l, 1, &SmcdCdcRepr::sent((0, 3), (0, 4)), ByteOrder::Little)
    }

    pub(crate) fn raw(l: &Layout, n: usize) -> Vec<u8> {
        data_frame(l, 1, 1, &vec![0xFE; n])
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
}
