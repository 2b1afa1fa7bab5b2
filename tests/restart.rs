//! `keepvip restart`: a restart (or an upgrade to the binary on disk) that
//! moves no VIP, next to the real keepalived. keepvip as master: the
//! keepalived backup never takes over, the VIP never leaves the master's
//! interface, the master's adverts keep their cadence (no gap over 1.5
//! intervals), notify commands are not run again. keepvip as backup: it
//! stays silent. A restart into a binary that exits at once: a failover
//! after master_down, as after a crash. A state file that is not this
//! config's, or too old, is not trusted.
//!
//! Needs root (network namespaces), keepalived and tcpdump. Set
//! KEEPVIP_SKIP_NETNS=1 to skip explicitly where that is impossible.

mod common;

use common::{AddressMonitor, Impl, Lan, ELECTION};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const KEEPVIP: usize = 1;
const KEEPALIVED: usize = 2;
const VIP: &str = "192.0.2.100";

fn config(priority: u8, advert_int: &str, notify: Option<&Path>) -> String {
    let notify = notify
        .map(|log| format!("    notify \"/bin/sh -c 'echo $* >> {}'\"\n", log.display()))
        .unwrap_or_default();
    format!(
        "vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority {priority}
    version 3
    advert_int {advert_int}
{notify}    virtual_ipaddress {{
        {VIP}/24
    }}
}}
"
    )
}

fn router_dir(lan: &Lan, router: usize) -> PathBuf {
    lan.log_path(router).parent().unwrap().to_path_buf()
}

fn socket(lan: &Lan, router: usize) -> PathBuf {
    router_dir(lan, router).join("status.sock")
}

fn state_file(lan: &Lan, router: usize) -> PathBuf {
    router_dir(lan, router).join("keepvip.restart-state")
}

/// `keepvip restart` against the router's daemon: Ok when the new image
/// answered, Err with what the client said otherwise.
fn restart(lan: &Lan, router: usize, wait_s: u32) -> Result<(), String> {
    let out = Command::new(env!("CARGO_BIN_EXE_keepvip"))
        .args(["restart", "--wait", &wait_s.to_string(), "--socket"])
        .arg(socket(lan, router))
        .output()
        .expect("run keepvip restart");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// A copy of the binary under test, in the router's directory, that the
/// router runs and a test replaces as a package upgrade does: a new file
/// renamed over the old one.
fn installed_copy(lan: &mut Lan, router: usize) -> PathBuf {
    let bin = router_dir(lan, router).join("keepvip");
    install(&bin, Path::new(env!("CARGO_BIN_EXE_keepvip")));
    lan.set_keepvip_binary(router, Some(bin.clone()));
    bin
}

fn install(at: &Path, from: &Path) {
    let new = at.with_extension("new");
    fs::copy(from, &new).expect("copy binary");
    fs::set_permissions(&new, fs::Permissions::from_mode(0o755)).unwrap();
    fs::rename(&new, at).expect("install binary");
}

/// The longest time between two adverts of `router` in the capture since
/// `since`.
fn longest_gap(lan: &Lan, router: usize, since: common::Mark) -> f64 {
    let times: Vec<f64> = lan
        .adverts_since(since)
        .iter()
        .filter(|a| a.src_mac == lan.mac(router))
        .map(|a| a.time)
        .collect();
    times.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max)
}

/// How many processes run `program` (by their command line).
fn processes_running(program: &Path) -> usize {
    let wanted = program.to_string_lossy().into_owned();
    fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| fs::read(e.ok()?.path().join("cmdline")).ok())
        .filter(|cmdline| {
            cmdline
                .split(|b| *b == 0)
                .any(|arg| arg == wanted.as_bytes())
        })
        .count()
}

fn lines(path: &Path) -> usize {
    fs::read_to_string(path).unwrap_or_default().lines().count()
}

/// keepvip master, keepalived backup: `restarts` restarts in a row.
fn master_survives_restarts(tag: &str, advert_int: &str, interval_s: f64, restarts: u32) {
    let Some(mut lan) = Lan::new(tag, 2) else {
        return;
    };
    let notify_log = router_dir(&lan, KEEPVIP).join("notify.log");
    // A check that hangs until its timeout: a restart finds a run of it
    // going, which the new image adopts (and terminates on time) rather
    // than leave it running for ever beside its own.
    let hang = router_dir(&lan, KEEPVIP).join("check-hangs");
    // It also notes its blocked signals: a restarted image starts its
    // children with none blocked, though it runs with its own blocked.
    // awk, not sh: dash clears the mask when it starts (hiding what the
    // daemon handed over), and blocks every signal while it waits for a
    // child, so a shell reading its own status races with itself.
    let mask = router_dir(&lan, KEEPVIP).join("check-mask");
    fs::write(
        &hang,
        format!(
            "#!/usr/bin/awk -f\nBEGIN {{\n    while ((getline line < \"/proc/self/status\") > 0)\n        \
             if (line ~ /^SigBlk/) print line > \"{mask}\"\n    close(\"{mask}\")\n    \
             system(\"exec sleep 100\")\n}}\n",
            mask = mask.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&hang, fs::Permissions::from_mode(0o755)).unwrap();
    let conf = format!(
        "vrrp_script chk_hang {{\n    script \"{}\"\n    interval 1\n    timeout 1\n    weight -10\n}}\n",
        hang.display()
    ) + &config(150, advert_int, Some(&notify_log)).replace(
        "    virtual_ipaddress {",
        "    track_script {\n        chk_hang\n    }\n    virtual_ipaddress {",
    );
    lan.start(KEEPVIP, Impl::Keepvip, &conf);
    lan.start(KEEPALIVED, Impl::Keepalived, &config(100, advert_int, None));
    lan.wait_sole_holder(KEEPVIP, VIP, ELECTION);
    lan.wait_until(Duration::from_secs(5), "notify ran for MASTER", || {
        fs::read_to_string(&notify_log).is_ok_and(|t| t.contains("MASTER"))
    });
    let notified = lines(&notify_log);
    let pid = lan.pid(KEEPVIP);
    let monitor = AddressMonitor::start(&lan, KEEPVIP);
    let since = lan.mark();
    for n in 1..=restarts {
        let before = lan.mark();
        restart(&lan, KEEPVIP, 10)
            .unwrap_or_else(|e| panic!("{}", lan.diagnose(&format!("restart #{n}: {e}"))));
        assert!(
            lan.holds_vip(KEEPVIP, VIP),
            "{}",
            lan.diagnose("VIP gone after restart")
        );
        // The new image advertises before the next restart.
        lan.wait_until(common::CAPTURE_LAG, "an advert after the restart", || {
            lan.adverts_since(before)
                .iter()
                .any(|a| a.src_mac == lan.mac(KEEPVIP))
        });
    }
    let end = lan.mark();
    lan.wait_until(common::CAPTURE_LAG, "two more adverts are captured", || {
        lan.adverts_since(end)
            .iter()
            .filter(|a| a.src_mac == lan.mac(KEEPVIP))
            .count()
            >= 2
    });
    assert_eq!(lan.pid(KEEPVIP), pid);
    let log = lan.log(KEEPVIP);
    assert_eq!(
        log.matches("(VI_1) resumed in MASTER after restart")
            .count(),
        restarts as usize,
        "{}",
        lan.diagnose("every restart resumed")
    );
    let gap = longest_gap(&lan, KEEPVIP, since);
    eprintln!(
        "[{tag}] {restarts} restarts: longest advert gap {gap:.3} s (interval {interval_s} s)"
    );
    assert!(
        gap < 1.5 * interval_s,
        "{}",
        lan.diagnose(&format!("advert gap {gap:.3} s"))
    );
    let from_backup = lan
        .adverts_since(since)
        .iter()
        .filter(|a| a.src_mac == lan.mac(KEEPALIVED))
        .count();
    assert_eq!(from_backup, 0, "{}", lan.diagnose("keepalived advertised"));
    assert!(
        !lan.log(KEEPALIVED).contains("Entering MASTER STATE"),
        "{}",
        lan.diagnose("keepalived became master")
    );
    assert_eq!(
        monitor.deleted(VIP),
        Vec::<String>::new(),
        "the VIP was removed"
    );
    assert!(lan.holds_vip(KEEPVIP, VIP));
    assert_eq!(lines(&notify_log), notified, "notify ran again");
    assert!(
        !state_file(&lan, KEEPVIP).exists(),
        "the state file was left"
    );
    let _ = fs::remove_file(&mask);
    // awk creates the file at its first print and writes it at close:
    // what it wrote, not only that the file is there.
    lan.wait_until(Duration::from_secs(3), "the check runs again", || {
        fs::read_to_string(&mask).is_ok_and(|t| t.contains("SigBlk"))
    });
    let blocked = fs::read_to_string(&mask).unwrap();
    assert_eq!(
        blocked.split_whitespace().nth(1),
        Some("0000000000000000"),
        "{blocked}"
    );
    let daemon = fs::read_to_string(format!("/proc/{}/status", pid.unwrap())).unwrap();
    let daemon_blocked = daemon.lines().find(|l| l.starts_with("SigBlk")).unwrap();
    assert_ne!(
        daemon_blocked.split_whitespace().nth(1),
        Some("0000000000000000"),
        "the daemon blocks its signals (signalfd)"
    );
    lan.wait_until(
        Duration::from_secs(5),
        "at most one run of the hung check",
        || processes_running(&hang) <= 1,
    );
    // A plain stop still gives the VIP away at once (priority 0).
    lan.stop(KEEPVIP);
    lan.wait_sole_holder(KEEPALIVED, VIP, Duration::from_secs(3));
}

#[test]
fn master_survives_20_restarts_at_a_tenth_of_a_second() {
    master_survives_restarts("rs-fast", "0.1", 0.1, 20);
}

/// Fewer restarts at 1 s: each costs an advert interval of waiting.
#[test]
fn master_survives_restarts_at_one_second() {
    master_survives_restarts("rs-slow", "1", 1.0, 5);
}

/// A sync group of two instances no keepalived runs: VG_B tracks a check
/// that passes until `fail` exists (weight 0: then FAULT), and holds VG_A
/// in FAULT with it. VG_B's notify takes 2 s and appends to `notified`:
/// its next ones wait in its queue meanwhile.
fn group_held_in_fault(fail: &Path, notified: &Path) -> String {
    let instance = |name: &str, vrid: u8, vip: &str, track: &str| {
        format!(
            "vrrp_instance {name} {{\n    state BACKUP\n    interface eth0\n\
             \x20   virtual_router_id {vrid}\n    priority 100\n    version 3\n\
             \x20   advert_int 0.1\n{track}    virtual_ipaddress {{\n        {vip}/24\n    }}\n}}\n"
        )
    };
    format!(
        "vrrp_script chk_fail {{\n    script \"/bin/sh -c '! test -e {}'\"\n    interval 0.2\n}}\n\
         vrrp_sync_group G {{\n    group {{\n        VG_A\n        VG_B\n    }}\n}}\n{}{}",
        fail.display(),
        instance("VG_A", 62, "192.0.2.101", ""),
        instance(
            "VG_B",
            63,
            "192.0.2.102",
            &format!(
                "    track_script {{\n        chk_fail\n    }}\n\
                 \x20   notify \"/bin/sh -c 'sleep 2; echo $* >> {}'\"\n",
                notified.display()
            )
        ),
    )
}

/// keepalived master, keepvip backup: a restarted backup stays BACKUP,
/// silent, without the VIP.
///
/// Beside it, on the same router, a sync group in FAULT (one member by its
/// own check, the other held by the group): both stay in FAULT across the
/// restarts, silently (no state change, so no notify or fifo line, and no
/// advert). The notify commands of the group's way there (BACKUP, MASTER,
/// FAULT) still wait behind a slow one at the first restart: each runs
/// once, in order.
#[test]
fn backup_stays_backup_across_restarts() {
    let Some(mut lan) = Lan::new("rs-backup", 2) else {
        return;
    };
    lan.start(KEEPALIVED, Impl::Keepalived, &config(150, "0.1", None));
    // A vrrp_notify_fifo and its reader script: one reader, restarts or not.
    let dir = router_dir(&lan, KEEPVIP);
    let reader = dir.join("fifo-reader");
    fs::write(&reader, "#!/bin/sh\ncat \"$1\" >/dev/null\n").unwrap();
    fs::set_permissions(&reader, fs::Permissions::from_mode(0o755)).unwrap();
    let fifo_conf = format!(
        "global_defs {{\n    vrrp_notify_fifo {}\n    vrrp_notify_fifo_script {}\n}}\n",
        dir.join("notify.fifo").display(),
        reader.display()
    );
    let fail = dir.join("fail");
    let notified = dir.join("notified");
    lan.start(
        KEEPVIP,
        Impl::Keepvip,
        &(fifo_conf + &config(100, "0.1", None) + &group_held_in_fault(&fail, &notified)),
    );
    lan.wait_sole_holder(KEEPALIVED, VIP, ELECTION);
    lan.wait_until(Duration::from_secs(5), "keepvip is BACKUP", || {
        lan.log(KEEPVIP).contains("(VI_1) Entering BACKUP STATE")
    });
    // The group was up (master, alone on its VRIDs); its check fails now.
    lan.wait_until(Duration::from_secs(5), "the group is MASTER", || {
        lan.holds_vip(KEEPVIP, "192.0.2.102")
    });
    fs::write(&fail, "").unwrap();
    lan.wait_until(Duration::from_secs(5), "the group is in FAULT", || {
        let log = lan.log(KEEPVIP);
        log.contains("(VG_A) Entering FAULT STATE") && log.contains("(VG_B) Entering FAULT STATE")
    });
    // Let any start-up contest settle first: keepalived the sole master.
    lan.sole_holder_for(KEEPALIVED, VIP, Duration::from_millis(500));
    let entries_before = lan.log(KEEPVIP).matches("Entering").count();
    let since = lan.mark();
    for n in 1..=5 {
        restart(&lan, KEEPVIP, 10)
            .unwrap_or_else(|e| panic!("{}", lan.diagnose(&format!("restart #{n}: {e}"))));
    }
    // The signal for service managers does the same.
    lan.signal(KEEPVIP, libc::SIGQUIT);
    lan.wait_until(Duration::from_secs(5), "SIGQUIT restarted it", || {
        lan.log(KEEPVIP)
            .matches("(VI_1) resumed in BACKUP after restart")
            .count()
            == 6
    });
    // A backup left without adverts for master_down (0.3 s + skew) would
    // be master by now.
    lan.sole_holder_for(KEEPALIVED, VIP, Duration::from_secs(1));
    let log = lan.log(KEEPVIP);
    assert_eq!(
        log.matches("(VI_1) resumed in BACKUP after restart")
            .count(),
        6
    );
    assert_eq!(log.matches("Entering").count(), entries_before, "{log}");
    for member in ["VG_A", "VG_B"] {
        let resumed = format!("({member}) resumed in FAULT after restart");
        assert_eq!(log.matches(&resumed).count(), 6, "{log}");
    }
    lan.wait_until(Duration::from_secs(5), "one fifo reader runs", || {
        processes_running(&reader) == 1
    });
    lan.wait_until(Duration::from_secs(10), "VG_B's three notify ran", || {
        lines(&notified) >= 3
    });
    assert_eq!(
        fs::read_to_string(&notified).unwrap(),
        "VG_B BACKUP 100\nVG_B MASTER 100\nVG_B FAULT 100\n",
        "{log}"
    );
    let from_keepvip = lan
        .adverts_since(since)
        .iter()
        .filter(|a| a.src_mac == lan.mac(KEEPVIP))
        .count();
    assert_eq!(from_keepvip, 0, "{}", lan.diagnose("keepvip advertised"));
}

/// A restart into a binary that exits at once: keepvip's adverts stop and
/// the keepalived backup takes over after master_down, as after a crash.
/// The next normal start removes the state file nobody took, and does not
/// trust it.
#[test]
fn a_restart_into_a_binary_that_exits_falls_back_to_a_failover() {
    let Some(mut lan) = Lan::new("rs-fallback", 2) else {
        return;
    };
    let bin = installed_copy(&mut lan, KEEPVIP);
    lan.start(KEEPVIP, Impl::Keepvip, &config(150, "0.1", None));
    lan.start(KEEPALIVED, Impl::Keepalived, &config(100, "0.1", None));
    lan.wait_sole_holder(KEEPVIP, VIP, ELECTION);
    // A binary that cannot be executed: refused before anything is given
    // up; the daemon runs on, master, and leaves no state file.
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o644)).unwrap();
    let refused = restart(&lan, KEEPVIP, 1).unwrap_err();
    assert!(refused.contains("cannot execute"), "{refused}");
    assert!(!state_file(&lan, KEEPVIP).exists());
    lan.sole_holder_for(KEEPVIP, VIP, Duration::from_millis(500));
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    // A config on disk the new image would refuse (and so start afresh,
    // a failover): refused too, the running config kept.
    let conf = router_dir(&lan, KEEPVIP).join("keepalived.conf");
    let good = fs::read_to_string(&conf).unwrap();
    fs::write(&conf, format!("{good}vrrp_instance {{\n")).unwrap();
    let refused = restart(&lan, KEEPVIP, 1).unwrap_err();
    assert!(
        refused.contains("configuration on disk is not valid"),
        "{refused}"
    );
    assert!(!state_file(&lan, KEEPVIP).exists());
    fs::write(&conf, good).unwrap();
    lan.sole_holder_for(KEEPVIP, VIP, Duration::from_millis(500));
    // Executable by its mode, but not by the kernel (no #! line, not ELF):
    // execve itself fails. The daemon logs it, deletes the state file and
    // runs on; `keepvip restart` says so instead of taking the old image's
    // answers for the new one's.
    let garbage = router_dir(&lan, KEEPVIP).join("garbage");
    fs::write(&garbage, "not a program\n").unwrap();
    install(&bin, &garbage);
    let failed = restart(&lan, KEEPVIP, 2).unwrap_err();
    assert!(failed.contains("runs on"), "{failed}");
    assert!(!state_file(&lan, KEEPVIP).exists());
    lan.sole_holder_for(KEEPVIP, VIP, Duration::from_millis(500));
    assert!(lan.log(KEEPVIP).contains("restart: cannot execute"));
    let broken = router_dir(&lan, KEEPVIP).join("broken");
    fs::write(&broken, "#!/bin/sh\nexit 1\n").unwrap();
    install(&bin, &broken);
    let since = lan.mark();
    let answer = restart(&lan, KEEPVIP, 1);
    assert!(answer.is_err(), "the restart cannot have come back");
    lan.wait_exit(KEEPVIP, Duration::from_secs(5));
    lan.wait_until(Duration::from_secs(5), "keepalived takes over", || {
        lan.holds_vip(KEEPALIVED, VIP)
    });
    // On the wire: no priority 0 from keepvip, and keepalived's first
    // advert comes master_down (0.3 s + skew 0.06 s) after keepvip's last.
    lan.wait_until(
        common::CAPTURE_LAG,
        "keepalived's adverts are captured",
        || {
            lan.adverts_since(since)
                .iter()
                .any(|a| a.src_mac == lan.mac(KEEPALIVED))
        },
    );
    let adverts = lan.adverts_since(common::Mark::START);
    assert!(
        !adverts
            .iter()
            .any(|a| a.src_mac == lan.mac(KEEPVIP) && a.priority == 0),
        "keepvip sent priority 0"
    );
    let first = adverts
        .iter()
        .find(|a| a.src_mac == lan.mac(KEEPALIVED))
        .unwrap();
    let last = adverts
        .iter()
        .rev()
        .find(|a| a.src_mac == lan.mac(KEEPVIP) && a.time < first.time)
        .unwrap();
    let took = first.time - last.time;
    eprintln!("[rs-fallback] keepalived took over {took:.3} s after keepvip's last advert");
    assert!(
        (0.3..1.0).contains(&took),
        "{}",
        lan.diagnose(&format!("takeover after {took:.3} s"))
    );
    assert!(state_file(&lan, KEEPVIP).exists());
    // Back to a working binary: a normal start, which trusts nothing.
    install(&bin, Path::new(env!("CARGO_BIN_EXE_keepvip")));
    lan.start(KEEPVIP, Impl::Keepvip, &config(150, "0.1", None));
    lan.wait_sole_holder(KEEPVIP, VIP, ELECTION);
    assert!(!state_file(&lan, KEEPVIP).exists());
    let log = lan.log(KEEPVIP);
    assert!(
        log.contains("left by a restart that did not complete"),
        "{log}"
    );
    assert!(!log.contains("resumed in"), "{log}");
}

/// CLOCK_MONOTONIC in microseconds, the clock of the state file.
fn monotonic_us() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1_000
}

/// A state file of a master that wrote it `age_us` ago, for `digest`.
fn master_state(digest: &str, age_us: u64) -> String {
    let boot_id = fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    let now = monotonic_us();
    format!(
        "keepvip-restart-state 1\nboot_id {}\nconfig_digest {digest}\nwritten_us {}\n\
         instance VI_1 state MASTER priority 150 master_interval_cs 10 advert {} \
         master_down - garp_repeat - garp_refresh - ah_sequence 0\nend\n",
        boot_id.trim(),
        now - age_us,
        now - age_us + 100_000
    )
}

/// A state file that is not this config's, too old for its instance, or
/// not a state file at all is removed and ignored with a log line, and the
/// instance starts as at boot (the stale VIP removed first).
#[test]
fn a_stale_or_foreign_state_file_is_not_trusted() {
    let Some(mut lan) = Lan::new("rs-stale", 1) else {
        return;
    };
    let conf = config(150, "0.1", None);
    lan.start(KEEPVIP, Impl::Keepvip, &conf);
    lan.wait_until(ELECTION, "keepvip is master", || {
        lan.holds_vip(KEEPVIP, VIP)
    });
    let log = lan.log(KEEPVIP);
    let digest = log
        .split("config digest ")
        .nth(1)
        .and_then(|rest| rest.get(..8))
        .expect("digest logged")
        .to_string();
    lan.stop(KEEPVIP);
    // The new image is told of the file as a restart tells it.
    let wrapper = router_dir(&lan, KEEPVIP).join("keepvip-resuming");
    let state = state_file(&lan, KEEPVIP);
    fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nKEEPVIP_RESTART_STATE={} exec {} \"$@\"\n",
            state.display(),
            env!("CARGO_BIN_EXE_keepvip")
        ),
    )
    .unwrap();
    fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755)).unwrap();
    lan.set_keepvip_binary(KEEPVIP, Some(wrapper));
    let other = format!("{:08x}", u32::from_str_radix(&digest, 16).unwrap() ^ 1);
    let cases = [
        (master_state(&other, 0), "is for config digest"),
        (
            master_state(&digest, 5_000_000),
            "(VI_1) restart state ignored: older than master_down",
        ),
        (
            "not a state file\n".to_string(),
            "ignored: line 1: expected",
        ),
    ];
    for (text, why) in cases {
        // As a crash leaves it: the VIP still on the interface.
        if !lan.holds_vip(KEEPVIP, VIP) {
            let added = Command::new("ip")
                .args([
                    "-n",
                    lan.ns(KEEPVIP),
                    "addr",
                    "add",
                    "192.0.2.100/24",
                    "dev",
                    "eth0",
                ])
                .status()
                .unwrap();
            assert!(added.success());
        }
        fs::write(&state, text).unwrap();
        let log_before = lan.log(KEEPVIP).len();
        lan.start(KEEPVIP, Impl::Keepvip, &conf);
        lan.wait_until(Duration::from_secs(5), "it starts afresh", || {
            lan.log(KEEPVIP)[log_before..].contains("Entering BACKUP STATE (init)")
        });
        let log = lan.log(KEEPVIP)[log_before..].to_string();
        assert!(log.contains(why), "expected {why:?} in:\n{log}");
        assert!(log.contains("removed stale 192.0.2.100/24"), "{log}");
        assert!(!log.contains("resumed in"), "{log}");
        assert!(!state.exists(), "the state file was left");
        lan.stop(KEEPVIP);
    }
}

/// The binary under test built again with another version string
/// (KEEPVIP_BUILD_TAG), in its own target directory: one extra `cargo
/// build`, kept between runs.
fn tagged_build(tag: &str) -> PathBuf {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/restart-tagged");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--bin", "keepvip", "--target-dir"])
        .arg(&target)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("KEEPVIP_BUILD_TAG", tag)
        .status()
        .expect("cargo build");
    assert!(status.success(), "building the tagged keepvip failed");
    target.join("debug/keepvip")
}

/// An upgrade: the installed binary is replaced by a build with another
/// version string, and the config is changed; `keepvip restart` runs the
/// new build without moving the VIP, and the change is in force.
#[test]
fn an_upgrade_to_a_new_build_moves_no_vip() {
    const TAG: &str = "restart-test-upgrade";
    // Built before the LAN is made: no namespace lock held meanwhile.
    let tagged = tagged_build(TAG);
    let version = Command::new(&tagged).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).contains(TAG));
    let Some(mut lan) = Lan::new("rs-upgrade", 2) else {
        return;
    };
    let bin = installed_copy(&mut lan, KEEPVIP);
    lan.start(KEEPVIP, Impl::Keepvip, &config(150, "0.1", None));
    lan.start(KEEPALIVED, Impl::Keepalived, &config(100, "0.1", None));
    lan.wait_sole_holder(KEEPVIP, VIP, ELECTION);
    let monitor = AddressMonitor::start(&lan, KEEPVIP);
    let since = lan.mark();
    install(&bin, &tagged);
    // With the upgrade, a config change: applied as a reload applies it.
    let conf = router_dir(&lan, KEEPVIP).join("keepalived.conf");
    fs::write(&conf, config(160, "0.1", None)).unwrap();
    restart(&lan, KEEPVIP, 10).unwrap_or_else(|e| panic!("{}", lan.diagnose(&e)));
    // By the capture's clock, not its length: the old image's last advert
    // (sent just before the exec) may reach the file after the answer.
    let after = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let new_image_adverts = || -> Vec<common::Advert> {
        lan.adverts_since(since)
            .into_iter()
            .filter(|a| a.src_mac == lan.mac(KEEPVIP) && a.time > after)
            .collect()
    };
    lan.wait_until(common::CAPTURE_LAG, "two adverts of the new image", || {
        new_image_adverts().len() >= 2
    });
    let log = lan.log(KEEPVIP);
    assert!(
        log.contains(&format!("Starting keepvip 0.1.0 ({TAG})")),
        "{log}"
    );
    assert!(
        log.contains("(VI_1) resumed in MASTER after restart"),
        "{log}"
    );
    assert!(
        log.contains("(VI_1) configuration changed: applying it in place"),
        "{log}"
    );
    let priorities: Vec<u8> = new_image_adverts().iter().map(|a| a.priority).collect();
    assert!(priorities.iter().all(|p| *p == 160), "{priorities:?}");
    let gap = longest_gap(&lan, KEEPVIP, since);
    assert!(
        gap < 0.15,
        "{}",
        lan.diagnose(&format!("advert gap {gap:.3} s"))
    );
    assert!(!lan
        .adverts_since(since)
        .iter()
        .any(|a| a.src_mac == lan.mac(KEEPALIVED)));
    assert_eq!(
        monitor.deleted(VIP),
        Vec::<String>::new(),
        "the VIP was removed"
    );
    lan.sole_holder_for(KEEPVIP, VIP, Duration::from_millis(500));
}

/// A restart into a config that removes a master: the removed instance's
/// FAULT line (as a reload writes it) reaches the vrrp notify fifo's
/// reader, the new image's, as it does on a reload; the old image's
/// readers are killed at the exec, with the fifo, before they read it.
#[test]
fn a_restart_removing_a_master_writes_its_fifo_line_for_the_new_reader() {
    let Some(mut lan) = Lan::new("rs-fifo", 2) else {
        return;
    };
    let dir = router_dir(&lan, KEEPVIP);
    let reader = dir.join("fifo-reader");
    let read = dir.join("fifo-lines");
    common::write_fifo_reader(&reader, &read);
    let fifo_conf = format!(
        "global_defs {{\n    vrrp_notify_fifo {}\n    vrrp_notify_fifo_script {}\n}}\n",
        dir.join("notify.fifo").display(),
        reader.display()
    );
    let removed = "vrrp_instance VI_2 {
    state BACKUP
    interface eth0
    virtual_router_id 62
    priority 150
    version 3
    advert_int 0.1
    virtual_ipaddress {
        192.0.2.101/24
    }
}
";
    let kept = fifo_conf + &config(150, "0.1", None);
    lan.start(KEEPVIP, Impl::Keepvip, &format!("{kept}{removed}"));
    lan.wait_until(
        Duration::from_secs(5),
        "the reader has VI_2's MASTER",
        || {
            fs::read_to_string(&read)
                .unwrap_or_default()
                .contains("INSTANCE \"VI_2\" MASTER")
        },
    );
    fs::write(dir.join("keepalived.conf"), &kept).unwrap();
    restart(&lan, KEEPVIP, 10).unwrap_or_else(|e| panic!("{}", lan.diagnose(&e)));
    lan.wait_until(
        Duration::from_secs(5),
        "the reader has VI_2's FAULT",
        || {
            fs::read_to_string(&read)
                .unwrap_or_default()
                .contains("INSTANCE \"VI_2\" FAULT")
        },
    );
    assert!(!lan.holds_vip(KEEPVIP, "192.0.2.101"));
    assert!(lan.holds_vip(KEEPVIP, VIP));
}

/// net.ipv4.conf.all.rp_filter of the router's namespace.
fn all_rp_filter(lan: &Lan, router: usize) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", lan.ns(router), "cat"])
        .arg("/proc/sys/net/ipv4/conf/all/rp_filter")
        .output()
        .expect("read all.rp_filter");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// use_vmac lowers "all"'s rp_filter; a restart into a binary that exits
/// leaves it lowered, with its state file. The next start, which trusts
/// nothing of that file, still takes from it the value owed at stop.
#[test]
fn a_start_after_a_restart_that_did_not_complete_restores_rp_filter_at_stop() {
    let Some(mut lan) = Lan::new("rs-rpfilter", 1) else {
        return;
    };
    let bin = installed_copy(&mut lan, KEEPVIP);
    let set = Command::new("ip")
        .args(["netns", "exec", lan.ns(KEEPVIP), "sh", "-c"])
        .arg("echo 2 > /proc/sys/net/ipv4/conf/all/rp_filter")
        .status()
        .expect("set all.rp_filter");
    assert!(set.success());
    let conf = config(150, "0.1", None).replace("    version 3\n", "    version 3\n    use_vmac\n");
    lan.start(KEEPVIP, Impl::Keepvip, &conf);
    lan.wait_until(ELECTION, "keepvip master", || {
        lan.holds_vip_on(KEEPVIP, "vrrp.61", VIP)
    });
    assert_eq!(all_rp_filter(&lan, KEEPVIP), "0");
    let broken = router_dir(&lan, KEEPVIP).join("broken");
    fs::write(&broken, "#!/bin/sh\nexit 1\n").unwrap();
    install(&bin, &broken);
    assert!(restart(&lan, KEEPVIP, 1).is_err());
    lan.wait_exit(KEEPVIP, Duration::from_secs(5));
    assert!(state_file(&lan, KEEPVIP).exists());
    install(&bin, Path::new(env!("CARGO_BIN_EXE_keepvip")));
    lan.start(KEEPVIP, Impl::Keepvip, &conf);
    // By the new start's own log: the VIP is still there from the image
    // that exited, so it says nothing about this one.
    lan.wait_until(ELECTION, "keepvip master again", || {
        lan.log(KEEPVIP)
            .split("harness: start #2")
            .nth(1)
            .is_some_and(|log| log.contains("(VI_1) Entering MASTER STATE"))
            && lan.holds_vip_on(KEEPVIP, "vrrp.61", VIP)
    });
    lan.stop(KEEPVIP);
    assert_eq!(all_rp_filter(&lan, KEEPVIP), "2", "{}", lan.log(KEEPVIP));
}
