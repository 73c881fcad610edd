//! Statistics: the tap "smcdump", `tshark -z smcdump,conn`, the conversation and endpoint tables and the connection
//! table of the Statistics menu ([`super::stats_table`]), registered through the C shim (src/epan/tables.c),
//! which holds the callbacks whose signatures differ between releases. The table itself is built in pure Rust
//! ([`crate::capture::table`]) from the first pass's state.

use core::ffi::{c_char, c_int};
use core::sync::atomic::{AtomicI32, Ordering};
use std::ffi::CString;
use std::panic::catch_unwind;

use super::packet::Packet;
use super::state::session;
use super::sys;

/// The tap "smcdump" (-1 before registration).
static TAP: AtomicI32 = AtomicI32::new(-1);

/// Registers the tap and the statistic.
///
/// # Safety
/// At protocol registration.
pub unsafe fn register(proto: c_int) {
    let table = super::stats_table::description();
    let tap = sys::smcdump_register_stats(proto, Some(table_text), Some(free_text), &table);
    TAP.store(tap, Ordering::Relaxed);
}

/// Queues the current frame, a dump frame of `bytes` bytes of connection `stream` (when it has one), on the tap:
/// for the listeners of `-z smcdump,conn`, `-z conv,smcdump` and `-z endpoints,smcdump`.
pub fn tap_frame(p: Packet, bytes: usize, stream: Option<u32>) {
    let tap: c_int = TAP.load(Ordering::Relaxed);
    if tap >= 0 {
        let stream = stream.map_or(-1, i64::from);
        // SAFETY: the packet_info of the current dissection; the shim queues only when someone listens.
        unsafe { sys::smcdump_tap_frame(tap, p.pinfo, u32::try_from(bytes).unwrap_or(u32::MAX), stream, 0) }
    }
}

/// Queues the current frame, a TCP segment with a CLC message, on the tap: for the connection table's listeners
/// (`-z smcdump,connections`, Statistics › SMC Connections) only.
pub fn tap_clc(p: Packet) {
    let tap: c_int = TAP.load(Ordering::Relaxed);
    if tap >= 0 {
        // SAFETY: as tap_frame.
        unsafe { sys::smcdump_tap_frame(tap, p.pinfo, 0, -1, 1) }
    }
}

/// The table's text, owned by Rust until [`free_text`] gets it back; null on failure.
unsafe extern "C" fn table_text() -> *mut c_char {
    catch_unwind(|| {
        let text = session().table().render();
        CString::new(text).map_or(core::ptr::null_mut(), CString::into_raw)
    })
    .unwrap_or(core::ptr::null_mut())
}

/// Frees a text of [`table_text`].
unsafe extern "C" fn free_text(text: *mut c_char) {
    if text.is_null() {
        return;
    }
    let _ = catch_unwind(|| {
        // SAFETY: `text` came from CString::into_raw in table_text and is handed back once.
        drop(unsafe { CString::from_raw(text) });
    });
}
