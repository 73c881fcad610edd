//! The ids Wireshark assigns at registration: protocol, fields, subtrees, expert items, the dissector handle.
//!
//! Wireshark writes each id through a pointer we hand it, once, during registration on its main thread; the
//! dissector reads them later. Atomics give those integers a stable address and make the reads sound without
//! `static mut`.

use core::cell::UnsafeCell;
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, Ordering};

use super::sys;
use crate::dissect::fields::{Ei, Ett, Hf, ETT_COUNT, EXPERTS, FIELDS};

/// An `expert_field` Wireshark fills in at registration.
#[repr(transparent)]
pub struct ExpertCell(UnsafeCell<sys::expert_field>);

// SAFETY: Wireshark writes the cell only while registering, before any dissection reads it, and registration and
// dissection run on the same (main) thread; smcdump itself never writes it.
unsafe impl Sync for ExpertCell {}

impl ExpertCell {
    const fn new() -> Self {
        ExpertCell(UnsafeCell::new(sys::expert_field { ei: -1, hf: -1 }))
    }

    /// The pointer expert functions take.
    pub fn as_ptr(&self) -> *mut sys::expert_field {
        self.0.get()
    }
}

/// Set once registration ran to its end: every id below is assigned. The hand-off installs nothing otherwise, so
/// no dissector of ours can run with ids Wireshark never gave out.
pub static REGISTERED: AtomicBool = AtomicBool::new(false);
pub static PROTO: AtomicI32 = AtomicI32::new(-1);
pub static HF: [AtomicI32; FIELDS.len()] = [const { AtomicI32::new(-1) }; FIELDS.len()];
pub static ETT: [AtomicI32; ETT_COUNT] = [const { AtomicI32::new(-1) }; ETT_COUNT];
pub static EI: [ExpertCell; EXPERTS.len()] = [const { ExpertCell::new() }; EXPERTS.len()];
/// The dissector Decode As offers: decodes whatever it is given, flagging what is wrong.
pub static HANDLE: AtomicPtr<sys::dissector_handle> = AtomicPtr::new(ptr::null_mut());
/// The dissector recognised UDP flows are handed to: takes datagrams that start with a dump header.
pub static FLOW_HANDLE: AtomicPtr<sys::dissector_handle> = AtomicPtr::new(ptr::null_mut());
/// The conversation dissector of SMC handshakes' TCP connections: hands CLC messages to Wireshark's smc dissector.
pub static CLC_HANDLE: AtomicPtr<sys::dissector_handle> = AtomicPtr::new(ptr::null_mut());

/// The registered id of a field.
pub fn hf(hf: Hf) -> i32 {
    HF.get(hf as usize).map_or(-1, |id| id.load(Ordering::Relaxed))
}

/// The registered id of a subtree type.
pub fn ett(ett: Ett) -> i32 {
    ETT.get(ett as usize).map_or(-1, |id| id.load(Ordering::Relaxed))
}

/// The registered expert field.
pub fn ei(ei: Ei) -> *mut sys::expert_field {
    EI.get(ei as usize).map_or(ptr::null_mut(), ExpertCell::as_ptr)
}
