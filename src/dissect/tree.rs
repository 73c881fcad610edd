//! The small interface through which a dissection writes its protocol tree.
//!
//! The FFI layer implements it over Wireshark's tree; [`RecordingTree`] implements it in memory so the whole
//! dissection can be tested without Wireshark.

use core::fmt::Write as _;

use super::fields::{Ei, Ett, FieldKind, Hf, FIELDS};
use crate::wire::Span;

/// The value an item shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// No value: a label, or bytes shown as they are.
    None,
    /// An unsigned integer field of up to 4 bytes (or a frame number).
    Uint(u32),
    /// An unsigned integer field of 8 bytes.
    Uint64(u64),
    /// The whole flags byte, for a one-bit field (the field's mask picks the bit).
    Flags(u8),
}

/// Where a dissection writes its items.
///
/// A field the capture does not hold gets no item: the dissection uses [`TreeWriter::NO_ITEM`] for it, which every
/// call accepts. Implementations must still ignore (not fail on) spans beyond the captured bytes.
pub trait TreeWriter {
    /// An item or subtree; `Copy` so the dissection can keep handles.
    type Node: Copy;
    /// The node of no item (a field not captured, or a writer that shows no items).
    const NO_ITEM: Self::Node;

    /// Adds a field under `parent` over `span`; a field smcdump computes ([`super::fields::FieldDef::generated`]) is
    /// marked generated (Wireshark shows it in brackets).
    fn add(&mut self, parent: Self::Node, hf: Hf, span: Span, value: Value) -> Self::Node;
    /// Makes `item` the root of a subtree of type `ett`.
    fn subtree(&mut self, item: Self::Node, ett: Ett) -> Self::Node;
    /// Appends text to an item's label.
    fn append_text(&mut self, item: Self::Node, text: &str);
    /// Appends formatted text to an item's label; a writer that shows no such item (Wireshark without a tree,
    /// which is how tshark runs without -V or a filter) skips the formatting.
    fn append_fmt(&mut self, item: Self::Node, text: core::fmt::Arguments<'_>) {
        self.append_text(item, &text.to_string());
    }
    /// Attaches an expert item with `message` to `item`.
    fn expert(&mut self, item: Self::Node, ei: Ei, message: &str);
    /// Adds an expert item of its own under `parent`, over `span`.
    fn expert_at(&mut self, parent: Self::Node, ei: Ei, span: Span, message: &str);
}

/// Items shown separated by ", ", formatted only when the text is wanted.
pub struct Joined<I>(pub I);

impl<I: Iterator<Item = T> + Clone, T: core::fmt::Display> core::fmt::Display for Joined<I> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, item) in self.0.clone().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{item}")?;
        }
        Ok(())
    }
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
    pub generated: bool,
}

/// An item or an expert item of a [`RecordingTree`].
#[derive(Clone, Copy, Debug)]
pub enum Entry<'a> {
    /// The item's node (its index in `items` plus one) and the item.
    Item(usize, &'a Recorded),
    Expert(Ei, &'a str),
}

/// An in-memory [`TreeWriter`] for tests: nodes are indices into `items` (0 is the root).
#[derive(Debug, Default)]
pub struct RecordingTree {
    /// Bytes the pretend capture holds; items beyond it are dropped, as the real writer drops them.
    pub captured: usize,
    pub items: Vec<Recorded>,
    pub experts: Vec<(usize, Ei, String)>,
    /// For each expert item, how many items had been added before it: where it lies among them.
    pub experts_after: Vec<usize>,
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

    /// Every item, one line each, indented by depth: `Hf off+len = value "text" [generated]`. Tests compare the
    /// whole list, so an item nobody expected fails them.
    pub fn lines(&self) -> Vec<String> {
        let mut depth = vec![0usize; self.items.len() + 1];
        self.items
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let d = if r.parent == 0 { 0 } else { depth[r.parent] + 1 };
                depth[i + 1] = d;
                let mut line = format!("{}{:?} {}+{}", "  ".repeat(d), r.hf, r.span.off, r.span.len);
                match r.value {
                    Value::None => {}
                    Value::Uint(v) => {
                        let _ = write!(line, " = {v}");
                    }
                    Value::Uint64(v) => {
                        let _ = write!(line, " = {v}");
                    }
                    Value::Flags(b) => {
                        let _ = write!(line, " = 0x{b:02x}");
                    }
                }
                if !r.text.is_empty() {
                    let _ = write!(line, " {:?}", r.text);
                }
                if r.generated {
                    line.push_str(" [generated]");
                }
                line
            })
            .collect()
    }

    /// Items and expert items in the order Wireshark's tree holds them: depth first, each node's children in the
    /// order they were added (an expert item is a child of the item it is attached to, or of the parent it was
    /// added under).
    pub fn in_tree_order(&self) -> Vec<Entry<'_>> {
        // Children of each node (0: the root, i + 1: items[i]) by the time they were added: item i at 2i, an expert
        // added after n items at 2n - 1 (after item n - 1, before item n).
        let mut children: Vec<Vec<(usize, Entry<'_>)>> = vec![Vec::new(); self.items.len() + 1];
        // (An item's node is its index plus one.)
        for (i, r) in self.items.iter().enumerate() {
            if let Some(c) = children.get_mut(r.parent) {
                c.push((2 * i + 1, Entry::Item(i + 1, r)));
            }
        }
        for (j, (node, ei, msg)) in self.experts.iter().enumerate() {
            let after = self.experts_after.get(j).copied().unwrap_or(0);
            if let Some(c) = children.get_mut(*node) {
                c.push((2 * after, Entry::Expert(*ei, msg)));
            }
        }
        for c in &mut children {
            c.sort_by_key(|(t, _)| *t);
        }
        let mut out = Vec::new();
        let mut stack: Vec<Entry<'_>> = children[0].iter().rev().map(|(_, e)| *e).collect();
        while let Some(e) = stack.pop() {
            if let Entry::Item(n, _) = e {
                stack.extend(children[n].iter().rev().map(|(_, e)| *e));
            }
            out.push(e);
        }
        out
    }

    /// Fails (panics) unless the items are exactly `want`, as [`RecordingTree::lines`] writes them.
    pub fn assert_lines(&self, want: &[&str]) {
        let got = self.lines();
        if got != want {
            panic!("tree items differ.\n got:\n{}\nwant:\n{}", got.join("\n"), want.join("\n"));
        }
    }
}

/// Whether `value` is what a field of `kind` takes: Wireshark silently drops (or, with a dissector-bug assertion,
/// refuses) an item whose value does not fit its registered type.
fn fits(kind: FieldKind, value: Value) -> bool {
    match (kind, value) {
        (FieldKind::Uint { bytes: 8, .. }, Value::Uint64(_)) => true,
        (FieldKind::Uint { bytes, .. }, Value::Uint(v)) => bytes == 4 || (bytes < 4 && v < 1 << (8 * u32::from(bytes))),
        (FieldKind::FrameNum, Value::Uint(_)) | (FieldKind::Flag { .. }, Value::Flags(_)) => true,
        (FieldKind::Bytes | FieldKind::Label, Value::None) => true,
        _ => false,
    }
}

impl TreeWriter for RecordingTree {
    type Node = usize;
    const NO_ITEM: usize = 0;

    fn add(&mut self, parent: usize, hf: Hf, span: Span, value: Value) -> usize {
        let def = FIELDS[hf as usize];
        assert!(fits(def.kind, value), "{hf:?} is registered as {:?}, but was given {value:?}", def.kind);
        self.requested.push((Some(hf), span, value));
        if !span.within(self.captured) {
            return 0;
        }
        let generated = def.generated;
        self.items.push(Recorded { parent, hf, span, value, text: String::new(), ett: None, generated });
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
        self.experts_after.push(self.items.len());
    }

    fn expert_at(&mut self, parent: usize, ei: Ei, span: Span, message: &str) {
        self.requested.push((None, span, Value::None));
        self.experts.push((parent, ei, message.to_string()));
        self.experts_after.push(self.items.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_must_fit_the_registered_kind() {
        assert!(fits(FIELDS[Hf::Mode as usize].kind, Value::Uint(255)));
        assert!(!fits(FIELDS[Hf::Mode as usize].kind, Value::Uint(256)));
        assert!(!fits(FIELDS[Hf::Data as usize].kind, Value::Uint(1)));
        assert!(!fits(FIELDS[Hf::PfWriteBlocked as usize].kind, Value::Uint(1)));
        assert!(fits(FIELDS[Hf::AnPrevCdc as usize].kind, Value::Uint(u32::MAX)));
        let caught = std::panic::catch_unwind(|| {
            let mut t = RecordingTree::new(10);
            t.add(0, Hf::Magic, Span::new(0, 4), Value::Flags(1));
        });
        assert!(caught.is_err(), "a flags value on a uint field went unnoticed");
    }

    #[test]
    fn lines_show_depth_values_text_and_generated() {
        let mut t = RecordingTree::new(10);
        let a = t.add(0, Hf::Cdc, Span::new(0, 4), Value::None);
        let b = t.add(a, Hf::CdcSeqno, Span::new(2, 2), Value::Uint(7));
        t.append_text(b, " x");
        t.add(a, Hf::AnDataBytes, Span::new(0, 0), Value::Uint(3));
        t.assert_lines(&["Cdc 0+4", "  CdcSeqno 2+2 = 7 \" x\"", "  AnDataBytes 0+0 = 3 [generated]"]);
    }
}
