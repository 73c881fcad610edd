//! Where each dump frame's bytes lie in its direction's stream, and which copy of the direction dumped it.
//!
//! **Positions are facts, not sums.** A CDC's producer cursor says how far the writer got, so the stream position
//! each producer cursor points to is known: the previous one's plus the cursor's advance (within a wrap, or across
//! one when the ring's size is known; without it, across a wrap, the data dumped since). Data is dumped before the
//! CDC that announces it (spec 4.1, 8), so a data frame lies where its copy's previous CDC pointed, after the data
//! that copy dumped since. A lost data frame no longer shifts every later position: the next CDC puts its copy
//! back in place. When the capture holds the connection's handshake, the stream starts at cursor 0:0.
//!
//! **Copies.** Both ends dump (spec 8): the sending host its data and the CDCs it sends, the receiving host the
//! data a CDC announces and then that CDC, in the same direction. One capture holds both when the two sockets share
//! a network namespace (SMC-D loopback), or when both hosts' captures were merged; a duplicated frame is a copy
//! too. Each direction keeps a few copies, each with its own cursors, so the receiver's view is analysed on its own
//! and not taken for a contradiction of the sender's. The rules that decide, in this order:
//! 1. Frames of different dump devices are different copies: both MAC fields of a dump frame are its host's dummy
//!    device's.
//! 2. A CDC equal to the latest CDC of a copy of its device (cursors, flags, and SMC-R's sequence number) is that
//!    CDC dumped again: the receiver's copy of it when it is an SMC-D CDC that looks otherwise (sent, or with the
//!    uninitialised head and tail of a received one), which belongs to another copy of the device; else a
//!    duplicated frame, analysed as the frame it repeats. An SMC-D CDC that does not look sent (uninitialised head or tail, spec 4.2) from a device whose copy sent the
//!    direction's CDCs is the receiver's copy. Any other CDC belongs to the device's copy whose data since its
//!    previous CDC is the cursor's advance, else to the one furthest on. A CDC equal to one the direction already
//!    carried (from any copy) is a copy of that frame.
//! 3. A data frame belongs to a copy of its device that lags behind the end of what was dumped: it repeats bytes
//!    already seen, where its copy is. A device dumps both ends of a direction (a **loopback** connection) when the
//!    connection's two endpoints share an address, or once rule 2 found a receiver's CDC from it: then a data frame
//!    equal (length and bytes) to one of the direction's recent data frames, from a device with no lagging copy, is
//!    the receiver's copy of it. The frame equal to the previous data frame of its copy, with no CDC between, is a
//!    duplicate. Any other data frame is new data of the device's copy furthest on.
//! 4. A device's first frame of a direction another device dumped already finds its place by rule 3's equality,
//!    else at the start of the direction's latest producer advance (where a receiver dumps from), else at the end.
//!
//! A direction keeps four copies (two hosts' sender's and receiver's); a further device's copy takes the last one's
//! place under a new id.
//!
//! Stream positions only move on, within each copy and for the stream: each position is new once. A copy whose
//! cursor says it dumped more than it announced stays after what it dumped (and, with no other copy as far, at
//! the end of the stream).
//!
//! **Holes.** When a copy's CDC puts it past the end of what any copy dumped, the bytes in between were not
//! captured (a tcpdump drop, a failed dump): a hole, declared on that CDC once no other copy can still bring them
//! (every copy is past them), or else on the first data frame beyond them. A copy that brings a hole's bytes later
//! (a merged capture's other host) fills it: those bytes are new, out of order. Inside one producer advance the
//! dump does not say which chunk was lost: the data frames of an advance are placed one after another from the
//! previous cursor, so a hole is placed at the end of the advance that lost bytes. That is exact when a whole write,
//! or its last chunks, were lost; a chunk lost in the middle of a write of several shifts the rest of that write,
//! until the write's CDC puts its copy back in place.

use std::collections::VecDeque;

use crate::wire::{Cdc, DumpFrame, Flow, Payload};

use super::handshakes::Handshake;
use super::hash::FastMap;

/// A copy of a direction; a few: a sender's and a receiver's per dump device.
pub type CopyId = u8;
const MAX_COPIES: usize = 4;

/// Recent producer cursors, CDCs, data frames and holes a direction remembers (where a copy seen late finds its
/// place, what a copy repeats, what it fills).
const RECENT: usize = 16;

/// A CDC as a copy remembers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrevCdc {
    pub frame: u32,
    pub seqno: Option<u16>,
    pub prod: (u16, u32),
    pub cons: (u16, u32),
    /// Producer flags and connection state: with the rest, what tells the same CDC dumped again.
    flags: (u8, u8),
}

impl PrevCdc {
    fn of(frame: u32, cdc: &Cdc) -> Option<PrevCdc> {
        let (prod, cons) = cdc.complete_cursors()?;
        let flags = (cdc.prod_flags()?.value.0, cdc.conn_state()?.value.0);
        Some(PrevCdc { frame, seqno: cdc.seqno(), prod, cons, flags })
    }

    /// The same message (another frame may have carried it).
    fn same(&self, o: &PrevCdc) -> bool {
        (self.prod, self.cons, self.flags, self.seqno) == (o.prod, o.cons, o.flags, o.seqno)
    }
}

/// A data frame as a direction remembers it: frame, position, length, fingerprint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DataSeen {
    frame: u32,
    start: u64,
    len: usize,
    hash: u64,
}

impl DataSeen {
    fn covers(&self, pos: u64) -> bool {
        self.start <= pos && pos < self.start + self.len as u64
    }
}

/// One copy of a direction.
#[derive(Clone, Debug)]
struct Copy {
    /// Its id in the direction (`smcdump.stream.copy`): never reused, so positions only move on within each.
    id: CopyId,
    device: Option<[u8; 6]>,
    /// Its previous CDC.
    last_cdc: Option<PrevCdc>,
    /// Whether its SMC-D CDCs look sent (type 0xFE, zeroed reserved bytes); `None` for SMC-R or none yet.
    looks_sent: Option<bool>,
    /// The position its previous producer cursor points to; before its first CDC, where its data started.
    anchor: u64,
    /// Data bytes this copy dumped since its previous CDC.
    since: u64,
    /// Its latest data frame since its previous CDC.
    last_data: Option<DataSeen>,
    /// The ring's size as the copy's first producer-cursor wrap showed it.
    ring_from_wrap: Option<u32>,
    /// What it knew before its previous CDC (a duplicate of that CDC is analysed as it was).
    before_last: CopyFacts,
}

impl Copy {
    fn new(id: CopyId, device: Option<[u8; 6]>, anchor: u64) -> Self {
        Copy {
            id,
            device,
            last_cdc: None,
            looks_sent: None,
            anchor,
            since: 0,
            last_data: None,
            ring_from_wrap: None,
            before_last: CopyFacts::default(),
        }
    }

    /// Where its next data lies.
    fn next(&self) -> u64 {
        self.anchor + self.since
    }
}

/// One direction: its copies, the end of what they dumped, its recent cursors, CDCs, data frames and holes.
#[derive(Debug, Default)]
struct Direction {
    copies: Vec<Copy>,
    /// How many copy ids were given (the next one).
    ids: CopyId,
    /// One past the furthest byte any copy dumped (or a hole declared).
    high: u64,
    /// Devices that dump both ends of this direction (loopback).
    two_ends: Vec<Option<[u8; 6]>>,
    /// Recent producer cursors and the positions they point to.
    cursors: VecDeque<((u16, u32), u64)>,
    /// Recent CDCs of any copy, each message once.
    cdcs: VecDeque<PrevCdc>,
    /// Recent data frames that brought new bytes.
    data: VecDeque<DataSeen>,
    /// Recent holes not filled since: [start, end).
    gaps: VecDeque<(u64, u64)>,
    /// The capture holds the connection's start (its handshake): the stream's position 0 is cursor 0:0.
    from_start: bool,
}

/// What a copy knew before a frame, for the connection analysis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CopyFacts {
    /// The copy's previous CDC.
    pub prev: Option<PrevCdc>,
    /// Data bytes it dumped since that CDC, before this frame.
    pub since: u64,
    /// The ring's size as the copy's first wrap showed it (this frame's CDC included).
    pub ring_from_wrap: Option<u32>,
    /// The latest consumer cursor of the other direction (the peer's), when it sent a CDC.
    pub peer_cons: Option<(u16, u32)>,
}

/// What the copies say about one frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Placement {
    pub copy: CopyId,
    /// A data frame's position: where its first byte lies in the stream.
    pub start: Option<u64>,
    /// The part of a data frame's bytes no frame dumped before: where it starts in the frame, and its length.
    pub new: (u32, u32),
    /// The frame repeats what other frames carried: the same CDC, or data at positions already dumped.
    pub repeat: bool,
    /// Bytes of the stream not captured, found at this frame: (position, length).
    pub hole: Option<(u64, u64)>,
    /// The new part brings bytes of an earlier hole (out of order).
    pub filled: bool,
    /// The frame that first carried what this frame repeats (its first repeated byte, or the same CDC), when the
    /// direction still remembers it.
    pub copy_of: Option<u32>,
    /// What the frame's copy knew before it.
    pub facts: CopyFacts,
}

impl Placement {
    /// Where the new part of a data frame lies in the stream.
    pub fn new_at(&self) -> Option<u64> {
        self.start.map(|s| s + u64::from(self.new.0))
    }
}

/// The copies of every direction of a capture file. Frames are placed once each, on their first visit, in capture
/// order; the caller keeps the results.
#[derive(Debug, Default)]
pub struct Copies {
    dirs: FastMap<Flow, Direction>,
}

/// A frame's fingerprint, to tell equal frames apart from others cheaply on every data frame: its length and up to
/// 48 bytes spread over it (its first and last 8 among them), hashed (FNV-1a).
fn fingerprint(bytes: &[u8]) -> u64 {
    let mix = |h: u64, b: u8| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    let n = bytes.len();
    let h = (n as u64).to_le_bytes().iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| mix(h, b));
    let ends = bytes.iter().take(8).chain(bytes.iter().skip(n.saturating_sub(8)));
    let step = (n / 32).max(1);
    ends.chain(bytes.iter().step_by(step).take(32)).fold(h, |h, &b| mix(h, b))
}

/// How far a cursor moved from `prev` to `now`: within one wrap, or across one wrap when the ring's size is known
/// (an advance too large for 32 bits, which only a ring size a broken frame implied gives, is none).
pub fn advance(prev: (u16, u32), now: (u16, u32), ring: Option<u32>) -> Option<u32> {
    if now.0 == prev.0 {
        return now.1.checked_sub(prev.1);
    }
    match ring {
        Some(size) if now.0 == prev.0.wrapping_add(1) && prev.1 <= size && now.1 <= size => {
            (size - prev.1).checked_add(now.1)
        }
        _ => None,
    }
}

/// The ring size a producer cursor's wrap shows: from `prev` to `now`, one wrap later, `data` bytes were written,
/// so the ring ended `data` bytes after `prev`'s count less `now`'s. Only a size that holds both counts, and data
/// that reached past the old count, is taken.
pub fn ring_from_wrap(prev: (u16, u32), now: (u16, u32), data: u64) -> Option<u32> {
    if now.0 != prev.0.wrapping_add(1) || data == 0 {
        return None;
    }
    let size = (u64::from(prev.1) + data).checked_sub(u64::from(now.1))?;
    let size = u32::try_from(size).ok()?;
    (size > prev.1 && size >= now.1).then_some(size)
}

/// Pushes `item` on a bounded list of recent things.
fn remember<T>(list: &mut VecDeque<T>, item: T) {
    list.push_back(item);
    if list.len() > RECENT {
        list.pop_front();
    }
}

impl Copies {
    /// The stream position a recent producer cursor of direction `flow` pointed to, when the direction saw it.
    pub fn position_of(&self, flow: Flow, cursor: (u16, u32)) -> Option<u64> {
        let d = self.dirs.get(&flow)?;
        d.cursors.iter().rev().find(|c| c.0 == cursor).map(|c| c.1)
    }

    /// Forgets a connection's directions: its 4-tuple starts a new connection.
    pub fn forget(&mut self, flow: Flow) {
        self.dirs.remove(&flow);
        self.dirs.remove(&flow.reverse());
    }

    /// Places frame `num`, travelling in `flow` from the dump device `device`, parsed as `frame` from `payload`.
    /// The connection's handshake, when the capture holds it, gives the ring the direction writes into and its
    /// start: cursors at 0:0 at stream position 0.
    pub fn place(
        &mut self,
        num: u32,
        flow: Flow,
        device: Option<[u8; 6]>,
        frame: &DumpFrame,
        payload: &[u8],
        handshake: Option<&Handshake>,
    ) -> Placement {
        let peer_cons = self.dirs.get(&flow.reverse()).and_then(Direction::latest_cons);
        let loopback = flow.src.addr == flow.dst.addr;
        let d = self.dirs.entry(flow).or_insert_with(|| Direction {
            from_start: handshake.is_some_and(|h| h.accept_frame.is_some()),
            ..Direction::default()
        });
        let ring = handshake.and_then(|h| h.ring_size).filter(|&r| r > 0);
        if loopback && !d.two_ends.contains(&device) {
            d.two_ends.push(device);
        }
        let mut p = match frame.payload {
            _ if !frame.magic_ok => Placement::default(),
            Payload::Raw(span) if span.within(frame.captured) => {
                d.data(num, device, payload.get(span.range()).unwrap_or(&[]))
            }
            Payload::Cdc { cdc, .. } => match PrevCdc::of(num, &cdc) {
                Some(this) => d.cdc(device, this, &cdc, ring),
                None => Placement::default(),
            },
            Payload::Raw(_) | Payload::Undecoded(_) => Placement::default(),
        };
        p.facts.peer_cons = peer_cons;
        p
    }
}

impl Direction {
    /// The copies of `device`, by index.
    fn of_device(&self, device: Option<[u8; 6]>) -> impl Iterator<Item = (usize, &Copy)> + Clone {
        self.copies.iter().enumerate().filter(move |(_, c)| c.device == device)
    }

    /// The device's copy furthest on (the first made, of equals).
    fn furthest(&self, device: Option<[u8; 6]>) -> Option<usize> {
        self.of_device(device).max_by_key(|(i, c)| (c.next(), std::cmp::Reverse(*i))).map(|(i, _)| i)
    }

    /// A new copy of `device` starting at `anchor`. A direction keeps [`MAX_COPIES`] (two hosts' sender's and
    /// receiver's); more devices than that (garbage, or captures of more hosts merged) make the last copy give
    /// its place to the new one, under a new id, so that positions still only move on within each copy. Once the
    /// ids run out, the last copy takes the frame as it is.
    fn add(&mut self, device: Option<[u8; 6]>, anchor: u64) -> usize {
        let fresh = Copy::new(self.ids, device, anchor);
        let full = self.copies.len() >= MAX_COPIES;
        match self.copies.last_mut() {
            Some(last) if full => {
                if self.ids == CopyId::MAX {
                    return MAX_COPIES - 1;
                }
                *last = fresh;
            }
            _ => self.copies.push(fresh),
        }
        self.ids += 1;
        self.copies.len() - 1
    }

    /// Marks `device` as dumping both ends of the direction.
    fn two_ended(&mut self, device: Option<[u8; 6]>) {
        if !self.two_ends.contains(&device) {
            self.two_ends.push(device);
        }
    }

    /// The latest consumer cursor any copy of this direction sent.
    fn latest_cons(&self) -> Option<(u16, u32)> {
        let latest = self.copies.iter().filter_map(|c| c.last_cdc).max_by_key(|c| c.frame);
        latest.map(|c| c.cons)
    }

    /// The frame that first carried the byte at `pos`, among the recent ones.
    fn carrier(&self, pos: u64) -> Option<u32> {
        self.data.iter().find(|d| d.covers(pos)).map(|d| d.frame)
    }

    /// The facts of copy `i` before the frame.
    fn facts(&self, i: usize) -> CopyFacts {
        let c = &self.copies[i];
        CopyFacts { prev: c.last_cdc, since: c.since, ring_from_wrap: c.ring_from_wrap, peer_cons: None }
    }

    /// The first hole that [start, end) brings bytes of, as the part it brings; the hole keeps what is left.
    fn fill(&mut self, start: u64, end: u64) -> Option<(u64, u64)> {
        let i = self.gaps.iter().position(|&(s, e)| s < end && start < e)?;
        let (s, e) = self.gaps[i];
        let (from, to) = (s.max(start), e.min(end));
        self.gaps.remove(i);
        if to < e {
            self.gaps.insert(i, (to, e));
        }
        if s < from {
            self.gaps.insert(i, (s, from));
        }
        Some((from, to))
    }

    /// A hole [start, end) found: the end of the stream moves past it.
    fn hole(&mut self, start: u64, end: u64) -> Option<(u64, u64)> {
        remember(&mut self.gaps, (start, end));
        self.high = end;
        Some((start, end - start))
    }

    fn data(&mut self, num: u32, device: Option<[u8; 6]>, data: &[u8]) -> Placement {
        let h = fingerprint(data);
        // A copy of the device lagging behind another copy: its bytes were seen, where it is.
        if self.copies.len() > 1 {
            let lagging = self.of_device(device).filter(|(_, c)| c.next() < self.high).min_by_key(|(_, c)| c.next());
            if let Some((i, start)) = lagging.map(|(i, c)| (i, c.next())) {
                return self.settle(i, num, start, data, h);
            }
        }
        // The receiver's first copy of a loopback direction, or a device seen late: where an equal recent frame
        // lies, or (seen late, the direction having CDCs) where the latest producer advance started.
        let first_of_device = self.of_device(device).next().is_none();
        let second_end = self.two_ends.contains(&device) && self.of_device(device).count() < 2;
        if (first_of_device && !self.copies.is_empty()) || second_end {
            let equal = self.data.iter().rev().find(|d| d.len == data.len() && d.hash == h).map(|d| d.start);
            let late = || {
                let n = self.cursors.len();
                let start = self.cursors.get(n.checked_sub(2)?)?.1;
                (first_of_device && start < self.high).then_some(start)
            };
            if let Some(start) = equal.or_else(late) {
                let i = self.add(device, start);
                return self.settle(i, num, start, data, h);
            }
        }
        let i = match self.furthest(device) {
            Some(i) => i,
            None => {
                let high = self.high;
                self.add(device, high)
            }
        };
        // The previous data frame of the copy again, with no CDC between: a duplicated frame.
        if let Some(last) = self.copies[i].last_data.filter(|l| l.len == data.len() && l.hash == h) {
            // Analysed as the frame it repeats: with the data before it.
            let mut facts = self.facts(i);
            facts.since -= last.len as u64;
            let (start, new) = (Some(last.start), (last.len as u32, 0));
            let copy_of = Some(last.frame);
            return Placement {
                copy: self.copies[i].id,
                start,
                new,
                repeat: true,
                copy_of,
                facts,
                ..Placement::default()
            };
        }
        let start = self.copies[i].next();
        self.settle(i, num, start, data, h)
    }

    /// Data frame `num` of copy `i`, at `start`: its bytes past the end of the stream are new (a start past the end
    /// leaves a hole before it); before the end, the bytes it brings of a hole are new, the rest repeats.
    fn settle(&mut self, i: usize, num: u32, start: u64, data: &[u8], hash: u64) -> Placement {
        let len = data.len() as u64;
        let end = start + len;
        let facts = self.facts(i);
        let seen = DataSeen { frame: num, start, len: data.len(), hash };
        let c = &mut self.copies[i];
        c.since += len;
        c.last_data = Some(seen);
        let mut p = Placement { copy: self.copies[i].id, start: Some(start), facts, ..Placement::default() };
        if start >= self.high {
            if start > self.high {
                p.hole = self.hole(self.high, start);
            }
            p.new = (0, len as u32);
            self.high = end;
            remember(&mut self.data, seen);
            return p;
        }
        let fill = self.fill(start, end);
        p.filled = fill.is_some();
        let (from, to) = fill.unwrap_or((self.high.min(end), end));
        p.new = ((from - start) as u32, (to - from) as u32);
        p.repeat = from > start || to < end;
        p.copy_of = match p.repeat {
            true if from > start => self.carrier(start),
            true => self.carrier(to),
            false => None,
        };
        if to > from {
            remember(&mut self.data, seen);
        }
        self.high = self.high.max(to);
        p
    }

    fn cdc(&mut self, device: Option<[u8; 6]>, this: PrevCdc, cdc: &Cdc, ring: Option<u32>) -> Placement {
        let looks_sent = match cdc {
            Cdc::SmcD(d) => Some(d.looks_sent()),
            Cdc::SmcR(_) => None,
        };
        let carried = self.cdcs.iter().find(|c| c.same(&this)).map(|c| c.frame);
        if carried.is_none() {
            remember(&mut self.cdcs, this);
        }
        let mut p = self.cdc_of_copy(device, this, looks_sent, ring);
        p.repeat = carried.is_some();
        p.copy_of = carried;
        p
    }

    /// Places CDC `this` of `device` in one of the device's copies (rule 2).
    fn cdc_of_copy(
        &mut self,
        device: Option<[u8; 6]>,
        this: PrevCdc,
        looks_sent: Option<bool>,
        ring: Option<u32>,
    ) -> Placement {
        // The same CDC again: a duplicated frame, or (an SMC-D CDC that looks otherwise) the receiver's copy.
        let repeated = self.of_device(device).find(|(_, c)| c.last_cdc.is_some_and(|l| l.same(&this)));
        if let Some((i, c)) = repeated {
            let receivers = looks_sent.is_some() && c.looks_sent.is_some() && looks_sent != c.looks_sent;
            if !receivers {
                // A duplicate: analysed as the frame it repeats.
                let facts = c.before_last;
                let facts = CopyFacts { ring_from_wrap: c.ring_from_wrap, ..facts };
                return Placement { copy: self.copies[i].id, facts, ..Placement::default() };
            }
            if self.of_device(device).count() < MAX_COPIES {
                let anchor = c.anchor;
                self.two_ended(device);
                // The device's other copy that looks the same, else one whose CDCs were not seen yet.
                let other = {
                    let mut others = self.of_device(device).filter(|(j, _)| *j != i);
                    let same = others.clone().find(|(_, c)| c.looks_sent == looks_sent);
                    same.or_else(|| others.find(|(_, c)| c.looks_sent.is_none())).map(|(j, _)| j)
                };
                let j = match other {
                    Some(j) => j,
                    None => self.add(device, anchor),
                };
                return self.move_anchor(j, this, looks_sent, ring);
            }
        }
        let received = looks_sent == Some(false)
            && self.of_device(device).any(|(_, c)| c.looks_sent == Some(true))
            && !self.of_device(device).any(|(_, c)| c.looks_sent == Some(false));
        let found = if received {
            self.two_ended(device);
            self.of_device(device).find(|(_, c)| c.looks_sent != Some(true)).map(|(i, _)| i)
        } else {
            // The device's copy whose data since its previous CDC is this cursor's advance, else the one furthest on.
            let fits = |c: &Copy| {
                let ring = ring.or(c.ring_from_wrap);
                c.last_cdc.is_some_and(|l| advance(l.prod, this.prod, ring).is_some_and(|a| u64::from(a) == c.since))
            };
            let fitting = self.of_device(device).find(|(_, c)| fits(c)).map(|(i, _)| i);
            fitting.or_else(|| self.furthest(device))
        };
        let i = match found {
            Some(i) => i,
            None => {
                // A new copy: where a cursor it shares with the direction points, else the end.
                let at = self.cursors.iter().find(|c| c.0 == this.prod).map_or(self.high, |c| c.1);
                self.add(device, at)
            }
        };
        self.move_anchor(i, this, looks_sent, ring)
    }

    /// Copy `i`'s CDC `this`: its anchor moves to where the producer cursor points.
    fn move_anchor(&mut self, i: usize, this: PrevCdc, looks_sent: Option<bool>, ring: Option<u32>) -> Placement {
        let mut facts = self.facts(i);
        let c = &mut self.copies[i];
        if let (Some(prev), None, None) = (c.last_cdc, ring, c.ring_from_wrap) {
            c.ring_from_wrap = ring_from_wrap(prev.prod, this.prod, c.since);
        }
        facts.ring_from_wrap = c.ring_from_wrap;
        let mut anchor = match c.last_cdc {
            // The cursor's advance when it is known; else (a wrap without the ring's size) the data since.
            Some(prev) => {
                c.anchor + advance(prev.prod, this.prod, ring.or(c.ring_from_wrap)).map_or(c.since, u64::from)
            }
            // Its first CDC: a cursor the direction saw, else counted from the connection's start (when the
            // capture holds it), else the end of its data so far.
            None => match self.cursors.iter().find(|h| h.0 == this.prod) {
                Some(h) => h.1,
                None if self.from_start => advance((0, 0), this.prod, ring).map_or(c.next(), u64::from),
                None => c.next(),
            },
        };
        // Positions only move on: a copy that dumped more than it announced stays after what it dumped, and, with
        // no other copy as far, at the end of the stream.
        anchor = anchor.max(c.next());
        if anchor < self.high && !self.copies.iter().enumerate().any(|(j, c)| j != i && c.next() >= self.high) {
            anchor = self.high;
        }
        let c = &mut self.copies[i];
        c.before_last = facts;
        c.anchor = anchor;
        c.since = 0;
        c.last_cdc = Some(this);
        c.last_data = None;
        c.looks_sent = c.looks_sent.or(looks_sent);
        if self.cursors.back().map_or(true, |h| h.0 != this.prod) {
            remember(&mut self.cursors, (this.prod, anchor));
        }
        // Past the end of what was dumped: a hole, once no other copy can still bring those bytes.
        let mut hole = None;
        if anchor > self.high && self.copies.iter().all(|c| c.anchor >= anchor) {
            hole = self.hole(self.high, anchor);
        }
        Placement { copy: self.copies[i].id, hole, facts, ..Placement::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::testing::{flow, parse};
    use crate::wire::cdc::{SmcdCdcRepr, SmcrCdcRepr};
    use crate::wire::emit::{data_frame, smcd_cdc_frame, smcr_cdc_frame, MODE_SMCD};
    use crate::wire::{ByteOrder, Layout};

    const HOST_A: [u8; 6] = [2, 0, 0, 0, 0, 0xA];
    const HOST_B: [u8; 6] = [2, 0, 0, 0, 0, 0xB];

    fn cdc(seqno: u16, prod: (u16, u32)) -> Vec<u8> {
        smcr_cdc_frame(&Layout::default(), 1, &SmcrCdcRepr::new(seqno, 7, prod, (0, 0)))
    }

    fn data(bytes: &[u8]) -> Vec<u8> {
        data_frame(&Layout::default(), 1, 1, bytes)
    }

    /// Places `frames` (device, bytes) in order on one direction between two hosts (`loopback`: one address),
    /// whose handshake the capture holds when `ring` is given; returns the placements.
    fn place_on(frames: &[(Option<[u8; 6]>, Vec<u8>)], ring: Option<u32>, loopback: bool) -> Vec<Placement> {
        let mut c = Copies::default();
        let dir = flow([10, 0, 0, 1], 1, [10, 0, 0, u8::from(!loopback) + 1], 2);
        let hs = ring.map(|r| Handshake { accept_frame: Some(1), confirm_frame: Some(2), ring_size: Some(r) });
        (1..)
            .zip(frames)
            .map(|(num, (device, bytes))| c.place(num, dir, *device, &parse(bytes), bytes, hs.as_ref()))
            .collect()
    }

    fn place(frames: &[(Option<[u8; 6]>, Vec<u8>)], ring: Option<u32>) -> Vec<Placement> {
        place_on(frames, ring, false)
    }

    /// A frame's (start, bytes dumped before its new part), copy and the frame it repeats.
    type Summary = (Option<(u64, u32)>, CopyId, Option<u32>);

    fn summary(p: &[Placement]) -> Vec<Summary> {
        p.iter().map(|p| (p.start.map(|s| (s, p.new.0)), p.copy, p.copy_of)).collect()
    }

    #[test]
    fn a_cursor_advances_within_a_wrap_or_across_one_of_a_known_ring() {
        assert_eq!(advance((3, 100), (3, 250), None), Some(150));
        assert_eq!(advance((3, 250), (3, 100), None), None);
        assert_eq!(advance((3, 4000), (4, 96), Some(4096)), Some(192));
        assert_eq!(advance((3, 4000), (4, 96), None), None);
        assert_eq!(advance((3, 4000), (5, 96), Some(4096)), None);
        assert_eq!(advance((u16::MAX, 4000), (0, 96), Some(4096)), Some(192));
        // A ring size a broken frame implied, whose advance does not fit 32 bits (found by the `frames` fuzzer).
        assert_eq!(advance((0, 5), (1, u32::MAX - 1), Some(u32::MAX)), None);
    }

    #[test]
    fn data_lies_where_the_previous_cursor_pointed() {
        let a = Some(HOST_A);
        let p = place(&[(a, data(b"hello")), (a, cdc(1, (0, 5))), (a, data(b"abc")), (a, cdc(2, (0, 8)))], None);
        assert_eq!(summary(&p), [(Some((0, 0)), 0, None), (None, 0, None), (Some((5, 0)), 0, None), (None, 0, None)]);
        assert!(p.iter().all(|p| p.hole.is_none()));
        // What the copy knew before each frame, for the analysis.
        assert_eq!((p[3].facts.prev.map(|c| c.frame), p[3].facts.since), (Some(2), 3));
    }

    #[test]
    fn a_lost_frame_is_a_hole_and_later_data_is_in_place() {
        let a = Some(HOST_A);
        // 100 bytes announced, 60 dumped: the last 40 of the advance are missing; the next write is at 100.
        let frames = [
            (a, cdc(1, (0, 0))),
            (a, data(&[1; 60])),
            (a, cdc(1, (0, 100))),
            (a, data(&[2; 10])),
            (a, cdc(2, (0, 110))),
            (a, data(&[3; 5])),
        ];
        let p = place(&frames, None);
        assert_eq!(p[2].hole, Some((60, 40)));
        assert_eq!((p[3].start, p[5].start), (Some(100), Some(110)));
        // Its handshake in the capture, the connection started at 0:0: the same without the first CDC. Without
        // it, a capture that starts with data cannot tell a loss before its first CDC from a late start.
        for (ring, hole) in [(Some(65536), Some((60, 40))), (None, None)] {
            let p = place_on(&frames[1..], ring, false);
            assert_eq!((p[1].hole, p[2].start), (hole, Some(60 + hole.map_or(0, |h| h.1))), "ring {ring:?}");
        }
        // A whole write lost, CDC and all: the next CDC shows it, the data after it is in place.
        let frames = [(a, data(&[1; 10])), (a, cdc(1, (0, 10))), (a, cdc(3, (0, 30))), (a, data(&[2; 5]))];
        let p = place(&frames, None);
        assert_eq!((p[2].hole, p[3].start), (Some((10, 20)), Some(30)));
    }

    #[test]
    fn a_hole_across_the_ring_end() {
        let a = Some(HOST_A);
        // Ring of 1000 (the handshake's: the stream starts at 0:0): from 0:900 to 1:50 is 150 bytes, of which 100
        // were dumped.
        let frames = [(a, cdc(1, (0, 900))), (a, data(&[1; 100])), (a, cdc(2, (1, 50))), (a, data(&[9; 3]))];
        let p = place(&frames, Some(1000));
        assert_eq!((p[1].start, p[2].hole, p[3].start), (Some(900), Some((1000, 50)), Some(1050)));
    }

    #[test]
    fn smcd_loopback_dumps_every_byte_twice() {
        // One device: the sender's data and CDC, then the receiver's data and the CDC it received.
        let a = Some(HOST_A);
        let l = Layout::default();
        let sent = |prod| smcd_cdc_frame(&l, 1, &SmcdCdcRepr::sent((0, prod), (0, 0)), ByteOrder::Little);
        let received = |prod| {
            let mut c = SmcdCdcRepr::sent((0, prod), (0, 0));
            (c.ty, c.head, c.tail) = (0x5A, [0xFF; 7], [0xC0; 8]);
            smcd_cdc_frame(&l, 1, &c, ByteOrder::Little)
        };
        let d = |b: &[u8]| data_frame(&l, 1, MODE_SMCD, b);
        let frames = [
            (a, d(b"request one")),
            (a, sent(11)),
            (a, d(b"request one")),
            (a, received(11)),
            (a, d(b"two")),
            (a, sent(14)),
            (a, d(b"two")),
            (a, received(14)),
        ];
        for loopback in [true, false] {
            let p = place_on(&frames, None, loopback);
            if !loopback {
                // Two hosts' addresses: the receiver's first data looks like new data; its CDC tells.
                assert_eq!(summary(&p)[2], (Some((11, 0)), 0, None));
                continue;
            }
            let want = [
                (Some((0, 0)), 0, None),
                (None, 0, None),
                (Some((0, 11)), 1, Some(1)),
                (None, 1, Some(2)),
                (Some((11, 0)), 0, None),
                (None, 0, None),
                (Some((11, 3)), 1, Some(5)),
                (None, 1, Some(6)),
            ];
            assert_eq!(summary(&p), want, "sender's copy 0, receiver's copy 1");
            assert!(p.iter().all(|p| p.hole.is_none()));
        }
    }

    #[test]
    fn merged_hosts_are_two_copies_and_one_fills_what_the_other_lost() {
        let (a, b) = (Some(HOST_A), Some(HOST_B));
        // Host A sends; host B receives. A's second data frame was lost, B's copy has it.
        let frames = [
            (a, data(b"first")),
            (a, cdc(1, (0, 5))),
            (b, data(b"first")),
            (b, cdc(1, (0, 5))),
            (a, cdc(2, (0, 11))),
            (b, data(b"second")),
            (b, cdc(2, (0, 11))),
            (a, data(b"third")),
        ];
        let p = place(&frames, None);
        let want = [
            (Some((0, 0)), 0, None),
            (None, 0, None),
            (Some((0, 5)), 1, Some(1)),
            (None, 1, Some(2)),
            (None, 0, None),
            (Some((5, 0)), 1, None),
            (None, 1, Some(5)),
            (Some((11, 0)), 0, None),
        ];
        assert_eq!(summary(&p), want);
        assert!(p.iter().all(|p| p.hole.is_none()), "B's copy brought what A lost: {p:?}");
        // Both lost it: the hole is declared once both copies are past it.
        let frames = [
            (a, data(b"first")),
            (a, cdc(1, (0, 5))),
            (b, data(b"first")),
            (b, cdc(1, (0, 5))),
            (a, cdc(2, (0, 11))),
            (b, cdc(2, (0, 11))),
        ];
        let p = place(&frames, None);
        assert_eq!((p[4].hole, p[5].hole), (None, Some((5, 6))));
    }

    #[test]
    fn a_duplicated_frame_is_a_copy() {
        let a = Some(HOST_A);
        let frames = [(a, data(b"abc")), (a, data(b"abc")), (a, cdc(1, (0, 3))), (a, cdc(1, (0, 3))), (a, data(b"d"))];
        let p = place(&frames, None);
        assert_eq!(summary(&p)[1], (Some((0, 3)), 0, Some(1)));
        assert_eq!(p[3].copy_of, Some(3));
        assert_eq!(summary(&p)[4], (Some((3, 0)), 0, None));
        assert!(p.iter().all(|p| p.hole.is_none()));
    }

    /// More dump devices on one direction than it keeps copies for (garbage, or more hosts merged): each new one
    /// takes the last copy's place under a new id, so no copy's positions go back.
    #[test]
    fn a_device_beyond_the_copies_kept_gets_a_new_copy_id() {
        let dev = |n: u8| Some([2, 0, 0, 0, 0, n]);
        let mut frames = vec![(dev(1), data(b"hello")), (dev(1), cdc(1, (0, 5))), (dev(1), data(b"world"))];
        frames.extend((2..=6).map(|n| (dev(n), data(b"hello"))));
        frames.push((dev(5), data(b"world")));
        let s = summary(&place(&frames, None));
        assert_eq!(
            s,
            [
                (Some((0, 0)), 0, None),
                (None, 0, None),
                (Some((5, 0)), 0, None),
                (Some((0, 5)), 1, Some(1)),
                (Some((0, 5)), 2, Some(1)),
                (Some((0, 5)), 3, Some(1)),
                // The fourth copy, and the fifth in its place.
                (Some((0, 5)), 4, Some(1)),
                (Some((0, 5)), 5, Some(1)),
                // The device whose copy gave way starts a new one, where the bytes it repeats lie.
                (Some((5, 5)), 6, Some(3)),
            ],
            "{s:?}"
        );
    }

    #[test]
    fn fingerprints_tell_lengths_and_contents_apart() {
        let long: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let mut other = long.clone();
        other[0] ^= 1;
        assert_ne!(fingerprint(&long), fingerprint(&other));
        assert_ne!(fingerprint(&long), fingerprint(&long[..4999]));
        assert_ne!(fingerprint(b""), fingerprint(b"\\0"));
        assert_eq!(fingerprint(&long), fingerprint(&long.clone()));
    }
}
