//! `notify_fifo`, `notify_fifo_script`, `vrrp_notify_fifo`,
//! `vrrp_notify_fifo_script` and `vrrp_notify_priority_changes` in
//! global_defs; `notify_priority_changes` in an instance.

use std::path::PathBuf;

use super::command::notify_command;
use super::model::{Command, ConfigError, Warning};
use super::syntax::Statement;
use super::values::{error_at, expected_found, warn_at};

/// A fifo notify lines are written to, and the script that reads it
/// (started with the fifo's path as its last argument).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FifoConfig {
    pub path: PathBuf,
    pub script: Option<Command>,
}

/// The global fifos: `notify_fifo` gets every event, `vrrp_notify_fifo`
/// the VRRP ones (keepvip has no others, so both get the same lines).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NotifyFifos {
    pub general: Option<FifoConfig>,
    pub vrrp: Option<FifoConfig>,
    /// `vrrp_notify_priority_changes`: every instance's default.
    pub priority_changes: bool,
}

impl NotifyFifos {
    pub fn iter(&self) -> impl Iterator<Item = &FifoConfig> {
        self.general.iter().chain(self.vrrp.iter())
    }
}

/// A global_defs line about fifos.
pub(crate) fn global_line(
    line: &Statement,
    fifos: &mut NotifyFifos,
    warnings: &mut Vec<Warning>,
) -> Result<(), ConfigError> {
    let keyword = line.keyword.as_str();
    match keyword {
        "notify_fifo" | "vrrp_notify_fifo" => {
            let Some(path) = line.args.first() else {
                return Err(error_at(
                    &line.span,
                    format!("{keyword}: missing argument, expected a fifo path"),
                ));
            };
            if line.args.len() > 1 {
                warn_at(
                    warnings,
                    &line.span,
                    format!("{keyword}: the fifo's owner is not changed by keepvip; ignored"),
                );
            }
            let slot = slot(fifos, keyword);
            let script = slot.take().and_then(|f| f.script);
            *slot = Some(FifoConfig {
                path: PathBuf::from(path),
                script,
            });
        }
        "notify_fifo_script" | "vrrp_notify_fifo_script" => {
            let command = notify_command(line, warnings)?;
            let slot = slot(fifos, keyword);
            match slot {
                Some(fifo) => fifo.script = Some(command),
                // The script may come before its fifo: keep it until then.
                None => {
                    *slot = Some(FifoConfig {
                        path: PathBuf::new(),
                        script: Some(command),
                    })
                }
            }
        }
        "vrrp_notify_priority_changes" => fifos.priority_changes = boolean(line)?,
        _ => {}
    }
    Ok(())
}

fn slot<'f>(fifos: &'f mut NotifyFifos, keyword: &str) -> &'f mut Option<FifoConfig> {
    if keyword.starts_with("vrrp_") {
        &mut fifos.vrrp
    } else {
        &mut fifos.general
    }
}

/// A script without a fifo has nothing to read: warned about and dropped.
pub(crate) fn finish(
    fifos: &mut NotifyFifos,
    span: &super::model::Span,
    warnings: &mut Vec<Warning>,
) {
    for (name, slot) in [
        ("notify_fifo", &mut fifos.general),
        ("vrrp_notify_fifo", &mut fifos.vrrp),
    ] {
        if slot.as_ref().is_some_and(|f| f.path.as_os_str().is_empty()) {
            warn_at(
                warnings,
                span,
                format!("{name}_script without {name}: ignored"),
            );
            *slot = None;
        }
    }
    if let (Some(general), Some(vrrp)) = (&fifos.general, &fifos.vrrp) {
        if general.path == vrrp.path {
            // keepalived: "the FIFO names must all be different".
            warn_at(
                warnings,
                span,
                format!(
                    "vrrp_notify_fifo {} is also the notify_fifo: written once",
                    vrrp.path.display()
                ),
            );
            fifos.vrrp = None;
        }
    }
}

/// `KEYWORD [true|false|yes|no|on|off]`, true when no value is given.
pub(crate) fn boolean(line: &Statement) -> Result<bool, ConfigError> {
    match line.args.first().map(|a| a.to_ascii_lowercase()).as_deref() {
        None | Some("true" | "yes" | "on") => Ok(true),
        Some("false" | "no" | "off") => Ok(false),
        Some(_) => Err(expected_found(
            line,
            "true or false (or nothing)",
            &line.args[0],
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::parse_str;

    #[test]
    fn fifos_scripts_and_priority_changes() {
        let text =
            "global_defs {\n notify_fifo_script \"/bin/reader -v\"\n notify_fifo /run/k.fifo\n \
                    vrrp_notify_fifo /run/v.fifo\n vrrp_notify_priority_changes\n}\n\
                    vrrp_instance A {\n interface eth0\n virtual_router_id 1\n \
                    virtual_ipaddress { 192.0.2.1 }\n}\n\
                    vrrp_instance B {\n interface eth0\n virtual_router_id 2\n \
                    virtual_ipaddress { 192.0.2.2 }\n notify_priority_changes false\n}\n";
        let (config, _) = parse_str(text, Path::new("k.conf")).unwrap();
        let general = config.notify_fifos.general.as_ref().unwrap();
        assert_eq!(general.path, Path::new("/run/k.fifo"));
        assert_eq!(general.script.as_ref().unwrap().argv, ["/bin/reader", "-v"]);
        let vrrp = config.notify_fifos.vrrp.as_ref().unwrap();
        assert_eq!(
            (vrrp.path.as_path(), &vrrp.script),
            (Path::new("/run/v.fifo"), &None)
        );
        assert!(config.instances[0].notify_priority_changes);
        assert!(!config.instances[1].notify_priority_changes);
    }

    #[test]
    fn a_script_without_its_fifo_is_dropped_with_a_warning() {
        let text = "global_defs {\n vrrp_notify_fifo_script /bin/reader\n}\n";
        let (config, warnings) = parse_str(text, Path::new("k.conf")).unwrap();
        assert_eq!(config.notify_fifos.vrrp, None);
        assert!(warnings[0].message.contains("without vrrp_notify_fifo"));
    }
}
