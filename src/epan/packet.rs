//! The current packet as Wireshark hands it to a callback, read into plain values: its captured bytes, frame
//! number, flow and dump device; and the prologue every callback shares.

use core::ffi::{c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::sys;
use crate::wire::{Endpoint, Flow};

/// Wireshark's arguments for the current packet (the tree may be NULL).
#[derive(Clone, Copy)]
pub struct Packet {
    pub tvb: *mut sys::tvbuff_t,
    pub pinfo: *mut sys::packet_info,
    pub tree: *mut sys::proto_tree,
}

/// Runs `f` on the packet of a callback's arguments, unless `tvb` or `pinfo` is NULL; a panic gives `default`
/// instead of crossing into Wireshark. The prologue of every callback.
pub fn guarded<R>(
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    default: R,
    f: impl FnOnce(Packet) -> R,
) -> R {
    if tvb.is_null() || pinfo.is_null() {
        return default;
    }
    catch_unwind(AssertUnwindSafe(|| f(Packet { tvb, pinfo, tree }))).unwrap_or(default)
}

/// The captured bytes of `tvb`, and its length on the wire.
///
/// # Safety
/// `tvb` must be the live tvb Wireshark passed to the current callback; the slice must not outlive it.
pub unsafe fn tvb_bytes<'a>(tvb: *mut sys::tvbuff_t) -> (&'a [u8], usize) {
    let captured = sys::tvb_captured_length(tvb);
    let reported = sys::tvb_reported_length(tvb) as usize;
    let Ok(len) = c_int::try_from(captured) else {
        return (&[], reported);
    };
    if len == 0 {
        return (&[], reported);
    }
    // tvb_get_ptr over exactly the captured bytes cannot throw, and returns memory that lives as long as the tvb.
    let data = sys::tvb_get_ptr(tvb, 0, len);
    if data.is_null() {
        return (&[], reported);
    }
    (std::slice::from_raw_parts(data, captured as usize), reported)
}

/// The bytes of an address, if it has any.
///
/// # Safety
/// `a` must be an address of the current packet's packet_info, whose `data` (when set) holds `len` bytes.
unsafe fn address_bytes(a: &sys::address) -> &[u8] {
    match usize::try_from(a.len) {
        Ok(len @ 1..=64) if !a.data.is_null() => std::slice::from_raw_parts(a.data.cast(), len),
        _ => &[],
    }
}

impl Packet {
    /// The tvb's captured bytes and its length on the wire.
    pub fn bytes<'a>(&self) -> (&'a [u8], usize) {
        // SAFETY: the tvb Wireshark passed to this callback (checked non-NULL by `guarded`), alive during it.
        unsafe { tvb_bytes(self.tvb) }
    }

    /// Wireshark's frame number.
    pub fn num(&self) -> u32 {
        // SAFETY: the packet_info of this callback (non-NULL).
        unsafe { (*self.pinfo).num }
    }

    /// The packet's addresses and ports, when they are IPv4.
    pub fn flow(&self) -> Option<Flow> {
        // SAFETY: the packet_info of this callback; its addresses hold `len` bytes.
        let p = unsafe { &*self.pinfo };
        let v4 = |a: &sys::address| -> Option<[u8; 4]> { unsafe { address_bytes(a) }.try_into().ok() };
        let port = |v: u32| u16::try_from(v).ok();
        Some(Flow::new(Endpoint::new(v4(&p.src)?, port(p.srcport)?), Endpoint::new(v4(&p.dst)?, port(p.destport)?)))
    }

    /// The link layer's source address when it is a MAC address (a dump frame's: its dump device's).
    pub fn device(&self) -> Option<[u8; 6]> {
        // SAFETY: as `flow`.
        let p = unsafe { &*self.pinfo };
        unsafe { address_bytes(&p.dl_src) }.try_into().ok()
    }

    /// Sets the Protocol and Info columns (`info` as it is: a NUL in it ends the text Wireshark sees).
    pub fn set_columns(&self, protocol: &'static CStr, info: &CStr) {
        // SAFETY: the packet_info of this callback; col_* accept a NULL cinfo and copy the text.
        unsafe {
            let cinfo = (*self.pinfo).cinfo;
            sys::col_set_str(cinfo, sys::COL_PROTOCOL as c_int, protocol.as_ptr());
            sys::col_add_str(cinfo, sys::COL_INFO as c_int, info.as_ptr());
        }
    }

    /// Puts `text` before the Info column's text, fenced: what later dissectors write comes after it.
    pub fn prepend_info(&self, text: &CStr) {
        // SAFETY: as `set_columns`; the format takes one string.
        unsafe {
            sys::col_prepend_fence_fstr((*self.pinfo).cinfo, sys::COL_INFO as c_int, c"%s".as_ptr(), text.as_ptr())
        }
    }

    /// Appends `text` to the Info column.
    pub fn append_info(&self, text: &CStr) {
        // SAFETY: as `set_columns`.
        unsafe { sys::col_append_str((*self.pinfo).cinfo, sys::COL_INFO as c_int, text.as_ptr()) }
    }
}
