//! The stream items of a dump frame: its connection's index, where its data lies in the byte stream, and how its
//! bytes were reassembled with other frames' for the application dissectors. All generated: computed by smcdump.

use super::fields::{Ei, Ett, Hf};
use super::tree::{Joined, TreeWriter, Value};
use crate::capture::streams::FrameStream;
use crate::wire::Span;

/// Adds `fs`'s items under `root`; `data` is the span of the frame's data in its UDP payload.
pub fn stream_items<W: TreeWriter>(w: &mut W, root: W::Node, fs: &FrameStream, data: Option<Span>) {
    let here = Span::new(0, 0);
    w.add(root, Hf::Stream, here, Value::Uint(fs.stream));
    if fs.placed.copy != 0 {
        w.add(root, Hf::StreamCopy, here, Value::Uint(fs.placed.copy.into()));
    }
    if let Some((offset, len)) = fs.data {
        for (hf, v) in [(Hf::DataStreamOffset, offset), (Hf::DataNextOffset, offset + u64::from(len))] {
            w.add(root, hf, here, Value::Uint64(v));
        }
    }
    let Some(h) = &fs.handoff else { return };
    if h.gave_up {
        let msg = "No dissector took this direction's data in smcdump.handoff_tries frames in a row: its later \
                   frames show as data (0 tries every frame)";
        w.expert_at(root, Ei::HandoffGivenUp, here, msg);
    }
    if let Some(r) = &h.reassembled {
        let len = u32::try_from(r.bytes.len()).unwrap_or(u32::MAX);
        let item = w.add(root, Hf::Reassembled, here, Value::None);
        let frames = r.parts.iter().map(|(f, n)| format!("#{f}({n})"));
        w.append_fmt(item, format_args!(": {len} bytes from frames {}", Joined(frames)));
        let tree = w.subtree(item, Ett::Reassembled);
        for &(frame, _) in &r.parts {
            w.add(tree, Hf::ReassembledFrame, here, Value::Uint(frame));
        }
        w.add(tree, Hf::ReassembledLength, here, Value::Uint(len));
    }
    // The new bytes of a data frame not dissected in it: the rest of a message a hole broke, and the start of a
    // message completed later.
    let Some(data) = data else { return };
    let (from, n) = (fs.placed.new.0 as usize, fs.placed.new.1 as usize);
    if h.taken && h.skipped > 0 {
        w.add(root, Hf::SegmentData, Span::new(data.off + from, h.skipped.min(n)), Value::None);
    }
    let done = h.skipped + h.own;
    if h.taken && done < n {
        let rest = Span::new(data.off + from + done, n - done);
        w.add(root, Hf::SegmentData, rest, Value::None);
        if let Some(frame) = h.rest_in {
            w.add(root, Hf::ReassembledIn, here, Value::Uint(frame));
        }
    }
}
