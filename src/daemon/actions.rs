//! Carrying out what the state machines ask for: adverts, addresses,
//! gratuitous ARP, and the log line and notify commands of a transition.

use std::io;

use log::{debug, error, info};

use super::Daemon;
use crate::vrrp::instance::{Action, State, PRIORITY_STOPPING};

impl Daemon {
    /// Carries out a state machine's actions, in order.
    pub(super) fn execute(&mut self, index: usize, actions: Vec<Action>) {
        for action in actions {
            let instance = &self.instances[index];
            let name = &instance.config.name;
            match action {
                Action::StateChanged { from, to } => {
                    match (from, to) {
                        (State::Initialize, State::Backup) => {
                            info!("({name}) Entering BACKUP STATE (init)")
                        }
                        (_, State::Stopped) => info!("({name}) Stopped"),
                        _ => info!("({name}) Entering {to} STATE"),
                    }
                    if to == State::Master {
                        self.counters.became_master += 1;
                    }
                    self.queue_notify(index, to);
                    self.follow_sync_group(index, from, to);
                }
                Action::SendAdvert(advert) => {
                    let link = &self.links[instance.link];
                    match link.socket.send(&advert.to_bytes()) {
                        Ok(()) => {
                            self.counters.adverts_sent += 1;
                            if advert.priority == PRIORITY_STOPPING {
                                self.counters.priority_zero_sent += 1;
                                info!("({name}) sent 0 priority");
                            }
                        }
                        Err(e) => {
                            self.counters.send_errors += 1;
                            debug!("({name}) advert not sent on {}: {e}", link.name);
                        }
                    }
                }
                Action::AddVirtualAddresses => {
                    info!("({name}) setting VIPs.");
                    for (vip, ifindex) in instance
                        .config
                        .virtual_addresses
                        .iter()
                        .zip(&instance.address_ifindex)
                    {
                        match self.netlink.add_ipv4(
                            *ifindex,
                            vip.addr,
                            vip.prefix_len,
                            vip.label.as_deref(),
                        ) {
                            Ok(()) => {}
                            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                            Err(e) => {
                                error!("({name}) cannot add {}/{}: {e}", vip.addr, vip.prefix_len)
                            }
                        }
                    }
                }
                Action::RemoveVirtualAddresses => {
                    info!("({name}) removing VIPs.");
                    for (vip, ifindex) in instance
                        .config
                        .virtual_addresses
                        .iter()
                        .zip(&instance.address_ifindex)
                    {
                        if let Err(e) = self.netlink.del_ipv4(*ifindex, vip.addr, vip.prefix_len) {
                            error!(
                                "({name}) cannot remove {}/{}: {e}",
                                vip.addr, vip.prefix_len
                            );
                        }
                    }
                }
                Action::SendGratuitousArp => {
                    let link = &self.links[instance.link];
                    for vip in &instance.config.virtual_addresses {
                        info!(
                            "({name}) Sending gratuitous ARPs on {} for {}",
                            link.name, vip.addr
                        );
                        for _ in 0..instance.config.garp_master_repeat {
                            if let Err(e) = link.arp.send(link.mac, vip.addr) {
                                debug!("({name}) gratuitous ARP for {} not sent: {e}", vip.addr);
                            }
                        }
                    }
                }
            }
        }
    }
}
