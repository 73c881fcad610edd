//! The symbols Wireshark's plugin loader looks up, and the registration they lead to.
//!
//! The loader of every supported release (3.4 to 4.6) requires `plugin_version` (a NUL-terminated char array),
//! `plugin_want_major` and `plugin_want_minor` (ints that must equal the running Wireshark's major.minor) and
//! `plugin_register`; since 4.4 it also reads `plugin_describe` for the plugin's type (3.4 and 4.0 take the type
//! from the plugin folder, `epan/`, and ignore the symbol).

use core::ffi::{c_char, c_int, CStr};
use core::ptr;
use core::sync::atomic::{AtomicI32, Ordering};
use std::panic::catch_unwind;

use super::registry::{self, EI, ETT, FLOW_HANDLE, HANDLE, HF, PROTO, REGISTERED};
use super::{application, dissector, prefs, state, sys};
use crate::dissect::fields::{FieldKind, Group, Severity, EXPERTS, FIELDS};

const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

const fn c_array<const N: usize>(s: &str) -> [c_char; N] {
    let bytes = s.as_bytes();
    let mut out = [0 as c_char; N];
    let mut i = 0;
    while i < N && i < bytes.len() {
        out[i] = bytes[i] as c_char;
        i += 1;
    }
    out
}

/// The plugin's version, shown by `tshark -G plugins`.
#[no_mangle]
#[used]
pub static plugin_version: [c_char; VERSION.len()] = c_array(VERSION);

/// The Wireshark major version this build's ABI belongs to.
#[no_mangle]
#[used]
pub static plugin_want_major: c_int = sys::SMCDUMP_WS_MAJOR as c_int;

/// The Wireshark minor version this build's ABI belongs to.
#[no_mangle]
#[used]
pub static plugin_want_minor: c_int = sys::SMCDUMP_WS_MINOR as c_int;

/// `WS_PLUGIN_DESC_DISSECTOR`.
const PLUGIN_DESC_DISSECTOR: u32 = 1 << 0;

/// The plugin's type for `tshark -G plugins` (read by 4.4 and later).
#[no_mangle]
pub extern "C" fn plugin_describe() -> u32 {
    PLUGIN_DESC_DISSECTOR
}

static PLUGIN: sys::proto_plugin =
    sys::proto_plugin { register_protoinfo: Some(register_protoinfo), register_handoff: Some(register_handoff) };

/// Called by the loader: hands Wireshark our two registration callbacks.
#[no_mangle]
pub extern "C" fn plugin_register() {
    // SAFETY: PLUGIN is static, as proto_register_plugin requires (it keeps the pointer).
    unsafe { sys::proto_register_plugin(&PLUGIN) }
}

/// Leaks a vector: Wireshark keeps pointers into registration arrays for the life of the process.
fn leak<T>(v: Vec<T>) -> &'static mut [T] {
    Box::leak(v.into_boxed_slice())
}

/// A `value_string` array for `names`, terminated as Wireshark expects.
fn value_strings(names: &'static [(u32, &'static CStr)]) -> *const core::ffi::c_void {
    if names.is_empty() {
        return ptr::null();
    }
    let mut vs: Vec<sys::value_string> =
        names.iter().map(|&(value, name)| sys::value_string { value, strptr: name.as_ptr() }).collect();
    vs.push(sys::value_string { value: 0, strptr: ptr::null() });
    leak(vs).as_ptr().cast()
}

/// A field's registration record, with what HFILL fills in.
fn header_field(name: &CStr, abbrev: &CStr, kind: FieldKind, blurb: &CStr) -> sys::header_field_info {
    let (type_, display, strings, bitmask) = match kind {
        FieldKind::Label => (sys::FT_NONE, sys::BASE_NONE, ptr::null(), 0),
        FieldKind::Bytes => (sys::FT_BYTES, sys::BASE_NONE, ptr::null(), 0),
        FieldKind::FrameNum => (sys::FT_FRAMENUM, sys::BASE_NONE, ptr::null(), 0),
        FieldKind::Flag { mask } => (sys::FT_BOOLEAN, 8, ptr::null(), u64::from(mask)),
        FieldKind::Uint { bytes, hex, names } => {
            let ft = match bytes {
                1 => sys::FT_UINT8,
                2 => sys::FT_UINT16,
                8 => sys::FT_UINT64,
                _ => sys::FT_UINT32,
            };
            (ft, if hex { sys::BASE_HEX } else { sys::BASE_DEC }, value_strings(names), 0)
        }
    };
    sys::header_field_info {
        name: name.as_ptr(),
        abbrev: abbrev.as_ptr(),
        type_,
        display: display as c_int,
        strings,
        bitmask,
        blurb: blurb.as_ptr(),
        id: -1,
        parent: 0,
        ref_type: sys::HF_REF_TYPE_NONE,
        same_name_prev_id: -1,
        same_name_next: ptr::null_mut(),
    }
}

fn expert_group(g: Group) -> c_int {
    (match g {
        Group::Malformed => sys::PI_MALFORMED,
        Group::Protocol => sys::PI_PROTOCOL,
        Group::Undecoded => sys::PI_UNDECODED,
        Group::Sequence => sys::PI_SEQUENCE,
    }) as c_int
}

fn expert_severity(s: Severity) -> c_int {
    (match s {
        Severity::Chat => sys::PI_CHAT,
        Severity::Note => sys::PI_NOTE,
        Severity::Warn => sys::PI_WARN,
        Severity::Error => sys::PI_ERROR,
    }) as c_int
}

/// Registers the protocol, its fields, subtrees, expert items, preferences and dissector.
unsafe extern "C" fn register_protoinfo() {
    let _ = catch_unwind(|| {
        // SAFETY: called once by Wireshark at registration time, on its main thread; every pointer handed over
        // is to static or leaked (never freed) memory, as these registration functions require.
        unsafe {
            let proto = sys::proto_register_protocol(c"SMC Dump".as_ptr(), c"SMCDUMP".as_ptr(), c"smcdump".as_ptr());
            PROTO.store(proto, Ordering::Relaxed);

            let hf = leak(
                FIELDS
                    .iter()
                    .zip(HF.iter())
                    .map(|(f, id)| sys::hf_register_info {
                        p_id: id.as_ptr(),
                        hfinfo: header_field(f.name, f.abbrev, f.kind, f.blurb),
                    })
                    .collect(),
            );
            sys::proto_register_field_array(proto, hf.as_mut_ptr(), hf.len() as c_int);

            let ett = leak(ETT.iter().map(AtomicI32::as_ptr).collect());
            sys::proto_register_subtree_array(ett.as_ptr(), ett.len() as c_int);

            let ei = leak(
                EXPERTS
                    .iter()
                    .zip(EI.iter())
                    .map(|(e, cell)| sys::ei_register_info {
                        ids: cell.as_ptr(),
                        eiinfo: sys::expert_field_info {
                            name: e.name.as_ptr(),
                            group: expert_group(e.group),
                            severity: expert_severity(e.severity),
                            summary: e.summary.as_ptr(),
                            id: 0,
                            protocol: ptr::null(),
                            orig_severity: 0,
                            hf_info: sys::hf_register_info {
                                p_id: ptr::null_mut(),
                                hfinfo: header_field(c"", c"", FieldKind::Label, c""),
                            },
                        },
                    })
                    .collect(),
            );
            let module = sys::expert_register_protocol(proto);
            sys::expert_register_field_array(module, ei.as_mut_ptr(), ei.len() as c_int);

            prefs::register(proto, state::preferences_changed);
            application::register(proto);
            super::stats::register(proto);
            sys::register_init_routine(Some(state::reset));
            sys::register_cleanup_routine(Some(state::reset));

            let handle = sys::register_dissector(c"smcdump".as_ptr(), Some(dissector::dissect), proto);
            HANDLE.store(handle, Ordering::Relaxed);
            let flow = sys::register_dissector(c"smcdump_flow".as_ptr(), Some(dissector::dissect_flow), proto);
            FLOW_HANDLE.store(flow, Ordering::Relaxed);
            let clc = sys::register_dissector(c"smcdump_clc".as_ptr(), Some(super::clc::dissect_clc), proto);
            registry::CLC_HANDLE.store(clc, Ordering::Relaxed);
            REGISTERED.store(!handle.is_null() && !flow.is_null(), Ordering::Relaxed);
        }
    });
}

/// Hooks the dissector in: the heuristics on UDP and on Ethernet, Decode As on `udp.port`, and the postdissector.
/// Nothing, if registration did not complete.
unsafe extern "C" fn register_handoff() {
    if !REGISTERED.load(Ordering::Relaxed) {
        return;
    }
    let _ = catch_unwind(|| {
        // SAFETY: called once by Wireshark after every protocol registered; the strings are static.
        unsafe {
            let proto = PROTO.load(Ordering::Relaxed);
            sys::heur_dissector_add(
                c"udp".as_ptr(),
                Some(dissector::heuristic),
                c"SMC dump over UDP".as_ptr(),
                c"smcdump_udp".as_ptr(),
                proto,
                sys::HEURISTIC_ENABLE,
            );
            // Ethernet offers every frame to its heuristics before the EtherType: this one only marks the UDP
            // flow of dump frames, so that ports owned by other UDP dissectors (53, 11211, …) still decode.
            sys::heur_dissector_add(
                c"eth".as_ptr(),
                Some(dissector::eth_heuristic),
                c"SMC dump device frames (hands their UDP flow to smcdump)".as_ptr(),
                c"smcdump_eth".as_ptr(),
                proto,
                sys::HEURISTIC_ENABLE,
            );
            let handle = registry::HANDLE.load(Ordering::Relaxed);
            sys::dissector_add_for_decode_as_with_preference(c"udp.port".as_ptr(), handle);
            application::hand_off();
            // Below UDP, only Ethernet has heuristics that run first; for any link type, cooked captures among
            // them, the postdissector finds dump frames and hands their flows over.
            // CLC messages on any port: Wireshark's smc dissector, called for the TCP connections of SMC
            // handshakes (the postdissector marks them), is found now that every protocol registered.
            super::clc::find_smc_dissector();
            let post = sys::create_dissector_handle(Some(dissector::dissect_post), proto);
            if !post.is_null() {
                sys::register_postdissector(post);
            }
        }
    });
}
