//! The callbacks Wireshark calls for each packet.

use core::ffi::{c_int, c_uint, c_void, CStr};
use core::ptr;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, PoisonError};

use once_cell::sync::Lazy;

use super::handoff::DataFrame;
use super::tree::{WsExperts, WsTree};
use super::{abi, prefs, registry, sys};
use crate::analysis::Direction;
use crate::conn_table::FrameCount;
use crate::dissect::{self, Context, Ett, LearnedLayout, StreamPart, TreeWriter};
use crate::session::Session;
use crate::streams::{Dissect, Endpoint, FrameStream};
use crate::wire::envelope::{dump_envelope, find_dump, Flow};
use crate::wire::handshake::smc_syn;
use crate::wire::header::{claims, starts_dump_header};
use crate::wire::{DumpFrame, Layout};

/// The captured bytes of a tvb, and its length on the wire.
///
/// # Safety
/// `tvb` must be the live tvb Wireshark passed to the current callback; the slice must not outlive it.
pub(super) unsafe fn tvb_bytes<'a>(tvb: *mut sys::tvbuff_t) -> (&'a [u8], usize) {
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

/// The last frame smcdump dissected as a dump frame: the postdissector has nothing to add to it.
static LAST_DISSECTED: AtomicU32 = AtomicU32::new(0);

/// What smcdump remembers of the capture file being read (learned layout, connection analysis); emptied by
/// [`reset_session`].
static SESSION: Lazy<Mutex<Session>> = Lazy::new(Mutex::default);

pub(super) fn session() -> std::sync::MutexGuard<'static, Session> {
    SESSION.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Forgets the capture file's state: registered as init and cleanup routine, so each capture file starts afresh.
pub unsafe extern "C" fn reset_session() {
    let _ = catch_unwind(|| session().clear());
    LAYOUT.store(UNKNOWN, Ordering::Relaxed);
    handed::forget_all();
}

/// The layout frame `num` is parsed with, after observing its UDP payload (`reported` bytes on the wire) for
/// learning; and how it was learned, when it was.
fn layout_for(num: u32, payload: &[u8], reported: usize) -> Context {
    let base = prefs::layout();
    let learn = prefs::learn_layout();
    let mut s = session();
    s.observe(num, payload, reported, &base, learn);
    let learned = s.learned(learn).map(|learned| LearnedLayout { learned, builtin: base, frame: num });
    let layout = s.layout(&base, learn);
    LAYOUT.store(u64::from(layout.pack()), Ordering::Relaxed);
    Context { layout, learned }
}

/// The bytes of an address, if it has any that fit a [`Direction`].
///
/// # Safety
/// `a` must be an address of the current packet's packet_info, whose `data` (when set) holds `len` bytes.
unsafe fn address_bytes(a: &sys::address) -> &[u8] {
    match usize::try_from(a.len) {
        Ok(len @ 1..=16) if !a.data.is_null() => std::slice::from_raw_parts(a.data.cast(), len),
        _ => &[],
    }
}

/// The direction of the current packet: network source and destination, UDP ports.
///
/// # Safety
/// `pinfo` must be the packet_info Wireshark passed to the current callback.
unsafe fn direction(pinfo: *const sys::packet_info) -> Direction {
    let p = &*pinfo;
    let port = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
    Direction::new(address_bytes(&p.src), address_bytes(&p.dst), port(p.srcport), port(p.destport))
}

/// Dissects one dump frame; returns the bytes taken.
///
/// # Safety
/// Arguments as Wireshark passes them to a dissector (tree may be NULL).
unsafe fn dissect_frame(tvb: *mut sys::tvbuff_t, pinfo: *mut sys::packet_info, tree: *mut sys::proto_tree) -> c_int {
    let (bytes, reported) = tvb_bytes(tvb);
    let cinfo = (*pinfo).cinfo;
    sys::col_set_str(cinfo, sys::COL_PROTOCOL as c_int, dissect::render::PROTOCOL_SHORT.as_ptr());
    sys::col_clear(cinfo, sys::COL_INFO as c_int);
    let frame = Frame { tvb, pinfo, tree, bytes, reported };
    if tree.is_null() {
        // No tree (tshark's summary without a filter): the columns, the expert items and the capture's state,
        // without the items no one sees.
        let mut writer = WsExperts { tvb, pinfo, captured: bytes.len() };
        frame.dissect_into(&mut writer, (), ptr::null_mut())
    } else {
        // -1: up to the end of the captured bytes, which never throws.
        let item =
            sys::proto_tree_add_item(tree, registry::PROTO.load(Ordering::Relaxed), tvb, 0, -1, sys::ENC_NA as c_uint);
        let root = sys::proto_item_add_subtree(item, registry::ett(Ett::Root));
        let mut writer = WsTree { tvb, pinfo, root, captured: bytes.len() };
        frame.dissect_into(&mut writer, root, item)
    }
}

/// The dump frame being dissected: Wireshark's arguments and the captured bytes (`reported` on the wire).
struct Frame<'a> {
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    bytes: &'a [u8],
    reported: usize,
}

impl Frame<'_> {
    /// Dissects the frame into `writer` under `root`, sets the columns and keeps the capture's state (analysis,
    /// streams, connection table, tap); `item` is smcdump's protocol item, or NULL. Returns the bytes taken.
    ///
    /// # Safety
    /// The pointers are Wireshark's for the current packet, `bytes` its tvb's captured bytes; `writer` writes
    /// into `tree` (or nowhere when it is NULL).
    unsafe fn dissect_into<W: TreeWriter>(&self, writer: &mut W, root: W::Node, item: *mut sys::proto_item) -> c_int {
        let Frame { tvb, pinfo, tree, bytes, reported } = *self;
        let cinfo = (*pinfo).cinfo;
        let num = (*pinfo).num;
        let ctx = layout_for(num, bytes, reported);
        // What the connection table needs of the frame, read from the parse and the analysis the dissection makes.
        let (mut count, mut ring) = (None, None);
        let summary = if prefs::analyze() {
            let dir = direction(pinfo);
            dissect::dissect_in(writer, root, bytes, reported, &ctx, |frame| {
                count = Some(FrameCount::of(frame));
                let a = session().analyze(num, dir, bytes, frame, prefs::learn_layout());
                ring = a.ring_size;
                Some(a)
            })
        } else {
            dissect::dissect_in(writer, root, bytes, reported, &ctx, |frame| {
                count = Some(FrameCount::of(frame));
                None
            })
        };

        sys::col_set_str(cinfo, sys::COL_PROTOCOL as c_int, summary.protocol.as_ptr());
        // The Info text as a C string in its own buffer (which has room for the NUL): "" if it held a NUL, as
        // CString::new(..).unwrap_or_default() gives, without copying the text into a CString.
        let mut info = summary.info;
        info.push('\0');
        let info = CStr::from_bytes_with_nul(info.as_bytes()).unwrap_or_default();
        sys::col_add_str(cinfo, sys::COL_INFO as c_int, info.as_ptr());
        if !item.is_null() {
            sys::proto_item_append_text(item, c", %s".as_ptr(), info.as_ptr());
        }
        if let (Some(part), Some((src, dst))) = (summary.stream, endpoints(pinfo)) {
            let fs = match part {
                StreamPart::Cdc(closing) => session().streams.cdc(num, src, dst, closing),
                StreamPart::Data(span) => {
                    let data = DataFrame { tvb, pinfo, tree, offset: span.off, ports: ports(src, dst) };
                    let columns = (summary.protocol, info);
                    data.follow(span.len);
                    application_data(&data, num, src, dst, bytes.get(span.range()).unwrap_or(&[]), columns)
                }
            };
            let data = match part {
                StreamPart::Data(span) => Some(span),
                StreamPart::Cdc(_) => None,
            };
            if let Some(count) = count {
                session().count_frame(num, (src, dst), &fs, ring, count);
            }
            dissect::stream_items(writer, root, &fs, data);
        }
        super::stats::tap_frame(pinfo, reported);
        LAST_DISSECTED.store(num, Ordering::Relaxed);
        c_int::try_from(bytes.len()).unwrap_or(c_int::MAX)
    }
}

/// The two endpoints of the current packet (network addresses, UDP ports), when they are IPv4.
///
/// # Safety
/// `pinfo` must be the packet_info Wireshark passed to the current callback.
unsafe fn endpoints(pinfo: *const sys::packet_info) -> Option<(Endpoint, Endpoint)> {
    let p = &*pinfo;
    let v4 = |a: &sys::address| -> Option<[u8; 4]> { address_bytes(a).try_into().ok() };
    let port = |v: u32| u16::try_from(v).ok();
    Some(((v4(&p.src)?, port(p.srcport)?), (v4(&p.dst)?, port(p.destport)?)))
}

/// The ports to try, as TCP does: the server's first when the handshake named it, else the lower one.
fn ports(a: Endpoint, b: Endpoint) -> (u16, u16) {
    match session().server_port(a, b) {
        Some(server) if server == a.1 => (a.1, b.1),
        Some(_) => (b.1, a.1),
        None => (a.1.min(b.1), a.1.max(b.1)),
    }
}

/// The stream facts of data frame `num` from `src` to `dst` holding `bytes`: on its first visit decided, with the
/// application dissectors called (when the hand-off is on); on later visits read back, with the application
/// dissection the first visit decided replayed.
///
/// # Safety
/// `data`'s pointers are the current frame's, and `bytes` its data.
unsafe fn application_data(
    data: &DataFrame,
    num: u32,
    src: Endpoint,
    dst: Endpoint,
    bytes: &[u8],
    columns: (&CStr, &CStr),
) -> FrameStream {
    let handoff = prefs::handoff();
    if let Some(fs) = session().streams.get(num) {
        if let (true, Some(h), Some((offset, _))) = (handoff, &fs.handoff, fs.data) {
            data.replay(h, bytes, offset);
        }
        segment_info(data.pinfo, &fs, columns);
        return fs;
    }
    // The application dissectors run without the session locked (one of them could lead back into smcdump):
    // the streams are taken out for the call and put back.
    let mut streams = std::mem::take(&mut session().streams);
    streams.give_up_after(prefs::handoff_tries());
    let mut call = |buf: &[u8], seq: u64, reassembled: bool| data.dissect(buf, seq, reassembled, true);
    let fs = streams.data(num, src, dst, bytes, handoff.then_some(&mut call as &mut Dissect));
    session().streams = streams;
    segment_info(data.pinfo, &fs, columns);
    fs
}

/// A frame whose data only continues a message completed later shows smcdump's columns (whatever the
/// application dissector wrote before it asked for more) and says so in Info, as TCP does.
///
/// # Safety
/// `pinfo` must be the packet_info Wireshark passed to the current callback.
unsafe fn segment_info(pinfo: *mut sys::packet_info, fs: &FrameStream, (protocol, info): (&CStr, &CStr)) {
    if fs.handoff.as_ref().is_some_and(|h| h.taken && h.own == 0 && h.reassembled.is_none()) {
        let cinfo = (*pinfo).cinfo;
        sys::col_set_str(cinfo, sys::COL_PROTOCOL as c_int, protocol.as_ptr());
        sys::col_add_str(cinfo, sys::COL_INFO as c_int, info.as_ptr());
        sys::col_append_str(cinfo, sys::COL_INFO as c_int, c" [SMC segment of a reassembled PDU]".as_ptr());
    }
}

/// The dissector Decode As offers on `udp.port`: decodes whatever it is given, flagging what is wrong.
pub unsafe extern "C" fn dissect(
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    _data: *mut c_void,
) -> c_int {
    if tvb.is_null() || pinfo.is_null() {
        return 0;
    }
    // SAFETY: Wireshark's arguments for this packet.
    catch_unwind(AssertUnwindSafe(|| unsafe { dissect_frame(tvb, pinfo, tree) })).unwrap_or(0)
}

/// Hands the UDP flow `flow` to smcdump from frame `pinfo->num` on, unless the preference says not to.
///
/// # Safety
/// `pinfo` must be the packet_info Wireshark passed to the current callback.
unsafe fn mark_flow(pinfo: *mut sys::packet_info, flow: Flow) {
    let handle = registry::FLOW_HANDLE.load(Ordering::Relaxed);
    // A flow is handed over once per capture file: the conversation keeps its dissector.
    if handle.is_null() || !prefs::follow_conversations() || !session().first_mark(&flow) {
        return;
    }
    set_conversation_dissector((*pinfo).num, &flow, abi::CONVERSATION_UDP, handle);
}

/// Gives `flow`'s conversation of type `kind` (found, or created from frame `num` on) the dissector `handle`.
///
/// # Safety
/// Called from a dissection callback; `handle` is a registered dissector.
pub(super) unsafe fn set_conversation_dissector(
    num: u32,
    flow: &Flow,
    kind: sys::ws_conversation_type,
    handle: sys::dissector_handle_t,
) {
    // Wireshark copies the address bytes into the conversation key; they only need to live through the calls.
    let src =
        sys::address { type_: sys::AT_IPv4 as c_int, len: 4, data: flow.src.as_ptr().cast(), priv_: ptr::null_mut() };
    let dst =
        sys::address { type_: sys::AT_IPv4 as c_int, len: 4, data: flow.dst.as_ptr().cast(), priv_: ptr::null_mut() };
    let (sport, dport) = (u32::from(flow.sport), u32::from(flow.dport));
    let mut conversation = sys::find_conversation(num, &src, &dst, kind, sport, dport, 0);
    if conversation.is_null() {
        conversation = sys::conversation_new(num, &src, &dst, kind, sport, dport, 0);
    }
    if !conversation.is_null() {
        sys::conversation_set_dissector(conversation, handle);
    }
}

/// The dissector of recognised flows: takes a datagram if it starts with a dump header, and leaves anything else
/// to the rest of UDP (ports, heuristics).
pub unsafe extern "C" fn dissect_flow(
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    _data: *mut c_void,
) -> c_int {
    if tvb.is_null() || pinfo.is_null() {
        return 0;
    }
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: Wireshark's arguments for this packet; nothing is touched unless the header is there.
        unsafe {
            let (bytes, _) = tvb_bytes(tvb);
            if !starts_dump_header(bytes, &current_layout()) {
                return 0;
            }
            dissect_frame(tvb, pinfo, tree)
        }
    }))
    .unwrap_or(0)
}

/// The heuristic on Ethernet: never claims a frame, but when it is a dump frame in the dump device's envelope,
/// hands its UDP flow to smcdump, so that the UDP layer gives it to smcdump before any dissector that owns the
/// application's port.
pub unsafe extern "C" fn eth_heuristic(
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    _tree: *mut sys::proto_tree,
    _data: *mut c_void,
) -> sys::ws_heur_bool {
    if !tvb.is_null() && !pinfo.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: Wireshark's arguments for this frame.
            unsafe {
                let (bytes, reported) = tvb_bytes(tvb);
                let Some(found) = dump_envelope(bytes, reported) else {
                    return;
                };
                // A flow seen handed over already (every frame after a flow's first): nothing to check or do.
                if handed::seen(&found.flow) {
                    return;
                }
                let payload = bytes.get(found.payload.clone()).unwrap_or(&[]);
                if claims(payload, found.payload_len, &current_layout()) {
                    mark_flow(pinfo, found.flow);
                    handed::remember(found.flow);
                }
            }
        }));
    }
    abi::heur_result(false)
}

/// The flows the Ethernet heuristic handed to smcdump (or found handed), so that the later frames of a flow skip
/// the header check and the session's lock: a small direct-mapped cache per thread (a collision only costs the
/// check again), emptied with the session and when a preference changes (a generation number).
mod handed {
    use core::cell::RefCell;
    use core::sync::atomic::{AtomicU32, Ordering};

    use crate::wire::envelope::Flow;

    const SLOTS: usize = 256;

    static GENERATION: AtomicU32 = AtomicU32::new(0);

    thread_local! {
        static CACHE: RefCell<(u32, [Option<Flow>; SLOTS])> = const { RefCell::new((0, [None; SLOTS])) };
    }

    fn slot(f: &Flow) -> usize {
        let ports = u32::from(f.sport) << 16 | u32::from(f.dport);
        let mix = u32::from_ne_bytes(f.src) ^ u32::from_ne_bytes(f.dst).rotate_left(11) ^ ports.rotate_left(22);
        (mix.wrapping_mul(0x9e37_79b1) >> 24) as usize % SLOTS
    }

    /// Whether `flow` was remembered since the cache was last emptied.
    pub fn seen(flow: &Flow) -> bool {
        let generation = GENERATION.load(Ordering::Relaxed);
        CACHE.with(|c| {
            let mut c = c.borrow_mut();
            if c.0 != generation {
                *c = (generation, [None; SLOTS]);
            }
            c.1[slot(flow)] == Some(*flow)
        })
    }

    /// Remembers `flow` as handed over.
    pub fn remember(flow: Flow) {
        CACHE.with(|c| c.borrow_mut().1[slot(&flow)] = Some(flow));
    }

    /// Empties every thread's cache.
    pub fn forget_all() {
        GENERATION.fetch_add(1, Ordering::Relaxed);
    }
}

/// The heuristic on UDP: claims a datagram only if it starts with a consistent SMC dump header.
pub unsafe extern "C" fn heuristic(
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    _data: *mut c_void,
) -> sys::ws_heur_bool {
    if tvb.is_null() || pinfo.is_null() {
        return abi::heur_result(false);
    }
    // SAFETY (both blocks): Wireshark's arguments for this packet; nothing is touched unless the header checks pass.
    let claimed = catch_unwind(|| unsafe {
        let (bytes, reported) = tvb_bytes(tvb);
        claims(bytes, reported, &current_layout())
    });
    if !matches!(claimed, Ok(true)) {
        return abi::heur_result(false);
    }
    // From here on the packet is ours, even if something below fails: columns or the tree may already show it.
    let _ = catch_unwind(AssertUnwindSafe(|| unsafe {
        let handle = registry::FLOW_HANDLE.load(Ordering::Relaxed);
        if prefs::follow_conversations() && !handle.is_null() {
            let conversation = sys::find_or_create_conversation(pinfo);
            if !conversation.is_null() {
                sys::conversation_set_dissector(conversation, handle);
            }
        }
        dissect_frame(tvb, pinfo, tree);
    }));
    abi::heur_result(true)
}

/// The layout frames are parsed with now: the preferences', with what the capture taught put in.
fn current_layout() -> Layout {
    match LAYOUT.load(Ordering::Relaxed) {
        UNKNOWN => {
            let layout = session().layout(&prefs::layout(), prefs::learn_layout());
            LAYOUT.store(u64::from(layout.pack()), Ordering::Relaxed);
            layout
        }
        bits => Layout::unpack(bits as u32),
    }
}

/// The layout [`current_layout`] gives, packed, or [`UNKNOWN`]: every frame's first look at its bytes (the
/// heuristics, the flow's dissector) reads it without taking the session's lock. Set whenever it can change: by
/// each dump frame's dissection (which may teach it), and forgotten with the session and when a preference
/// changes.
static LAYOUT: AtomicU64 = AtomicU64::new(UNKNOWN);
const UNKNOWN: u64 = u64::MAX;

/// Forgets what is cached from the preferences, the layout and the flows handed over: a preference changed
/// (Wireshark's apply callback for smcdump's module).
pub unsafe extern "C" fn forget_layout() {
    LAYOUT.store(UNKNOWN, Ordering::Relaxed);
    handed::forget_all();
}

/// The postdissector: sees every frame, after all its layers, whatever dissector took its UDP payload. It finds
/// the dump frames of any link type (Ethernet, and the cooked captures SLL and SLL2 of `tcpdump -i any`, below
/// which Wireshark offers no heuristic hook), learns the layout from them, analyses those smcdump did not dissect
/// itself, and hands their UDP flow to smcdump: from the next frame on in a single pass, from the first with
/// `-2` and in the GUI. A TCP SYN with SMC's option hands over the UDP flow of the same addresses and ports
/// before any dump frame of the connection arrives. It adds nothing to the tree.
pub unsafe extern "C" fn dissect_post(
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    _tree: *mut sys::proto_tree,
    _data: *mut c_void,
) -> c_int {
    // A dump frame smcdump dissected has nothing left to learn, analyse or hand over.
    if tvb.is_null() || pinfo.is_null() || LAST_DISSECTED.load(Ordering::Relaxed) == (*pinfo).num {
        return 0;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: Wireshark's arguments for this frame; only the captured bytes are read.
        unsafe {
            let (bytes, reported) = tvb_bytes(tvb);
            let num = (*pinfo).num;
            if let Some(found) = find_dump(bytes, reported) {
                let payload = bytes.get(found.payload.clone()).unwrap_or(&[]);
                let base = prefs::layout();
                let learn = prefs::learn_layout();
                let mut s = session();
                s.observe(num, payload, found.payload_len, &base, learn);
                let layout = s.layout(&base, learn);
                LAYOUT.store(u64::from(layout.pack()), Ordering::Relaxed);
                if !claims(payload, found.payload_len, &layout) {
                    return;
                }
                let parsed = DumpFrame::parse(payload, found.payload_len, &layout);
                let f = found.flow;
                // Computed on the first visit, read back on later ones.
                let ring = match (prefs::analyze(), &parsed) {
                    (true, Ok(frame)) => {
                        let dir = Direction::new(&f.src, &f.dst, f.sport, f.dport);
                        s.analyze(num, dir, payload, frame, learn).ring_size
                    }
                    _ => None,
                };
                // A frame another dissector took still counts in its stream (without the application dissection).
                let (src, dst) = ((f.src, f.sport), (f.dst, f.dport));
                let fs = match parsed.as_ref().ok().and_then(dissect::stream_part) {
                    Some(StreamPart::Cdc(closing)) => Some(s.streams.cdc(num, src, dst, closing)),
                    Some(StreamPart::Data(span)) => {
                        Some(s.streams.data(num, src, dst, payload.get(span.range()).unwrap_or(&[]), None))
                    }
                    None => s.streams.get(num),
                };
                if let (Ok(frame), Some(fs)) = (&parsed, fs) {
                    s.count_frame(num, (src, dst), &fs, ring, FrameCount::of(frame));
                }
                drop(s);
                mark_flow(pinfo, found.flow);
            } else if let Some(syn) = smc_syn(bytes) {
                // TCP dissected this SYN before the postdissector runs: on the first pass, the stream it opened is
                // TCP's newest.
                session().syn(num, &syn, sys::get_tcp_stream_count().checked_sub(1));
                mark_flow(pinfo, syn.flow);
                super::clc::mark_handshake(pinfo, syn.flow);
            } else if super::clc::observe_segment(num, bytes) {
                super::stats::tap_clc(pinfo);
            }
        }
    }));
    0
}

/// The stream index of frame `frame`, or -1: for the follower's conversation filter (src/epan/shim.c).
pub extern "C" fn frame_stream(frame: u32) -> i64 {
    catch_unwind(|| session().streams.get(frame).map_or(-1, |fs| i64::from(fs.stream))).unwrap_or(-1)
}

/// How many streams the capture holds: for the follower (src/epan/shim.c).
pub extern "C" fn stream_count() -> u32 {
    catch_unwind(|| session().streams.count()).unwrap_or(0)
}
