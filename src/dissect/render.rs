//! Turns a parsed dump frame into tree items, expert items and the column texts.

use core::ffi::CStr;
use core::fmt::Write as _;

use super::fields::{Ei, Ett, Hf};
use super::tree::{TreeWriter, Value, NOWHERE};
use crate::analysis::FrameAnalysis;
use crate::wire::cdc::{CDC_MSG_TYPE, SMCR_CDC_LEN};
use crate::wire::frame::FrameError;
use crate::wire::{
    Cdc, CdcVariant, ConnState, DumpFrame, Field, Kind, Layout, Mode, Payload, ProdFlags, SmcrCdc, Span,
};

/// What the columns show for a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Protocol column: `SMC-R`, `SMC-D`, or `SMCDUMP` when the mode is unknown.
    pub protocol: &'static CStr,
    /// Info column.
    pub info: String,
}

/// Protocol column text when the mode gives none.
pub const PROTOCOL_SHORT: &CStr = c"SMCDUMP";

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
    match DumpFrame::parse(captured, reported, layout) {
        Ok(frame) => {
            let analysis = analyse(&frame);
            let mut r = Renderer { w, frame: &frame, visible: frame.visible_end() };
            let summary = r.render(root);
            if let Some(a) = analysis {
                r.analysis(root, &a);
            }
            summary
        }
        Err(FrameError::HeaderTruncated { available, needed }) => {
            let msg = format!("{available} bytes, an SMC dump header needs {needed}");
            w.expert_at(root, Ei::HeaderTruncated, Span::new(0, available), &msg);
            Summary { protocol: PROTOCOL_SHORT, info: format!("Malformed: {msg}") }
        }
    }
}

struct Renderer<'a, W: TreeWriter> {
    w: &'a mut W,
    frame: &'a DumpFrame,
    /// Fields ending after this are not captured (or lie past the payload) and are not shown.
    visible: usize,
}

impl<W: TreeWriter> Renderer<'_, W> {
    fn render(&mut self, root: W::Node) -> Summary {
        let f = self.frame;
        self.header(root);
        let mut info = String::new();
        match f.payload {
            Payload::Raw(span) => {
                let shown = Span::new(span.off, span.len.min(self.visible.saturating_sub(span.off)));
                self.w.add(root, Hf::Data, shown, Value::None);
                let len = u32::try_from(span.len).unwrap_or(u32::MAX);
                self.w.add(root, Hf::DataLen, shown, Value::Uint(len));
                let _ = write!(info, "Data len={}", span.len);
            }
            Payload::Cdc { cdc, needed, extra } => {
                info = self.cdc(root, &cdc, needed);
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
        Summary { protocol, info }
    }

    /// The connection analysis, as a subtree of its own (nothing when there is nothing to say).
    fn analysis(&mut self, root: W::Node, a: &FrameAnalysis) {
        if *a == FrameAnalysis::default() {
            return;
        }
        let here = Span::new(0, 0);
        let item = self.w.add(root, Hf::Analysis, here, Value::None);
        let tree = self.w.subtree(item, Ett::Analysis);
        let prev = a.prev_cdc.unwrap_or(0);
        if let Some(p) = a.prev_cdc {
            self.w.add(tree, Hf::AnPrevCdc, here, Value::Uint(p));
        }
        if let Some(d) = a.data_bytes {
            self.w.add(tree, Hf::AnDataBytes, here, Value::Uint(u32::try_from(d).unwrap_or(u32::MAX)));
        }
        if let Some(adv) = a.prod_advance {
            self.w.add(tree, Hf::AnProdAdvance, here, Value::Uint(adv));
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

    /// Renders a CDC message; returns its Info text.
    fn cdc(&mut self, root: W::Node, cdc: &Cdc, needed: usize) -> String {
        let f = self.frame;
        let record =
            Span::new(f.payload_span.off, f.payload_span.len.min(self.visible.saturating_sub(f.payload_span.off)));
        let item = self.w.add(root, Hf::Cdc, record, Value::None);
        let tree = self.w.subtree(item, Ett::Cdc);
        if f.payload_span.len < needed {
            let msg = format!("CDC message is {} bytes, its layout needs {needed}", f.payload_span.len);
            self.w.expert(item, Ei::CdcShort, &msg);
        }
        let mut info = String::from("CDC");
        let mut flags = Vec::new();
        let ty = self.uint(tree, Hf::CdcType, cdc.ty);
        // Items in wire order, which differs between the two layouts.
        match cdc.variant {
            CdcVariant::SmcR(r) => {
                if self.shown(cdc.ty) && cdc.ty.value != CDC_MSG_TYPE {
                    self.w.expert(ty, Ei::SmcrBadType, &format!("CDC type is 0x{:02x}, not 0xfe", cdc.ty.value));
                }
                self.smcr_head(tree, &r, &mut info);
                self.cursor(tree, Hf::CdcProd, cdc.prod, Ett::Prod, Some(r.prod_reserved));
                self.cursor(tree, Hf::CdcCons, cdc.cons, Ett::Cons, Some(r.cons_reserved));
                self.prod_flags(tree, cdc.prod_flags, &mut flags);
                self.conn_state(tree, cdc.conn_state, &mut flags);
                self.smcr_tail(tree, &r);
            }
            CdcVariant::SmcD(d) => {
                self.w.append_text(ty, UNINITIALISED_NOTE);
                self.smcd_reserved(tree, d.reserved_head);
                self.cursor(tree, Hf::CdcProd, cdc.prod, Ett::Prod, None);
                self.uint(tree, Hf::CdcCursFlags, d.prod_curs_flags);
                self.uint(tree, Hf::CdcCursConnState, d.prod_curs_conn_state);
                self.cursor(tree, Hf::CdcCons, cdc.cons, Ett::Cons, None);
                self.prod_flags(tree, cdc.prod_flags, &mut flags);
                self.conn_state(tree, cdc.conn_state, &mut flags);
                self.smcd_reserved(tree, d.reserved_tail);
            }
        }
        for (name, c) in [("prod", cdc.prod), ("cons", cdc.cons)] {
            if self.shown(c.wrap) && self.shown(c.count) {
                let _ = write!(info, " {name}={}:{}", c.wrap.value, c.count.value);
            }
        }
        if !flags.is_empty() {
            let _ = write!(info, " [{}]", flags.join(","));
        }
        info
    }

    fn smcr_head(&mut self, tree: W::Node, r: &SmcrCdc, info: &mut String) {
        let len = self.uint(tree, Hf::CdcLen, r.len);
        if self.shown(r.len) && r.len.value != SMCR_CDC_LEN {
            self.w.expert(len, Ei::SmcrBadLen, &format!("CDC length is {}, not 44", r.len.value));
        }
        self.uint(tree, Hf::CdcSeqno, r.seqno);
        self.uint(tree, Hf::CdcToken, r.token);
        if self.shown(r.seqno) {
            let _ = write!(info, " seq={}", r.seqno.value);
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

    fn cursor(
        &mut self,
        tree: W::Node,
        hf: Hf,
        c: crate::wire::Cursor,
        ett: Ett,
        reserved: Option<Field<u16>>,
    ) -> W::Node {
        let start = reserved.map_or(c.wrap.span.off, |r| r.span.off);
        let span = Span::new(start, c.count.span.end().saturating_sub(start));
        let item = self.add_visible(tree, hf, span);
        if self.shown(c.wrap) && self.shown(c.count) {
            self.w.append_text(item, &format!(": {}:{}", c.wrap.value, c.count.value));
        }
        let sub = self.w.subtree(item, ett);
        if let Some(r) = reserved {
            let ri = self.uint(sub, Hf::CdcCursReserved, r);
            if self.shown(r) && r.value != 0 {
                self.w.expert(ri, Ei::ReservedNonzero, "Reserved cursor bytes are not zero");
            }
        }
        let (wrap_hf, count_hf) =
            if hf == Hf::CdcProd { (Hf::CdcProdWrap, Hf::CdcProdCount) } else { (Hf::CdcConsWrap, Hf::CdcConsCount) };
        self.uint(sub, wrap_hf, c.wrap);
        self.uint(sub, count_hf, c.count);
        item
    }

    fn prod_flags(&mut self, tree: W::Node, f: Field<ProdFlags>, names: &mut Vec<&'static str>) {
        if !self.shown(f) {
            return;
        }
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

    fn conn_state(&mut self, tree: W::Node, f: Field<ConnState>, names: &mut Vec<&'static str>) {
        if !self.shown(f) {
            return;
        }
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
        let set: Vec<&'static str> = byte.names.iter().filter(|(b, _)| bits & b != 0).map(|&(_, n)| n).collect();
        if !set.is_empty() {
            self.w.append_text(item, &format!(" ({})", set.join(", ")));
        }
        names.extend(set);
        self.w.subtree(item, byte.ett)
    }

    /// Whether a field lies within the bytes that may be shown.
    fn shown<T>(&self, f: Field<T>) -> bool {
        f.span.within(self.visible)
    }

    fn uint<T: Into<u32>>(&mut self, parent: W::Node, hf: Hf, f: Field<T>) -> W::Node {
        if !f.span.within(self.visible) {
            return self.w.add(parent, hf, NOWHERE, Value::None);
        }
        self.w.add(parent, hf, f.span, Value::Uint(f.value.into()))
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

    fn smcr_frame() -> Vec<u8> {
        let l = Layout::default();
        let mut spec = SmcrCdcSpec::new(7, 0xdead_beef, (1, 4096), (0, 512));
        spec.prod_flags = ProdFlags::WRITE_BLOCKED;
        spec.conn_state = ConnState::PEER_CONN_ABORT;
        dump_frame(&l, &HeaderSpec::new(2, 1, l.type_cdc), &smcr_cdc(&spec))
    }

    #[test]
    fn smcr_cdc_items_in_wire_order_with_exact_spans() {
        let bytes = smcr_frame();
        let mut t = RecordingTree::new(bytes.len());
        let s = dissect(&mut t, 0, &bytes, bytes.len(), &Layout::default());
        assert_eq!(s.protocol, c"SMC-R");
        assert_eq!(s.info, "CDC seq=7 prod=1:4096 cons=0:512 [WriteBlocked,PeerConnAbort]");
        let order: Vec<Hf> = t.items.iter().map(|r| r.hf).collect();
        use Hf::*;
        assert_eq!(
            order,
            [
                Magic,
                HdrVer,
                SmcVer,
                Mode,
                Type,
                Len,
                Reserved,
                Cdc,
                CdcType,
                CdcLen,
                CdcSeqno,
                CdcToken,
                CdcProd,
                CdcCursReserved,
                CdcProdWrap,
                CdcProdCount,
                CdcCons,
                CdcCursReserved,
                CdcConsWrap,
                CdcConsCount,
                CdcProdFlags,
                PfWriteBlocked,
                PfUrgPending,
                PfUrgPresent,
                PfCursUpdReq,
                PfFailover,
                CdcConnState,
                CsDoneWriting,
                CsConnClosed,
                CsConnAbort,
                CdcCredits,
                CdcReserved,
                CdcPadding,
            ]
        );
        let seqno = t.find(CdcSeqno).unwrap();
        assert_eq!((seqno.span, seqno.value), (Span::new(18, 2), Value::Uint(7)));
        assert_eq!(t.find(CdcProd).unwrap().span, Span::new(24, 8));
        assert_eq!(t.find(CdcProd).unwrap().text, ": 1:4096");
        assert_eq!(t.find(CdcProdFlags).unwrap().text, " (WriteBlocked)");
        assert_eq!(t.find(CsConnAbort).unwrap().value, Value::Flags(ConnState::PEER_CONN_ABORT));
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
        assert!(t.find(Hf::CdcSeqno).is_none() && t.find(Hf::CdcCredits).is_none());
        let reserved: Vec<_> = t.items.iter().filter(|r| r.hf == Hf::CdcReserved).collect();
        assert_eq!(reserved.len(), 2);
        assert_eq!((reserved[0].span, reserved[1].span), (Span::new(17, 7), Span::new(40, 8)));
        assert!(reserved.iter().all(|r| r.text == UNINITIALISED_NOTE));
        assert_eq!(t.find(Hf::CdcType).unwrap().text, UNINITIALISED_NOTE);
        assert_eq!(t.find(Hf::CdcCursFlags).unwrap().span, Span::new(30, 1));
    }

    #[test]
    fn truncated_frame_shows_only_captured_fields() {
        let bytes = smcr_frame();
        let mut t = RecordingTree::new(30);
        let s = dissect(&mut t, 0, &bytes[..30], bytes.len(), &Layout::default());
        assert_eq!(s.info, "CDC seq=7 [truncated]");
        assert!(t.items.iter().all(|r| r.span.within(30)), "{:?}", t.items);
        assert!(t.find(Hf::CdcToken).is_some() && t.find(Hf::CdcProdCount).is_none());
        assert_eq!(t.experts.last().map(|e| (e.1, e.2.as_str())), Some((Ei::Truncated, "Captured 30 of 64 bytes")));
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
