//! The connections of a capture at a glance (pure Rust): one row per SMC connection (per `smcdump.stream`) and
//! per handshake that fell back to TCP. Two tables share the rows: [`CaptureTable`], the whole capture counted on
//! the first pass (`tshark -z smcdump,conn`), and [`FilteredTable`], what a statistics listener counts from the
//! frames its display filter lets through (Statistics › SMC Connections, `tshark -z smcdump,connections`).
//!
//! Rows are filled on Wireshark's first pass, in capture order: each dump frame once (frames are recorded only
//! when their number is higher than the last one recorded, so later passes and GUI re-dissection change nothing),
//! each CLC message once. Memory grows with connections, not frames.

use std::fmt::Write as _;

use super::hash::FastMap;
use super::streams::StreamId;
use crate::wire::cdc::{ConnState, ProdFlags};
use crate::wire::clc::{decline_name, ClcMessage, Path};
use crate::wire::{ConnKey, DumpFrame, Endpoint, Flow, Mode, Payload};

/// What one dump frame contributes to its connection's row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameFacts {
    pub stream: StreamId,
    /// 0: from the endpoint that sent first, 1: back.
    pub dir: u8,
    pub flow: Flow,
    pub mode: Mode,
    pub smc_ver: u8,
    pub kind: FrameKind,
    /// The ring the frame's direction writes into, when known.
    pub ring: Option<u32>,
    /// The frame only repeats what other frames carried (a copy): it counts for nothing.
    pub copy: bool,
    /// Bytes of its direction found missing at this frame (a hole), and bytes it brought of an earlier hole.
    pub missing: u64,
    pub filled: u64,
}

/// What the table reads of a dump frame itself (the rest comes from its stream and analysis), taken where the
/// frame is parsed anyway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameCount {
    pub mode: Mode,
    pub smc_ver: u8,
    pub kind: FrameKind,
}

impl FrameCount {
    pub fn of(frame: &DumpFrame) -> FrameCount {
        FrameCount { mode: frame.header.mode, smc_ver: frame.header.repr.smc_ver, kind: FrameKind::of(frame) }
    }
}

/// A dump frame's kind, as the table counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// A CDC message with its producer flags and connection state flags.
    Cdc {
        prod_flags: u8,
        conn_state: u8,
    },
    /// Ring-buffer data of this many bytes.
    Data(u64),
    Other,
}

impl FrameKind {
    /// How `frame` counts.
    pub fn of(frame: &DumpFrame) -> FrameKind {
        match frame.payload {
            _ if !frame.magic_ok => FrameKind::Other,
            Payload::Raw(span) => FrameKind::Data(span.len as u64),
            Payload::Cdc { cdc, .. } => FrameKind::Cdc {
                prod_flags: cdc.prod_flags().map_or(0, |f| f.value.0),
                conn_state: cdc.conn_state().map_or(0, |f| f.value.0),
            },
            Payload::Undecoded(_) => FrameKind::Other,
        }
    }
}

/// One SMC connection's row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnRow {
    pub stream: StreamId,
    /// The endpoint that sent first (direction 0), and the other.
    pub a: Endpoint,
    pub b: Endpoint,
    pub mode: Option<Mode>,
    pub smc_ver: u8,
    pub frames: u64,
    pub cdcs: [u64; 2],
    /// Data bytes carried, each once.
    pub data: [u64; 2],
    /// Bytes the data frames did not carry (holes not filled since).
    pub missing: [u64; 2],
    pub rings: [Option<u32>; 2],
    pub prod_flags: u8,
    pub conn_state: u8,
    /// Directions that sent PeerConnClosed.
    pub closed: [bool; 2],
}

/// How a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Closed,
    Aborted,
    Open,
}

impl ConnRow {
    pub fn ending(&self) -> Ending {
        if self.conn_state & ConnState::PEER_CONN_ABORT != 0 {
            Ending::Aborted
        } else if self.closed[0] && self.closed[1] {
            Ending::Closed
        } else {
            Ending::Open
        }
    }

    /// The data bytes of direction `d`, with those missing when any are.
    fn bytes(&self, d: usize) -> String {
        match self.missing[d] {
            0 => self.data[d].to_string(),
            m => format!("{} ({m} missing)", self.data[d]),
        }
    }

    /// The names of the flags seen, in the Info column's order.
    pub fn flag_names(&self) -> Vec<&'static str> {
        let p = ProdFlags::NAMES.iter().filter(|(b, _)| self.prod_flags & b != 0);
        let s = ConnState::NAMES.iter().filter(|(b, _)| self.conn_state & b != 0);
        p.chain(s).map(|(_, n)| *n).collect()
    }
}

/// A CLC handshake: client (the Proposal's sender) and server, and how it went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClcRow {
    pub client: Endpoint,
    pub server: Endpoint,
    pub version: u8,
    pub proposal: u32,
    /// The path the Accept chose.
    pub path: Option<Path>,
    pub confirmed: bool,
    /// A Decline: its frame and diagnosis code.
    pub decline: Option<(u32, Option<u32>)>,
    /// CLC frames of the handshake.
    pub frames: u64,
}

/// What [`CaptureTable::frame`] did with a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counted {
    /// Counted before (a later pass, or a frame out of capture order).
    Ignored,
    /// The first frame of its connection: a new row.
    NewRow,
    /// Counted in the connection's row.
    Row,
}

/// The rows of one capture file, each frame counted once, in capture order.
#[derive(Debug, Default)]
pub struct CaptureTable {
    conns: Vec<ConnRow>,
    clc: Vec<ClcRow>,
    /// The latest handshake of each connection.
    clc_by_key: FastMap<ConnKey, usize>,
    last_frame: u32,
    last_clc: u32,
}

fn key(a: Endpoint, b: Endpoint) -> ConnKey {
    Flow::new(a, b).conn()
}

impl CaptureTable {
    /// Counts dump frame `num` (first visit, capture order: a frame at or below the last one counted is ignored).
    pub fn frame(&mut self, num: u32, f: &FrameFacts) -> Counted {
        if num <= self.last_frame {
            return Counted::Ignored;
        }
        self.last_frame = num;
        let i = f.stream as usize;
        if i >= self.conns.len() {
            self.conns.resize_with(i + 1, ConnRow::default);
        }
        let row = &mut self.conns[i];
        let counted = if row.frames == 0 { Counted::NewRow } else { Counted::Row };
        if row.frames == 0 {
            let (a, b) = if f.dir == 0 { (f.flow.src, f.flow.dst) } else { (f.flow.dst, f.flow.src) };
            *row = ConnRow { stream: f.stream, a, b, mode: Some(f.mode), smc_ver: f.smc_ver, ..ConnRow::default() };
        }
        let d = usize::from(f.dir.min(1));
        if f.ring.is_some() {
            row.rings[d] = f.ring;
        }
        row.missing[d] = (row.missing[d] + f.missing).saturating_sub(f.filled);
        if f.copy {
            return counted;
        }
        row.frames += 1;
        match f.kind {
            FrameKind::Cdc { prod_flags, conn_state } => {
                row.cdcs[d] += 1;
                row.prod_flags |= prod_flags & !ProdFlags::RESERVED;
                row.conn_state |= conn_state & !ConnState::RESERVED;
                row.closed[d] |= conn_state & ConnState::PEER_CONN_CLOSED != 0;
            }
            FrameKind::Data(n) => row.data[d] += n,
            FrameKind::Other => {}
        }
        counted
    }

    /// Forgets what the dump frames counted (the CLC handshakes stay): they are counted again.
    pub fn forget_frames(&mut self) {
        self.conns.clear();
        self.last_frame = 0;
    }

    /// Records CLC message `msg` of frame `num`, sent in `flow` (first visit, capture order); whether it was
    /// recorded.
    pub fn clc(&mut self, num: u32, flow: Flow, msg: &ClcMessage) -> bool {
        if num <= self.last_clc {
            return false;
        }
        self.last_clc = num;
        let (src, dst, k) = (flow.src, flow.dst, flow.conn());
        match *msg {
            ClcMessage::Proposal { version } => {
                self.clc_by_key.insert(k, self.clc.len());
                self.clc.push(ClcRow {
                    client: src,
                    server: dst,
                    version,
                    proposal: num,
                    path: None,
                    confirmed: false,
                    decline: None,
                    frames: 1,
                });
            }
            _ => {
                let Some(row) = self.clc_by_key.get(&k).and_then(|&i| self.clc.get_mut(i)) else {
                    return true;
                };
                row.frames += 1;
                match *msg {
                    ClcMessage::AcceptConfirm { confirm, path, .. } => {
                        row.path = Some(path);
                        row.confirmed |= confirm;
                    }
                    ClcMessage::Decline { diagnosis, .. } => row.decline = Some((num, diagnosis)),
                    _ => {}
                }
            }
        }
        true
    }

    /// The SMC connections, by stream index.
    pub fn conns(&self) -> &[ConnRow] {
        &self.conns
    }

    /// The handshakes with no dump frame of their endpoints: those that fell back to TCP (declined, or never
    /// confirmed), and SMC connections whose dump frames the capture lacks.
    pub fn handshake_only(&self) -> Vec<ClcRow> {
        self.clc
            .iter()
            .filter(|h| !self.conns.iter().any(|c| c.frames > 0 && key(c.a, c.b) == key(h.client, h.server)))
            .copied()
            .collect()
    }

    /// The handshakes that fell back to TCP: declined, or never confirmed, and no dump frame of their endpoints.
    pub fn fallbacks(&self) -> Vec<ClcRow> {
        self.handshake_only().into_iter().filter(|h| h.decline.is_some() || !h.confirmed).collect()
    }

    /// The table's rows: the SMC connections by stream index, then the handshakes with no dump frame.
    pub fn rows(&self) -> Vec<Vec<Cell>> {
        let conns = self.conns.iter().filter(|c| c.frames > 0).map(ConnRow::cells);
        conns.chain(self.handshake_only().iter().map(ClcRow::cells)).collect()
    }

    /// The table `tshark -z smcdump,conn` prints.
    pub fn render(&self) -> String {
        let mut rows: Vec<Vec<String>> = vec![COLUMNS.iter().map(|c| c.name.to_string()).collect()];
        rows.extend(self.rows().iter().map(|r| r.iter().map(Cell::to_string).collect()));
        let cols = rows[0].len();
        let widths: Vec<usize> =
            (0..cols).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
        let mut out = String::new();
        let rule = "=".repeat(widths[..cols - 1].iter().sum::<usize>() + 2 * (cols - 1) + "End".len());
        let _ = writeln!(out, "{rule}");
        let _ = writeln!(out, "SMC connections: A sent the first dump frame (the client, in a handshake-only row)");
        for (n, r) in rows.iter().enumerate() {
            let mut line = String::new();
            for (i, cell) in r.iter().enumerate() {
                if i + 1 == cols {
                    line.push_str(cell);
                } else {
                    let _ = write!(line, "{cell:<w$}  ", w = widths[i]);
                }
            }
            let _ = writeln!(out, "{}", line.trim_end());
            if n == 0 {
                let _ = writeln!(out, "{}", "-".repeat(rule.len()));
            }
        }
        let _ = writeln!(out, "{rule}");
        out
    }
}

/// What a column holds: a count (a number the GUI sorts as one), a number written as text (right-aligned like a
/// count), or text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    Count,
    NumberText,
    Text,
}

/// A column of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: ColumnKind,
}

const fn text(name: &'static str) -> Column {
    Column { name, kind: ColumnKind::Text }
}

const fn count(name: &'static str) -> Column {
    Column { name, kind: ColumnKind::Count }
}

const fn number(name: &'static str) -> Column {
    Column { name, kind: ColumnKind::NumberText }
}

/// The table's columns, for tshark's text and the GUI's table alike. Byte counts are text: a direction of a long
/// connection can move more than the GUI table's 32-bit numbers hold.
pub const COLUMNS: [Column; 14] = [
    number("Stream"),
    text("Endpoint A"),
    text("Endpoint B"),
    text("Mode"),
    text("Ver"),
    count("Frames"),
    count("CDC A>B"),
    count("CDC B>A"),
    number("Bytes A>B"),
    number("Bytes B>A"),
    number("Ring A>B"),
    number("Ring B>A"),
    text("Flags"),
    text("End"),
];

/// One cell of a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    Count(u64),
    Text(String),
    /// Nothing to show ("-"; a count column shows 0 in the GUI).
    Missing,
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Count(n) => write!(f, "{n}"),
            Cell::Text(t) => f.write_str(t),
            Cell::Missing => f.write_str("-"),
        }
    }
}

impl ConnRow {
    /// This connection's row, in [`COLUMNS`] order.
    pub fn cells(&self) -> Vec<Cell> {
        let mode = match self.mode {
            Some(Mode::SmcR) => "SMC-R".to_string(),
            Some(Mode::SmcD) => "SMC-D".to_string(),
            Some(Mode::Unknown(m)) => format!("mode {m}"),
            None => "-".to_string(),
        };
        let flags = self.flag_names();
        let end = match self.ending() {
            Ending::Closed => "closed",
            Ending::Aborted => "aborted",
            Ending::Open => "open at capture end",
        };
        let ring = |r: Option<u32>| r.map_or(Cell::Missing, |r| Cell::Text(r.to_string()));
        vec![
            Cell::Text(self.stream.to_string()),
            Cell::Text(self.a.to_string()),
            Cell::Text(self.b.to_string()),
            Cell::Text(mode),
            Cell::Text(format!("v{}", self.smc_ver)),
            Cell::Count(self.frames),
            Cell::Count(self.cdcs[0]),
            Cell::Count(self.cdcs[1]),
            Cell::Text(self.bytes(0)),
            Cell::Text(self.bytes(1)),
            ring(self.rings[0]),
            ring(self.rings[1]),
            if flags.is_empty() { Cell::Missing } else { Cell::Text(flags.join(",")) },
            Cell::Text(end.to_string()),
        ]
    }
}

impl ClcRow {
    /// This handshake's row (it has no dump frame), in [`COLUMNS`] order.
    pub fn cells(&self) -> Vec<Cell> {
        let end = match self.decline {
            Some((frame, Some(code))) => {
                let name = decline_name(code).unwrap_or("unknown reason");
                format!("fell back to TCP: Decline (frame {frame}) {code:#010x} {name}")
            }
            Some((frame, None)) => format!("fell back to TCP: Decline (frame {frame}), no diagnosis captured"),
            None if !self.confirmed => "fell back to TCP: no CLC Confirm".to_string(),
            None => "SMC handshake only, no dump frames".to_string(),
        };
        let mode = match (self.decline, self.confirmed, self.path) {
            (None, true, Some(Path::SmcR)) => "SMC-R",
            (None, true, Some(Path::SmcD)) => "SMC-D",
            _ => "TCP",
        };
        let mut row = vec![
            Cell::Missing,
            Cell::Text(self.client.to_string()),
            Cell::Text(self.server.to_string()),
            Cell::Text(mode.to_string()),
            Cell::Text(format!("v{}", self.version)),
            Cell::Count(self.frames),
        ];
        row.extend(std::iter::repeat(Cell::Missing).take(7));
        row.push(Cell::Text(end));
        row
    }
}

/// The table of a statistics listener (the GUI's Statistics › SMC Connections, `tshark -z smcdump,connections`):
/// fed with the frames the listener gets, in capture order (its display filter applies), it tells which rows
/// changed since it last told, so that only those are written into Wireshark's table. A frame of a connection
/// that has a row changes that row only; a new connection or a CLC message may move rows, so all are compared.
#[derive(Debug, Default)]
pub struct FilteredTable {
    table: CaptureTable,
    /// The rows as last told, and where each stream's row is among them.
    shown: Vec<Vec<Cell>>,
    row_of_stream: FastMap<StreamId, usize>,
    /// Changed since the last [`FilteredTable::changes`]: any row, or the row of one stream.
    all_changed: bool,
    changed_stream: Option<StreamId>,
}

impl FilteredTable {
    /// Forgets everything: the listener starts again.
    pub fn clear(&mut self) {
        *self = FilteredTable::default();
    }

    /// How many rows were told.
    pub fn shown_rows(&self) -> usize {
        self.shown.len()
    }

    /// Forgets what was told (the rows were lost): the next [`FilteredTable::changes`] tells every row.
    pub fn forget_shown(&mut self) {
        self.shown.clear();
        self.all_changed = true;
    }

    /// Counts dump frame `num`.
    pub fn frame(&mut self, num: u32, f: &FrameFacts) {
        match self.table.frame(num, f) {
            Counted::Ignored => {}
            Counted::NewRow => self.all_changed = true,
            Counted::Row => match self.changed_stream {
                Some(s) if s != f.stream => self.all_changed = true,
                _ => self.changed_stream = Some(f.stream),
            },
        }
    }

    /// Records CLC message `msg` of frame `num`, sent in `flow`.
    pub fn clc(&mut self, num: u32, flow: Flow, msg: &ClcMessage) {
        self.all_changed |= self.table.clc(num, flow, msg);
    }

    /// The rows that changed since the last call (index and cells, by index), and how many rows there are now.
    pub fn changes(&mut self) -> (Vec<(usize, Vec<Cell>)>, usize) {
        let mut changed = Vec::new();
        if self.all_changed {
            let rows = self.table.rows();
            for (i, row) in rows.iter().enumerate() {
                if self.shown.get(i) != Some(row) {
                    changed.push((i, row.clone()));
                }
            }
            let with_frames = self.table.conns.iter().filter(|c| c.frames > 0);
            self.row_of_stream = with_frames.enumerate().map(|(i, c)| (c.stream, i)).collect();
            self.shown = rows;
        } else if let Some(s) = self.changed_stream {
            let row = self.row_of_stream.get(&s).copied();
            if let (Some(i), Some(conn)) = (row, self.table.conns.get(s as usize)) {
                let cells = conn.cells();
                if let Some(shown) = self.shown.get_mut(i).filter(|shown| **shown != cells) {
                    shown.clone_from(&cells);
                    changed.push((i, cells));
                }
            }
        }
        self.all_changed = false;
        self.changed_stream = None;
        (changed, self.shown.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: Endpoint = Endpoint::new([10, 0, 0, 1], 40000);
    const S: Endpoint = Endpoint::new([10, 0, 0, 2], 6379);

    fn facts(stream: StreamId, dir: u8, kind: FrameKind) -> FrameFacts {
        let flow = if dir == 0 { Flow::new(C, S) } else { Flow::new(S, C) };
        let ring = Some(16384);
        FrameFacts { stream, dir, flow, mode: Mode::SmcR, smc_ver: 1, kind, ring, copy: false, missing: 0, filled: 0 }
    }

    /// Copies count for nothing; holes show with the data of their direction until filled.
    #[test]
    fn copies_are_not_counted_and_missing_bytes_are() {
        let mut t = CaptureTable::default();
        t.frame(1, &facts(0, 0, FrameKind::Data(100)));
        t.frame(2, &FrameFacts { copy: true, ..facts(0, 0, FrameKind::Data(0)) });
        t.frame(3, &FrameFacts { copy: true, ..facts(0, 0, FrameKind::Cdc { prod_flags: 0, conn_state: 0 }) });
        t.frame(4, &FrameFacts { missing: 30, ..facts(0, 0, FrameKind::Data(20)) });
        let c = &t.conns()[0];
        assert_eq!((c.frames, c.cdcs, c.data, c.missing), (2, [0, 0], [120, 0], [30, 0]));
        assert_eq!(c.cells()[8], Cell::Text("120 (30 missing)".into()));
        t.frame(5, &FrameFacts { filled: 30, ..facts(0, 0, FrameKind::Data(30)) });
        assert_eq!(t.conns()[0].cells()[8], Cell::Text("150".into()));
    }

    #[test]
    fn counts_each_direction_once_per_frame() {
        let mut t = CaptureTable::default();
        t.frame(1, &facts(0, 0, FrameKind::Data(100)));
        t.frame(2, &facts(0, 0, FrameKind::Cdc { prod_flags: 0x80, conn_state: 0 }));
        t.frame(3, &facts(0, 1, FrameKind::Cdc { prod_flags: 0x10, conn_state: 0x40 }));
        // A second pass changes nothing.
        t.frame(2, &facts(0, 0, FrameKind::Cdc { prod_flags: 0x80, conn_state: 0 }));
        t.frame(4, &facts(0, 0, FrameKind::Cdc { prod_flags: 0, conn_state: 0x40 }));
        let c = &t.conns()[0];
        assert_eq!((c.a, c.b, c.frames, c.cdcs, c.data), (C, S, 4, [2, 1], [100, 0]));
        assert_eq!(c.flag_names(), ["WriteBlocked", "CursUpdReq", "PeerConnClosed"]);
        assert_eq!(c.ending(), Ending::Closed);
        assert_eq!(c.rings, [Some(16384), Some(16384)]);
    }

    #[test]
    fn declined_and_unconfirmed_handshakes_are_fallbacks() {
        let mut t = CaptureTable::default();
        t.clc(4, Flow::new(C, S), &ClcMessage::Proposal { version: 1 });
        t.clc(5, Flow::new(S, C), &ClcMessage::Decline { version: 1, diagnosis: Some(0x0303_0000) });
        let other = Endpoint::new([10, 0, 0, 3], 1);
        t.clc(6, Flow::new(other, S), &ClcMessage::Proposal { version: 2 });
        let f = t.fallbacks();
        assert_eq!(f.len(), 2);
        assert_eq!((f[0].client, f[0].server, f[0].decline, f[0].frames), (C, S, Some((5, Some(0x0303_0000))), 2));
        assert_eq!((f[1].version, f[1].decline, f[1].confirmed), (2, None, false));
        let text = t.render();
        assert!(text.contains("fell back to TCP: Decline (frame 5) 0x03030000 SMC_CLC_DECL_NOSMCDEV"), "{text}");
        assert!(text.contains("fell back to TCP: no CLC Confirm"), "{text}");
        // Dump frames of the same endpoints make it an SMC connection, not a fallback.
        t.frame(7, &facts(0, 0, FrameKind::Data(1)));
        assert_eq!(t.fallbacks().len(), 1);
    }

    #[test]
    fn a_listener_is_told_only_the_rows_that_changed() {
        let other = Endpoint::new([10, 0, 0, 3], 40001);
        let mut l = FilteredTable::default();
        l.frame(1, &facts(0, 0, FrameKind::Data(100)));
        let (changed, rows) = l.changes();
        assert_eq!((changed.len(), changed[0].0, rows), (1, 0, 1));
        assert_eq!(changed[0].1[8], Cell::Text("100".into()));
        // Nothing new, nothing told.
        assert_eq!(l.changes(), (vec![], 1));
        // A later frame of the same connection: its row only.
        l.frame(2, &facts(0, 1, FrameKind::Cdc { prod_flags: 0, conn_state: 0 }));
        let (changed, _) = l.changes();
        assert_eq!((changed.len(), changed[0].0, &changed[0].1[7]), (1, 0, &Cell::Count(1)));
        // A handshake of other endpoints adds a row after the connections.
        l.clc(3, Flow::new(other, S), &ClcMessage::Proposal { version: 2 });
        let (changed, rows) = l.changes();
        assert_eq!((changed.len(), changed[0].0, rows), (1, 1, 2));
        assert_eq!(changed[0].1[13], Cell::Text("fell back to TCP: no CLC Confirm".into()));
        // A new connection comes before the handshake row: both rows are told.
        let mut f = facts(1, 0, FrameKind::Data(5));
        f.flow.src = other;
        l.frame(4, &f);
        let (changed, rows) = l.changes();
        assert_eq!((changed.iter().map(|c| c.0).collect::<Vec<_>>(), rows), (vec![1], 2));
        assert_eq!(changed[0].1[0], Cell::Text("1".into()));
        // Told again in full once forgotten.
        l.forget_shown();
        assert_eq!(l.changes().0.len(), 2);
    }

    #[test]
    fn an_abort_wins_and_a_half_close_is_still_open() {
        let mut t = CaptureTable::default();
        t.frame(1, &facts(0, 0, FrameKind::Cdc { prod_flags: 0, conn_state: 0x40 }));
        assert_eq!(t.conns()[0].ending(), Ending::Open);
        t.frame(2, &facts(0, 1, FrameKind::Cdc { prod_flags: 0, conn_state: 0x20 }));
        assert_eq!(t.conns()[0].ending(), Ending::Aborted);
    }
}
