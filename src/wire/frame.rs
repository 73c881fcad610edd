//! A whole dump frame: the header, then the payload it announces.

use super::cdc::{smcd_cdc, smcr_cdc, SMCD_DUMP_SIZE, SMCR_DUMP_SIZE, SMCR_MSG_SIZE};
use super::header::dump_header;
use super::{Cdc, DumpHeader, Kind, Layout, Mode, Span, MAGIC};

/// What follows the header.
// A CDC is a few hundred bytes of spans; a frame is parsed once per packet on the stack, so boxing it would
// only add an allocation per packet.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload {
    /// A block of ring-buffer data.
    Raw(Span),
    /// A CDC message.
    Cdc {
        cdc: Cdc,
        /// Bytes the message needs to be complete (44 for SMC-R, whose 4 padding bytes are optional; 32 for SMC-D).
        needed: usize,
        /// Payload bytes after the record (beyond 48 for SMC-R, 32 for SMC-D).
        extra: Option<Span>,
    },
    /// A CDC message of an unknown mode, or a payload of an unknown type: shown as bytes.
    Undecoded(Span),
}

/// Why a frame could not be parsed at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// Fewer bytes than a header were captured (or sent).
    HeaderTruncated { available: usize, needed: usize },
}

/// A parsed dump frame. Spans are relative to the start of the UDP payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DumpFrame {
    pub header: DumpHeader,
    /// Whether the header starts with [`MAGIC`]. Only a forced dissection (Decode As, a known conversation)
    /// gets here with a wrong one.
    pub magic_ok: bool,
    /// Bytes of the UDP payload the capture holds.
    pub captured: usize,
    /// Bytes of the UDP payload on the wire.
    pub reported: usize,
    /// The payload: from the end of the header to the end the length field gives (or the datagram's end when the
    /// length field is impossible).
    pub payload_span: Span,
    pub payload: Payload,
    /// Datagram bytes after the length the header announced.
    pub trailer: Option<Span>,
}

impl DumpFrame {
    /// Parses the captured bytes of a UDP payload whose length on the wire is `reported`.
    ///
    /// Truncated captures decode what is present: a field beyond [`DumpFrame::visible_end`] is `None`;
    /// [`DumpFrame::is_truncated`] says whether the capture ended early.
    pub fn parse(captured: &[u8], reported: usize, layout: &Layout) -> Result<DumpFrame, FrameError> {
        let reported = reported.max(captured.len());
        let needed = layout.header_len;
        let header =
            dump_header(captured, layout).ok_or(FrameError::HeaderTruncated { available: captured.len(), needed })?;
        let len = usize::from(header.repr.len);
        let payload_end = if len >= needed && len <= reported { len } else { reported };
        let payload_span = Span::new(needed, payload_end - needed);
        let trailer = (payload_end < reported).then(|| Span::new(payload_end, reported - payload_end));
        let visible_end = payload_end.min(captured.len());
        let available = captured.get(needed..visible_end).unwrap_or(&[]);

        let base = payload_span.off;
        let payload = match (header.kind, header.mode) {
            (Kind::Raw, _) => Payload::Raw(payload_span),
            (Kind::Cdc, Mode::SmcR) => {
                cdc_payload(smcr_cdc(available, base), payload_span, SMCR_DUMP_SIZE, SMCR_MSG_SIZE)
            }
            (Kind::Cdc, Mode::SmcD) => cdc_payload(
                smcd_cdc(available, layout.smcd_byte_order, base),
                payload_span,
                SMCD_DUMP_SIZE,
                SMCD_DUMP_SIZE,
            ),
            (Kind::Cdc, Mode::Unknown(_)) | (Kind::Unknown(_), _) => Payload::Undecoded(payload_span),
        };
        Ok(DumpFrame {
            magic_ok: header.repr.magic == MAGIC,
            header,
            captured: captured.len(),
            reported,
            payload_span,
            payload,
            trailer,
        })
    }

    /// End of the bytes that are both captured and part of the payload: no field ending later may be shown.
    pub fn visible_end(&self) -> usize {
        self.payload_span.end().min(self.captured)
    }

    /// Whether the capture holds fewer bytes than the datagram carried.
    pub fn is_truncated(&self) -> bool {
        self.captured < self.reported
    }

    /// The length the header announced differs from the UDP payload length.
    pub fn len_mismatch(&self) -> bool {
        usize::from(self.header.repr.len) != self.reported
    }
}

/// A CDC record of `record` bytes, `needed` of them required, in a payload over `payload_span`.
fn cdc_payload(cdc: Cdc, payload_span: Span, record: usize, needed: usize) -> Payload {
    let extra = (payload_span.len > record).then(|| Span::new(payload_span.off + record, payload_span.len - record));
    Payload::Cdc { cdc, needed, extra }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Field;

    fn header(mode: u8, ty: u8, len: u16) -> Vec<u8> {
        let mut v = vec![0xCF, 0xD3, 0xE7, 0xA5, 1, 1, mode, ty];
        v.extend_from_slice(&len.to_be_bytes());
        v.extend_from_slice(&[0; 6]);
        v
    }

    #[test]
    fn raw_data_frame() {
        let mut b = header(1, 1, 16 + 5);
        b.extend_from_slice(b"hello");
        let f = DumpFrame::parse(&b, b.len(), &Layout::default()).unwrap();
        assert!(f.magic_ok);
        assert_eq!(f.payload, Payload::Raw(Span::new(16, 5)));
        assert!(!f.len_mismatch() && !f.is_truncated());
        assert_eq!(f.trailer, None);
    }

    #[test]
    fn smcr_cdc_frame_spans_are_frame_relative() {
        let mut b = header(1, 2, 64);
        b.extend_from_slice(&[0xFE, 0x2C, 0x00, 0x07]);
        b.resize(64, 0);
        let f = DumpFrame::parse(&b, 64, &Layout::default()).unwrap();
        let Payload::Cdc { cdc, needed, extra } = f.payload else { panic!("{:?}", f.payload) };
        assert_eq!((needed, extra), (44, None));
        assert_eq!(cdc.ty(), Some(Field::new(16, 1, 0xFE)));
        let Cdc::SmcR(r) = cdc else { panic!() };
        assert_eq!(r.seqno, Some(Field::new(18, 2, 7)));
        assert_eq!(r.span(&crate::wire::cdc::smcr_field::PADDING), Span::new(60, 4));
    }

    #[test]
    fn truncated_cdc_keeps_what_was_captured() {
        let mut b = header(2, 2, 48);
        b.extend_from_slice(&[0xFE, 0, 0, 0, 0, 0, 0, 0, 0x09, 0x00]);
        b.resize(48, 0);
        let f = DumpFrame::parse(&b[..26], 48, &Layout::default()).unwrap();
        assert!(f.is_truncated());
        assert_eq!(f.visible_end(), 26);
        let Payload::Cdc { cdc, .. } = f.payload else { panic!() };
        assert_eq!(cdc.prod().wrap, Some(Field::new(24, 2, 9)));
        assert_eq!(cdc.prod().count, None);
    }

    #[test]
    fn impossible_length_falls_back_to_datagram() {
        let mut b = header(1, 1, 9999);
        b.extend_from_slice(&[1, 2, 3]);
        let f = DumpFrame::parse(&b, b.len(), &Layout::default()).unwrap();
        assert!(f.len_mismatch());
        assert_eq!(f.payload_span, Span::new(16, 3));
    }

    #[test]
    fn short_length_leaves_a_trailer() {
        let mut b = header(1, 1, 18);
        b.extend_from_slice(&[1, 2, 3, 4]);
        let f = DumpFrame::parse(&b, b.len(), &Layout::default()).unwrap();
        assert_eq!(f.payload_span, Span::new(16, 2));
        assert_eq!(f.trailer, Some(Span::new(18, 2)));
    }

    #[test]
    fn unknown_mode_and_type_are_undecoded() {
        let mut b = header(7, 2, 20);
        b.extend_from_slice(&[0; 4]);
        let f = DumpFrame::parse(&b, 20, &Layout::default()).unwrap();
        assert_eq!(f.payload, Payload::Undecoded(Span::new(16, 4)));
        let mut b = header(1, 9, 20);
        b.extend_from_slice(&[0; 4]);
        let f = DumpFrame::parse(&b, 20, &Layout::default()).unwrap();
        assert_eq!(f.payload, Payload::Undecoded(Span::new(16, 4)));
    }

    #[test]
    fn header_truncated_is_an_error() {
        let b = header(1, 1, 16);
        assert_eq!(
            DumpFrame::parse(&b[..15], 16, &Layout::default()),
            Err(FrameError::HeaderTruncated { available: 15, needed: 16 })
        );
    }
}
