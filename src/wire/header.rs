//! The SMC dump header that starts every dump frame's UDP payload. Its fields lie where
//! [`layout::header_field`](super::layout::header_field) says (an inferred layout): magic, hdr_ver, smc_ver, mode,
//! type, len (big-endian), then reserved bytes up to [`Layout::header_len`].

use super::layout::header_field as field;
use super::{ByteOrder, Field, Layout, Record, Span};

/// The dump header magic, big-endian on the wire.
pub const MAGIC: u32 = 0xCFD3_E7A5;

/// SMC flavour of the connection the frame belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// SMC over RDMA (RoCE).
    SmcR,
    /// SMC over ISM (s390 internal shared memory, or loopback-ism).
    SmcD,
    /// A value the format does not define.
    Unknown(u8),
}

impl Mode {
    /// The mode for a wire code.
    pub const fn from_code(code: u8) -> Self {
        match code {
            1 => Mode::SmcR,
            2 => Mode::SmcD,
            other => Mode::Unknown(other),
        }
    }

    /// The wire code of the mode.
    pub const fn code(self) -> u8 {
        match self {
            Mode::SmcR => 1,
            Mode::SmcD => 2,
            Mode::Unknown(c) => c,
        }
    }
}

/// What the payload after the header holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A block of data as written into (or read from) the shared-memory ring buffer.
    Raw,
    /// A CDC control message.
    Cdc,
    /// A type code the layout does not know.
    Unknown(u8),
}

impl Kind {
    /// The kind for a wire code under `layout`.
    pub fn from_code(code: u8, layout: &Layout) -> Self {
        if code == layout.type_raw {
            Kind::Raw
        } else if code == layout.type_cdc {
            Kind::Cdc
        } else {
            Kind::Unknown(code)
        }
    }

    /// The wire code of the kind under `layout`.
    pub fn code(self, layout: &Layout) -> u8 {
        match self {
            Kind::Raw => layout.type_raw,
            Kind::Cdc => layout.type_cdc,
            Kind::Unknown(c) => c,
        }
    }
}

/// A parsed dump header. Spans are relative to the start of the UDP payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DumpHeader {
    pub magic: Field<u32>,
    pub hdr_ver: Field<u8>,
    pub smc_ver: Field<u8>,
    pub mode: Field<Mode>,
    /// The raw type code (also kept as [`Self::kind`], which depends on the layout).
    pub type_code: Field<u8>,
    pub kind: Kind,
    /// Header plus payload length, as the kernel wrote it.
    pub len: Field<u16>,
    /// The reserved tail of the header (may be empty if the layout says so).
    pub reserved: Span,
    /// Whether any reserved byte is non-zero.
    pub reserved_nonzero: bool,
}

/// Parses the header from the start of a UDP payload; `None` when fewer than [`Layout::header_len`] bytes were
/// captured. The magic is read, not checked: callers that must refuse foreign traffic use [`claims`]; a
/// dissection forced by Decode As shows a wrong magic instead of refusing it.
pub fn dump_header(input: &[u8], layout: &Layout) -> Option<DumpHeader> {
    let header = Record::new(input.get(..layout.header_len)?, 0);
    let reserved = field::RESERVED..layout.header_len.max(field::RESERVED);
    let type_code = header.u8(&field::TYPE)?;
    Some(DumpHeader {
        magic: header.u32(&field::MAGIC, ByteOrder::Big)?,
        hdr_ver: header.u8(&field::HDR_VER)?,
        smc_ver: header.u8(&field::SMC_VER)?,
        mode: header.u8(&field::MODE)?.map(Mode::from_code),
        kind: Kind::from_code(type_code.value, layout),
        type_code,
        len: header.u16(&field::LEN, ByteOrder::Big)?,
        reserved: header.span(&reserved),
        reserved_nonzero: header.any_nonzero(&reserved),
    })
}

/// Whether the whole header was captured and starts with the magic: the test for datagrams of a flow already
/// recognised as SMC dump, where a length field that does not fit is flagged rather than refused.
pub fn starts_dump_header(captured: &[u8], layout: &Layout) -> bool {
    captured.len() >= layout.header_len && captured.get(field::MAGIC) == Some(&MAGIC.to_be_bytes()[..])
}

/// The heuristic test: does this UDP payload start an SMC dump frame?
///
/// `captured` are the bytes the capture holds, `reported_len` the UDP payload length on the wire. The frame is
/// ours only if the whole header was captured, the magic matches and the length field is possible: it covers at
/// least the header and no more than the datagram carries. Checks run cheapest first and stop at the first miss.
pub fn claims(captured: &[u8], reported_len: usize, layout: &Layout) -> bool {
    if !starts_dump_header(captured, layout) {
        return false;
    }
    let len = match Record::new(captured, 0).u16(&field::LEN, ByteOrder::Big) {
        Some(f) => usize::from(f.value),
        None => return false,
    };
    len >= layout.header_len && len <= reported_len
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 16-byte header written from the spec table: SMCv2, SMC-R, CDC (type 2), len 64.
    const HDR: [u8; 16] = [
        0xCF, 0xD3, 0xE7, 0xA5, // magic
        0x01, // hdr_ver
        0x02, // smc_ver
        0x01, // mode SMC-R
        0x02, // type CDC
        0x00, 0x40, // len 64
        0, 0, 0, 0, 0, 0, // reserved
    ];

    #[test]
    fn parses_spec_header() {
        let l = Layout::default();
        let h = dump_header(&HDR, &l).unwrap();
        assert_eq!(h.magic, Field::new(0, 4, MAGIC));
        assert_eq!(h.hdr_ver, Field::new(4, 1, 1));
        assert_eq!(h.smc_ver, Field::new(5, 1, 2));
        assert_eq!(h.mode, Field::new(6, 1, Mode::SmcR));
        assert_eq!(h.type_code, Field::new(7, 1, 2));
        assert_eq!(h.kind, Kind::Cdc);
        assert_eq!(h.len, Field::new(8, 2, 64));
        assert_eq!(h.reserved, Span::new(10, 6));
        assert!(!h.reserved_nonzero);
    }

    #[test]
    fn unknown_codes_are_values() {
        let mut b = HDR;
        b[6] = 9;
        b[7] = 0x33;
        b[15] = 1;
        let h = dump_header(&b, &Layout::default()).unwrap();
        assert_eq!(h.mode.value, Mode::Unknown(9));
        assert_eq!(h.kind, Kind::Unknown(0x33));
        assert!(h.reserved_nonzero);
    }

    #[test]
    fn twelve_byte_layout_moves_nothing_but_reserved() {
        let l = Layout { header_len: 12, ..Layout::default() };
        let h = dump_header(&HDR, &l).unwrap();
        assert_eq!(h.reserved, Span::new(10, 2));
        assert_eq!(dump_header(&HDR[..11], &l), None);
    }

    #[test]
    fn claims_checks_length_magic_and_len() {
        let l = Layout::default();
        let mut frame = HDR.to_vec();
        frame.resize(64, 0);
        assert!(claims(&frame, 64, &l));
        // Truncated capture of a consistent frame: the header is there, so it is still ours.
        assert!(claims(&frame[..16], 64, &l));
        // Header not fully captured.
        assert!(!claims(&frame[..15], 64, &l));
        // Three of four magic bytes.
        let mut bad = frame.clone();
        bad[3] = 0xA4;
        assert!(!claims(&bad, 64, &l));
        // Length field larger than the datagram.
        assert!(!claims(&frame, 63, &l));
        // Length field smaller than the header.
        let mut small = frame.clone();
        small[8..10].copy_from_slice(&15u16.to_be_bytes());
        assert!(!claims(&small, 64, &l));
        // Shorter than the datagram: ours, flagged later.
        small[8..10].copy_from_slice(&40u16.to_be_bytes());
        assert!(claims(&small, 64, &l));
    }
}
