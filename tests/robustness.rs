//! "It cannot crash", measured: a million random and mutated UDP payloads go through the heuristic (`claims`),
//! the parser (`DumpFrame::parse`) and the whole rendering (`dissect` into a recording tree), under random
//! layouts, and 100,000 mutated Ethernet frames through the envelope test (`envelope::dump_flow`). Every one must
//! keep these invariants:
//!
//! - nothing panics (a panic fails the test with the case that caused it);
//! - every item the recording tree keeps lies within the captured bytes;
//! - every span the renderer hands to the tree writer is within the captured bytes (a field the capture does not
//!   hold gets no item at all): the renderer clips items itself, so the writer never silently drops a field the
//!   capture holds;
//! - every integer item shows exactly the bytes it covers (read big- or little-endian), every flag item the byte it
//!   covers;
//! - a payload `claims` accepts parses, with the magic, the payload span and the trailer its length field gives;
//!   parsing fails exactly when fewer bytes than a header were captured;
//! - the Info column ends with ` [truncated]` exactly when the capture holds less than the datagram.
//!
//! Inputs: random bytes, magic-prefixed garbage with lying length fields, frames built with `smcdump::wire::emit`
//! (checked for an exact round trip before they are mutated), and the UDP payloads of every capture in
//! test-pcaps/; mutations are bit flips, byte writes, truncations, length-field lies, inserted and deleted bytes,
//! splices and reported lengths that differ from the captured ones. A seeded xorshift makes every run identical;
//! `SMCDUMP_ROBUSTNESS_CASES` changes the number of payload cases (default 1,000,000, split over the tests below;
//! the envelope test runs a tenth of it on top).

mod support;

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use smcdump::dissect::{dissect, Ei, Hf, RecordingTree, Value};
use smcdump::wire::cdc::{SmcdCdcRepr, SmcrCdcRepr, CDC_MSG_TYPE, SMCR_CDC_LEN};
use smcdump::wire::emit::{self, dump_frame_as_given};
use smcdump::wire::envelope::{self, dump_flow, ETH_PAYLOAD, ETH_UDP};
use smcdump::wire::header::claims;
use smcdump::wire::layout::HeaderRepr;
use smcdump::wire::net::{udp_field, UDP_LEN};
use smcdump::wire::{ByteOrder, Cdc, DumpFrame, Layout, Payload, Span, WireRepr, MAGIC};
use support::rng::Rng;

/// Cases over all tests, unless `SMCDUMP_ROBUSTNESS_CASES` says otherwise.
const DEFAULT_CASES: usize = 1_000_000;

fn cases(share_percent: usize) -> usize {
    let total = std::env::var("SMCDUMP_ROBUSTNESS_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_CASES);
    total * share_percent / 100
}

/// A layout from random preference values, the way a user could set them (out-of-range ones included).
fn random_layout(r: &mut Rng) -> Layout {
    if r.chance(3) {
        return Layout::default();
    }
    let header_len = match r.below(4) {
        0 => r.pick(&[0, 9, 10, 11, 12, 16, 63, 64, 65, u32::MAX]),
        1 => r.next() as u32,
        _ => 10 + r.below(55) as u32,
    };
    let code = |r: &mut Rng| match r.below(4) {
        0 => r.next() as u32,
        1 => r.pick(&[0, 1, 2, 255, 256]),
        _ => r.below(4) as u32,
    };
    let (type_raw, type_cdc) = (code(r), code(r));
    let order = r.pick(&[-1, 0, 1, 2, 3, i32::MIN, i32::MAX]);
    Layout::from_prefs(header_len, type_raw, type_cdc, order)
}

// ---------------------------------------------------------------------------------------------------------------
// Inputs

/// A random SMC-R CDC: cursors, flags and credits drawn; the type, length and reserved bytes are a Linux
/// sender's three times in four.
fn random_smcr(r: &mut Rng) -> SmcrCdcRepr {
    let mut c = SmcrCdcRepr::sample(&mut || r.next());
    if !r.chance(4) {
        (c.ty, c.len, c.prod_reserved, c.cons_reserved) = (CDC_MSG_TYPE, SMCR_CDC_LEN, 0, 0);
        (c.reserved, c.padding) = Default::default();
    }
    c
}

/// A random SMC-D CDC: counts plausible buffer offsets (so that the automatic byte order finds the order they
/// were written in), flags drawn; the type and reserved bytes are a Linux sender's two times in three.
fn random_smcd(r: &mut Rng) -> SmcdCdcRepr {
    let mut c = SmcdCdcRepr::sample(&mut || r.next());
    (c.prod_count, c.cons_count) = (r.below(1 << 21) as u32, r.below(1 << 21) as u32);
    if !r.chance(3) {
        (c.ty, c.head, c.curs_flags, c.curs_conn_state, c.tail) = (CDC_MSG_TYPE, [0; 7], 0, 0, [0; 8]);
    }
    c
}

/// A frame built with the encoder under `layout`; unmutated, it must parse back to what was encoded.
fn emitted(r: &mut Rng, layout: &Layout) -> Vec<u8> {
    let mode = match r.below(8) {
        0 => r.u8(),
        n => 1 + (n % 2) as u8,
    };
    let mut h = HeaderRepr::new(1 + r.below(2) as u8, mode, layout.type_cdc);
    h.hdr_ver = r.u8();
    let reserved: Vec<u8> = if r.chance(4) { r.bytes(layout.reserved_len()) } else { Vec::new() };
    // The payload, and the mode whose CDC record it is (if any).
    let (payload, record_mode) = match r.below(6) {
        0 => {
            h.type_code = layout.type_raw;
            let n = r.pick(&[0, 1, 44, 1448, 8192]).min(r.below(9000));
            (r.bytes(n), None)
        }
        1 => {
            h.type_code = r.u8();
            let n = r.below(100);
            (r.bytes(n), None)
        }
        2 | 3 => (random_smcr(r).emit(ByteOrder::Big), Some(1)),
        _ => {
            let order = if r.chance(2) { ByteOrder::Little } else { ByteOrder::Big };
            (random_smcd(r).emit(order), Some(2))
        }
    };
    let len = u16::try_from(layout.header_len + payload.len()).unwrap_or(u16::MAX);
    let frame = dump_frame_as_given(layout, &HeaderRepr { len, ..h }, &reserved, &payload);
    if record_mode == Some(h.mode) && h.type_code == layout.type_cdc && layout.type_raw != layout.type_cdc {
        check_round_trip(&frame, layout, &payload);
    }
    frame
}

/// Every frame of every capture in test-pcaps/.
fn capture_frames() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for name in support::CAPTURES {
        out.extend(support::capture::read_frames(&support::pcap(name)).into_iter().map(|(data, _)| data));
    }
    out
}

/// The UDP payloads of every IPv4/UDP frame in test-pcaps/.
fn capture_payloads() -> Vec<Vec<u8>> {
    let out: Vec<Vec<u8>> = capture_frames().iter().filter_map(|f| udp_payload(f)).map(<[u8]>::to_vec).collect();
    assert!(out.len() > 50, "test-pcaps/ holds only {} UDP payloads", out.len());
    out
}

/// The UDP payload of an Ethernet/IPv4/UDP frame, as far as captured.
fn udp_payload(frame: &[u8]) -> Option<&[u8]> {
    use smcdump::wire::envelope::ETH_IP;
    use smcdump::wire::net::{eth_field, ip_field};
    let ip = |r: std::ops::Range<usize>| frame.get(ETH_IP + r.start..ETH_IP + r.end);
    if frame.get(eth_field::ETHERTYPE)? != [0x08, 0x00] || ip(ip_field::PROTOCOL)? != [17] {
        return None;
    }
    let ihl = usize::from(ip(ip_field::VERSION_IHL)?[0] & 0x0F) * 4;
    frame.get(ETH_IP + ihl + UDP_LEN..)
}

/// Garbage after the magic, with a length field that may lie.
fn magic_garbage(r: &mut Rng) -> Vec<u8> {
    let n = r.below(120);
    let mut b = MAGIC.to_be_bytes().to_vec();
    b.extend(r.bytes(n));
    if b.len() >= 10 && r.chance(2) {
        lie_about_length(r, &mut b);
    }
    b
}

/// Writes a plausible-looking but often wrong value into the length field (bytes 8..10).
fn lie_about_length(r: &mut Rng, b: &mut [u8]) {
    let true_len = b.len() as i64;
    let len = match r.below(8) {
        0 => 0,
        1 => r.below(80) as i64,
        2 => true_len,
        3 => true_len + 1,
        4 => true_len - 1,
        5 => 0xFFFF,
        6 => true_len + r.below(70_000) as i64,
        _ => r.next() as u16 as i64,
    };
    let len = len.clamp(0, 0xFFFF) as u16;
    if let Some(field) = b.get_mut(8..10) {
        field.copy_from_slice(&len.to_be_bytes());
    }
}

/// One or more random changes to a frame.
fn mutate(r: &mut Rng, frame: &mut Vec<u8>, others: &[Vec<u8>]) {
    for _ in 0..1 + r.below(3) {
        match r.below(9) {
            0 | 1 => {
                for _ in 0..1 + r.below(8) {
                    if !frame.is_empty() {
                        let i = r.below(frame.len());
                        frame[i] ^= 1 << r.below(8);
                    }
                }
            }
            2 => {
                if !frame.is_empty() {
                    let i = r.below(frame.len());
                    let random = r.u8();
                    frame[i] = r.pick(&[0, 0xFF, 0x7F, 0x80, 0xFE, 1, 2, random]);
                }
            }
            3 => {
                let keep = r.below(frame.len() + 1);
                frame.truncate(keep);
            }
            4 => lie_about_length(r, frame),
            5 => {
                let i = r.below(frame.len() + 1);
                let n = 1 + r.below(16);
                let extra = r.bytes(n);
                frame.splice(i..i, extra);
            }
            6 => {
                if !frame.is_empty() {
                    let i = r.below(frame.len());
                    let n = (1 + r.below(16)).min(frame.len() - i);
                    frame.drain(i..i + n);
                }
            }
            7 => {
                if !others.is_empty() {
                    let other = &others[r.below(others.len())];
                    let at = r.below(frame.len() + 1);
                    let from = r.below(other.len() + 1);
                    frame.truncate(at);
                    frame.extend_from_slice(&other[from..]);
                }
            }
            _ => {
                let n = r.below(64);
                frame.extend(r.bytes(n));
            }
        }
    }
}

/// The datagram length on the wire for `captured` bytes: mostly the same, sometimes longer (a truncated
/// capture), sometimes shorter (which the parser must treat as the captured length).
fn reported_len(r: &mut Rng, captured: usize) -> usize {
    match r.below(10) {
        0 => captured + 1 + r.below(100),
        1 => captured + r.below(70_000),
        2 => captured / 2,
        3 => r.pick(&[0, usize::MAX, u32::MAX as usize, 65_535]),
        _ => captured,
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The checks

/// One input that broke an invariant, printed so it can be replayed.
struct Case<'a> {
    captured: &'a [u8],
    reported: usize,
    layout: &'a Layout,
}

impl fmt::Display for Case<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "reported {}, {:?}, captured {} bytes: ", self.reported, self.layout, self.captured.len())?;
        self.captured.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// `bytes` as an unsigned integer, big- and little-endian.
fn readings(bytes: &[u8]) -> (u64, u64) {
    let be = bytes.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
    let le = bytes.iter().rev().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
    (be, le)
}

/// What the inputs exercised, over all tests: cases, claimed by the heuristic, parsed, and per payload kind.
static SEEN: [AtomicUsize; 7] = [const { AtomicUsize::new(0) }; 7];
const SEEN_NAMES: [&str; 7] = ["cases", "claimed", "parsed", "raw", "CDC", "undecoded", "truncated"];

fn count(what: usize) {
    SEEN[what].fetch_add(1, Relaxed);
}

/// Prints what the inputs exercised so far (`cargo test -- --nocapture` shows it).
fn report(test: &str) {
    let seen: Vec<String> =
        SEEN.iter().zip(SEEN_NAMES).map(|(n, name)| format!("{name} {}", n.load(Relaxed))).collect();
    eprintln!("robustness, after {test}: {}", seen.join(", "));
}

/// Runs one input through the heuristic, the parser and the renderer, and checks every invariant.
fn check(captured: &[u8], reported: usize, layout: &Layout) {
    let case = Case { captured, reported, layout };
    let claimed = claims(captured, reported, layout);
    let parsed = DumpFrame::parse(captured, reported, layout);
    count(0);
    if claimed {
        count(1);
    }
    if let Ok(f) = &parsed {
        count(2);
        count(match f.payload {
            Payload::Raw(_) => 3,
            Payload::Cdc { .. } => 4,
            Payload::Undecoded(_) => 5,
        });
        if f.is_truncated() {
            count(6);
        }
    }
    assert_eq!(parsed.is_ok(), captured.len() >= layout.header_len, "parse result vs. header length: {case}");
    if claimed {
        let f = parsed.unwrap_or_else(|e| panic!("claimed but not parsed ({e:?}): {case}"));
        let len = usize::from(f.header.repr.len);
        assert!(f.magic_ok, "claimed without the magic: {case}");
        assert_eq!(f.payload_span, Span::new(layout.header_len, len - layout.header_len), "payload span: {case}");
        let trailer = (len < f.reported).then(|| Span::new(len, f.reported - len));
        assert_eq!(f.trailer, trailer, "trailer: {case}");
    }

    let mut w = RecordingTree::new(captured.len());
    let summary = dissect(&mut w, 0, captured, reported, layout);

    for item in &w.items {
        assert!(item.span.within(captured.len()), "recorded item {item:?} beyond the capture: {case}");
        assert!(item.parent <= w.items.len(), "item {item:?} under a parent that does not exist: {case}");
    }
    if let Err(e) = check_requests(&w.requested, &case) {
        panic!("{e}: {case}");
    }

    match parsed {
        Ok(f) => {
            let truncated = captured.len() < f.reported;
            assert_eq!(summary.info.ends_with(" [truncated]"), truncated, "Info {:?}: {case}", summary.info);
            assert!(!w.expert_ids().contains(&Ei::HeaderTruncated), "header expert on a whole header: {case}");
        }
        Err(_) => assert_eq!(w.expert_ids(), [Ei::HeaderTruncated], "experts of a short frame: {case}"),
    }
}

/// Every span handed to the writer is within the capture; every value shows the bytes it covers.
fn check_requests(requests: &[(Option<Hf>, Span, Value)], case: &Case) -> Result<(), String> {
    for &(hf, span, value) in requests {
        if !span.within(case.captured.len()) {
            return Err(format!("{hf:?} requested over {span:?}"));
        }
        let Some(bytes) = case.captured.get(span.range()) else { continue };
        match (hf, value) {
            // Generated values: computed, not read from the bytes they are shown over.
            (Some(Hf::DataLen), _) | (_, Value::None | Value::Uint64(_)) => {}
            (_, Value::Uint(v)) => {
                let (be, le) = readings(bytes);
                if !(1..=4).contains(&span.len) || (u64::from(v) != be && u64::from(v) != le) {
                    return Err(format!("{hf:?} shows {v} over {span:?}, bytes {bytes:02x?}"));
                }
            }
            (_, Value::Flags(bits)) => {
                if bytes != [bits] {
                    return Err(format!("{hf:?} shows flags {bits:02x} over {bytes:02x?}"));
                }
            }
        }
    }
    Ok(())
}

/// An emitted CDC frame (a record of its header's mode) parses back to the record it was built from, at the
/// header's end.
fn check_round_trip(frame: &[u8], layout: &Layout, record: &[u8]) {
    let f = DumpFrame::parse(frame, frame.len(), layout).expect("an emitted frame parses");
    let Payload::Cdc { cdc, extra: None, .. } = f.payload else { panic!("not a CDC: {:?}", f.payload) };
    let back = match cdc {
        Cdc::SmcR(v) => v.repr().map(|c| c.emit(ByteOrder::Big)),
        Cdc::SmcD(d) => d.view.repr().map(|c| c.emit(d.byte_order)),
    };
    let smcd_read_other_way = matches!(cdc, Cdc::SmcD(_)) && back.as_deref() != Some(record);
    // SMC-D cursors read in the other byte order (the automatic choice can differ) still give back the bytes.
    if !smcd_read_other_way {
        assert_eq!(back.as_deref(), Some(record), "round trip of {frame:02x?}");
    }
    assert_eq!(cdc.ty().map(|t| t.span.off), Some(layout.header_len));
}

// ---------------------------------------------------------------------------------------------------------------
// The tests

#[test]
fn random_bytes() {
    let mut r = Rng(0x0b57_ac1e_0000_0001);
    for _ in 0..cases(15) {
        let layout = random_layout(&mut r);
        let max = if r.chance(8) { 2000 } else { 80 };
        let n = r.below(max);
        let b = r.bytes(n);
        let reported = reported_len(&mut r, b.len());
        check(&b, reported, &layout);
    }
    report("random_bytes");
}

#[test]
fn magic_prefixed_garbage() {
    let mut r = Rng(0x0b57_ac1e_0000_0002);
    for _ in 0..cases(20) {
        let layout = random_layout(&mut r);
        let b = magic_garbage(&mut r);
        let reported = reported_len(&mut r, b.len());
        check(&b, reported, &layout);
    }
    report("magic_prefixed_garbage");
}

#[test]
fn emitted_frames_mutated() {
    let mut r = Rng(0x0b57_ac1e_0000_0003);
    let mut recent: Vec<Vec<u8>> = Vec::new();
    for i in 0..cases(30) {
        let build = random_layout(&mut r);
        // Mostly parsed under the layout it was built with; sometimes under another one.
        let parse = if r.chance(4) { random_layout(&mut r) } else { build };
        let mut b = emitted(&mut r, &build);
        if !r.chance(8) {
            mutate(&mut r, &mut b, &recent);
        }
        let reported = reported_len(&mut r, b.len());
        check(&b, reported, &parse);
        if recent.len() < 64 {
            recent.push(b);
        } else {
            recent[i % 64] = b;
        }
    }
    report("emitted_frames_mutated");
}

#[test]
fn capture_frames_mutated() {
    let payloads = capture_payloads();
    let mut r = Rng(0x0b57_ac1e_0000_0004);
    // Unmutated, each under the default layout: the captures' own frames must pass too.
    for p in &payloads {
        check(p, p.len(), &Layout::default());
    }
    for _ in 0..cases(35) {
        let layout = if r.chance(2) { Layout::default() } else { random_layout(&mut r) };
        let mut b = payloads[r.below(payloads.len())].clone();
        mutate(&mut r, &mut b, &payloads);
        let reported = reported_len(&mut r, b.len());
        check(&b, reported, &layout);
    }
    report("capture_frames_mutated");
}

/// The Ethernet heuristic's envelope test on whole frames: the captures' own, mutated anywhere (addresses,
/// lengths, TTL, checksums, payload), and random ones. It must not panic, and a frame it takes must hold a payload
/// the UDP heuristic claims, within the lengths the IP and UDP headers give.
#[test]
fn envelopes_mutated() {
    let frames = capture_frames();
    let mut r = Rng(0x0b57_ac1e_0000_0005);
    let mut taken = 0;
    for _ in 0..cases(10) {
        let layout = if r.chance(2) { Layout::default() } else { random_layout(&mut r) };
        let mut f = if r.chance(10) {
            let n = r.below(120);
            r.bytes(n)
        } else {
            frames[r.below(frames.len())].clone()
        };
        if !r.chance(6) {
            mutate(&mut r, &mut f, &frames);
        }
        let reported = reported_len(&mut r, f.len());
        // The postdissector's tests, on any link type: no panic, a found payload lies within the frame.
        if let Some(found) = envelope::find_dump(&f, reported) {
            assert!(found.payload.end <= f.len() && found.payload.start <= found.payload.end, "{found:?}");
            let payload = &f[found.payload.clone()];
            smcdump::wire::learn::identify(payload, found.payload_len);
        }
        smcdump::wire::handshake::smc_syn(&f);
        if let Some(flow) = dump_flow(&f, reported, &layout) {
            taken += 1;
            let case = Case { captured: &f, reported, layout: &layout };
            let udp_len = envelope::udp_len(&f).expect("a taken frame has a UDP length");
            let payload = &f[ETH_PAYLOAD..f.len().min(ETH_UDP + udp_len)];
            let payload_len = udp_len - UDP_LEN;
            assert!(claims(payload, payload_len, &layout), "{flow:?} taken, payload not claimed: {case}");
            let sport = &f[ETH_UDP + udp_field::SPORT.start..ETH_UDP + udp_field::SPORT.end];
            assert_eq!(flow.src.port.to_be_bytes(), sport, "{case}");
            check(payload, payload_len, &layout);
        }
    }
    assert!(taken > cases(10) / 20, "only {taken} envelopes taken: the inputs miss the interesting cases");
    eprintln!("robustness, envelopes: {} frames, {taken} taken", cases(10));
}

/// The checks are not vacuous: a request past the capture, or a value other than the bytes it covers, is caught.
#[test]
fn checks_catch_broken_requests() {
    let frame = emit::data_frame(&Layout::default(), 1, 1, b"data");
    let layout = Layout::default();
    let case = Case { captured: &frame, reported: frame.len(), layout: &layout };
    let good =
        [(Some(Hf::Magic), Span::new(0, 4), Value::Uint(MAGIC)), (Some(Hf::Data), Span::new(16, 4), Value::None)];
    let bad: [&[(Option<Hf>, Span, Value)]; 4] = [
        &[(Some(Hf::Data), Span::new(16, 5), Value::None)],
        &[(Some(Hf::Magic), Span::new(0, 4), Value::Uint(MAGIC ^ 1))],
        &[(Some(Hf::Len), Span::new(8, 2), Value::Uint(21))],
        &[(Some(Hf::CdcProdFlags), Span::new(7, 1), Value::Flags(2))],
    ];
    assert_eq!(check_requests(&good, &case), Ok(()));
    for requests in bad {
        assert!(check_requests(requests, &case).is_err(), "{requests:?} went unnoticed");
    }
}

/// Bytes after the announced length are captured, so they must be shown as `smcdump.trailer`.
#[test]
fn trailer_is_shown() {
    let layout = Layout::default();
    let frame = dump_frame_as_given(&layout, &HeaderRepr { len: 18, ..HeaderRepr::new(1, 1, 1) }, &[], &[1, 2, 3, 4]);
    let f = DumpFrame::parse(&frame, frame.len(), &layout).expect("parses");
    assert_eq!(f.trailer, Some(Span::new(18, 2)));
    let mut tree = RecordingTree::new(frame.len());
    dissect(&mut tree, 0, &frame, frame.len(), &layout);
    let trailer = tree.find(Hf::Trailer).map(|r| r.span);
    assert_eq!(trailer, Some(Span::new(18, 2)), "items: {:?}", tree.items);
}
