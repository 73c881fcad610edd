//! The FFI layer: the only module with `unsafe`. It binds smcdump to Wireshark's epan C API, and only adapts:
//! each callback reads Wireshark's arguments into plain values, lets `crate::capture` decide and `crate::dissect`
//! render, and writes the result back.
//!
//! Rules every function here keeps:
//! - every `extern "C"` entry point catches panics and answers "not mine" / 0 instead ([`packet::guarded`]);
//! - no Wireshark call that can throw (tvb accessors, tree items over a range) gets a range that was not first
//!   checked against the captured length, because Wireshark throws with longjmp, which must never cross Rust
//!   frames; calls into other dissectors go through the C shim (`catch.c`), which catches;
//! - what differs between Wireshark releases is kept in [`abi`] and the generated [`sys`] bindings.
#![allow(unsafe_code)]

pub mod abi;
mod application;
mod clc;
mod conversation;
mod dissector;
mod follow;
mod packet;
mod plugin;
mod prefs;
mod registry;
mod shim;
mod state;
mod stats;
mod stats_table;
pub mod sys;
mod tree;

pub use plugin::{plugin_describe, plugin_register, plugin_version, plugin_want_major, plugin_want_minor};
