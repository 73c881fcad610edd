//! A dump capture rewritten as plain TCP (`smcdump2tcp`): the pure part, packet in, packets out. Each SMC
//! connection becomes the TCP connection it replaced: its data frames TCP segments at their stream positions (from
//! [`crate::capture::copies`], so holes stay holes and copies are written once), its CDCs acknowledgements
//! (consumer cursors), windows (the room left in a ring of known size), FINs (PeerDoneWriting, PeerConnClosed) and
//! RSTs (PeerConnAbort). The connection's own TCP segments (handshake, CLC) are kept and the data continues their
//! sequence space; without them a handshake is synthesized and marked. Every other packet is kept as it is.
//!
//! Memory: per open connection (its sequence state and its copies' recent frames), not per frame: the state of
//! a connection that ended is dropped once no copy of it can follow.

pub mod conn;
pub mod link;

use std::collections::VecDeque;

use conn::{Start, TcpConn};

use crate::capture::copies::Copies;
use crate::capture::handshakes::Handshakes;
use crate::capture::hash::FastMap;
use crate::capture::{stream_part, StreamPart};
use crate::wire::clc;
use crate::wire::envelope::{find_dump, FoundDump, Link};
use crate::wire::handshake::{smc_syn, tcp_segment_in, Segment};
use crate::wire::header::claims;
use crate::wire::net::tcp_flags;
use crate::wire::{ConnKey, ConnState, DumpFrame, Endpoint, Flow, Layout, Payload};

/// One input packet: its number (from 1), link type, captured bytes and length on the wire, and an opaque
/// timestamp and interface the output's packets made from it carry.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    pub num: u32,
    pub link: Link,
    pub data: &'a [u8],
    pub orig_len: usize,
    pub ts: u64,
    pub interface: u32,
}

/// What to write for an input packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Emit {
    /// The input packet, as it is.
    Original,
    /// A packet the converter made (a TCP segment) or held back (`--only-smc`): its frame in link type `link`,
    /// the timestamp and interface it goes with, and what it came from.
    Made(Made),
}

/// A packet the converter made or held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Made {
    pub link: Link,
    pub frame: Vec<u8>,
    pub orig_len: usize,
    pub ts: u64,
    pub interface: u32,
    /// For a pcapng comment: the dump frame it came from, or that it was synthesized.
    pub comment: Option<String>,
}

/// What a conversion did, for the summary at its end.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub packets: u64,
    pub dump_frames: u64,
    /// SMC connections written as TCP, and those of them whose handshake was synthesized.
    pub connections: u64,
    pub synthesized: u64,
    /// Data bytes written, client to server and back.
    pub bytes: [u64; 2],
    /// Holes (bytes the dump does not hold) and their bytes.
    pub holes: u64,
    pub missing: u64,
    /// Frames that only repeated what earlier frames carried.
    pub copies: u64,
    /// The connections' own TCP segments after their SMC data started (replaced by the converted ones).
    pub replaced: u64,
}

/// A TCP connection announced by an SMC SYN, as its own segments left it, until its SMC data starts.
#[derive(Clone, Debug, Default)]
struct RealTcp {
    /// The SYN's sender.
    client: Option<Endpoint>,
    /// Per endpoint that sent: the sequence number after its last segment, its last ack number, its window scale.
    sides: Vec<(Endpoint, u32, Option<u32>, Option<u8>)>,
    /// Its packets, held back when only SMC connections are written.
    held: Vec<Made>,
}

impl RealTcp {
    fn segment(&mut self, s: &Segment) {
        let next = s.seq.wrapping_add(s.seq_len());
        let ack = (s.flags & tcp_flags::ACK != 0).then_some(s.ack);
        if s.flags & tcp_flags::SYN != 0 && s.flags & tcp_flags::ACK == 0 {
            self.client = Some(s.flow.src);
        }
        match self.sides.iter_mut().find(|e| e.0 == s.flow.src) {
            // Only forward: a retransmission leaves the next number where it is.
            Some(e) => {
                if next.wrapping_sub(e.1) as i32 > 0 {
                    e.1 = next;
                }
                e.2 = ack.or(e.2);
                e.3 = e.3.or(s.window_scale());
            }
            None => self.sides.push((s.flow.src, next, ack, s.window_scale())),
        }
    }

    fn side(&self, e: &Endpoint) -> Option<&(Endpoint, u32, Option<u32>, Option<u8>)> {
        self.sides.iter().find(|s| s.0 == *e)
    }
}

/// One SMC connection being converted.
#[derive(Clone, Debug)]
struct Conn {
    tcp: TcpConn,
    /// Which sides sent PeerConnClosed: the connection ends with both, or with PeerConnAbort (as streams do).
    closed: [bool; 2],
    /// The dump frame the connection ended at, if it did.
    ended_at: Option<u32>,
}

/// Dump frames after its end that an ended connection's state is kept for (copies of its last CDCs).
const LINGER: u32 = 4096;

/// Converts one capture, packet by packet, in capture order.
#[derive(Debug)]
pub struct Converter {
    layout: Layout,
    only_smc: bool,
    copies: Copies,
    handshakes: Handshakes,
    real: FastMap<ConnKey, RealTcp>,
    conns: FastMap<ConnKey, Conn>,
    /// Ended connections, oldest first: dropped once they lingered.
    ended: VecDeque<(u32, ConnKey)>,
    pub summary: Summary,
}

impl Converter {
    /// A converter for a capture whose dump header layout is `layout` (learned from the whole capture first);
    /// `only_smc`: write the SMC connections only.
    pub fn new(layout: Layout, only_smc: bool) -> Self {
        Converter {
            layout,
            only_smc,
            copies: Copies::default(),
            handshakes: Handshakes::default(),
            real: FastMap::default(),
            conns: FastMap::default(),
            ended: VecDeque::new(),
            summary: Summary::default(),
        }
    }

    /// What to write for input packet `p`, appended to `out`.
    pub fn packet(&mut self, p: &Input, out: &mut Vec<Emit>) {
        self.summary.packets += 1;
        if let Some(found) = find_dump(p.data, p.orig_len) {
            let payload = p.data.get(found.payload.clone()).unwrap_or(&[]);
            if claims(payload, found.payload_len, &self.layout) {
                self.summary.dump_frames += 1;
                self.dump_frame(p, &found, payload, out);
                self.prune(p.num);
                return;
            }
        }
        if let Some(s) = tcp_segment_in(p.data) {
            if self.tcp(p, &s, out) {
                return;
            }
        }
        self.keep(out);
    }

    /// Writes the input packet as it is, unless only the SMC connections are wanted.
    fn keep(&self, out: &mut Vec<Emit>) {
        if !self.only_smc {
            out.push(Emit::Original);
        }
    }

    /// A TCP segment: an SMC connection's own (kept until its data starts, replaced after), or none of ours
    /// (false).
    fn tcp(&mut self, p: &Input, s: &Segment, out: &mut Vec<Emit>) -> bool {
        let key = s.flow.conn();
        let syn = s.flags & tcp_flags::SYN != 0 && s.flags & tcp_flags::ACK == 0;
        if let Some(msg) = clc::parse(s.payload) {
            self.handshakes.observe(p.num, s.flow, &msg);
        }
        if syn && smc_syn(p.data).is_some() {
            // A new connection on these addresses and ports: whatever was converted of an older one is over.
            if let Some(c) = self.conns.remove(&key) {
                self.end_copies(key, c);
            }
            self.real.insert(key, RealTcp::default());
        }
        // After its SMC data started, the connection's own segments (its TCP close) are replaced by the converted
        // ones.
        if self.conns.contains_key(&key) {
            self.summary.replaced += 1;
            return true;
        }
        let Some(real) = self.real.get_mut(&key) else { return false };
        real.segment(s);
        if self.only_smc {
            let made = Made {
                link: p.link,
                frame: p.data.to_vec(),
                orig_len: p.orig_len,
                ts: p.ts,
                interface: p.interface,
                comment: None,
            };
            real.held.push(made);
        } else {
            out.push(Emit::Original);
        }
        true
    }

    fn dump_frame(&mut self, p: &Input, found: &FoundDump, payload: &[u8], out: &mut Vec<Emit>) {
        let Ok(frame) = DumpFrame::parse(payload, found.payload_len, &self.layout) else {
            // A dump frame the layout does not fit (or a broken one): kept as it is, for smcdump to show.
            self.keep(out);
            return;
        };
        let flow = found.flow;
        let key = flow.conn();
        let hs = self.handshakes.for_direction(flow);
        let place = |copies: &mut Copies| copies.place(p.num, flow, found.device, &frame, payload, hs.as_ref());
        let mut placed = place(&mut self.copies);
        if self.conns.get(&key).is_some_and(|c| c.ended_at.is_some()) && !placed.repeat {
            // Its 4-tuple again after the connection ended, in a frame that repeats nothing: a new connection.
            if let Some(c) = self.conns.remove(&key) {
                self.end_copies(key, c);
            }
            placed = place(&mut self.copies);
        }
        let Some(part) = stream_part(&frame) else {
            // A dump frame with nothing for a stream (a truncated one, an unknown type): kept as it is.
            self.keep(out);
            return;
        };
        if !self.conns.contains_key(&key) {
            self.open(p, flow, out);
        }
        let made = |frame: Vec<u8>| {
            let comment = Some(format!("smcdump2tcp: from dump frame {}", p.num));
            Emit::Made(Made { link: p.link, orig_len: frame.len(), frame, ts: p.ts, interface: p.interface, comment })
        };
        let Some(conn) = self.conns.get_mut(&key) else { return };
        let i = conn.tcp.side_of(&flow.src);
        if let Some((at, len)) = placed.hole {
            self.summary.holes += 1;
            self.summary.missing += len;
            conn.tcp.skip_to(i, at + len);
        }
        if placed.repeat && placed.new.1 == 0 {
            self.summary.copies += 1;
            return;
        }
        match part {
            StreamPart::Data(span) => {
                let (from, n) = (placed.new.0 as usize, placed.new.1 as usize);
                let bytes = payload.get(span.off + from..span.off + from + n).unwrap_or(&[]);
                let pos = placed.start.unwrap_or(0) + from as u64;
                if !bytes.is_empty() {
                    self.summary.bytes[i] += bytes.len() as u64;
                    out.push(made(conn.tcp.data(p.link, i, pos, bytes)));
                }
            }
            StreamPart::Cdc(closing) => {
                let Payload::Cdc { cdc, .. } = frame.payload else { return };
                // The consumer cursor says how far this side took the other side's data.
                if let Some((_, cons)) = cdc.complete_cursors() {
                    let other = Flow::new(flow.dst, flow.src);
                    if let Some(pos) = consumed(&self.copies, &self.handshakes, other, cons, &conn.tcp, i) {
                        conn.tcp.acknowledge(i, pos);
                    }
                }
                let state = cdc.conn_state().map_or(0, |s| s.value.0);
                if closing.aborted {
                    out.push(made(conn.tcp.rst(p.link, i)));
                } else if closing.closed || state & ConnState::PEER_DONE_WRITING != 0 {
                    // A FIN carries the acknowledgement too; a second closing CDC may still move it.
                    match conn.tcp.fin(p.link, i) {
                        Some(fin) => out.push(made(fin)),
                        None => out.extend(conn.tcp.ack(p.link, i).map(made)),
                    }
                } else if placed.hole.is_some() {
                    // The cursor moved past bytes the dump does not hold: a segment past them marks the hole.
                    out.push(made(conn.tcp.pure_ack(p.link, i)));
                } else {
                    out.extend(conn.tcp.ack(p.link, i).map(made));
                }
                conn.closed[i] |= closing.closed;
                let ended = closing.aborted || conn.closed == [true; 2];
                if ended && conn.ended_at.is_none() {
                    conn.ended_at = Some(p.num);
                    self.ended.push_back((p.num, key));
                }
            }
        }
    }

    /// Opens the TCP connection of the SMC connection whose first frame travels in `flow`: continuing its own
    /// TCP segments when the capture holds them, else after a synthesized handshake.
    fn open(&mut self, p: &Input, flow: Flow, out: &mut Vec<Emit>) {
        let key = flow.conn();
        let real = self.real.remove(&key).unwrap_or_default();
        // The client: the SYN's sender; else the endpoint of the higher port (servers listen on the lower one).
        let client = real.client.unwrap_or(if flow.src.port > flow.dst.port { flow.src } else { flow.dst });
        let server = if client == flow.src { flow.dst } else { flow.src };
        let ring = |from: Endpoint, to: Endpoint| self.handshakes.for_direction(Flow::new(from, to))?.ring_size;
        let (rc, rs) = (real.side(&client).copied(), real.side(&server).copied());
        // Window scaling applies only when both SYNs announced it.
        let scaled = rc.and_then(|s| s.3).is_some() && rs.and_then(|s| s.3).is_some();
        let starts = match (rc, rs) {
            (Some(c), Some(s)) => {
                out.extend(real.held.into_iter().map(Emit::Made));
                [(c.1, c.2, c.3), (s.1, s.2, s.3)]
            }
            _ => {
                let isn = (isn(&client, &server), isn(&server, &client));
                let comment = "smcdump2tcp: synthesized handshake: the capture holds none for this SMC connection";
                for frame in conn::handshake(p.link, &client, &server, isn) {
                    let comment = Some(comment.to_string());
                    let made =
                        Made { link: p.link, orig_len: frame.len(), frame, ts: p.ts, interface: p.interface, comment };
                    out.push(Emit::Made(made));
                }
                self.summary.synthesized += 1;
                let (c, s) = (isn.0.wrapping_add(1), isn.1.wrapping_add(1));
                [(c, Some(s), None), (s, Some(c), None)]
            }
        };
        let start = |endpoint: Endpoint, peer: Endpoint, (base, last_ack, wscale): (u32, Option<u32>, Option<u8>)| {
            let wscale = if scaled { wscale.unwrap_or(0) } else { 0 };
            Start { endpoint, base, wscale, last_ack, rcv_ring: ring(peer, endpoint) }
        };
        let tcp = TcpConn::new(start(client, server, starts[0]), start(server, client, starts[1]));
        self.summary.connections += 1;
        self.conns.insert(key, Conn { tcp, closed: [false; 2], ended_at: None });
    }

    /// Drops the state of connections that ended long enough ago for no copy of them to follow.
    fn prune(&mut self, num: u32) {
        while let Some(&(at, key)) = self.ended.front() {
            if num.saturating_sub(at) < LINGER {
                break;
            }
            self.ended.pop_front();
            if let Some(c) = self.conns.get(&key).filter(|c| c.ended_at == Some(at)).cloned() {
                self.conns.remove(&key);
                self.end_copies(key, c);
            }
        }
    }

    /// Forgets the copies and handshake of connection `key` (its state `c` is gone).
    fn end_copies(&mut self, key: ConnKey, _c: Conn) {
        let flow = Flow::new(key.lo, key.hi);
        self.copies.forget(flow);
        self.handshakes.forget(flow);
    }
}

/// How far side `i` of `tcp` took the other side's stream (which travels in `other`), by its consumer cursor
/// `cons`: where the other side's producer cursor pointed when it was at `cons`, else, counted from the
/// connection's start in a ring of known size, the position of `cons` nearest below what the other side sent (the
/// wrap counter has 16 bits).
fn consumed(
    copies: &Copies,
    handshakes: &Handshakes,
    other: Flow,
    cons: (u16, u32),
    tcp: &TcpConn,
    i: usize,
) -> Option<u64> {
    if let Some(pos) = copies.position_of(other, cons) {
        return Some(pos);
    }
    let from_start = handshakes.for_direction(other).is_some_and(|h| h.accept_frame.is_some());
    let ring = u64::from(tcp.rcv_ring(i).filter(|&r| r > 0 && from_start)?);
    let sent = tcp.high(1 - i);
    let lap = ring << 16;
    let pos = u64::from(cons.0) * ring + u64::from(cons.1);
    Some(pos + sent.saturating_sub(pos) / lap * lap)
}

/// A synthesized initial sequence number for `from`'s side of its connection with `to`: a hash of the two
/// endpoints, so that a conversion gives the same numbers every time.
fn isn(from: &Endpoint, to: &Endpoint) -> u32 {
    let bytes = [&from.addr[..], &from.port.to_be_bytes(), &to.addr, &to.port.to_be_bytes()].concat();
    let h = bytes.iter().fold(0x811c_9dc5u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    // Away from 0 and from the wrap, which some tools treat specially.
    h | 0x0100_0000
}
