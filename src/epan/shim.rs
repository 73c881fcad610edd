//! Calling one of Wireshark's heuristic dissectors by name through the C shim (`src/epan/catch.c`): Wireshark
//! throws with longjmp, which must never cross a Rust frame, so the shim calls under a catcher and returns what it
//! caught.

use core::ffi::{c_void, CStr};

use super::sys;

/// A heuristic dissector's entry; only the shim looks inside.
pub type HeurEntry = sys::heur_dtbl_entry_t;

/// What the shim caught (`smcdump_caught_t`): the exception's code (0: none) and its message.
pub type Caught = sys::smcdump_caught_t;

/// Nothing caught yet.
pub const fn caught() -> Caught {
    sys::smcdump_caught_t { code: 0, message: [0; 128] }
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

/// The entry of the heuristic registered as `short_name`, or null.
///
/// # Safety
/// Only after every protocol registered (in a hand-off routine or later).
pub unsafe fn find_heuristic(short_name: &CStr) -> *mut HeurEntry {
    sys::find_heur_dissector_by_unique_short_name(short_name.as_ptr())
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
    match sys::smcdump_call_heuristic(entry, tvb, pinfo, tree, data, caught) {
        1 => Called::Taken,
        0 => Called::Declined,
        _ => Called::Threw,
    }
}
