//! `virtual_ipaddress { ADDR[/PREFIX] [dev IF] [label L] ... }` and
//! `virtual_ipaddress_excluded { ... }` (the same lines, not advertised):
//! one address per line, each line a statement whose keyword is the
//! address.

use super::model::{VirtualAddress, VrrpVersion, Warning};
use super::syntax::Statement;
use super::values::{error_at, expected_found, ip_address, warn_at};
use super::ConfigError;

/// keepalived options that take a value and that keepvip does not act on.
const IGNORED_WITH_VALUE: &[&str] = &[
    "brd",
    "broadcast",
    "scope",
    "peer",
    "preferred_lft",
    "track_group",
];
/// keepalived options without a value that keepvip does not act on.
const IGNORED_FLAGS: &[&str] = &[
    "home",
    "nodad",
    "-nodad",
    "noprefixroute",
    "autojoin",
    "no_track",
];

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
        advertised,
        span: line.span.clone(),
    };
    let mut options = line.args.iter();
    while let Some(option) = options.next() {
        let name = option.as_str();
        if name == "dev" || name == "label" || IGNORED_WITH_VALUE.contains(&name) {
            let value = options.next().ok_or_else(|| {
                error_at(
                    &line.span,
                    format!("{keyword} {text}: '{name}' needs a value"),
                )
            })?;
            match name {
                "dev" => vip.dev = Some(value.clone()),
                "label" => vip.label = Some(value.clone()),
                _ => warn_at(
                    warnings,
                    &line.span,
                    format!(
                        "{keyword} {text}: option '{name} {value}' is not \
                         supported by keepvip yet, ignored"
                    ),
                ),
            }
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
