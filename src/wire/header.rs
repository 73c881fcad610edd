//! The SMC dump header that starts every dump frame's UDP payload. Its fixed fields lie where
//! [`layout::HeaderRepr`](super::layout::HeaderRepr) declares them (an inferred layout): magic, hdr_ver, smc_ver,
//! mode, type, len (big-endian), then reserved bytes up to [`Layout::header_len`].

use super::layout::{header_field as field, HeaderRepr, HeaderView, HEADER_BYTE_ORDER};
use super::{Layout, Span};

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

/// A parsed dump header, wholly captured. Spans are relative to the start of the UDP payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DumpHeader {
    /// The fixed fields' values.
    pub repr: HeaderRepr,
    /// The same with their bytes (every field is there: a header is parsed only when wholly captured).
    pub view: HeaderView,
    pub mode: Mode,
    /// What the type code means under the layout the header was parsed with.
    pub kind: Kind,
    /// The reserved tail of the header (may be empty if the layout says so).
    pub reserved: Span,
    /// Whether any reserved byte is non-zero.
    pub reserved_nonzero: bool,
}

/// Parses the header from the start of a UDP payload; `None` when fewer than [`Layout::header_len`] bytes were
/// captured. The magic is read, not checked: callers that must refuse foreign traffic use [`claims`]; a
/// dissection forced by Decode As shows a wrong magic instead of refusing it.
pub fn dump_header(input: &[u8], layout: &Layout) -> Option<DumpHeader> {
    let bytes = input.get(..layout.header_len)?;
    let view = HeaderView::parse(bytes, 0, HEADER_BYTE_ORDER);
    let repr = view.repr()?;
    let reserved = bytes.get(field::SIZE..).unwrap_or(&[]);
    Some(DumpHeader {
        repr,
        view,
        mode: Mode::from_code(repr.mode),
        kind: Kind::from_code(repr.type_code, layout),
        reserved: Span::new(field::SIZE, reserved.len()),
        reserved_nonzero: reserved.iter().any(|&b| b != 0),
    })
}

/// Whether the whole header was captured and starts with the magic: the test for datagrams of a flow already
/// recognised as SMC dump, where a length field that does not fit is flagged rather than refused.
pub fn starts_dump_header(captured: &[u8], layout: &Layout) -> bool {
    captured.len() >= layout.header_len && captured.get(field::MAGIC) == Some(&MAGIC.to_be_bytes()[..])
}

/// The header's length field, if captured.
pub fn length_field(captured: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes(captured.get(field::LEN)?.try_into().ok()?))
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
    let Some(len) = length_field(captured).map(usize::from) else { return false };
    len >= layout.header_len && len <= reported_len
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Field;

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
        let v = h.view;
        assert_eq!(v.magic, Some(Field::new(0, 4, MAGIC)));
        assert_eq!(v.hdr_ver, Some(Field::new(4, 1, 1)));
        assert_eq!(v.smc_ver, Some(Field::new(5, 1, 2)));
        assert_eq!((v.mode, h.mode), (Some(Field::new(6, 1, 1)), Mode::SmcR));
        assert_eq!(v.type_code, Some(Field::new(7, 1, 2)));
        assert_eq!(h.kind, Kind::Cdc);
        assert_eq!(v.len, Some(Field::new(8, 2, 64)));
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
        assert_eq!(h.mode, Mode::Unknown(9));
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
