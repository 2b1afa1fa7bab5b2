//! A LAN of routers in memory: real [`Instance`] state machines, a fake
//! clock, adverts delivered to every live router after a fixed latency.
//!
//! It exists so that whole scenarios (the seed article's four cases, start
//! orders, deaths and returns) are tested against the same state machine the
//! daemon runs, in milliseconds and without root.

use std::net::Ipv4Addr;

use super::advert::Advert;
use super::instance::{Action, Instance, State};
use super::timers::{Micros, MICROS_PER_SECOND};
use crate::config::InstanceConfig;

/// One router on the simulated LAN.
#[derive(Debug)]
pub struct SimRouter {
    pub name: String,
    pub config: InstanceConfig,
    pub address: Ipv4Addr,
    pub instance: Instance,
    /// False between a silent death and a return.
    pub alive: bool,
    /// Whether its interface carries the virtual addresses.
    pub holds_addresses: bool,
    pub garp_bursts: u32,
    pub adverts_sent: u32,
}

/// A state change, for timelines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub at: Micros,
    pub router: String,
    pub from: State,
    pub to: State,
}

struct InFlight {
    deliver_at: Micros,
    from: usize,
    advert: Advert,
}

pub struct SimLan {
    now: Micros,
    latency: Micros,
    routers: Vec<SimRouter>,
    in_flight: Vec<InFlight>,
    pub transitions: Vec<Transition>,
}

impl SimLan {
    /// `latency` is how long an advert takes to reach the other routers.
    pub fn new(latency: Micros) -> SimLan {
        SimLan {
            now: 0,
            latency,
            routers: Vec::new(),
            in_flight: Vec::new(),
            transitions: Vec::new(),
        }
    }

    pub fn now(&self) -> Micros {
        self.now
    }

    /// Adds a router (not started) and returns its index.
    pub fn add_router(&mut self, name: &str, config: InstanceConfig, address: Ipv4Addr) -> usize {
        let instance = Instance::new(&config, address);
        self.routers.push(SimRouter {
            name: name.to_string(),
            config,
            address,
            instance,
            alive: false,
            holds_addresses: false,
            garp_bursts: 0,
            adverts_sent: 0,
        });
        self.routers.len() - 1
    }

    pub fn router(&self, index: usize) -> &SimRouter {
        &self.routers[index]
    }

    /// Starts (or restarts, with a fresh state machine) a router.
    pub fn start(&mut self, index: usize) {
        let router = &mut self.routers[index];
        router.instance = Instance::new(&router.config, router.address);
        router.alive = true;
        // A starting daemon removes stale addresses first.
        router.holds_addresses = false;
        let mut actions = Vec::new();
        router.instance.start(self.now, &mut actions);
        self.apply(index, actions);
    }

    /// Dies without a word: link down, process killed.
    pub fn kill(&mut self, index: usize) {
        self.routers[index].alive = false;
        self.in_flight.retain(|p| p.from != index);
    }

    /// Graceful stop: priority 0 if master, addresses removed.
    pub fn stop(&mut self, index: usize) {
        let mut actions = Vec::new();
        self.routers[index].instance.stop(self.now, &mut actions);
        self.apply(index, actions);
        self.routers[index].alive = false;
    }

    /// What tracking would do on a real router: move its effective priority
    /// or hold it in FAULT (a check script failing, a link going down).
    pub fn set_tracking(&mut self, index: usize, priority: u8, fault: bool) {
        let mut actions = Vec::new();
        let instance = &mut self.routers[index].instance;
        instance.set_priority(self.now, priority, &mut actions);
        instance.set_fault(self.now, fault, &mut actions);
        self.apply(index, actions);
    }

    /// Runs the LAN until `now + duration`.
    pub fn run_for(&mut self, duration: Micros) {
        let until = self.now + duration;
        while let Some(at) = self.next_event().filter(|at| *at <= until) {
            self.now = self.now.max(at);
            self.deliver_due();
            self.fire_due_timers();
        }
        self.now = until;
    }

    /// [`SimLan::run_for`] in whole seconds.
    pub fn run_secs(&mut self, seconds: u64) {
        self.run_for(seconds * MICROS_PER_SECOND);
    }

    /// Names of the live routers in MASTER state.
    pub fn masters(&self) -> Vec<&str> {
        self.routers
            .iter()
            .filter(|r| r.alive && r.instance.state() == State::Master)
            .map(|r| r.name.as_str())
            .collect()
    }

    /// Names of the live routers that hold the virtual addresses.
    pub fn holders(&self) -> Vec<&str> {
        self.routers
            .iter()
            .filter(|r| r.alive && r.holds_addresses)
            .map(|r| r.name.as_str())
            .collect()
    }

    fn next_event(&self) -> Option<Micros> {
        let packets = self.in_flight.iter().map(|p| p.deliver_at);
        let timers = self
            .routers
            .iter()
            .filter(|r| r.alive)
            .filter_map(|r| r.instance.poll_timeout());
        packets.chain(timers).min()
    }

    fn deliver_due(&mut self) {
        let now = self.now;
        let (due, later): (Vec<_>, Vec<_>) =
            self.in_flight.drain(..).partition(|p| p.deliver_at <= now);
        self.in_flight = later;
        for packet in due {
            let source = self.routers[packet.from].address;
            for index in 0..self.routers.len() {
                if index == packet.from || !self.routers[index].alive {
                    continue;
                }
                let mut actions = Vec::new();
                // A refused advert is simply not acted on, as on a real LAN.
                let _ = self.routers[index].instance.handle_advert(
                    now,
                    source,
                    &packet.advert,
                    &mut actions,
                );
                self.apply(index, actions);
            }
        }
    }

    fn fire_due_timers(&mut self) {
        for index in 0..self.routers.len() {
            let router = &mut self.routers[index];
            if !router.alive || router.instance.poll_timeout().is_none_or(|t| t > self.now) {
                continue;
            }
            let mut actions = Vec::new();
            router.instance.handle_timeout(self.now, &mut actions);
            self.apply(index, actions);
        }
    }

    fn apply(&mut self, index: usize, actions: Vec<Action>) {
        for action in actions {
            let router = &mut self.routers[index];
            match action {
                Action::SendAdvert(advert) => {
                    router.adverts_sent += 1;
                    self.in_flight.push(InFlight {
                        deliver_at: self.now + self.latency,
                        from: index,
                        advert,
                    });
                }
                Action::AddVirtualAddresses => router.holds_addresses = true,
                Action::RemoveVirtualAddresses => router.holds_addresses = false,
                Action::SendGratuitousArp => router.garp_bursts += 1,
                Action::StateChanged { from, to } => self.transitions.push(Transition {
                    at: self.now,
                    router: router.name.clone(),
                    from,
                    to,
                }),
            }
        }
    }
}

#[cfg(test)]
#[path = "simulation_tests.rs"]
mod tests;
