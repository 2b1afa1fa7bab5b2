//! Interfaces that come and go under a running daemon: an instance whose
//! interface is missing (with `dynamic_interfaces`) or not ready (no IPv4
//! address yet, an IPv6 link-local address still tentative) waits in FAULT
//! and joins when it is; an address configured with `dev OTHER` follows
//! OTHER when it is deleted and created again (a new index).

use std::io;

use log::{debug, info, warn};

use super::actions::add_address;
use super::announcers::announcers_for;
use super::link::Link;
use super::links::LinkId;
use super::{remove_stale_addresses, watch, Daemon};
use crate::config::Config;
use crate::sys::interface;
use crate::vrrp::instance::State;
use crate::vrrp::timers::Micros;

impl Daemon {
    /// Interface `name` is up: the `dev name` addresses still on an older
    /// index of it move to the current one, and a master puts them there
    /// and announces them (the kernel took them away with the old one).
    pub(super) fn follow_dev_interface(&mut self, name: &str, up: bool) {
        if !up {
            return;
        }
        let Ok(current) = interface::ifindex(name) else {
            return;
        };
        for index in 0..self.instances.len() {
            let instance = &mut self.instances[index];
            let mut moved = Vec::new();
            let slots = instance
                .config
                .virtual_addresses
                .iter()
                .zip(instance.address_ifindex.iter_mut())
                .enumerate();
            for (at, (vip, ifindex)) in slots {
                if vip.dev.as_deref() == Some(name) && *ifindex != current {
                    info!(
                        "({}) {name} was re-created (index {ifindex} -> {current}): {} follows it",
                        instance.config.name, vip.addr
                    );
                    *ifindex = current;
                    moved.push(at);
                }
            }
            if moved.is_empty() || instance.machine.state() != State::Master {
                continue;
            }
            let instance = &self.instances[index];
            let config = &instance.config;
            for at in moved {
                let vip = &config.virtual_addresses[at];
                add_address(&mut self.netlink, &config.name, vip, current);
                let Some(link) = instance.link.and_then(|id| self.links.get_mut(id)) else {
                    continue;
                };
                if let Ok(announcers) = announcers_for(link, &mut self.dev_announcers, vip, current)
                {
                    for _ in 0..config.garp_master_repeat.max(1) {
                        if let Err(e) = announcers.announce(vip.addr) {
                            debug!(
                                "({}) announcement of {} not sent: {e}",
                                config.name, vip.addr
                            );
                        }
                    }
                }
            }
        }
        // The announcers of the old index are dead.
        let instances = &self.instances;
        self.dev_announcers.retain(|a| {
            instances
                .iter()
                .any(|i| i.address_ifindex.contains(&a.ifindex))
        });
    }
}

/// Instances' interfaces and tracked interfaces that do not exist, in
/// keepalived's words: `FILE:LINE: interface eth9 for vrrp_instance VI_2
/// doesn't exist`, `FILE:LINE: (VI_2) tracked interface eth8 doesn't exist`.
pub fn missing_interfaces(config: &Config) -> Vec<String> {
    let missing = |name: &str| matches!(interface::ifindex(name), Err(e) if e.kind() == io::ErrorKind::NotFound);
    let mut problems = Vec::new();
    for instance in &config.instances {
        if missing(&instance.interface) {
            problems.push(format!(
                "{}: interface {} for vrrp_instance {} doesn't exist",
                instance.interface_span, instance.interface, instance.name
            ));
        }
        for tracked in &instance.track_interfaces {
            if missing(&tracked.interface) {
                problems.push(format!(
                    "{}: ({}) tracked interface {} doesn't exist",
                    tracked.span, instance.name, tracked.interface
                ));
            }
        }
    }
    problems
}

impl Daemon {
    /// Instances still waiting for their link, on an interface `changed`
    /// accepts: each joins once its link opens.
    pub(super) fn open_waiting_links(&mut self, changed: impl Fn(&str) -> bool) {
        let now = self.clock.now_us();
        for index in 0..self.instances.len() {
            let instance = &self.instances[index];
            let config = &instance.config;
            if instance.link.is_some() || !changed(&config.interface) {
                continue;
            }
            let key = super::link::link_key(config);
            let id = match self.links.find(&key) {
                Some(id) => id,
                None => match Link::open(&key) {
                    Ok(link) => {
                        let id = self.links.insert(link);
                        let registered = self
                            .links
                            .get(id)
                            .map(|link| watch(self.poll.registry(), link, id.token()));
                        if let Some(Err(e)) = registered {
                            warn!("{}: {e}", key.0);
                            self.links.remove(id);
                            continue;
                        }
                        id
                    }
                    Err(e) => {
                        debug!("({}) {} still not ready: {e}", config.name, key.0);
                        continue;
                    }
                },
            };
            self.join_link(index, id, now);
        }
    }

    /// A waiting instance gets its link: its addresses on that interface
    /// take its index, its own address is the link's source, and tracking
    /// lets it out of FAULT.
    fn join_link(&mut self, index: usize, id: LinkId, now: Micros) {
        let Some(link) = self.links.get_mut(id) else {
            return;
        };
        let instance = &mut self.instances[index];
        let config = &instance.config;
        let on_link = config
            .virtual_addresses
            .iter()
            .zip(instance.address_ifindex.iter_mut())
            .filter(|(vip, _)| vip.dev.as_ref().is_none_or(|dev| *dev == config.interface));
        for (vip, ifindex) in on_link {
            *ifindex = link.ifindex;
            if let Err(e) = link.announcers.open(vip.addr.is_ipv6()) {
                warn!("({}) {e}", config.name);
            }
        }
        instance.link = Some(id);
        instance.machine.set_address(link.source);
        info!(
            "({}) {} is ready (sending from {}): joining",
            config.name, config.interface, link.source
        );
        remove_stale_addresses(&mut self.netlink, instance);
        self.evaluate_tracking(index, now);
    }
}
