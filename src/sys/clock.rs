//! The daemon's one clock.
//!
//! keepalived keeps its timers in integer microseconds, and so does the core
//! (`Master down timer = 3414062 usecs`). The loop reads this clock once per
//! wake-up and hands the value to the core, which never reads a clock itself.

use std::time::Instant;

/// Monotonic microseconds since the clock was made.
///
/// Built on [`Instant`] (CLOCK_MONOTONIC), so wall-clock jumps (NTP, the
/// user's `date`) never fire or stall a VRRP timer.
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock {
    start: Instant,
    /// CLOCK_MONOTONIC at `start`, in microseconds: what another process
    /// (the next image after a restart) can relate our times to.
    start_absolute: u64,
}

impl MonotonicClock {
    /// A clock whose zero is now.
    pub fn new() -> Self {
        MonotonicClock {
            start: Instant::now(),
            start_absolute: absolute_now_us(),
        }
    }

    /// One of our times as CLOCK_MONOTONIC microseconds, which every
    /// process on this boot shares.
    pub fn to_absolute(&self, t: u64) -> u64 {
        self.start_absolute.saturating_add(t)
    }

    /// CLOCK_MONOTONIC microseconds as one of our times; a time before
    /// this clock was made is its zero (already due).
    pub fn from_absolute(&self, absolute: u64) -> u64 {
        absolute.saturating_sub(self.start_absolute)
    }

    /// Microseconds since [`MonotonicClock::new`]. A u64 of microseconds lasts
    /// for more than 500 000 years, so it never wraps in practice; the
    /// conversion saturates rather than truncating, to be sure.
    pub fn now_us(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

/// CLOCK_MONOTONIC now, in microseconds (what [`Instant`] reads on Linux).
fn absolute_now_us() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime with a valid pointer to a local.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64) * 1_000_000 + (ts.tv_nsec as u64) / 1_000
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn starts_near_zero_and_advances() {
        let clock = MonotonicClock::new();
        let a = clock.now_us();
        assert!(a < 1_000_000, "fresh clock should read well under 1 s: {a}");
        std::thread::sleep(Duration::from_millis(5));
        let b = clock.now_us();
        assert!(
            b >= a + 5_000,
            "5 ms sleep should advance by >= 5000 us: {a} -> {b}"
        );
    }

    #[test]
    fn two_clocks_agree_through_absolute_time() {
        let first = MonotonicClock::new();
        std::thread::sleep(Duration::from_millis(5));
        let second = MonotonicClock::new();
        let (a, b) = (first.now_us(), second.now_us());
        let there = second.from_absolute(first.to_absolute(a));
        // The same instant, within the microseconds between the clock
        // reads of each `new` and of the two `now_us`.
        assert!(
            there.abs_diff(b) < 1_000,
            "{a} on the first is {there}, not {b}"
        );
        assert_eq!(second.from_absolute(0), 0);
    }
}
