//! `global_defs` scheduling on the running daemon: SCHED_RR with its
//! RLIMIT_RTTIME, locked memory, CPU affinity, nice; script children back
//! to an ordinary process, as keepalived 2.2.7 leaves its own; and the
//! late-advert counter in `keepvip status --json` and the SIGUSR2 file.
//!
//! Cheap on purpose: one daemon in a throwaway network namespace
//! (`unshare -n`, gone with the daemon) with one veth, no LAN, no peer.
//! Needs real root (SCHED_RR, mlockall); set KEEPVIP_SKIP_NETNS=1 to skip.

use std::fs::{self, File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn keepvip_bin() -> String {
    std::env::var("KEEPVIP_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_keepvip").to_string())
}

fn may_run() -> bool {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var("KEEPVIP_SKIP_NETNS").as_deref() == Ok("1") {
        eprintln!("!!!!!!!! SKIPPED: not root (KEEPVIP_SKIP_NETNS=1)");
        return false;
    }
    panic!("\n\n*** tests/scheduling.rs needs root; set KEEPVIP_SKIP_NETNS=1 to skip.\n\n");
}

/// The namespace tests' machine-wide lock (see tests/common), held only
/// while a daemon runs: a second or two.
fn lock() -> File {
    let path = std::env::temp_dir().join("keepvip-lan-tests.lock");
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap();
    // SAFETY: flock on a descriptor we own.
    assert_eq!(unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) }, 0);
    f
}

/// A keepvip in a network namespace of its own with eth0 (one end of a
/// veth, both ends up); killed and its directory removed on drop.
struct Daemon {
    child: Child,
    dir: PathBuf,
    _lock: File,
}

impl Daemon {
    fn start(tag: &str, global_defs: &str) -> Daemon {
        let lock = lock();
        let dir = std::env::temp_dir().join(format!("keepvip-sched-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        // What a script child runs as: its own scheduling, read by itself.
        let probe = dir.join("probe.sh");
        fs::write(
            &probe,
            format!(
                "#!/bin/sh\ncat /proc/$$/stat > {0}/child.stat.tmp\n\
                 cat /proc/$$/status > {0}/child.status\nmv {0}/child.stat.tmp {0}/child.stat\n",
                dir.display()
            ),
        )
        .unwrap();
        fs::set_permissions(&probe, fs::Permissions::from_mode(0o755)).unwrap();
        let config = dir.join("keepvip.conf");
        fs::write(
            &config,
            format!(
                "global_defs {{\n{global_defs}\n}}\n\
                 vrrp_instance VI_1 {{\n interface eth0\n version 3\n virtual_router_id 71\n\
                 \x20priority 150\n advert_int 0.1\n virtual_ipaddress {{\n  192.0.2.100/24\n }}\n\
                 \x20notify_master {}\n}}\n",
                probe.display()
            ),
        )
        .unwrap();
        let log = File::create(dir.join("log")).unwrap();
        let child = Command::new("unshare")
            .args(["-n", "sh", "-c"])
            .arg(
                "set -e; ip link set lo up; ip link add eth0 type veth peer name kvq0; \
                 ip link set kvq0 up; ip link set eth0 up; ip addr add 192.0.2.11/24 dev eth0; \
                 exec \"$0\" \"$@\"",
            )
            .arg(keepvip_bin())
            .args(["-n", "-l", "-D", "-f"])
            .arg(&config)
            .arg("--status-socket")
            .arg(dir.join("status.sock"))
            .env("TMPDIR", &dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let daemon = Daemon {
            child,
            dir,
            _lock: lock,
        };
        // The probe has run once the instance is master.
        daemon.wait_for("the notify_master probe", || {
            daemon.dir.join("child.stat").exists()
        });
        daemon
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn wait_for(&self, what: &str, mut cond: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !cond() {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; log:\n{}",
                fs::read_to_string(self.dir.join("log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn proc(&self, file: &str) -> String {
        fs::read_to_string(format!("/proc/{}/{file}", self.pid())).unwrap()
    }

    fn child_file(&self, file: &str) -> String {
        fs::read_to_string(self.dir.join(file)).unwrap()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// (nice, rt_priority, policy) from a /proc/PID/stat line: fields 19, 40
/// and 41, counted after the command name, which may hold blanks.
fn scheduling_of(stat: &str) -> (i64, i64, i64) {
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<i64> = after_name
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    (fields[19 - 3], fields[40 - 3], fields[41 - 3])
}

fn status_line<'s>(status: &'s str, key: &str) -> &'s str {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in\n{status}"))
        .trim()
}

fn locked_kib(status: &str) -> u64 {
    status_line(status, "VmLck:")
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap()
}

const SCHED_OTHER: i64 = 0;
const SCHED_RR: i64 = 2;

#[test]
fn realtime_locked_and_pinned_as_configured_while_scripts_run_ordinary() {
    if !may_run() {
        return;
    }
    let daemon = Daemon::start(
        "rt",
        " vrrp_rt_priority 20\n vrrp_no_swap\n vrrp_cpu_affinity 0\n vrrp_rlimit_rttime 400000",
    );
    assert_eq!(scheduling_of(&daemon.proc("stat")), (0, 20, SCHED_RR));
    let status = daemon.proc("status");
    assert!(locked_kib(&status) > 0, "nothing locked:\n{status}");
    assert_eq!(status_line(&status, "Cpus_allowed_list:"), "0");
    // keepalived's pair: SIGXCPU at half the limit, SIGKILL at the limit.
    let limits = daemon.proc("limits");
    let rttime = limits
        .lines()
        .find(|l| l.starts_with("Max realtime timeout"))
        .unwrap();
    assert_eq!(
        rttime.split_whitespace().collect::<Vec<_>>()[3..6],
        ["200000", "400000", "us"],
        "{rttime}"
    );
    // SIGXCPU at the soft limit must not end the daemon.
    assert!(ignores_sigxcpu(&status), "{status}");
    // A script is an ordinary process again; only the affinity is
    // inherited, as keepalived's children have it.
    assert_eq!(
        scheduling_of(&daemon.child_file("child.stat")),
        (0, 0, SCHED_OTHER)
    );
    let child_status = daemon.child_file("child.status");
    assert_eq!(locked_kib(&child_status), 0);
    assert_eq!(status_line(&child_status, "Cpus_allowed_list:"), "0");
    assert!(!ignores_sigxcpu(&child_status), "{child_status}");
}

fn ignores_sigxcpu(status: &str) -> bool {
    let mask = u64::from_str_radix(status_line(status, "SigIgn:"), 16).unwrap();
    mask & (1 << (libc::SIGXCPU - 1)) != 0
}

#[test]
fn nice_as_configured_and_late_adverts_are_reported() {
    if !may_run() {
        return;
    }
    let daemon = Daemon::start("nice", " vrrp_priority -7\n max_auto_priority");
    assert_eq!(scheduling_of(&daemon.proc("stat")), (-7, 0, SCHED_OTHER));
    assert_eq!(
        scheduling_of(&daemon.child_file("child.stat")),
        (0, 0, SCHED_OTHER),
        "a script runs at nice 0"
    );
    let status_json = || {
        let status = Command::new(keepvip_bin())
            .args(["status", "--json", "--socket"])
            .arg(daemon.dir.join("status.sock"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&status.stdout).into_owned()
    };
    let json = status_json();
    assert!(json.contains("\"late_adverts\":"), "{json}");
    // A master stalled for over a second (what a starved box does to it):
    // its next advert is late, and max_auto_priority (no value: up to 99)
    // moves it to SCHED_RR 1, as keepalived does.
    signal(&daemon, libc::SIGSTOP);
    std::thread::sleep(Duration::from_millis(1200));
    signal(&daemon, libc::SIGCONT);
    daemon.wait_for("SCHED_RR 1 after a late wakeup", || {
        let (_, priority, policy) = scheduling_of(&daemon.proc("stat"));
        (priority, policy) == (1, SCHED_RR)
    });
    daemon.wait_for("late_adverts 1 in the status", || {
        status_json().contains("\"late_adverts\":1")
    });
    assert!(daemon.child_file("log").contains("Set realtime priority 1"));
    signal(&daemon, libc::SIGUSR2);
    let stats = daemon.dir.join("keepvip.stats");
    daemon.wait_for("keepvip.stats", || stats_say(&stats, "adverts_late 1\n"));
}

fn signal(daemon: &Daemon, signal: libc::c_int) {
    // SAFETY: a signal to the daemon we started.
    unsafe { libc::kill(daemon.pid() as i32, signal) };
}

fn stats_say(path: &Path, what: &str) -> bool {
    fs::read_to_string(path).is_ok_and(|text| text.contains(what))
}
