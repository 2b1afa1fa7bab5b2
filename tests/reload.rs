//! SIGHUP reloads on a namespace LAN, each test with keepvip reloaded and,
//! as the baseline that shows the expectations are keepalived's own, the
//! same reload of keepalived 2.2.7.
//!
//! A reload that changes an instance's multicast group (`mcast_dst_ip`) and
//! its `unicast_ttl`: the reloaded router is master on 224.0.0.99 and a
//! keepalived peer of the same VRID, lower, masters alone on 224.0.0.77
//! (neither hears the other). The reload moves the first to 224.0.0.77:
//! from then on its adverts go there only, the peer hears them and yields,
//! and the reloaded router is master of that instance and stays master of a
//! unicast one whose adverts leave with the new TTL. keepalived 2.2.7 was
//! seen taking the changed group as a new instance: priority 0, addresses
//! removed, BACKUP (init), master again after master_down on the new group
//! (the unicast one, whose TTL changed, stays master). keepvip moves the
//! instance in place instead, master throughout: less than keepalived does,
//! never more.
//!
//! A reload that removes a master whose slow notify command still runs:
//! what keepalived 2.2.7 was seen doing is to send priority 0, remove the
//! addresses, and then run the generic `notify` (and write the fifo line)
//! with state FAULT; none of notify_backup, notify_stop or notify_fault
//! (the same for a removed backup). keepvip does that, and the commands
//! the instance had queued behind its running one still run.
//!
//! A reload to a config naming an interface that does not exist: both
//! exit (keepvip after a clean stop).
//!
//! Needs root (network namespaces), keepalived and tcpdump. Set
//! KEEPVIP_SKIP_NETNS=1 to skip explicitly where that is impossible.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use common::{Impl, Lan, Mark, CAPTURE_LAG, ELECTION};

const RELOADED: usize = 1;
const PEER: usize = 2;
const VIP_GROUP: &str = "192.0.2.100";
const VIP_UNICAST: &str = "192.0.2.101";
const OLD_GROUP: &str = "224.0.0.99";
const NEW_GROUP: &str = "224.0.0.77";

/// VRID 90 on `group`, VRID 91 to `peer` by unicast (with TTL 64 when
/// `ttl64`), both at `priority`.
fn config(priority: u8, group: &str, peer: &str, ttl64: bool) -> String {
    let ttl = if ttl64 { "    unicast_ttl 64\n" } else { "" };
    format!(
        "vrrp_instance G {{\n    interface eth0\n    virtual_router_id 90\n\
         \x20   priority {priority}\n    version 3\n    advert_int 0.2\n\
         \x20   mcast_dst_ip {group}\n\
         \x20   virtual_ipaddress {{\n        {VIP_GROUP}/24\n    }}\n}}\n\
         vrrp_instance U {{\n    interface eth0\n    virtual_router_id 91\n\
         \x20   priority {priority}\n    version 3\n    advert_int 0.2\n{ttl}\
         \x20   unicast_peer {{\n        {peer}\n    }}\n\
         \x20   virtual_ipaddress {{\n        {VIP_UNICAST}/24\n    }}\n}}\n"
    )
}

/// The IP destinations of `mac`'s adverts of `vrid` in `capture`, in order.
fn destinations(capture: &str, mac: &str, vrid: u8) -> Vec<String> {
    let tag = format!("vrid {vrid},");
    capture
        .lines()
        .filter(|l| l.contains(": VRRPv3, Advertisement") && l.contains(&tag))
        .filter(|l| l.split_whitespace().nth(1) == Some(mac))
        .filter_map(|l| {
            // "TIME MAC > MAC, ... length 46: 192.0.2.11 > 224.0.0.99: VRRPv3, ..."
            let ends = l.split(": VRRPv3").next()?.rsplit(": ").next()?;
            Some(ends.trim().split_once(" > ")?.1.to_string())
        })
        .collect()
}

fn reload_moves_the_instance_to_its_new_group(tag: &str, reloaded: Impl) {
    let Some(mut lan) = Lan::new(tag, 2) else {
        return;
    };
    let (reloaded_addr, peer_addr) = (lan.addr(RELOADED).to_string(), lan.addr(PEER).to_string());
    lan.start(
        PEER,
        Impl::Keepalived,
        &config(100, NEW_GROUP, &reloaded_addr, false),
    );
    lan.start(
        RELOADED,
        reloaded,
        &config(150, OLD_GROUP, &peer_addr, false),
    );
    // Two masters of VRID 90: they are on different groups.
    lan.wait_until(ELECTION, "both master VRID 90 on their own groups", || {
        lan.holds_vip(RELOADED, VIP_GROUP) && lan.holds_vip(PEER, VIP_GROUP)
    });
    lan.wait_sole_holder(RELOADED, VIP_UNICAST, ELECTION);

    lan.reload(RELOADED, &config(150, NEW_GROUP, &peer_addr, true));
    let reloaded_at = Instant::now();
    lan.wait_sole_holder(RELOADED, VIP_GROUP, ELECTION);
    let yielded = reloaded_at.elapsed();
    // The peer yields to the first advert it hears on its group.
    assert!(
        yielded < Duration::from_secs(3),
        "the peer yielded {yielded:?} after the reload{}",
        lan.diagnose("slow yield")
    );
    // Five advert intervals and more than master_down: the peer keeps
    // hearing the reloaded router, which stays master of both.
    lan.holds_for(
        Duration::from_millis(1200),
        "the reloaded router stays master",
        || lan.sole_holder(RELOADED, VIP_GROUP) && lan.sole_holder(RELOADED, VIP_UNICAST),
    );

    let verbose = lan.verbose_capture(Duration::from_millis(600));
    let header_of = |ends: &str| {
        verbose
            .lines()
            .zip(verbose.lines().skip(1))
            .find(|(_, next)| next.contains(ends))
            .map(|(header, _)| header.to_string())
    };
    let unicast = header_of(&format!("{reloaded_addr} > {peer_addr}: VRRPv3"));
    assert!(
        unicast.as_deref().is_some_and(|h| h.contains("ttl 64")),
        "no unicast advert to the peer with TTL 64 after the reload:\n{verbose}"
    );
    let multicast = header_of(&format!("{reloaded_addr} > {NEW_GROUP}: VRRPv3"));
    assert!(
        multicast.as_deref().is_some_and(|h| h.contains("ttl 255")),
        "no advert to {NEW_GROUP} with TTL 255 after the reload:\n{verbose}"
    );

    // On the wire: the old group, then the new one only.
    let capture = std::fs::read_to_string(lan.dir().join("capture.txt")).unwrap_or_default();
    let sent = destinations(&capture, lan.mac(RELOADED), 90);
    let first_new = sent.iter().position(|d| d == NEW_GROUP);
    assert!(
        sent.first().is_some_and(|d| d == OLD_GROUP)
            && first_new.is_some_and(|n| sent[n..].iter().all(|d| d == NEW_GROUP)),
        "VRID 90 adverts of the reloaded router went to {sent:?}"
    );
    if reloaded == Impl::Keepalived {
        return;
    }
    let log = lan.log(RELOADED);
    let after = log.rsplit("reload (SIGHUP)").next().unwrap_or("");
    assert!(
        !after.contains("Entering BACKUP STATE") && !after.contains("Entering MASTER STATE"),
        "the reloaded router changed state on the reload:\n{after}"
    );
}

/// keepalived does the same reload: the expectations are its behaviour.
#[test]
fn keepalived_reload_moves_the_instance_to_its_new_group() {
    reload_moves_the_instance_to_its_new_group("reload-group-k", Impl::Keepalived);
}

#[test]
fn keepvip_reload_moves_the_instance_to_its_new_group() {
    reload_moves_the_instance_to_its_new_group("reload-group-v", Impl::Keepvip);
}

/// Instance A (VRID 92), master alone, with every notify keyword calling
/// `script` (the generic one as `script generic`), when `with_a`; instance
/// B (VRID 93) always, so that the config without A still has one.
/// `global` goes in global_defs.
fn notify_config(global: &str, script: &str, with_a: bool) -> String {
    let a = format!(
        "vrrp_instance A {{\n    interface eth0\n    virtual_router_id 92\n\
         \x20   priority 150\n    version 3\n    advert_int 0.1\n\
         \x20   notify_master \"{script} master\"\n\
         \x20   notify_backup \"{script} backup\"\n\
         \x20   notify_fault \"{script} fault\"\n\
         \x20   notify_stop \"{script} stop\"\n\
         \x20   notify \"{script} generic\"\n\
         \x20   virtual_ipaddress {{\n        {VIP_GROUP}/24\n    }}\n}}\n"
    );
    let b = format!(
        "vrrp_instance B {{\n    interface eth0\n    virtual_router_id 93\n\
         \x20   priority 150\n    version 3\n    advert_int 0.1\n\
         \x20   virtual_ipaddress {{\n        {VIP_UNICAST}/24\n    }}\n}}\n"
    );
    let global = format!("global_defs {{\n{global}}}\n");
    if with_a {
        format!("{global}{a}{b}")
    } else {
        format!("{global}{b}")
    }
}

fn reload_removing_a_master_runs_its_notify(tag: &str, reloaded: Impl) {
    let Some(mut lan) = Lan::new(tag, 1) else {
        return;
    };
    let record = lan.dir().join("notified");
    let script = lan.dir().join("notify.sh");
    // One line a run: the command's first word, the generic one's state,
    // and whether A's address was on eth0 when it started. The master
    // notify takes 1 s, so that the commands after it are still queued at
    // the reload (and well under the 2 s a queued command may wait before
    // it is skipped, even on a loaded machine).
    fs::write(
        &script,
        format!(
            "#!/bin/sh\n\
             vip=$(/usr/sbin/ip -br addr show dev eth0 | grep -c '{VIP_GROUP}/')\n\
             echo \"$1 $4 vip=$vip\" >> {record}\n\
             [ \"$1\" = master ] && sleep 1\nexit 0\n",
            record = record.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let script = script.display().to_string();
    let runs = || fs::read_to_string(&record).unwrap_or_default();
    let (fifo, reader, fifo_out) = (
        lan.dir().join("vrrp.fifo"),
        lan.dir().join("reader.sh"),
        lan.dir().join("fifo.out"),
    );
    common::write_fifo_reader(&reader, &fifo_out);
    let global = format!(
        "    vrrp_notify_fifo {}\n    vrrp_notify_fifo_script {}\n",
        fifo.display(),
        reader.display()
    );

    lan.start(RELOADED, reloaded, &notify_config(&global, &script, true));
    lan.wait_sole_holder(RELOADED, VIP_GROUP, ELECTION);
    lan.wait_until(ELECTION, "A's notify_master started", || {
        runs().lines().any(|l| l.starts_with("master "))
    });
    fs::OpenOptions::new()
        .append(true)
        .open(&record)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"reload\n"))
        .unwrap();
    lan.reload(RELOADED, &notify_config(&global, &script, false));
    let reloaded_at = Instant::now();
    lan.wait_until(Duration::from_secs(10), "the FAULT notify of A ran", || {
        runs().contains("generic FAULT")
    });
    let late = reloaded_at.elapsed();
    // Behind the 1 s master notify at the most.
    assert!(
        late < Duration::from_secs(4),
        "A's FAULT notify started {late:?} after the reload:\n{}",
        runs()
    );
    lan.holds_for(
        Duration::from_millis(500),
        "no more notify commands",
        || runs().lines().last() == Some("generic FAULT vip=0"),
    );
    let all = runs();
    let (before, after) = all.split_once("reload\n").unwrap();
    // Every command of A's MASTER transition ran, the generic one queued
    // behind the slow one included; after the reload only FAULT, once,
    // with the address gone.
    let master_runs: Vec<&str> = before
        .lines()
        .chain(after.lines())
        .filter(|l| l.starts_with("master ") || l.starts_with("generic MASTER"))
        .collect();
    let after: Vec<&str> = after
        .lines()
        .filter(|l| !l.starts_with("generic MASTER"))
        .collect();
    assert!(
        master_runs.len() == 2 && after == ["generic FAULT vip=0"],
        "notify runs of A:\n{all}"
    );
    assert!(!lan.holds_vip(RELOADED, VIP_GROUP), "A's address stayed");
    let mac = lan.mac(RELOADED).to_string();
    lan.wait_until(CAPTURE_LAG, "A's priority 0 advert is captured", || {
        lan.adverts_since(Mark::START)
            .iter()
            .any(|a| a.src_mac == mac && a.vrid == 92 && a.priority == 0)
    });
    let fifo_lines = || fs::read_to_string(&fifo_out).unwrap_or_default();
    lan.wait_until(Duration::from_secs(5), "the fifo got A's FAULT", || {
        fifo_lines().contains("INSTANCE \"A\" FAULT 150")
    });
    assert!(
        !fifo_lines().contains("INSTANCE \"A\" STOP"),
        "fifo lines:\n{}",
        fifo_lines()
    );
}

#[test]
fn keepalived_reload_removing_a_master_runs_its_notify() {
    reload_removing_a_master_runs_its_notify("reload-notify-k", Impl::Keepalived);
}

#[test]
fn keepvip_reload_removing_a_master_runs_its_notify() {
    reload_removing_a_master_runs_its_notify("reload-notify-v", Impl::Keepvip);
}

/// One instance (VRID 94, v3 at 0.1 s), and with `missing` the lines that
/// name interfaces that do not exist: a tracked one, an address's, a
/// route's and a rule's.
fn missing_interface_config(missing: bool) -> String {
    let (tracked, address, routes) = if missing {
        (
            "    track_interface {\n        kvnone1 weight -20\n    }\n",
            "        198.51.100.5/24 dev kvnone2\n",
            "    virtual_routes {\n        198.51.100.0/26 dev kvnone3\n    }\n\
             \x20   virtual_rules {\n        from all iif kvnone4 table 100 priority 5\n    }\n",
        )
    } else {
        ("", "", "")
    };
    format!(
        "vrrp_instance M {{\n    interface eth0\n    virtual_router_id 94\n\
         \x20   priority 150\n    version 3\n    advert_int 0.1\n{tracked}\
         \x20   virtual_ipaddress {{\n        {VIP_GROUP}/24\n{address}    }}\n{routes}}}\n"
    )
}

/// A reload to a config naming an interface that does not exist (a
/// `track_interface`, an address's or route's `dev`, a rule's `iif`):
/// keepalived 2.2.7 refuses it as at start ("WARNING - interface kvnone2
/// for ip address ... doesn't exist", "Non-existent interface specified in
/// configuration") and exits (status 2, "exited with permanent error
/// CONFIG. Terminating"), neither running the new config nor keeping the
/// old one, and leaves its addresses behind while its backup takes over
/// (watched; with `dynamic_interfaces` it runs the new one, the missing
/// tracked interface counted down). keepvip refuses it with the same
/// lines, and, as for any bad reload, keeps running the config it has:
/// still master, the VIP kept, no priority 0.
#[test]
fn a_reload_naming_a_missing_interface_keeps_the_running_config() {
    let Some(lock) = Lan::hold_lock() else {
        return;
    };
    let mut lans = Lan::side_by_side(&lock, &["reload-noif-v", "reload-noif-k"], 1);
    lans[0].start(RELOADED, Impl::Keepvip, &missing_interface_config(false));
    lans[1].start(RELOADED, Impl::Keepalived, &missing_interface_config(false));
    for lan in &lans {
        lan.wait_sole_holder(RELOADED, VIP_GROUP, ELECTION);
    }
    let mark = lans[0].mark();
    for lan in &mut lans {
        lan.reload(RELOADED, &missing_interface_config(true));
    }
    let keepalived = lans[1].wait_exit(RELOADED, Duration::from_secs(5));
    assert_eq!(keepalived.code(), Some(2), "{}", lans[1].log(RELOADED));
    let lan = &mut lans[0];
    lan.wait_until(Duration::from_secs(5), "keepvip refused the reload", || {
        lan.log(RELOADED)
            .contains("the new configuration is not valid; keeping the running one")
    });
    let log = lan.log(RELOADED);
    let conf = lan.dir().join("r1/keepalived.conf");
    let conf = conf.display();
    for expected in [
        format!("{conf}:8: (M) tracked interface kvnone1 doesn't exist"),
        format!("{conf}:12: interface kvnone2 for ip address 198.51.100.5/24 doesn't exist"),
        format!("{conf}:15: interface kvnone3 for VROUTE nexthop doesn't exist"),
        format!("{conf}:18: interface kvnone4 for rule doesn't exist"),
        "Non-existent interface specified in configuration".to_string(),
    ] {
        assert!(log.contains(&expected), "{expected} not in:\n{log}");
    }
    assert!(lan.running(RELOADED), "keepvip exited:\n{log}");
    lan.holds_for(Duration::from_millis(500), "the VIP stays", || {
        lan.holds_vip(RELOADED, VIP_GROUP)
    });
    lan.wait_until(CAPTURE_LAG, "adverts after the reload are captured", || {
        lan.adverts_since(mark).len() >= 3
    });
    assert!(
        lan.adverts_since(mark).iter().all(|a| a.priority == 150),
        "{}",
        lan.diagnose("an advert other than priority 150 after the reload")
    );
}
