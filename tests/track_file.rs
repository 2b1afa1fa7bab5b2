//! `track_file` on a namespace LAN: the operator's drain (`echo -254 >
//! drain`) moves the VIP at once, `0` brings it back, and a value times
//! the weight moves the priority below the backup's.
//!
//! Needs root (network namespaces) and tcpdump. Set KEEPVIP_SKIP_NETNS=1
//! to skip explicitly where that is impossible.

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use common::{Impl, Lan, ELECTION};

const VIP: &str = "192.0.2.100";
/// advert_int 0.2: master_down is about 0.7 s; a FAULT master also sends
/// priority 0, so the backup takes over after its skew.
const TAKEOVER: Duration = Duration::from_secs(2);

fn config(router: usize, priority: u8, track: &str) -> String {
    format!(
        "global_defs {{\n    router_id r{router}\n}}\n\
         {track}\
         vrrp_instance VI_1 {{\n\
         \x20   state BACKUP\n\
         \x20   interface eth0\n\
         \x20   version 3\n\
         \x20   virtual_router_id 64\n\
         \x20   priority {priority}\n\
         \x20   advert_int 0.2\n\
         {lines}\
         \x20   virtual_ipaddress {{\n        {VIP}\n    }}\n\
         }}\n",
        lines = if track.is_empty() {
            ""
        } else {
            "    track_file {\n        drain\n    }\n"
        }
    )
}

fn write(path: &Path, text: &str) {
    // As `echo N > file` does: truncate, write, close.
    fs::write(path, text).unwrap();
}

#[test]
fn a_drained_file_moves_the_vip_and_its_value_moves_the_priority() {
    let Some(mut lan) = Lan::new("track-file", 2) else {
        return;
    };
    let drain = lan.dir().join("drain");
    // init_file ... overwrite: a drain left from before is undone at start.
    write(&drain, "-254\n");
    let track = format!(
        "vrrp_track_file drain {{\n    file {}\n    weight 1\n    init_file 0 overwrite\n}}\n",
        drain.display()
    );
    lan.start(1, Impl::Keepvip, &config(1, 150, &track));
    lan.start(2, Impl::Keepvip, &config(2, 100, ""));
    lan.wait_sole_holder(1, VIP, ELECTION);
    assert_eq!(fs::read_to_string(&drain).unwrap(), "0\n");
    assert!(lan.log(1).contains("\"vrrp_track_file\" is deprecated"));

    write(&drain, "-254\n");
    let took = lan.wait_sole_holder(2, VIP, ELECTION);
    assert!(took < TAKEOVER, "drain took {took:?}");
    lan.wait_until(ELECTION, "r1 logs FAULT", || {
        lan.log(1).contains("tracked file drain now FAULT state")
    });

    write(&drain, "0\n");
    let took = lan.wait_sole_holder(1, VIP, ELECTION);
    assert!(took < TAKEOVER, "undrain took {took:?}");

    // 150 - 60 = 90, below r2's 100: r2 preempts.
    write(&drain, "-60\n");
    let took = lan.wait_sole_holder(2, VIP, ELECTION);
    assert!(took < TAKEOVER, "a lower priority took {took:?}");
    assert!(lan
        .log(1)
        .contains("Changing effective priority from 150 to 90"));
}
