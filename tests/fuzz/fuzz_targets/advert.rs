//! Any bytes, as a raw IPv4 socket would hand them over: the packet decoder
//! must return a verdict, never panic, and what it accepts must survive a
//! round trip through the encoder.
#![no_main]

use keepvip::vrrp::advert::Advert;
use keepvip::vrrp::discard::decode_packet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The whole packet (IP header first) and the bare VRRP message.
    let _ = decode_packet(data);
    if let Ok(advert) = Advert::parse(data) {
        assert_eq!(Advert::parse(&advert.to_bytes()), Ok(advert));
    }
});
