//! `startup_script`, `vrrp_startup_delay` and `shutdown_script`, as
//! keepalived 2.2.7 runs them (watched): the startup script runs before any
//! instance starts and is waited for up to its timeout, then the startup
//! delay passes, then the instances start; the shutdown script runs after
//! every instance stopped and is waited for up to its timeout. Waiting at
//! start is a phase of the loop (signals are still served); at exit the
//! loop is over, so the wait is a plain one.

use std::time::{Duration, Instant};

use log::{info, warn};

use super::scripts::start_command;
use super::tracking::describe;
use super::Daemon;
use crate::config::{Command, StartupConfig};
use crate::sys::process::{self, ExitKind};
use crate::vrrp::timers::{Micros, MICROS_PER_SECOND};

#[derive(Default)]
pub(super) struct Startup {
    config: StartupConfig,
    phase: Phase,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// `run` has not begun.
    #[default]
    NotYet,
    Script {
        pid: u32,
        deadline: Micros,
    },
    Delay {
        until: Micros,
    },
    Done,
}

impl Startup {
    pub fn set_config(&mut self, config: &StartupConfig) {
        self.config = config.clone();
    }

    /// Instances may start (and be started by a reload) only once done.
    pub fn done(&self) -> bool {
        self.phase == Phase::Done
    }

    pub fn poll_timeout(&self) -> Option<Micros> {
        match self.phase {
            Phase::Script { deadline, .. } => Some(deadline),
            Phase::Delay { until } => Some(until),
            _ => None,
        }
    }
}

fn program(command: &Command) -> &str {
    command.argv.first().map_or("", String::as_str)
}

impl Daemon {
    /// The start of `run`: the startup script, else the delay, else the
    /// instances at once.
    pub(super) fn begin_startup(&mut self) {
        let now = self.clock.now_us();
        if self.resumed {
            // A restart continues the daemon that ran them already.
            self.startup.phase = Phase::Done;
            self.start_new_instances();
            return;
        }
        if let Some(command) = self.startup.config.startup_script.clone() {
            info!("Running startup script {}", program(&command));
            let run_as = command.run_as.as_ref().or(self.script_user.as_ref());
            match start_command(&command, run_as, self.script_security) {
                Ok(pid) => {
                    let timeout = u64::from(self.startup.config.startup_timeout_s);
                    self.startup.phase = Phase::Script {
                        pid,
                        deadline: now + timeout * MICROS_PER_SECOND,
                    };
                    return;
                }
                Err(why) => warn!("startup script cannot run: {why}"),
            }
        }
        self.after_startup_script(now);
    }

    fn after_startup_script(&mut self, now: Micros) {
        let delay = self.startup.config.vrrp_startup_delay_us;
        if delay > 0 {
            info!(
                "Delaying startup for {} seconds",
                Duration::from_micros(delay).as_secs_f64()
            );
            self.startup.phase = Phase::Delay { until: now + delay };
            return;
        }
        self.startup.phase = Phase::Done;
        self.start_new_instances();
    }

    /// A child ended: true if it was the startup script.
    pub(super) fn startup_script_ended(&mut self, pid: u32, how: ExitKind) -> bool {
        if !matches!(self.startup.phase, Phase::Script { pid: p, .. } if p == pid) {
            return false;
        }
        if how.success() {
            info!("startup script succeeded");
        } else {
            warn!("startup script failed ({})", describe(how));
        }
        let _ = process::signal_group(pid, libc::SIGKILL);
        let now = self.clock.now_us();
        self.after_startup_script(now);
        true
    }

    pub(super) fn run_due_startup(&mut self, now: Micros) {
        match self.startup.phase {
            Phase::Script { pid, deadline } if deadline <= now => {
                warn!("startup script timed out");
                let _ = process::signal_group(pid, libc::SIGKILL);
                self.after_startup_script(now);
            }
            Phase::Delay { until } if until <= now => {
                self.startup.phase = Phase::Done;
                self.start_new_instances();
            }
            _ => {}
        }
    }

    /// After every instance stopped: the shutdown script, waited for up
    /// to its timeout, then killed.
    pub(super) fn run_shutdown_script(&mut self) {
        // A startup script still running when we are told to stop.
        if let Phase::Script { pid, .. } = self.startup.phase {
            let _ = process::signal_group(pid, libc::SIGKILL);
        }
        let Some(command) = self.startup.config.shutdown_script.clone() else {
            return;
        };
        info!("Running shutdown script {}", program(&command));
        let run_as = command.run_as.as_ref().or(self.script_user.as_ref());
        let pid = match start_command(&command, run_as, self.script_security) {
            Ok(pid) => pid,
            Err(why) => {
                warn!("shutdown script cannot run: {why}");
                return;
            }
        };
        let deadline =
            Instant::now() + Duration::from_secs(self.startup.config.shutdown_timeout_s.into());
        while Instant::now() < deadline {
            if let Some((_, how)) = process::reap().into_iter().find(|(p, _)| *p == pid) {
                if how.success() {
                    info!("shutdown script succeeded");
                } else {
                    warn!("shutdown script failed ({})", describe(how));
                }
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        warn!("shutdown script timed out");
        let _ = process::signal_group(pid, libc::SIGKILL);
    }
}
