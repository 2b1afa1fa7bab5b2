//! Interfaces that come and go under a running daemon: an instance whose
//! interface is missing (with `dynamic_interfaces`) or not ready (no IPv4
//! address yet, an IPv6 link-local address still tentative) waits in FAULT
//! and joins when it is; an address configured with `dev OTHER` follows
//! OTHER when it is deleted and created again (a new index), or goes on
//! it when it is first created (`dynamic_interfaces`).

use std::io;

use log::{debug, error, info, warn};

use super::actions::add_address;
use super::announcers::announcers_for;
use super::link::Link;
use super::links::LinkId;
use super::{remove_stale_addresses, watch, Daemon};
use crate::config::{Config, Route, Rule, Span, VirtualAddress};
use crate::sys::interface;
use crate::vrrp::instance::State;
use crate::vrrp::timers::Micros;

/// The interface index of an address whose `dev` does not exist yet
/// (`dynamic_interfaces`): no interface has index 0. Such an address is
/// neither added, removed nor announced until its interface comes up
/// (`follow_dev_interface`).
pub(super) const NOT_CREATED: u32 = 0;

impl Daemon {
    /// Interface `name` is up: the `dev name` addresses still on an older
    /// index of it, or waiting for it, move to the current one, and a
    /// master puts them there and announces them (the kernel took them
    /// away with the old one). Deleted: they wait for it again.
    pub(super) fn follow_dev_interface(&mut self, name: &str, up: bool) {
        let current = match interface::ifindex(name) {
            Ok(current) if up => current,
            // Before tracking sees it down: the kernel took its addresses
            // away with it, so there is nothing to remove or put back.
            Err(e) if e.kind() == io::ErrorKind::NotFound => NOT_CREATED,
            _ => return,
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
                    let instance_name = &instance.config.name;
                    if current == NOT_CREATED {
                        info!(
                            "({instance_name}) {name} is gone: {} waits for it",
                            vip.addr
                        );
                    } else if *ifindex == NOT_CREATED {
                        info!(
                            "({instance_name}) {name} now exists: {} goes on it",
                            vip.addr
                        );
                    } else {
                        info!(
                            "({instance_name}) {name} was re-created (index {ifindex} -> {current}): {} follows it",
                            vip.addr
                        );
                    }
                    *ifindex = current;
                    moved.push(at);
                }
            }
            let master = instance.machine.state() == State::Master;
            if moved.is_empty() || !master || current == NOT_CREATED {
                continue;
            }
            let now = self.clock.now_us();
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
                        let ipv6 = vip.addr.is_ipv6();
                        if !self
                            .announce_pacing
                            .send_now(now, (index, at), current, ipv6)
                        {
                            continue;
                        }
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

/// The interfaces the config names that do not exist, in keepalived's
/// words, each at its line: an instance's `interface`, a `track_interface`
/// line, the `dev` of an address or route and the `iif`/`oif` of a rule
/// (in instances and at the top level). keepalived 2.2.7 refuses each
/// ("Non-existent interface specified in configuration"). A VMAC
/// interface (an instance's own or an address's) is made by keepvip
/// itself, so it need not exist yet.
pub fn missing_interfaces(config: &Config) -> Vec<String> {
    let vmacs: Vec<&str> = config
        .instances
        .iter()
        .flat_map(|i| {
            let own = i.vmac.as_ref().map(|v| v.name.as_str());
            let per_address = i.address_vmacs.iter().map(|v| v.name.as_str());
            own.into_iter().chain(per_address)
        })
        .collect();
    let missing = |name: &str| {
        !vmacs.contains(&name)
            && matches!(interface::ifindex(name), Err(e) if e.kind() == io::ErrorKind::NotFound)
    };
    let mut problems = Vec::new();
    let mut devices = |addresses: &[VirtualAddress], routes: &[Route], rules: &[Rule]| {
        for address in addresses {
            if let Some(dev) = address.dev.as_deref().filter(|d| missing(d)) {
                problems.push(format!(
                    "{}: interface {dev} for ip address {}/{} doesn't exist",
                    address.span, address.addr, address.prefix_len
                ));
            }
        }
        for route in routes {
            if let Some(dev) = route.dev.as_deref().filter(|d| missing(d)) {
                problems.push(format!(
                    "{}: interface {dev} for VROUTE nexthop doesn't exist",
                    route.span
                ));
            }
        }
        for rule in rules {
            for dev in [&rule.iif, &rule.oif].into_iter().flatten() {
                if missing(dev) {
                    problems.push(format!(
                        "{}: interface {dev} for rule doesn't exist",
                        rule.span
                    ));
                }
            }
        }
    };
    let statics = &config.statics;
    devices(&statics.addresses, &statics.routes, &statics.rules);
    for instance in &config.instances {
        devices(
            &instance.virtual_addresses,
            &instance.virtual_routes,
            &instance.virtual_rules,
        );
    }
    for instance in &config.instances {
        if missing(&instance.interface) {
            problems.push(format!(
                "{}: interface {} for vrrp_instance {} doesn't exist",
                instance.interface_span, instance.interface, instance.name
            ));
        }
        // An address's or route's own interface is tracked too, under the
        // line said above.
        let said = |span: &Span| {
            instance.virtual_addresses.iter().any(|a| &a.span == span)
                || instance.virtual_routes.iter().any(|r| &r.span == span)
        };
        // The owner's ignored lines too: keepalived 2.2.7 refuses them.
        let tracked_lines = instance
            .track_interfaces
            .iter()
            .chain(&instance.owner_ignored_track_interfaces);
        for tracked in tracked_lines {
            if missing(&tracked.interface) && !said(&tracked.span) {
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

/// Every interface the config names exists, or `dynamic_interfaces` lets
/// an instance wait for it (a missing tracked interface counts as down):
/// keepalived 2.2.7's rule, at start and on reload, and its words.
pub fn interfaces_exist(config: &Config) -> bool {
    let missing = missing_interfaces(config);
    for problem in &missing {
        if config.dynamic_interfaces {
            warn!("{problem}; dynamic_interfaces: it will be used once it exists");
        } else {
            error!("{problem}");
        }
    }
    if !missing.is_empty() && !config.dynamic_interfaces {
        error!("Non-existent interface specified in configuration");
        return false;
    }
    true
}
