//! The inverse of the parser: whole dump frames from plain values, for test captures, property tests and fuzz
//! seeds. The records themselves write themselves ([`super::WireRepr::emit`]); this lays a header
//! ([`HeaderRepr`]) and a payload out as a [`Layout`] says, so a frame built under one layout parses back under it.
//! Nothing here validates: a value may be wrong on purpose, because test captures need broken frames too.

use super::cdc::{SmcdCdcRepr, SmcrCdcRepr};
use super::header::MAGIC;
use super::layout::{HeaderRepr, HEADER_BYTE_ORDER, MIN_HEADER_LEN};
use super::{ByteOrder, Layout, WireRepr};

/// The header modes' codes.
pub const MODE_SMCR: u8 = 1;
pub const MODE_SMCD: u8 = 2;

impl HeaderRepr {
    /// A well-formed header: the magic, version 1, the given SMC version, mode and type code; the length is set
    /// when the frame is built ([`dump_frame`]).
    pub const fn new(smc_ver: u8, mode: u8, type_code: u8) -> Self {
        HeaderRepr { magic: MAGIC, hdr_ver: 1, smc_ver, mode, type_code, len: 0 }
    }
}

/// A dump frame (the UDP payload): header `h` with its length field set to the frame's (65,535 when longer), zeroed
/// reserved bytes, then `payload`.
pub fn dump_frame(layout: &Layout, h: &HeaderRepr, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(layout.header_len.saturating_add(payload.len())).unwrap_or(u16::MAX);
    dump_frame_as_given(layout, &HeaderRepr { len, ..*h }, &[], payload)
}

/// A dump frame with header `h` exactly as given (its length field may lie), the reserved bytes `reserved` (cut
/// to the layout's, zero-padded when fewer), then `payload`.
pub fn dump_frame_as_given(layout: &Layout, h: &HeaderRepr, reserved: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; layout.header_len.max(MIN_HEADER_LEN)];
    h.emit_into(&mut out, HEADER_BYTE_ORDER);
    for (dst, &src) in out[MIN_HEADER_LEN..].iter_mut().zip(reserved) {
        *dst = src;
    }
    out.truncate(layout.header_len);
    out.extend_from_slice(payload);
    out
}

/// An SMC-R CDC dump frame of SMC version `smc_ver` under `layout`.
pub fn smcr_cdc_frame(layout: &Layout, smc_ver: u8, cdc: &SmcrCdcRepr) -> Vec<u8> {
    let h = HeaderRepr::new(smc_ver, MODE_SMCR, layout.type_cdc);
    dump_frame(layout, &h, &cdc.emit(ByteOrder::Big))
}

/// An SMC-D CDC dump frame of SMC version `smc_ver` under `layout`, its cursors in `order`.
pub fn smcd_cdc_frame(layout: &Layout, smc_ver: u8, cdc: &SmcdCdcRepr, order: ByteOrder) -> Vec<u8> {
    let h = HeaderRepr::new(smc_ver, MODE_SMCD, layout.type_cdc);
    dump_frame(layout, &h, &cdc.emit(order))
}

/// A raw data dump frame of `mode` and SMC version `smc_ver` under `layout`.
pub fn data_frame(layout: &Layout, smc_ver: u8, mode: u8, data: &[u8]) -> Vec<u8> {
    dump_frame(layout, &HeaderRepr::new(smc_ver, mode, layout.type_raw), data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::frame::{DumpFrame, Payload};
    use crate::wire::layout::header_field;
    use crate::wire::{Cdc, Kind, Mode, SmcdByteOrder, Span};

    #[test]
    fn header_honours_layout() {
        let h = HeaderRepr::new(2, 1, 2);
        let reserved = [1, 2, 3, 4, 5, 6];
        let b = dump_frame_as_given(&Layout::default(), &HeaderRepr { len: 64, ..h }, &reserved, &[]);
        assert_eq!(b, [0xCF, 0xD3, 0xE7, 0xA5, 1, 2, 1, 2, 0, 64, 1, 2, 3, 4, 5, 6]);
        let twelve = Layout { header_len: 12, ..Layout::default() };
        let b = dump_frame_as_given(&twelve, &HeaderRepr { len: 60, ..h }, &reserved, &[]);
        assert_eq!(&b[8..], &[0, 60, 1, 2]);
        let twenty = Layout { header_len: 20, ..Layout::default() };
        assert_eq!(&dump_frame(&twenty, &h, &[])[8..], &[0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&dump_frame(&Layout::default(), &h, &[9; 48])[header_field::LEN], &[0, 64]);
    }

    #[test]
    fn computed_length_saturates() {
        let b = dump_frame(&Layout::default(), &HeaderRepr::new(1, 1, 1), &vec![0; 70_000]);
        assert_eq!(&b[8..10], &[0xFF, 0xFF]);
    }

    /// Whole frames, under random layouts: header values come back, and the payload lands where it was put.
    #[test]
    fn frame_round_trip() {
        let mut x = 0x5EED_0003u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..2000 {
            let layout = Layout {
                header_len: MIN_HEADER_LEN + (next() % 13) as usize,
                type_raw: 1 + (next() % 4) as u8,
                type_cdc: 5 + (next() % 4) as u8,
                smcd_byte_order: SmcdByteOrder::Little,
            };
            let mode = [1u8, 2, next() as u8][(next() % 3) as usize];
            let type_code = [layout.type_raw, layout.type_cdc, next() as u8][(next() % 3) as usize];
            let h = HeaderRepr { mode, type_code, ..HeaderRepr::sample(&mut next) };
            let smcr = SmcrCdcRepr::sample(&mut next);
            let smcd = SmcdCdcRepr::sample(&mut next);
            let payload: Vec<u8> = match (Kind::from_code(type_code, &layout), mode) {
                (Kind::Cdc, 1) => smcr.emit(ByteOrder::Big),
                (Kind::Cdc, 2) => smcd.emit(ByteOrder::Little),
                _ => (0..next() % 100).map(|_| next() as u8).collect(),
            };
            let reserved: Vec<u8> = (0..layout.reserved_len()).map(|_| next() as u8).collect();
            let len = u16::try_from(layout.header_len + payload.len()).unwrap();
            let bytes = dump_frame_as_given(&layout, &HeaderRepr { len, magic: MAGIC, ..h }, &reserved, &payload);
            let f = DumpFrame::parse(&bytes, bytes.len(), &layout).unwrap();
            assert!(f.magic_ok);
            assert!(!f.len_mismatch() && !f.is_truncated());
            assert_eq!(f.trailer, None);
            assert_eq!(f.header.repr, HeaderRepr { len, magic: MAGIC, ..h });
            assert_eq!(f.header.mode, Mode::from_code(mode));
            assert_eq!(&bytes[f.header.reserved.range()], &reserved[..]);
            assert_eq!(f.header.reserved_nonzero, reserved.iter().any(|&b| b != 0));
            assert_eq!(f.payload_span, Span::new(layout.header_len, payload.len()));
            match f.payload {
                Payload::Raw(span) | Payload::Undecoded(span) => assert_eq!(&bytes[span.range()], &payload[..]),
                Payload::Cdc { cdc, extra, .. } => {
                    assert_eq!(extra, None);
                    assert_eq!(cdc.ty().map(|t| t.span.off), Some(layout.header_len));
                    match cdc {
                        Cdc::SmcR(v) => assert_eq!((mode, v.repr()), (1, Some(smcr))),
                        Cdc::SmcD(d) => assert_eq!((mode, d.view.repr()), (2, Some(smcd))),
                    }
                }
            }
        }
    }

    #[test]
    fn a_lying_length_is_written_as_given() {
        let h = HeaderRepr { len: 20, ..HeaderRepr::new(1, 1, 1) };
        let bytes = dump_frame_as_given(&Layout::default(), &h, &[], &[0; 10]);
        let f = DumpFrame::parse(&bytes, bytes.len(), &Layout::default()).unwrap();
        assert!(f.len_mismatch());
        assert_eq!(f.trailer, Some(Span::new(20, 6)));
    }
}
