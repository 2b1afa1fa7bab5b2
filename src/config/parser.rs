//! The entry points: a file (or text) in, a checked `Config` out.

use std::collections::HashMap;
use std::path::Path;

use super::include::tokens_with_includes;
use super::instance::{check_vrrp_version, instance, InstanceDefaults};
use super::model::{Config, ConfigError, Warning};
use super::source::read_text;
use super::syntax::{statements, Statement};
use super::values::{block_of, error_at, integer, single, warn_unsupported};

/// Reads and checks the config at `path` and the files it includes.
/// Warnings are things accepted but not acted on; the caller logs them.
pub fn load(path: &Path) -> Result<(Config, Vec<Warning>), ConfigError> {
    let text = read_text(path, None)?;
    parse_str(&text, path)
}

/// Like `load`, with the top file's text given. `path` names it in messages
/// and relative includes are looked up in its directory.
pub fn parse_str(text: &str, path: &Path) -> Result<(Config, Vec<Warning>), ConfigError> {
    let mut warnings = Vec::new();
    let tokens = tokens_with_includes(text, path, &mut warnings)?;
    let top = statements(&tokens)?;
    let config = build(&top, &mut warnings)?;
    Ok((config, warnings))
}

fn build(top: &[Statement], warnings: &mut Vec<Warning>) -> Result<Config, ConfigError> {
    let mut config = Config::default();
    // global_defs applies to every instance wherever it appears, so read it
    // first; everything else in file order.
    let mut defaults = InstanceDefaults::default();
    for statement in top.iter().filter(|s| s.keyword == "global_defs") {
        global_defs(statement, &mut config, &mut defaults, warnings)?;
    }
    for statement in top {
        match statement.keyword.as_str() {
            "global_defs" => {}
            "vrrp_instance" => config
                .instances
                .push(instance(statement, defaults, warnings)?),
            _ => warn_unsupported(warnings, statement),
        }
    }
    check_instances_are_distinct(&config)?;
    Ok(config)
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
            "vrrp_garp_master_repeat" => {
                defaults.garp_master_repeat = integer(line, 0, u32::MAX, warnings)?;
            }
            "vrrp_version" | "version" => check_vrrp_version(line, warnings)?,
            _ => warn_unsupported(warnings, line),
        }
    }
    Ok(())
}

/// Two instances with one name, or on one link with one VRID, would fight
/// over the same virtual router.
fn check_instances_are_distinct(config: &Config) -> Result<(), ConfigError> {
    let mut by_name = HashMap::new();
    let mut by_link = HashMap::new();
    for instance in &config.instances {
        if let Some(first) = by_name.insert(instance.name.as_str(), instance) {
            return Err(error_at(
                &instance.span,
                format!(
                    "vrrp_instance {}: duplicate instance name (first defined at {})",
                    instance.name, first.span
                ),
            ));
        }
        let link = (instance.interface.as_str(), instance.vrid);
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
