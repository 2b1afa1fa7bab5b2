//! Health checks, link tracking and notify commands on a namespace LAN:
//! a failing check moves the VIP (and preempt or nopreempt decides whether
//! it comes back), a hung check is killed without delaying adverts, a pulled
//! cable is FAULT, and notify sees every transition in order.
//!
//! Needs root (network namespaces), keepalived and tcpdump. Set
//! KEEPVIP_SKIP_NETNS=1 to skip explicitly where that is impossible.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Impl, Lan, ELECTION};

const VIP: &str = "192.0.2.100";
const R1: usize = 1;
const R2: usize = 2;
/// Longer than master_down plus an advert interval: a wrongful takeover
/// would show within it.
const HOLD: Duration = Duration::from_secs(6);

#[derive(Default)]
struct Node<'a> {
    priority: u8,
    nopreempt: bool,
    /// The `vrrp_script` block's body, tracked by the instance.
    check: Option<String>,
    notify: Option<&'a Path>,
}

fn config(router: usize, node: &Node) -> String {
    let script = node
        .check
        .as_ref()
        .map(|body| format!("vrrp_script chk {{\n{body}\n}}\n"))
        .unwrap_or_default();
    let track = if node.check.is_some() {
        "    track_script {\n        chk\n    }\n"
    } else {
        ""
    };
    let notify = node
        .notify
        .map(|path| format!("    notify \"{}\"\n", path.display()))
        .unwrap_or_default();
    format!(
        "global_defs {{\n    router_id r{router}\n}}\n\
         {script}\
         vrrp_instance VI_1 {{\n\
         \x20   state BACKUP\n\
         \x20   interface eth0\n\
         \x20   virtual_router_id 51\n\
         \x20   priority {priority}\n\
         {nopreempt}\
         \x20   advert_int 1\n\
         \x20   authentication {{\n        auth_type PASS\n        auth_pass 1111\n    }}\n\
         {track}{notify}\
         \x20   virtual_ipaddress {{\n        {VIP}\n    }}\n\
         }}\n",
        priority = node.priority,
        nopreempt = if node.nopreempt {
            "    nopreempt\n"
        } else {
            ""
        },
    )
}

/// A check that succeeds while `flag` exists: the test "breaks nginx" by
/// removing the file. fall/rise 2 as a real config would debounce.
fn flag_check(flag: &Path, weight: i32) -> String {
    format!(
        "    script \"/bin/sh -c 'test -f {}'\"\n    interval 1\n    weight {weight}\n    fall 2\n    rise 2",
        flag.display()
    )
}

fn write_executable(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// fall x interval + master_down, plus the usual allowance for a loaded
/// two-core machine.
const CHECK_TAKEOVER: Duration = Duration::from_secs(2 + 4 + 15);

fn check_failure_moves_the_vip(tag: &str, backup: Impl, nopreempt_on_master: bool) {
    let Some(mut lan) = Lan::new(tag, 2) else {
        return;
    };
    let flag: PathBuf = lan.dir().join("nginx-is-up");
    fs::write(&flag, "").unwrap();
    let r1 = Node {
        priority: 150,
        nopreempt: nopreempt_on_master,
        check: Some(flag_check(&flag, -60)),
        ..Default::default()
    };
    let r2 = Node {
        priority: 100,
        ..Default::default()
    };
    let mark = lan.mark();
    lan.start(R1, Impl::Keepvip, &config(1, &r1));
    lan.wait_sole_holder(R1, VIP, ELECTION);
    lan.wait_garp_from(R1, VIP, mark);
    lan.start(R2, backup, &config(2, &r2));
    lan.sole_holder_for(R1, VIP, HOLD);

    // The check fails: 150 - 60 = 90 < 100, and r2 preempts.
    let mark = lan.mark();
    fs::remove_file(&flag).unwrap();
    lan.wait_sole_holder(R2, VIP, CHECK_TAKEOVER);
    lan.wait_garp_from(R2, VIP, mark);
    assert!(
        lan.log(R1).contains("VRRP_Script(chk) failed"),
        "{}",
        lan.diagnose("r1 did not log the failed check")
    );

    // The check recovers: back to 150.
    fs::write(&flag, "").unwrap();
    if nopreempt_on_master {
        lan.sole_holder_for(R2, VIP, HOLD + Duration::from_secs(3));
    } else {
        let mark = lan.mark();
        lan.wait_sole_holder(R1, VIP, CHECK_TAKEOVER);
        lan.wait_garp_from(R1, VIP, mark);
    }
}

#[test]
fn failing_check_moves_vip_and_preempt_brings_it_back() {
    check_failure_moves_the_vip("trk-pre-v", Impl::Keepvip, false);
}

#[test]
fn failing_check_moves_vip_and_nopreempt_keeps_it_away() {
    check_failure_moves_the_vip("trk-nop-v", Impl::Keepvip, true);
}

#[test]
fn failing_check_moves_vip_to_keepalived_backup_and_back() {
    check_failure_moves_the_vip("trk-pre-k", Impl::Keepalived, false);
}

#[test]
fn failing_check_with_keepalived_backup_and_nopreempt() {
    check_failure_moves_the_vip("trk-nop-k", Impl::Keepalived, true);
}

/// The pids of processes running exactly `argv` in the router's network
/// namespace (compared by the namespace's inode, so other people's
/// processes never count).
fn processes_in_namespace(lan: &Lan, router: usize, argv: &[&str]) -> Vec<u32> {
    let wanted_ns = fs::metadata(format!("/run/netns/{}", lan.ns(router)))
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        .unwrap();
    let wanted_cmdline: Vec<u8> = argv.iter().flat_map(|a| a.bytes().chain([0])).collect();
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        if cmdline != wanted_cmdline {
            continue;
        }
        let Ok(ns) = fs::metadata(format!("/proc/{pid}/ns/net")) else {
            continue;
        };
        if std::os::unix::fs::MetadataExt::ino(&ns) == wanted_ns {
            found.push(pid);
        }
    }
    found
}

#[test]
fn hung_check_is_killed_on_time_and_adverts_keep_their_interval() {
    let Some(mut lan) = Lan::new("trk-hang", 1) else {
        return;
    };
    let r1 = Node {
        priority: 150,
        check: Some(
            "    script \"sleep 1000\"\n    interval 2\n    timeout 1\n    weight -10".to_string(),
        ),
        ..Default::default()
    };
    lan.start(R1, Impl::Keepvip, &config(1, &r1));
    lan.wait_sole_holder(R1, VIP, ELECTION);

    let mark = lan.mark();
    let watch = Instant::now();
    let mut most_at_once = 0;
    while watch.elapsed() < Duration::from_secs(10) {
        // Each run is killed after 1 s; the next starts at the next 2 s
        // tick, so there is never more than one.
        most_at_once = most_at_once.max(processes_in_namespace(&lan, R1, &["sleep", "1000"]).len());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        most_at_once <= 1,
        "{most_at_once} hung checks ran at once: not killed"
    );

    // The adverts kept their 1 s interval while the checks hung.
    let adverts = lan.adverts_since(mark);
    assert!(
        adverts.len() >= 8,
        "{}",
        lan.diagnose(&format!("only {} adverts in 10 s", adverts.len()))
    );
    for pair in adverts.windows(2) {
        let gap = pair[1].time - pair[0].time;
        assert!(
            gap <= 1.5,
            "{}",
            lan.diagnose(&format!("advert gap of {gap:.3} s at {}", pair[0].time))
        );
    }

    // The counters say the checks timed out, and the log says so.
    let stats = lan.dir().join("r1").join("keepvip.stats");
    let _ = fs::remove_file(&stats);
    lan.signal(R1, libc::SIGUSR2);
    let timeouts = lan.wait_until(Duration::from_secs(10), "keepvip.stats written", || {
        fs::read_to_string(&stats).is_ok_and(|t| t.contains("script_timeouts"))
    });
    let _ = timeouts;
    let text = fs::read_to_string(&stats).unwrap();
    let count = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    assert!(count("script_timeouts") >= 3, "stats:\n{text}");
    assert!(lan.log(R1).contains("VRRP_Script(chk) timed out"));

    // A graceful stop leaves no check behind.
    assert!(lan.stop(R1).success());
    lan.wait_until(
        Duration::from_secs(10),
        "the last hung check is gone",
        || processes_in_namespace(&lan, R1, &["sleep", "1000"]).is_empty(),
    );
}

#[test]
fn link_down_is_fault_and_notify_sees_every_transition_in_order() {
    let Some(mut lan) = Lan::new("trk-link", 2) else {
        return;
    };
    let record = lan.dir().join("transitions.log");
    let notify = lan.dir().join("notify.sh");
    write_executable(
        &notify,
        &format!("#!/bin/sh\necho \"$@\" >> {}\n", record.display()),
    );
    let r1 = Node {
        priority: 150,
        notify: Some(&notify),
        ..Default::default()
    };
    let r2 = Node {
        priority: 100,
        ..Default::default()
    };
    lan.start(R1, Impl::Keepvip, &config(1, &r1));
    lan.start(R2, Impl::Keepvip, &config(2, &r2));
    lan.wait_sole_holder(R1, VIP, ELECTION);

    // Cable pulled on the master: FAULT (no VIP), the backup takes over.
    let mark = lan.mark();
    lan.set_link(R1, false);
    lan.wait_sole_holder(R2, VIP, ELECTION);
    lan.wait_garp_from(R2, VIP, mark);
    assert!(
        lan.log(R1).contains("(VI_1) Entering FAULT STATE"),
        "{}",
        lan.diagnose("no FAULT")
    );

    // Cable back: a fresh election, which r1 (150) wins again.
    let mark = lan.mark();
    lan.set_link(R1, true);
    lan.wait_sole_holder(R1, VIP, ELECTION);
    lan.wait_garp_from(R1, VIP, mark);
    assert!(lan.stop(R1).success());

    let expected = [
        "INSTANCE VI_1 BACKUP 150",
        "INSTANCE VI_1 MASTER 150",
        "INSTANCE VI_1 FAULT 150",
        "INSTANCE VI_1 BACKUP 150",
        "INSTANCE VI_1 MASTER 150",
        "INSTANCE VI_1 STOP 150",
    ];
    lan.wait_until(Duration::from_secs(10), "every notify recorded", || {
        fs::read_to_string(&record).is_ok_and(|t| t.lines().count() >= expected.len())
    });
    let recorded = fs::read_to_string(&record).unwrap();
    assert_eq!(
        recorded.lines().collect::<Vec<_>>(),
        expected,
        "{}",
        lan.diagnose("notify sequence")
    );
}

#[test]
fn failing_weight_zero_check_is_fault() {
    let Some(mut lan) = Lan::new("trk-w0", 2) else {
        return;
    };
    let flag = lan.dir().join("up");
    fs::write(&flag, "").unwrap();
    let r1 = Node {
        priority: 150,
        check: Some(flag_check(&flag, 0)),
        ..Default::default()
    };
    let r2 = Node {
        priority: 100,
        ..Default::default()
    };
    lan.start(R1, Impl::Keepvip, &config(1, &r1));
    lan.start(R2, Impl::Keepalived, &config(2, &r2));
    lan.wait_sole_holder(R1, VIP, ELECTION);
    let mark = lan.mark();
    fs::remove_file(&flag).unwrap();
    lan.wait_sole_holder(R2, VIP, CHECK_TAKEOVER);
    lan.wait_garp_from(R2, VIP, mark);
    assert!(
        lan.log(R1).contains("(VI_1) Entering FAULT STATE"),
        "{}",
        lan.diagnose("no FAULT")
    );
    // FAULT as master sends priority 0, so keepalived took over after skew
    // time, not master_down: its log says so.
    assert!(
        lan.log(R2).contains("priority 0") || lan.log(R2).contains("Backup received priority 0"),
        "{}",
        lan.diagnose("keepalived did not see priority 0")
    );
    fs::write(&flag, "").unwrap();
    lan.wait_sole_holder(R1, VIP, CHECK_TAKEOVER);
}

#[test]
fn notify_runs_as_the_user_the_config_names() {
    let Some(mut lan) = Lan::new("trk-notify-user", 1) else {
        return;
    };
    // A directory nobody may write to, and a script anybody may run.
    let out = lan.dir().join("as-nobody");
    fs::create_dir_all(&out).unwrap();
    fs::set_permissions(&out, fs::Permissions::from_mode(0o777)).unwrap();
    let record = out.join("uid");
    let script = lan.dir().join("whoami.sh");
    // Written aside and renamed, so that the test never reads the file
    // between the shell's truncating open and `id`'s write.
    write_executable(
        &script,
        &format!(
            "#!/bin/sh\nid -u > {record}.part && mv {record}.part {record}\n",
            record = record.display()
        ),
    );
    let text = config(
        1,
        &Node {
            priority: 150,
            ..Default::default()
        },
    )
    .replace(
        "    virtual_ipaddress",
        &format!(
            "    notify_master \"{}\" nobody\n    virtual_ipaddress",
            script.display()
        ),
    );
    lan.start(R1, Impl::Keepvip, &text);
    lan.wait_sole_holder(R1, VIP, ELECTION);
    lan.wait_until(Duration::from_secs(10), "notify_master ran", || {
        record.exists()
    });
    let uid = fs::read_to_string(&record).unwrap();
    let nobody = Command::new("id").args(["-u", "nobody"]).output().unwrap();
    assert_eq!(uid.trim(), String::from_utf8_lossy(&nobody.stdout).trim());
    assert_ne!(
        uid.trim(),
        "0",
        "ran as root although the config says nobody"
    );
}

/// A rebooted router of higher priority whose check fails from the start
/// must not take the VIP from the healthy master (keepalived 2.2.7, lower,
/// master throughout): not the one whose weight-0 check takes 4 s to give
/// its first (failing) result, which waits in INIT meanwhile; not the one
/// whose weight -150 check fails on its first run with fall 3, as the
/// first result decides whatever fall says. Both are priority 200, so
/// either would preempt after master_down (3.2 s) if its check counted as
/// up until told otherwise.
#[test]
fn a_check_failing_from_the_start_never_takes_the_vip() {
    let Some(mut lan) = Lan::new("trk-first", 3) else {
        return;
    };
    let slow_failure = lan.dir().join("slow-failure.sh");
    write_executable(&slow_failure, "#!/bin/sh\nsleep 4\nexit 1\n");
    let weight_zero = Node {
        priority: 200,
        check: Some(format!(
            "    script \"{}\"\n    interval 10\n    weight 0",
            slow_failure.display()
        )),
        ..Default::default()
    };
    let negative = Node {
        priority: 200,
        check: Some(
            "    script \"/bin/false\"\n    interval 2\n    fall 3\n    weight -150".into(),
        ),
        ..Default::default()
    };
    let healthy = Node {
        priority: 100,
        ..Default::default()
    };
    lan.start(R1, Impl::Keepalived, &config(1, &healthy));
    lan.wait_sole_holder(R1, VIP, ELECTION);
    let mark = lan.mark();
    lan.start(R2, Impl::Keepvip, &config(2, &weight_zero));
    lan.start(3, Impl::Keepvip, &config(3, &negative));
    // Past the slow check's first result and a whole master_down after it.
    lan.sole_holder_for(R1, VIP, Duration::from_secs(9));
    let from = |router: usize| {
        let addr = lan.addr(router);
        lan.adverts_since(mark)
            .into_iter()
            .filter(move |a| a.src_ip == addr)
            .count()
    };
    assert_eq!(from(R2), 0, "{}", lan.diagnose("r2 advertised"));
    assert_eq!(from(3), 0, "{}", lan.diagnose("r3 advertised"));
    let log2 = lan.log(R2);
    assert!(
        log2.contains("VRRP_Script(chk) failed") && log2.contains("(VI_1) Entering FAULT STATE"),
        "{}",
        lan.diagnose("r2 did not go to FAULT on its first result")
    );
    assert!(
        !log2.contains("Entering BACKUP STATE"),
        "{}",
        lan.diagnose("r2 ran before its weight-0 check reported")
    );
    assert!(
        lan.log(3)
            .contains("(VI_1) Changing effective priority from 200 to 50"),
        "{}",
        lan.diagnose("r3's first failure did not lower its priority")
    );
}

/// keepalived 2.2.7 with a check script that does not exist: "Script ...
/// cannot be accessed", "Disabling track script chk since not
/// found/accessible", and the instance runs as if it tracked nothing: no
/// FAULT for weight 0, its base priority on the wire.
#[test]
fn a_missing_check_script_is_disabled_not_failed() {
    let Some(mut lan) = Lan::new("trk-missing", 1) else {
        return;
    };
    let node = Node {
        priority: 150,
        check: Some("    script \"/nonexistent/check.sh\"\n    interval 1\n    weight 0".into()),
        ..Default::default()
    };
    let mark = lan.mark();
    lan.start(R1, Impl::Keepvip, &config(1, &node));
    lan.wait_sole_holder(R1, VIP, ELECTION);
    lan.wait_until(common::CAPTURE_LAG, "an advert with priority 150", || {
        lan.adverts_since(mark).iter().any(|a| a.priority == 150)
    });
    let log = lan.log(R1);
    assert!(
        log.contains("Disabling track script chk since not found/accessible"),
        "{}",
        lan.diagnose("no word of the disabled check")
    );
    assert!(
        !log.contains("FAULT"),
        "{}",
        lan.diagnose("the missing check put the instance in FAULT")
    );
}

/// With `dynamic_interfaces`, a `track_interface` naming an interface
/// that does not exist yet is not refused: keepalived 2.2.7 warns ("will
/// use if created"), counts it as down (its instance in FAULT, no VIP) and
/// runs the election as soon as the interface appears. keepvip the same,
/// both watched here side by side.
#[test]
fn a_tracked_interface_that_appears_later_is_down_until_then_with_dynamic_interfaces() {
    let Some(lock) = Lan::hold_lock() else {
        return;
    };
    let mut lans: Vec<(Lan, Impl)> = Lan::side_by_side(&lock, &["trk-dyn-v", "trk-dyn-k"], 1)
        .into_iter()
        .zip([Impl::Keepvip, Impl::Keepalived])
        .collect();
    let text = format!(
        "global_defs {{\n    router_id r1\n    dynamic_interfaces\n}}\n\
         vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n    priority 150\n\
         \x20   version 3\n    advert_int 0.2\n    track_interface {{\n        trk9\n    }}\n\
         \x20   virtual_ipaddress {{\n        {VIP}/24\n    }}\n}}\n"
    );
    for (lan, implementation) in &mut lans {
        lan.start(R1, *implementation, &text);
    }
    for (lan, _) in &lans {
        lan.wait_until(Duration::from_secs(5), "FAULT for the missing trk9", || {
            lan.log(R1).to_lowercase().contains("fault state")
        });
        assert!(!lan.holds_vip(R1, VIP), "{}", lan.diagnose("VIP in FAULT"));
    }
    let appeared = Instant::now();
    for (lan, _) in &lans {
        lan.add_dummy(R1, "trk9");
    }
    for (lan, implementation) in &lans {
        // master_down: 3 x 0.2 s + skew, once trk9 is up.
        lan.wait_sole_holder(R1, VIP, Duration::from_secs(5));
        let took = appeared.elapsed();
        eprintln!("{implementation:?}: master {took:?} after trk9 appeared");
        assert!(took < Duration::from_secs(3), "{}", lan.diagnose("slow"));
    }
}

/// A reload that changes a weight-0 check of a running master: the new
/// check has not reported yet, and that must not move the master (only an
/// instance that has not started waits for a check's first result).
#[test]
fn a_check_changed_by_reload_does_not_flap_a_running_master() {
    let Some(mut lan) = Lan::new("trk-reload", 1) else {
        return;
    };
    let check = |body: &str| Node {
        priority: 150,
        check: Some(body.to_string()),
        ..Default::default()
    };
    lan.start(
        R1,
        Impl::Keepvip,
        &config(
            1,
            &check("    script \"/bin/true\"\n    interval 1\n    weight 0"),
        ),
    );
    lan.wait_sole_holder(R1, VIP, ELECTION);
    // The new check takes 3 s to give its first (passing) result.
    let slow = check("    script \"/bin/sh -c 'sleep 3'\"\n    interval 10\n    weight 0");
    let path = lan.dir().join("r1").join("keepalived.conf");
    fs::write(&path, config(1, &slow)).unwrap();
    lan.signal(R1, libc::SIGHUP);
    lan.wait_until(Duration::from_secs(10), "reload done", || {
        lan.log(R1).contains("Reload complete")
    });
    let held = "r1 stays master, never in FAULT";
    lan.holds_for(Duration::from_secs(5), held, || {
        lan.sole_holder(R1, VIP) && !lan.log(R1).contains("FAULT")
    });
}
