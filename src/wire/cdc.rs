//! CDC (connection data control) messages, as the kernel dumps them.
//!
//! SMC-R (44-byte message + 4 bytes of struct padding, all big-endian):
//!
//! | off | size | field |
//! |-----|------|-------|
//! | 0   | 1    | type (0xFE) |
//! | 1   | 1    | length (44) |
//! | 2   | 2    | seqno |
//! | 4   | 4    | token |
//! | 8   | 8    | producer cursor: reserved (2), wrap (2), count (4) |
//! | 16  | 8    | consumer cursor: reserved (2), wrap (2), count (4) |
//! | 24  | 1    | producer flags |
//! | 25  | 1    | connection state flags |
//! | 26  | 1    | credits |
//! | 27  | 17   | reserved |
//! | 44  | 4    | padding (dump only) |
//!
//! SMC-D (32 bytes, cursors in the sending host's byte order):
//!
//! | off | size | field |
//! |-----|------|-------|
//! | 0   | 1    | type (0xFE when sent; uninitialised when received) |
//! | 1   | 7    | reserved (uninitialised when received) |
//! | 8   | 6    | producer cursor: wrap (2), count (4) |
//! | 14  | 2    | producer cursor's own flag bytes (left 0) |
//! | 16  | 6    | consumer cursor: wrap (2), count (4) |
//! | 22  | 1    | producer flags |
//! | 23  | 1    | connection state flags |
//! | 24  | 8    | reserved (uninitialised when received) |

use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u32, u16, u32, u8 as byte};
use nom::number::Endianness;
use nom::IResult;

use super::layout::MAX_PLAUSIBLE_COUNT;
use super::{ByteOrder, Field, SmcdByteOrder, Span};

/// The CDC message type code (`SMC_CDC_MSG_TYPE`).
pub const CDC_MSG_TYPE: u8 = 0xFE;
/// The SMC-R CDC message length (`SMC_WR_TX_SIZE`).
pub const SMCR_CDC_LEN: u8 = 44;
/// Bytes of an SMC-R CDC message, without the dump's padding.
pub const SMCR_MSG_SIZE: usize = 44;
/// Bytes of an SMC-R CDC record in a dump: the message plus struct padding.
pub const SMCR_DUMP_SIZE: usize = 48;
/// Bytes of an SMC-D CDC record in a dump.
pub const SMCD_DUMP_SIZE: usize = 32;

/// Producer flags (`smc_cdc_producer_flags`), one bit each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ProdFlags(pub u8);

impl ProdFlags {
    pub const WRITE_BLOCKED: u8 = 0x80;
    pub const URG_DATA_PENDING: u8 = 0x40;
    pub const URG_DATA_PRESENT: u8 = 0x20;
    pub const CONS_CURS_UPD_REQ: u8 = 0x10;
    pub const FAILOVER_VALIDATION: u8 = 0x08;
    pub const RESERVED: u8 = 0x07;
    /// Each defined bit with the short name the Info column uses.
    pub const NAMES: [(u8, &'static str); 5] = [
        (Self::WRITE_BLOCKED, "WriteBlocked"),
        (Self::URG_DATA_PENDING, "UrgPending"),
        (Self::URG_DATA_PRESENT, "UrgPresent"),
        (Self::CONS_CURS_UPD_REQ, "CursUpdReq"),
        (Self::FAILOVER_VALIDATION, "FailoverValidation"),
    ];

    pub const fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

/// Connection state flags (`smc_cdc_conn_state_flags`), one bit each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ConnState(pub u8);

impl ConnState {
    pub const PEER_DONE_WRITING: u8 = 0x80;
    pub const PEER_CONN_CLOSED: u8 = 0x40;
    pub const PEER_CONN_ABORT: u8 = 0x20;
    pub const RESERVED: u8 = 0x1F;
    /// Each defined bit with the short name the Info column uses.
    pub const NAMES: [(u8, &'static str); 3] = [
        (Self::PEER_DONE_WRITING, "PeerDoneWriting"),
        (Self::PEER_CONN_CLOSED, "PeerConnClosed"),
        (Self::PEER_CONN_ABORT, "PeerConnAbort"),
    ];

    pub const fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

/// A ring-buffer cursor: how often the ring wrapped, and the byte offset in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub wrap: Field<u16>,
    pub count: Field<u32>,
}

/// Fields only SMC-R carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmcrCdc {
    pub len: Field<u8>,
    pub seqno: Field<u16>,
    pub token: Field<u32>,
    /// Reserved halves of the two cursors.
    pub prod_reserved: Field<u16>,
    pub cons_reserved: Field<u16>,
    pub credits: Field<u8>,
    /// The 17 reserved bytes after the credits.
    pub reserved: Span,
    pub reserved_nonzero: bool,
    /// The 4 bytes of struct padding the dump appends.
    pub padding: Span,
}

/// Fields only SMC-D carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmcdCdc {
    /// Bytes 1–7.
    pub reserved_head: Span,
    /// The producer cursor's own flag bytes (14, 15), unused by Linux.
    pub prod_curs_flags: Field<u8>,
    pub prod_curs_conn_state: Field<u8>,
    /// Bytes 24–31.
    pub reserved_tail: Span,
    /// The byte order the cursors were read in.
    pub byte_order: ByteOrder,
    /// Whether the head/tail bytes look like a message this host sent (type 0xFE, zeroed reserved bytes).
    /// Received SMC-D messages leave them uninitialised, and the dump does not say which direction it saw.
    pub looks_sent: bool,
}

/// The part of a CDC message that differs between SMC-R and SMC-D.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CdcVariant {
    SmcR(SmcrCdc),
    SmcD(SmcdCdc),
}

/// A CDC message. Spans are relative to the slice it was parsed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cdc {
    pub ty: Field<u8>,
    pub prod: Cursor,
    pub cons: Cursor,
    pub prod_flags: Field<ProdFlags>,
    pub conn_state: Field<ConnState>,
    pub variant: CdcVariant,
}

/// Parses an SMC-R CDC record: the 44-byte message and its 4 bytes of padding. Spans count from `base`, the
/// record's offset in the frame.
// `base + 0` keeps every offset as the spec table writes it.
#[allow(clippy::identity_op)]
pub fn smcr_cdc(input: &[u8], base: usize) -> IResult<&[u8], Cdc> {
    let (rest, ty) = byte(input)?;
    let (rest, len) = byte(rest)?;
    let (rest, seqno) = be_u16(rest)?;
    let (rest, token) = be_u32(rest)?;
    let (rest, prod_reserved) = be_u16(rest)?;
    let (rest, prod_wrap) = be_u16(rest)?;
    let (rest, prod_count) = be_u32(rest)?;
    let (rest, cons_reserved) = be_u16(rest)?;
    let (rest, cons_wrap) = be_u16(rest)?;
    let (rest, cons_count) = be_u32(rest)?;
    let (rest, prod_flags) = byte(rest)?;
    let (rest, conn_state) = byte(rest)?;
    let (rest, credits) = byte(rest)?;
    let (rest, reserved) = take(17usize)(rest)?;
    let (rest, _padding) = take(4usize)(rest)?;
    let cdc = Cdc {
        ty: Field::new(base + 0, 1, ty),
        prod: Cursor { wrap: Field::new(base + 10, 2, prod_wrap), count: Field::new(base + 12, 4, prod_count) },
        cons: Cursor { wrap: Field::new(base + 18, 2, cons_wrap), count: Field::new(base + 20, 4, cons_count) },
        prod_flags: Field::new(base + 24, 1, ProdFlags(prod_flags)),
        conn_state: Field::new(base + 25, 1, ConnState(conn_state)),
        variant: CdcVariant::SmcR(SmcrCdc {
            len: Field::new(base + 1, 1, len),
            seqno: Field::new(base + 2, 2, seqno),
            token: Field::new(base + 4, 4, token),
            prod_reserved: Field::new(base + 8, 2, prod_reserved),
            cons_reserved: Field::new(base + 16, 2, cons_reserved),
            credits: Field::new(base + 26, 1, credits),
            reserved: Span::new(base + 27, 17),
            reserved_nonzero: reserved.iter().any(|&b| b != 0),
            padding: Span::new(base + 44, 4),
        }),
    };
    Ok((rest, cdc))
}

/// The cursor halves of an SMC-D record read in one byte order: (prod wrap, prod count, cons wrap, cons count).
fn smcd_cursors(input: &[u8], order: ByteOrder) -> IResult<&[u8], (u16, u32, u16, u32)> {
    let endian = match order {
        ByteOrder::Little => Endianness::Little,
        ByteOrder::Big => Endianness::Big,
    };
    let (rest, prod_wrap) = u16(endian)(input)?;
    let (rest, prod_count) = u32(endian)(rest)?;
    let (rest, _prod_curs_flags) = take(2usize)(rest)?;
    let (rest, cons_wrap) = u16(endian)(rest)?;
    let (rest, cons_count) = u32(endian)(rest)?;
    Ok((rest, (prod_wrap, prod_count, cons_wrap, cons_count)))
}

/// Chooses the byte order for an SMC-D record: the preference if it names one, otherwise the reading whose two
/// counts are plausible buffer offsets, little-endian when that does not decide.
fn smcd_order(cursor_bytes: &[u8], pref: SmcdByteOrder) -> ByteOrder {
    match pref {
        SmcdByteOrder::Little => ByteOrder::Little,
        SmcdByteOrder::Big => ByteOrder::Big,
        SmcdByteOrder::Auto => {
            let plausible = |order| {
                smcd_cursors(cursor_bytes, order)
                    .map(|(_, (_, p, _, c))| p <= MAX_PLAUSIBLE_COUNT && c <= MAX_PLAUSIBLE_COUNT)
                    .unwrap_or(false)
            };
            if !plausible(ByteOrder::Little) && plausible(ByteOrder::Big) {
                ByteOrder::Big
            } else {
                ByteOrder::Little
            }
        }
    }
}

/// Parses a 32-byte SMC-D CDC record, reading the cursors in the order `pref` picks. Spans count from `base`, the
/// record's offset in the frame.
// `base + 0` keeps every offset as the spec table writes it.
#[allow(clippy::identity_op)]
pub fn smcd_cdc(input: &[u8], pref: SmcdByteOrder, base: usize) -> IResult<&[u8], Cdc> {
    let (rest, ty) = byte(input)?;
    let (rest, head) = take(7usize)(rest)?;
    let (_, cursor_bytes) = take(14usize)(rest)?;
    let order = smcd_order(cursor_bytes, pref);
    let (rest, (prod_wrap, prod_count, cons_wrap, cons_count)) = smcd_cursors(rest, order)?;
    let (rest, prod_flags) = byte(rest)?;
    let (rest, conn_state) = byte(rest)?;
    let (rest, tail) = take(8usize)(rest)?;
    let (curs_flags, curs_conn_state) = match cursor_bytes.get(6..8) {
        Some(&[f, s]) => (f, s),
        _ => (0, 0),
    };
    let looks_sent = ty == CDC_MSG_TYPE && head.iter().chain(tail).all(|&b| b == 0);
    let cdc = Cdc {
        ty: Field::new(base + 0, 1, ty),
        prod: Cursor { wrap: Field::new(base + 8, 2, prod_wrap), count: Field::new(base + 10, 4, prod_count) },
        cons: Cursor { wrap: Field::new(base + 16, 2, cons_wrap), count: Field::new(base + 18, 4, cons_count) },
        prod_flags: Field::new(base + 22, 1, ProdFlags(prod_flags)),
        conn_state: Field::new(base + 23, 1, ConnState(conn_state)),
        variant: CdcVariant::SmcD(SmcdCdc {
            reserved_head: Span::new(base + 1, 7),
            prod_curs_flags: Field::new(base + 14, 1, curs_flags),
            prod_curs_conn_state: Field::new(base + 15, 1, curs_conn_state),
            reserved_tail: Span::new(base + 24, 8),
            byte_order: order,
            looks_sent,
        }),
    };
    Ok((rest, cdc))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An SMC-R CDC written from the spec table (section 4.3).
    const SMCR: [u8; 48] = [
        0xFE, 0x2C, // type, length 44
        0x01, 0x02, // seqno 0x0102
        0xDE, 0xAD, 0xBE, 0xEF, // token
        0x00, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, // prod: reserved, wrap 3, count 0x10000
        0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x20, 0x00, // cons: reserved, wrap 2, count 0x2000
        0x90, // write blocked + cons curs upd req
        0x20, // peer conn abort
        0x05, // credits
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // reserved
        0xAA, 0xBB, 0xCC, 0xDD, // padding
    ];

    #[test]
    fn smcr_from_spec_bytes() {
        let (rest, c) = smcr_cdc(&SMCR, 0).unwrap();
        assert!(rest.is_empty());
        assert_eq!(c.ty, Field::new(0, 1, 0xFE));
        assert_eq!(c.prod.wrap, Field::new(10, 2, 3));
        assert_eq!(c.prod.count, Field::new(12, 4, 0x10000));
        assert_eq!(c.cons.wrap, Field::new(18, 2, 2));
        assert_eq!(c.cons.count, Field::new(20, 4, 0x2000));
        assert_eq!(c.prod_flags.value, ProdFlags(0x90));
        assert!(c.prod_flags.value.has(ProdFlags::WRITE_BLOCKED));
        assert!(c.prod_flags.value.has(ProdFlags::CONS_CURS_UPD_REQ));
        assert!(!c.prod_flags.value.has(ProdFlags::URG_DATA_PENDING));
        assert!(c.conn_state.value.has(ConnState::PEER_CONN_ABORT));
        let CdcVariant::SmcR(r) = c.variant else { panic!("not SMC-R") };
        assert_eq!(r.len, Field::new(1, 1, 44));
        assert_eq!(r.seqno, Field::new(2, 2, 0x0102));
        assert_eq!(r.token, Field::new(4, 4, 0xDEAD_BEEF));
        assert_eq!(r.credits, Field::new(26, 1, 5));
        assert_eq!(r.reserved, Span::new(27, 17));
        assert!(!r.reserved_nonzero);
        assert_eq!(r.padding, Span::new(44, 4));
    }

    #[test]
    fn smcr_needs_all_48_bytes() {
        assert!(smcr_cdc(&SMCR[..47], 0).is_err());
    }

    /// An SMC-D CDC as sent by an x86-64 host (section 4.4).
    const SMCD_LE: [u8; 32] = [
        0xFE, 0, 0, 0, 0, 0, 0, 0, // type, reserved
        0x05, 0x00, 0x00, 0x10, 0x00, 0x00, // prod wrap 5, count 0x1000
        0x00, 0x00, // producer cursor's flags
        0x01, 0x00, 0x34, 0x12, 0x00, 0x00, // cons wrap 1, count 0x1234
        0x40, // urgent data pending
        0xC0, // peer done writing + closed
        0, 0, 0, 0, 0, 0, 0, 0, // reserved
    ];

    #[test]
    fn smcd_little_endian_from_spec_bytes() {
        let (rest, c) = smcd_cdc(&SMCD_LE, SmcdByteOrder::Auto, 0).unwrap();
        assert!(rest.is_empty());
        assert_eq!(c.prod.wrap, Field::new(8, 2, 5));
        assert_eq!(c.prod.count, Field::new(10, 4, 0x1000));
        assert_eq!(c.cons.wrap, Field::new(16, 2, 1));
        assert_eq!(c.cons.count, Field::new(18, 4, 0x1234));
        assert_eq!(c.prod_flags, Field::new(22, 1, ProdFlags(0x40)));
        assert_eq!(c.conn_state, Field::new(23, 1, ConnState(0xC0)));
        let CdcVariant::SmcD(d) = c.variant else { panic!("not SMC-D") };
        assert_eq!(d.byte_order, ByteOrder::Little);
        assert!(d.looks_sent);
        assert_eq!(d.prod_curs_flags, Field::new(14, 1, 0));
        assert_eq!(d.reserved_head, Span::new(1, 7));
        assert_eq!(d.reserved_tail, Span::new(24, 8));
    }

    #[test]
    fn smcd_big_endian_is_detected_and_forced() {
        let mut be = SMCD_LE;
        be[8..14].copy_from_slice(&[0x00, 0x05, 0x00, 0x00, 0x10, 0x00]);
        be[16..22].copy_from_slice(&[0x00, 0x01, 0x00, 0x00, 0x12, 0x34]);
        let (_, c) = smcd_cdc(&be, SmcdByteOrder::Auto, 0).unwrap();
        assert_eq!((c.prod.wrap.value, c.prod.count.value), (5, 0x1000));
        assert_eq!((c.cons.wrap.value, c.cons.count.value), (1, 0x1234));
        // Forcing little-endian reads the same bytes the other way.
        let (_, c) = smcd_cdc(&be, SmcdByteOrder::Little, 0).unwrap();
        assert_eq!(c.prod.count.value, 0x0010_0000);
        assert_eq!(c.prod.wrap.value, 0x0500);
    }

    #[test]
    fn smcd_auto_falls_back_to_little_when_undecided() {
        let mut b = SMCD_LE;
        b[10..14].copy_from_slice(&[0xFF; 4]);
        let (_, c) = smcd_cdc(&b, SmcdByteOrder::Auto, 0).unwrap();
        let CdcVariant::SmcD(d) = c.variant else { panic!("not SMC-D") };
        assert_eq!(d.byte_order, ByteOrder::Little);
    }

    #[test]
    fn smcd_received_garbage_is_not_sent_looking() {
        let mut b = SMCD_LE;
        b[0] = 0x13;
        b[30] = 0x77;
        let (_, c) = smcd_cdc(&b, SmcdByteOrder::Auto, 0).unwrap();
        let CdcVariant::SmcD(d) = c.variant else { panic!("not SMC-D") };
        assert!(!d.looks_sent);
        assert_eq!(c.ty.value, 0x13);
    }
}
