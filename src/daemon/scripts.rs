//! Check scripts (`vrrp_script`) at run time: their schedule and health from
//! the core, their process from `sys`, and the checks made before each
//! start (the program exists; with enable_script_security, nobody but root
//! can change it). A check whose program is missing when it is loaded is
//! disabled, as keepalived does.

use log::{error, warn};

use std::path::{Path, PathBuf};

use crate::config::{Command, Config, RunAs, ScriptConfig};
use crate::sys::process::{self, Identity};
use crate::tracking::health::Health;
use crate::tracking::privileges::{
    changeable_by_others, default_user, runs_as_root, DEFAULT_SCRIPT_USER,
};
use crate::tracking::schedule::Schedule;
use crate::vrrp::timers::Micros;

pub struct ScriptRuntime {
    pub config: ScriptConfig,
    pub schedule: Schedule,
    pub health: Health,
    /// The running process (and its process group).
    pub pid: Option<u32>,
    /// Its program could not be found (or accessed) when it was loaded:
    /// as in keepalived, it never runs and its instances track it not at
    /// all (no weight, no FAULT).
    pub disabled: bool,
    run_as: Option<RunAs>,
    script_security: bool,
    /// The last reason it could not start, so it is logged once per change,
    /// not once per interval.
    last_refusal: Option<String>,
}

impl ScriptRuntime {
    pub fn new(config: &ScriptConfig, global: &Config, now: Micros) -> ScriptRuntime {
        let program = config.command.argv.first().map(String::as_str);
        let missing = match program.map(process::find_executable) {
            Some(Ok(_)) => None,
            Some(Err(why)) => Some(why),
            None => Some("empty command".to_string()),
        };
        if let Some(why) = &missing {
            // keepalived's words, which users grep for.
            warn!(
                "Script {} cannot be accessed - {why}",
                program.unwrap_or_default()
            );
            warn!(
                "Disabling track script {} since not found/accessible",
                config.name
            );
        }
        ScriptRuntime {
            disabled: missing.is_some(),
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

/// Checks and starts a command: check scripts and notify commands alike.
/// `run_as` is the command's own user or `script_user`; without either it
/// runs as keepalived_script if that user exists, else as root.
pub fn start_command(
    command: &Command,
    run_as: Option<&RunAs>,
    script_security: bool,
) -> Result<u32, String> {
    let program = command.argv.first().ok_or("empty command")?;
    let path = process::find_executable(program)?;
    let identity = identity_for(run_as)?;
    let executed = if script_security {
        judged_by_script_security(&path, identity.as_ref())?
    } else {
        path.clone()
    };
    let mut argv = command.argv.clone();
    argv[0] = path.to_string_lossy().into_owned();
    process::spawn_program(&executed, &argv, identity.as_ref())
        .map_err(|e| format!("{}: {e}", argv[0]))
}

/// Who runs a script (None: root, the daemon's own identity).
fn identity_for(run_as: Option<&RunAs>) -> Result<Option<Identity>, String> {
    let (user, group) = match run_as {
        Some(run_as) => (Some(run_as.user.as_str()), run_as.group.as_deref()),
        None => {
            let exists = process::resolve_identity(DEFAULT_SCRIPT_USER, None).is_ok();
            (default_user(None, exists), None)
        }
    };
    user.map(|user| process::resolve_identity(user, group).map_err(|e| format!("script user: {e}")))
        .transpose()
}

/// enable_script_security: a script that would run with root's powers (as
/// root, or setuid root) must come from a path nobody else can change, and
/// the path judged is the one executed: every symlink resolved, so a link
/// that someone re-points after the check changes nothing. Returns what to
/// execute.
fn judged_by_script_security(path: &Path, identity: Option<&Identity>) -> Result<PathBuf, String> {
    let (canonical, chain) = process::ownership_chain(path)?;
    let run_uid = identity.map_or_else(process::effective_uid, |i| i.uid);
    let file = &chain[0];
    if !runs_as_root(run_uid, file.uid, file.mode) {
        return Ok(path.to_path_buf());
    }
    for component in &chain {
        if let Some(why) = changeable_by_others(component.uid, component.mode, component.is_dir) {
            return Err(format!(
                "refused by enable_script_security: it would run as root, and {} is {why}",
                component.path.display()
            ));
        }
    }
    Ok(canonical)
}

/// The commands of a config that cannot be started as things stand: for
/// `keepvip -t`, and logged at daemon start.
pub fn unrunnable_commands(config: &Config) -> Vec<String> {
    let mut problems = Vec::new();
    let mut check = |what: String, command: &Command, run_as: Option<&RunAs>| {
        let Some(program) = command.argv.first() else {
            problems.push(format!("{}: {what}: empty command", command.span));
            return;
        };
        match process::find_executable(program) {
            Err(why) => problems.push(format!("{}: {what}: {why}", command.span)),
            Ok(path) if config.script_security => {
                // A user that cannot be found is the run-time error's to
                // report; the security judgement needs who runs it.
                let run_as = run_as.or(config.script_user.as_ref());
                if let Ok(identity) = identity_for(run_as) {
                    if let Err(why) = judged_by_script_security(&path, identity.as_ref()) {
                        problems.push(format!("{}: {what}: {why}", command.span));
                    }
                }
            }
            Ok(_) => {}
        }
    };
    for script in &config.scripts {
        let run_as = script.user.as_ref();
        check(
            format!("vrrp_script {}", script.name),
            &script.command,
            run_as,
        );
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
                    command.run_as.as_ref(),
                );
            }
        }
    }
    let default_exists = process::resolve_identity(DEFAULT_SCRIPT_USER, None).is_ok();
    let script_user = config.script_user.as_ref().map(|u| u.user.as_str());
    if config.script_security && default_user(script_user, default_exists).is_none() {
        warn!(
            "enable_script_security without script_user and no user \
             {DEFAULT_SCRIPT_USER}: scripts run as root"
        );
    }
    problems
}
