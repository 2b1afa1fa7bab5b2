//! keepalived's keywords about the multicast group, address checks,
//! strict mode, announcements and interface tracking, in global_defs
//! (`vrrp_*`, for every instance) and in vrrp_instance, read into
//! `InstanceOptions`.
//!
//! Where keepvip behaves one way only, the keyword is accepted when it asks
//! for that way and refused (an error at its line) when it asks for
//! another: starting anyway would not behave as keepalived does.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::model::{ConfigError, Span, Warning};
use super::syntax::Statement;
use super::values::{
    error_at, expected_found, integer, ip_address, single, warn_at, warn_keepalived_error_at,
};

/// The instance behaviour these keywords set, defaults filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceOptions {
    /// `dont_track_primary`: the instance's own interface going down does
    /// not put it in FAULT.
    pub dont_track_primary: bool,
    /// `lower_prio_no_advert`: a master hearing a lower-priority advert
    /// does not answer it with an advert of its own.
    pub lower_prio_no_advert: bool,
    /// `higher_prio_send_advert`: a master hearing a higher-priority
    /// advert sends one advert at its own priority before becoming backup.
    pub higher_prio_send_advert: bool,
    /// `garp_master_refresh_repeat`: packets per `garp_master_refresh`
    /// burst (keepalived's default 1).
    pub garp_master_refresh_repeat: u32,
    /// `vrrp_strict` / `strict_mode`: checked at load (see `apply_strict`).
    pub strict: bool,
    /// `vrrp_garp_extra_if` (global_defs) / `garp_extra_if` (instance).
    pub garp_extra_if: GarpExtraIf,
}

/// `garp_extra_if [all] SECONDS`: while master, one gratuitous ARP (NA)
/// every SECONDS on each interface other than the instance's own, for the
/// first address there, so that switches there keep our MAC (keepalived
/// 2.2.7, watched: the first one SECONDS after becoming master, none on
/// the instance's interface, beside any garp_master_refresh). Without
/// `all` keepalived sends them only on the macvlans of addresses that say
/// `use_vmac` (a `use_vmac` instance's own macvlan gets none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GarpExtraIf {
    /// 0: off.
    pub interval_s: u32,
    pub all: bool,
}

impl GarpExtraIf {
    /// The period of the announcements sent, 0 for none: without `all`,
    /// only an instance with addresses' macvlans sends any.
    pub fn sent_every_s(&self, address_vmacs: bool) -> u32 {
        if self.all || address_vmacs {
            self.interval_s
        } else {
            0
        }
    }
}

impl Default for InstanceOptions {
    fn default() -> Self {
        InstanceOptions {
            dont_track_primary: false,
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
            garp_master_refresh_repeat: 1,
            strict: false,
            garp_extra_if: GarpExtraIf::default(),
        }
    }
}

/// What global_defs says for every instance, and what an instance may
/// override. `min_garp` is kept apart: it sets other instance values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct WrittenOptions {
    pub options: InstanceOptions,
    /// `vrrp_min_garp`: one packet per burst, no second burst, no refresh.
    pub min_garp: bool,
    /// `accept` (Some(true)) / `no_accept` (Some(false)), with its line.
    pub accept: Option<bool>,
    /// `native_ipv6`.
    pub native_ipv6: bool,
    /// `vrrp_mcast_group4`: where IPv4 instances send and listen.
    pub group4: Option<Ipv4Addr>,
    /// `vrrp_mcast_group6`: where IPv6 instances send and listen.
    pub group6: Option<Ipv6Addr>,
}

/// keepalived's optional boolean after a flag keyword: none means true.
fn boolean(line: &Statement) -> Result<bool, ConfigError> {
    match line.args.first().map(String::as_str) {
        None => Ok(true),
        Some("true" | "on" | "yes") => Ok(true),
        Some("false" | "off" | "no") => Ok(false),
        Some(other) => Err(expected_found(
            line,
            "nothing, or true/false/on/off/yes/no",
            other,
        )),
    }
}

/// The RFC 5798 group of a family, where adverts go unless the config
/// names another.
fn standard_group(ipv6: bool) -> IpAddr {
    if ipv6 {
        Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12).into()
    } else {
        Ipv4Addr::new(224, 0, 0, 18).into()
    }
}

/// `vrrp_mcast_group4` / `vrrp_mcast_group6`: the group every instance of
/// that family sends to and listens on. As keepalived 2.2.7 does (its
/// words, watched with -t), an address of the other family or not
/// multicast is skipped with a warning, and an IPv6 group that is not
/// link-local is used with one.
fn global_group(
    line: &Statement,
    warnings: &mut Vec<Warning>,
    ipv6: bool,
) -> Result<Option<IpAddr>, ConfigError> {
    let text = single(line, "a multicast address", warnings)?;
    let addr = ip_address(line, text)?;
    let keyword = &line.keyword;
    if addr.is_ipv6() != ipv6 {
        let family = if ipv6 { "IPv6" } else { "IPv4" };
        warn_keepalived_error_at(
            warnings,
            &line.span,
            format!("{keyword} [{text}] is not {family}. Skipping"),
        );
        return Ok(None);
    }
    if !addr.is_multicast() {
        warn_keepalived_error_at(
            warnings,
            &line.span,
            format!("{keyword} [{text}] is not multicast. Skipping"),
        );
        return Ok(None);
    }
    warn_unless_link_local(line, addr, warnings, || {
        format!("{keyword} [{text}] should be link-local multicast.")
    });
    Ok(Some(addr))
}

/// An IPv6 group beyond the link (not ff02::/16) is used, as keepalived
/// does, but VRRP adverts must not leave the link.
fn warn_unless_link_local(
    line: &Statement,
    addr: IpAddr,
    warnings: &mut Vec<Warning>,
    message: impl FnOnce() -> String,
) {
    if let IpAddr::V6(v6) = addr {
        if v6.segments()[0] & 0xff0f != 0xff02 {
            warn_keepalived_error_at(warnings, &line.span, message());
        }
    }
}

/// An instance's `mcast_dst_ip`: its group, ahead of global_defs'. Not
/// multicast: skipped with keepalived's warning. Its family is checked
/// against the instance's once that is known (see `instance_group`).
pub(crate) fn mcast_dst_ip(
    name: &str,
    line: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<Option<IpAddr>, ConfigError> {
    let text = single(line, "a multicast address", warnings)?;
    let addr = ip_address(line, text)?;
    if !addr.is_multicast() {
        warn_keepalived_error_at(
            warnings,
            &line.span,
            format!("({name}) mcast_dst_ip {text} not multicast. Skipping..."),
        );
        return Ok(None);
    }
    warn_unless_link_local(line, addr, warnings, || {
        format!("({name}) mcast_dst_ip {text} should be link-local multicast.")
    });
    Ok(Some(addr))
}

/// The group an instance of family `ipv6` sends to and listens on: its
/// `mcast_dst_ip`, else global_defs' group of its family; None for the
/// RFC's group. keepalived 2.2.7 fails to load an instance whose
/// `mcast_dst_ip` is of the other family, so that is an error.
pub(crate) fn instance_group(
    name: &str,
    dst: Option<(IpAddr, Span)>,
    ipv6: bool,
    written: &WrittenOptions,
) -> Result<Option<IpAddr>, ConfigError> {
    let group = match dst {
        Some((addr, span)) if addr.is_ipv6() != ipv6 => {
            let family = if ipv6 { "IPv6" } else { "IPv4" };
            return Err(error_at(
                &span,
                format!(
                    "({name}) mcast_dst_ip {addr}: expected an {family} group, the family of \
                     the instance's addresses"
                ),
            ));
        }
        Some((addr, _)) => Some(addr),
        None if ipv6 => written.group6.map(IpAddr::V6),
        None => written.group4.map(IpAddr::V4),
    };
    Ok(group.filter(|g| *g != standard_group(ipv6)))
}

/// Reads one of these keywords, global (`vrrp_` prefixed) or in an
/// instance; false if `line` is not one of them.
pub(crate) fn read_option(
    line: &Statement,
    written: &mut WrittenOptions,
    warnings: &mut Vec<Warning>,
) -> Result<bool, ConfigError> {
    let keyword = line.keyword.as_str();
    let bare = keyword.strip_prefix("vrrp_").unwrap_or(keyword);
    let o = &mut written.options;
    match (keyword, bare) {
        ("vrrp_mcast_group4", _) => {
            if let Some(IpAddr::V4(group)) = global_group(line, warnings, false)? {
                written.group4 = Some(group);
            }
        }
        ("vrrp_mcast_group6", _) => {
            if let Some(IpAddr::V6(group)) = global_group(line, warnings, true)? {
                written.group6 = Some(group);
            }
        }
        // keepvip always takes unicast adverts only from listed peers.
        (_, "check_unicast_src") => {
            if !boolean(line)? {
                return Err(error_at(
                    &line.span,
                    format!("{keyword} off: keepvip always checks the source of unicast adverts"),
                ));
            }
        }
        // keepvip never drops an advert for its address list (it logs it).
        (_, "skip_check_adv_addr") => {
            boolean(line)?;
        }
        ("accept", _) => written.accept = Some(true),
        ("no_accept", _) => written.accept = Some(false),
        ("vrrp_strict", _) | ("strict_mode", _) => o.strict = boolean(line)?,
        // Here only out of global_defs (which reads vrrp_garp_interval and
        // vrrp_gna_interval itself): keepalived 2.2.7 does not know them
        // there either, and runs without them.
        (_, "garp_interval") | (_, "gna_interval") => warn_keepalived_error_at(
            warnings,
            &line.span,
            format!(
                "Unknown keyword '{keyword}': keepalived spaces announcements only with \
                 vrrp_{bare} in global_defs; ignored"
            ),
        ),
        // keepalived 2.2.7 takes `vrrp_garp_extra_if` in global_defs only
        // (1..86400; the parser reads it there) and `garp_extra_if` in an
        // instance only (0 turns off the global one).
        ("garp_extra_if", _) => o.garp_extra_if = garp_extra_if(line, 0)?,
        (_, "garp_master_refresh_repeat") => {
            o.garp_master_refresh_repeat = integer(line, 1, u32::MAX, warnings)?;
        }
        (_, "lower_prio_no_advert") => o.lower_prio_no_advert = boolean(line)?,
        (_, "higher_prio_send_advert") => o.higher_prio_send_advert = boolean(line)?,
        ("vrrp_min_garp", _) => written.min_garp = boolean(line)?,
        ("dont_track_primary", _) => o.dont_track_primary = boolean(line)?,
        ("native_ipv6", _) => written.native_ipv6 = true,
        _ => return Ok(false),
    }
    Ok(true)
}

/// `[all] SECONDS`, SECONDS in `min`..=86400.
pub(crate) fn garp_extra_if(line: &Statement, min: u32) -> Result<GarpExtraIf, ConfigError> {
    let expected = format!("[all] SECONDS ({min}..86400)");
    let (all, seconds) = match line.args.as_slice() {
        [seconds] => (false, seconds),
        [all, seconds] if all == "all" => (true, seconds),
        _ => return Err(expected_found(line, &expected, &line.args.join(" "))),
    };
    let interval_s = seconds
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| seconds.parse::<u32>().ok())
        .flatten()
        .filter(|s| (min..=86_400).contains(s))
        .ok_or_else(|| expected_found(line, &expected, seconds))?;
    Ok(GarpExtraIf { interval_s, all })
}

/// keepalived's strict mode at load, in its words (watched with
/// keepalived 2.2.7 -t): authentication is dropped (VRRPv2 adverts then
/// carry none), and VRRPv2 cannot have accept mode.
pub(crate) fn strict_mode(
    name: &str,
    span: &Span,
    v2: bool,
    authentication: &mut Option<super::model::Authentication>,
    accept: &mut Option<bool>,
    warnings: &mut Vec<Warning>,
) {
    if authentication.take().is_some() {
        let message = format!("({name}) Strict mode does not support authentication. Ignoring.");
        warn_keepalived_error_at(warnings, span, message);
    }
    if v2 && *accept == Some(true) {
        let message = format!(
            "({name}) warning - accept mode for VRRP version 2 does not comply with RFC3768 - \
             resetting"
        );
        warn_keepalived_error_at(warnings, span, message);
        *accept = Some(false);
    }
}

/// An instance's `unicast_ttl`: the TTL (IPv6: hop limit) of its unicast
/// adverts. keepalived 2.2.7 resets it without unicast peers, with this
/// warning. Under `auth_type AH` keepvip writes the IPv4 header itself,
/// with TTL 255 (which the ICV covers, as keepalived computes it), so
/// another value is refused there.
pub(crate) fn unicast_ttl(
    name: &str,
    ttl: Option<(u8, Span)>,
    has_peers: bool,
    ah: bool,
    warnings: &mut Vec<Warning>,
) -> Result<Option<u8>, ConfigError> {
    match ttl {
        Some((_, span)) if !has_peers => {
            let message =
                format!("({name}): Cannot use unicast_ttl without unicast peers - resetting");
            warn_keepalived_error_at(warnings, &span, message);
            Ok(None)
        }
        Some((ttl, span)) if ah && ttl != 255 => Err(error_at(
            &span,
            format!(
                "({name}) unicast_ttl {ttl} with auth_type AH: not supported by keepvip, which \
                 sends AH adverts with TTL 255"
            ),
        )),
        Some((ttl, _)) => Ok(Some(ttl)),
        None => Ok(None),
    }
}

/// `no_accept`, or strict mode without `accept`: keepalived would add a
/// firewall rule dropping traffic to the VIPs while a non-owner master;
/// keepvip owns no firewall.
pub(crate) fn firewall_warning(name: &str, span: &Span, warnings: &mut Vec<Warning>) {
    warn_at(
        warnings,
        span,
        format!(
            "({name}) no_accept/strict: keepalived would add a firewall (nftables) rule dropping \
             traffic to the VIPs while a non-owner master; keepvip installs no firewall rules, \
             so the VIPs answer as with 'accept'"
        ),
    );
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::GarpExtraIf;
    use crate::config::{parse_str, InstanceConfig, VrrpVersion};

    fn load(global: &str, lines: &str) -> Result<(InstanceConfig, Vec<String>), String> {
        let text = format!(
            "global_defs {{\n{global}\n}}\nvrrp_instance VI_1 {{\n interface eth0\n \
             virtual_router_id 50\n{lines}\n virtual_ipaddress {{\n  192.0.2.3\n }}\n}}\n"
        );
        parse_str(&text, Path::new("r1.conf"))
            .map(|(mut c, w)| {
                (
                    c.instances.remove(0),
                    w.iter().map(|w| w.to_string()).collect(),
                )
            })
            .map_err(|e| e.to_string())
    }

    /// `unicast_ttl` sets the TTL (hop limit) of unicast adverts; without
    /// unicast peers keepalived 2.2.7 resets it, in these words; with AH
    /// keepvip writes the IP header itself, always with TTL 255.
    #[test]
    fn unicast_ttl_with_peers_only() {
        let peers = " unicast_peer {\n  192.0.2.12\n }";
        let (vi, w) = load("", &format!(" unicast_ttl 64\n{peers}")).unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(vi.unicast_ttl, Some(64));
        let (vi, _) = load("", peers).unwrap();
        assert_eq!(vi.unicast_ttl, None);
        let (vi, w) = load("", " unicast_ttl 64").unwrap();
        assert_eq!(vi.unicast_ttl, None);
        assert!(
            w[0].ends_with("(VI_1): Cannot use unicast_ttl without unicast peers - resetting"),
            "{w:?}"
        );
        let ah = " authentication {\n  auth_type AH\n  auth_pass secret\n }";
        let err = load("", &format!(" unicast_ttl 64\n{peers}\n{ah}")).unwrap_err();
        assert!(
            err.starts_with("r1.conf:7: (VI_1) unicast_ttl 64 with auth_type AH: not supported"),
            "{err}"
        );
        assert!(load("", &format!(" unicast_ttl 255\n{peers}\n{ah}")).is_ok());
        assert!(load("", &format!(" unicast_ttl 0\n{peers}")).is_err());
    }

    /// The RFC's groups leave the instance as it was; another group is the
    /// instance's, its own `mcast_dst_ip` ahead of global_defs'.
    #[test]
    fn multicast_groups_global_and_per_instance() {
        let (vi, w) = load(
            " vrrp_mcast_group4 224.0.0.18\n vrrp_mcast_group6 ff02::12",
            " mcast_dst_ip 224.0.0.18",
        )
        .unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(vi.multicast_group, None);
        let (vi, w) = load(
            " vrrp_mcast_group4 224.0.0.99\n vrrp_mcast_group6 ff02::99",
            "",
        )
        .unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(vi.multicast_group, "224.0.0.99".parse().ok());
        let (vi, _) = load(" vrrp_mcast_group4 224.0.0.99", " mcast_dst_ip 239.255.0.1").unwrap();
        assert_eq!(vi.multicast_group, "239.255.0.1".parse().ok());
        let (vi, _) = load(" vrrp_mcast_group4 224.0.0.99", " mcast_dst_ip 224.0.0.18").unwrap();
        assert_eq!(vi.multicast_group, None);
    }

    /// What keepalived 2.2.7 -t says and does (watched): a group of the
    /// other family or not multicast is skipped, an IPv6 group beyond the
    /// link is used with a warning; `mcast_dst_ip` of the other family
    /// makes keepalived drop the instance, keepvip refuses it.
    #[test]
    fn bad_multicast_groups_as_keepalived() {
        let (vi, w) = load(
            " vrrp_mcast_group4 192.0.2.1\n vrrp_mcast_group6 224.0.0.99",
            " mcast_dst_ip 192.0.2.1",
        )
        .unwrap();
        assert_eq!(vi.multicast_group, None);
        assert!(
            w[0].ends_with("vrrp_mcast_group4 [192.0.2.1] is not multicast. Skipping"),
            "{w:?}"
        );
        assert!(
            w[1].ends_with("vrrp_mcast_group6 [224.0.0.99] is not IPv6. Skipping"),
            "{w:?}"
        );
        assert!(
            w[2].ends_with("(VI_1) mcast_dst_ip 192.0.2.1 not multicast. Skipping..."),
            "{w:?}"
        );
        let (_, w) = load(" vrrp_mcast_group6 ff05::99", "").unwrap();
        assert!(
            w[0].ends_with("vrrp_mcast_group6 [ff05::99] should be link-local multicast."),
            "{w:?}"
        );
        let err = load("", " mcast_dst_ip ff02::99").unwrap_err();
        assert!(
            err.starts_with("r1.conf:7: (VI_1) mcast_dst_ip ff02::99: expected an IPv4 group"),
            "{err}"
        );
    }

    #[test]
    fn checks_keepvip_always_makes_are_accepted() {
        let (_, w) = load(
            " vrrp_check_unicast_src\n vrrp_skip_check_adv_addr",
            " check_unicast_src\n skip_check_adv_addr\n accept",
        )
        .unwrap();
        assert!(w.is_empty(), "{w:?}");
    }

    /// keepalived 2.2.7 (`keepalived -t`): `vrrp_garp_extra_if [all] N`
    /// in global_defs, N 1..86400; `garp_extra_if [all] N` in an instance,
    /// where 0 turns the global one off; each unknown in the other place.
    #[test]
    fn garp_extra_if_global_and_per_instance() {
        let (vi, w) = load(" vrrp_garp_extra_if all 100", "").unwrap();
        assert_eq!(
            vi.options.garp_extra_if,
            GarpExtraIf {
                interval_s: 100,
                all: true
            }
        );
        assert!(w.is_empty(), "{w:?}");
        let (vi, _) = load(" vrrp_garp_extra_if all 100", " garp_extra_if 0").unwrap();
        assert_eq!(vi.options.garp_extra_if.sent_every_s(false), 0);
        let (vi, _) = load("", " garp_extra_if 30").unwrap();
        assert_eq!(
            (
                vi.options.garp_extra_if.interval_s,
                vi.options.garp_extra_if.sent_every_s(false)
            ),
            (30, 0)
        );
        let (vi, w) = load(" garp_extra_if all 5", " vrrp_garp_extra_if all 5").unwrap();
        assert_eq!(vi.options.garp_extra_if, GarpExtraIf::default());
        assert_eq!(w.len(), 2, "{w:?}");
        for (global, instance, expected) in [
            (" vrrp_garp_extra_if all 0", "", "(1..86400)"),
            ("", " garp_extra_if all 86401", "(0..86400)"),
            ("", " garp_extra_if some 3", "[all] SECONDS"),
            ("", " garp_extra_if all", "[all] SECONDS"),
        ] {
            let err = load(global, instance).unwrap_err();
            assert!(err.contains(expected), "{global}{instance}: {err}");
        }
    }

    /// keepalived 2.2.7 spaces announcements per interface, from
    /// global_defs only: in a vrrp_instance `garp_interval` and
    /// `gna_interval` are unknown keywords to it (`keepalived -t`), so
    /// they are warned about and change nothing here either.
    #[test]
    fn announcement_spacing_is_global() {
        let text = format!(
            "global_defs {{\n vrrp_garp_interval 0.05\n vrrp_gna_interval 0.000001\n}}\n{}",
            "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n garp_interval 1\n \
             virtual_ipaddress {\n  192.0.2.1\n }\n}\n"
        );
        let (c, w) = crate::config::parse_str(&text, std::path::Path::new("r1.conf")).unwrap();
        assert_eq!(
            (c.announce_spacing.garp_us, c.announce_spacing.gna_us),
            (50_000, 1)
        );
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].to_string().contains("'garp_interval'"), "{w:?}");
        let (c, _) = crate::config::parse_str("", std::path::Path::new("r1.conf")).unwrap();
        assert_eq!(c.announce_spacing, Default::default());
        let bad = "global_defs {\n vrrp_garp_interval abc\n}\n";
        let err = crate::config::parse_str(bad, std::path::Path::new("r1.conf")).unwrap_err();
        assert!(err.to_string().starts_with("r1.conf:2:"), "{err}");
    }

    /// keepalived 2.2.7 -t with vrrp_strict: authentication ignored, v2
    /// accept reset; and keepvip says it installs no firewall rules.
    #[test]
    fn strict_mode_at_load_as_keepalived() {
        let auth = " authentication {\n  auth_type PASS\n  auth_pass 1111\n }\n accept";
        let (vi, w) = load(" vrrp_strict", auth).unwrap();
        assert!(vi.options.strict);
        assert_eq!(vi.version, VrrpVersion::V2);
        assert_eq!(vi.authentication, None);
        assert!(
            w[0].ends_with("(VI_1) Strict mode does not support authentication. Ignoring."),
            "{w:?}"
        );
        assert!(w[1].contains("accept mode for VRRP version 2 does not comply with RFC3768"));
        assert!(w[2].contains("keepvip installs no firewall rules"));
        assert_eq!(w.len(), 3);
        // Per instance, and off again.
        let (vi, _) = load(" vrrp_strict", " strict_mode off").unwrap();
        assert!(!vi.options.strict);
        let (vi, w) = load("", " strict_mode\n version 3\n accept").unwrap();
        assert!(vi.options.strict && w.is_empty(), "{w:?}");
        let (_, w) = load("", " no_accept").unwrap();
        assert!(w[0].contains("keepvip installs no firewall rules"), "{w:?}");
    }

    #[test]
    fn announcements_and_tracking_options() {
        let (vi, _) = load(
            " vrrp_min_garp\n vrrp_lower_prio_no_advert\n vrrp_garp_master_refresh_repeat 2",
            " higher_prio_send_advert\n dont_track_primary\n garp_master_delay 3",
        )
        .unwrap();
        assert!(vi.options.lower_prio_no_advert && vi.options.higher_prio_send_advert);
        assert!(vi.options.dont_track_primary);
        assert_eq!(vi.options.garp_master_refresh_repeat, 2);
        // vrrp_min_garp, under what the instance says itself.
        assert_eq!((vi.garp_master_repeat, vi.garp_master_delay_s), (1, 3));
        assert_eq!(vi.garp_master_refresh_s, 0);
        let (vi, _) = load("", " lower_prio_no_advert false").unwrap();
        assert!(!vi.options.lower_prio_no_advert);
        assert_eq!(vi.options.garp_master_refresh_repeat, 1);
    }

    #[test]
    fn native_ipv6_needs_ipv6_addresses() {
        let err = load("", " native_ipv6").unwrap_err();
        assert!(
            err.contains("native_ipv6: the instance's virtual addresses are IPv4"),
            "{err}"
        );
    }
}
