//! A global allocator that counts bytes, so a benchmark can say how much heap a
//! structure keeps alive.
//!
//! Install it in a benchmark binary and measure a closure with [`measure`]:
//!
//! ```
//! use pennon_bench_support::alloc::{measure, CountingAlloc};
//!
//! #[global_allocator]
//! static ALLOC: CountingAlloc = CountingAlloc;
//!
//! let (kept, usage) = measure(|| vec![0u8; 4096]);
//! assert!(usage.retained >= 4096);
//! drop(kept);
//! ```
//!
//! It counts only inside [`measure`]: elsewhere it is [`System`] plus one relaxed load,
//! so the timing loops of the same binary do not pay for counting (three atomic
//! read-modify-writes per allocation, about a millisecond over a 10,000-flag load).
//! The counters are process-wide: measure while no other thread allocates. They count
//! the bytes asked for, not the allocator's own overhead, so the resident size is higher.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering::Relaxed};

static COUNTING: AtomicBool = AtomicBool::new(false);
/// Bytes allocated minus bytes freed since the measurement began.
static LIVE: AtomicIsize = AtomicIsize::new(0);
/// The most `LIVE` has been since the measurement began.
static PEAK: AtomicIsize = AtomicIsize::new(0);

/// What a measured closure did to the heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Bytes allocated minus bytes freed: what the result keeps alive. Negative when
    /// the closure freed more than it kept.
    pub retained: isize,
    /// The most extra bytes live at any moment while it ran.
    pub peak: usize,
}

/// Runs `f`, counting its allocations; its result is returned alive, uncounted when it
/// is dropped later.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, Usage) {
    LIVE.store(0, Relaxed);
    PEAK.store(0, Relaxed);
    COUNTING.store(true, Relaxed);
    let result = f();
    COUNTING.store(false, Relaxed);
    let usage = Usage { retained: LIVE.load(Relaxed), peak: PEAK.load(Relaxed).max(0).unsigned_abs() };
    (result, usage)
}

/// [`System`], counting the bytes it hands out and takes back.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAlloc;

fn on_alloc(size: usize) {
    if COUNTING.load(Relaxed) {
        let live = LIVE.fetch_add(size.cast_signed(), Relaxed) + size.cast_signed();
        PEAK.fetch_max(live, Relaxed);
    }
}

fn on_free(size: usize) {
    if COUNTING.load(Relaxed) {
        LIVE.fetch_sub(size.cast_signed(), Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees are this allocator's; the counters never touch the memory.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc::alloc`'s contract.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            on_alloc(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            on_alloc(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, hence from `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        on_free(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; the caller upholds `realloc`'s size contract.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            on_free(layout.size());
            on_alloc(new_size);
        }
        new
    }
}
