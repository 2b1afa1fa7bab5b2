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

use common::{Impl, Lan, ELECTION};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
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

/// `ip monitor address` in the router's namespace, until dropped: every
/// address the kernel removes there is in its output.
struct AddressMonitor {
    child: Child,
    out: PathBuf,
}

impl AddressMonitor {
    fn start(lan: &Lan, router: usize) -> AddressMonitor {
        let out = router_dir(lan, router).join("ip-monitor.txt");
        let file = fs::File::create(&out).unwrap();
        let child = Command::new("ip")
            .args(["-n", lan.ns(router), "monitor", "address"])
            .stdout(file)
            .stderr(Stdio::null())
            .spawn()
            .expect("ip monitor");
        AddressMonitor { child, out }
    }

    fn deleted(&self, vip: &str) -> Vec<String> {
        fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("Deleted") && l.contains(vip))
            .map(String::from)
            .collect()
    }
}

impl Drop for AddressMonitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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

fn lines(path: &Path) -> usize {
    fs::read_to_string(path).unwrap_or_default().lines().count()
}

/// keepvip master, keepalived backup: `restarts` restarts in a row.
fn master_survives_restarts(tag: &str, advert_int: &str, interval_s: f64, restarts: u32) {
    let Some(mut lan) = Lan::new(tag, 2) else {
        return;
    };
    let notify_log = router_dir(&lan, KEEPVIP).join("notify.log");
    lan.start(
        KEEPVIP,
        Impl::Keepvip,
        &config(150, advert_int, Some(&notify_log)),
    );
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

/// keepalived master, keepvip backup: a restarted backup stays BACKUP,
/// silent, without the VIP.
#[test]
fn backup_stays_backup_across_restarts() {
    let Some(mut lan) = Lan::new("rs-backup", 2) else {
        return;
    };
    lan.start(KEEPALIVED, Impl::Keepalived, &config(150, "0.1", None));
    lan.start(KEEPVIP, Impl::Keepvip, &config(100, "0.1", None));
    lan.wait_sole_holder(KEEPALIVED, VIP, ELECTION);
    lan.wait_until(Duration::from_secs(5), "keepvip is BACKUP", || {
        lan.log(KEEPVIP).contains("Entering BACKUP STATE")
    });
    // Let any start-up contest settle first: keepalived the sole master.
    lan.sole_holder_for(KEEPALIVED, VIP, Duration::from_millis(500));
    let entries_before = lan.log(KEEPVIP).matches("Entering").count();
    let since = lan.mark();
    for n in 1..=5 {
        restart(&lan, KEEPVIP, 10)
            .unwrap_or_else(|e| panic!("{}", lan.diagnose(&format!("restart #{n}: {e}"))));
    }
    // A backup left without adverts for master_down (0.3 s + skew) would
    // be master by now.
    lan.sole_holder_for(KEEPALIVED, VIP, Duration::from_secs(1));
    let log = lan.log(KEEPVIP);
    assert_eq!(
        log.matches("(VI_1) resumed in BACKUP after restart")
            .count(),
        5
    );
    assert_eq!(log.matches("Entering").count(), entries_before, "{log}");
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
