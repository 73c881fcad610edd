//! The C shim (csrc/call_dissector.c) through which smcdump calls Wireshark's own dissectors: Wireshark throws
//! with longjmp, which must never cross a Rust frame, so the shim calls inside TRY/CATCH and returns what it caught.

use core::ffi::{c_char, c_int, c_ulong, c_void, CStr};

use super::sys;

/// A heuristic dissector's entry; only the shim looks inside.
#[repr(C)]
pub struct HeurEntry {
    _opaque: [u8; 0],
}

/// What the shim caught (csrc/call_dissector.c `smcdump_caught_t`).
#[repr(C)]
pub struct Caught {
    /// The exception's code (Wireshark's `BoundsError` = 1 ...), 0 when nothing was thrown.
    pub code: c_ulong,
    pub message: [c_char; 128],
}

impl Caught {
    pub const fn new() -> Self {
        Caught { code: 0, message: [0; 128] }
    }
}

/// How a call through the shim went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Called {
    /// The dissector took the packet.
    Taken,
    /// It did not (or it, or its protocol, is disabled).
    Declined,
    /// It threw; the tree shows the exception as Wireshark's dissectors show it.
    Threw,
}

extern "C" {
    fn smcdump_find_heuristic(short_name: *const c_char) -> *mut HeurEntry;
    fn smcdump_call_heuristic(
        entry: *mut HeurEntry,
        tvb: *mut sys::tvbuff_t,
        pinfo: *mut sys::packet_info,
        tree: *mut sys::proto_tree,
        data: *mut c_void,
        caught: *mut Caught,
    ) -> c_int;
}

/// The entry of the heuristic registered as `short_name`, or null.
///
/// # Safety
/// Only after every protocol registered (in a hand-off routine or later).
pub unsafe fn find_heuristic(short_name: &CStr) -> *mut HeurEntry {
    smcdump_find_heuristic(short_name.as_ptr())
}

/// Calls the heuristic dissector of `entry` on the packet; nothing it throws reaches Rust.
///
/// # Safety
/// `entry` from [`find_heuristic`] (or null); the other arguments as Wireshark passed them to the current dissector.
pub unsafe fn call_heuristic(
    entry: *mut HeurEntry,
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    data: *mut c_void,
    caught: &mut Caught,
) -> Called {
    if entry.is_null() {
        return Called::Declined;
    }
    match smcdump_call_heuristic(entry, tvb, pinfo, tree, data, caught) {
        1 => Called::Taken,
        0 => Called::Declined,
        _ => Called::Threw,
    }
}
