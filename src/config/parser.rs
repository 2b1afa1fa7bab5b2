//! The entry points: a file (or text) in, a checked `Config` out.

use std::collections::HashMap;
use std::path::Path;

use super::conditional::default_config_id;
use super::digest::digest;
use super::include::tokens_with_includes;
use super::instance::{instance, vrrp_version, InstanceDefaults, OWNER_PRIORITY};
use super::instance_options::{garp_extra_if, read_option};
use super::keywords::not_implemented;
use super::model::{Config, ConfigError, ScriptConfig, TrackedScript, Warning};
use super::routes::{default_rule_priorities, routes, rules};
use super::scheduling::scheduling_keyword;
use super::script::{vrrp_script, ScriptBlock};
use super::source::read_text;
use super::sync_group::{drop_weighted_track_scripts, sync_group};
use super::syntax::{statements, Statement};
use super::track_file::{resolve_tracked_files, track_file_block};
use super::track_process::{resolve_tracked_processes, track_process_block};
use super::tracking::ScriptRef;
use super::values::{
    block_of, error_at, flag, integer, run_as, seconds_us_or_zero, single,
    warn_keepalived_error_at, warn_unsupported,
};
use super::virtual_address::static_addresses;
use super::vmac_names::{KeptVmac, VmacNames};

/// Reads and checks the config at `path` and the files it includes.
/// Warnings are things accepted but not acted on; the caller logs them.
/// Conditional lines (`@ID`) are read as on this host (see `load_as`).
pub fn load(path: &Path) -> Result<(Config, Vec<Warning>), ConfigError> {
    load_as(path, &default_config_id())
}

/// Like `load`, for the router whose config id (`-i`) is `config_id`.
pub fn load_as(path: &Path, config_id: &str) -> Result<(Config, Vec<Warning>), ConfigError> {
    load_keeping(path, config_id, &[])
}

/// Like `load_as`, the macvlans of running instances keeping their names
/// (a reload, a restart; see `vmac_names`).
pub fn load_keeping(
    path: &Path,
    config_id: &str,
    kept: &[KeptVmac],
) -> Result<(Config, Vec<Warning>), ConfigError> {
    let text = read_text(path, None)?;
    parse_str_keeping(&text, path, config_id, kept)
}

/// Like `load`, with the top file's text given. `path` names it in messages
/// and relative includes are looked up in its directory.
pub fn parse_str(text: &str, path: &Path) -> Result<(Config, Vec<Warning>), ConfigError> {
    parse_str_as(text, path, &default_config_id())
}

/// Like `parse_str`, for the router whose config id is `config_id`.
pub fn parse_str_as(
    text: &str,
    path: &Path,
    config_id: &str,
) -> Result<(Config, Vec<Warning>), ConfigError> {
    parse_str_keeping(text, path, config_id, &[])
}

/// Like `parse_str_as`, with the names of running macvlans kept.
pub fn parse_str_keeping(
    text: &str,
    path: &Path,
    config_id: &str,
    kept: &[KeptVmac],
) -> Result<(Config, Vec<Warning>), ConfigError> {
    let mut warnings = Vec::new();
    let tokens = tokens_with_includes(text, path, config_id, &mut warnings)?;
    let top = first_instance_of_each_name(statements(&tokens)?, &mut warnings);
    let mut config = build(&top, kept, &mut warnings)?;
    config.digest = digest(&tokens);
    Ok((config, warnings))
}

/// keepalived 2.2.7 runs the first `vrrp_instance` block of a name and
/// skips any later one unread ("vrrp instance VI_1 already defined"), so
/// a config that pastes the master's and the backup's blocks into one file
/// runs the first. Dropped here, before anything counts instance blocks.
fn first_instance_of_each_name(top: Vec<Statement>, warnings: &mut Vec<Warning>) -> Vec<Statement> {
    let mut first_of: HashMap<String, super::model::Span> = HashMap::new();
    let mut kept = Vec::with_capacity(top.len());
    for statement in top {
        let name = match statement.args.first() {
            Some(name) if statement.keyword == "vrrp_instance" => name.clone(),
            _ => {
                kept.push(statement);
                continue;
            }
        };
        if let Some(first) = first_of.get(&name) {
            warn_keepalived_error_at(
                warnings,
                &statement.span,
                format!(
                    "vrrp_instance {name}: already defined at {first}; this block is ignored, \
                     as keepalived 2.2.7 ignores it"
                ),
            );
            continue;
        }
        first_of.insert(name, statement.span.clone());
        kept.push(statement);
    }
    kept
}

fn build(
    top: &[Statement],
    kept: &[KeptVmac],
    warnings: &mut Vec<Warning>,
) -> Result<Config, ConfigError> {
    let mut config = Config {
        default_interface: "eth0".to_string(),
        ..Config::default()
    };
    // global_defs applies to every instance wherever it appears, so read it
    // first; everything else in file order.
    let mut defaults = InstanceDefaults::default();
    for statement in top.iter().filter(|s| s.keyword == "global_defs") {
        global_defs(statement, &mut config, &mut defaults, warnings)?;
        super::notify_fifo::finish(&mut config.notify_fifos, &statement.span, warnings);
    }
    // track_script lines of each instance, by instance index.
    let mut script_refs = Vec::new();
    let mut vmac_names = VmacNames::written_in(top, kept);
    // vrrp_script blocks with no `script` line, which keepalived drops.
    let mut dropped_scripts = Vec::new();
    for statement in top {
        match statement.keyword.as_str() {
            "global_defs" => {}
            "vrrp_instance" => {
                let (parsed, refs) = instance(statement, defaults, &mut vmac_names, warnings)?;
                config.instances.push(parsed);
                script_refs.push(refs);
            }
            "vrrp_script" => match vrrp_script(statement, warnings)? {
                ScriptBlock::Check(script) => add_script(&mut config, script)?,
                ScriptBlock::Dropped(name) => dropped_scripts.push(name),
            },
            "vrrp_sync_group" => {}
            "static_ipaddress" => {
                let block = block_of(statement)?;
                let addresses = static_addresses(block, &config.default_interface, warnings)?;
                config.statics.addresses.extend(addresses);
            }
            "static_routes" => config.statics.routes.extend(routes(statement, warnings)?),
            "static_rules" => config.statics.rules.extend(rules(statement, warnings)?),
            "track_file" | "vrrp_track_file" => add_track_file(&mut config, statement, warnings)?,
            "vrrp_track_process" => add_track_process(&mut config, statement, warnings)?,
            _ => not_implemented(warnings, statement)?,
        }
    }
    check_instances_are_distinct(&config)?;
    let rules = config
        .statics
        .rules
        .iter_mut()
        .chain(
            config
                .instances
                .iter_mut()
                .flat_map(|i| i.virtual_rules.iter_mut()),
        )
        .collect();
    default_rule_priorities(rules, warnings);
    resolve_tracked_scripts(&mut config, script_refs, &dropped_scripts, warnings)?;
    resolve_tracked_files(&mut config, top, warnings)?;
    resolve_tracked_processes(&mut config, top, warnings)?;
    priority_changes(&mut config, top)?;
    // Groups name instances, which may come later in the file.
    for statement in top.iter().filter(|s| s.keyword == "vrrp_sync_group") {
        if let Some(group) = sync_group(statement, &config, warnings)? {
            config.sync_groups.push(group);
            let index = config.sync_groups.len() - 1;
            drop_weighted_track_scripts(&mut config, index, warnings);
        }
    }
    Ok(config)
}

/// Script names are how instances refer to scripts, so two blocks with
/// one name would leave a `track_script` line ambiguous. (keepalived 2.2.7
/// accepts that silently; refusing it is keepvip's choice.)
fn add_script(config: &mut Config, script: ScriptConfig) -> Result<(), ConfigError> {
    if let Some(first) = config.scripts.iter().find(|s| s.name == script.name) {
        return Err(error_at(
            &script.span,
            format!(
                "vrrp_script {}: duplicate script name (first defined at {})",
                script.name, first.span
            ),
        ));
    }
    config.scripts.push(script);
    Ok(())
}

/// Each instance's `notify_priority_changes`, else global_defs' default;
/// and the fifos checked once global_defs is read.
fn priority_changes(config: &mut Config, top: &[Statement]) -> Result<(), ConfigError> {
    let blocks = top.iter().filter(|s| s.keyword == "vrrp_instance");
    for (instance, statement) in config.instances.iter_mut().zip(blocks) {
        let own = statement
            .block
            .iter()
            .flatten()
            .rfind(|l| l.keyword == "notify_priority_changes");
        instance.notify_priority_changes = match own {
            Some(line) => super::notify_fifo::boolean(line)?,
            None => config.notify_fifos.priority_changes,
        };
    }
    Ok(())
}

/// Names are how instances refer to track files: one name, one block.
fn add_track_file(
    config: &mut Config,
    statement: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<(), ConfigError> {
    let file = track_file_block(statement, warnings)?;
    if let Some(first) = config.track_files.iter().find(|f| f.name == file.name) {
        return Err(error_at(
            &file.span,
            format!(
                "track_file {}: duplicate track_file name (first defined at {})",
                file.name, first.span
            ),
        ));
    }
    config.track_files.push(file);
    Ok(())
}

/// Names are how instances refer to tracked processes: one name, one block.
fn add_track_process(
    config: &mut Config,
    statement: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<(), ConfigError> {
    let process = track_process_block(statement, warnings)?;
    if let Some(first) = config
        .track_processes
        .iter()
        .find(|p| p.name == process.name)
    {
        return Err(error_at(
            &process.span,
            format!(
                "vrrp_track_process {}: duplicate name (first defined at {})",
                process.name, first.span
            ),
        ));
    }
    config.track_processes.push(process);
    Ok(())
}

/// Turns each instance's track_script names into indexes into
/// `config.scripts`, now that every vrrp_script block has been read
/// (they may follow the instance in the file).
///
/// An unknown name is an error: keepalived 2.2.7 only warns ("track script
/// NAME not found, ignoring...") and then runs without the check, which
/// leaves the VIP on a node whose service is down; `keepvip -t` must catch
/// that typo. keepalived 2.2.7 also does not find scripts defined after
/// the instance; keepvip does. A name in `dropped` (a vrrp_script block
/// with no `script` line) is no typo: ignored with keepalived's words.
fn resolve_tracked_scripts(
    config: &mut Config,
    script_refs: Vec<Vec<ScriptRef>>,
    dropped: &[String],
    warnings: &mut Vec<Warning>,
) -> Result<(), ConfigError> {
    for (instance, refs) in config.instances.iter_mut().zip(script_refs) {
        for line in refs {
            let known = config.scripts.iter().position(|s| s.name == line.name);
            if known.is_none() && dropped.contains(&line.name) {
                warn_keepalived_error_at(
                    warnings,
                    &line.span,
                    format!(
                        "({}) track script {} not found, ignoring... (its vrrp_script has no \
                         'script' line)",
                        instance.name, line.name
                    ),
                );
                continue;
            }
            let Some(index) = known else {
                return Err(error_at(
                    &line.span,
                    format!("track_script: no vrrp_script named \"{}\"", line.name),
                ));
            };
            let weight = line.weight.unwrap_or(config.scripts[index].weight);
            let reverse = line.reverse.unwrap_or(config.scripts[index].reverse);
            // The owner's priority is fixed at 255: keepalived drops weighted
            // scripts from it with these words. Weight 0 still means FAULT.
            if instance.priority == OWNER_PRIORITY && weight != 0 {
                warn_keepalived_error_at(
                    warnings,
                    &line.span,
                    format!(
                        "({}) ignoring tracked script {} with weights due to address_owner",
                        instance.name, line.name
                    ),
                );
                continue;
            }
            instance.track_scripts.push(TrackedScript {
                script: index,
                weight,
                reverse,
                span: line.span,
            });
        }
    }
    Ok(())
}

fn global_defs(
    statement: &Statement,
    config: &mut Config,
    defaults: &mut InstanceDefaults,
    warnings: &mut Vec<Warning>,
) -> Result<(), ConfigError> {
    for line in block_of(statement)? {
        match line.keyword.as_str() {
            "router_id" => config.router_id = Some(single(line, "a name", warnings)?.to_string()),
            "vrrp_garp_master_delay" => {
                defaults.garp_master_delay_s = integer(line, 0, u32::MAX, warnings)?;
            }
            "vrrp_garp_master_refresh" => {
                defaults.garp_master_refresh_s = integer(line, 0, 86_400, warnings)?;
            }
            "vrrp_garp_master_repeat" => {
                defaults.garp_master_repeat = integer(line, 0, u32::MAX, warnings)?;
            }
            "vrrp_garp_lower_prio_repeat" => {
                defaults.garp_lower_prio_repeat = Some(integer(line, 0, u32::MAX, warnings)?);
            }
            "vrrp_garp_lower_prio_delay" => {
                defaults.garp_lower_prio_delay_s = Some(integer(line, 0, u32::MAX, warnings)?);
            }
            "vrrp_garp_extra_if" => {
                defaults.options.options.garp_extra_if = garp_extra_if(line, 1)?;
            }
            // keepalived 2.2.7 knows it in vrrp_instance only.
            "garp_extra_if" => warn_unsupported(warnings, line),
            "vrrp_garp_interval" => {
                config.announce_spacing.garp_us = seconds_us_or_zero(line, warnings)?;
            }
            "vrrp_gna_interval" => {
                config.announce_spacing.gna_us = seconds_us_or_zero(line, warnings)?;
            }
            "vrrp_version" | "version" => defaults.version = vrrp_version(line, warnings)?,
            "default_interface" => {
                let text = single(line, "an interface name", warnings)?;
                config.default_interface = text.to_string();
            }
            "notify_fifo"
            | "notify_fifo_script"
            | "vrrp_notify_fifo"
            | "vrrp_notify_fifo_script"
            | "vrrp_notify_priority_changes" => {
                super::notify_fifo::global_line(line, &mut config.notify_fifos, warnings)?;
            }
            "startup_script"
            | "startup_script_timeout"
            | "shutdown_script"
            | "shutdown_script_timeout"
            | "vrrp_startup_delay" => {
                super::startup::global_line(line, &mut config.startup, warnings)?;
            }
            _ if read_option(line, &mut defaults.options, warnings)? => {}
            "script_user" => config.script_user = Some(run_as(line, warnings)?),
            // keepalived's optional `allow_if_changes` is what keepvip
            // does anyway: a re-created interface is picked up again.
            "dynamic_interfaces" => config.dynamic_interfaces = true,
            "enable_script_security" => {
                flag(line, warnings)?;
                config.script_security = true;
            }
            _ if scheduling_keyword(line, &mut config.scheduling, warnings) => {}
            _ => not_implemented(warnings, line)?,
        }
    }
    Ok(())
}

/// Two instances on one link with one VRID and family would fight over
/// the same virtual router. (An IPv4 and an IPv6 instance may share a
/// VRID: RFC 5798 section 5.2.3 keeps them apart, and so do keepalived and
/// our sockets. Names are unique already: see
/// `first_instance_of_each_name`.)
fn check_instances_are_distinct(config: &Config) -> Result<(), ConfigError> {
    let mut by_link = HashMap::new();
    for instance in &config.instances {
        let link = (
            instance.interface.as_str(),
            instance.vrid,
            instance.is_ipv6(),
        );
        if let Some(first) = by_link.insert(link, instance) {
            return Err(error_at(
                &instance.span,
                format!(
                    "vrrp_instance {}: interface {} virtual_router_id {} is already used by \
                     vrrp_instance {} at {}",
                    instance.name, instance.interface, instance.vrid, first.name, first.span
                ),
            ));
        }
    }
    Ok(())
}
