//! `virtual_ipaddress_excluded` on a namespace LAN, between keepvip and the
//! real keepalived in both roles: an IPv4 instance whose excluded addresses
//! (one IPv6, one IPv4 of another subnet) move with its VIP on failover
//! and are announced by their own family (unsolicited neighbour
//! advertisement, gratuitous ARP), while the adverts carry the VIP only:
//! keepalived 2.2.7 drops an advert whose address list lacks one of its
//! own VIPs ("not present in MASTER advert"), so a keepvip master that
//! advertised its excluded addresses would make it complain.
//!
//! Needs root (network namespaces), keepalived and tcpdump. Set
//! KEEPVIP_SKIP_NETNS=1 to skip explicitly where that is impossible.

mod common;

use std::process::Command;
use std::time::Duration;

use common::Impl::{self, Keepalived, Keepvip};
use common::{Lan, ELECTION};

const VIP: &str = "192.0.2.100";
const EXCLUDED6: &str = "2001:db8::100";
const EXCLUDED4: &str = "198.51.100.100";
const ALL: [&str; 3] = [VIP, EXCLUDED6, EXCLUDED4];
const R1: usize = 1;
const R2: usize = 2;
/// What keepalived logs when an advert lacks one of its VIPs.
const KEEPALIVED_MISMATCH: &str = "not present in MASTER advert";
/// What keepvip logs when an advert's list differs from its own.
const KEEPVIP_MISMATCH: &str = "lists other virtual addresses than ours";

fn config(priority: u8) -> String {
    format!(
        "vrrp_instance VI_1 {{\n\
         \x20   state BACKUP\n\
         \x20   interface eth0\n\
         \x20   virtual_router_id 60\n\
         \x20   priority {priority}\n\
         \x20   advert_int 1\n\
         \x20   authentication {{\n\
         \x20       auth_type PASS\n\
         \x20       auth_pass 1111\n\
         \x20   }}\n\
         \x20   virtual_ipaddress {{\n\
         \x20       {VIP}/24\n\
         \x20   }}\n\
         \x20   virtual_ipaddress_excluded {{\n\
         \x20       {EXCLUDED6}/64\n\
         \x20       {EXCLUDED4}/32\n\
         \x20   }}\n\
         }}\n"
    )
}

/// `router` alone holds every owned address, and has announced each one
/// since `since` (an NA for the IPv6 one, a GARP for the others).
fn owns_all(lan: &Lan, router: usize, since: common::Mark) {
    for address in ALL {
        lan.wait_sole_holder(router, address, ELECTION);
    }
    for address in ALL {
        lan.wait_garp_from(router, address, since);
    }
}

fn imp_of(imps: (Impl, Impl), router: usize) -> Impl {
    if router == R1 {
        imps.0
    } else {
        imps.1
    }
}

/// Neither daemon saw an advert whose list differed from its own.
fn no_list_mismatch(lan: &Lan, imps: (Impl, Impl)) {
    for router in [R1, R2] {
        let (needle, who) = match imp_of(imps, router) {
            Keepalived => (KEEPALIVED_MISMATCH, "keepalived"),
            Keepvip => (KEEPVIP_MISMATCH, "keepvip"),
        };
        let log = lan.log(router);
        assert!(
            !log.contains(needle),
            "{}",
            lan.diagnose(&format!(
                "r{router} ({who}) complained about the address list"
            ))
        );
    }
}

/// The keepvip master's adverts carry the VIP alone; it puts back an
/// excluded address someone deleted, and lists them apart in its SIGUSR1
/// dump.
fn keepvip_master_checks(lan: &mut Lan, router: usize) {
    // tcpdump -vv prints a VRRPv2 advert's addresses: `addrs: A B ...`.
    let adverts = lan.verbose_capture(Duration::from_millis(2500));
    let listed: Vec<&str> = adverts
        .lines()
        .filter_map(|l| l.split_once("addrs: ").map(|(_, rest)| rest))
        .collect();
    assert!(!listed.is_empty(), "no advert captured:\n{adverts}");
    for addresses in listed {
        assert!(
            addresses.starts_with(&format!("{VIP} ")) || addresses == VIP,
            "advert lists {addresses:?}: only {VIP} is advertised"
        );
        assert!(
            !addresses.contains(EXCLUDED4) && !addresses.contains(EXCLUDED6),
            "advert lists an excluded address: {addresses:?}"
        );
    }

    let ns = lan.ns(router).to_string();
    let deleted = Command::new("ip")
        .args([
            "-n",
            &ns,
            "addr",
            "del",
            &format!("{EXCLUDED6}/64"),
            "dev",
            "eth0",
        ])
        .status()
        .expect("run ip addr del");
    assert!(deleted.success(), "ip addr del {EXCLUDED6}");
    lan.wait_until(ELECTION, &format!("r{router} put {EXCLUDED6} back"), || {
        lan.holds_vip(router, EXCLUDED6)
    });

    let dump = lan.dir().join(format!("r{router}")).join("keepvip.data");
    let _ = std::fs::remove_file(&dump);
    lan.signal(router, libc::SIGUSR1);
    lan.wait_until(
        Duration::from_secs(5),
        "the SIGUSR1 dump lists the excluded addresses",
        || {
            let text = std::fs::read_to_string(&dump).unwrap_or_default();
            text.contains(&format!("  Virtual address = {VIP}/24"))
                && text.contains(&format!("  Excluded virtual address = {EXCLUDED6}/64"))
                && text.contains(&format!("  Excluded virtual address = {EXCLUDED4}/32"))
        },
    );
}

/// r1 (priority 150) wins; it dies and r2 (100) takes every address; it
/// returns and takes them back.
fn failover(tag: &str, imps: (Impl, Impl)) {
    let Some(mut lan) = Lan::new(tag, 2) else {
        return;
    };
    let m = lan.mark();
    lan.start(R1, imps.0, &config(150));
    lan.start(R2, imps.1, &config(100));
    owns_all(&lan, R1, m);

    // A few adverts from the master have crossed by now; give the backup
    // a full master_down more to have judged them.
    lan.holds_for(Duration::from_secs(4), "r1 keeps every address", || {
        ALL.iter().all(|a| lan.sole_holder(R1, a))
    });
    no_list_mismatch(&lan, imps);
    if imps.0 == Keepvip {
        keepvip_master_checks(&mut lan, R1);
    }

    let m = lan.mark();
    lan.kill(R1);
    owns_all(&lan, R2, m);
    if imps.1 == Keepvip {
        keepvip_master_checks(&mut lan, R2);
    }

    let m = lan.mark();
    lan.revive(R1);
    owns_all(&lan, R1, m);
    lan.holds_for(Duration::from_secs(4), "r1 keeps every address", || {
        ALL.iter().all(|a| lan.sole_holder(R1, a))
    });
    no_list_mismatch(&lan, imps);
}

#[test]
fn keepvip_master_keepalived_backup() {
    failover("exa", (Keepvip, Keepalived));
}

#[test]
fn keepalived_master_keepvip_backup() {
    failover("exb", (Keepalived, Keepvip));
}
