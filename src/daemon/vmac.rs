//! `use_vmac` (an instance's, or an address's: `ADDR dev IF use_vmac`):
//! the macvlan interfaces that carry the virtual addresses with the RFC's
//! virtual MAC. Created before the links open (the adverts of an
//! instance without `vmac_xmit_base` leave from its macvlan, and its
//! addresses have it as their `dev`), deleted when the daemon stops and
//! when a reload no longer asks for them; ones left by a daemon that was
//! killed are reused if an instance wants one on their interface with
//! their MAC (under their names), else deleted at start.

use std::io;

use log::{info, warn};

use super::Daemon;
use crate::config::{Config, InstanceConfig, KeptVmac};
use crate::sys::macvlan::FoundVmac;
use crate::sys::{interface, macvlan};

/// keepalived 2.2.7's settings on the macvlan (seen in
/// /proc/sys/net/ipv4/conf while it ran): answer ARP only for its own
/// addresses, take packets from our own addresses (the parent's), no
/// reverse-path filter, and keep secondaries when a primary VIP goes.
const ON_VMAC: [(&str, u32); 4] = [
    ("arp_ignore", 1),
    ("accept_local", 1),
    ("rp_filter", 0),
    ("promote_secondaries", 1),
];
/// And on the parent: never answer ARP for the macvlan's addresses with
/// the parent's MAC (keepalived's two), and never name them as the sender
/// of its own ARP requests (arp_announce 2, which keepalived 2.2.7 leaves
/// at 0): a master answering a client it has no ARP entry for routes the
/// reply out of the parent, asks "who-has CLIENT tell VIP" from the
/// parent's MAC, and the client's entry for the VIP turns to that MAC
/// (seen in a namespace with keepalived 2.2.7 as much as with us).
const ON_PARENT: [(&str, u32); 3] = [("arp_ignore", 1), ("arp_filter", 1), ("arp_announce", 2)];

impl Daemon {
    /// Macvlans of a VRRP virtual MAC left by an earlier run that no
    /// instance of `config` uses: deleted at start, as their addresses
    /// would still answer for the VRID.
    pub(super) fn remove_stale_vmacs(&mut self, config: &Config) {
        for name in macvlan::virtual_mac_interfaces()
            .into_iter()
            .map(|f| f.name)
        {
            if vmac_names(&config.instances).any(|n| n == name) {
                continue;
            }
            match macvlan::delete(&mut self.netlink, &name) {
                Ok(_) => info!("removed stale VMAC interface {name}"),
                Err(e) => warn!("stale VMAC interface {name}: {e}"),
            }
        }
    }

    /// Makes every macvlan `config` asks for exist, up, with its sysctls.
    /// One of the same name and MAC (left by a run that was killed) is
    /// used as it is, as keepalived does ("Found matching interface").
    pub(super) fn create_vmacs(&mut self, config: &Config) -> io::Result<()> {
        for instance in &config.instances {
            let mac = instance.virtual_mac();
            for (name, parent) in macvlans_of(instance) {
                match interface::hardware_address(name) {
                    Ok(found) if found == mac => {
                        info!("({}) Found matching interface {name}", instance.name)
                    }
                    Ok(_) => {
                        return Err(io::Error::new(
                            io::ErrorKind::AlreadyExists,
                            format!(
                                "({}) use_vmac: interface {name} exists without the virtual MAC {}",
                                instance.name,
                                mac_text(mac)
                            ),
                        ))
                    }
                    Err(_) => {
                        let parent_index = match interface::ifindex(parent) {
                            Ok(parent_index) => parent_index,
                            // Its instance waits in FAULT like any other
                            // whose interface is missing.
                            Err(e) => {
                                warn!("({}) no VMAC yet: {parent}: {e}", instance.name);
                                continue;
                            }
                        };
                        macvlan::create(&mut self.netlink, name, parent_index, mac)?;
                        info!(
                            "({}): Success creating VMAC interface {name}",
                            instance.name
                        );
                    }
                }
                if instance.is_ipv6() {
                    // Adverts leave the macvlan from the parent's link-local
                    // address, which must be on it to be bound; keepalived
                    // sets none of the IPv4 sysctls for an IPv6 instance.
                    // With vmac_xmit_base they leave the parent, and the
                    // macvlan gets no link-local address (as keepalived's:
                    // nothing else would send from it).
                    // (Addresses' own macvlans are IPv4 only.)
                    let xmit_base = instance.vmac.as_ref().is_some_and(|v| v.xmit_base);
                    match interface::link_local_ipv6(parent) {
                        Ok(_) if xmit_base => {}
                        Ok(address) => {
                            let ifindex = interface::ifindex(name)?;
                            macvlan::add_link_local(&mut self.netlink, ifindex, address)?
                        }
                        Err(e) => warn!("({}) use_vmac: {parent}: {e}", instance.name),
                    }
                    // Except this one: with the kernel's arp_ignore 0 the
                    // macvlan answers ARP for every IPv4 address of the
                    // box (an IPv4 instance's VIP, the parent's own) with
                    // the IPv6 virtual MAC, which keepalived 2.2.7 does
                    // (seen in a namespace), and a client's entry then
                    // names whichever router is IPv6 master. It has no
                    // IPv4 address, so 1 means it never answers.
                    if let Err(e) = macvlan::set_ipv4_conf(name, "arp_ignore", 1) {
                        warn!("({}) use_vmac: {e}", instance.name);
                    }
                    continue;
                }
                self.lower_all_rp_filter();
                let settings = ON_VMAC
                    .iter()
                    .map(|s| (name, s))
                    .chain(ON_PARENT.iter().map(|s| (parent, s)));
                for (interface, &(key, value)) in settings {
                    if let Err(e) = macvlan::set_ipv4_conf(interface, key, value) {
                        warn!("({}) use_vmac: {e}", instance.name);
                    }
                }
            }
        }
        Ok(())
    }

    /// Deletes the macvlans of `before` that `config` no longer has.
    pub(super) fn delete_unused_vmacs(&mut self, before: &[String], config: &Config) {
        for name in before {
            if !vmac_names(&config.instances).any(|n| n == name) {
                self.delete_vmac(name);
            }
        }
    }

    /// Deletes every macvlan of the running instances, and gives "all"
    /// its rp_filter back: the daemon is stopping.
    pub(super) fn delete_all_vmacs(&mut self) {
        let names: Vec<String> = self.vmac_names();
        for name in names {
            self.delete_vmac(&name);
        }
        if let Some(value) = self.rp_filter_all.take() {
            if let Err(e) = macvlan::set_ipv4_conf("all", "rp_filter", value) {
                warn!("use_vmac: restoring rp_filter: {e}");
            }
        }
    }

    /// At start, `config` (loaded from scratch, names in file order) with
    /// the macvlans that are there kept under their names: after a
    /// restart the previous image's, as its state says (a reload may have
    /// named them otherwise), else the ones a killed run left (see
    /// `adopted_vmacs`). None if they are named so already, or the file no
    /// longer loads as it did.
    pub(super) fn config_keeping_vmac_names(&self, config: &Config) -> Option<Config> {
        let resumed = self.resuming.as_ref().map(|r| &r.vmacs);
        let kept = match resumed {
            Some(vmacs) if !vmacs.is_empty() => vmacs.clone(),
            _ => adopted_vmacs(config, &macvlan::virtual_mac_interfaces()),
        };
        let differs = kept.iter().any(|k| {
            let named = config.instances.iter().find(|i| i.name == k.instance);
            !named.is_some_and(|i| kept_vmacs(i).any(|mine| mine == *k))
        });
        if !differs {
            return None;
        }
        match crate::config::load_keeping(&self.config_path, &self.config_id, &kept) {
            Ok((renamed, _)) if renamed.digest == config.digest => {
                info!("macvlans found keep their names");
                Some(renamed)
            }
            Ok(_) => None,
            Err(e) => {
                warn!("keeping the names of the macvlans found: {e}");
                None
            }
        }
    }

    /// The macvlans of the running instances.
    pub(super) fn vmac_names(&self) -> Vec<String> {
        self.instances
            .iter()
            .flat_map(|i| macvlans_of(&i.config).map(|(name, _)| name.to_string()))
            .collect()
    }

    fn delete_vmac(&mut self, name: &str) {
        match macvlan::delete(&mut self.netlink, name) {
            Ok(true) => info!("VMAC interface {name} removed"),
            Ok(false) => {}
            Err(e) => warn!("VMAC interface {name}: {e}"),
        }
    }

    /// The kernel filters by the larger of "all" and the interface's
    /// rp_filter, so the macvlan's 0 needs "all" at 0 too; keepalived
    /// lowers it while it runs and puts it back on exit.
    fn lower_all_rp_filter(&mut self) {
        if self.rp_filter_all.is_some() {
            return;
        }
        match macvlan::ipv4_conf("all", "rp_filter") {
            Ok(0) => {}
            Ok(value) => match macvlan::set_ipv4_conf("all", "rp_filter", 0) {
                Ok(()) => self.rp_filter_all = Some(value),
                Err(e) => warn!("use_vmac: {e}"),
            },
            Err(e) => warn!("use_vmac: {e}"),
        }
    }
}

/// The macvlans a killed run left that `config`'s instances take as they
/// are, whatever their names: one on the instance's interface (or its
/// address's `dev`) with its virtual MAC. keepalived 2.2.7 does so
/// (watched: killed after a reload had named an IPv4 instance's macvlan
/// vrrp1.51 and the IPv6 one's vrrp.51, it started again on both:
/// "Found matching interface"), where file order would want them the
/// other way round.
pub(super) fn adopted_vmacs(config: &Config, found: &[FoundVmac]) -> Vec<KeptVmac> {
    let mut adopted: Vec<KeptVmac> = Vec::new();
    for instance in &config.instances {
        for wanted in kept_vmacs(instance) {
            let left = found.iter().find(|f| {
                f.parent == wanted.parent
                    && f.mac == instance.virtual_mac()
                    && !adopted.iter().any(|a| a.name == f.name)
            });
            if let Some(left) = left {
                adopted.push(KeptVmac {
                    name: left.name.clone(),
                    ..wanted
                });
            }
        }
    }
    adopted
}

/// `instance`'s macvlans as the next load is to keep them (a reload of
/// the same virtual router, a restart).
pub(super) fn kept_vmacs(instance: &InstanceConfig) -> impl Iterator<Item = KeptVmac> + '_ {
    // Its own comes first.
    let owns = usize::from(instance.vmac.is_some());
    macvlans_of(instance)
        .enumerate()
        .map(move |(at, (name, parent))| KeptVmac {
            instance: instance.name.clone(),
            parent: parent.to_string(),
            own: at < owns,
            name: name.to_string(),
        })
}

fn vmac_names(instances: &[InstanceConfig]) -> impl Iterator<Item = &str> {
    instances
        .iter()
        .flat_map(|i| macvlans_of(i).map(|(name, _)| name))
}

/// The instance's macvlans, each with the interface it is made on: its
/// own (`use_vmac`) and those of its addresses (`ADDR dev IF use_vmac`).
fn macvlans_of(instance: &InstanceConfig) -> impl Iterator<Item = (&str, &str)> {
    let own = instance
        .vmac
        .iter()
        .map(|v| (v.name.as_str(), instance.interface.as_str()));
    let addresses = instance
        .address_vmacs
        .iter()
        .map(|v| (v.name.as_str(), v.parent.as_str()));
    own.chain(addresses)
}

fn mac_text(mac: [u8; 6]) -> String {
    mac.map(|b| format!("{b:02x}")).join(":")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn macvlans_left_on_the_interface_with_the_virtual_mac_are_adopted_by_name() {
        let block = |name: &str, vip: &str| {
            format!(
                "vrrp_instance {name} {{\n interface eth0\n virtual_router_id 51\n use_vmac\n \
                 virtual_ipaddress {{\n  {vip}\n }}\n}}\n"
            )
        };
        let text = block("V4", "192.0.2.51/24") + &block("V6", "2001:db8::51/64");
        let (config, _) = crate::config::parse_str(&text, Path::new("r1.conf")).unwrap();
        let found = |name: &str, parent: &str, family: u8| FoundVmac {
            name: name.into(),
            parent: parent.into(),
            mac: [0, 0, 0x5e, 0, family, 51],
        };
        let left = [
            found("vrrp.51", "eth0", 2),
            found("vrrp1.51", "eth0", 1),
            // On another interface: not theirs.
            found("vrrp2.51", "eth1", 1),
        ];
        let adopted: Vec<(String, String)> = adopted_vmacs(&config, &left)
            .into_iter()
            .map(|k| (k.instance, k.name))
            .collect();
        assert_eq!(
            adopted,
            [
                ("V4".to_string(), "vrrp1.51".to_string()),
                ("V6".to_string(), "vrrp.51".to_string())
            ]
        );
        assert!(adopted_vmacs(&config, &[]).is_empty());
    }
}
