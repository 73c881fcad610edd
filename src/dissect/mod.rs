//! From a frame's outcome to what Wireshark shows: the field, subtree and expert tables, the tree-writing
//! interface, the rendering of items and the column texts. Nothing here calls Wireshark; `crate::epan` supplies the
//! real [`TreeWriter`].

pub mod fields;
pub mod render;
pub mod stream;
pub mod tree;

pub use fields::{Ei, Ett, Hf, EXPERTS, FIELDS};
pub use render::{dissect, info_tags, render, summary, Summary, PROTOCOL_SHORT};
pub use tree::{RecordingTree, TreeWriter, Value};
