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
pub mod copies;
pub mod fills;
pub mod handshakes;
pub mod hash;
pub mod layout;
pub mod records;
pub mod streams;
pub mod table;
#[cfg(test)]
pub(crate) mod testing;

use analysis::{Analyzer, FrameAnalysis};
use copies::Copies;
use fills::{Fills, Shown};
use handshakes::Handshakes;
use hash::{FastMap, FastSet};
use layout::{Learned, Learner};
use streams::{Closing, Dissect, FrameStream, Outcome, Placed, Streams};
use table::{CaptureTable, FrameCount, FrameFacts, FrameKind};

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
    /// capture's state if its header is consistent, and its data goes to the application and Follow as any other
    /// frame's (the first frame of a flow, in a cooked capture without the handshake); smcdump's own items and
    /// columns are not shown.
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
    /// The direction the bytes travel in.
    pub flow: Flow,
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
    /// The frame's new data, over `data` in the UDP payload (Follow SMC Stream).
    fn follow(&mut self, _data: Span) {}
    /// `len` bytes of the direction's stream from position `at` were not captured (Follow SMC Stream shows them
    /// as TCP's Follow shows bytes missing in the capture file).
    fn missing(&mut self, _at: u64, _len: u64) {}
    /// Bytes of the direction's stream that a later frame brought, shown where they belong (see [`fills`]).
    fn follow_bytes(&mut self, _bytes: &[u8]) {}
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

/// What layout learning says about a frame, as a dissection shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LearnedLayout {
    /// The layout learned from the capture, when the frame is parsed with it.
    pub learned: Option<Learned>,
    /// The layout the preferences give, which a learned one replaces.
    pub builtin: Layout,
    /// What the layout the frame is parsed with implies (a frame implying something else gets the conflict
    /// warning).
    pub winner: Evidence,
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
            let done_writing = closed || s.value.has(ConnState::PEER_DONE_WRITING);
            StreamPart::Cdc(Closing { done_writing, closed, aborted: s.value.has(ConnState::PEER_CONN_ABORT) })
        }),
        Payload::Raw(_) | Payload::Undecoded(_) => None,
    }
}

/// Everything one dump frame shows.
#[derive(Clone, Debug)]
pub struct FrameOutcome {
    /// The layout the frame was parsed with.
    pub layout: Layout,
    /// What layout learning says (when it is on).
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

/// A frame seen before the layout was learned.
#[derive(Debug)]
struct Early {
    num: u32,
    seen: Seen,
    flow: Option<Flow>,
    device: Option<[u8; 6]>,
    payload: Vec<u8>,
    reported: usize,
}

/// The state of one capture file.
#[derive(Debug)]
pub struct Session {
    learner: Learner,
    copies: Copies,
    analyzer: Analyzer,
    handshakes: Handshakes,
    early: Vec<Early>,
    early_bytes: usize,
    /// `early` holds every frame seen so far.
    early_complete: bool,
    /// The frame whose layout change decided the frames before it again (0: none did): a single pass showed
    /// those under the layout in use then.
    decided_again_at: u32,
    /// The layouts frames were first parsed with: from which frame on each applies, in frame order.
    epochs: Vec<(u32, Layout)>,
    /// The highest frame number seen.
    last_frame: u32,
    streams: Streams,
    /// The server port of each connection whose handshake the capture holds.
    servers: FastMap<ConnKey, u16>,
    /// The flows handed to smcdump (once each: the conversation keeps its dissector).
    handed: FastSet<ConnKey>,
    table: CaptureTable,
    /// Bytes that filled earlier holes, for Follow.
    fills: Fills,
    /// What the frame last dissected counts for in a listener's table (the listeners run when its dissection is
    /// over, on every pass: a listener's display filter chooses the frames it counts).
    tapped: Option<(u32, Tapped)>,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            learner: Learner::default(),
            copies: Copies::default(),
            analyzer: Analyzer::default(),
            handshakes: Handshakes::default(),
            early: Vec::new(),
            early_bytes: 0,
            early_complete: true,
            decided_again_at: 0,
            epochs: Vec::new(),
            last_frame: 0,
            streams: Streams::default(),
            servers: FastMap::default(),
            handed: FastSet::default(),
            table: CaptureTable::default(),
            fills: Fills::default(),
            tapped: None,
        }
    }
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

    /// The layout frame `num` is parsed with: on its first visit the one in use then, which it keeps on later
    /// visits (a layout learned later applies to later frames only, unless the capture's first frames were all
    /// decided again under it).
    fn layout_of(&mut self, num: u32, settings: &Settings) -> Layout {
        if !settings.learn_layout {
            return settings.layout;
        }
        if num <= self.last_frame {
            let at = self.epochs.partition_point(|e| e.0 <= num);
            if let Some(&(_, layout)) = at.checked_sub(1).and_then(|i| self.epochs.get(i)) {
                return layout;
            }
        }
        self.last_frame = self.last_frame.max(num);
        let layout = self.layout(settings);
        if self.epochs.last().map(|e| e.1) != Some(layout) {
            self.epochs.push((num, layout));
        }
        layout
    }

    /// The frame whose layout change had the frames before it decided again (their first visit showed what the
    /// layout in use then gave); 0 when none did.
    pub fn decided_again_at(&self) -> u32 {
        self.decided_again_at
    }

    /// Decides everything dump frame `input` shows, on its first visit, and reads it back on later ones; the
    /// application dissection `app` is called (first visit) or replayed (later visits) on its data.
    pub fn frame(&mut self, input: &FrameInput, settings: &Settings, app: &mut dyn Application) -> FrameOutcome {
        let num = input.num;
        self.observe(input, settings);
        if num > self.last_frame {
            self.keep_early(input, settings);
        }
        let layout = self.layout_of(num, settings);
        let current = self.layout(settings) == layout;
        let learned = settings.learn_layout.then(|| LearnedLayout {
            learned: self.learner.learned().filter(|_| current),
            builtin: settings.layout,
            winner: Evidence { header_len: layout.header_len, type_cdc: layout.type_cdc },
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
        let Some(flow) = input.flow else {
            outcome.frame = Some(Ok(frame));
            return outcome;
        };
        let part = stream_part(&frame);
        let handoff = settings.handoff;
        let ports = self.ports(flow);
        let (mut analysis, fs, later) = match self.analyzer.get(num) {
            // Later visits: read back, the application dissection replayed.
            Some(a) => {
                let fs = part.and_then(|_| self.streams.get(num));
                if let (Some(fs), true) = (&fs, handoff) {
                    let data = match part {
                        Some(StreamPart::Data(span)) => {
                            Some((input.payload.get(span.range()).unwrap_or(&[]), span.off))
                        }
                        _ => None,
                    };
                    replay(app, fs, data, (flow, ports));
                }
                (a, fs, true)
            }
            None => {
                let app = handoff.then_some(app as &mut dyn Application);
                let (a, fs) = self.decide(num, input.device, flow, input.payload, &frame, app, settings);
                if let Some(fs) = &fs {
                    self.keep_fills(num, fs, part, input.payload);
                }
                (a, fs, false)
            }
        };
        let clc = analysis.clc_accept.or(analysis.clc_confirm);
        analysis.clc_tcp_stream = clc.and_then(|f| self.handshakes.tcp_stream(f));
        if settings.analyze {
            outcome.analysis = Some(analysis);
        }
        if let Some(fs) = fs {
            follow(app, &fs, part, later.then_some((num, &self.fills)));
            if let Some(StreamPart::Data(span)) = part {
                outcome.data = Some(span);
            }
            let facts = self.count(num, flow, &frame, &fs, analysis.ring_size);
            self.tapped = Some((num, Tapped::Frame(facts)));
            outcome.stream = Some(fs);
        }
        outcome.frame = Some(Ok(frame));
        outcome
    }

    /// Decides, on its first visit, what frame `num` (travelling in `flow`, dumped by `device`, parsed as `frame`
    /// from `payload`) shows: where it lies among its direction's copies (a frame of an ended connection's
    /// 4-tuple that repeats nothing starts a new one), its analysis, and its stream facts, with its new data
    /// handed to the application dissection `app` when given.
    #[allow(clippy::too_many_arguments)]
    fn decide(
        &mut self,
        num: u32,
        device: Option<[u8; 6]>,
        flow: Flow,
        payload: &[u8],
        frame: &DumpFrame,
        app: Option<&mut dyn Application>,
        settings: &Settings,
    ) -> (FrameAnalysis, Option<FrameStream>) {
        let hs = self.handshakes.for_direction(flow);
        let place = |copies: &mut Copies| copies.place(num, flow, device, frame, payload, hs.as_ref());
        let mut p = place(&mut self.copies);
        if self.streams.ended(flow) && !p.repeat {
            self.copies.forget(flow);
            p = place(&mut self.copies);
        }
        let analysis = self.analyzer.analyze(num, frame, &p.facts, hs);
        let placed = Placed::of(&p);
        let ports = self.ports(flow);
        let fs = stream_part(frame).map(|part| match part {
            StreamPart::Cdc(closing) => {
                // What waited for the direction's end: nothing more can come, so the dissector may not ask.
                let mut call = app.map(|app| {
                    move |buf: &[u8], stream_offset: u64, _own: Option<usize>| {
                        let h = Handover { flow, bytes: buf, own_at: None, stream_offset, ports, may_ask_more: false };
                        app.dissect(&h)
                    }
                });
                self.streams.cdc(num, flow, closing, placed, call.as_mut().map(|c| c as &mut Dissect))
            }
            StreamPart::Data(span) => {
                self.streams.give_up_after(settings.handoff_tries);
                let mut call = app.map(|app| {
                    move |buf: &[u8], stream_offset: u64, own: Option<usize>| {
                        let own_at = own.map(|o| span.off + o);
                        app.dissect(&Handover { flow, bytes: buf, own_at, stream_offset, ports, may_ask_more: true })
                    }
                });
                let dissect = call.as_mut().map(|c| c as &mut Dissect);
                let bytes = payload.get(span.range()).unwrap_or(&[]);
                self.streams.data(num, flow, bytes, p.start.unwrap_or(0), placed, dissect)
            }
        });
        (analysis, fs)
    }

    /// Counts frame `num` (first visit; later ones are ignored) in the connection table; returns what it counts
    /// for, for a listener's table.
    fn count(&mut self, num: u32, flow: Flow, frame: &DumpFrame, fs: &FrameStream, ring: Option<u32>) -> FrameFacts {
        let p = &fs.placed;
        let kind = match FrameCount::of(frame).kind {
            FrameKind::Data(_) => FrameKind::Data(u64::from(p.new.1)),
            kind => kind,
        };
        let facts = FrameFacts {
            stream: fs.stream,
            dir: fs.dir,
            flow,
            mode: frame.header.mode,
            smc_ver: frame.header.repr.smc_ver,
            kind,
            ring,
            copy: p.repeat && p.new.1 == 0,
            missing: p.hole.map_or(0, |h| h.1),
            filled: if p.filled { u64::from(p.new.1) } else { 0 },
        };
        self.table.frame(num, &facts);
        facts
    }

    /// Keeps frame `input` (first visit) to be decided again should the layout change while the capture's first
    /// frames are all kept.
    fn keep_early(&mut self, input: &FrameInput, settings: &Settings) {
        if !settings.learn_layout || self.learner.learned().is_some() || !self.early_complete {
            return;
        }
        if self.early.len() >= EARLY_FRAMES || self.early_bytes + input.payload.len() > EARLY_BYTES {
            // Too late to decide everything again: a layout learned from here on applies to later frames.
            self.early = Vec::new();
            self.early_complete = false;
            return;
        }
        self.early_bytes += input.payload.len();
        self.early.push(Early {
            num: input.num,
            seen: input.seen,
            flow: input.flow,
            device: input.device,
            payload: input.payload.to_vec(),
            reported: input.reported,
        });
    }

    /// Observes frame `input`'s UDP payload for the layout, once per frame, in capture order. When the layout in
    /// use changes while the capture's first frames are all kept, they are decided again under it, as if it had
    /// been in use from the start (without the application dissection: they show their data as data).
    fn observe(&mut self, input: &FrameInput, settings: &Settings) {
        if !settings.learn_layout || !self.learner.observe(input.num, input.payload, input.reported, &settings.layout) {
            return;
        }
        if !self.early_complete || self.early.is_empty() {
            return;
        }
        let layout = self.learner.layout(&settings.layout);
        self.decided_again_at = input.num;
        self.epochs = vec![(1, layout)];
        self.copies = Copies::default();
        self.analyzer.clear();
        self.streams.clear();
        self.table.forget_frames();
        for e in std::mem::take(&mut self.early) {
            let Some(flow) = e.flow else { continue };
            if e.seen == Seen::Found && !claims(&e.payload, e.reported, &layout) {
                continue;
            }
            if let Ok(frame) = DumpFrame::parse(&e.payload, e.reported, &layout) {
                let (a, fs) = self.decide(e.num, e.device, flow, &e.payload, &frame, None, settings);
                if let Some(fs) = fs {
                    self.count(e.num, flow, &frame, &fs, a.ring_size);
                }
            }
        }
        self.early_bytes = 0;
        self.early_complete = false;
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

    /// First visit: the hole frame `num` (with stream facts `fs`, carrying `part` of `payload`) found, and the
    /// bytes of earlier holes it brings, for Follow's later visits.
    fn keep_fills(&mut self, num: u32, fs: &FrameStream, part: Option<StreamPart>, payload: &[u8]) {
        let dir = (fs.stream, fs.dir);
        if let Some((at, len)) = fs.placed.hole {
            self.fills.hole(num, dir, at, len);
        }
        if let (true, Some(StreamPart::Data(span)), Some((start, _))) = (fs.placed.filled, part, fs.data) {
            let (from, n) = (fs.placed.new.0 as usize, fs.placed.new.1 as usize);
            if let Some(bytes) = payload.get(span.off + from..span.off + from + n) {
                self.fills.filled(num, dir, start + from as u64, bytes);
            }
        }
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

/// Replays, on a later visit, what the first visit decided for frame `fs` (for a data frame, `data`: its bytes
/// and where they lie in its UDP payload), travelling in `flow` between `ports`.
fn replay(
    app: &mut dyn Application,
    fs: &FrameStream,
    data: Option<(&[u8], usize)>,
    (flow, ports): (Flow, (u16, u16)),
) {
    let Some(h) = fs.handoff.as_ref().filter(|h| h.taken) else { return };
    let handover = match (&h.reassembled, fs.own_part(), data.zip(fs.data)) {
        (Some(r), _, _) => {
            Handover { flow, bytes: &r.bytes, own_at: None, stream_offset: r.start, ports, may_ask_more: false }
        }
        (None, Some(own), Some(((bytes, data_at), (start, _)))) => {
            let (own_at, stream_offset) = (data_at + own.start, start + own.start as u64);
            let own = bytes.get(own).unwrap_or(&[]);
            Handover { flow, bytes: own, own_at: Some(own_at), stream_offset, ports, may_ask_more: false }
        }
        _ => return,
    };
    app.dissect(&handover);
}

/// Follows frame `fs` (carrying `part` of its stream) on every visit: a hole found at it, then its new data. On
/// later visits (`later`: the frame's number and what the first pass kept) a hole shows the bytes later frames
/// filled it with, and a frame leaves out the bytes it filled an earlier hole with (see [`fills`]).
fn follow(app: &mut dyn Application, fs: &FrameStream, part: Option<StreamPart>, later: Option<(u32, &Fills)>) {
    if let Some((at, len)) = fs.placed.hole {
        match later {
            Some((num, fills)) => {
                for shown in fills::hole_shown(at, len, fills.at_hole(num)) {
                    match shown {
                        Shown::Bytes(bytes) => app.follow_bytes(bytes),
                        Shown::Missing { at, len } => app.missing(at, len),
                    }
                }
            }
            None => app.missing(at, len),
        }
    }
    let (from, n) = fs.placed.new;
    let (Some(StreamPart::Data(span)), true) = (part, n > 0) else { return };
    let moved = match (later, fs.data) {
        (Some((num, fills)), Some(_)) if fs.placed.filled => fills.moved(num),
        _ => &[],
    };
    let pos = fs.data.map_or(0, |(start, _)| start + u64::from(from));
    for (off, len) in fills::kept(pos, u64::from(n), moved) {
        app.follow(Span { off: span.off + from as usize + off as usize, len: len as usize });
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{cdc, flow};
    use super::*;
    use crate::wire::cdc::SmcrCdcRepr;
    use crate::wire::emit::{data_frame, smcr_cdc_frame};

    const A: [u8; 4] = [10, 0, 0, 1];
    const B: [u8; 4] = [10, 0, 0, 2];

    fn input(num: u32, flow: Flow, payload: &[u8]) -> FrameInput<'_> {
        FrameInput { num, seen: Seen::Dissected, payload, reported: payload.len(), flow: Some(flow), device: None }
    }

    /// Frames decided before the layout was learned are decided again under it: the data frame that came first
    /// counts towards the CDC that announces it, and a second pass shows every frame under the learned layout.
    #[test]
    fn early_frames_are_analysed_again_under_the_learned_layout() {
        let real = Layout { header_len: 12, type_raw: 0, type_cdc: 1, ..Layout::default() };
        let dir = flow(A, 1, B, 2);
        let cdc = |seqno, prod| smcr_cdc_frame(&real, 1, &SmcrCdcRepr::new(seqno, 9, (0, prod), (0, 0)));
        let frames = [cdc(1, 0), data_frame(&real, 1, 1, &[7; 100]), cdc(2, 100)];
        let mut s = Session::default();
        let settings = Settings::default();
        // Frames 1 and 2 under the built-in layout are nothing (type 1 = raw data, wrongly); frame 3 is the
        // second frame implying the real layout, which wins there.
        let results: Vec<FrameOutcome> =
            (1..).zip(&frames).map(|(num, f)| s.frame(&input(num, dir, f), &settings, &mut NoApplication)).collect();
        assert_eq!(s.layout(&settings), real);
        let learned_at = results[2].learned.and_then(|l| l.learned).map(|l| l.frame);
        assert_eq!((results[0].layout, learned_at), (Layout::default(), Some(3)));
        assert_eq!(
            (s.decided_again_at(), s.frame(&input(1, dir, &frames[0]), &settings, &mut NoApplication).layout),
            (3, real)
        );
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

    /// An application that asks for everything up to its direction's end (HTTP's body without a length) whenever
    /// it may ask, and records every call.
    #[derive(Default)]
    struct UntilEnd {
        calls: Vec<(Option<usize>, u64, Vec<u8>, bool)>,
    }

    impl Application for UntilEnd {
        fn dissect(&mut self, h: &Handover<'_>) -> Outcome {
            self.calls.push((h.own_at, h.stream_offset, h.bytes.to_vec(), h.may_ask_more));
            match h.may_ask_more {
                true => Outcome::NeedMore { offset: 0, need: streams::Need::UntilEnd },
                false => Outcome::Consumed,
            }
        }
    }

    /// The sender's CDC saying it is done writing (TCP's FIN) dissects what waited for the direction's end, on
    /// the first visit and again on every later one; the data frames it came from point to it.
    #[test]
    fn the_cdc_ending_a_direction_dissects_what_waited_for_it() {
        let dir = flow(A, 40000, B, 80);
        let l = Layout::default();
        let done = SmcrCdcRepr {
            conn_state: ConnState(ConnState::PEER_DONE_WRITING),
            ..SmcrCdcRepr::new(1, 9, (0, 5), (0, 0))
        };
        let frames = [data_frame(&l, 1, 1, b"abc"), data_frame(&l, 1, 1, b"de"), smcr_cdc_frame(&l, 1, &done)];
        let mut s = Session::default();
        let settings = Settings::default();
        let mut app = UntilEnd::default();
        for (num, f) in (1..).zip(&frames) {
            s.frame(&input(num, dir, f), &settings, &mut app);
        }
        let whole = (None, 0, b"abcde".to_vec(), false);
        assert_eq!(app.calls, [(Some(16), 0, b"abc".to_vec(), true), whole.clone()]);
        app.calls.clear();
        let end = s.frame(&input(3, dir, &frames[2]), &settings, &mut app).stream.unwrap();
        assert_eq!(app.calls, [whole], "replayed");
        let r = end.handoff.and_then(|h| h.reassembled).unwrap();
        assert_eq!(r.parts, [(1, 3), (2, 2)]);
        app.calls.clear();
        for (num, f) in (1..).zip(&frames[..2]) {
            let fs = s.frame(&input(num, dir, f), &settings, &mut app).stream.unwrap();
            assert_eq!(fs.handoff.and_then(|h| h.rest_in), Some(3), "frame {num}");
        }
        assert!(app.calls.is_empty(), "the data frames dissect nothing of their own: {:?}", app.calls);
    }

    #[test]
    fn a_found_frame_counts_and_its_data_goes_to_the_application() {
        let dir = flow(A, 40000, B, 80);
        let mut s = Session::default();
        let found = |num, payload| FrameInput { seen: Seen::Found, ..input(num, dir, payload) };
        let mut app = Lv::default();
        let d = data_frame(&Layout::default(), 1, 1, &[4, 1, 2, 3, 4]);
        let o = s.frame(&found(1, &d), &Settings::default(), &mut app);
        assert_eq!(app.calls, [(Some(16), 0, vec![4, 1, 2, 3, 4], true)]);
        assert!(o.stream.unwrap().handoff.is_some_and(|h| h.taken && h.own == 5));
        // A datagram whose header is not consistent is not smcdump's.
        let mut bad = cdc(1, 1, (0, 5), (0, 0));
        bad[8..10].copy_from_slice(&[0xFF, 0xFF]);
        assert!(s.frame(&found(2, &bad), &Settings::default(), &mut app).frame.is_none());
        assert_eq!(s.table().conns()[0].data, [5, 0]);
        assert_eq!(s.tapped(1).map(|t| matches!(t, Tapped::Frame(_))), Some(true));
        assert_eq!(s.tapped(2), None);
    }
}
