//! What the fuzz targets share: how an input becomes a layout, a reported length and a UDP payload, and the
//! checks every dissection must pass.
//!
//! An input is a 6-byte prefix followed by the captured UDP payload:
//!
//! | byte | meaning |
//! |------|---------|
//! | 0    | `smcdump.header_len` preference (any value; out-of-range ones fall back, as in Wireshark) |
//! | 1, 2 | `smcdump.type_raw`, `smcdump.type_cdc` |
//! | 3    | `smcdump.smcd_byte_order`, as a signed byte |
//! | 4, 5 | big-endian: bytes on the wire beyond the captured ones; 0xFFFF means a reported length of 0 |
//!
//! `fuzz/make-seeds` writes the UDP payloads of test-pcaps/ behind the prefix `10 01 02 00 00 00` (the defaults).

use smcdump::dissect::RecordingTree;
use smcdump::wire::header::claims;
use smcdump::wire::{DumpFrame, Layout, Span};

/// Bytes before the payload.
pub const PREFIX: usize = 6;

/// One fuzz input, decoded.
pub struct Input<'a> {
    pub layout: Layout,
    pub captured: &'a [u8],
    pub reported: usize,
}

impl<'a> Input<'a> {
    /// Splits an input into its prefix and payload; `None` when it is shorter than the prefix.
    pub fn new(data: &'a [u8]) -> Option<Self> {
        let (&[hl, raw, cdc, order, e0, e1], captured) = data.split_first_chunk::<PREFIX>()?;
        let layout = Layout::from_prefs(hl.into(), raw.into(), cdc.into(), i32::from(order as i8));
        let extra = u16::from_be_bytes([e0, e1]);
        let reported = if extra == u16::MAX { 0 } else { captured.len() + usize::from(extra) };
        Some(Input { layout, captured, reported })
    }
}

/// The heuristic and the parser agree: a claimed payload parses, with the magic and the payload its length gives;
/// parsing fails exactly when the header was not captured.
pub fn check_parse(input: &Input) {
    let Input { layout, captured, reported } = input;
    let parsed = DumpFrame::parse(captured, *reported, layout);
    assert_eq!(parsed.is_ok(), captured.len() >= layout.header_len);
    if claims(captured, *reported, layout) {
        let f = parsed.expect("a claimed payload parses");
        let len = usize::from(f.header.repr.len);
        assert!(f.magic_ok);
        assert_eq!(f.payload_span, Span::new(layout.header_len, len - layout.header_len));
        assert!(f.payload_span.end() <= f.reported);
    }
    if let Ok(f) = parsed {
        assert!(f.visible_end() <= captured.len());
    }
}

/// Renders the input and checks that every recorded item, and every span asked for, lies within the capture.
pub fn check_dissect(input: &Input) {
    let mut w = RecordingTree::new(input.captured.len());
    let summary = smcdump::dissect::dissect(&mut w, 0, input.captured, input.reported, &input.layout);
    for item in &w.items {
        assert!(item.span.within(input.captured.len()), "recorded {item:?}");
    }
    for (hf, span, _) in &w.requested {
        assert!(span.within(input.captured.len()), "{hf:?} asked for {span:?}");
    }
    assert!(!summary.info.contains('\0'));
}

// ---------------------------------------------------------------------------------------------------------------
// Sequences of frames through the whole per-frame pipeline (the `frames` target).

use std::collections::HashMap;

use smcdump::capture::streams::{Need, Outcome};
use smcdump::capture::{Application, FrameInput, Handover, Seen, Session, Settings};
use smcdump::wire::{Endpoint, Flow};

/// One frame of a sequence: `[flags][length, 2 bytes big-endian][UDP payload]`. The flags byte picks the flow
/// (bits 0-1: one of four connections; bit 2: the reverse direction; bit 6: both ends on one address, as an SMC-D
/// loopback connection's), how the frame reached smcdump (bit 3: found by the postdissector) and the dump device
/// (bits 4-5). A sequence is the 6-byte prefix of [`Input`] (its bytes
/// 4 and 5 set the preferences' switches: analysis, learning, hand-off) and then frames until the input ends.
pub struct Frames<'a> {
    pub settings: Settings,
    pub frames: Vec<(Flow, Seen, [u8; 6], &'a [u8])>,
}

impl<'a> Frames<'a> {
    pub fn new(data: &'a [u8]) -> Option<Self> {
        let input = Input::new(data)?;
        let switches = data[4];
        let settings = Settings {
            layout: input.layout,
            learn_layout: switches & 1 == 0,
            analyze: switches & 2 == 0,
            handoff: switches & 4 == 0,
            handoff_tries: u32::from(data[5] & 0x0F),
        };
        let mut frames = Vec::new();
        let mut rest = &data[PREFIX..];
        while let [flags, hi, lo, tail @ ..] = rest {
            let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
            let (payload, next) = tail.split_at(len);
            let conn = flags & 3;
            let client = Endpoint::new([10, 0, conn, 1], 40000 + u16::from(conn));
            let server = Endpoint::new([10, 0, conn, if flags & 0x40 == 0 { 2 } else { 1 }], 80);
            let flow = if flags & 4 == 0 { Flow::new(client, server) } else { Flow::new(server, client) };
            let seen = if flags & 8 == 0 { Seen::Dissected } else { Seen::Found };
            frames.push((flow, seen, [2, 0, 0, 0, 0, (flags >> 4) & 3], payload));
            rest = next;
        }
        Some(Frames { settings, frames })
    }
}

/// A scripted application whose decisions depend only on the bytes it is given (the first byte picks: refuse,
/// take all, take some and wait for a number of bytes, for the next data, or for the direction's end); it notes the stream bytes each
/// first-visit call takes, for [`check_frames`] to check that none is taken twice.
#[derive(Default)]
pub struct Checker {
    /// The stream bytes the current frame's calls took, as ranges.
    taken: Vec<(u64, u64)>,
    /// The frame's own bytes the current frame's calls were given, as ranges.
    given: Vec<(u64, u64)>,
}

impl Application for Checker {
    fn dissect(&mut self, h: &Handover<'_>) -> Outcome {
        let b = h.bytes;
        let outcome = match b.first().map(|x| x % 5) {
            None | Some(0) => Outcome::Refused,
            Some(1) => Outcome::Consumed,
            Some(2) => Outcome::NeedMore {
                offset: usize::from(*b.get(1).unwrap_or(&0)).min(b.len()),
                need: Need::Bytes(usize::from(*b.get(2).unwrap_or(&1)).max(1)),
            },
            Some(3) => {
                Outcome::NeedMore { offset: usize::from(*b.get(1).unwrap_or(&0)).min(b.len()), need: Need::NextData }
            }
            _ => Outcome::NeedMore { offset: usize::from(*b.get(1).unwrap_or(&0)).min(b.len()), need: Need::UntilEnd },
        };
        if h.may_ask_more && h.own_at.is_some() {
            self.given.push((h.stream_offset, h.stream_offset + b.len() as u64));
        }
        if h.may_ask_more {
            let taken = match outcome {
                Outcome::Refused => 0,
                Outcome::Consumed => b.len(),
                Outcome::NeedMore { offset, .. } => offset,
            } as u64;
            if taken > 0 {
                self.taken.push((h.stream_offset, h.stream_offset + taken));
            }
        }
        outcome
    }
}

/// Runs a sequence through two passes of the pipeline, rendering every frame: no panic, every item within the
/// capture, no stream byte given to the application twice as a frame's own or taken by it twice, data positions
/// never going back within a copy of a direction, and the second pass reading back the first's stream facts.
pub fn check_frames(f: &Frames) {
    let mut session = Session::default();
    let mut app = Checker::default();
    let mut first = Vec::new();
    // By stream and direction: the bytes given and taken so far; by copy, where the last data frame started.
    let mut taken: HashMap<(u32, u8), Vec<(u64, u64)>> = HashMap::new();
    let mut given: HashMap<(u32, u8), Vec<(u64, u64)>> = HashMap::new();
    let mut last_start: HashMap<(u32, u8, u8), u64> = HashMap::new();
    for (num, &(flow, seen, device, payload)) in (1..).zip(&f.frames) {
        let input = FrameInput { num, seen, payload, reported: payload.len(), flow: Some(flow), device: Some(device) };
        let o = session.frame(&input, &f.settings, &mut app);
        if session.decided_again_at() == num {
            // A new layout had the frames so far decided again: the streams start over (what the application
            // was given of them stays given).
            taken.clear();
            given.clear();
            last_start.clear();
        }
        if let Some(fs) = &o.stream {
            let key = (fs.stream, fs.dir);
            for (what, ranges, new) in [("taken", &mut taken, &mut app.taken), ("given", &mut given, &mut app.given)] {
                let ranges = ranges.entry(key).or_default();
                for range in new.drain(..) {
                    for &(s, e) in ranges.iter() {
                        assert!(range.1 <= s || e <= range.0, "frame {num}: bytes {range:?} {what} again ({s}..{e})");
                    }
                    ranges.push(range);
                }
            }
            if let Some((start, _)) = fs.data {
                let last = last_start.insert((fs.stream, fs.dir, fs.placed.copy), start).unwrap_or(0);
                assert!(start >= last, "frame {num}: data at {start}, before its copy's previous data at {last}");
            }
        }
        assert!(app.taken.is_empty(), "frame {num}: the application took bytes of a frame without a stream");
        assert!(app.given.is_empty(), "frame {num}: the application was given bytes of a frame without a stream");
        first.push(o.stream.clone());
        let mut w = RecordingTree::new(payload.len());
        smcdump::dissect::render(&mut w, 0, &o);
        for (hf, span, _) in &w.requested {
            assert!(span.within(payload.len()), "{hf:?} asked for {span:?}");
        }
    }
    // Later passes read back what the first decided; only where a message was completed ("reassembled in") can
    // be known after the frame's first visit.
    let mut later = |session: &mut Session| -> Vec<_> {
        (1..)
            .zip(&f.frames)
            .map(|(num, &(flow, seen, device, payload))| {
                let input =
                    FrameInput { num, seen, payload, reported: payload.len(), flow: Some(flow), device: Some(device) };
                session.frame(&input, &f.settings, &mut app).stream
            })
            .collect()
    };
    let second = later(&mut session);
    for (num, (a, b)) in (1..).zip(later(&mut session).iter().zip(&second)) {
        assert_eq!(a, b, "frame {num}: a third pass differs from the second");
    }
    // The frames before the layout change that had them decided again show it from the second pass on.
    let learned = session.decided_again_at();
    for (num, (a, b)) in (1..).zip(first.iter().zip(&second)).filter(|(n, _)| *n >= learned) {
        let without_rest_in = |fs: &Option<smcdump::capture::streams::FrameStream>| {
            fs.clone().map(|mut fs| {
                if let Some(h) = fs.handoff.as_mut() {
                    h.rest_in = None;
                }
                fs
            })
        };
        assert_eq!(without_rest_in(a), without_rest_in(b), "frame {num}: the second pass differs from the first");
    }
}
