//! The lines keepalived writes to its notify fifos, as 2.2.7 writes them
//! (watched with a reader on its fifo): `INSTANCE "VI_1" MASTER 150`,
//! `GROUP "G1" MASTER 0`, and with notify_priority_changes
//! `INSTANCE "VI_1" MASTER_PRIORITY 110` (or BACKUP_PRIORITY).

use crate::vrrp::instance::State;

/// An instance's transition.
pub fn instance_line(name: &str, to: State, priority: u8) -> String {
    format!("INSTANCE \"{name}\" {to} {priority}\n")
}

/// A sync group's transition; groups have no priority, keepalived says 0.
pub fn group_line(name: &str, to: State) -> String {
    format!("GROUP \"{name}\" {to} 0\n")
}

/// A master that heard an advert of lower priority.
pub fn rx_lower_priority_line(name: &str, priority: u8) -> String {
    format!("INSTANCE \"{name}\" MASTER_RX_LOWER_PRI {priority}\n")
}

/// A priority change; None in states keepalived says nothing for.
pub fn priority_line(name: &str, state: State, priority: u8) -> Option<String> {
    let word = match state {
        State::Master => "MASTER_PRIORITY",
        State::Backup => "BACKUP_PRIORITY",
        _ => return None,
    };
    Some(format!("INSTANCE \"{name}\" {word} {priority}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_as_keepalived_writes_them() {
        assert_eq!(
            instance_line("VI_1", State::Master, 150),
            "INSTANCE \"VI_1\" MASTER 150\n"
        );
        assert_eq!(group_line("G1", State::Backup), "GROUP \"G1\" BACKUP 0\n");
        assert_eq!(
            priority_line("VI_1", State::Master, 110).as_deref(),
            Some("INSTANCE \"VI_1\" MASTER_PRIORITY 110\n")
        );
        assert_eq!(priority_line("VI_1", State::Fault, 110), None);
        assert_eq!(
            rx_lower_priority_line("VI_1", 150),
            "INSTANCE \"VI_1\" MASTER_RX_LOWER_PRI 150\n"
        );
    }
}
