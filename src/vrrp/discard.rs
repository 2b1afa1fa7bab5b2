//! Why a received packet was dropped, and the decoding of a raw packet up to
//! the point where it can be handed to an instance.
//!
//! Every reason has its own counter: a malformed packet is counted and
//! dropped, never a panic, and never a log line each (a flood would turn the
//! log into the bottleneck).

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use super::advert::{Advert, AdvertError, Endpoints, MAX_ADVERT_LEN};
use super::ah::{AhError, AhHeader, AH_LEN, PROTOCOL_AH};
use super::ipv4::{Ipv4Error, Ipv4Header, MAX_HEADER_LEN, PROTOCOL_VRRP, VRRP_TTL};

/// The longest datagram a VRRP socket can legally deliver: the longest
/// advert (255 IPv6 addresses) behind the longest IPv4 header, which is
/// more than either family needs. Anything longer is not VRRP.
pub const MAX_RAW_PACKET_LEN: usize = MAX_HEADER_LEN + MAX_ADVERT_LEN;

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
    /// Right auth type, wrong password (AH: an ICV that does not match, or
    /// an SPI that is not the sender's address).
    BadPassword,
    /// AH: a sequence number at or below the last one sent or accepted
    /// (keepalived: "already processed").
    OldSequence,
    /// VRRPv2 requires all routers of a VRID to use the same interval.
    IntervalMismatch,
    /// Our own advert, looped back.
    OwnAdvert,
    /// The instance has unicast peers and the source is none of them.
    UnknownPeer,
    /// The instance has no unicast peers and the advert was not sent to
    /// its group: it may come from anywhere that routes to us, or belong
    /// to routers of another group.
    NotToGroup,
    /// Longer than [`MAX_RAW_PACKET_LEN`]: lost by the read, not VRRP.
    Oversized,
}

impl Discard {
    /// Every reason, for the statistics table.
    pub const ALL: [Discard; 18] = [
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
        Discard::OldSequence,
        Discard::IntervalMismatch,
        Discard::OwnAdvert,
        Discard::UnknownPeer,
        Discard::NotToGroup,
        Discard::Oversized,
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
            Discard::OldSequence => "old_ah_sequence",
            Discard::IntervalMismatch => "interval_mismatch",
            Discard::OwnAdvert => "own_advert",
            Discard::UnknownPeer => "unknown_peer",
            Discard::NotToGroup => "not_to_group",
            Discard::Oversized => "oversized",
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
            AdvertError::UnsupportedVersion(_) | AdvertError::WrongFamily => Discard::BadVersion,
            AdvertError::UnknownType(_) => Discard::BadType,
            AdvertError::BadChecksum => Discard::BadChecksum,
            AdvertError::ZeroInterval => Discard::ZeroInterval,
        }
    }
}

impl From<AhError> for Discard {
    fn from(error: AhError) -> Discard {
        match error {
            AhError::Truncated => Discard::Truncated,
            AhError::NotVrrp => Discard::NotVrrp,
            AhError::WrongSpi | AhError::BadIcv => Discard::BadPassword,
            AhError::OldSequence => Discard::OldSequence,
        }
    }
}

impl From<Ipv4Error> for Discard {
    fn from(_: Ipv4Error) -> Discard {
        Discard::MalformedIp
    }
}

/// A packet as a raw socket delivered it, with what the kernel told about
/// it: an IPv4 socket hands over the IP header too, an IPv6 socket only the
/// payload (the header's fields come from recvmsg).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawPacket<'a> {
    Ipv4(&'a [u8]),
    Ipv6 {
        payload: &'a [u8],
        source: Ipv6Addr,
        destination: Ipv6Addr,
        hop_limit: u8,
    },
}

/// An advert that passed the checks every instance shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedAdvert {
    pub source: IpAddr,
    pub destination: IpAddr,
    pub advert: Advert,
    /// It came in an IP Authentication Header, which only an instance with
    /// `auth_type AH` accepts, and which it checks (see `vrrp::ah`).
    pub in_ah: bool,
}

/// Decodes what a raw socket delivered: IP header (IPv4), protocol, TTL
/// or hop limit 255 for multicast, then the advert itself.
///
/// Unicast adverts are not held to 255: keepalived 2.2.7 sends its IPv6
/// unicast adverts with hop limit 64 (see the captures), and an instance
/// with peers accepts only its listed peers anyway.
pub fn decode_packet(packet: RawPacket<'_>) -> Result<ReceivedAdvert, Discard> {
    let mut in_ah = false;
    let (payload, ends, ttl) = match packet {
        RawPacket::Ipv4(bytes) => {
            let header = Ipv4Header::parse(bytes)?;
            let mut payload = &bytes[header.payload];
            match header.protocol {
                PROTOCOL_VRRP => {}
                PROTOCOL_AH => {
                    AhHeader::parse(payload)?;
                    payload = &payload[AH_LEN..];
                    in_ah = true;
                }
                _ => return Err(Discard::NotVrrp),
            }
            let ends = Endpoints {
                source: header.source.into(),
                destination: header.destination.into(),
            };
            (payload, ends, header.ttl)
        }
        RawPacket::Ipv6 {
            payload,
            source,
            destination,
            hop_limit,
        } => {
            let ends = Endpoints {
                source: source.into(),
                destination: destination.into(),
            };
            (payload, ends, hop_limit)
        }
    };
    // Checked before the payload: a packet from off-link is dropped however
    // well formed it is (RFC 3768 section 7.1, RFC 5798 section 7.1).
    if ends.destination.is_multicast() && ttl != VRRP_TTL {
        return Err(Discard::BadTtl);
    }
    let advert = Advert::parse(payload, &ends)?;
    Ok(ReceivedAdvert {
        source: ends.source,
        destination: ends.destination,
        advert,
        in_ah,
    })
}

/// The delivery check that depends on the instance: one without unicast
/// peers takes only adverts sent to its group (`group`: the RFC's, or the
/// configured one), whose TTL (hop limit) 255 [`decode_packet`] has
/// checked, so that only a router on the link can move it (RFC 3768 and
/// RFC 5798 section 7.1). keepalived 2.2.7 ignores the others too, whatever
/// their TTL, and with a group of its own (`vrrp_mcast_group4`,
/// `mcast_dst_ip`) it ignores adverts of its VRID sent to the RFC's group:
/// a raw socket gets every group the interface joined, so the destination
/// tells them apart. An instance with unicast peers (`group` None) accepts
/// any TTL from a listed peer, as keepalived does (its own IPv6 unicast
/// adverts leave with hop limit 64, and it takes a `unicast_ttl` other than
/// its own).
pub fn check_destination(received: &ReceivedAdvert, group: Option<IpAddr>) -> Result<(), Discard> {
    match group {
        Some(group) if received.destination != group => Err(Discard::NotToGroup),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::vrrp::advert::{AuthType, Version};
    use crate::vrrp::test_support::{KEEPALIVED_AH, KEEPALIVED_PACKET};

    #[test]
    fn decodes_keepalived_packet() {
        let received = decode_packet(RawPacket::Ipv4(&KEEPALIVED_PACKET)).unwrap();
        assert_eq!(received.source, IpAddr::from([192, 0, 2, 11]));
        assert_eq!(received.advert.vrid, 50);
        assert_eq!(received.advert.priority, 150);
    }

    /// The advert inside an Authentication Header is decoded here; its ICV
    /// needs the instance's key, so it is checked later (`vrrp::ah`).
    #[test]
    fn decodes_the_advert_inside_keepalived_ah_packet() {
        let received = decode_packet(RawPacket::Ipv4(&KEEPALIVED_AH)).unwrap();
        assert!(received.in_ah);
        assert_eq!(received.advert.vrid, 51);
        assert_eq!(received.advert.priority, 110);
        assert!(matches!(
            received.advert.version,
            Version::V2 {
                auth_type: AuthType::Ah,
                ..
            }
        ));
        assert!(
            !decode_packet(RawPacket::Ipv4(&KEEPALIVED_PACKET))
                .unwrap()
                .in_ah
        );
        let mut not_vrrp = KEEPALIVED_AH;
        not_vrrp[20] = 17;
        assert_eq!(
            decode_packet(RawPacket::Ipv4(&not_vrrp)),
            Err(Discard::NotVrrp)
        );
        assert_eq!(
            decode_packet(RawPacket::Ipv4(&KEEPALIVED_AH[..40])),
            Err(Discard::MalformedIp)
        );
    }

    #[test]
    fn drops_ttl_other_than_255() {
        let mut packet = KEEPALIVED_PACKET;
        packet[8] = 64;
        assert_eq!(
            decode_packet(RawPacket::Ipv4(&packet)),
            Err(Discard::BadTtl)
        );
    }

    #[test]
    fn drops_other_protocols_and_bad_payloads() {
        let mut packet = KEEPALIVED_PACKET;
        packet[9] = 17;
        assert_eq!(
            decode_packet(RawPacket::Ipv4(&packet)),
            Err(Discard::NotVrrp)
        );
        let mut packet = KEEPALIVED_PACKET;
        packet[30] ^= 0xff;
        assert_eq!(
            decode_packet(RawPacket::Ipv4(&packet)),
            Err(Discard::BadChecksum)
        );
        assert_eq!(
            decode_packet(RawPacket::Ipv4(&KEEPALIVED_PACKET[..10])),
            Err(Discard::MalformedIp)
        );
    }

    /// keepalived's v3 advert for 2001:db8::100 to ff02::12 (captures/).
    const KEEPALIVED_V3_V6: [u8; 24] = [
        0x31, 0x34, 0x96, 0x01, 0x00, 0x64, 0xcb, 0xec, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0x01, 0x00,
    ];

    fn ipv6(destination: &str, hop_limit: u8) -> RawPacket<'static> {
        RawPacket::Ipv6 {
            payload: &KEEPALIVED_V3_V6,
            source: "fe80::b85d:65ff:fe75:22cf".parse().unwrap(),
            destination: destination.parse().unwrap(),
            hop_limit,
        }
    }

    #[test]
    fn decodes_keepalived_ipv6_packet_and_checks_hop_limit() {
        let received = decode_packet(ipv6("ff02::12", 255)).unwrap();
        assert_eq!(received.advert.vrid, 52);
        assert_eq!(decode_packet(ipv6("ff02::12", 254)), Err(Discard::BadTtl));
    }

    #[test]
    fn unicast_is_not_held_to_hop_limit_255() {
        // keepalived sends IPv6 unicast adverts with hop limit 64. The
        // checksum then fails (it was computed for ff02::12), which shows
        // the hop limit check was passed.
        assert_eq!(
            decode_packet(ipv6("2001:db8::12", 64)),
            Err(Discard::BadChecksum)
        );
        let mut packet = KEEPALIVED_PACKET;
        packet[8] = 64;
        // Destination 192.0.2.12 instead of the group: IP checksum is not
        // ours to check, the VRRPv2 checksum does not cover it.
        packet[16..20].copy_from_slice(&[192, 0, 2, 12]);
        assert!(decode_packet(RawPacket::Ipv4(&packet)).is_ok());
    }

    #[test]
    fn a_multicast_instance_takes_only_adverts_sent_to_the_group() {
        let standard: IpAddr = [224, 0, 0, 18].into();
        let mut packet = KEEPALIVED_PACKET;
        packet[16..20].copy_from_slice(&[192, 0, 2, 12]);
        for ttl in [64, 255] {
            packet[8] = ttl;
            let unicast = decode_packet(RawPacket::Ipv4(&packet)).unwrap();
            assert_eq!(
                check_destination(&unicast, Some(standard)),
                Err(Discard::NotToGroup),
                "TTL {ttl}"
            );
            assert_eq!(check_destination(&unicast, None), Ok(()), "TTL {ttl}");
        }
        let group = decode_packet(RawPacket::Ipv4(&KEEPALIVED_PACKET)).unwrap();
        assert_eq!(check_destination(&group, Some(standard)), Ok(()));
        let group6 = decode_packet(ipv6("ff02::12", 255)).unwrap();
        let standard6 = "ff02::12".parse().ok();
        assert_eq!(check_destination(&group6, standard6), Ok(()));
    }

    /// With `vrrp_mcast_group4 224.0.0.99` (or `mcast_dst_ip`), an advert
    /// to 224.0.0.18 belongs to routers of the RFC's group: as keepalived
    /// 2.2.7 does, it is ignored (counted), and the other way round.
    #[test]
    fn an_instance_with_its_own_group_takes_only_adverts_sent_to_it() {
        let custom: IpAddr = [224, 0, 0, 99].into();
        let to_standard = decode_packet(RawPacket::Ipv4(&KEEPALIVED_PACKET)).unwrap();
        assert_eq!(
            check_destination(&to_standard, Some(custom)),
            Err(Discard::NotToGroup)
        );
        let mut packet = KEEPALIVED_PACKET;
        packet[16..20].copy_from_slice(&[224, 0, 0, 99]);
        let to_custom = decode_packet(RawPacket::Ipv4(&packet)).unwrap();
        assert_eq!(check_destination(&to_custom, Some(custom)), Ok(()));
        assert_eq!(
            check_destination(&to_custom, Some([224, 0, 0, 18].into())),
            Err(Discard::NotToGroup)
        );
        // IPv6: the v3 checksum covers the destination, so the advert is
        // encoded for ff02::99.
        let advert = Advert::parse(&KEEPALIVED_V3_V6, &ends6("ff02::12")).unwrap();
        let bytes = advert.to_bytes(&ends6("ff02::99"));
        let received = decode_packet(RawPacket::Ipv6 {
            payload: &bytes,
            source: "fe80::b85d:65ff:fe75:22cf".parse().unwrap(),
            destination: "ff02::99".parse().unwrap(),
            hop_limit: 255,
        })
        .unwrap();
        assert_eq!(
            check_destination(&received, "ff02::99".parse().ok()),
            Ok(())
        );
        assert_eq!(
            check_destination(&received, "ff02::12".parse().ok()),
            Err(Discard::NotToGroup)
        );
    }

    fn ends6(destination: &str) -> Endpoints {
        Endpoints {
            source: "fe80::b85d:65ff:fe75:22cf".parse::<IpAddr>().unwrap(),
            destination: destination.parse().unwrap(),
        }
    }

    #[test]
    fn every_reason_has_its_own_index() {
        for (i, reason) in Discard::ALL.iter().enumerate() {
            assert_eq!(reason.index(), i);
        }
    }
}
