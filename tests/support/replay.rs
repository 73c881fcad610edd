//! Replays a capture through smcdump's pure per-frame pipeline (`smcdump::capture`, `smcdump::dissect`) the way
//! Wireshark's callbacks feed it, without Wireshark: a first pass over every frame in capture order, then a second
//! pass that reads back what the first decided and renders each dump frame into a recording tree (`tshark -2`).
//!
//! Which frames reach which entry point is Wireshark's dispatch, emulated here: a UDP datagram goes to smcdump
//! when its header is consistent (the heuristics) or when its flow was handed to smcdump and it starts with the
//! magic (the flow's conversation dissector); a dump frame another dissector took is still seen by the
//! postdissector; a TCP SYN with SMC's option hands over its flow; a TCP segment with a CLC message feeds the
//! handshakes. Wireshark's `tcp.stream` is a counter of TCP conversations in order of appearance.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use smcdump::capture::{Application, FrameInput, FrameOutcome, Seen, Session, Settings};
use smcdump::dissect::{self, RecordingTree, Summary};
use smcdump::wire::clc;
use smcdump::wire::envelope::{find_dump, Link};
use smcdump::wire::handshake::{smc_syn, tcp_payload};
use smcdump::wire::header::{claims, starts_dump_header};
use smcdump::wire::net::{Ipv4View, UdpView, IPPROTO_UDP, IPV4_LEN, NET, UDP_LEN};
use smcdump::wire::{ConnKey, Endpoint, Flow};

use super::capture::read_capture;

/// A UDP datagram of a whole frame: flow, the link layer's source MAC, captured payload, length on the wire.
struct Datagram<'a> {
    flow: Flow,
    device: Option<[u8; 6]>,
    payload: &'a [u8],
    reported: usize,
}

/// The IPv4/UDP datagram a frame of link type `link` carries, if any.
fn datagram(link: Link, frame: &[u8]) -> Option<Datagram<'_>> {
    if !link.announces_ipv4(frame) {
        return None;
    }
    let ip_at = link.ip();
    let ip = Ipv4View::parse(frame.get(ip_at..ip_at + IPV4_LEN)?, ip_at, NET).repr()?;
    let ihl = usize::from(ip.version_ihl & 0x0F) * 4;
    if ip.version_ihl >> 4 != 4 || ihl < IPV4_LEN || ip.protocol != IPPROTO_UDP || ip.frag & 0x3FFF != 0 {
        return None;
    }
    let udp_at = ip_at + ihl;
    let udp = UdpView::parse(frame.get(udp_at..udp_at + UDP_LEN)?, udp_at, NET).repr()?;
    let reported = usize::from(udp.len).checked_sub(UDP_LEN)?;
    let start = udp_at + UDP_LEN;
    let end = frame.len().min(start + reported);
    Some(Datagram {
        flow: Flow::new(Endpoint::new(ip.src, udp.sport), Endpoint::new(ip.dst, udp.dport)),
        device: link.source_mac(frame),
        payload: frame.get(start..end).unwrap_or(&[]),
        reported,
    })
}

/// One dump frame as the second pass shows it.
pub struct Shown {
    pub num: u32,
    /// The UDP payload's captured bytes.
    pub payload: Vec<u8>,
    pub summary: Summary,
    pub outcome: FrameOutcome,
    pub tree: RecordingTree,
}

/// A capture replayed: its session after the first pass, and the dump frames the second pass showed.
pub struct Replayed {
    pub session: Session,
    pub shown: Vec<Shown>,
}

/// Replays the capture at `path` under `settings`, handing application data to `app`.
pub fn replay(path: &Path, settings: &Settings, app: &mut dyn Application) -> Replayed {
    let (link, frames) = read_capture(path);
    let mut session = Session::default();
    let mut handed: HashSet<ConnKey> = HashSet::new();
    let mut tcp_streams: HashMap<ConnKey, u32> = HashMap::new();
    // First pass: every frame, in capture order.
    for (num, (frame, _)) in (1..).zip(&frames) {
        if let Some(d) = datagram(link, frame) {
            let layout = session.layout(settings);
            let ours = claims(d.payload, d.reported, &layout)
                || (handed.contains(&d.flow.conn()) && starts_dump_header(d.payload, &layout));
            if ours {
                let input = input(num, Seen::Dissected, &d);
                session.frame(&input, settings, app);
                if claims(d.payload, d.reported, &layout) {
                    handed.insert(d.flow.conn());
                }
                continue;
            }
        }
        if let Some(found) = find_dump(frame, frame.len()) {
            let d = Datagram {
                flow: found.flow,
                device: found.device,
                payload: &frame[found.payload.clone()],
                reported: found.payload_len,
            };
            if session.frame(&input(num, Seen::Found, &d), settings, app).frame.is_some() {
                handed.insert(d.flow.conn());
            }
        } else if let Some((flow, payload)) = tcp_payload(frame) {
            let next = tcp_streams.len() as u32;
            let stream = *tcp_streams.entry(flow.conn()).or_insert(next);
            if let Some(syn) = smc_syn(frame) {
                session.syn(num, &syn, Some(stream));
                handed.insert(syn.flow.conn());
            } else if let Some(msg) = clc::parse(payload) {
                session.clc(num, flow, &msg);
            }
        }
    }
    // Second pass: what each dump frame shows.
    let mut shown = Vec::new();
    for (num, (frame, _)) in (1..).zip(&frames) {
        let Some(d) = datagram(link, frame) else { continue };
        let layout = session.layout(settings);
        if !(claims(d.payload, d.reported, &layout)
            || (handed.contains(&d.flow.conn()) && starts_dump_header(d.payload, &layout)))
        {
            continue;
        }
        let mut columns = Columns { app, summary: None };
        let outcome = session.frame(&input(num, Seen::Dissected, &d), settings, &mut columns);
        let summary = columns.summary.expect("every dissected frame is parsed");
        let mut tree = RecordingTree::new(d.payload.len());
        dissect::render(&mut tree, 0, &outcome);
        shown.push(Shown { num, payload: d.payload.to_vec(), summary, outcome, tree });
    }
    Replayed { session, shown }
}

fn input<'a>(num: u32, seen: Seen, d: &Datagram<'a>) -> FrameInput<'a> {
    FrameInput { num, seen, payload: d.payload, reported: d.reported, flow: Some(d.flow), device: d.device }
}

/// The application of the second pass, keeping the columns smcdump gives the frame.
struct Columns<'a> {
    app: &'a mut dyn Application,
    summary: Option<Summary>,
}

impl Application for Columns<'_> {
    fn parsed(&mut self, frame: &Result<smcdump::wire::DumpFrame, smcdump::wire::frame::FrameError>) {
        self.summary = Some(dissect::summary(frame));
        self.app.parsed(frame);
    }
    fn follow(&mut self, data: smcdump::wire::Span) {
        self.app.follow(data);
    }
    fn missing(&mut self, at: u64, len: u64) {
        self.app.missing(at, len);
    }
    fn dissect(&mut self, h: &smcdump::capture::Handover<'_>) -> smcdump::capture::streams::Outcome {
        self.app.dissect(h)
    }
}
