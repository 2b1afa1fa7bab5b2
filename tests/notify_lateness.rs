//! A slow notify command must not make the next ones late: r1's MASTER
//! notify sleeps 10 s, r2 (higher priority) arrives and r1 becomes BACKUP
//! a second later; r1's BACKUP notify must start within a few seconds of
//! that transition, not after the MASTER one ends.
//!
//! Needs root (network namespaces). Set KEEPVIP_SKIP_NETNS=1 to skip.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{Impl, Lan, ELECTION};

const VIP: &str = "192.0.2.100";
/// The queue's bound (2 s) and the polling and start-up slack of the test.
const MAX_LATENESS_S: f64 = 3.5;

fn config(router: usize, priority: u8, notify: &str) -> String {
    format!(
        "global_defs {{\n    router_id r{router}\n}}\n\
         vrrp_instance VI_1 {{\n\
         \x20   state BACKUP\n\
         \x20   interface eth0\n\
         \x20   version 3\n\
         \x20   virtual_router_id 63\n\
         \x20   priority {priority}\n\
         \x20   advert_int 0.2\n\
         {notify}\
         \x20   virtual_ipaddress {{\n        {VIP}\n    }}\n\
         }}\n"
    )
}

fn epoch_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// (state, epoch seconds) for every notify start the script recorded.
fn recorded(path: &std::path::Path) -> Vec<(String, f64)> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (state, time) = l.split_once(' ')?;
            Some((state.to_string(), time.parse().ok()?))
        })
        .collect()
}

#[test]
fn a_slow_notify_does_not_delay_the_next_state_by_more_than_seconds() {
    let Some(mut lan) = Lan::new("notify-late", 2) else {
        return;
    };
    let record = lan.dir().join("notified");
    let script = lan.dir().join("notify.sh");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$3 $(date +%s.%N)\" >> {}\n\
             [ \"$3\" = MASTER ] && sleep 10\nexit 0\n",
            record.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let notify = format!("    notify \"{}\"\n", script.display());

    lan.start(1, Impl::Keepvip, &config(1, 100, &notify));
    lan.wait_sole_holder(1, VIP, ELECTION);
    lan.wait_until(Duration::from_secs(5), "r1's MASTER notify started", || {
        recorded(&record).iter().any(|(s, _)| s == "MASTER")
    });
    lan.start(2, Impl::Keepvip, &config(2, 200, ""));
    lan.wait_until(ELECTION, "r1 gave the VIP up", || !lan.holds_vip(1, VIP));
    let backup_at = epoch_secs();
    // The first BACKUP is the start's; the one after MASTER is the flap's.
    let second_backup = |notified: &[(String, f64)]| {
        notified
            .iter()
            .skip_while(|(s, _)| s != "MASTER")
            .find(|(s, _)| s == "BACKUP")
            .map(|(_, t)| *t)
    };
    lan.wait_until(
        Duration::from_secs(15),
        "r1's BACKUP notify started",
        || second_backup(&recorded(&record)).is_some(),
    );
    let notified = recorded(&record);
    let started = second_backup(&notified).unwrap();
    let late = started - backup_at;
    assert!(
        late <= MAX_LATENESS_S,
        "r1's BACKUP notify started {late:.1} s after the transition: {notified:?}\n{}",
        lan.log(1)
    );
    let states: Vec<&str> = notified.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(states, ["BACKUP", "MASTER", "BACKUP"], "{notified:?}");
}
