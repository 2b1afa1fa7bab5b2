//! `auth_type AH`: VRRPv2 inside an IP Authentication Header (RFC 2402)
//! with HMAC-MD5-96 (RFC 2085), as keepalived 2.2.7 puts it on the wire.
//!
//! ```text
//! IPv4 header (protocol 51, TOS 0xc0, TTL 255, no options)
//! | Next hdr 112 | Payload len 4 |        Reserved 0             |
//! |        SPI: the sender's IPv4 source address, as it is written |
//! |        Sequence number                                         |
//! |        ICV: HMAC-MD5 truncated to 12 bytes                     |
//! VRRPv2 advert, auth type 2, auth data zero
//! ```
//!
//! What keepalived does, seen in captures and by feeding it crafted packets
//! (tests below use the captured bytes):
//! - The ICV is HMAC-MD5 keyed with the password (auth_pass, at most 8
//!   bytes, zero padded) over the IPv4 header, the AH header and the VRRP
//!   message, with the ICV field zero. In the IP header TOS, flags and
//!   fragment offset and the header checksum count as zero (RFC 2402's
//!   mutable fields); unlike RFC 2402 the TTL is kept (it is 255 anyway),
//!   and so are total length and identification. So the sender has to
//!   write the IP header itself: the ICV covers its identification.
//! - A receiver drops a packet whose SPI is not its source address.
//! - One sequence counter per instance, whoever sends: a received
//!   authenticated advert sets it, each advert sent increments it first. A
//!   sequence number not above the counter is "already processed" and
//!   dropped, from any source. So a new master carries on from the number
//!   its predecessor last sent.

use super::checksum;
use super::ipv4::{Ipv4Header, PROTOCOL_VRRP, VRRP_TTL};
use super::md5::hmac_md5;
use std::net::Ipv4Addr;

/// The IP protocol number of the Authentication Header.
pub const PROTOCOL_AH: u8 = 51;
/// The AH header with a 96-bit ICV.
pub const AH_LEN: usize = 24;
/// The IPv4 header we write (no options).
const IPV4_HEADER_LEN: usize = 20;
/// What wrapping adds in front of a VRRP message.
pub const OVERHEAD: usize = IPV4_HEADER_LEN + AH_LEN;
/// HMAC-MD5-96: the first 12 bytes of the digest.
const ICV_LEN: usize = 12;
/// AH's length field counts 32-bit words, minus 2: (24 / 4) - 2.
const PAYLOAD_LEN_WORDS: u8 = 4;
/// Where the ICV lies within the AH header.
const ICV_AT: usize = 12;
/// keepalived's TOS, "internetwork control", as on plain adverts.
const TOS_INTERNETWORK_CONTROL: u8 = 0xc0;

/// Why an AH packet is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AhError {
    /// Shorter than an IP header and an AH header.
    Truncated,
    /// Not VRRP behind the header, or not a 96-bit ICV.
    NotVrrp,
    /// The SPI is not the sender's address (keepalived's "invalid IPSEC
    /// SPI value").
    WrongSpi,
    /// The ICV does not match: another password, or a changed packet.
    BadIcv,
    /// A sequence number at or below the last one seen or sent.
    OldSequence,
}

/// The instance's sequence counter and the IP identification of its next
/// packet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AhCounters {
    /// The last sequence number sent or accepted.
    pub sequence: u32,
    /// The last IP identification we sent.
    ip_id: u16,
}

impl AhCounters {
    /// Takes a verified packet's sequence number if it is new.
    pub fn accept(&mut self, sequence: u32) -> Result<(), AhError> {
        if sequence <= self.sequence {
            return Err(AhError::OldSequence);
        }
        self.sequence = sequence;
        Ok(())
    }

    /// The sequence number and IP identification of the next packet. The
    /// identification is never 0, which would let the kernel pick another
    /// one after the ICV was computed.
    fn next(&mut self) -> (u32, u16) {
        self.sequence = self.sequence.wrapping_add(1);
        self.ip_id = self.ip_id.checked_add(1).unwrap_or(1);
        (self.sequence, self.ip_id)
    }
}

/// The fields of a received AH header that the daemon needs before it
/// knows the instance (and so the key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AhHeader {
    pub sequence: u32,
}

impl AhHeader {
    /// Parses the AH header at the start of an IP payload.
    pub fn parse(payload: &[u8]) -> Result<AhHeader, AhError> {
        if payload.len() < AH_LEN {
            return Err(AhError::Truncated);
        }
        if payload[0] != PROTOCOL_VRRP || payload[1] != PAYLOAD_LEN_WORDS {
            return Err(AhError::NotVrrp);
        }
        Ok(AhHeader {
            sequence: u32::from_be_bytes([payload[8], payload[9], payload[10], payload[11]]),
        })
    }
}

/// Checks a received IPv4 datagram (header included, as a raw socket gives
/// it) against `key`: SPI, ICV, then the sequence number, which `counters`
/// takes when all are good.
pub fn authenticate(
    datagram: &[u8],
    key: &[u8; 8],
    counters: &mut AhCounters,
) -> Result<(), AhError> {
    let header = Ipv4Header::parse(datagram).map_err(|_| AhError::Truncated)?;
    let payload = &datagram[header.payload.clone()];
    let ah = AhHeader::parse(payload)?;
    if payload[4..8] != header.source.octets() {
        return Err(AhError::WrongSpi);
    }
    let ip_header = &datagram[..header.payload.start];
    let expected = icv(key, ip_header, &payload[..AH_LEN], &payload[AH_LEN..]);
    if !constant_time_eq(&expected, &payload[ICV_AT..AH_LEN]) {
        return Err(AhError::BadIcv);
    }
    counters.accept(ah.sequence)
}

/// The IPv4 datagram for a VRRP message: `buf[OVERHEAD..OVERHEAD +
/// vrrp_len]` holds the message already; the IP and AH headers are written
/// in front of it and the ICV computed. Returns the datagram's length.
pub fn seal(
    buf: &mut [u8],
    vrrp_len: usize,
    source: Ipv4Addr,
    destination: Ipv4Addr,
    key: &[u8; 8],
    counters: &mut AhCounters,
) -> usize {
    let (sequence, ip_id) = counters.next();
    let total = OVERHEAD + vrrp_len;
    let (ip, rest) = buf[..total].split_at_mut(IPV4_HEADER_LEN);
    let (ah, vrrp) = rest.split_at_mut(AH_LEN);
    ip[0] = 0x45;
    ip[1] = 0;
    ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    ip[4..6].copy_from_slice(&ip_id.to_be_bytes());
    ip[6..8].fill(0);
    ip[8] = VRRP_TTL;
    ip[9] = PROTOCOL_AH;
    ip[10..12].fill(0);
    ip[12..16].copy_from_slice(&source.octets());
    ip[16..20].copy_from_slice(&destination.octets());
    ah[0] = PROTOCOL_VRRP;
    ah[1] = PAYLOAD_LEN_WORDS;
    ah[2..4].fill(0);
    ah[4..8].copy_from_slice(&source.octets());
    ah[8..12].copy_from_slice(&sequence.to_be_bytes());
    ah[ICV_AT..].fill(0);
    let code = icv(key, ip, ah, vrrp);
    ah[ICV_AT..].copy_from_slice(&code);
    ip[1] = TOS_INTERNETWORK_CONTROL;
    let sum = checksum::checksum(ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    total
}

/// HMAC-MD5-96 over the packet with the mutable fields zeroed.
fn icv(key: &[u8; 8], ip_header: &[u8], ah: &[u8], vrrp: &[u8]) -> [u8; ICV_LEN] {
    let mut ip = [0u8; 60];
    let ip = &mut ip[..ip_header.len().min(60)];
    ip.copy_from_slice(&ip_header[..ip.len()]);
    // TOS, flags and fragment offset, checksum.
    ip[1] = 0;
    ip[6..8].fill(0);
    ip[10..12].fill(0);
    let mut header = [0u8; AH_LEN];
    header.copy_from_slice(&ah[..AH_LEN]);
    header[ICV_AT..].fill(0);
    let digest = hmac_md5(key, &[ip, &header, vrrp]);
    let mut out = [0u8; ICV_LEN];
    out.copy_from_slice(&digest[..ICV_LEN]);
    out
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vrrp::advert::{Advert, Endpoints};
    use crate::vrrp::test_support::{KEEPALIVED_AH, KEEPALIVED_AH_TAKING_OVER};

    const KEY: &[u8; 8] = b"secret12";

    #[test]
    fn accepts_keepalived_packet_and_takes_its_sequence() {
        let mut counters = AhCounters::default();
        assert_eq!(authenticate(&KEEPALIVED_AH, KEY, &mut counters), Ok(()));
        assert_eq!(counters.sequence, 1);
        // The same packet again is a replay.
        assert_eq!(
            authenticate(&KEEPALIVED_AH, KEY, &mut counters),
            Err(AhError::OldSequence)
        );
    }

    #[test]
    fn refuses_another_password_a_changed_packet_and_a_foreign_spi() {
        let mut counters = AhCounters::default();
        assert_eq!(
            authenticate(&KEEPALIVED_AH, b"secret13", &mut counters),
            Err(AhError::BadIcv)
        );
        let mut changed = KEEPALIVED_AH;
        changed[46] = 200; // priority
        assert_eq!(
            authenticate(&changed, KEY, &mut counters),
            Err(AhError::BadIcv)
        );
        let mut spi = KEEPALIVED_AH;
        spi[27] = 12;
        assert_eq!(
            authenticate(&spi, KEY, &mut counters),
            Err(AhError::WrongSpi)
        );
        let mut next = KEEPALIVED_AH;
        next[20] = 6;
        assert_eq!(
            authenticate(&next, KEY, &mut counters),
            Err(AhError::NotVrrp)
        );
        assert_eq!(
            authenticate(&KEEPALIVED_AH[..40], KEY, &mut counters),
            Err(AhError::Truncated)
        );
        assert_eq!(counters.sequence, 0, "nothing refused moves the counter");
    }

    /// Routers on the way may change TOS and the checksum (and set DF);
    /// keepalived leaves them out of the ICV, as RFC 2402 does.
    #[test]
    fn mutable_fields_do_not_count() {
        let mut moved = KEEPALIVED_AH;
        moved[1] = 0;
        moved[6] = 0x40;
        let sum = {
            moved[10..12].fill(0);
            checksum::checksum(&moved[..20])
        };
        moved[10..12].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(
            authenticate(&moved, KEY, &mut AhCounters::default()),
            Ok(())
        );
    }

    #[test]
    fn seals_keepalived_packet_byte_for_byte() {
        let advert = Advert::parse(
            &KEEPALIVED_AH[OVERHEAD..],
            &Endpoints {
                source: Ipv4Addr::new(192, 0, 2, 11).into(),
                destination: Ipv4Addr::new(224, 0, 0, 18).into(),
            },
        )
        .unwrap();
        let ends = Endpoints {
            source: Ipv4Addr::new(192, 0, 2, 11).into(),
            destination: Ipv4Addr::new(224, 0, 0, 18).into(),
        };
        let mut buf = [0u8; 128];
        let len = advert.emit(&mut buf[OVERHEAD..], &ends);
        let mut counters = AhCounters::default();
        let total = seal(
            &mut buf,
            len,
            Ipv4Addr::new(192, 0, 2, 11),
            Ipv4Addr::new(224, 0, 0, 18),
            KEY,
            &mut counters,
        );
        assert_eq!(&buf[..total], &KEEPALIVED_AH[..]);
        assert_eq!(counters.sequence, 1);
    }

    /// The second router's first advert, sequence 6 after the other's 5:
    /// a backup that heard 5 accepts it, one that heard 6 does not.
    #[test]
    fn the_next_router_carries_on_the_sequence() {
        let mut counters = AhCounters {
            sequence: 5,
            ip_id: 0,
        };
        assert_eq!(
            authenticate(&KEEPALIVED_AH_TAKING_OVER, KEY, &mut counters),
            Ok(())
        );
        assert_eq!(counters.sequence, 6);
        assert_eq!(
            authenticate(&KEEPALIVED_AH_TAKING_OVER, KEY, &mut counters),
            Err(AhError::OldSequence)
        );
    }

    #[test]
    fn a_new_master_carries_on_from_the_last_number() {
        let mut counters = AhCounters::default();
        counters.accept(41).unwrap();
        assert_eq!(counters.next().0, 42);
        assert_eq!(counters.accept(42), Err(AhError::OldSequence));
        assert_eq!(counters.accept(7), Err(AhError::OldSequence));
        assert_eq!(counters.accept(43), Ok(()));
    }

    #[test]
    fn the_ip_identification_skips_zero() {
        let mut counters = AhCounters {
            sequence: 0,
            ip_id: u16::MAX,
        };
        assert_eq!(counters.next().1, 1);
    }
}
