//! What `keepvip status` shows: a snapshot of every instance, rendered as
//! a table for people or JSON for tools. Pure: built from the daemon's
//! state, rendered without I/O.

use std::fmt::Write as _;

use crate::json;

/// Everything one `keepvip status` answer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    pub instances: Vec<InstanceStatus>,
    /// The running configuration's file and digest, to compare with
    /// `keepvip -t` of the file on disk.
    pub config_path: String,
    pub config_digest: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceStatus {
    pub name: String,
    pub state: String,
    pub interface: String,
    pub vrid: u8,
    pub priority: u8,
    pub base_priority: u8,
    /// `virtual_ipaddress`: advertised.
    pub virtual_addresses: Vec<String>,
    /// `virtual_ipaddress_excluded`: owned alike, not advertised.
    pub excluded_addresses: Vec<String>,
    pub sync_group: Option<String>,
    pub stats: InstanceStats,
}

/// One instance's counters, named as keepalived's JSON dump names them:
/// luci-app-keepalived's status page reads these (through the rpcd plugin).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InstanceStats {
    pub advert_sent: u64,
    pub advert_rcvd: u64,
    pub become_master: u64,
    pub release_master: u64,
    /// Wall-clock time of the last state change, microseconds since the
    /// Unix epoch; 0 before the first one.
    pub last_transition_us: u64,
}

/// A fixed-width table, one instance a line, and the running config.
pub fn render_table(report: &StatusReport) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{:<16} {:<7} {:<10} {:>4} {:>8}  {:<10} VIRTUAL ADDRESSES",
        "INSTANCE", "STATE", "INTERFACE", "VRID", "PRIORITY", "GROUP"
    );
    for i in &report.instances {
        let priority = if i.priority == i.base_priority {
            i.priority.to_string()
        } else {
            format!("{}/{}", i.priority, i.base_priority)
        };
        let _ = writeln!(
            text,
            "{:<16} {:<7} {:<10} {:>4} {:>8}  {:<10} {}",
            i.name,
            i.state,
            i.interface,
            i.vrid,
            priority,
            i.sync_group.as_deref().unwrap_or("-"),
            addresses_column(i)
        );
    }
    let _ = writeln!(
        text,
        "config {} digest {:08x}",
        report.config_path, report.config_digest
    );
    text
}

/// The advertised addresses, then the excluded ones after the word
/// `excluded`.
fn addresses_column(i: &InstanceStatus) -> String {
    let mut column = i.virtual_addresses.join(" ");
    if !i.excluded_addresses.is_empty() {
        let _ = write!(column, " excluded {}", i.excluded_addresses.join(" "));
    }
    column
}

/// `{"instances":[{...}, ...],"config":{...}}`, one line.
pub fn render_json(report: &StatusReport) -> String {
    let mut text = String::from("{\"instances\":[");
    for (n, i) in report.instances.iter().enumerate() {
        if n > 0 {
            text.push(',');
        }
        let strings = |list: &[String]| -> String {
            let quoted: Vec<String> = list.iter().map(|a| json::string(a)).collect();
            quoted.join(",")
        };
        let group = i
            .sync_group
            .as_deref()
            .map(json::string)
            .unwrap_or_else(|| "null".to_string());
        let _ = write!(
            text,
            "{{\"name\":{},\"state\":{},\"interface\":{},\"vrid\":{},\"priority\":{},\
             \"base_priority\":{},\"sync_group\":{group},\"virtual_addresses\":[{}],\
             \"excluded_addresses\":[{}],\"last_transition\":{}.{:06},\"stats\":{{\
             \"advert_sent\":{},\"advert_rcvd\":{},\"become_master\":{},\"release_master\":{}}}}}",
            json::string(&i.name),
            json::string(&i.state),
            json::string(&i.interface),
            i.vrid,
            i.priority,
            i.base_priority,
            strings(&i.virtual_addresses),
            strings(&i.excluded_addresses),
            i.stats.last_transition_us / 1_000_000,
            i.stats.last_transition_us % 1_000_000,
            i.stats.advert_sent,
            i.stats.advert_rcvd,
            i.stats.become_master,
            i.stats.release_master
        );
    }
    let _ = writeln!(
        text,
        "],\"config\":{{\"path\":{},\"digest\":\"{:08x}\"}}}}",
        json::string(&report.config_path),
        report.config_digest
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> StatusReport {
        StatusReport {
            config_path: "/etc/keepvip/keepvip.conf".to_string(),
            config_digest: 0x0badf00d,
            instances: vec![InstanceStatus {
                name: "VI_\"1\"".to_string(),
                state: "MASTER".to_string(),
                interface: "eth0".to_string(),
                vrid: 50,
                priority: 90,
                base_priority: 150,
                virtual_addresses: vec!["192.0.2.100/32".to_string()],
                excluded_addresses: vec!["2001:db8::100/128".to_string()],
                sync_group: None,
                stats: InstanceStats {
                    advert_sent: 7,
                    advert_rcvd: 3,
                    become_master: 2,
                    release_master: 1,
                    last_transition_us: 1_700_000_000_000_042,
                },
            }],
        }
    }

    #[test]
    fn json_is_escaped_and_complete() {
        assert_eq!(
            render_json(&sample()),
            "{\"instances\":[{\"name\":\"VI_\\\"1\\\"\",\"state\":\"MASTER\",\"interface\":\"eth0\",\
             \"vrid\":50,\"priority\":90,\"base_priority\":150,\"sync_group\":null,\
             \"virtual_addresses\":[\"192.0.2.100/32\"],\"excluded_addresses\":[\"2001:db8::100/128\"],\
             \"last_transition\":1700000000.000042,\"stats\":{\"advert_sent\":7,\"advert_rcvd\":3,\
             \"become_master\":2,\"release_master\":1}}],\
             \"config\":{\"path\":\"/etc/keepvip/keepvip.conf\",\"digest\":\"0badf00d\"}}\n"
        );
    }

    #[test]
    fn table_shows_effective_and_configured_priority() {
        let table = render_table(&sample());
        assert!(table.starts_with("INSTANCE"));
        assert!(table.contains("MASTER"));
        assert!(table.contains("90/150"));
        assert!(table.contains("192.0.2.100/32 excluded 2001:db8::100/128"));
        assert!(table.ends_with("config /etc/keepvip/keepvip.conf digest 0badf00d\n"));
    }
}
