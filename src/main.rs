//! The `keepvip` command: keepalived's command line, so that existing init
//! scripts and habits keep working.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use argh::FromArgs;
use log::{error, info, warn};

use keepvip::config::{
    self, Authentication, Config, InitialState, WarningKind, KEEPALIVED_CONFIG_ERROR_EXIT,
};
use keepvip::daemon::{Daemon, Exit, Options, Reexec};
use keepvip::logging;
use keepvip::sys::pidfile::PidFile;
use keepvip::sys::syslog;
use keepvip::vrrp::timers::Timers;

const DEFAULT_CONFIG: &str = "/etc/keepalived/keepalived.conf";

#[derive(FromArgs)]
/// keepvip: a small VRRP daemon that runs the vrrp_* part of keepalived.conf.
struct Cli {
    /// the configuration file (default /etc/keepalived/keepalived.conf)
    #[argh(option, short = 'f', long = "use-file")]
    use_file: Option<PathBuf>,

    /// check the configuration, print what was understood, and exit
    #[argh(switch, short = 't', long = "config-test")]
    config_test: bool,

    /// the config id that conditional lines (`@ID ...`) are compared with
    /// (default: the host name up to its first dot, as keepalived)
    #[argh(option, short = 'i', long = "config-id")]
    config_id: Option<String>,

    /// write the daemon's pid to this file
    #[argh(option, short = 'p', long = "pid")]
    pid: Option<PathBuf>,

    /// print the version and exit
    #[argh(switch, short = 'v', long = "version")]
    version: bool,

    /// stay in the foreground (keepvip always does); under systemd, log to
    /// its journal through stderr
    #[argh(switch, short = 'n', long = "dont-fork")]
    dont_fork: bool,

    /// log to the console (stderr) instead of syslog
    #[argh(switch, short = 'l', long = "log-console")]
    log_console: bool,

    /// do not log to syslog (log to the console)
    #[argh(switch, short = 'G', long = "no-syslog")]
    no_syslog: bool,

    /// syslog facility: 0-7 (local0-local7), local0-local7, user or daemon
    /// (default)
    #[argh(option, short = 'S', long = "log-facility")]
    log_facility: Option<String>,

    /// log more detail (debug level)
    #[argh(switch, short = 'D', long = "log-detail")]
    log_detail: bool,

    /// accepted for keepalived compatibility: keepvip only runs the VRRP part
    #[argh(switch, short = 'P', long = "vrrp")]
    _vrrp: bool,

    /// the unix socket `keepvip status` asks (default /run/keepvip/keepvip.sock)
    #[argh(option, long = "status-socket")]
    status_socket: Option<PathBuf>,

    #[argh(subcommand)]
    command: Option<Subcommand>,
}

#[derive(FromArgs)]
#[argh(subcommand)]
enum Subcommand {
    Status(StatusCommand),
    Restart(RestartCommand),
    Explain(ExplainCommand),
}

#[derive(FromArgs)]
#[argh(subcommand, name = "explain")]
/// show what a set of routers' configs will do, before deploying them:
/// a simulated start, master death, return, check failure and stop per
/// VRID, and what makes the routers misbehave (exit 1 on a certain
/// split brain, 2 on a config that does not load)
#[cfg_attr(not(feature = "explain"), allow(dead_code))]
struct ExplainCommand {
    /// print JSON instead of text
    #[argh(switch)]
    json: bool,

    /// one keepalived.conf per router (its file name names the router)
    #[argh(positional)]
    configs: Vec<PathBuf>,
}

#[derive(FromArgs)]
#[argh(subcommand, name = "restart")]
/// restart the running daemon (or upgrade it to the binary on disk)
/// without moving a VIP: it hands its state to the new image, which goes
/// on where it left off; waits until the new image answers. Exit 3: the
/// daemon is older than this command and runs on unchanged
struct RestartCommand {
    /// the daemon's status socket (default /run/keepvip/keepvip.sock)
    #[argh(option)]
    socket: Option<PathBuf>,

    /// seconds to wait for the new image to answer (default 10)
    #[argh(option, default = "10")]
    wait: u64,
}

#[derive(FromArgs)]
#[argh(subcommand, name = "status")]
/// show the running daemon's instances (asks its status socket)
struct StatusCommand {
    /// print JSON instead of a table
    #[argh(switch)]
    json: bool,

    /// the daemon's status socket (default /run/keepvip/keepvip.sock)
    #[argh(option)]
    socket: Option<PathBuf>,
}

/// The version shown by `-v` and logged at start: the package's, and a
/// build tag when the build was given one (KEEPVIP_BUILD_TAG).
fn version() -> String {
    match option_env!("KEEPVIP_BUILD_TAG") {
        Some(tag) if !tag.is_empty() => format!("{} ({tag})", env!("CARGO_PKG_VERSION")),
        _ => env!("CARGO_PKG_VERSION").to_string(),
    }
}

fn main() -> ExitCode {
    // Taken out at once: only this image is meant to read it, never a
    // script (or a daemon it starts) that inherits our environment.
    let resume_from = std::env::var_os(keepvip::daemon::STATE_FILE_ENV).map(PathBuf::from);
    std::env::remove_var(keepvip::daemon::STATE_FILE_ENV);
    let restart_token = std::env::var(keepvip::daemon::TOKEN_ENV)
        .ok()
        .and_then(|t| t.parse::<u64>().ok());
    std::env::remove_var(keepvip::daemon::TOKEN_ENV);
    let cli: Cli = argh::from_env();
    if cli.version {
        println!("keepvip {}", version());
        return ExitCode::SUCCESS;
    }
    if let Some(Subcommand::Restart(restart)) = &cli.command {
        let socket = restart
            .socket
            .clone()
            .unwrap_or_else(keepvip::daemon::status_socket::client_default_path);
        let wait = std::time::Duration::from_secs(restart.wait);
        return match keepvip::daemon::status_socket::restart(&socket, wait) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("keepvip restart: {e}");
                // 3: a daemon older than the verb, still running as it was.
                if e.kind() == std::io::ErrorKind::Unsupported {
                    ExitCode::from(3)
                } else {
                    ExitCode::FAILURE
                }
            }
        };
    }
    if let Some(Subcommand::Status(status)) = &cli.command {
        let socket = status
            .socket
            .clone()
            .unwrap_or_else(keepvip::daemon::status_socket::client_default_path);
        return match keepvip::daemon::status_socket::query(&socket, status.json) {
            Ok(answer) => {
                print!("{answer}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("keepvip status: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if let Some(Subcommand::Explain(explain)) = &cli.command {
        return run_explain(explain);
    }
    if !init_logging(&cli) {
        return ExitCode::FAILURE;
    }
    let path = cli
        .use_file
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG));
    let config_id = cli
        .config_id
        .clone()
        .unwrap_or_else(config::default_config_id);
    let (config, keepalived_errors) = match load_config(&path, &config_id) {
        Some(loaded) => loaded,
        None => return ExitCode::FAILURE,
    };
    if !keepvip::daemon::interfaces_exist(&config) {
        return ExitCode::FAILURE;
    }
    let unrunnable = keepvip::daemon::unrunnable_commands(&config);
    if cli.config_test {
        print!("{}", describe(&config));
        for problem in &unrunnable {
            error!("{problem}");
        }
        if !unrunnable.is_empty() {
            return ExitCode::FAILURE;
        }
        if keepalived_errors > 0 {
            warn!(
                "{keepalived_errors} of the warnings above are config errors to keepalived \
                 2.2.7, whose -t exits {KEEPALIVED_CONFIG_ERROR_EXIT} for them, and so does \
                 this check (both would still run the rest of the config)"
            );
            return ExitCode::from(KEEPALIVED_CONFIG_ERROR_EXIT);
        }
        return ExitCode::SUCCESS;
    }
    // At run time a missing script is not fatal: a check script is disabled
    // (the daemon says so, in keepalived's words), a notify command fails
    // each time until it is installed.
    for problem in &unrunnable {
        warn!("{problem}");
    }
    if config.instances.is_empty() {
        error!("{}: no vrrp_instance to run", path.display());
        return ExitCode::FAILURE;
    }
    let status_socket = cli
        .status_socket
        .unwrap_or_else(|| PathBuf::from(keepvip::daemon::status_socket::DEFAULT_PATH));
    let reexec = Reexec {
        // Now, while /proc/self/exe is still the file at that path.
        executable: keepvip::sys::reexec::own_executable()
            .map_err(|e| warn!("cannot tell which binary runs: {e}; keepvip restart will not work"))
            .ok(),
        args: std::env::args_os().collect(),
        state_file: status_socket
            .parent()
            .map(|dir| dir.join(keepvip::daemon::STATE_FILE_NAME)),
        token: restart_token,
    };
    let options = Options {
        config_path: path.clone(),
        config_id: Some(config_id),
        status_socket: Some(status_socket),
        reexec,
        resume_from,
    };
    run(&config, cli.pid.as_deref(), &options)
}

/// Syslog, the console or the journal (see `keepvip::logging`); false
/// when `-S` names no facility.
fn init_logging(cli: &Cli) -> bool {
    let facility = match cli.log_facility.as_deref() {
        None => syslog::LOG_DAEMON,
        Some(name) => match syslog::parse_facility(name) {
            Some(facility) => facility,
            None => {
                eprintln!(
                    "keepvip: -S {name}: not a syslog facility (0-7, local0-local7, user, daemon)"
                );
                return false;
            }
        },
    };
    let default = if cli.log_detail {
        log::LevelFilter::Debug
    } else {
        log::LevelFilter::Info
    };
    let level = std::env::var("KEEPVIP_LOG")
        .ok()
        .and_then(|level| level.parse().ok())
        .unwrap_or(default);
    let request = logging::Request {
        console: cli.log_console,
        no_syslog: cli.no_syslog,
        dont_fork: cli.dont_fork,
        stderr_is_journal: logging::stderr_is_journal(),
        config_test: cli.config_test,
    };
    logging::init(request, facility, level);
    true
}

/// Loads and reports: warnings and the error go to the log with file:line.
/// With the config comes how many of its warnings keepalived 2.2.7 counts
/// as config errors.
fn load_config(path: &Path, config_id: &str) -> Option<(Config, usize)> {
    match config::load_as(path, config_id) {
        Ok((config, warnings)) => {
            for warning in &warnings {
                warn!("{warning}");
            }
            let keepalived_errors = warnings
                .iter()
                .filter(|w| w.kind == WarningKind::KeepalivedError)
                .count();
            Some((config, keepalived_errors))
        }
        Err(e) => {
            error!("{e}");
            error!("configuration not loaded; not starting");
            None
        }
    }
}

fn run(config: &Config, pid_file: Option<&Path>, options: &Options) -> ExitCode {
    info!(
        "Starting keepvip {}, config digest {:08x}",
        version(),
        config.digest
    );
    // The pid file first: a second daemon must be refused before it
    // touches any address of the first.
    let _pid_file = match pid_file.map(PidFile::create).transpose() {
        Ok(pid_file) => pid_file,
        Err(e) => {
            error!("pid file: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut daemon = match Daemon::new(config, options) {
        Ok(daemon) => daemon,
        Err(e) => {
            error!("cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = daemon.run();
    match result {
        Ok(Exit::Stopped(signal)) => {
            info!("Stopped ({signal})");
            ExitCode::SUCCESS
        }
        Err(e) => {
            error!("event loop failed: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(not(feature = "explain"))]
fn run_explain(_: &ExplainCommand) -> ExitCode {
    eprintln!(
        "keepvip explain: not in this build (make tiny leaves it out); \
         a full build on any machine explains the same configs"
    );
    ExitCode::from(2)
}

#[cfg(feature = "explain")]
fn run_explain(command: &ExplainCommand) -> ExitCode {
    if command.configs.is_empty() {
        eprintln!("keepvip explain: give one config file per router");
        return ExitCode::from(2);
    }
    let mut routers = Vec::new();
    for path in &command.configs {
        match config::load(path) {
            Ok((config, warnings)) => routers.push(keepvip::explain::RouterConfig {
                name: path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| path.display().to_string()),
                config,
                warnings,
            }),
            Err(e) => {
                eprintln!("keepvip explain: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let report = keepvip::explain::explain(&routers);
    if command.json {
        print!("{}", keepvip::explain::render_json(&report));
    } else {
        print!("{}", keepvip::explain::render_text(&report));
    }
    if report.has_errors() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// What `-t` prints: the configuration as keepvip understood it.
fn describe(config: &Config) -> String {
    // The same digest `keepvip status` shows for the running config.
    let mut text = format!("config digest {:08x}\n", config.digest);
    if let Some(router_id) = &config.router_id {
        let _ = writeln!(text, "router_id {router_id}");
    }
    let spacing = config.announce_spacing;
    if spacing != Default::default() {
        let seconds = |us: u64| format!("{}.{:06}s", us / 1_000_000, us % 1_000_000);
        let _ = writeln!(
            text,
            "vrrp_garp_interval {} vrrp_gna_interval {} (between two on one interface)",
            seconds(spacing.garp_us),
            seconds(spacing.gna_us)
        );
    }
    for s in &config.scripts {
        let _ = writeln!(text, "vrrp_script {} ({})", s.name, s.span);
        let _ = writeln!(text, "  script {}", config::shell_words(&s.command.argv));
        let _ = writeln!(
            text,
            "  interval {} ms timeout {} ms weight {}{} rise {} fall {}{}",
            s.interval_us / 1000,
            s.timeout_us / 1000,
            s.weight,
            reversed(s.reverse),
            s.rise,
            s.fall,
            if s.init_fail { " init_fail" } else { "" }
        );
    }
    for i in &config.instances {
        let timers = Timers::new(i.version, i.priority, i.advert_int_cs);
        let state = match i.initial_state {
            InitialState::Master => "MASTER",
            InitialState::Backup => "BACKUP",
        };
        let _ = writeln!(text, "vrrp_instance {} ({})", i.name, i.span);
        let _ = writeln!(
            text,
            "  interface {} vrid {} priority {}",
            i.interface, i.vrid, i.priority
        );
        let _ = writeln!(
            text,
            "  state {state} (initial wish; priority decides) preempt {}{}",
            if i.preempt { "yes" } else { "no" },
            if i.preempt_delay_s > 0 {
                format!(" preempt_delay {}s", i.preempt_delay_s)
            } else {
                String::new()
            }
        );
        let version = match i.version {
            config::VrrpVersion::V2 => 2,
            config::VrrpVersion::V3 => 3,
        };
        let _ = writeln!(
            text,
            "  VRRPv{version} {} advert_int {}.{:02}s master_down {} usecs",
            if i.is_ipv6() { "IPv6" } else { "IPv4" },
            i.advert_int_cs / 100,
            i.advert_int_cs % 100,
            timers.master_down
        );
        if let Some(vmac) = &i.vmac {
            let mac = i.virtual_mac().map(|b| format!("{b:02x}")).join(":");
            let adverts = if vmac.xmit_base {
                format!("adverts from {} (vmac_xmit_base)", i.interface)
            } else {
                format!("adverts from {}", vmac.name)
            };
            let _ = writeln!(
                text,
                "  use_vmac {} {mac} on {}, {adverts}",
                vmac.name, i.interface
            );
        }
        for vmac in &i.address_vmacs {
            let mac = i.virtual_mac().map(|b| format!("{b:02x}")).join(":");
            let addresses: Vec<String> = i
                .virtual_addresses
                .iter()
                .filter(|v| v.dev.as_deref() == Some(vmac.name.as_str()))
                .map(|v| format!("{}/{}", v.addr, v.prefix_len))
                .collect();
            let _ = writeln!(
                text,
                "  use_vmac {} {mac} on {} for {}",
                vmac.name,
                vmac.parent,
                addresses.join(" ")
            );
        }
        if let Some(source) = i.mcast_src_ip {
            let _ = writeln!(text, "  mcast_src_ip {source}");
        }
        if let Some(group) = i.multicast_group.filter(|_| i.unicast_peers.is_empty()) {
            let _ = writeln!(text, "  multicast group {group}");
        }
        if let Some(source) = i.unicast_src_ip {
            let _ = writeln!(text, "  unicast_src_ip {source}");
        }
        if !i.unicast_peers.is_empty() {
            let peers: Vec<String> = i.unicast_peers.iter().map(|p| p.to_string()).collect();
            let _ = writeln!(text, "  unicast_peer {}", peers.join(" "));
        }
        if let Some(ttl) = i.unicast_ttl {
            let _ = writeln!(text, "  unicast_ttl {ttl}");
        }
        let auth = match i.authentication {
            Some(Authentication::Password(_)) => "PASS",
            Some(Authentication::Ah(_)) => "AH",
            None => "none",
        };
        let _ = writeln!(
            text,
            "  authentication {auth} garp_master_delay {}s garp_master_repeat {} \
             garp_lower_prio_delay {}s garp_lower_prio_repeat {}",
            i.garp_master_delay_s,
            i.garp_master_repeat,
            i.garp_lower_prio_delay_s,
            i.garp_lower_prio_repeat
        );
        let extra = i.options.garp_extra_if;
        if extra.interval_s > 0 {
            let _ = writeln!(
                text,
                "  garp_extra_if {}{}s: {}",
                if extra.all { "all " } else { "" },
                extra.interval_s,
                if extra.all {
                    "one announcement on each interface other than its own, each period"
                } else if !i.address_vmacs.is_empty() {
                    "one announcement on each of its addresses' VMAC interfaces, each period"
                } else {
                    "none sent (keepalived sends them only on addresses' VMAC interfaces)"
                }
            );
        }
        for tracked in &i.track_scripts {
            let script = &config.scripts[tracked.script];
            let _ = writeln!(
                text,
                "  track_script {} weight {}{}",
                script.name,
                tracked.weight,
                reversed(tracked.reverse)
            );
        }
        for tracked in &i.track_interfaces {
            let _ = writeln!(
                text,
                "  track_interface {} weight {}{}",
                tracked.interface,
                tracked.weight,
                reversed(tracked.reverse)
            );
        }
        let notify = [
            ("notify_master", &i.notify.master),
            ("notify_backup", &i.notify.backup),
            ("notify_fault", &i.notify.fault),
            ("notify_stop", &i.notify.stop),
            ("notify", &i.notify.any),
        ];
        for (keyword, command) in notify {
            if let Some(command) = command {
                let _ = writeln!(text, "  {keyword} {}", config::shell_words(&command.argv));
            }
        }
        if i.advertised_addresses().next().is_none() {
            text.push_str("  virtual_ipaddress none: the adverts carry no address\n");
        }
        for vip in &i.virtual_addresses {
            let keyword = if vip.advertised {
                "virtual_ipaddress"
            } else {
                "virtual_ipaddress_excluded"
            };
            let _ = write!(text, "  {keyword} {}/{}", vip.addr, vip.prefix_len);
            if let Some(dev) = &vip.dev {
                let _ = write!(text, " dev {dev}");
            }
            if let Some(label) = &vip.label {
                let _ = write!(text, " label {label}");
            }
            // Global (0) is the kernel's default: shown only when it is
            // another, as keepalived's dump shows it.
            if let Some(scope) = vip.scope.filter(|s| *s != 0) {
                let _ = write!(text, " scope {scope}");
            }
            if let Some(broadcast) = vip.broadcast {
                let _ = write!(text, " brd {broadcast}");
            }
            text.push_str(&vip.kernel_options());
            if vip.no_track {
                text.push_str(" no_track");
            }
            text.push('\n');
        }
        for route in &i.virtual_routes {
            let _ = writeln!(text, "  virtual_route {route}");
        }
        for rule in &i.virtual_rules {
            let _ = writeln!(text, "  virtual_rule {rule}");
        }
    }
    for address in &config.statics.addresses {
        let dev = address.dev.as_deref().unwrap_or("");
        let _ = writeln!(
            text,
            "static_ipaddress {}/{} dev {dev}{}",
            address.addr,
            address.prefix_len,
            address.kernel_options()
        );
    }
    for route in &config.statics.routes {
        let _ = writeln!(text, "static_route {route}");
    }
    for rule in &config.statics.rules {
        let _ = writeln!(text, "static_rule {rule}");
    }
    text
}

/// How `-t` shows a weight's `reverse`.
fn reversed(reverse: bool) -> &'static str {
    if reverse {
        " reverse"
    } else {
        ""
    }
}
