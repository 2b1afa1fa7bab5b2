//! Builders for unit tests of the core: instance configs without a parser.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::rc::Rc;

use crate::config::{
    Authentication, InitialState, InstanceConfig, Span, VirtualAddress, VrrpVersion,
};

pub const VIP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100));

fn span() -> Span {
    Span {
        file: Rc::new(PathBuf::from("test.conf")),
        line: 1,
    }
}

/// The seed article's instance: VRID 50, 1 s, PASS 1111, VIP 192.0.2.100.
pub fn instance_config(state: InitialState, priority: u8, preempt: bool) -> InstanceConfig {
    let mut password = [0u8; 8];
    password[..4].copy_from_slice(b"1111");
    InstanceConfig {
        vmac: None,
        owner_ignored_track_interfaces: Vec::new(),
        address_vmacs: Vec::new(),
        name: "VI_1".to_string(),
        span: span(),
        initial_state: state,
        interface: "eth0".to_string(),
        interface_span: span(),
        vrid: 50,
        priority,
        version: VrrpVersion::V2,
        advert_int_cs: 100,
        preempt,
        preempt_delay_s: 0,
        mcast_src_ip: None,
        multicast_group: None,
        unicast_src_ip: None,
        unicast_peers: Vec::new(),
        unicast_ttl: None,
        authentication: Some(Authentication::Password(password)),
        virtual_addresses: vec![VirtualAddress {
            addr: VIP,
            prefix_len: 32,
            dev: None,
            label: None,
            scope: None,
            broadcast: None,
            no_track: false,
            advertised: true,
            use_vmac: false,
            peer: None,
            preferred_lft: None,
            flags: 0,
            span: span(),
        }],
        garp_master_delay_s: 5,
        garp_master_repeat: 5,
        garp_master_refresh_s: 0,
        garp_lower_prio_repeat: 5,
        garp_lower_prio_delay_s: 5,
        track_scripts: Vec::new(),
        track_interfaces: Vec::new(),
        track_files: Vec::new(),
        track_processes: Vec::new(),
        notify_priority_changes: false,
        notify: Default::default(),
        virtual_routes: Vec::new(),
        virtual_rules: Vec::new(),
        options: Default::default(),
    }
}

/// The same instance over VRRPv3 at `interval_cs`, no authentication.
pub fn v3_instance_config(priority: u8, preempt: bool, interval_cs: u16) -> InstanceConfig {
    let mut config = instance_config(InitialState::Backup, priority, preempt);
    config.version = VrrpVersion::V3;
    config.advert_int_cs = interval_cs;
    config.authentication = None;
    config
}

/// A VRRPv2 advert with its IPv4 header as Debian's keepalived 2.2.7 sent
/// it: VRID 50, priority 150, PASS 1111, VIP 192.0.2.100, from 192.0.2.11
/// (tests/fixtures/captures/keepalived-2.2.7-v2-advert-and-garp.txt).
pub const KEEPALIVED_PACKET: [u8; 40] = [
    0x45, 0xc0, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0x18, 0x87, 0xc0, 0x00, 0x02, 0x0b,
    0xe0, 0x00, 0x00, 0x12, 0x21, 0x32, 0x96, 0x01, 0x01, 0x01, 0x23, 0x04, 0xc0, 0x00, 0x02, 0x64,
    0x31, 0x31, 0x31, 0x31, 0x00, 0x00, 0x00, 0x00,
];

/// keepalived 2.2.7 with `auth_type AH`, `auth_pass secret12`: the first
/// advert of 192.0.2.11 as master (VRID 51, priority 110, 1 s, VIP
/// 192.0.2.100, sequence 1)
/// (tests/fixtures/captures/keepalived-2.2.7-v2-ah.txt).
pub const KEEPALIVED_AH: [u8; 64] = [
    0x45, 0xc0, 0x00, 0x40, 0x00, 0x01, 0x00, 0x00, 0xff, 0x33, 0x18, 0xac, 0xc0, 0x00, 0x02, 0x0b,
    0xe0, 0x00, 0x00, 0x12, 0x70, 0x04, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x0b, 0x00, 0x00, 0x00, 0x01,
    0x86, 0x6f, 0xcb, 0x22, 0x30, 0x77, 0xba, 0x86, 0x4f, 0x3e, 0x28, 0xf6, 0x21, 0x33, 0x6e, 0x01,
    0x02, 0x01, 0xac, 0x65, 0xc0, 0x00, 0x02, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];

/// The same capture: 192.0.2.12 (priority 120) taking over, its first
/// advert carrying sequence 6 after the other's 5.
pub const KEEPALIVED_AH_TAKING_OVER: [u8; 64] = [
    0x45, 0xc0, 0x00, 0x40, 0x00, 0x01, 0x00, 0x00, 0xff, 0x33, 0x18, 0xab, 0xc0, 0x00, 0x02, 0x0c,
    0xe0, 0x00, 0x00, 0x12, 0x70, 0x04, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x06,
    0x89, 0x57, 0xa5, 0x23, 0x6e, 0xa3, 0x0e, 0xff, 0x9e, 0x4d, 0x0b, 0xed, 0x21, 0x33, 0x78, 0x01,
    0x02, 0x01, 0xa2, 0x65, 0xc0, 0x00, 0x02, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];
