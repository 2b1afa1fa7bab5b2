//! `vrrp_sync_group NAME { group { VI_1 VI_2 ... } notify_* ... }`.

use super::command::notify_command;
use super::keywords::not_implemented;
use super::model::{Command, Config, ConfigError, NotifyCommands, SyncGroupConfig, Warning};
use super::syntax::Statement;
use super::values::{block_of, error_at, warn_keepalived_error_at};

/// Reads one sync group; member names are resolved against the instances
/// already read, so this runs after every `vrrp_instance`. None: no member
/// exists, and the group is dropped.
pub(crate) fn sync_group(
    statement: &Statement,
    config: &Config,
    warnings: &mut Vec<Warning>,
) -> Result<Option<SyncGroupConfig>, ConfigError> {
    let name = match statement.args.as_slice() {
        [name] => name.clone(),
        _ => {
            return Err(error_at(
                &statement.span,
                "vrrp_sync_group: expected one name, then a block".to_string(),
            ))
        }
    };
    let mut members = Vec::new();
    let mut notify = NotifyCommands::default();
    for line in block_of(statement)? {
        match line.keyword.as_str() {
            "group" => {
                for member in block_of(line)? {
                    // One name per line; keepalived also allows several.
                    for instance_name in std::iter::once(&member.keyword).chain(&member.args) {
                        let Some(index) = config
                            .instances
                            .iter()
                            .position(|i| &i.name == instance_name)
                        else {
                            // keepalived 2.2.7 runs the group without it.
                            let message = format!(
                                "Virtual router {instance_name} specified in sync group {name} \
                                 doesn't exist - ignoring"
                            );
                            warn_keepalived_error_at(warnings, &member.span, message);
                            continue;
                        };
                        if members.contains(&index) {
                            warn_keepalived_error_at(
                                warnings,
                                &member.span,
                                format!("vrrp_sync_group {name}: {instance_name} listed twice"),
                            );
                        } else {
                            members.push(index);
                        }
                    }
                }
            }
            "notify_master" => set(&mut notify.master, line, warnings)?,
            "notify_backup" => set(&mut notify.backup, line, warnings)?,
            "notify_fault" => set(&mut notify.fault, line, warnings)?,
            "notify_stop" => set(&mut notify.stop, line, warnings)?,
            "notify" => set(&mut notify.any, line, warnings)?,
            _ => not_implemented(warnings, line)?,
        }
    }
    if members.is_empty() {
        // keepalived 2.2.7 removes a group left with no member.
        let message = format!(
            "Sync group {name}, no matching virtual router found in group declaration - removing"
        );
        warn_keepalived_error_at(warnings, &statement.span, message);
        return Ok(None);
    }
    if members.len() < 2 {
        // keepalived drops a group of one with a warning: it syncs nothing.
        warn_keepalived_error_at(
            warnings,
            &statement.span,
            format!("vrrp_sync_group {name} has fewer than two instances: it syncs nothing"),
        );
    }
    for group in &config.sync_groups {
        if let Some(shared) = members.iter().find(|m| group.members.contains(m)) {
            return Err(error_at(
                &statement.span,
                format!(
                    "vrrp_sync_group {name}: {} is already in vrrp_sync_group {} ({})",
                    config.instances[*shared].name, group.name, group.span
                ),
            ));
        }
    }
    Ok(Some(SyncGroupConfig {
        name,
        span: statement.span.clone(),
        members,
        notify,
    }))
}

/// keepalived drops the weighted `track_script` lines of a sync group's
/// members (one member's priority moving would not move the group), with
/// these words. Scripts without a weight (FAULT) stay. (keepalived keeps
/// the weights under `sync_group_tracking_weight`, which keepvip refuses.)
/// Weighted `track_interface` lines stay too: keepalived 2.2.7 logs "(VI_1) ignoring trk0 tracked
/// interface weight due to SYNC group" and then applies the weight all the
/// same ("Changing effective priority from 100 to 80" when trk0 goes
/// down), so keepvip applies it and does not say otherwise.
pub(crate) fn drop_weighted_track_scripts(
    config: &mut Config,
    group: usize,
    warnings: &mut Vec<Warning>,
) {
    let group = &config.sync_groups[group];
    for &member in &group.members {
        let instance = &mut config.instances[member];
        let name = &instance.name;
        let scripts = &config.scripts;
        instance.track_scripts.retain(|t| {
            if t.weight == 0 {
                return true;
            }
            warn_keepalived_error_at(
                warnings,
                &t.span,
                format!(
                    "({name}) ignoring tracked script {} with weights due to SYNC group",
                    scripts[t.script].name
                ),
            );
            false
        });
    }
}

fn set(
    slot: &mut Option<Command>,
    line: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<(), ConfigError> {
    let command = notify_command(line, warnings)?;
    slot.get_or_insert(command);
    Ok(())
}
