//! The heuristic and the parser on arbitrary payloads, reported lengths and layouts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smcdump_fuzz::{check_parse, Input};

fuzz_target!(|data: &[u8]| {
    if let Some(input) = Input::new(data) {
        check_parse(&input);
    }
});
