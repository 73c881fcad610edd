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

use smcdump::dissect::{Ei, Ett, Hf, RecordingTree, TreeWriter, Value};
use smcdump::wire::header::claims;
use smcdump::wire::{DumpFrame, Layout, Span};

/// Bytes before the payload.
pub const PREFIX: usize = 6;

/// The marker span the renderer uses for an item it does not show.
pub const HIDDEN: Span = Span::new(usize::MAX, 0);

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

/// A tree writer that keeps every span it is asked for, the ones a real tree drops included.
pub struct Checking {
    pub tree: RecordingTree,
    pub requested: Vec<(Option<Hf>, Span, Value)>,
}

impl Checking {
    pub fn new(captured: usize) -> Self {
        Checking { tree: RecordingTree::new(captured), requested: Vec::new() }
    }
}

impl TreeWriter for Checking {
    type Node = usize;

    fn add(&mut self, parent: usize, hf: Hf, span: Span, value: Value) -> usize {
        self.requested.push((Some(hf), span, value));
        self.tree.add(parent, hf, span, value)
    }
    fn subtree(&mut self, item: usize, ett: Ett) -> usize {
        self.tree.subtree(item, ett)
    }
    fn append_text(&mut self, item: usize, text: &str) {
        self.tree.append_text(item, text)
    }
    fn expert(&mut self, item: usize, ei: Ei, message: &str) {
        self.tree.expert(item, ei, message)
    }
    fn expert_at(&mut self, parent: usize, ei: Ei, span: Span, message: &str) {
        self.requested.push((None, span, Value::None));
        self.tree.expert_at(parent, ei, span, message)
    }
}

/// Renders the input and checks that every recorded item, and every span asked for, lies within the capture.
pub fn check_dissect(input: &Input) {
    let mut w = Checking::new(input.captured.len());
    let summary = smcdump::dissect::dissect(&mut w, 0, input.captured, input.reported, &input.layout);
    for item in &w.tree.items {
        assert!(item.span.within(input.captured.len()), "recorded {item:?}");
    }
    for (hf, span, _) in &w.requested {
        assert!(span.within(input.captured.len()) || *span == HIDDEN, "{hf:?} asked for {span:?}");
    }
    assert!(!summary.info.contains('\0'));
}
