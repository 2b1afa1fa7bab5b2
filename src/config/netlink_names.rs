//! The names `ip` and keepalived accept for numeric rtnetlink values
//! (scopes, route protocols, route tables), with numbers accepted too.

/// `scope S`: host, link, site, global (or universe), nowhere, or 0..255.
/// The numbers are the kernel's RT_SCOPE_* values.
pub(crate) fn scope(text: &str) -> Option<u8> {
    match text {
        "global" | "universe" => Some(0),
        "site" => Some(200),
        "link" => Some(253),
        "host" => Some(254),
        "nowhere" => Some(255),
        _ => number(text),
    }
}

/// `proto P`: the names of /etc/iproute2/rt_protos that keepalived knows,
/// or 0..255. RTPROT_KEEPALIVED (18) is what keepalived marks its own
/// routes and rules with when the line says nothing.
pub(crate) fn protocol(text: &str) -> Option<u8> {
    match text {
        "unspec" => Some(0),
        "redirect" => Some(1),
        "kernel" => Some(2),
        "boot" => Some(3),
        "static" => Some(4),
        "gated" => Some(8),
        "ra" => Some(9),
        "mrt" => Some(10),
        "zebra" => Some(11),
        "bird" => Some(12),
        "dnrouted" => Some(13),
        "xorp" => Some(14),
        "ntk" => Some(15),
        "dhcp" => Some(16),
        "mrouted" => Some(17),
        "keepalived" => Some(PROTOCOL_KEEPALIVED),
        "babel" => Some(42),
        "bgp" => Some(186),
        "isis" => Some(187),
        "ospf" => Some(188),
        "rip" => Some(189),
        "eigrp" => Some(192),
        _ => number(text),
    }
}

/// RTPROT_KEEPALIVED.
pub(crate) const PROTOCOL_KEEPALIVED: u8 = 18;

/// `table T`: default (253), main (254), local (255), or 1..2^32-1.
pub(crate) fn table(text: &str) -> Option<u32> {
    match text {
        "default" => Some(253),
        "main" => Some(254),
        "local" => Some(255),
        _ if text.bytes().all(|b| b.is_ascii_digit()) => text.parse().ok().filter(|t| *t > 0),
        _ => None,
    }
}

fn number(text: &str) -> Option<u8> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// IFA_F_NODAD (linux/if_addr.h): no duplicate address detection, so an
/// IPv6 VIP answers at once (a tentative address cannot even be a source).
pub(crate) const IFA_F_NODAD: u32 = 0x02;

/// The address flag words keepalived 2.2.7 takes on an address line, as
/// `ip addr add` names them, with their IFA_F_* values. The kernel refuses
/// some on IPv4 (`autojoin` on a unicast address): logged when added, as
/// keepalived logs it.
pub(crate) fn address_flag(text: &str) -> Option<u32> {
    ADDRESS_FLAGS
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, flag)| *flag)
}

/// The words of [`address_flag`] set in `flags`, in the order keepalived
/// lists them.
pub(crate) fn address_flag_names(flags: u32) -> impl Iterator<Item = &'static str> {
    ADDRESS_FLAGS
        .iter()
        .filter(move |(_, flag)| flags & flag != 0)
        .map(|(name, _)| *name)
}

const ADDRESS_FLAGS: &[(&str, u32)] = &[
    ("home", 0x10),
    ("mngtmpaddr", 0x100),
    ("noprefixroute", 0x200),
    ("autojoin", 0x400),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(scope("link"), Some(253));
        assert_eq!(scope("250"), Some(250));
        assert_eq!(scope("256"), None);
        assert_eq!(scope("-1"), None);
        assert_eq!(protocol("keepalived"), Some(18));
        assert_eq!(protocol("static"), Some(4));
        assert_eq!(table("main"), Some(254));
        assert_eq!(table("100"), Some(100));
        assert_eq!(table("0"), None);
        assert_eq!(table("x"), None);
    }
}
