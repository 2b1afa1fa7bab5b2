//! A LAN of routers on one machine, for integration tests.
//!
//! Each router is a network namespace whose `eth0` is one end of a veth pair;
//! the other end sits on bridge `br0` in a switch namespace. The daemons
//! under test (keepvip or the real keepalived) run inside the router
//! namespaces, and tcpdump on `br0` records what crossed the wire.
//!
//! Everything is created inside namespaces the test makes itself: veth
//! pairs are created from inside the switch namespace, so the host's own
//! interfaces are never touched, and only documentation addresses are used.
//! `Drop` kills every process the harness started (by process group) and
//! deletes every namespace, also when the test panics.

// Every test binary includes this module and uses a different part of it.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::io::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The machine-wide lock of namespace tests, held for several LANs.
pub struct LanLock(std::sync::Arc<File>);

/// Where a router's switch port stands: see [`Lan::set_port`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Port {
    Bridged,
    Detached,
    DeafToMulticast,
}

/// Which daemon a router runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    Keepvip,
    Keepalived,
}

impl Impl {
    pub fn name(self) -> &'static str {
        match self {
            Impl::Keepvip => "keepvip",
            Impl::Keepalived => "keepalived",
        }
    }
}

/// Generous on purpose: the test machine has two shared cores, and an
/// election that takes ~4 s can take much longer under load.
pub const ELECTION: Duration = Duration::from_secs(15);
/// How long to wait for tcpdump to print a packet that was already sent.
pub const CAPTURE_LAG: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(100);
const EXIT_WAIT: Duration = Duration::from_secs(15);
/// Distinctive prefix, so that stale namespaces of ours (left by a test
/// process that was itself SIGKILLed) can be told from other people's.
const NS_PREFIX: &str = "kvlan";

/// VRRP of both families, ARP, and neighbour advertisements.
const DEFAULT_FILTER: &str = "ip proto 112 or arp or ip6 proto 112 or (icmp6 and ip6[40] == 136)";

/// A position in the capture file; packets printed after it are "since".
#[derive(Clone, Copy, Debug)]
pub struct Mark(u64);

impl Mark {
    /// The beginning of the capture.
    pub const START: Mark = Mark(0);
}

/// One VRRP advert as tcpdump printed it.
#[derive(Clone, Debug, PartialEq)]
pub struct Advert {
    pub time: f64,
    pub src_mac: String,
    pub src_ip: IpAddr,
    /// 2 or 3.
    pub version: u8,
    pub vrid: u8,
    pub priority: u8,
}

struct Router {
    ns: String,
    addr: Ipv4Addr,
    mac: String,
    dir: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    /// What to run again on `revive`.
    last: Option<(Impl, String)>,
    starts: u32,
    /// The keepvip binary this router runs, if not the one under test.
    keepvip_bin: Option<PathBuf>,
}

pub struct Lan {
    tag: String,
    dir: PathBuf,
    switch_ns: Option<String>,
    routers: Vec<Router>,
    capture: Option<Tcpdump>,
    capture_file: PathBuf,
    /// LAN B's capture (see [`Lan::capture_second_lan`]), if asked for.
    second_capture: Option<Tcpdump>,
    /// Start daemons with `-D` (debug log lines); on by default, the bench
    /// turns it off so that logging does not weigh on what it measures.
    debug_log: bool,
    /// Numbers the files of `verbose_capture`.
    verbose_captures: std::sync::atomic::AtomicU32,
    /// Held for the Lan's whole life (fields drop after `Drop::drop`), so
    /// namespace tests run one at a time and do not overload the machine.
    /// Shared by LANs made together by [`Lan::side_by_side`].
    _lock: std::sync::Arc<File>,
}

fn skip_or_panic(why: &str) -> Option<Lan> {
    if std::env::var("KEEPVIP_SKIP_NETNS").as_deref() == Ok("1") {
        eprintln!();
        eprintln!("!!!!!!!! SKIPPED: {why}");
        eprintln!("!!!!!!!! (KEEPVIP_SKIP_NETNS=1 is set, so this test passes without running)");
        eprintln!();
        return None;
    }
    panic!(
        "\n\n*** {why}\n*** These tests need root and network namespaces; CI runs them as root.\n\
         *** Set KEEPVIP_SKIP_NETNS=1 to skip them explicitly.\n\n"
    );
}

/// Runs a command to completion; Ok(stdout) on success, Err(diagnostic).
fn run(prog: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{prog} {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{prog} {}: {}: {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn ip(args: &[&str]) -> Result<String, String> {
    run("ip", args)
}

/// Like `ip`, but a failure is a harness bug or a broken machine: panic.
fn ip_ok(args: &[&str]) -> String {
    ip(args).unwrap_or_else(|e| panic!("harness: {e}"))
}

fn tail(path: &Path, lines: usize) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// Whether `pid` exists and is not a zombie (a daemon that crashed but
/// was not reaped yet must not count as running).
fn pid_alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // "pid (comm) S ...": the state follows the last ')'.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Router `i`'s eth0: a veth pair created from inside the switch namespace
/// with the peer put straight into the router's (the host namespace never
/// sees it), on the bridge, up, with its IPv4 address `addr`/24 and its
/// IPv6 address. Returns its MAC.
fn plug_router(sw: &str, ns: &str, i: usize, addr: Ipv4Addr) -> String {
    let port = format!("p{i}");
    ip_ok(&[
        "-n", sw, "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns", ns,
    ]);
    ip_ok(&["-n", sw, "link", "set", &port, "master", "br0"]);
    ip_ok(&["-n", sw, "link", "set", &port, "up"]);
    // No duplicate address detection on the test LAN: the
    // link-local address (the VRRPv3 source) and the global IPv6
    // address are usable at once instead of after a second or two.
    run(
        "ip",
        &[
            "netns",
            "exec",
            ns,
            "sysctl",
            "-qw",
            "net.ipv6.conf.eth0.accept_dad=0",
        ],
    )
    .unwrap_or_else(|e| panic!("harness: {e}"));
    ip_ok(&["-n", ns, "link", "set", "eth0", "up"]);
    let cidr = format!("{addr}/24");
    ip_ok(&["-n", ns, "addr", "add", &cidr, "dev", "eth0"]);
    let cidr6 = format!("{}/64", router_ipv6(i));
    ip_ok(&["-n", ns, "addr", "add", &cidr6, "dev", "eth0", "nodad"]);
    let link = ip_ok(&["-n", ns, "-o", "link", "show", "dev", "eth0"]);
    link.split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .unwrap_or_else(|| panic!("harness: no MAC in {link:?}"))
        .to_string()
}

fn killpg(pgid: u32, sig: libc::c_int) {
    // The harness puts every process it starts in its own group, so the
    // group id is the child's pid and the signal reaches keepalived's
    // forked VRRP child too. ESRCH (already gone) is fine.
    unsafe {
        libc::kill(-(pgid as libc::pid_t), sig);
    }
}

/// A tcpdump in namespace `ns`, in its own process group, started and
/// listening: `start` returns only once tcpdump says "listening on", so
/// nothing sent afterwards can be missing from what it prints (start-up
/// takes a second or more on a loaded machine). Dropping it ends the group.
pub struct Tcpdump {
    child: Child,
}

impl Tcpdump {
    /// `tcpdump ARGS` in `ns`, printing to `out`, its messages to `err`.
    pub fn start(ns: &str, args: &[&str], out: &Path, err: &Path) -> Tcpdump {
        let stdout = File::create(out).expect("harness: create tcpdump output");
        let stderr = File::create(err).expect("harness: create tcpdump messages");
        let child = Command::new("ip")
            .args(["netns", "exec", ns, "tcpdump"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("harness: spawn tcpdump {args:?}: {e}"));
        let mut tcpdump = Tcpdump { child };
        let t0 = Instant::now();
        while !fs::read_to_string(err)
            .unwrap_or_default()
            .contains("listening on")
        {
            if let Some(st) = tcpdump.child.try_wait().unwrap() {
                panic!("harness: tcpdump {args:?} exited ({st}): {}", tail(err, 10));
            }
            if t0.elapsed() > Duration::from_secs(10) {
                panic!(
                    "harness: tcpdump {args:?} did not start listening: {}",
                    tail(err, 10)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        tcpdump
    }

    /// Ends it gently: with -l every line it printed is already written.
    pub fn stop(mut self) {
        killpg(self.child.id(), libc::SIGTERM);
        let _ = self.child.wait();
    }
}

impl Drop for Tcpdump {
    fn drop(&mut self) {
        // After `stop` this finds the group gone (ESRCH), which is fine.
        killpg(self.child.id(), libc::SIGKILL);
        let _ = self.child.wait();
    }
}

/// Takes the machine-wide lock that serializes namespace tests. Every test
/// (thread or process) opens its own file description, so flock excludes
/// threads of one test binary as well as separate binaries.
fn lock() -> File {
    let path = std::env::temp_dir().join("keepvip-lan-tests.lock");
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("harness: open {}: {e}", path.display()));
    let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(rc, 0, "harness: flock {}", path.display());
    f
}

/// SIGKILLs every process in namespace `ns` (by pid, as `ip netns pids`
/// lists them): what a daemon started in its own process groups (check and
/// notify scripts) outlives a SIGKILL of the daemon's group.
fn kill_namespace_processes(ns: &str) {
    if let Ok(pids) = ip(&["netns", "pids", ns]) {
        for p in pids
            .split_whitespace()
            .filter_map(|p| p.parse::<i32>().ok())
        {
            unsafe {
                libc::kill(p, libc::SIGKILL);
            }
        }
    }
}

/// Deletes namespaces named by a previous test process that died without
/// running its Drop (e.g. it was SIGKILLed): `kvlan<pid>-...` where that
/// pid no longer exists. Their daemons are killed by pid first.
fn reap_stale_namespaces() {
    let Ok(list) = ip(&["netns", "list"]) else {
        return;
    };
    for line in list.lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(rest) = name.strip_prefix(NS_PREFIX) else {
            continue;
        };
        let Some((pid, _)) = rest.split_once('-') else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if pid_alive(pid) {
            continue;
        }
        kill_namespace_processes(name);
        eprintln!("harness: deleting stale namespace {name}");
        let _ = ip(&["netns", "del", name]);
    }
}

impl Lan {
    /// Builds a switch and `n` routers (numbered 1..=n, address
    /// 192.0.2.(10+i)/24 on eth0) and starts the capture. Returns None only
    /// when namespaces are unavailable and KEEPVIP_SKIP_NETNS=1; the test
    /// then returns early. `tag` must be unique among tests.
    pub fn new(tag: &str, n: usize) -> Option<Lan> {
        Lan::with_capture_filter(tag, n, DEFAULT_FILTER)
    }

    /// Like [`Lan::new`] with another tcpdump filter: under a packet flood
    /// tcpdump must print only what the test looks at, or it drops packets.
    pub fn with_capture_filter(tag: &str, n: usize, filter: &str) -> Option<Lan> {
        assert!((1..=200).contains(&n));
        if unsafe { libc::geteuid() } != 0 {
            return skip_or_panic("not running as root");
        }
        let lock = std::sync::Arc::new(lock());
        reap_stale_namespaces();
        Lan::build(tag, n, filter, lock)
    }

    /// Several LANs of `n` routers each, under one hold of the machine-wide
    /// lock (see [`Lan::hold_lock`]), to be driven side by side: the
    /// conformance runner plays one scenario on each at once. Each has its
    /// own switch and capture.
    pub fn side_by_side(lock: &LanLock, tags: &[&str], n: usize) -> Vec<Lan> {
        tags.iter()
            .map(|tag| Lan::build(tag, n, DEFAULT_FILTER, lock.0.clone()))
            .collect::<Option<Vec<Lan>>>()
            .expect("harness: namespaces worked when the lock was taken")
    }

    /// Takes the machine-wide lock for LANs made by [`Lan::side_by_side`]
    /// while it is held. None when namespace tests are skipped.
    pub fn hold_lock() -> Option<LanLock> {
        if unsafe { libc::geteuid() } != 0 {
            skip_or_panic("not running as root")?;
        }
        let t0 = Instant::now();
        let lock = std::sync::Arc::new(lock());
        if std::env::var_os("KEEPVIP_CONFORMANCE_TIMES").is_some() {
            eprintln!("harness: waited {:.1?} for the lock", t0.elapsed());
        }
        reap_stale_namespaces();
        Some(LanLock(lock))
    }

    fn build(tag: &str, n: usize, filter: &str, lock: std::sync::Arc<File>) -> Option<Lan> {
        assert!((1..=200).contains(&n));

        let base = format!("{NS_PREFIX}{}-{tag}", std::process::id());
        let dir = std::env::temp_dir().join(&base);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("harness: mkdir {}: {e}", dir.display()));
        let mut lan = Lan {
            tag: tag.to_string(),
            capture_file: dir.join("capture.txt"),
            dir,
            switch_ns: None,
            routers: Vec::new(),
            capture: None,
            second_capture: None,
            debug_log: true,
            verbose_captures: std::sync::atomic::AtomicU32::new(0),
            _lock: lock,
        };

        // From here on `lan` owns what exists, so a panic cleans it up.
        let sw = format!("{base}-sw");
        if let Err(e) = ip(&["netns", "add", &sw]) {
            drop(lan);
            return skip_or_panic(&format!("cannot create a network namespace: {e}"));
        }
        lan.switch_ns = Some(sw.clone());
        ip_ok(&["-n", &sw, "link", "set", "lo", "up"]);
        ip_ok(&["-n", &sw, "link", "add", "br0", "type", "bridge"]);
        ip_ok(&["-n", &sw, "link", "set", "br0", "up"]);

        for i in 1..=n {
            let ns = format!("{base}-r{i}");
            ip_ok(&["netns", "add", &ns]);
            let rdir = lan.dir.join(format!("r{i}"));
            fs::create_dir_all(&rdir).expect("harness: mkdir router dir");
            lan.routers.push(Router {
                log: rdir.join("daemon.log"),
                dir: rdir,
                ns: ns.clone(),
                addr: Ipv4Addr::new(192, 0, 2, 10 + i as u8),
                mac: String::new(),
                child: None,
                last: None,
                starts: 0,
                keepvip_bin: None,
            });
            // Created from inside the switch namespace with the peer put
            // straight into the router's: the host namespace never sees it.
            ip_ok(&["-n", &ns, "link", "set", "lo", "up"]);
            let mac = plug_router(&sw, &ns, i, Ipv4Addr::new(192, 0, 2, 10 + i as u8));
            lan.routers.last_mut().unwrap().mac = mac;
        }
        lan.start_capture(filter);
        Some(lan)
    }

    fn start_capture(&mut self, filter: &str) {
        let sw = self.switch_ns.clone().unwrap();
        // -l: line-buffered so the file is current; --immediate-mode: no
        // kernel-side batching, which would delay packets by up to a second.
        // -B: in immediate mode libpcap's ring holds buffer / 64 KiB frames,
        // only 32 with the default 2 MiB, so a burst of 100 adverts (100
        // instances falling due together) lost 68 of them in the capture.
        // Routers start only after it listens, or the first election's
        // adverts and GARPs would be missing from the capture.
        let args = [
            "-i",
            "br0",
            "-B",
            "32768",
            "-l",
            "-n",
            "-e",
            "-tt",
            "--immediate-mode",
            filter,
        ];
        let err = self.dir.join("capture.err");
        self.capture = Some(Tcpdump::start(&sw, &args, &self.capture_file, &err));
    }

    fn r(&self, router: usize) -> &Router {
        self.routers.get(router.wrapping_sub(1)).unwrap_or_else(|| {
            panic!(
                "harness: no router {router} (routers are 1..={})",
                self.routers.len()
            )
        })
    }

    fn r_mut(&mut self, router: usize) -> &mut Router {
        let n = self.routers.len();
        self.routers
            .get_mut(router.wrapping_sub(1))
            .unwrap_or_else(|| panic!("harness: no router {router} (routers are 1..={n})"))
    }

    pub fn routers(&self) -> std::ops::RangeInclusive<usize> {
        1..=self.routers.len()
    }

    pub fn ns(&self, router: usize) -> &str {
        &self.r(router).ns
    }

    pub fn addr(&self, router: usize) -> Ipv4Addr {
        self.r(router).addr
    }

    /// The router's global IPv6 address (2001:db8::/64, no DAD).
    pub fn addr6(&self, router: usize) -> Ipv6Addr {
        self.r(router);
        router_ipv6(router)
    }

    pub fn mac(&self, router: usize) -> &str {
        &self.r(router).mac
    }

    pub fn log_path(&self, router: usize) -> &Path {
        &self.r(router).log
    }

    pub fn log(&self, router: usize) -> String {
        fs::read_to_string(&self.r(router).log).unwrap_or_default()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn note(&self, router: usize, what: &str) {
        // Harness markers in the daemon log make it readable after the fact.
        if let Ok(mut f) = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.r(router).log)
        {
            let _ = writeln!(f, "==== harness: {what} ====");
        }
    }

    /// Writes `config` to the router's directory and starts `imp` on it,
    /// in the router's namespace, in its own process group.
    pub fn start(&mut self, router: usize, imp: Impl, config: &str) {
        assert!(
            !self.running(router),
            "harness: router {router} is already running"
        );
        let debug_log = self.debug_log;
        let r = self.r_mut(router);
        r.last = Some((imp, config.to_string()));
        r.starts += 1;
        let conf = r.dir.join("keepalived.conf");
        fs::write(&conf, config).expect("harness: write config");
        // A pid file left by a SIGKILLed daemon must not stop the restart.
        for f in ["daemon.pid", "vrrp.pid", "checkers.pid"] {
            let _ = fs::remove_file(r.dir.join(f));
        }
        let conf = conf.to_str().unwrap().to_string();
        let pid = r.dir.join("daemon.pid").to_str().unwrap().to_string();
        let mut args: Vec<String> = vec!["netns".into(), "exec".into(), r.ns.clone()];
        match imp {
            Impl::Keepvip => {
                let bin = match &r.keepvip_bin {
                    Some(bin) => bin.to_str().unwrap().to_string(),
                    None => std::env::var("KEEPVIP_BIN")
                        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_keepvip").to_string()),
                };
                args.extend([bin, "-n".into(), "-l".into()]);
                if debug_log {
                    args.push("-D".into());
                }
                args.extend([
                    "-f".into(),
                    conf,
                    "-p".into(),
                    pid,
                    // One status socket per router, not the shared default.
                    "--status-socket".into(),
                    r.dir.join("status.sock").to_str().unwrap().to_string(),
                ]);
            }
            Impl::Keepalived => {
                // keepalived's default pid files are global (/run/...), so
                // two of them on one host would refuse to start: give each
                // its own. -P: VRRP only, no checker process.
                let vrrp = r.dir.join("vrrp.pid").to_str().unwrap().to_string();
                let chk = r.dir.join("checkers.pid").to_str().unwrap().to_string();
                args.extend(["keepalived", "-n", "-l"].map(String::from));
                if debug_log {
                    args.push("-D".into());
                }
                args.extend(["-P", "-f"].map(String::from));
                args.extend([conf, "-p".into(), pid, "-r".into(), vrrp, "-c".into(), chk]);
            }
        }
        let starts = r.starts;
        self.note(router, &format!("start #{starts}: {}", args[3..].join(" ")));
        let r = self.r_mut(router);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&r.log)
            .expect("harness: open log");
        let log2 = log.try_clone().expect("harness: dup log");
        // `ip netns exec` execs the daemon, so the child's pid is the
        // daemon's pid and also its process group id.
        // keepvip writes its SIGUSR1/SIGUSR2 files to $TMPDIR: one per router.
        let tmpdir = r.dir.clone();
        let child = Command::new("ip")
            .args(&args)
            .env("TMPDIR", tmpdir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("harness: spawn {}: {e}", args.join(" ")));
        r.child = Some(child);
    }

    /// The keepvip binary the router runs from its next start on (None:
    /// the one under test): a copy that a test replaces, as an upgrade
    /// replaces the installed binary.
    pub fn set_keepvip_binary(&mut self, router: usize, bin: Option<PathBuf>) {
        self.r_mut(router).keepvip_bin = bin;
    }

    /// Waits up to `timeout` for the router's daemon to exit on its own
    /// (no signal sent), and forgets it; panics if it does not.
    pub fn wait_exit(&mut self, router: usize, timeout: Duration) -> ExitStatus {
        let t0 = Instant::now();
        loop {
            let child = self
                .r_mut(router)
                .child
                .as_mut()
                .expect("harness: not started");
            if let Some(status) = child.try_wait().expect("harness: wait") {
                let mut child = self.r_mut(router).child.take().unwrap();
                // Whatever it left in its group goes too.
                killpg(child.id(), libc::SIGKILL);
                let _ = child.wait();
                self.note(router, &format!("exited: {status}"));
                return status;
            }
            if t0.elapsed() > timeout {
                panic!(
                    "{}",
                    self.diagnose(&format!("r{router} did not exit within {timeout:?}"))
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether daemons started from now on get `-D`.
    pub fn set_debug_log(&mut self, on: bool) {
        self.debug_log = on;
    }

    /// The pid of the router's daemon, which is also its process group id
    /// (keepalived's VRRP child is in the same group).
    pub fn pid(&self, router: usize) -> Option<u32> {
        self.r(router).child.as_ref().map(|c| c.id())
    }

    /// True while the router's daemon process has not exited.
    pub fn running(&mut self, router: usize) -> bool {
        match self.r_mut(router).child.as_mut() {
            None => false,
            Some(c) => c.try_wait().map(|s| s.is_none()).unwrap_or(false),
        }
    }

    fn is_running(&self, router: usize) -> bool {
        // For read-only paths (no try_wait on &self): ask /proc.
        self.r(router)
            .child
            .as_ref()
            .is_some_and(|c| pid_alive(c.id()))
    }

    fn addrs(&self, router: usize) -> Vec<String> {
        self.addrs_on(router, "eth0")
    }

    fn addrs_on(&self, router: usize, dev: &str) -> Vec<String> {
        // `inet 192.0.2.11/24 ...` -> "192.0.2.11/24", and the same for
        // `inet6`; link-local addresses are the kernel's, not the daemon's,
        // and are left out so that `kill` never puts one back.
        let out =
            ip(&["-n", self.ns(router), "-o", "addr", "show", "dev", dev]).unwrap_or_default();
        out.lines()
            .filter_map(|l| {
                l.split_whitespace()
                    .skip_while(|w| *w != "inet" && *w != "inet6")
                    .nth(1)
            })
            .filter(|a| !a.starts_with("fe80:"))
            .map(String::from)
            .collect()
    }

    /// The router dies silently: its process group is stopped, its links
    /// go down, so that nothing it had queued reaches the LAN, then the
    /// group gets SIGKILL. Whatever addresses it held stay on its (down)
    /// eth0, as after a crash: the harness puts back any that went (the
    /// kernel drops IPv6 addresses when a link goes down). That makes every run the same:
    /// on `revive` the daemon always finds its stale VIP and must clean up.
    pub fn kill(&mut self, router: usize) {
        assert!(
            self.running(router),
            "harness: kill: router {router} is not running"
        );
        // Stopped first, so that it cannot see its links go (and leave
        // MASTER for FAULT, run notify scripts, or say something on a
        // second LAN's link before that one goes down too): whether it
        // did before the SIGKILL landed was a race.
        let pgid = self.pid(router).unwrap();
        killpg(pgid, libc::SIGSTOP);
        let devs = self.lan_devices(router);
        let held: Vec<Vec<String>> = devs.iter().map(|d| self.addrs_on(router, d)).collect();
        let ns = self.ns(router).to_string();
        for dev in &devs {
            ip_ok(&["-n", &ns, "link", "set", dev, "down"]);
        }
        let r = self.r_mut(router);
        let mut child = r.child.take().unwrap();
        killpg(child.id(), libc::SIGKILL);
        let status = child.wait().expect("harness: wait");
        self.note(router, &format!("killed (link down, SIGKILL): {status}"));
        for (dev, held) in devs.iter().zip(&held) {
            let now = self.addrs_on(router, dev);
            let lost: Vec<&String> = held.iter().filter(|a| !now.contains(a)).collect();
            for a in &lost {
                ip_ok(&["-n", &ns, "addr", "add", a, "dev", dev]);
            }
            self.note(
                router,
                &format!("dead with addresses {held:?} on {dev} (put back: {lost:?})"),
            );
        }
    }

    /// Link up, and the same daemon with the same config as last time.
    pub fn revive(&mut self, router: usize) {
        let (imp, conf) = self
            .r(router)
            .last
            .clone()
            .expect("harness: revive: never started");
        for dev in self.lan_devices(router) {
            ip_ok(&["-n", self.ns(router), "link", "set", &dev, "up"]);
        }
        // IPv6 daemons send from the link-local address, which the kernel
        // adds again when the link comes up: do not start before it.
        self.wait_until(
            Duration::from_secs(5),
            "eth0 has a link-local address",
            || {
                ip(&[
                    "-n",
                    self.ns(router),
                    "-6",
                    "-o",
                    "addr",
                    "show",
                    "dev",
                    "eth0",
                ])
                .unwrap_or_default()
                .contains("inet6 fe80:")
            },
        );
        self.start(router, imp, &conf);
    }

    /// Graceful stop: SIGTERM to the daemon, wait for it to exit.
    pub fn stop(&mut self, router: usize) -> ExitStatus {
        assert!(
            self.running(router),
            "harness: stop: router {router} is not running"
        );
        let mut child = self.r_mut(router).child.take().unwrap();
        unsafe {
            libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
        }
        let t0 = Instant::now();
        let status = loop {
            if let Some(st) = child.try_wait().expect("harness: wait") {
                break st;
            }
            if t0.elapsed() > EXIT_WAIT {
                self.r_mut(router).child = Some(child);
                panic!(
                    "{}",
                    self.diagnose(&format!(
                        "router {router} did not exit within {EXIT_WAIT:?} of SIGTERM"
                    ))
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // Anything left in its group (there should be nothing) goes too.
        killpg(child.id(), libc::SIGKILL);
        self.note(router, &format!("stopped (SIGTERM): {status}"));
        status
    }

    /// Sets the router's eth0 up or down, the daemon left running (a cable
    /// pulled, not a crash).
    pub fn set_link(&self, router: usize, up: bool) {
        let state = if up { "up" } else { "down" };
        ip_ok(&["-n", self.ns(router), "link", "set", "eth0", state]);
        self.note(router, &format!("link set {state}"));
    }

    /// Where the router's switch port stands (design.md, "A partition
    /// without tc"): on the bridge, off it (a partition, the router's link
    /// stays up), or on it without multicast flooding towards the router
    /// (its adverts reach the others, theirs do not reach it).
    pub fn set_port(&self, router: usize, port: Port) {
        let sw = self.switch_ns.clone().expect("harness: no switch");
        let p = format!("p{router}");
        match port {
            Port::Bridged => {
                ip_ok(&["-n", &sw, "link", "set", &p, "master", "br0"]);
                ip_ok(&[
                    "-n",
                    &sw,
                    "link",
                    "set",
                    &p,
                    "type",
                    "bridge_slave",
                    "mcast_flood",
                    "on",
                ]);
            }
            Port::Detached => {
                ip_ok(&["-n", &sw, "link", "set", &p, "nomaster"]);
            }
            Port::DeafToMulticast => {
                ip_ok(&["-n", &sw, "link", "set", &p, "master", "br0"]);
                ip_ok(&[
                    "-n",
                    &sw,
                    "link",
                    "set",
                    &p,
                    "type",
                    "bridge_slave",
                    "mcast_flood",
                    "off",
                ]);
            }
        }
        self.note(router, &format!("switch port {port:?}"));
    }

    /// Adds an interface `name` (up) in the router's namespace, for
    /// `track_interface`.
    pub fn add_dummy(&self, router: usize, name: &str) {
        // A veth pair inside the namespace (this kernel has no dummy
        // module); only `name` is watched and set down and up.
        let peer = format!("{name}p");
        ip_ok(&[
            "-n",
            self.ns(router),
            "link",
            "add",
            name,
            "type",
            "veth",
            "peer",
            "name",
            &peer,
        ]);
        ip_ok(&["-n", self.ns(router), "link", "set", &peer, "up"]);
        ip_ok(&["-n", self.ns(router), "link", "set", name, "up"]);
    }

    /// Sets interface `name` of the router's namespace up or down.
    pub fn set_interface(&self, router: usize, name: &str, up: bool) {
        let state = if up { "up" } else { "down" };
        ip_ok(&["-n", self.ns(router), "link", "set", name, state]);
        self.note(router, &format!("{name} set {state}"));
    }

    /// Writes a new config for the router (used by `revive` from now on)
    /// and, if its daemon runs, sends it SIGHUP.
    pub fn reload(&mut self, router: usize, config: &str) {
        let r = self.r_mut(router);
        fs::write(r.dir.join("keepalived.conf"), config).expect("harness: write config");
        if let Some((_, last)) = r.last.as_mut() {
            *last = config.to_string();
        }
        if self.running(router) {
            self.note(router, "reload (SIGHUP)");
            self.signal(router, libc::SIGHUP);
        }
    }

    /// Gratuitous ARPs and unsolicited neighbour advertisements captured
    /// after `since`, in order: (capture time, Ethernet source, address).
    pub fn announcements_since(&self, since: Mark) -> Vec<(f64, String, String)> {
        self.capture_since(since)
            .lines()
            .filter_map(parse_announcement)
            .collect()
    }

    /// Whether multicast (VRRP, neighbour advertisements) from the others
    /// reaches the router: its switch port's `mcast_flood`. Off on two
    /// ports cuts VRRP between them both ways; turning one back on heals
    /// one direction only, so a test can choose who hears whom first.
    pub fn set_mcast_flood(&self, router: usize, on: bool) {
        let sw = self.switch_ns.as_deref().unwrap();
        let port = format!("p{router}");
        let _ = self.r(router);
        let flag = if on { "on" } else { "off" };
        ip_ok(&[
            "-n",
            sw,
            "link",
            "set",
            &port,
            "type",
            "bridge_slave",
            "mcast_flood",
            flag,
        ]);
        self.note(router, &format!("multicast to it {flag}"));
    }

    /// Deletes the router's eth0 (its veth pair goes with it) and makes a
    /// new one, with a new index and MAC, the daemon left running: a NIC
    /// that disappears and comes back.
    pub fn recreate_eth0(&mut self, router: usize) {
        let addr = self.addr(router);
        self.recreate_eth0_at(router, addr);
    }

    /// Like [`Lan::recreate_eth0`], the new NIC with primary address `addr`.
    pub fn recreate_eth0_at(&mut self, router: usize, addr: Ipv4Addr) {
        let ns = self.ns(router).to_string();
        let sw = self.switch_ns.clone().expect("harness: no switch");
        ip_ok(&["-n", &ns, "link", "del", "eth0"]);
        self.note(router, "eth0 deleted");
        std::thread::sleep(Duration::from_millis(500));
        let mac = plug_router(&sw, &ns, router, addr);
        let r = self.r_mut(router);
        r.mac = mac;
        r.addr = addr;
        self.note(router, &format!("eth0 re-created with {addr}"));
    }

    /// Takes the router's switch port off the bridge (its link stays up:
    /// a partition), or puts it back.
    pub fn set_bridged(&self, router: usize, bridged: bool) {
        let sw = self.switch_ns.as_deref().expect("harness: no switch");
        let port = format!("p{router}");
        if bridged {
            ip_ok(&["-n", sw, "link", "set", &port, "master", "br0"]);
        } else {
            ip_ok(&["-n", sw, "link", "set", &port, "nomaster"]);
        }
        self.note(
            router,
            if bridged {
                "bridged again"
            } else {
                "unbridged"
            },
        );
    }

    /// A second interface `name` inside the router's namespace: one end of
    /// a veth pair whose other end, `{name}p`, stays beside it to listen
    /// on; both up, `cidr` (if any) on `name`. Returns `name`'s MAC.
    pub fn add_side_link(&self, router: usize, name: &str, cidr: Option<&str>) -> String {
        let ns = self.ns(router);
        let peer = format!("{name}p");
        ip_ok(&[
            "-n", ns, "link", "add", name, "type", "veth", "peer", "name", &peer,
        ]);
        ip_ok(&["-n", ns, "link", "set", name, "up"]);
        ip_ok(&["-n", ns, "link", "set", &peer, "up"]);
        if let Some(cidr) = cidr {
            ip_ok(&["-n", ns, "addr", "add", cidr, "dev", name]);
        }
        let link = ip_ok(&["-n", ns, "-o", "link", "show", "dev", name]);
        link.split_whitespace()
            .skip_while(|w| *w != "link/ether")
            .nth(1)
            .unwrap_or_else(|| panic!("harness: no MAC in {link:?}"))
            .to_string()
    }

    /// Sends `signal` to the router's daemon (it must be running).
    pub fn signal(&mut self, router: usize, signal: libc::c_int) {
        let pid = self
            .r_mut(router)
            .child
            .as_ref()
            .expect("harness: signal: router not running")
            .id();
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(pid as libc::pid_t, signal);
        }
    }

    pub fn link_up(&self, router: usize) -> bool {
        let out =
            ip(&["-n", self.ns(router), "-o", "link", "show", "dev", "eth0"]).unwrap_or_default();
        // Flags look like <BROADCAST,MULTICAST,UP,LOWER_UP>.
        out.split_whitespace().nth(2).is_some_and(|flags| {
            flags
                .trim_matches(|c| c == '<' || c == '>')
                .split(',')
                .any(|f| f == "UP")
        })
    }

    /// A second LAN ("LAN B"): bridge `br1` in the switch namespace and on
    /// it every router's `eth1` (switch port `b<i>`), 198.51.100.(10+i)/24.
    /// Not captured; tests look at the routers' addresses.
    pub fn add_second_lan(&self) {
        let sw = self.switch_ns.clone().unwrap();
        ip_ok(&["-n", &sw, "link", "add", "br1", "type", "bridge"]);
        ip_ok(&["-n", &sw, "link", "set", "br1", "up"]);
        for i in self.routers() {
            let ns = self.ns(i).to_string();
            let port = format!("b{i}");
            ip_ok(&[
                "-n", &sw, "link", "add", &port, "type", "veth", "peer", "name", "eth1", "netns",
                &ns,
            ]);
            ip_ok(&["-n", &sw, "link", "set", &port, "master", "br1"]);
            ip_ok(&["-n", &sw, "link", "set", &port, "up"]);
            ip_ok(&["-n", &ns, "link", "set", "eth1", "up"]);
            let cidr = format!("198.51.100.{}/24", 10 + i);
            ip_ok(&["-n", &ns, "addr", "add", &cidr, "dev", "eth1"]);
        }
    }

    /// The router's LAN interfaces: eth0, and eth1 once there is a LAN B.
    fn lan_devices(&self, router: usize) -> Vec<String> {
        let has_eth1 = ip(&["-n", self.ns(router), "-o", "link", "show", "dev", "eth1"]).is_ok();
        let mut devs = vec!["eth0".to_string()];
        if has_eth1 {
            devs.push("eth1".to_string());
        }
        devs
    }

    /// Captures LAN B's bridge too (after `add_second_lan`), as `br0` is:
    /// see [`Lan::second_lan_announcements`] and
    /// [`Lan::second_lan_adverts`].
    pub fn capture_second_lan(&mut self) {
        let sw = self.switch_ns.clone().unwrap();
        let args = [
            "-i",
            "br1",
            "-B",
            "32768",
            "-l",
            "-n",
            "-e",
            "-tt",
            "--immediate-mode",
            DEFAULT_FILTER,
        ];
        let out = self.dir.join("capture-b.txt");
        let err = self.dir.join("capture-b.err");
        self.second_capture = Some(Tcpdump::start(&sw, &args, &out, &err));
    }

    fn second_capture_text(&self) -> String {
        fs::read_to_string(self.dir.join("capture-b.txt")).unwrap_or_default()
    }

    /// Like [`Lan::announcements_since`] from the start, on LAN B.
    pub fn second_lan_announcements(&self) -> Vec<(f64, String, String)> {
        self.second_capture_text()
            .lines()
            .filter_map(parse_announcement)
            .collect()
    }

    /// Like [`Lan::adverts_since`] from the start, on LAN B.
    pub fn second_lan_adverts(&self) -> Vec<Advert> {
        self.second_capture_text()
            .lines()
            .filter_map(parse_advert)
            .collect()
    }

    /// The MAC of the router's eth1 (LAN B).
    pub fn second_lan_mac(&self, router: usize) -> String {
        let link = ip_ok(&["-n", self.ns(router), "-o", "link", "show", "dev", "eth1"]);
        link.split_whitespace()
            .skip_while(|w| *w != "link/ether")
            .nth(1)
            .unwrap_or_else(|| panic!("harness: no MAC in {link:?}"))
            .to_string()
    }

    /// Takes router `router`'s switch port off its bridge (`on` false), or
    /// puts it back: a partition of that LAN alone with the link left up.
    /// `second_lan` picks LAN B's port (see `add_second_lan`).
    pub fn set_switch_port(&self, router: usize, second_lan: bool, on: bool) {
        let sw = self.switch_ns.clone().unwrap();
        let (port, bridge) = if second_lan {
            (format!("b{router}"), "br1")
        } else {
            (format!("p{router}"), "br0")
        };
        if on {
            ip_ok(&["-n", &sw, "link", "set", &port, "master", bridge]);
        } else {
            ip_ok(&["-n", &sw, "link", "set", &port, "nomaster"]);
        }
    }

    /// Whether `vip` (any prefix length) is on the router's `dev`.
    pub fn holds_vip_on(&self, router: usize, dev: &str, vip: &str) -> bool {
        self.addrs_on(router, dev)
            .iter()
            .any(|a| a.split('/').next() == Some(vip))
    }

    /// Whether `vip` (any prefix length) is on the router's eth0.
    pub fn holds_vip(&self, router: usize, vip: &str) -> bool {
        self.addrs(router)
            .iter()
            .any(|a| a.split('/').next() == Some(vip))
    }

    /// Exactly `router` holds `vip`, with its daemon running: every other
    /// router lacks it, except a killed one, which only has to have its
    /// link down (it keeps its addresses, see `kill`).
    pub fn sole_holder(&self, router: usize, vip: &str) -> bool {
        self.routers().all(|i| {
            let started = self.r(i).child.is_some();
            if started && !self.is_running(i) {
                // Started and not killed or stopped, yet gone: it crashed.
                // Never "holds" then, so the wait fails with diagnostics.
                return false;
            }
            if i == router {
                started && self.holds_vip(i, vip)
            } else {
                // A killed router's link is down and may keep a stale VIP
                // (see `kill`); any other router must not have it.
                (!started && !self.link_up(i)) || !self.holds_vip(i, vip)
            }
        })
    }

    /// Panics with diagnostics if a daemon that was started (and not
    /// killed or stopped since) has exited: waiting on would only time out.
    fn check_crashed(&self, what: &str) {
        if let Some(i) = self
            .routers()
            .find(|&i| self.r(i).child.is_some() && !self.is_running(i))
        {
            panic!(
                "{}",
                self.diagnose(&format!(
                    "r{i}'s daemon exited unexpectedly, while checking: {what}"
                ))
            );
        }
    }

    /// Polls `cond` every 100 ms until it holds; after `timeout`, panics
    /// with the state of every router, their log tails and the capture.
    pub fn wait_until(
        &self,
        timeout: Duration,
        what: &str,
        mut cond: impl FnMut() -> bool,
    ) -> Duration {
        let t0 = Instant::now();
        loop {
            if cond() {
                return t0.elapsed();
            }
            self.check_crashed(what);
            if t0.elapsed() > timeout {
                panic!(
                    "{}",
                    self.diagnose(&format!("timed out after {timeout:?} waiting until {what}"))
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Checks `cond` every 100 ms for `duration`; panics the first time it
    /// is false. A negative check ("nothing changes"), so it takes the
    /// whole duration.
    pub fn holds_for(&self, duration: Duration, what: &str, mut cond: impl FnMut() -> bool) {
        let t0 = Instant::now();
        loop {
            self.check_crashed(what);
            if !cond() {
                let at = t0.elapsed();
                panic!(
                    "{}",
                    self.diagnose(&format!(
                        "stopped holding after {at:?} (of {duration:?}): {what}"
                    ))
                );
            }
            if t0.elapsed() >= duration {
                return;
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until `router` is the sole holder of `vip`; returns how long.
    pub fn wait_sole_holder(&self, router: usize, vip: &str, timeout: Duration) -> Duration {
        self.wait_until(timeout, &format!("r{router} alone holds {vip}"), || {
            self.sole_holder(router, vip)
        })
    }

    /// `router` stays the sole holder of `vip` for `duration`.
    pub fn sole_holder_for(&self, router: usize, vip: &str, duration: Duration) {
        self.holds_for(duration, &format!("r{router} alone holds {vip}"), || {
            self.sole_holder(router, vip)
        })
    }

    /// The current end of the capture.
    pub fn mark(&self) -> Mark {
        Mark(
            fs::metadata(&self.capture_file)
                .map(|m| m.len())
                .unwrap_or(0),
        )
    }

    fn capture_since(&self, since: Mark) -> String {
        let bytes = fs::read(&self.capture_file).unwrap_or_default();
        let from = (since.0 as usize).min(bytes.len());
        String::from_utf8_lossy(&bytes[from..]).into_owned()
    }

    /// Whether the capture shows, after `since`, a gratuitous ARP for `vip`
    /// (request `who-has VIP tell VIP` or reply `VIP is-at`) whose
    /// Ethernet source is `router`'s MAC; for an IPv6 `vip`, an unsolicited
    /// neighbour advertisement for it.
    pub fn garp_seen_from(&self, router: usize, vip: &str, since: Mark) -> bool {
        let mac = self.mac(router);
        self.capture_since(since)
            .lines()
            .any(|l| is_garp(l, mac, vip) || is_unsolicited_na(l, mac, vip))
    }

    /// Runs a verbose tcpdump (`-vv`, which verifies VRRP checksums) on
    /// the bridge for `duration` from the moment it listens, and returns
    /// what it printed: VRRP of both families. The clock starts only once
    /// tcpdump says "listening on": its start-up (exec, pcap activation)
    /// can take a second or more on a loaded machine, and a window that
    /// included it could hold no advert at all.
    pub fn verbose_capture(&self, duration: Duration) -> String {
        let sw = self.switch_ns.clone().unwrap();
        let n = 1 + self
            .verbose_captures
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let outpath = self.dir.join(format!("verbose-{n}.txt"));
        let errpath = self.dir.join(format!("verbose-{n}.err"));
        let args = [
            "-i",
            "br0",
            "-n",
            "-vv",
            "-l",
            "--immediate-mode",
            "ip proto 112 or ip6 proto 112",
        ];
        let tcpdump = Tcpdump::start(&sw, &args, &outpath, &errpath);
        std::thread::sleep(duration);
        tcpdump.stop();
        fs::read_to_string(&outpath).unwrap_or_default()
    }

    /// Waits (for tcpdump to catch up) until a GARP for `vip` from `router`
    /// after `since` is in the capture.
    pub fn wait_garp_from(&self, router: usize, vip: &str, since: Mark) {
        self.wait_until(
            CAPTURE_LAG,
            &format!("a gratuitous ARP for {vip} from r{router} is captured"),
            || self.garp_seen_from(router, vip, since),
        );
    }

    /// Capture times of the gratuitous ARPs for `vip` from `router` after
    /// `since`, in order; for an IPv6 `vip`, of its unsolicited neighbour
    /// advertisements.
    pub fn garp_times_since(&self, router: usize, vip: &str, since: Mark) -> Vec<f64> {
        let mac = self.mac(router);
        self.capture_since(since)
            .lines()
            .filter(|l| is_garp(l, mac, vip) || is_unsolicited_na(l, mac, vip))
            .filter_map(|l| l.split_whitespace().next()?.parse().ok())
            .collect()
    }

    /// VRRP adverts captured after `since`, in order.
    pub fn adverts_since(&self, since: Mark) -> Vec<Advert> {
        self.capture_since(since)
            .lines()
            .filter_map(parse_advert)
            .collect()
    }

    /// Everything a failure message needs: each router's daemon state,
    /// link, addresses and log tail, and the end of the capture.
    pub fn diagnose(&self, what: &str) -> String {
        let mut s = format!("\n==== {} [{}]: {what}\n", self.tag, self.dir.display());
        for i in self.routers() {
            let r = self.r(i);
            let state = match &r.child {
                Some(c) if pid_alive(c.id()) => format!("running, pid {}", c.id()),
                Some(_) => "EXITED".to_string(),
                None => "not running".to_string(),
            };
            let _ = writeln!(
                s,
                "---- r{i} ({}, {}, mac {}), daemon {state}, link {}, addresses {:?}",
                r.ns,
                r.addr,
                r.mac,
                if self.link_up(i) { "up" } else { "DOWN" },
                self.addrs(i)
            );
            let _ = writeln!(s, "{}", tail(&r.log, 25));
        }
        let _ = writeln!(
            s,
            "---- capture (last 25 lines)\n{}",
            tail(&self.capture_file, 25)
        );
        s
    }
}

fn is_garp(line: &str, mac: &str, vip: &str) -> bool {
    // 1795623884.288999 f6:89:11:00:73:64 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42:
    //   Request who-has 192.0.2.100 (ff:ff:ff:ff:ff:ff) tell 192.0.2.100, length 28
    //   Reply 192.0.2.100 is-at f6:89:11:00:73:64, length 28
    let mut w = line.split_whitespace();
    let (_time, src) = (w.next(), w.next());
    if src != Some(mac) || !line.contains("ethertype ARP") {
        return false;
    }
    let Some((_, arp)) = line
        .split_once("ethertype ARP")
        .and_then(|(_, r)| r.split_once(": "))
    else {
        return false;
    };
    let words: Vec<&str> = arp
        .split_whitespace()
        .map(|w| w.trim_end_matches(','))
        .collect();
    match words.as_slice() {
        ["Request", "who-has", target, rest @ ..] => {
            let sender = rest.iter().skip_while(|w| **w != "tell").nth(1);
            *target == vip && sender == Some(&vip)
        }
        ["Reply", sender, "is-at", ..] => *sender == vip,
        _ => false,
    }
}

/// A gratuitous ARP or unsolicited NA line: (time, source MAC, address).
/// Only broadcast ARP and NAs to all nodes: a kernel's unicast reply to
/// the new master's gratuitous request (sent while it still held the
/// address) is not an announcement.
fn parse_announcement(line: &str) -> Option<(f64, String, String)> {
    let mut w = line.split_whitespace();
    let time: f64 = w.next()?.parse().ok()?;
    let mac = w.next()?;
    let dst = w.nth(1)?.trim_end_matches(',');
    if dst != "ff:ff:ff:ff:ff:ff" && dst != "33:33:00:00:00:01" {
        return None;
    }
    let addr = if line.contains("ethertype ARP") {
        let (_, arp) = line.split_once("ethertype ARP")?.1.split_once(": ")?;
        let words: Vec<&str> = arp
            .split_whitespace()
            .map(|w| w.trim_end_matches(','))
            .collect();
        match words.as_slice() {
            ["Request", "who-has", target, ..] | ["Reply", target, "is-at", ..] => {
                target.to_string()
            }
            _ => return None,
        }
    } else {
        let (_, rest) = line.split_once("tgt is ")?;
        rest.split(',').next()?.trim().to_string()
    };
    (is_garp(line, mac, &addr) || is_unsolicited_na(line, mac, &addr))
        .then(|| (time, mac.to_string(), addr))
}

/// The global IPv6 address the harness gives router `i`.
fn router_ipv6(i: usize) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10 + i as u16)
}

fn is_unsolicited_na(line: &str, mac: &str, vip: &str) -> bool {
    // 1.0 aa:bb:cc:dd:ee:ff > 33:33:00:00:00:01, ethertype IPv6 (0x86dd), length 86:
    //   2001:db8::100 > ff02::1: ICMP6, neighbor advertisement, tgt is 2001:db8::100, length 32
    let mut w = line.split_whitespace();
    let (_time, src) = (w.next(), w.next());
    src == Some(mac)
        && line.contains("ICMP6, neighbor advertisement")
        && line
            .split_once("tgt is ")
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(&format!("{vip},")))
}

fn parse_advert(line: &str) -> Option<Advert> {
    // 1795623884.288692 f6:89:11:00:73:64 > 01:00:5e:00:00:12, ethertype IPv4 (0x0800), length 54:
    //   192.0.2.11 > 224.0.0.18: VRRPv2, Advertisement, vrid 50, prio 150, authtype simple, intvl 1s, length 20
    let mut w = line.split_whitespace();
    let time = w.next()?.parse().ok()?;
    let src_mac = w.next()?.to_string();
    let (_, l3) = line.split_once("length ")?.1.split_once(": ")?;
    let mut w = l3.split_whitespace();
    let src_ip = w.next()?.parse().ok()?;
    let vrrp = l3.split_once(": VRRPv")?.1;
    let version = vrrp.get(..1)?.parse().ok()?;
    if !vrrp.contains("Advertisement") {
        return None;
    }
    let field = |name: &str| -> Option<u8> {
        let v = vrrp.split(", ").find_map(|f| f.strip_prefix(name))?;
        v.trim().parse().ok()
    };
    Some(Advert {
        time,
        src_mac,
        src_ip,
        version,
        vrid: field("vrid ")?,
        priority: field("prio ")?,
    })
}

impl Drop for Lan {
    fn drop(&mut self) {
        // No panics in here: this often runs while a test is unwinding.
        for r in &mut self.routers {
            if let Some(mut c) = r.child.take() {
                killpg(c.id(), libc::SIGKILL);
                let _ = c.wait();
            }
        }
        // Its own drop ends it.
        self.capture = None;
        self.second_capture = None;
        // Check and notify scripts run in process groups of their own, so
        // a test that failed with one running (a hung check's `sleep 1000`)
        // would leave it behind, alive in a namespace nobody can name.
        for r in &self.routers {
            kill_namespace_processes(&r.ns);
        }
        for ns in self
            .routers
            .iter()
            .map(|r| r.ns.clone())
            .chain(self.switch_ns.take())
        {
            if let Err(e) = ip(&["netns", "del", &ns]) {
                eprintln!("harness: WARNING: could not delete namespace: {e}");
            }
        }
        if std::thread::panicking() {
            eprintln!(
                "harness: keeping logs and capture of failed test in {}",
                self.dir.display()
            );
        } else if std::env::var_os("KEEPVIP_KEEP_LOGS").is_some() {
            eprintln!(
                "harness: KEEPVIP_KEEP_LOGS: logs and capture kept in {}",
                self.dir.display()
            );
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

impl Lan {
    /// keepvip's counters on `router`, by name: SIGUSR2 writes them to
    /// keepvip.stats in its directory (a new file renamed into place, so a
    /// file that is there is whole).
    pub fn keepvip_stats(&mut self, router: usize) -> std::collections::BTreeMap<String, u64> {
        let path = self.dir().join(format!("r{router}")).join("keepvip.stats");
        let _ = fs::remove_file(&path);
        self.signal(router, libc::SIGUSR2);
        self.wait_until(Duration::from_secs(10), "keepvip.stats written", || {
            fs::read_to_string(&path).is_ok_and(|t| t.contains("discarded_"))
        });
        fs::read_to_string(&path)
            .unwrap()
            .lines()
            .filter_map(|l| {
                let (name, value) = l.split_once(' ')?;
                Some((name.to_string(), value.parse().ok()?))
            })
            .collect()
    }
}

/// Sends `payload` on the raw socket `fd` to `destination`, `rate_hz`
/// times a second for `duration`, keeping the pace from the start (a late
/// wakeup sends at once, not later still). Returns how many left.
pub fn send_paced(
    fd: libc::c_int,
    payload: &[u8],
    destination: Ipv4Addr,
    duration: Duration,
    rate_hz: u64,
) -> u64 {
    let to = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from(destination).to_be(),
        },
        sin_zero: [0; 8],
    };
    let mut sent = 0;
    let t0 = Instant::now();
    let mut due = 0u64;
    while t0.elapsed() < duration {
        // SAFETY: sendto(2) of a live buffer to a sockaddr_in.
        let rc = unsafe {
            libc::sendto(
                fd,
                payload.as_ptr() as *const libc::c_void,
                payload.len(),
                0,
                &to as *const _ as *const libc::sockaddr,
                std::mem::size_of_val(&to) as libc::socklen_t,
            )
        };
        if rc == payload.len() as isize {
            sent += 1;
        }
        due += 1;
        let next = Duration::from_micros(due * 1_000_000 / rate_hz);
        if let Some(wait) = next.checked_sub(t0.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    sent
}

/// `ip monitor address` in the router's namespace, until dropped: every
/// address the kernel removes there is in its output.
pub struct AddressMonitor {
    child: Child,
    out: PathBuf,
}

impl AddressMonitor {
    pub fn start(lan: &Lan, router: usize) -> AddressMonitor {
        let out = lan.dir().join(format!("ip-monitor-r{router}.txt"));
        let file = fs::File::create(&out).unwrap();
        let child = Command::new("ip")
            .args(["-n", lan.ns(router), "monitor", "address"])
            .stdout(file)
            .stderr(Stdio::null())
            .spawn()
            .expect("ip monitor");
        AddressMonitor { child, out }
    }

    pub fn deleted(&self, vip: &str) -> Vec<String> {
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
/// Writes a script and makes it executable.
pub fn write_executable(path: &Path, text: &str) {
    fs::write(path, text).expect("harness: write script");
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).expect("harness: chmod script");
}

/// A notify fifo script (`vrrp_notify_fifo_script`) that appends each line
/// it reads from the fifo, its last argument, to `out`.
pub fn write_fifo_reader(path: &Path, out: &Path) {
    write_executable(
        path,
        &format!(
            "#!/bin/sh\nwhile IFS= read -r line; do echo \"$line\" >> {}; done < \"$1\"\n",
            out.display()
        ),
    );
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    #[test]
    fn garp_lines() {
        let req = "1795623884.288999 f6:89:11:00:73:64 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 192.0.2.100 (ff:ff:ff:ff:ff:ff) tell 192.0.2.100, length 28";
        assert!(is_garp(req, "f6:89:11:00:73:64", "192.0.2.100"));
        assert!(!is_garp(req, "f6:89:11:00:73:65", "192.0.2.100"));
        assert!(!is_garp(req, "f6:89:11:00:73:64", "192.0.2.10"));
        let plain = "1.0 aa:bb:cc:dd:ee:ff > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 192.0.2.100 tell 192.0.2.100, length 28";
        assert!(is_garp(plain, "aa:bb:cc:dd:ee:ff", "192.0.2.100"));
        let ask = "1.0 aa:bb:cc:dd:ee:ff > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 192.0.2.100 tell 192.0.2.11, length 28";
        assert!(!is_garp(ask, "aa:bb:cc:dd:ee:ff", "192.0.2.100"));
        let reply = "1.0 aa:bb:cc:dd:ee:ff > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Reply 192.0.2.100 is-at aa:bb:cc:dd:ee:ff, length 28";
        assert!(is_garp(reply, "aa:bb:cc:dd:ee:ff", "192.0.2.100"));
    }

    #[test]
    fn advert_lines() {
        let v2 = "1795623884.288692 f6:89:11:00:73:64 > 01:00:5e:00:00:12, ethertype IPv4 (0x0800), length 54: 192.0.2.11 > 224.0.0.18: VRRPv2, Advertisement, vrid 50, prio 150, authtype simple, intvl 1s, length 20";
        let a = parse_advert(v2).unwrap();
        assert_eq!(a.src_mac, "f6:89:11:00:73:64");
        assert_eq!(a.src_ip, IpAddr::from([192, 0, 2, 11]));
        assert_eq!((a.version, a.vrid, a.priority), (2, 50, 150));
        let v3 = "2.5 aa:bb:cc:dd:ee:ff > 01:00:5e:00:00:12, ethertype IPv4 (0x0800), length 46: 192.0.2.12 > 224.0.0.18: VRRPv3, Advertisement, vrid 7, prio 0, intvl 100cs, length 12";
        let a = parse_advert(v3).unwrap();
        assert_eq!((a.version, a.vrid, a.priority), (3, 7, 0));
        let arp = "1.0 aa:bb:cc:dd:ee:ff > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Reply 192.0.2.100 is-at aa:bb:cc:dd:ee:ff, length 28";
        assert_eq!(parse_advert(arp), None);
        let v6 = "3.5 aa:bb:cc:dd:ee:ff > 33:33:00:00:00:12, ethertype IPv6 (0x86dd), length 78: fe80::1 > ff02::12: VRRPv3, Advertisement, vrid 52, prio 150, intvl 100cs, length 24";
        let a = parse_advert(v6).unwrap();
        assert_eq!(a.src_ip, "fe80::1".parse::<IpAddr>().unwrap());
        assert_eq!((a.version, a.vrid, a.priority), (3, 52, 150));
    }

    #[test]
    fn announcement_lines() {
        let req = "1.5 aa:bb:cc:dd:ee:ff > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 192.0.2.100 (ff:ff:ff:ff:ff:ff) tell 192.0.2.100, length 28";
        let a = parse_announcement(req).unwrap();
        assert_eq!(
            (a.0, a.1.as_str(), a.2.as_str()),
            (1.5, "aa:bb:cc:dd:ee:ff", "192.0.2.100")
        );
        let ask = "1.0 aa:bb:cc:dd:ee:ff > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 192.0.2.100 tell 192.0.2.11, length 28";
        assert_eq!(parse_announcement(ask), None);
        let answer = "1.0 aa:bb:cc:dd:ee:ff > 0e:c9:8d:02:3c:1b, ethertype ARP (0x0806), length 42: Reply 192.0.2.100 is-at aa:bb:cc:dd:ee:ff, length 28";
        assert_eq!(parse_announcement(answer), None);
        let reply = "1.0 aa:bb:cc:dd:ee:ff > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Reply 192.0.2.100 is-at aa:bb:cc:dd:ee:ff, length 28";
        assert_eq!(parse_announcement(reply).unwrap().2, "192.0.2.100");
        let na = "2.0 aa:bb:cc:dd:ee:ff > 33:33:00:00:00:01, ethertype IPv6 (0x86dd), length 86: 2001:db8::100 > ff02::1: ICMP6, neighbor advertisement, tgt is 2001:db8::100, length 32";
        assert_eq!(parse_announcement(na).unwrap().2, "2001:db8::100");
    }

    #[test]
    fn neighbour_advertisement_lines() {
        let na = "1.0 aa:bb:cc:dd:ee:ff > 33:33:00:00:00:01, ethertype IPv6 (0x86dd), length 86: 2001:db8::100 > ff02::1: ICMP6, neighbor advertisement, tgt is 2001:db8::100, length 32";
        assert!(is_unsolicited_na(na, "aa:bb:cc:dd:ee:ff", "2001:db8::100"));
        assert!(!is_unsolicited_na(na, "aa:bb:cc:dd:ee:fe", "2001:db8::100"));
        assert!(!is_unsolicited_na(na, "aa:bb:cc:dd:ee:ff", "2001:db8::10"));
    }
}
