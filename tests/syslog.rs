//! Logging where keepalived users look: syslog, in keepalived's words, with
//! the facility `-S` picks. A router on a namespace LAN logs to a datagram
//! socket the test binds in place of /dev/log (KEEPVIP_DEV_LOG), and the
//! test reads the lines from it.
//!
//! Needs root (network namespaces). KEEPVIP_SKIP_NETNS=1 skips explicitly.

mod common;

use std::os::unix::net::UnixDatagram;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Lan;

const VIP: &str = "192.0.2.100";

fn config() -> String {
    format!(
        "vrrp_instance VI_1 {{\n    state MASTER\n    interface eth0\n    virtual_router_id 61\n\
         \x20   priority 150\n    version 3\n    advert_int 0.1\n\
         \x20   virtual_ipaddress {{\n        {VIP}/24\n    }}\n}}\n"
    )
}

/// The lines the socket receives until `until` matches one, or the deadline.
fn read_until(socket: &UnixDatagram, deadline: Duration, until: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let end = Instant::now() + deadline;
    let mut buf = [0u8; 4096];
    while Instant::now() < end {
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        if let Ok(n) = socket.recv(&mut buf) {
            let line = String::from_utf8_lossy(&buf[..n]).into_owned();
            let done = line.contains(until);
            lines.push(line);
            if done {
                break;
            }
        }
    }
    lines
}

fn start(lan: &Lan, dev_log: &std::path::Path, extra: &[&str]) -> Child {
    let conf = lan.dir().join("syslog.conf");
    std::fs::write(&conf, config()).unwrap();
    let bin = std::env::var("KEEPVIP_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_keepvip").into());
    Command::new("ip")
        .args(["netns", "exec", lan.ns(1), &bin, "-n"])
        .args(extra)
        .arg("-f")
        .arg(&conf)
        .arg("--status-socket")
        .arg(lan.dir().join("syslog.sock"))
        .env("KEEPVIP_DEV_LOG", dev_log)
        .env_remove("JOURNAL_STREAM")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap()
}

fn stop(child: Child) -> String {
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let output = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_router_logs_to_syslog_with_the_facility_dash_s_picks() {
    let Some(lan) = Lan::new("syslog", 1) else {
        return;
    };
    let dev_log = lan.dir().join("dev-log");
    let socket = UnixDatagram::bind(&dev_log).unwrap();
    let router = start(&lan, &dev_log, &["-S", "local1"]);
    let t0 = Instant::now();
    let lines = read_until(&socket, Duration::from_secs(10), "Entering MASTER STATE");
    let took = t0.elapsed();
    let pid = router.id();
    let stderr = stop(router);
    let rest = read_until(&socket, Duration::from_secs(5), "Stopped");
    let all = [lines.clone(), rest.clone()].concat().join("\n");

    // local1 (17) * 8 + info (6) = 142, as syslog(3) would send it, with
    // keepalived's words for the state change.
    let master = lines
        .iter()
        .find(|l| l.contains("Entering MASTER STATE"))
        .unwrap_or_else(|| {
            panic!("no MASTER line on the syslog socket after {took:?}:\n{all}\nstderr:\n{stderr}")
        });
    let tag = format!(" keepvip[{pid}]: (VI_1) Entering MASTER STATE");
    assert!(master.starts_with("<142>"), "{master}");
    assert!(master.ends_with(&tag), "{master}");
    assert!(
        rest.iter()
            .any(|l| l.starts_with("<142>") && l.contains("(VI_1) Stopped")),
        "no Stopped line on the syslog socket:\n{all}"
    );
    // Once, in syslog: nothing on the console.
    assert!(stderr.is_empty(), "logged to stderr as well: {stderr}");
}

#[test]
fn dash_l_logs_to_the_console_and_a_missing_syslog_falls_back_to_it() {
    let Some(lan) = Lan::new("syslog-l", 1) else {
        return;
    };
    let dev_log = lan.dir().join("dev-log");
    let socket = UnixDatagram::bind(&dev_log).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let router = start(&lan, &dev_log, &["-l"]);
    lan.wait_until(Duration::from_secs(10), "r1 holds the VIP", || {
        lan.holds_vip(1, VIP)
    });
    let stderr = stop(router);
    assert!(
        stderr.contains("(VI_1) Entering MASTER STATE"),
        "-l: not on the console: {stderr}"
    );
    let mut buf = [0u8; 4096];
    assert!(socket.recv(&mut buf).is_err(), "-l: logged to syslog too");

    // No syslog daemon (a container): the console, and a line saying why.
    let missing = lan.dir().join("no-dev-log");
    let router = start(&lan, &missing, &[]);
    lan.wait_until(Duration::from_secs(10), "r1 holds the VIP again", || {
        lan.holds_vip(1, VIP)
    });
    let stderr = stop(router);
    assert!(stderr.contains("logging to stderr"), "{stderr}");
    assert!(stderr.contains("(VI_1) Entering MASTER STATE"), "{stderr}");
}
