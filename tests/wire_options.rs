//! keepalived's strict mode and instance options on a namespace LAN,
//! keepvip beside keepalived 2.2.7 in both roles.
//!
//! Needs root (network namespaces), keepalived and tcpdump. Set
//! KEEPVIP_SKIP_NETNS=1 to skip explicitly where that is impossible.

mod common;

use std::time::Duration;

use common::{Impl, Lan, ELECTION};

const R1: usize = 1;
const R2: usize = 2;
const VIP: &str = "192.0.2.100";

/// VRRPv2 at 1 s (strict mode's authentication rule is a v2 matter).
fn strict_config(priority: u8) -> String {
    format!(
        "global_defs {{\n    vrrp_strict\n}}\n\
         vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    virtual_router_id 62\n\
         \x20   priority {priority}\n    advert_int 1\n\
         \x20   authentication {{\n        auth_type PASS\n        auth_pass 1111\n    }}\n\
         \x20   virtual_ipaddress {{\n        {VIP}/24\n    }}\n}}\n"
    )
}

/// Under vrrp_strict keepalived drops the authentication block ("Strict
/// mode does not support authentication. Ignoring."), so its VRRPv2
/// adverts carry none; keepvip must do the same, or each drops the
/// other's adverts and both become master. keepvip master, keepalived
/// backup, then the other way round.
#[test]
fn strict_mode_drops_authentication_as_keepalived_does() {
    let Some(mut lan) = Lan::new("strict-auth", 2) else {
        return;
    };
    lan.start(R2, Impl::Keepalived, &strict_config(100));
    lan.wait_sole_holder(R2, VIP, ELECTION);
    lan.start(R1, Impl::Keepvip, &strict_config(150));
    lan.wait_sole_holder(R1, VIP, ELECTION);
    lan.sole_holder_for(R1, VIP, Duration::from_secs(3));
    assert!(
        lan.log(R1)
            .contains("(VI_1) Strict mode does not support authentication. Ignoring."),
        "{}",
        lan.log(R1)
    );
    lan.stop(R1);
    lan.wait_sole_holder(R2, VIP, ELECTION);
    let capture = std::fs::read_to_string(lan.dir().join("capture.txt")).unwrap_or_default();
    let adverts = capture.lines().filter(|l| l.contains("VRRPv2")).count();
    assert!(adverts > 3, "too few adverts captured:\n{capture}");
    assert!(
        !capture.contains("authtype simple"),
        "an advert carried a password:\n{capture}"
    );
}

fn instance(vrid: u8, vip: &str, extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id {vrid}\n    priority 150\n\
         \x20   version 3\n    advert_int 0.2\n{extra}\
         \x20   virtual_ipaddress {{\n        {vip}/24\n    }}\n}}\n"
    )
}

/// dont_track_primary: the instance's own interface going down leaves it
/// master, in keepvip as in keepalived; without it, both go to FAULT.
#[test]
fn dont_track_primary_ignores_the_own_interface_as_keepalived_does() {
    let Some(mut lan) = Lan::new("dont-track", 2) else {
        return;
    };
    const VIP2: &str = "192.0.2.101";
    let extra = "    dont_track_primary\n";
    lan.start(R1, Impl::Keepvip, &instance(63, VIP, extra));
    lan.start(R2, Impl::Keepalived, &instance(64, VIP2, extra));
    lan.wait_sole_holder(R1, VIP, ELECTION);
    lan.wait_sole_holder(R2, VIP2, ELECTION);
    lan.set_link(R1, false);
    lan.set_link(R2, false);
    lan.holds_for(Duration::from_millis(1500), "both stay master", || {
        lan.holds_vip(R1, VIP) && lan.holds_vip(R2, VIP2)
    });
    for router in [R1, R2] {
        assert!(
            !lan.log(router).contains("FAULT"),
            "r{router}:\n{}",
            lan.log(router)
        );
    }
    lan.set_link(R1, true);
    lan.set_link(R2, true);
    lan.stop(R1);
    lan.stop(R2);

    // The control: without it, both go to FAULT and drop the VIP.
    lan.start(R1, Impl::Keepvip, &instance(63, VIP, ""));
    lan.start(R2, Impl::Keepalived, &instance(64, VIP2, ""));
    lan.wait_sole_holder(R1, VIP, ELECTION);
    lan.wait_sole_holder(R2, VIP2, ELECTION);
    lan.set_link(R1, false);
    lan.set_link(R2, false);
    lan.wait_until(ELECTION, "both in FAULT without their VIPs", || {
        !lan.holds_vip(R1, VIP) && !lan.holds_vip(R2, VIP2)
    });
}
