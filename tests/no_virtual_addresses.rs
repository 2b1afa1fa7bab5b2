//! An instance without virtual addresses (cloud failover: the notify
//! scripts move an ENI or an elastic IP) on a namespace LAN, between
//! keepvip and the real keepalived: the adverts carry no address, the
//! election runs as usual, and each side's notify scripts say who is
//! master. keepalived 2.2.7 runs such an instance only under VRRPv2 (it
//! refuses a VRRPv3 one: "No VIP specified; at least one is required"),
//! so the intervals are whole seconds.
//!
//! Needs root (network namespaces), keepalived and tcpdump. Set
//! KEEPVIP_SKIP_NETNS=1 to skip explicitly where that is impossible.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::Impl::{Keepalived, Keepvip};
use common::{Lan, ELECTION};

const R1: usize = 1;
const R2: usize = 2;
const VRID: u8 = 61;

/// No `virtual_ipaddress`; notify scripts append the state to a file.
fn config(priority: u8, notified: &Path) -> String {
    let file = notified.display();
    format!(
        "vrrp_instance CLOUD {{\n\
         \x20   state BACKUP\n\
         \x20   interface eth0\n\
         \x20   virtual_router_id {VRID}\n\
         \x20   priority {priority}\n\
         \x20   advert_int 1\n\
         \x20   notify_master \"/bin/sh -c 'echo MASTER >> {file}'\"\n\
         \x20   notify_backup \"/bin/sh -c 'echo BACKUP >> {file}'\"\n\
         }}\n"
    )
}

fn notified_file(lan: &Lan, router: usize) -> PathBuf {
    lan.dir().join(format!("r{router}.notified"))
}

/// The last state the router's notify scripts wrote.
fn last_notified(lan: &Lan, router: usize) -> String {
    std::fs::read_to_string(notified_file(lan, router))
        .unwrap_or_default()
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

fn wait_notified(lan: &Lan, router: usize, state: &str) -> Duration {
    lan.wait_until(ELECTION, &format!("r{router} notified {state}"), || {
        last_notified(lan, router) == state
    })
}

/// Adverts for our VRID from `router` at `priority` are on the wire, and
/// (tcpdump -vv) each VRRPv2 advert is 16 bytes: the header and the
/// authentication data, no address.
fn adverts_without_addresses_from(lan: &Lan, router: usize, priority: u8) {
    lan.wait_until(CAPTURE, &format!("r{router} advertises"), || {
        lan.adverts_since(common::Mark::START)
            .iter()
            .any(|a| a.vrid == VRID && a.priority == priority && a.src_ip == lan.addr(router))
    });
    let verbose = lan.verbose_capture(Duration::from_millis(2500));
    let ours: Vec<&str> = verbose
        .lines()
        .filter(|l| l.contains(&format!("vrid {VRID}, prio {priority}")))
        .collect();
    assert!(!ours.is_empty(), "no advert captured:\n{verbose}");
    for line in ours {
        assert!(line.contains("length 16"), "advert with addresses: {line}");
    }
}

const CAPTURE: Duration = Duration::from_secs(5);
/// VRRPv2 at 1 s, priority 100: master_down is 3.609 s; the rest is
/// slack for a loaded machine and the notify script's start.
const TAKEOVER: Duration = Duration::from_secs(6);

#[test]
fn an_instance_without_addresses_fails_over_between_keepvip_and_keepalived() {
    let Some(mut lan) = Lan::new("novip", 2) else {
        return;
    };
    let r1_conf = config(150, &notified_file(&lan, R1));
    let r2_conf = config(100, &notified_file(&lan, R2));
    lan.start(R1, Keepvip, &r1_conf);
    lan.start(R2, Keepalived, &r2_conf);
    wait_notified(&lan, R1, "MASTER");
    wait_notified(&lan, R2, "BACKUP");
    adverts_without_addresses_from(&lan, R1, 150);
    assert!(
        lan.log(R1)
            .contains("(CLOUD) No VIP specified; at least one is sensible"),
        "{}",
        lan.diagnose("keepvip warned as keepalived does")
    );

    // keepvip dies: keepalived takes over within its master_down.
    let killed = Instant::now();
    lan.kill(R1);
    wait_notified(&lan, R2, "MASTER");
    let took = killed.elapsed();
    assert!(took < TAKEOVER, "keepalived took over after {took:?}");
    adverts_without_addresses_from(&lan, R2, 100);

    // keepvip returns with the higher priority and preempts: it ignores
    // the lower master's adverts and takes over when master_down fires.
    // The dead daemon's last line is MASTER too: the revived one's states
    // are waited for in a file of their own.
    std::fs::remove_file(notified_file(&lan, R1)).unwrap();
    let revived = Instant::now();
    lan.revive(R1);
    wait_notified(&lan, R1, "MASTER");
    wait_notified(&lan, R2, "BACKUP");
    let took = revived.elapsed();
    assert!(took < TAKEOVER, "keepvip took back over after {took:?}");
    lan.holds_for(Duration::from_secs(3), "r1 stays master", || {
        last_notified(&lan, R1) == "MASTER" && last_notified(&lan, R2) == "BACKUP"
    });
}
