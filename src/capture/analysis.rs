//! Connection analysis: relates the dump frames of one direction of a flow to each other.
//!
//! Pure Rust: the FFI layer hands in the frame number and the direction, and keeps one [`Analyzer`] per capture
//! file. Frames are analysed on their first visit, in capture order (Wireshark's first pass); later visits (a
//! second pass, a click in the GUI, a new display filter) get the cached result, so what a frame shows never
//! depends on which frames were looked at before it.
//!
//! Within one direction (source → destination address and port), the dump carries the data blocks written into
//! the peer's ring buffer and the CDC messages that announce them with a new producer cursor; for received data
//! the blocks come before the CDC that announces them (spec 4.1). So, per direction:
//! - each CDC's producer and consumer cursors must not go back from the previous CDC's;
//! - when the producer cursor stayed in the same wrap, its advance equals the data bytes dumped since the
//!   previous CDC (when any were dumped; a capture may hold CDCs only);
//! - SMC-R sequence numbers grow by one (0 is the kernel's "rebuilt in immediate-data mode", not checked).

use super::copies::{advance, CopyFacts};
use super::handshakes::Handshake;
use super::hash::FastMap;
use super::records::FrameRecords;
use crate::wire::{DumpFrame, Payload};

/// What the analysis says about one frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameAnalysis {
    /// The previous CDC message in the same direction.
    pub prev_cdc: Option<u32>,
    /// For a CDC: bytes of data dumped in this direction since the previous CDC.
    pub data_bytes: Option<u64>,
    /// For a CDC: how far the producer cursor moved since the previous CDC, when both are in the same wrap.
    pub prod_advance: Option<u32>,
    /// SMC-R: the sequence number that should have followed the previous CDC's, when this one is another.
    pub seq_expected: Option<u16>,
    /// The previous CDC's producer cursor (wrap, count), when this CDC's lies before it.
    pub prod_backwards: Option<(u16, u32)>,
    /// The previous CDC's consumer cursor, when this CDC's lies before it.
    pub cons_backwards: Option<(u16, u32)>,
    /// The previous CDC's producer cursor, when this CDC's lies more than a whole ring past it (its wrap count
    /// two or more ahead, or one ahead at a higher count when the ring's size is known): a wrap's data that no
    /// CDC in the capture announced.
    pub wrap_skipped: Option<(u16, u32)>,
    /// The frames of the connection's CLC Accept and Confirm, when the handshake is in the capture.
    pub clc_accept: Option<u32>,
    pub clc_confirm: Option<u32>,
    /// The size of the ring this direction's data is written into (from the CLC handshake).
    pub ring_size: Option<u32>,
    /// For data: where in that ring the frame's first byte lies.
    pub ring_offset: Option<u32>,
    /// For a CDC: bytes this side wrote that the peer has not consumed yet (this producer cursor against the
    /// peer's latest consumer cursor; across a wrap when the ring size is known).
    pub unconsumed: Option<u32>,
    /// Wireshark's TCP stream of the CLC handshake: one per connection, so it is not stored with each frame but
    /// filled in by the session from the handshake's frames.
    pub clc_tcp_stream: Option<u32>,
}

impl FrameAnalysis {
    /// The peer's buffer is full: every byte of the ring written and unconsumed (TCP's zero window).
    pub fn peer_buffer_full(&self) -> bool {
        matches!((self.unconsumed, self.ring_size), (Some(u), Some(r)) if r > 0 && u == r)
    }
}

impl FrameAnalysis {
    /// The producer cursor advanced by a different amount than the data dumped since the previous CDC.
    pub fn data_mismatch(&self) -> Option<(u32, u64)> {
        match (self.prod_advance, self.data_bytes) {
            (Some(advance), Some(data)) if data > 0 && u64::from(advance) != data => Some((advance, data)),
            _ => None,
        }
    }
}

/// The anomalies of one frame: kept apart, for the few frames that have any.
#[derive(Clone, Copy, Debug)]
struct Anomalies {
    seq_expected: Option<u16>,
    prod_backwards: Option<(u16, u32)>,
    cons_backwards: Option<(u16, u32)>,
    wrap_skipped: Option<(u16, u32)>,
}

impl Anomalies {
    fn of(a: &FrameAnalysis) -> Option<Anomalies> {
        let x = Anomalies {
            seq_expected: a.seq_expected,
            prod_backwards: a.prod_backwards,
            cons_backwards: a.cons_backwards,
            wrap_skipped: a.wrap_skipped,
        };
        let any = x.seq_expected.is_some()
            || x.prod_backwards.is_some()
            || x.cons_backwards.is_some()
            || x.wrap_skipped.is_some();
        any.then_some(x)
    }
}

/// What a direction's frames share: the CLC Accept and Confirm frames and the ring size. Kept once, named by an
/// index in each frame's record.
type Shared = (Option<u32>, Option<u32>, Option<u32>);

/// A frame's analysis as kept between visits, a record of [`FrameRecords`]: every frame has one, so it takes a
/// few bytes (5 for a data frame ten frames after its CDC, against [`FrameAnalysis`]'s hundred-odd): a byte saying
/// which values are present, then each as a varint, the previous CDC as the distance back to it, and the
/// direction's [`Shared`] facts as their index.
mod record {
    use super::{FrameAnalysis, Shared};
    use crate::capture::hash::FastMap;
    use crate::capture::records::{get_varint, put_varint, SelfDelimiting};

    const PREV_CDC: u8 = 1 << 0;
    const PROD_ADVANCE: u8 = 1 << 1;
    const RING_OFFSET: u8 = 1 << 2;
    const UNCONSUMED: u8 = 1 << 3;
    const DATA_BYTES: u8 = 1 << 4;
    const CONTEXT: u8 = 1 << 5;
    const ALL: u8 = (1 << 6) - 1;

    /// An analysis record: its presence byte says how many varints follow.
    #[derive(Debug)]
    pub struct Analysis;

    impl SelfDelimiting for Analysis {
        fn len(bytes: &[u8]) -> Option<usize> {
            let present = *bytes.first()?;
            if present & !ALL != 0 {
                return None;
            }
            let mut pos = 1;
            for _ in 0..present.count_ones() {
                get_varint(bytes, &mut pos)?;
            }
            Some(pos)
        }
    }

    /// The shared facts of one capture file, each once.
    #[derive(Debug, Default)]
    pub struct Contexts {
        all: Vec<Shared>,
        index: FastMap<Shared, u32>,
    }

    impl Contexts {
        fn id(&mut self, c: Shared) -> u32 {
            if let Some(&i) = self.index.get(&c) {
                return i;
            }
            let i = u32::try_from(self.all.len()).unwrap_or(u32::MAX);
            self.all.push(c);
            self.index.insert(c, i);
            i
        }
    }

    /// Frame `num`'s analysis `a` as a record (1 to 1 + 5 * 5 + 10 bytes; self-delimiting).
    pub fn encode(num: u32, a: &FrameAnalysis, contexts: &mut Contexts, out: &mut Vec<u8>) {
        let context = (a.clc_accept, a.clc_confirm, a.ring_size);
        let values = [
            (PREV_CDC, a.prev_cdc.map(|p| u64::from(num.wrapping_sub(p)))),
            (PROD_ADVANCE, a.prod_advance.map(u64::from)),
            (RING_OFFSET, a.ring_offset.map(u64::from)),
            (UNCONSUMED, a.unconsumed.map(u64::from)),
            (DATA_BYTES, a.data_bytes),
            (CONTEXT, (context != (None, None, None)).then(|| u64::from(contexts.id(context)))),
        ];
        out.push(values.iter().filter(|(_, v)| v.is_some()).fold(0, |m, (bit, _)| m | bit));
        for v in values.iter().filter_map(|(_, v)| *v) {
            put_varint(out, v);
        }
    }

    /// The analysis record at the start of `bytes` (frame `num`'s), without its anomalies; `None` if it is not one.
    pub fn decode(num: u32, bytes: &[u8], contexts: &Contexts) -> Option<FrameAnalysis> {
        let present = *bytes.first()?;
        let mut pos = 1;
        let mut next = |bit: u8| -> Option<Option<u64>> {
            if present & bit == 0 {
                return Some(None);
            }
            get_varint(bytes, &mut pos).map(Some)
        };
        let small = |v: Option<u64>| v.and_then(|v| u32::try_from(v).ok());
        let prev_cdc = small(next(PREV_CDC)?).map(|d| num.wrapping_sub(d));
        let prod_advance = small(next(PROD_ADVANCE)?);
        let ring_offset = small(next(RING_OFFSET)?);
        let unconsumed = small(next(UNCONSUMED)?);
        let data_bytes = next(DATA_BYTES)?;
        let (clc_accept, clc_confirm, ring_size) = match small(next(CONTEXT)?) {
            Some(i) => *contexts.all.get(i as usize)?,
            None => (None, None, None),
        };
        Some(FrameAnalysis {
            prev_cdc,
            prod_advance,
            ring_offset,
            unconsumed,
            data_bytes,
            clc_accept,
            clc_confirm,
            ring_size,
            ..FrameAnalysis::default()
        })
    }
}

/// How many bytes lie between the peer's consumer cursor `cons` and producer cursor `prod`: within one wrap, or
/// across one wrap when the ring's size is known.
fn unconsumed(prod: (u16, u32), cons: (u16, u32), ring: Option<u32>) -> Option<u32> {
    if prod.0 == cons.0 {
        return prod.1.checked_sub(cons.1);
    }
    match ring {
        Some(size) if prod.0 == cons.0.wrapping_add(1) && prod.1 <= cons.1 && cons.1 <= size => {
            Some(size - cons.1 + prod.1)
        }
        _ => None,
    }
}

/// Whether cursor `now` lies more than a whole ring past `prev`: two wraps or more ahead (a wrap count that went
/// back, half the counter's range or more ahead, is not this), or one wrap ahead at a higher count when the
/// ring's size is known.
fn past_a_ring(prev: (u16, u32), now: (u16, u32), ring: Option<u32>) -> bool {
    let wraps = now.0.wrapping_sub(prev.0);
    (2..0x8000).contains(&wraps) || (wraps == 1 && ring.is_some() && now.1 > prev.1)
}

/// Whether cursor `now` lies before `prev`: the same wrap and a lower count.
fn behind(now: (u16, u32), prev: (u16, u32)) -> bool {
    now.0 == prev.0 && now.1 < prev.1
}

/// The analysis state of one capture file.
#[derive(Debug, Default)]
pub struct Analyzer {
    frames: FrameRecords<record::Analysis>,
    contexts: record::Contexts,
    anomalies: FastMap<u32, Anomalies>,
    /// The record being written (kept to reuse its allocation).
    scratch: Vec<u8>,
}

impl Analyzer {
    /// Forgets everything: a new capture file starts.
    pub fn clear(&mut self) {
        *self = Analyzer::default();
    }

    /// The cached analysis of frame `num`, if it was analysed.
    pub fn get(&self, num: u32) -> Option<FrameAnalysis> {
        let mut a = record::decode(num, self.frames.get(num)?, &self.contexts)?;
        if let Some(x) = self.anomalies.get(&num) {
            a.seq_expected = x.seq_expected;
            a.prod_backwards = x.prod_backwards;
            a.cons_backwards = x.cons_backwards;
            a.wrap_skipped = x.wrap_skipped;
        }
        Some(a)
    }

    /// The analysis of frame `num`, parsed as `frame`, whose copy of its direction knew `facts` before it and whose
    /// connection's CLC handshake (if in the capture) says `handshake`: computed on the first visit, cached
    /// afterwards.
    pub fn analyze(
        &mut self,
        num: u32,
        frame: &DumpFrame,
        facts: &CopyFacts,
        handshake: Option<Handshake>,
    ) -> FrameAnalysis {
        if let Some(a) = self.get(num) {
            return a;
        }
        let a = analysis(frame, facts, &handshake.unwrap_or_default());
        self.scratch.clear();
        record::encode(num, &a, &mut self.contexts, &mut self.scratch);
        self.frames.insert(num, &self.scratch);
        match Anomalies::of(&a) {
            Some(x) => self.anomalies.insert(num, x),
            None => self.anomalies.remove(&num),
        };
        a
    }
}

/// What `frame` says against what its copy knew before it (`facts`) and the connection's handshake `hs`.
fn analysis(frame: &DumpFrame, facts: &CopyFacts, hs: &Handshake) -> FrameAnalysis {
    let ring = hs.ring_size.filter(|&r| r > 0).or(facts.ring_from_wrap);
    // The peer's latest consumer cursor; with the handshake in the capture, the connection started in it, with
    // the cursors at 0.
    let from_start = hs.accept_frame.is_some();
    let peer_cons = facts.peer_cons.or(from_start.then_some((0, 0)).filter(|_| hs.ring_size.is_some()));
    let mut a = FrameAnalysis {
        prev_cdc: facts.prev.map(|p| p.frame),
        clc_accept: hs.accept_frame,
        clc_confirm: hs.confirm_frame,
        ring_size: hs.ring_size.or(facts.ring_from_wrap),
        ..FrameAnalysis::default()
    };
    match frame.payload {
        _ if !frame.magic_ok => {}
        Payload::Raw(_) => {
            // Data lies where the previous CDC's producer cursor pointed (0:0 when the connection's start is in
            // the capture), after the data dumped since.
            let from = facts.prev.map(|p| p.prod.1).or(from_start.then_some(0));
            if let (Some(size), Some(from)) = (ring, from) {
                a.ring_offset = Some(((u64::from(from) + facts.since) % u64::from(size)) as u32);
            }
        }
        // A CDC whose cursors and flags were not all captured says nothing reliable about the connection.
        Payload::Cdc { cdc, .. } => {
            if let Some((prod, cons)) = cdc.complete_cursors() {
                if let Some(prev) = facts.prev {
                    a.data_bytes = Some(facts.since);
                    a.prod_advance = advance(prev.prod, prod, ring);
                    a.prod_backwards = behind(prod, prev.prod).then_some(prev.prod);
                    a.cons_backwards = behind(cons, prev.cons).then_some(prev.cons);
                    a.wrap_skipped = past_a_ring(prev.prod, prod, ring).then_some(prev.prod);
                    a.seq_expected = match (prev.seqno, cdc.seqno()) {
                        (Some(p), Some(s)) if p != 0 && s != 0 && s != p.wrapping_add(1) => Some(p.wrapping_add(1)),
                        _ => None,
                    };
                }
                a.unconsumed = peer_cons.and_then(|c| unconsumed(prod, c, ring));
            }
        }
        Payload::Undecoded(_) => {}
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_analysis_reads_back_exactly() {
        let full = FrameAnalysis {
            prev_cdc: Some(7),
            data_bytes: Some(u64::MAX),
            prod_advance: Some(u32::MAX),
            seq_expected: Some(0),
            prod_backwards: Some((3, u32::MAX)),
            cons_backwards: Some((0, 0)),
            wrap_skipped: Some((1, 1)),
            clc_accept: Some(1),
            clc_confirm: Some(3),
            ring_size: Some(65536),
            ring_offset: Some(0),
            unconsumed: Some(0),
            // Kept per connection, not with the frame.
            clc_tcp_stream: None,
        };
        let some = FrameAnalysis { prev_cdc: Some(2), unconsumed: Some(5), ..FrameAnalysis::default() };
        let data = FrameAnalysis { prev_cdc: Some(999_990), ring_offset: Some(16000), ..full_context(&full) };
        let cases =
            [full, some, data, FrameAnalysis::default(), FrameAnalysis { cons_backwards: Some((1, 2)), ..some }];
        let mut contexts = record::Contexts::default();
        for (num, a) in (100..).zip(cases) {
            let mut out = Vec::new();
            record::encode(num, &a, &mut contexts, &mut out);
            assert_eq!(<record::Analysis as crate::capture::records::SelfDelimiting>::len(&out), Some(out.len()));
            let anomalies = Anomalies::of(&a);
            let mut back = record::decode(num, &out, &contexts).unwrap();
            if let Some(x) = anomalies {
                (back.seq_expected, back.prod_backwards, back.cons_backwards) =
                    (x.seq_expected, x.prod_backwards, x.cons_backwards);
                back.wrap_skipped = x.wrap_skipped;
            }
            assert_eq!(back, a);
            assert_eq!(
                anomalies.is_some(),
                a.seq_expected.is_some() || a.cons_backwards.is_some() || a.wrap_skipped.is_some()
            );
        }
        // A data frame of a connection with its handshake, 10 frames after the previous CDC: a few bytes.
        let mut out = Vec::new();
        record::encode(1_000_000, &cases[2], &mut contexts, &mut out);
        assert_eq!(out.len(), 1 + 1 + 2 + 1, "{out:?}");
        // A record cut short is not one.
        assert_eq!(record::decode(1, &out[..3], &contexts), None);
    }

    fn full_context(a: &FrameAnalysis) -> FrameAnalysis {
        FrameAnalysis {
            clc_accept: a.clc_accept,
            clc_confirm: a.clc_confirm,
            ring_size: a.ring_size,
            ..FrameAnalysis::default()
        }
    }
    use crate::capture::testing::{data, flow, AnalysisRun as Run};

    fn cdc(seqno: u16, prod: (u16, u32), cons: (u16, u32)) -> Vec<u8> {
        crate::capture::testing::cdc(seqno, 1, prod, cons)
    }

    const A: [u8; 4] = [10, 0, 0, 1];
    const B: [u8; 4] = [10, 0, 0, 2];

    #[test]
    fn data_and_cursors_of_one_direction() {
        let mut an = Run::default();
        let ab = flow(A, 1000, B, 2000);
        let ba = flow(B, 2000, A, 1000);
        assert_eq!(an.frame(1, ab, &cdc(1, (0, 0), (0, 0)), None), FrameAnalysis::default());
        assert_eq!(an.frame(2, ab, &data(100), None).prev_cdc, Some(1));
        // The other direction has its own state; its 7 bytes wait against this direction's consumer cursor.
        let unconsumed = FrameAnalysis { unconsumed: Some(7), ..FrameAnalysis::default() };
        assert_eq!(an.frame(3, ba, &cdc(1, (0, 7), (0, 0)), None), unconsumed);
        assert_eq!(an.frame(4, ab, &data(50), None).prev_cdc, Some(1));
        let a = an.frame(5, ab, &cdc(2, (0, 150), (0, 7)), None);
        assert_eq!(a.prev_cdc, Some(1));
        assert_eq!((a.data_bytes, a.prod_advance, a.data_mismatch()), (Some(150), Some(150), None));
        assert_eq!((a.seq_expected, a.prod_backwards, a.cons_backwards), (None, None, None));
    }

    #[test]
    fn problems_are_reported() {
        let mut an = Run::default();
        let ab = flow(A, 1, B, 2);
        an.frame(1, ab, &cdc(5, (2, 500), (1, 300)), None);
        an.frame(2, ab, &data(10), None);
        let a = an.frame(3, ab, &cdc(7, (2, 400), (1, 200)), None);
        assert_eq!(a.seq_expected, Some(6));
        assert_eq!(a.prod_backwards, Some((2, 500)));
        assert_eq!(a.cons_backwards, Some((1, 300)));
        assert_eq!(a.prod_advance, None);
        let a = an.frame(4, ab, &cdc(8, (2, 420), (1, 200)), None);
        assert_eq!((a.seq_expected, a.prod_advance, a.data_bytes), (None, Some(20), Some(0)));
        assert_eq!(a.data_mismatch(), None, "no data dumped: nothing to compare");
        an.frame(5, ab, &data(30), None);
        let a = an.frame(6, ab, &cdc(9, (2, 440), (1, 200)), None);
        assert_eq!(a.data_mismatch(), Some((20, 30)));
    }

    #[test]
    fn wraps_and_immediate_mode_are_not_errors() {
        let mut an = Run::default();
        let ab = flow(A, 1, B, 2);
        an.frame(1, ab, &cdc(0, (0, 65000), (0, 0)), None);
        let a = an.frame(2, ab, &cdc(0, (1, 100), (0, 0)), None);
        assert_eq!(a, FrameAnalysis { prev_cdc: Some(1), data_bytes: Some(0), ..FrameAnalysis::default() });
    }

    #[test]
    fn a_cursor_more_than_a_ring_on_skipped_a_wrap() {
        assert!(!past_a_ring((0, 65000), (1, 100), None));
        assert!(past_a_ring((0, 65000), (2, 100), None));
        // One wrap on: past a whole ring only at a higher count, which only a known ring size tells.
        assert!(!past_a_ring((3, 100), (4, 100), Some(16384)));
        assert!(past_a_ring((3, 100), (4, 101), Some(16384)));
        assert!(!past_a_ring((3, 100), (4, 101), None));
        // A wrap count that went back (modulo 2^16) is not a skip; across the counter's own wrap, 65535 to 1 is two on.
        assert!(!past_a_ring((5, 0), (4, 0), None));
        assert!(past_a_ring((u16::MAX, 0), (1, 0), None));
        let mut an = Run::default();
        let ab = flow(A, 1, B, 2);
        an.frame(1, ab, &cdc(1, (0, 120), (0, 0)), None);
        let a = an.frame(2, ab, &cdc(2, (2, 40), (0, 0)), None);
        assert_eq!(a.wrap_skipped, Some((0, 120)));
        // Cached with the frame's other anomalies.
        assert_eq!(an.get(2).map(|a| a.wrap_skipped), Some(Some((0, 120))));
    }

    #[test]
    fn results_are_cached_per_frame_and_cleared_per_file() {
        let mut an = Run::default();
        let ab = flow(A, 1, B, 2);
        an.frame(1, ab, &cdc(1, (0, 0), (0, 0)), None);
        let first = an.frame(2, ab, &cdc(3, (0, 0), (0, 0)), None);
        an.frame(3, ab, &cdc(4, (0, 0), (0, 0)), None);
        assert_eq!(an.frame(2, ab, &cdc(3, (0, 0), (0, 0)), None), first);
        let mut an = Run::default();
        assert_eq!(an.frame(2, ab, &cdc(3, (0, 0), (0, 0)), None), FrameAnalysis::default());
    }
}

#[cfg(test)]
mod ring_tests {
    use super::*;
    use crate::capture::copies::ring_from_wrap;
    use crate::capture::testing::{data, flow, AnalysisRun as Run};

    /// An SMC-R CDC of the writer with producer cursor `prod`, consumer cursor 0:0.
    fn cdc(prod: (u16, u32)) -> Vec<u8> {
        crate::capture::testing::cdc(0, 1, prod, (0, 0))
    }

    #[test]
    fn with_the_ring_size_a_wrap_is_an_advance_and_data_has_an_offset() {
        let hs = Some(Handshake { accept_frame: Some(5), confirm_frame: Some(6), ring_size: Some(16384) });
        let mut an = Run::default();
        let ab = flow([1, 1, 1, 1], 1, [2, 2, 2, 2], 2);
        an.frame(10, ab, &cdc((0, 16000)), hs);
        let d1 = an.frame(11, ab, &data(384), hs);
        let d2 = an.frame(12, ab, &data(100), hs);
        assert_eq!((d1.ring_offset, d2.ring_offset), (Some(16000), Some(0)));
        assert_eq!((d1.clc_accept, d1.clc_confirm, d1.ring_size), (Some(5), Some(6), Some(16384)));
        let c = an.frame(13, ab, &cdc((1, 100)), hs);
        assert_eq!((c.prod_advance, c.data_bytes, c.data_mismatch()), (Some(484), Some(484), None));
        // The peer (no CDC of its own yet) consumed nothing since the handshake: 1:100 would be more than its
        // ring holds.
        assert_eq!(c.unconsumed, None);
        let peer_cdc = |cons| crate::capture::testing::cdc(0, 2, (0, 0), cons);
        let peer = an.frame(14, ab.reverse(), &peer_cdc((0, 16000)), hs);
        assert_eq!(peer.unconsumed, Some(0), "the reverse direction wrote nothing");
        let c = an.frame(15, ab, &cdc((1, 200)), hs);
        assert_eq!((c.unconsumed, c.peer_buffer_full()), (Some(584), false));
        let c = an.frame(16, ab, &cdc((1, 16000)), hs);
        assert_eq!((c.unconsumed, c.peer_buffer_full()), (Some(16384), true));
        // Without the handshake, the data before the wrap has no offset; the wrap shows a size (16,000 + 384 - 100).
        let mut an = Run::default();
        an.frame(10, ab, &cdc((0, 16000)), None);
        assert_eq!(an.frame(11, ab, &data(384), None).ring_offset, None);
        let c = an.frame(13, ab, &cdc((1, 100)), None);
        assert_eq!((c.ring_size, c.prod_advance), (Some(16284), Some(384)));
    }

    #[test]
    fn without_the_handshake_the_first_wrap_shows_the_ring_size() {
        let mut an = Run::default();
        let ab = flow([1, 1, 1, 1], 1, [2, 2, 2, 2], 2);
        an.frame(1, ab, &data(10000), None);
        assert_eq!(an.frame(2, ab, &cdc((0, 10000)), None).ring_size, None);
        an.frame(3, ab, &data(6352), None);
        assert_eq!(an.frame(4, ab, &data(3648), None).ring_offset, None, "not known yet");
        // 10,000 + 10,000 bytes written, the cursor at 1:3648: the ring holds 16,352.
        let a = an.frame(5, ab, &cdc((1, 3648)), None);
        assert_eq!((a.ring_size, a.prod_advance, a.data_mismatch()), (Some(16352), Some(10000), None));
        let d = an.frame(6, ab, &data(100), None);
        assert_eq!((d.ring_size, d.ring_offset), (Some(16352), Some(3648)));
        // The other direction has not wrapped: its ring stays unknown.
        let ba = flow([2, 2, 2, 2], 2, [1, 1, 1, 1], 1);
        assert_eq!(an.frame(7, ba, &data(5), None).ring_size, None);
        // A wrap with no data dumped, or counts no size can hold, shows nothing.
        assert_eq!(ring_from_wrap((0, 65000), (1, 100), 0), None);
        assert_eq!(ring_from_wrap((0, 100), (1, 200), 50), None);
        assert_eq!(ring_from_wrap((0, 100), (2, 0), 50), None);
        assert_eq!(ring_from_wrap((u16::MAX, 100), (0, 50), 1000), Some(1050));
    }
}
