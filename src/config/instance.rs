//! `vrrp_instance NAME { ... }` into an `InstanceConfig`, with keepalived's
//! defaults and its corrections of contradictory settings.

use std::net::Ipv4Addr;

use super::authentication::authentication;
use super::model::{
    Authentication, ConfigError, InitialState, InstanceConfig, Span, VirtualAddress, Warning,
};
use super::syntax::Statement;
use super::values::{
    advert_interval_cs, block_of, error_at, expected_found, flag, integer, ipv4_address, single,
    warn_at, warn_unsupported,
};
use super::virtual_address::virtual_addresses;

/// Priority of the address owner: master at once, never preempted.
const OWNER_PRIORITY: u8 = 255;
/// Linux interface names are at most IFNAMSIZ - 1 bytes.
const MAX_INTERFACE_NAME: usize = 15;

/// Instance values that `global_defs` may set for every instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InstanceDefaults {
    pub garp_master_delay_s: u32,
    pub garp_master_repeat: u32,
}

impl Default for InstanceDefaults {
    /// keepalived's own defaults: a second GARP burst 5 s after becoming
    /// master, 5 packets per burst.
    fn default() -> Self {
        InstanceDefaults {
            garp_master_delay_s: 5,
            garp_master_repeat: 5,
        }
    }
}

/// What the block said, before defaults and corrections. A keyword given
/// twice keeps its last value, as in keepalived.
#[derive(Default)]
struct Written {
    state: Option<InitialState>,
    interface: Option<String>,
    vrid: Option<u8>,
    priority: Option<u8>,
    advert_int_cs: Option<u16>,
    /// `nopreempt` (Some(span)) or `preempt` (None) last.
    nopreempt_at: Option<Span>,
    preempt_delay: Option<(u32, Span)>,
    mcast_src_ip: Option<Ipv4Addr>,
    authentication: Option<Authentication>,
    virtual_addresses: Vec<VirtualAddress>,
    garp_master_delay_s: Option<u32>,
    garp_master_repeat: Option<u32>,
}

pub(crate) fn instance(
    statement: &Statement,
    defaults: InstanceDefaults,
    warnings: &mut Vec<Warning>,
) -> Result<InstanceConfig, ConfigError> {
    let name = match statement.args.first() {
        Some(name) => name.clone(),
        None => {
            return Err(error_at(
                &statement.span,
                "vrrp_instance: missing argument, expected an instance name".to_string(),
            ))
        }
    };
    if statement.args.len() > 1 {
        warn_at(
            warnings,
            &statement.span,
            format!("vrrp_instance {name}: extra values after the name ignored"),
        );
    }
    let mut written = Written::default();
    for line in block_of(statement)? {
        read_line(line, &mut written, warnings)?;
    }
    finish(name, statement.span.clone(), written, defaults, warnings)
}

fn read_line(
    line: &Statement,
    w: &mut Written,
    warnings: &mut Vec<Warning>,
) -> Result<(), ConfigError> {
    // Values are range checked, so the narrowing below cannot fail.
    let narrow = |v: u32| u8::try_from(v).unwrap_or(u8::MAX);
    match line.keyword.as_str() {
        "state" => {
            let text = single(line, "MASTER or BACKUP", warnings)?;
            w.state = Some(if text.eq_ignore_ascii_case("MASTER") {
                InitialState::Master
            } else if text.eq_ignore_ascii_case("BACKUP") {
                InitialState::Backup
            } else {
                return Err(expected_found(line, "MASTER or BACKUP", text));
            });
        }
        "interface" => {
            let text = single(line, "an interface name", warnings)?;
            if text.len() > MAX_INTERFACE_NAME || text.contains('/') {
                return Err(expected_found(
                    line,
                    "an interface name of at most 15 bytes",
                    text,
                ));
            }
            w.interface = Some(text.to_string());
        }
        "virtual_router_id" => w.vrid = Some(narrow(integer(line, 1, 255, warnings)?)),
        "priority" => w.priority = Some(narrow(integer(line, 1, 255, warnings)?)),
        "advert_int" => w.advert_int_cs = Some(advert_interval_cs(line, warnings)?),
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
        "mcast_src_ip" => {
            let text = single(line, "an IPv4 address", warnings)?;
            w.mcast_src_ip = Some(ipv4_address(line, text, "addresses")?);
        }
        "authentication" => w.authentication = authentication(line, warnings)?,
        "virtual_ipaddress" => {
            let block = block_of(line)?;
            w.virtual_addresses
                .extend(virtual_addresses(block, warnings)?);
        }
        "garp_master_delay" => {
            w.garp_master_delay_s = Some(integer(line, 0, u32::MAX, warnings)?);
        }
        "garp_master_repeat" => {
            w.garp_master_repeat = Some(integer(line, 0, u32::MAX, warnings)?);
        }
        "version" | "vrrp_version" => check_vrrp_version(line, warnings)?,
        _ => warn_unsupported(warnings, line),
    }
    Ok(())
}

/// VRRPv2 is all keepvip speaks for now; say so instead of silently
/// talking v2 to v3 peers.
pub(crate) fn check_vrrp_version(
    line: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<(), ConfigError> {
    match single(line, "2 or 3", warnings)? {
        "2" => Ok(()),
        "3" => Err(error_at(
            &line.span,
            format!("{}: VRRPv3 is not supported yet", line.keyword),
        )),
        other => Err(expected_found(line, "2 or 3", other)),
    }
}

fn finish(
    name: String,
    span: Span,
    w: Written,
    defaults: InstanceDefaults,
    warnings: &mut Vec<Warning>,
) -> Result<InstanceConfig, ConfigError> {
    let missing = |what: &str| {
        error_at(
            &span,
            format!("vrrp_instance {name}: missing '{what}' (required)"),
        )
    };
    let interface = w.interface.ok_or_else(|| missing("interface"))?;
    let vrid = w.vrid.ok_or_else(|| missing("virtual_router_id"))?;
    if w.virtual_addresses.is_empty() {
        return Err(missing("virtual_ipaddress (at least one address)"));
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
            warn_at(warnings, at, message);
        } else if wants_master {
            let message = format!(
                "({name}) Warning - nopreempt will not work with initial state MASTER - clearing"
            );
            warn_at(warnings, at, message);
        } else {
            preempt = false;
        }
    }
    let mut preempt_delay_s = 0;
    if let Some((delay, at)) = w.preempt_delay.filter(|(delay, _)| *delay > 0) {
        let cleared = if wants_master {
            Some("Warning - preempt delay will not work with initial state MASTER - clearing")
        } else if !preempt {
            Some("preempt_delay is incompatible with nopreempt mode - resetting")
        } else if priority == OWNER_PRIORITY {
            // keepalived keeps it silently; it can never apply to the owner.
            Some("preempt_delay has no effect with priority 255 (address owner) - clearing")
        } else {
            None
        };
        match cleared {
            Some(why) => warn_at(warnings, &at, format!("({name}) {why}")),
            None => preempt_delay_s = delay,
        }
    }

    Ok(InstanceConfig {
        name,
        span,
        initial_state,
        interface,
        vrid,
        priority,
        advert_int_cs: w.advert_int_cs.unwrap_or(100),
        preempt,
        preempt_delay_s,
        mcast_src_ip: w.mcast_src_ip,
        authentication: w.authentication,
        virtual_addresses: w.virtual_addresses,
        garp_master_delay_s: w
            .garp_master_delay_s
            .unwrap_or(defaults.garp_master_delay_s),
        garp_master_repeat: w.garp_master_repeat.unwrap_or(defaults.garp_master_repeat),
        // Filled in by the tracking and notify work (issue 3).
        track_scripts: Vec::new(),
        track_interfaces: Vec::new(),
        notify: Default::default(),
    })
}
