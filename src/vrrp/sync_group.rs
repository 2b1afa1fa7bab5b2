//! `vrrp_sync_group`: when the members of a group move, as keepalived 2.2.7
//! does it (watched on two LANs, a group over one instance on each, VRRP
//! cut on one LAN only):
//!
//! - A member whose master_down fires does not go alone. It stays BACKUP
//!   and says "Receive advertisement timeout" again each master_down, and
//!   the group goes to MASTER only when every member may go: each one is
//!   master already or its own master_down has fired too. A member that
//!   still hears its master keeps the whole group backup, so a partition of
//!   one LAN does not pull the addresses of the other LAN to this router.
//! - A member that leaves MASTER for BACKUP takes the other masters along.
//! - A member held in FAULT by its own tracking holds the group in FAULT.
//! - While a member waits in INIT for its weight-0 checks' first results,
//!   the whole group waits in INIT with it (watched: the other member
//!   sends nothing and notifies nothing meanwhile).
//!
//! Pure: the daemon and the simulation hand it the members' states and
//! carry out what it says.

use super::instance::{Instance, State};

/// One member as the group rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    pub state: State,
    /// Its master_down fired and no master has been heard since.
    pub master_down_expired: bool,
}

impl Member {
    pub fn of(instance: &Instance) -> Member {
        Member {
            state: instance.state(),
            master_down_expired: instance.master_down_expired(),
        }
    }
}

/// What happened to one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Changed { from: State, to: State },
    MasterDownExpired,
}

/// What the group's members must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Stay,
    /// Every member in BACKUP becomes master.
    ToMaster,
    /// Every member in MASTER becomes backup.
    ToBackup,
}

/// What the group does after `event` of one of its `members` (their states
/// already include it).
pub fn group_move(members: &[Member], event: Event) -> Move {
    if event
        == (Event::Changed {
            from: State::Master,
            to: State::Backup,
        })
    {
        return Move::ToBackup;
    }
    let may_go = |m: &Member| {
        m.state == State::Master || (m.state == State::Backup && m.master_down_expired)
    };
    let waiting = members
        .iter()
        .any(|m| m.state == State::Backup && m.master_down_expired);
    if waiting && members.iter().all(may_go) {
        Move::ToMaster
    } else {
        Move::Stay
    }
}

/// Whether member `index` is held in FAULT by the others: any other member
/// whose own tracking says FAULT.
pub fn held_in_fault(tracking_faults: &[bool], index: usize) -> bool {
    tracking_faults
        .iter()
        .enumerate()
        .any(|(i, fault)| i != index && *fault)
}

/// Whether the group's members wait in INIT: while any member still waits
/// for its checks' first results, none of them starts.
pub fn waits_for_checks(waiting_for_checks: &[bool]) -> bool {
    waiting_for_checks.iter().any(|waiting| *waiting)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKUP: Member = Member {
        state: State::Backup,
        master_down_expired: false,
    };
    const TIMED_OUT: Member = Member {
        state: State::Backup,
        master_down_expired: true,
    };
    const MASTER: Member = Member {
        state: State::Master,
        master_down_expired: false,
    };
    const FAULT: Member = Member {
        state: State::Fault,
        master_down_expired: false,
    };

    #[test]
    fn a_member_that_times_out_waits_while_another_hears_its_master() {
        let moved = group_move(&[TIMED_OUT, BACKUP], Event::MasterDownExpired);
        assert_eq!(moved, Move::Stay);
    }

    #[test]
    fn the_group_goes_when_every_member_may() {
        let moved = group_move(&[TIMED_OUT, TIMED_OUT], Event::MasterDownExpired);
        assert_eq!(moved, Move::ToMaster);
        // One already master (an owner, or a member that went first): the
        // others go as soon as their own master_down has fired.
        assert_eq!(
            group_move(&[MASTER, TIMED_OUT], Event::MasterDownExpired),
            Move::ToMaster
        );
        assert_eq!(
            group_move(&[MASTER, BACKUP], Event::MasterDownExpired),
            Move::Stay
        );
    }

    #[test]
    fn fault_keeps_the_group_from_master() {
        assert_eq!(
            group_move(&[TIMED_OUT, FAULT], Event::MasterDownExpired),
            Move::Stay
        );
    }

    #[test]
    fn a_master_that_steps_down_takes_the_others_along() {
        let event = Event::Changed {
            from: State::Master,
            to: State::Backup,
        };
        assert_eq!(group_move(&[BACKUP, MASTER], event), Move::ToBackup);
        // Entering MASTER alone moves nobody: no follower is dragged along.
        let event = Event::Changed {
            from: State::Backup,
            to: State::Master,
        };
        assert_eq!(group_move(&[MASTER, BACKUP], event), Move::Stay);
    }

    #[test]
    fn fault_is_held_by_any_other_member() {
        assert!(!held_in_fault(&[true, false], 0));
        assert!(held_in_fault(&[true, false], 1));
        assert!(held_in_fault(&[false, true, false], 2));
    }

    #[test]
    fn the_group_waits_while_any_member_waits_for_its_checks() {
        assert!(waits_for_checks(&[false, true]));
        assert!(waits_for_checks(&[true, false, false]));
        assert!(!waits_for_checks(&[false, false]));
    }
}
