//! A global allocator that counts bytes, so a benchmark can say how much heap a
//! structure keeps alive.
//!
//! Install it in a benchmark binary and read the counters around the code to measure:
//!
//! ```
//! use pennon_bench_support::alloc::{Counters, CountingAlloc};
//!
//! #[global_allocator]
//! static ALLOC: CountingAlloc = CountingAlloc;
//!
//! let before = Counters::now();
//! let kept = vec![0u8; 4096];
//! let after = Counters::now();
//! assert!(after.live_since(&before) >= 4096);
//! drop(kept);
//! ```
//!
//! The counters are process-wide relaxed atomics: read them while no other thread
//! allocates (criterion's measurement loop runs on the calling thread). They count the
//! bytes asked for, not the allocator's own overhead, so the resident size is higher.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static FREED: AtomicUsize = AtomicUsize::new(0);
static PEAK_LIVE: AtomicUsize = AtomicUsize::new(0);

/// [`System`], counting the bytes it hands out and takes back.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAlloc;

fn on_alloc(size: usize) {
    let allocated = ALLOCATED.fetch_add(size, Relaxed) + size;
    let live = allocated.saturating_sub(FREED.load(Relaxed));
    PEAK_LIVE.fetch_max(live, Relaxed);
}

fn on_free(size: usize) {
    FREED.fetch_add(size, Relaxed);
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

/// A reading of the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    /// Bytes allocated since the process started.
    pub allocated: usize,
    /// Bytes freed since the process started.
    pub freed: usize,
}

impl Counters {
    /// Reads the counters.
    pub fn now() -> Counters {
        Counters { allocated: ALLOCATED.load(Relaxed), freed: FREED.load(Relaxed) }
    }

    /// Bytes live now.
    pub fn live(&self) -> usize {
        self.allocated.saturating_sub(self.freed)
    }

    /// Bytes allocated minus bytes freed between `earlier` and this reading: what the
    /// code in between left alive. Negative when it freed more than it kept.
    pub fn live_since(&self, earlier: &Counters) -> isize {
        let allocated = self.allocated.wrapping_sub(earlier.allocated);
        let freed = self.freed.wrapping_sub(earlier.freed);
        (allocated as isize).wrapping_sub(freed as isize)
    }
}

/// The most bytes live at once since the last [`reset_peak`], approximately (the two
/// counters are read without a lock).
pub fn peak_live() -> usize {
    PEAK_LIVE.load(Relaxed)
}

/// Starts a new peak measurement from the bytes live now.
pub fn reset_peak() {
    PEAK_LIVE.store(Counters::now().live(), Relaxed);
}
