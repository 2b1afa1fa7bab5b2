//! The days nobody planned, on a namespace LAN: an admin's stray `ip addr
//! del`, a second daemon started on the same pid file, a reload, a status
//! query, a sync group.
//!
//! Needs root (network namespaces), keepalived and tcpdump. Set
//! KEEPVIP_SKIP_NETNS=1 to skip explicitly where that is impossible.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Impl, Lan, Tcpdump, ELECTION};

const VIP: &str = "192.0.2.100";
const R1: usize = 1;
const R2: usize = 2;

fn config(router: usize, priority: u8, extra: &str) -> String {
    format!(
        "global_defs {{\n    router_id r{router}\n}}\n\
         vrrp_instance VI_1 {{\n\
         \x20   state BACKUP\n\
         \x20   interface eth0\n\
         \x20   virtual_router_id 52\n\
         \x20   priority {priority}\n\
         \x20   advert_int 1\n\
         {extra}\
         \x20   virtual_ipaddress {{\n        {VIP}/24\n    }}\n\
         }}\n"
    )
}

fn ip_netns(lan: &Lan, router: usize, args: &[&str]) {
    let status = Command::new("ip")
        .args(["-n", lan.ns(router)])
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "ip {args:?}");
}

#[test]
fn a_deleted_vip_is_put_back_by_the_master() {
    let Some(mut lan) = Lan::new("ops-heal", 2) else {
        return;
    };
    lan.start(R1, Impl::Keepvip, &config(1, 150, ""));
    lan.start(R2, Impl::Keepvip, &config(2, 100, ""));
    lan.wait_sole_holder(R1, VIP, ELECTION);

    ip_netns(
        &lan,
        R1,
        &["addr", "del", &format!("{VIP}/24"), "dev", "eth0"],
    );
    // Put back on the kernel's event, well within one advert interval;
    // the deadline is generous for a loaded machine, not the promise.
    let took = lan.wait_until(Duration::from_secs(5), "the VIP is back on r1", || {
        lan.holds_vip(R1, VIP)
    });
    eprintln!("VIP restored after {took:?}");
    assert!(
        lan.log(R1)
            .contains("was removed by someone else: restoring it"),
        "{}",
        lan.diagnose("no restore logged")
    );
    // Nothing else moved.
    lan.sole_holder_for(R1, VIP, Duration::from_secs(3));
}

#[test]
fn a_second_daemon_on_the_same_pid_file_is_refused() {
    let Some(mut lan) = Lan::new("ops-pid", 1) else {
        return;
    };
    lan.start(R1, Impl::Keepvip, &config(1, 150, ""));
    lan.wait_sole_holder(R1, VIP, ELECTION);
    let dir = lan.dir().join("r1");
    let bin =
        std::env::var("KEEPVIP_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_keepvip").to_string());
    let output = Command::new("ip")
        .args(["netns", "exec", lan.ns(R1), &bin, "-n", "-l", "-f"])
        .arg(dir.join("keepalived.conf"))
        .arg("-p")
        .arg(dir.join("daemon.pid"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("is locked by a running keepvip"),
        "{stderr}"
    );
    // The first one was not disturbed.
    lan.sole_holder_for(R1, VIP, Duration::from_secs(2));
}

/// Two instances in one sync group on each router; a failing weight-0
/// check on r1's VI_1 alone must take both VIPs to r2, and bring both back
/// when it recovers. The group's notify sees the group's transitions.
/// While the group is in FAULT, a reload takes VI_2 out of the group: no
/// longer held, it leaves FAULT and takes its VIP back on its own, as
/// keepalived 2.2.7 does (watched with r1 as keepalived).
#[test]
fn a_sync_group_moves_together() {
    let Some(mut lan) = Lan::new("ops-sync", 2) else {
        return;
    };
    const VIP2: &str = "192.0.2.101";
    let flag = lan.dir().join("check-ok");
    std::fs::write(&flag, "").unwrap();
    // One notify script and record per router: r1's own sequence is then
    // known exactly, whatever r2's lines and the timing between them.
    let dir = lan.dir().to_path_buf();
    let record = |router: usize| dir.join(format!("group-r{router}.log"));
    let notify = |router: usize| dir.join(format!("notify-r{router}.sh"));
    for router in [R1, R2] {
        std::fs::write(
            notify(router),
            format!("#!/bin/sh\necho \"$@\" >> {}\n", record(router).display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(notify(router), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let group_config = |router: usize, priority: u8, with_check: bool, grouped: &str| {
        let check = if with_check {
            format!(
                "vrrp_script chk {{\n    script \"/bin/sh -c 'test -f {}'\"\n    interval 1\n}}\n",
                flag.display()
            )
        } else {
            String::new()
        };
        let track = if with_check {
            "    track_script {\n        chk\n    }\n"
        } else {
            ""
        };
        format!(
            "global_defs {{\n    router_id r{router}\n}}\n{check}\
             vrrp_sync_group VG_1 {{\n    group {{\n        VI_1\n{grouped}    }}\n    notify \"{notify}\"\n}}\n\
             vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 52\n    priority {priority}\n    advert_int 1\n{track}\
             \x20   virtual_ipaddress {{\n        {VIP}/24\n    }}\n}}\n\
             vrrp_instance VI_2 {{\n    interface eth0\n    virtual_router_id 53\n    priority {priority}\n    advert_int 1\n\
             \x20   virtual_ipaddress {{\n        {VIP2}/24\n    }}\n}}\n",
            notify = notify(router).display()
        )
    };
    const BOTH: &str = "        VI_2\n";
    lan.start(R1, Impl::Keepvip, &group_config(1, 150, true, BOTH));
    lan.start(R2, Impl::Keepvip, &group_config(2, 100, false, BOTH));
    lan.wait_sole_holder(R1, VIP, ELECTION);
    lan.wait_sole_holder(R1, VIP2, ELECTION);

    // Only VI_1 tracks the check, yet both VIPs leave r1.
    std::fs::remove_file(&flag).unwrap();
    lan.wait_sole_holder(R2, VIP, ELECTION);
    lan.wait_sole_holder(R2, VIP2, ELECTION);
    let log = lan.log(R1);
    assert!(
        log.contains("(VI_1) Entering FAULT STATE"),
        "{}",
        lan.diagnose("VI_1 not in FAULT")
    );
    assert!(
        log.contains("(VI_2) Entering FAULT STATE"),
        "{}",
        lan.diagnose("VI_2 not in FAULT")
    );

    // Recovered: both come back together (r1 preempts).
    std::fs::write(&flag, "").unwrap();
    lan.wait_sole_holder(R1, VIP, ELECTION);
    lan.wait_sole_holder(R1, VIP2, ELECTION);

    let groups = |router: usize| -> Vec<String> {
        std::fs::read_to_string(record(router))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("GROUP"))
            .map(String::from)
            .collect()
    };
    let master = "GROUP VG_1 MASTER".to_string();
    let fault = "GROUP VG_1 FAULT".to_string();
    // The notify commands run after the transitions (and the addresses the
    // waits above look at): wait for r1's last one, MASTER after FAULT,
    // rather than read the record once.
    lan.wait_until(
        Duration::from_secs(10),
        "r1's group notify recorded MASTER after FAULT",
        || {
            let r1 = groups(R1);
            r1.iter()
                .position(|l| *l == fault)
                .is_some_and(|at| r1[at..].contains(&master))
        },
    );
    let r1 = groups(R1);
    let fault_at = r1.iter().position(|l| *l == fault).unwrap();
    assert_eq!(r1.iter().filter(|l| **l == fault).count(), 1, "r1: {r1:?}");
    assert!(r1[..fault_at].contains(&master), "r1: {r1:?}");
    // r2 took both VIPs as a group, and never faulted.
    lan.wait_until(
        Duration::from_secs(10),
        "r2's group notify recorded MASTER",
        || groups(R2).contains(&master),
    );
    assert!(!groups(R2).contains(&fault), "r2: {:?}", groups(R2));

    // In FAULT again, then VI_2 taken out of the group on both routers
    // (r2 first, so that its VI_1 does not follow its VI_2 to BACKUP):
    // only its group held r1's VI_2, so it is BACKUP again and takes its
    // VIP back from r2 after master_down, while VI_1 stays in FAULT.
    std::fs::remove_file(&flag).unwrap();
    lan.wait_sole_holder(R2, VIP, ELECTION);
    lan.wait_sole_holder(R2, VIP2, ELECTION);
    lan.reload(R2, &group_config(2, 100, false, ""));
    lan.reload(R1, &group_config(1, 150, true, ""));
    lan.wait_sole_holder(R1, VIP2, ELECTION);
    assert!(lan.holds_vip(R2, VIP), "{}", lan.diagnose("VIP left r2"));
}

/// Two LANs, two routers on both, a sync group over one instance per LAN;
/// VRRP is cut on LAN A only, for the backup. keepalived 2.2.7 (watched
/// the same way) keeps the whole group BACKUP: the instance on LAN A logs
/// "Receive advertisement timeout" every master_down and waits, because
/// the one on LAN B still hears its master. The old rule made LAN A's
/// instance master and dragged LAN B's along, to thrash with the real
/// master every master_down, GARPs included.
#[test]
fn a_partition_of_one_lan_does_not_pull_the_sync_group_to_master() {
    let Some(mut lan) = Lan::new("ops-sync-cut", 2) else {
        return;
    };
    lan.add_second_lan();
    const VIP_B: &str = "198.51.100.100";
    let group_config = |router: usize, priority: u8| {
        let instance = |name: &str, interface: &str, vrid: u8, vip: &str| {
            format!(
                "vrrp_instance {name} {{\n    state BACKUP\n    interface {interface}\n\
                 \x20   virtual_router_id {vrid}\n    priority {priority}\n    version 3\n\
                 \x20   advert_int 0.5\n    virtual_ipaddress {{\n        {vip}/24\n    }}\n}}\n"
            )
        };
        format!(
            "global_defs {{\n    router_id r{router}\n}}\n\
             vrrp_sync_group VG_1 {{\n    group {{\n        VA\n        VB\n    }}\n}}\n{}{}",
            instance("VA", "eth0", 61, VIP),
            instance("VB", "eth1", 62, VIP_B)
        )
    };
    lan.start(R1, Impl::Keepalived, &group_config(1, 150));
    lan.wait_until(ELECTION, "r1 holds LAN B's VIP", || {
        lan.holds_vip_on(R1, "eth1", VIP_B)
    });
    lan.start(R2, Impl::Keepvip, &group_config(2, 100));
    lan.wait_sole_holder(R1, VIP, ELECTION);
    lan.wait_until(ELECTION, "r1 alone holds LAN B's VIP", || {
        lan.holds_vip_on(R1, "eth1", VIP_B) && !lan.holds_vip_on(R2, "eth1", VIP_B)
    });
    // Only what happens from the cut on counts.
    let masters_before = lan.log(R2).matches("Entering MASTER STATE").count();

    // r2's LAN A port off the switch: VA hears nothing, VB hears r1.
    lan.set_switch_port(R2, false, false);
    // Three master_downs (1.8 s each at 0.5 s and priority 100) and more.
    // A thrash may hold a VIP for only a few milliseconds (r1 answers at
    // once): the log tells what polling the addresses could miss.
    let held = "r2 holds neither VIP and never entered MASTER";
    lan.holds_for(Duration::from_secs(7), held, || {
        !lan.holds_vip_on(R2, "eth0", VIP)
            && !lan.holds_vip_on(R2, "eth1", VIP_B)
            && lan.log(R2).matches("Entering MASTER STATE").count() == masters_before
    });
    assert!(
        lan.log(R2)
            .matches("(VA) Receive advertisement timeout")
            .count()
            >= 2,
        "{}",
        lan.diagnose("r2's VA did not time out again and again")
    );

    // Healed, then r1 dies: now every member may go, and the group does.
    lan.set_switch_port(R2, false, true);
    lan.kill(R1);
    lan.wait_until(ELECTION, "r2 holds both VIPs", || {
        lan.holds_vip_on(R2, "eth0", VIP) && lan.holds_vip_on(R2, "eth1", VIP_B)
    });
}

#[test]
fn status_answers_with_a_table_and_json() {
    let Some(mut lan) = Lan::new("ops-status", 2) else {
        return;
    };
    lan.start(R1, Impl::Keepvip, &config(1, 150, ""));
    lan.start(R2, Impl::Keepvip, &config(2, 100, ""));
    lan.wait_sole_holder(R1, VIP, ELECTION);
    let bin =
        std::env::var("KEEPVIP_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_keepvip").to_string());
    let ask = |router: usize, json: bool| {
        let socket = lan.dir().join(format!("r{router}")).join("status.sock");
        let mut command = Command::new(&bin);
        command.arg("status").arg("--socket").arg(&socket);
        if json {
            command.arg("--json");
        }
        let started = std::time::Instant::now();
        let output = command.output().unwrap();
        eprintln!("status of r{router} answered in {:?}", started.elapsed());
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let table = ask(R1, false);
    let line = table.lines().find(|l| l.starts_with("VI_1")).expect(&table);
    assert!(
        line.contains("MASTER") && line.contains("150") && line.contains("192.0.2.100/24"),
        "{table}"
    );
    let json = ask(R2, true);
    assert!(
        json.starts_with("{\"instances\":[{\"name\":\"VI_1\",\"state\":\"BACKUP\""),
        "{json}"
    );
    assert!(json.contains("\"priority\":100"), "{json}");
    // The digest of the running config is the one `-t` gives for the file.
    let file = lan.dir().join("r2").join("keepalived.conf");
    // In r2's namespace, where its eth0 is: `-t` checks the interface.
    let checked = Command::new("ip")
        .args(["netns", "exec", lan.ns(R2)])
        .arg(&bin)
        .arg("-t")
        .arg("-f")
        .arg(&file)
        .output()
        .unwrap();
    let checked = String::from_utf8_lossy(&checked.stdout);
    let digest = checked
        .lines()
        .find_map(|l| l.strip_prefix("config digest "))
        .expect(&checked);
    assert!(
        json.contains(&format!("\"digest\":\"{digest}\"")),
        "{json} vs {checked}"
    );
    assert!(table.contains("digest "), "{table}");
    // The socket is root's only.
    let socket = lan.dir().join("r1").join("status.sock");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&socket).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
}

/// Rewrites a running router's config file (the harness keeps it in the
/// router's directory) and sends SIGHUP.
fn reload_with(lan: &mut Lan, router: usize, text: &str) {
    let path = lan.dir().join(format!("r{router}")).join("keepalived.conf");
    std::fs::write(&path, text).unwrap();
    lan.signal(router, libc::SIGHUP);
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn reload_keeps_unchanged_instances_refuses_broken_configs_and_applies_priority() {
    let Some(mut lan) = Lan::new("ops-reload", 2) else {
        return;
    };
    lan.start(R1, Impl::Keepvip, &config(1, 150, ""));
    lan.start(R2, Impl::Keepvip, &config(2, 100, ""));
    lan.wait_sole_holder(R1, VIP, ELECTION);
    std::thread::sleep(Duration::from_secs(2));

    // 1. The same config with a comment on top (every line moves): nothing
    //    happens on the wire or to the address.
    let transitions_before = count(&lan.log(R1), "Entering");
    let mark = lan.mark();
    reload_with(
        &mut lan,
        R1,
        &format!("! edited by a test\n{}", config(1, 150, "")),
    );
    lan.wait_until(Duration::from_secs(10), "reload done", || {
        lan.log(R1).contains("Reload complete")
    });
    // Comments do not change what the config says, nor its digest.
    assert!(
        lan.log(R1).contains("config digest") && lan.log(R1).contains("(unchanged)"),
        "{}",
        lan.diagnose("reload of the same config changed its digest")
    );
    lan.sole_holder_for(R1, VIP, Duration::from_secs(4));
    assert_eq!(
        count(&lan.log(R1), "Entering"),
        transitions_before,
        "{}",
        lan.diagnose("state changed")
    );
    assert!(
        !lan.log(R1).contains("removing VIPs"),
        "{}",
        lan.diagnose("VIP removed")
    );
    let adverts = lan.adverts_since(mark);
    assert!(adverts.iter().all(|a| a.priority == 150), "{adverts:?}");
    for pair in adverts.windows(2) {
        assert!(pair[1].time - pair[0].time <= 1.5, "gap in {adverts:?}");
    }

    // 2. A broken config: refused with file and line, nothing changes.
    let broken = config(1, 150, "").replace("priority 150", "priority 1500");
    reload_with(&mut lan, R1, &broken);
    lan.wait_until(Duration::from_secs(10), "reload refused", || {
        lan.log(R1).contains("keeping the running one")
    });
    assert!(
        lan.log(R1)
            .contains("keepalived.conf:8: priority: expected an integer 1..255"),
        "{}",
        lan.diagnose("no file:line in the refusal")
    );
    lan.sole_holder_for(R1, VIP, Duration::from_secs(4));

    // 3. Priority lowered below the backup's: the backup preempts.
    let mark = lan.mark();
    reload_with(&mut lan, R1, &config(1, 50, ""));
    lan.wait_sole_holder(R2, VIP, ELECTION);
    lan.wait_garp_from(R2, VIP, mark);
    assert!(
        lan.adverts_since(mark).iter().any(|a| a.priority == 50),
        "r1 announced its new priority"
    );
}

#[test]
fn reload_adds_and_removes_instances() {
    let Some(mut lan) = Lan::new("ops-reload2", 1) else {
        return;
    };
    const VIP2: &str = "192.0.2.101";
    let second = format!(
        "vrrp_instance VI_2 {{\n    interface eth0\n    virtual_router_id 53\n    priority 150\n    advert_int 1\n\
         \x20   virtual_ipaddress {{\n        {VIP2}/24\n    }}\n}}\n"
    );
    lan.start(R1, Impl::Keepvip, &config(1, 150, ""));
    lan.wait_sole_holder(R1, VIP, ELECTION);
    reload_with(&mut lan, R1, &format!("{}{second}", config(1, 150, "")));
    lan.wait_sole_holder(R1, VIP2, ELECTION);
    assert!(lan.holds_vip(R1, VIP), "VI_1 kept its address");
    // VI_1 removed: it stops cleanly and gives up its address.
    let only_second = format!("global_defs {{\n    router_id r1\n}}\n{second}");
    reload_with(&mut lan, R1, &only_second);
    lan.wait_until(Duration::from_secs(10), "VI_1 gave up its VIP", || {
        !lan.holds_vip(R1, VIP)
    });
    assert!(lan.holds_vip(R1, VIP2));
    assert!(lan
        .log(R1)
        .contains("(VI_1) not in the new configuration: stopping it"));
}

#[test]
fn an_interface_that_is_deleted_and_recreated_is_picked_up_again() {
    let Some(mut lan) = Lan::new("ops-recreate", 2) else {
        return;
    };
    lan.start(R1, Impl::Keepvip, &config(1, 150, ""));
    lan.start(R2, Impl::Keepvip, &config(2, 100, ""));
    lan.wait_sole_holder(R1, VIP, ELECTION);
    // The NIC goes away and comes back with a new index (and MAC): r2 takes
    // over meanwhile, and r1, with its sockets reopened, takes the VIP back.
    // The mark comes first: r2's takeover can be short (r1 preempts it a
    // master_down after its NIC is back), and r1's GARP on taking the VIP
    // back is sent as it takes it, before the wait below can see that.
    let mark = lan.mark();
    lan.recreate_eth0(R1);
    // r2's GARP is a lasting record of its takeover; polling its address
    // could miss a takeover that lasted less than one poll.
    lan.wait_until(ELECTION, "r2 took the VIP while r1's NIC was gone", || {
        lan.garp_seen_from(R2, VIP, mark)
    });
    lan.wait_sole_holder(R1, VIP, ELECTION);
    // mac(R1) is the new NIC's: only a GARP sent after the re-creation
    // counts.
    lan.wait_garp_from(R1, VIP, mark);
    assert!(
        lan.log(R1).contains("was re-created"),
        "{}",
        lan.diagnose("no reopen")
    );
}

/// An address configured with `dev OTHER` lives on OTHER and its gratuitous
/// ARP goes out there, from OTHER's MAC, not on the instance's interface.
#[test]
fn an_address_on_another_interface_is_announced_there() {
    let Some(mut lan) = Lan::new("ops-dev", 1) else {
        return;
    };
    const OTHER: &str = "198.51.100.7";
    // eth1 inside r1's namespace, its peer eth1p beside it to listen on.
    ip_netns(
        &lan,
        R1,
        &[
            "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p",
        ],
    );
    ip_netns(&lan, R1, &["link", "set", "eth1", "up"]);
    ip_netns(&lan, R1, &["link", "set", "eth1p", "up"]);
    let link = Command::new("ip")
        .args(["-n", lan.ns(R1), "-o", "link", "show", "eth1"])
        .output()
        .unwrap();
    let link = String::from_utf8_lossy(&link.stdout).into_owned();
    let eth1_mac = link
        .split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .expect(&link)
        .to_string();

    let out = lan.dir().join("eth1p.txt");
    let err = lan.dir().join("eth1p.err");
    let args = ["-i", "eth1p", "-n", "-e", "-l", "--immediate-mode", "arp"];
    // Ended by its drop, whatever happens below.
    let _tcpdump = Tcpdump::start(lan.ns(R1), &args, &out, &err);

    let mark = lan.mark();
    let text = config(1, 150, "").replace(
        "virtual_ipaddress {\n",
        &format!("virtual_ipaddress {{\n        {OTHER}/24 dev eth1\n"),
    );
    lan.start(R1, Impl::Keepvip, &text);
    lan.wait_sole_holder(R1, VIP, ELECTION);
    let on_eth1 = || {
        let out = Command::new("ip")
            .args(["-n", lan.ns(R1), "-o", "addr", "show", "dev", "eth1"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).contains(&format!("{OTHER}/24"))
    };
    lan.wait_until(Duration::from_secs(10), "the dev address on eth1", on_eth1);
    // `TIME MAC > ff:ff:ff:ff:ff:ff, ... Request who-has IP (...) tell IP`
    let garp = |line: &str| {
        line.contains(&format!("{eth1_mac} > ff:ff:ff:ff:ff:ff"))
            && line.contains(&format!("who-has {OTHER} "))
            && line.contains(&format!("tell {OTHER},"))
    };
    lan.wait_until(Duration::from_secs(10), "a GARP for it on eth1", || {
        std::fs::read_to_string(&out).is_ok_and(|t| t.lines().any(garp))
    });
    // The instance's own GARPs came first on eth0; none of them was
    // for the address that lives on eth1.
    lan.wait_garp_from(R1, VIP, mark);
    assert!(
        !lan.garp_seen_from(R1, OTHER, mark),
        "{}",
        lan.diagnose("the eth1 address was announced on eth0")
    );
}

/// The addresses on one of r1's interfaces, `ip -o addr` style.
fn addresses_on(lan: &Lan, router: usize, dev: &str) -> String {
    let out = Command::new("ip")
        .args(["-n", lan.ns(router), "-o", "addr", "show", "dev", dev])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A reload that drops every instance on one interface and edits a master
/// on another: the edited master keeps its address, adds the new one and
/// announces it from its own interface's MAC. (Links were once found by
/// their position in a list the reload rebuilt: this reload aborted the
/// daemon with an index out of bounds and left the addresses behind.)
#[test]
fn a_reload_that_drops_one_interface_and_edits_a_master_on_another() {
    let Some(mut lan) = Lan::new("ops-reload-links", 1) else {
        return;
    };
    const SIDE_VIP: &str = "198.51.100.100";
    const SIDE_VIP2: &str = "198.51.100.101";
    let eth1_mac = lan.add_side_link(R1, "eth1", Some("198.51.100.1/24"));
    let out = lan.dir().join("eth1p.txt");
    let err = lan.dir().join("eth1p.err");
    let args = ["-i", "eth1p", "-n", "-e", "-l", "--immediate-mode", "arp"];
    let _tcpdump = Tcpdump::start(lan.ns(R1), &args, &out, &err);

    let global = "global_defs {\n    router_id r1\n}\n";
    let on_eth0 = format!(
        "vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 52\n    priority 150\n\
         \x20   version 3\n    advert_int 0.2\n    virtual_ipaddress {{\n        {VIP}/24\n    }}\n}}\n"
    );
    let on_eth1 = |vips: &[&str]| {
        let vips: String = vips.iter().map(|v| format!("        {v}/24\n")).collect();
        format!(
            "vrrp_instance VI_2 {{\n    interface eth1\n    virtual_router_id 53\n    priority 150\n\
             \x20   version 3\n    advert_int 0.2\n    virtual_ipaddress {{\n{vips}    }}\n}}\n"
        )
    };
    lan.start(
        R1,
        Impl::Keepvip,
        &format!("{global}{on_eth0}{}", on_eth1(&[SIDE_VIP])),
    );
    lan.wait_sole_holder(R1, VIP, ELECTION);
    lan.wait_until(ELECTION, "VI_2 is master on eth1", || {
        addresses_on(&lan, R1, "eth1").contains(&format!("{SIDE_VIP}/24"))
    });

    reload_with(
        &mut lan,
        R1,
        &format!("{global}{}", on_eth1(&[SIDE_VIP, SIDE_VIP2])),
    );
    lan.wait_until(Duration::from_secs(10), "the reload is complete", || {
        lan.log(R1).contains("Reload complete")
    });
    lan.wait_until(Duration::from_secs(5), "VI_1 gave up its VIP", || {
        !lan.holds_vip(R1, VIP)
    });
    let eth1 = addresses_on(&lan, R1, "eth1");
    assert!(
        eth1.contains(&format!("{SIDE_VIP}/24")) && eth1.contains(&format!("{SIDE_VIP2}/24")),
        "{eth1}\n{}",
        lan.diagnose("the edited master lost an address")
    );
    // Every GARP for the new address is on eth1, from eth1's MAC.
    let garps = || -> Vec<String> {
        std::fs::read_to_string(&out)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(&format!("who-has {SIDE_VIP2} ")))
            .map(String::from)
            .collect()
    };
    lan.wait_until(Duration::from_secs(5), "a GARP for the new address", || {
        !garps().is_empty()
    });
    let from_eth1 = format!("{eth1_mac} > ff:ff:ff:ff:ff:ff");
    assert!(
        garps().iter().all(|l| l.contains(&from_eth1)),
        "{:?}\n{}",
        garps(),
        lan.diagnose("a GARP not from eth1's MAC")
    );
    lan.holds_for(Duration::from_secs(1), "VI_2 keeps both addresses", || {
        let eth1 = addresses_on(&lan, R1, "eth1");
        eth1.contains(&format!("{SIDE_VIP}/24")) && eth1.contains(&format!("{SIDE_VIP2}/24"))
    });
}

fn v3_config(router: usize, priority: u8, extra: &str) -> String {
    config(router, priority, &format!("    version 3\n{extra}"))
        .replace("advert_int 1", "advert_int 0.2")
}

/// A NIC re-created with another primary address: the instance takes the
/// new address as its own, so an equal-priority tie-break is decided with
/// it. r1 (now 192.0.2.20) and r2 (192.0.2.12), both priority 100, are
/// partitioned until both are master; when the LAN heals, r1's higher
/// address wins and r1 stays master. Judged with its old 192.0.2.11 it
/// gave way to r2 as well, and both routers left the VIP.
#[test]
fn a_recreated_nic_with_another_address_tie_breaks_with_the_new_one() {
    let Some(mut lan) = Lan::new("ops-recreate-addr", 2) else {
        return;
    };
    lan.start(R2, Impl::Keepvip, &v3_config(2, 100, ""));
    lan.wait_sole_holder(R2, VIP, ELECTION);
    lan.start(R1, Impl::Keepvip, &v3_config(1, 100, ""));
    lan.wait_until(ELECTION, "r1 is backup", || {
        lan.log(R1).contains("(VI_1) Entering BACKUP STATE")
    });
    lan.recreate_eth0_at(R1, std::net::Ipv4Addr::new(192, 0, 2, 20));
    lan.wait_until(ELECTION, "r1 reopened its sockets", || {
        lan.log(R1).contains("was re-created")
    });
    // Partitioned, both are master.
    lan.set_bridged(R2, false);
    lan.wait_until(ELECTION, "r1 is master too", || lan.holds_vip(R1, VIP));
    let backups = count(&lan.log(R1), "Entering BACKUP STATE");
    lan.set_bridged(R2, true);
    lan.wait_until(ELECTION, "r2 gave way", || !lan.holds_vip(R2, VIP));
    lan.sole_holder_for(R1, VIP, Duration::from_secs(2));
    assert_eq!(
        count(&lan.log(R1), "Entering BACKUP STATE"),
        backups,
        "{}",
        lan.diagnose("r1 gave way to a lower address")
    );
}

/// An address on `dev eth1` follows eth1 when eth1 is deleted and created
/// again (a new index): the master puts it on the new eth1.
#[test]
fn a_dev_address_follows_its_recreated_interface() {
    let Some(mut lan) = Lan::new("ops-recreate-dev", 1) else {
        return;
    };
    const OTHER: &str = "198.51.100.7";
    lan.add_side_link(R1, "eth1", Some("198.51.100.1/24"));
    let text = v3_config(1, 150, "").replace(
        "virtual_ipaddress {\n",
        &format!("virtual_ipaddress {{\n        {OTHER}/24 dev eth1\n"),
    );
    lan.start(R1, Impl::Keepvip, &text);
    lan.wait_sole_holder(R1, VIP, ELECTION);
    let on_eth1 = || addresses_on(&lan, R1, "eth1").contains(&format!("{OTHER}/24"));
    lan.wait_until(Duration::from_secs(10), "the dev address on eth1", on_eth1);

    ip_netns(&lan, R1, &["link", "del", "eth1"]);
    lan.add_side_link(R1, "eth1", Some("198.51.100.1/24"));
    let took = lan.wait_until(
        Duration::from_secs(5),
        "the dev address on the new eth1",
        on_eth1,
    );
    eprintln!("dev address back after {took:?}");
    assert!(lan.holds_vip(R1, VIP));
}

/// Two instances, VI_1 on eth0 and VI_2 on eth1, v3 at 0.2 s; `global`
/// goes into global_defs.
fn two_interfaces(global: &str) -> String {
    let instance = |name: &str, dev: &str, vrid: u8, vip: &str| {
        format!(
            "vrrp_instance {name} {{\n    interface {dev}\n    virtual_router_id {vrid}\n    priority 150\n\
             \x20   version 3\n    advert_int 0.2\n    virtual_ipaddress {{\n        {vip}/24\n    }}\n}}\n"
        )
    };
    format!(
        "global_defs {{\n    router_id r1\n{global}}}\n{}{}",
        instance("VI_1", "eth0", 52, VIP),
        instance("VI_2", "eth1", 53, SIDE_VIP)
    )
}

const SIDE_VIP: &str = "198.51.100.100";

/// With dynamic_interfaces, an instance on an interface that does not
/// exist yet does not hold up the others, and starts when it appears.
#[test]
fn a_missing_interface_is_waited_for_with_dynamic_interfaces() {
    let Some(mut lan) = Lan::new("ops-dynamic-if", 1) else {
        return;
    };
    lan.start(
        R1,
        Impl::Keepvip,
        &two_interfaces("    dynamic_interfaces\n"),
    );
    // VI_1 alone: master after master_down (3 x 0.2 s + skew).
    let took = lan.wait_sole_holder(R1, VIP, Duration::from_secs(5));
    eprintln!("VI_1 master after {took:?}");
    assert!(
        lan.log(R1)
            .contains("interface eth1 which doesn't currently exist - will use if created"),
        "{}",
        lan.diagnose("no warning for the missing interface")
    );
    lan.add_side_link(R1, "eth1", Some("198.51.100.1/24"));
    let took = lan.wait_until(Duration::from_secs(5), "VI_2 master on eth1", || {
        addresses_on(&lan, R1, "eth1").contains(&format!("{SIDE_VIP}/24"))
    });
    eprintln!("VI_2 master {took:?} after eth1 appeared");
    assert!(lan.holds_vip(R1, VIP));
}

/// An interface without its IPv4 address yet: its instance waits in FAULT
/// (saying so) while the other runs, and joins when the address comes.
#[test]
fn an_interface_without_an_address_holds_its_instance_in_fault() {
    let Some(mut lan) = Lan::new("ops-unready-if", 1) else {
        return;
    };
    lan.add_side_link(R1, "eth1", None);
    lan.start(R1, Impl::Keepvip, &two_interfaces(""));
    lan.wait_sole_holder(R1, VIP, Duration::from_secs(5));
    lan.wait_until(Duration::from_secs(5), "VI_2 waits in FAULT", || {
        let log = lan.log(R1);
        log.contains("(VI_2) Entering FAULT STATE") && log.contains("(VI_2) eth1 is not ready")
    });
    ip_netns(&lan, R1, &["addr", "add", "198.51.100.1/24", "dev", "eth1"]);
    let took = lan.wait_until(Duration::from_secs(5), "VI_2 master on eth1", || {
        addresses_on(&lan, R1, "eth1").contains(&format!("{SIDE_VIP}/24"))
    });
    eprintln!("VI_2 master {took:?} after eth1 got its address");
    assert!(lan.holds_vip(R1, VIP));
}

/// An IPv6 instance on an interface just brought up, whose link-local
/// address is still in duplicate address detection (slowed down here to
/// about 5 s): the instance waits in FAULT and joins when DAD is done.
#[test]
fn an_ipv6_instance_waits_for_its_tentative_link_local_address() {
    let Some(mut lan) = Lan::new("ops-tentative-if", 1) else {
        return;
    };
    ip_netns(
        &lan,
        R1,
        &[
            "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p",
        ],
    );
    for setting in [
        "net.ipv6.conf.eth1.dad_transmits=5",
        "net.ipv6.neigh.eth1.retrans_time_ms=1000",
    ] {
        let status = Command::new("ip")
            .args(["netns", "exec", lan.ns(R1), "sysctl", "-qw", setting])
            .status()
            .unwrap();
        assert!(status.success(), "{setting}");
    }
    ip_netns(&lan, R1, &["link", "set", "eth1p", "up"]);
    ip_netns(&lan, R1, &["link", "set", "eth1", "up"]);
    let text = format!(
        "global_defs {{\n    router_id r1\n}}\n\
         vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 52\n    priority 150\n\
         \x20   version 3\n    advert_int 0.2\n    virtual_ipaddress {{\n        {VIP}/24\n    }}\n}}\n\
         vrrp_instance VI_6 {{\n    interface eth1\n    virtual_router_id 54\n    priority 150\n\
         \x20   version 3\n    advert_int 0.2\n    virtual_ipaddress {{\n        2001:db8:1::100/64\n    }}\n}}\n"
    );
    lan.start(R1, Impl::Keepvip, &text);
    lan.wait_sole_holder(R1, VIP, Duration::from_secs(5));
    lan.wait_until(Duration::from_secs(5), "VI_6 waits in FAULT", || {
        let log = lan.log(R1);
        log.contains("(VI_6) Entering FAULT STATE") && log.contains("(VI_6) eth1 is not ready")
    });
    lan.wait_until(Duration::from_secs(15), "VI_6 master on eth1", || {
        addresses_on(&lan, R1, "eth1").contains("2001:db8:1::100/64")
    });
    assert!(lan.holds_vip(R1, VIP));
}
