//! Notify fifos on a namespace LAN: keepalived's lines reach the fifo
//! script in order, priority changes too with notify_priority_changes; a
//! fifo nobody reads stalls nothing; the script is started with the fifo
//! as its last argument, not restarted when it dies, restarted by a
//! reload; the fifos keepvip made are gone after it stops.
//!
//! Needs root (network namespaces) and tcpdump. Set KEEPVIP_SKIP_NETNS=1
//! to skip explicitly where that is impossible.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{Impl, Lan, ELECTION};

const VIP: &str = "192.0.2.100";

fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn fifo_lines_reach_the_script_in_order_and_a_reload_restarts_it() {
    let Some(mut lan) = Lan::new("notify-fifo", 1) else {
        return;
    };
    let dir = lan.dir().to_path_buf();
    let out = dir.join("fifo.out");
    let reader = dir.join("reader.sh");
    fs::write(
        &reader,
        format!(
            "#!/bin/sh\necho \"started $$ $*\" >> {out}\n\
             while read line; do echo \"$line\" >> {out}; done < \"$1\"\n",
            out = out.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&reader, fs::Permissions::from_mode(0o755)).unwrap();
    let (all, vrrp, drain) = (
        dir.join("all.fifo"),
        dir.join("vrrp.fifo"),
        dir.join("drain"),
    );
    let config = format!(
        "global_defs {{\n    router_id r1\n    notify_fifo {all}\n    vrrp_notify_fifo {vrrp}\n    \
         vrrp_notify_fifo_script {reader}\n}}\n\
         track_file drain {{\n    file {drain}\n}}\n\
         vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    version 3\n    \
         virtual_router_id 66\n    priority 100\n    advert_int 0.2\n    \
         track_file {{\n        drain\n    }}\n    notify_priority_changes\n    \
         virtual_ipaddress {{\n        {VIP}\n    }}\n}}\n",
        all = all.display(),
        vrrp = vrrp.display(),
        reader = reader.display(),
        drain = drain.display(),
    );
    lan.start(1, Impl::Keepvip, &config);
    lan.wait_sole_holder(1, VIP, ELECTION);
    // `notify_fifo` has no reader at all: nothing waits for one.
    let expected = [
        "INSTANCE \"VI_1\" BACKUP 100",
        "INSTANCE \"VI_1\" MASTER 100",
    ];
    lan.wait_until(ELECTION, "the script read BACKUP then MASTER", || {
        let got = lines(&out);
        got.len() == 3 && got[1..] == expected
    });
    assert_eq!(
        lines(&out)[0],
        format!(
            "started {} {}",
            lines(&out)[0].split(' ').nth(1).unwrap(),
            vrrp.display()
        )
    );

    fs::write(&drain, "10\n").unwrap();
    lan.wait_until(ELECTION, "a priority change is written", || {
        lines(&out).last().map(String::as_str) == Some("INSTANCE \"VI_1\" MASTER_PRIORITY 110")
    });

    // A dead script is logged, not restarted...
    let pid: i32 = lines(&out)[0].split(' ').nth(1).unwrap().parse().unwrap();
    unsafe { libc::kill(pid, libc::SIGKILL) };
    lan.wait_until(ELECTION, "the script's end is logged", || {
        lan.log(1).contains("vrrp notify fifo script terminated")
    });
    // ...until a reload, which restarts it.
    lan.signal(1, libc::SIGHUP);
    lan.wait_until(ELECTION, "a reload restarts the script", || {
        lines(&out)
            .iter()
            .filter(|l| l.starts_with("started "))
            .count()
            == 2
    });
    fs::write(&drain, "20\n").unwrap();
    lan.wait_until(ELECTION, "the restarted script reads", || {
        lines(&out).last().map(String::as_str) == Some("INSTANCE \"VI_1\" MASTER_PRIORITY 120")
    });

    assert!(lan.stop(1).success());
    assert!(
        !all.exists() && !vrrp.exists(),
        "the fifos keepvip made are removed"
    );
}

/// keepalived 2.2.7's `notify_master_rx_lower_pri`: after a partition
/// heals, the master that hears the other (lower) master runs it, and its
/// fifo gets `MASTER_RX_LOWER_PRI`. (2.2.7 does not know the later
/// synonyms `notify_primary*`: "Unknown keyword".)
#[test]
fn a_master_hearing_a_lower_master_runs_notify_master_rx_lower_pri() {
    let Some(mut lan) = Lan::new("rx-lower-pri", 2) else {
        return;
    };
    let dir = lan.dir().to_path_buf();
    let (ran, fifo_out) = (dir.join("rx_lower.ran"), dir.join("fifo.out"));
    let hook = dir.join("rx_lower.sh");
    common::write_executable(
        &hook,
        &format!("#!/bin/sh\necho ran >> {}\n", ran.display()),
    );
    let reader = dir.join("reader.sh");
    common::write_fifo_reader(&reader, &fifo_out);
    let config = |router: usize, priority: u8, extra: &str, global: &str| {
        format!(
            "global_defs {{\n    router_id r{router}\n{global}}}\n\
             vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    version 3\n    \
             virtual_router_id 67\n    priority {priority}\n    advert_int 0.2\n{extra}    \
             virtual_ipaddress {{\n        {VIP}\n    }}\n}}\n"
        )
    };
    let r1 = config(
        1,
        150,
        &format!("    notify_master_rx_lower_pri {}\n", hook.display()),
        &format!(
            "    vrrp_notify_fifo {}\n    vrrp_notify_fifo_script {}\n",
            dir.join("r1.fifo").display(),
            reader.display()
        ),
    );
    lan.start(1, Impl::Keepvip, &r1);
    lan.wait_sole_holder(1, VIP, ELECTION);
    lan.start(2, Impl::Keepvip, &config(2, 100, "", ""));
    lan.set_mcast_flood(1, false);
    lan.set_mcast_flood(2, false);
    lan.wait_until(ELECTION, "r2 (partitioned) is master too", || {
        lan.holds_vip(2, VIP)
    });
    assert!(!ran.exists(), "nothing lower was heard yet");
    // Healed towards r1: it hears r2's lower priority.
    lan.set_mcast_flood(1, true);
    lan.wait_until(ELECTION, "notify_master_rx_lower_pri ran", || ran.exists());
    lan.wait_until(ELECTION, "the fifo got MASTER_RX_LOWER_PRI", || {
        lines(&fifo_out).contains(&"INSTANCE \"VI_1\" MASTER_RX_LOWER_PRI 150".to_string())
    });
    lan.set_mcast_flood(2, true);
    lan.wait_sole_holder(1, VIP, ELECTION);
}
