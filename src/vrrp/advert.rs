//! The VRRP advertisement: bytes <-> a typed [`Advert`], checksum included,
//! for both versions of the protocol.
//!
//! VRRPv2 (RFC 3768 section 5.1), IPv4 only:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Auth Type   |   Adver Int   |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         IP Address (1) ...                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                     Authentication Data (1)                   |
//! |                     Authentication Data (2)                   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! VRRPv3 (RFC 5798 section 5.1), IPv4 or IPv6 addresses:
//!
//! ```text
//! |Version| Type  | Virtual Rtr ID|   Priority    |Count IPvX Addr|
//! |(rsvd) |     Max Adver Int     |          Checksum             |
//! |                      IPvX Address(es) ...                     |
//! ```
//!
//! v2's checksum covers the VRRP message only; v3's also covers the IP
//! pseudo-header (source, destination, protocol 112, VRRP length), so the
//! codec takes the two IP addresses as [`Endpoints`] and stays pure.
//! Parsing is strict about the length (the count of addresses decides it
//! exactly) so that a packet that lies about its size is dropped, never
//! read past its end.

use std::fmt;
use std::net::IpAddr;
use std::rc::Rc;

use super::checksum;

/// The VRRP type of an advertisement; the only type there is.
const TYPE_ADVERTISEMENT: u8 = 1;
/// Fixed header before the addresses.
const HEADER_LEN: usize = 8;
/// VRRPv2 always carries 8 bytes of authentication data, even when unused.
const V2_AUTH_DATA_LEN: usize = 8;
/// The longest message [`Advert::emit`] writes: 255 IPv6 addresses (v3),
/// or 255 IPv4 addresses and the auth data (v2), whichever is longer.
pub const MAX_ADVERT_LEN: usize = HEADER_LEN + 255 * 16;
/// The IP protocol number of VRRP, summed into the v3 pseudo-header.
const PROTOCOL_VRRP: u8 = 112;
/// v3's interval field is 12 bits of centiseconds.
pub const V3_MAX_INTERVAL_CS: u16 = 0x0fff;

/// The VRRPv2 authentication type octet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    None,
    /// Type 1: a plain password of up to 8 bytes, zero padded.
    Password,
    /// Type 2: the advert travels in an IP Authentication Header (RFC 2338;
    /// see `vrrp::ah`), and the auth data is zero.
    Ah,
    Unknown(u8),
}

impl AuthType {
    fn from_octet(octet: u8) -> Self {
        match octet {
            0 => AuthType::None,
            1 => AuthType::Password,
            2 => AuthType::Ah,
            other => AuthType::Unknown(other),
        }
    }

    fn octet(self) -> u8 {
        match self {
            AuthType::None => 0,
            AuthType::Password => 1,
            AuthType::Ah => 2,
            AuthType::Unknown(other) => other,
        }
    }
}

/// What differs between the two versions on the wire, beyond the units of
/// the interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// RFC 3768: whole seconds, 8 bytes of authentication data, IPv4 only.
    V2 {
        auth_type: AuthType,
        /// The 8 bytes after the addresses, as received.
        auth_data: [u8; 8],
    },
    /// RFC 5798: centiseconds, no authentication, IPv4 or IPv6.
    V3,
}

impl Version {
    /// The number in the version nibble.
    pub fn number(self) -> u8 {
        match self {
            Version::V2 { .. } => 2,
            Version::V3 => 3,
        }
    }
}

/// A parsed VRRP advertisement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advert {
    pub version: Version,
    pub vrid: u8,
    pub priority: u8,
    /// The advertisement interval in centiseconds. VRRPv2 carries whole
    /// seconds, so there it is always a multiple of 100.
    pub interval_cs: u16,
    /// All of the endpoints' family (the count octet cannot say otherwise).
    /// Shared, so that an instance hands out the advert it sends every
    /// interval without copying its address list each time.
    pub addresses: Rc<[IpAddr]>,
}

/// The IP source and destination of the packet that carries (or will
/// carry) an advert: VRRPv3's checksum covers them, and their family
/// decides the size of the addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints {
    pub source: IpAddr,
    pub destination: IpAddr,
}

impl Endpoints {
    fn is_ipv4(&self) -> bool {
        self.source.is_ipv4()
    }

    fn address_len(&self) -> usize {
        if self.is_ipv4() {
            4
        } else {
            16
        }
    }

    /// The running sum of the pseudo-header for a VRRP message of `len`
    /// bytes: RFC 5798 section 5.2.8 (IPv4: RFC 768's layout; IPv6: RFC
    /// 2460 section 8.1).
    fn pseudo_header_sum(&self, len: usize) -> u32 {
        match (self.source, self.destination) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let mut p = [0u8; 12];
                p[..4].copy_from_slice(&s.octets());
                p[4..8].copy_from_slice(&d.octets());
                p[9] = PROTOCOL_VRRP;
                p[10..12].copy_from_slice(&(len as u16).to_be_bytes());
                checksum::sum(&p, 0)
            }
            (s, d) => {
                let v6 = |a: IpAddr| match a {
                    IpAddr::V6(a) => a.octets(),
                    IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
                };
                let mut p = [0u8; 40];
                p[..16].copy_from_slice(&v6(s));
                p[16..32].copy_from_slice(&v6(d));
                p[32..36].copy_from_slice(&(len as u32).to_be_bytes());
                p[39] = PROTOCOL_VRRP;
                checksum::sum(&p, 0)
            }
        }
    }
}

/// Why a packet is not a well-formed advertisement. Each kind has its own
/// counter in the daemon's statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdvertError {
    /// Shorter than the fixed header, or than its address count says.
    Truncated,
    /// Longer than its address count says.
    TrailingBytes,
    UnsupportedVersion(u8),
    /// A VRRPv2 advert over IPv6, or endpoints of two families.
    WrongFamily,
    UnknownType(u8),
    BadChecksum,
    /// An interval of zero, which no timer can run on.
    ZeroInterval,
}

impl fmt::Display for AdvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdvertError::Truncated => f.write_str("truncated advertisement"),
            AdvertError::TrailingBytes => {
                f.write_str("advertisement longer than its address count")
            }
            AdvertError::UnsupportedVersion(v) => write!(f, "unsupported VRRP version {v}"),
            AdvertError::WrongFamily => f.write_str("VRRPv2 over IPv6 or mixed address families"),
            AdvertError::UnknownType(t) => write!(f, "unknown VRRP packet type {t}"),
            AdvertError::BadChecksum => f.write_str("bad VRRP checksum"),
            AdvertError::ZeroInterval => f.write_str("advertisement interval of zero"),
        }
    }
}

impl Advert {
    /// The addresses that fit the endpoints' family and the count octet.
    fn wire_addresses<'a>(&'a self, ends: &Endpoints) -> impl Iterator<Item = &'a IpAddr> {
        let v4 = ends.is_ipv4();
        self.addresses
            .iter()
            .filter(move |a| a.is_ipv4() == v4)
            .take(255)
    }

    /// The number of bytes [`Advert::emit`] writes.
    pub fn wire_len(&self, ends: &Endpoints) -> usize {
        let auth = match self.version {
            Version::V2 { .. } => V2_AUTH_DATA_LEN,
            Version::V3 => 0,
        };
        HEADER_LEN + ends.address_len() * self.wire_addresses(ends).count() + auth
    }

    /// Parses a VRRP message (the IP payload, without the IP header) that
    /// came from `ends.source` to `ends.destination`.
    pub fn parse(bytes: &[u8], ends: &Endpoints) -> Result<Advert, AdvertError> {
        if bytes.len() < HEADER_LEN {
            return Err(AdvertError::Truncated);
        }
        let version = bytes[0] >> 4;
        if version != 2 && version != 3 {
            return Err(AdvertError::UnsupportedVersion(version));
        }
        if ends.source.is_ipv4() != ends.destination.is_ipv4() || (version == 2 && !ends.is_ipv4())
        {
            return Err(AdvertError::WrongFamily);
        }
        let kind = bytes[0] & 0x0f;
        if kind != TYPE_ADVERTISEMENT {
            return Err(AdvertError::UnknownType(kind));
        }
        let count = usize::from(bytes[3]);
        let address_len = ends.address_len();
        let auth_len = if version == 2 { V2_AUTH_DATA_LEN } else { 0 };
        let expected = HEADER_LEN + address_len * count + auth_len;
        if bytes.len() < expected {
            return Err(AdvertError::Truncated);
        }
        if bytes.len() > expected {
            return Err(AdvertError::TrailingBytes);
        }
        let sum = if version == 2 {
            checksum::checksum(bytes)
        } else {
            checksum::finish(checksum::sum(bytes, ends.pseudo_header_sum(bytes.len())))
        };
        if sum != 0 {
            return Err(AdvertError::BadChecksum);
        }
        let interval_cs = if version == 2 {
            u16::from(bytes[5]) * 100
        } else {
            // The top 4 bits are reserved: ignored on receive (RFC 5798
            // section 5.2.5).
            u16::from_be_bytes([bytes[4], bytes[5]]) & V3_MAX_INTERVAL_CS
        };
        if interval_cs == 0 {
            return Err(AdvertError::ZeroInterval);
        }
        let addresses = bytes[HEADER_LEN..HEADER_LEN + address_len * count]
            .chunks_exact(address_len)
            .map(|a| match <[u8; 4]>::try_from(a) {
                Ok(v4) => IpAddr::from(v4),
                Err(_) => IpAddr::from(<[u8; 16]>::try_from(a).unwrap_or([0; 16])),
            })
            .collect();
        let version = if version == 2 {
            let mut auth_data = [0u8; 8];
            auth_data.copy_from_slice(&bytes[expected - V2_AUTH_DATA_LEN..expected]);
            Version::V2 {
                auth_type: AuthType::from_octet(bytes[4]),
                auth_data,
            }
        } else {
            Version::V3
        };
        Ok(Advert {
            version,
            vrid: bytes[1],
            priority: bytes[2],
            interval_cs,
            addresses,
        })
    }

    /// Writes the message for `ends` into `buf` (which must be at least
    /// [`Advert::wire_len`] long), checksum included, and returns the length.
    ///
    /// Only addresses of the endpoints' family are written, at most 255 (the
    /// count octet); the config layer keeps instances within both limits.
    pub fn emit(&self, buf: &mut [u8], ends: &Endpoints) -> usize {
        let len = self.wire_len(ends);
        let address_len = ends.address_len();
        let buf = &mut buf[..len];
        buf[0] = (self.version.number() << 4) | TYPE_ADVERTISEMENT;
        buf[1] = self.vrid;
        buf[2] = self.priority;
        // wire_addresses keeps the count within the octet.
        buf[3] = self.wire_addresses(ends).count() as u8;
        match self.version {
            Version::V2 {
                auth_type,
                auth_data,
            } => {
                buf[4] = auth_type.octet();
                // Whole seconds on the wire; never 0, which receivers reject.
                buf[5] = (self.interval_cs / 100).clamp(1, 255) as u8;
                buf[len - V2_AUTH_DATA_LEN..].copy_from_slice(&auth_data);
            }
            Version::V3 => {
                let interval = self.interval_cs.clamp(1, V3_MAX_INTERVAL_CS);
                buf[4..6].copy_from_slice(&interval.to_be_bytes());
            }
        }
        buf[6] = 0;
        buf[7] = 0;
        for (slot, addr) in buf[HEADER_LEN..]
            .chunks_exact_mut(address_len)
            .zip(self.wire_addresses(ends))
        {
            match addr {
                IpAddr::V4(a) => slot.copy_from_slice(&a.octets()),
                IpAddr::V6(a) => slot.copy_from_slice(&a.octets()),
            }
        }
        let sum = match self.version {
            Version::V2 { .. } => checksum::checksum(buf),
            Version::V3 => checksum::finish(checksum::sum(buf, ends.pseudo_header_sum(len))),
        };
        buf[6..8].copy_from_slice(&sum.to_be_bytes());
        len
    }

    /// [`Advert::emit`] into a new vector.
    pub fn to_bytes(&self, ends: &Endpoints) -> Vec<u8> {
        let mut buf = vec![0u8; self.wire_len(ends)];
        let len = self.emit(&mut buf, ends);
        buf.truncate(len);
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    // Captured from Debian's keepalived 2.2.7 on a test LAN; the IP headers
    // and the whole capture are in tests/fixtures/captures/.

    /// v2, VRID 50, priority 150, 192.0.2.100, PASS "1111", 1 s, multicast.
    const KEEPALIVED_V2: [u8; 20] = [
        0x21, 0x32, 0x96, 0x01, 0x01, 0x01, 0x23, 0x04, 0xc0, 0x00, 0x02, 0x64, 0x31, 0x31, 0x31,
        0x31, 0x00, 0x00, 0x00, 0x00,
    ];
    /// v2 unicast 192.0.2.11 -> 192.0.2.12, VRID 53, 192.0.2.103.
    const KEEPALIVED_V2_UNICAST: [u8; 20] = [
        0x21, 0x35, 0x96, 0x01, 0x01, 0x01, 0x22, 0xfe, 0xc0, 0x00, 0x02, 0x67, 0x31, 0x31, 0x31,
        0x31, 0x00, 0x00, 0x00, 0x00,
    ];
    /// v3 over IPv4, 192.0.2.11 -> 224.0.0.18, VRID 51, 0.5 s, 192.0.2.101.
    const KEEPALIVED_V3_V4: [u8; 12] = [
        0x31, 0x33, 0x96, 0x01, 0x00, 0x32, 0xd3, 0x98, 0xc0, 0x00, 0x02, 0x65,
    ];
    /// v3 over IPv6, fe80::b85d:65ff:fe75:22cf -> ff02::12, VRID 52, 1 s,
    /// 2001:db8::100.
    const KEEPALIVED_V3_V6: [u8; 24] = [
        0x31, 0x34, 0x96, 0x01, 0x00, 0x64, 0xcb, 0xec, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0x01, 0x00,
    ];
    /// v3 over IPv6 unicast, the same link-local -> 2001:db8::12, VRID 54,
    /// 2001:db8::104.
    const KEEPALIVED_V3_V6_UNICAST: [u8; 24] = [
        0x31, 0x36, 0x96, 0x01, 0x00, 0x64, 0x9d, 0x30, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0x01, 0x04,
    ];

    const KEEPALIVED_LINK_LOCAL: Ipv6Addr =
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0xb85d, 0x65ff, 0xfe75, 0x22cf);

    fn v4(source: [u8; 4], destination: [u8; 4]) -> Endpoints {
        Endpoints {
            source: IpAddr::from(source),
            destination: IpAddr::from(destination),
        }
    }

    fn multicast_v4() -> Endpoints {
        v4([192, 0, 2, 11], [224, 0, 0, 18])
    }

    fn multicast_v6() -> Endpoints {
        Endpoints {
            source: KEEPALIVED_LINK_LOCAL.into(),
            destination: "ff02::12".parse().unwrap(),
        }
    }

    fn password_1111() -> Version {
        let mut auth_data = [0u8; 8];
        auth_data[..4].copy_from_slice(b"1111");
        Version::V2 {
            auth_type: AuthType::Password,
            auth_data,
        }
    }

    fn keepalived_advert() -> Advert {
        Advert {
            version: password_1111(),
            vrid: 50,
            priority: 150,
            interval_cs: 100,
            addresses: vec![Ipv4Addr::new(192, 0, 2, 100).into()].into(),
        }
    }

    fn v3_advert(vrid: u8, interval_cs: u16, address: &str) -> Advert {
        Advert {
            version: Version::V3,
            vrid,
            priority: 150,
            interval_cs,
            addresses: vec![address.parse().unwrap()].into(),
        }
    }

    /// Decodes, re-encodes byte for byte, and checks that the checksum
    /// field is what verification needs (any other value is refused).
    fn round_trip(bytes: &[u8], ends: &Endpoints, want: &Advert) {
        assert_eq!(Advert::parse(bytes, ends).as_ref(), Ok(want));
        assert_eq!(want.to_bytes(ends), bytes.to_vec());
        let mut bad = bytes.to_vec();
        bad[7] ^= 1;
        assert_eq!(Advert::parse(&bad, ends), Err(AdvertError::BadChecksum));
    }

    #[test]
    fn keepalived_v2_multicast_round_trips() {
        round_trip(&KEEPALIVED_V2, &multicast_v4(), &keepalived_advert());
    }

    #[test]
    fn keepalived_v2_unicast_round_trips() {
        let mut want = keepalived_advert();
        want.vrid = 53;
        want.addresses = vec![Ipv4Addr::new(192, 0, 2, 103).into()].into();
        let ends = v4([192, 0, 2, 11], [192, 0, 2, 12]);
        round_trip(&KEEPALIVED_V2_UNICAST, &ends, &want);
    }

    #[test]
    fn keepalived_v3_ipv4_round_trips() {
        let want = v3_advert(51, 50, "192.0.2.101");
        round_trip(&KEEPALIVED_V3_V4, &multicast_v4(), &want);
    }

    #[test]
    fn keepalived_v3_ipv6_round_trips() {
        let want = v3_advert(52, 100, "2001:db8::100");
        round_trip(&KEEPALIVED_V3_V6, &multicast_v6(), &want);
    }

    #[test]
    fn keepalived_v3_ipv6_unicast_round_trips() {
        let want = v3_advert(54, 100, "2001:db8::104");
        let ends = Endpoints {
            source: KEEPALIVED_LINK_LOCAL.into(),
            destination: "2001:db8::12".parse().unwrap(),
        };
        round_trip(&KEEPALIVED_V3_V6_UNICAST, &ends, &want);
    }

    #[test]
    fn v3_checksum_covers_the_pseudo_header() {
        // The same bytes from another source, or to another destination,
        // fail: the checksum is not over the message alone (that would be
        // keepalived's v3_checksum_as_v2, which we do not speak).
        let other_source = v4([192, 0, 2, 12], [224, 0, 0, 18]);
        assert_eq!(
            Advert::parse(&KEEPALIVED_V3_V4, &other_source),
            Err(AdvertError::BadChecksum)
        );
        assert_ne!(checksum::checksum(&KEEPALIVED_V3_V4), 0);
        let mut ends = multicast_v6();
        ends.destination = "ff02::1".parse().unwrap();
        assert_eq!(
            Advert::parse(&KEEPALIVED_V3_V6, &ends),
            Err(AdvertError::BadChecksum)
        );
    }

    #[test]
    fn v3_reserved_bits_are_ignored_and_the_interval_is_12_bits() {
        let mut advert = v3_advert(51, V3_MAX_INTERVAL_CS, "192.0.2.101");
        let mut bytes = advert.to_bytes(&multicast_v4());
        assert_eq!(&bytes[4..6], &[0x0f, 0xff]);
        assert_eq!(Advert::parse(&bytes, &multicast_v4()), Ok(advert.clone()));
        // Set a reserved bit and fix the checksum up: still 40.95 s.
        bytes[4] |= 0x10;
        bytes[6] = 0;
        bytes[7] = 0;
        let sum = checksum::finish(checksum::sum(
            &bytes,
            multicast_v4().pseudo_header_sum(bytes.len()),
        ));
        bytes[6..8].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(Advert::parse(&bytes, &multicast_v4()), Ok(advert.clone()));
        // Out-of-range intervals are clamped on emit, never wrapped.
        advert.interval_cs = 5000;
        assert_eq!(&advert.to_bytes(&multicast_v4())[4..6], &[0x0f, 0xff]);
    }

    #[test]
    fn v2_over_ipv6_and_mixed_families_are_refused() {
        let ends = Endpoints {
            source: KEEPALIVED_LINK_LOCAL.into(),
            destination: "ff02::12".parse().unwrap(),
        };
        assert_eq!(
            Advert::parse(&KEEPALIVED_V2, &ends),
            Err(AdvertError::WrongFamily)
        );
        let mixed = Endpoints {
            source: Ipv4Addr::new(192, 0, 2, 11).into(),
            destination: "ff02::12".parse().unwrap(),
        };
        assert_eq!(
            Advert::parse(&KEEPALIVED_V3_V4, &mixed),
            Err(AdvertError::WrongFamily)
        );
    }

    #[test]
    fn rejects_every_truncation_without_panicking() {
        for (bytes, ends) in [
            (&KEEPALIVED_V2[..], multicast_v4()),
            (&KEEPALIVED_V3_V4[..], multicast_v4()),
            (&KEEPALIVED_V3_V6[..], multicast_v6()),
        ] {
            for len in 0..bytes.len() {
                assert_eq!(
                    Advert::parse(&bytes[..len], &ends),
                    Err(AdvertError::Truncated),
                    "len {len}"
                );
            }
        }
    }

    #[test]
    fn rejects_trailing_bytes() {
        let mut bytes = KEEPALIVED_V2.to_vec();
        bytes.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(
            Advert::parse(&bytes, &multicast_v4()),
            Err(AdvertError::TrailingBytes)
        );
        let mut bytes = KEEPALIVED_V3_V6.to_vec();
        bytes.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(
            Advert::parse(&bytes, &multicast_v6()),
            Err(AdvertError::TrailingBytes)
        );
    }

    #[test]
    fn rejects_count_past_the_end() {
        let mut bytes = KEEPALIVED_V2;
        bytes[3] = 200;
        assert_eq!(
            Advert::parse(&bytes, &multicast_v4()),
            Err(AdvertError::Truncated)
        );
    }

    #[test]
    fn rejects_other_versions_and_types() {
        let mut bytes = KEEPALIVED_V2;
        bytes[0] = 0x41;
        assert_eq!(
            Advert::parse(&bytes, &multicast_v4()),
            Err(AdvertError::UnsupportedVersion(4))
        );
        bytes[0] = 0x22;
        assert_eq!(
            Advert::parse(&bytes, &multicast_v4()),
            Err(AdvertError::UnknownType(2))
        );
    }

    #[test]
    fn rejects_zero_interval_with_a_good_checksum() {
        for (advert, ends) in [
            (keepalived_advert(), multicast_v4()),
            (v3_advert(52, 100, "2001:db8::100"), multicast_v6()),
        ] {
            let mut bytes = advert.to_bytes(&ends);
            bytes[4] = 0;
            bytes[5] = 0;
            bytes[6] = 0;
            bytes[7] = 0;
            let sum = match advert.version {
                Version::V2 { .. } => checksum::checksum(&bytes),
                Version::V3 => {
                    checksum::finish(checksum::sum(&bytes, ends.pseudo_header_sum(bytes.len())))
                }
            };
            bytes[6..8].copy_from_slice(&sum.to_be_bytes());
            let got = Advert::parse(&bytes, &ends);
            // v2 also has the auth type in byte 4; zero is "none", fine.
            assert_eq!(got, Err(AdvertError::ZeroInterval));
        }
    }

    #[test]
    fn round_trips_many_addresses() {
        let advert = Advert {
            version: Version::V2 {
                auth_type: AuthType::None,
                auth_data: [0; 8],
            },
            vrid: 7,
            priority: 255,
            interval_cs: 300,
            addresses: (1..=20)
                .map(|i| Ipv4Addr::new(198, 51, 100, i).into())
                .collect(),
        };
        let ends = multicast_v4();
        assert_eq!(Advert::parse(&advert.to_bytes(&ends), &ends), Ok(advert));
        let advert = Advert {
            version: Version::V3,
            vrid: 7,
            priority: 1,
            interval_cs: 1,
            addresses: (1..=20u16)
                .map(|i| Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i).into())
                .collect(),
        };
        let ends = multicast_v6();
        assert_eq!(Advert::parse(&advert.to_bytes(&ends), &ends), Ok(advert));
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        // A cheap deterministic sweep; the fuzzing issue goes further.
        let mut state = 0x2545_f491_u32;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let len = (state % 64) as usize;
            let bytes: Vec<u8> = (0..len).map(|i| (state >> (i % 24)) as u8).collect();
            let _ = Advert::parse(&bytes, &multicast_v4());
            let _ = Advert::parse(&bytes, &multicast_v6());
        }
    }
}
