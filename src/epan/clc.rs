//! The CLC handshake on any port: the TCP connection of an SMC handshake (announced by a SYN with SMC's option,
//! which the postdissector sees first) gets a conversation dissector that hands segments starting with a CLC
//! eyecatcher to Wireshark's own `smc` dissector, and leaves every other segment (the application after a
//! Decline) to TCP's port and heuristic dissectors.

use core::ffi::{c_int, c_void};
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};
use std::panic::catch_unwind;

use super::conversation::set_dissector;
use super::packet::{tvb_bytes, Packet};
use super::shim::{self, Called, HeurEntry};
use super::{abi, prefs, registry, sys};
use crate::wire::clc::{self, starts_clc, ClcMessage};
use crate::wire::handshake::tcp_payload;
use crate::wire::Flow;

/// Wireshark's "Shared Memory Communications over TCP" heuristic (`smc_tcp`), found at hand-off.
static SMC_TCP: AtomicPtr<HeurEntry> = AtomicPtr::new(ptr::null_mut());

/// Finds Wireshark's `smc_tcp` heuristic; without it (a Wireshark built without the smc dissector) the CLC
/// conversation dissector declines everything.
///
/// # Safety
/// In a hand-off routine: every protocol registered.
pub unsafe fn find_smc_dissector() {
    SMC_TCP.store(shim::find_heuristic(c"smc_tcp"), Ordering::Relaxed);
}

/// Hands the TCP connection `flow` (an SMC handshake) to the CLC conversation dissector.
pub fn hand_handshake(p: Packet, flow: Flow) {
    let handle = registry::CLC_HANDLE.load(Ordering::Relaxed);
    if handle.is_null() || SMC_TCP.load(Ordering::Relaxed).is_null() || !prefs::follow_conversations() {
        return;
    }
    // TCP created the conversation when it dissected this SYN, before the postdissector runs.
    set_dissector(p, &flow, abi::CONVERSATION_TCP, handle);
}

/// The conversation dissector of SMC handshakes: a segment that starts with a CLC eyecatcher goes to Wireshark's
/// `smc` dissector (through the C shim, which catches its exceptions); anything else is not ours (0), so TCP
/// goes on to the application's dissector.
pub unsafe extern "C" fn dissect_clc(
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    data: *mut c_void,
) -> c_int {
    if tvb.is_null() || pinfo.is_null() {
        return 0;
    }
    let looks_clc = catch_unwind(|| {
        // SAFETY: Wireshark's arguments for this packet; only its captured bytes are read.
        let (bytes, _) = unsafe { tvb_bytes(tvb) };
        starts_clc(bytes)
    });
    if !matches!(looks_clc, Ok(true)) {
        return 0;
    }
    let mut caught = shim::caught();
    // SAFETY: the entry was found at hand-off; the shim catches whatever the smc dissector throws.
    let called = unsafe { shim::call_heuristic(SMC_TCP.load(Ordering::Relaxed), tvb, pinfo, tree, data, &mut caught) };
    match called {
        Called::Declined => 0,
        // A CLC message, taken (or shown as malformed) by the smc dissector: all of the segment is accounted for.
        Called::Taken | Called::Threw => {
            // SAFETY: Wireshark's tvb for this packet.
            let len = unsafe { sys::tvb_reported_length(tvb) };
            c_int::try_from(len).unwrap_or(c_int::MAX)
        }
    }
}

/// The CLC message a TCP segment of the whole frame `bytes` carries, and the direction it was sent in.
pub fn message(bytes: &[u8]) -> Option<(Flow, ClcMessage)> {
    let (flow, payload) = tcp_payload(bytes)?;
    Some((flow, clc::parse(payload)?))
}
