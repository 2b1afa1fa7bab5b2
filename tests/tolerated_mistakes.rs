//! Config mistakes keepalived 2.2.7 warns about and runs anyway, on a
//! namespace LAN: keepvip must put the same adverts on the wire, beside
//! keepalived in both roles.
//!
//! Needs root (network namespaces), keepalived and tcpdump. Set
//! KEEPVIP_SKIP_NETNS=1 to skip explicitly where that is impossible.

mod common;

use std::time::Duration;

use common::{Impl, Lan, Mark, ELECTION};

const R1: usize = 1;
const R2: usize = 2;
const VIP: &str = "192.0.2.100";
const VIP2: &str = "192.0.2.101";

/// VRRPv2 at 1 s (authentication is a v2 matter), `auth_type PASS;`.
fn unknown_auth_config(priority: u8) -> String {
    format!(
        "vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    virtual_router_id 63\n\
         \x20   priority {priority}\n    advert_int 1\n\
         \x20   authentication {{\n        auth_type PASS;\n        auth_pass 1111;\n    }}\n\
         \x20   virtual_ipaddress {{\n        {VIP}/24\n    }}\n}}\n"
    )
}

/// keepalived runs an unknown auth_type (here `PASS;`) as no
/// authentication; keepvip must send and accept the same adverts, or each
/// drops the other's and both become master.
#[test]
fn unknown_auth_type_sends_no_authentication_as_keepalived_does() {
    let Some(mut lan) = Lan::new("unknown-auth", 2) else {
        return;
    };
    lan.start(R2, Impl::Keepalived, &unknown_auth_config(100));
    lan.wait_sole_holder(R2, VIP, ELECTION);
    lan.start(R1, Impl::Keepvip, &unknown_auth_config(150));
    lan.wait_sole_holder(R1, VIP, ELECTION);
    lan.sole_holder_for(R1, VIP, Duration::from_secs(3));
    assert!(
        lan.log(R1).contains("unknown auth_type 'PASS;'"),
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

/// The master's and the backup's blocks pasted into one file under one
/// name: VRRPv3 at 0.2 s, the first block VRID 64 at priority 150, the
/// second VRID 65 at priority 200.
fn pasted_instances_config() -> String {
    let block = |vrid: u8, priority: u8, vip: &str| {
        format!(
            "vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id {vrid}\n\
             \x20   priority {priority}\n    version 3\n    advert_int 0.2\n\
             \x20   virtual_ipaddress {{\n        {vip}/24\n    }}\n}}\n"
        )
    };
    format!("{}{}", block(64, 150, VIP), block(65, 200, VIP2))
}

/// keepalived runs the first block of a duplicated instance name; so must
/// keepvip, or the two would run different virtual routers. Both run the
/// same file: one virtual router (VRID 64) between them, r2 (keepalived,
/// first up) master and r1 (keepvip) its backup, then r1 master when r2
/// stops; no one ever holds the second block's VIP or speaks its VRID.
#[test]
fn a_duplicate_instance_runs_its_first_block_as_keepalived_does() {
    let Some(mut lan) = Lan::new("pasted-instances", 2) else {
        return;
    };
    let config = pasted_instances_config();
    lan.start(R2, Impl::Keepalived, &config);
    lan.wait_sole_holder(R2, VIP, ELECTION);
    lan.start(R1, Impl::Keepvip, &config);
    lan.sole_holder_for(R2, VIP, Duration::from_secs(1));
    assert!(
        lan.log(R1).contains("VI_1: already defined at"),
        "{}",
        lan.log(R1)
    );
    lan.stop(R2);
    lan.wait_sole_holder(R1, VIP, ELECTION);
    lan.sole_holder_for(R1, VIP, Duration::from_secs(1));
    assert!(!lan.holds_vip(R1, VIP2) && !lan.holds_vip(R2, VIP2));
    let adverts = lan.adverts_since(Mark::START);
    assert!(
        adverts.iter().any(|a| a.src_ip == lan.addr(R1))
            && adverts.iter().any(|a| a.src_ip == lan.addr(R2)),
        "both routers should have spoken: {adverts:?}"
    );
    assert!(
        adverts.iter().all(|a| a.vrid == 64 && a.priority != 200),
        "an advert of the second block: {adverts:?}"
    );
}
