//! Turns a parsed dump frame into tree items, expert items and the column texts.

use core::ffi::CStr;
use core::fmt::Write as _;

use super::fields::{Ei, Ett, Hf};
use super::tree::{Joined, TreeWriter, Value, NOWHERE};
use crate::analysis::FrameAnalysis;
use crate::streams::Closing;
use crate::wire::cdc::{CDC_MSG_TYPE, SMCR_CDC_LEN};
use crate::wire::frame::FrameError;
use crate::wire::learn::{identify, Evidence, Learned};
use crate::wire::{
    Cdc, CdcVariant, ConnState, Cursor, DumpFrame, Field, Kind, Layout, Mode, Payload, ProdFlags, SmcrCdc, Span,
};

/// What the columns show for a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Protocol column: `SMC-R`, `SMC-D`, or `SMCDUMP` when the mode is unknown.
    pub protocol: &'static CStr,
    /// Info column.
    pub info: String,
    /// What the frame carries for the application's byte stream, when it is a well-formed dump frame.
    pub stream: Option<StreamPart>,
}

/// What a dump frame carries for its connection's byte stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamPart {
    /// Ring-buffer data over this span of the UDP payload, wholly captured.
    Data(Span),
    /// A CDC message, with what it says about the connection's end.
    Cdc(Closing),
}

/// What `f` carries for its connection's byte stream: data wholly captured, or a CDC whose flags were.
pub fn stream_part(f: &DumpFrame) -> Option<StreamPart> {
    match f.payload {
        _ if !f.magic_ok => None,
        Payload::Raw(span) if span.within(f.captured) => Some(StreamPart::Data(span)),
        Payload::Cdc { cdc, .. } => cdc.conn_state.map(|s| {
            let closed = s.value.has(ConnState::PEER_CONN_CLOSED);
            StreamPart::Cdc(Closing { closed, aborted: s.value.has(ConnState::PEER_CONN_ABORT) })
        }),
        Payload::Raw(_) | Payload::Undecoded(_) => None,
    }
}

/// Protocol column text when the mode gives none.
pub const PROTOCOL_SHORT: &CStr = c"SMCDUMP";

/// A header layout learned from the capture, as a dissection shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LearnedLayout {
    pub learned: Learned,
    /// The layout the preferences give, which the learned one replaces.
    pub builtin: Layout,
    /// The number of the frame being dissected.
    pub frame: u32,
}

/// What a dissection needs besides the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    /// The layout to parse with.
    pub layout: Layout,
    /// How the layout was learned from the capture, if it was.
    pub learned: Option<LearnedLayout>,
}

/// Dissects the captured bytes of a UDP payload (`reported` bytes on the wire) under `root`.
pub fn dissect<W: TreeWriter>(w: &mut W, root: W::Node, captured: &[u8], reported: usize, layout: &Layout) -> Summary {
    dissect_analysed(w, root, captured, reported, layout, |_| None)
}

/// Like [`dissect`], with the connection analysis `analyse` gives for the parsed frame shown too.
pub fn dissect_analysed<W: TreeWriter>(
    w: &mut W,
    root: W::Node,
    captured: &[u8],
    reported: usize,
    layout: &Layout,
    analyse: impl FnOnce(&DumpFrame) -> Option<FrameAnalysis>,
) -> Summary {
    dissect_in(w, root, captured, reported, &Context { layout: *layout, learned: None }, analyse)
}

/// Like [`dissect_analysed`], in `ctx`: with the learned layout said where it differs from the built-in one, and
/// a frame that implies another layout flagged.
pub fn dissect_in<W: TreeWriter>(
    w: &mut W,
    root: W::Node,
    captured: &[u8],
    reported: usize,
    ctx: &Context,
    analyse: impl FnOnce(&DumpFrame) -> Option<FrameAnalysis>,
) -> Summary {
    match DumpFrame::parse(captured, reported, &ctx.layout) {
        Ok(frame) => {
            let analysis = analyse(&frame);
            let mut r = Renderer { w, frame: &frame, visible: frame.visible_end() };
            r.header(root);
            if let Some(l) = ctx.learned {
                r.learned_layout(root, &ctx.layout, &l, identify(captured, reported));
            }
            let summary = r.render(root);
            if let Some(a) = analysis {
                r.analysis(root, &a);
            }
            summary
        }
        Err(FrameError::HeaderTruncated { available, needed }) => {
            let msg = format!("{available} bytes, an SMC dump header needs {needed}");
            w.expert_at(root, Ei::HeaderTruncated, Span::new(0, available), &msg);
            Summary { protocol: PROTOCOL_SHORT, info: format!("Malformed: {msg}"), stream: None }
        }
    }
}

/// Bytes reserved for the Info text: a CDC's line with every flag set fits.
const INFO_CAPACITY: usize = 128;

/// Appends `n` in decimal: the Info column's numbers, on every frame, without the formatting machinery.
fn push_uint(s: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Room first, then one byte per digit: no UTF-8 encoding or validation of what are ASCII digits.
    s.reserve(digits.len() - at);
    for &d in &digits[at..] {
        s.push(char::from(d));
    }
}

struct Renderer<'a, W: TreeWriter> {
    w: &'a mut W,
    frame: &'a DumpFrame,
    /// Fields ending after this are not captured (or lie past the payload) and are not shown.
    visible: usize,
}

impl<W: TreeWriter> Renderer<'_, W> {
    /// Everything after the header.
    fn render(&mut self, root: W::Node) -> Summary {
        let f = self.frame;
        // Room for the whole line at once: the Info column is built on every frame, tree or not.
        let mut info = String::with_capacity(INFO_CAPACITY);
        match f.payload {
            Payload::Raw(span) => {
                let shown = Span::new(span.off, span.len.min(self.visible.saturating_sub(span.off)));
                self.w.add(root, Hf::Data, shown, Value::None);
                let len = u32::try_from(span.len).unwrap_or(u32::MAX);
                let item = self.w.add(root, Hf::DataLen, shown, Value::Uint(len));
                self.w.generated(item);
                info.push_str("Data len=");
                push_uint(&mut info, span.len as u64);
            }
            Payload::Cdc { cdc, needed, extra } => {
                self.cdc(root, &cdc, needed, &mut info);
                if let Some(extra) = extra {
                    let item = self.bytes(root, Hf::CdcExtra, extra);
                    let msg = format!(
                        "{} bytes after the {}-byte CDC record",
                        extra.len,
                        extra.off.saturating_sub(f.payload_span.off)
                    );
                    self.w.expert(item, Ei::CdcExtra, &msg);
                }
            }
            Payload::Undecoded(span) => {
                self.bytes(root, Hf::Payload, span);
                info = match (f.header.kind, f.header.mode.value) {
                    (Kind::Unknown(t), _) => format!("Unknown type {t}, {} bytes", span.len),
                    (_, m) => format!("Unknown mode {}, {} bytes", m.code(), span.len),
                };
            }
        }
        if let Some(trailer) = f.trailer {
            // The trailer lies past the payload by definition: clip it to the capture, not to the payload.
            let len = trailer.len.min(f.captured.saturating_sub(trailer.off));
            let shown = if len == 0 { NOWHERE } else { Span::new(trailer.off, len) };
            self.w.add(root, Hf::Trailer, shown, Value::None);
        }
        if f.is_truncated() {
            let msg = format!("Captured {} of {} bytes", f.captured, f.reported);
            self.w.expert_at(root, Ei::Truncated, Span::new(f.captured, 0), &msg);
            info.push_str(" [truncated]");
        }
        // Without the magic nothing in the header can be trusted, the mode included.
        let protocol = match f.header.mode.value {
            _ if !f.magic_ok => PROTOCOL_SHORT,
            Mode::SmcR => c"SMC-R",
            Mode::SmcD => c"SMC-D",
            Mode::Unknown(_) => PROTOCOL_SHORT,
        };
        if !f.magic_ok {
            info.insert_str(0, "[bad magic] ");
        }
        Summary { protocol, info, stream: stream_part(f) }
    }

    /// The learned layout, when it differs from the built-in one: a generated subtree after the header, and on the
    /// frame it was learned from an expert note. A frame whose own evidence says otherwise gets a warning.
    fn learned_layout(&mut self, root: W::Node, layout: &Layout, l: &LearnedLayout, evidence: Option<Evidence>) {
        let learned = l.learned;
        let here = Span::new(0, 0);
        let b = &l.builtin;
        let differs = (layout.header_len, layout.type_raw, layout.type_cdc) != (b.header_len, b.type_raw, b.type_cdc);
        if differs {
            let item = self.w.add(root, Hf::Layout, here, Value::None);
            self.w.generated(item);
            let tree = self.w.subtree(item, Ett::Layout);
            let len = u32::try_from(layout.header_len).unwrap_or(u32::MAX);
            let values = [
                (Hf::LayoutHeaderLen, len),
                (Hf::LayoutTypeRaw, layout.type_raw.into()),
                (Hf::LayoutTypeCdc, layout.type_cdc.into()),
                (Hf::LayoutFrame, learned.frame),
            ];
            for (hf, v) in values {
                let i = self.w.add(tree, hf, here, Value::Uint(v));
                self.w.generated(i);
            }
            if l.frame == learned.frame {
                let msg = format!(
                    "Header layout learned from this frame: header length {}, CDC type {}, raw data type {} \
                     (built-in: {}, {}, {})",
                    layout.header_len, layout.type_cdc, layout.type_raw, b.header_len, b.type_cdc, b.type_raw
                );
                self.w.expert(item, Ei::LayoutLearned, &msg);
            }
        }
        if let Some(e) = evidence.filter(|e| *e != learned.evidence) {
            let msg = format!(
                "This CDC implies header length {} and CDC type {}; the layout learned in frame {} has {} and {}",
                e.header_len, e.type_cdc, learned.frame, learned.evidence.header_len, learned.evidence.type_cdc
            );
            self.w.expert_at(root, Ei::LayoutConflict, here, &msg);
        }
    }

    /// The connection analysis, as a subtree of its own (nothing when there is nothing to say).
    fn analysis(&mut self, root: W::Node, a: &FrameAnalysis) {
        if *a == FrameAnalysis::default() {
            return;
        }
        let here = Span::new(0, 0);
        let item = self.w.add(root, Hf::Analysis, here, Value::None);
        self.w.generated(item);
        let tree = self.w.subtree(item, Ett::Analysis);
        let prev = a.prev_cdc.unwrap_or(0);
        let values = [
            (Hf::AnPrevCdc, a.prev_cdc),
            (Hf::AnDataBytes, a.data_bytes.map(|d| u32::try_from(d).unwrap_or(u32::MAX))),
            (Hf::AnProdAdvance, a.prod_advance),
            (Hf::AnRingSize, a.ring_size),
            (Hf::DataRingOffset, a.ring_offset),
            (Hf::AnUnconsumed, a.unconsumed),
            (Hf::ClcFrame, a.clc_accept),
            (Hf::ClcFrame, a.clc_confirm),
            (Hf::ClcTcpStream, a.clc_tcp_stream),
        ];
        for (hf, value) in values {
            if let Some(v) = value {
                let item = self.w.add(tree, hf, here, Value::Uint(v));
                self.w.generated(item);
            }
        }
        if let Some(e) = a.seq_expected {
            let msg = format!("Expected sequence number {e} after the CDC in frame {prev}");
            self.w.expert(item, Ei::SeqUnexpected, &msg);
        }
        for (name, back) in [("Producer", a.prod_backwards), ("Consumer", a.cons_backwards)] {
            if let Some((w, c)) = back {
                let msg = format!("{name} cursor went back from {w}:{c} (frame {prev})");
                self.w.expert(item, Ei::CursorBackwards, &msg);
            }
        }
        if let Some((w, c)) = a.wrap_skipped {
            let msg = format!(
                "Producer cursor more than a whole ring past {w}:{c} (frame {prev}): a wrap's data is not in the capture"
            );
            self.w.expert(item, Ei::WrapSkipped, &msg);
        }
        if let (true, Some(ring)) = (a.peer_buffer_full(), a.ring_size) {
            let msg = format!("Peer receive buffer full: {ring} bytes written and not consumed");
            self.w.expert(item, Ei::PeerBufferFull, &msg);
        }
        if let Some((adv, data)) = a.data_mismatch() {
            let msg =
                format!("Producer cursor advanced {adv} bytes, {data} bytes of data were dumped since frame {prev}");
            self.w.expert(item, Ei::DataMismatch, &msg);
        }
    }

    fn header(&mut self, root: W::Node) {
        let h = &self.frame.header;
        let item = self.uint(root, Hf::Magic, h.magic);
        if !self.frame.magic_ok {
            let msg = format!("Magic is 0x{:08x}, not 0xcfd3e7a5", h.magic.value);
            self.w.expert(item, Ei::BadMagic, &msg);
        }
        self.uint(root, Hf::HdrVer, h.hdr_ver);
        self.uint(root, Hf::SmcVer, h.smc_ver);
        let mode = self.w.add(root, Hf::Mode, h.mode.span, Value::Uint(h.mode.value.code().into()));
        if let Mode::Unknown(m) = h.mode.value {
            self.w.expert(mode, Ei::UnknownMode, &format!("Unknown SMC mode {m}"));
        }
        let ty = self.uint(root, Hf::Type, h.type_code);
        match h.kind {
            Kind::Raw => self.w.append_text(ty, " (raw data)"),
            Kind::Cdc => self.w.append_text(ty, " (CDC message)"),
            Kind::Unknown(t) => {
                self.w.append_text(ty, " (unknown)");
                self.w.expert(ty, Ei::UnknownType, &format!("Unknown payload type {t}"));
            }
        }
        let len = self.uint(root, Hf::Len, h.len);
        if self.frame.len_mismatch() {
            let msg = format!("Length field is {}, UDP payload is {} bytes", h.len.value, self.frame.reported);
            self.w.expert(len, Ei::LenMismatch, &msg);
        }
        if h.reserved.len > 0 {
            let item = self.w.add(root, Hf::Reserved, h.reserved, Value::None);
            if h.reserved_nonzero {
                self.w.expert(item, Ei::ReservedNonzero, "Reserved header bytes are not zero");
            }
        }
    }

    /// Renders a CDC message; writes its Info text to `info` (empty).
    fn cdc(&mut self, root: W::Node, cdc: &Cdc, needed: usize, info: &mut String) {
        let f = self.frame;
        let record =
            Span::new(f.payload_span.off, f.payload_span.len.min(self.visible.saturating_sub(f.payload_span.off)));
        let item = self.w.add(root, Hf::Cdc, record, Value::None);
        let tree = self.w.subtree(item, Ett::Cdc);
        if f.payload_span.len < needed {
            let msg = format!("CDC message is {} bytes, its layout needs {needed}", f.payload_span.len);
            self.w.expert(item, Ei::CdcShort, &msg);
        }
        info.push_str("CDC");
        let mut flags = Vec::new();
        let ty = self.uint(tree, Hf::CdcType, cdc.ty);
        // Items in wire order, which differs between the two layouts.
        match cdc.variant {
            CdcVariant::SmcR(r) => {
                if let Some(t) = cdc.ty.filter(|t| t.value != CDC_MSG_TYPE) {
                    self.w.expert(ty, Ei::SmcrBadType, &format!("CDC type is 0x{:02x}, not 0xfe", t.value));
                }
                self.smcr_head(tree, &r, info);
                let prod = self.cursor_label(tree, Hf::CdcProd, cdc.prod, Ett::Prod);
                self.cursor_reserved(prod, r.prod_reserved);
                self.cursor_parts(prod, (Hf::CdcProdWrap, Hf::CdcProdCount), cdc.prod);
                let cons = self.cursor_label(tree, Hf::CdcCons, cdc.cons, Ett::Cons);
                self.cursor_reserved(cons, r.cons_reserved);
                self.cursor_parts(cons, (Hf::CdcConsWrap, Hf::CdcConsCount), cdc.cons);
                self.prod_flags(tree, cdc.prod_flags, &mut flags);
                self.conn_state(tree, cdc.conn_state, &mut flags);
                self.smcr_tail(tree, &r);
            }
            CdcVariant::SmcD(d) => {
                self.w.append_text(ty, UNINITIALISED_NOTE);
                self.smcd_reserved(tree, d.reserved_head);
                let prod = self.cursor_label(tree, Hf::CdcProd, cdc.prod, Ett::Prod);
                self.cursor_parts(prod, (Hf::CdcProdWrap, Hf::CdcProdCount), cdc.prod);
                self.uint(tree, Hf::CdcCursFlags, d.prod_curs_flags);
                self.uint(tree, Hf::CdcCursConnState, d.prod_curs_conn_state);
                let cons = self.cursor_label(tree, Hf::CdcCons, cdc.cons, Ett::Cons);
                self.cursor_parts(cons, (Hf::CdcConsWrap, Hf::CdcConsCount), cdc.cons);
                self.prod_flags(tree, cdc.prod_flags, &mut flags);
                self.conn_state(tree, cdc.conn_state, &mut flags);
                self.smcd_reserved(tree, d.reserved_tail);
            }
        }
        for (name, c) in [("prod", cdc.prod), ("cons", cdc.cons)] {
            if let Some((wrap, count)) = c.value() {
                info.push(' ');
                info.push_str(name);
                info.push('=');
                push_uint(info, wrap.into());
                info.push(':');
                push_uint(info, count.into());
            }
        }
        if !flags.is_empty() {
            let _ = write!(info, " [{}]", flags.join(","));
        }
    }

    fn smcr_head(&mut self, tree: W::Node, r: &SmcrCdc, info: &mut String) {
        let len = self.uint(tree, Hf::CdcLen, r.len);
        if let Some(l) = r.len.filter(|l| l.value != SMCR_CDC_LEN) {
            self.w.expert(len, Ei::SmcrBadLen, &format!("CDC length is {}, not 44", l.value));
        }
        self.uint(tree, Hf::CdcSeqno, r.seqno);
        self.uint(tree, Hf::CdcToken, r.token);
        if let Some(seqno) = r.seqno {
            info.push_str(" seq=");
            push_uint(info, seqno.value.into());
        }
    }

    fn smcr_tail(&mut self, tree: W::Node, r: &SmcrCdc) {
        self.uint(tree, Hf::CdcCredits, r.credits);
        let item = self.bytes(tree, Hf::CdcReserved, r.reserved);
        if r.reserved_nonzero && r.reserved.within(self.visible) {
            self.w.expert(item, Ei::ReservedNonzero, "Reserved CDC bytes are not zero");
        }
        self.bytes(tree, Hf::CdcPadding, r.padding);
    }

    /// SMC-D head/tail bytes: meaningful only in messages this host sent.
    fn smcd_reserved(&mut self, tree: W::Node, span: Span) {
        let item = self.bytes(tree, Hf::CdcReserved, span);
        self.w.append_text(item, UNINITIALISED_NOTE);
    }

    /// A cursor's label item (`wrap:count` appended when both were captured); returns its subtree.
    fn cursor_label(&mut self, tree: W::Node, hf: Hf, c: Cursor, ett: Ett) -> W::Node {
        let item = self.add_visible(tree, hf, c.span);
        if let Some((wrap, count)) = c.value() {
            self.w.append_fmt(item, format_args!(": {wrap}:{count}"));
        }
        self.w.subtree(item, ett)
    }

    /// The reserved half of an SMC-R cursor.
    fn cursor_reserved(&mut self, sub: W::Node, reserved: Option<Field<u16>>) {
        let item = self.uint(sub, Hf::CdcCursReserved, reserved);
        if reserved.is_some_and(|r| r.value != 0) {
            self.w.expert(item, Ei::ReservedNonzero, "Reserved cursor bytes are not zero");
        }
    }

    /// A cursor's wrap and count.
    fn cursor_parts(&mut self, sub: W::Node, (wrap_hf, count_hf): (Hf, Hf), c: Cursor) {
        self.uint(sub, wrap_hf, c.wrap);
        self.uint(sub, count_hf, c.count);
    }

    fn prod_flags(&mut self, tree: W::Node, f: Option<Field<ProdFlags>>, names: &mut Vec<&'static str>) {
        let Some(f) = f else { return };
        let bits = f.value.0;
        let bit_hfs = [Hf::PfWriteBlocked, Hf::PfUrgPending, Hf::PfUrgPresent, Hf::PfCursUpdReq, Hf::PfFailover];
        let sub = self.flag_byte(tree, PROD_FLAGS, f.span, bits, names);
        for hf in bit_hfs {
            self.w.add(sub, hf, f.span, Value::Flags(bits));
        }
        if f.value.has(ProdFlags::WRITE_BLOCKED) {
            self.w.expert(sub, Ei::WriteBlocked, "Writer blocked: the peer's receive buffer is full");
        }
    }

    fn conn_state(&mut self, tree: W::Node, f: Option<Field<ConnState>>, names: &mut Vec<&'static str>) {
        let Some(f) = f else { return };
        let bits = f.value.0;
        let sub = self.flag_byte(tree, CONN_STATE, f.span, bits, names);
        for (hf, bit, ei, msg) in [
            (Hf::CsDoneWriting, ConnState::PEER_DONE_WRITING, Ei::PeerDoneWriting, "Peer done writing (shutdown)"),
            (Hf::CsConnClosed, ConnState::PEER_CONN_CLOSED, Ei::PeerConnClosed, "Connection closed by peer"),
            (Hf::CsConnAbort, ConnState::PEER_CONN_ABORT, Ei::PeerConnAbort, "Connection aborted by peer"),
        ] {
            let item = self.w.add(sub, hf, f.span, Value::Flags(bits));
            if f.value.has(bit) {
                self.w.expert(item, ei, msg);
            }
        }
    }

    /// A flags byte as a parent item naming its set bits; returns its subtree.
    fn flag_byte(
        &mut self,
        tree: W::Node,
        byte: FlagByte,
        span: Span,
        bits: u8,
        names: &mut Vec<&'static str>,
    ) -> W::Node {
        let item = self.w.add(tree, byte.hf, span, Value::Uint(bits.into()));
        let set = byte.names.iter().filter(|(b, _)| bits & b != 0).map(|&(_, n)| n);
        if set.clone().next().is_some() {
            self.w.append_fmt(item, format_args!(" ({})", Joined(set.clone())));
        }
        names.extend(set);
        self.w.subtree(item, byte.ett)
    }

    /// An integer item; a field the capture does not hold is asked for over [`NOWHERE`], which writers drop.
    fn uint<T: Into<u32>>(&mut self, parent: W::Node, hf: Hf, f: impl Into<Option<Field<T>>>) -> W::Node {
        match f.into() {
            Some(f) => self.w.add(parent, hf, f.span, Value::Uint(f.value.into())),
            None => self.w.add(parent, hf, NOWHERE, Value::Uint(0)),
        }
    }

    fn bytes(&mut self, parent: W::Node, hf: Hf, span: Span) -> W::Node {
        self.add_visible(parent, hf, span)
    }

    /// Adds a value-less item over the part of `span` that may be shown (nothing if none of it may).
    fn add_visible(&mut self, parent: W::Node, hf: Hf, span: Span) -> W::Node {
        let len = span.len.min(self.visible.saturating_sub(span.off));
        let shown = if len == 0 && span.len > 0 { NOWHERE } else { Span::new(span.off, len) };
        self.w.add(parent, hf, shown, Value::None)
    }
}

/// A flags byte: its field, its subtree, and the names of its bits.
#[derive(Clone, Copy)]
struct FlagByte {
    hf: Hf,
    ett: Ett,
    names: &'static [(u8, &'static str)],
}

const PROD_FLAGS: FlagByte = FlagByte { hf: Hf::CdcProdFlags, ett: Ett::ProdFlags, names: &ProdFlags::NAMES };
const CONN_STATE: FlagByte = FlagByte { hf: Hf::CdcConnState, ett: Ett::ConnState, names: &ConnState::NAMES };

/// Appended to SMC-D bytes that a receiving kernel leaves uninitialised.
const UNINITIALISED_NOTE: &str = " (meaningful only when this host sent the message; uninitialised when received)";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::RecordingTree;
    use crate::wire::emit::{dump_frame, smcd_cdc, smcr_cdc, HeaderSpec, SmcdCdcSpec, SmcrCdcSpec};
    use crate::wire::ByteOrder;

    #[test]
    fn numbers_in_info_are_decimal() {
        let mut s = String::from("x=");
        for n in [0, 7, 10, 4096, u64::from(u32::MAX), u64::MAX] {
            push_uint(&mut s, n);
            s.push(',');
        }
        assert_eq!(s, "x=0,7,10,4096,4294967295,18446744073709551615,");
    }

    fn smcr_frame() -> Vec<u8> {
        let l = Layout::default();
        let mut spec = SmcrCdcSpec::new(7, 0xdead_beef, (1, 4096), (0, 512));
        spec.prod_flags = ProdFlags::WRITE_BLOCKED;
        spec.conn_state = ConnState::PEER_CONN_ABORT;
        dump_frame(&l, &HeaderSpec::new(2, 1, l.type_cdc), &smcr_cdc(&spec))
    }

    /// The header lines of a frame of `len` bytes, SMC version `ver`, mode `mode`, type `ty` (with its label).
    fn header_lines(ver: u8, mode: u8, ty: &str, len: usize) -> Vec<String> {
        vec![
            format!("Magic 0+4 = {}", crate::wire::MAGIC),
            "HdrVer 4+1 = 1".into(),
            format!("SmcVer 5+1 = {ver}"),
            format!("Mode 6+1 = {mode}"),
            format!("Type 7+1 = {ty}"),
            format!("Len 8+2 = {len}"),
            "Reserved 10+6".into(),
        ]
    }

    fn assert_tree(t: &RecordingTree, head: Vec<String>, rest: &[&str]) {
        let want: Vec<&str> = head.iter().map(String::as_str).chain(rest.iter().copied()).collect();
        t.assert_lines(&want);
    }

    #[test]
    fn smcr_cdc_items_in_wire_order_with_exact_values() {
        let bytes = smcr_frame();
        let mut t = RecordingTree::new(bytes.len());
        let s = dissect(&mut t, 0, &bytes, bytes.len(), &Layout::default());
        assert_eq!(s.protocol, c"SMC-R");
        assert_eq!(s.info, "CDC seq=7 prod=1:4096 cons=0:512 [WriteBlocked,PeerConnAbort]");
        let rest = [
            "Cdc 16+48",
            "  CdcType 16+1 = 254",
            "  CdcLen 17+1 = 44",
            "  CdcSeqno 18+2 = 7",
            "  CdcToken 20+4 = 3735928559",
            "  CdcProd 24+8 \": 1:4096\"",
            "    CdcCursReserved 24+2 = 0",
            "    CdcProdWrap 26+2 = 1",
            "    CdcProdCount 28+4 = 4096",
            "  CdcCons 32+8 \": 0:512\"",
            "    CdcCursReserved 32+2 = 0",
            "    CdcConsWrap 34+2 = 0",
            "    CdcConsCount 36+4 = 512",
            "  CdcProdFlags 40+1 = 128 \" (WriteBlocked)\"",
            "    PfWriteBlocked 40+1 = 0x80",
            "    PfUrgPending 40+1 = 0x80",
            "    PfUrgPresent 40+1 = 0x80",
            "    PfCursUpdReq 40+1 = 0x80",
            "    PfFailover 40+1 = 0x80",
            "  CdcConnState 41+1 = 32 \" (PeerConnAbort)\"",
            "    CsDoneWriting 41+1 = 0x20",
            "    CsConnClosed 41+1 = 0x20",
            "    CsConnAbort 41+1 = 0x20",
            "  CdcCredits 42+1 = 0",
            "  CdcReserved 43+17",
            "  CdcPadding 60+4",
        ];
        assert_tree(&t, header_lines(2, 1, "2 \" (CDC message)\"", 64), &rest);
        assert_eq!(t.expert_ids(), [Ei::WriteBlocked, Ei::PeerConnAbort]);
    }

    #[test]
    fn smcd_cdc_labels_the_uninitialised_bytes() {
        let l = Layout::default();
        let spec = SmcdCdcSpec::sent(ByteOrder::Little, (2, 300), (1, 20));
        let bytes = dump_frame(&l, &HeaderSpec::new(1, 2, l.type_cdc), &smcd_cdc(&spec));
        let mut t = RecordingTree::new(bytes.len());
        let s = dissect(&mut t, 0, &bytes, bytes.len(), &l);
        assert_eq!((s.protocol, s.info.as_str()), (c"SMC-D", "CDC prod=2:300 cons=1:20"));
        let note = format!("{UNINITIALISED_NOTE:?}");
        let rest = [
            "Cdc 16+32",
            &format!("  CdcType 16+1 = 254 {note}"),
            &format!("  CdcReserved 17+7 {note}"),
            "  CdcProd 24+6 \": 2:300\"",
            "    CdcProdWrap 24+2 = 2",
            "    CdcProdCount 26+4 = 300",
            "  CdcCursFlags 30+1 = 0",
            "  CdcCursConnState 31+1 = 0",
            "  CdcCons 32+6 \": 1:20\"",
            "    CdcConsWrap 32+2 = 1",
            "    CdcConsCount 34+4 = 20",
            "  CdcProdFlags 38+1 = 0",
            "    PfWriteBlocked 38+1 = 0x00",
            "    PfUrgPending 38+1 = 0x00",
            "    PfUrgPresent 38+1 = 0x00",
            "    PfCursUpdReq 38+1 = 0x00",
            "    PfFailover 38+1 = 0x00",
            "  CdcConnState 39+1 = 0",
            "    CsDoneWriting 39+1 = 0x00",
            "    CsConnClosed 39+1 = 0x00",
            "    CsConnAbort 39+1 = 0x00",
            &format!("  CdcReserved 40+8 {note}"),
        ];
        assert_tree(&t, header_lines(1, 2, "2 \" (CDC message)\"", 48), &rest);
        assert!(t.experts.is_empty());
    }

    #[test]
    fn truncated_frame_shows_only_captured_fields() {
        let bytes = smcr_frame();
        let mut t = RecordingTree::new(30);
        let s = dissect(&mut t, 0, &bytes[..30], bytes.len(), &Layout::default());
        assert_eq!(s.info, "CDC seq=7 [truncated]");
        let rest = [
            "Cdc 16+14",
            "  CdcType 16+1 = 254",
            "  CdcLen 17+1 = 44",
            "  CdcSeqno 18+2 = 7",
            "  CdcToken 20+4 = 3735928559",
            "  CdcProd 24+6",
            "    CdcCursReserved 24+2 = 0",
            "    CdcProdWrap 26+2 = 1",
        ];
        assert_tree(&t, header_lines(2, 1, "2 \" (CDC message)\"", 64), &rest);
        assert_eq!(t.experts.last().map(|e| (e.1, e.2.as_str())), Some((Ei::Truncated, "Captured 30 of 64 bytes")));
    }

    #[test]
    fn data_and_analysis_items_are_generated() {
        let l = Layout::default();
        let bytes = dump_frame(&l, &HeaderSpec::new(1, 1, l.type_raw), b"hello");
        let mut t = RecordingTree::new(bytes.len());
        let analysis =
            FrameAnalysis { prev_cdc: Some(3), data_bytes: Some(10), prod_advance: Some(20), ..Default::default() };
        let s = dissect_analysed(&mut t, 0, &bytes, bytes.len(), &l, |_| Some(analysis));
        assert_eq!((s.protocol, s.info.as_str()), (c"SMC-R", "Data len=5"));
        let rest = [
            "Data 16+5",
            "DataLen 16+5 = 5 [generated]",
            "Analysis 0+0 [generated]",
            "  AnPrevCdc 0+0 = 3 [generated]",
            "  AnDataBytes 0+0 = 10 [generated]",
            "  AnProdAdvance 0+0 = 20 [generated]",
        ];
        assert_tree(&t, header_lines(1, 1, "1 \" (raw data)\"", 21), &rest);
        assert_eq!(t.expert_ids(), [Ei::DataMismatch]);
    }

    /// A writer without items, as the FFI layer's for a pass without a tree: it keeps only the expert items.
    #[derive(Default)]
    struct ExpertsOnly(Vec<(Ei, String)>);

    impl TreeWriter for ExpertsOnly {
        type Node = ();
        fn add(&mut self, _: (), _: Hf, _: Span, _: Value) {}
        fn subtree(&mut self, _: (), _: Ett) {}
        fn append_text(&mut self, _: (), _: &str) {}
        fn append_fmt(&mut self, _: (), _: core::fmt::Arguments<'_>) {}
        fn generated(&mut self, _: ()) {}
        fn expert(&mut self, _: (), ei: Ei, message: &str) {
            self.0.push((ei, message.to_string()));
        }
        fn expert_at(&mut self, _: (), ei: Ei, _: Span, message: &str) {
            self.0.push((ei, message.to_string()));
        }
    }

    #[test]
    fn without_items_the_columns_and_expert_items_are_the_same() {
        let l = Layout::default();
        let mut bad_magic = smcr_frame();
        bad_magic[0] ^= 0xff;
        let mut unknown = dump_frame(&l, &HeaderSpec::new(1, 7, 9), b"xyz");
        unknown[8] ^= 1;
        let smcd = dump_frame(
            &l,
            &HeaderSpec::new(1, 2, l.type_cdc),
            &smcd_cdc(&SmcdCdcSpec::sent(ByteOrder::Big, (1, 2), (3, 4))),
        );
        let frames: Vec<(Vec<u8>, usize)> = vec![
            (smcr_frame(), 64),
            (smcr_frame()[..30].to_vec(), 64),
            (bad_magic, 64),
            (unknown, 19),
            (smcd, 48),
            (dump_frame(&l, &HeaderSpec::new(1, 1, l.type_raw), b"hello"), 21),
            (vec![0xCF; 9], 9),
        ];
        let analysis =
            FrameAnalysis { prev_cdc: Some(3), data_bytes: Some(10), prod_advance: Some(20), ..Default::default() };
        for (bytes, reported) in frames {
            let mut t = RecordingTree::new(bytes.len());
            let with_items = dissect_analysed(&mut t, 0, &bytes, reported, &l, |_| Some(analysis));
            let mut e = ExpertsOnly::default();
            let without = dissect_analysed(&mut e, (), &bytes, reported, &l, |_| Some(analysis));
            assert_eq!(without, with_items);
            let experts: Vec<(Ei, String)> = t.experts.iter().map(|(_, ei, m)| (*ei, m.clone())).collect();
            assert_eq!(e.0, experts, "{bytes:02x?}");
            assert!(!experts.is_empty());
        }
    }

    #[test]
    fn too_short_for_a_header() {
        let mut t = RecordingTree::new(9);
        let s = dissect(&mut t, 0, &[0xCF; 9], 9, &Layout::default());
        assert_eq!((s.protocol, s.info.as_str()), (PROTOCOL_SHORT, "Malformed: 9 bytes, an SMC dump header needs 16"));
        assert!(t.items.is_empty());
        assert_eq!(t.expert_ids(), [Ei::HeaderTruncated]);
    }
}
