//! `virtual_ipaddress { ADDR[/PREFIX] [dev IF] [label L] ... }` and
//! `virtual_ipaddress_excluded { ... }` (the same lines, not advertised):
//! one address per line, each line a statement whose keyword is the
//! address.

use std::net::{IpAddr, Ipv4Addr};

use super::model::{AddressVmac, VirtualAddress, VrrpVersion, Warning};
use super::netlink_names::{address_flag, scope, IFA_F_NODAD};
use super::syntax::Statement;
use super::values::{error_at, expected_found, ip_address, warn_at, warn_keepalived_error_at};
use super::vmac_names::VmacNames;
use super::ConfigError;

/// The lines of a `virtual_ipaddress` block (`advertised`) or of a
/// `virtual_ipaddress_excluded` one.
pub(crate) fn virtual_addresses(
    block: &[Statement],
    advertised: bool,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<VirtualAddress>, ConfigError> {
    block
        .iter()
        .map(|line| virtual_address(line, advertised, warnings))
        .collect()
}

/// The lines of a top-level `static_ipaddress` block: the same options;
/// without `dev`, the address goes on `default_interface` (global_defs,
/// eth0 unless set), as in keepalived.
pub(crate) fn static_addresses(
    block: &[Statement],
    default_interface: &str,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<VirtualAddress>, ConfigError> {
    // keepalived puts the instances of a `track_group` block in BACKUP when
    // the address is deleted: running without it changes when they fail
    // over. (On a virtual_ipaddress line keepalived does not know the word:
    // warned about there as an unknown option, as keepalived does.)
    if let Some(line) = block
        .iter()
        .find(|line| line.args.iter().any(|a| a == "track_group"))
    {
        return Err(error_at(
            &line.span,
            format!(
                "static_ipaddress {}: 'track_group' is not supported by keepvip: it changes \
                 when the group's instances fail over, so running without it would not \
                 behave as keepalived does",
                line.keyword
            ),
        ));
    }
    let mut addresses = virtual_addresses(block, false, warnings)?;
    if let Some(vip) = addresses.iter().find(|v| v.use_vmac) {
        return Err(error_at(
            &vip.span,
            format!(
                "static_ipaddress {}: 'use_vmac' belongs to a vrrp_instance's addresses",
                vip.addr
            ),
        ));
    }
    for address in &mut addresses {
        address
            .dev
            .get_or_insert_with(|| default_interface.to_string());
    }
    Ok(addresses)
}

fn virtual_address(
    line: &Statement,
    advertised: bool,
    warnings: &mut Vec<Warning>,
) -> Result<VirtualAddress, ConfigError> {
    let keyword = if advertised {
        "virtual_ipaddress"
    } else {
        "virtual_ipaddress_excluded"
    };
    if line.block.is_some() {
        return Err(error_at(
            &line.span,
            format!("{keyword}: '{}' does not take a '{{' block", line.keyword),
        ));
    }
    let text = line.keyword.as_str();
    let (addr_text, prefix_text) = match text.split_once('/') {
        Some((addr, prefix)) => (addr, Some(prefix)),
        None => (text, None),
    };
    let addr = ip_address(line, addr_text)?;
    // A host route when no prefix is given: /32, or /128 for IPv6 (what
    // keepalived 2.2.7 adds).
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix_len = match prefix_text {
        None => max,
        Some(p) => p
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| p.parse::<u8>().ok())
            .flatten()
            .filter(|&len| len <= max)
            .ok_or_else(|| {
                expected_found(line, &format!("a prefix length 0..{max} after '/'"), p)
            })?,
    };
    let mut vip = VirtualAddress {
        addr,
        prefix_len,
        dev: None,
        label: None,
        scope: None,
        broadcast: None,
        no_track: false,
        advertised,
        use_vmac: false,
        peer: None,
        preferred_lft: None,
        flags: 0,
        span: line.span.clone(),
    };
    if vip.addr.is_ipv6() {
        vip.flags = IFA_F_NODAD;
    }
    let mut preferred_lft = None;
    let mut options = line.args.iter();
    while let Some(option) = options.next() {
        let name = option.as_str();
        let takes_value = matches!(
            name,
            "dev" | "label" | "scope" | "brd" | "broadcast" | "peer" | "preferred_lft"
        );
        if takes_value {
            let value = options.next().ok_or_else(|| {
                error_at(
                    &line.span,
                    format!("{keyword} {text}: '{name}' needs a value"),
                )
            })?;
            let mut warn = |message: String| {
                warn_keepalived_error_at(
                    warnings,
                    &line.span,
                    format!("{keyword} {text}: {message}"),
                )
            };
            match name {
                "dev" => vip.dev = Some(value.clone()),
                "label" => vip.label = Some(address_label(line, keyword, value)?),
                "scope" => {
                    vip.scope = Some(scope(value).ok_or_else(|| {
                        expected_found(
                            line,
                            "a scope (host, link, site, global, nowhere or 0..255)",
                            value,
                        )
                    })?)
                }
                "brd" | "broadcast" => {
                    vip.broadcast = broadcast(line, keyword, &vip, value, warnings)?
                }
                "peer" => match value.parse::<IpAddr>() {
                    _ if vip.peer.is_some() => warn(format!(
                        "Peer {value} - another peer has already been specified, ignored"
                    )),
                    Ok(peer) if peer.is_ipv4() != vip.addr.is_ipv4() => {
                        return Err(error_at(
                            &line.span,
                            format!(
                                "{keyword} {text}: peer address {peer} does not match the \
                                 address family"
                            ),
                        ))
                    }
                    Ok(peer) => vip.peer = Some(peer),
                    Err(_) => warn(format!("Invalid peer address {value}, ignored")),
                },
                _ => match value.as_str() {
                    "forever" => preferred_lft = Some(None),
                    _ => match value.parse::<u32>() {
                        Ok(u32::MAX) => preferred_lft = Some(None),
                        Ok(seconds) => preferred_lft = Some(Some(seconds)),
                        Err(_) => warn(format!("preferred_lft {value} is invalid, ignored")),
                    },
                },
            }
        } else if name == "no_track" {
            vip.no_track = true;
        } else if name == "use_vmac" {
            vip.use_vmac = true;
        } else if name == "-nodad" {
            vip.flags &= !IFA_F_NODAD;
        } else if let Some(flag) = address_flag(name) {
            vip.flags |= flag;
        } else {
            warn_keepalived_error_at(
                warnings,
                &line.span,
                format!("{keyword} {text}: unknown option '{name}', ignored"),
            );
        }
    }
    if vip.peer.is_some() {
        if prefix_text.is_some() {
            let message = format!(
                "{keyword} {text}: Cannot specify address prefix when specifying peer \
                 address - ignoring"
            );
            warn_keepalived_error_at(warnings, &line.span, message);
        }
        vip.prefix_len = max;
    }
    if vip.addr.is_ipv6() {
        // keepalived deprecates a host address unless told otherwise.
        let default = (vip.prefix_len == 128).then_some(0);
        vip.preferred_lft = preferred_lft.unwrap_or(default);
    } else if preferred_lft.is_some() {
        let message = format!(
            "{keyword} {text}: keepalived 2.2.7 applies preferred_lft to IPv6 addresses \
             only, and so does keepvip: ignored"
        );
        warn_at(warnings, &line.span, message);
    }
    Ok(vip)
}

/// Puts each address whose line says `use_vmac` on a macvlan of its `dev`
/// (the instance's `interface` when none), one per `dev`, as keepalived
/// 2.2.7 does: named from the pool every instance draws from (the next
/// free of `vrrp.VRID`, `vrrp1.VRID`... after the instance's own `use_vmac`
/// macvlan, which already holds the addresses without a `dev`). IPv4 only
/// for now: an IPv6 one is refused rather than left on its `dev`.
pub(crate) fn place_on_address_vmacs(
    instance: &str,
    interface: &str,
    vrid: u8,
    ipv6: bool,
    instance_vmac: Option<&str>,
    names: &mut VmacNames,
    addresses: &mut [VirtualAddress],
) -> Result<Vec<AddressVmac>, ConfigError> {
    let mut vmacs: Vec<AddressVmac> = Vec::new();
    for vip in addresses.iter_mut().filter(|v| v.use_vmac) {
        if ipv6 || vip.addr.is_ipv6() {
            return Err(error_at(
                &vip.span,
                format!(
                    "virtual_ipaddress {}: 'use_vmac' on an address is not supported by keepvip \
                     for IPv6 yet (keepalived would put it on a macvlan with the virtual MAC)",
                    vip.addr
                ),
            ));
        }
        let parent = vip.dev.clone().unwrap_or_else(|| interface.to_string());
        if instance_vmac == Some(parent.as_str()) {
            continue;
        }
        if let Some(vmac) = vmacs.iter().find(|v| v.parent == parent) {
            vip.dev = Some(vmac.name.clone());
            continue;
        }
        let name = names.for_addresses(instance, &parent, vrid);
        vip.dev = Some(name.clone());
        vmacs.push(AddressVmac { name, parent });
    }
    Ok(vmacs)
}

/// The kernel takes a label of at most 15 bytes. keepalived drops an
/// address with a longer one (with a warning) and runs without it, which
/// would leave the master without an address it was told to own; keepvip
/// refuses the config instead. The kernel does not ask for the `dev:`
/// prefix, and neither does keepalived.
fn address_label(line: &Statement, keyword: &str, value: &str) -> Result<String, ConfigError> {
    if value.len() >= IFNAMSIZ || value.contains('\0') {
        return Err(error_at(
            &line.span,
            format!(
                "{keyword} {}: address label {value} is longer than maximum length {} \
                 (keepalived would drop the address)",
                line.keyword,
                IFNAMSIZ - 1
            ),
        ));
    }
    Ok(value.to_string())
}

/// `brd ADDR`, or `brd +` (the prefix with every host bit set) or `brd -`
/// (none), IPv4 only. As keepalived, `+` on a /31 or /32 has no broadcast
/// address: warned and ignored.
fn broadcast(
    line: &Statement,
    keyword: &str,
    vip: &VirtualAddress,
    value: &str,
    warnings: &mut Vec<Warning>,
) -> Result<Option<Ipv4Addr>, ConfigError> {
    let IpAddr::V4(addr) = vip.addr else {
        let message = format!(
            "{keyword} {}: IPv6 has no broadcast address, '{value}' ignored",
            line.keyword
        );
        warn_keepalived_error_at(warnings, &line.span, message);
        return Ok(None);
    };
    match value {
        "-" => Ok(None),
        "+" if vip.prefix_len >= 31 => {
            let message = format!(
                "{keyword} {}: prefix length {} too long for broadcast, 'brd +' ignored",
                line.keyword, vip.prefix_len
            );
            warn_keepalived_error_at(warnings, &line.span, message);
            Ok(None)
        }
        "+" => {
            let host_bits = u32::MAX >> vip.prefix_len;
            Ok(Some(Ipv4Addr::from(u32::from(addr) | host_bits)))
        }
        _ => match ip_address(line, value)? {
            IpAddr::V4(brd) => Ok(Some(brd)),
            IpAddr::V6(_) => Err(expected_found(line, "an IPv4 broadcast address", value)),
        },
    }
}

/// The longest interface name or address label, with its NUL.
const IFNAMSIZ: usize = 16;

/// The link MTU the advert must fit in. keepalived reads the interface's;
/// the config is read without the interfaces (`-t` on another machine),
/// so keepvip assumes Ethernet's.
const ASSUMED_MTU: usize = 1500;
/// What keepalived 2.2.7 leaves free beyond the IP and VRRP headers when
/// it sizes the address list (found with `-t` at MTUs 1500, 1280 and 1000,
/// both families and versions). Keeping to the same count means a mixed
/// LAN advertises the same list.
const KEEPALIVED_RESERVE: usize = 16;

/// How many addresses an advert can carry: the count octet's 255, and what
/// fits in the MTU (IPv6 at 1500: 89, as keepalived says).
pub(crate) fn advertised_capacity(ipv6: bool, version: VrrpVersion) -> usize {
    let (ip_header, address_len) = if ipv6 { (40, 16) } else { (20, 4) };
    let vrrp_header = 8;
    let auth_data = match version {
        VrrpVersion::V2 => 8,
        VrrpVersion::V3 => 0,
    };
    let room = ASSUMED_MTU - ip_header - vrrp_header - auth_data - KEEPALIVED_RESERVE;
    (room / address_len).min(usize::from(u8::MAX))
}

/// Moves the advertised addresses that do not fit in an advert to the end
/// of the list as excluded ones (still owned, never advertised), with
/// keepalived's warning at the line of the first one left out.
pub(crate) fn cap_advertised(
    name: &str,
    ipv6: bool,
    version: VrrpVersion,
    advertised: &mut [VirtualAddress],
    warnings: &mut Vec<Warning>,
) {
    let capacity = advertised_capacity(ipv6, version);
    let Some(first_excess) = advertised.get(capacity) else {
        return;
    };
    let message = format!(
        "({name}) Number of VIPs ({}) exceeds maximum/space available in packet (max \
         {capacity} addresses) - excess moved to eVIPs",
        advertised.len()
    );
    warn_at(warnings, &first_excess.span.clone(), message);
    for vip in &mut advertised[capacity..] {
        vip.advertised = false;
    }
}

#[cfg(test)]
mod capacity_tests {
    use super::*;

    #[test]
    fn capacities_match_keepalived_at_mtu_1500() {
        assert_eq!(advertised_capacity(false, VrrpVersion::V2), 255);
        assert_eq!(advertised_capacity(false, VrrpVersion::V3), 255);
        assert_eq!(advertised_capacity(true, VrrpVersion::V3), 89);
    }
}

#[cfg(test)]
mod option_tests {
    use std::net::Ipv4Addr;
    use std::path::Path;

    use crate::config::{parse_str, InstanceConfig};

    fn instance(lines: &str) -> Result<InstanceConfig, String> {
        let text = format!(
            "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 50\n \
             virtual_ipaddress {{\n{lines}\n }}\n}}\n"
        );
        parse_str(&text, Path::new("r1.conf"))
            .map(|(mut config, _)| config.instances.remove(0))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn scope_brd_label_as_openwrt_writes_them() {
        let vi = instance(
            "  192.0.2.1/24 dev br-lan label br-lan:vip scope global brd +\n  \
             192.0.2.2 scope link broadcast 192.0.2.255\n  192.0.2.3 scope 250 brd -",
        )
        .unwrap();
        let [a, b, c] = &vi.virtual_addresses[..] else {
            panic!("{:?}", vi.virtual_addresses)
        };
        assert_eq!(a.dev.as_deref(), Some("br-lan"));
        assert_eq!(a.label.as_deref(), Some("br-lan:vip"));
        assert_eq!(a.scope, Some(0));
        assert_eq!(a.broadcast, Some(Ipv4Addr::new(192, 0, 2, 255)));
        assert_eq!(
            (b.scope, b.broadcast),
            (Some(253), Some(Ipv4Addr::new(192, 0, 2, 255)))
        );
        assert_eq!((c.scope, c.broadcast), (Some(250), None));
        assert!(!a.no_track);
    }

    #[test]
    fn bad_options_name_the_line() {
        let err = instance("  192.0.2.1 scope galaxy").unwrap_err();
        assert!(
            err.starts_with("r1.conf:5: 192.0.2.1: expected a scope"),
            "{err}"
        );
        let err = instance("  192.0.2.1 label eth0:averyverylonglabel").unwrap_err();
        assert!(err.starts_with("r1.conf:5: "), "{err}");
        assert!(err.contains("longer than maximum length 15"), "{err}");
        let err = instance("  192.0.2.1/24 brd 2001:db8::1").unwrap_err();
        assert!(err.contains("an IPv4 broadcast address"), "{err}");
    }

    /// keepalived tracks the interface of an address on another `dev`
    /// (down: FAULT) unless it says `no_track`.
    #[test]
    fn other_dev_interfaces_are_tracked_unless_no_track() {
        let vi = instance(
            "  192.0.2.1\n  198.51.100.1 dev eth1\n  198.51.100.2 dev eth1\n  \
             203.0.113.1 dev eth2 no_track\n  192.0.2.4 dev eth0",
        )
        .unwrap();
        let tracked: Vec<_> = vi
            .track_interfaces
            .iter()
            .map(|t| (t.interface.as_str(), t.weight, t.span.line))
            .collect();
        assert_eq!(tracked, [("eth1", 0, 6)]);
        assert!(vi.virtual_addresses[3].no_track);
    }

    /// As keepalived 2.2.7 added them in a namespace (`ip -d addr show`):
    /// `peer` makes a /32 (/128) point-to-point address, the line's prefix
    /// ignored with its warning; IPv6 /128s are deprecated
    /// (preferred_lft 0) unless `preferred_lft` says otherwise; the flag
    /// words go to the kernel and `-nodad` drops keepvip's nodad.
    #[test]
    fn peer_preferred_lft_and_flags_as_keepalived_adds_them() {
        use crate::config::netlink_names::IFA_F_NODAD;
        let vi = instance(
            "  192.0.2.11 peer 192.0.2.99\n  192.0.2.20/24 peer 192.0.2.96\n  \
             192.0.2.12/24 preferred_lft 0\n  192.0.2.23/28 noprefixroute",
        )
        .unwrap();
        let got: Vec<_> = vi
            .virtual_addresses
            .iter()
            .map(|v| (v.prefix_len, v.peer, v.preferred_lft, v.flags))
            .collect();
        let peer = |last| Some(std::net::IpAddr::from([192, 0, 2, last]));
        assert_eq!(
            got,
            [
                (32, peer(99), None, 0),
                (32, peer(96), None, 0),
                (24, None, None, 0),
                (28, None, None, 0x200),
            ]
        );
        let vi = instance(
            "  2001:db8::21\n  2001:db8::22/128 preferred_lft forever\n  \
             2001:db8::23/64 preferred_lft 0\n  2001:db8::19/64 preferred_lft 200\n  \
             2001:db8::16/64 peer 2001:db8::99\n  2001:db8::10/64 home mngtmpaddr\n  \
             2001:db8::12/64 -nodad autojoin\n  2001:db8::25/64 preferred_lft 4294967295",
        )
        .unwrap();
        let got: Vec<_> = vi
            .virtual_addresses
            .iter()
            .map(|v| (v.prefix_len, v.peer.is_some(), v.preferred_lft, v.flags))
            .collect();
        assert_eq!(
            got,
            [
                (128, false, Some(0), IFA_F_NODAD),
                (128, false, None, IFA_F_NODAD),
                (64, false, Some(0), IFA_F_NODAD),
                (64, false, Some(200), IFA_F_NODAD),
                (128, true, Some(0), IFA_F_NODAD),
                (64, false, None, IFA_F_NODAD | 0x110),
                (64, false, None, 0x400),
                (64, false, None, IFA_F_NODAD),
            ]
        );
    }

    /// What keepalived 2.2.7 warns about and runs anyway runs the same
    /// way; what it cannot read stays an error.
    #[test]
    fn peer_and_preferred_lft_mistakes_as_keepalived() {
        let text = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 50\n \
                    virtual_ipaddress {\n  192.0.2.20/24 peer 192.0.2.96\n  \
                    192.0.2.21 peer 192.0.2.95/32\n  192.0.2.22/24 preferred_lft abc\n  \
                    192.0.2.25 peer 192.0.2.1 peer 192.0.2.2\n  192.0.2.26 nodad\n  \
                    192.0.2.27/24 preferred_lft 0\n }\n}\n";
        let (config, warnings) = parse_str(text, Path::new("r1.conf")).unwrap();
        let vips = &config.instances[0].virtual_addresses;
        assert_eq!((vips[0].prefix_len, vips[1].peer), (32, None));
        assert_eq!(vips[1].prefix_len, 32);
        assert_eq!((vips[2].prefix_len, vips[2].preferred_lft), (24, None));
        assert_eq!(vips[3].peer, Some([192, 0, 2, 1].into()));
        let warnings: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
        let expected = [
            "r1.conf:5: virtual_ipaddress 192.0.2.20/24: Cannot specify address prefix when \
             specifying peer address - ignoring",
            "r1.conf:6: virtual_ipaddress 192.0.2.21: Invalid peer address 192.0.2.95/32, ignored",
            "r1.conf:7: virtual_ipaddress 192.0.2.22/24: preferred_lft abc is invalid, ignored",
            "r1.conf:8: virtual_ipaddress 192.0.2.25: Peer 192.0.2.2 - another peer has \
             already been specified, ignored",
            "r1.conf:9: virtual_ipaddress 192.0.2.26: unknown option 'nodad', ignored",
            "r1.conf:10: virtual_ipaddress 192.0.2.27/24: keepalived 2.2.7 applies \
             preferred_lft to IPv6 addresses only, and so does keepvip: ignored",
        ];
        for want in expected {
            assert!(
                warnings.iter().any(|w| w.contains(want)),
                "{want}\nnot in {warnings:#?}"
            );
        }
        let text = "static_ipaddress {\n 192.0.2.30/24 dev eth0 track_group G1\n}\n";
        let err = parse_str(text, Path::new("r1.conf"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("r1.conf:2: static_ipaddress 192.0.2.30/24: 'track_group' is not"),
            "{err}"
        );
        let err = instance("  192.0.2.24 peer 2001:db8::1").unwrap_err();
        assert!(
            err.starts_with("r1.conf:5: virtual_ipaddress 192.0.2.24: peer address 2001:db8::1"),
            "{err}"
        );
    }
}
