//! Applying a configuration: at start, and again on SIGHUP.
//!
//! A reload that does not parse, or names an interface that does not
//! exist (without `dynamic_interfaces`), changes nothing: the running
//! config stays (keepalived 2.2.7 exits on the latter). One that does keeps every
//! instance whose virtual router is the same (name, interface, VRID, advert
//! source) in its state, with its addresses: settings that changed are
//! taken in place, so an unchanged instance makes no noise on the wire and
//! a changed priority is announced by the next advert. Instances that are
//! gone or became another virtual router stop cleanly (priority 0 if
//! master, addresses removed); new ones start as at boot.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;

use log::{error, info, warn};
use mio::unix::SourceFd;

use super::actions::add_address;
use super::announcers::announcers_for;
use super::interfaces::NOT_CREATED;
use super::link::{link_key, Link, LinkKey};
use super::links::LinkId;
use super::scripts::{unrunnable_commands, ScriptRuntime};
use super::vmac::kept_vmacs;
use super::{remove_stale_addresses, watch, Daemon, RunningInstance, SyncGroup};
use crate::config::{Config, InstanceConfig, Span, VirtualAddress};
use crate::vrrp::instance::{Instance, State};
use crate::vrrp::restart_state::NotifyOwner;

impl Daemon {
    /// SIGHUP. Whether the config on disk now runs: if not, the running
    /// one stays, as it was.
    pub(super) fn reload(&mut self) -> bool {
        let path = self.config_path.clone();
        info!("Reloading {}", path.display());
        let config = match self.load_keeping_vmac_names(&path) {
            Ok((config, warnings)) => {
                for warning in warnings {
                    warn!("{warning}");
                }
                config
            }
            Err(e) => {
                error!("reload: {e}");
                error!("reload: the new configuration is not valid; keeping the running one");
                return false;
            }
        };
        if !super::interfaces_exist(&config) {
            // keepalived 2.2.7 exits here, leaving its addresses behind
            // while its backup takes over: a bad reload must cost nothing,
            // so the running config stays, as for a config that does not
            // parse.
            error!("reload: the new configuration is not valid; keeping the running one");
            return false;
        }
        for problem in unrunnable_commands(&config) {
            error!("{problem}; each run will count as failed");
        }
        match self.apply_config(&config) {
            Ok(()) => {
                self.apply_statics(&config);
                self.start_new_instances();
                let was = std::mem::replace(&mut self.config_digest, config.digest);
                let change = if was == config.digest {
                    "unchanged".to_string()
                } else {
                    format!("was {was:08x}")
                };
                info!(
                    "Reload complete: {} instance(s), config digest {:08x} ({change})",
                    self.instances.len(),
                    config.digest
                );
                true
            }
            Err(e) => {
                error!("reload: {e}");
                error!("reload: could not apply the new configuration; keeping the running one");
                false
            }
        }
    }

    /// The config at `path`, the macvlans of the instances that stay the
    /// same virtual router keeping their names (see `config::vmac_names`):
    /// which those are is known once it is read, so it is read again if
    /// any are.
    fn load_keeping_vmac_names(
        &self,
        path: &std::path::Path,
    ) -> Result<(Config, Vec<crate::config::Warning>), crate::config::ConfigError> {
        let (config, warnings) = crate::config::load_as(path, &self.config_id)?;
        let kept: Vec<_> = self
            .instances
            .iter()
            .filter(|old| {
                config
                    .instances
                    .iter()
                    .any(|new| same_router(&old.config, new))
            })
            .flat_map(|old| kept_vmacs(&old.config))
            .collect();
        if kept.is_empty() {
            return Ok((config, warnings));
        }
        crate::config::load_keeping(path, &self.config_id, &kept)
    }

    /// Makes the running state match `config`. Everything that can fail
    /// (opening sockets, finding interfaces) is done before anything is
    /// changed, so an error leaves the daemon as it was.
    pub(super) fn apply_config(&mut self, config: &Config) -> io::Result<()> {
        // A restart holds them already, for the next image's scripts.
        let held_before = self.notify_fifos.holding();
        let applied = self.apply_config_steps(config);
        // Lines of instances stopped or changed on the way: the fifo
        // scripts were restarted meanwhile (step 5).
        if !held_before {
            self.notify_fifos.release();
        }
        applied
    }

    fn apply_config_steps(&mut self, config: &Config) -> io::Result<()> {
        // 0. Macvlans (use_vmac) first: links open on them, and addresses
        //    have them as their `dev`.
        let vmacs_before = self.vmac_names();
        self.create_vmacs(config)?;
        // 1. The fallible part: sockets for links we do not have yet, and
        //    the interface of every `dev` address.
        let keys: Vec<LinkKey> =
            config
                .instances
                .iter()
                .map(link_key)
                .fold(Vec::new(), |mut keys, key| {
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                    keys
                });
        let mut opened: HashMap<LinkKey, Link> = HashMap::new();
        // Links that cannot open yet, and why: their instances wait in FAULT.
        let mut waiting: HashMap<LinkKey, io::Error> = HashMap::new();
        for key in &keys {
            if self.links.find(key).is_some() {
                continue;
            }
            match Link::open(key) {
                Ok(link) => {
                    opened.insert(key.clone(), link);
                }
                Err(e) if not_ready(&e, config.dynamic_interfaces) => {
                    waiting.insert(key.clone(), e);
                }
                Err(e) => return Err(e),
            }
        }
        // An address of the other family than its link (an excluded IPv6
        // address on an IPv4 instance) needs that family's announcer too.
        // Opening one on a running link changes nothing else.
        for instance in &config.instances {
            let key = link_key(instance);
            let open = self.links.find(&key);
            let link = match opened.get_mut(&key) {
                Some(link) => link,
                None => match open.and_then(|id| self.links.get_mut(id)) {
                    Some(link) => link,
                    None => continue,
                },
            };
            // (An address on another interface is announced there, by
            // announcers opened when first needed.)
            let on_link = instance
                .virtual_addresses
                .iter()
                .filter(|v| v.dev.as_ref().is_none_or(|dev| *dev == instance.interface));
            for vip in on_link {
                link.announcers.open(vip.addr.is_ipv6())?;
            }
        }
        // A `dev` that does not exist yet (`dynamic_interfaces`) is left
        // out: its addresses wait for it (`NOT_CREATED`).
        let mut dev_ifindex: HashMap<String, u32> = HashMap::new();
        for vip in config.instances.iter().flat_map(|i| &i.virtual_addresses) {
            if let Some(dev) = &vip.dev {
                match crate::sys::interface::ifindex(dev) {
                    Ok(ifindex) => {
                        dev_ifindex.insert(dev.clone(), ifindex);
                    }
                    Err(e) if not_ready(&e, config.dynamic_interfaces) => {}
                    Err(e) => {
                        let at = format!("{}: dev {dev}: {e}", vip.span);
                        return Err(io::Error::new(e.kind(), at));
                    }
                }
            }
        }

        // 2. Instances that leave: stopped while everything they use is
        //    still in place. Their fifo lines wait for the new fifo
        //    scripts (step 5).
        self.notify_fifos.hold();
        let now = self.clock.now_us();
        for index in 0..self.instances.len() {
            let old = &self.instances[index];
            let kept = config
                .instances
                .iter()
                .any(|new| same_router(&old.config, new));
            if !kept && old.machine.state() != State::Initialize {
                info!(
                    "({}) not in the new configuration: stopping it",
                    old.config.name
                );
                self.instances[index].removed = true;
                let mut actions = Vec::new();
                self.instances[index].machine.stop(now, &mut actions);
                self.execute(index, actions);
            }
        }

        // 3. Links: the ones still used stay as they are, under the same
        //    handle and token; unused ones close, new ones join.
        let unused: Vec<LinkId> = self
            .links
            .iter()
            .filter(|(_, link)| !keys.contains(&link.key))
            .map(|(id, _)| id)
            .collect();
        for id in unused {
            if let Some(link) = self.links.remove(id) {
                let _ = self
                    .poll
                    .registry()
                    .deregister(&mut SourceFd(&link.as_raw_fd()));
            }
        }
        for (_, link) in opened {
            let token = self.links.insert(link);
            if let Some(link) = self.links.get(token) {
                watch(self.poll.registry(), link, token.token())?;
            }
        }

        // 4. Instances: kept ones take their new settings, new ones wait
        //    in INIT for start_new_instances.
        let mut old_instances: Vec<RunningInstance> = std::mem::take(&mut self.instances);
        // Waiting announcements name instances by position: those go.
        self.announce_pacing.configure(config.announce_spacing);
        // Masters whose routes may have changed, and new instances whose
        // routes an earlier run may have left: seen to once all are in.
        let mut changed_routes = Vec::new();
        let mut fresh = Vec::new();
        let mut reported: Vec<&str> = Vec::new();
        for new in &config.instances {
            let key = link_key(new);
            // Every instance is pushed, linked or not: sync groups know
            // their members by their place in the config.
            let link = self.links.find(&key);
            match waiting.get(&key) {
                Some(e)
                    if e.kind() == io::ErrorKind::NotFound
                        && !reported.contains(&new.interface.as_str()) =>
                {
                    reported.push(&new.interface);
                    warn!(
                        "Configuration specifies interface {} which doesn't currently exist - will use if created",
                        new.interface
                    );
                }
                Some(e) if e.kind() == io::ErrorKind::NotFound => {}
                Some(e) => info!(
                    "({}) {} is not ready ({e}): waiting in FAULT",
                    new.name, new.interface
                ),
                None => {}
            }
            let (link_ifindex, link_source) = link
                .and_then(|id| self.links.get(id))
                .map_or((0, unspecified(new.is_ipv6())), |l| (l.ifindex, l.source));
            let address_ifindex: Vec<u32> = new
                .virtual_addresses
                .iter()
                .map(|vip| match &vip.dev {
                    Some(dev) => dev_ifindex.get(dev).copied().unwrap_or(NOT_CREATED),
                    None => link_ifindex,
                })
                .collect();
            let kept = old_instances
                .iter()
                .position(|old| same_router(&old.config, new));
            let running = match kept {
                Some(pos) => {
                    let mut old = old_instances.swap_remove(pos);
                    if !same_settings(&old.config, new) {
                        info!("({}) configuration changed: applying it in place", new.name);
                        let index = self.instances.len();
                        self.move_addresses(&old, (index, new), link, &address_ifindex);
                        changed_routes.push((
                            self.instances.len(),
                            old.config.virtual_routes.clone(),
                            old.config.virtual_rules.clone(),
                        ));
                        old.machine.reconfigure(new);
                    } else if old.address_ifindex != address_ifindex {
                        // A `dev` created (or re-created) since, not up
                        // yet: `follow_dev_interface` would find the
                        // address at its index already, and never add it.
                        let index = self.instances.len();
                        self.move_addresses(&old, (index, new), link, &address_ifindex);
                    }
                    old.machine.reloaded(now);
                    if old.link.is_none() && link.is_some() {
                        // It was waiting for its interface, which is ready now.
                        old.machine.set_address(link_source);
                        info!("({}) {} is ready: joining", new.name, new.interface);
                    }
                    RunningInstance {
                        config: new.clone(),
                        machine: old.machine,
                        link,
                        address_ifindex,
                        notify: old.notify,
                        group: None,
                        ah: old.ah,
                        removed: false,
                    }
                }
                None => {
                    let mut running = RunningInstance {
                        config: new.clone(),
                        machine: Instance::new(new, link_source),
                        link,
                        address_ifindex,
                        notify: self.carried_notify(&NotifyOwner::Instance(new.name.clone())),
                        group: None,
                        ah: Default::default(),
                        removed: false,
                    };
                    // Resumed in FAULT, a sync group member stays held by
                    // its group until the group has been evaluated.
                    let member = config
                        .sync_groups
                        .iter()
                        .any(|g| g.members.contains(&self.instances.len()));
                    running.machine.set_in_sync_group(member);
                    // After a restart, its addresses and routes are the
                    // previous image's, in force: not stale.
                    let resumed = running.link.is_some() && self.resume_instance(&mut running);
                    if running.link.is_some() && !resumed {
                        remove_stale_addresses(&mut self.netlink, &running);
                        fresh.push(self.instances.len());
                    }
                    running
                }
            };
            self.instances.push(running);
        }
        for gone in old_instances {
            self.keep_departed_notify(gone.config.name, gone.notify);
        }

        for index in fresh {
            self.remove_virtual_routes(index);
        }
        for (index, old_routes, old_rules) in changed_routes {
            self.replace_virtual_routes(&old_routes, &old_rules, index);
        }

        // 5. Scripts: an unchanged one keeps its health and running child.
        let mut old_scripts = std::mem::take(&mut self.scripts);
        for script in &config.scripts {
            let kept = old_scripts
                .iter()
                .position(|old| without_span(old.config.clone()) == without_span(script.clone()));
            let runtime = match kept {
                Some(pos) => old_scripts.swap_remove(pos),
                None => {
                    let mut runtime = ScriptRuntime::new(script, config, now);
                    if !runtime.disabled {
                        self.resume_script(&mut runtime);
                    }
                    runtime
                }
            };
            self.scripts.push(runtime);
        }
        for dropped in old_scripts {
            if let Some(pid) = dropped.pid {
                let who = format!("VRRP_Script({})", dropped.config.name);
                super::scripts::signal_group_counted(&mut self.counters, pid, libc::SIGKILL, &who);
            }
        }
        self.script_user = config.script_user.clone();
        self.script_security = config.script_security;
        self.apply_notify_fifos(config);
        self.startup.set_config(&config.startup);

        // Track files, before tracking is evaluated below.
        self.track_files
            .apply(&config.track_files, self.poll.registry());
        self.apply_track_processes(config);

        // 6. Sync groups, keeping the state a same-named group had.
        let mut old_groups = std::mem::take(&mut self.groups);
        for (index, group) in config.sync_groups.iter().enumerate() {
            let (state, notify) = match old_groups.iter().position(|g| g.config.name == group.name)
            {
                Some(pos) => {
                    let old = old_groups.swap_remove(pos);
                    (old.state, old.notify)
                }
                None => (
                    None,
                    self.carried_notify(&NotifyOwner::Group(group.name.clone())),
                ),
            };
            let state = state.or_else(|| self.resumed_group_state(&group.name));
            self.groups.push(SyncGroup {
                config: group.clone(),
                state,
                notify,
            });
            for member in &group.members {
                self.instances[*member].group = Some(index);
            }
        }
        self.mark_sync_group_members();
        for gone in old_groups {
            self.keep_departed_notify(format!("group {}", gone.config.name), gone.notify);
        }

        // 7. Link states of every interface now used or tracked.
        let mut link_up = HashMap::new();
        for instance in &self.instances {
            let tracked = instance
                .config
                .track_interfaces
                .iter()
                .map(|t| &t.interface);
            for name in std::iter::once(&instance.config.interface).chain(tracked) {
                let up = self
                    .link_up
                    .get(name)
                    .copied()
                    .unwrap_or_else(|| crate::sys::interface::is_up(name).unwrap_or(false));
                link_up.insert(name.clone(), up);
            }
        }
        self.link_up = link_up;

        // 8. Tracking with the new weights and priorities, for the kept ones.
        for index in 0..self.instances.len() {
            if self.instances[index].machine.state() != State::Initialize {
                self.evaluate_tracking(index, now);
            }
        }

        // 9. Announcers of `dev` interfaces no address is on any more.
        let instances = &self.instances;
        self.dev_announcers.retain(|a| {
            instances
                .iter()
                .any(|i| i.address_ifindex.contains(&a.ifindex))
        });

        // 10. Macvlans (use_vmac) no instance has any more, now that their
        //     instances have stopped and let go of their addresses.
        self.delete_unused_vmacs(&vmacs_before, config);
        Ok(())
    }

    /// Starts the instances still in INIT: all of them at boot, the new
    /// ones after a reload.
    pub(super) fn start_new_instances(&mut self) {
        // Not before the startup script and delay are over.
        if !self.startup.done() {
            return;
        }
        let now = self.clock.now_us();
        let starting: Vec<usize> = (0..self.instances.len())
            .filter(|&index| self.instances[index].machine.state() == State::Initialize)
            .collect();
        // Tracking of all of them first, so an instance whose link is down
        // or whose init_fail check is down starts in FAULT or at its
        // priority, and a sync group member sees its group's FAULT, or its
        // wait for a check's first result, before it starts.
        for &index in &starting {
            self.evaluate_tracking(index, now);
        }
        for index in starting {
            let mut actions = Vec::new();
            self.instances[index].machine.start(now, &mut actions);
            self.execute(index, actions);
        }
    }

    /// A master whose address list changed: the addresses that went are
    /// removed, the new ones added and announced; the others stay put.
    /// An address whose label, scope or peer changed is another address,
    /// removed and added again with its new line, as keepalived 2.2.7 does
    /// ("no longer exist", then added and announced; watched). A change of
    /// `brd`, `preferred_lft` or the flag words alone waits, as there, for
    /// the next time the address is added. (keepalived keeps an address
    /// whose peer changed, and then cannot remove it: the kernel knows it
    /// by its old peer.)
    fn move_addresses(
        &mut self,
        old: &RunningInstance,
        (index, new): (usize, &InstanceConfig),
        link: Option<LinkId>,
        new_ifindex: &[u32],
    ) {
        if old.machine.state() != State::Master {
            return;
        }
        let name = &new.name;
        let old_vips: Vec<_> = old
            .config
            .virtual_addresses
            .iter()
            .zip(&old.address_ifindex)
            .collect();
        let new_vips: Vec<_> = new.virtual_addresses.iter().zip(new_ifindex).collect();
        let same_place = |a: &(&VirtualAddress, &u32), b: &(&VirtualAddress, &u32)| {
            a.0.addr == b.0.addr && a.0.prefix_len == b.0.prefix_len && a.1 == b.1
        };
        let same = |a: &(&VirtualAddress, &u32), b: &(&VirtualAddress, &u32)| {
            same_place(a, b)
                && a.0.label == b.0.label
                && a.0.scope == b.0.scope
                && a.0.peer == b.0.peer
        };
        let now = self.clock.now_us();
        // (One still waiting for its interface is on none.)
        let placed = |o: &&(&VirtualAddress, &u32)| *o.1 != NOT_CREATED;
        for gone in old_vips
            .iter()
            .filter(placed)
            .filter(|o| !new_vips.iter().any(|n| same(o, n)))
        {
            let rewritten = new_vips.iter().any(|n| same_place(gone, n));
            let why = if rewritten {
                "its label, scope or peer changed"
            } else {
                "no longer configured"
            };
            info!(
                "({name}) removing {}/{} ({why})",
                gone.0.addr, gone.0.prefix_len
            );
            let removed =
                self.netlink
                    .del_ip_with_peer(*gone.1, gone.0.addr, gone.0.prefix_len, gone.0.peer);
            if rewritten && matches!(removed, Ok(true)) {
                self.rewritten_addresses.push((*gone.1, gone.0.addr, now));
            }
        }
        let Some(link) = link.and_then(|id| self.links.get_mut(id)) else {
            return;
        };
        for (at, added) in new_vips
            .iter()
            .enumerate()
            .filter(|(_, n)| !old_vips.iter().any(|o| same(o, n)))
        {
            let why = if old_vips.iter().any(|o| same_place(o, added)) {
                "as newly written"
            } else {
                "newly configured"
            };
            info!(
                "({name}) adding {}/{} ({why})",
                added.0.addr, added.0.prefix_len
            );
            add_address(&mut self.netlink, name, added.0, *added.1);
            if let Ok(announcers) =
                announcers_for(link, &mut self.dev_announcers, added.0, *added.1)
            {
                for _ in 0..new.garp_master_repeat {
                    let ipv6 = added.0.addr.is_ipv6();
                    if self
                        .announce_pacing
                        .send_now(now, (index, at), *added.1, ipv6)
                    {
                        let _ = announcers.announce(added.0.addr);
                    }
                }
            }
        }
    }
}

/// Whether a link that failed to open is only not there yet: an interface
/// without its address (or with a tentative IPv6 link-local one), or, with
/// `dynamic_interfaces`, one that does not exist. Anything else is an
/// error that stops the daemon (or the reload).
pub(super) fn not_ready(e: &io::Error, dynamic_interfaces: bool) -> bool {
    match e.kind() {
        io::ErrorKind::AddrNotAvailable => true,
        io::ErrorKind::NotFound => dynamic_interfaces,
        _ => false,
    }
}

/// The advert source of an instance whose link is not open yet.
fn unspecified(ipv6: bool) -> IpAddr {
    if ipv6 {
        Ipv6Addr::UNSPECIFIED.into()
    } else {
        Ipv4Addr::UNSPECIFIED.into()
    }
}

/// The same virtual router: what an instance *is*, as opposed to how it is
/// tuned. A change here is a different instance.
fn same_router(old: &InstanceConfig, new: &InstanceConfig) -> bool {
    old.name == new.name
        && old.interface == new.interface
        && old.vrid == new.vrid
        && old.version == new.version
        && old.is_ipv6() == new.is_ipv6()
        && old.source_address() == new.source_address()
}

/// Equal apart from where in the files things were written: moving a
/// block, or editing another one above it, is no change.
fn same_settings(old: &InstanceConfig, new: &InstanceConfig) -> bool {
    normalized(old.clone()) == normalized(new.clone())
}

fn placeholder_span() -> Span {
    Span {
        file: std::rc::Rc::new(std::path::PathBuf::new()),
        line: 0,
    }
}

fn normalized(mut config: InstanceConfig) -> InstanceConfig {
    config.span = placeholder_span();
    config.interface_span = placeholder_span();
    for vip in &mut config.virtual_addresses {
        vip.span = placeholder_span();
    }
    for tracked in &mut config.track_scripts {
        tracked.span = placeholder_span();
    }
    for tracked in config
        .track_interfaces
        .iter_mut()
        .chain(&mut config.owner_ignored_track_interfaces)
    {
        tracked.span = placeholder_span();
    }
    for route in &mut config.virtual_routes {
        route.span = placeholder_span();
    }
    for rule in &mut config.virtual_rules {
        rule.span = placeholder_span();
    }
    for tracked in &mut config.track_files {
        tracked.span = placeholder_span();
    }
    for tracked in &mut config.track_processes {
        tracked.span = placeholder_span();
    }
    let notify = &mut config.notify;
    for command in [
        &mut notify.master,
        &mut notify.backup,
        &mut notify.fault,
        &mut notify.stop,
        &mut notify.any,
        &mut notify.master_rx_lower_pri,
    ]
    .into_iter()
    .flatten()
    {
        command.span = placeholder_span();
    }
    config
}

fn without_span(mut script: crate::config::ScriptConfig) -> crate::config::ScriptConfig {
    script.span = placeholder_span();
    script.command.span = placeholder_span();
    script
}
