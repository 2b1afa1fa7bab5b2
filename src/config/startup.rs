//! global_defs' `startup_script`, `shutdown_script` (each with its
//! `_timeout`) and `vrrp_startup_delay`.

use super::command::notify_command;
use super::model::{Command, ConfigError, Warning};
use super::syntax::Statement;
use super::values::{integer, seconds_us};

/// keepalived's default wait for a start-up or shut-down script.
const DEFAULT_TIMEOUT_S: u32 = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartupConfig {
    /// Run before any instance starts; waited for up to its timeout.
    pub startup_script: Option<Command>,
    pub startup_timeout_s: u32,
    /// Run after the instances stopped; waited for up to its timeout.
    pub shutdown_script: Option<Command>,
    pub shutdown_timeout_s: u32,
    /// `vrrp_startup_delay`: instances start this long after the daemon
    /// (after the startup script).
    pub vrrp_startup_delay_us: u64,
}

impl Default for StartupConfig {
    fn default() -> Self {
        StartupConfig {
            startup_script: None,
            startup_timeout_s: DEFAULT_TIMEOUT_S,
            shutdown_script: None,
            shutdown_timeout_s: DEFAULT_TIMEOUT_S,
            vrrp_startup_delay_us: 0,
        }
    }
}

/// A global_defs line of these.
pub(crate) fn global_line(
    line: &Statement,
    startup: &mut StartupConfig,
    warnings: &mut Vec<Warning>,
) -> Result<(), ConfigError> {
    match line.keyword.as_str() {
        "startup_script" => startup.startup_script = Some(notify_command(line, warnings)?),
        "shutdown_script" => startup.shutdown_script = Some(notify_command(line, warnings)?),
        "startup_script_timeout" => startup.startup_timeout_s = integer(line, 1, 1000, warnings)?,
        "shutdown_script_timeout" => startup.shutdown_timeout_s = integer(line, 1, 1000, warnings)?,
        "vrrp_startup_delay" => startup.vrrp_startup_delay_us = seconds_us(line, warnings)?,
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::parse_str;

    #[test]
    fn scripts_timeouts_and_delay() {
        let text = "global_defs {\n startup_script \"/bin/up 1\"\n startup_script_timeout 5\n \
                    shutdown_script /bin/down\n vrrp_startup_delay 5.5\n}\n";
        let (config, _) = parse_str(text, Path::new("k.conf")).unwrap();
        let startup = &config.startup;
        assert_eq!(
            startup.startup_script.as_ref().unwrap().argv,
            ["/bin/up", "1"]
        );
        assert_eq!(startup.startup_timeout_s, 5);
        assert_eq!(
            startup.shutdown_script.as_ref().unwrap().argv,
            ["/bin/down"]
        );
        assert_eq!(startup.shutdown_timeout_s, 10);
        assert_eq!(startup.vrrp_startup_delay_us, 5_500_000);
        let text = "global_defs {\n shutdown_script_timeout 1001\n}\n";
        assert!(parse_str(text, Path::new("k.conf")).is_err());
    }
}
