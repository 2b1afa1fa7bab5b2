//! Adding, removing and listing IPv4 addresses over rtnetlink (NETLINK_ROUTE),
//! the kernel interface `ip addr` itself uses.
//!
//! The exchange is request/acknowledge on a blocking socket: the kernel
//! handles an address change synchronously inside sendmsg() and the answer
//! is queued before sendmsg() returns, so the receive never really waits. A
//! 1 s receive timeout still bounds it, so a kernel surprise cannot hang the
//! daemon's loop.
//!
//! Messages are built and parsed by hand, as bytes, by the small pure
//! functions at the bottom of this file (unit-tested without privilege).
//! The layout, from linux/netlink.h, linux/rtnetlink.h and linux/if_addr.h:
//!
//! ```text
//! nlmsghdr (16 bytes, host byte order)
//!   u32 nlmsg_len    whole message, header included, *unpadded*
//!   u16 nlmsg_type   RTM_NEWADDR, NLMSG_ERROR, ...
//!   u16 nlmsg_flags  NLM_F_*
//!   u32 nlmsg_seq    echoed by the kernel in its answers
//!   u32 nlmsg_pid    port id; the kernel's answers carry ours
//! ifaddrmsg (8 bytes)
//!   u8 family, u8 prefixlen, u8 flags, u8 scope, u32 index
//! attributes, each: u16 rta_len (header + payload, unpadded), u16 rta_type,
//!   payload, then zero padding up to a multiple of 4 (NLA_ALIGN)
//! ```
//!
//! Messages in one datagram, and attributes in one message, each start on a
//! 4-byte boundary; the length fields never include the trailing padding.

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::socket::{new_socket, send_datagram, setsockopt};

// Message types and flags, as u16 the way they sit in nlmsghdr (the
// request flags are shared with the route, rule and link messages).
const NLMSG_ERROR: u16 = libc::NLMSG_ERROR as u16;
const NLMSG_DONE: u16 = libc::NLMSG_DONE as u16;
const RTM_NEWADDR: u16 = libc::RTM_NEWADDR;
const RTM_DELADDR: u16 = libc::RTM_DELADDR;
const RTM_GETADDR: u16 = libc::RTM_GETADDR;
pub(super) const NLM_F_REQUEST: u16 = libc::NLM_F_REQUEST as u16;
pub(super) const NLM_F_ACK: u16 = libc::NLM_F_ACK as u16;
pub(super) const NLM_F_EXCL: u16 = libc::NLM_F_EXCL as u16;
pub(super) const NLM_F_CREATE: u16 = libc::NLM_F_CREATE as u16;
const NLM_F_DUMP: u16 = libc::NLM_F_DUMP as u16;
const NLM_F_DUMP_INTR: u16 = libc::NLM_F_DUMP_INTR as u16;
/// In an NLMSG_ERROR: the echoed request was cut to its header
/// (NETLINK_CAP_ACK).
const NLM_F_CAPPED: u16 = libc::NLM_F_CAPPED as u16;
/// In an NLMSG_ERROR: extended-ack attributes follow (NETLINK_EXT_ACK).
const NLM_F_ACK_TLVS: u16 = libc::NLM_F_ACK_TLVS as u16;
/// Extended-ack attribute carrying a NUL-terminated human-readable reason.
const NLMSGERR_ATTR_MSG: u16 = 1;

const IFA_ADDRESS: u16 = libc::IFA_ADDRESS;
const IFA_LOCAL: u16 = libc::IFA_LOCAL;
const IFA_LABEL: u16 = libc::IFA_LABEL;
const IFA_BROADCAST: u16 = libc::IFA_BROADCAST;
/// 32-bit address flags (linux/if_addr.h); ifa_flags holds only 8.
const IFA_FLAGS: u16 = 8;
/// Do not run duplicate address detection: a VIP must answer at once, and
/// a tentative address cannot even be a source.
const IFA_F_NODAD: u8 = 0x02;
/// struct ifa_cacheinfo: preferred and valid lifetimes (and two stamps the
/// kernel fills in).
const IFA_CACHEINFO: u16 = libc::IFA_CACHEINFO;

/// The top two bits of rta_type are flags (nested, net byte order), not
/// part of the type.
const NLA_TYPE_MASK: u16 = !(libc::NLA_F_NESTED as u16 | libc::NLA_F_NET_BYTEORDER as u16);

const NLMSG_HDRLEN: usize = 16;
const IFADDRMSG_LEN: usize = 8;
const RTA_HDRLEN: usize = 4;

/// Receive buffer size. The kernel sizes dump datagrams to the reader's
/// buffer up to 32 KiB; 64 KiB leaves room, and MSG_TRUNC catches the rest.
const RECV_BUF_LEN: usize = 64 * 1024;

/// How often a dump interrupted by a concurrent change (NLM_F_DUMP_INTR) is
/// retried before giving up.
const DUMP_ATTEMPTS: usize = 3;

/// What `ip addr add` takes beyond the address: all optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddressAttributes<'a> {
    /// IPv4 only (the kernel has no IPv6 labels); at most 15 bytes.
    pub label: Option<&'a str>,
    /// ifa_scope (RT_SCOPE_*); None: global.
    pub scope: Option<u8>,
    /// IFA_BROADCAST, IPv4 only.
    pub broadcast: Option<Ipv4Addr>,
    /// `peer P`: IFA_ADDRESS, the far end of a point-to-point address.
    pub peer: Option<IpAddr>,
    /// IFA_F_* flags; None: nodad for IPv6, none for IPv4.
    pub flags: Option<u32>,
    /// IFA_CACHEINFO's preferred lifetime in seconds (0: deprecated), the
    /// valid lifetime forever; None: both forever.
    pub preferred_lft: Option<u32>,
}

/// A NETLINK_ROUTE socket for address changes.
///
/// Blocking with a 1 s receive timeout (see the module comment); not meant
/// to be polled. A timeout shows up as an error of kind `TimedOut`.
#[derive(Debug)]
pub struct RtNetlink {
    fd: OwnedFd,
    /// Our port id, assigned by the kernel at bind(); its answers carry it.
    pid: u32,
    /// Sequence number of the last request; answers must echo it.
    seq: u32,
    buf: Vec<u8>,
}

impl RtNetlink {
    /// Open and bind a NETLINK_ROUTE socket (no multicast groups).
    pub fn open() -> io::Result<Self> {
        let fd = new_socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_ROUTE)?;

        let timeout = libc::timeval {
            tv_sec: 1,
            tv_usec: 0,
        };
        setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &timeout)?;
        // Best effort, both: CAP_ACK stops the kernel echoing our whole
        // request in each error, EXT_ACK lets it say *why* it refused
        // ("Invalid prefix length"). Old kernels lack them; that is fine.
        let one: libc::c_int = 1;
        let _ = setsockopt(&fd, libc::SOL_NETLINK, libc::NETLINK_CAP_ACK, &one);
        let _ = setsockopt(&fd, libc::SOL_NETLINK, libc::NETLINK_EXT_ACK, &one);

        // Bind with nl_pid 0: the kernel picks a unique port id for us.
        let mut addr = kernel_addr();
        // SAFETY: addr is a valid sockaddr_nl and the length matches it.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                &addr as *const libc::sockaddr_nl as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut len = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        // SAFETY: addr and len are valid for writing and len is its size.
        let rc = unsafe {
            libc::getsockname(
                fd.as_raw_fd(),
                &mut addr as *mut libc::sockaddr_nl as *mut libc::sockaddr,
                &mut len,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }

        Ok(RtNetlink {
            fd,
            pid: addr.nl_pid,
            // Start from the clock so that answers to a previous process's
            // requests (impossible on a fresh port, but cheap) never match.
            seq: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as u32)
                .unwrap_or(1),
            buf: vec![0; RECV_BUF_LEN],
        })
    }

    /// Add `addr/prefix_len` to interface `ifindex`, like
    /// `ip addr add addr/prefix_len dev IF [label LABEL]`.
    ///
    /// Fails with kind `AlreadyExists` (EEXIST) when the interface already
    /// has that address; a caller re-asserting a VIP can treat that as done.
    /// `label` (e.g. `eth0:1`) is what `ifconfig` and keepalived's
    /// `label` option show; at most 15 bytes.
    pub fn add_ipv4(
        &mut self,
        ifindex: u32,
        addr: Ipv4Addr,
        prefix_len: u8,
        label: Option<&str>,
    ) -> io::Result<()> {
        self.add_ip(ifindex, addr.into(), prefix_len, label)
    }

    /// [`RtNetlink::add_ipv4`] for either family. IPv6 addresses are added
    /// with `nodad` (usable at once, as keepalived adds its VIPs) and
    /// without a label, which the kernel has only for IPv4.
    pub fn add_ip(
        &mut self,
        ifindex: u32,
        addr: IpAddr,
        prefix_len: u8,
        label: Option<&str>,
    ) -> io::Result<()> {
        let attributes = AddressAttributes {
            label,
            ..AddressAttributes::default()
        };
        self.add_ip_with(ifindex, addr, prefix_len, &attributes)
    }

    /// [`RtNetlink::add_ip`] with a scope and broadcast address as well,
    /// like `ip addr add ADDR/LEN dev IF label L scope S brd B`.
    pub fn add_ip_with(
        &mut self,
        ifindex: u32,
        addr: IpAddr,
        prefix_len: u8,
        attributes: &AddressAttributes<'_>,
    ) -> io::Result<()> {
        check_prefix(addr, prefix_len)?;
        let label = attributes.label.filter(|_| addr.is_ipv4());
        if let Some(label) = label {
            if label.is_empty() || label.len() >= libc::IFNAMSIZ || label.contains('\0') {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("invalid address label {label:?} (1..=15 bytes, no NUL)"),
                ));
            }
        }
        let seq = self.next_seq();
        let attributes = AddressAttributes {
            label,
            ..*attributes
        };
        let msg = address_message(
            RTM_NEWADDR,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
            seq,
            ifindex,
            addr,
            prefix_len,
            &attributes,
        );
        self.request_ack(&msg, seq)
            .map_err(|e| context(e, format!("add {addr}/{prefix_len} on ifindex {ifindex}")))
    }

    /// Remove `addr/prefix_len` from interface `ifindex`.
    ///
    /// `Ok(true)` when it was removed, `Ok(false)` when it was not there
    /// (EADDRNOTAVAIL, or ENOENT from some kernels), so that "make sure it
    /// is gone" needs no listing first.
    pub fn del_ipv4(&mut self, ifindex: u32, addr: Ipv4Addr, prefix_len: u8) -> io::Result<bool> {
        self.del_ip(ifindex, addr.into(), prefix_len)
    }

    /// [`RtNetlink::del_ipv4`] for either family.
    pub fn del_ip(&mut self, ifindex: u32, addr: IpAddr, prefix_len: u8) -> io::Result<bool> {
        self.del_ip_with_peer(ifindex, addr, prefix_len, None)
    }

    /// [`RtNetlink::del_ip`] for an address that may have a `peer`: the
    /// kernel matches an IPv4 deletion's IFA_ADDRESS against the peer, so
    /// without it a point-to-point address is not found (and stays).
    pub fn del_ip_with_peer(
        &mut self,
        ifindex: u32,
        addr: IpAddr,
        prefix_len: u8,
        peer: Option<IpAddr>,
    ) -> io::Result<bool> {
        check_prefix(addr, prefix_len)?;
        let seq = self.next_seq();
        let attributes = AddressAttributes {
            peer,
            ..AddressAttributes::default()
        };
        let msg = address_message(
            RTM_DELADDR,
            NLM_F_REQUEST | NLM_F_ACK,
            seq,
            ifindex,
            addr,
            prefix_len,
            &attributes,
        );
        match self.request_ack(&msg, seq) {
            Ok(()) => Ok(true),
            // Matched on the kind, which follows the errno, because the
            // error may carry the kernel's extended-ack text and then no
            // longer has a raw errno.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::AddrNotAvailable | io::ErrorKind::NotFound
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(context(
                e,
                format!("delete {addr}/{prefix_len} on ifindex {ifindex}"),
            )),
        }
    }

    /// The IPv4 addresses on interface `ifindex` with their prefix lengths,
    /// in the kernel's order (primary first), from an RTM_GETADDR dump.
    pub fn list_ipv4(&mut self, ifindex: u32) -> io::Result<Vec<(Ipv4Addr, u8)>> {
        let mut last_err = None;
        for _ in 0..DUMP_ATTEMPTS {
            match self.dump_ipv4(ifindex) {
                Ok(list) => return Ok(list),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => last_err = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_err.unwrap_or_else(|| io::Error::from(io::ErrorKind::Interrupted)))
    }

    /// One dump attempt; `Interrupted` when the kernel flagged the dump as
    /// inconsistent because addresses changed while it was being taken.
    fn dump_ipv4(&mut self, ifindex: u32) -> io::Result<Vec<(Ipv4Addr, u8)>> {
        let seq = self.next_seq();
        self.send(&dump_request(seq))?;
        let mut out = Vec::new();
        let mut interrupted = false;
        loop {
            let len = self.recv()?;
            for msg in split_messages(&self.buf[..len])? {
                if !self.is_answer(&msg, seq) {
                    continue;
                }
                if msg.flags & NLM_F_DUMP_INTR != 0 {
                    interrupted = true;
                }
                match msg.ty {
                    NLMSG_DONE => {
                        // NLMSG_DONE carries an int: 0, or a negative errno
                        // when the dump failed part way.
                        if let Some(err) = msg.payload.get(..4) {
                            let err = i32::from_ne_bytes(err.try_into().unwrap());
                            if err < 0 {
                                return Err(io::Error::from_raw_os_error(-err));
                            }
                        }
                        if interrupted {
                            return Err(io::Error::new(
                                io::ErrorKind::Interrupted,
                                "address dump interrupted by a concurrent change",
                            ));
                        }
                        return Ok(out);
                    }
                    NLMSG_ERROR => {
                        parse_ack(&msg)?;
                        // An ack with error 0 in a dump is not expected;
                        // the dump is over.
                        return Ok(out);
                    }
                    RTM_NEWADDR => {
                        if let Some(a) = parse_ifaddr(msg.payload)? {
                            if a.family == libc::AF_INET as u8 && a.index == ifindex {
                                if let Some(ip) = a.local.or(a.address) {
                                    out.push((ip, a.prefix_len));
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    pub(super) fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Send `msg` and wait for the NLMSG_ERROR answering sequence `seq`.
    pub(super) fn request_ack(&mut self, msg: &[u8], seq: u32) -> io::Result<()> {
        self.send(msg)?;
        loop {
            let len = self.recv()?;
            for msg in split_messages(&self.buf[..len])? {
                // Anything else is a late answer to an earlier request that
                // timed out: skip it.
                if self.is_answer(&msg, seq) && msg.ty == NLMSG_ERROR {
                    return parse_ack(&msg);
                }
            }
        }
    }

    /// Whether `msg` answers our request `seq`: the kernel copies both the
    /// sequence number and our port id into every answer.
    fn is_answer(&self, msg: &Message<'_>, seq: u32) -> bool {
        msg.seq == seq && msg.pid == self.pid
    }

    fn send(&self, msg: &[u8]) -> io::Result<()> {
        send_datagram(&self.fd, msg, &kernel_addr(), "netlink message")
    }

    /// Receive one datagram from the kernel into `self.buf`; its length.
    fn recv(&mut self) -> io::Result<usize> {
        loop {
            let mut from = kernel_addr();
            let mut from_len = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
            // SAFETY: buf, from and from_len are valid for writing with the
            // sizes given. MSG_TRUNC makes the call return the datagram's
            // real length, so truncation is detected instead of silently
            // cutting a message.
            let n = unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    self.buf.as_mut_ptr() as *mut libc::c_void,
                    self.buf.len(),
                    libc::MSG_TRUNC,
                    &mut from as *mut libc::sockaddr_nl as *mut libc::sockaddr,
                    &mut from_len,
                )
            };
            if n < 0 {
                let err = io::Error::last_os_error();
                return Err(match err.raw_os_error() {
                    Some(libc::EAGAIN) => io::Error::new(
                        io::ErrorKind::TimedOut,
                        "no answer from the kernel on rtnetlink within 1 s",
                    ),
                    Some(libc::EINTR) => continue,
                    _ => err,
                });
            }
            let n = n as usize;
            if n > self.buf.len() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("netlink datagram of {n} bytes truncated"),
                ));
            }
            // Only the kernel (port 0) may speak for it; ignore anything a
            // privileged process might send to our port.
            if from.nl_pid != 0 {
                continue;
            }
            return Ok(n);
        }
    }
}

impl AsRawFd for RtNetlink {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

fn kernel_addr() -> libc::sockaddr_nl {
    // SAFETY: sockaddr_nl is plain data; zero is a valid value.
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    addr
}

fn check_prefix(addr: IpAddr, prefix_len: u8) -> io::Result<()> {
    let (family, max) = if addr.is_ipv4() {
        ("IPv4", 32)
    } else {
        ("IPv6", 128)
    };
    if prefix_len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{family} prefix length {prefix_len} > {max}"),
        ));
    }
    Ok(())
}

/// Wrap an error with what we were doing, keeping its kind and errno-based
/// kind so callers can still match on `AlreadyExists` and friends.
pub(super) fn context(err: io::Error, what: String) -> io::Error {
    io::Error::new(err.kind(), format!("{what}: {err}"))
}

// ---------------------------------------------------------------------------
// Pure message building and parsing.

/// Round `len` up to the next multiple of 4 (NLMSG_ALIGN and NLA_ALIGN are
/// the same rule).
const fn align4(len: usize) -> usize {
    (len + 3) & !3
}

/// Append an nlmsghdr with a zero length; [`finish_message`] fills it in.
pub(super) fn begin_message(buf: &mut Vec<u8>, ty: u16, flags: u16, seq: u32) {
    buf.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_len, patched later
    buf.extend_from_slice(&ty.to_ne_bytes());
    buf.extend_from_slice(&flags.to_ne_bytes());
    buf.extend_from_slice(&seq.to_ne_bytes());
    // nlmsg_pid 0: "kernel, fill in my port id".
    buf.extend_from_slice(&0u32.to_ne_bytes());
}

/// Write the total length into nlmsg_len. Every attribute is already padded
/// to 4, so the length is aligned too.
pub(super) fn finish_message(buf: &mut [u8]) {
    let len = buf.len() as u32;
    buf[..4].copy_from_slice(&len.to_ne_bytes());
}

/// Append an ifaddrmsg.
fn push_ifaddrmsg(buf: &mut Vec<u8>, family: u8, prefix_len: u8, ifindex: u32) {
    push_ifaddrmsg_flags(buf, family, prefix_len, 0, ifindex);
}

/// Append an ifaddrmsg with `flags` (IFA_F_* below 256) in ifa_flags.
fn push_ifaddrmsg_flags(buf: &mut Vec<u8>, family: u8, prefix_len: u8, flags: u8, ifindex: u32) {
    buf.push(family);
    buf.push(prefix_len);
    buf.push(flags); // IFA_F_* beyond 8 bits would go in IFA_FLAGS
    buf.push(libc::RT_SCOPE_UNIVERSE); // global scope, as `ip addr add` uses
    buf.extend_from_slice(&ifindex.to_ne_bytes());
}

/// Append one attribute: header, payload, zero padding to 4. rta_len counts
/// the header and payload but not the padding.
pub(super) fn push_attr(buf: &mut Vec<u8>, ty: u16, payload: &[u8]) {
    let len = RTA_HDRLEN + payload.len();
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&ty.to_ne_bytes());
    buf.extend_from_slice(payload);
    buf.resize(buf.len() + (align4(len) - len), 0);
}

/// An RTM_NEWADDR or RTM_DELADDR message for one address, as `ip addr`
/// builds it.
///
/// IPv6 addresses carry IFA_F_NODAD unless told otherwise, in ifa_flags
/// (its low 8 bits) and again in the 32-bit IFA_FLAGS attribute, which
/// newer kernels read instead and which holds the flags above 8 bits.
/// IFA_LOCAL carries the address and IFA_ADDRESS the peer, or the address
/// again: on a broadcast link they are the same, and the kernel matches
/// deletions on both.
fn address_message(
    ty: u16,
    nl_flags: u16,
    seq: u32,
    ifindex: u32,
    addr: IpAddr,
    prefix_len: u8,
    attributes: &AddressAttributes<'_>,
) -> Vec<u8> {
    let mut buf = Vec::with_capacity(96);
    begin_message(&mut buf, ty, nl_flags, seq);
    let (family, default_flags) = match addr {
        IpAddr::V4(_) => (libc::AF_INET as u8, 0),
        IpAddr::V6(_) => (libc::AF_INET6 as u8, u32::from(IFA_F_NODAD)),
    };
    let address_flags = attributes.flags.unwrap_or(default_flags);
    push_ifaddrmsg_flags(&mut buf, family, prefix_len, address_flags as u8, ifindex);
    // Addresses go in network byte order, i.e. the octets as written.
    let octets = |a: IpAddr| match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    push_attr(&mut buf, IFA_LOCAL, &octets(addr));
    push_attr(
        &mut buf,
        IFA_ADDRESS,
        &octets(attributes.peer.unwrap_or(addr)),
    );
    if address_flags != 0 {
        push_attr(&mut buf, IFA_FLAGS, &address_flags.to_ne_bytes());
    }
    if let Some(label) = attributes.label {
        // The kernel wants a NUL-terminated string.
        let mut bytes = label.as_bytes().to_vec();
        bytes.push(0);
        push_attr(&mut buf, IFA_LABEL, &bytes);
    }
    if let Some(scope) = attributes.scope {
        buf[NLMSG_HDRLEN + 3] = scope;
    }
    if let Some(broadcast) = attributes.broadcast {
        push_attr(&mut buf, IFA_BROADCAST, &broadcast.octets());
    }
    if let Some(preferred) = attributes.preferred_lft {
        let mut cacheinfo = Vec::with_capacity(16);
        for field in [preferred, u32::MAX, 0, 0] {
            cacheinfo.extend_from_slice(&field.to_ne_bytes());
        }
        push_attr(&mut buf, IFA_CACHEINFO, &cacheinfo);
    }
    finish_message(&mut buf);
    buf
}

/// An RTM_GETADDR dump request for all IPv4 addresses. The kernel filters
/// on the family; we filter on the interface (the kernel only does that
/// with strict checking on, which old kernels lack).
fn dump_request(seq: u32) -> Vec<u8> {
    let mut buf = Vec::with_capacity(NLMSG_HDRLEN + IFADDRMSG_LEN);
    begin_message(&mut buf, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, seq);
    push_ifaddrmsg(&mut buf, libc::AF_INET as u8, 0, 0);
    finish_message(&mut buf);
    buf
}

/// One netlink message inside a received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Message<'a> {
    pub(super) ty: u16,
    flags: u16,
    seq: u32,
    pid: u32,
    /// The bytes after the header, up to nlmsg_len (no padding).
    pub(super) payload: &'a [u8],
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("malformed netlink: {what}"),
    )
}

fn ne_u16(b: &[u8]) -> u16 {
    u16::from_ne_bytes([b[0], b[1]])
}

pub(super) fn ne_u32(b: &[u8]) -> u32 {
    u32::from_ne_bytes([b[0], b[1], b[2], b[3]])
}

/// Split a datagram into its messages, checking every length so that a
/// malformed datagram is an error, never a panic or an endless loop.
pub(super) fn split_messages(mut buf: &[u8]) -> io::Result<Vec<Message<'_>>> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        if buf.len() < NLMSG_HDRLEN {
            return Err(invalid("trailing bytes shorter than a header"));
        }
        let len = ne_u32(&buf[0..4]) as usize;
        if len < NLMSG_HDRLEN || len > buf.len() {
            return Err(invalid("nlmsg_len out of range"));
        }
        out.push(Message {
            ty: ne_u16(&buf[4..6]),
            flags: ne_u16(&buf[6..8]),
            seq: ne_u32(&buf[8..12]),
            pid: ne_u32(&buf[12..16]),
            payload: &buf[NLMSG_HDRLEN..len],
        });
        // The next message starts at the aligned end; the last one may lack
        // its padding.
        buf = &buf[align4(len).min(buf.len())..];
    }
    Ok(out)
}

/// Iterate over the attributes in `buf` as (type, payload), type with its
/// flag bits masked off. Stops with an error at a malformed length.
pub(super) fn attrs(mut buf: &[u8]) -> impl Iterator<Item = io::Result<(u16, &[u8])>> {
    std::iter::from_fn(move || {
        if buf.is_empty() {
            return None;
        }
        if buf.len() < RTA_HDRLEN {
            buf = &[];
            return Some(Err(invalid("trailing bytes shorter than an attribute")));
        }
        let len = ne_u16(&buf[0..2]) as usize;
        if len < RTA_HDRLEN || len > buf.len() {
            buf = &[];
            return Some(Err(invalid("rta_len out of range")));
        }
        let ty = ne_u16(&buf[2..4]) & NLA_TYPE_MASK;
        let payload = &buf[RTA_HDRLEN..len];
        buf = &buf[align4(len).min(buf.len())..];
        Some(Ok((ty, payload)))
    })
}

/// The outcome carried by an NLMSG_ERROR: Ok for an ack (error 0), the
/// errno otherwise, with the kernel's extended-ack reason when it gave one.
fn parse_ack(msg: &Message<'_>) -> io::Result<()> {
    let p = msg.payload;
    // nlmsgerr: i32 error, then the nlmsghdr of our request.
    if p.len() < 4 + NLMSG_HDRLEN {
        return Err(invalid("short NLMSG_ERROR"));
    }
    let error = i32::from_ne_bytes([p[0], p[1], p[2], p[3]]);
    if error == 0 {
        return Ok(());
    }
    let errno = error.checked_neg().filter(|e| *e > 0).unwrap_or(libc::EIO);
    let base = io::Error::from_raw_os_error(errno);
    // Extended-ack attributes follow the echoed request: just its header
    // when capped, else the whole request (its nlmsg_len).
    if msg.flags & NLM_F_ACK_TLVS != 0 {
        let echoed = if msg.flags & NLM_F_CAPPED != 0 {
            NLMSG_HDRLEN
        } else {
            ne_u32(&p[4..8]) as usize
        };
        if let Some(tlvs) = p.get(4 + align4(echoed)..) {
            for attr in attrs(tlvs).flatten() {
                if attr.0 == NLMSGERR_ATTR_MSG {
                    let text = attr.1.split(|b| *b == 0).next().unwrap_or_default();
                    let text = String::from_utf8_lossy(text);
                    return Err(io::Error::new(base.kind(), format!("{base} ({text})")));
                }
            }
        }
    }
    Err(base)
}

/// The parts of an RTM_NEWADDR message we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IfAddr {
    family: u8,
    prefix_len: u8,
    index: u32,
    local: Option<Ipv4Addr>,
    address: Option<Ipv4Addr>,
}

/// Parse an RTM_NEWADDR payload. `Ok(None)` for non-IPv4 families, whose
/// attributes we do not read.
fn parse_ifaddr(payload: &[u8]) -> io::Result<Option<IfAddr>> {
    if payload.len() < IFADDRMSG_LEN {
        return Err(invalid("short ifaddrmsg"));
    }
    let mut a = IfAddr {
        family: payload[0],
        prefix_len: payload[1],
        index: ne_u32(&payload[4..8]),
        local: None,
        address: None,
    };
    if a.family != libc::AF_INET as u8 {
        return Ok(None);
    }
    let as_v4 = |p: &[u8]| <[u8; 4]>::try_from(p).ok().map(Ipv4Addr::from);
    for attr in attrs(&payload[align4(IFADDRMSG_LEN)..]) {
        let (ty, p) = attr?;
        match ty {
            IFA_LOCAL => a.local = as_v4(p),
            IFA_ADDRESS => a.address = as_v4(p),
            _ => {}
        }
    }
    Ok(Some(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An RTM_NEWADDR or RTM_DELADDR message for one address, with defaults.
    fn addr_request(
        ty: u16,
        flags: u16,
        seq: u32,
        ifindex: u32,
        addr: impl Into<IpAddr>,
        prefix_len: u8,
        label: Option<&str>,
    ) -> Vec<u8> {
        let attributes = AddressAttributes {
            label,
            ..AddressAttributes::default()
        };
        address_message(
            ty,
            flags,
            seq,
            ifindex,
            addr.into(),
            prefix_len,
            &attributes,
        )
    }

    /// Build a received message the way the kernel would, for parser tests.
    fn kernel_message(ty: u16, flags: u16, seq: u32, pid: u32, payload: &[u8]) -> Vec<u8> {
        let mut buf = Vec::new();
        buf.extend_from_slice(&((NLMSG_HDRLEN + payload.len()) as u32).to_ne_bytes());
        buf.extend_from_slice(&ty.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&seq.to_ne_bytes());
        buf.extend_from_slice(&pid.to_ne_bytes());
        buf.extend_from_slice(payload);
        buf.resize(align4(buf.len()), 0);
        buf
    }

    #[test]
    fn align() {
        assert_eq!([0, 1, 2, 3, 4, 5, 8].map(align4), [0, 4, 4, 4, 4, 8, 8]);
    }

    #[test]
    fn newaddr_bytes() {
        let msg = addr_request(
            RTM_NEWADDR,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
            7,
            3,
            Ipv4Addr::new(192, 0, 2, 100),
            24,
            Some("eth0:1"),
        );
        let mut want = Vec::new();
        // nlmsghdr: len 16 + 8 + 8 + 8 + 12 = 52
        want.extend_from_slice(&52u32.to_ne_bytes());
        want.extend_from_slice(&20u16.to_ne_bytes()); // RTM_NEWADDR
        want.extend_from_slice(&0x0605u16.to_ne_bytes()); // REQUEST|ACK|EXCL|CREATE
        want.extend_from_slice(&7u32.to_ne_bytes());
        want.extend_from_slice(&0u32.to_ne_bytes());
        // ifaddrmsg: AF_INET, /24, flags 0, scope universe, ifindex 3
        want.extend_from_slice(&[2, 24, 0, 0]);
        want.extend_from_slice(&3u32.to_ne_bytes());
        // IFA_LOCAL (2), len 8
        want.extend_from_slice(&8u16.to_ne_bytes());
        want.extend_from_slice(&2u16.to_ne_bytes());
        want.extend_from_slice(&[192, 0, 2, 100]);
        // IFA_ADDRESS (1), len 8
        want.extend_from_slice(&8u16.to_ne_bytes());
        want.extend_from_slice(&1u16.to_ne_bytes());
        want.extend_from_slice(&[192, 0, 2, 100]);
        // IFA_LABEL (3): "eth0:1\0" is 7 bytes, len 11, padded to 12
        want.extend_from_slice(&11u16.to_ne_bytes());
        want.extend_from_slice(&3u16.to_ne_bytes());
        want.extend_from_slice(b"eth0:1\0\0");
        assert_eq!(msg, want);
    }

    #[test]
    fn newaddr_with_scope_and_broadcast() {
        let plain = addr_request(
            RTM_NEWADDR,
            NLM_F_REQUEST,
            1,
            3,
            Ipv4Addr::new(192, 0, 2, 100),
            24,
            None,
        );
        let plain_len = plain.len();
        let attributes = AddressAttributes {
            scope: Some(253),
            broadcast: Some(Ipv4Addr::new(192, 0, 2, 255)),
            ..AddressAttributes::default()
        };
        let addr = IpAddr::from([192, 0, 2, 100]);
        let msg = address_message(RTM_NEWADDR, NLM_F_REQUEST, 1, 3, addr, 24, &attributes);
        // ifaddrmsg: scope link.
        assert_eq!(&msg[16..20], &[2, 24, 0, 253]);
        // IFA_BROADCAST (4), len 8, after the addresses.
        assert_eq!(msg.len(), plain_len + 8);
        assert_eq!(ne_u16(&msg[plain_len..]), 8);
        assert_eq!(ne_u16(&msg[plain_len + 2..]), IFA_BROADCAST);
        assert_eq!(&msg[plain_len + 4..], &[192, 0, 2, 255]);
        assert_eq!(ne_u32(&msg[..4]) as usize, msg.len());
    }

    /// `ADDR peer P preferred_lft 0 mngtmpaddr noprefixroute` as `ip addr
    /// add` sends it: the peer in IFA_ADDRESS, the flags above 8 bits only
    /// in IFA_FLAGS, the lifetimes in IFA_CACHEINFO (valid forever).
    #[test]
    fn newaddr_with_peer_flags_and_preferred_lifetime() {
        let addr: IpAddr = "2001:db8::16".parse().unwrap();
        let peer: IpAddr = "2001:db8::99".parse().unwrap();
        let attributes = AddressAttributes {
            peer: Some(peer),
            flags: Some(0x302),
            preferred_lft: Some(0),
            ..AddressAttributes::default()
        };
        let msg = address_message(RTM_NEWADDR, NLM_F_REQUEST, 1, 3, addr, 128, &attributes);
        assert_eq!(&msg[16..20], &[libc::AF_INET6 as u8, 128, 0x02, 0]);
        let found: Vec<(u16, Vec<u8>)> = attrs(&msg[24..])
            .map(|a| a.map(|(ty, p)| (ty, p.to_vec())).unwrap())
            .collect();
        let mut cacheinfo = 0u32.to_ne_bytes().to_vec();
        cacheinfo.extend_from_slice(&u32::MAX.to_ne_bytes());
        cacheinfo.extend_from_slice(&[0; 8]);
        let octets = |a: IpAddr| match a {
            IpAddr::V6(a) => a.octets().to_vec(),
            IpAddr::V4(_) => unreachable!(),
        };
        assert_eq!(
            found,
            [
                (IFA_LOCAL, octets(addr)),
                (IFA_ADDRESS, octets(peer)),
                (IFA_FLAGS, 0x302u32.to_ne_bytes().to_vec()),
                (IFA_CACHEINFO, cacheinfo),
            ]
        );
        // `-nodad`: no flags at all.
        let attributes = AddressAttributes {
            flags: Some(0),
            ..AddressAttributes::default()
        };
        let msg = address_message(RTM_NEWADDR, NLM_F_REQUEST, 1, 3, addr, 64, &attributes);
        assert_eq!(msg[18], 0);
        assert_eq!(attrs(&msg[24..]).count(), 2);
    }

    #[test]
    fn ipv6_newaddr_is_nodad() {
        let addr: std::net::Ipv6Addr = "2001:db8::100".parse().unwrap();
        let msg = addr_request(RTM_NEWADDR, NLM_F_REQUEST, 1, 3, addr, 128, None);
        // ifaddrmsg: AF_INET6, /128, IFA_F_NODAD, scope universe, ifindex 3
        assert_eq!(
            &msg[16..24],
            &[libc::AF_INET6 as u8, 128, IFA_F_NODAD, 0, 3, 0, 0, 0]
        );
        // IFA_LOCAL and IFA_ADDRESS (4 + 16 each), then IFA_FLAGS (4 + 4).
        assert_eq!(msg.len(), 24 + 20 + 20 + 8);
        assert_eq!(&msg[28..44], &addr.octets());
        assert_eq!(&msg[64..66], &8u16.to_ne_bytes());
        assert_eq!(&msg[66..68], &IFA_FLAGS.to_ne_bytes());
        assert_eq!(&msg[68..72], &2u32.to_ne_bytes());
        assert_eq!(ne_u32(&msg[..4]) as usize, msg.len());
    }

    #[test]
    fn deladdr_and_dump_bytes() {
        let msg = addr_request(
            RTM_DELADDR,
            NLM_F_REQUEST | NLM_F_ACK,
            9,
            4,
            Ipv4Addr::new(198, 51, 100, 1),
            32,
            None,
        );
        assert_eq!(msg.len(), 40);
        assert_eq!(ne_u32(&msg[0..4]), 40);
        assert_eq!(ne_u16(&msg[4..6]), 21);
        assert_eq!(ne_u16(&msg[6..8]), 0x0005);
        assert_eq!(&msg[16..20], &[2, 32, 0, 0]);

        let dump = dump_request(10);
        assert_eq!(dump.len(), 24);
        assert_eq!(ne_u32(&dump[0..4]), 24);
        assert_eq!(ne_u16(&dump[4..6]), 22);
        assert_eq!(ne_u16(&dump[6..8]), 0x0301); // REQUEST|ROOT|MATCH
        assert_eq!(ne_u32(&dump[8..12]), 10);
        assert_eq!(dump[16], 2);
    }

    #[test]
    fn split_checks_lengths() {
        let a = kernel_message(NLMSG_DONE, 0, 1, 5, &[0, 0, 0, 0]);
        let b = kernel_message(RTM_NEWADDR, 2, 2, 5, &[1, 2, 3]); // padded
        let mut both = a.clone();
        both.extend_from_slice(&b);
        let msgs = split_messages(&both).unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].ty, NLMSG_DONE);
        assert_eq!((msgs[1].seq, msgs[1].pid, msgs[1].flags), (2, 5, 2));
        assert_eq!(msgs[1].payload, &[1, 2, 3]); // padding not included

        // Last message without its padding is still accepted.
        assert_eq!(split_messages(&b[..b.len() - 1]).unwrap().len(), 1);
        // Lengths that lie are errors.
        let mut bad = a.clone();
        bad[0..4].copy_from_slice(&100u32.to_ne_bytes());
        assert!(split_messages(&bad).is_err());
        bad[0..4].copy_from_slice(&3u32.to_ne_bytes());
        assert!(split_messages(&bad).is_err());
        assert!(split_messages(&a[..10]).is_err());
        assert!(split_messages(&[]).unwrap().is_empty());
    }

    fn error_payload(error: i32, extra: &[u8]) -> Vec<u8> {
        let mut p = error.to_ne_bytes().to_vec();
        // Echoed request header (capped): len 16, RTM_NEWADDR.
        p.extend_from_slice(&kernel_message(RTM_NEWADDR, 0, 1, 0, &[])[..16]);
        p.extend_from_slice(extra);
        p
    }

    #[test]
    fn acks_and_errors() {
        let ack = kernel_message(NLMSG_ERROR, NLM_F_CAPPED, 1, 5, &error_payload(0, &[]));
        let ack = split_messages(&ack).unwrap();
        assert!(parse_ack(&ack[0]).is_ok());

        let eexist = kernel_message(
            NLMSG_ERROR,
            NLM_F_CAPPED,
            1,
            5,
            &error_payload(-libc::EEXIST, &[]),
        );
        let err = parse_ack(&split_messages(&eexist).unwrap()[0]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(err.raw_os_error(), Some(libc::EEXIST));

        // With an extended-ack message, the reason is kept in the text and
        // the kind still follows the errno.
        let mut tlv = Vec::new();
        push_attr(&mut tlv, NLMSGERR_ATTR_MSG, b"Invalid prefix length\0");
        let ext = kernel_message(
            NLMSG_ERROR,
            NLM_F_CAPPED | NLM_F_ACK_TLVS,
            1,
            5,
            &error_payload(-libc::EINVAL, &tlv),
        );
        let err = parse_ack(&split_messages(&ext).unwrap()[0]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("Invalid prefix length"), "{err}");

        let short = kernel_message(NLMSG_ERROR, 0, 1, 5, &[0, 0]);
        assert!(parse_ack(&split_messages(&short).unwrap()[0]).is_err());
    }

    #[test]
    fn parses_newaddr() {
        let mut p = Vec::new();
        push_ifaddrmsg(&mut p, libc::AF_INET as u8, 24, 3);
        push_attr(&mut p, IFA_ADDRESS, &[192, 0, 2, 1]);
        push_attr(&mut p, IFA_LOCAL, &[192, 0, 2, 1]);
        push_attr(&mut p, IFA_LABEL, b"va\0");
        // A nested-flagged unknown attribute is skipped.
        push_attr(&mut p, 0x8000 | 9, &[1, 2, 3, 4, 5]);
        let a = parse_ifaddr(&p).unwrap().unwrap();
        assert_eq!(
            a,
            IfAddr {
                family: 2,
                prefix_len: 24,
                index: 3,
                local: Some(Ipv4Addr::new(192, 0, 2, 1)),
                address: Some(Ipv4Addr::new(192, 0, 2, 1)),
            }
        );

        let mut v6 = Vec::new();
        push_ifaddrmsg(&mut v6, libc::AF_INET6 as u8, 64, 3);
        assert_eq!(parse_ifaddr(&v6).unwrap(), None);

        let mut bad = p.clone();
        bad[8..10].copy_from_slice(&200u16.to_ne_bytes());
        assert!(parse_ifaddr(&bad).is_err());
        assert!(parse_ifaddr(&p[..5]).is_err());
    }
}
