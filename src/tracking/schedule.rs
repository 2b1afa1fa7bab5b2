//! When a check script starts, and how it is stopped when it overstays:
//! every `interval` (a run is skipped while the previous one still runs),
//! SIGTERM to its process group after `timeout`, SIGKILL two seconds later.

use crate::vrrp::timers::{Micros, MICROS_PER_SECOND};

/// Between SIGTERM and SIGKILL: time for a script to clean up.
pub const KILL_GRACE: Micros = 2 * MICROS_PER_SECOND;

/// What the daemon must do with the script's process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunAction {
    Start,
    Terminate,
    Kill,
}

/// How a finished run counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    /// Killed for overstaying its timeout: a failure, counted apart.
    TimedOut,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    started: Micros,
    terminated_at: Option<Micros>,
    killed: bool,
}

#[derive(Debug, Clone)]
pub struct Schedule {
    interval: Micros,
    timeout: Micros,
    next_start: Micros,
    running: Option<Run>,
}

impl Schedule {
    /// The first run is due at `first_run`.
    pub fn new(interval: Micros, timeout: Micros, first_run: Micros) -> Schedule {
        Schedule {
            interval: interval.max(1),
            timeout: timeout.max(1),
            next_start: first_run,
            running: None,
        }
    }

    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    pub fn poll_timeout(&self) -> Option<Micros> {
        let next = match self.running {
            None => self.next_start,
            Some(run) => match run.terminated_at {
                None => (run.started + self.timeout).min(self.next_start),
                Some(_) if run.killed => self.next_start,
                Some(at) => (at + KILL_GRACE).min(self.next_start),
            },
        };
        Some(next)
    }

    /// The one thing due at `now`, if any. Call until it returns None.
    pub fn handle_timeout(&mut self, now: Micros) -> Option<RunAction> {
        if let Some(run) = &mut self.running {
            match run.terminated_at {
                None if now >= run.started + self.timeout => {
                    run.terminated_at = Some(now);
                    return Some(RunAction::Terminate);
                }
                Some(at) if !run.killed && now >= at + KILL_GRACE => {
                    run.killed = true;
                    return Some(RunAction::Kill);
                }
                _ => {}
            }
        }
        if now >= self.next_start {
            // Keep the cadence; skip the runs that fell due while the last
            // one was still going (or while the loop was stalled).
            while self.next_start <= now {
                self.next_start += self.interval;
            }
            if self.running.is_none() {
                self.running = Some(Run {
                    started: now,
                    terminated_at: None,
                    killed: false,
                });
                return Some(RunAction::Start);
            }
        }
        None
    }

    /// What a restart saves: when the run in progress started (None: no
    /// run), and when the next one is due.
    pub fn timing(&self) -> (Option<Micros>, Micros) {
        (self.running.map(|r| r.started), self.next_start)
    }

    /// After a restart: the previous image's run, started at
    /// `running_since`, is still going (its process was adopted: its end
    /// counts as any run's, its timeout still applies), and the next run
    /// is due at `next_start`.
    pub fn resume(&mut self, running_since: Option<Micros>, next_start: Micros) {
        self.running = running_since.map(|started| Run {
            started,
            terminated_at: None,
            killed: false,
        });
        self.next_start = next_start;
    }

    /// The process could not be started: a failed run.
    pub fn start_failed(&mut self) -> Outcome {
        self.running = None;
        Outcome::Failure
    }

    /// The process ended; `success` is exit status 0.
    pub fn exited(&mut self, success: bool) -> Outcome {
        let run = self.running.take();
        match run {
            Some(Run {
                terminated_at: Some(_),
                ..
            }) => Outcome::TimedOut,
            _ if success => Outcome::Success,
            _ => Outcome::Failure,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Micros = MICROS_PER_SECOND;

    #[test]
    fn runs_every_interval() {
        let mut s = Schedule::new(2 * SEC, 2 * SEC, 0);
        assert_eq!(s.handle_timeout(0), Some(RunAction::Start));
        assert_eq!(s.exited(true), Outcome::Success);
        assert_eq!(s.poll_timeout(), Some(2 * SEC));
        assert_eq!(s.handle_timeout(2 * SEC - 1), None);
        assert_eq!(s.handle_timeout(2 * SEC), Some(RunAction::Start));
    }

    #[test]
    fn a_hung_run_is_terminated_then_killed_and_counts_as_timed_out() {
        let mut s = Schedule::new(5 * SEC, SEC, 0);
        assert_eq!(s.handle_timeout(0), Some(RunAction::Start));
        assert_eq!(s.poll_timeout(), Some(SEC));
        assert_eq!(s.handle_timeout(SEC), Some(RunAction::Terminate));
        assert_eq!(s.poll_timeout(), Some(3 * SEC));
        assert_eq!(s.handle_timeout(3 * SEC), Some(RunAction::Kill));
        assert_eq!(s.handle_timeout(3 * SEC), None);
        assert_eq!(s.exited(false), Outcome::TimedOut);
        assert_eq!(s.poll_timeout(), Some(5 * SEC));
    }

    #[test]
    fn a_run_that_overlaps_the_next_is_skipped() {
        let mut s = Schedule::new(SEC, 10 * SEC, 0);
        assert_eq!(s.handle_timeout(0), Some(RunAction::Start));
        assert_eq!(s.handle_timeout(SEC), None, "still running: skipped");
        assert_eq!(s.handle_timeout(2 * SEC), None);
        assert_eq!(s.exited(true), Outcome::Success);
        assert_eq!(s.poll_timeout(), Some(3 * SEC));
        assert_eq!(s.handle_timeout(3 * SEC), Some(RunAction::Start));
    }

    #[test]
    fn a_failed_start_is_a_failure() {
        let mut s = Schedule::new(SEC, SEC, 0);
        assert_eq!(s.handle_timeout(0), Some(RunAction::Start));
        assert_eq!(s.start_failed(), Outcome::Failure);
        assert!(!s.is_running());
    }

    #[test]
    fn a_resumed_run_ends_and_times_out_as_any_run() {
        let mut old = Schedule::new(2 * SEC, SEC, 0);
        assert_eq!(old.handle_timeout(0), Some(RunAction::Start));
        let (since, next) = old.timing();
        assert_eq!((since, next), (Some(0), 2 * SEC));
        let mut new = Schedule::new(2 * SEC, SEC, 5 * SEC);
        new.resume(since, next);
        assert_eq!(new.poll_timeout(), Some(SEC));
        assert_eq!(new.handle_timeout(SEC), Some(RunAction::Terminate));
        assert_eq!(new.exited(false), Outcome::TimedOut);
        let mut idle = Schedule::new(2 * SEC, SEC, 5 * SEC);
        idle.resume(None, next);
        assert!(!idle.is_running());
        assert_eq!(idle.poll_timeout(), Some(2 * SEC));
    }
}
