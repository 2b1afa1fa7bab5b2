//! `vrrp_track_process`: which processes match, and when their count
//! makes the check up or down (quorum, quorum_max, fork and terminate
//! delays). No /proc, no clock: the daemon feeds in what it read.

use crate::config::{ParamMatch, TrackProcessConfig};
use crate::vrrp::timers::Micros;

/// The kernel keeps 15 bytes of a process name (/proc/PID/comm).
const COMM_LEN: usize = 15;

/// What is known of one process.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcessInfo {
    /// /proc/PID/comm, without its newline.
    pub comm: String,
    /// /proc/PID/cmdline split at its NULs.
    pub cmdline: Vec<String>,
}

/// Whether `process` is one that `config` counts.
pub fn matches(config: &TrackProcessConfig, process: &ProcessInfo) -> bool {
    let by_name = config.params.is_empty()
        && !config.full_command
        && config.param_match == ParamMatch::Default;
    if by_name {
        let wanted = config.process.as_bytes();
        return process.comm.as_bytes() == &wanted[..wanted.len().min(COMM_LEN)];
    }
    let Some((program, args)) = process.cmdline.split_first() else {
        return false;
    };
    let program_matches = if config.full_command {
        *program == config.process
    } else {
        // The name as the kernel knows it, or the command as started.
        process.comm == config.process || *program == config.process
    };
    program_matches && params_match(config, args)
}

fn params_match(config: &TrackProcessConfig, args: &[String]) -> bool {
    let wanted = &config.params;
    match config.param_match {
        ParamMatch::Default if wanted.is_empty() => true,
        ParamMatch::Default | ParamMatch::Exact => args == wanted.as_slice(),
        ParamMatch::Partial => args.len() >= wanted.len() && args[..wanted.len()] == wanted[..],
        ParamMatch::Initial => {
            let Some((last, first)) = wanted.split_last() else {
                return true;
            };
            args.len() == wanted.len()
                && args[..first.len()] == first[..]
                && args[first.len()].starts_with(last.as_str())
        }
    }
}

/// Up or down from the number of matching processes, with the fork and
/// terminate delays as debounce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quorum {
    min: u32,
    max: u32,
    fork_delay_us: u64,
    terminate_delay_us: u64,
    count: u32,
    up: bool,
    /// When the count crossed the quorum and the delay is running.
    pending_until: Option<Micros>,
}

impl Quorum {
    /// Starts from the first count (no delay: what runs at start is taken
    /// as it is).
    pub fn new(config: &TrackProcessConfig, count: u32) -> Quorum {
        let mut quorum = Quorum {
            min: config.quorum,
            max: config.quorum_max,
            fork_delay_us: config.fork_delay_us,
            terminate_delay_us: config.terminate_delay_us,
            count,
            up: false,
            pending_until: None,
        };
        quorum.up = quorum.in_range();
        quorum
    }

    pub fn is_up(&self) -> bool {
        self.up
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    fn in_range(&self) -> bool {
        (self.min..=self.max).contains(&self.count)
    }

    /// A new count; true when that made the check change at once.
    pub fn set_count(&mut self, now: Micros, count: u32) -> bool {
        self.count = count;
        if self.in_range() == self.up {
            self.pending_until = None;
            return false;
        }
        if self.pending_until.is_some() {
            return false;
        }
        let delay = if self.up {
            self.terminate_delay_us
        } else {
            self.fork_delay_us
        };
        if delay == 0 {
            self.up = !self.up;
            return true;
        }
        self.pending_until = Some(now + delay);
        false
    }

    pub fn poll_timeout(&self) -> Option<Micros> {
        self.pending_until
    }

    /// The delay ran out; true when the check changed.
    pub fn handle_timeout(&mut self, now: Micros) -> bool {
        match self.pending_until {
            Some(at) if at <= now => {
                self.pending_until = None;
                if self.in_range() != self.up {
                    self.up = !self.up;
                    return true;
                }
                false
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Span;

    fn config(process: &str, params: &[&str], param_match: ParamMatch) -> TrackProcessConfig {
        TrackProcessConfig {
            name: "p".into(),
            span: Span {
                file: std::rc::Rc::new("k.conf".into()),
                line: 1,
            },
            process: process.into(),
            params: params.iter().map(|p| p.to_string()).collect(),
            param_match,
            full_command: false,
            weight: 0,
            reverse: false,
            quorum: 1,
            quorum_max: u32::MAX,
            fork_delay_us: 0,
            terminate_delay_us: 0,
        }
    }

    fn info(comm: &str, cmdline: &[&str]) -> ProcessInfo {
        ProcessInfo {
            comm: comm.into(),
            cmdline: cmdline.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn a_name_is_matched_exactly_against_the_process_name() {
        let nginx = config("nginx", &[], ParamMatch::Default);
        assert!(matches(&nginx, &info("nginx", &["nginx: worker"])));
        assert!(!matches(&nginx, &info("nginx-debug", &[])));
        assert!(!matches(&nginx, &info("ngin", &[])));
        // The kernel keeps 15 bytes of the name.
        let long = config("a-very-long-daemon-name", &[], ParamMatch::Default);
        assert!(matches(&long, &info("a-very-long-dae", &[])));
    }

    #[test]
    fn parameters_exact_partial_and_initial() {
        let p = |m| config("/usr/sbin/haproxy", &["-f", "/etc/h"], m);
        let run = info("haproxy", &["/usr/sbin/haproxy", "-f", "/etc/h.cfg"]);
        let exact = info("haproxy", &["/usr/sbin/haproxy", "-f", "/etc/h"]);
        let more = info("haproxy", &["/usr/sbin/haproxy", "-f", "/etc/h", "-D"]);
        assert!(matches(&p(ParamMatch::Default), &exact));
        assert!(!matches(&p(ParamMatch::Default), &run));
        assert!(matches(&p(ParamMatch::Partial), &more));
        assert!(!matches(&p(ParamMatch::Partial), &run));
        assert!(matches(&p(ParamMatch::Initial), &run));
        assert!(!matches(&p(ParamMatch::Initial), &more));
        let none = config("sleep", &[], ParamMatch::Exact);
        assert!(matches(&none, &info("sleep", &["sleep"])));
        assert!(!matches(&none, &info("sleep", &["sleep", "5"])));
    }

    #[test]
    fn quorum_and_quorum_max_bound_the_count() {
        let mut c = config("x", &[], ParamMatch::Default);
        c.quorum = 2;
        c.quorum_max = 3;
        let mut q = Quorum::new(&c, 1);
        assert!(!q.is_up());
        assert!(q.set_count(0, 2));
        assert!(!q.set_count(0, 3));
        assert!(q.set_count(0, 4));
        assert!(!q.is_up());
    }

    #[test]
    fn delays_hold_a_change_back_and_a_return_cancels_it() {
        let mut c = config("x", &[], ParamMatch::Default);
        c.fork_delay_us = 500;
        c.terminate_delay_us = 1000;
        let mut q = Quorum::new(&c, 1);
        assert!(q.is_up());
        assert!(!q.set_count(10, 0));
        assert_eq!(q.poll_timeout(), Some(1010));
        // Restarted before the delay ran out: no change at all.
        assert!(!q.set_count(500, 1));
        assert_eq!(q.poll_timeout(), None);
        assert!(!q.set_count(600, 0));
        assert!(!q.handle_timeout(1599));
        assert!(q.handle_timeout(1600));
        assert!(!q.is_up());
        assert!(!q.set_count(2000, 1));
        assert!(q.handle_timeout(2500));
        assert!(q.is_up());
    }
}
