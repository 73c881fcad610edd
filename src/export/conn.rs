//! One SMC connection rewritten as a TCP connection: each side's sequence space, what it has acknowledged of the
//! other's stream, the window its receive ring leaves, its FIN; and the segments that carry them, as whole frames.
//!
//! Sequence numbers: stream position `p` of a side's data is TCP sequence number `base + p`, where `base` follows
//! the TCP connection's own segments (the CLC handshake's bytes) when the capture holds them, and a synthesized
//! SYN's number otherwise. A FIN takes the number after the side's furthest byte. Acknowledgements follow the
//! consumer cursors of the CDCs the other side sends, never beyond what was put on the wire.

use super::link;
use crate::wire::envelope::Link;
use crate::wire::net::{ipv4_datagram, tcp_flags, tcp_segment, Ipv4Repr, TcpRepr, IPPROTO_TCP};
use crate::wire::Endpoint;

/// The window field of a side whose receive ring's size is unknown.
const OPEN_WINDOW: u16 = 65535;

/// How one side's TCP connection starts: its endpoint, the sequence number of its first stream byte, the window
/// scale it announced (both SYNs must carry one for it to apply), the ack number of its last real segment, and the
/// ring its peer writes into (its receive buffer), when known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Start {
    pub endpoint: Endpoint,
    pub base: u32,
    pub wscale: u8,
    pub last_ack: Option<u32>,
    pub rcv_ring: Option<u32>,
}

/// One side of the connection.
#[derive(Clone, Debug)]
struct Side {
    start: Start,
    /// One past the furthest stream position this side sent (holes included).
    high: u64,
    /// How much of the other side's stream this side acknowledged.
    acked: u64,
    last_ack: Option<u32>,
    /// The FIN was sent.
    fin: bool,
}

/// The TCP connection of one SMC connection.
#[derive(Clone, Debug)]
pub struct TcpConn {
    /// The client (the SYN's sender) first.
    sides: [Side; 2],
    /// A RST was sent, or both FINs.
    pub ended: bool,
}

impl TcpConn {
    pub fn new(client: Start, server: Start) -> Self {
        let side = |start: Start| Side { start, high: 0, acked: 0, last_ack: start.last_ack, fin: false };
        TcpConn { sides: [side(client), side(server)], ended: false }
    }

    /// Which side `e` is: 0 the client, 1 the server.
    pub fn side_of(&self, e: &Endpoint) -> usize {
        usize::from(self.sides[0].start.endpoint != *e)
    }

    /// How far side `i` has sent (holes included).
    pub fn high(&self, i: usize) -> u64 {
        self.sides[i].high
    }

    /// Whether side `i` sent its FIN.
    pub fn fin_sent(&self, i: usize) -> bool {
        self.sides[i].fin
    }

    /// The ring side `i`'s peer writes into: side `i`'s receive buffer.
    pub fn rcv_ring(&self, i: usize) -> Option<u32> {
        self.sides[i].start.rcv_ring
    }

    /// The sequence number after side `i`'s furthest byte (and its FIN).
    fn next_seq(&self, i: usize) -> u32 {
        let s = &self.sides[i];
        s.start.base.wrapping_add(s.high as u32).wrapping_add(u32::from(s.fin))
    }

    /// The ack number side `i` sends: the other side's stream up to what `i` acknowledged, and its FIN once all
    /// of its data is.
    fn ack_number(&self, i: usize) -> u32 {
        let (me, other) = (&self.sides[i], &self.sides[1 - i]);
        let fin = other.fin && me.acked >= other.high;
        other.start.base.wrapping_add(me.acked as u32).wrapping_add(u32::from(fin))
    }

    /// The window side `i` announces: the room left in its receive ring (the other side's data not yet
    /// acknowledged is in it), scaled; the largest unscaled window when the ring's size is unknown.
    fn window(&self, i: usize) -> u16 {
        let (me, other) = (&self.sides[i], &self.sides[1 - i]);
        match me.start.rcv_ring {
            Some(ring) => {
                let waiting = other.high.saturating_sub(me.acked);
                let free = u64::from(ring).saturating_sub(waiting) >> me.start.wscale;
                u16::try_from(free).unwrap_or(u16::MAX)
            }
            None => OPEN_WINDOW,
        }
    }

    /// Side `i` has acknowledged the other side's stream up to `pos` (never beyond what it sent, never back).
    pub fn acknowledge(&mut self, i: usize, pos: u64) {
        let limit = self.sides[1 - i].high;
        let s = &mut self.sides[i];
        s.acked = s.acked.max(pos.min(limit));
    }

    /// A hole of side `i`'s stream up to `end`: later numbers lie past it.
    pub fn skip_to(&mut self, i: usize, end: u64) {
        let s = &mut self.sides[i];
        s.high = s.high.max(end);
    }

    /// The segment of side `i` carrying `bytes` at stream position `pos`, in a frame of link type `link`.
    pub fn data(&mut self, link: Link, i: usize, pos: u64, bytes: &[u8]) -> Vec<u8> {
        let seq = self.sides[i].start.base.wrapping_add(pos as u32);
        let s = &mut self.sides[i];
        s.high = s.high.max(pos + bytes.len() as u64);
        self.segment(link, i, seq, tcp_flags::ACK | tcp_flags::PSH, bytes)
    }

    /// A pure ACK of side `i`, when its ack number changed since its last segment (another would be a duplicate
    /// ACK).
    pub fn ack(&mut self, link: Link, i: usize) -> Option<Vec<u8>> {
        (Some(self.ack_number(i)) != self.sides[i].last_ack).then(|| self.pure_ack(link, i))
    }

    /// A pure ACK of side `i` at its next sequence number, whatever it acknowledges: after a hole of its stream,
    /// the segment whose number lies past the hole, so that the hole shows where the dump showed it.
    pub fn pure_ack(&mut self, link: Link, i: usize) -> Vec<u8> {
        let seq = self.next_seq(i);
        self.segment(link, i, seq, tcp_flags::ACK, &[])
    }

    /// Side `i`'s FIN (once).
    pub fn fin(&mut self, link: Link, i: usize) -> Option<Vec<u8>> {
        if self.sides[i].fin {
            return None;
        }
        let seq = self.next_seq(i);
        self.sides[i].fin = true;
        self.ended = self.sides.iter().all(|s| s.fin);
        Some(self.segment(link, i, seq, tcp_flags::FIN | tcp_flags::ACK, &[]))
    }

    /// Side `i`'s RST: the connection ends.
    pub fn rst(&mut self, link: Link, i: usize) -> Vec<u8> {
        let seq = self.next_seq(i);
        self.ended = true;
        self.segment(link, i, seq, tcp_flags::RST | tcp_flags::ACK, &[])
    }

    /// A segment of side `i` with sequence number `seq`, `flags` and `payload`, acknowledging what side `i` has.
    fn segment(&mut self, link: Link, i: usize, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let ack = self.ack_number(i);
        let window = if flags & tcp_flags::RST != 0 { 0 } else { self.window(i) };
        self.sides[i].last_ack = Some(ack);
        let (src, dst) = (self.sides[i].start.endpoint, self.sides[1 - i].start.endpoint);
        let tcp = TcpRepr { sport: src.port, dport: dst.port, seq, ack, flags, window, ..TcpRepr::default() };
        frame(link, &src, &dst, &tcp, &[], payload)
    }
}

/// A whole frame of link type `link` from `src` to `dst`: `tcp` (its data offset and checksum computed) with
/// `options` and `payload`, in IPv4 with its checksum.
pub fn frame(link: Link, src: &Endpoint, dst: &Endpoint, tcp: &TcpRepr, options: &[u8], payload: &[u8]) -> Vec<u8> {
    let segment = tcp_segment(src.addr, dst.addr, tcp, options, payload);
    let ip = ipv4_datagram(&Ipv4Repr::new(src.addr, dst.addr, IPPROTO_TCP), &segment, true);
    let mut f = link::header(link, src, dst);
    f.extend_from_slice(&ip);
    f
}

/// The three segments of a TCP handshake between `client` and `server` with initial sequence numbers `isn`
/// (client's, server's), no options, as frames of link type `link`.
pub fn handshake(link: Link, client: &Endpoint, server: &Endpoint, isn: (u32, u32)) -> [Vec<u8>; 3] {
    let seg = |src: &Endpoint, dst: &Endpoint, seq, ack, flags| {
        let tcp =
            TcpRepr { sport: src.port, dport: dst.port, seq, ack, flags, window: OPEN_WINDOW, ..TcpRepr::default() };
        frame(link, src, dst, &tcp, &[], &[])
    };
    let (c, s) = isn;
    [
        seg(client, server, c, 0, tcp_flags::SYN),
        seg(server, client, s, c.wrapping_add(1), tcp_flags::SYN | tcp_flags::ACK),
        seg(client, server, c.wrapping_add(1), s.wrapping_add(1), tcp_flags::ACK),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::handshake::tcp_segment_in;

    const C: Endpoint = Endpoint::new([10, 0, 0, 1], 40000);
    const S: Endpoint = Endpoint::new([10, 0, 0, 2], 80);

    fn start(endpoint: Endpoint, base: u32, rcv_ring: Option<u32>) -> Start {
        Start { endpoint, base, wscale: 0, last_ack: None, rcv_ring }
    }

    /// (seq, ack, flags, window, payload length) of a frame.
    fn fields(f: &[u8]) -> (u32, u32, u8, u16, usize) {
        let s = tcp_segment_in(f).unwrap();
        (s.seq, s.ack, s.flags, s.window, s.payload.len())
    }

    #[test]
    fn numbers_follow_stream_positions_acks_and_fins() {
        let mut c = TcpConn::new(start(C, 1000, Some(4096)), start(S, 5000, None));
        let l = Link::Ethernet;
        // The client's window: its ring (4096), less what the server sent and it did not acknowledge (nothing).
        assert_eq!(fields(&c.data(l, 0, 0, b"hello")), (1000, 5000, 0x18, 4096, 5));
        // The server acknowledges 3 of the 5 bytes; its ring's size is unknown: the window is open.
        c.acknowledge(1, 3);
        assert_eq!(fields(&c.ack(l, 1).unwrap()), (5000, 1003, 0x10, 65535, 0));
        assert_eq!(c.ack(l, 1), None, "the same ack again would be a duplicate");
        // Acknowledgements never go beyond what was sent, nor back.
        c.acknowledge(1, 99);
        c.acknowledge(1, 1);
        assert_eq!(fields(&c.ack(l, 1).unwrap()).1, 1005);
        // The server sends 96 bytes the client has not acknowledged yet: the client's window shrinks by them.
        assert_eq!(fields(&c.data(l, 1, 0, &[0; 96])), (5000, 1005, 0x18, 65535, 96));
        assert_eq!(fields(&c.data(l, 0, 5, b"!")), (1005, 5000, 0x18, 4096 - 96, 1));
        // A hole: the next data lies past it.
        c.skip_to(0, 10);
        assert_eq!(fields(&c.data(l, 0, 12, b"x")).0, 1012);
        // FINs take the number after the furthest byte; an ack of everything includes the FIN.
        assert_eq!(fields(&c.fin(l, 0).unwrap()), (1013, 5000, 0x11, 4096 - 96, 0));
        c.acknowledge(1, 13);
        assert_eq!(fields(&c.fin(l, 1).unwrap()), (5096, 1014, 0x11, 65535, 0));
        assert!(c.ended);
        c.acknowledge(0, 96);
        assert_eq!(fields(&c.ack(l, 0).unwrap()), (1014, 5097, 0x10, 4096, 0));
    }

    #[test]
    fn a_synthesized_handshake_checks_out() {
        let [syn, synack, ack] = handshake(Link::Sll2, &C, &S, (7, 9));
        let with = |f: &[u8]| tcp_segment_in(f).map(|s| (s.flow.src, s.seq, s.ack, s.flags));
        assert_eq!(with(&syn), Some((C, 7, 0, 0x02)));
        assert_eq!(with(&synack), Some((S, 9, 8, 0x12)));
        assert_eq!(with(&ack), Some((C, 8, 10, 0x10)));
    }
}
