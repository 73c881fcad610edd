//! smcdump: a Wireshark dissector plugin for Linux SMC dump captures.
//!
//! Data flows one way: bytes → [`wire`] (pure parsing) → plain values → [`dissect`] (fields, tree, columns) →
//! [`epan`] (the only `unsafe` code: Wireshark's C API) → Wireshark.

pub mod analysis;
pub mod conn_table;
pub mod connections;
pub mod dissect;
pub mod epan;
pub mod fastmap;
pub mod frames;
pub mod releases;
pub mod session;
pub mod streams;
pub mod wire;
