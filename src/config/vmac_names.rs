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

use super::model::{Span, Warning};
use super::syntax::Statement;
use super::values::warn_keepalived_error_at;

/// The names taken so far, each with the instance that took it.
#[derive(Default)]
pub(crate) struct VmacNames {
    taken: Vec<(String, String)>,
}

impl VmacNames {
    /// The pool with the names the `vrrp_instance` blocks of `top` write
    /// after their (last) `use_vmac`, each to the first block writing it.
    pub(crate) fn written_in(top: &[Statement]) -> VmacNames {
        let mut names = VmacNames::default();
        for statement in top.iter().filter(|s| s.keyword == "vrrp_instance") {
            let Some(instance) = statement.args.first() else {
                continue;
            };
            let written = statement
                .block
                .iter()
                .flatten()
                .rfind(|l| l.keyword == "use_vmac")
                .and_then(|l| l.args.first());
            if let Some(name) = written {
                if names.owner(name).is_none() {
                    names.taken.push((name.clone(), instance.clone()));
                }
            }
        }
        names
    }

    /// The name of `instance`'s own macvlan: the one it wrote at `span`
    /// if no earlier block took it, else the first free default.
    pub(crate) fn own(
        &mut self,
        instance: &str,
        written: Option<&str>,
        span: &Span,
        vrid: u8,
        ipv6: bool,
        warnings: &mut Vec<Warning>,
    ) -> String {
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

    /// The first default name no instance has, now `instance`'s.
    pub(crate) fn take_default(&mut self, instance: &str, vrid: u8, ipv6: bool) -> String {
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
