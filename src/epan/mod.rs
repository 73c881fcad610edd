//! The FFI layer: the only module with `unsafe`. It binds smcdump to Wireshark's epan C API.
//!
//! Rules every function here keeps:
//! - every `extern "C"` entry point catches panics and answers "not mine" / 0 instead;
//! - no Wireshark call that can throw (tvb accessors, tree items over a range) gets a range that was not first
//!   checked against the captured length, because Wireshark throws with longjmp, which must never cross Rust
//!   frames;
//! - what differs between Wireshark releases is kept in [`abi`] and the generated [`sys`] bindings.

pub mod abi;
mod clc;
mod dissector;
mod handoff;
mod plugin;
mod prefs;
mod registry;
mod shim;
mod stats;
mod stats_table;
pub mod sys;
mod tree;

pub use plugin::{plugin_describe, plugin_register, plugin_version, plugin_want_major, plugin_want_minor};
