//! `auth_type AH` (VRRPv2 in an IP Authentication Header, HMAC-MD5-96)
//! against keepalived 2.2.7, in both roles. AH is VRRPv2 only, so the
//! intervals are whole seconds: one test walks through everything.
//!
//! Needs root (network namespaces), keepalived and tcpdump. Set
//! KEEPVIP_SKIP_NETNS=1 to skip explicitly where that is impossible.

mod common;

use common::{Impl, Lan, Mark, ELECTION};
use std::time::Duration;

const VIP: &str = "192.0.2.100";
const KEEPVIP: usize = 1;
const KEEPALIVED: usize = 2;
/// Longer than master_down at 1 s (3 s + skew, under 4 s) plus an
/// interval: a backup dropping the master's adverts would take over in it.
const HOLD: Duration = Duration::from_secs(5);
/// A v2 takeover after a silent death: master_down (under 4 s), with room
/// for a loaded machine.
const TAKEOVER: Duration = Duration::from_secs(8);

fn config(priority: u8, password: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n\
         \x20   state BACKUP\n\
         \x20   interface eth0\n\
         \x20   virtual_router_id 51\n\
         \x20   priority {priority}\n\
         \x20   advert_int 1\n\
         \x20   authentication {{\n\
         \x20       auth_type AH\n\
         \x20       auth_pass {password}\n\
         \x20   }}\n\
         \x20   virtual_ipaddress {{\n\
         \x20       {VIP}/24\n\
         \x20   }}\n\
         }}\n"
    )
}

/// keepvip's counter `name` (SIGUSR2's keepvip.stats).
fn keepvip_counter(lan: &mut Lan, name: &str) -> u64 {
    *lan.keepvip_stats(KEEPVIP)
        .get(name)
        .unwrap_or_else(|| panic!("no counter {name} in keepvip.stats"))
}

/// Every advert on the wire since `since` is in an Authentication Header
/// (the capture's filter takes AH only, so plain VRRP would not show), and
/// both routers sent some.
fn both_sent_ah(lan: &Lan, since: Mark) -> bool {
    let adverts = lan.adverts_since(since);
    [KEEPVIP, KEEPALIVED]
        .iter()
        .all(|&r| adverts.iter().any(|a| a.src_ip == lan.addr(r)))
}

#[test]
fn ah_fails_over_both_ways_with_keepalived_and_drops_a_wrong_password() {
    let Some(mut lan) = Lan::with_capture_filter("ah", 2, "ip proto 51 or arp") else {
        return;
    };

    // What CI pays for this test, lock wait excluded.
    let started = std::time::Instant::now();
    // keepalived alone becomes master; keepvip (higher) takes over, and
    // keepalived stays backup: it accepts our ICV and our sequence numbers,
    // which carry on from the ones it sent.
    lan.start(KEEPALIVED, Impl::Keepalived, &config(100, "secret12"));
    lan.wait_sole_holder(KEEPALIVED, VIP, ELECTION);
    let since = lan.mark();
    lan.start(KEEPVIP, Impl::Keepvip, &config(150, "secret12"));
    lan.wait_sole_holder(KEEPVIP, VIP, ELECTION);
    lan.sole_holder_for(KEEPVIP, VIP, HOLD);
    assert!(both_sent_ah(&lan, since), "{}", lan.diagnose("AH adverts"));
    // Our ICV and SPI are right. (A sequence number can collide once, when
    // both send in the same instant; keepalived pairs do that too.)
    let log = lan.log(KEEPALIVED);
    assert!(
        !log.contains("invalid IPSEC HMAC-MD5") && !log.contains("invalid IPSEC SPI"),
        "{}",
        lan.diagnose("keepalived refused keepvip's AH adverts")
    );

    // keepvip dies: keepalived takes over after master_down.
    lan.kill(KEEPVIP);
    let took = lan.wait_sole_holder(KEEPALIVED, VIP, TAKEOVER);
    eprintln!("keepalived took over in {took:?}");

    // keepvip back with a lower priority: it stays backup under
    // keepalived's adverts (it checks their ICV and takes their sequence).
    let since = lan.mark();
    lan.set_link(KEEPVIP, true);
    lan.start(KEEPVIP, Impl::Keepvip, &config(50, "secret12"));
    // (It first removes the VIP the kill left on its eth0.)
    lan.wait_sole_holder(KEEPALIVED, VIP, ELECTION);
    lan.sole_holder_for(KEEPALIVED, VIP, HOLD);
    assert_eq!(keepvip_counter(&mut lan, "discarded_bad_password"), 0);
    assert_eq!(keepvip_counter(&mut lan, "discarded_old_ah_sequence"), 0);
    assert!(keepvip_counter(&mut lan, "adverts_received") >= 3);

    // keepalived dies: keepvip takes over after master_down.
    lan.kill(KEEPALIVED);
    let took = lan.wait_sole_holder(KEEPVIP, VIP, TAKEOVER);
    eprintln!("keepvip took over in {took:?}");

    // keepalived with another password: each drops the other's adverts
    // (keepvip counts them), so keepalived becomes master too.
    // (The kill left the VIP on its eth0: wait for its adverts as master.)
    let restarted = lan.mark();
    lan.set_link(KEEPALIVED, true);
    lan.start(KEEPALIVED, Impl::Keepalived, &config(100, "wrong"));
    lan.wait_until(
        ELECTION,
        "keepalived (wrong password) is master too",
        || {
            let keepalived_sends = lan
                .adverts_since(restarted)
                .iter()
                .any(|a| a.src_ip == lan.addr(KEEPALIVED));
            keepalived_sends && lan.holds_vip(KEEPALIVED, VIP) && lan.holds_vip(KEEPVIP, VIP)
        },
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while keepvip_counter(&mut lan, "discarded_bad_password") == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            lan.diagnose("keepvip did not count keepalived's adverts as a bad password")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(both_sent_ah(&lan, since));
    eprintln!("took {:?}", started.elapsed());
}
