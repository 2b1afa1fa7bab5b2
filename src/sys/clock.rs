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
}

impl MonotonicClock {
    /// A clock whose zero is now.
    pub fn new() -> Self {
        MonotonicClock {
            start: Instant::now(),
        }
    }

    /// Microseconds since [`MonotonicClock::new`]. A u64 of microseconds lasts
    /// for more than 500 000 years, so it never wraps in practice; the
    /// conversion saturates rather than truncating, to be sure.
    pub fn now_us(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
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
}
