//! Whole-file tests: the seed article's configs, keepalived conventions,
//! error messages with file:line, and includes on a real temp directory.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use super::{
    load, load_as, parse_str, parse_str_as, Authentication, Config, InitialState, InstanceConfig,
    VrrpVersion, Warning, WarningKind,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/seed")
        .join(name)
}

fn parse(text: &str) -> (Config, Vec<Warning>) {
    match parse_str(text, Path::new("r1.conf")) {
        Ok(result) => result,
        Err(err) => panic!("config should load, got: {err}"),
    }
}

fn only_instance(text: &str) -> (InstanceConfig, Vec<String>) {
    let (mut config, warnings) = parse(text);
    assert_eq!(config.instances.len(), 1);
    let warnings = warnings.iter().map(Warning::to_string).collect();
    (config.instances.remove(0), warnings)
}

fn error_of(text: &str) -> String {
    match parse_str(text, Path::new("r1.conf")) {
        Ok(_) => panic!("config should be refused:\n{text}"),
        Err(err) => err.to_string(),
    }
}

/// A minimal valid instance with `extra` lines added to its block.
fn instance_with(extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 50\n{extra}\n \
         virtual_ipaddress {{\n  192.0.2.3\n }}\n}}\n"
    )
}

fn password(text: &[u8]) -> Option<Authentication> {
    let mut padded = [0u8; 8];
    padded[..text.len()].copy_from_slice(text);
    Some(Authentication::Password(padded))
}

// ---- the seed article -------------------------------------------------

#[test]
fn article_preempt_master_loads() {
    let (config, warnings) = load(&fixture("article_preempt_master.conf")).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(config.router_id.as_deref(), Some("lb02"));
    let vi = &config.instances[0];
    assert_eq!(vi.name, "VI_1");
    assert_eq!(vi.initial_state, InitialState::Master);
    assert_eq!(vi.interface, "eth0");
    assert_eq!((vi.vrid, vi.priority, vi.advert_int_cs), (50, 150, 100));
    assert!(vi.preempt);
    assert_eq!(vi.authentication, password(b"1111"));
    assert_eq!(vi.virtual_addresses.len(), 1);
    assert_eq!(vi.virtual_addresses[0].addr, Ipv4Addr::new(192, 0, 2, 3));
    assert_eq!(vi.virtual_addresses[0].prefix_len, 32);
    assert_eq!(vi.virtual_addresses[0].span.line, 16);
    assert_eq!((vi.garp_master_delay_s, vi.garp_master_repeat), (5, 5));
}

#[test]
fn article_preempt_backup_loads() {
    let (config, warnings) = load(&fixture("article_preempt_backup.conf")).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let vi = &config.instances[0];
    assert_eq!(vi.initial_state, InitialState::Backup);
    assert_eq!((vi.vrid, vi.priority), (50, 100));
    assert!(vi.preempt);
    assert_eq!(vi.virtual_addresses[0].addr, Ipv4Addr::new(192, 0, 2, 3));
}

#[test]
fn article_nopreempt_pair_loads() {
    let (lb01, warnings) = load(&fixture("article_nopreempt_lb01.conf")).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(lb01.router_id.as_deref(), Some("lb01"));
    let vi = &lb01.instances[0];
    assert_eq!(
        (vi.initial_state, vi.priority, vi.preempt),
        (InitialState::Backup, 150, true)
    );

    let (lb02, warnings) = load(&fixture("article_nopreempt_lb02.conf")).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let vi = &lb02.instances[0];
    assert_eq!(
        (vi.initial_state, vi.priority, vi.preempt),
        (InitialState::Backup, 100, false)
    );
    assert_eq!(vi.preempt_delay_s, 0);
    assert_eq!(vi.virtual_addresses[0].addr, Ipv4Addr::new(192, 0, 2, 3));
}

#[test]
fn article_reference_tracks_its_script_and_clears_nopreempt() {
    let (config, warnings) = load(&fixture("article_reference.conf")).unwrap();
    assert_eq!(config.router_id.as_deref(), Some("liuyazhuang133"));
    let vi = &config.instances[0];
    assert_eq!(vi.initial_state, InitialState::Master);
    assert_eq!((vi.vrid, vi.priority, vi.advert_int_cs), (33, 100, 100));
    assert!(vi.preempt, "nopreempt under state MASTER is cleared");
    assert_eq!(vi.mcast_src_ip, Some(Ipv4Addr::new(192, 0, 2, 133).into()));
    assert_eq!(vi.authentication, password(b"1111"));
    assert_eq!(vi.virtual_addresses[0].addr, Ipv4Addr::new(192, 0, 2, 130));

    let file = fixture("article_reference.conf");
    let at = |line: u32| format!("{}:{}: ", file.display(), line);
    let text: Vec<String> = warnings.iter().map(Warning::to_string).collect();
    assert_eq!(text.len(), 1, "{text:#?}");
    assert!(text[0].starts_with(&at(19)), "{}", text[0]);
    assert!(text[0].contains("nopreempt will not work with initial state MASTER - clearing"));

    assert_eq!(config.scripts.len(), 1);
    let chk = &config.scripts[0];
    assert_eq!(chk.name, "chk_nginx");
    assert_eq!(chk.span.line, 7);
    assert_eq!(chk.command.argv, ["/etc/keepalived/nginx_check.sh"]);
    assert_eq!(chk.command.span.line, 8);
    assert_eq!((chk.interval_us, chk.timeout_us), (2_000_000, 2_000_000));
    assert_eq!((chk.weight, chk.rise, chk.fall), (-20, 1, 1));
    assert!(!chk.init_fail);
    assert_eq!(vi.track_scripts.len(), 1);
    assert_eq!(vi.track_scripts[0].script, 0);
    assert_eq!(vi.track_scripts[0].weight, -20);
    assert_eq!(vi.track_scripts[0].span.line, 28);
}

// ---- defaults and keepalived conventions ------------------------------

#[test]
fn defaults() {
    let (vi, warnings) = only_instance(&instance_with(""));
    assert!(warnings.is_empty());
    assert_eq!(vi.initial_state, InitialState::Backup);
    assert_eq!(
        (vi.priority, vi.advert_int_cs, vi.preempt),
        (100, 100, true)
    );
    assert_eq!((vi.preempt_delay_s, vi.mcast_src_ip), (0, None));
    assert_eq!(vi.authentication, None);
    assert_eq!((vi.garp_master_delay_s, vi.garp_master_repeat), (5, 5));
    assert_eq!(vi.span.line, 1);
}

#[test]
fn state_master_without_priority_is_the_owner() {
    let (vi, _) = only_instance(&instance_with(" state MASTER"));
    assert_eq!((vi.initial_state, vi.priority), (InitialState::Master, 255));
    let (vi, _) = only_instance(&instance_with(" priority 255"));
    assert_eq!(vi.initial_state, InitialState::Master);
}

#[test]
fn nopreempt_is_cleared_for_master_and_owner_with_keepalived_words() {
    let (vi, w) = only_instance(&instance_with(" state MASTER\n priority 200\n nopreempt"));
    assert!(vi.preempt);
    assert_eq!(
        w,
        ["r1.conf:6: (VI_1) Warning - nopreempt will not work with initial state MASTER - clearing"]
    );
    let (vi, w) = only_instance(&instance_with(" state BACKUP\n priority 255\n nopreempt"));
    assert!(vi.preempt);
    assert_eq!(
        w,
        ["r1.conf:6: (VI_1) nopreempt is incompatible with priority 255. resetting nopreempt"]
    );
}

#[test]
fn preempt_delay_rules() {
    let (vi, w) = only_instance(&instance_with(" preempt_delay 30"));
    assert_eq!((vi.preempt, vi.preempt_delay_s), (true, 30));
    assert!(w.is_empty());
    let (vi, w) = only_instance(&instance_with(" nopreempt\n preempt_delay 30"));
    assert_eq!((vi.preempt, vi.preempt_delay_s), (false, 0));
    assert!(w[0].contains("preempt_delay is incompatible with nopreempt mode - resetting"));
    let (vi, w) = only_instance(&instance_with(
        " state MASTER\n priority 150\n preempt_delay 3",
    ));
    assert_eq!(vi.preempt_delay_s, 0);
    assert!(w[0].starts_with("r1.conf:6: "));
    assert!(w[0].contains("preempt delay will not work with initial state MASTER - clearing"));
    let (_, w) = only_instance(&instance_with(" nopreempt\n preempt"));
    assert!(w.is_empty());
    assert!(error_of(&instance_with(" preempt_delay 1001"))
        .contains("preempt_delay: expected an integer 0..1000, found \"1001\""));
}

#[test]
fn advert_int_fraction_is_rounded_with_a_warning() {
    let (vi, w) = only_instance(&instance_with(" advert_int 1.0"));
    assert_eq!(vi.advert_int_cs, 100);
    assert!(w.is_empty());
    let (vi, w) = only_instance(&instance_with(" advert_int 2.5"));
    assert_eq!(vi.advert_int_cs, 300);
    assert_eq!(w.len(), 1);
    assert!(w[0].starts_with("r1.conf:4: advert_int 2.5: "), "{}", w[0]);
}

#[test]
fn authentication_rules() {
    let auth = |body: &str| instance_with(&format!(" authentication {{\n{body}\n }}"));
    let (vi, w) = only_instance(&auth("auth_type PASS\nauth_pass 123456789"));
    assert_eq!(vi.authentication, password(b"12345678"));
    assert_eq!(w.len(), 1);
    assert!(w[0].contains("truncated to 8"));
    let (vi, _) = only_instance(&auth(
        r#"auth_type PASS\nauth_pass "a b#c""#.replace("\\n", "\n").as_str(),
    ));
    assert_eq!(vi.authentication, password(b"a b#c"));
    // AH keys its HMAC with the same 8 bytes, truncated as keepalived does.
    let (vi, _) = only_instance(&auth("auth_type AH\nauth_pass secret123456"));
    assert_eq!(vi.authentication, Some(Authentication::Ah(*b"secret12")));
    assert_eq!(
        error_of(&auth("auth_type AH")),
        "r1.conf:4: authentication: auth_type AH needs an auth_pass"
    );
    assert_eq!(
        error_of(&auth("auth_type PASS")),
        "r1.conf:4: authentication: auth_type PASS needs an auth_pass"
    );
}

/// keepalived 2.2.7 warns "unknown authentication type 'PASS;'" and sends
/// its adverts with auth type 0 (watched in a namespace: `authtype none`),
/// so keepvip runs such an instance without authentication too: peers
/// written with the same typo keep agreeing. (`;` separates nothing in
/// keepalived.conf: it is part of the word.)
#[test]
fn unknown_auth_type_runs_without_authentication_as_keepalived() {
    let auth = |body: &str| instance_with(&format!(" authentication {{\n{body}\n }}"));
    let (vi, w) = only_instance(&auth("  auth_type PASS;\n  auth_pass secret;"));
    assert_eq!(vi.authentication, None);
    assert_eq!(
        w,
        [
            "r1.conf:5: authentication: unknown auth_type 'PASS;' (expected PASS or AH): \
          this instance sends and accepts adverts without authentication, as keepalived \
          2.2.7 does"
        ]
    );
    let (vi, w) = only_instance(&auth("  auth_type MD5"));
    assert_eq!(vi.authentication, None);
    assert!(w[0].contains("unknown auth_type 'MD5'"), "{w:?}");
}

#[test]
fn virtual_address_forms() {
    let (vi, w) = only_instance(
        "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 9\n virtual_ipaddress {\n\
         192.0.2.3\n 192.0.2.4/24 dev eth1 label eth1:vip\n 192.0.2.5/25 brd 192.0.2.127 scope global\n\
         }\n}\n",
    );
    let vips = &vi.virtual_addresses;
    assert_eq!(vips.len(), 3);
    assert_eq!((vips[0].prefix_len, vips[0].dev.as_deref()), (32, None));
    assert_eq!(vips[1].addr, Ipv4Addr::new(192, 0, 2, 4));
    assert_eq!(vips[1].prefix_len, 24);
    assert_eq!(vips[1].dev.as_deref(), Some("eth1"));
    assert_eq!(vips[1].label.as_deref(), Some("eth1:vip"));
    assert_eq!(vips[2].prefix_len, 25);
    assert_eq!(vips[2].broadcast, Some(Ipv4Addr::new(192, 0, 2, 127)));
    assert_eq!(vips[2].scope, Some(0));
    assert!(w.is_empty(), "{w:?}");
}

#[test]
fn virtual_address_errors() {
    let vip = |line: &str| {
        format!("vrrp_instance VI_1 {{\ninterface eth0\nvirtual_router_id 9\nvirtual_ipaddress {{\n{line}\n}}\n}}\n")
    };
    assert!(error_of(&vip("2001:db8::1/129")).contains("expected a prefix length 0..128"));
    assert!(error_of(&vip("192.0.2.300")).starts_with("r1.conf:5: "));
    assert!(error_of(&vip("192.0.2.3/33")).contains("expected a prefix length 0..32"));
    assert!(error_of(&vip("192.0.2.3 dev")).contains("'dev' needs a value"));
}

#[test]
fn global_defs_set_garp_defaults_wherever_they_are() {
    let text = format!(
        "{}global_defs {{\n vrrp_garp_master_delay 10\n vrrp_garp_master_repeat 2\n}}\n",
        instance_with(" garp_master_repeat 3")
    );
    let (vi, _) = only_instance(&text);
    assert_eq!((vi.garp_master_delay_s, vi.garp_master_repeat), (10, 3));
}

#[test]
fn garp_lower_prio_defaults_to_the_masters_burst_and_delay() {
    let lower = |vi: &InstanceConfig| (vi.garp_lower_prio_repeat, vi.garp_lower_prio_delay_s);
    let (vi, warnings) = only_instance(&instance_with(""));
    assert_eq!(lower(&vi), (5, 5));
    assert!(warnings.is_empty(), "{warnings:?}");
    // Burst and delay follow the global garp_master_*, not the instance's
    // (keepalived 2.2.7 on the wire; see tests/announcements.rs).
    let (vi, _) = only_instance(&instance_with(
        " garp_master_repeat 3
 garp_master_delay 2",
    ));
    assert_eq!(lower(&vi), (5, 5));
    let text = format!(
        "global_defs {{\n vrrp_garp_master_repeat 2\n vrrp_garp_master_delay 1\n}}\n{}",
        instance_with(" garp_master_repeat 3\n garp_master_delay 0")
    );
    assert_eq!(lower(&only_instance(&text).0), (2, 1));
    let (vi, warnings) = only_instance(&instance_with(
        " garp_lower_prio_repeat 1
 garp_lower_prio_delay 0",
    ));
    assert_eq!(lower(&vi), (1, 0));
    assert!(warnings.is_empty(), "known keywords: {warnings:?}");
    let text = format!(
        "global_defs {{
 vrrp_garp_lower_prio_repeat 2
 vrrp_garp_lower_prio_delay 7
}}
{}",
        instance_with(" garp_master_repeat 3")
    );
    let (vi, warnings) = only_instance(&text);
    assert_eq!(lower(&vi), (2, 7));
    assert!(warnings.is_empty(), "known keywords: {warnings:?}");
    assert!(error_of(&instance_with(" garp_lower_prio_repeat x")).starts_with("r1.conf:4: "));
}

#[test]
fn garp_master_refresh_per_instance_or_global() {
    let (vi, _) = only_instance(&instance_with(""));
    assert_eq!(vi.garp_master_refresh_s, 0, "off by default");
    let (vi, _) = only_instance(&instance_with(" garp_master_refresh 60"));
    assert_eq!(vi.garp_master_refresh_s, 60);
    let text = format!(
        "global_defs {{\n vrrp_garp_master_refresh 30\n}}\n{}",
        instance_with("")
    );
    assert_eq!(only_instance(&text).0.garp_master_refresh_s, 30);
    assert!(error_of(&instance_with(" garp_master_refresh x")).starts_with("r1.conf:4: "));
}

#[test]
fn vrrp_version() {
    let (vi, w) = only_instance(&instance_with(" version 2"));
    assert!(w.is_empty());
    assert_eq!(vi.version, VrrpVersion::V2);
    let (vi, w) = only_instance(&instance_with(" version 3\n advert_int 0.1"));
    assert!(w.is_empty(), "{w:?}");
    assert_eq!((vi.version, vi.advert_int_cs), (VrrpVersion::V3, 10));
    // global_defs sets the default, wherever it is; an instance overrides.
    let text = format!("{}global_defs {{\n vrrp_version 3\n}}\n", instance_with(""));
    assert_eq!(only_instance(&text).0.version, VrrpVersion::V3);
    let text = format!(
        "{}global_defs {{\n vrrp_version 3\n}}\n",
        instance_with(" version 2\n advert_int 0.1")
    );
    let (vi, w) = only_instance(&text);
    // v2 rounds the interval to whole seconds, with a warning.
    assert_eq!(
        (vi.version, vi.advert_int_cs, w.len()),
        (VrrpVersion::V2, 100, 1)
    );
    assert!(error_of(&instance_with(" version 4")).contains("expected 2 or 3"));
}

#[test]
fn v3_interval_is_read_after_the_version_wherever_it_is() {
    // advert_int before version: the units follow the version in force.
    let (vi, w) = only_instance(&instance_with(" advert_int 0.25\n version 3"));
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(vi.advert_int_cs, 25);
    let (vi, w) = only_instance(&instance_with(" version 3\n advert_int 41"));
    assert_eq!(vi.advert_int_cs, 4095);
    assert!(
        w[0].contains("out of range. Must be less than 40.96s"),
        "{w:?}"
    );
}

#[test]
fn v3_ignores_authentication_with_keepalived_warning() {
    let (vi, w) = only_instance(&instance_with(
        " version 3\n authentication {\n auth_type PASS\n auth_pass 1111\n }",
    ));
    assert_eq!(vi.authentication, None);
    assert_eq!(
        w,
        vec!["r1.conf:5: (VI_1) VRRP version 3 does not support authentication. Ignoring."]
    );
}

fn ipv6_instance(extra: &str, vips: &str) -> String {
    format!(
        "vrrp_instance V6 {{\n interface eth0\n virtual_router_id 52\n{extra}\n \
         virtual_ipaddress {{\n{vips}\n }}\n}}\n"
    )
}

#[test]
fn ipv6_instances_are_v3_with_host_routes_by_default() {
    let (vi, w) = only_instance(&ipv6_instance("", "  2001:db8::100\n  2001:db8::101/64"));
    assert!(w.is_empty(), "{w:?}");
    assert!(vi.is_ipv6());
    assert_eq!(vi.version, VrrpVersion::V3);
    assert_eq!(vi.virtual_addresses[0].prefix_len, 128);
    assert_eq!(vi.virtual_addresses[1].prefix_len, 64);
    // An explicit version 2 cannot carry IPv6: v3, with a warning.
    let (vi, w) = only_instance(&ipv6_instance(" version 2", "  2001:db8::100"));
    assert_eq!(vi.version, VrrpVersion::V3);
    assert!(w[0].contains("VRRPv2 cannot carry IPv6"), "{w:?}");
}

#[test]
fn ipv4_and_ipv6_instances_may_share_a_vrid() {
    let text = format!(
        "{}{}",
        instance_with(""),
        ipv6_instance("", "  2001:db8::100")
            .replace("virtual_router_id 52", "virtual_router_id 50")
    );
    let (config, _) = parse(&text);
    assert_eq!(config.instances.len(), 2);
    let twice = format!(
        "{}{}",
        instance_with(""),
        instance_with("").replace("VI_1", "VI_2")
    );
    assert!(error_of(&twice).contains("virtual_router_id 50 is already used"));
}

#[test]
fn unicast_peers_and_source() {
    let (vi, w) = only_instance(&instance_with(
        " unicast_src_ip 192.0.2.11\n unicast_peer {\n  192.0.2.12\n  192.0.2.13 min_ttl 3\n }",
    ));
    assert_eq!(vi.unicast_src_ip, Some("192.0.2.11".parse().unwrap()));
    assert_eq!(vi.source_address(), vi.unicast_src_ip);
    assert_eq!(
        vi.unicast_peers,
        vec![
            "192.0.2.12".parse::<std::net::IpAddr>().unwrap(),
            "192.0.2.13".parse().unwrap()
        ]
    );
    assert_eq!(w.len(), 1);
    assert!(w[0].contains("'min_ttl 3' is not supported"), "{w:?}");
    let (vi, _) = only_instance(&ipv6_instance(
        " unicast_src_ip 2001:db8::11\n unicast_peer {\n 2001:db8::12\n }",
        "  2001:db8::100",
    ));
    assert_eq!(
        vi.unicast_peers,
        vec!["2001:db8::12".parse::<std::net::IpAddr>().unwrap()]
    );
    // Families must agree.
    assert!(
        error_of(&instance_with(" unicast_peer {\n  2001:db8::12\n }"))
            .contains("(VI_1) unicast_peer 2001:db8::12 is not IPv4")
    );
    assert!(error_of(&instance_with(" unicast_src_ip 2001:db8::11"))
        .contains("(VI_1) unicast_src_ip 2001:db8::11 is not IPv4"));
    assert!(
        error_of(&instance_with(" unicast_peer {\n  192.0.2.300\n }"))
            .contains("expected an IPv4 or IPv6 address")
    );
}

// ---- unknown keywords ---------------------------------------------------

#[test]
fn unknown_and_warn_only_keywords_warn_and_skip_their_block() {
    let text = format!(
        "global_defs {{\n smtp_server 192.0.2.99\n enable_traps\n}}\nvirtual_server 192.0.2.9 80 {{\n \
         real_server 192.0.2.10 80 {{ weight 1 }}\n}}\n{}",
        instance_with(" no_such_thing {\n chk\n }\n smtp_alert")
    );
    let (config, warnings) = parse(&text);
    assert_eq!(config.instances.len(), 1);
    let text: Vec<String> = warnings.iter().map(Warning::to_string).collect();
    let expected = [
        ("r1.conf:2: ", "smtp_server"),
        ("r1.conf:3: ", "enable_traps"),
        ("r1.conf:5: ", "virtual_server"),
        ("r1.conf:11: ", "no_such_thing"),
        ("r1.conf:14: ", "smtp_alert"),
    ];
    assert_eq!(text.len(), expected.len(), "{text:#?}");
    for (got, (at, keyword)) in text.iter().zip(expected) {
        assert!(got.starts_with(at), "{got}");
        assert!(
            got.contains(&format!("unknown/unsupported keyword '{keyword}'")),
            "{got}"
        );
        assert!(got.contains("ignored"));
    }
}

/// Starting without a keyword that changes the wire, what a master owns
/// or when it fails over would split the brain with keepalived peers.
#[test]
fn keywords_that_change_behaviour_are_refused_with_file_and_line() {
    for (place, keyword, line) in [
        ("global", "net_namespace blue", 2),
        ("global", "linkbeat_use_polling", 2),
        ("instance", "use_ipvlan", 4),
        ("instance", "v3_checksum_as_v2", 4),
        ("instance", "track_bfd {\n chk\n }", 4),
        ("top", "bfd_instance chk {\n neighbor_ip 192.0.2.1\n}", 1),
    ] {
        let text = match place {
            "global" => format!("global_defs {{\n {keyword}\n}}\n{}", instance_with("")),
            "instance" => instance_with(&format!(" {keyword}")),
            _ => format!("{keyword}\n{}", instance_with("")),
        };
        let name = keyword.split_whitespace().next().unwrap();
        let err = error_of(&text);
        assert!(
            err.starts_with(&format!(
                "r1.conf:{line}: keyword '{name}' is not supported"
            )),
            "{err}"
        );
    }
    let err = error_of(&format!(
        "{}{}vrrp_sync_group G {{\n group {{\n VI_1\n VI_2\n }}\n track_interface {{\n eth1\n }}\n}}\n",
        instance_with(""),
        instance_with("").replace("VI_1", "VI_2").replace("id 50", "id 51")
    ));
    assert!(
        err.contains("keyword 'track_interface' is not supported"),
        "{err}"
    );
}

/// `use_vmac_addr` makes a macvlan for every address off the instance's
/// interface: refused (file, line, why) until keepvip does the same.
#[test]
fn use_vmac_addr_is_refused_with_file_and_line() {
    let err = error_of(&instance_with(" use_vmac_addr"));
    assert!(
        err.starts_with("r1.conf:4: keyword 'use_vmac_addr' is not supported"),
        "{err}"
    );
}

/// `ADDR [dev IF] use_vmac`: each `dev` gets one macvlan, named as
/// keepalived 2.2.7 names them (watched in a namespace): `vrrp.VRID`
/// first, then `vrrp1.VRID`..., in file order, skipping the instance's own
/// `use_vmac` one, which already holds the addresses without a `dev`.
#[test]
fn per_address_vmacs_are_named_and_placed_as_keepalived() {
    let text = |extra: &str| {
        format!(
            "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 51\n{extra}\n \
             virtual_ipaddress {{\n  192.0.2.100/24\n  192.0.2.101/24 use_vmac\n  \
             203.0.113.5/24 dev eth2 use_vmac\n  198.51.100.5/24 dev eth1 use_vmac\n  \
             198.51.100.6/24 dev eth1 use_vmac\n  198.51.100.7/24 dev eth1\n }}\n}}\n"
        )
    };
    let devs = |vi: &InstanceConfig| -> Vec<Option<String>> {
        vi.virtual_addresses.iter().map(|v| v.dev.clone()).collect()
    };
    let vmacs = |vi: &InstanceConfig| -> Vec<(String, String)> {
        vi.address_vmacs
            .iter()
            .map(|v| (v.name.clone(), v.parent.clone()))
            .collect()
    };
    let some = |s: &str| Some(s.to_string());
    let pair = |a: &str, b: &str| (a.to_string(), b.to_string());

    let (vi, w) = only_instance(&text(""));
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(
        devs(&vi),
        [
            None,
            some("vrrp.51"),
            some("vrrp1.51"),
            some("vrrp2.51"),
            some("vrrp2.51"),
            some("eth1")
        ]
    );
    assert_eq!(
        vmacs(&vi),
        [
            pair("vrrp.51", "eth0"),
            pair("vrrp1.51", "eth2"),
            pair("vrrp2.51", "eth1")
        ]
    );
    // Tracked: the interfaces the lines name, not the macvlans.
    let tracked: Vec<&str> = vi
        .track_interfaces
        .iter()
        .map(|t| t.interface.as_str())
        .collect();
    assert_eq!(tracked, ["eth2", "eth1"]);

    let (vi, _) = only_instance(&text(" use_vmac"));
    assert_eq!(
        devs(&vi),
        [
            some("vrrp.51"),
            some("vrrp.51"),
            some("vrrp1.51"),
            some("vrrp2.51"),
            some("vrrp2.51"),
            some("eth1")
        ]
    );
    assert_eq!(
        vmacs(&vi),
        [pair("vrrp1.51", "eth2"), pair("vrrp2.51", "eth1")]
    );

    let err = error_of(
        "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n \
         virtual_ipaddress {\n  2001:db8::5 dev eth1 use_vmac\n }\n}\n",
    );
    assert!(
        err.starts_with("r1.conf:5: virtual_ipaddress 2001:db8::5: 'use_vmac'"),
        "{err}"
    );
}

/// Instances share one pool of VMAC names, as in keepalived 2.2.7
/// (watched in a namespace): names written after `use_vmac` are taken
/// first, wherever their instance is in the file; then each instance in
/// file order takes the first free default, its own before its
/// addresses': `vrrp.VRID`, `vrrp1.VRID`, `vrrp2.VRID`... for IPv4, and
/// `vrrp.VRID`, `vrrp6.VRID`, `vrrp1.VRID`... for IPv6. A name a second
/// instance writes again is ignored with keepalived's warning, and that
/// instance takes a default.
#[test]
fn vmac_names_are_shared_by_instances_as_in_keepalived() {
    let block = |name: &str, interface: &str, vrid: u8, vip: &str, vmac: &str| {
        format!(
            "vrrp_instance {name} {{\n interface {interface}\n virtual_router_id {vrid}\n \
             {vmac}\n virtual_ipaddress {{\n  {vip}\n }}\n}}\n"
        )
    };
    let names = |text: &str| -> (Vec<(String, [u8; 6])>, Vec<String>) {
        let (config, warnings) = parse(text);
        let names = config
            .instances
            .iter()
            .map(|i| {
                let vmac = i.vmac.as_ref().expect("use_vmac");
                assert!(
                    i.virtual_addresses
                        .iter()
                        .filter(|v| !v.use_vmac)
                        .all(|v| v.dev.as_deref() == Some(vmac.name.as_str())),
                    "{} addresses not on {}",
                    i.name,
                    vmac.name
                );
                (vmac.name.clone(), i.virtual_mac())
            })
            .collect();
        (names, warnings.iter().map(Warning::to_string).collect())
    };
    let named = |name: &str, family: u8| (name.to_string(), [0, 0, 0x5e, 0, family, 51]);
    let v4 = |name: &str, interface: &str| block(name, interface, 51, "192.0.2.100/24", "use_vmac");
    let v6 =
        |name: &str, interface: &str| block(name, interface, 51, "2001:db8::100/64", "use_vmac");

    // One interface, one VRID, both families: vrrp.51 and vrrp6.51.
    let (got, w) = names(&format!("{}{}", v4("A", "eth0"), v6("B", "eth0")));
    assert_eq!(got, [named("vrrp.51", 1), named("vrrp6.51", 2)]);
    assert!(w.is_empty(), "{w:?}");
    // IPv6 first: it has vrrp.51, IPv4 goes on to vrrp1.51.
    let (got, _) = names(&format!("{}{}", v6("A", "eth0"), v4("B", "eth0")));
    assert_eq!(got, [named("vrrp.51", 2), named("vrrp1.51", 1)]);
    // Four on two interfaces.
    let text = format!(
        "{}{}{}{}",
        v4("A", "eth0"),
        v6("B", "eth0"),
        v6("C", "eth1").replace("2001:db8::", "2001:db8:1::"),
        v4("D", "eth1").replace("192.0.2.", "198.51.100.")
    );
    let (got, _) = names(&text);
    assert_eq!(
        got,
        [
            named("vrrp.51", 1),
            named("vrrp6.51", 2),
            named("vrrp1.51", 2),
            named("vrrp2.51", 1)
        ]
    );
    // A written name is taken before the defaults of earlier instances.
    let text = format!(
        "{}{}",
        v4("A", "eth0"),
        block("B", "eth0", 52, "192.0.2.101/24", "use_vmac vrrp.51")
    );
    let (config, _) = parse(&text);
    let vmac_of = |i: usize| config.instances[i].vmac.as_ref().unwrap().name.clone();
    assert_eq!(
        (vmac_of(0), vmac_of(1)),
        ("vrrp1.51".into(), "vrrp.51".into())
    );
    // An address's own macvlan draws from the same pool.
    let text = format!(
        "{}{}",
        block(
            "A",
            "eth0",
            51,
            "192.0.2.100/24\n  198.51.100.5/24 dev eth1 use_vmac",
            ""
        ),
        v6("B", "eth0")
    );
    let (config, _) = parse(&text);
    assert_eq!(config.instances[0].address_vmacs[0].name, "vrrp.51");
    assert_eq!(config.instances[1].vmac.as_ref().unwrap().name, "vrrp6.51");

    // One name written twice: the second instance's is ignored, with
    // keepalived's words, and it takes a default.
    let text = format!(
        "{}{}",
        block("A", "eth0", 51, "192.0.2.100/24", "use_vmac foo"),
        block("B", "eth0", 51, "2001:db8::100/64", "use_vmac foo")
    );
    let (config, w) = parse(&text);
    assert_eq!(vmac_of_config(&config, 0), "foo");
    assert_eq!(vmac_of_config(&config, 1), "vrrp.51");
    let w: Vec<String> = w.iter().map(Warning::to_string).collect();
    assert_eq!(
        w,
        ["r1.conf:12: (B) VRRP instance A is already using foo - ignoring name"]
    );
}

/// A reload keeps the names of running instances' macvlans, as keepalived
/// 2.2.7 does (watched): an IPv4 instance added above a running IPv6 one
/// of the same VRID gets `vrrp1.51`, the IPv6 one keeps `vrrp.51`; from
/// scratch, file order names them `vrrp.51` and `vrrp6.51` again. A kept
/// name gives way to one the instance now writes.
#[test]
fn running_vmac_names_are_kept_and_new_instances_take_the_first_free() {
    let block = |name: &str, vip: &str, vmac: &str, extra: &str| {
        format!(
            "vrrp_instance {name} {{\n interface eth0\n virtual_router_id 51\n {vmac}\n \
             virtual_ipaddress {{\n  {vip}\n{extra} }}\n}}\n"
        )
    };
    let text = format!(
        "{}{}",
        block("V4", "192.0.2.51/24", "use_vmac", ""),
        block("V6", "2001:db8::51/64", "use_vmac", "")
    );
    let kept = |instance: &str, parent: &str, own: bool, name: &str| crate::config::KeptVmac {
        instance: instance.into(),
        parent: parent.into(),
        own,
        name: name.into(),
    };
    let load =
        |text: &str, running: &[crate::config::KeptVmac]| match crate::config::parse_str_keeping(
            text,
            Path::new("r1.conf"),
            "",
            running,
        ) {
            Ok((config, _)) => config,
            Err(e) => panic!("config should load, got: {e}"),
        };
    let running = [kept("V6", "eth0", true, "vrrp.51")];
    let config = load(&text, &running);
    assert_eq!(vmac_of_config(&config, 0), "vrrp1.51");
    assert_eq!(vmac_of_config(&config, 1), "vrrp.51");
    assert_eq!(
        config.instances[1].virtual_addresses[0].dev.as_deref(),
        Some("vrrp.51")
    );
    // From scratch: file order.
    let config = load(&text, &[]);
    assert_eq!(vmac_of_config(&config, 0), "vrrp.51");
    assert_eq!(vmac_of_config(&config, 1), "vrrp6.51");
    // A name the running instance now writes is its own.
    let written = format!(
        "{}{}",
        block("V4", "192.0.2.51/24", "use_vmac", ""),
        block("V6", "2001:db8::51/64", "use_vmac v6mac", "")
    );
    let config = load(&written, &running);
    assert_eq!(vmac_of_config(&config, 0), "vrrp.51");
    assert_eq!(vmac_of_config(&config, 1), "v6mac");
    // An address's macvlan keeps its name too.
    let addresses = format!(
        "{}{}",
        block("V6", "2001:db8::51/64", "use_vmac", ""),
        block(
            "A",
            "192.0.2.52/24",
            "",
            "  198.51.100.5/24 dev eth1 use_vmac\n"
        )
    );
    let config = load(&addresses, &[kept("A", "eth1", false, "vrrp.51")]);
    assert_eq!(config.instances[1].address_vmacs[0].name, "vrrp.51");
    assert_eq!(vmac_of_config(&config, 0), "vrrp6.51");
}

fn vmac_of_config(config: &Config, instance: usize) -> String {
    config.instances[instance]
        .vmac
        .as_ref()
        .expect("use_vmac")
        .name
        .clone()
}

// ---- errors with file:line ----------------------------------------------

#[test]
fn value_errors_name_file_line_and_expectation() {
    assert_eq!(
        error_of(&instance_with(" state MASTER\n priority 300")),
        "r1.conf:5: priority: expected an integer 1..255, found \"300\""
    );
    assert_eq!(
        error_of(&instance_with(" priority")),
        "r1.conf:4: priority: missing argument, expected an integer 1..255"
    );
    assert!(error_of(&instance_with(" virtual_router_id 0"))
        .starts_with("r1.conf:4: virtual_router_id: expected an integer 1..255"));
    assert!(error_of(&instance_with(" mcast_src_ip 2001:db8::1")).contains("IPv6"));
    assert!(
        error_of(&instance_with(" advert_int 0")).starts_with("r1.conf:4: advert_int: expected")
    );
    assert!(error_of(&instance_with(" priority 100 {\n }")).contains("does not take a '{' block"));
    assert!(error_of(&instance_with(" authentication PASS"))
        .contains("authentication: expected '{' to open a block"));
}

#[test]
fn required_keywords_are_reported_at_the_instance_line() {
    let text = "! x\nvrrp_instance VI_9 {\n virtual_router_id 1\n virtual_ipaddress {\n 192.0.2.1\n }\n}\n";
    assert_eq!(
        error_of(text),
        "r1.conf:2: vrrp_instance VI_9: missing 'interface' (required)"
    );
    let text = "vrrp_instance VI_9 {\n interface eth0\n virtual_ipaddress {\n 192.0.2.1\n }\n}\n";
    assert!(
        error_of(text).starts_with("r1.conf:1: vrrp_instance VI_9: missing 'virtual_router_id'")
    );
    assert!(error_of("vrrp_instance {\n}\n").contains("expected an instance name"));
}

/// keepalived 2.2.7 says "vrrp instance VI_1 already defined" and runs the
/// first block; the second is not even read (watched in a namespace: the
/// first block's VRID, priority and password on the wire, and no word
/// about a bad value in the second).
#[test]
fn a_duplicate_instance_name_keeps_the_first_block_as_keepalived() {
    let one = instance_with(" priority 150");
    let other = one
        .replace("virtual_router_id 50", "virtual_router_id 51")
        .replace("priority 150", "priority 300");
    let (config, warnings) = parse(&format!("{one}{other}"));
    assert_eq!(config.instances.len(), 1);
    let vi = &config.instances[0];
    assert_eq!((vi.vrid, vi.priority, vi.span.line), (50, 150, 1));
    let warnings: Vec<String> = warnings.iter().map(Warning::to_string).collect();
    assert_eq!(
        warnings,
        [
            "r1.conf:9: vrrp_instance VI_1: already defined at r1.conf:1; this block is ignored, \
          as keepalived 2.2.7 ignores it"
        ]
    );
}

#[test]
fn duplicate_virtual_routers_are_refused() {
    let one = instance_with("");
    let renamed = one.replace("VI_1", "VI_2");
    assert_eq!(
        error_of(&format!("{one}{renamed}")),
        "r1.conf:9: vrrp_instance VI_2: interface eth0 virtual_router_id 50 is already used by \
         vrrp_instance VI_1 at r1.conf:1"
    );
    let elsewhere = renamed.replace("eth0", "eth1");
    let (config, _) = parse(&format!("{one}{elsewhere}"));
    assert_eq!(config.instances.len(), 2);
}

#[test]
fn unbalanced_braces_are_errors() {
    assert_eq!(
        error_of("vrrp_instance VI_1 {\n interface eth0\n"),
        "r1.conf:2: unexpected end of file: expected '}' to close the block opened at r1.conf:1"
    );
    assert_eq!(
        error_of(&format!("{}}}\n", instance_with(""))),
        "r1.conf:9: unexpected '}': no block is open here"
    );
}

// ---- lexical forms inside a whole config ----------------------------------

#[test]
fn comments_glued_braces_and_quotes_together() {
    let text = "! top\n# also\nglobal_defs{ router_id \"lb 01\" } # 标识信息\n\
                vrrp_instance VI_1{ # 注释：全角标点，没问题\n\
                state BACKUP!bang comment\n interface eth0 #虚拟ip\n virtual_router_id 50\n\
                virtual_ipaddress{\n 192.0.2.3 #虚拟ip\n 192.0.2.4}\n} #\n";
    let (config, warnings) = parse(text);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(config.router_id.as_deref(), Some("lb 01"));
    let vi = &config.instances[0];
    assert_eq!(vi.initial_state, InitialState::Backup);
    assert_eq!(vi.virtual_addresses.len(), 2);
    assert_eq!(vi.virtual_addresses[1].span.line, 10);
}

#[test]
fn arbitrary_input_never_panics() {
    let samples = [
        "",
        "{",
        "}",
        "{}",
        "\"",
        "a \"",
        "vrrp_instance",
        "vrrp_instance {",
        "include",
        "global_defs",
        "global_defs { router_id }",
        "vrrp_instance X { virtual_ipaddress }",
        "vrrp_instance X { virtual_ipaddress { / } }",
        "vrrp_instance X { advert_int . }",
        "vrrp_instance X { advert_int 99999999999999999999.9 }",
        "vrrp_instance X { authentication { auth_pass } }",
        "\u{3000}{\u{3000}}",
        "vrrp_script",
        "vrrp_script X { script }",
        "vrrp_script X { script \"'\" }",
        "vrrp_script X { script ' }",
        "vrrp_script X { script '' ' }",
        "vrrp_script X { interval 99999999999999999999.9999999 }",
        "vrrp_script X { weight -99999999999 }",
        "vrrp_instance X { track_script { Y weight } }",
        "vrrp_instance X { track_script { { } } }",
        "vrrp_instance X { track_interface { weight weight } }",
        "vrrp_instance X { notify \"\" }",
        "global_defs { script_user }",
    ];
    for sample in samples {
        let _ = parse_str(sample, Path::new("fuzz.conf"));
    }
}

// ---- files: include, UTF-8 ---------------------------------------------

/// A directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let path =
            std::env::temp_dir().join(format!("keepvip-config-{}-{}", std::process::id(), tag));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn include_globs_in_sorted_order_relative_to_the_including_file() {
    let dir = TempDir::new("include-glob");
    let main = dir.write(
        "keepalived.conf",
        "global_defs {\n include conf.d/globals.inc\n}\ninclude conf.d/*.conf\ninclude nothing/*.conf\n",
    );
    dir.write("conf.d/globals.inc", "router_id from_include\n");
    dir.write(
        "conf.d/b.conf",
        instance_with("")
            .replace("VI_1", "VI_B")
            .replace(" 50", " 2"),
    );
    dir.write(
        "conf.d/a.conf",
        instance_with("")
            .replace("VI_1", "VI_A")
            .replace(" 50", " 1"),
    );
    // An include inside an included file is relative to that file.
    dir.write("conf.d/c.conf", "include sub/*.conf\n");
    dir.write(
        "conf.d/sub/d.conf",
        instance_with("")
            .replace("VI_1", "VI_D")
            .replace(" 50", " 4"),
    );

    let (config, warnings) = load(&main).unwrap();
    assert_eq!(config.router_id.as_deref(), Some("from_include"));
    let names: Vec<&str> = config.instances.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["VI_A", "VI_B", "VI_D"]);
    assert_eq!(*config.instances[0].span.file, dir.0.join("conf.d/a.conf"));
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].span.line, 5);
    assert!(warnings[0].message.contains("no file matches"));
}

#[test]
fn include_errors_point_at_the_included_file_and_line() {
    let dir = TempDir::new("include-error");
    let main = dir.write("main.conf", "! header\ninclude part.conf\n");
    dir.write("part.conf", instance_with(" priority 0"));
    let err = load(&main).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: priority: expected an integer 1..255, found \"0\"",
            dir.0.join("part.conf").display().to_string() + ":4"
        )
    );
}

#[test]
fn include_cycle_and_depth_are_errors_at_the_include_line() {
    let dir = TempDir::new("include-cycle");
    let main = dir.write("main.conf", "include a.conf\n");
    dir.write("a.conf", "\n\ninclude ./main.conf\n");
    let err = load(&main).unwrap_err();
    assert_eq!(err.span.as_ref().map(|s| s.line), Some(3));
    assert_eq!(
        err.span.as_ref().map(|s| (*s.file).clone()),
        Some(dir.0.join("a.conf"))
    );
    assert!(err.message.contains("include cycle"), "{err}");

    let deep = TempDir::new("include-deep");
    for level in 0..20 {
        deep.write(
            &format!("l{level}.conf"),
            format!("include l{}.conf\n", level + 1),
        );
    }
    let err = load(&deep.0.join("l0.conf")).unwrap_err();
    assert!(err.message.contains("nested more than 8 deep"), "{err}");
    assert_eq!(*err.span.unwrap().file, deep.0.join("l8.conf"));
}

#[test]
fn invalid_utf8_names_file_and_line() {
    let dir = TempDir::new("utf8");
    let path = dir.write(
        "bad.conf",
        b"! ok\n! \xe6\xa0\x87 fine\nrouter_id \xff\xfe\n".as_slice(),
    );
    let err = load(&path).unwrap_err();
    assert_eq!(err.span.as_ref().map(|s| s.line), Some(3));
    assert!(
        err.to_string().contains("bad.conf:3: invalid UTF-8"),
        "{err}"
    );
}

#[test]
fn missing_top_file_is_an_error_without_span() {
    let err = load(Path::new("/nonexistent/keepvip/keepalived.conf")).unwrap_err();
    assert_eq!(err.span, None);
    assert!(err
        .message
        .starts_with("cannot read /nonexistent/keepvip/keepalived.conf"));
}

// ---- vrrp_script, track_script, track_interface, notify -------------------

/// A vrrp_script block named `name` with `body` lines.
fn script_block(name: &str, body: &str) -> String {
    format!("vrrp_script {name} {{\n{body}\n}}\n")
}

#[test]
fn vrrp_script_values_and_defaults() {
    let text = format!(
        "{}{}{}",
        script_block("chk_min", " script /bin/true"),
        script_block(
            "chk_all",
            " script \"/usr/bin/check --port 80\"\n interval 0.5\n timeout 3\n weight 10\n \
             rise 2\n fall 3\n init_fail\n user nobody nogroup"
        ),
        instance_with(" track_script {\n  chk_min\n  chk_all\n }")
    );
    let (config, warnings) = parse(&text);
    assert!(warnings.is_empty(), "{warnings:?}");
    let min = &config.scripts[0];
    assert_eq!((min.name.as_str(), min.span.line), ("chk_min", 1));
    assert_eq!(min.command.argv, ["/bin/true"]);
    assert_eq!((min.interval_us, min.timeout_us), (1_000_000, 1_000_000));
    assert_eq!((min.weight, min.rise, min.fall), (0, 1, 1));
    assert!(!min.init_fail);
    assert_eq!(min.user, None);

    let all = &config.scripts[1];
    assert_eq!(all.command.argv, ["/usr/bin/check", "--port", "80"]);
    assert_eq!(all.command.span.line, 5);
    assert_eq!((all.interval_us, all.timeout_us), (500_000, 3_000_000));
    assert_eq!((all.weight, all.rise, all.fall), (10, 2, 3));
    assert!(all.init_fail);
    let user = all.user.as_ref().unwrap();
    assert_eq!(
        (user.user.as_str(), user.group.as_deref()),
        ("nobody", Some("nogroup"))
    );

    let vi = &config.instances[0];
    let tracked: Vec<_> = vi
        .track_scripts
        .iter()
        .map(|t| (t.script, t.weight, t.span.line))
        .collect();
    assert_eq!(tracked, [(0, 0, 18), (1, 10, 19)]);
    assert_eq!(config.script_user, None);
    assert!(!config.script_security);
}

#[test]
fn timeout_defaults_to_the_interval_wherever_interval_is_written() {
    let text = format!(
        "{}{}",
        script_block("c", " interval 7\n script /bin/true"),
        instance_with("")
    );
    let (config, _) = parse(&text);
    assert_eq!(config.scripts[0].timeout_us, 7_000_000);
}

#[test]
fn sh_dash_c_with_inner_single_quotes() {
    let text = format!(
        "{}{}",
        script_block("c", " script \"/bin/sh -c 'test -f /tmp/x'\""),
        instance_with("")
    );
    let (config, warnings) = parse(&text);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        config.scripts[0].command.argv,
        ["/bin/sh", "-c", "test -f /tmp/x"]
    );
}

#[test]
fn vrrp_script_errors_name_file_and_line() {
    let with = |body: &str| error_of(&format!("! x\n{}", script_block("chk", body)));
    assert_eq!(with(" script \"\""), "r1.conf:3: script: empty command");
    assert_eq!(
        with(" script /bin/true\n weight 254"),
        "r1.conf:4: weight: expected an integer -253..253, found \"254\""
    );
    assert_eq!(
        with(" script /bin/true\n weight"),
        "r1.conf:4: weight: missing argument, expected an integer -253..253"
    );
    assert_eq!(
        with(" script /bin/true\n rise 0"),
        "r1.conf:4: rise: expected an integer 1..2147483647, found \"0\""
    );
    assert!(with(" script /bin/true\n fall x").starts_with("r1.conf:4: fall: expected"));
    assert!(with(" script /bin/true\n interval 0").starts_with("r1.conf:4: interval: expected"));
    assert!(with(" script /bin/true\n timeout 5000").starts_with("r1.conf:4: timeout: expected"));
    assert!(with(" script /bin/true\n user").starts_with("r1.conf:4: user: missing argument"));
    assert_eq!(
        error_of("vrrp_script {\n script /bin/true\n}\n"),
        "r1.conf:1: vrrp_script: missing argument, expected a script name"
    );
    assert_eq!(
        error_of("vrrp_script chk\n"),
        "r1.conf:1: vrrp_script: expected '{' to open a block"
    );
    let twice = format!(
        "{}{}",
        script_block("chk", " script /bin/true"),
        script_block("chk", " script /bin/false")
    );
    assert_eq!(
        error_of(&twice),
        "r1.conf:4: vrrp_script chk: duplicate script name (first defined at r1.conf:1)"
    );
}

#[test]
fn vrrp_script_warnings() {
    let text = format!(
        "{}{}",
        script_block(
            "chk",
            " script /bin/echo a b\n weight -5 reverse\n init_fail x\n no_such_thing 1"
        ),
        instance_with("")
    );
    let (config, warnings) = parse(&text);
    assert_eq!(config.scripts[0].command.argv, ["/bin/echo"]);
    assert_eq!(config.scripts[0].weight, -5);
    assert!(config.scripts[0].reverse);
    let text: Vec<String> = warnings.iter().map(Warning::to_string).collect();
    assert_eq!(text.len(), 3, "{text:#?}");
    assert!(
        text[0].starts_with("r1.conf:2: script: extra values 'a b'"),
        "{}",
        text[0]
    );
    assert!(text[1].starts_with("r1.conf:4: init_fail: takes no value"));
    assert!(text[2].starts_with("r1.conf:5: unknown/unsupported keyword 'no_such_thing'"));
}

#[test]
fn vrrp_script_weight_options() {
    let weight_of = |line: &str| {
        let text = format!(
            "{}{}",
            script_block("chk", &format!(" script /bin/true\n {line}")),
            instance_with("")
        );
        let (config, warnings) = parse(&text);
        let warnings: Vec<String> = warnings.iter().map(Warning::to_string).collect();
        (
            config.scripts[0].weight,
            config.scripts[0].reverse,
            warnings,
        )
    };
    assert_eq!(weight_of("weight 10"), (10, false, vec![]));
    assert_eq!(weight_of("weight 10 reverse"), (10, true, vec![]));
    assert_eq!(weight_of("weight 0 reverse"), (0, true, vec![]));
    assert_eq!(weight_of("weight -3 noreverse"), (-3, false, vec![]));
    assert_eq!(weight_of("weight -3 no_reverse"), (-3, false, vec![]));
    assert_eq!(
        weight_of("weight 4 backwards"),
        (
            4,
            false,
            vec!["r1.conf:3: vrrp_script chk: unknown weight option 'backwards', ignored".into()]
        )
    );
}

/// keepalived 2.2.7 (checked by its effective priority): a track_script
/// line without reverse/noreverse keeps its script's, also when it gives
/// its own weight; reverse or noreverse on the line wins.
#[test]
fn track_script_line_inherits_or_overrides_reverse() {
    let scripts = format!(
        "{}{}",
        script_block("chk_r", " script /bin/true\n weight 10 reverse"),
        script_block("chk_n", " script /bin/true\n weight 10")
    );
    let (vi, warnings) = only_instance(&format!(
        "{scripts}{}",
        instance_with(
            " track_script {\n  chk_r\n }\n track_script {\n  chk_n weight 20 reverse\n }"
        )
    ));
    assert!(warnings.is_empty(), "{warnings:?}");
    let tracked: Vec<_> = vi
        .track_scripts
        .iter()
        .map(|t| (t.script, t.weight, t.reverse))
        .collect();
    assert_eq!(tracked, [(0, 10, true), (1, 20, true)]);
    for (line, expected) in [
        ("chk_r weight 20", (20, true)),
        ("chk_r weight 20 noreverse", (20, false)),
        ("chk_n weight -5", (-5, false)),
    ] {
        let (vi, _) = only_instance(&format!(
            "{scripts}{}",
            instance_with(&format!(" track_script {{\n  {line}\n }}"))
        ));
        let t = &vi.track_scripts[0];
        assert_eq!((t.weight, t.reverse), expected, "{line}");
    }
}

#[test]
fn track_script_line_weight_overrides_the_script_weight() {
    let text = format!(
        "{}{}",
        script_block("chk_a", " script /bin/true\n weight -20"),
        instance_with(" track_script {\n  chk_a weight 7\n }")
    );
    let (vi, warnings) = only_instance(&text);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(vi.track_scripts[0].weight, 7);
    assert_eq!(vi.track_scripts[0].span.line, 9);
}

#[test]
fn scripts_defined_after_the_instance_are_found() {
    let text = format!(
        "{}{}{}",
        instance_with(" track_script {\n  chk_late\n  chk_early weight -3\n }"),
        script_block("chk_early", " script /bin/true\n weight 4"),
        script_block("chk_late", " script /bin/false\n weight 9")
    );
    let (config, warnings) = parse(&text);
    assert!(warnings.is_empty(), "{warnings:?}");
    let names: Vec<_> = config.scripts.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["chk_early", "chk_late"]);
    let tracked: Vec<_> = config.instances[0]
        .track_scripts
        .iter()
        .map(|t| (t.script, t.weight))
        .collect();
    assert_eq!(tracked, [(1, 9), (0, -3)]);
}

/// keepalived 2.2.7 removes a vrrp_script with no `script` line ("No
/// script set for vrrp_script chk - removing") and ignores the
/// track_script lines that name it ("track script chk not found,
/// ignoring..."): the instance runs untracked (watched in a namespace: it
/// becomes master at its own priority). keepvip does the same, saying so
/// at both lines; a name no vrrp_script block has is still an error.
#[test]
fn a_vrrp_script_without_script_is_dropped_with_its_tracking_as_keepalived() {
    let text = format!(
        "{}{}",
        script_block("chk", " interval 1\n fall 3"),
        instance_with(" priority 150\n track_script {\n  chk weight -100\n }")
    );
    let (config, warnings) = parse(&text);
    assert!(config.scripts.is_empty());
    let vi = &config.instances[0];
    assert!(vi.track_scripts.is_empty());
    assert_eq!(vi.priority, 150);
    let warnings: Vec<String> = warnings.iter().map(Warning::to_string).collect();
    assert_eq!(
        warnings,
        [
            "r1.conf:1: vrrp_script chk: no 'script' line: this check is dropped, as \
             keepalived 2.2.7 drops it",
            "r1.conf:10: (VI_1) track script chk not found, ignoring... (its vrrp_script \
             has no 'script' line)",
        ]
    );
}

/// Two mistakes keepalived 2.2.7 does not survive either, so keepvip
/// keeps refusing them. `vrrp_garp_master_refresh` (or
/// `garp_master_refresh`) with no value: keepalived says "is missing a
/// parameter" and exits (status 2) before any instance runs.
/// `track_interface eth0` on one line: keepalived reads the lines that
/// follow as the block ("Block track_interface has extra parameters"), so
/// the next block's words become tracked interfaces that do not exist, and
/// it exits ("Non-existent interface specified in configuration").
#[test]
fn mistakes_keepalived_also_refuses_stay_refused() {
    let text = format!(
        "global_defs {{\n vrrp_garp_master_refresh\n}}\n{}",
        instance_with("")
    );
    assert_eq!(
        error_of(&text),
        "r1.conf:2: vrrp_garp_master_refresh: missing argument, expected an integer 0..86400"
    );
    assert!(error_of(&instance_with(" garp_master_refresh"))
        .starts_with("r1.conf:4: garp_master_refresh: missing argument"));
    let one_line = instance_with(
        " track_interface eth0\n authentication {\n  auth_type PASS\n  auth_pass secret\n }",
    );
    assert_eq!(
        error_of(&one_line),
        "r1.conf:4: track_interface: expected '{' to open a block"
    );
}

#[test]
fn unknown_tracked_script_is_an_error_at_its_line() {
    let text = format!(
        "{}{}",
        script_block("chk_ngnix", " script /bin/true"),
        instance_with(" track_script {\n  chk_nginx\n }")
    );
    assert_eq!(
        error_of(&text),
        "r1.conf:8: track_script: no vrrp_script named \"chk_nginx\""
    );
    // With no vrrp_script at all, too; and inside an included file the
    // included file's name and line are given (see the include tests).
    assert_eq!(
        error_of(&instance_with(" track_script { chk_x }")),
        "r1.conf:4: track_script: no vrrp_script named \"chk_x\""
    );
}

#[test]
fn track_script_line_forms() {
    let scripts = format!(
        "{}{}",
        script_block("chk_a", " script /bin/true\n weight 2"),
        script_block("chk_b", " script /bin/true")
    );
    // keepalived takes one name per line: on `{ chk_a chk_b }` it tracks
    // chk_a and warns about chk_b.
    let (vi, warnings) = only_instance(&format!(
        "{scripts}{}",
        instance_with(" track_script { chk_a chk_b }")
    ));
    assert_eq!(vi.track_scripts.len(), 1);
    assert_eq!(vi.track_scripts[0].script, 0);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(warnings[0].starts_with(
        "r1.conf:11: track_script chk_a: unknown option 'chk_b', ignored (one name per line"
    ));

    let (vi, warnings) = only_instance(&format!(
        "{scripts}{}",
        instance_with(
            " track_script {\n  chk_a weight -1 reverse\n  chk_b weight 3 noreverse\n  chk_a\n }"
        )
    ));
    let tracked: Vec<_> = vi
        .track_scripts
        .iter()
        .map(|t| (t.script, t.weight, t.reverse))
        .collect();
    assert_eq!(tracked, [(0, -1, true), (1, 3, false)]);
    assert_eq!(
        warnings,
        ["r1.conf:14: (VI_1) duplicate track_script chk_a - ignoring"]
    );

    let bad = |line: &str| error_of(&format!("{scripts}{}", instance_with(line)));
    assert_eq!(
        bad(" track_script {\n  chk_a weight 300\n }"),
        "r1.conf:12: track_script chk_a: weight: expected an integer -253..253, found \"300\""
    );
    assert_eq!(
        bad(" track_script {\n  chk_a weight\n }"),
        "r1.conf:12: track_script chk_a: weight: missing argument, expected an integer -253..253"
    );
    assert_eq!(
        bad(" track_script chk_a"),
        "r1.conf:11: track_script: expected '{' to open a block"
    );
}

#[test]
fn weighted_tracking_is_dropped_on_the_address_owner() {
    let scripts = format!(
        "{}{}",
        script_block("chk_w", " script /bin/true\n weight 5"),
        script_block("chk_0", " script /bin/true")
    );
    let text = format!(
        "{scripts}{}",
        instance_with(
            " priority 255\n track_script {\n  chk_w\n  chk_0\n }\n \
             track_interface {\n  eth1 weight 10\n  eth2\n }"
        )
    );
    let (vi, warnings) = only_instance(&text);
    // Weight 0 entries stay: a failure still means FAULT for the owner.
    let tracked: Vec<_> = vi.track_scripts.iter().map(|t| t.script).collect();
    assert_eq!(tracked, [1]);
    let interfaces: Vec<_> = vi
        .track_interfaces
        .iter()
        .map(|t| t.interface.as_str())
        .collect();
    assert_eq!(interfaces, ["eth2"]);
    assert_eq!(
        warnings,
        [
            "r1.conf:17: (VI_1) ignoring eth1 tracked interface due to address owner",
            "r1.conf:13: (VI_1) ignoring tracked script chk_w with weights due to address_owner",
        ]
    );
    // state MASTER without a priority is the owner too.
    let text = format!(
        "{scripts}{}",
        instance_with(" state MASTER\n track_script {\n  chk_w\n }")
    );
    let (vi, warnings) = only_instance(&text);
    assert!(vi.track_scripts.is_empty());
    assert_eq!(warnings.len(), 1);
}

#[test]
fn track_interface_values_and_errors() {
    let (vi, warnings) = only_instance(&instance_with(
        " track_interface {\n  eth1\n  eth2 weight -10\n  eth3 weight 254\n  eth4 weight -254\n  \
         eth0\n  eth1 weight 3\n  eth5 weight 2 reverse\n }",
    ));
    let tracked: Vec<_> = vi
        .track_interfaces
        .iter()
        .map(|t| (t.interface.as_str(), t.weight, t.reverse, t.span.line))
        .collect();
    assert_eq!(
        tracked,
        [
            ("eth1", 0, false, 5),
            ("eth2", -10, false, 6),
            ("eth3", 253, false, 7),
            ("eth4", -253, false, 8),
            ("eth5", 2, true, 11)
        ]
    );
    assert_eq!(
        warnings,
        [
            "r1.conf:7: (VI_1) weight for eth3 cannot be +/-254. Setting to +/-253",
            "r1.conf:8: (VI_1) weight for eth4 cannot be +/-254. Setting to +/-253",
            "r1.conf:10: (VI_1) duplicate track_interface eth1 - ignoring",
            "r1.conf:9: (VI_1) Ignoring track_interface eth0 since own interface",
        ]
    );
    assert_eq!(
        error_of(&instance_with(" track_interface {\n  eth1 weight 255\n }")),
        "r1.conf:5: track_interface eth1: weight: expected an integer -254..254, found \"255\""
    );
    assert_eq!(
        error_of(&instance_with(" track_interface {\n  abcdefghijklmnop\n }")),
        "r1.conf:5: abcdefghijklmnop: expected an interface name of at most 15 bytes, \
         found \"abcdefghijklmnop\""
    );
}

#[test]
fn notify_commands() {
    let (vi, warnings) = only_instance(&instance_with(
        " notify_master /etc/keepalived/master.sh\n notify_backup \"/usr/bin/logger -t vrrp 'now backup'\"\n \
         notify_fault \"/bin/fault.sh VG_1\"\n notify_stop /bin/stop\n notify /bin/any.sh",
    ));
    assert!(warnings.is_empty(), "{warnings:?}");
    let argv = |c: &Option<super::Command>| c.as_ref().unwrap().argv.clone();
    assert_eq!(argv(&vi.notify.master), ["/etc/keepalived/master.sh"]);
    assert_eq!(
        argv(&vi.notify.backup),
        ["/usr/bin/logger", "-t", "vrrp", "now backup"]
    );
    assert_eq!(argv(&vi.notify.fault), ["/bin/fault.sh", "VG_1"]);
    assert_eq!(argv(&vi.notify.stop), ["/bin/stop"]);
    assert_eq!(argv(&vi.notify.any), ["/bin/any.sh"]);
    assert_eq!(vi.notify.master.as_ref().unwrap().span.line, 4);

    let (vi, warnings) = only_instance(&instance_with(
        " notify_master /bin/a\n notify_master /bin/b\n notify_backup /bin/c nobody",
    ));
    assert_eq!(argv(&vi.notify.master), ["/bin/a"]);
    assert_eq!(argv(&vi.notify.backup), ["/bin/c"]);
    assert_eq!(
        vi.notify
            .backup
            .as_ref()
            .unwrap()
            .run_as
            .as_ref()
            .map(|r| r.user.as_str()),
        Some("nobody")
    );
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert_eq!(
        warnings[0],
        "r1.conf:5: (VI_1) notify_master script already specified - ignoring /bin/b"
    );
    assert_eq!(
        error_of(&instance_with(" notify_fault")),
        "r1.conf:4: notify_fault: missing argument, expected a command (quote it to pass \
         arguments)"
    );
    assert_eq!(
        error_of(&instance_with(" notify \"\"")),
        "r1.conf:4: notify: empty command"
    );
}

#[test]
fn global_script_user_and_security() {
    let text = format!(
        "global_defs {{\n script_user keepalived_script users\n enable_script_security\n}}\n{}",
        instance_with("")
    );
    let (config, warnings) = parse(&text);
    assert!(warnings.is_empty(), "{warnings:?}");
    let user = config.script_user.unwrap();
    assert_eq!(
        (user.user.as_str(), user.group.as_deref()),
        ("keepalived_script", Some("users"))
    );
    assert!(config.script_security);
    let (config, _) = parse(&format!(
        "global_defs {{\n script_user nobody\n}}\n{}",
        instance_with("")
    ));
    assert_eq!(config.script_user.unwrap().group, None);
    assert_eq!(
        error_of("global_defs {\n script_user\n}\n"),
        "r1.conf:2: script_user: missing argument, expected a user name [and a group name]"
    );
}

#[test]
fn unknown_tracked_script_in_an_included_file_names_that_file() {
    let dir = TempDir::new("trackinc");
    dir.write(
        "inst.conf",
        instance_with(" track_script {\n  chk_typo\n }"),
    );
    let top = dir.write(
        "top.conf",
        "vrrp_script chk {\n script /bin/true\n}\ninclude inst.conf\n",
    );
    let err = load(&top).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:5: track_script: no vrrp_script named \"chk_typo\"",
            dir.0.join("inst.conf").display()
        )
    );
}

#[test]
fn sync_groups_name_their_instances() {
    let second = instance_with("")
        .replace("VI_1", "VI_2")
        .replace("50", "51");
    let text = format!(
        "vrrp_sync_group VG_1 {{\n group {{\n  VI_1\n  VI_2\n }}\n notify_master \"/bin/true master\"\n}}\n{}{second}",
        instance_with("")
    );
    let (config, warnings) = parse(&text);
    assert!(warnings.is_empty(), "{warnings:?}");
    let group = &config.sync_groups[0];
    assert_eq!(group.name, "VG_1");
    assert_eq!(group.members, vec![0, 1]);
    assert_eq!(
        group.notify.master.as_ref().unwrap().argv,
        vec!["/bin/true", "master"]
    );
    let twice = format!("{text}vrrp_sync_group VG_2 {{\n group {{\n  VI_2\n }}\n}}\n");
    assert!(error_of(&twice).contains("VI_2 is already in vrrp_sync_group VG_1"));
}

/// keepalived 2.2.7 (watched in a namespace): in a sync group, tracked
/// scripts with a weight are dropped ("(VI_1) ignoring tracked script chk
/// with weights due to SYNC group", "Warning - script chk is not used"),
/// and those without one still put the instance in FAULT. Weighted
/// tracked interfaces keep working: it logs "(VI_1) ignoring trk0 tracked
/// interface weight due to SYNC group", then "Changing effective priority
/// from 100 to 80" when trk0 goes down (conformance seed 1111).
#[test]
fn sync_group_members_drop_weighted_track_scripts_as_keepalived_does() {
    let tracking = " track_script {\n  chk weight 10\n  down\n }\n track_interface {\n  trk0 weight -20\n  trk1\n }";
    let second = instance_with(tracking)
        .replace("VI_1", "VI_2")
        .replace("50", "51");
    let scripts =
        "vrrp_script chk {\n script /bin/true\n}\nvrrp_script down {\n script /bin/true\n}\n";
    let text = format!(
        "{scripts}vrrp_sync_group G {{\n group {{\n  VI_1\n  VI_2\n }}\n}}\n{}{second}",
        instance_with(tracking)
    );
    let (config, warnings) = parse(&text);
    for instance in &config.instances {
        let scripts: Vec<(usize, i32)> = instance
            .track_scripts
            .iter()
            .map(|t| (t.script, t.weight))
            .collect();
        assert_eq!(scripts, vec![(1, 0)], "{}", instance.name);
        let links: Vec<(&str, i32)> = instance
            .track_interfaces
            .iter()
            .map(|t| (t.interface.as_str(), t.weight))
            .collect();
        assert_eq!(links, vec![("trk0", -20), ("trk1", 0)], "{}", instance.name);
    }
    let messages: Vec<&str> = warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "(VI_1) ignoring tracked script chk with weights due to SYNC group",
            "(VI_2) ignoring tracked script chk with weights due to SYNC group"
        ]
    );
}

#[test]
fn digest_ignores_comments_and_layout_but_not_values() {
    let base = instance_with(" priority 150");
    let digest = parse(&base).0.digest;
    let reformatted = format!(
        "! edited by hand\n\n{}",
        base.replace("\n ", "\n\t\t")
            .replace("priority 150", "priority   150 # was 100")
    );
    assert_eq!(parse(&reformatted).0.digest, digest);
    let changed = parse(&base.replace("priority 150", "priority 151"))
        .0
        .digest;
    assert_ne!(changed, digest);
    // Word boundaries count: the same characters split differently.
    let split = parse(&base.replace("192.0.2.3", "192.0.2.3 dev eth0"))
        .0
        .digest;
    assert_ne!(split, digest);
}

#[test]
fn digest_follows_an_included_file() {
    let dir = TempDir::new("include-digest");
    let main = dir.write("keepalived.conf", "include conf.d/*.conf\n");
    dir.write("conf.d/vi.conf", instance_with(" priority 150"));
    let before = load(&main).unwrap().0.digest;
    dir.write("conf.d/vi.conf", instance_with(" priority 90"));
    assert_ne!(load(&main).unwrap().0.digest, before);
}

fn excluded_instance(vips: &str, excluded: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 50\n virtual_ipaddress {{\n{vips}\n }}\n \
         virtual_ipaddress_excluded {{\n{excluded}\n }}\n}}\n"
    )
}

#[test]
fn virtual_ipaddress_excluded_is_owned_not_advertised_and_may_be_of_either_family() {
    let (vi, warnings) = only_instance(&excluded_instance(
        "  192.0.2.100/24",
        "  2001:db8::100/64\n  198.51.100.5 dev eth1 label eth1:x\n  2001:db8::101",
    ));
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(!vi.is_ipv6());
    assert_eq!(vi.version, VrrpVersion::V2);
    let owned: Vec<_> = vi
        .virtual_addresses
        .iter()
        .map(|v| (v.addr.to_string(), v.prefix_len, v.advertised, v.span.line))
        .collect();
    assert_eq!(
        owned,
        [
            ("192.0.2.100".to_string(), 24, true, 5),
            ("2001:db8::100".to_string(), 64, false, 8),
            ("198.51.100.5".to_string(), 32, false, 9),
            ("2001:db8::101".to_string(), 128, false, 10),
        ]
    );
    assert_eq!(vi.virtual_addresses[2].dev.as_deref(), Some("eth1"));
    assert_eq!(vi.virtual_addresses[2].label.as_deref(), Some("eth1:x"));
    let advertised: Vec<_> = vi.advertised_addresses().map(|v| v.addr).collect();
    assert_eq!(
        advertised,
        ["192.0.2.100".parse::<std::net::IpAddr>().unwrap()]
    );

    // Written before virtual_ipaddress, it still does not decide the family.
    let text = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 50\n \
                virtual_ipaddress_excluded {\n  192.0.2.7\n }\n virtual_ipaddress {\n  2001:db8::1\n }\n}\n";
    let (vi, warnings) = only_instance(text);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(vi.is_ipv6());
    assert_eq!(vi.version, VrrpVersion::V3);
}

#[test]
fn virtual_ipaddress_excluded_repeats_warn_and_errors_name_the_line() {
    let (vi, warnings) = only_instance(&excluded_instance(
        "  192.0.2.100/24",
        "  192.0.2.100/32\n  2001:db8::100 nodad\n  2001:db8::100",
    ));
    assert_eq!(vi.virtual_addresses.len(), 2);
    assert_eq!(
        warnings,
        [
            "r1.conf:9: virtual_ipaddress_excluded 2001:db8::100: unknown option 'nodad', \
             ignored",
            "r1.conf:8: (VI_1) virtual_ipaddress_excluded 192.0.2.100: already a virtual \
             address at r1.conf:5, ignored",
            "r1.conf:10: (VI_1) virtual_ipaddress_excluded 2001:db8::100: already a virtual \
             address at r1.conf:9, ignored",
        ]
    );
    let bad = |excluded: &str| error_of(&excluded_instance("  192.0.2.100", excluded));
    assert!(
        bad("  192.0.2.300").starts_with("r1.conf:8: "),
        "{}",
        bad("  192.0.2.300")
    );
    assert!(
        bad("  2001:db8::1/129")
            .contains("r1.conf:8: 2001:db8::1/129: expected a prefix length 0..128"),
        "{}",
        bad("  2001:db8::1/129")
    );
    assert_eq!(
        bad("  192.0.2.3 dev"),
        "r1.conf:8: virtual_ipaddress_excluded 192.0.2.3: 'dev' needs a value"
    );
    assert_eq!(
        bad("  192.0.2.3 { }"),
        "r1.conf:8: virtual_ipaddress_excluded: '192.0.2.3' does not take a '{' block"
    );
}

/// An instance whose virtual_ipaddress block lists `addresses`, one per
/// line from line 6 on.
fn instance_listing(version: &str, addresses: &[String]) -> String {
    format!(
        "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 50\n{version}\n \
         virtual_ipaddress {{\n{}\n }}\n}}\n",
        addresses
            .iter()
            .map(|a| format!("  {a}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

fn ipv4_addresses(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("198.51.{}.{}/32", 100 + i / 250, i % 250 + 1))
        .collect()
}

fn ipv6_addresses(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("2001:db8::{:x}/128", i + 1))
        .collect()
}

fn advertised_count(vi: &InstanceConfig) -> usize {
    vi.advertised_addresses().count()
}

#[test]
fn more_ipv4_addresses_than_the_count_octet_holds_are_excluded_with_a_warning() {
    // keepalived 2.2.7 -t: "(VI_4) Number of VIPs (300) exceeds
    // maximum/space available in packet (max 255 addresses) - excess moved
    // to eVIPs", in VRRPv2 and v3 alike.
    for version in [" version 2", " version 3"] {
        let addresses = ipv4_addresses(300);
        let (vi, warnings) = only_instance(&instance_listing(version, &addresses));
        assert_eq!(advertised_count(&vi), 255, "{version}");
        assert_eq!(vi.virtual_addresses.len(), 300, "all still owned");
        let excluded: Vec<String> = vi
            .virtual_addresses
            .iter()
            .filter(|v| !v.advertised)
            .map(|v| format!("{}/32", v.addr))
            .collect();
        assert_eq!(excluded, addresses[255..], "the excess, in order");
        // At the line of the first address left out: line 6 + 255.
        assert_eq!(
            warnings,
            vec![
                "r1.conf:261: (VI_1) Number of VIPs (300) exceeds maximum/space available in \
                 packet (max 255 addresses) - excess moved to eVIPs"
                    .to_string()
            ],
            "{version}"
        );
    }
    let (vi, warnings) = only_instance(&instance_listing("", &ipv4_addresses(255)));
    assert_eq!(advertised_count(&vi), 255);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn more_ipv6_addresses_than_fit_in_an_advert_at_mtu_1500_are_excluded() {
    // keepalived 2.2.7 -t on a 1500-byte link: "max 89 addresses" (it
    // keeps 16 bytes beyond the IPv6 and VRRP headers: 1436 / 16).
    let (vi, warnings) = only_instance(&instance_listing("", &ipv6_addresses(100)));
    assert_eq!(advertised_count(&vi), 89);
    assert_eq!(vi.virtual_addresses.len(), 100);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("r1.conf:95: (VI_1) Number of VIPs (100) exceeds"),
        "{warnings:?}"
    );
    assert!(warnings[0].contains("(max 89 addresses)"), "{warnings:?}");
    let (vi, warnings) = only_instance(&instance_listing("", &ipv6_addresses(89)));
    assert_eq!(advertised_count(&vi), 89);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn excess_addresses_join_the_excluded_ones() {
    let mut text = instance_listing("", &ipv4_addresses(256));
    text = text.replacen(
        "}\n}\n",
        "}\n virtual_ipaddress_excluded {\n  203.0.113.1/32\n }\n}\n",
        1,
    );
    let (vi, warnings) = only_instance(&text);
    assert_eq!(advertised_count(&vi), 255);
    let excluded: Vec<String> = vi
        .virtual_addresses
        .iter()
        .filter(|v| !v.advertised)
        .map(|v| v.addr.to_string())
        .collect();
    assert_eq!(excluded, ["198.51.101.6", "203.0.113.1"]);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
}

#[test]
fn dynamic_interfaces_and_the_line_of_the_interface() {
    let text = format!(
        "global_defs {{\n dynamic_interfaces\n}}\n{}",
        instance_with("")
    );
    let (config, warnings) = parse(&text);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(config.dynamic_interfaces);
    let instance = &config.instances[0];
    let line = text
        .lines()
        .position(|l| l.trim_start().starts_with("interface "))
        .unwrap();
    assert_eq!(instance.interface_span.line as usize, line + 1);
    let (config, _) = parse(&instance_with(""));
    assert!(!config.dynamic_interfaces);
}

// ---- keepalived's fallbacks (issue 15) --------------------------------

#[test]
fn an_unknown_state_is_backup_with_keepalived_words() {
    // keepalived 2.2.7 compares the word exactly: `master` is unknown too,
    // so it is BACKUP with the default priority, not the owner.
    for word in ["SLAVE", "master", "backup"] {
        let (vi, w) = only_instance(&instance_with(&format!(" state {word}")));
        assert_eq!((vi.initial_state, vi.priority), (InitialState::Backup, 100));
        assert_eq!(
            w,
            [format!(
                "r1.conf:4: (VI_1) unknown state '{word}', defaulting to BACKUP"
            )]
        );
    }
    assert!(error_of(&instance_with(" state")).contains("state"));
}

#[test]
fn a_sync_group_member_that_does_not_exist_is_dropped_with_a_warning() {
    let second = instance_with("")
        .replace("VI_1", "VI_2")
        .replace("50", "51");
    let text = format!(
        "vrrp_sync_group VG_1 {{\n group {{\n  VI_1\n  NOPE\n  VI_2\n }}\n}}\n\
         vrrp_sync_group VG_2 {{\n group {{\n  GONE\n }}\n}}\n{}{second}",
        instance_with("")
    );
    let (config, warnings) = parse(&text);
    let warnings: Vec<String> = warnings.iter().map(Warning::to_string).collect();
    assert_eq!(
        warnings,
        [
            "r1.conf:4: Virtual router NOPE specified in sync group VG_1 doesn't exist - ignoring",
            "r1.conf:10: Virtual router GONE specified in sync group VG_2 doesn't exist - ignoring",
            "r1.conf:8: Sync group VG_2, no matching virtual router found in group \
             declaration - removing",
        ]
    );
    assert_eq!(config.sync_groups.len(), 1);
    assert_eq!(config.sync_groups[0].members, vec![0, 1]);
}

#[test]
fn a_virtual_address_of_the_other_family_is_skipped_with_a_warning() {
    let vip = |lines: &str| {
        format!("vrrp_instance VI_1 {{\ninterface eth0\nvirtual_router_id 9\nvirtual_ipaddress {{\n{lines}\n}}\n}}\n")
    };
    let (vi, w) = only_instance(&vip("192.0.2.1\n2001:db8::1\n192.0.2.2"));
    assert!(!vi.is_ipv6());
    let kept: Vec<String> = vi
        .virtual_addresses
        .iter()
        .map(|v| v.addr.to_string())
        .collect();
    assert_eq!(kept, ["192.0.2.1", "192.0.2.2"]);
    assert_eq!(
        w,
        ["r1.conf:6: (VI_1): address family must match VRRP instance [2001:db8::1] - ignoring"]
    );
    // The first address decides, so an IPv6 instance skips IPv4 ones.
    let (vi, w) = only_instance(&vip("2001:db8::1\n192.0.2.1"));
    let (_, with_prefix) = only_instance(&vip("192.0.2.1\n2001:db8::1/64"));
    assert!(
        with_prefix[0].ends_with("[2001:db8::1/64] - ignoring"),
        "{with_prefix:?}"
    );
    assert!(vi.is_ipv6());
    assert_eq!(vi.version, VrrpVersion::V3);
    assert_eq!(vi.virtual_addresses.len(), 1);
    assert_eq!(
        w,
        ["r1.conf:6: (VI_1): address family must match VRRP instance [192.0.2.1] - ignoring"]
    );
}

#[test]
fn an_instance_without_virtual_addresses_runs_with_keepalived_warning() {
    let bare = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 50\n{}}\n";
    let sensible = ["r1.conf:1: (VI_1) No VIP specified; at least one is sensible".to_string()];
    for body in [
        "",
        " virtual_ipaddress {\n }\n",
        // Excluded addresses are not advertised, of either family, and do
        // not decide the family: the instance is IPv4 VRRPv2.
        " virtual_ipaddress_excluded {\n  2001:db8::100\n  192.0.2.9\n }\n",
        " unicast_peer {\n  192.0.2.7\n }\n",
    ] {
        let (vi, w) = only_instance(&bare.replace("{}}", &format!("{body}}}")));
        assert_eq!(w, sensible, "{body}");
        assert_eq!(vi.advertised_addresses().count(), 0);
        assert!(!vi.is_ipv6());
        assert_eq!(vi.version, VrrpVersion::V2);
    }
    // keepalived 2.3's word for "none on purpose": no warning.
    let (vi, w) = only_instance(&bare.replace("{}}", " no_virtual_ipaddress\n}"));
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(vi.virtual_addresses.len(), 0);
    // keepalived 2.2.7 refuses a VRRPv3 one, IPv6 included.
    let required = "r1.conf:1: (VI_1) No VIP specified; at least one is required";
    for body in [
        " version 3\n",
        " mcast_src_ip 2001:db8::1\n",
        " unicast_peer {\n  2001:db8::7\n }\n",
        " no_virtual_ipaddress\n version 3\n",
    ] {
        assert_eq!(
            error_of(&bare.replace("{}}", &format!("{body}}}"))),
            required,
            "{body}"
        );
    }
    let global_v3 = format!(
        "global_defs {{\n vrrp_version 3\n}}\n{}",
        bare.replace("{}}", "}")
    );
    assert_eq!(error_of(&global_v3), required.replace(":1:", ":4:"));
}

// ---- the config language (issue 15) ------------------------------------

/// One file for two routers, as keepalived.conf(5) shows it; what
/// keepalived 2.2.7 made of such a file was read from its config dump.
const TWO_ROUTERS: &str = "\
@lb1 $PRI=150
@^lb1 $PRI=100
$IF=eth0
global_defs {
  @lb1 router_id lb_one
  @^lb1 router_id lb_${_INSTANCE}
}
vrrp_instance VI_1 {
  interface $IF
  virtual_router_id 51
  priority $PRI
  @lb1 unicast_src_ip 192.0.2.11
  @lb2 unicast_src_ip 192.0.2.12
  unicast_peer {
    @^lb1 192.0.2.11
    @^lb2 192.0.2.12
  }
  virtual_ipaddress {
    192.0.2.100/24 label ${IF}:1
  }
}
";

#[test]
fn conditional_lines_and_definitions_make_each_routers_config() {
    let path = Path::new("r.conf");
    let (lb1, w) = parse_str_as(TWO_ROUTERS, path, "lb1").unwrap();
    assert!(w.is_empty(), "{w:?}");
    let (lb2, w) = parse_str_as(TWO_ROUTERS, path, "lb2").unwrap();
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(lb1.router_id.as_deref(), Some("lb_one"));
    assert_eq!(lb2.router_id.as_deref(), Some("lb_lb2"));
    let (one, two) = (&lb1.instances[0], &lb2.instances[0]);
    assert_eq!((one.priority, two.priority), (150, 100));
    assert_eq!(one.interface, "eth0");
    assert_eq!(one.unicast_src_ip, Some("192.0.2.11".parse().unwrap()));
    assert_eq!(
        one.unicast_peers,
        vec!["192.0.2.12".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(
        two.unicast_peers,
        vec!["192.0.2.11".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(one.virtual_addresses[0].label.as_deref(), Some("eth0:1"));
    // The digest is of the config as this router reads it.
    assert_ne!(lb1.digest, lb2.digest);
    // A router with neither id reads the negated lines only.
    let (other, _) = parse_str_as(TWO_ROUTERS, path, "lb3").unwrap();
    assert_eq!(other.instances[0].unicast_peers.len(), 2);
    assert_eq!(other.instances[0].unicast_src_ip, None);
}

#[test]
fn templates_and_sequences_make_instances_and_addresses() {
    let text = "\
$INSTANCE= \\
vrrp_instance VI_${NUM} { \\
  interface eth0 \\
  virtual_router_id ${NUM} \\
  @lb1 priority 13${NUM} \\
  virtual_ipaddress { \\
    ~SEQ(HOST, 10, 5, 20) 192.0.2.${HOST} \\
  } \\
}
$NUM=1
$INSTANCE
$NUM=2
$INSTANCE
";
    let (config, w) = parse_str_as(text, Path::new("r.conf"), "lb1").unwrap();
    assert!(w.is_empty(), "{w:?}");
    let got: Vec<(String, u8, u8, Vec<String>)> = config
        .instances
        .iter()
        .map(|i| {
            let vips = i
                .virtual_addresses
                .iter()
                .map(|v| v.addr.to_string())
                .collect();
            (i.name.clone(), i.vrid, i.priority, vips)
        })
        .collect();
    let vips = vec![
        "192.0.2.10".to_string(),
        "192.0.2.15".into(),
        "192.0.2.20".into(),
    ];
    assert_eq!(
        got,
        [
            ("VI_1".to_string(), 1, 131, vips.clone()),
            ("VI_2".to_string(), 2, 132, vips)
        ]
    );
    // Messages point at the line that used the template.
    assert_eq!(config.instances[1].span.line, 13);
    // A changed definition changes the digest: it covers the expanded text.
    let changed = parse_str_as(
        &text.replace("$NUM=2", "$NUM=3"),
        Path::new("r.conf"),
        "lb1",
    )
    .unwrap()
    .0;
    assert_ne!(changed.digest, config.digest);
    let same = parse_str_as(
        &text.replace("$NUM=1\n", "$NUM=1 ! first\n"),
        Path::new("r.conf"),
        "lb1",
    )
    .unwrap()
    .0;
    assert_eq!(same.digest, config.digest);
}

#[test]
fn definitions_hold_across_includes_and_includes_work_inside_blocks() {
    let dir = TempDir::new("include-definitions");
    let main = dir.write(
        "keepalived.conf",
        "$VRID=7\nvrrp_instance VI_1 {\n  interface eth0\n  include instance.d/*.inc\n  \
         priority $PRI\n  notify_backup \"/bin/echo ${_PWD}\"\n}\n",
    );
    dir.write(
        "instance.d/a.inc",
        "virtual_router_id $VRID\n$PRI=120\nvirtual_ipaddress {\n  192.0.2.${VRID}\n}\n\
         notify_master \"/bin/echo ${_PWD}\"\n",
    );
    let (config, warnings) = load_as(&main, "lb1").unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let vi = &config.instances[0];
    assert_eq!((vi.vrid, vi.priority), (7, 120));
    assert_eq!(vi.virtual_addresses[0].addr.to_string(), "192.0.2.7");
    // `${_PWD}`: the absolute directory of the file being read.
    let top = std::fs::canonicalize(&dir.0).unwrap();
    let pwd_of = |command: &Option<super::Command>| command.as_ref().unwrap().argv[1].clone();
    assert_eq!(
        pwd_of(&vi.notify.master),
        top.join("instance.d").display().to_string()
    );
    assert_eq!(pwd_of(&vi.notify.backup), top.display().to_string());
}

#[test]
fn what_is_not_a_definition_stays_as_written() {
    // `$PRI = 120` (blank before '=') is no definition in keepalived
    // either: an unknown keyword; an undefined name is left as it is.
    let (config, warnings) = parse(&format!(
        "$PRI = 120\n{}",
        instance_with(" notify \"/bin/echo $UNDEF\"")
    ));
    assert!(warnings[0].message.contains("'$PRI'"), "{warnings:?}");
    let notify = config.instances[0].notify.any.as_ref().unwrap();
    assert_eq!(notify.argv, ["/bin/echo", "$UNDEF"]);
    let err = error_of(&format!("~SEQ(X, 1, 0, 3) a\n{}", instance_with("")));
    assert_eq!(err, "r1.conf:1: ~SEQ: STEP 0 never reaches END");
}

#[test]
fn use_vmac_puts_the_addresses_on_the_macvlan() {
    let (vi, w) = only_instance(&instance_with(" use_vmac\n vmac_garp_intvl 60"));
    let vmac = vi.vmac.clone().expect("use_vmac");
    assert_eq!(vmac.name, "vrrp.50");
    assert!(!vmac.xmit_base);
    assert_eq!(vi.virtual_mac(), [0, 0, 0x5e, 0, 1, 50]);
    assert_eq!(vi.virtual_addresses[0].dev.as_deref(), Some("vrrp.50"));
    assert_eq!(
        w,
        vec!["r1.conf:5: Keyword \"vmac_garp_intvl\" is deprecated - please use \"garp_extra_if\""]
    );

    let (vi, _) = only_instance(
        "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n use_vmac vip7\n \
         vmac_xmit_base\n virtual_ipaddress {\n  192.0.2.3\n  192.0.2.4 dev eth1\n }\n}\n",
    );
    let vmac = vi.vmac.clone().expect("use_vmac");
    assert_eq!((vmac.name.as_str(), vmac.xmit_base), ("vip7", true));
    // An address with its own `dev` stays there.
    let devs: Vec<_> = vi
        .virtual_addresses
        .iter()
        .map(|v| v.dev.as_deref())
        .collect();
    assert_eq!(devs, [Some("vip7"), Some("eth1")]);

    assert_eq!(only_instance(&instance_with("")).0.vmac, None);
    assert!(error_of(&instance_with(" use_vmac a/b"))
        .contains("use_vmac: expected an interface name of 1 to 15 bytes"));
    // IPv6: the same name, the IPv6 virtual MAC.
    let (vi, _) = only_instance(
        "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 52\n use_vmac\n \
         virtual_ipaddress {\n  2001:db8::1\n }\n}\n",
    );
    assert_eq!(
        vi.vmac.as_ref().map(|v| v.name.clone()),
        Some("vrrp.52".to_string())
    );
    assert_eq!(vi.virtual_mac(), [0, 0, 0x5e, 0, 2, 52]);
}

/// Each warning says whether keepalived 2.2.7 counts the same thing as a
/// config error (its -t exits 5; watched for each of these): keywords it
/// implements and keepvip ignores, and keepvip's own notes, do not count.
#[test]
fn warnings_say_whether_keepalived_counts_them_as_config_errors() {
    let (_, warnings) = parse(
        "global_defs {\n    notification_email {\n        root@example.com\n    }\n    \
         lvs_id LVS1\n    foo_unknown 1\n    vrrp_rlimit_rttime 1\n    vrrp_priority 50\n}\n\
         vrrp_instance VI_1 {\n    state SLAVE\n    interface eth0\n    virtual_router_id 51\n    \
         smtp_alert\n    priority 100 200\n    virtual_ipaddress {\n        192.0.2.1/24 frob 1\n    \
         }\n}\n",
    );
    let kinds: Vec<(u32, WarningKind)> = warnings.iter().map(|w| (w.span.line, w.kind)).collect();
    use WarningKind::{Accepted, KeepalivedError};
    assert_eq!(
        kinds,
        [
            (2, Accepted),         // notification_email
            (5, KeepalivedError),  // lvs_id: gone from keepalived 2.2.7
            (6, KeepalivedError),  // foo_unknown
            (7, Accepted),         // vrrp_rlimit_rttime 1
            (8, KeepalivedError),  // vrrp_priority 50
            (11, KeepalivedError), // state SLAVE
            (14, Accepted),        // smtp_alert
            (15, Accepted),        // priority 100 200: keepalived says nothing
            (17, KeepalivedError), // address option frob
            (17, KeepalivedError), // and its '1'
        ],
        "{warnings:#?}"
    );
}
