//! The callbacks Wireshark calls for each packet. Each reads its arguments into plain values, hands them to
//! `crate::capture` (which decides) and `crate::dissect` (which renders), and writes the result back: columns,
//! tree, taps and conversations.

use core::ffi::{c_int, c_uint, c_void};
use core::sync::atomic::{AtomicU32, Ordering};

use super::application::WsApplication;
use super::conversation::{hand_ethernet_flow, hand_flow, hand_packet};
use super::packet::{guarded, Packet};
use super::state::{self, handed, session};
use super::tree::{WsExperts, WsTree};
use super::{abi, clc, prefs, registry, stats, sys};
use crate::capture::streams::Outcome;
use crate::capture::{Application, FrameInput, FrameOutcome, Handover, Seen, Session};
use crate::dissect::{self, Ett};
use crate::wire::envelope::{dump_envelope, find_dump};
use crate::wire::frame::FrameError;
use crate::wire::handshake::smc_syn;
use crate::wire::header::{claims, starts_dump_header};
use crate::wire::DumpFrame;

/// The last frame smcdump dissected as a dump frame: the postdissector has nothing to add to it.
static LAST_DISSECTED: AtomicU32 = AtomicU32::new(0);

/// Dissects the current packet as one dump frame; returns the bytes taken.
fn dissect_frame(p: Packet) -> c_int {
    let (bytes, reported) = p.bytes();
    let settings = prefs::settings();
    let input = FrameInput {
        num: p.num(),
        seen: Seen::Dissected,
        payload: bytes,
        reported,
        flow: p.flow(),
        device: p.device(),
    };
    let mut app = WsApplication::new(p);
    let outcome = match state::session_for_dissection() {
        Some(mut s) => s.frame(&input, &settings, &mut app),
        // Inside an application dissector smcdump called: this frame shares the outer one's number, so it is
        // decoded on its own, without the capture's state or an application of its own.
        None => Session::default().frame(&input, &settings, &mut ColumnsOnly(&mut app)),
    };
    state::remember_layout(&outcome.layout);
    if outcome.only_continues_a_message() {
        // What the application dissector wrote before it asked for more is not this frame's.
        app.set_columns();
        p.append_info(c" [SMC segment of a reassembled PDU]");
    }
    let tags = dissect::info_tags(&outcome);
    if !tags.is_empty() {
        p.prepend_info(super::tree::CText::of(&tags).as_c_str());
    }
    render(p, &outcome, &app);
    stats::tap_frame(p, reported, outcome.stream.as_ref().map(|fs| fs.stream));
    LAST_DISSECTED.store(input.num, Ordering::Relaxed);
    c_int::try_from(bytes.len()).unwrap_or(c_int::MAX)
}

/// Writes the items of `outcome` into the packet's tree: a protocol item with the Info text and everything under
/// it, or, with no tree (tshark's summary without a filter), the expert items alone.
fn render(p: Packet, outcome: &FrameOutcome, app: &WsApplication) {
    let captured = p.bytes().0.len();
    if p.tree.is_null() {
        let mut writer = WsExperts { tvb: p.tvb, pinfo: p.pinfo, captured };
        dissect::render(&mut writer, (), outcome);
        return;
    }
    // SAFETY: Wireshark's tvb and tree for this packet; -1 reaches to the end of the captured bytes, which never
    // throws.
    let root = unsafe {
        let item = sys::proto_tree_add_item(
            p.tree,
            registry::PROTO.load(Ordering::Relaxed),
            p.tvb,
            0,
            -1,
            sys::ENC_NA as c_uint,
        );
        if let Some(s) = &app.summary {
            sys::proto_item_append_text(item, c", %s".as_ptr(), super::tree::CText::of(&s.info).as_c_str().as_ptr());
        }
        sys::proto_item_add_subtree(item, registry::ett(Ett::Root))
    };
    let mut writer = WsTree { tvb: p.tvb, pinfo: p.pinfo, root, captured };
    dissect::render(&mut writer, root, outcome);
}

/// The part of an [`Application`] a frame decoded on its own keeps: its columns.
struct ColumnsOnly<'a>(&'a mut WsApplication);

impl Application for ColumnsOnly<'_> {
    fn parsed(&mut self, frame: &Result<DumpFrame, FrameError>) {
        self.0.parsed(frame);
    }
    fn dissect(&mut self, _: &Handover<'_>) -> Outcome {
        Outcome::Refused
    }
}

/// The dissector Decode As offers on `udp.port`: decodes whatever it is given, flagging what is wrong.
pub unsafe extern "C" fn dissect(
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    _data: *mut c_void,
) -> c_int {
    guarded(tvb, pinfo, tree, 0, dissect_frame)
}

/// The dissector of recognised flows: takes a datagram if it starts with a dump header, and leaves anything else
/// to the rest of UDP (ports, heuristics).
pub unsafe extern "C" fn dissect_flow(
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    _data: *mut c_void,
) -> c_int {
    guarded(
        tvb,
        pinfo,
        tree,
        0,
        |p| if starts_dump_header(p.bytes().0, &state::layout()) { dissect_frame(p) } else { 0 },
    )
}

/// The heuristic on UDP: claims a datagram only if it starts with a consistent SMC dump header, and hands its
/// flow to smcdump.
pub unsafe extern "C" fn heuristic(
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    _data: *mut c_void,
) -> sys::ws_heur_bool {
    let claimed = guarded(tvb, pinfo, tree, false, |p| {
        let (bytes, reported) = p.bytes();
        claims(bytes, reported, &state::layout())
    });
    if claimed {
        // From here on the packet is ours, even if something below fails: columns or the tree may already show it.
        guarded(tvb, pinfo, tree, 0, |p| {
            hand_packet(p);
            dissect_frame(p)
        });
    }
    abi::heur_result(claimed)
}

/// The heuristic on Ethernet: never claims a frame, but when it is a dump frame in the dump device's envelope,
/// hands its UDP flow to smcdump, so that the UDP layer gives it to smcdump before any dissector that owns the
/// application's port.
pub unsafe extern "C" fn eth_heuristic(
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    _data: *mut c_void,
) -> sys::ws_heur_bool {
    guarded(tvb, pinfo, tree, (), |p| {
        let (bytes, reported) = p.bytes();
        let Some(found) = dump_envelope(bytes, reported) else { return };
        // A flow seen handed over already (every frame after a flow's first): nothing to check or do.
        if handed::seen(&found.flow) {
            return;
        }
        let payload = bytes.get(found.payload.clone()).unwrap_or(&[]);
        if claims(payload, found.payload_len, &state::layout()) {
            hand_ethernet_flow(p, found.flow);
        }
    });
    abi::heur_result(false)
}

/// The postdissector: sees every frame, after all its layers, whatever dissector took its UDP payload. It finds
/// the dump frames of any link type (Ethernet, and the cooked captures SLL and SLL2 of `tcpdump -i any`, below
/// which Wireshark offers no heuristic hook), counts those smcdump did not dissect itself in the capture's state,
/// and hands their UDP flow to smcdump: from the next frame on in a single pass, from the first with `-2` and in
/// the GUI. A TCP SYN with SMC's option hands over the UDP flow of the same addresses and ports before any dump
/// frame of the connection arrives; a CLC message feeds the handshakes. It adds nothing to the tree.
pub unsafe extern "C" fn dissect_post(
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    _data: *mut c_void,
) -> c_int {
    guarded(tvb, pinfo, tree, 0, |p| {
        // A dump frame smcdump dissected has nothing left to count or hand over.
        if LAST_DISSECTED.load(Ordering::Relaxed) != p.num() {
            postdissect(p);
        }
        0
    })
}

fn postdissect(p: Packet) {
    let (bytes, reported) = p.bytes();
    let num = p.num();
    if let Some(found) = find_dump(bytes, reported) {
        let input = FrameInput {
            num,
            seen: Seen::Found,
            payload: bytes.get(found.payload.clone()).unwrap_or(&[]),
            reported: found.payload_len,
            flow: Some(found.flow),
            device: found.device,
        };
        let Some(mut s) = state::session_for_dissection() else { return };
        let mut app = WsApplication::found(p, found.payload.start);
        let outcome = s.frame(&input, &prefs::settings(), &mut app);
        drop(s);
        state::remember_layout(&outcome.layout);
        if outcome.frame.is_some() {
            hand_flow(p, found.flow);
        }
    } else if let Some(syn) = smc_syn(bytes) {
        // TCP dissected this SYN before the postdissector runs: on the first pass, the stream it opened is TCP's
        // newest.
        // SAFETY: a plain getter of TCP's stream counter.
        let tcp_stream = unsafe { sys::get_tcp_stream_count() }.checked_sub(1);
        session().syn(num, &syn, tcp_stream);
        hand_flow(p, syn.flow);
        clc::hand_handshake(p, syn.flow);
    } else if let Some((flow, msg)) = clc::message(bytes) {
        session().clc(num, flow, &msg);
        stats::tap_clc(p);
    }
}
