//! The SMC connections of a capture as their CLC handshakes describe them (pure Rust): which frame carried the
//! Accept and the Confirm, the receive buffer each side announced, and how a declined handshake ended.
//!
//! Data a side sends lands in the peer's buffer (spec section 7): client -> server data in the server's buffer
//! (from the Accept, which the server sends), server -> client data in the client's (from the Confirm). So the
//! ring of a direction src -> dst is the buffer announced by the CLC message that travelled dst -> src.
//! Memory grows with connections, not frames.

use super::hash::FastMap;
use crate::wire::clc::{ClcMessage, Path};
use crate::wire::Flow;

/// The buffer one side announced in its Accept or Confirm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Announced {
    /// The frame of the Accept or Confirm.
    pub frame: u32,
    pub confirm: bool,
    pub path: Path,
    pub version: u8,
    /// The data ring the peer writes into (SMC-D: the DMB element less 32 bytes), when captured.
    pub ring_size: Option<u32>,
    pub alert_token: Option<u32>,
}

/// What the handshake tells about one direction of a connection's dump frames.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Handshake {
    pub accept_frame: Option<u32>,
    pub confirm_frame: Option<u32>,
    /// The ring this direction's data is written into, from the receiver's Accept or Confirm.
    pub ring_size: Option<u32>,
}

/// The CLC handshakes of one capture file, by the direction their messages travelled.
#[derive(Debug, Default)]
pub struct Handshakes {
    announced: FastMap<Flow, Announced>,
    /// Declines: the frame and diagnosis code, by the direction the Decline travelled.
    declined: FastMap<Flow, (u32, Option<u32>)>,
    /// The last frame observed: frames are observed once, in capture order (later passes are ignored).
    last: u32,
    /// Wireshark's TCP stream (`tcp.stream`) each SMC SYN opened, by the SYN's direction, until its Proposal
    /// takes it; then by the Proposal's direction, for its Accept and Confirm; then by their frames.
    syn_streams: FastMap<Flow, u32>,
    proposal_streams: FastMap<Flow, u32>,
    clc_streams: FastMap<u32, u32>,
    /// The last SYN recorded (capture order, once each).
    last_syn: u32,
}

impl Handshakes {
    pub fn clear(&mut self) {
        *self = Handshakes::default();
    }

    /// Forgets what the handshake of the connection of `flow` announced (its state is no longer needed).
    pub fn forget(&mut self, flow: Flow) {
        for dir in [flow, flow.reverse()] {
            self.announced.remove(&dir);
            self.declined.remove(&dir);
        }
    }

    /// Records CLC message `msg` of frame `num`, sent in direction `dir`. A later handshake on the same 4-tuple
    /// (a reused port pair) replaces the earlier one.
    pub fn observe(&mut self, num: u32, dir: Flow, msg: &ClcMessage) {
        if num <= self.last {
            return;
        }
        self.last = num;
        match *msg {
            ClcMessage::Proposal { .. } => {
                self.announced.remove(&dir);
                self.announced.remove(&dir.reverse());
                self.declined.remove(&dir.reverse());
                self.proposal_streams.remove(&dir.reverse());
                match self.syn_streams.remove(&dir).or_else(|| self.syn_streams.remove(&dir.reverse())) {
                    Some(stream) => self.proposal_streams.insert(dir, stream),
                    None => self.proposal_streams.remove(&dir),
                };
            }
            ClcMessage::AcceptConfirm { confirm, version, path, buffer } => {
                let stream = self.proposal_streams.get(&dir).or_else(|| self.proposal_streams.get(&dir.reverse()));
                if let Some(&stream) = stream {
                    self.clc_streams.insert(num, stream);
                }
                let a = Announced {
                    frame: num,
                    confirm,
                    path,
                    version,
                    ring_size: buffer.ring_size(path),
                    alert_token: buffer.alert_token,
                };
                self.announced.insert(dir, a);
            }
            ClcMessage::Decline { diagnosis, .. } => {
                self.declined.insert(dir, (num, diagnosis));
            }
            ClcMessage::Other { .. } => {}
        }
    }

    /// The handshake as seen from dump direction `dir` (src -> dst), if one is in the capture.
    pub fn for_direction(&self, dir: Flow) -> Option<Handshake> {
        let receiver = self.announced.get(&dir.reverse());
        let sender = self.announced.get(&dir);
        if receiver.is_none() && sender.is_none() {
            return None;
        }
        let frame = |confirm: bool| [receiver, sender].into_iter().flatten().find(|a| a.confirm == confirm);
        Some(Handshake {
            accept_frame: frame(false).map(|a| a.frame),
            confirm_frame: frame(true).map(|a| a.frame),
            ring_size: receiver.and_then(|a| a.ring_size),
        })
    }

    /// Records that the SMC SYN (or SYN-ACK) of frame `num`, sent in direction `dir`, is in Wireshark's TCP stream
    /// `stream` (once each, in capture order). A connection's first SYN counts; the next one after its Proposal
    /// (a reused port pair) opens a new stream.
    pub fn syn(&mut self, num: u32, dir: Flow, stream: u32) {
        if num <= self.last_syn {
            return;
        }
        self.last_syn = num;
        if !self.syn_streams.contains_key(&dir) && !self.syn_streams.contains_key(&dir.reverse()) {
            self.syn_streams.insert(dir, stream);
        }
    }

    /// The TCP stream of the handshake whose Accept or Confirm is frame `clc_frame`, when its SYN is in the capture.
    pub fn tcp_stream(&self, clc_frame: u32) -> Option<u32> {
        self.clc_streams.get(&clc_frame).copied()
    }

    /// The Decline of the connection `dir` belongs to (either direction): its frame and diagnosis code.
    pub fn declined(&self, dir: Flow) -> Option<(u32, Option<u32>)> {
        self.declined.get(&dir).or_else(|| self.declined.get(&dir.reverse())).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::clc::Buffer;

    use crate::wire::Endpoint;

    const C: [u8; 4] = [10, 0, 0, 1];
    const S: [u8; 4] = [10, 0, 0, 2];

    fn flow(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> Flow {
        Flow::new(Endpoint::new(src, sport), Endpoint::new(dst, dport))
    }

    fn ac(confirm: bool, code: u8, path: Path) -> ClcMessage {
        ClcMessage::AcceptConfirm {
            confirm,
            version: 1,
            path,
            buffer: Buffer { size_code: Some(code), alert_token: None },
        }
    }

    #[test]
    fn each_direction_gets_the_receivers_ring() {
        let c2s = flow(C, S, 40000, 6379);
        let s2c = flow(S, C, 6379, 40000);
        let mut h = Handshakes::default();
        h.observe(4, c2s, &ClcMessage::Proposal { version: 1 });
        h.observe(5, s2c, &ac(false, 2, Path::SmcD)); // server: 64 KiB DMBE
        h.observe(6, c2s, &ac(true, 0, Path::SmcD)); // client: 16 KiB DMBE
        let want = |ring| Some(Handshake { accept_frame: Some(5), confirm_frame: Some(6), ring_size: Some(ring) });
        assert_eq!(h.for_direction(c2s), want(65536 - 32));
        assert_eq!(h.for_direction(s2c), want(16384 - 32));
        assert_eq!(h.for_direction(flow(C, S, 1, 2)), None);
        assert_eq!(h.declined(c2s), None);
    }

    #[test]
    fn the_tcp_stream_of_a_handshake_is_its_syns() {
        let c2s = flow(C, S, 40000, 6379);
        let mut h = Handshakes::default();
        h.syn(1, c2s, 7);
        h.syn(2, c2s.reverse(), 9); // the SYN-ACK: the same stream, already known
        h.syn(2, c2s, 8); // a later pass changes nothing
        h.observe(4, c2s, &ClcMessage::Proposal { version: 1 });
        h.observe(5, c2s.reverse(), &ac(false, 0, Path::SmcR));
        h.observe(6, c2s, &ac(true, 0, Path::SmcR));
        assert_eq!((h.tcp_stream(5), h.tcp_stream(6), h.tcp_stream(4)), (Some(7), Some(7), None));
        // The port pair reused: its new SYN opens a new stream.
        h.syn(10, c2s, 12);
        h.observe(11, c2s, &ClcMessage::Proposal { version: 1 });
        h.observe(12, c2s.reverse(), &ac(false, 0, Path::SmcR));
        assert_eq!((h.tcp_stream(5), h.tcp_stream(12)), (Some(7), Some(12)));
        // No SYN in the capture: no stream.
        let other = flow(C, S, 40001, 6379);
        h.observe(20, other, &ClcMessage::Proposal { version: 1 });
        h.observe(21, other.reverse(), &ac(false, 0, Path::SmcR));
        assert_eq!(h.tcp_stream(21), None);
    }

    #[test]
    fn a_decline_is_remembered_for_both_directions() {
        let c2s = flow(C, S, 40000, 80);
        let mut h = Handshakes::default();
        h.observe(4, c2s, &ClcMessage::Proposal { version: 1 });
        h.observe(5, c2s.reverse(), &ClcMessage::Decline { version: 1, diagnosis: Some(0x0303_0000) });
        assert_eq!(h.declined(c2s), Some((5, Some(0x0303_0000))));
        assert_eq!(h.declined(c2s.reverse()), Some((5, Some(0x0303_0000))));
        // Visiting a frame again (a second pass) changes nothing.
        h.observe(4, c2s, &ClcMessage::Proposal { version: 1 });
        assert_eq!(h.declined(c2s), Some((5, Some(0x0303_0000))));
        // A new handshake on the same 4-tuple starts afresh.
        h.observe(9, c2s, &ClcMessage::Proposal { version: 1 });
        assert_eq!(h.declined(c2s), None);
    }
}
