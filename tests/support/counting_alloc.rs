//! A counting global allocator, shared by the test and bench binaries that
//! measure heap use. Counts are per thread, so tests running in parallel do
//! not disturb each other. Include it with
//! `#[path = "support/counting_alloc.rs"] mod counting_alloc;` and install
//! `counting_alloc::Counting` as the binary's `#[global_allocator]`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// What a closure did to the heap of its thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Calls to `alloc`, `alloc_zeroed` and `realloc`.
    pub allocations: usize,
    /// The most bytes held allocated at once.
    pub peak_bytes: usize,
}

/// The allocator: forwards every call to `System` and keeps the books.
pub struct Counting;

thread_local! {
    static TRACKING: Cell<bool> = const { Cell::new(false) };
    static CALLS: Cell<usize> = const { Cell::new(0) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn record(calls: usize, delta: isize) {
    let _ = TRACKING.try_with(|t| {
        if t.get() {
            CALLS.with(|c| c.set(c.get() + calls));
            let live = LIVE.with(|l| {
                l.set(l.get() + delta);
                l.get()
            });
            PEAK.with(|p| p.set(p.get().max(live)));
        }
    });
}

// SAFETY: every call is forwarded to `System` unchanged; the bookkeeping
// only touches const-initialized thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            record(1, layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        record(0, -(layout.size() as isize));
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            record(1, layout.size() as isize);
        }
        p
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as ours.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Both blocks may exist for a moment.
            record(1, new_size as isize);
            record(0, -(layout.size() as isize));
        }
        p
    }
}

/// Runs `f` and returns its result with the heap use it caused on this
/// thread.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, Usage) {
    CALLS.with(|c| c.set(0));
    LIVE.with(|l| l.set(0));
    PEAK.with(|p| p.set(0));
    TRACKING.with(|t| t.set(true));
    let out = f();
    TRACKING.with(|t| t.set(false));
    let usage = Usage {
        allocations: CALLS.with(Cell::get),
        peak_bytes: PEAK.with(Cell::get).max(0) as usize,
    };
    (out, usage)
}
