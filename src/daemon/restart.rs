//! `keepvip restart` (and SIGQUIT): a restart or upgrade that moves no VIP.
//!
//! The running image writes what it knows (`vrrp::restart_state`) to a
//! private file in its runtime directory and executes the binary on disk
//! in its place: the same pid, the same script children, blocked signals
//! still pending. Sockets are not handed over: every descriptor is
//! close-on-exec and the new image opens its own, which costs a few
//! milliseconds. The new image takes the file (deleting it at once), and
//! if it can trust it, each instance goes on in the state it had, with
//! its timers: no address removed or added, no priority 0, no
//! announcement, no notify. If the new image never comes up, its adverts
//! stop and the backups take over after master_down, as after a crash.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use log::{error, info, warn};

use super::status_socket::RESTART_ACCEPTED;
use super::{Daemon, RunningInstance};
use crate::config::Command;
use crate::sys::reexec;
use crate::sys::replace_file::replace_file_with_mode;
use crate::tracking::notify_queue::NotifyQueue;
use crate::vrrp::instance::State;
use crate::vrrp::restart_state::{
    NotifyOwner, RestartState, SavedGroup, SavedInstance, SavedNotify, SavedScript,
};
use crate::vrrp::timers::{Micros, Timers};

/// Names the state file for the new image; the new image removes it from
/// its environment, so no script ever sees it.
pub const STATE_FILE_ENV: &str = "KEEPVIP_RESTART_STATE";
/// Tells the new image which restart it is (the state's write time), so
/// that `keepvip restart` can tell it from the old image that could not
/// execute it.
pub const TOKEN_ENV: &str = "KEEPVIP_RESTART_TOKEN";
/// The state file's name, in the status socket's directory.
pub const STATE_FILE_NAME: &str = "keepvip.restart-state";

/// How close a master's next advert may be for a restart to wait until it
/// is out.
const RESTART_SLACK: Micros = 100_000;

/// A restart asked for, waiting for a master's advert due very soon.
pub(super) struct PendingRestart {
    /// Who asked over the status socket (None: SIGQUIT).
    client: Option<mio::Token>,
    at: Micros,
}

/// A restart ready to happen.
pub(super) struct Prepared {
    executable: PathBuf,
    state_file: PathBuf,
    /// The state's write time: names this restart.
    token: u64,
}

/// What a restart needs to know of how we were started.
#[derive(Debug, Clone, Default)]
pub struct Reexec {
    /// The binary to execute: resolved at start (see
    /// `sys::reexec::own_executable`).
    pub executable: Option<PathBuf>,
    /// Our argv, argv[0] included, given again as it was.
    pub args: Vec<OsString>,
    /// Where the state file goes; None: restarts are refused.
    pub state_file: Option<PathBuf>,
    /// The restart that made this image (`TOKEN_ENV`), if one did.
    pub token: Option<u64>,
}

impl Daemon {
    /// Checks that a restart can happen and writes the state file; the
    /// reason it cannot, otherwise (the daemon then goes on as before).
    /// The config on disk is reloaded first, so that a changed instance is
    /// applied as a reload applies it and the new image, loading the same
    /// file, finds the digest it expects.
    pub(super) fn prepare_restart(&mut self) -> Result<Prepared, String> {
        let executable = self
            .reexec
            .executable
            .clone()
            .ok_or("the binary's path is not known")?;
        let state_file = self
            .reexec
            .state_file
            .clone()
            .ok_or("no runtime directory for the state file")?;
        reexec::executable(&executable)
            .map_err(|e| format!("cannot execute {}: {e}", executable.display()))?;
        // The reload's fifo lines (an instance it removed) go to the next
        // image's fifo scripts: ours are killed at the exec, unread.
        self.notify_fifos.hold();
        let written = self.reload_and_write_state(&state_file);
        if written.is_err() {
            self.notify_fifos.release();
        }
        let state = written?;
        Ok(Prepared {
            executable,
            state_file,
            token: state.written_us,
        })
    }

    /// The reload before a restart, and the state file after it.
    fn reload_and_write_state(&mut self, state_file: &Path) -> Result<RestartState, String> {
        // A config the new image would refuse, or load with another digest
        // than the state file's: it would start afresh, a failover.
        if !self.reload() {
            return Err(
                "the configuration on disk is not valid (see the reload lines above)".into(),
            );
        }
        let state = self.restart_state().map_err(|e| format!("boot id: {e}"))?;
        replace_file_with_mode(state_file, state.render().as_bytes(), 0o600)
            .map_err(|e| format!("{}: {e}", state_file.display()))?;
        Ok(state)
    }

    /// Executes the new image; returns only if that failed, having logged
    /// it and removed the state file: the daemon goes on as if nothing
    /// had happened.
    pub(super) fn execute_restart(&mut self, prepared: &Prepared) {
        let (executable, state_file) = (&prepared.executable, &prepared.state_file);
        let token = prepared.token.to_string();
        info!("Restarting: executing {}", executable.display());
        // The new image opens the notify fifos and starts their readers
        // again: these would be left running beside them. (Check scripts
        // and notify commands are left to finish: the new image adopts
        // them, see `resume_script`.)
        self.close_notify_fifos();
        let e = reexec::execute(
            executable,
            &self.reexec.args,
            &[
                (STATE_FILE_ENV, state_file.as_os_str()),
                (TOKEN_ENV, token.as_ref()),
            ],
        );
        error!(
            "restart: cannot execute {}: {e}; going on as before",
            executable.display()
        );
        let _ = std::fs::remove_file(state_file);
        // Reopens the fifos and starts their readers again, which get the
        // lines held for the new image.
        let _ = self.reload();
        self.notify_fifos.release();
    }

    /// `keepvip restart` (`client`) or SIGQUIT (None): the restart
    /// happens at once, or, if a master's advert is due very soon (within
    /// half its interval, at most 100 ms), right after that advert, so that
    /// the new image has most of an interval to come up in before the next
    /// one is due.
    pub(super) fn request_restart(&mut self, client: Option<mio::Token>) {
        info!(
            "Restart asked ({})",
            if client.is_some() {
                "keepvip restart"
            } else {
                "SIGQUIT"
            }
        );
        if self.restart_pending.is_some() {
            if let (Some(token), Some(status)) = (client, &mut self.status) {
                status.answer(
                    self.poll.registry(),
                    token,
                    "error: a restart is already under way\n",
                );
            }
            return;
        }
        let now = self.clock.now_us();
        let after_advert = self
            .instances
            .iter()
            .filter(|i| i.machine.state() == State::Master)
            .filter_map(|i| {
                let due = i.machine.snapshot().advert?;
                // A restart takes a few tens of milliseconds: an advert
                // further off than this is not in its way.
                let soon = (i.machine.timers().advert_interval / 2).min(RESTART_SLACK);
                (due.saturating_sub(now) < soon).then_some(due)
            })
            .max();
        self.restart_pending = Some(PendingRestart {
            client,
            at: after_advert.map_or(now, |due| due + 1),
        });
    }

    pub(super) fn restart_poll_timeout(&self) -> Option<Micros> {
        self.restart_pending.as_ref().map(|p| p.at)
    }

    /// After the loop's timers (and their adverts): a restart whose time
    /// has come.
    pub(super) fn run_due_restart(&mut self, now: Micros) {
        if self.restart_pending.as_ref().is_none_or(|p| p.at > now) {
            return;
        }
        let Some(pending) = self.restart_pending.take() else {
            return;
        };
        match pending.client {
            Some(token) => self.restart_for_client(token),
            None => match self.prepare_restart() {
                Ok(prepared) => self.execute_restart(&prepared),
                Err(why) => error!("restart refused: {why}; going on as before"),
            },
        }
    }

    /// `keepvip restart`: the client hears whether it happens before it
    /// does.
    fn restart_for_client(&mut self, token: mio::Token) {
        let prepared = self.prepare_restart();
        let answer = match &prepared {
            Ok(prepared) => format!("{RESTART_ACCEPTED} {}\n", prepared.token),
            Err(why) => format!("error: {why}\n"),
        };
        if let Some(status) = &mut self.status {
            status.answer(self.poll.registry(), token, &answer);
        }
        match prepared {
            Ok(prepared) => self.execute_restart(&prepared),
            Err(why) => error!("restart refused: {why}; going on as before"),
        }
    }

    fn restart_state(&self) -> std::io::Result<RestartState> {
        let clock = self.clock;
        let absolute = |t| clock.to_absolute(t);
        let instances = self
            .instances
            .iter()
            .filter(|i| {
                matches!(
                    i.machine.state(),
                    State::Master | State::Backup | State::Fault
                )
            })
            .map(|i| SavedInstance {
                name: i.config.name.clone(),
                snapshot: i.machine.snapshot().retimed(absolute),
                ah_sequence: i.ah.sequence,
            })
            .collect();
        let scripts = self
            .scripts
            .iter()
            .map(|s| {
                let (since, next) = s.schedule.timing();
                SavedScript {
                    name: s.config.name.clone(),
                    health: s.health.reading_to_save(),
                    running: s.pid.zip(since.map(absolute)),
                    next_run: absolute(next),
                }
            })
            .collect();
        let groups = self
            .groups
            .iter()
            .map(|g| SavedGroup {
                name: g.config.name.clone(),
                state: g.state,
            })
            .collect();
        // Notify commands queued and not started yet run in the next
        // image, still behind the ones running (its children too).
        let instance_queues = self
            .instances
            .iter()
            .map(|i| (NotifyOwner::Instance(i.config.name.clone()), &i.notify));
        let group_queues = self
            .groups
            .iter()
            .map(|g| (NotifyOwner::Group(g.config.name.clone()), &g.notify));
        let departed_queues = self
            .departed_notify
            .iter()
            .map(|d| (NotifyOwner::Departed(d.name.clone()), &d.notify));
        let notify = instance_queues
            .chain(group_queues)
            .chain(departed_queues)
            .map(|(owner, queue)| SavedNotify {
                owner,
                queue: queue.carry().retimed(absolute),
            })
            .filter(|n| !n.queue.is_empty())
            .collect();
        Ok(RestartState {
            boot_id: reexec::boot_id()?,
            config_digest: self.config_digest,
            written_us: absolute(self.clock.now_us()),
            rp_filter_all: self.rp_filter_all,
            instances,
            scripts,
            groups,
            notify,
            fifo_lines: self.notify_fifos.held_lines(),
            vmacs: self
                .instances
                .iter()
                .flat_map(|i| super::vmac::kept_vmacs(&i.config))
                .collect(),
        })
    }

    /// At start: the state file a restart left for us, deleted at once
    /// (whatever becomes of it, no later start finds it), used only if it
    /// is this boot's, for the config we loaded, and parses.
    pub(super) fn take_restart_state(&mut self, path: &Path, digest: u32) {
        let text = std::fs::read_to_string(path);
        if let Err(e) = std::fs::remove_file(path) {
            warn!("restart state {}: cannot remove it: {e}", path.display());
        }
        let state = text
            .map_err(|e| e.to_string())
            .and_then(|text| RestartState::parse(&text));
        let state = match state {
            Ok(state) => state,
            Err(why) => {
                warn!(
                    "restart state {} ignored: {why}; starting afresh",
                    path.display()
                );
                return;
            }
        };
        let boot_id = reexec::boot_id().unwrap_or_default();
        // What the previous image owes the system at stop is owed still,
        // trusted state or not: it left "all" lowered (same boot: the
        // sysctl is as it left it), and would find it at 0 now.
        if state.boot_id == boot_id {
            self.rp_filter_all = state.rp_filter_all;
        }
        let now = self.clock.to_absolute(self.clock.now_us());
        match state.trust(&boot_id, digest, now) {
            Ok(()) => self.resuming = Some(state),
            Err(why) => info!(
                "restart state {} ignored: {why}; starting afresh",
                path.display()
            ),
        }
    }

    /// A normal start: a state file no restart handed us is left over from
    /// one that never came up, and is never trusted, but for what its
    /// image owed the system at stop (as in `take_restart_state`).
    pub(super) fn remove_leftover_restart_state(&mut self) {
        if let Some(path) = &self.reexec.state_file {
            let left = std::fs::read_to_string(path)
                .map_err(|e| e.to_string())
                .and_then(|text| RestartState::parse(&text));
            if let Ok(left) = left {
                if reexec::boot_id().is_ok_and(|boot_id| boot_id == left.boot_id) {
                    self.rp_filter_all = left.rp_filter_all;
                }
            }
            if std::fs::remove_file(path).is_ok() {
                info!(
                    "removed {}, left by a restart that did not complete",
                    path.display()
                );
            }
        }
    }

    /// A new instance of this start: resumes the state the previous image
    /// saved for it, if any and recent enough. True when it did (its
    /// addresses and routes are then left as they are).
    pub(super) fn resume_instance(&mut self, running: &mut RunningInstance) -> bool {
        let Some(state) = &self.resuming else {
            return false;
        };
        let Some(saved) = state.instance(&running.config.name) else {
            return false;
        };
        let name = &running.config.name;
        let now = self.clock.now_us();
        let master_down = Timers::new(
            running.config.version,
            saved.snapshot.priority,
            saved.snapshot.master_interval_cs,
        )
        .master_down;
        if state.too_old_for(self.clock.to_absolute(now), master_down) {
            info!(
                "({name}) restart state ignored: older than master_down ({} ms); starting afresh",
                master_down / 1000
            );
            return false;
        }
        let clock = self.clock;
        let snapshot = saved.snapshot.retimed(|t| clock.from_absolute(t));
        if !running.machine.resume(now, &snapshot) {
            return false;
        }
        running.ah.sequence = saved.ah_sequence;
        self.resumed = true;
        info!("({name}) resumed in {} after restart", snapshot.state);
        true
    }

    /// A new check script of this start: its health and the run in
    /// progress, whose process (still our child) it adopts.
    pub(super) fn resume_script(&self, runtime: &mut super::scripts::ScriptRuntime) {
        let Some(state) = &self.resuming else {
            return;
        };
        let Some(saved) = state.scripts.iter().find(|s| s.name == runtime.config.name) else {
            return;
        };
        runtime.health.restore(saved.health);
        let relative = |t| self.clock.from_absolute(t);
        runtime.schedule.resume(
            saved.running.map(|(_, since)| relative(since)),
            relative(saved.next_run),
        );
        runtime.pid = saved.running.map(|(pid, _)| pid);
    }

    /// The notify queue of `owner` (new now) as the previous image left
    /// it; an empty one if none.
    pub(super) fn carried_notify(&self, owner: &NotifyOwner) -> NotifyQueue<Command> {
        let carried = self
            .resuming
            .as_ref()
            .and_then(|state| state.notify.iter().find(|n| n.owner == *owner));
        match carried {
            Some(n) => {
                let clock = self.clock;
                NotifyQueue::resume(n.queue.clone().retimed(|t| clock.from_absolute(t)))
            }
            None => NotifyQueue::default(),
        }
    }

    /// At start, after the instances and groups took their queues: those
    /// of instances and groups a reload had removed before the restart,
    /// and of any the config no longer has.
    pub(super) fn resume_departed_notify(&mut self) {
        let Some(state) = &self.resuming else {
            return;
        };
        let owners: Vec<NotifyOwner> = state.notify.iter().map(|n| n.owner.clone()).collect();
        for owner in owners {
            let name = match &owner {
                NotifyOwner::Instance(name)
                    if self.instances.iter().any(|i| i.config.name == *name) =>
                {
                    continue
                }
                NotifyOwner::Group(name) if self.groups.iter().any(|g| g.config.name == *name) => {
                    continue
                }
                NotifyOwner::Instance(name) | NotifyOwner::Departed(name) => name.clone(),
                NotifyOwner::Group(name) => format!("group {name}"),
            };
            let queue = self.carried_notify(&owner);
            self.keep_departed_notify(name, queue);
        }
    }

    /// At start, once the fifo scripts run: the lines the previous image
    /// held for them (`prepare_restart`).
    pub(super) fn resume_fifo_lines(&mut self) {
        let lines = self
            .resuming
            .as_ref()
            .map(|state| state.fifo_lines.clone())
            .unwrap_or_default();
        for line in &lines {
            self.write_fifo_line(line);
        }
    }

    /// The state a sync group had before the restart, if it is new now.
    pub(super) fn resumed_group_state(&self, name: &str) -> Option<State> {
        self.resuming
            .as_ref()?
            .groups
            .iter()
            .find(|g| g.name == name)
            .and_then(|g| g.state)
    }
}
