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
        unicast_src_ip: None,
        unicast_peers: Vec::new(),
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
            span: span(),
        }],
        garp_master_delay_s: 5,
        garp_master_repeat: 5,
        garp_master_refresh_s: 0,
        garp_lower_prio_repeat: 5,
        garp_lower_prio_delay_s: 5,
        track_scripts: Vec::new(),
        track_interfaces: Vec::new(),
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
