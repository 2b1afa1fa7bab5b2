//! `virtual_ipaddress { ADDR[/PREFIX] [dev IF] [label L] ... }` and
//! `virtual_ipaddress_excluded { ... }` (the same lines, not advertised):
//! one address per line, each line a statement whose keyword is the
//! address.

use std::net::{IpAddr, Ipv4Addr};

use super::model::{AddressVmac, VirtualAddress, VrrpVersion, Warning};
use super::netlink_names::scope;
use super::syntax::Statement;
use super::values::{error_at, expected_found, ip_address, warn_at};
use super::ConfigError;

/// keepalived options that take a value and that keepvip does not act on.
const IGNORED_WITH_VALUE: &[&str] = &["peer", "preferred_lft", "track_group"];
/// keepalived options without a value that keepvip does not act on.
const IGNORED_FLAGS: &[&str] = &["home", "nodad", "-nodad", "noprefixroute", "autojoin"];

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
        span: line.span.clone(),
    };
    let mut options = line.args.iter();
    while let Some(option) = options.next() {
        let name = option.as_str();
        let takes_value = matches!(name, "dev" | "label" | "scope" | "brd" | "broadcast");
        if takes_value || IGNORED_WITH_VALUE.contains(&name) {
            let value = options.next().ok_or_else(|| {
                error_at(
                    &line.span,
                    format!("{keyword} {text}: '{name}' needs a value"),
                )
            })?;
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
                _ => warn_at(
                    warnings,
                    &line.span,
                    format!(
                        "{keyword} {text}: option '{name} {value}' is not \
                         supported by keepvip yet, ignored"
                    ),
                ),
            }
        } else if name == "no_track" {
            vip.no_track = true;
        } else if name == "use_vmac" {
            vip.use_vmac = true;
        } else if IGNORED_FLAGS.contains(&name) {
            warn_at(
                warnings,
                &line.span,
                format!(
                    "{keyword} {text}: option '{name}' is not supported by keepvip yet, \
                     ignored"
                ),
            );
        } else {
            warn_at(
                warnings,
                &line.span,
                format!("{keyword} {text}: unknown option '{name}', ignored"),
            );
        }
    }
    Ok(vip)
}

/// Puts each address whose line says `use_vmac` on a macvlan of its `dev`
/// (the instance's `interface` when none), one per `dev`, as keepalived
/// 2.2.7 does: the first named `vrrp.VRID`, the next `vrrp1.VRID`,
/// `vrrp2.VRID`... in file order, skipping the instance's own `use_vmac`
/// macvlan, which already holds the addresses without a `dev`. IPv4 only
/// for now: an IPv6 one is refused rather than left on its `dev`.
pub(crate) fn place_on_address_vmacs(
    interface: &str,
    vrid: u8,
    ipv6: bool,
    instance_vmac: Option<&str>,
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
        let name = (0..)
            .map(|n: u32| match n {
                0 => format!("vrrp.{vrid}"),
                n => format!("vrrp{n}.{vrid}"),
            })
            .find(|name| instance_vmac != Some(name) && !vmacs.iter().any(|v| &v.name == name))
            .unwrap_or_default();
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
        warn_at(warnings, &line.span, message);
        return Ok(None);
    };
    match value {
        "-" => Ok(None),
        "+" if vip.prefix_len >= 31 => {
            let message = format!(
                "{keyword} {}: prefix length {} too long for broadcast, 'brd +' ignored",
                line.keyword, vip.prefix_len
            );
            warn_at(warnings, &line.span, message);
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
}
