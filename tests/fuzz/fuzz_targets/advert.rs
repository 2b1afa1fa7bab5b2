//! Any bytes, as a raw IPv4 socket would hand them over: the packet decoder
//! must return a verdict, never panic, and what it accepts must survive a
//! round trip through the encoder.
#![no_main]

use std::net::{Ipv4Addr, Ipv6Addr};

use keepvip::vrrp::advert::{Advert, Endpoints};
use keepvip::vrrp::discard::{decode_packet, RawPacket};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // As a raw IPv4 socket hands it over, as an IPv6 payload with the
    // header fields the socket reports, and as a bare VRRP message of
    // either family: a verdict each time, never a panic, and what is
    // accepted survives a round trip through the encoder.
    let _ = decode_packet(RawPacket::Ipv4(data));
    let _ = decode_packet(RawPacket::Ipv6 {
        payload: data,
        source: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
        destination: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12),
        hop_limit: 255,
    });
    let v4 = Endpoints {
        source: Ipv4Addr::new(192, 0, 2, 11).into(),
        destination: Ipv4Addr::new(224, 0, 0, 18).into(),
    };
    let v6 = Endpoints {
        source: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1).into(),
        destination: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12).into(),
    };
    for ends in [&v4, &v6] {
        if let Ok(advert) = Advert::parse(data, ends) {
            assert_eq!(Advert::parse(&advert.to_bytes(ends), ends), Ok(advert));
        }
    }
});
