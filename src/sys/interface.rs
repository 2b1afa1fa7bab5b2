//! Facts about a network interface, read from the kernel by name.
//!
//! These are the classic `ioctl`s on a throwaway `AF_INET` datagram socket:
//! they need no privilege, answer at once, and are all the daemon needs at
//! start-up (index, primary address, MAC) and to poll link state.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, OwnedFd};

use super::socket::new_socket;

/// The kernel index of interface `name` (`if_nametoindex`).
///
/// Fails with `NotFound` when there is no such interface.
pub fn ifindex(name: &str) -> io::Result<u32> {
    check_name(name)?;
    nix::net::if_::if_nametoindex(name)
        .map_err(|e| annotate(io::Error::from(e), name, "if_nametoindex"))
}

/// The interface's primary IPv4 address (`SIOCGIFADDR`): the first address
/// the kernel put on it, the one it would pick as source. VRRP adverts go
/// out from this address.
///
/// Fails with `EADDRNOTAVAIL` (kind `AddrNotAvailable`) when the interface
/// has no IPv4 address.
pub fn primary_ipv4(name: &str) -> io::Result<Ipv4Addr> {
    let req = ifreq_ioctl(name, libc::SIOCGIFADDR as _, "SIOCGIFADDR")?;
    // SAFETY: SIOCGIFADDR fills ifru_addr, which for AF_INET holds a
    // sockaddr_in; sockaddr and sockaddr_in are both 16 bytes and plain data.
    let sin: libc::sockaddr_in =
        unsafe { std::ptr::read_unaligned(&req.ifr_ifru.ifru_addr as *const _ as *const _) };
    if sin.sin_family != libc::AF_INET as libc::sa_family_t {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{name}: SIOCGIFADDR returned address family {}",
                sin.sin_family
            ),
        ));
    }
    // s_addr is in network byte order, i.e. its bytes in memory are the
    // address in the usual order.
    Ok(Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes()))
}

/// The interface's IPv6 link-local address, the source of VRRPv3 adverts
/// over IPv6 (RFC 5798 section 5.1.2.1), read from /proc/net/if_inet6
/// (one line per address: hex address, ifindex, prefix, scope, flags,
/// name). Tentative addresses (still in duplicate address detection) are
/// skipped: the kernel refuses to send from them.
///
/// Fails with `AddrNotAvailable` when there is none (yet).
pub fn link_local_ipv6(name: &str) -> io::Result<Ipv6Addr> {
    check_name(name)?;
    let table = std::fs::read_to_string("/proc/net/if_inet6")
        .map_err(|e| annotate(e, name, "/proc/net/if_inet6"))?;
    link_local_in(&table, name).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            format!("{name}: no usable IPv6 link-local address"),
        )
    })
}

/// The parsing half of [`link_local_ipv6`].
fn link_local_in(table: &str, name: &str) -> Option<Ipv6Addr> {
    const SCOPE_LINK: u32 = 0x20;
    const IFA_F_TENTATIVE: u32 = 0x40;
    const IFA_F_DADFAILED: u32 = 0x08;
    table.lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [hex, _index, _prefix, scope, flags, ifname] = f[..] else {
            return None;
        };
        let scope = u32::from_str_radix(scope, 16).ok()?;
        let flags = u32::from_str_radix(flags, 16).ok()?;
        if ifname != name || scope != SCOPE_LINK || flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED) != 0
        {
            return None;
        }
        u128::from_str_radix(hex, 16).ok().map(Ipv6Addr::from)
    })
}

/// The interface's 6-byte hardware (MAC) address (`SIOCGIFHWADDR`).
///
/// Fails with `InvalidInput` when the interface is not Ethernet-like (a
/// tunnel, for example), since gratuitous ARP needs a 6-byte address.
pub fn hardware_address(name: &str) -> io::Result<[u8; 6]> {
    let req = ifreq_ioctl(name, libc::SIOCGIFHWADDR as _, "SIOCGIFHWADDR")?;
    // SAFETY: SIOCGIFHWADDR fills ifru_hwaddr; reading a plain-data field of
    // the union is fine whatever the kernel wrote.
    let hw = unsafe { req.ifr_ifru.ifru_hwaddr };
    // ARPHRD_ETHER (1) covers Ethernet, veth, bridges, VLANs, bonds, wifi.
    if hw.sa_family != libc::ARPHRD_ETHER {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{name}: not an Ethernet interface (ARPHRD {})",
                hw.sa_family
            ),
        ));
    }
    let mut mac = [0u8; 6];
    for (dst, src) in mac.iter_mut().zip(hw.sa_data.iter()) {
        *dst = *src as u8;
    }
    Ok(mac)
}

/// Whether the interface is usable for VRRP: administratively up
/// (`IFF_UP`) and with carrier (`IFF_RUNNING`), read with `SIOCGIFFLAGS`.
///
/// A veth whose peer is down, or a NIC with its cable pulled, is up but not
/// running; keepalived counts both as down, and so do we.
pub fn is_up(name: &str) -> io::Result<bool> {
    let req = ifreq_ioctl(name, libc::SIOCGIFFLAGS as _, "SIOCGIFFLAGS")?;
    // SAFETY: SIOCGIFFLAGS fills ifru_flags (a c_short).
    let flags = i32::from(unsafe { req.ifr_ifru.ifru_flags });
    let want = libc::IFF_UP | libc::IFF_RUNNING;
    Ok(flags & want == want)
}

/// Reject names the kernel would truncate or misread: an ifreq holds at
/// most IFNAMSIZ - 1 bytes plus the terminating NUL.
fn check_name(name: &str) -> io::Result<()> {
    if name.is_empty() || name.len() >= libc::IFNAMSIZ || name.bytes().any(|b| b == 0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid interface name {name:?}"),
        ));
    }
    Ok(())
}

/// An `ifreq` with `ifr_name` set to `name` and the rest zeroed.
fn ifreq_for(name: &str) -> io::Result<libc::ifreq> {
    check_name(name)?;
    // SAFETY: ifreq is plain data (a name array and a union of plain data
    // and one pointer); all-zero is a valid value for it.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    Ok(req)
}

/// Run one `SIOC*` ioctl that reads into an ifreq, on a fresh socket.
///
/// A fresh socket per call keeps the API free of state; these calls are rare
/// (start-up and link checks), so the extra socket() costs nothing.
fn ifreq_ioctl(name: &str, request: IoctlRequest, what: &str) -> io::Result<libc::ifreq> {
    let mut req = ifreq_for(name)?;
    let sock = ioctl_socket()?;
    // SAFETY: `req` is a valid, writable ifreq that outlives the call, and
    // every request passed here reads only ifr_name and writes only within
    // the ifreq.
    let rc = unsafe { libc::ioctl(sock.as_raw_fd(), request, &mut req as *mut libc::ifreq) };
    if rc < 0 {
        return Err(annotate(io::Error::last_os_error(), name, what));
    }
    Ok(req)
}

/// glibc declares the ioctl request as c_ulong, musl as c_int; `as _` at the
/// call sites converts the libc constant to whichever this target uses.
#[cfg(target_env = "musl")]
type IoctlRequest = libc::c_int;
#[cfg(not(target_env = "musl"))]
type IoctlRequest = libc::c_ulong;

fn ioctl_socket() -> io::Result<OwnedFd> {
    new_socket(libc::AF_INET, libc::SOCK_DGRAM, 0)
}

/// Keep the error kind (callers match on NotFound etc.) but say which
/// interface and which call failed, so a log line is enough to act on.
fn annotate(err: io::Error, name: &str, what: &str) -> io::Error {
    let kind = match err.raw_os_error() {
        // if_nametoindex and the ioctls say ENODEV for "no such interface".
        Some(libc::ENODEV) | Some(libc::ENXIO) => io::ErrorKind::NotFound,
        _ => err.kind(),
    };
    io::Error::new(kind, format!("{name}: {what}: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_names() {
        for bad in ["", "0123456789abcdef", "a\0b"] {
            let err = ifindex(bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
            assert_eq!(is_up(bad).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        }
        // 15 bytes is the longest name that fits.
        assert!(ifreq_for("0123456789abcde").is_ok());
    }

    #[test]
    fn loopback_is_known() {
        // Every network namespace has `lo` with index 1 and 127.0.0.1 (when
        // up); reading it needs no privilege and changes nothing.
        assert_eq!(ifindex("lo").unwrap(), 1);
        if is_up("lo").unwrap() {
            assert_eq!(primary_ipv4("lo").unwrap(), Ipv4Addr::LOCALHOST);
        }
        // Loopback is ARPHRD_LOOPBACK, not Ethernet.
        assert_eq!(
            hardware_address("lo").unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    }

    #[test]
    fn link_local_from_proc_table() {
        let table = "20010db8000000000000000000000011 02 40 00 80     eth0\n\
                     fe80000000000000b85d65fffe7522cf 02 40 20 80     eth0\n\
                     fe800000000000000000000000000001 03 40 20 40     eth1\n";
        assert_eq!(
            link_local_in(table, "eth0"),
            Some("fe80::b85d:65ff:fe75:22cf".parse().unwrap())
        );
        // Tentative: not usable yet.
        assert_eq!(link_local_in(table, "eth1"), None);
        assert_eq!(link_local_in(table, "eth2"), None);
    }

    #[test]
    fn missing_interface_is_not_found() {
        let name = "kvnosuchif0";
        assert_eq!(ifindex(name).unwrap_err().kind(), io::ErrorKind::NotFound);
        assert_eq!(is_up(name).unwrap_err().kind(), io::ErrorKind::NotFound);
        assert_eq!(
            primary_ipv4(name).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }
}
