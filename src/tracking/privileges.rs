//! Who a script runs as, and which scripts `enable_script_security`
//! refuses: keepalived's rules, as its manual states them, with no system
//! call here (the daemon looks up users and files and asks).

/// The user scripts run as when neither the script nor `script_user` names
/// one, if it exists (otherwise root).
pub const DEFAULT_SCRIPT_USER: &str = "keepalived_script";

const SET_UID: u32 = 0o4000;
const STICKY: u32 = 0o1000;
const GROUP_OR_OTHER_WRITE: u32 = 0o022;

/// Who runs a script without a user of its own: `script_user`, else
/// keepalived_script if that user exists, else root (None).
pub fn default_user(script_user: Option<&str>, keepalived_script_exists: bool) -> Option<&str> {
    script_user.or(keepalived_script_exists.then_some(DEFAULT_SCRIPT_USER))
}

/// Whether running the file with mode `file_mode`, owned by `file_uid`, as
/// `run_uid` gives root's powers: run as root, or a set-user-id file of
/// root's. Only those are judged by `enable_script_security`.
pub fn runs_as_root(run_uid: u32, file_uid: u32, file_mode: u32) -> bool {
    run_uid == 0 || (file_uid == 0 && file_mode & SET_UID != 0)
}

/// Why one component of a script's path (the file, or a directory above
/// it) lets someone other than root change what runs, if it does: owned by
/// another user, or writable by group or others. The sticky bit on a
/// directory (like /tmp) stops others replacing what root owns in it; a
/// file in it is still judged itself.
pub fn changeable_by_others(owner_uid: u32, mode: u32, is_dir: bool) -> Option<String> {
    if owner_uid != 0 {
        return Some(format!("owned by uid {owner_uid}, not root"));
    }
    let sticky_dir = is_dir && mode & STICKY != 0;
    if mode & GROUP_OR_OTHER_WRITE != 0 && !sticky_dir {
        return Some("writable by group or others".to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_user_is_keepalived_script_if_it_exists_else_root() {
        assert_eq!(default_user(None, true), Some("keepalived_script"));
        assert_eq!(default_user(None, false), None, "root");
        assert_eq!(default_user(Some("nobody"), true), Some("nobody"));
        assert_eq!(default_user(Some("nobody"), false), Some("nobody"));
    }

    #[test]
    fn only_root_and_setuid_root_are_judged() {
        assert!(runs_as_root(0, 1000, 0o755));
        assert!(!runs_as_root(65534, 1000, 0o755));
        assert!(!runs_as_root(65534, 0, 0o755));
        assert!(runs_as_root(65534, 0, 0o4755), "setuid root");
        assert!(!runs_as_root(65534, 1000, 0o4755), "setuid to a user");
    }

    #[test]
    fn a_path_component_others_can_change() {
        assert_eq!(changeable_by_others(0, 0o755, true), None);
        assert_eq!(changeable_by_others(0, 0o1777, true), None, "/tmp");
        assert!(changeable_by_others(0, 0o777, false).is_some());
        assert!(changeable_by_others(0, 0o775, true).is_some());
        assert!(changeable_by_others(1000, 0o755, false).is_some());
    }
}
