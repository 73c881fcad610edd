//! The capture file's state as the callbacks reach it: the one [`Session`], the layout cached for the heuristics'
//! first look at a packet, and the flows the Ethernet heuristic saw handed over. Nothing here decides anything;
//! it only keeps `crate::capture`'s state between Wireshark's calls.

use core::cell::Cell;
use core::sync::atomic::{AtomicU64, Ordering};
use std::panic::catch_unwind;
use std::sync::{Mutex, MutexGuard, PoisonError};

use once_cell::sync::Lazy;

use super::prefs;
use crate::capture::Session;
use crate::wire::Layout;

/// What smcdump remembers of the capture file being read; emptied by [`reset`].
static SESSION: Lazy<Mutex<Session>> = Lazy::new(Mutex::default);

/// The session, for a callback that runs outside a dissection (taps, followers, statistics).
pub fn session() -> MutexGuard<'static, Session> {
    SESSION.lock().unwrap_or_else(PoisonError::into_inner)
}

thread_local! {
    /// Whether this thread is inside a dissection that holds the session.
    static DISSECTING: Cell<bool> = const { Cell::new(false) };
}

/// The session for a dissection, held until the guard is dropped, unless this thread's dissection holds it
/// already: an application dissector smcdump called can lead back into smcdump (a protocol that carries UDP
/// datagrams, say), and that inner frame, which has the outer one's frame number, must be dissected without the
/// capture's state.
pub fn session_for_dissection() -> Option<Dissecting> {
    if DISSECTING.with(Cell::get) {
        return None;
    }
    DISSECTING.with(|d| d.set(true));
    Some(Dissecting(session()))
}

/// The session, held by one dissection.
pub struct Dissecting(MutexGuard<'static, Session>);

impl Drop for Dissecting {
    fn drop(&mut self) {
        DISSECTING.with(|d| d.set(false));
    }
}

impl core::ops::Deref for Dissecting {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.0
    }
}

impl core::ops::DerefMut for Dissecting {
    fn deref_mut(&mut self) -> &mut Session {
        &mut self.0
    }
}

/// Forgets the capture file's state: registered as init and cleanup routine, so each capture file starts afresh.
pub unsafe extern "C" fn reset() {
    let _ = catch_unwind(|| session().clear());
    forget_cached();
}

/// Forgets what is cached from the preferences, the layout and the flows handed over: a preference changed
/// (Wireshark's apply callback for smcdump's module).
pub unsafe extern "C" fn preferences_changed() {
    forget_cached();
}

fn forget_cached() {
    LAYOUT.store(UNKNOWN, Ordering::Relaxed);
    handed::forget_all();
}

/// The layout [`layout`] gives, packed, or [`UNKNOWN`]: every frame's first look at its bytes (the heuristics,
/// the flow's dissector) reads it without taking the session's lock. Set by each dump frame's dissection (which
/// may teach it), and forgotten with the session and when a preference changes.
static LAYOUT: AtomicU64 = AtomicU64::new(UNKNOWN);
const UNKNOWN: u64 = u64::MAX;

/// Keeps the layout a frame's dissection used, for the next frame's first look.
pub fn remember_layout(layout: &Layout) {
    LAYOUT.store(u64::from(layout.pack()), Ordering::Relaxed);
}

/// The layout frames are parsed with now: the preferences', with what the capture taught put in.
pub fn layout() -> Layout {
    match LAYOUT.load(Ordering::Relaxed) {
        UNKNOWN => {
            let layout = session().layout(&prefs::settings());
            remember_layout(&layout);
            layout
        }
        bits => Layout::unpack(bits as u32),
    }
}

/// The flows the Ethernet heuristic handed to smcdump (or found handed), so that the later frames of a flow skip
/// the header check and the session's lock: a small direct-mapped cache per thread (a collision only costs the
/// check again), emptied with the session and when a preference changes (a generation number).
pub mod handed {
    use core::cell::RefCell;
    use core::hash::{BuildHasher, BuildHasherDefault};
    use core::sync::atomic::{AtomicU32, Ordering};

    use crate::capture::hash::WordHasher;
    use crate::wire::Flow;

    const SLOTS: usize = 256;

    static GENERATION: AtomicU32 = AtomicU32::new(0);

    thread_local! {
        static CACHE: RefCell<(u32, [Option<Flow>; SLOTS])> = const { RefCell::new((0, [None; SLOTS])) };
    }

    fn slot(f: &Flow) -> usize {
        (BuildHasherDefault::<WordHasher>::default().hash_one(f) >> 56) as usize % SLOTS
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
