//! The Ethernet heuristic's envelope test on arbitrary frames; a frame it takes must hold a payload the UDP
//! heuristic claims, which then goes through the parser and the renderer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smcdump::wire::envelope::{dump_flow, udp_len, ETH_PAYLOAD, ETH_UDP};
use smcdump::wire::header::claims;
use smcdump::wire::net::UDP_LEN;
use smcdump_fuzz::{check_dissect, check_parse, Input};

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::new(data) else { return };
    let frame = input.captured;
    if let Some(found) = smcdump::wire::envelope::find_dump(frame, input.reported) {
        let payload = &frame[found.payload.clone()];
        smcdump::wire::learn::identify(payload, found.payload_len);
    }
    smcdump::wire::handshake::smc_syn(frame);
    if dump_flow(frame, input.reported, &input.layout).is_some() {
        let udp_len = udp_len(frame).expect("a taken frame has a UDP length");
        let payload = &frame[ETH_PAYLOAD..frame.len().min(ETH_UDP + udp_len)];
        let payload_len = udp_len - UDP_LEN;
        assert!(claims(payload, payload_len, &input.layout));
        let inner = Input { layout: input.layout, captured: payload, reported: payload_len };
        check_parse(&inner);
        check_dissect(&inner);
    }
});
