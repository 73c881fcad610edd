//! CDC (connection data control) messages, as the kernel dumps them: an SMC-R record ([`smcr_field`]: the
//! 44-byte message, all big-endian, plus 4 bytes of struct padding) or an SMC-D record ([`smcd_field`]: 32 bytes,
//! cursors in the sending host's byte order). Spec sections 4.3 and 4.4.

use super::layout::MAX_PLAUSIBLE_COUNT;
use super::{ByteOrder, Field, FieldRange, Record, SmcdByteOrder, Span};

/// Where each field of an SMC-R CDC record lies (spec 4.3).
pub mod smcr_field {
    use crate::wire::FieldRange;

    /// 0xFE.
    pub const TYPE: FieldRange = 0..1;
    /// 44.
    pub const LEN: FieldRange = 1..2;
    pub const SEQNO: FieldRange = 2..4;
    /// Alert token of the receiving side's connection.
    pub const TOKEN: FieldRange = 4..8;
    /// The producer cursor: reserved half, wrap, count.
    pub const PROD: FieldRange = 8..16;
    pub const PROD_RESERVED: FieldRange = 8..10;
    pub const PROD_WRAP: FieldRange = 10..12;
    pub const PROD_COUNT: FieldRange = 12..16;
    /// The consumer cursor: reserved half, wrap, count.
    pub const CONS: FieldRange = 16..24;
    pub const CONS_RESERVED: FieldRange = 16..18;
    pub const CONS_WRAP: FieldRange = 18..20;
    pub const CONS_COUNT: FieldRange = 20..24;
    pub const PROD_FLAGS: FieldRange = 24..25;
    pub const CONN_STATE: FieldRange = 25..26;
    /// Receive credits (ANCK).
    pub const CREDITS: FieldRange = 26..27;
    pub const RESERVED: FieldRange = 27..44;
    /// Struct padding, in the dump only.
    pub const PADDING: FieldRange = 44..48;
}

/// Where each field of an SMC-D CDC record lies (spec 4.4).
pub mod smcd_field {
    use crate::wire::FieldRange;

    /// 0xFE when sent; uninitialised when received.
    pub const TYPE: FieldRange = 0..1;
    /// Uninitialised when received.
    pub const RESERVED_HEAD: FieldRange = 1..8;
    /// The producer cursor: wrap, count.
    pub const PROD: FieldRange = 8..14;
    pub const PROD_WRAP: FieldRange = 8..10;
    pub const PROD_COUNT: FieldRange = 10..14;
    /// The producer cursor's own flag bytes, left 0 by Linux.
    pub const PROD_CURS_FLAGS: FieldRange = 14..15;
    pub const PROD_CURS_CONN_STATE: FieldRange = 15..16;
    /// The consumer cursor: wrap, count.
    pub const CONS: FieldRange = 16..22;
    pub const CONS_WRAP: FieldRange = 16..18;
    pub const CONS_COUNT: FieldRange = 18..22;
    /// The flags that matter: those of the consumer cursor.
    pub const PROD_FLAGS: FieldRange = 22..23;
    pub const CONN_STATE: FieldRange = 23..24;
    /// Uninitialised when received.
    pub const RESERVED_TAIL: FieldRange = 24..32;
}

/// The CDC message type code (`SMC_CDC_MSG_TYPE`).
pub const CDC_MSG_TYPE: u8 = 0xFE;
/// The SMC-R CDC message length (`SMC_WR_TX_SIZE`).
pub const SMCR_CDC_LEN: u8 = 44;
/// Bytes of an SMC-R CDC message, without the dump's padding.
pub const SMCR_MSG_SIZE: usize = smcr_field::RESERVED.end;
/// Bytes of an SMC-R CDC record in a dump: the message plus struct padding.
pub const SMCR_DUMP_SIZE: usize = smcr_field::PADDING.end;
/// Bytes of an SMC-D CDC record in a dump.
pub const SMCD_DUMP_SIZE: usize = smcd_field::RESERVED_TAIL.end;

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

/// A ring-buffer cursor: how often the ring wrapped, and the byte offset in it. `None` parts were not captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// The whole cursor (SMC-R: its reserved half included).
    pub span: Span,
    pub wrap: Option<Field<u16>>,
    pub count: Option<Field<u32>>,
}

impl Cursor {
    /// (wrap, count), when both were captured.
    pub fn value(&self) -> Option<(u16, u32)> {
        Some((self.wrap?.value, self.count?.value))
    }
}

/// Fields only SMC-R carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmcrCdc {
    pub len: Option<Field<u8>>,
    pub seqno: Option<Field<u16>>,
    pub token: Option<Field<u32>>,
    /// Reserved halves of the two cursors.
    pub prod_reserved: Option<Field<u16>>,
    pub cons_reserved: Option<Field<u16>>,
    pub credits: Option<Field<u8>>,
    /// The 17 reserved bytes after the credits.
    pub reserved: Span,
    /// Whether any captured reserved byte is not zero.
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
    pub prod_curs_flags: Option<Field<u8>>,
    pub prod_curs_conn_state: Option<Field<u8>>,
    /// Bytes 24–31.
    pub reserved_tail: Span,
    /// The byte order the cursors were read in.
    pub byte_order: ByteOrder,
    /// Whether the captured head/tail bytes look like a message this host sent (type 0xFE, zeroed reserved bytes).
    /// Received SMC-D messages leave them uninitialised, and the dump does not say which direction it saw.
    pub looks_sent: bool,
}

/// The part of a CDC message that differs between SMC-R and SMC-D.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CdcVariant {
    SmcR(SmcrCdc),
    SmcD(SmcdCdc),
}

/// A CDC message. Spans are frame-relative; a field the capture (or a short payload) does not hold is `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cdc {
    pub ty: Option<Field<u8>>,
    pub prod: Cursor,
    pub cons: Cursor,
    pub prod_flags: Option<Field<ProdFlags>>,
    pub conn_state: Option<Field<ConnState>>,
    pub variant: CdcVariant,
}

impl Cdc {
    /// Whether every field up to the flags was captured: what the connection analysis needs.
    pub fn complete_cursors(&self) -> Option<((u16, u32), (u16, u32))> {
        self.conn_state?;
        Some((self.prod.value()?, self.cons.value()?))
    }
}

/// Parses an SMC-R CDC record from the captured bytes of the payload (`record`) that starts at frame offset
/// `base`. Fields past the captured bytes are `None`.
pub fn smcr_cdc(record: &[u8], base: usize) -> Cdc {
    use smcr_field as f;
    let r = Record::new(record, base);
    let be = ByteOrder::Big;
    Cdc {
        ty: r.u8(&f::TYPE),
        prod: Cursor { span: r.span(&f::PROD), wrap: r.u16(&f::PROD_WRAP, be), count: r.u32(&f::PROD_COUNT, be) },
        cons: Cursor { span: r.span(&f::CONS), wrap: r.u16(&f::CONS_WRAP, be), count: r.u32(&f::CONS_COUNT, be) },
        prod_flags: r.u8(&f::PROD_FLAGS).map(|b| b.map(ProdFlags)),
        conn_state: r.u8(&f::CONN_STATE).map(|b| b.map(ConnState)),
        variant: CdcVariant::SmcR(SmcrCdc {
            len: r.u8(&f::LEN),
            seqno: r.u16(&f::SEQNO, be),
            token: r.u32(&f::TOKEN, be),
            prod_reserved: r.u16(&f::PROD_RESERVED, be),
            cons_reserved: r.u16(&f::CONS_RESERVED, be),
            credits: r.u8(&f::CREDITS),
            reserved: r.span(&f::RESERVED),
            reserved_nonzero: r.any_nonzero(&f::RESERVED),
            padding: r.span(&f::PADDING),
        }),
    }
}

/// Chooses the byte order for an SMC-D record: the preference if it names one, otherwise the reading whose two
/// counts are plausible buffer offsets, little-endian when that does not decide (or the counts were not captured).
fn smcd_order(r: &Record, pref: SmcdByteOrder) -> ByteOrder {
    use smcd_field as f;
    let plausible = |order| {
        let count = |range: &FieldRange| r.u32(range, order).map(|c| c.value <= MAX_PLAUSIBLE_COUNT);
        count(&f::PROD_COUNT) == Some(true) && count(&f::CONS_COUNT) == Some(true)
    };
    match pref {
        SmcdByteOrder::Little => ByteOrder::Little,
        SmcdByteOrder::Big => ByteOrder::Big,
        SmcdByteOrder::Auto if !plausible(ByteOrder::Little) && plausible(ByteOrder::Big) => ByteOrder::Big,
        SmcdByteOrder::Auto => ByteOrder::Little,
    }
}

/// Parses a 32-byte SMC-D CDC record from the captured bytes of the payload (`record`) that starts at frame offset
/// `base`, reading the cursors in the order `pref` picks. Fields past the captured bytes are `None`.
pub fn smcd_cdc(record: &[u8], pref: SmcdByteOrder, base: usize) -> Cdc {
    use smcd_field as f;
    let r = Record::new(record, base);
    let order = smcd_order(&r, pref);
    let ty = r.u8(&f::TYPE);
    let looks_sent = ty.is_some_and(|t| t.value == CDC_MSG_TYPE)
        && !r.any_nonzero(&f::RESERVED_HEAD)
        && !r.any_nonzero(&f::RESERVED_TAIL);
    Cdc {
        ty,
        prod: Cursor { span: r.span(&f::PROD), wrap: r.u16(&f::PROD_WRAP, order), count: r.u32(&f::PROD_COUNT, order) },
        cons: Cursor { span: r.span(&f::CONS), wrap: r.u16(&f::CONS_WRAP, order), count: r.u32(&f::CONS_COUNT, order) },
        prod_flags: r.u8(&f::PROD_FLAGS).map(|b| b.map(ProdFlags)),
        conn_state: r.u8(&f::CONN_STATE).map(|b| b.map(ConnState)),
        variant: CdcVariant::SmcD(SmcdCdc {
            reserved_head: r.span(&f::RESERVED_HEAD),
            prod_curs_flags: r.u8(&f::PROD_CURS_FLAGS),
            prod_curs_conn_state: r.u8(&f::PROD_CURS_CONN_STATE),
            reserved_tail: r.span(&f::RESERVED_TAIL),
            byte_order: order,
            looks_sent,
        }),
    }
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
        let c = smcr_cdc(&SMCR, 0);
        assert_eq!(c.ty, Some(Field::new(0, 1, 0xFE)));
        assert_eq!(c.prod.span, Span::new(8, 8));
        assert_eq!(c.prod.wrap, Some(Field::new(10, 2, 3)));
        assert_eq!(c.prod.count, Some(Field::new(12, 4, 0x10000)));
        assert_eq!(c.cons.wrap, Some(Field::new(18, 2, 2)));
        assert_eq!(c.cons.count, Some(Field::new(20, 4, 0x2000)));
        let flags = c.prod_flags.unwrap().value;
        assert_eq!(flags, ProdFlags(0x90));
        assert!(flags.has(ProdFlags::WRITE_BLOCKED));
        assert!(flags.has(ProdFlags::CONS_CURS_UPD_REQ));
        assert!(!flags.has(ProdFlags::URG_DATA_PENDING));
        assert!(c.conn_state.unwrap().value.has(ConnState::PEER_CONN_ABORT));
        let CdcVariant::SmcR(r) = c.variant else { panic!("not SMC-R") };
        assert_eq!(r.len, Some(Field::new(1, 1, 44)));
        assert_eq!(r.seqno, Some(Field::new(2, 2, 0x0102)));
        assert_eq!(r.token, Some(Field::new(4, 4, 0xDEAD_BEEF)));
        assert_eq!(r.credits, Some(Field::new(26, 1, 5)));
        assert_eq!(r.reserved, Span::new(27, 17));
        assert!(!r.reserved_nonzero);
        assert_eq!(r.padding, Span::new(44, 4));
    }

    #[test]
    fn smcr_fields_past_the_capture_are_absent() {
        let c = smcr_cdc(&SMCR[..14], 100);
        assert_eq!(c.prod.wrap, Some(Field::new(110, 2, 3)));
        assert_eq!((c.prod.count, c.prod.value(), c.cons.wrap, c.conn_state), (None, None, None, None));
        assert_eq!(c.complete_cursors(), None);
        assert_eq!(smcr_cdc(&SMCR[..26], 0).complete_cursors(), Some(((3, 0x10000), (2, 0x2000))));
        let CdcVariant::SmcR(r) = c.variant else { panic!("not SMC-R") };
        assert_eq!((r.seqno.map(|f| f.value), r.credits), (Some(0x0102), None));
        // Spans of what is not captured are still known, for the renderer to clip.
        assert_eq!(r.padding, Span::new(144, 4));
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
        let c = smcd_cdc(&SMCD_LE, SmcdByteOrder::Auto, 0);
        assert_eq!(c.prod.wrap, Some(Field::new(8, 2, 5)));
        assert_eq!(c.prod.count, Some(Field::new(10, 4, 0x1000)));
        assert_eq!(c.cons.wrap, Some(Field::new(16, 2, 1)));
        assert_eq!(c.cons.count, Some(Field::new(18, 4, 0x1234)));
        assert_eq!(c.prod_flags, Some(Field::new(22, 1, ProdFlags(0x40))));
        assert_eq!(c.conn_state, Some(Field::new(23, 1, ConnState(0xC0))));
        let CdcVariant::SmcD(d) = c.variant else { panic!("not SMC-D") };
        assert_eq!(d.byte_order, ByteOrder::Little);
        assert!(d.looks_sent);
        assert_eq!(d.prod_curs_flags, Some(Field::new(14, 1, 0)));
        assert_eq!(d.reserved_head, Span::new(1, 7));
        assert_eq!(d.reserved_tail, Span::new(24, 8));
    }

    #[test]
    fn smcd_big_endian_is_detected_and_forced() {
        let mut be = SMCD_LE;
        be[8..14].copy_from_slice(&[0x00, 0x05, 0x00, 0x00, 0x10, 0x00]);
        be[16..22].copy_from_slice(&[0x00, 0x01, 0x00, 0x00, 0x12, 0x34]);
        let c = smcd_cdc(&be, SmcdByteOrder::Auto, 0);
        assert_eq!(c.prod.value(), Some((5, 0x1000)));
        assert_eq!(c.cons.value(), Some((1, 0x1234)));
        // Forcing little-endian reads the same bytes the other way.
        let c = smcd_cdc(&be, SmcdByteOrder::Little, 0);
        assert_eq!(c.prod.value(), Some((0x0500, 0x0010_0000)));
    }

    #[test]
    fn smcd_auto_falls_back_to_little_when_undecided() {
        let mut b = SMCD_LE;
        b[10..14].copy_from_slice(&[0xFF; 4]);
        let c = smcd_cdc(&b, SmcdByteOrder::Auto, 0);
        let CdcVariant::SmcD(d) = c.variant else { panic!("not SMC-D") };
        assert_eq!(d.byte_order, ByteOrder::Little);
    }

    #[test]
    fn smcd_received_garbage_is_not_sent_looking() {
        let mut b = SMCD_LE;
        b[0] = 0x13;
        b[30] = 0x77;
        let c = smcd_cdc(&b, SmcdByteOrder::Auto, 0);
        let CdcVariant::SmcD(d) = c.variant else { panic!("not SMC-D") };
        assert!(!d.looks_sent);
        assert_eq!(c.ty.map(|t| t.value), Some(0x13));
    }
}
