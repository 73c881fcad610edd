//! Turns a frame's outcome into tree items, expert items and the column texts.

use core::ffi::CStr;
use core::fmt::Write as _;

use super::fields::{Ei, Ett, Hf};
use super::stream::stream_items;
use super::tree::{Joined, TreeWriter, Value};
use crate::capture::analysis::FrameAnalysis;
use crate::capture::streams::Placed;
use crate::capture::{FrameOutcome, LearnedLayout};
use crate::wire::cdc::{smcd_field, smcr_field, SmcdCdc, SmcrCdcView, CDC_MSG_TYPE, SMCR_CDC_LEN};
use crate::wire::frame::FrameError;
use crate::wire::{Cdc, ConnState, Cursor, DumpFrame, Field, FieldRange, Kind, Layout, Mode, Payload, ProdFlags, Span};

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

/// Bytes reserved for the Info text: a CDC's line with every flag set fits.
const INFO_CAPACITY: usize = 128;

/// The columns of a frame, from its parse alone: the application's replace them when it takes the data.
pub fn summary(parsed: &Result<DumpFrame, FrameError>) -> Summary {
    let f = match parsed {
        Ok(f) => f,
        Err(e) => return Summary { protocol: PROTOCOL_SHORT, info: format!("Malformed: {}", header_truncated(e)) },
    };
    // Room for the whole line at once: the Info column is built on every frame, tree or not.
    let mut info = String::with_capacity(INFO_CAPACITY);
    match f.payload {
        Payload::Raw(span) => {
            info.push_str("Data len=");
            push_uint(&mut info, span.len as u64);
        }
        Payload::Cdc { cdc, .. } => cdc_info(&cdc, &mut info),
        Payload::Undecoded(span) => {
            let _ = match (f.header.kind, f.header.mode) {
                (Kind::Unknown(t), _) => write!(info, "Unknown type {t}, {} bytes", span.len),
                (_, m) => write!(info, "Unknown mode {}, {} bytes", m.code(), span.len),
            };
        }
    }
    if f.is_truncated() {
        info.push_str(" [truncated]");
    }
    // Without the magic nothing in the header can be trusted, the mode included.
    let protocol = match f.header.mode {
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

/// What a frame's Info column starts with when the connection analysis flags it, as TCP's
/// "[TCP Previous segment not captured] ": a hole found before it, bytes that fill an earlier hole, a copy of what
/// earlier frames carried, and each problem the analysis warns about. Empty when none (or the analysis is off).
pub fn info_tags(o: &FrameOutcome) -> String {
    let mut tags = String::new();
    for tag in flags(o) {
        tags.push_str(tag);
        tags.push(' ');
    }
    tags
}

/// The analysis's flags on frame outcome `o`, as Info tags, in the order they are shown.
fn flags(o: &FrameOutcome) -> impl Iterator<Item = &'static str> {
    let a = o.analysis.unwrap_or_default();
    let p = o.stream.as_ref().map(|fs| fs.placed).filter(|_| o.analysis.is_some()).unwrap_or_default();
    [
        (p.hole.is_some(), "[SMC previous data not captured]"),
        (p.filled, "[SMC out-of-order]"),
        (p.repeat, "[SMC copy]"),
        (a.seq_expected.is_some(), "[SMC unexpected sequence number]"),
        (a.prod_backwards.is_some() || a.cons_backwards.is_some(), "[SMC cursor went backwards]"),
        // A hole explains the advance the data does not match.
        (a.data_mismatch().is_some() && p.hole.is_none(), "[SMC data/advance mismatch]"),
        (a.wrap_skipped.is_some(), "[SMC wrap skipped data]"),
        (a.peer_buffer_full(), "[SMC peer buffer full]"),
    ]
    .into_iter()
    .filter_map(|(set, tag)| set.then_some(tag))
}

/// A CDC's Info text: `CDC seq=7 prod=0:4096 cons=0:1024 [WriteBlocked,PeerDoneWriting]`, with what was captured.
fn cdc_info(cdc: &Cdc, info: &mut String) {
    info.push_str("CDC");
    if let Some(seqno) = cdc.seqno() {
        info.push_str(" seq=");
        push_uint(info, seqno.into());
    }
    for (name, c) in [("prod", cdc.prod()), ("cons", cdc.cons())] {
        if let Some((wrap, count)) = c.value() {
            info.push(' ');
            info.push_str(name);
            info.push('=');
            push_uint(info, wrap.into());
            info.push(':');
            push_uint(info, count.into());
        }
    }
    let prod = cdc.prod_flags().map(|f| PROD_FLAGS.set(f.value.0));
    let state = cdc.conn_state().map(|f| CONN_STATE.set(f.value.0));
    let mut names = prod.into_iter().flatten().chain(state.into_iter().flatten()).peekable();
    if names.peek().is_some() {
        info.push_str(" [");
        for (i, n) in names.enumerate() {
            if i > 0 {
                info.push(',');
            }
            info.push_str(n);
        }
        info.push(']');
    }
}

fn header_truncated(e: &FrameError) -> String {
    let FrameError::HeaderTruncated { available, needed } = e;
    format!("{available} bytes, an SMC dump header needs {needed}")
}

/// Renders everything frame outcome `o` shows under `root`: the dump header, the learned layout, the payload, the
/// connection analysis and the stream items.
pub fn render<W: TreeWriter>(w: &mut W, root: W::Node, o: &FrameOutcome) {
    let frame = match &o.frame {
        None => return,
        Some(Err(e)) => {
            let FrameError::HeaderTruncated { available, .. } = e;
            w.expert_at(root, Ei::HeaderTruncated, Span::new(0, *available), &header_truncated(e));
            return;
        }
        Some(Ok(f)) => f,
    };
    let mut r = Renderer { w, frame, visible: frame.visible_end() };
    r.header(root);
    if let Some(l) = &o.learned {
        r.learned_layout(root, &o.layout, l);
    }
    r.payload(root);
    if let Some(a) = &o.analysis {
        let flagged = flags(o).next().is_some();
        r.analysis(root, a, flagged, o.stream.as_ref().map(|fs| (&fs.placed, fs.data)));
    }
    if let Some(fs) = &o.stream {
        stream_items(r.w, root, fs, o.data);
    }
}

/// Dissects one UDP payload (`captured` bytes of `reported` on the wire) on its own, without a capture's state:
/// its columns, and its items under `root`. For tests, benches and fuzz targets.
pub fn dissect<W: TreeWriter>(w: &mut W, root: W::Node, captured: &[u8], reported: usize, layout: &Layout) -> Summary {
    let parsed = DumpFrame::parse(captured, reported, layout);
    let summary = summary(&parsed);
    let outcome =
        FrameOutcome { layout: *layout, learned: None, frame: Some(parsed), analysis: None, stream: None, data: None };
    render(w, root, &outcome);
    summary
}

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
    fn payload(&mut self, root: W::Node) {
        let f = self.frame;
        match f.payload {
            Payload::Raw(span) => {
                let shown = Span::new(span.off, span.len.min(self.visible.saturating_sub(span.off)));
                self.w.add(root, Hf::Data, shown, Value::None);
                let len = u32::try_from(span.len).unwrap_or(u32::MAX);
                self.w.add(root, Hf::DataLen, shown, Value::Uint(len));
            }
            Payload::Cdc { cdc, needed, extra } => {
                self.cdc(root, &cdc, needed);
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
            }
        }
        if let Some(trailer) = f.trailer {
            // The trailer lies past the payload by definition: clip it to the capture, not to the payload.
            let len = trailer.len.min(f.captured.saturating_sub(trailer.off));
            if len > 0 {
                self.w.add(root, Hf::Trailer, Span::new(trailer.off, len), Value::None);
            }
        }
        if f.is_truncated() {
            let msg = format!("Captured {} of {} bytes", f.captured, f.reported);
            self.w.expert_at(root, Ei::Truncated, Span::new(f.captured, 0), &msg);
        }
    }

    /// The learned layout, when it differs from the built-in one: a generated subtree after the header, and on the
    /// frame it was learned at an expert note. A frame whose own evidence says otherwise than the layout it is
    /// parsed with (learned or built-in) gets a warning.
    fn learned_layout(&mut self, root: W::Node, layout: &Layout, l: &LearnedLayout) {
        let here = Span::new(0, 0);
        let b = &l.builtin;
        let differs = (layout.header_len, layout.type_raw, layout.type_cdc) != (b.header_len, b.type_raw, b.type_cdc);
        if let (true, Some(learned)) = (differs, l.learned) {
            let item = self.w.add(root, Hf::Layout, here, Value::None);
            let tree = self.w.subtree(item, Ett::Layout);
            let len = u32::try_from(layout.header_len).unwrap_or(u32::MAX);
            let values = [
                (Hf::LayoutHeaderLen, len),
                (Hf::LayoutTypeRaw, layout.type_raw.into()),
                (Hf::LayoutTypeCdc, layout.type_cdc.into()),
                (Hf::LayoutFrame, learned.frame),
            ];
            for (hf, v) in values {
                self.w.add(tree, hf, here, Value::Uint(v));
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
        if let Some(e) = l.this_frame.filter(|e| *e != l.winner) {
            let in_use = match l.learned {
                Some(learned) if differs => format!("the layout learned in frame {}", learned.frame),
                _ => "the built-in layout, which the capture's other frames confirm,".to_string(),
            };
            let msg = format!(
                "This CDC implies header length {} and CDC type {}; {in_use} has {} and {}",
                e.header_len, e.type_cdc, l.winner.header_len, l.winner.type_cdc
            );
            self.w.expert_at(root, Ei::LayoutConflict, here, &msg);
        }
    }

    /// The connection analysis, as a subtree of its own (nothing when there is nothing to say), with
    /// `smcdump.analysis.flags` when it flags the frame (`flagged`) and where the frame lies among its direction's
    /// copies (`placed`, and its data's stream offset and length).
    fn analysis(
        &mut self,
        root: W::Node,
        a: &FrameAnalysis,
        flagged: bool,
        placed: Option<(&Placed, Option<(u64, u32)>)>,
    ) {
        let (placed, data) = placed.map_or((None, None), |(p, d)| (Some(p), d));
        let marked = placed.filter(|p| p.repeat || p.hole.is_some() || p.filled);
        if *a == FrameAnalysis::default() && marked.is_none() {
            return;
        }
        let here = Span::new(0, 0);
        let item = self.w.add(root, Hf::Analysis, here, Value::None);
        let tree = self.w.subtree(item, Ett::Analysis);
        if flagged {
            self.w.add(tree, Hf::AnFlags, here, Value::None);
        }
        if let Some(p) = marked {
            self.placement(tree, item, p, data);
        }
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
                self.w.add(tree, hf, here, Value::Uint(v));
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

    /// What the copies say: a copy of earlier frames, a hole before this frame, bytes that fill an earlier hole.
    fn placement(&mut self, tree: W::Node, item: W::Node, p: &Placed, data: Option<(u64, u32)>) {
        let here = Span::new(0, 0);
        if let Some((at, len)) = p.hole {
            self.w.add(tree, Hf::AnMissing, here, Value::Uint64(len));
            self.w.add(tree, Hf::AnMissingAt, here, Value::Uint64(at));
            let msg = format!(
                "Previous data not captured: {len} bytes of this direction's stream from offset {at} are not in the \
                 capture (lost by the capture or the dump)"
            );
            self.w.expert(item, Ei::DataMissing, &msg);
        }
        if !p.repeat && !p.filled {
            return;
        }
        let (new_from, new_len) = p.new;
        let first = p.copy_of.map_or_else(String::new, |f| format!(" (first carried by frame {f})"));
        let msg = match data {
            None => format!(
                "The same CDC as an earlier frame{first}: a copy (the receiving host's, another host's \
                             in a merged capture, or a duplicate)"
            ),
            Some((_, len)) if new_len == 0 => {
                format!("All {len} data bytes were dumped before{first}: a copy, not handed to the application again")
            }
            Some((_, len)) => {
                let repeated = len - new_len;
                format!("{repeated} of {len} data bytes were dumped before{first}; the {new_len} others are new")
            }
        };
        if let Some(f) = p.copy_of {
            self.w.add(tree, Hf::AnCopyOf, here, Value::Uint(f));
        }
        if let Some((_, len)) = data {
            self.w.add(tree, Hf::AnRepeated, here, Value::Uint(len - new_len));
        }
        if p.repeat {
            self.w.expert(item, Ei::Copy, &msg);
        }
        if let (true, Some((start, _))) = (p.filled, data) {
            let at = start + u64::from(new_from);
            let msg = format!("{new_len} bytes from stream offset {at} fill an earlier hole: out of order");
            self.w.expert(item, Ei::OutOfOrder, &msg);
        }
    }

    fn header(&mut self, root: W::Node) {
        let h = &self.frame.header;
        let v = &h.view;
        let item = self.uint(root, Hf::Magic, v.magic);
        if !self.frame.magic_ok {
            let msg = format!("Magic is 0x{:08x}, not 0xcfd3e7a5", h.repr.magic);
            self.w.expert(item, Ei::BadMagic, &msg);
        }
        self.uint(root, Hf::HdrVer, v.hdr_ver);
        self.uint(root, Hf::SmcVer, v.smc_ver);
        let mode = self.uint(root, Hf::Mode, v.mode);
        if let Mode::Unknown(m) = h.mode {
            self.w.expert(mode, Ei::UnknownMode, &format!("Unknown SMC mode {m}"));
        }
        let ty = self.uint(root, Hf::Type, v.type_code);
        match h.kind {
            Kind::Raw => self.w.append_text(ty, " (raw data)"),
            Kind::Cdc => self.w.append_text(ty, " (CDC message)"),
            Kind::Unknown(t) => {
                self.w.append_text(ty, " (unknown)");
                self.w.expert(ty, Ei::UnknownType, &format!("Unknown payload type {t}"));
            }
        }
        let len = self.uint(root, Hf::Len, v.len);
        if self.frame.len_mismatch() {
            let msg = format!("Length field is {}, UDP payload is {} bytes", h.repr.len, self.frame.reported);
            self.w.expert(len, Ei::LenMismatch, &msg);
        }
        if h.reserved.len > 0 {
            let item = self.w.add(root, Hf::Reserved, h.reserved, Value::None);
            if h.reserved_nonzero {
                self.w.expert(item, Ei::ReservedNonzero, "Reserved header bytes are not zero");
            }
        }
    }

    /// Renders a CDC message.
    fn cdc(&mut self, root: W::Node, cdc: &Cdc, needed: usize) {
        let f = self.frame;
        let record =
            Span::new(f.payload_span.off, f.payload_span.len.min(self.visible.saturating_sub(f.payload_span.off)));
        let item = self.w.add(root, Hf::Cdc, record, Value::None);
        let tree = self.w.subtree(item, Ett::Cdc);
        if f.payload_span.len < needed {
            let msg = format!("CDC message is {} bytes, its layout needs {needed}", f.payload_span.len);
            self.w.expert(item, Ei::CdcShort, &msg);
        }
        let ty = self.uint(tree, Hf::CdcType, cdc.ty());
        // Items in wire order, which differs between the two layouts.
        match cdc {
            Cdc::SmcR(r) => {
                if let Some(t) = cdc.ty().filter(|t| t.value != CDC_MSG_TYPE) {
                    self.w.expert(ty, Ei::SmcrBadType, &format!("CDC type is 0x{:02x}, not 0xfe", t.value));
                }
                self.smcr_head(tree, r);
                let prod = self.cursor_label(tree, Hf::CdcProd, cdc.prod(), Ett::Prod);
                self.cursor_reserved(prod, r.prod_reserved);
                self.cursor_parts(prod, (Hf::CdcProdWrap, Hf::CdcProdCount), cdc.prod());
                let cons = self.cursor_label(tree, Hf::CdcCons, cdc.cons(), Ett::Cons);
                self.cursor_reserved(cons, r.cons_reserved);
                self.cursor_parts(cons, (Hf::CdcConsWrap, Hf::CdcConsCount), cdc.cons());
                self.flags(tree, cdc);
                self.smcr_tail(tree, r);
            }
            Cdc::SmcD(d) => {
                self.w.append_text(ty, UNINITIALISED_NOTE);
                self.smcd_reserved(tree, d, &smcd_field::RESERVED_HEAD);
                let prod = self.cursor_label(tree, Hf::CdcProd, cdc.prod(), Ett::Prod);
                self.cursor_parts(prod, (Hf::CdcProdWrap, Hf::CdcProdCount), cdc.prod());
                self.uint(tree, Hf::CdcCursFlags, d.view.curs_flags);
                self.uint(tree, Hf::CdcCursConnState, d.view.curs_conn_state);
                let cons = self.cursor_label(tree, Hf::CdcCons, cdc.cons(), Ett::Cons);
                self.cursor_parts(cons, (Hf::CdcConsWrap, Hf::CdcConsCount), cdc.cons());
                self.flags(tree, cdc);
                self.smcd_reserved(tree, d, &smcd_field::RESERVED_TAIL);
            }
        }
    }

    fn smcr_head(&mut self, tree: W::Node, r: &SmcrCdcView) {
        let len = self.uint(tree, Hf::CdcLen, r.len);
        if let Some(l) = r.len.filter(|l| l.value != SMCR_CDC_LEN) {
            self.w.expert(len, Ei::SmcrBadLen, &format!("CDC length is {}, not 44", l.value));
        }
        self.uint(tree, Hf::CdcSeqno, r.seqno);
        self.uint(tree, Hf::CdcToken, r.token);
    }

    fn smcr_tail(&mut self, tree: W::Node, r: &SmcrCdcView) {
        self.uint(tree, Hf::CdcCredits, r.credits);
        let item = self.bytes(tree, Hf::CdcReserved, r.span(&smcr_field::RESERVED));
        if r.reserved.is_some_and(|b| b.value != [0; 17]) {
            self.w.expert(item, Ei::ReservedNonzero, "Reserved CDC bytes are not zero");
        }
        self.bytes(tree, Hf::CdcPadding, r.span(&smcr_field::PADDING));
    }

    /// SMC-D head/tail bytes (`range`): meaningful only in messages this host sent.
    fn smcd_reserved(&mut self, tree: W::Node, d: &SmcdCdc, range: &FieldRange) {
        let item = self.bytes(tree, Hf::CdcReserved, d.view.span(range));
        self.w.append_text(item, UNINITIALISED_NOTE);
    }

    /// A cursor's label item (`wrap:count` appended when both were captured); returns its subtree.
    fn cursor_label(&mut self, tree: W::Node, hf: Hf, c: Cursor, ett: Ett) -> W::Node {
        let item = self.bytes(tree, hf, c.span);
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

    /// The two flag bytes, each a parent item naming its set bits over one boolean item per bit.
    fn flags(&mut self, tree: W::Node, cdc: &Cdc) {
        if let Some(f) = cdc.prod_flags() {
            let sub = self.flag_byte(tree, &PROD_FLAGS, f.span, f.value.0);
            if f.value.has(ProdFlags::WRITE_BLOCKED) {
                self.w.expert(sub, Ei::WriteBlocked, "Writer blocked: the peer's receive buffer is full");
            }
        }
        if let Some(f) = cdc.conn_state() {
            self.flag_byte(tree, &CONN_STATE, f.span, f.value.0);
        }
    }

    /// A flags byte as a parent item naming its set bits, with one boolean item per bit (and the bit's expert
    /// item when it is set); returns its subtree.
    fn flag_byte(&mut self, tree: W::Node, byte: &FlagByte, span: Span, bits: u8) -> W::Node {
        let item = self.w.add(tree, byte.hf, span, Value::Uint(bits.into()));
        let mut set = byte.set(bits).peekable();
        if set.peek().is_some() {
            self.w.append_fmt(item, format_args!(" ({})", Joined(byte.set(bits))));
        }
        let sub = self.w.subtree(item, byte.ett);
        for bit in byte.bits {
            let i = self.w.add(sub, bit.hf, span, Value::Flags(bits));
            if let (true, Some((ei, msg))) = (bits & bit.mask != 0, bit.expert) {
                self.w.expert(i, ei, msg);
            }
        }
        sub
    }

    /// An integer item, or none for a field the capture does not hold.
    fn uint<T: Into<u32>>(&mut self, parent: W::Node, hf: Hf, f: Option<Field<T>>) -> W::Node {
        match f {
            Some(f) => self.w.add(parent, hf, f.span, Value::Uint(f.value.into())),
            None => W::NO_ITEM,
        }
    }

    /// A value-less item over the part of `span` that may be shown; none if none of it may.
    fn bytes(&mut self, parent: W::Node, hf: Hf, span: Span) -> W::Node {
        let len = span.len.min(self.visible.saturating_sub(span.off));
        if len == 0 && span.len > 0 {
            return W::NO_ITEM;
        }
        self.w.add(parent, hf, Span::new(span.off, len), Value::None)
    }
}

/// One bit of a flags byte: its mask, field, and the expert item its being set raises.
struct FlagBit {
    mask: u8,
    hf: Hf,
    expert: Option<(Ei, &'static str)>,
}

/// A flags byte: its field, its subtree, its bits (in wire order) and their names.
struct FlagByte {
    hf: Hf,
    ett: Ett,
    bits: &'static [FlagBit],
    names: &'static [(u8, &'static str)],
}

impl FlagByte {
    /// The names of the bits set in `bits`.
    fn set(&self, bits: u8) -> impl Iterator<Item = &'static str> + Clone {
        self.names.iter().filter(move |(b, _)| bits & b != 0).map(|&(_, n)| n)
    }
}

const fn bit(mask: u8, hf: Hf) -> FlagBit {
    FlagBit { mask, hf, expert: None }
}

const PROD_FLAGS: FlagByte = FlagByte {
    hf: Hf::CdcProdFlags,
    ett: Ett::ProdFlags,
    bits: &[
        bit(ProdFlags::WRITE_BLOCKED, Hf::PfWriteBlocked),
        bit(ProdFlags::URG_DATA_PENDING, Hf::PfUrgPending),
        bit(ProdFlags::URG_DATA_PRESENT, Hf::PfUrgPresent),
        bit(ProdFlags::CONS_CURS_UPD_REQ, Hf::PfCursUpdReq),
        bit(ProdFlags::FAILOVER_VALIDATION, Hf::PfFailover),
    ],
    names: &ProdFlags::NAMES,
};

const CONN_STATE: FlagByte = FlagByte {
    hf: Hf::CdcConnState,
    ett: Ett::ConnState,
    bits: &[
        FlagBit {
            mask: ConnState::PEER_DONE_WRITING,
            hf: Hf::CsDoneWriting,
            expert: Some((Ei::PeerDoneWriting, "Peer done writing (shutdown)")),
        },
        FlagBit {
            mask: ConnState::PEER_CONN_CLOSED,
            hf: Hf::CsConnClosed,
            expert: Some((Ei::PeerConnClosed, "Connection closed by peer")),
        },
        FlagBit {
            mask: ConnState::PEER_CONN_ABORT,
            hf: Hf::CsConnAbort,
            expert: Some((Ei::PeerConnAbort, "Connection aborted by peer")),
        },
    ],
    names: &ConnState::NAMES,
};

/// Appended to SMC-D bytes that a receiving kernel leaves uninitialised.
const UNINITIALISED_NOTE: &str = " (meaningful only when this host sent the message; uninitialised when received)";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::RecordingTree;
    use crate::wire::cdc::{SmcdCdcRepr, SmcrCdcRepr};
    use crate::wire::emit::{data_frame, dump_frame, smcd_cdc_frame, smcr_cdc_frame};
    use crate::wire::layout::HeaderRepr;
    use crate::wire::ByteOrder;

    /// Dissects `captured` (of `reported` bytes) on its own, with the analysis `analysis` shown.
    fn dissect_analysed<W: TreeWriter>(
        w: &mut W,
        root: W::Node,
        captured: &[u8],
        reported: usize,
        analysis: FrameAnalysis,
    ) -> Summary {
        let layout = Layout::default();
        let parsed = DumpFrame::parse(captured, reported, &layout);
        let summary = summary(&parsed);
        let o = FrameOutcome {
            layout,
            learned: None,
            analysis: parsed.is_ok().then_some(analysis),
            frame: Some(parsed),
            stream: None,
            data: None,
        };
        render(w, root, &o);
        summary
    }

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
        let mut cdc = SmcrCdcRepr::new(7, 0xdead_beef, (1, 4096), (0, 512));
        cdc.prod_flags = ProdFlags(ProdFlags::WRITE_BLOCKED);
        cdc.conn_state = ConnState(ConnState::PEER_CONN_ABORT);
        smcr_cdc_frame(&Layout::default(), 2, &cdc)
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
        let bytes = smcd_cdc_frame(&l, 1, &SmcdCdcRepr::sent((2, 300), (1, 20)), ByteOrder::Little);
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
        let bytes = data_frame(&l, 1, 1, b"hello");
        let mut t = RecordingTree::new(bytes.len());
        let analysis =
            FrameAnalysis { prev_cdc: Some(3), data_bytes: Some(10), prod_advance: Some(20), ..Default::default() };
        let s = dissect_analysed(&mut t, 0, &bytes, bytes.len(), analysis);
        assert_eq!((s.protocol, s.info.as_str()), (c"SMC-R", "Data len=5"));
        let rest = [
            "Data 16+5",
            "DataLen 16+5 = 5 [generated]",
            "Analysis 0+0 [generated]",
            // A mismatch flags the frame: what a colouring rule selects.
            "  AnFlags 0+0 [generated]",
            "  AnPrevCdc 0+0 = 3 [generated]",
            "  AnDataBytes 0+0 = 10 [generated]",
            "  AnProdAdvance 0+0 = 20 [generated]",
        ];
        assert_tree(&t, header_lines(1, 1, "1 \" (raw data)\"", 21), &rest);
        assert_eq!(t.expert_ids(), [Ei::DataMismatch]);
    }

    /// Each problem the analysis flags puts its tag first in Info, in a fixed order; none without the analysis.
    #[test]
    fn flagged_frames_carry_info_tags() {
        let bytes = data_frame(&Layout::default(), 1, 1, b"hello");
        let outcome = |analysis: Option<FrameAnalysis>| FrameOutcome {
            layout: Layout::default(),
            learned: None,
            frame: Some(DumpFrame::parse(&bytes, bytes.len(), &Layout::default())),
            analysis,
            stream: None,
            data: None,
        };
        let a = FrameAnalysis {
            seq_expected: Some(4),
            cons_backwards: Some((0, 9)),
            prod_advance: Some(20),
            data_bytes: Some(10),
            ..Default::default()
        };
        let want = "[SMC unexpected sequence number] [SMC cursor went backwards] [SMC data/advance mismatch] ";
        assert_eq!(info_tags(&outcome(Some(a))), want);
        assert_eq!(info_tags(&outcome(Some(FrameAnalysis::default()))), "");
        assert_eq!(info_tags(&outcome(None)), "");
    }

    /// A writer without items, as the FFI layer's for a pass without a tree: it keeps only the expert items.
    #[derive(Default)]
    struct ExpertsOnly(Vec<(Ei, String)>);

    impl TreeWriter for ExpertsOnly {
        type Node = ();
        const NO_ITEM: () = ();
        fn add(&mut self, _: (), _: Hf, _: Span, _: Value) {}
        fn subtree(&mut self, _: (), _: Ett) {}
        fn append_text(&mut self, _: (), _: &str) {}
        fn append_fmt(&mut self, _: (), _: core::fmt::Arguments<'_>) {}
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
        let mut unknown = dump_frame(&l, &HeaderRepr::new(1, 7, 9), b"xyz");
        unknown[8] ^= 1;
        let smcd = smcd_cdc_frame(&l, 1, &SmcdCdcRepr::sent((1, 2), (3, 4)), ByteOrder::Big);
        let frames: Vec<(Vec<u8>, usize)> = vec![
            (smcr_frame(), 64),
            (smcr_frame()[..30].to_vec(), 64),
            (bad_magic, 64),
            (unknown, 19),
            (smcd, 48),
            (data_frame(&l, 1, 1, b"hello"), 21),
            (vec![0xCF; 9], 9),
        ];
        let analysis =
            FrameAnalysis { prev_cdc: Some(3), data_bytes: Some(10), prod_advance: Some(20), ..Default::default() };
        for (bytes, reported) in frames {
            let mut t = RecordingTree::new(bytes.len());
            let with_items = dissect_analysed(&mut t, 0, &bytes, reported, analysis);
            let mut e = ExpertsOnly::default();
            let without = dissect_analysed(&mut e, (), &bytes, reported, analysis);
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
