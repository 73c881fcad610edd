//! Conversions between Rust values and the C types whose width differs between Wireshark releases
//! (gboolean before 4.4, C99 bool since), and the constants whose names differ. The type aliases come from
//! `wireshark-headers/<abi>/abi.h`.

use super::sys;

/// The Wireshark release the bindings were generated for ("3.4", "4.0", "4.4" or "4.6").
pub const WIRESHARK_ABI: &str = env!("SMCDUMP_WS_ABI");

/// A heuristic dissector's answer.
#[cfg(any(ws_abi = "3.4", ws_abi = "4.0"))]
pub const fn heur_result(mine: bool) -> sys::ws_heur_bool {
    mine as sys::ws_heur_bool
}
#[cfg(not(any(ws_abi = "3.4", ws_abi = "4.0")))]
pub const fn heur_result(mine: bool) -> sys::ws_heur_bool {
    mine
}

/// A boolean preference's storage for `value`.
#[cfg(any(ws_abi = "3.4", ws_abi = "4.0"))]
pub const fn pref_bool(value: bool) -> sys::ws_pref_bool {
    value as sys::ws_pref_bool
}
#[cfg(not(any(ws_abi = "3.4", ws_abi = "4.0")))]
pub const fn pref_bool(value: bool) -> sys::ws_pref_bool {
    value
}

/// Reads a boolean preference's storage.
#[cfg(any(ws_abi = "3.4", ws_abi = "4.0"))]
pub const fn pref_bool_value(stored: sys::ws_pref_bool) -> bool {
    stored != 0
}
#[cfg(not(any(ws_abi = "3.4", ws_abi = "4.0")))]
pub const fn pref_bool_value(stored: sys::ws_pref_bool) -> bool {
    stored
}

/// The conversation key type of a UDP flow: `ENDPOINT_UDP` of the enum endpoint_type before 4.0,
/// `CONVERSATION_UDP` of conversation_type since.
#[cfg(ws_abi = "3.4")]
pub const CONVERSATION_UDP: sys::ws_conversation_type = sys::ENDPOINT_UDP;
#[cfg(not(ws_abi = "3.4"))]
pub const CONVERSATION_UDP: sys::ws_conversation_type = sys::CONVERSATION_UDP;

/// The conversation key type of a TCP connection (`ENDPOINT_TCP` before 4.0, `CONVERSATION_TCP` since).
#[cfg(ws_abi = "3.4")]
pub const CONVERSATION_TCP: sys::ws_conversation_type = sys::ENDPOINT_TCP;
#[cfg(not(ws_abi = "3.4"))]
pub const CONVERSATION_TCP: sys::ws_conversation_type = sys::CONVERSATION_TCP;
