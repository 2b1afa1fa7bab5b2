//! `vrrp_sync_group`: the members of a group change state together, as in
//! keepalived. A member that becomes master takes the backups along; one
//! that gives up mastership takes the other masters along; one in FAULT
//! holds the whole group in FAULT.

use super::Daemon;
use crate::vrrp::instance::State;
use crate::vrrp::timers::Micros;

impl Daemon {
    /// Called for every transition of an instance, after its own actions.
    pub(super) fn follow_sync_group(&mut self, index: usize, from: State, to: State) {
        let Some(group) = self.instances[index].group else {
            return;
        };
        let now = self.clock.now_us();
        let others: Vec<usize> = self.groups[group]
            .config
            .members
            .iter()
            .copied()
            .filter(|m| *m != index)
            .collect();
        for member in others {
            let mut actions = Vec::new();
            let machine = &mut self.instances[member].machine;
            match (from, to) {
                (_, State::Master) => machine.follow_group_to_master(now, &mut actions),
                (State::Master, State::Backup) => machine.follow_group_to_backup(now, &mut actions),
                _ => {}
            }
            // Each follower's own transition comes back here, but finds the
            // others already where it is going: no ping-pong.
            self.execute(member, actions);
        }
        if self.groups[group].state != Some(to) && to != State::Initialize {
            self.groups[group].state = Some(to);
            self.queue_group_notify(group, to);
            self.write_fifo_group(group, to);
        }
    }

    /// After an instance's own tracking changed: every member of its group
    /// is held in FAULT while any other member's tracking says FAULT.
    pub(super) fn sync_group_faults(&mut self, index: usize, now: Micros) {
        let Some(group) = self.instances[index].group else {
            return;
        };
        let members = self.groups[group].config.members.clone();
        for member in &members {
            let held = members
                .iter()
                .any(|m| m != member && self.instances[*m].machine.tracking_fault());
            let mut actions = Vec::new();
            self.instances[*member]
                .machine
                .set_group_fault(now, held, &mut actions);
            self.execute(*member, actions);
        }
    }
}
