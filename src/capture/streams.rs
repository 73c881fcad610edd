//! The application's byte streams inside SMC: which connection (stream index) each dump frame belongs to, and how
//! the application's messages are cut out of each direction's stream.
//!
//! Pure Rust. A connection is the unordered pair of endpoints of a dump flow; it gets the next index when it is
//! first seen, and a new one when its endpoints appear again after the connection ended (a CDC with
//! PeerConnAbort, or PeerConnClosed from both sides) in a frame that is not a copy of what the ended connection
//! carried. Where a data frame's bytes lie in its direction's stream, and which of them no frame carried before,
//! is the copies' to say ([`super::copies`]): only those new bytes go to the application, once.
//!
//! Reassembly works as TCP's does, in Wireshark's first pass: the application dissector gets the data and may
//! ask for more (`desegment_offset`, `desegment_len`); the bytes it did not take wait for the next data of the
//! direction, and the frame that completes a message dissects it as one reassembled buffer. What each frame
//! dissected is recorded ([`Handoff`]), so any later visit, in any order, replays exactly that.
//!
//! A dissector may ask for everything up to the direction's end (`DESEGMENT_UNTIL_FIN`, an HTTP body without a
//! length): the bytes then wait, without further calls, until the sender's CDC says it is done writing (TCP's FIN),
//! and that CDC frame dissects them as one reassembled buffer, as TCP's FIN segment does.
//!
//! After a hole (bytes not captured), the dissection resumes as TCP's does: a message waiting for more data is
//! dropped, unless its end is known and lies beyond the hole, in which case the bytes up to its end are skipped
//! and the dissection starts again after them. Bytes that fill an earlier hole (out of order) are dissected on
//! their own.
//!
//! Unlike TCP, a direction whose data no dissector took for [`Streams::give_up_after`] frames in a row stops
//! asking: trying every heuristic dissector on every frame of a protocol Wireshark does not know costs more than
//! all of smcdump's own decoding (0 asks on every frame, as TCP does).

use std::sync::Arc;

use super::copies::{CopyId, Placement};
use super::hash::FastMap;
use super::records::FrameRecords;
use crate::wire::{ConnKey, Endpoint, Flow};

/// A stream index (`smcdump.stream`).
pub type StreamId = u32;

/// The application dissection of a buffer: its bytes, where they start in the stream, and, when they are the
/// frame's own, where they start in the frame's data (`None`: a buffer reassembled from several frames).
pub type Dissect<'a> = dyn FnMut(&[u8], u64, Option<usize>) -> Outcome + 'a;

/// What an application dissector did with the bytes it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// No dissector took them.
    Refused,
    /// Taken, every byte.
    Consumed,
    /// Taken up to `offset`; the message starting there needs more: `Bytes(n)` more bytes, or the next data.
    NeedMore { offset: usize, need: Need },
}

/// How much more a waiting message needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    Bytes(usize),
    /// `DESEGMENT_ONE_MORE_SEGMENT`.
    NextData,
    /// `DESEGMENT_UNTIL_FIN`: everything up to the direction's end (its sender's CDC saying it is done writing).
    UntilEnd,
}

/// Bytes of several frames, dissected as one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reassembled {
    /// Where its first byte lies in its direction's stream.
    pub start: u64,
    pub bytes: Vec<u8>,
    /// The frames the bytes came from, with how many bytes each gave, in order.
    pub parts: Vec<(u32, usize)>,
}

/// What the application dissection of one data frame does, on every visit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handoff {
    /// Messages this frame completes, as one buffer with bytes of earlier frames (their last part is this
    /// frame's first `own` new bytes); `None` when the frame's own bytes are dissected alone.
    pub reassembled: Option<Arc<Reassembled>>,
    /// New bytes skipped before the frame's own dissection: the rest of a message a hole broke.
    pub skipped: usize,
    /// This frame's new bytes dissected in it (after `skipped`).
    pub own: usize,
    /// The frame's bytes after `own` are part of a message completed in this later frame; `None` while (or if)
    /// no frame completed it.
    pub rest_in: Option<u32>,
    /// Whether a dissector took the data (otherwise it is shown as data only).
    pub taken: bool,
    /// No dissector took this frame's data, and it is the last of its direction the dissectors are asked about.
    pub gave_up: bool,
}

impl Handoff {
    /// A frame whose data no dissector took (or was not asked about).
    const REFUSED: Handoff =
        Handoff { reassembled: None, skipped: 0, own: 0, rest_in: None, taken: false, gave_up: false };

    /// The frame's data (or what waits with it) was taken, `own` of its bytes dissected in it.
    fn taken(own: usize) -> Handoff {
        Handoff { own, taken: true, ..Handoff::REFUSED }
    }
}

/// Where a frame lies among the copies of its direction: what [`Placement`] says, as kept with the frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Placed {
    pub copy: CopyId,
    /// The part of a data frame no frame carried before: its offset in the data and its length.
    pub new: (u32, u32),
    /// The frame repeats what other frames carried.
    pub repeat: bool,
    /// The frame that first carried what it repeats, when known.
    pub copy_of: Option<u32>,
    /// Bytes of the stream not captured, found at this frame: (position, length).
    pub hole: Option<(u64, u64)>,
    /// The new part brings bytes of an earlier hole (out of order).
    pub filled: bool,
}

impl Placed {
    /// What `p` says.
    pub fn of(p: &Placement) -> Placed {
        Placed { copy: p.copy, new: p.new, repeat: p.repeat, copy_of: p.copy_of, hole: p.hole, filled: p.filled }
    }

    /// What a frame of the first copy says when it is neither a copy nor finds a hole: all of its `len` data bytes
    /// are new.
    pub fn usual(len: u32) -> Placed {
        Placed { new: (0, len), ..Placed::default() }
    }
}

/// The stream facts of one dump frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameStream {
    pub stream: StreamId,
    /// Direction: 0 from the endpoint that was seen sending first, 1 back.
    pub dir: u8,
    /// For data: where its first byte lies in its direction's stream, and its length.
    pub data: Option<(u64, u32)>,
    /// For data given to the application dissectors: what to dissect.
    pub handoff: Option<Handoff>,
    /// Where the frame lies among its direction's copies.
    pub placed: Placed,
}

impl FrameStream {
    /// Where the bytes the frame dissects itself lie in its data, when it dissects any.
    pub fn own_part(&self) -> Option<std::ops::Range<usize>> {
        let h = self.handoff.as_ref().filter(|h| h.taken && h.own > 0)?;
        let from = self.placed.new.0 as usize + h.skipped;
        Some(from..from + h.own)
    }
}

/// A frame's stream facts as kept between visits, a record of [`FrameRecords`]: every dump frame has them, so
/// they take a few bytes (2 for a CDC, about 8 for data, against [`FrameStream`]'s 80): a flags byte, the stream
/// index, and for data its stream offset and length, as varints. A hand-off other than the common ones (none,
/// refused, every byte taken in the frame), and a place among the copies other than the usual one, are kept
/// apart, for the few frames that reassemble or continue a message, repeat, or find a hole.
mod record {
    use super::{FrameStream, Handoff, Placed};
    use crate::capture::records::{get_varint, put_varint, SelfDelimiting};

    const DIR: u8 = 1 << 0;
    const DATA: u8 = 1 << 1;
    /// The hand-off: none, refused, all taken, or kept apart.
    const HANDOFF: u8 = 3 << 2;
    const REFUSED: u8 = 1 << 2;
    const TAKEN_ALL: u8 = 2 << 2;
    pub const APART: u8 = 3 << 2;
    /// The place among the copies is kept apart.
    const PLACED: u8 = 1 << 4;
    const ALL: u8 = (1 << 5) - 1;

    /// A record of stream facts: its flags say how many varints follow.
    #[derive(Debug)]
    pub struct Facts;

    impl SelfDelimiting for Facts {
        fn len(bytes: &[u8]) -> Option<usize> {
            let flags = *bytes.first()?;
            if flags & !ALL != 0 {
                return None;
            }
            let mut pos = 1;
            let varints = if flags & DATA != 0 { 3 } else { 1 };
            for _ in 0..varints {
                get_varint(bytes, &mut pos)?;
            }
            Some(pos)
        }
    }

    /// What is kept apart from a record.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct Apart {
        pub handoff: Option<Handoff>,
        pub placed: Option<Placed>,
    }

    /// `fs` as a record (self-delimiting) appended to `out`, and what is to be kept apart.
    pub fn encode(fs: &FrameStream, out: &mut Vec<u8>) -> Apart {
        let mut flags = if fs.dir != 0 { DIR } else { 0 };
        let len = fs.data.map_or(0, |(_, len)| len);
        if fs.data.is_some() {
            flags |= DATA;
        }
        let mut apart = Apart::default();
        match &fs.handoff {
            None => {}
            Some(h) if *h == Handoff::REFUSED => flags |= REFUSED,
            Some(h) if *h == Handoff::taken(len as usize) => flags |= TAKEN_ALL,
            Some(h) => {
                flags |= APART;
                apart.handoff = Some(h.clone());
            }
        }
        if fs.placed != Placed::usual(len) {
            flags |= PLACED;
            apart.placed = Some(fs.placed);
        }
        out.push(flags);
        put_varint(out, u64::from(fs.stream));
        if let Some((offset, len)) = fs.data {
            put_varint(out, offset);
            put_varint(out, u64::from(len));
        }
        apart
    }

    /// The facts of the record at the start of `bytes`; `apart` gives what was kept apart.
    pub fn decode(bytes: &[u8], apart: impl FnOnce() -> Apart) -> Option<FrameStream> {
        let flags = *bytes.first()?;
        let mut pos = 1;
        let stream = u32::try_from(get_varint(bytes, &mut pos)?).ok()?;
        let data = match flags & DATA {
            0 => None,
            _ => {
                let offset = get_varint(bytes, &mut pos)?;
                Some((offset, u32::try_from(get_varint(bytes, &mut pos)?).ok()?))
            }
        };
        let len = data.map_or(0, |(_, len)| len);
        let kept = if flags & (APART | PLACED) != 0 { apart() } else { Apart::default() };
        let handoff = match flags & HANDOFF {
            REFUSED => Some(Handoff::REFUSED),
            TAKEN_ALL => Some(Handoff::taken(len as usize)),
            APART => kept.handoff,
            _ => None,
        };
        let placed = match flags & PLACED {
            0 => Placed::usual(len),
            _ => kept.placed?,
        };
        Some(FrameStream { stream, dir: u8::from(flags & DIR != 0), data, handoff, placed })
    }
}

/// A message that waits for more data.
#[derive(Debug)]
struct Pending {
    /// Where its first byte lies in its direction's stream.
    start: u64,
    bytes: Vec<u8>,
    parts: Vec<(u32, usize)>,
    need: Need,
    /// The buffer length at which `need` is met (for `Need::Bytes`).
    until: usize,
}

impl Pending {
    /// Where the message ends in the stream, when the dissector said how long it is.
    fn end(&self) -> Option<u64> {
        matches!(self.need, Need::Bytes(_)).then(|| self.start + self.until as u64)
    }
}

/// One direction's byte stream.
#[derive(Debug, Default)]
struct ByteStream {
    /// Where the next byte for the application lies.
    next: u64,
    /// Whether any byte went to the application (before, `next` is not known).
    started: bool,
    pending: Option<Pending>,
    closed: bool,
    /// Data frames in a row no dissector took.
    refused: u32,
    /// The dissectors are no longer asked about this direction's data.
    given_up: bool,
}

#[derive(Debug)]
struct Conn {
    id: StreamId,
    /// The endpoint that sent first: direction 0 is from it.
    first: Endpoint,
    dirs: [ByteStream; 2],
    aborted: bool,
}

impl Conn {
    fn ended(&self) -> bool {
        self.aborted || self.dirs.iter().all(|d| d.closed)
    }
}

/// The kept facts apart from the records.
type ApartMap = FastMap<u32, record::Apart>;

/// The streams of one capture file.
#[derive(Debug, Default)]
pub struct Streams {
    live: FastMap<ConnKey, Conn>,
    count: StreamId,
    frames: FrameRecords<record::Facts>,
    /// What is not one of a record's common cases (reassembly, part of a later message, copies, holes).
    apart: ApartMap,
    /// The record being written (kept to reuse its allocation).
    scratch: Vec<u8>,
    /// Refused data frames in a row after which a direction's dissectors are no longer asked; 0: never give up.
    tries: u32,
}

/// How many data frames in a row of one direction no dissector takes before smcdump stops asking (the
/// `smcdump.handoff_tries` preference's default).
pub const DEFAULT_TRIES: u32 = 8;

/// What a CDC says about its connection's end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Closing {
    /// PeerDoneWriting or PeerConnClosed: the sender writes no more (its direction's end, TCP's FIN).
    pub done_writing: bool,
    /// PeerConnClosed: the sender closed.
    pub closed: bool,
    /// PeerConnAbort.
    pub aborted: bool,
}

impl Streams {
    /// Forgets everything: a new capture file starts.
    pub fn clear(&mut self) {
        *self = Streams { tries: self.tries, ..Streams::default() };
    }

    /// From now on, a direction whose data no dissector took for `tries` frames in a row is no longer handed to
    /// the dissectors (its frames show as data); 0: every frame is, as TCP does.
    pub fn give_up_after(&mut self, tries: u32) {
        self.tries = tries;
    }

    /// The stream facts of frame `num`, if it was seen.
    pub fn get(&self, num: u32) -> Option<FrameStream> {
        record::decode(self.frames.get(num)?, || self.apart.get(&num).cloned().unwrap_or_default())
    }

    /// Keeps frame `num`'s stream facts `fs`; returns them.
    fn keep(&mut self, num: u32, fs: FrameStream) -> FrameStream {
        self.scratch.clear();
        let apart = record::encode(&fs, &mut self.scratch);
        self.frames.insert(num, &self.scratch);
        if apart == record::Apart::default() {
            self.apart.remove(&num);
        } else {
            self.apart.insert(num, apart);
        }
        fs
    }

    /// How many streams were seen.
    pub fn count(&self) -> StreamId {
        self.count
    }

    /// Whether the connection of `flow` ended: its next frame that is not a copy opens a new one.
    pub fn ended(&self, flow: Flow) -> bool {
        self.live.get(&flow.conn()).is_some_and(Conn::ended)
    }

    /// The connection of a frame travelling in `flow`, opened now if there is none, or if the last one ended and
    /// the frame does not `repeat` what it carried.
    fn conn(&mut self, flow: Flow, repeat: bool) -> (&mut Conn, u8) {
        let (src, k) = (flow.src, flow.conn());
        if !repeat && self.live.get(&k).is_some_and(Conn::ended) {
            self.live.remove(&k);
        }
        let count = &mut self.count;
        let conn = self.live.entry(k).or_insert_with(|| {
            let id = *count;
            *count += 1;
            Conn { id, first: src, dirs: Default::default(), aborted: false }
        });
        let dir = u8::from(conn.first != src);
        (conn, dir)
    }

    /// Records CDC frame `num` travelling in `flow` (first visit only), with what it says about the end and where
    /// it lies among its direction's copies. With `dissect`, a CDC that ends its direction hands what waits for
    /// that end to the application dissection, as one reassembled buffer.
    pub fn cdc(
        &mut self,
        num: u32,
        flow: Flow,
        closing: Closing,
        placed: Placed,
        dissect: Option<&mut Dissect>,
    ) -> FrameStream {
        if let Some(fs) = self.get(num) {
            return fs;
        }
        let (conn, dir) = self.conn(flow, placed.repeat);
        let stream = conn.id;
        let d = &mut conn.dirs[usize::from(dir)];
        d.closed |= closing.closed;
        conn.aborted |= closing.aborted;
        let waiting = closing.done_writing && d.pending.as_ref().is_some_and(|p| p.need == Need::UntilEnd);
        let handoff = match (dissect, waiting) {
            (Some(f), true) => d.pending.take().map(|p| end_of_direction(p, f)),
            _ => None,
        };
        if let Some(r) = handoff.as_ref().and_then(|h| h.reassembled.clone()) {
            self.continued_in(num, r.parts.iter().map(|&(frame, _)| frame));
        }
        let fs = FrameStream { stream, dir, data: None, handoff, placed };
        self.keep(num, fs)
    }

    /// Marks the earlier data frames `frames` as having their waiting bytes completed in frame `num`.
    fn continued_in(&mut self, num: u32, frames: impl IntoIterator<Item = u32>) {
        for n in frames {
            if let Some(mut h) = self.get(n).and_then(|fs| fs.handoff) {
                // Now continued in this frame: kept apart (the record's flags changed in place).
                h.rest_in.get_or_insert(num);
                if let Some(flags) = self.frames.get_mut(n).and_then(|r| r.first_mut()) {
                    *flags |= record::APART;
                }
                self.apart.entry(n).or_default().handoff = Some(h);
            }
        }
    }

    /// Records data frame `num` travelling in `flow`, holding `data` whose first byte lies at `start` in the
    /// stream (first visit only). With `dissect`, its new bytes (as `placed` says) go to the application
    /// dissection, reassembled with what waits: `dissect(buffer, offset, own)` is called with the bytes to
    /// dissect, where they start in the stream, and where in `data` when they are the frame's own, and says what
    /// was done.
    pub fn data(
        &mut self,
        num: u32,
        flow: Flow,
        data: &[u8],
        start: u64,
        placed: Placed,
        dissect: Option<&mut Dissect>,
    ) -> FrameStream {
        if let Some(fs) = self.get(num) {
            return fs;
        }
        let tries = self.tries;
        let (conn, dir) = self.conn(flow, placed.repeat);
        let stream = conn.id;
        let d = &mut conn.dirs[usize::from(dir)];
        let (from, n) = (placed.new.0 as usize, placed.new.1 as usize);
        let new = data.get(from..from + n).unwrap_or(&[]);
        let mut completed: Vec<u32> = Vec::new();
        let handoff = match dissect {
            None if !new.is_empty() => {
                // Not dissected (hand-off off): the direction's stream moves on all the same.
                let end = start + (from + n) as u64;
                if d.next < end {
                    d.pending = None;
                    (d.started, d.next) = (true, end);
                }
                None
            }
            Some(f) if !new.is_empty() => {
                let at = start + from as u64;
                let mut own = |buf: &[u8], offset: u64, own: Option<usize>| f(buf, offset, own.map(|o| o + from));
                Some(d.hand(num, at, new, &mut own, &mut completed, tries))
            }
            _ => None,
        };
        self.continued_in(num, completed);
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        self.keep(num, FrameStream { stream, dir, data: Some((start, len)), handoff, placed })
    }
}

impl ByteStream {
    /// Gives `new` (frame `num`'s new bytes, at position `at` of the stream) to the application dissection: in
    /// order, after a hole, or filling an earlier one.
    fn hand(
        &mut self,
        num: u32,
        at: u64,
        new: &[u8],
        dissect: &mut Dissect,
        completed: &mut Vec<u32>,
        tries: u32,
    ) -> Handoff {
        if self.started && at < self.next {
            // Bytes of an earlier hole, out of order: dissected on their own.
            return match self.given_up {
                true => Handoff::REFUSED,
                false => match dissect(new, at, Some(0)) {
                    Outcome::Refused => Handoff::REFUSED,
                    Outcome::Consumed => Handoff::taken(new.len()),
                    Outcome::NeedMore { offset, .. } => Handoff::taken(offset.min(new.len())),
                },
            };
        }
        let mut skipped = 0;
        if self.started && at > self.next {
            // A hole: what waited cannot be completed. When its end is known and lies past the hole, the bytes up
            // to it are the rest of that message.
            if let Some(end) = self.pending.take().and_then(|p| p.end()) {
                skipped = usize::try_from(end.saturating_sub(at)).unwrap_or(usize::MAX).min(new.len());
            }
        }
        self.started = true;
        self.next = at + new.len() as u64;
        if skipped == new.len() {
            return Handoff { skipped, ..Handoff::taken(0) };
        }
        let rest = &new[skipped..];
        let mut shifted = |buf: &[u8], offset: u64, own: Option<usize>| dissect(buf, offset, own.map(|o| o + skipped));
        let h = self.reassemble(num, at + skipped as u64, rest, &mut shifted, completed, tries);
        Handoff { skipped, ..h }
    }

    /// Gives `data` (frame `num`'s, at stream position `offset`) to the application dissection, after what waits;
    /// returns what the frame dissects, and adds to `completed` the earlier frames whose waiting bytes it
    /// completed. After `tries` refused frames in a row (unless 0) the direction is given up.
    fn reassemble(
        &mut self,
        num: u32,
        offset: u64,
        data: &[u8],
        dissect: &mut Dissect,
        completed: &mut Vec<u32>,
        tries: u32,
    ) -> Handoff {
        let Some(mut p) = self.pending.take() else {
            if self.given_up {
                return Handoff::REFUSED;
            }
            // Nothing waits: the frame's own bytes.
            let outcome = dissect(data, offset, Some(0));
            self.refused = if outcome == Outcome::Refused { self.refused.saturating_add(1) } else { 0 };
            return match outcome {
                Outcome::Refused => {
                    self.given_up = tries > 0 && self.refused >= tries;
                    Handoff { gave_up: self.given_up, ..Handoff::REFUSED }
                }
                Outcome::Consumed => Handoff::taken(data.len()),
                Outcome::NeedMore { offset: at, need } => {
                    let at = at.min(data.len());
                    let start = offset + at as u64;
                    self.pending = Some(pending(start, data[at..].to_vec(), vec![(num, data.len() - at)], need));
                    Handoff::taken(at)
                }
            };
        };
        let before = p.bytes.len();
        p.bytes.extend_from_slice(data);
        p.parts.push((num, data.len()));
        if p.need == Need::UntilEnd || (matches!(p.need, Need::Bytes(_)) && p.bytes.len() < p.until) {
            // Not enough yet (or not before the direction's end): the whole frame waits too.
            self.pending = Some(p);
            return Handoff::taken(0);
        }
        let outcome = dissect(&p.bytes, p.start, None);
        let done = match outcome {
            Outcome::Refused | Outcome::Consumed => p.bytes.len(),
            Outcome::NeedMore { offset, .. } => offset.min(p.bytes.len()),
        };
        if done == 0 {
            // The dissector still waits for the same message.
            if let Outcome::NeedMore { need, .. } = outcome {
                p.until = match need {
                    Need::Bytes(n) => p.bytes.len() + n,
                    Need::NextData | Need::UntilEnd => 0,
                };
                p.need = need;
            }
            self.pending = Some(p);
            return Handoff::taken(0);
        }
        // Frames whose bytes lie wholly or partly in the completed messages link to this one.
        let mut at = 0;
        let mut rest_parts = Vec::new();
        for &(frame, len) in &p.parts {
            let (start, end) = (at, at + len);
            if start < done && frame != num {
                completed.push(frame);
            }
            if end > done {
                rest_parts.push((frame, end - done.max(start)));
            }
            at = end;
        }
        let own = done.saturating_sub(before).min(data.len());
        let reassembled =
            Reassembled { start: p.start, bytes: p.bytes[..done].to_vec(), parts: parts_upto(&p.parts, done) };
        if let Outcome::NeedMore { need, .. } = outcome {
            self.pending = Some(pending(p.start + done as u64, p.bytes[done..].to_vec(), rest_parts, need));
        }
        Handoff { reassembled: Some(Arc::new(reassembled)), ..Handoff::taken(own) }
    }
}

/// A waiting message of `bytes` from `parts`, starting at stream offset `start`.
fn pending(start: u64, bytes: Vec<u8>, parts: Vec<(u32, usize)>, need: Need) -> Pending {
    let until = match need {
        Need::Bytes(n) => bytes.len() + n,
        Need::NextData | Need::UntilEnd => 0,
    };
    Pending { start, bytes, parts, need, until }
}

/// What the CDC ending a direction dissects: `p`, the bytes that waited for that end, given to `dissect` as one
/// reassembled buffer (nothing more can come: whatever the dissector says, they are done, as a completed message
/// is in a data frame).
fn end_of_direction(p: Pending, dissect: &mut Dissect) -> Handoff {
    dissect(&p.bytes, p.start, None);
    let reassembled = Reassembled { start: p.start, bytes: p.bytes, parts: p.parts };
    Handoff { reassembled: Some(Arc::new(reassembled)), ..Handoff::taken(0) }
}

/// The parts of `parts` that make up its first `n` bytes.
fn parts_upto(parts: &[(u32, usize)], n: usize) -> Vec<(u32, usize)> {
    let mut out = Vec::new();
    let mut left = n;
    for &(frame, len) in parts {
        if left == 0 {
            break;
        }
        out.push((frame, len.min(left)));
        left -= len.min(left);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: Endpoint = Endpoint::new([10, 0, 0, 1], 40000);
    const S: Endpoint = Endpoint::new([10, 0, 0, 2], 80);
    const C2S: Flow = Flow::new(C, S);
    const S2C: Flow = Flow::new(S, C);

    /// Streams fed as a clean capture does: each direction's data one frame after another, all new.
    #[derive(Default)]
    struct Run {
        s: Streams,
        at: FastMap<Flow, u64>,
    }

    impl Run {
        fn data(&mut self, num: u32, flow: Flow, bytes: &[u8], f: Option<&mut Dissect>) -> FrameStream {
            if self.s.ended(flow) {
                self.at.remove(&flow);
                self.at.remove(&flow.reverse());
            }
            let at = self.at.entry(flow).or_default();
            let start = *at;
            *at += bytes.len() as u64;
            self.s.data(num, flow, bytes, start, Placed::usual(bytes.len() as u32), f)
        }

        fn cdc(&mut self, num: u32, flow: Flow, closing: Closing) -> FrameStream {
            self.s.cdc(num, flow, closing, Placed::default(), None)
        }

        fn cdc_dissected(&mut self, num: u32, flow: Flow, closing: Closing, f: &mut Dissect) -> FrameStream {
            self.s.cdc(num, flow, closing, Placed::default(), Some(f))
        }

        fn get(&self, num: u32) -> Option<FrameStream> {
            self.s.get(num)
        }

        fn count(&self) -> StreamId {
            self.s.count()
        }

        fn give_up_after(&mut self, tries: u32) {
            self.s.give_up_after(tries)
        }
    }

    /// A dissector of `len:body` messages: a one-byte length, then that many bytes.
    fn lv(buf: &[u8], _offset: u64, _own: Option<usize>) -> Outcome {
        let mut at = 0;
        while at < buf.len() {
            let n = usize::from(buf[at]) + 1;
            if at + n > buf.len() {
                return Outcome::NeedMore { offset: at, need: Need::Bytes(at + n - buf.len()) };
            }
            at += n;
        }
        Outcome::Consumed
    }

    #[test]
    fn streams_are_numbered_in_order_and_reused_tuples_get_new_ones() {
        let mut s = Run::default();
        assert_eq!(s.data(1, C2S, b"x", None).stream, 0);
        assert_eq!(s.cdc(2, S2C, Closing::default()).dir, 1);
        let other = Endpoint::new([10, 0, 0, 3], 40001);
        assert_eq!(s.data(3, Flow::new(other, S), b"y", None).stream, 1);
        s.cdc(4, C2S, Closing { done_writing: true, closed: true, aborted: false });
        assert_eq!(s.data(5, S2C, b"z", None).stream, 0, "one side closed: still the same connection");
        s.cdc(6, S2C, Closing { done_writing: true, closed: true, aborted: false });
        let fs = s.data(7, C2S, b"new", None);
        assert_eq!((fs.stream, fs.dir, fs.data), (2, 0, Some((0, 3))), "both closed: a new connection");
        s.cdc(8, Flow::new(other, S), Closing { aborted: true, ..Closing::default() });
        assert_eq!(s.cdc(9, Flow::new(S, other), Closing::default()).stream, 3, "aborted: a new connection");
        assert_eq!(s.count(), 4);
    }

    /// A message that runs to its direction's end (an HTTP body without a length) waits, without more calls,
    /// for the sender's CDC saying it is done writing, which dissects it whole; a CDC of the other direction, or
    /// one that only moves cursors, does not.
    #[test]
    fn a_message_until_the_end_is_dissected_by_the_cdc_that_ends_its_direction() {
        let mut s = Run::default();
        let mut calls: Vec<(Vec<u8>, u64, Option<usize>)> = Vec::new();
        let mut until_end = |buf: &[u8], offset: u64, own: Option<usize>| {
            calls.push((buf.to_vec(), offset, own));
            match buf.first() {
                Some(b'H') => Outcome::NeedMore { offset: 0, need: Need::UntilEnd },
                _ => Outcome::Consumed,
            }
        };
        s.data(1, C2S, b"GET", Some(&mut until_end));
        let first = s.data(2, S2C, b"HEAD", Some(&mut until_end));
        assert_eq!(first.handoff, Some(Handoff::taken(0)));
        s.data(3, S2C, b"body", Some(&mut until_end));
        s.cdc_dissected(4, S2C, Closing::default(), &mut until_end);
        s.cdc_dissected(5, C2S, Closing { done_writing: true, ..Closing::default() }, &mut until_end);
        let end = s.cdc_dissected(6, S2C, Closing { done_writing: true, ..Closing::default() }, &mut until_end);
        let h = end.handoff.unwrap();
        let r = h.reassembled.clone().unwrap();
        assert_eq!((r.start, &r.bytes[..], &r.parts[..]), (0, &b"HEADbody"[..], &[(2, 4), (3, 4)][..]));
        assert!(h.taken && h.own == 0 && (end.dir, end.data) == (1, None));
        for n in [2, 3] {
            assert_eq!(s.get(n).and_then(|fs| fs.handoff).and_then(|h| h.rest_in), Some(6), "frame {n}");
        }
        assert_eq!(s.get(6).and_then(|fs| fs.handoff), Some(h), "kept for later visits");
        // Nothing waits any more: a copy of the closing CDC dissects nothing.
        let copy = s.cdc_dissected(7, S2C, Closing { done_writing: true, ..Closing::default() }, &mut until_end);
        assert_eq!(copy.handoff, None);
        let calls: Vec<_> =
            calls.iter().map(|(b, at, own)| (String::from_utf8_lossy(b).into_owned(), *at, *own)).collect();
        assert_eq!(
            calls,
            [("GET".into(), 0, Some(0)), ("HEAD".into(), 0, Some(0)), ("HEADbody".into(), 0, None)],
            "one call for the whole message, at the end"
        );
    }

    #[test]
    fn kept_facts_read_back_exactly() {
        let reassembled = Some(Arc::new(Reassembled { start: 3, bytes: vec![1, 2], parts: vec![(1, 1), (2, 1)] }));
        let handoffs = [
            None,
            Some(Handoff::REFUSED),
            Some(Handoff { gave_up: true, ..Handoff::REFUSED }),
            Some(Handoff::taken(7)),
            Some(Handoff::taken(3)),
            Some(Handoff { rest_in: Some(9), ..Handoff::taken(7) }),
            Some(Handoff { reassembled, ..Handoff::taken(2) }),
        ];
        let copy = Placed { copy: 1, new: (7, 0), repeat: true, copy_of: Some(4), ..Placed::default() };
        let hole = Placed { hole: Some((10, 20)), ..Placed::usual(7) };
        for (i, handoff) in handoffs.into_iter().enumerate() {
            for data in [None, Some((0, 7)), Some((u64::MAX, 7))] {
                for placed in [None, Some(copy), Some(hole)] {
                    let usual = Placed::usual(data.map_or(0, |d| d.1));
                    let placed = placed.unwrap_or(usual);
                    let fs = FrameStream { stream: 5, dir: (i % 2) as u8, data, handoff: handoff.clone(), placed };
                    let mut out = Vec::new();
                    let apart = record::encode(&fs, &mut out);
                    let len = <record::Facts as crate::capture::records::SelfDelimiting>::len(&out);
                    assert_eq!(len, Some(out.len()));
                    out.push(0xff); // the next record
                    assert_eq!(record::decode(&out, || apart.clone()), Some(fs));
                    // Only the uncommon hand-offs and places are kept apart.
                    let handoff_apart = i >= 2 && !(i == 3 && data.is_some());
                    assert_eq!(apart.handoff.is_some(), handoff_apart, "{i} {data:?}");
                    assert_eq!(apart.placed.is_some(), placed != usual, "{i} {data:?} {placed:?}");
                }
            }
        }
        let cdc = FrameStream { stream: 5, dir: 1, data: None, handoff: None, placed: Placed::default() };
        let mut out = Vec::new();
        record::encode(&cdc, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(record::decode(&out[..1], record::Apart::default), None, "cut short");
    }

    #[test]
    fn offsets_count_each_direction() {
        let mut s = Run::default();
        s.data(1, C2S, &[0; 10], None);
        s.data(2, S2C, &[0; 7], None);
        assert_eq!(s.data(3, C2S, &[0; 5], None).data, Some((10, 5)));
        assert_eq!(s.data(4, S2C, &[0; 1], None).data, Some((7, 1)));
        // A second visit reads back, whatever it passes.
        assert_eq!(s.data(3, C2S, &[0; 99], None).data, Some((10, 5)));
    }

    #[test]
    fn a_message_over_three_frames_and_three_in_one() {
        let mut s = Run::default();
        let mut f = lv;
        // Frame 1: a 5-byte message, then the first 3 bytes of a 10-byte one (length byte 9).
        let h1 = s.data(1, C2S, &[4, 1, 1, 1, 1, 9, 2, 2], Some(&mut f)).handoff.clone().unwrap();
        assert_eq!((h1.own, h1.reassembled.is_none()), (5, true));
        let h2 = s.data(2, C2S, &[2, 2, 2], Some(&mut f)).handoff.clone().unwrap();
        assert_eq!((h2.own, h2.reassembled.is_none()), (0, true), "still 4 bytes short");
        // Frame 3 completes it and holds three more messages.
        let h3 = s.data(3, C2S, &[2, 2, 2, 2, 0, 1, 7, 0], Some(&mut f)).handoff.clone().unwrap();
        let r = h3.reassembled.clone().unwrap();
        assert_eq!(r.bytes, [9, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 1, 7, 0]);
        assert_eq!(r.start, 5);
        assert_eq!(r.parts, [(1, 3), (2, 3), (3, 8)]);
        assert_eq!(h3.own, 8);
        assert_eq!(s.get(1).unwrap().handoff.as_ref().unwrap().rest_in, Some(3));
        assert_eq!(s.get(2).unwrap().handoff.as_ref().unwrap().rest_in, Some(3));
        assert_eq!(h3.rest_in, None);
    }

    #[test]
    fn later_visits_replay_in_any_order() {
        let mut s = Run::default();
        let mut f = lv;
        let frames: [&[u8]; 3] = [&[3, 1], &[1, 1], &[0]];
        for (i, d) in frames.iter().enumerate() {
            s.data(i as u32 + 1, C2S, d, Some(&mut f));
        }
        let first: Vec<FrameStream> = (1..=3).map(|n| s.get(n).unwrap().clone()).collect();
        let mut calls = 0;
        let mut counting = |b: &[u8], o: u64, r: Option<usize>| {
            calls += 1;
            lv(b, o, r)
        };
        for n in [3, 1, 2] {
            let again = s.data(n, C2S, frames[n as usize - 1], Some(&mut counting)).clone();
            assert_eq!(again, first[n as usize - 1]);
        }
        assert_eq!(calls, 0, "later visits replay, they do not dissect to decide");
        assert_eq!(first[0].handoff.as_ref().unwrap().rest_in, Some(2), "frame 2 completes the message");
    }

    #[test]
    fn refused_data_stays_data_and_next_data_requests_wait() {
        let mut s = Run::default();
        let mut refuse = |_: &[u8], _: u64, _: Option<usize>| Outcome::Refused;
        assert!(!s.data(1, C2S, b"abc", Some(&mut refuse)).handoff.as_ref().unwrap().taken);
        let mut calls = Vec::new();
        let mut lines = |b: &[u8], o: u64, _: Option<usize>| {
            calls.push((o, b.to_vec()));
            match b.iter().position(|&c| c == b'\n') {
                Some(i) if i + 1 == b.len() => Outcome::Consumed,
                Some(i) => Outcome::NeedMore { offset: i + 1, need: Need::NextData },
                None => Outcome::NeedMore { offset: 0, need: Need::NextData },
            }
        };
        s.data(2, S2C, b"GET", Some(&mut lines));
        let h = s.data(3, S2C, b" /\nHE", Some(&mut lines)).handoff.clone().unwrap();
        assert_eq!(h.reassembled.as_ref().unwrap().bytes, b"GET /\n");
        assert_eq!(h.own, 3);
        let h = s.data(4, S2C, b"AD\n", Some(&mut lines)).handoff.clone().unwrap();
        assert_eq!(h.reassembled.as_ref().unwrap().parts, [(3, 2), (4, 3)]);
        assert_eq!(s.get(3).unwrap().handoff.as_ref().unwrap().rest_in, Some(4));
        assert_eq!(calls.iter().map(|c| c.0).collect::<Vec<_>>(), [0, 0, 6], "stream offsets of the buffers");
    }

    #[test]
    fn a_direction_nobody_takes_is_given_up_after_its_tries() {
        let mut s = Run::default();
        s.give_up_after(3);
        let mut asked = Vec::new();
        // Takes only what starts with "OK", and nothing of the first three frames from C.
        let mut ok = |b: &[u8], o: u64, _: Option<usize>| {
            asked.push(o);
            if b.starts_with(b"OK") {
                Outcome::Consumed
            } else {
                Outcome::Refused
            }
        };
        let mut gave_up = Vec::new();
        for (n, (flow, bytes)) in
            [(C2S, "aa"), (C2S, "bb"), (S2C, "OK"), (C2S, "cc"), (C2S, "OK"), (C2S, "OK")].into_iter().enumerate()
        {
            let h = s.data(n as u32 + 1, flow, bytes.as_bytes(), Some(&mut ok)).handoff.unwrap();
            gave_up.push((h.taken, h.gave_up));
        }
        // C->S: refused at offsets 0, 2, 4 (the third refusal gives up); S->C's data is taken, on its own count.
        assert_eq!(asked, [0, 2, 0, 4], "frames 5 and 6 are not asked about");
        let expected = [(false, false), (false, false), (true, false), (false, true), (false, false), (false, false)];
        assert_eq!(gave_up, expected);

        // 0: every frame is asked about, as TCP does; a taken frame restarts the count.
        let mut s = Run::default();
        let mut n = 0;
        let mut count = |_: &[u8], _: u64, _: Option<usize>| {
            n += 1;
            Outcome::Refused
        };
        for f in 1..=20 {
            assert!(!s.data(f, C2S, b"x", Some(&mut count)).handoff.unwrap().gave_up);
        }
        assert_eq!(n, 20);
        let mut s = Run::default();
        s.give_up_after(2);
        let mut alternate =
            |b: &[u8], _: u64, _: Option<usize>| if b == b"y" { Outcome::Consumed } else { Outcome::Refused };
        let taken: Vec<bool> = (1..=5)
            .map(|f| s.data(f, C2S, if f == 2 { b"y" } else { b"x" }, Some(&mut alternate)).handoff.unwrap().taken)
            .collect();
        assert_eq!(taken, [false, true, false, false, false]);
        assert!(s.get(4).unwrap().handoff.as_ref().unwrap().gave_up, "x, y, x, x: two in a row only at frame 4");
    }
}
