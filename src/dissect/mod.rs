//! From parsed values to what Wireshark shows: the field table, the tree-writing interface and the rendering.
//! Nothing here calls Wireshark; `crate::epan` supplies the real [`TreeWriter`].

pub mod fields;
pub mod render;
pub mod stream;
pub mod tree;

pub use fields::{Ei, Ett, Hf, EXPERTS, FIELDS};
pub use render::{dissect, dissect_analysed, dissect_in, stream_part, Context, LearnedLayout, StreamPart, Summary};
pub use stream::stream_items;
pub use tree::{RecordingTree, TreeWriter, Value, NOWHERE};
