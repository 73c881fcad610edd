//! [`TreeWriter`] over Wireshark's protocol tree.

use core::ffi::{c_int, c_uint, CStr};
use core::ptr;

use super::registry;
use super::sys;
use crate::dissect::fields::{FieldKind, FIELDS};
use crate::dissect::{Ei, Ett, Hf, TreeWriter, Value};
use crate::wire::Span;

/// Writes items into the tree of one packet.
pub struct WsTree {
    pub tvb: *mut sys::tvbuff_t,
    pub pinfo: *mut sys::packet_info,
    /// The protocol's own subtree: where expert items without an item of their own go.
    pub root: *mut sys::proto_tree,
    /// Bytes the tvb holds: no range reaching past them is passed to Wireshark.
    pub captured: usize,
}

impl WsTree {
    /// `span` as Wireshark's (start, length), if it lies within the captured bytes.
    fn range(&self, span: Span) -> Option<(c_int, c_int)> {
        range(self.captured, span)
    }
}

/// `span` as Wireshark's (start, length), if it lies within the `captured` bytes.
fn range(captured: usize, span: Span) -> Option<(c_int, c_int)> {
    if !span.within(captured) {
        return None;
    }
    Some((c_int::try_from(span.off).ok()?, c_int::try_from(span.len).ok()?))
}

/// Text for Wireshark as a C string, each NUL replaced by a space (texts are our own ASCII; a NUL would only cut
/// one short): built on the stack, without an allocation, unless it is long.
pub(super) struct CText {
    stack: [u8; 192],
    len: usize,
    /// The whole text once it outgrows `stack`.
    heap: Vec<u8>,
}

impl CText {
    fn new() -> Self {
        CText { stack: [0; 192], len: 0, heap: Vec::new() }
    }

    /// `text` as a C string.
    pub(super) fn of(text: &str) -> Self {
        let mut t = CText::new();
        t.push(text);
        t
    }

    /// The text formatted from `args`.
    fn format(args: core::fmt::Arguments<'_>) -> Self {
        let mut t = CText::new();
        // Writing to a CText never fails.
        let _ = core::fmt::Write::write_fmt(&mut t, args);
        t
    }

    fn push(&mut self, s: &str) {
        let nul_to_space = |b: u8| if b == 0 { b' ' } else { b };
        // One byte of the stack stays free for the terminating NUL.
        if self.heap.is_empty() && self.len + s.len() < self.stack.len() {
            let to = &mut self.stack[self.len..self.len + s.len()];
            to.copy_from_slice(s.as_bytes());
            if s.as_bytes().contains(&0) {
                to.iter_mut().for_each(|b| *b = nul_to_space(*b));
            }
            self.len += s.len();
        } else {
            if self.heap.is_empty() {
                self.heap.extend_from_slice(&self.stack[..self.len]);
            }
            self.heap.extend(s.bytes().map(nul_to_space));
        }
    }

    /// The text, NUL-terminated.
    pub(super) fn as_c_str(&mut self) -> &CStr {
        let bytes = if self.heap.is_empty() {
            // The stack always has room for the NUL (see push).
            self.stack[self.len] = 0;
            &self.stack[..=self.len]
        } else {
            self.heap.push(0);
            &self.heap[..]
        };
        // No NUL but the last one, so this never falls back to "".
        CStr::from_bytes_with_nul(bytes).unwrap_or_default()
    }
}

impl core::fmt::Write for CText {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.push(s);
        Ok(())
    }
}

const PERCENT_S: &CStr = c"%s";

impl TreeWriter for WsTree {
    type Node = *mut sys::proto_node;
    const NO_ITEM: Self::Node = ptr::null_mut();

    fn add(&mut self, parent: Self::Node, hf: Hf, span: Span, value: Value) -> Self::Node {
        let Some((start, len)) = self.range(span) else {
            return ptr::null_mut();
        };
        let Some(def) = FIELDS.get(hf as usize) else {
            return ptr::null_mut();
        };
        let id = registry::hf(hf);
        // SAFETY: tvb and parent come from Wireshark for this packet (parent may be NULL, which every
        // proto_tree_add_* accepts); (start, len) lies within the captured bytes, so nothing can throw.
        let item = unsafe {
            match (def.kind, value) {
                (FieldKind::Uint { .. } | FieldKind::FrameNum, Value::Uint(v)) => {
                    sys::proto_tree_add_uint(parent, id, self.tvb, start, len, v)
                }
                (FieldKind::Uint { bytes: 8, .. }, Value::Uint64(v)) => {
                    sys::proto_tree_add_uint64(parent, id, self.tvb, start, len, v)
                }
                (FieldKind::Flag { .. }, Value::Flags(bits)) => {
                    sys::proto_tree_add_boolean(parent, id, self.tvb, start, len, bits.into())
                }
                (FieldKind::Bytes | FieldKind::Label, Value::None) => {
                    sys::proto_tree_add_item(parent, id, self.tvb, start, len, sys::ENC_NA as c_uint)
                }
                _ => ptr::null_mut(),
            }
        };
        if def.generated && !item.is_null() {
            // SAFETY: a non-NULL item of this packet's tree; its finfo is NULL or its field_info (the layout
            // wireshark-headers/<release>/proto_node.h declares, checked by the conformance test). This is what
            // the static inline proto_item_set_generated() does.
            unsafe {
                let finfo = (*item).finfo;
                if !finfo.is_null() {
                    (*finfo).flags |= sys::FI_GENERATED;
                }
            }
        }
        item
    }

    fn subtree(&mut self, item: Self::Node, ett: Ett) -> Self::Node {
        // SAFETY: `item` is NULL or an item of this packet's tree; proto_item_add_subtree accepts NULL.
        unsafe { sys::proto_item_add_subtree(item, registry::ett(ett)) }
    }

    fn append_text(&mut self, item: Self::Node, text: &str) {
        if item.is_null() {
            return;
        }
        // SAFETY: a live item; the text goes through "%s", so it is never read as a format.
        unsafe { sys::proto_item_append_text(item, PERCENT_S.as_ptr(), CText::of(text).as_c_str().as_ptr()) }
    }

    fn append_fmt(&mut self, item: Self::Node, text: core::fmt::Arguments<'_>) {
        if item.is_null() {
            return;
        }
        // SAFETY: as append_text.
        unsafe { sys::proto_item_append_text(item, PERCENT_S.as_ptr(), CText::format(text).as_c_str().as_ptr()) }
    }

    fn expert(&mut self, item: Self::Node, ei: Ei, message: &str) {
        if item.is_null() {
            // Without an item (no tree on this pass, or the field was not captured) the expert item still has to
            // exist, for the expert list and for `_ws.expert` filters: give it an item of its own.
            return self.expert_at(self.root, ei, Span::new(0, 0), message);
        }
        let mut text = CText::of(message);
        // SAFETY: pinfo and item belong to this packet; the expert field was registered; "%s" format.
        unsafe {
            sys::expert_add_info_format(
                self.pinfo,
                item,
                registry::ei(ei),
                PERCENT_S.as_ptr(),
                text.as_c_str().as_ptr(),
            );
        }
    }

    fn expert_at(&mut self, parent: Self::Node, ei: Ei, span: Span, message: &str) {
        let range = self.range(span);
        // SAFETY: Wireshark's tvb and packet_info for this packet; `parent` is NULL or an item of its tree.
        unsafe { add_expert(self.tvb, self.pinfo, parent, ei, range, message) }
    }
}

/// Adds an expert item with `message` under `parent` (which may be NULL) over `range`, or over the empty range at
/// 0 when the span asked for was not captured.
///
/// # Safety
/// `tvb` and `pinfo` are Wireshark's for the current packet; `parent` is NULL or an item of its tree; `range`
/// lies within the captured bytes.
unsafe fn add_expert(
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    parent: *mut sys::proto_node,
    ei: Ei,
    range: Option<(c_int, c_int)>,
    message: &str,
) {
    let (start, len) = range.unwrap_or((0, 0));
    let mut text = CText::of(message);
    // SAFETY: (start, len) lies within the captured bytes (or is the empty range at 0), so nothing can throw;
    // "%s" format.
    unsafe {
        sys::proto_tree_add_expert_format(
            parent,
            pinfo,
            registry::ei(ei),
            tvb,
            start,
            len,
            PERCENT_S.as_ptr(),
            text.as_c_str().as_ptr(),
        );
    }
}

/// The writer of a pass without a tree (Wireshark passed NULL: tshark without -V, -T or a display filter): it
/// raises the expert items exactly as [`WsTree`] does when every item is NULL (each over its own span, or the
/// empty range at 0 for one attached to an item, under no parent) and skips everything else, the items and the
/// formatting of their texts, which nobody would see.
pub struct WsExperts {
    pub tvb: *mut sys::tvbuff_t,
    pub pinfo: *mut sys::packet_info,
    /// Bytes the tvb holds: no range reaching past them is passed to Wireshark.
    pub captured: usize,
}

impl TreeWriter for WsExperts {
    type Node = ();
    const NO_ITEM: () = ();

    fn add(&mut self, _parent: (), _hf: Hf, _span: Span, _value: Value) {}

    fn subtree(&mut self, _item: (), _ett: Ett) {}

    fn append_text(&mut self, _item: (), _text: &str) {}

    fn append_fmt(&mut self, _item: (), _text: core::fmt::Arguments<'_>) {}

    fn expert(&mut self, item: (), ei: Ei, message: &str) {
        // As WsTree::expert without an item: an expert item of its own at the start of the packet.
        self.expert_at(item, ei, Span::new(0, 0), message);
    }

    fn expert_at(&mut self, _parent: (), ei: Ei, span: Span, message: &str) {
        // SAFETY: Wireshark's tvb and packet_info for this packet; no tree, so no parent.
        unsafe { add_expert(self.tvb, self.pinfo, ptr::null_mut(), ei, range(self.captured, span), message) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What CText must give: the text with each NUL replaced by a space, as a C string.
    fn want(text: &str) -> Vec<u8> {
        let mut v: Vec<u8> = text.bytes().map(|b| if b == 0 { b' ' } else { b }).collect();
        v.push(0);
        v
    }

    #[test]
    fn c_text_on_the_stack_and_beyond() {
        for len in [0, 1, 190, 191, 192, 193, 500] {
            let text: String =
                (0..len).map(|i| if i % 7 == 3 { '\0' } else { char::from(b'a' + (i % 26) as u8) }).collect();
            assert_eq!(CText::of(&text).as_c_str().to_bytes_with_nul(), want(&text), "{len} bytes");
            let half = len / 2;
            let mut formatted = CText::format(format_args!("{}{}", &text[..half], &text[half..]));
            assert_eq!(formatted.as_c_str().to_bytes_with_nul(), want(&text), "{len} bytes formatted");
        }
        assert_eq!(CText::format(format_args!(": {}:{}", 3, 4096)).as_c_str(), c": 3:4096");
    }
}
