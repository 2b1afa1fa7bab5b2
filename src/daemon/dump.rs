//! SIGUSR1 / SIGUSR2: the state of every instance and the counters, written
//! to files in $TMPDIR (default /tmp) as keepalived does.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use log::{error, info};

use super::status_report::{InstanceStats, InstanceStatus, StatusReport};
use super::Daemon;
use crate::sys::replace_file::replace_file;
use crate::vrrp::instance::State;

impl Daemon {
    pub(super) fn render_state(&self) -> String {
        let mut text = format!(
            "Configuration = {} (digest {:08x})\n",
            self.config_path.display(),
            self.config_digest
        );
        for instance in &self.instances {
            let m = &instance.machine;
            let timers = m.timers();
            let _ = writeln!(text, "VRRP Instance = {}", m.name());
            let _ = writeln!(text, "  State = {}", m.state());
            let _ = writeln!(text, "  Interface = {}", instance.config.interface);
            let _ = writeln!(text, "  Virtual Router ID = {}", m.vrid());
            let _ = writeln!(text, "  Priority = {}", m.priority());
            let _ = writeln!(text, "  Source address = {}", m.address());
            let _ = writeln!(text, "  Preempt = {}", instance.config.preempt);
            let _ = writeln!(text, "  Advert interval = {} usecs", timers.advert_interval);
            let _ = writeln!(text, "  Master down timer = {} usecs", timers.master_down);
            for vip in &instance.config.virtual_addresses {
                let kind = if vip.advertised {
                    "Virtual address"
                } else {
                    "Excluded virtual address"
                };
                let _ = writeln!(text, "  {kind} = {}/{}", vip.addr, vip.prefix_len);
            }
        }
        text
    }

    pub(super) fn write_dump(&self, file: &str, text: String) {
        let path = self.dump_dir.join(file);
        // $TMPDIR is often /tmp: replace whatever is there, never write
        // through a link someone planted.
        match replace_file(&path, text.as_bytes()) {
            Ok(()) => info!("wrote {}", path.display()),
            Err(e) => error!("cannot write {}: {e}", path.display()),
        }
    }

    /// keepalived's become_master / release_master and the wall-clock time
    /// of the change (the status page shows it as a date).
    pub(super) fn count_transition(&mut self, index: usize, from: State, to: State) {
        let now_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        let stats = stats_of(&mut self.instance_stats, &self.instances[index].config.name);
        if to == State::Master {
            stats.become_master += 1;
        } else if from == State::Master {
            stats.release_master += 1;
        }
        stats.last_transition_us = now_us;
    }

    /// Every instance as `keepvip status` shows it.
    pub(super) fn status_snapshot(&self) -> StatusReport {
        let instances = self
            .instances
            .iter()
            .map(|i| InstanceStatus {
                name: i.config.name.clone(),
                state: i.machine.state().to_string(),
                interface: i.config.interface.clone(),
                vrid: i.machine.vrid(),
                priority: i.machine.priority(),
                base_priority: i.machine.base_priority(),
                virtual_addresses: i
                    .config
                    .advertised_addresses()
                    .map(|v| format!("{}/{}", v.addr, v.prefix_len))
                    .collect(),
                excluded_addresses: i
                    .config
                    .virtual_addresses
                    .iter()
                    .filter(|v| !v.advertised)
                    .map(|v| format!("{}/{}", v.addr, v.prefix_len))
                    .collect(),
                sync_group: i.group.map(|g| self.groups[g].config.name.clone()),
                stats: self
                    .instance_stats
                    .get(&i.config.name)
                    .copied()
                    .unwrap_or_default(),
                late_adverts: i.machine.late_adverts(),
            })
            .collect();
        StatusReport {
            instances,
            config_path: self.config_path.display().to_string(),
            config_digest: self.config_digest,
        }
    }

    pub(super) fn accept_status_clients(&mut self) {
        let now = self.clock.now_us();
        if let Some(status) = &mut self.status {
            status.accept(self.poll.registry(), now);
        }
    }

    pub(super) fn serve_status_client(&mut self, token: mio::Token) {
        if !self.status.as_ref().is_some_and(|s| s.owns(token)) {
            return;
        }
        let snapshot = self.status_snapshot();
        let restart_asked = self
            .status
            .as_mut()
            .is_some_and(|status| status.serve(self.poll.registry(), token, || snapshot));
        if restart_asked {
            self.request_restart(Some(token));
        }
    }
}

/// The counters of the instance called `name`; the name is only cloned on
/// its first count, not on every advert.
pub(super) fn stats_of<'a>(
    all: &'a mut HashMap<String, InstanceStats>,
    name: &str,
) -> &'a mut InstanceStats {
    if !all.contains_key(name) {
        all.insert(name.to_string(), InstanceStats::default());
    }
    all.get_mut(name).expect("inserted above")
}
