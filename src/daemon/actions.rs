//! Carrying out what the state machines ask for: adverts, addresses,
//! gratuitous ARP, and the log line and notify commands of a transition.

use std::io;
use std::net::IpAddr;

use log::{debug, error, info, warn};

use super::announcers::announcers_for;
use super::interfaces::NOT_CREATED;
use super::stats::LogKey;
use super::Daemon;
use crate::config::{Authentication, VirtualAddress};
use crate::sys::rtnetlink::{AddressAttributes, RtNetlink};
use crate::vrrp::advert::Endpoints;
use crate::vrrp::ah;
use crate::vrrp::instance::{Action, State, PRIORITY_STOPPING};
use crate::vrrp::sync_group::Event as SyncEvent;

impl Daemon {
    /// Carries out a state machine's actions, in order, adverts included.
    pub(super) fn execute(&mut self, index: usize, actions: Vec<Action>) {
        self.carry_out(index, actions);
        self.flush_adverts();
    }

    /// Like [`Daemon::execute`], but leaves the adverts queued for a
    /// later [`Daemon::flush_adverts`], so that the adverts of many
    /// instances go out together.
    pub(super) fn carry_out(&mut self, index: usize, actions: impl IntoIterator<Item = Action>) {
        for action in actions {
            if !matches!(action, Action::SendAdvert(_)) {
                // Whatever this action does comes after the adverts before it.
                self.flush_adverts();
            }
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
                    self.count_transition(index, from, to);
                    if to == State::Stopped && self.instances[index].removed {
                        // What keepalived 2.2.7 says of an instance a
                        // reload removed, master or backup: FAULT.
                        self.queue_removed_notify(index);
                        self.write_fifo_instance(index, State::Fault);
                    } else {
                        self.queue_notify(index, to);
                        self.write_fifo_instance(index, to);
                    }
                    self.follow_sync_group(index, SyncEvent::Changed { from, to });
                }
                Action::MasterDownExpired => {
                    self.follow_sync_group(index, SyncEvent::MasterDownExpired)
                }
                Action::SendAdvert(advert) => {
                    let Some((link_id, link)) =
                        instance.link.and_then(|id| Some((id, self.links.get(id)?)))
                    else {
                        debug!("({name}) advert not sent: its link is not open");
                        continue;
                    };
                    let group = [link.group()];
                    // Unicast peers each get their own copy; the v3
                    // checksum covers the destination, so each is encoded
                    // for it.
                    let destinations = match instance.config.unicast_peers.as_slice() {
                        [] => &group[..],
                        peers => peers,
                    };
                    // AH: the datagram is ours to write, and each one
                    // takes the next sequence number.
                    let ah_key = match instance.config.authentication {
                        Some(Authentication::Ah(key)) if link.is_ah() => Some(key),
                        _ => None,
                    };
                    let mut ah_counters = instance.ah;
                    for &destination in destinations {
                        let ends = Endpoints {
                            source: link.source,
                            destination,
                        };
                        let len = advert.wire_len(&ends);
                        match (ah_key, link.source, destination) {
                            (Some(key), IpAddr::V4(source), IpAddr::V4(to)) => self.adverts.push(
                                index,
                                link_id,
                                destination,
                                ah::OVERHEAD + len,
                                |buf| {
                                    let len = advert.emit(&mut buf[ah::OVERHEAD..], &ends);
                                    ah::seal(buf, len, source, to, &key, &mut ah_counters)
                                },
                            ),
                            _ => self.adverts.push(index, link_id, destination, len, |buf| {
                                advert.emit(buf, &ends)
                            }),
                        }
                    }
                    self.instances[index].ah = ah_counters;
                    let instance = &self.instances[index];
                    let name = &instance.config.name;
                    if advert.priority == PRIORITY_STOPPING {
                        self.counters.priority_zero_sent += 1;
                        info!("({name}) sent 0 priority");
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
                        add_address(&mut self.netlink, name, vip, *ifindex);
                    }
                    self.set_virtual_routes(index);
                }
                Action::RemoveVirtualAddresses => {
                    self.remove_virtual_routes(index);
                    let instance = &self.instances[index];
                    let name = &instance.config.name;
                    info!("({name}) removing VIPs.");
                    let placed = instance
                        .config
                        .virtual_addresses
                        .iter()
                        .zip(&instance.address_ifindex)
                        .filter(|(_, &ifindex)| ifindex != NOT_CREATED);
                    for (vip, ifindex) in placed {
                        if let Err(e) = self.netlink.del_ip_with_peer(
                            *ifindex,
                            vip.addr,
                            vip.prefix_len,
                            vip.peer,
                        ) {
                            error!(
                                "({name}) cannot remove {}/{}: {e}",
                                vip.addr, vip.prefix_len
                            );
                        }
                    }
                }
                Action::SendGratuitousArp => {
                    self.announce(index, instance.config.garp_master_repeat);
                }
                Action::SendRefreshGarp => {
                    self.announce(index, instance.config.options.garp_master_refresh_repeat);
                }
                Action::SendLowerPriorityGarp => {
                    self.announce(index, instance.config.garp_lower_prio_repeat);
                }
                Action::SendExtraInterfaceGarp => self.announce_beyond_own_interface(index),
                Action::LowerPriorityHeard { source, priority } => {
                    // One line per period: a lower master that cannot hear
                    // us (a one-way partition) says this every interval.
                    let now = self.clock.now_us();
                    if let Some(suppressed) =
                        self.log_limiter.allow(LogKey::LowerPriorityMaster, now)
                    {
                        let ours = instance.machine.priority();
                        let more = if suppressed > 0 {
                            format!(" ({suppressed} more since the last line)")
                        } else {
                            String::new()
                        };
                        info!(
                            "({name}) Received advert from {source} with lower priority \
                             {priority}, ours {ours}, forcing new election{more}"
                        );
                    }
                    self.notify_rx_lower_priority(index);
                }
            }
        }
    }
}

impl Daemon {
    /// One burst of `repeat` gratuitous ARPs (IPv6: unsolicited neighbour
    /// advertisements) for every address the instance owns, each on the
    /// interface it is on and as its family calls for (an IPv4 instance
    /// may own excluded IPv6 addresses).
    fn announce(&mut self, index: usize, repeat: u32) {
        self.announce_where(index, repeat, None);
    }

    /// `garp_extra_if [all]`: one packet on each interface other than the
    /// instance's own (`all`), or on each of its addresses' macvlans
    /// (`ADDR dev IF use_vmac`), for the first address there of each
    /// family: keepalived 2.2.7 (watched) sends one per interface, not one
    /// per address.
    fn announce_beyond_own_interface(&mut self, index: usize) {
        let all = self.instances[index].config.options.garp_extra_if.all;
        self.announce_where(index, 1, Some(all));
    }

    /// `repeat` packets for each address; with `extra_interfaces`, only
    /// `garp_extra_if [all]`'s (see `announce_beyond_own_interface`).
    fn announce_where(&mut self, index: usize, repeat: u32, extra_interfaces: Option<bool>) {
        let instance = &self.instances[index];
        let name = &instance.config.name;
        let Some(link) = instance.link.and_then(|id| self.links.get_mut(id)) else {
            error!("({name}) cannot announce: its link is not open");
            return;
        };
        let vips = instance
            .config
            .virtual_addresses
            .iter()
            .zip(&instance.address_ifindex)
            .enumerate();
        let own_ifindex = link.ifindex;
        let on_address_vmac = |vip: &VirtualAddress| {
            let vmacs = &instance.config.address_vmacs;
            vip.dev
                .as_ref()
                .is_some_and(|dev| vmacs.iter().any(|v| v.name == *dev))
        };
        let mut announced_on: Vec<(u32, bool)> = Vec::new();
        for (at, (vip, &ifindex)) in vips {
            // Announced once its interface exists (`follow_dev_interface`).
            if ifindex == NOT_CREATED {
                continue;
            }
            if let Some(all) = extra_interfaces {
                let wanted = if all {
                    ifindex != own_ifindex
                } else {
                    on_address_vmac(vip)
                };
                let family = (ifindex, vip.addr.is_ipv6());
                if !wanted || announced_on.contains(&family) {
                    continue;
                }
                announced_on.push(family);
            }
            let announcers = match announcers_for(link, &mut self.dev_announcers, vip, ifindex) {
                Ok(announcers) => announcers,
                Err(e) => {
                    error!("({name}) cannot announce {}: {e}", vip.addr);
                    continue;
                }
            };
            // keepalived's words, which users grep for.
            let what = if vip.addr.is_ipv6() {
                "Unsolicited Neighbour Adverts"
            } else {
                "gratuitous ARPs"
            };
            info!(
                "({name}) Sending/queueing {what} on {} for {}",
                announcers.name, vip.addr
            );
            // One line per burst, not per packet: a refused announcement
            // (an address not there yet) must show.
            let mut failure = None;
            for _ in 0..repeat {
                let ipv6 = vip.addr.is_ipv6();
                if !self
                    .announce_pacing
                    // The clock of the send itself: the spacing counts
                    // from here (log lines come before).
                    .send_now(self.clock.now_us(), (index, at), ifindex, ipv6)
                {
                    continue;
                }
                if let Err(e) = announcers.announce(vip.addr) {
                    failure = Some(e);
                }
            }
            if let Some(e) = failure {
                warn!("({name}) announcement of {} not sent: {e}", vip.addr);
            }
        }
    }
}

/// Adds one virtual address; one that is already there is fine (a restart,
/// a restore racing the kernel), anything else is logged.
pub(super) fn add_address(netlink: &mut RtNetlink, name: &str, vip: &VirtualAddress, ifindex: u32) {
    if ifindex == NOT_CREATED {
        // keepalived 2.2.7's words; it goes on when its interface appears.
        let dev = vip.dev.as_deref().unwrap_or_default();
        info!(
            "({name}) Not adding address {}/{} to {dev} since interface doesn't exist",
            vip.addr, vip.prefix_len
        );
        return;
    }
    match netlink.add_ip_with(ifindex, vip.addr, vip.prefix_len, &address_attributes(vip)) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => error!("({name}) cannot add {}/{}: {e}", vip.addr, vip.prefix_len),
    }
}

/// What an address line says beyond the address, for `ip addr add`.
pub(super) fn address_attributes(vip: &VirtualAddress) -> AddressAttributes<'_> {
    AddressAttributes {
        label: vip.label.as_deref(),
        scope: vip.scope,
        broadcast: vip.broadcast,
        peer: vip.peer,
        flags: Some(vip.flags),
        preferred_lft: vip.preferred_lft,
    }
}
