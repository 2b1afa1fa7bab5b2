//! explain on the seed article's cases and on configs that misbehave.

use std::path::Path;

use super::*;
use crate::config::parse_str;

fn router(name: &str, body: &str) -> RouterConfig {
    let text = format!(
        "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 50\n advert_int 1\n{body}\n \
         authentication {{\n  auth_type PASS\n  auth_pass 1111\n }}\n virtual_ipaddress {{\n  192.0.2.3\n }}\n}}\n"
    );
    let (config, warnings) = parse_str(&text, Path::new(&format!("{name}.conf"))).unwrap();
    RouterConfig {
        name: name.to_string(),
        config,
        warnings,
    }
}

fn holders(steps: &[Step]) -> Vec<String> {
    steps.iter().map(|s| s.holders.join("+")).collect()
}

#[test]
fn article_cases_preempt_back() {
    for (r1, r2, first) in [
        (
            " state MASTER\n priority 150",
            " state MASTER\n priority 100",
            "r1",
        ),
        (
            " state MASTER\n priority 150",
            " state BACKUP\n priority 100",
            "r1",
        ),
        (
            " state MASTER\n priority 100",
            " state BACKUP\n priority 150",
            "r2",
        ),
        (
            " state BACKUP\n priority 150",
            " state BACKUP\n priority 100\n nopreempt",
            "r1",
        ),
    ] {
        let report = explain(&[router("r1", r1), router("r2", r2)]);
        let other = if first == "r1" { "r2" } else { "r1" };
        let steps = holders(&report.groups[0].story);
        assert_eq!(steps[..3], [first, other, first], "{r1} / {r2}");
        assert_eq!(steps[3], other, "a graceful stop hands over");
        assert!(!report.has_errors());
    }
}

#[test]
fn article_literal_example_is_flagged() {
    let report = explain(&[
        router("r1", " state BACKUP\n priority 150"),
        router("r2", " state BACKUP\n priority 100\n nopreempt"),
    ]);
    let story = &report.groups[0].story;
    assert!(
        story[2]
            .why
            .contains("r1 takes back the VIP: priority 150 > 100 and r1 preempts"),
        "{story:?}"
    );
    let messages: Vec<&str> = report.findings.iter().map(|f| f.message.as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("nopreempt on r2 (priority 100) has no effect")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("r1 has the highest priority (150) and preempts")),
        "{messages:?}"
    );
    assert!(report.findings.iter().all(|f| f.span.line == 1));
}

#[test]
fn nopreempt_on_both_makes_the_start_order_decide() {
    let routers = [
        router("r1", " state BACKUP\n priority 150\n nopreempt"),
        router("r2", " state BACKUP\n priority 100\n nopreempt"),
    ];
    let report = explain(&routers);
    let orders = &report.groups[0].start_orders;
    assert!(
        orders.contains(&("r1, then r2 first".to_string(), "r1".to_string())),
        "{orders:?}"
    );
    assert!(
        orders.contains(&("r2, then r1 first".to_string(), "r2".to_string())),
        "{orders:?}"
    );
    let group = &groups(&routers)[0];
    let steps = run_story(group, &StartOrder::Sequence(vec![1, 0]));
    assert_eq!(holders(&steps)[..3], ["r2", "r1", "r1"]);
    assert!(steps[0].why.contains("started first"), "{:?}", steps[0]);
    assert!(
        steps[2]
            .why
            .contains("r2's priority 100 is not higher than 150"),
        "{:?}",
        steps[2]
    );
    let r1_first = run_story(group, &StartOrder::Sequence(vec![0, 1]));
    assert_eq!(holders(&r1_first)[..3], ["r1", "r2", "r2"]);
    assert!(r1_first[2]
        .why
        .contains("r1 has the higher priority (150 > 100) but nopreempt"));
}

#[test]
fn state_master_clearing_nopreempt_is_a_finding() {
    let report = explain(&[
        router("r1", " state MASTER\n priority 150\n nopreempt"),
        router("r2", " state BACKUP\n priority 100"),
    ]);
    let finding = report
        .findings
        .iter()
        .find(|f| {
            f.message
                .contains("nopreempt will not work with initial state MASTER")
        })
        .expect("cleared nopreempt reported");
    assert_eq!(finding.span.to_string(), "r1.conf:7", "the nopreempt line");
}

#[test]
fn mismatched_password_or_interval_is_a_certain_split_brain() {
    let report = explain(&[
        router("r1", " priority 150"),
        router("r2", " priority 100").clone(),
    ]);
    assert!(!report.has_errors());
    let mut r2 = router("r2", " priority 100");
    if let Some(crate::config::Authentication::Password(p)) =
        &mut r2.config.instances[0].authentication
    {
        p[0] = b'2';
    }
    let report = explain(&[router("r1", " priority 150"), r2]);
    assert!(report.has_errors());
    assert_eq!(
        report.groups[0].story[0].holders.len(),
        2,
        "the simulation shows the split brain"
    );
    let mut r2 = router("r2", " priority 100");
    r2.config.instances[0].advert_int_cs = 200;
    let report = explain(&[router("r1", " priority 150"), r2]);
    assert!(report.has_errors());
    assert!(render_json(&report).contains("\"errors\":true"));
}

#[test]
fn a_weight_too_small_to_move_the_vip_is_flagged() {
    let check = "vrrp_script chk {\n script \"/bin/true\"\n weight -20\n}\n";
    let (with_script, warnings) = parse_str(
        &format!(
            "{check}vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 50\n priority 150\n \
             track_script {{\n  chk\n }}\n authentication {{\n  auth_type PASS\n  auth_pass 1111\n }}\n \
             virtual_ipaddress {{\n  192.0.2.3\n }}\n}}\n"
        ),
        Path::new("r1.conf"),
    )
    .unwrap();
    let r1 = RouterConfig {
        name: "r1".to_string(),
        config: with_script,
        warnings,
    };
    let report = explain(&[r1, router("r2", " priority 100")]);
    let finding = report
        .findings
        .iter()
        .find(|f| f.message.contains("cannot change the master"))
        .expect("useless weight reported");
    assert!(
        finding
            .message
            .contains("150 - 20 = 130 is still above 100"),
        "{}",
        finding.message
    );
    let story = &report.groups[0].story;
    let failed = story
        .iter()
        .find(|s| s.event.contains("check fails"))
        .expect("check step");
    assert_eq!(failed.holders, ["r1"]);
}

fn router_with_check(name: &str, priority: u8, weight: &str) -> RouterConfig {
    let text = format!(
        "vrrp_script chk {{\n script \"/bin/true\"\n weight {weight}\n}}\n\
         vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 50\n priority {priority}\n \
         track_script {{\n  chk\n }}\n authentication {{\n  auth_type PASS\n  auth_pass 1111\n }}\n \
         virtual_ipaddress {{\n  192.0.2.3\n }}\n}}\n"
    );
    let (config, warnings) = parse_str(&text, Path::new(&format!("{name}.conf"))).unwrap();
    RouterConfig {
        name: name.to_string(),
        config,
        warnings,
    }
}

fn useless_weight(report: &Report) -> Option<String> {
    report
        .findings
        .iter()
        .find(|f| f.message.contains("cannot change the master"))
        .map(|f| f.message.clone())
}

/// `weight 10 reverse` subtracts 10 while the check passes: on a router
/// 30 above its peer that never moves the VIP; 5 above, it does.
#[test]
fn a_reversed_weight_is_linted_by_its_real_shift() {
    let plain = |priority| router("r2", &format!(" priority {priority}"));
    let report = explain(&[router_with_check("r1", 150, "10 reverse"), plain(120)]);
    let message = useless_weight(&report).expect("useless reversed weight reported");
    assert!(
        message.contains(
            "weight 10 reverse on r1 cannot change the master: 150 - 10 = 140 is still above 120"
        ),
        "{message}"
    );
    // The same weight unreversed on a router below its peer is useless too.
    let report = explain(&[router_with_check("r1", 100, "10"), plain(120)]);
    let message = useless_weight(&report).expect("useless weight reported");
    assert!(
        message.contains("100 + 10 = 110 is still below 120"),
        "{message}"
    );
    // Reversed, a weight that crosses the peer is fine.
    let report = explain(&[router_with_check("r1", 150, "-40 reverse"), plain(170)]);
    assert_eq!(useless_weight(&report), None);
}

/// With `weight 60 reverse` a passing check lowers r1 from 150 to 90,
/// below r2: r2 holds the VIP from the start.
#[test]
fn a_reversed_weight_lowers_the_priority_while_its_check_passes() {
    let report = explain(&[
        router_with_check("r1", 150, "60 reverse"),
        router("r2", " priority 120"),
    ]);
    let story = &report.groups[0].story;
    assert_eq!(story[0].holders, ["r2"], "{story:#?}");
    assert_eq!(useless_weight(&report), None);
}

/// Excluded addresses never meet on the wire: listing them on one router
/// only is no address-list mismatch.
#[test]
fn excluded_addresses_do_not_count_as_differing_vip_lists() {
    let r1 = router(
        "r1",
        " priority 150\n virtual_ipaddress_excluded {\n  2001:db8::100\n }",
    );
    let report = explain(&[r1, router("r2", " priority 100")]);
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.message.contains("virtual_ipaddress differs")),
        "{:#?}",
        report.findings
    );
    let r1 = router("r1", " priority 150\n virtual_ipaddress {\n  192.0.2.4\n }");
    let report = explain(&[r1, router("r2", " priority 100")]);
    assert!(report
        .findings
        .iter()
        .any(|f| f.message.contains("virtual_ipaddress differs")));
}

fn router_text(name: &str, text: &str) -> RouterConfig {
    let (config, warnings) = parse_str(text, Path::new(&format!("{name}.conf"))).unwrap();
    RouterConfig {
        name: name.to_string(),
        config,
        warnings,
    }
}

fn instance_on(name: &str, interface: &str, priority: u8, vip: &str) -> String {
    format!(
        "vrrp_instance {name} {{\n interface {interface}\n virtual_router_id 50\n \
         priority {priority}\n virtual_ipaddress {{\n  {vip}\n }}\n}}\n"
    )
}

#[test]
fn one_vrid_on_two_interfaces_is_two_virtual_routers() {
    // Each router runs VRID 50 on two LANs; the second box names its
    // interfaces differently in one case, which must not split a pair.
    let r1 = router_text(
        "r1",
        &(instance_on("A", "eth0", 150, "192.0.2.3")
            + &instance_on("B", "eth1", 100, "198.51.100.3")),
    );
    let r2 = router_text(
        "r2",
        &(instance_on("A", "eth0", 100, "192.0.2.3")
            + &instance_on("B", "eth1", 150, "198.51.100.3")),
    );
    let report = explain(&[r1, r2]);
    let labels: Vec<&str> = report.groups.iter().map(|g| g.label.as_str()).collect();
    assert_eq!(labels, ["VRID 50 on eth0", "VRID 50 on eth1"]);
    for group in &report.groups {
        assert_eq!(group.routers, ["r1", "r2"], "{}", group.label);
    }
    // Each LAN's master is its own router's business.
    assert_eq!(holders(&report.groups[0].story)[0], "r1");
    assert_eq!(holders(&report.groups[1].story)[0], "r2");
    assert!(!report.has_errors(), "{:?}", report.findings);

    let renamed = router_text("r3", &instance_on("A", "ens3", 100, "192.0.2.3"));
    let r1 = router_text("r1", &instance_on("A", "eth0", 150, "192.0.2.3"));
    let report = explain(&[r1, renamed]);
    assert_eq!(report.groups.len(), 1);
    assert_eq!(report.groups[0].label, "VRID 50");
    assert_eq!(report.groups[0].routers, ["r1", "r3"]);
}

#[test]
fn ipv4_and_ipv6_of_one_vrid_are_apart() {
    let text = instance_on("V4", "eth0", 150, "192.0.2.3")
        + &instance_on("V6", "eth0", 150, "2001:db8::3");
    let report = explain(&[router_text("r1", &text), router_text("r2", &text)]);
    let labels: Vec<&str> = report.groups.iter().map(|g| g.label.as_str()).collect();
    assert_eq!(labels, ["VRID 50", "VRID 50 (IPv6)"]);
    let json = render_json(&report);
    assert!(
        json.contains("\"family\":\"IPv6\",\"interface\":\"eth0\""),
        "{json}"
    );
    assert!(render_text(&report).contains("VRID 50 (IPv6) (r1, r2)"));
}

#[test]
fn v2_takeover_time_has_a_skew_under_one_second() {
    // RFC 3768 6.1: at advert_int 3 the skew of priority 100 is still
    // 156/256 s, so master_down is 9.609 s, not 3 * 3 s + 1.828 s.
    let slow = |name: &str, body: &str| {
        let mut r = router(name, body);
        r.config.instances[0].advert_int_cs = 300;
        r
    };
    let report = explain(&[
        slow("r1", " state MASTER\n priority 150"),
        slow("r2", " state BACKUP\n priority 100"),
    ]);
    let story = &report.groups[0].story;
    assert!(
        story
            .iter()
            .any(|s| s.why.contains("master_down timer (9.609 s)")),
        "{story:?}"
    );
}
