//! Interfaces that come and go under a running daemon: an address
//! configured with `dev OTHER` follows OTHER when it is deleted and created
//! again (a new index).

use log::{debug, info};

use super::actions::add_address;
use super::announcers::announcers_for;
use super::Daemon;
use crate::sys::interface;
use crate::vrrp::instance::State;

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
