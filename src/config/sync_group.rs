//! `vrrp_sync_group NAME { group { VI_1 VI_2 ... } notify_* ... }`.

use super::command::notify_command;
use super::model::{Command, Config, ConfigError, NotifyCommands, SyncGroupConfig, Warning};
use super::syntax::Statement;
use super::values::{block_of, error_at, warn_at, warn_unsupported};

/// Reads one sync group; member names are resolved against the instances
/// already read, so this runs after every `vrrp_instance`.
pub(crate) fn sync_group(
    statement: &Statement,
    config: &Config,
    warnings: &mut Vec<Warning>,
) -> Result<SyncGroupConfig, ConfigError> {
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
    let mut tracking_weight = false;
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
                            return Err(error_at(
                                &member.span,
                                format!(
                                    "vrrp_sync_group {name}: no vrrp_instance named \"{instance_name}\""
                                ),
                            ));
                        };
                        if members.contains(&index) {
                            warn_at(
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
            "sync_group_tracking_weight" => tracking_weight = true,
            _ => warn_unsupported(warnings, line),
        }
    }
    if members.len() < 2 {
        // keepalived drops a group of one with a warning: it syncs nothing.
        warn_at(
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
    Ok(SyncGroupConfig {
        name,
        span: statement.span.clone(),
        members,
        notify,
        tracking_weight,
    })
}

/// keepalived drops the weighted `track_script` lines of a sync group's
/// members (one member's priority moving would not move the group), with
/// these words, unless the group says `sync_group_tracking_weight`.
/// Scripts without a weight (FAULT) stay. Weighted `track_interface`
/// lines stay too: keepalived 2.2.7 logs "(VI_1) ignoring trk0 tracked
/// interface weight due to SYNC group" and then applies the weight all the
/// same ("Changing effective priority from 100 to 80" when trk0 goes
/// down), so keepvip applies it and does not say otherwise.
pub(crate) fn drop_weighted_track_scripts(
    config: &mut Config,
    group: usize,
    warnings: &mut Vec<Warning>,
) {
    let group = &config.sync_groups[group];
    if group.tracking_weight {
        return;
    }
    for &member in &group.members {
        let instance = &mut config.instances[member];
        let name = &instance.name;
        let scripts = &config.scripts;
        instance.track_scripts.retain(|t| {
            if t.weight == 0 {
                return true;
            }
            warn_at(
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
