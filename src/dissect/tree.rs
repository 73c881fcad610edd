//! The small interface through which a dissection writes its protocol tree.
//!
//! The FFI layer implements it over Wireshark's tree; [`RecordingTree`] implements it in memory so the whole
//! dissection can be tested without Wireshark.

use super::fields::{Ei, Ett, Hf};
use crate::wire::Span;

/// A span no capture holds. The dissection asks for an item over it when the field exists in the layout but not
/// in the capture; a writer drops the item and hands back its "no item" node, which later calls (subtrees, text,
/// expert items) accept.
pub const NOWHERE: Span = Span::new(usize::MAX, 0);

/// The value an item shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// No value: a label, or bytes shown as they are.
    None,
    /// An unsigned integer field.
    Uint(u32),
    /// The whole flags byte, for a one-bit field (the field's mask picks the bit).
    Flags(u8),
}

/// Where a dissection writes its items.
///
/// Implementations must ignore (not fail on) spans that lie beyond the captured bytes: the dissection asks for
/// every field the layout has, and only the writer knows what the capture holds.
pub trait TreeWriter {
    /// An item or subtree; `Copy` so the dissection can keep handles.
    type Node: Copy;

    /// Adds a field under `parent` over `span`.
    fn add(&mut self, parent: Self::Node, hf: Hf, span: Span, value: Value) -> Self::Node;
    /// Makes `item` the root of a subtree of type `ett`.
    fn subtree(&mut self, item: Self::Node, ett: Ett) -> Self::Node;
    /// Appends text to an item's label.
    fn append_text(&mut self, item: Self::Node, text: &str);
    /// Attaches an expert item with `message` to `item`.
    fn expert(&mut self, item: Self::Node, ei: Ei, message: &str);
    /// Adds an expert item of its own under `parent`, over `span`.
    fn expert_at(&mut self, parent: Self::Node, ei: Ei, span: Span, message: &str);
}

/// One item a [`RecordingTree`] saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub parent: usize,
    pub hf: Hf,
    pub span: Span,
    pub value: Value,
    pub text: String,
    pub ett: Option<Ett>,
}

/// An in-memory [`TreeWriter`] for tests: nodes are indices into `items` (0 is the root).
#[derive(Debug, Default)]
pub struct RecordingTree {
    /// Bytes the pretend capture holds; items beyond it are dropped, as the real writer drops them.
    pub captured: usize,
    pub items: Vec<Recorded>,
    pub experts: Vec<(usize, Ei, String)>,
    /// Every item asked for, the dropped ones included: (field, span, value) of each `add`, and
    /// (`None`, span, [`Value::None`]) of each `expert_at`. Robustness tests check these spans.
    pub requested: Vec<(Option<Hf>, Span, Value)>,
}

impl RecordingTree {
    /// A tree over a capture of `captured` bytes.
    pub fn new(captured: usize) -> Self {
        RecordingTree { captured, ..Default::default() }
    }

    /// The first item of field `hf`.
    pub fn find(&self, hf: Hf) -> Option<&Recorded> {
        self.items.iter().find(|r| r.hf == hf)
    }

    /// The expert items raised, by id.
    pub fn expert_ids(&self) -> Vec<Ei> {
        self.experts.iter().map(|e| e.1).collect()
    }
}

impl TreeWriter for RecordingTree {
    type Node = usize;

    fn add(&mut self, parent: usize, hf: Hf, span: Span, value: Value) -> usize {
        self.requested.push((Some(hf), span, value));
        if !span.within(self.captured) {
            return 0;
        }
        self.items.push(Recorded { parent, hf, span, value, text: String::new(), ett: None });
        self.items.len()
    }

    fn subtree(&mut self, item: usize, ett: Ett) -> usize {
        if let Some(r) = item.checked_sub(1).and_then(|i| self.items.get_mut(i)) {
            r.ett = Some(ett);
        }
        item
    }

    fn append_text(&mut self, item: usize, text: &str) {
        if let Some(r) = item.checked_sub(1).and_then(|i| self.items.get_mut(i)) {
            r.text.push_str(text);
        }
    }

    fn expert(&mut self, item: usize, ei: Ei, message: &str) {
        self.experts.push((item, ei, message.to_string()));
    }

    fn expert_at(&mut self, parent: usize, ei: Ei, span: Span, message: &str) {
        self.requested.push((None, span, Value::None));
        self.experts.push((parent, ei, message.to_string()));
    }
}
