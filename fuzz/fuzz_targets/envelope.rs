//! The Ethernet heuristic's envelope test on arbitrary frames; a frame it takes must hold a payload the UDP
//! heuristic claims, which then goes through the parser and the renderer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smcdump::wire::envelope::dump_flow;
use smcdump::wire::header::claims;
use smcdump_fuzz::{check_dissect, check_parse, Input};

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::new(data) else { return };
    let frame = input.captured;
    if dump_flow(frame, input.reported, &input.layout).is_some() {
        let udp_len = usize::from(u16::from_be_bytes([frame[38], frame[39]]));
        let payload = &frame[42..frame.len().min(34 + udp_len)];
        assert!(claims(payload, udp_len - 8, &input.layout));
        let inner = Input { layout: input.layout, captured: payload, reported: udp_len - 8 };
        check_parse(&inner);
        check_dissect(&inner);
    }
});
