//! The command line as an init script or an admin uses it: `-t` checks a
//! config and says what is wrong with file and line; `--version`. No root
//! needed (`-t` runs in a network namespace of its own, made in a user
//! namespace: see tests/with_interfaces.sh).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn keepvip_path() -> String {
    std::env::var("KEEPVIP_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_keepvip").to_string())
}

fn keepvip() -> Command {
    Command::new(keepvip_path())
}

/// A scratch directory of this test's own, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("keepvip-cli-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// `keepvip -t -f CONFIG` where an `eth0` exists, whatever the host's own
/// interfaces are called: `-t` refuses an interface the machine lacks.
fn check(config: &Path) -> Output {
    Command::new("sh")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/with_interfaces.sh"
        ))
        .arg("eth0")
        .arg(keepvip_path())
        .args(["-t", "-f"])
        .arg(config)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const INSTANCE: &str = "vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 50
    priority 150
    virtual_ipaddress {
        192.0.2.100
    }
";

#[test]
fn version_is_printed() {
    let output = keepvip().arg("--version").output().unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("keepvip "));
}

#[test]
fn seed_configs_pass_the_check() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed");
    for name in [
        "article_preempt_master.conf",
        "article_preempt_backup.conf",
        "article_nopreempt_lb01.conf",
        "article_nopreempt_lb02.conf",
    ] {
        let output = check(&fixtures.join(name));
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("vrrp_instance VI_1"), "{name}: {stdout}");
        assert!(
            stdout.contains("virtual_ipaddress 192.0.2.3/32"),
            "{name}: {stdout}"
        );
    }
}

#[test]
fn track_script_naming_no_vrrp_script_is_rejected_with_file_and_line() {
    let scratch = Scratch::new("track");
    let config = scratch.write(
        "r1.conf",
        &format!("{INSTANCE}    track_script {{\n        chk_nginx\n    }}\n}}\n"),
    );
    let output = check(&config);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.contains(&format!(
            "{}:9: track_script: no vrrp_script named \"chk_nginx\"",
            config.display()
        )),
        "{text}"
    );
}

#[test]
fn missing_check_script_is_an_error_at_check_time() {
    let scratch = Scratch::new("missing");
    let config = scratch.write(
        "r1.conf",
        &format!(
            "vrrp_script chk {{\n    script \"{}/nope.sh\"\n}}\n{INSTANCE}    track_script {{\n        chk\n    }}\n}}\n",
            scratch.0.display()
        ),
    );
    let output = check(&config);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("nope.sh does not exist"),
        "{}",
        stderr(&output)
    );

    // Once the script exists and is executable, the same config passes.
    let script = scratch.write("nope.sh", "#!/bin/sh\nexit 0\n");
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let output = check(&config);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("track_script chk weight 0"));
}

#[test]
fn a_wrong_value_names_file_line_and_what_was_expected() {
    let scratch = Scratch::new("value");
    let text = INSTANCE.replace("priority 150", "priority 300") + "}\n";
    let config = scratch.write("r1.conf", &text);
    let output = check(&config);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains(&format!(
            "{}:4: priority: expected an integer 1..255, found \"300\"",
            config.display()
        )),
        "{}",
        stderr(&output)
    );
}

#[test]
fn unknown_keywords_are_warnings_not_errors() {
    let scratch = Scratch::new("unknown");
    let config = scratch.write(
        "r1.conf",
        &format!(
            "virtual_server 192.0.2.1 80 {{\n    lb_algo rr\n}}\n{INSTANCE}    smtp_alert\n}}\n"
        ),
    );
    let output = check(&config);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(text.contains(&format!("{}:1:", config.display())), "{text}");
    assert!(text.contains("virtual_server"), "{text}");
    assert!(text.contains("smtp_alert"), "{text}");
}

#[test]
fn explain_the_article_literal_example() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed");
    let output = keepvip()
        .arg("explain")
        .arg(fixtures.join("article_nopreempt_lb01.conf"))
        .arg(fixtures.join("article_nopreempt_lb02.conf"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("article_nopreempt_lb01 takes back the VIP: priority 150 > 100 and article_nopreempt_lb01 preempts"),
        "{text}"
    );
    assert!(
        text.contains(
            "article_nopreempt_lb02.conf:5: warning: VRID 50: nopreempt on article_nopreempt_lb02"
        ),
        "{text}"
    );
}

#[test]
fn explain_exits_non_zero_on_a_certain_split_brain() {
    let scratch = Scratch::new("explain");
    let body = |password: &str| {
        format!(
            "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 50\n priority 100\n \
             authentication {{\n  auth_type PASS\n  auth_pass {password}\n }}\n virtual_ipaddress {{\n  192.0.2.3\n }}\n}}\n"
        )
    };
    let r1 = scratch.write("r1.conf", &body("1111"));
    let r2 = scratch.write("r2.conf", &body("2222"));
    let output = keepvip()
        .arg("explain")
        .arg("--json")
        .arg(&r1)
        .arg(&r2)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let json = String::from_utf8_lossy(&output.stdout);
    assert!(json.contains("\"severity\":\"error\""), "{json}");
    assert!(json.ends_with("\"errors\":true}\n"), "{json}");
    let bad = scratch.write("r3.conf", "vrrp_instance {\n");
    let output = keepvip()
        .arg("explain")
        .arg(&r1)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

/// keepalived 2.2.7 refuses an instance on an interface that does not
/// exist, naming the line, unless `global_defs { dynamic_interfaces }`
/// says it will appear later: then the config loads, with a warning.
#[test]
fn a_missing_interface_is_an_error_unless_interfaces_are_dynamic() {
    let scratch = Scratch::new("no-interface");
    let body = INSTANCE.replace("interface eth0", "interface kvnone0") + "}\n";
    let config = scratch.write("r1.conf", &body);
    let output = check(&config);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.contains(&format!(
            "{}:2: interface kvnone0 for vrrp_instance VI_1 doesn't exist",
            config.display()
        )),
        "{text}"
    );
    assert!(
        text.contains("Non-existent interface specified in configuration"),
        "{text}"
    );

    let config = scratch.write(
        "r2.conf",
        &format!("global_defs {{\n    dynamic_interfaces\n}}\n{body}"),
    );
    let output = check(&config);
    let text = stderr(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains(&format!(
            "{}:5: interface kvnone0 for vrrp_instance VI_1 doesn't exist",
            config.display()
        )) && text.contains("dynamic_interfaces"),
        "{text}"
    );
}

/// keepalived 2.2.7 refuses a `track_interface` naming an interface that
/// does not exist, at -t and at start alike ("(VI_1) tracked interface
/// kvnone1 doesn't exist", "Non-existent interface specified in
/// configuration", exit 2 at start); with `dynamic_interfaces` it runs,
/// the instance in FAULT until the interface appears. keepvip does the
/// same (the FAULT half: tests/tracking.rs).
#[test]
fn a_missing_tracked_interface_is_an_error_unless_interfaces_are_dynamic() {
    let scratch = Scratch::new("no-tracked-interface");
    let body = format!(
        "{INSTANCE}    track_interface {{\n        eth0\n        kvnone1 weight -10\n    }}\n}}\n"
    );
    let config = scratch.write("r1.conf", &body);
    let expected = format!(
        "{}:10: (VI_1) tracked interface kvnone1 doesn't exist",
        config.display()
    );
    let output = check(&config);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains(&expected), "{text}");
    assert!(
        text.contains("Non-existent interface specified in configuration"),
        "{text}"
    );
    // The daemon refuses it too, before it starts anything.
    let scratch_path = scratch.0.display().to_string();
    let output = Command::new("timeout")
        .arg("10")
        .arg("sh")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/with_interfaces.sh"
        ))
        .arg("eth0")
        .arg(keepvip_path())
        .args(["-n", "-l", "-D", "-f"])
        .arg(&config)
        .args(["-p", &format!("{scratch_path}/daemon.pid")])
        .args(["--status-socket", &format!("{scratch_path}/status.sock")])
        .output()
        .unwrap();
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains(&expected), "{text}");

    let config = scratch.write(
        "r2.conf",
        &format!("global_defs {{\n    dynamic_interfaces\n}}\n{body}"),
    );
    let output = check(&config);
    let text = stderr(&output);
    // It loads; keepalived 2.2.7's -t exits 5 for it all the same, for
    // "(VI_1) Ignoring track_interface eth0 since own interface".
    assert_eq!(
        output.status.code(),
        Some(KEEPALIVED_CONFIG_ERROR),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{}:13: (VI_1) tracked interface kvnone1 doesn't exist",
            config.display()
        )) && text.contains("dynamic_interfaces"),
        "{text}"
    );
}

/// The address owner (priority 255) ignores a weighted `track_interface`
/// line, but keepalived 2.2.7 still refuses it when its interface does not
/// exist (-t: exit 5, start: exit 2, "(VI_1) tracked interface kvnone6
/// doesn't exist", "Non-existent interface specified in configuration";
/// watched): so does keepvip, which used to drop the line first.
#[test]
fn an_owners_weighted_track_interface_must_exist_as_keepalived() {
    let scratch = Scratch::new("owner-tracked-interface");
    let config = scratch.write(
        "r1.conf",
        "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 50\n    priority 255\n    \
         virtual_ipaddress {\n        192.0.2.100\n    }\n    \
         track_interface {\n        kvnone6 weight 10\n    }\n}\n",
    );
    let output = check(&config);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    for expected in [
        format!(
            "{}:9: (VI_1) tracked interface kvnone6 doesn't exist",
            config.display()
        ),
        "Non-existent interface specified in configuration".to_string(),
    ] {
        assert!(text.contains(&expected), "{expected}: {text}");
    }
}

/// keepalived 2.2.7 refuses an address, route or rule on an interface that
/// does not exist, in an instance or at the top level ("WARNING -
/// interface kvnone2 for ip address 198.51.100.5/24 doesn't exist", "...
/// for VROUTE nexthop ...", "... for rule ...", then "Non-existent
/// interface specified in configuration"), `no_track` or not. The VMAC
/// interface keepvip makes itself (`use_vmac`) is no such interface.
#[test]
fn addresses_routes_and_rules_on_missing_interfaces_are_errors_as_keepalived() {
    let scratch = Scratch::new("no-dev-interface");
    let config = scratch.write(
        "r1.conf",
        "static_routes {\n    198.51.100.0/26 dev kvnone3\n}\n\
         vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 50\n    \
         virtual_ipaddress {\n        192.0.2.100\n        198.51.100.5/24 dev kvnone2 no_track\n    \
         }\n    virtual_rules {\n        from all iif kvnone4 table 100 priority 5\n    }\n}\n",
    );
    let output = check(&config);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    let path = config.display();
    for expected in [
        format!("{path}:2: interface kvnone3 for VROUTE nexthop doesn't exist"),
        format!("{path}:9: interface kvnone2 for ip address 198.51.100.5/24 doesn't exist"),
        format!("{path}:12: interface kvnone4 for rule doesn't exist"),
        "Non-existent interface specified in configuration".to_string(),
    ] {
        assert!(text.contains(&expected), "{expected}: {text}");
    }

    let config = scratch.write("r2.conf", &format!("{INSTANCE}    use_vmac\n}}\n"));
    let output = check(&config);
    assert!(output.status.success(), "{}", stderr(&output));

    // An address's own VMAC (`use_vmac` on its line) is made by keepvip
    // too: its name is no missing interface.
    let config = scratch.write(
        "r3.conf",
        "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 50\n    \
         virtual_ipaddress {\n        192.0.2.100\n        198.51.100.5/24 use_vmac\n    }\n}\n",
    );
    let output = check(&config);
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn commands_are_shown_with_their_quoting_as_they_will_run() {
    let scratch = Scratch::new("quoting");
    let config = scratch.write(
        "r1.conf",
        &format!(
            "vrrp_script chk {{\n    script \"/bin/sh -c 'exit 0'\"\n}}\n{INSTANCE}    \
             track_script {{\n        chk\n    }}\n    notify_master \"/bin/echo 'it is' plain\"\n}}\n"
        ),
    );
    let output = check(&config);
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("\n  script /bin/sh -c 'exit 0'\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n  notify_master /bin/echo 'it is' plain\n"),
        "{stdout}"
    );
}

#[test]
fn config_id_selects_the_conditional_lines() {
    let scratch = Scratch::new("config-id");
    let config = scratch.write(
        "r.conf",
        "@lb1 $PRI=150\n@^lb1 $PRI=100\nvrrp_instance VI_1 {\n    interface eth0\n    \
         virtual_router_id 50\n    priority $PRI\n    virtual_ipaddress {\n        \
         ~SEQ(N, 1, 2) 192.0.2.${N}\n    }\n}\n",
    );
    let check_as = |id: &str| {
        let output = Command::new("sh")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/with_interfaces.sh"
            ))
            .arg("eth0")
            .arg(keepvip_path())
            .args(["-t", "-i", id, "-f"])
            .arg(&config)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let lb1 = check_as("lb1");
    let lb2 = check_as("lb2");
    assert!(lb1.contains("vrid 50 priority 150\n"), "{lb1}");
    assert!(lb2.contains("vrid 50 priority 100\n"), "{lb2}");
    assert!(lb1.contains("virtual_ipaddress 192.0.2.2/32\n"), "{lb1}");
    // The digest line differs: it covers the config as this router reads it.
    assert_ne!(lb1.lines().next(), lb2.lines().next());
}

#[test]
fn an_instance_without_addresses_loads_with_keepalived_warning() {
    let scratch = Scratch::new("novip");
    let config = scratch.write(
        "r1.conf",
        "vrrp_instance CLOUD {\n    state SLAVE\n    interface eth0\n    virtual_router_id 9\n}\n",
    );
    let output = check(&config);
    // Both warnings are config errors to keepalived 2.2.7: its -t exits 5.
    assert_eq!(
        output.status.code(),
        Some(KEEPALIVED_CONFIG_ERROR),
        "{}",
        stderr(&output)
    );
    let log = stderr(&output);
    assert!(
        log.contains("(CLOUD) unknown state 'SLAVE', defaulting to BACKUP"),
        "{log}"
    );
    assert!(
        log.contains("(CLOUD) No VIP specified; at least one is sensible"),
        "{log}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("\n  virtual_ipaddress none: the adverts carry no address\n"),
        "{stdout}"
    );
}

/// `-t` shows the announcement spacing, `garp_extra_if` and a multipath
/// route's paths as keepvip will run them.
#[test]
fn announcement_spacing_extra_interfaces_and_multipath_are_shown() {
    let scratch = Scratch::new("garp");
    let config = scratch.write(
        "r1.conf",
        &format!(
            "global_defs {{\n    vrrp_garp_interval 0.05\n    vrrp_garp_extra_if all 60\n}}\n\
             {INSTANCE}    virtual_routes {{\n        203.0.113.0/26 nexthop via 192.0.2.2 \
             dev eth0 weight 2 nexthop via 192.0.2.3\n    }}\n}}\n"
        ),
    );
    let output = check(&config);
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    for shown in [
        "vrrp_garp_interval 0.050000s vrrp_gna_interval 0.000000s",
        "  garp_extra_if all 60s: one announcement on each interface other than its own",
        "nexthop via 192.0.2.2 dev eth0 weight 2 nexthop via 192.0.2.3 weight 1",
    ] {
        assert!(stdout.contains(shown), "{shown:?} not in {stdout}");
    }
}

/// `keepalived -t`'s exit status (2.2.7) for a config it reports errors
/// in but would still run: init scripts and Ansible's `validate:` read it.
const KEEPALIVED_CONFIG_ERROR: i32 = 5;

/// `-t` on `text` exits as keepalived 2.2.7's does for it (watched in a
/// namespace with an eth0), after printing the config and `warning`.
fn check_fails_as_keepalived(tag: &str, text: &str, warning: &str) {
    let scratch = Scratch::new(tag);
    let config = scratch.write("r1.conf", text);
    let output = check(&config);
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(KEEPALIVED_CONFIG_ERROR), "{log}");
    assert!(log.contains(warning), "{warning:?} not in {log}");
    assert!(
        log.contains("config errors to keepalived 2.2.7"),
        "no summary in {log}"
    );
    // What would run is still shown: the rest of the config is sound.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("vrrp_instance VI_1"), "{stdout}");
}

/// keepalived: "Unknown keyword 'foo_unknown'", exit 5; 0 without it.
#[test]
fn an_unknown_keyword_fails_the_check_as_keepalived() {
    check_fails_as_keepalived(
        "unknown-keyword",
        &format!("global_defs {{\n    foo_unknown 1\n}}\n{INSTANCE}}}\n"),
        "unknown/unsupported keyword 'foo_unknown'",
    );
}

/// keepalived 2.2.7 no longer knows `lvs_id` ("Unknown keyword", exit 5),
/// though old configs still carry it.
#[test]
fn lvs_id_fails_the_check_as_keepalived_2_2_7() {
    check_fails_as_keepalived(
        "lvs-id",
        &format!("global_defs {{\n    lvs_id LVS1\n}}\n{INSTANCE}}}\n"),
        "'lvs_id'",
    );
}

/// keepalived: "unknown route keyword frobnicate", exit 5; the route is
/// dropped and the rest runs.
#[test]
fn a_route_with_an_unknown_word_fails_the_check_as_keepalived() {
    check_fails_as_keepalived(
        "route-word",
        &format!(
            "{INSTANCE}    virtual_routes {{\n        198.51.100.0/24 via 192.0.2.1 \
             frobnicate 3\n    }}\n}}\n"
        ),
        "unknown route keyword 'frobnicate'",
    );
}

/// keepalived: "Unknown configuration entry 'frob' for ip address -
/// ignoring", exit 5.
#[test]
fn an_address_with_an_unknown_option_fails_the_check_as_keepalived() {
    check_fails_as_keepalived(
        "address-option",
        &format!(
            "{INSTANCE}    virtual_ipaddress_excluded {{\n        192.0.2.101/24 frob 1\n    }}\n}}\n"
        ),
        "unknown option 'frob'",
    );
}

/// keepalived: "vrrp instance VI_1 already defined", exit 5.
#[test]
fn a_duplicate_instance_name_fails_the_check_as_keepalived() {
    let second = INSTANCE.replace("virtual_router_id 50", "virtual_router_id 51");
    check_fails_as_keepalived(
        "duplicate-instance",
        &format!("{INSTANCE}}}\n{second}}}\n"),
        "vrrp_instance VI_1: already defined",
    );
}

/// keepalived: "(VI_1) unknown authentication type 'FOO'", exit 5.
#[test]
fn an_unknown_auth_type_fails_the_check_as_keepalived() {
    check_fails_as_keepalived(
        "auth-type",
        &format!(
            "{INSTANCE}    authentication {{\n        auth_type FOO\n        auth_pass secret\n    \
             }}\n}}\n"
        ),
        "unknown auth_type 'FOO'",
    );
}

/// keepalived: "No script set for vrrp_script chk - removing", exit 5.
#[test]
fn a_vrrp_script_without_script_fails_the_check_as_keepalived() {
    check_fails_as_keepalived(
        "no-script",
        &format!("vrrp_script chk {{\n    interval 2\n}}\n{INSTANCE}}}\n"),
        "vrrp_script chk: no 'script' line",
    );
}

/// keepalived: "(VI_2) VRRP instance VI_1 is already using vmx - ignoring
/// name", exit 5.
#[test]
fn a_vmac_name_used_twice_fails_the_check_as_keepalived() {
    let second = INSTANCE
        .replace("VI_1", "VI_2")
        .replace("virtual_router_id 50", "virtual_router_id 51")
        .replace("192.0.2.100", "192.0.2.101");
    check_fails_as_keepalived(
        "vmac-twice",
        &format!("{INSTANCE}    use_vmac vmx\n}}\n{second}    use_vmac vmx\n}}\n"),
        "(VI_2) VRRP instance VI_1 is already using vmx - ignoring name",
    );
}

/// Alerting and LVS keywords keepalived implements and keepvip ignores:
/// keepalived -t exits 0 for them, and so must keepvip. (keepvip does not
/// read inside an LVS block: keepalived's -t also exits 5 for one without
/// `protocol` or `lb_kind`, "no protocol set - defaulting to UDP", and
/// keepvip's passes.)
#[test]
fn alerting_and_lvs_keywords_pass_the_check_as_keepalived() {
    let scratch = Scratch::new("alerting");
    let config = scratch.write(
        "r1.conf",
        &format!(
            "global_defs {{\n    notification_email {{\n        root@example.com\n    }}\n    \
             notification_email_from kv@example.com\n    smtp_server 192.0.2.5\n    \
             smtp_connect_timeout 30\n    enable_snmp_vrrp\n    lvs_flush\n}}\n\
             virtual_server 192.0.2.100 80 {{\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    \
             real_server 192.0.2.20 80 {{\n        weight 1\n    }}\n}}\n{INSTANCE}    smtp_alert\n}}\n"
        ),
    );
    let output = check(&config);
    let log = stderr(&output);
    assert!(output.status.success(), "{log}");
    assert!(log.contains("notification_email"), "{log}");
}

/// keepalived 2.2.7 refuses a loopback interface for VRRP: "(VI_1) cannot
/// use a loopback interface (lo) for vrrp - ignoring", "(VI_1) Unknown
/// interface!"; -t exits 5 and a start stops the whole daemon ("exited
/// with permanent error CONFIG"), its other instances too.
#[test]
fn a_loopback_interface_is_refused_as_keepalived() {
    let scratch = Scratch::new("loopback");
    let config = scratch.write(
        "r1.conf",
        &(INSTANCE.replace("interface eth0", "interface lo") + "}\n"),
    );
    let output = check(&config);
    let log = stderr(&output);
    assert!(!output.status.success(), "{log}");
    assert!(
        log.contains(&format!(
            "{}:2: (VI_1) cannot use a loopback interface (lo) for vrrp",
            config.display()
        )),
        "{log}"
    );
}
