//! Notify commands of one instance, run one at a time in the order the
//! transitions happened (a script that records transitions must see them
//! in order), each killed if it overstays.

use std::collections::VecDeque;

use crate::vrrp::timers::{Micros, MICROS_PER_SECOND};

/// A notify command that has not ended by then is killed (its group).
pub const NOTIFY_TIMEOUT: Micros = 30 * MICROS_PER_SECOND;

/// `T` is the command to run (the daemon's `config::Command`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyAction<T> {
    Start(T),
    /// Kill the process group of this pid.
    Kill(u32),
}

#[derive(Debug, Clone, Copy)]
struct Running {
    pid: Option<u32>,
    deadline: Micros,
    killed: bool,
}

#[derive(Debug)]
pub struct NotifyQueue<T> {
    waiting: VecDeque<T>,
    running: Option<Running>,
}

impl<T> Default for NotifyQueue<T> {
    fn default() -> Self {
        NotifyQueue {
            waiting: VecDeque::new(),
            running: None,
        }
    }
}

impl<T> NotifyQueue<T> {
    pub fn push(&mut self, command: T) {
        self.waiting.push_back(command);
    }

    pub fn is_idle(&self) -> bool {
        self.running.is_none() && self.waiting.is_empty()
    }

    /// When `next_action` has something to do.
    pub fn poll_timeout(&self, now: Micros) -> Option<Micros> {
        match self.running {
            Some(r) if !r.killed => Some(r.deadline),
            Some(_) => None,
            None if !self.waiting.is_empty() => Some(now),
            None => None,
        }
    }

    /// The next thing to do at `now`; follow a `Start` with `started`.
    pub fn next_action(&mut self, now: Micros) -> Option<NotifyAction<T>> {
        match &mut self.running {
            Some(r) if !r.killed && now >= r.deadline => {
                r.killed = true;
                r.pid.map(NotifyAction::Kill)
            }
            Some(_) => None,
            None => {
                let command = self.waiting.pop_front()?;
                self.running = Some(Running {
                    pid: None,
                    deadline: now + NOTIFY_TIMEOUT,
                    killed: false,
                });
                Some(NotifyAction::Start(command))
            }
        }
    }

    /// The last `Start` gave this pid, or could not start (None).
    pub fn started(&mut self, pid: Option<u32>) {
        match pid {
            Some(pid) => {
                if let Some(r) = &mut self.running {
                    r.pid = Some(pid);
                }
            }
            None => self.running = None,
        }
    }

    /// A child ended; true if it was ours (then the next may start).
    pub fn exited(&mut self, pid: u32) -> bool {
        if self.running.is_some_and(|r| r.pid == Some(pid)) {
            self.running = None;
            return true;
        }
        false
    }

    pub fn running_pid(&self) -> Option<u32> {
        self.running.and_then(|r| r.pid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        vec![s.to_string()]
    }

    #[test]
    fn runs_in_order_one_at_a_time() {
        let mut q = NotifyQueue::default();
        q.push(argv("backup"));
        q.push(argv("master"));
        assert_eq!(q.next_action(0), Some(NotifyAction::Start(argv("backup"))));
        q.started(Some(10));
        assert_eq!(q.next_action(1), None, "waits for the first to end");
        assert!(q.exited(10));
        assert_eq!(q.next_action(2), Some(NotifyAction::Start(argv("master"))));
        q.started(Some(11));
        assert!(!q.exited(99), "not ours");
        assert!(q.exited(11));
        assert!(q.is_idle());
    }

    #[test]
    fn a_hung_notify_is_killed_and_the_queue_moves_on_when_it_is_reaped() {
        let mut q = NotifyQueue::default();
        q.push(argv("hang"));
        q.push(argv("next"));
        q.next_action(0);
        q.started(Some(10));
        assert_eq!(q.poll_timeout(5), Some(NOTIFY_TIMEOUT));
        assert_eq!(q.next_action(NOTIFY_TIMEOUT), Some(NotifyAction::Kill(10)));
        assert_eq!(q.poll_timeout(NOTIFY_TIMEOUT), None);
        assert!(q.exited(10));
        assert_eq!(
            q.next_action(NOTIFY_TIMEOUT + 1),
            Some(NotifyAction::Start(argv("next")))
        );
    }

    #[test]
    fn a_failed_start_frees_the_queue() {
        let mut q = NotifyQueue::default();
        q.push(argv("missing"));
        q.next_action(0);
        q.started(None);
        assert!(q.is_idle());
    }
}
