//! smcdump's preferences: the inferred layout facts (header length, type codes, SMC-D byte order) and whether they
//! are learned from the capture, whether a recognised UDP flow is handed to smcdump as a whole, and whether
//! connections are analysed.

use core::cell::UnsafeCell;
use core::ffi::{c_int, c_uint, CStr};
use core::ptr;

use super::{abi, sys};
use crate::capture::Settings;
use crate::wire::layout::{DEFAULT_HEADER_LEN, DEFAULT_TYPE_CDC, DEFAULT_TYPE_RAW, MAX_HEADER_LEN, MIN_HEADER_LEN};
use crate::wire::{Layout, SmcdByteOrder};

/// A preference's storage, which Wireshark writes when the user changes it.
#[repr(transparent)]
struct PrefCell<T>(UnsafeCell<T>);

// SAFETY: Wireshark writes preference storage only on its main thread, between dissections (reading a preference
// file, `-o`, the preferences dialog), and dissection runs on that thread too.
unsafe impl<T> Sync for PrefCell<T> {}

impl<T: Copy> PrefCell<T> {
    const fn new(v: T) -> Self {
        PrefCell(UnsafeCell::new(v))
    }
    fn get(&self) -> T {
        // SAFETY: see the `Sync` impl: no write can be under way while the dissector runs.
        unsafe { *self.0.get() }
    }
    fn as_ptr(&self) -> *mut T {
        self.0.get()
    }
}

static HEADER_LEN: PrefCell<c_uint> = PrefCell::new(DEFAULT_HEADER_LEN as c_uint);
static TYPE_RAW: PrefCell<c_uint> = PrefCell::new(DEFAULT_TYPE_RAW as c_uint);
static TYPE_CDC: PrefCell<c_uint> = PrefCell::new(DEFAULT_TYPE_CDC as c_uint);
static SMCD_ORDER: PrefCell<c_int> = PrefCell::new(0);
static FOLLOW_CONVERSATIONS: PrefCell<sys::ws_pref_bool> = PrefCell::new(abi::pref_bool(true));
static ANALYZE: PrefCell<sys::ws_pref_bool> = PrefCell::new(abi::pref_bool(true));
static LEARN_LAYOUT: PrefCell<sys::ws_pref_bool> = PrefCell::new(abi::pref_bool(true));
static HANDOFF: PrefCell<sys::ws_pref_bool> = PrefCell::new(abi::pref_bool(true));
static HANDOFF_TRIES: PrefCell<c_uint> = PrefCell::new(crate::capture::streams::DEFAULT_TRIES as c_uint);

/// The choices of the SMC-D byte order preference; Wireshark keeps the pointer, so the array is static.
struct EnumVals([sys::enum_val_t; 4]);
// SAFETY: the array holds pointers to static, immutable C strings only.
unsafe impl Sync for EnumVals {}

static SMCD_ORDER_VALS: EnumVals = EnumVals([
    enum_val(c"auto", c"Auto (plausible counts; little-endian otherwise)", SmcdByteOrder::Auto),
    enum_val(c"little", c"Little-endian (x86-64, aarch64 hosts)", SmcdByteOrder::Little),
    enum_val(c"big", c"Big-endian (s390x hosts)", SmcdByteOrder::Big),
    sys::enum_val_t { name: ptr::null(), description: ptr::null(), value: 0 },
]);

const fn enum_val(name: &'static CStr, description: &'static CStr, v: SmcdByteOrder) -> sys::enum_val_t {
    sys::enum_val_t { name: name.as_ptr(), description: description.as_ptr(), value: v.pref_value() }
}

/// The layout the preferences currently select.
fn layout() -> Layout {
    Layout::from_prefs(HEADER_LEN.get(), TYPE_RAW.get(), TYPE_CDC.get(), SMCD_ORDER.get())
}

/// The preferences a frame is decided under, as a plain value. The layout is learned when the preference is on
/// and no layout preference forces a value other than its default.
pub fn settings() -> Settings {
    let layout = layout();
    let defaults = (layout.header_len, layout.type_raw, layout.type_cdc)
        == (DEFAULT_HEADER_LEN, DEFAULT_TYPE_RAW, DEFAULT_TYPE_CDC);
    Settings {
        layout,
        learn_layout: abi::pref_bool_value(LEARN_LAYOUT.get()) && defaults,
        analyze: abi::pref_bool_value(ANALYZE.get()),
        handoff: abi::pref_bool_value(HANDOFF.get()),
        handoff_tries: HANDOFF_TRIES.get(),
    }
}

/// Whether a flow the heuristic recognised goes to smcdump as a whole.
pub fn follow_conversations() -> bool {
    abi::pref_bool_value(FOLLOW_CONVERSATIONS.get())
}

/// Registers the preferences under the `smcdump` module; Wireshark calls `changed` when one of them is applied.
///
/// # Safety
/// Must be called once, from the protocol registration callback, with the id `proto_register_protocol` returned.
pub unsafe fn register(proto: c_int, changed: unsafe extern "C" fn()) {
    // SAFETY (whole body): the caller guarantees registration time; every pointer passed is to static storage or
    // a static NUL-terminated string that outlives Wireshark's use of it.
    // A changed preference may change the layout frames are parsed with.
    let module = sys::prefs_register_protocol(proto, Some(changed));
    let header_desc = format!(
        "Length of the SMC dump header, reserved bytes included ({MIN_HEADER_LEN}-{MAX_HEADER_LEN}; inferred \
         from kernel source, 12 is the other candidate). Out-of-range values mean {DEFAULT_HEADER_LEN}.\0"
    );
    // Wireshark keeps the description pointer: this one string is leaked once at registration.
    let header_desc: &'static str = Box::leak(header_desc.into_boxed_str());
    sys::prefs_register_uint_preference(
        module,
        c"header_len".as_ptr(),
        c"Dump header length".as_ptr(),
        header_desc.as_ptr().cast(),
        10,
        HEADER_LEN.as_ptr(),
    );
    sys::prefs_register_uint_preference(
        module,
        c"type_raw".as_ptr(),
        c"Type code of raw data".as_ptr(),
        c"Value of the header's type byte for a block of ring-buffer data (inferred)".as_ptr(),
        10,
        TYPE_RAW.as_ptr(),
    );
    sys::prefs_register_uint_preference(
        module,
        c"type_cdc".as_ptr(),
        c"Type code of CDC messages".as_ptr(),
        c"Value of the header's type byte for a CDC message (inferred)".as_ptr(),
        10,
        TYPE_CDC.as_ptr(),
    );
    sys::prefs_register_enum_preference(
        module,
        c"smcd_byte_order".as_ptr(),
        c"SMC-D cursor byte order".as_ptr(),
        c"Byte order of SMC-D cursors, which the kernel dumps in host order".as_ptr(),
        SMCD_ORDER.as_ptr(),
        SMCD_ORDER_VALS.0.as_ptr(),
        abi::pref_bool(false),
    );
    sys::prefs_register_bool_preference(
        module,
        c"follow_conversations".as_ptr(),
        c"Decode whole recognised UDP flows".as_ptr(),
        c"Once a dump frame is recognised, hand later datagrams of the same UDP flow to smcdump directly".as_ptr(),
        FOLLOW_CONVERSATIONS.as_ptr(),
    );
    sys::prefs_register_bool_preference(
        module,
        c"learn_layout".as_ptr(),
        c"Learn the header layout from the capture".as_ptr(),
        c"Take the header length and the type codes from the first CDC frame that identifies itself (SMC-R: 48 \
          bytes starting FE 2C; SMC-D sent: 32 bytes starting FE). Header length and type code preferences set to \
          other values than their defaults force the layout instead"
            .as_ptr(),
        LEARN_LAYOUT.as_ptr(),
    );
    sys::prefs_register_bool_preference(
        module,
        c"handoff".as_ptr(),
        c"Dissect the application's data".as_ptr(),
        c"Hand each direction's data, in stream order and reassembled, to the dissector TCP would choose for the \
          connection (smcdump.port Decode As, then TCP's port table and heuristics); off: raw data only"
            .as_ptr(),
        HANDOFF.as_ptr(),
    );
    sys::prefs_register_uint_preference(
        module,
        c"handoff_tries".as_ptr(),
        c"Data frames tried before giving up".as_ptr(),
        c"A direction whose data no dissector took for this many frames in a row is no longer handed to them (its \
          frames show as data): TCP's heuristic dissectors tried on every frame of an unknown protocol cost more \
          than all of smcdump. 0: try every frame, as TCP does"
            .as_ptr(),
        10,
        HANDOFF_TRIES.as_ptr(),
    );
    sys::prefs_register_bool_preference(
        module,
        c"analyze".as_ptr(),
        c"Analyse SMC connections".as_ptr(),
        c"Relate each frame to the earlier ones of its direction: previous CDC, data bytes and cursor advance, \
          unexpected sequence numbers, cursors going backwards"
            .as_ptr(),
        ANALYZE.as_ptr(),
    );
}
