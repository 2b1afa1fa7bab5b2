//! `startup_script`, `vrrp_startup_delay` and `shutdown_script` on a
//! namespace LAN, as keepalived 2.2.7 runs them: the instance starts only
//! after the startup script ended and the delay passed; the shutdown
//! script runs after the instance stopped and is killed at its timeout.
//!
//! Needs root (network namespaces) and tcpdump. Set KEEPVIP_SKIP_NETNS=1
//! to skip explicitly where that is impossible.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use common::{Impl, Lan, ELECTION};

const VIP: &str = "192.0.2.100";

#[test]
fn instances_wait_for_the_startup_script_and_delay_and_shutdown_is_bounded() {
    let Some(mut lan) = Lan::new("startup-scripts", 1) else {
        return;
    };
    let dir = lan.dir().to_path_buf();
    let out = dir.join("scripts.out");
    let script = dir.join("phase.sh");
    // phase.sh NAME SECONDS: records its start and end around a sleep.
    fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$1 start\" >> {out}\nsleep $2\necho \"$1 end\" >> {out}\n",
            out = out.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let config = format!(
        "global_defs {{\n    router_id r1\n    startup_script \"{s} up 1\"\n    \
         vrrp_startup_delay 1\n    shutdown_script \"{s} down 30\"\n    \
         shutdown_script_timeout 1\n}}\n\
         vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    version 3\n    \
         virtual_router_id 68\n    priority 100\n    advert_int 0.2\n    \
         virtual_ipaddress {{\n        {VIP}\n    }}\n}}\n",
        s = script.display()
    );
    let started = Instant::now();
    lan.start(1, Impl::Keepvip, &config);
    lan.wait_sole_holder(1, VIP, ELECTION);
    // 1 s of script, 1 s of delay, then master_down (0.72 s).
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(2700), "master after {took:?}");
    let log = lan.log(1);
    let at = |text: &str| {
        log.find(text)
            .unwrap_or_else(|| panic!("{}", lan.diagnose(&format!("no '{text}' in the log"))))
    };
    assert!(at("Running startup script") < at("startup script succeeded"));
    assert!(at("startup script succeeded") < at("Delaying startup for 1 seconds"));
    assert!(at("Delaying startup for 1 seconds") < at("(VI_1) Entering BACKUP STATE"));
    assert_eq!(fs::read_to_string(&out).unwrap(), "up start\nup end\n");

    let stopping = Instant::now();
    assert!(lan.stop(1).success());
    let took = stopping.elapsed();
    assert!(took < Duration::from_secs(5), "stopping took {took:?}");
    let log = lan.log(1);
    assert!(log.find("(VI_1) Stopped").unwrap() < log.find("Running shutdown script").unwrap());
    assert!(log.contains("shutdown script timed out"), "{log}");
    assert_eq!(
        fs::read_to_string(&out).unwrap(),
        "up start\nup end\ndown start\n",
        "the shutdown script was killed at its timeout"
    );
}
