//! `vrrp_instance NAME { ... }` into an `InstanceConfig`, with keepalived's
//! defaults and its corrections of contradictory settings.

use std::net::IpAddr;

use super::authentication::authentication;
use super::command::notify_command;
use super::instance_options::{
    firewall_warning, instance_group, mcast_dst_ip, read_option, strict_mode, unicast_ttl,
    WrittenOptions,
};
use super::keywords::not_implemented;
use super::model::{
    Authentication, Command, ConfigError, InitialState, InstanceConfig, NotifyCommands, Span,
    TrackedInterface, VirtualAddress, Vmac, VrrpVersion, Warning, WarningKind,
};
use super::routes::{routes, rules, Route, Rule};
use super::syntax::Statement;
use super::tracking::{interface_name, track_interfaces, track_scripts, ScriptRef};
use super::values::{
    advert_interval_cs, advert_interval_v3_cs, block_name, block_of, error_at, expected_found,
    flag, integer, ip_address, single, warn_at, warn_keepalived_error_at,
};
use super::virtual_address::{cap_advertised, place_on_address_vmacs, virtual_addresses};
use super::vmac_names::VmacNames;

/// Linux's loopback interface, the same name in every network namespace.
const LOOPBACK: &str = "lo";

/// Priority of the address owner: master at once, never preempted.
pub(crate) const OWNER_PRIORITY: u8 = 255;

/// Instance values that `global_defs` may set for every instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InstanceDefaults {
    pub garp_master_delay_s: u32,
    pub garp_master_repeat: u32,
    pub garp_master_refresh_s: u32,
    /// `vrrp_garp_lower_prio_repeat`; None: `vrrp_garp_master_repeat`
    /// (1 under `vrrp_min_garp`), whatever an instance's garp_master_repeat.
    pub garp_lower_prio_repeat: Option<u32>,
    /// `vrrp_garp_lower_prio_delay`; None: `vrrp_garp_master_delay` (0
    /// under `vrrp_min_garp`), whatever an instance's garp_master_delay.
    pub garp_lower_prio_delay_s: Option<u32>,
    /// `vrrp_version`.
    pub version: VrrpVersion,
    /// `vrrp_strict`, `vrrp_min_garp`, `vrrp_lower_prio_no_advert`, ...
    pub options: WrittenOptions,
}

impl Default for InstanceDefaults {
    /// keepalived's own defaults: a second GARP burst 5 s after becoming
    /// master, 5 packets per burst.
    fn default() -> Self {
        InstanceDefaults {
            garp_master_delay_s: 5,
            garp_master_repeat: 5,
            garp_master_refresh_s: 0,
            garp_lower_prio_repeat: None,
            garp_lower_prio_delay_s: None,
            version: VrrpVersion::V2,
            options: WrittenOptions::default(),
        }
    }
}

/// What the block said, before defaults and corrections. A keyword given
/// twice keeps its last value, as in keepalived.
#[derive(Default)]
struct Written {
    state: Option<InitialState>,
    interface: Option<(String, Span)>,
    vrid: Option<u8>,
    priority: Option<u8>,
    version: Option<(VrrpVersion, Span)>,
    /// Read once the version is known: its units depend on it.
    advert_int: Option<Statement>,
    /// `nopreempt` (Some(span)) or `preempt` (None) last.
    nopreempt_at: Option<Span>,
    preempt_delay: Option<(u32, Span)>,
    mcast_src_ip: Option<(IpAddr, Span)>,
    /// `mcast_dst_ip`, if multicast; its family is checked in `finish`.
    mcast_dst_ip: Option<(IpAddr, Span)>,
    unicast_src_ip: Option<(IpAddr, Span)>,
    unicast_peers: Vec<(IpAddr, Span)>,
    unicast_ttl: Option<(u8, Span)>,
    authentication: Option<(Authentication, Span)>,
    /// `use_vmac [NAME]`: the name if given, and the line.
    use_vmac: Option<(Option<String>, Span)>,
    vmac_xmit_base: bool,
    virtual_addresses: Vec<VirtualAddress>,
    /// `no_virtual_ipaddress`: an instance without addresses is meant.
    no_virtual_ipaddress_at: Option<Span>,
    /// `virtual_ipaddress_excluded`: owned, not advertised, either family.
    excluded_addresses: Vec<VirtualAddress>,
    garp_master_delay_s: Option<u32>,
    garp_master_repeat: Option<u32>,
    garp_master_refresh_s: Option<u32>,
    garp_lower_prio_repeat: Option<u32>,
    garp_lower_prio_delay_s: Option<u32>,
    track_scripts: Vec<ScriptRef>,
    track_interfaces: Vec<TrackedInterface>,
    notify: NotifyCommands,
    virtual_routes: Vec<Route>,
    virtual_rules: Vec<Rule>,
    /// None until the first keyword of `instance_options`: then a copy of
    /// global_defs' with the instance's lines applied.
    options: Option<WrittenOptions>,
}

/// The instance, and its `track_script` lines still to be looked up once
/// every `vrrp_script` is known (its `track_scripts` is empty until then).
pub(crate) fn instance(
    statement: &Statement,
    defaults: InstanceDefaults,
    vmac_names: &mut VmacNames,
    warnings: &mut Vec<Warning>,
) -> Result<(InstanceConfig, Vec<ScriptRef>), ConfigError> {
    let name = block_name(statement, "an instance name", warnings)?;
    let mut written = Written::default();
    for line in block_of(statement)? {
        let options = written.options.get_or_insert(defaults.options);
        if !read_option(line, options, warnings)? {
            read_line(&name, line, &mut written, warnings)?;
        }
    }
    let script_refs = std::mem::take(&mut written.track_scripts);
    let config = finish(
        name,
        statement.span.clone(),
        written,
        defaults,
        vmac_names,
        warnings,
    )?;
    Ok((config, script_refs))
}

fn read_line(
    name: &str,
    line: &Statement,
    w: &mut Written,
    warnings: &mut Vec<Warning>,
) -> Result<(), ConfigError> {
    // Values are range checked, so the narrowing below cannot fail.
    let narrow = |v: u32| u8::try_from(v).unwrap_or(u8::MAX);
    match line.keyword.as_str() {
        "state" => {
            let text = single(line, "MASTER or BACKUP", warnings)?;
            // keepalived 2.2.7 compares the word exactly and runs anything
            // else (`SLAVE`, `master`) as BACKUP, with these words.
            w.state = Some(match text {
                "MASTER" => InitialState::Master,
                "BACKUP" => InitialState::Backup,
                other => {
                    let message = format!("({name}) unknown state '{other}', defaulting to BACKUP");
                    warn_keepalived_error_at(warnings, &line.span, message);
                    InitialState::Backup
                }
            });
        }
        "interface" => {
            let text = single(line, "an interface name", warnings)?;
            // keepalived 2.2.7 drops such an instance as having no
            // interface, which stops the whole daemon (its other instances
            // too) and fails -t: refused here, in its words.
            if text == LOOPBACK {
                return Err(error_at(
                    &line.span,
                    format!(
                        "({name}) cannot use a loopback interface ({text}) for vrrp: keepalived \
                         2.2.7 does not start with it either"
                    ),
                ));
            }
            w.interface = Some((interface_name(line, text)?, line.span.clone()));
        }
        "virtual_router_id" => w.vrid = Some(narrow(integer(line, 1, 255, warnings)?)),
        "priority" => w.priority = Some(narrow(integer(line, 1, 255, warnings)?)),
        "advert_int" => {
            // Checked for a value now; its units wait for the version.
            single(line, "seconds", &mut Vec::new())?;
            w.advert_int = Some(line.clone());
        }
        "nopreempt" => {
            flag(line, warnings)?;
            w.nopreempt_at = Some(line.span.clone());
        }
        "preempt" => {
            // The default; accepted so configs that spell it out still load.
            flag(line, warnings)?;
            w.nopreempt_at = None;
        }
        "preempt_delay" => {
            w.preempt_delay = Some((integer(line, 0, 1000, warnings)?, line.span.clone()));
        }
        "mcast_dst_ip" => {
            w.mcast_dst_ip = mcast_dst_ip(name, line, warnings)?.map(|a| (a, line.span.clone()));
        }
        "mcast_src_ip" => {
            let text = single(line, "an IPv4 or IPv6 address", warnings)?;
            w.mcast_src_ip = Some((ip_address(line, text)?, line.span.clone()));
        }
        "unicast_src_ip" => {
            let text = single(line, "an IPv4 or IPv6 address", warnings)?;
            w.unicast_src_ip = Some((ip_address(line, text)?, line.span.clone()));
        }
        "unicast_ttl" => {
            w.unicast_ttl = Some((narrow(integer(line, 1, 255, warnings)?), line.span.clone()));
        }
        "unicast_peer" => {
            for peer in block_of(line)? {
                w.unicast_peers.push(unicast_peer(peer, warnings)?);
            }
        }
        "authentication" => {
            w.authentication = authentication(line, warnings)?.map(|a| (a, line.span.clone()));
        }
        "use_vmac" => {
            let name = match line.args.first() {
                None => None,
                Some(given) => {
                    let name = single(line, "an interface name", warnings)?;
                    if name.is_empty() || name.len() > 15 || name.contains(['/', ':']) {
                        return Err(expected_found(
                            line,
                            "an interface name of 1 to 15 bytes",
                            given,
                        ));
                    }
                    Some(name.to_string())
                }
            };
            w.use_vmac = Some((name, line.span.clone()));
        }
        "vmac_xmit_base" => {
            flag(line, warnings)?;
            w.vmac_xmit_base = true;
        }
        "vmac_garp_intvl" => {
            // keepalived 2.2.7 says this and, in a namespace, sent no
            // gratuitous ARP beyond the usual bursts with it set.
            warn_keepalived_error_at(
                warnings,
                &line.span,
                "Keyword \"vmac_garp_intvl\" is deprecated - please use \"garp_extra_if\""
                    .to_string(),
            );
        }
        "virtual_ipaddress" => {
            let block = block_of(line)?;
            w.virtual_addresses
                .extend(virtual_addresses(block, true, warnings)?);
        }
        "no_virtual_ipaddress" => {
            flag(line, warnings)?;
            w.no_virtual_ipaddress_at = Some(line.span.clone());
        }
        "virtual_ipaddress_excluded" => {
            let block = block_of(line)?;
            w.excluded_addresses
                .extend(virtual_addresses(block, false, warnings)?);
        }
        "garp_master_delay" => {
            w.garp_master_delay_s = Some(integer(line, 0, u32::MAX, warnings)?);
        }
        "garp_master_repeat" => {
            w.garp_master_repeat = Some(integer(line, 0, u32::MAX, warnings)?);
        }
        "garp_master_refresh" => {
            w.garp_master_refresh_s = Some(integer(line, 0, 86_400, warnings)?);
        }
        "garp_lower_prio_repeat" => {
            w.garp_lower_prio_repeat = Some(integer(line, 0, u32::MAX, warnings)?);
        }
        "garp_lower_prio_delay" => {
            w.garp_lower_prio_delay_s = Some(integer(line, 0, u32::MAX, warnings)?);
        }
        "version" | "vrrp_version" => {
            w.version = Some((vrrp_version(line, warnings)?, line.span.clone()));
        }
        "track_script" => {
            let block = block_of(line)?;
            w.track_scripts
                .extend(track_scripts(name, block, warnings)?);
        }
        "track_interface" => {
            let block = block_of(line)?;
            w.track_interfaces
                .extend(track_interfaces(name, block, warnings)?);
        }
        // Looked up by the parser once every track_file block is known.
        // Read by the parser, which knows global_defs' default.
        "notify_priority_changes" => {
            super::notify_fifo::boolean(line)?;
        }
        "track_file" | "track_process" => {
            block_of(line)?;
        }
        "notify_master" => set_notify(name, line, &mut w.notify.master, warnings)?,
        "notify_backup" => set_notify(name, line, &mut w.notify.backup, warnings)?,
        "notify_fault" => set_notify(name, line, &mut w.notify.fault, warnings)?,
        "notify_stop" => set_notify(name, line, &mut w.notify.stop, warnings)?,
        "notify" => set_notify(name, line, &mut w.notify.any, warnings)?,
        "virtual_routes" => w.virtual_routes.extend(routes(line, warnings)?),
        "virtual_rules" => w.virtual_rules.extend(rules(line, warnings)?),
        // keepalived 2.2.7 knows this one; its later synonyms
        // notify_primary* are unknown keywords to it, and so to keepvip.
        "notify_master_rx_lower_pri" => {
            set_notify(name, line, &mut w.notify.master_rx_lower_pri, warnings)?
        }
        _ => not_implemented(warnings, line)?,
    }
    Ok(())
}

/// A second `notify_*` of the same kind is ignored with keepalived's
/// warning: the first one stays (unlike other keywords, where the last
/// wins, because that is what keepalived runs).
fn set_notify(
    name: &str,
    line: &Statement,
    slot: &mut Option<Command>,
    warnings: &mut Vec<Warning>,
) -> Result<(), ConfigError> {
    let command = notify_command(line, warnings)?;
    if slot.is_some() {
        let message = format!(
            "({name}) {} script already specified - ignoring {}",
            line.keyword,
            command.argv.join(" ")
        );
        warn_keepalived_error_at(warnings, &line.span, message);
    } else {
        *slot = Some(command);
    }
    Ok(())
}

/// `version 2|3` in an instance, `vrrp_version 2|3` in global_defs.
pub(crate) fn vrrp_version(
    line: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<VrrpVersion, ConfigError> {
    match single(line, "2 or 3", warnings)? {
        "2" => Ok(VrrpVersion::V2),
        "3" => Ok(VrrpVersion::V3),
        other => Err(expected_found(line, "2 or 3", other)),
    }
}

/// One `unicast_peer` line: an address, and keepalived's optional
/// `min_ttl N` / `max_ttl N`, which keepvip does not check (warned).
fn unicast_peer(
    line: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<(IpAddr, Span), ConfigError> {
    if line.block.is_some() {
        return Err(error_at(
            &line.span,
            format!(
                "unicast_peer: '{}' does not take a '{{' block",
                line.keyword
            ),
        ));
    }
    let addr = ip_address(line, &line.keyword)?;
    let mut options = line.args.iter();
    while let Some(option) = options.next() {
        match option.as_str() {
            "min_ttl" | "max_ttl" => {
                let value = options.next().map(String::as_str).unwrap_or("");
                warn_at(
                    warnings,
                    &line.span,
                    format!(
                        "unicast_peer {addr}: '{option} {value}' is not supported by keepvip \
                         yet, ignored"
                    ),
                );
            }
            other => warn_keepalived_error_at(
                warnings,
                &line.span,
                format!("unicast_peer {addr}: unknown option '{other}', ignored"),
            ),
        }
    }
    Ok((addr, line.span.clone()))
}

/// The instance's family, from its first virtual address as keepalived
/// decides it (without one: from its advert source or first unicast peer,
/// else IPv4). A virtual address of the other
/// family is dropped with keepalived 2.2.7's warning (it runs the rest);
/// a unicast peer or source of the other family is an error: keepalived
/// drops such a peer and falls back to multicast, a silent change of mode
/// that keepvip refuses.
fn check_families(
    name: &str,
    w: &mut Written,
    warnings: &mut Vec<Warning>,
) -> Result<bool, ConfigError> {
    let ipv6 = match w.virtual_addresses.first() {
        Some(first) => first.addr.is_ipv6(),
        None => w
            .unicast_src_ip
            .iter()
            .chain(&w.mcast_src_ip)
            .chain(w.unicast_peers.first())
            .next()
            .is_some_and(|(addr, _)| addr.is_ipv6()),
    };
    let family = |v6: bool| if v6 { "IPv6" } else { "IPv4" };
    let mismatch = |span: &Span, what: &str, addr: &IpAddr| {
        error_at(
            span,
            format!(
                "({name}) {what} {addr} is not {}, the family of the instance's first \
                 virtual address: one instance cannot mix IPv4 and IPv6",
                family(ipv6)
            ),
        )
    };
    w.virtual_addresses.retain(|vip| {
        let same = vip.addr.is_ipv6() == ipv6;
        if !same {
            // keepalived shows the address as written, prefix included.
            let full_length = if vip.addr.is_ipv6() { 128 } else { 32 };
            let shown = if vip.prefix_len == full_length {
                vip.addr.to_string()
            } else {
                format!("{}/{}", vip.addr, vip.prefix_len)
            };
            let message =
                format!("({name}): address family must match VRRP instance [{shown}] - ignoring");
            warn_keepalived_error_at(warnings, &vip.span, message);
        }
        same
    });
    for (addr, span) in &w.unicast_peers {
        if addr.is_ipv6() != ipv6 {
            return Err(mismatch(span, "unicast_peer", addr));
        }
    }
    for (what, source) in [
        ("mcast_src_ip", &w.mcast_src_ip),
        ("unicast_src_ip", &w.unicast_src_ip),
    ] {
        if let Some((addr, span)) = source {
            if addr.is_ipv6() != ipv6 {
                return Err(mismatch(span, what, addr));
            }
        }
    }
    Ok(ipv6)
}

/// An instance without advertised addresses (cloud failover moved by
/// notify scripts) sends adverts that carry none. keepalived 2.2.7 runs it
/// under VRRPv2, with a warning, and refuses it under VRRPv3 (IPv6
/// included); its words. `no_virtual_ipaddress` (keepalived 2.3) says it
/// is meant and silences the warning.
fn check_has_addresses(
    name: &str,
    span: &Span,
    w: &Written,
    version: VrrpVersion,
    warnings: &mut Vec<Warning>,
) -> Result<(), ConfigError> {
    if !w.virtual_addresses.is_empty() {
        if let Some(at) = &w.no_virtual_ipaddress_at {
            let message =
                format!("({name}) no_virtual_ipaddress with virtual addresses listed - ignored");
            warn_at(warnings, at, message);
        }
        return Ok(());
    }
    match version {
        VrrpVersion::V3 => Err(error_at(
            span,
            format!("({name}) No VIP specified; at least one is required"),
        )),
        VrrpVersion::V2 => {
            if w.no_virtual_ipaddress_at.is_none() {
                let message = format!("({name}) No VIP specified; at least one is sensible");
                warn_keepalived_error_at(warnings, span, message);
            }
            Ok(())
        }
    }
}

/// The version in force: the instance's, else global_defs'; IPv6 is always
/// VRRPv3 (RFC 3768 has no IPv6), as in keepalived.
fn resolve_version(
    name: &str,
    ipv6: bool,
    w: &Written,
    defaults: InstanceDefaults,
    warnings: &mut Vec<Warning>,
) -> VrrpVersion {
    match &w.version {
        Some((VrrpVersion::V2, span)) if ipv6 => {
            let message = format!("({name}) VRRPv2 cannot carry IPv6 addresses: using version 3");
            warn_at(warnings, span, message);
            VrrpVersion::V3
        }
        Some((version, _)) => *version,
        None if ipv6 => VrrpVersion::V3,
        None => defaults.version,
    }
}

fn finish(
    name: String,
    span: Span,
    mut w: Written,
    defaults: InstanceDefaults,
    vmac_names: &mut VmacNames,
    warnings: &mut Vec<Warning>,
) -> Result<InstanceConfig, ConfigError> {
    let missing = |what: &str| {
        error_at(
            &span,
            format!("vrrp_instance {name}: missing '{what}' (required)"),
        )
    };
    let (interface, interface_span) = w.interface.clone().ok_or_else(|| missing("interface"))?;
    let vrid = w.vrid.ok_or_else(|| missing("virtual_router_id"))?;
    let ipv6 = check_families(&name, &mut w, warnings)?;
    let version = resolve_version(&name, ipv6, &w, defaults, warnings);
    check_has_addresses(&name, &span, &w, version, warnings)?;
    let advert_int_cs = match (&w.advert_int, version) {
        (None, _) => 100,
        (Some(line), VrrpVersion::V2) => advert_interval_cs(line, warnings)?,
        (Some(line), VrrpVersion::V3) => advert_interval_v3_cs(line, warnings)?,
    };
    let authentication = match (w.authentication, version) {
        (Some((_, span)), VrrpVersion::V3) => {
            let message =
                format!("({name}) VRRP version 3 does not support authentication. Ignoring.");
            warn_keepalived_error_at(warnings, &span, message);
            None
        }
        (auth, _) => auth.map(|(a, _)| a),
    };
    let written_options = w.options.unwrap_or(defaults.options);
    let multicast_group = instance_group(&name, w.mcast_dst_ip.take(), ipv6, &written_options)?;
    let ah = matches!(authentication, Some(Authentication::Ah(_)));
    let has_peers = !w.unicast_peers.is_empty();
    let unicast_ttl = unicast_ttl(&name, w.unicast_ttl.take(), has_peers, ah, warnings)?;
    let mut authentication = authentication;
    let mut accept = written_options.accept;
    if written_options.options.strict {
        let v2 = version == VrrpVersion::V2;
        strict_mode(&name, &span, v2, &mut authentication, &mut accept, warnings);
    }
    if accept == Some(false) || (written_options.options.strict && accept.is_none()) {
        firewall_warning(&name, &span, warnings);
    }
    if written_options.native_ipv6 && !ipv6 {
        return Err(error_at(
            &span,
            format!("({name}) native_ipv6: the instance's virtual addresses are IPv4"),
        ));
    }

    // keepalived: `state MASTER` without a priority means the owner (255);
    // priority 255 without a state means MASTER.
    let priority = w.priority.unwrap_or(match w.state {
        Some(InitialState::Master) => OWNER_PRIORITY,
        _ => 100,
    });
    let initial_state = w.state.unwrap_or(if priority == OWNER_PRIORITY {
        InitialState::Master
    } else {
        InitialState::Backup
    });
    let wants_master = initial_state == InitialState::Master;

    // nopreempt cannot hold for a router that is meant to take over at once;
    // keepalived clears it with these words (checked against keepalived -t).
    let mut preempt = true;
    if let Some(at) = &w.nopreempt_at {
        if priority == OWNER_PRIORITY {
            let message = format!(
                "({name}) nopreempt is incompatible with priority 255. resetting nopreempt"
            );
            warn_keepalived_error_at(warnings, at, message);
        } else if wants_master {
            let message = format!(
                "({name}) Warning - nopreempt will not work with initial state MASTER - clearing"
            );
            warn_keepalived_error_at(warnings, at, message);
        } else {
            preempt = false;
        }
    }
    let mut preempt_delay_s = 0;
    if let Some((delay, at)) = w.preempt_delay.filter(|(delay, _)| *delay > 0) {
        // The first two are keepalived's config errors, in its words.
        let cleared = if wants_master {
            Some((
                "Warning - preempt delay will not work with initial state MASTER - clearing",
                WarningKind::KeepalivedError,
            ))
        } else if !preempt {
            Some((
                "preempt_delay is incompatible with nopreempt mode - resetting",
                WarningKind::KeepalivedError,
            ))
        } else if priority == OWNER_PRIORITY {
            // keepalived keeps it silently; it can never apply to the owner.
            Some((
                "preempt_delay has no effect with priority 255 (address owner) - clearing",
                WarningKind::Accepted,
            ))
        } else {
            None
        };
        match cleared {
            Some((why, WarningKind::KeepalivedError)) => {
                warn_keepalived_error_at(warnings, &at, format!("({name}) {why}"))
            }
            Some((why, WarningKind::Accepted)) => warn_at(warnings, &at, format!("({name}) {why}")),
            None => preempt_delay_s = delay,
        }
    }

    let mut advertised = w.virtual_addresses;
    cap_advertised(&name, ipv6, version, &mut advertised, warnings);
    let mut virtual_addresses = owned_addresses(&name, advertised, w.excluded_addresses, warnings);
    let vmac = w.use_vmac.map(|(written, at)| Vmac {
        name: vmac_names.own(
            &name,
            &interface,
            written.as_deref(),
            &at,
            vrid,
            ipv6,
            warnings,
        ),
        xmit_base: w.vmac_xmit_base,
    });
    if let Some(vmac) = &vmac {
        // keepalived puts every address without a `dev` on the macvlan.
        for vip in virtual_addresses.iter_mut().filter(|v| v.dev.is_none()) {
            vip.dev = Some(vmac.name.clone());
        }
    }
    let (mut track_interfaces, owner_ignored_track_interfaces) =
        checked_track_interfaces(&name, &interface, priority, w.track_interfaces, warnings);
    let address_devs = virtual_addresses
        .iter()
        .filter(|v| !v.no_track)
        .filter_map(|v| Some((v.dev.as_deref()?, &v.span)));
    track_devices(&interface, address_devs, &mut track_interfaces);
    let route_devs = w
        .virtual_routes
        .iter()
        .filter(|r| !r.no_track)
        .filter_map(|r| Some((r.dev.as_deref()?, &r.span)));
    track_devices(&interface, route_devs, &mut track_interfaces);
    // After tracking: an address's `dev` is tracked, not its macvlan.
    let address_vmacs = place_on_address_vmacs(
        &name,
        &interface,
        vrid,
        ipv6,
        vmac.as_ref().map(|v| v.name.as_str()),
        vmac_names,
        &mut virtual_addresses,
    )?;

    // vrrp_min_garp: keepalived's smallest announcements, under what the
    // instance itself says.
    let (min_delay, min_repeat, min_refresh) = if written_options.min_garp {
        (0, 1, 0)
    } else {
        (
            defaults.garp_master_delay_s,
            defaults.garp_master_repeat,
            defaults.garp_master_refresh_s,
        )
    };
    let garp_master_delay_s = w.garp_master_delay_s.unwrap_or(min_delay);
    let garp_master_repeat = w.garp_master_repeat.unwrap_or(min_repeat);
    Ok(InstanceConfig {
        vmac,
        address_vmacs,
        name,
        span,
        initial_state,
        interface,
        interface_span,
        vrid,
        priority,
        version,
        advert_int_cs,
        preempt,
        preempt_delay_s,
        mcast_src_ip: w.mcast_src_ip.map(|(a, _)| a),
        multicast_group,
        unicast_src_ip: w.unicast_src_ip.map(|(a, _)| a),
        unicast_peers: w.unicast_peers.into_iter().map(|(a, _)| a).collect(),
        unicast_ttl,
        authentication,
        virtual_addresses,
        garp_master_delay_s,
        garp_master_repeat,
        garp_master_refresh_s: w.garp_master_refresh_s.unwrap_or(min_refresh),
        // keepalived's defaults: the global master burst and delay, not
        // the instance's own garp_master_repeat / garp_master_delay (what
        // keepalived 2.2.7 does on the wire).
        garp_lower_prio_repeat: w
            .garp_lower_prio_repeat
            .or(defaults.garp_lower_prio_repeat)
            .unwrap_or(min_repeat),
        garp_lower_prio_delay_s: w
            .garp_lower_prio_delay_s
            .or(defaults.garp_lower_prio_delay_s)
            .unwrap_or(min_delay),
        // Filled in by the parser once every vrrp_script is known.
        track_scripts: Vec::new(),
        track_interfaces,
        owner_ignored_track_interfaces,
        // Filled in by the parser once every track_file is known.
        track_files: Vec::new(),
        track_processes: Vec::new(),
        // Set by the parser: its default is in global_defs.
        notify_priority_changes: false,
        notify: w.notify,
        virtual_routes: w.virtual_routes,
        virtual_rules: w.virtual_rules,
        options: written_options.options,
    })
}

/// Every address the instance owns: the advertised ones, then the
/// excluded ones. An excluded address listed again would be added once and
/// removed twice, so a repeat is dropped with a warning (keepalived 2.2.7
/// takes it silently); listed in both blocks, it stays advertised. The
/// advertised list is kept as written: it is what the adverts carry.
fn owned_addresses(
    name: &str,
    advertised: Vec<VirtualAddress>,
    excluded: Vec<VirtualAddress>,
    warnings: &mut Vec<Warning>,
) -> Vec<VirtualAddress> {
    let mut owned = advertised;
    for vip in excluded {
        let earlier = owned
            .iter()
            .find(|o| o.addr == vip.addr && o.dev == vip.dev);
        match earlier {
            Some(earlier) => {
                let message = format!(
                    "({name}) virtual_ipaddress_excluded {}: already a virtual address at {}, \
                     ignored",
                    vip.addr, earlier.span
                );
                warn_at(warnings, &vip.span, message);
            }
            None => owned.push(vip),
        }
    }
    owned
}

/// keepalived 2.2.7 tracks the interface of every address and virtual
/// route it owns: one on `dev OTHER` going down puts the instance in FAULT
/// (watched in a namespace), unless the line says `no_track`. An interface
/// already tracked keeps its line's weight.
fn track_devices<'a>(
    own_interface: &str,
    devices: impl Iterator<Item = (&'a str, &'a Span)>,
    tracked: &mut Vec<TrackedInterface>,
) {
    for (dev, span) in devices {
        if dev == own_interface || tracked.iter().any(|t| t.interface == dev) {
            continue;
        }
        tracked.push(TrackedInterface {
            interface: dev.to_string(),
            weight: 0,
            reverse: false,
            span: span.clone(),
        });
    }
}

/// keepalived's corrections, with its words (checked with keepalived -t):
/// the instance's own interface is always tracked, so listing it is
/// dropped; and the address owner's priority is fixed at 255, so a weight
/// could only make it claim less than it owns: weighted lines are dropped
/// (returned second: their interface must exist all the same).
/// Weight 0 lines stay on the owner: a down link still means FAULT.
fn checked_track_interfaces(
    name: &str,
    own_interface: &str,
    priority: u8,
    written: Vec<TrackedInterface>,
    warnings: &mut Vec<Warning>,
) -> (Vec<TrackedInterface>, Vec<TrackedInterface>) {
    let mut kept = Vec::with_capacity(written.len());
    let mut owner_ignored = Vec::new();
    for tracked in written {
        if tracked.interface == own_interface {
            let message = format!(
                "({name}) Ignoring track_interface {} since own interface",
                tracked.interface
            );
            warn_keepalived_error_at(warnings, &tracked.span, message);
        } else if priority == OWNER_PRIORITY && tracked.weight != 0 {
            let message = format!(
                "({name}) ignoring {} tracked interface due to address owner",
                tracked.interface
            );
            warn_keepalived_error_at(warnings, &tracked.span, message);
            owner_ignored.push(tracked);
        } else {
            kept.push(tracked);
        }
    }
    (kept, owner_ignored)
}
