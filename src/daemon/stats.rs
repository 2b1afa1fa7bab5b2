//! Counters of what crossed the wire, and the rate limit that keeps a flood
//! of bad packets out of the log.

use std::fmt::Write as _;

use crate::vrrp::discard::Discard;
use crate::vrrp::timers::{Micros, MICROS_PER_SECOND};

#[derive(Debug, Default, Clone)]
pub struct Counters {
    pub adverts_sent: u64,
    pub adverts_received: u64,
    pub send_errors: u64,
    pub became_master: u64,
    pub priority_zero_sent: u64,
    pub priority_zero_received: u64,
    pub address_list_mismatch: u64,
    pub script_runs: u64,
    /// Failed runs, timed-out ones included.
    pub script_failures: u64,
    pub script_timeouts: u64,
    /// Runs that could not start (missing program, refused, fork failed).
    pub script_start_errors: u64,
    pub notify_runs: u64,
    /// Notify commands that could not start, failed, or were killed.
    pub notify_failures: u64,
    /// Virtual addresses put back after someone removed them.
    pub addresses_restored: u64,
    pub discarded: [u64; Discard::ALL.len()],
}

impl Counters {
    pub fn discard(&mut self, reason: Discard) {
        self.discarded[reason.index()] += 1;
    }

    /// The SIGUSR2 statistics file: one `name value` line each.
    pub fn render(&self) -> String {
        let mut text = String::new();
        let lines = [
            ("adverts_sent", self.adverts_sent),
            ("adverts_received", self.adverts_received),
            ("send_errors", self.send_errors),
            ("became_master", self.became_master),
            ("priority_zero_sent", self.priority_zero_sent),
            ("priority_zero_received", self.priority_zero_received),
            ("address_list_mismatch", self.address_list_mismatch),
            ("script_runs", self.script_runs),
            ("script_failures", self.script_failures),
            ("script_timeouts", self.script_timeouts),
            ("script_start_errors", self.script_start_errors),
            ("notify_runs", self.notify_runs),
            ("notify_failures", self.notify_failures),
            ("addresses_restored", self.addresses_restored),
        ];
        for (name, value) in lines {
            let _ = writeln!(text, "{name} {value}");
        }
        for reason in Discard::ALL {
            let _ = writeln!(
                text,
                "discarded_{} {}",
                reason.name(),
                self.discarded[reason.index()]
            );
        }
        text
    }
}

/// What a rate-limited log line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKey {
    Discard(Discard),
    /// A peer advertises other virtual addresses than ours.
    AddressListMismatch,
    /// A master leaving (priority 0).
    PriorityZero,
    /// A VRRPv3 peer advertises another interval than ours.
    IntervalMismatch,
    /// A master hears a lower-priority master.
    LowerPriorityMaster,
}

impl LogKey {
    /// One slot per discard reason and per other key (four of them).
    const COUNT: usize = Discard::ALL.len() + 4;

    fn index(self) -> usize {
        match self {
            LogKey::Discard(reason) => reason.index(),
            LogKey::AddressListMismatch => Discard::ALL.len(),
            LogKey::PriorityZero => Discard::ALL.len() + 1,
            LogKey::IntervalMismatch => Discard::ALL.len() + 2,
            LogKey::LowerPriorityMaster => Discard::ALL.len() + 3,
        }
    }
}

/// Lets one line through per key per period and counts the rest, so a
/// flood costs a counter increment per packet, not a write.
#[derive(Debug)]
pub struct LogLimiter {
    period: Micros,
    last: [Option<Micros>; LogKey::COUNT],
    suppressed: [u64; LogKey::COUNT],
}

impl Default for LogLimiter {
    fn default() -> Self {
        LogLimiter {
            period: 10 * MICROS_PER_SECOND,
            last: [None; LogKey::COUNT],
            suppressed: [0; LogKey::COUNT],
        }
    }
}

impl LogLimiter {
    /// `Some(n)` when a line may be logged now; `n` is how many were
    /// suppressed since the last one.
    pub fn allow(&mut self, key: LogKey, now: Micros) -> Option<u64> {
        let i = key.index();
        match self.last[i] {
            Some(last) if now < last + self.period => {
                self.suppressed[i] += 1;
                None
            }
            _ => {
                self.last[i] = Some(now);
                Some(std::mem::take(&mut self.suppressed[i]))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_lets_one_line_per_period() {
        let mut limiter = LogLimiter::default();
        let ttl = LogKey::Discard(Discard::BadTtl);
        assert_eq!(limiter.allow(ttl, 0), Some(0));
        for t in 1..1000 {
            assert_eq!(limiter.allow(ttl, t), None);
        }
        assert_eq!(
            limiter.allow(LogKey::Discard(Discard::BadChecksum), 5),
            Some(0),
            "keys are separate"
        );
        assert_eq!(limiter.allow(LogKey::AddressListMismatch, 5), Some(0));
        assert_eq!(limiter.allow(ttl, 10 * MICROS_PER_SECOND), Some(999));
    }

    #[test]
    fn every_key_has_a_slot_of_its_own() {
        let mut limiter = LogLimiter::default();
        let keys = Discard::ALL.map(LogKey::Discard).into_iter().chain([
            LogKey::AddressListMismatch,
            LogKey::PriorityZero,
            LogKey::IntervalMismatch,
            LogKey::LowerPriorityMaster,
        ]);
        for key in keys {
            assert_eq!(limiter.allow(key, 0), Some(0), "{key:?} shares a slot");
        }
    }

    #[test]
    fn render_names_every_discard_reason() {
        let mut counters = Counters::default();
        counters.discard(Discard::BadTtl);
        let text = counters.render();
        assert!(text.contains("discarded_bad_ttl 1\n"));
        assert_eq!(text.lines().count(), 14 + Discard::ALL.len());
    }
}
