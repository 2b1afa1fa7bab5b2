//! Health checks, link tracking and notify commands at run time: check
//! scripts started and killed on their schedule, children reaped after
//! SIGCHLD, link events from rtnetlink, and the verdict of it all applied
//! to the instances that track it. Nothing here waits on a child.

use std::os::fd::AsRawFd;

use log::{info, warn};
use mio::unix::SourceFd;

use super::actions::add_address;
use super::announcers::announcers_for;
use super::links::LinkId;
use super::scripts::signal_group_counted;
use super::{watch, Daemon};
use crate::sys::link_monitor::{LinkEvent, NetEvent};
use crate::sys::process::{self, ExitKind};
use crate::tracking::schedule::{Outcome, RunAction};
use crate::tracking::verdict::{
    awaiting_first_result, verdict_of_effects, Effect, Tracked, Verdict, Weight,
};
use crate::vrrp::instance::State;
use crate::vrrp::timers::Micros;

impl Daemon {
    /// Starts, terminates and kills check scripts as their schedules say.
    pub(super) fn run_due_scripts(&mut self, now: Micros) {
        for index in 0..self.scripts.len() {
            if self.scripts[index].disabled {
                continue;
            }
            while let Some(action) = self.scripts[index].schedule.handle_timeout(now) {
                let script = &mut self.scripts[index];
                match action {
                    RunAction::Start => {
                        self.counters.script_runs += 1;
                        if script.spawn().is_err() {
                            self.counters.script_start_errors += 1;
                            let outcome = script.schedule.start_failed();
                            self.script_outcome(index, outcome, now);
                        }
                    }
                    RunAction::Terminate => {
                        warn!(
                            "VRRP_Script({}) timed out after {} ms: terminating it",
                            script.config.name,
                            script.config.timeout_us / 1000
                        );
                        if let Some(pid) = script.pid {
                            let who = format!("VRRP_Script({})", script.config.name);
                            signal_group_counted(&mut self.counters, pid, libc::SIGTERM, &who);
                        }
                    }
                    RunAction::Kill => {
                        if let Some(pid) = script.pid {
                            warn!(
                                "VRRP_Script({}) ignored SIGTERM: killing it",
                                script.config.name
                            );
                            let who = format!("VRRP_Script({})", script.config.name);
                            signal_group_counted(&mut self.counters, pid, libc::SIGKILL, &who);
                        }
                    }
                }
            }
        }
    }

    /// After SIGCHLD: every ended child goes back to its script or queue.
    pub(super) fn reap_children(&mut self) {
        let now = self.clock.now_us();
        for (pid, how) in process::reap() {
            if let Some(index) = self.scripts.iter().position(|s| s.pid == Some(pid)) {
                let script = &mut self.scripts[index];
                script.pid = None;
                // Whatever the script left behind in its group goes too.
                let who = format!("VRRP_Script({})", script.config.name);
                signal_group_counted(&mut self.counters, pid, libc::SIGKILL, &who);
                let outcome = script.schedule.exited(how.success());
                self.script_outcome(index, outcome, now);
            } else if !self.notify_fifo_script_ended(pid) && !self.startup_script_ended(pid, how) {
                self.notify_command_ended(pid, how, now);
            }
        }
    }

    fn script_outcome(&mut self, index: usize, outcome: Outcome, now: Micros) {
        match outcome {
            Outcome::Success => {}
            Outcome::Failure => self.counters.script_failures += 1,
            Outcome::TimedOut => {
                self.counters.script_failures += 1;
                self.counters.script_timeouts += 1;
            }
        }
        let script = &mut self.scripts[index];
        if script.health.record(outcome == Outcome::Success) {
            let verb = if script.health.is_up() {
                "succeeded"
            } else {
                "failed"
            };
            info!("VRRP_Script({}) {verb}", script.config.name);
            for instance in 0..self.instances.len() {
                if self.instances[instance]
                    .config
                    .track_scripts
                    .iter()
                    .any(|t| t.script == index)
                {
                    self.evaluate_tracking(instance, now);
                }
            }
        }
    }

    /// Link events: record each interface's state and re-evaluate the
    /// instances that use or track it.
    pub(super) fn handle_link_events(&mut self) {
        let events = match self.link_monitor.read_events() {
            Ok(events) => events,
            Err(e) => {
                // Events were lost: ask the kernel for the state instead.
                warn!("link events: {e}; re-reading interface states");
                let names: Vec<String> = self.link_up.keys().cloned().collect();
                names
                    .into_iter()
                    .map(|name| {
                        let up = crate::sys::interface::is_up(&name).unwrap_or(false);
                        NetEvent::Link(LinkEvent {
                            ifindex: 0,
                            name,
                            up,
                        })
                    })
                    .collect()
            }
        };
        let (mut routing_removed, mut link_came_up) = (false, false);
        for event in events {
            match event {
                NetEvent::RoutingRemoved => routing_removed = true,
                NetEvent::Link(event) => {
                    // Routes through an interface that went down are gone.
                    link_came_up |= event.up;
                    self.follow_dev_interface(&event.name, event.up);
                    self.refresh_link(&event.name, Some(event.up));
                    if event.up {
                        self.open_waiting_links(|name| name == event.name);
                    }
                }
                NetEvent::AddressRemoved {
                    ifindex, address, ..
                } => self.restore_removed_address(ifindex, address),
                // A re-created interface may get its address after it came
                // up: that is when its sockets can be opened again.
                NetEvent::AddressAdded { ifindex, .. } => {
                    self.open_waiting_links(|name| {
                        crate::sys::interface::ifindex(name).ok() == Some(ifindex)
                    });
                    let names: Vec<String> = self
                        .links
                        .iter()
                        .filter(|(_, l)| {
                            l.stale && crate::sys::interface::ifindex(&l.name).ok() == Some(ifindex)
                        })
                        .map(|(_, l)| l.name.clone())
                        .collect();
                    for name in names {
                        self.refresh_link(&name, None);
                    }
                }
            }
        }
        if routing_removed || link_came_up {
            self.restore_routes(routing_removed);
        }
    }

    /// Brings what we know of interface `name` up to date: its state for
    /// tracking and, if it was deleted and created again (a new ifindex),
    /// the sockets bound to it. An interface whose sockets cannot be opened
    /// yet counts as down.
    fn refresh_link(&mut self, name: &str, up: Option<bool>) {
        if !self.link_up.contains_key(name) {
            return;
        }
        let mut up = up.unwrap_or_else(|| crate::sys::interface::is_up(name).unwrap_or(false));
        let current = crate::sys::interface::ifindex(name).ok();
        let on_interface: Vec<LinkId> = self
            .links
            .iter()
            .filter(|(_, link)| link.name == name)
            .map(|(id, _)| id)
            .collect();
        for id in on_interface {
            let Some(link) = self.links.get_mut(id) else {
                continue;
            };
            if current != Some(link.ifindex) {
                link.stale = true;
            }
            if !link.stale {
                continue;
            }
            if up {
                if let Err(e) = self.reopen_link(id) {
                    info!("{name} is back but not usable yet: {e}");
                    up = false;
                }
            } else {
                up = false;
            }
        }
        let now = self.clock.now_us();
        let known = self.link_up.get_mut(name).expect("checked above");
        if *known == up {
            return;
        }
        *known = up;
        info!("Netlink reports {name} {}", if up { "up" } else { "down" });
        for index in 0..self.instances.len() {
            let config = &self.instances[index].config;
            let uses = config.interface == name
                || config.track_interfaces.iter().any(|t| t.interface == name);
            if uses {
                self.evaluate_tracking(index, now);
            }
        }
    }

    /// New sockets for a link whose interface was re-created, under the
    /// same token; its instances' addresses follow the new ifindex.
    fn reopen_link(&mut self, id: LinkId) -> std::io::Result<()> {
        let Some(old) = self.links.get(id) else {
            return Ok(());
        };
        let key = old.key.clone();
        let (arp, ndisc) = old.announcers.families();
        let mut fresh = super::link::Link::open(&key)?;
        for (open, ipv6) in [(arp, false), (ndisc, true)] {
            if open {
                fresh.announcers.open(ipv6)?;
            }
        }
        let registry = self.poll.registry();
        watch(registry, &fresh, id.token())?;
        let new_ifindex = fresh.ifindex;
        let Some(old) = self.links.replace(id, fresh) else {
            return Ok(());
        };
        let _ = registry.deregister(&mut SourceFd(&old.as_raw_fd()));
        let old_ifindex = old.ifindex;
        info!(
            "{} was re-created (index {old_ifindex} -> {new_ifindex}): sockets reopened",
            key.0
        );
        let source = self.links.get(id).map(|l| l.source);
        for instance in self.instances.iter_mut().filter(|i| i.link == Some(id)) {
            let Some(source) = source else { break };
            if instance.machine.address() != source {
                info!(
                    "({}) our address is now {source} (was {})",
                    instance.config.name,
                    instance.machine.address()
                );
                instance.machine.set_address(source);
            }
        }
        for instance in &mut self.instances {
            for ifindex in &mut instance.address_ifindex {
                if *ifindex == old_ifindex {
                    *ifindex = new_ifindex;
                }
            }
        }
        Ok(())
    }

    /// Someone removed an address: if it is a virtual address of a master,
    /// it goes back at once (our own removals happen after leaving master,
    /// so they never come here as a master's, but for an address a reload
    /// rewrote, whose removal the kernel reports after it is back).
    fn restore_removed_address(&mut self, ifindex: u32, address: std::net::IpAddr) {
        let now = self.clock.now_us();
        // The kernel reports a removal within the loop's turn; a second is
        // plenty, and a report lost (a full socket) cannot hide a later
        // removal for longer.
        self.rewritten_addresses
            .retain(|&(_, _, at)| now.saturating_sub(at) < 1_000_000);
        let ours = self
            .rewritten_addresses
            .iter()
            .position(|&(i, a, _)| i == ifindex && a == address);
        if let Some(ours) = ours {
            self.rewritten_addresses.swap_remove(ours);
            return;
        }
        for (index, instance) in self.instances.iter().enumerate() {
            if instance.machine.state() != State::Master {
                continue;
            }
            let vips = instance
                .config
                .virtual_addresses
                .iter()
                .zip(&instance.address_ifindex)
                .enumerate();
            for (at, (vip, vip_ifindex)) in vips {
                if *vip_ifindex != ifindex || vip.addr != address {
                    continue;
                }
                let name = &instance.config.name;
                warn!(
                    "({name}) {}/{} was removed by someone else: restoring it",
                    vip.addr, vip.prefix_len
                );
                self.counters.addresses_restored += 1;
                add_address(&mut self.netlink, name, vip, ifindex);
                let Some(link) = instance.link.and_then(|id| self.links.get_mut(id)) else {
                    continue;
                };
                if let Ok(announcers) = announcers_for(link, &mut self.dev_announcers, vip, ifindex)
                {
                    for _ in 0..instance.config.garp_master_repeat.max(1) {
                        let ipv6 = vip.addr.is_ipv6();
                        if self
                            .announce_pacing
                            .send_now(now, (index, at), ifindex, ipv6)
                        {
                            let _ = announcers.announce(vip.addr);
                        }
                    }
                }
            }
        }
    }

    /// Applies what the tracked scripts and interfaces say to an instance.
    pub(super) fn evaluate_tracking(&mut self, index: usize, now: Micros) {
        let instance = &self.instances[index];
        let config = &instance.config;
        let own_link = Tracked {
            weight: Weight::default(),
            // An instance waiting for its interface to exist or be ready
            // is in FAULT.
            // dont_track_primary: its link going down is ignored.
            up: Some(
                instance.link.is_some()
                    && (config.options.dont_track_primary
                        || self.link_up.get(&config.interface).copied().unwrap_or(true)),
            ),
        };
        // A check that has not reported yet holds an instance that has not
        // started; one that is running already (a check added or changed
        // by a reload) keeps going until the check has a result.
        let started = instance.machine.state() != State::Initialize;
        let scripts = config
            .track_scripts
            .iter()
            .filter(|t| !self.scripts[t.script].disabled)
            .filter(|t| !started || self.scripts[t.script].health.reading().is_some())
            .map(|t| Tracked {
                weight: Weight::new(t.weight, t.reverse),
                up: self.scripts[t.script].health.reading(),
            });
        let interfaces = config.track_interfaces.iter().map(|t| Tracked {
            weight: Weight::new(t.weight, t.reverse),
            up: Some(self.link_up.get(&t.interface).copied().unwrap_or(false)),
        });
        let tracked: Vec<Tracked> = std::iter::once(own_link)
            .chain(scripts)
            .chain(interfaces)
            .chain(self.tracked_processes(index))
            .collect();
        let waiting = awaiting_first_result(tracked.iter().copied());
        let effects: Vec<Effect> = tracked
            .iter()
            .map(|t| t.weight.effect(t.up))
            .chain(self.track_file_effects(index))
            .collect();
        let mut actions = Vec::new();
        let instance = &mut self.instances[index];
        let machine = &mut instance.machine;
        let priority_before = machine.priority();
        match verdict_of_effects(machine.base_priority(), effects) {
            Verdict::Fault => machine.set_fault(now, true, &mut actions),
            Verdict::Priority(priority) => {
                if priority != machine.priority() && machine.base_priority() != 255 {
                    info!(
                        "({}) Changing effective priority from {} to {priority}",
                        instance.config.name,
                        machine.priority()
                    );
                }
                machine.set_priority(now, priority, &mut actions);
                machine.set_fault(now, false, &mut actions);
            }
        }
        machine.set_waiting_for_checks(now, waiting, &mut actions);
        self.execute(index, actions);
        if self.instances[index].machine.priority() != priority_before {
            self.write_fifo_priority(index);
        }
        self.sync_group_faults(index, now);
    }

    /// On the way out: check scripts are stopped, and the last notify
    /// commands (notify_stop above all) get their grace period.
    pub(super) fn finish_children(&mut self) {
        for script in &self.scripts {
            if let Some(pid) = script.pid {
                let who = format!("VRRP_Script({})", script.config.name);
                signal_group_counted(&mut self.counters, pid, libc::SIGTERM, &who);
            }
        }
        self.finish_notify_commands();
    }
}

pub(super) fn describe(how: ExitKind) -> String {
    match how {
        ExitKind::Exited(code) => format!("exit status {code}"),
        ExitKind::Signaled(signal) => format!("signal {signal}"),
    }
}
