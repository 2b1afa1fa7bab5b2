//! The seed article's failover cases (design.md, "What it is"), run on a
//! LAN of two router namespaces, for every pairing of keepvip and the real
//! keepalived. Each case is a function of the two routers' implementations;
//! `seed_case!` turns it into one #[test] per pairing.
//!
//! Needs root (network namespaces), keepalived and tcpdump. Set
//! KEEPVIP_SKIP_NETNS=1 to skip explicitly where that is impossible.

mod common;

use common::{Impl, Lan, ELECTION};
use keepvip::explain::{run_story, RouterConfig, StartOrder};
use std::time::{Duration, Instant};

const VIP: &str = "192.0.2.100";
const R1: usize = 1;
const R2: usize = 2;
/// "Stays this way" checks for nopreempt: longer than master_down (~3.6 s)
/// plus a full advert interval, so a wrongful takeover would show.
const HOLD: Duration = Duration::from_secs(6);

/// One router's part of the article's configs.
struct Node {
    state: &'static str,
    priority: u8,
    nopreempt: bool,
}

const fn node(state: &'static str, priority: u8, nopreempt: bool) -> Node {
    Node {
        state,
        priority,
        nopreempt,
    }
}

/// The article's keepalived.conf, with a documentation address as VIP and
/// its comments style kept (`!` and `#`), since users' files look like it.
fn config(router: usize, n: &Node) -> String {
    format!(
        "! Configuration File for keepalived (seed article)\n\
         global_defs {{\n\
         \x20   router_id r{router}   # just a name\n\
         }}\n\
         vrrp_instance VI_1 {{\n\
         \x20   state {state}\n\
         \x20   interface eth0\n\
         \x20   virtual_router_id 50\n\
         \x20   priority {prio}\n\
         {nopreempt}\
         \x20   advert_int 1\n\
         \x20   authentication {{\n\
         \x20       auth_type PASS\n\
         \x20       auth_pass 1111\n\
         \x20   }}\n\
         \x20   virtual_ipaddress {{\n\
         \x20       {VIP}\n\
         \x20   }}\n\
         }}\n",
        state = n.state,
        prio = n.priority,
        nopreempt = if n.nopreempt { "    nopreempt\n" } else { "" },
    )
}

/// What `keepvip explain` predicts for these two routers, started as the
/// test starts them: who holds the VIP at start, after the first master
/// dies, and after it returns ("r1" / "r2"). Each test asserts that the
/// real routers on the namespace LAN do exactly that, so explain cannot
/// drift from the daemon.
fn explained(nodes: (&Node, &Node), order: StartOrder) -> Vec<String> {
    let routers: Vec<RouterConfig> = [(R1, nodes.0), (R2, nodes.1)]
        .into_iter()
        .map(|(r, n)| {
            let path = format!("r{r}.conf");
            let (config, warnings) =
                keepvip::config::parse_str(&config(r, n), std::path::Path::new(&path))
                    .expect("seed config loads");
            RouterConfig {
                name: format!("r{r}"),
                config,
                warnings,
            }
        })
        .collect();
    let groups = keepvip::explain::groups(&routers);
    assert_eq!(groups.len(), 1, "one VRID");
    let steps = run_story(&groups[0], &order);
    steps
        .iter()
        .take(3)
        .map(|step| match step.holders.as_slice() {
            [one] => one.clone(),
            other => panic!("explain predicts {other:?} at {:?}", step.event),
        })
        .collect()
}

fn router_name(r: usize) -> String {
    format!("r{r}")
}

/// Prints how long each step took, so slow runs show where the time went.
struct Steps {
    tag: &'static str,
    t0: Instant,
}

impl Steps {
    fn new(tag: &'static str, imps: (Impl, Impl)) -> Steps {
        eprintln!("[{tag}] r1 = {}, r2 = {}", imps.0.name(), imps.1.name());
        Steps {
            tag,
            t0: Instant::now(),
        }
    }
    fn done(&self, what: &str, took: Duration) {
        eprintln!(
            "[{}] {:>6.1?} {what} (took {took:.1?})",
            self.tag,
            self.t0.elapsed()
        );
    }
}

/// Preemptive flow shared by cases 1, 2, 3 and 5: both start together,
/// `high` wins; `high` dies, `low` takes over; `high` returns and takes
/// the VIP back.
fn preemptive(
    tag: &'static str,
    imps: (Impl, Impl),
    nodes: (Node, Node),
    high: usize,
) -> Option<(Lan, Steps)> {
    let low = if high == R1 { R2 } else { R1 };
    assert_eq!(
        explained((&nodes.0, &nodes.1), StartOrder::Together),
        [router_name(high), router_name(low), router_name(high)],
        "keepvip explain disagrees with this case's expectations"
    );
    let mut lan = Lan::new(tag, 2)?;
    let s = Steps::new(tag, imps);

    let m = lan.mark();
    lan.start(R1, imps.0, &config(R1, &nodes.0));
    lan.start(R2, imps.1, &config(R2, &nodes.1));
    s.done(
        &format!("start: r{high} wins"),
        lan.wait_sole_holder(high, VIP, ELECTION),
    );
    lan.wait_garp_from(high, VIP, m);

    let m = lan.mark();
    lan.kill(high);
    s.done(
        &format!("r{high} dies: r{low} takes over"),
        lan.wait_sole_holder(low, VIP, ELECTION),
    );
    lan.wait_garp_from(low, VIP, m);

    let m = lan.mark();
    lan.revive(high);
    s.done(
        &format!("r{high} returns: takes the VIP back"),
        lan.wait_sole_holder(high, VIP, ELECTION),
    );
    lan.wait_garp_from(high, VIP, m);
    Some((lan, s))
}

/// (1) Both `state MASTER`, r1 150 / r2 100: preemptive.
fn case1_both_master(tag: &'static str, imps: (Impl, Impl)) {
    preemptive(
        tag,
        imps,
        (node("MASTER", 150, false), node("MASTER", 100, false)),
        R1,
    );
}

/// (2) r1 MASTER 150 / r2 BACKUP 100: preemptive. Also ends with graceful
/// stops: the master's priority-0 advert hands over at once, and both
/// daemons exit 0 on SIGTERM.
fn case2_master_backup(tag: &'static str, imps: (Impl, Impl)) {
    let Some((mut lan, s)) = preemptive(
        tag,
        imps,
        (node("MASTER", 150, false), node("BACKUP", 100, false)),
        R1,
    ) else {
        return;
    };
    let m = lan.mark();
    let st = lan.stop(R1);
    assert!(st.success(), "r1 exit status on SIGTERM: {st}");
    let took = lan.wait_until(
        ELECTION,
        "r2 alone holds the VIP after r1's graceful stop",
        || lan.holds_vip(R2, VIP) && !lan.holds_vip(R1, VIP),
    );
    s.done("r1 stops gracefully: r2 takes over", took);
    lan.wait_garp_from(R2, VIP, m);
    lan.wait_until(
        common::CAPTURE_LAG,
        "r1's priority-0 advert is captured",
        || {
            lan.adverts_since(m)
                .iter()
                .any(|a| a.src_mac == lan.mac(R1) && a.priority == 0 && a.vrid == 50)
        },
    );
    let st = lan.stop(R2);
    assert!(st.success(), "r2 exit status on SIGTERM: {st}");
    assert!(
        !lan.holds_vip(R2, VIP),
        "r2 left the VIP behind after a graceful stop"
    );
    s.done("r2 stops gracefully, VIP removed", Duration::ZERO);
}

/// (3) r1 MASTER 100 / r2 BACKUP 150: priority decides, not `state`.
fn case3_low_master(tag: &'static str, imps: (Impl, Impl)) {
    preemptive(
        tag,
        imps,
        (node("MASTER", 100, false), node("BACKUP", 150, false)),
        R2,
    );
}

/// (4) Both BACKUP with nopreempt, r1 150 / r2 100, `first` started
/// alone and becoming master whatever its priority; the other joins and
/// stays backup. The first dies: the other takes over. The first returns
/// and stays backup.
fn nopreempt(tag: &'static str, imps: (Impl, Impl), first: usize) {
    let second = if first == R1 { R2 } else { R1 };
    let nodes = (node("BACKUP", 150, true), node("BACKUP", 100, true));
    assert_eq!(
        explained(
            (&nodes.0, &nodes.1),
            StartOrder::Sequence(vec![first - 1, second - 1])
        ),
        [router_name(first), router_name(second), router_name(second)],
        "keepvip explain disagrees with this case's expectations"
    );
    let Some(mut lan) = Lan::new(tag, 2) else {
        return;
    };
    let s = Steps::new(tag, imps);
    let confs = [config(R1, &nodes.0), config(R2, &nodes.1)];
    let imp = |r: usize| if r == R1 { imps.0 } else { imps.1 };

    let m = lan.mark();
    lan.start(first, imp(first), &confs[first - 1]);
    s.done(
        &format!("r{first} starts alone: master"),
        lan.wait_sole_holder(first, VIP, ELECTION),
    );
    lan.wait_garp_from(first, VIP, m);

    let m = lan.mark();
    lan.start(second, imp(second), &confs[second - 1]);
    lan.sole_holder_for(first, VIP, HOLD);
    assert!(
        !lan.garp_seen_from(second, VIP, m),
        "r{second} sent a GARP for the VIP while backup"
    );
    s.done(&format!("r{second} joins: r{first} keeps the VIP"), HOLD);

    let m = lan.mark();
    lan.kill(first);
    s.done(
        &format!("r{first} dies: r{second} takes over"),
        lan.wait_sole_holder(second, VIP, ELECTION),
    );
    lan.wait_garp_from(second, VIP, m);

    let m = lan.mark();
    lan.revive(first);
    // The returning daemon first has to start and clear the VIP it died
    // with (see Lan::kill); only then does "stays backup" mean anything.
    let took = lan.wait_sole_holder(second, VIP, ELECTION);
    lan.sole_holder_for(second, VIP, HOLD);
    assert!(
        !lan.garp_seen_from(first, VIP, m),
        "r{first} sent a GARP for the VIP while backup"
    );
    s.done(
        &format!("r{first} returns: r{second} keeps the VIP"),
        took + HOLD,
    );
}

fn case4_nopreempt_r1_first(tag: &'static str, imps: (Impl, Impl)) {
    nopreempt(tag, imps, R1);
}

fn case4_nopreempt_r2_first(tag: &'static str, imps: (Impl, Impl)) {
    nopreempt(tag, imps, R2);
}

/// (5) The article's literal example: both BACKUP, r1 150 without
/// nopreempt, r2 100 with it. nopreempt on the lower router does not stop
/// the higher one from preempting when it returns.
fn case5_article_literal(tag: &'static str, imps: (Impl, Impl)) {
    preemptive(
        tag,
        imps,
        (node("BACKUP", 150, false), node("BACKUP", 100, true)),
        R1,
    );
}

/// One #[test] per pairing (r1's implementation first). The
/// keepalived-keepalived one is the baseline: it shows the expectations are
/// keepalived's own behaviour.
macro_rules! seed_case {
    ($case:ident, $tag:literal) => {
        mod $case {
            use super::Impl::{Keepalived, Keepvip};

            #[test]
            fn keepalived_keepalived() {
                super::$case(concat!($tag, "-kk"), (Keepalived, Keepalived));
            }

            #[test]
            fn keepvip_keepvip() {
                super::$case(concat!($tag, "-vv"), (Keepvip, Keepvip));
            }

            #[test]
            fn keepvip_keepalived() {
                super::$case(concat!($tag, "-vk"), (Keepvip, Keepalived));
            }

            #[test]
            fn keepalived_keepvip() {
                super::$case(concat!($tag, "-kv"), (Keepalived, Keepvip));
            }
        }
    };
}

seed_case!(case1_both_master, "c1");
seed_case!(case2_master_backup, "c2");
seed_case!(case3_low_master, "c3");
seed_case!(case4_nopreempt_r1_first, "c4a");
seed_case!(case4_nopreempt_r2_first, "c4b");
seed_case!(case5_article_literal, "c5");
