//! Notify commands of one instance (or sync group), in the order the
//! transitions happened (a script that records transitions sees them in
//! order), each killed if it overstays.
//!
//! Order must not cost lateness: keepalived starts every notify at once, so
//! its users expect the latest state to reach their script promptly. A
//! command waits behind a running one for at most [`NOTIFY_MAX_WAIT`]; then
//! the running ones are set aside (they go on, and are still killed at
//! their timeout), the transitions a later one superseded are skipped, and
//! the latest transition's commands start. Skipping rather than starting
//! every queued transition beside the slow one keeps a flapping instance
//! from piling up processes and from running stale transitions that could
//! finish after, and undo, the latest one.

use std::collections::VecDeque;

use crate::vrrp::timers::{Micros, MICROS_PER_SECOND};

/// A notify command that has not ended by then is killed (its group).
pub const NOTIFY_TIMEOUT: Micros = 30 * MICROS_PER_SECOND;
/// The longest a command waits for the one before it to end.
pub const NOTIFY_MAX_WAIT: Micros = 2 * MICROS_PER_SECOND;

/// `T` is the command to run (the daemon's `config::Command`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyAction<T> {
    Start(T),
    /// Kill the process group of this pid.
    Kill(u32),
    /// This many queued commands of superseded transitions were dropped
    /// unrun, because one that ran too long held them up.
    Skipped(usize),
}

#[derive(Debug)]
struct Waiting<T> {
    /// Which transition queued it: commands of one transition share it.
    transition: u64,
    /// When it stops waiting for the running ones (`NOTIFY_MAX_WAIT`
    /// after it was queued): kept as that, not as when it was queued, so
    /// that a restart's next image, whose clock begins after, keeps it.
    give_up_at: Micros,
    command: T,
}

#[derive(Debug, Clone, Copy)]
struct Running {
    pid: Option<u32>,
    deadline: Micros,
    killed: bool,
    /// Overstayed its turn: no longer holds up the queue.
    set_aside: bool,
}

/// What a hitless restart carries of a queue (`vrrp::restart_state`): the
/// commands not started yet and the ones running (still our children after
/// the exec), so that each command runs once, in order, and an overstaying
/// one is still killed. Times are on the clock of whoever holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarriedQueue<T> {
    pub waiting: Vec<CarriedCommand<T>>,
    pub running: Vec<CarriedRun>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarriedCommand<T> {
    /// Which transition queued it: commands of one transition share it.
    pub transition: u64,
    /// When it stops waiting for the running ones.
    pub give_up_at: Micros,
    pub command: T,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CarriedRun {
    pub pid: u32,
    /// When it is killed.
    pub deadline: Micros,
    /// Overstayed its turn: no longer holds up the queue.
    pub set_aside: bool,
}

impl<T> CarriedQueue<T> {
    /// The same queue on another clock: `to` maps each time.
    pub fn retimed(self, to: impl Fn(Micros) -> Micros) -> CarriedQueue<T> {
        CarriedQueue {
            waiting: self
                .waiting
                .into_iter()
                .map(|w| CarriedCommand {
                    give_up_at: to(w.give_up_at),
                    ..w
                })
                .collect(),
            running: self
                .running
                .into_iter()
                .map(|r| CarriedRun {
                    deadline: to(r.deadline),
                    ..r
                })
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty() && self.running.is_empty()
    }
}

#[derive(Debug)]
pub struct NotifyQueue<T> {
    waiting: VecDeque<Waiting<T>>,
    running: Vec<Running>,
    transitions: u64,
}

impl<T> Default for NotifyQueue<T> {
    fn default() -> Self {
        NotifyQueue {
            waiting: VecDeque::new(),
            running: Vec::new(),
            transitions: 0,
        }
    }
}

impl<T> NotifyQueue<T> {
    /// Queues the commands of one transition, to run in the given order.
    pub fn push_transition(&mut self, now: Micros, commands: impl IntoIterator<Item = T>) {
        self.transitions += 1;
        let transition = self.transitions;
        self.waiting
            .extend(commands.into_iter().map(|command| Waiting {
                transition,
                give_up_at: now + NOTIFY_MAX_WAIT,
                command,
            }));
    }

    pub fn is_idle(&self) -> bool {
        self.running.is_empty() && self.waiting.is_empty()
    }

    /// Whether a running command holds up the next one.
    fn blocked(&self) -> bool {
        self.running.iter().any(|r| !r.set_aside)
    }

    /// When `next_action` has something to do.
    pub fn poll_timeout(&self, now: Micros) -> Option<Micros> {
        let kill = self
            .running
            .iter()
            .filter(|r| !r.killed)
            .map(|r| r.deadline)
            .min();
        let start = self
            .waiting
            .front()
            .map(|w| if self.blocked() { w.give_up_at } else { now });
        kill.into_iter().chain(start).min()
    }

    /// The next thing to do at `now`; follow a `Start` with `started`.
    pub fn next_action(&mut self, now: Micros) -> Option<NotifyAction<T>> {
        for r in &mut self.running {
            if !r.killed && now >= r.deadline {
                r.killed = true;
                if let Some(pid) = r.pid {
                    return Some(NotifyAction::Kill(pid));
                }
            }
        }
        let head = self.waiting.front()?;
        if self.blocked() {
            if now < head.give_up_at {
                return None;
            }
            for r in &mut self.running {
                r.set_aside = true;
            }
            let latest = self.waiting.back().map_or(0, |w| w.transition);
            let before = self.waiting.len();
            self.waiting.retain(|w| w.transition == latest);
            let skipped = before - self.waiting.len();
            if skipped > 0 {
                return Some(NotifyAction::Skipped(skipped));
            }
        }
        let next = self.waiting.pop_front()?;
        self.running.push(Running {
            pid: None,
            deadline: now + NOTIFY_TIMEOUT,
            killed: false,
            set_aside: false,
        });
        Some(NotifyAction::Start(next.command))
    }

    /// The last `Start` gave this pid, or could not start (None).
    pub fn started(&mut self, pid: Option<u32>) {
        match pid {
            Some(pid) => {
                if let Some(r) = self.running.last_mut() {
                    r.pid = Some(pid);
                }
            }
            None => {
                self.running.pop();
            }
        }
    }

    /// A child ended; true if it was ours (then the next may start).
    pub fn exited(&mut self, pid: u32) -> bool {
        let before = self.running.len();
        self.running.retain(|r| r.pid != Some(pid));
        self.running.len() != before
    }

    /// Whether this child is one of ours.
    pub fn owns(&self, pid: u32) -> bool {
        self.running.iter().any(|r| r.pid == Some(pid))
    }

    /// What a restart carries of it. A command already killed is left
    /// out: it is dying, and holds nothing up any more.
    pub fn carry(&self) -> CarriedQueue<T>
    where
        T: Clone,
    {
        CarriedQueue {
            waiting: self
                .waiting
                .iter()
                .map(|w| CarriedCommand {
                    transition: w.transition,
                    give_up_at: w.give_up_at,
                    command: w.command.clone(),
                })
                .collect(),
            running: self
                .running
                .iter()
                .filter(|r| !r.killed)
                .filter_map(|r| {
                    Some(CarriedRun {
                        pid: r.pid?,
                        deadline: r.deadline,
                        set_aside: r.set_aside,
                    })
                })
                .collect(),
        }
    }

    /// The queue a restart carried, taken up by the next image.
    pub fn resume(carried: CarriedQueue<T>) -> NotifyQueue<T> {
        NotifyQueue {
            transitions: carried
                .waiting
                .iter()
                .map(|w| w.transition)
                .max()
                .unwrap_or(0),
            waiting: carried
                .waiting
                .into_iter()
                .map(|w| Waiting {
                    transition: w.transition,
                    give_up_at: w.give_up_at,
                    command: w.command,
                })
                .collect(),
            running: carried
                .running
                .into_iter()
                .map(|r| Running {
                    pid: Some(r.pid),
                    deadline: r.deadline,
                    killed: false,
                    set_aside: r.set_aside,
                })
                .collect(),
        }
    }

    /// Forgets the running commands (they go on by themselves), so the
    /// queued ones may start: for a daemon on its way out.
    pub fn abandon_running(&mut self) {
        self.running.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        vec![s.to_string()]
    }

    const SECOND: Micros = MICROS_PER_SECOND;

    #[test]
    fn runs_in_order_one_at_a_time() {
        let mut q = NotifyQueue::default();
        q.push_transition(0, [argv("backup")]);
        q.push_transition(0, [argv("master")]);
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
    fn quick_commands_see_every_transition_in_order() {
        let mut q = NotifyQueue::default();
        // A flap of five transitions 0.1 s apart, each notify taking 0.3 s:
        // the last one waits 0.8 s, less than NOTIFY_MAX_WAIT, so none is
        // skipped.
        let states = ["backup", "master", "backup", "master", "backup"];
        for (i, state) in states.iter().enumerate() {
            q.push_transition(i as Micros * SECOND / 10, [argv(state)]);
        }
        let mut now = 0;
        let mut ran = Vec::new();
        for pid in 10.. {
            match q.next_action(now) {
                Some(NotifyAction::Start(command)) => ran.push(command[0].clone()),
                None if q.is_idle() => break,
                other => panic!("{other:?}"),
            }
            q.started(Some(pid));
            assert_eq!(q.next_action(now + SECOND / 10), None);
            now += 3 * SECOND / 10;
            assert!(q.exited(pid));
        }
        assert_eq!(ran, states);
    }

    #[test]
    fn a_slow_command_holds_the_latest_transition_back_at_most_max_wait() {
        let mut q = NotifyQueue::default();
        q.push_transition(0, [argv("master"), argv("notify MASTER")]);
        assert_eq!(q.next_action(0), Some(NotifyAction::Start(argv("master"))));
        q.started(Some(10));
        // It sleeps; the instance flaps meanwhile.
        q.push_transition(SECOND, [argv("backup"), argv("notify BACKUP")]);
        q.push_transition(3 * SECOND / 2, [argv("master"), argv("notify MASTER")]);
        q.push_transition(2 * SECOND, [argv("backup"), argv("notify BACKUP")]);
        // The oldest waiting command was queued at 0 s.
        assert_eq!(q.poll_timeout(SECOND), Some(NOTIFY_MAX_WAIT));
        assert_eq!(q.next_action(NOTIFY_MAX_WAIT - 1), None);
        let now = NOTIFY_MAX_WAIT;
        // "notify MASTER" of the first transition and the two transitions
        // superseded by the last.
        assert_eq!(q.next_action(now), Some(NotifyAction::Skipped(5)));
        assert_eq!(
            q.next_action(now),
            Some(NotifyAction::Start(argv("backup")))
        );
        q.started(Some(11));
        // The latest transition's commands keep their order between them.
        assert_eq!(q.next_action(now + 1), None);
        assert!(q.exited(11));
        assert_eq!(
            q.next_action(now + 2),
            Some(NotifyAction::Start(argv("notify BACKUP")))
        );
        q.started(Some(12));
        // The slow one is still ours, and still killed at its timeout.
        assert!(q.owns(10));
        assert_eq!(q.poll_timeout(now + 3), Some(NOTIFY_TIMEOUT));
        assert_eq!(q.next_action(NOTIFY_TIMEOUT), Some(NotifyAction::Kill(10)));
        assert!(q.exited(10));
        assert!(q.exited(12));
        assert!(q.is_idle());
    }

    #[test]
    fn the_latest_transition_is_never_skipped() {
        let mut q = NotifyQueue::default();
        q.push_transition(0, [argv("master")]);
        q.next_action(0);
        q.started(Some(10));
        q.push_transition(SECOND, [argv("backup")]);
        // Nothing superseded: it just stops waiting.
        assert_eq!(
            q.next_action(SECOND + NOTIFY_MAX_WAIT),
            Some(NotifyAction::Start(argv("backup")))
        );
    }

    #[test]
    fn a_hung_notify_is_killed_at_its_timeout() {
        let mut q = NotifyQueue::default();
        q.push_transition(0, [argv("hang")]);
        q.next_action(0);
        q.started(Some(10));
        assert_eq!(q.poll_timeout(5), Some(NOTIFY_TIMEOUT));
        assert_eq!(q.next_action(NOTIFY_TIMEOUT), Some(NotifyAction::Kill(10)));
        assert_eq!(q.poll_timeout(NOTIFY_TIMEOUT), None);
        assert!(q.exited(10));
        assert!(q.is_idle());
    }

    /// Every command a restart carries was queued before the next image's
    /// clock began, whose times cannot be earlier than its zero (see
    /// `sys::clock::MonotonicClock::from_absolute`): its wait still ends
    /// NOTIFY_MAX_WAIT after it was queued, not after the restart.
    #[test]
    fn a_carried_command_waits_no_longer_because_of_the_restart() {
        let mut q = NotifyQueue::default();
        q.push_transition(0, [argv("master")]);
        q.next_action(0);
        q.started(Some(10));
        q.push_transition(SECOND, [argv("backup")]);
        // The next image's clock starts 2.5 s into this one's.
        let restart_at = 2 * SECOND + SECOND / 2;
        let carried = q.carry().retimed(|t| t.saturating_sub(restart_at));
        let mut q = NotifyQueue::resume(carried);
        let wait_over = SECOND + NOTIFY_MAX_WAIT - restart_at;
        assert_eq!(q.poll_timeout(0), Some(wait_over));
        assert_eq!(
            q.next_action(wait_over),
            Some(NotifyAction::Start(argv("backup")))
        );
    }

    /// A restart between a slow command's start and the end of its turn:
    /// what the next image takes (on its own clock, 100 s later here) runs
    /// the waiting commands once each, in order, still behind the running
    /// one, which is still killed at its timeout.
    #[test]
    fn a_carried_queue_runs_what_was_waiting_once_in_order() {
        let mut q = NotifyQueue::default();
        q.push_transition(0, [argv("master")]);
        assert_eq!(q.next_action(0), Some(NotifyAction::Start(argv("master"))));
        q.started(Some(10));
        q.push_transition(SECOND, [argv("backup"), argv("notify BACKUP")]);
        let carried = q.carry().retimed(|t| t + 100 * SECOND);
        assert_eq!(
            carried.running,
            [CarriedRun {
                pid: 10,
                deadline: 100 * SECOND + NOTIFY_TIMEOUT,
                set_aside: false
            }]
        );
        assert_eq!(carried.waiting.len(), 2);

        let mut q = NotifyQueue::resume(carried);
        let now = 100 * SECOND + SECOND + SECOND / 2;
        assert!(q.owns(10));
        assert_eq!(q.next_action(now), None, "still behind the running one");
        assert!(q.exited(10));
        assert_eq!(
            q.next_action(now),
            Some(NotifyAction::Start(argv("backup")))
        );
        q.started(Some(11));
        assert!(q.exited(11));
        assert_eq!(
            q.next_action(now),
            Some(NotifyAction::Start(argv("notify BACKUP")))
        );
        q.started(Some(12));
        assert!(q.exited(12));
        assert_eq!(q.next_action(now), None);
        assert!(q.is_idle());

        // Waiting too long behind it, across the restart: the superseded
        // transitions are still skipped, the latest still runs.
        let mut q = NotifyQueue::default();
        q.push_transition(0, [argv("master")]);
        q.next_action(0);
        q.started(Some(10));
        q.push_transition(SECOND, [argv("backup")]);
        q.push_transition(SECOND, [argv("master")]);
        let mut q = NotifyQueue::resume(q.carry());
        assert_eq!(q.poll_timeout(SECOND), Some(SECOND + NOTIFY_MAX_WAIT));
        assert_eq!(
            q.next_action(SECOND + NOTIFY_MAX_WAIT),
            Some(NotifyAction::Skipped(1))
        );
        assert_eq!(
            q.next_action(SECOND + NOTIFY_MAX_WAIT),
            Some(NotifyAction::Start(argv("master")))
        );
        q.started(Some(11));
        assert!(q.owns(10), "set aside, still killed at its timeout");
    }

    #[test]
    fn a_failed_start_frees_the_queue() {
        let mut q = NotifyQueue::default();
        q.push_transition(0, [argv("missing")]);
        q.next_action(0);
        q.started(None);
        assert!(q.is_idle());
    }
}
