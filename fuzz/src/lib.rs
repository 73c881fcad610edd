//! What the fuzz targets share: how an input becomes a layout, a reported length and a UDP payload, and the
//! checks every dissection must pass.
//!
//! An input is a 6-byte prefix followed by the captured UDP payload:
//!
//! | byte | meaning |
//! |------|---------|
//! | 0    | `smcdump.header_len` preference (any value; out-of-range ones fall back, as in Wireshark) |
//! | 1, 2 | `smcdump.type_raw`, `smcdump.type_cdc` |
//! | 3    | `smcdump.smcd_byte_order`, as a signed byte |
//! | 4, 5 | big-endian: bytes on the wire beyond the captured ones; 0xFFFF means a reported length of 0 |
//!
//! `fuzz/make-seeds` writes the UDP payloads of test-pcaps/ behind the prefix `10 01 02 00 00 00` (the defaults).

use smcdump::dissect::{RecordingTree, NOWHERE};
use smcdump::wire::header::claims;
use smcdump::wire::{DumpFrame, Layout, Span};

/// Bytes before the payload.
pub const PREFIX: usize = 6;

/// One fuzz input, decoded.
pub struct Input<'a> {
    pub layout: Layout,
    pub captured: &'a [u8],
    pub reported: usize,
}

impl<'a> Input<'a> {
    /// Splits an input into its prefix and payload; `None` when it is shorter than the prefix.
    pub fn new(data: &'a [u8]) -> Option<Self> {
        let (&[hl, raw, cdc, order, e0, e1], captured) = data.split_first_chunk::<PREFIX>()?;
        let layout = Layout::from_prefs(hl.into(), raw.into(), cdc.into(), i32::from(order as i8));
        let extra = u16::from_be_bytes([e0, e1]);
        let reported = if extra == u16::MAX { 0 } else { captured.len() + usize::from(extra) };
        Some(Input { layout, captured, reported })
    }
}

/// The heuristic and the parser agree: a claimed payload parses, with the magic and the payload its length gives;
/// parsing fails exactly when the header was not captured.
pub fn check_parse(input: &Input) {
    let Input { layout, captured, reported } = input;
    let parsed = DumpFrame::parse(captured, *reported, layout);
    assert_eq!(parsed.is_ok(), captured.len() >= layout.header_len);
    if claims(captured, *reported, layout) {
        let f = parsed.expect("a claimed payload parses");
        let len = usize::from(f.header.len.value);
        assert!(f.magic_ok);
        assert_eq!(f.payload_span, Span::new(layout.header_len, len - layout.header_len));
        assert!(f.payload_span.end() <= f.reported);
    }
    if let Ok(f) = parsed {
        assert!(f.visible_end() <= captured.len());
    }
}

/// Renders the input and checks that every recorded item, and every span asked for, lies within the capture.
pub fn check_dissect(input: &Input) {
    let mut w = RecordingTree::new(input.captured.len());
    let summary = smcdump::dissect::dissect(&mut w, 0, input.captured, input.reported, &input.layout);
    for item in &w.items {
        assert!(item.span.within(input.captured.len()), "recorded {item:?}");
    }
    for (hf, span, _) in &w.requested {
        assert!(span.within(input.captured.len()) || *span == NOWHERE, "{hf:?} asked for {span:?}");
    }
    assert!(!summary.info.contains('\0'));
}
