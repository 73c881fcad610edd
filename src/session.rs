//! What smcdump remembers about one capture file: the header layout it learned and the connection analysis, and
//! how the two depend on each other.
//!
//! Both are computed on Wireshark's first pass, in capture order, and read back on later visits. The analysis of
//! a frame depends on how the frames before it were parsed, so when the layout is learned (at the first CDC that
//! identifies itself, usually among a capture's first frames), the frames analysed before it under the built-in
//! layout are analysed again under the learned one: their payloads are kept until then, up to a bound.

use crate::fastmap::{FastMap, FastSet};

use crate::analysis::{Analyzer, Direction, FrameAnalysis};
use crate::conn_table::{ConnTable, FrameCount, FrameFacts};
use crate::connections::Handshakes;
use crate::streams::{Endpoint, FrameStream, Streams};
use crate::wire::clc::ClcMessage;
use crate::wire::envelope::Flow;
use crate::wire::handshake::SmcSyn;
use crate::wire::learn::{Learned, Learner};
use crate::wire::{DumpFrame, Layout};

/// The most payload bytes, and frames, kept for analysing again once the layout is learned. A capture whose first
/// CDC comes later than that is analysed under the built-in layout up to it.
const EARLY_BYTES: usize = 1 << 20;
const EARLY_FRAMES: usize = 4096;

/// A frame analysed before the layout was learned.
#[derive(Debug)]
struct Early {
    num: u32,
    dir: Direction,
    payload: Vec<u8>,
    reported: usize,
}

/// The state of one capture file.
#[derive(Debug, Default)]
pub struct Session {
    learner: Learner,
    analyzer: Analyzer,
    handshakes: Handshakes,
    early: Vec<Early>,
    early_bytes: usize,
    /// The connections' byte streams.
    pub streams: Streams,
    /// The server port of each connection whose handshake the capture holds, by its endpoints in [`conn_key`]
    /// order.
    servers: FastMap<(Endpoint, Endpoint), u16>,
    /// The flows handed to smcdump (once each: the conversation keeps its dissector).
    marked: FastSet<(Endpoint, Endpoint)>,
    /// The connections at a glance (`tshark -z smcdump,conn`).
    pub conn_table: ConnTable,
    /// What the frame being dissected counts for in the connection table, for the statistics listeners that run
    /// when its dissection is over (every pass: a listener's display filter chooses the frames it counts).
    pub tapped: Option<(u32, Tapped)>,
}

/// What one frame counts for in a listener's connection table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tapped {
    Frame(FrameFacts),
    Clc { src: Endpoint, dst: Endpoint, msg: ClcMessage },
}

/// A connection's two endpoints, in a fixed order.
fn conn_key(a: Endpoint, b: Endpoint) -> (Endpoint, Endpoint) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

impl Session {
    /// Forgets everything: a new capture file starts.
    pub fn clear(&mut self) {
        *self = Session::default();
    }

    /// The layout frames are parsed with: `base` (from the preferences), with what the capture taught put in when
    /// `learn` is on.
    pub fn layout(&self, base: &Layout, learn: bool) -> Layout {
        if learn {
            self.learner.layout(base)
        } else {
            *base
        }
    }

    /// What was learned, when `learn` is on.
    pub fn learned(&self, learn: bool) -> Option<Learned> {
        self.learner.learned().filter(|_| learn)
    }

    /// Observes frame `num`'s UDP payload (`reported` bytes on the wire) for the layout, once per frame, in capture
    /// order. When it teaches the layout, the frames analysed so far are analysed again under it.
    pub fn observe(&mut self, num: u32, payload: &[u8], reported: usize, base: &Layout, learn: bool) {
        if !learn || !self.learner.observe(num, payload, reported) {
            return;
        }
        let layout = self.learner.layout(base);
        self.analyzer.clear();
        for e in std::mem::take(&mut self.early) {
            if let Ok(frame) = DumpFrame::parse(&e.payload, e.reported, &layout) {
                self.analyzer.analyze(e.num, e.dir, &frame, self.handshakes.for_direction(e.dir));
            }
        }
        self.early_bytes = 0;
    }

    /// Whether `flow` is handed to smcdump for the first time in this capture file (and remembers it).
    pub fn first_mark(&mut self, flow: &Flow) -> bool {
        self.marked.insert(conn_key((flow.src, flow.sport), (flow.dst, flow.dport)))
    }

    /// Records the server of the connection a SYN (or SYN-ACK) with SMC's option opens, in frame `num`, and the
    /// TCP stream Wireshark gave it (`tcp.stream`).
    pub fn syn(&mut self, num: u32, syn: &SmcSyn, tcp_stream: Option<u32>) {
        let f = syn.flow;
        self.servers.insert(conn_key((f.src, f.sport), (f.dst, f.dport)), syn.server_port());
        if let Some(stream) = tcp_stream {
            self.handshakes.syn(num, Direction::new(&f.src, &f.dst, f.sport, f.dport), stream);
        }
    }

    /// The server port of the connection between `a` and `b`, when its handshake was seen.
    pub fn server_port(&self, a: Endpoint, b: Endpoint) -> Option<u16> {
        self.servers.get(&conn_key(a, b)).copied()
    }

    /// Whether frame `num` was analysed already.
    pub fn analysed(&self, num: u32) -> bool {
        self.analyzer.get(num).is_some()
    }

    /// The analysis of frame `num` in direction `dir`, whose UDP payload `payload` parsed as `frame`: computed on
    /// the first visit, read back afterwards, with the TCP stream of the connection's handshake.
    pub fn analyze(
        &mut self,
        num: u32,
        dir: Direction,
        payload: &[u8],
        frame: &DumpFrame,
        learn: bool,
    ) -> FrameAnalysis {
        let mut a = self.analyze_frame(num, dir, payload, frame, learn);
        a.clc_tcp_stream = a.clc_accept.or(a.clc_confirm).and_then(|f| self.handshakes.tcp_stream(f));
        a
    }

    fn analyze_frame(
        &mut self,
        num: u32,
        dir: Direction,
        payload: &[u8],
        frame: &DumpFrame,
        learn: bool,
    ) -> FrameAnalysis {
        if let Some(a) = self.analyzer.get(num) {
            return a;
        }
        if learn
            && self.learner.learned().is_none()
            && self.early.len() < EARLY_FRAMES
            && self.early_bytes + payload.len() <= EARLY_BYTES
        {
            self.early_bytes += payload.len();
            self.early.push(Early { num, dir, payload: payload.to_vec(), reported: frame.reported });
        }
        self.analyzer.analyze(num, dir, frame, self.handshakes.for_direction(dir))
    }

    /// Observes the CLC message `msg` that frame `num` carries in TCP direction `dir` (in capture order).
    pub fn observe_clc(&mut self, num: u32, dir: Direction, msg: &ClcMessage) {
        self.handshakes.observe(num, dir, msg);
    }

    /// Counts dump frame `num` from `src` to `dst`, whose stream facts are `fs` and whose direction writes into a
    /// ring of `ring` bytes (when known), in its connection's row of the table (first visit, capture order), and
    /// keeps it as what the frame counts for. The caller has both in hand from the frame's dissection.
    pub fn count_frame(
        &mut self,
        num: u32,
        (src, dst): (Endpoint, Endpoint),
        fs: &FrameStream,
        ring: Option<u32>,
        count: FrameCount,
    ) {
        let facts = FrameFacts {
            stream: fs.stream,
            dir: fs.dir,
            src,
            dst,
            mode: count.mode,
            smc_ver: count.smc_ver,
            kind: count.kind,
            ring,
        };
        self.conn_table.frame(num, &facts);
        self.tapped = Some((num, Tapped::Frame(facts)));
    }

    /// Records CLC message `msg` of frame `num` from `src` to `dst` in the connection table (first visit) and as
    /// what the frame counts for.
    pub fn count_clc(&mut self, num: u32, src: Endpoint, dst: Endpoint, msg: &ClcMessage) {
        self.conn_table.clc(num, src, dst, msg);
        self.tapped = Some((num, Tapped::Clc { src, dst, msg: *msg }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::emit::{dump_frame, smcr_cdc, HeaderSpec, SmcrCdcSpec};

    const A: [u8; 4] = [10, 0, 0, 1];
    const B: [u8; 4] = [10, 0, 0, 2];

    /// Frames analysed before the layout was learned are analysed again under it: the data frame that came first
    /// counts towards the CDC that announces it.
    #[test]
    fn early_frames_are_analysed_again_under_the_learned_layout() {
        let real = Layout { header_len: 12, type_raw: 0, type_cdc: 1, ..Layout::default() };
        let base = Layout::default();
        let dir = Direction::new(&A, &B, 1, 2);
        let cdc = |seqno, prod| {
            dump_frame(&real, &HeaderSpec::new(1, 1, 1), &smcr_cdc(&SmcrCdcSpec::new(seqno, 9, (0, prod), (0, 0))))
        };
        let frames = [cdc(1, 0), dump_frame(&real, &HeaderSpec::new(1, 1, 0), &[7; 100]), cdc(2, 100)];
        let mut s = Session::default();
        // Frame 1: under the built-in layout it is nothing (type 1 = raw data, wrongly); it teaches the layout.
        let mut results = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            let num = i as u32 + 1;
            s.observe(num, f, f.len(), &base, true);
            let layout = s.layout(&base, true);
            let parsed = DumpFrame::parse(f, f.len(), &layout).unwrap();
            results.push(s.analyze(num, dir, f, &parsed, true));
        }
        assert_eq!(s.layout(&base, true), real);
        assert_eq!(s.learned(true).map(|l| l.frame), Some(1));
        assert_eq!(
            (results[2].prev_cdc, results[2].data_bytes, results[2].data_mismatch()),
            (Some(1), Some(100), None)
        );
        assert_eq!(s.learned(false), None);
        assert_eq!(s.layout(&base, false), base);
    }

    #[test]
    fn frames_seen_before_the_learning_frame_are_replayed() {
        let real = Layout { header_len: 12, type_raw: 0, type_cdc: 1, ..Layout::default() };
        let base = Layout::default();
        let dir = Direction::new(&A, &B, 1, 2);
        let data = dump_frame(&real, &HeaderSpec::new(1, 1, 0), &[7; 100]);
        let cdc = dump_frame(&real, &HeaderSpec::new(1, 1, 1), &smcr_cdc(&SmcrCdcSpec::new(1, 9, (0, 100), (0, 0))));
        let cdc2 = dump_frame(&real, &HeaderSpec::new(1, 1, 1), &smcr_cdc(&SmcrCdcSpec::new(2, 9, (0, 150), (0, 0))));
        let mut s = Session::default();
        // Frame 1, data, analysed under the built-in layout (as an unknown type).
        s.observe(1, &data, data.len(), &base, true);
        let parsed = DumpFrame::parse(&data, data.len(), &s.layout(&base, true)).unwrap();
        s.analyze(1, dir, &data, &parsed, true);
        // Frame 2 teaches the layout; frame 1 is analysed again, so frame 3 sees its own 50 missing bytes only.
        for (num, f) in [(2, &cdc), (3, &cdc2)] {
            s.observe(num, f, f.len(), &base, true);
            let parsed = DumpFrame::parse(f, f.len(), &s.layout(&base, true)).unwrap();
            s.analyze(num, dir, f, &parsed, true);
        }
        assert!(s.analysed(1));
        let a = s.analyzer.get(3).unwrap();
        assert_eq!((a.prev_cdc, a.data_bytes, a.prod_advance), (Some(2), Some(0), Some(50)));
    }
}
