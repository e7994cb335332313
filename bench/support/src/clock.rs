//! A criterion clock that counts only the time the benchmark thread spends on a CPU.
//!
//! Wall-clock time includes the time the thread waits while other processes run. On a
//! shared two-core machine that inflates every figure by however busy the neighbours
//! are. Thread CPU time does not: it is the kernel's count of nanoseconds this thread
//! ran (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`, exact to the nanosecond; the cheaper
//! `/proc/thread-self/schedstat` only moves at scheduler ticks, too coarse for
//! criterion's short samples). Cache and memory-bandwidth contention still show, so
//! quiet machines remain the better place for final figures.
//!
//! Benchmarks use it when `PENNON_BENCH_CLOCK=cpu` is set (see [`cpu_requested`]).

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::Throughput;

/// The environment variable that selects the clock: `cpu` for [`ThreadCpuTime`].
pub const CLOCK_VARIABLE: &str = "PENNON_BENCH_CLOCK";

/// Whether `PENNON_BENCH_CLOCK=cpu` asks for [`ThreadCpuTime`] and this system has it.
pub fn cpu_requested() -> bool {
    let requested = std::env::var(CLOCK_VARIABLE).is_ok_and(|clock| clock == "cpu");
    if requested && thread_cpu_ns().is_none() {
        eprintln!("{CLOCK_VARIABLE}=cpu: no thread CPU clock on this system, using wall-clock time");
        return false;
    }
    requested
}

/// Nanoseconds the calling thread has run on a CPU, where the system can tell.
#[cfg(unix)]
pub fn thread_cpu_ns() -> Option<u64> {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid, exclusively borrowed `timespec`; the call only writes it.
    #[allow(unsafe_code)]
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    let seconds = u64::try_from(now.tv_sec).ok()?;
    let nanos = u64::try_from(now.tv_nsec).ok()?;
    (status == 0).then(|| seconds * 1_000_000_000 + nanos)
}

/// Nanoseconds the calling thread has run on a CPU: not available here.
#[cfg(not(unix))]
pub fn thread_cpu_ns() -> Option<u64> {
    None
}

/// Criterion measurement of thread CPU time, in nanoseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadCpuTime;

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns().unwrap_or(0)
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().unwrap_or(0).saturating_sub(start)
    }
    fn add(&self, v1: &u64, v2: &u64) -> u64 {
        v1 + v2
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuNanos
    }
}

/// Formats nanoseconds as criterion does for wall-clock time, marked as CPU time.
struct CpuNanos;

impl ValueFormatter for CpuNanos {
    fn scale_values(&self, typical_ns: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if typical_ns < 1e3 {
            (1.0, "ns (cpu)")
        } else if typical_ns < 1e6 {
            (1e-3, "µs (cpu)")
        } else if typical_ns < 1e9 {
            (1e-6, "ms (cpu)")
        } else {
            (1e-9, "s (cpu)")
        };
        for value in values {
            *value *= factor;
        }
        unit
    }

    fn scale_throughputs(&self, _typical_ns: f64, throughput: &Throughput, values: &mut [f64]) -> &'static str {
        let per_iteration = match throughput {
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) | Throughput::Elements(n) | Throughput::Bits(n) => {
                *n as f64
            }
            Throughput::ElementsAndBytes { elements, .. } => *elements as f64,
        };
        for value in values {
            *value = per_iteration * 1e9 / *value;
        }
        "/s (cpu)"
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

/// A benchmark binary's `main`: runs `$run` (generic over criterion's `Measurement`)
/// with [`ThreadCpuTime`] when `PENNON_BENCH_CLOCK=cpu` asks for it, else with wall
/// time, then prints criterion's summary.
#[macro_export]
macro_rules! main_with_clock {
    ($run:ident) => {
        fn main() {
            if $crate::clock::cpu_requested() {
                $run($crate::clock::ThreadCpuTime);
            } else {
                $run(::criterion::measurement::WallTime);
            }
            ::criterion::Criterion::default().configure_from_args().final_summary();
        }
    };
}
