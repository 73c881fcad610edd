//! The connections of a capture at a glance (pure Rust): one row per SMC connection (per `smcdump.stream`) and
//! per handshake that fell back to TCP, for `tshark -z smcdump,conn`.
//!
//! Rows are filled on Wireshark's first pass, in capture order: each dump frame once (frames are recorded only
//! when their number is higher than the last one recorded, so later passes and GUI re-dissection change nothing),
//! each CLC message once. Memory grows with connections, not frames.

use crate::fastmap::FastMap;
use std::fmt::Write as _;

use crate::streams::{Endpoint, StreamId};
use crate::wire::cdc::{ConnState, ProdFlags};
use crate::wire::clc::{decline_name, ClcMessage, Path};
use crate::wire::{DumpFrame, Mode, Payload};

/// What one dump frame contributes to its connection's row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameFacts {
    pub stream: StreamId,
    /// 0: from the endpoint that sent first, 1: back.
    pub dir: u8,
    pub src: Endpoint,
    pub dst: Endpoint,
    pub mode: Mode,
    pub smc_ver: u8,
    pub kind: FrameKind,
    /// The ring the frame's direction writes into, when known.
    pub ring: Option<u32>,
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
        FrameCount { mode: frame.header.mode.value, smc_ver: frame.header.smc_ver.value, kind: FrameKind::of(frame) }
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
                prod_flags: cdc.prod_flags.map_or(0, |f| f.value.0),
                conn_state: cdc.conn_state.map_or(0, |f| f.value.0),
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
    pub data: [u64; 2],
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

/// The rows of one capture file.
#[derive(Debug, Default)]
pub struct ConnTable {
    conns: Vec<ConnRow>,
    clc: Vec<ClcRow>,
    /// The latest handshake of each connection key (endpoints in order).
    clc_by_key: FastMap<(Endpoint, Endpoint), usize>,
    last_frame: u32,
    last_clc: u32,
}

fn key(a: Endpoint, b: Endpoint) -> (Endpoint, Endpoint) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

impl ConnTable {
    pub fn clear(&mut self) {
        *self = ConnTable::default();
    }

    /// Counts dump frame `num` (first visit, capture order: a frame at or below the last one counted is ignored).
    pub fn frame(&mut self, num: u32, f: &FrameFacts) {
        if num <= self.last_frame {
            return;
        }
        self.last_frame = num;
        let i = f.stream as usize;
        if i >= self.conns.len() {
            self.conns.resize_with(i + 1, ConnRow::default);
        }
        let row = &mut self.conns[i];
        if row.frames == 0 {
            let (a, b) = if f.dir == 0 { (f.src, f.dst) } else { (f.dst, f.src) };
            *row = ConnRow { stream: f.stream, a, b, mode: Some(f.mode), smc_ver: f.smc_ver, ..ConnRow::default() };
        }
        let d = usize::from(f.dir.min(1));
        row.frames += 1;
        if f.ring.is_some() {
            row.rings[d] = f.ring;
        }
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
    }

    /// Records CLC message `msg` of frame `num` from `src` to `dst` (first visit, capture order).
    pub fn clc(&mut self, num: u32, src: Endpoint, dst: Endpoint, msg: &ClcMessage) {
        if num <= self.last_clc {
            return;
        }
        self.last_clc = num;
        let k = key(src, dst);
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
                    return;
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

    /// The table `tshark -z smcdump,conn` prints.
    pub fn render(&self) -> String {
        let mut rows: Vec<Vec<String>> = vec![[
            "Stream",
            "Endpoint A",
            "Endpoint B",
            "Mode",
            "Ver",
            "Frames",
            "CDC A>B",
            "CDC B>A",
            "Bytes A>B",
            "Bytes B>A",
            "Ring A>B",
            "Ring B>A",
            "Flags",
            "End",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()];
        let ring = |r: Option<u32>| r.map_or("-".to_string(), |r| r.to_string());
        for c in self.conns.iter().filter(|c| c.frames > 0) {
            let mode = match c.mode {
                Some(Mode::SmcR) => "SMC-R".to_string(),
                Some(Mode::SmcD) => "SMC-D".to_string(),
                Some(Mode::Unknown(m)) => format!("mode {m}"),
                None => "-".to_string(),
            };
            let flags = c.flag_names();
            let end = match c.ending() {
                Ending::Closed => "closed",
                Ending::Aborted => "aborted",
                Ending::Open => "open at capture end",
            };
            rows.push(vec![
                c.stream.to_string(),
                endpoint(c.a),
                endpoint(c.b),
                mode,
                format!("v{}", c.smc_ver),
                c.frames.to_string(),
                c.cdcs[0].to_string(),
                c.cdcs[1].to_string(),
                c.data[0].to_string(),
                c.data[1].to_string(),
                ring(c.rings[0]),
                ring(c.rings[1]),
                if flags.is_empty() { "-".to_string() } else { flags.join(",") },
                end.to_string(),
            ]);
        }
        for h in self.handshake_only() {
            let end = match h.decline {
                Some((frame, Some(code))) => {
                    let name = decline_name(code).unwrap_or("unknown reason");
                    format!("fell back to TCP: Decline (frame {frame}) {code:#010x} {name}")
                }
                Some((frame, None)) => format!("fell back to TCP: Decline (frame {frame}), no diagnosis captured"),
                None if !h.confirmed => "fell back to TCP: no CLC Confirm".to_string(),
                None => "SMC handshake only, no dump frames".to_string(),
            };
            let mode = match (h.decline, h.confirmed, h.path) {
                (None, true, Some(Path::SmcR)) => "SMC-R",
                (None, true, Some(Path::SmcD)) => "SMC-D",
                _ => "TCP",
            };
            let mut row = vec!["-".to_string(), endpoint(h.client), endpoint(h.server), mode.to_string()];
            row.push(format!("v{}", h.version));
            row.push(h.frames.to_string());
            row.extend(std::iter::repeat("-".to_string()).take(7));
            row.push(end);
            rows.push(row);
        }
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

fn endpoint((ip, port): Endpoint) -> String {
    format!("{}.{}.{}.{}:{port}", ip[0], ip[1], ip[2], ip[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: Endpoint = ([10, 0, 0, 1], 40000);
    const S: Endpoint = ([10, 0, 0, 2], 6379);

    fn facts(stream: StreamId, dir: u8, kind: FrameKind) -> FrameFacts {
        let (src, dst) = if dir == 0 { (C, S) } else { (S, C) };
        FrameFacts { stream, dir, src, dst, mode: Mode::SmcR, smc_ver: 1, kind, ring: Some(16384) }
    }

    #[test]
    fn counts_each_direction_once_per_frame() {
        let mut t = ConnTable::default();
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
        let mut t = ConnTable::default();
        t.clc(4, C, S, &ClcMessage::Proposal { version: 1 });
        t.clc(5, S, C, &ClcMessage::Decline { version: 1, diagnosis: Some(0x0303_0000) });
        let other = ([10, 0, 0, 3], 1);
        t.clc(6, other, S, &ClcMessage::Proposal { version: 2 });
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
    fn an_abort_wins_and_a_half_close_is_still_open() {
        let mut t = ConnTable::default();
        t.frame(1, &facts(0, 0, FrameKind::Cdc { prod_flags: 0, conn_state: 0x40 }));
        assert_eq!(t.conns()[0].ending(), Ending::Open);
        t.frame(2, &facts(0, 1, FrameKind::Cdc { prod_flags: 0, conn_state: 0x20 }));
        assert_eq!(t.conns()[0].ending(), Ending::Aborted);
    }
}
