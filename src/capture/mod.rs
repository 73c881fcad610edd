//! What smcdump decides for each frame and remembers about a capture file: the floor between the wire parsers and
//! the dissection. Pure Rust, no Wireshark: [`Session::frame`] takes one frame as plain values and returns, as
//! plain values, everything the frame shows; the FFI layer only reads Wireshark's arguments into a
//! [`FrameInput`], calls it, and writes the [`FrameOutcome`] back (the tree through `crate::dissect`).
//!
//! One capture file's state, all computed on Wireshark's first pass in capture order and read back on later visits
//! (a second pass, a click in the GUI), so what a frame shows never depends on which frames were looked at before:
//! - the header layout learned from the frames ([`layout`]), and the frames analysed before it was learned, kept
//!   to be analysed again under it;
//! - the connection analysis of each direction ([`analysis`]);
//! - the connections' byte streams, stream positions and the application's reassembly ([`streams`]);
//! - the CLC handshakes: ring sizes, Accept/Confirm frames, declines, TCP streams ([`handshakes`]);
//! - the connection table ([`table`]), and what the current frame counts for in a statistics listener's;
//! - the UDP flows handed to smcdump, and the server port of each handshake seen.
//!
//! Per-frame results are kept as compact records in frame order ([`records`]).

pub mod analysis;
pub mod handshakes;
pub mod hash;
pub mod layout;
pub mod records;
pub mod streams;
pub mod table;
#[cfg(test)]
pub(crate) mod testing;

use analysis::{Analyzer, FrameAnalysis};
use handshakes::Handshakes;
use hash::{FastMap, FastSet};
use layout::{Learned, Learner};
use streams::{Closing, Dissect, FrameStream, Handoff, Outcome, Streams};
use table::{CaptureTable, FrameCount, FrameFacts};

use crate::wire::cdc::ConnState;
use crate::wire::clc::ClcMessage;
use crate::wire::frame::FrameError;
use crate::wire::handshake::SmcSyn;
use crate::wire::header::claims;
use crate::wire::learn::{identify, Evidence};
use crate::wire::{ConnKey, DumpFrame, Flow, Layout, Payload, Span};

/// The preferences a frame is decided under: a snapshot taken once per frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The layout the preferences give (the built-in one unless overridden).
    pub layout: Layout,
    /// Whether the header layout is learned from the capture.
    pub learn_layout: bool,
    /// Whether frames get the connection analysis.
    pub analyze: bool,
    /// Whether data goes to the application dissectors.
    pub handoff: bool,
    /// Data frames in a row of one direction no dissector takes before they are no longer asked; 0: never.
    pub handoff_tries: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            layout: Layout::default(),
            learn_layout: true,
            analyze: true,
            handoff: true,
            handoff_tries: streams::DEFAULT_TRIES,
        }
    }
}

/// How a dump frame reached smcdump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// smcdump dissects it (a heuristic claimed it, its flow was handed over, or Decode As forced it): whatever it
    /// holds is shown, and its data goes to the application.
    Dissected,
    /// The postdissector found it in the dump device's envelope after another dissector took it: it counts in the
    /// capture's state if its header is consistent, and shows nothing.
    Found,
}

/// One dump frame, as plain values.
#[derive(Clone, Copy, Debug)]
pub struct FrameInput<'a> {
    /// Wireshark's frame number (from 1).
    pub num: u32,
    pub seen: Seen,
    /// The captured bytes of the UDP payload.
    pub payload: &'a [u8],
    /// The UDP payload's length on the wire.
    pub reported: usize,
    /// Addresses and ports, when the frame is IPv4 (dump frames are; a datagram forced by Decode As may not be).
    pub flow: Option<Flow>,
    /// The dump device's MAC address, when the link layer shows it.
    pub device: Option<[u8; 6]>,
}

/// Bytes handed to the application dissectors.
#[derive(Clone, Copy, Debug)]
pub struct Handover<'a> {
    pub bytes: &'a [u8],
    /// Where the bytes lie in the UDP payload when they are the frame's own; `None` for a buffer reassembled from
    /// several frames.
    pub own_at: Option<usize>,
    /// Where their first byte lies in the direction's stream.
    pub stream_offset: u64,
    /// The ports to try, the server's first (as TCP does: the handshake's server, else the lower port).
    pub ports: (u16, u16),
    /// The first visit: the dissector may ask for more data. Later visits replay what it decided.
    pub may_ask_more: bool,
}

/// What the dissection of the current packet does besides smcdump's own items: set the packet's columns once the
/// frame is parsed (before any application dissector, whose columns replace them), follow the frame's data, and
/// hand the application's bytes to its dissector.
pub trait Application {
    /// The frame was parsed (or could not be): its own columns go first.
    fn parsed(&mut self, _frame: &Result<DumpFrame, FrameError>) {}
    /// The frame's data, over `data` in the UDP payload (Follow SMC Stream).
    fn follow(&mut self, _data: Span) {}
    /// Hands `h` to the application dissectors; says what they did.
    fn dissect(&mut self, h: &Handover<'_>) -> Outcome;
}

/// No application dissection (the postdissector's frames, and tests of the state alone).
pub struct NoApplication;

impl Application for NoApplication {
    fn dissect(&mut self, _: &Handover<'_>) -> Outcome {
        Outcome::Refused
    }
}

/// A header layout learned from the capture, as a dissection shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LearnedLayout {
    pub learned: Learned,
    /// The layout the preferences give, which the learned one replaces.
    pub builtin: Layout,
    /// The number of the frame being dissected.
    pub frame: u32,
    /// The layout the frame being dissected implies, if it identifies itself.
    pub this_frame: Option<Evidence>,
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
        Payload::Cdc { cdc, .. } => cdc.conn_state().map(|s| {
            let closed = s.value.has(ConnState::PEER_CONN_CLOSED);
            StreamPart::Cdc(Closing { closed, aborted: s.value.has(ConnState::PEER_CONN_ABORT) })
        }),
        Payload::Raw(_) | Payload::Undecoded(_) => None,
    }
}

/// Everything one dump frame shows.
#[derive(Clone, Debug)]
pub struct FrameOutcome {
    /// The layout the frame was parsed with.
    pub layout: Layout,
    /// How the layout was learned, when it was (and learning is on).
    pub learned: Option<LearnedLayout>,
    /// The parse; `None` for a frame the postdissector found whose header the layout finds inconsistent (it is
    /// not smcdump's).
    pub frame: Option<Result<DumpFrame, FrameError>>,
    /// The connection analysis (when on).
    pub analysis: Option<FrameAnalysis>,
    /// The stream facts: index, position of the data, what the application dissection did.
    pub stream: Option<FrameStream>,
    /// Where the frame's data lies in the UDP payload, when it carries data for the stream.
    pub data: Option<Span>,
}

impl FrameOutcome {
    /// The parsed frame, when it parsed.
    pub fn parsed(&self) -> Option<&DumpFrame> {
        self.frame.as_ref()?.as_ref().ok()
    }

    /// Whether the frame's data only continues an application message completed in a later frame: such a frame
    /// shows smcdump's columns, as TCP's "segment of a reassembled PDU" does.
    pub fn only_continues_a_message(&self) -> bool {
        let h = self.stream.as_ref().and_then(|fs| fs.handoff.as_ref());
        h.is_some_and(|h| h.taken && h.own == 0 && h.reassembled.is_none())
    }
}

/// What one frame counts for in a statistics listener's connection table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tapped {
    Frame(FrameFacts),
    Clc { flow: Flow, msg: ClcMessage },
}

/// The most payload bytes, and frames, kept for analysing again once the layout is learned. A capture whose first
/// CDC comes later than that is analysed under the built-in layout up to it.
const EARLY_BYTES: usize = 1 << 20;
const EARLY_FRAMES: usize = 4096;

/// A frame analysed before the layout was learned.
#[derive(Debug)]
struct Early {
    num: u32,
    flow: Flow,
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
    streams: Streams,
    /// The server port of each connection whose handshake the capture holds.
    servers: FastMap<ConnKey, u16>,
    /// The flows handed to smcdump (once each: the conversation keeps its dissector).
    handed: FastSet<ConnKey>,
    table: CaptureTable,
    /// What the frame last dissected counts for in a listener's table (the listeners run when its dissection is
    /// over, on every pass: a listener's display filter chooses the frames it counts).
    tapped: Option<(u32, Tapped)>,
}

impl Session {
    /// Forgets everything: a new capture file starts.
    pub fn clear(&mut self) {
        *self = Session::default();
    }

    /// The layout frames are parsed with now: the preferences', with what the capture taught put in when learning
    /// is on.
    pub fn layout(&self, settings: &Settings) -> Layout {
        if settings.learn_layout {
            self.learner.layout(&settings.layout)
        } else {
            settings.layout
        }
    }

    /// The frame the layout was learned from, when learning is on and it was.
    pub fn learned_in(&self, settings: &Settings) -> Option<u32> {
        self.learner.learned().filter(|_| settings.learn_layout).map(|l| l.frame)
    }

    /// Decides everything dump frame `input` shows, on its first visit, and reads it back on later ones; the
    /// application dissection `app` is called (first visit) or replayed (later visits) on its data.
    pub fn frame(&mut self, input: &FrameInput, settings: &Settings, app: &mut dyn Application) -> FrameOutcome {
        let num = input.num;
        self.observe(input, settings);
        let layout = self.layout(settings);
        let learned = self.learner.learned().filter(|_| settings.learn_layout).map(|learned| LearnedLayout {
            learned,
            builtin: settings.layout,
            frame: num,
            this_frame: identify(input.payload, input.reported),
        });
        let mut outcome = FrameOutcome { layout, learned, frame: None, analysis: None, stream: None, data: None };
        if input.seen == Seen::Found && !claims(input.payload, input.reported, &layout) {
            return outcome;
        }
        let parsed = DumpFrame::parse(input.payload, input.reported, &layout);
        app.parsed(&parsed);
        let Ok(frame) = parsed else {
            outcome.frame = Some(parsed);
            return outcome;
        };
        if let (true, Some(flow)) = (settings.analyze, input.flow) {
            outcome.analysis = Some(self.analyze(num, flow, input, &frame, settings));
        }
        if let (Some(part), Some(flow)) = (stream_part(&frame), input.flow) {
            let fs = match part {
                StreamPart::Cdc(closing) => self.streams.cdc(num, flow, closing),
                StreamPart::Data(span) => {
                    outcome.data = Some(span);
                    if input.seen == Seen::Dissected {
                        app.follow(span);
                    }
                    let handoff = settings.handoff && input.seen == Seen::Dissected;
                    self.data(num, flow, input.payload, span, handoff.then_some(app), settings)
                }
            };
            let ring = outcome.analysis.and_then(|a| a.ring_size);
            let facts = FrameFacts {
                stream: fs.stream,
                dir: fs.dir,
                flow,
                mode: FrameCount::of(&frame).mode,
                smc_ver: frame.header.repr.smc_ver,
                kind: FrameCount::of(&frame).kind,
                ring,
            };
            self.table.frame(num, &facts);
            self.tapped = Some((num, Tapped::Frame(facts)));
            outcome.stream = Some(fs);
        }
        outcome.frame = Some(Ok(frame));
        outcome
    }

    /// Observes frame `input`'s UDP payload for the layout, once per frame, in capture order. When it teaches the
    /// layout, the frames analysed so far are analysed again under it.
    fn observe(&mut self, input: &FrameInput, settings: &Settings) {
        if !settings.learn_layout || !self.learner.observe(input.num, input.payload, input.reported) {
            return;
        }
        let layout = self.learner.layout(&settings.layout);
        self.analyzer.clear();
        for e in std::mem::take(&mut self.early) {
            if let Ok(frame) = DumpFrame::parse(&e.payload, e.reported, &layout) {
                self.analyzer.analyze(e.num, e.flow, &frame, self.handshakes.for_direction(e.flow));
            }
        }
        self.early_bytes = 0;
    }

    /// The analysis of frame `num` travelling in `flow`, parsed as `frame`: computed on the first visit (and kept
    /// to be computed again should the layout be learned later), read back afterwards, with the TCP stream of the
    /// connection's handshake.
    fn analyze(
        &mut self,
        num: u32,
        flow: Flow,
        input: &FrameInput,
        frame: &DumpFrame,
        settings: &Settings,
    ) -> FrameAnalysis {
        let mut a = match self.analyzer.get(num) {
            Some(a) => a,
            None => {
                let payload = input.payload;
                if settings.learn_layout
                    && self.learner.learned().is_none()
                    && self.early.len() < EARLY_FRAMES
                    && self.early_bytes + payload.len() <= EARLY_BYTES
                {
                    self.early_bytes += payload.len();
                    self.early.push(Early { num, flow, payload: payload.to_vec(), reported: frame.reported });
                }
                self.analyzer.analyze(num, flow, frame, self.handshakes.for_direction(flow))
            }
        };
        a.clc_tcp_stream = a.clc_accept.or(a.clc_confirm).and_then(|f| self.handshakes.tcp_stream(f));
        a
    }

    /// The stream facts of data frame `num` travelling in `flow`, whose data lies over `span` of `payload`: on the
    /// first visit decided, with the application dissection `app` (when given) called; on later visits read back,
    /// with that dissection replayed.
    fn data(
        &mut self,
        num: u32,
        flow: Flow,
        payload: &[u8],
        span: Span,
        app: Option<&mut dyn Application>,
        settings: &Settings,
    ) -> FrameStream {
        let bytes = payload.get(span.range()).unwrap_or(&[]);
        let ports = self.ports(flow);
        if let Some(fs) = self.streams.get(num) {
            if let (Some(app), Some(h), Some((offset, _))) = (app, &fs.handoff, fs.data) {
                replay(app, h, bytes, span.off, offset, ports);
            }
            return fs;
        }
        self.streams.give_up_after(settings.handoff_tries);
        let mut call = app.map(|app| {
            move |buf: &[u8], stream_offset: u64, reassembled: bool| {
                let own_at = (!reassembled).then_some(span.off);
                app.dissect(&Handover { bytes: buf, own_at, stream_offset, ports, may_ask_more: true })
            }
        });
        self.streams.data(num, flow, bytes, call.as_mut().map(|c| c as &mut Dissect))
    }

    /// The ports to try, as TCP does: the server's first when the handshake named it, else the lower one.
    fn ports(&self, flow: Flow) -> (u16, u16) {
        let (a, b) = (flow.src.port, flow.dst.port);
        match self.servers.get(&flow.conn()) {
            Some(&server) if server == a => (a, b),
            Some(_) => (b, a),
            None => (a.min(b), a.max(b)),
        }
    }

    /// Records the SMC SYN (or SYN-ACK) of frame `num` and the TCP stream Wireshark gave it (`tcp.stream`): the
    /// connection's server, for the ports its data is handed over on, and its handshake's stream.
    pub fn syn(&mut self, num: u32, syn: &SmcSyn, tcp_stream: Option<u32>) {
        self.servers.insert(syn.flow.conn(), syn.server_port());
        if let Some(stream) = tcp_stream {
            self.handshakes.syn(num, syn.flow, stream);
        }
    }

    /// Records CLC message `msg` of frame `num`, sent in `flow` (first visit, capture order): for the connection's
    /// dump frames, the connection table, and a listener's table.
    pub fn clc(&mut self, num: u32, flow: Flow, msg: &ClcMessage) {
        self.handshakes.observe(num, flow, msg);
        self.table.clc(num, flow, msg);
        self.tapped = Some((num, Tapped::Clc { flow, msg: *msg }));
    }

    /// Whether `flow` is handed to smcdump for the first time in this capture file (and remembers it).
    pub fn first_handover(&mut self, flow: Flow) -> bool {
        self.handed.insert(flow.conn())
    }

    /// What frame `num` counts for in a listener's connection table, if it was the frame dissected last.
    pub fn tapped(&self, num: u32) -> Option<Tapped> {
        self.tapped.filter(|(n, _)| *n == num).map(|(_, t)| t)
    }

    /// The stream index of frame `num`, if it has one.
    pub fn stream_of(&self, num: u32) -> Option<streams::StreamId> {
        self.streams.get(num).map(|fs| fs.stream)
    }

    /// How many streams the capture holds so far.
    pub fn stream_count(&self) -> streams::StreamId {
        self.streams.count()
    }

    /// The connection table of the whole capture.
    pub fn table(&self) -> &CaptureTable {
        &self.table
    }
}

/// Replays, on a later visit, what the first visit decided for a data frame whose own `bytes` lie at `own_at` in
/// its UDP payload and at `stream_offset` in its stream.
fn replay(app: &mut dyn Application, h: &Handoff, bytes: &[u8], own_at: usize, stream_offset: u64, ports: (u16, u16)) {
    if !h.taken {
        return;
    }
    let handover = match &h.reassembled {
        Some(r) => Handover { bytes: &r.bytes, own_at: None, stream_offset: r.start, ports, may_ask_more: false },
        None if h.own > 0 => {
            let own = bytes.get(..h.own).unwrap_or(bytes);
            Handover { bytes: own, own_at: Some(own_at), stream_offset, ports, may_ask_more: false }
        }
        None => return,
    };
    app.dissect(&handover);
}

#[cfg(test)]
mod tests {
    use super::testing::{cdc, data, flow};
    use super::*;
    use crate::wire::cdc::SmcrCdcRepr;
    use crate::wire::emit::{data_frame, smcr_cdc_frame};

    const A: [u8; 4] = [10, 0, 0, 1];
    const B: [u8; 4] = [10, 0, 0, 2];

    fn input(num: u32, flow: Flow, payload: &[u8]) -> FrameInput<'_> {
        FrameInput { num, seen: Seen::Dissected, payload, reported: payload.len(), flow: Some(flow), device: None }
    }

    /// Frames analysed before the layout was learned are analysed again under it: the data frame that came first
    /// counts towards the CDC that announces it.
    #[test]
    fn early_frames_are_analysed_again_under_the_learned_layout() {
        let real = Layout { header_len: 12, type_raw: 0, type_cdc: 1, ..Layout::default() };
        let dir = flow(A, 1, B, 2);
        let cdc = |seqno, prod| smcr_cdc_frame(&real, 1, &SmcrCdcRepr::new(seqno, 9, (0, prod), (0, 0)));
        let frames = [cdc(1, 0), data_frame(&real, 1, 1, &[7; 100]), cdc(2, 100)];
        let mut s = Session::default();
        let settings = Settings::default();
        // Frame 1: under the built-in layout it is nothing (type 1 = raw data, wrongly); it teaches the layout.
        let results: Vec<FrameOutcome> =
            (1..).zip(&frames).map(|(num, f)| s.frame(&input(num, dir, f), &settings, &mut NoApplication)).collect();
        assert_eq!(s.layout(&settings), real);
        assert_eq!(results[2].learned.map(|l| l.learned.frame), Some(1));
        let a = results[2].analysis.unwrap();
        assert_eq!((a.prev_cdc, a.data_bytes, a.data_mismatch()), (Some(1), Some(100), None));
        let off = Settings { learn_layout: false, ..settings };
        assert_eq!(s.layout(&off), Layout::default());
        assert_eq!(s.frame(&input(3, dir, &frames[2]), &off, &mut NoApplication).learned, None);
    }

    #[test]
    fn frames_seen_before_the_learning_frame_are_replayed() {
        let real = Layout { header_len: 12, type_raw: 0, type_cdc: 1, ..Layout::default() };
        let dir = flow(A, 1, B, 2);
        let data = data_frame(&real, 1, 1, &[7; 100]);
        let cdc1 = smcr_cdc_frame(&real, 1, &SmcrCdcRepr::new(1, 9, (0, 100), (0, 0)));
        let cdc2 = smcr_cdc_frame(&real, 1, &SmcrCdcRepr::new(2, 9, (0, 150), (0, 0)));
        let mut s = Session::default();
        let settings = Settings::default();
        // Frame 1, data, analysed under the built-in layout (as an unknown type); frame 2 teaches the layout and
        // frame 1 is analysed again, so frame 3 sees its own 50 missing bytes only.
        for (num, f) in [(1, &data), (2, &cdc1), (3, &cdc2)] {
            s.frame(&input(num, dir, f), &settings, &mut NoApplication);
        }
        let a = s.frame(&input(3, dir, &cdc2), &settings, &mut NoApplication).analysis.unwrap();
        assert_eq!((a.prev_cdc, a.data_bytes, a.prod_advance), (Some(2), Some(0), Some(50)));
    }

    /// An application that takes length-value messages (a length byte, then that many bytes) and records every
    /// call.
    #[derive(Default)]
    struct Lv {
        calls: Vec<(Option<usize>, u64, Vec<u8>, bool)>,
    }

    impl Application for Lv {
        fn dissect(&mut self, h: &Handover<'_>) -> Outcome {
            self.calls.push((h.own_at, h.stream_offset, h.bytes.to_vec(), h.may_ask_more));
            let mut at = 0;
            while at < h.bytes.len() {
                let n = usize::from(h.bytes[at]) + 1;
                if at + n > h.bytes.len() {
                    let need = streams::Need::Bytes(at + n - h.bytes.len());
                    return Outcome::NeedMore { offset: at, need };
                }
                at += n;
            }
            Outcome::Consumed
        }
    }

    #[test]
    fn data_goes_to_the_application_once_and_is_replayed_later() {
        let dir = flow(A, 40000, B, 80);
        let frames = [data_frame(&Layout::default(), 1, 1, &[2, 1]), data_frame(&Layout::default(), 1, 1, &[1, 0, 7])];
        let mut s = Session::default();
        let settings = Settings::default();
        let mut app = Lv::default();
        for (num, f) in (1..).zip(&frames) {
            s.frame(&input(num, dir, f), &settings, &mut app);
        }
        assert_eq!(app.calls, [(Some(16), 0, vec![2, 1], true), (None, 0, vec![2, 1, 1, 0, 7], true)]);
        let second = s.frame(&input(2, dir, &frames[1]), &settings, &mut app);
        let fs = second.stream.unwrap();
        assert_eq!((fs.stream, fs.data), (0, Some((2, 3))));
        // Replayed without asking for more: the two messages the first visit completed ([2, 1, 1], [0]).
        assert_eq!(app.calls[2], (None, 0, vec![2, 1, 1, 0], false));
        let first = s.frame(&input(1, dir, &frames[0]), &settings, &mut app);
        assert!(first.only_continues_a_message());
        assert_eq!(app.calls.len(), 3, "a frame whose bytes only continue a message dissects nothing itself");
    }

    #[test]
    fn a_found_frame_counts_without_the_application() {
        let dir = flow(A, 40000, B, 80);
        let mut s = Session::default();
        let found = |num, payload| FrameInput { seen: Seen::Found, ..input(num, dir, payload) };
        let mut app = Lv::default();
        let d = data(5);
        let o = s.frame(&found(1, &d), &Settings::default(), &mut app);
        assert_eq!((o.stream.unwrap().handoff, app.calls.len()), (None, 0));
        // A datagram whose header is not consistent is not smcdump's.
        let mut bad = cdc(1, 1, (0, 5), (0, 0));
        bad[8..10].copy_from_slice(&[0xFF, 0xFF]);
        assert!(s.frame(&found(2, &bad), &Settings::default(), &mut app).frame.is_none());
        assert_eq!(s.table().conns()[0].data, [5, 0]);
        assert_eq!(s.tapped(1).map(|t| matches!(t, Tapped::Frame(_))), Some(true));
        assert_eq!(s.tapped(2), None);
    }
}
