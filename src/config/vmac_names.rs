//! The names of the macvlans `use_vmac` makes. Every instance draws from
//! one pool, as keepalived 2.2.7 does (watched in a namespace): an IPv4
//! and an IPv6 instance of one VRID on one interface get `vrrp.VRID` and
//! `vrrp6.VRID`, not one name for two interfaces of different virtual
//! MACs.
//!
//! keepalived's order: the names written after `use_vmac` are taken
//! first, wherever their instance is in the file (a second instance
//! writing a taken name has it ignored, with a warning); then each
//! instance in file order takes the first free default, its own macvlan
//! before its addresses' (`ADDR dev IF use_vmac`): `vrrp.VRID`,
//! `vrrp1.VRID`, `vrrp2.VRID`... for IPv4, and `vrrp.VRID`, `vrrp6.VRID`,
//! `vrrp1.VRID`... for IPv6.
//!
//! A reload (and `keepvip restart`) keeps the names of the macvlans its
//! running instances have: those are taken before anything else, and
//! only the new instances draw from what is left. keepalived 2.2.7 does
//! the same (watched: an IPv4 instance added above a running IPv6 one of
//! the same VRID gets `vrrp1.51`, the running one keeps `vrrp.51`; a
//! start from scratch then names by file order again).

use super::model::{Span, Warning};
use super::syntax::Statement;
use super::values::warn_keepalived_error_at;

/// A macvlan a running instance has, whose name the next load keeps for
/// it. Which instances are the same ones is the caller's to say (a
/// reload: the same virtual router; a restart: the same config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptVmac {
    pub instance: String,
    /// The interface it is made on.
    pub parent: String,
    /// The instance's own (`use_vmac`), not one of its addresses'.
    pub own: bool,
    pub name: String,
}

/// The names taken so far, each with the instance that took it.
#[derive(Default)]
pub(crate) struct VmacNames {
    taken: Vec<(String, String)>,
    kept: Vec<KeptVmac>,
}

impl VmacNames {
    /// The pool with the `kept` names of the instances still asking for a
    /// default one, then the names the `vrrp_instance` blocks of `top`
    /// write after their (last) `use_vmac`, each to the first block
    /// writing it.
    pub(crate) fn written_in(top: &[Statement], kept: &[KeptVmac]) -> VmacNames {
        let mut names = VmacNames::default();
        let written_of = |statement: &Statement| {
            let line = statement
                .block
                .iter()
                .flatten()
                .rfind(|l| l.keyword == "use_vmac");
            line.map(|l| l.args.first().cloned())
        };
        for statement in top.iter().filter(|s| s.keyword == "vrrp_instance") {
            let Some(instance) = statement.args.first() else {
                continue;
            };
            // A name written now is the instance's, whatever it had.
            let asks_default = matches!(written_of(statement), Some(None));
            for kept in kept.iter().filter(|k| &k.instance == instance) {
                if (asks_default || !kept.own) && names.owner(&kept.name).is_none() {
                    names.taken.push((kept.name.clone(), instance.clone()));
                    names.kept.push(kept.clone());
                }
            }
        }
        for statement in top.iter().filter(|s| s.keyword == "vrrp_instance") {
            let Some(instance) = statement.args.first() else {
                continue;
            };
            if let Some(Some(name)) = written_of(statement) {
                if names.owner(&name).is_none() {
                    names.taken.push((name, instance.clone()));
                }
            }
        }
        names
    }

    /// The name of `instance`'s own macvlan on `parent`: the one it wrote
    /// at `span` if no earlier block took it, else the one it kept, else
    /// the first free default.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn own(
        &mut self,
        instance: &str,
        parent: &str,
        written: Option<&str>,
        span: &Span,
        vrid: u8,
        ipv6: bool,
        warnings: &mut Vec<Warning>,
    ) -> String {
        if written.is_none() {
            if let Some(kept) = self.kept_name(instance, parent, true) {
                return kept;
            }
        }
        if let Some(name) = written {
            match self.owner(name) {
                Some(owner) if owner != instance => warn_keepalived_error_at(
                    warnings,
                    span,
                    format!("({instance}) VRRP instance {owner} is already using {name} - ignoring name"),
                ),
                _ => return name.to_string(),
            }
        }
        self.take_default(instance, vrid, ipv6)
    }

    /// The name of the macvlan `instance`'s addresses get on `parent`:
    /// the one it kept, else the first free default.
    pub(crate) fn for_addresses(&mut self, instance: &str, parent: &str, vrid: u8) -> String {
        match self.kept_name(instance, parent, false) {
            Some(kept) => kept,
            None => self.take_default(instance, vrid, false),
        }
    }

    fn kept_name(&self, instance: &str, parent: &str, own: bool) -> Option<String> {
        self.kept
            .iter()
            .find(|k| k.instance == instance && k.parent == parent && k.own == own)
            .map(|k| k.name.clone())
    }

    /// The first default name no instance has, now `instance`'s.
    fn take_default(&mut self, instance: &str, vrid: u8, ipv6: bool) -> String {
        let name = default_names(vrid, ipv6)
            .find(|name| self.owner(name).is_none())
            .unwrap_or_default();
        self.taken.push((name.clone(), instance.to_string()));
        name
    }

    fn owner(&self, name: &str) -> Option<&str> {
        self.taken
            .iter()
            .find(|(taken, _)| taken == name)
            .map(|(_, owner)| owner.as_str())
    }
}

/// keepalived's defaults in the order it tries them (IPv6 tries
/// `vrrp6.VRID` second; IPv4 comes to it in its turn).
fn default_names(vrid: u8, ipv6: bool) -> impl Iterator<Item = String> {
    let numbered = (1..).map(move |n: u32| format!("vrrp{n}.{vrid}"));
    let second = ipv6.then(|| format!("vrrp6.{vrid}"));
    std::iter::once(format!("vrrp.{vrid}"))
        .chain(second)
        .chain(numbered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_in_keepalived_order() {
        let first = |ipv6| default_names(51, ipv6).take(4).collect::<Vec<_>>();
        assert_eq!(
            first(false),
            ["vrrp.51", "vrrp1.51", "vrrp2.51", "vrrp3.51"]
        );
        assert_eq!(first(true), ["vrrp.51", "vrrp6.51", "vrrp1.51", "vrrp2.51"]);
    }
}
