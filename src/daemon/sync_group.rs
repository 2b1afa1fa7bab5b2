//! `vrrp_sync_group` at run time: the group rule of `vrrp::sync_group`
//! applied to the running members, and what it says carried out.

use log::info;

use super::Daemon;
use crate::vrrp::instance::State;
use crate::vrrp::sync_group::{group_move, held_in_fault, waits_for_checks, Event, Member, Move};
use crate::vrrp::timers::Micros;

impl Daemon {
    /// Tells every instance whether it is in a sync group now (after a
    /// start or a reload built the groups).
    pub(super) fn mark_sync_group_members(&mut self) {
        for instance in &mut self.instances {
            instance.machine.set_in_sync_group(instance.group.is_some());
        }
    }

    /// Called for every transition of a member, and when its master_down
    /// fired, after its own actions.
    pub(super) fn follow_sync_group(&mut self, index: usize, event: Event) {
        let Some(group) = self.instances[index].group else {
            return;
        };
        if event == Event::MasterDownExpired {
            info!(
                "({}) Receive advertisement timeout",
                self.instances[index].config.name
            );
        }
        let now = self.clock.now_us();
        let members = self.groups[group].config.members.clone();
        let states: Vec<Member> = members
            .iter()
            .map(|m| Member::of(&self.instances[*m].machine))
            .collect();
        let moved = group_move(&states, event);
        for member in members {
            let mut actions = Vec::new();
            let machine = &mut self.instances[member].machine;
            match moved {
                Move::ToMaster => machine.follow_group_to_master(now, &mut actions),
                Move::ToBackup => machine.follow_group_to_backup(now, &mut actions),
                Move::Stay => {}
            }
            // Each follower's own transition comes back here, but finds the
            // others already where it is going: no ping-pong.
            self.execute(member, actions);
        }
        if let Event::Changed { to, .. } = event {
            if self.groups[group].state != Some(to) && to != State::Initialize {
                self.groups[group].state = Some(to);
                self.queue_group_notify(group, to);
                self.write_fifo_group(group, to);
            }
        }
    }

    /// After an instance's own tracking changed: every member of its group
    /// is held in FAULT while any other member's tracking says FAULT, and
    /// waits in INIT while any member waits for its checks' first results
    /// (FAULT first: a start released into the group's FAULT stays silent).
    pub(super) fn sync_group_faults(&mut self, index: usize, now: Micros) {
        let Some(group) = self.instances[index].group else {
            // Not in a group, or no longer after a reload: nothing but its
            // own tracking holds it (keepalived 2.2.7 sends one taken out
            // of a group in FAULT to BACKUP at the reload, watched).
            let mut actions = Vec::new();
            let machine = &mut self.instances[index].machine;
            machine.set_group_fault(now, false, &mut actions);
            machine.set_group_waiting_for_checks(now, false, &mut actions);
            self.execute(index, actions);
            return;
        };
        let members = self.groups[group].config.members.clone();
        let faults: Vec<bool> = members
            .iter()
            .map(|m| self.instances[*m].machine.holds_group_in_fault())
            .collect();
        let waiting: Vec<bool> = members
            .iter()
            .map(|m| self.instances[*m].machine.waiting_for_checks())
            .collect();
        let group_waits = waits_for_checks(&waiting);
        for (i, member) in members.iter().enumerate() {
            let mut actions = Vec::new();
            let machine = &mut self.instances[*member].machine;
            machine.set_group_fault(now, held_in_fault(&faults, i), &mut actions);
            machine.set_group_waiting_for_checks(now, group_waits, &mut actions);
            self.execute(*member, actions);
        }
    }
}
