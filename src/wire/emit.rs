//! The inverse of the parser: writes dump frames from plain values.
//!
//! Used to build test captures and to round-trip the parser in tests. Every writer follows the same spec tables
//! as the parser ([`super::header`], [`super::cdc`]) and honours a [`Layout`], so a capture built under one layout
//! parses back under that layout. Nothing here validates: a spec may hold any value, wrong ones included, because
//! test captures need broken frames too.

use super::cdc::{smcd_field, smcr_field, CDC_MSG_TYPE, SMCD_DUMP_SIZE, SMCR_CDC_LEN, SMCR_DUMP_SIZE};
use super::header::MAGIC;
use super::layout::{header_field, DEFAULT_HEADER_LEN, MIN_HEADER_LEN};
use super::{put, ByteOrder, Layout};

/// Number of reserved header bytes a [`HeaderSpec`] can set; the default layout has exactly this many.
pub const SPEC_RESERVED_LEN: usize = DEFAULT_HEADER_LEN - MIN_HEADER_LEN;

/// The values of a dump header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderSpec {
    /// Dump header version.
    pub hdr_ver: u8,
    /// 1 = SMCv1, 2 = SMCv2.
    pub smc_ver: u8,
    /// 1 = SMC-R, 2 = SMC-D; anything else is written as is.
    pub mode: u8,
    /// Raw data or CDC code (see [`Layout::type_raw`], [`Layout::type_cdc`]), or any other value.
    pub type_code: u8,
    /// The length field; `None` writes the true length (header plus payload).
    pub len: Option<u16>,
    /// The reserved tail of the header. A layout with fewer reserved bytes takes the first ones; one with more
    /// writes zeros after these.
    pub reserved: [u8; SPEC_RESERVED_LEN],
}

impl HeaderSpec {
    /// A well-formed header: version 1, computed length, zeroed reserved bytes.
    pub const fn new(smc_ver: u8, mode: u8, type_code: u8) -> Self {
        HeaderSpec { hdr_ver: 1, smc_ver, mode, type_code, len: None, reserved: [0; SPEC_RESERVED_LEN] }
    }
}

/// The values of an SMC-R CDC record (44-byte message plus 4 bytes of padding, all big-endian).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmcrCdcSpec {
    /// Message type, 0xFE for a CDC.
    pub ty: u8,
    /// Message length, 44.
    pub len: u8,
    pub seqno: u16,
    /// Alert token of the receiving side's connection.
    pub token: u32,
    /// Producer cursor (wrap, count).
    pub prod: (u16, u32),
    /// The producer cursor's reserved half.
    pub prod_reserved: u16,
    /// Consumer cursor (wrap, count).
    pub cons: (u16, u32),
    /// The consumer cursor's reserved half.
    pub cons_reserved: u16,
    /// Producer flags (`ProdFlags` bits).
    pub prod_flags: u8,
    /// Connection state flags (`ConnState` bits).
    pub conn_state: u8,
    pub credits: u8,
    /// The 17 reserved bytes after the credits.
    pub reserved: [u8; 17],
    /// The 4 bytes of struct padding the dump appends.
    pub padding: [u8; 4],
}

impl SmcrCdcSpec {
    /// A well-formed CDC: type 0xFE, length 44, no flags, zeroed reserved and padding bytes.
    pub const fn new(seqno: u16, token: u32, prod: (u16, u32), cons: (u16, u32)) -> Self {
        SmcrCdcSpec {
            ty: CDC_MSG_TYPE,
            len: SMCR_CDC_LEN,
            seqno,
            token,
            prod,
            prod_reserved: 0,
            cons,
            cons_reserved: 0,
            prod_flags: 0,
            conn_state: 0,
            credits: 0,
            reserved: [0; 17],
            padding: [0; 4],
        }
    }
}

/// The values of an SMC-D CDC record (32 bytes, cursors in the host's byte order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmcdCdcSpec {
    /// Byte 0: 0xFE when sent, uninitialised memory when received.
    pub ty: u8,
    /// Bytes 1–7.
    pub head: [u8; 7],
    /// Producer cursor (wrap, count).
    pub prod: (u16, u32),
    /// Bytes 14–15: the producer cursor's own flag bytes (left 0 by Linux).
    pub curs_flags: [u8; 2],
    /// Consumer cursor (wrap, count).
    pub cons: (u16, u32),
    /// Producer flags (`ProdFlags` bits).
    pub prod_flags: u8,
    /// Connection state flags (`ConnState` bits).
    pub conn_state: u8,
    /// Bytes 24–31.
    pub tail: [u8; 8],
    /// Byte order of the wrap and count fields.
    pub order: ByteOrder,
}

impl SmcdCdcSpec {
    /// A CDC as a Linux host sends it: type 0xFE, every other byte zero but the cursors.
    pub const fn sent(order: ByteOrder, prod: (u16, u32), cons: (u16, u32)) -> Self {
        SmcdCdcSpec {
            ty: CDC_MSG_TYPE,
            head: [0; 7],
            prod,
            curs_flags: [0; 2],
            cons,
            prod_flags: 0,
            conn_state: 0,
            tail: [0; 8],
            order,
        }
    }
}

/// Writes the dump header for a payload of `payload_len` bytes, `layout.header_len` bytes long.
/// A computed length that does not fit the 16-bit field is written as `u16::MAX`.
pub fn header(layout: &Layout, spec: &HeaderSpec, payload_len: usize) -> Vec<u8> {
    let len =
        spec.len.unwrap_or_else(|| u16::try_from(layout.header_len.saturating_add(payload_len)).unwrap_or(u16::MAX));
    let mut out = vec![0u8; layout.header_len.max(MIN_HEADER_LEN)];
    put(&mut out, &header_field::MAGIC, &MAGIC.to_be_bytes());
    put(&mut out, &header_field::HDR_VER, &[spec.hdr_ver]);
    put(&mut out, &header_field::SMC_VER, &[spec.smc_ver]);
    put(&mut out, &header_field::MODE, &[spec.mode]);
    put(&mut out, &header_field::TYPE, &[spec.type_code]);
    put(&mut out, &header_field::LEN, &len.to_be_bytes());
    for (dst, src) in out[header_field::RESERVED..].iter_mut().zip(spec.reserved) {
        *dst = src;
    }
    out.truncate(layout.header_len);
    out
}

/// Writes an SMC-R CDC record (48 bytes).
pub fn smcr_cdc(spec: &SmcrCdcSpec) -> [u8; SMCR_DUMP_SIZE] {
    use smcr_field as f;
    let mut out = [0u8; SMCR_DUMP_SIZE];
    put(&mut out, &f::TYPE, &[spec.ty]);
    put(&mut out, &f::LEN, &[spec.len]);
    put(&mut out, &f::SEQNO, &spec.seqno.to_be_bytes());
    put(&mut out, &f::TOKEN, &spec.token.to_be_bytes());
    put(&mut out, &f::PROD_RESERVED, &spec.prod_reserved.to_be_bytes());
    put(&mut out, &f::PROD_WRAP, &spec.prod.0.to_be_bytes());
    put(&mut out, &f::PROD_COUNT, &spec.prod.1.to_be_bytes());
    put(&mut out, &f::CONS_RESERVED, &spec.cons_reserved.to_be_bytes());
    put(&mut out, &f::CONS_WRAP, &spec.cons.0.to_be_bytes());
    put(&mut out, &f::CONS_COUNT, &spec.cons.1.to_be_bytes());
    put(&mut out, &f::PROD_FLAGS, &[spec.prod_flags]);
    put(&mut out, &f::CONN_STATE, &[spec.conn_state]);
    put(&mut out, &f::CREDITS, &[spec.credits]);
    put(&mut out, &f::RESERVED, &spec.reserved);
    put(&mut out, &f::PADDING, &spec.padding);
    out
}

/// Writes an SMC-D CDC record (32 bytes).
pub fn smcd_cdc(spec: &SmcdCdcSpec) -> [u8; SMCD_DUMP_SIZE] {
    use smcd_field as f;
    let u16b = |v: u16| match spec.order {
        ByteOrder::Little => v.to_le_bytes(),
        ByteOrder::Big => v.to_be_bytes(),
    };
    let u32b = |v: u32| match spec.order {
        ByteOrder::Little => v.to_le_bytes(),
        ByteOrder::Big => v.to_be_bytes(),
    };
    let mut out = [0u8; SMCD_DUMP_SIZE];
    put(&mut out, &f::TYPE, &[spec.ty]);
    put(&mut out, &f::RESERVED_HEAD, &spec.head);
    put(&mut out, &f::PROD_WRAP, &u16b(spec.prod.0));
    put(&mut out, &f::PROD_COUNT, &u32b(spec.prod.1));
    put(&mut out, &f::PROD_CURS_FLAGS, &[spec.curs_flags[0]]);
    put(&mut out, &f::PROD_CURS_CONN_STATE, &[spec.curs_flags[1]]);
    put(&mut out, &f::CONS_WRAP, &u16b(spec.cons.0));
    put(&mut out, &f::CONS_COUNT, &u32b(spec.cons.1));
    put(&mut out, &f::PROD_FLAGS, &[spec.prod_flags]);
    put(&mut out, &f::CONN_STATE, &[spec.conn_state]);
    put(&mut out, &f::RESERVED_TAIL, &spec.tail);
    out
}

/// Writes a whole dump frame (the UDP payload): the header for `payload`, then `payload`.
pub fn dump_frame(layout: &Layout, header_spec: &HeaderSpec, payload: &[u8]) -> Vec<u8> {
    let mut out = header(layout, header_spec, payload.len());
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::cdc::{smcd_cdc as parse_smcd, smcr_cdc as parse_smcr};
    use crate::wire::frame::{DumpFrame, Payload};
    use crate::wire::{CdcVariant, Kind, Mode, SmcdByteOrder, Span};

    /// xorshift64: enough randomness for test inputs, and the same sequence on every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
        fn u8(&mut self) -> u8 {
            self.next() as u8
        }
        fn u16(&mut self) -> u16 {
            self.next() as u16
        }
        fn u32(&mut self) -> u32 {
            self.next() as u32
        }
        fn bytes<const N: usize>(&mut self) -> [u8; N] {
            let mut b = [0u8; N];
            b.iter_mut().for_each(|x| *x = self.u8());
            b
        }
        /// Mostly zero, sometimes random: the reserved bytes of real frames are zero.
        fn sparse<const N: usize>(&mut self) -> [u8; N] {
            if self.next() % 3 == 0 {
                self.bytes()
            } else {
                [0; N]
            }
        }
    }

    const ROUNDS: usize = 2000;

    fn random_smcr(r: &mut Rng) -> SmcrCdcSpec {
        SmcrCdcSpec {
            ty: r.u8(),
            len: r.u8(),
            seqno: r.u16(),
            token: r.u32(),
            prod: (r.u16(), r.u32()),
            prod_reserved: r.u16(),
            cons: (r.u16(), r.u32()),
            cons_reserved: r.u16(),
            prod_flags: r.u8(),
            conn_state: r.u8(),
            credits: r.u8(),
            reserved: r.sparse(),
            padding: r.bytes(),
        }
    }

    fn random_smcd(r: &mut Rng) -> SmcdCdcSpec {
        SmcdCdcSpec {
            ty: r.u8(),
            head: r.sparse(),
            prod: (r.u16(), r.u32()),
            curs_flags: r.bytes(),
            cons: (r.u16(), r.u32()),
            prod_flags: r.u8(),
            conn_state: r.u8(),
            tail: r.sparse(),
            order: if r.next() & 1 == 0 { ByteOrder::Little } else { ByteOrder::Big },
        }
    }

    fn forced(order: ByteOrder) -> SmcdByteOrder {
        match order {
            ByteOrder::Little => SmcdByteOrder::Little,
            ByteOrder::Big => SmcdByteOrder::Big,
        }
    }

    #[test]
    fn smcr_record_matches_spec_bytes() {
        let mut s = SmcrCdcSpec::new(0x0102, 0xDEAD_BEEF, (3, 0x10000), (2, 0x2000));
        s.prod_flags = 0x90;
        s.conn_state = 0x20;
        s.credits = 5;
        s.padding = [0xAA, 0xBB, 0xCC, 0xDD];
        let b = smcr_cdc(&s);
        assert_eq!(&b[..8], &[0xFE, 0x2C, 0x01, 0x02, 0xDE, 0xAD, 0xBE, 0xEF]);
        assert_eq!(&b[8..16], &[0, 0, 0, 3, 0, 1, 0, 0]);
        assert_eq!(&b[16..24], &[0, 0, 0, 2, 0, 0, 0x20, 0]);
        assert_eq!(&b[24..27], &[0x90, 0x20, 5]);
        assert!(b[27..44].iter().all(|&x| x == 0));
        assert_eq!(&b[44..], &[0xAA, 0xBB, 0xCC, 0xDD]);
    }

    #[test]
    fn smcd_record_matches_spec_bytes() {
        let mut s = SmcdCdcSpec::sent(ByteOrder::Little, (5, 0x1000), (1, 0x1234));
        s.prod_flags = 0x40;
        s.conn_state = 0xC0;
        let b = smcd_cdc(&s);
        assert_eq!(&b[..8], &[0xFE, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&b[8..16], &[5, 0, 0, 0x10, 0, 0, 0, 0]);
        assert_eq!(&b[16..24], &[1, 0, 0x34, 0x12, 0, 0, 0x40, 0xC0]);
        assert_eq!(&b[24..], &[0; 8]);
        s.order = ByteOrder::Big;
        let b = smcd_cdc(&s);
        assert_eq!(&b[8..14], &[0, 5, 0, 0, 0x10, 0]);
        assert_eq!(&b[16..22], &[0, 1, 0, 0, 0x12, 0x34]);
    }

    #[test]
    fn header_honours_layout() {
        let spec = HeaderSpec { reserved: [1, 2, 3, 4, 5, 6], ..HeaderSpec::new(2, 1, 2) };
        let h = header(&Layout::default(), &spec, 48);
        assert_eq!(h, [0xCF, 0xD3, 0xE7, 0xA5, 1, 2, 1, 2, 0, 64, 1, 2, 3, 4, 5, 6]);
        let twelve = Layout { header_len: 12, ..Layout::default() };
        let h = header(&twelve, &spec, 48);
        assert_eq!(h.len(), 12);
        assert_eq!(&h[8..], &[0, 60, 1, 2]);
        let twenty = Layout { header_len: 20, ..Layout::default() };
        let h = header(&twenty, &spec, 0);
        assert_eq!(&h[8..], &[0, 20, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0]);
        let fixed = HeaderSpec { len: Some(7), ..spec };
        assert_eq!(&header(&Layout::default(), &fixed, 48)[8..10], &[0, 7]);
    }

    #[test]
    fn computed_length_saturates() {
        let h = header(&Layout::default(), &HeaderSpec::new(1, 1, 1), 70_000);
        assert_eq!(&h[8..10], &[0xFF, 0xFF]);
    }

    #[test]
    fn smcr_round_trip() {
        let mut r = Rng(0x5EED_0001);
        for _ in 0..ROUNDS {
            let s = random_smcr(&mut r);
            let bytes = smcr_cdc(&s);
            let c = parse_smcr(&bytes, 0);
            let value = |f: Option<crate::wire::Field<u8>>| f.map(|f| f.value);
            assert_eq!(value(c.ty), Some(s.ty));
            assert_eq!(c.prod.value(), Some(s.prod));
            assert_eq!(c.cons.value(), Some(s.cons));
            assert_eq!(c.prod_flags.map(|f| f.value.0), Some(s.prod_flags));
            assert_eq!(c.conn_state.map(|f| f.value.0), Some(s.conn_state));
            let CdcVariant::SmcR(v) = c.variant else { panic!("not SMC-R") };
            assert_eq!(value(v.len), Some(s.len));
            assert_eq!(v.seqno.map(|f| f.value), Some(s.seqno));
            assert_eq!(v.token.map(|f| f.value), Some(s.token));
            assert_eq!(v.prod_reserved.map(|f| f.value), Some(s.prod_reserved));
            assert_eq!(v.cons_reserved.map(|f| f.value), Some(s.cons_reserved));
            assert_eq!(value(v.credits), Some(s.credits));
            assert_eq!(v.reserved_nonzero, s.reserved.iter().any(|&b| b != 0));
            assert_eq!(&bytes[v.reserved.range()], &s.reserved);
            assert_eq!(&bytes[v.padding.range()], &s.padding);
        }
    }

    #[test]
    fn smcd_round_trip() {
        let mut r = Rng(0x5EED_0002);
        for _ in 0..ROUNDS {
            let s = random_smcd(&mut r);
            let bytes = smcd_cdc(&s);
            let c = parse_smcd(&bytes, forced(s.order), 0);
            assert_eq!(c.ty.map(|f| f.value), Some(s.ty));
            assert_eq!(c.prod.value(), Some(s.prod));
            assert_eq!(c.cons.value(), Some(s.cons));
            assert_eq!(c.prod_flags.map(|f| f.value.0), Some(s.prod_flags));
            assert_eq!(c.conn_state.map(|f| f.value.0), Some(s.conn_state));
            let CdcVariant::SmcD(v) = c.variant else { panic!("not SMC-D") };
            assert_eq!(v.byte_order, s.order);
            assert_eq!(v.prod_curs_flags.map(|f| f.value), Some(s.curs_flags[0]));
            assert_eq!(v.prod_curs_conn_state.map(|f| f.value), Some(s.curs_flags[1]));
            assert_eq!(&bytes[v.reserved_head.range()], &s.head);
            assert_eq!(&bytes[v.reserved_tail.range()], &s.tail);
            let sent_like = s.ty == CDC_MSG_TYPE && s.head.iter().chain(&s.tail).all(|&b| b == 0);
            assert_eq!(v.looks_sent, sent_like);
        }
    }

    /// Whole frames, under random layouts: header values come back, and the payload lands where it was put.
    #[test]
    fn frame_round_trip() {
        let mut r = Rng(0x5EED_0003);
        for _ in 0..ROUNDS {
            let layout = Layout {
                header_len: MIN_HEADER_LEN + (r.next() % 13) as usize,
                type_raw: 1 + (r.next() % 4) as u8,
                type_cdc: 5 + (r.next() % 4) as u8,
                smcd_byte_order: SmcdByteOrder::Auto,
            };
            let mode = [1u8, 2, r.u8()][(r.next() % 3) as usize];
            let type_code = [layout.type_raw, layout.type_cdc, r.u8()][(r.next() % 3) as usize];
            let spec =
                HeaderSpec { hdr_ver: r.u8(), smc_ver: r.u8(), mode, type_code, len: None, reserved: r.sparse() };
            let smcr = random_smcr(&mut r);
            let mut smcd = random_smcd(&mut r);
            let payload: Vec<u8> = match (Kind::from_code(type_code, &layout), mode) {
                (Kind::Cdc, 1) => smcr_cdc(&smcr).to_vec(),
                (Kind::Cdc, 2) => {
                    smcd.order = ByteOrder::Little;
                    smcd_cdc(&smcd).to_vec()
                }
                _ => (0..r.next() % 100).map(|_| r.u8()).collect(),
            };
            let bytes = dump_frame(&layout, &spec, &payload);
            let layout = Layout { smcd_byte_order: SmcdByteOrder::Little, ..layout };
            let f = DumpFrame::parse(&bytes, bytes.len(), &layout).unwrap();
            let h = f.header;
            assert!(f.magic_ok);
            assert!(!f.len_mismatch() && !f.is_truncated());
            assert_eq!(f.trailer, None);
            assert_eq!(h.hdr_ver.value, spec.hdr_ver);
            assert_eq!(h.smc_ver.value, spec.smc_ver);
            assert_eq!(h.mode.value, Mode::from_code(mode));
            assert_eq!(h.type_code.value, type_code);
            assert_eq!(usize::from(h.len.value), bytes.len());
            let kept = layout.reserved_len().min(SPEC_RESERVED_LEN);
            assert_eq!(&bytes[h.reserved.range()][..kept], &spec.reserved[..kept]);
            assert_eq!(h.reserved_nonzero, spec.reserved[..kept].iter().any(|&b| b != 0));
            assert_eq!(f.payload_span, Span::new(layout.header_len, payload.len()));
            match f.payload {
                Payload::Raw(span) | Payload::Undecoded(span) => {
                    assert_eq!(&bytes[span.range()], &payload[..])
                }
                Payload::Cdc { cdc, extra, .. } => {
                    assert_eq!(extra, None);
                    assert_eq!(cdc.ty.map(|t| t.span.off), Some(layout.header_len));
                    match cdc.variant {
                        CdcVariant::SmcR(v) => {
                            assert_eq!(mode, 1);
                            assert_eq!(v.token.map(|f| f.value), Some(smcr.token));
                            assert_eq!(v.seqno.map(|f| f.value), Some(smcr.seqno));
                            assert_eq!(cdc.prod.value(), Some(smcr.prod));
                            assert_eq!(cdc.cons.value(), Some(smcr.cons));
                        }
                        CdcVariant::SmcD(_) => {
                            assert_eq!(mode, 2);
                            assert_eq!(cdc.prod.value(), Some(smcd.prod));
                            assert_eq!(cdc.cons.value(), Some(smcd.cons));
                            assert_eq!(cdc.prod_flags.map(|f| f.value.0), Some(smcd.prod_flags));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn explicit_length_is_written_as_given() {
        let spec = HeaderSpec { len: Some(20), ..HeaderSpec::new(1, 1, 1) };
        let bytes = dump_frame(&Layout::default(), &spec, &[0; 10]);
        let f = DumpFrame::parse(&bytes, bytes.len(), &Layout::default()).unwrap();
        assert!(f.len_mismatch());
        assert_eq!(f.trailer, Some(Span::new(20, 6)));
    }
}
