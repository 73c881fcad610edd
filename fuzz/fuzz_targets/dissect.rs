//! The whole rendering, through a tree writer that records every span it is asked for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smcdump_fuzz::{check_dissect, check_parse, Input};

fuzz_target!(|data: &[u8]| {
    if let Some(input) = Input::new(data) {
        check_parse(&input);
        check_dissect(&input);
    }
});
