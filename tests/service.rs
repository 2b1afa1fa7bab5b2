//! The hardened systemd drop-in (cross/systemd/keepvip-hardened.conf),
//! emulated without systemd: its CapabilityBoundingSet and NoNewPrivileges
//! through setpriv, ProtectSystem=strict as a read-only mount namespace in
//! which only the runtime directory (/run/keepvip) is writable. What this
//! does not emulate (the system call filter, address families, private
//! /tmp and devices) is covered by `make check-static` (strace against the
//! filter) and by `make systemd-test` (the unit under a real systemd).
//!
//! Needs root (network and mount namespaces), setpriv, unshare and nsenter
//! (util-linux). KEEPVIP_SKIP_NETNS=1 skips explicitly.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::Lan;

const VIP: &str = "192.0.2.100";
const DROP_IN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/cross/systemd/keepvip-hardened.conf"
);

/// The drop-in's CapabilityBoundingSet as setpriv's `--bounding-set`.
fn bounding_set(without: &[&str]) -> String {
    let unit = std::fs::read_to_string(DROP_IN).unwrap();
    let caps = unit
        .lines()
        .find_map(|l| l.strip_prefix("CapabilityBoundingSet="))
        .expect("the drop-in has a CapabilityBoundingSet");
    let mut set = String::from("-all");
    for cap in caps.split_whitespace() {
        let name = cap.trim_start_matches("CAP_").to_lowercase();
        if !without.contains(&name.as_str()) {
            set.push_str(",+");
            set.push_str(&name);
        }
    }
    set
}

/// A check that passes only when it really runs as nobody, so the VIP is
/// held only if the switch to script_user worked; and one that hangs past
/// its timeout, run as nobody too, so keepvip must kill another user's
/// process group.
fn config() -> String {
    format!(
        "global_defs {{\n    script_user nobody\n}}\n\
         vrrp_script chk_as_nobody {{\n    script \"/bin/sh -c 'test $(id -u) = 65534'\"\n\
         \x20   interval 1\n    weight 0\n}}\n\
         vrrp_script chk_hangs {{\n    script \"/bin/sleep 4\"\n    interval 1\n    timeout 1\n\
         \x20   weight -10\n}}\n\
         vrrp_instance VI_1 {{\n    state MASTER\n    interface eth0\n    virtual_router_id 62\n\
         \x20   priority 150\n    version 3\n    advert_int 0.1\n\
         \x20   track_script {{\n        chk_as_nobody\n        chk_hangs\n    }}\n\
         \x20   virtual_ipaddress {{\n        {VIP}/24\n    }}\n}}\n"
    )
}

/// keepvip as the drop-in would run it: read-only system, a writable
/// /run/keepvip (the default status socket and, via TMPDIR, the dumps),
/// the bounding set and no_new_privs.
fn start_confined(lan: &Lan, bounding: &str) -> Child {
    let log = std::fs::File::create(lan.log_path(1)).unwrap();
    let conf = lan.dir().join("service.conf");
    std::fs::write(&conf, config()).unwrap();
    let bin = std::env::var("KEEPVIP_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_keepvip").into());
    let confine = format!(
        "set -e; mount --make-rprivate /; mount -t tmpfs -o mode=0755 tmpfs /run; \
         mkdir -m 0755 /run/keepvip; mount --bind /run/keepvip /run/keepvip; \
         mount -o remount,bind,ro /run; mount -o remount,bind,ro /; \
         exec setpriv --nnp --inh-caps=-all --bounding-set={bounding} \"$0\" -n -l -f {}",
        conf.display()
    );
    Command::new("ip")
        .args(["netns", "exec", lan.ns(1), "unshare", "-m", "sh", "-c"])
        .arg(&confine)
        .arg(bin)
        .env("TMPDIR", "/run/keepvip")
        .stdin(Stdio::null())
        // Where the harness looks when a wait fails.
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// SIGUSR2 and the statistics file, read through the daemon's own root.
fn stats(lan: &Lan, pid: u32) -> String {
    let file = format!("/proc/{pid}/root/run/keepvip/keepvip.stats");
    let _ = std::fs::remove_file(&file);
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGUSR2) };
    let mut text = String::new();
    lan.wait_until(Duration::from_secs(5), "keepvip.stats is written", || {
        text = std::fs::read_to_string(&file).unwrap_or_default();
        text.contains("log_lines_dropped")
    });
    text
}

fn counter(stats: &str, name: &str) -> u64 {
    stats
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in:\n{stats}"))
}

/// SIGTERM; whether it exited 0, and what it logged.
fn stop(lan: &Lan, mut child: Child) -> (bool, String) {
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().unwrap();
    (status.success(), lan.log(1))
}

#[test]
fn under_the_hardened_drop_in_scripts_run_as_their_user_status_answers_and_hung_ones_die() {
    let Some(lan) = Lan::new("svc-hard", 1) else {
        return;
    };
    let router = start_confined(&lan, &bounding_set(&[]));
    // `ip netns exec`, unshare, sh and setpriv exec one another: the
    // child's pid is the daemon's.
    let pid = router.id();
    // The check passes only as nobody: weight 0 keeps the instance in
    // FAULT, without the VIP, while it fails.
    lan.wait_until(Duration::from_secs(15), "r1 holds the VIP", || {
        lan.holds_vip(1, VIP)
    });
    // `keepvip status` with no option finds the daemon in the runtime
    // directory, as a user would run it on that host. `-r`: entering a
    // mount namespace resets the root to the namespace's, which is not
    // the test's own when it runs in a chroot.
    let bin = std::env::var("KEEPVIP_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_keepvip").into());
    let status = Command::new("nsenter")
        .args(["-t", &pid.to_string(), "-m", "-n", "-r"])
        .args([&bin, "status"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.status.success() && table.contains("VI_1") && table.contains("MASTER"),
        "keepvip status: {table}{}",
        String::from_utf8_lossy(&status.stderr)
    );
    // The hung check is terminated (SIGTERM to nobody's group) after its
    // 1 s timeout; wait for two of them.
    let mut text = String::new();
    lan.wait_until(Duration::from_secs(15), "two check timeouts", || {
        text = stats(&lan, pid);
        counter(&text, "script_timeouts") >= 2
    });
    assert_eq!(counter(&text, "kill_errors"), 0, "{text}");
    let (ok, stderr) = stop(&lan, router);
    assert!(ok, "exit status: {stderr}");
    assert!(!stderr.contains("cannot send signal"), "{stderr}");
    assert!(
        !stderr.contains("Operation not permitted"),
        "something was refused under the drop-in's limits:\n{stderr}"
    );
}

#[test]
fn without_cap_kill_a_hung_script_of_another_user_is_counted_and_logged() {
    let Some(lan) = Lan::new("svc-nokill", 1) else {
        return;
    };
    let router = start_confined(&lan, &bounding_set(&["kill"]));
    // `ip netns exec`, unshare, sh and setpriv exec one another: the
    // child's pid is the daemon's.
    let pid = router.id();
    // Its signals are handled from then on (a SIGUSR2 before would end it).
    lan.wait_until(Duration::from_secs(15), "r1 holds the VIP", || {
        lan.holds_vip(1, VIP)
    });
    let mut text = String::new();
    lan.wait_until(
        Duration::from_secs(15),
        "a kill refused and counted",
        || {
            text = stats(&lan, pid);
            text.contains("kill_errors") && counter(&text, "kill_errors") >= 1
        },
    );
    let (_, stderr) = stop(&lan, router);
    assert!(
        stderr.contains("VRRP_Script(chk_hangs): cannot send signal")
            && stderr.contains("CAP_KILL"),
        "no log line for the refused kill:\n{stderr}"
    );
}
