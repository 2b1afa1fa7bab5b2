//! What `keepvip status` shows: a snapshot of every instance, rendered as
//! a table for people or JSON for tools. Pure: built from the daemon's
//! state, rendered without I/O.

use std::fmt::Write as _;

use crate::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceStatus {
    pub name: String,
    pub state: String,
    pub interface: String,
    pub vrid: u8,
    pub priority: u8,
    pub base_priority: u8,
    pub virtual_addresses: Vec<String>,
    pub sync_group: Option<String>,
}

/// A fixed-width table, one instance a line.
pub fn render_table(instances: &[InstanceStatus]) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{:<16} {:<7} {:<10} {:>4} {:>8}  {:<10} VIRTUAL ADDRESSES",
        "INSTANCE", "STATE", "INTERFACE", "VRID", "PRIORITY", "GROUP"
    );
    for i in instances {
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
            i.virtual_addresses.join(" ")
        );
    }
    text
}

/// `{"instances":[{...}, ...]}`, one line.
pub fn render_json(instances: &[InstanceStatus]) -> String {
    let mut text = String::from("{\"instances\":[");
    for (n, i) in instances.iter().enumerate() {
        if n > 0 {
            text.push(',');
        }
        let addresses: Vec<String> = i
            .virtual_addresses
            .iter()
            .map(|a| json::string(a))
            .collect();
        let group = i
            .sync_group
            .as_deref()
            .map(json::string)
            .unwrap_or_else(|| "null".to_string());
        let _ = write!(
            text,
            "{{\"name\":{},\"state\":{},\"interface\":{},\"vrid\":{},\"priority\":{},\
             \"base_priority\":{},\"sync_group\":{group},\"virtual_addresses\":[{}]}}",
            json::string(&i.name),
            json::string(&i.state),
            json::string(&i.interface),
            i.vrid,
            i.priority,
            i.base_priority,
            addresses.join(",")
        );
    }
    text.push_str("]}\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<InstanceStatus> {
        vec![InstanceStatus {
            name: "VI_\"1\"".to_string(),
            state: "MASTER".to_string(),
            interface: "eth0".to_string(),
            vrid: 50,
            priority: 90,
            base_priority: 150,
            virtual_addresses: vec!["192.0.2.100/32".to_string()],
            sync_group: None,
        }]
    }

    #[test]
    fn json_is_escaped_and_complete() {
        assert_eq!(
            render_json(&sample()),
            "{\"instances\":[{\"name\":\"VI_\\\"1\\\"\",\"state\":\"MASTER\",\"interface\":\"eth0\",\
             \"vrid\":50,\"priority\":90,\"base_priority\":150,\"sync_group\":null,\
             \"virtual_addresses\":[\"192.0.2.100/32\"]}]}\n"
        );
    }

    #[test]
    fn table_shows_effective_and_configured_priority() {
        let table = render_table(&sample());
        assert!(table.starts_with("INSTANCE"));
        assert!(table.contains("MASTER"));
        assert!(table.contains("90/150"));
        assert!(table.contains("192.0.2.100/32"));
    }
}
