//! Every header field, subtree and expert item smcdump registers, declared once.
//!
//! The filter names (`abbrev`) are smcdump's public interface: analysts' filters and scripts use them. SMC-R and
//! SMC-D share one field per concept, so one filter works for both.

use core::ffi::CStr;

use crate::wire::{ConnState, ProdFlags};

/// How a field is typed and displayed. Mapped onto Wireshark's FT_*/BASE_* in the FFI layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// A label with subtree and no value (FT_NONE).
    Label,
    /// An unsigned integer of the given byte width (1, 2, 4 or 8), shown in decimal or hex, with optional value
    /// names.
    Uint { bytes: u8, hex: bool, names: &'static [(u32, &'static CStr)] },
    /// One bit of an 8-bit flags byte (FT_BOOLEAN, width 8).
    Flag { mask: u8 },
    /// Raw bytes (FT_BYTES).
    Bytes,
    /// A frame number (FT_FRAMENUM): Wireshark shows it as a link to that frame.
    FrameNum,
}

/// A header field's registration data.
#[derive(Clone, Copy, Debug)]
pub struct FieldDef {
    pub name: &'static CStr,
    pub abbrev: &'static CStr,
    pub kind: FieldKind,
    pub blurb: &'static CStr,
    /// Computed by smcdump, not read from the packet: Wireshark shows it in brackets.
    pub generated: bool,
}

/// A field read from the packet.
const fn field(abbrev: &'static CStr, name: &'static CStr, kind: FieldKind, blurb: &'static CStr) -> FieldDef {
    FieldDef { name, abbrev, kind, blurb, generated: false }
}

/// A field smcdump computes.
const fn computed(abbrev: &'static CStr, name: &'static CStr, kind: FieldKind, blurb: &'static CStr) -> FieldDef {
    FieldDef { name, abbrev, kind, blurb, generated: true }
}

/// An expert item's registration data.
const fn expert(name: &'static CStr, group: Group, severity: Severity, summary: &'static CStr) -> ExpertDef {
    ExpertDef { name, group, severity, summary }
}

/// Declares an id enum and, in the same order, the table of what each id registers: the enum's values index the
/// table and the registered-id tables of the FFI layer.
macro_rules! id_table {
    ($(#[$doc:meta])* $enum:ident, $table:ident: $def:ty { $( $id:ident => $value:expr, )* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(usize)]
        pub enum $enum { $($id),* }

        /// What each value of the enum registers, in its order.
        pub const $table: &[$def] = &[ $($value),* ];
    };
}

const fn uint(bytes: u8) -> FieldKind {
    FieldKind::Uint { bytes, hex: false, names: &[] }
}
const fn hex(bytes: u8) -> FieldKind {
    FieldKind::Uint { bytes, hex: true, names: &[] }
}

/// Names of the `mode` codes.
pub const MODE_NAMES: &[(u32, &CStr)] = &[(1, c"SMC-R"), (2, c"SMC-D")];
/// Names of the `smc_ver` codes.
pub const SMC_VER_NAMES: &[(u32, &CStr)] = &[(1, c"SMCv1"), (2, c"SMCv2")];
/// Name of the CDC message type code.
pub const CDC_TYPE_NAMES: &[(u32, &CStr)] = &[(0xFE, c"CDC")];

id_table! {
    /// A header field; its position indexes [`FIELDS`] and the registered id table.
    Hf, FIELDS: FieldDef {
        Magic => field(c"smcdump.magic", c"Magic", hex(4),
            c"SMC dump header magic, 0xcfd3e7a5"),
        HdrVer => field(c"smcdump.hdr_ver", c"Header version", uint(1),
            c"Version of the dump header (SMC_DUMP_VER)"),
        SmcVer => field(c"smcdump.smc_ver", c"SMC version", FieldKind::Uint { bytes: 1, hex: false, names: SMC_VER_NAMES },
            c"SMC protocol version of the connection"),
        Mode => field(c"smcdump.mode", c"Mode", FieldKind::Uint { bytes: 1, hex: false, names: MODE_NAMES },
            c"1 = SMC-R (RDMA), 2 = SMC-D (ISM)"),
        Type => field(c"smcdump.type", c"Type", uint(1),
            c"Kind of payload: raw data or CDC message (codes set by preferences)"),
        Len => field(c"smcdump.len", c"Length", uint(2),
            c"Header plus payload length; equals the UDP payload length"),
        Reserved => field(c"smcdump.reserved", c"Reserved", FieldKind::Bytes,
            c"Reserved header bytes, zero-filled"),
        Trailer => field(c"smcdump.trailer", c"Trailer", FieldKind::Bytes,
            c"UDP payload bytes after the length the header announced"),
        Payload => field(c"smcdump.payload", c"Payload", FieldKind::Bytes,
            c"Payload of an unknown type or mode"),
        Layout => computed(c"smcdump.layout", c"Header layout learned from the capture", FieldKind::Label,
            c"The header layout this frame was decoded with, learned from a self-identifying CDC frame, where it differs \
          from the built-in one"),
        LayoutHeaderLen => computed(c"smcdump.layout.header_len", c"Header length", uint(1),
            c"Learned dump header length"),
        LayoutTypeRaw => computed(c"smcdump.layout.type_raw", c"Type code of raw data", uint(1),
            c"Learned type code of raw data"),
        LayoutTypeCdc => computed(c"smcdump.layout.type_cdc", c"Type code of CDC messages", uint(1),
            c"Learned type code of CDC messages"),
        LayoutFrame => computed(c"smcdump.layout.learned_in", c"Learned in frame", FieldKind::FrameNum,
            c"The CDC frame the header length and CDC type code were learned from"),
        Cdc => field(c"smcdump.cdc", c"CDC message", FieldKind::Label,
            c"SMC connection data control message"),
        CdcType => field(c"smcdump.cdc.type", c"Type", FieldKind::Uint { bytes: 1, hex: true, names: CDC_TYPE_NAMES },
            c"CDC message type, 0xfe"),
        CdcLen => field(c"smcdump.cdc.len", c"Length", uint(1),
            c"SMC-R CDC message length, 44"),
        CdcSeqno => field(c"smcdump.cdc.seqno", c"Sequence number", uint(2),
            c"Per-connection CDC sequence number (SMC-R; 0 when rebuilt in RDMA-write-with-immediate mode)"),
        CdcToken => field(c"smcdump.cdc.token", c"Alert token", hex(4),
            c"Alert token of the receiving side's connection"),
        CdcProd => field(c"smcdump.cdc.prod", c"Producer cursor", FieldKind::Label,
            c"Where the sender's writes into the peer's receive buffer stand"),
        CdcProdWrap => field(c"smcdump.cdc.prod.wrap", c"Wrap sequence number", uint(2),
            c"Producer cursor wrap count"),
        CdcProdCount => field(c"smcdump.cdc.prod.count", c"Count", uint(4),
            c"Producer cursor byte offset"),
        CdcCons => field(c"smcdump.cdc.cons", c"Consumer cursor", FieldKind::Label,
            c"How far the sender has consumed data the peer wrote into its receive buffer"),
        CdcConsWrap => field(c"smcdump.cdc.cons.wrap", c"Wrap sequence number", uint(2),
            c"Consumer cursor wrap count"),
        CdcConsCount => field(c"smcdump.cdc.cons.count", c"Count", uint(4),
            c"Consumer cursor byte offset"),
        CdcCursReserved => field(c"smcdump.cdc.curs_reserved", c"Cursor reserved", hex(2),
            c"Reserved half of an SMC-R cursor"),
        CdcProdFlags => field(c"smcdump.cdc.prod_flags", c"Producer flags", hex(1),
            c"Producer flags byte"),
        PfWriteBlocked => field(c"smcdump.cdc.prod_flags.write_blocked", c"Write blocked", FieldKind::Flag { mask: ProdFlags::WRITE_BLOCKED },
            c"The sender waits for free space in the peer's receive buffer"),
        PfUrgPending => field(c"smcdump.cdc.prod_flags.urg_data_pending", c"Urgent data pending", FieldKind::Flag { mask: ProdFlags::URG_DATA_PENDING },
            c"Urgent data is on its way"),
        PfUrgPresent => field(c"smcdump.cdc.prod_flags.urg_data_present", c"Urgent data present", FieldKind::Flag { mask: ProdFlags::URG_DATA_PRESENT },
            c"Urgent data is in the receive buffer"),
        PfCursUpdReq => field(c"smcdump.cdc.prod_flags.cons_curs_upd_req", c"Consumer cursor update requested", FieldKind::Flag { mask: ProdFlags::CONS_CURS_UPD_REQ },
            c"The sender asks the peer to report its consumer cursor"),
        PfFailover => field(c"smcdump.cdc.prod_flags.failover_validation", c"Failover validation", FieldKind::Flag { mask: ProdFlags::FAILOVER_VALIDATION },
            c"Message validating a link after failover"),
        CdcConnState => field(c"smcdump.cdc.conn_state", c"Connection state flags", hex(1),
            c"Connection state flags byte"),
        CsDoneWriting => field(c"smcdump.cdc.conn_state.peer_done_writing", c"Peer done writing", FieldKind::Flag { mask: ConnState::PEER_DONE_WRITING },
            c"The sender will write no more data (shutdown for writing)"),
        CsConnClosed => field(c"smcdump.cdc.conn_state.peer_conn_closed", c"Peer connection closed", FieldKind::Flag { mask: ConnState::PEER_CONN_CLOSED },
            c"The sender closed the connection"),
        CsConnAbort => field(c"smcdump.cdc.conn_state.peer_conn_abort", c"Peer connection abort", FieldKind::Flag { mask: ConnState::PEER_CONN_ABORT },
            c"The sender aborted the connection"),
        CdcCredits => field(c"smcdump.cdc.credits", c"Credits", uint(1),
            c"Receive credits announced (ANCK)"),
        CdcReserved => field(c"smcdump.cdc.reserved", c"Reserved", FieldKind::Bytes,
            c"Reserved CDC bytes"),
        CdcPadding => field(c"smcdump.cdc.padding", c"Padding", FieldKind::Bytes,
            c"Struct padding after the 44-byte SMC-R message, present in the dump only"),
        CdcCursFlags => field(c"smcdump.cdc.curs_flags", c"Producer cursor's producer flags", hex(1),
            c"SMC-D: flag byte inside the producer cursor; Linux senders leave it 0"),
        CdcCursConnState => field(c"smcdump.cdc.curs_conn_state", c"Producer cursor's connection state", hex(1),
            c"SMC-D: state byte inside the producer cursor; Linux senders leave it 0"),
        CdcExtra => field(c"smcdump.cdc.extra", c"Extra bytes", FieldKind::Bytes,
            c"Payload bytes after the CDC record"),
        Data => field(c"smcdump.data", c"Data", FieldKind::Bytes,
            c"Bytes written into or read from the shared-memory ring"),
        DataLen => computed(c"smcdump.data.len", c"Data length", uint(4),
            c"Number of data bytes in this frame"),
        Analysis => computed(c"smcdump.analysis", c"SMC connection analysis", FieldKind::Label,
            c"What this frame says in relation to the earlier frames of its direction"),
        AnFlags => computed(c"smcdump.analysis.flags", c"SMC analysis flags", FieldKind::Label,
            c"The connection analysis flags this frame (a hole, out of order, a copy, an unexpected sequence number, a cursor backwards, a data/advance mismatch, a skipped wrap, a full buffer): what a colouring rule selects"),
        AnPrevCdc => computed(c"smcdump.analysis.prev_cdc", c"Previous CDC in this direction", FieldKind::FrameNum,
            c"The frame of the previous CDC message from the same source to the same destination"),
        AnDataBytes => computed(c"smcdump.analysis.data_bytes", c"Data bytes since the previous CDC", uint(4),
            c"Bytes of data dumped in this direction since the previous CDC message"),
        AnProdAdvance => computed(c"smcdump.analysis.prod_advance", c"Producer cursor advance", uint(4),
            c"How far the producer cursor moved since the previous CDC (across a wrap only when the ring size is known)"),
        Stream => computed(c"smcdump.stream", c"Stream index", uint(4),
            c"The SMC connection this frame belongs to: 0, 1, 2 ... in order of first appearance"),
        DataStreamOffset => computed(c"smcdump.data.stream_offset", c"Stream offset", uint(8),
            c"Offset of this data's first byte in its direction's byte stream since the capture started"),
        DataNextOffset => computed(c"smcdump.data.next_offset", c"Next stream offset", uint(8),
            c"Stream offset of the byte after this data"),
        SegmentData => field(c"smcdump.segment_data", c"SMC segment data", FieldKind::Bytes,
            c"Application bytes of a message that continues in a later frame"),
        ReassembledIn => computed(c"smcdump.reassembled_in", c"Reassembled in", FieldKind::FrameNum,
            c"The frame whose data completes the message these bytes belong to"),
        Reassembled => computed(c"smcdump.reassembled", c"Reassembled SMC data", FieldKind::Label,
            c"The frames whose data make up the application message dissected in this frame"),
        ReassembledFrame => computed(c"smcdump.reassembled.frame", c"Frame", FieldKind::FrameNum,
            c"A frame whose data is part of the reassembled message"),
        ReassembledLength => computed(c"smcdump.reassembled.length", c"Reassembled length", uint(4),
            c"Bytes of the reassembled message"),
        AnRingSize => computed(c"smcdump.analysis.ring_size", c"Ring size", uint(4),
            c"Size of the ring this direction's data is written into, from the receiver's CLC Accept or Confirm"),
        DataRingOffset => computed(c"smcdump.data.ring_offset", c"Ring offset", uint(4),
            c"Where in the receiving ring this frame's data starts (previous CDC's producer cursor plus data since)"),
        AnUnconsumed => computed(c"smcdump.analysis.unconsumed", c"Unconsumed by the peer", uint(4),
            c"Bytes this side wrote that the peer has not consumed yet: this CDC's producer cursor against the peer's latest consumer cursor"),
        ClcFrame => computed(c"smcdump.clc.frame", c"CLC Accept/Confirm", FieldKind::FrameNum,
            c"The frames of the connection's CLC Accept and Confirm (the handshake on the NIC)"),
        StreamCopy => computed(c"smcdump.stream.copy", c"Copy", uint(1),
            c"Which copy of this direction dumped the frame, when not the first: the receiving host's (SMC-D loopback), another host's (a merged capture), or a duplicate"),
        AnCopyOf => computed(c"smcdump.analysis.copy_of", c"Copy of frame", FieldKind::FrameNum,
            c"The frame that first carried the data or CDC this frame repeats"),
        AnRepeated => computed(c"smcdump.analysis.repeated", c"Bytes dumped before", uint(4),
            c"How many of this frame's data bytes lie at stream offsets earlier frames carried (not handed to the application again)"),
        AnMissing => computed(c"smcdump.analysis.missing", c"Bytes not captured", uint(8),
            c"Bytes of this direction's stream the capture does not hold, found at this frame (a hole: lost by the capture or the dump)"),
        AnMissingAt => computed(c"smcdump.analysis.missing_at", c"Missing from stream offset", uint(8),
            c"Stream offset of the first byte the capture does not hold"),
        ClcTcpStream => computed(c"smcdump.clc.tcp_stream", c"CLC handshake TCP stream", uint(4),
            c"Wireshark's TCP stream (tcp.stream) of the connection's CLC handshake, from the SMC SYN that opened it"),
    }
}

id_table! {
    /// A subtree type (`ett`); its position indexes the registered id table.
    Ett, SUBTREES: () {
        Root => (),
        Layout => (),
        Cdc => (),
        Prod => (),
        Cons => (),
        ProdFlags => (),
        ConnState => (),
        Analysis => (),
        Reassembled => (),
    }
}

/// Number of subtree types.
pub const ETT_COUNT: usize = SUBTREES.len();

/// Expert info groups smcdump uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Malformed,
    Protocol,
    Undecoded,
    Sequence,
}

/// Expert info severities smcdump uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Chat,
    Note,
    Warn,
    Error,
}

/// An expert item's registration data.
#[derive(Clone, Copy, Debug)]
pub struct ExpertDef {
    pub name: &'static CStr,
    pub group: Group,
    pub severity: Severity,
    pub summary: &'static CStr,
}

id_table! {
    /// An expert item; its position indexes [`EXPERTS`] and the registered id table.
    Ei, EXPERTS: ExpertDef {
        HeaderTruncated => expert(c"smcdump.header_truncated", Group::Malformed, Severity::Error,
            c"Too short for an SMC dump header"),
        BadMagic => expert(c"smcdump.bad_magic", Group::Malformed, Severity::Error,
            c"Not an SMC dump magic"),
        LenMismatch => expert(c"smcdump.len_mismatch", Group::Malformed, Severity::Warn,
            c"Length field differs from the UDP payload length"),
        ReservedNonzero => expert(c"smcdump.reserved_nonzero", Group::Protocol, Severity::Warn,
            c"Reserved bytes are not zero"),
        UnknownType => expert(c"smcdump.unknown_type", Group::Undecoded, Severity::Warn,
            c"Unknown payload type"),
        UnknownMode => expert(c"smcdump.unknown_mode", Group::Undecoded, Severity::Warn,
            c"Unknown SMC mode"),
        CdcShort => expert(c"smcdump.cdc.short", Group::Malformed, Severity::Error,
            c"CDC message shorter than its layout"),
        CdcExtra => expert(c"smcdump.cdc.extra_bytes", Group::Malformed, Severity::Warn,
            c"Bytes after the CDC record"),
        SmcrBadType => expert(c"smcdump.cdc.bad_type", Group::Protocol, Severity::Warn,
            c"SMC-R CDC message type is not 0xfe"),
        SmcrBadLen => expert(c"smcdump.cdc.bad_len", Group::Protocol, Severity::Warn,
            c"SMC-R CDC message length is not 44"),
        PeerConnAbort => expert(c"smcdump.cdc.peer_conn_abort", Group::Sequence, Severity::Warn,
            c"Connection aborted"),
        PeerConnClosed => expert(c"smcdump.cdc.peer_conn_closed", Group::Sequence, Severity::Chat,
            c"Connection closed"),
        PeerDoneWriting => expert(c"smcdump.cdc.peer_done_writing", Group::Sequence, Severity::Chat,
            c"Peer done writing"),
        WriteBlocked => expert(c"smcdump.cdc.write_blocked", Group::Sequence, Severity::Note,
            c"Writer blocked: peer receive buffer full"),
        Truncated => expert(c"smcdump.truncated", Group::Malformed, Severity::Warn,
            c"Frame truncated by the capture"),
        SeqUnexpected => expert(c"smcdump.analysis.seq_unexpected", Group::Sequence, Severity::Warn,
            c"Unexpected CDC sequence number"),
        CursorBackwards => expert(c"smcdump.analysis.cursor_backwards", Group::Sequence, Severity::Warn,
            c"Cursor went backwards"),
        DataMismatch => expert(c"smcdump.analysis.data_mismatch", Group::Sequence, Severity::Warn,
            c"Producer cursor advance differs from the data dumped"),
        WrapSkipped => expert(c"smcdump.analysis.wrap_skipped", Group::Sequence, Severity::Warn,
            c"Producer cursor more than a whole ring past the previous CDC's: a wrap skipped data"),
        PeerBufferFull => expert(c"smcdump.analysis.peer_buffer_full", Group::Sequence, Severity::Warn,
            c"Peer receive buffer full: every byte of its ring written and not consumed"),
        LayoutLearned => expert(c"smcdump.layout_learned", Group::Protocol, Severity::Note,
            c"Header layout learned from this frame"),
        LayoutConflict => expert(c"smcdump.layout_conflict", Group::Protocol, Severity::Warn,
            c"Frame implies another header layout than the one learned"),
        Copy => expert(c"smcdump.analysis.copy", Group::Sequence, Severity::Note,
            c"Copy of data or a CDC already in the capture (receiving host, merged capture, duplicate)"),
        DataMissing => expert(c"smcdump.analysis.data_missing", Group::Sequence, Severity::Warn,
            c"Previous data not captured"),
        OutOfOrder => expert(c"smcdump.analysis.out_of_order", Group::Sequence, Severity::Warn,
            c"Data of an earlier hole, out of order"),
        HandoffGivenUp => expert(c"smcdump.handoff_given_up", Group::Undecoded, Severity::Chat,
            c"No dissector took this direction's data: later frames are not handed to them"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What smcdump computes is generated, what it reads is not: the analysis, stream, reassembly and learned
    /// layout fields, and the data length (counted, not read), are the computed ones.
    #[test]
    fn computed_fields_are_generated() {
        for f in FIELDS {
            let a = f.abbrev.to_str().unwrap();
            let prefixes = ["analysis", "layout", "reassembled", "clc.", "stream", "data."];
            let computed = prefixes.iter().any(|p| a.strip_prefix("smcdump.").is_some_and(|r| r.starts_with(p)));
            assert_eq!(f.generated, computed, "{a}");
        }
    }

    #[test]
    fn abbrevs_are_unique_and_prefixed() {
        let mut seen = std::collections::HashSet::new();
        for f in FIELDS.iter() {
            let a = f.abbrev.to_str().unwrap();
            assert!(a.starts_with("smcdump."), "{a}");
            assert!(seen.insert(a), "duplicate {a}");
        }
        for e in EXPERTS.iter() {
            assert!(e.name.to_str().unwrap().starts_with("smcdump."));
        }
    }
}
