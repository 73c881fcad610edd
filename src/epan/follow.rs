//! Follow SMC Stream: what the follower (registered by the C shim, src/epan/tables.c) asks of the capture's state.

use std::panic::catch_unwind;

use super::state::session;

/// The stream index of frame `frame`, or -1: for the follower's conversation filter.
pub extern "C" fn frame_stream(frame: u32) -> i64 {
    catch_unwind(|| session().stream_of(frame).map_or(-1, i64::from)).unwrap_or(-1)
}

/// How many streams the capture holds: for the follower's stream numbers.
pub extern "C" fn stream_count() -> u32 {
    catch_unwind(|| session().stream_count()).unwrap_or(0)
}
