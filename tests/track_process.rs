//! `vrrp_track_process` on a namespace LAN. The kernel refuses its process
//! events connector outside the initial network namespace, so the routers
//! here run on keepvip's fallback, scans of /proc at the advert interval:
//! killing the tracked process moves the VIP within one advert interval
//! plus master_down, and starting it again brings it back. (The connector
//! path itself is `sys::proc_events::tests`, in the initial namespace.)
//!
//! Needs root (network namespaces) and tcpdump. Set KEEPVIP_SKIP_NETNS=1
//! to skip explicitly where that is impossible.

mod common;

use std::process::{Child, Command};
use std::time::Duration;

use common::{Impl, Lan, ELECTION};

const VIP: &str = "192.0.2.100";
/// advert_int 0.2 plus master_down of the priority-100 backup (3 x 0.2 s
/// plus a skew of 0.12 s), with 0.5 s for the test's own polling of `ip`.
const PROMISE: Duration = Duration::from_millis(200 + 720 + 500);

fn config(router: usize, priority: u8, process: Option<&str>) -> String {
    let (block, lines) = match process {
        Some(name) => (
            format!("vrrp_track_process service {{\n    process {name}\n}}\n"),
            "    track_process {\n        service\n    }\n",
        ),
        None => (String::new(), ""),
    };
    format!(
        "global_defs {{\n    router_id r{router}\n}}\n\
         {block}\
         vrrp_instance VI_1 {{\n\
         \x20   state BACKUP\n\
         \x20   interface eth0\n\
         \x20   version 3\n\
         \x20   virtual_router_id 65\n\
         \x20   priority {priority}\n\
         \x20   advert_int 0.2\n\
         {lines}\
         \x20   virtual_ipaddress {{\n        {VIP}\n    }}\n\
         }}\n"
    )
}

/// A long sleep under a name of its own: the process name is the name of
/// the link it was started through. Killed when dropped, so that a failed
/// test leaves none behind.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_service(link: &std::path::Path) -> Service {
    Service(
        Command::new(link)
            .arg("600")
            .spawn()
            .expect("start the tracked process"),
    )
}

#[test]
fn killing_the_tracked_process_moves_the_vip_and_a_restart_brings_it_back() {
    let Some(mut lan) = Lan::new("track-proc", 2) else {
        return;
    };
    // Unique among parallel test runs, and within the kernel's 15 bytes.
    let name = format!("kvsvc{}", std::process::id() % 1_000_000);
    let link = lan.dir().join(&name);
    std::os::unix::fs::symlink("/bin/sleep", &link).unwrap();
    let service = start_service(&link);

    lan.start(1, Impl::Keepvip, &config(1, 150, Some(&name)));
    lan.start(2, Impl::Keepvip, &config(2, 100, None));
    lan.wait_sole_holder(1, VIP, ELECTION);
    assert!(
        lan.log(1).contains("scanning /proc every 200 ms instead"),
        "{}",
        lan.log(1)
    );

    drop(service);
    let took = lan.wait_sole_holder(2, VIP, ELECTION);
    assert!(took < PROMISE, "the VIP moved after {took:?}");
    assert!(lan
        .log(1)
        .contains("entering FAULT state (tracked process service quorum not achieved)"));

    let _service = start_service(&link);
    let took = lan.wait_sole_holder(1, VIP, ELECTION);
    assert!(took < PROMISE, "the VIP came back after {took:?}");
}
