//! The [`Application`] of a dump frame dissected in Wireshark: its columns, its data on the follow tap, and the
//! application's bytes handed to the dissector TCP would choose for them, through the C shim (`src/epan/catch.c`),
//! which catches what they throw; and the `smcdump.port` Decode As table.
//!
//! What each frame dissects is `crate::capture`'s decision (on the first visit, with the dissectors allowed to
//! ask for more; replayed on later visits); this only carries it out.

use core::ffi::{c_char, c_int, c_uint, c_void, CStr};
use core::ptr;
use core::sync::atomic::{AtomicI32, AtomicPtr, Ordering};
use std::panic::catch_unwind;

use super::packet::Packet;
use super::tree::CText;
use super::{follow, sys};
use crate::capture::streams::{Need, Outcome};
use crate::capture::{Application, Handover};
use crate::dissect::{self, Summary};
use crate::wire::frame::FrameError;
use crate::wire::{DumpFrame, Span};

/// The follow tap, "smcdump_follow" (-1 before registration).
pub static FOLLOW_TAP: AtomicI32 = AtomicI32::new(-1);

/// `smcdump.port`: the Decode As table of the application dissector, by port.
pub static DECODE_AS: AtomicPtr<sys::dissector_table> = AtomicPtr::new(ptr::null_mut());
static TCP_PORT: AtomicPtr<sys::dissector_table> = AtomicPtr::new(ptr::null_mut());
static TCP_HEURISTICS: AtomicPtr<sys::heur_dissector_list> = AtomicPtr::new(ptr::null_mut());
static TCP_PROTO: AtomicI32 = AtomicI32::new(-1);

const DECODE_AS_NAME: &CStr = c"smcdump.port";

/// Registers the Decode As table (with its entry in the Decode As dialog), the follower (Follow SMC Stream) and the
/// conversation filter.
///
/// # Safety
/// At protocol registration, with the id `proto_register_protocol` returned.
pub unsafe fn register(proto: c_int) {
    let table = sys::register_dissector_table(
        DECODE_AS_NAME.as_ptr(),
        c"SMC application port".as_ptr(),
        proto,
        sys::FT_UINT16,
        sys::BASE_DEC as c_int,
    );
    if !table.is_null() {
        // tshark -d takes it; the dissectors it offers are TCP's (hand_off).
        sys::dissector_table_allow_decode_as(table);
    }
    DECODE_AS.store(table, Ordering::Relaxed);
    let tap = sys::smcdump_register_follow(proto, Some(follow::frame_stream), Some(follow::stream_count));
    FOLLOW_TAP.store(tap, Ordering::Relaxed);
    // The table exists now: Decode As can list it; and the conversation filter.
    sys::smcdump_register_gui(Some(follow::frame_stream));
}

/// Offers every dissector of TCP's port table in ours, and finds TCP's tables.
///
/// # Safety
/// At hand-off, after every protocol registered.
pub unsafe fn hand_off() {
    TCP_PORT.store(sys::find_dissector_table(c"tcp.port".as_ptr()), Ordering::Relaxed);
    TCP_HEURISTICS.store(sys::find_heur_dissector_list(c"tcp".as_ptr()), Ordering::Relaxed);
    TCP_PROTO.store(sys::proto_get_id_by_filter_name(c"tcp".as_ptr()), Ordering::Relaxed);
    if !DECODE_AS.load(Ordering::Relaxed).is_null() {
        sys::dissector_table_foreach_handle(c"tcp.port".as_ptr(), Some(offer), ptr::null_mut());
    }
}

/// Makes one of TCP's dissectors a choice of `smcdump.port` (`tshark -d smcdump.port==8080,http`).
unsafe extern "C" fn offer(_table: *const c_char, handle: *mut c_void, _data: *mut c_void) {
    if handle.is_null() {
        return;
    }
    let _ = catch_unwind(|| {
        // SAFETY: a handle of TCP's table, handed to us by Wireshark at hand-off time.
        unsafe { sys::dissector_add_for_decode_as(DECODE_AS_NAME.as_ptr(), handle.cast()) }
    });
}

/// Bytes the application dissection keeps until the frame's tvbs are freed: a length, then the data.
const LEN_PREFIX: usize = core::mem::size_of::<usize>();

/// Frees a buffer of [`reassembled_tvb`]: called by Wireshark when it frees the frame's tvbs.
unsafe extern "C" fn free_buffer(data: *mut c_void) {
    if data.is_null() {
        return;
    }
    let _ = catch_unwind(|| {
        // SAFETY: `data` is what reassembled_tvb handed to the tvb: LEN_PREFIX bytes into a boxed slice whose
        // first bytes hold the data's length; it is freed once, by its tvb.
        unsafe {
            let start = data.cast::<u8>().sub(LEN_PREFIX);
            let mut len = [0u8; LEN_PREFIX];
            ptr::copy_nonoverlapping(start, len.as_mut_ptr(), LEN_PREFIX);
            let total = LEN_PREFIX + usize::from_ne_bytes(len);
            drop(Box::from_raw(ptr::slice_from_raw_parts_mut(start, total)));
        }
    });
}

/// A tvb over a copy of `bytes`, shown as "Reassembled SMC data", freed with the frame's tvbs.
///
/// # Safety
/// `tvb` and `pinfo` are the current frame's.
unsafe fn reassembled_tvb(tvb: *mut sys::tvbuff_t, pinfo: *mut sys::packet_info, bytes: &[u8]) -> *mut sys::tvbuff_t {
    let Ok(len) = c_uint::try_from(bytes.len()) else { return ptr::null_mut() };
    if c_int::try_from(len).is_err() {
        return ptr::null_mut();
    }
    let mut buf = vec![0u8; LEN_PREFIX + bytes.len()].into_boxed_slice();
    buf[..LEN_PREFIX].copy_from_slice(&bytes.len().to_ne_bytes());
    buf[LEN_PREFIX..].copy_from_slice(bytes);
    let data = Box::into_raw(buf).cast::<u8>().add(LEN_PREFIX);
    let name = c"Reassembled SMC data";
    let child = sys::smcdump_reassembled_tvb(tvb, pinfo, data, len, Some(free_buffer), name.as_ptr());
    if child.is_null() {
        free_buffer(data.cast());
    }
    child
}

/// The application of the dump frame being dissected: Wireshark's packet and the columns smcdump gave it.
pub struct WsApplication {
    packet: Packet,
    /// Where the UDP payload starts in the packet's tvb: 0 when smcdump dissects the datagram, the envelope's
    /// length for a dump frame the postdissector found in a whole frame.
    base: usize,
    /// smcdump's columns, once the frame is parsed (none for a frame another dissector took).
    pub summary: Option<Summary>,
    columns: bool,
}

impl WsApplication {
    /// The application of a dump frame smcdump dissects (the packet's tvb is the UDP payload).
    pub fn new(packet: Packet) -> Self {
        WsApplication { packet, base: 0, summary: None, columns: true }
    }

    /// The application of a dump frame another dissector took, whose UDP payload starts at `base` in the
    /// packet's tvb: its data goes to the application and Follow, its columns stay the other dissector's.
    pub fn found(packet: Packet, base: usize) -> Self {
        WsApplication { packet, base, summary: None, columns: false }
    }

    /// Sets smcdump's columns from the summary (again: a frame whose data only continues a message shows them).
    pub fn set_columns(&self) {
        if let Some(s) = &self.summary {
            self.packet.set_columns(s.protocol, CText::of(&s.info).as_c_str());
        }
    }
}

impl Application for WsApplication {
    fn parsed(&mut self, frame: &Result<DumpFrame, FrameError>) {
        if self.columns {
            self.summary = Some(dissect::summary(frame));
            self.set_columns();
        }
    }

    fn follow(&mut self, data: Span) {
        if let (Ok(offset), Ok(len)) = (c_int::try_from(self.base + data.off), c_int::try_from(data.len)) {
            let Packet { tvb, pinfo, .. } = self.packet;
            // SAFETY: the current frame's tvb and packet_info; the data lies within the tvb's captured bytes
            // (capture::stream_part gives only wholly captured data).
            unsafe { sys::smcdump_follow_data(FOLLOW_TAP.load(Ordering::Relaxed), tvb, pinfo, offset, len) }
        }
    }

    fn missing(&mut self, _at: u64, len: u64) {
        let Packet { tvb, pinfo, .. } = self.packet;
        // SAFETY: the current frame's tvb and packet_info.
        unsafe { sys::smcdump_follow_missing(FOLLOW_TAP.load(Ordering::Relaxed), tvb, pinfo, len) }
    }

    fn follow_bytes(&mut self, bytes: &[u8]) {
        let Ok(len) = u32::try_from(bytes.len()) else { return };
        let Packet { tvb, pinfo, .. } = self.packet;
        // SAFETY: the current frame's tvb and packet_info; `bytes` is valid for `len` bytes during the call, and
        // the shim copies it.
        unsafe { sys::smcdump_follow_bytes(FOLLOW_TAP.load(Ordering::Relaxed), tvb, pinfo, bytes.as_ptr(), len) }
    }

    fn dissect(&mut self, h: &Handover<'_>) -> Outcome {
        let Ok(len) = c_int::try_from(h.bytes.len()) else { return Outcome::Refused };
        let Packet { tvb, pinfo, tree } = self.packet;
        // SAFETY: the current frame's tvb and packet_info; own bytes lie within the tvb's captured bytes at
        // `own_at` (the capture floor hands only wholly captured data).
        let app = unsafe {
            match h.own_at {
                Some(at) => match c_int::try_from(self.base + at) {
                    Ok(at) => sys::smcdump_subset_tvb(tvb, at, len),
                    Err(_) => ptr::null_mut(),
                },
                None => reassembled_tvb(tvb, pinfo, h.bytes),
            }
        };
        if app.is_null() || h.bytes.is_empty() {
            return Outcome::Refused;
        }
        // TCP's sequence numbers are 32 bits; the stream offset is their relative counterpart.
        let seq = h.stream_offset as u32;
        let mut call = sys::smcdump_handoff {
            tvb: app,
            pinfo,
            tree,
            decode_as: DECODE_AS.load(Ordering::Relaxed),
            tcp_port: TCP_PORT.load(Ordering::Relaxed),
            tcp_heuristics: TCP_HEURISTICS.load(Ordering::Relaxed),
            server_port: h.ports.0.into(),
            client_port: h.ports.1.into(),
            tcp_proto: TCP_PROTO.load(Ordering::Relaxed),
            may_desegment: c_int::from(h.may_ask_more),
            seq,
            nxtseq: seq.wrapping_add(len as u32),
            is_reassembled: c_int::from(h.own_at.is_none()),
            taken: 0,
            desegment_offset: 0,
            desegment_len: 0,
            exception: 0,
            message: [0; 256],
        };
        // SAFETY: every pointer is the current frame's or a table found at hand-off; the shim catches what the
        // dissectors throw.
        unsafe { sys::smcdump_handoff(&mut call) };
        match (call.taken != 0, call.desegment_len) {
            // A dissector that threw took the data, as TCP counts it.
            _ if call.exception != 0 => Outcome::Consumed,
            (false, _) => Outcome::Refused,
            (true, 0) => Outcome::Consumed,
            (true, n) => {
                let need = match n {
                    sys::DESEGMENT_UNTIL_FIN => Need::UntilEnd,
                    n if n >= sys::DESEGMENT_UNTIL_FIN => Need::NextData,
                    n => Need::Bytes(n as usize),
                };
                Outcome::NeedMore { offset: usize::try_from(call.desegment_offset).unwrap_or(0), need }
            }
        }
    }
}
