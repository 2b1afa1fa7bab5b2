//! OpenWrt, as far as one Debian machine can show it: the package's shell
//! code (cross/openwrt/keepvip/files) run by busybox ash against a shim of
//! OpenWrt's shell functions (tests/openwrt/root: /lib/functions.sh with
//! its UCI reader, /etc/rc.common, procd.sh calls recorded and carried out,
//! /sbin/hotplug-call recorded).
//!
//! - `every_uci_section_converts_and_both_daemons_read_it_alike`: the
//!   keepalived UCI config with every section type is converted, and
//!   `keepvip -t` and keepalived (`-t`, and its `-d` dump of what it
//!   understood) agree on every instance and script.
//! - `the_procd_init_script_runs_keepvip_from_uci_and_fails_over`: a router
//!   whose root is an overlay of this machine's with the package and the
//!   shim installed, in a namespace on a LAN with a keepalived peer (whose
//!   config is converted from UCI too): disabled as shipped, started,
//!   reloaded with the same and with another command line, a broken config
//!   refused, restarted without a failover (`keepvip restart`), hotplug
//!   calls and /etc/keepalived.user on every transition,
//!   LuCI's `ubus call keepalived dump` answered by the rpcd plugin, and a
//!   stop that hands the VIP over.
//! - `a_package_upgrade_restarts_keepvip_without_a_failover`: the package's
//!   maintainer scripts as the OpenWrt build makes them (the Makefile's
//!   postinst; default_prerm and default_postinst shimmed) upgrade a
//!   running master, opkg's way and apk's: the same pid runs the new binary,
//!   the VIP never leaves, the keepalived backup never speaks; a removal
//!   still stops it with priority 0.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{AddressMonitor, Impl, Lan, ELECTION};

const FILES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/cross/openwrt/keepvip/files");
const SHIM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openwrt/root");
const UCI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openwrt/uci");

fn keepvip_bin() -> String {
    std::env::var("KEEPVIP_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_keepvip").to_string())
}

/// The package's converter on a UCI file, under busybox ash with the shim's
/// functions.sh: the keepalived.conf it writes.
fn convert(uci: &str, scratch: &Path) -> String {
    let dir = scratch.join(format!("uci-{uci}"));
    fs::create_dir_all(&dir).unwrap();
    fs::copy(Path::new(UCI).join(uci), dir.join("keepalived")).unwrap();
    let out = Command::new("busybox")
        .args([
            "ash",
            "-c",
            &format!(". {SHIM}/lib/functions.sh; . {FILES}/keepvip-uci.sh; keepvip_uci_convert"),
        ])
        .env("UCI_CONFIG_DIR", &dir)
        .output()
        .expect("busybox ash");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.is_empty(),
        "converting {uci}: {}\n{stderr}",
        out.status
    );
    String::from_utf8(out.stdout).unwrap()
}

fn run_in(ns: &str, args: &[&str]) -> std::process::Output {
    Command::new("ip")
        .args(["netns", "exec", ns])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("ip netns exec {ns} {args:?}: {e}"))
}

/// `keepvip -t` output to facts like `LAN vrid 51`, one set for the whole
/// config, in the words `keepalived_facts` uses.
fn keepvip_facts(described: &str) -> BTreeSet<String> {
    let mut facts = BTreeSet::new();
    let mut who = String::new();
    for line in described.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(&first) = words.first() else {
            continue;
        };
        let mut fact = |f: String| facts.insert(format!("{who} {f}"));
        match first {
            "vrrp_instance" | "vrrp_script" => who = words[1].to_string(),
            "interface" => {
                fact(format!("interface {}", words[1]));
                fact(format!("vrid {}", words[3]));
                fact(format!("priority {}", words[5]));
            }
            "state" => {
                let at = words.iter().position(|w| *w == "preempt").unwrap();
                fact(format!("preempt {}", words[at + 1]));
                if let Some(d) = words.iter().position(|w| *w == "preempt_delay") {
                    fact(format!(
                        "preempt_delay {}",
                        words[d + 1].trim_end_matches('s')
                    ));
                }
            }
            w if w.starts_with("VRRPv") => {
                fact(format!("version {}", &w[5..]));
                let secs: f64 = words[3].trim_end_matches('s').parse().unwrap();
                fact(format!("advert_ms {}", (secs * 1000.0).round()));
            }
            "unicast_peer" => {
                for peer in &words[1..] {
                    fact(format!("peer {peer}"));
                }
            }
            "authentication" => {
                fact(format!("auth {}", words[1]));
                fact(format!(
                    "garp_master_delay {}",
                    words[3].trim_end_matches('s')
                ));
                fact(format!("garp_master_repeat {}", words[5]));
            }
            "track_script" | "track_interface" => {
                fact(format!("{first} {} weight {}", words[1], words[3]));
            }
            n if n.starts_with("notify") => {
                fact(format!("{n} {}", words[2..].join(" ")));
            }
            "virtual_ipaddress" | "virtual_ipaddress_excluded" => {
                fact(format!("{first} {}", words[1..].join(" ")));
            }
            "script" => {
                fact(format!("command {}", words[2..].join(" ")));
            }
            "interval" => {
                fact(format!("interval_ms {}", words[1]));
                fact(format!("timeout_ms {}", words[4]));
                fact(format!("weight {}", words[7]));
                fact(format!("rise {}", words[9]));
                fact(format!("fall {}", words[11]));
            }
            _ => {}
        }
    }
    facts
}

/// keepalived's `-d` dump (VRRP Topology and VRRP Scripts) to the same facts.
fn keepalived_facts(dump: &str) -> BTreeSet<String> {
    let mut facts = BTreeSet::new();
    let mut who = String::new();
    let mut list = "";
    let mut in_scripts = false;
    let mut interval = String::new();
    // keepalived's commands are quoted words: 'a' 'b' -> a b, the program
    // left out (it resolves /bin to /usr/bin).
    let args = |v: &str| -> String {
        let words: Vec<&str> = v.split('\'').filter(|w| !w.trim().is_empty()).collect();
        words[1..].join(" ")
    };
    let millis = |v: &str| -> String {
        let (n, unit) = v.split_once(' ').unwrap();
        let n: f64 = n.parse().unwrap();
        let ms = if unit.starts_with("milli") {
            n
        } else {
            n * 1000.0
        };
        format!("{ms}")
    };
    for raw in dump.lines() {
        // Drop keepalived's timestamp ("Mon Nov 30 10:24:00 2026: ").
        let line = raw.split_once(": ").map_or(raw, |(_, rest)| rest);
        if line.starts_with("------<") {
            in_scripts = line.contains("VRRP Scripts");
            who.clear();
            continue;
        }
        let trimmed = line.trim();
        if let Some(name) = trimmed
            .strip_prefix("VRRP Instance = ")
            .or_else(|| trimmed.strip_prefix("VRRP Script = "))
        {
            who = name.to_string();
            list = "";
            continue;
        }
        if who.is_empty() {
            continue;
        }
        let mut fact = |f: String| facts.insert(format!("{who} {f}"));
        if line.starts_with("     ") && !list.is_empty() {
            let words: Vec<&str> = trimmed.split_whitespace().collect();
            match list {
                "vip" | "excluded" => {
                    let name = if list == "vip" {
                        "virtual_ipaddress"
                    } else {
                        "virtual_ipaddress_excluded"
                    };
                    let mut text = format!("{name} {} dev {}", words[0], words[2]);
                    if let Some(l) = words.iter().position(|w| *w == "label") {
                        text += &format!(" label {}", words[l + 1]);
                    }
                    fact(text);
                }
                "peer" => {
                    fact(format!("peer {}", words[0]));
                }
                "track_interface" | "track_script" => {
                    fact(format!("{list} {} weight {}", words[0], words[2]));
                }
                _ => {}
            }
            continue;
        }
        list = "";
        let Some((key, value)) = trimmed.split_once(" = ") else {
            list = match trimmed {
                t if t.starts_with("Virtual IP (") => "vip",
                "Virtual IP Excluded :" => "excluded",
                "Unicast Peer :" => "peer",
                "Tracked interfaces :" => "track_interface",
                "Tracked scripts :" => "track_script",
                _ => "",
            };
            continue;
        };
        match (in_scripts, key) {
            (false, "VRRP Version") => fact(format!("version {value}")),
            (false, "Interface") => fact(format!("interface {value}")),
            (false, "Virtual Router ID") => fact(format!("vrid {value}")),
            (false, "Priority") => fact(format!("priority {value}")),
            (false, "Advert interval") => fact(format!("advert_ms {}", millis(value))),
            (false, "Preempt") => fact(format!(
                "preempt {}",
                if value == "enabled" { "yes" } else { "no" }
            )),
            (false, "Preempt delay") => {
                fact(format!("preempt_delay {}", value.trim_end_matches(" secs")))
            }
            (false, "Authentication type") => fact(format!(
                "auth {}",
                if value == "SIMPLE_PASSWORD" {
                    "PASS"
                } else {
                    value
                }
            )),
            (false, "Gratuitous ARP delay") => fact(format!("garp_master_delay {value}")),
            (false, "Gratuitous ARP repeat") => fact(format!("garp_master_repeat {value}")),
            (false, "Master state transition script") => fact(format!(
                "notify_master {}",
                args(value.split(", uid").next().unwrap())
            )),
            (false, "Backup state transition script") => fact(format!(
                "notify_backup {}",
                args(value.split(", uid").next().unwrap())
            )),
            (false, "Fault state transition script") => fact(format!(
                "notify_fault {}",
                args(value.split(", uid").next().unwrap())
            )),
            (false, "Stop state transition script") => fact(format!(
                "notify_stop {}",
                args(value.split(", uid").next().unwrap())
            )),
            (true, "Command") => fact(format!("command {}", args(value))),
            (true, "Interval") => {
                interval = millis(value);
                fact(format!("interval_ms {interval}"))
            }
            // 0: none given, and then the interval is the timeout.
            (true, "Timeout") if value == "0 sec" => fact(format!("timeout_ms {interval}")),
            (true, "Timeout") => fact(format!("timeout_ms {}", millis(value))),
            (true, "Weight") => fact(format!("weight {value}")),
            (true, "Rise") => fact(format!("rise {value}")),
            (true, "Fall") => fact(format!("fall {value}")),
            _ => false,
        };
    }
    // keepalived shows no authentication line for none.
    let instances: BTreeSet<String> = facts
        .iter()
        .filter(|f| f.split(' ').nth(1) == Some("vrid"))
        .map(|f| f.split(' ').next().unwrap().to_string())
        .collect();
    for i in instances {
        if !facts.iter().any(|f| f.starts_with(&format!("{i} auth "))) {
            facts.insert(format!("{i} auth none"));
        }
    }
    facts
}

/// What keepvip does not implement yet of what the package writes: each
/// is warned about by `keepvip -t` and left out. When one gets done its
/// warning goes, and this list must shrink with it.
const NOT_IMPLEMENTED_YET: &[&str] = &[
    "notification_email",
    "notification_email_from",
    "smtp_server",
    "smtp_connect_timeout",
];

#[test]
fn every_uci_section_converts_and_both_daemons_read_it_alike() {
    let Some(lan) = Lan::new("uci-full", 1) else {
        return;
    };
    let ns = lan.ns(1).to_string();
    // The tracked interface of the fixture; keepalived wants it to exist.
    let out = run_in(
        &ns,
        &["ip", "link", "add", "eth1", "type", "veth", "peer", "eth1p"],
    );
    assert!(out.status.success(), "{out:?}");
    let text = convert("full", lan.dir());
    let conf = lan.dir().join("full.conf");
    fs::write(&conf, &text).unwrap();
    let conf = conf.to_str().unwrap();
    // The hotplug contract of OpenWrt's keepalived package.
    for line in [
        "notify_master \"/bin/busybox env -i ACTION=NOTIFY_MASTER TYPE=INSTANCE NAME=LAN /sbin/hotplug-call keepalived\"",
        "notify_stop \"/bin/busybox env -i ACTION=NOTIFY_STOP TYPE=INSTANCE NAME=LAN6 /sbin/hotplug-call keepalived\"",
        "notify \"/bin/busybox env -i ACTION=NOTIFY TYPE=GROUP NAME=LAN_GROUP /sbin/hotplug-call keepalived\"",
    ] {
        assert!(text.contains(line), "missing {line} in:\n{text}");
    }

    let checked = run_in(&ns, &[&keepvip_bin(), "-t", "-l", "-f", conf]);
    let stderr = String::from_utf8_lossy(&checked.stderr);
    assert!(checked.status.success(), "keepvip -t: {stderr}");
    let mut not_implemented = BTreeSet::new();
    for line in stderr.lines() {
        if let Some(k) = line
            .split("keyword '")
            .nth(1)
            .filter(|_| line.contains("not implemented by keepvip yet"))
        {
            not_implemented.insert(k.split('\'').next().unwrap().to_string());
        } else {
            // The one other: keepvip leaves routing scope to the kernel.
            assert!(line.contains("option 'scope global'"), "keepvip -t: {line}");
        }
    }
    let expected: BTreeSet<String> = NOT_IMPLEMENTED_YET.iter().map(|s| s.to_string()).collect();
    assert_eq!(not_implemented, expected, "keepvip -t warnings:\n{stderr}");

    let checked = run_in(&ns, &["keepalived", "-t", "-f", conf]);
    let stderr = String::from_utf8_lossy(&checked.stderr);
    for line in stderr.lines() {
        // Said of the blackhole route keepalived's own package writes too.
        assert!(
            line.contains("cannot track route 203.0.113.128/25 with no interface"),
            "keepalived -t: {line}"
        );
    }

    let keepvip = keepvip_facts(&String::from_utf8_lossy(
        &run_in(&ns, &[&keepvip_bin(), "-t", "-f", conf]).stdout,
    ));
    let dump = keepalived_dump(&lan, conf);
    let keepalived = keepalived_facts(&dump);
    assert!(keepvip.len() > 50, "too few facts: {keepvip:#?}");
    let only_keepvip: Vec<&String> = keepvip.difference(&keepalived).collect();
    let only_keepalived: Vec<&String> = keepalived.difference(&keepvip).collect();
    assert!(
        only_keepvip.is_empty() && only_keepalived.is_empty(),
        "understood differently:\nkeepvip only: {only_keepvip:#?}\nkeepalived only: {only_keepalived:#?}\n\
         keepalived's dump:\n{dump}"
    );
}

/// keepalived started with `-d` on `conf` until it has dumped its
/// configuration, then killed: the dump.
fn keepalived_dump(lan: &Lan, conf: &str) -> String {
    let dir = lan.dir();
    let log = dir.join("keepalived-dump.log");
    let pid = |n: &str| dir.join(n).to_str().unwrap().to_string();
    let child = Command::new("ip")
        .args([
            "netns",
            "exec",
            lan.ns(1),
            "keepalived",
            "-n",
            "-l",
            "-d",
            "-P",
            "-f",
            conf,
        ])
        .args([
            "-p",
            &pid("ka.pid"),
            "-r",
            &pid("ka-vrrp.pid"),
            "-c",
            &pid("ka-chk.pid"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).unwrap())
        .process_group(0)
        .spawn()
        .expect("keepalived");
    let child = Group(child);
    let t0 = Instant::now();
    loop {
        let text = fs::read_to_string(&log).unwrap_or_default();
        if text.contains("------< Interfaces >------") {
            drop(child);
            return text;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "keepalived -d did not dump its config:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A process group killed when dropped, also when the test panics.
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        unsafe {
            libc::killpg(self.0.id() as libc::pid_t, libc::SIGKILL);
        }
        let _ = self.0.wait();
    }
}

/// An OpenWrt-like router: a process whose root is an overlay of this
/// machine's root with the package and the shim installed, in a router's
/// network namespace. Commands run inside with `nsenter` (its mount
/// namespace, root and network namespace); the overlay's upper layer is a
/// tmpfs of that mount namespace, so nothing of it reaches the host.
struct OpenWrt {
    holder: Group,
    pid: String,
}

impl OpenWrt {
    fn new(lan: &Lan, router: usize, uci: &str) -> OpenWrt {
        let base = lan.dir().join(format!("openwrt-r{router}"));
        fs::create_dir_all(&base).unwrap();
        let b = base.to_str().unwrap();
        let install = [
            ("keepvip.init", "etc/init.d/keepvip", "755"),
            ("keepvip-uci.sh", "lib/functions/keepvip.sh", "644"),
            ("keepalived.rpcd", "usr/libexec/rpcd/keepalived", "755"),
            ("hotplug-user", "etc/hotplug.d/keepalived/01-user", "644"),
            ("keepalived.uci", "etc/config/keepalived", "600"),
        ]
        .iter()
        .map(|(from, to, mode)| format!("install -D -m {mode} {FILES}/{from} $u/{to}"))
        .collect::<Vec<_>>()
        .join("\n");
        let package = package_scripts(lan.dir());
        let p = package.to_str().unwrap();
        // OpenWrt's shell is busybox ash; /etc/keepalived.user records its
        // calls, as a user's own would act on them.
        let setup = format!(
            "set -e
             mount -t tmpfs tmpfs {b}
             u={b}/upper; mkdir $u {b}/work {b}/root
             cp -a {SHIM}/. $u/
             {install}
             install -D -m 755 {bin} $u/usr/sbin/keepvip
             install -D -m 644 {UCI}/{uci} $u/etc/uci-test/{uci}
             mkdir -p $u/usr/lib/opkg $u/lib/apk
             cp -a {p}/opkg $u/usr/lib/opkg/info
             cp -a {p}/apk $u/lib/apk/packages
             mkdir -p $u/usr/bin && ln -s busybox $u/usr/bin/sh
             # Where this machine's /lib, /sbin are links into /usr (merged
             # /usr), an upper directory would hide the lower link's target.
             for d in bin sbin lib; do
                 if [ -L /$d ] && [ -d $u/$d ]; then
                     mkdir -p $u/$(readlink /$d); cp -a $u/$d/. $u/$(readlink /$d)/; rm -rf $u/$d
                 fi
             done
             printf '#!/bin/sh\\necho \"user $ACTION $TYPE $NAME $*\" >>/var/log/user.log\\n' >$u/etc/keepalived.user
             mount -t overlay overlay -o lowerdir=/,upperdir=$u,workdir={b}/work {b}/root
             mount -t proc proc {b}/root/proc
             mount --rbind /sys {b}/root/sys
             mount --rbind /dev {b}/root/dev
             touch {b}/root/ready
             exec chroot {b}/root /bin/sleep 100000",
            bin = keepvip_bin(),
        );
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                lan.ns(router),
                "unshare",
                "-m",
                "--propagation",
                "private",
            ])
            .args(["sh", "-c", &setup])
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("unshare");
        let openwrt = OpenWrt {
            pid: child.id().to_string(),
            holder: Group(child),
        };
        let t0 = Instant::now();
        while openwrt.sh("test -e /ready").is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "the OpenWrt root did not come up"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        openwrt
    }

    /// Runs `script` with /bin/sh (busybox ash) inside: Ok(stdout) or
    /// Err(status, stdout and stderr).
    fn sh(&self, script: &str) -> Result<String, String> {
        let out = Command::new("nsenter")
            .args(["-t", &self.pid, "-m", "-n", "-r", "/bin/sh", "-c", script])
            .current_dir("/")
            .stdin(Stdio::null())
            .output()
            .expect("nsenter");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(stdout)
        } else {
            Err(format!(
                "{}: {stdout}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    fn ok(&self, script: &str) -> String {
        self.sh(script)
            .unwrap_or_else(|e| panic!("{script}: {e}\n{}", self.diagnose()))
    }

    fn read(&self, path: &str) -> String {
        self.sh(&format!("cat {path}")).unwrap_or_default()
    }

    fn daemon_pid(&self) -> Option<String> {
        self.sh("pid=$(cat /var/run/procd-shim/keepvip.pid) && kill -0 $pid && echo $pid")
            .ok()
            .map(|p| p.trim().to_string())
    }

    fn diagnose(&self) -> String {
        format!(
            "procd.log:\n{}\nhotplug.log:\n{}\nkeepvip.out:\n{}",
            self.read("/var/log/procd.log"),
            self.read("/var/log/hotplug.log"),
            self.read("/var/log/keepvip.out")
        )
    }
}

impl Drop for OpenWrt {
    fn drop(&mut self) {
        if let Some(pid) = self.daemon_pid() {
            let _ = self.sh(&format!("kill -9 {pid}"));
        }
        let _ = &self.holder;
    }
}

/// The package's maintainer scripts as the OpenWrt build makes them from
/// cross/openwrt/keepvip/Makefile (include/package-pack.mk): for opkg,
/// prerm and postinst call default_prerm and default_postinst, which run
/// the Makefile's postinst as postinst-pkg; for apk (OpenWrt 25), an
/// upgrade runs only post-upgrade: PKG_UPGRADE=1, default_postinst, then
/// the Makefile's postinst; no pre-deinstall. In `dir`/opkg and `dir`/apk,
/// with each one's file list.
fn package_scripts(dir: &Path) -> std::path::PathBuf {
    let makefile = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/cross/openwrt/keepvip/Makefile"
    ))
    .unwrap();
    let body = makefile
        .split("define Package/keepvip/postinst\n")
        .nth(1)
        .and_then(|rest| rest.split("\nendef").next())
        .expect("Package/keepvip/postinst in the Makefile")
        .replace("$$", "$");
    let postinst = body.strip_prefix("#!/bin/sh\n").unwrap_or(&body);
    let list = "/etc/init.d/keepvip\n/usr/sbin/keepvip\n/lib/functions/keepvip.sh\n";
    let out = dir.join("package");
    let script = |path: &str, text: &str| {
        let path = out.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        Command::new("chmod")
            .arg("755")
            .arg(&path)
            .status()
            .unwrap();
    };
    script("opkg/keepvip.list", list);
    script("opkg/keepvip.postinst-pkg", &body);
    script(
        "opkg/keepvip.prerm",
        "#!/bin/sh\n. /lib/functions.sh\ndefault_prerm $0 $@\n",
    );
    script(
        "opkg/keepvip.postinst",
        "#!/bin/sh\n. /lib/functions.sh\ndefault_postinst $0 $@\n",
    );
    script("apk/keepvip.list", list);
    script(
        "apk/keepvip.post-upgrade",
        &format!(
            "#!/bin/sh\nexport PKG_UPGRADE=1\n. /lib/functions.sh\nexport root=\"\"\n\
             export pkgname=\"keepvip\"\nadd_group_and_user\ndefault_postinst\n{postinst}"
        ),
    );
    out
}

/// A number after `"key":` in JSON text, the first one.
fn number_after(json: &str, key: &str) -> f64 {
    let at = json
        .find(&format!("\"{key}\":"))
        .unwrap_or_else(|| panic!("no {key} in {json}"));
    let rest = &json[at + key.len() + 3..];
    let end = rest.find([',', '}']).unwrap();
    rest[..end].parse().unwrap()
}

#[test]
fn the_procd_init_script_runs_keepvip_from_uci_and_fails_over() {
    const VIP: &str = "192.0.2.100";
    const VIP2: &str = "192.0.2.101";
    let Some(mut lan) = Lan::new("openwrt", 2) else {
        return;
    };
    // The peer: keepalived on the config the package writes from its UCI.
    let peer = convert("r2", lan.dir());
    lan.start(2, Impl::Keepalived, &peer);
    lan.wait_sole_holder(2, VIP, ELECTION);

    let r1 = OpenWrt::new(&lan, 1, "r1");
    // As installed: disabled, no daemon, no address.
    r1.ok("/etc/init.d/keepvip start");
    assert_eq!(r1.daemon_pid(), None, "{}", r1.diagnose());
    assert!(r1
        .read("/var/log/procd.log")
        .contains("add_reload_trigger keepalived"));

    r1.ok("cp /etc/uci-test/r1 /etc/config/keepalived && /etc/init.d/keepvip start");
    let pid = r1
        .daemon_pid()
        .unwrap_or_else(|| panic!("not started\n{}", r1.diagnose()));
    let command = r1.read("/var/run/procd-shim/keepvip.command");
    assert_eq!(
        command.trim(),
        "/usr/sbin/keepvip -n -f /var/etc/keepvip.conf --status-socket /var/run/keepvip.sock",
        "{}",
        r1.diagnose()
    );
    lan.wait_until(ELECTION, "r1 (keepvip, priority 150) takes the VIP", || {
        lan.holds_vip(1, VIP) && !lan.holds_vip(2, VIP)
    });
    lan.wait_until(
        ELECTION,
        "hotplug and keepalived.user hear NOTIFY_MASTER",
        || {
            r1.read("/var/log/hotplug.log")
                .contains("keepalived ACTION=NOTIFY_MASTER TYPE=INSTANCE NAME=LAN args=")
                && r1
                    .read("/var/log/user.log")
                    .contains("user NOTIFY_MASTER INSTANCE LAN")
        },
    );

    // LuCI's status page: ubus call keepalived dump, through the plugin.
    assert_eq!(
        r1.ok("/usr/libexec/rpcd/keepalived list").trim(),
        "{\"dump\":{}}"
    );
    let dump = r1.ok("/usr/libexec/rpcd/keepalived call dump </dev/null");
    for field in [
        "{\"status\":[{\"data\":{\"iname\":\"LAN\",\"ifp_ifname\":\"eth0\",\"vrid\":51,\"state\":2,",
        "\"become_master\":1,\"release_master\":0}}]}",
    ] {
        assert!(dump.contains(field), "{field} not in {dump}");
    }
    assert!(number_after(&dump, "advert_sent") >= 1.0, "{dump}");
    assert!(number_after(&dump, "advert_rcvd") >= 1.0, "{dump}");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let last = number_after(&dump, "last_transition");
    assert!(
        (now - last).abs() < 60.0,
        "last_transition {last}, now {now}"
    );

    // Another address, the same command line: SIGHUP, the same process.
    // Excluded, so not in the adverts: keepalived 2.2.7 drops adverts whose
    // address list differs from its own.
    r1.ok(&format!(
        "cat >>/etc/config/keepalived <<EOF
	list virtual_ipaddress_excluded 'lan_vip2'

config ipaddress
	option name 'lan_vip2'
	option address '{VIP2}/24'
	option device 'eth0'
EOF
         /etc/init.d/keepvip reload"
    ));
    assert!(r1
        .read("/var/log/procd.log")
        .contains("send_signal keepvip HUP"));
    lan.wait_until(ELECTION, "r1 adds the second VIP on reload", || {
        lan.holds_vip(1, VIP2)
    });
    assert_eq!(
        r1.daemon_pid().as_deref(),
        Some(pid.as_str()),
        "{}",
        r1.diagnose()
    );

    // A broken config is refused: no signal, no restart, the old one runs.
    r1.ok("cp /etc/config/keepalived /tmp/good && sed -i \"s/'51'/'300'/\" /etc/config/keepalived");
    assert!(
        r1.sh("/etc/init.d/keepvip reload").is_err(),
        "a broken reload succeeded"
    );
    assert_eq!(
        r1.read("/var/log/procd.log").matches("send_signal").count(),
        1
    );
    assert_eq!(r1.daemon_pid().as_deref(), Some(pid.as_str()));
    assert!(r1
        .read("/var/etc/keepvip.conf")
        .contains("virtual_router_id 51"));

    // Another command line (debug): procd restarts keepvip.
    r1.ok("cp /tmp/good /etc/config/keepalived && \
           sed -i \"s/option enabled '1'/&\\n\\toption debug '1'/\" /etc/config/keepalived && \
           /etc/init.d/keepvip reload");
    let restarted = r1
        .daemon_pid()
        .unwrap_or_else(|| panic!("{}", r1.diagnose()));
    assert_ne!(restarted, pid, "{}", r1.diagnose());
    assert!(r1
        .read("/var/run/procd-shim/keepvip.command")
        .trim()
        .ends_with(" -D"));
    lan.wait_until(ELECTION, "r1 is master again after the restart", || {
        lan.holds_vip(1, VIP) && !lan.holds_vip(2, VIP)
    });
    // The VIP is there before the notify commands of its transition have
    // run: the old daemon's STOP and the new one's MASTER must be in the
    // log before it is taken as the one a restart must leave unchanged.
    lan.wait_until(ELECTION, "hotplug heard the restart's transitions", || {
        let hotplug = r1.read("/var/log/hotplug.log");
        hotplug.contains("keepalived ACTION=NOTIFY_STOP TYPE=INSTANCE NAME=LAN args=")
            && hotplug
                .matches("keepalived ACTION=NOTIFY_MASTER TYPE=INSTANCE NAME=LAN args=")
                .count()
                == 2
    });

    // restart: `keepvip restart`, the same process goes on as master; no
    // notify runs again (hotplug and keepalived.user hear nothing new).
    let hotplug_before = r1.read("/var/log/hotplug.log");
    let adverts_since = lan.mark();
    r1.ok("/etc/init.d/keepvip restart");
    assert_eq!(
        r1.daemon_pid().as_deref(),
        Some(restarted.as_str()),
        "{}",
        r1.diagnose()
    );
    assert!(lan.holds_vip(1, VIP) && !lan.holds_vip(2, VIP));
    lan.wait_until(ELECTION, "r1 advertises after the restart", || {
        lan.adverts_since(adverts_since)
            .iter()
            .any(|a| a.src_mac == lan.mac(1))
    });
    assert!(!lan
        .adverts_since(adverts_since)
        .iter()
        .any(|a| a.src_mac == lan.mac(2)));
    assert_eq!(r1.read("/var/log/hotplug.log"), hotplug_before);

    // Stop: keepvip sends priority 0 and keepalived takes over at once.
    let took = failover_during(&lan, &r1, "/etc/init.d/keepvip stop", VIP);
    assert!(took < Duration::from_secs(3), "failover took {took:?}");
    assert_eq!(r1.daemon_pid(), None);
    // A second STOP: the first was the procd restart's.
    let stop = "keepalived ACTION=NOTIFY_STOP TYPE=INSTANCE NAME=LAN args=";
    lan.wait_until(ELECTION, "hotplug heard the stop's NOTIFY_STOP", || {
        r1.read("/var/log/hotplug.log").matches(stop).count() == 2
    });
    drop(r1);
    drop(lan);
}

/// Runs `script` in `r1` and meanwhile waits until r2 alone holds `vip`:
/// the time from the script's start to then. The takeover is timed, not
/// the script: a stop goes on after its priority 0 advert (the shutdown
/// notify commands, procd's polling for the exit): under a CPU hog the
/// script took 1.9 s of the 3 s budget, the takeover 0.2 s.
fn failover_during(lan: &Lan, r1: &OpenWrt, script: &str, vip: &str) -> Duration {
    let t0 = Instant::now();
    std::thread::scope(|s| {
        let running = s.spawn(|| r1.ok(script));
        lan.wait_until(ELECTION, "r2 takes the VIP over", || {
            lan.holds_vip(2, vip) && !lan.holds_vip(1, vip)
        });
        let took = t0.elapsed();
        running
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        took
    })
}

/// The image a pid runs: its executable's path, " (deleted)" after it when
/// the file was replaced since it started.
fn image(r: &OpenWrt, pid: &str) -> String {
    r.ok(&format!("readlink /proc/{pid}/exe"))
        .trim()
        .to_string()
}

#[test]
fn a_package_upgrade_restarts_keepvip_without_a_failover() {
    const VIP: &str = "192.0.2.100";
    let Some(mut lan) = Lan::new("owrt-upg", 2) else {
        return;
    };
    let peer = convert("r2", lan.dir());
    lan.start(2, Impl::Keepalived, &peer);
    lan.wait_sole_holder(2, VIP, ELECTION);
    let r1 = OpenWrt::new(&lan, 1, "r1");
    r1.ok("cp /etc/uci-test/r1 /etc/config/keepalived && /etc/init.d/keepvip enable && /etc/init.d/keepvip start");
    let pid = r1
        .daemon_pid()
        .unwrap_or_else(|| panic!("not started\n{}", r1.diagnose()));
    lan.wait_until(ELECTION, "r1 (keepvip, priority 150) takes the VIP", || {
        lan.holds_vip(1, VIP) && !lan.holds_vip(2, VIP)
    });
    let monitor = AddressMonitor::start(&lan, 1);
    let since = lan.mark();
    // A new package's binary: a new file over the old one, as opkg and apk
    // write it (the running image's file is gone, its pid goes on).
    let replace_binary = || {
        r1.ok(&format!(
            "cp {} /usr/sbin/keepvip.new && mv -f /usr/sbin/keepvip.new /usr/sbin/keepvip",
            keepvip_bin()
        ));
        assert_eq!(image(&r1, &pid), "/usr/sbin/keepvip (deleted)");
    };
    let hitless = |what: &str| {
        assert_eq!(
            r1.daemon_pid().as_deref(),
            Some(pid.as_str()),
            "{what}: the daemon stopped\n{}",
            r1.diagnose()
        );
        assert!(
            !r1.read("/var/log/procd.log").contains("kill keepvip"),
            "{what}: stop and start\n{}",
            r1.diagnose()
        );
    };

    // opkg upgrade: the old package's prerm (`stop` with PKG_UPGRADE=1),
    // the files replaced, the new package's postinst (postinst-pkg, then
    // `start`).
    r1.ok("PKG_UPGRADE=1 /usr/lib/opkg/info/keepvip.prerm upgrade");
    hitless("opkg prerm");
    replace_binary();
    r1.ok("PKG_UPGRADE=1 /usr/lib/opkg/info/keepvip.postinst configure");
    hitless("opkg postinst");
    assert_eq!(
        image(&r1, &pid),
        "/usr/sbin/keepvip",
        "the new binary does not run\n{}",
        r1.diagnose()
    );
    assert!(r1.read("/var/log/rpcd.log").contains("rpcd reload"));
    assert!(
        r1.sh("test -L /etc/rc.d/S70keepvip").is_ok(),
        "still enabled"
    );

    // apk (OpenWrt 25) runs no prerm on an upgrade, only post-upgrade.
    r1.ok("rm -f /usr/lib/opkg/info/keepvip.*");
    replace_binary();
    r1.ok("/lib/apk/packages/keepvip.post-upgrade");
    hitless("apk post-upgrade");
    assert_eq!(image(&r1, &pid), "/usr/sbin/keepvip", "{}", r1.diagnose());

    // Both upgrades: the VIP never left, the backup never spoke, the
    // master's adverts kept their interval (0.1 s, under 1.5 of them).
    let after = lan.mark();
    lan.wait_until(ELECTION, "r1 advertises after the upgrades", || {
        lan.adverts_since(after)
            .iter()
            .any(|a| a.src_mac == lan.mac(1))
    });
    assert_eq!(
        monitor.deleted(VIP),
        Vec::<String>::new(),
        "the VIP was removed"
    );
    let adverts = lan.adverts_since(since);
    assert!(
        !adverts.iter().any(|a| a.src_mac == lan.mac(2)),
        "the backup advertised"
    );
    let times: Vec<f64> = adverts
        .iter()
        .filter(|a| a.src_mac == lan.mac(1))
        .map(|a| a.time)
        .collect();
    let gap = times.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
    assert!(
        gap < 0.15,
        "{}",
        lan.diagnose(&format!("advert gap {gap:.3} s"))
    );
    assert!(lan.holds_vip(1, VIP) && !lan.holds_vip(2, VIP));

    // opkg remove: prerm without PKG_UPGRADE disables and stops (priority
    // 0: keepalived takes over at once).
    r1.ok("cp /lib/apk/packages/keepvip.list /usr/lib/opkg/info/ && \
           printf '#!/bin/sh\\n. /lib/functions.sh\\ndefault_prerm $0 $@\\n' >/usr/lib/opkg/info/keepvip.prerm && \
           chmod 755 /usr/lib/opkg/info/keepvip.prerm");
    let took = failover_during(&lan, &r1, "/usr/lib/opkg/info/keepvip.prerm remove", VIP);
    assert!(took < Duration::from_secs(3), "failover took {took:?}");
    assert_eq!(r1.daemon_pid(), None);
    assert!(
        r1.sh("test -e /etc/rc.d/S70keepvip").is_err(),
        "still enabled"
    );
    drop(r1);
    drop(lan);
}
