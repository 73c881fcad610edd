//! Wireshark conversations smcdump gives a dissector: a dump frame's UDP flow, handed to smcdump so that no UDP
//! port owner takes its later frames, and an SMC handshake's TCP connection, handed to the CLC dissector.

use core::ffi::c_int;
use core::ptr;
use core::sync::atomic::Ordering;

use super::packet::Packet;
use super::state::{handed, session};
use super::{abi, prefs, registry, sys};
use crate::wire::Flow;

/// Hands the UDP flow `flow` to smcdump from the current frame on, unless the preference says not to; once per
/// capture file (the conversation keeps its dissector).
pub fn hand_flow(p: Packet, flow: Flow) {
    let handle = registry::FLOW_HANDLE.load(Ordering::Relaxed);
    if handle.is_null() || !prefs::follow_conversations() || !session().first_handover(flow) {
        return;
    }
    set_dissector(p, &flow, abi::CONVERSATION_UDP, handle);
}

/// Hands the UDP flow `flow` of an Ethernet dump frame to smcdump, remembering it for the Ethernet heuristic.
pub fn hand_ethernet_flow(p: Packet, flow: Flow) {
    hand_flow(p, flow);
    handed::remember(flow);
}

/// Gives `flow`'s conversation of type `kind` (found, or created from the current frame on) the dissector `handle`.
pub fn set_dissector(p: Packet, flow: &Flow, kind: sys::ws_conversation_type, handle: sys::dissector_handle_t) {
    // Wireshark copies the address bytes into the conversation key; they only need to live through the calls.
    let address = |a: &[u8; 4]| sys::address {
        type_: sys::AT_IPv4 as c_int,
        len: 4,
        data: a.as_ptr().cast(),
        priv_: ptr::null_mut(),
    };
    let (src, dst) = (address(&flow.src.addr), address(&flow.dst.addr));
    let (sport, dport) = (u32::from(flow.src.port), u32::from(flow.dst.port));
    let num = p.num();
    // SAFETY: called from a dissection callback of the current packet; the addresses live through the calls;
    // `handle` is a registered dissector.
    unsafe {
        let mut conversation = sys::find_conversation(num, &src, &dst, kind, sport, dport, 0);
        if conversation.is_null() {
            conversation = sys::conversation_new(num, &src, &dst, kind, sport, dport, 0);
        }
        if !conversation.is_null() {
            sys::conversation_set_dissector(conversation, handle);
        }
    }
}

/// Gives the current packet's own conversation (UDP, as the packet says) smcdump's flow dissector: what the UDP
/// heuristic does when it claims a datagram.
pub fn hand_packet(p: Packet) {
    let handle = registry::FLOW_HANDLE.load(Ordering::Relaxed);
    if !prefs::follow_conversations() || handle.is_null() {
        return;
    }
    // SAFETY: the packet_info of the current dissection.
    unsafe {
        let conversation = sys::find_or_create_conversation(p.pinfo);
        if !conversation.is_null() {
            sys::conversation_set_dissector(conversation, handle);
        }
    }
}
