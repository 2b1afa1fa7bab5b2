//! Virtual MAC interfaces (`use_vmac`): a macvlan in private mode on the
//! instance's interface, created and deleted over rtnetlink, and the
//! per-interface sysctls that make the kernel answer for the virtual
//! addresses from it.
//!
//! The sysctls are the ones keepalived 2.2.7 sets (read from
//! /proc/sys/net/ipv4/conf while it ran in a namespace): on the macvlan
//! arp_ignore 1, accept_local 1, rp_filter 0, promote_secondaries 1; on the
//! parent arp_ignore 1 and arp_filter 1, so that only the macvlan answers
//! ARP for the addresses on it, with the virtual MAC (the daemon adds
//! arp_announce 2 on the parent; see `daemon::vmac`). keepalived also
//! lowers net.ipv4.conf.all.rp_filter to 0 while it runs and restores it
//! on exit (the kernel uses the larger of "all" and the interface's).

use std::fs;
use std::io;
use std::net::Ipv6Addr;
use std::path::Path;

use super::rtnetlink::{
    begin_message, finish_message, push_attr, RtNetlink, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL,
    NLM_F_REQUEST,
};

const RTM_NEWLINK: u16 = libc::RTM_NEWLINK;
const RTM_DELLINK: u16 = libc::RTM_DELLINK;

const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_LINK: u16 = 5;
const IFLA_LINKINFO: u16 = 18;
const IFLA_AF_SPEC: u16 = 26;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const IFLA_MACVLAN_MODE: u16 = 1;
/// Frames between macvlans of one parent are not passed: two instances'
/// virtual MACs on one interface do not talk to each other.
const MACVLAN_MODE_PRIVATE: u32 = 1;
const IFLA_INET6_ADDR_GEN_MODE: u16 = 8;
const RTM_NEWADDR: u16 = libc::RTM_NEWADDR;
const IFA_ADDRESS: u16 = 1;
const IFA_CACHEINFO: u16 = 6;
const IFA_FLAGS: u16 = 8;
const IFA_F_NODAD: u32 = 0x02;
/// No IPv6 link-local address: every router's macvlan has the same MAC, so
/// the same EUI-64 address, and a backup must send nothing from it.
const IN6_ADDR_GEN_MODE_NONE: u8 = 1;

/// Creates macvlan `name` on `parent` with `mac`, in private mode, then
/// brings it up without an IPv6 link-local address. Fails with
/// `AlreadyExists` if an interface of that name exists.
pub fn create(netlink: &mut RtNetlink, name: &str, parent: u32, mac: [u8; 6]) -> io::Result<()> {
    let context = |e: io::Error| io::Error::new(e.kind(), format!("create macvlan {name}: {e}"));
    let seq = netlink.next_seq();
    netlink
        .request_ack(&new_link_request(seq, name, parent, mac), seq)
        .map_err(context)?;
    let ifindex = super::interface::ifindex(name).map_err(context)?;
    // The address generation mode only takes on an existing interface, and
    // must be set before it goes up (when the kernel would add fe80::).
    // Without IPv6 in the kernel there is nothing to turn off.
    let seq = netlink.next_seq();
    if let Err(e) = netlink.request_ack(&set_link_request(seq, ifindex, false, true), seq) {
        log::debug!("{name}: addrgenmode none: {e}");
    }
    let seq = netlink.next_seq();
    netlink
        .request_ack(&set_link_request(seq, ifindex, true, false), seq)
        .map_err(context)
}

/// Puts `address` (the parent's IPv6 link-local address) on the macvlan
/// `ifindex`, without DAD and deprecated (preferred lifetime 0), as
/// keepalived does: adverts can be sent from it on the macvlan, and the
/// kernel never picks it as the source of anything else.
pub fn add_link_local(netlink: &mut RtNetlink, ifindex: u32, address: Ipv6Addr) -> io::Result<()> {
    let seq = netlink.next_seq();
    match netlink.request_ack(&link_local_request(seq, ifindex, address), seq) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("add {address} to the macvlan: {e}"),
        )),
    }
}

/// Deletes interface `name`; Ok(false) if there was none.
pub fn delete(netlink: &mut RtNetlink, name: &str) -> io::Result<bool> {
    if matches!(super::interface::ifindex(name), Err(e) if e.kind() == io::ErrorKind::NotFound) {
        return Ok(false);
    }
    let seq = netlink.next_seq();
    let mut msg = Vec::with_capacity(64);
    begin_message(&mut msg, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
    push_ifinfomsg(&mut msg, 0, 0, 0);
    push_attr(&mut msg, IFLA_IFNAME, &nul_terminated(name));
    finish_message(&mut msg);
    netlink
        .request_ack(&msg, seq)
        .map(|()| true)
        .map_err(|e| io::Error::new(e.kind(), format!("delete interface {name}: {e}")))
}

/// A macvlan with a VRRP virtual MAC, found in the system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundVmac {
    pub name: String,
    /// The interface it is made on.
    pub parent: String,
    pub mac: [u8; 6],
}

/// Interfaces that are macvlans (they have a lower device) whose MAC is a
/// VRRP virtual MAC (00:00:5e:00:01:xx or 00:00:5e:00:02:xx): what a
/// daemon that was killed leaves behind.
pub fn virtual_mac_interfaces() -> Vec<FoundVmac> {
    let Ok(entries) = fs::read_dir("/sys/class/net") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let dir = entry.path();
            let address = fs::read_to_string(dir.join("address")).ok()?;
            let parent = fs::read_dir(&dir)
                .ok()?
                .filter_map(|e| e.ok())
                .find_map(|e| Some(e.file_name().to_str()?.strip_prefix("lower_")?.to_string()))?;
            let mac = parse_mac(address.trim())?;
            let vrrp_mac = mac[..4] == [0, 0, 0x5e, 0] && matches!(mac[4], 1 | 2);
            vrrp_mac.then_some(FoundVmac { name, parent, mac })
        })
        .collect()
}

fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut bytes = text.split(':');
    for byte in &mut mac {
        *byte = u8::from_str_radix(bytes.next()?, 16).ok()?;
    }
    bytes.next().is_none().then_some(mac)
}

/// Reads net.ipv4.conf.IF.KEY.
pub fn ipv4_conf(interface: &str, key: &str) -> io::Result<u32> {
    let path = conf_path(interface, key)?;
    let text = fs::read_to_string(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    text.trim().parse().map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: not a number: {text:?}", path.display()),
        )
    })
}

/// Writes net.ipv4.conf.IF.KEY.
pub fn set_ipv4_conf(interface: &str, key: &str, value: u32) -> io::Result<()> {
    let path = conf_path(interface, key)?;
    fs::write(&path, value.to_string())
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// The sysctl file, for an interface name that cannot climb out of the
/// directory ("all", "default" or a real name).
fn conf_path(interface: &str, key: &str) -> io::Result<std::path::PathBuf> {
    if interface.is_empty()
        || interface.contains('/')
        || interface.starts_with('.')
        || key.contains('/')
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid sysctl net.ipv4.conf.{interface}.{key}"),
        ));
    }
    Ok(Path::new("/proc/sys/net/ipv4/conf")
        .join(interface)
        .join(key))
}

// ---------------------------------------------------------------------------
// Pure message building.

/// ifinfomsg: family, pad, type, index, flags, change.
fn push_ifinfomsg(buf: &mut Vec<u8>, ifindex: u32, flags: u32, change: u32) {
    buf.push(libc::AF_UNSPEC as u8);
    buf.push(0);
    buf.extend_from_slice(&0u16.to_ne_bytes());
    buf.extend_from_slice(&ifindex.to_ne_bytes());
    buf.extend_from_slice(&flags.to_ne_bytes());
    buf.extend_from_slice(&change.to_ne_bytes());
}

fn nul_terminated(name: &str) -> Vec<u8> {
    let mut bytes = name.as_bytes().to_vec();
    bytes.push(0);
    bytes
}

/// `ip link add NAME link PARENT address MAC type macvlan mode private`.
fn new_link_request(seq: u32, name: &str, parent: u32, mac: [u8; 6]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(128);
    begin_message(
        &mut msg,
        RTM_NEWLINK,
        NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        seq,
    );
    push_ifinfomsg(&mut msg, 0, 0, 0);
    push_attr(&mut msg, IFLA_IFNAME, &nul_terminated(name));
    push_attr(&mut msg, IFLA_LINK, &parent.to_ne_bytes());
    push_attr(&mut msg, IFLA_ADDRESS, &mac);
    let mut data = Vec::new();
    push_attr(
        &mut data,
        IFLA_MACVLAN_MODE,
        &MACVLAN_MODE_PRIVATE.to_ne_bytes(),
    );
    let mut info = Vec::new();
    push_attr(&mut info, IFLA_INFO_KIND, b"macvlan\0");
    push_attr(&mut info, IFLA_INFO_DATA, &data);
    push_attr(&mut msg, IFLA_LINKINFO, &info);
    finish_message(&mut msg);
    msg
}

/// `ip link set dev IFINDEX up` or `... addrgenmode none`.
fn set_link_request(seq: u32, ifindex: u32, up: bool, no_link_local: bool) -> Vec<u8> {
    let mut msg = Vec::with_capacity(64);
    begin_message(&mut msg, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
    let flag = if up { libc::IFF_UP as u32 } else { 0 };
    push_ifinfomsg(&mut msg, ifindex, flag, flag);
    if no_link_local {
        let mut inet6 = Vec::new();
        push_attr(
            &mut inet6,
            IFLA_INET6_ADDR_GEN_MODE,
            &[IN6_ADDR_GEN_MODE_NONE],
        );
        let mut af_spec = Vec::new();
        push_attr(&mut af_spec, libc::AF_INET6 as u16, &inet6);
        push_attr(&mut msg, IFLA_AF_SPEC, &af_spec);
    }
    finish_message(&mut msg);
    msg
}

/// `ip addr add ADDRESS/64 dev IFINDEX scope link nodad preferred_lft 0`.
fn link_local_request(seq: u32, ifindex: u32, address: Ipv6Addr) -> Vec<u8> {
    let mut msg = Vec::with_capacity(96);
    begin_message(
        &mut msg,
        RTM_NEWADDR,
        NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        seq,
    );
    // ifaddrmsg: family, prefix length, flags, scope, index.
    msg.push(libc::AF_INET6 as u8);
    msg.push(64);
    msg.push(IFA_F_NODAD as u8);
    msg.push(libc::RT_SCOPE_LINK);
    msg.extend_from_slice(&ifindex.to_ne_bytes());
    push_attr(&mut msg, IFA_ADDRESS, &address.octets());
    push_attr(&mut msg, IFA_FLAGS, &IFA_F_NODAD.to_ne_bytes());
    // ifa_cacheinfo: preferred 0, valid forever, two timestamps the
    // kernel fills in.
    let mut lifetimes = Vec::with_capacity(16);
    lifetimes.extend_from_slice(&0u32.to_ne_bytes());
    lifetimes.extend_from_slice(&u32::MAX.to_ne_bytes());
    lifetimes.extend_from_slice(&[0; 8]);
    push_attr(&mut msg, IFA_CACHEINFO, &lifetimes);
    finish_message(&mut msg);
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes of `ip link add vrrp.51 link eth0 address
    /// 00:00:5e:00:01:33 type macvlan mode private`, laid out by hand from
    /// linux/if_link.h.
    #[test]
    fn new_link_request_layout() {
        let msg = new_link_request(7, "vrrp.51", 2, [0, 0, 0x5e, 0, 1, 0x33]);
        assert_eq!(
            msg.len() as u32,
            u32::from_ne_bytes(msg[..4].try_into().unwrap())
        );
        assert_eq!(u16::from_ne_bytes([msg[4], msg[5]]), RTM_NEWLINK);
        // ifinfomsg: AF_UNSPEC, index 0, no flags.
        assert_eq!(msg[16], 0);
        assert_eq!(&msg[20..32], &[0; 12]);
        // IFLA_IFNAME "vrrp.51\0": 4 + 8 bytes.
        assert_eq!(&msg[32..34], &12u16.to_ne_bytes());
        assert_eq!(&msg[34..36], &IFLA_IFNAME.to_ne_bytes());
        assert_eq!(&msg[36..44], b"vrrp.51\0");
        // IFLA_LINK 2.
        assert_eq!(&msg[44..48], &[8, 0, 5, 0]);
        assert_eq!(&msg[48..52], &2u32.to_ne_bytes());
        // IFLA_ADDRESS, padded to 12.
        assert_eq!(&msg[52..56], &[10, 0, 1, 0]);
        assert_eq!(&msg[56..62], &[0, 0, 0x5e, 0, 1, 0x33]);
        // IFLA_LINKINFO { KIND "macvlan\0", DATA { MODE 1 } }.
        let linkinfo = &msg[64..];
        assert_eq!(&linkinfo[2..4], &IFLA_LINKINFO.to_ne_bytes());
        assert_eq!(&linkinfo[8..16], b"macvlan\0");
        assert_eq!(&linkinfo[18..20], &IFLA_INFO_DATA.to_ne_bytes());
        assert_eq!(&linkinfo[22..24], &IFLA_MACVLAN_MODE.to_ne_bytes());
        assert_eq!(&linkinfo[24..28], &MACVLAN_MODE_PRIVATE.to_ne_bytes());
    }

    #[test]
    fn set_link_request_layout() {
        let up = set_link_request(8, 5, true, false);
        assert_eq!(up.len(), 32);
        assert_eq!(&up[20..24], &5u32.to_ne_bytes());
        assert_eq!(
            &up[24..32],
            &[&1u32.to_ne_bytes()[..], &1u32.to_ne_bytes()[..]].concat()[..]
        );
        let mode = set_link_request(9, 5, false, true);
        // IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE 1 } }.
        assert_eq!(&mode[24..32], &[0; 8]);
        assert_eq!(&mode[34..36], &IFLA_AF_SPEC.to_ne_bytes());
        assert_eq!(&mode[38..40], &(libc::AF_INET6 as u16).to_ne_bytes());
        assert_eq!(&mode[42..44], &IFLA_INET6_ADDR_GEN_MODE.to_ne_bytes());
        assert_eq!(mode[44], IN6_ADDR_GEN_MODE_NONE);
    }

    #[test]
    fn link_local_request_layout() {
        let msg = link_local_request(3, 9, "fe80::1".parse().unwrap());
        assert_eq!(
            &msg[16..20],
            &[libc::AF_INET6 as u8, 64, 2, libc::RT_SCOPE_LINK]
        );
        assert_eq!(&msg[20..24], &9u32.to_ne_bytes());
        assert_eq!(&msg[24..28], &[20, 0, 1, 0]);
        assert_eq!(msg[28], 0xfe);
        // IFA_FLAGS, then IFA_CACHEINFO with preferred 0, valid forever.
        assert_eq!(&msg[44..48], &[8, 0, 8, 0]);
        assert_eq!(&msg[52..56], &[20, 0, 6, 0]);
        assert_eq!(&msg[56..60], &[0; 4]);
        assert_eq!(&msg[60..64], &[0xff; 4]);
    }

    #[test]
    fn sysctl_paths_stay_in_their_directory() {
        assert!(conf_path("../x", "rp_filter").is_err());
        assert!(conf_path("..", "rp_filter").is_err());
        assert!(conf_path("eth0", "../../x").is_err());
        assert_eq!(
            conf_path("vrrp.51", "arp_ignore").unwrap(),
            Path::new("/proc/sys/net/ipv4/conf/vrrp.51/arp_ignore")
        );
    }
}
