//! The typed result of reading a keepalived.conf: what the daemon runs on.
//!
//! Every value here is already validated and has its keepalived default
//! filled in, so the daemon never re-checks it. Spans point back at the
//! file and line a value came from, for messages a user can act on.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::rc::Rc;

/// A place in a config file: the file (as given or as found by `include`)
/// and the 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub file: Rc<PathBuf>,
    pub line: u32,
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// Something the config asked for that we accept but do not act on, or act
/// on differently than written (keepalived warns in the same places).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub span: Span,
    pub message: String,
    pub kind: WarningKind,
}

/// How keepalived 2.2.7 counts the same thing: both run the config either
/// way, but `keepalived -t` exits non-zero for a config error, and init
/// scripts and Ansible's `validate:` go by that status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarningKind {
    /// keepalived accepts it (`-t` exits 0): a keyword it implements that
    /// keepvip ignores, or a note of keepvip's own.
    Accepted,
    /// keepalived reports it as a config error (`-t` exits 5), then runs
    /// the rest, as keepvip does.
    KeepalivedError,
}

/// `keepalived -t`'s exit status (2.2.7) for a config with errors.
pub const KEEPALIVED_CONFIG_ERROR_EXIT: u8 = 5;

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.span, self.message)
    }
}

/// A config that cannot be run. `span` is absent only when the top file
/// itself cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub span: Option<Span>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.span {
            Some(span) => write!(f, "{}: {}", span, self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The whole daemon configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    /// `global_defs { router_id }`, informational only.
    pub router_id: Option<String>,
    pub instances: Vec<InstanceConfig>,
    /// Every `vrrp_script NAME { ... }` block, in file order.
    pub scripts: Vec<ScriptConfig>,
    /// `global_defs { script_user USER [GROUP] }`: who scripts run as when
    /// they say nothing else. None: root.
    pub script_user: Option<RunAs>,
    /// `global_defs { enable_script_security }`: refuse scripts that a
    /// non-root user could modify.
    pub script_security: bool,
    /// `global_defs { dynamic_interfaces }`: an instance whose interface
    /// does not exist yet waits for it instead of failing the config.
    pub dynamic_interfaces: bool,
    /// Every `vrrp_sync_group NAME { ... }`, in file order.
    pub sync_groups: Vec<SyncGroupConfig>,
    /// `global_defs { default_interface }`: where static addresses
    /// without `dev` go (keepalived's default: eth0).
    pub default_interface: String,
    /// `static_ipaddress`, `static_routes`, `static_rules`: owned from
    /// start to stop, whatever the instances' states.
    pub statics: StaticConfig,
    /// Every `track_file NAME { ... }` (or `vrrp_track_file`), in file order.
    pub track_files: Vec<super::track_file::TrackFileConfig>,
    /// Every `vrrp_track_process NAME { ... }`, in file order.
    pub track_processes: Vec<super::track_process::TrackProcessConfig>,
    /// `notify_fifo`, `vrrp_notify_fifo` and their scripts.
    pub notify_fifos: super::notify_fifo::NotifyFifos,
    /// `startup_script`, `shutdown_script`, `vrrp_startup_delay`.
    pub startup: super::startup::StartupConfig,
    /// How the daemon asks to be scheduled (`global_defs`).
    pub scheduling: Scheduling,
    /// `vrrp_garp_interval` / `vrrp_gna_interval` (global_defs): the least
    /// time between two gratuitous ARPs (unsolicited NAs) on one
    /// interface, in microseconds; 0: back to back.
    pub announce_spacing: AnnounceSpacing,
    /// CRC-32 of the tokens (comments and layout do not count): tells
    /// which configuration is running.
    pub digest: u32,
}

/// keepalived's per-interface spacing of announcements (`garp_group`,
/// which sets it interface by interface, is refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AnnounceSpacing {
    pub garp_us: u64,
    pub gna_us: u64,
}

/// The top-level `static_*` blocks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StaticConfig {
    /// Each with its `dev` (required here).
    pub addresses: Vec<VirtualAddress>,
    pub routes: Vec<crate::config::Route>,
    pub rules: Vec<crate::config::Rule>,
}

/// `global_defs` scheduling for a busy machine, keepalived's defaults
/// filled in; see `config::scheduling`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduling {
    /// `vrrp_priority`: the nice value, -20..19.
    pub nice: Option<i32>,
    /// `vrrp_rt_priority`: SCHED_RR at this priority (1..99) from start.
    pub realtime_priority: Option<u32>,
    /// `max_auto_priority`: a loop woken more than
    /// `min_auto_priority_delay` after a timer was due moves to SCHED_RR,
    /// one priority step per late wakeup, up to this. 0: no automatic
    /// increase.
    pub max_auto_priority: u32,
    /// `max_auto_priority -1`: off, and no start-up notice suggesting it.
    pub auto_priority_silenced: bool,
    pub min_auto_priority_delay_us: u64,
    /// `vrrp_no_swap`: mlockall.
    pub no_swap: bool,
    /// `vrrp_rlimit_rttime`: the hard RLIMIT_RTTIME set with SCHED_RR.
    pub rlimit_rttime_us: u64,
    /// `vrrp_cpu_affinity`: empty means every CPU.
    pub cpu_affinity: Vec<usize>,
}

impl Default for Scheduling {
    fn default() -> Self {
        Scheduling {
            nice: None,
            realtime_priority: None,
            max_auto_priority: 0,
            auto_priority_silenced: false,
            min_auto_priority_delay_us: 1_000_000,
            no_swap: false,
            rlimit_rttime_us: 10_000,
            cpu_affinity: Vec::new(),
        }
    }
}

impl Scheduling {
    /// keepalived suggests `max_auto_priority` at start unless it is set,
    /// or `-1` asked it to be quiet.
    pub fn mentions_auto_priority_notice(&self) -> bool {
        self.max_auto_priority == 0 && !self.auto_priority_silenced
    }
}

/// `vrrp_sync_group NAME { group { VI_1 VI_2 } notify_* ... }`: instances
/// that change state together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncGroupConfig {
    pub name: String,
    pub span: Span,
    /// Indexes into `Config::instances`; each instance is in one group at
    /// most.
    pub members: Vec<usize>,
    /// The group's own notify commands; `notify` gets `GROUP NAME STATE`.
    pub notify: NotifyCommands,
}

/// A user (and optionally a group) to run a script as, by name or number;
/// resolved to ids when the script runs, not when the config is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAs {
    pub user: String,
    pub group: Option<String>,
}

/// A command line as keepalived takes it: the program and its arguments,
/// split on blanks with double quotes grouping, run without a shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub argv: Vec<String>,
    /// `notify_* CMD USER [GROUP]`: who runs it; None: the global
    /// script_user (root if none). Check scripts use their block's `user`.
    pub run_as: Option<RunAs>,
    /// Where it was configured, for run-time messages.
    pub span: Span,
}

/// One `vrrp_script NAME { ... }` block, defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptConfig {
    pub name: String,
    pub span: Span,
    /// `script "..."` (required).
    pub command: Command,
    /// `interval` in microseconds (seconds in the file, decimals allowed).
    /// Default 1 s.
    pub interval_us: u64,
    /// `timeout` in microseconds; default: the interval.
    pub timeout_us: u64,
    /// `weight`, -253..=253. Default 0: a failing script puts the tracking
    /// instances in FAULT.
    pub weight: i32,
    /// `weight N reverse`: the weight's sign is turned around (and weight
    /// 0 means FAULT while the script succeeds); see `tracking::verdict`.
    pub reverse: bool,
    /// Successes in a row to count as up (`rise`, default 1).
    pub rise: u32,
    /// Failures in a row to count as down (`fall`, default 1).
    pub fall: u32,
    /// `init_fail`: start as failed instead of up.
    pub init_fail: bool,
    /// `user USER [GROUP]`; None: the global script_user.
    pub user: Option<RunAs>,
}

/// One line of an instance's `track_script { NAME [weight N] }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedScript {
    /// Index into `Config::scripts` (the parser checks the name exists).
    pub script: usize,
    /// The weight in force for this instance: the line's `weight N`, else
    /// the script's own.
    pub weight: i32,
    /// The line's `reverse`/`noreverse`, else the script's own (also when
    /// the line gives its own weight, as keepalived does).
    pub reverse: bool,
    pub span: Span,
}

/// One line of an instance's `track_interface { IF [weight N] }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedInterface {
    pub interface: String,
    /// 0 (the default): link down puts the instance in FAULT. < 0: link
    /// down subtracts it. > 0: link up adds it.
    pub weight: i32,
    /// `weight N reverse`: the sign is turned around (weight 0: FAULT while
    /// the link is up).
    pub reverse: bool,
    pub span: Span,
}

/// The instance's `notify_*` commands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NotifyCommands {
    pub master: Option<Command>,
    pub backup: Option<Command>,
    pub fault: Option<Command>,
    pub stop: Option<Command>,
    /// `notify`: called on every transition with `INSTANCE NAME STATE
    /// PRIORITY` appended to its arguments.
    pub any: Option<Command>,
    /// `notify_master_rx_lower_pri`: run when a master hears an advert of
    /// lower priority (another router that thinks it is master).
    pub master_rx_lower_pri: Option<Command>,
}

/// The `state` keyword. Only a wish: below priority 255 both start as
/// backup; it also picks the default priority and whether nopreempt holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitialState {
    Master,
    Backup,
}

/// `authentication { auth_type PASS|AH; auth_pass ... }`. The password is
/// zero padded (or cut) to 8 bytes, as keepalived keeps it for both types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authentication {
    /// `PASS`: the password in the advert's 8 bytes of auth data.
    Password([u8; 8]),
    /// `AH`: the advert inside an IP Authentication Header whose
    /// HMAC-MD5-96 is keyed with the password (see `vrrp::ah`).
    Ah([u8; 8]),
}

/// A macvlan with the virtual MAC that keepalived 2.2.7 makes for the
/// addresses whose line says `use_vmac`, one per `dev` they name (the
/// instance's interface when none), beside the instance's own `use_vmac`
/// one: named `vrrp.VRID`, then `vrrp1.VRID`, `vrrp2.VRID`... in file
/// order, skipping the instance's own (watched in a namespace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressVmac {
    pub name: String,
    /// The interface it is made on.
    pub parent: String,
}

/// `use_vmac [NAME]`: the virtual addresses live on a macvlan interface
/// with the VRID's virtual MAC (RFC 3768 section 7.3), created on the
/// instance's interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vmac {
    /// The interface name; keepalived's default is `vrrp.VRID`.
    pub name: String,
    /// `vmac_xmit_base`: adverts go out of (and come in on) the instance's
    /// own interface, with its MAC; only the addresses use the macvlan.
    pub xmit_base: bool,
}

/// The VRRP version an instance speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VrrpVersion {
    /// RFC 3768: IPv4, whole-second intervals, optional PASS authentication.
    V2,
    /// RFC 5798: IPv4 or IPv6, centisecond intervals, no authentication.
    V3,
}

/// One `virtual_ipaddress` or `virtual_ipaddress_excluded` line:
/// `ADDR[/PREFIX] [dev IF] [label L]`. Both kinds are owned alike (added
/// on becoming master, removed on leaving, restored, announced); only
/// advertised ones go in the adverts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualAddress {
    /// Advertised addresses are all of the instance's family; excluded
    /// ones may be of either.
    pub addr: IpAddr,
    /// 32 (IPv4) or 128 (IPv6) when the line gives none, as keepalived does.
    pub prefix_len: u8,
    /// `dev IF`: the interface to add it on, if not the instance's own.
    pub dev: Option<String>,
    /// `label L`: the address label (`eth0:1` style), at most 15 bytes.
    pub label: Option<String>,
    /// `scope S`: the address scope (RT_SCOPE_* value); None: global, as
    /// `ip addr add` gives.
    pub scope: Option<u8>,
    /// `brd ADDR` / `broadcast ADDR` (`brd +`: the prefix's last address),
    /// IPv4 only.
    pub broadcast: Option<std::net::Ipv4Addr>,
    /// `no_track`: its `dev` interface going down does not put the
    /// instance in FAULT (keepalived tracks the interfaces of its VIPs).
    pub no_track: bool,
    /// In `virtual_ipaddress` (true), carried in the adverts and compared
    /// with the master's list; in `virtual_ipaddress_excluded` (false),
    /// only owned.
    pub advertised: bool,
    /// `use_vmac` on its line: it lives on a macvlan with the virtual MAC
    /// made on its `dev` (see `AddressVmac`); the parser sets its `dev` to
    /// that macvlan.
    pub use_vmac: bool,
    /// `peer ADDR`: the far end of a point-to-point address, as `ip addr
    /// add ADDR peer PEER` (the kernel's IFA_ADDRESS; the address itself
    /// is IFA_LOCAL). keepalived ignores the line's prefix then: /32 or
    /// /128.
    pub peer: Option<IpAddr>,
    /// IPv6 `preferred_lft N|forever`: how long the address stays a
    /// preferred source (IFA_CACHEINFO); Some(0) adds it deprecated, so
    /// the kernel does not pick it as a source. None: forever. As in
    /// keepalived 2.2.7, a /128 is deprecated unless the line says
    /// `preferred_lft forever`, and IPv4 addresses are left preferred.
    pub preferred_lft: Option<u32>,
    /// The IFA_F_* flags it is added with: nodad for IPv6 (unless the line
    /// says `-nodad`), and `home`, `mngtmpaddr`, `noprefixroute`,
    /// `autojoin` from the line, passed on to the kernel as keepalived does.
    pub flags: u32,
    pub span: Span,
}

impl VirtualAddress {
    /// `peer`, `preferred_lft` and the flag words as a config line would
    /// give them (each with a leading space), for `keepvip -t`: only what
    /// differs from the address's default.
    pub fn kernel_options(&self) -> String {
        use super::netlink_names::{address_flag_names, IFA_F_NODAD};
        let mut text = String::new();
        if let Some(peer) = self.peer {
            text.push_str(&format!(" peer {peer}"));
        }
        if self.addr.is_ipv6() {
            match self.preferred_lft {
                Some(seconds) => text.push_str(&format!(" preferred_lft {seconds}")),
                None if self.prefix_len == 128 => text.push_str(" preferred_lft forever"),
                None => {}
            }
            if self.flags & IFA_F_NODAD == 0 {
                text.push_str(" -nodad");
            }
        }
        for name in address_flag_names(self.flags) {
            text.push(' ');
            text.push_str(name);
        }
        text
    }
}

/// One `vrrp_instance NAME { ... }` block, defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceConfig {
    pub name: String,
    /// The line of `vrrp_instance NAME {`.
    pub span: Span,
    pub initial_state: InitialState,
    pub interface: String,
    /// The line of `interface`.
    pub interface_span: Span,
    /// 1..=255.
    pub vrid: u8,
    /// 1..=255. Default 100, or 255 under `state MASTER` with no priority.
    pub priority: u8,
    /// `version` (or `global_defs { vrrp_version }`); IPv6 instances are
    /// always v3. Default v2.
    pub version: VrrpVersion,
    /// Advertisement interval in centiseconds. VRRPv2 carries whole seconds
    /// (a multiple of 100 in 100..=25500), VRRPv3 centiseconds (1..=4095).
    /// Default 100.
    pub advert_int_cs: u16,
    /// False with `nopreempt` (cleared under state MASTER / priority 255).
    pub preempt: bool,
    /// `preempt_delay` in seconds, 0..=1000; 0 when preempt is off.
    pub preempt_delay_s: u32,
    /// `mcast_src_ip`: the advert source instead of the interface's primary
    /// address (IPv6: its link-local address).
    pub mcast_src_ip: Option<IpAddr>,
    /// The group adverts go to and are taken from when not the RFC's
    /// (224.0.0.18, ff02::12): `mcast_dst_ip`, else global_defs'
    /// `vrrp_mcast_group4`/`6`. Unused with unicast peers.
    pub multicast_group: Option<IpAddr>,
    /// `unicast_src_ip`: the source of adverts, ahead of mcast_src_ip
    /// (keepalived keeps one source for both keywords).
    pub unicast_src_ip: Option<IpAddr>,
    /// `unicast_peer { ADDR ... }`: when not empty, adverts go to each peer
    /// by unicast instead of to the group, and only adverts from a listed
    /// peer are accepted.
    pub unicast_peers: Vec<IpAddr>,
    /// `unicast_ttl`: the TTL (IPv6: hop limit) of adverts to unicast
    /// peers; None: 255. Only with unicast peers.
    pub unicast_ttl: Option<u8>,
    /// Always None for VRRPv3, which has no authentication.
    pub authentication: Option<Authentication>,
    /// Every address the instance owns, advertised or excluded, in file
    /// order within each kind (advertised first).
    pub virtual_addresses: Vec<VirtualAddress>,
    /// Seconds after becoming master before the second gratuitous ARP burst
    /// (0: none). Default 5.
    pub garp_master_delay_s: u32,
    /// Gratuitous ARPs per burst. Default 5.
    pub garp_master_repeat: u32,
    /// `garp_master_refresh`: seconds between further bursts while master
    /// (0, the default: none).
    pub garp_master_refresh_s: u32,
    /// `garp_lower_prio_repeat`: gratuitous ARPs per burst when a master
    /// hears a lower-priority master (0: none). Default garp_master_repeat.
    pub garp_lower_prio_repeat: u32,
    /// `garp_lower_prio_delay`: seconds after that burst before a second
    /// one (0: none). Default garp_master_delay.
    pub garp_lower_prio_delay_s: u32,
    pub track_scripts: Vec<TrackedScript>,
    pub track_interfaces: Vec<TrackedInterface>,
    /// Weighted `track_interface` lines of the address owner, which it
    /// ignores: kept only so that their interface must exist, as in
    /// keepalived 2.2.7 (it refuses the config when it does not).
    pub owner_ignored_track_interfaces: Vec<TrackedInterface>,
    /// `track_file { NAME [weight N [reverse]] }`.
    pub track_files: Vec<super::track_file::TrackedFile>,
    /// `track_process { NAME [weight N [reverse]] }`.
    pub track_processes: Vec<super::track_process::TrackedProcess>,
    /// `notify_priority_changes`: priority changes go to the notify fifos
    /// (default: global_defs' `vrrp_notify_priority_changes`).
    pub notify_priority_changes: bool,
    pub notify: NotifyCommands,
    /// `virtual_routes`: added after the addresses on becoming master,
    /// removed before them on leaving.
    pub virtual_routes: Vec<crate::config::Route>,
    /// `virtual_rules`: added after the routes, removed before them.
    pub virtual_rules: Vec<crate::config::Rule>,
    /// dont_track_primary, lower_prio_no_advert, higher_prio_send_advert,
    /// garp_master_refresh_repeat, strict mode.
    pub options: crate::config::InstanceOptions,
    /// `use_vmac`: every address without a `dev` of its own goes on this
    /// macvlan (the parser sets their `dev` to it).
    pub vmac: Option<Vmac>,
    /// The macvlans of addresses that say `use_vmac` (`ADDR dev IF
    /// use_vmac`), each address's `dev` set to its macvlan.
    pub address_vmacs: Vec<AddressVmac>,
}

impl InstanceConfig {
    /// The RFC's virtual router MAC: 00:00:5e:00:01:VRID for IPv4,
    /// 00:00:5e:00:02:VRID for IPv6 (RFC 5798 section 7.3).
    pub fn virtual_mac(&self) -> [u8; 6] {
        let family = if self.is_ipv6() { 2 } else { 1 };
        [0x00, 0x00, 0x5e, 0x00, family, self.vrid]
    }

    /// Whether the instance runs over IPv6: its advertised addresses say
    /// so (all of one family). An instance without any is IPv4: the
    /// parser refuses a VRRPv3 one, as keepalived 2.2.7 does.
    pub fn is_ipv6(&self) -> bool {
        self.advertised_addresses()
            .next()
            .is_some_and(|v| v.addr.is_ipv6())
    }

    /// The addresses its adverts carry: `virtual_ipaddress`.
    pub fn advertised_addresses(&self) -> impl Iterator<Item = &VirtualAddress> {
        self.virtual_addresses.iter().filter(|v| v.advertised)
    }

    /// The address adverts are sent from when the config names one.
    pub fn source_address(&self) -> Option<IpAddr> {
        self.unicast_src_ip.or(self.mcast_src_ip)
    }
}
