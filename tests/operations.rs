//! The days nobody planned, on a namespace LAN: an admin's stray `ip addr
//! del`, a second daemon started on the same pid file, a reload, a status
//! query, a sync group.
//!
//! Needs root (network namespaces), keepalived and tcpdump. Set
//! KEEPVIP_SKIP_NETNS=1 to skip explicitly where that is impossible.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Impl, Lan, ELECTION};

const VIP: &str = "192.0.2.100";
const R1: usize = 1;
const R2: usize = 2;

fn config(router: usize, priority: u8, extra: &str) -> String {
    format!(
        "global_defs {{\n    router_id r{router}\n}}\n\
         vrrp_instance VI_1 {{\n\
         \x20   state BACKUP\n\
         \x20   interface eth0\n\
         \x20   virtual_router_id 52\n\
         \x20   priority {priority}\n\
         \x20   advert_int 1\n\
         {extra}\
         \x20   virtual_ipaddress {{\n        {VIP}/24\n    }}\n\
         }}\n"
    )
}

fn ip_netns(lan: &Lan, router: usize, args: &[&str]) {
    let status = Command::new("ip")
        .args(["-n", lan.ns(router)])
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "ip {args:?}");
}

#[test]
fn a_deleted_vip_is_put_back_by_the_master() {
    let Some(mut lan) = Lan::new("ops-heal", 2) else {
        return;
    };
    lan.start(R1, Impl::Keepvip, &config(1, 150, ""));
    lan.start(R2, Impl::Keepvip, &config(2, 100, ""));
    lan.wait_sole_holder(R1, VIP, ELECTION);

    ip_netns(
        &lan,
        R1,
        &["addr", "del", &format!("{VIP}/24"), "dev", "eth0"],
    );
    // Put back on the kernel's event, well within one advert interval;
    // the deadline is generous for a loaded machine, not the promise.
    let took = lan.wait_until(Duration::from_secs(5), "the VIP is back on r1", || {
        lan.holds_vip(R1, VIP)
    });
    eprintln!("VIP restored after {took:?}");
    assert!(
        lan.log(R1)
            .contains("was removed by someone else: restoring it"),
        "{}",
        lan.diagnose("no restore logged")
    );
    // Nothing else moved.
    lan.sole_holder_for(R1, VIP, Duration::from_secs(3));
}

#[test]
fn a_second_daemon_on_the_same_pid_file_is_refused() {
    let Some(mut lan) = Lan::new("ops-pid", 1) else {
        return;
    };
    lan.start(R1, Impl::Keepvip, &config(1, 150, ""));
    lan.wait_sole_holder(R1, VIP, ELECTION);
    let dir = lan.dir().join("r1");
    let bin =
        std::env::var("KEEPVIP_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_keepvip").to_string());
    let output = Command::new("ip")
        .args(["netns", "exec", lan.ns(R1), &bin, "-n", "-l", "-f"])
        .arg(dir.join("keepalived.conf"))
        .arg("-p")
        .arg(dir.join("daemon.pid"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("is locked by a running keepvip"),
        "{stderr}"
    );
    // The first one was not disturbed.
    lan.sole_holder_for(R1, VIP, Duration::from_secs(2));
}
