//! Why a received packet was dropped, and the decoding of a raw packet up to
//! the point where it can be handed to an instance.
//!
//! Every reason has its own counter: a malformed packet is counted and
//! dropped, never a panic, and never a log line each (a flood would turn the
//! log into the bottleneck).

use std::fmt;
use std::net::Ipv4Addr;

use super::advert::{Advert, AdvertError};
use super::ipv4::{Ipv4Error, Ipv4Header, PROTOCOL_VRRP, VRRP_TTL};

/// The reasons a packet does not reach, or is refused by, an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Discard {
    MalformedIp,
    NotVrrp,
    BadTtl,
    Truncated,
    BadLength,
    BadVersion,
    BadType,
    BadChecksum,
    ZeroInterval,
    UnknownVrid,
    /// The advert's auth type is not the one we are configured with.
    AuthTypeMismatch,
    /// Right auth type, wrong password.
    BadPassword,
    /// VRRPv2 requires all routers of a VRID to use the same interval.
    IntervalMismatch,
    /// Our own advert, looped back.
    OwnAdvert,
}

impl Discard {
    /// Every reason, for the statistics table.
    pub const ALL: [Discard; 14] = [
        Discard::MalformedIp,
        Discard::NotVrrp,
        Discard::BadTtl,
        Discard::Truncated,
        Discard::BadLength,
        Discard::BadVersion,
        Discard::BadType,
        Discard::BadChecksum,
        Discard::ZeroInterval,
        Discard::UnknownVrid,
        Discard::AuthTypeMismatch,
        Discard::BadPassword,
        Discard::IntervalMismatch,
        Discard::OwnAdvert,
    ];

    /// A stable name for logs and statistics files.
    pub fn name(self) -> &'static str {
        match self {
            Discard::MalformedIp => "malformed_ip",
            Discard::NotVrrp => "not_vrrp",
            Discard::BadTtl => "bad_ttl",
            Discard::Truncated => "truncated",
            Discard::BadLength => "bad_length",
            Discard::BadVersion => "bad_version",
            Discard::BadType => "bad_type",
            Discard::BadChecksum => "bad_checksum",
            Discard::ZeroInterval => "zero_interval",
            Discard::UnknownVrid => "unknown_vrid",
            Discard::AuthTypeMismatch => "auth_type_mismatch",
            Discard::BadPassword => "bad_password",
            Discard::IntervalMismatch => "interval_mismatch",
            Discard::OwnAdvert => "own_advert",
        }
    }

    pub fn index(self) -> usize {
        Discard::ALL.iter().position(|d| *d == self).unwrap_or(0)
    }
}

impl fmt::Display for Discard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<AdvertError> for Discard {
    fn from(error: AdvertError) -> Discard {
        match error {
            AdvertError::Truncated => Discard::Truncated,
            AdvertError::TrailingBytes => Discard::BadLength,
            AdvertError::UnsupportedVersion(_) => Discard::BadVersion,
            AdvertError::UnknownType(_) => Discard::BadType,
            AdvertError::BadChecksum => Discard::BadChecksum,
            AdvertError::ZeroInterval => Discard::ZeroInterval,
        }
    }
}

impl From<Ipv4Error> for Discard {
    fn from(_: Ipv4Error) -> Discard {
        Discard::MalformedIp
    }
}

/// An advert that passed the checks every instance shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedAdvert {
    pub source: Ipv4Addr,
    pub advert: Advert,
}

/// Decodes what a raw IPv4 socket delivered: IP header, protocol, TTL 255,
/// then the advert itself.
pub fn decode_packet(bytes: &[u8]) -> Result<ReceivedAdvert, Discard> {
    let header = Ipv4Header::parse(bytes)?;
    if header.protocol != PROTOCOL_VRRP {
        return Err(Discard::NotVrrp);
    }
    // Checked before the payload: a packet from off-link is dropped however
    // well formed it is (RFC 3768 section 7.1).
    if header.ttl != VRRP_TTL {
        return Err(Discard::BadTtl);
    }
    let advert = Advert::parse(&bytes[header.payload])?;
    Ok(ReceivedAdvert {
        source: header.source,
        advert,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEEPALIVED_PACKET: [u8; 40] = [
        0x45, 0xc0, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0x18, 0x87, 0xc0, 0x00, 0x02,
        0x0b, 0xe0, 0x00, 0x00, 0x12, 0x21, 0x32, 0x96, 0x01, 0x01, 0x01, 0x23, 0x04, 0xc0, 0x00,
        0x02, 0x64, 0x31, 0x31, 0x31, 0x31, 0x00, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn decodes_keepalived_packet() {
        let received = decode_packet(&KEEPALIVED_PACKET).unwrap();
        assert_eq!(received.source, Ipv4Addr::new(192, 0, 2, 11));
        assert_eq!(received.advert.vrid, 50);
        assert_eq!(received.advert.priority, 150);
    }

    #[test]
    fn drops_ttl_other_than_255() {
        let mut packet = KEEPALIVED_PACKET;
        packet[8] = 64;
        assert_eq!(decode_packet(&packet), Err(Discard::BadTtl));
    }

    #[test]
    fn drops_other_protocols_and_bad_payloads() {
        let mut packet = KEEPALIVED_PACKET;
        packet[9] = 17;
        assert_eq!(decode_packet(&packet), Err(Discard::NotVrrp));
        let mut packet = KEEPALIVED_PACKET;
        packet[30] ^= 0xff;
        assert_eq!(decode_packet(&packet), Err(Discard::BadChecksum));
        assert_eq!(
            decode_packet(&KEEPALIVED_PACKET[..10]),
            Err(Discard::MalformedIp)
        );
    }

    #[test]
    fn every_reason_has_its_own_index() {
        for (i, reason) in Discard::ALL.iter().enumerate() {
            assert_eq!(reason.index(), i);
        }
    }
}
