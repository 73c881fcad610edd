//! smcdump: a Wireshark dissector plugin for Linux SMC dump captures, and the pure library under it.
//!
//! Data flows one way, each floor using only the ones before it: bytes → [`wire`] (parsing and encoding of the
//! records, pure) → [`capture`] (what each frame decides and what a capture file remembers, pure) → [`dissect`]
//! (fields, tree, columns, pure) → `epan` (the plugin's only `unsafe` code: Wireshark's C API, built with the
//! `plugin` feature) → Wireshark. Beside the dissection, [`export`] turns the capture state into plain TCP segments
//! (`smcdump2tcp`, src/bin/).
#![deny(unsafe_code)]

pub mod capture;
pub mod dissect;
#[cfg(feature = "plugin")]
pub mod epan;
pub mod export;
pub mod releases;
pub mod wire;
