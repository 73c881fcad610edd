//! Bytes that fill an earlier hole, for Follow SMC Stream: in a merged capture one host's dump can bring bytes the
//! other host's lost after later data was seen (`[SMC out-of-order]`). TCP's Follow puts an out-of-order segment
//! where it belongs; so does smcdump's, once a first pass has seen the whole capture (the GUI's Follow, `tshark
//! -2`): the first pass keeps the filling bytes with the frame that found the hole, and later visits show them
//! there, as the stream reads, and leave them out of the frame that brought them. A single pass cannot know what
//! comes later: it shows the hole, and the bytes where they arrive.
//!
//! Memory: the filling bytes (rare) and one entry per hole of the capture.

use super::hash::FastMap;
use super::streams::StreamId;

/// A direction of a connection: its stream and direction, as [`super::streams::FrameStream`] gives them.
type Direction = (StreamId, u8);

/// A hole not yet wholly filled: the frame that found it, and its stream range.
#[derive(Clone, Copy, Debug)]
struct Open {
    frame: u32,
    at: u64,
    end: u64,
    filled: u64,
}

/// The holes, the bytes that filled them, and where those bytes came from.
#[derive(Debug, Default)]
pub struct Fills {
    open: FastMap<Direction, Vec<Open>>,
    /// For a frame that found a hole: the bytes that later filled parts of it, by stream position, in order.
    at_hole: FastMap<u32, Vec<(u64, Vec<u8>)>>,
    /// For a frame that filled holes: the stream ranges of its bytes shown at the holes instead, in order.
    moved: FastMap<u32, Vec<(u64, u64)>>,
}

impl Fills {
    /// First pass: frame `frame` found the hole `[at, at + len)` of direction `dir`.
    pub fn hole(&mut self, frame: u32, dir: Direction, at: u64, len: u64) {
        if len > 0 {
            self.open.entry(dir).or_default().push(Open { frame, at, end: at + len, filled: 0 });
        }
    }

    /// First pass: frame `frame` brought `bytes` of direction `dir` from stream position `pos` on, some of which
    /// fill earlier holes.
    pub fn filled(&mut self, frame: u32, dir: Direction, pos: u64, bytes: &[u8]) {
        let Some(open) = self.open.get_mut(&dir) else { return };
        let end = pos + bytes.len() as u64;
        for hole in open.iter_mut() {
            let (a, b) = (hole.at.max(pos), hole.end.min(end));
            if a >= b {
                continue;
            }
            let piece = bytes[(a - pos) as usize..(b - pos) as usize].to_vec();
            let pieces = self.at_hole.entry(hole.frame).or_default();
            let i = pieces.partition_point(|p| p.0 < a);
            pieces.insert(i, (a, piece));
            let moved = self.moved.entry(frame).or_default();
            let i = moved.partition_point(|m| m.0 < a);
            moved.insert(i, (a, b));
            hole.filled += b - a;
        }
        open.retain(|h| h.filled < h.end - h.at);
    }

    /// Later visits: the bytes that filled parts of the hole frame `frame` found, by stream position.
    pub fn at_hole(&self, frame: u32) -> &[(u64, Vec<u8>)] {
        self.at_hole.get(&frame).map_or(&[], Vec::as_slice)
    }

    /// Later visits: the stream ranges of frame `frame`'s bytes shown at earlier holes instead.
    pub fn moved(&self, frame: u32) -> &[(u64, u64)] {
        self.moved.get(&frame).map_or(&[], Vec::as_slice)
    }
}

/// What Follow shows for a hole `[at, at + len)`, given the `pieces` that filled parts of it (by position, in
/// order): the bytes in place and what is still missing, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum Shown<'a> {
    Bytes(&'a [u8]),
    Missing { at: u64, len: u64 },
}

pub fn hole_shown(at: u64, len: u64, pieces: &[(u64, Vec<u8>)]) -> Vec<Shown<'_>> {
    let (mut out, mut cur, end) = (Vec::new(), at, at + len);
    for (p, bytes) in pieces.iter().filter(|(p, _)| *p >= at && *p < end) {
        if *p > cur {
            out.push(Shown::Missing { at: cur, len: p - cur });
        }
        out.push(Shown::Bytes(bytes));
        cur = cur.max(p + bytes.len() as u64);
    }
    if cur < end {
        out.push(Shown::Missing { at: cur, len: end - cur });
    }
    out
}

/// The parts of the stream range `[pos, pos + len)` not in `moved` (ranges in order), as (offset from `pos`,
/// length).
pub fn kept(pos: u64, len: u64, moved: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let (mut out, mut cur, end) = (Vec::new(), pos, pos + len);
    for &(a, b) in moved {
        if a > cur && cur < end {
            out.push((cur - pos, a.min(end) - cur));
        }
        cur = cur.max(b);
    }
    if cur < end {
        out.push((cur - pos, end - cur));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filling_bytes_move_to_the_frame_that_found_the_hole() {
        let mut f = Fills::default();
        let d = (4, 0);
        // Frame 480 finds bytes 74..111 missing; frame 481 brings 60..111 (14 of them seen before).
        f.hole(480, d, 74, 37);
        f.filled(481, d, 60, &(60..111).map(|b| b as u8).collect::<Vec<_>>());
        assert_eq!(f.at_hole(480), [(74, (74..111).map(|b| b as u8).collect::<Vec<_>>())]);
        assert_eq!(f.moved(481), [(74, 111)]);
        // The hole is wholly filled: later bytes of the direction fill nothing.
        f.filled(490, d, 74, &[1, 2]);
        assert_eq!(f.moved(490), []);
        // Another direction's holes are its own.
        f.hole(500, (4, 1), 0, 10);
        f.filled(501, d, 0, &[0; 10]);
        assert_eq!(f.at_hole(500), [] as [(u64, Vec<u8>); 0]);
    }

    #[test]
    fn a_hole_filled_in_parts_shows_what_is_still_missing() {
        let mut f = Fills::default();
        let d = (1, 1);
        f.hole(10, d, 100, 50);
        f.filled(20, d, 130, &[3; 10]);
        f.filled(30, d, 110, &[2; 5]);
        let shown = hole_shown(100, 50, f.at_hole(10));
        assert_eq!(
            shown,
            [
                Shown::Missing { at: 100, len: 10 },
                Shown::Bytes(&[2; 5]),
                Shown::Missing { at: 115, len: 15 },
                Shown::Bytes(&[3; 10]),
                Shown::Missing { at: 140, len: 10 },
            ]
        );
        assert_eq!(hole_shown(100, 50, &[]), [Shown::Missing { at: 100, len: 50 }]);
        // Frame 20 brought 130..140 only: nothing of it stays where it arrived.
        assert_eq!(kept(130, 10, f.moved(20)), []);
        // A frame whose bytes straddle a hole's end keeps what lies after it.
        assert_eq!(kept(100, 30, &[(110, 115)]), [(0, 10), (15, 15)]);
        assert_eq!(kept(100, 30, &[]), [(0, 30)]);
    }
}
