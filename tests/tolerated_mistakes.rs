//! Config mistakes keepalived 2.2.7 warns about and runs anyway, on a
//! namespace LAN: keepvip must put the same adverts on the wire, beside
//! keepalived in both roles.
//!
//! Needs root (network namespaces), keepalived and tcpdump. Set
//! KEEPVIP_SKIP_NETNS=1 to skip explicitly where that is impossible.

mod common;

use std::time::Duration;

use common::{Impl, Lan, ELECTION};

const R1: usize = 1;
const R2: usize = 2;
const VIP: &str = "192.0.2.100";

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
