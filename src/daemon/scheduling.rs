//! `global_defs` scheduling carried out: applied once at start, and
//! `max_auto_priority`'s step up to SCHED_RR when the loop wakes late.
//! The rule for stepping is pure (`AutoPriority`); the calls are in
//! `sys::scheduling`.

use log::{info, warn};

use crate::config::Scheduling;
use crate::sys::scheduling as sys;
use crate::vrrp::timers::{Micros, MICROS_PER_SECOND};

/// Applies what the config asks, logging what cannot be done (not root,
/// no such CPU) and going on without it, as keepalived does. Returns the
/// realtime priority in force, if any.
pub(super) fn apply_at_start(scheduling: &Scheduling) -> Option<u32> {
    // Before any change, so that script children can be given back what
    // the daemon was started with; with nothing asked they simply inherit.
    if *scheduling != Scheduling::default() {
        sys::reset_children();
    }
    if scheduling.mentions_auto_priority_notice() {
        info!(
            "NOTICE: setting config option max_auto_priority should result in better \
             keepvip performance"
        );
    }
    let mut realtime = None;
    if let Some(priority) = scheduling.realtime_priority {
        match sys::set_realtime(priority, scheduling.rlimit_rttime_us) {
            Ok(()) => realtime = Some(priority),
            Err(e) => warn!("vrrp_rt_priority {priority}: cannot set SCHED_RR: {e}"),
        }
    } else if let Some(nice) = scheduling.nice {
        // keepalived sets one or the other: nice means nothing under SCHED_RR.
        if let Err(e) = sys::set_nice(nice) {
            warn!("vrrp_priority {nice}: cannot set the nice value: {e}");
        }
    }
    if scheduling.no_swap {
        if let Err(e) = sys::lock_memory() {
            warn!("vrrp_no_swap: cannot lock memory: {e}");
        }
    }
    if !scheduling.cpu_affinity.is_empty() {
        if let Err(e) = sys::set_cpu_affinity(&scheduling.cpu_affinity) {
            warn!(
                "vrrp_cpu_affinity {:?}: cannot set the CPU affinity: {e}",
                scheduling.cpu_affinity
            );
        }
    }
    realtime
}

/// `max_auto_priority`: a wakeup later than `min_auto_priority_delay`
/// after a timer was due moves the process to SCHED_RR priority 1, and
/// each further late wakeup one step higher, up to the maximum.
#[derive(Debug, Clone)]
pub(super) struct AutoPriority {
    max: u32,
    min_delay: Micros,
    /// The SCHED_RR priority in force; None: not realtime.
    current: Option<u32>,
    rttime_us: u64,
}

impl AutoPriority {
    pub(super) fn new(scheduling: &Scheduling, realtime: Option<u32>) -> AutoPriority {
        AutoPriority {
            max: scheduling.max_auto_priority,
            min_delay: scheduling.min_auto_priority_delay_us,
            current: realtime,
            rttime_us: scheduling.rlimit_rttime_us,
        }
    }

    /// The loop ran a timer `lateness` after it was due: the priority to
    /// move to, if it should move.
    fn step(&mut self, lateness: Micros) -> Option<u32> {
        if self.max == 0 || lateness < self.min_delay {
            return None;
        }
        let next = self.current.map_or(1, |p| p + 1);
        if next > self.max {
            return None;
        }
        self.current = Some(next);
        Some(next)
    }

    /// Logs and applies a step, in keepalived's words.
    pub(super) fn timer_ran_late(&mut self, lateness: Micros) {
        if self.max == 0 || lateness < self.min_delay {
            return;
        }
        info!(
            "A thread timer expired {}.{:06} seconds ago",
            lateness / MICROS_PER_SECOND,
            lateness % MICROS_PER_SECOND
        );
        if let Some(priority) = self.step(lateness) {
            match sys::set_realtime(priority, self.rttime_us) {
                Ok(()) => info!("Set realtime priority {priority}"),
                Err(e) => {
                    warn!("cannot set realtime priority {priority}: {e}");
                    // Not root: no point in trying again at every wakeup.
                    self.max = 0;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auto(max: u32, realtime: Option<u32>) -> AutoPriority {
        let scheduling = Scheduling {
            max_auto_priority: max,
            ..Scheduling::default()
        };
        AutoPriority::new(&scheduling, realtime)
    }

    #[test]
    fn late_wakeups_step_up_from_one_to_the_maximum() {
        let mut a = auto(2, None);
        assert_eq!(a.step(999_999), None, "under a second is on time");
        assert_eq!(a.step(1_400_000), Some(1));
        assert_eq!(a.step(1_400_000), Some(2));
        assert_eq!(a.step(5_000_000), None, "never past the maximum");
    }

    #[test]
    fn steps_go_on_from_vrrp_rt_priority_and_zero_means_never() {
        assert_eq!(auto(99, Some(50)).step(2_000_000), Some(51));
        assert_eq!(auto(0, None).step(10_000_000), None);
    }
}
