//! What keepvip does with a keepalived keyword it does not implement.
//!
//! A keyword the parser implements is handled by its block's reader before
//! this table is consulted, so an entry here only speaks for keywords that
//! are not (or not yet) implemented. Starting without one that changes the
//! wire, the addresses or routes a master owns, or when it fails over
//! would split the brain with keepalived peers, so those are refused.
//! Alerting, LVS, tuning and process-management keywords change none of
//! that and are warned about; keepalived 2.2.7 takes them, so `-t` passes.
//! A keyword in no list (a typo, one newer than keepalived 2.2.7, or one
//! it dropped, such as `lvs_id`) is warned about as keepalived does, and
//! is one of its config errors: `-t` exits 5, as keepalived's does.

use super::model::{ConfigError, Warning, WarningKind};
use super::syntax::Statement;
use super::values::{error_at, warn_unsupported_as};

/// How a keyword keepvip does not implement is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Treatment {
    /// Warned about and ignored: what it changes is outside VRRP's
    /// behaviour (the reason is in the table).
    WarnOnly(&'static str),
    /// A config error: running without it behaves differently on the wire
    /// or in what the master owns.
    Refused(&'static str),
}

use Treatment::{Refused, WarnOnly};

const ALERTING: &str = "alerting only (mail, SNMP, D-Bus)";
const LVS: &str = "the LVS (IPVS) part, which keepvip does not run";
const TUNING: &str = "process tuning of keepalived itself";
const EXTRA_NOTIFY: &str = "an extra notification channel; notify_* commands still run";
const WIRE: &str = "it changes what goes on the wire";
const FAILOVER: &str = "it changes when the instance fails over";
const FIREWALL: &str = "firewall rules keepalived adds";
const OWNS: &str = "it changes the interfaces and MACs a master's addresses live on";

/// keepalived 2.2.7 keywords, in global_defs, at the top level, in
/// vrrp_instance or vrrp_sync_group blocks, that keepvip does not
/// implement.
pub(crate) const NOT_IMPLEMENTED: &[(&str, Treatment)] = &[
    // Alerting.
    ("notification_email", WarnOnly(ALERTING)),
    ("notification_email_from", WarnOnly(ALERTING)),
    ("smtp_server", WarnOnly(ALERTING)),
    ("smtp_helo_name", WarnOnly(ALERTING)),
    ("smtp_connect_timeout", WarnOnly(ALERTING)),
    ("smtp_alert", WarnOnly(ALERTING)),
    ("smtp_alert_vrrp", WarnOnly(ALERTING)),
    ("smtp_alert_checker", WarnOnly(ALERTING)),
    ("no_email_faults", WarnOnly(ALERTING)),
    ("enable_traps", WarnOnly(ALERTING)),
    ("enable_snmp_vrrp", WarnOnly(ALERTING)),
    ("enable_snmp_keepalived", WarnOnly(ALERTING)),
    ("enable_snmp_checker", WarnOnly(ALERTING)),
    ("enable_snmp_rfc", WarnOnly(ALERTING)),
    ("enable_snmp_rfcv2", WarnOnly(ALERTING)),
    ("enable_snmp_rfcv3", WarnOnly(ALERTING)),
    ("snmp_socket", WarnOnly(ALERTING)),
    ("enable_dbus", WarnOnly(ALERTING)),
    ("dbus_service_name", WarnOnly(ALERTING)),
    // LVS.
    ("virtual_server", WarnOnly(LVS)),
    ("virtual_server_group", WarnOnly(LVS)),
    ("lvs_sync_daemon", WarnOnly(LVS)),
    ("lvs_sync_daemon_interface", WarnOnly(LVS)),
    ("lvs_timeouts", WarnOnly(LVS)),
    ("lvs_flush", WarnOnly(LVS)),
    ("lvs_flush_onstop", WarnOnly(LVS)),
    ("lvs_notify_fifo", WarnOnly(LVS)),
    ("lvs_notify_fifo_script", WarnOnly(LVS)),
    ("checker_rlimit_rttime", WarnOnly(LVS)),
    ("checker_priority", WarnOnly(LVS)),
    ("checker_no_swap", WarnOnly(LVS)),
    ("checker_cpu_affinity", WarnOnly(LVS)),
    ("checker_process_name", WarnOnly(LVS)),
    ("bfd_rlimit_rttime", WarnOnly(LVS)),
    ("bfd_priority", WarnOnly(LVS)),
    ("bfd_no_swap", WarnOnly(LVS)),
    ("bfd_process_name", WarnOnly(LVS)),
    // Tuning and process management.
    ("vrrp_process_name", WarnOnly(TUNING)),
    ("process_names", WarnOnly(TUNING)),
    ("process_name", WarnOnly(TUNING)),
    ("child_wait_time", WarnOnly(TUNING)),
    ("use_pid_dir", WarnOnly(TUNING)),
    ("umask", WarnOnly(TUNING)),
    ("random_seed", WarnOnly(TUNING)),
    ("vrrp_netlink_cmd_rcv_bufs", WarnOnly(TUNING)),
    ("vrrp_netlink_cmd_rcv_bufs_force", WarnOnly(TUNING)),
    ("vrrp_netlink_monitor_rcv_bufs", WarnOnly(TUNING)),
    ("vrrp_netlink_monitor_rcv_bufs_force", WarnOnly(TUNING)),
    ("vrrp_rx_bufs_policy", WarnOnly(TUNING)),
    ("vrrp_rx_bufs_multiplier", WarnOnly(TUNING)),
    ("kernel_rx_buf_size", WarnOnly(TUNING)),
    ("debug", WarnOnly(TUNING)),
    ("fifo_write_vrrp_states_on_reload", WarnOnly(EXTRA_NOTIFY)),
    // keepalived adds them only with vrrp_strict and without accept, to
    // drop traffic to the VIPs; keepvip owns no firewall. Debian's 2.2.7,
    // built without iptables, rejects the first two; a build with it
    // takes them, so they pass here.
    ("vrrp_iptables", WarnOnly(FIREWALL)),
    ("vrrp_ipsets", WarnOnly(FIREWALL)),
    ("nftables", WarnOnly(FIREWALL)),
    ("nftables_priority", WarnOnly(FIREWALL)),
    ("nftables_ifindex", WarnOnly(FIREWALL)),
    ("nftables_counters", WarnOnly(FIREWALL)),
    // The wire.
    ("use_ipvlan", Refused(WIRE)),
    ("v3_checksum_as_v2", Refused(WIRE)),
    ("old_unicast_checksum", Refused(WIRE)),
    ("garp_group", Refused(WIRE)),
    ("track_src_ip", Refused(WIRE)),
    ("net_namespace", Refused(WIRE)),
    ("disable_local_igmp", Refused(WIRE)),
    // What a master owns.
    ("use_vmac_addr", Refused(OWNS)),
    // When it fails over.
    ("track_bfd", Refused(FAILOVER)),
    ("bfd_instance", Refused(FAILOVER)),
    ("linkbeat_use_polling", Refused(FAILOVER)),
    ("linkbeat_interfaces", Refused(FAILOVER)),
    ("unicast_fault_no_peer", Refused(FAILOVER)),
    ("global_tracking", Refused(FAILOVER)),
    ("sync_group_tracking_weight", Refused(FAILOVER)),
    // Read in vrrp_instance; in a vrrp_sync_group they reach this table.
    ("track_interface", Refused(FAILOVER)),
    ("track_script", Refused(FAILOVER)),
    ("track_file", Refused(FAILOVER)),
    ("track_process", Refused(FAILOVER)),
];

/// The treatment of a keyword no reader implemented; None: not a keyword
/// keepvip knows of.
pub(crate) fn treatment(keyword: &str) -> Option<Treatment> {
    NOT_IMPLEMENTED
        .iter()
        .find(|(name, _)| *name == keyword)
        .map(|(_, treatment)| *treatment)
}

/// The fallback of a block reader: a refused keyword is an error naming
/// it and why; anything else is warned about and skipped with its block.
pub(crate) fn not_implemented(
    warnings: &mut Vec<Warning>,
    statement: &Statement,
) -> Result<(), ConfigError> {
    match treatment(&statement.keyword) {
        Some(Refused(why)) => Err(error_at(
            &statement.span,
            format!(
                "keyword '{}' is not supported by keepvip: {why}, so running without it \
                 would not behave as keepalived does",
                statement.keyword
            ),
        )),
        Some(WarnOnly(_)) => {
            warn_unsupported_as(warnings, statement, WarningKind::Accepted);
            Ok(())
        }
        None => {
            warn_unsupported_as(warnings, statement, WarningKind::KeepalivedError);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_keyword_is_listed_once() {
        for (index, (name, _)) in NOT_IMPLEMENTED.iter().enumerate() {
            assert!(
                !NOT_IMPLEMENTED[index + 1..].iter().any(|(n, _)| n == name),
                "{name} listed twice"
            );
        }
    }
}
