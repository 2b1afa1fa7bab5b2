//! Notify commands of instances and sync groups: queued on each transition,
//! run one at a time per owner in transition order, never waited for in the
//! loop, killed when they overstay.

use log::warn;

use super::scripts::{signal_group_counted, start_command};
use super::tracking::describe;
use super::{Daemon, DepartedNotify};
use crate::config::{Command, NotifyCommands};
use crate::sys::process::{self, ExitKind};
use crate::tracking::notify_queue::{NotifyAction, NotifyQueue, NOTIFY_MAX_WAIT};
use crate::vrrp::instance::State;
use crate::vrrp::timers::{Micros, MICROS_PER_SECOND};

/// How long a stopping daemon waits for its last notify commands.
const NOTIFY_GRACE_ON_EXIT: Micros = MICROS_PER_SECOND;

/// Whose notify queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Notifier {
    Instance(usize),
    Group(usize),
    /// Of an instance or group a reload removed.
    Departed(usize),
}

/// The command for a transition to `to`: the specific `notify_*` one, then
/// the generic `notify` with keepalived's arguments appended.
fn commands_for(notify: &NotifyCommands, to: State, generic_args: Vec<String>) -> Vec<Command> {
    let specific = match to {
        State::Master => &notify.master,
        State::Backup => &notify.backup,
        State::Fault => &notify.fault,
        State::Stopped => &notify.stop,
        State::Initialize => return Vec::new(),
    };
    let mut commands: Vec<Command> = specific.iter().cloned().collect();
    commands.extend(generic_command(notify, generic_args));
    commands
}

/// The generic `notify` command with keepalived's arguments appended.
fn generic_command(notify: &NotifyCommands, generic_args: Vec<String>) -> Option<Command> {
    let mut command = notify.any.clone()?;
    command.argv.extend(generic_args);
    Some(command)
}

impl Daemon {
    fn queue(&mut self, who: Notifier) -> &mut NotifyQueue<Command> {
        match who {
            Notifier::Instance(i) => &mut self.instances[i].notify,
            Notifier::Group(g) => &mut self.groups[g].notify,
            Notifier::Departed(d) => &mut self.departed_notify[d].notify,
        }
    }

    fn notifier_name(&self, who: Notifier) -> String {
        match who {
            Notifier::Instance(i) => self.instances[i].config.name.clone(),
            Notifier::Group(g) => format!("group {}", self.groups[g].config.name),
            Notifier::Departed(d) => self.departed_notify[d].name.clone(),
        }
    }

    fn notifiers(&self) -> impl Iterator<Item = Notifier> {
        let instances = (0..self.instances.len()).map(Notifier::Instance);
        let departed = (0..self.departed_notify.len()).map(Notifier::Departed);
        instances
            .chain((0..self.groups.len()).map(Notifier::Group))
            .chain(departed)
    }

    /// A reload removed an instance or group: its queue goes on running
    /// what it holds (a command queued behind a slow one would be lost
    /// otherwise).
    pub(super) fn keep_departed_notify(&mut self, name: String, notify: NotifyQueue<Command>) {
        if !notify.is_idle() {
            self.departed_notify.push(DepartedNotify { name, notify });
        }
    }

    /// Queues an instance's notify commands for its transition to `to`.
    pub(super) fn queue_notify(&mut self, index: usize, to: State) {
        let instance = &self.instances[index];
        let commands = commands_for(&instance.config.notify, to, self.instance_args(index, to));
        self.push_and_run(Notifier::Instance(index), commands);
    }

    /// keepalived's convention for the generic command: INSTANCE name
    /// state priority.
    fn instance_args(&self, index: usize, state: State) -> Vec<String> {
        let instance = &self.instances[index];
        vec![
            "INSTANCE".to_string(),
            instance.config.name.clone(),
            state.to_string(),
            instance.machine.priority().to_string(),
        ]
    }

    /// An instance a reload removed: keepalived 2.2.7 runs only the generic
    /// `notify`, with state FAULT, and none of `notify_stop`,
    /// `notify_backup` or `notify_fault`.
    pub(super) fn queue_removed_notify(&mut self, index: usize) {
        let args = self.instance_args(index, State::Fault);
        let commands = generic_command(&self.instances[index].config.notify, args);
        self.push_and_run(Notifier::Instance(index), commands.into_iter().collect());
    }

    /// A master heard a lower-priority master: `notify_master_rx_lower_pri`
    /// (queued behind the transitions' commands, keeping their order) and
    /// the fifo line.
    pub(super) fn notify_rx_lower_priority(&mut self, index: usize) {
        let instance = &self.instances[index];
        let line = crate::tracking::notify_fifo::rx_lower_priority_line(
            &instance.config.name,
            instance.machine.priority(),
        );
        let commands: Vec<Command> = instance
            .config
            .notify
            .master_rx_lower_pri
            .iter()
            .cloned()
            .collect();
        self.write_fifo_line(&line);
        if !commands.is_empty() {
            self.push_and_run(Notifier::Instance(index), commands);
        }
    }

    /// Queues a sync group's notify commands (`notify` gets GROUP name state).
    pub(super) fn queue_group_notify(&mut self, group: usize, to: State) {
        let config = &self.groups[group].config;
        let args = vec!["GROUP".to_string(), config.name.clone(), to.to_string()];
        let commands = commands_for(&config.notify, to, args);
        self.push_and_run(Notifier::Group(group), commands);
    }

    fn push_and_run(&mut self, who: Notifier, commands: Vec<Command>) {
        let now = self.clock.now_us();
        self.queue(who).push_transition(now, commands);
        self.run_notify_queue(who, now);
    }

    /// Every queue's due work: starts and kills.
    pub(super) fn run_notify_queues(&mut self, now: Micros) {
        for who in self.notifiers().collect::<Vec<_>>() {
            self.run_notify_queue(who, now);
        }
    }

    pub(super) fn notify_poll_timeout(&self, now: Micros) -> Option<Micros> {
        let instances = self.instances.iter().map(|i| &i.notify);
        let groups = self.groups.iter().map(|g| &g.notify);
        let departed = self.departed_notify.iter().map(|d| &d.notify);
        instances
            .chain(groups)
            .chain(departed)
            .filter_map(|q| q.poll_timeout(now))
            .min()
    }

    /// Starts the next commands of a queue, kills one that overstayed, and
    /// skips what a slow one held up too long.
    fn run_notify_queue(&mut self, who: Notifier, now: Micros) {
        while let Some(action) = self.queue(who).next_action(now) {
            match action {
                NotifyAction::Start(command) => {
                    self.counters.notify_runs += 1;
                    // Its own `USER [GROUP]`, else the global script_user.
                    let run_as = command.run_as.as_ref().or(self.script_user.as_ref());
                    match start_command(&command, run_as, self.script_security) {
                        Ok(pid) => self.queue(who).started(Some(pid)),
                        Err(why) => {
                            self.counters.notify_failures += 1;
                            warn!(
                                "({}) notify command not run: {why}",
                                self.notifier_name(who)
                            );
                            self.queue(who).started(None);
                        }
                    }
                }
                NotifyAction::Kill(pid) => {
                    self.counters.notify_failures += 1;
                    warn!(
                        "({}) notify command still running after 30 s: killed",
                        self.notifier_name(who)
                    );
                    let who = format!("({}) notify command", self.notifier_name(who));
                    signal_group_counted(&mut self.counters, pid, libc::SIGKILL, &who);
                }
                NotifyAction::Skipped(count) => {
                    warn!(
                        "({}) a notify command still running after {} s: {count} queued notify \
                         command(s) of superseded transitions skipped, the latest state's started",
                        self.notifier_name(who),
                        NOTIFY_MAX_WAIT / MICROS_PER_SECOND
                    );
                }
            }
        }
    }

    /// A reaped child that was not a check script: a notify command.
    pub(super) fn notify_command_ended(&mut self, pid: u32, how: ExitKind, now: Micros) {
        let Some(who) = self.notifiers().find(|w| self.queue_ref(*w).owns(pid)) else {
            return;
        };
        if !how.success() {
            self.counters.notify_failures += 1;
            warn!(
                "({}) notify command ended with {}",
                self.notifier_name(who),
                describe(how)
            );
        }
        self.queue(who).exited(pid);
        self.run_notify_queue(who, now);
        // Departed queues are indexed only within one call: dropping the
        // idle ones here shifts nothing anyone holds.
        self.departed_notify.retain(|d| !d.notify.is_idle());
    }

    /// On the way out, the last commands run in order for at most a second
    /// in all; what is still queued then is started without waiting.
    pub(super) fn finish_notify_commands(&mut self) {
        let deadline = self.clock.now_us() + NOTIFY_GRACE_ON_EXIT;
        let all: Vec<Notifier> = self.notifiers().collect();
        while self.clock.now_us() < deadline && all.iter().any(|w| !self.queue_ref(*w).is_idle()) {
            for (pid, _) in process::reap() {
                for who in &all {
                    self.queue(*who).exited(pid);
                }
            }
            let now = self.clock.now_us();
            self.run_notify_queues(now);
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        for who in all {
            // Abandon the running ones (they go on by themselves), start
            // the rest.
            self.queue(who).abandon_running();
            self.run_notify_queue(who, deadline);
        }
    }

    fn queue_ref(&self, who: Notifier) -> &NotifyQueue<Command> {
        match who {
            Notifier::Instance(i) => &self.instances[i].notify,
            Notifier::Group(g) => &self.groups[g].notify,
            Notifier::Departed(d) => &self.departed_notify[d].notify,
        }
    }
}
