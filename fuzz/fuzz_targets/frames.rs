//! Sequences of frames on four connections through the whole per-frame pipeline, two passes, with a scripted
//! application: no panic, nothing taken twice, the second pass equal to the first.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smcdump_fuzz::{check_frames, Frames};

fuzz_target!(|data: &[u8]| {
    if let Some(frames) = Frames::new(data) {
        check_frames(&frames);
    }
});
