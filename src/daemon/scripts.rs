//! Check scripts (`vrrp_script`) at run time: their schedule and health from
//! the core, their process from `sys`, and the checks made before each
//! start (the program exists; with enable_script_security, nobody but root
//! can change it).

use log::{error, warn};

use super::stats::Counters;
use crate::config::{Command, Config, RunAs, ScriptConfig};
use crate::sys::process::{self, Identity};
use crate::tracking::health::Health;
use crate::tracking::schedule::Schedule;
use crate::vrrp::timers::Micros;

pub struct ScriptRuntime {
    pub config: ScriptConfig,
    pub schedule: Schedule,
    pub health: Health,
    /// The running process (and its process group).
    pub pid: Option<u32>,
    run_as: Option<RunAs>,
    script_security: bool,
    /// The last reason it could not start, so it is logged once per change,
    /// not once per interval.
    last_refusal: Option<String>,
}

impl ScriptRuntime {
    pub fn new(config: &ScriptConfig, global: &Config, now: Micros) -> ScriptRuntime {
        ScriptRuntime {
            schedule: Schedule::new(config.interval_us, config.timeout_us, now),
            health: Health::new(config.rise, config.fall, config.init_fail),
            pid: None,
            run_as: config.user.clone().or_else(|| global.script_user.clone()),
            script_security: global.script_security,
            last_refusal: None,
            config: config.clone(),
        }
    }

    /// Starts a run; Err says why it cannot (logged here, once per reason).
    pub fn spawn(&mut self) -> Result<u32, ()> {
        match start_command(
            &self.config.command,
            self.run_as.as_ref(),
            self.script_security,
        ) {
            Ok(pid) => {
                self.pid = Some(pid);
                self.last_refusal = None;
                Ok(pid)
            }
            Err(reason) => {
                if self.last_refusal.as_deref() != Some(reason.as_str()) {
                    error!(
                        "VRRP_Script({}) cannot run ({}): {reason}; counted as failed",
                        self.config.name, self.config.span
                    );
                    self.last_refusal = Some(reason);
                }
                Err(())
            }
        }
    }
}

/// Signals a script's (or notify command's) process group; a signal that
/// could not be delivered is counted and logged, never ignored: the
/// script goes on running (typically as another user, under a service
/// manager that took CAP_KILL away).
pub fn signal_group_counted(counters: &mut Counters, pid: u32, signal: libc::c_int, who: &str) {
    if let Err(e) = process::signal_group(pid, signal) {
        counters.kill_errors += 1;
        error!(
            "{who}: cannot send signal {signal} to process group {pid}: {e}{}",
            if e.raw_os_error() == Some(libc::EPERM) {
                " (it runs as another user: keepvip needs CAP_KILL)"
            } else {
                ""
            }
        );
    }
}

/// Checks and starts a command: check scripts and notify commands alike.
pub fn start_command(
    command: &Command,
    run_as: Option<&RunAs>,
    script_security: bool,
) -> Result<u32, String> {
    let program = command.argv.first().ok_or("empty command")?;
    let path = process::find_executable(program)?;
    if script_security {
        process::check_not_writable_by_others(&path)
            .map_err(|why| format!("refused by enable_script_security: {why}"))?;
    }
    let identity: Option<Identity> = match run_as {
        Some(run_as) => Some(
            process::resolve_identity(&run_as.user, run_as.group.as_deref())
                .map_err(|e| format!("script user: {e}"))?,
        ),
        None => None,
    };
    let mut argv = command.argv.clone();
    argv[0] = path.to_string_lossy().into_owned();
    process::spawn(&argv, identity.as_ref()).map_err(|e| format!("{}: {e}", argv[0]))
}

/// The commands of a config that cannot be started as things stand: for
/// `keepvip -t`, and logged at daemon start.
pub fn unrunnable_commands(config: &Config) -> Vec<String> {
    let mut problems = Vec::new();
    let mut check = |what: String, command: &Command| {
        let Some(program) = command.argv.first() else {
            problems.push(format!("{}: {what}: empty command", command.span));
            return;
        };
        match process::find_executable(program) {
            Err(why) => problems.push(format!("{}: {what}: {why}", command.span)),
            Ok(path) if config.script_security => {
                if let Err(why) = process::check_not_writable_by_others(&path) {
                    problems.push(format!(
                        "{}: {what}: refused by enable_script_security: {why}",
                        command.span
                    ));
                }
            }
            Ok(_) => {}
        }
    };
    for script in &config.scripts {
        check(format!("vrrp_script {}", script.name), &script.command);
    }
    for instance in &config.instances {
        let n = &instance.notify;
        let commands = [
            ("notify_master", &n.master),
            ("notify_backup", &n.backup),
            ("notify_fault", &n.fault),
            ("notify_stop", &n.stop),
            ("notify", &n.any),
        ];
        for (keyword, command) in commands {
            if let Some(command) = command {
                check(
                    format!("vrrp_instance {} {keyword}", instance.name),
                    command,
                );
            }
        }
    }
    if config.script_user.is_none() && config.script_security {
        warn!("enable_script_security without script_user: scripts run as root");
    }
    problems
}
